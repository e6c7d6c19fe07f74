/* cell-sched-weigh.c: the cell scheduler's weighers (see
 * cell-sched-weigh.h and, for the formula, cell-sched.h). */
#include <config.h>
#include "cells-rpc/cell-sched-weigh.h"

#include <string.h>

#include "cells-rpc/cell-capacity.h"
#include "cells-rpc/cell-health.h"
#include "cells-rpc/cell-sched-filter.h"
#include "cells-rpc/cell-sched.h"
#include "shared/compiler.h"

/* Nova's cells mute_weight_multiplier. */
#define CELL_SCHED_WEIGH_MUTE_MULTIPLIER -10000.0

/* FreeUnitsWeigher: free units for the requested flavor size; 0 for a
 * cell that never reported. */
static double
cell_sched_weigh_free_units(const struct cell_sched_candidate *candidate,
                            const struct cell_sched_ctx *ctx)
{
    if (!candidate->capacity) {
        return 0.0;
    }
    /* At most CELL_CAPACITY_MAX_AMOUNT (2^53): exact as a double. */
    return (double) cell_capacity_units(candidate->capacity,
                                        &ctx->request->flavor, NULL);
}

/* WeightOffsetWeigher: the operator's offset. */
static double
cell_sched_weigh_offset(const struct cell_sched_candidate *candidate,
                        const struct cell_sched_ctx *ctx)
{
    (void) ctx;
    return candidate->weight_offset;
}

/* MuteChildWeigher: 1 for a child that is mute or half-open. */
static double
cell_sched_weigh_mute(const struct cell_sched_candidate *candidate,
                      const struct cell_sched_ctx *ctx)
{
    enum cell_health_state state;

    if (!candidate->health) {
        return 0.0;
    }
    state = cell_health_state(candidate->health, ctx->request->now_ms);
    return (state == CELL_HEALTH_MUTE || state == CELL_HEALTH_HALF_OPEN
            ? 1.0 : 0.0);
}

static const struct cell_sched_weigher cell_sched_weighers[] = {
    { "FreeUnitsWeigher", CELL_SCHED_WEIGH_NORMALISED, 1.0,
      cell_sched_weigh_free_units },
    { "WeightOffsetWeigher", CELL_SCHED_WEIGH_OFFSET, 1.0,
      cell_sched_weigh_offset },
    { "MuteChildWeigher", CELL_SCHED_WEIGH_DEMOTE,
      CELL_SCHED_WEIGH_MUTE_MULTIPLIER, cell_sched_weigh_mute },
};

const struct cell_sched_weigher *
cell_sched_weigh_find(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(cell_sched_weighers); i++) {
        if (!strcmp(cell_sched_weighers[i].name, name)) {
            return &cell_sched_weighers[i];
        }
    }
    return NULL;
}

const struct cell_sched_weigher *
cell_sched_weigh_table(size_t *ret_n)
{
    *ret_n = ARRAY_SIZE(cell_sched_weighers);
    return cell_sched_weighers;
}
