/* test-sched-host.c: host state derived from compute-node reports, bad
 * reports, and the life of in-flight claims (made, released, retired by a
 * report that includes them, expired). */
#include <config.h>

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "child-cell/sched-host.h"

/* A healthy host with two instances: 4 vCPUs (default ratio 4.0 -> 16),
 * 8 GiB RAM, 100 GiB disk. */
static const struct sched_host_report base_report = {
    .enabled = true, .up = true, .availability_zone = "az1",
    .hypervisor_type = "QEMU", .architecture = "x86_64",
    .total_vcpus = 4, .total_memory_mb = 8192, .total_disk_gb = 100,
    .used_vcpus = 2, .used_memory_mb = 2048, .used_disk_gb = 20,
    .n_instances = 2,
};

static void
init_host(struct sched_host *host, const struct sched_host_report *report)
{
    sched_host_init(host, "compute-1", "compute-1.example.org");
    assert_int_equal(sched_host_update(host, report), 0);
}

static void
test_update_derives_free_and_weigher_values(void **state)
{
    static const struct {
        const char *what;
        struct sched_host_report report;
        int64_t free_vcpus, free_memory_mb, free_disk_mb;
        double weigh_vcpus, weigh_memory_mb, weigh_disk_mb;
    } cases[] = {
        { "defaults: cpu 4.0, ram and disk 1.0",
          { .total_vcpus = 4, .total_memory_mb = 8192,
            .total_disk_gb = 100 },
          16, 8192, 102400, 16.0, 8192.0, 102400.0 },
        { "ratios, reserved and used",
          { .total_vcpus = 4, .used_vcpus = 3, .reserved_vcpus = 1,
            .total_memory_mb = 8192, .ram_ratio = 1.5,
            .reserved_memory_mb = 512, .used_memory_mb = 1000,
            .total_disk_gb = 100, .reserved_disk_mb = 1024,
            .used_disk_gb = 10 },
          12, 10776, 91136, 12.0, 6680.0, 91136.0 },
        { "fractional vCPU capacity",
          { .total_vcpus = 5, .cpu_ratio = 1.5 },
          7, 0, 0, 7.5, 0.0, 0.0 },
        { "oversubscribed host goes negative",
          { .total_vcpus = 1, .cpu_ratio = 1.0, .used_vcpus = 3,
            .total_memory_mb = 100, .used_memory_mb = 150 },
          -2, -50, 0, -2.0, -50.0, 0.0 },
    };

    (void) state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct sched_host host;

        print_message("# %s\n", cases[i].what);
        init_host(&host, &cases[i].report);
        assert_int_equal(host.free_vcpus, cases[i].free_vcpus);
        assert_int_equal(host.free_memory_mb, cases[i].free_memory_mb);
        assert_int_equal(host.free_disk_mb, cases[i].free_disk_mb);
        assert_true(host.weigh_vcpus == cases[i].weigh_vcpus);
        assert_true(host.weigh_memory_mb == cases[i].weigh_memory_mb);
        assert_true(host.weigh_disk_mb == cases[i].weigh_disk_mb);
        sched_host_destroy(&host);
    }
}

static void
test_update_keeps_strings(void **state)
{
    struct sched_host_report report = base_report;
    struct sched_host host;

    (void) state;
    init_host(&host, &report);
    assert_string_equal(host.host, "compute-1");
    assert_string_equal(host.node, "compute-1.example.org");
    assert_string_equal(host.availability_zone, "az1");
    assert_string_equal(host.hypervisor_type, "QEMU");
    assert_string_equal(host.architecture, "x86_64");

    report.availability_zone = NULL;
    report.hypervisor_type = NULL;
    report.architecture = "amd64";
    assert_int_equal(sched_host_update(&host, &report), 0);
    assert_string_equal(host.availability_zone, SCHED_HOST_DEFAULT_AZ);
    assert_null(host.hypervisor_type);
    assert_string_equal(host.architecture, "x86_64");
    sched_host_destroy(&host);
    sched_host_destroy(NULL);
}

static void
test_bad_reports_leave_host_unchanged(void **state)
{
    struct sched_host_report bad[12];
    size_t n = 0;

    (void) state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bad[i] = base_report;
    }
    bad[n++].total_vcpus = -1;
    bad[n++].total_memory_mb = SCHED_HOST_MAX_AMOUNT + 1;
    bad[n++].total_disk_gb = -100;
    bad[n++].used_vcpus = -1;
    bad[n++].used_memory_mb = INT64_MIN;
    bad[n++].reserved_disk_mb = -1;
    bad[n++].n_instances = -1;
    bad[n++].cpu_ratio = -1.0;
    bad[n++].ram_ratio = NAN;
    bad[n++].disk_ratio = SCHED_HOST_MAX_RATIO * 2;
    bad[n++].cpu_ratio = INFINITY;
    bad[n++].reserved_memory_mb = INT64_MAX;
    assert_int_equal(n, sizeof bad / sizeof bad[0]);

    for (size_t i = 0; i < n; i++) {
        struct sched_host host;

        print_message("# bad report %zu\n", i);
        init_host(&host, &base_report);
        sched_host_claim(&host, 1, NULL, 1, 256, 1024);
        assert_int_equal(sched_host_update(&host, &bad[i]), -EINVAL);
        assert_int_equal(host.free_vcpus, 16 - 2 - 1);
        assert_int_equal(host.free_memory_mb, 8192 - 2048 - 256);
        assert_int_equal(host.free_disk_mb, 102400 - 20480 - 1024);
        assert_int_equal(host.n_claims, 1);
        assert_string_equal(host.availability_zone, "az1");
        sched_host_destroy(&host);
    }
}

static void
test_claims_reduce_free_and_release_restores(void **state)
{
    struct sched_host host;

    (void) state;
    init_host(&host, &base_report);
    sched_host_claim(&host, 7, "uuid-a", 2, 1024, 10240);
    sched_host_claim(&host, 8, "uuid-b", 1, 512, 2048);
    assert_int_equal(host.free_vcpus, 16 - 2 - 3);
    assert_int_equal(host.free_memory_mb, 8192 - 2048 - 1536);
    assert_int_equal(host.free_disk_mb, 102400 - 20480 - 12288);
    assert_true(host.weigh_memory_mb == 8192 - 2048 - 1536);

    assert_int_equal(sched_host_release(&host, 7), 0);
    assert_int_equal(sched_host_release(&host, 7), -ENOENT);
    assert_int_equal(sched_host_release(&host, 99), -ENOENT);
    assert_int_equal(host.free_memory_mb, 8192 - 2048 - 512);

    assert_int_equal(sched_host_release_instance(&host, "uuid-a"),
                     -ENOENT);
    assert_int_equal(sched_host_release_instance(&host, "uuid-b"), 0);
    assert_int_equal(host.n_claims, 0);
    assert_int_equal(host.free_vcpus, 16 - 2);
    assert_int_equal(host.free_memory_mb, 8192 - 2048);
    assert_int_equal(host.free_disk_mb, 102400 - 20480);

    /* Claims without an instance uuid are released by id only. */
    sched_host_claim(&host, 9, NULL, 1, 1, 1);
    assert_int_equal(sched_host_release_instance(&host, "uuid-a"),
                     -ENOENT);
    assert_int_equal(sched_host_release(&host, 9), 0);
    sched_host_destroy(&host);
}

static void
test_report_keeps_claims_it_does_not_include(void **state)
{
    struct sched_host_report report = base_report;
    struct sched_host host;

    (void) state;
    init_host(&host, &report);
    sched_host_claim(&host, 1, "uuid-a", 1, 1024, 0);  /* lands as #3 */
    sched_host_claim(&host, 2, "uuid-b", 1, 512, 0);   /* lands as #4 */

    /* A report from before either build started: both claims stay. */
    assert_int_equal(sched_host_update(&host, &report), 0);
    assert_int_equal(host.n_claims, 2);
    assert_int_equal(host.free_memory_mb, 8192 - 2048 - 1536);

    /* The node now runs instance a: its claim retires, b's stays. */
    report.n_instances = 3;
    report.used_memory_mb += 1024;
    report.used_vcpus += 1;
    assert_int_equal(sched_host_update(&host, &report), 0);
    assert_int_equal(host.n_claims, 1);
    assert_int_equal(host.claims[0].id, 2);
    assert_int_equal(host.free_memory_mb, 8192 - 3072 - 512);
    assert_int_equal(host.free_vcpus, 16 - 3 - 1);

    /* And b. */
    report.n_instances = 4;
    report.used_memory_mb += 512;
    assert_int_equal(sched_host_update(&host, &report), 0);
    assert_int_equal(host.n_claims, 0);
    assert_int_equal(host.free_memory_mb, 8192 - 3584);
    assert_int_equal(sched_host_release(&host, 2), -ENOENT);
    sched_host_destroy(&host);
}

static void
test_release_lowers_later_expectations(void **state)
{
    struct sched_host_report report = base_report;
    struct sched_host host;

    (void) state;
    init_host(&host, &report);
    sched_host_claim(&host, 1, "uuid-a", 1, 1024, 0);
    sched_host_claim(&host, 2, "uuid-b", 1, 512, 0);
    sched_host_claim(&host, 3, "uuid-c", 1, 256, 0);
    assert_int_equal(host.claims[2].expected_instances, 5);

    /* a's build failed: b and c now land as #3 and #4. */
    assert_int_equal(sched_host_release_instance(&host, "uuid-a"), 0);
    assert_int_equal(host.claims[0].expected_instances, 3);
    assert_int_equal(host.claims[1].expected_instances, 4);

    report.n_instances = 3;
    report.used_memory_mb += 512;
    assert_int_equal(sched_host_update(&host, &report), 0);
    assert_int_equal(host.n_claims, 1);
    assert_int_equal(host.claims[0].id, 3);
    assert_int_equal(host.free_memory_mb, 8192 - 2560 - 256);
    sched_host_destroy(&host);
}

static void
test_deletes_lower_expectations(void **state)
{
    struct sched_host_report report = base_report;
    struct sched_host host;

    (void) state;
    init_host(&host, &report);
    sched_host_claim(&host, 1, "uuid-a", 1, 1024, 0);  /* lands as #3 */

    /* One of the two old instances is deleted: a now lands as #2. */
    report.n_instances = 1;
    report.used_memory_mb -= 1024;
    assert_int_equal(sched_host_update(&host, &report), 0);
    assert_int_equal(host.n_claims, 1);
    assert_int_equal(host.claims[0].expected_instances, 2);
    sched_host_claim(&host, 2, "uuid-b", 1, 512, 0);   /* lands as #3 */
    assert_int_equal(host.claims[1].expected_instances, 3);

    report.n_instances = 2;
    report.used_memory_mb += 1024;
    assert_int_equal(sched_host_update(&host, &report), 0);
    assert_int_equal(host.n_claims, 1);
    assert_int_equal(host.claims[0].id, 2);
    assert_int_equal(host.free_memory_mb, 8192 - 2048 - 512);

    /* A delete and a build in one interval: the count stands still and
     * the claim stays, counting the instance twice (the safe side). */
    report.used_memory_mb += 512 - 1024;
    assert_int_equal(sched_host_update(&host, &report), 0);
    assert_int_equal(host.n_claims, 1);
    assert_int_equal(host.free_memory_mb, 8192 - 1536 - 512);
    sched_host_destroy(&host);
}

static void
test_claims_expire_after_max_reports(void **state)
{
    struct sched_host host;

    (void) state;
    init_host(&host, &base_report);
    sched_host_claim(&host, 1, NULL, 1, 1024, 0);
    for (int i = 1; i < SCHED_HOST_CLAIM_MAX_REPORTS; i++) {
        assert_int_equal(sched_host_update(&host, &base_report), 0);
        assert_int_equal(host.n_claims, 1);
    }
    /* A claim made later has its own count. */
    sched_host_claim(&host, 2, NULL, 1, 512, 0);
    assert_int_equal(sched_host_update(&host, &base_report), 0);
    assert_int_equal(host.n_claims, 1);
    assert_int_equal(host.claims[0].id, 2);
    assert_int_equal(host.free_memory_mb, 8192 - 2048 - 512);
    sched_host_destroy(&host);
}

static void
test_unreported_host_has_nothing(void **state)
{
    struct sched_host host;

    (void) state;
    sched_host_init(&host, "h", "n");
    assert_false(host.enabled);
    assert_false(host.up);
    assert_int_equal(host.free_vcpus, 0);
    assert_int_equal(host.free_memory_mb, 0);
    assert_int_equal(host.free_disk_mb, 0);
    assert_int_equal(sched_host_capacity_vcpus(&host), 0);
    assert_null(host.availability_zone);
    sched_host_destroy(&host);
}

static void
test_many_claims_grow(void **state)
{
    struct sched_host host;
    int64_t n = 1000;

    (void) state;
    init_host(&host, &base_report);
    for (int64_t i = 0; i < n; i++) {
        sched_host_claim(&host, (uint64_t) i + 1, NULL, 0, 1, 0);
    }
    assert_int_equal(host.free_memory_mb, 8192 - 2048 - n);
    for (int64_t i = n; i > 0; i -= 2) {
        assert_int_equal(sched_host_release(&host, (uint64_t) i), 0);
    }
    assert_int_equal(host.n_claims, n / 2);
    assert_int_equal(host.free_memory_mb, 8192 - 2048 - n / 2);
    sched_host_destroy(&host);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_update_derives_free_and_weigher_values),
        cmocka_unit_test(test_update_keeps_strings),
        cmocka_unit_test(test_bad_reports_leave_host_unchanged),
        cmocka_unit_test(test_claims_reduce_free_and_release_restores),
        cmocka_unit_test(test_report_keeps_claims_it_does_not_include),
        cmocka_unit_test(test_release_lowers_later_expectations),
        cmocka_unit_test(test_deletes_lower_expectations),
        cmocka_unit_test(test_claims_expire_after_max_reports),
        cmocka_unit_test(test_unreported_host_has_nothing),
        cmocka_unit_test(test_many_claims_grow),
    };

    return cmocka_run_group_tests_name("sched-host", tests, NULL, NULL);
}
