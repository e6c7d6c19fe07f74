/* poll-loop.c: one thread's set of fds and timers for the next poll(2).
 *
 * The state is a thread-local array of pollfd (merged per fd) and the
 * earliest timer.  poll_block() turns the timer into poll()'s timeout,
 * rounding up so that a module woken by its timer always finds its
 * deadline passed (rounding down would make it spin for the last
 * millisecond). */
#include <config.h>

#include "shared/poll-loop.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>

#include "shared/log.h"
#include "shared/timeutil.h"

LOG_MODULE("poll_loop");

struct poll_loop {
    struct pollfd fds[POLL_LOOP_MAX_FDS];
    size_t n_fds;
    long long timer_ms;         /* Earliest wake-up; LLONG_MAX = none. */
    bool initialised;
};

static __thread struct poll_loop poll_loop_state;

static struct poll_loop *
poll_loop_get(void)
{
    struct poll_loop *loop = &poll_loop_state;

    if (!loop->initialised) {
        loop->n_fds = 0;
        loop->timer_ms = LLONG_MAX;
        loop->initialised = true;
    }
    return loop;
}

long long
poll_loop_now_ms(void)
{
    return time_monotonic_ms();
}

void
poll_fd_wait(int fd, short events)
{
    struct poll_loop *loop = poll_loop_get();

    for (size_t i = 0; i < loop->n_fds; i++) {
        if (loop->fds[i].fd == fd) {
            loop->fds[i].events |= events;
            return;
        }
    }
    if (loop->n_fds >= POLL_LOOP_MAX_FDS) {
        LOG_ERR("more than %d file descriptors registered in one "
                "iteration", POLL_LOOP_MAX_FDS);
        abort();
    }
    loop->fds[loop->n_fds].fd = fd;
    loop->fds[loop->n_fds].events = events;
    loop->fds[loop->n_fds].revents = 0;
    loop->n_fds++;
}

void
poll_timer_wait_until(long long when_ms)
{
    struct poll_loop *loop = poll_loop_get();

    if (when_ms < loop->timer_ms) {
        loop->timer_ms = when_ms;
    }
}

void
poll_timer_wait(long long delay_ms)
{
    long long now = poll_loop_now_ms();

    if (delay_ms <= 0) {
        poll_timer_wait_until(now);
    } else if (delay_ms >= LLONG_MAX - now) {
        /* Never: nothing to register. */
    } else {
        poll_timer_wait_until(now + delay_ms);
    }
}

void
poll_immediate_wake(void)
{
    poll_timer_wait_until(LLONG_MIN);
}

bool
poll_loop_is_immediate(void)
{
    struct poll_loop *loop = poll_loop_get();

    return loop->timer_ms != LLONG_MAX
           && loop->timer_ms <= poll_loop_now_ms();
}

void
poll_loop_reset(void)
{
    struct poll_loop *loop = poll_loop_get();

    loop->n_fds = 0;
    loop->timer_ms = LLONG_MAX;
}

void
poll_block(void)
{
    struct poll_loop *loop = poll_loop_get();
    int timeout;

    if (loop->timer_ms == LLONG_MAX) {
        timeout = -1;
    } else {
        long long now = poll_loop_now_ms();
        long long delta = loop->timer_ms <= now ? 0 : loop->timer_ms - now;

        if (delta <= 0) {
            timeout = 0;
        } else if (delta >= INT_MAX - 1) {
            timeout = INT_MAX;
        } else {
            /* poll_loop_now_ms() truncates: add one so that the timer is
             * really due on return. */
            timeout = (int) delta + 1;
        }
    }

    if (poll(loop->fds, loop->n_fds, timeout) < 0 && errno != EINTR) {
        LOG_DBG("poll failed: %d, ignoring", errno);
    }
    poll_loop_reset();
}
