/* test-cell-capacity.c: capacity reports.  A leaf's report from its hosts
 * (units counted per host, the reserve, unusable and overcommitted hosts,
 * capabilities and zones) with failure rows; aggregation up the tree
 * (sums, unions, estimates for sizes a child does not list, saturation);
 * unit lookups; capability limits; and the JSON form: a golden encoding,
 * round trips and a table of malformed documents. */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "cells-rpc/cell-capacity.h"
#include "shared/cleanup.h"
#include "shared/compiler.h"
#include "shared/error.h"
#include "shared/json-util.h"
#include "shared/xalloc.h"

#define TEST_MAX_HOSTS 4
#define TEST_MAX_FLAVORS 4
#define TEST_NOW INT64_C(1700000000000)

/* Flavor sizes used across the tables. */
#define TINY { 1, 512, 1 }
#define SMALL { 2, 2048, 20 }
#define LARGE { 4, 4096, 0 }          /* volume-backed */

static struct json_object *
parse(const char *text)
{
    struct json_object *doc = NULL;
    struct error *error = json_parse_text(text, strlen(text), 0, 0, &doc);

    if (error) {
        fail_msg("cannot parse test JSON: %s", error_message(error));
    }
    return doc;
}

/* A host: free and total RAM (MiB), disk (GiB), vCPUs. */
#define HOST(FR, FD, FV, TR, TD, TV)                    \
    .free = { FR, FD, FV }, .total = { TR, TD, TV }

struct build_case {
    const char *what;
    struct cell_capacity_host hosts[TEST_MAX_HOSTS];
    size_t n_hosts;
    struct cell_capacity_flavor flavors[TEST_MAX_FLAVORS];
    size_t n_flavors;
    double reserve_percent;
    /* Expected report, or the start of the error message. */
    struct cell_capacity_amounts free;
    struct cell_capacity_amounts total;
    int64_t n_instances;
    int64_t units[TEST_MAX_FLAVORS];    /* In the order of 'flavors'. */
    const char *error;
};

static const struct build_case build_cases[] = {
    { "one host, units per flavor is the tightest dimension",
      { { HOST(4096, 100, 8, 8192, 200, 16), .usable = true,
          .n_instances = 3 } }, 1,
      { TINY, SMALL, LARGE }, 3, 0.0,
      { 4096, 100, 8 }, { 8192, 200, 16 }, 3, { 8, 2, 1 }, NULL },
    { "units are summed per host, not computed from the sums",
      { { HOST(3072, 100, 8, 8192, 200, 8), .usable = true },
        { HOST(3072, 100, 8, 8192, 200, 8), .usable = true } }, 2,
      { LARGE }, 1, 0.0,
      { 6144, 200, 16 }, { 16384, 400, 16 }, 0, { 0 }, NULL },
    { "disk limits, vCPUs limit",
      { { HOST(65536, 30, 64, 65536, 30, 64), .usable = true },
        { HOST(65536, 1000, 3, 65536, 1000, 3), .usable = true } }, 2,
      { SMALL }, 1, 0.0,
      { 131072, 1030, 67 }, { 131072, 1030, 67 }, 0, { 1 + 1 }, NULL },
    { "a volume-backed flavor ignores disk",
      { { HOST(8192, 0, 8, 8192, 10, 8), .usable = true } }, 1,
      { LARGE, SMALL }, 2, 0.0,
      { 8192, 0, 8 }, { 8192, 10, 8 }, 0, { 2, 0 }, NULL },
    { "an unusable host counts in totals only",
      { { HOST(4096, 100, 8, 4096, 100, 8), .usable = false,
          .n_instances = 2 },
        { HOST(1024, 10, 2, 4096, 100, 8), .usable = true,
          .n_instances = 5 } }, 2,
      { TINY }, 1, 0.0,
      { 1024, 10, 2 }, { 8192, 200, 16 }, 7, { 2 }, NULL },
    { "an overcommitted host adds nothing free",
      { { HOST(-2048, -5, -4, 4096, 100, 8), .usable = true },
        { HOST(1024, 10, 2, 4096, 100, 8), .usable = true } }, 2,
      { TINY }, 1, 0.0,
      { 1024, 10, 2 }, { 8192, 200, 16 }, 0, { 2 }, NULL },
    { "10% reserve of RAM and disk, not vCPUs",
      { { HOST(10240, 100, 100, 10240, 100, 100), .usable = true } }, 1,
      { { 1, 1024, 1 }, { 1, 1, 10 } }, 2, 10.0,
      { 10240, 100, 100 }, { 10240, 100, 100 }, 0, { 9, 9 }, NULL },
    { "the reserve is rounded up",
      { { HOST(1024, 100, 2000, 1001, 100, 2000), .usable = true } }, 1,
      { { 1, 1, 0 } }, 1, 10.0,
      { 1024, 100, 2000 }, { 1001, 100, 2000 }, 0, { 1024 - 101 }, NULL },
    { "a host within its reserve offers nothing",
      { { HOST(512, 100, 100, 10240, 100, 100), .usable = true } }, 1,
      { TINY }, 1, 10.0,
      { 512, 100, 100 }, { 10240, 100, 100 }, 0, { 0 }, NULL },
    { "duplicate sizes count once",
      { { HOST(4096, 100, 8, 8192, 200, 16), .usable = true } }, 1,
      { TINY, TINY }, 2, 0.0,
      { 4096, 100, 8 }, { 8192, 200, 16 }, 0, { 8, 8 }, NULL },
    { "no hosts, no flavors", { { HOST(0, 0, 0, 0, 0, 0) } }, 0,
      { TINY }, 0, 0.0, { 0, 0, 0 }, { 0, 0, 0 }, 0, { 0 }, NULL },
    { "reserve over 100%", { { HOST(0, 0, 0, 0, 0, 0) } }, 0,
      { TINY }, 1, 100.5, { 0 }, { 0 }, 0, { 0 },
      "Reserve percent 100.5 is outside 0..100" },
    { "negative reserve", { { HOST(0, 0, 0, 0, 0, 0) } }, 0,
      { TINY }, 1, -1.0, { 0 }, { 0 }, 0, { 0 },
      "Reserve percent -1 is outside 0..100" },
    { "flavor of 0 vCPUs", { { HOST(0, 0, 0, 0, 0, 0) } }, 0,
      { TINY, { 0, 512, 1 } }, 2, 0.0, { 0 }, { 0 }, 0, { 0 },
      "Flavor 1: vcpus 0 is outside 1..2147483647" },
    { "flavor of 0 MiB", { { HOST(0, 0, 0, 0, 0, 0) } }, 0,
      { { 1, 0, 1 } }, 1, 0.0, { 0 }, { 0 }, 0, { 0 },
      "Flavor 0: ram_mb 0 is outside 1..2147483647" },
    { "flavor of negative disk", { { HOST(0, 0, 0, 0, 0, 0) } }, 0,
      { { 1, 1, -1 } }, 1, 0.0, { 0 }, { 0 }, 0, { 0 },
      "Flavor 0: disk_gb -1 is outside 0..2147483647" },
    { "host with a negative total",
      { { HOST(0, 0, 0, 0, 0, 0), .usable = true },
        { HOST(0, 0, 0, 4096, -1, 8), .usable = true } }, 2,
      { TINY }, 1, 0.0, { 0 }, { 0 }, 0, { 0 },
      "Host 1 reports a negative total or instance count" },
    { "host with a negative instance count",
      { { HOST(0, 0, 0, 0, 0, 0), .n_instances = -1 } }, 1,
      { TINY }, 1, 0.0, { 0 }, { 0 }, 0, { 0 },
      "Host 0 reports a negative total or instance count" },
};

static void
assert_amounts(const struct cell_capacity_amounts *have,
               const struct cell_capacity_amounts *want)
{
    assert_int_equal(have->ram_mb, want->ram_mb);
    assert_int_equal(have->disk_gb, want->disk_gb);
    assert_int_equal(have->vcpus, want->vcpus);
}

static void
test_build(void **state)
{
    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(build_cases); i++) {
        const struct build_case *c = &build_cases[i];
        CLEANUP(cell_capacity_freep) struct cell_capacity *cap = NULL;
        CLEANUP(error_freep) struct error *error = NULL;

        print_message("# %s\n", c->what);
        error = cell_capacity_build(c->hosts, c->n_hosts, c->flavors,
                                    c->n_flavors, c->reserve_percent,
                                    TEST_NOW, &cap);
        if (c->error) {
            assert_non_null(error);
            assert_null(cap);
            assert_int_equal(error_kind(error), ERROR_INVALID);
            assert_string_equal(error_message(error), c->error);
            continue;
        }
        assert_null(error);
        assert_int_equal(cap->reported_at_ms, TEST_NOW);
        assert_amounts(&cap->free, &c->free);
        assert_amounts(&cap->total, &c->total);
        assert_int_equal(cap->n_instances, c->n_instances);
        for (size_t f = 0; f < c->n_flavors; f++) {
            bool estimated = true;

            assert_int_equal(cell_capacity_units(cap, &c->flavors[f],
                                                 &estimated),
                             c->units[f]);
            assert_false(estimated);
        }
    }
}

/* Units are listed in size order, whatever the order of the flavors. */
static void
test_build_sorts_sizes(void **state)
{
    static const struct cell_capacity_host host = {
        HOST(8192, 100, 8, 8192, 100, 8), .usable = true,
    };
    static const struct cell_capacity_flavor flavors[] = {
        LARGE, TINY, SMALL, { 1, 512, 0 },
    };
    CLEANUP(cell_capacity_freep) struct cell_capacity *cap = NULL;

    (void) state;
    assert_null(cell_capacity_build(&host, 1, flavors, ARRAY_SIZE(flavors),
                                    0.0, TEST_NOW, &cap));
    assert_int_equal(cap->n_units, 4);
    assert_int_equal(cap->units[0].flavor.ram_mb, 512);
    assert_int_equal(cap->units[0].flavor.disk_gb, 0);
    assert_int_equal(cap->units[1].flavor.ram_mb, 512);
    assert_int_equal(cap->units[1].flavor.disk_gb, 1);
    assert_int_equal(cap->units[2].flavor.ram_mb, 2048);
    assert_int_equal(cap->units[3].flavor.ram_mb, 4096);
}

/* Capabilities and zones come from usable hosts only. */
static void
test_build_capabilities(void **state)
{
    static const struct cell_capacity_host hosts[] = {
        { HOST(1024, 10, 2, 1024, 10, 2), .usable = true,
          .hypervisor_type = "QEMU", .architecture = "x86_64",
          .availability_zone = "az1" },
        { HOST(1024, 10, 2, 1024, 10, 2), .usable = true,
          .hypervisor_type = "test", .architecture = "x86_64" },
        { HOST(1024, 10, 2, 1024, 10, 2), .usable = true,
          .hypervisor_type = "", .architecture = NULL,
          .availability_zone = "" },
        { HOST(1024, 10, 2, 1024, 10, 2), .usable = false,
          .hypervisor_type = "xen", .architecture = "aarch64",
          .availability_zone = "az9" },
    };
    CLEANUP(cell_capacity_freep) struct cell_capacity *cap = NULL;
    const struct cell_capacity_capability *hv;

    (void) state;
    assert_null(cell_capacity_build(hosts, ARRAY_SIZE(hosts), NULL, 0, 0.0,
                                    TEST_NOW, &cap));
    assert_int_equal(cap->n_capabilities, 2);
    hv = cell_capacity_find_capability(cap, CELL_CAPACITY_HYPERVISOR_TYPE);
    assert_non_null(hv);
    assert_int_equal(hv->n_values, 2);
    assert_string_equal(hv->values[0], "QEMU");
    assert_string_equal(hv->values[1], "test");
    assert_true(cell_capacity_has_capability(cap, "hypervisor_type",
                                             "qemu"));
    assert_false(cell_capacity_has_capability(cap, "hypervisor_type",
                                              "xen"));
    assert_true(cell_capacity_has_capability(cap, "architecture",
                                             "X86_64"));
    assert_false(cell_capacity_has_capability(cap, "architecture",
                                              "aarch64"));
    assert_false(cell_capacity_has_capability(cap, "os", "linux"));
    assert_null(cell_capacity_find_capability(cap, "os"));

    assert_int_equal(cap->n_zones, 2);
    assert_string_equal(cap->zones[0], "az1");
    assert_string_equal(cap->zones[1], CELL_CAPACITY_DEFAULT_ZONE);
    assert_true(cell_capacity_has_zone(cap, "az1"));
    assert_false(cell_capacity_has_zone(cap, "AZ1"));
    assert_false(cell_capacity_has_zone(cap, "az9"));
}

/* A size the report lists is looked up; another is estimated from the
 * free totals. */
static void
test_units_lookup(void **state)
{
    static const struct cell_capacity_host hosts[] = {
        { HOST(3072, 100, 8, 4096, 100, 8), .usable = true },
        { HOST(3072, 100, 8, 4096, 100, 8), .usable = true },
    };
    static const struct cell_capacity_flavor listed = { 1, 4096, 1 };
    static const struct {
        struct cell_capacity_flavor flavor;
        int64_t units;
        bool estimated;
    } cases[] = {
        { { 1, 4096, 1 }, 0, false },     /* 3 GiB free on each host */
        { { 1, 2048, 1 }, 3, true },      /* 6144 / 2048 */
        { { 1, 4096, 1000 }, 0, true },   /* disk */
        { { 32, 1, 0 }, 0, true },        /* vCPUs */
        { { 8, 1, 0 }, 2, true },
    };
    CLEANUP(cell_capacity_freep) struct cell_capacity *cap = NULL;

    (void) state;
    assert_null(cell_capacity_build(hosts, ARRAY_SIZE(hosts), &listed, 1,
                                    0.0, TEST_NOW, &cap));
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        bool estimated;

        assert_int_equal(cell_capacity_units(cap, &cases[i].flavor,
                                             &estimated), cases[i].units);
        assert_int_equal(estimated, cases[i].estimated);
        assert_int_equal(cell_capacity_units(cap, &cases[i].flavor, NULL),
                         cases[i].units);
    }
}

/* Builds the report of a leaf with one usable host. */
static struct cell_capacity *
leaf(int64_t free_ram_mb, const char *hv, const char *zone,
     const struct cell_capacity_flavor *flavors, size_t n_flavors)
{
    const struct cell_capacity_host host = {
        HOST(free_ram_mb, 1000, 1000, 65536, 1000, 1000), .usable = true,
        .n_instances = 1, .hypervisor_type = hv, .architecture = "x86_64",
        .availability_zone = zone,
    };
    struct cell_capacity *cap = NULL;

    assert_null(cell_capacity_build(&host, 1, flavors, n_flavors, 0.0,
                                    TEST_NOW, &cap));
    return cap;
}

static void
test_aggregate(void **state)
{
    static const struct cell_capacity_flavor both[] = { TINY, SMALL };
    static const struct cell_capacity_flavor tiny_only[] = { TINY };
    static const struct cell_capacity_flavor small = SMALL;
    static const struct cell_capacity_flavor tiny = TINY;
    CLEANUP(cell_capacity_freep) struct cell_capacity *a =
        leaf(8192, "QEMU", "az1", both, 2);
    CLEANUP(cell_capacity_freep) struct cell_capacity *b =
        leaf(4096, "test", NULL, tiny_only, 1);
    CLEANUP(cell_capacity_freep) struct cell_capacity *sum = NULL;
    CLEANUP(cell_capacity_freep) struct cell_capacity *none = NULL;
    const struct cell_capacity *children[] = { a, b };
    const struct cell_capacity_capability *hv;
    bool estimated;

    (void) state;
    assert_null(cell_capacity_add_capability(a, "os", "linux"));
    assert_null(cell_capacity_aggregate(children, 2, TEST_NOW + 5, &sum));
    assert_int_equal(sum->reported_at_ms, TEST_NOW + 5);
    assert_int_equal(sum->free.ram_mb, 8192 + 4096);
    assert_int_equal(sum->free.disk_gb, 2000);
    assert_int_equal(sum->total.vcpus, 2000);
    assert_int_equal(sum->n_instances, 2);

    /* Listed by both: 16 + 8.  Listed by 'a' only: 4 + b's estimate
     * (4096 / 2048 = 2). */
    assert_int_equal(sum->n_units, 2);
    assert_int_equal(cell_capacity_units(sum, &tiny, &estimated), 16 + 8);
    assert_false(estimated);
    assert_int_equal(cell_capacity_units(sum, &small, &estimated), 4 + 2);
    assert_false(estimated);

    hv = cell_capacity_find_capability(sum, CELL_CAPACITY_HYPERVISOR_TYPE);
    assert_non_null(hv);
    assert_int_equal(hv->n_values, 2);
    assert_true(cell_capacity_has_capability(sum, "os", "linux"));
    assert_int_equal(sum->n_zones, 2);
    assert_true(cell_capacity_has_zone(sum, "az1"));
    assert_true(cell_capacity_has_zone(sum, "nova"));

    /* No children: an empty report. */
    assert_null(cell_capacity_aggregate(NULL, 0, TEST_NOW, &none));
    assert_int_equal(none->free.ram_mb, 0);
    assert_int_equal(none->n_units, 0);
    assert_int_equal(none->n_zones, 0);
}

/* Sums saturate at CELL_CAPACITY_MAX_AMOUNT. */
static void
test_aggregate_saturates(void **state)
{
    CLEANUP(cell_capacity_freep) struct cell_capacity *big =
        cell_capacity_new(TEST_NOW);
    CLEANUP(cell_capacity_freep) struct cell_capacity *sum = NULL;
    static const struct cell_capacity_flavor tiny = TINY;
    const struct cell_capacity *children[] = { big, big, big };

    (void) state;
    big->free.ram_mb = CELL_CAPACITY_MAX_AMOUNT;
    big->total.ram_mb = CELL_CAPACITY_MAX_AMOUNT - 1;
    big->n_instances = CELL_CAPACITY_MAX_AMOUNT;
    big->free.vcpus = CELL_CAPACITY_MAX_AMOUNT;
    big->free.disk_gb = CELL_CAPACITY_MAX_AMOUNT;
    assert_null(cell_capacity_aggregate(children, 3, TEST_NOW, &sum));
    assert_int_equal(sum->free.ram_mb, CELL_CAPACITY_MAX_AMOUNT);
    assert_int_equal(sum->total.ram_mb, CELL_CAPACITY_MAX_AMOUNT);
    assert_int_equal(sum->n_instances, CELL_CAPACITY_MAX_AMOUNT);
    assert_int_equal(cell_capacity_units(sum, &tiny, NULL),
                     CELL_CAPACITY_MAX_AMOUNT / 512);
}

/* Unions beyond the limits fail, naming the report. */
static void
test_aggregate_limits(void **state)
{
    CLEANUP(cell_capacity_freep) struct cell_capacity *a =
        cell_capacity_new(TEST_NOW);
    CLEANUP(cell_capacity_freep) struct cell_capacity *b =
        cell_capacity_new(TEST_NOW);
    CLEANUP(cell_capacity_freep) struct cell_capacity *sum = NULL;
    CLEANUP(error_freep) struct error *error = NULL;
    const struct cell_capacity *children[] = { a, b };

    (void) state;
    for (int i = 0; i < CELL_CAPACITY_MAX_VALUES; i++) {
        AUTOFREE char *va = xasprintf("a%d", i);
        AUTOFREE char *vb = xasprintf("b%d", i);

        assert_null(cell_capacity_add_capability(a, "k", va));
        assert_null(cell_capacity_add_capability(b, "k", vb));
    }
    error = cell_capacity_aggregate(children, 2, TEST_NOW, &sum);
    assert_non_null(error);
    assert_null(sum);
    assert_string_equal(error_message(error),
                        "Cannot aggregate report 1: Capability 'k' may "
                        "have at most 256 values");
}

static void
test_add_capability(void **state)
{
    CLEANUP(cell_capacity_freep) struct cell_capacity *cap =
        cell_capacity_new(TEST_NOW);
    AUTOFREE char *long_name = xmalloc(CELL_CAPACITY_MAX_NAME_LENGTH + 2);
    static const struct {
        const char *key;
        const char *value;
        const char *error;
    } bad[] = {
        { "", "x", "Capability key '' must have 1 to 255 bytes" },
        { "os", "", "Capability value '' must have 1 to 255 bytes" },
    };

    (void) state;
    memset(long_name, 'x', CELL_CAPACITY_MAX_NAME_LENGTH + 1);
    long_name[CELL_CAPACITY_MAX_NAME_LENGTH + 1] = '\0';

    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        CLEANUP(error_freep) struct error *error =
            cell_capacity_add_capability(cap, bad[i].key, bad[i].value);

        assert_non_null(error);
        assert_string_equal(error_message(error), bad[i].error);
    }
    {
        CLEANUP(error_freep) struct error *error =
            cell_capacity_add_capability(cap, "os", long_name);

        assert_non_null(error);
        assert_int_equal(error_kind(error), ERROR_INVALID);
        assert_non_null(strstr(error_message(error),
                               "...' must have 1 to 255 bytes"));
    }
    long_name[CELL_CAPACITY_MAX_NAME_LENGTH] = '\0';
    assert_null(cell_capacity_add_capability(cap, "os", long_name));
    assert_null(cell_capacity_add_capability(cap, "os", "linux"));
    assert_null(cell_capacity_add_capability(cap, "os", "linux"));
    assert_int_equal(cap->n_capabilities, 1);
    assert_int_equal(cap->capabilities[0].n_values, 2);

    /* Keys fill up at CELL_CAPACITY_MAX_CAPABILITIES. */
    for (int i = 1; i < CELL_CAPACITY_MAX_CAPABILITIES; i++) {
        AUTOFREE char *key = xasprintf("key%03d", i);

        assert_null(cell_capacity_add_capability(cap, key, "v"));
    }
    {
        CLEANUP(error_freep) struct error *error =
            cell_capacity_add_capability(cap, "one-too-many", "v");

        assert_non_null(error);
        assert_string_equal(error_message(error),
                            "A capacity report may have at most 64 "
                            "capabilities");
        /* A new value of an existing key still goes in. */
        assert_null(cell_capacity_add_capability(cap, "key001", "w"));
    }
    /* Keys stay sorted. */
    for (size_t i = 1; i < cap->n_capabilities; i++) {
        assert_true(strcmp(cap->capabilities[i - 1].key,
                           cap->capabilities[i].key) < 0);
    }
}

/* The JSON form of a small report, byte for byte. */
static void
test_to_json_golden(void **state)
{
    static const struct cell_capacity_flavor flavors[] = { SMALL, TINY };
    CLEANUP(cell_capacity_freep) struct cell_capacity *cap =
        leaf(4096, "QEMU", "az1", flavors, 2);
    CLEANUP(json_putp) struct json_object *json = NULL;
    AUTOFREE char *text = NULL;

    (void) state;
    assert_null(cell_capacity_add_capability(cap, "hypervisor_type",
                                             "test"));
    json = cell_capacity_to_json(cap);
    text = json_to_string_plain(json);
    assert_string_equal(text,
        "{\"reported_at\":1700000000000,"
        "\"free\":{\"ram_mb\":4096,\"disk_gb\":1000,\"vcpus\":1000},"
        "\"total\":{\"ram_mb\":65536,\"disk_gb\":1000,\"vcpus\":1000},"
        "\"instances\":1,"
        "\"units\":[{\"vcpus\":1,\"ram_mb\":512,\"disk_gb\":1,\"units\":8},"
        "{\"vcpus\":2,\"ram_mb\":2048,\"disk_gb\":20,\"units\":2}],"
        "\"capabilities\":{\"architecture\":[\"x86_64\"],"
        "\"hypervisor_type\":[\"QEMU\",\"test\"]},"
        "\"availability_zones\":[\"az1\"]}");
}

/* Encode, decode: the same report; clone: the same report. */
static void
test_json_round_trip(void **state)
{
    static const struct cell_capacity_flavor flavors[] = {
        TINY, SMALL, LARGE,
    };
    CLEANUP(cell_capacity_freep) struct cell_capacity *empty =
        cell_capacity_new(0);
    CLEANUP(cell_capacity_freep) struct cell_capacity *full =
        leaf(65536, "QEMU", "az1", flavors, 3);
    const struct cell_capacity *reports[] = { empty, full };

    (void) state;
    assert_null(cell_capacity_add_capability(full, "os", "linux"));
    assert_null(cell_capacity_add_capability(full, "os", "windows"));
    for (size_t i = 0; i < ARRAY_SIZE(reports); i++) {
        CLEANUP(json_putp) struct json_object *json =
            cell_capacity_to_json(reports[i]);
        CLEANUP(cell_capacity_freep) struct cell_capacity *back = NULL;
        CLEANUP(cell_capacity_freep) struct cell_capacity *copy =
            cell_capacity_clone(reports[i]);

        assert_null(cell_capacity_from_json(json, "args", &back));
        assert_true(cell_capacity_equal(back, reports[i]));
        assert_true(cell_capacity_equal(copy, reports[i]));
    }
    assert_false(cell_capacity_equal(empty, full));
    cell_capacity_free(NULL);
}

/* Two reports that differ in one field are not equal. */
static void
test_equal(void **state)
{
    static const struct cell_capacity_flavor flavors[] = { TINY };
    CLEANUP(cell_capacity_freep) struct cell_capacity *a =
        leaf(4096, "QEMU", "az1", flavors, 1);

    (void) state;
    for (int field = 0; field < 7; field++) {
        CLEANUP(cell_capacity_freep) struct cell_capacity *b =
            cell_capacity_clone(a);

        assert_true(cell_capacity_equal(a, b));
        switch (field) {
        case 0: b->reported_at_ms++; break;
        case 1: b->free.disk_gb++; break;
        case 2: b->total.vcpus++; break;
        case 3: b->n_instances++; break;
        case 4: b->units[0].units++; break;
        case 5:
            assert_null(cell_capacity_add_capability(b, "architecture",
                                                     "i686"));
            break;
        default:
            assert_null(cell_capacity_add_capability(b, "os", "linux"));
            break;
        }
        assert_false(cell_capacity_equal(a, b));
    }
}

/* A valid document with one part replaced: "%s" stands for the units,
 * capabilities and zones of each row. */
#define DOC_HEAD                                                          \
    "{\"reported_at\":5,\"free\":{\"ram_mb\":1,\"disk_gb\":2,\"vcpus\":3}," \
    "\"total\":{\"ram_mb\":4,\"disk_gb\":5,\"vcpus\":6},\"instances\":7,"
#define DOC_UNITS "\"units\":[{\"vcpus\":1,\"ram_mb\":512,\"disk_gb\":1," \
    "\"units\":3}],"
#define DOC_CAPS "\"capabilities\":{\"hypervisor_type\":[\"QEMU\"]},"
#define DOC_ZONES "\"availability_zones\":[\"nova\"]}"

static void
test_from_json(void **state)
{
    static const struct {
        const char *what;
        const char *json;
        const char *error;      /* Part of the message; NULL: valid. */
    } cases[] = {
        { "valid", DOC_HEAD DOC_UNITS DOC_CAPS DOC_ZONES, NULL },
        { "empty lists",
          DOC_HEAD "\"units\":[],\"capabilities\":{},"
          "\"availability_zones\":[]}", NULL },
        { "not an object", "[1]",
          "Invalid input for field/attribute 'args'. Value: [1]" },
        { "unknown key",
          DOC_HEAD DOC_UNITS DOC_CAPS "\"extra\":1," DOC_ZONES,
          "Additional properties are not allowed ('extra' was "
          "unexpected)" },
        { "missing key",
          DOC_HEAD DOC_UNITS "\"availability_zones\":[]}",
          "'args.capabilities' is a required property" },
        { "negative free RAM",
          "{\"reported_at\":5,\"free\":{\"ram_mb\":-1,\"disk_gb\":2,"
          "\"vcpus\":3}," "\"total\":{\"ram_mb\":4,\"disk_gb\":5,"
          "\"vcpus\":6},\"instances\":7," DOC_UNITS DOC_CAPS DOC_ZONES,
          "Invalid input for field/attribute 'args.free.ram_mb'" },
        { "amount as a string",
          "{\"reported_at\":5,\"free\":{\"ram_mb\":1,\"disk_gb\":\"2\","
          "\"vcpus\":3}," "\"total\":{\"ram_mb\":4,\"disk_gb\":5,"
          "\"vcpus\":6},\"instances\":7," DOC_UNITS DOC_CAPS DOC_ZONES,
          "Invalid input for field/attribute 'args.free.disk_gb'" },
        { "amount over the maximum",
          "{\"reported_at\":5,\"free\":{\"ram_mb\":1,\"disk_gb\":2,"
          "\"vcpus\":3}," "\"total\":{\"ram_mb\":9007199254740993,"
          "\"disk_gb\":5,\"vcpus\":6},\"instances\":7,"
          DOC_UNITS DOC_CAPS DOC_ZONES,
          "Invalid input for field/attribute 'args.total.ram_mb'" },
        { "extra key in amounts",
          "{\"reported_at\":5,\"free\":{\"ram_mb\":1,\"disk_gb\":2,"
          "\"vcpus\":3,\"gpus\":1}," "\"total\":{\"ram_mb\":4,"
          "\"disk_gb\":5,\"vcpus\":6},\"instances\":7,"
          DOC_UNITS DOC_CAPS DOC_ZONES,
          "Additional properties are not allowed ('gpus' was "
          "unexpected)" },
        { "negative time",
          "{\"reported_at\":-5,\"free\":{\"ram_mb\":1,\"disk_gb\":2,"
          "\"vcpus\":3}," "\"total\":{\"ram_mb\":4,\"disk_gb\":5,"
          "\"vcpus\":6},\"instances\":7," DOC_UNITS DOC_CAPS DOC_ZONES,
          "Invalid input for field/attribute 'args.reported_at'" },
        { "size of 0 vCPUs",
          DOC_HEAD "\"units\":[{\"vcpus\":0,\"ram_mb\":512,\"disk_gb\":1,"
          "\"units\":3}]," DOC_CAPS DOC_ZONES,
          "Invalid input for field/attribute 'args.units[0].vcpus'" },
        { "size without units",
          DOC_HEAD "\"units\":[{\"vcpus\":1,\"ram_mb\":512,"
          "\"disk_gb\":1}]," DOC_CAPS DOC_ZONES,
          "'args.units[0].units' is a required property" },
        { "size listed twice",
          DOC_HEAD "\"units\":[{\"vcpus\":1,\"ram_mb\":512,\"disk_gb\":1,"
          "\"units\":3},{\"vcpus\":1,\"ram_mb\":512,\"disk_gb\":1,"
          "\"units\":4}]," DOC_CAPS DOC_ZONES,
          "Invalid input for field/attribute 'args.units[1]'. Flavor size "
          "listed twice" },
        { "units not an array",
          DOC_HEAD "\"units\":{}," DOC_CAPS DOC_ZONES,
          "Invalid input for field/attribute 'args.units'" },
        { "capability values not an array",
          DOC_HEAD DOC_UNITS "\"capabilities\":{\"os\":\"linux\"},"
          DOC_ZONES,
          "Invalid input for field/attribute 'args.capabilities.os'" },
        { "capability value not a string",
          DOC_HEAD DOC_UNITS "\"capabilities\":{\"os\":[1]}," DOC_ZONES,
          "Invalid input for field/attribute "
          "'args.capabilities.os[0]'" },
        { "capability value listed twice",
          DOC_HEAD DOC_UNITS
          "\"capabilities\":{\"os\":[\"linux\",\"linux\"]}," DOC_ZONES,
          "Invalid input for field/attribute 'args.capabilities.os[1]'. "
          "Value listed twice" },
        { "empty capability value",
          DOC_HEAD DOC_UNITS "\"capabilities\":{\"os\":[\"\"]}," DOC_ZONES,
          "Invalid input for field/attribute 'args.capabilities.os[0]': "
          "Capability value '' must have 1 to 255 bytes" },
        { "capability without values",
          DOC_HEAD DOC_UNITS "\"capabilities\":{\"os\":[]}," DOC_ZONES,
          "Invalid input for field/attribute 'args.capabilities.os'. A "
          "capability needs at least one value" },
        { "empty capability key",
          DOC_HEAD DOC_UNITS "\"capabilities\":{\"\":[\"x\"]}," DOC_ZONES,
          "Capability key '' must have 1 to 255 bytes" },
        { "zone listed twice",
          DOC_HEAD DOC_UNITS DOC_CAPS
          "\"availability_zones\":[\"az1\",\"az1\"]}",
          "Invalid input for field/attribute 'args.availability_zones[1]'. "
          "Value listed twice" },
        { "zone null",
          DOC_HEAD DOC_UNITS DOC_CAPS "\"availability_zones\":[null]}",
          "Invalid input for field/attribute 'args.availability_zones[0]'" },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        CLEANUP(json_putp) struct json_object *doc = parse(cases[i].json);
        CLEANUP(cell_capacity_freep) struct cell_capacity *cap = NULL;
        CLEANUP(error_freep) struct error *error = NULL;

        print_message("# %s\n", cases[i].what);
        error = cell_capacity_from_json(doc, "args", &cap);
        if (!cases[i].error) {
            assert_null(error);
            assert_non_null(cap);
            continue;
        }
        assert_non_null(error);
        assert_null(cap);
        assert_int_equal(error_kind(error), ERROR_INVALID);
        if (!strstr(error_message(error), cases[i].error)) {
            fail_msg("got '%s'", error_message(error));
        }
    }
}

/* A valid document decodes to what it says, in sorted order. */
static void
test_from_json_values(void **state)
{
    CLEANUP(json_putp) struct json_object *doc = parse(
        DOC_HEAD "\"units\":[{\"vcpus\":2,\"ram_mb\":2048,\"disk_gb\":20,"
        "\"units\":1},{\"vcpus\":1,\"ram_mb\":512,\"disk_gb\":1,"
        "\"units\":3}],\"capabilities\":{\"os\":[\"windows\",\"linux\"]},"
        "\"availability_zones\":[\"b\",\"a\"]}");
    CLEANUP(cell_capacity_freep) struct cell_capacity *cap = NULL;
    static const struct cell_capacity_flavor tiny = TINY;
    static const struct cell_capacity_flavor small = SMALL;

    (void) state;
    assert_null(cell_capacity_from_json(doc, NULL, &cap));
    assert_int_equal(cap->reported_at_ms, 5);
    assert_int_equal(cap->free.ram_mb, 1);
    assert_int_equal(cap->free.disk_gb, 2);
    assert_int_equal(cap->free.vcpus, 3);
    assert_int_equal(cap->total.ram_mb, 4);
    assert_int_equal(cap->total.disk_gb, 5);
    assert_int_equal(cap->total.vcpus, 6);
    assert_int_equal(cap->n_instances, 7);
    assert_int_equal(cell_capacity_units(cap, &tiny, NULL), 3);
    assert_int_equal(cell_capacity_units(cap, &small, NULL), 1);
    assert_int_equal(cap->units[0].flavor.ram_mb, 512);
    assert_string_equal(cap->capabilities[0].values[0], "linux");
    assert_string_equal(cap->zones[0], "a");
    assert_string_equal(cap->zones[1], "b");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build),
        cmocka_unit_test(test_build_sorts_sizes),
        cmocka_unit_test(test_build_capabilities),
        cmocka_unit_test(test_units_lookup),
        cmocka_unit_test(test_aggregate),
        cmocka_unit_test(test_aggregate_saturates),
        cmocka_unit_test(test_aggregate_limits),
        cmocka_unit_test(test_add_capability),
        cmocka_unit_test(test_to_json_golden),
        cmocka_unit_test(test_json_round_trip),
        cmocka_unit_test(test_equal),
        cmocka_unit_test(test_from_json),
        cmocka_unit_test(test_from_json_values),
    };

    return cmocka_run_group_tests_name("cell-capacity", tests, NULL, NULL);
}
