/* compute-queue.h: a queue from any thread to nova-compute's main loop.
 *
 * nova-compute's main thread owns the RPC connection (cells-rpc/rpc.h) and
 * runs a poll loop (shared/poll-loop.h); other threads (the libvirt worker
 * pool, the libvirt event thread) hand it their results through one of
 * these: a FIFO of intrusive nodes behind a mutex, plus an eventfd that
 * becomes readable when the queue turns non-empty, so the main loop sleeps
 * in poll() until there is something to take.  Nodes are whatever the
 * producer embeds a 'struct compute_queue_node' in; ownership of a node
 * passes to the queue on push and to the consumer on pop.
 *
 * Threads: compute_queue_push() from any thread; everything else from the
 * consumer's thread. */
#ifndef NOVA_COMPUTE_QUEUE_H
#define NOVA_COMPUTE_QUEUE_H 1

#include <stddef.h>
#include "shared/cleanup.h"

struct compute_queue;

struct compute_queue_node {
    struct compute_queue_node *next;
};

/* Returns the structure of type TYPE whose member MEMBER is 'NODE'. */
#define COMPUTE_QUEUE_ENTRY(NODE, TYPE, MEMBER) \
    ((TYPE *) (void *) ((char *) (NODE) - offsetof(TYPE, MEMBER)))

/* Creates an empty queue in '*ret_queue' (owned by the caller).  Returns 0
 * or -errno when the eventfd cannot be created. */
int compute_queue_new(struct compute_queue **ret_queue);

/* Frees 'queue' (NULL-safe).  The queue must be empty: the consumer drains
 * it first, since only it knows how to free its nodes. */
void compute_queue_free(struct compute_queue *queue);
DEFINE_FREEP(struct compute_queue, compute_queue_free)

/* Appends 'node' (ownership passes to the queue) and wakes the consumer.
 * Any thread; never blocks for longer than the queue's mutex is held. */
void compute_queue_push(struct compute_queue *queue,
                        struct compute_queue_node *node);

/* Takes every queued node, oldest first, as a NULL-terminated list linked
 * through 'next' (owned by the caller), or NULL when the queue is empty. */
struct compute_queue_node *compute_queue_pop_all(struct compute_queue *queue);

/* Makes the next poll_block() wake when something is queued. */
void compute_queue_wait(struct compute_queue *queue);

#endif /* NOVA_COMPUTE_QUEUE_H */
