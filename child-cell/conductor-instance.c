/* conductor-instance.c: server actions and the instance methods of
 * nova-conductor (see conductor-instance.h). */
#include <config.h>

#include "child-cell/conductor-instance.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <string.h>

#include "cells-rpc/rpc-msg.h"
#include "cells-rpc/rpc-server.h"
#include "child-cell/cell-db.h"
#include "child-cell/conductor-actions.h"
#include "child-cell/conductor-private.h"
#include "shared/db.h"
#include "shared/error.h"
#include "shared/instance.h"
#include "shared/json-util.h"
#include "shared/log.h"
#include "shared/timeutil.h"
#include "shared/xalloc.h"

LOG_MODULE("conductor.instance");

/* Binary of the compute services whose liveness decides a local delete. */
#define CONDUCTOR_COMPUTE_BINARY "nova-compute"

/* Longest event name, result and details accepted from action_event. */
#define CONDUCTOR_EVENT_NAME_MAX_LENGTH CELL_DB_ACTION_NAME_MAX_LENGTH
#define CONDUCTOR_EVENT_DETAILS_MAX_LENGTH CELL_DB_ACTION_TEXT_MAX_SIZE

/* ---- Server actions ---------------------------------------------------- */

struct conductor_action_txn {
    /* In. */
    struct conductor *cond;
    const char *uuid;
    enum conductor_action action;
    const struct rpc_ctx *ctx;
    /* Out. */
    struct instance *row;               /* The row as committed. */
    bool local_delete;                  /* Deleted here, nothing to cast. */
};

/* True if the compute service of 'host' is up. */
static struct error *
conductor_compute_is_up(struct conductor *cond, struct db *db,
                        const char *host, bool *ret_up)
{
    CLEANUP(cell_db_service_freep) struct cell_db_service *service = NULL;
    struct error *error = cell_db_service_get(db, host,
                                              CONDUCTOR_COMPUTE_BINARY,
                                              cond->service_down_time_s,
                                              &service);

    if (error && error_kind(error) == ERROR_NOT_FOUND) {
        error_free(error);
        *ret_up = false;
        return NULL;
    }
    if (!error) {
        *ret_up = service->up;
    }
    return error;
}

/* Deletes the instance 'uuid' here: marks it deleted and, if this call
 * deleted it, releases its claim, all in the caller's transaction.  The
 * claim is read from the row as the deletion left it (the newest, since
 * the update locked it), not from an earlier read. */
static struct error *
conductor_local_delete(struct db *db, const char *uuid,
                       struct instance **ret_row)
{
    bool deleted = false;
    struct instance *row = NULL;
    struct error *error = cell_db_instance_mark_deleted(db, uuid, &deleted,
                                                        &row);

    if (!error && deleted && row->host && row->node) {
        error = cell_db_node_release_flavor(db, row->host, row->node,
                                            row->flavor);
        if (error && error_kind(error) == ERROR_NOT_FOUND) {
            error_free(error);
            error = NULL;
        }
    }
    if (error) {
        instance_free(row);
        return error;
    }
    *ret_row = row;
    return NULL;
}

static struct error *
conductor_action_txn_fn(struct db *db, void *aux)
{
    struct conductor_action_txn *t = aux;
    const struct conductor_action_info *info
        = conductor_action_get(t->action);
    CLEANUP(instance_freep) struct instance *inst = NULL;
    struct error *error;

    instance_free(t->row);
    t->row = NULL;
    t->local_delete = false;

    error = cell_db_instance_get(db, t->uuid, false, &inst);
    if (!error) {
        error = conductor_action_check(t->action, inst, t->ctx->is_admin);
    }
    if (!error) {
        error = cell_db_action_start(
            db, t->uuid, info->name, t->ctx->request_id,
            t->ctx->user_id ? t->ctx->user_id : inst->user_id,
            t->ctx->project_id ? t->ctx->project_id : inst->project_id,
            NULL);
    }
    if (error) {
        return error;
    }

    if (t->action == CONDUCTOR_ACTION_DELETE) {
        bool up = false;

        if (inst->host) {
            error = conductor_compute_is_up(t->cond, db, inst->host, &up);
            if (error) {
                return error;
            }
        }
        if (!up) {
            t->local_delete = true;
            return conductor_local_delete(db, t->uuid, &t->row);
        }
    }

    const struct cell_db_instance_updates updates = {
        .fields = CELL_DB_INSTANCE_TASK_STATE,
        .task_state = info->new_task_state,
    };
    return cell_db_instance_update(
        db, t->uuid, &updates, info->any_task_state ? NULL : info->task_states,
        info->any_task_state ? 0 : info->n_task_states, &t->row);
}

static struct error *
conductor_instance_action(struct rpc_request *req, struct conductor *cond,
                          enum conductor_action action,
                          struct json_object **ret_result)
{
    const struct rpc_msg *msg = rpc_request_msg(req);
    const struct conductor_action_info *info = conductor_action_get(action);
    struct conductor_action_txn t = {
        .cond = cond, .action = action, .ctx = &msg->ctx,
    };
    struct log_ctx log_ctx;
    struct error *error;

    error = conductor_get_uuid(msg->args, "instance_uuid", &t.uuid);
    if (error) {
        return error;
    }
    conductor_log_ctx(cond, msg, t.uuid, &log_ctx);
    error = db_txn_run(cond->db, conductor_action_txn_fn, &t);
    if (error) {
        instance_free(t.row);
        if (error_kind(error) == ERROR_CONFLICT
            || error_kind(error) == ERROR_NOT_FOUND) {
            cond->stats.actions_refused++;
            LOG_INFO_CTX(&log_ctx, "refusing %s: %s", info->name,
                         error_message(error));
        } else {
            LOG_ERR_CTX(&log_ctx, "cannot %s the instance: %s", info->name,
                        error_message(error));
        }
        return error;
    }
    cond->stats.actions++;
    conductor_instance_changed(cond, t.row, &log_ctx);

    if (t.local_delete) {
        LOG_INFO_CTX(&log_ctx, "deleted the instance here (%s)",
                     t.row->host ? "its compute service is down"
                                 : "it has no host");
    } else {
        struct json_object *args = json_object_new_object();

        json_object_object_add(args, "instance", instance_to_json(t.row));
        if (action == CONDUCTOR_ACTION_REBOOT_SOFT
            || action == CONDUCTOR_ACTION_REBOOT_HARD) {
            json_object_object_add(
                args, "reboot_type",
                json_object_new_string(action == CONDUCTOR_ACTION_REBOOT_SOFT
                                       ? CONDUCTOR_REBOOT_SOFT
                                       : CONDUCTOR_REBOOT_HARD));
        }
        error = conductor_cast_compute(cond, msg, t.row->host,
                                       info->compute_method, args);
        if (error) {
            /* XXX: the task state stays set; the user can ask again (hard
             * reboot and delete accept their own task state). */
            LOG_ERR_CTX(&log_ctx, "cannot send %s to host '%s': %s",
                        info->compute_method, t.row->host,
                        error_message(error));
            instance_free(t.row);
            return error;
        }
        LOG_INFO_CTX(&log_ctx, "%s sent to host '%s'", info->name,
                     t.row->host);
    }
    *ret_result = instance_to_json(t.row);
    instance_free(t.row);
    return NULL;
}

struct error *
conductor_instance_action_validate(const struct json_object *args)
{
    static const char *const keys[] = { "instance_uuid", NULL };
    const char *uuid;
    struct error *error = json_check_allowed_keys(args, NULL, keys);

    return error ? error : conductor_get_uuid(args, "instance_uuid", &uuid);
}

struct error *
conductor_instance_reboot_validate(const struct json_object *args)
{
    static const char *const keys[] = {
        "instance_uuid", "reboot_type", NULL,
    };
    const char *uuid, *type = CONDUCTOR_REBOOT_SOFT;
    struct error *error = json_check_allowed_keys(args, NULL, keys);

    if (!error) {
        error = conductor_get_uuid(args, "instance_uuid", &uuid);
    }
    if (!error) {
        error = json_get_string(args, NULL, "reboot_type", false, 0, &type);
    }
    if (!error && strcmp(type, CONDUCTOR_REBOOT_SOFT)
        && strcmp(type, CONDUCTOR_REBOOT_HARD)) {
        error = error_new(ERROR_INVALID, "Invalid input for field/attribute "
                          "'reboot_type'. Value: '%s'. It is not one of "
                          "'SOFT', 'HARD'", type);
    }
    return error;
}

struct error *
conductor_instance_delete(struct rpc_request *req, void *aux,
                          struct json_object **ret_result)
{
    return conductor_instance_action(req, aux, CONDUCTOR_ACTION_DELETE,
                                     ret_result);
}

struct error *
conductor_instance_reboot(struct rpc_request *req, void *aux,
                          struct json_object **ret_result)
{
    const char *type = CONDUCTOR_REBOOT_SOFT;
    struct error *error = json_get_string(rpc_request_msg(req)->args, NULL,
                                          "reboot_type", false, 0, &type);

    if (error) {
        return error;
    }
    return conductor_instance_action(
        req, aux, (!strcmp(type, CONDUCTOR_REBOOT_HARD)
                   ? CONDUCTOR_ACTION_REBOOT_HARD
                   : CONDUCTOR_ACTION_REBOOT_SOFT), ret_result);
}

struct error *
conductor_instance_stop(struct rpc_request *req, void *aux,
                        struct json_object **ret_result)
{
    return conductor_instance_action(req, aux, CONDUCTOR_ACTION_STOP,
                                     ret_result);
}

struct error *
conductor_instance_start(struct rpc_request *req, void *aux,
                         struct json_object **ret_result)
{
    return conductor_instance_action(req, aux, CONDUCTOR_ACTION_START,
                                     ret_result);
}

struct error *
conductor_instance_pause(struct rpc_request *req, void *aux,
                         struct json_object **ret_result)
{
    return conductor_instance_action(req, aux, CONDUCTOR_ACTION_PAUSE,
                                     ret_result);
}

struct error *
conductor_instance_unpause(struct rpc_request *req, void *aux,
                           struct json_object **ret_result)
{
    return conductor_instance_action(req, aux, CONDUCTOR_ACTION_UNPAUSE,
                                     ret_result);
}

struct error *
conductor_instance_suspend(struct rpc_request *req, void *aux,
                           struct json_object **ret_result)
{
    return conductor_instance_action(req, aux, CONDUCTOR_ACTION_SUSPEND,
                                     ret_result);
}

struct error *
conductor_instance_resume(struct rpc_request *req, void *aux,
                          struct json_object **ret_result)
{
    return conductor_instance_action(req, aux, CONDUCTOR_ACTION_RESUME,
                                     ret_result);
}

/* ---- update_instance: rename and metadata from the API cell ------------- */

struct conductor_apply_update_txn {
    const char *uuid;
    const char *display_name;           /* NULL: unchanged */
    const char *metadata_text;          /* JSON object; NULL: unchanged */
    struct instance *row;               /* Out: the row as committed. */
};

static struct error *
conductor_apply_update_txn_fn(struct db *db, void *aux)
{
    struct conductor_apply_update_txn *t = aux;
    const struct cell_db_instance_updates updates = {
        .fields = t->display_name ? CELL_DB_INSTANCE_DISPLAY_NAME : 0,
        .display_name = t->display_name,
    };
    CLEANUP(instance_freep) struct instance *inst = NULL;
    struct error *error;

    instance_free(t->row);
    t->row = NULL;
    error = cell_db_instance_get(db, t->uuid, false, &inst);
    if (!error && t->metadata_text) {
        /* The metadata column has no setter of its own in
         * cell-db-instance.h; the update below, in the same transaction,
         * bumps update_seq for both changes. */
        error = db_exec(db,
                        "UPDATE instances SET metadata = ? "
                        "WHERE uuid = ? AND deleted = 0",
                        DB_PARAMS(DB_STR(t->metadata_text),
                                  DB_STR(t->uuid)),
                        NULL);
    }
    if (!error) {
        error = cell_db_instance_update(db, t->uuid, &updates, NULL, 0,
                                        &t->row);
    }
    return error;
}

/* Checks "metadata" of 'args', if there: Nova's limits on keys, values
 * and their number. */
static struct error *
conductor_check_metadata(const struct json_object *args,
                         struct json_object **ret)
{
    struct json_object *metadata = NULL;

    *ret = NULL;
    if (!json_object_object_get_ex((struct json_object *) args, "metadata",
                                   &metadata)) {
        return NULL;
    }
    if (!json_object_is_type(metadata, json_type_object)) {
        return error_new(ERROR_INVALID, "Invalid input for field/attribute "
                         "'metadata'. It is not an object");
    }
    if (json_object_object_length(metadata) > INSTANCE_MAX_METADATA) {
        return error_new(ERROR_INVALID, "Maximum number of metadata items "
                         "exceeds %d", INSTANCE_MAX_METADATA);
    }
    json_object_object_foreach(metadata, key, value) {
        size_t n = strlen(key);

        if (n < 1 || n > INSTANCE_META_KEY_MAX_LENGTH
            || !json_object_is_type(value, json_type_string)
            || strlen(json_object_get_string(value))
               > 4 * INSTANCE_META_VALUE_MAX_LENGTH) {
            return error_new(ERROR_INVALID, "Invalid input for "
                             "field/attribute 'metadata'. Bad item '%.64s'",
                             key);
        }
    }
    *ret = metadata;
    return NULL;
}

struct error *
conductor_instance_apply_update_validate(const struct json_object *args)
{
    static const char *const keys[] = {
        "instance_uuid", "display_name", "metadata", NULL,
    };
    struct json_object *metadata;
    const char *uuid, *name = NULL;
    struct error *error = json_check_allowed_keys(args, NULL, keys);

    if (!error) {
        error = conductor_get_uuid(args, "instance_uuid", &uuid);
    }
    if (!error) {
        error = json_get_string(args, NULL, "display_name", false,
                                INSTANCE_NAME_MAX_LENGTH, &name);
    }
    if (!error && name && !*name) {
        error = error_new(ERROR_INVALID, "Invalid input for field/attribute "
                          "'display_name'. It is empty");
    }
    if (!error) {
        error = conductor_check_metadata(args, &metadata);
    }
    return error;
}

struct error *
conductor_instance_apply_update(struct rpc_request *req, void *aux,
                                struct json_object **ret_result)
{
    struct conductor *cond = aux;
    const struct rpc_msg *msg = rpc_request_msg(req);
    struct conductor_apply_update_txn t = { 0 };
    AUTOFREE char *metadata_text = NULL;
    struct json_object *metadata = NULL;
    struct log_ctx log_ctx;
    struct error *error;

    error = conductor_get_uuid(msg->args, "instance_uuid", &t.uuid);
    if (!error) {
        error = json_get_string(msg->args, NULL, "display_name", false,
                                INSTANCE_NAME_MAX_LENGTH, &t.display_name);
    }
    if (!error) {
        error = conductor_check_metadata(msg->args, &metadata);
    }
    if (error) {
        return error;
    }
    if (metadata) {
        metadata_text = json_to_string_plain(metadata);
        t.metadata_text = metadata_text;
    }
    conductor_log_ctx(cond, msg, t.uuid, &log_ctx);
    error = db_txn_run(cond->db, conductor_apply_update_txn_fn, &t);
    if (error) {
        instance_free(t.row);
        if (error_kind(error) == ERROR_NOT_FOUND) {
            LOG_INFO_CTX(&log_ctx, "refusing the update: %s",
                         error_message(error));
        } else {
            LOG_ERR_CTX(&log_ctx, "cannot update the instance: %s",
                        error_message(error));
        }
        return error;
    }
    LOG_INFO_CTX(&log_ctx, "updated%s%s (update %" PRId64 ")",
                 t.display_name ? " the name" : "",
                 metadata ? " the metadata" : "", t.row->update_seq);
    conductor_instance_changed(cond, t.row, &log_ctx);
    *ret_result = instance_to_json(t.row);
    instance_free(t.row);
    return NULL;
}

/* ---- instance_get, instance_list --------------------------------------- */

struct error *
conductor_instance_get_validate(const struct json_object *args)
{
    return conductor_instance_action_validate(args);
}

struct error *
conductor_instance_get(struct rpc_request *req, void *aux,
                       struct json_object **ret_result)
{
    struct conductor *cond = aux;
    CLEANUP(instance_freep) struct instance *inst = NULL;
    const char *uuid;
    struct error *error;

    error = conductor_get_uuid(rpc_request_msg(req)->args, "instance_uuid",
                               &uuid);
    if (!error) {
        error = cell_db_instance_get(cond->db, uuid, false, &inst);
    }
    if (error) {
        return error;
    }
    *ret_result = instance_to_json(inst);
    return NULL;
}

static struct error *
conductor_list_args(const struct json_object *args, const char **ret_host,
                    long long *ret_limit)
{
    static const char *const keys[] = { "host", "limit", NULL };
    struct error *error = json_check_allowed_keys(args, NULL, keys);

    if (!error && json_object_object_get_ex(args, "host", NULL)) {
        error = conductor_get_host(args, "host", ret_host);
    }
    if (!error) {
        error = json_get_int(args, NULL, "limit", false, 1,
                             CELL_DB_INSTANCE_LIST_MAX, ret_limit);
    }
    return error;
}

struct error *
conductor_instance_list_validate(const struct json_object *args)
{
    const char *host = NULL;
    long long limit = 0;

    return conductor_list_args(args, &host, &limit);
}

/* {"instances": [INSTANCE]} of the instances not deleted on 'host' (NULL:
 * anywhere), at most 'limit' (0: the most a list returns). */
static struct error *
conductor_list(struct conductor *cond, const char *host, long long limit,
               struct json_object **ret_result)
{
    const struct cell_db_instance_filter filter = {
        .host = host, .limit = (size_t) limit,
    };
    CLEANUP(instance_list_freep) struct instance_list *list = NULL;
    struct error *error = cell_db_instance_list(cond->db, &filter, &list);

    if (error) {
        return error;
    }
    *ret_result = json_object_new_object();
    json_object_object_add(*ret_result, "instances",
                           instance_list_to_json(list));
    return NULL;
}

struct error *
conductor_instance_list(struct rpc_request *req, void *aux,
                        struct json_object **ret_result)
{
    const char *host = NULL;
    long long limit = 0;
    struct error *error = conductor_list_args(rpc_request_msg(req)->args,
                                              &host, &limit);

    return error ? error : conductor_list(aux, host, limit, ret_result);
}

/* ---- instance_update --------------------------------------------------- */

struct conductor_update_args {
    const char *uuid;
    struct cell_db_instance_updates updates;
    enum instance_task_state expected[INSTANCE_N_TASK_STATES];
    size_t n_expected;
};

/* Reads the nullable time 'field' of 'updates' into '*ret_ms'. */
static struct error *
conductor_get_time(const struct json_object *updates, const char *field,
                   int64_t *ret_ms)
{
    struct json_object *value;
    const char *text;
    struct error *error;

    json_object_object_get_ex(updates, field, &value);
    if (!value) {
        *ret_ms = INSTANCE_TIME_NONE;
        return NULL;
    }
    error = json_get_string(updates, "updates", field, true, 0, &text);
    if (!error && time_parse_iso8601(text, ret_ms)) {
        error = error_new(ERROR_INVALID, "Invalid input for field/attribute "
                          "'updates.%s'. Value: '%s'. It is not a date-time",
                          field, text);
    }
    return error;
}

/* Reads task state 'value' (a string or null) named 'path'. */
static struct error *
conductor_get_task(struct json_object *value, const char *path,
                   enum instance_task_state *ret_state)
{
    const char *text;
    struct error *error;

    if (!value) {
        *ret_state = INSTANCE_TASK_NONE;
        return NULL;
    }
    error = json_get_string(value, path, NULL, true, 0, &text);
    if (!error && instance_task_state_from_string(text, ret_state)) {
        error = error_new(ERROR_INVALID, "Invalid input for field/attribute "
                          "'%s'. Value: '%s'. It is not a task state", path,
                          text);
    }
    return error;
}

static struct error *
conductor_update_args_decode(const struct json_object *args,
                             struct conductor_update_args *a)
{
    static const char *const keys[] = {
        "instance_uuid", "updates", "expected_task_state", NULL,
    };
    static const char *const update_keys[] = {
        "vm_state", "task_state", "power_state", "launched_at",
        "terminated_at", NULL,
    };
    struct cell_db_instance_updates *u = &a->updates;
    struct json_object *updates, *expected = NULL, *value;
    struct error *error;

    memset(a, 0, sizeof *a);
    error = json_check_allowed_keys(args, NULL, keys);
    if (!error) {
        error = conductor_get_uuid(args, "instance_uuid", &a->uuid);
    }
    if (!error) {
        error = json_get_object(args, NULL, "updates", true, &updates);
    }
    if (!error) {
        error = json_check_allowed_keys(updates, "updates", update_keys);
    }
    if (!error && json_object_object_get_ex(updates, "vm_state", NULL)) {
        const char *text;

        error = json_get_string(updates, "updates", "vm_state", true, 0,
                                &text);
        if (!error && (instance_vm_state_from_string(text, &u->vm_state)
                       || u->vm_state == INSTANCE_VM_DELETED)) {
            error = error_new(ERROR_INVALID, "Invalid input for field/"
                              "attribute 'updates.vm_state'. Value: '%s'. "
                              "It is not a vm_state an update may set",
                              text);
        }
        u->fields |= CELL_DB_INSTANCE_VM_STATE;
    }
    if (!error && json_object_object_get_ex(updates, "task_state", &value)) {
        error = conductor_get_task(value, "updates.task_state",
                                   &u->task_state);
        u->fields |= CELL_DB_INSTANCE_TASK_STATE;
    }
    if (!error && json_object_object_get_ex(updates, "power_state", NULL)) {
        long long power;

        error = json_get_int(updates, "updates", "power_state", true, 0,
                             INT32_MAX, &power);
        if (!error && instance_power_state_from_int(power, &u->power_state)) {
            error = error_new(ERROR_INVALID, "Invalid input for field/"
                              "attribute 'updates.power_state'. Value: %lld. "
                              "It is not a power state", power);
        }
        u->fields |= CELL_DB_INSTANCE_POWER_STATE;
    }
    if (!error && json_object_object_get_ex(updates, "launched_at", NULL)) {
        error = conductor_get_time(updates, "launched_at", &u->launched_at);
        u->fields |= CELL_DB_INSTANCE_LAUNCHED_AT;
    }
    if (!error
        && json_object_object_get_ex(updates, "terminated_at", NULL)) {
        error = conductor_get_time(updates, "terminated_at",
                                   &u->terminated_at);
        u->fields |= CELL_DB_INSTANCE_TERMINATED_AT;
    }
    if (!error) {
        error = json_get_array(args, NULL, "expected_task_state", false,
                               INSTANCE_N_TASK_STATES, &expected);
    }
    for (size_t i = 0; !error && expected
                       && i < json_object_array_length(expected); i++) {
        AUTOFREE char *path = xasprintf("expected_task_state[%zu]", i);

        error = conductor_get_task(json_object_array_get_idx(expected, i),
                                   path, &a->expected[a->n_expected]);
        a->n_expected++;
    }
    if (!error && expected && !a->n_expected) {
        error = error_new(ERROR_INVALID, "'expected_task_state' is empty");
    }
    return error;
}

struct error *
conductor_instance_update_validate(const struct json_object *args)
{
    struct conductor_update_args a;

    return conductor_update_args_decode(args, &a);
}

struct conductor_update_txn {
    const struct conductor_update_args *args;
    struct instance *row;               /* Out. */
};

static struct error *
conductor_update_txn_fn(struct db *db, void *aux)
{
    struct conductor_update_txn *t = aux;

    instance_free(t->row);
    t->row = NULL;
    return cell_db_instance_update(db, t->args->uuid, &t->args->updates,
                                   t->args->expected, t->args->n_expected,
                                   &t->row);
}

struct error *
conductor_instance_update(struct rpc_request *req, void *aux,
                          struct json_object **ret_result)
{
    struct conductor *cond = aux;
    const struct rpc_msg *msg = rpc_request_msg(req);
    struct conductor_update_args a;
    struct conductor_update_txn t = { .args = &a };
    struct log_ctx log_ctx;
    struct error *error;

    error = conductor_update_args_decode(msg->args, &a);
    if (error) {
        return error;
    }
    conductor_log_ctx(cond, msg, a.uuid, &log_ctx);
    error = db_txn_run(cond->db, conductor_update_txn_fn, &t);
    if (error) {
        instance_free(t.row);
        LOG_INFO_CTX(&log_ctx, "update refused: %s", error_message(error));
        return error;
    }
    cond->stats.instance_updates++;
    conductor_instance_changed(cond, t.row, &log_ctx);
    LOG_DBG_CTX(&log_ctx, "updated: vm_state %s, task_state %s",
                instance_vm_state_to_string(t.row->vm_state),
                instance_task_state_to_string(t.row->task_state));
    *ret_result = instance_to_json(t.row);
    instance_free(t.row);
    return NULL;
}

/* ---- instance_destroyed ------------------------------------------------ */

struct conductor_destroyed_txn {
    const char *uuid;
    const char *host;
    struct instance *row;               /* Out: NULL if nothing changed. */
};

static struct error *
conductor_destroyed_txn_fn(struct db *db, void *aux)
{
    struct conductor_destroyed_txn *t = aux;
    CLEANUP(instance_freep) struct instance *inst = NULL;
    struct error *error;

    instance_free(t->row);
    t->row = NULL;
    error = cell_db_instance_get(db, t->uuid, true, &inst);
    if (error) {
        return error;
    }
    if (inst->vm_state == INSTANCE_VM_DELETED
        || (inst->host && strcmp(inst->host, t->host))) {
        /* Already deleted, or moved on: a late or repeated message. */
        return NULL;
    }
    return conductor_local_delete(db, t->uuid, &t->row);
}

struct error *
conductor_instance_destroyed_validate(const struct json_object *args)
{
    static const char *const keys[] = { "instance_uuid", "host", NULL };
    const char *value;
    struct error *error = json_check_allowed_keys(args, NULL, keys);

    if (!error) {
        error = conductor_get_uuid(args, "instance_uuid", &value);
    }
    return error ? error : conductor_get_host(args, "host", &value);
}

struct error *
conductor_instance_destroyed(struct rpc_request *req, void *aux,
                             struct json_object **ret_result)
{
    struct conductor *cond = aux;
    const struct rpc_msg *msg = rpc_request_msg(req);
    struct conductor_destroyed_txn t = { NULL, NULL, NULL };
    struct log_ctx log_ctx;
    struct error *error;

    (void) ret_result;
    error = conductor_get_uuid(msg->args, "instance_uuid", &t.uuid);
    if (!error) {
        error = conductor_get_host(msg->args, "host", &t.host);
    }
    if (error) {
        return error;
    }
    conductor_log_ctx(cond, msg, t.uuid, &log_ctx);
    error = db_txn_run(cond->db, conductor_destroyed_txn_fn, &t);
    if (error) {
        instance_free(t.row);
        LOG_WARN_CTX(&log_ctx, "cannot record the deletion: %s",
                     error_message(error));
        return error;
    }
    if (t.row) {
        conductor_instance_changed(cond, t.row, &log_ctx);
        LOG_INFO_CTX(&log_ctx, "deleted (its domain is gone from host "
                     "'%s')", t.host);
        instance_free(t.row);
    } else {
        LOG_DBG_CTX(&log_ctx, "already deleted or elsewhere, ignoring");
    }
    return NULL;
}

/* ---- action_event ------------------------------------------------------ */

struct conductor_event_args {
    const char *uuid;
    struct cell_db_action_event event;
};

static struct error *
conductor_event_get_string(const struct json_object *args, const char *field,
                           size_t max_length, char **ret)
{
    struct json_object *value;
    const char *text = NULL;
    struct error *error;

    if (!json_object_object_get_ex(args, field, &value) || !value) {
        return NULL;
    }
    error = json_get_string(args, NULL, field, true, max_length, &text);
    if (!error) {
        /* Borrowed from 'args': the event is only read. */
        *ret = (char *) text;
    }
    return error;
}

static struct error *
conductor_event_get_time(const struct json_object *args, const char *field,
                         int64_t *ret_ms)
{
    struct json_object *value;
    const char *text;
    struct error *error;

    *ret_ms = INSTANCE_TIME_NONE;
    if (!json_object_object_get_ex(args, field, &value) || !value) {
        return NULL;
    }
    error = json_get_string(args, NULL, field, true, 0, &text);
    if (!error && time_parse_iso8601(text, ret_ms)) {
        error = error_new(ERROR_INVALID, "Invalid input for field/attribute "
                          "'%s'. Value: '%s'. It is not a date-time", field,
                          text);
    }
    return error;
}

static struct error *
conductor_event_args_decode(const struct json_object *args,
                            struct conductor_event_args *a)
{
    static const char *const keys[] = {
        "instance_uuid", "event", "result", "start_time", "finish_time",
        "host", "details", NULL,
    };
    struct error *error;

    memset(a, 0, sizeof *a);
    error = json_check_allowed_keys(args, NULL, keys);
    if (!error) {
        error = conductor_get_uuid(args, "instance_uuid", &a->uuid);
    }
    if (!error) {
        error = conductor_event_get_string(args, "event",
                                           CONDUCTOR_EVENT_NAME_MAX_LENGTH,
                                           &a->event.event);
    }
    if (!error && (!a->event.event || !*a->event.event)) {
        error = error_new(ERROR_INVALID, "'event' is a required property");
    }
    if (!error) {
        error = conductor_event_get_string(args, "result",
                                           CONDUCTOR_EVENT_NAME_MAX_LENGTH,
                                           &a->event.result);
    }
    if (!error && a->event.result
        && strcmp(a->event.result, CELL_DB_ACTION_RESULT_SUCCESS)
        && strcmp(a->event.result, CELL_DB_ACTION_RESULT_ERROR)) {
        error = error_new(ERROR_INVALID, "Invalid input for field/attribute "
                          "'result'. Value: '%s'. It is not one of "
                          "'Success', 'Error'", a->event.result);
    }
    if (!error) {
        error = conductor_event_get_string(args, "host",
                                           CONDUCTOR_EVENT_NAME_MAX_LENGTH,
                                           &a->event.host);
    }
    if (!error) {
        error = conductor_event_get_string(
            args, "details", CONDUCTOR_EVENT_DETAILS_MAX_LENGTH,
            &a->event.details);
    }
    if (!error) {
        error = conductor_event_get_time(args, "start_time",
                                         &a->event.start_time);
    }
    if (!error) {
        error = conductor_event_get_time(args, "finish_time",
                                         &a->event.finish_time);
    }
    return error;
}

struct error *
conductor_instance_action_event_validate(const struct json_object *args)
{
    struct conductor_event_args a;

    return conductor_event_args_decode(args, &a);
}

struct conductor_event_txn {
    const struct conductor_event_args *args;
    const char *request_id;
};

static struct error *
conductor_event_txn_fn(struct db *db, void *aux)
{
    const struct conductor_event_txn *t = aux;

    return cell_db_action_add_event(db, t->args->uuid, t->request_id,
                                    &t->args->event);
}

struct error *
conductor_instance_action_event(struct rpc_request *req, void *aux,
                                struct json_object **ret_result)
{
    struct conductor *cond = aux;
    const struct rpc_msg *msg = rpc_request_msg(req);
    struct conductor_event_args a;
    struct conductor_event_txn t = { &a, msg->ctx.request_id };
    struct log_ctx log_ctx;
    struct error *error;

    (void) ret_result;
    error = conductor_event_args_decode(msg->args, &a);
    if (error) {
        return error;
    }
    conductor_log_ctx(cond, msg, a.uuid, &log_ctx);
    error = db_txn_run(cond->db, conductor_event_txn_fn, &t);
    if (error) {
        LOG_WARN_CTX(&log_ctx, "cannot record event '%s': %s",
                     a.event.event, error_message(error));
        return error;
    }
    LOG_DBG_CTX(&log_ctx, "event '%s': %s", a.event.event,
                a.event.result ? a.event.result : "started");
    return NULL;
}
