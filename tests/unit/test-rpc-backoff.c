/* test-rpc-backoff.c: the reconnect delays stay within their bounds. */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cells-rpc/rpc-backoff.h"
#include "cells-rpc/rpc.h"

static void
test_ceilings(void **state)
{
    static const struct {
        long long min_ms, max_ms;
        long long ceilings[8];
    } cases[] = {
        { 200, 15000, { 200, 400, 800, 1600, 3200, 6400, 12800, 15000 } },
        { 100, 100, { 100, 100, 100, 100, 100, 100, 100, 100 } },
        { 1, 5, { 1, 2, 4, 5, 5, 5, 5, 5 } },
        /* Out-of-range arguments are brought into range. */
        { 0, 3, { 1, 2, 3, 3, 3, 3, 3, 3 } },
        { 50, 10, { 50, 50, 50, 50, 50, 50, 50, 50 } },
    };

    (void) state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct rpc_backoff b;

        rpc_backoff_init(&b, cases[i].min_ms, cases[i].max_ms, 1);
        for (size_t j = 0; j < 8; j++) {
            if (rpc_backoff_ceiling(&b) != cases[i].ceilings[j]) {
                fail_msg("row %zu, attempt %zu: %lld", i, j,
                         rpc_backoff_ceiling(&b));
            }
            (void) rpc_backoff_next(&b);
        }
    }
}

static void
test_delays_within_bounds(void **state)
{
    (void) state;
    for (unsigned int seed = 0; seed < 200; seed++) {
        struct rpc_backoff b;

        rpc_backoff_init(&b, RPC_RECONNECT_MIN_MS, RPC_RECONNECT_MAX_MS,
                         seed);
        for (int attempt = 0; attempt < 100; attempt++) {
            long long c = rpc_backoff_ceiling(&b);
            long long d = rpc_backoff_next(&b);

            assert_true(d >= c / 2);
            assert_true(d <= c);
            assert_true(d >= RPC_RECONNECT_MIN_MS / 2);
            assert_true(d <= RPC_RECONNECT_MAX_MS);
        }
        /* After a success, the next delay is short again. */
        rpc_backoff_reset(&b);
        assert_true(rpc_backoff_next(&b) <= RPC_RECONNECT_MIN_MS);
    }
}

static void
test_jitter_spreads(void **state)
{
    /* Different seeds give different delays at the cap: a broker restart
     * does not bring every daemon back at the same instant. */
    long long first = -1;
    bool differ = false;

    (void) state;
    for (unsigned int seed = 1; seed < 50; seed++) {
        struct rpc_backoff b;
        long long d = 0;

        rpc_backoff_init(&b, RPC_RECONNECT_MIN_MS, RPC_RECONNECT_MAX_MS,
                         seed);
        for (int i = 0; i < 10; i++) {
            d = rpc_backoff_next(&b);
        }
        if (first < 0) {
            first = d;
        } else if (d != first) {
            differ = true;
        }
    }
    assert_true(differ);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ceilings),
        cmocka_unit_test(test_delays_within_bounds),
        cmocka_unit_test(test_jitter_spreads),
    };

    return cmocka_run_group_tests_name("rpc-backoff", tests, NULL, NULL);
}
