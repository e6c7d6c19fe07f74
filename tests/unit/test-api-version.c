/* test-api-version.c: microversion parsing, comparison and negotiation
 * from the OpenStack-API-Version and X-OpenStack-Nova-API-Version
 * headers, with Nova's messages. */
#include <config.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "api-cell/api-version.h"
#include "api-cell/http-request.h"
#include "shared/cleanup.h"
#include "shared/error.h"

static void
test_parse(void **state)
{
    static const struct {
        const char *text;
        int result;
        int major, minor;
    } cases[] = {
        { "2.1", 0, 2, 1 },
        { "2.0", 0, 2, 0 },
        { "2.10", 0, 2, 10 },
        { "2.100", 0, 2, 100 },
        { "10.0", 0, 10, 0 },
        { "latest", 0, API_MAX_MICROVERSION_MAJOR,
          API_MAX_MICROVERSION_MINOR },
        { "100000.100000", 0, 100000, 100000 },
        { "100001.0", -ERANGE, 0, 0 },
        { "2.99999999999999999999", -ERANGE, 0, 0 },
        { "0.1", -EINVAL, 0, 0 },
        { "02.1", -EINVAL, 0, 0 },
        { "2.01", -EINVAL, 0, 0 },
        { "2.00", -EINVAL, 0, 0 },
        { "2", -EINVAL, 0, 0 },
        { "2.", -EINVAL, 0, 0 },
        { ".1", -EINVAL, 0, 0 },
        { "", -EINVAL, 0, 0 },
        { "x.y", -EINVAL, 0, 0 },
        { "2.1a", -EINVAL, 0, 0 },
        { "2.1.1", -EINVAL, 0, 0 },
        { " 2.1", -EINVAL, 0, 0 },
        { "2.1 ", -EINVAL, 0, 0 },
        { "-2.1", -EINVAL, 0, 0 },
        { "+2.1", -EINVAL, 0, 0 },
        { "Latest", -EINVAL, 0, 0 },
        { "LATEST", -EINVAL, 0, 0 },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct api_version v = { -1, -1 };
        int r = api_version_parse(cases[i].text, &v);

        print_message("'%s'\n", cases[i].text);
        assert_int_equal(r, cases[i].result);
        if (r == 0) {
            assert_int_equal(v.major, cases[i].major);
            assert_int_equal(v.minor, cases[i].minor);
        } else {
            assert_int_equal(v.major, -1);
        }
    }
}

static void
test_format_and_compare(void **state)
{
    static const struct {
        struct api_version a, b;
        int cmp;
    } cases[] = {
        { { 2, 1 }, { 2, 1 }, 0 },
        { { 2, 1 }, { 2, 10 }, -1 },
        { { 2, 10 }, { 2, 9 }, 1 },
        { { 3, 0 }, { 2, 99 }, 1 },
        { { 1, 99 }, { 2, 0 }, -1 },
    };
    char buf[API_VERSION_STRING_SIZE];
    struct api_version big = { 100000, 100000 };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        int c = api_version_compare(cases[i].a, cases[i].b);
        assert_int_equal(c < 0 ? -1 : c > 0 ? 1 : 0, cases[i].cmp);
    }
    api_version_format(api_version_min(), buf);
    assert_string_equal(buf, API_MIN_MICROVERSION);
    api_version_format(api_version_max(), buf);
    assert_string_equal(buf, API_MAX_MICROVERSION);
    api_version_format(big, buf);
    assert_string_equal(buf, "100000.100000");
}

static void
test_supported_range(void **state)
{
    struct api_version min = api_version_min();
    struct api_version max = api_version_max();
    struct api_version below = { 2, 0 };
    struct api_version above = { max.major, max.minor + 1 };
    struct api_version next_major = { 3, 0 };

    (void) state;
    assert_true(api_version_is_supported(min));
    assert_true(api_version_is_supported(max));
    assert_false(api_version_is_supported(below));
    assert_false(api_version_is_supported(above));
    assert_false(api_version_is_supported(next_major));
    assert_true(api_version_compare(min, max) <= 0);
}

#define NOT_SUPPORTED_99 "Version 2.99 is not supported by the API. " \
    "Minimum is " API_MIN_MICROVERSION " and maximum is " \
    API_MAX_MICROVERSION "."

struct negotiate_case {
    const char *header;         /* OpenStack-API-Version, or NULL */
    const char *legacy;         /* X-OpenStack-Nova-API-Version, or NULL */
    enum error_kind kind;       /* ERROR_INTERNAL: success */
    int major, minor;           /* on success */
    const char *message;        /* on failure: the whole message */
};

static const struct negotiate_case negotiate_cases[] = {
    /* Nothing asked: the minimum. */
    { NULL, NULL, ERROR_INTERNAL, 2, 1, NULL },
    { "", NULL, ERROR_INTERNAL, 2, 1, NULL },
    { NULL, "", ERROR_INTERNAL, 2, 1, NULL },

    /* The new header. */
    { "compute 2.1", NULL, ERROR_INTERNAL, 2, 1, NULL },
    { "compute latest", NULL, ERROR_INTERNAL, API_MAX_MICROVERSION_MAJOR,
      API_MAX_MICROVERSION_MINOR, NULL },
    { "COMPUTE 2.1", NULL, ERROR_INTERNAL, 2, 1, NULL },
    { "  compute   2.1  ", NULL, ERROR_INTERNAL, 2, 1, NULL },
    { "compute\t2.1", NULL, ERROR_INTERNAL, 2, 1, NULL },
    { "compute 2.99", NULL, ERROR_NOT_ACCEPTABLE, 0, 0, NOT_SUPPORTED_99 },
    { "compute 2.0", NULL, ERROR_NOT_ACCEPTABLE, 0, 0,
      "Version 2.0 is not supported by the API. Minimum is "
      API_MIN_MICROVERSION " and maximum is " API_MAX_MICROVERSION "." },
    { "compute 3.0", NULL, ERROR_NOT_ACCEPTABLE, 0, 0,
      "Version 3.0 is not supported by the API. Minimum is "
      API_MIN_MICROVERSION " and maximum is " API_MAX_MICROVERSION "." },
    { "compute 999999.1", NULL, ERROR_NOT_ACCEPTABLE, 0, 0,
      "Version 999999.1 is not supported by the API. Minimum is "
      API_MIN_MICROVERSION " and maximum is " API_MAX_MICROVERSION "." },
    { "compute 2", NULL, ERROR_VERSION, 0, 0,
      "API Version String 2 is of invalid format. Must be of format "
      "MajorNum.MinorNum." },
    { "compute x.y", NULL, ERROR_VERSION, 0, 0,
      "API Version String x.y is of invalid format. Must be of format "
      "MajorNum.MinorNum." },
    { "compute 2.01", NULL, ERROR_VERSION, 0, 0,
      "API Version String 2.01 is of invalid format. Must be of format "
      "MajorNum.MinorNum." },
    { "compute Latest", NULL, ERROR_VERSION, 0, 0,
      "API Version String Latest is of invalid format. Must be of format "
      "MajorNum.MinorNum." },
    { "compute 2.1 extra", NULL, ERROR_VERSION, 0, 0,
      "API Version String 2.1 extra is of invalid format. Must be of "
      "format MajorNum.MinorNum." },

    /* Other services are ignored; the last compute entry counts. */
    { "volume 3.0", NULL, ERROR_INTERNAL, 2, 1, NULL },
    { "volume 3.0, compute 2.1", NULL, ERROR_INTERNAL, 2, 1, NULL },
    { "compute 2.99, volume 3.0", NULL, ERROR_NOT_ACCEPTABLE, 0, 0,
      NOT_SUPPORTED_99 },
    { "compute 2.99, compute 2.1", NULL, ERROR_INTERNAL, 2, 1, NULL },
    { "compute 2.1, compute 2.99", NULL, ERROR_NOT_ACCEPTABLE, 0, 0,
      NOT_SUPPORTED_99 },
    { "compute", NULL, ERROR_INTERNAL, 2, 1, NULL },
    { ",,", NULL, ERROR_INTERNAL, 2, 1, NULL },

    /* The legacy header. */
    { NULL, "2.1", ERROR_INTERNAL, 2, 1, NULL },
    { NULL, " 2.1 ", ERROR_INTERNAL, 2, 1, NULL },
    { NULL, "latest", ERROR_INTERNAL, API_MAX_MICROVERSION_MAJOR,
      API_MAX_MICROVERSION_MINOR, NULL },
    { NULL, "2.99", ERROR_NOT_ACCEPTABLE, 0, 0, NOT_SUPPORTED_99 },
    { NULL, "2.99, 2.1", ERROR_INTERNAL, 2, 1, NULL },
    { NULL, "abc", ERROR_VERSION, 0, 0,
      "API Version String abc is of invalid format. Must be of format "
      "MajorNum.MinorNum." },
    { NULL, "compute 2.1", ERROR_VERSION, 0, 0,
      "API Version String compute 2.1 is of invalid format. Must be of "
      "format MajorNum.MinorNum." },

    /* Both headers: the new one wins when it names compute. */
    { "compute 2.1", "2.99", ERROR_INTERNAL, 2, 1, NULL },
    { "compute 2.99", "2.1", ERROR_NOT_ACCEPTABLE, 0, 0, NOT_SUPPORTED_99 },
    { "volume 3.0", "2.99", ERROR_NOT_ACCEPTABLE, 0, 0, NOT_SUPPORTED_99 },
    { "volume 3.0", "2.1", ERROR_INTERNAL, 2, 1, NULL },
    { "compute x.y", "2.1", ERROR_VERSION, 0, 0,
      "API Version String x.y is of invalid format. Must be of format "
      "MajorNum.MinorNum." },
};

static void
test_negotiate(void **state)
{
    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(negotiate_cases); i++) {
        const struct negotiate_case *c = &negotiate_cases[i];
        struct api_version v = { -1, -1 };
        CLEANUP(error_freep) struct error *error = NULL;

        print_message("case %zu: '%s' / '%s'\n", i,
                      c->header ? c->header : "(none)",
                      c->legacy ? c->legacy : "(none)");
        error = api_version_negotiate(c->header, c->legacy, &v);
        if (c->kind == ERROR_INTERNAL) {
            assert_null(error);
            assert_int_equal(v.major, c->major);
            assert_int_equal(v.minor, c->minor);
        } else {
            assert_non_null(error);
            assert_int_equal(error_kind(error), c->kind);
            assert_string_equal(error_message(error), c->message);
            assert_int_equal(v.major, -1);
        }
    }
}

static void
test_negotiate_statuses(void **state)
{
    struct api_version v;
    CLEANUP(error_freep) struct error *bad = NULL;
    CLEANUP(error_freep) struct error *unsupported = NULL;

    (void) state;
    bad = api_version_negotiate("compute 2", NULL, &v);
    unsupported = api_version_negotiate("compute 2.99", NULL, &v);
    assert_int_equal(error_http_status(bad), 400);
    assert_int_equal(error_http_status(unsupported), 406);
}

static void
test_negotiate_rejects_huge_headers(void **state)
{
    char header[API_VERSION_MAX_HEADER_SIZE + 2];
    struct api_version v = { -1, -1 };
    CLEANUP(error_freep) struct error *error = NULL;
    CLEANUP(error_freep) struct error *legacy_error = NULL;

    (void) state;
    memset(header, ' ', sizeof header);
    memcpy(header, "compute 2.1", 11);
    header[sizeof header - 1] = '\0';
    error = api_version_negotiate(header, NULL, &v);
    assert_non_null(error);
    assert_int_equal(error_kind(error), ERROR_VERSION);
    legacy_error = api_version_negotiate(NULL, header, &v);
    assert_non_null(legacy_error);
    assert_int_equal(v.major, -1);

    /* Exactly at the limit is fine. */
    header[API_VERSION_MAX_HEADER_SIZE] = '\0';
    assert_null(api_version_negotiate(header, NULL, &v));
    assert_int_equal(v.major, 2);
}

static void
test_request_helpers(void **state)
{
    static const struct {
        struct api_version version;
        int major, minor;
        bool at_least;
    } cases[] = {
        { { 2, 1 }, 2, 1, true },
        { { 2, 1 }, 2, 2, false },
        { { 2, 47 }, 2, 47, true },
        { { 2, 47 }, 2, 46, true },
        { { 2, 47 }, 2, 48, false },
        { { 2, 47 }, 3, 0, false },
        { { 3, 0 }, 2, 99, true },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        CLEANUP(http_request_freep) struct http_request *req = NULL;

        assert_null(http_request_new(HTTP_GET, "/", &req));
        http_request_set_version(req, cases[i].version);
        assert_int_equal(api_version_at_least(req, cases[i].major,
                                              cases[i].minor),
                         cases[i].at_least);
    }
}

static void
test_request_between(void **state)
{
    CLEANUP(http_request_freep) struct http_request *req = NULL;
    struct api_version v = { 2, 47 };

    (void) state;
    assert_null(http_request_new(HTTP_GET, "/", &req));
    assert_true(api_version_at_least(req, 2, 1));
    http_request_set_version(req, v);
    assert_true(api_version_between(req, 2, 47, 2, 47));
    assert_true(api_version_between(req, 2, 1, 2, 90));
    assert_false(api_version_between(req, 2, 48, 2, 90));
    assert_false(api_version_between(req, 2, 1, 2, 46));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_format_and_compare),
        cmocka_unit_test(test_supported_range),
        cmocka_unit_test(test_negotiate),
        cmocka_unit_test(test_negotiate_statuses),
        cmocka_unit_test(test_negotiate_rejects_huge_headers),
        cmocka_unit_test(test_request_helpers),
        cmocka_unit_test(test_request_between),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
