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
#define CONDUCTOR_EXIT_OK 0
#define CONDUCTOR_EXIT_FAILURE 1
#define CONDUCTOR_EXIT_USAGE 2
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

/* Runs the conductor until an exit is asked for. */
static int
conductor_main_loop(const struct conductor_daemon_config *config)
{
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
    int status;

    if (!cc.transport_url || !cc.database_url) {
        fprintf(stderr, CONDUCTOR_NAME ": set 'transport_url' and "
                "'database.connection' in the configuration file or with "
                "--set\n");
        return CONDUCTOR_EXIT_USAGE;
    }
    if (!cc.host) {
        if (gethostname(hostname, sizeof hostname - 1)) {
            fprintf(stderr, CONDUCTOR_NAME ": cannot read the host name; "
                    "set 'host'\n");
            return CONDUCTOR_EXIT_FAILURE;
        }
        cc.host = hostname;
    }
    status = daemon_signals_init();
    if (status) {
        fprintf(stderr, CONDUCTOR_NAME ": cannot install signal handlers\n");
        return CONDUCTOR_EXIT_FAILURE;
    }
    error = conductor_new(&cc, &cond);
    if (error) {
        /* Said once on standard error, and in the log file too when
         * there is one. */
        fprintf(stderr, CONDUCTOR_NAME ": %s\n", error_message(error));
        if (config->common.log_file) {
            LOG_ERR("cannot start: %s", error_message(error));
        }
        error_free(error);
        return CONDUCTOR_EXIT_FAILURE;
    }
    for (;;) {
        conductor_run(cond);
        if (daemon_signals_run()) {
            break;
        }
        conductor_wait(cond);
        poll_fd_wait(daemon_signal_fd(), POLLIN);
        poll_block();
    }
    poll_loop_reset();
    LOG_INFO("stopping");
    return CONDUCTOR_EXIT_OK;
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
    struct error *error;
    bool exit_now;
    int first;
    int status;

    db_library_init();
    error = daemon_start(&info, argc, argv, &config, &first, &exit_now);
    if (error) {
        status = (error_kind(error) == ERROR_INVALID ? CONDUCTOR_EXIT_USAGE
                                                     : CONDUCTOR_EXIT_FAILURE);
        fprintf(stderr, CONDUCTOR_NAME ": %s\n", error_message(error));
        error_free(error);
        db_library_end();
        return status;
    }
    if (exit_now) {
        status = CONDUCTOR_EXIT_OK;
    } else if (first < argc) {
        fprintf(stderr, CONDUCTOR_NAME ": takes no arguments, but '%s' was "
                "given; see '" CONDUCTOR_NAME " --help'\n", argv[first]);
        status = CONDUCTOR_EXIT_USAGE;
    } else {
        status = conductor_main_loop(&config);
    }
    config_destroy(&conductor_schema, &config);
    daemon_signals_reset();
    db_library_end();
    return status;
}
