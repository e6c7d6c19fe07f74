/* nova-conductor.c: the conductor daemon of a leaf cell.
 *
 *     nova-conductor [--config FILE] [--set KEY=VALUE]... [--host NAME]
 *
 * Parses the command line and the configuration, then runs one
 * conductor (child-cell/conductor-service.h) in a single-thread poll loop
 * until SIGTERM or SIGINT.  Everything else lives in the conductor's
 * modules. */
#include <config.h>

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <unistd.h>

#include "child-cell/conductor-service.h"
#include "shared/cleanup.h"
#include "shared/compiler.h"
#include "shared/config.h"
#include "shared/daemon.h"
#include "shared/db.h"
#include "shared/error.h"
#include "shared/log.h"
#include "shared/poll-loop.h"
#include "shared/xalloc.h"

LOG_MODULE("conductor.main");

#define CONDUCTOR_NAME "nova-conductor"
/* Longest host name gethostname() may return, NUL included. */
#define CONDUCTOR_HOSTNAME_SIZE 256

struct conductor_daemon_config {
    struct daemon_common common;
    char *transport_url;
    char *database_connection;
    char *host;
    char *cell_path;
    long long max_attempts;
    long long scheduler_timeout_s;
    long long report_interval_s;
    long long service_down_time_s;
};

static const struct config_key conductor_keys[] = {
    DAEMON_COMMON_KEYS(struct conductor_daemon_config, common),
    { "transport_url", CONFIG_TYPE_STRING,
      offsetof(struct conductor_daemon_config, transport_url), NULL, 0, 0,
      NULL, "RabbitMQ URL of this cell's vhost "
      "(rabbit://USER:PASSWORD@HOST:PORT/VHOST)" },
    { "database.connection", CONFIG_TYPE_STRING,
      offsetof(struct conductor_daemon_config, database_connection), NULL,
      0, 0, NULL, "URL of this cell's database "
      "(mysql://USER:PASSWORD@HOST:PORT/nova_cell1)" },
    { "host", CONFIG_TYPE_STRING,
      offsetof(struct conductor_daemon_config, host), NULL, 0, 0, NULL,
      "Name of this service's host in the services table; the system's "
      "host name when unset" },
    { "cell_path", CONFIG_TYPE_STRING,
      offsetof(struct conductor_daemon_config, cell_path), NULL, 0, 0,
      NULL, "Path of this cell (api!east!east-1), shown in log lines" },
    { "conductor.max_attempts", CONFIG_TYPE_INT,
      offsetof(struct conductor_daemon_config, max_attempts), "3", 1,
      CONDUCTOR_MAX_MAX_ATTEMPTS, NULL,
      "Attempts at building an instance, the first included, before it "
      "goes to error" },
    { "conductor.scheduler_timeout", CONFIG_TYPE_INT,
      offsetof(struct conductor_daemon_config, scheduler_timeout_s), "60",
      1, 3600, NULL, "Seconds to wait for nova-scheduler's answer" },
    { "report_interval", CONFIG_TYPE_INT,
      offsetof(struct conductor_daemon_config, report_interval_s), "10", 1,
      3600, NULL, "Seconds between two heartbeats of this service" },
    { "service_down_time", CONFIG_TYPE_INT,
      offsetof(struct conductor_daemon_config, service_down_time_s), "60",
      1, 86400, NULL, "Seconds without a heartbeat after which a compute "
      "service is down (a delete then completes at once)" },
};

static const struct config_schema conductor_schema = {
    "nova.yaml", conductor_keys, ARRAY_SIZE(conductor_keys),
};

static const struct daemon_option conductor_options[] = {
    { "host", "host", "Name of this service's host" },
};

static void
conductor_run_cb(void *svc)
{
    conductor_run(svc);
}

static void
conductor_wait_cb(void *svc)
{
    conductor_wait(svc);
}

/* Runs the conductor until an exit is asked for. */
static int
conductor_main_loop(const void *config_)
{
    const struct conductor_daemon_config *config = config_;
    CLEANUP(conductor_freep) struct conductor *cond = NULL;
    char hostname[CONDUCTOR_HOSTNAME_SIZE] = "";
    struct conductor_config cc = {
        .transport_url = config->transport_url,
        .database_url = config->database_connection,
        .host = config->host,
        .cell_path = config->cell_path,
        .max_attempts = (int) config->max_attempts,
        .scheduler_timeout_ms = config->scheduler_timeout_s * 1000,
        .report_interval_s = (int) config->report_interval_s,
        .service_down_time_s = (int) config->service_down_time_s,
    };
    struct error *error;

    if (!cc.transport_url || !cc.database_url) {
        fprintf(stderr, CONDUCTOR_NAME ": set 'transport_url' and "
                "'database.connection' in the configuration file or with "
                "--set\n");
        return DAEMON_EXIT_USAGE;
    }
    if (!cc.host) {
        if (gethostname(hostname, sizeof hostname - 1)) {
            fprintf(stderr, CONDUCTOR_NAME ": cannot read the host name; "
                    "set 'host'\n");
            return DAEMON_EXIT_FAILURE;
        }
        cc.host = hostname;
    }
    if (daemon_signals_init()) {
        fprintf(stderr, CONDUCTOR_NAME ": cannot install signal handlers\n");
        return DAEMON_EXIT_FAILURE;
    }
    error = conductor_new(&cc, &cond);
    if (error) {
        return daemon_start_failed(CONDUCTOR_NAME, &config->common, error);
    }
    daemon_run_service(conductor_run_cb, conductor_wait_cb, cond);
    return DAEMON_EXIT_OK;
}

int
main(int argc, char *argv[])
{
    struct conductor_daemon_config config;
    const struct daemon_info info = {
        .name = CONDUCTOR_NAME,
        .usage = NULL,
        .summary = "Keep a leaf cell's database: place instances and "
                   "record what the compute hosts report.",
        .schema = &conductor_schema,
        .common_offset = offsetof(struct conductor_daemon_config, common),
        .options = conductor_options,
        .n_options = ARRAY_SIZE(conductor_options),
    };

    return daemon_main(&info, argc, argv, &config, conductor_main_loop);
}
