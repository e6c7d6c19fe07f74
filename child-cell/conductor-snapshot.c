/* conductor-snapshot.c: snapshot_instance (see conductor-snapshot.h). */
#include <config.h>

#include "child-cell/conductor-snapshot.h"

#include <json-c/json.h>
#include <string.h>

#include "cells-rpc/rpc-msg.h"
#include "cells-rpc/rpc-server.h"
#include "child-cell/cell-db.h"
#include "child-cell/conductor-private.h"
#include "child-cell/rpcapi.h"
#include "shared/cleanup.h"
#include "shared/db.h"
#include "shared/error.h"
#include "shared/instance.h"
#include "shared/json-util.h"
#include "shared/log.h"
#include "shared/xalloc.h"

LOG_MODULE("conductor.snapshot");

#define VM(state) (1u << (state))

/* Longest image id, image type and backup type accepted. */
#define CONDUCTOR_SNAPSHOT_ID_MAX_LENGTH 64
#define CONDUCTOR_SNAPSHOT_TYPE_MAX_LENGTH 255
#define CONDUCTOR_SNAPSHOT_MAX_ROTATION 2147483647LL

/* The vm_states Nova's snapshot() and backup() accept. */
#define CONDUCTOR_SNAPSHOT_VM_STATES                                    \
    (VM(INSTANCE_VM_ACTIVE) | VM(INSTANCE_VM_STOPPED)                   \
     | VM(INSTANCE_VM_PAUSED) | VM(INSTANCE_VM_SUSPENDED))

struct conductor_snapshot_txn {
    /* In. */
    const char *uuid;
    bool backup;
    const struct rpc_ctx *ctx;
    /* Out. */
    struct instance *row;
};

/* Nova's InstanceInvalidState message. */
static struct error *
conductor_snapshot_invalid(const struct instance *inst, const char *attr,
                           const char *state, const char *action)
{
    return error_new(ERROR_CONFLICT, "Instance %s in %s %s. Cannot %s while "
                     "the instance is in this state.", inst->uuid, attr,
                     state, action);
}

static struct error *
conductor_snapshot_check(const struct instance *inst, bool backup,
                         bool is_admin)
{
    const char *action = backup ? "createBackup" : "createImage";

    if (inst->locked && !is_admin) {
        return error_new(ERROR_CONFLICT, "Instance %s is locked",
                         inst->uuid);
    }
    if ((unsigned int) inst->vm_state >= INSTANCE_N_VM_STATES
        || !(CONDUCTOR_SNAPSHOT_VM_STATES & VM(inst->vm_state))) {
        return conductor_snapshot_invalid(
            inst, "vm_state", instance_vm_state_to_string(inst->vm_state),
            action);
    }
    if (inst->task_state != INSTANCE_TASK_NONE) {
        return conductor_snapshot_invalid(
            inst, "task_state",
            instance_task_state_to_string(inst->task_state), action);
    }
    if (inst->launched_at == INSTANCE_TIME_NONE || !inst->host) {
        return conductor_snapshot_invalid(inst, "launched_at", "None",
                                          action);
    }
    return NULL;
}

static struct error *
conductor_snapshot_txn_fn(struct db *db, void *aux)
{
    static const enum instance_task_state expected[] = {
        INSTANCE_TASK_NONE,
    };
    struct conductor_snapshot_txn *t = aux;
    CLEANUP(instance_freep) struct instance *inst = NULL;
    struct cell_db_instance_updates updates = {
        .fields = CELL_DB_INSTANCE_TASK_STATE,
        .task_state = t->backup ? INSTANCE_TASK_IMAGE_BACKUP
                                : INSTANCE_TASK_IMAGE_SNAPSHOT,
    };
    struct error *error;

    instance_free(t->row);
    t->row = NULL;
    error = cell_db_instance_get(db, t->uuid, false, &inst);
    if (!error) {
        error = conductor_snapshot_check(inst, t->backup, t->ctx->is_admin);
    }
    if (!error) {
        error = cell_db_action_start(
            db, t->uuid, t->backup ? "createBackup" : "createImage",
            t->ctx->request_id,
            t->ctx->user_id ? t->ctx->user_id : inst->user_id,
            t->ctx->project_id ? t->ctx->project_id : inst->project_id,
            NULL);
    }
    if (!error) {
        error = cell_db_instance_update(db, t->uuid, &updates, expected,
                                        ARRAY_SIZE(expected), &t->row);
    }
    return error;
}

struct error *
conductor_snapshot_validate(const struct json_object *args)
{
    static const char *const keys[] = {
        "instance_uuid", "image_id", "image_type", "backup_type",
        "rotation", NULL,
    };
    const char *uuid, *image_id, *type, *backup_type = NULL;
    long long rotation = 0;
    struct error *error = json_check_allowed_keys(args, NULL, keys);

    if (!error) {
        error = conductor_get_uuid(args, "instance_uuid", &uuid);
    }
    if (!error) {
        error = json_get_string(args, NULL, "image_id", true,
                                CONDUCTOR_SNAPSHOT_ID_MAX_LENGTH, &image_id);
    }
    if (!error) {
        error = json_get_string(args, NULL, "image_type", true,
                                CONDUCTOR_SNAPSHOT_TYPE_MAX_LENGTH, &type);
    }
    if (!error) {
        error = json_get_string(args, NULL, "backup_type", false,
                                CONDUCTOR_SNAPSHOT_TYPE_MAX_LENGTH,
                                &backup_type);
    }
    if (!error) {
        error = json_get_int(args, NULL, "rotation", false, 0,
                             CONDUCTOR_SNAPSHOT_MAX_ROTATION, &rotation);
    }
    if (error) {
        return error;
    }
    if (!*image_id) {
        return error_new(ERROR_INVALID, "Invalid input for field/attribute "
                         "'image_id': empty");
    }
    if (!strcmp(type, "backup")) {
        if (!backup_type
            || !json_object_object_get_ex(args, "rotation", NULL)) {
            return error_new(ERROR_INVALID, "A backup needs 'backup_type' "
                             "and 'rotation'");
        }
    } else if (strcmp(type, "snapshot")) {
        return error_new(ERROR_INVALID, "Invalid input for field/attribute "
                         "'image_type'. Value: '%s'. It is not one of "
                         "'snapshot', 'backup'", type);
    }
    return NULL;
}

struct error *
conductor_snapshot_instance(struct rpc_request *req, void *aux,
                            struct json_object **ret_result)
{
    struct conductor *cond = aux;
    const struct rpc_msg *msg = rpc_request_msg(req);
    const char *type = NULL;
    struct conductor_snapshot_txn t = { .ctx = &msg->ctx };
    struct json_object *args;
    struct log_ctx log_ctx;
    struct error *error;

    error = conductor_get_uuid(msg->args, "instance_uuid", &t.uuid);
    if (!error) {
        error = json_get_string(msg->args, NULL, "image_type", true, 0,
                                &type);
    }
    if (error) {
        return error;
    }
    t.backup = !strcmp(type, "backup");
    conductor_log_ctx(cond, msg, t.uuid, &log_ctx);
    error = db_txn_run(cond->db, conductor_snapshot_txn_fn, &t);
    if (error) {
        instance_free(t.row);
        if (error_kind(error) == ERROR_CONFLICT
            || error_kind(error) == ERROR_NOT_FOUND) {
            cond->stats.actions_refused++;
            LOG_INFO_CTX(&log_ctx, "refusing the %s: %s", type,
                         error_message(error));
        } else {
            LOG_ERR_CTX(&log_ctx, "cannot start the %s: %s", type,
                        error_message(error));
        }
        return error;
    }
    cond->stats.actions++;
    conductor_instance_changed(cond, t.row, &log_ctx);

    args = json_object_new_object();
    json_object_object_add(args, "instance", instance_to_json(t.row));
    json_object_object_foreach((struct json_object *) msg->args, key,
                               value) {
        if (strcmp(key, "instance_uuid")) {
            json_object_object_add(args, key, json_object_get(value));
        }
    }
    error = conductor_cast_compute(cond, msg, t.row->host,
                                   COMPUTE_SNAPSHOT_INSTANCE, args);
    if (error) {
        /* XXX: the task state stays set, as with the other actions. */
        LOG_ERR_CTX(&log_ctx, "cannot send %s to host '%s': %s",
                    COMPUTE_SNAPSHOT_INSTANCE, t.row->host,
                    error_message(error));
        instance_free(t.row);
        return error;
    }
    LOG_INFO_CTX(&log_ctx, "%s sent to host '%s'", type, t.row->host);
    *ret_result = instance_to_json(t.row);
    instance_free(t.row);
    return NULL;
}
