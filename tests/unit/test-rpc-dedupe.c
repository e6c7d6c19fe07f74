/* test-rpc-dedupe.c: the dedupe window: states, eviction by count and by
 * age, the reply budget. */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "cells-rpc/rpc-dedupe.h"
#include "shared/xalloc.h"

static enum rpc_dedupe_state
state_of(struct rpc_dedupe *d, const char *id, long long now)
{
    return rpc_dedupe_lookup(d, id, now, NULL, NULL, NULL);
}

/* Each row: a sequence of completions at times, then lookups with the
 * expected state. */
static void
test_eviction_table(void **state)
{
    static const struct {
        size_t max_ids;
        long long max_age_ms;
        const char *done[5];        /* Completed at t = 0, 10, 20, ... */
        long long look_at;
        const char *ids[5];
        enum rpc_dedupe_state expect[5];
    } cases[] = {
        /* Count bound: the oldest goes first. */
        { 3, 1000, { "a", "b", "c", "d" }, 40,
          { "a", "b", "c", "d", "e" },
          { RPC_DEDUPE_UNKNOWN, RPC_DEDUPE_DONE, RPC_DEDUPE_DONE,
            RPC_DEDUPE_DONE, RPC_DEDUPE_UNKNOWN } },
        /* Age bound: at t=100 the id done at t=0 is exactly 100 old. */
        { 10, 100, { "a", "b", "c" }, 100,
          { "a", "b", "c" },
          { RPC_DEDUPE_UNKNOWN, RPC_DEDUPE_DONE, RPC_DEDUPE_DONE } },
        { 10, 100, { "a", "b", "c" }, 99,
          { "a", "b", "c" },
          { RPC_DEDUPE_DONE, RPC_DEDUPE_DONE, RPC_DEDUPE_DONE } },
        { 10, 100, { "a", "b", "c" }, 1000,
          { "a", "b", "c" },
          { RPC_DEDUPE_UNKNOWN, RPC_DEDUPE_UNKNOWN, RPC_DEDUPE_UNKNOWN } },
        /* A window of one. */
        { 1, 1000, { "a", "b" }, 20, { "a", "b" },
          { RPC_DEDUPE_UNKNOWN, RPC_DEDUPE_DONE } },
    };

    (void) state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CLEANUP(rpc_dedupe_freep) struct rpc_dedupe *d =
            rpc_dedupe_new(cases[i].max_ids, cases[i].max_age_ms, 0);

        for (size_t j = 0; j < 5 && cases[i].done[j]; j++) {
            rpc_dedupe_complete(d, cases[i].done[j], NULL, 0, 10 * j);
        }
        for (size_t j = 0; j < 5 && cases[i].ids[j]; j++) {
            enum rpc_dedupe_state s = state_of(d, cases[i].ids[j],
                                               cases[i].look_at);

            if (s != cases[i].expect[j]) {
                fail_msg("row %zu, id '%s': state %d, expected %d", i,
                         cases[i].ids[j], s, cases[i].expect[j]);
            }
        }
    }
}

static void
test_pending_then_done(void **state)
{
    CLEANUP(rpc_dedupe_freep) struct rpc_dedupe *d =
        rpc_dedupe_new(2, 1000, 1024);
    int token;
    void *pending = NULL;
    const char *reply = NULL;
    size_t size = 0;

    (void) state;
    rpc_dedupe_add_pending(d, "p", &token);
    assert_int_equal(rpc_dedupe_lookup(d, "p", 0, &pending, NULL, NULL),
                     RPC_DEDUPE_PENDING);
    assert_ptr_equal(pending, &token);

    /* Pending ids are not evicted by the count bound nor by age. */
    rpc_dedupe_complete(d, "a", NULL, 0, 0);
    rpc_dedupe_complete(d, "b", NULL, 0, 0);
    rpc_dedupe_complete(d, "c", NULL, 0, 0);
    assert_int_equal(state_of(d, "p", 5000), RPC_DEDUPE_PENDING);
    assert_int_equal(rpc_dedupe_count(d), 1);

    rpc_dedupe_complete(d, "p", xstrdup("{\"r\":1}"), 7, 5000);
    assert_int_equal(rpc_dedupe_lookup(d, "p", 5000, NULL, &reply, &size),
                     RPC_DEDUPE_DONE);
    assert_int_equal(size, 7);
    assert_memory_equal(reply, "{\"r\":1}", 7);
    assert_int_equal(rpc_dedupe_reply_bytes(d), 7);

    rpc_dedupe_forget(d, "p");
    assert_int_equal(state_of(d, "p", 5000), RPC_DEDUPE_UNKNOWN);
    assert_int_equal(rpc_dedupe_reply_bytes(d), 0);
    rpc_dedupe_forget(d, "never-there");
}

static void
test_reply_budget(void **state)
{
    CLEANUP(rpc_dedupe_freep) struct rpc_dedupe *d =
        rpc_dedupe_new(100, 100000, 25);
    const char *reply;
    size_t size;

    (void) state;
    rpc_dedupe_complete(d, "a", xstrdup("0123456789"), 10, 1);
    rpc_dedupe_complete(d, "b", xstrdup("0123456789"), 10, 2);
    assert_int_equal(rpc_dedupe_reply_bytes(d), 20);
    /* The third reply goes over 25 bytes: the oldest reply is dropped,
     * but its id stays. */
    rpc_dedupe_complete(d, "c", xstrdup("0123456789"), 10, 3);
    assert_int_equal(rpc_dedupe_reply_bytes(d), 20);
    reply = "x";
    assert_int_equal(rpc_dedupe_lookup(d, "a", 3, NULL, &reply, &size),
                     RPC_DEDUPE_DONE);
    assert_null(reply);
    assert_int_equal(rpc_dedupe_lookup(d, "c", 3, NULL, &reply, &size),
                     RPC_DEDUPE_DONE);
    assert_non_null(reply);
    /* A reply larger than the whole budget is never kept. */
    rpc_dedupe_complete(d, "big", xstrdup("0123456789012345678901234567"),
                        28, 4);
    assert_int_equal(rpc_dedupe_lookup(d, "big", 4, NULL, &reply, &size),
                     RPC_DEDUPE_DONE);
    assert_null(reply);
    assert_int_equal(rpc_dedupe_reply_bytes(d), 20);
    /* Evicting ids releases their replies. */
    for (int i = 0; i < 200; i++) {
        char id[16];

        snprintf(id, sizeof id, "n%d", i);
        rpc_dedupe_complete(d, id, NULL, 0, 10 + i);
    }
    assert_int_equal(rpc_dedupe_reply_bytes(d), 0);
    assert_int_equal(rpc_dedupe_count(d), 100);
}

static void
test_many_ids(void **state)
{
    enum { N = 20000, MAX = 16384 };
    CLEANUP(rpc_dedupe_freep) struct rpc_dedupe *d =
        rpc_dedupe_new(MAX, 1000000, 0);

    (void) state;
    for (int i = 0; i < N; i++) {
        char id[16];

        snprintf(id, sizeof id, "id-%d", i);
        assert_int_equal(state_of(d, id, i), RPC_DEDUPE_UNKNOWN);
        rpc_dedupe_complete(d, id, NULL, 0, i);
    }
    assert_int_equal(rpc_dedupe_count(d), MAX);
    for (int i = 0; i < N; i++) {
        char id[16];

        snprintf(id, sizeof id, "id-%d", i);
        assert_int_equal(state_of(d, id, N),
                         i < N - MAX ? RPC_DEDUPE_UNKNOWN : RPC_DEDUPE_DONE);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eviction_table),
        cmocka_unit_test(test_pending_then_done),
        cmocka_unit_test(test_reply_budget),
        cmocka_unit_test(test_many_ids),
    };

    return cmocka_run_group_tests_name("rpc-dedupe", tests, NULL, NULL);
}
