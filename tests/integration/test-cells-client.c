/* test-cells-client.c: nova-api's client of nova-cells against a real
 * RabbitMQ.
 *
 * A server thread plays nova-cells of the API cell: it consumes
 * CELLS_LOCAL_TOPIC on a vhost of its own and records the casts it gets
 * ("record") and answers calls ("echo").  Then:
 *
 *   - a cast arrives;
 *   - many casts from several threads at once all succeed and all
 *     arrive; the rate is reported as a TAP comment;
 *   - a call gets its reply, its callback runs once;
 *   - a call to a vhost where nobody listens times out, its callback runs
 *     once; one still waiting when the client is freed gets
 *     ERROR_UNAVAILABLE;
 *   - with the broker stopped, a cast fails with ERROR_UNAVAILABLE within
 *     its timeout and a call likewise; a client started while the broker
 *     is down (as nova-api may be) works once the broker is back.
 *
 * Every cast carries this run's id, so messages left in the durable queue
 * by an earlier run are told apart. */
#include <config.h>

#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "api-cell/cells-client.h"
#include "cells-rpc/cells-rpcapi.h"
#include "cells-rpc/rpc-ctx.h"
#include "cells-rpc/rpc-msg.h"
#include "cells-rpc/rpc-server.h"
#include "cells-rpc/rpc.h"
#include "shared/cleanup.h"
#include "shared/error.h"
#include "shared/poll-loop.h"
#include "shared/timeutil.h"
#include "shared/uuid-util.h"
#include "shared/xalloc.h"
#include "tests/integration/test-env.h"

/* The vhosts: one with a server, one where nobody listens. */
#define TEST_CELL "cellsclient"
#define TEST_NOBODY_CELL "cellsnobody"

/* Concurrent casts: threads and casts per thread. */
#define CONCURRENT_THREADS 8
#define CONCURRENT_CASTS 250
#define N_IDS (CONCURRENT_THREADS * CONCURRENT_CASTS + 100)

/* Longest wait for something that should happen, in milliseconds. */
#define GUARD_MS 30000

static struct {
    char run[UUID_STRING_SIZE];
    char *url;
    char *nobody_url;
} t;

/* ---- The server (nova-cells) ------------------------------------------ */

struct server {
    pthread_t thread;
    int stop_pipe[2];
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool ready;
    char *start_error;
    unsigned char seen[N_IDS];  /* times each cast id arrived */
    size_t n_seen;              /* distinct ids */
};

static struct server *server;

static void
check(struct error *error, const char *what)
{
    if (error) {
        fail_msg("%s: %s", what, error_message(error));
    }
}

static struct error *
handle_record(struct rpc_request *req, void *aux,
              struct json_object **ret_result)
{
    struct server *s = aux;
    const struct json_object *args = rpc_request_msg(req)->args;
    const char *run = json_object_get_string(
        json_object_object_get(args, "run"));
    int64_t id = json_object_get_int64(json_object_object_get(args, "id"));

    (void) ret_result;
    if (!run || strcmp(run, t.run) || id < 0 || id >= N_IDS) {
        return NULL;            /* An earlier run's. */
    }
    pthread_mutex_lock(&s->lock);
    if (!s->seen[id]++) {
        s->n_seen++;
    }
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

static struct error *
handle_echo(struct rpc_request *req, void *aux,
            struct json_object **ret_result)
{
    (void) aux;
    *ret_result = json_object_get(rpc_request_msg(req)->args);
    return NULL;
}

static const struct rpc_method server_methods[] = {
    { "record", handle_record, NULL },
    { "echo", handle_echo, NULL },
};

static void
server_set_ready(struct server *s, char *error)
{
    pthread_mutex_lock(&s->lock);
    s->ready = true;
    s->start_error = error;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

static void *
server_main(void *s_)
{
    struct server *s = s_;
    struct rpc_server_options opts = {
        .topic = CELLS_LOCAL_TOPIC,
        .version = CELLS_RPC_VERSION,
        .methods = server_methods,
        .n_methods = ARRAY_SIZE(server_methods),
        .aux = s,
    };
    struct rpc_conn_options copts = { .name = "test-nova-cells" };
    struct rpc_conn *conn = NULL;
    struct rpc_server *rpc_server = NULL;
    struct error *error;

    error = rpc_conn_open(t.url, &copts, &conn);
    if (!error) {
        error = rpc_server_new(conn, &opts, &rpc_server);
    }
    if (error) {
        server_set_ready(s, xstrdup(error_message(error)));
        error_free(error);
        rpc_conn_free(conn);
        return NULL;
    }
    server_set_ready(s, NULL);
    for (;;) {
        struct pollfd pfd = { s->stop_pipe[0], POLLIN, 0 };

        rpc_conn_run(conn);
        if (poll(&pfd, 1, 0) > 0) {
            break;
        }
        rpc_conn_wait(conn);
        poll_fd_wait(s->stop_pipe[0], POLLIN);
        poll_block();
    }
    rpc_server_free(rpc_server);
    rpc_conn_free(conn);
    return NULL;
}

static struct server *
server_start(void)
{
    struct server *s = xzalloc(sizeof *s);

    assert_int_equal(pipe(s->stop_pipe), 0);
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    assert_int_equal(pthread_create(&s->thread, NULL, server_main, s), 0);
    pthread_mutex_lock(&s->lock);
    while (!s->ready) {
        pthread_cond_wait(&s->cond, &s->lock);
    }
    pthread_mutex_unlock(&s->lock);
    if (s->start_error) {
        fail_msg("server did not start: %s", s->start_error);
    }
    return s;
}

static void
server_stop(struct server *s)
{
    char c = 'q';

    if (!s) {
        return;
    }
    assert_int_equal(write(s->stop_pipe[1], &c, 1), 1);
    pthread_join(s->thread, NULL);
    close(s->stop_pipe[0]);
    close(s->stop_pipe[1]);
    free(s->start_error);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cond);
    free(s);
}

/* Waits until the server has seen cast 'id' (or, with 'id' < 0, 'n'
 * distinct casts). */
static void
server_wait_seen(struct server *s, int id, size_t n)
{
    long long deadline = time_monotonic_ms() + GUARD_MS;

    pthread_mutex_lock(&s->lock);
    while (id >= 0 ? !s->seen[id] : s->n_seen < n) {
        pthread_mutex_unlock(&s->lock);
        if (time_monotonic_ms() > deadline) {
            fail_msg("the server did not get cast %d (%zu seen)", id,
                     s->n_seen);
        }
        usleep(10 * 1000);
        pthread_mutex_lock(&s->lock);
    }
    pthread_mutex_unlock(&s->lock);
}

/* ---- Helpers --------------------------------------------------------- */

static struct json_object *
record_args(int id)
{
    struct json_object *args = json_object_new_object();

    json_object_object_add(args, "run", json_object_new_string(t.run));
    json_object_object_add(args, "id", json_object_new_int(id));
    return args;
}

static struct error *
cast_record(struct cells_client *client, int id, int timeout_ms)
{
    struct rpc_ctx ctx;
    struct error *error;

    rpc_ctx_init(&ctx);
    rpc_ctx_set_request_id(&ctx, "req-00000000-0000-0000-0000-000000000001");
    rpc_ctx_set_user(&ctx, "user-a", "project-a");
    error = cells_client_cast(client, &ctx, "record", record_args(id),
                              timeout_ms);
    rpc_ctx_destroy(&ctx);
    return error;
}

/* Where a call's callback leaves its outcome. */
struct reply_box {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int n_calls;
    struct json_object *result;
    enum error_kind kind;
    char *message;              /* NULL: success */
};

static void
reply_box_init(struct reply_box *box)
{
    memset(box, 0, sizeof *box);
    pthread_mutex_init(&box->lock, NULL);
    pthread_cond_init(&box->cond, NULL);
}

static void
reply_box_destroy(struct reply_box *box)
{
    json_object_put(box->result);
    free(box->message);
    pthread_mutex_destroy(&box->lock);
    pthread_cond_destroy(&box->cond);
}

static void
reply_cb(struct json_object *result, const struct error *error, void *box_)
{
    struct reply_box *box = box_;

    pthread_mutex_lock(&box->lock);
    box->n_calls++;
    if (error) {
        box->kind = error_kind(error);
        box->message = xstrdup(error_message(error));
    } else {
        box->result = json_object_get(result);
    }
    pthread_cond_broadcast(&box->cond);
    pthread_mutex_unlock(&box->lock);
}

/* Waits for the callback; returns the milliseconds it took. */
static long long
reply_wait(struct reply_box *box)
{
    long long start = time_monotonic_ms();

    pthread_mutex_lock(&box->lock);
    while (!box->n_calls) {
        pthread_mutex_unlock(&box->lock);
        if (time_monotonic_ms() - start > GUARD_MS + 60000) {
            fail_msg("the callback never ran");
        }
        usleep(5 * 1000);
        pthread_mutex_lock(&box->lock);
    }
    pthread_mutex_unlock(&box->lock);
    return time_monotonic_ms() - start;
}

/* ---- Setup ----------------------------------------------------------- */

static char *
vhost_url(const char *cell)
{
    return xasprintf("rabbit://%s:%spw@127.0.0.1:%d/%s", cell, cell,
                     test_env_get_port("NOVA_TEST_RABBIT_PORT"), cell);
}

static int
group_setup(void **state)
{
    (void) state;
    uuid_generate_string(t.run);
    assert_int_equal(test_env_add_cell(TEST_CELL), 0);
    assert_int_equal(test_env_add_cell(TEST_NOBODY_CELL), 0);
    t.url = vhost_url(TEST_CELL);
    t.nobody_url = vhost_url(TEST_NOBODY_CELL);
    server = server_start();
    return 0;
}

static int
group_teardown(void **state)
{
    (void) state;
    server_stop(server);
    free(t.url);
    free(t.nobody_url);
    return 0;
}

/* ---- Tests ----------------------------------------------------------- */

static void
test_bad_url(void **state)
{
    struct cells_client *client = NULL;
    struct error *error;

    (void) state;
    error = cells_client_new("http://nowhere/", &client);
    assert_non_null(error);
    assert_int_equal(error_kind(error), ERROR_INVALID);
    error_free(error);
    cells_client_free(NULL);
}

static void
test_cast_arrives(void **state)
{
    CLEANUP(cells_client_freep) struct cells_client *client = NULL;

    (void) state;
    check(cells_client_new(t.url, &client), "new");
    check(cast_record(client, 0, GUARD_MS), "cast");
    server_wait_seen(server, 0, 0);
}

struct cast_job {
    pthread_t thread;
    struct cells_client *client;
    int first_id;
    int n_failed;
};

static void *
cast_main(void *job_)
{
    struct cast_job *job = job_;

    for (int i = 0; i < CONCURRENT_CASTS; i++) {
        struct error *error = cast_record(job->client, job->first_id + i,
                                          GUARD_MS);

        if (error) {
            fprintf(stderr, "cast %d: %s\n", job->first_id + i,
                    error_message(error));
            error_free(error);
            job->n_failed++;
        }
    }
    return NULL;
}

static void
test_concurrent_casts(void **state)
{
    CLEANUP(cells_client_freep) struct cells_client *client = NULL;
    struct cast_job jobs[CONCURRENT_THREADS];
    long long start, elapsed;
    size_t base;

    (void) state;
    check(cells_client_new(t.url, &client), "new");
    /* Connected first, so the rate measures casts, not the login. */
    check(cast_record(client, 1, GUARD_MS), "first cast");
    server_wait_seen(server, 1, 0);
    pthread_mutex_lock(&server->lock);
    base = server->n_seen;
    pthread_mutex_unlock(&server->lock);

    start = time_monotonic_ms();
    for (int i = 0; i < CONCURRENT_THREADS; i++) {
        jobs[i].client = client;
        jobs[i].first_id = 100 + i * CONCURRENT_CASTS;
        jobs[i].n_failed = 0;
        assert_int_equal(pthread_create(&jobs[i].thread, NULL, cast_main,
                                        &jobs[i]), 0);
    }
    for (int i = 0; i < CONCURRENT_THREADS; i++) {
        pthread_join(jobs[i].thread, NULL);
        assert_int_equal(jobs[i].n_failed, 0);
    }
    elapsed = time_monotonic_ms() - start;
    print_message("# %d confirmed casts from %d threads in %lld ms "
                  "(%.0f per second)\n",
                  CONCURRENT_THREADS * CONCURRENT_CASTS, CONCURRENT_THREADS,
                  elapsed, CONCURRENT_THREADS * CONCURRENT_CASTS * 1000.0
                  / (double) (elapsed ? elapsed : 1));
    server_wait_seen(server, -1,
                     base + CONCURRENT_THREADS * CONCURRENT_CASTS);
    pthread_mutex_lock(&server->lock);
    for (int i = 100; i < 100 + CONCURRENT_THREADS * CONCURRENT_CASTS;
         i++) {
        assert_int_equal(server->seen[i], 1);
    }
    pthread_mutex_unlock(&server->lock);
}

static void
test_call_reply(void **state)
{
    CLEANUP(cells_client_freep) struct cells_client *client = NULL;
    struct json_object *args = json_object_new_object();
    struct reply_box box;

    (void) state;
    reply_box_init(&box);
    json_object_object_add(args, "x", json_object_new_int(42));
    check(cells_client_new(t.url, &client), "new");
    check(cells_client_call(client, NULL, "echo", args, GUARD_MS, reply_cb,
                            &box), "call");
    reply_wait(&box);
    assert_null(box.message);
    assert_int_equal(json_object_get_int(
        json_object_object_get(box.result, "x")), 42);
    cells_client_free(TAKE_PTR(client));
    assert_int_equal(box.n_calls, 1);
    reply_box_destroy(&box);
}

static void
test_call_to_nobody(void **state)
{
    struct cells_client *client = NULL;
    struct reply_box box, late;
    long long took;

    (void) state;
    reply_box_init(&box);
    reply_box_init(&late);
    check(cells_client_new(t.nobody_url, &client), "new");
    check(cells_client_call(client, NULL, "echo", NULL, 1500, reply_cb,
                            &box), "call");
    took = reply_wait(&box);
    assert_non_null(box.message);
    assert_true(box.kind == ERROR_TIMEOUT);
    assert_true(took < 1500 + 3000);

    /* One still waiting when the client goes. */
    check(cells_client_call(client, NULL, "echo", NULL, 60000, reply_cb,
                            &late), "call");
    usleep(200 * 1000);
    cells_client_free(client);
    assert_int_equal(late.n_calls, 1);
    assert_int_equal(late.kind, ERROR_UNAVAILABLE);
    usleep(100 * 1000);
    assert_int_equal(box.n_calls, 1);
    reply_box_destroy(&box);
    reply_box_destroy(&late);
}

static void
test_broker_down(void **state)
{
    CLEANUP(cells_client_freep) struct cells_client *client = NULL;
    CLEANUP(cells_client_freep) struct cells_client *late_client = NULL;
    struct reply_box box;
    struct error *error;
    long long start, took;

    (void) state;
    reply_box_init(&box);
    check(cells_client_new(t.url, &client), "new");
    check(cast_record(client, 2, GUARD_MS), "cast before");
    server_wait_seen(server, 2, 0);

    assert_int_equal(test_env_stop("rabbitmq"), 0);

    /* A cast fails within its timeout (plus the client's own connect
     * timeout at most), never hangs. */
    start = time_monotonic_ms();
    error = cast_record(client, 3, 2000);
    took = time_monotonic_ms() - start;
    assert_non_null(error);
    assert_int_equal(error_kind(error), ERROR_UNAVAILABLE);
    assert_non_null(strstr(error_message(error),
                           "nova-cells of the API cell is unreachable"));
    print_message("# cast with the broker down: '%s' after %lld ms\n",
                  error_message(error), took);
    error_free(error);
    assert_true(took < 2000 + 2500);

    /* A call likewise. */
    check(cells_client_call(client, NULL, "echo", NULL, 2000, reply_cb,
                            &box), "call");
    took = reply_wait(&box);
    assert_int_equal(box.n_calls, 1);
    assert_non_null(box.message);
    assert_true(box.kind == ERROR_UNAVAILABLE || box.kind == ERROR_TIMEOUT);
    assert_true(took < 2000 + 2500);

    /* nova-api starting now: the client starts, casts fail. */
    check(cells_client_new(t.url, &late_client), "new while down");
    start = time_monotonic_ms();
    error = cast_record(late_client, 4, 1000);
    took = time_monotonic_ms() - start;
    assert_non_null(error);
    assert_int_equal(error_kind(error), ERROR_UNAVAILABLE);
    error_free(error);
    assert_true(took < 1000 + 2500);

    assert_int_equal(test_env_start("rabbitmq"), 0);

    /* Both clients work again once they have reconnected. */
    check(cast_record(late_client, 5, GUARD_MS), "cast after start");
    check(cast_record(client, 6, GUARD_MS), "cast after restart");
    server_wait_seen(server, 5, 0);
    server_wait_seen(server, 6, 0);
    pthread_mutex_lock(&server->lock);
    assert_int_equal(server->seen[3], 0);   /* Never left nova-api. */
    assert_int_equal(server->seen[4], 0);
    pthread_mutex_unlock(&server->lock);
    reply_box_destroy(&box);
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_url),
        cmocka_unit_test(test_cast_arrives),
        cmocka_unit_test(test_concurrent_casts),
        cmocka_unit_test(test_call_reply),
        cmocka_unit_test(test_call_to_nobody),
        cmocka_unit_test(test_broker_down),
    };

    test_env_require(argc, argv, "mariadb,rabbitmq");
    return cmocka_run_group_tests_name("cells-client", tests, group_setup,
                                       group_teardown);
}
