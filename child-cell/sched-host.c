/* sched-host.c: host state and in-flight claims (see sched-host.h).
 *
 * Every change to a report or to the claims ends in
 * sched_host_recompute(), which derives the free amounts the filters
 * compare and the raw values the weighers read, so a decision does no
 * arithmetic on ratios per host. */
#include <config.h>
#include "child-cell/sched-host.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "child-cell/sched-names.h"
#include "child-cell/sched-spec.h"
#include "shared/log.h"
#include "shared/xalloc.h"

LOG_MODULE("scheduler.host");

/* MiB in a GiB: reports give disk in GiB. */
#define SCHED_HOST_MB_PER_GB 1024
/* First size of a host's claim array. */
#define SCHED_HOST_MIN_CLAIMS 4

_Static_assert(offsetof(struct sched_host, free_vcpus)
               == SCHED_HOST_CACHE_LINE,
               "the members every decision reads must fit in a cache line");

struct sched_host *
sched_host_array_new(size_t n)
{
    return xzalloc_aligned(SCHED_HOST_CACHE_LINE, n,
                           sizeof(struct sched_host));
}

void
sched_host_array_free(struct sched_host *hosts, size_t n)
{
    if (!hosts) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        sched_host_destroy(&hosts[i]);
    }
    free(hosts);
}

void
sched_host_init(struct sched_host *host, const char *host_name,
                const char *node)
{
    memset(host, 0, sizeof *host);
    host->host = xstrdup(host_name);
    host->node = xstrdup(node);
    host->name_hash = sched_names_hash(host_name);
    host->az_hash = sched_names_hash(SCHED_HOST_DEFAULT_AZ);
    host->cpu_ratio = SCHED_HOST_DEFAULT_CPU_RATIO;
    host->ram_ratio = SCHED_HOST_DEFAULT_RAM_RATIO;
    host->disk_ratio = SCHED_HOST_DEFAULT_DISK_RATIO;
}

static void
sched_host_claim_destroy(struct sched_host_claim *claim)
{
    free(claim->instance_uuid);
}

void
sched_host_destroy(struct sched_host *host)
{
    if (!host) {
        return;
    }
    for (size_t i = 0; i < host->n_claims; i++) {
        sched_host_claim_destroy(&host->claims[i]);
    }
    free(host->claims);
    free(host->host);
    free(host->node);
    free(host->availability_zone);
    free(host->hypervisor_type);
    free(host->architecture);
    memset(host, 0, sizeof *host);
}

/* floor(total * ratio) - reserved: what may be handed out. */
static int64_t
sched_host_capacity(int64_t total, double ratio, int64_t reserved)
{
    /* The product is never negative, so truncation is floor(). */
    return (int64_t) ((double) total * ratio) - reserved;
}

int64_t
sched_host_capacity_vcpus(const struct sched_host *host)
{
    return sched_host_capacity(host->total_vcpus, host->cpu_ratio,
                               host->reserved_vcpus);
}

int64_t
sched_host_capacity_memory_mb(const struct sched_host *host)
{
    return sched_host_capacity(host->total_memory_mb, host->ram_ratio,
                               host->reserved_memory_mb);
}

int64_t
sched_host_capacity_disk_mb(const struct sched_host *host)
{
    return sched_host_capacity(host->total_disk_gb * SCHED_HOST_MB_PER_GB,
                               host->disk_ratio, host->reserved_disk_mb);
}

/* Derives the members the filters and weighers read.  The weighers'
 * values follow Nova's HostState: free vCPUs count the allocation ratio,
 * free RAM and disk do not. */
static void
sched_host_recompute(struct sched_host *host)
{
    int64_t used_vcpus = host->used_vcpus + host->claimed_vcpus;
    int64_t used_memory_mb = host->used_memory_mb + host->claimed_memory_mb;
    int64_t used_disk_mb = host->used_disk_gb * SCHED_HOST_MB_PER_GB
                           + host->claimed_disk_mb;
    int64_t total_disk_mb = host->total_disk_gb * SCHED_HOST_MB_PER_GB;

    host->free_vcpus = sched_host_capacity_vcpus(host) - used_vcpus;
    host->fit_vcpus = (host->free_vcpus < host->total_vcpus
                       ? host->free_vcpus : host->total_vcpus);
    host->free_memory_mb = sched_host_capacity_memory_mb(host)
                           - used_memory_mb;
    host->free_disk_mb = sched_host_capacity_disk_mb(host) - used_disk_mb;

    host->weigh_vcpus = (double) host->total_vcpus * host->cpu_ratio
                        - (double) (host->reserved_vcpus + used_vcpus);
    host->weigh_memory_mb = (double) (host->total_memory_mb
                                      - host->reserved_memory_mb
                                      - used_memory_mb);
    host->weigh_disk_mb = (double) (total_disk_mb - host->reserved_disk_mb
                                    - used_disk_mb);
}

static bool
sched_host_amount_valid(int64_t amount)
{
    return amount >= 0 && amount <= SCHED_HOST_MAX_AMOUNT;
}

/* Returns the ratio to use for reported 'ratio', or a negative value if it
 * is invalid. */
static double
sched_host_ratio(double ratio, double default_ratio)
{
    if (isnan(ratio) || ratio < 0.0 || ratio > SCHED_HOST_MAX_RATIO) {
        return -1.0;
    }
    return ratio == 0.0 ? default_ratio : ratio;
}

/* Replaces '*dst' with a copy of 'src' (may be NULL), unless equal. */
static void
sched_host_set_string(char **dst, const char *src)
{
    if (*dst && src && !strcmp(*dst, src)) {
        return;
    }
    free(*dst);
    *dst = xstrdup_or_null(src);
}

/* Drops claim 'i', keeping the others in order. */
static void
sched_host_remove_claim(struct sched_host *host, size_t i)
{
    struct sched_host_claim *claim = &host->claims[i];

    host->claimed_vcpus -= claim->vcpus;
    host->claimed_memory_mb -= claim->memory_mb;
    host->claimed_disk_mb -= claim->disk_mb;
    sched_host_claim_destroy(claim);
    memmove(claim, claim + 1, (host->n_claims - i - 1) * sizeof *claim);
    host->n_claims--;
}

/* Retires the claims that a report of 'n_instances' includes and ages
 * the others, expiring those that outlived SCHED_HOST_CLAIM_MAX_REPORTS.
 *
 * A count lower than the last one means at least that many deletes: every
 * pending claim then lands at a count lower by as much.  (Deletes hidden
 * by lands in the same interval go unseen, which only keeps claims longer
 * than needed.) */
static void
sched_host_age_claims(struct sched_host *host, int64_t n_instances)
{
    int64_t n_deleted = host->n_instances - n_instances;
    size_t i = 0;

    while (i < host->n_claims) {
        struct sched_host_claim *claim = &host->claims[i];

        if (n_deleted > 0) {
            claim->expected_instances -= n_deleted;
        }
        if (claim->expected_instances <= n_instances) {
            LOG_DBG("%s: claim %llu included in report, retired",
                    host->node, (unsigned long long) claim->id);
            sched_host_remove_claim(host, i);
        } else if (++claim->n_reports >= SCHED_HOST_CLAIM_MAX_REPORTS) {
            LOG_DBG("%s: claim %llu not seen in %u reports, expired",
                    host->node, (unsigned long long) claim->id,
                    claim->n_reports);
            sched_host_remove_claim(host, i);
        } else {
            i++;
        }
    }
}

int
sched_host_update(struct sched_host *host,
                  const struct sched_host_report *report)
{
    const int64_t amounts[] = {
        report->total_vcpus, report->total_memory_mb, report->total_disk_gb,
        report->used_vcpus, report->used_memory_mb, report->used_disk_gb,
        report->reserved_vcpus, report->reserved_memory_mb,
        report->reserved_disk_mb, report->n_instances,
    };
    double cpu_ratio = sched_host_ratio(report->cpu_ratio,
                                        SCHED_HOST_DEFAULT_CPU_RATIO);
    double ram_ratio = sched_host_ratio(report->ram_ratio,
                                        SCHED_HOST_DEFAULT_RAM_RATIO);
    double disk_ratio = sched_host_ratio(report->disk_ratio,
                                         SCHED_HOST_DEFAULT_DISK_RATIO);

    for (size_t i = 0; i < sizeof amounts / sizeof amounts[0]; i++) {
        if (!sched_host_amount_valid(amounts[i])) {
            return -EINVAL;
        }
    }
    if (cpu_ratio < 0.0 || ram_ratio < 0.0 || disk_ratio < 0.0) {
        return -EINVAL;
    }

    host->enabled = report->enabled;
    host->up = report->up;
    sched_host_set_string(&host->availability_zone,
                          report->availability_zone
                          ? report->availability_zone
                          : SCHED_HOST_DEFAULT_AZ);
    sched_host_set_string(&host->hypervisor_type, report->hypervisor_type);
    sched_host_set_string(&host->architecture,
                          sched_spec_canonical_arch(report->architecture));
    host->az_hash = sched_names_hash(host->availability_zone);
    host->arch_hash = (host->architecture
                       ? sched_names_hash_nocase(host->architecture) : 0);
    host->hv_hash = (host->hypervisor_type
                     ? sched_names_hash_nocase(host->hypervisor_type) : 0);

    host->total_vcpus = report->total_vcpus;
    host->total_memory_mb = report->total_memory_mb;
    host->total_disk_gb = report->total_disk_gb;
    host->used_vcpus = report->used_vcpus;
    host->used_memory_mb = report->used_memory_mb;
    host->used_disk_gb = report->used_disk_gb;
    host->reserved_vcpus = report->reserved_vcpus;
    host->reserved_memory_mb = report->reserved_memory_mb;
    host->reserved_disk_mb = report->reserved_disk_mb;
    host->cpu_ratio = cpu_ratio;
    host->ram_ratio = ram_ratio;
    host->disk_ratio = disk_ratio;
    sched_host_age_claims(host, report->n_instances);
    host->n_instances = report->n_instances;
    host->n_reports++;
    sched_host_recompute(host);
    return 0;
}

void
sched_host_claim(struct sched_host *host, uint64_t id,
                 const char *instance_uuid, int64_t vcpus,
                 int64_t memory_mb, int64_t disk_mb)
{
    struct sched_host_claim *claim;

    if (host->n_claims == host->allocated_claims) {
        host->allocated_claims = (host->allocated_claims
                                  ? host->allocated_claims * 2
                                  : SCHED_HOST_MIN_CLAIMS);
        host->claims = xreallocarray(host->claims, host->allocated_claims,
                                     sizeof *host->claims);
    }
    claim = &host->claims[host->n_claims++];
    claim->id = id;
    claim->instance_uuid = xstrdup_or_null(instance_uuid);
    claim->vcpus = vcpus;
    claim->memory_mb = memory_mb;
    claim->disk_mb = disk_mb;
    claim->expected_instances = host->n_instances + (int64_t) host->n_claims;
    claim->n_reports = 0;

    host->claimed_vcpus += vcpus;
    host->claimed_memory_mb += memory_mb;
    host->claimed_disk_mb += disk_mb;
    sched_host_recompute(host);
}

/* Releases claim 'i': the claims made after it now expect one instance
 * fewer, since this one will not land. */
static void
sched_host_release_at(struct sched_host *host, size_t i)
{
    for (size_t j = i + 1; j < host->n_claims; j++) {
        host->claims[j].expected_instances--;
    }
    sched_host_remove_claim(host, i);
    sched_host_recompute(host);
}

int
sched_host_release(struct sched_host *host, uint64_t id)
{
    for (size_t i = 0; i < host->n_claims; i++) {
        if (host->claims[i].id == id) {
            sched_host_release_at(host, i);
            return 0;
        }
    }
    return -ENOENT;
}

int
sched_host_release_instance(struct sched_host *host,
                            const char *instance_uuid)
{
    for (size_t i = 0; i < host->n_claims; i++) {
        const char *uuid = host->claims[i].instance_uuid;

        if (uuid && !strcmp(uuid, instance_uuid)) {
            sched_host_release_at(host, i);
            return 0;
        }
    }
    return -ENOENT;
}
