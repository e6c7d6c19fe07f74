/* test-cell-registry.c: the cell registry and the "nova-manage cell"
 * commands against a real MariaDB.
 *
 * The tests share one API database (test_cellreg_api, created and migrated
 * by the group setup) and run in order, each starting from the state the
 * previous one left: load a topology, read it back (list, tree, show,
 * JSON), change cells (update, disable, enable, create), delete them (and
 * be refused while instances or hosts are mapped below them), then load
 * edited topology files (kept and pruned cells, refused moves).  The
 * commands are called as nova-manage calls them, with their output caught
 * in memory and compared whole. */
#include <config.h>

#include <errno.h>
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

#include "api-cell/cell-registry.h"
#include "api-cell/manage-cell.h"
#include "shared/cleanup.h"
#include "shared/db-migrate.h"
#include "shared/db.h"
#include "shared/error.h"
#include "shared/json-util.h"
#include "shared/topology.h"
#include "shared/xalloc.h"
#include "tests/integration/test-env.h"

#ifndef TEST_TOPOLOGY_DATA_DIR
#define TEST_TOPOLOGY_DATA_DIR "tests/data/topology"
#endif

#define TEST_DATABASE "test_cellreg_api"
#define TEST_REGIONS TEST_TOPOLOGY_DATA_DIR "/good-regions.yaml"

/* Most arguments a test passes to a command. */
#define TEST_MAX_ARGS 16

/* The API database URL, and a directory for edited topology files. */
static char *test_db_url;
static char test_dir[] = "/tmp/test-cell-registry.XXXXXX";

/* ---- Helpers --------------------------------------------------------- */

static void
check(struct error *error, const char *what)
{
    if (error) {
        fail_msg("%s: %s", what, error_message(error));
    }
}

static struct db *
test_open(const char *url)
{
    struct db *db = NULL;

    check(db_open(url, &db), "db_open");
    return db;
}

static void
test_exec(const char *sql, const struct db_value *params, size_t n_params)
{
    CLEANUP(db_closep) struct db *db = test_open(test_db_url);

    check(db_exec(db, sql, params, n_params, NULL), sql);
}

/* The result of one command. */
struct test_run {
    char *out;                  /* everything it printed */
    struct error *error;
    bool usage;                 /* manage_cell_error_is_usage() */
};

static void
test_run_destroy(struct test_run *run)
{
    free(run->out);
    error_free(run->error);
}

/* Runs "cell VERB ARGS..." (a NULL-terminated list) against the test
 * database and returns what it did. */
static struct test_run
test_cell(const char *verb, ...)
{
    const struct manage_cell_command *command = NULL;
    char *argv[TEST_MAX_ARGS + 1];
    struct test_run run = { NULL, NULL, false };
    size_t size = 0;
    int argc = 0;
    va_list args;
    FILE *out;

    for (size_t i = 0; i < manage_cell_n_commands; i++) {
        if (!strcmp(manage_cell_commands[i].verb, verb)) {
            command = &manage_cell_commands[i];
        }
    }
    assert_non_null(command);
    assert_string_equal(command->category, "cell");
    va_start(args, verb);
    for (char *arg; (arg = va_arg(args, char *)); ) {
        assert_true(argc < TEST_MAX_ARGS);
        argv[argc++] = arg;
    }
    va_end(args);
    argv[argc] = NULL;
    /* nova-manage checks the counts before it calls the handler. */
    assert_true(argc <= command->max_args);

    out = open_memstream(&run.out, &size);
    assert_non_null(out);
    run.error = command->handler(test_db_url, out, argc, argv);
    run.usage = manage_cell_error_is_usage(run.error);
    assert_int_equal(fclose(out), 0);
    /* Whatever a command prints, it never prints a password. */
    assert_null(strstr(run.out, "pw@"));
    if (run.error) {
        assert_null(strstr(error_message(run.error), "pw@"));
    }
    return run;
}

/* Fails unless 'got' is 'expected', printing both whole (cmocka cuts
 * long messages). */
static void
test_assert_text(const char *got, const char *expected)
{
    if (strcmp(got, expected)) {
        fprintf(stderr, "got:\n%s\nexpected:\n%s", got, expected);
        fail_msg("unexpected text");
    }
}

/* Runs a command that must succeed and print exactly 'expected'. */
#define EXPECT_OUTPUT(EXPECTED, ...)                                    \
    do {                                                                \
        struct test_run run_ = test_cell(__VA_ARGS__, (char *) NULL);   \
                                                                        \
        if (run_.error) {                                               \
            fail_msg("failed: %s", error_message(run_.error));          \
        }                                                               \
        test_assert_text(run_.out, (EXPECTED));                         \
        test_run_destroy(&run_);                                        \
    } while (0)

/* Runs a command that must fail with exactly 'message', as a usage error
 * or not, printing nothing. */
#define EXPECT_ERROR(USAGE, MESSAGE, ...)                               \
    do {                                                                \
        struct test_run run_ = test_cell(__VA_ARGS__, (char *) NULL);   \
                                                                        \
        if (!run_.error) {                                              \
            fail_msg("succeeded:\n%s", run_.out);                       \
        }                                                               \
        if (strcmp(error_message(run_.error), (MESSAGE))) {             \
            fail_msg("got '%s'\nexpected '%s'",                         \
                     error_message(run_.error), (MESSAGE));             \
        }                                                               \
        assert_int_equal(run_.usage, (USAGE));                          \
        assert_string_equal(run_.out, "");                              \
        test_run_destroy(&run_);                                        \
    } while (0)

/* Runs a command that must succeed and returns its output as JSON. */
static struct json_object *
test_cell_json(const char *verb, const char *name)
{
    struct test_run run = (name
                           ? test_cell(verb, name, "--format", "json",
                                       (char *) NULL)
                           : test_cell(verb, "--format=json",
                                       (char *) NULL));
    struct json_object *doc = NULL;

    check(run.error, verb);
    check(json_parse_text(run.out, strlen(run.out), 0, 0, &doc), run.out);
    test_run_destroy(&run);
    return doc;
}

/* Writes 'text' to the file 'name' of the test directory and returns its
 * path. */
static char *
test_write_file(const char *name, const char *text)
{
    char *path = xasprintf("%s/%s", test_dir, name);
    FILE *file = fopen(path, "w");

    assert_non_null(file);
    assert_int_equal(fputs(text, file) < 0, 0);
    assert_int_equal(fclose(file), 0);
    return path;
}

/* Replaces every occurrence of 'from' in 's' with 'to', which has the same
 * length, so that table widths do not move. */
static void
test_mask(char *s, const char *from, char to)
{
    size_t length = strlen(from);

    for (char *p = strstr(s, from); p; p = strstr(p + length, from)) {
        memset(p, to, length);
    }
}

static int64_t
test_count(const char *sql, const struct db_value *params, size_t n_params)
{
    CLEANUP(db_closep) struct db *db = test_open(test_db_url);
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;

    check(db_query(db, sql, params, n_params, &rows), sql);
    return db_rows_get_int64(rows, 0, 0);
}

static void
test_map_instance(const char *uuid, const char *cell_path)
{
    test_exec("INSERT INTO instance_mappings (instance_uuid, cell_path, "
              "project_id) VALUES (?, ?, 'p1')",
              DB_PARAMS(DB_STR(uuid), DB_STR(cell_path)));
}

/* ---- Setup ----------------------------------------------------------- */

static int
group_setup(void **state)
{
    AUTOFREE char *admin_url = xstrdup(
        test_env_get("NOVA_TEST_MYSQL_ADMIN_URL"));
    CLEANUP(db_closep) struct db *admin = test_open(admin_url);
    CLEANUP(db_closep) struct db *db = NULL;

    (void) state;
    check(db_exec_once(admin, "DROP DATABASE IF EXISTS " TEST_DATABASE,
                       DB_NO_PARAMS, NULL), "drop");
    check(db_exec_once(admin, "CREATE DATABASE " TEST_DATABASE
                       " CHARACTER SET utf8mb4", DB_NO_PARAMS, NULL),
          "create");
    test_db_url = xasprintf("%s%s", admin_url, TEST_DATABASE);
    db = test_open(test_db_url);
    check(db_migrate(db, DB_SCHEMA_API, NULL, NULL), "migrate");
    assert_non_null(mkdtemp(test_dir));
    return 0;
}

static int
group_teardown(void **state)
{
    CLEANUP(db_closep) struct db *admin = test_open(
        test_env_get("NOVA_TEST_MYSQL_ADMIN_URL"));
    static const char *const files[] = {
        "edited.yaml", "pruned.yaml", "moved.yaml", "new-root.yaml",
    };

    (void) state;
    check(db_exec_once(admin, "DROP DATABASE IF EXISTS " TEST_DATABASE,
                       DB_NO_PARAMS, NULL), "drop");
    for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
        AUTOFREE char *path = xasprintf("%s/%s", test_dir, files[i]);

        (void) unlink(path);
    }
    (void) rmdir(test_dir);
    free(test_db_url);
    return 0;
}

/* ---- Tests ----------------------------------------------------------- */

/* Before anything is loaded. */
static void
test_empty(void **state)
{
    CLEANUP(json_putp) struct json_object *doc = NULL;

    (void) state;
    EXPECT_OUTPUT("No cells in the API database; load a topology with "
                  "'nova-manage cell load FILE'\n", "tree");
    EXPECT_OUTPUT(
        "+------+------+--------+-------+----------+---------------+-------"
        "---+---------------+--------------+------------+--------+---------"
        "----+------------+\n"
        "| Name | Path | Parent | Hosts | Disabled | Transport URL | Databa"
        "se | Weight Offset | Weight Scale | Last Heard | Health | Free RAM"
        " MB | Free vCPUs |\n"
        "+------+------+--------+-------+----------+---------------+-------"
        "---+---------------+--------------+------------+--------+---------"
        "----+------------+\n"
        "+------+------+--------+-------+----------+---------------+-------"
        "---+---------------+--------------+------------+--------+---------"
        "----+------------+\n",
        "list");
    doc = test_cell_json("list", NULL);
    assert_true(json_object_is_type(doc, json_type_array));
    assert_int_equal(json_object_array_length(doc), 0);
    EXPECT_ERROR(false, "Cell 'east' not found", "show", "east");
}

static void
test_check_and_load(void **state)
{
    (void) state;
    EXPECT_OUTPUT("Topology '" TEST_REGIONS "' is valid: 6 cells\n"
                  "api\n"
                  "|-- east (hosts)\n"
                  "|   |-- east-1\n"
                  "|   `-- east-2\n"
                  "`-- west\n"
                  "    `-- west-1 (disabled)\n",
                  "check", TEST_REGIONS);
    EXPECT_OUTPUT("Created cell 'api'\n"
                  "Created cell 'api!east'\n"
                  "Created cell 'api!east!east-1'\n"
                  "Created cell 'api!east!east-2'\n"
                  "Created cell 'api!west'\n"
                  "Created cell 'api!west!west-1'\n"
                  "Loaded '" TEST_REGIONS "': 6 created, 0 updated, "
                  "0 unchanged, 0 kept, 0 deleted\n",
                  "load", TEST_REGIONS);
    /* Loading again changes nothing. */
    EXPECT_OUTPUT("Loaded '" TEST_REGIONS "': 0 created, 0 updated, "
                  "6 unchanged, 0 kept, 0 deleted\n", "load", TEST_REGIONS);
    assert_int_equal(test_count("SELECT COUNT(*) FROM cell_mappings",
                                DB_NO_PARAMS), 6);
}

static void
test_list_and_tree(void **state)
{
    CLEANUP(json_putp) struct json_object *list = NULL;
    CLEANUP(json_putp) struct json_object *tree = NULL;
    struct json_object *cell, *value, *children;

    (void) state;
    EXPECT_OUTPUT(
        "+--------+-----------------+--------+-------+----------+----------"
        "-----------------------------------------------------+------------"
        "---------------------------------+---------------+--------------+-"
        "-----------+--------+-------------+------------+\n"
        "| Name   | Path            | Parent | Hosts | Disabled | Transport"
        " URL                                                 | Database   "
        "                                 | Weight Offset | Weight Scale | "
        "Last Heard | Health | Free RAM MB | Free vCPUs |\n"
        "+--------+-----------------+--------+-------+----------+----------"
        "-----------------------------------------------------+------------"
        "---------------------------------+---------------+--------------+-"
        "-----------+--------+-------------+------------+\n"
        "| api    | api             | -      | False | False    | rabbit://"
        "api:***@127.0.0.1:5672/api                           | -          "
        "                                 | 0             | 1            | "
        "-          | -      | -           | -          |\n"
        "| east   | api!east        | api    | True  | False    | rabbit://"
        "east:***@127.0.0.1:5672/east                         | mysql://eas"
        "t:***@127.0.0.1:3306/nova_east   | 10            | 1            | "
        "-          | -      | -           | -          |\n"
        "| east-1 | api!east!east-1 | east   | True  | False    | rabbit://"
        "east1:***@127.0.0.1:5672/east-1                      | mysql://eas"
        "t1:***@127.0.0.1:3306/nova_east1 | 0             | 1            | "
        "-          | -      | -           | -          |\n"
        "| east-2 | api!east!east-2 | east   | True  | False    | rabbit://"
        "east2:***@127.0.0.1:5672/east-2                      | mysql://eas"
        "t2:***@127.0.0.1:3306/nova_east2 | -2.5          | 0.5          | "
        "-          | -      | -           | -          |\n"
        "| west   | api!west        | api    | False | False    | rabbit://"
        "west:***@127.0.0.1:5672,west:***@127.0.0.2:5672/west | -          "
        "                                 | 0             | 1            | "
        "-          | -      | -           | -          |\n"
        "| west-1 | api!west!west-1 | west   | True  | True     | rabbit://"
        "west1:***@127.0.0.1:5672/west-1                      | mysql://wes"
        "t1:***@127.0.0.1:3306/nova_west1 | 0             | 1            | "
        "-          | -      | -           | -          |\n"
        "+--------+-----------------+--------+-------+----------+----------"
        "-----------------------------------------------------+------------"
        "---------------------------------+---------------+--------------+-"
        "-----------+--------+-------------+------------+\n",
        "list");
    EXPECT_OUTPUT("api\n"
                  "|-- east (hosts)\n"
                  "|   |-- east-1\n"
                  "|   `-- east-2\n"
                  "`-- west\n"
                  "    `-- west-1 (disabled)\n", "tree");

    list = test_cell_json("list", NULL);
    assert_int_equal(json_object_array_length(list), 6);
    cell = json_object_array_get_idx(list, 4);
    assert_true(json_object_object_get_ex(cell, "path", &value));
    assert_string_equal(json_object_get_string(value), "api!west");
    assert_true(json_object_object_get_ex(cell, "transport_url", &value));
    assert_string_equal(json_object_get_string(value),
                        "rabbit://west:***@127.0.0.1:5672,"
                        "west:***@127.0.0.2:5672/west");
    assert_true(json_object_object_get_ex(cell, "database", &value));
    assert_null(value);
    assert_true(json_object_object_get_ex(cell, "parent_path", &value));
    assert_string_equal(json_object_get_string(value), "api");

    tree = test_cell_json("tree", NULL);
    assert_int_equal(json_object_array_length(tree), 1);
    cell = json_object_array_get_idx(tree, 0);
    assert_true(json_object_object_get_ex(cell, "name", &value));
    assert_string_equal(json_object_get_string(value), "api");
    assert_true(json_object_object_get_ex(cell, "children", &children));
    assert_int_equal(json_object_array_length(children), 2);
    cell = json_object_array_get_idx(children, 1);
    assert_true(json_object_object_get_ex(cell, "children", &children));
    cell = json_object_array_get_idx(children, 0);
    assert_true(json_object_object_get_ex(cell, "path", &value));
    assert_string_equal(json_object_get_string(value), "api!west!west-1");
    assert_true(json_object_object_get_ex(cell, "disabled", &value));
    assert_true(json_object_get_boolean(value));
}

static void
test_show(void **state)
{
    CLEANUP(db_closep) struct db *db = test_open(test_db_url);
    CLEANUP(cell_registry_cell_freep) struct cell_registry_cell *cell = NULL;
    CLEANUP(json_putp) struct json_object *doc = NULL;
    struct test_run run;
    struct json_object *value;
    AUTOFREE char *caps = NULL;

    (void) state;
    check(cell_registry_get(db, "api!east!east-1", &cell), "get");
    assert_string_equal(cell->name, "east-1");
    assert_non_null(cell->created_at);
    assert_int_equal(strlen(cell->created_at), 26);
    /* The stored URLs keep their passwords: they are the credentials. */
    assert_string_equal(cell->transport_url,
                        "rabbit://east1:east1pw@127.0.0.1:5672/east-1");

    run = test_cell("show", "east-1", (char *) NULL);
    check(run.error, "show");
    test_mask(run.out, cell->uuid, 'U');
    /* Both times come from one statement, so they are equal. */
    assert_string_equal(cell->created_at, cell->updated_at);
    test_mask(run.out, cell->created_at, 'C');
    test_assert_text(
        run.out,
        "+--------------------+-----------------------------------------------"
        "-------------------------+\n"
        "| Field              | Value                                         "
        "                         |\n"
        "+--------------------+-----------------------------------------------"
        "-------------------------+\n"
        "| name               | east-1                                        "
        "                         |\n"
        "| path               | api!east!east-1                               "
        "                         |\n"
        "| uuid               | UUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUU          "
        "                         |\n"
        "| parent             | api!east                                      "
        "                         |\n"
        "| children           | -                                             "
        "                         |\n"
        "| hosts              | True                                          "
        "                         |\n"
        "| disabled           | False                                         "
        "                         |\n"
        "| transport_url      | rabbit://east1:***@127.0.0.1:5672/east-1      "
        "                         |\n"
        "| database           | mysql://east1:***@127.0.0.1:3306/nova_east1   "
        "                         |\n"
        "| weight_offset      | 0                                             "
        "                         |\n"
        "| weight_scale       | 1                                             "
        "                         |\n"
        "| availability_zones | az-east-a, az-east-b                          "
        "                         |\n"
        "| capabilities       | architecture=x86_64, cpu_features=[avx2], hype"
        "rvisor_type=[qemu, test] |\n"
        "| created_at         | CCCCCCCCCCCCCCCCCCCCCCCCCC                    "
        "                         |\n"
        "| updated_at         | CCCCCCCCCCCCCCCCCCCCCCCCCC                    "
        "                         |\n"
        "+--------------------+-----------------------------------------------"
        "-------------------------+\n");
    test_run_destroy(&run);

    doc = test_cell_json("show", "api!east");
    assert_true(json_object_object_get_ex(doc, "children", &value));
    assert_int_equal(json_object_array_length(value), 2);
    assert_string_equal(json_object_get_string(
                            json_object_array_get_idx(value, 0)), "east-1");
    assert_true(json_object_object_get_ex(doc, "hosts", &value));
    assert_true(json_object_get_boolean(value));
    assert_true(json_object_object_get_ex(doc, "weight_offset", &value));
    assert_true(json_object_get_double(value) == 10.0);
    assert_true(json_object_object_get_ex(doc, "database", &value));
    assert_string_equal(json_object_get_string(value),
                        "mysql://east:***@127.0.0.1:3306/nova_east");
    json_object_put(doc);

    doc = test_cell_json("show", "east-1");
    assert_true(json_object_object_get_ex(doc, "capabilities", &value));
    caps = json_to_string_plain(value);
    assert_string_equal(caps, "{\"architecture\":\"x86_64\","
                        "\"cpu_features\":[\"avx2\"],"
                        "\"hypervisor_type\":[\"qemu\",\"test\"]}");
}

static void
test_update(void **state)
{
    CLEANUP(db_closep) struct db *db = test_open(test_db_url);
    CLEANUP(cell_registry_cell_freep) struct cell_registry_cell *cell = NULL;
    AUTOFREE char *caps = NULL;
    AUTOFREE char *zones = NULL;

    (void) state;
    EXPECT_OUTPUT("Updated cell 'api!east!east-2': weight_offset, "
                  "availability_zones, capabilities\n",
                  "update", "east-2", "--weight-offset", "3",
                  "--availability-zones=az-b,az-a",
                  "--capability", "hypervisor_type=qemu,kvm",
                  "--capability", "architecture=aarch64");
    check(cell_registry_get(db, "east-2", &cell), "get");
    assert_true(cell->weight_offset == 3.0);
    zones = json_to_string_plain(cell->availability_zones);
    caps = json_to_string_plain(cell->capabilities);
    assert_string_equal(zones, "[\"az-b\",\"az-a\"]");
    assert_string_equal(caps, "{\"architecture\":\"aarch64\","
                        "\"hypervisor_type\":[\"qemu\",\"kvm\"]}");

    /* The same values again: nothing to write. */
    EXPECT_OUTPUT("Cell 'api!east!east-2' is unchanged\n",
                  "update", "api!east!east-2", "--weight-offset", "3.0");
    /* One capability removed, the others kept. */
    EXPECT_OUTPUT("Updated cell 'api!east!east-2': capabilities\n",
                  "update", "east-2", "--capability", "architecture=");
    cell_registry_cell_free(cell);
    check(cell_registry_get(db, "east-2", &cell), "get");
    free(caps);
    caps = json_to_string_plain(cell->capabilities);
    assert_string_equal(caps, "{\"hypervisor_type\":[\"qemu\",\"kvm\"]}");
    EXPECT_OUTPUT("Updated cell 'api!east!east-2': transport_url, hosts\n",
                  "update", "east-2", "--transport-url",
                  "rabbit://e2:new@127.0.0.1:5673/east-2", "--no-hosts");
    EXPECT_OUTPUT("Updated cell 'api!east!east-2': hosts\n",
                  "update", "east-2", "--hosts");

    /* Refusals, none of which changes anything. */
    EXPECT_ERROR(false, "Cell 'api' is the root (the API cell) and cannot "
                 "have hosts", "update", "api", "--hosts");
    EXPECT_ERROR(false, "Cell 'api!east' has hosts but no database: give "
                 "it a database, or say that it has no hosts of its own",
                 "update", "east", "--database", "");
    EXPECT_ERROR(false, "Cell 'api!east!east-2': Invalid transport URL: "
                 "bad port in host entry 1 (expected 1 to 65535)",
                 "update", "east-2", "--transport-url",
                 "rabbit://e2:east2pw@127.0.0.1:0/east-2");
    EXPECT_ERROR(false, "Cell 'api!east': Invalid database URL "
                 "'mysql://east:***@127.0.0.1:3306': it names no database",
                 "update", "east", "--database",
                 "mysql://east:eastpw@127.0.0.1:3306");
    EXPECT_ERROR(false, "Cell 'api!east!east-2': duplicate availability "
                 "zone 'a'",
                 "update", "east-2", "--availability-zones", "a,b,a");
    EXPECT_ERROR(false, "Cell 'api!east!east-2': value of capability 'x' "
                 "must not be empty", "update", "east-2", "--capability",
                 "x=a,,b");
    EXPECT_ERROR(false, "Cell 'nowhere' not found",
                 "update", "nowhere", "--hosts");
    EXPECT_ERROR(true, "'--weight-scale' must be a number, got 'big'",
                 "update", "east-2", "--weight-scale", "big");
    EXPECT_ERROR(true, "'cell update' needs at least one option saying "
                 "what to change", "update", "east-2");
    EXPECT_ERROR(true, "unknown option '--parent' for 'cell update'",
                 "update", "east-2", "--parent", "west");
}

static void
test_disable_enable(void **state)
{
    (void) state;
    EXPECT_OUTPUT("Disabled cell 'api!east!east-1'\n", "disable", "east-1");
    EXPECT_OUTPUT("Cell 'api!east!east-1' was already disabled\n",
                  "disable", "api!east!east-1");
    EXPECT_OUTPUT("api\n"
                  "|-- east (hosts)\n"
                  "|   |-- east-1 (disabled)\n"
                  "|   `-- east-2\n"
                  "`-- west\n"
                  "    `-- west-1 (disabled)\n", "tree");
    EXPECT_OUTPUT("Enabled cell 'api!west!west-1'\n", "enable", "west-1");
    EXPECT_OUTPUT("Cell 'api!west!west-1' was already enabled\n",
                  "enable", "west-1");
    EXPECT_ERROR(false, "Cell 'west-9' not found", "enable", "west-9");
    EXPECT_ERROR(false, "Invalid cell name or path 'a b'", "enable", "a b");
    EXPECT_ERROR(true, "'cell enable' needs a cell NAME", "enable");
    assert_int_equal(test_count("SELECT COUNT(*) FROM cell_mappings"
                                " WHERE disabled = 1", DB_NO_PARAMS), 1);
}

static void
test_create(void **state)
{
    (void) state;
    EXPECT_OUTPUT("Created cell 'api!east!east-3'\n",
                  "create", "east-3", "--parent", "east",
                  "--transport-url", "rabbit://e3:east3pw@127.0.0.1/east-3",
                  "--database", "mysql://e3:east3pw@127.0.0.1/nova_east3",
                  "--weight-scale=2", "--disabled",
                  "--capability", "hypervisor_type=qemu");
    /* A region whose children will follow needs no database. */
    EXPECT_OUTPUT("Created cell 'api!north'\n",
                  "create", "north", "--parent", "api", "--no-hosts",
                  "--transport-url", "rabbit://north:northpw@127.0.0.1/n");
    EXPECT_OUTPUT("api\n"
                  "|-- east (hosts)\n"
                  "|   |-- east-1 (disabled)\n"
                  "|   |-- east-2\n"
                  "|   `-- east-3 (disabled)\n"
                  "|-- north (no hosts)\n"
                  "`-- west\n"
                  "    `-- west-1\n", "tree");

    EXPECT_ERROR(false, "Cell 'east-3' already exists, at 'api!east!east-3'",
                 "create", "east-3", "--parent", "west",
                 "--transport-url", "rabbit://h/", "--database",
                 "mysql://u:p@h/d");
    EXPECT_ERROR(false, "Cannot create cell 'top' as the root: cell 'api' "
                 "is the root already, and every other cell needs a parent",
                 "create", "top", "--transport-url", "rabbit://h/");
    EXPECT_ERROR(false, "Parent cell 'esat' not found",
                 "create", "east-4", "--parent", "esat",
                 "--transport-url", "rabbit://h/");
    EXPECT_ERROR(false, "Cell 'api!west!west-2' has hosts but no database: "
                 "give it a database, or say that it has no hosts of its "
                 "own", "create", "west-2", "--parent", "west",
                 "--transport-url", "rabbit://h/");
    EXPECT_ERROR(false, "Cannot create cell: invalid cell name 'west 2': "
                 "only letters, digits, '_', '.' and '-' are allowed",
                 "create", "west 2", "--parent", "west",
                 "--transport-url", "rabbit://h/");
    EXPECT_ERROR(true, "'cell create' needs --transport-url URL",
                 "create", "west-2", "--parent", "west");
    EXPECT_ERROR(true, "option '--parent' needs a value",
                 "create", "west-2", "--transport-url", "rabbit://h/",
                 "--parent");
    EXPECT_ERROR(true, "option '--parent' is given more than once",
                 "create", "west-2", "--parent", "west", "--parent", "api");
    EXPECT_ERROR(true, "options '--hosts' and '--no-hosts' contradict each "
                 "other", "create", "west-2", "--hosts", "--no-hosts");
    EXPECT_ERROR(true, "option '--disabled' takes no value",
                 "create", "west-2", "--disabled=yes");
    EXPECT_ERROR(true, "'cell create' takes one cell NAME, but 'west-3' "
                 "was given too", "create", "west-2", "west-3");
    EXPECT_ERROR(true, "option '--capability' needs NAME=VALUE, got 'qemu'",
                 "create", "west-2", "--transport-url", "rabbit://h/",
                 "--capability", "qemu");
    EXPECT_ERROR(true, "option '--capability arch=' has no value",
                 "create", "west-2", "--transport-url", "rabbit://h/",
                 "--capability", "arch=");
    EXPECT_ERROR(true, "unknown format 'yaml': use 'text' or 'json'",
                 "list", "--format", "yaml");
    EXPECT_ERROR(true, "'cell list' takes no argument, but 'east' was "
                 "given", "list", "east");
}

static void
test_delete(void **state)
{
    (void) state;
    test_map_instance("00000000-0000-4000-8000-000000000001",
                      "api!east!east-1");
    test_map_instance("00000000-0000-4000-8000-000000000002",
                      "api!east!east-1");
    test_map_instance("00000000-0000-4000-8000-000000000003",
                      "api!east!east-1");
    /* Not in east-1's subtree, though its path starts the same way. */
    test_map_instance("00000000-0000-4000-8000-000000000004",
                      "api!east!east-10");
    /* Not placed anywhere yet. */
    test_map_instance("00000000-0000-4000-8000-000000000005", NULL);
    test_exec("INSERT INTO host_mappings (host, cell_path) VALUES "
              "('compute-7', 'api!east!east-3')", DB_NO_PARAMS);

    EXPECT_ERROR(false, "Cell 'api!east!east-1' still holds 3 instances; "
                 "delete or move them first", "delete", "east-1");
    EXPECT_ERROR(false, "Cell 'api!east' still holds 4 instances; delete "
                 "or move them first", "delete", "api!east");
    EXPECT_ERROR(false, "Cell 'api' still holds 4 instances; delete or "
                 "move them first", "delete", "api");
    EXPECT_ERROR(false, "Cell 'api!east!east-3' still has 1 compute host "
                 "mapped to it; remove it first", "delete", "east-3");
    EXPECT_ERROR(false, "Cell 'api!west' still has child cells "
                 "('west-1'); delete them first", "delete", "west");
    EXPECT_ERROR(false, "Cell 'east-9' not found", "delete", "east-9");
    assert_int_equal(test_count("SELECT COUNT(*) FROM cell_mappings",
                                DB_NO_PARAMS), 8);

    /* Once nothing is mapped there any more, deleting works. */
    test_exec("DELETE FROM instance_mappings WHERE cell_path = "
              "'api!east!east-1'", DB_NO_PARAMS);
    test_exec("DELETE FROM host_mappings", DB_NO_PARAMS);
    EXPECT_OUTPUT("Deleted cell 'api!east!east-1'\n", "delete", "east-1");
    EXPECT_OUTPUT("Deleted cell 'api!east!east-3'\n", "delete",
                  "api!east!east-3");
    EXPECT_OUTPUT("Deleted cell 'api!north'\n", "delete", "north");
    EXPECT_OUTPUT("api\n"
                  "|-- east (hosts)\n"
                  "|   `-- east-2\n"
                  "`-- west\n"
                  "    `-- west-1\n", "tree");
}

/* Reloads edited copies of the topology. */
static void
test_reload(void **state)
{
    static const char edited_text[] =
        "# good-regions.yaml with west-1 gone, west changed and east-1\n"
        "# and a new leaf west-2 added.\n"
        "cells:\n"
        "  - name: api\n"
        "    transport_url: rabbit://api:apipw@127.0.0.1:5672/api\n"
        "  - name: east\n"
        "    parent: api\n"
        "    transport_url: rabbit://east:eastpw@127.0.0.1:5672/east\n"
        "    database: mysql://east:eastpw@127.0.0.1:3306/nova_east\n"
        "    hosts: true\n"
        "    weight_offset: 10\n"
        "  - name: east-1\n"
        "    parent: east\n"
        "    transport_url: rabbit://east1:east1pw@127.0.0.1:5672/east-1\n"
        "    database: mysql://east1:east1pw@127.0.0.1:3306/nova_east1\n"
        "  - name: east-2\n"
        "    parent: east\n"
        "    transport_url: rabbit://east2:east2pw@127.0.0.1:5672/east-2\n"
        "    database: mysql://east2:east2pw@127.0.0.1:3306/nova_east2\n"
        "    weight_offset: -2.5\n"
        "    weight_scale: 0.5\n"
        "  - name: west\n"
        "    parent: api\n"
        "    transport_url: rabbit://west:westpw@127.0.0.9:5672/west\n"
        "    availability_zones: [az-west]\n"
        "  - name: west-2\n"
        "    parent: west\n"
        "    transport_url: rabbit://west2:west2pw@127.0.0.1:5672/west-2\n"
        "    database: mysql://west2:west2pw@127.0.0.1:3306/nova_west2\n";
    AUTOFREE char *edited = test_write_file("edited.yaml", edited_text);
    AUTOFREE char *expected = NULL;

    (void) state;
    /* east-2 goes back to the file's settings; west-1 is kept. */
    expected = xasprintf(
        "Created cell 'api!east!east-1'\n"
        "Updated cell 'api!east!east-2': transport_url, weight_offset, "
        "availability_zones, capabilities\n"
        "Updated cell 'api!west': transport_url, availability_zones\n"
        "Created cell 'api!west!west-2'\n"
        "Kept cell 'api!west!west-1', which '%s' does not list (give "
        "--prune to delete it)\n"
        "Loaded '%s': 2 created, 2 updated, 2 unchanged, 1 kept, "
        "0 deleted\n", edited, edited);
    EXPECT_OUTPUT(expected, "load", edited);
    EXPECT_OUTPUT("api\n"
                  "|-- east (hosts)\n"
                  "|   |-- east-1\n"
                  "|   `-- east-2\n"
                  "`-- west\n"
                  "    |-- west-1\n"
                  "    `-- west-2\n", "tree");

    /* A disabled cell stays disabled when the file does not say. */
    EXPECT_OUTPUT("Disabled cell 'api!east!east-1'\n", "disable", "east-1");
    free(expected);
    expected = xasprintf("Kept cell 'api!west!west-1', which '%s' does not "
                         "list (give --prune to delete it)\n"
                         "Loaded '%s': 0 created, 0 updated, 6 unchanged, "
                         "1 kept, 0 deleted\n", edited, edited);
    EXPECT_OUTPUT(expected, "load", edited);

    /* Pruning deletes west-1, but not while it holds an instance. */
    test_map_instance("00000000-0000-4000-8000-000000000006",
                      "api!west!west-1");
    free(expected);
    expected = xasprintf("Cannot load '%s' into the API database: Cannot "
                         "prune cell 'api!west!west-1', which '%s' no "
                         "longer lists: Cell 'api!west!west-1' still holds "
                         "1 instance; delete or move it first", edited,
                         edited);
    EXPECT_ERROR(false, expected, "load", edited, "--prune");
    assert_int_equal(test_count("SELECT COUNT(*) FROM cell_mappings",
                                DB_NO_PARAMS), 7);
    test_exec("DELETE FROM instance_mappings WHERE cell_path = "
              "'api!west!west-1'", DB_NO_PARAMS);
    free(expected);
    expected = xasprintf("Deleted cell 'api!west!west-1'\n"
                         "Loaded '%s': 0 created, 0 updated, 6 unchanged, "
                         "0 kept, 1 deleted\n", edited);
    EXPECT_OUTPUT(expected, "load", "--prune", edited);
    EXPECT_OUTPUT("api\n"
                  "|-- east (hosts)\n"
                  "|   |-- east-1 (disabled)\n"
                  "|   `-- east-2\n"
                  "`-- west\n"
                  "    `-- west-2\n", "tree");
}

/* Loads that must change nothing. */
static void
test_load_refused(void **state)
{
    static const char moved_text[] =
        "cells:\n"
        "  - {name: api, transport_url: 'rabbit://h/'}\n"
        "  - {name: west, parent: api, transport_url: 'rabbit://h/'}\n"
        "  - {name: east-2, parent: west, transport_url: 'rabbit://h/',\n"
        "     database: 'mysql://u:east2pw@h/d'}\n";
    static const char new_root_text[] =
        "cells:\n"
        "  - {name: top, transport_url: 'rabbit://h/'}\n";
    AUTOFREE char *moved = test_write_file("moved.yaml", moved_text);
    AUTOFREE char *new_root = test_write_file("new-root.yaml",
                                              new_root_text);
    AUTOFREE char *pruned = test_write_file("pruned.yaml", "cells: [}\n");
    AUTOFREE char *expected = NULL;

    (void) state;
    expected = xasprintf("Cannot load '%s' into the API database: Cell "
                         "'east-2' is at 'api!east!east-2' in the API "
                         "database but at 'api!west!east-2' in '%s'; moving "
                         "a cell is not supported: delete it first", moved,
                         moved);
    EXPECT_ERROR(false, expected, "load", moved);
    free(expected);
    expected = xasprintf("Cannot load '%s' into the API database: The root "
                         "cell in the API database is 'api', but '%s' has "
                         "'top'; changing the root is not supported",
                         new_root, new_root);
    EXPECT_ERROR(false, expected, "load", new_root, "--prune");
    free(expected);
    expected = xasprintf("%s:1:9: YAML syntax error: did not find expected "
                         "node content", pruned);
    EXPECT_ERROR(false, expected, "load", pruned);
    EXPECT_ERROR(false, "Cannot open topology file '/nonexistent.yaml': No "
                 "such file or directory", "load", "/nonexistent.yaml");
    EXPECT_ERROR(true, "unknown option '--force' for 'cell load'",
                 "load", moved, "--force");

    /* The moved west got no update: the transaction rolled back. */
    EXPECT_OUTPUT("api\n"
                  "|-- east (hosts)\n"
                  "|   |-- east-1 (disabled)\n"
                  "|   `-- east-2\n"
                  "`-- west\n"
                  "    `-- west-2\n", "tree");
    assert_int_equal(test_count("SELECT COUNT(*) FROM cell_mappings WHERE "
                                "transport_url = 'rabbit://h/'",
                                DB_NO_PARAMS), 0);
}

/* The commands without a database URL or with an old schema. */
static void
test_no_database(void **state)
{
    FILE *out = tmpfile();
    char *argv[] = { NULL };
    struct error *error;

    (void) state;
    assert_non_null(out);
    error = manage_cell_list(NULL, out, 0, argv);
    assert_non_null(error);
    assert_string_equal(error_message(error), "No API database URL: set "
                        "'api_database.connection' in the configuration "
                        "file or give --set api_database.connection=URL");
    assert_false(manage_cell_error_is_usage(error));
    error_free(error);
    error = manage_cell_tree("", out, 0, argv);
    assert_non_null(error);
    error_free(error);
    assert_int_equal(ftell(out), 0);
    fclose(out);

    /* An API database one migration behind. */
    test_exec("DELETE FROM schema_version WHERE version = (SELECT v FROM "
              "(SELECT MAX(version) AS v FROM schema_version) AS latest)",
              DB_NO_PARAMS);
    {
        AUTOFREE char *expected = xasprintf(
            "The API database schema is at version %d, but these commands "
            "need version %d: run 'nova-manage api_db sync' first",
            db_schema_latest(DB_SCHEMA_API) - 1,
            db_schema_latest(DB_SCHEMA_API));

        EXPECT_ERROR(false, expected, "list");
    }
}

/* The command table nova-manage wires in. */
static void
test_command_table(void **state)
{
    static const char *const verbs[] = {
        "check", "load", "list", "show", "tree", "create", "update",
        "delete", "disable", "enable",
    };

    (void) state;
    assert_int_equal(manage_cell_n_commands, ARRAY_SIZE(verbs));
    for (size_t i = 0; i < ARRAY_SIZE(verbs); i++) {
        const struct manage_cell_command *c = &manage_cell_commands[i];

        assert_string_equal(c->category, "cell");
        assert_string_equal(c->verb, verbs[i]);
        assert_non_null(c->handler);
        assert_true(c->min_args <= c->max_args);
        assert_true(c->max_args <= MANAGE_CELL_MAX_ARGS);
        assert_true(strlen(c->help) > 0);
    }
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_command_table),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_check_and_load),
        cmocka_unit_test(test_list_and_tree),
        cmocka_unit_test(test_show),
        cmocka_unit_test(test_update),
        cmocka_unit_test(test_disable_enable),
        cmocka_unit_test(test_create),
        cmocka_unit_test(test_delete),
        cmocka_unit_test(test_reload),
        cmocka_unit_test(test_load_refused),
        cmocka_unit_test(test_no_database),
    };
    int rc;

    test_env_require(argc, argv, "mariadb");
    db_library_init();
    rc = cmocka_run_group_tests_name("cell-registry", tests, group_setup,
                                     group_teardown);
    db_library_end();
    return rc;
}
