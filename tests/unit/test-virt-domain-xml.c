/* test-virt-domain-xml.c: domain XML from instance specs, spec checks, the
 * spec's JSON form and the driver interface's name tables.
 *
 * Golden files: tests/data/domain-xml/<case>.in holds a spec in JSON
 * (virt-spec-json.h), <case>.out the XML built from it.  Run with
 * NOVA_REGENERATE_GOLDEN=1 to rewrite the .out files, then review the diff.
 * libvirt's acceptance of the same XML (as type='test') is checked in
 * test-virt-libvirt.c. */
#include <config.h>

#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "child-cell/virt-domain-xml.h"
#include "child-cell/virt-driver.h"
#include "child-cell/virt-spec-json.h"
#include "shared/cleanup.h"
#include "shared/error.h"
#include "shared/json-util.h"
#include "shared/xalloc.h"

#define TEST_MAX_FILE_SIZE (1024 * 1024)

static const char *const golden_cases[] = {
    "kernel-boot",
    "disk-boot",
    "test-type",
    "special-chars",
    "kernel-and-disk",
};

/* A valid spec that the failure rows below change one field of. */
static const char base_spec_json[] =
    "{\"uuid\": \"6e1d2b8a-3c4f-4a5b-9c6d-7e8f9a0b1c2d\","
    " \"name\": \"instance-0000002a\", \"domain_type\": \"qemu\","
    " \"flavor\": {\"name\": \"m1.tiny\", \"vcpus\": 1,"
    "              \"memory_mb\": 128},"
    " \"image\": {\"kernel\": \"/k/vmlinuz\", \"initrd\": \"/k/initrd\","
    "             \"cmdline\": \"console=ttyS0\"},"
    " \"serial_log\": \"/logs/console.log\"}";

static char *
data_path(const char *name, const char *suffix)
{
    const char *top = getenv("top_srcdir");

    if (top && top[0]) {
        return xasprintf("%s/tests/data/domain-xml/%s%s", top, name, suffix);
    }
    return xasprintf("%s/%s%s", TEST_DOMAIN_XML_DIR, name, suffix);
}

/* Returns the contents of 'path', or NULL if it cannot be read. */
static char *
read_file(const char *path)
{
    FILE *f = fopen(path, "re");
    char *data;
    size_t size;

    if (!f) {
        return NULL;
    }
    data = xmalloc(TEST_MAX_FILE_SIZE + 1);
    size = fread(data, 1, TEST_MAX_FILE_SIZE, f);
    fclose(f);
    data[size] = '\0';
    return data;
}

static void
write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "we");

    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static struct json_object *
parse_json(const char *text)
{
    struct json_object *doc = NULL;
    CLEANUP(error_freep) struct error *error =
        json_parse_text(text, strlen(text), 0, 0, &doc);

    if (error) {
        fail_msg("bad test JSON: %s", error_message(error));
    }
    return doc;
}

/* Applies 'patch' to 'base' (RFC 7386 merge patch: null deletes). */
static void
merge_patch(struct json_object *base, struct json_object *patch)
{
    json_object_object_foreach(patch, key, value) {
        struct json_object *old = NULL;

        if (!value) {
            json_object_object_del(base, key);
        } else if (json_object_is_type(value, json_type_object)
                   && json_object_object_get_ex(base, key, &old)
                   && json_object_is_type(old, json_type_object)) {
            merge_patch(old, value);
        } else {
            json_object_object_add(base, key, json_object_get(value));
        }
    }
}

static void
test_golden_files(void **state)
{
    bool regenerate = getenv("NOVA_REGENERATE_GOLDEN")
                      && !strcmp(getenv("NOVA_REGENERATE_GOLDEN"), "1");

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(golden_cases); i++) {
        AUTOFREE char *in_path = data_path(golden_cases[i], ".in");
        AUTOFREE char *out_path = data_path(golden_cases[i], ".out");
        AUTOFREE char *in = read_file(in_path);
        AUTOFREE char *expected = NULL;
        AUTOFREE char *xml = NULL;
        CLEANUP(json_putp) struct json_object *doc = NULL;
        struct virt_instance_spec spec;
        struct error *error;

        if (!in) {
            fail_msg("cannot read '%s'", in_path);
        }
        doc = parse_json(in);
        error = virt_spec_json_decode(doc, &spec);
        if (error) {
            fail_msg("%s: %s", golden_cases[i], error_message(error));
        }
        error = virt_domain_xml_build(&spec, &xml);
        if (error) {
            fail_msg("%s: %s", golden_cases[i], error_message(error));
        }
        if (regenerate) {
            write_file(out_path, xml);
            continue;
        }
        expected = read_file(out_path);
        if (!expected) {
            fail_msg("cannot read '%s' (NOVA_REGENERATE_GOLDEN=1 writes it)",
                     out_path);
        }
        if (strcmp(expected, xml)) {
            fail_msg("%s: built XML differs from '%s':\n%s", golden_cases[i],
                     out_path, xml);
        }
    }
}

/* Escaping leaves no raw special character anywhere in the special-chars
 * case: every '<' starts a tag we wrote, every '&' an entity. */
static void
test_special_chars_are_escaped(void **state)
{
    AUTOFREE char *in_path = data_path("special-chars", ".in");
    AUTOFREE char *in = read_file(in_path);
    CLEANUP(json_putp) struct json_object *doc = NULL;
    AUTOFREE char *xml = NULL;
    struct virt_instance_spec spec;

    (void) state;
    assert_non_null(in);
    doc = parse_json(in);
    assert_null(virt_spec_json_decode(doc, &spec));
    assert_null(virt_domain_xml_build(&spec, &xml));

    assert_non_null(strstr(xml, "<name>evil&lt;&amp;&gt;&apos;&quot;name "
                           "]]&gt; &lt;!-- x --&gt;</name>"));
    assert_non_null(strstr(xml, "<nova:user uuid='u&amp;1'>&lt;script&gt;"
                           "alert(&apos;x&apos;)&lt;/script&gt;"
                           "</nova:user>"));
    assert_non_null(strstr(xml, "<log file='/logs/it&apos;s &amp; "
                           "&lt;here&gt;.log' append='off'/>"));
    for (const char *p = xml; *p; p++) {
        if (*p == '&') {
            assert_true(!strncmp(p, "&amp;", 5) || !strncmp(p, "&lt;", 4)
                        || !strncmp(p, "&gt;", 4) || !strncmp(p, "&apos;", 6)
                        || !strncmp(p, "&quot;", 6));
        }
    }
    assert_null(strstr(xml, "<script"));
    assert_null(strstr(xml, "<b>"));
    assert_null(strstr(xml, "<!--"));
}

static void
test_escape(void **state)
{
    static const struct {
        const char *in;
        const char *out;
    } cases[] = {
        { "", "" },
        { "plain", "plain" },
        { "<", "&lt;" },
        { "a&b", "a&amp;b" },
        { "'\"", "&apos;&quot;" },
        { "]]>", "]]&gt;" },
        { "&amp;", "&amp;amp;" },
        { "caf\xc3\xa9", "caf\xc3\xa9" },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        AUTOFREE char *out = virt_domain_xml_escape(cases[i].in);

        assert_string_equal(out, cases[i].out);
    }
}

/* Each row changes the base spec with a JSON merge patch; the result must
 * decode but fail validation with ERROR_INVALID and a message holding
 * 'message'. */
static void
test_invalid_specs(void **state)
{
    static const struct {
        const char *patch;
        const char *message;
    } cases[] = {
        /* Memory and vCPUs. */
        { "{\"flavor\": {\"memory_mb\": 0}}",
          "Instance '6e1d2b8a-3c4f-4a5b-9c6d-7e8f9a0b1c2d' has no memory: "
          "flavor 'm1.tiny' gives 0 MB" },
        { "{\"flavor\": {\"memory_mb\": 16777217}}", "more than 16777216 MB" },
        { "{\"flavor\": {\"vcpus\": 0}}", "asks for 0 vCPUs, not 1 to 1024" },
        { "{\"flavor\": {\"vcpus\": 1025}}", "asks for 1025 vCPUs" },
        { "{\"flavor\": {\"name\": \"\"}}", "has no flavor name" },
        /* Boot source. */
        { "{\"image\": {\"kernel\": null, \"initrd\": null,"
          " \"cmdline\": null}}",
          "has no boot source: neither a kernel nor a disk image is given" },
        { "{\"image\": null}", "has no boot source" },
        { "{\"image\": {\"kernel\": \"\", \"initrd\": null,"
          " \"cmdline\": null, \"disk\": \"\"}}", "has no boot source" },
        { "{\"image\": {\"kernel\": null, \"disk\": \"/d\"}}",
          "has an initrd or a kernel command line but no kernel" },
        { "{\"image\": {\"kernel\": \"vmlinuz\"}}",
          "The kernel 'vmlinuz' of instance "
          "'6e1d2b8a-3c4f-4a5b-9c6d-7e8f9a0b1c2d' is not an absolute path" },
        { "{\"image\": {\"disk\": \"disk.img\"}}",
          "disk image 'disk.img'" },
        { "{\"image\": {\"disk\": \"/d\", \"disk_format\": \"vmdk\"}}",
          "Unknown disk format 'vmdk'" },
        { "{\"image\": {\"cmdline\": \"a\\tb\"}}",
          "kernel command line of instance "
          "'6e1d2b8a-3c4f-4a5b-9c6d-7e8f9a0b1c2d' is not printable" },
        /* Identity. */
        { "{\"uuid\": \"not-a-uuid\"}", "Invalid instance uuid 'not-a-uuid'" },
        { "{\"uuid\": \"6e1d2b8a-3c4f-4a5b-9c6d-7e8f9a0b1c2\"}",
          "Invalid instance uuid" },
        { "{\"uuid\": \"6e1d2b8a3c4f4a5b9c6d7e8f9a0b1c2d\"}",
          "Invalid instance uuid" },
        { "{\"uuid\": \"6e1d2b8a-3c4f-4a5b-9c6d-7e8f9a0b1c2g\"}",
          "Invalid instance uuid" },
        { "{\"uuid\": \"6e1d2b8a-3c4f-4a5b-9c6d-7e8f9a0b1c2d \"}",
          "Invalid instance uuid" },
        { "{\"uuid\": \"\"}", "Invalid instance uuid ''" },
        { "{\"uuid\": \"bad\\nuuid\"}", "Invalid instance uuid" },
        { "{\"name\": \"\"}", "has no name" },
        { "{\"name\": \"a/b\"}", "The name 'a/b' of instance" },
        { "{\"name\": \"a\\nb\"}", "The name of instance" },
        { "{\"display_name\": \"x\\u0007\"}", "display name of instance" },
        { "{\"created_at\": \"2024\\n\"}", "creation time" },
        { "{\"owner\": {\"user_name\": \"\\u0001\"}}", "user name" },
        { "{\"owner\": {\"project_id\": \"\\u009b\"}}", "project id" },
        /* Devices and machine. */
        { "{\"serial_log\": \"console.log\"}",
          "serial log 'console.log' of instance" },
        { "{\"vnc\": {\"listen\": \"localhost\"}}",
          "VNC listen address of instance" },
        { "{\"vnc\": {\"listen\": \"127.0.0.1 \"}}", "not an IP address" },
        { "{\"vnc\": {\"port\": 80}}", "VNC port 80 of instance" },
        { "{\"vnc\": {\"port\": 5899}}", "is not in 5900-65535" },
        { "{\"arch\": \"x86 64\"}", "architecture of instance" },
        { "{\"arch\": \"\"}", "must have 1 to 64 characters" },
        { "{\"machine\": \"pc;reboot\"}", "machine type of instance" },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        CLEANUP(json_putp) struct json_object *doc = parse_json(
            base_spec_json);
        CLEANUP(json_putp) struct json_object *patch = parse_json(
            cases[i].patch);
        CLEANUP(error_freep) struct error *error = NULL;
        AUTOFREE char *xml = NULL;
        struct virt_instance_spec spec;

        merge_patch(doc, patch);
        error = virt_spec_json_decode(doc, &spec);
        if (error) {
            fail_msg("row %zu (%s) does not decode: %s", i, cases[i].patch,
                     error_message(error));
        }
        error = virt_domain_xml_build(&spec, &xml);
        if (!error) {
            fail_msg("row %zu (%s) was accepted", i, cases[i].patch);
        }
        assert_null(xml);
        assert_int_equal(error_kind(error), ERROR_INVALID);
        if (!strstr(error_message(error), cases[i].message)) {
            fail_msg("row %zu (%s): message '%s' lacks '%s'", i,
                     cases[i].patch, error_message(error), cases[i].message);
        }
    }

    /* The base itself is valid: the rows fail for their own reason. */
    CLEANUP(json_putp) struct json_object *doc = parse_json(base_spec_json);
    struct virt_instance_spec spec;

    assert_null(virt_spec_json_decode(doc, &spec));
    assert_null(virt_domain_xml_validate(&spec));
}

/* Specs built in C, for what JSON cannot carry. */
static void
test_invalid_specs_in_c(void **state)
{
    static const struct {
        const char *name;
        bool valid;
    } names[] = {
        { "caf\xc3\xa9", true },                /* 2-byte UTF-8 */
        { "\xe2\x98\x83", true },               /* 3-byte */
        { "\xf0\x9f\x98\x80", true },           /* 4-byte */
        { "\xff", false },                      /* Not UTF-8. */
        { "\xc3", false },                      /* Truncated. */
        { "\xc0\xaf", false },                  /* Overlong '/'. */
        { "\xe0\x80\xaf", false },              /* Overlong, 3 bytes. */
        { "\xed\xa0\x80", false },              /* Surrogate. */
        { "\xf4\x90\x80\x80", false },          /* Past U+10FFFF. */
        { "a\x7f", false },                     /* DEL. */
        { "\xc2\x85", false },                  /* C1 control (NEL). */
    };
    struct virt_instance_spec spec = {
        .uuid = "6e1d2b8a-3c4f-4a5b-9c6d-7e8f9a0b1c2d",
        .name = "instance-0000002a",
        .flavor = { .name = "m1.tiny", .vcpus = 1, .memory_mb = 128 },
        .image = { .disk_path = "/disk" },
        .domain_type = VIRT_DOMAIN_QEMU,
    };
    CLEANUP(error_freep) struct error *error = NULL;
    char long_name[VIRT_DOMAIN_NAME_MAX_LENGTH + 2];

    (void) state;
    assert_null(virt_domain_xml_validate(&spec));

    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        struct error *e;

        spec.name = names[i].name;
        e = virt_domain_xml_validate(&spec);
        if (names[i].valid != !e) {
            fail_msg("name row %zu: %s", i, e ? error_message(e)
                                             : "accepted");
        }
        if (e) {
            assert_non_null(strstr(error_message(e), "not printable UTF-8"));
        }
        error_free(e);
    }

    /* Names count characters, not bytes. */
    memset(long_name, 'x', sizeof long_name);
    long_name[VIRT_DOMAIN_NAME_MAX_LENGTH] = '\0';
    spec.name = long_name;
    assert_null(virt_domain_xml_validate(&spec));
    long_name[VIRT_DOMAIN_NAME_MAX_LENGTH] = 'x';
    long_name[VIRT_DOMAIN_NAME_MAX_LENGTH + 1] = '\0';
    error = virt_domain_xml_validate(&spec);
    assert_non_null(error);
    assert_non_null(strstr(error_message(error),
                           "too long (256 characters, at most 255)"));
    error_free(TAKE_PTR(error));
    {
        /* 255 two-byte characters: 510 bytes, still valid. */
        char wide[2 * VIRT_DOMAIN_NAME_MAX_LENGTH + 1];

        for (size_t i = 0; i < VIRT_DOMAIN_NAME_MAX_LENGTH; i++) {
            wide[2 * i] = (char) 0xc3;
            wide[2 * i + 1] = (char) 0xa9;
        }
        wide[sizeof wide - 1] = '\0';
        spec.name = wide;
        assert_null(virt_domain_xml_validate(&spec));
    }
    spec.name = "instance-0000002a";

    /* A domain type outside the enumeration. */
    spec.domain_type = (enum virt_domain_type) 99;
    error = virt_domain_xml_validate(&spec);
    assert_non_null(error);
    assert_int_equal(error_kind(error), ERROR_INVALID);
    assert_string_equal(error_message(error),
                        "Unknown domain type 99 for instance "
                        "'6e1d2b8a-3c4f-4a5b-9c6d-7e8f9a0b1c2d' "
                        "(expected qemu, kvm or test)");
    error_free(TAKE_PTR(error));
    spec.domain_type = VIRT_DOMAIN_TEST;

    /* A NULL uuid or name. */
    spec.uuid = NULL;
    error = virt_domain_xml_validate(&spec);
    assert_string_equal(error_message(error), "Invalid instance uuid");
    error_free(TAKE_PTR(error));
    spec.uuid = "6e1d2b8a-3c4f-4a5b-9c6d-7e8f9a0b1c2d";
    spec.name = NULL;
    error = virt_domain_xml_validate(&spec);
    assert_string_equal(error_message(error),
                        "Instance '6e1d2b8a-3c4f-4a5b-9c6d-7e8f9a0b1c2d' "
                        "has no name");
}

/* Decoding rejects wrong keys and types with Nova-style messages. */
static void
test_decode_errors(void **state)
{
    static const struct {
        const char *patch;      /* Merged into the base; NULL: 'json'. */
        const char *json;
        const char *message;
    } cases[] = {
        { NULL, "[]", "is not of type 'object'" },
        { NULL, "\"spec\"", "is not of type 'object'" },
        { "{\"uuid\": 5}", NULL, "'uuid'" },
        { "{\"uuid\": null}", NULL, "'uuid' is a required property" },
        { "{\"flavor\": null}", NULL, "'flavor' is a required property" },
        { "{\"flavor\": {\"vcpus\": null}}", NULL,
          "'flavor.vcpus' is a required property" },
        { "{\"flavor\": {\"vcpus\": -1}}", NULL, "flavor.vcpus" },
        { "{\"flavor\": {\"memory_mb\": 1.5}}", NULL, "flavor.memory_mb" },
        { "{\"flavor\": {\"memory_mb\": \"128\"}}", NULL,
          "flavor.memory_mb" },
        { "{\"flavor\": {\"memory_mb\": 4294967296}}", NULL,
          "flavor.memory_mb" },
        { "{\"vnc\": {\"port\": 65536}}", NULL, "vnc.port" },
        { "{\"image\": []}", NULL, "'image'" },
        { "{\"bogus\": 1}", NULL,
          "Additional properties are not allowed ('bogus' was unexpected)" },
        { "{\"image\": {\"ramdisk\": \"/r\"}}", NULL, "'ramdisk'" },
        { "{\"domain_type\": \"xen\"}", NULL,
          "Unknown domain type 'xen' (expected qemu, kvm or test)" },
        { "{\"domain_type\": \"QEMU\"}", NULL, "Unknown domain type" },
        { "{\"domain_type\": null}", NULL, "'domain_type'" },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        CLEANUP(json_putp) struct json_object *doc = parse_json(
            cases[i].patch ? base_spec_json : cases[i].json);
        CLEANUP(error_freep) struct error *error = NULL;
        struct virt_instance_spec spec;

        if (cases[i].patch) {
            CLEANUP(json_putp) struct json_object *patch = parse_json(
                cases[i].patch);

            merge_patch(doc, patch);
        }
        error = virt_spec_json_decode(doc, &spec);
        if (!error) {
            fail_msg("row %zu decoded", i);
        }
        assert_int_equal(error_kind(error), ERROR_INVALID);
        if (!strstr(error_message(error), cases[i].message)) {
            fail_msg("row %zu: message '%s' lacks '%s'", i,
                     error_message(error), cases[i].message);
        }
    }
}

/* encode(decode(x)) decodes to a spec that builds the same XML. */
static void
test_json_round_trip(void **state)
{
    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(golden_cases); i++) {
        AUTOFREE char *in_path = data_path(golden_cases[i], ".in");
        AUTOFREE char *in = read_file(in_path);
        CLEANUP(json_putp) struct json_object *doc = NULL;
        CLEANUP(json_putp) struct json_object *again = NULL;
        AUTOFREE char *xml = NULL;
        AUTOFREE char *xml_again = NULL;
        struct virt_instance_spec spec, spec_again;

        assert_non_null(in);
        doc = parse_json(in);
        assert_null(virt_spec_json_decode(doc, &spec));
        again = virt_spec_json_encode(&spec);
        assert_null(virt_spec_json_decode(again, &spec_again));
        assert_null(virt_domain_xml_build(&spec, &xml));
        assert_null(virt_domain_xml_build(&spec_again, &xml_again));
        assert_string_equal(xml, xml_again);
    }
}

static void
test_name_tables(void **state)
{
    static const struct {
        enum virt_power_state state;
        int number;
        const char *name;
    } power_states[] = {
        { VIRT_POWER_NOSTATE, 0, "pending" },
        { VIRT_POWER_RUNNING, 1, "running" },
        { VIRT_POWER_PAUSED, 3, "paused" },
        { VIRT_POWER_SHUTDOWN, 4, "shutdown" },
        { VIRT_POWER_CRASHED, 6, "crashed" },
        { VIRT_POWER_SUSPENDED, 7, "suspended" },
    };
    enum virt_power_state power_state;
    enum virt_domain_type type;

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(power_states); i++) {
        assert_int_equal((int) power_states[i].state,
                         power_states[i].number);
        assert_string_equal(virt_power_state_to_string(power_states[i].state),
                            power_states[i].name);
        assert_int_equal(virt_power_state_from_string(power_states[i].name,
                                                      &power_state), 0);
        assert_int_equal(power_state, power_states[i].state);
    }
    assert_string_equal(virt_power_state_to_string((enum virt_power_state) 2),
                        "unknown");
    assert_int_equal(virt_power_state_from_string("on", &power_state),
                     -EINVAL);

    assert_int_equal(virt_domain_type_from_string("kvm", &type), 0);
    assert_int_equal(type, VIRT_DOMAIN_KVM);
    assert_string_equal(virt_domain_type_to_string(VIRT_DOMAIN_TEST), "test");
    assert_int_equal(virt_domain_type_from_string("xen", &type), -EINVAL);
    assert_int_equal(virt_domain_type_from_string("", &type), -EINVAL);
    assert_null(virt_domain_type_to_string(VIRT_N_DOMAIN_TYPES));

    assert_string_equal(virt_event_to_string(VIRT_EVENT_STOPPED), "stopped");
    assert_string_equal(virt_event_to_string(VIRT_EVENT_SUSPENDED),
                        "suspended");
    assert_null(virt_event_to_string(VIRT_N_EVENTS));
}

static void
test_instance_name(void **state)
{
    static const struct {
        unsigned int id;
        const char *name;
    } cases[] = {
        { 0, "instance-00000000" },
        { 42, "instance-0000002a" },
        { 0xdeadbeef, "instance-deadbeef" },
        { UINT_MAX, "instance-ffffffff" },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        AUTOFREE char *name = virt_driver_instance_name(cases[i].id);

        assert_string_equal(name, cases[i].name);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_files),
        cmocka_unit_test(test_special_chars_are_escaped),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_invalid_specs),
        cmocka_unit_test(test_invalid_specs_in_c),
        cmocka_unit_test(test_decode_errors),
        cmocka_unit_test(test_json_round_trip),
        cmocka_unit_test(test_name_tables),
        cmocka_unit_test(test_instance_name),
    };

    return cmocka_run_group_tests_name("virt-domain-xml", tests, NULL, NULL);
}
