/* compute-events.c: the libvirt event thread (see compute-events.h).
 *
 * The thread loops on virt_libvirt_event_run_once() until 'stop' is set;
 * stopping sets the flag and wakes the loop with
 * virt_libvirt_event_wakeup(), which is why the flag is checked after every
 * iteration rather than only when an event arrives. */
#include <config.h>
#include "child-cell/compute-events.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "child-cell/virt-libvirt.h"
#include "shared/error.h"
#include "shared/log.h"
#include "shared/xalloc.h"

LOG_MODULE("compute.events");

/* Pause after a failed loop iteration, so that a broken loop does not spin
 * (it should not happen; libvirt's loop only fails on a poll() error). */
#define COMPUTE_EVENTS_FAILURE_PAUSE_MS 1000

struct compute_event_thread {
    pthread_t thread;
    bool stop;                  /* Atomic. */
};

static void *
compute_event_thread_main(void *thread_)
{
    struct compute_event_thread *thread = thread_;

    while (!__atomic_load_n(&thread->stop, __ATOMIC_ACQUIRE)) {
        if (virt_libvirt_event_run_once() < 0) {
            struct timespec pause = {
                0, COMPUTE_EVENTS_FAILURE_PAUSE_MS * 1000000L
            };

            LOG_WARN_RL("libvirt's event loop failed, retrying");
            nanosleep(&pause, NULL);
        }
    }
    return NULL;
}

struct error *
compute_event_thread_start(struct compute_event_thread **ret_thread)
{
    struct compute_event_thread *thread;
    struct error *error = virt_libvirt_event_loop_init();
    int retval;

    if (error) {
        return error;
    }
    thread = xzalloc(sizeof *thread);
    retval = pthread_create(&thread->thread, NULL, compute_event_thread_main,
                            thread);
    if (retval) {
        free(thread);
        return error_from_errno(-retval, ERROR_INTERNAL,
                                "Cannot start the libvirt event thread");
    }
    *ret_thread = thread;
    return NULL;
}

void
compute_event_thread_stop(struct compute_event_thread *thread)
{
    if (!thread) {
        return;
    }
    __atomic_store_n(&thread->stop, true, __ATOMIC_RELEASE);
    virt_libvirt_event_wakeup();
    pthread_join(thread->thread, NULL);
    free(thread);
}
