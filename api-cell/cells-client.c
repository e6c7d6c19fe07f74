/* cells-client.c: nova-api's client of the API cell's nova-cells.
 *
 * One thread owns the rpc_conn.  Other threads append requests to
 * 'pending' under 'mutex' and write to the eventfd, which wakes the
 * thread's poll loop.  Each iteration of the loop:
 *
 *   1. connects when there is no connection yet and the backoff delay has
 *      passed (the rpc_conn repairs later losses by itself);
 *   2. runs the connection (confirms, replies, timeouts, reconnects);
 *   3. completes the batch of casts in flight once the broker has
 *      confirmed every message published so far (rpc_conn_n_unconfirmed()
 *      reaches 0);
 *   4. when connected, starts the waiting calls and, if no batch is in
 *      flight any more, publishes every waiting cast as the next batch;
 *      when not connected, fails the calls whose time is up.
 *
 * Only one batch of casts is in flight at a time, which makes "every
 * message so far confirmed" a sound test for "this batch confirmed" even
 * though confirms are counted, not named.  The casts that arrive during a
 * round trip form the next batch, so the batch grows with the load.
 *
 * A cast request is shared by the waiting thread and the client's thread:
 * it is counted ('refs', under 'mutex') and freed by whichever lets go
 * last, so that a waiter that gives up never leaves the client's thread
 * with a dangling pointer.  Its 'msg' is touched only by the waiter before
 * it is queued and by the client's thread after it is taken. */
#include <config.h>

#include "api-cell/cells-client.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cells-rpc/cells-rpcapi.h"
#include "cells-rpc/rpc-backoff.h"
#include "cells-rpc/rpc-ctx.h"
#include "cells-rpc/rpc-msg.h"
#include "cells-rpc/rpc.h"
#include "cells-rpc/transport-url.h"
#include "shared/error.h"
#include "shared/log.h"
#include "shared/poll-loop.h"
#include "shared/timeutil.h"
#include "shared/xalloc.h"

LOG_MODULE("api.cells");

/* Per-host connect and login timeout: short, because the client's thread
 * blocks while it connects, which delays the timeouts of waiting calls. */
#define CELLS_CLIENT_CONNECT_TIMEOUT_MS 2000

/* Most requests waiting in the queue; beyond it casts and calls fail at
 * once with ERROR_UNAVAILABLE rather than growing memory without bound. */
#define CELLS_CLIENT_MAX_PENDING 10000

/* Timeout of a cast given none, in milliseconds. */
#define CELLS_CLIENT_DEFAULT_CAST_TIMEOUT_MS 10000

enum cells_req_kind {
    CELLS_REQ_CAST,
    CELLS_REQ_CALL,
};

struct cells_req {
    struct cells_req *prev, *next;  /* In 'pending' while 'queued'. */
    enum cells_req_kind kind;
    struct rpc_msg *msg;            /* Owned; NULL once published. */
    long long deadline_ms;          /* time_monotonic_ms() clock. */
    bool queued;                    /* On the 'pending' list. */

    /* Casts only, guarded by the client's mutex. */
    int refs;                       /* Waiter, and 'pending' or batch. */
    bool done;                      /* 'error' is the outcome. */
    bool abandoned;                 /* The waiter gave up. */
    struct error *error;
    pthread_cond_t cond;

    /* Calls only. */
    cells_client_reply_fn *cb;
    void *aux;
    int timeout_ms;
};

struct cells_client {
    char *url;
    int efd;                        /* Wakes the client's thread. */
    pthread_t thread;

    pthread_mutex_t mutex;          /* Guards everything down to 'reason'
                                     * and the 'refs', 'done', 'abandoned',
                                     * 'error', 'queued' of requests. */
    struct cells_req *head, *tail;  /* 'pending' requests, FIFO. */
    size_t n_pending;
    bool exiting;
    bool connected;
    long long down_since_ms;        /* When 'connected' last became false. */
    char *reason;                   /* Why not connected, for messages. */

    /* Owned by the client's thread. */
    struct rpc_conn *conn;
    struct rpc_backoff backoff;
    long long next_connect_ms;
    struct cells_req **batch;       /* Casts published, not confirmed. */
    size_t n_batch, allocated_batch;
};

/* ---- Requests ------------------------------------------------------- */

static void
cells_req_free(struct cells_req *req)
{
    rpc_msg_free(req->msg);
    error_free(req->error);
    if (req->kind == CELLS_REQ_CAST) {
        pthread_cond_destroy(&req->cond);
    }
    free(req);
}

/* Drops one reference to cast 'req'.  The caller holds the mutex. */
static void
cells_req_unref(struct cells_req *req)
{
    if (--req->refs == 0) {
        cells_req_free(req);
    }
}

/* Builds the message of a request; takes 'args'. */
static struct rpc_msg *
cells_msg_new(const struct rpc_ctx *ctx, const char *method,
              struct json_object *args)
{
    struct rpc_msg *msg = rpc_msg_new(method, args);

    if (ctx) {
        rpc_ctx_destroy(&msg->ctx);
        rpc_ctx_clone(&msg->ctx, ctx);
    }
    return msg;
}

/* Appends 'req' to 'pending' and wakes the thread.  The caller holds the
 * mutex. */
static void
cells_client_enqueue(struct cells_client *client, struct cells_req *req)
{
    uint64_t one = 1;

    req->queued = true;
    req->next = NULL;
    req->prev = client->tail;
    if (client->tail) {
        client->tail->next = req;
    } else {
        client->head = req;
    }
    client->tail = req;
    client->n_pending++;
    /* Cannot fail short of a counter overflow, which a counter reset on
     * every iteration of the loop never reaches. */
    (void) !write(client->efd, &one, sizeof one);
}

/* Removes 'req' from 'pending'.  The caller holds the mutex. */
static void
cells_client_dequeue(struct cells_client *client, struct cells_req *req)
{
    if (req->prev) {
        req->prev->next = req->next;
    } else {
        client->head = req->next;
    }
    if (req->next) {
        req->next->prev = req->prev;
    } else {
        client->tail = req->prev;
    }
    req->prev = req->next = NULL;
    req->queued = false;
    client->n_pending--;
}

/* The error of a request that found nova-cells unreachable.  The caller
 * holds the mutex. */
static struct error *
cells_client_unreachable(const struct cells_client *client)
{
    return error_new(ERROR_UNAVAILABLE, "nova-cells of the API cell is "
                     "unreachable: %s",
                     client->reason ? client->reason : "not connected yet");
}

/* Completes cast 'req' with 'error' (taken) and drops the client's
 * reference.  The caller holds the mutex. */
static void
cells_req_complete_cast(struct cells_req *req, struct error *error)
{
    if (!req->abandoned && !req->done) {
        req->done = true;
        req->error = error;
        pthread_cond_signal(&req->cond);
    } else {
        error_free(error);
    }
    cells_req_unref(req);
}

/* Runs the callback of call 'req' and frees it.  Called on the client's
 * thread without the mutex. */
static void
cells_req_complete_call(struct cells_req *req, struct json_object *result,
                        const struct error *error)
{
    req->cb(result, error, req->aux);
    cells_req_free(req);
}

/* ---- The client's thread ---------------------------------------------- */

static void
cells_client_set_reason(struct cells_client *client, const char *reason)
{
    pthread_mutex_lock(&client->mutex);
    free(client->reason);
    client->reason = xstrdup(reason);
    pthread_mutex_unlock(&client->mutex);
}

static void
cells_client_connect(struct cells_client *client)
{
    struct rpc_conn_options options = {
        .connect_timeout_ms = CELLS_CLIENT_CONNECT_TIMEOUT_MS,
        .name = "nova-api",
    };
    struct error *error;

    error = rpc_conn_open(client->url, &options, &client->conn);
    if (error) {
        long long delay = rpc_backoff_next(&client->backoff);

        LOG_WARN_RL("cannot reach nova-cells of the API cell: %s, "
                    "retrying in %lld ms", error_message(error), delay);
        cells_client_set_reason(client, error_message(error));
        error_free(error);
        client->conn = NULL;
        client->next_connect_ms = time_monotonic_ms() + delay;
        return;
    }
    rpc_backoff_reset(&client->backoff);
    LOG_INFO("connected to nova-cells of the API cell at %s",
             rpc_conn_url(client->conn));
}

/* Records whether the connection is up, for the waiters' messages. */
static void
cells_client_update_state(struct cells_client *client)
{
    bool connected = client->conn && rpc_conn_is_connected(client->conn);

    pthread_mutex_lock(&client->mutex);
    if (connected != client->connected) {
        client->connected = connected;
        if (!connected) {
            client->down_since_ms = time_monotonic_ms();
            free(client->reason);
            client->reason = xasprintf("lost the connection to %s",
                                       rpc_conn_url(client->conn));
        }
    }
    pthread_mutex_unlock(&client->mutex);
}

/* Completes the batch in flight once the broker confirmed everything. */
static void
cells_client_check_batch(struct cells_client *client)
{
    if (!client->n_batch || !client->conn
        || rpc_conn_n_unconfirmed(client->conn)) {
        return;
    }
    pthread_mutex_lock(&client->mutex);
    for (size_t i = 0; i < client->n_batch; i++) {
        cells_req_complete_cast(client->batch[i], NULL);
    }
    pthread_mutex_unlock(&client->mutex);
    client->n_batch = 0;
}

/* The callback of rpc_call_async() for a call request. */
static void
cells_client_call_reply(struct json_object *result, struct error *error,
                        void *req_)
{
    cells_req_complete_call(req_, result, error);
    json_object_put(result);
    error_free(error);
}

/* Publishes the casts of 'casts' (taken off 'pending' with one reference
 * each) and adds them to the batch. */
static void
cells_client_publish(struct cells_client *client, struct cells_req *casts)
{
    const struct rpc_target target = { .topic = CELLS_LOCAL_TOPIC };

    while (casts) {
        struct cells_req *req = casts;
        struct error *error;

        casts = req->next;
        req->next = NULL;
        error = rpc_cast(client->conn, &target, req->msg);
        rpc_msg_free(req->msg);
        req->msg = NULL;
        if (error) {
            pthread_mutex_lock(&client->mutex);
            cells_req_complete_cast(req, error);
            pthread_mutex_unlock(&client->mutex);
            continue;
        }
        if (client->n_batch >= client->allocated_batch) {
            client->allocated_batch = (client->allocated_batch
                                       ? 2 * client->allocated_batch : 64);
            client->batch = xreallocarray(client->batch,
                                          client->allocated_batch,
                                          sizeof *client->batch);
        }
        client->batch[client->n_batch++] = req;
    }
}

/* Starts the calls of 'calls' (taken off 'pending'). */
static void
cells_client_start_calls(struct cells_client *client,
                         struct cells_req *calls)
{
    const struct rpc_target target = { .topic = CELLS_LOCAL_TOPIC };
    long long now = time_monotonic_ms();

    while (calls) {
        struct cells_req *req = calls;
        struct error *error;
        long long left = req->deadline_ms - now;

        calls = req->next;
        req->next = NULL;
        error = rpc_call_async(client->conn, &target, req->msg,
                               (int) (left > 1 ? left : 1),
                               cells_client_call_reply, req);
        if (error) {
            cells_req_complete_call(req, NULL, error);
            error_free(error);
        }
    }
}

/* Takes the work that can be done now off 'pending' and does it.  Returns
 * the earliest deadline of calls left waiting, or LLONG_MAX. */
static long long
cells_client_take_work(struct cells_client *client)
{
    struct cells_req *casts = NULL, **casts_tail = &casts;
    struct cells_req *calls = NULL, **calls_tail = &calls;
    struct cells_req *expired = NULL;
    long long now = time_monotonic_ms();
    long long next_deadline = LLONG_MAX;
    bool take_casts, take_calls;
    struct error *unreachable = NULL;

    pthread_mutex_lock(&client->mutex);
    take_calls = client->connected;
    take_casts = client->connected && !client->n_batch;
    for (struct cells_req *req = client->head, *next; req; req = next) {
        next = req->next;
        if (req->kind == CELLS_REQ_CAST) {
            if (take_casts) {
                /* The list's reference becomes the batch's. */
                cells_client_dequeue(client, req);
                *casts_tail = req;
                casts_tail = &req->next;
            }
        } else if (take_calls) {
            cells_client_dequeue(client, req);
            *calls_tail = req;
            calls_tail = &req->next;
        } else if (req->deadline_ms <= now) {
            cells_client_dequeue(client, req);
            req->next = expired;
            expired = req;
        } else if (req->deadline_ms < next_deadline) {
            next_deadline = req->deadline_ms;
        }
    }
    if (expired) {
        unreachable = cells_client_unreachable(client);
    }
    pthread_mutex_unlock(&client->mutex);

    while (expired) {
        struct cells_req *req = expired;

        expired = req->next;
        cells_req_complete_call(req, NULL, unreachable);
    }
    error_free(unreachable);
    if (casts) {
        cells_client_publish(client, casts);
    }
    if (calls) {
        cells_client_start_calls(client, calls);
    }
    return next_deadline;
}

/* Fails whatever is left when the client stops. */
static void
cells_client_drain(struct cells_client *client)
{
    struct cells_req *calls = NULL;

    pthread_mutex_lock(&client->mutex);
    while (client->head) {
        struct cells_req *req = client->head;

        cells_client_dequeue(client, req);
        if (req->kind == CELLS_REQ_CAST) {
            cells_req_complete_cast(req, error_new(
                ERROR_UNAVAILABLE, "nova-cells client is stopping"));
        } else {
            req->next = calls;
            calls = req;
        }
    }
    for (size_t i = 0; i < client->n_batch; i++) {
        cells_req_complete_cast(client->batch[i], error_new(
            ERROR_UNAVAILABLE, "nova-cells client is stopping"));
    }
    client->n_batch = 0;
    pthread_mutex_unlock(&client->mutex);

    if (calls) {
        struct error *error = error_new(ERROR_UNAVAILABLE,
                                        "nova-cells client is stopping");

        while (calls) {
            struct cells_req *req = calls;

            calls = req->next;
            cells_req_complete_call(req, NULL, error);
        }
        error_free(error);
    }
    /* Completes the calls under way with ERROR_UNAVAILABLE. */
    rpc_conn_free(client->conn);
    client->conn = NULL;
}

static void *
cells_client_main(void *client_)
{
    struct cells_client *client = client_;

    for (;;) {
        long long next_deadline;
        uint64_t count;
        bool exiting;

        /* Reset the wake-up level before looking at the queue. */
        (void) !read(client->efd, &count, sizeof count);

        if (!client->conn
            && time_monotonic_ms() >= client->next_connect_ms) {
            cells_client_connect(client);
        }
        if (client->conn) {
            rpc_conn_run(client->conn);
        }
        cells_client_update_state(client);
        cells_client_check_batch(client);

        pthread_mutex_lock(&client->mutex);
        exiting = client->exiting;
        pthread_mutex_unlock(&client->mutex);
        if (exiting) {
            break;
        }
        next_deadline = cells_client_take_work(client);
        cells_client_check_batch(client);

        poll_fd_wait(client->efd, POLLIN);
        if (client->conn) {
            rpc_conn_wait(client->conn);
        } else {
            poll_timer_wait_until(client->next_connect_ms);
        }
        poll_timer_wait_until(next_deadline);
        poll_block();
    }
    cells_client_drain(client);
    poll_loop_reset();
    return NULL;
}

/* ---- Public functions -------------------------------------------------- */

struct error *
cells_client_new(const char *transport_url, struct cells_client **ret)
{
    struct transport_url *parsed;
    struct cells_client *client;
    struct error *error;
    int efd;
    int r;

    if (!transport_url || !*transport_url) {
        return error_new(ERROR_INVALID, "No transport URL for nova-cells "
                         "of the API cell");
    }
    error = transport_url_parse(transport_url, &parsed);
    if (error) {
        return error;
    }
    transport_url_free(parsed);

    efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (efd < 0) {
        return error_from_errno(-errno, ERROR_INTERNAL,
                                "Cannot create an eventfd");
    }
    client = xzalloc(sizeof *client);
    client->url = xstrdup(transport_url);
    client->efd = efd;
    pthread_mutex_init(&client->mutex, NULL);
    client->down_since_ms = time_monotonic_ms();
    rpc_backoff_init(&client->backoff, RPC_RECONNECT_MIN_MS,
                     RPC_RECONNECT_MAX_MS,
                     (unsigned int) getpid() ^ (unsigned int) time(NULL));
    client->next_connect_ms = time_monotonic_ms();

    r = pthread_create(&client->thread, NULL, cells_client_main, client);
    if (r) {
        pthread_mutex_destroy(&client->mutex);
        close(efd);
        free(client->url);
        free(client);
        return error_from_errno(-r, ERROR_INTERNAL,
                                "Cannot start the nova-cells client thread");
    }
    *ret = client;
    return NULL;
}

void
cells_client_free(struct cells_client *client)
{
    uint64_t one = 1;

    if (!client) {
        return;
    }
    pthread_mutex_lock(&client->mutex);
    client->exiting = true;
    (void) !write(client->efd, &one, sizeof one);
    pthread_mutex_unlock(&client->mutex);
    pthread_join(client->thread, NULL);

    free(client->batch);
    pthread_mutex_destroy(&client->mutex);
    close(client->efd);
    free(client->reason);
    free(client->url);
    free(client);
}

/* Fills 'ts' with the CLOCK_MONOTONIC time 'ms'. */
static void
cells_ms_to_timespec(long long ms, struct timespec *ts)
{
    ts->tv_sec = ms / 1000;
    ts->tv_nsec = (ms % 1000) * 1000000L;
}

struct error *
cells_client_cast(struct cells_client *client, const struct rpc_ctx *ctx,
                  const char *method, struct json_object *args,
                  int timeout_ms)
{
    struct rpc_msg *msg = cells_msg_new(ctx, method, args);
    long long now = time_monotonic_ms();
    pthread_condattr_t attr;
    struct cells_req *req;
    struct error *error;
    struct timespec ts;

    if (timeout_ms <= 0) {
        timeout_ms = CELLS_CLIENT_DEFAULT_CAST_TIMEOUT_MS;
    }

    pthread_mutex_lock(&client->mutex);
    if (client->exiting) {
        pthread_mutex_unlock(&client->mutex);
        rpc_msg_free(msg);
        return error_new(ERROR_UNAVAILABLE, "nova-cells client is "
                         "stopping");
    }
    if (client->n_pending >= CELLS_CLIENT_MAX_PENDING
        || (!client->connected
            && now - client->down_since_ms >= timeout_ms)) {
        /* Down for longer than this cast would wait: say so at once
         * rather than hold a server thread for nothing. */
        error = (client->connected
                 ? error_new(ERROR_UNAVAILABLE, "nova-cells of the API cell "
                             "is unreachable: too many messages waiting")
                 : cells_client_unreachable(client));
        pthread_mutex_unlock(&client->mutex);
        rpc_msg_free(msg);
        return error;
    }
    pthread_mutex_unlock(&client->mutex);

    req = xzalloc(sizeof *req);
    req->kind = CELLS_REQ_CAST;
    req->msg = msg;
    req->deadline_ms = now + timeout_ms;
    req->refs = 2;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&req->cond, &attr);
    pthread_condattr_destroy(&attr);
    cells_ms_to_timespec(req->deadline_ms, &ts);

    pthread_mutex_lock(&client->mutex);
    cells_client_enqueue(client, req);
    while (!req->done) {
        int r = pthread_cond_timedwait(&req->cond, &client->mutex, &ts);

        if (r == ETIMEDOUT && !req->done) {
            break;
        }
    }
    if (req->done) {
        error = req->error;
        req->error = NULL;
    } else {
        req->abandoned = true;
        if (req->queued) {
            /* Never published: it is dropped. */
            cells_client_dequeue(client, req);
            cells_req_unref(req);
        }
        if (!client->connected) {
            error = cells_client_unreachable(client);
        } else {
            error = error_new(ERROR_UNAVAILABLE, "nova-cells of the API "
                              "cell is unreachable: the broker did not "
                              "confirm '%s' within %d ms", method,
                              timeout_ms);
        }
    }
    cells_req_unref(req);
    pthread_mutex_unlock(&client->mutex);
    return error;
}

struct error *
cells_client_call(struct cells_client *client, const struct rpc_ctx *ctx,
                  const char *method, struct json_object *args,
                  int timeout_ms, cells_client_reply_fn *cb, void *aux)
{
    struct rpc_msg *msg = cells_msg_new(ctx, method, args);
    struct cells_req *req;

    if (timeout_ms <= 0) {
        timeout_ms = RPC_DEFAULT_TIMEOUT_MS;
    }
    pthread_mutex_lock(&client->mutex);
    if (client->exiting || client->n_pending >= CELLS_CLIENT_MAX_PENDING) {
        bool exiting = client->exiting;

        pthread_mutex_unlock(&client->mutex);
        rpc_msg_free(msg);
        return error_new(ERROR_UNAVAILABLE, exiting
                         ? "nova-cells client is stopping"
                         : "nova-cells of the API cell is unreachable: too "
                         "many messages waiting");
    }
    req = xzalloc(sizeof *req);
    req->kind = CELLS_REQ_CALL;
    req->msg = msg;
    req->deadline_ms = time_monotonic_ms() + timeout_ms;
    req->timeout_ms = timeout_ms;
    req->cb = cb;
    req->aux = aux;
    cells_client_enqueue(client, req);
    pthread_mutex_unlock(&client->mutex);
    return NULL;
}
