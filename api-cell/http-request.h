/* http-request.h: what an API handler reads and what it fills in.
 *
 * nova-api's HTTP server (http-server.h) turns each HTTP request into a
 * 'struct http_request' that does not depend on libmicrohttpd: the method,
 * the percent-decoded path, the path parameters the router matched
 * ("{server_id}"), the query parameters (repeatable: ?status=ACTIVE&
 * status=ERROR), a copy of the request headers, the body (raw and, when
 * there is one, parsed as JSON), and the request context: request id,
 * authentication (struct http_auth), negotiated microversion.  Because
 * everything is copied in, a handler may keep the request after it
 * returns (a deferred request, below) and tests can build requests without
 * a server.
 *
 * A handler answers through a 'struct http_response': a status, an
 * optional JSON body (sent as application/json) and extra headers.  A
 * handler that fails returns a 'struct error *' instead, and the server
 * writes Nova's fault body for it (error_to_fault_json()).
 *
 * Deferred requests.  A handler that must wait (for an RPC reply, say)
 * calls http_request_defer() and returns NULL.  The server parks the
 * connection (MHD_suspend_connection()) without blocking its thread.
 * Later, any thread fills the response and calls http_request_complete(),
 * which resumes the connection and sends the response.  Completing may
 * even happen before the handler has returned; the server copes.
 *
 * Threads: a request belongs to one thread at a time: the server thread
 * that runs the handler, then (when deferred) whoever completes it.  The
 * accessors do not lock.  Strings returned by accessors are owned by the
 * request and live until it is freed (for deferred requests: until
 * http_request_complete() returns). */
#ifndef NOVA_HTTP_REQUEST_H
#define NOVA_HTTP_REQUEST_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "shared/compiler.h"
#include "shared/cleanup.h"
#include "api-cell/api-version.h"

struct error;
struct json_object;
struct log_ctx;

/* Limits on what a client may send in the request target.  Beyond them
 * the request is refused with 400 (the header block as a whole is bounded
 * by the server's per-connection memory, HTTP_SERVER_CONNECTION_MEMORY). */
#define HTTP_MAX_TARGET_SIZE 8192       /* bytes of path and query */
#define HTTP_MAX_QUERY_PARAMS 128       /* name=value pairs in the query */
#define HTTP_MAX_PATH_SEGMENTS 32       /* '/'-separated path components */

/* X-macro: method, name on the wire. */
#define HTTP_METHODS(X)                 \
    X(HTTP_GET, "GET")                  \
    X(HTTP_HEAD, "HEAD")                \
    X(HTTP_POST, "POST")                \
    X(HTTP_PUT, "PUT")                  \
    X(HTTP_PATCH, "PATCH")              \
    X(HTTP_DELETE, "DELETE")            \
    X(HTTP_OPTIONS, "OPTIONS")

enum http_method {
#define HTTP_METHOD_ENUM(method, name) method,
    HTTP_METHODS(HTTP_METHOD_ENUM)
#undef HTTP_METHOD_ENUM
    HTTP_N_METHODS
};

/* "GET" for HTTP_GET; "?" for a value out of range. */
const char *http_method_to_string(enum http_method);
/* Returns 0 and sets '*ret_method' for a known method name (exact case,
 * as HTTP requires), or -EINVAL. */
int http_method_from_string(const char *name, enum http_method *ret_method);

/* ---- Authentication ------------------------------------------------- */

/* Who made an authenticated request, as the token validator found it
 * (http-server.h, http_auth_validator).  All strings are owned by the
 * struct (xstrdup'ed); any may be NULL when the token does not say. */
struct http_auth {
    char *user_id;
    char *user_name;
    char *user_domain_id;
    char *project_id;           /* the token's scope: every compute
                                 * resource is scoped to it */
    char *project_name;
    char *project_domain_id;
    char **roles;               /* role names, 'n_roles' of them */
    size_t n_roles;
    bool is_admin;              /* set by the validator (policy decides
                                 * what makes an admin) */
    int64_t expires_at_ms;      /* token expiry, ms since the epoch; 0 =
                                 * unknown */
};

/* Zeroes '*auth'. */
void http_auth_init(struct http_auth *auth);
/* Frees what '*auth' owns and zeroes it; NULL is accepted. */
void http_auth_destroy(struct http_auth *auth);
/* Copies 'src' into 'dst', which is overwritten without being freed. */
void http_auth_clone(struct http_auth *dst, const struct http_auth *src);
/* Appends a copy of 'role'. */
void http_auth_add_role(struct http_auth *auth, const char *role);
/* True if 'auth' has role 'role' (compared without regard to case, as
 * oslo.policy does). */
bool http_auth_has_role(const struct http_auth *auth, const char *role);

/* ---- Requests ------------------------------------------------------- */

struct http_request;

/* Creates a request for 'method' and the request target 'target' (the
 * path and optional query, as on the request line: "/v2.1/servers?
 * status=ACTIVE").  The path is split on '/' and each segment
 * percent-decoded; the query is split on '&' into name=value pairs, '+'
 * meaning a space, each part percent-decoded.  A malformed escape ("%zz")
 * is kept as it is, as Python's unquote() does; an escape that decodes to
 * NUL, a target without a leading '/', one longer than
 * HTTP_MAX_TARGET_SIZE or with more than HTTP_MAX_QUERY_PARAMS pairs or
 * HTTP_MAX_PATH_SEGMENTS segments is an ERROR_INVALID error.  The request
 * id starts out NULL and the version as 2.1 (the server sets both).
 *
 * On success stores a new request, freed with http_request_free(), in
 * '*ret_request'. */
struct error *http_request_new(enum http_method method, const char *target,
                               struct http_request **ret_request)
    WARN_UNUSED;
void http_request_free(struct http_request *);
DEFINE_FREEP(struct http_request, http_request_free)

enum http_method http_request_method(const struct http_request *);

/* The path, percent-decoded, as the client sent it apart from that (a
 * trailing slash kept). */
const char *http_request_path(const struct http_request *);

/* The number of decoded path segments and segment 'i' of them: "/v2.1/
 * servers/x" has 3 ("v2.1", "servers", "x"); "/" has none; a trailing
 * slash does not add an empty segment.  (For the router.) */
size_t http_request_n_segments(const struct http_request *);
const char *http_request_segment(const struct http_request *, size_t i);
/* True if the path ends in '/' and is not just "/". */
bool http_request_has_trailing_slash(const struct http_request *);

/* The value of path parameter 'name' ("server_id" for a route template
 * "/v2.1/servers/{server_id}"), or NULL if the matched route has none of
 * that name. */
const char *http_request_param(const struct http_request *,
                               const char *name);
/* Sets path parameter 'name' to a copy of 'value' (the router does);
 * http_request_clear_params() forgets them all. */
void http_request_set_param(struct http_request *, const char *name,
                            const char *value);
void http_request_clear_params(struct http_request *);

/* Query parameters.  http_request_query() returns the first value of
 * 'name' (NULL if absent; "" for "?name" or "?name="); the _count and
 * _nth forms give every value of a repeated parameter in the order sent.
 * http_request_n_query() and http_request_query_at() list all pairs, for
 * handlers that reject unknown parameters. */
const char *http_request_query(const struct http_request *, const char *name);
size_t http_request_query_count(const struct http_request *,
                                const char *name);
const char *http_request_query_nth(const struct http_request *,
                                   const char *name, size_t i);
size_t http_request_n_query(const struct http_request *);
void http_request_query_at(const struct http_request *, size_t i,
                           const char **ret_name, const char **ret_value);

/* The value of request header 'name' (compared without regard to case),
 * or NULL.  When a header is repeated, the first value. */
const char *http_request_header(const struct http_request *,
                                const char *name);
/* Adds a header (the server copies them in; tests use it too). */
void http_request_add_header(struct http_request *, const char *name,
                             const char *value);

/* The raw body ('*ret_size' bytes, NUL-terminated for convenience; NULL
 * and 0 when there is none). */
const char *http_request_body_text(const struct http_request *,
                                   size_t *ret_size);
/* The parsed JSON body, borrowed from the request, or NULL when the
 * request has no body.  (A body that is not JSON never reaches a handler:
 * the server answers 400 "Malformed request body" first.) */
struct json_object *http_request_body(const struct http_request *);

/* Takes a copy of the 'size' bytes of 'text' as the raw body and, when
 * 'size' > 0, parses it with json_parse_text() (at most 'max_size' bytes,
 * 0 = unlimited).  Returns the parse error, keeping the raw text, or NULL.
 * (The server calls it; tests use it too.) */
struct error *http_request_set_body(struct http_request *, const char *text,
                                    size_t size, size_t max_size)
    WARN_UNUSED;

/* The body sink of a HTTP_ROUTE_RAW_BODY route (http-router.h): the
 * state its open() made, or NULL (other routes, or once closed).  The
 * server sets it; the request does not own it. */
void *http_request_body_sink(const struct http_request *);
void http_request_set_body_sink(struct http_request *, void *sink);

/* The request id "req-<uuid>": the client's X-OpenStack-Request-ID when
 * it was valid, else a new one.  Never NULL once the server has it. */
const char *http_request_id(const struct http_request *);
void http_request_set_id(struct http_request *, const char *request_id);

/* A log context whose request id is this request's, for LOG_INFO_CTX()
 * and friends.  Owned by the request. */
const struct log_ctx *http_request_log_ctx(const struct http_request *);

/* The caller's identity on an authenticated route, or NULL on a public
 * route (where no token is read). */
const struct http_auth *http_request_auth(const struct http_request *);
/* Stores a copy of 'auth' (NULL clears it). */
void http_request_set_auth(struct http_request *,
                           const struct http_auth *auth);

/* The negotiated compute API microversion (api-version.h): 2.1 when the
 * client asked for none. */
struct api_version http_request_version(const struct http_request *);
void http_request_set_version(struct http_request *, struct api_version);

/* The URL the client reached the API at, without a trailing slash
 * ("http://controller:8774"): the configured public endpoint
 * (api.public_endpoint), else "http://" + the Host header, else the
 * listen address.  Version documents and resource links are built on it.
 * Never NULL once the server has set it. */
const char *http_request_base_url(const struct http_request *);
void http_request_set_base_url(struct http_request *, const char *base_url);

/* The client's address ("127.0.0.1"), or NULL when unknown. */
const char *http_request_peer(const struct http_request *);
void http_request_set_peer(struct http_request *, const char *peer);

/* ---- Responses ------------------------------------------------------ */

/* The reason phrase of HTTP status 'status' ("Not Found"), or "Unknown"
 * for a code this server never sends. */
const char *http_response_reason(int status);

/* What a handler fills in.  Owned by the server (or the test), passed to
 * the handler next to the request; a deferred request's response stays
 * valid until http_request_complete(). */
struct http_response;

struct http_response *http_response_new(void);
void http_response_free(struct http_response *);
DEFINE_FREEP(struct http_response, http_response_free)

/* Sets status 'status' and JSON body 'body', taking ownership of the
 * reference 'body' (NULL = no body).  Replaces an earlier body. */
void http_response_set_json(struct http_response *, int status,
                            struct json_object *body);
/* Sets 'status' with no body (204 No Content, 202 Accepted). */
void http_response_set_status(struct http_response *, int status);
/* Sets a body that is not JSON: a copy of 'size' bytes at 'data', sent
 * with 'content_type'. */
void http_response_set_body(struct http_response *, int status,
                            const char *content_type, const void *data,
                            size_t size);
/* Sets a body read from the file open on 'fd' (taken over: closed with
 * the response), 'size' bytes from its current offset, sent with
 * 'content_type' without being read into memory (downloads). */
void http_response_set_file(struct http_response *, int status,
                            const char *content_type, int fd,
                            uint64_t size);
/* For the server: hands over the file of http_response_set_file() (the
 * caller closes it) and its size, or returns -1 when there is none.  The
 * content type stays readable through http_response_body(). */
int http_response_take_file(struct http_response *, uint64_t *ret_size);

/* Adds header 'name: value' (copied).  A handler's header is sent as
 * given, after the ones the server adds. */
void http_response_add_header(struct http_response *, const char *name,
                              const char *value);

/* Reading a response back (the server and tests).  The status is 200
 * until something sets it.  http_response_json() is borrowed, NULL when
 * there is no JSON body; http_response_body() gives the serialised body
 * (JSON is rendered on the first call) and its content type, or NULL. */
int http_response_status(const struct http_response *);
struct json_object *http_response_json(const struct http_response *);
const char *http_response_body(struct http_response *, size_t *ret_size,
                               const char **ret_content_type);
size_t http_response_n_headers(const struct http_response *);
void http_response_header_at(const struct http_response *, size_t i,
                             const char **ret_name, const char **ret_value);
/* The value of header 'name' (without regard to case), or NULL. */
const char *http_response_header(const struct http_response *,
                                 const char *name);

/* ---- Deferred requests ---------------------------------------------- */

/* Called by a handler that will answer later; it then returns NULL and
 * must not touch the request again except to complete it (the server
 * ignores the response until then).  Calling it from anything but a
 * handler is a programmer error. */
void http_request_defer(struct http_request *);

/* True once http_request_defer() was called. */
bool http_request_is_deferred(const struct http_request *);

/* Completes a deferred request, from any thread: 'error' (taken over;
 * NULL = success) or the response the handler was given is sent.  The
 * request and its response must not be used by the caller afterwards:
 * they may be freed before this returns. */
void http_request_complete(struct http_request *, struct error *error);

/* How a deferred request is completed: the server installs this; the
 * default (no server, as in unit tests) only records the error, which
 * http_request_take_completion() hands back. */
typedef void http_request_complete_func(struct http_request *,
                                        struct error *error, void *aux);
void http_request_set_completion(struct http_request *,
                                 http_request_complete_func *, void *aux);
/* For tests without a server: returns true if the request was completed,
 * storing the error (NULL for success) in '*ret_error'. */
bool http_request_take_completion(struct http_request *,
                                  struct error **ret_error);

#endif /* NOVA_HTTP_REQUEST_H */
