/* cells-calls.c: service, compute node, instance action and console
 * queries through the tree (see cells-calls.h). */
#include <config.h>

#include "child-cell/cells-calls.h"

#include <json-c/json.h>
#include <string.h>

#include "cells-rpc/cell-msg.h"
#include "cells-rpc/cell-node.h"
#include "cells-rpc/cell-path.h"
#include "cells-rpc/cells-rpcapi.h"
#include "cells-rpc/rpc-msg.h"
#include "cells-rpc/rpc-server.h"
#include "cells-rpc/rpc.h"
#include "child-cell/cell-db-instance.h"
#include "child-cell/cells-private.h"
#include "child-cell/cells-queries.h"
#include "child-cell/rpcapi.h"
#include "shared/error.h"
#include "shared/instance.h"
#include "shared/json-util.h"
#include "shared/log.h"
#include "shared/uuid-util.h"
#include "shared/xalloc.h"

LOG_MODULE("cells.calls");

/* A call from nova-api waiting for the tree's answer. */
struct cells_call {
    struct cells_service *svc;
    struct rpc_request *req;
    const char *list_key;       /* Broadcast: the list to merge; NULL for a
                                 * targeted call. */
};

/* A console request at a leaf waiting for nova-compute. */
struct cells_console {
    struct cell_request *req;
};

/* The list each broadcast answers with, or NULL for a targeted call. */
static const char *
cells_calls_list_key(const char *method)
{
    if (!strcmp(method, CELLS_SERVICE_LIST)) {
        return "services";
    }
    if (!strcmp(method, CELLS_COMPUTE_NODE_LIST)) {
        return "compute_nodes";
    }
    return NULL;
}

/* Reads the optional (broadcast) or required (targeted) "cell_path" of
 * 'args'; NULL when absent or null. */
static struct error *
cells_calls_cell_path(const struct json_object *args, bool required,
                      const char **ret_path)
{
    struct json_object *value = NULL;
    const char *path;
    struct error *error;

    *ret_path = NULL;
    if (!required
        && (!json_object_object_get_ex(args, "cell_path", &value)
            || !value)) {
        return NULL;
    }
    error = json_get_string(args, NULL, "cell_path", true,
                            CELL_PATH_MAX_LENGTH, &path);
    if (!error) {
        error = cell_path_check("cell_path", path);
    }
    if (error) {
        return error;
    }
    *ret_path = path;
    return NULL;
}

/* Merges the answers of a broadcast: every cell's list, and the cells that
 * did not answer or failed. */
static struct json_object *
cells_calls_merge(const struct cell_reply *reply, const char *list_key)
{
    struct json_object *result = json_object_new_object();
    struct json_object *list = json_object_new_array();
    struct json_object *missing = json_object_new_array();

    for (size_t i = 0; i < reply->n_items; i++) {
        const struct cell_reply_item *item = &reply->items[i];
        struct json_object *items = NULL;

        if (item->error) {
            LOG_WARN_RL("cell '%s' failed to answer %s: %s", item->cell,
                        reply->method, error_message(item->error));
            json_object_array_add(missing,
                                  json_object_new_string(item->cell));
            continue;
        }
        if (item->result
            && json_object_object_get_ex(item->result, list_key, &items)
            && json_object_is_type(items, json_type_array)) {
            size_t n = json_object_array_length(items);

            for (size_t j = 0; j < n; j++) {
                json_object_array_add(list, json_object_get(
                    json_object_array_get_idx(items, j)));
            }
        }
    }
    for (size_t i = 0; i < reply->n_missing; i++) {
        json_object_array_add(missing,
                              json_object_new_string(reply->missing[i]));
    }
    json_object_object_add(result, list_key, list);
    json_object_object_add(result, "missing", missing);
    return result;
}

static void
cells_calls_replied(struct cell_reply *reply, void *call_)
{
    struct cells_call *call = call_;
    struct json_object *result = NULL;
    struct error *error = NULL;

    if (reply->error) {
        error = reply->error;
        reply->error = NULL;
    } else if (call->list_key) {
        result = cells_calls_merge(reply, call->list_key);
    } else if (!reply->n_items) {
        error = error_new(ERROR_CELL_DOWN, "No answer from the cell");
    } else if (reply->items[0].error) {
        error = reply->items[0].error;
        reply->items[0].error = NULL;
    } else {
        result = json_object_get(reply->items[0].result);
    }
    rpc_request_reply(call->req, result, error);
    cell_reply_free(reply);
    free(call);
}

struct error *
cells_calls_local(struct rpc_request *req, void *svc_,
                  struct json_object **ret_result)
{
    struct cells_service *svc = svc_;
    const struct rpc_msg *msg = rpc_request_msg(req);
    const char *list_key = cells_calls_list_key(msg->method);
    struct json_object *copy = NULL;
    const char *cell_path;
    struct cells_call *call;
    struct cell_msg *cmsg;
    struct error *error;

    (void) ret_result;
    error = cells_calls_cell_path(msg->args, !list_key, &cell_path);
    if (error) {
        return error;
    }
    if (cell_path && !cell_path_in_subtree(svc->path, cell_path)) {
        return error_new(ERROR_NOT_FOUND, "Cell '%s' is not in the tree of "
                         "'%s'", cell_path, svc->path);
    }
    if (json_object_deep_copy(msg->args, &copy, NULL)) {
        return error_new(ERROR_INTERNAL, "Cannot copy the arguments of %s",
                         msg->method);
    }
    if (list_key) {
        error = cell_msg_new_broadcast(svc->path, CELL_MSG_DOWN, cell_path,
                                       msg->method, copy, &cmsg);
        if (!error) {
            cmsg->include_self = true;
        }
    } else {
        error = cell_msg_new_targeted(svc->path, cell_path, msg->method,
                                      copy, &cmsg);
    }
    if (error) {
        return error;
    }
    rpc_ctx_destroy(&cmsg->ctx);
    rpc_ctx_clone(&cmsg->ctx, &msg->ctx);
    cmsg->need_response = true;
    call = xzalloc(sizeof *call);
    call->svc = svc;
    call->req = req;
    call->list_key = list_key;
    error = cell_node_send(svc->node, cmsg,
                           cells_timeout_below(msg->deadline_ms),
                           cells_calls_replied, call);
    if (error) {
        free(call);
        return error;
    }
    rpc_request_defer(req);
    return NULL;
}

/* ---- At the leaf ------------------------------------------------------- */

static void
cells_console_replied(struct json_object *result, struct error *error,
                      void *console_)
{
    struct cells_console *console = console_;

    /* 'result' and 'error' are the callback's to keep. */
    cell_request_reply(console->req, result, error);
    free(console);
}

/* Asks the nova-compute of the instance's host for its console. */
static struct error *
cells_calls_console(struct cells_service *svc, struct cell_request *req,
                    struct json_object **ret_result)
{
    const struct cell_msg *msg = cell_request_msg(req);
    CLEANUP(instance_freep) struct instance *inst = NULL;
    struct rpc_msg *call_msg;
    struct cells_console *console;
    struct json_object *args;
    const char *uuid;
    long long length = -1;
    struct error *error;

    (void) ret_result;
    error = json_get_string(msg->args, NULL, "instance_uuid", true,
                            UUID_STRING_SIZE, &uuid);
    if (!error) {
        error = json_get_int(msg->args, NULL, "length", false, -1,
                             INT32_MAX, &length);
    }
    if (!error) {
        error = cell_db_instance_get(svc->cell_db, uuid, false, &inst);
    }
    if (error) {
        return error;
    }
    if (!inst->host) {
        return error_new(ERROR_CONFLICT, "Instance %s has no host yet",
                         uuid);
    }
    args = json_object_new_object();
    json_object_object_add(args, "instance_uuid",
                           json_object_new_string(uuid));
    if (length >= 0) {
        json_object_object_add(args, "length",
                               json_object_new_int64(length));
    }
    call_msg = rpc_msg_new(COMPUTE_GET_CONSOLE_OUTPUT, args);
    rpc_ctx_destroy(&call_msg->ctx);
    rpc_ctx_clone(&call_msg->ctx, &msg->ctx);
    console = xzalloc(sizeof *console);
    console->req = req;
    const struct rpc_target target = { COMPUTE_TOPIC, inst->host };
    error = rpc_call_async(svc->conn, &target, call_msg,
                           cells_timeout_below(msg->deadline_ms),
                           cells_console_replied, console);
    rpc_msg_free(call_msg);
    if (error) {
        free(console);
        return error;
    }
    cell_request_defer(req);
    return NULL;
}

struct error *
cells_calls_cell(struct cell_request *req, void *svc_,
                 struct json_object **ret_result)
{
    struct cells_service *svc = svc_;
    const struct cell_msg *msg = cell_request_msg(req);
    const char *list_key = cells_calls_list_key(msg->method);
    const char *method = msg->method;
    int down = svc->service_down_time_s;

    if (!svc->is_leaf) {
        if (list_key) {
            *ret_result = json_object_new_object();
            json_object_object_add(*ret_result, list_key,
                                   json_object_new_array());
            return NULL;
        }
        return error_new(ERROR_NOT_FOUND, "Cell '%s' has no hosts",
                         svc->path);
    }
    if (!strcmp(method, CELLS_MSG_SERVICE_LIST)) {
        return cells_query_services(svc->cell_db, svc->path, msg->args,
                                    down, ret_result);
    }
    if (!strcmp(method, CELLS_MSG_COMPUTE_NODE_LIST)) {
        return cells_query_compute_nodes(svc->cell_db, svc->path, msg->args,
                                         down, ret_result);
    }
    if (!strcmp(method, CELLS_MSG_SERVICE_UPDATE)) {
        return cells_query_service_update(svc->cell_db, svc->path,
                                          msg->args, down, ret_result);
    }
    if (!strcmp(method, CELLS_MSG_INSTANCE_ACTION_LIST)) {
        return cells_query_instance_actions(svc->cell_db, svc->path,
                                            msg->args, ret_result);
    }
    if (!strcmp(method, CELLS_MSG_INSTANCE_ACTION_GET)) {
        return cells_query_instance_action(svc->cell_db, svc->path,
                                           msg->args, ret_result);
    }
    if (!strcmp(method, CELLS_MSG_GET_CONSOLE_OUTPUT)) {
        return cells_calls_console(svc, req, ret_result);
    }
    return error_new(ERROR_INVALID, "Unknown method '%s'", method);
}
