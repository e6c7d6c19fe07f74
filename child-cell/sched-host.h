/* sched-host.h: what the scheduler knows about one compute node (Nova's
 * HostState), and the claims it has made on it.
 *
 * The caller (the scheduler daemon) owns an array of 'struct sched_host',
 * one per compute node of the cell, best from sched_host_array_new(), kept
 * in a stable order (compute node id, as Nova's host manager lists them:
 * the weighers break ties by that order).  It creates each entry with
 * sched_host_init() and feeds it the node's latest report with
 * sched_host_update().  The members are public so that filters and
 * weighers read them directly, but they are written only by the functions
 * below.
 *
 * Resource model.  For each resource (vCPU, RAM in MiB, disk in MiB) the
 * scheduler may hand out
 *
 *     capacity = floor(total * allocation_ratio) - reserved
 *
 * and a host fits a flavor when used + claimed + flavor <= capacity, where
 * 'used' is what instances use (not counting the reserved amount) and
 * 'claimed' the sum of in-flight claims.  That is legacy Nova's RamFilter,
 * DiskFilter and CoreFilter arithmetic, whose compute-node 'used' already
 * held the reserved amount.  Ratios of 0 in a report mean "use the
 * default": 4.0 for CPU, 1.0 for RAM and disk, Nova's initial_*_allocation_
 * ratio defaults since Stein (16.0 / 1.5 / 1.0 before).
 *
 * Liveness.  'up' is computed by the caller from the service's last
 * heartbeat and service_down_time, as Nova's servicegroup API does outside
 * the filters; this library never reads a clock.
 *
 * Claims.  When the scheduler picks a host it records a claim for the
 * instance, so later decisions see the reduced free resources at once,
 * before the node's own report shows the instance.  A claim ends in one of
 * three ways:
 *   - released: the build failed, the server was deleted, or the request
 *     was rolled back (sched_host_release*());
 *   - retired: a report arrives whose instance count has reached the count
 *     the node will have once this claim lands.  Each claim records that
 *     count when it is made (reported instances + pending claims,
 *     including itself); a release lowers it for the claims made after the
 *     released one, and a report whose count fell (deletes) lowers it for
 *     all;
 *   - expired: SCHED_HOST_CLAIM_MAX_REPORTS reports arrived without
 *     retiring it (the instance went elsewhere, or deletes on the node kept
 *     the count from rising).
 * A report therefore never loses the claims it does not yet include.
 * Counting assumes a node starts its builds in the order this scheduler
 * claimed them (one conductor queue, one compute queue per host), which
 * is what makes "the count has risen by k" mean "the k oldest claims
 * landed".  A delete and a build in the same report interval can keep a
 * claim a few reports too long: that error is on the safe side (less is
 * handed out, never more).  Builds reordered on a node, instances placed
 * by another scheduler, or a build slower than SCHED_HOST_CLAIM_MAX_REPORTS
 * reports can end a claim before the node's usage shows its instance,
 * leaving that instance uncounted until it does.  These in-memory claims
 * make decisions accurate between reports; the claim in the cell database
 * (DESIGN.md, section 7) stays the guard when several schedulers run.
 *
 * Not thread-safe: a host is used by one thread (the scheduler's loop). */
#ifndef CHILD_CELL_SCHED_HOST_H
#define CHILD_CELL_SCHED_HOST_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Allocation ratios used when a report gives 0. */
#define SCHED_HOST_DEFAULT_CPU_RATIO 4.0
#define SCHED_HOST_DEFAULT_RAM_RATIO 1.0
#define SCHED_HOST_DEFAULT_DISK_RATIO 1.0
/* Highest allocation ratio accepted in a report. */
#define SCHED_HOST_MAX_RATIO 1000.0
/* Highest total, used or reserved amount accepted in a report (vCPUs, MiB
 * or GiB): keeps every sum far from int64_t overflow. */
#define SCHED_HOST_MAX_AMOUNT (INT64_C(1) << 40)
/* Zone of a host whose report names none (Nova's
 * default_availability_zone). */
#define SCHED_HOST_DEFAULT_AZ "nova"
/* Reports a claim survives without being retired. */
#define SCHED_HOST_CLAIM_MAX_REPORTS 5

/* A compute node's report: the compute_nodes row and its service row.
 * Strings are borrowed for the call of sched_host_update(). */
struct sched_host_report {
    bool enabled;                   /* Service not disabled by an admin. */
    bool up;                        /* Heartbeat within service_down_time. */
    const char *availability_zone;  /* NULL: SCHED_HOST_DEFAULT_AZ. */
    const char *hypervisor_type;    /* "QEMU"; NULL if unknown. */
    const char *architecture;       /* "x86_64"; NULL if unknown. */

    int64_t total_vcpus;
    int64_t total_memory_mb;
    int64_t total_disk_gb;
    /* Used by instances, not counting the reserved amounts. */
    int64_t used_vcpus;
    int64_t used_memory_mb;
    int64_t used_disk_gb;
    /* Kept back for the host itself (reserved_host_*). */
    int64_t reserved_vcpus;
    int64_t reserved_memory_mb;
    int64_t reserved_disk_mb;
    /* Allocation ratios; 0 selects the default. */
    double cpu_ratio;
    double ram_ratio;
    double disk_ratio;

    int64_t n_instances;            /* Instances the usage accounts for. */
};

/* One in-flight claim. */
struct sched_host_claim {
    uint64_t id;
    char *instance_uuid;            /* Owned; NULL if none was given. */
    int64_t vcpus;
    int64_t memory_mb;
    int64_t disk_mb;
    int64_t expected_instances;     /* Count that retires the claim. */
    unsigned int n_reports;         /* Reports seen since the claim. */
};

/* The members a decision reads for every host come first and fill one
 * 64-byte cache line, and the whole struct is a whole number of cache
 * lines, so an array from sched_host_array_new() costs one line per host
 * per decision. */
#define SCHED_HOST_CACHE_LINE 64

/* Declares the members '...' padded to a whole number of cache lines, the
 * padding named 'NAME' (after Open vSwitch's PADDED_MEMBERS). */
#define SCHED_HOST_PADDED_MEMBERS(NAME, ...)                            \
    union {                                                             \
        struct { __VA_ARGS__ };                                         \
        uint8_t NAME[(sizeof(struct { __VA_ARGS__ })                    \
                      + SCHED_HOST_CACHE_LINE - 1)                      \
                     / SCHED_HOST_CACHE_LINE * SCHED_HOST_CACHE_LINE];  \
    }

struct sched_host {
    /* Derived from the report and the claims, read for every host by
     * every decision: the first cache line.  The string properties appear
     * here as hashes, so a filter reads a host's strings only for a host
     * whose hash matches the request. */
    SCHED_HOST_PADDED_MEMBERS(hot_pad_,
        int64_t fit_vcpus;          /* MIN(free_vcpus, total_vcpus) */
        int64_t free_memory_mb;     /* capacity - used - claimed */
        int64_t free_disk_mb;
        double weigh_vcpus;         /* CPUWeigher: total * ratio - ... */
        double weigh_memory_mb;     /* RAMWeigher: total - reserved - ... */
        double weigh_disk_mb;       /* DiskWeigher: total - reserved - ... */
        uint32_t az_hash;           /* sched_names_hash(zone) */
        uint32_t arch_hash;         /* sched_names_hash_nocase(), or 0 */
        uint32_t hv_hash;           /* sched_names_hash_nocase(), or 0 */
        bool enabled;
        bool up;
    );

    SCHED_HOST_PADDED_MEMBERS(cold_pad_,
        /* Read by some filters only. */
        int64_t free_vcpus;         /* capacity - used - claimed */
        int64_t total_vcpus;
        uint32_t name_hash;         /* sched_names_hash(host) */
        char *host;                 /* Service host name. */
        char *node;                 /* Hypervisor host name. */
        char *availability_zone;    /* Never NULL after a report. */
        char *hypervisor_type;      /* May be NULL. */
        char *architecture;         /* Canonical; may be NULL. */

        /* The last report, with default ratios applied. */
        int64_t total_memory_mb;
        int64_t total_disk_gb;
        int64_t used_vcpus;
        int64_t used_memory_mb;
        int64_t used_disk_gb;
        int64_t reserved_vcpus;
        int64_t reserved_memory_mb;
        int64_t reserved_disk_mb;
        double cpu_ratio;
        double ram_ratio;
        double disk_ratio;
        int64_t n_instances;
        uint64_t n_reports;         /* Reports applied; 0: never heard of. */

        /* In-flight claims, oldest first, and their sums. */
        int64_t claimed_vcpus;
        int64_t claimed_memory_mb;
        int64_t claimed_disk_mb;
        struct sched_host_claim *claims;
        size_t n_claims;
        size_t allocated_claims;
    );
};

/* Allocates an array of 'n' hosts, zeroed and aligned to a cache line (an
 * array from any allocator works, only slower).  Each entry still needs
 * sched_host_init().  Never returns NULL (allocation failure aborts). */
struct sched_host *sched_host_array_new(size_t n);

/* Destroys the first 'n' entries of 'hosts' and frees the array.  Accepts
 * NULL. */
void sched_host_array_free(struct sched_host *hosts, size_t n);

/* Initialises 'host' for compute node 'node' of service host 'host_name'
 * (both copied).  Until its first report the host is disabled, down and
 * empty, so it passes no filter. */
void sched_host_init(struct sched_host *host, const char *host_name,
                     const char *node);

/* Frees what 'host' owns (names, claims).  Accepts NULL. */
void sched_host_destroy(struct sched_host *host);

/* Applies 'report', the node's latest state, keeping the claims it does not
 * include (see the file comment).  Call it once per new report (when the
 * compute node's updated_at advanced), not on every poll, as reports count
 * towards claim expiry.  Returns 0, or -EINVAL if an amount is negative or
 * above SCHED_HOST_MAX_AMOUNT or a ratio is negative, not a number or
 * above SCHED_HOST_MAX_RATIO: the host is then left unchanged. */
int sched_host_update(struct sched_host *host,
                      const struct sched_host_report *report);

/* Records claim 'id' for 'vcpus', 'memory_mb' and 'disk_mb' on 'host',
 * for instance 'instance_uuid' (copied; may be NULL).  Claims that do not
 * fit are recorded all the same: checking is the filters' job. */
void sched_host_claim(struct sched_host *host, uint64_t id,
                      const char *instance_uuid, int64_t vcpus,
                      int64_t memory_mb, int64_t disk_mb);

/* Releases claim 'id'.  Returns 0, or -ENOENT if 'host' holds no such
 * claim (never made, already released, retired or expired: a retired
 * claim's usage leaves with the node's next report). */
int sched_host_release(struct sched_host *host, uint64_t id);

/* Releases the oldest claim made for 'instance_uuid'.  Returns 0 or
 * -ENOENT. */
int sched_host_release_instance(struct sched_host *host,
                                const char *instance_uuid);

/* Capacity the scheduler may hand out, per the file comment: used by the
 * filters' callers and tests to check that nothing is oversubscribed. */
int64_t sched_host_capacity_vcpus(const struct sched_host *host);
int64_t sched_host_capacity_memory_mb(const struct sched_host *host);
int64_t sched_host_capacity_disk_mb(const struct sched_host *host);

#endif /* CHILD_CELL_SCHED_HOST_H */
