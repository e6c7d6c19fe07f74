/* test-conductor-select.c: the wire form of select_destinations and of
 * DEST lists (child-cell/conductor-select.h). */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "child-cell/conductor-select.h"
#include "child-cell/sched-spec.h"
#include "shared/error.h"
#include "shared/json-util.h"

#define U1 "\"8a1c0e5e-2d1b-4a0e-9a3e-5b1f6f9d7c21\""
#define U2 "\"0b7f3f4e-5d1c-4c55-9f39-0d6f7a1f2b3c\""
#define FLAVOR "{\"flavorid\": \"1\", \"name\": \"m1.tiny\", \"vcpus\": 2, " \
    "\"memory_mb\": 512, \"root_gb\": 1, \"ephemeral_gb\": 2, " \
    "\"swap\": 100, \"extra_specs\": {}}"

static struct json_object *
parse(const char *text)
{
    struct json_object *doc = NULL;
    struct error *error = json_parse_text(text, strlen(text), 0, 0, &doc);

    if (error) {
        fail_msg("bad test JSON '%s': %s", text, error_message(error));
    }
    return doc;
}

static void
test_decode_good(void **state)
{
    static const struct {
        const char *args;
        size_t num_instances;
        size_t n_alternates;
        const char *zone;           /* NULL: any */
        const char *force_host;     /* NULL: none */
        const char *arch;
        const char *hv_type;
        enum sched_spec_policy policy;
        size_t n_group_hosts;
        size_t n_ignore_hosts;
        int64_t swap_mb;
    } cases[] = {
        { "{\"spec\": {\"flavor\": " FLAVOR ", \"num_instances\": 1}, "
          "\"instance_uuids\": [" U1 "], \"num_alternates\": 2}",
          1, 2, NULL, NULL, NULL, NULL, SCHED_SPEC_POLICY_NONE, 0, 0,
          1024 },
        { "{\"spec\": {\"flavor\": " FLAVOR ", \"num_instances\": 2, "
          "\"availability_zone\": \"az1\", \"image\": {\"id\": \"i\", "
          "\"properties\": {\"architecture\": \"x86_64\", "
          "\"hypervisor_type\": \"qemu\"}}, \"scheduler_hints\": {}, "
          "\"ignore_hosts\": [\"h1\", \"h2\"], \"group\": null}, "
          "\"instance_uuids\": [" U1 ", " U2 "], \"num_alternates\": 0}",
          2, 0, "az1", NULL, "x86_64", "qemu", SCHED_SPEC_POLICY_NONE, 0,
          2, 1024 },
        /* Nova's image property names win over the older ones. */
        { "{\"spec\": {\"flavor\": " FLAVOR ", \"num_instances\": 1, "
          "\"image\": {\"properties\": {\"hw_architecture\": \"aarch64\", "
          "\"architecture\": \"x86_64\", \"img_hv_type\": \"kvm\"}}}, "
          "\"instance_uuids\": [" U1 "], \"num_alternates\": 1}",
          1, 1, NULL, NULL, "aarch64", "kvm", SCHED_SPEC_POLICY_NONE, 0, 0,
          1024 },
        /* Forced host, with and without zone and node. */
        { "{\"spec\": {\"flavor\": " FLAVOR ", \"num_instances\": 1, "
          "\"availability_zone\": \"nova:cmp3\"}, "
          "\"instance_uuids\": [" U1 "], \"num_alternates\": 0}",
          1, 0, "nova", "cmp3", NULL, NULL, SCHED_SPEC_POLICY_NONE, 0, 0,
          1024 },
        { "{\"spec\": {\"flavor\": " FLAVOR ", \"num_instances\": 1, "
          "\"availability_zone\": \":cmp3:node3\"}, "
          "\"instance_uuids\": [" U1 "], \"num_alternates\": 0}",
          1, 0, NULL, "cmp3", NULL, NULL, SCHED_SPEC_POLICY_NONE, 0, 0,
          1024 },
        { "{\"spec\": {\"flavor\": " FLAVOR ", \"num_instances\": 1, "
          "\"group\": {\"policy\": \"anti-affinity\", "
          "\"hosts\": [\"a\", \"a\", \"b\"]}}, "
          "\"instance_uuids\": [" U1 "], \"num_alternates\": 3}",
          1, 3, NULL, NULL, NULL, NULL, SCHED_SPEC_POLICY_ANTI_AFFINITY, 3,
          0, 1024 },
        /* No swap: no disk beyond root and ephemeral. */
        { "{\"spec\": {\"flavor\": {\"flavorid\": \"2\", \"name\": \"x\", "
          "\"vcpus\": 1, \"memory_mb\": 64, \"root_gb\": 0, "
          "\"ephemeral_gb\": 0}, \"num_instances\": 1}, "
          "\"instance_uuids\": [" U1 "], \"num_alternates\": 0}",
          1, 0, NULL, NULL, NULL, NULL, SCHED_SPEC_POLICY_NONE, 0, 0, 0 },
    };

    (void) state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CLEANUP(json_putp) struct json_object *args = parse(cases[i].args);
        CLEANUP(conductor_select_request_freep)
            struct conductor_select_request *r = NULL;
        struct error *error = conductor_select_decode_request(args, &r);
        const struct sched_spec *s;

        if (error) {
            fail_msg("row %zu: %s", i, error_message(error));
        }
        s = &r->spec;
        assert_int_equal(s->num_instances, cases[i].num_instances);
        assert_int_equal(s->n_alternates, cases[i].n_alternates);
        assert_int_equal(s->vcpus, i == 6 ? 1 : 2);
        assert_int_equal(s->swap_mb, cases[i].swap_mb);
        if (cases[i].zone) {
            assert_string_equal(s->availability_zone, cases[i].zone);
        } else {
            assert_null(s->availability_zone);
        }
        if (cases[i].force_host) {
            assert_int_equal(s->n_force_hosts, 1);
            assert_string_equal(s->force_hosts[0], cases[i].force_host);
        } else {
            assert_int_equal(s->n_force_hosts, 0);
        }
        if (cases[i].arch) {
            assert_string_equal(s->image_architecture, cases[i].arch);
        } else {
            assert_null(s->image_architecture);
        }
        if (cases[i].hv_type) {
            assert_string_equal(s->image_hypervisor_type,
                                cases[i].hv_type);
        } else {
            assert_null(s->image_hypervisor_type);
        }
        assert_int_equal(s->group_policy, cases[i].policy);
        assert_int_equal(s->n_group_hosts, cases[i].n_group_hosts);
        assert_int_equal(s->n_ignore_hosts, cases[i].n_ignore_hosts);
        assert_non_null(s->instance_uuids);
        assert_string_equal(s->instance_uuids[0],
                            "8a1c0e5e-2d1b-4a0e-9a3e-5b1f6f9d7c21");
    }
}

static void
test_decode_bad(void **state)
{
    static const struct {
        const char *args;
        const char *error;          /* part of the message */
    } cases[] = {
        { "[]", "not of type 'object'" },
        { "{\"instance_uuids\": [" U1 "], \"num_alternates\": 0}",
          "'spec' is a required property" },
        { "{\"spec\": {\"flavor\": " FLAVOR ", \"num_instances\": 1}, "
          "\"num_alternates\": 0}", "'instance_uuids'" },
        { "{\"spec\": {\"flavor\": " FLAVOR ", \"num_instances\": 1}, "
          "\"instance_uuids\": [" U1 "]}", "'num_alternates'" },
        { "{\"spec\": {\"flavor\": " FLAVOR ", \"num_instances\": 1}, "
          "\"instance_uuids\": [" U1 "], \"num_alternates\": 0, "
          "\"extra\": 1}", "'extra' was unexpected" },
        { "{\"spec\": {\"flavor\": " FLAVOR ", \"num_instances\": 2}, "
          "\"instance_uuids\": [" U1 "], \"num_alternates\": 0}",
          "'spec.num_instances' is 2 but 1 instance uuids" },
        { "{\"spec\": {\"flavor\": " FLAVOR ", \"num_instances\": 1}, "
          "\"instance_uuids\": [" U1 "], \"num_alternates\": 65}",
          "num_alternates" },
        { "{\"spec\": {\"flavor\": " FLAVOR ", \"num_instances\": 1}, "
          "\"instance_uuids\": [" U1 "], \"num_alternates\": -1}",
          "num_alternates" },
        { "{\"spec\": {\"num_instances\": 1}, "
          "\"instance_uuids\": [" U1 "], \"num_alternates\": 0}",
          "'spec.flavor' is a required property" },
        { "{\"spec\": {\"flavor\": {\"vcpus\": \"2\", \"memory_mb\": 1, "
          "\"root_gb\": 1, \"ephemeral_gb\": 0}, \"num_instances\": 1}, "
          "\"instance_uuids\": [" U1 "], \"num_alternates\": 0}",
          "spec.flavor.vcpus" },
        { "{\"spec\": {\"flavor\": {\"vcpus\": 1, \"memory_mb\": -1, "
          "\"root_gb\": 1, \"ephemeral_gb\": 0}, \"num_instances\": 1}, "
          "\"instance_uuids\": [" U1 "], \"num_alternates\": 0}",
          "spec.flavor.memory_mb" },
        { "{\"spec\": {\"flavor\": " FLAVOR ", \"num_instances\": 1, "
          "\"availability_zone\": 5}, \"instance_uuids\": [" U1 "], "
          "\"num_alternates\": 0}", "spec.availability_zone" },
        { "{\"spec\": {\"flavor\": " FLAVOR ", \"num_instances\": 1, "
          "\"availability_zone\": \"nova:\"}, \"instance_uuids\": [" U1 "], "
          "\"num_alternates\": 0}", "names no host" },
        { "{\"spec\": {\"flavor\": " FLAVOR ", \"num_instances\": 1, "
          "\"availability_zone\": \"nova:h:\"}, \"instance_uuids\": [" U1
          "], \"num_alternates\": 0}", "names no host" },
        { "{\"spec\": {\"flavor\": " FLAVOR ", \"num_instances\": 1, "
          "\"ignore_hosts\": [\"\"]}, \"instance_uuids\": [" U1 "], "
          "\"num_alternates\": 0}", "'spec.ignore_hosts[0]'" },
        { "{\"spec\": {\"flavor\": " FLAVOR ", \"num_instances\": 1, "
          "\"ignore_hosts\": [3]}, \"instance_uuids\": [" U1 "], "
          "\"num_alternates\": 0}", "spec.ignore_hosts[0]" },
        { "{\"spec\": {\"flavor\": " FLAVOR ", \"num_instances\": 1, "
          "\"group\": {\"policy\": \"friends\", \"hosts\": []}}, "
          "\"instance_uuids\": [" U1 "], \"num_alternates\": 0}",
          "unknown policy 'friends'" },
        { "{\"spec\": {\"flavor\": " FLAVOR ", \"num_instances\": 1, "
          "\"group\": {\"hosts\": []}}, \"instance_uuids\": [" U1 "], "
          "\"num_alternates\": 0}", "'spec.group.policy'" },
        { "{\"spec\": {\"flavor\": " FLAVOR ", \"num_instances\": 1, "
          "\"image\": {\"properties\": {\"architecture\": 1}}}, "
          "\"instance_uuids\": [" U1 "], \"num_alternates\": 0}",
          "spec.image.properties.architecture" },
        { "{\"spec\": {\"flavor\": " FLAVOR ", \"num_instances\": 0}, "
          "\"instance_uuids\": [], \"num_alternates\": 0}",
          "spec.num_instances" },
    };

    (void) state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CLEANUP(json_putp) struct json_object *args = parse(cases[i].args);
        struct conductor_select_request *r = NULL;
        CLEANUP(error_freep) struct error *error
            = conductor_select_decode_request(args, &r);

        if (!error) {
            conductor_select_request_free(r);
            fail_msg("row %zu: accepted, expected '%s'", i, cases[i].error);
        }
        assert_null(r);
        assert_int_equal(error_kind(error), ERROR_INVALID);
        if (!strstr(error_message(error), cases[i].error)) {
            fail_msg("row %zu: '%s' lacks '%s'", i, error_message(error),
                     cases[i].error);
        }
    }
}

/* What the conductor sends decodes on the scheduler's side. */
static void
test_encode_request(void **state)
{
    static const char *const uuids[] = {
        "8a1c0e5e-2d1b-4a0e-9a3e-5b1f6f9d7c21",
        "0b7f3f4e-5d1c-4c55-9f39-0d6f7a1f2b3c",
    };
    static const char *const ignore[] = { "bad1", "bad2" };
    CLEANUP(json_putp) struct json_object *spec = parse(
        "{\"flavor\": " FLAVOR ", \"num_instances\": 7, "
        "\"ignore_hosts\": [\"h0\"]}");
    CLEANUP(json_putp) struct json_object *args = NULL;
    CLEANUP(conductor_select_request_freep)
        struct conductor_select_request *r = NULL;
    struct error *error;

    (void) state;
    args = conductor_select_encode_request(spec, uuids, 2, 2, ignore, 2);
    error = conductor_select_decode_request(args, &r);
    if (error) {
        fail_msg("%s", error_message(error));
    }
    assert_int_equal(r->spec.num_instances, 2);
    assert_int_equal(r->spec.n_alternates, 2);
    assert_int_equal(r->spec.n_ignore_hosts, 3);
    assert_string_equal(r->spec.ignore_hosts[0], "h0");
    assert_string_equal(r->spec.ignore_hosts[2], "bad2");
    assert_string_equal(r->spec.instance_uuids[1], uuids[1]);
    /* The caller's spec is left as it was. */
    assert_int_equal(json_object_get_int(
                         json_object_object_get(spec, "num_instances")), 7);
    assert_int_equal(json_object_array_length(
                         json_object_object_get(spec, "ignore_hosts")), 1);
}

static void
test_dest_lists(void **state)
{
    static const struct {
        const char *json;
        size_t n;                   /* expected entries */
        const char *error;          /* NULL: valid */
    } cases[] = {
        { "[]", 0, NULL },
        { "[{\"host\": \"a\", \"node\": \"a1\"}, "
          "{\"host\": \"b\", \"node\": \"b1\"}]", 2, NULL },
        { "{}", 0, "not of type 'array'" },
        { "[{\"host\": \"a\"}]", 0, "'alt[0].node' is a required" },
        { "[{\"host\": \"\", \"node\": \"x\"}]", 0, "empty host or node" },
        { "[{\"host\": \"a\", \"node\": \"b\", \"x\": 1}]", 0,
          "'x' was unexpected" },
        { "[7]", 0, "not of type 'object'" },
    };

    (void) state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CLEANUP(json_putp) struct json_object *doc = parse(cases[i].json);
        struct conductor_dest_list list = { NULL, 0 };
        CLEANUP(error_freep) struct error *error
            = conductor_dest_list_from_json(doc, "alt", &list);

        if (cases[i].error) {
            if (!error) {
                fail_msg("row %zu: accepted", i);
            }
            if (!strstr(error_message(error), cases[i].error)) {
                fail_msg("row %zu: '%s' lacks '%s'", i,
                         error_message(error), cases[i].error);
            }
            assert_int_equal(list.n, 0);
            continue;
        }
        if (error) {
            fail_msg("row %zu: %s", i, error_message(error));
        }
        assert_int_equal(list.n, cases[i].n);

        /* Round trip, and a tail from an offset. */
        CLEANUP(json_putp) struct json_object *back
            = conductor_dest_list_to_json(&list, 0);
        CLEANUP(json_putp) struct json_object *tail
            = conductor_dest_list_to_json(&list, 1);
        assert_true(json_object_equal(back, doc));
        assert_int_equal(json_object_array_length(tail),
                         list.n ? list.n - 1 : 0);
        conductor_dest_list_destroy(&list);
        assert_int_equal(list.n, 0);
    }
    conductor_dest_list_destroy(NULL);
}

static void
test_decode_reply(void **state)
{
    static const struct {
        const char *json;
        size_t n_instances;
        const char *error;
    } cases[] = {
        { "{\"selections\": [[{\"host\": \"a\", \"node\": \"a\"}, "
          "{\"host\": \"b\", \"node\": \"b\"}], "
          "[{\"host\": \"c\", \"node\": \"c\"}]]}", 2, NULL },
        { "{\"selections\": [[{\"host\": \"a\", \"node\": \"a\"}]]}", 2,
          "1 selections for 2 instances" },
        { "{\"selections\": [[]]}", 1, "'selections[0]' is empty" },
        { "{}", 1, "'selections' is a required property" },
        { "{\"selections\": [[{\"host\": 1, \"node\": \"a\"}]]}", 1,
          "selections[0][0].host" },
    };

    (void) state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CLEANUP(json_putp) struct json_object *doc = parse(cases[i].json);
        struct conductor_dest_list *lists = NULL;
        CLEANUP(error_freep) struct error *error
            = conductor_select_decode_reply(doc, cases[i].n_instances,
                                            &lists);

        if (cases[i].error) {
            if (!error) {
                conductor_select_reply_free(lists, cases[i].n_instances);
                fail_msg("row %zu: accepted", i);
            }
            if (!strstr(error_message(error), cases[i].error)) {
                fail_msg("row %zu: '%s' lacks '%s'", i,
                         error_message(error), cases[i].error);
            }
            continue;
        }
        if (error) {
            fail_msg("row %zu: %s", i, error_message(error));
        }
        assert_int_equal(lists[0].n, 2);
        assert_string_equal(lists[0].dests[1].host, "b");
        assert_int_equal(lists[1].n, 1);
        assert_string_equal(lists[1].dests[0].node, "c");
        conductor_select_reply_free(lists, cases[i].n_instances);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_good),
        cmocka_unit_test(test_decode_bad),
        cmocka_unit_test(test_encode_request),
        cmocka_unit_test(test_dest_lists),
        cmocka_unit_test(test_decode_reply),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
