/* http-router.h: (method, path template) -> handler for nova-api.
 *
 * Every API module registers its routes on one router before the server
 * starts; the router is read-only afterwards, so the server's threads
 * share it without locks.  A template is a path whose segments are
 * literals or "{name}" parameters:
 *
 *     http_router_add(router, HTTP_POST, "/v2.1/servers/{server_id}/action",
 *                     0, servers_action, servers);
 *     http_router_add(router, HTTP_POST, "/v3/auth/tokens",
 *                     HTTP_ROUTE_PUBLIC | HTTP_ROUTE_IDENTITY,
 *                     identity_issue_token, identity);
 *
 * Templates are written in full, with their API's prefix ("/v2.1" for
 * compute, "/v3" for identity), as Nova and Keystone serve them.
 *
 * Matching:
 *   - The request path is split on '/' and each segment percent-decoded
 *     before it is compared (so "%2F" inside a parameter stays one
 *     segment); literals compare exactly, a parameter takes any non-empty
 *     segment.  A literal wins over a parameter at the same place
 *     ("/servers/detail" before "/servers/{server_id}"), whatever the
 *     order of registration.
 *   - One trailing slash is ignored ("/v2.1/servers/" is "/v2.1/servers"),
 *     except that a template may itself end in '/' to tell the two apart
 *     (the version documents do: "/v2.1" and "/v2.1/" are both served).
 *   - A path that matches no template is HTTP_ROUTE_NOT_FOUND (404
 *     itemNotFound, "The resource could not be found.").  A path that
 *     matches templates, none for the method, is
 *     HTTP_ROUTE_METHOD_NOT_ALLOWED (405 with an Allow header listing the
 *     methods that exist).  HEAD is answered by the GET route of a path.
 *   - Project id in the URL.  Nova also accepts the older form
 *     "/v2.1/{project_id}/servers".  After http_router_allow_project_id(
 *     router, "/v2.1"), a path under "/v2.1" that does not match as it is
 *     is tried again without its second segment when that segment looks
 *     like a project id (lowercase hex digits and dashes, Nova's
 *     '[0-9a-f-]+'); the segment is then
 *     the path parameter "project_id", which the server checks against
 *     the token's project (400 when they differ, as Nova does).  The form
 *     is off unless a prefix is allowed. */
#ifndef NOVA_HTTP_ROUTER_H
#define NOVA_HTTP_ROUTER_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "shared/compiler.h"
#include "shared/cleanup.h"
#include "api-cell/http-request.h"

struct error;

/* Limits on the route table (programmer-facing: exceeding one aborts). */
#define HTTP_ROUTER_MAX_ROUTES 1024
#define HTTP_ROUTER_MAX_PARAMS 8          /* "{name}" segments in a route */
#define HTTP_ROUTER_MAX_ALLOW_SIZE 128    /* bytes of an Allow header */

/* A handler.  'req' and 'resp' are the server's; 'aux' is what was given
 * to http_router_add().  Returns NULL after filling 'resp' (or after
 * http_request_defer(), see http-request.h), or an error that the server
 * turns into a fault body (the response is then ignored).  A handler
 * that deferred the request must return NULL (an error as well is a
 * programmer error: the process aborts); its failure goes to
 * http_request_complete().  Handlers run on the server's threads and must
 * not block for long: quick database work is fine, waiting for an RPC
 * reply is not (defer instead). */
typedef struct error *http_handler(struct http_request *req,
                                   struct http_response *resp, void *aux);

/* Route flags. */
enum {
    /* No authentication: no token is read, http_request_auth() is NULL
     * (version documents, POST /v3/auth/tokens). */
    HTTP_ROUTE_PUBLIC = 1 << 0,

    /* A route of the identity API (/v3): errors are written as Keystone
     * writes them, {"error": {"code": 404, "title": "Not Found",
     * "message": "..."}}, and no compute microversion is negotiated or
     * echoed. */
    HTTP_ROUTE_IDENTITY = 1 << 1,

    /* No compute microversion headers are read or echoed (set by
     * HTTP_ROUTE_IDENTITY too). */
    HTTP_ROUTE_NO_MICROVERSION = 1 << 2,

    /* The body is not buffered nor parsed but streamed to the route's
     * body sink as it arrives, up to the route's own size limit (set by
     * http_router_add_raw_body(), never by hand). */
    HTTP_ROUTE_RAW_BODY = 1 << 3,
};

/* Where the body of a HTTP_ROUTE_RAW_BODY route goes (an image upload).
 * The server, for such a route:
 *   1. once the headers are in, authenticates (unless public), refuses a
 *      declared Content-Length above the route's limit (413), then calls
 *      open(): an error is answered at once, before the body is read;
 *   2. hands every piece of body to write(), in order; past the limit
 *      (413) or after a write() error, the sink is closed at once and the
 *      rest of the body read and dropped (the connection is closed once a
 *      few times api.max_body_size more has arrived);
 *   3. once the body is complete, calls the handler, which finds the sink
 *      with http_request_body_sink() and keeps what it wants of it;
 *   4. calls close() exactly once: after the handler returned, or as soon
 *      as the request failed or the client went away mid-body, so close()
 *      must undo whatever the handler did not keep (a partial file).
 * The three run on a server thread and may block for disk I/O only. */
struct http_body_sink_class {
    struct error *(*open)(struct http_request *req, void *aux,
                          void **ret_sink);
    struct error *(*write)(void *sink, const void *data, size_t size);
    void (*close)(void *sink);
};

/* What the router found for a request. */
enum http_route_result {
    HTTP_ROUTE_FOUND,
    HTTP_ROUTE_NOT_FOUND,
    HTTP_ROUTE_METHOD_NOT_ALLOWED,
};

/* A registered route, as the router hands it to the server. */
struct http_route {
    enum http_method method;
    const char *template;       /* as registered */
    unsigned int flags;         /* HTTP_ROUTE_* */
    http_handler *handler;
    void *aux;
    const struct http_body_sink_class *sink;    /* HTTP_ROUTE_RAW_BODY */
    uint64_t max_body_size;                     /* HTTP_ROUTE_RAW_BODY */
};

struct http_router;

struct http_router *http_router_new(void);
void http_router_free(struct http_router *);
DEFINE_FREEP(struct http_router, http_router_free)

/* Registers 'handler' (with 'aux') for 'method' on 'template'.  The
 * template is copied.  A malformed template (not starting with '/', an
 * empty segment, an unterminated or empty "{}", a repeated parameter
 * name), a route that duplicates another (same method, same shape) or
 * exceeding a limit above is a programmer error: it is logged and the
 * process aborts.  Call before the server starts: not thread-safe. */
void http_router_add(struct http_router *, enum http_method method,
                     const char *template, unsigned int flags,
                     http_handler *handler, void *aux);

/* Registers a HTTP_ROUTE_RAW_BODY route (added to 'flags'): as
 * http_router_add(), with the body streamed to 'sink' (borrowed; 'aux' is
 * given to its open()) and bodies above 'max_body_size' bytes refused
 * with 413.  The handler must not defer the request. */
void http_router_add_raw_body(struct http_router *, enum http_method method,
                              const char *template, unsigned int flags,
                              http_handler *handler, void *aux,
                              const struct http_body_sink_class *sink,
                              uint64_t max_body_size);

/* Enables the "/v2.1/{project_id}/..." form for paths under 'prefix'
 * ("/v2.1"), as described above. */
void http_router_allow_project_id(struct http_router *, const char *prefix);

/* Looks up the route for 'req' (its method and decoded path segments).
 * On HTTP_ROUTE_FOUND stores the route (owned by the router) in
 * '*ret_route' and sets the request's path parameters.  On
 * HTTP_ROUTE_METHOD_NOT_ALLOWED writes the Allow header value ("GET,
 * POST", in the order of enum http_method, HEAD added with GET) into
 * 'allow' (HTTP_ROUTER_MAX_ALLOW_SIZE bytes) if 'allow' is not NULL, and
 * stores in '*ret_route' one of the routes of that path (its flags tell
 * which API the path belongs to).  Thread-safe once routes are added. */
enum http_route_result http_router_route(const struct http_router *,
                                         struct http_request *req,
                                         const struct http_route **ret_route,
                                         char *allow);

/* The number of routes registered (tests, startup log). */
size_t http_router_n_routes(const struct http_router *);

#endif /* NOVA_HTTP_ROUTER_H */
