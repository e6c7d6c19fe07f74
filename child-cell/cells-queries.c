/* cells-queries.c: services, compute nodes and instance actions of one
 * leaf, as nova-cells answers for it (see cells-queries.h).
 *
 * Everything here is built on the table modules of cell-db.h; this file
 * only decodes the call's arguments, filters, and writes the wire shapes. */
#include <config.h>

#include "child-cell/cells-queries.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "child-cell/cell-db.h"
#include "shared/cleanup.h"
#include "shared/db.h"
#include "shared/error.h"
#include "shared/instance.h"
#include "shared/json-util.h"
#include "shared/timeutil.h"

/* ---- JSON helpers ---------------------------------------------------- */

static struct json_object *
cells_query_string(const char *s)
{
    return s ? json_object_new_string(s) : NULL;
}

/* A time in Nova's form for these resources, or null. */
static struct json_object *
cells_query_time(int64_t ms)
{
    char buf[TIME_ISO8601_SIZE];

    if (ms == INSTANCE_TIME_NONE
        || time_format_iso8601(ms, TIME_STYLE_MICROS, buf, sizeof buf)) {
        return NULL;
    }
    return json_object_new_string(buf);
}

/* Gets the optional string-or-null 'field' of 'args' into '*ret' (NULL
 * when absent or null). */
static struct error *
cells_query_get_nullable_string(const struct json_object *args,
                                const char *field, size_t max_length,
                                const char **ret)
{
    struct json_object *value = NULL;

    if (args && json_object_object_get_ex(args, field, &value)
        && !value) {
        *ret = NULL;
        return NULL;
    }
    *ret = NULL;
    return json_get_string(args, NULL, field, false, max_length, ret);
}

static struct error *
cells_query_check_args(const struct json_object *args)
{
    if (!args || !json_object_is_type(args, json_type_object)) {
        return error_new(ERROR_INVALID, "The arguments must be an object.");
    }
    return NULL;
}

/* ---- Services -------------------------------------------------------- */

static struct json_object *
cells_query_service_to_json(const struct cell_db_service *service,
                            const char *cell_path, const char *zone)
{
    struct json_object *obj = json_object_new_object();
    bool compute = service->binary
                   && !strcmp(service->binary, CELLS_QUERY_COMPUTE_BINARY);
    int64_t updated = service->last_seen_up;

    if (updated == INSTANCE_TIME_NONE) {
        updated = service->updated_at != INSTANCE_TIME_NONE
                  ? service->updated_at : service->created_at;
    }
    json_object_object_add(obj, "cell_path", cells_query_string(cell_path));
    json_object_object_add(obj, "id", json_object_new_int64(service->id));
    json_object_object_add(obj, "uuid", cells_query_string(service->uuid));
    json_object_object_add(obj, "binary",
                           cells_query_string(service->binary));
    json_object_object_add(obj, "host", cells_query_string(service->host));
    json_object_object_add(obj, "topic", cells_query_string(service->topic));
    json_object_object_add(obj, "zone", json_object_new_string(
                               compute ? zone : CELLS_QUERY_INTERNAL_ZONE));
    json_object_object_add(obj, "disabled",
                           json_object_new_boolean(service->disabled));
    json_object_object_add(obj, "disabled_reason",
                           cells_query_string(service->disabled_reason));
    json_object_object_add(obj, "forced_down",
                           json_object_new_boolean(service->forced_down));
    json_object_object_add(obj, "last_seen_up",
                           cells_query_time(service->last_seen_up));
    json_object_object_add(obj, "updated_at", cells_query_time(updated));
    json_object_object_add(obj, "report_count",
                           json_object_new_int64(service->report_count));
    json_object_object_add(obj, "up", json_object_new_boolean(service->up));
    return obj;
}

/* The compute zone the call asks for, else the default. */
static struct error *
cells_query_zone(const struct json_object *args, const char **ret_zone)
{
    const char *zone = NULL;
    struct error *error;

    error = cells_query_get_nullable_string(args, "availability_zone",
                                            CELL_DB_SERVICE_NAME_MAX_LENGTH,
                                            &zone);
    if (error) {
        return error;
    }
    *ret_zone = zone ? zone : CELLS_QUERY_DEFAULT_ZONE;
    return NULL;
}

struct error *
cells_query_services(struct db *db, const char *cell_path,
                     const struct json_object *args,
                     int service_down_time_s, struct json_object **ret)
{
    CLEANUP(cell_db_service_list_freep) struct cell_db_service_list *list
        = NULL;
    const char *binary = NULL;
    const char *host = NULL;
    const char *zone = NULL;
    struct json_object *services;
    struct json_object *result;
    struct error *error;

    if ((error = cells_query_check_args(args))
        || (error = cells_query_get_nullable_string(
                args, "binary", CELL_DB_SERVICE_NAME_MAX_LENGTH, &binary))
        || (error = cells_query_get_nullable_string(
                args, "host", CELL_DB_SERVICE_NAME_MAX_LENGTH, &host))
        || (error = cells_query_zone(args, &zone))) {
        return error;
    }
    error = cell_db_service_list(db, binary, service_down_time_s, &list);
    if (error) {
        return error;
    }
    services = json_object_new_array();
    for (size_t i = 0; i < list->n; i++) {
        const struct cell_db_service *s = &list->items[i];

        if (host && (!s->host || strcmp(s->host, host))) {
            continue;
        }
        json_object_array_add(services,
                              cells_query_service_to_json(s, cell_path,
                                                          zone));
    }
    result = json_object_new_object();
    json_object_object_add(result, "services", services);
    json_object_object_add(result, "missing", json_object_new_array());
    *ret = result;
    return NULL;
}

struct cells_query_update {
    const char *host;
    const char *binary;
    bool set_disabled;
    bool disabled;
    const char *reason;
    bool set_forced_down;
    bool forced_down;
    int service_down_time_s;
    struct cell_db_service *result;     /* owned */
};

/* True if some service (not deleted) runs on 'host'. */
static struct error *
cells_query_host_exists(struct db *db, const char *host, bool *ret_exists)
{
    CLEANUP(cell_db_service_list_freep) struct cell_db_service_list *list
        = NULL;
    struct error *error;

    error = cell_db_service_list(db, NULL, CELL_DB_SERVICE_DOWN_TIME_S,
                                 &list);
    if (error) {
        return error;
    }
    for (size_t i = 0; i < list->n; i++) {
        if (list->items[i].host && !strcmp(list->items[i].host, host)) {
            *ret_exists = true;
            return NULL;
        }
    }
    *ret_exists = false;
    return NULL;
}

static struct error *
cells_query_update_txn(struct db *db, void *aux)
{
    struct cells_query_update *u = aux;
    bool exists = false;
    struct error *error;

    cell_db_service_free(u->result);
    u->result = NULL;
    error = cells_query_host_exists(db, u->host, &exists);
    if (error) {
        return error;
    }
    if (!exists) {
        return error_new(ERROR_NOT_FOUND,
                         "Compute host %s could not be found.", u->host);
    }
    if (u->set_disabled
        && (error = cell_db_service_set_disabled(db, u->host, u->binary,
                                                 u->disabled, u->reason))) {
        return error;
    }
    if (u->set_forced_down
        && (error = cell_db_service_set_forced_down(db, u->host, u->binary,
                                                    u->forced_down))) {
        return error;
    }
    return cell_db_service_get(db, u->host, u->binary,
                               u->service_down_time_s, &u->result);
}

struct error *
cells_query_service_update(struct db *db, const char *cell_path,
                           const struct json_object *args,
                           int service_down_time_s, struct json_object **ret)
{
    struct cells_query_update u = {
        .service_down_time_s = service_down_time_s,
    };
    struct json_object *value = NULL;
    const char *zone = NULL;
    struct error *error;

    if ((error = cells_query_check_args(args))
        || (error = json_get_string(args, NULL, "host", true,
                                    CELL_DB_SERVICE_NAME_MAX_LENGTH,
                                    &u.host))
        || (error = json_get_string(args, NULL, "binary", true,
                                    CELL_DB_SERVICE_NAME_MAX_LENGTH,
                                    &u.binary))
        || (error = cells_query_get_nullable_string(
                args, "disabled_reason", CELL_DB_SERVICE_NAME_MAX_LENGTH,
                &u.reason))
        || (error = cells_query_zone(args, &zone))) {
        return error;
    }
    if (json_object_object_get_ex(args, "disabled", &value)) {
        error = json_get_bool(args, NULL, "disabled", true, &u.disabled);
        if (error) {
            return error;
        }
        u.set_disabled = true;
    } else if (u.reason) {
        return error_new(ERROR_INVALID,
                         "'disabled_reason' is only allowed with "
                         "'disabled'.");
    }
    if (json_object_object_get_ex(args, "forced_down", &value)) {
        error = json_get_bool(args, NULL, "forced_down", true,
                              &u.forced_down);
        if (error) {
            return error;
        }
        u.set_forced_down = true;
    }
    error = db_txn_run(db, cells_query_update_txn, &u);
    if (error) {
        cell_db_service_free(u.result);
        return error;
    }
    *ret = cells_query_service_to_json(u.result, cell_path, zone);
    cell_db_service_free(u.result);
    return NULL;
}

/* ---- Compute nodes --------------------------------------------------- */

/* The leaf row id of the nova-compute service of 'host' in 'services', or
 * -1. */
static int64_t
cells_query_compute_service_id(const struct cell_db_service_list *services,
                               const char *host)
{
    for (size_t i = 0; i < services->n; i++) {
        const struct cell_db_service *s = &services->items[i];

        if (s->host && host && !strcmp(s->host, host)) {
            return s->id;
        }
    }
    return -1;
}

static struct json_object *
cells_query_node_to_json(const struct cell_db_node *node,
                         const char *cell_path, int64_t service_id)
{
    struct json_object *obj = json_object_new_object();

    json_object_object_add(obj, "cell_path", cells_query_string(cell_path));
    json_object_object_add(obj, "id", json_object_new_int64(node->id));
    json_object_object_add(obj, "uuid", cells_query_string(node->uuid));
    json_object_object_add(obj, "host", cells_query_string(node->host));
    json_object_object_add(obj, "hypervisor_hostname",
                           cells_query_string(node->node));
    json_object_object_add(obj, "hypervisor_type",
                           cells_query_string(node->hypervisor_type));
    json_object_object_add(obj, "hypervisor_version",
                           json_object_new_int64(node->hypervisor_version));
    json_object_object_add(obj, "vcpus", json_object_new_int64(node->vcpus));
    json_object_object_add(obj, "vcpus_used",
                           json_object_new_int64(node->vcpus_used));
    json_object_object_add(obj, "memory_mb",
                           json_object_new_int64(node->memory_mb));
    json_object_object_add(obj, "memory_mb_used",
                           json_object_new_int64(node->memory_mb_used));
    json_object_object_add(obj, "local_gb",
                           json_object_new_int64(node->local_gb));
    json_object_object_add(obj, "local_gb_used",
                           json_object_new_int64(node->local_gb_used));
    json_object_object_add(obj, "running_vms",
                           json_object_new_int64(node->running_vms));
    json_object_object_add(obj, "cpu_info",
                           cells_query_string(node->cpu_info));
    json_object_object_add(obj, "state", json_object_new_string(
                               node->service_up ? "up" : "down"));
    json_object_object_add(obj, "status", json_object_new_string(
                               node->service_disabled
                               ? "disabled" : "enabled"));
    json_object_object_add(obj, "service_id",
                           service_id >= 0
                           ? json_object_new_int64(service_id) : NULL);
    json_object_object_add(obj, "disabled_reason",
                           cells_query_string(
                               node->service_disabled_reason));
    json_object_object_add(obj, "forced_down",
                           json_object_new_boolean(
                               node->service_forced_down));
    return obj;
}

struct error *
cells_query_compute_nodes(struct db *db, const char *cell_path,
                          const struct json_object *args,
                          int service_down_time_s, struct json_object **ret)
{
    CLEANUP(cell_db_node_list_freep) struct cell_db_node_list *nodes = NULL;
    CLEANUP(cell_db_service_list_freep) struct cell_db_service_list
        *services = NULL;
    const char *host = NULL;
    struct json_object *array;
    struct json_object *result;
    struct error *error;

    if ((error = cells_query_check_args(args))
        || (error = cells_query_get_nullable_string(
                args, "host", CELL_DB_NODE_NAME_MAX_LENGTH, &host))
        || (error = cell_db_node_list(db, service_down_time_s, &nodes))
        || (error = cell_db_service_list(db, CELLS_QUERY_COMPUTE_BINARY,
                                         service_down_time_s, &services))) {
        return error;
    }
    array = json_object_new_array();
    for (size_t i = 0; i < nodes->n; i++) {
        const struct cell_db_node *node = &nodes->items[i];

        if (host && (!node->host || strcmp(node->host, host))) {
            continue;
        }
        json_object_array_add(
            array, cells_query_node_to_json(
                node, cell_path,
                cells_query_compute_service_id(services, node->host)));
    }
    result = json_object_new_object();
    json_object_object_add(result, "compute_nodes", array);
    json_object_object_add(result, "missing", json_object_new_array());
    *ret = result;
    return NULL;
}

/* ---- Instance actions ------------------------------------------------ */

/* The fields an action shows in both the index and the show. */
static struct json_object *
cells_query_action_to_json(const struct cell_db_action *action)
{
    struct json_object *obj = json_object_new_object();

    json_object_object_add(obj, "action",
                           cells_query_string(action->action));
    json_object_object_add(obj, "instance_uuid",
                           cells_query_string(action->instance_uuid));
    json_object_object_add(obj, "message",
                           cells_query_string(action->message));
    json_object_object_add(obj, "project_id",
                           cells_query_string(action->project_id));
    json_object_object_add(obj, "request_id",
                           cells_query_string(action->request_id));
    json_object_object_add(obj, "start_time",
                           cells_query_time(action->start_time));
    json_object_object_add(obj, "user_id",
                           cells_query_string(action->user_id));
    return obj;
}

struct error *
cells_query_instance_actions(struct db *db, const char *cell_path,
                             const struct json_object *args,
                             struct json_object **ret)
{
    CLEANUP(cell_db_action_list_freep) struct cell_db_action_list *list
        = NULL;
    const char *uuid = NULL;
    struct json_object *actions;
    struct json_object *result;
    struct error *error;

    (void) cell_path;
    if ((error = cells_query_check_args(args))
        || (error = json_get_string(args, NULL, "instance_uuid", true,
                                    CELL_DB_ACTION_NAME_MAX_LENGTH, &uuid))
        || (error = cell_db_action_list(db, uuid, &list))) {
        return error;
    }
    actions = json_object_new_array();
    for (size_t i = 0; i < list->n; i++) {
        json_object_array_add(actions,
                              cells_query_action_to_json(&list->items[i]));
    }
    result = json_object_new_object();
    json_object_object_add(result, "instanceActions", actions);
    *ret = result;
    return NULL;
}

struct error *
cells_query_instance_action(struct db *db, const char *cell_path,
                            const struct json_object *args,
                            struct json_object **ret)
{
    CLEANUP(cell_db_action_freep) struct cell_db_action *action = NULL;
    const char *uuid = NULL;
    const char *request_id = NULL;
    struct json_object *obj;
    struct json_object *events;
    struct json_object *result;
    struct error *error;

    (void) cell_path;
    if ((error = cells_query_check_args(args))
        || (error = json_get_string(args, NULL, "instance_uuid", true,
                                    CELL_DB_ACTION_NAME_MAX_LENGTH, &uuid))
        || (error = json_get_string(args, NULL, "request_id", true,
                                    CELL_DB_ACTION_NAME_MAX_LENGTH,
                                    &request_id))
        || (error = cell_db_action_get(db, uuid, request_id, &action))) {
        return error;
    }
    obj = cells_query_action_to_json(action);
    events = json_object_new_array();
    for (size_t i = 0; i < action->n_events; i++) {
        const struct cell_db_action_event *ev = &action->events[i];
        struct json_object *e = json_object_new_object();

        json_object_object_add(e, "event", cells_query_string(ev->event));
        json_object_object_add(e, "start_time",
                               cells_query_time(ev->start_time));
        json_object_object_add(e, "finish_time",
                               cells_query_time(ev->finish_time));
        json_object_object_add(e, "result", cells_query_string(ev->result));
        json_object_object_add(e, "traceback",
                               cells_query_string(ev->traceback));
        json_object_array_add(events, e);
    }
    json_object_object_add(obj, "events", events);
    result = json_object_new_object();
    json_object_object_add(result, "instanceAction", obj);
    *ret = result;
    return NULL;
}
