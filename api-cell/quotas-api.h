/* quotas-api.h: the compute API's quota sets (/v2.1/os-quota-sets).
 *
 * Nova's os-quota-sets API at microversion 2.1:
 *
 *     GET    /v2.1/os-quota-sets/{project_id}            limits
 *     GET    /v2.1/os-quota-sets/{project_id}/defaults   defaults
 *     GET    /v2.1/os-quota-sets/{project_id}/detail     in_use, limit,
 *                                                        reserved
 *     PUT    /v2.1/os-quota-sets/{project_id}            update (admin)
 *     DELETE /v2.1/os-quota-sets/{project_id}            back to the
 *                                                        defaults (admin)
 *
 * Limits and usage come from quota.h.  The quota set of 2.1 also names
 * nova-network's quotas (fixed_ips, floating_ips, security_groups,
 * security_group_rules, removed by 2.36): they are shown as -1 and
 * ignored on update, as Nova does since nova-network left it.
 *
 * XXX: per-user quotas (?user_id=) are not supported: the parameter is
 * ignored. */
#ifndef NOVA_QUOTAS_API_H
#define NOVA_QUOTAS_API_H 1

struct compute_api;
struct http_router;

/* Registers the routes above on 'router', with 'compute' as their aux. */
void quotas_api_register(struct http_router *router,
                         struct compute_api *compute);

#endif /* NOVA_QUOTAS_API_H */
