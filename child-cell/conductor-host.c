/* conductor-host.c: service heartbeats, compute node reports and the
 * instances of a host (see conductor-host.h). */
#include <config.h>

#include "child-cell/conductor-host.h"

#include <json-c/json.h>
#include <stdint.h>
#include <string.h>

#include "cells-rpc/rpc-msg.h"
#include "cells-rpc/rpc-server.h"
#include "child-cell/cell-db.h"
#include "child-cell/conductor-private.h"
#include "shared/db.h"
#include "shared/error.h"
#include "shared/instance.h"
#include "shared/json-util.h"
#include "shared/log.h"

LOG_MODULE("conductor.host");

/* ---- service_heartbeat ------------------------------------------------- */

struct conductor_heartbeat_args {
    const char *host;
    const char *binary;
    const char *topic;
    long long version;
};

static struct error *
conductor_heartbeat_decode(const struct json_object *args,
                           struct conductor_heartbeat_args *a)
{
    static const char *const keys[] = {
        "host", "binary", "topic", "version", NULL,
    };
    struct error *error = json_check_allowed_keys(args, NULL, keys);

    memset(a, 0, sizeof *a);
    if (!error) {
        error = conductor_get_host(args, "host", &a->host);
    }
    if (!error) {
        error = conductor_get_host(args, "binary", &a->binary);
    }
    if (!error) {
        error = conductor_get_host(args, "topic", &a->topic);
    }
    if (!error) {
        error = json_get_int(args, NULL, "version", false, 0, INT32_MAX,
                             &a->version);
    }
    return error;
}

struct error *
conductor_host_heartbeat_validate(const struct json_object *args)
{
    struct conductor_heartbeat_args a;

    return conductor_heartbeat_decode(args, &a);
}

static struct error *
conductor_heartbeat_txn(struct db *db, void *aux)
{
    const struct conductor_heartbeat_args *a = aux;

    return cell_db_service_heartbeat(db, a->host, a->binary, a->topic,
                                     a->version, NULL);
}

struct error *
conductor_host_heartbeat(struct rpc_request *req, void *aux,
                         struct json_object **ret_result)
{
    struct conductor *cond = aux;
    const struct rpc_msg *msg = rpc_request_msg(req);
    struct conductor_heartbeat_args a;
    struct error *error;

    (void) ret_result;
    error = conductor_heartbeat_decode(msg->args, &a);
    if (!error) {
        error = db_txn_run(cond->db, conductor_heartbeat_txn, &a);
    }
    if (error) {
        struct log_ctx log_ctx;

        conductor_log_ctx(cond, msg, NULL, &log_ctx);
        LOG_WARN_RL_CTX(&log_ctx, "cannot record a heartbeat: %s",
                        error_message(error));
    }
    return error;
}

/* ---- compute_node_update ----------------------------------------------- */

struct conductor_node_args {
    const char *host;
    const char *node;
    struct cell_db_node_inventory inventory;
};

static struct error *
conductor_node_decode(const struct json_object *args,
                      struct conductor_node_args *a)
{
    static const char *const keys[] = { "host", "node", "inventory", NULL };
    struct json_object *inventory;
    struct error *error = json_check_allowed_keys(args, NULL, keys);

    memset(a, 0, sizeof *a);
    if (!error) {
        error = conductor_get_host(args, "host", &a->host);
    }
    if (!error) {
        error = conductor_get_host(args, "node", &a->node);
    }
    if (!error) {
        error = json_get_object(args, NULL, "inventory", true, &inventory);
    }
    if (!error) {
        error = cell_db_node_inventory_from_json(inventory, "inventory",
                                                 a->host, a->node,
                                                 &a->inventory);
    }
    return error;
}

struct error *
conductor_host_node_update_validate(const struct json_object *args)
{
    struct conductor_node_args a;

    return conductor_node_decode(args, &a);
}

static struct error *
conductor_node_txn(struct db *db, void *aux)
{
    const struct conductor_node_args *a = aux;
    struct error *error = cell_db_node_upsert(db, &a->inventory, NULL);

    return error ? error : cell_db_node_recompute_usage(db, a->host,
                                                        a->node);
}

struct error *
conductor_host_node_update(struct rpc_request *req, void *aux,
                           struct json_object **ret_result)
{
    struct conductor *cond = aux;
    const struct rpc_msg *msg = rpc_request_msg(req);
    struct conductor_node_args a;
    struct error *error;

    (void) ret_result;
    error = conductor_node_decode(msg->args, &a);
    if (!error) {
        error = db_txn_run(cond->db, conductor_node_txn, &a);
    }
    if (error) {
        struct log_ctx log_ctx;

        conductor_log_ctx(cond, msg, NULL, &log_ctx);
        LOG_WARN_RL_CTX(&log_ctx, "cannot record the report of compute "
                        "node '%s': %s", a.node ? a.node : "?",
                        error_message(error));
    }
    return error;
}

/* ---- instances_on_host ------------------------------------------------- */

struct error *
conductor_host_instances_validate(const struct json_object *args)
{
    static const char *const keys[] = { "host", NULL };
    const char *host;
    struct error *error = json_check_allowed_keys(args, NULL, keys);

    return error ? error : conductor_get_host(args, "host", &host);
}

struct error *
conductor_host_instances(struct rpc_request *req, void *aux,
                         struct json_object **ret_result)
{
    struct conductor *cond = aux;
    struct cell_db_instance_filter filter = { .host = NULL };
    CLEANUP(instance_list_freep) struct instance_list *list = NULL;
    struct error *error;

    error = conductor_get_host(rpc_request_msg(req)->args, "host",
                               &filter.host);
    if (!error) {
        error = cell_db_instance_list(cond->db, &filter, &list);
    }
    if (error) {
        return error;
    }
    *ret_result = json_object_new_object();
    json_object_object_add(*ret_result, "instances",
                           instance_list_to_json(list));
    return NULL;
}
