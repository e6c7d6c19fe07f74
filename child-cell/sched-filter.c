/* sched-filter.c: the scheduler's host filters (see sched-filter.h).
 *
 * The resource filters compare integers that sched_host_update() derived
 * from the report (free = floor(total * ratio) - reserved - used -
 * claimed), so a host exactly full for the flavor passes and one MiB more
 * fails, with no floating point per host. */
#include <config.h>
#include "child-cell/sched-filter.h"

#include <string.h>
#include <strings.h>

#include "child-cell/sched-host.h"
#include "child-cell/sched-names.h"
#include "child-cell/sched-spec.h"
#include "shared/compiler.h"

/* Defines sched_filter_NAME_batch() from sched_filter_NAME_passes(),
 * which the compiler inlines into the loop.  The compaction has no branch:
 * every index is written at the next free slot, which only advances when
 * the host passes (slot <= i, so nothing unread is overwritten). */
#define SCHED_FILTER_BATCH(NAME)                                        \
    static size_t                                                       \
    sched_filter_##NAME##_batch(const struct sched_host *hosts,         \
                                size_t *indices, size_t n,              \
                                const struct sched_spec_ctx *ctx)       \
    {                                                                   \
        size_t n_kept = 0;                                              \
                                                                        \
        for (size_t i = 0; i < n; i++) {                                \
            size_t index = indices[i];                                  \
                                                                        \
            indices[n_kept] = index;                                    \
            n_kept += sched_filter_##NAME##_passes(&hosts[index], ctx); \
        }                                                               \
        return n_kept;                                                  \
    }

/* A table entry for filter NAME. */
#define SCHED_FILTER_ENTRY(CLASS, APPLIES, NAME)                        \
    { CLASS, APPLIES, sched_filter_##NAME##_passes,                     \
      sched_filter_##NAME##_batch }

/* Returns true if 'host' appears in 'set' (NULL is empty). */
static bool
sched_filter_host_in(const struct sched_host *host,
                     const struct sched_names *set)
{
    return set && sched_names_count(set, host->host, host->name_hash) > 0;
}

/* ComputeFilter: the compute service is enabled and reporting. */
static bool
sched_filter_compute_passes(const struct sched_host *host,
                            const struct sched_spec_ctx *ctx)
{
    return host->enabled && host->up;
}

/* RamFilter. */
static bool
sched_filter_ram_passes(const struct sched_host *host,
                        const struct sched_spec_ctx *ctx)
{
    return host->free_memory_mb >= ctx->memory_mb;
}

/* DiskFilter: root + ephemeral + swap. */
static bool
sched_filter_disk_passes(const struct sched_host *host,
                         const struct sched_spec_ctx *ctx)
{
    return host->free_disk_mb >= ctx->disk_mb;
}

/* CoreFilter.  As in Nova, an instance may not have more vCPUs than the
 * host has physical ones, whatever the ratio: it would overcommit against
 * itself.  'fit_vcpus' folds both limits. */
static bool
sched_filter_core_passes(const struct sched_host *host,
                         const struct sched_spec_ctx *ctx)
{
    return host->fit_vcpus >= ctx->vcpus;
}

/* AvailabilityZoneFilter. */
static bool
sched_filter_az_applies(const struct sched_spec_ctx *ctx)
{
    return ctx->availability_zone != NULL;
}

static bool
sched_filter_az_passes(const struct sched_host *host,
                       const struct sched_spec_ctx *ctx)
{
    const char *az;

    if (host->az_hash != ctx->az_hash) {
        return false;
    }
    az = host->availability_zone ? host->availability_zone
         : SCHED_HOST_DEFAULT_AZ;
    return !strcmp(az, ctx->availability_zone);
}

/* Returns true if 'requested' (hash 'hash') is NULL or equals 'have'
 * (hash 'have_hash'), ignoring case. */
static bool
sched_filter_property_matches(const char *requested, uint32_t hash,
                              const char *have, uint32_t have_hash)
{
    return (!requested
            || (hash == have_hash && have && !strcasecmp(have, requested)));
}

/* ImagePropertiesFilter: a host that does not say what it runs cannot
 * satisfy an image that asks. */
static bool
sched_filter_image_applies(const struct sched_spec_ctx *ctx)
{
    return ctx->architecture || ctx->hypervisor_type;
}

static bool
sched_filter_image_passes(const struct sched_host *host,
                          const struct sched_spec_ctx *ctx)
{
    return (sched_filter_property_matches(ctx->architecture, ctx->arch_hash,
                                          host->architecture,
                                          host->arch_hash)
            && sched_filter_property_matches(ctx->hypervisor_type,
                                             ctx->hv_hash,
                                             host->hypervisor_type,
                                             host->hv_hash));
}

/* ServerGroupAffinityFilter: the first member goes anywhere; after that
 * only a host that already holds a member will do. */
static bool
sched_filter_affinity_applies(const struct sched_spec_ctx *ctx)
{
    return ctx->spec->group_policy == SCHED_SPEC_POLICY_AFFINITY;
}

static bool
sched_filter_affinity_passes(const struct sched_host *host,
                             const struct sched_spec_ctx *ctx)
{
    return (!ctx->group_hosts || !ctx->group_hosts->n_entries
            || sched_filter_host_in(host, ctx->group_hosts));
}

/* ServerGroupAntiAffinityFilter. */
static bool
sched_filter_anti_affinity_applies(const struct sched_spec_ctx *ctx)
{
    return ctx->spec->group_policy == SCHED_SPEC_POLICY_ANTI_AFFINITY;
}

static bool
sched_filter_anti_affinity_passes(const struct sched_host *host,
                                  const struct sched_spec_ctx *ctx)
{
    return !sched_filter_host_in(host, ctx->group_hosts);
}

/* force_hosts: only the listed hosts. */
static bool
sched_filter_force_applies(const struct sched_spec_ctx *ctx)
{
    return ctx->force_hosts && ctx->force_hosts->n_entries;
}

static bool
sched_filter_force_passes(const struct sched_host *host,
                          const struct sched_spec_ctx *ctx)
{
    return sched_filter_host_in(host, ctx->force_hosts);
}

/* ignore_hosts: anything but the listed hosts. */
static bool
sched_filter_ignore_applies(const struct sched_spec_ctx *ctx)
{
    return ctx->ignore_hosts && ctx->ignore_hosts->n_entries;
}

static bool
sched_filter_ignore_passes(const struct sched_host *host,
                           const struct sched_spec_ctx *ctx)
{
    return !sched_filter_host_in(host, ctx->ignore_hosts);
}

SCHED_FILTER_BATCH(compute)
SCHED_FILTER_BATCH(ram)
SCHED_FILTER_BATCH(disk)
SCHED_FILTER_BATCH(core)
SCHED_FILTER_BATCH(az)
SCHED_FILTER_BATCH(image)
SCHED_FILTER_BATCH(affinity)
SCHED_FILTER_BATCH(anti_affinity)
SCHED_FILTER_BATCH(force)
SCHED_FILTER_BATCH(ignore)

const struct sched_filter sched_filter_force_hosts =
    SCHED_FILTER_ENTRY("force_hosts", sched_filter_force_applies, force);

const struct sched_filter sched_filter_ignore_hosts =
    SCHED_FILTER_ENTRY("ignore_hosts", sched_filter_ignore_applies, ignore);

static const struct sched_filter sched_filters[] = {
    SCHED_FILTER_ENTRY("ComputeFilter", NULL, compute),
    SCHED_FILTER_ENTRY("RamFilter", NULL, ram),
    SCHED_FILTER_ENTRY("DiskFilter", NULL, disk),
    SCHED_FILTER_ENTRY("CoreFilter", NULL, core),
    SCHED_FILTER_ENTRY("AvailabilityZoneFilter", sched_filter_az_applies,
                       az),
    SCHED_FILTER_ENTRY("ImagePropertiesFilter", sched_filter_image_applies,
                       image),
    SCHED_FILTER_ENTRY("ServerGroupAffinityFilter",
                       sched_filter_affinity_applies, affinity),
    SCHED_FILTER_ENTRY("ServerGroupAntiAffinityFilter",
                       sched_filter_anti_affinity_applies, anti_affinity),
};

const struct sched_filter *
sched_filter_find(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(sched_filters); i++) {
        if (!strcmp(sched_filters[i].name, name)) {
            return &sched_filters[i];
        }
    }
    return NULL;
}

const struct sched_filter *
sched_filter_table(size_t *ret_n)
{
    *ret_n = ARRAY_SIZE(sched_filters);
    return sched_filters;
}

bool
sched_filter_applies(const struct sched_filter *filter,
                     const struct sched_spec_ctx *ctx)
{
    return !filter->applies || filter->applies(ctx);
}
