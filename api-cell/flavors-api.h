/* flavors-api.h: the compute API's flavors (/v2.1/flavors).
 *
 * Nova's flavors, flavor-manage, flavor extra specs and flavor access
 * APIs at microversion 2.1:
 *
 *     GET    /v2.1/flavors[/detail]          list (is_public, minRam,
 *                                            minDisk, limit, marker,
 *                                            sort_key, sort_dir)
 *     GET    /v2.1/flavors/{flavor_id}       show
 *     POST   /v2.1/flavors                   create (admin)
 *     DELETE /v2.1/flavors/{flavor_id}       delete (admin)
 *     GET    /v2.1/flavors/{flavor_id}/os-extra_specs[/{key}]
 *     POST   /v2.1/flavors/{flavor_id}/os-extra_specs          (admin)
 *     PUT    /v2.1/flavors/{flavor_id}/os-extra_specs/{key}    (admin)
 *     DELETE /v2.1/flavors/{flavor_id}/os-extra_specs/{key}    (admin)
 *     GET    /v2.1/flavors/{flavor_id}/os-flavor-access        (admin)
 *     POST   /v2.1/flavors/{flavor_id}/action   addTenantAccess,
 *                                               removeTenantAccess (admin)
 *
 * Handlers read and write the API database (flavor-db.h) on the server
 * thread's connection. */
#ifndef NOVA_FLAVORS_API_H
#define NOVA_FLAVORS_API_H 1

#include "shared/compiler.h"

struct compute_api;
struct flavor_record;
struct error;
struct http_router;
struct json_object;

/* Registers the routes above on 'router', with 'compute' as their aux. */
void flavors_api_register(struct http_router *router,
                          struct compute_api *compute);

/* Pure: reads the body of POST /v2.1/flavors as Nova's schema does (a
 * missing or null "id" becomes a new UUID).  On success stores a new
 * record (flavor-db.h), owned by the caller, in '*ret'; else returns an
 * ERROR_INVALID error naming the field. */
struct error *flavors_api_parse_create(const struct json_object *body,
                                       struct flavor_record **ret)
    WARN_UNUSED;

#endif /* NOVA_FLAVORS_API_H */
