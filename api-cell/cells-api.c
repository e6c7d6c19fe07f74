/* cells-api.c: GET /v2.1/os-cells[/{name}[/capacities]] (see
 * cells-api.h). */
#include <config.h>

#include "api-cell/cells-api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "api-cell/api-db.h"
#include "api-cell/cell-registry.h"
#include "api-cell/cell-status.h"
#include "api-cell/compute-api.h"
#include "api-cell/http-request.h"
#include "api-cell/http-router.h"
#include "api-cell/policy.h"
#include "cells-rpc/cell-capacity.h"
#include "cells-rpc/cell-path.h"
#include "shared/db.h"
#include "shared/error.h"
#include "shared/json-util.h"
#include "shared/log.h"
#include "shared/timeutil.h"
#include "shared/xalloc.h"

LOG_MODULE("api.cells");

#define MIB_PER_GIB 1024

/* What every route reads. */
struct cells_api_view {
    struct cell_registry_list *list;
    struct cell_status_list *status;
};

static void
cells_api_view_destroy(struct cells_api_view *view)
{
    cell_registry_list_free(view->list);
    cell_status_list_free(view->status);
}

/* Checks that the caller is an admin, then reads the tree. */
static struct error *
cells_api_read(struct http_request *req, void *aux, const char *action,
               struct cells_api_view *view)
{
    struct compute_api *compute = aux;
    struct db *db;
    struct error *error;

    memset(view, 0, sizeof *view);
    if (!policy_is_admin(http_request_auth(req))) {
        return error_new(ERROR_FORBIDDEN, "Policy doesn't allow %s to be "
                         "performed.", action);
    }
    error = api_db_get(compute->db, &db);
    if (!error) {
        error = cell_registry_list(db, &view->list);
    }
    if (!error) {
        error = cell_status_list(db, &view->status);
    }
    return error;
}

/* The cell of 'view' named by the {name} of 'req'. */
static struct error *
cells_api_find(const struct http_request *req,
               const struct cells_api_view *view,
               const struct cell_registry_cell **ret_cell)
{
    const char *name = http_request_param(req, "name");
    const struct cell_registry_cell *cell;

    cell = name ? cell_registry_list_find(view->list, name) : NULL;
    if (!cell) {
        return error_new(ERROR_NOT_FOUND, "Cell %s could not be found.",
                         name ? name : "");
    }
    *ret_cell = cell;
    return NULL;
}

/* "2026-01-02T03:04:05.000000" for a DATETIME(6) text, or null. */
static struct json_object *
cells_api_time(const char *datetime)
{
    char buf[TIME_ISO8601_SIZE];
    int64_t ms;

    if (!datetime || time_parse_mysql_datetime(datetime, &ms)
        || time_format_iso8601(ms, TIME_STYLE_MICROS, buf, sizeof buf)) {
        return NULL;
    }
    return json_object_new_string(buf);
}

static struct json_object *
cells_api_cell_json(const struct cells_api_view *view,
                    const struct cell_registry_cell *cell)
{
    const struct cell_status *st = cell_status_find(view->status,
                                                    cell->path);
    struct json_object *o = json_object_new_object();
    struct json_object *children = json_object_new_array();

    for (size_t i = 0; i < view->list->n_cells; i++) {
        const struct cell_registry_cell *c = view->list->cells[i];

        if (c->parent_path && !strcmp(c->parent_path, cell->path)) {
            json_object_array_add(children, json_object_new_string(c->name));
        }
    }
    json_object_object_add(o, "name", json_object_new_string(cell->name));
    json_object_object_add(o, "path", json_object_new_string(cell->path));
    json_object_object_add(o, "parent", cell->parent_path
                           ? json_object_new_string(
                               cell_path_last(cell->parent_path))
                           : NULL);
    json_object_object_add(o, "type", json_object_new_string(
                               json_object_array_length(children)
                               ? "parent" : "child"));
    json_object_object_add(o, "disabled",
                           json_object_new_boolean(cell->disabled));
    json_object_object_add(o, "availability_zones",
                           json_object_get(cell->availability_zones));
    json_object_object_add(o, "health", st && st->health
                           ? json_object_new_string(st->health) : NULL);
    json_object_object_add(o, "last_heard_at",
                           cells_api_time(st ? st->last_heard_at : NULL));
    json_object_object_add(o, "children", children);
    return o;
}

static struct error *
cells_api_index(struct http_request *req, struct http_response *resp,
                void *aux)
{
    struct cells_api_view view;
    struct json_object *list, *body;
    struct error *error;

    error = cells_api_read(req, aux, "os_compute_api:os-cells:index",
                           &view);
    if (error) {
        cells_api_view_destroy(&view);
        return error;
    }
    list = json_object_new_array();
    for (size_t i = 0; i < view.list->n_cells; i++) {
        json_object_array_add(list, cells_api_cell_json(
                                  &view, view.list->cells[i]));
    }
    body = json_object_new_object();
    json_object_object_add(body, "cells", list);
    http_response_set_json(resp, 200, body);
    cells_api_view_destroy(&view);
    return NULL;
}

static struct error *
cells_api_show(struct http_request *req, struct http_response *resp,
               void *aux)
{
    const struct cell_registry_cell *cell = NULL;
    struct cells_api_view view;
    struct json_object *body;
    struct error *error;

    error = cells_api_read(req, aux, "os_compute_api:os-cells:show", &view);
    if (!error) {
        error = cells_api_find(req, &view, &cell);
    }
    if (error) {
        cells_api_view_destroy(&view);
        return error;
    }
    body = json_object_new_object();
    json_object_object_add(body, "cell", cells_api_cell_json(&view, cell));
    http_response_set_json(resp, 200, body);
    cells_api_view_destroy(&view);
    return NULL;
}

/* Sets units_by_mb["key"] to the larger of its value and 'units'. */
static void
cells_api_units_max(struct json_object *by_mb, int64_t key, int64_t units)
{
    char name[32];
    struct json_object *old;

    (void) snprintf(name, sizeof name, "%lld", (long long) key);
    if (json_object_object_get_ex(by_mb, name, &old)
        && json_object_get_int64(old) >= units) {
        return;
    }
    json_object_object_add(by_mb, name, json_object_new_int64(units));
}

/* The cells v1 "capacities" of 'cap' (may be NULL: all zero). */
static struct json_object *
cells_api_capacities_json(const struct cell_capacity *cap)
{
    struct json_object *ram = json_object_new_object();
    struct json_object *disk = json_object_new_object();
    struct json_object *ram_units = json_object_new_object();
    struct json_object *disk_units = json_object_new_object();
    struct json_object *o = json_object_new_object();

    for (size_t i = 0; cap && i < cap->n_units; i++) {
        const struct cell_capacity_units *u = &cap->units[i];

        cells_api_units_max(ram_units, u->flavor.ram_mb, u->units);
        cells_api_units_max(disk_units, u->flavor.disk_gb * MIB_PER_GIB,
                            u->units);
    }
    json_object_object_add(ram, "total_mb", json_object_new_int64(
                               cap ? cap->free.ram_mb : 0));
    json_object_object_add(ram, "units_by_mb", ram_units);
    json_object_object_add(disk, "total_mb", json_object_new_int64(
                               cap ? cap->free.disk_gb * MIB_PER_GIB : 0));
    json_object_object_add(disk, "units_by_mb", disk_units);
    json_object_object_add(o, "ram_free", ram);
    json_object_object_add(o, "disk_free", disk);
    return o;
}

static struct error *
cells_api_capacities(struct http_request *req, struct http_response *resp,
                     void *aux)
{
    const struct cell_registry_cell *cell = NULL;
    CLEANUP(cell_capacity_freep) struct cell_capacity *sum = NULL;
    const struct cell_capacity *cap = NULL;
    struct cells_api_view view;
    struct json_object *body, *o;
    struct error *error;

    error = cells_api_read(req, aux, "os_compute_api:os-cells:capacities",
                           &view);
    if (!error) {
        error = cells_api_find(req, &view, &cell);
    }
    if (error) {
        cells_api_view_destroy(&view);
        return error;
    }
    const struct cell_status *st = cell_status_find(view.status, cell->path);

    cap = st ? st->capacity : NULL;
    if (!cap) {
        /* The root sends no report: sum its children's latest. */
        const struct cell_capacity **reports
            = xcalloc(view.list->n_cells + 1, sizeof *reports);
        size_t n = 0;

        for (size_t i = 0; i < view.list->n_cells; i++) {
            const struct cell_registry_cell *c = view.list->cells[i];
            const struct cell_status *cs;

            cs = cell_status_find(view.status, c->path);
            if (c->parent_path && !strcmp(c->parent_path, cell->path)
                && cs && cs->capacity) {
                reports[n++] = cs->capacity;
            }
        }
        if (n) {
            error = cell_capacity_aggregate(reports, n, time_now_ms(), &sum);
            if (error) {
                LOG_WARN_RL("cannot sum the capacity of cell '%s': %s",
                            cell->path, error_message(error));
                error_free(error);
            }
            cap = sum;
        }
        free(reports);
    }
    o = json_object_new_object();
    json_object_object_add(o, "name", json_object_new_string(cell->name));
    json_object_object_add(o, "capacities", cells_api_capacities_json(cap));
    body = json_object_new_object();
    json_object_object_add(body, "cell", o);
    http_response_set_json(resp, 200, body);
    cells_api_view_destroy(&view);
    return NULL;
}

void
cells_api_register(struct http_router *router, struct compute_api *compute)
{
    http_router_add(router, HTTP_GET, "/v2.1/os-cells", 0, cells_api_index,
                    compute);
    http_router_add(router, HTTP_GET, "/v2.1/os-cells/{name}", 0,
                    cells_api_show, compute);
    http_router_add(router, HTTP_GET, "/v2.1/os-cells/{name}/capacities", 0,
                    cells_api_capacities, compute);
}
