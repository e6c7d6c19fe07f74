/* sched-names.h: a small counted set of host names for one scheduling
 * decision.
 *
 * The scheduler checks every host against the request's host lists (the
 * hosts its server group already uses, force_hosts, ignore_hosts).  Walking
 * a list per host would cost O(hosts * list), so the lists go into an
 * open-addressing hash table once per request, and each host carries the
 * hash of its name (sched_host.name_hash), computed when the host is
 * created: a membership test is then one or two probes and, on a hash
 * match, one strcmp().
 *
 * A name may be added several times; the set counts the additions (the
 * number of group members on a host, for the soft-affinity weighers).
 *
 * The set borrows the name strings: they must outlive the set or the next
 * sched_names_clear().  Clearing keeps the table, so a scheduler reuses one
 * set across requests without allocating. */
#ifndef CHILD_CELL_SCHED_NAMES_H
#define CHILD_CELL_SCHED_NAMES_H 1

#include <stddef.h>
#include <stdint.h>

struct sched_names_entry {
    const char *name;           /* Borrowed; NULL marks an empty slot. */
    uint32_t hash;
    unsigned int count;
};

struct sched_names {
    struct sched_names_entry *entries;
    size_t n_entries;           /* Distinct names held. */
    size_t mask;                /* Table size - 1 (a power of two), or 0. */
};

/* Returns the hash of 'name' that sched_names_count() expects (FNV-1a). */
uint32_t sched_names_hash(const char *name);

/* The same with ASCII letters folded to lower case, for names compared
 * with strcasecmp(). */
uint32_t sched_names_hash_nocase(const char *name);

/* Initialises an empty set; allocates nothing. */
void sched_names_init(struct sched_names *);

/* Frees the table.  Accepts NULL. */
void sched_names_destroy(struct sched_names *);

/* Forgets every name but keeps the table for reuse. */
void sched_names_clear(struct sched_names *);

/* Adds one occurrence of 'name' (borrowed, not NULL). */
void sched_names_add(struct sched_names *, const char *name);

/* Returns how many times 'name', whose hash is 'hash', was added: 0 if it
 * is not in the set. */
unsigned int sched_names_count(const struct sched_names *, const char *name,
                               uint32_t hash);

#endif /* CHILD_CELL_SCHED_NAMES_H */
