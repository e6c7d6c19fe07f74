/* test-top-view.c: the top view of instances against a real MariaDB.
 *
 * The group setup creates a fresh API database and migrates it; then:
 *
 *   - a boot creates the instance and its mapping, a second one with the
 *     same uuid is a conflict;
 *   - updates from below apply in update_seq order whatever order they
 *     arrive in (an older one arriving late changes nothing), set the
 *     mapping's cell, and heal an instance the top view missed; two
 *     threads updating one instance at once end with the highest seq;
 *   - destroys soft-delete unless the row is newer;
 *   - API changes (task state, error, lock, name) and their not-found;
 *   - lists with each filter, keyset pagination across pages of rows
 *     that share created_at (and sort keys holding NULLs), a bad marker,
 *     bad sort keys, changes-since with deleted rows, usage;
 *   - the instances decoded once and kept follow every write of a row;
 *   - the time of a page of 1000 servers from a table of about 100k rows,
 *     reported as a TAP comment.
 *
 * The database is dropped at the end. */
#include <config.h>

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "api-cell/api-db.h"
#include "api-cell/top-view.h"
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

#define TEST_DATABASE "test_top_view"

/* Rows of the large-table test (about; the table doubles up to it) and
 * its page size.  The times it prints are for information: speed is
 * measured by the benchmark, never asserted in a test. */
#define PERF_ROWS 20000
#define PERF_PAGE 1000

static struct {
    char *url;
    struct api_db *api_db;
    struct db *db;              /* the main thread's, from api_db */
} t;

/* ---- Helpers --------------------------------------------------------- */

static void
check(struct error *error, const char *what)
{
    if (error) {
        fail_msg("%s: %s", what, error_message(error));
    }
}

static void
expect_error(struct error *error, enum error_kind kind, const char *words)
{
    if (!error) {
        fail_msg("expected an error with '%s'", words);
    }
    if (error_kind(error) != kind || !strstr(error_message(error), words)) {
        fail_msg("unexpected error %s: %s",
                 error_kind_to_string(error_kind(error)),
                 error_message(error));
    }
    error_free(error);
}

static struct db *
admin_open(void)
{
    struct db *db = NULL;

    check(db_open(test_env_get("NOVA_TEST_MYSQL_ADMIN_URL"), &db),
          "admin connection");
    return db;
}

/* A new instance of 'project' with a fresh uuid, created 'created_at'. */
static struct instance *
make_instance(const char *project, const char *name, int64_t created_at)
{
    char uuid[UUID_STRING_SIZE];
    struct instance *inst;
    struct flavor *flavor = flavor_new("1", "m1.tiny");

    uuid_generate_string(uuid);
    inst = instance_new(uuid);
    inst->project_id = xstrdup(project);
    inst->user_id = xstrdup("user-a");
    inst->display_name = xstrdup_or_null(name);
    flavor->vcpus = 2;
    flavor->memory_mb = 512;
    flavor->root_gb = 1;
    instance_set_flavor(inst, flavor);
    flavor_free(flavor);
    inst->created_at = created_at;
    return inst;
}

static char *
mapping_cell(const char *uuid)
{
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;

    check(db_query(t.db, "SELECT cell_path FROM instance_mappings "
                   "WHERE instance_uuid = ?", DB_PARAMS(DB_STR(uuid)),
                   &rows), "mapping");
    assert_int_equal(db_rows_count(rows), 1);
    return xstrdup_or_null(db_rows_get_str(rows, 0, 0));
}

/* Runs 'filter' and returns the uuids found, in order, as one string
 * "u1 u2 ...", with their number in '*n'. */
static char *
list_uuids(const struct top_view_filter *filter, size_t *n)
{
    struct top_view_server **servers = NULL;
    size_t n_servers = 0;
    char *s = xstrdup("");

    check(top_view_list(t.db, filter, &servers, &n_servers), "list");
    for (size_t i = 0; i < n_servers; i++) {
        char *next = xasprintf("%s%s%s", s, i ? " " : "",
                               servers[i]->inst->uuid);

        free(s);
        s = next;
    }
    top_view_servers_free(servers, n_servers);
    if (n) {
        *n = n_servers;
    }
    return s;
}

/* Lists 'filter' page by page ('page' rows each, following the marker)
 * and returns the concatenation, as list_uuids(). */
static char *
list_paged(const struct top_view_filter *filter_, int page, size_t *n)
{
    struct top_view_filter filter = *filter_;
    char *all = xstrdup("");
    char *marker = NULL;
    size_t total = 0;

    filter.limit = page;
    for (;;) {
        struct top_view_server **servers = NULL;
        size_t n_servers = 0;

        filter.marker = marker;
        check(top_view_list(t.db, &filter, &servers, &n_servers), "page");
        for (size_t i = 0; i < n_servers; i++) {
            char *next = xasprintf("%s%s%s", all, total ? " " : "",
                                   servers[i]->inst->uuid);

            free(all);
            all = next;
            total++;
        }
        free(marker);
        marker = n_servers ? xstrdup(servers[n_servers - 1]->inst->uuid)
                           : NULL;
        top_view_servers_free(servers, n_servers);
        if (n_servers < (size_t) page) {
            break;
        }
    }
    free(marker);
    *n = total;
    return all;
}

/* ---- Setup ----------------------------------------------------------- */

static int
group_setup(void **state)
{
    CLEANUP(db_closep) struct db *admin = admin_open();
    struct db *db;

    (void) state;
    check(db_exec_once(admin, "DROP DATABASE IF EXISTS " TEST_DATABASE,
                       DB_NO_PARAMS, NULL), "drop");
    check(db_exec_once(admin, "CREATE DATABASE " TEST_DATABASE
                       " CHARACTER SET utf8mb4", DB_NO_PARAMS, NULL),
          "create");
    t.url = xasprintf("%s%s", test_env_get("NOVA_TEST_MYSQL_ADMIN_URL"),
                      TEST_DATABASE);
    check(api_db_new(t.url, &t.api_db), "api_db");
    check(api_db_get(t.api_db, &t.db), "api_db_get");
    check(api_db_get(t.api_db, &db), "api_db_get again");
    assert_ptr_equal(db, t.db);
    check(db_migrate(t.db, DB_SCHEMA_API, NULL, NULL), "migrate");
    return 0;
}

static int
group_teardown(void **state)
{
    CLEANUP(db_closep) struct db *admin = admin_open();

    (void) state;
    api_db_free(t.api_db);
    check(db_exec_once(admin, "DROP DATABASE IF EXISTS " TEST_DATABASE,
                       DB_NO_PARAMS, NULL), "drop");
    free(t.url);
    return 0;
}

/* Empties the tables between tests. */
static int
setup(void **state)
{
    (void) state;
    check(db_exec(t.db, "DELETE FROM instances", DB_NO_PARAMS, NULL),
          "clear");
    check(db_exec(t.db, "DELETE FROM instance_mappings", DB_NO_PARAMS,
                  NULL), "clear");
    return 0;
}

/* ---- Tests ----------------------------------------------------------- */

static void
test_api_db_errors(void **state)
{
    struct api_db *api_db = NULL;
    struct db *db;

    (void) state;
    expect_error(api_db_new("", &api_db), ERROR_INVALID,
                 "api_database.connection");
    check(api_db_new("mysql://nobody:x@127.0.0.1:1/nothing", &api_db),
          "new");
    check(api_db_get(t.api_db, &db), "get");
    assert_ptr_equal(db, t.db);
    {
        struct error *error = api_db_get(api_db, &db);

        assert_non_null(error);
        error_free(error);
    }
    api_db_free(api_db);
    api_db_free(NULL);
}

static void
test_create_and_conflict(void **state)
{
    CLEANUP(instance_freep) struct instance *inst =
        make_instance("proj-a", "web-1", time_now_ms());
    CLEANUP(top_view_server_freep) struct top_view_server *s = NULL;
    AUTOFREE char *cell = NULL;

    (void) state;
    check(top_view_create(t.db, inst), "create");
    check(top_view_get(t.db, inst->uuid, false, &s), "get");
    assert_string_equal(s->inst->uuid, inst->uuid);
    assert_string_equal(s->inst->display_name, "web-1");
    assert_int_equal(s->inst->vm_state, INSTANCE_VM_BUILDING);
    assert_int_equal(s->inst->flavor->vcpus, 2);
    assert_null(s->cell_path);
    assert_null(s->fault);
    assert_false(s->deleted);
    assert_int_equal(s->deleted_at, INSTANCE_TIME_NONE);
    cell = mapping_cell(inst->uuid);
    assert_null(cell);

    expect_error(top_view_create(t.db, inst), ERROR_CONFLICT,
                 "already exists");
    {
        struct top_view_server *none = NULL;

        expect_error(top_view_get(t.db, "00000000-0000-0000-0000-"
                                  "000000000000", false, &none),
                     ERROR_NOT_FOUND, "could not be found");
    }
}

static void
test_update_ordering(void **state)
{
    CLEANUP(instance_freep) struct instance *inst =
        make_instance("proj-a", "web-2", time_now_ms());
    CLEANUP(instance_freep) struct instance *v1 = NULL;
    CLEANUP(instance_freep) struct instance *v2 = NULL;
    CLEANUP(json_putp) struct json_object *fault = NULL;
    CLEANUP(top_view_server_freep) struct top_view_server *s = NULL;
    AUTOFREE char *cell = NULL;
    bool applied;

    (void) state;
    check(top_view_create(t.db, inst), "create");
    v1 = instance_clone(inst);
    v1->update_seq = 1;
    v1->task_state = INSTANCE_TASK_SCHEDULING;
    v2 = instance_clone(inst);
    v2->update_seq = 2;
    v2->vm_state = INSTANCE_VM_ACTIVE;
    v2->power_state = INSTANCE_POWER_RUNNING;
    v2->host = xstrdup("cmp1");
    v2->launched_at = time_now_ms();

    /* The newer one first, the older one late: no effect. */
    check(top_view_apply_update(t.db, "api!east!leaf1", v2, NULL, &applied),
          "v2");
    assert_true(applied);
    check(top_view_apply_update(t.db, "api!east!leaf1", v1, NULL, &applied),
          "v1");
    assert_false(applied);
    check(top_view_apply_update(t.db, "api!east!leaf1", v2, NULL, &applied),
          "v2 again");
    assert_false(applied);
    check(top_view_get(t.db, inst->uuid, false, &s), "get");
    assert_int_equal(s->inst->update_seq, 2);
    assert_int_equal(s->inst->vm_state, INSTANCE_VM_ACTIVE);
    assert_int_equal(s->inst->task_state, INSTANCE_TASK_NONE);
    assert_string_equal(s->inst->host, "cmp1");
    assert_string_equal(s->cell_path, "api!east!leaf1");
    cell = mapping_cell(inst->uuid);
    assert_string_equal(cell, "api!east!leaf1");
    top_view_server_free(TAKE_PTR(s));

    /* An error with its fault. */
    fault = json_object_new_object();
    json_object_object_add(fault, "code", json_object_new_int(500));
    json_object_object_add(fault, "message",
                           json_object_new_string("No valid host"));
    v2->update_seq = 3;
    v2->vm_state = INSTANCE_VM_ERROR;
    check(top_view_apply_update(t.db, "api!east!leaf1", v2, fault,
                                &applied), "v3");
    assert_true(applied);
    check(top_view_get(t.db, inst->uuid, false, &s), "get");
    assert_int_equal(s->inst->vm_state, INSTANCE_VM_ERROR);
    assert_non_null(s->fault);
    assert_string_equal(json_object_get_string(
        json_object_object_get(s->fault, "message")), "No valid host");
    top_view_server_free(TAKE_PTR(s));

    /* Out of error: the fault goes. */
    v2->update_seq = 4;
    v2->vm_state = INSTANCE_VM_ACTIVE;
    check(top_view_apply_update(t.db, "api!east!leaf1", v2, NULL,
                                &applied), "v4");
    assert_true(applied);
    check(top_view_get(t.db, inst->uuid, false, &s), "get");
    assert_null(s->fault);
}

static void
test_update_heals_unknown(void **state)
{
    CLEANUP(instance_freep) struct instance *inst =
        make_instance("proj-b", "lost", time_now_ms());
    CLEANUP(top_view_server_freep) struct top_view_server *s = NULL;
    AUTOFREE char *cell = NULL;
    bool applied = false;

    (void) state;
    inst->update_seq = 7;
    inst->vm_state = INSTANCE_VM_ACTIVE;
    check(top_view_apply_update(t.db, "api!west", inst, NULL, &applied),
          "heal");
    assert_true(applied);
    check(top_view_get(t.db, inst->uuid, false, &s), "get");
    assert_int_equal(s->inst->update_seq, 7);
    assert_string_equal(s->cell_path, "api!west");
    cell = mapping_cell(inst->uuid);
    assert_string_equal(cell, "api!west");
}

/* Two threads apply updates of one instance, each with its own
 * connection, in opposite orders. */
struct race_job {
    pthread_t thread;
    const struct instance *inst;
    bool descending;
    struct error *error;
};

#define RACE_SEQS 40

static void *
race_main(void *job_)
{
    struct race_job *job = job_;
    CLEANUP(instance_freep) struct instance *inst = instance_clone(job->inst);
    struct db *db;

    job->error = api_db_get(t.api_db, &db);
    for (int i = 1; !job->error && i <= RACE_SEQS; i++) {
        bool applied;

        inst->update_seq = job->descending ? RACE_SEQS + 1 - i : i;
        free(inst->host);
        inst->host = xasprintf("host-%d", (int) inst->update_seq);
        job->error = top_view_apply_update(db, "api!leaf", inst, NULL,
                                           &applied);
    }
    return NULL;
}

static void
test_concurrent_updates(void **state)
{
    (void) state;
    for (int round = 0; round < 5; round++) {
        CLEANUP(instance_freep) struct instance *inst =
            make_instance("proj-c", "race", time_now_ms());
        CLEANUP(top_view_server_freep) struct top_view_server *s = NULL;
        struct race_job jobs[2] = {
            { .inst = inst, .descending = false },
            { .inst = inst, .descending = true },
        };

        /* Round 0 races on an instance the top view does not know. */
        if (round) {
            check(top_view_create(t.db, inst), "create");
        }
        for (size_t i = 0; i < 2; i++) {
            assert_int_equal(pthread_create(&jobs[i].thread, NULL,
                                            race_main, &jobs[i]), 0);
        }
        for (size_t i = 0; i < 2; i++) {
            pthread_join(jobs[i].thread, NULL);
            check(jobs[i].error, "race");
        }
        check(top_view_get(t.db, inst->uuid, false, &s), "get");
        assert_int_equal(s->inst->update_seq, RACE_SEQS);
        assert_string_equal(s->inst->host, "host-40");
    }
}

static void
test_destroy(void **state)
{
    CLEANUP(instance_freep) struct instance *inst =
        make_instance("proj-a", "doomed", time_now_ms());
    CLEANUP(top_view_server_freep) struct top_view_server *s = NULL;
    bool applied = true;

    (void) state;
    check(top_view_create(t.db, inst), "create");
    inst->update_seq = 5;
    check(top_view_apply_update(t.db, "api!leaf", inst, NULL, &applied),
          "update");
    check(top_view_apply_destroy(t.db, "api!leaf", inst->uuid, 3, &applied),
          "old destroy");
    assert_false(applied);
    check(top_view_get(t.db, inst->uuid, false, &s), "still there");
    top_view_server_free(TAKE_PTR(s));

    check(top_view_apply_destroy(t.db, "api!leaf", inst->uuid, 6, &applied),
          "destroy");
    assert_true(applied);
    expect_error(top_view_get(t.db, inst->uuid, false, &s),
                 ERROR_NOT_FOUND, inst->uuid);
    check(top_view_get(t.db, inst->uuid, true, &s), "with deleted");
    assert_true(s->deleted);
    assert_true(s->deleted_at != INSTANCE_TIME_NONE);
    assert_int_equal(s->inst->vm_state, INSTANCE_VM_DELETED);
    assert_int_equal(s->inst->update_seq, 6);

    /* Again, and for nobody: nothing to do. */
    check(top_view_apply_destroy(t.db, "api!leaf", inst->uuid, 7, &applied),
          "again");
    assert_false(applied);
    check(top_view_apply_destroy(t.db, NULL, "00000000-0000-0000-0000-"
                                 "000000000001", 1, &applied), "nobody");
    assert_false(applied);
    /* A late update does not bring it back. */
    inst->update_seq = 4;
    check(top_view_apply_update(t.db, "api!leaf", inst, NULL, &applied),
          "late");
    assert_false(applied);
    expect_error(top_view_set_name(t.db, inst->uuid, "x"), ERROR_NOT_FOUND,
                 "could not be found");
}

static void
test_api_changes(void **state)
{
    CLEANUP(instance_freep) struct instance *inst =
        make_instance("proj-a", "web-3", time_now_ms());
    CLEANUP(json_putp) struct json_object *fault = json_object_new_object();
    CLEANUP(top_view_server_freep) struct top_view_server *s = NULL;
    const char *nobody = "00000000-0000-0000-0000-000000000002";
    bool applied;

    (void) state;
    check(top_view_create(t.db, inst), "create");
    inst->update_seq = 1;
    inst->vm_state = INSTANCE_VM_ACTIVE;
    check(top_view_apply_update(t.db, "api!leaf", inst, NULL, &applied),
          "update");

    check(top_view_set_task_state(t.db, inst->uuid, "rebooting"), "task");
    check(top_view_set_locked(t.db, inst->uuid, true, "owner"), "lock");
    check(top_view_set_name(t.db, inst->uuid, "renamed"), "name");
    check(top_view_get(t.db, inst->uuid, false, &s), "get");
    assert_int_equal(s->inst->task_state, INSTANCE_TASK_REBOOTING);
    assert_true(s->locked);
    assert_true(s->inst->locked);
    assert_string_equal(s->locked_by, "owner");
    assert_string_equal(s->inst->display_name, "renamed");
    assert_int_equal(s->inst->update_seq, 1);
    top_view_server_free(TAKE_PTR(s));

    /* The next update from below wins, but keeps the lock. */
    inst->update_seq = 2;
    check(top_view_apply_update(t.db, "api!leaf", inst, NULL, &applied),
          "update 2");
    assert_true(applied);
    check(top_view_get(t.db, inst->uuid, false, &s), "get");
    assert_int_equal(s->inst->task_state, INSTANCE_TASK_NONE);
    assert_true(s->locked);
    top_view_server_free(TAKE_PTR(s));

    check(top_view_set_locked(t.db, inst->uuid, false, NULL), "unlock");
    json_object_object_add(fault, "code", json_object_new_int(500));
    json_object_object_add(fault, "message",
                           json_object_new_string("boom"));
    check(top_view_set_error(t.db, inst->uuid, fault), "error");
    check(top_view_get(t.db, inst->uuid, false, &s), "get");
    assert_false(s->locked);
    assert_null(s->locked_by);
    assert_int_equal(s->inst->vm_state, INSTANCE_VM_ERROR);
    assert_string_equal(json_object_get_string(
        json_object_object_get(s->fault, "message")), "boom");

    check(top_view_set_task_state(t.db, inst->uuid, NULL), "no task");
    expect_error(top_view_set_task_state(t.db, inst->uuid, "bogus"),
                 ERROR_INVALID, "bogus");
    expect_error(top_view_set_task_state(t.db, nobody, "deleting"),
                 ERROR_NOT_FOUND, nobody);
    expect_error(top_view_set_error(t.db, nobody, fault), ERROR_NOT_FOUND,
                 nobody);
    expect_error(top_view_set_locked(t.db, nobody, true, "admin"),
                 ERROR_NOT_FOUND, nobody);
    expect_error(top_view_set_name(t.db, nobody, "x"), ERROR_NOT_FOUND,
                 nobody);
}

/* Six instances for the filter tests. */
struct fixture {
    struct instance *inst[6];
};

static void
fixture_create(struct fixture *f)
{
    static const struct {
        const char *project, *user, *name, *cell, *host;
        enum instance_vm_state vm_state;
    } rows[] = {
        { "p1", "u1", "web-1", "api!east!a", "h1", INSTANCE_VM_ACTIVE },
        { "p1", "u2", "web-2", "api!east!ab", "h2", INSTANCE_VM_ERROR },
        { "p1", "u1", "db-1", "api!west", "h3", INSTANCE_VM_STOPPED },
        { "p2", "u3", "web-3", "api!east!a", "h1", INSTANCE_VM_ACTIVE },
        { "p2", "u3", NULL, NULL, NULL, INSTANCE_VM_BUILDING },
        { "p1", "u1", "web_x", "api!east", "h4", INSTANCE_VM_ACTIVE },
    };
    int64_t base = time_now_ms() - 100000;

    for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
        struct instance *inst = make_instance(rows[i].project, rows[i].name,
                                              base + (int64_t) i * 1000);
        bool applied;

        free(inst->user_id);
        inst->user_id = xstrdup(rows[i].user);
        check(top_view_create(t.db, inst), "create");
        if (rows[i].cell) {
            inst->update_seq = 1;
            inst->vm_state = rows[i].vm_state;
            inst->host = xstrdup(rows[i].host);
            check(top_view_apply_update(t.db, rows[i].cell, inst, NULL,
                                        &applied), "update");
        }
        f->inst[i] = inst;
    }
}

static void
fixture_destroy(struct fixture *f)
{
    for (size_t i = 0; i < ARRAY_SIZE(f->inst); i++) {
        instance_free(f->inst[i]);
    }
}

/* The uuids of the fixture's instances 'idx' (in this order). */
static char *
fixture_uuids(const struct fixture *f, const int *idx, size_t n)
{
    char *s = xstrdup("");

    for (size_t i = 0; i < n; i++) {
        char *next = xasprintf("%s%s%s", s, i ? " " : "",
                               f->inst[idx[i]]->uuid);

        free(s);
        s = next;
    }
    return s;
}

#define EXPECT_LIST(FILTER, ...)                                        \
    do {                                                                \
        static const int idx_[] = { __VA_ARGS__ };                     \
        AUTOFREE char *want_ = fixture_uuids(&f, idx_,                  \
                                             ARRAY_SIZE(idx_));         \
        AUTOFREE char *got_ = list_uuids(FILTER, NULL);                 \
        assert_string_equal(got_, want_);                               \
    } while (0)

static void
test_list_filters(void **state)
{
    struct top_view_filter filter;
    struct fixture f;
    bool applied;
    size_t n;

    (void) state;
    fixture_create(&f);

    /* Default order: created_at desc. */
    top_view_filter_init(&filter);
    EXPECT_LIST(&filter, 5, 4, 3, 2, 1, 0);

    top_view_filter_init(&filter);
    filter.project_id = "p1";
    EXPECT_LIST(&filter, 5, 2, 1, 0);
    filter.user_id = "u1";
    EXPECT_LIST(&filter, 5, 2, 0);

    top_view_filter_init(&filter);
    filter.name_regex = "^web-";
    EXPECT_LIST(&filter, 3, 1, 0);
    filter.name_regex = "WEB";          /* Case-insensitive, as Nova's. */
    EXPECT_LIST(&filter, 5, 3, 1, 0);
    filter.name_regex = "web(";
    {
        struct top_view_server **servers;

        expect_error(top_view_list(t.db, &filter, &servers, &n),
                     ERROR_INVALID, "web(");
    }

    top_view_filter_init(&filter);
    filter.vm_states[0] = "error";
    filter.vm_states[1] = "stopped";
    filter.n_vm_states = 2;
    EXPECT_LIST(&filter, 2, 1);

    top_view_filter_init(&filter);
    filter.host = "h1";
    EXPECT_LIST(&filter, 3, 0);

    /* A subtree: "api!east!a" is not a prefix of "api!east!ab". */
    top_view_filter_init(&filter);
    filter.cell_path = "api!east!a";
    EXPECT_LIST(&filter, 3, 0);
    filter.cell_path = "api!east";
    EXPECT_LIST(&filter, 5, 3, 1, 0);
    filter.cell_path = "api";
    EXPECT_LIST(&filter, 5, 3, 2, 1, 0);

    /* Sort keys. */
    top_view_filter_init(&filter);
    filter.sort_keys[0] = "display_name";
    filter.sort_dirs[0] = "asc";
    filter.n_sort = 1;
    EXPECT_LIST(&filter, 4, 2, 0, 1, 3, 5);
    filter.sort_dirs[0] = "desc";
    EXPECT_LIST(&filter, 5, 3, 1, 0, 2, 4);
    filter.sort_keys[0] = "host";
    filter.sort_dirs[0] = "asc";
    filter.sort_keys[1] = "uuid";
    filter.sort_dirs[1] = "desc";
    filter.n_sort = 2;
    {
        /* h1 twice (by uuid desc), then h2, h3, h4; NULL first. */
        bool first_bigger = strcmp(f.inst[0]->uuid, f.inst[3]->uuid) > 0;
        AUTOFREE char *got = list_uuids(&filter, &n);
        const int order_a[] = { 4, 0, 3, 1, 2, 5 };
        const int order_b[] = { 4, 3, 0, 1, 2, 5 };
        AUTOFREE char *want = fixture_uuids(
            &f, first_bigger ? order_a : order_b, 6);

        assert_string_equal(got, want);
    }
    filter.sort_keys[0] = "flavorid";
    filter.n_sort = 1;
    {
        struct top_view_server **servers;

        expect_error(top_view_list(t.db, &filter, &servers, &n),
                     ERROR_INVALID, "flavorid");
        filter.sort_keys[0] = "host";
        filter.sort_dirs[0] = "sideways";
        expect_error(top_view_list(t.db, &filter, &servers, &n),
                     ERROR_INVALID, "sideways");
    }

    /* A bad marker. */
    top_view_filter_init(&filter);
    filter.marker = "00000000-0000-0000-0000-00000000dead";
    {
        struct top_view_server **servers;

        expect_error(top_view_list(t.db, &filter, &servers, &n),
                     ERROR_INVALID,
                     "marker [00000000-0000-0000-0000-00000000dead] not "
                     "found");
    }

    /* Deleted rows: only with include_deleted or changes-since. */
    {
        int64_t before = time_now_ms() - 1000;

        check(top_view_apply_destroy(t.db, "api!west", f.inst[2]->uuid, 2,
                                     &applied), "destroy");
        assert_true(applied);
        top_view_filter_init(&filter);
        EXPECT_LIST(&filter, 5, 4, 3, 1, 0);
        filter.include_deleted = true;
        EXPECT_LIST(&filter, 5, 4, 3, 2, 1, 0);
        top_view_filter_init(&filter);
        filter.changes_since = before;
        /* Instance 4 never changed since its boot, long ago. */
        EXPECT_LIST(&filter, 5, 3, 2, 1, 0);
        filter.changes_since = time_now_ms() + 60000;
        AUTOFREE char *none = list_uuids(&filter, &n);
        assert_int_equal(n, 0);
    }

    /* Usage counts live instances only. */
    {
        int64_t instances, cores, ram;

        check(top_view_usage(t.db, "p1", &instances, &cores, &ram), "usage");
        assert_int_equal(instances, 3);
        assert_int_equal(cores, 6);
        assert_int_equal(ram, 1536);
        check(top_view_usage(t.db, "nobody", &instances, &cores, &ram),
              "usage");
        assert_int_equal(instances, 0);
        assert_int_equal(cores, 0);
        assert_int_equal(ram, 0);
    }
    fixture_destroy(&f);
}

static void
test_pagination(void **state)
{
    static const struct {
        const char *key, *dir;
    } sorts[] = {
        { NULL, NULL },
        { "created_at", "asc" },
        { "display_name", "asc" },
        { "display_name", "desc" },
        { "host", "desc" },
        { "task_state", "asc" },
        { "uuid", "asc" },
        { "updated_at", "desc" },
    };
    int64_t same = time_now_ms() - 50000;

    (void) state;
    /* 30 rows in three groups sharing created_at, names with repeats and
     * NULLs, hosts with NULLs. */
    for (int i = 0; i < 30; i++) {
        AUTOFREE char *name = i % 4 ? xasprintf("n%d", i % 5) : NULL;
        CLEANUP(instance_freep) struct instance *inst =
            make_instance("pp", name, same + (i % 3) * 1000);

        if (i % 3) {
            inst->host = xasprintf("h%d", i % 4);
        }
        if (i % 2) {
            inst->task_state = INSTANCE_TASK_SPAWNING;
        }
        check(top_view_create(t.db, inst), "create");
    }
    for (size_t s = 0; s < ARRAY_SIZE(sorts); s++) {
        struct top_view_filter filter;

        top_view_filter_init(&filter);
        filter.project_id = "pp";
        if (sorts[s].key) {
            filter.sort_keys[0] = sorts[s].key;
            filter.sort_dirs[0] = sorts[s].dir;
            filter.n_sort = 1;
        }
        for (int page = 1; page <= 11; page += 3) {
            size_t n_all, n_paged;
            AUTOFREE char *all = list_uuids(&filter, &n_all);
            AUTOFREE char *paged = list_paged(&filter, page, &n_paged);

            assert_int_equal(n_all, 30);
            if (strcmp(all, paged)) {
                fail_msg("sort %s %s, page %d: pages differ from the whole "
                         "list", sorts[s].key ? sorts[s].key : "default",
                         sorts[s].dir ? sorts[s].dir : "", page);
            }
            assert_int_equal(n_paged, 30);
        }
    }
}

/* The decoded instances the process keeps follow every change of a row,
 * whatever wrote it: an update from below, an API change of a column, and
 * a write of the stored JSON that touches nothing else. */
static void
test_decode_cache(void **state)
{
    CLEANUP(instance_freep) struct instance *inst =
        make_instance("proj-c", "cache-1", time_now_ms());
    CLEANUP(instance_freep) struct instance *v1 = NULL;
    CLEANUP(top_view_server_freep) struct top_view_server *s0 = NULL;
    CLEANUP(top_view_server_freep) struct top_view_server *s = NULL;
    CLEANUP(json_putp) struct json_object *json = NULL;
    AUTOFREE char *text = NULL;
    struct top_view_server **servers = NULL;
    struct top_view_filter filter;
    size_t n = 0;
    bool applied;

    (void) state;
    check(top_view_create(t.db, inst), "create");
    /* Once decoded, once from the cache: the same. */
    check(top_view_get(t.db, inst->uuid, false, &s0), "get");
    check(top_view_get(t.db, inst->uuid, false, &s), "get again");
    assert_true(instance_equal(s0->inst, s->inst));
    assert_null(s->inst->host);
    assert_string_equal(s->inst->display_name, "cache-1");
    top_view_server_free(TAKE_PTR(s));

    v1 = instance_clone(inst);
    v1->update_seq = 1;
    v1->host = xstrdup("cmp-c1");
    check(top_view_apply_update(t.db, "api!east!leaf1", v1, NULL, &applied),
          "v1");
    assert_true(applied);
    check(top_view_get(t.db, inst->uuid, false, &s), "get after update");
    assert_string_equal(s->inst->host, "cmp-c1");
    top_view_server_free(TAKE_PTR(s));

    check(top_view_set_name(t.db, inst->uuid, "cache-2"), "rename");
    top_view_filter_init(&filter);
    filter.project_id = "proj-c";
    check(top_view_list(t.db, &filter, &servers, &n), "list");
    assert_int_equal(n, 1);
    assert_string_equal(servers[0]->inst->display_name, "cache-2");
    assert_string_equal(servers[0]->inst->host, "cmp-c1");
    top_view_servers_free(servers, n);

    /* The stored JSON alone changes (metadata, same update_seq). */
    instance_set_metadata(v1, "role", "db");
    json = instance_to_json(v1);
    text = json_to_string_plain(json);
    check(db_exec(t.db, "UPDATE instances SET instance = ? WHERE uuid = ?",
                  DB_PARAMS(DB_STR(text), DB_STR(inst->uuid)), NULL),
          "write json");
    check(top_view_list(t.db, &filter, &servers, &n), "list again");
    assert_int_equal(n, 1);
    assert_string_equal(instance_get_metadata(servers[0]->inst, "role"),
                        "db");
    assert_string_equal(servers[0]->inst->display_name, "cache-2");
    top_view_servers_free(servers, n);
}

static void
test_list_speed(void **state)
{
    CLEANUP(instance_freep) struct instance *seed =
        make_instance("perf-0", "perf", time_now_ms());
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    struct top_view_server **servers;
    struct top_view_filter filter;
    AUTOFREE char *marker = NULL;
    int64_t n_rows;
    size_t n;

    (void) state;
    check(top_view_create(t.db, seed), "seed");
    /* Double the table until it holds PERF_ROWS rows, spread over 4
     * projects and a year of creation times. */
    for (;;) {
        check(db_query(t.db, "SELECT COUNT(*) FROM instances",
                       DB_NO_PARAMS, &rows), "count");
        n_rows = db_rows_get_int64(rows, 0, 0);
        db_rows_free(TAKE_PTR(rows));
        if (n_rows >= PERF_ROWS) {
            break;
        }
        check(db_exec(t.db,
                      "INSERT INTO instances (uuid, project_id, user_id, "
                      "display_name, vm_state, flavorid, vcpus, memory_mb, "
                      "instance, update_seq, created_at, updated_at) "
                      "SELECT UUID(), CONCAT('perf-', FLOOR(RAND() * 4)), "
                      "user_id, display_name, vm_state, flavorid, vcpus, "
                      "memory_mb, instance, 0, "
                      "NOW(6) - INTERVAL FLOOR(RAND() * 31536000) SECOND, "
                      "NOW(6) FROM instances LIMIT ?",
                      DB_PARAMS(DB_INT(PERF_ROWS - n_rows)), NULL),
              "double");
    }
    check(db_exec(t.db, "ANALYZE TABLE instances", DB_NO_PARAMS, NULL),
          "analyze");

    for (int round = 0; round < 3; round++) {
        const char *project = round == 0 ? NULL : "perf-3";
        long long t0, t1, t2;

        top_view_filter_init(&filter);
        filter.project_id = project;
        filter.limit = round == 2 ? 100 : PERF_PAGE;
        t0 = time_monotonic_ms();
        check(top_view_list(t.db, &filter, &servers, &n), "page 1");
        t1 = time_monotonic_ms();
        assert_int_equal(n, (size_t) filter.limit);
        free(marker);
        marker = xstrdup(servers[n - 1]->inst->uuid);
        top_view_servers_free(servers, n);
        filter.marker = marker;
        check(top_view_list(t.db, &filter, &servers, &n), "page 2");
        t2 = time_monotonic_ms();
        assert_int_equal(n, (size_t) filter.limit);
        top_view_servers_free(servers, n);
        print_message("# top view of %lld rows: %d servers (%s) in %lld ms, "
                      "next page in %lld ms\n", (long long) n_rows,
                      filter.limit, project ? "one project" : "all",
                      t1 - t0, t2 - t1);
    }
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_api_db_errors),
        cmocka_unit_test_setup(test_create_and_conflict, setup),
        cmocka_unit_test_setup(test_update_ordering, setup),
        cmocka_unit_test_setup(test_update_heals_unknown, setup),
        cmocka_unit_test_setup(test_concurrent_updates, setup),
        cmocka_unit_test_setup(test_destroy, setup),
        cmocka_unit_test_setup(test_api_changes, setup),
        cmocka_unit_test_setup(test_list_filters, setup),
        cmocka_unit_test_setup(test_pagination, setup),
        cmocka_unit_test_setup(test_decode_cache, setup),
        cmocka_unit_test_setup(test_list_speed, setup),
    };
    int rc;

    test_env_require(argc, argv, "mariadb");
    db_library_init();
    rc = cmocka_run_group_tests_name("top-view", tests, group_setup,
                                     group_teardown);
    db_library_end();
    return rc;
}
