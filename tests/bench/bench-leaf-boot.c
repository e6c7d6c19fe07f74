/* bench-leaf-boot.c: how fast a leaf cell boots instances through
 * nova-conductor and nova-scheduler.
 *
 * One process runs, each in its own thread with its own connections, as
 * the daemons would:
 *
 *   - a scheduler service (child-cell/scheduler-service.h);
 *   - a conductor (child-cell/conductor-service.h);
 *   - M fake compute hosts that answer build_and_run_instance at once
 *     with instance_update (active), so the figures are those of the
 *     conductor, the scheduler, the database and the broker, not of a
 *     hypervisor.
 *
 * The main thread casts build_instances for N instances, BATCH per
 * request, and waits until every instance is active.  It prints the
 * instances made active per second, and the scheduler's decisions (one
 * per request) with their mean and worst time.
 *
 * Usage: bench-leaf-boot [N [M [BATCH]]]   (defaults 1000, 50 and 1)
 * Without NOVA_TEST_STATE_DIR it starts private servers through
 * deploy/devservers, like the integration tests.  Build it without
 * sanitizers for meaningful figures. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>

#include "cells-rpc/rpc-msg.h"
#include "cells-rpc/rpc-server.h"
#include "cells-rpc/rpc.h"
#include "child-cell/conductor-service.h"
#include "child-cell/rpcapi.h"
#include "child-cell/scheduler-service.h"
#include "shared/cleanup.h"
#include "shared/db-migrate.h"
#include "shared/db.h"
#include "shared/error.h"
#include "shared/flavor.h"
#include "shared/json-util.h"
#include "shared/log.h"
#include "shared/poll-loop.h"
#include "shared/timeutil.h"
#include "shared/uuid-util.h"
#include "shared/xalloc.h"
#include "tests/integration/test-env.h"

#define BENCH_DEFAULT_N 1000
#define BENCH_DEFAULT_HOSTS 50
#define BENCH_DEFAULT_BATCH 1
#define BENCH_MAX_N 100000
#define BENCH_MAX_HOSTS 1000
#define BENCH_MAX_BATCH 1000
/* Longest wait for anything; only turns a hang into a failure. */
#define BENCH_GUARD_MS 600000
#define BENCH_POLL_MS 10
/* Hosts are big enough for every instance of the run. */
#define BENCH_HOST_VCPUS 1024
#define BENCH_HOST_MEMORY_MB (1024 * 1024)
#define BENCH_HOST_DISK_GB 100000
#define BENCH_REFRESH_MS 1000
#define BENCH_NS_PER_US 1000

static char cell[32];
static char *rabbit_url;
static char *db_url;
static unsigned long n_hosts = BENCH_DEFAULT_HOSTS;

static void NORETURN
die(const char *what, struct error *error)
{
    fprintf(stderr, "bench-leaf-boot: %s: %s\n", what,
            error ? error_message(error) : "failed");
    exit(1);
}

static unsigned long
parse_count(const char *s, unsigned long max)
{
    char *end;
    unsigned long n;

    errno = 0;
    n = strtoul(s, &end, 10);
    if (errno || end == s || *end || n < 1 || n > max) {
        fprintf(stderr, "bench-leaf-boot: '%s' is not a count from 1 to "
                "%lu\n", s, max);
        exit(2);
    }
    return n;
}

/* ---- A service loop in a thread ---------------------------------------- */

enum bench_role { BENCH_SCHEDULER, BENCH_CONDUCTOR, BENCH_COMPUTES };

struct bench_thread {
    enum bench_role role;
    pthread_t thread;
    int stop_pipe[2];
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool ready;
    bool stop;
    /* Copied from the service after each iteration (under 'lock'). */
    struct scheduler_service_stats sched_stats;
    struct conductor_stats cond_stats;
    unsigned long n_updates;
    unsigned long n_update_errors;
    /* Thread only. */
    struct rpc_conn *conn;
};

static void
bench_thread_ready(struct bench_thread *t)
{
    pthread_mutex_lock(&t->lock);
    t->ready = true;
    pthread_cond_broadcast(&t->cond);
    pthread_mutex_unlock(&t->lock);
}

static bool
bench_thread_stopping(struct bench_thread *t)
{
    bool stop;

    pthread_mutex_lock(&t->lock);
    stop = t->stop;
    pthread_mutex_unlock(&t->lock);
    return stop;
}

/* The fake compute hosts: build_and_run_instance -> instance_update. */

static void
bench_update_done(struct json_object *result, struct error *error, void *aux)
{
    struct bench_thread *t = aux;

    json_object_put(result);
    pthread_mutex_lock(&t->lock);
    if (error) {
        t->n_update_errors++;
    } else {
        t->n_updates++;
    }
    pthread_mutex_unlock(&t->lock);
    error_free(error);
}

static struct error *
bench_build(struct rpc_request *req, void *aux,
            struct json_object **ret_result)
{
    struct bench_thread *t = aux;
    const struct rpc_msg *msg = rpc_request_msg(req);
    struct json_object *inst = json_object_object_get(msg->args, "instance");
    struct json_object *args = json_object_new_object();
    struct json_object *updates = json_object_new_object();
    struct json_object *expected = json_object_new_array();
    const struct rpc_target target = { CONDUCTOR_TOPIC, NULL };
    char now[TIME_ISO8601_SIZE];
    struct error *error;

    (void) ret_result;
    if (time_format_iso8601(time_now_ms(), TIME_STYLE_MICROS, now,
                            sizeof now)) {
        now[0] = '\0';
    }
    json_object_object_add(args, "instance_uuid", json_object_get(
                               json_object_object_get(inst, "uuid")));
    json_object_object_add(updates, "vm_state",
                           json_object_new_string("active"));
    json_object_object_add(updates, "task_state", NULL);
    json_object_object_add(updates, "power_state", json_object_new_int(1));
    json_object_object_add(updates, "launched_at",
                           json_object_new_string(now));
    json_object_array_add(expected, json_object_new_string("scheduling"));
    json_object_object_add(args, "updates", updates);
    json_object_object_add(args, "expected_task_state", expected);

    CLEANUP(rpc_msg_freep) struct rpc_msg *call
        = rpc_msg_new(CONDUCTOR_INSTANCE_UPDATE, args);
    error = rpc_call_async(t->conn, &target, call, BENCH_GUARD_MS,
                           bench_update_done, t);
    if (error) {
        bench_update_done(NULL, error, t);
    }
    return NULL;
}

static const struct rpc_method bench_compute_methods[] = {
    { COMPUTE_BUILD_AND_RUN_INSTANCE, bench_build, NULL },
};

/* Casts 'method' with 'args' (taken) to the conductor. */
static void
bench_cast(struct rpc_conn *conn, const char *method,
           struct json_object *args)
{
    CLEANUP(rpc_msg_freep) struct rpc_msg *msg = rpc_msg_new(method, args);
    const struct rpc_target target = { CONDUCTOR_TOPIC, NULL };
    struct error *error = rpc_cast(conn, &target, msg);

    if (error) {
        die(method, error);
    }
}

static char *
bench_host_name(unsigned long i)
{
    return xasprintf("%s-cmp%04lu", cell, i);
}

static void
bench_register_hosts(struct rpc_conn *conn)
{
    for (unsigned long i = 0; i < n_hosts; i++) {
        AUTOFREE char *host = bench_host_name(i);
        struct json_object *hb = json_object_new_object();
        struct json_object *node = json_object_new_object();
        struct json_object *inv = json_object_new_object();

        json_object_object_add(hb, "host", json_object_new_string(host));
        json_object_object_add(hb, "binary",
                               json_object_new_string("nova-compute"));
        json_object_object_add(hb, "topic",
                               json_object_new_string(COMPUTE_TOPIC));
        bench_cast(conn, CONDUCTOR_SERVICE_HEARTBEAT, hb);

        json_object_object_add(inv, "vcpus",
                               json_object_new_int(BENCH_HOST_VCPUS));
        json_object_object_add(inv, "memory_mb",
                               json_object_new_int(BENCH_HOST_MEMORY_MB));
        json_object_object_add(inv, "local_gb",
                               json_object_new_int(BENCH_HOST_DISK_GB));
        json_object_object_add(inv, "hypervisor_type",
                               json_object_new_string("QEMU"));
        json_object_object_add(node, "host", json_object_new_string(host));
        json_object_object_add(node, "node", json_object_new_string(host));
        json_object_object_add(node, "inventory", inv);
        bench_cast(conn, CONDUCTOR_COMPUTE_NODE_UPDATE, node);
    }
}

static void
bench_run_computes(struct bench_thread *t)
{
    struct rpc_server **servers = xcalloc(n_hosts, sizeof *servers);
    AUTOFREE char **names = xcalloc(n_hosts, sizeof *names);
    struct error *error;

    error = rpc_conn_open(rabbit_url, NULL, &t->conn);
    if (error) {
        die("compute connection", error);
    }
    for (unsigned long i = 0; i < n_hosts; i++) {
        names[i] = bench_host_name(i);

        const struct rpc_server_options options = {
            .topic = COMPUTE_TOPIC,
            .server = names[i],
            .version = COMPUTE_RPC_VERSION,
            .methods = bench_compute_methods,
            .n_methods = ARRAY_SIZE(bench_compute_methods),
            .aux = t,
        };
        error = rpc_server_new(t->conn, &options, &servers[i]);
        if (error) {
            die(names[i], error);
        }
    }
    bench_register_hosts(t->conn);
    bench_thread_ready(t);
    while (!bench_thread_stopping(t)) {
        rpc_conn_run(t->conn);
        rpc_conn_wait(t->conn);
        poll_fd_wait(t->stop_pipe[0], POLLIN);
        poll_block();
    }
    poll_loop_reset();
    for (unsigned long i = 0; i < n_hosts; i++) {
        rpc_server_free(servers[i]);
        free(names[i]);
    }
    free(servers);
    rpc_conn_free(t->conn);
}

static void
bench_run_scheduler(struct bench_thread *t)
{
    CLEANUP(scheduler_service_freep) struct scheduler_service *svc = NULL;
    const struct scheduler_service_config config = {
        .transport_url = rabbit_url,
        .database_url = db_url,
        .host = "bench-scheduler",
        .refresh_interval_ms = BENCH_REFRESH_MS,
    };
    struct error *error = scheduler_service_new(&config, &svc);

    if (error) {
        die("scheduler", error);
    }
    bench_thread_ready(t);
    while (!bench_thread_stopping(t)) {
        scheduler_service_run(svc);
        pthread_mutex_lock(&t->lock);
        scheduler_service_get_stats(svc, &t->sched_stats);
        pthread_mutex_unlock(&t->lock);
        scheduler_service_wait(svc);
        poll_fd_wait(t->stop_pipe[0], POLLIN);
        poll_block();
    }
    poll_loop_reset();
}

static void
bench_run_conductor(struct bench_thread *t)
{
    CLEANUP(conductor_freep) struct conductor *cond = NULL;
    const struct conductor_config config = {
        .transport_url = rabbit_url,
        .database_url = db_url,
        .host = "bench-conductor",
    };
    struct error *error = conductor_new(&config, &cond);

    if (error) {
        die("conductor", error);
    }
    bench_thread_ready(t);
    while (!bench_thread_stopping(t)) {
        conductor_run(cond);
        pthread_mutex_lock(&t->lock);
        conductor_get_stats(cond, &t->cond_stats);
        pthread_mutex_unlock(&t->lock);
        conductor_wait(cond);
        poll_fd_wait(t->stop_pipe[0], POLLIN);
        poll_block();
    }
    poll_loop_reset();
}

static void *
bench_thread_main(void *aux)
{
    struct bench_thread *t = aux;

    switch (t->role) {
    case BENCH_SCHEDULER:
        bench_run_scheduler(t);
        break;
    case BENCH_CONDUCTOR:
        bench_run_conductor(t);
        break;
    case BENCH_COMPUTES:
        bench_run_computes(t);
        break;
    }
    return NULL;
}

static void
bench_thread_start(struct bench_thread *t, enum bench_role role)
{
    memset(t, 0, sizeof *t);
    t->role = role;
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->cond, NULL);
    if (pipe2(t->stop_pipe, O_CLOEXEC | O_NONBLOCK)
        || pthread_create(&t->thread, NULL, bench_thread_main, t)) {
        die("thread", NULL);
    }
    pthread_mutex_lock(&t->lock);
    while (!t->ready) {
        pthread_cond_wait(&t->cond, &t->lock);
    }
    pthread_mutex_unlock(&t->lock);
}

static void
bench_thread_stop(struct bench_thread *t)
{
    pthread_mutex_lock(&t->lock);
    t->stop = true;
    pthread_mutex_unlock(&t->lock);
    if (write(t->stop_pipe[1], "x", 1) != 1) {
        die("stop", NULL);
    }
    pthread_join(t->thread, NULL);
    close(t->stop_pipe[0]);
    close(t->stop_pipe[1]);
    pthread_cond_destroy(&t->cond);
    pthread_mutex_destroy(&t->lock);
}

/* ---- The run ----------------------------------------------------------- */

static int64_t
bench_count(struct db *db, const char *vm_state)
{
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    struct error *error = db_query(
        db, "SELECT COUNT(*) FROM instances WHERE deleted = 0"
        " AND vm_state = ? AND task_state IS NULL",
        DB_PARAMS(DB_STR(vm_state)), &rows);

    if (error) {
        die("count", error);
    }
    return db_rows_get_int64(rows, 0, 0);
}

/* build_instances for 'n' new instances of a small flavor. */
static struct json_object *
bench_build_args(size_t n)
{
    CLEANUP(flavor_freep) struct flavor *f = flavor_new("1", "m1.tiny");
    struct json_object *args = json_object_new_object();
    struct json_object *spec = json_object_new_object();
    struct json_object *instances = json_object_new_array();

    f->vcpus = 1;
    f->memory_mb = 512;
    f->root_gb = 1;
    json_object_object_add(spec, "flavor", flavor_to_json(f));
    json_object_object_add(spec, "num_instances",
                           json_object_new_int64((int64_t) n));
    for (size_t i = 0; i < n; i++) {
        struct json_object *inst = json_object_new_object();
        char uuid[UUID_STRING_SIZE];

        uuid_generate_string(uuid);
        json_object_object_add(inst, "uuid", json_object_new_string(uuid));
        json_object_object_add(inst, "project_id",
                               json_object_new_string("bench"));
        json_object_object_add(inst, "user_id",
                               json_object_new_string("bench"));
        json_object_object_add(inst, "flavor", flavor_to_json(f));
        json_object_object_add(inst, "vm_state",
                               json_object_new_string("building"));
        json_object_array_add(instances, inst);
    }
    json_object_object_add(args, "spec", spec);
    json_object_object_add(args, "instances", instances);
    return args;
}

int
main(int argc, char **argv)
{
    unsigned long n = BENCH_DEFAULT_N;
    unsigned long batch = BENCH_DEFAULT_BATCH;
    struct bench_thread scheduler, conductor, computes;
    CLEANUP(test_env_url_freep) struct test_env_url *rabbit = NULL;
    CLEANUP(db_closep) struct db *db = NULL;
    struct rpc_conn *conn = NULL;
    struct scheduler_service_stats ss;
    struct conductor_stats cs;
    struct error *error;
    long long start, deadline, elapsed;

    test_env_require(argc, argv, "mariadb,rabbitmq");
    if (argc > 1) {
        n = parse_count(argv[1], BENCH_MAX_N);
    }
    if (argc > 2) {
        n_hosts = parse_count(argv[2], BENCH_MAX_HOSTS);
    }
    if (argc > 3) {
        batch = parse_count(argv[3], BENCH_MAX_BATCH);
    }
    (void) log_set_levels("warn");
    db_library_init();

    snprintf(cell, sizeof cell, "bench%ld", (long) getpid());
    if (test_env_add_cell(cell)) {
        die("cell", NULL);
    }
    rabbit = test_env_url_parse(test_env_get("NOVA_TEST_RABBIT_ADMIN_URL"));
    rabbit_url = xasprintf("rabbit://%s:%spw@%s:%d/%s", cell, cell,
                           rabbit->host, rabbit->port, cell);
    db_url = xasprintf("%snova_%s", test_env_get("NOVA_TEST_MYSQL_ADMIN_URL"),
                       cell);
    if ((error = db_open(db_url, &db))
        || (error = db_migrate(db, DB_SCHEMA_CELL, NULL, NULL))
        || (error = rpc_conn_open(rabbit_url, NULL, &conn))) {
        die("setup", error);
    }

    bench_thread_start(&conductor, BENCH_CONDUCTOR);
    bench_thread_start(&computes, BENCH_COMPUTES);
    bench_thread_start(&scheduler, BENCH_SCHEDULER);
    /* Wait until the scheduler knows every host. */
    deadline = poll_loop_now_ms() + BENCH_GUARD_MS;
    do {
        usleep(BENCH_POLL_MS * 1000);
        pthread_mutex_lock(&scheduler.lock);
        ss = scheduler.sched_stats;
        pthread_mutex_unlock(&scheduler.lock);
        if (poll_loop_now_ms() > deadline) {
            die("the scheduler never saw the hosts", NULL);
        }
    } while (ss.n_hosts < n_hosts);

    start = poll_loop_now_ms();
    for (unsigned long sent = 0; sent < n; sent += batch) {
        size_t k = n - sent < batch ? n - sent : batch;
        CLEANUP(rpc_msg_freep) struct rpc_msg *msg
            = rpc_msg_new(CONDUCTOR_BUILD_INSTANCES, bench_build_args(k));
        const struct rpc_target target = { CONDUCTOR_TOPIC, NULL };

        if ((error = rpc_cast(conn, &target, msg))) {
            die("build_instances", error);
        }
    }
    if ((error = rpc_conn_flush(conn, BENCH_GUARD_MS))) {
        die("flush", error);
    }
    while (bench_count(db, "active") + bench_count(db, "error")
           < (int64_t) n) {
        if (poll_loop_now_ms() - start > BENCH_GUARD_MS) {
            die("the instances never became active", NULL);
        }
        usleep(BENCH_POLL_MS * 1000);
    }
    elapsed = poll_loop_now_ms() - start;

    pthread_mutex_lock(&scheduler.lock);
    ss = scheduler.sched_stats;
    pthread_mutex_unlock(&scheduler.lock);
    pthread_mutex_lock(&conductor.lock);
    cs = conductor.cond_stats;
    pthread_mutex_unlock(&conductor.lock);

    printf("leaf-cell boot: %lu instances on %lu fake hosts, %lu per "
           "build_instances request, loopback MariaDB and RabbitMQ\n",
           n, n_hosts, batch);
    printf("  active:    %" PRId64 " of %lu (%" PRId64 " in error) after "
           "%lld ms: %.0f instances/s\n", bench_count(db, "active"), n,
           bench_count(db, "error"), elapsed,
           elapsed ? 1000.0 * (double) n / (double) elapsed : 0.0);
    printf("  scheduler: %" PRIu64 " decisions for %" PRIu64 " instances, "
           "mean %.1f us, max %.1f us per decision\n", ss.requests,
           ss.instances,
           ss.requests ? (double) ss.decision_ns_total
                         / (double) ss.requests / BENCH_NS_PER_US : 0.0,
           (double) ss.decision_ns_max / BENCH_NS_PER_US);
    printf("  conductor: %" PRIu64 " placed, %" PRIu64 " claims lost, "
           "%" PRIu64 " set to error\n", cs.instances_placed,
           cs.claims_lost, cs.build_errors);

    bench_thread_stop(&scheduler);
    bench_thread_stop(&computes);
    bench_thread_stop(&conductor);
    rpc_conn_free(conn);
    AUTOFREE char *drop = xasprintf("DROP DATABASE IF EXISTS nova_%s", cell);
    error_free(db_exec_once(db, drop, DB_NO_PARAMS, NULL));
    db_close(TAKE_PTR(db));
    free(rabbit_url);
    free(db_url);
    db_library_end();
    return 0;
}
