/* nova-cells.c: the cells daemon, run in every cell of the tree.
 *
 *     nova-cells [--config FILE] [--set KEY=VALUE]...
 *
 * Parses the command line and the configuration, then runs one cells
 * service (child-cell/cells-service.h) in a single-thread poll loop until
 * SIGTERM or SIGINT. */
#include <config.h>

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "child-cell/cells-service.h"
#include "shared/cleanup.h"
#include "shared/compiler.h"
#include "shared/config.h"
#include "shared/daemon.h"
#include "shared/db.h"
#include "shared/error.h"
#include "shared/log.h"
#include "shared/poll-loop.h"

LOG_MODULE("cells.main");

#define CELLS_NAME "nova-cells"

struct cells_daemon_config {
    struct daemon_common common;
    char *topology;
    char *cell;
    char *node_id;
    char *topic;
    long long capacity_interval_s;
    long long mute_child_interval_s;
    int scheduler;
    long long scheduler_retries;
    char *api_database;
    long long service_down_time_s;
    long long heal_interval_s;
};

static const char *const cells_scheduler_names[] = {
    "filter_weight", "random", NULL,
};

static const struct config_key cells_keys[] = {
    DAEMON_COMMON_KEYS(struct cells_daemon_config, common),
    { "cells.topology", CONFIG_TYPE_STRING,
      offsetof(struct cells_daemon_config, topology), NULL, 0, 0, NULL,
      "Path of cells.yaml: the tree, every cell's transport URL and the "
      "leaves' databases (required)" },
    { "cells.cell", CONFIG_TYPE_STRING,
      offsetof(struct cells_daemon_config, cell), NULL, 0, 0, NULL,
      "This cell's name as in cells.yaml (required)" },
    { "cells.node_id", CONFIG_TYPE_STRING,
      offsetof(struct cells_daemon_config, node_id), NULL, 0, 0, NULL,
      "This process among its cell's nova-cells processes, unique and "
      "stable; the host name when unset" },
    { "cells.topic", CONFIG_TYPE_STRING,
      offsetof(struct cells_daemon_config, topic), NULL, 0, 0, NULL,
      "Topic of the queues between cells, the same in every cell of the "
      "tree; \"cells\" when unset" },
    { "cells.capacity_interval", CONFIG_TYPE_INT,
      offsetof(struct cells_daemon_config, capacity_interval_s), "10", 1,
      3600, NULL, "Seconds between two capacity reports to the parent" },
    { "cells.mute_child_interval", CONFIG_TYPE_INT,
      offsetof(struct cells_daemon_config, mute_child_interval_s), "60", 1,
      86400, NULL, "Seconds without a report after which a child cell is "
      "mute and scheduled last" },
    { "cells.scheduler", CONFIG_TYPE_ENUM,
      offsetof(struct cells_daemon_config, scheduler), "filter_weight", 0,
      0, cells_scheduler_names, "How child cells are ordered for a build: "
      "filters and weighers, or filters and a random order" },
    { "cells.scheduler_retries", CONFIG_TYPE_INT,
      offsetof(struct cells_daemon_config, scheduler_retries), "3", 1,
      CELLS_MAX_SCHEDULER_RETRIES, NULL,
      "Most child cells one cell tries for a build" },
    { "api_database.connection", CONFIG_TYPE_STRING,
      offsetof(struct cells_daemon_config, api_database), NULL, 0, 0, NULL,
      "URL of the API database, for the top view (the API cell only)" },
    { "compute.service_down_time", CONFIG_TYPE_INT,
      offsetof(struct cells_daemon_config, service_down_time_s), "60", 1,
      86400, NULL, "Seconds without a heartbeat after which a service is "
      "down" },
    { "cells.heal_interval", CONFIG_TYPE_INT,
      offsetof(struct cells_daemon_config, heal_interval_s), "300", 0,
      86400, NULL, "Seconds between two heals of the top view against the "
      "leaves (the API cell only); 0 disables the periodic heal" },
};

static const struct config_schema cells_schema = {
    "nova.yaml", cells_keys, ARRAY_SIZE(cells_keys),
};

static const struct daemon_option cells_options[] = {
    { "cell", "cells.cell", "This cell's name in cells.yaml" },
};

static void
cells_run_cb(void *svc)
{
    cells_service_run(svc);
}

static void
cells_wait_cb(void *svc)
{
    cells_service_wait(svc);
}

/* Runs the service until an exit is asked for. */
static int
cells_main_loop(const void *config_)
{
    const struct cells_daemon_config *config = config_;
    CLEANUP(cells_service_freep) struct cells_service *svc = NULL;
    const struct cells_service_config sc = {
        .topology_file = config->topology,
        .cell = config->cell,
        .node_id = config->node_id,
        .topic = config->topic,
        .capacity_interval_s = (int) config->capacity_interval_s,
        .mute_child_interval_s = (int) config->mute_child_interval_s,
        .scheduler = cells_scheduler_names[config->scheduler],
        .scheduler_retries = (int) config->scheduler_retries,
        .api_database = config->api_database,
        .service_down_time_s = (int) config->service_down_time_s,
        .heal_interval_s = (int) config->heal_interval_s,
    };
    struct error *error;

    if (!sc.topology_file || !sc.cell) {
        fprintf(stderr, CELLS_NAME ": set 'cells.topology' and 'cells.cell' "
                "in the configuration file or with --set\n");
        return DAEMON_EXIT_USAGE;
    }
    if (daemon_signals_init()) {
        fprintf(stderr, CELLS_NAME ": cannot install signal handlers\n");
        return DAEMON_EXIT_FAILURE;
    }
    error = cells_service_new(&sc, &svc);
    if (error) {
        return daemon_start_failed(CELLS_NAME, &config->common, error);
    }
    daemon_run_service(cells_run_cb, cells_wait_cb, svc);
    return DAEMON_EXIT_OK;
}

int
main(int argc, char *argv[])
{
    struct cells_daemon_config config;
    const struct daemon_info info = {
        .name = CELLS_NAME,
        .usage = NULL,
        .summary = "Run one cell of the tree: schedule builds down to the "
                   "leaves and send instance updates up to the API cell.",
        .schema = &cells_schema,
        .common_offset = offsetof(struct cells_daemon_config, common),
        .options = cells_options,
        .n_options = ARRAY_SIZE(cells_options),
    };

    return daemon_main(&info, argc, argv, &config, cells_main_loop);
}
