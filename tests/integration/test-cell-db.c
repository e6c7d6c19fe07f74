/* test-cell-db.c: the cell database access (child-cell/cell-db.h) against
 * a real MariaDB.
 *
 * Covers instances (idempotent create, get, selective and conditional
 * updates, host, lists with filters and paging, soft delete, update_seq
 * on every change), faults, actions and their events, service heartbeats
 * and liveness, compute node inventory, and the claims: exact capacity
 * under two threads racing on two connections, release, and the
 * recompute that heals a wrong usage.  Also checks that the functions
 * join a caller's transaction and roll back with it.
 *
 * The group setup creates a database of its own for this run
 * (test_cell_db_<pid>), migrates it to the newest cell schema, and the
 * teardown drops it.  Tests share it and keep apart by using their own
 * uuids, hosts and projects. */
#include <config.h>

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

#include "child-cell/cell-db.h"
#include "shared/cleanup.h"
#include "shared/db-migrate.h"
#include "shared/db.h"
#include "shared/error.h"
#include "shared/flavor.h"
#include "shared/instance.h"
#include "shared/json-util.h"
#include "shared/timeutil.h"
#include "shared/uuid-util.h"
#include "shared/xalloc.h"
#include "tests/integration/test-env.h"

/* Claims tried by each of the two racing threads. */
#define TEST_CLAIMS_PER_THREAD 100

/* The run's database, set by the group setup. */
static char *test_database;

/* ---- Helpers --------------------------------------------------------- */

static void
check(struct error *error, const char *what)
{
    if (error) {
        fail_msg("%s: %s", what, error_message(error));
    }
}

/* Checks that 'error' is of 'kind' and that its message contains
 * 'message', then frees it. */
static void
check_error(struct error *error, enum error_kind kind, const char *message)
{
    if (!error) {
        fail_msg("no error, expected '%s'", message);
    }
    if (error_kind(error) != kind || !strstr(error_message(error), message)) {
        fail_msg("got %s '%s', expected %s containing '%s'",
                 error_kind_to_string(error_kind(error)),
                 error_message(error), error_kind_to_string(kind), message);
    }
    error_free(error);
}

static char *
test_url(const char *name)
{
    return xasprintf("%s%s", test_env_get("NOVA_TEST_MYSQL_ADMIN_URL"),
                     name ? name : "");
}

static struct db *
test_open(void)
{
    AUTOFREE char *url = test_url(test_database);
    struct db *db = NULL;

    check(db_open(url, &db), url);
    return db;
}

/* Runs 'sql' and returns the integer in its first row and column. */
static int64_t
query_int(struct db *db, const char *sql, const struct db_value *params,
          size_t n_params)
{
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;

    check(db_query(db, sql, params, n_params, &rows), sql);
    assert_int_equal(db_rows_count(rows), 1);
    return db_rows_get_int64(rows, 0, 0);
}

static struct flavor *
make_flavor(int64_t vcpus, int64_t memory_mb, int64_t root_gb,
            int64_t ephemeral_gb, int64_t swap)
{
    struct flavor *flavor = flavor_new("f1", "test.flavor");

    flavor->vcpus = vcpus;
    flavor->memory_mb = memory_mb;
    flavor->root_gb = root_gb;
    flavor->ephemeral_gb = ephemeral_gb;
    flavor->swap = swap;
    return flavor;
}

/* A new instance of 'project' with a fresh uuid and a small flavor. */
static struct instance *
make_instance(const char *project)
{
    char uuid[UUID_STRING_SIZE];
    struct instance *inst;

    uuid_generate_string(uuid);
    inst = instance_new(uuid);
    inst->project_id = xstrdup(project);
    inst->user_id = xstrdup("user-1");
    inst->display_name = xstrdup("vm");
    inst->flavor = make_flavor(1, 256, 1, 0, 0);
    inst->task_state = INSTANCE_TASK_SCHEDULING;
    return inst;
}

/* Creates 'inst' and returns the stored row. */
static struct instance *
create(struct db *db, const struct instance *inst)
{
    struct instance *row = NULL;
    bool created = false;

    check(cell_db_instance_create(db, inst, &row, &created), "create");
    assert_true(created);
    return row;
}

/* Creates an instance of 'project' placed on 'host'/'node' with
 * 'flavor' and returns its uuid (caller frees). */
static char *
create_on(struct db *db, const char *project, const char *host,
          const char *node, const struct flavor *flavor)
{
    CLEANUP(instance_freep) struct instance *inst = make_instance(project);
    CLEANUP(instance_freep) struct instance *row = NULL;

    inst->host = xstrdup_or_null(host);
    inst->node = xstrdup_or_null(node);
    if (flavor) {
        instance_set_flavor(inst, flavor);
    }
    row = create(db, inst);
    return xstrdup(row->uuid);
}

static void
upsert_node(struct db *db, const char *host, const char *node,
            int64_t vcpus, int64_t memory_mb, int64_t local_gb,
            double cpu_ratio, int64_t reserved_memory_mb)
{
    struct cell_db_node_inventory inv = {
        .host = host, .node = node, .hypervisor_type = "QEMU",
        .hypervisor_version = 8002000, .cpu_info = "{\"arch\":\"x86_64\"}",
        .vcpus = vcpus, .memory_mb = memory_mb, .local_gb = local_gb,
        .cpu_allocation_ratio = cpu_ratio,
        .reserved_host_memory_mb = reserved_memory_mb,
    };

    check(cell_db_node_upsert(db, &inv, NULL), "upsert");
}

static struct cell_db_node *
get_node(struct db *db, const char *host, const char *node)
{
    struct cell_db_node *result = NULL;

    check(cell_db_node_get(db, host, node, CELL_DB_SERVICE_DOWN_TIME_S,
                           &result), "node get");
    return result;
}

/* ---- Setup ----------------------------------------------------------- */

static int
group_setup(void **state)
{
    CLEANUP(db_closep) struct db *admin = NULL;
    CLEANUP(db_closep) struct db *db = NULL;
    AUTOFREE char *admin_url = test_url(NULL);
    AUTOFREE char *drop = NULL;
    AUTOFREE char *create_sql = NULL;

    (void) state;
    test_database = xasprintf("test_cell_db_%ld", (long) getpid());
    drop = xasprintf("DROP DATABASE IF EXISTS %s", test_database);
    create_sql = xasprintf("CREATE DATABASE %s CHARACTER SET utf8mb4",
                           test_database);
    check(db_open(admin_url, &admin), admin_url);
    check(db_exec_once(admin, drop, DB_NO_PARAMS, NULL), drop);
    check(db_exec_once(admin, create_sql, DB_NO_PARAMS, NULL), create_sql);
    db = test_open();
    check(db_migrate(db, DB_SCHEMA_CELL, NULL, NULL), "migrate");
    return 0;
}

static int
group_teardown(void **state)
{
    CLEANUP(db_closep) struct db *admin = NULL;
    AUTOFREE char *admin_url = test_url(NULL);
    AUTOFREE char *drop = xasprintf("DROP DATABASE IF EXISTS %s",
                                    test_database);

    (void) state;
    check(db_open(admin_url, &admin), admin_url);
    check(db_exec_once(admin, drop, DB_NO_PARAMS, NULL), drop);
    free(test_database);
    test_database = NULL;
    return 0;
}

/* ---- Instances ------------------------------------------------------- */

static void
test_instance_create_get(void **state)
{
    CLEANUP(db_closep) struct db *db = test_open();
    CLEANUP(instance_freep) struct instance *inst = make_instance("p-get");
    CLEANUP(instance_freep) struct instance *row = NULL;
    CLEANUP(instance_freep) struct instance *again = NULL;
    CLEANUP(instance_freep) struct instance *got = NULL;
    CLEANUP(instance_freep) struct instance *bad = make_instance("p-get");
    bool created = true;
    char uuid[UUID_STRING_SIZE];

    (void) state;
    /* Every member of the object survives the database. */
    inst->host = xstrdup("host-get");
    inst->node = xstrdup("node-get");
    inst->image_ref = xstrdup("img-1");
    inst->image = instance_image_new();
    inst->image->disk = xstrdup("/images/a.qcow2");
    inst->image->disk_format = xstrdup("qcow2");
    instance_image_set_property(inst->image, "architecture", "x86_64");
    inst->key_name = xstrdup("key");
    inst->key_data = xstrdup("ssh-ed25519 AAAA \xe2\x9c\x93");
    instance_set_metadata(inst, "role", "db");
    instance_set_metadata(inst, "empty", "");
    inst->availability_zone = xstrdup("az1");
    flavor_set_extra_spec(inst->flavor, "hw:cpu_policy", "dedicated");
    inst->power_state = INSTANCE_POWER_NOSTATE;
    inst->created_at = 1714564800123;
    inst->updated_at = 1714564800456;
    inst->launched_at = 1714564801000;
    inst->locked = true;
    inst->update_seq = 41;

    check(cell_db_instance_create(db, inst, &row, &created), "create");
    assert_true(created);
    /* Newer than anything the sender knew. */
    assert_int_equal(row->update_seq, 42);
    inst->update_seq = 42;
    assert_true(instance_equal(inst, row));

    /* A second create of the same uuid returns the row, unchanged. */
    inst->vm_state = INSTANCE_VM_ERROR;
    check(cell_db_instance_create(db, inst, &again, &created), "again");
    assert_false(created);
    assert_int_equal(again->vm_state, INSTANCE_VM_BUILDING);
    assert_int_equal(again->update_seq, 42);
    assert_true(instance_equal(row, again));

    check(cell_db_instance_get(db, row->uuid, false, &got), "get");
    assert_true(instance_equal(row, got));

    /* Times not given become now; an unknown uuid is Nova's NotFound. */
    uuid_generate_string(uuid);
    check_error(cell_db_instance_get(db, uuid, false, &got),
                ERROR_NOT_FOUND, "could not be found.");
    {
        AUTOFREE char *message = xasprintf("Instance %s could not be "
                                           "found.", uuid);
        check_error(cell_db_instance_get(db, uuid, true, &got),
                    ERROR_NOT_FOUND, message);
    }
    assert_non_null(got);

    /* An invalid instance is refused before the database sees it. */
    instance_set_flavor(bad, NULL);
    check_error(cell_db_instance_create(db, bad, NULL, NULL), ERROR_INVALID,
                "'instance.flavor' is a required property");
    free(bad->uuid);
    bad->uuid = xstrdup("nope");
    check_error(cell_db_instance_create(db, bad, NULL, NULL), ERROR_INVALID,
                "'instance.uuid'");
}

static void
test_instance_created_now(void **state)
{
    CLEANUP(db_closep) struct db *db = test_open();
    CLEANUP(instance_freep) struct instance *inst = make_instance("p-now");
    CLEANUP(instance_freep) struct instance *row = NULL;
    int64_t before = time_now_ms();
    int64_t after;

    (void) state;
    row = create(db, inst);
    after = time_now_ms();
    assert_true(row->created_at >= before && row->created_at <= after);
    assert_int_equal(row->updated_at, row->created_at);
    assert_int_equal(row->launched_at, INSTANCE_TIME_NONE);
    assert_int_equal(row->update_seq, 1);
}

static void
test_instance_update(void **state)
{
    CLEANUP(db_closep) struct db *db = test_open();
    CLEANUP(instance_freep) struct instance *inst = make_instance("p-upd");
    CLEANUP(instance_freep) struct instance *row = NULL;
    CLEANUP(instance_freep) struct instance *after = NULL;
    struct cell_db_instance_updates spawn = {
        .fields = CELL_DB_INSTANCE_TASK_STATE,
        .task_state = INSTANCE_TASK_SPAWNING,
    };
    struct cell_db_instance_updates active = {
        .fields = CELL_DB_INSTANCE_VM_STATE | CELL_DB_INSTANCE_TASK_STATE
                  | CELL_DB_INSTANCE_POWER_STATE
                  | CELL_DB_INSTANCE_LAUNCHED_AT,
        .vm_state = INSTANCE_VM_ACTIVE,
        .task_state = INSTANCE_TASK_NONE,
        .power_state = INSTANCE_POWER_RUNNING,
        .launched_at = 1714564805000,
    };
    static const enum instance_task_state from_scheduling[] = {
        INSTANCE_TASK_SCHEDULING,
    };
    static const enum instance_task_state from_spawning[] = {
        INSTANCE_TASK_SPAWNING,
    };
    static const enum instance_task_state rebooting_or_none[] = {
        INSTANCE_TASK_REBOOTING, INSTANCE_TASK_NONE,
    };
    struct cell_db_instance_updates reboot = {
        .fields = CELL_DB_INSTANCE_TASK_STATE,
        .task_state = INSTANCE_TASK_REBOOTING,
    };
    struct cell_db_instance_updates bad = {
        .fields = CELL_DB_INSTANCE_POWER_STATE,
        .power_state = (enum instance_power_state) 2,
    };
    char uuid[UUID_STRING_SIZE];

    (void) state;
    row = create(db, inst);
    assert_int_equal(row->update_seq, 1);

    check(cell_db_instance_update(db, row->uuid, &spawn, from_scheduling,
                                  ARRAY_SIZE(from_scheduling), &after),
          "spawn");
    assert_int_equal(after->task_state, INSTANCE_TASK_SPAWNING);
    assert_int_equal(after->update_seq, 2);
    assert_true(after->updated_at >= row->updated_at);
    /* Columns not named are untouched. */
    assert_int_equal(after->vm_state, INSTANCE_VM_BUILDING);
    assert_string_equal(after->display_name, "vm");
    instance_free(TAKE_PTR(after));

    /* The same transition again: the task state moved on. */
    check_error(cell_db_instance_update(db, row->uuid, &spawn,
                                        from_scheduling,
                                        ARRAY_SIZE(from_scheduling), NULL),
                ERROR_CONFLICT,
                "Expected: {'task_state': ['scheduling']}. Actual: "
                "{'task_state': 'spawning'}");
    check_error(cell_db_instance_update(db, row->uuid, &reboot,
                                        rebooting_or_none,
                                        ARRAY_SIZE(rebooting_or_none),
                                        NULL),
                ERROR_CONFLICT,
                "Conflict updating instance");
    check(cell_db_instance_get(db, row->uuid, false, &after), "get");
    assert_int_equal(after->update_seq, 2);
    instance_free(TAKE_PTR(after));

    check(cell_db_instance_update(db, row->uuid, &active, from_spawning,
                                  ARRAY_SIZE(from_spawning), &after),
          "active");
    assert_int_equal(after->vm_state, INSTANCE_VM_ACTIVE);
    assert_int_equal(after->task_state, INSTANCE_TASK_NONE);
    assert_int_equal(after->power_state, INSTANCE_POWER_RUNNING);
    assert_int_equal(after->launched_at, 1714564805000);
    assert_int_equal(after->update_seq, 3);
    instance_free(TAKE_PTR(after));

    /* None in the expected list matches a NULL task state. */
    check(cell_db_instance_update(db, row->uuid, &reboot, rebooting_or_none,
                                  ARRAY_SIZE(rebooting_or_none), &after),
          "reboot");
    assert_int_equal(after->task_state, INSTANCE_TASK_REBOOTING);
    assert_int_equal(after->update_seq, 4);
    instance_free(TAKE_PTR(after));
    check_error(cell_db_instance_update(db, row->uuid, &spawn,
                                        rebooting_or_none + 1, 1, NULL),
                ERROR_CONFLICT,
                "Expected: {'task_state': [None]}. Actual: {'task_state': "
                "'rebooting'}");

    /* Without expected states any update applies, even one that changes
     * nothing: it is still a new version. */
    check(cell_db_instance_update(db, row->uuid,
                                  &(struct cell_db_instance_updates) { 0 },
                                  NULL, 0, &after), "empty update");
    assert_int_equal(after->update_seq, 5);
    assert_int_equal(after->task_state, INSTANCE_TASK_REBOOTING);
    instance_free(TAKE_PTR(after));

    check(cell_db_instance_set_host(db, row->uuid, "host-u", "node-u",
                                    &after), "set host");
    assert_string_equal(after->host, "host-u");
    assert_string_equal(after->node, "node-u");
    assert_int_equal(after->update_seq, 6);
    instance_free(TAKE_PTR(after));
    check(cell_db_instance_set_host(db, row->uuid, NULL, NULL, &after),
          "clear host");
    assert_null(after->host);
    assert_null(after->node);
    assert_int_equal(after->update_seq, 7);

    check_error(cell_db_instance_update(db, row->uuid, &bad, NULL, 0, NULL),
                ERROR_INVALID, "power_state");
    uuid_generate_string(uuid);
    check_error(cell_db_instance_update(db, uuid, &spawn, NULL, 0, NULL),
                ERROR_NOT_FOUND, "could not be found.");
    check_error(cell_db_instance_update(db, uuid, &spawn, from_spawning, 1,
                                        NULL),
                ERROR_NOT_FOUND, "could not be found.");
}

static void
test_instance_list(void **state)
{
    CLEANUP(db_closep) struct db *db = test_open();
    CLEANUP(instance_list_freep) struct instance_list *list = NULL;
    char *uuids[6] = { NULL };
    static const struct {
        const char *project;
        const char *host;
        const char *node;
    } placed[] = {
        { "p-list-a", "host-l1", "node-l1a" },
        { "p-list-a", "host-l1", "node-l1b" },
        { "p-list-b", "host-l1", "node-l1a" },
        { "p-list-b", "host-l2", "node-l2" },
        { "p-list-a", NULL, NULL },
        { "p-list-a", "host-l2", "node-l2" },
    };
    static const struct {
        struct cell_db_instance_filter filter;
        size_t n;
        int first;              /* index in 'placed' of the first item */
    } cases[] = {
        { { .host = "host-l1" }, 3, 0 },
        { { .host = "host-l1", .node = "node-l1a" }, 2, 0 },
        { { .host = "host-l1", .project_id = "p-list-b" }, 1, 2 },
        { { .host = "host-l2" }, 1, 3 },       /* [5] is deleted */
        { { .host = "host-l2", .include_deleted = true }, 2, 3 },
        { { .project_id = "p-list-a" }, 3, 0 },
        { { .project_id = "p-list-a", .limit = 2 }, 2, 0 },
        { { .project_id = "p-list-b" }, 2, 2 },
        { { .host = "host-none" }, 0, -1 },
        { { .project_id = "p-list-none" }, 0, -1 },
    };
    struct cell_db_instance_filter page = { .project_id = "p-list-a",
                                            .limit = 2 };
    bool deleted = false;

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(placed); i++) {
        uuids[i] = create_on(db, placed[i].project, placed[i].host,
                             placed[i].node, NULL);
    }
    check(cell_db_instance_mark_deleted(db, uuids[5], &deleted, NULL),
          "delete");
    assert_true(deleted);

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        check(cell_db_instance_list(db, &cases[i].filter, &list), "list");
        if (list->n != cases[i].n) {
            fail_msg("row %zu: %zu instances, expected %zu", i, list->n,
                     cases[i].n);
        }
        if (cases[i].n) {
            assert_string_equal(list->items[0]->uuid,
                                uuids[cases[i].first]);
        }
        instance_list_free(TAKE_PTR(list));
    }

    /* Paging: oldest first, each page after the last uuid seen. */
    check(cell_db_instance_list(db, &page, &list), "page 1");
    assert_int_equal(list->n, 2);
    assert_string_equal(list->items[1]->uuid, uuids[1]);
    page.marker = uuids[1];
    instance_list_free(TAKE_PTR(list));
    check(cell_db_instance_list(db, &page, &list), "page 2");
    assert_int_equal(list->n, 1);
    assert_string_equal(list->items[0]->uuid, uuids[4]);
    page.marker = uuids[4];
    instance_list_free(TAKE_PTR(list));
    check(cell_db_instance_list(db, &page, &list), "page 3");
    assert_int_equal(list->n, 0);
    instance_list_free(TAKE_PTR(list));
    page.marker = "00000000-0000-0000-0000-000000000000";
    check_error(cell_db_instance_list(db, &page, &list), ERROR_NOT_FOUND,
                "Marker 00000000-0000-0000-0000-000000000000 could not be "
                "found.");

    /* No filter: every live instance, including the ones above. */
    check(cell_db_instance_list(db, NULL, &list), "all");
    assert_true(list->n >= 5);
    for (size_t i = 0; i < list->n; i++) {
        assert_int_not_equal(list->items[i]->vm_state, INSTANCE_VM_DELETED);
    }
    for (size_t i = 0; i < ARRAY_SIZE(uuids); i++) {
        free(uuids[i]);
    }
}

static void
test_instance_delete(void **state)
{
    CLEANUP(db_closep) struct db *db = test_open();
    CLEANUP(instance_freep) struct instance *inst = make_instance("p-del");
    CLEANUP(instance_freep) struct instance *row = NULL;
    CLEANUP(instance_freep) struct instance *after = NULL;
    struct cell_db_instance_updates stop = {
        .fields = CELL_DB_INSTANCE_VM_STATE,
        .vm_state = INSTANCE_VM_STOPPED,
    };
    bool deleted = false;
    char uuid[UUID_STRING_SIZE];

    (void) state;
    inst->power_state = INSTANCE_POWER_SHUTDOWN;
    inst->task_state = INSTANCE_TASK_DELETING;
    row = create(db, inst);

    check(cell_db_instance_mark_deleted(db, row->uuid, &deleted, &after),
          "delete");
    assert_true(deleted);
    assert_int_equal(after->vm_state, INSTANCE_VM_DELETED);
    assert_int_equal(after->task_state, INSTANCE_TASK_NONE);
    assert_int_equal(after->power_state, INSTANCE_POWER_NOSTATE);
    assert_int_not_equal(after->terminated_at, INSTANCE_TIME_NONE);
    assert_int_equal(after->update_seq, row->update_seq + 1);
    assert_int_equal(query_int(db, "SELECT deleted = id FROM instances"
                               " WHERE uuid = ?",
                               DB_PARAMS(DB_STR(row->uuid))), 1);
    instance_free(TAKE_PTR(after));

    /* Again: nothing changes, and the caller learns it. */
    check(cell_db_instance_mark_deleted(db, row->uuid, &deleted, &after),
          "delete again");
    assert_false(deleted);
    assert_int_equal(after->update_seq, row->update_seq + 1);
    instance_free(TAKE_PTR(after));

    check_error(cell_db_instance_get(db, row->uuid, false, &after),
                ERROR_NOT_FOUND, "could not be found.");
    check(cell_db_instance_get(db, row->uuid, true, &after), "read deleted");
    assert_int_equal(after->vm_state, INSTANCE_VM_DELETED);
    check_error(cell_db_instance_update(db, row->uuid, &stop, NULL, 0, NULL),
                ERROR_NOT_FOUND, "could not be found.");
    uuid_generate_string(uuid);
    check_error(cell_db_instance_mark_deleted(db, uuid, NULL, NULL),
                ERROR_NOT_FOUND, "could not be found.");
}

static void
test_update_seq_every_change(void **state)
{
    CLEANUP(db_closep) struct db *db = test_open();
    CLEANUP(instance_freep) struct instance *inst = make_instance("p-seq");
    CLEANUP(instance_freep) struct instance *row = NULL;
    struct cell_db_instance_updates changes[] = {
        { .fields = CELL_DB_INSTANCE_TASK_STATE,
          .task_state = INSTANCE_TASK_SPAWNING },
        { .fields = CELL_DB_INSTANCE_POWER_STATE,
          .power_state = INSTANCE_POWER_RUNNING },
        { .fields = CELL_DB_INSTANCE_DISPLAY_NAME, .display_name = "new" },
        { .fields = CELL_DB_INSTANCE_LOCKED, .locked = true },
        { .fields = CELL_DB_INSTANCE_AVAILABILITY_ZONE,
          .availability_zone = "az9" },
        { .fields = CELL_DB_INSTANCE_TERMINATED_AT,
          .terminated_at = 1714564900000 },
        { .fields = CELL_DB_INSTANCE_HOST, .host = "h", .node = "n" },
    };
    int64_t seq;

    (void) state;
    inst->update_seq = 100;
    row = create(db, inst);
    seq = row->update_seq;
    assert_int_equal(seq, 101);
    for (size_t i = 0; i < ARRAY_SIZE(changes); i++) {
        CLEANUP(instance_freep) struct instance *after = NULL;

        check(cell_db_instance_update(db, row->uuid, &changes[i], NULL, 0,
                                      &after), "update");
        assert_int_equal(after->update_seq, ++seq);
    }
    {
        CLEANUP(instance_freep) struct instance *after = NULL;

        check(cell_db_instance_get(db, row->uuid, false, &after), "get");
        assert_string_equal(after->display_name, "new");
        assert_true(after->locked);
        assert_string_equal(after->availability_zone, "az9");
        assert_int_equal(after->terminated_at, 1714564900000);
        assert_int_equal(after->update_seq, seq);
    }
    check(cell_db_instance_mark_deleted(db, row->uuid, NULL, NULL),
          "delete");
    assert_int_equal(query_int(db, "SELECT update_seq FROM instances"
                               " WHERE uuid = ?",
                               DB_PARAMS(DB_STR(row->uuid))), seq + 1);
}

/* ---- Faults ---------------------------------------------------------- */

static void
test_faults(void **state)
{
    CLEANUP(db_closep) struct db *db = test_open();
    CLEANUP(instance_freep) struct instance *inst = make_instance("p-f");
    CLEANUP(instance_freep) struct instance *row = NULL;
    CLEANUP(cell_db_fault_freep) struct cell_db_fault *fault = NULL;
    CLEANUP(error_freep) struct error *cause = error_new(
        ERROR_NO_VALID_HOST, "No valid host was found. There are not "
        "enough hosts available.");
    CLEANUP(json_putp) struct json_object *json = NULL;
    AUTOFREE char *long_message = xmalloc(2 * 300 + 1);
    char uuid[UUID_STRING_SIZE];

    (void) state;
    row = create(db, inst);
    check(cell_db_fault_get_latest(db, row->uuid, &fault), "none yet");
    assert_null(fault);

    check(cell_db_fault_add(db, row->uuid, 500, "first", "trace 1", "h1"),
          "add 1");
    check(cell_db_fault_add_error(db, row->uuid, cause, NULL), "add 2");
    check(cell_db_fault_get_latest(db, row->uuid, &fault), "latest");
    assert_int_equal(fault->code, 500);
    assert_string_equal(fault->message, "No valid host was found. There "
                        "are not enough hosts available.");
    assert_null(fault->details);
    assert_null(fault->host);
    assert_string_equal(fault->instance_uuid, row->uuid);
    assert_int_not_equal(fault->created_at, INSTANCE_TIME_NONE);
    json = cell_db_fault_to_json(fault);
    assert_int_equal(json_object_get_int(json_object_object_get(json,
                                                                 "code")),
                     500);
    assert_false(json_object_object_get_ex(json, "details", NULL));
    assert_non_null(json_object_object_get(json, "created"));
    cell_db_fault_free(TAKE_PTR(fault));

    /* A message is cut to 255 characters, not bytes. */
    for (int i = 0; i < 300; i++) {
        memcpy(long_message + 2 * i, "\xc3\xa9", 2);
    }
    long_message[600] = '\0';
    check(cell_db_fault_add(db, row->uuid, 404, long_message, NULL, "h"),
          "add long");
    check(cell_db_fault_get_latest(db, row->uuid, &fault), "latest long");
    assert_int_equal(strlen(fault->message),
                     2 * CELL_DB_FAULT_MESSAGE_MAX_LENGTH);
    assert_int_equal(fault->code, 404);

    uuid_generate_string(uuid);
    check_error(cell_db_fault_add(db, uuid, 500, "x", NULL, NULL),
                ERROR_NOT_FOUND, "could not be found.");
    check_error(cell_db_fault_add(db, row->uuid, 500, NULL, NULL, NULL),
                ERROR_INVALID, "Fault message is required");
}

/* ---- Actions ---------------------------------------------------------- */

static void
test_actions(void **state)
{
    CLEANUP(db_closep) struct db *db = test_open();
    CLEANUP(instance_freep) struct instance *inst = make_instance("p-act");
    CLEANUP(instance_freep) struct instance *row = NULL;
    CLEANUP(instance_freep) struct instance *other = make_instance("p-act");
    CLEANUP(instance_freep) struct instance *other_row = NULL;
    CLEANUP(cell_db_action_list_freep) struct cell_db_action_list *list =
        NULL;
    CLEANUP(cell_db_action_freep) struct cell_db_action *action = NULL;
    CLEANUP(json_putp) struct json_object *json = NULL;
    struct cell_db_action_event start = {
        .event = "compute_reboot_instance", .start_time = 1714564800000,
        .host = "cmp1",
    };
    struct cell_db_action_event finish = {
        .event = "compute_reboot_instance", .result = "Error",
        .start_time = INSTANCE_TIME_NONE, .finish_time = 1714564802000,
        .host = "other", .details = "libvirt said no",
        .traceback = "Traceback ...",
    };
    struct cell_db_action_event build = {
        .event = "compute_build_and_run_instance", .result = "Success",
        .start_time = 1714564700000, .finish_time = 1714564701000,
    };
    int64_t create_id = 0, reboot_id = 0, again_id = 0;
    char uuid[UUID_STRING_SIZE];

    (void) state;
    row = create(db, inst);
    other_row = create(db, other);

    /* No action yet: an empty list; no action to add events to. */
    check(cell_db_action_list(db, row->uuid, &list), "empty list");
    assert_int_equal(list->n, 0);
    cell_db_action_list_free(TAKE_PTR(list));
    check_error(cell_db_action_add_event(db, row->uuid, "req-x", &build),
                ERROR_NOT_FOUND, "Action for request_id req-x on instance");

    check(cell_db_action_start(db, row->uuid, "create", "req-1", "u", "p",
                               &create_id), "start create");
    check(cell_db_action_start(db, row->uuid, "reboot", "req-2", "u", "p",
                               &reboot_id), "start reboot");
    assert_true(reboot_id > create_id);
    /* A redelivered request adds nothing. */
    check(cell_db_action_start(db, row->uuid, "reboot", "req-2", "u", "p",
                               &again_id), "start again");
    assert_int_equal(again_id, reboot_id);
    check(cell_db_action_start(db, other_row->uuid, "create", "req-1", "u",
                               "p", NULL), "other instance");

    /* Events: by request id, or the newest action without one. */
    check(cell_db_action_add_event(db, row->uuid, "req-1", &build),
          "build event");
    check(cell_db_action_add_event(db, row->uuid, NULL, &start),
          "reboot start");
    check(cell_db_action_add_event(db, row->uuid, "req-unknown", &finish),
          "reboot finish");

    check(cell_db_action_list(db, row->uuid, &list), "list");
    assert_int_equal(list->n, 2);
    assert_string_equal(list->items[0].action, "reboot");
    assert_string_equal(list->items[0].request_id, "req-2");
    assert_string_equal(list->items[0].message, "Error");
    assert_int_equal(list->items[0].n_events, 1);
    /* The finish completed the started event. */
    assert_string_equal(list->items[0].events[0].result, "Error");
    assert_int_equal(list->items[0].events[0].start_time, 1714564800000);
    assert_int_equal(list->items[0].events[0].finish_time, 1714564802000);
    assert_string_equal(list->items[0].events[0].host, "cmp1");
    assert_string_equal(list->items[0].events[0].details,
                        "libvirt said no");
    assert_string_equal(list->items[1].action, "create");
    assert_null(list->items[1].message);
    assert_int_equal(list->items[1].n_events, 1);
    assert_string_equal(list->items[1].events[0].event,
                        "compute_build_and_run_instance");
    assert_string_equal(list->items[1].user_id, "u");
    assert_int_not_equal(list->items[1].start_time, INSTANCE_TIME_NONE);

    check(cell_db_action_get(db, row->uuid, "req-1", &action), "get");
    assert_int_equal(action->id, create_id);
    assert_int_equal(action->n_events, 1);
    json = cell_db_action_to_json(action);
    assert_string_equal(json_object_get_string(
                            json_object_object_get(json, "request_id")),
                        "req-1");
    assert_int_equal(json_object_array_length(
                         json_object_object_get(json, "events")), 1);

    check_error(cell_db_action_get(db, row->uuid, "req-9", &action),
                ERROR_NOT_FOUND, "Action for request_id req-9");
    uuid_generate_string(uuid);
    check_error(cell_db_action_list(db, uuid, &list), ERROR_NOT_FOUND,
                "could not be found.");
    check_error(cell_db_action_start(db, uuid, "create", "req-1", NULL,
                                     NULL, NULL),
                ERROR_NOT_FOUND, "could not be found.");
    check_error(cell_db_action_start(db, row->uuid, NULL, NULL, NULL, NULL,
                                     NULL),
                ERROR_INVALID, "Action name is required");
}

/* ---- Services -------------------------------------------------------- */

static void
test_services(void **state)
{
    CLEANUP(db_closep) struct db *db = test_open();
    CLEANUP(cell_db_service_freep) struct cell_db_service *service = NULL;
    CLEANUP(cell_db_service_list_freep) struct cell_db_service_list *list =
        NULL;
    AUTOFREE char *uuid = NULL;
    size_t n_compute = 0;

    (void) state;
    check(cell_db_service_heartbeat(db, "svc-1", "nova-compute", "compute",
                                    1, &service), "first heartbeat");
    assert_int_equal(service->report_count, 1);
    assert_true(uuid_is_valid(service->uuid));
    assert_true(service->up);
    assert_false(service->disabled);
    assert_int_not_equal(service->last_seen_up, INSTANCE_TIME_NONE);
    uuid = xstrdup(service->uuid);
    cell_db_service_free(TAKE_PTR(service));

    check(cell_db_service_heartbeat(db, "svc-1", "nova-compute", "compute",
                                    2, &service), "second heartbeat");
    assert_int_equal(service->report_count, 2);
    assert_int_equal(service->version, 2);
    assert_string_equal(service->uuid, uuid);
    cell_db_service_free(TAKE_PTR(service));
    check(cell_db_service_heartbeat(db, "svc-1", "nova-conductor",
                                    "conductor", 1, NULL), "conductor");
    check(cell_db_service_heartbeat(db, "svc-2", "nova-compute", "compute",
                                    1, NULL), "svc-2");

    check(cell_db_service_list(db, "nova-compute",
                               CELL_DB_SERVICE_DOWN_TIME_S, &list), "list");
    for (size_t i = 0; i < list->n; i++) {
        assert_string_equal(list->items[i].binary, "nova-compute");
        n_compute += !strncmp(list->items[i].host, "svc-", 4);
    }
    assert_int_equal(n_compute, 2);
    cell_db_service_list_free(TAKE_PTR(list));
    check(cell_db_service_list(db, NULL, CELL_DB_SERVICE_DOWN_TIME_S,
                               &list), "list all");
    assert_true(list->n >= 3);
    cell_db_service_list_free(TAKE_PTR(list));

    /* Down when the last heartbeat is older than the down time. */
    check(db_exec(db, "UPDATE services SET last_seen_up = UTC_TIMESTAMP(6)"
                  " - INTERVAL 120 SECOND WHERE host = ?",
                  DB_PARAMS(DB_STR("svc-1")), NULL), "age");
    check(cell_db_service_get(db, "svc-1", "nova-compute", 60, &service),
          "get old");
    assert_false(service->up);
    cell_db_service_free(TAKE_PTR(service));
    check(cell_db_service_get(db, "svc-1", "nova-compute", 300, &service),
          "get old, longer down time");
    assert_true(service->up);
    cell_db_service_free(TAKE_PTR(service));
    check(cell_db_service_heartbeat(db, "svc-1", "nova-compute", "compute",
                                    2, &service), "back");
    assert_true(service->up);
    assert_int_equal(service->report_count, 3);
    cell_db_service_free(TAKE_PTR(service));

    /* Forced down wins over a fresh heartbeat. */
    check(cell_db_service_set_forced_down(db, "svc-1", "nova-compute",
                                          true), "force down");
    check(cell_db_service_get_by_uuid(db, uuid, 60, &service), "by uuid");
    assert_true(service->forced_down);
    assert_false(service->up);
    cell_db_service_free(TAKE_PTR(service));
    check(cell_db_service_set_forced_down(db, "svc-1", "nova-compute",
                                          false), "unforce");

    check(cell_db_service_set_disabled(db, "svc-1", "nova-compute", true,
                                       "maintenance"), "disable");
    check(cell_db_service_get(db, "svc-1", "nova-compute", 60, &service),
          "get disabled");
    assert_true(service->disabled);
    assert_string_equal(service->disabled_reason, "maintenance");
    assert_true(service->up);
    cell_db_service_free(TAKE_PTR(service));
    check(cell_db_service_set_disabled(db, "svc-1", "nova-compute", false,
                                       "ignored"), "enable");
    check(cell_db_service_get(db, "svc-1", "nova-compute", 60, &service),
          "get enabled");
    assert_false(service->disabled);
    assert_null(service->disabled_reason);
    cell_db_service_free(TAKE_PTR(service));

    /* Deleting the compute service deletes its nodes; a later heartbeat
     * starts a new row. */
    upsert_node(db, "svc-1", "svc-1-node", 4, 4096, 40, 0, 0);
    check(cell_db_service_delete(db, "svc-1", "nova-compute"), "delete");
    check_error(cell_db_service_get(db, "svc-1", "nova-compute", 60,
                                    &service),
                ERROR_NOT_FOUND,
                "Service nova-compute on host svc-1 could not be found.");
    check_error(cell_db_node_get(db, "svc-1", "svc-1-node", 60, NULL),
                ERROR_NOT_FOUND, "could not be found.");
    check(cell_db_service_get(db, "svc-1", "nova-conductor", 60, &service),
          "conductor stays");
    cell_db_service_free(TAKE_PTR(service));
    check(cell_db_service_heartbeat(db, "svc-1", "nova-compute", "compute",
                                    2, &service), "new row");
    assert_int_equal(service->report_count, 1);
    assert_string_not_equal(service->uuid, uuid);

    check_error(cell_db_service_delete(db, "svc-none", "nova-compute"),
                ERROR_NOT_FOUND, "could not be found.");
    check_error(cell_db_service_set_disabled(db, "svc-none", "nova-compute",
                                             true, NULL),
                ERROR_NOT_FOUND, "could not be found.");
    check_error(cell_db_service_get_by_uuid(db, "nope", 60, &service),
                ERROR_NOT_FOUND, "Service nope could not be found.");
    check_error(cell_db_service_heartbeat(db, "", "nova-compute", NULL, 1,
                                          NULL),
                ERROR_INVALID, "Service host must not be empty");
}

/* ---- Compute nodes ----------------------------------------------------- */

static void
test_compute_nodes(void **state)
{
    CLEANUP(db_closep) struct db *db = test_open();
    CLEANUP(cell_db_node_freep) struct cell_db_node *node = NULL;
    CLEANUP(cell_db_node_list_freep) struct cell_db_node_list *list = NULL;
    AUTOFREE char *uuid = NULL;
    bool found_a = false, found_b = false;

    (void) state;
    upsert_node(db, "cn-a", "cn-a.node", 8, 16384, 100, 0, 512);
    node = get_node(db, "cn-a", "cn-a.node");
    assert_true(uuid_is_valid(node->uuid));
    assert_string_equal(node->hypervisor_type, "QEMU");
    assert_int_equal(node->hypervisor_version, 8002000);
    assert_string_equal(node->cpu_info, "{\"arch\":\"x86_64\"}");
    assert_true(node->cpu_allocation_ratio == 4.0);
    assert_true(node->ram_allocation_ratio == 1.0);
    assert_true(node->disk_allocation_ratio == 1.0);
    assert_int_equal(node->reserved_host_memory_mb, 512);
    assert_int_equal(cell_db_node_capacity_vcpus(node), 32);
    assert_int_equal(cell_db_node_capacity_memory_mb(node), 16384 - 512);
    assert_int_equal(cell_db_node_capacity_disk_mb(node), 100 * 1024);
    assert_false(node->service_found);
    assert_false(node->service_up);
    uuid = xstrdup(node->uuid);
    cell_db_node_free(TAKE_PTR(node));

    /* A second report updates the facts and keeps uuid and usage. */
    check(db_exec(db, "UPDATE compute_nodes SET vcpus_used = 3"
                  " WHERE host = ?", DB_PARAMS(DB_STR("cn-a")), NULL),
          "usage");
    upsert_node(db, "cn-a", "cn-a.node", 16, 32768, 200, 2.0, 0);
    check(cell_db_service_heartbeat(db, "cn-a", "nova-compute", "compute",
                                    1, NULL), "heartbeat");
    check(cell_db_service_set_disabled(db, "cn-a", "nova-compute", true,
                                       "drain"), "disable");
    node = get_node(db, "cn-a", "cn-a.node");
    assert_string_equal(node->uuid, uuid);
    assert_int_equal(node->vcpus, 16);
    assert_int_equal(node->vcpus_used, 3);
    assert_true(node->cpu_allocation_ratio == 2.0);
    assert_int_equal(node->reserved_host_memory_mb, 0);
    assert_true(node->service_found);
    assert_true(node->service_up);
    assert_true(node->service_disabled);
    assert_string_equal(node->service_disabled_reason, "drain");
    cell_db_node_free(TAKE_PTR(node));

    upsert_node(db, "cn-b", "cn-b.node", 2, 2048, 20, 0, 0);
    check(cell_db_node_list(db, 60, &list), "list");
    for (size_t i = 0; i < list->n; i++) {
        if (!strcmp(list->items[i].host, "cn-a")) {
            found_a = true;
            assert_true(list->items[i].service_disabled);
        } else if (!strcmp(list->items[i].host, "cn-b")) {
            found_b = true;
            assert_false(list->items[i].service_found);
        }
        if (i) {
            assert_true(list->items[i].id > list->items[i - 1].id);
        }
    }
    assert_true(found_a && found_b);

    check_error(cell_db_node_get(db, "cn-a", "other", 60, &node),
                ERROR_NOT_FOUND,
                "Compute host cn-a (node other) could not be found.");
    {
        struct cell_db_node_inventory bad = {
            .host = "cn-c", .node = "cn-c", .vcpus = -1,
        };
        check_error(cell_db_node_upsert(db, &bad, NULL), ERROR_INVALID,
                    "vcpus -1");
        bad.vcpus = 1;
        bad.ram_allocation_ratio = -1;
        check_error(cell_db_node_upsert(db, &bad, NULL), ERROR_INVALID,
                    "ram_allocation_ratio");
        bad.ram_allocation_ratio = 0;
        bad.node = NULL;
        check_error(cell_db_node_upsert(db, &bad, NULL), ERROR_INVALID,
                    "Compute node is required");
    }
}

static void
test_inventory_from_json(void **state)
{
    static const struct {
        const char *json;
        const char *message;    /* NULL: accepted */
    } cases[] = {
        { "{\"vcpus\": 4, \"memory_mb\": 8192, \"local_gb\": 50,"
          " \"hypervisor_type\": \"QEMU\", \"hypervisor_version\": 8002000,"
          " \"hypervisor_hostname\": \"n1\", \"cpu_info\": \"{}\","
          " \"running_vms\": 2, \"cpu_allocation_ratio\": 16,"
          " \"reserved_host_memory_mb\": 512}", NULL },
        { "{\"vcpus\": 4, \"memory_mb\": 8192, \"local_gb\": 50,"
          " \"cpu_info\": null}", NULL },
        { "{\"memory_mb\": 8192, \"local_gb\": 50}",
          "'msg.inventory.vcpus' is a required property" },
        { "{\"vcpus\": \"4\", \"memory_mb\": 8192, \"local_gb\": 50}",
          "'msg.inventory.vcpus'. Value: \"4\"" },
        { "{\"vcpus\": 4, \"memory_mb\": -1, \"local_gb\": 50}",
          "'msg.inventory.memory_mb'. Value: -1" },
        { "{\"vcpus\": 4, \"memory_mb\": 1, \"local_gb\": 50,"
          " \"hypervisor_hostname\": \"n2\"}",
          "'msg.inventory.hypervisor_hostname'" },
        { "{\"vcpus\": 4, \"memory_mb\": 1, \"local_gb\": 50,"
          " \"cpu_info\": {}}", "'msg.inventory.cpu_info'" },
        { "{\"vcpus\": 4, \"memory_mb\": 1, \"local_gb\": 50,"
          " \"disk_allocation_ratio\": 1001}",
          "'msg.inventory.disk_allocation_ratio'" },
        { "{\"vcpus\": 4, \"memory_mb\": 1, \"local_gb\": 50,"
          " \"numa\": 1}", "('numa' was unexpected)" },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        CLEANUP(json_putp) struct json_object *doc = NULL;
        struct cell_db_node_inventory inv;
        struct error *error;

        check(json_parse_text(cases[i].json, strlen(cases[i].json), 0, 0,
                              &doc), "parse");
        error = cell_db_node_inventory_from_json(doc, "msg.inventory",
                                                 "h1", "n1", &inv);
        if (!cases[i].message) {
            check(error, cases[i].json);
            assert_string_equal(inv.host, "h1");
            assert_string_equal(inv.node, "n1");
            assert_int_equal(inv.vcpus, 4);
            continue;
        }
        check_error(error, ERROR_INVALID, cases[i].message);
    }
}

/* ---- Claims ------------------------------------------------------------ */

static void
test_claims(void **state)
{
    CLEANUP(db_closep) struct db *db = test_open();
    CLEANUP(cell_db_node_freep) struct cell_db_node *node = NULL;
    CLEANUP(flavor_freep) struct flavor *small = make_flavor(1, 512, 1, 0,
                                                             0);
    bool claimed = false;

    (void) state;
    /* 2 vCPUs * 2.0 = 4; 2048 MiB - 512 reserved = 1536 (3 x 512);
     * 10 GiB of disk. */
    upsert_node(db, "claim-1", "claim-1", 2, 2048, 10, 2.0, 512);
    for (int i = 0; i < 3; i++) {
        check(cell_db_node_claim_flavor(db, "claim-1", "claim-1", small,
                                        &claimed), "claim");
        assert_true(claimed);
    }
    /* RAM is full: refused, nothing changes. */
    check(cell_db_node_claim_flavor(db, "claim-1", "claim-1", small,
                                    &claimed), "claim full");
    assert_false(claimed);
    node = get_node(db, "claim-1", "claim-1");
    assert_int_equal(node->vcpus_used, 3);
    assert_int_equal(node->memory_mb_used, 1536);
    assert_int_equal(node->local_gb_used, 3);
    assert_int_equal(node->num_instances, 3);
    cell_db_node_free(TAKE_PTR(node));

    /* Each resource limits on its own. */
    check(cell_db_node_claim(db, "claim-1", "claim-1", 2, 0, 0, &claimed),
          "vcpus over");
    assert_false(claimed);
    check(cell_db_node_claim(db, "claim-1", "claim-1", 1, 0, 0, &claimed),
          "last vcpu");
    assert_true(claimed);
    check(cell_db_node_claim(db, "claim-1", "claim-1", 0, 0, 8, &claimed),
          "disk over");
    assert_false(claimed);
    check(cell_db_node_claim(db, "claim-1", "claim-1", 0, 0, 7, &claimed),
          "rest of disk");
    assert_true(claimed);

    /* Release gives back, never below zero. */
    check(cell_db_node_release_flavor(db, "claim-1", "claim-1", small),
          "release");
    node = get_node(db, "claim-1", "claim-1");
    assert_int_equal(node->vcpus_used, 3);
    assert_int_equal(node->memory_mb_used, 1024);
    assert_int_equal(node->local_gb_used, 9);
    assert_int_equal(node->num_instances, 4);
    cell_db_node_free(TAKE_PTR(node));
    check(cell_db_node_release(db, "claim-1", "claim-1", 100, 100000, 100),
          "release too much");
    node = get_node(db, "claim-1", "claim-1");
    assert_int_equal(node->vcpus_used, 0);
    assert_int_equal(node->memory_mb_used, 0);
    assert_int_equal(node->local_gb_used, 0);
    assert_int_equal(node->num_instances, 3);

    check_error(cell_db_node_claim(db, "claim-1", "nope", 1, 1, 1,
                                   &claimed),
                ERROR_NOT_FOUND, "could not be found.");
    check_error(cell_db_node_release(db, "nope", "nope", 1, 1, 1),
                ERROR_NOT_FOUND, "could not be found.");
    check_error(cell_db_node_claim(db, "claim-1", "claim-1", -1, 1, 1,
                                   &claimed),
                ERROR_INVALID, "Claimed vcpus -1");
}

struct claim_thread {
    pthread_t thread;
    pthread_barrier_t *start;
    int n_claimed;
    char *error;
};

static void *
claim_thread_main(void *arg_)
{
    struct claim_thread *arg = arg_;
    AUTOFREE char *url = test_url(test_database);
    struct db *db = NULL;
    struct error *error = db_open(url, &db);

    pthread_barrier_wait(arg->start);
    for (int i = 0; !error && i < TEST_CLAIMS_PER_THREAD; i++) {
        bool claimed = false;

        error = cell_db_node_claim(db, "race-1", "race-1", 1, 64, 1,
                                   &claimed);
        arg->n_claimed += claimed;
    }
    if (error) {
        arg->error = xstrdup(error_message(error));
        error_free(error);
    }
    db_close(db);
    return NULL;
}

static void
test_claims_concurrent(void **state)
{
    CLEANUP(db_closep) struct db *db = test_open();
    CLEANUP(cell_db_node_freep) struct cell_db_node *node = NULL;
    struct claim_thread threads[2];
    pthread_barrier_t start;
    int total = 0;
    int64_t capacity;

    (void) state;
    /* vCPUs are the limit: floor(10 * 1.5) = 15 claims of 1; RAM and
     * disk have room for far more. */
    upsert_node(db, "race-1", "race-1", 10, 65536, 1000, 1.5, 0);
    node = get_node(db, "race-1", "race-1");
    capacity = cell_db_node_capacity_vcpus(node);
    assert_int_equal(capacity, 15);
    cell_db_node_free(TAKE_PTR(node));

    pthread_barrier_init(&start, NULL, ARRAY_SIZE(threads));
    for (size_t i = 0; i < ARRAY_SIZE(threads); i++) {
        threads[i] = (struct claim_thread) { .start = &start };
        assert_int_equal(pthread_create(&threads[i].thread, NULL,
                                        claim_thread_main, &threads[i]), 0);
    }
    for (size_t i = 0; i < ARRAY_SIZE(threads); i++) {
        pthread_join(threads[i].thread, NULL);
        if (threads[i].error) {
            fail_msg("thread %zu: %s", i, threads[i].error);
        }
        total += threads[i].n_claimed;
    }
    pthread_barrier_destroy(&start);
    print_message("# claims won by the two threads: %d and %d\n",
                  threads[0].n_claimed, threads[1].n_claimed);

    /* Exactly the capacity, never more, and the row agrees. */
    assert_int_equal(total, capacity);
    node = get_node(db, "race-1", "race-1");
    assert_int_equal(node->vcpus_used, capacity);
    assert_int_equal(node->memory_mb_used, capacity * 64);
    assert_int_equal(node->local_gb_used, capacity);
    assert_int_equal(node->num_instances, capacity);
}

static void
test_recompute_usage(void **state)
{
    CLEANUP(db_closep) struct db *db = test_open();
    CLEANUP(cell_db_node_freep) struct cell_db_node *node = NULL;
    CLEANUP(flavor_freep) struct flavor *a = make_flavor(2, 1024, 10, 5,
                                                         1);
    CLEANUP(flavor_freep) struct flavor *b = make_flavor(1, 512, 1, 0,
                                                         2048);
    AUTOFREE char *on_node = NULL;
    AUTOFREE char *deleted = NULL;
    AUTOFREE char *elsewhere = NULL;
    AUTOFREE char *other_node = NULL;

    (void) state;
    upsert_node(db, "heal-1", "heal-1a", 64, 65536, 1000, 0, 0);
    upsert_node(db, "heal-1", "heal-1b", 64, 65536, 1000, 0, 0);
    on_node = create_on(db, "p-heal", "heal-1", "heal-1a", a);
    free(create_on(db, "p-heal", "heal-1", "heal-1a", b));
    deleted = create_on(db, "p-heal", "heal-1", "heal-1a", a);
    elsewhere = create_on(db, "p-heal", "heal-2", "heal-1a", a);
    other_node = create_on(db, "p-heal", "heal-1", "heal-1b", b);
    check(cell_db_instance_mark_deleted(db, deleted, NULL, NULL), "delete");

    /* Drift: a wrong usage. */
    check(db_exec(db, "UPDATE compute_nodes SET vcpus_used = 40,"
                  " memory_mb_used = 7, local_gb_used = 900,"
                  " num_instances = 12 WHERE host = ?",
                  DB_PARAMS(DB_STR("heal-1")), NULL), "drift");
    check(cell_db_node_recompute_usage(db, "heal-1", "heal-1a"), "heal");
    node = get_node(db, "heal-1", "heal-1a");
    assert_int_equal(node->vcpus_used, 3);
    assert_int_equal(node->memory_mb_used, 1536);
    /* a: 10 + 5 + 1 (1 MiB of swap), b: 1 + 0 + 2. */
    assert_int_equal(node->local_gb_used, 16 + 3);
    assert_int_equal(node->num_instances, 2);
    cell_db_node_free(TAKE_PTR(node));
    /* The other node of the host is left alone until it is healed. */
    node = get_node(db, "heal-1", "heal-1b");
    assert_int_equal(node->vcpus_used, 40);
    cell_db_node_free(TAKE_PTR(node));
    check(cell_db_node_recompute_usage(db, "heal-1", "heal-1b"), "heal b");
    node = get_node(db, "heal-1", "heal-1b");
    assert_int_equal(node->vcpus_used, 1);
    assert_int_equal(node->local_gb_used, 3);
    assert_int_equal(node->num_instances, 1);
    cell_db_node_free(TAKE_PTR(node));

    /* A node without instances heals to zero. */
    upsert_node(db, "heal-3", "heal-3", 4, 4096, 40, 0, 0);
    check(db_exec(db, "UPDATE compute_nodes SET vcpus_used = 4"
                  " WHERE host = ?", DB_PARAMS(DB_STR("heal-3")), NULL),
          "drift 3");
    check(cell_db_node_recompute_usage(db, "heal-3", "heal-3"), "heal 3");
    node = get_node(db, "heal-3", "heal-3");
    assert_int_equal(node->vcpus_used, 0);
    assert_int_equal(node->num_instances, 0);

    check_error(cell_db_node_recompute_usage(db, "heal-9", "heal-9"),
                ERROR_NOT_FOUND, "could not be found.");
}

/* ---- Transactions ------------------------------------------------------ */

struct place_ctx {
    const char *uuid;
    const struct flavor *flavor;
    bool fail;                  /* roll back at the end */
    bool claimed;
};

/* What the conductor does when it places an instance: claim the node
 * and record the host in one transaction. */
static struct error *
place_txn(struct db *db, void *aux)
{
    struct place_ctx *ctx = aux;
    struct error *error;

    error = cell_db_node_claim_flavor(db, "txn-1", "txn-1", ctx->flavor,
                                      &ctx->claimed);
    if (error || !ctx->claimed) {
        return error;
    }
    error = cell_db_instance_set_host(db, ctx->uuid, "txn-1", "txn-1",
                                      NULL);
    if (!error) {
        error = cell_db_action_start(db, ctx->uuid, "create", "req-t", NULL,
                                     NULL, NULL);
    }
    if (!error && ctx->fail) {
        error = error_new(ERROR_INTERNAL, "rolled back on purpose");
    }
    return error;
}

static void
test_in_transaction(void **state)
{
    CLEANUP(db_closep) struct db *db = test_open();
    CLEANUP(cell_db_node_freep) struct cell_db_node *node = NULL;
    CLEANUP(instance_freep) struct instance *row = NULL;
    CLEANUP(flavor_freep) struct flavor *flavor = make_flavor(1, 256, 1, 0,
                                                              0);
    CLEANUP(cell_db_action_list_freep) struct cell_db_action_list *list =
        NULL;
    AUTOFREE char *uuid = create_on(db, "p-txn", NULL, NULL, flavor);
    struct place_ctx ctx = { .uuid = uuid, .flavor = flavor, .fail = true };

    (void) state;
    upsert_node(db, "txn-1", "txn-1", 4, 4096, 40, 0, 0);
    check_error(db_txn_run(db, place_txn, &ctx), ERROR_INTERNAL,
                "rolled back on purpose");
    node = get_node(db, "txn-1", "txn-1");
    assert_int_equal(node->vcpus_used, 0);
    cell_db_node_free(TAKE_PTR(node));
    check(cell_db_instance_get(db, uuid, false, &row), "get");
    assert_null(row->host);
    assert_int_equal(row->update_seq, 1);
    instance_free(TAKE_PTR(row));
    check(cell_db_action_list(db, uuid, &list), "actions");
    assert_int_equal(list->n, 0);

    ctx.fail = false;
    check(db_txn_run(db, place_txn, &ctx), "place");
    assert_true(ctx.claimed);
    node = get_node(db, "txn-1", "txn-1");
    assert_int_equal(node->vcpus_used, 1);
    check(cell_db_instance_get(db, uuid, false, &row), "get placed");
    assert_string_equal(row->host, "txn-1");
    assert_int_equal(row->update_seq, 2);

    /* The recompute agrees with the claim. */
    check(cell_db_node_recompute_usage(db, "txn-1", "txn-1"), "heal");
    cell_db_node_free(TAKE_PTR(node));
    node = get_node(db, "txn-1", "txn-1");
    assert_int_equal(node->vcpus_used, 1);
    assert_int_equal(node->num_instances, 1);
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_instance_create_get),
        cmocka_unit_test(test_instance_created_now),
        cmocka_unit_test(test_instance_update),
        cmocka_unit_test(test_instance_list),
        cmocka_unit_test(test_instance_delete),
        cmocka_unit_test(test_update_seq_every_change),
        cmocka_unit_test(test_faults),
        cmocka_unit_test(test_actions),
        cmocka_unit_test(test_services),
        cmocka_unit_test(test_compute_nodes),
        cmocka_unit_test(test_inventory_from_json),
        cmocka_unit_test(test_claims),
        cmocka_unit_test(test_claims_concurrent),
        cmocka_unit_test(test_recompute_usage),
        cmocka_unit_test(test_in_transaction),
    };
    int rc;

    test_env_require(argc, argv, "mariadb");
    db_library_init();
    rc = cmocka_run_group_tests_name("cell-db", tests, group_setup,
                                     group_teardown);
    db_library_end();
    return rc;
}
