/* test-flavor.c: the flavor object, its JSON form and its checks. */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "shared/cleanup.h"
#include "shared/error.h"
#include "shared/flavor.h"
#include "shared/json-util.h"
#include "shared/xalloc.h"

/* Parses 'text' (a test literal, known to be valid JSON). */
static struct json_object *
parse(const char *text)
{
    struct json_object *doc = NULL;
    struct error *error = json_parse_text(text, strlen(text), 0, 0, &doc);

    if (error) {
        fail_msg("%s: %s", text, error_message(error));
    }
    return doc;
}

/* Decodes 'text' with flavor_from_json() at 'path'; fails the test on an
 * error. */
static struct flavor *
decode(const char *text, const char *path)
{
    CLEANUP(json_putp) struct json_object *doc = parse(text);
    struct flavor *flavor = NULL;
    struct error *error = flavor_from_json(doc, path, &flavor);

    if (error) {
        fail_msg("%s: %s", text, error_message(error));
    }
    return flavor;
}

static void
test_round_trip_full(void **state)
{
    CLEANUP(flavor_freep) struct flavor *flavor = decode(
        "{\"flavorid\": \"42\", \"name\": \"m1.big\", \"vcpus\": 8,"
        " \"memory_mb\": 16384, \"root_gb\": 80, \"ephemeral_gb\": 10,"
        " \"swap\": 1536, \"extra_specs\": {\"hw:cpu_policy\": \"dedicated\","
        " \"aggregate_instance_extra_specs:ssd\": \"true\", \"e\": \"\"}}",
        NULL);
    CLEANUP(flavor_freep) struct flavor *again = NULL;
    CLEANUP(json_putp) struct json_object *json = NULL;
    AUTOFREE char *text = NULL;

    (void) state;
    assert_string_equal(flavor->flavorid, "42");
    assert_string_equal(flavor->name, "m1.big");
    assert_int_equal(flavor->vcpus, 8);
    assert_int_equal(flavor->memory_mb, 16384);
    assert_int_equal(flavor->root_gb, 80);
    assert_int_equal(flavor->ephemeral_gb, 10);
    assert_int_equal(flavor->swap, 1536);
    assert_int_equal(flavor->n_extra_specs, 3);
    /* Sorted by key. */
    assert_string_equal(flavor->extra_specs[0].key,
                        "aggregate_instance_extra_specs:ssd");
    assert_string_equal(flavor->extra_specs[1].key, "e");
    assert_string_equal(flavor->extra_specs[2].key, "hw:cpu_policy");
    assert_string_equal(flavor_get_extra_spec(flavor, "hw:cpu_policy"),
                        "dedicated");
    assert_string_equal(flavor_get_extra_spec(flavor, "e"), "");
    assert_null(flavor_get_extra_spec(flavor, "missing"));

    json = flavor_to_json(flavor);
    text = json_to_string_plain(json);
    assert_string_equal(text,
                        "{\"flavorid\":\"42\",\"name\":\"m1.big\","
                        "\"vcpus\":8,\"memory_mb\":16384,\"root_gb\":80,"
                        "\"ephemeral_gb\":10,\"swap\":1536,\"extra_specs\":"
                        "{\"aggregate_instance_extra_specs:ssd\":\"true\","
                        "\"e\":\"\",\"hw:cpu_policy\":\"dedicated\"}}");
    assert_null(flavor_from_json(json, NULL, &again));
    assert_true(flavor_equal(flavor, again));
}

static void
test_round_trip_minimal(void **state)
{
    CLEANUP(flavor_freep) struct flavor *flavor = decode(
        "{\"flavorid\": \"1\", \"name\": \"m1.tiny\", \"vcpus\": 1,"
        " \"memory_mb\": 512, \"root_gb\": 0}", NULL);
    CLEANUP(flavor_freep) struct flavor *again = NULL;
    CLEANUP(json_putp) struct json_object *json = flavor_to_json(flavor);
    AUTOFREE char *text = json_to_string_plain(json);

    (void) state;
    assert_int_equal(flavor->ephemeral_gb, 0);
    assert_int_equal(flavor->swap, 0);
    assert_int_equal(flavor->n_extra_specs, 0);
    assert_null(flavor->extra_specs);
    assert_string_equal(text,
                        "{\"flavorid\":\"1\",\"name\":\"m1.tiny\","
                        "\"vcpus\":1,\"memory_mb\":512,\"root_gb\":0,"
                        "\"ephemeral_gb\":0,\"swap\":0,\"extra_specs\":{}}");
    assert_null(flavor_from_json(json, NULL, &again));
    assert_true(flavor_equal(flavor, again));
}

static void
test_bad_json(void **state)
{
    /* Each row breaks one rule; the message must name the field (with the
     * path "spec.flavor") and say what is wrong. */
    static const struct {
        const char *json;
        const char *message;
    } cases[] = {
        { "[]", "'spec.flavor'" },
        { "null", "'spec.flavor'" },
        { "{\"name\": \"a\", \"vcpus\": 1, \"memory_mb\": 1,"
          " \"root_gb\": 0}",
          "'spec.flavor.flavorid' is a required property" },
        { "{\"flavorid\": 1, \"name\": \"a\", \"vcpus\": 1,"
          " \"memory_mb\": 1, \"root_gb\": 0}",
          "'spec.flavor.flavorid'. Value: 1. 1 is not of type 'string'" },
        { "{\"flavorid\": \"\", \"name\": \"a\", \"vcpus\": 1,"
          " \"memory_mb\": 1, \"root_gb\": 0}",
          "'spec.flavor.flavorid'. Value: \"\". \"\" is too short" },
        { "{\"flavorid\": \"1\", \"name\": null, \"vcpus\": 1,"
          " \"memory_mb\": 1, \"root_gb\": 0}",
          "'spec.flavor.name'. Value: null" },
        { "{\"flavorid\": \"1\", \"name\": \"a\", \"memory_mb\": 1,"
          " \"root_gb\": 0}",
          "'spec.flavor.vcpus' is a required property" },
        { "{\"flavorid\": \"1\", \"name\": \"a\", \"vcpus\": 0,"
          " \"memory_mb\": 1, \"root_gb\": 0}",
          "'spec.flavor.vcpus'. Value: 0" },
        { "{\"flavorid\": \"1\", \"name\": \"a\", \"vcpus\": \"2\","
          " \"memory_mb\": 1, \"root_gb\": 0}",
          "'spec.flavor.vcpus'. Value: \"2\"" },
        { "{\"flavorid\": \"1\", \"name\": \"a\", \"vcpus\": 1.5,"
          " \"memory_mb\": 1, \"root_gb\": 0}",
          "'spec.flavor.vcpus'. Value: 1.5" },
        { "{\"flavorid\": \"1\", \"name\": \"a\", \"vcpus\": 2147483648,"
          " \"memory_mb\": 1, \"root_gb\": 0}",
          "'spec.flavor.vcpus'. Value: 2147483648" },
        { "{\"flavorid\": \"1\", \"name\": \"a\", \"vcpus\": 1,"
          " \"memory_mb\": 0, \"root_gb\": 0}",
          "'spec.flavor.memory_mb'. Value: 0" },
        { "{\"flavorid\": \"1\", \"name\": \"a\", \"vcpus\": 1,"
          " \"memory_mb\": 1, \"root_gb\": -1}",
          "'spec.flavor.root_gb'. Value: -1" },
        { "{\"flavorid\": \"1\", \"name\": \"a\", \"vcpus\": 1,"
          " \"memory_mb\": 1}",
          "'spec.flavor.root_gb' is a required property" },
        { "{\"flavorid\": \"1\", \"name\": \"a\", \"vcpus\": 1,"
          " \"memory_mb\": 1, \"root_gb\": 0, \"ephemeral_gb\": -2}",
          "'spec.flavor.ephemeral_gb'. Value: -2" },
        { "{\"flavorid\": \"1\", \"name\": \"a\", \"vcpus\": 1,"
          " \"memory_mb\": 1, \"root_gb\": 0, \"swap\": true}",
          "'spec.flavor.swap'. Value: true" },
        { "{\"flavorid\": \"1\", \"name\": \"a\", \"vcpus\": 1,"
          " \"memory_mb\": 1, \"root_gb\": 0, \"extra_specs\": []}",
          "'spec.flavor.extra_specs'. Value: []" },
        { "{\"flavorid\": \"1\", \"name\": \"a\", \"vcpus\": 1,"
          " \"memory_mb\": 1, \"root_gb\": 0,"
          " \"extra_specs\": {\"k\": 1}}",
          "'spec.flavor.extra_specs.k'. Value: 1" },
        { "{\"flavorid\": \"1\", \"name\": \"a\", \"vcpus\": 1,"
          " \"memory_mb\": 1, \"root_gb\": 0,"
          " \"extra_specs\": {\"\": \"v\"}}",
          "'spec.flavor.extra_specs.'. Length 0" },
        { "{\"flavorid\": \"1\", \"name\": \"a\", \"vcpus\": 1,"
          " \"memory_mb\": 1, \"root_gb\": 0, \"disabled\": false}",
          "Additional properties are not allowed ('disabled' was "
          "unexpected)" },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        CLEANUP(json_putp) struct json_object *doc = parse(cases[i].json);
        struct flavor *flavor = NULL;
        CLEANUP(error_freep) struct error *error =
            flavor_from_json(doc, "spec.flavor", &flavor);

        if (!error) {
            fail_msg("row %zu (%s) was accepted", i, cases[i].json);
        }
        assert_null(flavor);
        assert_int_equal(error_kind(error), ERROR_INVALID);
        if (!strstr(error_message(error), cases[i].message)) {
            fail_msg("row %zu: '%s' does not contain '%s'", i,
                     error_message(error), cases[i].message);
        }
    }
}

static void
test_limits(void **state)
{
    CLEANUP(flavor_freep) struct flavor *flavor = flavor_new("1", "x");
    CLEANUP(json_putp) struct json_object *json = NULL;
    CLEANUP(error_freep) struct error *error = NULL;
    struct flavor *decoded = NULL;
    AUTOFREE char *long_value = xmalloc(FLAVOR_SPEC_VALUE_MAX_LENGTH + 2);

    (void) state;
    flavor->vcpus = FLAVOR_MAX_INT;
    flavor->memory_mb = FLAVOR_MAX_INT;
    flavor->root_gb = FLAVOR_MAX_INT;
    flavor->ephemeral_gb = FLAVOR_MAX_INT;
    flavor->swap = FLAVOR_MAX_INT;
    for (int i = 0; i < FLAVOR_MAX_EXTRA_SPECS; i++) {
        AUTOFREE char *key = xasprintf("key%03d", i);
        flavor_set_extra_spec(flavor, key, "v");
    }
    assert_null(flavor_validate(flavor, NULL));
    json = flavor_to_json(flavor);
    assert_null(flavor_from_json(json, NULL, &decoded));
    assert_true(flavor_equal(flavor, decoded));
    flavor_free(decoded);
    decoded = NULL;

    /* One spec too many. */
    json_object_object_add(
        json_object_object_get(json, "extra_specs"), "one-more",
        json_object_new_string("v"));
    error = flavor_from_json(json, NULL, &decoded);
    assert_non_null(error);
    assert_non_null(strstr(error_message(error), "'extra_specs'"));
    assert_null(decoded);
    error_free(TAKE_PTR(error));

    flavor_set_extra_spec(flavor, "one-more", "v");
    error = flavor_validate(flavor, "f");
    assert_non_null(error);
    assert_non_null(strstr(error_message(error), "'f.extra_specs'"));
    error_free(TAKE_PTR(error));
    flavor_set_extra_spec(flavor, "one-more", NULL);

    /* A value one character too long, in the struct and in JSON. */
    memset(long_value, 'v', FLAVOR_SPEC_VALUE_MAX_LENGTH + 1);
    long_value[FLAVOR_SPEC_VALUE_MAX_LENGTH + 1] = '\0';
    flavor_set_extra_spec(flavor, "key000", long_value);
    error = flavor_validate(flavor, NULL);
    assert_non_null(error);
    assert_non_null(strstr(error_message(error), "'extra_specs.key000'"));
    error_free(TAKE_PTR(error));
    json_putp(&json);
    json = flavor_to_json(flavor);
    error = flavor_from_json(json, NULL, &decoded);
    assert_non_null(error);
    assert_non_null(strstr(error_message(error), "'extra_specs.key000'"));
}

static void
test_validate(void **state)
{
    static const struct {
        const char *flavorid;
        const char *name;
        int64_t vcpus, memory_mb, root_gb, ephemeral_gb, swap;
        const char *message;    /* NULL: valid */
    } cases[] = {
        { "1", "a", 1, 1, 0, 0, 0, NULL },
        { NULL, "a", 1, 1, 0, 0, 0, "'fl.flavorid' is a required" },
        { "1", NULL, 1, 1, 0, 0, 0, "'fl.name' is a required" },
        { "", "a", 1, 1, 0, 0, 0, "'fl.flavorid'. Length 0" },
        { "1", "a", 0, 1, 0, 0, 0, "'fl.vcpus'" },
        { "1", "a", 1, -1, 0, 0, 0, "'fl.memory_mb'" },
        { "1", "a", 1, 1, -1, 0, 0, "'fl.root_gb'" },
        { "1", "a", 1, 1, 0, FLAVOR_MAX_INT + 1, 0, "'fl.ephemeral_gb'" },
        { "1", "a", 1, 1, 0, 0, -1, "'fl.swap'" },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        CLEANUP(flavor_freep) struct flavor *flavor =
            flavor_new(cases[i].flavorid, cases[i].name);
        CLEANUP(error_freep) struct error *error = NULL;

        flavor->vcpus = cases[i].vcpus;
        flavor->memory_mb = cases[i].memory_mb;
        flavor->root_gb = cases[i].root_gb;
        flavor->ephemeral_gb = cases[i].ephemeral_gb;
        flavor->swap = cases[i].swap;
        error = flavor_validate(flavor, "fl");
        if (!cases[i].message) {
            assert_null(error);
            continue;
        }
        if (!error || !strstr(error_message(error), cases[i].message)) {
            fail_msg("row %zu: '%s' does not contain '%s'", i,
                     error ? error_message(error) : "(accepted)",
                     cases[i].message);
        }
    }
}

static void
test_extra_specs(void **state)
{
    CLEANUP(flavor_freep) struct flavor *flavor = flavor_new("1", "x");
    CLEANUP(flavor_freep) struct flavor *copy = NULL;

    (void) state;
    flavor_set_extra_spec(flavor, "b", "2");
    flavor_set_extra_spec(flavor, "a", "1");
    flavor_set_extra_spec(flavor, "c", "3");
    flavor_set_extra_spec(flavor, "b", "two");
    assert_int_equal(flavor->n_extra_specs, 3);
    assert_string_equal(flavor->extra_specs[0].key, "a");
    assert_string_equal(flavor->extra_specs[1].value, "two");
    assert_string_equal(flavor->extra_specs[2].key, "c");

    copy = flavor_clone(flavor);
    assert_true(flavor_equal(flavor, copy));
    flavor_set_extra_spec(copy, "b", NULL);
    flavor_set_extra_spec(copy, "never-set", NULL);
    assert_int_equal(copy->n_extra_specs, 2);
    assert_null(flavor_get_extra_spec(copy, "b"));
    assert_false(flavor_equal(flavor, copy));
    copy->vcpus = 3;
    flavor_set_extra_spec(copy, "b", "two");
    assert_false(flavor_equal(flavor, copy));
    copy->vcpus = flavor->vcpus;
    assert_true(flavor_equal(flavor, copy));

    assert_true(flavor_equal(NULL, NULL));
    assert_false(flavor_equal(flavor, NULL));
    assert_null(flavor_clone(NULL));
    flavor_free(NULL);
}

static void
test_disk_gb(void **state)
{
    static const struct {
        int64_t root_gb, ephemeral_gb, swap, expected;
    } cases[] = {
        { 0, 0, 0, 0 },
        { 1, 0, 0, 1 },
        { 10, 5, 0, 15 },
        { 1, 0, 1, 2 },         /* 1 MiB of swap takes a whole GiB */
        { 1, 0, 1024, 2 },
        { 1, 0, 1025, 3 },
        { 0, 0, 2048, 2 },
        { FLAVOR_MAX_INT, FLAVOR_MAX_INT, FLAVOR_MAX_INT,
          2 * FLAVOR_MAX_INT + (FLAVOR_MAX_INT + 1023) / 1024 },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct flavor flavor = {
            .root_gb = cases[i].root_gb,
            .ephemeral_gb = cases[i].ephemeral_gb,
            .swap = cases[i].swap,
        };

        assert_int_equal(flavor_disk_gb(&flavor), cases[i].expected);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_full),
        cmocka_unit_test(test_round_trip_minimal),
        cmocka_unit_test(test_bad_json),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_validate),
        cmocka_unit_test(test_extra_specs),
        cmocka_unit_test(test_disk_gb),
    };

    return cmocka_run_group_tests_name("flavor", tests, NULL, NULL);
}
