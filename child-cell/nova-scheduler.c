/* nova-scheduler.c: the scheduler daemon of a leaf cell.
 *
 *     nova-scheduler [--config FILE] [--set KEY=VALUE]... [--host NAME]
 *
 * Parses the command line and the configuration (filters, weigher
 * multipliers, refresh interval), then runs one scheduler service
 * (child-cell/scheduler-service.h) in a single-thread poll loop until
 * SIGTERM or SIGINT. */
#include <config.h>

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <unistd.h>

#include "child-cell/scheduler-service.h"
#include "child-cell/scheduler.h"
#include "shared/cleanup.h"
#include "shared/compiler.h"
#include "shared/config.h"
#include "shared/daemon.h"
#include "shared/db.h"
#include "shared/error.h"
#include "shared/log.h"
#include "shared/poll-loop.h"

LOG_MODULE("scheduler.main");

#define SCHEDULER_NAME "nova-scheduler"
/* Longest host name gethostname() may return, NUL included. */
#define SCHEDULER_HOSTNAME_SIZE 256
/* Range of a weigher multiplier. */
#define SCHEDULER_MULTIPLIER_MIN (-1000)
#define SCHEDULER_MULTIPLIER_MAX 1000

/* The weighers, in the order of their multipliers below. */
enum scheduler_weigher_index {
    SCHEDULER_WEIGH_RAM,
    SCHEDULER_WEIGH_CPU,
    SCHEDULER_WEIGH_DISK,
    SCHEDULER_WEIGH_SOFT_AFFINITY,
    SCHEDULER_WEIGH_SOFT_ANTI_AFFINITY,
    SCHEDULER_N_WEIGHERS
};

static const char *const scheduler_weigher_names[SCHEDULER_N_WEIGHERS] = {
    [SCHEDULER_WEIGH_RAM] = "RAMWeigher",
    [SCHEDULER_WEIGH_CPU] = "CPUWeigher",
    [SCHEDULER_WEIGH_DISK] = "DiskWeigher",
    [SCHEDULER_WEIGH_SOFT_AFFINITY] = "ServerGroupSoftAffinityWeigher",
    [SCHEDULER_WEIGH_SOFT_ANTI_AFFINITY]
        = "ServerGroupSoftAntiAffinityWeigher",
};

struct scheduler_daemon_config {
    struct daemon_common common;
    char *transport_url;
    char *database_connection;
    char *host;
    struct config_string_list filters;
    double multipliers[SCHEDULER_N_WEIGHERS];
    long long refresh_interval_ms;
    long long report_interval_s;
    long long service_down_time_s;
};

#define SCHEDULER_MULTIPLIER_KEY(INDEX, KEY, WHAT)                        \
    { "scheduler." KEY, CONFIG_TYPE_DOUBLE,                               \
      offsetof(struct scheduler_daemon_config, multipliers)               \
      + (INDEX) * sizeof(double), "1.0", SCHEDULER_MULTIPLIER_MIN,        \
      SCHEDULER_MULTIPLIER_MAX, NULL,                                     \
      "Multiplier of " WHAT " (negative stacks, 0 disables)" }

static const struct config_key scheduler_keys[] = {
    DAEMON_COMMON_KEYS(struct scheduler_daemon_config, common),
    { "transport_url", CONFIG_TYPE_STRING,
      offsetof(struct scheduler_daemon_config, transport_url), NULL, 0, 0,
      NULL, "RabbitMQ URL of this cell's vhost "
      "(rabbit://USER:PASSWORD@HOST:PORT/VHOST)" },
    { "database.connection", CONFIG_TYPE_STRING,
      offsetof(struct scheduler_daemon_config, database_connection), NULL,
      0, 0, NULL, "URL of this cell's database, read for the host states" },
    { "host", CONFIG_TYPE_STRING,
      offsetof(struct scheduler_daemon_config, host), NULL, 0, 0, NULL,
      "Name of this service's host in the services table; the system's "
      "host name when unset" },
    { "scheduler.filters", CONFIG_TYPE_STRING_LIST,
      offsetof(struct scheduler_daemon_config, filters),
      "ComputeFilter,AvailabilityZoneFilter,RamFilter,DiskFilter,"
      "CoreFilter,ImagePropertiesFilter,ServerGroupAntiAffinityFilter,"
      "ServerGroupAffinityFilter", 0, 0, NULL,
      "Host filters by Nova class name, in the order they run" },
    SCHEDULER_MULTIPLIER_KEY(SCHEDULER_WEIGH_RAM, "ram_weight_multiplier",
                             "the free RAM weigher"),
    SCHEDULER_MULTIPLIER_KEY(SCHEDULER_WEIGH_CPU, "cpu_weight_multiplier",
                             "the free vCPU weigher"),
    SCHEDULER_MULTIPLIER_KEY(SCHEDULER_WEIGH_DISK, "disk_weight_multiplier",
                             "the free disk weigher"),
    SCHEDULER_MULTIPLIER_KEY(SCHEDULER_WEIGH_SOFT_AFFINITY,
                             "soft_affinity_weight_multiplier",
                             "the soft-affinity weigher"),
    SCHEDULER_MULTIPLIER_KEY(SCHEDULER_WEIGH_SOFT_ANTI_AFFINITY,
                             "soft_anti_affinity_weight_multiplier",
                             "the soft-anti-affinity weigher"),
    { "scheduler.refresh_interval", CONFIG_TYPE_INT,
      offsetof(struct scheduler_daemon_config, refresh_interval_ms), "1000",
      10, 3600000, NULL, "Milliseconds between two readings of the compute "
      "nodes' state from the database" },
    { "report_interval", CONFIG_TYPE_INT,
      offsetof(struct scheduler_daemon_config, report_interval_s), "10", 1,
      3600, NULL, "Seconds between two heartbeats of this service" },
    { "service_down_time", CONFIG_TYPE_INT,
      offsetof(struct scheduler_daemon_config, service_down_time_s), "60",
      1, 86400, NULL, "Seconds without a heartbeat after which a compute "
      "service is down and gets no instance" },
};

static const struct config_schema scheduler_schema = {
    "nova.yaml", scheduler_keys, ARRAY_SIZE(scheduler_keys),
};

static const struct daemon_option scheduler_options[] = {
    { "host", "host", "Name of this service's host" },
};

static void
scheduler_run_cb(void *svc)
{
    scheduler_service_run(svc);
}

static void
scheduler_wait_cb(void *svc)
{
    scheduler_service_wait(svc);
}

/* Runs the scheduler until an exit is asked for. */
static int
scheduler_main_loop(const void *config_)
{
    const struct scheduler_daemon_config *config = config_;
    CLEANUP(scheduler_service_freep) struct scheduler_service *svc = NULL;
    char hostname[SCHEDULER_HOSTNAME_SIZE] = "";
    struct scheduler_weigher_config weighers[SCHEDULER_N_WEIGHERS];
    const struct scheduler_config sched = {
        .filters = (const char *const *) config->filters.items,
        .n_filters = config->filters.n,
        .weighers = weighers,
        .n_weighers = SCHEDULER_N_WEIGHERS,
    };
    struct scheduler_service_config sc = {
        .transport_url = config->transport_url,
        .database_url = config->database_connection,
        .host = config->host,
        .scheduler = &sched,
        .refresh_interval_ms = config->refresh_interval_ms,
        .service_down_time_s = (int) config->service_down_time_s,
        .report_interval_s = (int) config->report_interval_s,
    };
    struct error *error;

    if (!sc.transport_url || !sc.database_url) {
        fprintf(stderr, SCHEDULER_NAME ": set 'transport_url' and "
                "'database.connection' in the configuration file or with "
                "--set\n");
        return DAEMON_EXIT_USAGE;
    }
    if (!sc.host) {
        if (gethostname(hostname, sizeof hostname - 1)) {
            fprintf(stderr, SCHEDULER_NAME ": cannot read the host name; "
                    "set 'host'\n");
            return DAEMON_EXIT_FAILURE;
        }
        sc.host = hostname;
    }
    for (size_t i = 0; i < SCHEDULER_N_WEIGHERS; i++) {
        weighers[i].name = scheduler_weigher_names[i];
        weighers[i].multiplier = config->multipliers[i];
    }
    if (daemon_signals_init()) {
        fprintf(stderr, SCHEDULER_NAME ": cannot install signal handlers\n");
        return DAEMON_EXIT_FAILURE;
    }
    error = scheduler_service_new(&sc, &svc);
    if (error) {
        return daemon_start_failed(SCHEDULER_NAME, &config->common, error);
    }
    daemon_run_service(scheduler_run_cb, scheduler_wait_cb, svc);
    return DAEMON_EXIT_OK;
}

int
main(int argc, char *argv[])
{
    struct scheduler_daemon_config config;
    const struct daemon_info info = {
        .name = SCHEDULER_NAME,
        .usage = NULL,
        .summary = "Choose the compute hosts of a leaf cell's new "
                   "instances.",
        .schema = &scheduler_schema,
        .common_offset = offsetof(struct scheduler_daemon_config, common),
        .options = scheduler_options,
        .n_options = ARRAY_SIZE(scheduler_options),
    };

    return daemon_main(&info, argc, argv, &config, scheduler_main_loop);
}
