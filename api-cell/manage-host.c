/* manage-host.c: "nova-manage cell discover_hosts" and "host list" (see
 * manage-host.h).
 *
 * host_mappings is written here only by discover_hosts, one INSERT per
 * new host: a host mapped meanwhile by a concurrent run hits the unique
 * key and counts as already mapped. */
#include <config.h>
#include "api-cell/manage-host.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "api-cell/cell-registry.h"
#include "api-cell/manage-cell.h"
#include "cells-rpc/cell-path.h"
#include "child-cell/cell-db-service.h"
#include "shared/cleanup.h"
#include "shared/db.h"
#include "shared/error.h"
#include "shared/json-util.h"
#include "shared/xalloc.h"

/* The options of these commands. */
struct manage_host_args {
    const char *cell;           /* --cell, or NULL */
    bool json;                  /* --format json */
};

static struct error *
manage_host_parse(const char *what, int argc, char *argv[],
                  struct manage_host_args *args)
{
    memset(args, 0, sizeof *args);
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        const char *value;
        bool cell;

        if (!strncmp(arg, "--cell", 6) && (!arg[6] || arg[6] == '=')) {
            cell = true;
            value = arg[6] ? arg + 7 : NULL;
        } else if (!strncmp(arg, "--format", 8)
                   && (!arg[8] || arg[8] == '=')) {
            cell = false;
            value = arg[8] ? arg + 9 : NULL;
        } else {
            return manage_cell_usage("unknown argument '%s' for '%s'", arg,
                                     what);
        }
        if (!value) {
            if (i + 1 >= argc) {
                return manage_cell_usage("option '%s' needs a value", arg);
            }
            value = argv[++i];
        }
        if (cell) {
            args->cell = value;
        } else if (!strcmp(value, "json")) {
            args->json = true;
        } else if (strcmp(value, "text")) {
            return manage_cell_usage("unknown format '%s': use 'text' or "
                                     "'json'", value);
        }
    }
    return NULL;
}

/* Stores in '*ret_path' (borrowed from 'list') the path of the cell
 * 'name', or NULL for no --cell. */
static struct error *
manage_host_resolve(const struct cell_registry_list *list, const char *name,
                    const char **ret_path)
{
    const struct cell_registry_cell *cell;

    *ret_path = NULL;
    if (!name) {
        return NULL;
    }
    cell = cell_registry_list_find(list, name);
    if (!cell) {
        return error_new(ERROR_NOT_FOUND, "Cell '%s' not found", name);
    }
    *ret_path = cell->path;
    return NULL;
}

struct error *
manage_host_list(const char *api_db_url, FILE *out, int argc, char *argv[])
{
    static const char *const headers[] = { "Host", "Cell" };
    CLEANUP(db_closep) struct db *db = NULL;
    CLEANUP(cell_registry_list_freep) struct cell_registry_list *list = NULL;
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    CLEANUP(json_putp) struct json_object *doc = json_object_new_array();
    struct manage_cell_table table = {
        .headers = headers,
        .n_columns = ARRAY_SIZE(headers),
    };
    struct manage_host_args args;
    const char *under = NULL;
    struct error *error;

    error = manage_host_parse("host list", argc, argv, &args);
    if (!error) {
        error = manage_cell_open(api_db_url, &db);
    }
    if (!error) {
        error = cell_registry_list(db, &list);
    }
    if (!error) {
        error = manage_host_resolve(list, args.cell, &under);
    }
    if (!error) {
        error = db_query(db, "SELECT host, cell_path FROM host_mappings "
                         "ORDER BY cell_path, host", DB_NO_PARAMS, &rows);
    }
    if (error) {
        return error;
    }
    for (size_t r = 0; r < db_rows_count(rows); r++) {
        const char *host = db_rows_get_str(rows, r, 0);
        const char *path = db_rows_get_str(rows, r, 1);

        if (under && !cell_path_in_subtree(under, path)) {
            continue;
        }
        if (args.json) {
            struct json_object *o = json_object_new_object();

            json_object_object_add(o, "host", json_object_new_string(host));
            json_object_object_add(o, "cell_path",
                                   json_object_new_string(path));
            json_object_array_add(doc, o);
        } else {
            char *row[] = { xstrdup(host), xstrdup(path) };

            manage_cell_table_add(&table, row);
        }
    }
    if (args.json) {
        manage_cell_print_json(out, doc);
    } else {
        manage_cell_table_print(out, &table);
        manage_cell_table_destroy(&table);
    }
    return NULL;
}

/* What discover_hosts did. */
struct manage_host_result {
    struct json_object *mapped;         /* [{"host", "cell_path"}] */
    struct json_object *conflicts;      /* [{"host", "cell_path",
                                         *   "mapped_to"}] */
    struct json_object *failed;         /* [{"cell_path", "error"}] */
    size_t n_known;                     /* already mapped to their cell */
};

static struct json_object *
manage_host_pair(const char *host, const char *path)
{
    struct json_object *o = json_object_new_object();

    json_object_object_add(o, "host", json_object_new_string(host));
    json_object_object_add(o, "cell_path", json_object_new_string(path));
    return o;
}

/* Maps 'host' of cell 'path' unless it is mapped. */
static struct error *
manage_host_map(struct db *db, const char *host, const char *path,
                FILE *out, bool json, struct manage_host_result *result)
{
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    struct error *error;
    const char *mapped_to;

    error = db_query(db, "SELECT cell_path FROM host_mappings "
                     "WHERE host = ?", DB_PARAMS(DB_STR(host)), &rows);
    if (error) {
        return error;
    }
    if (!db_rows_count(rows)) {
        error = db_exec(db, "INSERT INTO host_mappings (host, cell_path, "
                        "created_at) VALUES (?, ?, UTC_TIMESTAMP(6))",
                        DB_PARAMS(DB_STR(host), DB_STR(path)), NULL);
        if (error && error_kind(error) == ERROR_CONFLICT) {
            error_free(error);
            result->n_known++;
            return NULL;
        }
        if (error) {
            return error;
        }
        json_object_array_add(result->mapped, manage_host_pair(host, path));
        if (!json) {
            fprintf(out, "Mapped host '%s' to cell '%s'\n", host, path);
        }
        return NULL;
    }
    mapped_to = db_rows_get_str(rows, 0, 0);
    if (!strcmp(mapped_to, path)) {
        result->n_known++;
        return NULL;
    }
    struct json_object *o = manage_host_pair(host, path);

    json_object_object_add(o, "mapped_to", json_object_new_string(mapped_to));
    json_object_array_add(result->conflicts, o);
    if (!json) {
        fprintf(out, "Host '%s' of cell '%s' is already mapped to cell "
                "'%s', skipping\n", host, path, mapped_to);
    }
    return NULL;
}

/* Discovers the hosts of 'cell'.  Returns an error only for the API
 * database; a cell database that fails is recorded in 'result'. */
static struct error *
manage_host_discover_cell(struct db *db,
                          const struct cell_registry_cell *cell, FILE *out,
                          bool json, struct manage_host_result *result)
{
    CLEANUP(db_closep) struct db *cell_db = NULL;
    CLEANUP(cell_db_service_list_freep) struct cell_db_service_list *services
        = NULL;
    struct error *error;

    error = db_open(cell->database, &cell_db);
    if (!error) {
        error = cell_db_service_list(cell_db, "nova-compute",
                                     CELL_DB_SERVICE_DOWN_TIME_S,
                                     &services);
    }
    if (error) {
        struct json_object *o = json_object_new_object();

        /* db_open() names the URL without its password. */
        json_object_object_add(o, "cell_path",
                               json_object_new_string(cell->path));
        json_object_object_add(o, "error", json_object_new_string(
                                   error_message(error)));
        json_object_array_add(result->failed, o);
        if (!json) {
            fprintf(out, "Cannot read the hosts of cell '%s': %s\n",
                    cell->path, error_message(error));
        }
        error_free(error);
        return NULL;
    }
    for (size_t i = 0; i < services->n; i++) {
        error = manage_host_map(db, services->items[i].host, cell->path,
                                out, json, result);
        if (error) {
            return error;
        }
    }
    return NULL;
}

struct error *
manage_host_discover(const char *api_db_url, FILE *out, int argc,
                     char *argv[])
{
    CLEANUP(db_closep) struct db *db = NULL;
    CLEANUP(cell_registry_list_freep) struct cell_registry_list *list = NULL;
    struct manage_host_result result = {
        .mapped = json_object_new_array(),
        .conflicts = json_object_new_array(),
        .failed = json_object_new_array(),
    };
    struct manage_host_args args;
    const char *under = NULL;
    size_t n_cells = 0;
    struct error *error;

    error = manage_host_parse("cell discover_hosts", argc, argv, &args);
    if (!error) {
        error = manage_cell_open(api_db_url, &db);
    }
    if (!error) {
        error = cell_registry_list(db, &list);
    }
    if (!error) {
        error = manage_host_resolve(list, args.cell, &under);
    }
    for (size_t i = 0; !error && list && i < list->n_cells; i++) {
        const struct cell_registry_cell *cell = list->cells[i];

        if (!cell->hosts || !cell->database
            || (under && !cell_path_in_subtree(under, cell->path))) {
            continue;
        }
        n_cells++;
        error = manage_host_discover_cell(db, cell, out, args.json,
                                          &result);
    }
    if (!error) {
        size_t n_failed = json_object_array_length(result.failed);

        if (args.json) {
            CLEANUP(json_putp) struct json_object *doc
                = json_object_new_object();

            json_object_object_add(doc, "mapped",
                                   json_object_get(result.mapped));
            json_object_object_add(doc, "already_mapped",
                                   json_object_new_int64(
                                       (int64_t) result.n_known));
            json_object_object_add(doc, "conflicts",
                                   json_object_get(result.conflicts));
            json_object_object_add(doc, "failed_cells",
                                   json_object_get(result.failed));
            manage_cell_print_json(out, doc);
        } else {
            fprintf(out, "Discovered %zu cells: %zu hosts mapped, %zu "
                    "already mapped, %zu conflicts\n", n_cells,
                    json_object_array_length(result.mapped), result.n_known,
                    json_object_array_length(result.conflicts));
        }
        if (n_failed) {
            error = error_new(ERROR_UNAVAILABLE, "Cannot read the hosts of "
                              "%zu cells", n_failed);
        }
    }
    json_object_put(result.mapped);
    json_object_put(result.conflicts);
    json_object_put(result.failed);
    return error;
}

/* ---- The command table ----------------------------------------------- */

const struct manage_cell_command manage_host_commands[] = {
    { "cell", "capacities", "[--cell NAME] [--format text|json]", 0, 4,
      manage_cell_capacities,
      "show the latest capacity report of each cell (below NAME)" },
    { "cell", "discover_hosts", "[--cell NAME] [--format text|json]", 0, 4,
      manage_host_discover,
      "map the compute hosts of each leaf cell (below NAME)" },
    { "host", "list", "[--cell NAME] [--format text|json]", 0, 4,
      manage_host_list, "list the compute hosts mapped to cells" },
};

const size_t manage_host_n_commands = ARRAY_SIZE(manage_host_commands);
