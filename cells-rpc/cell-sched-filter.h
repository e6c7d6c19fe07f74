/* cell-sched-filter.h: the filters of the cell scheduler.
 *
 * A filter answers one question about one candidate cell for one request:
 * may this cell get it?  cell-sched.h lists them and what each checks.
 * A filter may also say that it does not apply to a request (no hint, no
 * zone, no image property asked for); the scheduler then leaves it out of
 * the decision, and out of the NoValidHost message.
 *
 * 'struct cell_sched_ctx' is the request prepared once per decision: the
 * scheduler builds it, filters and weighers only read it.  Filters are
 * pure. */
#ifndef NOVA_CELL_SCHED_FILTER_H
#define NOVA_CELL_SCHED_FILTER_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cell_sched_candidate;
struct cell_sched_request;

/* A request prepared for one decision. */
struct cell_sched_ctx {
    const struct cell_sched_request *request;
    const char *cell_path;      /* The deciding cell. */
    size_t cell_path_length;
    /* For a target_cell hint, the path of the one candidate that may get
     * the request (the deciding cell or its child toward the target);
     * NULL without the hint. */
    const char *target_path;
};

/* Returns true if 'candidate' passes for the request of 'ctx'. */
typedef bool cell_sched_filter_passes_func(
    const struct cell_sched_candidate *candidate,
    const struct cell_sched_ctx *ctx);
/* Returns false if the filter has nothing to check for the request. */
typedef bool cell_sched_filter_applies_func(const struct cell_sched_ctx *ctx);

struct cell_sched_filter {
    const char *name;                           /* Nova-style class name. */
    cell_sched_filter_applies_func *applies;    /* NULL: always applies. */
    cell_sched_filter_passes_func *passes;
};

/* The request's list of candidates already tried, applied before the
 * configured filters. */
extern const struct cell_sched_filter cell_sched_filter_retry;

/* Returns the filter named 'name' (exact, case-sensitive), or NULL. */
const struct cell_sched_filter *cell_sched_filter_find(const char *name);

/* Returns the filter table and stores its length in '*ret_n'. */
const struct cell_sched_filter *cell_sched_filter_table(size_t *ret_n);

/* Returns true if 'filter' takes part in deciding 'ctx'. */
bool cell_sched_filter_applies(const struct cell_sched_filter *filter,
                               const struct cell_sched_ctx *ctx);

/* True if valid cell path 'path' is 'root' or lies below it, for paths
 * already validated (no checks, unlike cell_path_in_subtree()). */
bool cell_sched_filter_in_subtree(const char *root, const char *path);

/* True if 'candidate' stands for the deciding cell's own hosts. */
bool cell_sched_filter_is_self(const struct cell_sched_candidate *candidate,
                               const struct cell_sched_ctx *ctx);

#endif /* NOVA_CELL_SCHED_FILTER_H */
