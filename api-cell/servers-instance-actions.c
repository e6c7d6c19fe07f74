/* servers-instance-actions.c: os-instance-actions
 * (servers-instance-actions.h).
 *
 * The actions are kept in the leaf; when the server's cell or a cell
 * above it is mute or excluded the request is refused at once with 503
 * naming the cell (cell_status_check_reachable()) rather than waiting
 * for a reply that cannot come. */
#include <config.h>

#include "api-cell/servers-instance-actions.h"

#include <string.h>
#include <json-c/json.h>

#include "api-cell/cell-status.h"
#include "api-cell/compute-api.h"
#include "api-cell/http-router.h"
#include "api-cell/policy.h"
#include "api-cell/servers-api.h"
#include "api-cell/top-view.h"
#include "cells-rpc/cells-rpcapi.h"
#include "shared/cleanup.h"
#include "shared/error.h"
#include "shared/instance.h"
#include "shared/json-util.h"
#include "shared/xalloc.h"

/* The keys of an action in Nova 2.1's os-instance-actions (the leaf may
 * know more; only these are shown). */
static const char *const servers_ia_action_keys[] = {
    "action", "instance_uuid", "message", "project_id", "request_id",
    "start_time", "user_id",
};

/* The keys of an event shown to admins in 2.1. */
static const char *const servers_ia_event_keys[] = {
    "event", "start_time", "finish_time", "result", "traceback",
};

static struct json_object *
servers_ia_copy_keys(struct json_object *from, const char *const *keys,
                     size_t n_keys)
{
    struct json_object *to = json_object_new_object();

    for (size_t i = 0; i < n_keys; i++) {
        struct json_object *v = NULL;

        if (json_object_object_get_ex(from, keys[i], &v)) {
            json_object_object_add(to, keys[i], json_object_get(v));
        } else {
            json_object_object_add(to, keys[i], NULL);
        }
    }
    return to;
}

static struct error *
servers_ia_list_reply(struct json_object *result, struct http_response *resp)
{
    struct json_object *actions = NULL, *body, *list;

    if (!result || !json_object_object_get_ex(result, "instanceActions",
                                              &actions)
        || !json_object_is_type(actions, json_type_array)) {
        return error_new(ERROR_INTERNAL, "instance_action_list answered "
                         "without instanceActions");
    }
    list = json_object_new_array();
    for (size_t i = 0; i < json_object_array_length(actions); i++) {
        struct json_object *a = json_object_array_get_idx(actions, i);

        if (json_object_is_type(a, json_type_object)) {
            json_object_array_add(list, servers_ia_copy_keys(
                                      a, servers_ia_action_keys,
                                      ARRAY_SIZE(servers_ia_action_keys)));
        }
    }
    body = json_object_new_object();
    json_object_object_add(body, "instanceActions", list);
    http_response_set_json(resp, 200, body);
    return NULL;
}

static struct error *
servers_ia_show_reply(struct json_object *result, struct http_response *resp,
                      bool with_events)
{
    struct json_object *action = NULL, *body, *shown, *events = NULL;

    if (!result || !json_object_object_get_ex(result, "instanceAction",
                                              &action)
        || !json_object_is_type(action, json_type_object)) {
        return error_new(ERROR_INTERNAL, "instance_action_get answered "
                         "without instanceAction");
    }
    shown = servers_ia_copy_keys(action, servers_ia_action_keys,
                                 ARRAY_SIZE(servers_ia_action_keys));
    if (with_events) {
        struct json_object *list = json_object_new_array();

        if (json_object_object_get_ex(action, "events", &events)
            && json_object_is_type(events, json_type_array)) {
            for (size_t i = 0; i < json_object_array_length(events); i++) {
                struct json_object *e = json_object_array_get_idx(events,
                                                                  i);

                if (json_object_is_type(e, json_type_object)) {
                    json_object_array_add(list, servers_ia_copy_keys(
                                              e, servers_ia_event_keys,
                                              ARRAY_SIZE(
                                                  servers_ia_event_keys)));
                }
            }
        }
        json_object_object_add(shown, "events", list);
    }
    body = json_object_new_object();
    json_object_object_add(body, "instanceAction", shown);
    http_response_set_json(resp, 200, body);
    return NULL;
}

static struct error *
servers_ia_show_reply_events(struct json_object *result,
                             struct http_response *resp)
{
    return servers_ia_show_reply(result, resp, true);
}

static struct error *
servers_ia_show_reply_plain(struct json_object *result,
                            struct http_response *resp)
{
    return servers_ia_show_reply(result, resp, false);
}

static struct error *
servers_ia_list(struct http_request *req, struct http_response *resp,
                void *aux)
{
    struct compute_api *compute = aux;
    CLEANUP(top_view_server_freep) struct top_view_server *srv = NULL;
    struct json_object *args;
    struct db *db;
    struct error *error;

    error = servers_api_get_server(compute, req,
                                   http_request_param(req, "server_id"),
                                   &db, &srv);
    if (!error) {
        error = policy_check(http_request_auth(req),
                             "os_compute_api:os-instance-actions:list",
                             srv->inst->project_id);
    }
    if (error) {
        return error;
    }
    if (!srv->cell_path) {
        /* Not in a cell yet: nothing was recorded. */
        struct json_object *body = json_object_new_object();

        json_object_object_add(body, "instanceActions",
                               json_object_new_array());
        http_response_set_json(resp, 200, body);
        return NULL;
    }
    error = cell_status_check_reachable(db, srv->cell_path);
    if (error) {
        return error;
    }
    if (!compute->cells) {
        return servers_api_no_cells();
    }
    args = json_object_new_object();
    json_object_object_add(args, "cell_path",
                           json_object_new_string(srv->cell_path));
    json_object_object_add(args, "instance_uuid",
                           json_object_new_string(srv->inst->uuid));
    return servers_api_call(compute, req, resp, CELLS_INSTANCE_ACTION_LIST,
                            args, srv->cell_path, servers_ia_list_reply);
}

static struct error *
servers_ia_show(struct http_request *req, struct http_response *resp,
                void *aux)
{
    struct compute_api *compute = aux;
    const struct http_auth *auth = http_request_auth(req);
    const char *request_id = http_request_param(req, "request_id");
    CLEANUP(top_view_server_freep) struct top_view_server *srv = NULL;
    struct json_object *args;
    struct db *db;
    struct error *error;
    bool events;

    error = servers_api_get_server(compute, req,
                                   http_request_param(req, "server_id"),
                                   &db, &srv);
    if (!error) {
        error = policy_check(auth, "os_compute_api:os-instance-actions:show",
                             srv->inst->project_id);
    }
    if (error) {
        return error;
    }
    if (!srv->cell_path) {
        return error_new(ERROR_NOT_FOUND, "Action for request_id %s on "
                         "instance %s not found", request_id,
                         srv->inst->uuid);
    }
    error = cell_status_check_reachable(db, srv->cell_path);
    if (error) {
        return error;
    }
    if (!compute->cells) {
        return servers_api_no_cells();
    }
    error = policy_check(auth, "os_compute_api:os-instance-actions:events",
                         srv->inst->project_id);
    events = !error;
    error_free(error);

    args = json_object_new_object();
    json_object_object_add(args, "cell_path",
                           json_object_new_string(srv->cell_path));
    json_object_object_add(args, "instance_uuid",
                           json_object_new_string(srv->inst->uuid));
    json_object_object_add(args, "request_id",
                           json_object_new_string(request_id));
    return servers_api_call(compute, req, resp, CELLS_INSTANCE_ACTION_GET,
                            args, srv->cell_path,
                            events ? servers_ia_show_reply_events
                                   : servers_ia_show_reply_plain);
}

void
servers_instance_actions_register(struct http_router *router,
                                  struct compute_api *compute)
{
    http_router_add(router, HTTP_GET,
                    "/v2.1/servers/{server_id}/os-instance-actions", 0,
                    servers_ia_list, compute);
    http_router_add(router, HTTP_GET,
                    "/v2.1/servers/{server_id}/os-instance-actions/"
                    "{request_id}", 0, servers_ia_show, compute);
}
