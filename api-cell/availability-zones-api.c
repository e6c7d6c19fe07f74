/* availability-zones-api.c: the compute API's availability zones (see
 * availability-zones-api.h).
 *
 * Every zone is shown available: a zone belongs to cells, and whether a
 * cell can take a boot is the cell scheduler's business.
 *
 * XXX: GET /os-availability-zone/detail (admin) answers the same list
 * with "hosts": null; Nova lists each zone's hosts and their services
 * there, which would need a service_list call through the tree. */
#include <config.h>

#include "api-cell/availability-zones-api.h"

#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "api-cell/api-db.h"
#include "api-cell/compute-api.h"
#include "api-cell/http-router.h"
#include "api-cell/policy.h"
#include "shared/db.h"
#include "shared/error.h"
#include "shared/json-util.h"
#include "shared/log.h"
#include "shared/xalloc.h"

LOG_MODULE("api.az");

/* Most zones listed. */
#define AZ_API_MAX_ZONES 1024

static int
az_api_compare(const void *a_, const void *b_)
{
    const char *const *a = a_;
    const char *const *b = b_;

    return strcmp(*a, *b);
}

/* Adds a copy of 'name' to 'zones' unless it is there. */
static void
az_api_add(char **zones, size_t *n, const char *name)
{
    if (!name || !*name || *n >= AZ_API_MAX_ZONES) {
        return;
    }
    for (size_t i = 0; i < *n; i++) {
        if (!strcmp(zones[i], name)) {
            return;
        }
    }
    zones[(*n)++] = xstrdup(name);
}

/* The zones of every cell and the default zone, sorted, in 'zones'. */
static struct error *
az_api_zones(struct db *db, const char *default_zone, char **zones,
             size_t *ret_n)
{
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    struct error *error;
    size_t n = 0;

    error = db_query(db, "SELECT availability_zones FROM cell_mappings "
                     "WHERE availability_zones IS NOT NULL", DB_NO_PARAMS,
                     &rows);
    if (error) {
        return error;
    }
    for (size_t r = 0; r < db_rows_count(rows); r++) {
        const char *text = db_rows_get_str(rows, r, 0);
        struct json_object *list = NULL;
        struct error *e;

        e = json_parse_text(text, strlen(text), 0, 0, &list);
        if (e || !json_object_is_type(list, json_type_array)) {
            LOG_WARN_RL("cell_mappings.availability_zones is not a JSON "
                        "list, ignoring: %s", e ? error_message(e) : text);
            error_free(e);
            json_object_put(list);
            continue;
        }
        for (size_t i = 0; i < json_object_array_length(list); i++) {
            struct json_object *item = json_object_array_get_idx(list, i);

            if (json_object_is_type(item, json_type_string)) {
                az_api_add(zones, &n, json_object_get_string(item));
            }
        }
        json_object_put(list);
    }
    az_api_add(zones, &n, default_zone);
    qsort(zones, n, sizeof *zones, az_api_compare);
    *ret_n = n;
    return NULL;
}

static struct error *
az_api_list_common(struct http_request *req, struct http_response *resp,
                   void *aux, const char *action)
{
    struct compute_api *compute = aux;
    AUTOFREE char **zones = xcalloc(AZ_API_MAX_ZONES, sizeof *zones);
    struct json_object *list, *body;
    struct db *db;
    size_t n = 0;
    struct error *error;

    error = policy_check(http_request_auth(req), action, NULL);
    if (!error) {
        error = api_db_get(compute->db, &db);
    }
    if (!error) {
        error = az_api_zones(db, compute->config->default_availability_zone,
                             zones, &n);
    }
    if (error) {
        return error;
    }
    list = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        struct json_object *zone = json_object_new_object();
        struct json_object *state = json_object_new_object();

        json_object_object_add(zone, "zoneName",
                               json_object_new_string(zones[i]));
        json_object_object_add(state, "available",
                               json_object_new_boolean(1));
        json_object_object_add(zone, "zoneState", state);
        json_object_object_add(zone, "hosts", NULL);
        json_object_array_add(list, zone);
        free(zones[i]);
    }
    body = json_object_new_object();
    json_object_object_add(body, "availabilityZoneInfo", list);
    http_response_set_json(resp, 200, body);
    return NULL;
}

static struct error *
az_api_list(struct http_request *req, struct http_response *resp, void *aux)
{
    return az_api_list_common(req, resp, aux,
                              "os_compute_api:os-availability-zone:list");
}

static struct error *
az_api_detail(struct http_request *req, struct http_response *resp,
              void *aux)
{
    return az_api_list_common(req, resp, aux,
                              "os_compute_api:os-availability-zone:detail");
}

void
availability_zones_api_register(struct http_router *router,
                                struct compute_api *compute)
{
    http_router_add(router, HTTP_GET, "/v2.1/os-availability-zone", 0,
                    az_api_list, compute);
    http_router_add(router, HTTP_GET, "/v2.1/os-availability-zone/detail", 0,
                    az_api_detail, compute);
}
