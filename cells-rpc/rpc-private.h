/* rpc-private.h: what rpc-server.c needs from the connection in rpc.c.
 *
 * Not for use outside cells-rpc/rpc*.c.  A server registers consumers with
 * the connection; the connection declares their queues and consumes them
 * on every (re)connection, and hands each delivery to the consumer's
 * callback from rpc_conn_run().  The server then settles it with
 * rpc_conn_ack() or rpc_conn_reject() and answers calls with
 * rpc_conn_send_reply().
 *
 * Delivery tags are only meaningful on the channel that delivered them, so
 * every delivery carries the connection's generation (incremented on each
 * successful connection); settling a delivery of an older generation does
 * nothing, because the broker has already requeued it. */
#ifndef NOVA_RPC_PRIVATE_H
#define NOVA_RPC_PRIVATE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct error;
struct rpc_conn;

/* One message received for a consumer. */
struct rpc_delivery {
    uint64_t generation;
    uint64_t delivery_tag;
    bool redelivered;
    char *queue;                /* Consumer's queue, for log lines. */
    char *reply_to;             /* NULL if absent (a cast). */
    char *correlation_id;       /* NULL if absent. */
    char *body;                 /* NUL-terminated copy; may contain NULs. */
    size_t size;
};

void rpc_delivery_free(struct rpc_delivery *);

/* Called from rpc_conn_run() with a delivery, which the callee takes. */
typedef void rpc_deliver_fn(void *aux, struct rpc_delivery *delivery);

enum rpc_consumer_kind {
    /* Durable queue 'name' (with its dead-letter queue), shared. */
    RPC_CONSUMER_QUEUE,
    /* Exclusive queue bound to fanout exchange "'name'_fanout". */
    RPC_CONSUMER_FANOUT,
};

struct rpc_consumer;

/* Registers a consumer of 'kind' for 'name' on 'conn'.  If 'conn' is
 * connected, declares and consumes at once: a refusal by the broker is
 * returned as an error (and nothing is registered); a connection failure
 * is not (the consumer is set up after reconnecting).  On success stores
 * the consumer in '*ret_consumer'. */
struct error *rpc_conn_add_consumer(struct rpc_conn *conn,
                                    enum rpc_consumer_kind kind,
                                    const char *name, rpc_deliver_fn *deliver,
                                    void *aux,
                                    struct rpc_consumer **ret_consumer);

/* Cancels and frees 'consumer'; its deliveries not yet handed out are
 * requeued. */
void rpc_conn_remove_consumer(struct rpc_conn *conn,
                              struct rpc_consumer *consumer);

/* Settle delivery ('generation', 'tag'): ack, or reject into the
 * dead-letter exchange ('requeue' false) or back to the queue. */
void rpc_conn_ack(struct rpc_conn *conn, uint64_t generation, uint64_t tag);
void rpc_conn_reject(struct rpc_conn *conn, uint64_t generation,
                     uint64_t tag, bool requeue);

/* True if deliveries of 'generation' can still be settled. */
bool rpc_conn_generation_is_live(const struct rpc_conn *conn,
                                 uint64_t generation);

/* Queues the reply 'body' ('size' bytes, copied) to queue 'reply_to' with
 * 'correlation_id', published at once if connected. */
void rpc_conn_send_reply(struct rpc_conn *conn, const char *reply_to,
                         const char *correlation_id, const char *body,
                         size_t size);

/* The connection's name for log lines ("" if none). */
const char *rpc_conn_name(const struct rpc_conn *conn);

#endif /* NOVA_RPC_PRIVATE_H */
