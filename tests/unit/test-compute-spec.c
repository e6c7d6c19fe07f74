/* test-compute-spec.c: INSTANCE to instance spec, console tails and build
 * records (child-cell/compute-spec.h). */
#include <config.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "child-cell/compute-spec.h"
#include "child-cell/virt-domain-xml.h"
#include "shared/error.h"
#include "shared/flavor.h"
#include "shared/instance.h"
#include "shared/json-util.h"
#include "shared/xalloc.h"

#define UUID "6f1c1a9e-3b7d-4c55-9f39-0d6f7a1f2b3c"
#define DIR_ "/var/lib/nova/instances"

static struct instance *
parse_instance(const char *json)
{
    CLEANUP(json_putp) struct json_object *obj = json_tokener_parse(json);
    struct instance *inst = NULL;
    struct error *error;

    assert_non_null(obj);
    error = instance_from_json(obj, NULL, &inst);
    if (error) {
        fail_msg("%s", error_message(error));
    }
    return inst;
}

static char *
instance_text(const char *flavor, const char *image)
{
    return xasprintf("{\"uuid\": \"" UUID "\", \"display_name\": \"web-1\", "
                     "\"project_id\": \"p1\", \"user_id\": \"u1\", "
                     "\"host\": \"cmp1\", \"flavor\": %s, \"image\": %s, "
                     "\"vm_state\": \"building\", \"task_state\": "
                     "\"scheduling\", \"created_at\": "
                     "\"2024-05-01T12:00:00.123000\"}", flavor, image);
}

#define FLAVOR(VCPUS, MEM) \
    "{\"flavorid\": \"1\", \"name\": \"m1.tiny\", \"vcpus\": " #VCPUS \
    ", \"memory_mb\": " #MEM ", \"root_gb\": 1, \"ephemeral_gb\": 2, " \
    "\"swap\": 512, \"extra_specs\": {}}"

static void
test_spec_from_instance(void **state)
{
    AUTOFREE char *text = instance_text(
        FLAVOR(2, 256),
        "{\"id\": \"img\", \"properties\": {\"architecture\": \"aarch64\", "
        "\"hw_machine_type\": \"virt\"}, \"kernel\": \"/boot/vmlinuz\", "
        "\"initrd\": \"/boot/initrd.img\", \"cmdline\": \"console=ttyS0\", "
        "\"disk\": \"/images/d.qcow2\", \"disk_format\": \"qcow2\"}");
    CLEANUP(instance_freep) struct instance *inst = parse_instance(text);
    CLEANUP(compute_spec_freep) struct compute_spec *cs = NULL;
    const struct virt_instance_spec *spec;

    (void) state;
    assert_null(compute_spec_from_instance(inst, VIRT_DOMAIN_QEMU, DIR_,
                                           &cs));
    spec = &cs->spec;
    assert_string_equal(spec->uuid, UUID);
    assert_string_equal(spec->name, "instance-" UUID);
    assert_string_equal(spec->display_name, "web-1");
    assert_string_equal(spec->created_at, "2024-05-01 12:00:00");
    assert_string_equal(spec->flavor.name, "m1.tiny");
    assert_int_equal(spec->flavor.vcpus, 2);
    assert_int_equal(spec->flavor.memory_mb, 256);
    assert_int_equal(spec->flavor.root_gb, 1);
    assert_int_equal(spec->flavor.ephemeral_gb, 2);
    assert_int_equal(spec->flavor.swap_mb, 512);
    assert_string_equal(spec->image.kernel_path, "/boot/vmlinuz");
    assert_string_equal(spec->image.initrd_path, "/boot/initrd.img");
    assert_string_equal(spec->image.cmdline, "console=ttyS0");
    assert_string_equal(spec->image.disk_path, "/images/d.qcow2");
    assert_string_equal(spec->image.disk_format, "qcow2");
    assert_string_equal(spec->owner.user_id, "u1");
    assert_string_equal(spec->owner.project_id, "p1");
    assert_int_equal(spec->domain_type, VIRT_DOMAIN_QEMU);
    assert_string_equal(spec->arch, "aarch64");
    assert_string_equal(spec->machine, "virt");
    assert_string_equal(spec->serial_log_path,
                        DIR_ "/" UUID "/" COMPUTE_SPEC_CONSOLE_LOG);
    /* The driver can build it. */
    assert_null(virt_domain_xml_validate(spec));
}

static void
test_spec_failures(void **state)
{
    const struct {
        const char *flavor;
        const char *image;
        bool decodes;           /* compute_spec_from_instance() succeeds */
        const char *message;    /* Part of the error (ours or the XML
                                 * validator's). */
    } cases[] = {
        { FLAVOR(1, 64), "{\"kernel\": \"/boot/vmlinuz\"}", true, NULL },
        { FLAVOR(1, 64), "null", true, "no boot source" },
        { FLAVOR(1, 64), "{\"kernel\": \"vmlinuz\"}", true, "kernel" },
        { FLAVOR(1, 99999999), "{\"kernel\": \"/k\"}", true, "memory" },
        { FLAVOR(2000, 64), "{\"kernel\": \"/k\"}", true, "vCPUs" },
        { FLAVOR(4294967296, 64), "{\"kernel\": \"/k\"}", false,
          "has vcpus 4294967296, out of range" },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        AUTOFREE char *text = instance_text(cases[i].flavor, cases[i].image);
        CLEANUP(compute_spec_freep) struct compute_spec *cs = NULL;
        CLEANUP(error_freep) struct error *error = NULL;
        struct instance *inst;
        CLEANUP(json_putp) struct json_object *obj = json_tokener_parse(
            text);

        print_message("row %zu\n", i);
        /* The flavor limits of shared/flavor.h stop the last row before
         * compute sees it; feed it through the struct instead. */
        error = instance_from_json(obj, NULL, &inst);
        if (error) {
            CLEANUP(json_putp) struct json_object *small = NULL;
            AUTOFREE char *ok = instance_text(FLAVOR(1, 64), cases[i].image);

            error_free(TAKE_PTR(error));
            small = json_tokener_parse(ok);
            assert_null(instance_from_json(small, NULL, &inst));
            inst->flavor->vcpus = INT64_C(4294967296);
        }
        error = compute_spec_from_instance(inst, VIRT_DOMAIN_TEST, DIR_,
                                           &cs);
        if (!error) {
            error = virt_domain_xml_validate(&cs->spec);
        }
        instance_free(inst);
        if (!cases[i].message) {
            assert_null(error);
            continue;
        }
        assert_non_null(error);
        assert_int_equal(error_kind(error), ERROR_INVALID);
        assert_non_null(strstr(error_message(error), cases[i].message));
        assert_int_equal(cs != NULL, cases[i].decodes);
    }

    /* No flavor at all. */
    {
        CLEANUP(instance_freep) struct instance *inst = instance_new(UUID);
        CLEANUP(compute_spec_freep) struct compute_spec *cs = NULL;
        CLEANUP(error_freep) struct error *error = NULL;

        error = compute_spec_from_instance(inst, VIRT_DOMAIN_TEST, DIR_,
                                           &cs);
        assert_non_null(error);
        assert_non_null(strstr(error_message(error), "has no flavor"));
        assert_null(cs);
    }
}

static void
test_tail_lines(void **state)
{
    const struct {
        const char *text;
        long long n_lines;
        const char *tail;
    } cases[] = {
        { "a\nb\nc\n", 2, "b\nc\n" },
        { "a\nb\nc\n", 1, "c\n" },
        { "a\nb\nc\n", 3, "a\nb\nc\n" },
        { "a\nb\nc\n", 10, "a\nb\nc\n" },
        { "a\nb\nc\n", -1, "a\nb\nc\n" },
        { "a\nb\nc\n", 0, "" },
        { "a\nb\nc", 1, "c" },
        { "a\nb\nc", 2, "b\nc" },
        { "", 5, "" },
        { "\n\n", 1, "\n" },
        { "only", 1, "only" },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        AUTOFREE char *tail = compute_spec_tail_lines(
            cases[i].text, strlen(cases[i].text), cases[i].n_lines);

        assert_string_equal(tail, cases[i].tail);
    }
}

static void
test_build_record(void **state)
{
    char dir[] = "/tmp/test-compute-spec-XXXXXX";
    CLEANUP(json_putp) struct json_object *alternates = json_tokener_parse(
        "[{\"host\": \"h2\", \"node\": \"n2\"}, "
        "{\"host\": \"h3\", \"node\": \"n3\"}]");
    CLEANUP(json_putp) struct json_object *loaded = NULL;
    AUTOFREE char *path = NULL;
    AUTOFREE char *text = NULL;
    CLEANUP(error_freep) struct error *error = NULL;
    long long attempt = 0;
    const struct {
        const char *content;
        const char *message;
    } damaged[] = {
        { "", "damaged" },
        { "{\"attempt\": 0, \"alternates\": []}", "attempt" },
        { "{\"attempt\": 1}", "alternates" },
        { "{\"attempt\": 1, \"alternates\": [{\"host\": 5}]}", "host" },
        { "{\"attempt\": 1, \"alternates\": [1]}", "alternates[0]" },
        { "[1, 2]", "damaged" },
    };

    (void) state;
    assert_non_null(mkdtemp(dir));

    /* Missing: NotFound. */
    error = compute_spec_load_build_record(dir, UUID, &attempt, &loaded);
    assert_non_null(error);
    assert_int_equal(error_kind(error), ERROR_NOT_FOUND);
    error_free(TAKE_PTR(error));

    /* Round trip. */
    assert_null(compute_spec_save_build_record(dir, UUID, 4, alternates));
    assert_null(compute_spec_load_build_record(dir, UUID, &attempt,
                                               &loaded));
    assert_int_equal(attempt, 4);
    text = json_to_string_plain(loaded);
    assert_string_equal(text, "[{\"host\":\"h2\",\"node\":\"n2\"},"
                        "{\"host\":\"h3\",\"node\":\"n3\"}]");

    /* Damaged records are refused with the reason. */
    path = compute_spec_instance_path(dir, UUID, COMPUTE_SPEC_BUILD_RECORD);
    for (size_t i = 0; i < ARRAY_SIZE(damaged); i++) {
        FILE *f = fopen(path, "w");
        struct json_object *none = NULL;

        assert_non_null(f);
        fputs(damaged[i].content, f);
        assert_int_equal(fclose(f), 0);
        error = compute_spec_load_build_record(dir, UUID, &attempt, &none);
        assert_non_null(error);
        assert_int_equal(error_kind(error), ERROR_INVALID);
        assert_non_null(strstr(error_message(error), damaged[i].message));
        assert_null(none);
        error_free(TAKE_PTR(error));
    }

    /* Removing: the record only, then everything. */
    {
        AUTOFREE char *log = compute_spec_instance_path(
            dir, UUID, COMPUTE_SPEC_CONSOLE_LOG);
        AUTOFREE char *idir = compute_spec_instance_path(dir, UUID, NULL);
        FILE *f = fopen(log, "w");

        assert_non_null(f);
        assert_int_equal(fclose(f), 0);
        compute_spec_remove_files(dir, UUID, false);
        assert_int_equal(access(path, F_OK), -1);
        assert_int_equal(access(log, F_OK), 0);
        compute_spec_remove_files(dir, UUID, true);
        assert_int_equal(access(log, F_OK), -1);
        assert_int_equal(access(idir, F_OK), -1);
        /* Again: nothing left, nothing to complain about. */
        compute_spec_remove_files(dir, UUID, true);
    }
    assert_int_equal(rmdir(dir), 0);

    /* A directory that cannot be created. */
    error = compute_spec_save_build_record("/proc/nonexistent", UUID, 1,
                                           NULL);
    assert_non_null(error);
    assert_non_null(strstr(error_message(error), "Cannot write the build "
                           "record"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_from_instance),
        cmocka_unit_test(test_spec_failures),
        cmocka_unit_test(test_tail_lines),
        cmocka_unit_test(test_build_record),
    };

    return cmocka_run_group_tests_name("compute-spec", tests, NULL, NULL);
}
