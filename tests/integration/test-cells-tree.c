/* test-cells-tree.c: a three-level tree of cells that stays one cloud:
 * heal of the top view, out-of-order updates, many boots, a mute child.
 *
 * The group setup creates six cells of its own for the run (databases
 * and vhosts, test_env_add_cell()):
 *
 *     api -+- region1 -+- leaf1
 *          |           +- leaf2
 *          +- region2 --- leaf3     (region2 has hosts of its own too)
 *
 * and starts the real daemons as child processes: nova-cells for every
 * cell (short capacity and mute intervals, no periodic heal so that the
 * cases decide when a heal runs), and nova-conductor, nova-scheduler and
 * nova-compute (simulated hosts on libvirt's test driver) for every cell
 * with hosts.
 * The test thread plays nova-api: it writes the top view and casts and
 * calls to the API cell's nova-cells on CELLS_LOCAL_TOPIC.
 *
 * Cases:
 *   - a build aimed at region2 lands on region2's own hosts, through its
 *     own conductor; one aimed at leaf3 goes on down;
 *   - heal: the top view is corrupted behind the cloud's back (a row's
 *     vm_state changed and its update_seq lowered, a row deleted, a row
 *     inserted for an instance no leaf has); an on-demand heal repairs the
 *     three and reports them, and "nova-manage cell heal" finds nothing
 *     left to do;
 *   - an update older than the top view's never regresses it, whether it
 *     comes up the tree or is applied directly;
 *   - 1,000 boots across the tree end with the top view equal to the union
 *     of the leaf databases (uuid, vm_state, host), compared by SQL;
 *   - leaf3's nova-cells killed: once mute, boots avoid it, its servers
 *     still show from the top view, an action cast towards it returns at
 *     once; restarted, it reports again and a heal leaves the top view
 *     equal to the leaves.
 * Every daemon still running at the end must stop cleanly on SIGTERM
 * (exit status 0, which under the sanitizers also means no leak). */
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

#include "api-cell/cell-status.h"
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

#ifndef TEST_CELLS_TREE_BUILDDIR
#define TEST_CELLS_TREE_BUILDDIR "."
#endif

/* Longest wait for an asynchronous outcome (generous: sanitizer builds of
 * fifteen daemons). */
#define GUARD_MS 180000
#define POLL_MS 50
#define STOP_GUARD_MS 30000

#define N_CELLS 6
#define SIM_HOSTS 2
#define SMALL_MEMORY_MB 128
#define N_BULK 1000
#define N_AVOID 8
#define MUTE_INTERVAL_S 3
#define MAX_CHILDREN 24
/* A cast towards a cell whose nova-cells is down must return within. */
#define FAST_MS 5000
/* Time given to a heal that waits for a leaf that cannot answer. */
#define HEAL_DOWN_MS 10000

#define PROJECT_ID "7a3c0a1e2d6f4d0c8d9c6b1b2a3f4e5d"
#define USER_ID "c1d2e3f4a5b6478899aabbccddeeff00"

/* Index of each cell in T.cells. */
enum { API, REGION1, REGION2, LEAF1, LEAF2, LEAF3 };

struct test_cell {
    char name[32];              /* vhost, database suffix and user */
    char path[200];
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
/* Helpers (as in test-nova-cells.c). */

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
    /* As nova-api sends an admin's requests: target_cell needs it. */
    rpc_ctx_add_role(&msg->ctx, "admin");
    msg->ctx.is_admin = true;
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

/* Boots 'inst' as nova-api does: the top view row, then build_instance,
 * with scheduler hint target_cell 'target' unless NULL. */
static void
boot_at(const struct instance *inst, const char *target)
{
    struct json_object *args = json_object_new_object();
    struct json_object *spec = json_object_new_object();

    check(top_view_create(T.api_db, inst), "top_view_create");
    json_object_object_add(spec, "flavor", flavor_to_json(inst->flavor));
    json_object_object_add(spec, "image",
                           instance_image_to_json(inst->image));
    json_object_object_add(spec, "availability_zone", NULL);
    json_object_object_add(spec, "num_instances", json_object_new_int(1));
    if (target) {
        struct json_object *hints = json_object_new_object();

        json_object_object_add(hints, "target_cell",
                               json_object_new_string(target));
        json_object_object_add(spec, "scheduler_hints", hints);
    }
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

/* ------------------------------------------------------------------ */
/* The daemons. */

/* Starts 'program' of the build tree ("child-cell/nova-cells") with its
 * log in 'log_name' and the options 'args' (NULL-terminated). */
static pid_t
spawn(const char *program, const char *log_name, const char *const *args)
{
    AUTOFREE char *path = xasprintf("%s/%s", TEST_CELLS_TREE_BUILDDIR,
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

/* Starts the conductor, scheduler and compute hosts of leaf 'c'. */
static void
start_leaf(const struct test_cell *c)
{
    AUTOFREE char *transport = xasprintf("transport_url=%s", c->rabbit_url);
    AUTOFREE char *database = xasprintf("database.connection=%s",
                                        c->db_url);
    AUTOFREE char *cond_host = xasprintf("host=%s-conductor", c->name);
    AUTOFREE char *sched_host = xasprintf("host=%s-scheduler", c->name);
    AUTOFREE char *sim_host = xasprintf("host=%s-sim", c->name);
    AUTOFREE char *sim = xasprintf("compute.simulate_hosts=%d", SIM_HOSTS);
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
                                   "--set", sim, "--set",
                                   "compute.sim_memory_mb=65536", "--set",
                                   "compute.sim_vcpus=256", "--set",
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
    AUTOFREE char *mute = xasprintf("cells.mute_child_interval=%d",
                                    MUTE_INTERVAL_S);
    AUTOFREE char *api_db = xasprintf("api_database.connection=%s",
                                      T.cells[API].db_url);
    AUTOFREE char *log = xasprintf("cells-%s.log", c->name);
    const char *args[] = { "--log-level", "info",
                           "--set", topology, "--set", cell, "--set", topic,
                           "--set", "cells.capacity_interval=1", "--set",
                           mute, "--set", "cells.heal_interval=0", "--set",
                           "compute.service_down_time=60",
                           i == API ? "--set" : NULL, api_db, NULL };

    T.cells_pids[i] = spawn("child-cell/nova-cells", log, args);
}

/* ------------------------------------------------------------------ */
/* Setup. */

static void
write_topology(void)
{
    static const int parents[N_CELLS] = { -1, API, API, REGION1, REGION1,
                                          REGION2 };
    FILE *f;

    T.topology = xasprintf("%s/cells.yaml", T.state_dir);
    f = fopen(T.topology, "w");
    assert_non_null(f);
    fprintf(f, "cells:\n");
    for (size_t i = 0; i < N_CELLS; i++) {
        const struct test_cell *c = &T.cells[i];

        fprintf(f, "  - name: %s\n", c->name);
        if (parents[i] >= 0) {
            fprintf(f, "    parent: %s\n", T.cells[parents[i]].name);
        }
        fprintf(f, "    transport_url: %s\n", c->rabbit_url);
        if (c->leaf) {
            fprintf(f, "    database: %s\n", c->db_url);
        }
        if (i == REGION2) {
            fprintf(f, "    hosts: true\n");
        }
    }
    assert_int_equal(fclose(f), 0);
}

static int
group_setup(void **state)
{
    static const char *const suffixes[N_CELLS] = {
        "api", "region1", "region2", "leaf1", "leaf2", "leaf3",
    };
    CLEANUP(test_env_url_freep) struct test_env_url *rabbit
        = test_env_url_parse(test_env_get("NOVA_TEST_RABBIT_ADMIN_URL"));
    AUTOFREE char *template = xstrdup("/tmp/test-cells-tree-XXXXXX");
    struct error *error = NULL;

    (void) state;
    if (!mkdtemp(template)) {
        return -1;
    }
    T.state_dir = TAKE_PTR(template);
    snprintf(T.topic, sizeof T.topic, "cells_tree_%ld", (long) getpid());
    for (size_t i = 0; i < N_CELLS; i++) {
        struct test_cell *c = &T.cells[i];

        snprintf(c->name, sizeof c->name, "t%ld%s", (long) getpid(),
                 suffixes[i]);
        /* region2 has hosts of its own beside its child leaf3. */
        c->leaf = i >= LEAF1 || i == REGION2;
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
    for (size_t i = REGION1; i <= REGION2; i++) {
        snprintf(T.cells[i].path, sizeof T.cells[i].path, "%s!%s",
                 T.cells[API].name, T.cells[i].name);
    }
    for (size_t i = LEAF1; i <= LEAF3; i++) {
        const struct test_cell *parent = &T.cells[i == LEAF3 ? REGION2
                                                             : REGION1];

        AUTOFREE char *path = xasprintf("%s!%s", parent->path,
                                        T.cells[i].name);

        if (strlen(path) >= sizeof T.cells[i].path) {
            return -1;
        }
        memcpy(T.cells[i].path, path, strlen(path) + 1);
    }
    write_topology();

    /* Schemas: the API database, and each leaf's cell database. */
    for (size_t i = 0; i < N_CELLS && !error; i++) {
        struct db *db = NULL;

        if (!T.cells[i].leaf && i != API) {
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
    for (size_t i = 0; i < N_CELLS; i++) {
        if (T.cells[i].leaf) {
            start_leaf(&T.cells[i]);
        }
    }
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
/* Helpers of the cases. */

static char *
log_name(size_t cell)
{
    return xasprintf("cells-%s.log", T.cells[cell].name);
}

/* Lines of 'log' that contain 'text'. */
static size_t
log_count(const char *log, const char *text)
{
    AUTOFREE char *path = xasprintf("%s/%s", T.state_dir, log);
    FILE *f = fopen(path, "r");
    char line[4096];
    size_t n = 0;

    if (!f) {
        return 0;
    }
    while (fgets(line, sizeof line, f)) {
        n += strstr(line, text) != NULL;
    }
    fclose(f);
    return n;
}

/* Waits until cell 'parent' has logged "cell CHILD reports WHAT" more
 * than 'after' times; returns the count. */
static size_t
wait_report(size_t parent, size_t child, const char *what, size_t after)
{
    AUTOFREE char *log = log_name(parent);
    AUTOFREE char *text = xasprintf("cell '%s' reports %s",
                                    T.cells[child].path, what);
    long long deadline = poll_loop_now_ms() + GUARD_MS;
    size_t n;

    while ((n = log_count(log, text)) <= after) {
        if (poll_loop_now_ms() > deadline) {
            fail_msg("%s never logged '%s' (logs in %s)", log, text,
                     T.state_dir);
        }
        sleep_ms(POLL_MS);
    }
    return n;
}

static bool
array_has(const struct json_object *array, const char *s)
{
    for (size_t i = 0; i < json_object_array_length(array); i++) {
        if (!strcmp(json_object_get_string(
                        json_object_array_get_idx(array, i)), s)) {
            return true;
        }
    }
    return false;
}

/* Runs an on-demand heal of 'scope' (NULL: the tree) that may take
 * 'timeout_ms'; returns the answer. */
static struct json_object *
heal_within(const char *scope, int timeout_ms)
{
    struct json_object *args = json_object_new_object();
    CLEANUP(rpc_msg_freep) struct rpc_msg *msg = NULL;
    const struct rpc_target target = { CELLS_LOCAL_TOPIC, NULL };
    struct json_object *result = NULL;

    json_object_object_add(args, "cell_path",
                           scope ? json_object_new_string(scope) : NULL);
    msg = new_msg(CELLS_HEAL, args);
    check(rpc_call(T.conn, &target, msg, timeout_ms, &result), "heal");
    assert_non_null(result);
    assert_true(json_object_is_type(
        json_object_object_get(result, "fixed"), json_type_array));
    assert_true(json_object_is_type(
        json_object_object_get(result, "deleted"), json_type_array));
    assert_true(json_object_is_type(
        json_object_object_get(result, "missing_cells"), json_type_array));
    return result;
}

static struct json_object *
heal(const char *scope)
{
    return heal_within(scope, GUARD_MS);
}

/* Boots 'n' small instances named 'name' (at leaf 'target' unless NULL)
 * and waits until they are active; their uuids go to 'uuids'. */
static void
boot_many(const char *name, size_t n, const char *target,
          char (*uuids)[UUID_STRING_SIZE])
{
    for (size_t i = 0; i < n; i++) {
        CLEANUP(instance_freep) struct instance *inst
            = new_instance(name, 1, SMALL_MEMORY_MB, uuids[i]);

        boot_at(inst, target);
    }
    for (size_t i = 0; i < n; i++) {
        top_view_server_free(wait_top(uuids[i], INSTANCE_VM_ACTIVE));
    }
}

/* "uuid vm_state host cell" of every live instance placed in a leaf:
 * from the leaves' databases (the union) or from the top view, one
 * string of sorted lines. */
static int
compare_lines(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

static char *
join_sorted(char **lines, size_t n)
{
    size_t size = 1;
    char *text;
    char *p;

    qsort(lines, n, sizeof *lines, compare_lines);
    for (size_t i = 0; i < n; i++) {
        size += strlen(lines[i]) + 1;
    }
    p = text = xmalloc(size);
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(lines[i]);

        memcpy(p, lines[i], len);
        p[len] = '\n';
        p += len + 1;
        free(lines[i]);
    }
    *p = '\0';
    free(lines);
    return text;
}

static char *
leaves_state(void)
{
    char **lines = NULL;
    size_t n = 0;

    for (size_t c = 0; c < N_CELLS; c++) {
        CLEANUP(db_closep) struct db *db = NULL;
        CLEANUP(db_rows_freep) struct db_rows *rows = NULL;

        if (!T.cells[c].leaf) {
            continue;
        }
        check(db_open(T.cells[c].db_url, &db), "open a leaf database");
        check(db_query(db, "SELECT uuid, vm_state, COALESCE(host, '') "
                       "FROM instances WHERE deleted = 0", DB_NO_PARAMS,
                       &rows), "leaf instances");
        lines = xrealloc(lines, (n + db_rows_count(rows) + 1)
                         * sizeof *lines);
        for (size_t r = 0; r < db_rows_count(rows); r++) {
            lines[n++] = xasprintf("%s %s %s %s",
                                   db_rows_get_str(rows, r, 0),
                                   db_rows_get_str(rows, r, 1),
                                   db_rows_get_str(rows, r, 2),
                                   T.cells[c].path);
        }
    }
    return join_sorted(lines, n);
}

static char *
top_state(void)
{
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    char **lines;
    size_t n;

    check(db_query(T.api_db, "SELECT uuid, vm_state, COALESCE(host, ''), "
                   "cell_path FROM instances WHERE deleted = 0 "
                   "AND cell_path IS NOT NULL", DB_NO_PARAMS, &rows),
          "top view");
    n = db_rows_count(rows);
    lines = xcalloc(n + 1, sizeof *lines);
    for (size_t r = 0; r < n; r++) {
        lines[r] = xasprintf("%s %s %s %s", db_rows_get_str(rows, r, 0),
                             db_rows_get_str(rows, r, 1),
                             db_rows_get_str(rows, r, 2),
                             db_rows_get_str(rows, r, 3));
    }
    return join_sorted(lines, n);
}

/* Waits until the top view equals the union of the leaves. */
static void
wait_top_equals_leaves(void)
{
    long long deadline = poll_loop_now_ms() + GUARD_MS;

    for (;;) {
        AUTOFREE char *leaves = leaves_state();
        AUTOFREE char *top = top_state();

        if (!strcmp(leaves, top)) {
            return;
        }
        if (poll_loop_now_ms() > deadline) {
            fail_msg("the top view differs from the leaves:\n--- leaves\n"
                     "%s--- top view\n%s", leaves, top);
        }
        sleep_ms(POLL_MS * 4);
    }
}

static void
api_exec(const char *sql, const char *uuid)
{
    uint64_t n = 0;

    check(db_exec(T.api_db, sql, DB_PARAMS(DB_STR(uuid)), &n), sql);
    assert_int_equal(n, 1);
}

/* ------------------------------------------------------------------ */
/* Cases. */

/* Capacity reports travel up the three levels. */
static void
test_reports(void **state)
{
    (void) state;
    wait_report(REGION1, LEAF1, "room", 0);
    wait_report(REGION1, LEAF2, "room", 0);
    wait_report(REGION2, LEAF3, "room", 0);
    wait_report(API, REGION1, "room", 0);
    wait_report(API, REGION2, "room", 0);
}

/* region2 has a child (leaf3) and hosts of its own: a build aimed at it
 * is placed on its own hosts by its own conductor, one aimed at leaf3
 * still goes down to leaf3. */
static void
test_own_hosts(void **state)
{
    char own[1][UUID_STRING_SIZE];
    char below[1][UUID_STRING_SIZE];
    CLEANUP(top_view_server_freep) struct top_view_server *a = NULL;
    CLEANUP(top_view_server_freep) struct top_view_server *b = NULL;
    AUTOFREE char *sim = xasprintf("%s-sim", T.cells[REGION2].name);
    AUTOFREE char *log = log_name(REGION2);

    (void) state;
    boot_many("own", 1, T.cells[REGION2].path, own);
    boot_many("below", 1, T.cells[LEAF3].path, below);
    check(top_view_get(T.api_db, own[0], false, &a), "get");
    assert_string_equal(a->cell_path, T.cells[REGION2].path);
    assert_non_null(a->inst->host);
    assert_true(!strncmp(a->inst->host, sim, strlen(sim)));
    assert_true(log_count(log, "build_instances cast to the conductor")
                >= 1);
    check(top_view_get(T.api_db, below[0], false, &b), "get");
    assert_string_equal(b->cell_path, T.cells[LEAF3].path);
    wait_top_equals_leaves();
}

/* The top view corrupted three ways is repaired by an on-demand heal,
 * which reports what it did; a second heal finds nothing. */
static void
test_heal(void **state)
{
    char uuids[3][UUID_STRING_SIZE];
    char ghost[UUID_STRING_SIZE];
    CLEANUP(instance_freep) struct instance *phantom = NULL;
    CLEANUP(json_putp) struct json_object *result = NULL;
    CLEANUP(json_putp) struct json_object *again = NULL;
    CLEANUP(top_view_server_freep) struct top_view_server *a = NULL;
    CLEANUP(top_view_server_freep) struct top_view_server *b = NULL;
    CLEANUP(top_view_server_freep) struct top_view_server *g = NULL;
    CLEANUP(top_view_server_freep) struct top_view_server *before = NULL;
    uint64_t n = 0;

    (void) state;
    boot_many("heal", 3, NULL, uuids);
    wait_top_equals_leaves();
    check(top_view_get(T.api_db, uuids[0], false, &before), "get");

    /* 1: vm_state changed, update_seq lowered. */
    api_exec("UPDATE instances SET vm_state = 'error', update_seq = 1 "
             "WHERE uuid = ?", uuids[0]);
    /* 2: the row gone. */
    api_exec("DELETE FROM instances WHERE uuid = ?", uuids[1]);
    /* 3: a row, placed in leaf1 an hour ago, that no leaf has. */
    phantom = new_instance("ghost", 1, SMALL_MEMORY_MB, ghost);
    check(top_view_create(T.api_db, phantom), "top_view_create");
    check(db_exec(T.api_db, "UPDATE instances SET cell_path = ?, "
                  "vm_state = 'active', update_seq = 5, created_at = "
                  "UTC_TIMESTAMP(6) - INTERVAL 1 HOUR WHERE uuid = ?",
                  DB_PARAMS(DB_STR(T.cells[LEAF1].path), DB_STR(ghost)),
                  &n), "place the ghost");
    assert_int_equal(n, 1);

    result = heal(NULL);
    assert_true(array_has(json_object_object_get(result, "fixed"),
                          uuids[0]));
    assert_true(array_has(json_object_object_get(result, "fixed"),
                          uuids[1]));
    assert_false(array_has(json_object_object_get(result, "fixed"),
                           uuids[2]));
    assert_true(array_has(json_object_object_get(result, "deleted"),
                          ghost));
    assert_int_equal(json_object_array_length(
        json_object_object_get(result, "missing_cells")), 0);
    assert_true(json_object_get_int64(
        json_object_object_get(result, "checked")) >= 3);

    check(top_view_get(T.api_db, uuids[0], false, &a), "get");
    assert_int_equal(a->inst->vm_state, INSTANCE_VM_ACTIVE);
    assert_int_equal(a->inst->update_seq, before->inst->update_seq);
    check(top_view_get(T.api_db, uuids[1], false, &b), "get");
    assert_int_equal(b->inst->vm_state, INSTANCE_VM_ACTIVE);
    assert_non_null(b->cell_path);
    assert_non_null(find_leaf(b->cell_path));
    check(top_view_get(T.api_db, ghost, true, &g), "get");
    assert_true(g->deleted);
    wait_top_equals_leaves();

    /* Nothing left to do, in a subtree or in the whole tree. */
    again = heal(T.cells[REGION1].path);
    assert_int_equal(json_object_array_length(
        json_object_object_get(again, "fixed")), 0);
    assert_int_equal(json_object_array_length(
        json_object_object_get(again, "deleted")), 0);
}

/* "nova-manage cell heal" through RabbitMQ: the cell registry loaded from
 * cells.yaml gives it the API cell's vhost and the cell's path. */
static void
test_manage_heal(void **state)
{
    AUTOFREE char *manage = xasprintf("%s/api-cell/nova-manage",
                                      TEST_CELLS_TREE_BUILDDIR);
    AUTOFREE char *db = xasprintf("api_database.connection=%s",
                                  T.cells[API].db_url);
    AUTOFREE char *out_path = xasprintf("%s/manage-heal.out", T.state_dir);
    char uuid[1][UUID_STRING_SIZE];
    char text[4096];
    size_t len;
    FILE *f;
    int status;

    (void) state;
    boot_many("manage", 1, T.cells[LEAF2].path, uuid);
    wait_top_equals_leaves();
    api_exec("UPDATE instances SET vm_state = 'stopped', update_seq = 0 "
             "WHERE uuid = ?", uuid[0]);
    for (int step = 0; step < 2; step++) {
        pid_t pid = fork();

        assert_true(pid >= 0);
        if (!pid) {
            int fd = open(out_path, O_WRONLY | O_CREAT | O_APPEND
                          | O_CLOEXEC, 0644);

            if (fd >= 0) {
                dup2(fd, STDOUT_FILENO);
                dup2(fd, STDERR_FILENO);
            }
            if (!step) {
                execl(manage, "nova-manage", "--set", db, "cell", "load",
                      T.topology, (char *) NULL);
            } else {
                execl(manage, "nova-manage", "--set", db, "cell", "heal",
                      "--cell", T.cells[LEAF2].name, (char *) NULL);
            }
            _exit(127);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (!WIFEXITED(status) || WEXITSTATUS(status)) {
            fail_msg("nova-manage step %d failed (see %s)", step, out_path);
        }
    }
    f = fopen(out_path, "r");
    assert_non_null(f);
    len = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[len] = '\0';
    assert_non_null(strstr(text, "Fixed: 1\n"));
    assert_non_null(strstr(text, uuid[0]));
    assert_non_null(strstr(text, "Deleted: 0\n"));
    top_view_server_free(wait_top(uuid[0], INSTANCE_VM_ACTIVE));
}

/* Updates out of order never regress the top view: an older one that
 * comes up the tree, or one applied directly. */
static void
test_out_of_order(void **state)
{
    char uuid[1][UUID_STRING_SIZE];
    CLEANUP(top_view_server_freep) struct top_view_server *server = NULL;
    CLEANUP(top_view_server_freep) struct top_view_server *after = NULL;
    CLEANUP(rpc_conn_freep) struct rpc_conn *leaf_conn = NULL;
    CLEANUP(instance_freep) struct instance *old = NULL;
    const struct test_cell *leaf;
    struct json_object *args;
    bool applied = true;

    (void) state;
    boot_many("order", 1, T.cells[LEAF3].path, uuid);
    server = wait_top(uuid[0], INSTANCE_VM_ACTIVE);
    leaf = find_leaf(server->cell_path);
    assert_ptr_equal(leaf, &T.cells[LEAF3]);

    /* Applied directly: ignored. */
    old = instance_clone(server->inst);
    old->vm_state = INSTANCE_VM_ERROR;
    old->update_seq = server->inst->update_seq - 1;
    check(top_view_apply_update(T.api_db, leaf->path, old, NULL, &applied),
          "apply");
    assert_false(applied);
    old->update_seq = server->inst->update_seq;
    check(top_view_apply_update(T.api_db, leaf->path, old, NULL, &applied),
          "apply");
    assert_false(applied);
    check(top_view_apply_destroy(T.api_db, leaf->path, uuid[0],
                                 server->inst->update_seq - 1, &applied),
          "destroy");
    assert_false(applied);

    /* Through three levels, the older first, then a newer one. */
    check(rpc_conn_open(leaf->rabbit_url, NULL, &leaf_conn), "connect");
    old->update_seq = server->inst->update_seq - 1;
    args = json_object_new_object();
    json_object_object_add(args, "instance", instance_to_json(old));
    json_object_object_add(args, "fault", NULL);
    cast_cells(leaf_conn, CELLS_INSTANCE_UPDATE_AT_TOP, args);
    free(old->display_name);
    old->display_name = xstrdup("renamed");
    old->vm_state = INSTANCE_VM_ACTIVE;
    old->update_seq = server->inst->update_seq + 1;
    args = json_object_new_object();
    json_object_object_add(args, "instance", instance_to_json(old));
    json_object_object_add(args, "fault", NULL);
    cast_cells(leaf_conn, CELLS_INSTANCE_UPDATE_AT_TOP, args);
    for (long long deadline = poll_loop_now_ms() + GUARD_MS; ; ) {
        check(top_view_get(T.api_db, uuid[0], true, &after), "get");
        assert_int_equal(after->inst->vm_state, INSTANCE_VM_ACTIVE);
        if (!strcmp(after->inst->display_name, "renamed")) {
            break;
        }
        top_view_server_free(after);
        after = NULL;
        assert_true(poll_loop_now_ms() < deadline);
        sleep_ms(POLL_MS);
    }
    assert_int_equal(after->inst->update_seq, old->update_seq);
}

/* Many boots across the tree end with the top view equal to the union
 * of the leaves. */
static void
test_many_boots(void **state)
{
    char (*uuids)[UUID_STRING_SIZE] = xcalloc(N_BULK, sizeof *uuids);
    size_t per_leaf[N_CELLS] = { 0 };

    (void) state;
    boot_many("bulk", N_BULK, NULL, uuids);
    wait_top_equals_leaves();
    for (size_t i = 0; i < N_BULK; i++) {
        CLEANUP(top_view_server_freep) struct top_view_server *server = NULL;

        check(top_view_get(T.api_db, uuids[i], false, &server), "get");
        for (size_t c = 0; c < N_CELLS; c++) {
            per_leaf[c] += !strcmp(server->cell_path, T.cells[c].path);
        }
    }
    assert_int_equal(per_leaf[LEAF1] + per_leaf[LEAF2] + per_leaf[LEAF3]
                     + per_leaf[REGION2], N_BULK);
    free(uuids);
}

/* Waits until builds aimed at leaf3 land there again (its parent
 * schedules to it once its reports are heard again). */
static void
wait_rejoin(void)
{
    long long deadline = poll_loop_now_ms() + GUARD_MS;

    for (;;) {
        char uuid[UUID_STRING_SIZE];
        CLEANUP(instance_freep) struct instance *inst
            = new_instance("rejoin", 1, SMALL_MEMORY_MB, uuid);
        struct top_view_server *server = NULL;
        bool placed = false;

        boot_at(inst, T.cells[LEAF3].path);
        for (;;) {
            check(top_view_get(T.api_db, uuid, false, &server), "get");
            if (server->inst->vm_state == INSTANCE_VM_ACTIVE
                || server->inst->vm_state == INSTANCE_VM_ERROR) {
                placed = server->inst->vm_state == INSTANCE_VM_ACTIVE;
                top_view_server_free(server);
                break;
            }
            top_view_server_free(server);
            if (poll_loop_now_ms() > deadline) {
                fail_msg("leaf3 never took builds again (logs in %s)",
                         T.state_dir);
            }
            sleep_ms(POLL_MS);
        }
        if (placed) {
            return;
        }
        sleep_ms(1000);
    }
}

/* Waits until the API database records cell 'i' as mute or excluded
 * ('down'), or as healthy (the root's nova-cells writes it from the
 * reports). */
static void
wait_health(size_t i, bool down)
{
    long long deadline = poll_loop_now_ms() + GUARD_MS;

    for (;;) {
        CLEANUP(db_rows_freep) struct db_rows *rows = NULL;

        check(db_query(T.api_db, "SELECT health FROM cell_mappings "
                       "WHERE path = ? AND health IN (?, ?)",
                       DB_PARAMS(DB_STR(T.cells[i].path),
                                 DB_STR(down ? "mute" : "healthy"),
                                 DB_STR(down ? "excluded" : "healthy")),
                       &rows), "health");
        if (db_rows_count(rows)) {
            return;
        }
        if (poll_loop_now_ms() > deadline) {
            fail_msg("cell %s never recorded %s (logs in %s)",
                     T.cells[i].path, down ? "mute" : "healthy",
                     T.state_dir);
        }
        sleep_ms(POLL_MS);
    }
}

/* leaf3's nova-cells dies: mute, avoided by boots, its servers still
 * shown, actions refused at once; a heal skips it without waiting; back,
 * it reports again and a heal repairs what drifted. */
static void
test_mute_child(void **state)
{
    char avoid[N_AVOID][UUID_STRING_SIZE];
    char victim[1][UUID_STRING_SIZE];
    CLEANUP(top_view_server_freep) struct top_view_server *shown = NULL;
    CLEANUP(json_putp) struct json_object *down = NULL;
    CLEANUP(json_putp) struct json_object *result = NULL;
    long long start;
    int status;

    (void) state;
    boot_many("victim", 1, T.cells[LEAF3].path, victim);
    wait_top_equals_leaves();

    /* Killed: no clean exit. */
    assert_int_equal(kill(T.cells_pids[LEAF3], SIGKILL), 0);
    assert_int_equal(waitpid(T.cells_pids[LEAF3], &status, 0),
                     T.cells_pids[LEAF3]);
    for (size_t i = 0; i < MAX_CHILDREN; i++) {
        if (T.children[i] == T.cells_pids[LEAF3]) {
            T.children[i] = 0;
        }
    }
    T.cells_pids[LEAF3] = 0;
    sleep_ms(2 * MUTE_INTERVAL_S * 1000 + 1000);

    boot_many("avoid", N_AVOID, NULL, avoid);
    for (size_t i = 0; i < N_AVOID; i++) {
        CLEANUP(top_view_server_freep) struct top_view_server *server = NULL;

        check(top_view_get(T.api_db, avoid[i], false, &server), "get");
        assert_string_not_equal(server->cell_path, T.cells[LEAF3].path);
    }

    /* Still shown, with its last known state. */
    check(top_view_get(T.api_db, victim[0], false, &shown), "get");
    assert_int_equal(shown->inst->vm_state, INSTANCE_VM_ACTIVE);
    assert_string_equal(shown->cell_path, T.cells[LEAF3].path);

    /* Recorded mute in the API database: actions on its servers are
     * refused at once (nova-api's check), naming the cell. */
    wait_health(LEAF3, true);
    {
        struct error *error = cell_status_check_reachable(
            T.api_db, T.cells[LEAF3].path);

        assert_non_null(error);
        assert_int_equal(error_http_status(error), 503);
        assert_non_null(strstr(error_message(error), T.cells[LEAF3].path));
        error_free(error);
    }
    check(cell_status_check_reachable(T.api_db, T.cells[LEAF1].path),
          "leaf1 reachable");

    /* A heal meanwhile skips the cell at once, reports it and changes
     * nothing there. */
    start = poll_loop_now_ms();
    down = heal_within(T.cells[REGION2].path, HEAL_DOWN_MS);
    assert_true(poll_loop_now_ms() - start < FAST_MS);
    assert_true(array_has(json_object_object_get(down, "missing_cells"),
                          T.cells[LEAF3].path));
    assert_int_equal(json_object_array_length(
        json_object_object_get(down, "deleted")), 0);

    /* An action cast towards it returns at once (it waits in leaf3's
     * queue). */
    start = poll_loop_now_ms();
    instance_action(victim[0], T.cells[LEAF3].path, "stop");
    assert_true(poll_loop_now_ms() - start < FAST_MS);

    /* Drift while it is away. */
    api_exec("UPDATE instances SET vm_state = 'error', update_seq = 1 "
             "WHERE uuid = ?", victim[0]);

    /* Back: the queued stop runs, it takes builds again, a heal
     * repairs the drift. */
    start_cells(LEAF3);
    top_view_server_free(wait_top(victim[0], INSTANCE_VM_STOPPED));
    wait_rejoin();
    /* Recorded healthy again: actions go through, heals ask it. */
    wait_health(LEAF3, false);
    check(cell_status_check_reachable(T.api_db, T.cells[LEAF3].path),
          "leaf3 reachable again");
    result = heal(NULL);
    assert_int_equal(json_object_array_length(
        json_object_object_get(result, "missing_cells")), 0);
    wait_top_equals_leaves();
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reports),
        cmocka_unit_test(test_own_hosts),
        cmocka_unit_test(test_heal),
        cmocka_unit_test(test_manage_heal),
        cmocka_unit_test(test_out_of_order),
        cmocka_unit_test(test_many_boots),
        cmocka_unit_test(test_mute_child),
    };

    test_env_require(argc, argv, "mariadb,rabbitmq");
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
