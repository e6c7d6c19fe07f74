/* scheduler.c: filter, weigh, pick and claim (see scheduler.h).
 *
 * One decision is two loops.  scheduler_filter() walks its source (every
 * host, or the survivors of the previous instance of the same request) in
 * blocks of SCHEDULER_BLOCK_SIZE host indices.  Each active filter's batch
 * form narrows the block in one call, then each active weigher's batch
 * form writes the survivors' raw values into that weigher's column of the
 * candidate arrays, while the minimum and maximum of each column are
 * tracked.  Working per block keeps the filter and weigher loops tight
 * (their per-host predicates are inlined into them) and costs one indirect
 * call per filter per block instead of per host, while the block's host
 * states stay in the L1 cache from the first filter to the last weigher:
 * it is still a single pass over the host states, which the hardware
 * prefetcher streams in (software prefetching measured no better).  The
 * hosts each filter removed are counted, which is all a NoValidHost
 * message needs.
 *
 * scheduler_weigh() then folds normalisation and multipliers into one
 * multiply-add per weigher and candidate and keeps the best k candidates
 * by insertion into a k-slot array (k is 1 plus the alternates, at most
 * 65), scanning in host order so that an equal weight never displaces an
 * earlier host.
 *
 * All scratch space lives in 'struct scheduler' and grows to the largest
 * host count seen, so a decision in steady state allocates only its
 * result. */
#include <config.h>
#include "child-cell/scheduler.h"

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "child-cell/sched-filter.h"
#include "child-cell/sched-host.h"
#include "child-cell/sched-names.h"
#include "child-cell/sched-spec.h"
#include "child-cell/sched-weigh.h"
#include "shared/error.h"
#include "shared/log.h"
#include "shared/xalloc.h"

LOG_MODULE("scheduler");

/* Most weighers in one configuration: each table entry at most once. */
#define SCHEDULER_MAX_WEIGHERS 8
/* Most hosts kept per weighing pass: one pick plus its alternates. */
#define SCHEDULER_MAX_TOP (SCHED_SPEC_MAX_ALTERNATES + 1)
/* Filters that may run in one decision: the configured ones plus
 * ignore_hosts and force_hosts. */
#define SCHEDULER_N_HOST_LIST_FILTERS 2
/* Hosts filtered and weighed together: large enough to make the calls per
 * block negligible, small enough for the block's host states to stay in
 * the L1 cache. */
#define SCHEDULER_BLOCK_SIZE 64

struct scheduler_weigher {
    const struct sched_weigher *weigher;
    double multiplier;
};

struct scheduler {
    /* Configuration. */
    const struct sched_filter **filters;
    size_t n_filters;
    struct scheduler_weigher weighers[SCHEDULER_MAX_WEIGHERS];
    size_t n_weighers;
    uint64_t next_claim_id;

    /* The decision in progress: filters and weighers that apply. */
    const struct sched_filter **active;
    size_t *n_rejected;         /* Per active filter, for the last pass. */
    size_t n_active;
    const struct scheduler_weigher *active_weighers[SCHEDULER_MAX_WEIGHERS];
    size_t n_active_weighers;
    double min[SCHEDULER_MAX_WEIGHERS];
    double max[SCHEDULER_MAX_WEIGHERS];

    /* Survivors of the last pass: host index and raw weigher values, one
     * column of 'allocated_cands' values per active weigher. */
    size_t *cand_hosts;
    double *cand_values;
    double *cand_weights;       /* Weight of each candidate. */
    size_t n_cands;
    size_t allocated_cands;

    /* Best hosts of the last weighing, best first. */
    struct scheduler_pick top[SCHEDULER_MAX_TOP];
    size_t n_top;

    /* The request's host sets. */
    struct sched_names group_hosts;
    struct sched_names force_hosts;
    struct sched_names ignore_hosts;
};

static const char *const scheduler_default_filters[] = {
    SCHEDULER_DEFAULT_FILTERS
};

/* Returns 'list' (freed) with ", 'name'" appended; "" starts a list. */
static char *
scheduler_append_name(char *list, const char *name)
{
    char *longer = xasprintf("%s%s%s", list, *list ? ", " : "", name);

    free(list);
    return longer;
}

/* Returns "A, B, C": the known filters.  The caller frees it. */
static char *
scheduler_known_filters(void)
{
    size_t n;
    const struct sched_filter *table = sched_filter_table(&n);
    char *list = xstrdup("");

    for (size_t i = 0; i < n; i++) {
        list = scheduler_append_name(list, table[i].name);
    }
    return list;
}

/* Returns "A, B, C": the known weighers.  The caller frees it. */
static char *
scheduler_known_weighers(void)
{
    size_t n;
    const struct sched_weigher *table = sched_weigh_table(&n);
    char *list = xstrdup("");

    for (size_t i = 0; i < n; i++) {
        list = scheduler_append_name(list, table[i].name);
    }
    return list;
}

static struct error *
scheduler_config_filters(struct scheduler *sched,
                         const struct scheduler_config *config)
{
    const char *const *names = config->filters;
    size_t n = config->n_filters;

    if (!names) {
        names = scheduler_default_filters;
        n = ARRAY_SIZE(scheduler_default_filters);
    }
    sched->filters = xcalloc(n ? n : 1, sizeof *sched->filters);
    for (size_t i = 0; i < n; i++) {
        const struct sched_filter *filter = sched_filter_find(names[i]);

        if (!filter) {
            AUTOFREE char *known = scheduler_known_filters();

            return error_new(ERROR_INVALID,
                             "Unknown scheduler filter '%s'; known filters "
                             "are: %s", names[i], known);
        }
        for (size_t j = 0; j < sched->n_filters; j++) {
            if (sched->filters[j] == filter) {
                return error_new(ERROR_INVALID,
                                 "Scheduler filter '%s' is listed twice",
                                 names[i]);
            }
        }
        sched->filters[sched->n_filters++] = filter;
    }
    return NULL;
}

/* Adds 'name' with 'multiplier' to the weighers of 'sched'. */
static struct error *
scheduler_add_weigher(struct scheduler *sched, const char *name,
                      double multiplier)
{
    const struct sched_weigher *weigher = sched_weigh_find(name);

    if (!weigher) {
        AUTOFREE char *known = scheduler_known_weighers();

        return error_new(ERROR_INVALID,
                         "Unknown scheduler weigher '%s'; known weighers "
                         "are: %s", name, known);
    }
    if (!isfinite(multiplier)) {
        return error_new(ERROR_INVALID,
                         "Multiplier of scheduler weigher '%s' must be a "
                         "finite number", name);
    }
    for (size_t i = 0; i < sched->n_weighers; i++) {
        if (sched->weighers[i].weigher == weigher) {
            return error_new(ERROR_INVALID,
                             "Scheduler weigher '%s' is listed twice", name);
        }
    }
    /* Duplicates are refused, so the table bounds the count. */
    sched->weighers[sched->n_weighers].weigher = weigher;
    sched->weighers[sched->n_weighers].multiplier = multiplier;
    sched->n_weighers++;
    return NULL;
}

static struct error *
scheduler_config_weighers(struct scheduler *sched,
                          const struct scheduler_config *config)
{
    struct error *error = NULL;

    if (config->weighers) {
        for (size_t i = 0; !error && i < config->n_weighers; i++) {
            error = scheduler_add_weigher(sched, config->weighers[i].name,
                                          config->weighers[i].multiplier);
        }
    } else {
        size_t n;
        const struct sched_weigher *table = sched_weigh_table(&n);

        for (size_t i = 0; !error && i < n; i++) {
            error = scheduler_add_weigher(sched, table[i].name,
                                          SCHED_WEIGH_DEFAULT_MULTIPLIER);
        }
    }
    return error;
}

struct error *
scheduler_new(const struct scheduler_config *config,
              struct scheduler **ret_sched)
{
    CLEANUP(scheduler_freep) struct scheduler *sched = xzalloc(sizeof *sched);
    struct error *error;
    size_t n_known_weighers;

    /* A table outgrowing the fixed arrays is a programming error. */
    (void) sched_weigh_table(&n_known_weighers);
    if (n_known_weighers > SCHEDULER_MAX_WEIGHERS) {
        return error_new(ERROR_INTERNAL, "Too many scheduler weighers: %zu",
                         n_known_weighers);
    }

    sched_names_init(&sched->group_hosts);
    sched_names_init(&sched->force_hosts);
    sched_names_init(&sched->ignore_hosts);
    sched->next_claim_id = 1;

    error = scheduler_config_filters(sched, config);
    if (!error) {
        error = scheduler_config_weighers(sched, config);
    }
    if (error) {
        return error;
    }
    sched->active = xcalloc(sched->n_filters + SCHEDULER_N_HOST_LIST_FILTERS,
                            sizeof *sched->active);
    sched->n_rejected = xcalloc(sched->n_filters
                                + SCHEDULER_N_HOST_LIST_FILTERS,
                                sizeof *sched->n_rejected);
    *ret_sched = TAKE_PTR(sched);
    return NULL;
}

void
scheduler_free(struct scheduler *sched)
{
    if (!sched) {
        return;
    }
    free(sched->filters);
    free(sched->active);
    free(sched->n_rejected);
    free(sched->cand_hosts);
    free(sched->cand_values);
    free(sched->cand_weights);
    sched_names_destroy(&sched->group_hosts);
    sched_names_destroy(&sched->force_hosts);
    sched_names_destroy(&sched->ignore_hosts);
    free(sched);
}

void
scheduler_selection_free(struct scheduler_selection *selection)
{
    free(selection);
}

/* Allocates a selection for 'n_dests' instances and 'n_alternates' shared
 * alternate slots, in one block. */
static struct scheduler_selection *
scheduler_selection_new(size_t n_dests, size_t n_alternates)
{
    size_t size = (sizeof(struct scheduler_selection)
                   + n_dests * sizeof(struct scheduler_dest)
                   + n_alternates * sizeof(struct scheduler_pick));
    struct scheduler_selection *selection = xzalloc(size);

    /* Every member is 8-byte aligned, so the arrays follow each other. */
    selection->dests = (struct scheduler_dest *) (selection + 1);
    selection->n_dests = n_dests;
    for (size_t i = 0; i < n_dests; i++) {
        selection->dests[i].alternates =
            (struct scheduler_pick *) (selection->dests + n_dests);
    }
    return selection;
}

size_t
scheduler_release_selection(struct sched_host *hosts, size_t n_hosts,
                            const struct scheduler_selection *selection)
{
    size_t n_released = 0;

    for (size_t i = 0; i < selection->n_dests; i++) {
        const struct scheduler_dest *dest = &selection->dests[i];

        if (dest->host < n_hosts
            && !sched_host_release(&hosts[dest->host], dest->claim_id)) {
            n_released++;
        }
    }
    return n_released;
}

/* Loads the request's host lists into the scheduler's sets. */
static void
scheduler_load_names(struct sched_names *set, const char *const *names,
                     size_t n)
{
    sched_names_clear(set);
    for (size_t i = 0; i < n; i++) {
        sched_names_add(set, names[i]);
    }
}

/* Prepares 'ctx' and the active filters and weighers for 'spec'. */
static void
scheduler_prepare(struct scheduler *sched, const struct sched_spec *spec,
                  struct sched_spec_ctx *ctx)
{
    static const struct sched_filter *const host_list_filters[] = {
        &sched_filter_ignore_hosts, &sched_filter_force_hosts,
    };

    scheduler_load_names(&sched->group_hosts, spec->group_hosts,
                         spec->n_group_hosts);
    scheduler_load_names(&sched->force_hosts, spec->force_hosts,
                         spec->n_force_hosts);
    scheduler_load_names(&sched->ignore_hosts, spec->ignore_hosts,
                         spec->n_ignore_hosts);
    sched_spec_ctx_init(ctx, spec, &sched->group_hosts, &sched->force_hosts,
                        &sched->ignore_hosts);

    sched->n_active = 0;
    for (size_t i = 0; i < ARRAY_SIZE(host_list_filters); i++) {
        if (sched_filter_applies(host_list_filters[i], ctx)) {
            sched->active[sched->n_active++] = host_list_filters[i];
        }
    }
    for (size_t i = 0; i < sched->n_filters; i++) {
        if (sched_filter_applies(sched->filters[i], ctx)) {
            sched->active[sched->n_active++] = sched->filters[i];
        }
    }

    sched->n_active_weighers = 0;
    for (size_t i = 0; i < sched->n_weighers; i++) {
        const struct scheduler_weigher *w = &sched->weighers[i];

        if (w->multiplier != 0.0 && sched_weigh_applies(w->weigher, ctx)) {
            sched->active_weighers[sched->n_active_weighers++] = w;
        }
    }
}

/* Makes room for 'n_hosts' candidates.  The arrays hold nothing between
 * requests, so they are replaced rather than resized. */
static void
scheduler_reserve(struct scheduler *sched, size_t n_hosts)
{
    if (n_hosts > sched->allocated_cands) {
        free(sched->cand_hosts);
        free(sched->cand_values);
        free(sched->cand_weights);
        sched->cand_hosts = xcalloc(n_hosts, sizeof *sched->cand_hosts);
        /* No overflow: 'hosts' holds n_hosts structs, each far larger
         * than SCHEDULER_MAX_WEIGHERS bytes. */
        sched->cand_values = xcalloc(n_hosts * (sched->n_weighers
                                                ? sched->n_weighers : 1),
                                     sizeof *sched->cand_values);
        sched->cand_weights = xcalloc(n_hosts, sizeof *sched->cand_weights);
        sched->allocated_cands = n_hosts;
    }
}

/* Returns the column of weigher 'w' in the candidate arrays. */
static double *
scheduler_column(const struct scheduler *sched, size_t w)
{
    return &sched->cand_values[w * sched->allocated_cands];
}

/* Widens ['*lo', '*hi'] to hold the 'n' 'values'.  Four independent
 * minimums and maximums, so that the loop is not one long chain of
 * dependent comparisons. */
static void
scheduler_widen_range(const double *values, size_t n, double *lo,
                      double *hi)
{
    double l[4] = { *lo, *lo, *lo, *lo };
    double h[4] = { *hi, *hi, *hi, *hi };
    size_t i = 0;

    for (; i + 4 <= n; i += 4) {
        for (size_t j = 0; j < 4; j++) {
            l[j] = values[i + j] < l[j] ? values[i + j] : l[j];
            h[j] = values[i + j] > h[j] ? values[i + j] : h[j];
        }
    }
    for (; i < n; i++) {
        l[0] = values[i] < l[0] ? values[i] : l[0];
        h[0] = values[i] > h[0] ? values[i] : h[0];
    }
    for (size_t j = 1; j < 4; j++) {
        l[0] = l[j] < l[0] ? l[j] : l[0];
        h[0] = h[j] > h[0] ? h[j] : h[0];
    }
    *lo = l[0];
    *hi = h[0];
}

/* Runs the active filters over the first 'n_source' hosts or, if
 * 'from_candidates', over the current candidates, which it replaces with
 * the survivors.  Returns the number of survivors. */
static size_t
scheduler_filter(struct scheduler *sched, const struct sched_spec_ctx *ctx,
                 const struct sched_host *hosts, size_t n_source,
                 bool from_candidates)
{
    const struct sched_filter *const *active = sched->active;
    const size_t n_active = sched->n_active;
    const size_t n_weighers = sched->n_active_weighers;
    size_t n_out = 0;

    memset(sched->n_rejected, 0, n_active * sizeof *sched->n_rejected);
    for (size_t w = 0; w < n_weighers; w++) {
        sched->min[w] = INFINITY;
        sched->max[w] = -INFINITY;
    }

    for (size_t start = 0; start < n_source; start += SCHEDULER_BLOCK_SIZE) {
        size_t indices[SCHEDULER_BLOCK_SIZE];
        size_t n = MIN(SCHEDULER_BLOCK_SIZE, n_source - start);

        if (from_candidates) {
            memcpy(indices, &sched->cand_hosts[start], n * sizeof *indices);
        } else {
            for (size_t i = 0; i < n; i++) {
                indices[i] = start + i;
            }
        }

        for (size_t f = 0; n && f < n_active; f++) {
            size_t n_kept = active[f]->filter(hosts, indices, n, ctx);

            sched->n_rejected[f] += n - n_kept;
            n = n_kept;
        }

        /* In place: entries up to 'start + n' were read already, and
         * 'n_out' never passes 'start'. */
        memcpy(&sched->cand_hosts[n_out], indices, n * sizeof *indices);
        for (size_t w = 0; w < n_weighers; w++) {
            double *values = scheduler_column(sched, w) + n_out;

            sched->active_weighers[w]->weigher->values(hosts, indices, n,
                                                       ctx, values);
            scheduler_widen_range(values, n, &sched->min[w],
                                  &sched->max[w]);
        }
        n_out += n;
    }
    sched->n_cands = n_out;
    return n_out;
}

static int
scheduler_compare_index(const void *a_, const void *b_)
{
    size_t a = *(const size_t *) a_;
    size_t b = *(const size_t *) b_;

    return a < b ? -1 : a > b;
}

/* Stores in 'sched->cand_weights' each candidate's weight: the sum over
 * the active weighers of multiplier * normalised value.  Column by column,
 * so each loop is a plain multiply-add over an array. */
static void
scheduler_compute_weights(struct scheduler *sched)
{
    double *restrict weights = sched->cand_weights;
    const size_t n = sched->n_cands;

    memset(weights, 0, n * sizeof *weights);
    for (size_t w = 0; w < sched->n_active_weighers; w++) {
        const double *restrict column = scheduler_column(sched, w);
        struct sched_weigh_norm norm;

        sched_weigh_norm_init(&norm, sched->min[w], sched->max[w],
                              sched->active_weighers[w]->multiplier);
        for (size_t i = 0; i < n; i++) {
            weights[i] += sched_weigh_norm_apply(&norm, column[i]);
        }
    }
}

/* Weighs the candidates and keeps the best 'k' (at most
 * SCHEDULER_MAX_TOP) in 'sched->top', skipping the host indices in
 * 'exclude' (sorted, 'n_exclude' of them). */
static void
scheduler_weigh(struct scheduler *sched, size_t k, const size_t *exclude,
                size_t n_exclude)
{
    const double *weights = sched->cand_weights;
    struct scheduler_pick *top = sched->top;
    size_t n_top = 0;

    scheduler_compute_weights(sched);
    for (size_t i = 0; i < sched->n_cands; i++) {
        double weight = weights[i];
        size_t index;
        size_t p;

        /* Strict comparisons: on equal weights the earlier host stays. */
        if (n_top == k && !(weight > top[k - 1].weight)) {
            continue;
        }
        index = sched->cand_hosts[i];
        if (n_exclude && bsearch(&index, exclude, n_exclude, sizeof *exclude,
                                 scheduler_compare_index)) {
            continue;
        }
        p = n_top < k ? n_top++ : k - 1;
        while (p > 0 && top[p - 1].weight < weight) {
            top[p] = top[p - 1];
            p--;
        }
        top[p].host = index;
        top[p].weight = weight;
    }
    sched->n_top = n_top;
}

/* Returns the NoValidHost error for a pass over 'n_source' hosts that left
 * none for instance 'instance' (0-based) of 'n_instances'. */
static struct error *
scheduler_no_valid_host(const struct scheduler *sched, size_t instance,
                        size_t n_instances, size_t n_source)
{
    AUTOFREE char *results = xstrdup("");
    const char *culprit = NULL;
    size_t start = n_source;

    if (!n_source) {
        return error_new(ERROR_NO_VALID_HOST,
                         "No valid host was found. There are not enough "
                         "hosts available. The cell has no compute nodes.");
    }
    for (size_t f = 0; f < sched->n_active && !culprit; f++) {
        size_t end = start - sched->n_rejected[f];
        AUTOFREE char *result = xasprintf("%s (start: %zu, end: %zu)",
                                          sched->active[f]->name, start,
                                          end);

        results = scheduler_append_name(results, result);
        if (!end) {
            culprit = sched->active[f]->name;
        }
        start = end;
    }
    return error_new(ERROR_NO_VALID_HOST,
                     "No valid host was found. There are not enough hosts "
                     "available. Filter %s returned 0 hosts for instance "
                     "%zu of %zu. Filter results: %s.",
                     culprit ? culprit : "(none)", instance + 1,
                     n_instances, results);
}

/* Releases the claims of the first 'n_placed' destinations, newest
 * first, so each host's claim list is as it was. */
static void
scheduler_rollback(struct sched_host *hosts,
                   const struct scheduler_selection *selection,
                   size_t n_placed)
{
    while (n_placed-- > 0) {
        const struct scheduler_dest *dest = &selection->dests[n_placed];

        (void) sched_host_release(&hosts[dest->host], dest->claim_id);
    }
}

/* Picks the alternates shared by all instances of a multi-instance
 * request: after every claim, from the hosts not selected. */
static void
scheduler_pick_alternates(struct scheduler *sched,
                          const struct sched_spec_ctx *ctx,
                          const struct sched_host *hosts,
                          struct scheduler_selection *selection,
                          size_t n_alternates)
{
    AUTOFREE size_t *selected = xcalloc(selection->n_dests,
                                        sizeof *selected);
    struct scheduler_pick *alternates = selection->dests[0].alternates;

    for (size_t i = 0; i < selection->n_dests; i++) {
        selected[i] = selection->dests[i].host;
    }
    qsort(selected, selection->n_dests, sizeof *selected,
          scheduler_compare_index);

    if (!scheduler_filter(sched, ctx, hosts, sched->n_cands, true)) {
        return;
    }
    scheduler_weigh(sched, n_alternates, selected, selection->n_dests);
    memcpy(alternates, sched->top, sched->n_top * sizeof *alternates);
    for (size_t i = 0; i < selection->n_dests; i++) {
        selection->dests[i].n_alternates = sched->n_top;
    }
}

struct error *
scheduler_select_destinations(struct scheduler *sched,
                              const struct sched_spec *spec,
                              struct sched_host *hosts, size_t n_hosts,
                              struct scheduler_selection **ret_selection)
{
    CLEANUP(scheduler_selection_freep) struct scheduler_selection *selection
        = NULL;
    size_t n_instances = spec->num_instances;
    struct sched_spec_ctx ctx;
    struct error *error;

    error = sched_spec_validate(spec);
    if (error) {
        return error;
    }
    scheduler_prepare(sched, spec, &ctx);
    scheduler_reserve(sched, n_hosts);
    selection = scheduler_selection_new(n_instances, spec->n_alternates);

    for (size_t i = 0; i < n_instances; i++) {
        /* A lone instance takes its alternates from its own pass. */
        size_t k = n_instances == 1 ? 1 + spec->n_alternates : 1;
        size_t n_source = i ? sched->n_cands : n_hosts;
        struct scheduler_dest *dest = &selection->dests[i];
        struct sched_host *host;

        if (!scheduler_filter(sched, &ctx, hosts, n_source, i > 0)) {
            error = scheduler_no_valid_host(sched, i, n_instances, n_source);
            LOG_DBG("%s", error_message(error));
            scheduler_rollback(hosts, selection, i);
            return error;
        }
        scheduler_weigh(sched, k, NULL, 0);

        dest->host = sched->top[0].host;
        dest->weight = sched->top[0].weight;
        dest->claim_id = sched->next_claim_id++;
        host = &hosts[dest->host];
        sched_host_claim(host, dest->claim_id,
                         spec->instance_uuids ? spec->instance_uuids[i]
                         : NULL,
                         ctx.vcpus, ctx.memory_mb, ctx.disk_mb);
        if (spec->group_policy != SCHED_SPEC_POLICY_NONE) {
            /* Later instances of the request see this member. */
            sched_names_add(&sched->group_hosts, host->host);
        }
        if (n_instances == 1) {
            dest->n_alternates = sched->n_top - 1;
            memcpy(dest->alternates, &sched->top[1],
                   dest->n_alternates * sizeof *dest->alternates);
        }
        LOG_DBG("instance %zu of %zu: host '%s' node '%s' (weight %g, "
                "%zu candidates), claim %llu", i + 1, n_instances,
                host->host, host->node, dest->weight, sched->n_cands,
                (unsigned long long) dest->claim_id);
    }
    if (n_instances > 1 && spec->n_alternates) {
        scheduler_pick_alternates(sched, &ctx, hosts, selection,
                                  spec->n_alternates);
    }
    *ret_selection = TAKE_PTR(selection);
    return NULL;
}
