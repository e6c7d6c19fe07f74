/* compute-events.h: the thread that runs libvirt's event loop.
 *
 * Lifecycle events (a domain stopped, paused, crashed) only reach the
 * callbacks registered with virt_driver_set_event_callback() while some
 * thread runs libvirt's default event loop, and only one thread of the
 * process may run it (virt-libvirt.h).  nova-compute starts that thread
 * once, before it opens its hypervisor connections, and stops it after it
 * has closed them.  The callbacks run on this thread and must not block:
 * nova-compute's only push the event onto a queue for the main loop
 * (compute-queue.h).
 *
 * Threads: call both functions from the same thread (the main thread). */
#ifndef NOVA_COMPUTE_EVENTS_H
#define NOVA_COMPUTE_EVENTS_H 1

#include "shared/compiler.h"

struct compute_event_thread;
struct error;

/* Registers libvirt's event implementation (virt_libvirt_event_loop_init())
 * and starts the thread.  Returns NULL and the thread in '*ret_thread',
 * or an error. */
struct error *compute_event_thread_start(
    struct compute_event_thread **ret_thread) WARN_UNUSED;

/* Makes the thread leave the loop and waits for it.  NULL-safe. */
void compute_event_thread_stop(struct compute_event_thread *thread);

#endif /* NOVA_COMPUTE_EVENTS_H */
