/* services-common.c: tree-wide ids and deferred nova-cells calls for
 * os-services and os-hypervisors (see services-common.h). */
#include <config.h>

#include "api-cell/services-common.h"

#include <json-c/json.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api-cell/api-db.h"
#include "api-cell/cells-client.h"
#include "api-cell/compute-api.h"
#include "api-cell/http-request.h"
#include "cells-rpc/rpc-ctx.h"
#include "shared/db.h"
#include "shared/error.h"
#include "shared/log.h"
#include "shared/xalloc.h"

LOG_MODULE("api.services");

/* At most this many cells are read from the API database. */
#define SERVICES_COMMON_MAX_CELLS 100000
/* Longest api id accepted, in digits. */
#define SERVICES_COMMON_MAX_ID_LENGTH 18

struct services_common_cell {
    int64_t id;
    char *path;
};

struct services_common_cells {
    struct services_common_cell *items;
    size_t n;
};

struct error *
services_common_cells_load(struct compute_api *compute,
                           struct services_common_cells **ret)
{
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    struct services_common_cells *cells;
    struct db *db = NULL;
    struct error *error;

    error = api_db_get(compute->db, &db);
    if (error) {
        return error;
    }
    error = db_query(db, "SELECT id, path FROM cell_mappings"
                     " ORDER BY id LIMIT ?",
                     DB_PARAMS(DB_INT(SERVICES_COMMON_MAX_CELLS)), &rows);
    if (error) {
        return error;
    }
    cells = xzalloc(sizeof *cells);
    if (db_rows_count(rows)) {
        cells->items = xcalloc(db_rows_count(rows), sizeof *cells->items);
    }
    for (size_t r = 0; r < db_rows_count(rows); r++) {
        struct services_common_cell *cell = &cells->items[cells->n++];

        cell->id = db_rows_get_int64(rows, r, 0);
        cell->path = xstrdup(db_rows_get_str(rows, r, 1));
    }
    *ret = cells;
    return NULL;
}

void
services_common_cells_free(struct services_common_cells *cells)
{
    if (!cells) {
        return;
    }
    for (size_t i = 0; i < cells->n; i++) {
        free(cells->items[i].path);
    }
    free(cells->items);
    free(cells);
}

int64_t
services_common_encode_id(const struct services_common_cells *cells,
                          const char *cell_path, int64_t row_id)
{
    if (!cell_path || row_id < 0 || row_id >= SERVICES_COMMON_ID_FACTOR) {
        return -1;
    }
    for (size_t i = 0; i < cells->n; i++) {
        /* Paths compare without regard to case, as the column's
         * collation does. */
        if (!strcasecmp(cells->items[i].path, cell_path)) {
            int64_t cell_id = cells->items[i].id;

            if (cell_id <= 0
                || cell_id > INT64_MAX / SERVICES_COMMON_ID_FACTOR - 1) {
                return -1;
            }
            return cell_id * SERVICES_COMMON_ID_FACTOR + row_id;
        }
    }
    return -1;
}

bool
services_common_decode_id(const struct services_common_cells *cells,
                          const char *text, const char **ret_cell_path,
                          int64_t *ret_row_id)
{
    size_t length = text ? strlen(text) : 0;
    int64_t value = 0;
    int64_t cell_id;

    if (!length || length > SERVICES_COMMON_MAX_ID_LENGTH) {
        return false;
    }
    for (size_t i = 0; i < length; i++) {
        if (text[i] < '0' || text[i] > '9') {
            return false;
        }
        value = value * 10 + (text[i] - '0');
    }
    cell_id = value / SERVICES_COMMON_ID_FACTOR;
    for (size_t i = 0; i < cells->n; i++) {
        if (cells->items[i].id == cell_id) {
            *ret_cell_path = cells->items[i].path;
            *ret_row_id = value % SERVICES_COMMON_ID_FACTOR;
            return true;
        }
    }
    return false;
}

struct error *
services_common_require_cells(const struct compute_api *compute)
{
    if (!compute->cells) {
        return error_new(ERROR_UNAVAILABLE,
                         "The cells service is not available: nova-api "
                         "runs without nova-cells (cells.transport_url is "
                         "not set).");
    }
    return NULL;
}

/* ---- Deferred calls -------------------------------------------------- */

struct services_common_ctx {
    struct http_request *req;
    struct http_response *resp;
    services_common_done_fn *done;
    void *aux;
    void (*aux_free)(void *);
};

static void
services_common_finish(struct services_common_ctx *ctx,
                       struct error *error)
{
    struct http_request *req = ctx->req;

    if (ctx->aux_free) {
        ctx->aux_free(ctx->aux);
    }
    free(ctx);
    http_request_complete(req, error);
}

static void
services_common_reply(struct json_object *result, const struct error *error,
                      void *aux)
{
    struct services_common_ctx *ctx = aux;
    bool pending = false;
    struct error *answer;

    if (error) {
        LOG_INFO_CTX(http_request_log_ctx(ctx->req), "nova-cells: %s",
                     error_message(error));
        services_common_finish(ctx, error_new(error_kind(error), "%s",
                                              error_message(error)));
        return;
    }
    answer = ctx->done(result, ctx->req, ctx->resp, ctx->aux, &pending);
    if (pending) {
        /* The next call owns the request and 'aux' now. */
        error_free(answer);
        free(ctx);
        return;
    }
    services_common_finish(ctx, answer);
}

void
services_common_call(struct http_request *req, struct http_response *resp,
                     struct compute_api *compute, const char *method,
                     struct json_object *args,
                     services_common_done_fn *done, void *aux,
                     void (*aux_free)(void *))
{
    struct services_common_ctx *ctx = xzalloc(sizeof *ctx);
    long long timeout = compute->config
                        ? compute->config->call_timeout_ms
                        : COMPUTE_API_DEFAULT_CALL_TIMEOUT_MS;
    struct rpc_ctx rpc_ctx;
    struct error *error;

    ctx->req = req;
    ctx->resp = resp;
    ctx->done = done;
    ctx->aux = aux;
    ctx->aux_free = aux_free;
    if (!http_request_is_deferred(req)) {
        http_request_defer(req);
    }
    if (timeout <= 0 || timeout > INT_MAX) {
        timeout = COMPUTE_API_DEFAULT_CALL_TIMEOUT_MS;
    }
    compute_api_rpc_ctx(req, &rpc_ctx);
    error = cells_client_call(compute->cells, &rpc_ctx, method, args,
                              (int) timeout, services_common_reply, ctx);
    rpc_ctx_destroy(&rpc_ctx);
    if (error) {
        services_common_finish(ctx, error);
    }
}

void
services_common_log_missing(const struct http_request *req,
                            const struct json_object *result)
{
    struct json_object *missing = NULL;

    if (!result || !json_object_object_get_ex(result, "missing", &missing)
        || !json_object_is_type(missing, json_type_array)) {
        return;
    }
    for (size_t i = 0; i < json_object_array_length(missing); i++) {
        struct json_object *path = json_object_array_get_idx(missing, i);

        LOG_WARN_CTX(http_request_log_ctx(req),
                     "cell '%s' did not answer, leaving it out",
                     path && json_object_is_type(path, json_type_string)
                     ? json_object_get_string(path) : "?");
    }
}

const char *
services_common_get_string(const struct json_object *obj, const char *field)
{
    struct json_object *value = NULL;

    if (!obj || !json_object_object_get_ex(obj, field, &value)
        || !json_object_is_type(value, json_type_string)) {
        return NULL;
    }
    return json_object_get_string(value);
}

int64_t
services_common_get_int(const struct json_object *obj, const char *field)
{
    struct json_object *value = NULL;

    if (!obj || !json_object_object_get_ex(obj, field, &value)
        || !json_object_is_type(value, json_type_int)) {
        return 0;
    }
    return json_object_get_int64(value);
}

bool
services_common_get_bool(const struct json_object *obj, const char *field)
{
    struct json_object *value = NULL;

    if (!obj || !json_object_object_get_ex(obj, field, &value)
        || !json_object_is_type(value, json_type_boolean)) {
        return false;
    }
    return json_object_get_boolean(value);
}
