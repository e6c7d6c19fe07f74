/* bench-cell-hops.c: round trips of targeted cell requests through
 * RabbitMQ, one and two hops down the tree.
 *
 * Three cells run in this process, each on its own vhost of the test
 * broker (admin credentials, as in tests/integration/test-cell-routing.c):
 *
 *     api --- region1 --- leaf1
 *
 * and the API cell sends "ping" to region1 (1 hop down, 1 back) and to
 * leaf1 (2 down, 2 back).  Each hop is a confirmed, persistent cast from a
 * link thread to the next cell's queue.  For each distance it measures
 *   - sequential: one request at a time: round trips per second and the
 *     latency distribution;
 *   - pipelined: 'window' requests in flight: round trips per second.
 *
 * Usage: bench-cell-hops [COUNT [WINDOW]]   (defaults 2000 and 32)
 * Without NOVA_TEST_STATE_DIR it starts private servers through
 * deploy/devservers, like the integration tests. */
#include <config.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>

#include "cells-rpc/cell-links.h"
#include "cells-rpc/cell-msg.h"
#include "cells-rpc/cell-node.h"
#include "shared/cleanup.h"
#include "shared/error.h"
#include "shared/log.h"
#include "shared/poll-loop.h"
#include "shared/uuid-util.h"
#include "shared/xalloc.h"
#include "tests/integration/test-env.h"

#define BENCH_DEFAULT_COUNT 2000
#define BENCH_DEFAULT_WINDOW 32
#define BENCH_MAX_COUNT 1000000
#define BENCH_MAX_WINDOW 1000
#define BENCH_TIMEOUT_MS 30000
#define BENCH_WARMUP 50

struct bench_cell {
    const char *name;
    const char *path;
    const char *parent;
    const char *child;
    struct cell_node *node;
};

static struct bench_cell cells[] = {
    { "api", "api", NULL, "region1" },
    { "region1", "api!region1", "api", "leaf1" },
    { "leaf1", "api!region1!leaf1", "region1", NULL },
};

static char *topic;
static unsigned long n_done;
static unsigned long n_failed;
static long long *latencies;            /* Microseconds, per request. */

struct bench_request {
    long long start_us;
    unsigned long index;
};

static long long
now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static void
die(const char *what, struct error *error)
{
    fprintf(stderr, "bench-cell-hops: %s: %s\n", what,
            error ? error_message(error) : "failed");
    exit(EXIT_FAILURE);
}

static char *
vhost_url(const char *vhost)
{
    CLEANUP(test_env_url_freep) struct test_env_url *admin =
        test_env_url_parse(test_env_get("NOVA_TEST_RABBIT_ADMIN_URL"));

    return xasprintf("rabbit://%s:%s@%s:%d/%s", admin->user,
                     admin->password, admin->host, admin->port, vhost);
}

static struct error *
method_ping(struct cell_request *req, void *aux,
            struct json_object **ret_result)
{
    (void) req;
    (void) aux;
    *ret_result = json_object_new_object();
    return NULL;
}

static const struct cell_method methods[] = {
    { "ping", method_ping },
};

static void
start_cell(struct bench_cell *cell)
{
    AUTOFREE char *url = vhost_url(cell->name);
    AUTOFREE char *parent_url = cell->parent ? vhost_url(cell->parent)
                                : NULL;
    AUTOFREE char *child_url = cell->child ? vhost_url(cell->child) : NULL;
    AUTOFREE char *node_id = xasprintf("bench-%s", cell->name);
    struct cell_node_child child = { cell->child, child_url };
    struct cell_node_options options = {
        .path = cell->path,
        .url = url,
        .parent_url = parent_url,
        .children = &child,
        .n_children = cell->child ? 1 : 0,
        .node_id = node_id,
        .topic = topic,
        .methods = methods,
        .n_methods = ARRAY_SIZE(methods),
    };
    struct error *error = cell_node_new(&options, &cell->node);

    if (error) {
        die(cell->path, error);
    }
}

static void
on_reply(struct cell_reply *reply, void *req_)
{
    struct bench_request *req = req_;

    if (reply->error || reply->n_items != 1 || reply->items[0].error) {
        n_failed++;
    }
    if (latencies) {
        latencies[req->index] = now_us() - req->start_us;
    }
    n_done++;
    cell_reply_free(reply);
    free(req);
}

static void
send_ping(const char *target, unsigned long index)
{
    struct bench_request *req = xzalloc(sizeof *req);
    struct cell_msg *msg = NULL;
    struct error *error = cell_msg_new_targeted("api", target, "ping", NULL,
                                                &msg);

    if (error) {
        die("request", error);
    }
    req->start_us = now_us();
    req->index = index;
    error = cell_node_send(cells[0].node, msg, BENCH_TIMEOUT_MS, on_reply,
                           req);
    if (error) {
        die("send", error);
    }
}

/* Runs every cell once; sleeps in poll_block() unless a request completed
 * (then the caller has more to send at once). */
static void
run_once(void)
{
    unsigned long done = n_done;

    for (size_t i = 0; i < ARRAY_SIZE(cells); i++) {
        cell_node_run(cells[i].node);
    }
    if (n_done != done) {
        return;
    }
    for (size_t i = 0; i < ARRAY_SIZE(cells); i++) {
        cell_node_wait(cells[i].node);
    }
    poll_block();
}

/* Sends 'count' requests to 'target' with at most 'window' in flight;
 * returns the elapsed time in microseconds. */
static long long
run_batch(const char *target, unsigned long count, unsigned long window)
{
    unsigned long sent = 0;
    long long start = now_us();

    n_done = 0;
    n_failed = 0;
    while (n_done < count) {
        while (sent < count && sent - n_done < window) {
            send_ping(target, sent++);
        }
        run_once();
    }
    if (n_failed) {
        fprintf(stderr, "bench-cell-hops: %lu of %lu requests failed\n",
                n_failed, count);
        exit(EXIT_FAILURE);
    }
    return now_us() - start;
}

static int
compare_ll(const void *a_, const void *b_)
{
    long long a = *(const long long *) a_;
    long long b = *(const long long *) b_;

    return (a > b) - (a < b);
}

static void
bench_target(const char *label, const char *target, unsigned long count,
             unsigned long window)
{
    long long elapsed;
    long long sum = 0;

    /* Warm up: queues declared, connections busy. */
    (void) run_batch(target, BENCH_WARMUP, 1);

    latencies = xcalloc(count, sizeof *latencies);
    elapsed = run_batch(target, count, 1);
    for (unsigned long i = 0; i < count; i++) {
        sum += latencies[i];
    }
    qsort(latencies, count, sizeof *latencies, compare_ll);
    printf("%-22s sequential: %8.0f round trips/s  latency mean %6.0f us  "
           "p50 %6lld us  p99 %6lld us  max %6lld us\n", label,
           count * 1e6 / (double) elapsed, (double) sum / (double) count,
           latencies[count / 2], latencies[count * 99 / 100],
           latencies[count - 1]);
    free(latencies);
    latencies = NULL;

    elapsed = run_batch(target, count, window);
    printf("%-22s window %4lu: %8.0f round trips/s\n", label, window,
           count * 1e6 / (double) elapsed);
}

static unsigned long
parse_count(const char *arg, unsigned long max)
{
    char *end;
    unsigned long value = strtoul(arg, &end, 10);

    if (*end || !value || value > max) {
        fprintf(stderr, "bench-cell-hops: '%s' is not a number from 1 to "
                "%lu\n", arg, max);
        exit(EXIT_FAILURE);
    }
    return value;
}

int
main(int argc, char **argv)
{
    unsigned long count = BENCH_DEFAULT_COUNT;
    unsigned long window = BENCH_DEFAULT_WINDOW;
    char run_id[UUID_STRING_SIZE];

    test_env_require(argc, argv, "rabbitmq");
    if (argc > 1) {
        count = parse_count(argv[1], BENCH_MAX_COUNT);
    }
    if (argc > 2) {
        window = parse_count(argv[2], BENCH_MAX_WINDOW);
    }
    (void) log_set_levels("warn");

    uuid_generate_string(run_id);
    run_id[8] = '\0';
    topic = xasprintf("bench-%s", run_id);
    for (size_t i = 0; i < ARRAY_SIZE(cells); i++) {
        start_cell(&cells[i]);
    }
    for (size_t i = 0; i < ARRAY_SIZE(cells); i++) {
        if (!cell_links_wait_up(cell_node_links(cells[i].node),
                                BENCH_TIMEOUT_MS)) {
            die("links", NULL);
        }
    }

    printf("cell request/response round trips, %lu requests each, "
           "loopback broker\n", count);
    bench_target("1 hop (api->region1)", "api!region1", count, window);
    bench_target("2 hops (api->leaf1)", "api!region1!leaf1", count, window);

    for (size_t i = ARRAY_SIZE(cells); i-- > 0; ) {
        cell_node_free(cells[i].node);
    }
    free(topic);
    return 0;
}
