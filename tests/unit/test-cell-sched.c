/* test-cell-sched.c: the cell scheduler.  Configuration errors; a table of
 * decisions over a few children (capacity, disabled, health, zones, image
 * properties, hints, retries, offsets and scales, the cell's own hosts),
 * each giving the order of the answer or the error with its message;
 * weights as the formula says; other filter and weigher settings; a
 * spread of 1000 builds over children of different sizes; random mode;
 * and a half-open child that gets exactly one probe however many
 * requests come. */
#include <config.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cells-rpc/cell-capacity.h"
#include "cells-rpc/cell-health.h"
#include "cells-rpc/cell-path.h"
#include "cells-rpc/cell-sched.h"
#include "shared/cleanup.h"
#include "shared/compiler.h"
#include "shared/error.h"
#include "shared/xalloc.h"

#define TEST_MAX_CHILDREN 12
#define TEST_MAX_HINTS 3
#define TEST_CELL "api"
#define TEST_NOW INT64_C(1000000)
/* A row's 'scale' of 0 means the default 1.0; this means 0. */
#define NO_SCALE -1.0

/* Every request asks for this flavor; each child has one host with room
 * for 'units' of it (RAM limits), so its report lists exactly 'units'. */
static const struct cell_capacity_flavor test_flavor = { 1, 1024, 10 };

/* Health settings: see test-cell-health.c. */
static const struct cell_health_config test_health_config = {
    .report_interval_ms = 10000,
    .mute_child_interval_ms = 30000,
    .max_missed_reports = 6,
    .probe_interval_ms = 20000,
    .probe_timeout_ms = 15000,
    .max_failures = 3,
};

enum health_kind {
    H_HEALTHY,
    H_MUTE,
    H_EXCLUDED,
    H_HALF_OPEN,
    H_NONE,                     /* No record (the cell's own hosts). */
};

struct child_row {
    const char *path;
    int64_t units;
    bool no_report;
    bool disabled;
    enum health_kind health;
    const char *az;             /* NULL: the default zone. */
    const char *hv;             /* NULL: "QEMU". */
    const char *arch;           /* NULL: "x86_64". */
    double offset;
    double scale;               /* 0: 1.0; NO_SCALE: 0. */
};

/* Candidates built from rows, with what they point to. */
struct children {
    struct cell_sched_candidate candidates[TEST_MAX_CHILDREN];
    struct cell_capacity *reports[TEST_MAX_CHILDREN];
    struct cell_health health[TEST_MAX_CHILDREN];
    size_t n;
};

static struct cell_capacity *
report_with_units(int64_t units, const char *az, const char *hv,
                  const char *arch)
{
    const struct cell_capacity_host host = {
        .free = { units * test_flavor.ram_mb, 100000, 100000 },
        .total = { 1024 * 1024, 100000, 100000 },
        .usable = true,
        .hypervisor_type = hv ? hv : "QEMU",
        .architecture = arch ? arch : "x86_64",
        .availability_zone = az,
    };
    struct cell_capacity *cap = NULL;

    assert_null(cell_capacity_build(&host, 1, &test_flavor, 1, 0.0,
                                    TEST_NOW, &cap));
    return cap;
}

/* Sets 'health' to 'kind' at TEST_NOW. */
static void
init_health(struct cell_health *health, enum health_kind kind)
{
    static const int64_t last_report[] = {
        [H_HEALTHY] = TEST_NOW - 1000,
        [H_MUTE] = TEST_NOW - 40000,      /* past 30 s */
        [H_EXCLUDED] = TEST_NOW - 65000,  /* past 60 s, probe at +15 s */
        [H_HALF_OPEN] = TEST_NOW - 90000, /* probe allowed since -10 s */
    };

    cell_health_init(health, &test_health_config, last_report[kind]);
    cell_health_record_report(health, last_report[kind]);
}

static void
children_init(struct children *c, const struct child_row *rows, size_t n)
{
    memset(c, 0, sizeof *c);
    c->n = n;
    for (size_t i = 0; i < n; i++) {
        const struct child_row *row = &rows[i];
        struct cell_sched_candidate *cand = &c->candidates[i];

        if (!row->no_report) {
            c->reports[i] = report_with_units(row->units, row->az, row->hv,
                                              row->arch);
        }
        cand->path = row->path;
        cand->capacity = c->reports[i];
        cand->disabled = row->disabled;
        cand->weight_offset = row->offset;
        cand->weight_scale = (row->scale == NO_SCALE ? 0.0
                              : row->scale ? row->scale : 1.0);
        if (row->health != H_NONE) {
            init_health(&c->health[i], row->health);
            cand->health = &c->health[i];
        }
    }
}

static void
children_destroy(struct children *c)
{
    for (size_t i = 0; i < c->n; i++) {
        cell_capacity_free(c->reports[i]);
    }
}

static struct cell_sched *
new_sched(const struct cell_sched_config *config)
{
    static const struct cell_sched_config defaults = {
        .cell_path = TEST_CELL,
    };
    struct cell_sched *sched = NULL;

    assert_null(cell_sched_new(config ? config : &defaults, &sched));
    return sched;
}

static void
test_config(void **state)
{
    static const char *const unknown[] = { "CapacityFilter", "RamFilter" };
    static const char *const twice[] = { "CapacityFilter",
                                         "CapacityFilter" };
    static const char *const retry[] = { "RetryFilter" };
    static const char *const good[] = { "CapacityFilter" };
    static const struct cell_sched_weigher_config bad_weigher[] = {
        { "RamByInstanceTypeWeigher", 1.0 },
    };
    static const struct cell_sched_weigher_config weigher_twice[] = {
        { "FreeUnitsWeigher", 0.0 }, { "FreeUnitsWeigher", 1.0 },
    };
    static const struct cell_sched_weigher_config nan_weigher[] = {
        { "FreeUnitsWeigher", 0.0 / 0.0 },
    };
    static const struct cell_sched_weigher_config huge_weigher[] = {
        { "WeightOffsetWeigher", 1e16 },
    };
    static const struct cell_sched_weigher_config mute_up[] = {
        { "MuteChildWeigher", 1.0 },
    };
    static const struct cell_sched_weigher_config stack[] = {
        { "FreeUnitsWeigher", -1.0 }, { "MuteChildWeigher", 0.0 },
    };
    static const struct {
        const char *what;
        struct cell_sched_config config;
        const char *error;      /* Start of the message; NULL: valid. */
    } cases[] = {
        { "defaults", { TEST_CELL }, NULL },
        { "random mode", { "api!east", CELL_SCHED_RANDOM }, NULL },
        { "explicit filters and weighers",
          { TEST_CELL, 0, good, 1, stack, 2 }, NULL },
        { "no filters, no weighers", { TEST_CELL, 0, good, 0, stack, 0 },
          NULL },
        { "no cell path", { NULL },
          "Invalid cell path for cell scheduler cell_path" },
        { "bad cell path", { "api!!east" },
          "Invalid cell path 'api!!east' for cell scheduler cell_path" },
        { "bad mode", { TEST_CELL, (enum cell_sched_mode) 7 },
          "Unknown cell scheduler mode 7" },
        { "unknown filter", { TEST_CELL, 0, unknown, 2 },
          "Unknown cell scheduler filter 'RamFilter'; known filters are: "
          "TargetCellFilter, DifferentCellFilter, DisabledCellFilter, "
          "CellHealthFilter, AvailabilityZoneFilter, "
          "ImagePropertiesFilter, CapacityFilter" },
        { "the retry filter is not configurable", { TEST_CELL, 0, retry, 1 },
          "Unknown cell scheduler filter 'RetryFilter'" },
        { "filter twice", { TEST_CELL, 0, twice, 2 },
          "Cell scheduler filter 'CapacityFilter' is listed twice" },
        { "unknown weigher", { TEST_CELL, 0, NULL, 0, bad_weigher, 1 },
          "Unknown cell scheduler weigher 'RamByInstanceTypeWeigher'; "
          "known weighers are: FreeUnitsWeigher, WeightOffsetWeigher, "
          "MuteChildWeigher" },
        { "weigher twice, once off",
          { TEST_CELL, 0, NULL, 0, weigher_twice, 2 },
          "Cell scheduler weigher 'FreeUnitsWeigher' is listed twice" },
        { "NaN multiplier", { TEST_CELL, 0, NULL, 0, nan_weigher, 1 },
          "Multiplier of cell scheduler weigher 'FreeUnitsWeigher' must "
          "be a finite number" },
        { "huge multiplier", { TEST_CELL, 0, NULL, 0, huge_weigher, 1 },
          "Multiplier of cell scheduler weigher 'WeightOffsetWeigher' "
          "must be a finite number of magnitude at most" },
        { "mute children first", { TEST_CELL, 0, NULL, 0, mute_up, 1 },
          "Multiplier of cell scheduler weigher 'MuteChildWeigher' must "
          "be negative (order those cells last) or 0 (off)" },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct cell_sched *sched = NULL;
        CLEANUP(error_freep) struct error *error =
            cell_sched_new(&cases[i].config, &sched);

        print_message("# %s\n", cases[i].what);
        if (!cases[i].error) {
            assert_null(error);
            assert_non_null(sched);
            cell_sched_free(sched);
            continue;
        }
        assert_non_null(error);
        assert_null(sched);
        assert_int_equal(error_kind(error), ERROR_INVALID);
        if (strncmp(error_message(error), cases[i].error,
                    strlen(cases[i].error))) {
            fail_msg("got '%s'", error_message(error));
        }
    }
    cell_sched_free(NULL);
    cell_sched_selection_free(NULL);
}

/* One decision: the children, the request, and the expected order (last
 * names, the cell itself as TEST_CELL) or error. */
struct decision_case {
    const char *what;
    struct child_row children[TEST_MAX_CHILDREN];
    size_t n_children;
    /* Request; num_instances 0 means 1. */
    size_t num_instances;
    const char *az;
    const char *arch;
    const char *hv;
    const char *target;
    bool member;                /* Not an admin. */
    const char *different[TEST_MAX_HINTS];
    const char *tried[TEST_MAX_HINTS];
    /* Expected. */
    const char *order[TEST_MAX_CHILDREN];
    enum error_kind error_kind;
    const char *error;          /* Start of the message; NULL: success. */
};

#define EAST "api!east"
#define WEST "api!west"
#define NORTH "api!north"
#define NVH ERROR_NO_VALID_HOST

static const struct decision_case decision_cases[] = {
    /* Capacity. */
    { "most free units first",
      { { EAST, 10 }, { WEST, 20 }, { NORTH, 5 } }, 3,
      .order = { "west", "east", "north" } },
    { "equal units keep the array order",
      { { EAST, 10 }, { WEST, 10 }, { NORTH, 10 } }, 3,
      .order = { "east", "west", "north" } },
    { "a full child is skipped",
      { { EAST, 0 }, { WEST, 3 } }, 2, .order = { "west" } },
    { "every child full",
      { { EAST, 0 }, { WEST, 0 } }, 2,
      .error_kind = NVH,
      .error = "No valid cell was found: CapacityFilter returned 0 cells "
               "(children: east, west). Filter results: DisabledCellFilter "
               "(start: 2, end: 2), CellHealthFilter (start: 2, end: 2), "
               "CapacityFilter (start: 2, end: 0)." },
    { "a child that never reported has no room",
      { { EAST, .no_report = true }, { WEST, 1 } }, 2,
      .order = { "west" } },
    { "room for every instance of the request",
      { { EAST, 10 }, { WEST, 15 } }, 2, .num_instances = 15,
      .order = { "west" } },
    { "no room for every instance",
      { { EAST, 10 }, { WEST, 15 } }, 2, .num_instances = 16,
      .error_kind = NVH,
      .error = "No valid cell was found: CapacityFilter returned 0 cells "
               "(children: east, west)" },

    /* Disabled cells and health. */
    { "a disabled child is never picked",
      { { EAST, 100, .disabled = true }, { WEST, 1 } }, 2,
      .order = { "west" } },
    { "every child disabled",
      { { EAST, 100, .disabled = true }, { WEST, 1, .disabled = true } }, 2,
      .error_kind = NVH,
      .error = "No valid cell was found: DisabledCellFilter returned 0 "
               "cells (children: east, west). Filter results: "
               "DisabledCellFilter (start: 2, end: 0)." },
    { "an excluded child is never picked",
      { { EAST, 100, .health = H_EXCLUDED }, { WEST, 1 } }, 2,
      .order = { "west" } },
    { "a mute child comes last, however much room it has",
      { { EAST, 100, .health = H_MUTE, .offset = 1000.0 }, { WEST, 1 },
        { NORTH, 2 } }, 3,
      .order = { "north", "west", "east" } },
    { "a half-open child comes last",
      { { EAST, 100, .health = H_HALF_OPEN }, { WEST, 1 } }, 2,
      .order = { "west", "east" } },
    { "mute children among themselves by weight",
      { { EAST, 1, .health = H_MUTE }, { WEST, 5, .health = H_MUTE },
        { NORTH, 2, .health = H_HALF_OPEN } }, 3,
      .order = { "west", "north", "east" } },
    { "only excluded children",
      { { EAST, 100, .health = H_EXCLUDED },
        { WEST, 1, .disabled = true } }, 2,
      .error_kind = NVH,
      .error = "No valid cell was found: CellHealthFilter returned 0 cells "
               "(children: east). Filter results: DisabledCellFilter "
               "(start: 2, end: 1), CellHealthFilter (start: 1, end: 0)." },

    /* Zones and image properties. */
    { "zone",
      { { EAST, 10, .az = "az1" }, { WEST, 20 } }, 2, .az = "az1",
      .order = { "east" } },
    { "the default zone",
      { { EAST, 10, .az = "az1" }, { WEST, 20 } }, 2, .az = "nova",
      .order = { "west" } },
    { "unknown zone",
      { { EAST, 10, .az = "az1" }, { WEST, 20 } }, 2, .az = "az9",
      .error_kind = NVH,
      .error = "No valid cell was found: AvailabilityZoneFilter returned 0 "
               "cells (children: east, west). Filter results: "
               "DisabledCellFilter (start: 2, end: 2), CellHealthFilter "
               "(start: 2, end: 2), AvailabilityZoneFilter (start: 2, "
               "end: 0)." },
    { "hypervisor type, ignoring case",
      { { EAST, 30, .hv = "xen" }, { WEST, 10 } }, 2, .hv = "qemu",
      .order = { "west" } },
    { "architecture and hypervisor type",
      { { EAST, 30, .arch = "aarch64" }, { WEST, 10, .hv = "test" },
        { NORTH, 5 } }, 3, .arch = "x86_64", .hv = "QEMU",
      .order = { "north" } },
    { "no cell has the architecture",
      { { EAST, 30 }, { WEST, 10 } }, 2, .arch = "aarch64",
      .error_kind = NVH,
      .error = "No valid cell was found: ImagePropertiesFilter returned 0 "
               "cells (children: east, west)" },
    { "a cell without a report cannot satisfy an image",
      { { EAST, .no_report = true }, { WEST, 10 } }, 2,
      .hv = "QEMU", .order = { "west" } },

    /* target_cell. */
    { "target below a child",
      { { EAST, 10 }, { WEST, 20 } }, 2, .target = "api!east!east-2",
      .order = { "east" } },
    { "target a child",
      { { EAST, 10 }, { WEST, 20 } }, 2, .target = EAST,
      .order = { "east" } },
    { "target the cell itself",
      { { EAST, 10 }, { TEST_CELL, 5, .health = H_NONE } }, 2,
      .target = TEST_CELL, .order = { TEST_CELL } },
    { "target the cell itself, which has no hosts",
      { { EAST, 10 }, { WEST, 20 } }, 2, .target = TEST_CELL,
      .error_kind = NVH,
      .error = "No valid cell was found: TargetCellFilter returned 0 cells "
               "(children: east, west). Filter results: TargetCellFilter "
               "(start: 2, end: 0)." },
    { "target a child that is not a candidate",
      { { EAST, 10 }, { WEST, 20 } }, 2, .target = "api!south!s1",
      .error_kind = NVH,
      .error = "No valid cell was found: TargetCellFilter returned 0 "
               "cells" },
    { "a target must still have room",
      { { EAST, 0 }, { WEST, 20 } }, 2, .target = EAST,
      .error_kind = NVH,
      .error = "No valid cell was found: CapacityFilter returned 0 cells "
               "(children: east). Filter results: TargetCellFilter "
               "(start: 2, end: 1)," },
    { "target by a member",
      { { EAST, 10 } }, 1, .target = EAST, .member = true,
      .error_kind = ERROR_FORBIDDEN,
      .error = "Only administrators may use the scheduler hint "
               "'target_cell'" },
    { "bad target by a member: forbidden first",
      { { EAST, 10 } }, 1, .target = "!!", .member = true,
      .error_kind = ERROR_FORBIDDEN,
      .error = "Only administrators may use the scheduler hint" },
    { "target outside the subtree",
      { { EAST, 10 } }, 1, .target = "other!east",
      .error_kind = ERROR_INVALID,
      .error = "Target cell 'other!east' is not in the subtree of cell "
               "'api'" },
    { "target that is not a path",
      { { EAST, 10 } }, 1, .target = "api!!east",
      .error_kind = ERROR_INVALID,
      .error = "Invalid cell path 'api!!east' for target_cell" },

    /* different_cell. */
    { "avoid a cell below a child: the whole child",
      { { EAST, 10 }, { WEST, 20 }, { NORTH, 5 } }, 3,
      .different = { "api!west!west-1" }, .order = { "east", "north" } },
    { "avoid children",
      { { EAST, 10 }, { WEST, 20 }, { NORTH, 5 } }, 3,
      .different = { WEST, NORTH }, .order = { "east" } },
    { "avoid cells elsewhere: nothing changes",
      { { EAST, 10 }, { WEST, 20 } }, 2,
      .different = { "other", "api!south" }, .order = { "west", "east" } },
    { "avoid the cell below a child, keep the cell's own hosts",
      { { EAST, 10 }, { TEST_CELL, 5, .health = H_NONE } }, 2,
      .different = { "api!east!e1" }, .order = { TEST_CELL } },
    { "avoid the whole tree",
      { { EAST, 10 }, { TEST_CELL, 5, .health = H_NONE } }, 2,
      .different = { "api" },
      .error_kind = NVH,
      .error = "No valid cell was found: DifferentCellFilter returned 0 "
               "cells (children: east, api (own hosts)). Filter results: "
               "DifferentCellFilter (start: 2, end: 0)." },
    { "bad different_cell path",
      { { EAST, 10 } }, 1, .different = { "api!" },
      .error_kind = ERROR_INVALID,
      .error = "Invalid cell path 'api!' for different_cell" },

    /* Retries. */
    { "children already tried are skipped",
      { { EAST, 10 }, { WEST, 20 }, { NORTH, 5 } }, 3,
      .tried = { WEST }, .order = { "east", "north" } },
    { "only exact paths count as tried",
      { { EAST, 10 }, { WEST, 20 } }, 2,
      .tried = { "api!west!west-1", "api" }, .order = { "west", "east" } },
    { "every child tried",
      { { EAST, 10 }, { WEST, 20 } }, 2, .tried = { EAST, WEST },
      .error_kind = NVH,
      .error = "No valid cell was found: RetryFilter returned 0 cells "
               "(children: east, west). Filter results: RetryFilter "
               "(start: 2, end: 0)." },

    /* Offsets and scales. */
    { "an offset outweighs the room",
      { { EAST, 10, .offset = 1.5 }, { WEST, 20 } }, 2,
      .order = { "east", "west" } },
    { "a negative offset: last resort",
      { { EAST, 10 }, { WEST, 20, .offset = -2.0 }, { NORTH, 15 } }, 3,
      .order = { "north", "east", "west" } },
    { "a scale damps a cell's room",
      { { EAST, 10, .offset = 0.6 }, { WEST, 20, .scale = 0.5 } }, 2,
      .order = { "east", "west" } },
    { "scale 0 ignores the room",
      { { EAST, 10 }, { WEST, 20, .scale = NO_SCALE } }, 2,
      .order = { "east", "west" } },

    /* The cell's own hosts. */
    { "the cell itself is a candidate like any other",
      { { EAST, 10 }, { TEST_CELL, 50, .health = H_NONE },
        { WEST, 5 } }, 3,
      .order = { TEST_CELL, "east", "west" } },
    { "the cell's own hosts full: its children take the build",
      { { EAST, 10 }, { TEST_CELL, 0, .health = H_NONE },
        { WEST, 5 } }, 3,
      .order = { "east", "west" } },
    { "the cell's own hosts weighed by their room, not the subtree's",
      { { EAST, 40 }, { TEST_CELL, 3, .health = H_NONE } }, 2,
      .order = { "east", TEST_CELL } },
    { "the cell's own hosts not reported yet",
      { { TEST_CELL, 0, .no_report = true, .health = H_NONE },
        { EAST, 1 } }, 2,
      .order = { "east" } },
    { "the cell itself full",
      { { TEST_CELL, 0, .health = H_NONE } }, 1,
      .error_kind = NVH,
      .error = "No valid cell was found: CapacityFilter returned 0 cells "
               "(children: api (own hosts))." },

    /* The rest. */
    { "no children", { { NULL } }, 0,
      .error_kind = NVH,
      .error = "No valid cell was found: cell 'api' has no children to "
               "schedule to" },
    { "only ten names listed",
      { { "api!c00" }, { "api!c01" }, { "api!c02" }, { "api!c03" },
        { "api!c04" }, { "api!c05" }, { "api!c06" }, { "api!c07" },
        { "api!c08" }, { "api!c09" }, { "api!c10" }, { "api!c11" } }, 12,
      .error_kind = NVH,
      .error = "No valid cell was found: CapacityFilter returned 0 cells "
               "(children: c00, c01, c02, c03, c04, c05, c06, c07, c08, "
               "c09, and 2 more)." },
    { "a grandchild is no candidate",
      { { EAST, 10 }, { "api!east!e1", 10 } }, 2,
      .error_kind = ERROR_INVALID,
      .error = "Candidate cell 'api!east!e1' is not a child of cell "
               "'api'" },
    { "a prefix is not a child",
      { { "apix", 10 } }, 1,
      .error_kind = ERROR_INVALID,
      .error = "Candidate cell 'apix' is not a child of cell 'api'" },
    { "a bad child name",
      { { "api!ea st", 10 } }, 1,
      .error_kind = ERROR_INVALID,
      .error = "Candidate cell 'api!ea st' is not a child of cell 'api'" },
    { "the cell itself twice",
      { { TEST_CELL, 10 }, { TEST_CELL, 10 } }, 2,
      .error_kind = ERROR_INVALID,
      .error = "Cell 'api' is a candidate twice" },
    { "a negative scale",
      { { EAST, 10, .scale = -2.0 } }, 1,
      .error_kind = ERROR_INVALID,
      .error = "Candidate cell 'api!east' has weight offset 0 and scale "
               "-2;" },
    { "an offset too large",
      { { EAST, 10, .offset = 2e15 } }, 1,
      .error_kind = ERROR_INVALID,
      .error = "Candidate cell 'api!east' has weight offset 2e+15" },
    { "too many instances", { { EAST, 10 } }, 1,
      .num_instances = (size_t) CELL_SCHED_MAX_INSTANCES + 1,
      .error_kind = ERROR_INVALID,
      .error = "Number of instances 10001 is outside 1..10000" },
    { "an empty zone", { { EAST, 10 } }, 1, .az = "",
      .error_kind = ERROR_INVALID,
      .error = "Requested availability zone must have 1 to 255 bytes" },
};

static size_t
count_names(const char *const *names, size_t max)
{
    size_t n = 0;

    while (n < max && names[n]) {
        n++;
    }
    return n;
}

static void
request_from_case(struct cell_sched_request *request,
                  const struct decision_case *c)
{
    cell_sched_request_init(request);
    request->flavor = test_flavor;
    if (c->num_instances) {
        request->num_instances = c->num_instances;
    }
    request->availability_zone = c->az;
    request->image_architecture = c->arch;
    request->image_hypervisor_type = c->hv;
    request->target_cell = c->target;
    request->is_admin = !c->member;
    request->different_cell = c->different;
    request->n_different_cell = count_names(c->different, TEST_MAX_HINTS);
    request->tried = c->tried;
    request->n_tried = count_names(c->tried, TEST_MAX_HINTS);
    request->now_ms = TEST_NOW;
}

static void
test_decisions(void **state)
{
    CLEANUP(cell_sched_freep) struct cell_sched *sched = new_sched(NULL);

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(decision_cases); i++) {
        const struct decision_case *c = &decision_cases[i];
        CLEANUP(cell_sched_selection_freep) struct cell_sched_selection
            *sel = NULL;
        CLEANUP(error_freep) struct error *error = NULL;
        struct cell_sched_request request;
        struct children children;

        print_message("# %s\n", c->what);
        children_init(&children, c->children, c->n_children);
        request_from_case(&request, c);
        error = cell_sched_select(sched, &request, children.candidates,
                                  children.n, NULL, &sel);
        if (c->error) {
            if (!error) {
                fail_msg("no error, expected '%s'", c->error);
            }
            assert_null(sel);
            assert_int_equal(error_kind(error), c->error_kind);
            if (strncmp(error_message(error), c->error,
                        strlen(c->error))) {
                fail_msg("got '%s'", error_message(error));
            }
        } else {
            size_t n = count_names(c->order, TEST_MAX_CHILDREN);

            if (error) {
                fail_msg("unexpected error '%s'", error_message(error));
            }
            assert_int_equal(sel->n_choices, n);
            for (size_t j = 0; j < n; j++) {
                const struct cell_sched_choice *choice = &sel->choices[j];
                const struct cell_sched_candidate *cand =
                    &children.candidates[choice->candidate];
                enum cell_health_state hs = (cand->health
                                             ? cell_health_state(
                                                 cand->health, TEST_NOW)
                                             : CELL_HEALTH_HEALTHY);

                assert_true(choice->candidate < children.n);
                assert_string_equal(cell_path_last(cand->path),
                                    c->order[j]);
                assert_int_equal(choice->demoted,
                                 hs == CELL_HEALTH_MUTE
                                 || hs == CELL_HEALTH_HALF_OPEN);
            }
        }
        children_destroy(&children);
    }
}

/* The weights the formula gives, at default and other multipliers. */
static void
test_weights(void **state)
{
    static const struct child_row rows[] = {
        { EAST, 10 }, { WEST, 20, .offset = 0.25 },
        { NORTH, 15, .scale = 3.0 }, { "api!south", 30, .health = H_MUTE },
    };
    static const struct cell_sched_weigher_config doubled[] = {
        { "FreeUnitsWeigher", 2.0 }, { "WeightOffsetWeigher", 4.0 },
        { "MuteChildWeigher", -1.0 },
    };
    static const struct cell_sched_weigher_config no_offset[] = {
        { "FreeUnitsWeigher", 1.0 },
    };
    static const struct {
        const char *what;
        const struct cell_sched_weigher_config *weighers;
        size_t n_weighers;
        /* By candidate: east, west, north, south. */
        double weights[4];
        bool south_demoted;
    } cases[] = {
        /* Units 10..30: east 0, west 0.5, north 0.25, south 1. */
        { "defaults", NULL, 0, { 0.0, 0.75, 0.75, 1.0 }, true },
        { "other multipliers", doubled, 3, { 0.0, 2.0, 1.5, 2.0 }, true },
        { "offset and scale off, mute off", no_offset, 1,
          { 0.0, 0.5, 0.25, 1.0 }, false },
    };
    struct children children;

    (void) state;
    children_init(&children, rows, ARRAY_SIZE(rows));
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        const struct cell_sched_config config = {
            .cell_path = TEST_CELL,
            .weighers = cases[i].weighers,
            .n_weighers = cases[i].n_weighers,
        };
        CLEANUP(cell_sched_freep) struct cell_sched *sched =
            new_sched(cases[i].weighers ? &config : NULL);
        CLEANUP(cell_sched_selection_freep) struct cell_sched_selection
            *sel = NULL;
        struct cell_sched_request request;

        print_message("# %s\n", cases[i].what);
        cell_sched_request_init(&request);
        request.flavor = test_flavor;
        request.now_ms = TEST_NOW;
        assert_null(cell_sched_select(sched, &request, children.candidates,
                                      children.n, NULL, &sel));
        assert_int_equal(sel->n_choices, 4);
        for (size_t j = 0; j < sel->n_choices; j++) {
            const struct cell_sched_choice *choice = &sel->choices[j];

            assert_float_equal(choice->weight,
                               cases[i].weights[choice->candidate], 1e-12);
            assert_int_equal(choice->demoted,
                             choice->candidate == 3
                             && cases[i].south_demoted);
            if (j) {
                const struct cell_sched_choice *prev = &sel->choices[j - 1];

                /* Sorted: demoted last, then by weight, then by index. */
                assert_true(prev->demoted < choice->demoted
                            || (prev->demoted == choice->demoted
                                && (prev->weight > choice->weight
                                    || (prev->weight == choice->weight
                                        && prev->candidate
                                           < choice->candidate))));
            }
        }
    }
    children_destroy(&children);
}

/* Filters and weighers other than the defaults. */
static void
test_other_settings(void **state)
{
    static const char *const no_filters[] = { NULL };
    static const char *const capacity_only[] = { "CapacityFilter" };
    static const struct cell_sched_weigher_config stack[] = {
        { "FreeUnitsWeigher", -1.0 },
    };
    static const struct cell_sched_weigher_config spread[] = {
        { "FreeUnitsWeigher", 1.0 },
    };
    static const struct cell_sched_weigher_config none[] = {
        { "FreeUnitsWeigher", 0.0 },
    };
    static const struct child_row rows[] = {
        { EAST, 10 }, { WEST, 0, .disabled = true },
        { NORTH, 30, .health = H_MUTE }, { "api!south", 20 },
    };
    static const struct {
        const char *what;
        const char *const *filters;
        size_t n_filters;
        const struct cell_sched_weigher_config *weighers;
        size_t n_weighers;
        const char *order[4];
    } cases[] = {
        { "no filters: the full and disabled child too, no demotion",
          no_filters, 0, stack, 1, { "west", "east", "south", "north" } },
        { "capacity only, spread, mute not demoted",
          capacity_only, 1, spread, 1, { "north", "south", "east" } },
        { "default filters, stacked", NULL, 0, stack, 1,
          { "east", "south", "north" } },
        { "every weigher off: the array order", no_filters, 0, none, 1,
          { "east", "west", "north", "south" } },
    };
    struct children children;

    (void) state;
    children_init(&children, rows, ARRAY_SIZE(rows));
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        const struct cell_sched_config config = {
            .cell_path = TEST_CELL,
            .filters = cases[i].filters,
            .n_filters = cases[i].n_filters,
            .weighers = cases[i].weighers,
            .n_weighers = cases[i].n_weighers,
        };
        CLEANUP(cell_sched_freep) struct cell_sched *sched =
            new_sched(&config);
        CLEANUP(cell_sched_selection_freep) struct cell_sched_selection
            *sel = NULL;
        struct cell_sched_request request;
        size_t n = count_names(cases[i].order, 4);

        print_message("# %s\n", cases[i].what);
        cell_sched_request_init(&request);
        request.flavor = test_flavor;
        request.now_ms = TEST_NOW;
        assert_null(cell_sched_select(sched, &request, children.candidates,
                                      children.n, NULL, &sel));
        assert_int_equal(sel->n_choices, n);
        for (size_t j = 0; j < n; j++) {
            assert_string_equal(
                cell_path_last(
                    children.candidates[sel->choices[j].candidate].path),
                cases[i].order[j]);
            assert_false(sel->choices[j].demoted);
        }
    }
    children_destroy(&children);
}

/* Asking for the best k gives the first k of the whole answer, in both
 * modes, for every k. */
static void
test_max_choices(void **state)
{
    static const struct child_row rows[] = {
        { "api!c00", 10 }, { "api!c01", 20, .health = H_MUTE },
        { "api!c02", 20 }, { "api!c03", 5, .offset = 0.5 },
        { "api!c04", 0 }, { "api!c05", 20 },
        { "api!c06", 30, .health = H_HALF_OPEN }, { "api!c07", 15 },
        { "api!c08", 10, .scale = 2.0 }, { "api!c09", 20 },
        { "api!c10", 25, .disabled = true }, { "api!c11", 1 },
    };
    static const struct cell_sched_config random_config = {
        .cell_path = TEST_CELL, .mode = CELL_SCHED_RANDOM,
    };
    struct children children;

    (void) state;
    children_init(&children, rows, ARRAY_SIZE(rows));
    for (int mode = 0; mode < 2; mode++) {
        CLEANUP(cell_sched_freep) struct cell_sched *sched =
            new_sched(mode ? &random_config : NULL);
        CLEANUP(cell_sched_selection_freep) struct cell_sched_selection
            *all = NULL;
        struct cell_sched_random rng;
        struct cell_sched_request request;

        cell_sched_request_init(&request);
        request.flavor = test_flavor;
        request.now_ms = TEST_NOW;
        cell_sched_random_init(&rng, 7);
        assert_null(cell_sched_select(sched, &request, children.candidates,
                                      children.n, &rng, &all));
        /* Not the full one and the disabled one. */
        assert_int_equal(all->n_choices, 10);
        for (size_t k = 1; k <= ARRAY_SIZE(rows) + 1; k++) {
            CLEANUP(cell_sched_selection_freep) struct cell_sched_selection
                *best = NULL;

            cell_sched_random_init(&rng, 7);
            request.max_choices = k;
            assert_null(cell_sched_select(sched, &request,
                                          children.candidates, children.n,
                                          &rng, &best));
            assert_int_equal(best->n_choices, MIN(k, all->n_choices));
            for (size_t j = 0; j < best->n_choices; j++) {
                assert_int_equal(best->choices[j].candidate,
                                 all->choices[j].candidate);
                assert_int_equal(best->choices[j].demoted,
                                 all->choices[j].demoted);
                assert_true(best->choices[j].weight
                            == all->choices[j].weight);
            }
        }
        /* Mute and half-open last in both modes. */
        assert_true(all->choices[8].demoted && all->choices[9].demoted);
        assert_false(all->choices[7].demoted);
    }
    children_destroy(&children);
}

/* Takes one instance of the test flavor from child 'i'. */
static void
consume(struct children *c, size_t i)
{
    struct cell_capacity *cap = c->reports[i];

    assert_true(cap->units[0].units > 0);
    cap->units[0].units--;
    cap->free.ram_mb -= test_flavor.ram_mb;
}

/* 1000 builds over children with room for 700, 500 and 300, each build
 * taking its room: the fullest child is used until it is level with the
 * next, then they share, as Nova spreads.  Exact counts: 200 to bring
 * east to 500, 400 shared by east and west to 300, 400 shared by all
 * three (east first on ties). */
static void
test_spread(void **state)
{
    static const struct child_row rows[] = {
        { EAST, 700 }, { WEST, 500 }, { NORTH, 300 },
    };
    CLEANUP(cell_sched_freep) struct cell_sched *sched = new_sched(NULL);
    size_t counts[3] = { 0 };
    struct cell_sched_request request;
    struct children children;

    (void) state;
    children_init(&children, rows, ARRAY_SIZE(rows));
    cell_sched_request_init(&request);
    request.flavor = test_flavor;
    request.now_ms = TEST_NOW;
    for (int i = 0; i < 1000; i++) {
        CLEANUP(cell_sched_selection_freep) struct cell_sched_selection
            *sel = NULL;

        assert_null(cell_sched_select(sched, &request, children.candidates,
                                      children.n, NULL, &sel));
        counts[sel->choices[0].candidate]++;
        consume(&children, sel->choices[0].candidate);
    }
    print_message("# east %zu, west %zu, north %zu\n", counts[0], counts[1],
                  counts[2]);
    assert_true(counts[0] > counts[1] && counts[1] > counts[2]);
    assert_int_equal(counts[0], 534);
    assert_int_equal(counts[1], 333);
    assert_int_equal(counts[2], 133);
    /* What is left is level. */
    assert_int_equal(children.reports[0]->units[0].units, 166);
    assert_int_equal(children.reports[1]->units[0].units, 167);
    assert_int_equal(children.reports[2]->units[0].units, 167);
    children_destroy(&children);
}

/* Random mode: the filters hold, mute children still come last, the first
 * choice is spread evenly, and a seed repeats its sequence. */
static void
test_random(void **state)
{
    static const struct child_row rows[] = {
        { EAST, 10 }, { "api!full", 0 }, { WEST, 500 },
        { "api!off", 10, .disabled = true },
        { "api!gone", 10, .health = H_EXCLUDED },
        { "api!quiet", 10, .health = H_MUTE }, { NORTH, 1 },
    };
    static const struct cell_sched_config config = {
        .cell_path = TEST_CELL, .mode = CELL_SCHED_RANDOM,
    };
    enum { N_DECISIONS = 3000 };
    CLEANUP(cell_sched_freep) struct cell_sched *sched = new_sched(&config);
    AUTOFREE size_t *firsts = xcalloc(N_DECISIONS, sizeof *firsts);
    size_t counts[ARRAY_SIZE(rows)] = { 0 };
    struct cell_sched_random rng;
    struct cell_sched_request request;
    struct children children;

    (void) state;
    children_init(&children, rows, ARRAY_SIZE(rows));
    cell_sched_request_init(&request);
    request.flavor = test_flavor;
    request.now_ms = TEST_NOW;

    {
        CLEANUP(cell_sched_selection_freep) struct cell_sched_selection
            *sel = NULL;
        CLEANUP(error_freep) struct error *error =
            cell_sched_select(sched, &request, children.candidates,
                              children.n, NULL, &sel);

        assert_non_null(error);
        assert_int_equal(error_kind(error), ERROR_INTERNAL);
    }

    for (int pass = 0; pass < 2; pass++) {
        cell_sched_random_init(&rng, 42);
        for (size_t i = 0; i < N_DECISIONS; i++) {
            CLEANUP(cell_sched_selection_freep) struct cell_sched_selection
                *sel = NULL;

            assert_null(cell_sched_select(sched, &request,
                                          children.candidates, children.n,
                                          &rng, &sel));
            /* east, west, north in some order, then quiet. */
            assert_int_equal(sel->n_choices, 4);
            assert_int_equal(sel->choices[3].candidate, 5);
            assert_true(sel->choices[3].demoted);
            for (size_t j = 0; j < 3; j++) {
                size_t k = sel->choices[j].candidate;

                assert_true(k == 0 || k == 2 || k == 6);
                assert_false(sel->choices[j].demoted);
                assert_true(sel->choices[j].weight == 0.0);
            }
            if (!pass) {
                firsts[i] = sel->choices[0].candidate;
                counts[firsts[i]]++;
            } else {
                assert_int_equal(sel->choices[0].candidate, firsts[i]);
            }
        }
    }
    print_message("# first: east %zu, west %zu, north %zu\n", counts[0],
                  counts[2], counts[6]);
    /* Each about 1000; 850 is more than 5 standard deviations out. */
    assert_in_range(counts[0], 850, 1150);
    assert_in_range(counts[2], 850, 1150);
    assert_in_range(counts[6], 850, 1150);
    children_destroy(&children);
}

/* A parent that receives request after request and tries the choices in
 * order.  East always answers (with no room: not a health failure); the
 * half-open west gets exactly one request, the probe, until the probe's
 * fate is known, then one more after the next probe interval. */
static void
test_half_open_gets_one_probe(void **state)
{
    static const struct child_row rows[] = {
        { EAST, 50 }, { WEST, 100, .health = H_HALF_OPEN },
    };
    CLEANUP(cell_sched_freep) struct cell_sched *sched = new_sched(NULL);
    struct cell_health *west;
    struct cell_sched_request request;
    struct children children;
    size_t sent[2] = { 0 };
    int64_t probe_failed_at = 0;

    (void) state;
    children_init(&children, rows, ARRAY_SIZE(rows));
    west = &children.health[1];
    cell_sched_request_init(&request);
    request.flavor = test_flavor;

    for (int64_t now = TEST_NOW; now < TEST_NOW + 40000; now += 100) {
        CLEANUP(cell_sched_selection_freep) struct cell_sched_selection
            *sel = NULL;

        request.now_ms = now;
        cell_health_record_report(&children.health[0], now);
        assert_null(cell_sched_select(sched, &request, children.candidates,
                                      children.n, NULL, &sel));
        for (size_t j = 0; j < sel->n_choices; j++) {
            size_t k = sel->choices[j].candidate;
            struct cell_health *h = &children.health[k];

            if (!cell_health_start_request(h, now)) {
                continue;
            }
            sent[k]++;
            if (k == 0) {
                /* East answered: no room.  Try the next. */
                cell_health_record_success(h, now);
                continue;
            }
            break;              /* West's answer is pending. */
        }
        /* The probe fails 5 s after it was sent. */
        if (sent[1] == 1 && !probe_failed_at
            && now >= TEST_NOW + 5000) {
            cell_health_record_failure(west, now);
            probe_failed_at = now;
            assert_int_equal(cell_health_state(west, now),
                             CELL_HEALTH_EXCLUDED);
        }
    }
    /* One probe at TEST_NOW, a second 20 s after the first failed (in
     * flight when the loop ends). */
    assert_int_equal(probe_failed_at, TEST_NOW + 5000);
    assert_int_equal(sent[1], 2);
    assert_int_equal(sent[0], 400);
    assert_int_equal(cell_health_state(west, TEST_NOW + 39900),
                     CELL_HEALTH_HALF_OPEN);
    assert_false(cell_health_may_schedule(west, TEST_NOW + 39900));
    children_destroy(&children);
}

/* The scratch space grows with the candidates and decisions repeat. */
static void
test_growing_candidate_lists(void **state)
{
    CLEANUP(cell_sched_freep) struct cell_sched *sched = new_sched(NULL);
    struct cell_capacity *cap = report_with_units(5, NULL, NULL, NULL);
    struct cell_sched_request request;

    (void) state;
    cell_sched_request_init(&request);
    request.flavor = test_flavor;
    request.now_ms = TEST_NOW;
    for (size_t n = 1; n <= 300; n += 37) {
        struct cell_sched_candidate *cands = xcalloc(n, sizeof *cands);
        char **paths = xcalloc(n, sizeof *paths);
        CLEANUP(cell_sched_selection_freep) struct cell_sched_selection
            *sel = NULL;

        for (size_t i = 0; i < n; i++) {
            paths[i] = xasprintf("api!c%zu", i);
            cands[i] = (struct cell_sched_candidate) {
                .path = paths[i], .capacity = cap, .weight_scale = 1.0,
            };
        }
        assert_null(cell_sched_select(sched, &request, cands, n, NULL,
                                      &sel));
        assert_int_equal(sel->n_choices, n);
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(sel->choices[i].candidate, i);
            free(paths[i]);
        }
        free(paths);
        free(cands);
    }
    cell_capacity_free(cap);
}

static void
test_mode_names(void **state)
{
    enum cell_sched_mode mode;

    (void) state;
    assert_string_equal(cell_sched_mode_to_string(CELL_SCHED_FILTER_WEIGHT),
                        "filter_weight");
    assert_string_equal(cell_sched_mode_to_string(CELL_SCHED_RANDOM),
                        "random");
    assert_string_equal(cell_sched_mode_to_string((enum cell_sched_mode) 9),
                        "unknown");
    assert_int_equal(cell_sched_mode_from_string("random", &mode), 0);
    assert_int_equal(mode, CELL_SCHED_RANDOM);
    assert_int_equal(cell_sched_mode_from_string("filter_weight", &mode), 0);
    assert_int_equal(mode, CELL_SCHED_FILTER_WEIGHT);
    assert_int_equal(cell_sched_mode_from_string("Random", &mode), -EINVAL);
    assert_int_equal(cell_sched_mode_from_string("", &mode), -EINVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_decisions),
        cmocka_unit_test(test_weights),
        cmocka_unit_test(test_other_settings),
        cmocka_unit_test(test_max_choices),
        cmocka_unit_test(test_spread),
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_half_open_gets_one_probe),
        cmocka_unit_test(test_growing_candidate_lists),
        cmocka_unit_test(test_mode_names),
    };

    return cmocka_run_group_tests_name("cell-sched", tests, NULL, NULL);
}
