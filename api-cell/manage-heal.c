/* manage-heal.c: "nova-manage cell heal" (see manage-heal.h). */
#include <config.h>

#include "api-cell/manage-heal.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "api-cell/cell-registry.h"
#include "cells-rpc/cells-rpcapi.h"
#include "cells-rpc/rpc-msg.h"
#include "cells-rpc/rpc.h"
#include "shared/cleanup.h"
#include "shared/db.h"
#include "shared/error.h"
#include "shared/xalloc.h"

#define MS_PER_S 1000
/* Largest --timeout, in seconds. */
#define MANAGE_HEAL_MAX_TIMEOUT_S 3600

struct manage_heal_options {
    const char *cell;
    const char *transport_url;
    long timeout_s;
    bool json;
};

/* The value of option 'name' at argv[*i]: after '=' or the next
 * argument. */
static struct error *
manage_heal_value(int argc, char *argv[], int *i, const char *name,
                  const char **ret_value)
{
    size_t len = strlen(name);
    const char *arg = argv[*i];

    if (arg[len] == '=') {
        *ret_value = arg + len + 1;
        return NULL;
    }
    if (*i + 1 >= argc) {
        return error_new(ERROR_INVALID, "Option %s needs a value", name);
    }
    *ret_value = argv[++*i];
    return NULL;
}

static bool
manage_heal_is(const char *arg, const char *name)
{
    size_t len = strlen(name);

    return !strncmp(arg, name, len) && (!arg[len] || arg[len] == '=');
}

static struct error *
manage_heal_parse(int argc, char *argv[], struct manage_heal_options *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->timeout_s = MANAGE_HEAL_DEFAULT_TIMEOUT_S;
    for (int i = 0; i < argc; i++) {
        const char *value = NULL;
        struct error *error = NULL;
        char *end;

        if (manage_heal_is(argv[i], "--cell")) {
            error = manage_heal_value(argc, argv, &i, "--cell", &opts->cell);
        } else if (manage_heal_is(argv[i], "--transport-url")) {
            error = manage_heal_value(argc, argv, &i, "--transport-url",
                                      &opts->transport_url);
        } else if (manage_heal_is(argv[i], "--timeout")) {
            error = manage_heal_value(argc, argv, &i, "--timeout", &value);
            if (!error) {
                opts->timeout_s = strtol(value, &end, 10);
                if (!*value || *end || opts->timeout_s < 1
                    || opts->timeout_s > MANAGE_HEAL_MAX_TIMEOUT_S) {
                    error = error_new(ERROR_INVALID, "--timeout must be 1 "
                                      "to %d seconds, not '%s'",
                                      MANAGE_HEAL_MAX_TIMEOUT_S, value);
                }
            }
        } else if (manage_heal_is(argv[i], "--format")) {
            error = manage_heal_value(argc, argv, &i, "--format", &value);
            if (!error && strcmp(value, "text") && strcmp(value, "json")) {
                error = error_new(ERROR_INVALID, "--format must be 'text' or "
                                  "'json', not '%s'", value);
            }
            opts->json = !error && !strcmp(value, "json");
        } else {
            error = error_new(ERROR_INVALID, "Unknown argument '%s'",
                              argv[i]);
        }
        if (error) {
            return error;
        }
    }
    return NULL;
}

/* Finds the API cell's transport URL and the path of 'opts->cell' in the
 * cell registry.  Stores copies (the caller frees) in '*ret_url' and
 * '*ret_path' (NULL without --cell). */
static struct error *
manage_heal_resolve(const char *api_db_url,
                    const struct manage_heal_options *opts, char **ret_url,
                    char **ret_path)
{
    CLEANUP(db_closep) struct db *db = NULL;
    CLEANUP(cell_registry_list_freep) struct cell_registry_list *list = NULL;
    const struct cell_registry_cell *cell;
    struct error *error;

    *ret_url = NULL;
    *ret_path = NULL;
    if (opts->transport_url && !opts->cell) {
        *ret_url = xstrdup(opts->transport_url);
        return NULL;
    }
    if (!api_db_url || !*api_db_url) {
        return error_new(ERROR_INVALID, "Set 'api_database.connection' to "
                         "find the API cell and its cells");
    }
    error = db_open(api_db_url, &db);
    if (!error) {
        error = cell_registry_list(db, &list);
    }
    if (error) {
        return error;
    }
    if (opts->cell) {
        cell = cell_registry_list_find(list, opts->cell);
        if (!cell) {
            return error_new(ERROR_NOT_FOUND, "Cell '%s' not found",
                             opts->cell);
        }
        *ret_path = xstrdup(cell->path);
    }
    if (opts->transport_url) {
        *ret_url = xstrdup(opts->transport_url);
        return NULL;
    }
    for (size_t i = 0; i < list->n_cells; i++) {
        if (!list->cells[i]->parent_path) {
            *ret_url = xstrdup(list->cells[i]->transport_url);
            return NULL;
        }
    }
    free(*ret_path);
    *ret_path = NULL;
    return error_new(ERROR_NOT_FOUND, "The API database has no API cell: "
                     "load cells.yaml first (nova-manage cell load)");
}

static void
manage_heal_print_list(FILE *out, const struct json_object *result,
                       const char *key, const char *title)
{
    struct json_object *list = NULL;
    size_t n = 0;

    if (json_object_object_get_ex(result, key, &list)
        && json_object_is_type(list, json_type_array)) {
        n = json_object_array_length(list);
    }
    fprintf(out, "%s: %zu\n", title, n);
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "  %s\n", json_object_get_string(
                    json_object_array_get_idx(list, i)));
    }
}

struct error *
manage_heal(const char *api_db_url, FILE *out, int argc, char *argv[])
{
    CLEANUP(rpc_conn_freep) struct rpc_conn *conn = NULL;
    CLEANUP(rpc_msg_freep) struct rpc_msg *msg = NULL;
    AUTOFREE char *url = NULL;
    AUTOFREE char *path = NULL;
    const struct rpc_conn_options conn_options = { .name = "nova-manage" };
    const struct rpc_target target = { CELLS_LOCAL_TOPIC, NULL };
    struct manage_heal_options opts;
    struct json_object *args;
    struct json_object *result = NULL;
    struct error *error;

    error = manage_heal_parse(argc, argv, &opts);
    if (!error) {
        error = manage_heal_resolve(api_db_url, &opts, &url, &path);
    }
    if (!error) {
        error = rpc_conn_open(url, &conn_options, &conn);
    }
    if (error) {
        return error;
    }
    args = json_object_new_object();
    json_object_object_add(args, "cell_path",
                           path ? json_object_new_string(path) : NULL);
    msg = rpc_msg_new(CELLS_HEAL, args);
    error = rpc_call(conn, &target, msg, (int) opts.timeout_s * MS_PER_S,
                     &result);
    if (error) {
        return error_wrap(error, "Heal through the API cell's nova-cells "
                          "failed");
    }
    if (opts.json) {
        fprintf(out, "%s\n", json_object_to_json_string_ext(
                    result, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED
                    | JSON_C_TO_STRING_NOSLASHESCAPE));
    } else {
        fprintf(out, "Checked: %lld\n", (long long) json_object_get_int64(
                    json_object_object_get(result, "checked")));
        manage_heal_print_list(out, result, "fixed", "Fixed");
        manage_heal_print_list(out, result, "deleted", "Deleted");
        manage_heal_print_list(out, result, "missing_cells",
                               "Cells that did not answer");
    }
    json_object_put(result);
    return NULL;
}
