/* cell-sched-weigh.h: the weighers of the cell scheduler.
 *
 * A weigher gives each candidate that passed the filters a raw value.
 * How the scheduler uses it depends on the weigher's kind (cell-sched.h
 * has the whole formula):
 *
 *   CELL_SCHED_WEIGH_NORMALISED  min-max normalised over the candidates,
 *                                times the multiplier, times the
 *                                candidate's weight_scale, summed;
 *   CELL_SCHED_WEIGH_OFFSET      taken as it is, times the multiplier,
 *                                added; while such a weigher is on, the
 *                                candidates' weight_scale counts;
 *   CELL_SCHED_WEIGH_DEMOTE      with a negative multiplier, a non-zero
 *                                value orders the candidate after every
 *                                candidate whose value is zero.
 *
 * Weighers are pure: they read the candidate and the prepared request. */
#ifndef NOVA_CELL_SCHED_WEIGH_H
#define NOVA_CELL_SCHED_WEIGH_H 1

#include <stdbool.h>
#include <stddef.h>

struct cell_sched_candidate;
struct cell_sched_ctx;

enum cell_sched_weigh_kind {
    CELL_SCHED_WEIGH_NORMALISED,
    CELL_SCHED_WEIGH_OFFSET,
    CELL_SCHED_WEIGH_DEMOTE,
};

/* Returns the raw value of 'candidate' for the request of 'ctx'. */
typedef double cell_sched_weigh_value_func(
    const struct cell_sched_candidate *candidate,
    const struct cell_sched_ctx *ctx);

struct cell_sched_weigher {
    const char *name;
    enum cell_sched_weigh_kind kind;
    double default_multiplier;
    cell_sched_weigh_value_func *value;
};

/* Returns the weigher named 'name' (exact), or NULL. */
const struct cell_sched_weigher *cell_sched_weigh_find(const char *name);

/* Returns the weigher table and stores its length in '*ret_n'. */
const struct cell_sched_weigher *cell_sched_weigh_table(size_t *ret_n);

#endif /* NOVA_CELL_SCHED_WEIGH_H */
