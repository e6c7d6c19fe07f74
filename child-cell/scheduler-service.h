/* scheduler-service.h: the daemon side of nova-scheduler.
 *
 * A 'struct scheduler_service' is what the nova-scheduler process runs:
 *
 *   - host states.  Every 'refresh_interval_ms' it lists the cell's compute
 *     nodes with their nova-compute service (cell_db_node_list(), ordered
 *     by node id as Nova's host manager orders them) and feeds each node
 *     whose row or service state changed to its 'struct sched_host'
 *     (sched-host.h) as a new report.  A node's report counts the instances
 *     the conductor has claimed on it (compute_nodes.num_instances), so the
 *     scheduler's in-memory claims retire as soon as the conductor's
 *     claims in the database show them: between two refreshes decisions
 *     see the in-memory claims, after a refresh the database's usage.
 *     Nodes that appear are added and nodes that disappear are dropped
 *     (their claims with them); the others keep their claims.
 *   - the RPC server of topic "scheduler" with select_destinations
 *     (child-cell/rpcapi.h): the request is decoded by conductor-select.h,
 *     placed by scheduler_select_destinations() (scheduler.h) on the host
 *     states, and answered with one DEST list per instance.
 *   - its own service row (binary "nova-scheduler", topic "scheduler"): a
 *     heartbeat every 'report_interval_s', so that "nova-manage service
 *     list" shows it.
 *
 * The database is only read, apart from that heartbeat: the claims that
 * guard against oversubscription are the conductor's (DESIGN.md, section
 * 7), so several schedulers may run against one cell, each with its own
 * in-memory view.
 *
 * Claim expiry.  The conductor's claims change a node's row without a
 * report from its compute host, and every change is applied as a new
 * report so that claims and releases show at once.  The scheduler library
 * expires an in-memory claim after SCHED_HOST_CLAIM_MAX_REPORTS reports
 * that do not show it, so in a burst where the conductor lags more than
 * that many refreshes behind the scheduler a claim can expire before the
 * conductor's claim lands: the scheduler may then pick a host that is
 * full in the database, the conductor's claim on it fails and it falls
 * back to the alternates (never oversubscribing).  XXX: a way to refresh
 * usage without counting a report (sched-host.h) would remove this.
 *
 * Availability zones.  The cell database has no host aggregates yet, so
 * every host is in the default zone "nova" (SCHED_HOST_DEFAULT_AZ).
 * Allocation ratios and reserved amounts are the ones each node reports,
 * with Nova's defaults applied by the cell database layer
 * (cell-db-node.h), so the scheduler and the conductor's claims use the
 * same capacities.
 *
 * Cost.  A decision is measured from the decoded request to the
 * scheduler's answer; the mean and maximum are kept in the stats and
 * logged every SCHEDULER_SERVICE_STATS_INTERVAL_MS when decisions were
 * made.
 *
 * Threads: a service belongs to the thread that created it, which drives it
 * with scheduler_service_run() and scheduler_service_wait() in a poll loop
 * (shared/poll-loop.h).  It owns its database and broker connections. */
#ifndef CHILD_CELL_SCHEDULER_SERVICE_H
#define CHILD_CELL_SCHEDULER_SERVICE_H 1

#include <stddef.h>
#include <stdint.h>
#include "child-cell/scheduler.h"
#include "shared/cleanup.h"
#include "shared/compiler.h"

struct error;
struct scheduler_service;

/* Service binary and topic, as in the services table. */
#define SCHEDULER_SERVICE_BINARY "nova-scheduler"
#define SCHEDULER_SERVICE_TOPIC "scheduler"
/* Version recorded with the heartbeats. */
#define SCHEDULER_SERVICE_VERSION 1

/* Defaults of the configuration. */
#define SCHEDULER_SERVICE_DEFAULT_REFRESH_MS 1000
#define SCHEDULER_SERVICE_DEFAULT_REPORT_S 10
/* How often the decision statistics are logged. */
#define SCHEDULER_SERVICE_STATS_INTERVAL_MS 60000

struct scheduler_service_config {
    const char *transport_url;      /* Required. */
    const char *database_url;       /* Required. */
    const char *host;               /* Service host name; required. */
    /* Filters and weighers, as for scheduler_new(). */
    const struct scheduler_config *scheduler;
    long long refresh_interval_ms;  /* 0: the default. */
    int service_down_time_s;        /* 0: CELL_DB_SERVICE_DOWN_TIME_S. */
    int report_interval_s;          /* 0: the default. */
};

/* Counters since scheduler_service_new(). */
struct scheduler_service_stats {
    uint64_t requests;              /* select_destinations handled */
    uint64_t instances;             /* instances placed */
    uint64_t no_valid_host;         /* requests that found no host */
    uint64_t invalid;               /* requests refused as malformed */
    uint64_t decision_ns_total;     /* time in the decisions */
    uint64_t decision_ns_max;
    uint64_t refreshes;             /* host state refreshes done */
    uint64_t refresh_failures;
    uint64_t reports;               /* node reports applied */
    size_t n_hosts;                 /* compute nodes known now */
};

/* Opens the database and the broker, reads the host states once, starts
 * serving, then records the service's first heartbeat.  Returns NULL and
 * stores the service (owned by the caller) in '*ret_service', or an error
 * saying what failed (bad filter name, unreachable database or broker). */
struct error *scheduler_service_new(
    const struct scheduler_service_config *config,
    struct scheduler_service **ret_service) WARN_UNUSED;

/* Stops serving and frees 'service'.  Requests not yet handled go back to
 * the broker for another scheduler.  Accepts NULL. */
void scheduler_service_free(struct scheduler_service *service);
DEFINE_FREEP(struct scheduler_service, scheduler_service_free)

/* Does the work that is due: RPC deliveries, the host refresh, the
 * heartbeat, the statistics line.  Never blocks for long. */
void scheduler_service_run(struct scheduler_service *service);

/* Registers what scheduler_service_run() waits for with the poll loop. */
void scheduler_service_wait(struct scheduler_service *service);

void scheduler_service_get_stats(const struct scheduler_service *service,
                                 struct scheduler_service_stats *ret_stats);

#endif /* CHILD_CELL_SCHEDULER_SERVICE_H */
