/* conductor-service.c: nova-conductor's life cycle, method table,
 * heartbeat and the shared helpers of its modules (see
 * conductor-service.h and conductor-private.h). */
#include <config.h>

#include "child-cell/conductor-service.h"

#include <limits.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <string.h>

#include "cells-rpc/rpc-msg.h"
#include "cells-rpc/rpc-server.h"
#include "cells-rpc/rpc.h"
#include "cells-rpc/cells-rpcapi.h"
#include "child-cell/cell-db-fault.h"
#include "child-cell/cell-db-service.h"
#include "child-cell/conductor-build.h"
#include "child-cell/conductor-host.h"
#include "child-cell/conductor-instance.h"
#include "child-cell/conductor-snapshot.h"
#include "child-cell/conductor-private.h"
#include "child-cell/rpcapi.h"
#include "shared/db.h"
#include "shared/error.h"
#include "shared/instance.h"
#include "shared/json-util.h"
#include "shared/log.h"
#include "shared/poll-loop.h"
#include "shared/uuid-util.h"
#include "shared/xalloc.h"

LOG_MODULE("conductor");

#define MS_PER_S 1000
/* How often the build statistics are logged, when builds happened. */
#define CONDUCTOR_STATS_INTERVAL_MS 60000

/* Longest host or node name accepted in arguments, in characters. */
#define CONDUCTOR_HOST_MAX_LENGTH INSTANCE_HOST_MAX_LENGTH

static const struct rpc_method conductor_methods[] = {
    /* From nova-cells and tools. */
    { CONDUCTOR_BUILD_INSTANCES, conductor_build_instances,
      conductor_build_instances_validate },
    { CONDUCTOR_DELETE_INSTANCE, conductor_instance_delete,
      conductor_instance_action_validate },
    { CONDUCTOR_REBOOT_INSTANCE, conductor_instance_reboot,
      conductor_instance_reboot_validate },
    { CONDUCTOR_STOP_INSTANCE, conductor_instance_stop,
      conductor_instance_action_validate },
    { CONDUCTOR_START_INSTANCE, conductor_instance_start,
      conductor_instance_action_validate },
    { CONDUCTOR_PAUSE_INSTANCE, conductor_instance_pause,
      conductor_instance_action_validate },
    { CONDUCTOR_UNPAUSE_INSTANCE, conductor_instance_unpause,
      conductor_instance_action_validate },
    { CONDUCTOR_SUSPEND_INSTANCE, conductor_instance_suspend,
      conductor_instance_action_validate },
    { CONDUCTOR_RESUME_INSTANCE, conductor_instance_resume,
      conductor_instance_action_validate },
    { CONDUCTOR_SNAPSHOT_INSTANCE, conductor_snapshot_instance,
      conductor_snapshot_validate },
    { CONDUCTOR_UPDATE_INSTANCE, conductor_instance_apply_update,
      conductor_instance_apply_update_validate },
    { CONDUCTOR_INSTANCE_GET, conductor_instance_get,
      conductor_instance_get_validate },
    { CONDUCTOR_INSTANCE_LIST, conductor_instance_list,
      conductor_instance_list_validate },
    /* From nova-compute. */
    { CONDUCTOR_INSTANCE_UPDATE, conductor_instance_update,
      conductor_instance_update_validate },
    { CONDUCTOR_BUILD_FAILED, conductor_build_failed,
      conductor_build_failed_validate },
    { CONDUCTOR_INSTANCE_DESTROYED, conductor_instance_destroyed,
      conductor_instance_destroyed_validate },
    { CONDUCTOR_ACTION_EVENT, conductor_instance_action_event,
      conductor_instance_action_event_validate },
    { CONDUCTOR_SERVICE_HEARTBEAT, conductor_host_heartbeat,
      conductor_host_heartbeat_validate },
    { CONDUCTOR_COMPUTE_NODE_UPDATE, conductor_host_node_update,
      conductor_host_node_update_validate },
    { CONDUCTOR_INSTANCES_ON_HOST, conductor_host_instances,
      conductor_host_instances_validate },
};

/* ---- Hook: updates up the tree ----------------------------------------- */

void
conductor_instance_changed(struct conductor *cond,
                           const struct instance *inst,
                           const struct log_ctx *log_ctx)
{
    CLEANUP(rpc_msg_freep) struct rpc_msg *cast = NULL;
    const struct rpc_target target = { CELLS_LOCAL_TOPIC, NULL };
    struct json_object *args = json_object_new_object();
    struct error *error;

    LOG_DBG_CTX(log_ctx, "instance changed: vm_state %s, task_state %s, "
                "host %s, update_seq %" PRId64,
                instance_vm_state_to_string(inst->vm_state),
                instance_task_state_to_string(inst->task_state),
                inst->host ? inst->host : "-", inst->update_seq);
    if (inst->vm_state == INSTANCE_VM_DELETED) {
        json_object_object_add(args, "instance_uuid",
                               json_object_new_string(inst->uuid));
        json_object_object_add(args, "update_seq",
                               json_object_new_int64(inst->update_seq));
        cast = rpc_msg_new(CELLS_INSTANCE_DESTROY_AT_TOP, args);
    } else {
        struct json_object *fault = NULL;

        if (inst->vm_state == INSTANCE_VM_ERROR) {
            CLEANUP(cell_db_fault_freep) struct cell_db_fault *row = NULL;

            error = cell_db_fault_get_latest(cond->db, inst->uuid, &row);
            if (error) {
                LOG_WARN_CTX(log_ctx, "cannot read the instance's fault, "
                             "sending the update without it: %s",
                             error_message(error));
                error_free(error);
            } else if (row) {
                fault = cell_db_fault_to_json(row);
            }
        }
        json_object_object_add(args, "instance", instance_to_json(inst));
        json_object_object_add(args, "fault", fault);
        cast = rpc_msg_new(CELLS_INSTANCE_UPDATE_AT_TOP, args);
    }
    if (log_ctx && log_ctx->request_id) {
        rpc_ctx_set_request_id(&cast->ctx, log_ctx->request_id);
    }
    error = rpc_cast(cond->conn, &target, cast);
    if (error) {
        /* The next change of the instance carries its state up. */
        LOG_WARN_CTX(log_ctx, "cannot send %s to nova-cells: %s",
                     cast->method, error_message(error));
        error_free(error);
    }
}

/* ---- Helpers of the modules -------------------------------------------- */

void
conductor_log_ctx(const struct conductor *cond, const struct rpc_msg *msg,
                  const char *uuid, struct log_ctx *log_ctx)
{
    memset(log_ctx, 0, sizeof *log_ctx);
    if (msg) {
        rpc_ctx_to_log_ctx(&msg->ctx, log_ctx);
    }
    log_ctx->instance_uuid = uuid;
    log_ctx->cell_path = cond->cell_path;
}

struct error *
conductor_cast_compute(struct conductor *cond, const struct rpc_msg *msg,
                       const char *host, const char *method,
                       struct json_object *args)
{
    CLEANUP(rpc_msg_freep) struct rpc_msg *cast = rpc_msg_new(method, args);
    const struct rpc_target target = { COMPUTE_TOPIC, host };

    if (msg) {
        rpc_ctx_destroy(&cast->ctx);
        rpc_ctx_clone(&cast->ctx, &msg->ctx);
    }
    return rpc_cast(cond->conn, &target, cast);
}

struct error *
conductor_get_uuid(const struct json_object *args, const char *field,
                   const char **ret_uuid)
{
    const char *uuid;
    struct error *error = json_get_string(args, NULL, field, true,
                                          UUID_STRING_SIZE, &uuid);

    if (error) {
        return error;
    }
    if (!uuid_is_valid(uuid)) {
        return error_new(ERROR_INVALID, "Invalid input for field/attribute "
                         "'%s'. Value: '%s'. It is not a UUID", field, uuid);
    }
    *ret_uuid = uuid;
    return NULL;
}

struct error *
conductor_get_host(const struct json_object *args, const char *field,
                   const char **ret_host)
{
    const char *host;
    struct error *error = json_get_string(args, NULL, field, true,
                                          CONDUCTOR_HOST_MAX_LENGTH, &host);

    if (error) {
        return error;
    }
    if (!*host) {
        return error_new(ERROR_INVALID, "Invalid input for field/attribute "
                         "'%s'. Value: ''. It is empty", field);
    }
    *ret_host = host;
    return NULL;
}

/* ---- Life cycle -------------------------------------------------------- */

/* Logs the build counters since the last line, if they moved. */
static void
conductor_log_stats(struct conductor *cond)
{
    const struct conductor_stats *now = &cond->stats;
    const struct conductor_stats *then = &cond->logged_stats;

    if (now->build_requests == then->build_requests
        && now->reschedules == then->reschedules) {
        return;
    }
    LOG_INFO("%" PRIu64 " build requests: %" PRIu64 " instances placed, "
             "%" PRIu64 " claims lost to other requests, %" PRIu64
             " rescheduled, %" PRIu64 " set to error",
             now->build_requests - then->build_requests,
             now->instances_placed - then->instances_placed,
             now->claims_lost - then->claims_lost,
             now->reschedules - then->reschedules,
             now->build_errors - then->build_errors);
    cond->logged_stats = *now;
}

static void
conductor_heartbeat(struct conductor *cond)
{
    struct error *error = cell_db_service_heartbeat(
        cond->db, cond->host, CONDUCTOR_SERVICE_BINARY,
        CONDUCTOR_SERVICE_TOPIC, CONDUCTOR_SERVICE_VERSION, NULL);

    if (error) {
        LOG_WARN_RL("cannot record the service heartbeat, retrying in "
                    "%lld s: %s", cond->report_interval_ms / MS_PER_S,
                    error_message(error));
        error_free(error);
    }
}

struct error *
conductor_new(const struct conductor_config *config,
              struct conductor **ret_conductor)
{
    CLEANUP(conductor_freep) struct conductor *cond = NULL;
    const struct rpc_conn_options conn_options = {
        .name = CONDUCTOR_SERVICE_BINARY,
    };
    struct error *error;

    if (!config->transport_url || !config->database_url || !config->host
        || !*config->host) {
        return error_new(ERROR_INVALID, "The conductor needs a transport "
                         "URL, a database URL and a host name");
    }
    if (config->max_attempts < 0
        || config->max_attempts > CONDUCTOR_MAX_MAX_ATTEMPTS) {
        return error_new(ERROR_INVALID, "max_attempts must be 1 to %d",
                         CONDUCTOR_MAX_MAX_ATTEMPTS);
    }
    cond = xzalloc(sizeof *cond);
    rpc_list_init(&cond->builds);
    rpc_list_init(&cond->retries);
    cond->host = xstrdup(config->host);
    cond->cell_path = xstrdup_or_null(config->cell_path);
    cond->max_attempts = (config->max_attempts
                          ? config->max_attempts
                          : CONDUCTOR_DEFAULT_MAX_ATTEMPTS);
    cond->scheduler_timeout_ms = (config->scheduler_timeout_ms > 0
                                  ? config->scheduler_timeout_ms
                                  : CONDUCTOR_DEFAULT_SCHEDULER_TIMEOUT_MS);
    cond->report_interval_ms = (long long) (config->report_interval_s > 0
                                            ? config->report_interval_s
                                            : CONDUCTOR_DEFAULT_REPORT_S)
                               * MS_PER_S;
    cond->service_down_time_s = (config->service_down_time_s > 0
                                 ? config->service_down_time_s
                                 : CELL_DB_SERVICE_DOWN_TIME_S);

    error = db_open(config->database_url, &cond->db);
    if (error) {
        return error;
    }

    const struct rpc_server_options options = {
        .topic = CONDUCTOR_TOPIC,
        .server = cond->host,
        .version = CONDUCTOR_RPC_VERSION,
        .methods = conductor_methods,
        .n_methods = ARRAY_SIZE(conductor_methods),
        .aux = cond,
    };
    error = rpc_conn_open(config->transport_url, &conn_options, &cond->conn);
    if (!error) {
        error = rpc_server_new(cond->conn, &options, &cond->server);
    }
    if (error) {
        return error;
    }
    /* The first heartbeat once serving: a conductor that cannot start
     * never looks up. */
    conductor_heartbeat(cond);
    cond->next_report_ms = poll_loop_now_ms() + cond->report_interval_ms;
    cond->next_stats_ms = poll_loop_now_ms() + CONDUCTOR_STATS_INTERVAL_MS;
    LOG_INFO("serving topic '%s' on '%s' (max_attempts %d)",
             CONDUCTOR_TOPIC, rpc_conn_url(cond->conn), cond->max_attempts);
    *ret_conductor = TAKE_PTR(cond);
    return NULL;
}

void
conductor_free(struct conductor *cond)
{
    if (!cond) {
        return;
    }
    /* Freeing the server hands the deferred builds' messages back to the
     * broker; freeing the connection then completes their scheduler calls,
     * whose callbacks only clean up while 'closing' is set. */
    cond->closing = true;
    conductor_build_requeue_due(cond, LLONG_MAX, true);
    conductor_log_stats(cond);
    rpc_server_free(cond->server);
    rpc_conn_free(cond->conn);
    db_close(cond->db);
    free(cond->host);
    free(cond->cell_path);
    free(cond);
}

void
conductor_run(struct conductor *cond)
{
    long long now = poll_loop_now_ms();

    if (now >= cond->next_report_ms) {
        conductor_heartbeat(cond);
        cond->next_report_ms = now + cond->report_interval_ms;
    }
    if (now >= cond->next_stats_ms) {
        conductor_log_stats(cond);
        cond->next_stats_ms = now + CONDUCTOR_STATS_INTERVAL_MS;
    }
    conductor_build_requeue_due(cond, now, false);
    rpc_conn_run(cond->conn);
}

void
conductor_wait(struct conductor *cond)
{
    rpc_conn_wait(cond->conn);
    poll_timer_wait_until(conductor_build_requeue_due(
        cond, poll_loop_now_ms(), false));
    poll_timer_wait_until(cond->next_report_ms);
    poll_timer_wait_until(cond->next_stats_ms);
}

void
conductor_get_stats(const struct conductor *cond,
                    struct conductor_stats *ret_stats)
{
    *ret_stats = cond->stats;
}
