/* compute-queue.c: a queue from any thread to the main loop (see
 * compute-queue.h).
 *
 * The eventfd counts nothing useful: it is only a level that says "look at
 * the list".  pop_all() reads it back to zero under the same mutex that
 * guards the list, so a push that lands after the read raises it again and
 * no wakeup is lost. */
#include <config.h>
#include "child-cell/compute-queue.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "shared/poll-loop.h"
#include "shared/xalloc.h"

struct compute_queue {
    pthread_mutex_t mutex;              /* Guards 'head', 'tail'. */
    struct compute_queue_node *head;
    struct compute_queue_node *tail;
    int efd;                            /* Readable while non-empty. */
};

int
compute_queue_new(struct compute_queue **ret_queue)
{
    struct compute_queue *queue;
    int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

    if (efd < 0) {
        return -errno;
    }
    queue = xzalloc(sizeof *queue);
    pthread_mutex_init(&queue->mutex, NULL);
    queue->efd = efd;
    *ret_queue = queue;
    return 0;
}

void
compute_queue_free(struct compute_queue *queue)
{
    if (!queue) {
        return;
    }
    pthread_mutex_destroy(&queue->mutex);
    close(queue->efd);
    free(queue);
}

void
compute_queue_push(struct compute_queue *queue,
                   struct compute_queue_node *node)
{
    uint64_t one = 1;
    bool was_empty;

    node->next = NULL;
    pthread_mutex_lock(&queue->mutex);
    was_empty = !queue->head;
    if (queue->tail) {
        queue->tail->next = node;
    } else {
        queue->head = node;
    }
    queue->tail = node;
    if (was_empty) {
        /* Cannot fail short of a counter overflow, which a level that is
         * reset on every pop never reaches. */
        (void) !write(queue->efd, &one, sizeof one);
    }
    pthread_mutex_unlock(&queue->mutex);
}

struct compute_queue_node *
compute_queue_pop_all(struct compute_queue *queue)
{
    struct compute_queue_node *list;
    uint64_t count;

    pthread_mutex_lock(&queue->mutex);
    list = queue->head;
    queue->head = queue->tail = NULL;
    /* EAGAIN when nothing was written: fine. */
    (void) !read(queue->efd, &count, sizeof count);
    pthread_mutex_unlock(&queue->mutex);
    return list;
}

void
compute_queue_wait(struct compute_queue *queue)
{
    poll_fd_wait(queue->efd, POLLIN);
}
