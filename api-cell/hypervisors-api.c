/* hypervisors-api.c: /v2.1/os-hypervisors (see hypervisors-api.h). */
#include <config.h>

#include "api-cell/hypervisors-api.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api-cell/compute-api.h"
#include "api-cell/http-request.h"
#include "api-cell/http-router.h"
#include "api-cell/policy.h"
#include "api-cell/services-common.h"
#include "cells-rpc/cells-rpcapi.h"
#include "shared/error.h"
#include "shared/log.h"
#include "shared/xalloc.h"

LOG_MODULE("api.hypervisors");

enum hypervisors_api_view {
    HYPERVISORS_API_INDEX,
    HYPERVISORS_API_DETAIL,
    HYPERVISORS_API_SHOW,
    HYPERVISORS_API_STATISTICS,
};

struct hypervisors_api_req {
    enum hypervisors_api_view view;
    struct services_common_cells *cells;
    char *id;                           /* show: as given */
    char *cell_path;                    /* show: decoded */
    int64_t row_id;                     /* show: decoded */
};

static void
hypervisors_api_req_free(void *aux)
{
    struct hypervisors_api_req *r = aux;

    services_common_cells_free(r->cells);
    free(r->id);
    free(r->cell_path);
    free(r);
}

static struct json_object *
hypervisors_api_string(const char *s)
{
    return s ? json_object_new_string(s) : NULL;
}

static void
hypervisors_api_add_int(struct json_object *obj, const char *key,
                        int64_t value)
{
    json_object_object_add(obj, key, json_object_new_int64(value));
}

/* The API form of NODE 'n', whose API id is 'id'. */
static struct json_object *
hypervisors_api_node_to_json(const struct hypervisors_api_req *r,
                             const struct json_object *n, int64_t id,
                             bool detail)
{
    struct json_object *obj = json_object_new_object();
    const char *cell_path = services_common_get_string(n, "cell_path");
    struct json_object *service_id = NULL;
    struct json_object *value = NULL;
    struct json_object *service;
    int64_t free_disk_gb;

    hypervisors_api_add_int(obj, "id", id);
    json_object_object_add(obj, "hypervisor_hostname",
                           hypervisors_api_string(services_common_get_string(
                                                      n,
                                                      "hypervisor_hostname")));
    json_object_object_add(obj, "state", hypervisors_api_string(
                               services_common_get_string(n, "state")));
    json_object_object_add(obj, "status", hypervisors_api_string(
                               services_common_get_string(n, "status")));
    if (!detail) {
        return obj;
    }
    free_disk_gb = services_common_get_int(n, "local_gb")
                   - services_common_get_int(n, "local_gb_used");
    hypervisors_api_add_int(obj, "vcpus",
                            services_common_get_int(n, "vcpus"));
    hypervisors_api_add_int(obj, "vcpus_used",
                            services_common_get_int(n, "vcpus_used"));
    hypervisors_api_add_int(obj, "memory_mb",
                            services_common_get_int(n, "memory_mb"));
    hypervisors_api_add_int(obj, "memory_mb_used",
                            services_common_get_int(n, "memory_mb_used"));
    hypervisors_api_add_int(obj, "local_gb",
                            services_common_get_int(n, "local_gb"));
    hypervisors_api_add_int(obj, "local_gb_used",
                            services_common_get_int(n, "local_gb_used"));
    hypervisors_api_add_int(obj, "free_ram_mb",
                            services_common_get_int(n, "memory_mb")
                            - services_common_get_int(n, "memory_mb_used"));
    hypervisors_api_add_int(obj, "free_disk_gb", free_disk_gb);
    hypervisors_api_add_int(obj, "current_workload", 0);
    hypervisors_api_add_int(obj, "running_vms",
                            services_common_get_int(n, "running_vms"));
    json_object_object_add(obj, "hypervisor_type", hypervisors_api_string(
                               services_common_get_string(
                                   n, "hypervisor_type")));
    hypervisors_api_add_int(obj, "hypervisor_version",
                            services_common_get_int(n,
                                                    "hypervisor_version"));
    /* Nodes do not report their address. */
    json_object_object_add(obj, "host_ip", NULL);
    hypervisors_api_add_int(obj, "disk_available_least", free_disk_gb);
    json_object_object_add(obj, "cpu_info", hypervisors_api_string(
                               services_common_get_string(n, "cpu_info")));
    service = json_object_new_object();
    json_object_object_add(service, "host", hypervisors_api_string(
                               services_common_get_string(n, "host")));
    if (json_object_object_get_ex(n, "service_id", &value)
        && json_object_is_type(value, json_type_int)) {
        int64_t sid = services_common_encode_id(
            r->cells, cell_path, json_object_get_int64(value));

        if (sid >= 0) {
            service_id = json_object_new_int64(sid);
        }
    }
    json_object_object_add(service, "id", service_id);
    json_object_object_add(service, "disabled_reason",
                           hypervisors_api_string(
                               services_common_get_string(
                                   n, "disabled_reason")));
    json_object_object_add(obj, "service", service);
    return obj;
}

/* Adds the amounts of NODE 'n' to the statistics 'stats'. */
static void
hypervisors_api_add_statistics(int64_t stats[], const struct json_object *n)
{
    int64_t memory_mb = services_common_get_int(n, "memory_mb");
    int64_t memory_mb_used = services_common_get_int(n, "memory_mb_used");
    int64_t local_gb = services_common_get_int(n, "local_gb");
    int64_t local_gb_used = services_common_get_int(n, "local_gb_used");

    stats[0] += 1;
    stats[1] += services_common_get_int(n, "vcpus");
    stats[2] += memory_mb;
    stats[3] += local_gb;
    stats[4] += services_common_get_int(n, "vcpus_used");
    stats[5] += memory_mb_used;
    stats[6] += local_gb_used;
    stats[7] += memory_mb - memory_mb_used;
    stats[8] += local_gb - local_gb_used;
    stats[9] += 0;
    stats[10] += services_common_get_int(n, "running_vms");
    stats[11] += local_gb - local_gb_used;
}

static const char *const hypervisors_api_statistics_keys[] = {
    "count", "vcpus", "memory_mb", "local_gb", "vcpus_used",
    "memory_mb_used", "local_gb_used", "free_ram_mb", "free_disk_gb",
    "current_workload", "running_vms", "disk_available_least",
};
#define HYPERVISORS_API_N_STATISTICS                                    \
    (sizeof hypervisors_api_statistics_keys                             \
     / sizeof *hypervisors_api_statistics_keys)

static struct error *
hypervisors_api_done(struct json_object *result, struct http_request *req,
                     struct http_response *resp, void *aux,
                     bool *ret_pending)
{
    struct hypervisors_api_req *r = aux;
    int64_t stats[HYPERVISORS_API_N_STATISTICS] = { 0 };
    struct json_object *nodes = NULL;
    struct json_object *out = json_object_new_array();
    struct json_object *found = NULL;
    struct json_object *body;

    (void) ret_pending;
    services_common_log_missing(req, result);
    if (result) {
        json_object_object_get_ex(result, "compute_nodes", &nodes);
    }
    for (size_t i = 0; nodes && json_object_is_type(nodes, json_type_array)
         && i < json_object_array_length(nodes); i++) {
        struct json_object *n = json_object_array_get_idx(nodes, i);
        const char *cell_path = services_common_get_string(n, "cell_path");
        int64_t row_id = services_common_get_int(n, "id");
        int64_t id = services_common_encode_id(r->cells, cell_path, row_id);
        const char *status = services_common_get_string(n, "status");

        if (id < 0) {
            LOG_WARN_CTX(http_request_log_ctx(req),
                         "compute node %lld of cell '%s' has no API id, "
                         "leaving it out", (long long) row_id,
                         cell_path ? cell_path : "?");
            continue;
        }
        switch (r->view) {
        case HYPERVISORS_API_INDEX:
        case HYPERVISORS_API_DETAIL:
            json_object_array_add(out, hypervisors_api_node_to_json(
                                      r, n, id,
                                      r->view == HYPERVISORS_API_DETAIL));
            break;
        case HYPERVISORS_API_SHOW:
            if (!found && row_id == r->row_id && cell_path
                && !strcasecmp(cell_path, r->cell_path)) {
                found = hypervisors_api_node_to_json(r, n, id, true);
            }
            break;
        case HYPERVISORS_API_STATISTICS:
            /* As Nova, only hypervisors whose service is enabled. */
            if (status && !strcmp(status, "enabled")) {
                hypervisors_api_add_statistics(stats, n);
            }
            break;
        }
    }
    body = json_object_new_object();
    switch (r->view) {
    case HYPERVISORS_API_INDEX:
    case HYPERVISORS_API_DETAIL:
        json_object_object_add(body, "hypervisors", out);
        out = NULL;
        break;
    case HYPERVISORS_API_SHOW:
        if (!found) {
            json_object_put(out);
            json_object_put(body);
            return error_new(ERROR_NOT_FOUND,
                             "Hypervisor with ID %s could not be found.",
                             r->id);
        }
        json_object_object_add(body, "hypervisor", found);
        break;
    case HYPERVISORS_API_STATISTICS: {
        struct json_object *s = json_object_new_object();

        for (size_t i = 0; i < HYPERVISORS_API_N_STATISTICS; i++) {
            hypervisors_api_add_int(s, hypervisors_api_statistics_keys[i],
                                    stats[i]);
        }
        json_object_object_add(body, "hypervisor_statistics", s);
        break;
    }
    }
    json_object_put(out);
    http_response_set_json(resp, 200, body);
    return NULL;
}

/* Starts the compute_node_list call behind every view. */
static struct error *
hypervisors_api_start(struct http_request *req, struct http_response *resp,
                      struct compute_api *compute,
                      enum hypervisors_api_view view, const char *action)
{
    struct services_common_cells *cells = NULL;
    struct hypervisors_api_req *r;
    const char *cell_path = NULL;
    int64_t row_id = 0;
    struct json_object *args;
    struct error *error;

    if ((error = policy_check(http_request_auth(req), action, NULL))
        || (error = services_common_require_cells(compute))
        || (error = services_common_cells_load(compute, &cells))) {
        return error;
    }
    r = xzalloc(sizeof *r);
    r->view = view;
    r->cells = cells;
    if (view == HYPERVISORS_API_SHOW) {
        const char *id = http_request_param(req, "hypervisor_id");

        r->id = xstrdup(id);
        if (!services_common_decode_id(cells, id, &cell_path, &row_id)) {
            hypervisors_api_req_free(r);
            return error_new(ERROR_NOT_FOUND,
                             "Hypervisor with ID %s could not be found.",
                             id);
        }
        r->cell_path = xstrdup(cell_path);
        r->row_id = row_id;
    }
    args = json_object_new_object();
    json_object_object_add(args, "cell_path",
                           hypervisors_api_string(r->cell_path));
    services_common_call(req, resp, compute, CELLS_COMPUTE_NODE_LIST, args,
                         hypervisors_api_done, r, hypervisors_api_req_free);
    return NULL;
}

static struct error *
hypervisors_api_index(struct http_request *req, struct http_response *resp,
                      void *aux)
{
    return hypervisors_api_start(req, resp, aux, HYPERVISORS_API_INDEX,
                                 "os_compute_api:os-hypervisors:list");
}

static struct error *
hypervisors_api_detail(struct http_request *req, struct http_response *resp,
                       void *aux)
{
    return hypervisors_api_start(req, resp, aux, HYPERVISORS_API_DETAIL,
                                 "os_compute_api:os-hypervisors:list-detail");
}

static struct error *
hypervisors_api_show(struct http_request *req, struct http_response *resp,
                     void *aux)
{
    return hypervisors_api_start(req, resp, aux, HYPERVISORS_API_SHOW,
                                 "os_compute_api:os-hypervisors:show");
}

static struct error *
hypervisors_api_statistics(struct http_request *req,
                           struct http_response *resp, void *aux)
{
    return hypervisors_api_start(req, resp, aux, HYPERVISORS_API_STATISTICS,
                                 "os_compute_api:os-hypervisors:statistics");
}

void
hypervisors_api_register(struct http_router *router,
                         struct compute_api *compute)
{
    http_router_add(router, HTTP_GET, "/v2.1/os-hypervisors", 0,
                    hypervisors_api_index, compute);
    http_router_add(router, HTTP_GET, "/v2.1/os-hypervisors/detail", 0,
                    hypervisors_api_detail, compute);
    http_router_add(router, HTTP_GET, "/v2.1/os-hypervisors/statistics", 0,
                    hypervisors_api_statistics, compute);
    http_router_add(router, HTTP_GET, "/v2.1/os-hypervisors/{hypervisor_id}",
                    0, hypervisors_api_show, compute);
}
