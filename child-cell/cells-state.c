/* cells-state.c: instance updates up to the top view, instance actions
 * down to the leaf (see cells-state.h). */
#include <config.h>

#include "child-cell/cells-state.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <string.h>

#include "api-cell/top-view.h"
#include "cells-rpc/cell-msg.h"
#include "cells-rpc/cell-node.h"
#include "cells-rpc/cell-path.h"
#include "cells-rpc/cells-rpcapi.h"
#include "cells-rpc/rpc-ctx.h"
#include "cells-rpc/rpc-msg.h"
#include "cells-rpc/rpc-server.h"
#include "child-cell/cells-private.h"
#include "child-cell/rpcapi.h"
#include "shared/error.h"
#include "shared/instance.h"
#include "shared/json-util.h"
#include "shared/log.h"
#include "shared/topology.h"
#include "shared/uuid-util.h"
#include "shared/xalloc.h"

LOG_MODULE("cells.state");

/* Longest action name and reboot type accepted, in characters. */
#define CELLS_STATE_NAME_MAX_LENGTH 32

/* The actions of instance_action and the conductor methods they become. */
static const struct {
    const char *action;
    const char *method;
} cells_state_actions[] = {
    { "delete", CONDUCTOR_DELETE_INSTANCE },
    { "reboot", CONDUCTOR_REBOOT_INSTANCE },
    { "stop", CONDUCTOR_STOP_INSTANCE },
    { "start", CONDUCTOR_START_INSTANCE },
    { "pause", CONDUCTOR_PAUSE_INSTANCE },
    { "unpause", CONDUCTOR_UNPAUSE_INSTANCE },
    { "suspend", CONDUCTOR_SUSPEND_INSTANCE },
    { "resume", CONDUCTOR_RESUME_INSTANCE },
    { "snapshot", CONDUCTOR_SNAPSHOT_INSTANCE },
    { "update", CONDUCTOR_UPDATE_INSTANCE },
};

static const char *
cells_state_action_method(const char *action)
{
    for (size_t i = 0; i < ARRAY_SIZE(cells_state_actions); i++) {
        if (!strcmp(cells_state_actions[i].action, action)) {
            return cells_state_actions[i].method;
        }
    }
    return NULL;
}

static struct error *
cells_state_get_uuid(const struct json_object *args, const char **ret_uuid)
{
    const char *uuid;
    struct error *error = json_get_string(args, NULL, "instance_uuid", true,
                                          UUID_STRING_SIZE, &uuid);

    if (error) {
        return error;
    }
    if (!uuid_is_valid(uuid)) {
        return error_new(ERROR_INVALID, "Invalid input for field/attribute "
                         "'instance_uuid'. Value: '%s'. It is not a UUID",
                         uuid);
    }
    *ret_uuid = uuid;
    return NULL;
}

/* ---- Up: updates from the conductor to the root ------------------------ */

static struct error *cells_state_do_action(struct cells_service *,
                                           const struct json_object *args,
                                           const struct rpc_ctx *ctx);
static struct error *cells_state_action_down(struct cells_service *,
                                             const char *cell_path,
                                             const char *uuid,
                                             const char *action,
                                             struct json_object *args);

/* Sends 'method' with a copy of 'args' plus this cell's path up to the
 * root, on behalf of 'ctx'. */
static struct error *
cells_state_send_up(struct cells_service *svc, const char *method,
                    const struct json_object *args,
                    const struct rpc_ctx *ctx)
{
    const struct topology_cell *root = topology_root(svc->topology);
    struct json_object *copy = NULL;
    struct cell_msg *msg;
    struct error *error;

    if (json_object_deep_copy((struct json_object *) args, &copy, NULL)) {
        return error_new(ERROR_INTERNAL, "Cannot copy the arguments of %s",
                         method);
    }
    json_object_object_add(copy, "cell_path",
                           json_object_new_string(svc->path));
    error = cell_msg_new_targeted(svc->path, root->path, method, copy,
                                  &msg);
    if (error) {
        return error;
    }
    rpc_ctx_destroy(&msg->ctx);
    rpc_ctx_clone(&msg->ctx, ctx);
    error = cell_node_send(svc->node, msg, 0, NULL, NULL);
    if (!error) {
        svc->stats.updates_up++;
    }
    return error;
}

/* An update from leaf 'cell_path' that the top view did not apply: if
 * the server was deleted at the top (before its build reached the leaf)
 * while the leaf's row lives on, newer than the top's, the delete
 * follows it down, so that nothing stays behind in the leaf.  An update
 * of an instance already being deleted asks nothing more. */
static void
cells_state_check_deleted_at_top(struct cells_service *svc,
                                 const char *cell_path,
                                 const struct instance *inst)
{
    CLEANUP(top_view_server_freep) struct top_view_server *srv = NULL;
    struct error *error;

    if (inst->vm_state == INSTANCE_VM_DELETED
        || inst->task_state == INSTANCE_TASK_DELETING) {
        return;
    }
    error = top_view_get(svc->api_db, inst->uuid, true, &srv);
    if (error) {
        LOG_WARN("instance %s: cannot read the top view: %s", inst->uuid,
                 error_message(error));
        error_free(error);
        return;
    }
    if (!srv->deleted || inst->update_seq <= srv->inst->update_seq) {
        return;
    }
    LOG_INFO("instance %s: deleted at the top but alive in cell '%s' "
             "(update %" PRId64 "): deleting it there", inst->uuid,
             cell_path, inst->update_seq);
    error = cells_state_delete_down(svc, cell_path, inst->uuid);
    if (error) {
        LOG_WARN("instance %s: cannot send the delete to cell '%s': %s",
                 inst->uuid, cell_path, error_message(error));
        error_free(error);
    }
}

/* A server renamed at the top before its build reached a cell: the build
 * carries the old name.  Returns the top view's name (a new string) when
 * the top-view row of 'inst' is live, not placed yet and named otherwise
 * than 'inst', else NULL.  Only asked for updates of building instances,
 * which is when the first update of a build arrives. */
static char *
cells_state_renamed_at_top(struct cells_service *svc,
                           const struct instance *inst)
{
    CLEANUP(top_view_server_freep) struct top_view_server *srv = NULL;
    struct error *error = top_view_get(svc->api_db, inst->uuid, false, &srv);

    if (error) {
        error_free(error);
        return NULL;
    }
    if (srv->cell_path || !srv->inst->display_name || !inst->display_name
        || !strcmp(srv->inst->display_name, inst->display_name)) {
        return NULL;
    }
    return xstrdup(srv->inst->display_name);
}

/* Puts back the name 'name' given at the top, which the first update of
 * the build just replaced, and sends it to the leaf. */
static void
cells_state_rename_down(struct cells_service *svc, const char *cell_path,
                        const char *uuid, const char *name)
{
    struct json_object *args = json_object_new_object();
    struct error *error;

    LOG_INFO("instance %s: renamed to '%s' before it reached cell '%s': "
             "renaming it there", uuid, name, cell_path);
    error = top_view_set_name(svc->api_db, uuid, name);
    if (!error) {
        json_object_object_add(args, "display_name",
                               json_object_new_string(name));
        error = cells_state_action_down(svc, cell_path, uuid, "update",
                                        TAKE_PTR(args));
    }
    json_object_put(args);
    if (error) {
        LOG_WARN("instance %s: cannot keep the name given at the top: %s",
                 uuid, error_message(error));
        error_free(error);
    }
}

/* Applies an update from leaf 'cell_path' at the root. */
static struct error *
cells_state_apply_update(struct cells_service *svc, const char *cell_path,
                         const struct json_object *args)
{
    CLEANUP(instance_freep) struct instance *inst = NULL;
    AUTOFREE char *renamed = NULL;
    struct json_object *fault = NULL;
    struct error *error;
    bool applied = false;

    if (!svc->api_db) {
        return error_new(ERROR_INVALID, "Cell '%s' keeps no top view",
                         svc->path);
    }
    error = instance_from_json(json_object_object_get(args, "instance"),
                               "instance", &inst);
    if (error) {
        return error;
    }
    if (json_object_object_get_ex(args, "fault", &fault)
        && !json_object_is_type(fault, json_type_object)) {
        fault = NULL;
    }
    if (inst->vm_state == INSTANCE_VM_BUILDING) {
        renamed = cells_state_renamed_at_top(svc, inst);
    }
    error = top_view_apply_update(svc->api_db, cell_path, inst, fault,
                                  &applied);
    if (error) {
        LOG_WARN("instance %s: cannot apply the update from cell '%s': %s",
                 inst->uuid, cell_path, error_message(error));
        return error;
    }
    if (applied && renamed) {
        cells_state_rename_down(svc, cell_path, inst->uuid, renamed);
    }
    if (applied) {
        svc->stats.updates_applied++;
    } else {
        svc->stats.updates_stale++;
        cells_state_check_deleted_at_top(svc, cell_path, inst);
    }
    LOG_DBG("instance %s: update %" PRId64 " from cell '%s' (vm_state %s) "
            "%s", inst->uuid, inst->update_seq, cell_path,
            instance_vm_state_to_string(inst->vm_state),
            applied ? "applied" : "not applied");
    return NULL;
}

/* Applies a destroy from leaf 'cell_path' at the root. */
static struct error *
cells_state_apply_destroy(struct cells_service *svc, const char *cell_path,
                          const struct json_object *args)
{
    const char *uuid;
    long long seq = 0;
    bool applied = false;
    struct error *error;

    if (!svc->api_db) {
        return error_new(ERROR_INVALID, "Cell '%s' keeps no top view",
                         svc->path);
    }
    error = cells_state_get_uuid(args, &uuid);
    if (!error) {
        error = json_get_int(args, NULL, "update_seq", true, 0,
                             INSTANCE_MAX_UPDATE_SEQ, &seq);
    }
    if (!error) {
        error = top_view_apply_destroy(svc->api_db, cell_path, uuid, seq,
                                       &applied);
    }
    if (error) {
        LOG_WARN("cannot apply a destroy from cell '%s': %s", cell_path,
                 error_message(error));
        return error;
    }
    if (applied) {
        svc->stats.updates_applied++;
    } else {
        svc->stats.updates_stale++;
    }
    LOG_DBG("instance %s: destroyed in cell '%s' (update %lld) %s", uuid,
            cell_path, seq, applied ? "applied" : "ignored");
    return NULL;
}

/* Common to both local handlers: up to the root, or applied here if this
 * is the root. */
static struct error *
cells_state_local(struct rpc_request *req, struct cells_service *svc,
                  bool destroy)
{
    const struct rpc_msg *msg = rpc_request_msg(req);
    const char *method = (destroy ? CELLS_MSG_INSTANCE_DESTROY_AT_TOP
                                  : CELLS_MSG_INSTANCE_UPDATE_AT_TOP);
    struct error *error;

    if (svc->is_root) {
        return (destroy
                ? cells_state_apply_destroy(svc, svc->path, msg->args)
                : cells_state_apply_update(svc, svc->path, msg->args));
    }
    error = cells_state_send_up(svc, method, msg->args, &msg->ctx);
    if (error) {
        LOG_WARN("cannot send %s up to the API cell: %s", method,
                 error_message(error));
    }
    return error;
}

struct error *
cells_state_update_local(struct rpc_request *req, void *svc,
                         struct json_object **ret_result)
{
    (void) ret_result;
    return cells_state_local(req, svc, false);
}

struct error *
cells_state_destroy_local(struct rpc_request *req, void *svc,
                          struct json_object **ret_result)
{
    (void) ret_result;
    return cells_state_local(req, svc, true);
}

struct error *
cells_state_update_cell(struct cell_request *req, void *svc,
                        struct json_object **ret_result)
{
    const struct cell_msg *msg = cell_request_msg(req);

    (void) ret_result;
    /* The sender is the leaf: its path is the instance's cell, whatever
     * the arguments say. */
    return cells_state_apply_update(svc, msg->sender, msg->args);
}

struct error *
cells_state_destroy_cell(struct cell_request *req, void *svc,
                         struct json_object **ret_result)
{
    const struct cell_msg *msg = cell_request_msg(req);

    (void) ret_result;
    return cells_state_apply_destroy(svc, msg->sender, msg->args);
}

/* ---- Down: actions from nova-api to the leaf --------------------------- */

/* Checks the arguments of instance_action; stores the conductor method. */
static struct error *
cells_state_check_action(const struct json_object *args,
                         const char **ret_uuid, const char **ret_method,
                         const char **ret_reboot_type)
{
    const char *action;
    const char *reboot_type = NULL;
    struct json_object *action_args = NULL;
    struct error *error;

    error = cells_state_get_uuid(args, ret_uuid);
    if (!error) {
        error = json_get_string(args, NULL, "action", true,
                                CELLS_STATE_NAME_MAX_LENGTH, &action);
    }
    if (error) {
        return error;
    }
    *ret_method = cells_state_action_method(action);
    if (!*ret_method) {
        return error_new(ERROR_INVALID, "Unknown instance action '%s'",
                         action);
    }
    if (json_object_object_get_ex(args, "args", &action_args)
        && json_object_is_type(action_args, json_type_object)) {
        error = json_get_string(action_args, "args", "reboot_type", false,
                                CELLS_STATE_NAME_MAX_LENGTH, &reboot_type);
        if (error) {
            return error;
        }
    }
    if (!strcmp(action, "reboot")) {
        if (!reboot_type) {
            reboot_type = "SOFT";
        }
        if (strcmp(reboot_type, "SOFT") && strcmp(reboot_type, "HARD")) {
            return error_new(ERROR_INVALID, "Invalid input for "
                             "field/attribute 'args.reboot_type'. Value: "
                             "'%s'. It is not one of 'SOFT', 'HARD'",
                             reboot_type);
        }
    }
    *ret_reboot_type = reboot_type;
    return NULL;
}

/* At the leaf: casts the conductor method of the action. */
static struct error *
cells_state_do_action(struct cells_service *svc,
                      const struct json_object *args,
                      const struct rpc_ctx *ctx)
{
    const char *uuid;
    const char *method;
    const char *reboot_type;
    struct json_object *cast_args;
    struct error *error;

    error = cells_state_check_action(args, &uuid, &method, &reboot_type);
    if (error) {
        return error;
    }
    if (!svc->is_leaf) {
        return error_new(ERROR_INVALID, "Cell '%s' has no hosts: instance "
                         "%s cannot be there", svc->path, uuid);
    }
    cast_args = json_object_new_object();
    json_object_object_add(cast_args, "instance_uuid",
                           json_object_new_string(uuid));
    if (!strcmp(method, CONDUCTOR_REBOOT_INSTANCE)) {
        json_object_object_add(cast_args, "reboot_type",
                               json_object_new_string(reboot_type));
    }
    if (!strcmp(method, CONDUCTOR_UPDATE_INSTANCE)) {
        /* display_name and metadata; the conductor checks them. */
        struct json_object *upd = json_object_object_get(args, "args");
        static const char *const keys[] = { "display_name", "metadata" };

        for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
            struct json_object *value = NULL;

            if (json_object_is_type(upd, json_type_object)
                && json_object_object_get_ex(upd, keys[i], &value)) {
                json_object_object_add(cast_args, keys[i],
                                       json_object_get(value));
            }
        }
    }
    if (!strcmp(method, CONDUCTOR_SNAPSHOT_INSTANCE)) {
        /* The conductor checks them (conductor-snapshot.h). */
        struct json_object *snap = json_object_object_get(args, "args");

        if (json_object_is_type(snap, json_type_object)) {
            json_object_object_foreach(snap, key, value) {
                json_object_object_add(cast_args, key,
                                       json_object_get(value));
            }
        }
    }
    error = cells_cast_conductor(svc, ctx, method, cast_args);
    if (error) {
        return error;
    }
    svc->stats.actions++;
    LOG_INFO("instance %s: %s cast to the conductor", uuid, method);
    return NULL;
}

struct error *
cells_state_action_local(struct rpc_request *req, void *svc_,
                         struct json_object **ret_result)
{
    struct cells_service *svc = svc_;
    const struct rpc_msg *msg = rpc_request_msg(req);
    const char *uuid;
    const char *method;
    const char *reboot_type;
    const char *cell_path;
    struct json_object *copy = NULL;
    struct cell_msg *cmsg;
    struct error *error;

    (void) ret_result;
    error = cells_state_check_action(msg->args, &uuid, &method,
                                     &reboot_type);
    if (!error) {
        error = json_get_string(msg->args, NULL, "cell_path", true,
                                CELL_PATH_MAX_LENGTH, &cell_path);
    }
    if (!error) {
        error = cell_path_check("cell_path", cell_path);
    }
    if (error) {
        LOG_WARN("refusing instance_action: %s", error_message(error));
        return error;
    }
    if (cell_path_equal(cell_path, svc->path)) {
        return cells_state_do_action(svc, msg->args, &msg->ctx);
    }
    if (json_object_deep_copy(msg->args, &copy, NULL)) {
        return error_new(ERROR_INTERNAL, "Cannot copy the arguments of "
                         "instance_action");
    }
    error = cell_msg_new_targeted(svc->path, cell_path,
                                  CELLS_MSG_INSTANCE_ACTION, copy, &cmsg);
    if (!error) {
        rpc_ctx_destroy(&cmsg->ctx);
        rpc_ctx_clone(&cmsg->ctx, &msg->ctx);
        error = cell_node_send(svc->node, cmsg, 0, NULL, NULL);
    }
    if (error) {
        LOG_WARN("instance %s: cannot send %s to cell '%s': %s", uuid,
                 method, cell_path, error_message(error));
        return error;
    }
    svc->stats.actions++;
    LOG_INFO("instance %s: %s sent to cell '%s'", uuid, method, cell_path);
    return NULL;
}

struct error *
cells_state_action_cell(struct cell_request *req, void *svc,
                        struct json_object **ret_result)
{
    const struct cell_msg *msg = cell_request_msg(req);

    (void) ret_result;
    return cells_state_do_action(svc, msg->args, &msg->ctx);
}

/* Sends instance action 'action' with 'action_args' (taken; NULL for {})
 * for 'uuid' from the root to leaf 'cell_path', with an admin context. */
static struct error *
cells_state_action_down(struct cells_service *svc, const char *cell_path,
                        const char *uuid, const char *action,
                        struct json_object *action_args)
{
    struct json_object *args = json_object_new_object();
    struct cell_msg *cmsg = NULL;
    struct rpc_ctx ctx;
    struct error *error;

    json_object_object_add(args, "instance_uuid",
                           json_object_new_string(uuid));
    json_object_object_add(args, "cell_path",
                           json_object_new_string(cell_path));
    json_object_object_add(args, "action", json_object_new_string(action));
    json_object_object_add(args, "args", action_args
                           ? action_args : json_object_new_object());
    /* What the user asked was accepted at the top: a lock taken since
     * must not stop it. */
    rpc_ctx_init(&ctx);
    rpc_ctx_add_role(&ctx, "admin");
    ctx.is_admin = true;
    if (cell_path_equal(cell_path, svc->path)) {
        error = cells_state_do_action(svc, args, &ctx);
        json_object_put(args);
    } else {
        error = cell_msg_new_targeted(svc->path, cell_path,
                                      CELLS_MSG_INSTANCE_ACTION, args,
                                      &cmsg);
        if (!error) {
            rpc_ctx_destroy(&cmsg->ctx);
            rpc_ctx_clone(&cmsg->ctx, &ctx);
            error = cell_node_send(svc->node, cmsg, 0, NULL, NULL);
        }
        if (!error) {
            svc->stats.actions++;
        }
    }
    rpc_ctx_destroy(&ctx);
    return error;
}

struct error *
cells_state_delete_down(struct cells_service *svc, const char *cell_path,
                        const char *uuid)
{
    return cells_state_action_down(svc, cell_path, uuid, "delete", NULL);
}
