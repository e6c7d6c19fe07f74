/* rpc-backoff.c: exponential backoff with equal jitter (rpc-backoff.h). */
#include <config.h>

#include "cells-rpc/rpc-backoff.h"

#include <stdlib.h>

void
rpc_backoff_init(struct rpc_backoff *b, long long min_ms, long long max_ms,
                 unsigned int seed)
{
    b->min_ms = min_ms < 1 ? 1 : min_ms;
    b->max_ms = max_ms < b->min_ms ? b->min_ms : max_ms;
    b->attempt = 0;
    b->seed = seed;
}

long long
rpc_backoff_ceiling(const struct rpc_backoff *b)
{
    long long c = b->min_ms;

    /* Doubling stops at the bound, so this cannot overflow. */
    for (unsigned int i = 0; i < b->attempt && c < b->max_ms; i++) {
        c *= 2;
    }
    return c < b->max_ms ? c : b->max_ms;
}

long long
rpc_backoff_next(struct rpc_backoff *b)
{
    long long c = rpc_backoff_ceiling(b);
    long long half = c / 2;
    long long span = c - half;          /* Delay in [half, c]. */
    long long r = rand_r(&b->seed) % (span + 1);

    if (b->attempt < 64) {
        b->attempt++;
    }
    return half + r;
}

void
rpc_backoff_reset(struct rpc_backoff *b)
{
    b->attempt = 0;
}
