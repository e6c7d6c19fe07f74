/* scheduler.h: placement for a leaf cell (nova-scheduler's
 * FilterScheduler), as a library.
 *
 * The scheduler daemon keeps one 'struct scheduler', built from the
 * operator's configuration, and an array of 'struct sched_host' fed from
 * the cell database (sched-host.h).  For conductor's select_destinations
 * it calls scheduler_select_destinations(), which for each instance of the
 * request
 *
 *   1. filters the hosts (force_hosts / ignore_hosts, then the configured
 *      filters in order, each host stopping at the first that rejects it);
 *   2. weighs the survivors (weighers normalised over them, as Nova);
 *   3. picks the best, breaking equal weights by position in the host
 *      array (the daemon keeps it in compute node id order, so this is
 *      Nova's stable sort over the hosts as the database lists them);
 *   4. claims the flavor on it, so the next instance of this request and
 *      every later request see the reduced free resources.
 *
 * Each instance also gets up to spec->n_alternates alternates: other hosts
 * that pass the filters, best first, for conductor to retry a failed build
 * on without asking again.  As in Nova, alternates are not claimed, and
 * for a request of several instances they are picked once all instances
 * are claimed, from the hosts not selected for any of them.
 *
 * If any instance cannot be placed, the request fails with an
 * ERROR_NO_VALID_HOST error ("No valid host was found. There are not
 * enough hosts available. Filter RamFilter returned 0 hosts ...", with the
 * per-filter host counts) and every claim it made is rolled back.
 *
 * Cost.  A decision is one pass over the host states, in blocks of 64: each
 * filter narrows a block in one call, and each weigher writes the
 * survivors' raw values into a reusable candidate array, tracking its
 * minimum and maximum.  A second, cheap pass over that array computes the
 * normalised weights and keeps only the best k hosts (k = 1 + alternates),
 * never sorting them all.  Nothing is allocated per host; in steady state
 * only the result is allocated.  Later instances of the same request
 * re-filter only the previous instance's survivors: claims only ever
 * shrink that set.  Keep the hosts in an array from sched_host_array_new()
 * (cache-line aligned) for the figures in tests/bench/bench-scheduler.c.
 *
 * Not thread-safe: the scheduler and its hosts belong to one thread (the
 * daemon's loop).  Several daemons may run per cell; see sched-host.h on
 * how these in-memory claims relate to the claims in the cell database. */
#ifndef CHILD_CELL_SCHEDULER_H
#define CHILD_CELL_SCHEDULER_H 1

#include <stddef.h>
#include <stdint.h>
#include "shared/cleanup.h"
#include "shared/compiler.h"

struct error;
struct scheduler;
struct sched_host;
struct sched_spec;

/* The filters run when the configuration names none: every filter this
 * scheduler knows, cheapest and most common rejections first.  Without a
 * placement service the resource filters must be on for claims to mean
 * anything. */
#define SCHEDULER_DEFAULT_FILTERS                                       \
    "ComputeFilter", "AvailabilityZoneFilter", "RamFilter",             \
    "DiskFilter", "CoreFilter", "ImagePropertiesFilter",                \
    "ServerGroupAntiAffinityFilter", "ServerGroupAffinityFilter"

/* A weigher and its multiplier (Nova's ram_weight_multiplier, ...). */
struct scheduler_weigher_config {
    const char *name;
    double multiplier;
};

/* The operator's choices, borrowed for the call of scheduler_new(). */
struct scheduler_config {
    /* Filters by Nova class name, in the order they run.  NULL selects
     * SCHEDULER_DEFAULT_FILTERS; a non-NULL array of 0 runs none. */
    const char *const *filters;
    size_t n_filters;
    /* Weighers with their multipliers.  NULL selects every weigher with
     * SCHED_WEIGH_DEFAULT_MULTIPLIER; a multiplier of 0 disables one. */
    const struct scheduler_weigher_config *weighers;
    size_t n_weighers;
};

/* A host chosen for an instance, as an index into the caller's array. */
struct scheduler_pick {
    size_t host;
    double weight;
};

/* The outcome for one instance. */
struct scheduler_dest {
    size_t host;                /* Selected host: index in the array. */
    double weight;
    uint64_t claim_id;          /* Claim made on hosts[host]; unique
                                 * among this scheduler's claims. */
    struct scheduler_pick *alternates;  /* Best first; not claimed. */
    size_t n_alternates;
};

/* The outcome of a request: one destination per instance, in order.  The
 * destinations may share one alternates array (they do for a request of
 * several instances, whose alternates are the same). */
struct scheduler_selection {
    struct scheduler_dest *dests;
    size_t n_dests;
};

/* Creates a scheduler from 'config'.  Returns NULL and sets '*ret_sched'
 * (owned by the caller), or an ERROR_INVALID error naming the unknown or
 * duplicate filter or weigher, or the bad multiplier (the known names are
 * listed, for the operator). */
struct error *scheduler_new(const struct scheduler_config *config,
                            struct scheduler **ret_sched) WARN_UNUSED;

/* Frees 'sched'.  Accepts NULL.  Claims live in the hosts and survive. */
void scheduler_free(struct scheduler *sched);
DEFINE_FREEP(struct scheduler, scheduler_free)

/* Places the 'spec->num_instances' instances of 'spec' on 'hosts' (an
 * array of 'n_hosts', claims recorded in it).  Returns NULL and sets
 * '*ret_selection' (owned by the caller; free it with
 * scheduler_selection_free()), or:
 *   - ERROR_INVALID if 'spec' breaks a limit of sched-spec.h;
 *   - ERROR_NO_VALID_HOST if an instance cannot be placed, in which case
 *     no claim of the request remains.
 * The caller owns the error. */
struct error *scheduler_select_destinations(
    struct scheduler *sched, const struct sched_spec *spec,
    struct sched_host *hosts, size_t n_hosts,
    struct scheduler_selection **ret_selection) WARN_UNUSED;

/* Releases the claims 'selection' made on 'hosts' (the same array, not
 * reordered since), for when conductor never got the answer.  Claims
 * already retired or released are skipped.  Returns how many were
 * released. */
size_t scheduler_release_selection(struct sched_host *hosts, size_t n_hosts,
                                   const struct scheduler_selection *);

/* Frees 'selection' (not its claims).  Accepts NULL. */
void scheduler_selection_free(struct scheduler_selection *selection);
DEFINE_FREEP(struct scheduler_selection, scheduler_selection_free)

#endif /* CHILD_CELL_SCHEDULER_H */
