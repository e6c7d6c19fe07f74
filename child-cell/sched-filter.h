/* sched-filter.h: the host filters of the leaf-cell scheduler.
 *
 * A filter answers one question about one host for one request: can this
 * host take one more instance of it?  Filters carry Nova's names, so an
 * operator's enabled_filters list reads the same:
 *
 *   ComputeFilter                  service enabled and up
 *   RamFilter, DiskFilter,         room for the flavor within
 *   CoreFilter                     floor(total * ratio) - reserved
 *   AvailabilityZoneFilter         host in the requested zone
 *   ImagePropertiesFilter          image architecture / hypervisor type
 *   ServerGroupAffinityFilter      host already used by the group
 *   ServerGroupAntiAffinityFilter  host not used by the group
 *
 * Each filter may also say that it does not apply to a request (no zone
 * requested, no group policy): the scheduler then leaves it out of the
 * decision altogether, so it costs nothing per host.
 *
 * Two more filters, not configurable and not in the name table, implement
 * the request's force_hosts and ignore_hosts lists; the scheduler runs them
 * first when the request has such lists, as Nova's host manager does.
 *
 * Filters are pure: they read the host and the prepared request
 * ('struct sched_spec_ctx') and change nothing. */
#ifndef CHILD_CELL_SCHED_FILTER_H
#define CHILD_CELL_SCHED_FILTER_H 1

#include <stdbool.h>
#include <stddef.h>

struct sched_host;
struct sched_spec_ctx;

/* Returns true if 'host' can take one instance of the request. */
typedef bool sched_filter_passes_func(const struct sched_host *host,
                                      const struct sched_spec_ctx *ctx);
/* The same over a batch: keeps, in order, the entries of 'indices' (into
 * 'hosts', 'n' of them) whose hosts pass, and returns how many it kept. */
typedef size_t sched_filter_batch_func(const struct sched_host *hosts,
                                       size_t *indices, size_t n,
                                       const struct sched_spec_ctx *ctx);
/* Returns false if the filter has nothing to check for the request. */
typedef bool sched_filter_applies_func(const struct sched_spec_ctx *ctx);

/* A filter: one predicate, offered per host and per batch.  The scheduler
 * runs the batch form over blocks of hosts, so a decision costs one call
 * per filter per block rather than per host. */
struct sched_filter {
    const char *name;                       /* Nova's class name. */
    sched_filter_applies_func *applies;     /* NULL: always applies. */
    sched_filter_passes_func *host_passes;
    sched_filter_batch_func *filter;
};

/* The request's host lists, applied before the configured filters. */
extern const struct sched_filter sched_filter_force_hosts;
extern const struct sched_filter sched_filter_ignore_hosts;

/* Returns the filter named 'name' (exact, case-sensitive, as Nova), or
 * NULL if there is none. */
const struct sched_filter *sched_filter_find(const char *name);

/* Returns the filter table and stores its length in '*ret_n': for help
 * text and error messages. */
const struct sched_filter *sched_filter_table(size_t *ret_n);

/* Returns true if 'filter' takes part in deciding 'ctx'. */
bool sched_filter_applies(const struct sched_filter *filter,
                          const struct sched_spec_ctx *ctx);

#endif /* CHILD_CELL_SCHED_FILTER_H */
