/* services-api.c: /v2.1/os-services (see services-api.h). */
#include <config.h>

#include "api-cell/services-api.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "api-cell/api-db.h"
#include "api-cell/api-version.h"
#include "api-cell/compute-api.h"
#include "api-cell/http-request.h"
#include "api-cell/http-router.h"
#include "api-cell/policy.h"
#include "api-cell/services-common.h"
#include "cells-rpc/cells-rpcapi.h"
#include "shared/db.h"
#include "shared/error.h"
#include "shared/json-util.h"
#include "shared/log.h"
#include "shared/xalloc.h"

LOG_MODULE("api.services");

/* Longest host, binary and disabled reason, in characters (Nova's
 * schema). */
#define SERVICES_API_NAME_MAX_LENGTH 255

/* The only binary whose services can be updated. */
#define SERVICES_API_COMPUTE_BINARY "nova-compute"

/* ---- List ------------------------------------------------------------ */

struct services_api_list {
    struct services_common_cells *cells;
    bool with_forced_down;              /* 2.11 */
};

static void
services_api_list_free(void *aux)
{
    struct services_api_list *list = aux;

    services_common_cells_free(list->cells);
    free(list);
}

static struct json_object *
services_api_string(const char *s)
{
    return s ? json_object_new_string(s) : NULL;
}

static struct error *
services_api_list_done(struct json_object *result, struct http_request *req,
                       struct http_response *resp, void *aux,
                       bool *ret_pending)
{
    struct services_api_list *list = aux;
    struct json_object *services = NULL;
    struct json_object *out = json_object_new_array();
    struct json_object *body;

    (void) ret_pending;
    services_common_log_missing(req, result);
    if (result) {
        json_object_object_get_ex(result, "services", &services);
    }
    for (size_t i = 0; services
         && json_object_is_type(services, json_type_array)
         && i < json_object_array_length(services); i++) {
        struct json_object *s = json_object_array_get_idx(services, i);
        const char *cell_path = services_common_get_string(s, "cell_path");
        int64_t id = services_common_encode_id(
            list->cells, cell_path, services_common_get_int(s, "id"));
        struct json_object *item;

        if (id < 0) {
            LOG_WARN_CTX(http_request_log_ctx(req),
                         "service %lld of cell '%s' has no API id, "
                         "leaving it out",
                         (long long) services_common_get_int(s, "id"),
                         cell_path ? cell_path : "?");
            continue;
        }
        item = json_object_new_object();
        json_object_object_add(item, "id", json_object_new_int64(id));
        json_object_object_add(item, "binary", services_api_string(
                                   services_common_get_string(s, "binary")));
        json_object_object_add(item, "host", services_api_string(
                                   services_common_get_string(s, "host")));
        json_object_object_add(item, "zone", services_api_string(
                                   services_common_get_string(s, "zone")));
        json_object_object_add(item, "status", json_object_new_string(
                                   services_common_get_bool(s, "disabled")
                                   ? "disabled" : "enabled"));
        json_object_object_add(item, "state", json_object_new_string(
                                   services_common_get_bool(s, "up")
                                   ? "up" : "down"));
        json_object_object_add(item, "updated_at", services_api_string(
                                   services_common_get_string(
                                       s, "updated_at")));
        json_object_object_add(item, "disabled_reason",
                               services_api_string(
                                   services_common_get_string(
                                       s, "disabled_reason")));
        if (list->with_forced_down) {
            json_object_object_add(item, "forced_down",
                                   json_object_new_boolean(
                                       services_common_get_bool(
                                           s, "forced_down")));
        }
        json_object_array_add(out, item);
    }
    body = json_object_new_object();
    json_object_object_add(body, "services", out);
    http_response_set_json(resp, 200, body);
    return NULL;
}

static struct error *
services_api_list(struct http_request *req, struct http_response *resp,
                  void *aux)
{
    struct compute_api *compute = aux;
    struct services_api_list *list;
    struct services_common_cells *cells = NULL;
    const char *binary = http_request_query(req, "binary");
    const char *host = http_request_query(req, "host");
    struct json_object *args;
    struct error *error;

    if ((error = policy_check(http_request_auth(req),
                              "os_compute_api:os-services:list", NULL))
        || (error = services_common_require_cells(compute))
        || (error = services_common_cells_load(compute, &cells))) {
        return error;
    }
    list = xzalloc(sizeof *list);
    list->cells = cells;
    list->with_forced_down = api_version_at_least(req, 2, 11);
    args = json_object_new_object();
    json_object_object_add(args, "cell_path", NULL);
    json_object_object_add(args, "binary", services_api_string(binary));
    json_object_object_add(args, "host", services_api_string(host));
    services_common_call(req, resp, compute, CELLS_SERVICE_LIST, args,
                         services_api_list_done, list,
                         services_api_list_free);
    return NULL;
}

/* ---- Update ---------------------------------------------------------- */

enum services_api_action {
    SERVICES_API_ENABLE,
    SERVICES_API_DISABLE,
    SERVICES_API_DISABLE_LOG_REASON,
    SERVICES_API_FORCE_DOWN,
};

struct services_api_update {
    struct compute_api *compute;
    enum services_api_action action;
    char *host;
    char *binary;
    char *reason;                       /* disable-log-reason */
    bool forced_down;                   /* force-down */
};

static void
services_api_update_free(void *aux)
{
    struct services_api_update *u = aux;

    free(u->host);
    free(u->binary);
    free(u->reason);
    free(u);
}

/* The arguments of service_update for 'u' at leaf 'cell_path'. */
static struct json_object *
services_api_update_args(const struct services_api_update *u,
                         const char *cell_path)
{
    struct json_object *args = json_object_new_object();

    json_object_object_add(args, "cell_path",
                           json_object_new_string(cell_path));
    json_object_object_add(args, "host", json_object_new_string(u->host));
    json_object_object_add(args, "binary",
                           json_object_new_string(u->binary));
    switch (u->action) {
    case SERVICES_API_ENABLE:
        json_object_object_add(args, "disabled",
                               json_object_new_boolean(false));
        break;
    case SERVICES_API_DISABLE:
        json_object_object_add(args, "disabled",
                               json_object_new_boolean(true));
        json_object_object_add(args, "disabled_reason", NULL);
        break;
    case SERVICES_API_DISABLE_LOG_REASON:
        json_object_object_add(args, "disabled",
                               json_object_new_boolean(true));
        json_object_object_add(args, "disabled_reason",
                               json_object_new_string(u->reason));
        break;
    case SERVICES_API_FORCE_DOWN:
        json_object_object_add(args, "forced_down",
                               json_object_new_boolean(u->forced_down));
        break;
    }
    return args;
}

static struct error *
services_api_update_done(struct json_object *result,
                         struct http_request *req,
                         struct http_response *resp, void *aux,
                         bool *ret_pending)
{
    struct services_api_update *u = aux;
    struct json_object *service = json_object_new_object();
    struct json_object *body;

    (void) req;
    (void) ret_pending;
    json_object_object_add(service, "host", json_object_new_string(u->host));
    json_object_object_add(service, "binary",
                           json_object_new_string(u->binary));
    if (u->action == SERVICES_API_FORCE_DOWN) {
        json_object_object_add(service, "forced_down",
                               json_object_new_boolean(
                                   services_common_get_bool(
                                       result, "forced_down")));
    } else {
        json_object_object_add(service, "status", json_object_new_string(
                                   services_common_get_bool(result,
                                                            "disabled")
                                   ? "disabled" : "enabled"));
    }
    if (u->action == SERVICES_API_DISABLE_LOG_REASON) {
        json_object_object_add(service, "disabled_reason",
                               services_api_string(
                                   services_common_get_string(
                                       result, "disabled_reason")));
    }
    body = json_object_new_object();
    json_object_object_add(body, "service", service);
    http_response_set_json(resp, 200, body);
    return NULL;
}

static struct error *
services_api_not_found(const char *host)
{
    return error_new(ERROR_NOT_FOUND, "Compute host %s could not be found.",
                     host);
}

/* The reply of the service_list that looked for the host's cell: update
 * the service there. */
static struct error *
services_api_lookup_done(struct json_object *result,
                         struct http_request *req,
                         struct http_response *resp, void *aux,
                         bool *ret_pending)
{
    struct services_api_update *u = aux;
    struct json_object *services = NULL;

    services_common_log_missing(req, result);
    if (result) {
        json_object_object_get_ex(result, "services", &services);
    }
    for (size_t i = 0; services
         && json_object_is_type(services, json_type_array)
         && i < json_object_array_length(services); i++) {
        struct json_object *s = json_object_array_get_idx(services, i);
        const char *host = services_common_get_string(s, "host");
        const char *cell_path = services_common_get_string(s, "cell_path");

        if (host && cell_path && !strcmp(host, u->host)) {
            services_common_call(req, resp, u->compute,
                                 CELLS_SERVICE_UPDATE,
                                 services_api_update_args(u, cell_path),
                                 services_api_update_done, u,
                                 services_api_update_free);
            *ret_pending = true;
            return NULL;
        }
    }
    return services_api_not_found(u->host);
}

/* Stores in '*ret_path' (caller frees) the cell that host_mappings gives
 * for 'host', or NULL when the host is not mapped. */
static struct error *
services_api_host_cell(struct compute_api *compute, const char *host,
                       char **ret_path)
{
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    struct db *db = NULL;
    struct error *error;

    if ((error = api_db_get(compute->db, &db))
        || (error = db_query(db, "SELECT cell_path FROM host_mappings"
                             " WHERE host = ?",
                             DB_PARAMS(DB_STR(host)), &rows))) {
        return error;
    }
    *ret_path = db_rows_count(rows) && !db_rows_is_null(rows, 0, 0)
                ? xstrdup(db_rows_get_str(rows, 0, 0)) : NULL;
    return NULL;
}

/* Reads the body of an update: {"host", "binary"[, "disabled_reason"]
 * [, "forced_down" (2.11)]}, as Nova's schema and checks do. */
static struct error *
services_api_parse_update(const struct http_request *req,
                          struct services_api_update *u)
{
    static const char *const keys[] = {
        "host", "binary", "disabled_reason", NULL,
    };
    static const char *const keys_211[] = {
        "host", "binary", "disabled_reason", "forced_down", NULL,
    };
    struct json_object *body = http_request_body(req);
    const char *host = NULL;
    const char *binary = NULL;
    const char *reason = NULL;
    struct json_object *value = NULL;
    struct error *error;

    if (!body) {
        return error_new(ERROR_INVALID, "The request body is missing.");
    }
    if ((error = json_get_object(body, NULL, NULL, true, &value))
        || (error = json_check_allowed_keys(
                body, NULL, api_version_at_least(req, 2, 11)
                ? keys_211 : keys))
        || (error = json_get_string(body, NULL, "host", true,
                                    SERVICES_API_NAME_MAX_LENGTH, &host))
        || (error = json_get_string(body, NULL, "binary", true,
                                    SERVICES_API_NAME_MAX_LENGTH, &binary))
        || (error = json_get_string(body, NULL, "disabled_reason", false,
                                    SERVICES_API_NAME_MAX_LENGTH,
                                    &reason))) {
        return error;
    }
    if (reason && !*reason) {
        return error_new(ERROR_INVALID,
                         "Invalid input for field/attribute "
                         "disabled_reason. Value: . '' is too short");
    }
    if (u->action == SERVICES_API_DISABLE_LOG_REASON && !reason) {
        return error_new(ERROR_INVALID, "Missing disabled reason field");
    }
    if (u->action == SERVICES_API_FORCE_DOWN) {
        if (!json_object_object_get_ex(body, "forced_down", NULL)) {
            return error_new(ERROR_INVALID, "Missing forced_down field");
        }
        error = json_get_bool_or_string(body, NULL, "forced_down", true,
                                        &u->forced_down);
        if (error) {
            return error;
        }
    }
    if (strcmp(binary, SERVICES_API_COMPUTE_BINARY)) {
        return error_new(ERROR_INVALID,
                         "Updating a %s service is not supported. Only "
                         "nova-compute services can be updated.", binary);
    }
    u->host = xstrdup(host);
    u->binary = xstrdup(binary);
    u->reason = xstrdup_or_null(reason);
    return NULL;
}

static struct error *
services_api_update(struct http_request *req, struct http_response *resp,
                    void *aux)
{
    struct compute_api *compute = aux;
    const char *id = http_request_param(req, "service_id");
    struct services_api_update *u;
    AUTOFREE char *cell_path = NULL;
    struct json_object *args;
    struct error *error;

    error = policy_check(http_request_auth(req),
                         "os_compute_api:os-services:update", NULL);
    if (error) {
        return error;
    }
    u = xzalloc(sizeof *u);
    u->compute = compute;
    if (!strcmp(id, "enable")) {
        u->action = SERVICES_API_ENABLE;
    } else if (!strcmp(id, "disable")) {
        u->action = SERVICES_API_DISABLE;
    } else if (!strcmp(id, "disable-log-reason")) {
        u->action = SERVICES_API_DISABLE_LOG_REASON;
    } else if (!strcmp(id, "force-down")
               && api_version_at_least(req, 2, 11)) {
        u->action = SERVICES_API_FORCE_DOWN;
    } else {
        services_api_update_free(u);
        return error_new(ERROR_NOT_FOUND, "Unknown action");
    }
    if ((error = services_api_parse_update(req, u))
        || (error = services_common_require_cells(compute))
        || (error = services_api_host_cell(compute, u->host, &cell_path))) {
        services_api_update_free(u);
        return error;
    }
    if (cell_path) {
        services_common_call(req, resp, compute, CELLS_SERVICE_UPDATE,
                             services_api_update_args(u, cell_path),
                             services_api_update_done, u,
                             services_api_update_free);
        return NULL;
    }
    /* Any binary: the leaf tells a host without that service apart. */
    args = json_object_new_object();
    json_object_object_add(args, "cell_path", NULL);
    json_object_object_add(args, "binary", NULL);
    json_object_object_add(args, "host", json_object_new_string(u->host));
    services_common_call(req, resp, compute, CELLS_SERVICE_LIST, args,
                         services_api_lookup_done, u,
                         services_api_update_free);
    return NULL;
}

void
services_api_register(struct http_router *router,
                      struct compute_api *compute)
{
    http_router_add(router, HTTP_GET, "/v2.1/os-services", 0,
                    services_api_list, compute);
    http_router_add(router, HTTP_PUT, "/v2.1/os-services/{service_id}", 0,
                    services_api_update, compute);
}
