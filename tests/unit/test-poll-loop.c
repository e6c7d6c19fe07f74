/* test-poll-loop.c: what wakes poll_block() and what it forgets.
 *
 * No assertion is about elapsed time: a wrong implementation shows up as a
 * hang, which the alarm turns into a failure. */
#include <config.h>

#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>
#include <cmocka.h>

#include "shared/poll-loop.h"

/* Longest a test may take before SIGALRM kills it, in seconds. */
#define TEST_HANG_GUARD_S 20

static int
setup(void **state)
{
    (void) state;
    poll_loop_reset();
    alarm(TEST_HANG_GUARD_S);
    return 0;
}

static int
teardown(void **state)
{
    (void) state;
    alarm(0);
    poll_loop_reset();
    return 0;
}

static void
test_immediate_wake(void **state)
{
    (void) state;
    assert_false(poll_loop_is_immediate());
    poll_timer_wait(60 * 1000);
    assert_false(poll_loop_is_immediate());
    poll_immediate_wake();
    assert_true(poll_loop_is_immediate());
    poll_block();
    /* Registrations hold for one iteration only. */
    assert_false(poll_loop_is_immediate());
}

static void
test_timers(void **state)
{
    static const struct {
        long long delay_ms;     /* Relative to now. */
        bool absolute;
        bool immediate;
    } cases[] = {
        { 0, false, true },
        { -5, false, true },
        { LLONG_MIN / 2, false, true },
        { -1, true, true },             /* Absolute, in the past. */
        { 0, true, true },              /* Absolute, now. */
        { 3600 * 1000, false, false },
        { 3600 * 1000, true, false },
        { LLONG_MAX, false, false },    /* Never. */
    };

    (void) state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        poll_loop_reset();
        if (cases[i].absolute) {
            poll_timer_wait_until(poll_loop_now_ms() + cases[i].delay_ms);
        } else {
            poll_timer_wait(cases[i].delay_ms);
        }
        if (poll_loop_is_immediate() != cases[i].immediate) {
            fail_msg("row %zu: immediate should be %d", i,
                     cases[i].immediate);
        }
    }
    poll_loop_reset();
    poll_timer_wait(3600 * 1000);
    poll_timer_wait_until(0);       /* The earliest timer wins. */
    assert_true(poll_loop_is_immediate());
    poll_block();
}

static void
test_short_timer_returns_when_due(void **state)
{
    long long due;

    (void) state;
    due = poll_loop_now_ms() + 20;
    poll_timer_wait_until(due);
    poll_block();
    /* Woken by its timer, a module always finds its deadline passed. */
    assert_true(poll_loop_now_ms() >= due);
}

static void
test_readable_fd_wakes(void **state)
{
    int fds[2];
    char c = 'x';

    (void) state;
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(write(fds[1], &c, 1), 1);
    /* Same fd twice (events merge), plus a far timer. */
    poll_fd_wait(fds[0], POLLIN);
    poll_fd_wait(fds[0], POLLIN);
    poll_timer_wait(3600 * 1000);
    poll_block();

    /* Writable end wakes for POLLOUT. */
    poll_fd_wait(fds[1], POLLOUT);
    poll_block();

    /* Closed writer: POLLHUP wakes a reader even without data. */
    assert_int_equal(read(fds[0], &c, 1), 1);
    close(fds[1]);
    poll_fd_wait(fds[0], POLLIN);
    poll_block();
    close(fds[0]);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_immediate_wake, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_timers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_short_timer_returns_when_due,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_readable_fd_wakes, setup,
                                        teardown),
    };

    return cmocka_run_group_tests_name("poll-loop", tests, NULL, NULL);
}
