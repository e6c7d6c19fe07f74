/* rpc-dedupe.h: the window of recently executed message ids of a server.
 *
 * A bounded hash set of msg_ids in completion order.  An id enters as
 * PENDING when its handler starts (it points to the request being handled,
 * so a duplicate arriving meanwhile can find it), becomes DONE with the
 * encoded reply of a call (or none for a cast) when the handler completes,
 * and leaves the window when it is older than 'max_age_ms' or when more
 * than 'max_ids' ids are DONE (the oldest goes first).  A hit does not
 * extend an id's life, so 'max_age_ms' is a hard bound.  PENDING ids are
 * never evicted: they are bounded by the prefetch count of the consumers.
 * Cached replies are bounded in total by 'max_reply_bytes': past that, the
 * oldest replies are dropped but their ids stay (a duplicate of such a call
 * is still not executed twice; its caller times out instead, which is the
 * lesser harm).
 *
 * Why RPC_SERVER_DEDUPE_MAX_IDS = 65536 and _MAX_AGE_MS = 10 minutes
 * (rpc-server.h).  The window must outlast the two ways a copy comes back:
 *   - The broker redelivers an unacked message when it notices the
 *     consumer's connection is gone: at once on a clean close, within two
 *     heartbeats (2 x RPC_HEARTBEAT_S = 60 s) on a silent loss, plus up to
 *     RPC_RECONNECT_MAX_MS (15 s) before this server is back.  After a
 *     broker restart, the restart itself (about 10 s here) comes on top.
 *   - A caller publishes again what was not confirmed, after its own
 *     reconnect (same delays), and re-sends a call still waiting, until the
 *     call's timeout (RPC_DEFAULT_TIMEOUT_MS = 60 s).
 * So about two minutes covers every copy; ten minutes gives a fivefold
 * margin for a slow broker restart.  The id count must hold every id
 * executed during that time or the count, not the age, ends the window
 * early: 65536 ids keep the full 10 minutes up to ~110 messages/s per
 * server (well above a conductor's steady rate), and still cover the
 * two-minute redelivery horizon up to ~540 messages/s, beyond what one
 * single-threaded server executes with durable effects.  The cost is about
 * 100 bytes per id (6.5 MB at the bound) plus cached replies, bounded by
 * RPC_DEDUPE_MAX_REPLY_BYTES.
 *
 * Not thread-safe: owned by one server, on its connection's thread. */
#ifndef NOVA_RPC_DEDUPE_H
#define NOVA_RPC_DEDUPE_H 1

#include <stddef.h>
#include "shared/cleanup.h"

/* Total size of the cached replies of one window, in bytes. */
#define RPC_DEDUPE_MAX_REPLY_BYTES (64 * 1024 * 1024)

/* Longest id accepted, in bytes with the NUL (msg_ids are 36; the
 * connection also keeps its set of declared queue names in one). */
#define RPC_DEDUPE_MAX_ID_SIZE 256

enum rpc_dedupe_state {
    RPC_DEDUPE_UNKNOWN,         /* Not in the window. */
    RPC_DEDUPE_PENDING,         /* Being handled. */
    RPC_DEDUPE_DONE,            /* Executed. */
};

struct rpc_dedupe;

/* Creates an empty window.  'max_ids' >= 1, 'max_age_ms' >= 1,
 * 'max_reply_bytes' may be 0 (no reply cached).  The caller owns it. */
struct rpc_dedupe *rpc_dedupe_new(size_t max_ids, long long max_age_ms,
                                  size_t max_reply_bytes);

/* Frees 'd' and every cached reply (NULL-safe).  Pending pointers are not
 * touched. */
void rpc_dedupe_free(struct rpc_dedupe *d);
DEFINE_FREEP(struct rpc_dedupe, rpc_dedupe_free)

/* Drops the DONE ids older than 'max_age_ms' at 'now_ms' (any clock, as
 * long as the same one is used for every call on 'd'). */
void rpc_dedupe_expire(struct rpc_dedupe *d, long long now_ms);

/* Looks 'id' up, expiring old ids first.  For PENDING stores the pointer
 * given to rpc_dedupe_add_pending() in '*ret_pending' (if not NULL).  For
 * DONE stores the cached reply (borrowed, valid until the next call on 'd';
 * NULL if none or dropped) and its size in '*ret_reply' and
 * '*ret_reply_size' (if not NULL). */
enum rpc_dedupe_state rpc_dedupe_lookup(struct rpc_dedupe *d, const char *id,
                                        long long now_ms, void **ret_pending,
                                        const char **ret_reply,
                                        size_t *ret_reply_size);

/* Adds 'id' (not in the window; at most RPC_DEDUPE_MAX_ID_SIZE - 1 bytes)
 * as PENDING with 'pending' (borrowed, not NULL). */
void rpc_dedupe_add_pending(struct rpc_dedupe *d, const char *id,
                            void *pending);

/* Marks 'id' DONE at 'now_ms' with 'reply' (taken; NULL for none) of
 * 'reply_size' bytes, adding it if absent, then evicts the oldest ids
 * beyond 'max_ids' and the oldest replies beyond 'max_reply_bytes'. */
void rpc_dedupe_complete(struct rpc_dedupe *d, const char *id, char *reply,
                         size_t reply_size, long long now_ms);

/* Removes 'id' whatever its state (a pending request that was abandoned). */
void rpc_dedupe_forget(struct rpc_dedupe *d, const char *id);

/* Number of ids in the window (pending and done). */
size_t rpc_dedupe_count(const struct rpc_dedupe *d);

/* Total size of the cached replies, in bytes. */
size_t rpc_dedupe_reply_bytes(const struct rpc_dedupe *d);

#endif /* NOVA_RPC_DEDUPE_H */
