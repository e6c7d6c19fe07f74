/* test-compute.c: nova-compute against a real RabbitMQ and libvirt's test
 * driver.
 *
 * The compute manager (child-cell/compute-manager.h) runs in-process on
 * its own thread, exactly as nova-compute's main loop runs it, serving
 * three simulated hosts (child-cell/virt-sim-hosts.h) that the test owns:
 * their domains survive a restart of the manager, as a real hypervisor's
 * survive a restart of nova-compute.  The last test runs the nova-compute
 * binary itself as a child process.
 *
 * The test plays nova-conductor: a thread with its own connection serves
 * topic "conductor" on the same vhost, keeps a small instance table
 * (instance_update with expected_task_state, instance_get,
 * instances_on_host) and records every message compute sends, as JSON
 * text, for the test thread to look at.  The test thread casts to
 * compute.<host> on a third connection, as the real conductor would.
 *
 * Host names start with a prefix unique to the run, so queues and records
 * left by an earlier run never match.  Waiting loops poll with generous
 * bounds that only turn a hang into a failure; no assertion is about
 * speed. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <libvirt/libvirt.h>

#include "cells-rpc/rpc-msg.h"
#include "cells-rpc/rpc-server.h"
#include "cells-rpc/rpc.h"
#include "child-cell/compute-events.h"
#include "child-cell/compute-manager.h"
#include "child-cell/compute-spec.h"
#include "child-cell/rpcapi.h"
#include "child-cell/virt-driver.h"
#include "child-cell/virt-libvirt.h"
#include "child-cell/virt-sim-hosts.h"
#include "shared/error.h"
#include "shared/json-util.h"
#include "shared/log.h"
#include "shared/poll-loop.h"
#include "shared/uuid-util.h"
#include "shared/xalloc.h"
#include "tests/integration/test-env.h"

#ifndef TEST_COMPUTE_BUILDDIR
#define TEST_COMPUTE_BUILDDIR "."
#endif

/* The cell whose vhost and user (NAME / NAMEpw) the tests use. */
#define TEST_VHOST "leaf3"

/* Longest wait for something that takes milliseconds when all is well. */
#define GUARD_MS 60000
/* Interval of the waiting loops. */
#define POLL_MS 10
/* Iteration period of the fake conductor's loop when idle. */
#define FAKE_TICK_MS 20

#define FAKE_MAX_INSTANCES 64
#define FAKE_MAX_HELD 16

#define N_HOSTS 3
#define SIM_VCPUS 8
#define SIM_MEMORY_MB 16384
#define SIM_DISK_GB 100

/* Timing of the manager under test: short, so that retries and periodic
 * tasks happen within a test. */
#define TEST_HEARTBEAT_MS 1000
#define TEST_SYNC_MS 2000
#define TEST_CALL_TIMEOUT_MS 2000
#define TEST_RETRY_MIN_MS 500
#define TEST_RETRY_MAX_MS 1000
#define TEST_MAX_ATTEMPTS 30
#define TEST_BOOT_TIMEOUT_MS 2000
#define TEST_BOOT_MARKER "GUEST-BOOTED"

static char url[256];
static char prefix[16];
static char state_dir[256];
static char instances_dir[300];
static struct virt_sim_hosts *sim;

static const char *
host_name(size_t i)
{
    return virt_sim_hosts_name(sim, i);
}

static struct virt_driver *
host_driver(size_t i)
{
    return virt_sim_hosts_driver(sim, i);
}

/* ------------------------------------------------------------------ */
/* The fake conductor. */

struct fake_record {
    char *method;
    char *args;                 /* Compact JSON. */
};

struct fake_instance {
    char uuid[UUID_STRING_SIZE];
    struct json_object *obj;    /* INSTANCE; touched under 'lock' only. */
    bool deleted;
};

struct fake {
    pthread_mutex_t lock;       /* Guards everything below but 'thread'. */
    struct fake_record *records;
    size_t n_records;
    size_t max_records;
    struct fake_instance instances[FAKE_MAX_INSTANCES];
    size_t n_instances;
    char hold_uuid[UUID_STRING_SIZE];   /* Hold its final update. */
    struct rpc_request *held[FAKE_MAX_HELD];
    size_t n_held;
    bool release_held;
    bool want_serving;
    bool serving;
    bool stop;
    bool failed;
    unsigned long long expired; /* Expired messages, every server so far. */
    pthread_t thread;
};

static struct fake fake;

/* Under 'lock'. */
static void
fake_record(const struct rpc_msg *msg)
{
    if (fake.n_records == fake.max_records) {
        fake.max_records = fake.max_records ? 2 * fake.max_records : 256;
        fake.records = xreallocarray(fake.records, fake.max_records,
                                     sizeof *fake.records);
    }
    fake.records[fake.n_records].method = xstrdup(msg->method);
    fake.records[fake.n_records].args = json_to_string_plain(msg->args);
    fake.n_records++;
}

/* Under 'lock'. */
static struct fake_instance *
fake_find(const char *uuid)
{
    for (size_t i = 0; i < fake.n_instances; i++) {
        if (!strcmp(fake.instances[i].uuid, uuid)
            && !fake.instances[i].deleted) {
            return &fake.instances[i];
        }
    }
    return NULL;
}

/* A deep copy of 'obj' (NULL for NULL), for the conductor thread, which
 * must not use cmocka's assertions. */
static struct json_object *
deep_copy(struct json_object *obj)
{
    struct json_object *copy = NULL;

    if (obj && json_object_deep_copy(obj, &copy, NULL)) {
        abort();
    }
    return copy;
}

static const char *
arg_string(const struct rpc_msg *msg, const char *key)
{
    return json_object_get_string(json_object_object_get(msg->args, key));
}

static struct error *
fake_handle_update(struct rpc_request *req, void *aux,
                   struct json_object **ret_result)
{
    const struct rpc_msg *msg = rpc_request_msg(req);
    const char *uuid = arg_string(msg, "instance_uuid");
    struct json_object *updates = json_object_object_get(msg->args,
                                                         "updates");
    struct json_object *expected = NULL;
    struct fake_instance *inst;
    struct error *error = NULL;

    (void) aux;
    pthread_mutex_lock(&fake.lock);
    fake_record(msg);
    inst = fake_find(uuid ? uuid : "");
    if (!inst) {
        error = error_new(ERROR_NOT_FOUND, "Instance %s could not be "
                          "found.", uuid ? uuid : "");
        goto out;
    }
    if (json_object_object_get_ex(msg->args, "expected_task_state",
                                  &expected)) {
        const char *task = json_object_get_string(
            json_object_object_get(inst->obj, "task_state"));
        bool match = false;

        for (size_t i = 0; i < json_object_array_length(expected); i++) {
            const char *e = json_object_get_string(
                json_object_array_get_idx(expected, i));

            if ((!e && !task) || (e && task && !strcmp(e, task))) {
                match = true;
            }
        }
        if (!match) {
            error = error_new(ERROR_CONFLICT, "Conflict updating instance "
                              "%s. Actual task state: %s", uuid,
                              task ? task : "None");
            goto out;
        }
    }
    if (!strcmp(fake.hold_uuid, uuid)
        && json_object_object_get(updates, "launched_at")
        && fake.n_held < FAKE_MAX_HELD) {
        rpc_request_defer(req);
        fake.held[fake.n_held++] = req;
        goto out;
    }
    json_object_object_foreach(updates, key, value) {
        json_object_object_add(inst->obj, key, deep_copy(value));
    }
    json_object_object_add(inst->obj, "update_seq", json_object_new_int64(
        json_object_get_int64(json_object_object_get(inst->obj,
                                                     "update_seq")) + 1));
    *ret_result = deep_copy(inst->obj);
out:
    pthread_mutex_unlock(&fake.lock);
    return error;
}

static struct error *
fake_handle_get(struct rpc_request *req, void *aux,
                struct json_object **ret_result)
{
    const struct rpc_msg *msg = rpc_request_msg(req);
    const char *uuid = arg_string(msg, "instance_uuid");
    struct fake_instance *inst;
    struct error *error = NULL;

    (void) aux;
    pthread_mutex_lock(&fake.lock);
    fake_record(msg);
    inst = fake_find(uuid ? uuid : "");
    if (inst) {
        *ret_result = deep_copy(inst->obj);
    } else {
        error = error_new(ERROR_NOT_FOUND, "Instance %s could not be "
                          "found.", uuid ? uuid : "");
    }
    pthread_mutex_unlock(&fake.lock);
    return error;
}

static struct error *
fake_handle_on_host(struct rpc_request *req, void *aux,
                    struct json_object **ret_result)
{
    const struct rpc_msg *msg = rpc_request_msg(req);
    const char *host = arg_string(msg, "host");
    struct json_object *list = json_object_new_array();
    struct json_object *result = json_object_new_object();

    (void) aux;
    pthread_mutex_lock(&fake.lock);
    fake_record(msg);
    for (size_t i = 0; i < fake.n_instances; i++) {
        struct fake_instance *inst = &fake.instances[i];
        const char *h = json_object_get_string(
            json_object_object_get(inst->obj, "host"));
        if (!inst->deleted && h && host && !strcmp(h, host)) {
            json_object_array_add(list, deep_copy(inst->obj));
        }
    }
    pthread_mutex_unlock(&fake.lock);
    json_object_object_add(result, "instances", list);
    *ret_result = result;
    return NULL;
}

static struct error *
fake_handle_cast(struct rpc_request *req, void *aux,
                 struct json_object **ret_result)
{
    const struct rpc_msg *msg = rpc_request_msg(req);

    (void) aux;
    (void) ret_result;
    pthread_mutex_lock(&fake.lock);
    fake_record(msg);
    if (!strcmp(msg->method, CONDUCTOR_INSTANCE_DESTROYED)) {
        struct fake_instance *inst = fake_find(arg_string(msg,
                                                          "instance_uuid"));
        if (inst) {
            inst->deleted = true;
        }
    }
    pthread_mutex_unlock(&fake.lock);
    return NULL;
}

static const struct rpc_method fake_methods[] = {
    { CONDUCTOR_INSTANCE_UPDATE, fake_handle_update, NULL },
    { CONDUCTOR_INSTANCE_GET, fake_handle_get, NULL },
    { CONDUCTOR_INSTANCES_ON_HOST, fake_handle_on_host, NULL },
    { CONDUCTOR_BUILD_FAILED, fake_handle_cast, NULL },
    { CONDUCTOR_INSTANCE_DESTROYED, fake_handle_cast, NULL },
    { CONDUCTOR_ACTION_EVENT, fake_handle_cast, NULL },
    { CONDUCTOR_SERVICE_HEARTBEAT, fake_handle_cast, NULL },
    { CONDUCTOR_COMPUTE_NODE_UPDATE, fake_handle_cast, NULL },
};

static void
fake_release_held(void)
{
    struct rpc_request *held[FAKE_MAX_HELD];
    size_t n;

    pthread_mutex_lock(&fake.lock);
    n = fake.n_held;
    memcpy(held, fake.held, n * sizeof *held);
    fake.n_held = 0;
    fake.release_held = false;
    pthread_mutex_unlock(&fake.lock);
    for (size_t i = 0; i < n; i++) {
        rpc_request_reply(held[i], NULL,
                          error_new(ERROR_UNAVAILABLE, "released"));
    }
}

static void *
fake_main(void *unused)
{
    struct rpc_conn_options copts = { .name = "fake-conductor" };
    struct rpc_server_options so = {
        .topic = CONDUCTOR_TOPIC,
        .version = CONDUCTOR_RPC_VERSION,
        .methods = fake_methods,
        .n_methods = ARRAY_SIZE(fake_methods),
    };
    struct rpc_server *server = NULL;
    struct rpc_conn *conn = NULL;
    struct error *error;

    (void) unused;
    error = rpc_conn_open(url, &copts, &conn);
    for (;;) {
        struct rpc_server_stats stats;
        bool want, stop, release;

        if (error) {
            fprintf(stderr, "fake conductor: %s\n", error_message(error));
            error_free(error);
            pthread_mutex_lock(&fake.lock);
            fake.failed = true;
            pthread_mutex_unlock(&fake.lock);
            break;
        }
        pthread_mutex_lock(&fake.lock);
        want = fake.want_serving;
        stop = fake.stop;
        release = fake.release_held;
        pthread_mutex_unlock(&fake.lock);

        if (server && (!want || stop)) {
            rpc_server_get_stats(server, &stats);
            rpc_server_free(server);
            server = NULL;
            pthread_mutex_lock(&fake.lock);
            fake.expired += stats.expired;
            fake.serving = false;
            pthread_mutex_unlock(&fake.lock);
        }
        if (release || stop) {
            fake_release_held();
        }
        if (stop) {
            break;
        }
        if (want && !server) {
            error = rpc_server_new(conn, &so, &server);
            if (error) {
                continue;
            }
            pthread_mutex_lock(&fake.lock);
            fake.serving = true;
            pthread_mutex_unlock(&fake.lock);
        }
        rpc_conn_run(conn);
        rpc_conn_wait(conn);
        poll_timer_wait(FAKE_TICK_MS);
        poll_block();
    }
    rpc_server_free(server);
    rpc_conn_free(conn);
    return NULL;
}

/* Waits until the fake conductor's server is up ('on') or down. */
static void
fake_set_serving(bool on)
{
    pthread_mutex_lock(&fake.lock);
    fake.want_serving = on;
    pthread_mutex_unlock(&fake.lock);
    for (int i = 0; i < GUARD_MS / POLL_MS; i++) {
        bool serving, failed;

        pthread_mutex_lock(&fake.lock);
        serving = fake.serving;
        failed = fake.failed;
        pthread_mutex_unlock(&fake.lock);
        assert_false(failed);
        if (serving == on) {
            return;
        }
        poll_loop_reset();
        usleep(POLL_MS * 1000);
    }
    fail_msg("the fake conductor did not %s", on ? "start" : "stop");
}

static unsigned long long
fake_expired(void)
{
    unsigned long long n;

    pthread_mutex_lock(&fake.lock);
    n = fake.expired;
    pthread_mutex_unlock(&fake.lock);
    return n;
}

static size_t
fake_n_held(void)
{
    size_t n;

    pthread_mutex_lock(&fake.lock);
    n = fake.n_held;
    pthread_mutex_unlock(&fake.lock);
    return n;
}

/* Adds (or replaces) the instance 'json' (INSTANCE text). */
static void
fake_put(const char *json)
{
    struct json_object *obj = json_tokener_parse(json);
    const char *uuid;
    struct fake_instance *inst;

    assert_non_null(obj);
    uuid = json_object_get_string(json_object_object_get(obj, "uuid"));
    pthread_mutex_lock(&fake.lock);
    inst = fake_find(uuid);
    if (!inst) {
        assert_true(fake.n_instances < FAKE_MAX_INSTANCES);
        inst = &fake.instances[fake.n_instances++];
        snprintf(inst->uuid, sizeof inst->uuid, "%s", uuid);
    }
    json_object_put(inst->obj);
    inst->obj = obj;
    pthread_mutex_unlock(&fake.lock);
}

/* Sets 'field' of instance 'uuid' to the JSON 'value' ("null" allowed). */
static void
fake_set(const char *uuid, const char *field, const char *value)
{
    struct json_object *v = json_tokener_parse(value);
    struct fake_instance *inst;

    pthread_mutex_lock(&fake.lock);
    inst = fake_find(uuid);
    assert_non_null(inst);
    json_object_object_add(inst->obj, field, v);
    pthread_mutex_unlock(&fake.lock);
}

/* Returns 'field' of instance 'uuid' as compact JSON ("null" for a
 * deleted or unknown instance).  The caller frees it. */
static char *
fake_get(const char *uuid, const char *field)
{
    struct fake_instance *inst;
    char *text;

    pthread_mutex_lock(&fake.lock);
    inst = fake_find(uuid);
    text = json_to_string_plain(inst ? json_object_object_get(inst->obj,
                                                              field)
                                     : NULL);
    pthread_mutex_unlock(&fake.lock);
    return text;
}

static void
fake_hold(const char *uuid)
{
    pthread_mutex_lock(&fake.lock);
    snprintf(fake.hold_uuid, sizeof fake.hold_uuid, "%s", uuid ? uuid : "");
    if (!uuid) {
        fake.release_held = true;
    }
    pthread_mutex_unlock(&fake.lock);
}

/* ------------------------------------------------------------------ */
/* Looking at the records. */

/* One condition on a record: the JSON text at 'path' (dotted, in the
 * args) must equal 'json'; 'path' NULL ends a list. */
struct cond {
    const char *path;
    const char *json;
};

/* Finds the value at dotted 'path' in 'obj': returns true and stores it
 * (NULL for a JSON null) in '*ret_value', or returns false. */
static bool
json_lookup(struct json_object *obj, const char *path,
            struct json_object **ret_value)
{
    AUTOFREE char *copy = xstrdup(path);
    char *save = NULL;

    for (char *key = strtok_r(copy, ".", &save); key;
         key = strtok_r(NULL, ".", &save)) {
        if (!obj || !json_object_object_get_ex(obj, key, &obj)) {
            return false;
        }
    }
    *ret_value = obj;
    return true;
}

/* The value at dotted 'path' in 'obj', or NULL. */
static struct json_object *
json_at(struct json_object *obj, const char *path)
{
    struct json_object *value = NULL;

    return json_lookup(obj, path, &value) ? value : NULL;
}

static bool
record_matches(const struct fake_record *r, const char *method,
               const struct cond *conds)
{
    CLEANUP(json_putp) struct json_object *args = NULL;

    if (strcmp(r->method, method)) {
        return false;
    }
    args = json_tokener_parse(r->args);
    for (const struct cond *c = conds; c && c->path; c++) {
        struct json_object *v;
        AUTOFREE char *text = NULL;

        if (!json_lookup(args, c->path, &v)) {
            return false;
        }
        text = json_to_string_plain(v);
        if (strcmp(text, c->json)) {
            return false;
        }
    }
    return true;
}

/* Number of records of 'method' matching 'conds'. */
static size_t
count_records(const char *method, const struct cond *conds)
{
    size_t n = 0;

    pthread_mutex_lock(&fake.lock);
    for (size_t i = 0; i < fake.n_records; i++) {
        if (record_matches(&fake.records[i], method, conds)) {
            n++;
        }
    }
    pthread_mutex_unlock(&fake.lock);
    return n;
}

/* Returns the args of the latest record of 'method' matching 'conds', as
 * a new JSON object, or NULL. */
static struct json_object *
last_record(const char *method, const struct cond *conds)
{
    struct json_object *found = NULL;

    pthread_mutex_lock(&fake.lock);
    for (size_t i = fake.n_records; i > 0; i--) {
        if (record_matches(&fake.records[i - 1], method, conds)) {
            found = json_tokener_parse(fake.records[i - 1].args);
            break;
        }
    }
    pthread_mutex_unlock(&fake.lock);
    return found;
}

/* Waits until at least 'n' records of 'method' match 'conds'. */
static bool
wait_records(size_t n, const char *method, const struct cond *conds)
{
    for (int i = 0; i < GUARD_MS / POLL_MS; i++) {
        if (count_records(method, conds) >= n) {
            return true;
        }
        usleep(POLL_MS * 1000);
    }
    return count_records(method, conds) >= n;
}

#define WAIT(N, METHOD, ...)                                            \
    do {                                                                \
        const struct cond wait_conds_[] = { __VA_ARGS__, { NULL, NULL } }; \
        if (!wait_records(N, METHOD, wait_conds_)) {                    \
            fail_msg("no %s matching the expected fields arrived",      \
                     METHOD);                                           \
        }                                                               \
    } while (0)

/* JSON string literal of 's', in one of Q_BUFFERS static buffers used in
 * turn: enough for every literal one test step keeps alive. */
#define Q_BUFFERS 64
static const char *
q(const char *s)
{
    static char bufs[Q_BUFFERS][256];
    static int next;
    char *buf = bufs[next++ % Q_BUFFERS];
    int n = snprintf(buf, sizeof bufs[0], "\"%s\"", s);

    if (n < 0 || (size_t) n >= sizeof bufs[0]) {
        fail_msg("literal too long: %s", s);
    }
    return buf;
}

/* ------------------------------------------------------------------ */
/* The compute manager under test, on its own thread. */

struct runner {
    pthread_t thread;
    struct compute_manager_options options;
    struct compute_manager_host hosts[N_HOSTS];
    size_t n_hosts;
    int stop_fd;
    bool stop;                  /* Atomic. */
    bool ready;                 /* Atomic. */
    bool failed;                /* Atomic. */
};

static struct runner *runner;

static void *
runner_main(void *r_)
{
    struct runner *r = r_;
    struct compute_manager *manager = NULL;
    struct error *error;

    error = compute_manager_new(&r->options, r->hosts, r->n_hosts,
                                &manager);
    if (error) {
        fprintf(stderr, "compute manager: %s\n", error_message(error));
        error_free(error);
        __atomic_store_n(&r->failed, true, __ATOMIC_RELEASE);
        return NULL;
    }
    while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
        compute_manager_run(manager);
        if (compute_manager_is_ready(manager)) {
            __atomic_store_n(&r->ready, true, __ATOMIC_RELEASE);
        }
        compute_manager_wait(manager);
        poll_fd_wait(r->stop_fd, POLLIN);
        poll_block();
    }
    poll_loop_reset();
    compute_manager_free(manager);
    return NULL;
}

static void
runner_default_options(struct compute_manager_options *o)
{
    compute_manager_options_init(o);
    o->transport_url = url;
    o->state_path = state_dir;
    o->domain_type = VIRT_DOMAIN_TEST;
    o->heartbeat_interval_ms = TEST_HEARTBEAT_MS;
    o->sync_interval_ms = TEST_SYNC_MS;
    o->conductor.call_timeout_ms = TEST_CALL_TIMEOUT_MS;
    o->conductor.retry_min_ms = TEST_RETRY_MIN_MS;
    o->conductor.retry_max_ms = TEST_RETRY_MAX_MS;
    o->conductor.max_attempts = TEST_MAX_ATTEMPTS;
}

/* Starts a manager with 'options' on the first 'n_hosts' hosts and waits
 * until it serves them all. */
static void
runner_start(const struct compute_manager_options *options, size_t n_hosts)
{
    struct runner *r = xzalloc(sizeof *r);

    assert_null(runner);
    r->options = *options;
    r->n_hosts = n_hosts;
    for (size_t i = 0; i < n_hosts; i++) {
        r->hosts[i].name = host_name(i);
        r->hosts[i].driver = host_driver(i);
    }
    r->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    assert_true(r->stop_fd >= 0);
    assert_int_equal(pthread_create(&r->thread, NULL, runner_main, r), 0);
    runner = r;
    for (int i = 0; i < GUARD_MS / POLL_MS; i++) {
        if (__atomic_load_n(&r->ready, __ATOMIC_ACQUIRE)) {
            return;
        }
        assert_false(__atomic_load_n(&r->failed, __ATOMIC_ACQUIRE));
        usleep(POLL_MS * 1000);
    }
    fail_msg("the compute manager did not become ready");
}

static void
runner_start_default(void)
{
    struct compute_manager_options o;

    runner_default_options(&o);
    runner_start(&o, N_HOSTS);
}

static void
runner_stop(void)
{
    struct runner *r = runner;
    uint64_t one = 1;

    if (!r) {
        return;
    }
    __atomic_store_n(&r->stop, true, __ATOMIC_RELEASE);
    assert_int_equal(write(r->stop_fd, &one, sizeof one), sizeof one);
    assert_int_equal(pthread_join(r->thread, NULL), 0);
    close(r->stop_fd);
    free(r);
    runner = NULL;
}

/* ------------------------------------------------------------------ */
/* Talking to compute as the conductor does. */

static struct rpc_conn *client;

static void
cast_to(const char *host, const char *method, struct json_object *args)
{
    const struct rpc_target target = { COMPUTE_TOPIC, host };
    CLEANUP(rpc_msg_freep) struct rpc_msg *msg = rpc_msg_new(method, args);
    struct error *error;

    rpc_ctx_set_request_id(&msg->ctx, "req-00000000-0000-4000-8000-"
                           "00000000c0de");
    error = rpc_cast(client, &target, msg);
    if (!error) {
        error = rpc_conn_flush(client, GUARD_MS);
    }
    if (error) {
        fail_msg("cast '%s': %s", method, error_message(error));
    }
}

/* Returns an INSTANCE as JSON text.  'image' is the IMAGE text or NULL. */
static char *
instance_json(const char *uuid, const char *host, const char *vm_state,
              const char *task_state, int power_state, long long memory_mb,
              const char *image)
{
    return xasprintf(
        "{\"uuid\": \"%s\", \"display_name\": \"vm-%.8s\", "
        "\"project_id\": \"p1\", \"user_id\": \"u1\", \"host\": \"%s\", "
        "\"node\": \"%s\", \"flavor\": {\"flavorid\": \"1\", \"name\": "
        "\"m1.tiny\", \"vcpus\": 1, \"memory_mb\": %lld, \"root_gb\": 1, "
        "\"ephemeral_gb\": 0, \"swap\": 0, \"extra_specs\": {}}, "
        "\"image\": %s, \"vm_state\": \"%s\", \"task_state\": %s, "
        "\"power_state\": %d, \"created_at\": "
        "\"2024-05-01T12:00:00.000000\", \"update_seq\": 1}",
        uuid, uuid, host, host, memory_mb, image ? image : "null", vm_state,
        task_state ? q(task_state) : "null", power_state);
}

#define SIM_IMAGE "{\"kernel\": \"/sim/vmlinuz\"}"

/* Casts an instance action with {"instance": INSTANCE as the conductor
 * has it now} plus 'extra' (a JSON object text or NULL). */
static void
cast_instance(const char *host, const char *method, const char *uuid,
              const char *extra)
{
    struct json_object *args = extra ? json_tokener_parse(extra)
                                     : json_object_new_object();
    struct json_object *inst = NULL;

    pthread_mutex_lock(&fake.lock);
    assert_int_equal(json_object_deep_copy(fake_find(uuid)->obj, &inst,
                                           NULL), 0);
    pthread_mutex_unlock(&fake.lock);
    json_object_object_add(args, "instance", inst);
    cast_to(host, method, args);
}

static void
new_uuid(char uuid[UUID_STRING_SIZE])
{
    uuid_generate_string(uuid);
}

/* Seeds a scheduled instance on host 'h' and builds it; waits until it is
 * active. */
static void
build_active(size_t h, const char *uuid)
{
    AUTOFREE char *json = instance_json(uuid, host_name(h), "building",
                                        "scheduling", 0, 64, SIM_IMAGE);

    fake_put(json);
    cast_instance(host_name(h), COMPUTE_BUILD_AND_RUN_INSTANCE, uuid,
                  "{\"attempt\": 1, \"alternates\": []}");
    WAIT(1, CONDUCTOR_INSTANCE_UPDATE, { "instance_uuid", q(uuid) },
         { "updates.vm_state", q("active") },
         { "updates.power_state", "1" },
         { "updates.task_state", "null" });
}

static enum virt_power_state
domain_power(size_t h, const char *uuid, bool *ret_found)
{
    struct virt_instance_info info;
    struct error *error = virt_driver_get_info(host_driver(h), uuid, &info);

    *ret_found = !error;
    if (error) {
        assert_int_equal(error_kind(error), ERROR_NOT_FOUND);
        error_free(error);
        return VIRT_POWER_NOSTATE;
    }
    return info.power_state;
}

/* Waits until the domain of 'uuid' on host 'h' is 'state' (or gone, with
 * 'found' false). */
static void
wait_domain(size_t h, const char *uuid, bool found,
            enum virt_power_state state)
{
    for (int i = 0; i < GUARD_MS / POLL_MS; i++) {
        bool f;
        enum virt_power_state s = domain_power(h, uuid, &f);

        if (f == found && (!found || s == state)) {
            return;
        }
        usleep(POLL_MS * 1000);
    }
    fail_msg("domain %s did not reach the expected state", uuid);
}

/* Defines and starts a domain for 'uuid' on host 'h' directly, as a
 * previous nova-compute process would have. */
static void
spawn_directly(size_t h, const char *uuid)
{
    AUTOFREE char *name = xasprintf("instance-%s", uuid);
    struct virt_instance_spec spec = {
        .uuid = uuid,
        .name = name,
        .flavor = { "m1.tiny", 1, 64, 1, 0, 0 },
        .image = { .kernel_path = "/sim/vmlinuz" },
        .domain_type = VIRT_DOMAIN_TEST,
    };
    struct error *error = virt_driver_spawn(host_driver(h), &spec);

    if (error) {
        fail_msg("spawn: %s", error_message(error));
    }
}

/* ------------------------------------------------------------------ */
/* Tests. */

static void
test_heartbeats_and_inventory(void **state)
{
    (void) state;
    runner_start_default();
    for (size_t i = 0; i < N_HOSTS; i++) {
        AUTOFREE char *vcpus = xasprintf("%d", SIM_VCPUS);

        /* Heartbeats keep coming, one per interval. */
        WAIT(2, CONDUCTOR_SERVICE_HEARTBEAT, { "host", q(host_name(i)) },
             { "binary", q("nova-compute") }, { "topic", q("compute") });
        WAIT(1, CONDUCTOR_COMPUTE_NODE_UPDATE, { "host", q(host_name(i)) },
             { "node", q(host_name(i)) }, { "inventory.vcpus", vcpus },
             { "inventory.running_vms", "0" },
             { "inventory.hypervisor_hostname", q(host_name(i)) });
    }
}

static void
test_build_active(void **state)
{
    char uuid[UUID_STRING_SIZE];
    struct cond host0[] = { { "host", q(host_name(0)) }, { NULL, NULL } };
    size_t n_reports;
    bool found;
    AUTOFREE char *vm_state = NULL;
    AUTOFREE char *task_state = NULL;
    AUTOFREE char *launched_at = NULL;

    (void) state;
    new_uuid(uuid);
    n_reports = count_records(CONDUCTOR_COMPUTE_NODE_UPDATE, host0);
    build_active(0, uuid);

    /* First spawning (expected scheduling), then active (expected
     * spawning). */
    WAIT(1, CONDUCTOR_INSTANCE_UPDATE, { "instance_uuid", q(uuid) },
         { "updates.task_state", q("spawning") },
         { "expected_task_state", "[\"scheduling\"]" });
    WAIT(1, CONDUCTOR_INSTANCE_UPDATE, { "instance_uuid", q(uuid) },
         { "updates.vm_state", q("active") },
         { "expected_task_state", "[\"spawning\"]" });
    WAIT(1, CONDUCTOR_ACTION_EVENT, { "instance_uuid", q(uuid) },
         { "event", q("compute__do_build_and_run_instance") },
         { "result", q("Success") }, { "host", q(host_name(0)) });
    /* The inventory is reported again after the build. */
    WAIT(n_reports + 1, CONDUCTOR_COMPUTE_NODE_UPDATE,
         { "host", q(host_name(0)) });

    vm_state = fake_get(uuid, "vm_state");
    task_state = fake_get(uuid, "task_state");
    launched_at = fake_get(uuid, "launched_at");
    assert_string_equal(vm_state, "\"active\"");
    assert_string_equal(task_state, "null");
    assert_string_not_equal(launched_at, "null");
    assert_int_equal(domain_power(0, uuid, &found), VIRT_POWER_RUNNING);
    assert_true(found);
    /* The other hosts know nothing of it. */
    (void) domain_power(1, uuid, &found);
    assert_false(found);
}

static void
test_build_failures(void **state)
{
    const struct {
        const char *what;
        long long memory_mb;
        const char *image;
        bool duplicate;         /* A domain with the uuid exists. */
        const char *kind;       /* ERROR kind on the wire. */
        const char *message;    /* Part of the error message. */
    } cases[] = {
        { "flavor too large", 17LL * 1024 * 1024, SIM_IMAGE, false,
          "Invalid", "memory" },
        { "relative kernel path", 64, "{\"kernel\": \"vmlinuz\"}", false,
          "Invalid", "kernel" },
        { "no boot source", 64, NULL, false, "Invalid", "boot source" },
        { "duplicate uuid", 64, SIM_IMAGE, true, "Conflict", "" },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char uuid[UUID_STRING_SIZE];
        AUTOFREE char *json = NULL;
        CLEANUP(json_putp) struct json_object *failed = NULL;
        struct json_object *error;
        const char *alternates = "[{\"host\": \"other-1\", \"node\": "
                                 "\"other-1\"}, {\"host\": \"other-2\", "
                                 "\"node\": \"other-2\"}]";
        AUTOFREE char *extra = xasprintf("{\"attempt\": 2, \"alternates\": "
                                         "%s}", alternates);
        struct cond conds[] = {
            { "instance_uuid", NULL }, { "host", q(host_name(1)) },
            { "node", q(host_name(1)) }, { "attempt", "2" },
            { "alternates", "[{\"host\":\"other-1\",\"node\":\"other-1\"},"
              "{\"host\":\"other-2\",\"node\":\"other-2\"}]" },
            { NULL, NULL },
        };
        bool found;

        print_message("build failure: %s\n", cases[i].what);
        new_uuid(uuid);
        conds[0].json = q(uuid);
        if (cases[i].duplicate) {
            spawn_directly(1, uuid);
        }
        json = instance_json(uuid, host_name(1), "building", "scheduling", 0,
                             cases[i].memory_mb, cases[i].image);
        fake_put(json);
        cast_instance(host_name(1), COMPUTE_BUILD_AND_RUN_INSTANCE, uuid,
                      extra);
        if (!wait_records(1, CONDUCTOR_BUILD_FAILED, conds)) {
            fail_msg("no build_failed for case '%s'", cases[i].what);
        }
        failed = last_record(CONDUCTOR_BUILD_FAILED, conds);
        error = json_at(failed, "error");
        assert_non_null(error);
        assert_string_equal(json_object_get_string(
                                json_object_object_get(error, "kind")),
                            cases[i].kind);
        assert_non_null(strstr(json_object_get_string(
                                   json_object_object_get(error, "message")),
                               cases[i].message));
        WAIT(1, CONDUCTOR_ACTION_EVENT, { "instance_uuid", q(uuid) },
             { "result", q("Error") });

        /* Nothing of the failed build is left, and a domain that was
         * there before is untouched. */
        (void) domain_power(1, uuid, &found);
        assert_int_equal(found, cases[i].duplicate);
        if (cases[i].duplicate) {
            struct error *e = virt_driver_destroy(host_driver(1), uuid);

            assert_null(e);
        }
    }
}

static void
test_actions(void **state)
{
    const char *reboot = "[\"rebooting\",\"reboot_pending\","
                         "\"reboot_started\",\"rebooting_hard\","
                         "\"reboot_pending_hard\",\"reboot_started_hard\"]";
    const struct {
        const char *method;
        const char *task_state;     /* Set by the conductor first. */
        const char *expected;       /* expected_task_state sent back;
                                     * NULL: [task_state]. */
        const char *extra;          /* More arguments. */
        const char *vm_state;       /* Expected after. */
        int power_state;
        enum virt_power_state domain;
        const char *event;
        const char *result;
    } cases[] = {
        { COMPUTE_REBOOT_INSTANCE, "rebooting", reboot,
          "{\"reboot_type\": \"SOFT\"}", "active", 1, VIRT_POWER_RUNNING,
          "compute_reboot_instance", "Success" },
        { COMPUTE_REBOOT_INSTANCE, "rebooting_hard", reboot,
          "{\"reboot_type\": \"HARD\"}", "active", 1, VIRT_POWER_RUNNING,
          "compute_reboot_instance", "Success" },
        { COMPUTE_STOP_INSTANCE, "powering-off", NULL, NULL, "stopped", 4,
          VIRT_POWER_SHUTDOWN, "compute_stop_instance", "Success" },
        { COMPUTE_START_INSTANCE, "powering-on", NULL, NULL, "active", 1,
          VIRT_POWER_RUNNING, "compute_start_instance", "Success" },
        { COMPUTE_PAUSE_INSTANCE, "pausing", NULL, NULL, "paused", 3,
          VIRT_POWER_PAUSED, "compute_pause_instance", "Success" },
        /* Pausing a paused domain fails; nothing changes. */
        { COMPUTE_PAUSE_INSTANCE, "pausing", NULL, NULL, "paused", 3,
          VIRT_POWER_PAUSED, "compute_pause_instance", "Error" },
        { COMPUTE_UNPAUSE_INSTANCE, "unpausing", NULL, NULL, "active", 1,
          VIRT_POWER_RUNNING, "compute_unpause_instance", "Success" },
        { COMPUTE_SUSPEND_INSTANCE, "suspending", NULL, NULL, "suspended", 7,
          VIRT_POWER_SUSPENDED, "compute_suspend_instance", "Success" },
        { COMPUTE_RESUME_INSTANCE, "resuming", NULL, NULL, "active", 1,
          VIRT_POWER_RUNNING, "compute_resume_instance", "Success" },
    };
    char uuid[UUID_STRING_SIZE];
    struct cond host2[] = { { "host", q(host_name(2)) }, { NULL, NULL } };
    size_t n_reports;

    (void) state;
    new_uuid(uuid);
    build_active(2, uuid);
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        AUTOFREE char *expected = cases[i].expected
            ? xstrdup(cases[i].expected)
            : xasprintf("[\"%s\"]", cases[i].task_state);
        AUTOFREE char *power = xasprintf("%d", cases[i].power_state);
        const char *vm_state = q(cases[i].vm_state);
        AUTOFREE char *vm_before = fake_get(uuid, "vm_state");
        struct cond event[] = {
            { "instance_uuid", q(uuid) }, { "event", q(cases[i].event) },
            { "result", q(cases[i].result) }, { "host", q(host_name(2)) },
            { NULL, NULL },
        };
        size_t n_events = count_records(CONDUCTOR_ACTION_EVENT, event);
        bool found;

        print_message("%s (%s)\n", cases[i].method, cases[i].result);
        fake_set(uuid, "task_state", q(cases[i].task_state));
        cast_instance(host_name(2), cases[i].method, uuid, cases[i].extra);
        if (!wait_records(n_events + 1, CONDUCTOR_ACTION_EVENT, event)) {
            fail_msg("no action event for '%s'", cases[i].method);
        }
        /* The update goes out before the event and is applied in order:
         * the table shows it once the event is recorded. */
        for (int j = 0; j < GUARD_MS / POLL_MS; j++) {
            AUTOFREE char *task = fake_get(uuid, "task_state");

            if (!strcmp(task, "null")) {
                break;
            }
            usleep(POLL_MS * 1000);
        }
        {
            AUTOFREE char *vm_after = fake_get(uuid, "vm_state");
            AUTOFREE char *power_after = fake_get(uuid, "power_state");
            AUTOFREE char *task_after = fake_get(uuid, "task_state");

            assert_string_equal(vm_after, vm_state);
            assert_string_equal(power_after, power);
            assert_string_equal(task_after, "null");
            if (!strcmp(cases[i].result, "Error")) {
                assert_string_equal(vm_after, vm_before);
            }
        }
        WAIT(1, CONDUCTOR_INSTANCE_UPDATE, { "instance_uuid", q(uuid) },
             { "expected_task_state", expected },
             { "updates.vm_state", vm_state },
             { "updates.power_state", power },
             { "updates.task_state", "null" });
        assert_int_equal(domain_power(2, uuid, &found), cases[i].domain);
        assert_true(found);
    }

    /* Terminate: the domain goes, the conductor hears of it. */
    n_reports = count_records(CONDUCTOR_COMPUTE_NODE_UPDATE, host2);
    fake_set(uuid, "task_state", q("deleting"));
    cast_instance(host_name(2), COMPUTE_TERMINATE_INSTANCE, uuid, NULL);
    WAIT(1, CONDUCTOR_INSTANCE_DESTROYED, { "instance_uuid", q(uuid) },
         { "host", q(host_name(2)) });
    WAIT(1, CONDUCTOR_ACTION_EVENT, { "instance_uuid", q(uuid) },
         { "event", q("compute_terminate_instance") },
         { "result", q("Success") });
    WAIT(n_reports + 1, CONDUCTOR_COMPUTE_NODE_UPDATE,
         { "host", q(host_name(2)) });
    wait_domain(2, uuid, false, VIRT_POWER_NOSTATE);
}

static void
test_console_output(void **state)
{
    char uuid[UUID_STRING_SIZE];
    char unknown[UUID_STRING_SIZE];
    AUTOFREE char *log = NULL;
    const char *text = "line 1\nline 2\nGUEST-BOOTED uptime=2.05\n";
    const struct {
        const char *uuid;
        int length;             /* -2: leave it out. */
        const char *output;     /* NULL: an error of kind 'kind'. */
        enum error_kind kind;
    } cases[] = {
        { uuid, 2, "line 2\nGUEST-BOOTED uptime=2.05\n", 0 },
        { uuid, -2, "line 1\nline 2\nGUEST-BOOTED uptime=2.05\n", 0 },
        { uuid, 0, "", 0 },
        { unknown, 10, NULL, ERROR_NOT_FOUND },
    };
    FILE *f;

    (void) state;
    new_uuid(uuid);
    new_uuid(unknown);
    build_active(2, uuid);
    log = compute_spec_instance_path(instances_dir, uuid,
                                     COMPUTE_SPEC_CONSOLE_LOG);
    f = fopen(log, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        const struct rpc_target target = { COMPUTE_TOPIC, host_name(2) };
        struct json_object *args = json_object_new_object();
        CLEANUP(rpc_msg_freep) struct rpc_msg *msg = NULL;
        CLEANUP(json_putp) struct json_object *result = NULL;
        CLEANUP(error_freep) struct error *error = NULL;

        json_object_object_add(args, "instance_uuid",
                               json_object_new_string(cases[i].uuid));
        if (cases[i].length != -2) {
            json_object_object_add(args, "length",
                                   json_object_new_int(cases[i].length));
        }
        msg = rpc_msg_new(COMPUTE_GET_CONSOLE_OUTPUT, args);
        error = rpc_call(client, &target, msg, GUARD_MS, &result);
        if (cases[i].output) {
            if (error) {
                fail_msg("case %zu: %s", i, error_message(error));
            }
            assert_string_equal(json_object_get_string(
                                    json_object_object_get(result,
                                                           "output")),
                                cases[i].output);
        } else {
            assert_non_null(error);
            assert_int_equal(error_kind(error), cases[i].kind);
        }
    }
}

/* Number of running domains on host 'h'. */
static size_t
count_running(size_t h)
{
    CLEANUP(virt_instance_list_freep) struct virt_instance_list *list = NULL;
    struct error *error = virt_driver_list_instances(host_driver(h), &list);
    size_t n = 0;

    assert_null(error);
    for (size_t i = 0; i < list->n_entries; i++) {
        n += list->entries[i].power_state == VIRT_POWER_RUNNING;
    }
    return n;
}

static void
test_parallel_builds(void **state)
{
    enum { PER_HOST = 10, N = N_HOSTS * PER_HOST };
    char uuids[N][UUID_STRING_SIZE];
    long long start, built, deleted;

    (void) state;
    start = poll_loop_now_ms();
    for (size_t i = 0; i < N; i++) {
        AUTOFREE char *json = NULL;

        new_uuid(uuids[i]);
        json = instance_json(uuids[i], host_name(i % N_HOSTS), "building",
                             "scheduling", 0, 64, SIM_IMAGE);
        fake_put(json);
        cast_instance(host_name(i % N_HOSTS), COMPUTE_BUILD_AND_RUN_INSTANCE,
                      uuids[i], "{\"attempt\": 1, \"alternates\": []}");
    }
    for (size_t i = 0; i < N; i++) {
        WAIT(1, CONDUCTOR_INSTANCE_UPDATE, { "instance_uuid", q(uuids[i]) },
             { "updates.vm_state", q("active") });
    }
    built = poll_loop_now_ms();

    /* Each host's latest inventory counts what runs on it. */
    for (size_t h = 0; h < N_HOSTS; h++) {
        AUTOFREE char *running = xasprintf("%zu", count_running(h));

        WAIT(1, CONDUCTOR_COMPUTE_NODE_UPDATE, { "host", q(host_name(h)) },
             { "inventory.running_vms", running });
    }

    for (size_t i = 0; i < N; i++) {
        fake_set(uuids[i], "task_state", q("deleting"));
        cast_instance(host_name(i % N_HOSTS), COMPUTE_TERMINATE_INSTANCE,
                      uuids[i], NULL);
    }
    for (size_t i = 0; i < N; i++) {
        bool found;

        WAIT(1, CONDUCTOR_INSTANCE_DESTROYED,
             { "instance_uuid", q(uuids[i]) });
        (void) domain_power(i % N_HOSTS, uuids[i], &found);
        assert_false(found);
    }
    deleted = poll_loop_now_ms();
    /* A figure for the log, not an assertion. */
    print_message("%d builds on %d hosts in %lld ms, deleted in %lld ms\n",
                  N, N_HOSTS, built - start, deleted - built);
}

static void
test_domain_stopped_outside(void **state)
{
    virConnectPtr conn = virt_libvirt_connection(host_driver(0));
    char uuid[UUID_STRING_SIZE];
    virDomainPtr dom;

    (void) state;
    new_uuid(uuid);
    build_active(0, uuid);

    /* As an operator's "virsh destroy" would. */
    dom = virDomainLookupByUUIDString(conn, uuid);
    assert_non_null(dom);
    assert_int_equal(virDomainDestroy(dom), 0);
    virDomainFree(dom);

    WAIT(1, CONDUCTOR_INSTANCE_UPDATE, { "instance_uuid", q(uuid) },
         { "updates.vm_state", q("stopped") },
         { "updates.power_state", "4" },
         { "expected_task_state", "[null]" });
    for (int i = 0; i < GUARD_MS / POLL_MS; i++) {
        AUTOFREE char *vm_state = fake_get(uuid, "vm_state");

        if (!strcmp(vm_state, "\"stopped\"")) {
            break;
        }
        usleep(POLL_MS * 1000);
    }
    {
        AUTOFREE char *vm_state = fake_get(uuid, "vm_state");
        AUTOFREE char *power = fake_get(uuid, "power_state");

        assert_string_equal(vm_state, "\"stopped\"");
        assert_string_equal(power, "4");
    }

    /* The cloud says stopped: a domain started behind its back is
     * powered off again by the sync. */
    dom = virDomainLookupByUUIDString(conn, uuid);
    assert_non_null(dom);
    assert_int_equal(virDomainCreate(dom), 0);
    virDomainFree(dom);
    wait_domain(0, uuid, true, VIRT_POWER_SHUTDOWN);
}

static void
test_conductor_briefly_absent(void **state)
{
    char uuid[UUID_STRING_SIZE] = "";
    struct cond stopped[] = {
        { "instance_uuid", NULL }, { "updates.vm_state", q("stopped") },
        { "expected_task_state", "[\"powering-off\"]" }, { NULL, NULL },
    };
    unsigned long long expired_before;
    struct timespec pause = {
        (TEST_CALL_TIMEOUT_MS + 2 * TEST_RETRY_MAX_MS) / 1000, 0
    };
    AUTOFREE char *vm_state = NULL;

    (void) state;
    new_uuid(uuid);
    stopped[0].json = q(uuid);
    build_active(1, uuid);

    fake_set_serving(false);
    expired_before = fake_expired();
    fake_set(uuid, "task_state", q("powering-off"));
    cast_instance(host_name(1), COMPUTE_STOP_INSTANCE, uuid, NULL);
    /* The domain stops; the update has nobody to answer it. */
    wait_domain(1, uuid, true, VIRT_POWER_SHUTDOWN);
    /* Long enough for the first call to time out and be retried. */
    nanosleep(&pause, NULL);
    assert_int_equal(count_records(CONDUCTOR_INSTANCE_UPDATE, stopped), 0);

    fake_set_serving(true);
    if (!wait_records(1, CONDUCTOR_INSTANCE_UPDATE, stopped)) {
        fail_msg("the update was lost while the conductor was away");
    }
    WAIT(1, CONDUCTOR_ACTION_EVENT, { "instance_uuid", q(uuid) },
         { "event", q("compute_stop_instance") }, { "result", q("Success") });
    /* The first attempt expired unexecuted in the queue: what arrived is
     * a retry, and it was applied exactly once. */
    fake_set_serving(false);
    fake_set_serving(true);
    assert_true(fake_expired() > expired_before);
    assert_int_equal(count_records(CONDUCTOR_INSTANCE_UPDATE, stopped), 1);
    vm_state = fake_get(uuid, "vm_state");
    assert_string_equal(vm_state, "\"stopped\"");
}

static void
test_restart_recovers(void **state)
{
    /* What a crash or restart can leave on a host, and what nova-compute
     * must make of it at start. */
    enum setup { BUILD_HELD, BUILD_NO_DOMAIN, DELETING, POWERING_OFF,
                 SCHEDULING };
    struct {
        enum setup setup;
        char uuid[UUID_STRING_SIZE];
    } cases[] = {
        { BUILD_HELD, "" }, { BUILD_NO_DOMAIN, "" }, { DELETING, "" },
        { POWERING_OFF, "" }, { SCHEDULING, "" },
    };
    const size_t h = 2;
    CLEANUP(json_putp) struct json_object *alternates = NULL;
    struct error *error;

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        new_uuid(cases[i].uuid);
    }

    /* A build that stops half-way: the conductor recorded "spawning" and
     * the domain runs, but the final update never completes. */
    fake_hold(cases[0].uuid);
    {
        AUTOFREE char *json = instance_json(cases[0].uuid, host_name(h),
                                            "building", "scheduling", 0, 64,
                                            SIM_IMAGE);

        fake_put(json);
    }
    cast_instance(host_name(h), COMPUTE_BUILD_AND_RUN_INSTANCE,
                  cases[0].uuid, "{\"attempt\": 1, \"alternates\": []}");
    for (int i = 0; i < GUARD_MS / POLL_MS && !fake_n_held(); i++) {
        usleep(POLL_MS * 1000);
    }
    assert_int_equal(fake_n_held(), 1);
    runner_stop();
    fake_hold(NULL);

    /* The others as a previous process would have left them. */
    for (size_t i = 1; i < ARRAY_SIZE(cases); i++) {
        const char *vm = "active";
        const char *task = NULL;
        AUTOFREE char *json = NULL;

        switch (cases[i].setup) {
        case BUILD_NO_DOMAIN:
            vm = "building";
            task = "spawning";
            alternates = json_tokener_parse(
                "[{\"host\": \"alt-1\", \"node\": \"alt-1\"}]");
            error = compute_spec_save_build_record(instances_dir,
                                                   cases[i].uuid, 3,
                                                   alternates);
            assert_null(error);
            break;
        case DELETING:
            task = "deleting";
            spawn_directly(h, cases[i].uuid);
            break;
        case POWERING_OFF:
            task = "powering-off";
            spawn_directly(h, cases[i].uuid);
            break;
        case SCHEDULING:
            vm = "building";
            task = "scheduling";
            break;
        case BUILD_HELD:
            break;
        }
        json = instance_json(cases[i].uuid, host_name(h), vm, task, 1, 64,
                             SIM_IMAGE);
        fake_put(json);
    }

    runner_start_default();

    /* Domain present and running: the build finished. */
    WAIT(1, CONDUCTOR_INSTANCE_UPDATE, { "instance_uuid", q(cases[0].uuid) },
         { "updates.vm_state", q("active") },
         { "updates.power_state", "1" },
         { "expected_task_state", "[\"spawning\"]" });
    /* No domain: build_failed with the attempt and alternates of the
     * interrupted build, so the conductor reschedules. */
    WAIT(1, CONDUCTOR_BUILD_FAILED, { "instance_uuid", q(cases[1].uuid) },
         { "host", q(host_name(h)) }, { "attempt", "3" },
         { "alternates", "[{\"host\":\"alt-1\",\"node\":\"alt-1\"}]" },
         { "error.kind", q("Internal") });
    /* Deleting: the delete is finished. */
    WAIT(1, CONDUCTOR_INSTANCE_DESTROYED,
         { "instance_uuid", q(cases[2].uuid) }, { "host", q(host_name(h)) });
    wait_domain(h, cases[2].uuid, false, VIRT_POWER_NOSTATE);
    /* Another task: settled to what the domain is (running). */
    WAIT(1, CONDUCTOR_INSTANCE_UPDATE, { "instance_uuid", q(cases[3].uuid) },
         { "updates.vm_state", q("active") },
         { "updates.task_state", "null" },
         { "expected_task_state", "[\"powering-off\"]" });

    /* Scheduling: left to the build cast still on its way.  Every other
     * row has been handled by now, and this one got no message. */
    {
        struct cond any[] = {
            { "instance_uuid", q(cases[4].uuid) }, { NULL, NULL },
        };
        AUTOFREE char *task = fake_get(cases[4].uuid, "task_state");

        assert_int_equal(count_records(CONDUCTOR_INSTANCE_UPDATE, any), 0);
        assert_int_equal(count_records(CONDUCTOR_BUILD_FAILED, any), 0);
        assert_string_equal(task, "\"scheduling\"");
    }
    {
        AUTOFREE char *record = compute_spec_instance_path(
            instances_dir, cases[1].uuid, COMPUTE_SPEC_BUILD_RECORD);

        assert_int_equal(access(record, F_OK), -1);
    }
}

static void
test_boot_timeout(void **state)
{
    struct compute_manager_options o;
    const struct {
        bool marker;            /* Write the marker before the build. */
        bool active;            /* Expected outcome. */
    } cases[] = {
        { true, true },
        { false, false },
    };

    (void) state;
    runner_stop();
    runner_default_options(&o);
    o.boot_timeout_ms = TEST_BOOT_TIMEOUT_MS;
    o.boot_marker = TEST_BOOT_MARKER;
    runner_start(&o, 1);

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char uuid[UUID_STRING_SIZE];
        AUTOFREE char *json = NULL;
        bool found;

        new_uuid(uuid);
        if (cases[i].marker) {
            AUTOFREE char *dir = compute_spec_instance_path(instances_dir,
                                                            uuid, NULL);
            AUTOFREE char *log = compute_spec_instance_path(
                instances_dir, uuid, COMPUTE_SPEC_CONSOLE_LOG);
            FILE *f;

            assert_int_equal(mkdir(dir, 0755), 0);
            f = fopen(log, "w");
            assert_non_null(f);
            fputs("SeaBIOS\n" TEST_BOOT_MARKER " uptime=2.05\n", f);
            assert_int_equal(fclose(f), 0);
        }
        json = instance_json(uuid, host_name(0), "building", "scheduling",
                             0, 64, SIM_IMAGE);
        fake_put(json);
        cast_instance(host_name(0), COMPUTE_BUILD_AND_RUN_INSTANCE, uuid,
                      "{\"attempt\": 1, \"alternates\": []}");
        if (cases[i].active) {
            WAIT(1, CONDUCTOR_INSTANCE_UPDATE, { "instance_uuid", q(uuid) },
                 { "updates.vm_state", q("active") });
            assert_int_equal(domain_power(0, uuid, &found),
                             VIRT_POWER_RUNNING);
            assert_true(found);
        } else {
            struct cond conds[] = {
                { "instance_uuid", q(uuid) }, { "error.kind", q("Timeout") },
                { NULL, NULL },
            };
            CLEANUP(json_putp) struct json_object *failed = NULL;
            const char *message;

            if (!wait_records(1, CONDUCTOR_BUILD_FAILED, conds)) {
                fail_msg("no build_failed after the boot timeout");
            }
            failed = last_record(CONDUCTOR_BUILD_FAILED, conds);
            message = json_object_get_string(json_at(failed,
                                                     "error.message"));
            assert_non_null(strstr(message, "did not boot within 2 s"));
            assert_non_null(strstr(message, "'" TEST_BOOT_MARKER "' never "
                                   "appeared on its serial console"));
            /* The half-booted domain is gone. */
            (void) domain_power(0, uuid, &found);
            assert_false(found);
        }
    }
    runner_stop();
}

/* Runs the nova-compute binary with 'args' (NULL-terminated) and returns
 * its pid; its output goes to 'log'. */
static pid_t
spawn_binary(const char *const *args, const char *log)
{
    AUTOFREE char *path = xasprintf("%s/child-cell/nova-compute",
                                    getenv("top_builddir")
                                    ? getenv("top_builddir")
                                    : TEST_COMPUTE_BUILDDIR);
    size_t n = 0;
    pid_t pid;
    int fd;

    while (args[n]) {
        n++;
    }
    AUTOFREE char **argv = xcalloc(n + 2, sizeof *argv);
    argv[0] = path;
    for (size_t i = 0; i < n; i++) {
        argv[i + 1] = (char *) args[i];
    }
    fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    fflush(stdout);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        execv(path, argv);
        _exit(127);
    }
    close(fd);
    return pid;
}

/* Waits for 'pid' and returns its exit status (128 + signal if killed). */
static int
wait_binary(pid_t pid)
{
    int status;

    for (int i = 0; i < GUARD_MS / POLL_MS; i++) {
        pid_t done = waitpid(pid, &status, WNOHANG);

        if (done == pid) {
            return WIFEXITED(status) ? WEXITSTATUS(status)
                                     : 128 + WTERMSIG(status);
        }
        usleep(POLL_MS * 1000);
    }
    kill(pid, SIGKILL);
    (void) waitpid(pid, &status, 0);
    fail_msg("nova-compute did not exit");
    return -1;
}

static void
test_binary(void **state)
{
    AUTOFREE char *prefix_b = xasprintf("%sb", prefix);
    AUTOFREE char *url_set = xasprintf("transport_url=%s", url);
    AUTOFREE char *dir = xasprintf("%s/binary", state_dir);
    AUTOFREE char *dir_set = xasprintf("compute.state_path=%s", dir);
    AUTOFREE char *log = xasprintf("%s/binary.log", state_dir);
    AUTOFREE char *host1 = xasprintf("%s-0001", prefix_b);
    AUTOFREE char *host2 = xasprintf("%s-0002", prefix_b);
    const struct {
        const char *args[16];
        int status;
    } usage_cases[] = {
        { { "--set", "compute.workers=0" }, 2 },
        { { "--simulate-hosts", "two" }, 2 },
        { { "--set", "compute.default_domain_type=xen" }, 2 },
        { { "surplus" }, 2 },
        { { "--simulate-hosts", "1", "--set",
            "compute.default_domain_type=kvm", "--set", url_set }, 2 },
        { { "--simulate-hosts", "1", "--set", "compute.state_path=rel",
            "--set", url_set }, 2 },
        { { "--simulate-hosts", "1", "--set", dir_set, "--set",
            "transport_url=rabbit://nobody:nopw@127.0.0.1:1/x" }, 1 },
        { { "--help" }, 0 },
    };
    const char *const run[] = {
        "--simulate-hosts", "2", "--host", prefix_b, "--set", url_set,
        "--set", dir_set, "--set", "compute.heartbeat_interval=1",
        "--log-level", "warn", NULL,
    };
    pid_t pid;

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(usage_cases); i++) {
        print_message("nova-compute %s ...\n", usage_cases[i].args[0]);
        pid = spawn_binary(usage_cases[i].args, log);
        assert_int_equal(wait_binary(pid), usage_cases[i].status);
    }

    pid = spawn_binary(run, log);
    WAIT(1, CONDUCTOR_SERVICE_HEARTBEAT, { "host", q(host1) });
    WAIT(1, CONDUCTOR_SERVICE_HEARTBEAT, { "host", q(host2) });
    WAIT(1, CONDUCTOR_COMPUTE_NODE_UPDATE, { "host", q(host2) });
    assert_int_equal(kill(pid, SIGTERM), 0);
    assert_int_equal(wait_binary(pid), 0);
}

/* ------------------------------------------------------------------ */

static int
group_setup(void **state)
{
    struct virt_sim_hosts_config sc;
    struct compute_event_thread *events = NULL;
    struct error *error;

    (void) state;
    error = compute_event_thread_start(&events);
    if (error) {
        fprintf(stderr, "%s\n", error_message(error));
        error_free(error);
        return -1;
    }
    *state = events;

    virt_sim_hosts_config_init(&sc);
    sc.state_dir = state_dir;
    sc.prefix = prefix;
    sc.n_hosts = N_HOSTS;
    sc.cpus = SIM_VCPUS;
    sc.memory_mb = SIM_MEMORY_MB;
    sc.local_gb = SIM_DISK_GB;
    sc.soft_reboot_timeout_ms = 1000;
    error = virt_sim_hosts_create(&sc, &sim);
    if (error) {
        fprintf(stderr, "%s\n", error_message(error));
        error_free(error);
        return -1;
    }

    error = rpc_conn_open(url, NULL, &client);
    if (error) {
        fprintf(stderr, "%s\n", error_message(error));
        error_free(error);
        return -1;
    }
    pthread_mutex_init(&fake.lock, NULL);
    fake.want_serving = true;
    if (pthread_create(&fake.thread, NULL, fake_main, NULL)) {
        return -1;
    }
    return 0;
}

static int
group_teardown(void **state)
{
    runner_stop();
    pthread_mutex_lock(&fake.lock);
    fake.stop = true;
    pthread_mutex_unlock(&fake.lock);
    pthread_join(fake.thread, NULL);
    rpc_conn_free(client);
    virt_sim_hosts_free(sim);
    compute_event_thread_stop(*state);
    for (size_t i = 0; i < fake.n_records; i++) {
        free(fake.records[i].method);
        free(fake.records[i].args);
    }
    free(fake.records);
    for (size_t i = 0; i < fake.n_instances; i++) {
        json_object_put(fake.instances[i].obj);
    }
    pthread_mutex_destroy(&fake.lock);
    return 0;
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_heartbeats_and_inventory),
        cmocka_unit_test(test_build_active),
        cmocka_unit_test(test_build_failures),
        cmocka_unit_test(test_actions),
        cmocka_unit_test(test_console_output),
        cmocka_unit_test(test_parallel_builds),
        cmocka_unit_test(test_domain_stopped_outside),
        cmocka_unit_test(test_conductor_briefly_absent),
        cmocka_unit_test(test_restart_recovers),
        cmocka_unit_test(test_boot_timeout),
        cmocka_unit_test(test_binary),
    };
    char id[UUID_STRING_SIZE];
    const char *base;
    int port;

    test_env_require(argc, argv, "rabbitmq");
    if (!strstr(test_env_get("NOVA_TEST_CELLS"), TEST_VHOST)
        && test_env_add_cell(TEST_VHOST)) {
        fprintf(stderr, "test-compute: cannot add vhost '%s'\n", TEST_VHOST);
        return 1;
    }
    port = test_env_get_port("NOVA_TEST_RABBIT_PORT");
    snprintf(url, sizeof url, "rabbit://%s:%spw@127.0.0.1:%d/%s",
             TEST_VHOST, TEST_VHOST, port, TEST_VHOST);
    uuid_generate_string(id);
    snprintf(prefix, sizeof prefix, "c%.8s", id);
    base = getenv("NOVA_TEST_STATE_DIR");
    snprintf(state_dir, sizeof state_dir, "%s/compute-%s",
             base && *base ? base : "/tmp", prefix);
    if (mkdir(state_dir, 0755) < 0 && errno != EEXIST) {
        fprintf(stderr, "test-compute: cannot create '%s': %s\n", state_dir,
                strerror(errno));
        return 1;
    }
    snprintf(instances_dir, sizeof instances_dir, "%s/instances", state_dir);
    if (!getenv("NOVA_TEST_COMPUTE_VERBOSE")) {
        /* The tests provoke warnings on purpose (failed builds, a missing
         * conductor); keep the TAP output readable. */
        (void) log_set_levels("err");
    }
    return cmocka_run_group_tests_name("compute", tests, group_setup,
                                       group_teardown);
}
