/* sched-spec.h: what a scheduling request asks for (Nova's RequestSpec,
 * reduced to what the leaf-cell filters and weighers read).
 *
 * 'struct sched_spec' is filled by the caller (the scheduler daemon, from
 * conductor's select_destinations message) and only borrowed by the
 * scheduler: every string and array must outlive the call.
 *
 * The flavor's disk need is root_gb + ephemeral_gb (GiB) plus swap (MiB),
 * as in Nova's DiskFilter; a volume-backed server passes root_gb 0.  Empty
 * image properties mean "any".  The server group travels as its policy and
 * the names of the hosts its members already use (a name appears once per
 * member on that host), so no group table is needed here.
 *
 * 'struct sched_spec_ctx' is the spec prepared for one decision: the
 * amounts per instance and the host-name sets the filters and weighers
 * probe.  The scheduler builds it; filters and weighers only read it. */
#ifndef CHILD_CELL_SCHED_SPEC_H
#define CHILD_CELL_SCHED_SPEC_H 1

#include <stddef.h>
#include <stdint.h>

struct error;
struct sched_names;

/* Limits a request must respect (checked by sched_spec_validate()).  They
 * keep every sum of resources far from int64_t overflow. */
#define SCHED_SPEC_MAX_VCPUS (INT64_C(1) << 20)
#define SCHED_SPEC_MAX_MEMORY_MB (INT64_C(1) << 40)
#define SCHED_SPEC_MAX_DISK_GB (INT64_C(1) << 30)
#define SCHED_SPEC_MAX_SWAP_MB (INT64_C(1) << 40)
#define SCHED_SPEC_MAX_INSTANCES 10000
#define SCHED_SPEC_MAX_ALTERNATES 64
#define SCHED_SPEC_MAX_HOST_NAMES 100000

/* Server-group policies.  The hard ones are filters
 * (ServerGroupAffinityFilter, ServerGroupAntiAffinityFilter), the soft ones
 * weighers (ServerGroupSoftAffinityWeigher, ...), as in Nova. */
#define SCHED_SPEC_POLICIES(X)                                   \
    X(SCHED_SPEC_POLICY_NONE, "none")                            \
    X(SCHED_SPEC_POLICY_AFFINITY, "affinity")                    \
    X(SCHED_SPEC_POLICY_ANTI_AFFINITY, "anti-affinity")          \
    X(SCHED_SPEC_POLICY_SOFT_AFFINITY, "soft-affinity")          \
    X(SCHED_SPEC_POLICY_SOFT_ANTI_AFFINITY, "soft-anti-affinity")

enum sched_spec_policy {
#define SCHED_SPEC_POLICY_ENUM(policy, name) policy,
    SCHED_SPEC_POLICIES(SCHED_SPEC_POLICY_ENUM)
#undef SCHED_SPEC_POLICY_ENUM
};

struct sched_spec {
    /* Flavor. */
    int64_t vcpus;
    int64_t memory_mb;
    int64_t root_gb;
    int64_t ephemeral_gb;
    int64_t swap_mb;

    /* Image properties: NULL or "" means any. */
    const char *image_architecture;     /* hw_architecture, "x86_64" */
    const char *image_hypervisor_type;  /* img_hv_type, "qemu" */

    const char *availability_zone;      /* NULL means any. */

    size_t num_instances;               /* At least 1. */
    /* NULL, or 'num_instances' uuids recorded with the claims so that a
     * claim can be released by instance. */
    const char *const *instance_uuids;

    /* Server group. */
    enum sched_spec_policy group_policy;
    const char *const *group_hosts;     /* Hosts of the group's members. */
    size_t n_group_hosts;

    /* Host restrictions (admin only in the API).  A forced host must still
     * pass the filters: unlike legacy Nova, forcing never oversubscribes. */
    const char *const *force_hosts;
    size_t n_force_hosts;
    const char *const *ignore_hosts;
    size_t n_ignore_hosts;

    /* Alternates wanted per instance (Nova: max_attempts - 1). */
    size_t n_alternates;
};

/* Amounts per instance and host sets, prepared once per decision. */
struct sched_spec_ctx {
    const struct sched_spec *spec;
    int64_t vcpus;
    int64_t memory_mb;
    int64_t disk_mb;
    /* Requested properties, NULL meaning any; the architecture is
     * canonical (sched_spec_canonical_arch()). */
    const char *availability_zone;
    const char *architecture;
    const char *hypervisor_type;
    /* Their hashes, as in 'struct sched_host' (0 for NULL). */
    uint32_t az_hash;
    uint32_t arch_hash;
    uint32_t hv_hash;
    /* Hosts used by the group, including this request's earlier picks. */
    const struct sched_names *group_hosts;
    const struct sched_names *force_hosts;      /* Empty: no restriction. */
    const struct sched_names *ignore_hosts;     /* Each may be NULL. */
};

/* Zeroes 'spec' and asks for one instance with no group and no
 * alternates. */
void sched_spec_init(struct sched_spec *spec);

/* Prepares 'ctx' for deciding 'spec' (borrowed, like the three sets,
 * which may be NULL for empty).  'spec' must have passed
 * sched_spec_validate(). */
void sched_spec_ctx_init(struct sched_spec_ctx *ctx,
                         const struct sched_spec *spec,
                         const struct sched_names *group_hosts,
                         const struct sched_names *force_hosts,
                         const struct sched_names *ignore_hosts);

/* Returns the disk one instance needs, in MiB:
 * (root_gb + ephemeral_gb) * 1024 + swap_mb.  Valid for a spec that passed
 * sched_spec_validate(). */
int64_t sched_spec_disk_mb(const struct sched_spec *spec);

/* Checks 'spec' against the limits above.  Returns NULL, or an
 * ERROR_INVALID error naming the bad field (caller owns it). */
struct error *sched_spec_validate(const struct sched_spec *spec);

/* Returns the canonical name of CPU architecture 'name', as Nova's
 * arch.canonicalize() minus the lower-casing (compare with strcasecmp()):
 * "amd64" reads as "x86_64", and "i386", "i486", "i586", "x86_32" as
 * "i686".  Returns a static string or 'name' itself; NULL for NULL. */
const char *sched_spec_canonical_arch(const char *name);

/* Returns "affinity" etc.; "unknown" for a value outside the enum. */
const char *sched_spec_policy_to_string(enum sched_spec_policy);

/* Parses a Nova policy name.  Returns 0 and sets '*ret_policy', or -EINVAL
 * for an unknown name. */
int sched_spec_policy_from_string(const char *,
                                  enum sched_spec_policy *ret_policy);

#endif /* CHILD_CELL_SCHED_SPEC_H */
