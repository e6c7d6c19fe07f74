/* scheduler-service.c: nova-scheduler's host states, RPC server and
 * heartbeat (see scheduler-service.h). */
#include <config.h>

#include "child-cell/scheduler-service.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <string.h>
#include <time.h>

#include "cells-rpc/rpc-msg.h"
#include "cells-rpc/rpc-server.h"
#include "cells-rpc/rpc.h"
#include "child-cell/cell-db-node.h"
#include "child-cell/cell-db-service.h"
#include "child-cell/conductor-select.h"
#include "child-cell/rpcapi.h"
#include "child-cell/sched-host.h"
#include "child-cell/sched-names.h"
#include "child-cell/scheduler.h"
#include "shared/db.h"
#include "shared/error.h"
#include "shared/json-util.h"
#include "shared/log.h"
#include "shared/poll-loop.h"
#include "shared/xalloc.h"

LOG_MODULE("scheduler.service");

#define NS_PER_MS INT64_C(1000000)
#define NS_PER_US 1000
#define MS_PER_S 1000

/* Key of Nova's cpu_info JSON that names the host's architecture. */
#define SCHEDULER_SERVICE_CPU_INFO_ARCH "arch"

/* What a node's report was made of: a new report is applied only when
 * this changes, since reports count towards the expiry of claims
 * (sched-host.h). */
struct scheduler_service_sig {
    int64_t updated_at;
    int64_t vcpus, memory_mb, local_gb;
    int64_t vcpus_used, memory_mb_used, local_gb_used;
    int64_t num_instances;
    int64_t reserved_cpus, reserved_memory_mb, reserved_disk_mb;
    double cpu_ratio, ram_ratio, disk_ratio;
    uint32_t hv_hash, cpu_info_hash;
    bool enabled, up;
};

/* What the service keeps beside each host state. */
struct scheduler_service_node {
    int64_t id;                     /* compute_nodes.id */
    bool reported;                  /* 'sig' holds the last report */
    struct scheduler_service_sig sig;
};

struct scheduler_service {
    char *host;
    long long refresh_interval_ms;
    int service_down_time_s;
    long long report_interval_ms;

    struct db *db;
    struct rpc_conn *conn;
    struct rpc_server *server;
    struct scheduler *sched;

    /* Host states in compute node id order, and their bookkeeping. */
    struct sched_host *hosts;
    struct scheduler_service_node *nodes;
    size_t n_hosts;

    long long next_refresh_ms;
    long long next_report_ms;
    long long next_stats_ms;

    struct scheduler_service_stats stats;
    /* Figures of the current statistics interval. */
    uint64_t interval_requests;
    uint64_t interval_ns_total;
    uint64_t interval_ns_max;
};

static int64_t
scheduler_service_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * NS_PER_MS * MS_PER_S + ts.tv_nsec;
}

/* ---- Host states ------------------------------------------------------ */

static uint32_t
scheduler_service_hash(const char *s)
{
    return s ? sched_names_hash(s) : 0;
}

static void
scheduler_service_sig_of(const struct cell_db_node *node,
                         struct scheduler_service_sig *sig)
{
    memset(sig, 0, sizeof *sig);
    sig->updated_at = node->updated_at;
    sig->vcpus = node->vcpus;
    sig->memory_mb = node->memory_mb;
    sig->local_gb = node->local_gb;
    sig->vcpus_used = node->vcpus_used;
    sig->memory_mb_used = node->memory_mb_used;
    sig->local_gb_used = node->local_gb_used;
    sig->num_instances = node->num_instances;
    sig->reserved_cpus = node->reserved_host_cpus;
    sig->reserved_memory_mb = node->reserved_host_memory_mb;
    sig->reserved_disk_mb = node->reserved_host_disk_mb;
    sig->cpu_ratio = node->cpu_allocation_ratio;
    sig->ram_ratio = node->ram_allocation_ratio;
    sig->disk_ratio = node->disk_allocation_ratio;
    sig->hv_hash = scheduler_service_hash(node->hypervisor_type);
    sig->cpu_info_hash = scheduler_service_hash(node->cpu_info);
    sig->enabled = node->service_found && !node->service_disabled;
    sig->up = (node->service_found && node->service_up
               && !node->service_forced_down);
}

static bool
scheduler_service_sig_equal(const struct scheduler_service_sig *a,
                            const struct scheduler_service_sig *b)
{
    return (a->updated_at == b->updated_at
            && a->vcpus == b->vcpus
            && a->memory_mb == b->memory_mb
            && a->local_gb == b->local_gb
            && a->vcpus_used == b->vcpus_used
            && a->memory_mb_used == b->memory_mb_used
            && a->local_gb_used == b->local_gb_used
            && a->num_instances == b->num_instances
            && a->reserved_cpus == b->reserved_cpus
            && a->reserved_memory_mb == b->reserved_memory_mb
            && a->reserved_disk_mb == b->reserved_disk_mb
            && a->cpu_ratio == b->cpu_ratio
            && a->ram_ratio == b->ram_ratio
            && a->disk_ratio == b->disk_ratio
            && a->hv_hash == b->hv_hash
            && a->cpu_info_hash == b->cpu_info_hash
            && a->enabled == b->enabled
            && a->up == b->up);
}

/* Returns the architecture named by Nova's cpu_info JSON text 'cpu_info'
 * ({"arch": "x86_64", ...}), copied, or NULL. */
static char *
scheduler_service_arch_of(const char *cpu_info)
{
    CLEANUP(json_putp) struct json_object *doc = NULL;
    struct json_object *arch;
    struct error *error;

    if (!cpu_info || !*cpu_info) {
        return NULL;
    }
    error = json_parse_text(cpu_info, strlen(cpu_info), 0, 0, &doc);
    if (error) {
        error_free(error);
        return NULL;
    }
    if (!json_object_is_type(doc, json_type_object)
        || !json_object_object_get_ex(doc, SCHEDULER_SERVICE_CPU_INFO_ARCH,
                                      &arch)
        || !json_object_is_type(arch, json_type_string)) {
        return NULL;
    }
    return xstrdup(json_object_get_string(arch));
}

/* Feeds 'node' to 'host' when its report changed. */
static void
scheduler_service_apply(struct scheduler_service *svc, size_t i,
                        const struct cell_db_node *node)
{
    struct scheduler_service_node *meta = &svc->nodes[i];
    struct scheduler_service_sig sig;
    AUTOFREE char *arch = NULL;
    struct sched_host_report report;

    scheduler_service_sig_of(node, &sig);
    if (meta->reported && scheduler_service_sig_equal(&sig, &meta->sig)) {
        return;
    }
    arch = scheduler_service_arch_of(node->cpu_info);
    report = (struct sched_host_report) {
        .enabled = sig.enabled,
        .up = sig.up,
        .availability_zone = NULL,
        .hypervisor_type = (node->hypervisor_type && *node->hypervisor_type
                            ? node->hypervisor_type : NULL),
        .architecture = arch,
        .total_vcpus = node->vcpus,
        .total_memory_mb = node->memory_mb,
        .total_disk_gb = node->local_gb,
        .used_vcpus = node->vcpus_used,
        .used_memory_mb = node->memory_mb_used,
        .used_disk_gb = node->local_gb_used,
        .reserved_vcpus = node->reserved_host_cpus,
        .reserved_memory_mb = node->reserved_host_memory_mb,
        .reserved_disk_mb = node->reserved_host_disk_mb,
        .cpu_ratio = node->cpu_allocation_ratio,
        .ram_ratio = node->ram_allocation_ratio,
        .disk_ratio = node->disk_allocation_ratio,
        .n_instances = node->num_instances,
    };
    if (sched_host_update(&svc->hosts[i], &report)) {
        LOG_WARN_RL("compute node '%s' of host '%s' reports amounts out of "
                    "range, ignoring its report", node->node, node->host);
        return;
    }
    meta->sig = sig;
    meta->reported = true;
    svc->stats.reports++;
}

/* True if 'list' names the same nodes, in the same order, as the host
 * array. */
static bool
scheduler_service_same_nodes(const struct scheduler_service *svc,
                             const struct cell_db_node_list *list)
{
    if (list->n != svc->n_hosts) {
        return false;
    }
    for (size_t i = 0; i < list->n; i++) {
        if (list->items[i].id != svc->nodes[i].id) {
            return false;
        }
    }
    return true;
}

/* Rebuilds the host array for the nodes of 'list' (ordered by id),
 * moving over the state (claims included) of the nodes it already had. */
static void
scheduler_service_rebuild(struct scheduler_service *svc,
                          const struct cell_db_node_list *list)
{
    struct sched_host *hosts = sched_host_array_new(list->n);
    struct scheduler_service_node *nodes
        = xcalloc(list->n ? list->n : 1, sizeof *nodes);
    size_t j = 0;

    for (size_t i = 0; i < list->n; i++) {
        const struct cell_db_node *node = &list->items[i];

        while (j < svc->n_hosts && svc->nodes[j].id < node->id) {
            LOG_INFO("compute node '%s' of host '%s' is gone",
                     svc->hosts[j].node, svc->hosts[j].host);
            sched_host_destroy(&svc->hosts[j++]);
        }
        if (j < svc->n_hosts && svc->nodes[j].id == node->id) {
            /* A move: the old slot is not destroyed. */
            hosts[i] = svc->hosts[j];
            nodes[i] = svc->nodes[j++];
        } else {
            sched_host_init(&hosts[i], node->host, node->node);
            nodes[i].id = node->id;
            LOG_INFO("new compute node '%s' of host '%s'", node->node,
                     node->host);
        }
    }
    while (j < svc->n_hosts) {
        LOG_INFO("compute node '%s' of host '%s' is gone",
                 svc->hosts[j].node, svc->hosts[j].host);
        sched_host_destroy(&svc->hosts[j++]);
    }
    sched_host_array_free(svc->hosts, 0);
    free(svc->nodes);
    svc->hosts = hosts;
    svc->nodes = nodes;
    svc->n_hosts = list->n;
}

/* Reads the host states from the database. */
static struct error *
scheduler_service_refresh(struct scheduler_service *svc)
{
    CLEANUP(cell_db_node_list_freep) struct cell_db_node_list *list = NULL;
    struct error *error;

    error = cell_db_node_list(svc->db, svc->service_down_time_s, &list);
    if (error) {
        svc->stats.refresh_failures++;
        return error;
    }
    if (!scheduler_service_same_nodes(svc, list)) {
        scheduler_service_rebuild(svc, list);
    }
    for (size_t i = 0; i < list->n; i++) {
        scheduler_service_apply(svc, i, &list->items[i]);
    }
    svc->stats.refreshes++;
    svc->stats.n_hosts = svc->n_hosts;
    return NULL;
}

/* ---- select_destinations ---------------------------------------------- */

/* The DEST form of host 'i'. */
static struct json_object *
scheduler_service_dest(const struct scheduler_service *svc, size_t i)
{
    struct json_object *dest = json_object_new_object();

    json_object_object_add(dest, "host",
                           json_object_new_string(svc->hosts[i].host));
    json_object_object_add(dest, "node",
                           json_object_new_string(svc->hosts[i].node));
    return dest;
}

static struct json_object *
scheduler_service_reply(const struct scheduler_service *svc,
                        const struct scheduler_selection *selection)
{
    struct json_object *result = json_object_new_object();
    struct json_object *selections = json_object_new_array();

    for (size_t i = 0; i < selection->n_dests; i++) {
        const struct scheduler_dest *d = &selection->dests[i];
        struct json_object *list = json_object_new_array();

        json_object_array_add(list, scheduler_service_dest(svc, d->host));
        for (size_t k = 0; k < d->n_alternates; k++) {
            json_object_array_add(
                list, scheduler_service_dest(svc, d->alternates[k].host));
        }
        json_object_array_add(selections, list);
    }
    json_object_object_add(result, "selections", selections);
    return result;
}

static void
scheduler_service_count(struct scheduler_service *svc, uint64_t ns)
{
    svc->stats.requests++;
    svc->stats.decision_ns_total += ns;
    if (ns > svc->stats.decision_ns_max) {
        svc->stats.decision_ns_max = ns;
    }
    svc->interval_requests++;
    svc->interval_ns_total += ns;
    if (ns > svc->interval_ns_max) {
        svc->interval_ns_max = ns;
    }
}

static struct error *
scheduler_service_select(struct rpc_request *req, void *aux,
                         struct json_object **ret_result)
{
    struct scheduler_service *svc = aux;
    const struct rpc_msg *msg = rpc_request_msg(req);
    CLEANUP(conductor_select_request_freep)
        struct conductor_select_request *request = NULL;
    CLEANUP(scheduler_selection_freep)
        struct scheduler_selection *selection = NULL;
    struct log_ctx log_ctx;
    struct error *error;
    int64_t start, ns;

    rpc_ctx_to_log_ctx(&msg->ctx, &log_ctx);
    error = conductor_select_decode_request(msg->args, &request);
    if (error) {
        svc->stats.invalid++;
        LOG_WARN_RL_CTX(&log_ctx, "refusing select_destinations: %s",
                        error_message(error));
        return error;
    }

    start = scheduler_service_now_ns();
    error = scheduler_select_destinations(svc->sched, &request->spec,
                                          svc->hosts, svc->n_hosts,
                                          &selection);
    ns = scheduler_service_now_ns() - start;
    scheduler_service_count(svc, (uint64_t) ns);
    if (request->spec.num_instances == 1) {
        log_ctx.instance_uuid = request->spec.instance_uuids[0];
    }
    if (error) {
        if (error_kind(error) == ERROR_NO_VALID_HOST) {
            svc->stats.no_valid_host++;
        }
        LOG_INFO_CTX(&log_ctx, "no destination for %zu instance(s) among "
                     "%zu hosts: %s", request->spec.num_instances,
                     svc->n_hosts, error_message(error));
        return error;
    }
    svc->stats.instances += selection->n_dests;
    LOG_DBG_CTX(&log_ctx, "placed %zu instance(s) among %zu hosts in "
                "%" PRId64 " us, first on '%s'", selection->n_dests,
                svc->n_hosts, ns / NS_PER_US,
                svc->hosts[selection->dests[0].host].host);
    *ret_result = scheduler_service_reply(svc, selection);
    return NULL;
}

static struct error *
scheduler_service_validate_select(const struct json_object *args)
{
    struct json_object *value;
    struct error *error;

    error = json_get_object(args, NULL, "spec", true, &value);
    if (!error) {
        error = json_get_array(args, NULL, "instance_uuids", true,
                               SCHED_SPEC_MAX_INSTANCES, &value);
    }
    return error;
}

static const struct rpc_method scheduler_service_methods[] = {
    { SCHEDULER_SELECT_DESTINATIONS, scheduler_service_select,
      scheduler_service_validate_select },
};

/* ---- Periodic work ---------------------------------------------------- */

static void
scheduler_service_heartbeat(struct scheduler_service *svc)
{
    struct error *error = cell_db_service_heartbeat(
        svc->db, svc->host, SCHEDULER_SERVICE_BINARY,
        SCHEDULER_SERVICE_TOPIC, SCHEDULER_SERVICE_VERSION, NULL);

    if (error) {
        LOG_WARN_RL("cannot record the service heartbeat, retrying in "
                    "%lld s: %s", svc->report_interval_ms / MS_PER_S,
                    error_message(error));
        error_free(error);
    }
}

static void
scheduler_service_log_stats(struct scheduler_service *svc)
{
    if (!svc->interval_requests) {
        return;
    }
    LOG_INFO("%" PRIu64 " decisions over %zu hosts since the last report: "
             "mean %" PRIu64 " us, max %" PRIu64 " us",
             svc->interval_requests, svc->n_hosts,
             svc->interval_ns_total / svc->interval_requests / NS_PER_US,
             svc->interval_ns_max / NS_PER_US);
    svc->interval_requests = 0;
    svc->interval_ns_total = 0;
    svc->interval_ns_max = 0;
}

void
scheduler_service_run(struct scheduler_service *svc)
{
    long long now = poll_loop_now_ms();

    if (now >= svc->next_refresh_ms) {
        struct error *error = scheduler_service_refresh(svc);

        if (error) {
            LOG_WARN_RL("cannot refresh the host states, keeping the last "
                        "ones: %s", error_message(error));
            error_free(error);
        }
        svc->next_refresh_ms = now + svc->refresh_interval_ms;
    }
    if (now >= svc->next_report_ms) {
        scheduler_service_heartbeat(svc);
        svc->next_report_ms = now + svc->report_interval_ms;
    }
    if (now >= svc->next_stats_ms) {
        scheduler_service_log_stats(svc);
        svc->next_stats_ms = now + SCHEDULER_SERVICE_STATS_INTERVAL_MS;
    }
    rpc_conn_run(svc->conn);
}

void
scheduler_service_wait(struct scheduler_service *svc)
{
    rpc_conn_wait(svc->conn);
    poll_timer_wait_until(svc->next_refresh_ms);
    poll_timer_wait_until(svc->next_report_ms);
    poll_timer_wait_until(svc->next_stats_ms);
}

/* ---- Life cycle ------------------------------------------------------- */

struct error *
scheduler_service_new(const struct scheduler_service_config *config,
                      struct scheduler_service **ret_service)
{
    CLEANUP(scheduler_service_freep) struct scheduler_service *svc = NULL;
    static const struct scheduler_config default_config = { NULL, 0,
                                                            NULL, 0 };
    const struct rpc_conn_options conn_options = {
        .name = SCHEDULER_SERVICE_BINARY,
    };
    struct scheduler_service_config c = *config;
    struct error *error;
    long long now;

    if (!c.transport_url || !c.database_url || !c.host || !*c.host) {
        return error_new(ERROR_INVALID, "The scheduler needs a transport "
                         "URL, a database URL and a host name");
    }
    svc = xzalloc(sizeof *svc);
    svc->host = xstrdup(c.host);
    svc->refresh_interval_ms = (c.refresh_interval_ms > 0
                                ? c.refresh_interval_ms
                                : SCHEDULER_SERVICE_DEFAULT_REFRESH_MS);
    svc->service_down_time_s = (c.service_down_time_s > 0
                                ? c.service_down_time_s
                                : CELL_DB_SERVICE_DOWN_TIME_S);
    svc->report_interval_ms = MS_PER_S * (long long) (
        c.report_interval_s > 0 ? c.report_interval_s
                                : SCHEDULER_SERVICE_DEFAULT_REPORT_S);
    svc->hosts = sched_host_array_new(0);
    svc->nodes = xcalloc(1, sizeof *svc->nodes);

    error = scheduler_new(c.scheduler ? c.scheduler : &default_config,
                          &svc->sched);
    if (error) {
        return error_wrap(error, "Invalid scheduler configuration");
    }
    error = db_open(c.database_url, &svc->db);
    if (error) {
        return error;
    }
    error = scheduler_service_refresh(svc);
    if (error) {
        return error_wrap(error, "Cannot read the compute nodes");
    }

    const struct rpc_server_options options = {
        .topic = SCHEDULER_TOPIC,
        .server = svc->host,
        .version = SCHEDULER_RPC_VERSION,
        .methods = scheduler_service_methods,
        .n_methods = ARRAY_SIZE(scheduler_service_methods),
        .aux = svc,
    };
    error = rpc_conn_open(c.transport_url, &conn_options, &svc->conn);
    if (!error) {
        error = rpc_server_new(svc->conn, &options, &svc->server);
    }
    if (error) {
        return error;
    }
    /* The first heartbeat once serving: a scheduler that cannot start
     * never looks up. */
    scheduler_service_heartbeat(svc);

    now = poll_loop_now_ms();
    svc->next_refresh_ms = now + svc->refresh_interval_ms;
    svc->next_report_ms = now + svc->report_interval_ms;
    svc->next_stats_ms = now + SCHEDULER_SERVICE_STATS_INTERVAL_MS;
    LOG_INFO("serving topic '%s' on '%s' with %zu compute nodes",
             SCHEDULER_TOPIC, rpc_conn_url(svc->conn), svc->n_hosts);
    *ret_service = TAKE_PTR(svc);
    return NULL;
}

void
scheduler_service_free(struct scheduler_service *svc)
{
    if (!svc) {
        return;
    }
    scheduler_service_log_stats(svc);
    rpc_server_free(svc->server);
    rpc_conn_free(svc->conn);
    scheduler_free(svc->sched);
    sched_host_array_free(svc->hosts, svc->n_hosts);
    free(svc->nodes);
    db_close(svc->db);
    free(svc->host);
    free(svc);
}

void
scheduler_service_get_stats(const struct scheduler_service *svc,
                            struct scheduler_service_stats *ret_stats)
{
    *ret_stats = svc->stats;
    ret_stats->n_hosts = svc->n_hosts;
}
