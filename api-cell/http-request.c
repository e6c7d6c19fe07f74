/* http-request.c: the request and response objects of nova-api (see
 * http-request.h).
 *
 * A request is plain data, copied out of libmicrohttpd when the request
 * arrives, so it outlives the callback that saw it (deferred requests) and
 * can be built by tests without a server.  Lists are small (headers,
 * query pairs, path parameters), so they are arrays searched linearly:
 * simpler and, at these sizes, faster than a hash. */
#include <config.h>
#include "api-cell/http-request.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <json-c/json.h>

#include "shared/error.h"
#include "shared/json-util.h"
#include "shared/log.h"
#include "shared/xalloc.h"

LOG_MODULE("api.request");

/* A name/value pair; both owned. */
struct http_kv {
    char *name;
    char *value;
};

struct http_kv_list {
    struct http_kv *items;
    size_t n;
    size_t allocated;
};

struct http_request {
    enum http_method method;
    char *path;                 /* decoded */
    char **segments;            /* decoded, 'n_segments' of them */
    size_t n_segments;
    bool trailing_slash;
    struct http_kv_list params;
    struct http_kv_list query;
    struct http_kv_list headers;
    char *body_text;            /* NUL-terminated copy, or NULL */
    size_t body_size;
    struct json_object *body;   /* parsed, or NULL */
    void *body_sink;            /* not owned */
    char *request_id;
    struct log_ctx log_ctx;     /* points at 'request_id' */
    struct http_auth auth;
    bool has_auth;
    struct api_version version;
    char *base_url;
    char *peer;

    /* Deferral. */
    bool deferred;
    http_request_complete_func *complete_cb;
    void *complete_aux;
    bool completed;             /* without a completion callback */
    struct error *completion_error;
};

struct http_response {
    int status;
    struct json_object *json;   /* owned reference, or NULL */
    char *body;                 /* rendered or raw body, or NULL */
    size_t body_size;
    char *content_type;
    bool body_is_json;          /* 'body' is the rendering of 'json' */
    int body_fd;                /* a file body (owned), or -1 */
    uint64_t body_fd_size;
    struct http_kv_list headers;
};

static const char *const http_method_names[] = {
#define HTTP_METHOD_NAME(method, name) [method] = name,
    HTTP_METHODS(HTTP_METHOD_NAME)
#undef HTTP_METHOD_NAME
};

const char *
http_method_to_string(enum http_method method)
{
    if ((size_t) method >= ARRAY_SIZE(http_method_names)) {
        return "?";
    }
    return http_method_names[method];
}

int
http_method_from_string(const char *name, enum http_method *ret_method)
{
    for (size_t i = 0; i < ARRAY_SIZE(http_method_names); i++) {
        if (!strcmp(name, http_method_names[i])) {
            *ret_method = (enum http_method) i;
            return 0;
        }
    }
    return -EINVAL;
}

/* ---- Name/value lists ----------------------------------------------- */

static void
http_kv_list_add_steal(struct http_kv_list *list, char *name, char *value)
{
    if (list->n == list->allocated) {
        list->allocated = list->allocated ? 2 * list->allocated : 8;
        list->items = xreallocarray(list->items, list->allocated,
                                    sizeof *list->items);
    }
    list->items[list->n].name = name;
    list->items[list->n].value = value;
    list->n++;
}

static void
http_kv_list_add(struct http_kv_list *list, const char *name,
                 const char *value)
{
    http_kv_list_add_steal(list, xstrdup(name), xstrdup(value));
}

static void
http_kv_list_clear(struct http_kv_list *list)
{
    for (size_t i = 0; i < list->n; i++) {
        free(list->items[i].name);
        free(list->items[i].value);
    }
    list->n = 0;
}

static void
http_kv_list_destroy(struct http_kv_list *list)
{
    http_kv_list_clear(list);
    free(list->items);
    list->items = NULL;
    list->allocated = 0;
}

/* Returns the 'nth' value of 'name' (compared with 'nocase' or exactly),
 * or NULL. */
static const char *
http_kv_list_find(const struct http_kv_list *list, const char *name,
                  bool nocase, size_t nth)
{
    for (size_t i = 0; i < list->n; i++) {
        const char *n = list->items[i].name;
        if (nocase ? !strcasecmp(n, name) : !strcmp(n, name)) {
            if (nth == 0) {
                return list->items[i].value;
            }
            nth--;
        }
    }
    return NULL;
}

static size_t
http_kv_list_count(const struct http_kv_list *list, const char *name)
{
    size_t n = 0;

    for (size_t i = 0; i < list->n; i++) {
        if (!strcmp(list->items[i].name, name)) {
            n++;
        }
    }
    return n;
}

/* ---- Authentication ------------------------------------------------- */

void
http_auth_init(struct http_auth *auth)
{
    memset(auth, 0, sizeof *auth);
}

void
http_auth_destroy(struct http_auth *auth)
{
    if (!auth) {
        return;
    }
    free(auth->user_id);
    free(auth->user_name);
    free(auth->user_domain_id);
    free(auth->project_id);
    free(auth->project_name);
    free(auth->project_domain_id);
    for (size_t i = 0; i < auth->n_roles; i++) {
        free(auth->roles[i]);
    }
    free(auth->roles);
    http_auth_init(auth);
}

void
http_auth_clone(struct http_auth *dst, const struct http_auth *src)
{
    http_auth_init(dst);
    dst->user_id = xstrdup_or_null(src->user_id);
    dst->user_name = xstrdup_or_null(src->user_name);
    dst->user_domain_id = xstrdup_or_null(src->user_domain_id);
    dst->project_id = xstrdup_or_null(src->project_id);
    dst->project_name = xstrdup_or_null(src->project_name);
    dst->project_domain_id = xstrdup_or_null(src->project_domain_id);
    for (size_t i = 0; i < src->n_roles; i++) {
        http_auth_add_role(dst, src->roles[i]);
    }
    dst->is_admin = src->is_admin;
    dst->expires_at_ms = src->expires_at_ms;
}

void
http_auth_add_role(struct http_auth *auth, const char *role)
{
    auth->roles = xreallocarray(auth->roles, auth->n_roles + 1,
                                sizeof *auth->roles);
    auth->roles[auth->n_roles++] = xstrdup(role);
}

bool
http_auth_has_role(const struct http_auth *auth, const char *role)
{
    for (size_t i = 0; i < auth->n_roles; i++) {
        if (!strcasecmp(auth->roles[i], role)) {
            return true;
        }
    }
    return false;
}

/* ---- Parsing the request target ------------------------------------- */

static int
http_hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    } else if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Percent-decodes the 'size' bytes at 's' ('+' as a space when
 * 'plus_is_space').  A malformed escape is copied as it is.  Returns 0 and
 * a new string in '*ret', or -EINVAL if an escape decodes to NUL. */
static int
http_percent_decode(const char *s, size_t size, bool plus_is_space,
                    char **ret)
{
    char *out = xmalloc(size + 1);
    size_t n = 0;

    for (size_t i = 0; i < size; i++) {
        if (s[i] == '%' && i + 2 < size
            && http_hex_value(s[i + 1]) >= 0
            && http_hex_value(s[i + 2]) >= 0) {
            char c = (char) (http_hex_value(s[i + 1]) * 16
                             + http_hex_value(s[i + 2]));
            if (c == '\0') {
                free(out);
                return -EINVAL;
            }
            out[n++] = c;
            i += 2;
        } else if (s[i] == '+' && plus_is_space) {
            out[n++] = ' ';
        } else {
            out[n++] = s[i];
        }
    }
    out[n] = '\0';
    *ret = out;
    return 0;
}

static struct error *
http_request_parse_path(struct http_request *req, const char *path,
                        size_t size)
{
    size_t n_segments = 0;
    const char *end = path + size;
    const char *p;

    if (http_percent_decode(path, size, false, &req->path)) {
        return error_new(ERROR_INVALID, "Malformed request URL: the path "
                         "contains an encoded NUL byte");
    }

    /* Count segments: one per '/', less a trailing empty one. */
    for (p = path; p < end; p++) {
        if (*p == '/') {
            n_segments++;
        }
    }
    req->trailing_slash = size > 1 && path[size - 1] == '/';
    if (size == 1 || req->trailing_slash) {
        n_segments--;
    }
    if (n_segments > HTTP_MAX_PATH_SEGMENTS) {
        return error_new(ERROR_INVALID, "Malformed request URL: more than "
                         "%d path segments", HTTP_MAX_PATH_SEGMENTS);
    }

    req->segments = xcalloc(n_segments ? n_segments : 1,
                            sizeof *req->segments);
    p = path + 1;
    for (size_t i = 0; i < n_segments; i++) {
        const char *slash = memchr(p, '/', (size_t) (end - p));
        const char *seg_end = slash ? slash : end;

        if (http_percent_decode(p, (size_t) (seg_end - p), false,
                                &req->segments[i])) {
            return error_new(ERROR_INVALID, "Malformed request URL: the "
                             "path contains an encoded NUL byte");
        }
        req->n_segments++;
        p = seg_end + 1;
    }
    return NULL;
}

static struct error *
http_request_parse_query(struct http_request *req, const char *query)
{
    const char *p = query;

    while (*p) {
        const char *amp = strchr(p, '&');
        size_t size = amp ? (size_t) (amp - p) : strlen(p);

        if (size > 0) {
            const char *eq = memchr(p, '=', size);
            size_t name_size = eq ? (size_t) (eq - p) : size;
            char *name;
            char *value;

            if (req->query.n >= HTTP_MAX_QUERY_PARAMS) {
                return error_new(ERROR_INVALID, "Too many query parameters: "
                                 "at most %d are accepted",
                                 HTTP_MAX_QUERY_PARAMS);
            }
            if (http_percent_decode(p, name_size, true, &name)) {
                return error_new(ERROR_INVALID, "Malformed request URL: "
                                 "the query contains an encoded NUL byte");
            }
            if (http_percent_decode(eq ? eq + 1 : p + size,
                                    eq ? size - name_size - 1 : 0, true,
                                    &value)) {
                free(name);
                return error_new(ERROR_INVALID, "Malformed request URL: "
                                 "the query contains an encoded NUL byte");
            }
            http_kv_list_add_steal(&req->query, name, value);
        }
        p += size;
        if (*p == '&') {
            p++;
        }
    }
    return NULL;
}

struct error *
http_request_new(enum http_method method, const char *target,
                 struct http_request **ret_request)
{
    CLEANUP(http_request_freep) struct http_request *req = NULL;
    const char *query;
    struct error *error;
    size_t target_size = strlen(target);

    if (target_size > HTTP_MAX_TARGET_SIZE) {
        return error_new(ERROR_INVALID, "Malformed request URL: longer "
                         "than %d bytes", HTTP_MAX_TARGET_SIZE);
    }
    if (target[0] != '/') {
        return error_new(ERROR_INVALID, "Malformed request URL: the path "
                         "must start with '/'");
    }

    req = xzalloc(sizeof *req);
    req->method = method;
    req->version.major = API_MIN_MICROVERSION_MAJOR;
    req->version.minor = API_MIN_MICROVERSION_MINOR;

    query = strchr(target, '?');
    error = http_request_parse_path(req, target,
                                    query ? (size_t) (query - target)
                                          : target_size);
    if (!error && query) {
        error = http_request_parse_query(req, query + 1);
    }
    if (error) {
        return error;
    }
    *ret_request = TAKE_PTR(req);
    return NULL;
}

void
http_request_free(struct http_request *req)
{
    if (!req) {
        return;
    }
    free(req->path);
    for (size_t i = 0; i < req->n_segments; i++) {
        free(req->segments[i]);
    }
    free(req->segments);
    http_kv_list_destroy(&req->params);
    http_kv_list_destroy(&req->query);
    http_kv_list_destroy(&req->headers);
    free(req->body_text);
    json_object_put(req->body);
    free(req->request_id);
    http_auth_destroy(&req->auth);
    free(req->base_url);
    free(req->peer);
    error_free(req->completion_error);
    free(req);
}

/* ---- Accessors ------------------------------------------------------ */

enum http_method
http_request_method(const struct http_request *req)
{
    return req->method;
}

const char *
http_request_path(const struct http_request *req)
{
    return req->path;
}

size_t
http_request_n_segments(const struct http_request *req)
{
    return req->n_segments;
}

const char *
http_request_segment(const struct http_request *req, size_t i)
{
    return i < req->n_segments ? req->segments[i] : NULL;
}

bool
http_request_has_trailing_slash(const struct http_request *req)
{
    return req->trailing_slash;
}

const char *
http_request_param(const struct http_request *req, const char *name)
{
    return http_kv_list_find(&req->params, name, false, 0);
}

void
http_request_set_param(struct http_request *req, const char *name,
                       const char *value)
{
    http_kv_list_add(&req->params, name, value);
}

void
http_request_clear_params(struct http_request *req)
{
    http_kv_list_clear(&req->params);
}

const char *
http_request_query(const struct http_request *req, const char *name)
{
    return http_kv_list_find(&req->query, name, false, 0);
}

size_t
http_request_query_count(const struct http_request *req, const char *name)
{
    return http_kv_list_count(&req->query, name);
}

const char *
http_request_query_nth(const struct http_request *req, const char *name,
                       size_t i)
{
    return http_kv_list_find(&req->query, name, false, i);
}

size_t
http_request_n_query(const struct http_request *req)
{
    return req->query.n;
}

void
http_request_query_at(const struct http_request *req, size_t i,
                      const char **ret_name, const char **ret_value)
{
    *ret_name = req->query.items[i].name;
    *ret_value = req->query.items[i].value;
}

const char *
http_request_header(const struct http_request *req, const char *name)
{
    return http_kv_list_find(&req->headers, name, true, 0);
}

void
http_request_add_header(struct http_request *req, const char *name,
                        const char *value)
{
    http_kv_list_add(&req->headers, name, value);
}

const char *
http_request_body_text(const struct http_request *req, size_t *ret_size)
{
    if (ret_size) {
        *ret_size = req->body_size;
    }
    return req->body_text;
}

struct json_object *
http_request_body(const struct http_request *req)
{
    return req->body;
}

struct error *
http_request_set_body(struct http_request *req, const char *text,
                      size_t size, size_t max_size)
{
    free(req->body_text);
    json_object_put(req->body);
    req->body = NULL;
    req->body_text = NULL;
    req->body_size = 0;
    if (size == 0) {
        return NULL;
    }
    req->body_text = xmalloc(size + 1);
    memcpy(req->body_text, text, size);
    req->body_text[size] = '\0';
    req->body_size = size;
    return json_parse_text(req->body_text, size, max_size, 0, &req->body);
}

void *
http_request_body_sink(const struct http_request *req)
{
    return req->body_sink;
}

void
http_request_set_body_sink(struct http_request *req, void *sink)
{
    req->body_sink = sink;
}

const char *
http_request_id(const struct http_request *req)
{
    return req->request_id;
}

void
http_request_set_id(struct http_request *req, const char *request_id)
{
    free(req->request_id);
    req->request_id = xstrdup_or_null(request_id);
    req->log_ctx.request_id = req->request_id;
}

const struct log_ctx *
http_request_log_ctx(const struct http_request *req)
{
    return &req->log_ctx;
}

const struct http_auth *
http_request_auth(const struct http_request *req)
{
    return req->has_auth ? &req->auth : NULL;
}

void
http_request_set_auth(struct http_request *req, const struct http_auth *auth)
{
    http_auth_destroy(&req->auth);
    req->has_auth = auth != NULL;
    if (auth) {
        http_auth_clone(&req->auth, auth);
    }
}

struct api_version
http_request_version(const struct http_request *req)
{
    return req->version;
}

void
http_request_set_version(struct http_request *req,
                         struct api_version version)
{
    req->version = version;
}

const char *
http_request_base_url(const struct http_request *req)
{
    return req->base_url;
}

void
http_request_set_base_url(struct http_request *req, const char *base_url)
{
    free(req->base_url);
    req->base_url = xstrdup_or_null(base_url);
}

const char *
http_request_peer(const struct http_request *req)
{
    return req->peer;
}

void
http_request_set_peer(struct http_request *req, const char *peer)
{
    free(req->peer);
    req->peer = xstrdup_or_null(peer);
}

/* ---- Deferral ------------------------------------------------------- */

void
http_request_defer(struct http_request *req)
{
    if (req->deferred) {
        LOG_ERR("request '%s' deferred twice",
                req->request_id ? req->request_id : "?");
        abort();
    }
    req->deferred = true;
}

bool
http_request_is_deferred(const struct http_request *req)
{
    return req->deferred;
}

void
http_request_complete(struct http_request *req, struct error *error)
{
    if (req->complete_cb) {
        req->complete_cb(req, error, req->complete_aux);
        return;
    }
    error_free(req->completion_error);
    req->completion_error = error;
    req->completed = true;
}

void
http_request_set_completion(struct http_request *req,
                            http_request_complete_func *cb, void *aux)
{
    req->complete_cb = cb;
    req->complete_aux = aux;
}

bool
http_request_take_completion(struct http_request *req,
                             struct error **ret_error)
{
    if (!req->completed) {
        return false;
    }
    *ret_error = req->completion_error;
    req->completion_error = NULL;
    req->completed = false;
    return true;
}

/* ---- Responses ------------------------------------------------------ */

const char *
http_response_reason(int status)
{
    static const struct {
        int status;
        const char *reason;
    } reasons[] = {
        { 200, "OK" },
        { 201, "Created" },
        { 202, "Accepted" },
        { 204, "No Content" },
        { 300, "Multiple Choices" },
        { 301, "Moved Permanently" },
        { 302, "Found" },
        { 304, "Not Modified" },
        { 400, "Bad Request" },
        { 401, "Unauthorized" },
        { 403, "Forbidden" },
        { 404, "Not Found" },
        { 405, "Method Not Allowed" },
        { 406, "Not Acceptable" },
        { 409, "Conflict" },
        { 410, "Gone" },
        { 413, "Request Entity Too Large" },
        { 415, "Unsupported Media Type" },
        { 429, "Too Many Requests" },
        { 500, "Internal Server Error" },
        { 501, "Not Implemented" },
        { 503, "Service Unavailable" },
        { 504, "Gateway Timeout" },
    };

    for (size_t i = 0; i < ARRAY_SIZE(reasons); i++) {
        if (reasons[i].status == status) {
            return reasons[i].reason;
        }
    }
    return "Unknown";
}

struct http_response *
http_response_new(void)
{
    struct http_response *resp = xzalloc(sizeof *resp);

    resp->status = 200;
    resp->body_fd = -1;
    return resp;
}

static void
http_response_clear_body(struct http_response *resp)
{
    json_object_put(resp->json);
    resp->json = NULL;
    free(resp->body);
    resp->body = NULL;
    resp->body_size = 0;
    free(resp->content_type);
    resp->content_type = NULL;
    resp->body_is_json = false;
    if (resp->body_fd >= 0) {
        (void) close(resp->body_fd);
    }
    resp->body_fd = -1;
    resp->body_fd_size = 0;
}

void
http_response_free(struct http_response *resp)
{
    if (!resp) {
        return;
    }
    http_response_clear_body(resp);
    http_kv_list_destroy(&resp->headers);
    free(resp);
}

void
http_response_set_json(struct http_response *resp, int status,
                       struct json_object *body)
{
    http_response_clear_body(resp);
    resp->status = status;
    resp->json = body;
}

void
http_response_set_status(struct http_response *resp, int status)
{
    http_response_clear_body(resp);
    resp->status = status;
}

void
http_response_set_body(struct http_response *resp, int status,
                       const char *content_type, const void *data,
                       size_t size)
{
    http_response_clear_body(resp);
    resp->status = status;
    resp->body = xmalloc(size + 1);
    memcpy(resp->body, data, size);
    resp->body[size] = '\0';
    resp->body_size = size;
    resp->content_type = xstrdup(content_type);
}

void
http_response_set_file(struct http_response *resp, int status,
                       const char *content_type, int fd, uint64_t size)
{
    http_response_clear_body(resp);
    resp->status = status;
    resp->content_type = xstrdup(content_type);
    resp->body_fd = fd;
    resp->body_fd_size = size;
}

int
http_response_take_file(struct http_response *resp, uint64_t *ret_size)
{
    int fd = resp->body_fd;

    *ret_size = resp->body_fd_size;
    resp->body_fd = -1;
    resp->body_fd_size = 0;
    return fd;
}

void
http_response_add_header(struct http_response *resp, const char *name,
                         const char *value)
{
    http_kv_list_add(&resp->headers, name, value);
}

int
http_response_status(const struct http_response *resp)
{
    return resp->status;
}

struct json_object *
http_response_json(const struct http_response *resp)
{
    return resp->json;
}

const char *
http_response_body(struct http_response *resp, size_t *ret_size,
                   const char **ret_content_type)
{
    if (resp->json && !resp->body_is_json) {
        resp->body = json_to_string_plain(resp->json);
        resp->body_size = strlen(resp->body);
        resp->content_type = xstrdup("application/json");
        resp->body_is_json = true;
    }
    if (ret_size) {
        *ret_size = resp->body_size;
    }
    if (ret_content_type) {
        *ret_content_type = resp->content_type;
    }
    return resp->body;
}

size_t
http_response_n_headers(const struct http_response *resp)
{
    return resp->headers.n;
}

void
http_response_header_at(const struct http_response *resp, size_t i,
                        const char **ret_name, const char **ret_value)
{
    *ret_name = resp->headers.items[i].name;
    *ret_value = resp->headers.items[i].value;
}

const char *
http_response_header(const struct http_response *resp, const char *name)
{
    return http_kv_list_find(&resp->headers, name, true, 0);
}
