/* conductor-service.h: nova-conductor, the leaf cell's keeper of the
 * database.
 *
 * A 'struct conductor' is what the nova-conductor process runs: an RPC
 * server on the topic "conductor" with every conductor method of
 * child-cell/rpcapi.h, over one database connection and one broker
 * connection.  The methods live in modules beside this one:
 *
 *   conductor-build.c     build_instances, build_failed: records the
 *                         instances, asks nova-scheduler for hosts without
 *                         blocking the loop (rpc_call_async()), claims
 *                         them in the cell database, falls back to the
 *                         alternates, casts build_and_run_instance, and
 *                         reschedules a failed build
 *   conductor-instance.c  the server actions (delete, reboot, stop, ...),
 *                         instance_get, instance_list, instance_update,
 *                         instance_destroyed, action_event
 *   conductor-host.c      service_heartbeat, compute_node_update,
 *                         instances_on_host
 *
 * Durability.  Each handler does its database work in one transaction
 * (db_txn_run()) that commits before the handler returns: the RPC layer
 * acknowledges a message only after its handler returned, so a message is
 * acknowledged only once its effect is durable.  build_instances defers
 * its request while the scheduler answers, so its message stays
 * unacknowledged until every instance is placed or failed; a conductor
 * that dies meanwhile leaves the message to another one, which finds the
 * instances recorded and places those that have no host yet.
 *
 * Several conductors may serve one cell (DESIGN.md, section 7): every
 * change that must not happen twice is a conditional update in the
 * database (claims, task state transitions), never a decision kept in
 * memory.
 *
 * Updates up the tree.  Every change of an instance goes through one
 * function, conductor_instance_changed() (conductor-private.h), which
 * casts instance_update_at_top (or instance_destroy_at_top) to this
 * cell's nova-cells (cells-rpc/cells-rpcapi.h), carrying the row's
 * update_seq up to the API cell's top view.
 *
 * Threads: a conductor belongs to the thread that created it, which drives
 * it with conductor_run() and conductor_wait() in a poll loop
 * (shared/poll-loop.h). */
#ifndef CHILD_CELL_CONDUCTOR_SERVICE_H
#define CHILD_CELL_CONDUCTOR_SERVICE_H 1

#include <stdint.h>
#include "shared/cleanup.h"
#include "shared/compiler.h"

struct conductor;
struct error;

/* Service binary and topic, as in the services table. */
#define CONDUCTOR_SERVICE_BINARY "nova-conductor"
#define CONDUCTOR_SERVICE_TOPIC "conductor"
/* Version recorded with the heartbeats. */
#define CONDUCTOR_SERVICE_VERSION 1

/* Defaults and limits of the configuration. */
#define CONDUCTOR_DEFAULT_MAX_ATTEMPTS 3
#define CONDUCTOR_MAX_MAX_ATTEMPTS 100
#define CONDUCTOR_DEFAULT_SCHEDULER_TIMEOUT_MS 60000
#define CONDUCTOR_DEFAULT_REPORT_S 10

struct conductor_config {
    const char *transport_url;      /* Required. */
    const char *database_url;       /* Required. */
    const char *host;               /* Service host name; required. */
    const char *cell_path;          /* This cell, for log lines; may be
                                     * NULL. */
    /* Attempts at building an instance, the first included, when a
     * build_instances request does not say (Nova's
     * scheduler.max_attempts); also the bound of every reschedule.
     * 0: the default. */
    int max_attempts;
    /* How long to wait for nova-scheduler's answer.  0: the default. */
    long long scheduler_timeout_ms;
    int report_interval_s;          /* 0: the default. */
    /* A compute service silent for longer is down: deleting an instance
     * on it then deletes it at once, as Nova does.  0:
     * CELL_DB_SERVICE_DOWN_TIME_S. */
    int service_down_time_s;
};

/* Counters since conductor_new(). */
struct conductor_stats {
    uint64_t build_requests;        /* build_instances handled */
    uint64_t builds_requeued;       /* given back: database unreachable */
    uint64_t instances_recorded;    /* instances created by them */
    uint64_t instances_placed;      /* claimed on a host and cast */
    uint64_t claims_lost;           /* claims refused (host full) */
    uint64_t reschedules;           /* failed builds sent elsewhere */
    uint64_t build_errors;          /* instances set to error */
    uint64_t actions;               /* server actions accepted */
    uint64_t actions_refused;       /* refused by the state checks */
    uint64_t instance_updates;      /* instance_update applied */
};

/* Opens the database and the broker, starts serving, then records the
 * service's first heartbeat.  Returns NULL and stores the conductor
 * (owned by the caller) in '*ret_conductor', or an error saying what
 * failed. */
struct error *conductor_new(const struct conductor_config *config,
                            struct conductor **ret_conductor) WARN_UNUSED;

/* Stops serving and frees 'conductor'.  Messages still being handled
 * (builds waiting for the scheduler) go back to the broker unacknowledged,
 * for another conductor.  Accepts NULL. */
void conductor_free(struct conductor *conductor);
DEFINE_FREEP(struct conductor, conductor_free)

/* Does the work that is due: RPC deliveries and replies, the heartbeat.
 * Never blocks for long. */
void conductor_run(struct conductor *conductor);

/* Registers what conductor_run() waits for with the poll loop. */
void conductor_wait(struct conductor *conductor);

void conductor_get_stats(const struct conductor *conductor,
                         struct conductor_stats *ret_stats);

#endif /* CHILD_CELL_CONDUCTOR_SERVICE_H */
