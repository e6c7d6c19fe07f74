/* api-versions-doc.h: the compute API's version documents.
 *
 * Nova answers, without authentication:
 *
 *     GET /        200 {"versions": [v2.0, v2.1]}     list all versions
 *     GET /v2.1/   200 {"version": {v2.1 ...}}        show one version
 *     GET /v2/     200 {"version": {v2.0 ...}}
 *
 * with the links built on the URL the client used (the request's base URL,
 * see http_request_base_url()).  v2.1 reports API_MIN_MICROVERSION and
 * API_MAX_MICROVERSION as "min_version" and "version". */
#ifndef NOVA_API_VERSIONS_DOC_H
#define NOVA_API_VERSIONS_DOC_H 1

struct http_router;
struct json_object;

/* Registers the version document routes ("/", "/v2.1", "/v2.1/", "/v2",
 * "/v2/"), all public. */
void api_versions_doc_register(struct http_router *router);

/* The documents themselves, for 'base_url' ("http://host:8774", no
 * trailing slash).  New references, owned by the caller. */
struct json_object *api_versions_doc_list(const char *base_url);
struct json_object *api_versions_doc_show(const char *base_url,
                                          const char *id);

#endif /* NOVA_API_VERSIONS_DOC_H */
