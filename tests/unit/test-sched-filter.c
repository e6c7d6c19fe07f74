/* test-sched-filter.c: each scheduler filter on one host, accepting and
 * rejecting, at the exact edges of allocation ratios and reserved amounts;
 * when each filter applies; filter lookup by name. */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "child-cell/sched-filter.h"
#include "child-cell/sched-host.h"
#include "child-cell/sched-names.h"
#include "child-cell/sched-spec.h"

/* Most names in a host list of a row. */
#define TEST_MAX_NAMES 4

/* The host every row checks is "h1". */
#define TEST_HOST "h1"

struct filter_case {
    const char *filter;
    const char *what;
    bool no_report;             /* Host never reported. */
    struct sched_host_report report;
    struct sched_spec spec;     /* Host lists below, not in 'spec'. */
    const char *group[TEST_MAX_NAMES];
    const char *force[TEST_MAX_NAMES];
    const char *ignore[TEST_MAX_NAMES];
    bool passes;
};

/* Each row's report sets what its filter reads: filters are pure and look
 * at nothing else. */
#define QEMU_X86 .hypervisor_type = "QEMU", .architecture = "x86_64"

static const struct filter_case filter_cases[] = {
    /* ComputeFilter */
    { "ComputeFilter", "enabled and up",
      .report = { .enabled = true, .up = true }, .passes = true },
    { "ComputeFilter", "disabled", .report = { .up = true },
      .passes = false },
    { "ComputeFilter", "down", .report = { .enabled = true },
      .passes = false },
    { "ComputeFilter", "never reported", .no_report = true,
      .passes = false },

    /* RamFilter: capacity = floor(total * ratio) - reserved. */
    { "RamFilter", "exactly full",
      .report = { .total_memory_mb = 2048, .used_memory_mb = 1024 },
      .spec = { .memory_mb = 1024 }, .passes = true },
    { "RamFilter", "one MiB over",
      .report = { .total_memory_mb = 2048, .used_memory_mb = 1024 },
      .spec = { .memory_mb = 1025 }, .passes = false },
    { "RamFilter", "ratio 1.5 exactly full",
      .report = { .total_memory_mb = 2048, .used_memory_mb = 2048,
                  .ram_ratio = 1.5 },
      .spec = { .memory_mb = 1024 }, .passes = true },
    { "RamFilter", "ratio 1.5 one MiB over",
      .report = { .total_memory_mb = 2048, .used_memory_mb = 2048,
                  .ram_ratio = 1.5 },
      .spec = { .memory_mb = 1025 }, .passes = false },
    { "RamFilter", "fractional capacity rounds down",
      .report = { .total_memory_mb = 1023, .ram_ratio = 1.5 },
      .spec = { .memory_mb = 1534 }, .passes = true },
    { "RamFilter", "fractional capacity, one MiB over",
      .report = { .total_memory_mb = 1023, .ram_ratio = 1.5 },
      .spec = { .memory_mb = 1535 }, .passes = false },
    { "RamFilter", "reserved exactly full",
      .report = { .total_memory_mb = 2048, .reserved_memory_mb = 512 },
      .spec = { .memory_mb = 1536 }, .passes = true },
    { "RamFilter", "reserved one MiB over",
      .report = { .total_memory_mb = 2048, .reserved_memory_mb = 512 },
      .spec = { .memory_mb = 1537 }, .passes = false },
    { "RamFilter", "reserved is not multiplied by the ratio",
      .report = { .total_memory_mb = 2048, .reserved_memory_mb = 512,
                  .used_memory_mb = 1000, .ram_ratio = 1.5 },
      .spec = { .memory_mb = 1560 }, .passes = true },
    { "RamFilter", "ratio and reserved, one MiB over",
      .report = { .total_memory_mb = 2048, .reserved_memory_mb = 512,
                  .used_memory_mb = 1000, .ram_ratio = 1.5 },
      .spec = { .memory_mb = 1561 }, .passes = false },
    { "RamFilter", "ratio 0 means the default 1.0",
      .report = { .total_memory_mb = 2048, .ram_ratio = 0.0 },
      .spec = { .memory_mb = 2049 }, .passes = false },
    { "RamFilter", "already oversubscribed host",
      .report = { .total_memory_mb = 2048, .used_memory_mb = 4096 },
      .spec = { .memory_mb = 0 }, .passes = false },

    /* DiskFilter: (root + ephemeral) GiB + swap MiB. */
    { "DiskFilter", "root exactly fills",
      .report = { .total_disk_gb = 10, .used_disk_gb = 5 },
      .spec = { .root_gb = 5 }, .passes = true },
    { "DiskFilter", "swap is one MiB too many",
      .report = { .total_disk_gb = 10, .used_disk_gb = 5 },
      .spec = { .root_gb = 5, .swap_mb = 1 }, .passes = false },
    { "DiskFilter", "root plus ephemeral fit",
      .report = { .total_disk_gb = 10, .used_disk_gb = 5 },
      .spec = { .root_gb = 4, .ephemeral_gb = 1 }, .passes = true },
    { "DiskFilter", "ephemeral counts",
      .report = { .total_disk_gb = 10, .used_disk_gb = 5 },
      .spec = { .root_gb = 5, .ephemeral_gb = 1 }, .passes = false },
    { "DiskFilter", "reserved MiB exactly full",
      .report = { .total_disk_gb = 10, .reserved_disk_mb = 512 },
      .spec = { .root_gb = 9, .swap_mb = 512 }, .passes = true },
    { "DiskFilter", "reserved MiB, one over",
      .report = { .total_disk_gb = 10, .reserved_disk_mb = 512 },
      .spec = { .root_gb = 9, .swap_mb = 513 }, .passes = false },
    { "DiskFilter", "ratio 2.0 exactly full",
      .report = { .total_disk_gb = 10, .used_disk_gb = 10,
                  .disk_ratio = 2.0 },
      .spec = { .root_gb = 10 }, .passes = true },
    { "DiskFilter", "ratio 2.0, one MiB over",
      .report = { .total_disk_gb = 10, .used_disk_gb = 10,
                  .disk_ratio = 2.0 },
      .spec = { .root_gb = 10, .swap_mb = 1 }, .passes = false },

    /* CoreFilter */
    { "CoreFilter", "default ratio 4.0 exactly full",
      .report = { .total_vcpus = 4, .used_vcpus = 15, .cpu_ratio = 0.0 },
      .spec = { .vcpus = 1 }, .passes = true },
    { "CoreFilter", "default ratio 4.0, one over",
      .report = { .total_vcpus = 4, .used_vcpus = 16, .cpu_ratio = 0.0 },
      .spec = { .vcpus = 1 }, .passes = false },
    { "CoreFilter", "more vCPUs than the host has, despite the ratio",
      .report = { .total_vcpus = 4, .cpu_ratio = 4.0 },
      .spec = { .vcpus = 5 }, .passes = false },
    { "CoreFilter", "as many vCPUs as the host has",
      .report = { .total_vcpus = 4, .cpu_ratio = 4.0 },
      .spec = { .vcpus = 4 }, .passes = true },
    { "CoreFilter", "reserved exactly full",
      .report = { .total_vcpus = 4, .cpu_ratio = 1.0,
                  .reserved_vcpus = 2, .used_vcpus = 1 },
      .spec = { .vcpus = 1 }, .passes = true },
    { "CoreFilter", "reserved, one over",
      .report = { .total_vcpus = 4, .cpu_ratio = 1.0,
                  .reserved_vcpus = 2, .used_vcpus = 1 },
      .spec = { .vcpus = 2 }, .passes = false },
    { "CoreFilter", "no vCPUs reported",
      .report = { .total_vcpus = 0 }, .spec = { .vcpus = 1 },
      .passes = false },

    /* AvailabilityZoneFilter */
    { "AvailabilityZoneFilter", "same zone",
      .report = { .availability_zone = "az1" },
      .spec = { .availability_zone = "az1" }, .passes = true },
    { "AvailabilityZoneFilter", "other zone",
      .report = { .availability_zone = "az1" },
      .spec = { .availability_zone = "az2" }, .passes = false },
    { "AvailabilityZoneFilter", "zones are case-sensitive",
      .report = { .availability_zone = "az1" },
      .spec = { .availability_zone = "AZ1" }, .passes = false },
    { "AvailabilityZoneFilter", "host without zone is in the default",
      .report = { .availability_zone = NULL },
      .spec = { .availability_zone = "nova" }, .passes = true },
    { "AvailabilityZoneFilter", "host without zone, other zone",
      .report = { .availability_zone = NULL },
      .spec = { .availability_zone = "az1" }, .passes = false },

    /* ImagePropertiesFilter */
    { "ImagePropertiesFilter", "architecture matches",
      .report = { QEMU_X86 }, .spec = { .image_architecture = "x86_64" },
      .passes = true },
    { "ImagePropertiesFilter", "architecture differs",
      .report = { QEMU_X86 }, .spec = { .image_architecture = "aarch64" },
      .passes = false },
    { "ImagePropertiesFilter", "amd64 is x86_64",
      .report = { QEMU_X86 }, .spec = { .image_architecture = "amd64" },
      .passes = true },
    { "ImagePropertiesFilter", "i386 host runs i686 images",
      .report = { .architecture = "i386" },
      .spec = { .image_architecture = "i686" }, .passes = true },
    { "ImagePropertiesFilter", "architecture ignores case",
      .report = { QEMU_X86 }, .spec = { .image_architecture = "X86_64" },
      .passes = true },
    { "ImagePropertiesFilter", "host of unknown architecture",
      .report = { .architecture = NULL },
      .spec = { .image_architecture = "x86_64" }, .passes = false },
    { "ImagePropertiesFilter", "hypervisor type ignores case",
      .report = { QEMU_X86 }, .spec = { .image_hypervisor_type = "qemu" },
      .passes = true },
    { "ImagePropertiesFilter", "hypervisor type differs",
      .report = { QEMU_X86 }, .spec = { .image_hypervisor_type = "xen" },
      .passes = false },
    { "ImagePropertiesFilter", "arch matches but hypervisor differs",
      .report = { QEMU_X86 },
      .spec = { .image_architecture = "x86_64",
                .image_hypervisor_type = "lxc" },
      .passes = false },
    { "ImagePropertiesFilter", "host of unknown hypervisor",
      .report = { .hypervisor_type = NULL },
      .spec = { .image_hypervisor_type = "qemu" }, .passes = false },

    /* ServerGroupAffinityFilter */
    { "ServerGroupAffinityFilter", "first member goes anywhere",
      .report = { 0 },
      .spec = { .group_policy = SCHED_SPEC_POLICY_AFFINITY },
      .passes = true },
    { "ServerGroupAffinityFilter", "host holds a member",
      .report = { 0 },
      .spec = { .group_policy = SCHED_SPEC_POLICY_AFFINITY },
      .group = { "h2", TEST_HOST }, .passes = true },
    { "ServerGroupAffinityFilter", "members are elsewhere",
      .report = { 0 },
      .spec = { .group_policy = SCHED_SPEC_POLICY_AFFINITY },
      .group = { "h2" }, .passes = false },
    { "ServerGroupAffinityFilter", "host names are exact",
      .report = { 0 },
      .spec = { .group_policy = SCHED_SPEC_POLICY_AFFINITY },
      .group = { "h10" }, .passes = false },

    /* ServerGroupAntiAffinityFilter */
    { "ServerGroupAntiAffinityFilter", "empty group",
      .report = { 0 },
      .spec = { .group_policy = SCHED_SPEC_POLICY_ANTI_AFFINITY },
      .passes = true },
    { "ServerGroupAntiAffinityFilter", "members are elsewhere",
      .report = { 0 },
      .spec = { .group_policy = SCHED_SPEC_POLICY_ANTI_AFFINITY },
      .group = { "h2", "h3" }, .passes = true },
    { "ServerGroupAntiAffinityFilter", "host holds a member",
      .report = { 0 },
      .spec = { .group_policy = SCHED_SPEC_POLICY_ANTI_AFFINITY },
      .group = { "h2", TEST_HOST }, .passes = false },

    /* The request's host lists. */
    { "force_hosts", "forced here", .report = { 0 },
      .force = { TEST_HOST }, .passes = true },
    { "force_hosts", "forced elsewhere", .report = { 0 },
      .force = { "h2" }, .passes = false },
    { "ignore_hosts", "ignored", .report = { 0 },
      .ignore = { "h0", TEST_HOST }, .passes = false },
    { "ignore_hosts", "others ignored", .report = { 0 },
      .ignore = { "h2" }, .passes = true },
};

static const struct sched_filter *
find_filter(const char *name)
{
    if (!strcmp(name, "force_hosts")) {
        return &sched_filter_force_hosts;
    }
    if (!strcmp(name, "ignore_hosts")) {
        return &sched_filter_ignore_hosts;
    }
    return sched_filter_find(name);
}

static void
load_names(struct sched_names *set, const char *const *names)
{
    for (size_t i = 0; i < TEST_MAX_NAMES && names[i]; i++) {
        sched_names_add(set, names[i]);
    }
}

static void
test_filters_accept_and_reject(void **state)
{
    (void) state;
    for (size_t i = 0; i < sizeof filter_cases / sizeof filter_cases[0];
         i++) {
        const struct filter_case *c = &filter_cases[i];
        const struct sched_filter *filter = find_filter(c->filter);
        struct sched_names group, force, ignore;
        struct sched_spec_ctx ctx;
        struct sched_host host;
        size_t index;

        print_message("# %s: %s\n", c->filter, c->what);
        assert_non_null(filter);
        sched_names_init(&group);
        sched_names_init(&force);
        sched_names_init(&ignore);
        load_names(&group, c->group);
        load_names(&force, c->force);
        load_names(&ignore, c->ignore);

        sched_host_init(&host, TEST_HOST, "node-1");
        if (!c->no_report) {
            assert_int_equal(sched_host_update(&host, &c->report), 0);
        }
        sched_spec_ctx_init(&ctx, &c->spec, &group, &force, &ignore);
        assert_true(sched_filter_applies(filter, &ctx));
        assert_int_equal(filter->host_passes(&host, &ctx), c->passes);
        /* The batch form agrees. */
        index = 0;
        assert_int_equal(filter->filter(&host, &index, 1, &ctx), c->passes);

        sched_host_destroy(&host);
        sched_names_destroy(&group);
        sched_names_destroy(&force);
        sched_names_destroy(&ignore);
    }
}

/* The batch form keeps exactly the passing hosts, in order, over a batch
 * longer than the scheduler's blocks. */
static void
test_batch_keeps_passing_hosts_in_order(void **state)
{
    enum { N_HOSTS = 150 };
    struct sched_host *hosts = sched_host_array_new(N_HOSTS);
    const struct sched_filter *ram = sched_filter_find("RamFilter");
    struct sched_spec spec = { .memory_mb = 1024 };
    size_t indices[N_HOSTS];
    struct sched_spec_ctx ctx;
    size_t n_expected = 0;
    size_t n_kept;

    (void) state;
    for (size_t i = 0; i < N_HOSTS; i++) {
        /* Every third host is one MiB short. */
        struct sched_host_report report = {
            .total_memory_mb = 1024 - (i % 3 == 0),
        };

        sched_host_init(&hosts[i], "h", "n");
        assert_int_equal(sched_host_update(&hosts[i], &report), 0);
        /* Only the odd indices are offered. */
        indices[i / 2] = i | 1;
    }
    sched_spec_ctx_init(&ctx, &spec, NULL, NULL, NULL);
    n_kept = ram->filter(hosts, indices, N_HOSTS / 2, &ctx);
    for (size_t i = 1; i < N_HOSTS; i += 2) {
        if (i % 3) {
            assert_int_equal(indices[n_expected], i);
            n_expected++;
        }
    }
    assert_int_equal(n_kept, n_expected);
    assert_int_equal(ram->filter(hosts, indices, 0, &ctx), 0);
    sched_host_array_free(hosts, N_HOSTS);
}

static void
test_filters_apply_only_when_relevant(void **state)
{
    static const struct {
        const char *filter;
        struct sched_spec spec;
        bool applies;
    } cases[] = {
        { "ComputeFilter", { 0 }, true },
        { "RamFilter", { 0 }, true },
        { "DiskFilter", { 0 }, true },
        { "CoreFilter", { 0 }, true },
        { "AvailabilityZoneFilter", { .availability_zone = NULL }, false },
        { "AvailabilityZoneFilter", { .availability_zone = "" }, false },
        { "AvailabilityZoneFilter", { .availability_zone = "az1" }, true },
        { "ImagePropertiesFilter", { 0 }, false },
        { "ImagePropertiesFilter", { .image_architecture = "" }, false },
        { "ImagePropertiesFilter", { .image_architecture = "x86_64" },
          true },
        { "ImagePropertiesFilter", { .image_hypervisor_type = "qemu" },
          true },
        { "ServerGroupAffinityFilter", { 0 }, false },
        { "ServerGroupAffinityFilter",
          { .group_policy = SCHED_SPEC_POLICY_ANTI_AFFINITY }, false },
        { "ServerGroupAffinityFilter",
          { .group_policy = SCHED_SPEC_POLICY_SOFT_AFFINITY }, false },
        { "ServerGroupAffinityFilter",
          { .group_policy = SCHED_SPEC_POLICY_AFFINITY }, true },
        { "ServerGroupAntiAffinityFilter",
          { .group_policy = SCHED_SPEC_POLICY_AFFINITY }, false },
        { "ServerGroupAntiAffinityFilter",
          { .group_policy = SCHED_SPEC_POLICY_SOFT_ANTI_AFFINITY }, false },
        { "ServerGroupAntiAffinityFilter",
          { .group_policy = SCHED_SPEC_POLICY_ANTI_AFFINITY }, true },
    };

    (void) state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct sched_spec_ctx ctx;

        print_message("# %s, case %zu\n", cases[i].filter, i);
        sched_spec_ctx_init(&ctx, &cases[i].spec, NULL, NULL, NULL);
        assert_int_equal(sched_filter_applies(sched_filter_find(
                                                  cases[i].filter), &ctx),
                         cases[i].applies);
    }
}

static void
test_host_lists_apply_only_when_given(void **state)
{
    struct sched_spec spec = { 0 };
    struct sched_names empty;
    struct sched_spec_ctx ctx;

    (void) state;
    sched_names_init(&empty);
    sched_spec_ctx_init(&ctx, &spec, &empty, &empty, &empty);
    assert_false(sched_filter_applies(&sched_filter_force_hosts, &ctx));
    assert_false(sched_filter_applies(&sched_filter_ignore_hosts, &ctx));
    sched_spec_ctx_init(&ctx, &spec, NULL, NULL, NULL);
    assert_false(sched_filter_applies(&sched_filter_force_hosts, &ctx));
    assert_false(sched_filter_applies(&sched_filter_ignore_hosts, &ctx));
}

static void
test_find_by_nova_name(void **state)
{
    static const struct {
        const char *name;
        bool found;
    } cases[] = {
        { "ComputeFilter", true },
        { "RamFilter", true },
        { "DiskFilter", true },
        { "CoreFilter", true },
        { "AvailabilityZoneFilter", true },
        { "ImagePropertiesFilter", true },
        { "ServerGroupAffinityFilter", true },
        { "ServerGroupAntiAffinityFilter", true },
        { "ramfilter", false },
        { "RamFilter ", false },
        { "", false },
        { "ComputeCapabilitiesFilter", false },
        /* The host-list filters are internal, not configurable. */
        { "force_hosts", false },
        { "ignore_hosts", false },
    };
    size_t n_table;
    const struct sched_filter *table = sched_filter_table(&n_table);

    (void) state;
    assert_int_equal(n_table, 8);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct sched_filter *filter = sched_filter_find(cases[i].name);

        print_message("# '%s'\n", cases[i].name);
        assert_int_equal(filter != NULL, cases[i].found);
        if (filter) {
            assert_string_equal(filter->name, cases[i].name);
            assert_true(filter >= table && filter < table + n_table);
        }
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_filters_accept_and_reject),
        cmocka_unit_test(test_batch_keeps_passing_hosts_in_order),
        cmocka_unit_test(test_filters_apply_only_when_relevant),
        cmocka_unit_test(test_host_lists_apply_only_when_given),
        cmocka_unit_test(test_find_by_nova_name),
    };

    return cmocka_run_group_tests_name("sched-filter", tests, NULL, NULL);
}
