/* test-compute-workers.c: nova-compute's worker pool and its queue to the
 * main loop (child-cell/compute-workers.h, compute-queue.h).
 *
 * Jobs are plain counters: 'work' runs on a worker, 'done' on this
 * thread, which waits for them with the pool's eventfd in a poll loop, as
 * the daemon does.  Waiting loops are bounded; nothing is timed. */
#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include <cmocka.h>

#include "child-cell/compute-queue.h"
#include "child-cell/compute-workers.h"
#include "shared/poll-loop.h"
#include "shared/xalloc.h"

/* Upper bound of loop iterations while waiting for jobs. */
#define MAX_ITERATIONS 100000
/* Timer of each loop iteration, so a lost wakeup shows as slowness, not
 * as a hang. */
#define ITERATION_MS 1000

struct job {
    int id;
    pthread_t worker;           /* Set by 'work'. */
    bool worked;
    bool done;
    bool cancelled;
    pthread_mutex_t *gate;      /* Held by the test to keep 'work' busy. */
    bool *started;              /* Atomic; set when 'work' begins. */
    int *order;                 /* Completion order, main thread. */
    size_t *n_order;
};

static void
job_work(void *job_)
{
    struct job *job = job_;

    if (job->started) {
        __atomic_store_n(job->started, true, __ATOMIC_RELEASE);
    }
    if (job->gate) {
        pthread_mutex_lock(job->gate);
        pthread_mutex_unlock(job->gate);
    }
    job->worker = pthread_self();
    job->worked = true;
}

static void
job_done(void *job_, bool cancelled)
{
    struct job *job = job_;

    job->done = true;
    job->cancelled = cancelled;
    if (job->order) {
        job->order[(*job->n_order)++] = job->id;
    }
}

/* Runs the loop until 'n' jobs of 'jobs' are done. */
static void
run_until_done(struct compute_workers *workers, struct job *jobs, size_t n)
{
    for (int i = 0; i < MAX_ITERATIONS; i++) {
        size_t n_done = 0;

        compute_workers_run(workers);
        for (size_t j = 0; j < n; j++) {
            n_done += jobs[j].done;
        }
        if (n_done == n) {
            return;
        }
        compute_workers_wait(workers);
        poll_timer_wait(ITERATION_MS);
        poll_block();
    }
    fail_msg("jobs did not finish");
}

static void
test_new_limits(void **state)
{
    const struct {
        unsigned int n;
        int result;
    } cases[] = {
        { 0, -EINVAL },
        { COMPUTE_WORKERS_MAX + 1, -EINVAL },
        { 1, 0 },
        { COMPUTE_WORKERS_MAX, 0 },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct compute_workers *workers = NULL;

        assert_int_equal(compute_workers_new(cases[i].n, &workers),
                         cases[i].result);
        assert_int_equal(workers != NULL, cases[i].result == 0);
        compute_workers_free(workers);
    }
    compute_workers_free(NULL);
}

static void
test_jobs_run_on_workers(void **state)
{
    enum { N_JOBS = 200 };
    struct compute_workers *workers;
    struct job *jobs = xcalloc(N_JOBS, sizeof *jobs);

    (void) state;
    assert_int_equal(compute_workers_new(3, &workers), 0);
    for (int i = 0; i < N_JOBS; i++) {
        jobs[i].id = i;
        compute_workers_submit(workers, job_work, job_done, &jobs[i]);
    }
    assert_int_equal(compute_workers_n_pending(workers), N_JOBS);
    run_until_done(workers, jobs, N_JOBS);
    assert_int_equal(compute_workers_n_pending(workers), 0);
    for (int i = 0; i < N_JOBS; i++) {
        assert_true(jobs[i].worked);
        assert_false(jobs[i].cancelled);
        assert_false(pthread_equal(jobs[i].worker, pthread_self()));
    }
    compute_workers_free(workers);
    free(jobs);
}

static void
test_free_cancels_what_did_not_run(void **state)
{
    pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;
    struct compute_workers *workers;
    struct job jobs[3] = { { .id = 0 }, { .id = 1 }, { .id = 2 } };
    bool started = false;
    int order[3];
    size_t n_order = 0;

    (void) state;
    assert_int_equal(compute_workers_new(1, &workers), 0);
    /* Job 0 blocks the only worker; 1 and 2 wait behind it. */
    pthread_mutex_lock(&gate);
    jobs[0].gate = &gate;
    jobs[0].started = &started;
    for (int i = 0; i < 3; i++) {
        jobs[i].order = order;
        jobs[i].n_order = &n_order;
        compute_workers_submit(workers, job_work, job_done, &jobs[i]);
    }
    for (int i = 0; i < MAX_ITERATIONS
                    && !__atomic_load_n(&started, __ATOMIC_ACQUIRE); i++) {
        usleep(100);
    }
    assert_true(__atomic_load_n(&started, __ATOMIC_ACQUIRE));
    pthread_mutex_unlock(&gate);

    /* Free waits for job 0's work, then completes every job not yet
     * collected as cancelled, exactly once.  Whether the worker got to
     * jobs 1 and 2 before the stop depends on timing; a job that did not
     * run is cancelled either way. */
    compute_workers_free(workers);
    assert_int_equal(n_order, 3);
    for (int i = 0; i < 3; i++) {
        assert_true(jobs[i].done);
        assert_true(jobs[i].cancelled);
    }
    for (size_t i = 0; i < n_order; i++) {
        for (size_t j = i + 1; j < n_order; j++) {
            assert_int_not_equal(order[i], order[j]);
        }
    }
    assert_true(jobs[0].worked);
    pthread_mutex_destroy(&gate);
}

/* The queue on its own: FIFO, and a wakeup for each non-empty state. */
struct item {
    struct compute_queue_node node;
    int value;
};

struct producer {
    struct compute_queue *queue;
    int first;
    int count;
};

static void *
producer_main(void *p_)
{
    struct producer *p = p_;

    for (int i = 0; i < p->count; i++) {
        struct item *item = xzalloc(sizeof *item);

        item->value = p->first + i;
        compute_queue_push(p->queue, &item->node);
    }
    return NULL;
}

static void
test_queue(void **state)
{
    enum { N_PRODUCERS = 4, PER_PRODUCER = 1000 };
    struct compute_queue *queue;
    struct producer producers[N_PRODUCERS];
    pthread_t threads[N_PRODUCERS];
    int last[N_PRODUCERS];
    int received = 0;

    (void) state;
    assert_int_equal(compute_queue_new(&queue), 0);
    assert_null(compute_queue_pop_all(queue));
    for (int i = 0; i < N_PRODUCERS; i++) {
        producers[i] = (struct producer) {
            queue, i * PER_PRODUCER, PER_PRODUCER
        };
        last[i] = i * PER_PRODUCER - 1;
        assert_int_equal(pthread_create(&threads[i], NULL, producer_main,
                                        &producers[i]), 0);
    }
    for (int it = 0; it < MAX_ITERATIONS
                     && received < N_PRODUCERS * PER_PRODUCER; it++) {
        struct compute_queue_node *node = compute_queue_pop_all(queue);

        while (node) {
            struct item *item = COMPUTE_QUEUE_ENTRY(node, struct item, node);
            int p = item->value / PER_PRODUCER;

            /* Each producer's items arrive in the order pushed. */
            assert_int_equal(item->value, last[p] + 1);
            last[p] = item->value;
            received++;
            node = node->next;
            free(item);
        }
        if (received < N_PRODUCERS * PER_PRODUCER) {
            compute_queue_wait(queue);
            poll_timer_wait(ITERATION_MS);
            poll_block();
        }
    }
    for (int i = 0; i < N_PRODUCERS; i++) {
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    }
    assert_int_equal(received, N_PRODUCERS * PER_PRODUCER);
    assert_null(compute_queue_pop_all(queue));
    compute_queue_free(queue);
    compute_queue_free(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_limits),
        cmocka_unit_test(test_jobs_run_on_workers),
        cmocka_unit_test(test_free_cancels_what_did_not_run),
        cmocka_unit_test(test_queue),
    };

    return cmocka_run_group_tests_name("compute-workers", tests, NULL, NULL);
}
