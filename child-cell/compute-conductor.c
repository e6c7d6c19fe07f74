/* compute-conductor.c: ordered, retried messages to nova-conductor (see
 * compute-conductor.h).
 *
 * Every message is an 'op' in one FIFO list.  An op is sent when it is not
 * waiting for a retry time and no earlier op in the list has the same key;
 * a cast leaves the list as soon as rpc_cast() accepts it, a call when its
 * final outcome is known.  The list is short in practice (what is in
 * flight plus what waits behind it), so the per-key check is a scan.
 *
 * A call in flight is known to the RPC layer by its op pointer.  When the
 * client is freed first, such ops are orphaned instead of freed: their
 * reply (or the ERROR_UNAVAILABLE that rpc_conn_free() delivers) then just
 * frees them. */
#include <config.h>
#include "child-cell/compute-conductor.h"

#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>

#include "cells-rpc/rpc-backoff.h"
#include "cells-rpc/rpc-msg.h"
#include "cells-rpc/rpc.h"
#include "child-cell/rpcapi.h"
#include "shared/error.h"
#include "shared/log.h"
#include "shared/poll-loop.h"
#include "shared/timeutil.h"
#include "shared/xalloc.h"

LOG_MODULE("compute.conductor");

struct compute_conductor_op {
    struct compute_conductor_op *prev, *next;
    struct compute_conductor *cc;   /* NULL once orphaned. */
    char *key;                      /* NULL: no ordering. */
    struct rpc_msg *msg;
    bool is_call;
    compute_conductor_reply_fn *cb;
    void *aux;

    bool in_flight;                 /* A call waiting for its reply. */
    long long not_before_ms;        /* Retry time (poll_loop_now_ms()). */
    unsigned int n_attempts;
    struct rpc_backoff backoff;
};

struct compute_conductor {
    struct rpc_conn *conn;
    struct compute_conductor_options options;
    struct compute_conductor_op *head, *tail;
    size_t n_ops;
    bool kick;                      /* Something may be sendable now. */
    struct compute_conductor_stats stats;
};

static const struct rpc_target compute_conductor_target = {
    CONDUCTOR_TOPIC, NULL
};

void
compute_conductor_options_init(struct compute_conductor_options *options)
{
    options->call_timeout_ms = COMPUTE_CONDUCTOR_CALL_TIMEOUT_MS;
    options->max_attempts = COMPUTE_CONDUCTOR_MAX_ATTEMPTS;
    options->retry_min_ms = COMPUTE_CONDUCTOR_RETRY_MIN_MS;
    options->retry_max_ms = COMPUTE_CONDUCTOR_RETRY_MAX_MS;
}

struct compute_conductor *
compute_conductor_new(struct rpc_conn *conn,
                      const struct compute_conductor_options *options)
{
    struct compute_conductor *cc = xzalloc(sizeof *cc);

    cc->conn = conn;
    cc->options = *options;
    if (cc->options.call_timeout_ms < 1) {
        cc->options.call_timeout_ms = COMPUTE_CONDUCTOR_CALL_TIMEOUT_MS;
    }
    if (!cc->options.max_attempts) {
        cc->options.max_attempts = 1;
    }
    if (cc->options.retry_min_ms < 1) {
        cc->options.retry_min_ms = 1;
    }
    if (cc->options.retry_max_ms < cc->options.retry_min_ms) {
        cc->options.retry_max_ms = cc->options.retry_min_ms;
    }
    return cc;
}

static void
compute_conductor_op_free(struct compute_conductor_op *op)
{
    free(op->key);
    rpc_msg_free(op->msg);
    free(op);
}

static void
compute_conductor_unlink(struct compute_conductor *cc,
                         struct compute_conductor_op *op)
{
    if (op->prev) {
        op->prev->next = op->next;
    } else {
        cc->head = op->next;
    }
    if (op->next) {
        op->next->prev = op->prev;
    } else {
        cc->tail = op->prev;
    }
    op->prev = op->next = NULL;
    cc->n_ops--;
    cc->kick = true;
}

void
compute_conductor_free(struct compute_conductor *cc)
{
    struct compute_conductor_op *op, *next;

    if (!cc) {
        return;
    }
    for (op = cc->head; op; op = next) {
        bool in_flight = op->in_flight;

        next = op->next;
        compute_conductor_unlink(cc, op);
        if (op->is_call) {
            op->cb(NULL, error_new(ERROR_UNAVAILABLE, "Cannot call '%s' on "
                                   "the conductor: nova-compute is "
                                   "stopping", op->msg->method), op->aux);
        }
        if (in_flight) {
            op->cc = NULL;      /* Freed by its reply. */
        } else {
            compute_conductor_op_free(op);
        }
    }
    free(cc);
}

static void
compute_conductor_queue(struct compute_conductor *cc, const char *key,
                        const char *request_id, const char *method,
                        struct json_object *args, bool is_call,
                        compute_conductor_reply_fn *cb, void *aux)
{
    struct compute_conductor_op *op = xzalloc(sizeof *op);

    op->cc = cc;
    op->key = xstrdup_or_null(key);
    op->msg = rpc_msg_new(method, args);
    if (request_id) {
        rpc_ctx_set_request_id(&op->msg->ctx, request_id);
    }
    op->is_call = is_call;
    op->cb = cb;
    op->aux = aux;
    rpc_backoff_init(&op->backoff, cc->options.retry_min_ms,
                     cc->options.retry_max_ms,
                     (unsigned int) time_now_ms() ^ (unsigned int) getpid()
                     ^ (unsigned int) cc->n_ops);

    op->prev = cc->tail;
    if (cc->tail) {
        cc->tail->next = op;
    } else {
        cc->head = op;
    }
    cc->tail = op;
    cc->n_ops++;
    cc->kick = true;
}

void
compute_conductor_call(struct compute_conductor *cc, const char *key,
                       const char *request_id, const char *method,
                       struct json_object *args,
                       compute_conductor_reply_fn *cb, void *aux)
{
    compute_conductor_queue(cc, key, request_id, method, args, true, cb, aux);
}

void
compute_conductor_cast(struct compute_conductor *cc, const char *key,
                       const char *request_id, const char *method,
                       struct json_object *args)
{
    compute_conductor_queue(cc, key, request_id, method, args, false, NULL,
                            NULL);
}

static bool
compute_conductor_is_retryable(const struct error *error)
{
    return error_kind(error) == ERROR_TIMEOUT
           || error_kind(error) == ERROR_UNAVAILABLE;
}

/* Handles the failure 'error' (owned) of the latest attempt of 'op':
 * schedules a retry and returns true, or returns false and gives 'error'
 * back in '*ret_error' when 'op' is done. */
static bool
compute_conductor_retry(struct compute_conductor *cc,
                        struct compute_conductor_op *op, struct error *error,
                        struct error **ret_error)
{
    struct log_ctx log_ctx = {
        op->msg->ctx.request_id, op->key, NULL
    };

    if (compute_conductor_is_retryable(error)
        && op->n_attempts < cc->options.max_attempts) {
        long long delay = rpc_backoff_next(&op->backoff);

        LOG_WARN_RL_CTX(&log_ctx, "%s '%s' to the conductor failed "
                        "(attempt %u of %u): %s, retrying in %lld ms",
                        op->is_call ? "call" : "cast", op->msg->method,
                        op->n_attempts, cc->options.max_attempts,
                        error_message(error), delay);
        error_free(error);
        op->not_before_ms = poll_loop_now_ms() + delay;
        cc->stats.retries++;
        return true;
    }
    if (compute_conductor_is_retryable(error)) {
        cc->stats.given_up++;
        LOG_ERR_RL_CTX(&log_ctx, "%s '%s' to the conductor failed %u "
                       "times, giving up: %s", op->is_call ? "call" : "cast",
                       op->msg->method, op->n_attempts,
                       error_message(error));
    }
    *ret_error = error;
    return false;
}

static void
compute_conductor_reply_cb(struct json_object *result, struct error *error,
                           void *op_)
{
    struct compute_conductor_op *op = op_;
    struct compute_conductor *cc = op->cc;

    if (!cc) {
        /* Orphaned by compute_conductor_free(). */
        json_object_put(result);
        error_free(error);
        compute_conductor_op_free(op);
        return;
    }
    op->in_flight = false;
    if (error && compute_conductor_retry(cc, op, error, &error)) {
        cc->kick = true;
        return;
    }
    compute_conductor_unlink(cc, op);
    cc->stats.calls++;
    op->cb(result, error, op->aux);
    compute_conductor_op_free(op);
}

/* True if an op before 'op' has the same key. */
static bool
compute_conductor_is_blocked(const struct compute_conductor_op *op)
{
    if (!op->key) {
        return false;
    }
    for (const struct compute_conductor_op *p = op->prev; p; p = p->prev) {
        if (p->key && !strcmp(p->key, op->key)) {
            return true;
        }
    }
    return false;
}

/* Sends 'op'.  Returns false if 'op' is finished (and freed). */
static bool
compute_conductor_send(struct compute_conductor *cc,
                       struct compute_conductor_op *op)
{
    struct error *error;

    op->n_attempts++;
    if (op->is_call) {
        error = rpc_call_async(cc->conn, &compute_conductor_target, op->msg,
                               cc->options.call_timeout_ms,
                               compute_conductor_reply_cb, op);
        if (!error) {
            op->in_flight = true;
            return true;
        }
        if (compute_conductor_retry(cc, op, error, &error)) {
            return true;
        }
        compute_conductor_unlink(cc, op);
        cc->stats.calls++;
        op->cb(NULL, error, op->aux);
        compute_conductor_op_free(op);
        return false;
    }

    error = rpc_cast(cc->conn, &compute_conductor_target, op->msg);
    if (error && compute_conductor_retry(cc, op, error, &error)) {
        return true;
    }
    if (error) {
        struct log_ctx log_ctx = { op->msg->ctx.request_id, op->key, NULL };

        LOG_ERR_CTX(&log_ctx, "cast '%s' to the conductor is lost: %s",
                    op->msg->method, error_message(error));
        error_free(error);
    } else {
        cc->stats.casts++;
    }
    compute_conductor_unlink(cc, op);
    compute_conductor_op_free(op);
    return false;
}

void
compute_conductor_run(struct compute_conductor *cc)
{
    long long now = poll_loop_now_ms();
    struct compute_conductor_op *op, *next;

    cc->kick = false;
    for (op = cc->head; op; op = next) {
        next = op->next;
        if (op->in_flight || op->not_before_ms > now
            || compute_conductor_is_blocked(op)) {
            continue;
        }
        /* A user callback run from here may queue more ops: they land at
         * the tail, where this loop reaches them. */
        compute_conductor_send(cc, op);
    }
}

void
compute_conductor_wait(struct compute_conductor *cc)
{
    long long earliest = LLONG_MAX;

    if (cc->kick) {
        poll_immediate_wake();
        return;
    }
    for (const struct compute_conductor_op *op = cc->head; op; op = op->next) {
        if (!op->in_flight && op->not_before_ms < earliest
            && !compute_conductor_is_blocked(op)) {
            earliest = op->not_before_ms;
        }
    }
    if (earliest != LLONG_MAX) {
        poll_timer_wait_until(earliest);
    }
}

size_t
compute_conductor_n_pending(const struct compute_conductor *cc)
{
    return cc->n_ops;
}

void
compute_conductor_get_stats(const struct compute_conductor *cc,
                            struct compute_conductor_stats *ret_stats)
{
    *ret_stats = cc->stats;
}
