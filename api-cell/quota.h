/* quota.h: per-project quotas of the compute API.
 *
 * A project's limit for a resource is its row in the 'quotas' table of
 * the API database when there is one, else the configured default
 * (compute-api.h, COMPUTE_API_DEFAULT_QUOTAS; Nova's [quota] options).
 * -1 means unlimited.  Usage is counted, never stored, as Nova counts it
 * since Pike: instances, cores and ram from the top view
 * (top_view_usage()), key_pairs from the caller's keypairs.
 *
 * Only the resources of COMPUTE_API_DEFAULT_QUOTAS exist.  Nova's API at
 * 2.1 still shows the quotas of nova-network (fixed_ips, floating_ips,
 * security_groups, security_group_rules); they are answered as -1 by the
 * API modules and never stored.
 *
 * Threads: every function runs on the caller's connection; the pure ones
 * are thread-safe. */
#ifndef NOVA_QUOTA_H
#define NOVA_QUOTA_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "shared/compiler.h"
#include "api-cell/compute-api.h"

struct db;
struct error;
struct flavor;

enum quota_resource {
#define QUOTA_RESOURCE_ENUM(field, name, value) QUOTA_##field,
    COMPUTE_API_DEFAULT_QUOTAS(QUOTA_RESOURCE_ENUM)
#undef QUOTA_RESOURCE_ENUM
    QUOTA_N_RESOURCES
};

/* One number per resource: limits, usages or requested amounts. */
struct quota_set {
    int64_t v[QUOTA_N_RESOURCES];
};

/* "instances" for QUOTA_instances; NULL out of range. */
const char *quota_resource_to_string(enum quota_resource);
/* Returns 0 and sets '*ret' for a resource name, else -EINVAL. */
int quota_resource_from_string(const char *name, enum quota_resource *ret);

/* Fills '*ret' with the configured defaults of 'config'. */
void quota_defaults(const struct compute_api_config *config,
                    struct quota_set *ret);

/* The limits of 'project_id': defaults overridden by its rows. */
struct error *quota_get_limits(struct db *,
                               const struct compute_api_config *config,
                               const char *project_id,
                               struct quota_set *ret) WARN_UNUSED;

/* Sets (inserting or replacing) the limit of 'resource' for
 * 'project_id'. */
struct error *quota_set_limit(struct db *, const char *project_id,
                              enum quota_resource resource, int64_t limit)
    WARN_UNUSED;

/* Forgets every limit of 'project_id': it falls back to the defaults. */
struct error *quota_delete_project(struct db *, const char *project_id)
    WARN_UNUSED;

/* What 'project_id' uses: instances, cores and ram from the top view;
 * key_pairs of 'user_id' (0 when 'user_id' is NULL); 0 for the rest. */
struct error *quota_get_usage(struct db *, const char *project_id,
                              const char *user_id, struct quota_set *ret)
    WARN_UNUSED;

/* Pure: checks that 'in_use' plus 'deltas' stays within 'limits' for the
 * resources whose delta is positive.  Returns NULL, or ERROR_QUOTA with
 * Nova's message naming the resources over quota in name order:
 * "Quota exceeded for cores, ram: Requested 4, 2048, but already used 18,
 * 50000 of 20, 51200 cores, ram". */
struct error *quota_check_deltas(const struct quota_set *limits,
                                 const struct quota_set *in_use,
                                 const struct quota_set *deltas)
    WARN_UNUSED;

/* Checks that 'n' more instances of 'flavor' fit project's quotas
 * (instances, cores, ram; usage from top_view_usage()).  ERROR_QUOTA with
 * Nova's message "Quota exceeded for instances: Requested 1, but already
 * used 10 of 10 instances" (cores/ram likewise).  Also checks
 * metadata_items against 'n_metadata' ("Maximum number of metadata items
 * exceeds 128"). */
struct error *quota_check_boot(struct db *, const struct compute_api_config *,
                               const char *project_id, int n,
                               const struct flavor *flavor,
                               size_t n_metadata) WARN_UNUSED;

#endif /* NOVA_QUOTA_H */
