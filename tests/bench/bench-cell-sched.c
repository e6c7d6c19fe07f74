/* bench-cell-sched.c: how long one cell scheduling decision takes.
 *
 * For a cell with 10, 100 and 1000 children (each with a capacity report
 * of 8 hosts and 10 flavor sizes, over four availability zones, a few
 * disabled, mute or excluded), it makes repeated decisions, each taking
 * one instance of room from the child it picked so that the reports keep
 * changing, and prints the mean, median, 99th percentile and worst time
 * per decision in microseconds:
 *
 *   plain    a flavor only; the best 10 choices (scheduler_retries)
 *   all      a flavor only; every candidate that passes, sorted
 *   full     a zone, image architecture and hypervisor type, three
 *            different_cell paths and two children already tried; the
 *            best 10
 *   random   a flavor only, random mode; 10 choices
 *
 * Usage: bench-cell-sched [DECISIONS]   (default 5000 per size and case)
 *
 * Build it without sanitizers and with optimisation for meaningful
 * figures.  Not part of make check: timings belong here, not in tests. */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cells-rpc/cell-capacity.h"
#include "cells-rpc/cell-health.h"
#include "cells-rpc/cell-sched.h"
#include "shared/cleanup.h"
#include "shared/compiler.h"
#include "shared/error.h"
#include "shared/xalloc.h"

#define BENCH_DEFAULT_DECISIONS 5000
#define BENCH_MAX_DECISIONS 1000000
/* Decisions made before timing starts. */
#define BENCH_WARMUP 50
#define BENCH_HOSTS_PER_CHILD 8
#define BENCH_N_FLAVORS 10
#define BENCH_N_ZONES 4
/* Choices wanted: Nova's cells scheduler_retries. */
#define BENCH_CHOICES 10
/* One child in this many is disabled, one (other) mute, one excluded. */
#define BENCH_DISABLED_EVERY 29
#define BENCH_MUTE_EVERY 31
#define BENCH_EXCLUDED_EVERY 37
#define BENCH_NOW INT64_C(1000000000)
#define BENCH_NS_PER_US 1000.0
#define BENCH_NS_PER_S INT64_C(1000000000)

static const size_t bench_sizes[] = { 10, 100, 1000 };
static const char *const bench_zones[BENCH_N_ZONES] = {
    "az1", "az2", "az3", "az4",
};

struct bench_cell {
    size_t n;
    char **paths;
    struct cell_capacity **reports;
    struct cell_health *health;
    struct cell_sched_candidate *candidates;
    struct cell_health_config health_config;
};

/* xorshift64*: the same children on every run. */
static uint64_t
bench_random(uint64_t *state, uint64_t n)
{
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return (*state * UINT64_C(2685821657736338717) >> 33) % n;
}

static int64_t
bench_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * BENCH_NS_PER_S + ts.tv_nsec;
}

static struct cell_capacity *
bench_report(size_t child, uint64_t *rng)
{
    struct cell_capacity_flavor flavors[BENCH_N_FLAVORS];
    struct cell_capacity_host hosts[BENCH_HOSTS_PER_CHILD];
    struct cell_capacity *cap = NULL;
    struct error *error;

    for (size_t f = 0; f < BENCH_N_FLAVORS; f++) {
        flavors[f] = (struct cell_capacity_flavor) {
            .vcpus = 1 + (int64_t) (f % 4), .ram_mb = 512 << (f % 5),
            .disk_gb = 10 * (int64_t) (f % 3),
        };
    }
    for (size_t h = 0; h < BENCH_HOSTS_PER_CHILD; h++) {
        int64_t vcpus = 16 << bench_random(rng, 3);

        hosts[h] = (struct cell_capacity_host) {
            .free = { vcpus * 4096 - 1024 * (int64_t) bench_random(rng, 64),
                      500, vcpus - (int64_t) bench_random(rng, 8) },
            .total = { vcpus * 4096, 1000, vcpus },
            .n_instances = (int64_t) bench_random(rng, 20),
            .usable = true,
            .hypervisor_type = h % 2 ? "QEMU" : "test",
            .architecture = "x86_64",
            .availability_zone = bench_zones[(child + h) % BENCH_N_ZONES],
        };
    }
    error = cell_capacity_build(hosts, BENCH_HOSTS_PER_CHILD, flavors,
                                BENCH_N_FLAVORS,
                                CELL_CAPACITY_DEFAULT_RESERVE_PERCENT,
                                BENCH_NOW, &cap);
    if (error) {
        fprintf(stderr, "bench-cell-sched: %s\n", error_message(error));
        exit(EXIT_FAILURE);
    }
    return cap;
}

static void
bench_cell_init(struct bench_cell *cell, size_t n)
{
    uint64_t rng = UINT64_C(0x243f6a8885a308d3);

    cell->n = n;
    cell->paths = xcalloc(n, sizeof *cell->paths);
    cell->reports = xcalloc(n, sizeof *cell->reports);
    cell->health = xcalloc(n, sizeof *cell->health);
    cell->candidates = xcalloc(n, sizeof *cell->candidates);
    cell_health_config_init(&cell->health_config);
    for (size_t i = 0; i < n; i++) {
        int64_t heard = BENCH_NOW;

        if (i % BENCH_MUTE_EVERY == 2) {
            heard -= cell->health_config.mute_child_interval_ms + 1;
        } else if (i % BENCH_EXCLUDED_EVERY == 3) {
            heard -= (cell->health_config.max_missed_reports
                      * cell->health_config.report_interval_ms + 1);
        }
        cell->paths[i] = xasprintf("api!cell-%04zu", i);
        cell->reports[i] = bench_report(i, &rng);
        cell_health_init(&cell->health[i], &cell->health_config, heard);
        cell_health_record_report(&cell->health[i], heard);
        cell->candidates[i] = (struct cell_sched_candidate) {
            .path = cell->paths[i],
            .capacity = cell->reports[i],
            .health = &cell->health[i],
            .disabled = i % BENCH_DISABLED_EVERY == 1,
            .weight_offset = (double) (i % 3) / 10.0,
            .weight_scale = 1.0,
        };
    }
}

static void
bench_cell_destroy(struct bench_cell *cell)
{
    for (size_t i = 0; i < cell->n; i++) {
        free(cell->paths[i]);
        cell_capacity_free(cell->reports[i]);
    }
    free(cell->paths);
    free(cell->reports);
    free(cell->health);
    free(cell->candidates);
}

/* Takes one instance of 'flavor' from the report of child 'i', as the
 * next report would show, but keeps one unit of every size so that a long
 * run never empties the cell. */
static void
bench_consume(struct bench_cell *cell, size_t i,
              const struct cell_capacity_flavor *flavor)
{
    struct cell_capacity *cap = cell->reports[i];

    for (size_t u = 0; u < cap->n_units; u++) {
        if (cap->units[u].units > 1) {
            cap->units[u].units--;
        }
    }
    cap->free.ram_mb = MAX(0, cap->free.ram_mb - flavor->ram_mb);
    cap->free.vcpus = MAX(0, cap->free.vcpus - flavor->vcpus);
}

static int
bench_compare_ns(const void *a_, const void *b_)
{
    int64_t a = *(const int64_t *) a_;
    int64_t b = *(const int64_t *) b_;

    return a < b ? -1 : a > b;
}

/* Makes 'n_decisions' decisions for 'request' and prints their times. */
static void
bench_run(const char *label, struct cell_sched *sched,
          const struct cell_sched_request *request, struct bench_cell *cell,
          size_t n_decisions)
{
    AUTOFREE int64_t *ns = xcalloc(n_decisions, sizeof *ns);
    struct cell_sched_random rng;
    double total = 0.0;

    cell_sched_random_init(&rng, 1);
    for (size_t i = 0; i < BENCH_WARMUP + n_decisions; i++) {
        CLEANUP(cell_sched_selection_freep) struct cell_sched_selection
            *sel = NULL;
        int64_t start = bench_now_ns();
        struct error *error = cell_sched_select(sched, request,
                                                cell->candidates, cell->n,
                                                &rng, &sel);
        int64_t elapsed = bench_now_ns() - start;

        if (error) {
            fprintf(stderr, "bench-cell-sched: %s, %zu children: %s\n",
                    label, cell->n, error_message(error));
            error_free(error);
            exit(EXIT_FAILURE);
        }
        bench_consume(cell, sel->choices[0].candidate, &request->flavor);
        if (i >= BENCH_WARMUP) {
            ns[i - BENCH_WARMUP] = elapsed;
            total += (double) elapsed;
        }
    }
    qsort(ns, n_decisions, sizeof *ns, bench_compare_ns);
    printf("%8zu  %-7s %9zu %9.2f %9.2f %9.2f %9.2f\n", cell->n, label,
           n_decisions, total / (double) n_decisions / BENCH_NS_PER_US,
           (double) ns[n_decisions / 2] / BENCH_NS_PER_US,
           (double) ns[(n_decisions * 99) / 100] / BENCH_NS_PER_US,
           (double) ns[n_decisions - 1] / BENCH_NS_PER_US);
    fflush(stdout);
}

/* Parses the optional decision count.  Returns 0 or -EINVAL. */
static int
bench_parse_count(const char *arg, size_t *ret_count)
{
    char *end;
    unsigned long long value;

    errno = 0;
    value = strtoull(arg, &end, 10);
    if (errno || end == arg || *end || !value
        || value > BENCH_MAX_DECISIONS) {
        return -EINVAL;
    }
    *ret_count = (size_t) value;
    return 0;
}

static struct cell_sched *
bench_sched_new(enum cell_sched_mode mode)
{
    const struct cell_sched_config config = {
        .cell_path = "api", .mode = mode,
    };
    struct cell_sched *sched = NULL;
    struct error *error = cell_sched_new(&config, &sched);

    if (error) {
        fprintf(stderr, "bench-cell-sched: %s\n", error_message(error));
        exit(EXIT_FAILURE);
    }
    return sched;
}

int
main(int argc, char *argv[])
{
    static const char *const different[] = {
        "api!cell-0005!leaf-1", "api!cell-0007", "api!elsewhere",
    };
    static const char *const tried[] = { "api!cell-0000", "api!cell-0004" };
    size_t n_decisions = BENCH_DEFAULT_DECISIONS;
    CLEANUP(cell_sched_freep) struct cell_sched *weighing =
        bench_sched_new(CELL_SCHED_FILTER_WEIGHT);
    CLEANUP(cell_sched_freep) struct cell_sched *random_order =
        bench_sched_new(CELL_SCHED_RANDOM);
    struct cell_sched_request plain, all, full;

    if (argc > 2 || (argc == 2 && bench_parse_count(argv[1], &n_decisions))) {
        fprintf(stderr, "usage: %s [DECISIONS]  (1 to %d)\n", argv[0],
                BENCH_MAX_DECISIONS);
        return EXIT_FAILURE;
    }

    cell_sched_request_init(&plain);
    plain.flavor = (struct cell_capacity_flavor) { 1, 512, 0 };
    plain.now_ms = BENCH_NOW;
    all = plain;
    plain.max_choices = BENCH_CHOICES;
    full = plain;
    full.availability_zone = "az2";
    full.image_architecture = "x86_64";
    full.image_hypervisor_type = "qemu";
    full.different_cell = different;
    full.n_different_cell = ARRAY_SIZE(different);
    full.tried = tried;
    full.n_tried = ARRAY_SIZE(tried);

    printf("%8s  %-7s %9s %9s %9s %9s %9s\n", "children", "case",
           "decisions", "mean_us", "p50_us", "p99_us", "max_us");
    for (size_t s = 0; s < ARRAY_SIZE(bench_sizes); s++) {
        struct bench_cell cell;

        bench_cell_init(&cell, bench_sizes[s]);
        bench_run("plain", weighing, &plain, &cell, n_decisions);
        bench_run("all", weighing, &all, &cell, n_decisions);
        bench_run("full", weighing, &full, &cell, n_decisions);
        bench_run("random", random_order, &plain, &cell, n_decisions);
        bench_cell_destroy(&cell);
    }
    return EXIT_SUCCESS;
}
