/* rpc.h: RPC over RabbitMQ: connections, cast, call and fanout.
 *
 * This is the oslo.messaging of this project, in C.  A 'struct rpc_conn' is
 * one AMQP connection (one channel) to one vhost of a broker or cluster,
 * named by a transport URL (transport-url.h).  On it:
 *
 *   cast    rpc_cast(): one server of a topic executes the message.  The
 *           message goes to the durable queue of the target ("conductor",
 *           "compute.<host>", "cells.<cell>"), persistent (delivery mode
 *           2), and counts as sent only when the broker confirms it
 *           (publisher confirms).  A nack, or a connection lost before the
 *           confirm, publishes it again after reconnecting: casts are
 *           delivered AT LEAST ONCE, and servers drop the duplicates they
 *           see within their dedupe window (rpc-server.h).
 *   call    rpc_call() / rpc_call_async(): like a cast, plus a reply.  The
 *           request carries reply_to (this connection's exclusive,
 *           auto-delete reply queue) and correlation_id (= msg_id); the
 *           server answers with the handler's JSON result or its error,
 *           which the caller gets back with the same kind and message.
 *           Every call has a timeout; the request's deadline in the
 *           envelope is the caller's deadline, so a server never starts
 *           work whose caller has given up.
 *   fanout  rpc_fanout(): every server of a topic gets the message,
 *           through the fanout exchange "<topic>_fanout" and one exclusive
 *           queue per server.  Confirmed like a cast.
 *
 * Queues and dead letters.  Target queues are durable and declared by
 * both sides (by servers when they start consuming, by senders before the
 * first publish to them in a connection), with the same arguments, so a
 * message cast before any server started waits for one.  Every queue has
 * x-dead-letter-exchange "nova.dlx" (direct, durable) and
 * x-dead-letter-routing-key "<queue>.dead", and the durable queue
 * "<queue>.dead" is bound to it: a message a server rejects (malformed,
 * oversized, unknown method, bad arguments, incompatible version) lands
 * there for an operator to inspect instead of being requeued forever.
 * (A fanout queue dead-letters to "<topic>.dead".)
 *
 * Reliability.  AMQP heartbeats (RPC_HEARTBEAT_S) detect a dead peer.
 * When the connection drops (broker restart, network, heartbeat timeout,
 * channel error) the connection reconnects by itself, trying the URL's
 * hosts in order, after exponential backoff with jitter (attempt n waits
 * between c/2 and c, c = RPC_RECONNECT_MIN_MS * 2^n capped at
 * RPC_RECONNECT_MAX_MS; rpc-backoff.h), then
 * re-declares its reply queue, the queues and exchanges of every server and
 * their consumers, and publishes again every message not yet confirmed and
 * the request of every call still waiting for its reply (its first reply
 * queue died with the old connection; the server's dedupe window answers a
 * request it already executed from its cache).
 *
 * THREADS.  A librabbitmq-c connection is not thread-safe: its socket,
 * buffers and channel state must only ever be touched by one thread.  So a
 * 'struct rpc_conn' and everything attached to it (servers, pending calls,
 * requests handed to handlers) belong to the thread that opened it: every
 * function here must be called from that thread, and every callback runs on
 * it, from rpc_conn_run() or from a blocking rpc_call().  Another thread
 * that needs to send must hand the work to the owner through a queue (and
 * wake its loop, e.g. with an eventfd); none of this takes a lock.
 *
 * Event loop.  Daemons are single-threaded poll loops (shared/poll-loop.h):
 * they call rpc_conn_run() to do all pending work without blocking, and
 * rpc_conn_wait() before poll_block().  Async call replies, call timeouts,
 * server deliveries and reconnects all happen inside rpc_conn_run().  CLIs
 * and tests may instead use the blocking rpc_call() and rpc_conn_flush(),
 * which drive the connection themselves until done. */
#ifndef NOVA_RPC_H
#define NOVA_RPC_H 1

#include <stdbool.h>
#include <stddef.h>
#include "shared/compiler.h"
#include "shared/cleanup.h"

struct error;
struct json_object;
struct rpc_msg;

/* AMQP heartbeat interval proposed to the broker, in seconds (oslo's
 * default is 60 with checks at twice that rate; 30 detects a dead broker
 * or peer within about a minute without measurable traffic). */
#define RPC_HEARTBEAT_S 30

/* Time allowed to open the TCP connection, and then for the AMQP handshake
 * and login, to each host, in milliseconds. */
#define RPC_CONNECT_TIMEOUT_MS 5000

/* Time allowed for each synchronous AMQP method (declare, bind, consume)
 * before the connection is considered lost, in milliseconds. */
#define RPC_METHOD_TIMEOUT_MS 10000

/* Bounds of the reconnection backoff, in milliseconds. */
#define RPC_RECONNECT_MIN_MS 200
#define RPC_RECONNECT_MAX_MS 15000

/* Unacknowledged deliveries the broker may push to each consumer
 * (basic.qos prefetch-count).  It bounds the memory a burst costs and how
 * much work sits unacked in one server while others are idle. */
#define RPC_PREFETCH_COUNT 32

/* Most messages waiting to be published or confirmed on one connection; a
 * cast or call beyond this fails with ERROR_UNAVAILABLE instead of growing
 * memory without bound while the broker is unreachable. */
#define RPC_OUTBOX_MAX 10000

/* Most calls waiting for a reply on one connection. */
#define RPC_MAX_PENDING_CALLS 10000

/* Longest topic or server name, in characters: [A-Za-z0-9_.-], so that
 * "<topic>.<server>.dead" and "<topic>_fanout" stay within AMQP's 255-byte
 * names. */
#define RPC_MAX_NAME_LENGTH 100

/* Default call timeout (oslo's rpc_response_timeout), in milliseconds. */
#define RPC_DEFAULT_TIMEOUT_MS 60000

/* Exchange every queue dead-letters into. */
#define RPC_DLX_EXCHANGE "nova.dlx"

/* Where a message goes.  'topic' is required.  With 'server' set the
 * message goes to that one server's queue "<topic>.<server>" (as nova's
 * "compute.<host>"); otherwise to the shared queue "<topic>" that every
 * server of the topic consumes (one of them gets it).  Borrowed. */
struct rpc_target {
    const char *topic;
    const char *server;
};

struct rpc_conn_options {
    /* Heartbeat in seconds; 0 means RPC_HEARTBEAT_S.  (Negative disables
     * heartbeats: tests only.) */
    int heartbeat_s;
    /* Per-host connect and login timeout; 0 means RPC_CONNECT_TIMEOUT_MS. */
    int connect_timeout_ms;
    /* Name used in log lines ("nova-conductor"); NULL for none. */
    const char *name;
};

/* Counters of one connection, since rpc_conn_open(). */
struct rpc_conn_stats {
    unsigned long long connects;        /* Successful (re)connections. */
    unsigned long long disconnects;     /* Connections lost. */
    unsigned long long published;       /* basic.publish sent, with retries. */
    unsigned long long confirmed;       /* basic.ack received for them. */
    unsigned long long nacked;          /* basic.nack received (retried). */
    unsigned long long republished;     /* Publishes sent again. */
    unsigned long long calls;           /* Calls started. */
    unsigned long long call_timeouts;   /* Calls that timed out. */
};

struct rpc_conn;

/* Opens a connection to the broker named by transport URL 'url', trying
 * each of its hosts once in order.  'options' may be NULL for defaults.
 *
 * Returns NULL and stores the new connection (owned by the caller, bound to
 * the calling thread) in '*ret_conn', or an error: ERROR_INVALID for a bad
 * URL, ERROR_UNAUTHORIZED when the broker refuses the credentials or the
 * vhost, ERROR_UNAVAILABLE when no host can be reached.  The message names
 * the URL without its password and the reason, and arrives within about
 * 'connect_timeout_ms' per host: never a hang.
 *
 * Once open, a connection never gives up: losses are repaired in the
 * background (see above). */
struct error *rpc_conn_open(const char *url,
                            const struct rpc_conn_options *options,
                            struct rpc_conn **ret_conn) WARN_UNUSED;

/* Closes 'conn' (NULL-safe).  Every call still waiting completes first,
 * with an ERROR_UNAVAILABLE error delivered to its callback.  Messages not
 * yet confirmed by the broker are dropped (call rpc_conn_flush() first to
 * make sure they landed).  Every server on 'conn' must have been freed
 * before.  Must not be called from a callback of 'conn'. */
void rpc_conn_free(struct rpc_conn *conn);
DEFINE_FREEP(struct rpc_conn, rpc_conn_free)

/* Does all the work that is ready, without blocking on the network for
 * long: reads frames, processes publisher confirms, dispatches deliveries
 * to servers, completes async calls (replies and timeouts), publishes the
 * outbox, and reconnects when the backoff delay has passed.  (Reconnecting
 * blocks for at most 'connect_timeout_ms' per host.) */
void rpc_conn_run(struct rpc_conn *conn);

/* Registers with the poll loop what rpc_conn_run() waits for: the socket,
 * the next heartbeat, the earliest call timeout, the reconnect time, or an
 * immediate wake when frames are already buffered inside librabbitmq-c
 * (they would never wake poll()). */
void rpc_conn_wait(struct rpc_conn *conn);

/* True while the connection to the broker is up. */
bool rpc_conn_is_connected(const struct rpc_conn *conn);

/* Drops the connection at once, as a network failure would, and lets the
 * usual recovery run: reconnect after the backoff delay, re-declare and
 * re-consume, publish again whatever was not confirmed.  Deliveries not
 * yet acked go back to their queues on the broker's side.  For operators
 * ("reconnect now", after a cluster change) and for tests of the recovery
 * paths.  May be called from a handler or callback of 'conn'. */
void rpc_conn_disconnect(struct rpc_conn *conn);

/* The transport URL, password hidden.  Owned by 'conn'. */
const char *rpc_conn_url(const struct rpc_conn *conn);

void rpc_conn_get_stats(const struct rpc_conn *conn,
                        struct rpc_conn_stats *ret_stats);

/* Number of casts, fanouts and call requests not yet confirmed by the
 * broker. */
size_t rpc_conn_n_unconfirmed(const struct rpc_conn *conn);

/* Blocks, driving 'conn' (including reconnects), until the broker has
 * confirmed every message published so far, or 'timeout_ms' passes.
 * Returns NULL, or ERROR_TIMEOUT saying how many remain unconfirmed (they
 * stay queued and keep being retried).  Deliveries to servers and async
 * replies that arrive meanwhile wait for the next rpc_conn_run(). */
struct error *rpc_conn_flush(struct rpc_conn *conn, int timeout_ms)
    WARN_UNUSED;

/* Casts 'msg' (borrowed: it is encoded at once) to 'target'.  Returns as
 * soon as the message is queued: it is published now if connected, and
 * retried until the broker confirms it (see rpc_conn_flush()).  The
 * message's deadline, if any, also bounds the retries.  Fails with
 * ERROR_INVALID (bad target or message), ERROR_TOO_LARGE or
 * ERROR_UNAVAILABLE (outbox full). */
struct error *rpc_cast(struct rpc_conn *conn, const struct rpc_target *target,
                       const struct rpc_msg *msg) WARN_UNUSED;

/* Sends 'msg' (borrowed) to every server of 'topic' that listens to
 * fanouts.  Same rules as rpc_cast(). */
struct error *rpc_fanout(struct rpc_conn *conn, const char *topic,
                         const struct rpc_msg *msg) WARN_UNUSED;

/* Calls 'msg' (borrowed) on 'target' and waits for the reply, for at most
 * 'timeout_ms' (<= 0 means RPC_DEFAULT_TIMEOUT_MS); the deadline sent is
 * the earlier of that and the message's own deadline.  While waiting it
 * drives 'conn' itself (reconnects, confirms, its own reply), leaving
 * deliveries to servers and async replies for the next rpc_conn_run(), so
 * it is safe to call from a handler or a callback.  (For the same reason
 * a blocking call to a topic served on the same thread can only time
 * out.)  For CLIs, tests and code that may block; event-loop code uses
 * rpc_call_async().
 *
 * Returns NULL and stores the result (a new reference, or NULL for a JSON
 * null result) in '*ret_result', or an error: the remote error exactly as
 * the server's handler returned it (same kind, same message);
 * ERROR_TIMEOUT "Timed out waiting for a reply to 'METHOD' on topic
 * 'TOPIC' after N ms"; or a local failure as for rpc_cast(). */
struct error *rpc_call(struct rpc_conn *conn, const struct rpc_target *target,
                       const struct rpc_msg *msg, int timeout_ms,
                       struct json_object **ret_result) WARN_UNUSED;

/* Called once per async call, from rpc_conn_run() (or rpc_conn_free()),
 * never from inside rpc_call_async() itself.  Exactly one of 'result' and
 * 'error' is set, except that a successful JSON null result gives both
 * NULL.  The callback owns both (json_object_put(), error_free()); use
 * TAKE_PTR-style hand-off to keep them. */
typedef void rpc_reply_fn(struct json_object *result, struct error *error,
                          void *aux);

/* Starts a call like rpc_call() but returns at once; 'cb' gets the reply,
 * the remote error or the timeout later, with 'aux'.  Returns NULL when
 * the call is under way (then 'cb' will be called exactly once), or an
 * error for an immediate failure (then 'cb' is never called). */
struct error *rpc_call_async(struct rpc_conn *conn,
                             const struct rpc_target *target,
                             const struct rpc_msg *msg, int timeout_ms,
                             rpc_reply_fn *cb, void *aux) WARN_UNUSED;

/* Checks a topic or server name: 1 to RPC_MAX_NAME_LENGTH characters from
 * [A-Za-z0-9_.-].  Returns NULL or an ERROR_INVALID error naming 'what'. */
struct error *rpc_check_name(const char *what, const char *name) WARN_UNUSED;

#endif /* NOVA_RPC_H */
