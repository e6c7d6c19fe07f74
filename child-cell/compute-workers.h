/* compute-workers.h: nova-compute's pool of threads for blocking calls.
 *
 * Every hypervisor operation blocks (virt-driver.h): a spawn takes
 * milliseconds on the test driver and seconds on QEMU, a clean shutdown
 * waits for the guest for up to a minute.  The main thread must keep
 * serving RPC and heartbeats meanwhile, so it hands such calls to a small
 * pool of worker threads: compute_workers_submit() queues a job, a worker
 * runs the job's 'work' function, and the finished job travels back through
 * a compute_queue (an eventfd the main loop polls) to be completed by its
 * 'done' function on the main thread, which then talks to the conductor.
 *
 * A job is the caller's own structure: the pool never looks inside it.
 * 'work' must touch only what the job owns and thread-safe objects (the
 * virt driver); in particular no JSON value and nothing of the RPC layer
 * (json-c reference counts and librabbitmq-c are not thread-safe).
 *
 * Jobs start in submission order; with several threads they may finish in
 * any order, so callers that need an order between two operations on one
 * instance submit the second only after the first is done.
 *
 * Threads: every function here is called from the main thread. */
#ifndef NOVA_COMPUTE_WORKERS_H
#define NOVA_COMPUTE_WORKERS_H 1

#include <stdbool.h>
#include <stddef.h>
#include "shared/cleanup.h"

struct compute_workers;

/* Most worker threads in one pool. */
#define COMPUTE_WORKERS_MAX 64u

/* Runs on a worker thread: does the blocking part of 'job'. */
typedef void compute_work_fn(void *job);

/* Runs on the main thread once 'work' has run ('cancelled' false), or
 * instead of it when the pool is freed first ('cancelled' true); either way
 * it is the last the pool does with 'job', so it usually frees it. */
typedef void compute_done_fn(void *job, bool cancelled);

/* Starts 'n_threads' (1 to COMPUTE_WORKERS_MAX) threads.  Returns 0 and
 * the pool in '*ret_workers' (owned by the caller), or -errno. */
int compute_workers_new(unsigned int n_threads,
                        struct compute_workers **ret_workers);

/* Waits for the jobs being worked on to finish, then calls 'done' with
 * 'cancelled' true for every job not completed yet (queued, or finished
 * but not yet collected by compute_workers_run()), and stops the threads.
 * NULL-safe. */
void compute_workers_free(struct compute_workers *workers);
DEFINE_FREEP(struct compute_workers, compute_workers_free)

/* Queues 'job': 'work' will run on a worker, then 'done' on the main
 * thread from compute_workers_run().  Never fails. */
void compute_workers_submit(struct compute_workers *workers,
                            compute_work_fn *work, compute_done_fn *done,
                            void *job);

/* Calls 'done' for every job finished since the last call. */
void compute_workers_run(struct compute_workers *workers);

/* Makes the next poll_block() wake when a job finishes. */
void compute_workers_wait(struct compute_workers *workers);

/* Jobs submitted and not yet completed by 'done'. */
size_t compute_workers_n_pending(const struct compute_workers *workers);

#endif /* NOVA_COMPUTE_WORKERS_H */
