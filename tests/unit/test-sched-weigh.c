/* test-sched-weigh.c: weigher normalisation and multipliers, spread and
 * stack, normalising over the filtered hosts only, the soft server-group
 * weighers, and deterministic tie-breaking.  Rankings are read from a
 * single-instance decision that asks for every other host as an
 * alternate, so each case sees the full order with its weights. */
#include <config.h>

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "child-cell/sched-host.h"
#include "child-cell/sched-names.h"
#include "child-cell/sched-spec.h"
#include "child-cell/sched-weigh.h"
#include "child-cell/scheduler.h"
#include "shared/compiler.h"
#include "shared/error.h"
#include "shared/xalloc.h"

/* Weights are sums of a few products: equal to within this. */
#define TEST_WEIGHT_EPSILON 1e-9
/* Most hosts or weighers in a ranking case. */
#define TEST_MAX_HOSTS 4
#define TEST_MAX_WEIGHERS 3

static void
assert_weight_equal(double actual, double expected)
{
    if (fabs(actual - expected) > TEST_WEIGHT_EPSILON) {
        fail_msg("weight %.12g, expected %.12g", actual, expected);
    }
}

static void
test_normalisation(void **state)
{
    static const struct {
        double value, min, max, multiplier;
        double expected;
    } cases[] = {
        { 1000, 1000, 3000, 1.0, 0.0 },
        { 2000, 1000, 3000, 1.0, 0.5 },
        { 3000, 1000, 3000, 1.0, 1.0 },
        { 3000, 1000, 3000, 2.5, 2.5 },
        { 2000, 1000, 3000, -1.0, -0.5 },
        { 3000, 1000, 3000, -1.0, -1.0 },
        { 3000, 1000, 3000, 0.0, 0.0 },
        /* Every host the same: all 0, whatever the multiplier. */
        { 5, 5, 5, 1.0, 0.0 },
        { 5, 5, 5, -3.0, 0.0 },
        /* Negative raw values (soft anti-affinity). */
        { -2, -4, 0, 1.0, 0.5 },
        { -4, -4, 0, 1.0, 0.0 },
        /* Fractional vCPUs. */
        { 7.5, 0, 10, 1.0, 0.75 },
    };

    (void) state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct sched_weigh_norm norm;

        print_message("# case %zu\n", i);
        sched_weigh_norm_init(&norm, cases[i].min, cases[i].max,
                              cases[i].multiplier);
        assert_weight_equal(sched_weigh_norm_apply(&norm, cases[i].value),
                            cases[i].expected);
    }
}

static void
test_find_by_nova_name(void **state)
{
    static const struct {
        const char *name;
        bool found;
    } cases[] = {
        { "RAMWeigher", true },
        { "CPUWeigher", true },
        { "DiskWeigher", true },
        { "ServerGroupSoftAffinityWeigher", true },
        { "ServerGroupSoftAntiAffinityWeigher", true },
        { "RamWeigher", false },
        { "IoOpsWeigher", false },
        { "", false },
    };

    (void) state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct sched_weigher *weigher = sched_weigh_find(cases[i].name);

        assert_int_equal(weigher != NULL, cases[i].found);
        if (weigher) {
            assert_string_equal(weigher->name, cases[i].name);
        }
    }
}

/* Each weigher's batch form gives the per-host values. */
static void
test_batch_matches_per_host(void **state)
{
    enum { N_HOSTS = 5 };
    static const char *const group[] = { "h1", "h3", "h3" };
    struct sched_host hosts[N_HOSTS];
    const size_t indices[] = { 4, 0, 3, 3, 1 };
    struct sched_spec spec = {
        .group_policy = SCHED_SPEC_POLICY_SOFT_AFFINITY,
    };
    struct sched_names names;
    struct sched_spec_ctx ctx;
    size_t n_weighers;
    const struct sched_weigher *table = sched_weigh_table(&n_weighers);

    (void) state;
    sched_names_init(&names);
    for (size_t i = 0; i < sizeof group / sizeof group[0]; i++) {
        sched_names_add(&names, group[i]);
    }
    for (size_t i = 0; i < N_HOSTS; i++) {
        AUTOFREE char *name = xasprintf("h%zu", i);
        struct sched_host_report report = {
            .total_vcpus = 4 + (int64_t) i, .total_memory_mb = 1000 * i,
            .total_disk_gb = 7 * i, .used_memory_mb = 10 * i,
        };

        sched_host_init(&hosts[i], name, name);
        assert_int_equal(sched_host_update(&hosts[i], &report), 0);
    }
    sched_spec_ctx_init(&ctx, &spec, &names, NULL, NULL);
    for (size_t w = 0; w < n_weighers; w++) {
        double values[sizeof indices / sizeof indices[0]];

        table[w].values(hosts, indices, ARRAY_SIZE(indices), &ctx, values);
        for (size_t i = 0; i < ARRAY_SIZE(indices); i++) {
            assert_true(values[i]
                        == table[w].value(&hosts[indices[i]], &ctx));
        }
    }
    /* The soft-affinity values are the member counts. */
    assert_true(sched_weigh_find("ServerGroupSoftAffinityWeigher")
                ->value(&hosts[3], &ctx) == 2.0);
    assert_true(sched_weigh_find("ServerGroupSoftAntiAffinityWeigher")
                ->value(&hosts[1], &ctx) == -1.0);
    for (size_t i = 0; i < N_HOSTS; i++) {
        sched_host_destroy(&hosts[i]);
    }
    sched_names_destroy(&names);
}

struct host_row {
    const char *name;
    int64_t vcpus;              /* Free, CPU ratio 1.0. */
    int64_t memory_mb;
    int64_t disk_gb;
    bool disabled;
};

struct ranking_case {
    const char *what;
    struct scheduler_weigher_config weighers[TEST_MAX_WEIGHERS];
    size_t n_weighers;
    struct host_row hosts[TEST_MAX_HOSTS];
    size_t n_hosts;
    enum sched_spec_policy policy;
    const char *group[TEST_MAX_HOSTS];
    /* Expected order: host names, best first, and their weights. */
    const char *order[TEST_MAX_HOSTS];
    double weights[TEST_MAX_HOSTS];
    size_t n_order;
};

static const struct ranking_case ranking_cases[] = {
    { "RAM spreads",
      { { "RAMWeigher", 1.0 } }, 1,
      { { "h1", 8, 1000, 100 }, { "h2", 8, 3000, 100 },
        { "h3", 8, 2000, 100 } }, 3,
      .order = { "h2", "h3", "h1" }, .weights = { 1.0, 0.5, 0.0 },
      .n_order = 3 },
    { "RAM stacks",
      { { "RAMWeigher", -1.0 } }, 1,
      { { "h1", 8, 1000, 100 }, { "h2", 8, 3000, 100 },
        { "h3", 8, 2000, 100 } }, 3,
      .order = { "h1", "h3", "h2" }, .weights = { 0.0, -0.5, -1.0 },
      .n_order = 3 },
    { "RAM and CPU, CPU counting double",
      { { "RAMWeigher", 1.0 }, { "CPUWeigher", 2.0 } }, 2,
      { { "h1", 8, 1000, 100 }, { "h2", 4, 3000, 100 },
        { "h3", 6, 2000, 100 } }, 3,
      .order = { "h1", "h3", "h2" }, .weights = { 2.0, 1.5, 1.0 },
      .n_order = 3 },
    { "disk spreads",
      { { "DiskWeigher", 1.0 } }, 1,
      { { "h1", 8, 1000, 40 }, { "h2", 8, 1000, 20 },
        { "h3", 8, 1000, 30 } }, 3,
      .order = { "h1", "h3", "h2" }, .weights = { 1.0, 0.5, 0.0 },
      .n_order = 3 },
    { "multiplier 0 silences a weigher",
      { { "RAMWeigher", 0.0 }, { "CPUWeigher", 1.0 } }, 2,
      { { "h1", 2, 9000, 100 }, { "h2", 6, 1000, 100 },
        { "h3", 4, 5000, 100 } }, 3,
      .order = { "h2", "h3", "h1" }, .weights = { 1.0, 0.5, 0.0 },
      .n_order = 3 },
    { "normalised over the hosts that passed the filters",
      { { "RAMWeigher", 1.0 } }, 1,
      { { "h1", 8, 1000, 100 }, { "h2", 8, 2000, 100 },
        { "big", 8, 100000, 100, .disabled = true } }, 3,
      .order = { "h2", "h1" }, .weights = { 1.0, 0.0 }, .n_order = 2 },
    { "all three weighers, mixed signs",
      { { "RAMWeigher", 1.0 }, { "CPUWeigher", -1.0 },
        { "DiskWeigher", 0.5 } }, 3,
      { { "h1", 2, 4000, 10 }, { "h2", 4, 2000, 30 },
        { "h3", 3, 3000, 20 } }, 3,
      /* h1: 1 - 0 + 0 = 1; h2: 0 - 1 + 0.5 = -0.5; h3: .5 - .5 + .25 */
      .order = { "h1", "h3", "h2" }, .weights = { 1.0, 0.25, -0.5 },
      .n_order = 3 },
    { "equal hosts keep array order",
      { { "RAMWeigher", 1.0 }, { "CPUWeigher", 1.0 } }, 2,
      { { "d", 8, 1000, 100 }, { "c", 8, 1000, 100 },
        { "b", 8, 1000, 100 }, { "a", 8, 1000, 100 } }, 4,
      .order = { "d", "c", "b", "a" }, .weights = { 0, 0, 0, 0 },
      .n_order = 4 },
    { "ties among the best keep array order",
      { { "RAMWeigher", 1.0 } }, 1,
      { { "x", 8, 1000, 100 }, { "y", 8, 2000, 100 },
        { "w", 8, 2000, 100 }, { "v", 8, 1000, 100 } }, 4,
      .order = { "y", "w", "x", "v" }, .weights = { 1, 1, 0, 0 },
      .n_order = 4 },
    { "soft affinity prefers the group's hosts",
      { { "RAMWeigher", 1.0 },
        { "ServerGroupSoftAffinityWeigher", 1.0 } }, 2,
      { { "h1", 8, 1000, 100 }, { "h2", 8, 1000, 100 },
        { "h3", 8, 1000, 100 } }, 3,
      SCHED_SPEC_POLICY_SOFT_AFFINITY, { "h2", "h3", "h2" },
      .order = { "h2", "h3", "h1" }, .weights = { 1.0, 0.5, 0.0 },
      .n_order = 3 },
    { "soft anti-affinity avoids them",
      { { "RAMWeigher", 1.0 },
        { "ServerGroupSoftAntiAffinityWeigher", 1.0 } }, 2,
      { { "h1", 8, 1000, 100 }, { "h2", 8, 1000, 100 },
        { "h3", 8, 1000, 100 } }, 3,
      SCHED_SPEC_POLICY_SOFT_ANTI_AFFINITY, { "h2", "h3", "h2" },
      .order = { "h1", "h3", "h2" }, .weights = { 1.0, 0.5, 0.0 },
      .n_order = 3 },
    { "soft weighers ignore requests without their policy",
      { { "ServerGroupSoftAffinityWeigher", 1.0 },
        { "ServerGroupSoftAntiAffinityWeigher", 1.0 } }, 2,
      { { "h1", 8, 1000, 100 }, { "h2", 8, 1000, 100 } }, 2,
      SCHED_SPEC_POLICY_ANTI_AFFINITY, { "h1" },
      .order = { "h2" }, .weights = { 0.0 }, .n_order = 1 },
};

static void
init_hosts(struct sched_host *hosts, const struct host_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct sched_host_report report = {
            .enabled = !rows[i].disabled, .up = true,
            .total_vcpus = rows[i].vcpus, .cpu_ratio = 1.0,
            .total_memory_mb = rows[i].memory_mb,
            .total_disk_gb = rows[i].disk_gb,
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

static void
test_rankings(void **state)
{
    (void) state;
    for (size_t i = 0; i < sizeof ranking_cases / sizeof ranking_cases[0];
         i++) {
        const struct ranking_case *c = &ranking_cases[i];
        struct scheduler_config config = {
            .weighers = c->weighers, .n_weighers = c->n_weighers,
        };
        CLEANUP(scheduler_freep) struct scheduler *sched = NULL;
        CLEANUP(scheduler_selection_freep) struct scheduler_selection *sel
            = NULL;
        struct sched_host hosts[TEST_MAX_HOSTS];
        struct error *error;
        struct sched_spec spec;
        size_t n_group = 0;

        print_message("# %s\n", c->what);
        assert_null(scheduler_new(&config, &sched));
        init_hosts(hosts, c->hosts, c->n_hosts);
        while (n_group < TEST_MAX_HOSTS && c->group[n_group]) {
            n_group++;
        }

        sched_spec_init(&spec);
        spec.memory_mb = 1;
        spec.n_alternates = c->n_hosts - 1;
        spec.group_policy = c->policy;
        spec.group_hosts = c->group;
        spec.n_group_hosts = n_group;
        error = scheduler_select_destinations(sched, &spec, hosts,
                                              c->n_hosts, &sel);
        assert_null(error);
        assert_int_equal(sel->n_dests, 1);
        assert_int_equal(1 + sel->dests[0].n_alternates, c->n_order);
        assert_string_equal(hosts[sel->dests[0].host].host, c->order[0]);
        assert_weight_equal(sel->dests[0].weight, c->weights[0]);
        for (size_t j = 1; j < c->n_order; j++) {
            const struct scheduler_pick *alt =
                &sel->dests[0].alternates[j - 1];

            assert_string_equal(hosts[alt->host].host, c->order[j]);
            assert_weight_equal(alt->weight, c->weights[j]);
        }
        destroy_hosts(hosts, c->n_hosts);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalisation),
        cmocka_unit_test(test_find_by_nova_name),
        cmocka_unit_test(test_batch_matches_per_host),
        cmocka_unit_test(test_rankings),
    };

    return cmocka_run_group_tests_name("sched-weigh", tests, NULL, NULL);
}
