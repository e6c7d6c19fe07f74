/* test-rpc.c: RPC against a real RabbitMQ (vhost "rpctest").
 *
 * Servers run in their own threads, each with its own connection and its
 * own poll loop, as a daemon would: that is the thread model rpc.h
 * prescribes (one connection per thread), and it lets the test thread use
 * the blocking rpc_call().  What a server's handlers saw is kept in a
 * 'struct probe' behind a mutex and read by the test thread.
 *
 * Every queue name starts with a prefix unique to the run, so leftovers of
 * an earlier run never interfere.  Waiting loops have generous deadlines
 * that only turn a hang into a failure; no assertion is about speed. */
#include <config.h>

#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "cells-rpc/rpc.h"
#include "cells-rpc/rpc-msg.h"
#include "cells-rpc/rpc-server.h"
#include "cells-rpc/transport-url.h"
#include "shared/error.h"
#include "shared/json-util.h"
#include "shared/log.h"
#include "shared/poll-loop.h"
#include "shared/timeutil.h"
#include "shared/uuid-util.h"
#include "shared/xalloc.h"
#include "tests/integration/test-env.h"

/* Longest wait for something that takes milliseconds when all is well. */
#define GUARD_MS 30000
/* Longest wait around a broker restart (the restart alone takes ~8 s). */
#define RESTART_GUARD_MS 180000
/* Casts in the broker-restart stream. */
#define RESTART_N_CASTS 300
/* Pause between casts of that stream, so it spans the restart. */
#define RESTART_CAST_INTERVAL_MS 25
/* Most distinct ids one probe records. */
#define PROBE_MAX_IDS 4096

#define SERVER_VERSION "1.3"

/* The cell whose vhost and user (NAME / NAMEpw) the tests use. */
#define TEST_RPC_VHOST "rpctest"

static char url[256];
static char prefix[16];

/* ------------------------------------------------------------------ */
/* What handlers saw. */

struct probe {
    pthread_mutex_t lock;
    char ids[PROBE_MAX_IDS][RPC_MSG_ID_SIZE];
    int counts[PROBE_MAX_IDS];
    size_t n_ids;
    size_t n_records;
    size_t n_adds;
    struct rpc_request *deferred[64];
    size_t n_deferred;

    /* Server thread only. */
    struct rpc_conn *conn;      /* The server's connection. */
    bool dropped;               /* A handler dropped it once already. */
    bool hold_deferred;         /* Keep deferred requests until a
                                 * duplicate arrived. */
};

static void
probe_init(struct probe *p)
{
    memset(p, 0, sizeof *p);
    pthread_mutex_init(&p->lock, NULL);
}

static void
probe_record(struct probe *p, const char *id)
{
    size_t i;

    pthread_mutex_lock(&p->lock);
    p->n_records++;
    for (i = 0; i < p->n_ids; i++) {
        if (!strcmp(p->ids[i], id)) {
            break;
        }
    }
    if (i == p->n_ids && i < PROBE_MAX_IDS) {
        memcpy(p->ids[i], id, RPC_MSG_ID_SIZE);
        p->n_ids++;
    }
    if (i < PROBE_MAX_IDS) {
        p->counts[i]++;
    }
    pthread_mutex_unlock(&p->lock);
}

static size_t
probe_n_records(struct probe *p)
{
    size_t n;

    pthread_mutex_lock(&p->lock);
    n = p->n_records;
    pthread_mutex_unlock(&p->lock);
    return n;
}

static int
probe_count(struct probe *p, const char *id)
{
    int n = 0;

    pthread_mutex_lock(&p->lock);
    for (size_t i = 0; i < p->n_ids; i++) {
        if (!strcmp(p->ids[i], id)) {
            n = p->counts[i];
        }
    }
    pthread_mutex_unlock(&p->lock);
    return n;
}

/* ------------------------------------------------------------------ */
/* The test interface: version 1.3. */

static struct error *
validate_add(const struct json_object *args)
{
    long long v;
    struct error *err = json_get_int(args, NULL, "a", true, -1000000,
                                     1000000, &v);

    if (!err) {
        err = json_get_int(args, NULL, "b", true, -1000000, 1000000, &v);
    }
    return err;
}

static struct json_object *
sum_of(const struct rpc_msg *msg)
{
    struct json_object *result = json_object_new_object();
    long long a = json_object_get_int64(json_object_object_get(msg->args,
                                                               "a"));
    long long b = json_object_get_int64(json_object_object_get(msg->args,
                                                               "b"));

    json_object_object_add(result, "sum", json_object_new_int64(a + b));
    return result;
}

static struct error *
handle_add(struct rpc_request *req, void *aux,
           struct json_object **ret_result)
{
    struct probe *p = aux;

    pthread_mutex_lock(&p->lock);
    p->n_adds++;
    pthread_mutex_unlock(&p->lock);
    *ret_result = sum_of(rpc_request_msg(req));
    return NULL;
}

/* Answers later, from the server thread's loop (see server_main()). */
static struct error *
handle_deferred_add(struct rpc_request *req, void *aux,
                    struct json_object **ret_result)
{
    struct probe *p = aux;

    (void) ret_result;
    rpc_request_defer(req);
    pthread_mutex_lock(&p->lock);
    p->deferred[p->n_deferred++] = req;
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

static struct error *
handle_fail(struct rpc_request *req, void *aux,
            struct json_object **ret_result)
{
    const char *id = json_object_get_string(
        json_object_object_get(rpc_request_msg(req)->args, "id"));

    (void) aux;
    (void) ret_result;
    return error_new(ERROR_NOT_FOUND, "Instance '%s' could not be found.",
                     id ? id : "?");
}

/* Idempotent by construction: it only records which ids it saw. */
static struct error *
handle_record(struct rpc_request *req, void *aux,
              struct json_object **ret_result)
{
    (void) ret_result;
    probe_record(aux, rpc_request_msg(req)->msg_id);
    return NULL;
}

/* Records, then drops the server's connection the first time: the ack
 * cannot be sent, the broker redelivers, the dedupe window must catch
 * it. */
static struct error *
handle_record_and_drop(struct rpc_request *req, void *aux,
                       struct json_object **ret_result)
{
    struct probe *p = aux;

    (void) ret_result;
    probe_record(p, rpc_request_msg(req)->msg_id);
    if (!p->dropped) {
        p->dropped = true;
        rpc_conn_disconnect(p->conn);
    }
    return NULL;
}

/* Defers, then drops the server's connection the first time; the server
 * thread answers only once the redelivered copy has been seen. */
static struct error *
handle_deferred_drop(struct rpc_request *req, void *aux,
                     struct json_object **ret_result)
{
    struct probe *p = aux;
    struct error *err = handle_deferred_add(req, aux, ret_result);

    if (!p->dropped) {
        p->dropped = true;
        p->hold_deferred = true;
        rpc_conn_disconnect(p->conn);
    }
    return err;
}

static const struct rpc_method test_methods[] = {
    { "add", handle_add, validate_add },
    { "deferred_add", handle_deferred_add, validate_add },
    { "deferred_drop", handle_deferred_drop, validate_add },
    { "fail", handle_fail, NULL },
    { "record", handle_record, NULL },
    { "record_and_drop", handle_record_and_drop, NULL },
};

/* ------------------------------------------------------------------ */
/* Server threads. */

struct server_thread {
    pthread_t thread;
    char topic[128];
    char server_name[64];
    bool fanout;
    size_t dedupe_max_ids;
    struct probe probe;
    int stop_pipe[2];

    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool ready;
    char *start_error;
    struct rpc_server_stats stats;
    struct rpc_conn_stats conn_stats;
};

static void
server_set_ready(struct server_thread *st, char *start_error)
{
    pthread_mutex_lock(&st->lock);
    st->ready = true;
    st->start_error = start_error;
    pthread_cond_broadcast(&st->cond);
    pthread_mutex_unlock(&st->lock);
}

static void *
server_main(void *st_)
{
    struct server_thread *st = st_;
    struct rpc_server_options opts = {
        .topic = st->topic,
        .server = st->server_name[0] ? st->server_name : NULL,
        .fanout = st->fanout,
        .version = SERVER_VERSION,
        .methods = test_methods,
        .n_methods = ARRAY_SIZE(test_methods),
        .aux = &st->probe,
        .dedupe_max_ids = st->dedupe_max_ids,
    };
    struct rpc_conn_options copts = { .name = "test-server" };
    struct rpc_conn *conn = NULL;
    struct rpc_server *server = NULL;
    struct error *err;

    err = rpc_conn_open(url, &copts, &conn);
    if (!err) {
        err = rpc_server_new(conn, &opts, &server);
    }
    if (err) {
        server_set_ready(st, xstrdup(error_message(err)));
        error_free(err);
        rpc_conn_free(conn);
        return NULL;
    }
    st->probe.conn = conn;
    server_set_ready(st, NULL);

    for (;;) {
        struct pollfd pfd = { st->stop_pipe[0], POLLIN, 0 };
        struct rpc_request *deferred[64];
        size_t n_deferred;

        rpc_conn_run(conn);

        /* Complete deferred requests, as an async handler would once its
         * work is done. */
        if (st->probe.hold_deferred) {
            struct rpc_server_stats now;

            rpc_server_get_stats(server, &now);
            st->probe.hold_deferred = !now.duplicates;
        }
        pthread_mutex_lock(&st->probe.lock);
        n_deferred = st->probe.hold_deferred ? 0 : st->probe.n_deferred;
        memcpy(deferred, st->probe.deferred, n_deferred * sizeof *deferred);
        st->probe.n_deferred -= n_deferred;
        pthread_mutex_unlock(&st->probe.lock);
        for (size_t i = 0; i < n_deferred; i++) {
            rpc_request_reply(deferred[i], sum_of(rpc_request_msg(
                                                      deferred[i])), NULL);
        }

        pthread_mutex_lock(&st->lock);
        rpc_server_get_stats(server, &st->stats);
        rpc_conn_get_stats(conn, &st->conn_stats);
        pthread_mutex_unlock(&st->lock);

        if (poll(&pfd, 1, 0) > 0) {
            break;
        }
        rpc_conn_wait(conn);
        poll_fd_wait(st->stop_pipe[0], POLLIN);
        if (n_deferred) {
            poll_immediate_wake();
        }
        poll_block();
    }
    rpc_server_free(server);
    rpc_conn_free(conn);
    return NULL;
}

static struct server_thread *
server_start(const char *topic, const char *server_name, bool fanout)
{
    struct server_thread *st = xzalloc(sizeof *st);

    snprintf(st->topic, sizeof st->topic, "%s", topic);
    snprintf(st->server_name, sizeof st->server_name, "%s",
             server_name ? server_name : "");
    st->fanout = fanout;
    probe_init(&st->probe);
    assert_int_equal(pipe(st->stop_pipe), 0);
    pthread_mutex_init(&st->lock, NULL);
    pthread_cond_init(&st->cond, NULL);
    assert_int_equal(pthread_create(&st->thread, NULL, server_main, st), 0);

    pthread_mutex_lock(&st->lock);
    while (!st->ready) {
        pthread_cond_wait(&st->cond, &st->lock);
    }
    pthread_mutex_unlock(&st->lock);
    if (st->start_error) {
        fail_msg("server of '%s' did not start: %s", topic, st->start_error);
    }
    return st;
}

static struct rpc_server_stats
server_stats(struct server_thread *st)
{
    struct rpc_server_stats stats;

    pthread_mutex_lock(&st->lock);
    stats = st->stats;
    pthread_mutex_unlock(&st->lock);
    return stats;
}

/* Counter at 'offset' of 'st''s stats. */
static unsigned long long
stat_of(struct server_thread *st, size_t offset)
{
    struct rpc_server_stats stats = server_stats(st);

    return *(unsigned long long *) ((char *) &stats + offset);
}

/* Waits until the counter at 'offset' reaches 'n': the server thread
 * publishes its stats after each run, possibly just after the reply the
 * test thread already has. */
static void
wait_stat(struct server_thread *st, size_t offset, unsigned long long n)
{
    long long deadline = poll_loop_now_ms() + GUARD_MS;

    while (stat_of(st, offset) < n) {
        if (poll_loop_now_ms() >= deadline) {
            fail_msg("gave up waiting for a server counter to reach %llu",
                     n);
        }
        usleep(1000);
    }
}

#define WAIT_STAT(ST, FIELD, N) \
    wait_stat(ST, offsetof(struct rpc_server_stats, FIELD), N)

static void
server_stop(struct server_thread *st)
{
    char c = 'q';

    if (!st) {
        return;
    }
    assert_int_equal(write(st->stop_pipe[1], &c, 1), 1);
    pthread_join(st->thread, NULL);
    close(st->stop_pipe[0]);
    close(st->stop_pipe[1]);
    free(st->start_error);
    pthread_mutex_destroy(&st->lock);
    pthread_cond_destroy(&st->cond);
    pthread_mutex_destroy(&st->probe.lock);
    free(st);
}

/* Waits until 'cond(aux)' holds, driving 'conn' (may be NULL), for at most
 * 'guard_ms'. */
static void
wait_for(struct rpc_conn *conn, bool (*cond)(void *), void *aux,
         long long guard_ms, const char *what)
{
    long long deadline = poll_loop_now_ms() + guard_ms;

    for (;;) {
        if (conn) {
            rpc_conn_run(conn);
        }
        if (cond(aux)) {
            return;
        }
        if (poll_loop_now_ms() >= deadline) {
            fail_msg("gave up waiting for %s", what);
        }
        if (conn) {
            rpc_conn_wait(conn);
        }
        poll_timer_wait(10);
        poll_block();
    }
}

/* ------------------------------------------------------------------ */
/* Helpers. */

/* Every topic a test used, for cleanup_broker(). */
static char *topics[64];
static size_t n_topics;

static char *
topic_name(const char *what)
{
    char *topic = xasprintf("%s.%s", prefix, what);

    if (n_topics < ARRAY_SIZE(topics)) {
        topics[n_topics++] = xstrdup(topic);
    }
    return topic;
}

static struct rpc_conn *
client_open(void)
{
    struct rpc_conn_options opts = { .name = "test-client" };
    struct rpc_conn *conn = NULL;
    struct error *err = rpc_conn_open(url, &opts, &conn);

    if (err) {
        fail_msg("%s", error_message(err));
    }
    return conn;
}

static struct rpc_msg *
add_msg(const char *method, int a, int b)
{
    struct json_object *args = json_object_new_object();

    json_object_object_add(args, "a", json_object_new_int(a));
    json_object_object_add(args, "b", json_object_new_int(b));
    return rpc_msg_new(method, args);
}

static long long
result_sum(struct json_object *result)
{
    struct json_object *sum;

    assert_non_null(result);
    assert_true(json_object_object_get_ex(result, "sum", &sum));
    return json_object_get_int64(sum);
}

/* A raw librabbitmq-c connection to the test vhost, for publishing what
 * the RPC layer would refuse to send and for inspecting queues. */
static amqp_connection_state_t
raw_open(void)
{
    CLEANUP(transport_url_freep) struct transport_url *tu = NULL;
    amqp_connection_state_t c = amqp_new_connection();
    amqp_socket_t *s = amqp_tcp_socket_new(c);
    struct timeval tv = { 5, 0 };
    amqp_rpc_reply_t r;

    assert_null(transport_url_parse(url, &tu));
    assert_int_equal(amqp_socket_open_noblock(s, tu->hosts[0].host,
                                              tu->hosts[0].port, &tv), 0);
    r = amqp_login(c, tu->vhost, 0, 131072, 0, AMQP_SASL_METHOD_PLAIN,
                   tu->hosts[0].user, tu->hosts[0].password);
    assert_int_equal(r.reply_type, AMQP_RESPONSE_NORMAL);
    amqp_channel_open(c, 1);
    assert_int_equal(amqp_get_rpc_reply(c).reply_type, AMQP_RESPONSE_NORMAL);
    return c;
}

static void
raw_close(amqp_connection_state_t c)
{
    amqp_channel_close(c, 1, AMQP_REPLY_SUCCESS);
    amqp_connection_close(c, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(c);
}

static void
raw_publish(amqp_connection_state_t c, const char *queue, const char *body,
            size_t size)
{
    amqp_basic_properties_t p;
    amqp_bytes_t b = { size, (void *) body };

    memset(&p, 0, sizeof p);
    p._flags = AMQP_BASIC_DELIVERY_MODE_FLAG;
    p.delivery_mode = 2;
    assert_int_equal(amqp_basic_publish(c, 1, amqp_empty_bytes,
                                        amqp_cstring_bytes(queue), 0, 0, &p,
                                        b), 0);
}

/* Number of messages ready in 'queue' (which must exist). */
static unsigned int
raw_queue_count(amqp_connection_state_t c, const char *queue)
{
    amqp_queue_declare_ok_t *ok = amqp_queue_declare(
        c, 1, amqp_cstring_bytes(queue), 1, 0, 0, 0, amqp_empty_table);

    assert_non_null(ok);
    return ok->message_count;
}

static char *
encode(const struct rpc_msg *msg, size_t *ret_size)
{
    char *text;

    assert_null(rpc_msg_encode(msg, &text, ret_size));
    return text;
}

/* ------------------------------------------------------------------ */
/* Tests. */

static void
test_call(void **state)
{
    AUTOFREE char *topic = topic_name("call");
    struct server_thread *st = server_start(topic, NULL, false);
    struct rpc_conn *conn = client_open();
    struct rpc_target target = { topic, NULL };

    (void) state;
    for (int i = 0; i < 3; i++) {
        CLEANUP(rpc_msg_freep) struct rpc_msg *msg = add_msg("add", i, 40);
        struct json_object *result = NULL;
        struct error *err = rpc_call(conn, &target, msg, GUARD_MS, &result);

        if (err) {
            fail_msg("%s", error_message(err));
        }
        assert_int_equal(result_sum(result), 40 + i);
        json_object_put(result);
    }

    /* A handler that answers later. */
    {
        CLEANUP(rpc_msg_freep) struct rpc_msg *msg = add_msg("deferred_add",
                                                             5, 6);
        struct json_object *result = NULL;

        rpc_ctx_set_request_id(&msg->ctx, "req-test-deferred");
        assert_null(rpc_call(conn, &target, msg, GUARD_MS, &result));
        assert_int_equal(result_sum(result), 11);
        json_object_put(result);
    }

    /* Arguments refused by the validator come back as the caller's
     * error. */
    {
        CLEANUP(rpc_msg_freep) struct rpc_msg *msg = rpc_msg_new("add",
                                                                 NULL);
        struct json_object *result = NULL;
        CLEANUP(error_freep) struct error *err =
            rpc_call(conn, &target, msg, GUARD_MS, &result);

        assert_non_null(err);
        assert_int_equal(error_kind(err), ERROR_INVALID);
        assert_non_null(strstr(error_message(err), "'a' is a required "
                               "property"));
    }

    rpc_conn_free(conn);
    server_stop(st);
}

static void
test_remote_error_keeps_kind_and_words(void **state)
{
    AUTOFREE char *topic = topic_name("error");
    struct server_thread *st = server_start(topic, NULL, false);
    struct rpc_conn *conn = client_open();
    struct rpc_target target = { topic, NULL };
    struct json_object *args = json_object_new_object();
    CLEANUP(rpc_msg_freep) struct rpc_msg *msg = NULL;
    CLEANUP(error_freep) struct error *err = NULL;
    struct json_object *result = NULL;

    (void) state;
    json_object_object_add(args, "id", json_object_new_string("vm-7"));
    msg = rpc_msg_new("fail", args);
    err = rpc_call(conn, &target, msg, GUARD_MS, &result);
    assert_non_null(err);
    assert_null(result);
    assert_int_equal(error_kind(err), ERROR_NOT_FOUND);
    assert_string_equal(error_message(err),
                        "Instance 'vm-7' could not be found.");
    rpc_conn_free(conn);
    WAIT_STAT(st, failed, 1);
    assert_int_equal(server_stats(st).failed, 1);
    server_stop(st);
}

static bool
records_at_least(void *aux)
{
    void **p = aux;

    return probe_n_records(p[0]) >= (size_t) (uintptr_t) p[1];
}

static void
test_cast(void **state)
{
    enum { N = 20 };
    AUTOFREE char *topic = topic_name("cast");
    struct rpc_conn *conn = client_open();
    struct rpc_target target = { topic, NULL };
    struct server_thread *st;
    char ids[N][RPC_MSG_ID_SIZE];

    (void) state;
    /* Cast before any server exists: the durable queue keeps them. */
    for (int i = 0; i < N; i++) {
        CLEANUP(rpc_msg_freep) struct rpc_msg *msg = rpc_msg_new("record",
                                                                 NULL);

        memcpy(ids[i], msg->msg_id, RPC_MSG_ID_SIZE);
        assert_null(rpc_cast(conn, &target, msg));
    }
    assert_null(rpc_conn_flush(conn, GUARD_MS));
    assert_int_equal(rpc_conn_n_unconfirmed(conn), 0);

    st = server_start(topic, NULL, false);
    {
        void *aux[2] = { &st->probe, (void *) (uintptr_t) N };

        wait_for(NULL, records_at_least, aux, GUARD_MS, "casts");
    }
    for (int i = 0; i < N; i++) {
        assert_int_equal(probe_count(&st->probe, ids[i]), 1);
    }
    rpc_conn_free(conn);
    server_stop(st);
}

struct shared_wait {
    struct server_thread *a;
    struct server_thread *b;
    const char *id;
};

static bool
shared_executed(void *aux)
{
    struct shared_wait *w = aux;
    int n = probe_count(&w->a->probe, w->id) + probe_count(&w->b->probe,
                                                           w->id);

    assert_true(n <= 1);
    return n == 1;
}

static void
test_fanout_and_shared_queue(void **state)
{
    AUTOFREE char *topic = topic_name("fanout");
    struct server_thread *a = server_start(topic, "host-a", true);
    struct server_thread *b = server_start(topic, "host-b", true);
    struct rpc_conn *conn = client_open();
    CLEANUP(rpc_msg_freep) struct rpc_msg *fan = rpc_msg_new("record", NULL);
    CLEANUP(rpc_msg_freep) struct rpc_msg *shared = rpc_msg_new("record",
                                                                NULL);
    CLEANUP(rpc_msg_freep) struct rpc_msg *own = rpc_msg_new("record", NULL);
    struct rpc_target to_topic = { topic, NULL };
    struct rpc_target to_b = { topic, "host-b" };

    (void) state;
    assert_null(rpc_fanout(conn, topic, fan));
    assert_null(rpc_cast(conn, &to_topic, shared));
    assert_null(rpc_cast(conn, &to_b, own));
    assert_null(rpc_conn_flush(conn, GUARD_MS));
    {
        void *aux_a[2] = { &a->probe, (void *) (uintptr_t) 1 };
        void *aux_b[2] = { &b->probe, (void *) (uintptr_t) 2 };

        wait_for(NULL, records_at_least, aux_b, GUARD_MS, "server b");
        wait_for(NULL, records_at_least, aux_a, GUARD_MS, "server a");
    }
    /* Both got the fanout; "host-b" got its own cast. */
    assert_int_equal(probe_count(&a->probe, fan->msg_id), 1);
    assert_int_equal(probe_count(&b->probe, fan->msg_id), 1);
    assert_int_equal(probe_count(&a->probe, own->msg_id), 0);
    assert_int_equal(probe_count(&b->probe, own->msg_id), 1);
    /* Exactly one of them executed the shared-queue cast. */
    {
        struct shared_wait w = { a, b, shared->msg_id };

        wait_for(NULL, shared_executed, &w, GUARD_MS, "the shared cast");
    }
    rpc_conn_free(conn);
    server_stop(a);
    server_stop(b);
}

static void
test_call_timeout_without_server(void **state)
{
    AUTOFREE char *topic = topic_name("nobody");
    struct rpc_conn *conn = client_open();
    struct rpc_target target = { topic, NULL };
    CLEANUP(rpc_msg_freep) struct rpc_msg *msg = add_msg("add", 1, 2);
    CLEANUP(error_freep) struct error *err = NULL;
    struct json_object *result = NULL;
    struct rpc_conn_stats stats;

    (void) state;
    err = rpc_call(conn, &target, msg, 300, &result);
    assert_non_null(err);
    assert_null(result);
    assert_int_equal(error_kind(err), ERROR_TIMEOUT);
    assert_non_null(strstr(error_message(err), "Timed out waiting for a "
                           "reply to 'add' on topic"));
    assert_non_null(strstr(error_message(err), "after 300 ms"));
    rpc_conn_get_stats(conn, &stats);
    assert_int_equal(stats.call_timeouts, 1);
    rpc_conn_free(conn);
}

struct async_reply {
    bool done;
    struct json_object *result;
    struct error *error;
};

static void
async_reply_cb(struct json_object *result, struct error *error, void *aux)
{
    struct async_reply *r = aux;

    r->done = true;
    r->result = result;
    r->error = error;
}

static bool
async_done(void *aux)
{
    return ((struct async_reply *) aux)->done;
}

static void
test_async_call_single_thread(void **state)
{
    AUTOFREE char *topic = topic_name("async");
    AUTOFREE char *nobody = topic_name("async-nobody");
    struct rpc_conn *conn = client_open();
    struct rpc_server *server = NULL;
    struct probe probe;
    struct rpc_server_options opts = {
        .topic = topic, .version = SERVER_VERSION, .methods = test_methods,
        .n_methods = ARRAY_SIZE(test_methods), .aux = &probe,
    };
    struct rpc_target target = { topic, NULL };
    struct rpc_target nowhere = { nobody, NULL };
    CLEANUP(rpc_msg_freep) struct rpc_msg *msg = add_msg("add", 20, 22);
    CLEANUP(rpc_msg_freep) struct rpc_msg *lost = add_msg("add", 1, 1);
    struct async_reply r1 = { 0 }, r2 = { 0 };

    (void) state;
    probe_init(&probe);
    /* Server and caller on one connection, one thread, one loop. */
    assert_null(rpc_server_new(conn, &opts, &server));
    assert_null(rpc_call_async(conn, &target, msg, GUARD_MS, async_reply_cb,
                               &r1));
    assert_null(rpc_call_async(conn, &nowhere, lost, 200, async_reply_cb,
                               &r2));
    /* The callback never runs inside rpc_call_async(). */
    assert_false(r1.done);
    wait_for(conn, async_done, &r1, GUARD_MS, "async reply");
    assert_null(r1.error);
    assert_int_equal(result_sum(r1.result), 42);
    json_object_put(r1.result);

    /* Nothing ever answers the second: it times out from the loop. */
    wait_for(conn, async_done, &r2, GUARD_MS, "async timeout");
    assert_null(r2.result);
    assert_non_null(r2.error);
    assert_int_equal(error_kind(r2.error), ERROR_TIMEOUT);
    error_free(r2.error);

    rpc_server_free(server);
    rpc_conn_free(conn);
    pthread_mutex_destroy(&probe.lock);
}

struct dead_wait {
    amqp_connection_state_t raw;
    const char *queue;
    unsigned int n;
};

static bool
dead_count_reached(void *aux)
{
    struct dead_wait *w = aux;

    return raw_queue_count(w->raw, w->queue) >= w->n;
}

static void
test_bad_messages_are_dead_lettered(void **state)
{
    AUTOFREE char *topic = topic_name("bad");
    AUTOFREE char *dead = xasprintf("%s.dead", topic);
    struct server_thread *st = server_start(topic, NULL, false);
    struct rpc_conn *conn = client_open();
    amqp_connection_state_t raw = raw_open();
    struct rpc_target target = { topic, NULL };
    CLEANUP(rpc_msg_freep) struct rpc_msg *unknown = rpc_msg_new("no_such",
                                                                 NULL);
    CLEANUP(rpc_msg_freep) struct rpc_msg *v2 = add_msg("add", 1, 1);
    CLEANUP(rpc_msg_freep) struct rpc_msg *bad_args = rpc_msg_new("add",
                                                                  NULL);
    AUTOFREE char *huge = xmalloc(RPC_MSG_MAX_SIZE + 2);
    AUTOFREE char *t1 = NULL;
    AUTOFREE char *t2 = NULL;
    AUTOFREE char *t3 = NULL;
    size_t s1, s2, s3;
    struct rpc_server_stats stats;
    const unsigned int n_bad = 6;

    (void) state;
    v2->version.major = 2;
    t1 = encode(unknown, &s1);
    t2 = encode(v2, &s2);
    t3 = encode(bad_args, &s3);
    memset(huge, ' ', RPC_MSG_MAX_SIZE + 1);
    huge[0] = '{';
    huge[RPC_MSG_MAX_SIZE] = '}';

    raw_publish(raw, topic, "this is not JSON", 16);
    raw_publish(raw, topic, "{\"protocol\": 1}", 15);
    raw_publish(raw, topic, huge, RPC_MSG_MAX_SIZE + 1);
    raw_publish(raw, topic, t1, s1);
    raw_publish(raw, topic, t2, s2);
    raw_publish(raw, topic, t3, s3);
    WAIT_STAT(st, rejected, n_bad);
    {
        struct dead_wait w = { raw, dead, n_bad };

        wait_for(NULL, dead_count_reached, &w, GUARD_MS, "dead letters");
    }
    assert_int_equal(raw_queue_count(raw, dead), n_bad);
    assert_int_equal(raw_queue_count(raw, topic), 0);

    /* The server still serves. */
    {
        CLEANUP(rpc_msg_freep) struct rpc_msg *msg = add_msg("add", 2, 3);
        struct json_object *result = NULL;

        assert_null(rpc_call(conn, &target, msg, GUARD_MS, &result));
        assert_int_equal(result_sum(result), 5);
        json_object_put(result);
    }
    WAIT_STAT(st, executed, 1);
    stats = server_stats(st);
    assert_int_equal(stats.rejected, n_bad);
    assert_int_equal(stats.executed, 1);
    assert_int_equal(probe_n_records(&st->probe), 0);

    raw_close(raw);
    rpc_conn_free(conn);
    server_stop(st);
}

static void
test_version_mismatch(void **state)
{
    static const struct {
        unsigned int major, minor;
        bool ok;
    } cases[] = {
        { 1, 0, true }, { 1, 3, true }, { 1, 4, false }, { 2, 0, false },
        { 0, 9, false },
    };
    AUTOFREE char *topic = topic_name("version");
    struct server_thread *st = server_start(topic, NULL, false);
    struct rpc_conn *conn = client_open();
    struct rpc_target target = { topic, NULL };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        CLEANUP(rpc_msg_freep) struct rpc_msg *msg = add_msg("add", 1, 2);
        struct json_object *result = NULL;
        CLEANUP(error_freep) struct error *err = NULL;

        msg->version.major = cases[i].major;
        msg->version.minor = cases[i].minor;
        err = rpc_call(conn, &target, msg, GUARD_MS, &result);
        if (cases[i].ok) {
            assert_null(err);
            assert_int_equal(result_sum(result), 3);
            json_object_put(result);
        } else {
            AUTOFREE char *expected = xasprintf(
                "Requested RPC API version %u.%u of topic '%s' is not "
                "supported (server has 1.3)", cases[i].major,
                cases[i].minor, topic);

            assert_non_null(err);
            assert_int_equal(error_kind(err), ERROR_VERSION);
            assert_string_equal(error_message(err), expected);
        }
    }
    WAIT_STAT(st, rejected, 3);
    WAIT_STAT(st, executed, 2);
    assert_int_equal(server_stats(st).rejected, 3);
    assert_int_equal(server_stats(st).executed, 2);
    rpc_conn_free(conn);
    server_stop(st);
}

static void
test_expired_deadline_not_executed(void **state)
{
    AUTOFREE char *topic = topic_name("expired");
    AUTOFREE char *dead = xasprintf("%s.dead", topic);
    struct server_thread *st = server_start(topic, NULL, false);
    struct rpc_conn *conn = client_open();
    amqp_connection_state_t raw = raw_open();
    CLEANUP(rpc_msg_freep) struct rpc_msg *msg = rpc_msg_new("record", NULL);
    AUTOFREE char *text = NULL;
    size_t size;

    (void) state;
    /* The sender drops an expired cast itself, so publish it raw, as a
     * message that waited in the queue past its deadline would arrive. */
    msg->deadline_ms = time_now_ms() - 1000;
    text = encode(msg, &size);
    raw_publish(raw, topic, text, size);
    WAIT_STAT(st, expired, 1);
    assert_int_equal(probe_count(&st->probe, msg->msg_id), 0);
    assert_int_equal(server_stats(st).executed, 0);
    /* Acked, not dead-lettered. */
    assert_int_equal(raw_queue_count(raw, dead), 0);
    raw_close(raw);
    rpc_conn_free(conn);
    server_stop(st);
}

static void
test_duplicates_executed_once(void **state)
{
    AUTOFREE char *topic = topic_name("dup");
    struct server_thread *st = server_start(topic, NULL, false);
    struct rpc_conn *conn = client_open();
    struct rpc_target target = { topic, NULL };
    CLEANUP(rpc_msg_freep) struct rpc_msg *cast = rpc_msg_new("record",
                                                              NULL);
    CLEANUP(rpc_msg_freep) struct rpc_msg *call = add_msg("add", 7, 8);
    struct rpc_server_stats stats;

    (void) state;
    /* The same cast three times (a caller retrying). */
    for (int i = 0; i < 3; i++) {
        assert_null(rpc_cast(conn, &target, cast));
    }
    assert_null(rpc_conn_flush(conn, GUARD_MS));
    WAIT_STAT(st, received, 3);
    assert_int_equal(probe_count(&st->probe, cast->msg_id), 1);

    /* The same call twice: the second is answered from the cache. */
    for (int i = 0; i < 2; i++) {
        struct json_object *result = NULL;

        assert_null(rpc_call(conn, &target, call, GUARD_MS, &result));
        assert_int_equal(result_sum(result), 15);
        json_object_put(result);
    }
    pthread_mutex_lock(&st->probe.lock);
    assert_int_equal(st->probe.n_adds, 1);
    pthread_mutex_unlock(&st->probe.lock);

    WAIT_STAT(st, received, 5);
    WAIT_STAT(st, duplicates, 3);
    stats = server_stats(st);
    assert_int_equal(stats.received, 5);
    assert_int_equal(stats.executed, 2);
    assert_int_equal(stats.duplicates, 3);
    rpc_conn_free(conn);
    server_stop(st);
}

static void
test_redelivery_after_server_connection_loss(void **state)
{
    AUTOFREE char *topic = topic_name("redeliver");
    struct server_thread *st = server_start(topic, NULL, false);
    struct rpc_conn *conn = client_open();
    struct rpc_target target = { topic, NULL };
    CLEANUP(rpc_msg_freep) struct rpc_msg *msg =
        rpc_msg_new("record_and_drop", NULL);
    struct rpc_server_stats stats;

    (void) state;
    assert_null(rpc_cast(conn, &target, msg));
    assert_null(rpc_conn_flush(conn, GUARD_MS));
    /* Executed, connection dropped before the ack, redelivered after the
     * server reconnected, recognised. */
    WAIT_STAT(st, duplicates, 1);
    stats = server_stats(st);
    assert_int_equal(stats.received, 2);
    assert_int_equal(stats.executed, 1);
    assert_int_equal(probe_count(&st->probe, msg->msg_id), 1);
    pthread_mutex_lock(&st->lock);
    assert_true(st->conn_stats.disconnects >= 1);
    assert_true(st->conn_stats.connects >= 2);
    pthread_mutex_unlock(&st->lock);
    rpc_conn_free(conn);
    server_stop(st);
}

struct idle_wait {
    struct server_thread *st;
    amqp_connection_state_t raw;
    const char *queue;
    unsigned long long n_executed;
};

/* The queue is empty and the server has handled all it received. */
static bool
server_idle(void *aux)
{
    struct idle_wait *w = aux;
    struct rpc_server_stats s = server_stats(w->st);

    return raw_queue_count(w->raw, w->queue) == 0
           && s.executed >= w->n_executed
           && s.received == s.executed + s.duplicates + s.rejected
                            + s.expired;
}

static void
test_republish_after_client_connection_loss(void **state)
{
    enum { N = 10 };
    AUTOFREE char *topic = topic_name("republish");
    struct server_thread *st = server_start(topic, NULL, false);
    struct rpc_conn *conn = client_open();
    amqp_connection_state_t raw = raw_open();
    struct rpc_target target = { topic, NULL };
    char ids[N][RPC_MSG_ID_SIZE];
    struct rpc_conn_stats cstats;
    struct rpc_server_stats stats;

    (void) state;
    for (int i = 0; i < N; i++) {
        CLEANUP(rpc_msg_freep) struct rpc_msg *msg = rpc_msg_new("record",
                                                                 NULL);

        memcpy(ids[i], msg->msg_id, RPC_MSG_ID_SIZE);
        assert_null(rpc_cast(conn, &target, msg));
    }
    /* Published, confirms not read yet: the connection "fails". */
    assert_int_equal(rpc_conn_n_unconfirmed(conn), N);
    rpc_conn_disconnect(conn);
    assert_false(rpc_conn_is_connected(conn));
    assert_null(rpc_conn_flush(conn, GUARD_MS));
    rpc_conn_get_stats(conn, &cstats);
    assert_int_equal(cstats.republished, N);

    {
        struct idle_wait w = { st, raw, topic, N };

        wait_for(NULL, server_idle, &w, GUARD_MS, "an idle server");
    }
    for (int i = 0; i < N; i++) {
        assert_int_equal(probe_count(&st->probe, ids[i]), 1);
    }
    stats = server_stats(st);
    assert_int_equal(stats.executed, N);
    assert_int_equal(stats.received, N + stats.duplicates);
    print_message("# republish: %llu copies of %d casts reached the server, "
                  "%llu recognised as duplicates\n", stats.received, N,
                  stats.duplicates);
    raw_close(raw);
    rpc_conn_free(conn);
    server_stop(st);
}

static void
test_duplicate_while_deferred(void **state)
{
    AUTOFREE char *topic = topic_name("deferred");
    struct server_thread *st = server_start(topic, NULL, false);
    struct rpc_conn *conn = client_open();
    amqp_connection_state_t raw = raw_open();
    struct rpc_target target = { topic, NULL };
    CLEANUP(rpc_msg_freep) struct rpc_msg *msg = add_msg("deferred_drop", 2,
                                                         3);
    struct json_object *result = NULL;
    struct rpc_server_stats stats;

    (void) state;
    /* Handler defers and drops the connection; the request comes back
     * while still pending, takes over the new delivery, and the reply
     * arrives once. */
    assert_null(rpc_call(conn, &target, msg, GUARD_MS, &result));
    assert_int_equal(result_sum(result), 5);
    json_object_put(result);
    WAIT_STAT(st, executed, 1);
    stats = server_stats(st);
    assert_int_equal(stats.duplicates, 1);
    assert_int_equal(stats.executed, 1);
    rpc_conn_free(conn);
    server_stop(st);
    /* Acked with the delivery it took over: nothing went back to the
     * queue when the server closed. */
    assert_int_equal(raw_queue_count(raw, topic), 0);
    raw_close(raw);
}

static void
test_call_survives_client_connection_loss(void **state)
{
    AUTOFREE char *topic = topic_name("callloss");
    struct server_thread *st = server_start(topic, NULL, false);
    struct rpc_conn *conn = client_open();
    struct rpc_target target = { topic, NULL };
    CLEANUP(rpc_msg_freep) struct rpc_msg *msg = add_msg("add", 30, 12);
    struct async_reply r = { 0 };

    (void) state;
    assert_null(rpc_call_async(conn, &target, msg, GUARD_MS, async_reply_cb,
                               &r));
    /* The reply queue dies with the connection; the request goes out
     * again with the new one, and the server answers a repeat from its
     * cache. */
    rpc_conn_disconnect(conn);
    wait_for(conn, async_done, &r, GUARD_MS, "the reply");
    if (r.error) {
        fail_msg("%s", error_message(r.error));
    }
    assert_int_equal(result_sum(r.result), 42);
    json_object_put(r.result);
    WAIT_STAT(st, executed, 1);
    assert_int_equal(server_stats(st).executed, 1);
    pthread_mutex_lock(&st->probe.lock);
    assert_int_equal(st->probe.n_adds, 1);
    pthread_mutex_unlock(&st->probe.lock);
    rpc_conn_free(conn);
    server_stop(st);
}

struct restart_job {
    pthread_t thread;
    int status;
};

static void *
restart_main(void *job_)
{
    struct restart_job *job = job_;

    job->status = test_env_restart("rabbitmq");
    return NULL;
}

static void
test_broker_restart_during_cast_stream(void **state)
{
    AUTOFREE char *topic = topic_name("restart");
    struct server_thread *st = server_start(topic, NULL, false);
    struct rpc_conn *conn = client_open();
    struct rpc_target target = { topic, NULL };
    struct restart_job job = { 0 };
    struct rpc_conn_stats cstats;
    size_t max_count = 0;

    (void) state;
    for (int i = 0; i < RESTART_N_CASTS; i++) {
        CLEANUP(rpc_msg_freep) struct rpc_msg *msg = rpc_msg_new("record",
                                                                 NULL);
        long long next = poll_loop_now_ms() + RESTART_CAST_INTERVAL_MS;

        assert_null(rpc_cast(conn, &target, msg));
        if (i == RESTART_N_CASTS / 5) {
            assert_int_equal(pthread_create(&job.thread, NULL, restart_main,
                                            &job), 0);
        }
        while (poll_loop_now_ms() < next) {
            rpc_conn_run(conn);
            rpc_conn_wait(conn);
            poll_timer_wait_until(next);
            poll_block();
        }
    }
    pthread_join(job.thread, NULL);
    assert_int_equal(job.status, 0);

    assert_null(rpc_conn_flush(conn, RESTART_GUARD_MS));
    {
        void *aux[2] = { &st->probe, (void *) (uintptr_t) RESTART_N_CASTS };

        wait_for(NULL, records_at_least, aux, RESTART_GUARD_MS,
                 "every cast after the restart");
    }
    /* Let redeliveries, if any, arrive before counting. */
    usleep(500 * 1000);
    pthread_mutex_lock(&st->probe.lock);
    for (size_t i = 0; i < st->probe.n_ids; i++) {
        if ((size_t) st->probe.counts[i] > max_count) {
            max_count = st->probe.counts[i];
        }
    }
    assert_int_equal(st->probe.n_ids, RESTART_N_CASTS);
    assert_int_equal(st->probe.n_records, RESTART_N_CASTS);
    pthread_mutex_unlock(&st->probe.lock);
    assert_int_equal(max_count, 1);

    rpc_conn_get_stats(conn, &cstats);
    assert_true(cstats.disconnects >= 1);
    assert_true(cstats.connects >= 2);
    print_message("# restart: client published %llu, republished %llu, "
                  "server duplicates %llu\n", cstats.published,
                  cstats.republished, server_stats(st).duplicates);
    rpc_conn_free(conn);
    server_stop(st);
}

/* A TCP port on 127.0.0.1 that nothing listens on. */
static int
dead_port(void)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof sin;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int port;

    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *) &sin, sizeof sin), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *) &sin, &len), 0);
    port = ntohs(sin.sin_port);
    close(fd);
    return port;
}

static void
test_connect_errors_are_clear(void **state)
{
    int port = test_env_get_port("NOVA_TEST_RABBIT_PORT");
    AUTOFREE char *dead = xasprintf("rabbit://rpctest:rpctestpw@127.0.0.1:%d"
                                    "/rpctest", dead_port());
    AUTOFREE char *bad_pw = xasprintf("rabbit://rpctest:wrongpw@127.0.0.1:%d"
                                      "/rpctest", port);
    AUTOFREE char *bad_vhost = xasprintf("rabbit://rpctest:rpctestpw@"
                                         "127.0.0.1:%d/api", port);
    AUTOFREE char *cluster = xasprintf("rabbit://rpctest:rpctestpw@127.0.0.1"
                                       ":%d,rpctest:rpctestpw@127.0.0.1:%d/"
                                       "rpctest", dead_port(), port);
    const struct {
        const char *url;
        enum error_kind kind;
        const char *words;
    } cases[] = {
        { dead, ERROR_UNAVAILABLE, "Connection refused" },
        { bad_pw, ERROR_UNAUTHORIZED, "refused" },
        { bad_vhost, ERROR_UNAUTHORIZED, "vhost 'api'" },
        { "rabbit://h:99999/", ERROR_INVALID, "bad port" },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct rpc_conn *conn = NULL;
        CLEANUP(error_freep) struct error *err =
            rpc_conn_open(cases[i].url, NULL, &conn);

        assert_null(conn);
        if (!err) {
            fail_msg("row %zu connected", i);
        }
        assert_int_equal(error_kind(err), cases[i].kind);
        if (!strstr(error_message(err), cases[i].words)) {
            fail_msg("row %zu: '%s' lacks '%s'", i, error_message(err),
                     cases[i].words);
        }
        /* Never the password. */
        assert_null(strstr(error_message(err), "rpctestpw"));
        assert_null(strstr(error_message(err), "wrongpw"));
    }

    /* A cluster URL whose first host is down: the second one serves. */
    {
        struct rpc_conn *conn = NULL;
        struct error *err = rpc_conn_open(cluster, NULL, &conn);

        if (err) {
            fail_msg("%s", error_message(err));
        }
        assert_true(rpc_conn_is_connected(conn));
        rpc_conn_free(conn);
    }
}

/* Deletes the queues and exchanges of this run (deleting what does not
 * exist is not an error in RabbitMQ).  The shared "nova.dlx" stays. */
static void
cleanup_broker(void)
{
    static const char *const suffixes[] = {
        "", ".dead", ".host-a", ".host-a.dead", ".host-b", ".host-b.dead",
    };
    amqp_connection_state_t c = raw_open();

    for (size_t i = 0; i < n_topics; i++) {
        AUTOFREE char *exchange = xasprintf("%s_fanout", topics[i]);

        for (size_t j = 0; j < ARRAY_SIZE(suffixes); j++) {
            AUTOFREE char *queue = xasprintf("%s%s", topics[i], suffixes[j]);

            amqp_queue_delete(c, 1, amqp_cstring_bytes(queue), 0, 0);
        }
        amqp_exchange_delete(c, 1, amqp_cstring_bytes(exchange), 0);
        free(topics[i]);
    }
    n_topics = 0;
    raw_close(c);
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connect_errors_are_clear),
        cmocka_unit_test(test_call),
        cmocka_unit_test(test_remote_error_keeps_kind_and_words),
        cmocka_unit_test(test_cast),
        cmocka_unit_test(test_fanout_and_shared_queue),
        cmocka_unit_test(test_call_timeout_without_server),
        cmocka_unit_test(test_async_call_single_thread),
        cmocka_unit_test(test_bad_messages_are_dead_lettered),
        cmocka_unit_test(test_version_mismatch),
        cmocka_unit_test(test_expired_deadline_not_executed),
        cmocka_unit_test(test_duplicates_executed_once),
        cmocka_unit_test(test_redelivery_after_server_connection_loss),
        cmocka_unit_test(test_republish_after_client_connection_loss),
        cmocka_unit_test(test_duplicate_while_deferred),
        cmocka_unit_test(test_call_survives_client_connection_loss),
        cmocka_unit_test(test_broker_restart_during_cast_stream),
    };
    char id[UUID_STRING_SIZE];
    int status;
    int port;

    test_env_require(argc, argv, "rabbitmq");
    if (!strstr(test_env_get("NOVA_TEST_CELLS"), TEST_RPC_VHOST)
        && test_env_add_cell(TEST_RPC_VHOST)) {
        fprintf(stderr, "test-rpc: cannot add vhost '%s'\n", TEST_RPC_VHOST);
        return 1;
    }
    port = test_env_get_port("NOVA_TEST_RABBIT_PORT");
    snprintf(url, sizeof url, "rabbit://%s:%spw@127.0.0.1:%d/%s",
             TEST_RPC_VHOST, TEST_RPC_VHOST, port, TEST_RPC_VHOST);
    uuid_generate_string(id);
    snprintf(prefix, sizeof prefix, "t-%.8s", id);
    if (!getenv("NOVA_TEST_RPC_VERBOSE")) {
        /* The tests provoke warnings on purpose (bad messages, lost
         * connections); keep the TAP output readable. */
        (void) log_set_levels("err");
    }
    status = cmocka_run_group_tests_name("rpc", tests, NULL, NULL);
    cleanup_broker();
    return status;
}
