/* test-sched-spec.c: request spec validation and helpers, and the host
 * name set the filters probe. */
#include <config.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "child-cell/sched-names.h"
#include "child-cell/sched-spec.h"
#include "shared/error.h"

static const char *const two_hosts[] = { "h1", "h2" };
static const char *const null_host[] = { "h1", NULL };
static const char *const two_uuids[] = { "u1", "u2" };
static const char *const null_uuid[] = { "u1", NULL };

static void
test_validate(void **state)
{
    static const struct {
        const char *what;
        struct sched_spec spec;
        const char *error;      /* Substring; NULL for valid. */
    } cases[] = {
        { "smallest", { .num_instances = 1 }, NULL },
        { "everything set",
          { .vcpus = 2, .memory_mb = 2048, .root_gb = 20,
            .ephemeral_gb = 5, .swap_mb = 512, .num_instances = 2,
            .instance_uuids = two_uuids, .availability_zone = "az1",
            .image_architecture = "x86_64",
            .group_policy = SCHED_SPEC_POLICY_ANTI_AFFINITY,
            .group_hosts = two_hosts, .n_group_hosts = 2,
            .force_hosts = two_hosts, .n_force_hosts = 2,
            .ignore_hosts = two_hosts, .n_ignore_hosts = 1,
            .n_alternates = SCHED_SPEC_MAX_ALTERNATES },
          NULL },
        { "largest amounts",
          { .vcpus = SCHED_SPEC_MAX_VCPUS,
            .memory_mb = SCHED_SPEC_MAX_MEMORY_MB,
            .root_gb = SCHED_SPEC_MAX_DISK_GB,
            .ephemeral_gb = SCHED_SPEC_MAX_DISK_GB,
            .swap_mb = SCHED_SPEC_MAX_SWAP_MB,
            .num_instances = SCHED_SPEC_MAX_INSTANCES },
          NULL },
        { "negative vCPUs", { .vcpus = -1, .num_instances = 1 },
          "'vcpus' is -1" },
        { "too much RAM",
          { .memory_mb = SCHED_SPEC_MAX_MEMORY_MB + 1, .num_instances = 1 },
          "'memory_mb'" },
        { "negative root disk", { .root_gb = -1, .num_instances = 1 },
          "'root_gb'" },
        { "too much ephemeral disk",
          { .ephemeral_gb = SCHED_SPEC_MAX_DISK_GB + 1,
            .num_instances = 1 },
          "'ephemeral_gb'" },
        { "negative swap", { .swap_mb = -1, .num_instances = 1 },
          "'swap_mb'" },
        { "no instances", { .num_instances = 0 }, "'num_instances' is 0" },
        { "too many instances",
          { .num_instances = SCHED_SPEC_MAX_INSTANCES + 1 },
          "'num_instances'" },
        { "too many alternates",
          { .num_instances = 1,
            .n_alternates = SCHED_SPEC_MAX_ALTERNATES + 1 },
          "'n_alternates'" },
        { "unknown policy",
          { .num_instances = 1, .group_policy = 99 },
          "unknown server group policy 99" },
        { "group count without hosts",
          { .num_instances = 1, .n_group_hosts = 1 },
          "'group_hosts' entry 0 is missing" },
        { "NULL forced host",
          { .num_instances = 1, .force_hosts = null_host,
            .n_force_hosts = 2 },
          "'force_hosts' entry 1 is missing" },
        { "too many ignored hosts",
          { .num_instances = 1, .ignore_hosts = two_hosts,
            .n_ignore_hosts = SCHED_SPEC_MAX_HOST_NAMES + 1 },
          "'ignore_hosts' lists" },
        { "NULL instance uuid",
          { .num_instances = 2, .instance_uuids = null_uuid },
          "'instance_uuids' entry 1 is missing" },
    };

    (void) state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CLEANUP(error_freep) struct error *error =
            sched_spec_validate(&cases[i].spec);

        print_message("# %s\n", cases[i].what);
        if (!cases[i].error) {
            assert_null(error);
            continue;
        }
        assert_non_null(error);
        assert_int_equal(error_kind(error), ERROR_INVALID);
        assert_non_null(strstr(error_message(error), "Invalid request spec"));
        assert_non_null(strstr(error_message(error), cases[i].error));
    }
}

static void
test_init_and_disk(void **state)
{
    struct sched_spec spec;

    (void) state;
    sched_spec_init(&spec);
    assert_int_equal(spec.num_instances, 1);
    assert_int_equal(spec.group_policy, SCHED_SPEC_POLICY_NONE);
    assert_int_equal(spec.n_alternates, 0);
    assert_null(spec.availability_zone);
    assert_int_equal(sched_spec_disk_mb(&spec), 0);

    spec.root_gb = 20;
    spec.ephemeral_gb = 2;
    spec.swap_mb = 100;
    assert_int_equal(sched_spec_disk_mb(&spec), 22 * 1024 + 100);
}

static void
test_ctx_treats_empty_as_any(void **state)
{
    struct sched_spec spec;
    struct sched_spec_ctx ctx;

    (void) state;
    sched_spec_init(&spec);
    spec.availability_zone = "";
    spec.image_architecture = "";
    spec.image_hypervisor_type = "";
    spec.vcpus = 2;
    spec.memory_mb = 64;
    spec.root_gb = 1;
    sched_spec_ctx_init(&ctx, &spec, NULL, NULL, NULL);
    assert_null(ctx.availability_zone);
    assert_null(ctx.architecture);
    assert_null(ctx.hypervisor_type);
    assert_int_equal(ctx.vcpus, 2);
    assert_int_equal(ctx.memory_mb, 64);
    assert_int_equal(ctx.disk_mb, 1024);

    spec.image_architecture = "AMD64";
    spec.availability_zone = "az1";
    sched_spec_ctx_init(&ctx, &spec, NULL, NULL, NULL);
    assert_string_equal(ctx.architecture, "x86_64");
    assert_string_equal(ctx.availability_zone, "az1");
}

static void
test_canonical_arch(void **state)
{
    static const struct {
        const char *name;
        const char *canonical;
    } cases[] = {
        { "x86_64", "x86_64" },
        { "amd64", "x86_64" },
        { "AMD64", "x86_64" },
        { "i386", "i686" },
        { "i486", "i686" },
        { "i586", "i686" },
        { "x86_32", "i686" },
        { "i686", "i686" },
        { "aarch64", "aarch64" },
        { "", "" },
        { NULL, NULL },
    };

    (void) state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *canonical = sched_spec_canonical_arch(cases[i].name);

        if (!cases[i].canonical) {
            assert_null(canonical);
        } else {
            assert_string_equal(canonical, cases[i].canonical);
        }
    }
}

static void
test_policy_names(void **state)
{
    static const struct {
        const char *name;
        int ret;
        enum sched_spec_policy policy;
    } cases[] = {
        { "none", 0, SCHED_SPEC_POLICY_NONE },
        { "affinity", 0, SCHED_SPEC_POLICY_AFFINITY },
        { "anti-affinity", 0, SCHED_SPEC_POLICY_ANTI_AFFINITY },
        { "soft-affinity", 0, SCHED_SPEC_POLICY_SOFT_AFFINITY },
        { "soft-anti-affinity", 0, SCHED_SPEC_POLICY_SOFT_ANTI_AFFINITY },
        { "Affinity", -EINVAL, 0 },
        { "anti_affinity", -EINVAL, 0 },
        { "", -EINVAL, 0 },
    };

    (void) state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        enum sched_spec_policy policy = SCHED_SPEC_POLICY_NONE;

        assert_int_equal(sched_spec_policy_from_string(cases[i].name,
                                                       &policy),
                         cases[i].ret);
        if (!cases[i].ret) {
            assert_int_equal(policy, cases[i].policy);
            assert_string_equal(sched_spec_policy_to_string(policy),
                                cases[i].name);
        }
    }
    assert_string_equal(sched_spec_policy_to_string(42), "unknown");
}

static void
test_names_set(void **state)
{
    char names[300][16];
    struct sched_names set;

    (void) state;
    sched_names_init(&set);
    assert_int_equal(sched_names_count(&set, "h1", sched_names_hash("h1")),
                     0);

    /* Enough names to grow the table several times. */
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(names[i], sizeof names[i], "host-%zu", i);
        sched_names_add(&set, names[i]);
    }
    sched_names_add(&set, "host-7");
    sched_names_add(&set, "host-7");
    assert_int_equal(set.n_entries, 300);
    assert_true(set.n_entries * 2 <= set.mask + 1);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        assert_int_equal(sched_names_count(&set, names[i],
                                           sched_names_hash(names[i])),
                         i == 7 ? 3 : 1);
    }
    assert_int_equal(sched_names_count(&set, "host-300",
                                       sched_names_hash("host-300")), 0);
    assert_int_equal(sched_names_count(&set, "host-",
                                       sched_names_hash("host-")), 0);
    /* A wrong hash finds nothing rather than a wrong entry. */
    assert_int_equal(sched_names_count(&set, "host-1",
                                       sched_names_hash("host-2")), 0);

    sched_names_clear(&set);
    assert_int_equal(set.n_entries, 0);
    assert_int_equal(sched_names_count(&set, "host-1",
                                       sched_names_hash("host-1")), 0);
    sched_names_add(&set, "host-1");
    assert_int_equal(sched_names_count(&set, "host-1",
                                       sched_names_hash("host-1")), 1);
    sched_names_destroy(&set);
    sched_names_destroy(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validate),
        cmocka_unit_test(test_init_and_disk),
        cmocka_unit_test(test_ctx_treats_empty_as_any),
        cmocka_unit_test(test_canonical_arch),
        cmocka_unit_test(test_policy_names),
        cmocka_unit_test(test_names_set),
    };

    return cmocka_run_group_tests_name("sched-spec", tests, NULL, NULL);
}
