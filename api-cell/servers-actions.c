/* servers-actions.c: POST /v2.1/servers/{server_id}/action
 * (servers-actions.h).
 *
 * The state table is Nova's @check_instance_state of nova/compute/api.py,
 * the same one nova-conductor applies in the leaf (child-cell/
 * conductor-actions.h), so a request refused below would be refused here
 * first with the API's own words:
 *
 *   action       vm_state                          task_state
 *   reboot SOFT  active                            none
 *   reboot HARD  active stopped paused suspended   ALLOW_REBOOT
 *                error
 *   stop         active error                      none
 *   start        stopped                           none
 *   pause        active                            none
 *   unpause      paused                            none
 *   suspend      active                            none
 *   resume       suspended                         none
 *   createImage  active stopped paused suspended       none
 *   createBackup active stopped paused suspended       none
 *
 * and every one of them needs the server to have launched.
 *
 * Every action, lock and unlock included, is refused at once with 503
 * when the server's cell or a cell above it is mute or excluded
 * (cell_status_check_reachable()): the request could not reach the leaf,
 * and a 202 would leave the caller waiting on a task state nothing will
 * clear.  The check follows the policy check, so that a caller without
 * the right is told 403 and learns nothing of the tree. */
#include <config.h>

#include "api-cell/servers-actions.h"

#include <string.h>
#include <json-c/json.h>

#include "api-cell/cell-status.h"
#include "api-cell/compute-api.h"
#include "api-cell/http-router.h"
#include "api-cell/policy.h"
#include "api-cell/servers-api.h"
#include "api-cell/servers-snapshot.h"
#include "api-cell/servers-validate.h"
#include "api-cell/top-view.h"
#include "cells-rpc/cells-rpcapi.h"
#include "shared/cleanup.h"
#include "shared/error.h"
#include "shared/instance.h"
#include "shared/log.h"
#include "shared/xalloc.h"

LOG_MODULE("api.servers.actions");

#define VM(state) (1u << (state))

/* Most task states one action accepts. */
#define SERVERS_ACTION_MAX_TASKS 10

struct servers_action_rule {
    const char *name;           /* Nova's name in messages; the cells
                                 * action */
    bool hard;
    const char *policy;
    unsigned int vm_states;
    enum instance_task_state tasks[SERVERS_ACTION_MAX_TASKS];
    size_t n_tasks;
    const char *new_task;
};

static const struct servers_action_rule servers_action_rules[] = {
    { "reboot", false, "os_compute_api:servers:reboot",
      VM(INSTANCE_VM_ACTIVE), { INSTANCE_TASK_NONE }, 1, "rebooting" },
    { "reboot", true, "os_compute_api:servers:reboot",
      VM(INSTANCE_VM_ACTIVE) | VM(INSTANCE_VM_STOPPED)
      | VM(INSTANCE_VM_PAUSED) | VM(INSTANCE_VM_SUSPENDED)
      | VM(INSTANCE_VM_ERROR),
      { INSTANCE_TASK_NONE, INSTANCE_TASK_REBOOTING,
        INSTANCE_TASK_REBOOT_PENDING, INSTANCE_TASK_REBOOT_STARTED,
        INSTANCE_TASK_REBOOTING_HARD, INSTANCE_TASK_RESUMING,
        INSTANCE_TASK_UNPAUSING, INSTANCE_TASK_PAUSING,
        INSTANCE_TASK_SUSPENDING }, 9, "rebooting_hard" },
    { "stop", false, "os_compute_api:servers:stop",
      VM(INSTANCE_VM_ACTIVE) | VM(INSTANCE_VM_ERROR),
      { INSTANCE_TASK_NONE }, 1, "powering-off" },
    { "start", false, "os_compute_api:servers:start",
      VM(INSTANCE_VM_STOPPED), { INSTANCE_TASK_NONE }, 1, "powering-on" },
    { "pause", false, "os_compute_api:os-pause-server:pause",
      VM(INSTANCE_VM_ACTIVE), { INSTANCE_TASK_NONE }, 1, "pausing" },
    { "unpause", false, "os_compute_api:os-pause-server:unpause",
      VM(INSTANCE_VM_PAUSED), { INSTANCE_TASK_NONE }, 1, "unpausing" },
    { "suspend", false, "os_compute_api:os-suspend-server:suspend",
      VM(INSTANCE_VM_ACTIVE), { INSTANCE_TASK_NONE }, 1, "suspending" },
    { "resume", false, "os_compute_api:os-suspend-server:resume",
      VM(INSTANCE_VM_SUSPENDED), { INSTANCE_TASK_NONE }, 1, "resuming" },
    /* Served by servers-snapshot.c, which uses the state check only. */
    { "createImage", false, "os_compute_api:servers:create_image",
      VM(INSTANCE_VM_ACTIVE) | VM(INSTANCE_VM_STOPPED)
      | VM(INSTANCE_VM_PAUSED) | VM(INSTANCE_VM_SUSPENDED),
      { INSTANCE_TASK_NONE }, 1, "image_snapshot" },
    { "createBackup", false, "os_compute_api:os-create-backup",
      VM(INSTANCE_VM_ACTIVE) | VM(INSTANCE_VM_STOPPED)
      | VM(INSTANCE_VM_PAUSED) | VM(INSTANCE_VM_SUSPENDED),
      { INSTANCE_TASK_NONE }, 1, "image_backup" },
};

static const struct servers_action_rule *
servers_action_rule_find(const char *name, bool hard)
{
    for (size_t i = 0; i < ARRAY_SIZE(servers_action_rules); i++) {
        const struct servers_action_rule *rule = &servers_action_rules[i];

        if (!strcmp(rule->name, name) && rule->hard == hard) {
            return rule;
        }
    }
    return NULL;
}

struct error *
servers_actions_check_state(const char *name, bool hard,
                            const struct top_view_server *srv)
{
    const struct servers_action_rule *rule =
        servers_action_rule_find(name, hard);
    const struct instance *inst = srv->inst;
    bool task_ok = false;

    if (!rule) {
        return error_new(ERROR_INVALID, "There is no such action: %s", name);
    }
    if (!((unsigned int) inst->vm_state < 32
          && (rule->vm_states & VM(inst->vm_state)))) {
        return error_new(ERROR_CONFLICT, "Cannot '%s' instance %s while it "
                         "is in vm_state %s", name, inst->uuid,
                         instance_vm_state_to_string(inst->vm_state));
    }
    for (size_t i = 0; i < rule->n_tasks; i++) {
        if (rule->tasks[i] == inst->task_state) {
            task_ok = true;
        }
    }
    if (!task_ok) {
        /* Python prints a task state of None as "None". */
        const char *task = instance_task_state_to_nullable(inst->task_state);

        return error_new(ERROR_CONFLICT, "Cannot '%s' instance %s while it "
                         "is in task_state %s", name, inst->uuid,
                         task ? task : "None");
    }
    if (inst->launched_at == INSTANCE_TIME_NONE) {
        return error_new(ERROR_CONFLICT, "Cannot '%s' instance %s while it "
                         "is in launched_at None", name, inst->uuid);
    }
    return NULL;
}

/* reboot, stop, start, pause, unpause, suspend, resume. */
static struct error *
servers_action_state_change(struct compute_api *compute,
                            struct http_request *req,
                            struct http_response *resp, struct db *db,
                            const struct top_view_server *srv,
                            const char *name, bool hard)
{
    const struct servers_action_rule *rule =
        servers_action_rule_find(name, hard);
    const struct http_auth *auth = http_request_auth(req);
    struct json_object *args = NULL;
    struct error *error;

    error = policy_check(auth, rule->policy, srv->inst->project_id);
    if (!error) {
        error = cell_status_check_reachable(db, srv->cell_path);
    }
    if (error) {
        return error;
    }
    if (srv->locked && !auth->is_admin) {
        return error_new(ERROR_CONFLICT, "Instance %s is locked",
                         srv->inst->uuid);
    }
    error = servers_actions_check_state(name, hard, srv);
    if (error) {
        return error;
    }
    if (!compute->cells) {
        return servers_api_no_cells();
    }
    if (!srv->cell_path) {
        return error_new(ERROR_CONFLICT, "Instance %s is not ready",
                         srv->inst->uuid);
    }
    error = top_view_set_task_state(db, srv->inst->uuid, rule->new_task);
    if (error) {
        return error;
    }
    if (!strcmp(name, "reboot")) {
        args = json_object_new_object();
        json_object_object_add(args, "reboot_type", json_object_new_string(
                                   hard ? "HARD" : "SOFT"));
    }
    error = servers_api_cast_action(compute, req, srv, name, args);
    if (error) {
        return error;
    }
    LOG_INFO_CTX(http_request_log_ctx(req), "%s%s of %s sent to cell %s",
                 name, hard ? " (hard)" : "", srv->inst->uuid,
                 srv->cell_path);
    http_response_set_status(resp, 202);
    return NULL;
}

/* Nova's is_expected_locked_by(): who would have locked the server if the
 * caller had. */
static const char *
servers_lock_owner(const struct http_auth *auth,
                   const struct top_view_server *srv)
{
    return auth->project_id && srv->inst->project_id
           && !strcmp(auth->project_id, srv->inst->project_id)
           ? "owner" : "admin";
}

static struct error *
servers_action_lock(struct http_request *req, struct http_response *resp,
                    struct db *db, const struct top_view_server *srv,
                    bool lock)
{
    const struct http_auth *auth = http_request_auth(req);
    const char *expected = servers_lock_owner(auth, srv);
    struct error *error;

    error = policy_check(auth, lock ? "os_compute_api:os-lock-server:lock"
                                    : "os_compute_api:os-lock-server:unlock",
                         srv->inst->project_id);
    if (!error && !lock && srv->locked && srv->locked_by
        && strcmp(srv->locked_by, expected)) {
        error = policy_check(auth, "os_compute_api:os-lock-server:unlock:"
                             "unlock_override", srv->inst->project_id);
    }
    if (!error) {
        error = cell_status_check_reachable(db, srv->cell_path);
    }
    if (!error) {
        error = top_view_set_locked(db, srv->inst->uuid, lock,
                                    lock ? expected : NULL);
    }
    if (error) {
        return error;
    }
    http_response_set_status(resp, 202);
    return NULL;
}

/* The console text with the control characters Nova removes
 * ([\x00-\x08\x0B-\x1F]) removed. */
static struct error *
servers_console_reply(struct json_object *result, struct http_response *resp)
{
    struct json_object *output = NULL, *body;
    const char *text;
    AUTOFREE char *clean = NULL;
    size_t n = 0;

    if (!result || !json_object_object_get_ex(result, "output", &output)
        || !json_object_is_type(output, json_type_string)) {
        return error_new(ERROR_INTERNAL, "get_console_output answered "
                         "without an output");
    }
    text = json_object_get_string(output);
    clean = xmalloc(strlen(text) + 1);
    for (const char *p = text; *p; p++) {
        unsigned char c = (unsigned char) *p;

        if (c <= 0x08 || (c >= 0x0b && c <= 0x1f)) {
            continue;
        }
        clean[n++] = (char) c;
    }
    clean[n] = '\0';
    body = json_object_new_object();
    json_object_object_add(body, "output", json_object_new_string(clean));
    http_response_set_json(resp, 200, body);
    return NULL;
}

static struct error *
servers_action_console(struct compute_api *compute,
                       struct http_request *req, struct http_response *resp,
                       struct db *db, const struct top_view_server *srv,
                       const struct servers_action_req *a)
{
    struct json_object *args;
    struct error *error;

    error = policy_check(http_request_auth(req),
                         "os_compute_api:os-console-output",
                         srv->inst->project_id);
    if (!error) {
        error = cell_status_check_reachable(db, srv->cell_path);
    }
    if (error) {
        return error;
    }
    if (!compute->cells) {
        return servers_api_no_cells();
    }
    if (!srv->cell_path || !srv->inst->host) {
        return error_new(ERROR_CONFLICT, "Instance %s is not ready",
                         srv->inst->uuid);
    }
    args = json_object_new_object();
    json_object_object_add(args, "cell_path",
                           json_object_new_string(srv->cell_path));
    json_object_object_add(args, "instance_uuid",
                           json_object_new_string(srv->inst->uuid));
    if (a->has_length) {
        json_object_object_add(args, "length",
                               json_object_new_int64(a->length));
    }
    return servers_api_call(compute, req, resp, CELLS_GET_CONSOLE_OUTPUT,
                            args, srv->cell_path, servers_console_reply);
}

static struct error *
servers_action(struct http_request *req, struct http_response *resp,
               void *aux)
{
    struct compute_api *compute = aux;
    CLEANUP(top_view_server_freep) struct top_view_server *srv = NULL;
    struct servers_action_req a;
    struct db *db;
    struct error *error;

    if (servers_snapshot_is_action(http_request_body(req))) {
        return servers_snapshot_action(compute, req, resp);
    }
    /* Nova dispatches on the body before it looks the server up. */
    error = servers_validate_action(http_request_body(req), &a);
    if (!error) {
        error = servers_api_get_server(compute, req,
                                       http_request_param(req, "server_id"),
                                       &db, &srv);
    }
    if (error) {
        return error;
    }
    switch (a.action) {
    case SERVERS_ACTION_REBOOT:
        return servers_action_state_change(compute, req, resp, db, srv,
                                           "reboot", a.hard);
    case SERVERS_ACTION_STOP:
        return servers_action_state_change(compute, req, resp, db, srv,
                                           "stop", false);
    case SERVERS_ACTION_START:
        return servers_action_state_change(compute, req, resp, db, srv,
                                           "start", false);
    case SERVERS_ACTION_PAUSE:
        return servers_action_state_change(compute, req, resp, db, srv,
                                           "pause", false);
    case SERVERS_ACTION_UNPAUSE:
        return servers_action_state_change(compute, req, resp, db, srv,
                                           "unpause", false);
    case SERVERS_ACTION_SUSPEND:
        return servers_action_state_change(compute, req, resp, db, srv,
                                           "suspend", false);
    case SERVERS_ACTION_RESUME:
        return servers_action_state_change(compute, req, resp, db, srv,
                                           "resume", false);
    case SERVERS_ACTION_LOCK:
        return servers_action_lock(req, resp, db, srv, true);
    case SERVERS_ACTION_UNLOCK:
        return servers_action_lock(req, resp, db, srv, false);
    case SERVERS_ACTION_CONSOLE_OUTPUT:
        return servers_action_console(compute, req, resp, db, srv, &a);
    case SERVERS_N_ACTIONS:
    default:
        break;
    }
    return error_new(ERROR_INVALID, "There is no such action: %s",
                     servers_action_to_string(a.action));
}

void
servers_actions_register(struct http_router *router,
                         struct compute_api *compute)
{
    http_router_add(router, HTTP_POST, "/v2.1/servers/{server_id}/action", 0,
                    servers_action, compute);
}
