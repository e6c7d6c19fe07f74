/* test-conductor.c: nova-conductor and nova-scheduler against a real
 * MariaDB and RabbitMQ.
 *
 * The group setup creates a cell of its own for the run (database and
 * vhost, test_env_add_cell()), brings its schema up to date, and starts
 * the real nova-conductor and nova-scheduler binaries as child processes.
 * The compute hosts are played by this program: a thread with its own
 * broker connection serves "compute.<host>" for N_HOSTS fake hosts and
 * answers like nova-compute does (instance_update to active, build_failed
 * when told to fail, instance_destroyed after terminate_instance).  The
 * test thread talks to the conductor with its own connection and checks
 * the outcome in the database.
 *
 * Cases: a boot spread over the hosts; a redelivered build request that
 * changes nothing; 200 concurrent boots with no host over its capacity,
 * then more boots than the room left; two conductors and two schedulers
 * on one cell; a reschedule after a
 * failed build; max attempts exhausted; no valid host; the server actions
 * and refused transitions; instance_update's expected task state;
 * instances_on_host and instance_list; the real nova-compute on simulated
 * hosts; "nova-manage service" commands; a delete on a host that is down.
 * The daemons must stop cleanly on SIGTERM (exit status 0, which under
 * the sanitizers also means no leak).
 *
 * Waits are bounded polls whose deadlines only turn a hang into a failure;
 * no assertion is about speed.  The time the 200 boots took is printed as
 * a TAP comment. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
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
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "cells-rpc/rpc-msg.h"
#include "cells-rpc/rpc-server.h"
#include "cells-rpc/rpc.h"
#include "child-cell/cell-db.h"
#include "child-cell/rpcapi.h"
#include "shared/db-migrate.h"
#include "shared/db.h"
#include "shared/error.h"
#include "shared/flavor.h"
#include "shared/instance.h"
#include "shared/json-util.h"
#include "shared/poll-loop.h"
#include "shared/timeutil.h"
#include "shared/uuid-util.h"
#include "shared/xalloc.h"
#include "tests/integration/test-env.h"

#ifndef TEST_CONDUCTOR_BUILDDIR
#define TEST_CONDUCTOR_BUILDDIR "."
#endif

/* Longest wait for an asynchronous outcome (generous: the sanitizer build
 * of 200 boots must fit). */
#define GUARD_MS 180000
#define POLL_MS 20
/* Longest wait for a daemon to exit after SIGTERM. */
#define STOP_GUARD_MS 30000

/* The fake compute hosts and their size: RAM limits them to HOST_SLOTS
 * instances of the small flavor each. */
#define N_HOSTS 6
#define HOST_SLOTS 36
#define HOST_VCPUS 16
#define HOST_DISK_GB 400
#define SMALL_MEMORY_MB 256
#define HOST_MEMORY_MB (HOST_SLOTS * SMALL_MEMORY_MB)
/* Seconds between the fake hosts' heartbeats. */
#define FAKE_HEARTBEAT_S 5

#define N_CONCURRENT 200
/* Boots beyond the room the concurrent ones leave. */
#define N_OVERFLOW 30
#define MAX_ATTEMPTS 3
/* How often the scheduler reads the host states, in milliseconds. */
#define REFRESH_MS 100

/* Most daemons running at once. */
#define MAX_CHILDREN 8

#define PROJECT_ID "7a3c0a1e2d6f4d0c8d9c6b1b2a3f4e5d"
#define USER_ID "c1d2e3f4a5b6478899aabbccddeeff00"
#define SIMULATED_FAILURE "Simulated build failure"

/* The run's cell, servers and daemons. */
static struct {
    char cell[32];              /* vhost, database suffix and user */
    char *db_url;
    char *rabbit_url;
    char *state_dir;            /* logs of the daemons */
    char conductor_host[64];
    char scheduler_host[64];
    char hosts[N_HOSTS][64];
    pid_t conductor_pid;
    pid_t scheduler_pid;
    pid_t children[MAX_CHILDREN];   /* every daemon started and not yet
                                     * stopped */
    struct db *db;              /* the test thread's */
    struct rpc_conn *conn;      /* the test thread's */
} T;

/* ------------------------------------------------------------------ */
/* Helpers. */

static void
sleep_ms(long long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

    while (nanosleep(&ts, &ts) && errno == EINTR) {
        continue;
    }
}

static void
check(struct error *error, const char *what)
{
    if (error) {
        fail_msg("%s: %s", what, error_message(error));
    }
}

static struct json_object *
parse(const char *text)
{
    struct json_object *doc = NULL;

    check(json_parse_text(text, strlen(text), 0, 0, &doc), text);
    return doc;
}

/* The FLAVOR of 'vcpus', 'memory_mb' and 'root_gb'. */
static struct json_object *
flavor_json(int64_t vcpus, int64_t memory_mb, int64_t root_gb)
{
    CLEANUP(flavor_freep) struct flavor *f = flavor_new("t1", "test.flavor");

    f->vcpus = vcpus;
    f->memory_mb = memory_mb;
    f->root_gb = root_gb;
    return flavor_to_json(f);
}

/* A new INSTANCE named 'name' with 'flavor' (borrowed); its uuid goes to
 * 'uuid'. */
static struct json_object *
instance_json(const char *name, const struct json_object *flavor,
              char uuid[UUID_STRING_SIZE])
{
    struct json_object *inst = json_object_new_object();
    struct json_object *copy = NULL;

    uuid_generate_string(uuid);
    assert_int_equal(json_object_deep_copy((struct json_object *) flavor,
                                           &copy, NULL), 0);
    json_object_object_add(inst, "uuid", json_object_new_string(uuid));
    json_object_object_add(inst, "display_name",
                           json_object_new_string(name));
    json_object_object_add(inst, "project_id",
                           json_object_new_string(PROJECT_ID));
    json_object_object_add(inst, "user_id", json_object_new_string(USER_ID));
    json_object_object_add(inst, "flavor", copy);
    json_object_object_add(inst, "vm_state",
                           json_object_new_string("building"));
    return inst;
}

/* build_instances arguments for 'n' new instances named 'name'; their
 * uuids go to 'uuids'. */
static struct json_object *
build_args(const char *name, size_t n, int64_t vcpus, int64_t memory_mb,
           char (*uuids)[UUID_STRING_SIZE])
{
    CLEANUP(json_putp) struct json_object *flavor
        = flavor_json(vcpus, memory_mb, 1);
    struct json_object *args = json_object_new_object();
    struct json_object *spec = json_object_new_object();
    struct json_object *instances = json_object_new_array();

    json_object_object_add(spec, "flavor", json_object_get(flavor));
    json_object_object_add(spec, "num_instances",
                           json_object_new_int64((int64_t) n));
    json_object_object_add(spec, "availability_zone", NULL);
    for (size_t i = 0; i < n; i++) {
        json_object_array_add(instances,
                              instance_json(name, flavor, uuids[i]));
    }
    json_object_object_add(args, "spec", spec);
    json_object_object_add(args, "instances", instances);
    return args;
}

static struct rpc_msg *
new_msg(const char *method, struct json_object *args)
{
    struct rpc_msg *msg = rpc_msg_new(method, args);
    AUTOFREE char *request_id = request_id_new();

    rpc_ctx_set_request_id(&msg->ctx, request_id);
    rpc_ctx_set_user(&msg->ctx, USER_ID, PROJECT_ID);
    return msg;
}

/* Casts 'method' with 'args' (a reference taken) to the conductor. */
static void
cast_conductor(const char *method, struct json_object *args)
{
    CLEANUP(rpc_msg_freep) struct rpc_msg *msg = new_msg(method, args);
    const struct rpc_target target = { CONDUCTOR_TOPIC, NULL };

    check(rpc_cast(T.conn, &target, msg), method);
    check(rpc_conn_flush(T.conn, GUARD_MS), "flush");
}

/* Calls 'method' with 'args' (a reference taken) on the conductor;
 * returns its error (the result, if any, goes to '*ret_result' when not
 * NULL). */
static struct error *
call_conductor(const char *method, struct json_object *args,
               struct json_object **ret_result)
{
    CLEANUP(rpc_msg_freep) struct rpc_msg *msg = new_msg(method, args);
    const struct rpc_target target = { CONDUCTOR_TOPIC, NULL };
    struct json_object *result = NULL;
    struct error *error = rpc_call(T.conn, &target, msg, GUARD_MS, &result);

    if (ret_result) {
        *ret_result = result;
    } else {
        json_object_put(result);
    }
    return error;
}

static struct json_object *
uuid_args(const char *uuid)
{
    struct json_object *args = json_object_new_object();

    json_object_object_add(args, "instance_uuid",
                           json_object_new_string(uuid));
    return args;
}

static struct instance *
get_instance(const char *uuid, bool read_deleted)
{
    struct instance *inst = NULL;

    check(cell_db_instance_get(T.db, uuid, read_deleted, &inst), uuid);
    return inst;
}

/* Counts the instances named 'name' (not deleted) per vm_state. */
static void
count_states(const char *name, size_t *ret_active, size_t *ret_error,
             size_t *ret_other)
{
    CLEANUP(instance_list_freep) struct instance_list *list = NULL;
    size_t active = 0, errors = 0, other = 0;

    check(cell_db_instance_list(T.db, NULL, &list), "list");
    for (size_t i = 0; i < list->n; i++) {
        const struct instance *inst = list->items[i];

        if (!inst->display_name || strcmp(inst->display_name, name)) {
            continue;
        }
        if (inst->vm_state == INSTANCE_VM_ACTIVE
            && inst->task_state == INSTANCE_TASK_NONE) {
            active++;
        } else if (inst->vm_state == INSTANCE_VM_ERROR) {
            errors++;
        } else {
            other++;
        }
    }
    *ret_active = active;
    *ret_error = errors;
    *ret_other = other;
}

/* Waits until the 'n' instances named 'name' are recorded and none is on
 * its way (all active or error). */
static void
wait_settled(const char *name, size_t n, size_t *ret_active,
             size_t *ret_error)
{
    long long deadline = poll_loop_now_ms() + GUARD_MS;
    size_t other;

    for (;;) {
        count_states(name, ret_active, ret_error, &other);
        if (!other && *ret_active + *ret_error >= n) {
            return;
        }
        if (poll_loop_now_ms() > deadline) {
            fail_msg("of %zu instances named '%s', %zu active, %zu in "
                     "error, %zu on their way", n, name, *ret_active,
                     *ret_error, other);
        }
        sleep_ms(POLL_MS);
    }
}

/* Waits until instance 'uuid' is recorded and has 'vm_state' and no
 * task. */
static struct instance *
wait_state(const char *uuid, enum instance_vm_state vm_state)
{
    long long deadline = poll_loop_now_ms() + GUARD_MS;

    for (;;) {
        struct instance *inst = NULL;
        struct error *error = cell_db_instance_get(T.db, uuid, true, &inst);

        if (error && error_kind(error) != ERROR_NOT_FOUND) {
            check(error, uuid);
        }
        error_free(error);
        if (inst && inst->vm_state == vm_state
            && inst->task_state == INSTANCE_TASK_NONE) {
            return inst;
        }
        if (poll_loop_now_ms() > deadline) {
            fail_msg("instance %s stays %s/%s, expected %s", uuid,
                     inst ? instance_vm_state_to_string(inst->vm_state)
                          : "unrecorded",
                     inst ? instance_task_state_to_string(inst->task_state)
                          : "-",
                     instance_vm_state_to_string(vm_state));
        }
        instance_free(inst);
        sleep_ms(POLL_MS);
    }
}

/* Checks every compute node: usage within capacity, and equal to the sum
 * of the flavors of the instances on it (the claims agree with the
 * instances).  Returns the number of instances on the nodes. */
static size_t
check_claims(void)
{
    CLEANUP(cell_db_node_list_freep) struct cell_db_node_list *nodes = NULL;
    size_t total = 0;

    check(cell_db_node_list(T.db, CELL_DB_SERVICE_DOWN_TIME_S, &nodes),
          "nodes");
    for (size_t i = 0; i < nodes->n; i++) {
        const struct cell_db_node *n = &nodes->items[i];
        const struct cell_db_instance_filter filter = {
            .host = n->host, .node = n->node,
        };
        CLEANUP(instance_list_freep) struct instance_list *list = NULL;
        int64_t vcpus = 0, memory_mb = 0, disk_gb = 0;

        check(cell_db_instance_list(T.db, &filter, &list), n->host);
        for (size_t k = 0; k < list->n; k++) {
            vcpus += list->items[k]->flavor->vcpus;
            memory_mb += list->items[k]->flavor->memory_mb;
            disk_gb += flavor_disk_gb(list->items[k]->flavor);
        }
        if (n->vcpus_used > cell_db_node_capacity_vcpus(n)
            || n->memory_mb_used > cell_db_node_capacity_memory_mb(n)
            || n->local_gb_used * 1024 > cell_db_node_capacity_disk_mb(n)) {
            fail_msg("host '%s' is oversubscribed: %lld vCPUs, %lld MiB, "
                     "%lld GiB used", n->host, (long long) n->vcpus_used,
                     (long long) n->memory_mb_used,
                     (long long) n->local_gb_used);
        }
        if (n->vcpus_used != vcpus || n->memory_mb_used != memory_mb
            || n->local_gb_used != disk_gb
            || n->num_instances != (int64_t) list->n) {
            fail_msg("host '%s' claims %lld vCPUs %lld MiB %lld GiB for %lld "
                     "instances, its instances use %lld %lld %lld (%zu)",
                     n->host, (long long) n->vcpus_used,
                     (long long) n->memory_mb_used,
                     (long long) n->local_gb_used,
                     (long long) n->num_instances, (long long) vcpus,
                     (long long) memory_mb, (long long) disk_gb, list->n);
        }
        total += list->n;
    }
    return total;
}

/* ------------------------------------------------------------------ */
/* The fake compute hosts: one thread, one connection, one server per
 * host. */

static struct {
    pthread_t thread;
    int stop_pipe[2];
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool ready;
    bool stop;

    /* Behaviour, set by the test thread (under 'lock'). */
    int fail_builds;                    /* next builds to fail */
    char fail_uuid[UUID_STRING_SIZE];   /* fail every build of this one */

    /* What it saw (under 'lock'). */
    unsigned int n_builds;
    unsigned int n_failed;
    unsigned int n_terminates;
    unsigned int n_actions;
    unsigned int n_update_errors;
    char first_failed_host[64];
    char last_update_error[512];

    /* Thread only. */
    struct rpc_conn *conn;
    struct rpc_server *servers[N_HOSTS];
} F;

static unsigned int
fake_get(const unsigned int *counter)
{
    unsigned int n;

    pthread_mutex_lock(&F.lock);
    n = *counter;
    pthread_mutex_unlock(&F.lock);
    return n;
}

static void
fake_update_done(struct json_object *result, struct error *error, void *aux)
{
    (void) aux;
    json_object_put(result);
    if (error) {
        pthread_mutex_lock(&F.lock);
        F.n_update_errors++;
        snprintf(F.last_update_error, sizeof F.last_update_error, "%s",
                 error_message(error));
        pthread_mutex_unlock(&F.lock);
        error_free(error);
    }
}

/* Sends 'method' with 'args' (taken) to the conductor on behalf of 'req':
 * a call answered to fake_update_done() when 'call', else a cast. */
static void
fake_send(const struct rpc_request *req, const char *method,
          struct json_object *args, bool call)
{
    CLEANUP(rpc_msg_freep) struct rpc_msg *msg = rpc_msg_new(method, args);
    const struct rpc_target target = { CONDUCTOR_TOPIC, NULL };
    struct error *error;

    if (req) {
        rpc_ctx_destroy(&msg->ctx);
        rpc_ctx_clone(&msg->ctx, &rpc_request_msg(req)->ctx);
    }
    if (call) {
        error = rpc_call_async(F.conn, &target, msg, GUARD_MS,
                               fake_update_done, NULL);
    } else {
        error = rpc_cast(F.conn, &target, msg);
    }
    if (error) {
        fake_update_done(NULL, error, NULL);
    }
}

/* instance_update of 'uuid' to 'vm_state' and 'power_state', no task,
 * expecting task state 'expected' (or also null when 'or_none'). */
static void
fake_update(const struct rpc_request *req, const char *uuid,
            const char *vm_state, int power_state, const char *expected,
            bool or_none, bool launched)
{
    struct json_object *args = uuid_args(uuid);
    struct json_object *updates = json_object_new_object();
    struct json_object *exp = json_object_new_array();
    char now[TIME_ISO8601_SIZE];

    json_object_object_add(updates, "vm_state",
                           json_object_new_string(vm_state));
    json_object_object_add(updates, "task_state", NULL);
    json_object_object_add(updates, "power_state",
                           json_object_new_int(power_state));
    if (launched) {
        assert_int_equal(time_format_iso8601(time_now_ms(),
                                             TIME_STYLE_MICROS, now,
                                             sizeof now), 0);
        json_object_object_add(updates, "launched_at",
                               json_object_new_string(now));
    }
    json_object_array_add(exp, json_object_new_string(expected));
    if (or_none) {
        json_object_array_add(exp, NULL);
    }
    json_object_object_add(args, "updates", updates);
    json_object_object_add(args, "expected_task_state", exp);
    fake_send(req, CONDUCTOR_INSTANCE_UPDATE, args, true);
}

static void
fake_event(const struct rpc_request *req, const char *uuid,
           const char *event, const char *result, const char *host)
{
    struct json_object *args = uuid_args(uuid);

    json_object_object_add(args, "event", json_object_new_string(event));
    json_object_object_add(args, "result", json_object_new_string(result));
    json_object_object_add(args, "host", json_object_new_string(host));
    fake_send(req, CONDUCTOR_ACTION_EVENT, args, false);
}

static const char *
fake_field(const struct json_object *obj, const char *field)
{
    struct json_object *value = NULL;

    json_object_object_get_ex(obj, field, &value);
    return value ? json_object_get_string(value) : NULL;
}

static struct error *
fake_build(struct rpc_request *req, void *aux,
           struct json_object **ret_result)
{
    const struct json_object *args = rpc_request_msg(req)->args;
    struct json_object *inst = json_object_object_get(args, "instance");
    const char *uuid = fake_field(inst, "uuid");
    const char *host = fake_field(inst, "host");
    const char *node = fake_field(inst, "node");
    bool fail;

    (void) aux;
    (void) ret_result;
    pthread_mutex_lock(&F.lock);
    F.n_builds++;
    fail = !strcmp(F.fail_uuid, uuid) || F.fail_builds > 0;
    if (fail) {
        if (F.fail_builds > 0) {
            F.fail_builds--;
        }
        if (!F.n_failed++) {
            snprintf(F.first_failed_host, sizeof F.first_failed_host, "%s",
                     host);
        }
    }
    pthread_mutex_unlock(&F.lock);

    if (!fail) {
        fake_update(req, uuid, "active", INSTANCE_POWER_RUNNING,
                    "scheduling", true, true);
        fake_event(req, uuid, "compute_build_and_run_instance", "Success",
                   host);
        return NULL;
    }

    CLEANUP(error_freep) struct error *why = error_new(
        ERROR_INTERNAL, SIMULATED_FAILURE " on host %s", host);
    struct json_object *failed = uuid_args(uuid);

    json_object_object_add(failed, "host", json_object_new_string(host));
    json_object_object_add(failed, "node", json_object_new_string(node));
    json_object_object_add(failed, "error", error_to_json(why));
    json_object_object_add(failed, "attempt", json_object_get(
                               json_object_object_get(args, "attempt")));
    json_object_object_add(failed, "alternates", json_object_get(
                               json_object_object_get(args, "alternates")));
    fake_event(req, uuid, "compute_build_and_run_instance", "Error", host);
    fake_send(req, CONDUCTOR_BUILD_FAILED, failed, false);
    return NULL;
}

static struct error *
fake_terminate(struct rpc_request *req, void *aux,
               struct json_object **ret_result)
{
    struct json_object *inst = json_object_object_get(
        rpc_request_msg(req)->args, "instance");
    struct json_object *args = uuid_args(fake_field(inst, "uuid"));

    (void) aux;
    (void) ret_result;
    pthread_mutex_lock(&F.lock);
    F.n_terminates++;
    pthread_mutex_unlock(&F.lock);
    json_object_object_add(args, "host",
                           json_object_new_string(fake_field(inst, "host")));
    fake_send(req, CONDUCTOR_INSTANCE_DESTROYED, args, false);
    return NULL;
}

/* The power actions: the state each leaves the instance in, from the
 * task state the conductor set. */
static const struct {
    const char *method;
    const char *vm_state;
    int power_state;
} fake_actions[] = {
    { COMPUTE_STOP_INSTANCE, "stopped", INSTANCE_POWER_SHUTDOWN },
    { COMPUTE_START_INSTANCE, "active", INSTANCE_POWER_RUNNING },
    { COMPUTE_REBOOT_INSTANCE, "active", INSTANCE_POWER_RUNNING },
    { COMPUTE_PAUSE_INSTANCE, "paused", INSTANCE_POWER_PAUSED },
    { COMPUTE_UNPAUSE_INSTANCE, "active", INSTANCE_POWER_RUNNING },
    { COMPUTE_SUSPEND_INSTANCE, "suspended", INSTANCE_POWER_SUSPENDED },
    { COMPUTE_RESUME_INSTANCE, "active", INSTANCE_POWER_RUNNING },
};

static struct error *
fake_action(struct rpc_request *req, void *aux,
            struct json_object **ret_result)
{
    const struct rpc_msg *msg = rpc_request_msg(req);
    struct json_object *inst = json_object_object_get(msg->args, "instance");

    (void) aux;
    (void) ret_result;
    pthread_mutex_lock(&F.lock);
    F.n_actions++;
    pthread_mutex_unlock(&F.lock);
    for (size_t i = 0; i < ARRAY_SIZE(fake_actions); i++) {
        if (!strcmp(msg->method, fake_actions[i].method)) {
            fake_update(req, fake_field(inst, "uuid"),
                        fake_actions[i].vm_state,
                        fake_actions[i].power_state,
                        fake_field(inst, "task_state"), false, false);
        }
    }
    return NULL;
}

static const struct rpc_method fake_methods[] = {
    { COMPUTE_BUILD_AND_RUN_INSTANCE, fake_build, NULL },
    { COMPUTE_TERMINATE_INSTANCE, fake_terminate, NULL },
    { COMPUTE_STOP_INSTANCE, fake_action, NULL },
    { COMPUTE_START_INSTANCE, fake_action, NULL },
    { COMPUTE_REBOOT_INSTANCE, fake_action, NULL },
    { COMPUTE_PAUSE_INSTANCE, fake_action, NULL },
    { COMPUTE_UNPAUSE_INSTANCE, fake_action, NULL },
    { COMPUTE_SUSPEND_INSTANCE, fake_action, NULL },
    { COMPUTE_RESUME_INSTANCE, fake_action, NULL },
};

static void
fake_heartbeats(void)
{
    for (size_t i = 0; i < N_HOSTS; i++) {
        struct json_object *args = json_object_new_object();

        json_object_object_add(args, "host",
                               json_object_new_string(T.hosts[i]));
        json_object_object_add(args, "binary",
                               json_object_new_string("nova-compute"));
        json_object_object_add(args, "topic",
                               json_object_new_string(COMPUTE_TOPIC));
        json_object_object_add(args, "version", json_object_new_int(1));
        fake_send(NULL, CONDUCTOR_SERVICE_HEARTBEAT, args, false);
    }
}

static void
fake_node_reports(void)
{
    for (size_t i = 0; i < N_HOSTS; i++) {
        AUTOFREE char *text = xasprintf(
            "{\"host\": \"%s\", \"node\": \"%s\", \"inventory\": "
            "{\"vcpus\": %d, \"memory_mb\": %d, \"local_gb\": %d, "
            "\"hypervisor_type\": \"QEMU\", \"hypervisor_version\": "
            "8002000, \"hypervisor_hostname\": \"%s\", \"cpu_info\": "
            "\"{\\\"arch\\\": \\\"x86_64\\\"}\", \"running_vms\": 0}}",
            T.hosts[i], T.hosts[i], HOST_VCPUS, HOST_MEMORY_MB,
            HOST_DISK_GB, T.hosts[i]);

        fake_send(NULL, CONDUCTOR_COMPUTE_NODE_UPDATE, parse(text), false);
    }
}

static void *
fake_main(void *aux)
{
    long long next_heartbeat;
    struct error *error;

    (void) aux;
    check(rpc_conn_open(T.rabbit_url, NULL, &F.conn), "fake compute");
    for (size_t i = 0; i < N_HOSTS; i++) {
        const struct rpc_server_options options = {
            .topic = COMPUTE_TOPIC,
            .server = T.hosts[i],
            .version = COMPUTE_RPC_VERSION,
            .methods = fake_methods,
            .n_methods = ARRAY_SIZE(fake_methods),
        };

        check(rpc_server_new(F.conn, &options, &F.servers[i]), T.hosts[i]);
    }
    fake_heartbeats();
    fake_node_reports();
    next_heartbeat = poll_loop_now_ms() + FAKE_HEARTBEAT_S * 1000;

    pthread_mutex_lock(&F.lock);
    F.ready = true;
    pthread_cond_broadcast(&F.cond);
    pthread_mutex_unlock(&F.lock);

    for (;;) {
        bool stop;

        rpc_conn_run(F.conn);
        if (poll_loop_now_ms() >= next_heartbeat) {
            fake_heartbeats();
            next_heartbeat = poll_loop_now_ms() + FAKE_HEARTBEAT_S * 1000;
        }
        pthread_mutex_lock(&F.lock);
        stop = F.stop;
        pthread_mutex_unlock(&F.lock);
        if (stop) {
            break;
        }
        rpc_conn_wait(F.conn);
        poll_fd_wait(F.stop_pipe[0], POLLIN);
        poll_timer_wait_until(next_heartbeat);
        poll_block();
    }
    poll_loop_reset();
    error = rpc_conn_flush(F.conn, STOP_GUARD_MS);
    error_free(error);
    for (size_t i = 0; i < N_HOSTS; i++) {
        rpc_server_free(F.servers[i]);
    }
    rpc_conn_free(F.conn);
    return NULL;
}

static void
fake_start(void)
{
    pthread_mutex_init(&F.lock, NULL);
    pthread_cond_init(&F.cond, NULL);
    assert_int_equal(pipe2(F.stop_pipe, O_CLOEXEC | O_NONBLOCK), 0);
    assert_int_equal(pthread_create(&F.thread, NULL, fake_main, NULL), 0);
    pthread_mutex_lock(&F.lock);
    while (!F.ready) {
        pthread_cond_wait(&F.cond, &F.lock);
    }
    pthread_mutex_unlock(&F.lock);
}

static void
fake_stop(void)
{
    pthread_mutex_lock(&F.lock);
    F.stop = true;
    pthread_mutex_unlock(&F.lock);
    assert_int_equal(write(F.stop_pipe[1], "x", 1), 1);
    pthread_join(F.thread, NULL);
    close(F.stop_pipe[0]);
    close(F.stop_pipe[1]);
    pthread_cond_destroy(&F.cond);
    pthread_mutex_destroy(&F.lock);
}

/* ------------------------------------------------------------------ */
/* The daemons. */

/* Starts 'program' of the build tree with the run's transport URL, its log
 * in 'log_name' and the options 'extra' (NULL-terminated). */
static pid_t
spawn(const char *program, const char *log_name, const char *const *extra)
{
    AUTOFREE char *path = xasprintf("%s/child-cell/%s",
                                    TEST_CONDUCTOR_BUILDDIR, program);
    AUTOFREE char *log_path = xasprintf("%s/%s", T.state_dir, log_name);
    AUTOFREE char *transport = xasprintf("transport_url=%s", T.rabbit_url);
    const char *argv[32];
    size_t n = 0;
    pid_t pid;

    argv[n++] = program;
    argv[n++] = "--set";
    argv[n++] = transport;
    argv[n++] = "--log-file";
    argv[n++] = log_path;
    for (size_t i = 0; extra[i]; i++) {
        argv[n++] = extra[i];
    }
    argv[n] = NULL;

    pid = fork();
    assert_true(pid >= 0);
    if (pid) {
        for (size_t i = 0; i < MAX_CHILDREN; i++) {
            if (!T.children[i]) {
                T.children[i] = pid;
                return pid;
            }
        }
        fail_msg("more than %d daemons", MAX_CHILDREN);
    } else {
        int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
                      0644);

        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
        }
        execv(path, (char *const *) argv);
        fprintf(stderr, "cannot run %s: %s\n", path, strerror(errno));
        _exit(127);
    }
    return pid;
}

/* Forgets daemon 'pid': it has exited. */
static void
forget_child(pid_t pid)
{
    for (size_t i = 0; i < MAX_CHILDREN; i++) {
        if (T.children[i] == pid) {
            T.children[i] = 0;
        }
    }
}

/* Stops daemon 'pid' with SIGTERM and returns its exit status (-1 if it
 * had to be killed). */
static int
stop_daemon(pid_t pid)
{
    long long deadline = poll_loop_now_ms() + STOP_GUARD_MS;
    int status;

    if (pid <= 0) {
        return 0;
    }
    kill(pid, SIGTERM);
    for (;;) {
        pid_t done = waitpid(pid, &status, WNOHANG);

        if (done == pid) {
            forget_child(pid);
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        }
        if (poll_loop_now_ms() > deadline) {
            fprintf(stderr, "daemon %ld ignored SIGTERM for %d ms, killing "
                    "it\n", (long) pid, STOP_GUARD_MS);
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            forget_child(pid);
            return -1;
        }
        sleep_ms(POLL_MS);
    }
}

/* True once the daemon's log file holds 'n' lines containing 'text'. */
static bool
log_has(const char *log_name, const char *text, size_t n)
{
    AUTOFREE char *path = xasprintf("%s/%s", T.state_dir, log_name);
    FILE *f = fopen(path, "r");
    char line[4096];
    size_t found = 0;

    if (!f) {
        return false;
    }
    while (fgets(line, sizeof line, f)) {
        found += strstr(line, text) != NULL;
    }
    fclose(f);
    return found >= n;
}

static void
wait_log(const char *log_name, const char *text, size_t n)
{
    long long deadline = poll_loop_now_ms() + GUARD_MS;

    while (!log_has(log_name, text, n)) {
        if (poll_loop_now_ms() > deadline) {
            fail_msg("%s never logged '%s' %zu times", log_name, text, n);
        }
        sleep_ms(POLL_MS);
    }
}

/* Runs nova-manage with 'args' against the run's cell database; returns
 * its standard output (the caller frees it) and stores its exit status in
 * '*ret_status'. */
static char *
run_manage(const char *const *args, int *ret_status)
{
    AUTOFREE char *path = xasprintf("%s/api-cell/nova-manage",
                                    TEST_CONDUCTOR_BUILDDIR);
    AUTOFREE char *database = xasprintf("database.connection=%s", T.db_url);
    const char *argv[16] = { "nova-manage", "--set", database };
    size_t n = 3;
    int pipe_fds[2];
    size_t size = 0;
    char *out = xzalloc(1);
    pid_t pid;
    int status;

    for (size_t i = 0; args[i]; i++) {
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    assert_int_equal(pipe2(pipe_fds, O_CLOEXEC), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (!pid) {
        dup2(pipe_fds[1], STDOUT_FILENO);
        execv(path, (char *const *) argv);
        _exit(127);
    }
    close(pipe_fds[1]);
    for (;;) {
        char buf[4096];
        ssize_t got = read(pipe_fds[0], buf, sizeof buf);

        if (got <= 0) {
            break;
        }
        out = xrealloc(out, size + (size_t) got + 1);
        memcpy(out + size, buf, (size_t) got);
        size += (size_t) got;
        out[size] = '\0';
    }
    close(pipe_fds[0]);
    waitpid(pid, &status, 0);
    *ret_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return out;
}

/* Deletes every instance of the cell and waits until they are gone and
 * no claim is left. */
static void
delete_all(void)
{
    CLEANUP(instance_list_freep) struct instance_list *list = NULL;
    long long deadline = poll_loop_now_ms() + GUARD_MS;

    check(cell_db_instance_list(T.db, NULL, &list), "list");
    for (size_t i = 0; i < list->n; i++) {
        cast_conductor(CONDUCTOR_DELETE_INSTANCE,
                       uuid_args(list->items[i]->uuid));
    }
    for (;;) {
        CLEANUP(instance_list_freep) struct instance_list *left = NULL;

        check(cell_db_instance_list(T.db, NULL, &left), "list");
        if (!left->n) {
            break;
        }
        if (poll_loop_now_ms() > deadline) {
            fail_msg("%zu instances not deleted", left->n);
        }
        sleep_ms(POLL_MS);
    }
    assert_int_equal(check_claims(), 0);
}

/* ------------------------------------------------------------------ */
/* Setup. */

/* Descriptors nftw() may keep open while removing the logs. */
#define NFTW_FDS 16

static int
remove_entry(const char *path, const struct stat *st, int type,
             struct FTW *ftw)
{
    (void) st;
    (void) type;
    (void) ftw;
    return remove(path);
}

static int
group_setup(void **state)
{
    CLEANUP(test_env_url_freep) struct test_env_url *rabbit
        = test_env_url_parse(test_env_get("NOVA_TEST_RABBIT_ADMIN_URL"));
    AUTOFREE char *template = NULL;
    AUTOFREE char *conductor_host = NULL;
    AUTOFREE char *scheduler_host = NULL;
    struct error *error;

    (void) state;
    snprintf(T.cell, sizeof T.cell, "cond%ld", (long) getpid());
    if (test_env_add_cell(T.cell)) {
        fprintf(stderr, "cannot create cell '%s'\n", T.cell);
        return -1;
    }
    T.rabbit_url = xasprintf("rabbit://%s:%spw@%s:%d/%s", T.cell, T.cell,
                             rabbit->host, rabbit->port, T.cell);
    T.db_url = xasprintf("%snova_%s",
                         test_env_get("NOVA_TEST_MYSQL_ADMIN_URL"), T.cell);
    template = xstrdup("/tmp/test-conductor-XXXXXX");
    if (!mkdtemp(template)) {
        return -1;
    }
    T.state_dir = TAKE_PTR(template);
    snprintf(T.conductor_host, sizeof T.conductor_host, "%s-conductor",
             T.cell);
    snprintf(T.scheduler_host, sizeof T.scheduler_host, "%s-scheduler",
             T.cell);
    for (size_t i = 0; i < N_HOSTS; i++) {
        snprintf(T.hosts[i], sizeof T.hosts[i], "%s-cmp%zu", T.cell, i);
    }

    error = db_open(T.db_url, &T.db);
    if (!error) {
        error = db_migrate(T.db, DB_SCHEMA_CELL, NULL, NULL);
    }
    if (!error) {
        error = rpc_conn_open(T.rabbit_url, NULL, &T.conn);
    }
    if (error) {
        fprintf(stderr, "setup: %s\n", error_message(error));
        error_free(error);
        return -1;
    }

    conductor_host = xasprintf("host=%s", T.conductor_host);
    scheduler_host = xasprintf("host=%s", T.scheduler_host);
    AUTOFREE char *attempts = xasprintf("conductor.max_attempts=%d",
                                        MAX_ATTEMPTS);
    AUTOFREE char *refresh = xasprintf("scheduler.refresh_interval=%d",
                                       REFRESH_MS);
    AUTOFREE char *database = xasprintf("database.connection=%s", T.db_url);
    const char *conductor_args[] = { "--set", database, "--set",
                                     conductor_host, "--set", attempts,
                                     "--set", "report_interval=1", NULL };
    const char *scheduler_args[] = { "--set", database, "--set",
                                     scheduler_host, "--set", refresh,
                                     "--set", "report_interval=1", NULL };

    T.conductor_pid = spawn("nova-conductor", "conductor.log",
                            conductor_args);
    T.scheduler_pid = spawn("nova-scheduler", "scheduler.log",
                            scheduler_args);
    fake_start();
    /* The scheduler knows every fake host once it has logged it. */
    wait_log("scheduler.log", "new compute node", N_HOSTS);
    return 0;
}

static int
group_teardown(void **state)
{
    AUTOFREE char *drop = NULL;
    int conductor_status, scheduler_status;
    struct error *error;

    (void) state;
    fake_stop();
    conductor_status = stop_daemon(T.conductor_pid);
    scheduler_status = stop_daemon(T.scheduler_pid);
    /* Daemons a failed test left running. */
    for (size_t i = 0; i < MAX_CHILDREN; i++) {
        (void) stop_daemon(T.children[i]);
    }
    rpc_conn_free(T.conn);

    /* Drop the run's database: a new run makes its own. */
    drop = xasprintf("DROP DATABASE IF EXISTS nova_%s", T.cell);
    error = db_exec_once(T.db, drop, DB_NO_PARAMS, NULL);
    error_free(error);
    db_close(T.db);

    if (conductor_status || scheduler_status) {
        fprintf(stderr, "daemons exited with %d (conductor) and %d "
                "(scheduler); logs in %s\n", conductor_status,
                scheduler_status, T.state_dir);
        return -1;
    }
    /* The logs stay for a failed run, or when NOVA_TEST_KEEP_LOGS is
     * set. */
    if (getenv("NOVA_TEST_KEEP_LOGS")) {
        fprintf(stderr, "logs in %s\n", T.state_dir);
    } else {
        (void) nftw(T.state_dir, remove_entry, NFTW_FDS,
                    FTW_DEPTH | FTW_PHYS);
    }
    free(T.state_dir);
    free(T.db_url);
    free(T.rabbit_url);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Tests. */

/* A boot of several instances lands on several hosts, all active, with
 * the "create" action and its events; a redelivered request changes
 * nothing. */
static void
test_boot_spread(void **state)
{
    enum { N = 12 };
    char uuids[N][UUID_STRING_SIZE];
    CLEANUP(json_putp) struct json_object *args
        = build_args("spread", N, 1, SMALL_MEMORY_MB, uuids);
    int64_t seqs[N];
    size_t active, errors, n_hosts_used = 0;
    unsigned int builds;

    (void) state;
    cast_conductor(CONDUCTOR_BUILD_INSTANCES, json_object_get(args));
    wait_settled("spread", N, &active, &errors);
    assert_int_equal(active, N);
    assert_int_equal(errors, 0);
    assert_int_equal(check_claims(), N);

    for (size_t h = 0; h < N_HOSTS; h++) {
        const struct cell_db_instance_filter filter = { .host = T.hosts[h] };
        CLEANUP(instance_list_freep) struct instance_list *list = NULL;

        check(cell_db_instance_list(T.db, &filter, &list), "list");
        n_hosts_used += list->n > 0;
    }
    assert_true(n_hosts_used > 1);

    for (size_t i = 0; i < N; i++) {
        CLEANUP(instance_freep) struct instance *inst
            = get_instance(uuids[i], false);
        CLEANUP(cell_db_action_list_freep) struct cell_db_action_list *acts
            = NULL;

        assert_non_null(inst->host);
        assert_true(inst->launched_at != INSTANCE_TIME_NONE);
        seqs[i] = inst->update_seq;
        check(cell_db_action_list(T.db, uuids[i], &acts), "actions");
        assert_int_equal(acts->n, 1);
        assert_string_equal(acts->items[0].action, "create");
        assert_true(acts->items[0].n_events >= 1);
        assert_string_equal(acts->items[0].events[0].event,
                            "conductor_schedule_and_build_instances");
        assert_string_equal(acts->items[0].events[0].result, "Success");
    }

    /* The same request again: the conductor handles it before the call
     * that follows it on the same queue, and changes nothing. */
    builds = fake_get(&F.n_builds);
    cast_conductor(CONDUCTOR_BUILD_INSTANCES, json_object_get(args));
    check(call_conductor(CONDUCTOR_INSTANCE_GET, uuid_args(uuids[0]), NULL),
          "barrier");
    for (size_t i = 0; i < N; i++) {
        CLEANUP(instance_freep) struct instance *inst
            = get_instance(uuids[i], false);
        CLEANUP(cell_db_action_list_freep) struct cell_db_action_list *acts
            = NULL;

        assert_int_equal(inst->update_seq, seqs[i]);
        assert_int_equal(inst->vm_state, INSTANCE_VM_ACTIVE);
        check(cell_db_action_list(T.db, uuids[i], &acts), "actions");
        assert_int_equal(acts->n, 1);
    }
    assert_int_equal(fake_get(&F.n_builds), builds);
    assert_int_equal(check_claims(), N);
    delete_all();
}

/* 200 boots at once, as one request of 100 and 100 requests of 1: all
 * active, no host over its capacity, claims equal to the instances.  Then
 * more boots than the room left. */
static void
test_concurrent_boots(void **state)
{
    enum { HALF = N_CONCURRENT / 2 };
    static char uuids[N_CONCURRENT][UUID_STRING_SIZE];
    long long start = poll_loop_now_ms();
    size_t active, errors;

    (void) state;
    cast_conductor(CONDUCTOR_BUILD_INSTANCES,
                   build_args("burst", HALF, 1, SMALL_MEMORY_MB, uuids));
    for (size_t i = HALF; i < N_CONCURRENT; i++) {
        cast_conductor(CONDUCTOR_BUILD_INSTANCES,
                       build_args("burst", 1, 1, SMALL_MEMORY_MB,
                                  &uuids[i]));
    }
    wait_settled("burst", N_CONCURRENT, &active, &errors);
    printf("# %d boots on %d hosts: all settled in %lld ms\n", N_CONCURRENT,
           N_HOSTS, poll_loop_now_ms() - start);
    assert_int_equal(errors, 0);
    assert_int_equal(active, N_CONCURRENT);
    assert_int_equal(check_claims(), N_CONCURRENT);

    /* More than the room left: every instance ends active or in error,
     * at least the excess in error, and still no host is oversubscribed.
     * (Not necessarily exactly the room left: under a burst a scheduler's
     * in-memory claim may expire before the conductor's claim lands, see
     * child-cell/scheduler-service.h, and an instance whose destinations
     * are all full then goes to error while another host has room.) */
    for (size_t i = 0; i < N_OVERFLOW; i++) {
        char uuid[1][UUID_STRING_SIZE];

        cast_conductor(CONDUCTOR_BUILD_INSTANCES,
                       build_args("overflow", 1, 1, SMALL_MEMORY_MB, uuid));
    }
    wait_settled("overflow", N_OVERFLOW, &active, &errors);
    printf("# overflow: %zu of %d active with room for %d\n", active,
           N_OVERFLOW, N_HOSTS * HOST_SLOTS - N_CONCURRENT);
    assert_true(active <= N_HOSTS * HOST_SLOTS - N_CONCURRENT);
    assert_int_equal(active + errors, N_OVERFLOW);
    assert_int_equal(check_claims(), N_CONCURRENT + active);
    delete_all();
}

/* Two conductors and two schedulers share the cell (DESIGN.md, section 7):
 * each scheduler places with its own view, so their picks collide, and
 * the claims in the database still keep every host within its capacity
 * and equal to the instances on it.  Two conductors also make InnoDB
 * deadlocks (the locking reads of instance action events), so this is
 * where the database layer's transaction retry is exercised for real. */
static void
run_two_conductors(void)
{
    AUTOFREE char *database = xasprintf("database.connection=%s", T.db_url);
    AUTOFREE char *conductor_host = xasprintf("host=%s-conductor2", T.cell);
    AUTOFREE char *scheduler_host = xasprintf("host=%s-scheduler2", T.cell);
    AUTOFREE char *refresh = xasprintf("scheduler.refresh_interval=%d",
                                       REFRESH_MS);
    const char *conductor_args[] = { "--set", database, "--set",
                                     conductor_host, NULL };
    const char *scheduler_args[] = { "--set", database, "--set",
                                     scheduler_host, "--set", refresh, NULL };
    static char uuids[N_CONCURRENT][UUID_STRING_SIZE];
    pid_t conductor2, scheduler2;
    size_t active, errors;

    conductor2 = spawn("nova-conductor", "conductor2.log", conductor_args);
    scheduler2 = spawn("nova-scheduler", "scheduler2.log", scheduler_args);
    wait_log("scheduler2.log", "new compute node", N_HOSTS);
    wait_log("conductor2.log", "serving topic", 1);

    for (size_t i = 0; i < N_CONCURRENT; i++) {
        cast_conductor(CONDUCTOR_BUILD_INSTANCES,
                       build_args("shared", 1, 1, SMALL_MEMORY_MB,
                                  &uuids[i]));
    }
    wait_settled("shared", N_CONCURRENT, &active, &errors);
    printf("# two conductors and schedulers: %zu active, %zu without a "
           "host\n", active, errors);
    assert_int_equal(check_claims(), active);
    assert_int_equal(stop_daemon(conductor2), 0);
    assert_int_equal(stop_daemon(scheduler2), 0);
    delete_all();
}

static void
test_two_conductors(void **state)
{
    (void) state;
    run_two_conductors();
}

/* A host fails its build once: the instance ends up active on another
 * host and the failed host's claim is gone. */
static void
test_reschedule(void **state)
{
    char uuid[1][UUID_STRING_SIZE];
    CLEANUP(instance_freep) struct instance *inst = NULL;
    CLEANUP(cell_db_fault_freep) struct cell_db_fault *fault = NULL;

    (void) state;
    pthread_mutex_lock(&F.lock);
    F.fail_builds = 1;
    F.n_failed = 0;
    pthread_mutex_unlock(&F.lock);

    cast_conductor(CONDUCTOR_BUILD_INSTANCES,
                   build_args("resched", 1, 1, SMALL_MEMORY_MB, uuid));
    inst = wait_state(uuid[0], INSTANCE_VM_ACTIVE);
    assert_int_equal(fake_get(&F.n_failed), 1);
    pthread_mutex_lock(&F.lock);
    assert_string_not_equal(inst->host, F.first_failed_host);
    pthread_mutex_unlock(&F.lock);
    assert_int_equal(check_claims(), 1);
    check(cell_db_fault_get_latest(T.db, uuid[0], &fault), "fault");
    assert_null(fault);
    delete_all();
}

/* Every build of an instance fails: after max_attempts it goes to error
 * with Nova's fault, and no claim is left. */
static void
test_max_attempts(void **state)
{
    char uuid[1][UUID_STRING_SIZE];
    CLEANUP(instance_freep) struct instance *inst = NULL;
    CLEANUP(cell_db_fault_freep) struct cell_db_fault *fault = NULL;
    AUTOFREE char *expected = NULL;
    unsigned int builds = fake_get(&F.n_builds);
    CLEANUP(json_putp) struct json_object *args
        = build_args("attempts", 1, 1, SMALL_MEMORY_MB, uuid);

    (void) state;
    pthread_mutex_lock(&F.lock);
    snprintf(F.fail_uuid, sizeof F.fail_uuid, "%s", uuid[0]);
    pthread_mutex_unlock(&F.lock);

    cast_conductor(CONDUCTOR_BUILD_INSTANCES, json_object_get(args));
    inst = wait_state(uuid[0], INSTANCE_VM_ERROR);
    pthread_mutex_lock(&F.lock);
    F.fail_uuid[0] = '\0';
    pthread_mutex_unlock(&F.lock);

    assert_null(inst->host);
    assert_int_equal(fake_get(&F.n_builds) - builds, MAX_ATTEMPTS);
    check(cell_db_fault_get_latest(T.db, uuid[0], &fault), "fault");
    assert_non_null(fault);
    expected = xasprintf("No valid host was found. Exceeded max scheduling "
                         "attempts %d for instance %s. Last exception: "
                         SIMULATED_FAILURE, MAX_ATTEMPTS, uuid[0]);
    if (strncmp(fault->message, expected, strlen(expected))) {
        fail_msg("fault '%s', expected '%s...'", fault->message, expected);
    }
    assert_int_equal(check_claims(), 0);
    delete_all();
}

/* A flavor no host can take: error with "No valid host was found.", and
 * a delete of it needs no compute host. */
static void
test_no_valid_host(void **state)
{
    char uuid[1][UUID_STRING_SIZE];
    CLEANUP(instance_freep) struct instance *inst = NULL;
    CLEANUP(cell_db_fault_freep) struct cell_db_fault *fault = NULL;
    CLEANUP(json_putp) struct json_object *result = NULL;
    unsigned int terminates = fake_get(&F.n_terminates);

    (void) state;
    cast_conductor(CONDUCTOR_BUILD_INSTANCES,
                   build_args("toobig", 1, 1, 10 * HOST_MEMORY_MB, uuid));
    inst = wait_state(uuid[0], INSTANCE_VM_ERROR);
    assert_null(inst->host);
    check(cell_db_fault_get_latest(T.db, uuid[0], &fault), "fault");
    assert_non_null(fault);
    assert_int_equal(fault->code, 500);
    if (strncmp(fault->message, "No valid host was found. ", 25)) {
        fail_msg("fault '%s'", fault->message);
    }

    /* Deleted at once: it never had a host. */
    check(call_conductor(CONDUCTOR_DELETE_INSTANCE, uuid_args(uuid[0]),
                         &result), "delete");
    instance_free(inst);
    inst = get_instance(uuid[0], true);
    assert_int_equal(inst->vm_state, INSTANCE_VM_DELETED);
    assert_int_equal(fake_get(&F.n_terminates), terminates);
}

/* Calls action 'method' on 'uuid' and waits for 'vm_state'. */
static void
act(const char *method, const char *uuid, const char *reboot_type,
    enum instance_vm_state vm_state)
{
    struct json_object *args = uuid_args(uuid);

    if (reboot_type) {
        json_object_object_add(args, "reboot_type",
                               json_object_new_string(reboot_type));
    }
    check(call_conductor(method, args, NULL), method);
    instance_free(wait_state(uuid, vm_state));
}

/* Calls 'method' on 'uuid' and expects it refused with 'kind' and a
 * message containing 'part'. */
static void
refused(const char *method, struct json_object *args, enum error_kind kind,
        const char *part)
{
    CLEANUP(error_freep) struct error *error
        = call_conductor(method, args, NULL);

    if (!error) {
        fail_msg("%s was accepted", method);
    }
    assert_int_equal(error_kind(error), kind);
    if (!strstr(error_message(error), part)) {
        fail_msg("%s: '%s' lacks '%s'", method, error_message(error), part);
    }
}

/* The server actions move the instance through its states; a transition
 * the state does not allow is refused and changes nothing. */
static void
test_actions(void **state)
{
    char uuid[1][UUID_STRING_SIZE];
    CLEANUP(instance_freep) struct instance *inst = NULL;
    CLEANUP(cell_db_action_list_freep) struct cell_db_action_list *acts
        = NULL;
    struct json_object *args;
    int64_t seq;

    (void) state;
    cast_conductor(CONDUCTOR_BUILD_INSTANCES,
                   build_args("actions", 1, 1, SMALL_MEMORY_MB, uuid));
    instance_free(wait_state(uuid[0], INSTANCE_VM_ACTIVE));

    act(CONDUCTOR_STOP_INSTANCE, uuid[0], NULL, INSTANCE_VM_STOPPED);
    act(CONDUCTOR_START_INSTANCE, uuid[0], NULL, INSTANCE_VM_ACTIVE);

    /* Refused: start while active, unpause while not paused, a bad reboot
     * type; nothing changes. */
    inst = get_instance(uuid[0], false);
    seq = inst->update_seq;
    refused(CONDUCTOR_START_INSTANCE, uuid_args(uuid[0]), ERROR_CONFLICT,
            "in vm_state active. Cannot start while the instance is in "
            "this state.");
    refused(CONDUCTOR_UNPAUSE_INSTANCE, uuid_args(uuid[0]), ERROR_CONFLICT,
            "Cannot unpause");
    args = uuid_args(uuid[0]);
    json_object_object_add(args, "reboot_type",
                           json_object_new_string("WARM"));
    refused(CONDUCTOR_REBOOT_INSTANCE, args, ERROR_INVALID, "reboot_type");
    refused(CONDUCTOR_STOP_INSTANCE,
            uuid_args("00000000-0000-4000-8000-000000000000"),
            ERROR_NOT_FOUND, "could not be found");
    instance_free(inst);
    inst = get_instance(uuid[0], false);
    assert_int_equal(inst->update_seq, seq);
    assert_int_equal(inst->vm_state, INSTANCE_VM_ACTIVE);

    act(CONDUCTOR_REBOOT_INSTANCE, uuid[0], "SOFT", INSTANCE_VM_ACTIVE);
    act(CONDUCTOR_REBOOT_INSTANCE, uuid[0], "HARD", INSTANCE_VM_ACTIVE);
    act(CONDUCTOR_PAUSE_INSTANCE, uuid[0], NULL, INSTANCE_VM_PAUSED);
    act(CONDUCTOR_UNPAUSE_INSTANCE, uuid[0], NULL, INSTANCE_VM_ACTIVE);
    act(CONDUCTOR_SUSPEND_INSTANCE, uuid[0], NULL, INSTANCE_VM_SUSPENDED);
    act(CONDUCTOR_RESUME_INSTANCE, uuid[0], NULL, INSTANCE_VM_ACTIVE);

    /* create, stop, start, reboot x2, pause, unpause, suspend, resume:
     * the refused requests recorded nothing. */
    check(cell_db_action_list(T.db, uuid[0], &acts), "actions");
    assert_int_equal(acts->n, 9);
    assert_string_equal(acts->items[0].action, "resume");
    assert_string_equal(acts->items[acts->n - 1].action, "create");

    /* Delete: through the compute host, then gone with its claim. */
    act(CONDUCTOR_DELETE_INSTANCE, uuid[0], NULL, INSTANCE_VM_DELETED);
    refused(CONDUCTOR_INSTANCE_GET, uuid_args(uuid[0]), ERROR_NOT_FOUND,
            "could not be found");
    assert_int_equal(check_claims(), 0);
}

/* instance_update with an expected task state the instance is not in is
 * a conflict; instances_on_host and instance_list list what runs. */
static void
test_update_and_lists(void **state)
{
    char uuids[3][UUID_STRING_SIZE];
    CLEANUP(instance_freep) struct instance *inst = NULL;
    CLEANUP(json_putp) struct json_object *result = NULL;
    struct json_object *args, *updates, *expected, *list;
    size_t active, errors, on_host = 0;

    (void) state;
    cast_conductor(CONDUCTOR_BUILD_INSTANCES,
                   build_args("lists", 3, 1, SMALL_MEMORY_MB, uuids));
    wait_settled("lists", 3, &active, &errors);
    assert_int_equal(active, 3);

    args = uuid_args(uuids[0]);
    updates = json_object_new_object();
    expected = json_object_new_array();
    json_object_object_add(updates, "vm_state",
                           json_object_new_string("error"));
    json_object_array_add(expected, json_object_new_string("spawning"));
    json_object_object_add(args, "updates", updates);
    json_object_object_add(args, "expected_task_state", expected);
    refused(CONDUCTOR_INSTANCE_UPDATE, args, ERROR_CONFLICT,
            "Expected: {'task_state': ['spawning']}");
    inst = get_instance(uuids[0], false);
    assert_int_equal(inst->vm_state, INSTANCE_VM_ACTIVE);

    for (size_t h = 0; h < N_HOSTS; h++) {
        struct json_object *host_args = json_object_new_object();
        CLEANUP(json_putp) struct json_object *hosted = NULL;

        json_object_object_add(host_args, "host",
                               json_object_new_string(T.hosts[h]));
        check(call_conductor(CONDUCTOR_INSTANCES_ON_HOST, host_args,
                             &hosted), "instances_on_host");
        on_host += json_object_array_length(
            json_object_object_get(hosted, "instances"));
    }
    assert_int_equal(on_host, 3);
    check(call_conductor(CONDUCTOR_INSTANCE_LIST, json_object_new_object(),
                         &result), "instance_list");
    list = json_object_object_get(result, "instances");
    assert_int_equal(json_object_array_length(list), 3);
    delete_all();
}

/* The real nova-compute on simulated hosts (libvirt's test driver):
 * instances forced onto them build, stop, start and delete through the
 * conductor, and the daemon stops cleanly. */
static void
test_real_compute(void **state)
{
    enum { N_SIM = 2 };
    AUTOFREE char *host = xasprintf("host=%s-sim", T.cell);
    AUTOFREE char *sim = xasprintf("compute.simulate_hosts=%d", N_SIM);
    AUTOFREE char *state_path = xasprintf("%s/compute", T.state_dir);
    AUTOFREE char *state_set = xasprintf("compute.state_path=%s",
                                         state_path);
    const char *compute_args[] = { "--set", host, "--set", sim, "--set",
                                   state_set, NULL };
    char uuids[N_SIM][UUID_STRING_SIZE];
    pid_t pid;
    int status;

    (void) state;
    assert_int_equal(mkdir(state_path, 0700), 0);
    pid = spawn("nova-compute", "compute.log", compute_args);
    wait_log("scheduler.log", "new compute node", N_HOSTS + N_SIM);

    for (int i = 0; i < N_SIM; i++) {
        struct json_object *args = build_args("real", 1, 1, SMALL_MEMORY_MB,
                                              &uuids[i]);
        struct json_object *spec = json_object_object_get(args, "spec");
        AUTOFREE char *zone = xasprintf("nova:%s-sim-%04d", T.cell, i + 1);

        struct json_object *inst = json_object_array_get_idx(
            json_object_object_get(args, "instances"), 0);

        /* The test driver boots nothing: any kernel path will do. */
        json_object_object_add(inst, "image", parse(
            "{\"id\": null, \"properties\": {}, \"kernel\": "
            "\"/boot/vmlinuz-simulated\"}"));
        json_object_object_add(spec, "availability_zone",
                               json_object_new_string(zone));
        cast_conductor(CONDUCTOR_BUILD_INSTANCES, args);
    }
    for (int i = 0; i < N_SIM; i++) {
        CLEANUP(instance_freep) struct instance *inst
            = wait_state(uuids[i], INSTANCE_VM_ACTIVE);
        AUTOFREE char *expected = xasprintf("%s-sim-%04d", T.cell, i + 1);

        assert_string_equal(inst->host, expected);
        assert_int_equal(inst->power_state, INSTANCE_POWER_RUNNING);
    }
    act(CONDUCTOR_STOP_INSTANCE, uuids[0], NULL, INSTANCE_VM_STOPPED);
    act(CONDUCTOR_START_INSTANCE, uuids[0], NULL, INSTANCE_VM_ACTIVE);
    act(CONDUCTOR_REBOOT_INSTANCE, uuids[1], "HARD", INSTANCE_VM_ACTIVE);
    for (int i = 0; i < N_SIM; i++) {
        act(CONDUCTOR_DELETE_INSTANCE, uuids[i], NULL, INSTANCE_VM_DELETED);
    }
    assert_int_equal(check_claims(), 0);

    status = stop_daemon(pid);
    if (status) {
        fail_msg("nova-compute exited with %d; log in %s/compute.log",
                 status, T.state_dir);
    }

    /* Its services would look up for service_down_time still: delete
     * them (and their nodes), and wait until the scheduler has dropped
     * the nodes, so that later boots never go to a stopped host. */
    for (int i = 0; i < N_SIM; i++) {
        AUTOFREE char *name = xasprintf("%s-sim-%04d", T.cell, i + 1);

        check(cell_db_service_delete(T.db, name, "nova-compute"), name);
    }
    wait_log("scheduler.log", "is gone", N_SIM);
}

/* "nova-manage service list" shows the conductor, the scheduler and every
 * compute host, up; "service disable" shows in it. */
static void
test_service_list(void **state)
{
    static const char *const list_args[] = { "service", "list", NULL };
    AUTOFREE char *out = NULL;
    AUTOFREE char *disabled_out = NULL;
    int status;

    (void) state;
    out = run_manage(list_args, &status);
    assert_int_equal(status, 0);
    if (!strstr(out, "Disabled Reason") || !strstr(out, "Forced down")) {
        fail_msg("no header in:\n%s", out);
    }
    const char *hosts[N_HOSTS + 2];
    hosts[0] = T.conductor_host;
    hosts[1] = T.scheduler_host;
    for (size_t i = 0; i < N_HOSTS; i++) {
        hosts[i + 2] = T.hosts[i];
    }
    for (size_t i = 0; i < N_HOSTS + 2; i++) {
        const char *line = strstr(out, hosts[i]);
        const char *end = line ? strchr(line, '\n') : NULL;
        AUTOFREE char *row = line ? xstrndup(line, (size_t) (end - line))
                                  : NULL;

        if (!row || !strstr(row, "enabled") || !strstr(row, " up ")) {
            fail_msg("no enabled, up service of '%s' in:\n%s", hosts[i],
                     out);
        }
    }
    if (!strstr(out, "nova-conductor") || !strstr(out, "nova-scheduler")
        || !strstr(out, "nova-compute")) {
        fail_msg("a binary is missing in:\n%s", out);
    }

    const char *disable_args[] = { "service", "disable", T.hosts[0],
                                   "nova-compute", "--reason", "maintenance",
                                   NULL };
    const char *enable_args[] = { "service", "enable", T.hosts[0],
                                  "nova-compute", NULL };
    free(run_manage(disable_args, &status));
    assert_int_equal(status, 0);
    disabled_out = run_manage(list_args, &status);
    if (!strstr(disabled_out, "disabled") ||
        !strstr(disabled_out, "maintenance")) {
        fail_msg("no disabled service in:\n%s", disabled_out);
    }
    free(run_manage(enable_args, &status));
    assert_int_equal(status, 0);

    const char *bad_args[] = { "service", "disable", "no-such-host",
                               "nova-compute", NULL };
    free(run_manage(bad_args, &status));
    assert_int_equal(status, 1);
}

/* Deleting an instance whose compute service is down deletes it at once
 * (Nova's local delete), releasing its claim, without a compute host. */
static void
test_delete_host_down(void **state)
{
    char uuid[1][UUID_STRING_SIZE];
    CLEANUP(instance_freep) struct instance *inst = NULL;
    unsigned int terminates;
    int status;

    (void) state;
    cast_conductor(CONDUCTOR_BUILD_INSTANCES,
                   build_args("hostdown", 1, 1, SMALL_MEMORY_MB, uuid));
    inst = wait_state(uuid[0], INSTANCE_VM_ACTIVE);

    AUTOFREE char *host = xstrdup(inst->host);
    const char *down_args[] = { "service", "force-down", host,
                                "nova-compute", NULL };
    const char *up_args[] = { "service", "force-down", host,
                              "nova-compute", "--unset", NULL };
    free(run_manage(down_args, &status));
    assert_int_equal(status, 0);

    terminates = fake_get(&F.n_terminates);
    check(call_conductor(CONDUCTOR_DELETE_INSTANCE, uuid_args(uuid[0]),
                         NULL), "delete");
    instance_free(inst);
    inst = get_instance(uuid[0], true);
    assert_int_equal(inst->vm_state, INSTANCE_VM_DELETED);
    assert_int_equal(fake_get(&F.n_terminates), terminates);
    assert_int_equal(check_claims(), 0);

    free(run_manage(up_args, &status));
    assert_int_equal(status, 0);
}

/* A build cast while the database is down is not lost: the conductor
 * cannot record it, gives the message back to the broker instead of
 * acknowledging it, and builds it once the database is back. */
static void
test_build_database_down(void **state)
{
    char uuid[1][UUID_STRING_SIZE];
    CLEANUP(instance_freep) struct instance *inst = NULL;

    (void) state;
    assert_int_equal(test_env_stop("mariadb"), 0);
    cast_conductor(CONDUCTOR_BUILD_INSTANCES,
                   build_args("dbdown", 1, 1, SMALL_MEMORY_MB, uuid));
    /* The conductor gives up on the database (after its reconnect
     * attempts) and hands the message back. */
    wait_log("conductor.log", "trying it again", 1);
    assert_int_equal(test_env_start("mariadb"), 0);
    inst = wait_state(uuid[0], INSTANCE_VM_ACTIVE);
    assert_non_null(inst->host);
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_boot_spread),
        cmocka_unit_test(test_concurrent_boots),
        cmocka_unit_test(test_two_conductors),
        cmocka_unit_test(test_reschedule),
        cmocka_unit_test(test_max_attempts),
        cmocka_unit_test(test_no_valid_host),
        cmocka_unit_test(test_actions),
        cmocka_unit_test(test_update_and_lists),
        cmocka_unit_test(test_real_compute),
        cmocka_unit_test(test_service_list),
        cmocka_unit_test(test_delete_host_down),
        cmocka_unit_test(test_build_database_down),
    };

    test_env_require(argc, argv, "mariadb,rabbitmq");
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
