/* cells-client.h: nova-api's client of the API cell's nova-cells.
 *
 * Boots, actions and queries that must travel down the tree go from
 * nova-api to the nova-cells of the API cell, over RPC on the API cell's
 * own vhost, topic CELLS_LOCAL_TOPIC (cells-rpc/cells-rpcapi.h).
 *
 * An rpc_conn belongs to one thread (cells-rpc/rpc.h), while nova-api
 * serves requests from a pool of threads.  So the client runs a thread of
 * its own that owns the connection and drives it with a poll loop; the
 * entry points below, callable from any thread, hand work to it through a
 * mutex-protected queue and wake its loop with an eventfd.
 *
 * Casts are durable before they succeed: cells_client_cast() returns
 * only once the broker has confirmed the message (publisher confirms), so
 * that nova-api never accepts a boot that could still be lost.  The
 * client's thread publishes the casts waiting at one moment together and
 * waits for the broker to confirm the whole batch, while further casts
 * gather for the next batch: many threads casting at once share each
 * round trip to the broker.
 *
 * The broker may be down when nova-api starts: cells_client_new() does
 * not wait for it.  The thread connects in the background, retrying with
 * backoff; meanwhile casts fail with ERROR_UNAVAILABLE ("nova-cells of the
 * API cell is unreachable: ...") within their timeout, and calls complete
 * with that error, so a request never hangs.  A cast that timed out after
 * it was published may still arrive (RPC casts are delivered at least
 * once); one that never left nova-api is dropped. */
#ifndef NOVA_CELLS_CLIENT_H
#define NOVA_CELLS_CLIENT_H 1

#include "shared/compiler.h"
#include "shared/cleanup.h"

struct cells_client;
struct error;
struct json_object;
struct rpc_ctx;

/* Starts a client of the nova-cells listening on the vhost named by
 * transport URL 'transport_url' (transport-url.h) and stores it in
 * '*ret'.  The connection is made in the background, so a broker that is
 * down is no error here; a malformed URL is (ERROR_INVALID). */
struct error *cells_client_new(const char *transport_url,
                               struct cells_client **ret) WARN_UNUSED;

/* Stops the client's thread and frees 'client' (NULL-safe).  Calls still
 * waiting complete first with ERROR_UNAVAILABLE; casts not yet confirmed
 * are dropped.  No other thread may use 'client' any more (free it after
 * the HTTP server has stopped). */
void cells_client_free(struct cells_client *);
DEFINE_FREEP(struct cells_client, cells_client_free)

/* Casts 'method' with arguments 'args' (a JSON object; the reference is
 * taken, whatever the outcome) and context 'ctx' (copied) to topic
 * CELLS_LOCAL_TOPIC.  Blocks until the broker has confirmed the message
 * (it is then durable in nova-cells' queue) and returns NULL, or returns
 * an error after at most about 'timeout_ms' (<= 0: 10 s):
 * ERROR_UNAVAILABLE "nova-cells of the API cell is unreachable: ..." when
 * the broker cannot be reached or did not confirm in time (at once when
 * it has been unreachable for longer than 'timeout_ms' already),
 * ERROR_INVALID or ERROR_TOO_LARGE for a message that cannot be sent.
 * Thread-safe; must not be called from the client's own thread (from a
 * cells_client_call() callback). */
struct error *cells_client_cast(struct cells_client *,
                                const struct rpc_ctx *ctx,
                                const char *method, struct json_object *args,
                                int timeout_ms) WARN_UNUSED;

/* The reply to cells_client_call(): 'result' (borrowed; NULL for a JSON
 * null) when 'error' is NULL, else 'error' (borrowed). */
typedef void cells_client_reply_fn(struct json_object *result,
                                   const struct error *error, void *aux);

/* Calls 'method' with 'args' (a JSON object; the reference is taken,
 * whatever the outcome) and context 'ctx' (copied) on topic
 * CELLS_LOCAL_TOPIC, without blocking.  Returns NULL when the call is
 * under way: then 'cb' runs exactly once, on the client's thread, with
 * 'aux' and the result, the remote error, ERROR_TIMEOUT after 'timeout_ms'
 * (<= 0: RPC_DEFAULT_TIMEOUT_MS), ERROR_UNAVAILABLE when the broker cannot
 * be reached within that time or when the client is freed first.  Returns
 * an error for an immediate failure (the client is stopping): then 'cb'
 * is never called.  Thread-safe.  'cb' must not block for long: it holds
 * up every other message of the client (resume a suspended HTTP
 * connection, signal a waiter). */
struct error *cells_client_call(struct cells_client *,
                                const struct rpc_ctx *ctx,
                                const char *method, struct json_object *args,
                                int timeout_ms, cells_client_reply_fn *cb,
                                void *aux) WARN_UNUSED;

#endif /* NOVA_CELLS_CLIENT_H */
