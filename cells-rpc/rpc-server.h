/* rpc-server.h: the server side of RPC: consume a topic, dispatch methods.
 *
 * A 'struct rpc_server' lives on an rpc_conn (rpc.h) and consumes:
 *   - the topic's shared durable queue "<topic>" (every server of the topic
 *     competes for its messages: several conductors share the load);
 *   - optionally its own durable queue "<topic>.<server>" (messages for
 *     this server only, as nova's "compute.<host>");
 *   - optionally an exclusive queue bound to "<topic>_fanout" (messages
 *     for every server of the topic).
 * and dispatches each message by method name to a handler from a table.
 *
 * What happens to a delivery, in order:
 *   1. Larger than RPC_MSG_MAX_SIZE, not a valid envelope (rpc-msg.h): it
 *      is logged (rate-limited, with its msg_id when one can be found) and
 *      rejected without requeue, so it lands in "<queue>.dead".  Counted in
 *      'rejected'.
 *   2. Its msg_id is in the dedupe window: not executed again.  A call
 *      gets the cached reply again (sent to the duplicate's reply_to, the
 *      caller's current reply queue); a cast is just acked.  If the first
 *      copy is still being handled (a deferred request), the duplicate
 *      takes over its delivery when the first copy's was lost with a
 *      connection, and is acked otherwise.  Counted in 'duplicates'.
 *   3. Version incompatible with the server's (rpc-version.h), unknown
 *      method, or arguments refused by the method's validator: the error
 *      ("Requested RPC API version 2.0 of topic 'conductor' is not
 *      supported (server has 1.3)") is returned to a call, logged for a
 *      cast, and the message is dead-lettered.  Counted in 'rejected'.
 *   4. Deadline passed: not executed, logged (rate-limited) and ACKED,
 *      not dead-lettered: nobody waits for it any more (a call's caller
 *      has already timed out) and replaying it later would be wrong, so
 *      it is not an operator's business the way a malformed message is.
 *      Counted in 'expired'.
 *   5. Otherwise the handler runs; the message is acked only after the
 *      handler has returned (its effect is durable by then: a handler that
 *      writes to the database commits before returning) and, for a call,
 *      after the reply was published.  A handler's error is a normal
 *      outcome: it is the reply of a call, and logged for a cast; the
 *      message is acked either way.  Counted in 'executed' (and 'failed'
 *      when the handler returned an error).
 *
 * Dedupe window.  Each server remembers the msg_id of every message it
 * executed (and, for calls, the encoded reply) in an LRU hash set bounded
 * to RPC_SERVER_DEDUPE_MAX_IDS ids and RPC_SERVER_DEDUPE_MAX_AGE_MS
 * (rpc-dedupe.h says why those numbers).  Duplicates come from the broker
 * redelivering an unacked message after a connection loss, and from
 * callers publishing again a message whose confirm was lost.  The window is
 * per process: a copy redelivered to ANOTHER server of the topic is not
 * caught, so handlers must still be safe to repeat across processes (the
 * database claims of DESIGN.md section 7 make them so).
 *
 * Handlers run on the connection's thread, from rpc_conn_run(): while one
 * runs, nothing else on that thread does, heartbeats included.  A handler
 * must finish well within two heartbeats (2 x RPC_HEARTBEAT_S) or the
 * broker drops the connection; slow work goes to a worker and the handler
 * defers its reply.
 *
 * Deferred replies.  A handler that cannot answer at once (nova-cells
 * forwarding a call down the tree and waiting for the child's reply with
 * rpc_call_async()) calls rpc_request_defer() and returns NULL; later, from
 * the same thread, rpc_request_reply() completes the request exactly as a
 * return would have.  The message stays unacked until then.
 *
 * Same thread rules as rpc.h: a server belongs to its connection's
 * thread. */
#ifndef NOVA_RPC_SERVER_H
#define NOVA_RPC_SERVER_H 1

#include <stdbool.h>
#include <stddef.h>
#include "shared/compiler.h"
#include "shared/cleanup.h"

struct error;
struct json_object;
struct rpc_conn;
struct rpc_msg;
struct rpc_request;

/* A method's handler.  'req' describes the message (rpc_request_msg());
 * 'aux' is the server's.  Returns NULL and may store a result (a new
 * reference; left NULL it means JSON null) in '*ret_result', or returns an
 * error that a call's caller gets with the same kind and message.  For a
 * cast the result is discarded.
 *
 * To answer later, call rpc_request_defer(req) and return NULL without a
 * result. */
typedef struct error *rpc_handler_fn(struct rpc_request *req, void *aux,
                                     struct json_object **ret_result);

/* Checks a method's arguments (a JSON object, borrowed) before the
 * handler runs.  Returns NULL, or an ERROR_INVALID error for the caller:
 * the message is then dead-lettered and the handler is not called. */
typedef struct error *rpc_validate_fn(const struct json_object *args);

/* One row of a server's method table. */
struct rpc_method {
    const char *name;               /* rpc_msg_method_is_valid(). */
    rpc_handler_fn *handler;
    rpc_validate_fn *validate;      /* Optional. */
};

/* Deduplication bounds, unless the options say otherwise (see
 * rpc-dedupe.h for the reasoning). */
#define RPC_SERVER_DEDUPE_MAX_IDS 65536
#define RPC_SERVER_DEDUPE_MAX_AGE_MS (10LL * 60 * 1000)

struct rpc_server_options {
    const char *topic;              /* Required; rpc_check_name(). */
    const char *server;             /* Optional: also "<topic>.<server>". */
    bool fanout;                    /* Also consume "<topic>_fanout". */
    const char *version;            /* "MAJOR.MINOR" served; required. */
    const struct rpc_method *methods;   /* Borrowed; must outlive the
                                         * server. */
    size_t n_methods;
    void *aux;                      /* Passed to every handler. */

    /* 0 means the defaults above (tests use small values). */
    size_t dedupe_max_ids;
    long long dedupe_max_age_ms;
};

/* Counters of one server, since rpc_server_new(). */
struct rpc_server_stats {
    unsigned long long received;    /* Every delivery. */
    unsigned long long executed;    /* Handler completed (ok or error). */
    unsigned long long failed;      /* ... of which with an error. */
    unsigned long long duplicates;  /* Recognised by the dedupe window. */
    unsigned long long rejected;    /* Dead-lettered: bad input, unknown
                                     * method, invalid args, version. */
    unsigned long long expired;     /* Deadline passed: acked, not run. */
    unsigned long long requeued;    /* Given back by rpc_request_requeue(). */
};

struct rpc_server;

/* Creates a server on 'conn' and starts consuming.  The options are copied
 * (the method table is borrowed).  If 'conn' is connected, the queues are
 * declared and the consumers started before this returns, so a refusal by
 * the broker (a permission, or a queue that exists with other arguments)
 * is reported here; the broker closes the channel on such a refusal, so
 * the connection also starts over, as after any loss.  If 'conn' is not
 * connected, that all happens on the next connection.  Returns NULL and
 * stores the server in '*ret_server', or an error: ERROR_INVALID for bad
 * options (duplicate or invalid method names, bad version, bad names),
 * ERROR_FORBIDDEN or ERROR_UNAVAILABLE for the broker's refusal. */
struct error *rpc_server_new(struct rpc_conn *conn,
                             const struct rpc_server_options *options,
                             struct rpc_server **ret_server) WARN_UNUSED;

/* Stops consuming and frees 'server' (NULL-safe).  Deliveries not yet
 * handled are returned to the broker (requeued) for another server.
 * Deferred requests become orphans: rpc_request_reply() on them just frees
 * them, and their messages are requeued now. */
void rpc_server_free(struct rpc_server *server);
DEFINE_FREEP(struct rpc_server, rpc_server_free)

void rpc_server_get_stats(const struct rpc_server *,
                          struct rpc_server_stats *ret_stats);

/* The topic 'server' consumes.  Owned by 'server'. */
const char *rpc_server_topic(const struct rpc_server *server);

/* The message of 'req', borrowed for the request's life. */
const struct rpc_msg *rpc_request_msg(const struct rpc_request *req);

/* True if 'req' is a call (its caller waits for a reply). */
bool rpc_request_is_call(const struct rpc_request *req);

/* Tells the server that the handler will answer later with
 * rpc_request_reply(); the handler must then return NULL without a
 * result.  Call it from the handler only. */
void rpc_request_defer(struct rpc_request *req);

/* Completes deferred request 'req': takes ownership of 'result' (NULL for
 * JSON null) and 'error' (NULL for success), replies to a call, acks the
 * message and frees 'req'.  Must be called exactly once per deferred
 * request, from the connection's thread, but not from inside the
 * request's own handler. */
void rpc_request_reply(struct rpc_request *req, struct json_object *result,
                       struct error *error);

/* Gives deferred request 'req' back to the broker instead of completing
 * it: its message is requeued (not dead-lettered, not acknowledged) and
 * forgotten by the dedupe window, so this server or another executes it
 * again.  For a failure that says nothing about the message, such as the
 * database being unreachable: nothing acknowledged is lost.  The caller
 * chooses when (a handler that requeues at once may see the message again
 * at once).  Frees 'req'; same rules as rpc_request_reply() otherwise. */
void rpc_request_requeue(struct rpc_request *req);

#endif /* NOVA_RPC_SERVER_H */
