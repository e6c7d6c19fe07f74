/* test-rpc-version.c: parsing interface versions and the compatibility
 * rule. */
#include <config.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "cells-rpc/rpc-version.h"

static void
test_parse(void **state)
{
    static const struct {
        const char *s;
        int r;
        unsigned int major, minor;
    } cases[] = {
        { "1.0", 0, 1, 0 },
        { "0.0", 0, 0, 0 },
        { "1.10", 0, 1, 10 },
        { "65535.65535", 0, 65535, 65535 },
        { "65536.0", -EINVAL, 0, 0 },
        { "1.65536", -EINVAL, 0, 0 },
        { "1", -EINVAL, 0, 0 },
        { "1.", -EINVAL, 0, 0 },
        { ".1", -EINVAL, 0, 0 },
        { "1.2.3", -EINVAL, 0, 0 },
        { "01.2", -EINVAL, 0, 0 },
        { "1.02", -EINVAL, 0, 0 },
        { "+1.2", -EINVAL, 0, 0 },
        { "-1.2", -EINVAL, 0, 0 },
        { " 1.2", -EINVAL, 0, 0 },
        { "1.2 ", -EINVAL, 0, 0 },
        { "1.x", -EINVAL, 0, 0 },
        { "", -EINVAL, 0, 0 },
        { "99999999999999999999.1", -EINVAL, 0, 0 },
        { NULL, -EINVAL, 0, 0 },
    };

    (void) state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct rpc_version v = { 77, 77 };
        int r = rpc_version_parse(cases[i].s, &v);

        if (r != cases[i].r) {
            fail_msg("row %zu ('%s'): %d", i, cases[i].s ? cases[i].s : "",
                     r);
        }
        if (!r) {
            char buf[RPC_VERSION_STRING_SIZE];

            assert_int_equal(v.major, cases[i].major);
            assert_int_equal(v.minor, cases[i].minor);
            assert_string_equal(rpc_version_format(&v, buf), cases[i].s);
        } else {
            /* Untouched on failure. */
            assert_int_equal(v.major, 77);
        }
    }
}

static void
test_compatibility(void **state)
{
    static const struct {
        struct rpc_version server, requested;
        bool ok;
    } cases[] = {
        { { 1, 3 }, { 1, 0 }, true },
        { { 1, 3 }, { 1, 3 }, true },
        { { 1, 3 }, { 1, 4 }, false },
        { { 1, 3 }, { 2, 0 }, false },
        { { 1, 3 }, { 0, 9 }, false },
        { { 2, 0 }, { 1, 9 }, false },
        { { 0, 0 }, { 0, 0 }, true },
    };

    (void) state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (rpc_version_is_compatible(&cases[i].server, &cases[i].requested)
            != cases[i].ok) {
            fail_msg("row %zu", i);
        }
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_compatibility),
    };

    return cmocka_run_group_tests_name("rpc-version", tests, NULL, NULL);
}
