/* nova-api.c: the OpenStack Compute API v2.1 server of the API cell.
 *
 *     nova-api [--config FILE] [--set KEY=VALUE]... [--log-level SPEC]
 *              [--listen-address ADDRESS] [--listen-port PORT]
 *              [--threads N]
 *
 * main() only reads the configuration, builds the router (every API
 * module registers its routes on it), starts the HTTP server
 * (http-server.h) and waits for a signal: SIGHUP reopens the log file,
 * SIGTERM and SIGINT stop the server gracefully (no new connections,
 * requests in flight get api.shutdown_timeout seconds) and exit 0.
 *
 * Routes: the version documents (api-versions-doc.h) and, when
 * api_database.connection is set, the identity API (identity-api.h),
 * whose token validator then guards every authenticated route.  Without
 * a database there is no identity service and every authenticated
 * request is answered 401: enough to serve the version documents.
 *
 * Exit status: 0 after a requested stop, 1 when the server cannot start
 * (address in use), 2 for a mistake on the command line or in the
 * configuration. */
#include <config.h>

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api-cell/api-db.h"
#include "api-cell/api-versions-doc.h"
#include "api-cell/availability-zones-api.h"
#include "api-cell/cells-api.h"
#include "api-cell/cells-client.h"
#include "api-cell/compute-api.h"
#include "api-cell/flavors-api.h"
#include "api-cell/http-server.h"
#include "api-cell/hypervisors-api.h"
#include "api-cell/identity-api.h"
#include "api-cell/identity-service.h"
#include "api-cell/images-api.h"
#include "api-cell/keypairs-api.h"
#include "api-cell/limits-api.h"
#include "api-cell/quotas-api.h"
#include "api-cell/servers-api.h"
#include "api-cell/services-api.h"
#include "shared/cleanup.h"
#include "shared/config.h"
#include "shared/daemon.h"
#include "shared/db.h"
#include "shared/error.h"
#include "shared/log.h"
#include "shared/xalloc.h"

LOG_MODULE("api.main");

#define API_NAME "nova-api"
#define API_EXIT_OK 0
#define API_EXIT_FAILURE 1
#define API_EXIT_USAGE 2

/* Longest graceful stop, in seconds. */
#define API_MAX_SHUTDOWN_TIMEOUT_S 3600

struct api_config {
    struct daemon_common common;
    char *listen_address;
    long long listen_port;
    long long threads;
    long long max_body_size;
    long long connection_limit;
    long long connection_timeout;
    long long shutdown_timeout;
    char *public_endpoint;
    char *auth_uri;
    char *api_database_connection;
    char *cells_transport_url;
    struct identity_config identity;
    struct compute_api_config compute;
    struct image_config image;
};

#define API_STR_(x) #x
#define API_STR(x) API_STR_(x)

static const struct config_key api_keys[] = {
    DAEMON_COMMON_KEYS(struct api_config, common),
    { "api.listen_address", CONFIG_TYPE_STRING,
      offsetof(struct api_config, listen_address),
      HTTP_SERVER_DEFAULT_ADDRESS, 0, 0, NULL,
      "Numeric IPv4 or IPv6 address to listen on (0.0.0.0 or :: for "
      "every interface)" },
    { "api.listen_port", CONFIG_TYPE_INT,
      offsetof(struct api_config, listen_port),
      API_STR(HTTP_SERVER_DEFAULT_PORT), 0, 65535, NULL,
      "TCP port to listen on (0: any free port)" },
    { "api.threads", CONFIG_TYPE_INT, offsetof(struct api_config, threads),
      API_STR(HTTP_SERVER_DEFAULT_THREADS), 1, HTTP_SERVER_MAX_THREADS,
      NULL, "Threads serving requests (about one per core)" },
    { "api.max_body_size", CONFIG_TYPE_INT,
      offsetof(struct api_config, max_body_size),
      API_STR(HTTP_SERVER_DEFAULT_MAX_BODY_SIZE), 1,
      HTTP_SERVER_MAX_MAX_BODY_SIZE, NULL,
      "Largest request body in bytes; larger ones get 413" },
    { "api.connection_limit", CONFIG_TYPE_INT,
      offsetof(struct api_config, connection_limit),
      API_STR(HTTP_SERVER_DEFAULT_CONNECTION_LIMIT), 1, 1000000, NULL,
      "Most client connections open at once" },
    { "api.connection_timeout", CONFIG_TYPE_INT,
      offsetof(struct api_config, connection_timeout),
      API_STR(HTTP_SERVER_DEFAULT_CONNECTION_TIMEOUT_S), 0, 86400, NULL,
      "Seconds before an idle connection is closed (0: never)" },
    { "api.shutdown_timeout", CONFIG_TYPE_INT,
      offsetof(struct api_config, shutdown_timeout),
      "10", 0, API_MAX_SHUTDOWN_TIMEOUT_S, NULL,
      "Seconds requests in flight get to finish after SIGTERM" },
    { "api.public_endpoint", CONFIG_TYPE_STRING,
      offsetof(struct api_config, public_endpoint), NULL, 0, 0, NULL,
      "Base URL for links in responses (http://HOST:PORT); by default "
      "built from the request's Host header" },
    { "api.auth_uri", CONFIG_TYPE_STRING,
      offsetof(struct api_config, auth_uri), NULL, 0, 0, NULL,
      "Identity URL named in WWW-Authenticate on 401 answers; by default "
      "the request's base URL" },
    { "api_database.connection", CONFIG_TYPE_STRING,
      offsetof(struct api_config, api_database_connection), NULL, 0, 0,
      NULL, "URL of the API database "
      "(mysql://USER:PASSWORD@HOST:PORT/nova_api); without it there is "
      "no identity service" },
    { "cells.transport_url", CONFIG_TYPE_STRING,
      offsetof(struct api_config, cells_transport_url), NULL, 0, 0, NULL,
      "Transport URL of the API cell's own vhost, where its nova-cells "
      "listens (rabbit://USER:PASSWORD@HOST:PORT/VHOST); without it "
      "boots and actions answer 503" },
    { "api.max_limit", CONFIG_TYPE_INT,
      offsetof(struct api_config, compute.max_limit),
      API_STR(COMPUTE_API_DEFAULT_MAX_LIMIT), 1, 100000, NULL,
      "Most items one list returns, whatever 'limit' asks" },
#define API_QUOTA_KEY(field, name, value)                               \
    { "quota." name, CONFIG_TYPE_INT,                                   \
      offsetof(struct api_config, compute.field), API_STR(value), -1,   \
      2147483647, NULL,                                                 \
      "Default limit of '" name "' for every project (-1: unlimited)" },
    COMPUTE_API_DEFAULT_QUOTAS(API_QUOTA_KEY)
#undef API_QUOTA_KEY
    IDENTITY_CONFIG_KEYS(struct api_config, identity),
    IMAGE_CONFIG_KEYS(struct api_config, image),
};

static const struct config_schema api_schema = {
    "nova.yaml", api_keys, ARRAY_SIZE(api_keys),
};

static const struct daemon_option api_options[] = {
    { "listen-address", "api.listen_address", "address to listen on" },
    { "listen-port", "api.listen_port", "TCP port to listen on" },
    { "threads", "api.threads", "threads serving requests" },
};

static const struct daemon_info api_info = {
    API_NAME, NULL, "OpenStack Compute API server of the API cell",
    &api_schema, offsetof(struct api_config, common),
    api_options, ARRAY_SIZE(api_options),
};

/* Waits for SIGTERM or SIGINT, handling SIGHUP on the way. */
static void
api_wait_for_exit(void)
{
    struct pollfd pfd = { daemon_signal_fd(), POLLIN, 0 };

    for (;;) {
        if (poll(&pfd, 1, -1) < 0 && errno != EINTR) {
            LOG_ERR("poll failed: %s", strerror(errno));
            return;
        }
        if (daemon_signals_run()) {
            return;
        }
    }
}

static int
api_run(const struct api_config *config)
{
    /* Freed in the reverse order: the server stops before the router,
     * the identity service, the cells client and the database it uses go
     * away. */
    CLEANUP(api_db_freep) struct api_db *api_db = NULL;
    CLEANUP(cells_client_freep) struct cells_client *cells = NULL;
    CLEANUP(identity_service_freep) struct identity_service *identity =
        NULL;
    CLEANUP(http_router_freep) struct http_router *router = NULL;
    CLEANUP(http_server_freep) struct http_server *server = NULL;
    struct http_server_config cfg;
    struct compute_api compute;
    struct error *error;
    int status = API_EXIT_OK;
    int r;

    router = http_router_new();
    api_versions_doc_register(router);
    http_router_allow_project_id(router, "/v2.1");
    if (config->api_database_connection
        && *config->api_database_connection) {
        error = identity_service_new(&config->identity,
                                     config->api_database_connection,
                                     &identity);
        if (error) {
            fprintf(stderr, "%s: %s\n", API_NAME, error_message(error));
            error_free(error);
            return API_EXIT_USAGE;
        }
        identity_api_register(router, identity);

        /* The compute API: the API database and the API cell's
         * nova-cells, which may still be down (the client connects in
         * the background). */
        error = api_db_new(config->api_database_connection, &api_db);
        if (error) {
            fprintf(stderr, "%s: %s\n", API_NAME, error_message(error));
            error_free(error);
            return API_EXIT_USAGE;
        }
        if (config->cells_transport_url && *config->cells_transport_url) {
            error = cells_client_new(config->cells_transport_url, &cells);
            if (error) {
                fprintf(stderr, "%s: cells.transport_url: %s\n", API_NAME,
                        error_message(error));
                error_free(error);
                return API_EXIT_USAGE;
            }
        } else {
            LOG_WARN("cells.transport_url is not set: boots and actions "
                     "answer 503");
        }
        compute.config = &config->compute;
        compute.db = api_db;
        compute.cells = cells;
        LOG_INFO("compute API %s", compute.cells
                 ? "reaches the tree through nova-cells of the API cell"
                 : "runs without nova-cells");
        /* Compute API modules register here. */
        cells_api_register(router, &compute);
        servers_api_register(router, &compute);
        services_api_register(router, &compute);
        hypervisors_api_register(router, &compute);
        flavors_api_register(router, &compute);
        keypairs_api_register(router, &compute);
        quotas_api_register(router, &compute);
        limits_api_register(router, &compute);
        availability_zones_api_register(router, &compute);
        images_api_register(router, &compute, &config->image);
    } else {
        LOG_WARN("api_database.connection is not set: no identity "
                 "service, every authenticated request is refused");
    }

    http_server_config_init(&cfg);
    cfg.listen_address = config->listen_address;
    cfg.port = (int) config->listen_port;
    cfg.n_threads = (unsigned int) config->threads;
    cfg.max_body_size = (size_t) config->max_body_size;
    cfg.connection_limit = (unsigned int) config->connection_limit;
    cfg.connection_timeout_s = (unsigned int) config->connection_timeout;
    cfg.public_endpoint = config->public_endpoint;
    cfg.auth_uri = config->auth_uri;

    error = http_server_new(&cfg, router, &server);
    if (error) {
        fprintf(stderr, "%s: %s\n", API_NAME, error_message(error));
        error_free(error);
        return API_EXIT_USAGE;
    }
    if (identity) {
        http_server_set_auth_validator(server, identity_api_validate,
                                       identity);
    }
    r = daemon_signals_init();
    if (r < 0) {
        fprintf(stderr, "%s: cannot set up signal handling: %s\n",
                API_NAME, strerror(-r));
        return API_EXIT_FAILURE;
    }
    error = http_server_start(server);
    if (error) {
        LOG_ERR("%s", error_message(error));
        if (config->common.log_file) {
            /* The log is elsewhere: say it where the operator looks. */
            fprintf(stderr, "%s: %s\n", API_NAME, error_message(error));
        }
        error_free(error);
        return API_EXIT_FAILURE;
    }
    LOG_INFO("%s ready on http://%s%s%s:%d/", API_NAME,
             strchr(config->listen_address, ':') ? "[" : "",
             config->listen_address,
             strchr(config->listen_address, ':') ? "]" : "",
             http_server_port(server));

    api_wait_for_exit();
    LOG_INFO("stopping");
    if (!http_server_shutdown(server,
                              (int) config->shutdown_timeout * 1000)) {
        LOG_WARN("some requests did not finish before the shutdown "
                 "timeout");
    }
    return status;
}

int
main(int argc, char *argv[])
{
    struct api_config config;
    struct error *error;
    bool exit_now = false;
    int optind_ = 0;
    int status;

    memset(&config, 0, sizeof config);
    compute_api_config_init(&config.compute);
    error = daemon_start(&api_info, argc, argv, &config, &optind_,
                         &exit_now);
    if (error) {
        int code = error_kind(error) == ERROR_INVALID ? API_EXIT_USAGE
                                                     : API_EXIT_FAILURE;
        fprintf(stderr, "%s: %s\n", API_NAME, error_message(error));
        error_free(error);
        config_destroy(&api_schema, &config);
        return code;
    }
    if (exit_now) {
        config_destroy(&api_schema, &config);
        return API_EXIT_OK;
    }
    if (optind_ < argc) {
        fprintf(stderr, "%s: unexpected argument '%s'\n", API_NAME,
                argv[optind_]);
        config_destroy(&api_schema, &config);
        return API_EXIT_USAGE;
    }

    /* The database client library before any thread starts. */
    db_library_init();
    status = api_run(&config);
    db_library_end();
    daemon_signals_reset();
    config_destroy(&api_schema, &config);
    log_reset();
    return status;
}
