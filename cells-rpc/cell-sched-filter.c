/* cell-sched-filter.c: the cell scheduler's filters (see cell-sched.h for
 * what each one checks, and cell-sched-filter.h for the interface).
 *
 * Paths reaching the filters were validated by the scheduler, so subtree
 * tests here are plain prefix comparisons. */
#include <config.h>
#include "cells-rpc/cell-sched-filter.h"

#include <string.h>

#include "cells-rpc/cell-capacity.h"
#include "cells-rpc/cell-health.h"
#include "cells-rpc/cell-path.h"
#include "cells-rpc/cell-sched.h"
#include "shared/compiler.h"

bool
cell_sched_filter_in_subtree(const char *root, const char *path)
{
    size_t n = strlen(root);

    return (!strncmp(root, path, n)
            && (path[n] == '\0' || path[n] == CELL_PATH_SEPARATOR));
}

bool
cell_sched_filter_is_self(const struct cell_sched_candidate *candidate,
                          const struct cell_sched_ctx *ctx)
{
    return !strcmp(candidate->path, ctx->cell_path);
}

/* RetryFilter. */
static bool
cell_sched_filter_retry_applies(const struct cell_sched_ctx *ctx)
{
    return ctx->request->n_tried > 0;
}

static bool
cell_sched_filter_retry_passes(const struct cell_sched_candidate *candidate,
                               const struct cell_sched_ctx *ctx)
{
    const struct cell_sched_request *request = ctx->request;

    for (size_t i = 0; i < request->n_tried; i++) {
        if (!strcmp(candidate->path, request->tried[i])) {
            return false;
        }
    }
    return true;
}

/* TargetCellFilter. */
static bool
cell_sched_filter_target_applies(const struct cell_sched_ctx *ctx)
{
    return ctx->target_path != NULL;
}

static bool
cell_sched_filter_target_passes(const struct cell_sched_candidate *candidate,
                                const struct cell_sched_ctx *ctx)
{
    return !strcmp(candidate->path, ctx->target_path);
}

/* DifferentCellFilter. */
static bool
cell_sched_filter_different_applies(const struct cell_sched_ctx *ctx)
{
    return ctx->request->n_different_cell > 0;
}

static bool
cell_sched_filter_different_passes(
    const struct cell_sched_candidate *candidate,
    const struct cell_sched_ctx *ctx)
{
    const struct cell_sched_request *request = ctx->request;
    bool self = cell_sched_filter_is_self(candidate, ctx);

    for (size_t i = 0; i < request->n_different_cell; i++) {
        const char *avoid = request->different_cell[i];

        /* The candidate is, or lies inside, the listed cell... */
        if (cell_sched_filter_in_subtree(avoid, candidate->path)) {
            return false;
        }
        /* ...or is a child whose subtree holds it.  The deciding cell's
         * own hosts are not its subtree. */
        if (!self && cell_sched_filter_in_subtree(candidate->path, avoid)) {
            return false;
        }
    }
    return true;
}

/* DisabledCellFilter. */
static bool
cell_sched_filter_disabled_passes(
    const struct cell_sched_candidate *candidate,
    const struct cell_sched_ctx *ctx)
{
    (void) ctx;
    return !candidate->disabled;
}

/* CellHealthFilter. */
static bool
cell_sched_filter_health_passes(const struct cell_sched_candidate *candidate,
                                const struct cell_sched_ctx *ctx)
{
    return (!candidate->health
            || cell_health_may_schedule(candidate->health,
                                        ctx->request->now_ms));
}

/* AvailabilityZoneFilter. */
static bool
cell_sched_filter_az_applies(const struct cell_sched_ctx *ctx)
{
    return ctx->request->availability_zone != NULL;
}

static bool
cell_sched_filter_az_passes(const struct cell_sched_candidate *candidate,
                            const struct cell_sched_ctx *ctx)
{
    return (candidate->capacity
            && cell_capacity_has_zone(candidate->capacity,
                                      ctx->request->availability_zone));
}

/* ImagePropertiesFilter. */
static bool
cell_sched_filter_image_applies(const struct cell_sched_ctx *ctx)
{
    return (ctx->request->image_architecture
            || ctx->request->image_hypervisor_type);
}

static bool
cell_sched_filter_image_passes(const struct cell_sched_candidate *candidate,
                               const struct cell_sched_ctx *ctx)
{
    const struct cell_sched_request *request = ctx->request;
    const struct cell_capacity *cap = candidate->capacity;

    if (!cap) {
        return false;
    }
    return ((!request->image_architecture
             || cell_capacity_has_capability(cap, CELL_CAPACITY_ARCHITECTURE,
                                             request->image_architecture))
            && (!request->image_hypervisor_type
                || cell_capacity_has_capability(
                       cap, CELL_CAPACITY_HYPERVISOR_TYPE,
                       request->image_hypervisor_type)));
}

/* CapacityFilter. */
static bool
cell_sched_filter_capacity_passes(
    const struct cell_sched_candidate *candidate,
    const struct cell_sched_ctx *ctx)
{
    const struct cell_sched_request *request = ctx->request;

    /* num_instances is at most CELL_SCHED_MAX_INSTANCES: no overflow. */
    return (candidate->capacity
            && cell_capacity_units(candidate->capacity, &request->flavor,
                                   NULL)
               >= (int64_t) request->num_instances);
}

const struct cell_sched_filter cell_sched_filter_retry = {
    "RetryFilter", cell_sched_filter_retry_applies,
    cell_sched_filter_retry_passes,
};

/* Known filters, in the default order (CELL_SCHED_DEFAULT_FILTERS). */
static const struct cell_sched_filter cell_sched_filters[] = {
    { "TargetCellFilter", cell_sched_filter_target_applies,
      cell_sched_filter_target_passes },
    { "DifferentCellFilter", cell_sched_filter_different_applies,
      cell_sched_filter_different_passes },
    { "DisabledCellFilter", NULL, cell_sched_filter_disabled_passes },
    { "CellHealthFilter", NULL, cell_sched_filter_health_passes },
    { "AvailabilityZoneFilter", cell_sched_filter_az_applies,
      cell_sched_filter_az_passes },
    { "ImagePropertiesFilter", cell_sched_filter_image_applies,
      cell_sched_filter_image_passes },
    { "CapacityFilter", NULL, cell_sched_filter_capacity_passes },
};

const struct cell_sched_filter *
cell_sched_filter_find(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(cell_sched_filters); i++) {
        if (!strcmp(cell_sched_filters[i].name, name)) {
            return &cell_sched_filters[i];
        }
    }
    return NULL;
}

const struct cell_sched_filter *
cell_sched_filter_table(size_t *ret_n)
{
    *ret_n = ARRAY_SIZE(cell_sched_filters);
    return cell_sched_filters;
}

bool
cell_sched_filter_applies(const struct cell_sched_filter *filter,
                          const struct cell_sched_ctx *ctx)
{
    return !filter->applies || filter->applies(ctx);
}
