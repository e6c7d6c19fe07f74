/* cell-registry.c: the cell tree in the API database (see
 * cell-registry.h).
 *
 * Every change runs in a transaction (db_txn_run()) that first reads the
 * rows it depends on with SELECT ... FOR UPDATE, so two administrators
 * working at once are serialised and a retried transaction sees fresh
 * rows.  Transaction functions keep nothing outside the database between
 * attempts except what they rebuild from scratch (the load report).
 *
 * A change is computed on a copy of the row (clone, apply the spec, check
 * the rules, compare with the original), so "what changed" is exact and an
 * update that changes nothing writes nothing.
 *
 * Subtree queries ("instances mapped to this cell or below") use the range
 * path < x < path + '"' instead of LIKE: '!' is the separator and '"' the
 * next character, every name character sorts after both, and a range can
 * use the index on cell_path (and lock it: a locking read of the range
 * blocks new mappings into the subtree until the delete commits). */
#include <config.h>
#include "api-cell/cell-registry.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <json-c/json.h>

#include "cells-rpc/cell-path.h"
#include "cells-rpc/transport-url.h"
#include "shared/db-url.h"
#include "shared/db.h"
#include "shared/error.h"
#include "shared/json-util.h"
#include "shared/topology.h"
#include "shared/uuid-util.h"
#include "shared/xalloc.h"

/* Two weights closer than this (relative) are the same: DOUBLE values
 * come back from the server as text. */
#define CELL_REGISTRY_WEIGHT_EPSILON 1e-12

/* Longest JSON text accepted from the zones and capabilities columns. */
#define CELL_REGISTRY_MAX_JSON_SIZE (1024 * 1024)

/* Longest name or path quoted in a message. */
#define CELL_REGISTRY_QUOTE_MAX TOPOLOGY_MAX_PATH_LENGTH

#define CELL_REGISTRY_COLUMNS                                           \
    "uuid, name, path, parent_path, transport_url, database_connection, " \
    "hosts, disabled, weight_offset, weight_scale, availability_zones, "  \
    "capabilities, created_at, updated_at"

enum cell_registry_column {
    COL_UUID,
    COL_NAME,
    COL_PATH,
    COL_PARENT_PATH,
    COL_TRANSPORT_URL,
    COL_DATABASE,
    COL_HOSTS,
    COL_DISABLED,
    COL_WEIGHT_OFFSET,
    COL_WEIGHT_SCALE,
    COL_ZONES,
    COL_CAPABILITIES,
    COL_CREATED_AT,
    COL_UPDATED_AT,
};

/* ---- Names ----------------------------------------------------------- */

static const struct {
    unsigned int bit;
    const char *name;
} cell_registry_field_names[] = {
#define CELL_REGISTRY_FIELD_NAME(ENUM, BIT, NAME) { ENUM, NAME },
    CELL_REGISTRY_FIELDS(CELL_REGISTRY_FIELD_NAME)
#undef CELL_REGISTRY_FIELD_NAME
};

char *
cell_registry_fields_to_string(unsigned int fields)
{
    AUTOFREE char *text = xstrdup("");

    for (size_t i = 0; i < ARRAY_SIZE(cell_registry_field_names); i++) {
        if (fields & cell_registry_field_names[i].bit) {
            char *longer = xasprintf("%s%s%s", text, *text ? ", " : "",
                                     cell_registry_field_names[i].name);

            free(text);
            text = longer;
        }
    }
    return TAKE_PTR(text);
}

static const char *const cell_registry_action_names[] = {
#define CELL_REGISTRY_ACTION_NAME(ENUM, NAME) [ENUM] = NAME,
    CELL_REGISTRY_ACTIONS(CELL_REGISTRY_ACTION_NAME)
#undef CELL_REGISTRY_ACTION_NAME
};

const char *
cell_registry_action_to_string(enum cell_registry_action action)
{
    if ((size_t) action >= ARRAY_SIZE(cell_registry_action_names)) {
        return "unknown";
    }
    return cell_registry_action_names[action];
}

/* ---- Cells ----------------------------------------------------------- */

void
cell_registry_cell_free(struct cell_registry_cell *cell)
{
    if (!cell) {
        return;
    }
    free(cell->uuid);
    free(cell->name);
    free(cell->path);
    free(cell->parent_path);
    free(cell->transport_url);
    free(cell->database);
    json_object_put(cell->availability_zones);
    json_object_put(cell->capabilities);
    free(cell->created_at);
    free(cell->updated_at);
    free(cell);
}

void
cell_registry_list_free(struct cell_registry_list *list)
{
    if (!list) {
        return;
    }
    for (size_t i = 0; i < list->n_cells; i++) {
        cell_registry_cell_free(list->cells[i]);
    }
    free(list->cells);
    free(list);
}

void
cell_registry_report_free(struct cell_registry_report *report)
{
    if (!report) {
        return;
    }
    for (size_t i = 0; i < report->n_changes; i++) {
        free(report->changes[i].path);
    }
    free(report->changes);
    free(report);
}

/* Returns a deep copy of 'obj' (NULL for NULL). */
static struct json_object *
cell_registry_json_copy(const struct json_object *obj)
{
    struct json_object *copy = NULL;

    if (obj && json_object_deep_copy((struct json_object *) obj, &copy,
                                     NULL)) {
        abort();                /* only fails when out of memory */
    }
    return copy;
}

static struct cell_registry_cell *
cell_registry_cell_clone(const struct cell_registry_cell *cell)
{
    struct cell_registry_cell *copy = xzalloc(sizeof *copy);

    copy->uuid = xstrdup_or_null(cell->uuid);
    copy->name = xstrdup(cell->name);
    copy->path = xstrdup(cell->path);
    copy->parent_path = xstrdup_or_null(cell->parent_path);
    copy->transport_url = xstrdup_or_null(cell->transport_url);
    copy->database = xstrdup_or_null(cell->database);
    copy->hosts = cell->hosts;
    copy->disabled = cell->disabled;
    copy->weight_offset = cell->weight_offset;
    copy->weight_scale = cell->weight_scale;
    copy->availability_zones = cell_registry_json_copy(
        cell->availability_zones);
    copy->capabilities = cell_registry_json_copy(cell->capabilities);
    copy->created_at = xstrdup_or_null(cell->created_at);
    copy->updated_at = xstrdup_or_null(cell->updated_at);
    return copy;
}

/* Parses the JSON column 'col' of row 'r' into a value of 'type' (an
 * empty one for SQL NULL). */
static struct error *
cell_registry_json_column(const struct db_rows *rows, size_t r, size_t col,
                          json_type type, struct json_object **ret)
{
    const char *text = db_rows_get_str(rows, r, col);
    struct json_object *doc = NULL;
    struct error *error;

    if (!text) {
        *ret = (type == json_type_array ? json_object_new_array()
                : json_object_new_object());
        return NULL;
    }
    error = json_parse_text(text, db_rows_get_size(rows, r, col),
                            CELL_REGISTRY_MAX_JSON_SIZE, 0, &doc);
    if (!error && !json_object_is_type(doc, type)) {
        json_object_put(doc);
        error = error_new(ERROR_INTERNAL, "not a JSON %s",
                          type == json_type_array ? "array" : "object");
    }
    if (error) {
        return error_wrap(error, "Cell '%s' has a malformed '%s' column in "
                          "the API database",
                          db_rows_get_str(rows, r, COL_PATH),
                          db_rows_column_name(rows, col));
    }
    *ret = doc;
    return NULL;
}

static struct error *
cell_registry_cell_from_row(const struct db_rows *rows, size_t r,
                            struct cell_registry_cell **ret_cell)
{
    CLEANUP(cell_registry_cell_freep) struct cell_registry_cell *cell
        = xzalloc(sizeof *cell);
    struct error *error;

    cell->uuid = xstrdup_or_null(db_rows_get_str(rows, r, COL_UUID));
    cell->name = xstrdup_or_null(db_rows_get_str(rows, r, COL_NAME));
    cell->path = xstrdup_or_null(db_rows_get_str(rows, r, COL_PATH));
    cell->parent_path = xstrdup_or_null(db_rows_get_str(rows, r,
                                                        COL_PARENT_PATH));
    cell->transport_url = xstrdup_or_null(db_rows_get_str(rows, r,
                                                          COL_TRANSPORT_URL));
    cell->database = xstrdup_or_null(db_rows_get_str(rows, r, COL_DATABASE));
    cell->hosts = db_rows_get_bool(rows, r, COL_HOSTS);
    cell->disabled = db_rows_get_bool(rows, r, COL_DISABLED);
    cell->weight_offset = db_rows_get_double(rows, r, COL_WEIGHT_OFFSET);
    cell->weight_scale = db_rows_get_double(rows, r, COL_WEIGHT_SCALE);
    cell->created_at = xstrdup_or_null(db_rows_get_str(rows, r,
                                                       COL_CREATED_AT));
    cell->updated_at = xstrdup_or_null(db_rows_get_str(rows, r,
                                                       COL_UPDATED_AT));
    error = cell_registry_json_column(rows, r, COL_ZONES, json_type_array,
                                      &cell->availability_zones);
    if (!error) {
        error = cell_registry_json_column(rows, r, COL_CAPABILITIES,
                                          json_type_object,
                                          &cell->capabilities);
    }
    if (error) {
        return error;
    }
    *ret_cell = TAKE_PTR(cell);
    return NULL;
}

static int
cell_registry_cell_compare(const void *a_, const void *b_)
{
    const struct cell_registry_cell *const *a = a_;
    const struct cell_registry_cell *const *b = b_;

    return cell_path_compare((*a)->path, (*b)->path);
}

/* Turns a whole result of CELL_REGISTRY_COLUMNS into a sorted list. */
static struct error *
cell_registry_list_from_rows(const struct db_rows *rows,
                             struct cell_registry_list **ret_list)
{
    CLEANUP(cell_registry_list_freep) struct cell_registry_list *list
        = xzalloc(sizeof *list);

    list->cells = xcalloc(db_rows_count(rows) ? db_rows_count(rows) : 1,
                          sizeof *list->cells);
    for (size_t r = 0; r < db_rows_count(rows); r++) {
        struct error *error = cell_registry_cell_from_row(
            rows, r, &list->cells[list->n_cells]);

        if (error) {
            return error;
        }
        list->n_cells++;
    }
    qsort(list->cells, list->n_cells, sizeof *list->cells,
          cell_registry_cell_compare);
    *ret_list = TAKE_PTR(list);
    return NULL;
}

/* ---- Checks ---------------------------------------------------------- */

/* Checks that 'name_or_path' could name a cell. */
static struct error *
cell_registry_check_ref(const char *name_or_path)
{
    int r = (strchr(name_or_path, CELL_PATH_SEPARATOR)
             ? cell_path_validate(name_or_path)
             : cell_path_name_validate(name_or_path));

    if (r || strlen(name_or_path) > TOPOLOGY_MAX_PATH_LENGTH) {
        return error_new(ERROR_INVALID, "Invalid cell name or path '%.*s'",
                         CELL_REGISTRY_QUOTE_MAX, name_or_path);
    }
    return NULL;
}

static struct error *
cell_registry_check_zones(const struct json_object *zones)
{
    size_t n;

    if (!json_object_is_type(zones, json_type_array)) {
        return error_new(ERROR_INVALID, "availability zones must be a list");
    }
    n = json_object_array_length(zones);
    if (n > TOPOLOGY_MAX_ZONES) {
        return error_new(ERROR_INVALID, "more than %d availability zones",
                         TOPOLOGY_MAX_ZONES);
    }
    for (size_t i = 0; i < n; i++) {
        struct json_object *item = json_object_array_get_idx(zones, i);
        struct error *error;

        if (!json_object_is_type(item, json_type_string)) {
            return error_new(ERROR_INVALID, "availability zones must be "
                             "strings");
        }
        error = topology_check_zone(json_object_get_string(item));
        if (error) {
            return error;
        }
        for (size_t j = 0; j < i; j++) {
            struct json_object *other = json_object_array_get_idx(zones, j);

            if (!strcmp(json_object_get_string(other),
                        json_object_get_string(item))) {
                return error_new(ERROR_INVALID, "duplicate availability "
                                 "zone '%s'", json_object_get_string(item));
            }
        }
    }
    return NULL;
}

static struct error *
cell_registry_check_capabilities(const struct json_object *caps)
{
    struct json_object *object = (struct json_object *) caps;

    if (!json_object_is_type(object, json_type_object)) {
        return error_new(ERROR_INVALID, "capabilities must be a mapping");
    }
    if (json_object_object_length(object) > TOPOLOGY_MAX_CAPABILITIES) {
        return error_new(ERROR_INVALID, "more than %d capabilities",
                         TOPOLOGY_MAX_CAPABILITIES);
    }
    json_object_object_foreach(object, key, value) {
        struct error *error = topology_check_capability_name(key);
        size_t n;

        if (error) {
            return error;
        }
        if (json_object_is_type(value, json_type_string)) {
            error = topology_check_capability_value(
                key, json_object_get_string(value));
            if (error) {
                return error;
            }
            continue;
        }
        if (!json_object_is_type(value, json_type_array)) {
            return error_new(ERROR_INVALID, "capability '%s' must be a "
                             "string or a list of strings", key);
        }
        n = json_object_array_length(value);
        if (!n || n > TOPOLOGY_MAX_CAPABILITY_VALUES) {
            return error_new(ERROR_INVALID, "capability '%s' must have 1 to "
                             "%d values", key,
                             TOPOLOGY_MAX_CAPABILITY_VALUES);
        }
        for (size_t i = 0; i < n; i++) {
            struct json_object *item = json_object_array_get_idx(value, i);

            if (!json_object_is_type(item, json_type_string)) {
                return error_new(ERROR_INVALID, "capability '%s' must be a "
                                 "string or a list of strings", key);
            }
            error = topology_check_capability_value(
                key, json_object_get_string(item));
            if (error) {
                return error;
            }
        }
    }
    return NULL;
}

/* Checks the values 'spec' gives; 'name' names the cell in messages. */
static struct error *
cell_registry_check_spec(const char *name,
                         const struct cell_registry_spec *spec)
{
    struct error *error = NULL;

    if (spec->fields & CELL_REGISTRY_TRANSPORT_URL) {
        error = topology_check_transport_url(spec->transport_url);
    }
    if (!error && (spec->fields & CELL_REGISTRY_DATABASE)
        && spec->database && spec->database[0]) {
        error = topology_check_database_url(spec->database);
    }
    if (!error && (spec->fields & CELL_REGISTRY_WEIGHT_OFFSET)
        && !isfinite(spec->weight_offset)) {
        error = error_new(ERROR_INVALID, "the weight offset must be a "
                          "finite number");
    }
    if (!error && (spec->fields & CELL_REGISTRY_WEIGHT_SCALE)
        && !isfinite(spec->weight_scale)) {
        error = error_new(ERROR_INVALID, "the weight scale must be a finite "
                          "number");
    }
    if (!error && (spec->fields & CELL_REGISTRY_AVAILABILITY_ZONES)
        && spec->availability_zones) {
        error = cell_registry_check_zones(spec->availability_zones);
    }
    if (!error && (spec->fields & CELL_REGISTRY_CAPABILITIES)
        && spec->capabilities) {
        error = cell_registry_check_capabilities(spec->capabilities);
    }
    return error ? error_wrap(error, "Cell '%s'", name) : NULL;
}

/* The rules a whole cell must follow, whatever changed it. */
static struct error *
cell_registry_check_cell(const struct cell_registry_cell *cell)
{
    if (!cell->parent_path && cell->hosts) {
        return error_new(ERROR_INVALID, "Cell '%s' is the root (the API "
                         "cell) and cannot have hosts", cell->path);
    }
    if (cell->hosts && !cell->database) {
        return error_new(ERROR_INVALID, "Cell '%s' has hosts but no "
                         "database: give it a database, or say that it has "
                         "no hosts of its own", cell->path);
    }
    return NULL;
}

/* ---- Changes --------------------------------------------------------- */

/* Returns a copy of the object 'caps' with its keys sorted, so that equal
 * capabilities have equal text. */
static struct json_object *
cell_registry_sorted_object(const struct json_object *caps)
{
    struct json_object *object = (struct json_object *) caps;
    size_t n = json_object_object_length(object);
    AUTOFREE const char **keys = xcalloc(n ? n : 1, sizeof *keys);
    struct json_object *sorted = json_object_new_object();
    size_t i = 0;

    json_object_object_foreach(object, key, value) {
        (void) value;
        keys[i++] = key;
    }
    for (size_t a = 1; a < n; a++) {
        for (size_t b = a; b > 0 && strcmp(keys[b - 1], keys[b]) > 0; b--) {
            const char *swap = keys[b];

            keys[b] = keys[b - 1];
            keys[b - 1] = swap;
        }
    }
    for (i = 0; i < n; i++) {
        json_object_object_add(
            sorted, keys[i],
            cell_registry_json_copy(json_object_object_get(object, keys[i])));
    }
    return sorted;
}

/* Applies the fields 'spec' gives to 'cell'. */
static void
cell_registry_apply(struct cell_registry_cell *cell,
                    const struct cell_registry_spec *spec)
{
    if (spec->fields & CELL_REGISTRY_TRANSPORT_URL) {
        free(cell->transport_url);
        cell->transport_url = xstrdup(spec->transport_url);
    }
    if (spec->fields & CELL_REGISTRY_DATABASE) {
        free(cell->database);
        cell->database = (spec->database && spec->database[0]
                          ? xstrdup(spec->database) : NULL);
    }
    if (spec->fields & CELL_REGISTRY_HOSTS) {
        cell->hosts = spec->hosts;
    }
    if (spec->fields & CELL_REGISTRY_DISABLED) {
        cell->disabled = spec->disabled;
    }
    if (spec->fields & CELL_REGISTRY_WEIGHT_OFFSET) {
        cell->weight_offset = spec->weight_offset;
    }
    if (spec->fields & CELL_REGISTRY_WEIGHT_SCALE) {
        cell->weight_scale = spec->weight_scale;
    }
    if (spec->fields & CELL_REGISTRY_AVAILABILITY_ZONES) {
        json_object_put(cell->availability_zones);
        cell->availability_zones = (spec->availability_zones
                                    ? cell_registry_json_copy(
                                        spec->availability_zones)
                                    : json_object_new_array());
    }
    if (spec->fields & CELL_REGISTRY_CAPABILITIES) {
        json_object_put(cell->capabilities);
        cell->capabilities = (spec->capabilities
                              ? cell_registry_sorted_object(
                                  spec->capabilities)
                              : json_object_new_object());
    }
}

static bool
cell_registry_str_equal(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

static bool
cell_registry_weight_equal(double a, double b)
{
    double abs_a = a < 0 ? -a : a;
    double abs_b = b < 0 ? -b : b;
    double scale = abs_a > abs_b ? abs_a : abs_b;
    double diff = a > b ? a - b : b - a;

    return diff <= CELL_REGISTRY_WEIGHT_EPSILON * (scale > 1.0 ? scale : 1.0);
}

/* The fields in which 'a' and 'b' differ. */
static unsigned int
cell_registry_diff(const struct cell_registry_cell *a,
                   const struct cell_registry_cell *b)
{
    unsigned int fields = 0;

    if (!cell_registry_str_equal(a->transport_url, b->transport_url)) {
        fields |= CELL_REGISTRY_TRANSPORT_URL;
    }
    if (!cell_registry_str_equal(a->database, b->database)) {
        fields |= CELL_REGISTRY_DATABASE;
    }
    if (a->hosts != b->hosts) {
        fields |= CELL_REGISTRY_HOSTS;
    }
    if (a->disabled != b->disabled) {
        fields |= CELL_REGISTRY_DISABLED;
    }
    if (!cell_registry_weight_equal(a->weight_offset, b->weight_offset)) {
        fields |= CELL_REGISTRY_WEIGHT_OFFSET;
    }
    if (!cell_registry_weight_equal(a->weight_scale, b->weight_scale)) {
        fields |= CELL_REGISTRY_WEIGHT_SCALE;
    }
    if (!json_object_equal(a->availability_zones, b->availability_zones)) {
        fields |= CELL_REGISTRY_AVAILABILITY_ZONES;
    }
    if (!json_object_equal(a->capabilities, b->capabilities)) {
        fields |= CELL_REGISTRY_CAPABILITIES;
    }
    return fields;
}

/* ---- Statements ------------------------------------------------------ */

/* Reads the cell 'name_or_path', locking its row when 'lock'.  Stores NULL
 * in '*ret_cell' when there is none. */
static struct error *
cell_registry_find(struct db *db, const char *name_or_path, bool lock,
                   struct cell_registry_cell **ret_cell)
{
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    struct error *error;

    if (lock) {
        error = db_query(db, "SELECT " CELL_REGISTRY_COLUMNS
                         " FROM cell_mappings WHERE name = ? OR path = ?"
                         " FOR UPDATE",
                         DB_PARAMS(DB_STR(name_or_path),
                                   DB_STR(name_or_path)), &rows);
    } else {
        error = db_query(db, "SELECT " CELL_REGISTRY_COLUMNS
                         " FROM cell_mappings WHERE name = ? OR path = ?",
                         DB_PARAMS(DB_STR(name_or_path),
                                   DB_STR(name_or_path)), &rows);
    }
    if (error) {
        return error;
    }
    if (!db_rows_count(rows)) {
        *ret_cell = NULL;
        return NULL;
    }
    return cell_registry_cell_from_row(rows, 0, ret_cell);
}

/* Like cell_registry_find(), but a missing cell is an error naming it as
 * 'what' ("Cell", "Parent cell"). */
static struct error *
cell_registry_find_existing(struct db *db, const char *what,
                            const char *name_or_path, bool lock,
                            struct cell_registry_cell **ret_cell)
{
    struct error *error = cell_registry_check_ref(name_or_path);

    if (!error) {
        error = cell_registry_find(db, name_or_path, lock, ret_cell);
    }
    if (!error && !*ret_cell) {
        error = error_new(ERROR_NOT_FOUND, "%s '%s' not found", what,
                          name_or_path);
    }
    return error;
}

static struct error *
cell_registry_list_all(struct db *db, bool lock,
                       struct cell_registry_list **ret_list)
{
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    struct error *error;

    if (lock) {
        error = db_query(db, "SELECT " CELL_REGISTRY_COLUMNS
                         " FROM cell_mappings FOR UPDATE", DB_NO_PARAMS,
                         &rows);
    } else {
        error = db_query(db, "SELECT " CELL_REGISTRY_COLUMNS
                         " FROM cell_mappings", DB_NO_PARAMS, &rows);
    }
    if (error) {
        return error;
    }
    return cell_registry_list_from_rows(rows, ret_list);
}

/* The JSON text of 'obj' for a column.  The caller frees. */
static char *
cell_registry_json_text(const struct json_object *obj)
{
    return json_to_string_plain(obj);
}

static struct error *
cell_registry_insert(struct db *db, const struct cell_registry_cell *cell)
{
    AUTOFREE char *zones = cell_registry_json_text(cell->availability_zones);
    AUTOFREE char *caps = cell_registry_json_text(cell->capabilities);

    return db_exec(db, "INSERT INTO cell_mappings (uuid, name, path, "
                   "parent_path, transport_url, database_connection, hosts, "
                   "disabled, weight_offset, weight_scale, "
                   "availability_zones, capabilities, created_at, "
                   "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                   "UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))",
                   DB_PARAMS(DB_STR(cell->uuid), DB_STR(cell->name),
                             DB_STR(cell->path), DB_STR(cell->parent_path),
                             DB_STR(cell->transport_url),
                             DB_STR(cell->database), DB_BOOL(cell->hosts),
                             DB_BOOL(cell->disabled),
                             DB_DOUBLE(cell->weight_offset),
                             DB_DOUBLE(cell->weight_scale), DB_STR(zones),
                             DB_STR(caps)), NULL);
}

/* Writes every changeable field of 'cell' to its row. */
static struct error *
cell_registry_write(struct db *db, const struct cell_registry_cell *cell)
{
    AUTOFREE char *zones = cell_registry_json_text(cell->availability_zones);
    AUTOFREE char *caps = cell_registry_json_text(cell->capabilities);

    return db_exec(db, "UPDATE cell_mappings SET transport_url = ?, "
                   "database_connection = ?, hosts = ?, disabled = ?, "
                   "weight_offset = ?, weight_scale = ?, "
                   "availability_zones = ?, capabilities = ?, "
                   "updated_at = UTC_TIMESTAMP(6) WHERE path = ?",
                   DB_PARAMS(DB_STR(cell->transport_url),
                             DB_STR(cell->database), DB_BOOL(cell->hosts),
                             DB_BOOL(cell->disabled),
                             DB_DOUBLE(cell->weight_offset),
                             DB_DOUBLE(cell->weight_scale), DB_STR(zones),
                             DB_STR(caps), DB_STR(cell->path)), NULL);
}

/* Counts with the locking query 'sql' the rows of the subtree of 'path';
 * 'sql' takes the path, then the bounds of its descendants. */
static struct error *
cell_registry_count_subtree(struct db *db, const char *sql,
                            const char *path, int64_t *ret_count)
{
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    AUTOFREE char *low = xasprintf("%s%c", path, CELL_PATH_SEPARATOR);
    AUTOFREE char *high = xasprintf("%s%c", path, CELL_PATH_SEPARATOR + 1);
    struct error *error;

    error = db_query(db, sql, DB_PARAMS(DB_STR(path), DB_STR(low),
                                        DB_STR(high)), &rows);
    if (error) {
        return error;
    }
    *ret_count = db_rows_get_int64(rows, 0, 0);
    return NULL;
}

/* Deletes the locked row of 'cell' unless something still depends on
 * it. */
static struct error *
cell_registry_delete_locked(struct db *db,
                            const struct cell_registry_cell *cell)
{
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    int64_t n;
    struct error *error;

    error = cell_registry_count_subtree(
        db, "SELECT COUNT(*) FROM instance_mappings WHERE cell_path = ?"
        " OR (cell_path > ? AND cell_path < ?) FOR UPDATE", cell->path, &n);
    if (error) {
        return error;
    }
    if (n > 0) {
        return error_new(ERROR_CONFLICT, "Cell '%s' still holds %lld "
                         "instance%s; delete or move %s first", cell->path,
                         (long long) n, n == 1 ? "" : "s",
                         n == 1 ? "it" : "them");
    }
    error = cell_registry_count_subtree(
        db, "SELECT COUNT(*) FROM host_mappings WHERE cell_path = ?"
        " OR (cell_path > ? AND cell_path < ?) FOR UPDATE", cell->path, &n);
    if (error) {
        return error;
    }
    if (n > 0) {
        return error_new(ERROR_CONFLICT, "Cell '%s' still has %lld compute "
                         "host%s mapped to it; remove %s first", cell->path,
                         (long long) n, n == 1 ? "" : "s",
                         n == 1 ? "it" : "them");
    }
    error = db_query(db, "SELECT name FROM cell_mappings WHERE parent_path = ?"
                     " ORDER BY name FOR UPDATE",
                     DB_PARAMS(DB_STR(cell->path)), &rows);
    if (error) {
        return error;
    }
    if (db_rows_count(rows)) {
        AUTOFREE char *names = xstrdup("");

        for (size_t r = 0; r < db_rows_count(rows); r++) {
            char *longer = xasprintf("%s%s'%s'", names, r ? ", " : "",
                                     db_rows_get_str(rows, r, 0));

            free(names);
            names = longer;
        }
        return error_new(ERROR_CONFLICT, "Cell '%s' still has child cells "
                         "(%s); delete them first", cell->path, names);
    }
    return db_exec(db, "DELETE FROM cell_mappings WHERE path = ?",
                   DB_PARAMS(DB_STR(cell->path)), NULL);
}

/* ---- Reading --------------------------------------------------------- */

struct error *
cell_registry_list(struct db *db, struct cell_registry_list **ret_list)
{
    struct error *error = cell_registry_list_all(db, false, ret_list);

    return error ? error_wrap(error, "Cannot list cells") : NULL;
}

struct error *
cell_registry_get(struct db *db, const char *name_or_path,
                  struct cell_registry_cell **ret_cell)
{
    return cell_registry_find_existing(db, "Cell", name_or_path, false,
                                       ret_cell);
}

const struct cell_registry_cell *
cell_registry_list_find(const struct cell_registry_list *list,
                        const char *name_or_path)
{
    for (size_t i = 0; i < list->n_cells; i++) {
        const struct cell_registry_cell *cell = list->cells[i];

        if (!strcmp(cell->name, name_or_path)
            || !strcmp(cell->path, name_or_path)) {
            return cell;
        }
    }
    return NULL;
}

/* ---- Create ---------------------------------------------------------- */

struct cell_registry_create_ctx {
    const char *name;
    const char *parent;
    const struct cell_registry_spec *spec;
    struct cell_registry_cell *created;     /* set by the last attempt */
};

static struct error *
cell_registry_create_txn(struct db *db, void *aux)
{
    struct cell_registry_create_ctx *ctx = aux;
    CLEANUP(cell_registry_cell_freep) struct cell_registry_cell *parent
        = NULL;
    CLEANUP(cell_registry_cell_freep) struct cell_registry_cell *cell
        = NULL;
    CLEANUP(cell_registry_cell_freep) struct cell_registry_cell *existing
        = NULL;
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    char uuid[UUID_STRING_SIZE];
    struct error *error;

    cell_registry_cell_free(ctx->created);
    ctx->created = NULL;

    cell = xzalloc(sizeof *cell);
    cell->name = xstrdup(ctx->name);
    cell->weight_scale = 1.0;
    cell->availability_zones = json_object_new_array();
    cell->capabilities = json_object_new_object();
    if (ctx->parent) {
        error = cell_registry_find_existing(db, "Parent cell", ctx->parent,
                                            true, &parent);
        if (error) {
            return error;
        }
        if (cell_path_depth(parent->path) + 1 > TOPOLOGY_MAX_DEPTH) {
            return error_new(ERROR_INVALID, "Cannot create cell '%s' below "
                             "'%s': cells may be at most %d levels deep",
                             ctx->name, parent->path, TOPOLOGY_MAX_DEPTH);
        }
        cell->path = xasprintf("%s%c%s", parent->path, CELL_PATH_SEPARATOR,
                               ctx->name);
        cell->parent_path = xstrdup(parent->path);
        if (strlen(cell->path) > TOPOLOGY_MAX_PATH_LENGTH) {
            return error_new(ERROR_INVALID, "Cannot create cell '%s' below "
                             "'%s': its path would be longer than %d "
                             "characters", ctx->name, parent->path,
                             TOPOLOGY_MAX_PATH_LENGTH);
        }
        cell->hosts = true;
    } else {
        error = db_query(db, "SELECT path FROM cell_mappings"
                         " WHERE parent_path IS NULL FOR UPDATE",
                         DB_NO_PARAMS, &rows);
        if (error) {
            return error;
        }
        if (db_rows_count(rows)) {
            return error_new(ERROR_CONFLICT, "Cannot create cell '%s' as "
                             "the root: cell '%s' is the root already, and "
                             "every other cell needs a parent", ctx->name,
                             db_rows_get_str(rows, 0, 0));
        }
        cell->path = xstrdup(ctx->name);
    }

    error = cell_registry_find(db, ctx->name, true, &existing);
    if (error) {
        return error;
    }
    if (existing) {
        return error_new(ERROR_CONFLICT, "Cell '%s' already exists, at "
                         "'%s'", ctx->name, existing->path);
    }

    cell_registry_apply(cell, ctx->spec);
    error = cell_registry_check_cell(cell);
    if (error) {
        return error;
    }
    uuid_generate_string(uuid);
    cell->uuid = xstrdup(uuid);
    error = cell_registry_insert(db, cell);
    if (!error) {
        error = cell_registry_find(db, cell->path, false, &ctx->created);
    }
    return error;
}

struct error *
cell_registry_create(struct db *db, const char *name, const char *parent,
                     const struct cell_registry_spec *spec,
                     struct cell_registry_cell **ret_cell)
{
    struct cell_registry_create_ctx ctx = {
        .name = name,
        .parent = parent,
        .spec = spec,
    };
    struct error *error = topology_check_name(name);

    if (error) {
        return error_wrap(error, "Cannot create cell");
    }
    if (!(spec->fields & CELL_REGISTRY_TRANSPORT_URL)
        || !spec->transport_url || !spec->transport_url[0]) {
        return error_new(ERROR_INVALID, "Cannot create cell '%s': it needs "
                         "a transport URL", name);
    }
    error = cell_registry_check_spec(name, spec);
    if (!error) {
        error = db_txn_run(db, cell_registry_create_txn, &ctx);
    }
    if (error) {
        cell_registry_cell_free(ctx.created);
        return error;
    }
    if (ret_cell) {
        *ret_cell = ctx.created;
    } else {
        cell_registry_cell_free(ctx.created);
    }
    return NULL;
}

/* ---- Update ---------------------------------------------------------- */

struct cell_registry_update_ctx {
    const char *name_or_path;
    const struct cell_registry_spec *spec;
    unsigned int changed;
};

static struct error *
cell_registry_update_txn(struct db *db, void *aux)
{
    struct cell_registry_update_ctx *ctx = aux;
    CLEANUP(cell_registry_cell_freep) struct cell_registry_cell *old = NULL;
    CLEANUP(cell_registry_cell_freep) struct cell_registry_cell *new = NULL;
    struct error *error;

    ctx->changed = 0;
    error = cell_registry_find_existing(db, "Cell", ctx->name_or_path, true,
                                        &old);
    if (error) {
        return error;
    }
    new = cell_registry_cell_clone(old);
    cell_registry_apply(new, ctx->spec);
    ctx->changed = cell_registry_diff(old, new);
    if (!ctx->changed) {
        return NULL;
    }
    error = cell_registry_check_cell(new);
    return error ? error : cell_registry_write(db, new);
}

struct error *
cell_registry_update(struct db *db, const char *name_or_path,
                     const struct cell_registry_spec *spec,
                     unsigned int *ret_changed)
{
    struct cell_registry_update_ctx ctx = {
        .name_or_path = name_or_path,
        .spec = spec,
    };
    struct error *error = cell_registry_check_spec(name_or_path, spec);

    if (!error) {
        error = db_txn_run(db, cell_registry_update_txn, &ctx);
    }
    if (error) {
        return error;
    }
    if (ret_changed) {
        *ret_changed = ctx.changed;
    }
    return NULL;
}

struct error *
cell_registry_set_disabled(struct db *db, const char *name_or_path,
                           bool disabled, bool *ret_changed)
{
    const struct cell_registry_spec spec = {
        .fields = CELL_REGISTRY_DISABLED,
        .disabled = disabled,
    };
    unsigned int changed = 0;
    struct error *error = cell_registry_update(db, name_or_path, &spec,
                                               &changed);

    if (error) {
        return error;
    }
    if (ret_changed) {
        *ret_changed = changed != 0;
    }
    return NULL;
}

/* ---- Delete ---------------------------------------------------------- */

static struct error *
cell_registry_delete_txn(struct db *db, void *aux)
{
    const char *name_or_path = aux;
    CLEANUP(cell_registry_cell_freep) struct cell_registry_cell *cell = NULL;
    struct error *error;

    error = cell_registry_find_existing(db, "Cell", name_or_path, true,
                                        &cell);
    return error ? error : cell_registry_delete_locked(db, cell);
}

struct error *
cell_registry_delete(struct db *db, const char *name_or_path)
{
    return db_txn_run(db, cell_registry_delete_txn, (void *) name_or_path);
}

/* ---- Load ------------------------------------------------------------ */

struct cell_registry_load_ctx {
    const struct topology *topology;
    unsigned int flags;
    struct cell_registry_report *report;    /* rebuilt by every attempt */
};

static void
cell_registry_report_add(struct cell_registry_report *report,
                         const char *path, enum cell_registry_action action,
                         unsigned int fields)
{
    struct cell_registry_change *change;

    report->changes = xreallocarray(report->changes, report->n_changes + 1,
                                    sizeof *report->changes);
    change = &report->changes[report->n_changes++];
    change->path = xstrdup(path);
    change->action = action;
    change->fields = fields;
    report->counts[action]++;
}

/* Returns the row that 'cell' of the topology asks for, starting from
 * 'old' (NULL for a new cell). */
static struct cell_registry_cell *
cell_registry_from_topology(const struct topology_cell *cell,
                            const struct cell_registry_cell *old)
{
    struct cell_registry_cell *row = xzalloc(sizeof *row);
    char uuid[UUID_STRING_SIZE];

    if (old) {
        row->uuid = xstrdup(old->uuid);
        row->disabled = cell->disabled_given ? cell->disabled
                                             : old->disabled;
    } else {
        uuid_generate_string(uuid);
        row->uuid = xstrdup(uuid);
        row->disabled = cell->disabled;
    }
    row->name = xstrdup(cell->name);
    row->path = xstrdup(cell->path);
    row->parent_path = xstrdup_or_null(cell->parent_path);
    row->transport_url = xstrdup(cell->transport_url);
    row->database = xstrdup_or_null(cell->database);
    row->hosts = cell->hosts;
    row->weight_offset = cell->weight_offset;
    row->weight_scale = cell->weight_scale;
    row->availability_zones = topology_cell_zones_to_json(cell);
    row->capabilities = topology_cell_capabilities_to_json(cell);
    return row;
}

/* Creates or updates the row of topology cell 'cell'; 'list' is what the
 * database held. */
static struct error *
cell_registry_load_cell(struct db *db, struct cell_registry_load_ctx *ctx,
                        const struct cell_registry_list *list,
                        const struct topology_cell *cell)
{
    const struct cell_registry_cell *old = NULL;
    CLEANUP(cell_registry_cell_freep) struct cell_registry_cell *row = NULL;
    unsigned int changed;
    struct error *error;

    for (size_t i = 0; i < list->n_cells; i++) {
        const struct cell_registry_cell *c = list->cells[i];

        /* The collation ignores case; so does this match, or the insert
         * would hit the unique keys. */
        if (!strcasecmp(c->path, cell->path)) {
            old = c;
        } else if (!strcasecmp(c->name, cell->name)) {
            return error_new(ERROR_CONFLICT, "Cell '%s' is at '%s' in the "
                             "API database but at '%s' in '%s'; moving a "
                             "cell is not supported: delete it first",
                             cell->name, c->path, cell->path,
                             ctx->topology->source);
        }
    }
    row = cell_registry_from_topology(cell, old);
    if (!old) {
        error = cell_registry_insert(db, row);
        if (!error) {
            cell_registry_report_add(ctx->report, cell->path,
                                     CELL_REGISTRY_CREATED, 0);
        }
        return error;
    }
    changed = cell_registry_diff(old, row);
    if (!changed) {
        cell_registry_report_add(ctx->report, cell->path,
                                 CELL_REGISTRY_UNCHANGED, 0);
        return NULL;
    }
    error = cell_registry_write(db, row);
    if (!error) {
        cell_registry_report_add(ctx->report, cell->path,
                                 CELL_REGISTRY_UPDATED, changed);
    }
    return error;
}

static bool
cell_registry_in_topology(const struct topology *topology, const char *path)
{
    for (size_t i = 0; i < topology->n_cells; i++) {
        if (!strcasecmp(topology->cells[i]->path, path)) {
            return true;
        }
    }
    return false;
}

static struct error *
cell_registry_load_txn(struct db *db, void *aux)
{
    struct cell_registry_load_ctx *ctx = aux;
    const struct topology *topology = ctx->topology;
    const struct topology_cell *root = topology_root(topology);
    CLEANUP(cell_registry_list_freep) struct cell_registry_list *list = NULL;
    struct error *error;

    cell_registry_report_free(ctx->report);
    ctx->report = xzalloc(sizeof *ctx->report);

    error = cell_registry_list_all(db, true, &list);
    if (error) {
        return error;
    }
    for (size_t i = 0; i < list->n_cells; i++) {
        const struct cell_registry_cell *cell = list->cells[i];

        if (!cell->parent_path && strcasecmp(cell->path, root->path)) {
            return error_new(ERROR_CONFLICT, "The root cell in the API "
                             "database is '%s', but '%s' has '%s'; changing "
                             "the root is not supported", cell->path,
                             topology->source, root->path);
        }
    }
    for (size_t i = 0; i < topology->n_cells; i++) {
        error = cell_registry_load_cell(db, ctx, list, topology->cells[i]);
        if (error) {
            return error;
        }
    }

    if (!(ctx->flags & CELL_REGISTRY_LOAD_PRUNE)) {
        for (size_t i = 0; i < list->n_cells; i++) {
            const char *path = list->cells[i]->path;

            if (!cell_registry_in_topology(topology, path)) {
                cell_registry_report_add(ctx->report, path,
                                         CELL_REGISTRY_KEPT, 0);
            }
        }
        return NULL;
    }
    /* Backwards through path order: children before their parents.  A
     * cell the file lacks has no descendant the file has, since the file
     * lists every ancestor of its cells. */
    for (size_t i = list->n_cells; i-- > 0; ) {
        const struct cell_registry_cell *cell = list->cells[i];

        if (cell_registry_in_topology(topology, cell->path)) {
            continue;
        }
        error = cell_registry_delete_locked(db, cell);
        if (error) {
            return error_wrap(error, "Cannot prune cell '%s', which '%s' no "
                              "longer lists", cell->path, topology->source);
        }
        cell_registry_report_add(ctx->report, cell->path,
                                 CELL_REGISTRY_DELETED, 0);
    }
    return NULL;
}

struct error *
cell_registry_load(struct db *db, const struct topology *topology,
                   unsigned int flags,
                   struct cell_registry_report **ret_report)
{
    struct cell_registry_load_ctx ctx = {
        .topology = topology,
        .flags = flags,
    };
    struct error *error = db_txn_run(db, cell_registry_load_txn, &ctx);

    if (error) {
        cell_registry_report_free(ctx.report);
        return error_wrap(error, "Cannot load '%s' into the API database",
                          topology->source);
    }
    *ret_report = ctx.report;
    return NULL;
}

/* ---- Display --------------------------------------------------------- */

char *
cell_registry_redact_transport_url(const char *url)
{
    static const char prefix[] = TRANSPORT_URL_SCHEME "://";
    const char *netloc, *end;
    AUTOFREE char *out = NULL;
    struct error *error;

    error = topology_check_transport_url(url);
    if (error) {
        error_free(error);
        return xstrdup(TRANSPORT_URL_SCHEME "://***");
    }
    /* The URL parsed, so its entries split as transport-url.c splits
     * them: at ',' before the first '/', credentials up to the last '@'
     * of an entry, the password after the first ':' of the credentials. */
    netloc = url + sizeof prefix - 1;
    end = strchr(netloc, '/');
    if (!end) {
        end = netloc + strlen(netloc);
    }
    out = xstrndup(url, (size_t) (netloc - url));
    for (const char *entry = netloc; entry < end; ) {
        const char *comma = memchr(entry, ',', (size_t) (end - entry));
        const char *entry_end = comma ? comma : end;
        const char *at = NULL;
        const char *colon;
        char *longer;

        for (const char *p = entry; p < entry_end; p++) {
            if (*p == '@') {
                at = p;
            }
        }
        colon = at ? memchr(entry, ':', (size_t) (at - entry)) : NULL;
        if (colon) {
            longer = xasprintf("%s%.*s***%.*s", out,
                               (int) (colon + 1 - entry), entry,
                               (int) (entry_end - at), at);
        } else {
            longer = xasprintf("%s%.*s", out, (int) (entry_end - entry),
                               entry);
        }
        free(out);
        out = longer;
        if (!comma) {
            break;
        }
        longer = xasprintf("%s,", out);
        free(out);
        out = longer;
        entry = comma + 1;
    }
    return xasprintf("%s%s", out, end);
}

char *
cell_registry_redact_database_url(const char *url)
{
    return url ? db_url_redact(url) : NULL;
}

static struct json_object *
cell_registry_json_string_or_null(const char *s)
{
    return s ? json_object_new_string(s) : NULL;
}

struct json_object *
cell_registry_cell_to_json(const struct cell_registry_cell *cell)
{
    struct json_object *obj = json_object_new_object();
    AUTOFREE char *transport = cell_registry_redact_transport_url(
        cell->transport_url);
    AUTOFREE char *database = cell_registry_redact_database_url(
        cell->database);

    json_object_object_add(obj, "uuid",
                           cell_registry_json_string_or_null(cell->uuid));
    json_object_object_add(obj, "name", json_object_new_string(cell->name));
    json_object_object_add(obj, "path", json_object_new_string(cell->path));
    json_object_object_add(obj, "parent_path",
                           cell_registry_json_string_or_null(
                               cell->parent_path));
    json_object_object_add(obj, "transport_url",
                           json_object_new_string(transport));
    json_object_object_add(obj, "database",
                           cell_registry_json_string_or_null(database));
    json_object_object_add(obj, "hosts", json_object_new_boolean(cell->hosts));
    json_object_object_add(obj, "disabled",
                           json_object_new_boolean(cell->disabled));
    json_object_object_add(obj, "weight_offset",
                           json_object_new_double(cell->weight_offset));
    json_object_object_add(obj, "weight_scale",
                           json_object_new_double(cell->weight_scale));
    json_object_object_add(obj, "availability_zones",
                           cell_registry_json_copy(cell->availability_zones));
    json_object_object_add(obj, "capabilities",
                           cell_registry_json_copy(cell->capabilities));
    json_object_object_add(obj, "created_at",
                           cell_registry_json_string_or_null(
                               cell->created_at));
    json_object_object_add(obj, "updated_at",
                           cell_registry_json_string_or_null(
                               cell->updated_at));
    return obj;
}
