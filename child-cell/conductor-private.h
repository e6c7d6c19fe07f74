/* conductor-private.h: what the modules of nova-conductor share
 * (conductor-service.c, conductor-build.c, conductor-instance.c,
 * conductor-host.c).  Not for other callers: they use
 * conductor-service.h.
 *
 * Everything here belongs to the conductor's thread. */
#ifndef CHILD_CELL_CONDUCTOR_PRIVATE_H
#define CHILD_CELL_CONDUCTOR_PRIVATE_H 1

#include <stdbool.h>
#include "cells-rpc/rpc-list.h"
#include "child-cell/conductor-service.h"
#include "shared/compiler.h"

struct db;
struct error;
struct instance;
struct json_object;
struct log_ctx;
struct rpc_conn;
struct rpc_msg;
struct rpc_server;

struct conductor {
    char *host;
    char *cell_path;                /* For log lines; may be NULL. */
    int max_attempts;
    long long scheduler_timeout_ms;
    long long report_interval_ms;
    int service_down_time_s;

    struct db *db;
    struct rpc_conn *conn;
    struct rpc_server *server;

    /* Builds waiting for nova-scheduler ('struct conductor_build',
     * conductor-build.c). */
    struct rpc_list builds;
    bool closing;                   /* Being freed: callbacks only clean
                                     * up. */
    /* build_instances requests whose recording failed for want of the
     * database, to give back to the broker when due ('struct
     * conductor_retry', conductor-build.c). */
    struct rpc_list retries;

    long long next_report_ms;
    long long next_stats_ms;
    struct conductor_stats stats;
    struct conductor_stats logged_stats;    /* As of the last stats line. */
};

/* Requeues the build_instances requests of 'conductor' whose retry is
 * due at 'now_ms' (all of them if 'all'); returns when the next one is
 * due, or LLONG_MAX. */
long long conductor_build_requeue_due(struct conductor *conductor,
                                      long long now_ms, bool all);

/* THE HOOK for updates up the tree.  Called once for every committed
 * change of an instance row ('inst' as it now is), with the request's log
 * context.  Casts instance_update_at_top {"instance", "fault"} (the
 * latest fault when vm_state is error), or instance_destroy_at_top
 * {"instance_uuid", "update_seq"} when the row became deleted, to this
 * cell's nova-cells (CELLS_LOCAL_TOPIC, cells-rpcapi.h), which sends it
 * up to the top view of the API cell.  A failure to queue the cast is
 * logged, not returned: the change itself is committed. */
void conductor_instance_changed(struct conductor *conductor,
                                const struct instance *inst,
                                const struct log_ctx *log_ctx);

/* Fills 'log_ctx' for a line about instance 'uuid' (may be NULL) handled
 * for message 'msg' (may be NULL).  Borrows from both. */
void conductor_log_ctx(const struct conductor *conductor,
                       const struct rpc_msg *msg, const char *uuid,
                       struct log_ctx *log_ctx);

/* Casts 'method' with 'args' (a JSON object; ownership taken) to
 * compute.<host>, on behalf of the request of 'msg' (its context is
 * copied; may be NULL). */
struct error *conductor_cast_compute(struct conductor *conductor,
                                     const struct rpc_msg *msg,
                                     const char *host, const char *method,
                                     struct json_object *args) WARN_UNUSED;

/* Gets the instance uuid 'field' of 'args' (required, canonical form). */
struct error *conductor_get_uuid(const struct json_object *args,
                                 const char *field, const char **ret_uuid)
    WARN_UNUSED;

/* Gets the host name 'field' of 'args' (required, 1 to 255 characters). */
struct error *conductor_get_host(const struct json_object *args,
                                 const char *field, const char **ret_host)
    WARN_UNUSED;

#endif /* CHILD_CELL_CONDUCTOR_PRIVATE_H */
