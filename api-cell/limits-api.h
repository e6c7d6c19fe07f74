/* limits-api.h: the compute API's limits (GET /v2.1/limits).
 *
 * Nova's limits API at microversion 2.1: the caller's project's absolute
 * limits (its quotas, quota.h) and what it uses, and an empty list of
 * rate limits.  An admin may ask about another project with
 * ?tenant_id=. */
#ifndef NOVA_LIMITS_API_H
#define NOVA_LIMITS_API_H 1

struct compute_api;
struct http_router;

/* Registers GET /v2.1/limits on 'router', with 'compute' as its aux. */
void limits_api_register(struct http_router *router,
                         struct compute_api *compute);

#endif /* NOVA_LIMITS_API_H */
