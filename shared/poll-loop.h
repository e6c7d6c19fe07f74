/* poll-loop.h: a minimal single-thread event loop, after Open vSwitch.
 *
 * A daemon's main loop is
 *
 *     for (;;) {
 *         rpc_conn_run(conn);          each module does the work it can
 *         scheduler_run(sched);        without blocking ...
 *
 *         rpc_conn_wait(conn);         ... then says what would give it
 *         scheduler_wait(sched);       more work to do ...
 *         poll_block();                ... and the thread sleeps until then.
 *     }
 *
 * A module's x_wait() registers file descriptors (poll_fd_wait()) and
 * timers (poll_timer_wait(), poll_timer_wait_until()), or asks not to sleep
 * at all (poll_immediate_wake()) when it already has work queued.
 * poll_block() sleeps in poll(2) until one fd is ready or the earliest timer
 * expires, then forgets every registration: they hold for one iteration.
 * Modules never learn which event woke the loop; their x_run() simply looks
 * at everything it is responsible for, without blocking.
 *
 * Timers use the monotonic clock in milliseconds (poll_loop_now_ms()), so
 * that changes of the wall clock never stretch or shorten a wait.
 *
 * The registrations are per thread (thread-local storage): each thread that
 * runs a loop has its own, and nothing here takes a lock.  A module's
 * x_wait() must be called from the thread that calls poll_block(). */
#ifndef NOVA_POLL_LOOP_H
#define NOVA_POLL_LOOP_H 1

#include <stdbool.h>

/* Most file descriptors one iteration may register; a registration beyond
 * this aborts (it is a programming error: no daemon here watches that many
 * descriptors from one thread). */
#define POLL_LOOP_MAX_FDS 1024

/* The monotonic clock in milliseconds: the time base of every timer here. */
long long poll_loop_now_ms(void);

/* Wakes the next poll_block() when 'fd' has any of 'events' (POLLIN,
 * POLLOUT; POLLERR and POLLHUP always wake).  Registering the same fd twice
 * merges the events. */
void poll_fd_wait(int fd, short events);

/* Wakes the next poll_block() after 'delay_ms' milliseconds (0 or negative:
 * at once). */
void poll_timer_wait(long long delay_ms);

/* Wakes the next poll_block() at 'when_ms' on the poll_loop_now_ms() clock
 * (in the past: at once).  LLONG_MAX means never. */
void poll_timer_wait_until(long long when_ms);

/* Makes the next poll_block() return at once. */
void poll_immediate_wake(void);

/* True if something registered so far makes the next poll_block() return
 * at once (an immediate wake or a timer already due). */
bool poll_loop_is_immediate(void);

/* Sleeps until a registered fd is ready or the earliest timer is due, then
 * clears every registration.  With nothing registered it sleeps until a
 * signal interrupts it.  A signal (EINTR) returns early; the loop simply
 * iterates again. */
void poll_block(void);

/* Forgets the registrations made so far in this iteration without sleeping
 * (tests, and loops that decide to exit). */
void poll_loop_reset(void);

#endif /* NOVA_POLL_LOOP_H */
