/* sched-weigh.h: the host weighers of the leaf-cell scheduler.
 *
 * A weigher gives each host that passed the filters a raw value; as in
 * Nova's weight handler, the scheduler normalises each weigher's values
 * over those hosts to 0..1 (minimum -> 0, maximum -> 1; all 0 when every
 * host has the same value) and ranks hosts by
 *
 *     weight = sum over weighers of multiplier * normalised value
 *
 * highest first.  A positive multiplier spreads instances (more free room
 * is better), a negative one stacks them.  Nova's names and defaults:
 *
 *   RAMWeigher                          free RAM (MiB)       1.0
 *   CPUWeigher                          free vCPUs           1.0
 *   DiskWeigher                         free disk (MiB)      1.0
 *   ServerGroupSoftAffinityWeigher      group members here   1.0
 *   ServerGroupSoftAntiAffinityWeigher  -group members here  1.0
 *
 * The two server-group weighers apply only to requests with the matching
 * soft policy.
 *
 * 'struct sched_weigh_norm' folds normalisation and multiplier into one
 * multiply-add per host, computed once per decision from the minimum and
 * maximum seen while filtering. */
#ifndef CHILD_CELL_SCHED_WEIGH_H
#define CHILD_CELL_SCHED_WEIGH_H 1

#include <stdbool.h>
#include <stddef.h>

struct sched_host;
struct sched_spec_ctx;

/* Nova's default weight multiplier. */
#define SCHED_WEIGH_DEFAULT_MULTIPLIER 1.0

/* Returns the raw value of 'host' for the request. */
typedef double sched_weigh_value_func(const struct sched_host *host,
                                      const struct sched_spec_ctx *ctx);
/* The same over a batch: stores in 'values[i]' the raw value of
 * 'hosts[indices[i]]', for 'n' indices. */
typedef void sched_weigh_batch_func(const struct sched_host *hosts,
                                    const size_t *indices, size_t n,
                                    const struct sched_spec_ctx *ctx,
                                    double *values);
/* Returns false if the weigher has nothing to say about the request. */
typedef bool sched_weigh_applies_func(const struct sched_spec_ctx *ctx);

/* A weigher, offered per host and per batch (as filters are). */
struct sched_weigher {
    const char *name;                   /* Nova's class name. */
    sched_weigh_applies_func *applies;  /* NULL: always applies. */
    sched_weigh_value_func *value;
    sched_weigh_batch_func *values;
};

/* Normalisation of one weigher over one decision's hosts. */
struct sched_weigh_norm {
    double min;
    double scale;               /* multiplier / (max - min), or 0. */
};

/* Returns the weigher named 'name' (exact), or NULL. */
const struct sched_weigher *sched_weigh_find(const char *name);

/* Returns the weigher table and stores its length in '*ret_n'. */
const struct sched_weigher *sched_weigh_table(size_t *ret_n);

/* Returns true if 'weigher' takes part in deciding 'ctx'. */
bool sched_weigh_applies(const struct sched_weigher *weigher,
                         const struct sched_spec_ctx *ctx);

/* Prepares 'norm' for raw values between 'min' and 'max' and
 * 'multiplier'. */
void sched_weigh_norm_init(struct sched_weigh_norm *norm, double min,
                           double max, double multiplier);

/* Returns multiplier * (value - min) / (max - min): 0 if max == min. */
static inline double
sched_weigh_norm_apply(const struct sched_weigh_norm *norm, double value)
{
    return norm->scale * (value - norm->min);
}

#endif /* CHILD_CELL_SCHED_WEIGH_H */
