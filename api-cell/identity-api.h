/* identity-api.h: the identity v3 HTTP API of nova-api (a Keystone
 * subset), on the HTTP server of http-server.h.
 *
 *     POST /v3/auth/tokens    password authentication: 201, the token in
 *                             X-Subject-Token, the token body (user,
 *                             project, roles, service catalog)
 *     GET  /v3/auth/tokens    validation of X-Subject-Token (asked with a
 *                             valid X-Auth-Token, the subject's own or an
 *                             admin's): 200 and the token body, 404 when
 *                             the subject token is not valid; ?nocatalog
 *                             leaves the catalog out
 *     HEAD /v3/auth/tokens    the same without a body
 *     GET  /v3                the identity version document (v3.14)
 *     GET  /v3/projects       identity:list_projects (admin only; 403
 *                             for others): {"projects": [PROJECT],
 *                             "links": {"self", "previous", "next"}},
 *                             filtered by ?name=, ?domain_id=, ?enabled=
 *                             and ?is_domain=
 *     GET  /v3/projects/{id}  identity:get_project (admin, or a user with
 *                             a role on it): {"project": PROJECT}
 *
 * PROJECT is Keystone's {"id", "name", "domain_id" ("default"),
 * "enabled", "description", "is_domain" (false), "parent_id" (the
 * domain), "tags", "options", "links": {"self"}}.  This is what the
 * openstack CLI's lookup of a project by name or id needs
 * ("openstack quota show demo", "flavor create --project demo").
 *
 * Errors use Keystone's body, {"error": {"code", "title", "message"}}
 * (the routes are HTTP_ROUTE_IDENTITY).
 *
 * The service catalog lists compute ("nova", BASE/v2.1), image
 * ("glance", BASE/image) and identity ("keystone", BASE/v3), each with
 * the public, internal and admin interfaces in the configured region,
 * where BASE is identity.public_endpoint or else the URL the client used
 * (http_request_base_url()).
 *
 * identity_api_validate() is the server's token validator for the
 * compute API (http_server_set_auth_validator()). */
#ifndef NOVA_IDENTITY_API_H
#define NOVA_IDENTITY_API_H 1

#include "shared/compiler.h"

struct error;
struct http_auth;
struct http_request;
struct http_router;
struct identity_service;
struct json_object;

/* The identity API version this server implements, and its date. */
#define IDENTITY_API_VERSION "v3.14"
#define IDENTITY_API_VERSION_UPDATED "2020-04-07T00:00:00Z"
#define IDENTITY_API_MEDIA_TYPE "application/vnd.openstack.identity-v3+json"

/* Registers the routes above on 'router', with 'service' (borrowed: it
 * must outlive the router's use). */
void identity_api_register(struct http_router *router,
                           struct identity_service *service);

/* The server's token validator (an http_auth_validator): 'aux' is the
 * 'struct identity_service *'.  Refuses unscoped tokens, which the compute
 * API cannot use. */
struct error *identity_api_validate(void *aux,
                                    const struct http_request *req,
                                    const char *token,
                                    struct http_auth *ret_auth)
    WARN_UNUSED;

/* The identity version object (what GET /v3 shows under "version") for
 * an API reached at 'base_url', as a new reference.  For a root version
 * document that lists identity next to compute. */
struct json_object *identity_api_version_json(const char *base_url);

#endif /* NOVA_IDENTITY_API_H */
