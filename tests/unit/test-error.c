/* test-error.c: the error type, its HTTP mapping and its JSON round trip. */
#include <config.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "shared/error.h"

static void
test_kinds_map_to_status_and_fault(void **state)
{
    static const struct {
        enum error_kind kind;
        int status;
        const char *fault;
    } cases[] = {
        { ERROR_INVALID, 400, "badRequest" },
        { ERROR_UNAUTHORIZED, 401, "unauthorized" },
        { ERROR_FORBIDDEN, 403, "forbidden" },
        { ERROR_NOT_FOUND, 404, "itemNotFound" },
        { ERROR_CONFLICT, 409, "conflictingRequest" },
        { ERROR_QUOTA, 403, "overLimit" },
        { ERROR_CELL_DOWN, 503, "serviceUnavailable" },
        { ERROR_INTERNAL, 500, "computeFault" },
    };

    (void) state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CLEANUP(error_freep) struct error *e = error_new(cases[i].kind, "x");
        assert_int_equal(error_http_status(e), cases[i].status);
        assert_string_equal(error_fault_name(e), cases[i].fault);
    }
}

static void
test_wrap_keeps_kind_and_chains_message(void **state)
{
    struct error *cause = error_new(ERROR_NOT_FOUND, "Flavor '%s' not found",
                                    "m1.huge");
    CLEANUP(error_freep) struct error *e = error_wrap(cause,
                                                      "Cannot boot '%s'",
                                                      "vm1");

    (void) state;
    assert_int_equal(error_kind(e), ERROR_NOT_FOUND);
    assert_string_equal(error_message(e),
                        "Cannot boot 'vm1': Flavor 'm1.huge' not found");
}

static void
test_from_errno_names_the_cause(void **state)
{
    CLEANUP(error_freep) struct error *e =
        error_from_errno(-ENOENT, ERROR_INTERNAL, "Cannot open '%s'", "/x");

    (void) state;
    assert_string_equal(error_message(e),
                        "Cannot open '/x': No such file or directory");
}

static void
test_json_round_trip(void **state)
{
    CLEANUP(error_freep) struct error *e =
        error_new(ERROR_NO_VALID_HOST, "No valid host was found. ");
    struct json_object *json = error_to_json(e);
    CLEANUP(error_freep) struct error *back = error_from_json(json);

    (void) state;
    assert_int_equal(error_kind(back), ERROR_NO_VALID_HOST);
    assert_string_equal(error_message(back), error_message(e));
    json_object_put(json);
}

static void
test_malformed_json_becomes_internal_error(void **state)
{
    static const char *const bodies[] = {
        "[]", "{}", "{\"kind\": 5, \"message\": \"m\"}",
        "{\"kind\": \"NotFound\"}",
    };

    (void) state;
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        struct json_object *json = json_tokener_parse(bodies[i]);
        CLEANUP(error_freep) struct error *e = error_from_json(json);
        assert_int_equal(error_kind(e), ERROR_INTERNAL);
        assert_non_null(strstr(error_message(e), "Malformed"));
        json_object_put(json);
    }
    /* An unknown kind keeps the message but degrades to internal. */
    struct json_object *json = json_tokener_parse(
        "{\"kind\": \"Bogus\", \"message\": \"boom\"}");
    CLEANUP(error_freep) struct error *e = error_from_json(json);
    assert_int_equal(error_kind(e), ERROR_INTERNAL);
    assert_string_equal(error_message(e), "boom");
    json_object_put(json);
}

static void
test_fault_json_has_nova_shape(void **state)
{
    CLEANUP(error_freep) struct error *e =
        error_new(ERROR_NOT_FOUND, "Server 'abc' could not be found.");
    struct json_object *fault = error_to_fault_json(e);

    (void) state;
    assert_string_equal(
        json_object_to_json_string_ext(fault, JSON_C_TO_STRING_PLAIN),
        "{\"itemNotFound\":{\"code\":404,"
        "\"message\":\"Server 'abc' could not be found.\"}}");
    json_object_put(fault);
}

static void
test_kind_names_round_trip(void **state)
{
    enum error_kind kind;

    (void) state;
    assert_int_equal(error_kind_from_string("CellDown", &kind), 0);
    assert_int_equal(kind, ERROR_CELL_DOWN);
    assert_string_equal(error_kind_to_string(kind), "CellDown");
    assert_int_equal(error_kind_from_string("celldown", &kind), -EINVAL);
    assert_int_equal(error_kind_from_string("", &kind), -EINVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kinds_map_to_status_and_fault),
        cmocka_unit_test(test_wrap_keeps_kind_and_chains_message),
        cmocka_unit_test(test_from_errno_names_the_cause),
        cmocka_unit_test(test_json_round_trip),
        cmocka_unit_test(test_malformed_json_becomes_internal_error),
        cmocka_unit_test(test_fault_json_has_nova_shape),
        cmocka_unit_test(test_kind_names_round_trip),
    };

    return cmocka_run_group_tests_name("error", tests, NULL, NULL);
}
