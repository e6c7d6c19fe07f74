/* test-nova-cells.c: nova-cells in a tree of cells against a real MariaDB
 * and RabbitMQ.
 *
 * The group setup creates five cells of its own for the run (databases
 * and vhosts, test_env_add_cell()) and a cells.yaml that mixes two and
 * three levels:
 *
 *     api -+- region1 -+- leaf1
 *          |           +- leaf2
 *          +- leaf3
 *
 * It brings the API database and the leaves' cell databases up to date,
 * then starts the real daemons as child processes: nova-cells for every
 * cell, and nova-conductor, nova-scheduler and nova-compute (two
 * simulated hosts on libvirt's test driver) for every leaf.  leaf3's
 * hosts are small, so a large flavor never fits there.  The test thread
 * plays nova-api: it writes the top view (top_view_create()) and casts
 * and calls to the API cell's nova-cells on CELLS_LOCAL_TOPIC.
 *
 * Cases: capacity reports reach the root; a boot reaches a leaf and the
 * top view shows it active with its cell and host, and a delete removes
 * it; large flavors only land under region1; an older update never
 * regresses the top view; a boot no cell can take ends in error with the
 * "No valid host was found." fault; service_list and compute_node_list
 * gather the compute services and nodes of every leaf (or of a
 * subtree); instance_action_list reaches the instance's leaf; the
 * instance action "update" (rename, metadata) changes the leaf's row and
 * survives the leaf's later updates; a server renamed at the top before
 * its build landed keeps the new name; one deleted at the top before its
 * build landed ends deleted in its leaf too, and heal deletes in the leaf
 * what the top view holds deleted.  Every
 * daemon must stop cleanly on SIGTERM (exit status 0, which under the
 * sanitizers also means no leak). */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
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

#include "api-cell/top-view.h"
#include "cells-rpc/cells-rpcapi.h"
#include "cells-rpc/rpc-msg.h"
#include "cells-rpc/rpc.h"
#include "shared/db-migrate.h"
#include "shared/db.h"
#include "shared/error.h"
#include "shared/flavor.h"
#include "shared/instance.h"
#include "shared/json-util.h"
#include "shared/poll-loop.h"
#include "shared/uuid-util.h"
#include "shared/xalloc.h"
#include "tests/integration/test-env.h"

#ifndef TEST_NOVA_CELLS_BUILDDIR
#define TEST_NOVA_CELLS_BUILDDIR "."
#endif

/* Longest wait for an asynchronous outcome (generous: sanitizer builds of
 * fourteen daemons). */
#define GUARD_MS 180000
#define POLL_MS 50
#define STOP_GUARD_MS 30000
/* Time given to a stale update to be (not) applied. */
#define SETTLE_MS 2000

#define N_CELLS 5
#define N_LEAVES 3
#define SIM_HOSTS 2
/* leaf3's hosts: room for small flavors only. */
#define SMALL_HOST_MEMORY_MB 2048
#define BIG_MEMORY_MB 8192
#define SMALL_MEMORY_MB 256
#define N_BIG 3
#define MAX_CHILDREN 24

#define PROJECT_ID "7a3c0a1e2d6f4d0c8d9c6b1b2a3f4e5d"
#define USER_ID "c1d2e3f4a5b6478899aabbccddeeff00"

/* Index of each cell in T.cells. */
enum { API, REGION1, LEAF1, LEAF2, LEAF3 };

struct test_cell {
    char name[32];              /* vhost, database suffix and user */
    char path[128];
    char *db_url;
    char *rabbit_url;
    bool leaf;
};

static struct {
    struct test_cell cells[N_CELLS];
    char topic[48];             /* the run's cells queues */
    char *state_dir;
    char *topology;             /* cells.yaml */
    pid_t children[MAX_CHILDREN];
    pid_t cells_pids[N_CELLS];
    struct db *api_db;
    struct rpc_conn *conn;      /* to the API cell's vhost */
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

/* A new instance named 'name' of a flavor of 'vcpus' and 'memory_mb',
 * building, as nova-api hands it over; its uuid goes to 'uuid'. */
static struct instance *
new_instance(const char *name, int64_t vcpus, int64_t memory_mb,
             char uuid[UUID_STRING_SIZE])
{
    CLEANUP(flavor_freep) struct flavor *f = flavor_new("t1", "test.flavor");
    CLEANUP(json_putp) struct json_object *json = json_object_new_object();
    struct instance *inst = NULL;

    f->vcpus = vcpus;
    f->memory_mb = memory_mb;
    f->root_gb = 1;
    uuid_generate_string(uuid);
    json_object_object_add(json, "uuid", json_object_new_string(uuid));
    json_object_object_add(json, "display_name",
                           json_object_new_string(name));
    json_object_object_add(json, "project_id",
                           json_object_new_string(PROJECT_ID));
    json_object_object_add(json, "user_id", json_object_new_string(USER_ID));
    json_object_object_add(json, "flavor", flavor_to_json(f));
    /* The test driver boots nothing: any kernel path will do. */
    json_object_object_add(json, "image", parse(
        "{\"id\": null, \"properties\": {}, \"kernel\": "
        "\"/boot/vmlinuz-simulated\"}"));
    json_object_object_add(json, "vm_state",
                           json_object_new_string("building"));
    check(instance_from_json(json, NULL, &inst), "instance");
    return inst;
}

static struct rpc_msg *
new_msg(const char *method, struct json_object *args)
{
    struct rpc_msg *msg = rpc_msg_new(method, args);

    rpc_ctx_set_request_id(&msg->ctx, "req-5e1f0c3a-8c1b-4f7e-9a51-"
                           "0c2d3e4f5a6b");
    rpc_ctx_set_user(&msg->ctx, USER_ID, PROJECT_ID);
    return msg;
}

/* Casts 'method' with 'args' (taken) to CELLS_LOCAL_TOPIC on 'conn'. */
static void
cast_cells(struct rpc_conn *conn, const char *method,
           struct json_object *args)
{
    CLEANUP(rpc_msg_freep) struct rpc_msg *msg = new_msg(method, args);
    const struct rpc_target target = { CELLS_LOCAL_TOPIC, NULL };

    check(rpc_cast(conn, &target, msg), method);
    check(rpc_conn_flush(conn, GUARD_MS), "flush");
}

/* Calls 'method' with 'args' (taken) on the API cell's nova-cells. */
static struct json_object *
call_cells(const char *method, struct json_object *args)
{
    CLEANUP(rpc_msg_freep) struct rpc_msg *msg = new_msg(method, args);
    const struct rpc_target target = { CELLS_LOCAL_TOPIC, NULL };
    struct json_object *result = NULL;

    check(rpc_call(T.conn, &target, msg, GUARD_MS, &result), method);
    return result;
}

/* Boots 'inst' as nova-api does: the top view row, then build_instance. */
static void
boot(const struct instance *inst)
{
    struct json_object *args = json_object_new_object();
    struct json_object *spec = json_object_new_object();

    check(top_view_create(T.api_db, inst), "top_view_create");
    json_object_object_add(spec, "flavor", flavor_to_json(inst->flavor));
    json_object_object_add(spec, "image",
                           instance_image_to_json(inst->image));
    json_object_object_add(spec, "availability_zone", NULL);
    json_object_object_add(spec, "num_instances", json_object_new_int(1));
    json_object_object_add(args, "instance", instance_to_json(inst));
    json_object_object_add(args, "spec", spec);
    json_object_object_add(args, "max_attempts", json_object_new_int(3));
    cast_cells(T.conn, CELLS_BUILD_INSTANCE, args);
}

/* Waits until the top view shows 'uuid' in 'vm_state'; returns the row. */
static struct top_view_server *
wait_top(const char *uuid, enum instance_vm_state vm_state)
{
    long long deadline = poll_loop_now_ms() + GUARD_MS;
    enum instance_vm_state last = INSTANCE_VM_BUILDING;

    for (;;) {
        struct top_view_server *server = NULL;

        check(top_view_get(T.api_db, uuid, true, &server), "top_view_get");
        last = server->inst->vm_state;
        if (last == vm_state) {
            return server;
        }
        top_view_server_free(server);
        if (poll_loop_now_ms() > deadline) {
            fail_msg("instance %s stayed %s, never %s (logs in %s)", uuid,
                     instance_vm_state_to_string(last),
                     instance_vm_state_to_string(vm_state), T.state_dir);
        }
        sleep_ms(POLL_MS);
    }
}

static void
instance_action(const char *uuid, const char *cell_path, const char *action)
{
    struct json_object *args = json_object_new_object();

    json_object_object_add(args, "instance_uuid",
                           json_object_new_string(uuid));
    json_object_object_add(args, "cell_path",
                           json_object_new_string(cell_path));
    json_object_object_add(args, "action", json_object_new_string(action));
    json_object_object_add(args, "args", json_object_new_object());
    cast_cells(T.conn, CELLS_INSTANCE_ACTION, args);
}

/* True if 'path' is one of the leaves. */
static const struct test_cell *
find_leaf(const char *path)
{
    for (size_t i = 0; i < N_CELLS; i++) {
        if (T.cells[i].leaf && path && !strcmp(T.cells[i].path, path)) {
            return &T.cells[i];
        }
    }
    return NULL;
}

/* True if leaf 'path' lies under region1. */
static bool
under_region1(const char *path)
{
    size_t n = strlen(T.cells[REGION1].path);

    return path && !strncmp(path, T.cells[REGION1].path, n)
           && path[n] == '!';
}

/* ------------------------------------------------------------------ */
/* The daemons. */

/* Starts 'program' of the build tree ("child-cell/nova-cells") with its
 * log in 'log_name' and the options 'args' (NULL-terminated). */
static pid_t
spawn(const char *program, const char *log_name, const char *const *args)
{
    AUTOFREE char *path = xasprintf("%s/%s", TEST_NOVA_CELLS_BUILDDIR,
                                    program);
    AUTOFREE char *log_path = xasprintf("%s/%s", T.state_dir, log_name);
    const char *argv[32];
    size_t n = 0;
    pid_t pid;

    argv[n++] = program;
    argv[n++] = "--log-file";
    argv[n++] = log_path;
    for (size_t i = 0; args[i]; i++) {
        argv[n++] = args[i];
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

/* Stops daemon 'pid' with SIGTERM; returns its exit status (-1 if it had
 * to be killed). */
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

        if (done == pid || done < 0) {
            break;
        }
        if (poll_loop_now_ms() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            status = -1;
            break;
        }
        sleep_ms(POLL_MS);
    }
    for (size_t i = 0; i < MAX_CHILDREN; i++) {
        if (T.children[i] == pid) {
            T.children[i] = 0;
        }
    }
    return status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static bool
log_has(const char *log_name, const char *text)
{
    AUTOFREE char *path = xasprintf("%s/%s", T.state_dir, log_name);
    FILE *f = fopen(path, "r");
    char line[4096];
    bool found = false;

    if (!f) {
        return false;
    }
    while (!found && fgets(line, sizeof line, f)) {
        found = strstr(line, text) != NULL;
    }
    fclose(f);
    return found;
}

static void
wait_log(const char *log_name, const char *text)
{
    long long deadline = poll_loop_now_ms() + GUARD_MS;

    while (!log_has(log_name, text)) {
        if (poll_loop_now_ms() > deadline) {
            fail_msg("%s never logged '%s' (logs in %s)", log_name, text,
                     T.state_dir);
        }
        sleep_ms(POLL_MS);
    }
}

/* Starts the conductor, scheduler and compute hosts of leaf 'c'. */
static void
start_leaf(const struct test_cell *c, int host_memory_mb)
{
    AUTOFREE char *transport = xasprintf("transport_url=%s", c->rabbit_url);
    AUTOFREE char *database = xasprintf("database.connection=%s",
                                        c->db_url);
    AUTOFREE char *cond_host = xasprintf("host=%s-conductor", c->name);
    AUTOFREE char *sched_host = xasprintf("host=%s-scheduler", c->name);
    AUTOFREE char *sim_host = xasprintf("host=%s-sim", c->name);
    AUTOFREE char *sim = xasprintf("compute.simulate_hosts=%d", SIM_HOSTS);
    AUTOFREE char *memory = xasprintf("compute.sim_memory_mb=%d",
                                      host_memory_mb);
    AUTOFREE char *state_path = xasprintf("%s/compute-%s", T.state_dir,
                                          c->name);
    AUTOFREE char *state_set = xasprintf("compute.state_path=%s",
                                         state_path);
    AUTOFREE char *cond_log = xasprintf("conductor-%s.log", c->name);
    AUTOFREE char *sched_log = xasprintf("scheduler-%s.log", c->name);
    AUTOFREE char *compute_log = xasprintf("compute-%s.log", c->name);
    const char *cond_args[] = { "--set", transport, "--set", database,
                                "--set", cond_host, "--set",
                                "report_interval=1", NULL };
    const char *sched_args[] = { "--set", transport, "--set", database,
                                 "--set", sched_host, "--set",
                                 "report_interval=1", NULL };
    const char *compute_args[] = { "--set", transport, "--set", sim_host,
                                   "--set", sim, "--set", memory, "--set",
                                   state_set, NULL };

    assert_int_equal(mkdir(state_path, 0700), 0);
    spawn("child-cell/nova-conductor", cond_log, cond_args);
    spawn("child-cell/nova-scheduler", sched_log, sched_args);
    spawn("child-cell/nova-compute", compute_log, compute_args);
}

/* Starts the nova-cells of cell 'i'. */
static void
start_cells(size_t i)
{
    const struct test_cell *c = &T.cells[i];
    AUTOFREE char *topology = xasprintf("cells.topology=%s", T.topology);
    AUTOFREE char *cell = xasprintf("cells.cell=%s", c->name);
    AUTOFREE char *topic = xasprintf("cells.topic=%s", T.topic);
    AUTOFREE char *api_db = xasprintf("api_database.connection=%s",
                                      T.cells[API].db_url);
    AUTOFREE char *log = xasprintf("cells-%s.log", c->name);
    const char *args[] = { "--log-level", "info,cells.state:dbg",
                           "--set", topology, "--set", cell, "--set", topic,
                           "--set", "cells.capacity_interval=1", "--set",
                           "cells.mute_child_interval=5", "--set",
                           "compute.service_down_time=10",
                           i == API ? "--set" : NULL, api_db, NULL };

    T.cells_pids[i] = spawn("child-cell/nova-cells", log, args);
}

/* ------------------------------------------------------------------ */
/* Setup. */

static void
write_topology(void)
{
    FILE *f;

    T.topology = xasprintf("%s/cells.yaml", T.state_dir);
    f = fopen(T.topology, "w");
    assert_non_null(f);
    fprintf(f, "cells:\n");
    for (size_t i = 0; i < N_CELLS; i++) {
        const struct test_cell *c = &T.cells[i];

        fprintf(f, "  - name: %s\n", c->name);
        if (i == REGION1 || i == LEAF3) {
            fprintf(f, "    parent: %s\n", T.cells[API].name);
        } else if (i == LEAF1 || i == LEAF2) {
            fprintf(f, "    parent: %s\n", T.cells[REGION1].name);
        }
        fprintf(f, "    transport_url: %s\n", c->rabbit_url);
        if (c->leaf) {
            fprintf(f, "    database: %s\n", c->db_url);
        }
    }
    assert_int_equal(fclose(f), 0);
}

static int
group_setup(void **state)
{
    static const char *const suffixes[N_CELLS] = {
        "api", "region1", "leaf1", "leaf2", "leaf3",
    };
    CLEANUP(test_env_url_freep) struct test_env_url *rabbit
        = test_env_url_parse(test_env_get("NOVA_TEST_RABBIT_ADMIN_URL"));
    AUTOFREE char *template = xstrdup("/tmp/test-nova-cells-XXXXXX");
    struct error *error = NULL;

    (void) state;
    if (!mkdtemp(template)) {
        return -1;
    }
    T.state_dir = TAKE_PTR(template);
    snprintf(T.topic, sizeof T.topic, "cells_%ld", (long) getpid());
    for (size_t i = 0; i < N_CELLS; i++) {
        struct test_cell *c = &T.cells[i];

        snprintf(c->name, sizeof c->name, "c%ld%s", (long) getpid(),
                 suffixes[i]);
        c->leaf = i >= LEAF1;
        if (test_env_add_cell(c->name)) {
            fprintf(stderr, "cannot create cell '%s'\n", c->name);
            return -1;
        }
        c->rabbit_url = xasprintf("rabbit://%s:%spw@%s:%d/%s", c->name,
                                  c->name, rabbit->host, rabbit->port,
                                  c->name);
        c->db_url = xasprintf("%snova_%s",
                              test_env_get("NOVA_TEST_MYSQL_ADMIN_URL"),
                              c->name);
    }
    snprintf(T.cells[API].path, sizeof T.cells[API].path, "%s",
             T.cells[API].name);
    snprintf(T.cells[REGION1].path, sizeof T.cells[REGION1].path, "%s!%s",
             T.cells[API].name, T.cells[REGION1].name);
    snprintf(T.cells[LEAF1].path, sizeof T.cells[LEAF1].path, "%s!%s!%s",
             T.cells[API].name, T.cells[REGION1].name, T.cells[LEAF1].name);
    snprintf(T.cells[LEAF2].path, sizeof T.cells[LEAF2].path, "%s!%s!%s",
             T.cells[API].name, T.cells[REGION1].name, T.cells[LEAF2].name);
    snprintf(T.cells[LEAF3].path, sizeof T.cells[LEAF3].path, "%s!%s",
             T.cells[API].name, T.cells[LEAF3].name);
    write_topology();

    /* Schemas: the API database, and each leaf's cell database. */
    for (size_t i = 0; i < N_CELLS && !error; i++) {
        struct db *db = NULL;

        if (i == REGION1) {
            continue;
        }
        error = db_open(T.cells[i].db_url, &db);
        if (!error) {
            error = db_migrate(db, i == API ? DB_SCHEMA_API : DB_SCHEMA_CELL,
                               NULL, NULL);
        }
        if (i == API && !error) {
            T.api_db = db;
        } else {
            db_close(db);
        }
    }
    if (!error) {
        error = rpc_conn_open(T.cells[API].rabbit_url, NULL, &T.conn);
    }
    if (error) {
        fprintf(stderr, "setup: %s\n", error_message(error));
        error_free(error);
        return -1;
    }

    start_leaf(&T.cells[LEAF1], 65536);
    start_leaf(&T.cells[LEAF2], 65536);
    start_leaf(&T.cells[LEAF3], SMALL_HOST_MEMORY_MB);
    for (size_t i = 0; i < N_CELLS; i++) {
        start_cells(i);
    }
    return 0;
}

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
group_teardown(void **state)
{
    int failed = 0;

    (void) state;
    /* nova-cells first (the conductors' casts to them are queued), then
     * the leaves' daemons. */
    for (size_t i = 0; i < N_CELLS; i++) {
        int status = stop_daemon(T.cells_pids[i]);

        if (status) {
            fprintf(stderr, "nova-cells of %s exited with %d\n",
                    T.cells[i].name, status);
            failed = 1;
        }
    }
    for (size_t i = 0; i < MAX_CHILDREN; i++) {
        int status = stop_daemon(T.children[i]);

        if (status) {
            fprintf(stderr, "a leaf daemon exited with %d\n", status);
            failed = 1;
        }
    }
    rpc_conn_free(T.conn);
    for (size_t i = 0; i < N_CELLS; i++) {
        AUTOFREE char *drop = xasprintf("DROP DATABASE IF EXISTS nova_%s",
                                        T.cells[i].name);

        if (T.api_db) {
            error_free(db_exec_once(T.api_db, drop, DB_NO_PARAMS, NULL));
        }
        free(T.cells[i].db_url);
        free(T.cells[i].rabbit_url);
    }
    db_close(T.api_db);
    if (failed || getenv("NOVA_TEST_KEEP_LOGS")) {
        fprintf(stderr, "logs in %s\n", T.state_dir);
    } else {
        (void) nftw(T.state_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    }
    free(T.topology);
    free(T.state_dir);
    return failed ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* Cases. */

/* Capacity reports travel up: leaf3 reports to the root directly, the
 * leaves of region1 to region1, and region1 their sum to the root. */
static void
test_capacity_reports(void **state)
{
    AUTOFREE char *api_log = xasprintf("cells-%s.log", T.cells[API].name);
    AUTOFREE char *region_log = xasprintf("cells-%s.log",
                                          T.cells[REGION1].name);
    AUTOFREE char *leaf3 = xasprintf("cell '%s' reports room",
                                     T.cells[LEAF3].path);
    AUTOFREE char *region1 = xasprintf("cell '%s' reports room",
                                       T.cells[REGION1].path);
    AUTOFREE char *leaf1 = xasprintf("cell '%s' reports room",
                                     T.cells[LEAF1].path);
    AUTOFREE char *leaf2 = xasprintf("cell '%s' reports room",
                                     T.cells[LEAF2].path);

    (void) state;
    wait_log(region_log, leaf1);
    wait_log(region_log, leaf2);
    wait_log(api_log, leaf3);
    wait_log(api_log, region1);
}

/* A boot reaches a leaf: the top view shows it active, with its leaf and
 * host; a delete sent down the path deletes it in the top view too. */
static void
test_boot_and_delete(void **state)
{
    char uuid[UUID_STRING_SIZE];
    CLEANUP(instance_freep) struct instance *inst
        = new_instance("boot", 1, SMALL_MEMORY_MB, uuid);
    CLEANUP(top_view_server_freep) struct top_view_server *server = NULL;
    CLEANUP(top_view_server_freep) struct top_view_server *gone = NULL;
    CLEANUP(json_putp) struct json_object *actions = NULL;
    struct json_object *args;
    const struct test_cell *leaf;

    (void) state;
    boot(inst);
    server = wait_top(uuid, INSTANCE_VM_ACTIVE);
    leaf = find_leaf(server->cell_path);
    assert_non_null(leaf);
    assert_non_null(server->inst->host);
    assert_true(!strncmp(server->inst->host, leaf->name,
                         strlen(leaf->name)));
    assert_true(server->inst->update_seq > 0);

    /* Its actions, from its leaf. */
    args = json_object_new_object();
    json_object_object_add(args, "cell_path",
                           json_object_new_string(server->cell_path));
    json_object_object_add(args, "instance_uuid",
                           json_object_new_string(uuid));
    actions = call_cells(CELLS_INSTANCE_ACTION_LIST, args);
    assert_true(json_object_array_length(
        json_object_object_get(actions, "instanceActions")) >= 1);

    instance_action(uuid, server->cell_path, "delete");
    gone = wait_top(uuid, INSTANCE_VM_DELETED);
    assert_true(gone->deleted);
}

/* A flavor too large for leaf3's hosts always goes under region1. */
static void
test_big_flavor(void **state)
{
    char uuids[N_BIG][UUID_STRING_SIZE];

    (void) state;
    for (size_t i = 0; i < N_BIG; i++) {
        CLEANUP(instance_freep) struct instance *inst
            = new_instance("big", 2, BIG_MEMORY_MB, uuids[i]);

        boot(inst);
    }
    for (size_t i = 0; i < N_BIG; i++) {
        CLEANUP(top_view_server_freep) struct top_view_server *server
            = wait_top(uuids[i], INSTANCE_VM_ACTIVE);

        assert_non_null(find_leaf(server->cell_path));
        assert_true(under_region1(server->cell_path));
    }
    for (size_t i = 0; i < N_BIG; i++) {
        CLEANUP(top_view_server_freep) struct top_view_server *server
            = wait_top(uuids[i], INSTANCE_VM_ACTIVE);

        instance_action(uuids[i], server->cell_path, "delete");
    }
    for (size_t i = 0; i < N_BIG; i++) {
        top_view_server_free(wait_top(uuids[i], INSTANCE_VM_DELETED));
    }
}

/* An update older than the top view's is ignored; a newer one applies. */
static void
test_stale_update(void **state)
{
    char uuid[UUID_STRING_SIZE];
    CLEANUP(instance_freep) struct instance *inst
        = new_instance("stale", 1, SMALL_MEMORY_MB, uuid);
    CLEANUP(top_view_server_freep) struct top_view_server *server = NULL;
    CLEANUP(top_view_server_freep) struct top_view_server *after = NULL;
    CLEANUP(rpc_conn_freep) struct rpc_conn *leaf_conn = NULL;
    CLEANUP(instance_freep) struct instance *old = NULL;
    const struct test_cell *leaf;
    struct json_object *args;
    long long deadline;

    (void) state;
    boot(inst);
    server = wait_top(uuid, INSTANCE_VM_ACTIVE);
    leaf = find_leaf(server->cell_path);
    assert_non_null(leaf);
    check(rpc_conn_open(leaf->rabbit_url, NULL, &leaf_conn), "connect");

    /* As if an older update (seq one less, vm_state error) arrived late. */
    old = instance_clone(server->inst);
    old->vm_state = INSTANCE_VM_ERROR;
    old->update_seq = server->inst->update_seq - 1;
    args = json_object_new_object();
    json_object_object_add(args, "instance", instance_to_json(old));
    json_object_object_add(args, "fault", NULL);
    cast_cells(leaf_conn, CELLS_INSTANCE_UPDATE_AT_TOP, args);

    /* Then a newer one, which goes the same way after it. */
    free(old->display_name);
    old->display_name = xstrdup("renamed");
    old->vm_state = INSTANCE_VM_ACTIVE;
    old->update_seq = server->inst->update_seq + 1;
    args = json_object_new_object();
    json_object_object_add(args, "instance", instance_to_json(old));
    json_object_object_add(args, "fault", NULL);
    cast_cells(leaf_conn, CELLS_INSTANCE_UPDATE_AT_TOP, args);

    deadline = poll_loop_now_ms() + GUARD_MS;
    for (;;) {
        check(top_view_get(T.api_db, uuid, true, &after), "top_view_get");
        if (!strcmp(after->inst->display_name, "renamed")) {
            break;
        }
        assert_int_equal(after->inst->vm_state, INSTANCE_VM_ACTIVE);
        top_view_server_free(after);
        after = NULL;
        assert_true(poll_loop_now_ms() < deadline);
        sleep_ms(POLL_MS);
    }
    assert_int_equal(after->inst->vm_state, INSTANCE_VM_ACTIVE);
    assert_int_equal(after->inst->update_seq, old->update_seq);

    instance_action(uuid, server->cell_path, "delete");
    top_view_server_free(wait_top(uuid, INSTANCE_VM_DELETED));
}

/* A flavor no cell has room for ends in error with Nova's fault. */
static void
test_no_valid_host(void **state)
{
    char uuid[UUID_STRING_SIZE];
    CLEANUP(instance_freep) struct instance *inst
        = new_instance("huge", 1000, 1024 * 1024, uuid);
    CLEANUP(top_view_server_freep) struct top_view_server *server = NULL;
    const char *message;

    (void) state;
    boot(inst);
    server = wait_top(uuid, INSTANCE_VM_ERROR);
    assert_null(server->cell_path);
    assert_non_null(server->fault);
    message = json_object_get_string(
        json_object_object_get(server->fault, "message"));
    assert_non_null(message);
    assert_true(!strncmp(message, "No valid host was found.",
                         strlen("No valid host was found.")));
    assert_int_equal(json_object_get_int(
        json_object_object_get(server->fault, "code")), 500);
}

/* Counts the items of list 'key' of 'result' per cell path into
 * 'per_cell' (indexed like T.cells). */
static void
count_per_cell(const struct json_object *result, const char *key,
               size_t per_cell[N_CELLS])
{
    struct json_object *list = json_object_object_get(result, key);

    assert_non_null(list);
    assert_int_equal(json_object_array_length(
        json_object_object_get(result, "missing")), 0);
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        struct json_object *item = json_object_array_get_idx(list, i);
        const char *path = json_object_get_string(
            json_object_object_get(item, "cell_path"));

        assert_non_null(path);
        for (size_t c = 0; c < N_CELLS; c++) {
            if (!strcmp(T.cells[c].path, path)) {
                per_cell[c]++;
            }
        }
    }
}

/* service_list and compute_node_list through the tree gather every
 * leaf's compute services and nodes; a subtree gives only its own. */
static void
test_service_list(void **state)
{
    CLEANUP(json_putp) struct json_object *services = NULL;
    CLEANUP(json_putp) struct json_object *subtree = NULL;
    CLEANUP(json_putp) struct json_object *nodes = NULL;
    struct json_object *args = json_object_new_object();
    size_t per_leaf[N_CELLS] = { 0 };
    size_t per_region[N_CELLS] = { 0 };
    size_t nodes_per_leaf[N_CELLS] = { 0 };

    (void) state;
    json_object_object_add(args, "cell_path", NULL);
    json_object_object_add(args, "binary",
                           json_object_new_string("nova-compute"));
    json_object_object_add(args, "host", NULL);
    services = call_cells(CELLS_SERVICE_LIST, args);
    count_per_cell(services, "services", per_leaf);
    assert_int_equal(per_leaf[LEAF1], SIM_HOSTS);
    assert_int_equal(per_leaf[LEAF2], SIM_HOSTS);
    assert_int_equal(per_leaf[LEAF3], SIM_HOSTS);

    args = json_object_new_object();
    json_object_object_add(args, "cell_path",
                           json_object_new_string(T.cells[REGION1].path));
    json_object_object_add(args, "binary",
                           json_object_new_string("nova-compute"));
    subtree = call_cells(CELLS_SERVICE_LIST, args);
    count_per_cell(subtree, "services", per_region);
    assert_int_equal(per_region[LEAF1], SIM_HOSTS);
    assert_int_equal(per_region[LEAF2], SIM_HOSTS);
    assert_int_equal(per_region[LEAF3], 0);

    args = json_object_new_object();
    json_object_object_add(args, "cell_path", NULL);
    nodes = call_cells(CELLS_COMPUTE_NODE_LIST, args);
    count_per_cell(nodes, "compute_nodes", nodes_per_leaf);
    assert_int_equal(nodes_per_leaf[LEAF1], SIM_HOSTS);
    assert_int_equal(nodes_per_leaf[LEAF2], SIM_HOSTS);
    assert_int_equal(nodes_per_leaf[LEAF3], SIM_HOSTS);
}

/* ------------------------------------------------------------------ */
/* Changes made at the top that must reach the leaf. */

/* Reads the leaf row of 'uuid' from the cell database of 'leaf':
 * display_name, metadata (JSON text), deleted (0: live).  False when the
 * leaf has no such row. */
static bool
leaf_row(const struct test_cell *leaf, const char *uuid, char **ret_name,
         char **ret_metadata, int64_t *ret_deleted)
{
    CLEANUP(db_closep) struct db *db = NULL;
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;

    check(db_open(leaf->db_url, &db), "open the leaf's database");
    check(db_query(db, "SELECT display_name, metadata, deleted "
                   "FROM instances WHERE uuid = ?",
                   DB_PARAMS(DB_STR(uuid)), &rows), "leaf row");
    if (!db_rows_count(rows)) {
        return false;
    }
    *ret_name = xstrdup_or_null(db_rows_get_str(rows, 0, 0));
    *ret_metadata = xstrdup_or_null(db_rows_get_str(rows, 0, 1));
    *ret_deleted = db_rows_get_int64(rows, 0, 2);
    return true;
}

/* Waits until the top view shows 'uuid' named 'name' with metadata 'key'
 * = 'value' in 'vm_state'; returns the row. */
static struct top_view_server *
wait_top_named(const char *uuid, const char *name, const char *key,
               const char *value, enum instance_vm_state vm_state)
{
    long long deadline = poll_loop_now_ms() + GUARD_MS;

    for (;;) {
        struct top_view_server *server = NULL;
        const char *v;

        check(top_view_get(T.api_db, uuid, true, &server), "top_view_get");
        v = instance_get_metadata(server->inst, key);
        if (server->inst->vm_state == vm_state
            && !strcmp(server->inst->display_name, name)
            && v && !strcmp(v, value)) {
            return server;
        }
        top_view_server_free(server);
        if (poll_loop_now_ms() > deadline) {
            fail_msg("instance %s never showed name '%s' and %s=%s (logs "
                     "in %s)", uuid, name, key, value, T.state_dir);
        }
        sleep_ms(POLL_MS);
    }
}

/* The instance action "update" (a rename and new metadata, as nova-api
 * sends them) changes the leaf's row, whose update comes back up; later
 * updates from the leaf (a stop, a start) keep the new name and
 * metadata. */
static void
test_update_down(void **state)
{
    char uuid[UUID_STRING_SIZE];
    CLEANUP(instance_freep) struct instance *inst
        = new_instance("before", 1, SMALL_MEMORY_MB, uuid);
    CLEANUP(top_view_server_freep) struct top_view_server *server = NULL;
    CLEANUP(top_view_server_freep) struct top_view_server *renamed = NULL;
    CLEANUP(top_view_server_freep) struct top_view_server *stopped = NULL;
    CLEANUP(top_view_server_freep) struct top_view_server *started = NULL;
    AUTOFREE char *name = NULL;
    AUTOFREE char *metadata = NULL;
    struct json_object *args, *upd, *meta;
    const struct test_cell *leaf;
    int64_t deleted = -1;

    (void) state;
    boot(inst);
    server = wait_top(uuid, INSTANCE_VM_ACTIVE);
    leaf = find_leaf(server->cell_path);
    assert_non_null(leaf);

    args = json_object_new_object();
    upd = json_object_new_object();
    meta = json_object_new_object();
    json_object_object_add(meta, "tier", json_object_new_string("gold"));
    json_object_object_add(upd, "display_name",
                           json_object_new_string("after"));
    json_object_object_add(upd, "metadata", meta);
    json_object_object_add(args, "instance_uuid",
                           json_object_new_string(uuid));
    json_object_object_add(args, "cell_path",
                           json_object_new_string(server->cell_path));
    json_object_object_add(args, "action", json_object_new_string("update"));
    json_object_object_add(args, "args", upd);
    cast_cells(T.conn, CELLS_INSTANCE_ACTION, args);

    /* Only the leaf could have written these into the top view. */
    renamed = wait_top_named(uuid, "after", "tier", "gold",
                             INSTANCE_VM_ACTIVE);
    assert_true(renamed->inst->update_seq > server->inst->update_seq);
    assert_true(leaf_row(leaf, uuid, &name, &metadata, &deleted));
    assert_string_equal(name, "after");
    assert_string_equal(metadata, "{\"tier\":\"gold\"}");
    assert_int_equal(deleted, 0);

    /* The leaf's next updates carry them. */
    instance_action(uuid, server->cell_path, "stop");
    stopped = wait_top_named(uuid, "after", "tier", "gold",
                             INSTANCE_VM_STOPPED);
    assert_true(stopped->inst->update_seq > renamed->inst->update_seq);
    instance_action(uuid, server->cell_path, "start");
    started = wait_top_named(uuid, "after", "tier", "gold",
                             INSTANCE_VM_ACTIVE);
    assert_true(started->inst->update_seq > stopped->inst->update_seq);

    instance_action(uuid, server->cell_path, "delete");
    top_view_server_free(wait_top(uuid, INSTANCE_VM_DELETED));
}

/* Sends the build of 'inst', whose top-view row exists already. */
static void
send_build(const struct instance *inst)
{
    struct json_object *args = json_object_new_object();
    struct json_object *spec = json_object_new_object();

    json_object_object_add(spec, "flavor", flavor_to_json(inst->flavor));
    json_object_object_add(spec, "image",
                           instance_image_to_json(inst->image));
    json_object_object_add(spec, "availability_zone", NULL);
    json_object_object_add(spec, "num_instances", json_object_new_int(1));
    json_object_object_add(args, "instance", instance_to_json(inst));
    json_object_object_add(args, "spec", spec);
    json_object_object_add(args, "max_attempts", json_object_new_int(3));
    cast_cells(T.conn, CELLS_BUILD_INSTANCE, args);
}

/* A server renamed at the top before its build reached a cell (the build
 * carries the old name): the new name wins, in the top view and in the
 * leaf. */
static void
test_rename_before_landing(void **state)
{
    char uuid[UUID_STRING_SIZE];
    CLEANUP(instance_freep) struct instance *inst
        = new_instance("old-name", 1, SMALL_MEMORY_MB, uuid);
    CLEANUP(top_view_server_freep) struct top_view_server *server = NULL;
    long long deadline = poll_loop_now_ms() + GUARD_MS;
    const struct test_cell *leaf;

    (void) state;
    check(top_view_create(T.api_db, inst), "top_view_create");
    check(top_view_set_name(T.api_db, uuid, "new-name"), "rename");
    send_build(inst);
    server = wait_top(uuid, INSTANCE_VM_ACTIVE);
    leaf = find_leaf(server->cell_path);
    assert_non_null(leaf);
    for (;;) {
        CLEANUP(top_view_server_freep) struct top_view_server *top = NULL;
        AUTOFREE char *name = NULL;
        AUTOFREE char *metadata = NULL;
        int64_t deleted = -1;

        check(top_view_get(T.api_db, uuid, false, &top), "top_view_get");
        assert_true(leaf_row(leaf, uuid, &name, &metadata, &deleted));
        if (!strcmp(name, "new-name")
            && !strcmp(top->inst->display_name, "new-name")
            && top->inst->vm_state == INSTANCE_VM_ACTIVE) {
            break;
        }
        if (poll_loop_now_ms() > deadline) {
            fail_msg("instance %s: leaf name '%s', top name '%s' (logs in "
                     "%s)", uuid, name, top->inst->display_name,
                     T.state_dir);
        }
        sleep_ms(POLL_MS);
    }
    instance_action(uuid, server->cell_path, "delete");
    top_view_server_free(wait_top(uuid, INSTANCE_VM_DELETED));
}

/* A server deleted at the top before its build reached a cell (nova-api's
 * DELETE of an unplaced server): the build still lands in a leaf, whose
 * first update finds the row deleted at the top; the root sends the
 * delete down, and the instance ends deleted in the leaf too, while the
 * top view never shows it alive again. */
static void
test_delete_before_landing(void **state)
{
    char uuid[UUID_STRING_SIZE];
    CLEANUP(instance_freep) struct instance *inst
        = new_instance("ghost", 1, SMALL_MEMORY_MB, uuid);
    long long deadline = poll_loop_now_ms() + GUARD_MS;
    const struct test_cell *leaf = NULL;
    bool deleted = false;

    (void) state;
    check(top_view_create(T.api_db, inst), "top_view_create");
    check(top_view_delete_unplaced(T.api_db, uuid, &deleted), "delete");
    assert_true(deleted);
    send_build(inst);

    for (;;) {
        CLEANUP(top_view_server_freep) struct top_view_server *top = NULL;
        AUTOFREE char *name = NULL;
        AUTOFREE char *metadata = NULL;
        int64_t leaf_deleted = 0;

        check(top_view_get(T.api_db, uuid, true, &top), "top_view_get");
        assert_true(top->deleted);
        assert_int_equal(top->inst->vm_state, INSTANCE_VM_DELETED);
        if (top->cell_path) {
            leaf = find_leaf(top->cell_path);
            assert_non_null(leaf);
        }
        if (leaf && leaf_row(leaf, uuid, &name, &metadata, &leaf_deleted)
            && leaf_deleted != 0) {
            break;
        }
        if (poll_loop_now_ms() > deadline) {
            fail_msg("instance %s not deleted in its leaf (%s; logs in %s)",
                     uuid, leaf ? leaf->path : "never placed", T.state_dir);
        }
        sleep_ms(POLL_MS);
    }
    /* Settled: still deleted at the top. */
    sleep_ms(SETTLE_MS);
    CLEANUP(top_view_server_freep) struct top_view_server *after = NULL;
    check(top_view_get(T.api_db, uuid, true, &after), "top_view_get");
    assert_true(after->deleted);
}

/* Heal: an instance deleted in the top view but alive in its leaf (as
 * when the leaf never heard of the delete) is deleted in the leaf. */
static void
test_heal_deleted_at_top(void **state)
{
    char uuid[UUID_STRING_SIZE];
    CLEANUP(instance_freep) struct instance *inst
        = new_instance("healme", 1, SMALL_MEMORY_MB, uuid);
    CLEANUP(top_view_server_freep) struct top_view_server *server = NULL;
    CLEANUP(json_putp) struct json_object *result = NULL;
    long long deadline = poll_loop_now_ms() + GUARD_MS;
    struct json_object *args, *fixed;
    const struct test_cell *leaf;
    bool listed = false;

    (void) state;
    boot(inst);
    server = wait_top(uuid, INSTANCE_VM_ACTIVE);
    leaf = find_leaf(server->cell_path);
    assert_non_null(leaf);
    check(db_exec(T.api_db, "UPDATE instances SET deleted = id, "
                  "vm_state = 'deleted', deleted_at = NOW(6) "
                  "WHERE uuid = ?", DB_PARAMS(DB_STR(uuid)), NULL),
          "delete at the top");

    args = json_object_new_object();
    json_object_object_add(args, "cell_path", NULL);
    result = call_cells(CELLS_HEAL, args);
    fixed = json_object_object_get(result, "fixed");
    for (size_t i = 0; i < json_object_array_length(fixed); i++) {
        listed |= !strcmp(json_object_get_string(
                              json_object_array_get_idx(fixed, i)), uuid);
    }
    assert_true(listed);
    for (;;) {
        AUTOFREE char *name = NULL;
        AUTOFREE char *metadata = NULL;
        int64_t deleted = 0;

        assert_true(leaf_row(leaf, uuid, &name, &metadata, &deleted));
        if (deleted) {
            break;
        }
        if (poll_loop_now_ms() > deadline) {
            fail_msg("instance %s not deleted in its leaf (logs in %s)",
                     uuid, T.state_dir);
        }
        sleep_ms(POLL_MS);
    }
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_capacity_reports),
        cmocka_unit_test(test_boot_and_delete),
        cmocka_unit_test(test_big_flavor),
        cmocka_unit_test(test_stale_update),
        cmocka_unit_test(test_no_valid_host),
        cmocka_unit_test(test_service_list),
        cmocka_unit_test(test_update_down),
        cmocka_unit_test(test_rename_before_landing),
        cmocka_unit_test(test_delete_before_landing),
        cmocka_unit_test(test_heal_deleted_at_top),
    };

    test_env_require(argc, argv, "mariadb,rabbitmq");
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
