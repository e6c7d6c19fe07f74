/* compute-workers.c: the worker pool (see compute-workers.h).
 *
 * Submitted jobs wait in 'todo' (mutex + condition variable: workers
 * block on it); a worker takes the oldest, runs it without the lock and
 * pushes it onto 'finished', a compute_queue whose eventfd wakes the main
 * loop.  Stopping sets 'stopping' and broadcasts: workers finish the job in
 * hand and exit without taking another. */
#include <config.h>
#include "child-cell/compute-workers.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "child-cell/compute-queue.h"
#include "shared/xalloc.h"

struct compute_job {
    struct compute_queue_node node;     /* In 'todo' or 'finished'. */
    compute_work_fn *work;
    compute_done_fn *done;
    void *aux;
};

struct compute_workers {
    pthread_mutex_t mutex;              /* Guards the four below. */
    pthread_cond_t cond;                /* Signalled on submit and stop. */
    struct compute_queue_node *todo_head;
    struct compute_queue_node *todo_tail;
    bool stopping;

    struct compute_queue *finished;
    pthread_t *threads;
    unsigned int n_threads;
    size_t n_pending;                   /* Main thread only. */
};

static void *
compute_workers_main(void *workers_)
{
    struct compute_workers *workers = workers_;

    pthread_mutex_lock(&workers->mutex);
    for (;;) {
        struct compute_queue_node *node;
        struct compute_job *job;

        while (!workers->stopping && !workers->todo_head) {
            pthread_cond_wait(&workers->cond, &workers->mutex);
        }
        if (workers->stopping) {
            break;
        }
        node = workers->todo_head;
        workers->todo_head = node->next;
        if (!workers->todo_head) {
            workers->todo_tail = NULL;
        }
        pthread_mutex_unlock(&workers->mutex);

        job = COMPUTE_QUEUE_ENTRY(node, struct compute_job, node);
        job->work(job->aux);
        compute_queue_push(workers->finished, &job->node);

        pthread_mutex_lock(&workers->mutex);
    }
    pthread_mutex_unlock(&workers->mutex);
    return NULL;
}

static void
compute_workers_stop(struct compute_workers *workers)
{
    pthread_mutex_lock(&workers->mutex);
    workers->stopping = true;
    pthread_cond_broadcast(&workers->cond);
    pthread_mutex_unlock(&workers->mutex);
    for (unsigned int i = 0; i < workers->n_threads; i++) {
        pthread_join(workers->threads[i], NULL);
    }
    workers->n_threads = 0;
}

int
compute_workers_new(unsigned int n_threads,
                    struct compute_workers **ret_workers)
{
    struct compute_workers *workers;
    int error;

    if (!n_threads || n_threads > COMPUTE_WORKERS_MAX) {
        return -EINVAL;
    }
    workers = xzalloc(sizeof *workers);
    pthread_mutex_init(&workers->mutex, NULL);
    pthread_cond_init(&workers->cond, NULL);
    error = compute_queue_new(&workers->finished);
    if (error) {
        goto out_free;
    }
    workers->threads = xcalloc(n_threads, sizeof *workers->threads);
    for (; workers->n_threads < n_threads; workers->n_threads++) {
        error = -pthread_create(&workers->threads[workers->n_threads], NULL,
                                compute_workers_main, workers);
        if (error) {
            compute_workers_stop(workers);
            goto out_free;
        }
    }
    *ret_workers = workers;
    return 0;

out_free:
    compute_queue_free(workers->finished);
    free(workers->threads);
    pthread_cond_destroy(&workers->cond);
    pthread_mutex_destroy(&workers->mutex);
    free(workers);
    return error;
}

/* Calls 'done' for each job of the list 'node' and frees the jobs. */
static void
compute_workers_complete(struct compute_workers *workers,
                         struct compute_queue_node *node, bool cancelled)
{
    while (node) {
        struct compute_job *job = COMPUTE_QUEUE_ENTRY(node, struct compute_job,
                                                      node);

        node = node->next;
        workers->n_pending--;
        job->done(job->aux, cancelled);
        free(job);
    }
}

void
compute_workers_free(struct compute_workers *workers)
{
    if (!workers) {
        return;
    }
    compute_workers_stop(workers);
    /* Finished jobs first: they were submitted before the queued ones. */
    compute_workers_complete(workers,
                             compute_queue_pop_all(workers->finished), true);
    compute_workers_complete(workers, workers->todo_head, true);
    compute_queue_free(workers->finished);
    free(workers->threads);
    pthread_cond_destroy(&workers->cond);
    pthread_mutex_destroy(&workers->mutex);
    free(workers);
}

void
compute_workers_submit(struct compute_workers *workers, compute_work_fn *work,
                       compute_done_fn *done, void *aux)
{
    struct compute_job *job = xzalloc(sizeof *job);

    job->work = work;
    job->done = done;
    job->aux = aux;
    workers->n_pending++;

    pthread_mutex_lock(&workers->mutex);
    if (workers->todo_tail) {
        workers->todo_tail->next = &job->node;
    } else {
        workers->todo_head = &job->node;
    }
    workers->todo_tail = &job->node;
    pthread_cond_signal(&workers->cond);
    pthread_mutex_unlock(&workers->mutex);
}

void
compute_workers_run(struct compute_workers *workers)
{
    compute_workers_complete(workers,
                             compute_queue_pop_all(workers->finished), false);
}

void
compute_workers_wait(struct compute_workers *workers)
{
    compute_queue_wait(workers->finished);
}

size_t
compute_workers_n_pending(const struct compute_workers *workers)
{
    return workers->n_pending;
}
