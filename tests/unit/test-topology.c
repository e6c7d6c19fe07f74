/* test-topology.c: the cells.yaml loader (shared/topology.c): good files
 * with their paths and order, bad files each with the exact
 * "FILE:LINE:COLUMN: message", limits, the example of deploy/, and the
 * checks the command line shares. */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "shared/cleanup.h"
#include "shared/error.h"
#include "shared/json-util.h"
#include "shared/topology.h"
#include "shared/xalloc.h"

#ifndef TEST_TOPOLOGY_DATA_DIR
#define TEST_TOPOLOGY_DATA_DIR "tests/data/topology"
#endif
#ifndef TEST_TOPOLOGY_EXAMPLE
#define TEST_TOPOLOGY_EXAMPLE "deploy/cells.yaml.example"
#endif

/* Passwords used in the bad files: no message may contain one. */
static const char *const test_passwords[] = {
    "s3cret", "apipw", "eastpw", "leafpw",
};

/* ---- Helpers --------------------------------------------------------- */

static char *
test_data_path(const char *file)
{
    return xasprintf("%s/%s", TEST_TOPOLOGY_DATA_DIR, file);
}

static struct topology *
test_load_good(const char *path)
{
    struct topology *topology = NULL;
    struct error *error = topology_load_file(path, &topology);

    if (error) {
        fail_msg("%s: %s", path, error_message(error));
    }
    assert_non_null(topology);
    return topology;
}

static void
test_assert_no_password(const char *message)
{
    for (size_t i = 0; i < ARRAY_SIZE(test_passwords); i++) {
        if (strstr(message, test_passwords[i])) {
            fail_msg("message shows password '%s': %s", test_passwords[i],
                     message);
        }
    }
}

static void
test_assert_error(struct error *error, const char *expected)
{
    if (!error) {
        fail_msg("no error, expected '%s'", expected);
    }
    if (strcmp(error_message(error), expected)) {
        fail_msg("got      '%s'\nexpected '%s'", error_message(error),
                 expected);
    }
    assert_int_equal(error_kind(error), ERROR_INVALID);
    test_assert_no_password(error_message(error));
    error_free(error);
}

/* ---- Good files ------------------------------------------------------ */

static void
test_good_files(void **state)
{
    static const struct {
        const char *file;       /* NULL: the deploy example */
        const char *paths[8];   /* in the expected order */
        const char *hosts;      /* per cell: 'y' has hosts */
    } cases[] = {
        { "good-minimal.yaml", { "api" }, "n" },
        { "good-regions.yaml",
          { "api", "api!east", "api!east!east-1", "api!east!east-2",
            "api!west", "api!west!west-1" }, "nyyyny" },
        { NULL,
          { "api", "api!east", "api!east!east-1", "api!east!east-2",
            "api!west", "api!west!west-1" }, "nnyyny" },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        AUTOFREE char *path = (cases[i].file
                               ? test_data_path(cases[i].file)
                               : xstrdup(TEST_TOPOLOGY_EXAMPLE));
        CLEANUP(topology_freep) struct topology *topology
            = test_load_good(path);
        size_t n = 0;

        while (n < ARRAY_SIZE(cases[i].paths) && cases[i].paths[n]) {
            n++;
        }
        assert_int_equal(topology->n_cells, n);
        assert_string_equal(topology->source, path);
        assert_ptr_equal(topology_root(topology), topology->cells[0]);
        for (size_t c = 0; c < n; c++) {
            const struct topology_cell *cell = topology->cells[c];

            assert_string_equal(cell->path, cases[i].paths[c]);
            assert_int_equal(cell->hosts, cases[i].hosts[c] == 'y');
            assert_ptr_equal(topology_find_path(topology, cell->path),
                             cell);
            assert_ptr_equal(topology_find_name(topology, cell->name),
                             cell);
            /* Parents come first and know their children. */
            if (c == 0) {
                assert_null(cell->parent);
                assert_null(cell->parent_path);
                assert_int_equal(cell->depth, 1);
                continue;
            }
            assert_non_null(cell->parent);
            assert_string_equal(cell->parent_path, cell->parent->path);
            assert_int_equal(cell->depth, cell->parent->depth + 1);
            bool found = false;

            for (size_t p = 0; p < c; p++) {
                found = found || topology->cells[p] == cell->parent;
            }
            assert_true(found);
            found = false;
            for (size_t k = 0; k < cell->parent->n_children; k++) {
                found = found || cell->parent->children[k] == cell;
            }
            assert_true(found);
        }
        assert_null(topology_find_name(topology, "nowhere"));
        assert_null(topology_find_path(topology, "api!nowhere"));
    }
}

/* Every field of good-regions.yaml. */
static void
test_good_fields(void **state)
{
    AUTOFREE char *path = test_data_path("good-regions.yaml");
    CLEANUP(topology_freep) struct topology *topology = test_load_good(path);
    const struct topology_cell *api = topology_find_name(topology, "api");
    const struct topology_cell *east = topology_find_name(topology, "east");
    const struct topology_cell *east1 = topology_find_name(topology,
                                                           "east-1");
    const struct topology_cell *east2 = topology_find_name(topology,
                                                           "east-2");
    const struct topology_cell *west = topology_find_name(topology, "west");
    const struct topology_cell *west1 = topology_find_name(topology,
                                                           "west-1");
    const struct topology_capability *cap;
    CLEANUP(json_putp) struct json_object *zones = NULL;
    CLEANUP(json_putp) struct json_object *caps = NULL;
    AUTOFREE char *zones_text = NULL;
    AUTOFREE char *caps_text = NULL;

    (void) state;
    /* Defaults and given values. */
    assert_null(api->database);
    assert_false(api->hosts);
    assert_false(api->disabled_given);
    assert_true(api->weight_offset == 0.0);
    assert_true(api->weight_scale == 1.0);
    assert_int_equal(api->line, 28);
    assert_true(east->hosts);
    assert_non_null(east->database);
    assert_true(east->weight_offset == 10.0);
    assert_true(east2->weight_offset == -2.5);
    assert_true(east2->weight_scale == 0.5);
    assert_false(west->hosts);
    assert_null(west->database);
    assert_true(west->disabled_given);
    assert_false(west->disabled);
    assert_true(west1->disabled_given);
    assert_true(west1->disabled);
    assert_false(east1->disabled_given);
    assert_string_equal(west->transport_url,
                        "rabbit://west:westpw@127.0.0.1:5672,"
                        "west:westpw@127.0.0.2:5672/west");
    assert_string_equal(east1->database,
                        "mysql://east1:east1pw@127.0.0.1:3306/nova_east1");

    /* Children in name order whatever the file's order. */
    assert_int_equal(api->n_children, 2);
    assert_ptr_equal(api->children[0], east);
    assert_ptr_equal(api->children[1], west);
    assert_int_equal(east->n_children, 2);
    assert_ptr_equal(east->children[0], east1);
    assert_ptr_equal(east->children[1], east2);
    assert_int_equal(east1->n_children, 0);

    /* Zones in file order, capabilities sorted by name. */
    assert_int_equal(east1->n_availability_zones, 2);
    assert_string_equal(east1->availability_zones[0], "az-east-a");
    assert_string_equal(east1->availability_zones[1], "az-east-b");
    assert_int_equal(east1->n_capabilities, 3);
    assert_string_equal(east1->capabilities[0].name, "architecture");
    assert_string_equal(east1->capabilities[1].name, "cpu_features");
    assert_string_equal(east1->capabilities[2].name, "hypervisor_type");
    cap = topology_cell_find_capability(east1, "architecture");
    assert_non_null(cap);
    assert_false(cap->is_list);
    assert_int_equal(cap->n_values, 1);
    assert_string_equal(cap->values[0], "x86_64");
    cap = topology_cell_find_capability(east1, "cpu_features");
    assert_true(cap->is_list);
    assert_int_equal(cap->n_values, 1);
    cap = topology_cell_find_capability(east1, "hypervisor_type");
    assert_true(cap->is_list);
    assert_int_equal(cap->n_values, 2);
    assert_string_equal(cap->values[1], "test");
    assert_null(topology_cell_find_capability(east1, "missing"));

    /* The forms the API database stores. */
    zones = topology_cell_zones_to_json(east1);
    caps = topology_cell_capabilities_to_json(east1);
    zones_text = json_to_string_plain(zones);
    caps_text = json_to_string_plain(caps);
    assert_string_equal(zones_text, "[\"az-east-a\",\"az-east-b\"]");
    assert_string_equal(caps_text,
                        "{\"architecture\":\"x86_64\","
                        "\"cpu_features\":[\"avx2\"],"
                        "\"hypervisor_type\":[\"qemu\",\"test\"]}");
    json_object_put(zones);
    zones = topology_cell_zones_to_json(api);
    free(zones_text);
    zones_text = json_to_string_plain(zones);
    assert_string_equal(zones_text, "[]");
}

/* ---- Bad files ------------------------------------------------------- */

static void
test_bad_files(void **state)
{
    static const struct {
        const char *file;
        const char *message;    /* after "DIR/FILE:" */
    } cases[] = {
        { "bad-syntax.yaml",
          "5:18: YAML syntax error: did not find expected ',' or ']'" },
        { "bad-alias.yaml", "5:5: YAML aliases are not supported" },
        { "bad-top-sequence.yaml",
          "2:3: the topology must be a mapping, got a sequence" },
        { "bad-top-key.yaml", "4:1: unknown key 'version'" },
        { "bad-cells-null.yaml",
          "2:7: 'cells' must be a sequence, got null" },
        { "bad-cells-empty.yaml",
          "1:8: 'cells' is empty: it must list at least the API cell" },
        { "bad-cell-scalar.yaml",
          "4:5: cell #2 must be a mapping, got a scalar" },
        { "bad-unknown-key.yaml",
          "8:5: cell 'east': unknown key 'weigth_offset'" },
        { "bad-duplicate-key.yaml",
          "6:5: cell 'east': duplicate key 'parent'" },
        { "bad-no-name.yaml", "4:5: cell #2 has no 'name'" },
        { "bad-name-chars.yaml",
          "4:11: cell #2: invalid cell name 'east 1': only letters, "
          "digits, '_', '.' and '-' are allowed" },
        { "bad-name-long.yaml",
          "4:11: cell #2: invalid cell name 'eeeeeeeeeeeeeeeeeeeeeeeeeeeee"
          "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee': longer than 63 "
          "characters" },
        { "bad-name-type.yaml",
          "4:11: cell #2: 'name' must be a string, got a sequence" },
        { "bad-weight.yaml",
          "8:20: cell 'east': 'weight_offset' must be a number, got "
          "'heavy'" },
        { "bad-weight-nan.yaml",
          "8:19: cell 'east': 'weight_scale' must be a number, got '.nan'" },
        { "bad-disabled.yaml",
          "8:15: cell 'east': 'disabled' must be a boolean (true/false, "
          "yes/no, on/off), got 'maybe'" },
        { "bad-zones-scalar.yaml",
          "8:25: cell 'east': 'availability_zones' must be a sequence, got "
          "a scalar" },
        { "bad-zones-duplicate.yaml",
          "8:36: cell 'east': duplicate availability zone 'az1'" },
        { "bad-capability-mapping.yaml",
          "10:24: cell 'east': capability 'hypervisor_type' must be a "
          "string or a sequence of strings, got a mapping" },
        { "bad-capability-empty.yaml",
          "9:24: cell 'east': capability 'hypervisor_type' has no values" },
        { "bad-capabilities-list.yaml",
          "8:19: cell 'east': 'capabilities' must be a mapping, got a "
          "sequence" },
        { "bad-duplicate-name.yaml",
          "9:11: duplicate cell name 'East' (first defined at line 5)" },
        { "bad-two-roots.yaml",
          "4:5: cell 'top' has no 'parent', but cell 'api' (line 2) is "
          "already the root; only the API cell may omit 'parent'" },
        { "bad-unknown-parent.yaml",
          "9:13: cell 'east-1': unknown parent 'esat'" },
        { "bad-no-root.yaml",
          "2:3: no root cell: every cell has a 'parent', but the API cell "
          "must have none" },
        { "bad-cycle.yaml",
          "5:13: cell 'x': its parents form a cycle (x -> z -> y -> x), so "
          "it is not below the API cell" },
        { "bad-self-parent.yaml", "5:13: cell 'east' is its own parent" },
        { "bad-no-transport.yaml",
          "4:5: cell 'east' has no 'transport_url'" },
        { "bad-transport-scheme.yaml",
          "6:20: cell 'east': Invalid transport URL: the scheme must be "
          "'rabbit://'" },
        { "bad-transport-port.yaml",
          "6:20: cell 'east': Invalid transport URL: bad port in host entry "
          "1 (expected 1 to 65535)" },
        { "bad-database-port.yaml",
          "7:15: cell 'east': Invalid database URL "
          "'mysql://nova:***@127.0.0.1:99999/nova_east': port '99999' is out "
          "of range 1-65535" },
        { "bad-database-no-db.yaml",
          "7:15: cell 'east': Invalid database URL "
          "'mysql://nova:***@127.0.0.1:3306/': it names no database" },
        { "bad-leaf-no-database.yaml",
          "4:5: cell 'east' is a leaf (it has no children) and has no "
          "'database'" },
        { "bad-hosts-no-database.yaml",
          "7:12: cell 'east' has 'hosts: true' but no 'database'" },
        { "bad-leaf-no-hosts.yaml",
          "8:12: cell 'east' has no children, so it must have hosts; "
          "'hosts: false' is for cells with children" },
        { "bad-root-hosts.yaml",
          "4:12: the API cell 'api' cannot have hosts" },
        { "bad-depth.yaml",
          "27:13: cell 'l8' would be at depth 9; cells may be at most 8 "
          "levels deep (the API cell is level 1)" },
        { "bad-path-long.yaml",
          "14:11: cell 'eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
          "eeeeeeeeeee': its path is longer than 255 characters" },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        AUTOFREE char *path = test_data_path(cases[i].file);
        AUTOFREE char *expected = xasprintf("%s:%s", path,
                                            cases[i].message);
        struct topology *topology = NULL;

        test_assert_error(topology_load_file(path, &topology), expected);
        assert_null(topology);
    }
}

/* Bad texts that are easier to build than to store, and the limits. */
static void
test_bad_strings(void **state)
{
    static const struct {
        const char *yaml;
        const char *message;    /* after "inline.yaml:" */
    } cases[] = {
        { "", "1:1: the topology is empty: it must have 'cells'" },
        { "# nothing\n", "1:1: the topology is empty: it must have 'cells'" },
        { "cells: []\n---\ncells: []\n",
          "2:1: only one YAML document is allowed" },
        { "{[a]: b}\n", "1:2: mapping keys must be scalars, got a sequence" },
        { "cells: [[[[[[[[x]]]]]]]]\n", "1:15: nesting deeper than 8 levels" },
        { "cells:\n  - name: api\n    transport_url: \"rabbit://h/\\0\"\n",
          "3:20: value contains a NUL character" },
        { "cells: x\ncells: y\n", "2:1: duplicate key 'cells'" },
        { "{}\n", "1:1: the topology has no 'cells'" },
        { "cells:\n  - name: api\n    transport_url: rabbit://h/\n"
          "    parent: ''\n",
          "4:13: cell 'api': 'parent': invalid cell name '': it is empty" },
        { "cells:\n  - name: api\n    transport_url: rabbit://h/\n"
          "    capabilities: {'bad key': x}\n",
          "4:20: cell 'api': invalid capability name 'bad key': only "
          "letters, digits, '_', '.', ':' and '-' are allowed" },
        { "cells:\n  - name: api\n    transport_url: rabbit://h/\n"
          "    availability_zones: ['a,b']\n",
          "4:26: cell 'api': availability zone 'a,b' contains a control "
          "character or ','" },
        { "cells:\n  - name: api\n    transport_url: rabbit://h/\n"
          "    weight_offset: 0x10\n",
          "4:20: cell 'api': 'weight_offset' must be a number, got '0x10'" },
        { "cells:\n  - name: api\n    transport_url: rabbit://h/\n"
          "    weight_offset: 1e999\n",
          "4:20: cell 'api': 'weight_offset' must be a number, got "
          "'1e999'" },
        { "cells:\n  - name: api\n    transport_url: ~\n",
          "3:20: cell 'api' has no 'transport_url'" },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        AUTOFREE char *expected = xasprintf("inline.yaml:%s",
                                            cases[i].message);
        struct topology *topology = NULL;

        test_assert_error(topology_load_string("inline.yaml",
                                               cases[i].yaml, &topology),
                          expected);
        assert_null(topology);
    }
}

/* Appends 'n' leaves under the root "api" to a new topology text. */
static char *
test_many_cells(size_t n)
{
    AUTOFREE char *text = xstrdup("cells:\n  - {name: api, transport_url: "
                                  "'rabbit://h/'}\n");

    for (size_t i = 0; i < n; i++) {
        char *longer = xasprintf("%s  - {name: c%zu, parent: api, "
                                 "transport_url: 'rabbit://h/', "
                                 "database: 'mysql://u@h/d'}\n", text, i);

        free(text);
        text = longer;
    }
    return TAKE_PTR(text);
}

static void
test_limits(void **state)
{
    struct topology *topology = NULL;
    AUTOFREE char *fits = test_many_cells(TOPOLOGY_MAX_CELLS - 1);
    AUTOFREE char *too_many = test_many_cells(TOPOLOGY_MAX_CELLS);
    AUTOFREE char *expected = xasprintf("inline.yaml:%d:5: more than %d "
                                        "cells", TOPOLOGY_MAX_CELLS + 2,
                                        TOPOLOGY_MAX_CELLS);
    AUTOFREE char *huge = xmalloc(TOPOLOGY_MAX_FILE_SIZE + 2);
    AUTOFREE char *long_value = NULL;
    struct error *error;

    (void) state;
    error = topology_load_string("inline.yaml", fits, &topology);
    assert_null(error);
    assert_int_equal(topology->n_cells, TOPOLOGY_MAX_CELLS);
    /* Siblings sort by name: "c10" before "c2". */
    assert_string_equal(topology->cells[1]->path, "api!c0");
    assert_string_equal(topology->cells[2]->path, "api!c1");
    assert_string_equal(topology->cells[3]->path, "api!c10");
    topology_free(topology);
    topology = NULL;

    test_assert_error(topology_load_string("inline.yaml", too_many,
                                           &topology), expected);

    memset(huge, '#', TOPOLOGY_MAX_FILE_SIZE + 1);
    huge[TOPOLOGY_MAX_FILE_SIZE + 1] = '\0';
    test_assert_error(topology_load_string("inline.yaml", huge, &topology),
                      "Topology 'inline.yaml' is larger than 1048576 bytes");

    long_value = xmalloc(TOPOLOGY_MAX_SCALAR_SIZE + 64);
    memcpy(long_value, "cells: ", 7);
    memset(long_value + 7, 'x', TOPOLOGY_MAX_SCALAR_SIZE + 1);
    long_value[7 + TOPOLOGY_MAX_SCALAR_SIZE + 1] = '\0';
    test_assert_error(topology_load_string("inline.yaml", long_value,
                                           &topology),
                      "inline.yaml:1:8: value longer than 4096 bytes");
    assert_null(topology);
}

static void
test_missing_file(void **state)
{
    struct topology *topology = NULL;

    (void) state;
    test_assert_error(topology_load_file(TEST_TOPOLOGY_DATA_DIR "/none.yaml",
                                         &topology),
                      "Cannot open topology file '" TEST_TOPOLOGY_DATA_DIR
                      "/none.yaml': No such file or directory");
    topology_free(NULL);
}

/* ---- Shared checks --------------------------------------------------- */

static void
test_checks(void **state)
{
    enum check { NAME, TRANSPORT, DATABASE, ZONE, CAP_NAME, CAP_VALUE };
    static const struct {
        enum check check;
        const char *value;
        const char *message;    /* NULL: accepted */
    } cases[] = {
        { NAME, "east-1", NULL },
        { NAME, "A.b_c-9", NULL },
        { NAME, "", "invalid cell name '': it is empty" },
        { NAME, "api!east", "invalid cell name 'api!east': only letters, "
          "digits, '_', '.' and '-' are allowed" },
        { TRANSPORT, "rabbit://u:p@h:5672/v", NULL },
        { TRANSPORT, "rabbit://u:p@h1,u:p@h2/v", NULL },
        { TRANSPORT, "", "Invalid transport URL: empty" },
        { TRANSPORT, "rabbit://u:s3cret@h:0/v",
          "Invalid transport URL: bad port in host entry 1 (expected 1 to "
          "65535)" },
        { DATABASE, "mysql://u:p@h/db", NULL },
        { DATABASE, "mysql+pymysql://u:p@h:3307/db?charset=utf8mb4", NULL },
        { DATABASE, "mysql://u:s3cret@h",
          "Invalid database URL 'mysql://u:***@h': it names no database" },
        { DATABASE, "postgres://u:s3cret@h/db",
          "Invalid database URL 'postgres://u:***@h/db': unknown scheme "
          "'postgres' (expected 'mysql' or 'mysql+pymysql')" },
        { ZONE, "nova", NULL },
        { ZONE, "zone one", NULL },
        { ZONE, "", "availability zone must not be empty" },
        { ZONE, "a\tb", "availability zone 'a\tb' contains a control "
          "character or ','" },
        { CAP_NAME, "hw:cpu_model", NULL },
        { CAP_NAME, "", "capability name must not be empty" },
        { CAP_NAME, "a=b", "invalid capability name 'a=b': only letters, "
          "digits, '_', '.', ':' and '-' are allowed" },
        { CAP_VALUE, "x86_64", NULL },
        { CAP_VALUE, "", "value of capability 'arch' must not be empty" },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        const char *value = cases[i].value;
        struct error *error = NULL;

        switch (cases[i].check) {
        case NAME:
            error = topology_check_name(value);
            break;
        case TRANSPORT:
            error = topology_check_transport_url(value);
            break;
        case DATABASE:
            error = topology_check_database_url(value);
            break;
        case ZONE:
            error = topology_check_zone(value);
            break;
        case CAP_NAME:
            error = topology_check_capability_name(value);
            break;
        case CAP_VALUE:
            error = topology_check_capability_value("arch", value);
            break;
        }
        if (!cases[i].message) {
            if (error) {
                fail_msg("'%s' refused: %s", value, error_message(error));
            }
            continue;
        }
        test_assert_error(error, cases[i].message);
    }
}

static void
test_parse_number(void **state)
{
    static const struct {
        const char *text;
        bool ok;
        double value;
    } cases[] = {
        { "0", true, 0.0 },
        { "-2.5", true, -2.5 },
        { "+10", true, 10.0 },
        { ".5", true, 0.5 },
        { "1e3", true, 1000.0 },
        { "", false, 0 },
        { " 1", false, 0 },
        { "1 ", false, 0 },
        { "nan", false, 0 },
        { "inf", false, 0 },
        { "0x1p3", false, 0 },
        { "1e999", false, 0 },
        { "five", false, 0 },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        double value = -1.0;
        struct error *error = topology_parse_number("w", cases[i].text,
                                                    &value);

        if (cases[i].ok) {
            assert_null(error);
            assert_true(value == cases[i].value);
        } else {
            AUTOFREE char *expected = xasprintf("'w' must be a number, got "
                                                "'%s'", cases[i].text);

            test_assert_error(error, expected);
            assert_true(value == -1.0);
        }
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_files),
        cmocka_unit_test(test_good_fields),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_bad_strings),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_checks),
        cmocka_unit_test(test_parse_number),
    };

    return cmocka_run_group_tests_name("topology", tests, NULL, NULL);
}
