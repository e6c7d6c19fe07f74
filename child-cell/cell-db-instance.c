/* cell-db-instance.c: the 'instances' table (see cell-db-instance.h).
 *
 * Every statement on the table lives here.  Rows are read with one column
 * list, INSTANCE_COLUMNS, whose order the INSTANCE_COL_* indexes follow.
 * The flavor, the image and the metadata are stored as JSON text in the
 * forms of shared/flavor.h and shared/instance.h and decoded with the
 * same strict decoders, so a row that does not decode is reported rather
 * than half read.
 *
 * Selective updates use one constant statement in which every updatable
 * column is "col = IF(?, ?, col)": a flag chooses whether the new value
 * applies.  That keeps the SQL text constant (one cached prepared
 * statement) whatever combination of columns a caller changes.  The
 * expected task states travel as one comma-separated parameter tested with
 * FIND_IN_SET(), NULL standing as "none", for the same reason. */
#include <config.h>
#include "child-cell/cell-db-instance.h"

#include <string.h>
#include <json-c/json.h>

#include "child-cell/cell-db-private.h"
#include "shared/cleanup.h"
#include "shared/db.h"
#include "shared/error.h"
#include "shared/flavor.h"
#include "shared/json-util.h"
#include "shared/log.h"
#include "shared/timeutil.h"
#include "shared/uuid-util.h"
#include "shared/xalloc.h"

LOG_MODULE("cell_db.instance");

/* Largest JSON text read back from the flavor, image and metadata
 * columns, in bytes (MEDIUMTEXT holds up to 16 MiB). */
#define CELL_DB_INSTANCE_JSON_MAX_SIZE (16 * 1024 * 1024)

#define INSTANCE_COLUMNS                                                \
    "uuid, display_name, project_id, user_id, host, node, flavor, "     \
    "image_ref, image, key_name, key_data, metadata, "                  \
    "availability_zone, vm_state, task_state, power_state, "            \
    "launched_at, terminated_at, created_at, updated_at, locked, "      \
    "update_seq"

enum {
    INSTANCE_COL_UUID,
    INSTANCE_COL_DISPLAY_NAME,
    INSTANCE_COL_PROJECT_ID,
    INSTANCE_COL_USER_ID,
    INSTANCE_COL_HOST,
    INSTANCE_COL_NODE,
    INSTANCE_COL_FLAVOR,
    INSTANCE_COL_IMAGE_REF,
    INSTANCE_COL_IMAGE,
    INSTANCE_COL_KEY_NAME,
    INSTANCE_COL_KEY_DATA,
    INSTANCE_COL_METADATA,
    INSTANCE_COL_AVAILABILITY_ZONE,
    INSTANCE_COL_VM_STATE,
    INSTANCE_COL_TASK_STATE,
    INSTANCE_COL_POWER_STATE,
    INSTANCE_COL_LAUNCHED_AT,
    INSTANCE_COL_TERMINATED_AT,
    INSTANCE_COL_CREATED_AT,
    INSTANCE_COL_UPDATED_AT,
    INSTANCE_COL_LOCKED,
    INSTANCE_COL_UPDATE_SEQ,
};

/* ---- Rows to objects -------------------------------------------------- */

/* Parses the JSON text of column 'col' of row 'r' into '*ret_doc' (NULL
 * for SQL NULL).  A bad value is an ERROR_INTERNAL error naming the
 * instance and the column. */
static struct error *
cell_db_instance_parse_json(const struct db_rows *rows, size_t r,
                            size_t col, const char *uuid,
                            struct json_object **ret_doc)
{
    const char *text = db_rows_get_str(rows, r, col);
    struct error *error;

    if (!text) {
        *ret_doc = NULL;
        return NULL;
    }
    error = json_parse_text(text, db_rows_get_size(rows, r, col),
                            CELL_DB_INSTANCE_JSON_MAX_SIZE, 0, ret_doc);
    if (error) {
        return error_wrap(error, "Instance %s has a malformed '%s' column",
                          uuid, db_rows_column_name(rows, col));
    }
    return NULL;
}

/* Builds the instance of row 'r' of 'rows' (selected with
 * INSTANCE_COLUMNS) into '*ret_inst'. */
static struct error *
cell_db_instance_from_row(const struct db_rows *rows, size_t r,
                          struct instance **ret_inst)
{
    const char *uuid = db_rows_get_str(rows, r, INSTANCE_COL_UUID);
    CLEANUP(instance_freep) struct instance *inst = instance_new(uuid);
    CLEANUP(json_putp) struct json_object *flavor = NULL;
    CLEANUP(json_putp) struct json_object *image = NULL;
    CLEANUP(json_putp) struct json_object *metadata = NULL;
    const char *vm_state = db_rows_get_str(rows, r, INSTANCE_COL_VM_STATE);
    const char *task_state = db_rows_get_str(rows, r,
                                             INSTANCE_COL_TASK_STATE);
    struct error *error;

    inst->display_name = cell_db_rows_dup(rows, r,
                                          INSTANCE_COL_DISPLAY_NAME);
    inst->project_id = cell_db_rows_dup(rows, r, INSTANCE_COL_PROJECT_ID);
    inst->user_id = cell_db_rows_dup(rows, r, INSTANCE_COL_USER_ID);
    inst->host = cell_db_rows_dup(rows, r, INSTANCE_COL_HOST);
    inst->node = cell_db_rows_dup(rows, r, INSTANCE_COL_NODE);
    inst->image_ref = cell_db_rows_dup(rows, r, INSTANCE_COL_IMAGE_REF);
    inst->key_name = cell_db_rows_dup(rows, r, INSTANCE_COL_KEY_NAME);
    inst->key_data = cell_db_rows_dup(rows, r, INSTANCE_COL_KEY_DATA);
    inst->availability_zone =
        cell_db_rows_dup(rows, r, INSTANCE_COL_AVAILABILITY_ZONE);
    inst->launched_at = cell_db_rows_get_time(rows, r,
                                              INSTANCE_COL_LAUNCHED_AT);
    inst->terminated_at = cell_db_rows_get_time(rows, r,
                                                INSTANCE_COL_TERMINATED_AT);
    inst->created_at = cell_db_rows_get_time(rows, r,
                                             INSTANCE_COL_CREATED_AT);
    inst->updated_at = cell_db_rows_get_time(rows, r,
                                             INSTANCE_COL_UPDATED_AT);
    inst->locked = db_rows_get_bool(rows, r, INSTANCE_COL_LOCKED);
    inst->update_seq = db_rows_get_int64(rows, r, INSTANCE_COL_UPDATE_SEQ);

    if (instance_vm_state_from_string(vm_state, &inst->vm_state)
        || instance_task_state_from_string(task_state, &inst->task_state)
        || instance_power_state_from_int(
               db_rows_get_int64(rows, r, INSTANCE_COL_POWER_STATE),
               &inst->power_state)) {
        return error_new(ERROR_INTERNAL,
                         "Instance %s has an unknown state in the "
                         "database (vm_state '%s', task_state '%s', "
                         "power_state %lld)", uuid,
                         vm_state ? vm_state : "NULL",
                         task_state ? task_state : "NULL",
                         (long long) db_rows_get_int64(
                             rows, r, INSTANCE_COL_POWER_STATE));
    }

    if ((error = cell_db_instance_parse_json(rows, r, INSTANCE_COL_FLAVOR,
                                             uuid, &flavor))
        || (error = cell_db_instance_parse_json(rows, r, INSTANCE_COL_IMAGE,
                                                uuid, &image))
        || (error = cell_db_instance_parse_json(rows, r,
                                                INSTANCE_COL_METADATA, uuid,
                                                &metadata))) {
        return error;
    }
    if (flavor && (error = flavor_from_json(flavor, "flavor",
                                            &inst->flavor))) {
        return error_wrap(error, "Instance %s has a bad flavor in the "
                          "database", uuid);
    }
    if (image && (error = instance_image_from_json(image, "image",
                                                   &inst->image))) {
        return error_wrap(error, "Instance %s has a bad image in the "
                          "database", uuid);
    }
    if (metadata) {
        if (!json_object_is_type(metadata, json_type_object)) {
            return error_new(ERROR_INTERNAL, "Instance %s has bad metadata "
                             "in the database", uuid);
        }
        json_object_object_foreach(metadata, key, value) {
            if (!json_object_is_type(value, json_type_string)) {
                return error_new(ERROR_INTERNAL, "Instance %s has bad "
                                 "metadata in the database", uuid);
            }
            instance_set_metadata(inst, key, json_object_get_string(value));
        }
    }
    *ret_inst = TAKE_PTR(inst);
    return NULL;
}

/* ---- Lookups ---------------------------------------------------------- */

/* Reads the row of 'uuid' (deleted or not) into '*ret_inst', or stores
 * NULL when there is none. */
static struct error *
cell_db_instance_read(struct db *db, const char *uuid, bool read_deleted,
                      struct instance **ret_inst)
{
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    struct error *error;

    error = db_query(db,
                     "SELECT " INSTANCE_COLUMNS " FROM instances"
                     " WHERE uuid = ? AND (? OR deleted = 0)",
                     DB_PARAMS(DB_STR(uuid), DB_BOOL(read_deleted)), &rows);
    if (error) {
        return error;
    }
    if (!db_rows_count(rows)) {
        *ret_inst = NULL;
        return NULL;
    }
    return cell_db_instance_from_row(rows, 0, ret_inst);
}

struct error *
cell_db_instance_get(struct db *db, const char *uuid, bool read_deleted,
                     struct instance **ret_inst)
{
    struct instance *inst = NULL;
    struct error *error;

    if (!uuid) {
        return cell_db_instance_not_found(uuid);
    }
    error = cell_db_instance_read(db, uuid, read_deleted, &inst);
    if (error) {
        return error;
    }
    if (!inst) {
        return cell_db_instance_not_found(uuid);
    }
    *ret_inst = inst;
    return NULL;
}

struct error *
cell_db_instance_exists(struct db *db, const char *uuid, bool *ret_exists)
{
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    struct error *error;

    error = db_query(db, "SELECT 1 FROM instances WHERE uuid = ?",
                     DB_PARAMS(DB_STR(uuid)), &rows);
    if (error) {
        return error;
    }
    *ret_exists = db_rows_count(rows) > 0;
    return NULL;
}

/* ---- Create ----------------------------------------------------------- */

struct cell_db_instance_create_ctx {
    const struct instance *inst;
    struct instance *result;            /* the row after the call */
    bool created;
};

static struct error *
cell_db_instance_create_txn(struct db *db, void *aux)
{
    struct cell_db_instance_create_ctx *ctx = aux;
    const struct instance *inst = ctx->inst;
    const struct flavor *flavor = inst->flavor;
    int64_t now = time_now_ms();
    char launched[TIME_MYSQL_DATETIME_SIZE];
    char terminated[TIME_MYSQL_DATETIME_SIZE];
    char created[TIME_MYSQL_DATETIME_SIZE];
    char updated[TIME_MYSQL_DATETIME_SIZE];
    CLEANUP(json_putp) struct json_object *flavor_json =
        flavor_to_json(flavor);
    CLEANUP(json_putp) struct json_object *image_json =
        inst->image ? instance_image_to_json(inst->image) : NULL;
    CLEANUP(json_putp) struct json_object *meta_json =
        json_object_new_object();
    AUTOFREE char *flavor_text = NULL;
    AUTOFREE char *image_text = NULL;
    AUTOFREE char *meta_text = NULL;
    struct error *error;

    for (size_t i = 0; i < inst->n_metadata; i++) {
        json_object_object_add(meta_json, inst->metadata[i].key,
                               json_object_new_string(
                                   inst->metadata[i].value));
    }
    flavor_text = json_to_string_plain(flavor_json);
    image_text = image_json ? json_to_string_plain(image_json) : NULL;
    meta_text = json_to_string_plain(meta_json);

    instance_free(ctx->result);
    ctx->result = NULL;
    ctx->created = false;

    error = db_exec(
        db,
        "INSERT INTO instances (uuid, display_name, project_id, user_id,"
        " host, node, launched_on, flavor, vcpus, memory_mb,"
        " root_gb, ephemeral_gb, swap, image_ref, image, key_name,"
        " key_data, vm_state, task_state, power_state, availability_zone,"
        " launched_at, terminated_at, locked, metadata, update_seq,"
        " created_at, updated_at, deleted)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
        " ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
        DB_PARAMS(DB_STR(inst->uuid), DB_STR(inst->display_name),
                  DB_STR(inst->project_id), DB_STR(inst->user_id),
                  DB_STR(inst->host), DB_STR(inst->node),
                  DB_STR(inst->host),
                  DB_STR(flavor_text), DB_INT(flavor->vcpus),
                  DB_INT(flavor->memory_mb), DB_INT(flavor->root_gb),
                  DB_INT(flavor->ephemeral_gb), DB_INT(flavor->swap),
                  DB_STR(inst->image_ref), DB_STR(image_text),
                  DB_STR(inst->key_name), DB_STR(inst->key_data),
                  DB_STR(instance_vm_state_to_string(inst->vm_state)),
                  DB_STR(instance_task_state_to_nullable(inst->task_state)),
                  DB_INT(inst->power_state),
                  DB_STR(inst->availability_zone),
                  cell_db_time_value(inst->launched_at, launched),
                  cell_db_time_value(inst->terminated_at, terminated),
                  DB_BOOL(inst->locked), DB_STR(meta_text),
                  DB_INT(inst->update_seq + 1),
                  cell_db_time_value(inst->created_at != INSTANCE_TIME_NONE
                                     ? inst->created_at : now, created),
                  cell_db_time_value(inst->updated_at != INSTANCE_TIME_NONE
                                     ? inst->updated_at : now, updated)),
        NULL);
    if (error && error_kind(error) == ERROR_CONFLICT) {
        /* The uuid exists (it is the only unique key besides the id):
         * a redelivered request.  Return the row as it is. */
        LOG_DBG("instance %s exists already, not created", inst->uuid);
        error_free(error);
        return cell_db_instance_get(db, inst->uuid, true, &ctx->result);
    }
    if (error) {
        return error;
    }
    ctx->created = true;
    return cell_db_instance_get(db, inst->uuid, true, &ctx->result);
}

struct error *
cell_db_instance_create(struct db *db, const struct instance *inst,
                        struct instance **ret_inst, bool *ret_created)
{
    struct cell_db_instance_create_ctx ctx = { .inst = inst };
    struct error *error = instance_validate(inst, "instance");

    if (error) {
        return error;
    }
    error = db_txn_run(db, cell_db_instance_create_txn, &ctx);
    if (error) {
        instance_free(ctx.result);
        return error;
    }
    if (ret_created) {
        *ret_created = ctx.created;
    }
    if (ret_inst) {
        *ret_inst = ctx.result;
    } else {
        instance_free(ctx.result);
    }
    return NULL;
}

/* ---- Update ----------------------------------------------------------- */

struct cell_db_instance_update_ctx {
    const char *uuid;
    const struct cell_db_instance_updates *updates;
    const char *expected;               /* "none,rebooting" or NULL */
    const enum instance_task_state *expected_states;
    size_t n_expected;
    struct instance *result;
};

/* Returns Nova's rendering of the expected task states, a Python list:
 * "['rebooting', None]".  The caller frees it. */
static char *
cell_db_instance_expected_repr(const enum instance_task_state *states,
                               size_t n)
{
    char *repr = xstrdup("[");

    for (size_t i = 0; i < n; i++) {
        const char *name = instance_task_state_to_nullable(states[i]);
        char *longer = name
                       ? xasprintf("%s%s'%s'", repr, i ? ", " : "", name)
                       : xasprintf("%s%sNone", repr, i ? ", " : "");

        free(repr);
        repr = longer;
    }
    char *closed = xasprintf("%s]", repr);
    free(repr);
    return closed;
}

/* Explains why the conditional update of 'ctx' matched no row. */
static struct error *
cell_db_instance_update_failure(struct db *db,
                                const struct cell_db_instance_update_ctx *ctx)
{
    CLEANUP(instance_freep) struct instance *inst = NULL;
    AUTOFREE char *expected = NULL;
    const char *actual;
    struct error *error = cell_db_instance_read(db, ctx->uuid, false, &inst);

    if (error) {
        return error;
    }
    if (!inst) {
        return cell_db_instance_not_found(ctx->uuid);
    }
    expected = cell_db_instance_expected_repr(ctx->expected_states,
                                              ctx->n_expected);
    actual = instance_task_state_to_nullable(inst->task_state);
    return error_new(ERROR_CONFLICT,
                     "Conflict updating instance %s. Expected: "
                     "{'task_state': %s}. Actual: {'task_state': %s%s%s}",
                     ctx->uuid, expected, actual ? "'" : "",
                     actual ? actual : "None", actual ? "'" : "");
}

static struct error *
cell_db_instance_update_txn(struct db *db, void *aux)
{
    struct cell_db_instance_update_ctx *ctx = aux;
    const struct cell_db_instance_updates *u = ctx->updates;
    unsigned int f = u->fields;
    char launched[TIME_MYSQL_DATETIME_SIZE];
    char terminated[TIME_MYSQL_DATETIME_SIZE];
    char now[TIME_MYSQL_DATETIME_SIZE];
    uint64_t affected = 0;
    struct error *error;

    instance_free(ctx->result);
    ctx->result = NULL;

    error = db_exec(
        db,
        "UPDATE instances SET"
        " vm_state = IF(?, ?, vm_state),"
        " task_state = IF(?, ?, task_state),"
        " power_state = IF(?, ?, power_state),"
        " launched_at = IF(?, ?, launched_at),"
        " terminated_at = IF(?, ?, terminated_at),"
        " host = IF(?, ?, host),"
        " node = IF(?, ?, node),"
        " launched_on = IF(? AND ? IS NOT NULL, ?, launched_on),"
        " display_name = IF(?, ?, display_name),"
        " locked = IF(?, ?, locked),"
        " availability_zone = IF(?, ?, availability_zone),"
        " update_seq = update_seq + 1,"
        " updated_at = ?"
        " WHERE uuid = ? AND deleted = 0"
        " AND (? IS NULL OR FIND_IN_SET(IFNULL(task_state, 'none'), ?) > 0)",
        DB_PARAMS(
            DB_BOOL(f & CELL_DB_INSTANCE_VM_STATE),
            DB_STR(instance_vm_state_to_string(u->vm_state)),
            DB_BOOL(f & CELL_DB_INSTANCE_TASK_STATE),
            DB_STR(instance_task_state_to_nullable(u->task_state)),
            DB_BOOL(f & CELL_DB_INSTANCE_POWER_STATE),
            DB_INT(u->power_state),
            DB_BOOL(f & CELL_DB_INSTANCE_LAUNCHED_AT),
            cell_db_time_value(u->launched_at, launched),
            DB_BOOL(f & CELL_DB_INSTANCE_TERMINATED_AT),
            cell_db_time_value(u->terminated_at, terminated),
            DB_BOOL(f & CELL_DB_INSTANCE_HOST), DB_STR(u->host),
            DB_BOOL(f & CELL_DB_INSTANCE_HOST), DB_STR(u->node),
            DB_BOOL(f & CELL_DB_INSTANCE_HOST), DB_STR(u->host),
            DB_STR(u->host),
            DB_BOOL(f & CELL_DB_INSTANCE_DISPLAY_NAME),
            DB_STR(u->display_name),
            DB_BOOL(f & CELL_DB_INSTANCE_LOCKED), DB_BOOL(u->locked),
            DB_BOOL(f & CELL_DB_INSTANCE_AVAILABILITY_ZONE),
            DB_STR(u->availability_zone),
            cell_db_time_value(time_now_ms(), now),
            DB_STR(ctx->uuid),
            DB_STR(ctx->expected), DB_STR(ctx->expected)),
        &affected);
    if (error) {
        return error;
    }
    if (!affected) {
        return cell_db_instance_update_failure(db, ctx);
    }
    return cell_db_instance_get(db, ctx->uuid, false, &ctx->result);
}

/* Checks the values 'updates' would store. */
static struct error *
cell_db_instance_check_updates(const struct cell_db_instance_updates *u)
{
    unsigned int f = u->fields;
    enum instance_power_state power;
    struct error *error = NULL;

    if ((f & CELL_DB_INSTANCE_VM_STATE)
        && (size_t) u->vm_state >= INSTANCE_N_VM_STATES) {
        return error_new(ERROR_INVALID, "Unknown vm_state %d",
                         (int) u->vm_state);
    }
    if ((f & CELL_DB_INSTANCE_TASK_STATE)
        && (size_t) u->task_state >= INSTANCE_N_TASK_STATES) {
        return error_new(ERROR_INVALID, "Unknown task_state %d",
                         (int) u->task_state);
    }
    if ((f & CELL_DB_INSTANCE_POWER_STATE)
        && instance_power_state_from_int(u->power_state, &power)) {
        return error_new(ERROR_INVALID, "Unknown power_state %d",
                         (int) u->power_state);
    }
    if (((f & CELL_DB_INSTANCE_LAUNCHED_AT)
         && (error = cell_db_check_time("launched_at", u->launched_at)))
        || ((f & CELL_DB_INSTANCE_TERMINATED_AT)
            && (error = cell_db_check_time("terminated_at",
                                           u->terminated_at)))
        || ((f & CELL_DB_INSTANCE_HOST)
            && ((error = cell_db_check_string("host", u->host, false,
                                              INSTANCE_HOST_MAX_LENGTH))
                || (error = cell_db_check_string(
                        "node", u->node, false,
                        INSTANCE_HOST_MAX_LENGTH))))
        || ((f & CELL_DB_INSTANCE_DISPLAY_NAME)
            && (error = cell_db_check_string("display_name",
                                             u->display_name, false,
                                             INSTANCE_NAME_MAX_LENGTH)))
        || ((f & CELL_DB_INSTANCE_AVAILABILITY_ZONE)
            && (error = cell_db_check_string("availability_zone",
                                             u->availability_zone, false,
                                             INSTANCE_AZ_MAX_LENGTH)))) {
        return error;
    }
    return NULL;
}

struct error *
cell_db_instance_update(struct db *db, const char *uuid,
                        const struct cell_db_instance_updates *updates,
                        const enum instance_task_state *expected_task_states,
                        size_t n_expected, struct instance **ret_inst)
{
    struct cell_db_instance_update_ctx ctx = {
        .uuid = uuid,
        .updates = updates,
        .expected_states = expected_task_states,
        .n_expected = n_expected,
    };
    AUTOFREE char *expected = NULL;
    struct error *error;

    if (!uuid) {
        return cell_db_instance_not_found(uuid);
    }
    if ((error = cell_db_instance_check_updates(updates))) {
        return error;
    }
    /* "none,rebooting,...": task state names contain no commas. */
    for (size_t i = 0; i < n_expected; i++) {
        const char *name;
        char *longer;

        if ((size_t) expected_task_states[i] >= INSTANCE_N_TASK_STATES) {
            return error_new(ERROR_INVALID, "Unknown expected task_state %d",
                             (int) expected_task_states[i]);
        }
        name = instance_task_state_to_string(expected_task_states[i]);
        longer = xasprintf("%s%s%s", expected ? expected : "",
                           expected ? "," : "", name);
        free(expected);
        expected = longer;
    }
    ctx.expected = expected;

    error = db_txn_run(db, cell_db_instance_update_txn, &ctx);
    if (error) {
        instance_free(ctx.result);
        return error;
    }
    if (ret_inst) {
        *ret_inst = ctx.result;
    } else {
        instance_free(ctx.result);
    }
    return NULL;
}

struct error *
cell_db_instance_set_host(struct db *db, const char *uuid, const char *host,
                          const char *node, struct instance **ret_inst)
{
    struct cell_db_instance_updates updates = {
        .fields = CELL_DB_INSTANCE_HOST,
        .host = host,
        .node = node,
    };

    return cell_db_instance_update(db, uuid, &updates, NULL, 0, ret_inst);
}

/* ---- List ------------------------------------------------------------- */

struct error *
cell_db_instance_list(struct db *db,
                      const struct cell_db_instance_filter *filter,
                      struct instance_list **ret_list)
{
    static const struct cell_db_instance_filter no_filter;
    const struct cell_db_instance_filter *f = filter ? filter : &no_filter;
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    CLEANUP(instance_list_freep) struct instance_list *list = NULL;
    size_t limit = f->limit && f->limit <= CELL_DB_INSTANCE_LIST_MAX
                   ? f->limit : CELL_DB_INSTANCE_LIST_MAX;
    int64_t after_id = 0;
    struct error *error;

    if (f->marker) {
        CLEANUP(db_rows_freep) struct db_rows *marker = NULL;

        error = db_query(db, "SELECT id FROM instances WHERE uuid = ?",
                         DB_PARAMS(DB_STR(f->marker)), &marker);
        if (error) {
            return error;
        }
        if (!db_rows_count(marker)) {
            return error_new(ERROR_NOT_FOUND,
                             "Marker %s could not be found.", f->marker);
        }
        after_id = db_rows_get_int64(marker, 0, 0);
    }

    /* One constant statement per access path, so that each can use its
     * index: (host, node, deleted), (project_id, deleted), the primary
     * key. */
    if (f->host) {
        error = db_query(db,
                         "SELECT " INSTANCE_COLUMNS " FROM instances"
                         " WHERE host = ? AND (? IS NULL OR node = ?)"
                         " AND (? IS NULL OR project_id = ?)"
                         " AND (? OR deleted = 0) AND id > ?"
                         " ORDER BY id LIMIT ?",
                         DB_PARAMS(DB_STR(f->host), DB_STR(f->node),
                                   DB_STR(f->node), DB_STR(f->project_id),
                                   DB_STR(f->project_id),
                                   DB_BOOL(f->include_deleted),
                                   DB_INT(after_id), DB_INT(limit)),
                         &rows);
    } else if (f->project_id) {
        error = db_query(db,
                         "SELECT " INSTANCE_COLUMNS " FROM instances"
                         " WHERE project_id = ? AND (? OR deleted = 0)"
                         " AND id > ? ORDER BY id LIMIT ?",
                         DB_PARAMS(DB_STR(f->project_id),
                                   DB_BOOL(f->include_deleted),
                                   DB_INT(after_id), DB_INT(limit)),
                         &rows);
    } else {
        error = db_query(db,
                         "SELECT " INSTANCE_COLUMNS " FROM instances"
                         " WHERE (? OR deleted = 0) AND id > ?"
                         " ORDER BY id LIMIT ?",
                         DB_PARAMS(DB_BOOL(f->include_deleted),
                                   DB_INT(after_id), DB_INT(limit)),
                         &rows);
    }
    if (error) {
        return error;
    }

    list = instance_list_new();
    for (size_t r = 0; r < db_rows_count(rows); r++) {
        struct instance *inst;

        error = cell_db_instance_from_row(rows, r, &inst);
        if (error) {
            return error;
        }
        instance_list_push(list, inst);
    }
    *ret_list = TAKE_PTR(list);
    return NULL;
}

/* ---- Delete ----------------------------------------------------------- */

struct cell_db_instance_delete_ctx {
    const char *uuid;
    bool deleted;
    struct instance *result;
};

static struct error *
cell_db_instance_delete_txn(struct db *db, void *aux)
{
    struct cell_db_instance_delete_ctx *ctx = aux;
    char now[TIME_MYSQL_DATETIME_SIZE];
    struct db_value now_value = cell_db_time_value(time_now_ms(), now);
    uint64_t affected = 0;
    struct error *error;

    instance_free(ctx->result);
    ctx->result = NULL;

    error = db_exec(db,
                    "UPDATE instances SET deleted = id, deleted_at = ?,"
                    " vm_state = 'deleted', task_state = NULL,"
                    " power_state = 0,"
                    " terminated_at = IFNULL(terminated_at, ?),"
                    " updated_at = ?, update_seq = update_seq + 1"
                    " WHERE uuid = ? AND deleted = 0",
                    DB_PARAMS(now_value, now_value, now_value,
                              DB_STR(ctx->uuid)),
                    &affected);
    if (error) {
        return error;
    }
    ctx->deleted = affected > 0;
    return cell_db_instance_get(db, ctx->uuid, true, &ctx->result);
}

struct error *
cell_db_instance_mark_deleted(struct db *db, const char *uuid,
                              bool *ret_deleted, struct instance **ret_inst)
{
    struct cell_db_instance_delete_ctx ctx = { .uuid = uuid };
    struct error *error;

    if (!uuid) {
        return cell_db_instance_not_found(uuid);
    }
    error = db_txn_run(db, cell_db_instance_delete_txn, &ctx);
    if (error) {
        instance_free(ctx.result);
        return error;
    }
    if (ret_deleted) {
        *ret_deleted = ctx.deleted;
    }
    if (ret_inst) {
        *ret_inst = ctx.result;
    } else {
        instance_free(ctx.result);
    }
    return NULL;
}
