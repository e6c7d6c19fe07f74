/* cells-service.h: nova-cells, the daemon every cell of the tree runs.
 *
 * A 'struct cells_service' is what one nova-cells process runs for its
 * cell: the cell's end of the cell message layer (cells-rpc/cell-node.h),
 * linked to the parent and children named in cells.yaml, and an RPC
 * server on CELLS_LOCAL_TOPIC (cells-rpc/cells-rpcapi.h) for the local
 * processes of the cell.  What the cell does depends on where it stands:
 *
 *   root (API cell)   takes boots, actions and queries from nova-api and
 *                     sends them down; applies the instance updates that
 *                     come up to the top view in the API database.
 *   intermediate      schedules builds among its children, passes
 *                     everything else on, and reports the sum of its
 *                     children's capacity to its parent.
 *   leaf              casts builds and actions to its conductor, answers
 *                     queries from its cell database, sends its
 *                     conductor's instance changes up to the root, and
 *                     reports its capacity to its parent.
 *
 * The work lives in modules beside this one:
 *
 *   cells-build.c            build_instance down the tree (cell-sched.h)
 *   cells-state.c            instance_update_at_top, _destroy_at_top up,
 *                            instance_action down
 *   cells-capacity-report.c  capacity reports up and child health
 *   cells-calls.c            service and compute node lists, service
 *                            update, instance actions, console output
 *   cells-heal.c             the top view compared with the leaves and
 *                            repaired (periodic and on demand)
 *
 * Threads: a service belongs to the thread that created it, which drives
 * it with cells_service_run() and cells_service_wait() in a poll loop
 * (shared/poll-loop.h). */
#ifndef CHILD_CELL_CELLS_SERVICE_H
#define CHILD_CELL_CELLS_SERVICE_H 1

#include <stdint.h>
#include "shared/cleanup.h"
#include "shared/compiler.h"

struct cells_service;
struct error;

/* Defaults and limits of the configuration. */
#define CELLS_DEFAULT_CAPACITY_INTERVAL_S 10
#define CELLS_DEFAULT_MUTE_CHILD_INTERVAL_S 60
#define CELLS_DEFAULT_SCHEDULER_RETRIES 3
#define CELLS_MAX_SCHEDULER_RETRIES 100
#define CELLS_DEFAULT_SERVICE_DOWN_TIME_S 60

struct cells_service_config {
    const char *topology_file;      /* cells.yaml; required. */
    const char *cell;               /* This cell's name; required. */
    const char *node_id;            /* NULL: the host name. */
    /* Topic of the cells queues, the same in every cell of the tree; NULL:
     * CELL_NODE_DEFAULT_TOPIC.  (Local processes always use
     * CELLS_LOCAL_TOPIC.) */
    const char *topic;
    int capacity_interval_s;        /* 0: the default. */
    int mute_child_interval_s;      /* 0: the default. */
    const char *scheduler;          /* "filter_weight" (NULL) or
                                     * "random". */
    int scheduler_retries;          /* 0: the default. */
    const char *api_database;       /* Root only: the API database. */
    int service_down_time_s;        /* 0: the default. */
    int heal_interval_s;            /* Root: seconds between heals
                                     * (cells-heal.h); 0: none. */
};

/* Counters since cells_service_new(). */
struct cells_service_stats {
    uint64_t builds;                /* build requests handled here */
    uint64_t builds_forwarded;      /* sent to a child */
    uint64_t builds_cast;           /* cast to this leaf's conductor */
    uint64_t builds_failed;         /* no cell could take them */
    uint64_t updates_up;            /* updates sent towards the root */
    uint64_t updates_applied;       /* applied to the top view */
    uint64_t updates_stale;         /* older than the top view's */
    uint64_t actions;               /* instance actions handled here */
    uint64_t reports_sent;
    uint64_t reports_received;
};

/* Loads the topology, opens the databases this cell needs, connects to
 * the cell's vhost and starts serving.  Returns NULL and stores the
 * service (owned by the caller) in '*ret_service', or an error saying
 * what failed (ERROR_INVALID for a bad configuration). */
struct error *cells_service_new(const struct cells_service_config *config,
                                struct cells_service **ret_service)
    WARN_UNUSED;

/* Stops serving and frees 'service'.  Accepts NULL. */
void cells_service_free(struct cells_service *service);
DEFINE_FREEP(struct cells_service, cells_service_free)

/* Does the work that is due without blocking for long. */
void cells_service_run(struct cells_service *service);

/* Registers what cells_service_run() waits for with the poll loop. */
void cells_service_wait(struct cells_service *service);

void cells_service_get_stats(const struct cells_service *service,
                             struct cells_service_stats *ret_stats);

#endif /* CHILD_CELL_CELLS_SERVICE_H */
