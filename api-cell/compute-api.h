/* compute-api.h: what every module of the compute API (/v2.1) shares.
 *
 * nova-api builds one 'struct compute_api' at start-up and gives it, as
 * the 'aux' of their routes, to every compute module (servers, flavors,
 * keypairs, limits, quotas, availability zones, services, hypervisors):
 *
 *     servers_api_register(router, &compute);
 *
 * It holds the API database (one connection per server thread,
 * api-db.h), the client of the API cell's nova-cells (cells-client.h),
 * through which boots and actions travel down the tree, and the
 * configuration the modules read (quota defaults, paging limits).
 *
 * Threads: the structure is read-only once the server starts; the
 * database and the cells client are thread-safe. */
#ifndef NOVA_COMPUTE_API_H
#define NOVA_COMPUTE_API_H 1

#include <stdbool.h>
#include <stddef.h>
#include "shared/compiler.h"

struct api_db;
struct cells_client;
struct http_request;
struct http_router;
struct rpc_ctx;

/* Nova's default quotas ([quota] in nova.conf). */
#define COMPUTE_API_DEFAULT_QUOTAS(X)                          \
    X(instances, "instances", 10)                              \
    X(cores, "cores", 20)                                      \
    X(ram, "ram", 51200)                                       \
    X(key_pairs, "key_pairs", 100)                             \
    X(metadata_items, "metadata_items", 128)                   \
    X(server_groups, "server_groups", 10)                      \
    X(server_group_members, "server_group_members", 10)        \
    X(injected_files, "injected_files", 5)                     \
    X(injected_file_content_bytes, "injected_file_content_bytes", 10240) \
    X(injected_file_path_bytes, "injected_file_path_bytes", 255)

/* Most items one list returns (Nova's [api] max_limit). */
#define COMPUTE_API_DEFAULT_MAX_LIMIT 1000

/* How long an action waits for nova-cells to take a message, and for the
 * answer of a call through the tree, in milliseconds. */
#define COMPUTE_API_DEFAULT_CAST_TIMEOUT_MS 10000
#define COMPUTE_API_DEFAULT_CALL_TIMEOUT_MS 30000

struct compute_api_config {
    /* Default quota limits; -1 is unlimited. */
#define COMPUTE_API_QUOTA_FIELD(field, name, value) long long field;
    COMPUTE_API_DEFAULT_QUOTAS(COMPUTE_API_QUOTA_FIELD)
#undef COMPUTE_API_QUOTA_FIELD
    long long max_limit;
    long long cast_timeout_ms;
    long long call_timeout_ms;
    /* The availability zone of hosts whose cell names none (Nova's
     * default_availability_zone). */
    const char *default_availability_zone;
};

/* Fills 'config' with the defaults above. */
void compute_api_config_init(struct compute_api_config *config);

struct compute_api {
    const struct compute_api_config *config;
    struct api_db *db;                  /* Never NULL. */
    struct cells_client *cells;         /* NULL: no nova-cells configured;
                                         * whatever needs a cell answers
                                         * 503. */
};

/* Fills 'ctx' (uninitialised) with the context of request 'req': its
 * request id, and the user, project and roles of its token, for a
 * message sent on its behalf.  rpc_ctx_destroy() it afterwards. */
void compute_api_rpc_ctx(const struct http_request *req,
                         struct rpc_ctx *ctx);

#endif /* NOVA_COMPUTE_API_H */
