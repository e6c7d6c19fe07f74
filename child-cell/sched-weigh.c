/* sched-weigh.c: the scheduler's host weighers (see sched-weigh.h).
 *
 * The resource weighers return values sched_host_update() already derived
 * (Nova's HostState.free_ram_mb, free_disk_mb and vcpus_total * ratio -
 * vcpus_used), so weighing a host is a load per weigher. */
#include <config.h>
#include "child-cell/sched-weigh.h"

#include <string.h>

#include "child-cell/sched-host.h"
#include "child-cell/sched-names.h"
#include "child-cell/sched-spec.h"
#include "shared/compiler.h"

/* Defines sched_weigh_NAME_values() from sched_weigh_NAME_value(), which
 * the compiler inlines into the loop. */
#define SCHED_WEIGH_BATCH(NAME)                                         \
    static void                                                         \
    sched_weigh_##NAME##_values(const struct sched_host *hosts,         \
                                const size_t *indices, size_t n,        \
                                const struct sched_spec_ctx *ctx,       \
                                double *values)                         \
    {                                                                   \
        for (size_t i = 0; i < n; i++) {                                \
            values[i] = sched_weigh_##NAME##_value(&hosts[indices[i]],  \
                                                   ctx);                \
        }                                                               \
    }

/* A table entry for weigher NAME. */
#define SCHED_WEIGH_ENTRY(CLASS, APPLIES, NAME)                         \
    { CLASS, APPLIES, sched_weigh_##NAME##_value,                       \
      sched_weigh_##NAME##_values }

/* RAMWeigher. */
static double
sched_weigh_ram_value(const struct sched_host *host,
                      const struct sched_spec_ctx *ctx)
{
    return host->weigh_memory_mb;
}

/* CPUWeigher. */
static double
sched_weigh_cpu_value(const struct sched_host *host,
                      const struct sched_spec_ctx *ctx)
{
    return host->weigh_vcpus;
}

/* DiskWeigher. */
static double
sched_weigh_disk_value(const struct sched_host *host,
                       const struct sched_spec_ctx *ctx)
{
    return host->weigh_disk_mb;
}

/* ServerGroupSoftAffinityWeigher: how many members of the request's group
 * 'host' holds.  More members, higher weight. */
static double
sched_weigh_soft_affinity_value(const struct sched_host *host,
                                const struct sched_spec_ctx *ctx)
{
    if (!ctx->group_hosts) {
        return 0.0;
    }
    return sched_names_count(ctx->group_hosts, host->host, host->name_hash);
}

static bool
sched_weigh_soft_affinity_applies(const struct sched_spec_ctx *ctx)
{
    return ctx->spec->group_policy == SCHED_SPEC_POLICY_SOFT_AFFINITY;
}

/* ServerGroupSoftAntiAffinityWeigher: more members, lower weight. */
static bool
sched_weigh_soft_anti_affinity_applies(const struct sched_spec_ctx *ctx)
{
    return ctx->spec->group_policy == SCHED_SPEC_POLICY_SOFT_ANTI_AFFINITY;
}

static double
sched_weigh_soft_anti_affinity_value(const struct sched_host *host,
                                     const struct sched_spec_ctx *ctx)
{
    return -sched_weigh_soft_affinity_value(host, ctx);
}

SCHED_WEIGH_BATCH(ram)
SCHED_WEIGH_BATCH(cpu)
SCHED_WEIGH_BATCH(disk)
SCHED_WEIGH_BATCH(soft_affinity)
SCHED_WEIGH_BATCH(soft_anti_affinity)

static const struct sched_weigher sched_weighers[] = {
    SCHED_WEIGH_ENTRY("RAMWeigher", NULL, ram),
    SCHED_WEIGH_ENTRY("CPUWeigher", NULL, cpu),
    SCHED_WEIGH_ENTRY("DiskWeigher", NULL, disk),
    SCHED_WEIGH_ENTRY("ServerGroupSoftAffinityWeigher",
                      sched_weigh_soft_affinity_applies, soft_affinity),
    SCHED_WEIGH_ENTRY("ServerGroupSoftAntiAffinityWeigher",
                      sched_weigh_soft_anti_affinity_applies,
                      soft_anti_affinity),
};

const struct sched_weigher *
sched_weigh_find(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(sched_weighers); i++) {
        if (!strcmp(sched_weighers[i].name, name)) {
            return &sched_weighers[i];
        }
    }
    return NULL;
}

const struct sched_weigher *
sched_weigh_table(size_t *ret_n)
{
    *ret_n = ARRAY_SIZE(sched_weighers);
    return sched_weighers;
}

bool
sched_weigh_applies(const struct sched_weigher *weigher,
                    const struct sched_spec_ctx *ctx)
{
    return !weigher->applies || weigher->applies(ctx);
}

void
sched_weigh_norm_init(struct sched_weigh_norm *norm, double min, double max,
                      double multiplier)
{
    norm->min = min;
    norm->scale = max > min ? multiplier / (max - min) : 0.0;
}
