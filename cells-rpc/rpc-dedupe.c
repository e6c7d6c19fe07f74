/* rpc-dedupe.c: bounded window of message ids (rpc-dedupe.h).
 *
 * Every id is in a chained hash table (FNV-1a, power-of-two buckets that
 * double when the load passes one).  DONE ids are also on a list in
 * completion order, oldest first, which both bounds drop from the front:
 * expiry by age and eviction by count are O(1) per id.  Cached replies are
 * dropped oldest first too; 'reply_cursor' remembers where the oldest
 * remaining reply may be, so that dropping replies never rescans the ids
 * whose replies are already gone. */
#include <config.h>

#include "cells-rpc/rpc-dedupe.h"

#include <stdint.h>
#include <string.h>

#include "shared/xalloc.h"

/* Initial number of hash buckets. */
#define RPC_DEDUPE_MIN_BUCKETS 64

struct rpc_dedupe_entry {
    struct rpc_dedupe_entry *hash_next;
    struct rpc_dedupe_entry *prev;      /* DONE list, towards older. */
    struct rpc_dedupe_entry *next;      /* DONE list, towards newer. */
    enum rpc_dedupe_state state;
    void *pending;                      /* PENDING only. */
    long long done_ms;                  /* DONE only. */
    char *reply;                        /* DONE only; may be NULL. */
    size_t reply_size;
    uint32_t hash;
    char id[];
};

struct rpc_dedupe {
    struct rpc_dedupe_entry **buckets;
    size_t n_buckets;
    size_t n_entries;
    size_t n_done;
    struct rpc_dedupe_entry *oldest;
    struct rpc_dedupe_entry *newest;
    struct rpc_dedupe_entry *reply_cursor;
    size_t reply_bytes;
    size_t max_ids;
    long long max_age_ms;
    size_t max_reply_bytes;
};

static uint32_t
rpc_dedupe_hash(const char *id)
{
    uint32_t h = 2166136261u;

    for (; *id; id++) {
        h ^= (unsigned char) *id;
        h *= 16777619u;
    }
    return h;
}

struct rpc_dedupe *
rpc_dedupe_new(size_t max_ids, long long max_age_ms, size_t max_reply_bytes)
{
    struct rpc_dedupe *d = xzalloc(sizeof *d);

    d->n_buckets = RPC_DEDUPE_MIN_BUCKETS;
    d->buckets = xcalloc(d->n_buckets, sizeof *d->buckets);
    d->max_ids = max_ids ? max_ids : 1;
    d->max_age_ms = max_age_ms > 0 ? max_age_ms : 1;
    d->max_reply_bytes = max_reply_bytes;
    return d;
}

void
rpc_dedupe_free(struct rpc_dedupe *d)
{
    if (!d) {
        return;
    }
    for (size_t i = 0; i < d->n_buckets; i++) {
        struct rpc_dedupe_entry *e = d->buckets[i];

        while (e) {
            struct rpc_dedupe_entry *next = e->hash_next;

            free(e->reply);
            free(e);
            e = next;
        }
    }
    free(d->buckets);
    free(d);
}

static struct rpc_dedupe_entry **
rpc_dedupe_find_slot(struct rpc_dedupe *d, const char *id, uint32_t hash)
{
    struct rpc_dedupe_entry **slot = &d->buckets[hash & (d->n_buckets - 1)];

    while (*slot && ((*slot)->hash != hash || strcmp((*slot)->id, id))) {
        slot = &(*slot)->hash_next;
    }
    return slot;
}

static void
rpc_dedupe_grow(struct rpc_dedupe *d)
{
    size_t n = d->n_buckets * 2;
    struct rpc_dedupe_entry **buckets = xcalloc(n, sizeof *buckets);

    for (size_t i = 0; i < d->n_buckets; i++) {
        struct rpc_dedupe_entry *e = d->buckets[i];

        while (e) {
            struct rpc_dedupe_entry *next = e->hash_next;
            size_t b = e->hash & (n - 1);

            e->hash_next = buckets[b];
            buckets[b] = e;
            e = next;
        }
    }
    free(d->buckets);
    d->buckets = buckets;
    d->n_buckets = n;
}

static void
rpc_dedupe_drop_reply(struct rpc_dedupe *d, struct rpc_dedupe_entry *e)
{
    if (e->reply) {
        d->reply_bytes -= e->reply_size;
        free(e->reply);
        e->reply = NULL;
        e->reply_size = 0;
    }
}

static void
rpc_dedupe_unlink_done(struct rpc_dedupe *d, struct rpc_dedupe_entry *e)
{
    if (d->reply_cursor == e) {
        d->reply_cursor = e->next;
    }
    if (e->prev) {
        e->prev->next = e->next;
    } else {
        d->oldest = e->next;
    }
    if (e->next) {
        e->next->prev = e->prev;
    } else {
        d->newest = e->prev;
    }
    e->prev = e->next = NULL;
    d->n_done--;
}

/* Removes the entry at '*slot' from everything and frees it. */
static void
rpc_dedupe_remove_slot(struct rpc_dedupe *d, struct rpc_dedupe_entry **slot)
{
    struct rpc_dedupe_entry *e = *slot;

    *slot = e->hash_next;
    if (e->state == RPC_DEDUPE_DONE) {
        rpc_dedupe_drop_reply(d, e);
        rpc_dedupe_unlink_done(d, e);
    }
    d->n_entries--;
    free(e);
}

static void
rpc_dedupe_remove(struct rpc_dedupe *d, struct rpc_dedupe_entry *e)
{
    rpc_dedupe_remove_slot(d, rpc_dedupe_find_slot(d, e->id, e->hash));
}

void
rpc_dedupe_expire(struct rpc_dedupe *d, long long now_ms)
{
    while (d->oldest && now_ms - d->oldest->done_ms >= d->max_age_ms) {
        rpc_dedupe_remove(d, d->oldest);
    }
}

enum rpc_dedupe_state
rpc_dedupe_lookup(struct rpc_dedupe *d, const char *id, long long now_ms,
                  void **ret_pending, const char **ret_reply,
                  size_t *ret_reply_size)
{
    struct rpc_dedupe_entry *e;

    rpc_dedupe_expire(d, now_ms);
    e = *rpc_dedupe_find_slot(d, id, rpc_dedupe_hash(id));
    if (!e) {
        return RPC_DEDUPE_UNKNOWN;
    }
    if (e->state == RPC_DEDUPE_PENDING) {
        if (ret_pending) {
            *ret_pending = e->pending;
        }
    } else {
        if (ret_reply) {
            *ret_reply = e->reply;
        }
        if (ret_reply_size) {
            *ret_reply_size = e->reply_size;
        }
    }
    return e->state;
}

static struct rpc_dedupe_entry *
rpc_dedupe_insert(struct rpc_dedupe *d, const char *id, uint32_t hash)
{
    size_t size = strnlen(id, RPC_DEDUPE_MAX_ID_SIZE - 1);
    struct rpc_dedupe_entry *e = xzalloc(sizeof *e + size + 1);
    struct rpc_dedupe_entry **bucket;

    memcpy(e->id, id, size);
    e->id[size] = '\0';
    e->hash = hash;
    if (d->n_entries >= d->n_buckets) {
        rpc_dedupe_grow(d);
    }
    bucket = &d->buckets[hash & (d->n_buckets - 1)];
    e->hash_next = *bucket;
    *bucket = e;
    d->n_entries++;
    return e;
}

void
rpc_dedupe_add_pending(struct rpc_dedupe *d, const char *id, void *pending)
{
    uint32_t hash = rpc_dedupe_hash(id);
    struct rpc_dedupe_entry *e = *rpc_dedupe_find_slot(d, id, hash);

    if (!e) {
        e = rpc_dedupe_insert(d, id, hash);
    } else if (e->state == RPC_DEDUPE_DONE) {
        rpc_dedupe_drop_reply(d, e);
        rpc_dedupe_unlink_done(d, e);
    }
    e->state = RPC_DEDUPE_PENDING;
    e->pending = pending;
}

void
rpc_dedupe_complete(struct rpc_dedupe *d, const char *id, char *reply,
                    size_t reply_size, long long now_ms)
{
    uint32_t hash = rpc_dedupe_hash(id);
    struct rpc_dedupe_entry *e = *rpc_dedupe_find_slot(d, id, hash);

    if (!e) {
        e = rpc_dedupe_insert(d, id, hash);
    } else if (e->state == RPC_DEDUPE_DONE) {
        rpc_dedupe_drop_reply(d, e);
        rpc_dedupe_unlink_done(d, e);
    }
    e->state = RPC_DEDUPE_DONE;
    e->pending = NULL;
    e->done_ms = now_ms;
    if (reply && reply_size <= d->max_reply_bytes) {
        e->reply = reply;
        e->reply_size = reply_size;
        d->reply_bytes += reply_size;
    } else {
        free(reply);
    }

    /* Append as the newest. */
    e->prev = d->newest;
    e->next = NULL;
    if (d->newest) {
        d->newest->next = e;
    } else {
        d->oldest = e;
    }
    d->newest = e;
    d->n_done++;
    if (!d->reply_cursor) {
        d->reply_cursor = e;
    }

    while (d->n_done > d->max_ids) {
        rpc_dedupe_remove(d, d->oldest);
    }
    if (!d->reply_cursor) {
        d->reply_cursor = d->oldest;
    }
    while (d->reply_bytes > d->max_reply_bytes && d->reply_cursor) {
        rpc_dedupe_drop_reply(d, d->reply_cursor);
        d->reply_cursor = d->reply_cursor->next;
    }
}

void
rpc_dedupe_forget(struct rpc_dedupe *d, const char *id)
{
    struct rpc_dedupe_entry **slot = rpc_dedupe_find_slot(
        d, id, rpc_dedupe_hash(id));

    if (*slot) {
        rpc_dedupe_remove_slot(d, slot);
    }
}

size_t
rpc_dedupe_count(const struct rpc_dedupe *d)
{
    return d->n_entries;
}

size_t
rpc_dedupe_reply_bytes(const struct rpc_dedupe *d)
{
    return d->reply_bytes;
}
