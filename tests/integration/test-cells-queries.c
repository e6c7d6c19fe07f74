/* test-cells-queries.c: the leaf's answers to nova-cells' service,
 * compute node and instance action queries (child-cell/cells-queries.h)
 * against a real MariaDB.
 *
 * Covers the service list and its filters, up and down by last_seen_up
 * against the down time, forced down, the zones, disabling with a reason
 * and enabling, unknown hosts and binaries, argument errors, the compute
 * node list with its service state, and the instance action index and
 * show in Nova's shapes.
 *
 * The group setup creates a database of its own for this run
 * (test_cells_queries_<pid>) migrated to the newest cell schema; the
 * teardown drops it. */
#include <config.h>

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
#include "child-cell/cells-queries.h"
#include "shared/cleanup.h"
#include "shared/db-migrate.h"
#include "shared/db.h"
#include "shared/error.h"
#include "shared/flavor.h"
#include "shared/instance.h"
#include "shared/json-util.h"
#include "shared/uuid-util.h"
#include "shared/xalloc.h"
#include "tests/integration/test-env.h"

#define TEST_CELL "api!east"

static char *test_database;

/* ---- Helpers --------------------------------------------------------- */

static void
check(struct error *error, const char *what)
{
    if (error) {
        fail_msg("%s: %s", what, error_message(error));
    }
}

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

static struct json_object *
parse(const char *text)
{
    struct json_object *obj = NULL;

    check(json_parse_text(text, strlen(text), 0, 0, &obj), text);
    return obj;
}

static struct json_object *
get(const struct json_object *obj, const char *key)
{
    struct json_object *value = NULL;

    if (!json_object_object_get_ex(obj, key, &value)) {
        AUTOFREE char *text = json_to_string_plain(obj);

        fail_msg("no '%s' in %s", key, text);
    }
    return value;
}

static const char *
get_str(const struct json_object *obj, const char *key)
{
    struct json_object *value = get(obj, key);

    return value ? json_object_get_string(value) : NULL;
}

static int64_t
get_int(const struct json_object *obj, const char *key)
{
    return json_object_get_int64(get(obj, key));
}

static bool
get_bool(const struct json_object *obj, const char *key)
{
    return json_object_get_boolean(get(obj, key));
}

/* The item of the array 'list' whose 'key' is 'value', or a failure. */
static struct json_object *
find(const struct json_object *list, const char *key, const char *value)
{
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        struct json_object *item = json_object_array_get_idx(list, i);
        const char *s = get_str(item, key);

        if (s && !strcmp(s, value)) {
            return item;
        }
    }
    fail_msg("no item with %s = %s", key, value);
    return NULL;
}

static struct json_object *
services(struct db *db, const char *args, int down_time)
{
    CLEANUP(json_putp) struct json_object *a = parse(args);
    struct json_object *result = NULL;

    check(cells_query_services(db, TEST_CELL, a, down_time, &result),
          args);
    return result;
}

static struct json_object *
update(struct db *db, const char *args)
{
    CLEANUP(json_putp) struct json_object *a = parse(args);
    struct json_object *result = NULL;

    check(cells_query_service_update(db, TEST_CELL, a, 60, &result), args);
    return result;
}

static struct error *
update_error(struct db *db, const char *args)
{
    CLEANUP(json_putp) struct json_object *a = parse(args);
    struct json_object *result = NULL;
    struct error *error;

    error = cells_query_service_update(db, TEST_CELL, a, 60, &result);
    assert_null(result);
    return error;
}

static void
heartbeat(struct db *db, const char *host, const char *binary,
          const char *topic)
{
    check(cell_db_service_heartbeat(db, host, binary, topic, 1, NULL),
          host);
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
    test_database = xasprintf("test_cells_queries_%ld", (long) getpid());
    drop = xasprintf("DROP DATABASE IF EXISTS %s", test_database);
    create_sql = xasprintf("CREATE DATABASE %s CHARACTER SET utf8mb4",
                           test_database);
    check(db_open(admin_url, &admin), admin_url);
    check(db_exec_once(admin, drop, DB_NO_PARAMS, NULL), drop);
    check(db_exec_once(admin, create_sql, DB_NO_PARAMS, NULL), create_sql);
    db = test_open();
    check(db_migrate(db, DB_SCHEMA_CELL, NULL, NULL), "migrate");

    /* Three hosts: two computes and a controller. */
    heartbeat(db, "cmp1", "nova-compute", "compute");
    heartbeat(db, "cmp2", "nova-compute", "compute");
    heartbeat(db, "ctl1", "nova-conductor", "conductor");
    heartbeat(db, "ctl1", "nova-scheduler", "scheduler");
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

/* ---- Services -------------------------------------------------------- */

static void
test_service_list(void **state)
{
    CLEANUP(db_closep) struct db *db = test_open();
    CLEANUP(json_putp) struct json_object *all = NULL;
    CLEANUP(json_putp) struct json_object *some = NULL;
    struct json_object *list;
    struct json_object *s;
    int64_t prev = 0;

    (void) state;
    all = services(db, "{\"cell_path\": null, \"binary\": null,"
                   " \"host\": null}", 60);
    list = get(all, "services");
    assert_int_equal(json_object_array_length(list), 4);
    assert_int_equal(json_object_array_length(get(all, "missing")), 0);
    for (size_t i = 0; i < 4; i++) {
        s = json_object_array_get_idx(list, i);
        assert_true(get_int(s, "id") > prev);
        prev = get_int(s, "id");
        assert_string_equal(get_str(s, "cell_path"), TEST_CELL);
        assert_true(uuid_is_valid(get_str(s, "uuid")));
        assert_true(get_bool(s, "up"));
        assert_false(get_bool(s, "disabled"));
        assert_false(get_bool(s, "forced_down"));
        assert_null(get(s, "disabled_reason"));
        assert_int_equal(get_int(s, "report_count"), 1);
        /* "2026-11-22T09:55:08.123000" */
        assert_int_equal(strlen(get_str(s, "updated_at")), 26);
        assert_string_equal(get_str(s, "updated_at"),
                            get_str(s, "last_seen_up"));
    }
    s = find(list, "binary", "nova-conductor");
    assert_string_equal(get_str(s, "host"), "ctl1");
    assert_string_equal(get_str(s, "topic"), "conductor");
    assert_string_equal(get_str(s, "zone"), "internal");
    s = find(list, "host", "cmp1");
    assert_string_equal(get_str(s, "zone"), "nova");

    /* Filters: binary, host, both; the zone of computes. */
    some = services(db, "{\"binary\": \"nova-compute\","
                    " \"availability_zone\": \"az1\"}", 60);
    list = get(some, "services");
    assert_int_equal(json_object_array_length(list), 2);
    assert_string_equal(get_str(find(list, "host", "cmp2"), "zone"), "az1");
    json_object_put(TAKE_PTR(some));
    some = services(db, "{\"host\": \"ctl1\"}", 60);
    assert_int_equal(json_object_array_length(get(some, "services")), 2);
    json_object_put(TAKE_PTR(some));
    some = services(db, "{\"host\": \"ctl1\", \"binary\":"
                    " \"nova-scheduler\"}", 60);
    list = get(some, "services");
    assert_int_equal(json_object_array_length(list), 1);
    assert_string_equal(get_str(json_object_array_get_idx(list, 0),
                                "zone"), "internal");
    json_object_put(TAKE_PTR(some));
    some = services(db, "{\"host\": \"nowhere\"}", 60);
    assert_int_equal(json_object_array_length(get(some, "services")), 0);
}

static void
test_service_list_bad_args(void **state)
{
    CLEANUP(db_closep) struct db *db = test_open();
    CLEANUP(json_putp) struct json_object *a = parse("{\"binary\": 5}");
    CLEANUP(json_putp) struct json_object *b = parse("[]");
    struct json_object *result = NULL;

    (void) state;
    check_error(cells_query_services(db, TEST_CELL, a, 60, &result),
                ERROR_INVALID, "binary");
    check_error(cells_query_services(db, TEST_CELL, b, 60, &result),
                ERROR_INVALID, "must be an object");
    check_error(cells_query_services(db, TEST_CELL, NULL, 60, &result),
                ERROR_INVALID, "must be an object");
    check_error(cells_query_compute_nodes(db, TEST_CELL, b, 60, &result),
                ERROR_INVALID, "must be an object");
    assert_null(result);
}

static void
test_service_up_down(void **state)
{
    CLEANUP(db_closep) struct db *db = test_open();
    CLEANUP(json_putp) struct json_object *result = NULL;
    struct json_object *s;

    (void) state;
    heartbeat(db, "old1", "nova-compute", "compute");
    check(db_exec(db, "UPDATE services SET last_seen_up = UTC_TIMESTAMP(6)"
                  " - INTERVAL 120 SECOND WHERE host = ?",
                  DB_PARAMS(DB_STR("old1")), NULL), "age");
    result = services(db, "{\"host\": \"old1\"}", 60);
    s = json_object_array_get_idx(get(result, "services"), 0);
    assert_false(get_bool(s, "up"));
    json_object_put(TAKE_PTR(result));
    result = services(db, "{\"host\": \"old1\"}", 300);
    s = json_object_array_get_idx(get(result, "services"), 0);
    assert_true(get_bool(s, "up"));
    json_object_put(TAKE_PTR(result));

    /* Never heard of: down, and updated_at falls back to the row's. */
    check(db_exec(db, "UPDATE services SET last_seen_up = NULL"
                  " WHERE host = ?", DB_PARAMS(DB_STR("old1")), NULL),
          "never");
    result = services(db, "{\"host\": \"old1\"}", 300);
    s = json_object_array_get_idx(get(result, "services"), 0);
    assert_false(get_bool(s, "up"));
    assert_null(get(s, "last_seen_up"));
    assert_non_null(get(s, "updated_at"));
    json_object_put(TAKE_PTR(result));

    /* Forced down wins over a fresh heartbeat, and is undone. */
    heartbeat(db, "old1", "nova-compute", "compute");
    result = update(db, "{\"host\": \"old1\", \"binary\": \"nova-compute\","
                    " \"forced_down\": true}");
    assert_true(get_bool(result, "forced_down"));
    assert_false(get_bool(result, "up"));
    assert_string_equal(get_str(result, "cell_path"), TEST_CELL);
    json_object_put(TAKE_PTR(result));
    result = update(db, "{\"host\": \"old1\", \"binary\": \"nova-compute\","
                    " \"forced_down\": false}");
    assert_false(get_bool(result, "forced_down"));
    assert_true(get_bool(result, "up"));
}

static void
test_service_disable_enable(void **state)
{
    CLEANUP(db_closep) struct db *db = test_open();
    CLEANUP(json_putp) struct json_object *result = NULL;
    struct json_object *s;

    (void) state;
    result = update(db, "{\"cell_path\": \"" TEST_CELL "\", \"host\":"
                    " \"cmp2\", \"binary\": \"nova-compute\","
                    " \"disabled\": true, \"disabled_reason\":"
                    " \"maintenance\"}");
    assert_true(get_bool(result, "disabled"));
    assert_string_equal(get_str(result, "disabled_reason"), "maintenance");
    assert_string_equal(get_str(result, "host"), "cmp2");
    assert_string_equal(get_str(result, "binary"), "nova-compute");
    assert_string_equal(get_str(result, "zone"), "nova");
    assert_true(get_bool(result, "up"));
    json_object_put(TAKE_PTR(result));

    /* The list agrees. */
    result = services(db, "{\"host\": \"cmp2\"}", 60);
    s = json_object_array_get_idx(get(result, "services"), 0);
    assert_true(get_bool(s, "disabled"));
    assert_string_equal(get_str(s, "disabled_reason"), "maintenance");
    json_object_put(TAKE_PTR(result));

    /* Disabling without a reason; enabling clears the reason. */
    result = update(db, "{\"host\": \"cmp2\", \"binary\": \"nova-compute\","
                    " \"disabled\": true, \"disabled_reason\": null}");
    assert_true(get_bool(result, "disabled"));
    assert_null(get(result, "disabled_reason"));
    json_object_put(TAKE_PTR(result));
    result = update(db, "{\"host\": \"cmp2\", \"binary\": \"nova-compute\","
                    " \"disabled\": true, \"disabled_reason\": \"again\"}");
    json_object_put(TAKE_PTR(result));
    result = update(db, "{\"host\": \"cmp2\", \"binary\": \"nova-compute\","
                    " \"disabled\": false}");
    assert_false(get_bool(result, "disabled"));
    assert_null(get(result, "disabled_reason"));
    json_object_put(TAKE_PTR(result));

    /* Nothing to change: the service as it is. */
    result = update(db, "{\"host\": \"ctl1\", \"binary\":"
                    " \"nova-scheduler\"}");
    assert_string_equal(get_str(result, "zone"), "internal");
}

static void
test_service_update_errors(void **state)
{
    CLEANUP(db_closep) struct db *db = test_open();
    CLEANUP(json_putp) struct json_object *result = NULL;

    (void) state;
    check_error(update_error(db, "{\"host\": \"nope\", \"binary\":"
                             " \"nova-compute\", \"disabled\": true}"),
                ERROR_NOT_FOUND, "Compute host nope could not be found.");
    check_error(update_error(db, "{\"host\": \"cmp1\", \"binary\":"
                             " \"nova-api\", \"disabled\": true}"),
                ERROR_NOT_FOUND,
                "Service nova-api on host cmp1 could not be found.");
    check_error(update_error(db, "{\"binary\": \"nova-compute\"}"),
                ERROR_INVALID, "host");
    check_error(update_error(db, "{\"host\": \"cmp1\"}"),
                ERROR_INVALID, "binary");
    check_error(update_error(db, "{\"host\": \"cmp1\", \"binary\":"
                             " \"nova-compute\", \"disabled\": \"yes\"}"),
                ERROR_INVALID, "disabled");
    check_error(update_error(db, "{\"host\": \"cmp1\", \"binary\":"
                             " \"nova-compute\", \"forced_down\": 1}"),
                ERROR_INVALID, "forced_down");
    check_error(update_error(db, "{\"host\": \"cmp1\", \"binary\":"
                             " \"nova-compute\", \"disabled_reason\":"
                             " \"x\"}"),
                ERROR_INVALID, "disabled_reason");

    /* A failed update changed nothing. */
    result = services(db, "{\"host\": \"cmp1\"}", 60);
    assert_false(get_bool(json_object_array_get_idx(
                              get(result, "services"), 0), "disabled"));
}

/* ---- Compute nodes --------------------------------------------------- */

static void
test_compute_nodes(void **state)
{
    CLEANUP(db_closep) struct db *db = test_open();
    CLEANUP(json_putp) struct json_object *result = NULL;
    CLEANUP(json_putp) struct json_object *svc = NULL;
    CLEANUP(json_putp) struct json_object *args = parse("{}");
    struct cell_db_node_inventory inv = {
        .host = "cmp1", .node = "cmp1.example", .hypervisor_type = "QEMU",
        .hypervisor_version = 8002000,
        .cpu_info = "{\"arch\": \"x86_64\"}",
        .vcpus = 8, .memory_mb = 16384, .local_gb = 100, .running_vms = 1,
    };
    struct json_object *list;
    struct json_object *n;
    bool claimed = false;

    (void) state;
    check(cell_db_node_upsert(db, &inv, NULL), "cmp1");
    inv.host = "cmp2";
    inv.node = "cmp2.example";
    inv.cpu_info = NULL;
    check(cell_db_node_upsert(db, &inv, NULL), "cmp2");
    inv.host = "ghost";
    inv.node = "ghost.example";
    check(cell_db_node_upsert(db, &inv, NULL), "ghost");
    check(cell_db_node_claim(db, "cmp1", "cmp1.example", 2, 1024, 10,
                             &claimed), "claim");
    assert_true(claimed);
    check(cell_db_service_set_disabled(db, "cmp2", "nova-compute", true,
                                       "broken"), "disable");
    check(db_exec(db, "UPDATE services SET last_seen_up = UTC_TIMESTAMP(6)"
                  " - INTERVAL 120 SECOND WHERE host = ?",
                  DB_PARAMS(DB_STR("cmp2")), NULL), "age");

    check(cells_query_compute_nodes(db, TEST_CELL, args, 60, &result),
          "nodes");
    list = get(result, "compute_nodes");
    assert_int_equal(json_object_array_length(list), 3);
    assert_int_equal(json_object_array_length(get(result, "missing")), 0);

    svc = services(db, "{\"host\": \"cmp1\"}", 60);
    n = find(list, "host", "cmp1");
    assert_string_equal(get_str(n, "cell_path"), TEST_CELL);
    assert_true(get_int(n, "id") > 0);
    assert_true(uuid_is_valid(get_str(n, "uuid")));
    assert_string_equal(get_str(n, "hypervisor_hostname"), "cmp1.example");
    assert_string_equal(get_str(n, "hypervisor_type"), "QEMU");
    assert_int_equal(get_int(n, "hypervisor_version"), 8002000);
    assert_int_equal(get_int(n, "vcpus"), 8);
    assert_int_equal(get_int(n, "vcpus_used"), 2);
    assert_int_equal(get_int(n, "memory_mb"), 16384);
    assert_int_equal(get_int(n, "memory_mb_used"), 1024);
    assert_int_equal(get_int(n, "local_gb"), 100);
    assert_int_equal(get_int(n, "local_gb_used"), 10);
    assert_int_equal(get_int(n, "running_vms"), 1);
    assert_string_equal(get_str(n, "cpu_info"), "{\"arch\": \"x86_64\"}");
    assert_string_equal(get_str(n, "state"), "up");
    assert_string_equal(get_str(n, "status"), "enabled");
    assert_null(get(n, "disabled_reason"));
    assert_int_equal(get_int(n, "service_id"),
                     get_int(json_object_array_get_idx(
                                 get(svc, "services"), 0), "id"));

    n = find(list, "host", "cmp2");
    assert_null(get(n, "cpu_info"));
    assert_string_equal(get_str(n, "state"), "down");
    assert_string_equal(get_str(n, "status"), "disabled");
    assert_string_equal(get_str(n, "disabled_reason"), "broken");
    n = find(list, "host", "ghost");
    assert_null(get(n, "service_id"));
    assert_string_equal(get_str(n, "state"), "down");
    json_object_put(TAKE_PTR(result));
    json_object_put(TAKE_PTR(args));

    /* The host filter. */
    args = parse("{\"host\": \"cmp2\"}");
    check(cells_query_compute_nodes(db, TEST_CELL, args, 60, &result),
          "nodes of cmp2");
    list = get(result, "compute_nodes");
    assert_int_equal(json_object_array_length(list), 1);
    assert_string_equal(get_str(json_object_array_get_idx(list, 0),
                                "hypervisor_hostname"), "cmp2.example");

    /* Put things back for the other tests. */
    check(cell_db_service_set_disabled(db, "cmp2", "nova-compute", false,
                                       NULL), "enable");
    heartbeat(db, "cmp2", "nova-compute", "compute");
}

/* ---- Instance actions ------------------------------------------------ */

static void
test_instance_actions(void **state)
{
    CLEANUP(db_closep) struct db *db = test_open();
    CLEANUP(instance_freep) struct instance *inst = NULL;
    CLEANUP(instance_freep) struct instance *row = NULL;
    CLEANUP(json_putp) struct json_object *args = NULL;
    CLEANUP(json_putp) struct json_object *result = NULL;
    struct cell_db_action_event build = {
        .event = "compute_build_and_run_instance", .result = "Success",
        .start_time = 1714564700000, .finish_time = 1714564701000,
        .host = "cmp1",
    };
    struct cell_db_action_event reboot = {
        .event = "compute_reboot_instance", .result = "Error",
        .start_time = 1714564800000, .finish_time = 1714564802000,
        .host = "cmp1", .details = "libvirt said no",
        .traceback = "Traceback ...",
    };
    char uuid[UUID_STRING_SIZE];
    struct json_object *list;
    struct json_object *a;
    struct json_object *events;
    struct json_object *e;
    AUTOFREE char *text = NULL;
    bool created = false;

    (void) state;
    uuid_generate_string(uuid);
    inst = instance_new(uuid);
    inst->project_id = xstrdup("proj-1");
    inst->user_id = xstrdup("user-1");
    inst->display_name = xstrdup("vm");
    inst->flavor = flavor_new("f1", "test.flavor");
    inst->flavor->vcpus = 1;
    inst->flavor->memory_mb = 256;
    inst->flavor->root_gb = 1;
    inst->task_state = INSTANCE_TASK_SCHEDULING;
    check(cell_db_instance_create(db, inst, &row, &created), "create");

    /* No action yet. */
    text = xasprintf("{\"cell_path\": \"%s\", \"instance_uuid\": \"%s\"}",
                     TEST_CELL, uuid);
    args = parse(text);
    check(cells_query_instance_actions(db, TEST_CELL, args, &result),
          "empty");
    assert_int_equal(json_object_array_length(get(result,
                                                  "instanceActions")), 0);
    json_object_put(TAKE_PTR(result));

    check(cell_db_action_start(db, uuid, "create", "req-1", "user-1",
                               "proj-1", NULL), "create action");
    check(cell_db_action_add_event(db, uuid, "req-1", &build), "build");
    check(cell_db_action_start(db, uuid, "reboot", "req-2", "user-1",
                               "proj-1", NULL), "reboot action");
    check(cell_db_action_add_event(db, uuid, "req-2", &reboot), "reboot");

    check(cells_query_instance_actions(db, TEST_CELL, args, &result),
          "list");
    list = get(result, "instanceActions");
    assert_int_equal(json_object_array_length(list), 2);
    a = json_object_array_get_idx(list, 0);
    assert_string_equal(get_str(a, "action"), "reboot");
    assert_string_equal(get_str(a, "request_id"), "req-2");
    assert_string_equal(get_str(a, "message"), "Error");
    assert_string_equal(get_str(a, "instance_uuid"), uuid);
    assert_string_equal(get_str(a, "project_id"), "proj-1");
    assert_string_equal(get_str(a, "user_id"), "user-1");
    assert_int_equal(strlen(get_str(a, "start_time")), 26);
    assert_int_equal(json_object_object_length(a), 7);
    a = json_object_array_get_idx(list, 1);
    assert_string_equal(get_str(a, "action"), "create");
    assert_null(get(a, "message"));
    json_object_put(TAKE_PTR(result));
    json_object_put(TAKE_PTR(args));
    free(TAKE_PTR(text));

    /* One action with its events. */
    text = xasprintf("{\"instance_uuid\": \"%s\", \"request_id\":"
                     " \"req-2\"}", uuid);
    args = parse(text);
    check(cells_query_instance_action(db, TEST_CELL, args, &result),
          "show");
    a = get(result, "instanceAction");
    assert_string_equal(get_str(a, "action"), "reboot");
    assert_int_equal(json_object_object_length(a), 8);
    events = get(a, "events");
    assert_int_equal(json_object_array_length(events), 1);
    e = json_object_array_get_idx(events, 0);
    assert_int_equal(json_object_object_length(e), 5);
    assert_string_equal(get_str(e, "event"), "compute_reboot_instance");
    assert_string_equal(get_str(e, "result"), "Error");
    assert_string_equal(get_str(e, "traceback"), "Traceback ...");
    assert_string_equal(get_str(e, "start_time"),
                        "2024-05-01T12:00:00.000000");
    assert_string_equal(get_str(e, "finish_time"),
                        "2024-05-01T12:00:02.000000");
    json_object_put(TAKE_PTR(result));
    json_object_put(TAKE_PTR(args));
    free(TAKE_PTR(text));

    /* Unknown action, unknown instance, bad arguments. */
    text = xasprintf("{\"instance_uuid\": \"%s\", \"request_id\":"
                     " \"req-9\"}", uuid);
    args = parse(text);
    check_error(cells_query_instance_action(db, TEST_CELL, args, &result),
                ERROR_NOT_FOUND, "Action for request_id req-9 on instance");
    json_object_put(TAKE_PTR(args));
    args = parse("{\"instance_uuid\":"
                 " \"00000000-0000-0000-0000-000000000000\"}");
    check_error(cells_query_instance_actions(db, TEST_CELL, args, &result),
                ERROR_NOT_FOUND, "could not be found");
    json_object_put(TAKE_PTR(args));
    args = parse("{}");
    check_error(cells_query_instance_actions(db, TEST_CELL, args, &result),
                ERROR_INVALID, "instance_uuid");
    check_error(cells_query_instance_action(db, TEST_CELL, args, &result),
                ERROR_INVALID, "instance_uuid");
    assert_null(result);
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_service_list),
        cmocka_unit_test(test_service_list_bad_args),
        cmocka_unit_test(test_service_up_down),
        cmocka_unit_test(test_service_disable_enable),
        cmocka_unit_test(test_service_update_errors),
        cmocka_unit_test(test_compute_nodes),
        cmocka_unit_test(test_instance_actions),
    };
    int rc;

    test_env_require(argc, argv, "mariadb");
    db_library_init();
    rc = cmocka_run_group_tests_name("cells-queries", tests, group_setup,
                                     group_teardown);
    db_library_end();
    return rc;
}
