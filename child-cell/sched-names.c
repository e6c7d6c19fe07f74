/* sched-names.c: counted host-name set for scheduling (see sched-names.h).
 *
 * Linear probing in a power-of-two table kept at most half full, so a probe
 * sequence is short and a miss usually ends at the first empty slot. */
#include <config.h>
#include "child-cell/sched-names.h"

#include <stdlib.h>
#include <string.h>

#include "shared/xalloc.h"

/* Smallest table allocated, in slots. */
#define SCHED_NAMES_MIN_SLOTS 16

/* 32-bit FNV-1a parameters. */
#define SCHED_NAMES_FNV_OFFSET 2166136261u
#define SCHED_NAMES_FNV_PRIME 16777619u

uint32_t
sched_names_hash(const char *name)
{
    uint32_t hash = SCHED_NAMES_FNV_OFFSET;

    for (const unsigned char *p = (const unsigned char *) name; *p; p++) {
        hash ^= *p;
        hash *= SCHED_NAMES_FNV_PRIME;
    }
    return hash;
}

uint32_t
sched_names_hash_nocase(const char *name)
{
    uint32_t hash = SCHED_NAMES_FNV_OFFSET;

    for (const unsigned char *p = (const unsigned char *) name; *p; p++) {
        hash ^= (*p >= 'A' && *p <= 'Z') ? *p - 'A' + 'a' : *p;
        hash *= SCHED_NAMES_FNV_PRIME;
    }
    return hash;
}

void
sched_names_init(struct sched_names *set)
{
    set->entries = NULL;
    set->n_entries = 0;
    set->mask = 0;
}

void
sched_names_destroy(struct sched_names *set)
{
    if (set) {
        free(set->entries);
        sched_names_init(set);
    }
}

void
sched_names_clear(struct sched_names *set)
{
    if (set->n_entries) {
        memset(set->entries, 0, (set->mask + 1) * sizeof *set->entries);
        set->n_entries = 0;
    }
}

/* Returns the slot holding 'name', or the empty slot where it belongs.
 * The table must have at least one empty slot. */
static struct sched_names_entry *
sched_names_find_slot(const struct sched_names *set, const char *name,
                      uint32_t hash)
{
    for (size_t i = hash & set->mask; ; i = (i + 1) & set->mask) {
        struct sched_names_entry *e = &set->entries[i];

        if (!e->name || (e->hash == hash && !strcmp(e->name, name))) {
            return e;
        }
    }
}

static void
sched_names_grow(struct sched_names *set)
{
    size_t n_slots = set->mask ? (set->mask + 1) * 2 : SCHED_NAMES_MIN_SLOTS;
    struct sched_names_entry *old = set->entries;
    size_t old_n_slots = set->mask ? set->mask + 1 : 0;

    set->entries = xcalloc(n_slots, sizeof *set->entries);
    set->mask = n_slots - 1;
    for (size_t i = 0; i < old_n_slots; i++) {
        if (old[i].name) {
            *sched_names_find_slot(set, old[i].name, old[i].hash) = old[i];
        }
    }
    free(old);
}

void
sched_names_add(struct sched_names *set, const char *name)
{
    uint32_t hash = sched_names_hash(name);
    struct sched_names_entry *e;

    /* Keep the table at most half full. */
    if ((set->n_entries + 1) * 2 > set->mask + 1) {
        sched_names_grow(set);
    }
    e = sched_names_find_slot(set, name, hash);
    if (!e->name) {
        e->name = name;
        e->hash = hash;
        set->n_entries++;
    }
    e->count++;
}

unsigned int
sched_names_count(const struct sched_names *set, const char *name,
                  uint32_t hash)
{
    if (!set->n_entries) {
        return 0;
    }
    return sched_names_find_slot(set, name, hash)->count;
}
