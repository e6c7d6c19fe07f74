/* manage-service.c: "nova-manage service ..." through the tree of cells
 * (see manage-service.h). */
#include <config.h>

#include "api-cell/manage-service.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "api-cell/cell-registry.h"
#include "api-cell/manage-cell.h"
#include "cells-rpc/cells-rpcapi.h"
#include "cells-rpc/rpc-msg.h"
#include "cells-rpc/rpc.h"
#include "shared/cleanup.h"
#include "shared/db.h"
#include "shared/error.h"
#include "shared/json-util.h"
#include "shared/xalloc.h"

#define MS_PER_S 1000

/* The arguments of one command. */
struct manage_service_args {
    const char *host;           /* HOST, or --host for list */
    const char *binary;         /* BINARY, or --binary for list */
    const char *cell;           /* --cell */
    const char *reason;         /* --reason */
    bool unset;                 /* --unset */
    bool json;                  /* --format json */
};

/* Which options a command takes. */
enum {
    MSO_FILTERS = 1 << 0,       /* --host, --binary, --format (list) */
    MSO_REASON = 1 << 1,
    MSO_UNSET = 1 << 2,
    MSO_POSITIONAL = 1 << 3,    /* HOST BINARY */
};

/* True if 'arg' is option 'name', alone or as "name=value". */
static bool
manage_service_is(const char *arg, const char *name)
{
    size_t len = strlen(name);

    return !strncmp(arg, name, len) && (!arg[len] || arg[len] == '=');
}

static struct error *
manage_service_parse(const char *what, unsigned int allowed, int argc,
                     char *argv[], struct manage_service_args *args)
{
    static const struct {
        const char *name;
        unsigned int needs;     /* 0: every command takes it */
    } valued[] = {
        { "--cell", 0 },
        { "--host", MSO_FILTERS },
        { "--binary", MSO_FILTERS },
        { "--reason", MSO_REASON },
        { "--format", MSO_FILTERS },
    };
    /* Where each value goes, in the order of 'valued'; NULL: --format. */
    const char **targets[ARRAY_SIZE(valued)] = {
        &args->cell, &args->host, &args->binary, &args->reason, NULL,
    };
    const char *positional[2];
    size_t n_positional = 0;

    memset(args, 0, sizeof *args);
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        const char *value = NULL;
        size_t k;

        if ((allowed & MSO_UNSET) && !strcmp(arg, "--unset")) {
            args->unset = true;
            continue;
        }
        for (k = 0; k < ARRAY_SIZE(valued); k++) {
            if (manage_service_is(arg, valued[k].name)
                && (!valued[k].needs || (allowed & valued[k].needs))) {
                break;
            }
        }
        if (k == ARRAY_SIZE(valued)) {
            if (arg[0] == '-' || !(allowed & MSO_POSITIONAL)
                || n_positional == ARRAY_SIZE(positional)) {
                return manage_cell_usage("unknown argument '%s' for '%s'",
                                         arg, what);
            }
            positional[n_positional++] = arg;
            continue;
        }
        value = strchr(arg, '=');
        if (value) {
            value++;
        } else if (i + 1 >= argc) {
            return manage_cell_usage("option '%s' needs a value", arg);
        } else {
            value = argv[++i];
        }
        if (!targets[k]) {
            if (!strcmp(value, "json")) {
                args->json = true;
            } else if (strcmp(value, "text")) {
                return manage_cell_usage("unknown format '%s': use 'text' "
                                         "or 'json'", value);
            }
            continue;
        }
        *targets[k] = value;
    }
    if (allowed & MSO_POSITIONAL) {
        if (n_positional != 2) {
            return manage_cell_usage("'%s' needs HOST BINARY", what);
        }
        args->host = positional[0];
        args->binary = positional[1];
    }
    return NULL;
}

/* Finds the API cell's transport URL and the path of cell 'name' (NULL:
 * none) in the cell registry; stores copies in '*ret_url' and
 * '*ret_path'. */
static struct error *
manage_service_resolve(const char *api_db_url, const char *name,
                       char **ret_url, char **ret_path)
{
    CLEANUP(db_closep) struct db *db = NULL;
    CLEANUP(cell_registry_list_freep) struct cell_registry_list *list = NULL;
    const struct cell_registry_cell *cell;
    struct error *error;

    *ret_url = NULL;
    *ret_path = NULL;
    error = manage_cell_open(api_db_url, &db);
    if (!error) {
        error = cell_registry_list(db, &list);
    }
    if (error) {
        return error;
    }
    if (name) {
        cell = cell_registry_list_find(list, name);
        if (!cell) {
            return error_new(ERROR_NOT_FOUND, "Cell '%s' not found", name);
        }
        *ret_path = xstrdup(cell->path);
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

/* Calls 'method' with 'args' (taken) on the API cell's nova-cells at
 * 'url'; stores its answer (caller owns it) in '*ret_result'. */
static struct error *
manage_service_call(const char *url, const char *method,
                    struct json_object *args,
                    struct json_object **ret_result)
{
    CLEANUP(rpc_conn_freep) struct rpc_conn *conn = NULL;
    CLEANUP(rpc_msg_freep) struct rpc_msg *msg = rpc_msg_new(method, args);
    const struct rpc_conn_options conn_options = { .name = "nova-manage" };
    const struct rpc_target target = { CELLS_LOCAL_TOPIC, NULL };
    struct error *error;

    msg->ctx.is_admin = true;
    error = rpc_conn_open(url, &conn_options, &conn);
    if (!error) {
        error = rpc_call(conn, &target, msg,
                         MANAGE_SERVICE_TIMEOUT_S * MS_PER_S, ret_result);
    }
    if (error) {
        return error_wrap(error, "The API cell's nova-cells did not "
                          "answer '%s'", method);
    }
    return NULL;
}

/* Asks for the services of the subtree 'path' (NULL: all), with the
 * filters 'host' and 'binary' (NULL: any). */
static struct error *
manage_service_fetch(const char *url, const char *path, const char *host,
                     const char *binary, struct json_object **ret_result)
{
    struct json_object *args = json_object_new_object();
    struct json_object *result = NULL;
    struct json_object *list = NULL;
    struct error *error;

    json_object_object_add(args, "cell_path",
                           path ? json_object_new_string(path) : NULL);
    json_object_object_add(args, "binary",
                           binary ? json_object_new_string(binary) : NULL);
    json_object_object_add(args, "host",
                           host ? json_object_new_string(host) : NULL);
    error = manage_service_call(url, CELLS_SERVICE_LIST, args, &result);
    if (!error && (!json_object_object_get_ex(result, "services", &list)
                   || !json_object_is_type(list, json_type_array))) {
        error = error_new(ERROR_INTERNAL, "service_list answered without "
                          "a list of services");
    }
    if (error) {
        json_object_put(result);
        return error;
    }
    *ret_result = result;
    return NULL;
}

/* The text of member 'key' of 'o', or "" ('yes'/'no' for booleans). */
static char *
manage_service_text(const struct json_object *o, const char *key,
                    const char *yes, const char *no)
{
    struct json_object *v = NULL;

    if (!json_object_object_get_ex(o, key, &v) || !v) {
        return xstrdup("");
    }
    if (json_object_is_type(v, json_type_boolean)) {
        return xstrdup(json_object_get_boolean(v) ? yes : no);
    }
    return xstrdup(json_object_get_string(v));
}

/* Names the cells of 'result' that did not answer on stderr; returns the
 * error that makes the command fail, or NULL if all answered. */
static struct error *
manage_service_missing(const struct json_object *result)
{
    struct json_object *missing = NULL;
    size_t n;

    if (!json_object_object_get_ex(result, "missing", &missing)
        || !json_object_is_type(missing, json_type_array)
        || !(n = json_object_array_length(missing))) {
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        fprintf(stderr, "Cell '%s' did not answer\n", json_object_get_string(
                    json_object_array_get_idx(missing, i)));
    }
    return error_new(ERROR_UNAVAILABLE, "%zu cells did not answer; the "
                     "list is partial", n);
}

struct error *
manage_service_tree_list(const char *api_db_url, FILE *out, int argc,
                         char *argv[])
{
    static const char *const headers[] = {
        "Cell", "Id", "Binary", "Host", "Zone", "Status", "State",
        "Updated At", "Disabled Reason", "Forced down",
    };
    struct manage_cell_table table = {
        .headers = headers,
        .n_columns = ARRAY_SIZE(headers),
    };
    CLEANUP(json_putp) struct json_object *result = NULL;
    AUTOFREE char *url = NULL;
    AUTOFREE char *path = NULL;
    struct manage_service_args args;
    struct json_object *list;
    struct error *error;

    error = manage_service_parse("service list", MSO_FILTERS, argc, argv,
                                 &args);
    if (!error) {
        error = manage_service_resolve(api_db_url, args.cell, &url, &path);
    }
    if (!error) {
        error = manage_service_fetch(url, path, args.host, args.binary,
                                     &result);
    }
    if (error) {
        return error;
    }
    if (args.json) {
        manage_cell_print_json(out, result);
        return manage_service_missing(result);
    }
    list = json_object_object_get(result, "services");
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        const struct json_object *s = json_object_array_get_idx(list, i);
        char *row[] = {
            manage_service_text(s, "cell_path", "", ""),
            manage_service_text(s, "id", "", ""),
            manage_service_text(s, "binary", "", ""),
            manage_service_text(s, "host", "", ""),
            manage_service_text(s, "zone", "", ""),
            manage_service_text(s, "disabled", "disabled", "enabled"),
            manage_service_text(s, "up", "up", "down"),
            manage_service_text(s, "updated_at", "", ""),
            manage_service_text(s, "disabled_reason", "", ""),
            manage_service_text(s, "forced_down", "True", "False"),
        };

        manage_cell_table_add(&table, row);
    }
    manage_cell_table_print(out, &table);
    manage_cell_table_destroy(&table);
    return manage_service_missing(result);
}

/* Finds the one cell holding service 'binary' on 'host' below 'path'
 * (NULL: the whole tree); stores a copy of its path in '*ret_cell'. */
static struct error *
manage_service_locate(const char *url, const char *path, const char *host,
                      const char *binary, char **ret_cell)
{
    CLEANUP(json_putp) struct json_object *result = NULL;
    AUTOFREE char *found = NULL;
    struct json_object *list;
    struct error *error;
    size_t n_found = 0;

    error = manage_service_fetch(url, path, host, binary, &result);
    if (error) {
        return error;
    }
    list = json_object_object_get(result, "services");
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        const struct json_object *s = json_object_array_get_idx(list, i);
        AUTOFREE char *h = manage_service_text(s, "host", "", "");
        AUTOFREE char *b = manage_service_text(s, "binary", "", "");
        char *cell;

        if (strcmp(h, host) || strcmp(b, binary)) {
            continue;
        }
        cell = manage_service_text(s, "cell_path", "", "");
        if (found && !strcmp(found, cell)) {
            free(cell);
            continue;
        }
        if (found) {
            AUTOFREE char *other = cell;

            return error_new(ERROR_CONFLICT, "Service '%s' on host '%s' is "
                             "in several cells ('%s', '%s'): name one with "
                             "--cell", binary, host, found, other);
        }
        found = cell;
        n_found++;
    }
    if (!n_found) {
        error = manage_service_missing(result);
        if (error) {
            return error_wrap(error, "Service '%s' on host '%s' not found",
                              binary, host);
        }
        return error_new(ERROR_NOT_FOUND, "Service '%s' on host '%s' not "
                         "found%s%s", binary, host, path ? " below " : "",
                         path ? path : "");
    }
    *ret_cell = TAKE_PTR(found);
    return NULL;
}

/* disable, enable and force-down: sends 'changes' (taken) for the
 * service named by 'args'. */
static struct error *
manage_service_update(const char *api_db_url, FILE *out,
                      const struct manage_service_args *args,
                      struct json_object *changes, const char *done)
{
    CLEANUP(json_putp) struct json_object *owned = changes;
    CLEANUP(json_putp) struct json_object *result = NULL;
    AUTOFREE char *url = NULL;
    AUTOFREE char *path = NULL;
    AUTOFREE char *cell = NULL;
    struct error *error;

    error = manage_service_resolve(api_db_url, args->cell, &url, &path);
    if (!error) {
        error = manage_service_locate(url, path, args->host, args->binary,
                                      &cell);
    }
    if (error) {
        return error;
    }
    json_object_object_add(changes, "cell_path",
                           json_object_new_string(cell));
    json_object_object_add(changes, "host",
                           json_object_new_string(args->host));
    json_object_object_add(changes, "binary",
                           json_object_new_string(args->binary));
    error = manage_service_call(url, CELLS_SERVICE_UPDATE,
                                TAKE_PTR(owned), &result);
    if (error) {
        return error;
    }
    fprintf(out, "%s %s on host '%s' in cell '%s'\n", done, args->binary,
            args->host, cell);
    return NULL;
}

static struct error *
manage_service_set_disabled(const char *api_db_url, FILE *out, int argc,
                            char *argv[], bool disabled)
{
    struct manage_service_args args;
    struct json_object *changes;
    struct error *error;

    error = manage_service_parse(disabled ? "service disable"
                                          : "service enable",
                                 MSO_POSITIONAL
                                 | (disabled ? MSO_REASON : 0u),
                                 argc, argv, &args);
    if (error) {
        return error;
    }
    changes = json_object_new_object();
    json_object_object_add(changes, "disabled",
                           json_object_new_boolean(disabled));
    json_object_object_add(changes, "disabled_reason",
                           disabled && args.reason
                           ? json_object_new_string(args.reason) : NULL);
    return manage_service_update(api_db_url, out, &args, changes,
                                 disabled ? "Disabled" : "Enabled");
}

struct error *
manage_service_tree_disable(const char *api_db_url, FILE *out, int argc,
                            char *argv[])
{
    return manage_service_set_disabled(api_db_url, out, argc, argv, true);
}

struct error *
manage_service_tree_enable(const char *api_db_url, FILE *out, int argc,
                           char *argv[])
{
    return manage_service_set_disabled(api_db_url, out, argc, argv, false);
}

struct error *
manage_service_tree_force_down(const char *api_db_url, FILE *out, int argc,
                               char *argv[])
{
    struct manage_service_args args;
    struct json_object *changes;
    struct error *error;

    error = manage_service_parse("service force-down",
                                 MSO_POSITIONAL | MSO_UNSET, argc, argv,
                                 &args);
    if (error) {
        return error;
    }
    changes = json_object_new_object();
    json_object_object_add(changes, "forced_down",
                           json_object_new_boolean(!args.unset));
    return manage_service_update(api_db_url, out, &args, changes,
                                 args.unset ? "Unset forced down of"
                                            : "Forced down");
}
