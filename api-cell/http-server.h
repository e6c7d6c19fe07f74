/* http-server.h: nova-api's HTTP server, over libmicrohttpd.
 *
 * This is the header API modules include: it brings in the request and
 * response (http-request.h), the router (http-router.h) and microversions
 * (api-version.h).
 *
 *     struct http_router *router = http_router_new();
 *     api_versions_doc_register(router);         version documents
 *     identity_api_register(router, identity);   /v3/... (public + auth)
 *     ...
 *     struct http_server_config cfg;
 *     http_server_config_init(&cfg);             defaults, then config
 *     struct http_server *server;
 *     error = http_server_new(&cfg, router, &server);
 *     http_server_set_auth_validator(server, identity_api_validate,
 *                                    identity);
 *     error = http_server_start(server);
 *     ... main loop until SIGTERM ...
 *     http_server_shutdown(server, HTTP_SERVER_DEFAULT_GRACE_MS);
 *     http_server_free(server);
 *
 * Threads.  libmicrohttpd runs an internal pool of 'n_threads' threads,
 * each with its own epoll set; the listening socket is shared.  Handlers
 * run on those threads and must not block for long (GNU libmicrohttpd
 * manual, "Flow control"): a request that waits for RPC is deferred
 * (http-request.h) and its connection suspended, which frees the thread.
 *
 * A handler that needs per-thread resources (a database connection: one
 * 'MYSQL *' per thread) keeps them in thread-local storage; the pool's
 * threads live as long as the server.
 *
 * For every request the server, in order:
 *   1. takes the request id from X-OpenStack-Request-ID when
 *      request_id_is_valid(), else makes one (request_id_new());
 *   2. reads the body, up to 'max_body_size' bytes: a larger declared
 *      size (Content-Length) is refused with 413 and a fault body before
 *      the body is sent; a larger chunked body is read and dropped, then
 *      refused the same way (past 4 times the limit the connection is
 *      simply closed); a HTTP_ROUTE_RAW_BODY route (an upload) is
 *      routed and authenticated first, and its body streamed to the
 *      route's body sink under the route's own limit (http-router.h);
 *   3. finds the route (404 itemNotFound, 405 badMethod + Allow);
 *   4. on routes that are not HTTP_ROUTE_PUBLIC, authenticates: reads
 *      X-Auth-Token and calls the validator (below), before anything else
 *      looks at the request, as keystonemiddleware runs before Nova; a
 *      project id in the URL must then be the token's (400);
 *   5. negotiates the microversion (api-version.h: 400 or 406) unless the
 *      route says HTTP_ROUTE_NO_MICROVERSION;
 *   6. parses a non-empty body as JSON (400 "Malformed request body");
 *   7. calls the handler, and sends its response or its error's fault.
 * Every response carries X-OpenStack-Request-ID and X-Compute-Request-Id
 * (same value; unlike oslo.middleware, which always makes a new local id
 * and keeps the client's as the "global" one, the client's valid id is
 * the request id), compute responses past step 5 the microversion headers
 * and Vary, JSON bodies "Content-Type: application/json".  Nova answers
 * GET / with 200, not 300 Multiple Choices (api-versions-doc.h).  One
 * INFO line is logged per request, with the request id as a field:
 *     127.0.0.1 "GET /v2.1/" status: 200 len: 388 microversion: 2.1
 *     time: 0.412 ms
 *
 * Authentication failures are answered as keystonemiddleware's auth_token
 * filter answers them in front of Nova: 401 with
 *     WWW-Authenticate: Keystone uri="<auth uri>"
 *     {"error": {"code": 401, "title": "Unauthorized",
 *      "message": "The request you have made requires authentication."}}
 * for a missing token, and for a token the validator refused with
 * ERROR_UNAUTHORIZED (the validator's message is logged, not sent).  Any
 * other validator error (the identity store is down) is sent as its fault
 * (503 and so on).
 *
 * Internal errors (ERROR_INTERNAL) are logged with their message; the
 * client gets a computeFault that names the request id instead. */
#ifndef NOVA_HTTP_SERVER_H
#define NOVA_HTTP_SERVER_H 1

#include <stdbool.h>
#include <stddef.h>
#include "shared/compiler.h"
#include "shared/cleanup.h"
#include "api-cell/api-version.h"
#include "api-cell/http-request.h"
#include "api-cell/http-router.h"

struct error;

/* Defaults and bounds of the configuration (nova-api's api.* keys). */
#define HTTP_SERVER_DEFAULT_ADDRESS "127.0.0.1"
#define HTTP_SERVER_DEFAULT_PORT 8774
#define HTTP_SERVER_DEFAULT_THREADS 2
#define HTTP_SERVER_MAX_THREADS 256
#define HTTP_SERVER_DEFAULT_MAX_BODY_SIZE 1048576    /* 1 MiB */
#define HTTP_SERVER_MAX_MAX_BODY_SIZE (64 * 1024 * 1024)
#define HTTP_SERVER_DEFAULT_CONNECTION_LIMIT 1000
#define HTTP_SERVER_DEFAULT_CONNECTION_TIMEOUT_S 60         /* idle */
#define HTTP_SERVER_DEFAULT_GRACE_MS 10000   /* in-flight at shutdown */

/* Bytes of memory per connection for the request line, headers and the
 * response header block (libmicrohttpd's MHD_OPTION_CONNECTION_MEMORY_
 * LIMIT); a request line with headers that do not fit gets 414 or 431. */
#define HTTP_SERVER_CONNECTION_MEMORY (64 * 1024)

/* Longest listen address, public endpoint or auth URI accepted. */
#define HTTP_SERVER_MAX_URL_SIZE 1024

/* X-Auth-Token values longer than this are refused (401) unread. */
#define HTTP_SERVER_MAX_TOKEN_SIZE 8192

struct http_server_config {
    const char *listen_address; /* numeric IPv4 or IPv6 address */
    int port;                   /* 0 = any free port (tests) */
    unsigned int n_threads;     /* libmicrohttpd's thread pool */
    unsigned int connection_limit;
    unsigned int connection_timeout_s;  /* idle keep-alive connections
                                         * are closed after this; 0 =
                                         * never */
    size_t max_body_size;       /* bytes; larger bodies get 413 */
    const char *public_endpoint;    /* "https://api.example.com:8774", or
                                     * NULL to use the Host header */
    const char *auth_uri;       /* for WWW-Authenticate; NULL = the
                                 * request's base URL */
};

/* Fills 'cfg' with the defaults above (strings are literals). */
void http_server_config_init(struct http_server_config *cfg);

/* Checks a token.  Called on a server thread for each request to a route
 * that is not public and carries an X-Auth-Token, with 'token' its value
 * and 'req' the request (for its log context; the route, path and
 * parameters are known, the body not yet parsed).  On success fills
 * '*ret_auth' (zeroed by the caller; strings xstrdup'ed, owned by the
 * struct) and returns NULL.  Returns ERROR_UNAUTHORIZED for an invalid or
 * expired token, any other kind for a failure to check it.  Must not block
 * for long; must be thread-safe (the pool runs several at once). */
typedef struct error *http_auth_validator(void *aux,
                                          const struct http_request *req,
                                          const char *token,
                                          struct http_auth *ret_auth);

struct http_server;

/* Creates a server for 'router', which it borrows: the router must outlive
 * the server and not change once the server has started.  'cfg' is
 * copied.  Checks the configuration (ERROR_INVALID) but binds nothing. */
struct error *http_server_new(const struct http_server_config *cfg,
                              const struct http_router *router,
                              struct http_server **ret_server) WARN_UNUSED;

/* Installs the token validator (one per server; a later call replaces
 * it).  Call before http_server_start().  Without a validator every
 * authenticated route answers 401. */
void http_server_set_auth_validator(struct http_server *,
                                    http_auth_validator *validator,
                                    void *aux);

/* Binds and starts the thread pool.  Errors: ERROR_UNAVAILABLE when the
 * address cannot be bound (in use, not local), with the reason. */
struct error *http_server_start(struct http_server *) WARN_UNUSED;

/* The port actually bound (useful with port 0), or 0 before start. */
int http_server_port(const struct http_server *);

/* The number of requests that have begun and not yet been answered
 * (deferred ones included). */
size_t http_server_n_inflight(const struct http_server *);

/* Stops gracefully: stops accepting connections at once, lets requests
 * in flight finish for up to 'grace_ms' milliseconds, then answers the
 * deferred requests still waiting with 503 and stops the threads, closing
 * idle connections.  Returns true if every request in flight finished on
 * its own.  Call from the thread that started the server; calling it
 * again, or on a server never started, does nothing and returns true. */
bool http_server_shutdown(struct http_server *, int grace_ms);

/* Shuts down with HTTP_SERVER_DEFAULT_GRACE_MS if still running, and
 * frees.  NULL is accepted. */
void http_server_free(struct http_server *);
DEFINE_FREEP(struct http_server, http_server_free)

#endif /* NOVA_HTTP_SERVER_H */
