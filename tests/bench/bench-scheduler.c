/* bench-scheduler.c: how long one scheduling decision takes.
 *
 * For cells of 1,000, 10,000 and 100,000 compute nodes of mixed sizes
 * (a few disabled or down, spread over four availability zones), it makes
 * repeated decisions with the default filters and weighers, each claiming
 * its host so the hosts' state keeps changing, and prints the mean, median,
 * 99th percentile and worst time per decision in microseconds:
 *
 *   plain     1 instance, 2 alternates, no zone, image or group
 *   full      1 instance, 2 alternates, a zone, image architecture and
 *             hypervisor type, and an anti-affinity group of 10 members
 *   multi-10  10 instances per request, 2 alternates (time per request)
 *
 * Usage: bench-scheduler [DECISIONS]   (default 2000 per size and case)
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

#include "child-cell/sched-host.h"
#include "child-cell/sched-spec.h"
#include "child-cell/scheduler.h"
#include "shared/cleanup.h"
#include "shared/compiler.h"
#include "shared/error.h"
#include "shared/xalloc.h"

#define BENCH_DEFAULT_DECISIONS 2000
#define BENCH_MAX_DECISIONS 1000000
/* Decisions made before timing starts. */
#define BENCH_WARMUP 50
#define BENCH_N_ZONES 4
#define BENCH_GROUP_SIZE 10
#define BENCH_ALTERNATES 2
#define BENCH_MULTI_INSTANCES 10
/* One host in this many is disabled, one (other) in this many is down. */
#define BENCH_DISABLED_EVERY 97
#define BENCH_DOWN_EVERY 89
#define BENCH_NS_PER_US 1000.0
#define BENCH_NS_PER_S INT64_C(1000000000)

static const size_t bench_sizes[] = { 1000, 10000, 100000 };
static const char *const bench_zones[BENCH_N_ZONES] = {
    "az1", "az2", "az3", "az4",
};

/* xorshift64*: the same cell on every run. */
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

static struct sched_host *
bench_hosts_new(size_t n)
{
    struct sched_host *hosts = sched_host_array_new(n);
    uint64_t rng = UINT64_C(0x243f6a8885a308d3);

    for (size_t i = 0; i < n; i++) {
        AUTOFREE char *name = xasprintf("compute-%06zu", i);
        AUTOFREE char *node = xasprintf("compute-%06zu.cell.example.org",
                                        i);
        int64_t vcpus = 16 << bench_random(&rng, 3);        /* 16..64 */
        struct sched_host_report report = {
            .enabled = i % BENCH_DISABLED_EVERY != 0,
            .up = i % BENCH_DOWN_EVERY != 1,
            .availability_zone = bench_zones[i % BENCH_N_ZONES],
            .hypervisor_type = "QEMU",
            .architecture = "x86_64",
            .total_vcpus = vcpus,
            .total_memory_mb = vcpus * 4096,
            .total_disk_gb = 500 * (1 + (int64_t) bench_random(&rng, 8)),
            .used_vcpus = (int64_t) bench_random(&rng, (uint64_t) vcpus),
            .used_memory_mb = 1024 * (int64_t) bench_random(&rng, 64),
            .used_disk_gb = 10 * (int64_t) bench_random(&rng, 40),
            .reserved_memory_mb = 512,
            .n_instances = (int64_t) bench_random(&rng, 20),
        };

        sched_host_init(&hosts[i], name, node);
        if (sched_host_update(&hosts[i], &report)) {
            fprintf(stderr, "bench-scheduler: bad report for %s\n", name);
            exit(EXIT_FAILURE);
        }
    }
    return hosts;
}

static int
bench_compare_ns(const void *a_, const void *b_)
{
    int64_t a = *(const int64_t *) a_;
    int64_t b = *(const int64_t *) b_;

    return a < b ? -1 : a > b;
}

/* Makes 'n_decisions' decisions for 'spec' and prints their times. */
static void
bench_run(const char *label, struct scheduler *sched,
          const struct sched_spec *spec, struct sched_host *hosts,
          size_t n_hosts, size_t n_decisions)
{
    AUTOFREE int64_t *ns = xcalloc(n_decisions, sizeof *ns);
    double total = 0.0;

    for (size_t i = 0; i < BENCH_WARMUP + n_decisions; i++) {
        CLEANUP(scheduler_selection_freep) struct scheduler_selection *sel
            = NULL;
        int64_t start = bench_now_ns();
        struct error *error = scheduler_select_destinations(sched, spec,
                                                            hosts, n_hosts,
                                                            &sel);
        int64_t elapsed = bench_now_ns() - start;

        if (error) {
            fprintf(stderr, "bench-scheduler: %s, %zu hosts: %s\n", label,
                    n_hosts, error_message(error));
            error_free(error);
            exit(EXIT_FAILURE);
        }
        if (i >= BENCH_WARMUP) {
            ns[i - BENCH_WARMUP] = elapsed;
            total += (double) elapsed;
        }
    }
    qsort(ns, n_decisions, sizeof *ns, bench_compare_ns);
    printf("%8zu  %-9s %9zu %9.1f %9.1f %9.1f %9.1f\n", n_hosts, label,
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

int
main(int argc, char *argv[])
{
    static const struct scheduler_config config = { 0 };
    size_t n_decisions = BENCH_DEFAULT_DECISIONS;
    const char *group[BENCH_GROUP_SIZE];

    if (argc > 2 || (argc == 2 && bench_parse_count(argv[1], &n_decisions))) {
        fprintf(stderr, "usage: %s [DECISIONS]  (1 to %d)\n", argv[0],
                BENCH_MAX_DECISIONS);
        return EXIT_FAILURE;
    }

    printf("%8s  %-9s %9s %9s %9s %9s %9s\n", "hosts", "case", "decisions",
           "mean_us", "p50_us", "p99_us", "max_us");
    for (size_t s = 0; s < ARRAY_SIZE(bench_sizes); s++) {
        size_t n_hosts = bench_sizes[s];
        struct sched_host *hosts = bench_hosts_new(n_hosts);
        CLEANUP(scheduler_freep) struct scheduler *sched = NULL;
        struct error *error = scheduler_new(&config, &sched);
        struct sched_spec spec;

        if (error) {
            fprintf(stderr, "bench-scheduler: %s\n", error_message(error));
            error_free(error);
            return EXIT_FAILURE;
        }

        sched_spec_init(&spec);
        spec.vcpus = 2;
        spec.memory_mb = 4096;
        spec.root_gb = 40;
        spec.n_alternates = BENCH_ALTERNATES;
        bench_run("plain", sched, &spec, hosts, n_hosts, n_decisions);

        /* Group members on every 7th host: borrowed names. */
        for (size_t i = 0; i < BENCH_GROUP_SIZE; i++) {
            group[i] = hosts[(i * 7) % n_hosts].host;
        }
        spec.availability_zone = bench_zones[1];
        spec.image_architecture = "x86_64";
        spec.image_hypervisor_type = "qemu";
        spec.group_policy = SCHED_SPEC_POLICY_ANTI_AFFINITY;
        spec.group_hosts = group;
        spec.n_group_hosts = BENCH_GROUP_SIZE;
        bench_run("full", sched, &spec, hosts, n_hosts, n_decisions);

        sched_spec_init(&spec);
        spec.vcpus = 1;
        spec.memory_mb = 1024;
        spec.root_gb = 10;
        spec.n_alternates = BENCH_ALTERNATES;
        spec.num_instances = BENCH_MULTI_INSTANCES;
        bench_run("multi-10", sched, &spec, hosts, n_hosts,
                  n_decisions / BENCH_MULTI_INSTANCES
                  ? n_decisions / BENCH_MULTI_INSTANCES : 1);

        sched_host_array_free(hosts, n_hosts);
    }
    return EXIT_SUCCESS;
}
