/* cells-private.h: what the modules of nova-cells share
 * (cells-service.c, cells-build.c, cells-state.c, cells-capacity-report.c,
 * cells-calls.c, cells-heal.c).  Not for other callers: they use
 * cells-service.h.
 *
 * Everything here belongs to the thread that runs the service. */
#ifndef CHILD_CELL_CELLS_PRIVATE_H
#define CHILD_CELL_CELLS_PRIVATE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cells-rpc/cell-health.h"
#include "cells-rpc/cell-sched.h"
#include "child-cell/cells-service.h"
#include "shared/compiler.h"

struct cell_capacity;
struct cell_node;
struct db;
struct error;
struct json_object;
struct rpc_conn;
struct rpc_ctx;
struct rpc_server;
struct topology;
struct topology_cell;

/* Seconds an instance action, query or build may take on its way down. */
#define CELLS_CALL_TIMEOUT_MS 60000
/* Share of the time left that a cell gives the next level below it, so
 * that a child gives up before its parent does. */
#define CELLS_TIMEOUT_SHARE 0.8
/* Shortest time given to a request sent down. */
#define CELLS_MIN_TIMEOUT_MS 1000

/* One child of this cell, as the cell scheduler sees it. */
struct cells_child {
    const struct topology_cell *cell;   /* In the service's topology. */
    struct cell_capacity *capacity;     /* Latest report, or NULL. */
    struct cell_health health;
};

struct cells_service {
    struct topology *topology;
    const struct topology_cell *cell;   /* This cell. */
    const char *path;                   /* Its path (owned by topology). */
    bool is_root;
    bool is_leaf;                       /* Runs compute hosts. */
    char *node_id;
    char *topic;                        /* Cells queues; NULL: default. */

    long long capacity_interval_ms;
    int scheduler_retries;
    int service_down_time_s;
    struct cell_health_config health_config;

    struct rpc_conn *conn;              /* This cell's vhost. */
    struct rpc_server *server;          /* CELLS_LOCAL_TOPIC. */
    struct cell_node *node;
    struct db *cell_db;                 /* Leaf: its cell database. */
    struct db *api_db;                  /* Root: the top view. */

    struct cells_child *children;
    size_t n_children;
    struct cell_sched *sched;
    struct cell_sched_random rng;

    struct cell_capacity *own_capacity; /* Leaf: its latest report. */
    long long next_report_ms;           /* poll_loop_now_ms() clock. */
    long long heal_interval_ms;         /* Root: 0 for no periodic heal. */
    long long next_heal_ms;
    bool heal_running;                  /* The periodic heal is. */
    bool closing;                       /* Being freed: callbacks only
                                         * clean up. */
    struct cells_service_stats stats;
};

/* The child of this cell named by path 'path', or NULL. */
struct cells_child *cells_find_child(struct cells_service *,
                                     const char *path);

/* The time a request received with epoch deadline 'deadline_ms' (0: none)
 * may give the next level below: a share of what is left, at least
 * CELLS_MIN_TIMEOUT_MS; CELLS_CALL_TIMEOUT_MS without a deadline. */
int cells_timeout_below(long long deadline_ms);

/* Casts 'method' with 'args' (taken) to the conductor of this leaf, with
 * the context 'ctx' (may be NULL). */
struct error *cells_cast_conductor(struct cells_service *,
                                   const struct rpc_ctx *ctx,
                                   const char *method,
                                   struct json_object *args) WARN_UNUSED;

#endif /* CHILD_CELL_CELLS_PRIVATE_H */
