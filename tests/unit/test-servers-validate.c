/* test-servers-validate.c: the servers API's body and query checks
 * (api-cell/servers-validate.c) and the pure parts of its views and
 * action state checks.
 *
 * Tables of bodies with the exact message Nova's validator gives for
 * each (written out by hand from jsonschema's wording), good bodies with
 * what they parse to, then the query parameters, the status map, the
 * Python renderings, hostId and the action state table. */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "api-cell/servers-actions.h"
#include "api-cell/servers-validate.h"
#include "api-cell/servers-view.h"
#include "api-cell/top-view.h"
#include "shared/cleanup.h"
#include "shared/error.h"
#include "shared/instance.h"
#include "shared/json-util.h"
#include "shared/xalloc.h"

#define UUID "6d9b7d06-5a4c-4b0e-9a1c-6f4d1c1a2b3c"

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

/* Wraps 'server' (JSON text of the server object's members) into a
 * create body. */
static char *
create_body(const char *members)
{
    return xasprintf("{\"server\": {%s}}", members);
}

struct bad_case {
    const char *body;           /* whole body, or members with 'wrap' */
    bool wrap;
    const char *message;
};

#define OK_MEMBERS "\"name\": \"vm\", \"flavorRef\": \"1\", " \
    "\"imageRef\": \"" UUID "\""

static const struct bad_case create_bad[] = {
    { "[]", false, "[] is not of type 'object'" },
    { "{}", false, "'server' is a required property" },
    { "{\"server\": 5}", false,
      "Invalid input for field/attribute server. Value: 5. 5 is not of "
      "type 'object'" },
    { "{\"server\": {\"name\": \"vm\", \"flavorRef\": \"1\"}, "
      "\"foo\": 1}", false,
      "Additional properties are not allowed ('foo' was unexpected)" },
    { "\"flavorRef\": \"1\"", true,
      "Invalid input for field/attribute server. Value: {'flavorRef': "
      "'1'}. 'name' is a required property" },
    { "\"name\": \"vm\"", true,
      "Invalid input for field/attribute server. Value: {'name': 'vm'}. "
      "'flavorRef' is a required property" },
    { "\"name\": 5, \"flavorRef\": \"1\"", true,
      "Invalid input for field/attribute name. Value: 5. 5 is not of type "
      "'string'" },
    { "\"name\": \"\", \"flavorRef\": \"1\"", true,
      "Invalid input for field/attribute name. Value: . '' is too short" },
    { "\"name\": \" vm\", \"flavorRef\": \"1\"", true,
      "An invalid 'name' value was provided. The name must be: printable "
      "characters. Can not start or end with whitespace." },
    { "\"name\": \"vm\\n\", \"flavorRef\": \"1\"", true,
      "An invalid 'name' value was provided. The name must be: printable "
      "characters. Can not start or end with whitespace." },
    { "\"name\": null, \"flavorRef\": \"1\"", true,
      "Invalid input for field/attribute name. Value: None. None is not of "
      "type 'string'" },
    { "\"name\": \"vm\", \"flavorRef\": 5.5", true,
      "Invalid input for field/attribute flavorRef. Value: 5.5. 5.5 is not "
      "of type 'string', 'integer'" },
    { "\"name\": \"vm\", \"flavorRef\": \"\"", true,
      "Invalid input for field/attribute flavorRef. Value: . '' is too "
      "short" },
    { "\"name\": \"vm\", \"flavorRef\": \"1\", \"imageRef\": \"abc\"", true,
      "Invalid input for field/attribute imageRef. Value: abc. 'abc' is "
      "not valid under any of the given schemas" },
    { "\"name\": \"vm\", \"flavorRef\": \"1\", \"imageRef\": 5", true,
      "Invalid input for field/attribute imageRef. Value: 5. 5 is not "
      "valid under any of the given schemas" },
    { OK_MEMBERS ", \"metadata\": []", true,
      "Invalid input for field/attribute metadata. Value: []. [] is not of "
      "type 'object'" },
    { OK_MEMBERS ", \"metadata\": {\"a\": 1}", true,
      "Invalid input for field/attribute a. Value: 1. 1 is not of type "
      "'string'" },
    { OK_MEMBERS ", \"metadata\": {\"a/b\": \"x\"}", true,
      "Invalid input for field/attribute metadata. Value: {'a/b': 'x'}. "
      "Additional properties are not allowed ('a/b' was unexpected)" },
    { OK_MEMBERS ", \"metadata\": {\"\": \"x\"}", true,
      "Invalid input for field/attribute metadata. Value: {'': 'x'}. "
      "Additional properties are not allowed ('' was unexpected)" },
    { OK_MEMBERS ", \"min_count\": 0", true,
      "Invalid input for field/attribute min_count. Value: 0. 0 is less "
      "than the minimum of 1" },
    { OK_MEMBERS ", \"min_count\": \"x\"", true,
      "Invalid input for field/attribute min_count. Value: x. 'x' does not "
      "match '^[0-9]*$'" },
    { OK_MEMBERS ", \"max_count\": \"\"", true,
      "Invalid input for field/attribute max_count. Value: . '' is too "
      "short" },
    { OK_MEMBERS ", \"max_count\": true", true,
      "Invalid input for field/attribute max_count. Value: True. True is "
      "not of type 'integer', 'string'" },
    { OK_MEMBERS ", \"max_count\": 1001", true,
      "Invalid input for field/attribute max_count. Value: 1001. 1001 is "
      "greater than the maximum of 1000" },
    { OK_MEMBERS ", \"min_count\": 3, \"max_count\": 2", true,
      "min_count must be <= max_count" },
    { OK_MEMBERS ", \"key_name\": 1", true,
      "Invalid input for field/attribute key_name. Value: 1. 1 is not of "
      "type 'string'" },
    { OK_MEMBERS ", \"availability_zone\": \"\"", true,
      "Invalid input for field/attribute availability_zone. Value: . '' is "
      "too short" },
    { OK_MEMBERS ", \"accessIPv4\": \"1.2.3\"", true,
      "Invalid input for field/attribute accessIPv4. Value: 1.2.3. '1.2.3' "
      "is not a 'ipv4'" },
    { OK_MEMBERS ", \"accessIPv6\": \"zz::\"", true,
      "Invalid input for field/attribute accessIPv6. Value: zz::. 'zz::' "
      "is not a 'ipv6'" },
    { OK_MEMBERS ", \"OS-DCF:diskConfig\": \"x\"", true,
      "Invalid input for field/attribute OS-DCF:diskConfig. Value: x. 'x' "
      "is not one of ['AUTO', 'MANUAL']" },
    { OK_MEMBERS ", \"config_drive\": \"maybe\"", true,
      "Invalid input for field/attribute config_drive. Value: maybe. "
      "'maybe' is not one of [True, 'True', 'TRUE', 'true', '1', 'ON', "
      "'On', 'on', 'YES', 'Yes', 'yes', False, 'False', 'FALSE', 'false', "
      "'0', 'OFF', 'Off', 'off', 'NO', 'No', 'no']" },
    { OK_MEMBERS ", \"user_data\": \"a\"", true,
      "Invalid input for field/attribute user_data. Value: a. 'a' is not a "
      "'base64'" },
    { OK_MEMBERS ", \"networks\": {}", true,
      "Invalid input for field/attribute networks. Value: {}. {} is not of "
      "type 'array'" },
    { OK_MEMBERS ", \"adminPass\": 1", true,
      "Invalid input for field/attribute adminPass. Value: 1. 1 is not of "
      "type 'string'" },
    { OK_MEMBERS ", \"foo\": 1, \"bar\": 2", true,
      "Invalid input for field/attribute server. Value: {'name': 'vm', "
      "'flavorRef': '1', 'imageRef': '" UUID "', 'foo': 1, 'bar': 2}. "
      "Additional properties are not allowed ('foo', 'bar' were "
      "unexpected)" },
    { "{\"server\": {" OK_MEMBERS "}, \"os:scheduler_hints\": []}", false,
      "Invalid input for field/attribute os:scheduler_hints. Value: []. [] "
      "is not of type 'object'" },
    { "\"name\": \"it's\", \"flavorRef\": 1, \"x\": 1", true,
      "Invalid input for field/attribute server. Value: {'name': \"it's\", "
      "'flavorRef': 1, 'x': 1}. Additional properties are not allowed "
      "('x' was unexpected)" },
};

static void
test_create_bad(void **state)
{
    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(create_bad); i++) {
        const struct bad_case *c = &create_bad[i];
        AUTOFREE char *text = c->wrap ? create_body(c->body)
                                      : xstrdup(c->body);
        CLEANUP(json_putp) struct json_object *body = parse(text);
        struct servers_create_req r;
        CLEANUP(error_freep) struct error *error =
            servers_validate_create(body, &r);

        servers_create_req_destroy(&r);
        if (!error) {
            fail_msg("case %zu (%s) passed", i, text);
        }
        assert_int_equal(error_kind(error), ERROR_INVALID);
        if (strcmp(error_message(error), c->message)) {
            fail_msg("case %zu (%s):\n got  '%s'\n want '%s'", i, text,
                     error_message(error), c->message);
        }
    }

    /* A name of 256 characters. */
    AUTOFREE char *long_name = xmalloc(257);
    memset(long_name, 'n', 256);
    long_name[256] = '\0';
    AUTOFREE char *long_body = xasprintf("{\"server\": {\"name\": \"%s\", "
                                         "\"flavorRef\": \"1\"}}",
                                         long_name);
    CLEANUP(json_putp) struct json_object *long_doc = parse(long_body);
    struct servers_create_req lr;
    CLEANUP(error_freep) struct error *long_error =
        servers_validate_create(long_doc, &lr);
    servers_create_req_destroy(&lr);
    assert_non_null(long_error);
    AUTOFREE char *long_want = xasprintf(
        "Invalid input for field/attribute name. Value: %s. '%s' is too "
        "long", long_name, long_name);
    assert_string_equal(error_message(long_error), long_want);

    /* No body at all. */
    struct servers_create_req r;
    CLEANUP(error_freep) struct error *error =
        servers_validate_create(NULL, &r);
    assert_non_null(error);
    assert_string_equal(error_message(error),
                        "'server' is a required property");
    servers_create_req_destroy(&r);
}

static void
test_create_good(void **state)
{
    struct servers_create_req r;
    struct error *error;

    (void) state;
    {
        CLEANUP(json_putp) struct json_object *body = parse(
            "{\"server\": {\"name\": \"web\", \"flavorRef\": 42, "
            "\"imageRef\": \"6D9B7D065A4C4B0E9A1C6F4D1C1A2B3C\", "
            "\"metadata\": {\"role\": \"db\", \"a.b:c- _\": \"\"}, "
            "\"key_name\": \"k\", \"availability_zone\": \"az1\", "
            "\"min_count\": \"2\", \"max_count\": 3, "
            "\"config_drive\": \"yes\", \"user_data\": \"aGVsbG8=\", "
            "\"networks\": [{\"uuid\": \"x\"}], \"accessIPv4\": "
            "\"10.0.0.1\", \"security_groups\": [{\"name\": \"default\"}], "
            "\"OS-DCF:diskConfig\": \"AUTO\"}, "
            "\"os:scheduler_hints\": {\"target_cell\": \"api!a\"}}");

        error = servers_validate_create(body, &r);
        assert_null(error);
        assert_string_equal(r.name, "web");
        assert_string_equal(r.flavor_ref, "42");
        assert_string_equal(r.image_ref, UUID);
        assert_string_equal(r.key_name, "k");
        assert_string_equal(r.availability_zone, "az1");
        assert_int_equal(r.min_count, 2);
        assert_int_equal(r.max_count, 3);
        assert_int_equal(json_object_object_length(r.metadata), 2);
        assert_non_null(r.scheduler_hints);
        assert_false(r.return_reservation_id);
        assert_false(r.has_block_devices);
        servers_create_req_destroy(&r);
    }
    {
        CLEANUP(json_putp) struct json_object *body = parse(
            "{\"server\": {\"name\": \"web\", \"flavorRef\": \"1\", "
            "\"min_count\": 4, \"imageRef\": \"\", "
            "\"block_device_mapping_v2\": [{}], "
            "\"return_reservation_id\": true}}");

        error = servers_validate_create(body, &r);
        assert_null(error);
        assert_string_equal(r.image_ref, "");
        assert_int_equal(r.min_count, 4);
        assert_int_equal(r.max_count, 4);
        assert_true(r.return_reservation_id);
        assert_true(r.has_block_devices);
        servers_create_req_destroy(&r);
    }
    {
        /* No imageRef: "" (the handler refuses it). */
        CLEANUP(json_putp) struct json_object *body = parse(
            "{\"server\": {\"name\": \"web\", \"flavorRef\": \"1\"}}");

        error = servers_validate_create(body, &r);
        assert_null(error);
        assert_string_equal(r.image_ref, "");
        assert_int_equal(r.min_count, 1);
        assert_int_equal(r.max_count, 1);
        servers_create_req_destroy(&r);
    }
}

static void
test_update(void **state)
{
    static const struct bad_case bad[] = {
        { "{}", false, "'server' is a required property" },
        { "{\"server\": {\"name\": 1}}", false,
          "Invalid input for field/attribute name. Value: 1. 1 is not of "
          "type 'string'" },
        { "{\"server\": {\"name\": \"x\", \"flavorRef\": 1}}", false,
          "Invalid input for field/attribute server. Value: {'name': 'x', "
          "'flavorRef': 1}. Additional properties are not allowed "
          "('flavorRef' was unexpected)" },
        { "{\"server\": {}, \"x\": 1}", false,
          "Additional properties are not allowed ('x' was unexpected)" },
        { "{\"server\": []}", false,
          "Invalid input for field/attribute server. Value: []. [] is not "
          "of type 'object'" },
    };
    const char *name = NULL;

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        CLEANUP(json_putp) struct json_object *body = parse(bad[i].body);
        CLEANUP(error_freep) struct error *error =
            servers_validate_update(body, &name);

        assert_non_null(error);
        if (strcmp(error_message(error), bad[i].message)) {
            fail_msg("case %zu: got '%s'", i, error_message(error));
        }
    }
    CLEANUP(json_putp) struct json_object *body = parse(
        "{\"server\": {\"name\": \"new\", \"accessIPv4\": \"1.2.3.4\"}}");
    assert_null(servers_validate_update(body, &name));
    assert_string_equal(name, "new");
    CLEANUP(json_putp) struct json_object *empty = parse("{\"server\": {}}");
    assert_null(servers_validate_update(empty, &name));
    assert_null(name);
}

static void
test_actions(void **state)
{
    static const struct bad_case bad[] = {
        { "{}", false, "Malformed request body" },
        { "[]", false, "Malformed request body" },
        { "{\"pause\": null, \"unpause\": null}", false,
          "Malformed request body" },
        { "{\"fly\": null}", false, "There is no such action: fly" },
        { "{\"reboot\": {}}", false,
          "Invalid input for field/attribute reboot. Value: {}. 'type' is "
          "a required property" },
        { "{\"reboot\": null}", false,
          "Invalid input for field/attribute reboot. Value: None. None is "
          "not of type 'object'" },
        { "{\"reboot\": {\"type\": \"warm\"}}", false,
          "Invalid input for field/attribute type. Value: warm. 'warm' is "
          "not one of ['HARD', 'Hard', 'hard', 'SOFT', 'Soft', 'soft']" },
        { "{\"reboot\": {\"type\": \"HARD\", \"now\": 1}}", false,
          "Invalid input for field/attribute reboot. Value: {'type': "
          "'HARD', 'now': 1}. Additional properties are not allowed "
          "('now' was unexpected)" },
        { "{\"os-getConsoleOutput\": {\"length\": \"x\"}}", false,
          "Invalid input for field/attribute length. Value: x. 'x' does "
          "not match '^-?[0-9]+$'" },
        { "{\"os-getConsoleOutput\": {\"length\": 1.5}}", false,
          "Invalid input for field/attribute length. Value: 1.5. 1.5 is "
          "not of type 'integer', 'string', 'null'" },
        { "{\"os-getConsoleOutput\": {\"lines\": 1}}", false,
          "Invalid input for field/attribute os-getConsoleOutput. Value: "
          "{'lines': 1}. Additional properties are not allowed ('lines' "
          "was unexpected)" },
    };
    static const struct {
        const char *body;
        enum servers_action action;
        bool hard;
        bool has_length;
        long long length;
    } good[] = {
        { "{\"reboot\": {\"type\": \"SOFT\"}}", SERVERS_ACTION_REBOOT,
          false, false, 0 },
        { "{\"reboot\": {\"type\": \"hard\"}}", SERVERS_ACTION_REBOOT,
          true, false, 0 },
        { "{\"os-stop\": null}", SERVERS_ACTION_STOP, false, false, 0 },
        { "{\"os-start\": {}}", SERVERS_ACTION_START, false, false, 0 },
        { "{\"pause\": null}", SERVERS_ACTION_PAUSE, false, false, 0 },
        { "{\"unpause\": null}", SERVERS_ACTION_UNPAUSE, false, false, 0 },
        { "{\"suspend\": null}", SERVERS_ACTION_SUSPEND, false, false, 0 },
        { "{\"resume\": null}", SERVERS_ACTION_RESUME, false, false, 0 },
        { "{\"lock\": null}", SERVERS_ACTION_LOCK, false, false, 0 },
        { "{\"unlock\": null}", SERVERS_ACTION_UNLOCK, false, false, 0 },
        { "{\"os-getConsoleOutput\": {}}", SERVERS_ACTION_CONSOLE_OUTPUT,
          false, false, 0 },
        { "{\"os-getConsoleOutput\": {\"length\": \"50\"}}",
          SERVERS_ACTION_CONSOLE_OUTPUT, false, true, 50 },
        { "{\"os-getConsoleOutput\": {\"length\": -1}}",
          SERVERS_ACTION_CONSOLE_OUTPUT, false, false, 0 },
        { "{\"os-getConsoleOutput\": {\"length\": null}}",
          SERVERS_ACTION_CONSOLE_OUTPUT, false, false, 0 },
    };
    struct servers_action_req a;

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        CLEANUP(json_putp) struct json_object *body = parse(bad[i].body);
        CLEANUP(error_freep) struct error *error =
            servers_validate_action(body, &a);

        assert_non_null(error);
        assert_int_equal(error_kind(error), ERROR_INVALID);
        if (strcmp(error_message(error), bad[i].message)) {
            fail_msg("case %zu: got '%s'", i, error_message(error));
        }
    }
    for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
        CLEANUP(json_putp) struct json_object *body = parse(good[i].body);
        CLEANUP(error_freep) struct error *error =
            servers_validate_action(body, &a);

        if (error) {
            fail_msg("case %zu: %s", i, error_message(error));
        }
        assert_int_equal(a.action, good[i].action);
        assert_int_equal(a.hard, good[i].hard);
        assert_int_equal(a.has_length, good[i].has_length);
        assert_int_equal(a.length, good[i].length);
    }
    assert_string_equal(servers_action_to_string(SERVERS_ACTION_STOP),
                        "os-stop");
    assert_string_equal(servers_action_to_string(SERVERS_N_ACTIONS), "?");
}

static void
test_query(void **state)
{
    static const struct {
        const char *value;
        long long limit;        /* -1: error */
        const char *message;
    } limits[] = {
        { "0", 0, NULL },
        { "5", 5, NULL },
        { "5000", 1000, NULL },
        { "99999999999999999999999", 1000, NULL },
        { "-1", -1, "limit param must be positive" },
        { "abc", -1, "limit param must be an integer" },
        { "", -1, "limit param must be an integer" },
        { "1.5", -1, "limit param must be an integer" },
    };
    long long limit;
    bool b;
    int64_t ms;

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(limits); i++) {
        CLEANUP(error_freep) struct error *error =
            servers_parse_limit(limits[i].value, 1000, &limit);

        if (limits[i].message) {
            assert_non_null(error);
            assert_string_equal(error_message(error), limits[i].message);
        } else {
            assert_null(error);
            assert_int_equal(limit, limits[i].limit);
        }
    }

    assert_null(servers_parse_bool("True", &b));
    assert_true(b);
    assert_null(servers_parse_bool("0", &b));
    assert_false(b);
    CLEANUP(error_freep) struct error *e1 = servers_parse_bool("maybe", &b);
    assert_non_null(e1);
    assert_string_equal(error_message(e1), "Unrecognized value 'maybe', "
                        "acceptable values are: '0', '1', 'f', 'false', "
                        "'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'");

    assert_null(servers_parse_changes_since("2020-01-02T03:04:05Z", &ms));
    assert_int_equal(ms, INT64_C(1577934245000));
    CLEANUP(error_freep) struct error *e2 =
        servers_parse_changes_since("yesterday", &ms);
    assert_non_null(e2);
    assert_string_equal(error_message(e2), "Invalid input for query "
                        "parameters changes-since. Value: yesterday. "
                        "'yesterday' is not a 'date-time'");

    assert_null(servers_check_sort_dir("asc"));
    assert_null(servers_check_sort_dir("desc"));
    CLEANUP(error_freep) struct error *e3 = servers_check_sort_dir("up");
    assert_non_null(e3);
    assert_string_equal(error_message(e3), "Unknown sort direction, must be "
                        "'desc' or 'asc'");
}

static void
test_status_map(void **state)
{
    static const struct {
        const char *status;
        const char *vm_state;
        bool needs_task;
    } cases[] = {
        { "ACTIVE", "active", false },
        { "active", "active", false },
        { "BUILD", "building", false },
        { "SHUTOFF", "stopped", false },
        { "PAUSED", "paused", false },
        { "SUSPENDED", "suspended", false },
        { "ERROR", "error", false },
        { "DELETED", "deleted", false },
        { "REBOOT", "active", true },
        { "HARD_REBOOT", "active", true },
        { "BOGUS", NULL, false },
        { "", NULL, false },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        bool needs_task = false;
        const char *vm = servers_status_to_vm_state(cases[i].status,
                                                    &needs_task);

        if (!cases[i].vm_state) {
            assert_null(vm);
            continue;
        }
        assert_non_null(vm);
        assert_string_equal(vm, cases[i].vm_state);
        assert_int_equal(needs_task, cases[i].needs_task);
    }
}

static void
test_py_repr(void **state)
{
    static const struct {
        const char *json;
        const char *repr;
    } cases[] = {
        { "null", "None" },
        { "true", "True" },
        { "false", "False" },
        { "-7", "-7" },
        { "\"abc\"", "'abc'" },
        { "\"it's\"", "\"it's\"" },
        { "\"a'b\\\"c\"", "'a\\'b\"c'" },
        { "\"tab\\there\"", "'tab\\there'" },
        { "[1, \"x\", null]", "[1, 'x', None]" },
        { "{\"a\": {\"b\": []}}", "{'a': {'b': []}}" },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        CLEANUP(json_putp) struct json_object *obj = parse(cases[i].json);
        AUTOFREE char *repr = servers_py_repr(obj);

        assert_string_equal(repr, cases[i].repr);
    }

    /* Long values are cut. */
    AUTOFREE char *long_text = xmalloc(5000);
    memset(long_text, 'x', 4999);
    long_text[0] = '"';
    long_text[4998] = '"';
    long_text[4999] = '\0';
    CLEANUP(json_putp) struct json_object *obj = parse(long_text);
    AUTOFREE char *repr = servers_py_repr(obj);
    assert_true(strlen(repr) <= SERVERS_VALIDATE_MAX_VALUE_SIZE + 3);
    assert_non_null(strstr(repr, "..."));
}

static void
test_host_id(void **state)
{
    char id[SERVERS_VIEW_HOST_ID_SIZE];

    (void) state;
    /* hashlib.sha224(b"projhost").hexdigest() */
    servers_view_host_id("proj", "host", id);
    assert_int_equal(strlen(id), 56);
    servers_view_host_id("proj", NULL, id);
    assert_string_equal(id, "");
    servers_view_host_id("proj", "", id);
    assert_string_equal(id, "");
    /* sha224 of the empty project + "h" differs from "proj" + "h". */
    char a[SERVERS_VIEW_HOST_ID_SIZE], b[SERVERS_VIEW_HOST_ID_SIZE];
    servers_view_host_id("p1", "h", a);
    servers_view_host_id("p2", "h", b);
    assert_string_not_equal(a, b);
    /* Known answer: sha224("abc"). */
    servers_view_host_id("a", "bc", id);
    assert_string_equal(id, "23097d223405d8228642a477bda255b32aadbce4bda0b3f"
                        "7e36c9da7");
}

static void
test_action_states(void **state)
{
    static const struct {
        const char *action;
        bool hard;
        enum instance_vm_state vm;
        enum instance_task_state task;
        bool launched;
        const char *message;    /* NULL: allowed */
    } cases[] = {
        { "stop", false, INSTANCE_VM_ACTIVE, INSTANCE_TASK_NONE, true,
          NULL },
        { "stop", false, INSTANCE_VM_ERROR, INSTANCE_TASK_NONE, true, NULL },
        { "stop", false, INSTANCE_VM_STOPPED, INSTANCE_TASK_NONE, true,
          "Cannot 'stop' instance " UUID " while it is in vm_state "
          "stopped" },
        { "stop", false, INSTANCE_VM_ACTIVE, INSTANCE_TASK_POWERING_OFF,
          true, "Cannot 'stop' instance " UUID " while it is in task_state "
          "powering-off" },
        { "stop", false, INSTANCE_VM_ACTIVE, INSTANCE_TASK_NONE, false,
          "Cannot 'stop' instance " UUID " while it is in launched_at "
          "None" },
        { "start", false, INSTANCE_VM_STOPPED, INSTANCE_TASK_NONE, true,
          NULL },
        { "start", false, INSTANCE_VM_ACTIVE, INSTANCE_TASK_NONE, true,
          "Cannot 'start' instance " UUID " while it is in vm_state "
          "active" },
        { "reboot", false, INSTANCE_VM_ACTIVE, INSTANCE_TASK_NONE, true,
          NULL },
        { "reboot", false, INSTANCE_VM_STOPPED, INSTANCE_TASK_NONE, true,
          "Cannot 'reboot' instance " UUID " while it is in vm_state "
          "stopped" },
        { "reboot", true, INSTANCE_VM_STOPPED, INSTANCE_TASK_NONE, true,
          NULL },
        { "reboot", true, INSTANCE_VM_ACTIVE, INSTANCE_TASK_REBOOTING, true,
          NULL },
        { "reboot", false, INSTANCE_VM_ACTIVE, INSTANCE_TASK_REBOOTING, true,
          "Cannot 'reboot' instance " UUID " while it is in task_state "
          "rebooting" },
        { "reboot", true, INSTANCE_VM_BUILDING, INSTANCE_TASK_SCHEDULING,
          false, "Cannot 'reboot' instance " UUID " while it is in "
          "vm_state building" },
        { "pause", false, INSTANCE_VM_ACTIVE, INSTANCE_TASK_NONE, true,
          NULL },
        { "pause", false, INSTANCE_VM_PAUSED, INSTANCE_TASK_NONE, true,
          "Cannot 'pause' instance " UUID " while it is in vm_state "
          "paused" },
        { "unpause", false, INSTANCE_VM_PAUSED, INSTANCE_TASK_NONE, true,
          NULL },
        { "unpause", false, INSTANCE_VM_ACTIVE, INSTANCE_TASK_NONE, true,
          "Cannot 'unpause' instance " UUID " while it is in vm_state "
          "active" },
        { "suspend", false, INSTANCE_VM_ACTIVE, INSTANCE_TASK_NONE, true,
          NULL },
        { "suspend", false, INSTANCE_VM_ERROR, INSTANCE_TASK_NONE, true,
          "Cannot 'suspend' instance " UUID " while it is in vm_state "
          "error" },
        { "resume", false, INSTANCE_VM_SUSPENDED, INSTANCE_TASK_NONE, true,
          NULL },
        { "resume", false, INSTANCE_VM_SUSPENDED, INSTANCE_TASK_RESUMING,
          true, "Cannot 'resume' instance " UUID " while it is in "
          "task_state resuming" },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct top_view_server srv;
        CLEANUP(instance_freep) struct instance *inst = instance_new(UUID);

        memset(&srv, 0, sizeof srv);
        inst->vm_state = cases[i].vm;
        inst->task_state = cases[i].task;
        inst->launched_at = cases[i].launched ? 1000 : INSTANCE_TIME_NONE;
        srv.inst = inst;
        CLEANUP(error_freep) struct error *error =
            servers_actions_check_state(cases[i].action, cases[i].hard,
                                        &srv);
        if (!cases[i].message) {
            if (error) {
                fail_msg("case %zu: %s", i, error_message(error));
            }
            continue;
        }
        if (!error) {
            fail_msg("case %zu passed", i);
        }
        assert_int_equal(error_kind(error), ERROR_CONFLICT);
        assert_string_equal(error_message(error), cases[i].message);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_bad),
        cmocka_unit_test(test_create_good),
        cmocka_unit_test(test_update),
        cmocka_unit_test(test_actions),
        cmocka_unit_test(test_query),
        cmocka_unit_test(test_status_map),
        cmocka_unit_test(test_py_repr),
        cmocka_unit_test(test_host_id),
        cmocka_unit_test(test_action_states),
    };

    return cmocka_run_group_tests_name("servers-validate", tests, NULL,
                                       NULL);
}
