/* test-sched-select.c: whole decisions.  Configuration errors; requests of
 * several instances consuming capacity (spread and stack); NoValidHost
 * naming the filter that removed the last hosts, with every claim of the
 * request rolled back; alternates; server-group policies within a request;
 * forced and ignored hosts; claims seen by later requests and released;
 * and a long run of requests, releases, deletes and reports that must
 * never oversubscribe a host. */
#include <config.h>

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "child-cell/sched-filter.h"
#include "child-cell/sched-host.h"
#include "child-cell/sched-spec.h"
#include "child-cell/sched-weigh.h"
#include "child-cell/scheduler.h"
#include "shared/compiler.h"
#include "shared/error.h"
#include "shared/xalloc.h"

/* Most hosts, instances or names in a table row. */
#define TEST_MAX_HOSTS 8
#define TEST_MAX_INSTANCES 4

/* A host of 'vcpus' (ratio 1.0), 'memory_mb' (ratio 1.0) and 100 GiB. */
struct host_row {
    const char *name;
    int64_t vcpus;
    int64_t memory_mb;
    bool disabled;
    const char *az;
};

static void
init_hosts(struct sched_host *hosts, const struct host_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct sched_host_report report = {
            .enabled = !rows[i].disabled, .up = true,
            .availability_zone = rows[i].az,
            .hypervisor_type = "QEMU", .architecture = "x86_64",
            .total_vcpus = rows[i].vcpus, .cpu_ratio = 1.0,
            .total_memory_mb = rows[i].memory_mb, .total_disk_gb = 100,
        };

        sched_host_init(&hosts[i], rows[i].name, rows[i].name);
        assert_int_equal(sched_host_update(&hosts[i], &report), 0);
    }
}

static void
destroy_hosts(struct sched_host *hosts, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        sched_host_destroy(&hosts[i]);
    }
}

static size_t
count_claims(const struct sched_host *hosts, size_t n)
{
    size_t n_claims = 0;

    for (size_t i = 0; i < n; i++) {
        n_claims += hosts[i].n_claims;
    }
    return n_claims;
}

static struct scheduler *
new_scheduler(const struct scheduler_config *config)
{
    static const struct scheduler_config defaults = { 0 };
    struct scheduler *sched = NULL;

    assert_null(scheduler_new(config ? config : &defaults, &sched));
    return sched;
}

static void
test_config(void **state)
{
    static const char *const unknown[] = { "ComputeFilter", "RamFiltr" };
    static const char *const twice[] = { "RamFilter", "CoreFilter",
                                         "RamFilter" };
    static const char *const nova_legacy[] = { "RetryFilter" };
    static const char *const good[] = { "CoreFilter", "RamFilter" };
    static const struct scheduler_weigher_config bad_weigher[] = {
        { "RAMWeigher", 1.0 }, { "IoOpsWeigher", 1.0 },
    };
    static const struct scheduler_weigher_config weigher_twice[] = {
        { "RAMWeigher", 1.0 }, { "RAMWeigher", -1.0 },
    };
    static const struct scheduler_weigher_config nan_weigher[] = {
        { "CPUWeigher", NAN },
    };
    static const struct scheduler_weigher_config inf_weigher[] = {
        { "CPUWeigher", -INFINITY },
    };
    static const struct scheduler_weigher_config stack[] = {
        { "RAMWeigher", -1.0 }, { "CPUWeigher", 0.0 },
    };
    static const struct {
        const char *what;
        struct scheduler_config config;
        const char *error;      /* Expected message; NULL: valid. */
    } cases[] = {
        { "defaults", { 0 }, NULL },
        { "explicit filters and weighers",
          { good, 2, stack, 2 }, NULL },
        { "no filters at all", { good, 0, NULL, 0 }, NULL },
        { "no weighers at all", { NULL, 0, stack, 0 }, NULL },
        { "unknown filter", { unknown, 2, NULL, 0 },
          "Unknown scheduler filter 'RamFiltr'; known filters are: "
          "ComputeFilter, RamFilter, DiskFilter, CoreFilter, "
          "AvailabilityZoneFilter, ImagePropertiesFilter, "
          "ServerGroupAffinityFilter, ServerGroupAntiAffinityFilter" },
        { "filter Nova retired", { nova_legacy, 1, NULL, 0 },
          "Unknown scheduler filter 'RetryFilter'; known filters are: "
          "ComputeFilter, " },
        { "filter twice", { twice, 3, NULL, 0 },
          "Scheduler filter 'RamFilter' is listed twice" },
        { "unknown weigher", { NULL, 0, bad_weigher, 2 },
          "Unknown scheduler weigher 'IoOpsWeigher'; known weighers are: "
          "RAMWeigher, CPUWeigher, DiskWeigher, "
          "ServerGroupSoftAffinityWeigher, "
          "ServerGroupSoftAntiAffinityWeigher" },
        { "weigher twice", { NULL, 0, weigher_twice, 2 },
          "Scheduler weigher 'RAMWeigher' is listed twice" },
        { "NaN multiplier", { NULL, 0, nan_weigher, 1 },
          "Multiplier of scheduler weigher 'CPUWeigher' must be a finite "
          "number" },
        { "infinite multiplier", { NULL, 0, inf_weigher, 1 },
          "Multiplier of scheduler weigher 'CPUWeigher' must be a finite "
          "number" },
    };

    (void) state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct scheduler *sched = NULL;
        CLEANUP(error_freep) struct error *error =
            scheduler_new(&cases[i].config, &sched);

        print_message("# %s\n", cases[i].what);
        if (!cases[i].error) {
            assert_null(error);
            assert_non_null(sched);
            scheduler_free(sched);
            continue;
        }
        assert_non_null(error);
        assert_null(sched);
        assert_int_equal(error_kind(error), ERROR_INVALID);
        assert_true(!strncmp(error_message(error), cases[i].error,
                             strlen(cases[i].error)));
    }
    scheduler_free(NULL);
}

/* Hosts in 'rows', a request of 'n_instances' of 'memory_mb', RAM
 * weigher 'multiplier': the host names picked, or the error. */
struct placement_case {
    const char *what;
    struct host_row hosts[TEST_MAX_HOSTS];
    size_t n_hosts;
    int64_t memory_mb;
    size_t n_instances;
    double multiplier;
    const char *picks[TEST_MAX_INSTANCES];
    const char *error;
};

static const struct placement_case placement_cases[] = {
    { "3 instances spread over 3 hosts with room for 2 each",
      { { "h1", 8, 4096 }, { "h2", 8, 4096 }, { "h3", 8, 4096 } }, 3,
      2048, 3, 1.0, { "h1", "h2", "h3" }, NULL },
    { "3 instances stacked on hosts with room for 2 each",
      { { "h1", 8, 4096 }, { "h2", 8, 4096 }, { "h3", 8, 4096 } }, 3,
      2048, 3, -1.0, { "h1", "h1", "h2" }, NULL },
    { "3 instances spread over 2 hosts with room for 2 each",
      { { "h1", 8, 4096 }, { "h2", 8, 4096 } }, 2,
      2048, 3, 1.0, { "h1", "h2", "h1" }, NULL },
    { "spreading starts on the emptiest host",
      { { "h1", 8, 4096 }, { "h2", 8, 8192 } }, 2,
      2048, 3, 1.0, { "h2", "h2", "h1" }, NULL },
    { "4 instances fill 2 hosts exactly",
      { { "h1", 8, 4096 }, { "h2", 8, 4096 } }, 2,
      2048, 4, 1.0, { "h1", "h2", "h1", "h2" }, NULL },
    { "3 instances, room for 2 in total",
      { { "h1", 8, 2048 }, { "h2", 8, 2048 } }, 2,
      2048, 3, 1.0, { NULL },
      "No valid host was found. There are not enough hosts available. "
      "Filter RamFilter returned 0 hosts for instance 3 of 3. "
      "Filter results: ComputeFilter (start: 1, end: 1), "
      "RamFilter (start: 1, end: 0)." },
    { "5 instances, room for 4 in total, stacked",
      { { "h1", 8, 4096 }, { "h2", 8, 4096 } }, 2,
      2048, 5, -1.0, { NULL },
      "No valid host was found. There are not enough hosts available. "
      "Filter RamFilter returned 0 hosts for instance 5 of 5." },
    { "1 instance, no host big enough",
      { { "h1", 8, 1024 }, { "off", 8, 8192, .disabled = true },
        { "h3", 8, 1024 } }, 3,
      2048, 1, 1.0, { NULL },
      "No valid host was found. There are not enough hosts available. "
      "Filter RamFilter returned 0 hosts for instance 1 of 1. "
      "Filter results: ComputeFilter (start: 3, end: 2), "
      "RamFilter (start: 2, end: 0)." },
    { "an empty cell", { { 0 } }, 0, 2048, 1, 1.0, { NULL },
      "No valid host was found. There are not enough hosts available. "
      "The cell has no compute nodes." },
};

static void
test_placements(void **state)
{
    (void) state;
    for (size_t i = 0;
         i < sizeof placement_cases / sizeof placement_cases[0]; i++) {
        const struct placement_case *c = &placement_cases[i];
        const struct scheduler_weigher_config ram[] = {
            { "RAMWeigher", c->multiplier },
        };
        const struct scheduler_config config = {
            .weighers = ram, .n_weighers = 1,
        };
        CLEANUP(scheduler_freep) struct scheduler *sched =
            new_scheduler(&config);
        CLEANUP(scheduler_selection_freep) struct scheduler_selection *sel
            = NULL;
        CLEANUP(error_freep) struct error *error = NULL;
        struct sched_host hosts[TEST_MAX_HOSTS];
        int64_t free_before[TEST_MAX_HOSTS];
        struct sched_spec spec;

        print_message("# %s\n", c->what);
        init_hosts(hosts, c->hosts, c->n_hosts);
        for (size_t j = 0; j < c->n_hosts; j++) {
            free_before[j] = hosts[j].free_memory_mb;
        }
        sched_spec_init(&spec);
        spec.vcpus = 1;
        spec.memory_mb = c->memory_mb;
        spec.root_gb = 1;
        spec.num_instances = c->n_instances;

        error = scheduler_select_destinations(sched, &spec, hosts,
                                              c->n_hosts, &sel);
        if (c->error) {
            assert_non_null(error);
            assert_null(sel);
            assert_int_equal(error_kind(error), ERROR_NO_VALID_HOST);
            assert_true(!strncmp(error_message(error), c->error,
                                 strlen(c->error)));
            /* Nothing of the failed request remains. */
            assert_int_equal(count_claims(hosts, c->n_hosts), 0);
            for (size_t j = 0; j < c->n_hosts; j++) {
                assert_int_equal(hosts[j].free_memory_mb, free_before[j]);
            }
        } else {
            int64_t claimed[TEST_MAX_HOSTS] = { 0 };

            assert_null(error);
            assert_int_equal(sel->n_dests, c->n_instances);
            for (size_t j = 0; j < c->n_instances; j++) {
                size_t h = sel->dests[j].host;

                assert_string_equal(hosts[h].host, c->picks[j]);
                assert_int_equal(sel->dests[j].n_alternates, 0);
                claimed[h] += c->memory_mb;
            }
            assert_int_equal(count_claims(hosts, c->n_hosts),
                             c->n_instances);
            for (size_t j = 0; j < c->n_hosts; j++) {
                assert_int_equal(hosts[j].free_memory_mb,
                                 free_before[j] - claimed[j]);
                assert_true(hosts[j].free_memory_mb >= 0);
            }
        }
        destroy_hosts(hosts, c->n_hosts);
    }
}

/* Which filter removes the last hosts, for requests that cannot fit. */
static void
test_no_valid_host_names_the_filter(void **state)
{
    static const struct host_row rows[] = {
        { "h1", 4, 4096, .az = "az1" },
        { "h2", 8, 8192, .az = "az1" },
        { "h3", 2, 2048, .az = "az2" },
        { "off", 64, 65536, .disabled = true, .az = "az1" },
    };
    static const char *const h1_h2_h3[] = { "h1", "h2", "h3" };
    static const char *const all[] = { "h1", "h2", "h3", "off" };
    static const char *const h3[] = { "h3" };
    static const char *const nowhere[] = { "h9" };
    static const struct {
        const char *what;
        struct sched_spec spec;
        const char *filter;
    } cases[] = {
        { "too much RAM", { .num_instances = 1, .memory_mb = 16384 },
          "RamFilter" },
        { "too many vCPUs", { .num_instances = 1, .vcpus = 16 },
          "CoreFilter" },
        { "too much disk", { .num_instances = 1, .root_gb = 101 },
          "DiskFilter" },
        { "unknown zone",
          { .num_instances = 1, .availability_zone = "az9" },
          "AvailabilityZoneFilter" },
        { "other architecture",
          { .num_instances = 1, .image_architecture = "ppc64le" },
          "ImagePropertiesFilter" },
        { "anti-affinity, every host used",
          { .num_instances = 1,
            .group_policy = SCHED_SPEC_POLICY_ANTI_AFFINITY,
            .group_hosts = h1_h2_h3, .n_group_hosts = 3 },
          "ServerGroupAntiAffinityFilter" },
        { "affinity to a host in another zone",
          { .num_instances = 1, .availability_zone = "az1",
            .group_policy = SCHED_SPEC_POLICY_AFFINITY,
            .group_hosts = h3, .n_group_hosts = 1 },
          "ServerGroupAffinityFilter" },
        { "forced to an unknown host",
          { .num_instances = 1, .force_hosts = nowhere,
            .n_force_hosts = 1 },
          "force_hosts" },
        { "every host ignored",
          { .num_instances = 1, .ignore_hosts = all, .n_ignore_hosts = 4 },
          "ignore_hosts" },
        { "forced host too small",
          { .num_instances = 1, .memory_mb = 4096, .force_hosts = h3,
            .n_force_hosts = 1 },
          "RamFilter" },
        { "second instance of an anti-affine pair in az2",
          { .num_instances = 2, .availability_zone = "az2",
            .group_policy = SCHED_SPEC_POLICY_ANTI_AFFINITY },
          "ServerGroupAntiAffinityFilter" },
    };

    (void) state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CLEANUP(scheduler_freep) struct scheduler *sched =
            new_scheduler(NULL);
        CLEANUP(scheduler_selection_freep) struct scheduler_selection *sel
            = NULL;
        CLEANUP(error_freep) struct error *error = NULL;
        struct sched_host hosts[ARRAY_SIZE(rows)];
        AUTOFREE char *expected = xasprintf("Filter %s returned 0 hosts",
                                            cases[i].filter);

        print_message("# %s\n", cases[i].what);
        init_hosts(hosts, rows, ARRAY_SIZE(rows));
        error = scheduler_select_destinations(sched, &cases[i].spec, hosts,
                                              ARRAY_SIZE(rows), &sel);
        assert_non_null(error);
        assert_int_equal(error_kind(error), ERROR_NO_VALID_HOST);
        assert_true(!strncmp(error_message(error),
                             "No valid host was found. ", 25));
        assert_non_null(strstr(error_message(error), expected));
        assert_int_equal(count_claims(hosts, ARRAY_SIZE(rows)), 0);
        destroy_hosts(hosts, ARRAY_SIZE(rows));
    }
}

static void
test_invalid_spec(void **state)
{
    CLEANUP(scheduler_freep) struct scheduler *sched = new_scheduler(NULL);
    struct scheduler_selection *sel = NULL;
    struct sched_spec spec;
    struct error *error;

    (void) state;
    sched_spec_init(&spec);
    spec.memory_mb = -1;
    error = scheduler_select_destinations(sched, &spec, NULL, 0, &sel);
    assert_non_null(error);
    assert_int_equal(error_kind(error), ERROR_INVALID);
    assert_null(sel);
    error_free(error);
}

/* Returns true if 'host' passes the default filters for 'spec' now. */
static bool
host_fits(const struct sched_host *host, const struct sched_spec *spec)
{
    return host->enabled && host->up && host->free_vcpus >= spec->vcpus
           && host->free_memory_mb >= spec->memory_mb
           && host->free_disk_mb >= sched_spec_disk_mb(spec);
}

static void
test_alternates(void **state)
{
    static const struct host_row rows[] = {
        { "h1", 8, 8192 }, { "h2", 8, 6144 }, { "small", 8, 1024 },
        { "h4", 8, 7168 }, { "off", 8, 65536, .disabled = true },
        { "h6", 8, 5120 }, { "h7", 8, 4096 },
    };
    static const struct {
        size_t n_instances;
        size_t n_alternates;
        size_t expect_alternates;
    } cases[] = {
        { 1, 0, 0 },
        { 1, 2, 2 },
        { 1, 4, 4 },
        { 1, 10, 4 },           /* Only 5 hosts fit: 1 + 4. */
        { 2, 2, 2 },
        { 3, 2, 2 },
        { 3, 10, 2 },           /* 5 fit, 3 selected. */
        { 4, 1, 1 },
    };

    (void) state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CLEANUP(scheduler_freep) struct scheduler *sched =
            new_scheduler(NULL);
        CLEANUP(scheduler_selection_freep) struct scheduler_selection *sel
            = NULL;
        struct sched_host hosts[ARRAY_SIZE(rows)];
        struct sched_spec spec;

        print_message("# %zu instances, %zu alternates\n",
                      cases[i].n_instances, cases[i].n_alternates);
        init_hosts(hosts, rows, ARRAY_SIZE(rows));
        sched_spec_init(&spec);
        spec.vcpus = 1;
        spec.memory_mb = 2048;
        spec.num_instances = cases[i].n_instances;
        spec.n_alternates = cases[i].n_alternates;
        assert_null(scheduler_select_destinations(sched, &spec, hosts,
                                                  ARRAY_SIZE(rows), &sel));
        assert_int_equal(sel->n_dests, cases[i].n_instances);

        for (size_t d = 0; d < sel->n_dests; d++) {
            const struct scheduler_dest *dest = &sel->dests[d];

            assert_int_equal(dest->n_alternates, cases[i].expect_alternates);
            for (size_t a = 0; a < dest->n_alternates; a++) {
                const struct scheduler_pick *alt = &dest->alternates[a];

                /* Valid now, unclaimed, and better ones first. */
                assert_true(alt->host < ARRAY_SIZE(rows));
                assert_true(host_fits(&hosts[alt->host], &spec));
                assert_int_equal(hosts[alt->host].n_claims, 0);
                if (a) {
                    assert_true(alt->weight <= dest->alternates[a - 1].weight);
                } else {
                    assert_true(alt->weight <= dest->weight
                                || sel->n_dests > 1);
                }
                /* Distinct from each other and from every selection. */
                for (size_t b = 0; b < a; b++) {
                    assert_int_not_equal(alt->host,
                                         dest->alternates[b].host);
                }
                for (size_t e = 0; e < sel->n_dests; e++) {
                    assert_int_not_equal(alt->host, sel->dests[e].host);
                }
            }
        }
        destroy_hosts(hosts, ARRAY_SIZE(rows));
    }
}

static void
test_group_policies_within_a_request(void **state)
{
    static const struct host_row rows[] = {
        { "h1", 8, 8192 }, { "h2", 8, 8192 }, { "h3", 8, 8192 },
    };
    static const char *const on_h3[] = { "h3" };
    static const struct {
        const char *what;
        enum sched_spec_policy policy;
        const char *const *group;
        size_t n_group;
        size_t n_instances;
        int64_t memory_mb;
        const char *picks[TEST_MAX_INSTANCES];
        const char *error;
    } cases[] = {
        { "affinity packs a new group on one host",
          SCHED_SPEC_POLICY_AFFINITY, NULL, 0, 3, 2048,
          { "h1", "h1", "h1" }, NULL },
        { "affinity follows the group's host",
          SCHED_SPEC_POLICY_AFFINITY, on_h3, 1, 2, 2048,
          { "h3", "h3" }, NULL },
        { "affinity beyond one host's room",
          SCHED_SPEC_POLICY_AFFINITY, NULL, 0, 3, 4096, { NULL },
          "Filter RamFilter returned 0 hosts for instance 3 of 3" },
        { "anti-affinity spreads a new group",
          SCHED_SPEC_POLICY_ANTI_AFFINITY, NULL, 0, 3, 1024,
          { "h1", "h2", "h3" }, NULL },
        { "anti-affinity avoids the group's host",
          SCHED_SPEC_POLICY_ANTI_AFFINITY, on_h3, 1, 2, 1024,
          { "h1", "h2" }, NULL },
        { "anti-affinity, more members than hosts",
          SCHED_SPEC_POLICY_ANTI_AFFINITY, NULL, 0, 4, 1024, { NULL },
          "Filter ServerGroupAntiAffinityFilter returned 0 hosts for "
          "instance 4 of 4" },
        { "soft affinity packs while it fits",
          SCHED_SPEC_POLICY_SOFT_AFFINITY, NULL, 0, 3, 4096,
          { "h1", "h1", "h2" }, NULL },
        { "soft anti-affinity spreads but tolerates sharing",
          SCHED_SPEC_POLICY_SOFT_ANTI_AFFINITY, NULL, 0, 4, 1024,
          { "h1", "h2", "h3", "h1" }, NULL },
    };
    /* The soft weighers count double so they beat the RAM weigher. */
    static const struct scheduler_weigher_config weighers[] = {
        { "RAMWeigher", 1.0 },
        { "ServerGroupSoftAffinityWeigher", 2.0 },
        { "ServerGroupSoftAntiAffinityWeigher", 2.0 },
    };
    static const struct scheduler_config config = {
        .weighers = weighers, .n_weighers = ARRAY_SIZE(weighers),
    };

    (void) state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CLEANUP(scheduler_freep) struct scheduler *sched =
            new_scheduler(&config);
        CLEANUP(scheduler_selection_freep) struct scheduler_selection *sel
            = NULL;
        CLEANUP(error_freep) struct error *error = NULL;
        struct sched_host hosts[ARRAY_SIZE(rows)];
        struct sched_spec spec;

        print_message("# %s\n", cases[i].what);
        init_hosts(hosts, rows, ARRAY_SIZE(rows));
        sched_spec_init(&spec);
        spec.memory_mb = cases[i].memory_mb;
        spec.num_instances = cases[i].n_instances;
        spec.group_policy = cases[i].policy;
        spec.group_hosts = cases[i].group;
        spec.n_group_hosts = cases[i].n_group;
        error = scheduler_select_destinations(sched, &spec, hosts,
                                              ARRAY_SIZE(rows), &sel);
        if (cases[i].error) {
            assert_non_null(error);
            assert_non_null(strstr(error_message(error), cases[i].error));
            assert_int_equal(count_claims(hosts, ARRAY_SIZE(rows)), 0);
        } else {
            assert_null(error);
            for (size_t j = 0; j < cases[i].n_instances; j++) {
                assert_string_equal(hosts[sel->dests[j].host].host,
                                    cases[i].picks[j]);
            }
        }
        destroy_hosts(hosts, ARRAY_SIZE(rows));
    }
}

static void
test_force_and_ignore_hosts(void **state)
{
    static const struct host_row rows[] = {
        { "h1", 8, 8192 }, { "h2", 8, 4096 }, { "h3", 8, 2048 },
    };
    static const char *const h3[] = { "h3" };
    static const char *const h1[] = { "h1" };
    static const char *const h2_h3[] = { "h2", "h3" };
    static const struct {
        const char *what;
        const char *const *force;
        size_t n_force;
        const char *const *ignore;
        size_t n_ignore;
        const char *pick;
    } cases[] = {
        { "no lists: the emptiest", NULL, 0, NULL, 0, "h1" },
        { "forced to a worse host", h3, 1, NULL, 0, "h3" },
        { "forced to two, best of them", h2_h3, 2, NULL, 0, "h2" },
        { "best host ignored", NULL, 0, h1, 1, "h2" },
        { "forced and ignored", h2_h3, 2, h3, 1, "h2" },
    };

    (void) state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CLEANUP(scheduler_freep) struct scheduler *sched =
            new_scheduler(NULL);
        CLEANUP(scheduler_selection_freep) struct scheduler_selection *sel
            = NULL;
        struct sched_host hosts[ARRAY_SIZE(rows)];
        struct sched_spec spec;

        print_message("# %s\n", cases[i].what);
        init_hosts(hosts, rows, ARRAY_SIZE(rows));
        sched_spec_init(&spec);
        spec.memory_mb = 1024;
        spec.force_hosts = cases[i].force;
        spec.n_force_hosts = cases[i].n_force;
        spec.ignore_hosts = cases[i].ignore;
        spec.n_ignore_hosts = cases[i].n_ignore;
        assert_null(scheduler_select_destinations(sched, &spec, hosts,
                                                  ARRAY_SIZE(rows), &sel));
        assert_string_equal(hosts[sel->dests[0].host].host, cases[i].pick);
        destroy_hosts(hosts, ARRAY_SIZE(rows));
    }
}

static void
test_claims_outlive_the_request(void **state)
{
    static const struct host_row rows[] = {
        { "h1", 8, 4096 }, { "h2", 8, 4096 },
    };
    static const char *const uuids[] = { "uuid-1", "uuid-2", "uuid-3" };
    CLEANUP(scheduler_freep) struct scheduler *sched = new_scheduler(NULL);
    CLEANUP(scheduler_selection_freep) struct scheduler_selection *first
        = NULL;
    CLEANUP(scheduler_selection_freep) struct scheduler_selection *second
        = NULL;
    struct scheduler_selection *third = NULL;
    struct sched_host hosts[ARRAY_SIZE(rows)];
    struct sched_spec spec;
    struct error *error;

    (void) state;
    init_hosts(hosts, rows, ARRAY_SIZE(rows));
    sched_spec_init(&spec);
    spec.memory_mb = 4096;
    spec.num_instances = 1;
    spec.instance_uuids = uuids;

    /* Each request sees the claims of the one before. */
    assert_null(scheduler_select_destinations(sched, &spec, hosts, 2,
                                              &first));
    spec.instance_uuids = uuids + 1;
    assert_null(scheduler_select_destinations(sched, &spec, hosts, 2,
                                              &second));
    assert_int_not_equal(first->dests[0].host, second->dests[0].host);
    assert_int_not_equal(first->dests[0].claim_id,
                         second->dests[0].claim_id);
    spec.instance_uuids = uuids + 2;
    error = scheduler_select_destinations(sched, &spec, hosts, 2, &third);
    assert_non_null(error);
    assert_null(third);
    error_free(error);

    /* A failed build frees its host for the next request. */
    assert_int_equal(sched_host_release_instance(
                         &hosts[first->dests[0].host], "uuid-1"), 0);
    assert_null(scheduler_select_destinations(sched, &spec, hosts, 2,
                                              &third));
    assert_int_equal(third->dests[0].host, first->dests[0].host);
    assert_string_equal(hosts[third->dests[0].host].claims[0].instance_uuid,
                        "uuid-3");

    /* A selection conductor never received is released whole. */
    assert_int_equal(scheduler_release_selection(hosts, 2, third), 1);
    assert_int_equal(scheduler_release_selection(hosts, 2, third), 0);
    assert_int_equal(scheduler_release_selection(hosts, 2, second), 1);
    assert_int_equal(count_claims(hosts, 2), 0);
    assert_int_equal(hosts[0].free_memory_mb, 4096);
    assert_int_equal(hosts[1].free_memory_mb, 4096);
    scheduler_selection_free(third);
    destroy_hosts(hosts, ARRAY_SIZE(rows));
}

/* Reference model: the same decision made the slow, obvious way (every
 * filter on every host, Nova's normalisation formula, a full scan for each
 * place), on a copy of the hosts, over several blocks of hosts. */

#define REF_N_HOSTS 300
#define REF_N_REQUESTS 60
#define REF_MAX_PICKS (SCHED_SPEC_MAX_ALTERNATES + 1)
#define REF_MAX_WEIGHERS 3
/* Weights computed in two orders of operations agree to within this. */
#define REF_EPSILON 1e-9

static const char *const ref_filters[] = { SCHEDULER_DEFAULT_FILTERS };

static uint64_t
ref_random(uint64_t *state, uint64_t n)
{
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return (*state * UINT64_C(2685821657736338717) >> 33) % n;
}

static bool
ref_passes(const struct sched_host *host, const struct sched_spec_ctx *ctx)
{
    for (size_t f = 0; f < ARRAY_SIZE(ref_filters); f++) {
        const struct sched_filter *filter = sched_filter_find(ref_filters[f]);

        if (sched_filter_applies(filter, ctx)
            && !filter->host_passes(host, ctx)) {
            return false;
        }
    }
    return true;
}

/* Ranks the hosts that pass, best first, into 'picks', leaving out those
 * marked in 'skip' (may be NULL); returns how many, at most 'k'. */
static size_t
ref_rank(const struct sched_host *hosts, size_t n_hosts,
         const struct sched_spec_ctx *ctx,
         const struct scheduler_weigher_config *weighers, size_t n_weighers,
         const bool *skip, struct scheduler_pick *picks, size_t k)
{
    double min[REF_MAX_WEIGHERS], max[REF_MAX_WEIGHERS];
    bool *taken = xcalloc(n_hosts, sizeof *taken);
    double *weights = xcalloc(n_hosts, sizeof *weights);
    bool *ok = xcalloc(n_hosts, sizeof *ok);
    size_t n_picks = 0;

    for (size_t w = 0; w < n_weighers; w++) {
        min[w] = INFINITY;
        max[w] = -INFINITY;
    }
    for (size_t h = 0; h < n_hosts; h++) {
        ok[h] = ref_passes(&hosts[h], ctx);
        for (size_t w = 0; ok[h] && w < n_weighers; w++) {
            double v = sched_weigh_find(weighers[w].name)->value(&hosts[h],
                                                                ctx);

            min[w] = v < min[w] ? v : min[w];
            max[w] = v > max[w] ? v : max[w];
        }
    }
    for (size_t h = 0; h < n_hosts; h++) {
        for (size_t w = 0; ok[h] && w < n_weighers; w++) {
            double v = sched_weigh_find(weighers[w].name)->value(&hosts[h],
                                                                ctx);

            if (max[w] > min[w]) {
                weights[h] += (weighers[w].multiplier
                               * ((v - min[w]) / (max[w] - min[w])));
            }
        }
    }
    while (n_picks < k) {
        size_t best = SIZE_MAX;

        for (size_t h = 0; h < n_hosts; h++) {
            if (ok[h] && !taken[h] && !(skip && skip[h])
                && (best == SIZE_MAX || weights[h] > weights[best])) {
                best = h;
            }
        }
        if (best == SIZE_MAX) {
            break;
        }
        taken[best] = true;
        picks[n_picks].host = best;
        picks[n_picks].weight = weights[best];
        n_picks++;
    }
    free(taken);
    free(weights);
    free(ok);
    return n_picks;
}

/* Checks that 'actual' ranks like 'expected': same weights, and the same
 * hosts except where two weights are equal to within REF_EPSILON. */
static void
ref_compare(const struct scheduler_pick *actual,
            const struct scheduler_pick *expected, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (fabs(actual[i].weight - expected[i].weight) > REF_EPSILON) {
            fail_msg("pick %zu: weight %.12g, expected %.12g", i,
                     actual[i].weight, expected[i].weight);
        }
        if (actual[i].host != expected[i].host) {
            print_message("# pick %zu: host %zu instead of %zu, equal "
                          "weights\n", i, actual[i].host, expected[i].host);
        }
    }
}

static void
ref_init_hosts(struct sched_host *hosts, uint64_t *rng)
{
    static const char *const zones[] = { "az1", "az2", "az3" };

    for (size_t h = 0; h < REF_N_HOSTS; h++) {
        AUTOFREE char *name = xasprintf("host-%03zu", h);
        int64_t vcpus = 4 + (int64_t) ref_random(rng, 29);
        int64_t memory_mb = 512 * (8 + (int64_t) ref_random(rng, 120));
        int64_t disk_gb = 100 + (int64_t) ref_random(rng, 900);
        struct sched_host_report report = {
            .enabled = ref_random(rng, 10) != 0,
            .up = ref_random(rng, 20) != 0,
            .availability_zone = zones[ref_random(rng, 3)],
            .architecture = "x86_64", .hypervisor_type = "QEMU",
            .total_vcpus = vcpus,
            .used_vcpus = (int64_t) ref_random(rng, (uint64_t) vcpus * 4),
            .total_memory_mb = memory_mb,
            /* Coarse steps, so that equal free amounts (ties) occur. */
            .used_memory_mb = 4096 * (int64_t) ref_random(rng,
                                                          (uint64_t) memory_mb
                                                          / 4096 + 1),
            .total_disk_gb = disk_gb,
            .used_disk_gb = (int64_t) ref_random(rng, (uint64_t) disk_gb),
        };

        sched_host_init(&hosts[h], name, name);
        assert_int_equal(sched_host_update(&hosts[h], &report), 0);
    }
}

static void
test_matches_reference_model(void **state)
{
    static const struct scheduler_weigher_config spread[] = {
        { "RAMWeigher", 1.0 }, { "CPUWeigher", 1.0 }, { "DiskWeigher", 1.0 },
    };
    static const struct scheduler_weigher_config mixed[] = {
        { "RAMWeigher", -1.0 }, { "CPUWeigher", 0.5 },
        { "DiskWeigher", 2.0 },
    };
    static const struct {
        const struct scheduler_weigher_config *weighers;
        size_t n_weighers;
    } configs[] = {
        { spread, ARRAY_SIZE(spread) },
        { mixed, ARRAY_SIZE(mixed) },
        { spread, 1 },
    };
    static const char *const zones[] = { NULL, "az1", "az2", "az3" };
    static const struct {
        int64_t vcpus, memory_mb, root_gb;
    } flavors[] = {
        { 1, 512, 1 }, { 2, 4096, 20 }, { 4, 16384, 80 }, { 16, 65536, 400 },
    };

    (void) state;
    for (size_t c = 0; c < ARRAY_SIZE(configs); c++) {
        const struct scheduler_config config = {
            .weighers = configs[c].weighers,
            .n_weighers = configs[c].n_weighers,
        };
        CLEANUP(scheduler_freep) struct scheduler *sched =
            new_scheduler(&config);
        struct sched_host *hosts = xcalloc(REF_N_HOSTS, sizeof *hosts);
        struct sched_host *model = xcalloc(REF_N_HOSTS, sizeof *model);
        uint64_t rng = UINT64_C(0x5851f42d4c957f2d) + c;
        uint64_t rng_model = rng;
        size_t n_refused = 0;

        ref_init_hosts(hosts, &rng);
        ref_init_hosts(model, &rng_model);
        for (size_t r = 0; r < REF_N_REQUESTS; r++) {
            size_t f = ref_random(&rng, ARRAY_SIZE(flavors));
            CLEANUP(scheduler_selection_freep) struct scheduler_selection
                *sel = NULL;
            struct scheduler_pick picks[REF_MAX_PICKS];
            bool selected[REF_N_HOSTS] = { false };
            size_t claimed[TEST_MAX_INSTANCES];
            bool model_failed = false;
            struct sched_spec_ctx ctx;
            struct sched_spec spec;
            struct error *error;

            sched_spec_init(&spec);
            spec.vcpus = flavors[f].vcpus;
            spec.memory_mb = flavors[f].memory_mb;
            spec.root_gb = flavors[f].root_gb;
            spec.availability_zone = zones[ref_random(&rng, 4)];
            spec.num_instances = 1 + ref_random(&rng, TEST_MAX_INSTANCES);
            spec.n_alternates = ref_random(&rng, 4);
            sched_spec_ctx_init(&ctx, &spec, NULL, NULL, NULL);

            error = scheduler_select_destinations(sched, &spec, hosts,
                                                  REF_N_HOSTS, &sel);
            for (size_t i = 0; i < spec.num_instances; i++) {
                size_t k = spec.num_instances == 1 ? 1 + spec.n_alternates
                           : 1;
                size_t n = ref_rank(model, REF_N_HOSTS, &ctx,
                                    configs[c].weighers,
                                    configs[c].n_weighers, NULL, picks, k);

                if (!n) {
                    /* The model fails at the same instance: undo its
                     * claims. */
                    AUTOFREE char *where = xasprintf(
                        "for instance %zu of %zu.", i + 1,
                        spec.num_instances);

                    assert_non_null(error);
                    assert_int_equal(error_kind(error),
                                     ERROR_NO_VALID_HOST);
                    assert_non_null(strstr(error_message(error), where));
                    while (i-- > 0) {
                        assert_int_equal(sched_host_release(
                                             &model[claimed[i]], r + 1), 0);
                    }
                    model_failed = true;
                    n_refused++;
                    break;
                }
                if (!error) {
                    ref_compare(&(struct scheduler_pick) {
                                    sel->dests[i].host,
                                    sel->dests[i].weight },
                                picks, 1);
                }
                if (!error && spec.num_instances == 1) {
                    assert_int_equal(sel->dests[0].n_alternates, n - 1);
                    ref_compare(sel->dests[0].alternates, picks + 1, n - 1);
                }
                /* Claim what the scheduler chose (among equals, the
                 * choice may differ), or the model's own choice when the
                 * scheduler refused the request. */
                claimed[i] = error ? picks[0].host : sel->dests[i].host;
                sched_host_claim(&model[claimed[i]], r + 1, NULL, ctx.vcpus,
                                 ctx.memory_mb, ctx.disk_mb);
                selected[claimed[i]] = true;
            }
            if (error && !model_failed) {
                fail_msg("model placed request %zu, scheduler: %s", r,
                         error_message(error));
            }
            if (!error && spec.num_instances > 1) {
                size_t n = ref_rank(model, REF_N_HOSTS, &ctx,
                                    configs[c].weighers,
                                    configs[c].n_weighers, selected, picks,
                                    spec.n_alternates);

                for (size_t i = 0; i < sel->n_dests; i++) {
                    assert_int_equal(sel->dests[i].n_alternates, n);
                    ref_compare(sel->dests[i].alternates, picks, n);
                }
            }
            if (error) {
                error_free(error);
            }
            for (size_t h = 0; h < REF_N_HOSTS; h++) {
                assert_int_equal(hosts[h].free_memory_mb,
                                 model[h].free_memory_mb);
                assert_int_equal(hosts[h].free_vcpus, model[h].free_vcpus);
                assert_int_equal(hosts[h].free_disk_mb,
                                 model[h].free_disk_mb);
            }
        }
        print_message("# config %zu: %zu of %d requests refused\n", c,
                      n_refused, REF_N_REQUESTS);
        assert_true(n_refused < REF_N_REQUESTS);
        for (size_t h = 0; h < REF_N_HOSTS; h++) {
            sched_host_destroy(&hosts[h]);
            sched_host_destroy(&model[h]);
        }
        free(hosts);
        free(model);
    }
}

/* Simulation: a deterministic stream of requests, failed builds, deletes
 * and compute-node reports against a few hosts of mixed ratios and
 * reserved amounts. */

#define SIM_N_REQUESTS 200
#define SIM_N_HOSTS 5
#define SIM_MAX_INSTANCES (SIM_N_REQUESTS * 3)
/* A build lands (shows in a report) before its claim could expire. */
#define SIM_MAX_PENDING_REPORTS (SCHED_HOST_CLAIM_MAX_REPORTS - 2)
/* Chances, in percent, of each event after a request. */
#define SIM_PCT_FAIL_BUILD 25
#define SIM_PCT_DELETE 60
#define SIM_PCT_REPORT 80
/* Delete attempts after each request. */
#define SIM_DELETE_TRIES 2

struct sim_instance {
    size_t host;
    uint64_t claim_id;
    int64_t vcpus;
    int64_t memory_mb;
    int64_t disk_gb;
    bool landed;                /* In the host's reports. */
    bool gone;                  /* Failed or deleted. */
    unsigned int n_reports;     /* Host reports while pending. */
};

struct sim {
    struct sched_host hosts[SIM_N_HOSTS];
    struct sched_host_report reports[SIM_N_HOSTS];
    struct sim_instance instances[SIM_MAX_INSTANCES];
    size_t n_instances;
    uint64_t rng;
};

static const struct sched_host_report sim_host_reports[SIM_N_HOSTS] = {
    { .enabled = true, .up = true, .total_vcpus = 8, .cpu_ratio = 2.0,
      .reserved_vcpus = 1, .total_memory_mb = 16384,
      .reserved_memory_mb = 512, .total_disk_gb = 200,
      .reserved_disk_mb = 1024 },
    { .enabled = true, .up = true, .total_vcpus = 4, .total_memory_mb = 8192,
      .ram_ratio = 1.5, .total_disk_gb = 100 },
    { .enabled = true, .up = true, .total_vcpus = 16, .cpu_ratio = 1.0,
      .total_memory_mb = 32768, .total_disk_gb = 500, .disk_ratio = 2.0,
      .reserved_disk_mb = 10240 },
    { .enabled = true, .up = true, .total_vcpus = 2, .total_memory_mb = 4096,
      .total_disk_gb = 40 },
    { .enabled = true, .up = true, .total_vcpus = 8, .total_memory_mb = 8192,
      .reserved_memory_mb = 4096, .total_disk_gb = 80 },
};

static const struct {
    int64_t vcpus, memory_mb, disk_gb;
} sim_flavors[] = {
    { 1, 512, 10 }, { 2, 2048, 20 }, { 4, 4096, 40 }, { 8, 8192, 80 },
};

/* xorshift64*: deterministic, so a failure replays. */
static uint64_t
sim_random(struct sim *sim, uint64_t n)
{
    sim->rng ^= sim->rng >> 12;
    sim->rng ^= sim->rng << 25;
    sim->rng ^= sim->rng >> 27;
    return (sim->rng * UINT64_C(2685821657736338717) >> 33) % n;
}

/* Sends host 'h' a report that includes its landed instances, after
 * landing the oldest pending builds (some, and all that have waited too
 * long), in claim order. */
static void
sim_report(struct sim *sim, size_t h)
{
    struct sched_host_report *report = &sim->reports[h];
    uint64_t n_land = sim_random(sim, 3);

    for (size_t i = 0; i < sim->n_instances; i++) {
        struct sim_instance *inst = &sim->instances[i];

        if (inst->host != h || inst->gone || inst->landed) {
            continue;
        }
        if (n_land || inst->n_reports >= SIM_MAX_PENDING_REPORTS) {
            n_land -= n_land > 0;
            inst->landed = true;
            report->used_vcpus += inst->vcpus;
            report->used_memory_mb += inst->memory_mb;
            report->used_disk_gb += inst->disk_gb;
            report->n_instances++;
        } else {
            inst->n_reports++;
        }
    }
    assert_int_equal(sched_host_update(&sim->hosts[h], report), 0);
}

/* A random pending build fails (its claim is released) or, if 'landed',
 * a random landed instance is deleted (the host's next report drops it).
 * Does nothing if there is no such instance. */
static void
sim_remove(struct sim *sim, bool landed)
{
    size_t n_eligible = 0;
    size_t pick;

    for (size_t i = 0; i < sim->n_instances; i++) {
        n_eligible += (!sim->instances[i].gone
                       && sim->instances[i].landed == landed);
    }
    if (!n_eligible) {
        return;
    }
    pick = sim_random(sim, n_eligible);
    for (size_t i = 0; i < sim->n_instances; i++) {
        struct sim_instance *inst = &sim->instances[i];

        if (inst->gone || inst->landed != landed || pick--) {
            continue;
        }
        inst->gone = true;
        if (landed) {
            struct sched_host_report *report = &sim->reports[inst->host];

            report->used_vcpus -= inst->vcpus;
            report->used_memory_mb -= inst->memory_mb;
            report->used_disk_gb -= inst->disk_gb;
            report->n_instances--;
        } else {
            assert_int_equal(sched_host_release(&sim->hosts[inst->host],
                                                inst->claim_id), 0);
        }
        return;
    }
}

/* What each host really holds (landed and pending builds) never exceeds
 * its capacity, and the scheduler's view never counts less than that. */
static void
sim_check(const struct sim *sim)
{
    for (size_t h = 0; h < SIM_N_HOSTS; h++) {
        const struct sched_host *host = &sim->hosts[h];
        int64_t vcpus = 0, memory_mb = 0, disk_mb = 0;

        for (size_t i = 0; i < sim->n_instances; i++) {
            const struct sim_instance *inst = &sim->instances[i];

            if (inst->host == h && !inst->gone) {
                vcpus += inst->vcpus;
                memory_mb += inst->memory_mb;
                disk_mb += inst->disk_gb * 1024;
            }
        }
        assert_true(vcpus <= sched_host_capacity_vcpus(host));
        assert_true(memory_mb <= sched_host_capacity_memory_mb(host));
        assert_true(disk_mb <= sched_host_capacity_disk_mb(host));
        assert_true(host->used_vcpus + host->claimed_vcpus >= vcpus);
        assert_true(host->used_memory_mb + host->claimed_memory_mb
                    >= memory_mb);
        assert_true(host->used_disk_gb * 1024 + host->claimed_disk_mb
                    >= disk_mb);
    }
}

static void
test_many_requests_never_oversubscribe(void **state)
{
    static const char *const names[SIM_N_HOSTS] = {
        "h1", "h2", "h3", "h4", "h5",
    };
    CLEANUP(scheduler_freep) struct scheduler *sched = new_scheduler(NULL);
    struct sim *sim = xzalloc(sizeof *sim);
    size_t n_placed = 0, n_refused = 0;

    (void) state;
    sim->rng = UINT64_C(0x9e3779b97f4a7c15);
    for (size_t h = 0; h < SIM_N_HOSTS; h++) {
        sim->reports[h] = sim_host_reports[h];
        sched_host_init(&sim->hosts[h], names[h], names[h]);
        assert_int_equal(sched_host_update(&sim->hosts[h], &sim->reports[h]),
                         0);
    }

    for (size_t r = 0; r < SIM_N_REQUESTS; r++) {
        size_t f = sim_random(sim, ARRAY_SIZE(sim_flavors));
        CLEANUP(scheduler_selection_freep) struct scheduler_selection *sel
            = NULL;
        size_t claims_before = count_claims(sim->hosts, SIM_N_HOSTS);
        struct error *error;
        struct sched_spec spec;

        sched_spec_init(&spec);
        spec.vcpus = sim_flavors[f].vcpus;
        spec.memory_mb = sim_flavors[f].memory_mb;
        spec.root_gb = sim_flavors[f].disk_gb;
        spec.num_instances = 1 + sim_random(sim, 3);
        spec.n_alternates = 2;
        if (!sim_random(sim, 4)) {
            spec.group_policy = SCHED_SPEC_POLICY_ANTI_AFFINITY;
        }

        error = scheduler_select_destinations(sched, &spec, sim->hosts,
                                              SIM_N_HOSTS, &sel);
        if (error) {
            assert_int_equal(error_kind(error), ERROR_NO_VALID_HOST);
            assert_int_equal(count_claims(sim->hosts, SIM_N_HOSTS),
                             claims_before);
            error_free(error);
            n_refused++;
        } else {
            assert_int_equal(count_claims(sim->hosts, SIM_N_HOSTS),
                             claims_before + spec.num_instances);
            for (size_t d = 0; d < sel->n_dests; d++) {
                struct sim_instance *inst =
                    &sim->instances[sim->n_instances++];

                memset(inst, 0, sizeof *inst);
                inst->host = sel->dests[d].host;
                inst->claim_id = sel->dests[d].claim_id;
                inst->vcpus = spec.vcpus;
                inst->memory_mb = spec.memory_mb;
                inst->disk_gb = spec.root_gb;
            }
            n_placed++;
        }
        sim_check(sim);

        if (sim_random(sim, 100) < SIM_PCT_FAIL_BUILD) {
            sim_remove(sim, false);
            sim_check(sim);
        }
        for (int k = 0; k < SIM_DELETE_TRIES; k++) {
            if (sim_random(sim, 100) < SIM_PCT_DELETE) {
                sim_remove(sim, true);
                sim_check(sim);
            }
        }
        if (sim_random(sim, 100) < SIM_PCT_REPORT) {
            sim_report(sim, sim_random(sim, SIM_N_HOSTS));
            sim_check(sim);
        }
    }
    print_message("# %zu requests placed, %zu refused\n", n_placed,
                  n_refused);
    /* The run must both fill the hosts and place a fair share. */
    assert_true(n_refused > SIM_N_REQUESTS / 10);
    assert_true(n_placed > SIM_N_REQUESTS / 4);

    for (size_t h = 0; h < SIM_N_HOSTS; h++) {
        sched_host_destroy(&sim->hosts[h]);
    }
    free(sim);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_placements),
        cmocka_unit_test(test_no_valid_host_names_the_filter),
        cmocka_unit_test(test_invalid_spec),
        cmocka_unit_test(test_alternates),
        cmocka_unit_test(test_group_policies_within_a_request),
        cmocka_unit_test(test_force_and_ignore_hosts),
        cmocka_unit_test(test_claims_outlive_the_request),
        cmocka_unit_test(test_matches_reference_model),
        cmocka_unit_test(test_many_requests_never_oversubscribe),
    };

    return cmocka_run_group_tests_name("sched-select", tests, NULL, NULL);
}
