/* http-server.c: nova-api's HTTP server over libmicrohttpd (see
 * http-server.h).
 *
 * One 'struct http_exchange' follows each HTTP request.  libmicrohttpd
 * calls the URI log callback first, with the raw request target (before
 * it unescapes anything): the exchange is made there and becomes the
 * request's 'con_cls', so the path and query are parsed by
 * http_request_new() with our own percent-decoding (segment by segment,
 * which libmicrohttpd's whole-URL unescaping cannot do).  The access
 * handler is then called
 *
 *   1. once the headers are in: the request object is built, the request
 *      id chosen, early errors answered (bad target, body declared too
 *      large: 413 before the body is sent);
 *   2. once per piece of body: the body is gathered up to max_body_size;
 *   3. once the body is complete: route, authenticate, negotiate the
 *      microversion, parse the body, run the handler, answer;
 *   4. for a deferred request, once more after it was resumed: answer.
 *
 * Deferred requests.  A handler calls http_request_defer() and returns;
 * the connection is suspended (MHD_suspend_connection(), which frees the
 * pool thread) until some thread calls http_request_complete(), which
 * resumes it (MHD_resume_connection()).  Completion may come before the
 * handler has returned; then nothing is suspended.  The deferral state of
 * every exchange is guarded by one process-wide mutex, 'http_defer_mutex':
 * deferrals are rare (requests that wait for RPC) so it is never
 * contended, and, unlike a per-server lock, it outlives the server, which
 * matters for the one case below.
 *
 * Lifetime.  An exchange has two references while deferred: the
 * connection's (dropped when libmicrohttpd reports the request complete)
 * and the completer's (dropped by http_request_complete()).  At shutdown,
 * deferred requests still waiting after the grace period are answered 503
 * and "abandoned": their eventual http_request_complete() only drops the
 * last reference.  (A completer that never calls it leaks the exchange;
 * the process is exiting anyway.)
 *
 * Shutdown (http_server_shutdown()): MHD_quiesce_daemon() stops accepting
 * at once; responses sent from then on carry "Connection: close"; the
 * requests in flight get 'grace_ms' to finish; deferred ones left are
 * answered 503; once libmicrohttpd has resumed every suspended connection
 * (stopping with one suspended is not allowed) the daemon is stopped,
 * which closes idle keep-alive connections.
 *
 * Lock order: http_defer_mutex, then server->mutex. */
#include <config.h>
#include "api-cell/http-server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>
#include <microhttpd.h>

#include "shared/cleanup.h"
#include "shared/error.h"
#include "shared/json-util.h"
#include "shared/log.h"
#include "shared/uuid-util.h"
#include "shared/xalloc.h"

LOG_MODULE("api.http");

/* A body sent in pieces (chunked) that passes max_body_size is read and
 * thrown away, so that the 413 can be sent, until this many times
 * max_body_size has arrived; then the connection is closed. */
#define HTTP_SERVER_DISCARD_FACTOR 4

/* Pending connections queued by the kernel on the listening socket. */
#define HTTP_SERVER_LISTEN_BACKLOG 128

/* How long shutdown waits, after answering the last deferred requests,
 * for libmicrohttpd to resume their connections; it warns each time this
 * passes and keeps waiting, since stopping with a suspended connection is
 * not allowed. */
#define HTTP_SERVER_RESUME_WAIT_MS 1000

/* Longest request target written in a log line; the rest is cut. */
#define HTTP_SERVER_LOG_URI_MAX 1024

/* Longest Host header used to build links. */
#define HTTP_SERVER_MAX_HOST_SIZE 255

/* What keystonemiddleware says for a missing or refused token. */
#define HTTP_SERVER_AUTH_MESSAGE \
    "The request you have made requires authentication."

#define HTTP_SERVER_NOT_FOUND_MESSAGE "The resource could not be found."

/* Request headers read by the server. */
#define HTTP_HEADER_REQUEST_ID "X-OpenStack-Request-ID"
#define HTTP_HEADER_COMPUTE_REQUEST_ID "X-Compute-Request-Id"
#define HTTP_HEADER_AUTH_TOKEN "X-Auth-Token"

static pthread_mutex_t http_defer_mutex = PTHREAD_MUTEX_INITIALIZER;

enum http_exchange_state {
    HTTP_EXCHANGE_NEW,          /* headers not seen yet */
    HTTP_EXCHANGE_RECEIVING,    /* reading the body */
    HTTP_EXCHANGE_DEFERRED,     /* suspended, waiting for completion */
    HTTP_EXCHANGE_ANSWERED,     /* response queued */
};

struct http_exchange {
    struct http_server *server;
    struct MHD_Connection *connection;
    enum http_exchange_state state;
    char *raw_uri;
    char *method_name;
    int64_t start_us;           /* monotonic */
    struct http_request *req;
    struct http_response *resp; /* the handler's */
    struct http_response *fault;    /* the server's own answer, or NULL */
    unsigned int flags;         /* the route's HTTP_ROUTE_* */
    bool version_headers;       /* echo the microversion */

    /* Body. */
    char *body;
    size_t body_size;
    size_t body_allocated;
    size_t discarded;
    bool too_large;

    /* A HTTP_ROUTE_RAW_BODY route: its body goes to 'sink', not 'body'. */
    const struct http_route *raw_route;
    void *sink;                 /* open sink, or NULL */
    uint64_t raw_size;          /* bytes given to the sink */
    struct error *sink_error;   /* the sink's write() failed */

    int refs;                   /* atomic */

    /* Deferral: guarded by http_defer_mutex. */
    bool suspended;
    bool completed;
    bool abandoned;
    struct error *completion_error;
    struct http_exchange *prev, *next;  /* server->deferred list */
    bool listed;
};

struct http_server {
    struct http_server_config cfg;  /* strings point at the copies: */
    char *listen_address;
    char *public_endpoint;
    char *auth_uri;
    const struct http_router *router;
    http_auth_validator *validator;
    void *validator_aux;

    struct MHD_Daemon *daemon;
    int listen_fd;              /* after quiesce: ours to close */
    int port;
    char *default_base_url;
    bool started;
    bool stopped;
    int stopping;               /* atomic: set at shutdown */

    pthread_mutex_t mutex;
    pthread_cond_t cond;        /* n_inflight or n_suspended went down */
    size_t n_inflight;          /* guarded by 'mutex' */
    size_t n_suspended;         /* guarded by 'mutex' */

    /* Deferred, not yet completed: guarded by http_defer_mutex. */
    struct http_exchange *deferred_head;
};

static int64_t
http_monotonic_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void
http_server_config_init(struct http_server_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->listen_address = HTTP_SERVER_DEFAULT_ADDRESS;
    cfg->port = HTTP_SERVER_DEFAULT_PORT;
    cfg->n_threads = HTTP_SERVER_DEFAULT_THREADS;
    cfg->connection_limit = HTTP_SERVER_DEFAULT_CONNECTION_LIMIT;
    cfg->connection_timeout_s = HTTP_SERVER_DEFAULT_CONNECTION_TIMEOUT_S;
    cfg->max_body_size = HTTP_SERVER_DEFAULT_MAX_BODY_SIZE;
    cfg->public_endpoint = NULL;
    cfg->auth_uri = NULL;
}

/* ---- Exchanges ------------------------------------------------------ */

static struct http_exchange *
http_exchange_new(struct http_server *server, const char *uri)
{
    struct http_exchange *ex = xzalloc(sizeof *ex);

    ex->server = server;
    ex->raw_uri = xstrdup(uri ? uri : "");
    ex->start_us = http_monotonic_us();
    ex->resp = http_response_new();
    ex->refs = 1;
    pthread_mutex_lock(&server->mutex);
    server->n_inflight++;
    pthread_mutex_unlock(&server->mutex);
    return ex;
}

/* Closes the body sink of 'ex', if open. */
static void
http_exchange_close_sink(struct http_exchange *ex)
{
    if (ex->sink) {
        if (ex->req) {
            http_request_set_body_sink(ex->req, NULL);
        }
        ex->raw_route->sink->close(TAKE_PTR(ex->sink));
    }
}

static void
http_exchange_free(struct http_exchange *ex)
{
    http_exchange_close_sink(ex);
    error_free(ex->sink_error);
    http_request_free(ex->req);
    http_response_free(ex->resp);
    http_response_free(ex->fault);
    error_free(ex->completion_error);
    free(ex->body);
    free(ex->raw_uri);
    free(ex->method_name);
    free(ex);
}

/* Drops a reference.  Returns true if that was the last one (the caller
 * then frees 'ex', after unlocking what it holds).  Atomic, so that the
 * completion callback of libmicrohttpd takes no lock. */
static bool
http_exchange_unref(struct http_exchange *ex)
{
    return __atomic_sub_fetch(&ex->refs, 1, __ATOMIC_ACQ_REL) == 0;
}

static void
http_server_unlist_locked(struct http_server *server,
                          struct http_exchange *ex)
{
    if (!ex->listed) {
        return;
    }
    if (ex->prev) {
        ex->prev->next = ex->next;
    } else {
        server->deferred_head = ex->next;
    }
    if (ex->next) {
        ex->next->prev = ex->prev;
    }
    ex->prev = ex->next = NULL;
    ex->listed = false;
}

/* ---- Responses ------------------------------------------------------ */

static bool
http_server_is_stopping(const struct http_server *server)
{
    return __atomic_load_n(&server->stopping, __ATOMIC_ACQUIRE);
}

/* Copies 's' for a log line, replacing control characters and cutting
 * it after HTTP_SERVER_LOG_URI_MAX bytes. */
static char *
http_server_log_safe(const char *s)
{
    char *copy = strlen(s) > HTTP_SERVER_LOG_URI_MAX
                 ? xasprintf("%.*s...", HTTP_SERVER_LOG_URI_MAX, s)
                 : xstrdup(s);

    for (char *p = copy; *p; p++) {
        if ((unsigned char) *p < 0x20 || *p == 0x7f) {
            *p = '?';
        }
    }
    return copy;
}

/* Sends 'resp' (the handler's or the server's own) with the headers
 * every response carries, and logs the request line. */
static enum MHD_Result
http_server_send(struct http_exchange *ex, struct http_response *resp)
{
    struct MHD_Response *mresp;
    const char *content_type = NULL;
    size_t size = 0;
    const char *body = http_response_body(resp, &size, &content_type);
    int status = http_response_status(resp);
    const char *request_id = ex->req ? http_request_id(ex->req) : NULL;
    char version[API_VERSION_STRING_SIZE] = "-";
    enum MHD_Result result;
    AUTOFREE char *uri = http_server_log_safe(ex->raw_uri);
    AUTOFREE char *method = http_server_log_safe(ex->method_name
                                                 ? ex->method_name : "?");
    struct log_ctx no_ctx = { NULL, NULL, NULL };
    const char *peer = ex->req ? http_request_peer(ex->req) : NULL;
    uint64_t file_size = 0;
    int fd = http_response_take_file(resp, &file_size);

    if (fd >= 0) {
        /* libmicrohttpd reads the file as the client takes it, and
         * closes it. */
        mresp = MHD_create_response_from_fd64(file_size, fd);
        if (!mresp) {
            (void) close(fd);
        }
        size = (size_t) file_size;
    } else {
        mresp = MHD_create_response_from_buffer(
            size, (void *) (body ? body : ""), MHD_RESPMEM_MUST_COPY);
    }
    if (!mresp) {
        LOG_ERR("cannot create a response, closing the connection");
        return MHD_NO;
    }
    if (request_id) {
        MHD_add_response_header(mresp, HTTP_HEADER_REQUEST_ID, request_id);
        MHD_add_response_header(mresp, HTTP_HEADER_COMPUTE_REQUEST_ID,
                                request_id);
    }
    if (ex->version_headers && ex->req) {
        AUTOFREE char *value = NULL;

        api_version_format(http_request_version(ex->req), version);
        value = xasprintf("%s %s", API_VERSION_SERVICE, version);
        MHD_add_response_header(mresp, API_VERSION_HEADER, value);
        MHD_add_response_header(mresp, API_VERSION_LEGACY_HEADER, version);
        MHD_add_response_header(mresp, "Vary", API_VERSION_VARY);
    }
    if (content_type) {
        MHD_add_response_header(mresp, "Content-Type", content_type);
    }
    for (size_t i = 0; i < http_response_n_headers(resp); i++) {
        const char *name, *value;

        http_response_header_at(resp, i, &name, &value);
        MHD_add_response_header(mresp, name, value);
    }
    if (http_server_is_stopping(ex->server)) {
        MHD_add_response_header(mresp, "Connection", "close");
    }
    result = MHD_queue_response(ex->connection, (unsigned int) status, mresp);
    MHD_destroy_response(mresp);
    ex->state = HTTP_EXCHANGE_ANSWERED;

    LOG_INFO_CTX(ex->req ? http_request_log_ctx(ex->req) : &no_ctx,
                 "%s \"%s %s\" status: %d len: %zu microversion: %s "
                 "time: %.3f ms", peer ? peer : "-", method, uri, status,
                 size, version,
                 (double) (http_monotonic_us() - ex->start_us) / 1000.0);
    return result;
}

/* Keystone's error body: {"error": {"code", "title", "message"}}. */
static struct json_object *
http_server_keystone_error(int status, const char *message)
{
    struct json_object *inner = json_object_new_object();
    struct json_object *outer = json_object_new_object();

    json_object_object_add(inner, "code", json_object_new_int(status));
    json_object_object_add(inner, "title",
                           json_object_new_string(
                               http_response_reason(status)));
    json_object_object_add(inner, "message",
                           json_object_new_string(message));
    json_object_object_add(outer, "error", inner);
    return outer;
}

/* Nova's fault body for a status error.h has no kind for. */
static struct json_object *
http_server_nova_fault(const char *name, int status, const char *message)
{
    struct json_object *inner = json_object_new_object();
    struct json_object *outer = json_object_new_object();

    json_object_object_add(inner, "code", json_object_new_int(status));
    json_object_object_add(inner, "message",
                           json_object_new_string(message));
    json_object_object_add(outer, name, inner);
    return outer;
}

/* Returns a new server response (replacing an earlier one), leaving the
 * handler's alone: after a deferred request was abandoned at shutdown its
 * completer may still be writing to that one. */
static struct http_response *
http_server_new_fault(struct http_exchange *ex)
{
    http_response_free(ex->fault);
    ex->fault = http_response_new();
    return ex->fault;
}

/* Makes the fault response for 'error', which it frees. */
static struct http_response *
http_server_error_response(struct http_exchange *ex, struct error *error)
{
    struct http_response *resp = http_server_new_fault(ex);
    int status = error_http_status(error);
    AUTOFREE char *internal = NULL;
    const char *message = error_message(error);
    struct log_ctx no_ctx = { NULL, NULL, NULL };
    const struct log_ctx *ctx = ex->req ? http_request_log_ctx(ex->req)
                                        : &no_ctx;

    if (error_kind(error) == ERROR_INTERNAL) {
        LOG_ERR_CTX(ctx, "unexpected API error: %s", message);
        internal = xasprintf("Unexpected API Error. Please report this "
                             "and attach the nova-api log of request %s "
                             "if possible.", ex->req && http_request_id(
                                 ex->req) ? http_request_id(ex->req)
                                          : "(unknown)");
        message = internal;
    }
    if (ex->flags & HTTP_ROUTE_IDENTITY) {
        http_response_set_json(resp, status,
                               http_server_keystone_error(status, message));
    } else if (internal) {
        http_response_set_json(resp, status,
                               http_server_nova_fault(
                                   error_fault_name(error), status,
                                   message));
    } else {
        http_response_set_json(resp, status, error_to_fault_json(error));
    }
    error_free(error);
    return resp;
}

static enum MHD_Result
http_server_send_error(struct http_exchange *ex, struct error *error)
{
    return http_server_send(ex, http_server_error_response(ex, error));
}

/* The 401 keystonemiddleware sends. */
static enum MHD_Result
http_server_send_unauthorized(struct http_exchange *ex)
{
    const char *uri = ex->server->auth_uri ? ex->server->auth_uri
                                           : http_request_base_url(ex->req);
    AUTOFREE char *header = xasprintf("Keystone uri=\"%s\"", uri);
    struct http_response *resp = http_server_new_fault(ex);

    http_response_set_json(resp, 401,
                           http_server_keystone_error(
                               401, HTTP_SERVER_AUTH_MESSAGE));
    http_response_add_header(resp, "WWW-Authenticate", header);
    ex->version_headers = false;
    return http_server_send(ex, resp);
}

/* ---- Building the request ------------------------------------------- */

static enum MHD_Result
http_server_copy_header(void *cls, enum MHD_ValueKind kind, const char *key,
                        const char *value)
{
    struct http_request *req = cls;

    if (key) {
        http_request_add_header(req, key, value ? value : "");
    }
    return MHD_YES;
}

/* True if 'host' is safe to paste into a URL. */
static bool
http_server_host_is_valid(const char *host)
{
    size_t size = strlen(host);

    if (size == 0 || size > HTTP_SERVER_MAX_HOST_SIZE) {
        return false;
    }
    for (const char *p = host; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
              || (*p >= '0' && *p <= '9') || strchr(".-_:[]", *p))) {
            return false;
        }
    }
    return true;
}

static void
http_server_set_peer(struct http_exchange *ex)
{
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(
        ex->connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    char text[INET6_ADDRSTRLEN] = "";

    if (!info || !info->client_addr) {
        return;
    }
    if (info->client_addr->sa_family == AF_INET) {
        const struct sockaddr_in *sin =
            (const struct sockaddr_in *) (const void *) info->client_addr;
        inet_ntop(AF_INET, &sin->sin_addr, text, sizeof text);
    } else if (info->client_addr->sa_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 =
            (const struct sockaddr_in6 *) (const void *) info->client_addr;
        inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof text);
    }
    if (text[0]) {
        http_request_set_peer(ex->req, text);
    }
}

/* The origin-form part of a request target: "/v2.1/x?y" of
 * "http://host:8774/v2.1/x?y" (the absolute form HTTP/1.1 servers must
 * accept), else 'target' itself. */
static const char *
http_server_origin_form(const char *target)
{
    const char *p = NULL;

    if (!strncasecmp(target, "http://", 7)) {
        p = target + 7;
    } else if (!strncasecmp(target, "https://", 8)) {
        p = target + 8;
    }
    if (!p) {
        return target;
    }
    p += strcspn(p, "/?");
    return *p == '/' ? p : "/";
}

static struct error *http_server_authenticate(struct http_exchange *);

/* Parses Content-Length 'length' into '*ret_size'.  Returns false when it
 * is not a plain decimal number. */
static bool
http_server_parse_length(const char *length, unsigned long long *ret_size)
{
    char *end;

    errno = 0;
    *ret_size = strtoull(length, &end, 10);
    return !errno && end != length && !*end && length[0] != '-';
}

/* The first call for a HTTP_ROUTE_RAW_BODY 'route': authenticates and
 * opens the route's body sink before any of the body is read (see
 * http-router.h).  Returns MHD_YES to go on reading, or the result of
 * sending an early answer. */
static enum MHD_Result
http_server_begin_raw(struct http_exchange *ex,
                      const struct http_route *route)
{
    const char *length = http_request_header(ex->req, "Content-Length");
    unsigned long long size;
    struct error *error;
    void *sink = NULL;

    ex->flags = route->flags;
    if (!route->sink) {
        return http_server_send_error(
            ex, error_new(ERROR_INTERNAL, "Route '%s' has no body sink",
                          route->template));
    }
    if (!(route->flags & HTTP_ROUTE_PUBLIC)) {
        error = http_server_authenticate(ex);
        if (error && error_kind(error) == ERROR_UNAUTHORIZED) {
            error_free(error);
            return http_server_send_unauthorized(ex);
        } else if (error) {
            return http_server_send_error(ex, error);
        }
    }
    if (length && (!http_server_parse_length(length, &size)
                   || size > route->max_body_size)) {
        ex->too_large = true;
        return http_server_send_error(
            ex, error_new(ERROR_TOO_LARGE, "Request is too large."));
    }
    error = route->sink->open(ex->req, route->aux, &sink);
    if (error) {
        return http_server_send_error(ex, error);
    }
    ex->raw_route = route;
    ex->sink = sink;
    http_request_set_body_sink(ex->req, sink);
    return MHD_YES;
}

/* Handles the first call: builds the request.  Returns MHD_YES to go on
 * reading, or the result of sending an early answer. */
static enum MHD_Result
http_server_begin(struct http_exchange *ex, const char *method_name)
{
    struct http_server *server = ex->server;
    enum http_method method;
    struct error *error;
    const char *client_id;
    const char *host;
    const char *length;
    const struct http_route *route;

    ex->method_name = xstrdup(method_name);
    if (http_method_from_string(method_name, &method)) {
        method = HTTP_N_METHODS;    /* no route has it: 404 or 405 */
    }
    error = http_request_new(method, http_server_origin_form(ex->raw_uri),
                             &ex->req);
    if (error) {
        /* Still answer with a request id: make a bare request. */
        struct error *again = http_request_new(method, "/", &ex->req);
        if (again) {
            error_free(again);
            error_free(error);
            return MHD_NO;
        }
    }
    MHD_get_connection_values(ex->connection, MHD_HEADER_KIND,
                              http_server_copy_header, ex->req);
    http_request_set_completion(ex->req, NULL, NULL);

    client_id = http_request_header(ex->req, HTTP_HEADER_REQUEST_ID);
    if (client_id && request_id_is_valid(client_id)) {
        http_request_set_id(ex->req, client_id);
    } else {
        AUTOFREE char *id = request_id_new();
        http_request_set_id(ex->req, id);
    }
    http_server_set_peer(ex);

    host = http_request_header(ex->req, "Host");
    if (server->public_endpoint) {
        http_request_set_base_url(ex->req, server->public_endpoint);
    } else if (host && http_server_host_is_valid(host)) {
        AUTOFREE char *url = xasprintf("http://%s", host);
        http_request_set_base_url(ex->req, url);
    } else {
        http_request_set_base_url(ex->req, server->default_base_url);
    }
    if (http_request_segment(ex->req, 0)
        && !strcmp(http_request_segment(ex->req, 0), "v3")) {
        ex->flags = HTTP_ROUTE_IDENTITY;    /* until a route says */
    }

    if (error) {
        return http_server_send_error(ex, error);
    }

    if (http_router_route(server->router, ex->req, &route, NULL)
        == HTTP_ROUTE_FOUND && (route->flags & HTTP_ROUTE_RAW_BODY)) {
        return http_server_begin_raw(ex, route);
    }

    length = http_request_header(ex->req, "Content-Length");
    if (length) {
        unsigned long long n;

        if (!http_server_parse_length(length, &n)
            || n > server->cfg.max_body_size) {
            ex->too_large = true;
            return http_server_send_error(
                ex, error_new(ERROR_TOO_LARGE, "Request is too large."));
        }
    }
    return MHD_YES;
}

/* Takes a piece of the body of a HTTP_ROUTE_RAW_BODY route.  Returns
 * MHD_NO to close the connection. */
static enum MHD_Result
http_server_receive_raw(struct http_exchange *ex, const char *data,
                        size_t size)
{
    uint64_t max = ex->raw_route->max_body_size;
    struct error *error;

    if (!ex->too_large && !ex->sink_error && size > max - ex->raw_size) {
        ex->too_large = true;
        http_exchange_close_sink(ex);
    }
    if (ex->too_large || ex->sink_error) {
        ex->discarded += size;
        return ex->discarded / HTTP_SERVER_DISCARD_FACTOR
               > ex->server->cfg.max_body_size ? MHD_NO : MHD_YES;
    }
    ex->raw_size += size;
    error = ex->raw_route->sink->write(ex->sink, data, size);
    if (error) {
        ex->sink_error = error;
        http_exchange_close_sink(ex);
    }
    return MHD_YES;
}

/* Takes a piece of body. Returns MHD_NO to close the connection. */
static enum MHD_Result
http_server_receive(struct http_exchange *ex, const char *data, size_t size)
{
    size_t max = ex->server->cfg.max_body_size;

    if (ex->raw_route) {
        return http_server_receive_raw(ex, data, size);
    }
    if (ex->too_large || size > max - ex->body_size) {
        ex->too_large = true;
        ex->discarded += size;
        free(ex->body);
        ex->body = NULL;
        ex->body_size = ex->body_allocated = 0;
        return ex->discarded / HTTP_SERVER_DISCARD_FACTOR > max
               ? MHD_NO : MHD_YES;
    }
    if (ex->body_size + size > ex->body_allocated) {
        size_t want = ex->body_allocated ? ex->body_allocated : 4096;

        while (want < ex->body_size + size) {
            want *= 2;
        }
        if (want > max) {
            want = max;
        }
        ex->body = xrealloc(ex->body, want);
        ex->body_allocated = want;
    }
    memcpy(ex->body + ex->body_size, data, size);
    ex->body_size += size;
    return MHD_YES;
}

/* ---- Dispatch ------------------------------------------------------- */

/* Authenticates a request to a route that is not public.  Returns NULL
 * on success, or an error (ERROR_UNAUTHORIZED: answer 401). */
static struct error *
http_server_authenticate(struct http_exchange *ex)
{
    struct http_server *server = ex->server;
    const char *token = http_request_header(ex->req, HTTP_HEADER_AUTH_TOKEN);
    const struct log_ctx *ctx = http_request_log_ctx(ex->req);
    struct http_auth auth;
    struct error *error;

    if (!token || !*token) {
        LOG_INFO_CTX(ctx, "rejecting request without a token");
        return error_new(ERROR_UNAUTHORIZED, "No token");
    }
    if (strlen(token) > HTTP_SERVER_MAX_TOKEN_SIZE) {
        LOG_INFO_CTX(ctx, "rejecting request with an oversized token");
        return error_new(ERROR_UNAUTHORIZED, "Token too long");
    }
    if (!server->validator) {
        LOG_WARN_RL_CTX(ctx, "no token validator: rejecting request");
        return error_new(ERROR_UNAUTHORIZED, "No token validator");
    }
    http_auth_init(&auth);
    error = server->validator(server->validator_aux, ex->req, token, &auth);
    if (error) {
        http_auth_destroy(&auth);
        if (error_kind(error) == ERROR_UNAUTHORIZED) {
            LOG_INFO_CTX(ctx, "token refused: %s", error_message(error));
        }
        return error;
    }
    http_request_set_auth(ex->req, &auth);
    http_auth_destroy(&auth);
    return NULL;
}

/* Answers a deferred request that has been completed with 'error'. */
static enum MHD_Result
http_server_finish(struct http_exchange *ex, struct error *error)
{
    if (error) {
        return http_server_send_error(ex, error);
    }
    return http_server_send(ex, ex->resp);
}

static void http_server_complete(struct http_request *, struct error *,
                                 void *aux);

static enum MHD_Result
http_server_dispatch(struct http_exchange *ex)
{
    struct http_server *server = ex->server;
    struct http_request *req = ex->req;
    const struct http_route *route = NULL;
    char allow[HTTP_ROUTER_MAX_ALLOW_SIZE];
    const char *url_project;
    struct error *error;

    if (ex->too_large) {
        return http_server_send_error(
            ex, error_new(ERROR_TOO_LARGE, "Request is too large."));
    }
    if (ex->sink_error) {
        return http_server_send_error(ex, TAKE_PTR(ex->sink_error));
    }

    switch (http_router_route(server->router, req, &route, allow)) {
    case HTTP_ROUTE_FOUND:
        break;
    case HTTP_ROUTE_NOT_FOUND:
        return http_server_send_error(
            ex, error_new(ERROR_NOT_FOUND, HTTP_SERVER_NOT_FOUND_MESSAGE));
    case HTTP_ROUTE_METHOD_NOT_ALLOWED:
    default: {
        AUTOFREE char *message = NULL;
        struct http_response *resp = http_server_new_fault(ex);

        ex->flags = route ? route->flags : ex->flags;
        message = xasprintf("The method %s is not allowed for this "
                            "resource.", ex->method_name);
        http_response_set_json(
            resp, 405,
            (ex->flags & HTTP_ROUTE_IDENTITY)
            ? http_server_keystone_error(405, message)
            : http_server_nova_fault("badMethod", 405, message));
        http_response_add_header(resp, "Allow", allow);
        return http_server_send(ex, resp);
    }
    }
    ex->flags = route->flags;
    if (ex->flags & HTTP_ROUTE_IDENTITY) {
        ex->flags |= HTTP_ROUTE_NO_MICROVERSION;
    }

    /* Authentication comes first, as keystonemiddleware comes before
     * Nova's own processing (a raw body route's was done before its
     * body was read). */
    if (!(ex->flags & HTTP_ROUTE_PUBLIC) && !ex->raw_route) {
        error = http_server_authenticate(ex);
        if (error && error_kind(error) == ERROR_UNAUTHORIZED) {
            error_free(error);
            return http_server_send_unauthorized(ex);
        } else if (error) {
            return http_server_send_error(ex, error);
        }
    }

    if (!(ex->flags & HTTP_ROUTE_NO_MICROVERSION)) {
        struct api_version version;

        error = api_version_negotiate(
            http_request_header(req, API_VERSION_HEADER),
            http_request_header(req, API_VERSION_LEGACY_HEADER), &version);
        if (error) {
            return http_server_send_error(ex, error);
        }
        http_request_set_version(req, version);
        ex->version_headers = true;
    }

    url_project = http_request_param(req, "project_id");
    if (url_project && http_request_auth(req)
        && http_request_auth(req)->project_id
        && strcmp(url_project, http_request_auth(req)->project_id)) {
        return http_server_send_error(
            ex, error_new(ERROR_INVALID, "Malformed request URL: URL's "
                          "project_id '%s' doesn't match Context's "
                          "project_id '%s'", url_project,
                          http_request_auth(req)->project_id));
    }

    error = ex->raw_route ? NULL
            : http_request_set_body(req, ex->body, ex->body_size,
                                    server->cfg.max_body_size);
    free(ex->body);
    ex->body = NULL;
    ex->body_size = ex->body_allocated = 0;
    if (error) {
        return http_server_send_error(ex, error);
    }

    http_request_set_completion(req, http_server_complete, ex);
    error = route->handler(req, ex->resp, route->aux);
    http_exchange_close_sink(ex);
    if (!http_request_is_deferred(req)) {
        return error ? http_server_send_error(ex, error)
                     : http_server_send(ex, ex->resp);
    }
    if (error) {
        LOG_ERR_CTX(http_request_log_ctx(req), "handler of '%s' deferred "
                    "the request and also failed: %s", route->template,
                    error_message(error));
        abort();
    }

    /* Deferred: park the connection unless it is already complete. */
    pthread_mutex_lock(&http_defer_mutex);
    if (ex->completed) {
        error = TAKE_PTR(ex->completion_error);
        pthread_mutex_unlock(&http_defer_mutex);
        return http_server_finish(ex, error);
    }
    ex->state = HTTP_EXCHANGE_DEFERRED;
    ex->suspended = true;
    __atomic_add_fetch(&ex->refs, 1, __ATOMIC_ACQ_REL);   /* completer's */
    ex->next = server->deferred_head;
    ex->prev = NULL;
    if (ex->next) {
        ex->next->prev = ex;
    }
    server->deferred_head = ex;
    ex->listed = true;
    MHD_suspend_connection(ex->connection);
    pthread_mutex_lock(&server->mutex);
    server->n_suspended++;
    pthread_mutex_unlock(&server->mutex);
    pthread_mutex_unlock(&http_defer_mutex);
    return MHD_YES;
}

/* The completion callback of every request (see the file comment). */
static void
http_server_complete(struct http_request *req, struct error *error,
                     void *aux)
{
    struct http_exchange *ex = aux;
    bool last = false;

    pthread_mutex_lock(&http_defer_mutex);
    if (ex->abandoned) {
        /* Already answered 503 at shutdown. */
        error_free(error);
        last = http_exchange_unref(ex);
    } else if (ex->completed) {
        pthread_mutex_unlock(&http_defer_mutex);
        LOG_ERR("request '%s' completed twice", http_request_id(req));
        abort();
    } else {
        ex->completed = true;
        ex->completion_error = error;
        if (ex->suspended) {
            http_server_unlist_locked(ex->server, ex);
            last = http_exchange_unref(ex);
            MHD_resume_connection(ex->connection);
        }
    }
    pthread_mutex_unlock(&http_defer_mutex);
    if (last) {
        http_exchange_free(ex);
    }
}

/* Second call for a deferred request, after MHD resumed it. */
static enum MHD_Result
http_server_resumed(struct http_exchange *ex)
{
    struct http_server *server = ex->server;
    struct error *error;

    pthread_mutex_lock(&http_defer_mutex);
    ex->suspended = false;
    error = TAKE_PTR(ex->completion_error);
    pthread_mutex_lock(&server->mutex);
    server->n_suspended--;
    pthread_cond_broadcast(&server->cond);
    pthread_mutex_unlock(&server->mutex);
    pthread_mutex_unlock(&http_defer_mutex);
    return http_server_finish(ex, error);
}

/* ---- libmicrohttpd callbacks ---------------------------------------- */

static void *
http_server_uri_log(void *cls, const char *uri, struct MHD_Connection *conn)
{
    return http_exchange_new(cls, uri);
}

static enum MHD_Result
http_server_access(void *cls, struct MHD_Connection *connection,
                   const char *url, const char *method,
                   const char *version, const char *upload_data,
                   size_t *upload_data_size, void **con_cls)
{
    struct http_exchange *ex = *con_cls;

    if (!ex) {
        /* Not seen by the URI callback (never expected). */
        ex = http_exchange_new(cls, url);
        *con_cls = ex;
    }
    ex->connection = connection;
    switch (ex->state) {
    case HTTP_EXCHANGE_NEW:
        ex->state = HTTP_EXCHANGE_RECEIVING;
        return http_server_begin(ex, method);
    case HTTP_EXCHANGE_RECEIVING:
        if (*upload_data_size) {
            enum MHD_Result r = http_server_receive(ex, upload_data,
                                                    *upload_data_size);
            *upload_data_size = 0;
            return r;
        }
        return http_server_dispatch(ex);
    case HTTP_EXCHANGE_DEFERRED:
        return http_server_resumed(ex);
    case HTTP_EXCHANGE_ANSWERED:
    default:
        /* A response is queued; the rest of the body is not read. */
        *upload_data_size = 0;
        return MHD_YES;
    }
}

static void
http_server_completed(void *cls, struct MHD_Connection *connection,
                      void **con_cls, enum MHD_RequestTerminationCode toe)
{
    struct http_server *server = cls;
    struct http_exchange *ex = *con_cls;
    bool last;

    if (!ex) {
        return;
    }
    *con_cls = NULL;
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK) {
        LOG_DBG("request '%s' ended early (code %d)",
                ex->req && http_request_id(ex->req)
                ? http_request_id(ex->req) : "?", (int) toe);
    }
    last = http_exchange_unref(ex);
    if (last) {
        http_exchange_free(ex);
    }

    pthread_mutex_lock(&server->mutex);
    server->n_inflight--;
    pthread_cond_broadcast(&server->cond);
    pthread_mutex_unlock(&server->mutex);
}

static void
http_server_mhd_log(void *cls, const char *fmt, va_list args)
{
    AUTOFREE char *msg = xvasprintf(fmt, args);
    size_t size = strlen(msg);

    while (size && (msg[size - 1] == '\n' || msg[size - 1] == '\r')) {
        msg[--size] = '\0';
    }
    LOG_WARN_RL("libmicrohttpd: %s", msg);
}

/* ---- Life cycle ----------------------------------------------------- */

/* Returns a copy of 'url' without trailing slashes. */
static char *
http_server_strip_url(const char *url)
{
    char *copy = xstrdup(url);
    size_t size = strlen(copy);

    while (size && copy[size - 1] == '/') {
        copy[--size] = '\0';
    }
    return copy;
}

static struct error *
http_server_check_url(const char *key, const char *url)
{
    if (strlen(url) > HTTP_SERVER_MAX_URL_SIZE) {
        return error_new(ERROR_INVALID, "'%s' is longer than %d bytes", key,
                         HTTP_SERVER_MAX_URL_SIZE);
    }
    if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8)) {
        return error_new(ERROR_INVALID, "'%s' must be an http:// or "
                         "https:// URL, not '%s'", key, url);
    }
    for (const char *p = url; *p; p++) {
        if ((unsigned char) *p <= 0x20 || *p == '"' || *p == 0x7f) {
            return error_new(ERROR_INVALID, "'%s' contains a blank, a "
                             "quote or a control character", key);
        }
    }
    return NULL;
}

struct error *
http_server_new(const struct http_server_config *cfg,
                const struct http_router *router,
                struct http_server **ret_server)
{
    struct http_server *server;
    struct error *error;

    if (!cfg->listen_address || !*cfg->listen_address
        || strlen(cfg->listen_address) > HTTP_SERVER_MAX_URL_SIZE) {
        return error_new(ERROR_INVALID, "A listen address is required");
    }
    if (cfg->port < 0 || cfg->port > 65535) {
        return error_new(ERROR_INVALID, "Port %d is out of range 0-65535",
                         cfg->port);
    }
    if (cfg->n_threads < 1 || cfg->n_threads > HTTP_SERVER_MAX_THREADS) {
        return error_new(ERROR_INVALID, "The number of threads must be "
                         "between 1 and %d, not %u", HTTP_SERVER_MAX_THREADS,
                         cfg->n_threads);
    }
    if (cfg->max_body_size < 1
        || cfg->max_body_size > HTTP_SERVER_MAX_MAX_BODY_SIZE) {
        return error_new(ERROR_INVALID, "The largest request body must be "
                         "between 1 and %d bytes, not %zu",
                         HTTP_SERVER_MAX_MAX_BODY_SIZE, cfg->max_body_size);
    }
    if (cfg->connection_limit < 1) {
        return error_new(ERROR_INVALID, "The connection limit must be at "
                         "least 1");
    }
    if (cfg->public_endpoint && *cfg->public_endpoint) {
        error = http_server_check_url("api.public_endpoint",
                                      cfg->public_endpoint);
        if (error) {
            return error;
        }
    }
    if (cfg->auth_uri && *cfg->auth_uri) {
        error = http_server_check_url("api.auth_uri", cfg->auth_uri);
        if (error) {
            return error;
        }
    }

    server = xzalloc(sizeof *server);
    server->cfg = *cfg;
    server->listen_address = xstrdup(cfg->listen_address);
    server->cfg.listen_address = server->listen_address;
    if (cfg->public_endpoint && *cfg->public_endpoint) {
        server->public_endpoint = http_server_strip_url(cfg->public_endpoint);
    }
    server->cfg.public_endpoint = server->public_endpoint;
    if (cfg->auth_uri && *cfg->auth_uri) {
        server->auth_uri = xstrdup(cfg->auth_uri);
    }
    server->cfg.auth_uri = server->auth_uri;
    server->router = router;
    server->listen_fd = -1;
    pthread_mutex_init(&server->mutex, NULL);
    pthread_cond_init(&server->cond, NULL);
    *ret_server = server;
    return NULL;
}

void
http_server_set_auth_validator(struct http_server *server,
                               http_auth_validator *validator, void *aux)
{
    server->validator = validator;
    server->validator_aux = aux;
}

/* Binds the listening socket.  Returns the socket or a negative errno,
 * with the bound port in '*ret_port'. */
static int
http_server_bind(const char *address, int port, int *ret_port)
{
    struct addrinfo hints, *ai = NULL;
    char service[16];
    int fd, error, one = 1;
    struct sockaddr_storage bound;
    socklen_t bound_size = sizeof bound;

    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
    snprintf(service, sizeof service, "%d", port);
    if (getaddrinfo(address, service, &hints, &ai) || !ai) {
        return -EADDRNOTAVAIL;
    }
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
                0);
    if (fd < 0) {
        error = -errno;
        freeaddrinfo(ai);
        return error;
    }
    (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (ai->ai_family == AF_INET6) {
        (void) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    }
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0
        || listen(fd, HTTP_SERVER_LISTEN_BACKLOG) < 0
        || getsockname(fd, (struct sockaddr *) &bound, &bound_size) < 0) {
        error = -errno;
        close(fd);
        freeaddrinfo(ai);
        return error;
    }
    freeaddrinfo(ai);
    if (bound.ss_family == AF_INET6) {
        *ret_port = ntohs(((struct sockaddr_in6 *) &bound)->sin6_port);
    } else {
        *ret_port = ntohs(((struct sockaddr_in *) &bound)->sin_port);
    }
    return fd;
}

struct error *
http_server_start(struct http_server *server)
{
    unsigned int flags = MHD_USE_EPOLL_INTERNAL_THREAD
                         | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    /* The logger comes first, so that libmicrohttpd uses it for what it
     * says about the options after it. */
    struct MHD_OptionItem options[] = {
        { MHD_OPTION_EXTERNAL_LOGGER, (intptr_t) http_server_mhd_log,
          server },
        { MHD_OPTION_LISTEN_SOCKET, 0, NULL },
        { MHD_OPTION_CONNECTION_LIMIT, server->cfg.connection_limit, NULL },
        { MHD_OPTION_CONNECTION_TIMEOUT, server->cfg.connection_timeout_s,
          NULL },
        { MHD_OPTION_CONNECTION_MEMORY_LIMIT, HTTP_SERVER_CONNECTION_MEMORY,
          NULL },
        { MHD_OPTION_URI_LOG_CALLBACK, (intptr_t) http_server_uri_log,
          server },
        { MHD_OPTION_NOTIFY_COMPLETED, (intptr_t) http_server_completed,
          server },
        { MHD_OPTION_THREAD_POOL_SIZE, server->cfg.n_threads, NULL },
        { MHD_OPTION_END, 0, NULL },
    };
    int port = 0;
    int fd;
    bool v6;

    if (server->started) {
        return error_new(ERROR_INTERNAL, "The HTTP server is already "
                         "started");
    }
    fd = http_server_bind(server->listen_address, server->cfg.port, &port);
    if (fd < 0) {
        return error_from_errno(fd, ERROR_UNAVAILABLE, "Cannot listen on "
                                "%s port %d", server->listen_address,
                                server->cfg.port);
    }
    options[1].value = fd;
    if (server->cfg.n_threads < 2) {
        /* One internal thread, no pool. */
        options[ARRAY_SIZE(options) - 2].option = MHD_OPTION_END;
    }

    server->daemon = MHD_start_daemon(flags, 0, NULL, NULL,
                                      http_server_access, server,
                                      MHD_OPTION_ARRAY, options,
                                      MHD_OPTION_END);
    if (!server->daemon) {
        close(fd);
        return error_new(ERROR_UNAVAILABLE, "Cannot start the HTTP server "
                         "on %s port %d", server->listen_address, port);
    }
    server->listen_fd = fd;
    server->port = port;
    v6 = strchr(server->listen_address, ':') != NULL;
    server->default_base_url = xasprintf(v6 ? "http://[%s]:%d"
                                            : "http://%s:%d",
                                         server->listen_address, port);
    server->started = true;
    LOG_INFO("listening on %s port %d with %u thread%s, %zu routes",
             server->listen_address, port, server->cfg.n_threads,
             server->cfg.n_threads == 1 ? "" : "s",
             http_router_n_routes(server->router));
    return NULL;
}

int
http_server_port(const struct http_server *server)
{
    return server->started ? server->port : 0;
}

size_t
http_server_n_inflight(const struct http_server *server)
{
    struct http_server *s = (struct http_server *) server;
    size_t n;

    pthread_mutex_lock(&s->mutex);
    n = s->n_inflight;
    pthread_mutex_unlock(&s->mutex);
    return n;
}

/* Waits on 'server->cond' (whose mutex the caller holds) until
 * 'deadline_us' (monotonic).  Returns false once the deadline passed. */
static bool
http_server_wait_until(struct http_server *server, int64_t deadline_us)
{
    int64_t now = http_monotonic_us();
    struct timespec ts;

    if (now >= deadline_us) {
        return false;
    }
    /* The condition variable uses CLOCK_REALTIME: wait relative to it. */
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += (deadline_us - now) / 1000000;
    ts.tv_nsec += ((deadline_us - now) % 1000000) * 1000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    (void) pthread_cond_timedwait(&server->cond, &server->mutex, &ts);
    return true;
}

bool
http_server_shutdown(struct http_server *server, int grace_ms)
{
    int64_t deadline = http_monotonic_us() + (int64_t) grace_ms * 1000;
    size_t n_abandoned = 0;
    size_t n_left;
    MHD_socket quiesced;

    if (!server || !server->started || server->stopped) {
        return true;
    }
    __atomic_store_n(&server->stopping, 1, __ATOMIC_RELEASE);
    quiesced = MHD_quiesce_daemon(server->daemon);
    if (quiesced != MHD_INVALID_SOCKET) {
        /* Refuse new connections at once rather than let the kernel queue
         * them for nobody; the descriptor itself stays open until the
         * daemon has stopped, as libmicrohttpd requires. */
        (void) shutdown(quiesced, SHUT_RDWR);
    }

    pthread_mutex_lock(&server->mutex);
    n_left = server->n_inflight;
    LOG_INFO("stopped accepting connections; %zu request%s in flight",
             n_left, n_left == 1 ? "" : "s");
    while (server->n_inflight > 0 && http_server_wait_until(server,
                                                            deadline)) {
        continue;
    }
    n_left = server->n_inflight;
    pthread_mutex_unlock(&server->mutex);

    /* Answer the deferred requests still waiting. */
    pthread_mutex_lock(&http_defer_mutex);
    while (server->deferred_head) {
        struct http_exchange *ex = server->deferred_head;

        http_server_unlist_locked(server, ex);
        ex->abandoned = true;
        ex->completed = true;
        ex->completion_error = error_new(ERROR_UNAVAILABLE, "The server is "
                                         "shutting down.");
        MHD_resume_connection(ex->connection);
        n_abandoned++;
    }
    pthread_mutex_unlock(&http_defer_mutex);
    if (n_abandoned) {
        LOG_WARN("answered %zu deferred request%s with 503 at shutdown",
                 n_abandoned, n_abandoned == 1 ? "" : "s");
    }

    /* MHD must resume every suspended connection before it stops. */
    pthread_mutex_lock(&server->mutex);
    while (server->n_suspended > 0) {
        int64_t until = http_monotonic_us()
                        + (int64_t) HTTP_SERVER_RESUME_WAIT_MS * 1000;
        while (server->n_suspended > 0
               && http_server_wait_until(server, until)) {
            continue;
        }
        if (server->n_suspended > 0) {
            LOG_WARN("still waiting for %zu suspended connection%s",
                     server->n_suspended,
                     server->n_suspended == 1 ? "" : "s");
        }
    }
    pthread_mutex_unlock(&server->mutex);

    /* Let the 503s just queued reach their clients: a request leaves
     * 'n_inflight' once its response has been sent. */
    if (n_abandoned) {
        int64_t until = http_monotonic_us()
                        + (int64_t) HTTP_SERVER_RESUME_WAIT_MS * 1000;

        pthread_mutex_lock(&server->mutex);
        while (server->n_inflight + n_abandoned > n_left
               && http_server_wait_until(server, until)) {
            continue;
        }
        pthread_mutex_unlock(&server->mutex);
    }

    if (n_left > 0) {
        LOG_WARN("%zu request%s still in flight after %d ms, closing",
                 n_left, n_left == 1 ? "" : "s", grace_ms);
    }
    MHD_stop_daemon(server->daemon);
    server->daemon = NULL;
    if (quiesced != MHD_INVALID_SOCKET) {
        close(quiesced);
    }
    server->listen_fd = -1;
    server->stopped = true;
    LOG_INFO("HTTP server stopped");
    return n_left == 0;
}

void
http_server_free(struct http_server *server)
{
    if (!server) {
        return;
    }
    http_server_shutdown(server, HTTP_SERVER_DEFAULT_GRACE_MS);
    pthread_mutex_destroy(&server->mutex);
    pthread_cond_destroy(&server->cond);
    free(server->listen_address);
    free(server->public_endpoint);
    free(server->auth_uri);
    free(server->default_base_url);
    free(server);
}
