/* rpc-backoff.h: exponential backoff with jitter, for reconnecting.
 *
 * Attempt n (from 0) waits a random delay in [c/2, c] where
 * c = min(max_ms, min_ms * 2^n): the ceiling doubles from 'min_ms' up to
 * 'max_ms' and stays there.  The random half ("equal jitter") spreads the
 * reconnects of the many daemons a broker restart disconnects at once,
 * while the lower half keeps a floor under every delay so that a dead
 * broker is never hammered.  rpc_backoff_reset() after a success starts
 * again from 'min_ms'. */
#ifndef NOVA_RPC_BACKOFF_H
#define NOVA_RPC_BACKOFF_H 1

struct rpc_backoff {
    long long min_ms;
    long long max_ms;
    unsigned int attempt;
    unsigned int seed;          /* rand_r() state. */
};

/* Initialises 'b'.  1 <= 'min_ms' <= 'max_ms'.  'seed' makes the jitter
 * reproducible (tests); daemons pass something that differs per process. */
void rpc_backoff_init(struct rpc_backoff *b, long long min_ms,
                      long long max_ms, unsigned int seed);

/* Returns the delay before the next attempt, in milliseconds, and counts
 * the attempt. */
long long rpc_backoff_next(struct rpc_backoff *b);

/* The ceiling c of the next attempt (without jitter). */
long long rpc_backoff_ceiling(const struct rpc_backoff *b);

/* Starts over from 'min_ms' (after a successful connection). */
void rpc_backoff_reset(struct rpc_backoff *b);

#endif /* NOVA_RPC_BACKOFF_H */
