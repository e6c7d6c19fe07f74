/* test-uuid-util.c: UUID generation, validation and normalisation, and
 * request ids. */
#include <config.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "shared/cleanup.h"
#include "shared/compiler.h"
#include "shared/uuid-util.h"

#define UNTOUCHED "untouched"

static void
test_generate_string(void **state)
{
    char a[UUID_STRING_SIZE];
    char b[UUID_STRING_SIZE];

    (void) state;
    uuid_generate_string(a);
    uuid_generate_string(b);
    assert_int_equal(strlen(a), UUID_STRING_SIZE - 1);
    assert_true(uuid_is_valid(a));
    assert_true(uuid_is_valid(b));
    assert_string_not_equal(a, b);
    for (size_t i = 0; a[i]; i++) {
        assert_false(a[i] >= 'A' && a[i] <= 'F');
    }
    /* Version 4, RFC 4122 variant. */
    assert_int_equal(a[14], '4');
    assert_non_null(strchr("89ab", a[19]));
}

static void
test_is_valid(void **state)
{
    static const struct {
        const char *s;
        bool valid;
    } cases[] = {
        { "70a599e0-31e7-49b7-b260-868f441e862b", true },
        { "70A599E0-31E7-49B7-B260-868F441E862B", true },
        { "70a599E0-31e7-49B7-b260-868f441e862B", true },
        { "00000000-0000-0000-0000-000000000000", true },
        { "70a599e031e749b7b260868f441e862b", false },
        { "{70a599e0-31e7-49b7-b260-868f441e862b}", false },
        { "urn:uuid:70a599e0-31e7-49b7-b260-868f441e862b", false },
        { "70a599e0-31e7-49b7-b260-868f441e862", false },
        { "70a599e0-31e7-49b7-b260-868f441e862bc", false },
        { "70a599e0-31e7-49b7-b260-868f441e862b\n", false },
        { " 70a599e0-31e7-49b7-b260-868f441e862b", false },
        { "70a599e0-31e7-49b7-b260-868f441e862g", false },
        { "70a599e0031e7-49b7-b260-868f441e862b", false },
        { "70a599e-031e7-49b7-b260-868f441e862b", false },
        { "70a599e0-31e7-49b7-b260-868f441e86-b", false },
        { "", false },
        { NULL, false },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        if (uuid_is_valid(cases[i].s) != cases[i].valid) {
            fail_msg("uuid_is_valid('%s') should be %s",
                     cases[i].s ? cases[i].s : "(null)",
                     cases[i].valid ? "true" : "false");
        }
    }
}

static void
test_normalize(void **state)
{
    static const char canonical[] = "70a599e0-31e7-49b7-b260-868f441e862b";
    static const struct {
        const char *in;
        int error;              /* 0: normalises to 'canonical'. */
    } cases[] = {
        { "70a599e0-31e7-49b7-b260-868f441e862b", 0 },
        { "70A599E0-31E7-49B7-B260-868F441E862B", 0 },
        { "70a599e031e749b7b260868f441e862b", 0 },
        { "70A599E031E749B7B260868F441E862B", 0 },
        { "{70a599e0-31e7-49b7-b260-868f441e862b}", 0 },
        { "{70a599e031e749b7b260868f441e862b}", 0 },
        { "urn:uuid:70a599e0-31e7-49b7-b260-868f441e862b", 0 },
        { "urn:uuid:70a599e031e749b7b260868f441e862b", 0 },

        { "", -EINVAL },
        { "{}", -EINVAL },
        { "urn:uuid:", -EINVAL },
        { "server-1", -EINVAL },
        { "70a599e031e749b7b260868f441e862", -EINVAL },
        { "70a599e031e749b7b260868f441e862bc", -EINVAL },
        { "70a599e031e749b7b260868f441e862x", -EINVAL },
        { "70a599e0-31e749b7-b260-868f441e862b", -EINVAL },
        { "70a599e0-31e7-49b7-b260868f441e862b-", -EINVAL },
        { "70a599e0-31e7-49b7-b260-868f441e86zz", -EINVAL },
        { "{70a599e0-31e7-49b7-b260-868f441e862b", -EINVAL },
        { "70a599e0-31e7-49b7-b260-868f441e862b}", -EINVAL },
        { "URN:UUID:70a599e0-31e7-49b7-b260-868f441e862b", -EINVAL },
        { " 70a599e031e749b7b260868f441e862b", -EINVAL },
        { NULL, -EINVAL },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char out[UUID_STRING_SIZE] = UNTOUCHED;
        int error = uuid_normalize(cases[i].in, out);

        if (error != cases[i].error) {
            fail_msg("uuid_normalize('%s') returned %d, expected %d",
                     cases[i].in ? cases[i].in : "(null)", error,
                     cases[i].error);
        }
        assert_string_equal(out, error ? UNTOUCHED : canonical);
        if (!error) {
            assert_true(uuid_is_valid(out));
        }
    }
}

static void
test_request_id_new(void **state)
{
    AUTOFREE char *a = request_id_new();
    AUTOFREE char *b = request_id_new();

    (void) state;
    assert_int_equal(strlen(a), REQUEST_ID_SIZE - 1);
    assert_memory_equal(a, "req-", 4);
    assert_true(uuid_is_valid(a + 4));
    assert_true(request_id_is_valid(a));
    assert_string_not_equal(a, b);
}

static void
test_request_id_is_valid(void **state)
{
    static const struct {
        const char *s;
        bool valid;
    } cases[] = {
        { "req-70a599e0-31e7-49b7-b260-868f441e862b", true },
        { "req-70A599E0-31E7-49B7-B260-868F441E862B", false },
        { "REQ-70a599e0-31e7-49b7-b260-868f441e862b", false },
        { "70a599e0-31e7-49b7-b260-868f441e862b", false },
        { "req-70a599e031e749b7b260868f441e862b", false },
        { "req-70a599e0-31e7-49b7-b260-868f441e862b ", false },
        { "req-", false },
        { "req", false },
        { "", false },
        { NULL, false },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        if (request_id_is_valid(cases[i].s) != cases[i].valid) {
            fail_msg("request_id_is_valid('%s') should be %s",
                     cases[i].s ? cases[i].s : "(null)",
                     cases[i].valid ? "true" : "false");
        }
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generate_string),
        cmocka_unit_test(test_is_valid),
        cmocka_unit_test(test_normalize),
        cmocka_unit_test(test_request_id_new),
        cmocka_unit_test(test_request_id_is_valid),
    };

    return cmocka_run_group_tests_name("uuid-util", tests, NULL, NULL);
}
