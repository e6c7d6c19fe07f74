/* rpc-server.c: consuming a topic and dispatching methods (rpc-server.h).
 *
 * Each delivery from the connection goes through rpc_server_deliver(),
 * which applies the checks of rpc-server.h in order and either settles
 * the message at once (dead letter, duplicate, expired) or creates a
 * 'struct rpc_request' and runs the handler.  A request is completed by
 * rpc_server_complete(): reply (calls), remember the id in the dedupe
 * window, ack, free.  That happens right after the handler returns, or
 * later through rpc_request_reply() for a deferred request, which waits
 * meanwhile in 'deferred' and as a PENDING id in the dedupe window.
 *
 * The order of "reply, then ack" matters: if the connection drops in
 * between, the broker redelivers the request and the dedupe window sends
 * the cached reply again, so the caller still gets one.  Acking first
 * would risk a caller that never hears back. */
#include <config.h>

#include "cells-rpc/rpc-server.h"

#include <string.h>
#include <json-c/json.h>

#include "cells-rpc/rpc.h"
#include "cells-rpc/rpc-dedupe.h"
#include "cells-rpc/rpc-list.h"
#include "cells-rpc/rpc-msg.h"
#include "cells-rpc/rpc-private.h"
#include "cells-rpc/rpc-version.h"
#include "shared/error.h"
#include "shared/json-util.h"
#include "shared/log.h"
#include "shared/timeutil.h"
#include "shared/xalloc.h"

LOG_MODULE("rpc.server");

/* Queues one server consumes at most: topic, own, fanout. */
#define RPC_SERVER_MAX_CONSUMERS 3

struct rpc_server {
    struct rpc_conn *conn;
    char *topic;
    char *server_name;
    struct rpc_version version;
    const struct rpc_method *methods;
    size_t n_methods;
    void *aux;
    struct rpc_consumer *consumers[RPC_SERVER_MAX_CONSUMERS];
    size_t n_consumers;
    struct rpc_dedupe *dedupe;
    struct rpc_list deferred;   /* struct rpc_request, deferred ones. */
    struct rpc_server_stats stats;
};

struct rpc_request {
    struct rpc_list node;       /* In 'deferred' once deferred. */
    struct rpc_server *server;  /* NULL once orphaned. */
    struct rpc_msg *msg;
    char *queue;
    char *reply_to;             /* NULL for a cast. */
    uint64_t generation;
    uint64_t delivery_tag;
    bool in_handler;
    bool deferred;
    bool replied_early;         /* Replied from inside its own handler. */
    struct json_object *early_result;
    struct error *early_error;
};

static void
rpc_request_free(struct rpc_request *req)
{
    if (req) {
        rpc_msg_free(req->msg);
        free(req->queue);
        free(req->reply_to);
        json_object_put(req->early_result);
        error_free(req->early_error);
        free(req);
    }
}

const struct rpc_msg *
rpc_request_msg(const struct rpc_request *req)
{
    return req->msg;
}

bool
rpc_request_is_call(const struct rpc_request *req)
{
    return req->reply_to != NULL;
}

void
rpc_request_defer(struct rpc_request *req)
{
    req->deferred = true;
}

const char *
rpc_server_topic(const struct rpc_server *server)
{
    return server->topic;
}

void
rpc_server_get_stats(const struct rpc_server *server,
                     struct rpc_server_stats *ret_stats)
{
    *ret_stats = server->stats;
}

static const struct rpc_method *
rpc_server_find_method(const struct rpc_server *server, const char *name)
{
    for (size_t i = 0; i < server->n_methods; i++) {
        if (!strcmp(server->methods[i].name, name)) {
            return &server->methods[i];
        }
    }
    return NULL;
}

/* Sends 'error' (borrowed) as the reply to call 'msg_id' at 'reply_to',
 * if both are usable. */
static void
rpc_server_reply_error(struct rpc_server *server, const char *reply_to,
                       const char *msg_id, const struct error *error)
{
    AUTOFREE char *body = NULL;
    size_t size;
    struct error *err;

    if (!reply_to || !msg_id || !rpc_msg_id_is_valid(msg_id)) {
        return;
    }
    err = rpc_msg_encode_reply(msg_id, NULL, error, &body, &size);
    if (err) {
        error_free(err);
        return;
    }
    rpc_conn_send_reply(server->conn, reply_to, msg_id, body, size);
}

/* Dead-letters delivery 'd' (taken) because of 'error' (taken), answering
 * a call with it when possible. */
static void
rpc_server_reject(struct rpc_server *server, struct rpc_delivery *d,
                  const char *msg_id, const struct rpc_ctx *ctx,
                  struct error *error)
{
    struct log_ctx log_ctx = { 0 };

    if (ctx) {
        rpc_ctx_to_log_ctx(ctx, &log_ctx);
    }
    server->stats.rejected++;
    LOG_WARN_RL_CTX(&log_ctx, "rejecting message '%s' on queue '%s' into "
                    "the dead-letter queue: %s", msg_id[0] ? msg_id : "?",
                    d->queue, error_message(error));
    rpc_server_reply_error(server, d->reply_to,
                           msg_id[0] ? msg_id : d->correlation_id, error);
    rpc_conn_reject(server->conn, d->generation, d->delivery_tag, false);
    rpc_delivery_free(d);
    error_free(error);
}

/* Replies (for a call), remembers, acks and frees 'req', with 'result' and
 * 'error' taken. */
static void
rpc_server_complete(struct rpc_request *req, struct json_object *result,
                    struct error *error)
{
    struct rpc_server *server = req->server;
    struct log_ctx log_ctx;
    char *body = NULL;
    size_t size = 0;

    if (!server) {
        /* Orphaned by rpc_server_free(): its message was requeued. */
        json_object_put(result);
        error_free(error);
        rpc_request_free(req);
        return;
    }
    rpc_ctx_to_log_ctx(&req->msg->ctx, &log_ctx);
    server->stats.executed++;
    if (error) {
        server->stats.failed++;
    }

    if (req->reply_to) {
        struct error *err = rpc_msg_encode_reply(req->msg->msg_id, result,
                                                 error, &body, &size);

        if (err) {
            /* Too large: the caller learns why instead of timing out. */
            err = error_wrap(err, "Cannot return the result of '%s'",
                             req->msg->method);
            error_free(rpc_msg_encode_reply(req->msg->msg_id, NULL, err,
                                            &body, &size));
            error_free(err);
        }
        if (body) {
            rpc_conn_send_reply(server->conn, req->reply_to,
                                req->msg->msg_id, body, size);
        }
    } else if (error) {
        LOG_WARN_RL_CTX(&log_ctx, "cast '%s' (%s) on topic '%s' failed: %s",
                        req->msg->method, req->msg->msg_id, server->topic,
                        error_message(error));
    }

    rpc_dedupe_complete(server->dedupe, req->msg->msg_id, body, size,
                        time_monotonic_ms());
    rpc_conn_ack(server->conn, req->generation, req->delivery_tag);
    if (req->deferred) {
        rpc_list_remove(&req->node);
    }
    json_object_put(result);
    error_free(error);
    rpc_request_free(req);
}

void
rpc_request_reply(struct rpc_request *req, struct json_object *result,
                  struct error *error)
{
    if (req->in_handler) {
        /* Replied from inside its own handler: finish after it returns. */
        req->replied_early = true;
        req->early_result = result;
        req->early_error = error;
        return;
    }
    rpc_server_complete(req, result, error);
}

void
rpc_request_requeue(struct rpc_request *req)
{
    struct rpc_server *server = req->server;

    if (!server) {
        /* Orphaned by rpc_server_free(): already requeued. */
        rpc_request_free(req);
        return;
    }
    server->stats.requeued++;
    rpc_dedupe_forget(server->dedupe, req->msg->msg_id);
    rpc_conn_reject(server->conn, req->generation, req->delivery_tag, true);
    if (req->deferred) {
        rpc_list_remove(&req->node);
    }
    rpc_request_free(req);
}

/* A duplicate of a request still being handled: 'req'. */
static void
rpc_server_duplicate_of_pending(struct rpc_server *server,
                                struct rpc_request *req,
                                struct rpc_delivery *d)
{
    if (d->reply_to) {
        /* The caller's current reply queue: the old one may be gone. */
        free(req->reply_to);
        req->reply_to = xstrdup(d->reply_to);
    }
    if (!rpc_conn_generation_is_live(server->conn, req->generation)) {
        /* The first copy's delivery died with its connection: settle this
         * one when the request completes. */
        req->generation = d->generation;
        req->delivery_tag = d->delivery_tag;
    } else {
        rpc_conn_ack(server->conn, d->generation, d->delivery_tag);
    }
    rpc_delivery_free(d);
}

static void
rpc_server_deliver(void *aux, struct rpc_delivery *d)
{
    struct rpc_server *server = aux;
    CLEANUP(rpc_msg_freep) struct rpc_msg *msg = NULL;
    const struct rpc_method *method;
    struct rpc_request *req;
    struct log_ctx log_ctx;
    char found_id[RPC_MSG_ID_SIZE];
    char have[RPC_VERSION_STRING_SIZE], want[RPC_VERSION_STRING_SIZE];
    const char *reply;
    size_t reply_size;
    void *pending;
    struct json_object *result = NULL;
    struct error *err;

    server->stats.received++;

    /* 1. Undecodable. */
    err = rpc_msg_decode(d->body, d->size, &msg, found_id);
    if (err) {
        rpc_server_reject(server, d, found_id, NULL, err);
        return;
    }
    rpc_ctx_to_log_ctx(&msg->ctx, &log_ctx);
    if (d->correlation_id && strcmp(d->correlation_id, msg->msg_id)) {
        rpc_server_reject(server, d, msg->msg_id, &msg->ctx,
                          error_new(ERROR_INVALID, "Invalid RPC message: "
                                    "its correlation_id differs from its "
                                    "msg_id"));
        return;
    }

    /* 2. Seen before. */
    switch (rpc_dedupe_lookup(server->dedupe, msg->msg_id,
                              time_monotonic_ms(), &pending, &reply,
                              &reply_size)) {
    case RPC_DEDUPE_PENDING:
        server->stats.duplicates++;
        LOG_DBG_CTX(&log_ctx, "'%s' (%s) is already being handled",
                    msg->method, msg->msg_id);
        rpc_server_duplicate_of_pending(server, pending, d);
        return;
    case RPC_DEDUPE_DONE:
        server->stats.duplicates++;
        LOG_DBG_CTX(&log_ctx, "'%s' (%s) was already executed%s",
                    msg->method, msg->msg_id,
                    d->reply_to && reply ? ", sending its reply again" : "");
        if (d->reply_to && reply) {
            rpc_conn_send_reply(server->conn, d->reply_to, msg->msg_id,
                                reply, reply_size);
        }
        rpc_conn_ack(server->conn, d->generation, d->delivery_tag);
        rpc_delivery_free(d);
        return;
    case RPC_DEDUPE_UNKNOWN:
        break;
    }

    /* 3. Not for this server. */
    if (!rpc_version_is_compatible(&server->version, &msg->version)) {
        err = error_new(ERROR_VERSION, "Requested RPC API version %s of "
                        "topic '%s' is not supported (server has %s)",
                        rpc_version_format(&msg->version, want),
                        server->topic,
                        rpc_version_format(&server->version, have));
        rpc_server_reject(server, d, msg->msg_id, &msg->ctx, err);
        return;
    }
    method = rpc_server_find_method(server, msg->method);
    if (!method) {
        err = error_new(ERROR_INVALID, "RPC method '%s' is not supported "
                        "by topic '%s'", msg->method, server->topic);
        rpc_server_reject(server, d, msg->msg_id, &msg->ctx, err);
        return;
    }
    if (method->validate && (err = method->validate(msg->args))) {
        err = error_wrap(err, "Invalid arguments for RPC method '%s'",
                         msg->method);
        rpc_server_reject(server, d, msg->msg_id, &msg->ctx, err);
        return;
    }

    /* 4. Too late. */
    if (msg->deadline_ms && time_now_ms() > msg->deadline_ms) {
        server->stats.expired++;
        LOG_WARN_RL_CTX(&log_ctx, "not executing '%s' (%s) on queue '%s': "
                        "its deadline passed %lld ms ago", msg->method,
                        msg->msg_id, d->queue,
                        (long long) (time_now_ms() - msg->deadline_ms));
        rpc_conn_ack(server->conn, d->generation, d->delivery_tag);
        rpc_delivery_free(d);
        return;
    }

    /* 5. Execute. */
    req = xzalloc(sizeof *req);
    rpc_list_init(&req->node);
    req->server = server;
    req->msg = TAKE_PTR(msg);
    req->queue = TAKE_PTR(d->queue);
    req->reply_to = TAKE_PTR(d->reply_to);
    req->generation = d->generation;
    req->delivery_tag = d->delivery_tag;
    rpc_delivery_free(d);

    rpc_dedupe_add_pending(server->dedupe, req->msg->msg_id, req);
    req->in_handler = true;
    err = method->handler(req, server->aux, &result);
    req->in_handler = false;

    if (req->deferred && !req->replied_early) {
        if (err || result) {
            LOG_DBG("handler of '%s' deferred its reply but also returned "
                    "one, ignoring the returned one", req->msg->method);
            error_free(err);
            json_object_put(result);
        }
        rpc_list_push_back(&server->deferred, &req->node);
        return;
    }
    if (req->replied_early) {
        error_free(err);
        json_object_put(result);
        err = TAKE_PTR(req->early_error);
        result = TAKE_PTR(req->early_result);
        req->deferred = false;
    }
    rpc_server_complete(req, result, err);
}

static struct error *
rpc_server_check_options(const struct rpc_server_options *o,
                         struct rpc_version *ret_version)
{
    struct error *err = rpc_check_name("topic", o->topic);

    if (!err && o->server) {
        err = rpc_check_name("server name", o->server);
    }
    if (err) {
        return err;
    }
    if (rpc_version_parse(o->version, ret_version)) {
        return error_new(ERROR_INVALID, "RPC server of topic '%s': bad "
                         "version (expected \"MAJOR.MINOR\")", o->topic);
    }
    for (size_t i = 0; i < o->n_methods; i++) {
        const struct rpc_method *m = &o->methods[i];

        if (!rpc_msg_method_is_valid(m->name) || !m->handler) {
            return error_new(ERROR_INVALID, "RPC server of topic '%s': "
                             "method %zu has a bad name or no handler",
                             o->topic, i);
        }
        for (size_t j = 0; j < i; j++) {
            if (!strcmp(o->methods[j].name, m->name)) {
                return error_new(ERROR_INVALID, "RPC server of topic '%s': "
                                 "method '%s' is listed twice", o->topic,
                                 m->name);
            }
        }
    }
    return NULL;
}

struct error *
rpc_server_new(struct rpc_conn *conn, const struct rpc_server_options *o,
               struct rpc_server **ret_server)
{
    struct rpc_server *server;
    struct rpc_version version;
    AUTOFREE char *own_queue = NULL;
    struct error *err;

    err = rpc_server_check_options(o, &version);
    if (err) {
        return err;
    }

    server = xzalloc(sizeof *server);
    server->conn = conn;
    server->topic = xstrdup(o->topic);
    server->server_name = xstrdup_or_null(o->server);
    server->version = version;
    server->methods = o->methods;
    server->n_methods = o->n_methods;
    server->aux = o->aux;
    server->dedupe = rpc_dedupe_new(
        o->dedupe_max_ids ? o->dedupe_max_ids : RPC_SERVER_DEDUPE_MAX_IDS,
        o->dedupe_max_age_ms > 0 ? o->dedupe_max_age_ms
        : RPC_SERVER_DEDUPE_MAX_AGE_MS,
        RPC_DEDUPE_MAX_REPLY_BYTES);
    rpc_list_init(&server->deferred);

    err = rpc_conn_add_consumer(conn, RPC_CONSUMER_QUEUE, o->topic,
                                rpc_server_deliver, server,
                                &server->consumers[server->n_consumers]);
    if (!err) {
        server->n_consumers++;
        if (o->server) {
            own_queue = xasprintf("%s.%s", o->topic, o->server);
            err = rpc_conn_add_consumer(
                conn, RPC_CONSUMER_QUEUE, own_queue, rpc_server_deliver,
                server, &server->consumers[server->n_consumers]);
        }
    }
    if (!err && o->server) {
        server->n_consumers++;
    }
    if (!err && o->fanout) {
        err = rpc_conn_add_consumer(conn, RPC_CONSUMER_FANOUT, o->topic,
                                    rpc_server_deliver, server,
                                    &server->consumers[server->n_consumers]);
        if (!err) {
            server->n_consumers++;
        }
    }
    if (err) {
        rpc_server_free(server);
        return error_wrap(err, "Cannot start the RPC server of topic '%s'",
                          o->topic);
    }
    LOG_DBG("serving topic '%s'%s%s%s version %s", o->topic,
            o->server ? " and server '" : "", o->server ? o->server : "",
            o->server ? "'" : "", o->version);
    *ret_server = server;
    return NULL;
}

void
rpc_server_free(struct rpc_server *server)
{
    struct rpc_list *node;

    if (!server) {
        return;
    }
    for (size_t i = 0; i < server->n_consumers; i++) {
        rpc_conn_remove_consumer(server->conn, server->consumers[i]);
    }
    /* Deferred requests become orphans; their messages go back to the
     * queue for another server. */
    while ((node = rpc_list_pop_front(&server->deferred))) {
        struct rpc_request *req = RPC_LIST_ENTRY(node, struct rpc_request,
                                                 node);

        rpc_conn_reject(server->conn, req->generation, req->delivery_tag,
                        true);
        req->server = NULL;
    }
    rpc_dedupe_free(server->dedupe);
    free(server->topic);
    free(server->server_name);
    free(server);
}
