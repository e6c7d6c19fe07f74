/* cells-service.c: nova-cells' life cycle, method tables and the helpers
 * its modules share (see cells-service.h and cells-private.h). */
#include <config.h>

#include "child-cell/cells-service.h"

#include <json-c/json.h>
#include <limits.h>
#include <string.h>

#include "cells-rpc/cell-capacity.h"
#include "cells-rpc/cell-node.h"
#include "cells-rpc/cell-path.h"
#include "cells-rpc/cells-rpcapi.h"
#include "cells-rpc/rpc-msg.h"
#include "cells-rpc/rpc-server.h"
#include "cells-rpc/rpc.h"
#include "child-cell/cells-build.h"
#include "child-cell/cells-calls.h"
#include "child-cell/cells-capacity-report.h"
#include "child-cell/cells-heal.h"
#include "child-cell/cells-health-report.h"
#include "child-cell/cells-private.h"
#include "child-cell/cells-state.h"
#include "child-cell/rpcapi.h"
#include "shared/db.h"
#include "shared/error.h"
#include "shared/log.h"
#include "shared/poll-loop.h"
#include "shared/timeutil.h"
#include "shared/topology.h"
#include "shared/xalloc.h"

LOG_MODULE("cells");

#define MS_PER_S 1000
#define CELLS_SERVICE_NAME "nova-cells"

/* Methods of CELLS_LOCAL_TOPIC, from nova-api and nova-conductor. */
static const struct rpc_method cells_local_methods[] = {
    { CELLS_BUILD_INSTANCE, cells_build_local, NULL },
    { CELLS_INSTANCE_ACTION, cells_state_action_local, NULL },
    { CELLS_INSTANCE_UPDATE_AT_TOP, cells_state_update_local, NULL },
    { CELLS_INSTANCE_DESTROY_AT_TOP, cells_state_destroy_local, NULL },
    { CELLS_SERVICE_LIST, cells_calls_local, NULL },
    { CELLS_SERVICE_UPDATE, cells_calls_local, NULL },
    { CELLS_COMPUTE_NODE_LIST, cells_calls_local, NULL },
    { CELLS_INSTANCE_ACTION_LIST, cells_calls_local, NULL },
    { CELLS_INSTANCE_ACTION_GET, cells_calls_local, NULL },
    { CELLS_GET_CONSOLE_OUTPUT, cells_calls_local, NULL },
    { CELLS_HEAL, cells_heal_local, NULL },
};

/* Methods of the cell messages addressed to this cell. */
static const struct cell_method cells_cell_methods[] = {
    { CELLS_MSG_BUILD_INSTANCE, cells_build_cell },
    { CELLS_MSG_INSTANCE_UPDATE_AT_TOP, cells_state_update_cell },
    { CELLS_MSG_INSTANCE_DESTROY_AT_TOP, cells_state_destroy_cell },
    { CELLS_MSG_INSTANCE_ACTION, cells_state_action_cell },
    { CELLS_MSG_CAPACITY_REPORT, cells_capacity_report_cell },
    { CELLS_MSG_SERVICE_LIST, cells_calls_cell },
    { CELLS_MSG_SERVICE_UPDATE, cells_calls_cell },
    { CELLS_MSG_COMPUTE_NODE_LIST, cells_calls_cell },
    { CELLS_MSG_INSTANCE_ACTION_LIST, cells_calls_cell },
    { CELLS_MSG_INSTANCE_ACTION_GET, cells_calls_cell },
    { CELLS_MSG_GET_CONSOLE_OUTPUT, cells_calls_cell },
    { CELLS_MSG_HEAL_DIGEST, cells_heal_cell },
    { CELLS_MSG_HEAL_FETCH, cells_heal_cell },
};

/* ---- Helpers of the modules -------------------------------------------- */

struct cells_child *
cells_find_child(struct cells_service *svc, const char *path)
{
    for (size_t i = 0; i < svc->n_children; i++) {
        if (!strcmp(svc->children[i].cell->path, path)) {
            return &svc->children[i];
        }
    }
    return NULL;
}

int
cells_timeout_below(long long deadline_ms)
{
    long long left;

    if (!deadline_ms) {
        return CELLS_CALL_TIMEOUT_MS;
    }
    left = (long long) ((double) (deadline_ms - time_now_ms())
                        * CELLS_TIMEOUT_SHARE);
    if (left < CELLS_MIN_TIMEOUT_MS) {
        return CELLS_MIN_TIMEOUT_MS;
    }
    return left > INT_MAX ? INT_MAX : (int) left;
}

struct error *
cells_cast_conductor(struct cells_service *svc, const struct rpc_ctx *ctx,
                     const char *method, struct json_object *args)
{
    CLEANUP(rpc_msg_freep) struct rpc_msg *cast = rpc_msg_new(method, args);
    const struct rpc_target target = { CONDUCTOR_TOPIC, NULL };

    if (ctx) {
        rpc_ctx_destroy(&cast->ctx);
        rpc_ctx_clone(&cast->ctx, ctx);
    }
    return rpc_cast(svc->conn, &target, cast);
}

/* ---- Life cycle -------------------------------------------------------- */

static struct error *
cells_service_check_config(const struct cells_service_config *config)
{
    if (!config->topology_file || !*config->topology_file) {
        return error_new(ERROR_INVALID, "Set 'cells.topology' to the path "
                         "of cells.yaml");
    }
    if (!config->cell || !*config->cell) {
        return error_new(ERROR_INVALID, "Set 'cells.cell' to this cell's "
                         "name in cells.yaml");
    }
    if (config->scheduler_retries < 0
        || config->scheduler_retries > CELLS_MAX_SCHEDULER_RETRIES) {
        return error_new(ERROR_INVALID, "cells.scheduler_retries must be 1 "
                         "to %d", CELLS_MAX_SCHEDULER_RETRIES);
    }
    return NULL;
}

/* Fills the health settings from the report and mute intervals: a child
 * is excluded after missing reports for twice the mute interval. */
static struct error *
cells_service_init_health(struct cells_service *svc,
                          const struct cells_service_config *config)
{
    struct cell_health_config *hc = &svc->health_config;
    long long mute_ms = (long long) (config->mute_child_interval_s > 0
                                     ? config->mute_child_interval_s
                                     : CELLS_DEFAULT_MUTE_CHILD_INTERVAL_S)
                        * MS_PER_S;
    long long missed;

    cell_health_config_init(hc);
    hc->report_interval_ms = svc->capacity_interval_ms;
    if (mute_ms < hc->report_interval_ms) {
        mute_ms = hc->report_interval_ms;
    }
    hc->mute_child_interval_ms = mute_ms;
    missed = 2 * mute_ms / hc->report_interval_ms + 1;
    if (missed < CELL_HEALTH_DEFAULT_MAX_MISSED_REPORTS) {
        missed = CELL_HEALTH_DEFAULT_MAX_MISSED_REPORTS;
    }
    if (missed > CELL_HEALTH_MAX_COUNT) {
        missed = CELL_HEALTH_MAX_COUNT;
    }
    hc->max_missed_reports = (unsigned int) missed;
    return cell_health_config_check(hc);
}

struct error *
cells_service_new(const struct cells_service_config *config,
                  struct cells_service **ret_service)
{
    CLEANUP(cells_service_freep) struct cells_service *svc = NULL;
    const struct rpc_conn_options conn_options = {
        .name = CELLS_SERVICE_NAME,
    };
    struct cell_node_child *links = NULL;
    struct cell_sched_config sched_config;
    struct error *error;

    error = cells_service_check_config(config);
    if (error) {
        return error;
    }
    svc = xzalloc(sizeof *svc);
    error = topology_load_file(config->topology_file, &svc->topology);
    if (error) {
        return error;
    }
    svc->cell = topology_find_name(svc->topology, config->cell);
    if (!svc->cell) {
        return error_new(ERROR_INVALID, "Cell '%s' is not in %s",
                         config->cell, config->topology_file);
    }
    svc->path = svc->cell->path;
    svc->is_root = !svc->cell->parent;
    svc->is_leaf = svc->cell->hosts;
    svc->node_id = xstrdup_or_null(config->node_id);
    svc->topic = xstrdup_or_null(config->topic);
    svc->capacity_interval_ms = MS_PER_S * (long long) (
        config->capacity_interval_s > 0 ? config->capacity_interval_s
                                        : CELLS_DEFAULT_CAPACITY_INTERVAL_S);
    svc->scheduler_retries = (config->scheduler_retries > 0
                              ? config->scheduler_retries
                              : CELLS_DEFAULT_SCHEDULER_RETRIES);
    svc->service_down_time_s = (config->service_down_time_s > 0
                                ? config->service_down_time_s
                                : CELLS_DEFAULT_SERVICE_DOWN_TIME_S);
    error = cells_service_init_health(svc, config);
    if (error) {
        return error;
    }

    memset(&sched_config, 0, sizeof sched_config);
    sched_config.cell_path = svc->path;
    if (config->scheduler
        && cell_sched_mode_from_string(config->scheduler,
                                       &sched_config.mode)) {
        return error_new(ERROR_INVALID, "cells.scheduler must be "
                         "'filter_weight' or 'random', not '%s'",
                         config->scheduler);
    }
    error = cell_sched_new(&sched_config, &svc->sched);
    if (error) {
        return error;
    }
    cell_sched_random_init(&svc->rng, (uint64_t) time_now_ms()
                           ^ (uint64_t) (uintptr_t) svc);

    svc->n_children = svc->cell->n_children;
    svc->children = xcalloc(svc->n_children ? svc->n_children : 1,
                            sizeof *svc->children);
    for (size_t i = 0; i < svc->n_children; i++) {
        svc->children[i].cell = svc->cell->children[i];
        cell_health_init(&svc->children[i].health, &svc->health_config,
                         poll_loop_now_ms());
    }

    if (svc->is_leaf) {
        if (!svc->cell->database) {
            return error_new(ERROR_INVALID, "Cell '%s' has hosts but no "
                             "'database' in %s", svc->path,
                             config->topology_file);
        }
        error = db_open(svc->cell->database, &svc->cell_db);
        if (error) {
            return error_wrap(error, "Cannot open the database of cell "
                              "'%s'", svc->path);
        }
    }
    if (svc->is_root) {
        if (!config->api_database) {
            return error_new(ERROR_INVALID, "The API cell's nova-cells needs "
                             "'api_database.connection' for the top view");
        }
        error = db_open(config->api_database, &svc->api_db);
        if (error) {
            return error_wrap(error, "Cannot open the API database");
        }
    }

    error = rpc_conn_open(svc->cell->transport_url, &conn_options,
                          &svc->conn);
    if (error) {
        return error;
    }

    links = xcalloc(svc->n_children ? svc->n_children : 1, sizeof *links);
    for (size_t i = 0; i < svc->n_children; i++) {
        links[i].name = svc->cell->children[i]->name;
        links[i].url = svc->cell->children[i]->transport_url;
    }
    const struct cell_node_options node_options = {
        .path = svc->path,
        .url = svc->cell->transport_url,
        .parent_url = (svc->cell->parent
                       ? svc->cell->parent->transport_url : NULL),
        .children = links,
        .n_children = svc->n_children,
        .node_id = svc->node_id,
        .topic = svc->topic,
        .methods = cells_cell_methods,
        .n_methods = ARRAY_SIZE(cells_cell_methods),
        .aux = svc,
    };
    error = cell_node_new(&node_options, &svc->node);
    free(links);
    if (error) {
        return error;
    }

    const struct rpc_server_options server_options = {
        .topic = CELLS_LOCAL_TOPIC,
        .version = CELLS_RPC_VERSION,
        .methods = cells_local_methods,
        .n_methods = ARRAY_SIZE(cells_local_methods),
        .aux = svc,
    };
    error = rpc_server_new(svc->conn, &server_options, &svc->server);
    if (error) {
        return error;
    }

    /* The first report soon after start, so that the parent can schedule
     * to this cell. */
    svc->next_report_ms = poll_loop_now_ms();
    if (svc->is_root && config->heal_interval_s > 0) {
        svc->heal_interval_ms = MS_PER_S * (long long) config->heal_interval_s;
        svc->next_heal_ms = poll_loop_now_ms() + svc->heal_interval_ms;
    }
    LOG_INFO("cell '%s' (%s%s, %zu children) serving topic '%s' on '%s'",
             svc->path, svc->is_root ? "root" : "not root",
             svc->is_leaf ? ", leaf" : "", svc->n_children,
             CELLS_LOCAL_TOPIC, rpc_conn_url(svc->conn));
    *ret_service = TAKE_PTR(svc);
    return NULL;
}

void
cells_service_free(struct cells_service *svc)
{
    if (!svc) {
        return;
    }
    /* The node first: its pending requests complete with errors, and
     * their callbacks answer the deferred RPC requests of the server. */
    svc->closing = true;
    cell_node_free(svc->node);
    rpc_server_free(svc->server);
    rpc_conn_free(svc->conn);
    db_close(svc->cell_db);
    db_close(svc->api_db);
    for (size_t i = 0; i < svc->n_children; i++) {
        cell_capacity_free(svc->children[i].capacity);
    }
    free(svc->children);
    cell_capacity_free(svc->own_capacity);
    cell_sched_free(svc->sched);
    topology_free(svc->topology);
    free(svc->node_id);
    free(svc->topic);
    free(svc);
}

void
cells_service_run(struct cells_service *svc)
{
    long long now = poll_loop_now_ms();

    if (now >= svc->next_report_ms) {
        /* At the root it reports nothing up, but refreshes the report of
         * its own hosts, if it has any. */
        cells_capacity_report_send(svc);
        if (svc->is_root) {
            /* No parent to report to, but a child that went silent must
             * be recorded as such even if no other child reports. */
            cells_health_report_tick(svc);
        }
        svc->next_report_ms = now + svc->capacity_interval_ms;
    }
    if (svc->heal_interval_ms && now >= svc->next_heal_ms) {
        cells_heal_periodic(svc);
        svc->next_heal_ms = now + svc->heal_interval_ms;
    }
    rpc_conn_run(svc->conn);
    cell_node_run(svc->node);
}

void
cells_service_wait(struct cells_service *svc)
{
    rpc_conn_wait(svc->conn);
    cell_node_wait(svc->node);
    poll_timer_wait_until(svc->next_report_ms);
    if (svc->heal_interval_ms) {
        poll_timer_wait_until(svc->next_heal_ms);
    }
}

void
cells_service_get_stats(const struct cells_service *svc,
                        struct cells_service_stats *ret_stats)
{
    *ret_stats = svc->stats;
}
