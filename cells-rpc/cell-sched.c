/* cell-sched.c: filter and weigh child cells (see cell-sched.h).
 *
 * A decision checks the request and the candidates, prepares the context
 * (the path toward a target cell), then runs the active filters one after
 * the other over an array of surviving candidate indices, compacting it
 * in place and counting what each filter removed.  Compaction writes only
 * the entries it keeps, so when a filter keeps none the array still holds
 * the candidates that reached it: the NoValidHost message lists them.
 *
 * The survivors are copied to a scratch array of choices; each weigher
 * then adds its term to their weights (normalised weighers in a second
 * pass, once the minimum and maximum are known) or marks them demoted,
 * and the result takes them in the order (demoted, weight descending,
 * candidate index): all of them sorted, or the best max_choices kept by
 * insertion.  In random mode a Fisher-Yates shuffle replaces the weights
 * and a stable partition moves the demoted ones last.
 *
 * Children number in the tens to thousands, so nothing here is blocked
 * or vectorised the way the host scheduler is: the figures of
 * tests/bench/bench-cell-sched.c are far below a message's round trip. */
#include <config.h>
#include "cells-rpc/cell-sched.h"

#include <errno.h>
#include <math.h>         /* isfinite(), INFINITY: no libm. */
#include <stdlib.h>
#include <string.h>

#include "cells-rpc/cell-capacity.h"
#include "cells-rpc/cell-path.h"
#include "cells-rpc/cell-sched-filter.h"
#include "cells-rpc/cell-sched-weigh.h"
#include "shared/error.h"
#include "shared/log.h"
#include "shared/xalloc.h"

LOG_MODULE("cells.sched");

/* Most weighers in one configuration: each table entry at most once. */
#define CELL_SCHED_MAX_WEIGHERS 8
/* Filters that may run in one decision: the configured ones plus the
 * retry filter. */
#define CELL_SCHED_N_BUILTIN_FILTERS 1

/* splitmix64 constants (Steele, Lea and Flood, "Fast splittable
 * pseudorandom number generators", 2014). */
#define CELL_SCHED_RANDOM_GAMMA UINT64_C(0x9e3779b97f4a7c15)
#define CELL_SCHED_RANDOM_MIX1 UINT64_C(0xbf58476d1ce4e5b9)
#define CELL_SCHED_RANDOM_MIX2 UINT64_C(0x94d049bb133111eb)

struct cell_sched_weigher_entry {
    const struct cell_sched_weigher *weigher;
    double multiplier;
};

struct cell_sched {
    /* Configuration. */
    char *cell_path;
    size_t cell_path_length;
    bool may_have_children;     /* Not at the deepest level allowed. */
    enum cell_sched_mode mode;
    const struct cell_sched_filter **filters;
    size_t n_filters;
    struct cell_sched_weigher_entry weighers[CELL_SCHED_MAX_WEIGHERS];
    size_t n_weighers;
    bool scale_on;              /* An offset weigher is on. */

    /* The decision in progress. */
    const struct cell_sched_filter **active;
    size_t *n_start;            /* Per active filter: candidates in... */
    size_t *n_end;              /* ...and out. */
    size_t n_active;
    size_t *survivors;
    struct cell_sched_choice *work;     /* The survivors, weighed. */
    double *values;
    size_t allocated;
};

static const char *const cell_sched_default_filters[] = {
    CELL_SCHED_DEFAULT_FILTERS
};

static const char *const cell_sched_mode_names[] = {
#define CELL_SCHED_MODE_NAME(mode, name) [mode] = name,
    CELL_SCHED_MODES(CELL_SCHED_MODE_NAME)
#undef CELL_SCHED_MODE_NAME
};

/* ---- Names ------------------------------------------------------------ */

const char *
cell_sched_mode_to_string(enum cell_sched_mode mode)
{
    if ((size_t) mode < ARRAY_SIZE(cell_sched_mode_names)) {
        return cell_sched_mode_names[mode];
    }
    return "unknown";
}

int
cell_sched_mode_from_string(const char *name, enum cell_sched_mode *ret_mode)
{
    for (size_t i = 0; i < ARRAY_SIZE(cell_sched_mode_names); i++) {
        if (!strcmp(name, cell_sched_mode_names[i])) {
            *ret_mode = (enum cell_sched_mode) i;
            return 0;
        }
    }
    return -EINVAL;
}

/* Returns 'list' (freed) with ", 'name'" appended; "" starts a list. */
static char *
cell_sched_append_name(char *list, const char *name)
{
    char *longer = xasprintf("%s%s%s", list, *list ? ", " : "", name);

    free(list);
    return longer;
}

/* Returns "A, B, C": the known filters.  The caller frees it. */
static char *
cell_sched_known_filters(void)
{
    size_t n;
    const struct cell_sched_filter *table = cell_sched_filter_table(&n);
    char *list = xstrdup("");

    for (size_t i = 0; i < n; i++) {
        list = cell_sched_append_name(list, table[i].name);
    }
    return list;
}

/* Returns "A, B, C": the known weighers.  The caller frees it. */
static char *
cell_sched_known_weighers(void)
{
    size_t n;
    const struct cell_sched_weigher *table = cell_sched_weigh_table(&n);
    char *list = xstrdup("");

    for (size_t i = 0; i < n; i++) {
        list = cell_sched_append_name(list, table[i].name);
    }
    return list;
}

/* ---- Configuration ---------------------------------------------------- */

static struct error *
cell_sched_config_filters(struct cell_sched *sched,
                          const struct cell_sched_config *config)
{
    const char *const *names = config->filters;
    size_t n = config->n_filters;

    if (!names) {
        names = cell_sched_default_filters;
        n = ARRAY_SIZE(cell_sched_default_filters);
    }
    sched->filters = xcalloc(n ? n : 1, sizeof *sched->filters);
    for (size_t i = 0; i < n; i++) {
        const struct cell_sched_filter *filter =
            cell_sched_filter_find(names[i]);

        if (!filter) {
            AUTOFREE char *known = cell_sched_known_filters();

            return error_new(ERROR_INVALID,
                             "Unknown cell scheduler filter '%s'; known "
                             "filters are: %s", names[i], known);
        }
        for (size_t j = 0; j < sched->n_filters; j++) {
            if (sched->filters[j] == filter) {
                return error_new(ERROR_INVALID,
                                 "Cell scheduler filter '%s' is listed "
                                 "twice", names[i]);
            }
        }
        sched->filters[sched->n_filters++] = filter;
    }
    return NULL;
}

static struct error *
cell_sched_add_weigher(struct cell_sched *sched, const char *name,
                       double multiplier)
{
    const struct cell_sched_weigher *weigher = cell_sched_weigh_find(name);

    if (!weigher) {
        AUTOFREE char *known = cell_sched_known_weighers();

        return error_new(ERROR_INVALID,
                         "Unknown cell scheduler weigher '%s'; known "
                         "weighers are: %s", name, known);
    }
    if (!isfinite(multiplier) || multiplier > CELL_SCHED_MAX_WEIGHT
        || multiplier < -CELL_SCHED_MAX_WEIGHT) {
        return error_new(ERROR_INVALID,
                         "Multiplier of cell scheduler weigher '%s' must be "
                         "a finite number of magnitude at most %g", name,
                         CELL_SCHED_MAX_WEIGHT);
    }
    if (weigher->kind == CELL_SCHED_WEIGH_DEMOTE && multiplier > 0.0) {
        return error_new(ERROR_INVALID,
                         "Multiplier of cell scheduler weigher '%s' must be "
                         "negative (order those cells last) or 0 (off)",
                         name);
    }
    /* Duplicates are refused (cell_sched_config_weighers()), so the
     * table bounds the count. */
    if (multiplier != 0.0) {
        sched->weighers[sched->n_weighers].weigher = weigher;
        sched->weighers[sched->n_weighers].multiplier = multiplier;
        sched->n_weighers++;
        if (weigher->kind == CELL_SCHED_WEIGH_OFFSET) {
            sched->scale_on = true;
        }
    }
    return NULL;
}

static struct error *
cell_sched_config_weighers(struct cell_sched *sched,
                           const struct cell_sched_config *config)
{
    struct error *error = NULL;

    /* Weighers turned off (multiplier 0) are not stored, so duplicates
     * are found by name among those configured. */
    for (size_t i = 0; config->weighers && i < config->n_weighers; i++) {
        for (size_t j = 0; j < i; j++) {
            if (!strcmp(config->weighers[i].name,
                        config->weighers[j].name)) {
                return error_new(ERROR_INVALID,
                                 "Cell scheduler weigher '%s' is listed "
                                 "twice", config->weighers[i].name);
            }
        }
    }
    if (config->weighers) {
        for (size_t i = 0; !error && i < config->n_weighers; i++) {
            error = cell_sched_add_weigher(sched, config->weighers[i].name,
                                           config->weighers[i].multiplier);
        }
    } else {
        size_t n;
        const struct cell_sched_weigher *table = cell_sched_weigh_table(&n);

        for (size_t i = 0; !error && i < n; i++) {
            error = cell_sched_add_weigher(sched, table[i].name,
                                           table[i].default_multiplier);
        }
    }
    return error;
}

struct error *
cell_sched_new(const struct cell_sched_config *config,
               struct cell_sched **ret_sched)
{
    CLEANUP(cell_sched_freep) struct cell_sched *sched =
        xzalloc(sizeof *sched);
    size_t n_known_weighers;
    struct error *error;

    /* A table outgrowing the fixed array is a programming error. */
    (void) cell_sched_weigh_table(&n_known_weighers);
    if (n_known_weighers > CELL_SCHED_MAX_WEIGHERS) {
        return error_new(ERROR_INTERNAL,
                         "Too many cell scheduler weighers: %zu",
                         n_known_weighers);
    }
    error = cell_path_check("cell scheduler cell_path", config->cell_path);
    if (error) {
        return error;
    }
    if ((size_t) config->mode >= ARRAY_SIZE(cell_sched_mode_names)) {
        return error_new(ERROR_INVALID, "Unknown cell scheduler mode %d",
                         (int) config->mode);
    }
    sched->cell_path = xstrdup(config->cell_path);
    sched->cell_path_length = strlen(sched->cell_path);
    sched->may_have_children =
        cell_path_depth(sched->cell_path) < CELL_PATH_MAX_DEPTH;
    sched->mode = config->mode;

    error = cell_sched_config_filters(sched, config);
    if (!error) {
        error = cell_sched_config_weighers(sched, config);
    }
    if (error) {
        return error;
    }
    sched->active = xcalloc(sched->n_filters + CELL_SCHED_N_BUILTIN_FILTERS,
                            sizeof *sched->active);
    sched->n_start = xcalloc(sched->n_filters + CELL_SCHED_N_BUILTIN_FILTERS,
                             sizeof *sched->n_start);
    sched->n_end = xcalloc(sched->n_filters + CELL_SCHED_N_BUILTIN_FILTERS,
                           sizeof *sched->n_end);
    *ret_sched = TAKE_PTR(sched);
    return NULL;
}

void
cell_sched_free(struct cell_sched *sched)
{
    if (!sched) {
        return;
    }
    free(sched->cell_path);
    free(sched->filters);
    free(sched->active);
    free(sched->n_start);
    free(sched->n_end);
    free(sched->survivors);
    free(sched->work);
    free(sched->values);
    free(sched);
}

void
cell_sched_selection_free(struct cell_sched_selection *selection)
{
    free(selection);
}

void
cell_sched_request_init(struct cell_sched_request *request)
{
    *request = (struct cell_sched_request) { .num_instances = 1 };
}

/* ---- Random numbers --------------------------------------------------- */

void
cell_sched_random_init(struct cell_sched_random *rng, uint64_t seed)
{
    rng->state = seed;
}

uint64_t
cell_sched_random_next(struct cell_sched_random *rng)
{
    uint64_t z = (rng->state += CELL_SCHED_RANDOM_GAMMA);

    z = (z ^ (z >> 30)) * CELL_SCHED_RANDOM_MIX1;
    z = (z ^ (z >> 27)) * CELL_SCHED_RANDOM_MIX2;
    return z ^ (z >> 31);
}

/* Returns a uniformly distributed number in [0, 'n'), 'n' > 0: draws
 * below the largest multiple of 'n' are kept, so there is no modulo
 * bias. */
static uint64_t
cell_sched_random_below(struct cell_sched_random *rng, uint64_t n)
{
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;

    do {
        x = cell_sched_random_next(rng);
    } while (x >= limit);
    return x % n;
}

/* ---- Checking the input ----------------------------------------------- */

/* Checks optional string 'value' of request field 'what'. */
static struct error *
cell_sched_check_name(const char *what, const char *value)
{
    size_t length;

    if (!value) {
        return NULL;
    }
    length = strlen(value);
    if (!length || length > CELL_SCHED_MAX_NAME_LENGTH) {
        return error_new(ERROR_INVALID,
                         "Requested %s must have 1 to %d bytes", what,
                         CELL_SCHED_MAX_NAME_LENGTH);
    }
    return NULL;
}

/* Checks the 'n' paths of list 'what' (at most 'max'). */
static struct error *
cell_sched_check_paths(const char *what, const char *const *paths, size_t n,
                       size_t max)
{
    if (n > max) {
        return error_new(ERROR_INVALID,
                         "Scheduler hint '%s' lists %zu cells, the maximum "
                         "is %zu", what, n, max);
    }
    for (size_t i = 0; i < n; i++) {
        struct error *error = cell_path_check(what, paths[i]);

        if (error) {
            return error;
        }
    }
    return NULL;
}

static struct error *
cell_sched_check_request(const struct cell_sched *sched,
                         const struct cell_sched_request *request)
{
    struct error *error;

    /* Policy first, as Nova: a user who may not give the hint learns
     * nothing about whether the value would have been good. */
    if (request->target_cell && !request->is_admin) {
        return error_new(ERROR_FORBIDDEN,
                         "Only administrators may use the scheduler hint "
                         "'target_cell'");
    }
    if (request->num_instances < 1
        || request->num_instances > CELL_SCHED_MAX_INSTANCES) {
        return error_new(ERROR_INVALID,
                         "Number of instances %zu is outside 1..%d",
                         request->num_instances, CELL_SCHED_MAX_INSTANCES);
    }
    if ((error = cell_capacity_flavor_check("Requested flavor",
                                            &request->flavor))
        || (error = cell_sched_check_name("availability zone",
                                          request->availability_zone))
        || (error = cell_sched_check_name("image architecture",
                                          request->image_architecture))
        || (error = cell_sched_check_name("image hypervisor type",
                                          request->image_hypervisor_type))
        || (error = cell_sched_check_paths("different_cell",
                                           request->different_cell,
                                           request->n_different_cell,
                                           CELL_SCHED_MAX_HINT_CELLS))
        || (error = cell_sched_check_paths("tried cells", request->tried,
                                           request->n_tried,
                                           CELL_SCHED_MAX_TRIED))) {
        return error;
    }
    if (request->target_cell) {
        error = cell_path_check("target_cell", request->target_cell);
        if (error) {
            return error;
        }
        if (!cell_sched_filter_in_subtree(sched->cell_path,
                                          request->target_cell)) {
            return error_new(ERROR_INVALID,
                             "Target cell '%s' is not in the subtree of "
                             "cell '%s'", request->target_cell,
                             sched->cell_path);
        }
    }
    return NULL;
}

/* How a candidate's path relates to the deciding cell. */
enum cell_sched_relation {
    CELL_SCHED_SELF,            /* The cell itself (its own hosts). */
    CELL_SCHED_CHILD,
    CELL_SCHED_OTHER,           /* Not a valid candidate. */
};

/* Classifies 'path' with one comparison of the common prefix. */
static enum cell_sched_relation
cell_sched_relation(const struct cell_sched *sched, const char *path)
{
    size_t n = sched->cell_path_length;

    if (strncmp(path, sched->cell_path, n)) {
        return CELL_SCHED_OTHER;
    }
    if (path[n] == '\0') {
        return CELL_SCHED_SELF;
    }
    return (sched->may_have_children && path[n] == CELL_PATH_SEPARATOR
            && !cell_path_name_validate(path + n + 1)
            ? CELL_SCHED_CHILD : CELL_SCHED_OTHER);
}

static struct error *
cell_sched_check_candidates(const struct cell_sched *sched,
                            const struct cell_sched_candidate *candidates,
                            size_t n)
{
    bool seen_self = false;

    if (n > CELL_SCHED_MAX_CANDIDATES) {
        return error_new(ERROR_INVALID,
                         "%zu candidate cells, the maximum is %d", n,
                         CELL_SCHED_MAX_CANDIDATES);
    }
    for (size_t i = 0; i < n; i++) {
        const struct cell_sched_candidate *c = &candidates[i];

        if (!c->path) {
            return error_new(ERROR_INVALID, "Candidate cell %zu has no "
                             "path", i);
        }
        switch (cell_sched_relation(sched, c->path)) {
        case CELL_SCHED_SELF:
            if (seen_self) {
                return error_new(ERROR_INVALID,
                                 "Cell '%s' is a candidate twice", c->path);
            }
            seen_self = true;
            break;
        case CELL_SCHED_CHILD:
            break;
        case CELL_SCHED_OTHER:
        default:
            return error_new(ERROR_INVALID,
                             "Candidate cell '%s' is not a child of cell "
                             "'%s'", c->path, sched->cell_path);
        }
        if (!isfinite(c->weight_offset)
            || c->weight_offset > CELL_SCHED_MAX_WEIGHT
            || c->weight_offset < -CELL_SCHED_MAX_WEIGHT
            || !isfinite(c->weight_scale) || c->weight_scale < 0.0
            || c->weight_scale > CELL_SCHED_MAX_WEIGHT) {
            return error_new(ERROR_INVALID,
                             "Candidate cell '%s' has weight offset %g and "
                             "scale %g; the offset must be finite and of "
                             "magnitude at most %g, the scale between 0 "
                             "and %g", c->path, c->weight_offset,
                             c->weight_scale, CELL_SCHED_MAX_WEIGHT,
                             CELL_SCHED_MAX_WEIGHT);
        }
    }
    return NULL;
}

/* ---- Deciding --------------------------------------------------------- */

/* Fills 'ctx' and the active filters for 'request'.  Stores in
 * '*ret_target' the path toward a target cell, owned by the caller. */
static void
cell_sched_prepare(struct cell_sched *sched,
                   const struct cell_sched_request *request,
                   struct cell_sched_ctx *ctx, char **ret_target)
{
    *ret_target = NULL;
    *ctx = (struct cell_sched_ctx) {
        .request = request,
        .cell_path = sched->cell_path,
        .cell_path_length = sched->cell_path_length,
    };
    if (request->target_cell) {
        if (!strcmp(request->target_cell, sched->cell_path)) {
            ctx->target_path = sched->cell_path;
        } else {
            /* Checked: a strict descendant of a valid path. */
            (void) cell_path_child_toward(sched->cell_path,
                                          request->target_cell, ret_target);
            ctx->target_path = *ret_target;
        }
    }

    sched->n_active = 0;
    if (cell_sched_filter_applies(&cell_sched_filter_retry, ctx)) {
        sched->active[sched->n_active++] = &cell_sched_filter_retry;
    }
    for (size_t i = 0; i < sched->n_filters; i++) {
        if (cell_sched_filter_applies(sched->filters[i], ctx)) {
            sched->active[sched->n_active++] = sched->filters[i];
        }
    }
}

/* Makes room for 'n' candidates in the scratch arrays. */
static void
cell_sched_reserve(struct cell_sched *sched, size_t n)
{
    if (n > sched->allocated) {
        free(sched->survivors);
        free(sched->work);
        free(sched->values);
        sched->survivors = xcalloc(n, sizeof *sched->survivors);
        sched->work = xcalloc(n, sizeof *sched->work);
        sched->values = xcalloc(n, sizeof *sched->values);
        sched->allocated = n;
    }
}

/* Runs the active filters over every candidate.  Returns the number of
 * survivors, at the start of 'sched->survivors'.  When it returns 0 after
 * filter f, the first n_start[f] entries are the candidates that reached
 * f; 'sched->n_active' is then cut to f + 1. */
static size_t
cell_sched_filter(struct cell_sched *sched, const struct cell_sched_ctx *ctx,
                  const struct cell_sched_candidate *candidates, size_t n)
{
    size_t *survivors = sched->survivors;

    for (size_t i = 0; i < n; i++) {
        survivors[i] = i;
    }
    for (size_t f = 0; f < sched->n_active; f++) {
        const struct cell_sched_filter *filter = sched->active[f];
        size_t n_kept = 0;

        for (size_t i = 0; i < n; i++) {
            if (filter->passes(&candidates[survivors[i]], ctx)) {
                survivors[n_kept++] = survivors[i];
            }
        }
        sched->n_start[f] = n;
        sched->n_end[f] = n_kept;
        if (!n_kept) {
            sched->n_active = f + 1;
            return 0;
        }
        n = n_kept;
    }
    return n;
}

/* Returns how 'candidate' is named in messages: its last name, marked
 * when it stands for the deciding cell's own hosts.  The caller frees
 * it. */
static char *
cell_sched_display_name(const struct cell_sched *sched,
                        const struct cell_sched_candidate *candidate)
{
    const char *name = cell_path_last(candidate->path);

    if (!strcmp(candidate->path, sched->cell_path)) {
        return xasprintf("%s (own hosts)", name);
    }
    return xstrdup(name);
}

/* Returns the NoValidHost error for a decision in which the last active
 * filter removed every candidate left. */
static struct error *
cell_sched_no_valid_cell(const struct cell_sched *sched,
                         const struct cell_sched_candidate *candidates,
                         size_t n_candidates)
{
    AUTOFREE char *names = xstrdup("");
    AUTOFREE char *results = xstrdup("");
    size_t culprit;
    size_t n_reached;

    if (!n_candidates) {
        return error_new(ERROR_NO_VALID_HOST,
                         "No valid cell was found: cell '%s' has no "
                         "children to schedule to", sched->cell_path);
    }
    culprit = sched->n_active - 1;
    n_reached = sched->n_start[culprit];
    for (size_t i = 0; i < n_reached; i++) {
        AUTOFREE char *name = NULL;

        if (i == CELL_SCHED_MAX_NAMES_LISTED) {
            AUTOFREE char *more = xasprintf("and %zu more", n_reached - i);

            names = cell_sched_append_name(names, more);
            break;
        }
        name = cell_sched_display_name(sched,
                                       &candidates[sched->survivors[i]]);
        names = cell_sched_append_name(names, name);
    }
    for (size_t f = 0; f < sched->n_active; f++) {
        AUTOFREE char *result = xasprintf("%s (start: %zu, end: %zu)",
                                          sched->active[f]->name,
                                          sched->n_start[f],
                                          sched->n_end[f]);

        results = cell_sched_append_name(results, result);
    }
    return error_new(ERROR_NO_VALID_HOST,
                     "No valid cell was found: %s returned 0 cells "
                     "(children: %s). Filter results: %s.",
                     sched->active[culprit]->name, names, results);
}

/* Adds the terms of every weigher to the 'n' choices. */
static void
cell_sched_weigh(struct cell_sched *sched, const struct cell_sched_ctx *ctx,
                 const struct cell_sched_candidate *candidates,
                 struct cell_sched_choice *choices, size_t n)
{
    double *values = sched->values;

    for (size_t w = 0; w < sched->n_weighers; w++) {
        const struct cell_sched_weigher *weigher = sched->weighers[w].weigher;
        double multiplier = sched->weighers[w].multiplier;
        double lo = INFINITY, hi = -INFINITY;
        double scale;

        for (size_t i = 0; i < n; i++) {
            values[i] = weigher->value(&candidates[choices[i].candidate],
                                       ctx);
            lo = MIN(lo, values[i]);
            hi = MAX(hi, values[i]);
        }
        switch (weigher->kind) {
        case CELL_SCHED_WEIGH_NORMALISED:
            /* As Nova: all equal normalises to 0. */
            scale = hi > lo ? multiplier / (hi - lo) : 0.0;
            for (size_t i = 0; i < n; i++) {
                const struct cell_sched_candidate *c =
                    &candidates[choices[i].candidate];
                double term = scale * (values[i] - lo);

                choices[i].weight += (sched->scale_on
                                      ? c->weight_scale * term : term);
            }
            break;
        case CELL_SCHED_WEIGH_OFFSET:
            for (size_t i = 0; i < n; i++) {
                choices[i].weight += multiplier * values[i];
            }
            break;
        case CELL_SCHED_WEIGH_DEMOTE:
        default:
            /* Only negative multipliers are stored. */
            for (size_t i = 0; i < n; i++) {
                choices[i].demoted |= values[i] != 0.0;
            }
            break;
        }
    }
}

static int
cell_sched_compare_choices(const void *a_, const void *b_)
{
    const struct cell_sched_choice *a = a_;
    const struct cell_sched_choice *b = b_;

    if (a->demoted != b->demoted) {
        return a->demoted ? 1 : -1;
    }
    if (a->weight != b->weight) {
        return a->weight > b->weight ? -1 : 1;
    }
    return a->candidate < b->candidate ? -1 : a->candidate > b->candidate;
}

/* Stores in 'best' the first 'k' of the 'n' weighed 'choices' in the
 * order of cell_sched_compare_choices().  All of them are sorted; fewer
 * are picked by insertion into 'best', a pass over 'choices' that costs
 * little more than reading them when 'k' is small (the parent's
 * scheduler_retries), and gives the same prefix as the full sort. */
static void
cell_sched_best(struct cell_sched_choice *choices, size_t n,
                struct cell_sched_choice *best, size_t k)
{
    size_t n_best = 0;

    if (k == n) {
        qsort(choices, n, sizeof *choices, cell_sched_compare_choices);
        memcpy(best, choices, n * sizeof *best);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const struct cell_sched_choice *c = &choices[i];
        size_t p;

        if (n_best == k
            && cell_sched_compare_choices(c, &best[k - 1]) >= 0) {
            continue;
        }
        p = n_best < k ? n_best++ : k - 1;
        while (p > 0 && cell_sched_compare_choices(c, &best[p - 1]) < 0) {
            best[p] = best[p - 1];
            p--;
        }
        best[p] = *c;
    }
}

/* Random mode: shuffles the 'n' choices, then moves the demoted ones last,
 * keeping the shuffled order within each part. */
static void
cell_sched_shuffle(struct cell_sched *sched, const struct cell_sched_ctx *ctx,
                   const struct cell_sched_candidate *candidates,
                   struct cell_sched_choice *choices, size_t n,
                   struct cell_sched_random *rng)
{
    size_t *order = sched->survivors;
    size_t n_first = 0;

    for (size_t i = n; i > 1; i--) {
        size_t j = cell_sched_random_below(rng, i);
        struct cell_sched_choice tmp = choices[i - 1];

        choices[i - 1] = choices[j];
        choices[j] = tmp;
    }
    for (size_t w = 0; w < sched->n_weighers; w++) {
        const struct cell_sched_weigher *weigher = sched->weighers[w].weigher;

        if (weigher->kind != CELL_SCHED_WEIGH_DEMOTE) {
            continue;
        }
        for (size_t i = 0; i < n; i++) {
            choices[i].demoted |=
                weigher->value(&candidates[choices[i].candidate], ctx) != 0.0;
        }
    }

    /* Stable partition through the survivors array, which holds nothing
     * needed any more. */
    for (size_t i = 0; i < n; i++) {
        if (!choices[i].demoted) {
            order[n_first++] = choices[i].candidate;
        }
    }
    for (size_t i = 0, k = n_first; i < n; i++) {
        if (choices[i].demoted) {
            order[k++] = choices[i].candidate;
        }
    }
    for (size_t i = 0; i < n; i++) {
        choices[i].candidate = order[i];
        choices[i].weight = 0.0;
        choices[i].demoted = i >= n_first;
    }
}

/* Allocates a selection of 'n' choices in one block. */
static struct cell_sched_selection *
cell_sched_selection_new(size_t n)
{
    struct cell_sched_selection *selection =
        xzalloc(sizeof *selection + n * sizeof *selection->choices);

    /* Both are 8-byte aligned, so the choices follow the header. */
    selection->choices = (struct cell_sched_choice *) (selection + 1);
    selection->n_choices = n;
    return selection;
}

struct error *
cell_sched_select(struct cell_sched *sched,
                  const struct cell_sched_request *request,
                  const struct cell_sched_candidate *candidates,
                  size_t n_candidates, struct cell_sched_random *rng,
                  struct cell_sched_selection **ret_selection)
{
    CLEANUP(cell_sched_selection_freep) struct cell_sched_selection
        *selection = NULL;
    AUTOFREE char *target = NULL;
    struct cell_sched_ctx ctx;
    struct error *error;
    size_t n, k;

    if ((error = cell_sched_check_request(sched, request))
        || (error = cell_sched_check_candidates(sched, candidates,
                                                n_candidates))) {
        return error;
    }
    if (sched->mode == CELL_SCHED_RANDOM && !rng) {
        return error_new(ERROR_INTERNAL,
                         "Random cell scheduling needs a random source");
    }
    cell_sched_prepare(sched, request, &ctx, &target);
    cell_sched_reserve(sched, n_candidates);

    n = n_candidates ? cell_sched_filter(sched, &ctx, candidates,
                                         n_candidates) : 0;
    if (!n) {
        error = cell_sched_no_valid_cell(sched, candidates, n_candidates);
        LOG_DBG("%s", error_message(error));
        return error;
    }

    for (size_t i = 0; i < n; i++) {
        sched->work[i] = (struct cell_sched_choice) {
            .candidate = sched->survivors[i],
        };
    }
    k = (request->max_choices && request->max_choices < n
         ? request->max_choices : n);
    selection = cell_sched_selection_new(k);
    if (sched->mode == CELL_SCHED_RANDOM) {
        cell_sched_shuffle(sched, &ctx, candidates, sched->work, n, rng);
        memcpy(selection->choices, sched->work,
               k * sizeof *selection->choices);
    } else {
        cell_sched_weigh(sched, &ctx, candidates, sched->work, n);
        cell_sched_best(sched->work, n, selection->choices, k);
    }
    LOG_DBG("cell '%s': %zu of %zu cells passed, first '%s' (weight %g%s)",
            sched->cell_path, n, n_candidates,
            candidates[selection->choices[0].candidate].path,
            selection->choices[0].weight,
            selection->choices[0].demoted ? ", mute" : "");
    *ret_selection = TAKE_PTR(selection);
    return NULL;
}
