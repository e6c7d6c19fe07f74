/* manage-cell.c: the "nova-manage cell ..." commands (see manage-cell.h).
 *
 * Each handler parses its options with one small table-driven parser,
 * opens the API database, calls cell-registry.c and prints the result.
 * Nothing here writes to the database directly, and nothing prints a URL
 * without hiding its password first.
 *
 * Output formats:
 *   - list and show print boxed tables in the style of the OpenStack
 *     command line (and of Nova's "nova-manage cell_v2 list_cells");
 *   - tree draws the tree with plain ASCII ("|-- ", "`-- ", "|   "), as
 *     "tree --charset=ascii" does, so that it reads the same in every
 *     terminal, log file and mail;
 *   - --format json prints one pretty-printed JSON document. */
#include <config.h>
#include "api-cell/manage-cell.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "api-cell/cell-registry.h"
#include "api-cell/cell-status.h"
#include "cells-rpc/cell-capacity.h"
#include "cells-rpc/cell-path.h"
#include "shared/cleanup.h"
#include "shared/db-migrate.h"
#include "shared/db.h"
#include "shared/error.h"
#include "shared/json-util.h"
#include "shared/topology.h"
#include "shared/xalloc.h"

#define MANAGE_CELL_CATEGORY "cell"

/* What the text output shows for an absent value. */
#define MANAGE_CELL_NONE "-"

/* ---- Usage errors ---------------------------------------------------- */

/* The latest usage error made, compared by address: see
 * manage_cell_error_is_usage().  The command line is single-threaded. */
static const struct error *manage_cell_last_usage_error;

struct error *
manage_cell_usage(const char *fmt, ...)
{
    struct error *error;
    va_list args;

    va_start(args, fmt);
    error = error_newv(ERROR_INVALID, fmt, args);
    va_end(args);
    manage_cell_last_usage_error = error;
    return error;
}

bool
manage_cell_error_is_usage(const struct error *error)
{
    return error && error == manage_cell_last_usage_error;
}

/* ---- Options --------------------------------------------------------- */

enum manage_cell_opt {
    OPT_PARENT,
    OPT_TRANSPORT_URL,
    OPT_DATABASE,
    OPT_HOSTS,
    OPT_NO_HOSTS,
    OPT_WEIGHT_OFFSET,
    OPT_WEIGHT_SCALE,
    OPT_ZONES,
    OPT_CAPABILITY,
    OPT_DISABLED,
    OPT_FORMAT,
    OPT_PRUNE,
    OPT_CELL,
    MANAGE_CELL_N_OPTS
};

static const struct {
    const char *name;           /* without "--" */
    bool has_value;
    bool repeatable;
} manage_cell_opts[MANAGE_CELL_N_OPTS] = {
    [OPT_PARENT] = { "parent", true, false },
    [OPT_TRANSPORT_URL] = { "transport-url", true, false },
    [OPT_DATABASE] = { "database", true, false },
    [OPT_HOSTS] = { "hosts", false, false },
    [OPT_NO_HOSTS] = { "no-hosts", false, false },
    [OPT_WEIGHT_OFFSET] = { "weight-offset", true, false },
    [OPT_WEIGHT_SCALE] = { "weight-scale", true, false },
    [OPT_ZONES] = { "availability-zones", true, false },
    [OPT_CAPABILITY] = { "capability", true, true },
    [OPT_DISABLED] = { "disabled", false, false },
    [OPT_FORMAT] = { "format", true, false },
    [OPT_PRUNE] = { "prune", false, false },
    [OPT_CELL] = { "cell", true, false },
};

#define OPT_BIT(OPT) (1u << (OPT))
/* The options that set a cell's fields, shared by create and update. */
#define OPT_CELL_FIELDS                                                 \
    (OPT_BIT(OPT_TRANSPORT_URL) | OPT_BIT(OPT_DATABASE)                 \
     | OPT_BIT(OPT_HOSTS) | OPT_BIT(OPT_NO_HOSTS)                       \
     | OPT_BIT(OPT_WEIGHT_OFFSET) | OPT_BIT(OPT_WEIGHT_SCALE)           \
     | OPT_BIT(OPT_ZONES) | OPT_BIT(OPT_CAPABILITY))

/* A parsed command line.  Values point into argv. */
struct manage_cell_args {
    const char *verb;
    const char *name;           /* the one positional argument, if any */
    bool given[MANAGE_CELL_N_OPTS];
    const char *values[MANAGE_CELL_N_OPTS];
    const char *capabilities[MANAGE_CELL_MAX_ARGS];
    size_t n_capabilities;
    bool json;                  /* --format json */
};

/* Parses 'argv' for 'verb', which takes the options in 'allowed' and
 * exactly one positional argument (described as 'positional') or none
 * (NULL). */
static struct error *
manage_cell_parse(const char *verb, int argc, char *argv[],
                  unsigned int allowed, const char *positional,
                  struct manage_cell_args *args)
{
    bool options_done = false;

    memset(args, 0, sizeof *args);
    args->verb = verb;
    manage_cell_last_usage_error = NULL;
    if (argc > MANAGE_CELL_MAX_ARGS) {
        return manage_cell_usage("'%s %s' takes at most %d arguments",
                                 MANAGE_CELL_CATEGORY, verb,
                                 MANAGE_CELL_MAX_ARGS);
    }
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        const char *equals;
        size_t length;
        size_t opt;

        if (options_done || strncmp(arg, "--", 2) || !arg[2]) {
            if (!options_done && !strcmp(arg, "--")) {
                options_done = true;
                continue;
            }
            if (!positional) {
                return manage_cell_usage("'%s %s' takes no argument, but "
                                         "'%s' was given",
                                         MANAGE_CELL_CATEGORY, verb, arg);
            }
            if (args->name) {
                return manage_cell_usage("'%s %s' takes one %s, but '%s' "
                                         "was given too",
                                         MANAGE_CELL_CATEGORY, verb,
                                         positional, arg);
            }
            args->name = arg;
            continue;
        }

        equals = strchr(arg + 2, '=');
        length = equals ? (size_t) (equals - arg - 2) : strlen(arg + 2);
        for (opt = 0; opt < MANAGE_CELL_N_OPTS; opt++) {
            if (strlen(manage_cell_opts[opt].name) == length
                && !strncmp(manage_cell_opts[opt].name, arg + 2, length)) {
                break;
            }
        }
        if (opt == MANAGE_CELL_N_OPTS || !(allowed & OPT_BIT(opt))) {
            return manage_cell_usage("unknown option '%.*s' for '%s %s'",
                                     (int) length + 2, arg,
                                     MANAGE_CELL_CATEGORY, verb);
        }
        if (args->given[opt] && !manage_cell_opts[opt].repeatable) {
            return manage_cell_usage("option '--%s' is given more than once",
                                     manage_cell_opts[opt].name);
        }
        args->given[opt] = true;
        if (!manage_cell_opts[opt].has_value) {
            if (equals) {
                return manage_cell_usage("option '--%s' takes no value",
                                         manage_cell_opts[opt].name);
            }
            continue;
        }
        if (equals) {
            args->values[opt] = equals + 1;
        } else if (i + 1 < argc) {
            args->values[opt] = argv[++i];
        } else {
            return manage_cell_usage("option '--%s' needs a value",
                                     manage_cell_opts[opt].name);
        }
        if (opt == OPT_CAPABILITY) {
            args->capabilities[args->n_capabilities++] = args->values[opt];
        }
    }

    if (positional && !args->name) {
        return manage_cell_usage("'%s %s' needs a %s", MANAGE_CELL_CATEGORY,
                                 verb, positional);
    }
    if (args->given[OPT_HOSTS] && args->given[OPT_NO_HOSTS]) {
        return manage_cell_usage("options '--hosts' and '--no-hosts' "
                                 "contradict each other");
    }
    if (args->given[OPT_FORMAT]) {
        if (!strcmp(args->values[OPT_FORMAT], "json")) {
            args->json = true;
        } else if (strcmp(args->values[OPT_FORMAT], "text")) {
            return manage_cell_usage("unknown format '%s': use 'text' or "
                                     "'json'", args->values[OPT_FORMAT]);
        }
    }
    return NULL;
}

/* ---- Database -------------------------------------------------------- */

struct error *
manage_cell_open(const char *url, struct db **ret_db)
{
    CLEANUP(db_closep) struct db *db = NULL;
    struct error *error;
    int version;

    if (!url || !*url) {
        return error_new(ERROR_INVALID, "No API database URL: set "
                         "'api_database.connection' in the configuration "
                         "file or give --set api_database.connection=URL");
    }
    error = db_open(url, &db);
    if (!error) {
        error = db_schema_version(db, DB_SCHEMA_API, &version);
    }
    if (error) {
        return error;
    }
    if (version < db_schema_latest(DB_SCHEMA_API)) {
        return error_new(ERROR_INVALID, "The API database schema is at "
                         "version %d, but these commands need version %d: "
                         "run 'nova-manage api_db sync' first", version,
                         db_schema_latest(DB_SCHEMA_API));
    }
    *ret_db = TAKE_PTR(db);
    return NULL;
}

/* ---- Output helpers -------------------------------------------------- */

void
manage_cell_print_json(FILE *out, struct json_object *doc)
{
    fprintf(out, "%s\n", json_object_to_json_string_ext(
                doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED
                | JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* Characters 's' takes on a terminal: UTF-8 continuation bytes take
 * none. */
static size_t
manage_cell_width(const char *s)
{
    size_t width = 0;

    for (; *s; s++) {
        if (((unsigned char) *s & 0xc0) != 0x80) {
            width++;
        }
    }
    return width;
}

void
manage_cell_table_add(struct manage_cell_table *table, char **row)
{
    size_t n = table->n_columns;

    table->cells = xreallocarray(table->cells, (table->n_rows + 1) * n,
                                 sizeof *table->cells);
    memcpy(&table->cells[table->n_rows * n], row, n * sizeof *row);
    table->n_rows++;
}

void
manage_cell_table_destroy(struct manage_cell_table *table)
{
    for (size_t i = 0; i < table->n_rows * table->n_columns; i++) {
        free(table->cells[i]);
    }
    free(table->cells);
    table->cells = NULL;
    table->n_rows = 0;
}

static void
manage_cell_table_rule(FILE *out, const size_t *widths, size_t n)
{
    for (size_t c = 0; c < n; c++) {
        fputc('+', out);
        for (size_t i = 0; i < widths[c] + 2; i++) {
            fputc('-', out);
        }
    }
    fputs("+\n", out);
}

static void
manage_cell_table_line(FILE *out, const size_t *widths,
                       const char *const *values, size_t n)
{
    for (size_t c = 0; c < n; c++) {
        fprintf(out, "| %s%*s ", values[c],
                (int) (widths[c] - manage_cell_width(values[c])), "");
    }
    fputs("|\n", out);
}

void
manage_cell_table_print(FILE *out, const struct manage_cell_table *table)
{
    size_t n = table->n_columns;
    AUTOFREE size_t *widths = xcalloc(n, sizeof *widths);

    for (size_t c = 0; c < n; c++) {
        widths[c] = manage_cell_width(table->headers[c]);
        for (size_t r = 0; r < table->n_rows; r++) {
            size_t w = manage_cell_width(table->cells[r * n + c]);

            widths[c] = w > widths[c] ? w : widths[c];
        }
    }
    manage_cell_table_rule(out, widths, n);
    manage_cell_table_line(out, widths, table->headers, n);
    manage_cell_table_rule(out, widths, n);
    for (size_t r = 0; r < table->n_rows; r++) {
        manage_cell_table_line(out, widths,
                               (const char *const *) &table->cells[r * n],
                               n);
    }
    manage_cell_table_rule(out, widths, n);
}

static char *
manage_cell_bool_text(bool value)
{
    return xstrdup(value ? "True" : "False");
}

static char *
manage_cell_number_text(double value)
{
    return xasprintf("%g", value);
}

/* "a, b, c" for the strings of JSON array 'array', "-" when empty. */
static char *
manage_cell_join_array(const struct json_object *array)
{
    size_t n = json_object_array_length(array);
    AUTOFREE char *text = NULL;

    if (!n) {
        return xstrdup(MANAGE_CELL_NONE);
    }
    text = xstrdup("");
    for (size_t i = 0; i < n; i++) {
        const char *item = json_object_get_string(
            json_object_array_get_idx(array, i));
        char *longer = xasprintf("%s%s%s", text, i ? ", " : "", item);

        free(text);
        text = longer;
    }
    return TAKE_PTR(text);
}

/* "name=value, name=[v1, v2]" for capabilities 'caps'. */
static char *
manage_cell_join_capabilities(const struct json_object *caps)
{
    struct json_object *object = (struct json_object *) caps;
    AUTOFREE char *text = NULL;

    if (!json_object_object_length(object)) {
        return xstrdup(MANAGE_CELL_NONE);
    }
    text = xstrdup("");
    json_object_object_foreach(object, key, value) {
        AUTOFREE char *value_text = NULL;
        char *longer;

        if (json_object_is_type(value, json_type_array)) {
            AUTOFREE char *items = manage_cell_join_array(value);

            value_text = xasprintf("[%s]", items);
        } else {
            value_text = xstrdup(json_object_get_string(value));
        }
        longer = xasprintf("%s%s%s=%s", text, *text ? ", " : "", key,
                           value_text);
        free(text);
        text = longer;
    }
    return TAKE_PTR(text);
}

/* ---- Trees ----------------------------------------------------------- */

/* What the tree shows of a cell, from the database or from a file. */
struct manage_cell_node {
    const char *name;
    const char *path;
    const char *parent_path;    /* NULL for the root */
    bool hosts;
    bool disabled;
    size_t *children;           /* indexes into the node array */
    size_t n_children;
    bool has_parent;            /* its parent is among the nodes */
};

/* Links 'nodes', which are in cell_path_compare() order, to their
 * children (kept in that order). */
static void
manage_cell_nodes_link(struct manage_cell_node *nodes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!nodes[i].parent_path) {
            continue;
        }
        for (size_t j = 0; j < n; j++) {
            if (!strcmp(nodes[j].path, nodes[i].parent_path)) {
                struct manage_cell_node *parent = &nodes[j];

                parent->children = xreallocarray(parent->children,
                                                 parent->n_children + 1,
                                                 sizeof *parent->children);
                parent->children[parent->n_children++] = i;
                nodes[i].has_parent = true;
                break;
            }
        }
    }
}

static void
manage_cell_nodes_free(struct manage_cell_node *nodes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(nodes[i].children);
    }
    free(nodes);
}

/* The notes after a cell's name in the tree: "" or " (hosts, disabled)". */
static char *
manage_cell_node_notes(const struct manage_cell_node *node)
{
    const char *notes[3];
    size_t n = 0;

    if (node->hosts && node->n_children) {
        notes[n++] = "hosts";
    } else if (!node->hosts && !node->n_children && node->parent_path) {
        notes[n++] = "no hosts";
    }
    if (node->disabled) {
        notes[n++] = "disabled";
    }
    if (node->parent_path && !node->has_parent) {
        notes[n++] = "parent missing";
    }
    if (!n) {
        return xstrdup("");
    }
    return xasprintf(" (%s%s%s%s%s)", notes[0], n > 1 ? ", " : "",
                     n > 1 ? notes[1] : "", n > 2 ? ", " : "",
                     n > 2 ? notes[2] : "");
}

static void
manage_cell_tree_print_node(FILE *out, const struct manage_cell_node *nodes,
                            size_t index, const char *prefix, bool top,
                            bool last)
{
    const struct manage_cell_node *node = &nodes[index];
    AUTOFREE char *notes = manage_cell_node_notes(node);
    AUTOFREE char *child_prefix = NULL;

    if (top) {
        fprintf(out, "%s%s\n", node->name, notes);
        child_prefix = xstrdup("");
    } else {
        fprintf(out, "%s%s%s%s\n", prefix, last ? "`-- " : "|-- ",
                node->name, notes);
        child_prefix = xasprintf("%s%s", prefix, last ? "    " : "|   ");
    }
    for (size_t i = 0; i < node->n_children; i++) {
        manage_cell_tree_print_node(out, nodes, node->children[i],
                                    child_prefix, false,
                                    i + 1 == node->n_children);
    }
}

static void
manage_cell_tree_print(FILE *out, const struct manage_cell_node *nodes,
                       size_t n)
{
    /* The root first, then any cell whose parent is missing (only a
     * database edited by hand has one). */
    for (size_t i = 0; i < n; i++) {
        if (!nodes[i].has_parent) {
            manage_cell_tree_print_node(out, nodes, i, "", true, true);
        }
    }
}

static struct json_object *
manage_cell_tree_node_json(const struct manage_cell_node *nodes,
                           size_t index)
{
    const struct manage_cell_node *node = &nodes[index];
    struct json_object *obj = json_object_new_object();
    struct json_object *children = json_object_new_array();

    json_object_object_add(obj, "name", json_object_new_string(node->name));
    json_object_object_add(obj, "path", json_object_new_string(node->path));
    json_object_object_add(obj, "hosts", json_object_new_boolean(node->hosts));
    json_object_object_add(obj, "disabled",
                           json_object_new_boolean(node->disabled));
    for (size_t i = 0; i < node->n_children; i++) {
        json_object_array_add(children, manage_cell_tree_node_json(
                                  nodes, node->children[i]));
    }
    json_object_object_add(obj, "children", children);
    return obj;
}

/* The trees as a JSON array of their top cells (normally just the
 * root). */
static struct json_object *
manage_cell_tree_json(const struct manage_cell_node *nodes, size_t n)
{
    struct json_object *array = json_object_new_array();

    for (size_t i = 0; i < n; i++) {
        if (!nodes[i].has_parent) {
            json_object_array_add(array,
                                  manage_cell_tree_node_json(nodes, i));
        }
    }
    return array;
}

static struct manage_cell_node *
manage_cell_nodes_from_list(const struct cell_registry_list *list)
{
    struct manage_cell_node *nodes = xcalloc(list->n_cells ? list->n_cells
                                             : 1, sizeof *nodes);

    for (size_t i = 0; i < list->n_cells; i++) {
        const struct cell_registry_cell *cell = list->cells[i];

        nodes[i].name = cell->name;
        nodes[i].path = cell->path;
        nodes[i].parent_path = cell->parent_path;
        nodes[i].hosts = cell->hosts;
        nodes[i].disabled = cell->disabled;
    }
    manage_cell_nodes_link(nodes, list->n_cells);
    return nodes;
}

static struct manage_cell_node *
manage_cell_nodes_from_topology(const struct topology *topology)
{
    struct manage_cell_node *nodes = xcalloc(topology->n_cells,
                                             sizeof *nodes);

    for (size_t i = 0; i < topology->n_cells; i++) {
        const struct topology_cell *cell = topology->cells[i];

        nodes[i].name = cell->name;
        nodes[i].path = cell->path;
        nodes[i].parent_path = cell->parent_path;
        nodes[i].hosts = cell->hosts;
        nodes[i].disabled = cell->disabled;
    }
    manage_cell_nodes_link(nodes, topology->n_cells);
    return nodes;
}

/* ---- check, load ----------------------------------------------------- */

struct error *
manage_cell_check(const char *api_db_url, FILE *out, int argc,
                  char *argv[])
{
    CLEANUP(topology_freep) struct topology *topology = NULL;
    struct manage_cell_args args;
    struct manage_cell_node *nodes;
    struct error *error;

    (void) api_db_url;
    error = manage_cell_parse("check", argc, argv, 0, "FILE", &args);
    if (!error) {
        error = topology_load_file(args.name, &topology);
    }
    if (error) {
        return error;
    }
    fprintf(out, "Topology '%s' is valid: %zu cell%s\n", args.name,
            topology->n_cells, topology->n_cells == 1 ? "" : "s");
    nodes = manage_cell_nodes_from_topology(topology);
    manage_cell_tree_print(out, nodes, topology->n_cells);
    manage_cell_nodes_free(nodes, topology->n_cells);
    return NULL;
}

struct error *
manage_cell_load(const char *api_db_url, FILE *out, int argc, char *argv[])
{
    CLEANUP(topology_freep) struct topology *topology = NULL;
    CLEANUP(db_closep) struct db *db = NULL;
    CLEANUP(cell_registry_report_freep) struct cell_registry_report *report
        = NULL;
    struct manage_cell_args args;
    struct error *error;

    error = manage_cell_parse("load", argc, argv, OPT_BIT(OPT_PRUNE), "FILE",
                              &args);
    if (error) {
        return error;
    }
    /* The file first: a mistake in it needs no database to be found. */
    error = topology_load_file(args.name, &topology);
    if (!error) {
        error = manage_cell_open(api_db_url, &db);
    }
    if (!error) {
        error = cell_registry_load(db, topology,
                                   (args.given[OPT_PRUNE]
                                    ? CELL_REGISTRY_LOAD_PRUNE : 0),
                                   &report);
    }
    if (error) {
        return error;
    }
    for (size_t i = 0; i < report->n_changes; i++) {
        const struct cell_registry_change *change = &report->changes[i];
        AUTOFREE char *fields = NULL;

        switch (change->action) {
        case CELL_REGISTRY_CREATED:
            fprintf(out, "Created cell '%s'\n", change->path);
            break;
        case CELL_REGISTRY_UPDATED:
            fields = cell_registry_fields_to_string(change->fields);
            fprintf(out, "Updated cell '%s': %s\n", change->path, fields);
            break;
        case CELL_REGISTRY_KEPT:
            fprintf(out, "Kept cell '%s', which '%s' does not list (give "
                    "--prune to delete it)\n", change->path, args.name);
            break;
        case CELL_REGISTRY_DELETED:
            fprintf(out, "Deleted cell '%s'\n", change->path);
            break;
        case CELL_REGISTRY_UNCHANGED:
        case CELL_REGISTRY_N_ACTIONS:
            break;
        }
    }
    fprintf(out, "Loaded '%s': %zu created, %zu updated, %zu unchanged, "
            "%zu kept, %zu deleted\n", args.name,
            report->counts[CELL_REGISTRY_CREATED],
            report->counts[CELL_REGISTRY_UPDATED],
            report->counts[CELL_REGISTRY_UNCHANGED],
            report->counts[CELL_REGISTRY_KEPT],
            report->counts[CELL_REGISTRY_DELETED]);
    return NULL;
}

/* ---- list, show, tree ------------------------------------------------ */

/* The columns of "cell list": the registry's settings, then the health
 * that nova-cells of the root records (cell-status.h): when the cell's
 * parent last heard from it, what its parent holds of it, and the free
 * RAM (MiB) and vCPUs of its latest capacity report. */
static const char *const manage_cell_list_headers[] = {
    "Name", "Path", "Parent", "Hosts", "Disabled", "Transport URL",
    "Database", "Weight Offset", "Weight Scale", "Last Heard", "Health",
    "Free RAM MB", "Free vCPUs",
};

/* Reads every cell for list, show and tree, and their status if
 * 'ret_status' is not NULL. */
static struct error *
manage_cell_read_all_status(const char *api_db_url,
                            struct cell_registry_list **ret_list,
                            struct cell_status_list **ret_status)
{
    CLEANUP(db_closep) struct db *db = NULL;
    CLEANUP(cell_registry_list_freep) struct cell_registry_list *list = NULL;
    struct error *error = manage_cell_open(api_db_url, &db);

    if (!error) {
        error = cell_registry_list(db, &list);
    }
    if (!error && ret_status) {
        error = cell_status_list(db, ret_status);
    }
    if (!error) {
        *ret_list = TAKE_PTR(list);
    }
    return error;
}

static struct error *
manage_cell_read_all(const char *api_db_url,
                     struct cell_registry_list **ret_list)
{
    return manage_cell_read_all_status(api_db_url, ret_list, NULL);
}

/* Adds the status of 'status' (may be NULL) to the JSON form 'doc' of a
 * cell: last_heard_at, health, free_ram_mb, free_vcpus (null when
 * unknown). */
static void
manage_cell_status_to_json(struct json_object *doc,
                           const struct cell_status *status)
{
    const struct cell_capacity *cap = status ? status->capacity : NULL;

    json_object_object_add(doc, "last_heard_at",
                           status && status->last_heard_at
                           ? json_object_new_string(status->last_heard_at)
                           : NULL);
    json_object_object_add(doc, "health",
                           status && status->health
                           ? json_object_new_string(status->health) : NULL);
    json_object_object_add(doc, "free_ram_mb",
                           cap ? json_object_new_int64(cap->free.ram_mb)
                           : NULL);
    json_object_object_add(doc, "free_vcpus",
                           cap ? json_object_new_int64(cap->free.vcpus)
                           : NULL);
}

/* "2026-01-02 03:04:05" (seconds) of a DATETIME(6) text, or "-". */
static char *
manage_cell_time_text(const char *datetime)
{
    if (!datetime) {
        return xstrdup(MANAGE_CELL_NONE);
    }
    return xasprintf("%.19s", datetime);
}

struct error *
manage_cell_list(const char *api_db_url, FILE *out, int argc, char *argv[])
{
    CLEANUP(cell_registry_list_freep) struct cell_registry_list *list = NULL;
    CLEANUP(cell_status_list_freep) struct cell_status_list *status = NULL;
    struct manage_cell_table table = {
        .headers = manage_cell_list_headers,
        .n_columns = ARRAY_SIZE(manage_cell_list_headers),
    };
    struct manage_cell_args args;
    struct error *error;

    error = manage_cell_parse("list", argc, argv, OPT_BIT(OPT_FORMAT), NULL,
                              &args);
    if (!error) {
        error = manage_cell_read_all_status(api_db_url, &list, &status);
    }
    if (error) {
        return error;
    }
    if (args.json) {
        CLEANUP(json_putp) struct json_object *doc = json_object_new_array();

        for (size_t i = 0; i < list->n_cells; i++) {
            struct json_object *cell
                = cell_registry_cell_to_json(list->cells[i]);

            manage_cell_status_to_json(
                cell, cell_status_find(status, list->cells[i]->path));
            json_object_array_add(doc, cell);
        }
        manage_cell_print_json(out, doc);
        return NULL;
    }
    for (size_t i = 0; i < list->n_cells; i++) {
        const struct cell_registry_cell *cell = list->cells[i];
        const struct cell_status *st = cell_status_find(status, cell->path);
        char *database = cell_registry_redact_database_url(cell->database);
        char *row[] = {
            xstrdup(cell->name),
            xstrdup(cell->path),
            xstrdup(cell->parent_path
                    ? cell_path_last(cell->parent_path) : MANAGE_CELL_NONE),
            manage_cell_bool_text(cell->hosts),
            manage_cell_bool_text(cell->disabled),
            cell_registry_redact_transport_url(cell->transport_url),
            database ? database : xstrdup(MANAGE_CELL_NONE),
            manage_cell_number_text(cell->weight_offset),
            manage_cell_number_text(cell->weight_scale),
            manage_cell_time_text(st ? st->last_heard_at : NULL),
            xstrdup(st && st->health ? st->health : MANAGE_CELL_NONE),
            cell_status_free_ram_text(st),
            cell_status_free_vcpus_text(st),
        };

        manage_cell_table_add(&table, row);
    }
    manage_cell_table_print(out, &table);
    manage_cell_table_destroy(&table);
    return NULL;
}

/* The JSON form of one cell's capacities for "cell capacities". */
static struct json_object *
manage_cell_capacity_json(const struct cell_registry_cell *cell,
                          const struct cell_status *st)
{
    const struct cell_capacity *cap = st ? st->capacity : NULL;
    struct json_object *doc = json_object_new_object();
    struct json_object *units;

    json_object_object_add(doc, "name", json_object_new_string(cell->name));
    json_object_object_add(doc, "path", json_object_new_string(cell->path));
    manage_cell_status_to_json(doc, st);
    if (!cap) {
        json_object_object_add(doc, "capacity", NULL);
        return doc;
    }
    json_object_object_add(doc, "free_disk_gb",
                           json_object_new_int64(cap->free.disk_gb));
    json_object_object_add(doc, "total_ram_mb",
                           json_object_new_int64(cap->total.ram_mb));
    json_object_object_add(doc, "total_disk_gb",
                           json_object_new_int64(cap->total.disk_gb));
    json_object_object_add(doc, "total_vcpus",
                           json_object_new_int64(cap->total.vcpus));
    json_object_object_add(doc, "instances",
                           json_object_new_int64(cap->n_instances));
    units = json_object_new_array();
    for (size_t i = 0; i < cap->n_units; i++) {
        const struct cell_capacity_units *u = &cap->units[i];
        struct json_object *o = json_object_new_object();

        json_object_object_add(o, "vcpus",
                               json_object_new_int64(u->flavor.vcpus));
        json_object_object_add(o, "ram_mb",
                               json_object_new_int64(u->flavor.ram_mb));
        json_object_object_add(o, "disk_gb",
                               json_object_new_int64(u->flavor.disk_gb));
        json_object_object_add(o, "units", json_object_new_int64(u->units));
        json_object_array_add(units, o);
    }
    json_object_object_add(doc, "units", units);
    return doc;
}

/* "512MB/1G/1cpu=44 ..." for the units of 'cap'. */
static char *
manage_cell_units_text(const struct cell_capacity *cap)
{
    AUTOFREE char *text = xstrdup("");

    for (size_t i = 0; i < cap->n_units; i++) {
        const struct cell_capacity_units *u = &cap->units[i];
        char *longer = xasprintf("%s%s%lldMB/%lldG/%lldcpu=%lld", text,
                                 i ? " " : "",
                                 (long long) u->flavor.ram_mb,
                                 (long long) u->flavor.disk_gb,
                                 (long long) u->flavor.vcpus,
                                 (long long) u->units);

        free(text);
        text = longer;
    }
    return *text ? TAKE_PTR(text) : xstrdup(MANAGE_CELL_NONE);
}

struct error *
manage_cell_capacities(const char *api_db_url, FILE *out, int argc,
                       char *argv[])
{
    static const char *const headers[] = {
        "Cell", "Health", "Free RAM MB", "Free Disk GB", "Free vCPUs",
        "Total RAM MB", "Total Disk GB", "Total vCPUs", "Instances",
        "Free Units",
    };
    CLEANUP(cell_registry_list_freep) struct cell_registry_list *list = NULL;
    CLEANUP(cell_status_list_freep) struct cell_status_list *status = NULL;
    CLEANUP(json_putp) struct json_object *doc = json_object_new_array();
    struct manage_cell_table table = {
        .headers = headers,
        .n_columns = ARRAY_SIZE(headers),
    };
    const struct cell_registry_cell *only = NULL;
    struct manage_cell_args args;
    struct error *error;

    error = manage_cell_parse("capacities", argc, argv,
                              OPT_BIT(OPT_FORMAT) | OPT_BIT(OPT_CELL), NULL,
                              &args);
    if (!error) {
        error = manage_cell_read_all_status(api_db_url, &list, &status);
    }
    if (error) {
        return error;
    }
    if (args.given[OPT_CELL]) {
        only = cell_registry_list_find(list, args.values[OPT_CELL]);
        if (!only) {
            return error_new(ERROR_NOT_FOUND, "Cell '%s' not found",
                             args.values[OPT_CELL]);
        }
    }
    for (size_t i = 0; i < list->n_cells; i++) {
        const struct cell_registry_cell *cell = list->cells[i];
        const struct cell_status *st = cell_status_find(status, cell->path);
        const struct cell_capacity *cap = st ? st->capacity : NULL;

        if ((only && !cell_path_in_subtree(only->path, cell->path))
            || (!only && !cell->parent_path)) {
            continue;
        }
        if (args.json) {
            json_object_array_add(doc, manage_cell_capacity_json(cell, st));
            continue;
        }
        char *row[] = {
            xstrdup(cell->path),
            xstrdup(st && st->health ? st->health : MANAGE_CELL_NONE),
            cell_status_free_ram_text(st),
            cap ? xasprintf("%lld", (long long) cap->free.disk_gb)
            : xstrdup(MANAGE_CELL_NONE),
            cell_status_free_vcpus_text(st),
            cap ? xasprintf("%lld", (long long) cap->total.ram_mb)
            : xstrdup(MANAGE_CELL_NONE),
            cap ? xasprintf("%lld", (long long) cap->total.disk_gb)
            : xstrdup(MANAGE_CELL_NONE),
            cap ? xasprintf("%lld", (long long) cap->total.vcpus)
            : xstrdup(MANAGE_CELL_NONE),
            cap ? xasprintf("%lld", (long long) cap->n_instances)
            : xstrdup(MANAGE_CELL_NONE),
            cap ? manage_cell_units_text(cap) : xstrdup(MANAGE_CELL_NONE),
        };

        manage_cell_table_add(&table, row);
    }
    if (args.json) {
        manage_cell_print_json(out, doc);
        return NULL;
    }
    manage_cell_table_print(out, &table);
    manage_cell_table_destroy(&table);
    return NULL;
}

struct error *
manage_cell_show(const char *api_db_url, FILE *out, int argc, char *argv[])
{
    static const char *const headers[] = { "Field", "Value" };
    CLEANUP(cell_registry_list_freep) struct cell_registry_list *list = NULL;
    CLEANUP(json_putp) struct json_object *children = NULL;
    struct manage_cell_table table = {
        .headers = headers,
        .n_columns = ARRAY_SIZE(headers),
    };
    const struct cell_registry_cell *cell;
    struct manage_cell_args args;
    struct error *error;

    error = manage_cell_parse("show", argc, argv, OPT_BIT(OPT_FORMAT),
                              "cell NAME", &args);
    if (!error) {
        error = manage_cell_read_all(api_db_url, &list);
    }
    if (error) {
        return error;
    }
    cell = cell_registry_list_find(list, args.name);
    if (!cell) {
        return error_new(ERROR_NOT_FOUND, "Cell '%s' not found", args.name);
    }
    children = json_object_new_array();
    for (size_t i = 0; i < list->n_cells; i++) {
        const char *parent = list->cells[i]->parent_path;

        if (parent && !strcmp(parent, cell->path)) {
            json_object_array_add(children, json_object_new_string(
                                      list->cells[i]->name));
        }
    }

    if (args.json) {
        CLEANUP(json_putp) struct json_object *doc
            = cell_registry_cell_to_json(cell);

        json_object_object_add(doc, "children", json_object_get(children));
        manage_cell_print_json(out, doc);
        return NULL;
    }

    char *database = cell_registry_redact_database_url(cell->database);
    struct {
        const char *field;
        char *value;
    } rows[] = {
        { "name", xstrdup(cell->name) },
        { "path", xstrdup(cell->path) },
        { "uuid", xstrdup(cell->uuid) },
        { "parent", xstrdup(cell->parent_path ? cell->parent_path
                            : MANAGE_CELL_NONE) },
        { "children", manage_cell_join_array(children) },
        { "hosts", manage_cell_bool_text(cell->hosts) },
        { "disabled", manage_cell_bool_text(cell->disabled) },
        { "transport_url",
          cell_registry_redact_transport_url(cell->transport_url) },
        { "database", database ? database : xstrdup(MANAGE_CELL_NONE) },
        { "weight_offset", manage_cell_number_text(cell->weight_offset) },
        { "weight_scale", manage_cell_number_text(cell->weight_scale) },
        { "availability_zones",
          manage_cell_join_array(cell->availability_zones) },
        { "capabilities",
          manage_cell_join_capabilities(cell->capabilities) },
        { "created_at", xstrdup(cell->created_at ? cell->created_at
                                : MANAGE_CELL_NONE) },
        { "updated_at", xstrdup(cell->updated_at ? cell->updated_at
                                : MANAGE_CELL_NONE) },
    };

    for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
        char *row[] = { xstrdup(rows[i].field), rows[i].value };

        manage_cell_table_add(&table, row);
    }
    manage_cell_table_print(out, &table);
    manage_cell_table_destroy(&table);
    return NULL;
}

struct error *
manage_cell_tree(const char *api_db_url, FILE *out, int argc, char *argv[])
{
    CLEANUP(cell_registry_list_freep) struct cell_registry_list *list = NULL;
    struct manage_cell_node *nodes;
    struct manage_cell_args args;
    struct error *error;

    error = manage_cell_parse("tree", argc, argv, OPT_BIT(OPT_FORMAT), NULL,
                              &args);
    if (!error) {
        error = manage_cell_read_all(api_db_url, &list);
    }
    if (error) {
        return error;
    }
    nodes = manage_cell_nodes_from_list(list);
    if (args.json) {
        CLEANUP(json_putp) struct json_object *doc
            = manage_cell_tree_json(nodes, list->n_cells);

        manage_cell_print_json(out, doc);
    } else if (!list->n_cells) {
        fprintf(out, "No cells in the API database; load a topology with "
                "'nova-manage cell load FILE'\n");
    } else {
        manage_cell_tree_print(out, nodes, list->n_cells);
    }
    manage_cell_nodes_free(nodes, list->n_cells);
    return NULL;
}

/* ---- create, update -------------------------------------------------- */

/* The parts of a spec built from the command line, owned here. */
struct manage_cell_spec {
    struct cell_registry_spec spec;
    struct json_object *zones;
    struct json_object *capabilities;
};

static void
manage_cell_spec_destroy(struct manage_cell_spec *s)
{
    json_object_put(s->zones);
    json_object_put(s->capabilities);
}

/* Splits 'text' at commas into a new JSON array of strings ("" gives the
 * empty array; empty items stay, for the registry to refuse). */
static struct json_object *
manage_cell_split(const char *text)
{
    struct json_object *array = json_object_new_array();

    if (!*text) {
        return array;
    }
    for (const char *p = text; ; ) {
        const char *comma = strchr(p, ',');
        size_t length = comma ? (size_t) (comma - p) : strlen(p);

        json_object_array_add(array, json_object_new_string_len(
                                  p, (int) length));
        if (!comma) {
            break;
        }
        p = comma + 1;
    }
    return array;
}

/* Applies "--capability NAME=VALUE[,VALUE...]" to 'caps'; an empty VALUE
 * removes NAME when 'allow_remove'. */
static struct error *
manage_cell_apply_capability(struct json_object *caps, const char *arg,
                             bool allow_remove)
{
    const char *equals = strchr(arg, '=');
    AUTOFREE char *name = NULL;
    struct json_object *values;

    if (!equals || equals == arg) {
        return manage_cell_usage("option '--capability' needs NAME=VALUE, "
                                 "got '%s'", arg);
    }
    name = xstrndup(arg, (size_t) (equals - arg));
    if (!equals[1]) {
        if (!allow_remove) {
            return manage_cell_usage("option '--capability %s' has no "
                                     "value", arg);
        }
        json_object_object_del(caps, name);
        return NULL;
    }
    values = manage_cell_split(equals + 1);
    if (json_object_array_length(values) == 1) {
        struct json_object *single = json_object_get(
            json_object_array_get_idx(values, 0));

        json_object_put(values);
        values = single;
    }
    json_object_object_add(caps, name, values);
    return NULL;
}

/* Builds the spec of 'args'; 'current' is the cell's current
 * capabilities for update (NULL for create). */
static struct error *
manage_cell_build_spec(const struct manage_cell_args *args,
                       const struct json_object *current,
                       struct manage_cell_spec *s)
{
    struct cell_registry_spec *spec = &s->spec;
    struct error *error;

    memset(s, 0, sizeof *s);
    if (args->given[OPT_TRANSPORT_URL]) {
        spec->fields |= CELL_REGISTRY_TRANSPORT_URL;
        spec->transport_url = args->values[OPT_TRANSPORT_URL];
    }
    if (args->given[OPT_DATABASE]) {
        spec->fields |= CELL_REGISTRY_DATABASE;
        spec->database = args->values[OPT_DATABASE];
    }
    if (args->given[OPT_HOSTS] || args->given[OPT_NO_HOSTS]) {
        spec->fields |= CELL_REGISTRY_HOSTS;
        spec->hosts = args->given[OPT_HOSTS];
    }
    if (args->given[OPT_DISABLED]) {
        spec->fields |= CELL_REGISTRY_DISABLED;
        spec->disabled = true;
    }
    if (args->given[OPT_WEIGHT_OFFSET]) {
        spec->fields |= CELL_REGISTRY_WEIGHT_OFFSET;
        error = topology_parse_number("--weight-offset",
                                      args->values[OPT_WEIGHT_OFFSET],
                                      &spec->weight_offset);
        if (error) {
            manage_cell_last_usage_error = error;
            return error;
        }
    }
    if (args->given[OPT_WEIGHT_SCALE]) {
        spec->fields |= CELL_REGISTRY_WEIGHT_SCALE;
        error = topology_parse_number("--weight-scale",
                                      args->values[OPT_WEIGHT_SCALE],
                                      &spec->weight_scale);
        if (error) {
            manage_cell_last_usage_error = error;
            return error;
        }
    }
    if (args->given[OPT_ZONES]) {
        spec->fields |= CELL_REGISTRY_AVAILABILITY_ZONES;
        s->zones = manage_cell_split(args->values[OPT_ZONES]);
        spec->availability_zones = s->zones;
    }
    if (args->n_capabilities) {
        struct json_object *caps = NULL;

        if (current && json_object_deep_copy(
                (struct json_object *) current, &caps, NULL)) {
            abort();            /* only fails when out of memory */
        }
        s->capabilities = caps ? caps : json_object_new_object();
        spec->fields |= CELL_REGISTRY_CAPABILITIES;
        spec->capabilities = s->capabilities;
        for (size_t i = 0; i < args->n_capabilities; i++) {
            error = manage_cell_apply_capability(
                s->capabilities, args->capabilities[i], current != NULL);
            if (error) {
                return error;
            }
        }
    }
    return NULL;
}

struct error *
manage_cell_create(const char *api_db_url, FILE *out, int argc,
                   char *argv[])
{
    CLEANUP(db_closep) struct db *db = NULL;
    CLEANUP(cell_registry_cell_freep) struct cell_registry_cell *cell = NULL;
    struct manage_cell_spec s = { .zones = NULL };
    struct manage_cell_args args;
    struct error *error;

    error = manage_cell_parse("create", argc, argv,
                              OPT_CELL_FIELDS | OPT_BIT(OPT_PARENT)
                              | OPT_BIT(OPT_DISABLED), "cell NAME", &args);
    if (!error && !args.given[OPT_TRANSPORT_URL]) {
        error = manage_cell_usage("'%s create' needs --transport-url URL",
                                  MANAGE_CELL_CATEGORY);
    }
    if (!error) {
        error = manage_cell_build_spec(&args, NULL, &s);
    }
    if (!error) {
        error = manage_cell_open(api_db_url, &db);
    }
    if (!error) {
        error = cell_registry_create(db, args.name, args.values[OPT_PARENT],
                                     &s.spec, &cell);
    }
    manage_cell_spec_destroy(&s);
    if (error) {
        return error;
    }
    fprintf(out, "Created cell '%s'\n", cell->path);
    return NULL;
}

struct error *
manage_cell_update(const char *api_db_url, FILE *out, int argc,
                   char *argv[])
{
    CLEANUP(db_closep) struct db *db = NULL;
    CLEANUP(cell_registry_cell_freep) struct cell_registry_cell *cell = NULL;
    struct manage_cell_spec s = { .zones = NULL };
    struct manage_cell_args args;
    unsigned int changed = 0;
    struct error *error;
    bool any = false;

    error = manage_cell_parse("update", argc, argv, OPT_CELL_FIELDS,
                              "cell NAME", &args);
    if (error) {
        return error;
    }
    for (size_t opt = 0; opt < MANAGE_CELL_N_OPTS; opt++) {
        any = any || args.given[opt];
    }
    if (!any) {
        return manage_cell_usage("'%s update' needs at least one option "
                                 "saying what to change",
                                 MANAGE_CELL_CATEGORY);
    }
    /* Capabilities are edited one name at a time, so start from the
     * current set. */
    error = manage_cell_open(api_db_url, &db);
    if (!error) {
        error = cell_registry_get(db, args.name, &cell);
    }
    if (!error) {
        error = manage_cell_build_spec(&args, cell->capabilities, &s);
    }
    if (!error) {
        error = cell_registry_update(db, cell->path, &s.spec, &changed);
    }
    manage_cell_spec_destroy(&s);
    if (error) {
        return error;
    }
    if (changed) {
        AUTOFREE char *fields = cell_registry_fields_to_string(changed);

        fprintf(out, "Updated cell '%s': %s\n", cell->path, fields);
    } else {
        fprintf(out, "Cell '%s' is unchanged\n", cell->path);
    }
    return NULL;
}

/* ---- delete, disable, enable ----------------------------------------- */

struct error *
manage_cell_delete(const char *api_db_url, FILE *out, int argc,
                   char *argv[])
{
    CLEANUP(db_closep) struct db *db = NULL;
    CLEANUP(cell_registry_cell_freep) struct cell_registry_cell *cell = NULL;
    struct manage_cell_args args;
    struct error *error;

    error = manage_cell_parse("delete", argc, argv, 0, "cell NAME", &args);
    if (!error) {
        error = manage_cell_open(api_db_url, &db);
    }
    if (!error) {
        error = cell_registry_get(db, args.name, &cell);
    }
    if (!error) {
        error = cell_registry_delete(db, cell->path);
    }
    if (error) {
        return error;
    }
    fprintf(out, "Deleted cell '%s'\n", cell->path);
    return NULL;
}

static struct error *
manage_cell_set_disabled(const char *verb, bool disabled,
                         const char *api_db_url, FILE *out, int argc,
                         char *argv[])
{
    CLEANUP(db_closep) struct db *db = NULL;
    CLEANUP(cell_registry_cell_freep) struct cell_registry_cell *cell = NULL;
    struct manage_cell_args args;
    bool changed = false;
    struct error *error;

    error = manage_cell_parse(verb, argc, argv, 0, "cell NAME", &args);
    if (!error) {
        error = manage_cell_open(api_db_url, &db);
    }
    if (!error) {
        error = cell_registry_get(db, args.name, &cell);
    }
    if (!error) {
        error = cell_registry_set_disabled(db, cell->path, disabled,
                                           &changed);
    }
    if (error) {
        return error;
    }
    if (changed) {
        fprintf(out, "%s cell '%s'\n", disabled ? "Disabled" : "Enabled",
                cell->path);
    } else {
        fprintf(out, "Cell '%s' was already %s\n", cell->path,
                disabled ? "disabled" : "enabled");
    }
    return NULL;
}

struct error *
manage_cell_disable(const char *api_db_url, FILE *out, int argc,
                    char *argv[])
{
    return manage_cell_set_disabled("disable", true, api_db_url, out, argc,
                                    argv);
}

struct error *
manage_cell_enable(const char *api_db_url, FILE *out, int argc,
                   char *argv[])
{
    return manage_cell_set_disabled("enable", false, api_db_url, out, argc,
                                    argv);
}

/* ---- The command table ----------------------------------------------- */

#define MANAGE_CELL_FIELD_OPTIONS                                       \
    "[--database URL] [--hosts|--no-hosts] [--weight-offset W] "        \
    "[--weight-scale S] [--availability-zones Z,...] "                  \
    "[--capability NAME=VALUE[,VALUE...]]..."

const struct manage_cell_command manage_cell_commands[] = {
    { MANAGE_CELL_CATEGORY, "check", "FILE", 1, 1, manage_cell_check,
      "check a topology file (cells.yaml) and print its tree" },
    { MANAGE_CELL_CATEGORY, "load", "FILE [--prune]", 1, 2,
      manage_cell_load,
      "make the API database's cells match a topology file" },
    { MANAGE_CELL_CATEGORY, "list", "[--format text|json]", 0, 2,
      manage_cell_list, "list the cells" },
    { MANAGE_CELL_CATEGORY, "show", "NAME [--format text|json]", 1, 3,
      manage_cell_show, "show every setting of one cell" },
    { MANAGE_CELL_CATEGORY, "tree", "[--format text|json]", 0, 2,
      manage_cell_tree, "draw the cell tree" },
    { MANAGE_CELL_CATEGORY, "create",
      "NAME [--parent PARENT] --transport-url URL "
      MANAGE_CELL_FIELD_OPTIONS " [--disabled]", 1, MANAGE_CELL_MAX_ARGS,
      manage_cell_create, "add a cell (the root when without --parent)" },
    { MANAGE_CELL_CATEGORY, "update",
      "NAME [--transport-url URL] " MANAGE_CELL_FIELD_OPTIONS, 1,
      MANAGE_CELL_MAX_ARGS, manage_cell_update,
      "change the settings of a cell" },
    { MANAGE_CELL_CATEGORY, "delete", "NAME", 1, 1, manage_cell_delete,
      "delete a cell that holds no instances, hosts or child cells" },
    { MANAGE_CELL_CATEGORY, "disable", "NAME", 1, 1, manage_cell_disable,
      "stop scheduling new instances to a cell" },
    { MANAGE_CELL_CATEGORY, "enable", "NAME", 1, 1, manage_cell_enable,
      "schedule new instances to a cell again" },
};

const size_t manage_cell_n_commands = ARRAY_SIZE(manage_cell_commands);
