/* bench-rpc.c: RPC throughput and latency against a real broker.
 *
 *     tests/bench/bench-rpc TRANSPORT_URL [N]
 *
 * A server runs in its own thread with its own connection (as a daemon
 * would); the main thread measures, on loopback:
 *   - N blocking call round trips, one at a time: calls/s, mean, p50, p99
 *     and worst latency;
 *   - N async calls with up to BENCH_WINDOW in flight: calls/s;
 *   - N confirmed casts (persistent, durable queue), all in flight, then
 *     rpc_conn_flush(): confirmed casts/s, and how long until the server
 *     had executed them all;
 *   - BENCH_SYNC_CASTS casts each flushed before the next (one confirm
 *     round trip per cast): casts/s.
 * Queues are named after a random prefix and deleted at the end. */
#include <config.h>

#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>

#include "cells-rpc/rpc.h"
#include "cells-rpc/rpc-msg.h"
#include "cells-rpc/rpc-server.h"
#include "cells-rpc/transport-url.h"
#include "shared/error.h"
#include "shared/log.h"
#include "shared/poll-loop.h"
#include "shared/uuid-util.h"
#include "shared/xalloc.h"

#define BENCH_DEFAULT_N 10000
#define BENCH_MAX_N 10000000
/* Async calls in flight at once. */
#define BENCH_WINDOW 64
/* Casts confirmed one by one (slow: a disk sync each). */
#define BENCH_SYNC_CASTS 500
/* Longest wait for any one phase, in milliseconds. */
#define BENCH_GUARD_MS 600000

static atomic_ulong n_recorded;

static struct error *
handle_echo(struct rpc_request *req, void *aux,
            struct json_object **ret_result)
{
    (void) aux;
    *ret_result = json_object_get(rpc_request_msg(req)->args);
    return NULL;
}

static struct error *
handle_record(struct rpc_request *req, void *aux,
              struct json_object **ret_result)
{
    (void) req;
    (void) aux;
    (void) ret_result;
    atomic_fetch_add(&n_recorded, 1);
    return NULL;
}

static const struct rpc_method bench_methods[] = {
    { "echo", handle_echo, NULL },
    { "record", handle_record, NULL },
};

struct server_thread {
    pthread_t thread;
    const char *url;
    const char *topic;
    int stop_pipe[2];
    atomic_int state;           /* 0 starting, 1 serving, -1 failed. */
};

static void *
server_main(void *st_)
{
    struct server_thread *st = st_;
    struct rpc_server_options opts = {
        .topic = st->topic, .version = "1.0", .methods = bench_methods,
        .n_methods = ARRAY_SIZE(bench_methods),
    };
    struct rpc_conn *conn = NULL;
    struct rpc_server *server = NULL;
    struct error *err = rpc_conn_open(st->url, NULL, &conn);

    if (!err) {
        err = rpc_server_new(conn, &opts, &server);
    }
    if (err) {
        fprintf(stderr, "bench-rpc: server: %s\n", error_message(err));
        error_free(err);
        rpc_conn_free(conn);
        atomic_store(&st->state, -1);
        return NULL;
    }
    atomic_store(&st->state, 1);
    for (;;) {
        struct pollfd pfd = { st->stop_pipe[0], POLLIN, 0 };

        rpc_conn_run(conn);
        if (poll(&pfd, 1, 0) > 0) {
            break;
        }
        rpc_conn_wait(conn);
        poll_fd_wait(st->stop_pipe[0], POLLIN);
        poll_block();
    }
    rpc_server_free(server);
    rpc_conn_free(conn);
    return NULL;
}

static int
compare_ll(const void *a, const void *b)
{
    long long x = *(const long long *) a, y = *(const long long *) b;

    return x < y ? -1 : x > y;
}

static long long
now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
die_on(struct error *err, const char *what)
{
    if (err) {
        fprintf(stderr, "bench-rpc: %s: %s\n", what, error_message(err));
        exit(1);
    }
}

static struct rpc_msg *
echo_msg(long i)
{
    struct json_object *args = json_object_new_object();

    json_object_object_add(args, "i", json_object_new_int64(i));
    json_object_object_add(args, "instance",
                           json_object_new_string("vm-bench"));
    return rpc_msg_new("echo", args);
}

static void
bench_blocking_calls(struct rpc_conn *conn, const struct rpc_target *target,
                     long n)
{
    long long *lat = xcalloc(n, sizeof *lat);
    long long t0 = now_us(), total = 0;

    for (long i = 0; i < n; i++) {
        struct rpc_msg *msg = echo_msg(i);
        struct json_object *result = NULL;
        long long s = now_us();

        die_on(rpc_call(conn, target, msg, 10000, &result), "call");
        lat[i] = now_us() - s;
        total += lat[i];
        json_object_put(result);
        rpc_msg_free(msg);
    }
    double secs = (now_us() - t0) / 1e6;

    qsort(lat, n, sizeof *lat, compare_ll);
    printf("blocking calls: %ld round trips in %.2f s: %.0f calls/s; "
           "latency mean %.1f us, p50 %lld us, p99 %lld us, max %lld us\n",
           n, secs, n / secs, (double) total / n, lat[n / 2],
           lat[(long) (n * 0.99) < n ? (long) (n * 0.99) : n - 1],
           lat[n - 1]);
    free(lat);
}

struct async_state {
    long in_flight;
    long done;
    long failed;
};

static void
async_cb(struct json_object *result, struct error *error, void *aux)
{
    struct async_state *s = aux;

    s->in_flight--;
    s->done++;
    if (error) {
        s->failed++;
    }
    json_object_put(result);
    error_free(error);
}

static void
bench_async_calls(struct rpc_conn *conn, const struct rpc_target *target,
                  long n)
{
    struct async_state s = { 0, 0, 0 };
    long sent = 0;
    long long t0 = now_us();

    while (s.done < n) {
        while (sent < n && s.in_flight < BENCH_WINDOW) {
            struct rpc_msg *msg = echo_msg(sent);

            die_on(rpc_call_async(conn, target, msg, 10000, async_cb, &s),
                   "async call");
            rpc_msg_free(msg);
            s.in_flight++;
            sent++;
        }
        rpc_conn_run(conn);
        /* Sleep only when the window is full (or all are sent): replies
         * handled by the run may have made room already. */
        if (s.done < n && (s.in_flight >= BENCH_WINDOW || sent >= n)) {
            rpc_conn_wait(conn);
            poll_block();
        }
    }
    double secs = (now_us() - t0) / 1e6;

    printf("async calls (%d in flight): %ld in %.2f s: %.0f calls/s "
           "(%ld failed)\n", BENCH_WINDOW, n, secs, n / secs, s.failed);
}

static void
bench_casts(struct rpc_conn *conn, const struct rpc_target *target, long n)
{
    unsigned long before = atomic_load(&n_recorded);
    long long t0 = now_us(), t_confirmed, t_executed;
    long sent = 0;

    while (sent < n) {
        /* Keep the outbox below its bound; run to read confirms. */
        while (sent < n && rpc_conn_n_unconfirmed(conn) < RPC_OUTBOX_MAX / 2) {
            struct rpc_msg *msg = rpc_msg_new("record", NULL);

            die_on(rpc_cast(conn, target, msg), "cast");
            rpc_msg_free(msg);
            sent++;
        }
        rpc_conn_run(conn);
    }
    die_on(rpc_conn_flush(conn, BENCH_GUARD_MS), "flush");
    t_confirmed = now_us();
    while (atomic_load(&n_recorded) - before < (unsigned long) n) {
        if (now_us() - t0 > BENCH_GUARD_MS * 1000LL) {
            fprintf(stderr, "bench-rpc: casts not all executed\n");
            exit(1);
        }
        usleep(1000);
    }
    t_executed = now_us();
    printf("confirmed casts (pipelined): %ld in %.2f s: %.0f casts/s "
           "confirmed; all executed by the server after %.2f s (%.0f/s)\n",
           n, (t_confirmed - t0) / 1e6, n / ((t_confirmed - t0) / 1e6),
           (t_executed - t0) / 1e6, n / ((t_executed - t0) / 1e6));

    long m = n < BENCH_SYNC_CASTS ? n : BENCH_SYNC_CASTS;

    t0 = now_us();
    for (long i = 0; i < m; i++) {
        struct rpc_msg *msg = rpc_msg_new("record", NULL);

        die_on(rpc_cast(conn, target, msg), "cast");
        rpc_msg_free(msg);
        die_on(rpc_conn_flush(conn, BENCH_GUARD_MS), "flush");
    }
    double secs = (now_us() - t0) / 1e6;

    printf("confirmed casts (one at a time): %ld in %.2f s: %.0f casts/s\n",
           m, secs, m / secs);
}

/* Deletes the bench's queues and exchange with a raw connection. */
static void
cleanup_queues(const char *url, const char *topic)
{
    struct transport_url *tu = NULL;
    struct error *err = transport_url_parse(url, &tu);
    amqp_connection_state_t c;
    amqp_socket_t *s;
    struct timeval tv = { 5, 0 };
    char dead[256];

    if (err) {
        error_free(err);
        return;
    }
    c = amqp_new_connection();
    s = amqp_tcp_socket_new(c);
    if (!amqp_socket_open_noblock(s, tu->hosts[0].host, tu->hosts[0].port,
                                  &tv)
        && amqp_login(c, tu->vhost, 0, 131072, 0, AMQP_SASL_METHOD_PLAIN,
                      tu->hosts[0].user, tu->hosts[0].password).reply_type
           == AMQP_RESPONSE_NORMAL) {
        amqp_channel_open(c, 1);
        snprintf(dead, sizeof dead, "%s.dead", topic);
        amqp_queue_delete(c, 1, amqp_cstring_bytes(topic), 0, 0);
        amqp_queue_delete(c, 1, amqp_cstring_bytes(dead), 0, 0);
        amqp_channel_close(c, 1, AMQP_REPLY_SUCCESS);
        amqp_connection_close(c, AMQP_REPLY_SUCCESS);
    }
    amqp_destroy_connection(c);
    transport_url_free(tu);
}

int
main(int argc, char **argv)
{
    struct server_thread st;
    struct rpc_conn *conn = NULL;
    char id[UUID_STRING_SIZE], topic[64];
    struct rpc_target target = { topic, NULL };
    long n = BENCH_DEFAULT_N;
    char c = 'q';

    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s TRANSPORT_URL [N]\n", argv[0]);
        return 2;
    }
    if (argc == 3) {
        char *end;

        n = strtol(argv[2], &end, 10);
        if (*end || n < 1 || n > BENCH_MAX_N) {
            fprintf(stderr, "bench-rpc: N must be 1 to %d\n", BENCH_MAX_N);
            return 2;
        }
    }
    (void) log_set_levels("err");
    uuid_generate_string(id);
    snprintf(topic, sizeof topic, "bench-%.8s", id);

    memset(&st, 0, sizeof st);
    st.url = argv[1];
    st.topic = topic;
    if (pipe(st.stop_pipe) || pthread_create(&st.thread, NULL, server_main,
                                             &st)) {
        perror("bench-rpc");
        return 1;
    }
    while (!atomic_load(&st.state)) {
        usleep(1000);
    }
    if (atomic_load(&st.state) < 0) {
        return 1;
    }
    die_on(rpc_conn_open(argv[1], NULL, &conn), "connect");
    printf("bench-rpc: %s, topic '%s', N = %ld\n", rpc_conn_url(conn), topic,
           n);

    bench_blocking_calls(conn, &target, n);
    bench_async_calls(conn, &target, n);
    bench_casts(conn, &target, n);

    rpc_conn_free(conn);
    if (write(st.stop_pipe[1], &c, 1) != 1) {
        perror("bench-rpc");
    }
    pthread_join(st.thread, NULL);
    cleanup_queues(argv[1], topic);
    return 0;
}
