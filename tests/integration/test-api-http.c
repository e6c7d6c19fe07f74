/* test-api-http.c: nova-api's HTTP server, for real, over HTTP.
 *
 * The server (http-server.h) runs in this process on a free port with a
 * router made of the version documents and test handlers, and a test
 * token validator; libcurl is the client.  Covered: version documents,
 * request ids, fault bodies (404, 405, 400, 413, 500, handler errors,
 * Keystone-shaped ones on identity routes), authentication (401 as
 * keystonemiddleware sends it), microversion headers and 406, keep-alive,
 * deferred requests completed from another thread while the single
 * server thread keeps serving, graceful shutdown with a request in
 * flight, and the nova-api daemon itself (SIGHUP, SIGTERM, exit 0).
 *
 * No MariaDB or RabbitMQ is needed.  Nothing here asserts on time; the
 * throughput test only reports requests per second. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <json-c/json.h>

#include "api-cell/api-versions-doc.h"
#include "api-cell/http-server.h"
#include "shared/cleanup.h"
#include "shared/error.h"
#include "shared/json-util.h"
#include "shared/log.h"
#include "shared/uuid-util.h"
#include "shared/xalloc.h"

#ifndef TEST_API_BUILDDIR
#define TEST_API_BUILDDIR "."
#endif

/* Body limit of the test servers: small, so oversized bodies are cheap. */
#define TEST_MAX_BODY 65536

/* Liveness bounds of retry loops (not timing assertions). */
#define TEST_RETRY_SLEEP_MS 10
#define TEST_RETRY_MAX 1000

/* Requests sent by the throughput report. */
#define TEST_BENCH_REQUESTS 4000
#define TEST_BENCH_CLIENTS 2

#define TEST_GOOD_TOKEN "good-token"
#define TEST_ADMIN_TOKEN "admin-token"
#define TEST_BROKEN_TOKEN "broken-token"
#define TEST_PROJECT "0123abcd"

/* ---- Test handlers and validator ------------------------------------ */

/* Synchronisation between handlers and test bodies. */
struct test_sync {
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    struct http_request *parked;    /* deferred, waiting */
    struct http_response *parked_resp;
    int entered;                    /* blocking handler entered */
    bool released;                  /* blocking handler may return */
    bool complete_now;              /* completer may complete */
};

static struct test_sync test_sync = {
    PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
    NULL, NULL, 0, false, false,
};

static void
test_sync_reset(void)
{
    pthread_mutex_lock(&test_sync.mutex);
    test_sync.parked = NULL;
    test_sync.parked_resp = NULL;
    test_sync.entered = 0;
    test_sync.released = false;
    test_sync.complete_now = false;
    pthread_mutex_unlock(&test_sync.mutex);
}

static struct error *
test_validator(void *aux, const struct http_request *req, const char *token,
               struct http_auth *ret_auth)
{
    int *n_calls = aux;

    __atomic_add_fetch(n_calls, 1, __ATOMIC_RELAXED);
    if (!strcmp(token, TEST_GOOD_TOKEN) || !strcmp(token, TEST_ADMIN_TOKEN)) {
        bool admin = !strcmp(token, TEST_ADMIN_TOKEN);

        ret_auth->user_id = xstrdup(admin ? "admin-user" : "user-1");
        ret_auth->project_id = xstrdup(TEST_PROJECT);
        http_auth_add_role(ret_auth, "member");
        if (admin) {
            http_auth_add_role(ret_auth, "admin");
        }
        ret_auth->is_admin = admin;
        return NULL;
    }
    if (!strcmp(token, TEST_BROKEN_TOKEN)) {
        return error_new(ERROR_UNAVAILABLE, "The identity store is down.");
    }
    return error_new(ERROR_UNAUTHORIZED, "Token '%s' is not valid", token);
}

/* Echoes what the handler saw. */
static struct error *
test_echo(struct http_request *req, struct http_response *resp, void *aux)
{
    struct json_object *o = json_object_new_object();
    struct json_object *query = json_object_new_array();
    const struct http_auth *auth = http_request_auth(req);
    char version[API_VERSION_STRING_SIZE];

    api_version_format(http_request_version(req), version);
    json_object_object_add(o, "request_id",
                           json_object_new_string(http_request_id(req)));
    json_object_object_add(o, "version", json_object_new_string(version));
    json_object_object_add(o, "base_url",
                           json_object_new_string(
                               http_request_base_url(req)));
    json_object_object_add(o, "method", json_object_new_string(
                               http_method_to_string(
                                   http_request_method(req))));
    for (size_t i = 0; i < http_request_n_query(req); i++) {
        const char *name, *value;

        http_request_query_at(req, i, &name, &value);
        json_object_array_add(query, json_object_new_string(value));
    }
    json_object_object_add(o, "query", query);
    if (auth) {
        json_object_object_add(o, "user",
                               json_object_new_string(auth->user_id));
        json_object_object_add(o, "is_admin",
                               json_object_new_boolean(auth->is_admin));
    }
    if (http_request_param(req, "project_id")) {
        json_object_object_add(o, "url_project", json_object_new_string(
                                   http_request_param(req, "project_id")));
    }
    if (http_request_body(req)) {
        json_object_object_add(o, "body",
                               json_object_get(http_request_body(req)));
    }
    http_response_set_json(resp, 200, o);
    http_response_add_header(resp, "X-Test-Handler", "echo");
    return NULL;
}

static struct error *
test_show_server(struct http_request *req, struct http_response *resp,
                 void *aux)
{
    return error_new(ERROR_NOT_FOUND, "Server %s could not be found.",
                     http_request_param(req, "server_id"));
}

static struct error *
test_internal(struct http_request *req, struct http_response *resp,
              void *aux)
{
    return error_new(ERROR_INTERNAL, "secret detail: SQL state 42S02");
}

static struct error *
test_identity_missing(struct http_request *req, struct http_response *resp,
                      void *aux)
{
    return error_new(ERROR_NOT_FOUND, "Could not find project: x.");
}

static struct error *
test_no_content(struct http_request *req, struct http_response *resp,
                void *aux)
{
    http_response_set_status(resp, 204);
    return NULL;
}

/* Defers and parks the request for a test to complete. */
static struct error *
test_park(struct http_request *req, struct http_response *resp, void *aux)
{
    http_request_defer(req);
    pthread_mutex_lock(&test_sync.mutex);
    test_sync.parked = req;
    test_sync.parked_resp = resp;
    pthread_cond_broadcast(&test_sync.cond);
    pthread_mutex_unlock(&test_sync.mutex);
    return NULL;
}

/* Defers and completes at once, before returning. */
static struct error *
test_instant(struct http_request *req, struct http_response *resp,
             void *aux)
{
    struct json_object *o = json_object_new_object();

    http_request_defer(req);
    json_object_object_add(o, "instant", json_object_new_boolean(true));
    http_response_set_json(resp, 201, o);
    http_request_complete(req, NULL);
    return NULL;
}

/* Blocks until the test releases it (a request "in flight"). */
static struct error *
test_block(struct http_request *req, struct http_response *resp, void *aux)
{
    struct json_object *o = json_object_new_object();

    pthread_mutex_lock(&test_sync.mutex);
    test_sync.entered++;
    pthread_cond_broadcast(&test_sync.cond);
    while (!test_sync.released) {
        pthread_cond_wait(&test_sync.cond, &test_sync.mutex);
    }
    pthread_mutex_unlock(&test_sync.mutex);
    json_object_object_add(o, "finished", json_object_new_boolean(true));
    http_response_set_json(resp, 200, o);
    return NULL;
}

static struct http_router *
test_router_new(void)
{
    struct http_router *r = http_router_new();

    api_versions_doc_register(r);
    http_router_allow_project_id(r, "/v2.1");
    http_router_add(r, HTTP_GET, "/v2.1/echo", 0, test_echo, NULL);
    http_router_add(r, HTTP_POST, "/v2.1/echo", 0, test_echo, NULL);
    http_router_add(r, HTTP_GET, "/v2.1/servers/{server_id}", 0,
                    test_show_server, NULL);
    http_router_add(r, HTTP_GET, "/v2.1/internal", HTTP_ROUTE_PUBLIC,
                    test_internal, NULL);
    http_router_add(r, HTTP_DELETE, "/v2.1/nothing", HTTP_ROUTE_PUBLIC,
                    test_no_content, NULL);
    http_router_add(r, HTTP_POST, "/v2.1/park", HTTP_ROUTE_PUBLIC,
                    test_park, NULL);
    http_router_add(r, HTTP_POST, "/v2.1/instant", HTTP_ROUTE_PUBLIC,
                    test_instant, NULL);
    http_router_add(r, HTTP_GET, "/v2.1/block", HTTP_ROUTE_PUBLIC,
                    test_block, NULL);
    http_router_add(r, HTTP_POST, "/v3/projects/{project_id}",
                    HTTP_ROUTE_PUBLIC | HTTP_ROUTE_IDENTITY,
                    test_identity_missing, NULL);
    return r;
}

/* ---- Server fixture ------------------------------------------------- */

struct test_server {
    struct http_router *router;
    struct http_server *server;
    int port;
    int n_validations;
};

static void
test_server_start(struct test_server *ts, unsigned int n_threads,
                  const char *public_endpoint)
{
    struct http_server_config cfg;
    struct error *error;

    memset(ts, 0, sizeof *ts);
    ts->router = test_router_new();
    http_server_config_init(&cfg);
    cfg.port = 0;
    cfg.n_threads = n_threads;
    cfg.max_body_size = TEST_MAX_BODY;
    cfg.public_endpoint = public_endpoint;
    error = http_server_new(&cfg, ts->router, &ts->server);
    assert_null(error);
    http_server_set_auth_validator(ts->server, test_validator,
                                   &ts->n_validations);
    error = http_server_start(ts->server);
    if (error) {
        fail_msg("%s", error_message(error));
    }
    ts->port = http_server_port(ts->server);
    assert_true(ts->port > 0);
}

static void
test_server_stop(struct test_server *ts)
{
    http_server_free(ts->server);
    http_router_free(ts->router);
    memset(ts, 0, sizeof *ts);
}

/* The server most tests share: one thread, so that a deferred request
 * visibly leaves it free. */
static struct test_server test_main_server;

static int
test_group_setup(void **state)
{
    log_set_levels("warn");
    test_server_start(&test_main_server, 1, NULL);
    return 0;
}

static int
test_group_teardown(void **state)
{
    test_server_stop(&test_main_server);
    log_reset();
    return 0;
}

/* ---- HTTP client ---------------------------------------------------- */

struct test_response {
    long status;
    char *body;
    size_t body_size;
    char **headers;             /* "Name: value" lines of the final
                                 * response */
    size_t n_headers;
    struct json_object *json;   /* parsed body, or NULL */
    long local_port;
    long n_connects;            /* new connections made */
    CURLcode code;
};

static void
test_response_destroy(struct test_response *r)
{
    free(r->body);
    for (size_t i = 0; i < r->n_headers; i++) {
        free(r->headers[i]);
    }
    free(r->headers);
    json_object_put(r->json);
    memset(r, 0, sizeof *r);
}

/* The value of response header 'name', or NULL. */
static const char *
test_header(const struct test_response *r, const char *name)
{
    size_t size = strlen(name);

    for (size_t i = 0; i < r->n_headers; i++) {
        const char *line = r->headers[i];
        if (!strncasecmp(line, name, size) && line[size] == ':') {
            const char *v = line + size + 1;
            while (*v == ' ') {
                v++;
            }
            return v;
        }
    }
    return NULL;
}

static size_t
test_write_cb(char *data, size_t size, size_t n, void *aux)
{
    struct test_response *r = aux;
    size_t total = size * n;

    r->body = xrealloc(r->body, r->body_size + total + 1);
    memcpy(r->body + r->body_size, data, total);
    r->body_size += total;
    r->body[r->body_size] = '\0';
    return total;
}

static size_t
test_header_cb(char *data, size_t size, size_t n, void *aux)
{
    struct test_response *r = aux;
    size_t total = size * n;
    size_t len = total;

    while (len && (data[len - 1] == '\n' || data[len - 1] == '\r')) {
        len--;
    }
    if (len >= 5 && !strncmp(data, "HTTP/", 5)) {
        /* A new status line (after "100 Continue"): start over. */
        for (size_t i = 0; i < r->n_headers; i++) {
            free(r->headers[i]);
        }
        r->n_headers = 0;
        return total;
    }
    if (len) {
        r->headers = xreallocarray(r->headers, r->n_headers + 1,
                                   sizeof *r->headers);
        r->headers[r->n_headers++] = xstrndup(data, len);
    }
    return total;
}

struct test_upload {
    size_t remaining;
};

static size_t
test_read_cb(char *buf, size_t size, size_t n, void *aux)
{
    struct test_upload *up = aux;
    size_t want = size * n < up->remaining ? size * n : up->remaining;

    memset(buf, ' ', want);
    up->remaining -= want;
    return want;
}

struct test_request {
    const char *method;
    const char *path;
    const char *const *headers;         /* NULL-terminated, or NULL */
    const char *body;                   /* or NULL */
    size_t body_size;                   /* 0: strlen(body) */
    size_t chunked_size;                /* >0: send this many bytes
                                         * chunked instead of 'body' */
    int port;                           /* 0: the main server */
};

/* Performs 'rq' on 'curl' (a reused handle keeps its connection) or on a
 * new handle when 'curl' is NULL. */
static void
test_http_on(CURL *curl, const struct test_request *rq,
             struct test_response *ret)
{
    CURL *own = NULL;
    struct curl_slist *list = NULL;
    struct test_upload upload = { rq->chunked_size };
    AUTOFREE char *url = NULL;
    int port = rq->port ? rq->port : test_main_server.port;

    memset(ret, 0, sizeof *ret);
    if (!curl) {
        own = curl = curl_easy_init();
        assert_non_null(curl);
    } else {
        curl_easy_reset(curl);
    }
    url = xasprintf("http://127.0.0.1:%d%s", port, rq->path);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, test_write_cb);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, ret);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, test_header_cb);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, ret);
    if (!strcmp(rq->method, "HEAD")) {
        curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    } else if (strcmp(rq->method, "GET")) {
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, rq->method);
    }
    if (rq->chunked_size) {
        curl_easy_setopt(curl, CURLOPT_POST, 1L);
        curl_easy_setopt(curl, CURLOPT_READFUNCTION, test_read_cb);
        curl_easy_setopt(curl, CURLOPT_READDATA, &upload);
        list = curl_slist_append(list, "Transfer-Encoding: chunked");
    } else if (rq->body) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, rq->body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE,
                         (long) (rq->body_size ? rq->body_size
                                               : strlen(rq->body)));
    }
    for (size_t i = 0; rq->headers && rq->headers[i]; i++) {
        list = curl_slist_append(list, rq->headers[i]);
    }
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);

    ret->code = curl_easy_perform(curl);
    curl_slist_free_all(list);
    if (ret->code == CURLE_OK) {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &ret->status);
        curl_easy_getinfo(curl, CURLINFO_LOCAL_PORT, &ret->local_port);
        curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &ret->n_connects);
        if (ret->body_size) {
            struct error *error = json_parse_text(ret->body,
                                                  ret->body_size, 0, 0,
                                                  &ret->json);
            error_free(error);
        }
    }
    if (own) {
        curl_easy_cleanup(own);
    }
}

static void
test_http(const struct test_request *rq, struct test_response *ret)
{
    test_http_on(NULL, rq, ret);
    if (ret->code != CURLE_OK) {
        fail_msg("%s %s: %s", rq->method, rq->path,
                 curl_easy_strerror(ret->code));
    }
}

/* Shorthand for a request with headers only. */
static void
test_get(const char *method, const char *path, const char *const *headers,
         struct test_response *ret)
{
    struct test_request rq = { method, path, headers, NULL, 0, 0, 0 };

    test_http(&rq, ret);
}

/* ---- Assertions on bodies ------------------------------------------- */

/* Asserts that object 'o' has exactly the keys 'keys' (NULL-terminated),
 * in that order. */
static void
test_assert_keys(struct json_object *o, const char *const *keys)
{
    size_t n = 0;

    assert_true(json_object_is_type(o, json_type_object));
    json_object_object_foreach(o, key, value) {
        (void) value;
        assert_non_null(keys[n]);
        assert_string_equal(key, keys[n]);
        n++;
    }
    assert_null(keys[n]);
}

static const char *
test_string_at(struct json_object *o, const char *key)
{
    struct json_object *v = NULL;

    assert_true(json_object_object_get_ex(o, key, &v));
    assert_true(json_object_is_type(v, json_type_string));
    return json_object_get_string(v);
}

static struct json_object *
test_member(struct json_object *o, const char *key)
{
    struct json_object *v = NULL;

    assert_non_null(o);
    assert_true(json_object_object_get_ex(o, key, &v));
    return v;
}

/* Asserts a Nova fault body {"NAME": {"code": STATUS, "message": MSG}}
 * (MSG NULL: any message). */
static void
test_assert_fault(const struct test_response *r, const char *name,
                  int status, const char *message)
{
    static const char *const inner_keys[] = { "code", "message", NULL };
    const char *keys[2] = { name, NULL };
    struct json_object *inner;

    assert_int_equal(r->status, status);
    assert_non_null(r->json);
    test_assert_keys(r->json, keys);
    inner = test_member(r->json, name);
    test_assert_keys(inner, inner_keys);
    assert_int_equal(json_object_get_int(test_member(inner, "code")),
                     status);
    if (message) {
        assert_string_equal(test_string_at(inner, "message"), message);
    }
    assert_string_equal(test_header(r, "Content-Type"), "application/json");
}

/* Asserts Keystone's {"error": {"code", "title", "message"}}. */
static void
test_assert_keystone_error(const struct test_response *r, int status,
                           const char *title, const char *message)
{
    static const char *const outer_keys[] = { "error", NULL };
    static const char *const inner_keys[] = {
        "code", "title", "message", NULL
    };
    struct json_object *inner;

    assert_int_equal(r->status, status);
    assert_non_null(r->json);
    test_assert_keys(r->json, outer_keys);
    inner = test_member(r->json, "error");
    test_assert_keys(inner, inner_keys);
    assert_int_equal(json_object_get_int(test_member(inner, "code")),
                     status);
    assert_string_equal(test_string_at(inner, "title"), title);
    assert_string_equal(test_string_at(inner, "message"), message);
}

/* The fault name error.h gives 'kind'. */
static const char *
test_fault_name(enum error_kind kind)
{
    static char name[64];
    struct error *e = error_new(kind, "x");

    snprintf(name, sizeof name, "%s", error_fault_name(e));
    error_free(e);
    return name;
}

/* ---- Version documents ---------------------------------------------- */

static void
test_versions_list(void **state)
{
    static const char *const top_keys[] = { "versions", NULL };
    static const char *const version_keys[] = {
        "id", "links", "status", "version", "min_version", "updated", NULL
    };
    static const char *const link_keys[] = { "href", "rel", NULL };
    static const struct {
        const char *id, *status, *version, *min_version, *updated, *path;
    } expected[] = {
        { "v2.0", "SUPPORTED", "", "", "2011-01-21T11:33:21Z", "v2/" },
        { "v2.1", "CURRENT", API_MAX_MICROVERSION, API_MIN_MICROVERSION,
          "2013-07-23T11:33:21Z", "v2.1/" },
    };
    struct test_response r;
    struct json_object *versions;

    (void) state;
    test_get("GET", "/", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(test_header(&r, "Content-Type"), "application/json");
    test_assert_keys(r.json, top_keys);
    versions = test_member(r.json, "versions");
    assert_int_equal(json_object_array_length(versions), 2);
    for (size_t i = 0; i < ARRAY_SIZE(expected); i++) {
        struct json_object *v = json_object_array_get_idx(versions, i);
        struct json_object *links = test_member(v, "links");
        struct json_object *link;
        AUTOFREE char *href = xasprintf("http://127.0.0.1:%d/%s",
                                        test_main_server.port,
                                        expected[i].path);

        test_assert_keys(v, version_keys);
        assert_string_equal(test_string_at(v, "id"), expected[i].id);
        assert_string_equal(test_string_at(v, "status"),
                            expected[i].status);
        assert_string_equal(test_string_at(v, "version"),
                            expected[i].version);
        assert_string_equal(test_string_at(v, "min_version"),
                            expected[i].min_version);
        assert_string_equal(test_string_at(v, "updated"),
                            expected[i].updated);
        assert_int_equal(json_object_array_length(links), 1);
        link = json_object_array_get_idx(links, 0);
        test_assert_keys(link, link_keys);
        assert_string_equal(test_string_at(link, "href"), href);
        assert_string_equal(test_string_at(link, "rel"), "self");
    }
    test_response_destroy(&r);
}

static void
test_versions_show(void **state)
{
    static const char *const top_keys[] = { "version", NULL };
    static const char *const version_keys[] = {
        "id", "links", "media-types", "status", "version", "min_version",
        "updated", NULL
    };
    static const char *const media_keys[] = { "base", "type", NULL };
    static const char *const paths[] = { "/v2.1", "/v2.1/" };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
        struct test_response r;
        struct json_object *v, *links, *media;
        AUTOFREE char *self = xasprintf("http://127.0.0.1:%d/v2.1/",
                                        test_main_server.port);

        test_get("GET", paths[i], NULL, &r);
        assert_int_equal(r.status, 200);
        test_assert_keys(r.json, top_keys);
        v = test_member(r.json, "version");
        test_assert_keys(v, version_keys);
        assert_string_equal(test_string_at(v, "id"), "v2.1");
        assert_string_equal(test_string_at(v, "status"), "CURRENT");
        assert_string_equal(test_string_at(v, "version"),
                            API_MAX_MICROVERSION);
        assert_string_equal(test_string_at(v, "min_version"),
                            API_MIN_MICROVERSION);
        assert_string_equal(test_string_at(v, "updated"),
                            "2013-07-23T11:33:21Z");
        links = test_member(v, "links");
        assert_int_equal(json_object_array_length(links), 2);
        assert_string_equal(test_string_at(
                                json_object_array_get_idx(links, 0), "href"),
                            self);
        assert_string_equal(test_string_at(
                                json_object_array_get_idx(links, 0), "rel"),
                            "self");
        assert_string_equal(test_string_at(
                                json_object_array_get_idx(links, 1), "rel"),
                            "describedby");
        assert_string_equal(test_string_at(
                                json_object_array_get_idx(links, 1), "type"),
                            "text/html");
        media = test_member(v, "media-types");
        assert_int_equal(json_object_array_length(media), 1);
        test_assert_keys(json_object_array_get_idx(media, 0), media_keys);
        assert_string_equal(
            test_string_at(json_object_array_get_idx(media, 0), "type"),
            "application/vnd.openstack.compute+json;version=2.1");
        test_response_destroy(&r);
    }
}

static void
test_versions_links_follow_host_and_endpoint(void **state)
{
    static const char *const host[] = {
        "Host: api.example.com:8774", NULL
    };
    static const char *const bad_host[] = { "Host: evil\"host", NULL };
    struct test_response r;
    struct test_server ts;
    struct json_object *v;
    AUTOFREE char *fallback = xasprintf("http://127.0.0.1:%d/v2.1/",
                                        test_main_server.port);

    (void) state;
    test_get("GET", "/v2.1/", host, &r);
    v = test_member(r.json, "version");
    assert_string_equal(test_string_at(json_object_array_get_idx(
                                           test_member(v, "links"), 0),
                                       "href"),
                        "http://api.example.com:8774/v2.1/");
    test_response_destroy(&r);

    /* A Host header that is not a host name is not pasted into links. */
    test_get("GET", "/v2.1/", bad_host, &r);
    v = test_member(r.json, "version");
    assert_string_equal(test_string_at(json_object_array_get_idx(
                                           test_member(v, "links"), 0),
                                       "href"),
                        fallback);
    test_response_destroy(&r);

    /* A configured public endpoint wins over Host. */
    test_server_start(&ts, 1, "https://cloud.example.com/compute/");
    {
        struct test_request rq = { "GET", "/", host, NULL, 0, 0, ts.port };
        struct json_object *versions;

        test_http(&rq, &r);
        versions = test_member(r.json, "versions");
        assert_string_equal(
            test_string_at(json_object_array_get_idx(test_member(
                json_object_array_get_idx(versions, 1), "links"), 0),
                "href"),
            "https://cloud.example.com/compute/v2.1/");
        test_response_destroy(&r);
    }
    test_server_stop(&ts);
}

static void
test_versions_need_no_token_and_head_works(void **state)
{
    struct test_response r;
    int before = __atomic_load_n(&test_main_server.n_validations,
                                 __ATOMIC_RELAXED);

    (void) state;
    test_get("HEAD", "/v2.1/", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_size, 0);
    assert_non_null(test_header(&r, "Content-Length"));
    test_response_destroy(&r);
    assert_int_equal(__atomic_load_n(&test_main_server.n_validations,
                                     __ATOMIC_RELAXED), before);
}

/* ---- Request ids ---------------------------------------------------- */

static void
test_request_id_echo_and_generation(void **state)
{
    static const char *const valid[] = {
        "X-OpenStack-Request-ID: req-3dccb8c4-08fe-4706-a91d-e843b8fe9ed2",
        NULL
    };
    static const char *const invalid[] = {
        "X-OpenStack-Request-ID: req-not-a-uuid", NULL
    };
    static const char *const upper[] = {
        "X-OpenStack-Request-ID: req-3DCCB8C4-08FE-4706-A91D-E843B8FE9ED2",
        NULL
    };
    const struct {
        const char *const *headers;
        const char *expected;   /* NULL: a new one */
    } cases[] = {
        { valid, "req-3dccb8c4-08fe-4706-a91d-e843b8fe9ed2" },
        { invalid, NULL },
        { upper, NULL },
        { NULL, NULL },
    };
    AUTOFREE char *previous = NULL;

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct test_response r;
        const char *id;

        test_get("GET", "/", cases[i].headers, &r);
        assert_int_equal(r.status, 200);
        id = test_header(&r, "X-OpenStack-Request-ID");
        assert_non_null(id);
        assert_true(request_id_is_valid(id));
        assert_string_equal(test_header(&r, "X-Compute-Request-Id"), id);
        if (cases[i].expected) {
            assert_string_equal(id, cases[i].expected);
        } else {
            assert_string_not_equal(id, "req-not-a-uuid");
            assert_string_not_equal(
                id, "req-3dccb8c4-08fe-4706-a91d-e843b8fe9ed2");
            if (previous) {
                assert_string_not_equal(id, previous);
            }
            free(previous);
            previous = xstrdup(id);
        }
        test_response_destroy(&r);
    }
}

static void
test_request_id_on_errors_and_handler_view(void **state)
{
    static const char *const headers[] = {
        "X-OpenStack-Request-ID: req-11111111-2222-3333-4444-555555555555",
        "X-Auth-Token: " TEST_GOOD_TOKEN, NULL
    };
    struct test_response r;

    (void) state;
    test_get("GET", "/v2.1/no-such-thing", headers, &r);
    assert_int_equal(r.status, 404);
    assert_string_equal(test_header(&r, "X-OpenStack-Request-ID"),
                        "req-11111111-2222-3333-4444-555555555555");
    test_response_destroy(&r);

    test_get("GET", "/v2.1/echo", headers, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(test_string_at(r.json, "request_id"),
                        "req-11111111-2222-3333-4444-555555555555");
    test_response_destroy(&r);
}

/* ---- Faults --------------------------------------------------------- */

static void
test_not_found_and_bad_method(void **state)
{
    static const char *const token[] = {
        "X-Auth-Token: " TEST_GOOD_TOKEN, NULL
    };
    struct test_response r;

    (void) state;
    test_get("GET", "/v2.1/flavors", NULL, &r);
    test_assert_fault(&r, "itemNotFound", 404,
                      "The resource could not be found.");
    assert_null(test_header(&r, "OpenStack-API-Version"));
    test_response_destroy(&r);

    test_get("GET", "/nowhere/at/all?x=1", NULL, &r);
    test_assert_fault(&r, "itemNotFound", 404,
                      "The resource could not be found.");
    test_response_destroy(&r);

    test_get("DELETE", "/v2.1/echo", token, &r);
    test_assert_fault(&r, "badMethod", 405,
                      "The method DELETE is not allowed for this "
                      "resource.");
    assert_string_equal(test_header(&r, "Allow"), "GET, HEAD, POST");
    test_response_destroy(&r);

    test_get("PROPFIND", "/v2.1/", NULL, &r);
    assert_int_equal(r.status, 405);
    assert_string_equal(test_header(&r, "Allow"), "GET, HEAD");
    test_response_destroy(&r);

    /* A handler's own error, with the microversion headers. */
    test_get("GET", "/v2.1/servers/abc", token, &r);
    test_assert_fault(&r, "itemNotFound", 404,
                      "Server abc could not be found.");
    assert_string_equal(test_header(&r, "OpenStack-API-Version"),
                        "compute 2.1");
    test_response_destroy(&r);

    /* No body at all. */
    test_get("DELETE", "/v2.1/nothing", NULL, &r);
    assert_int_equal(r.status, 204);
    assert_int_equal(r.body_size, 0);
    assert_null(test_header(&r, "Content-Type"));
    test_response_destroy(&r);
}

static void
test_identity_routes_use_keystone_errors(void **state)
{
    struct test_request rq = {
        "POST", "/v3/projects/x", NULL, "{}", 0, 0, 0
    };
    struct test_response r;

    (void) state;
    test_http(&rq, &r);
    test_assert_keystone_error(&r, 404, "Not Found",
                               "Could not find project: x.");
    assert_null(test_header(&r, "OpenStack-API-Version"));
    assert_null(test_header(&r, "Vary"));
    assert_non_null(test_header(&r, "X-OpenStack-Request-ID"));
    test_response_destroy(&r);

    test_get("GET", "/v3/nothing-here", NULL, &r);
    test_assert_keystone_error(&r, 404, "Not Found",
                               "The resource could not be found.");
    test_response_destroy(&r);

    test_get("GET", "/v3/projects/x", NULL, &r);
    test_assert_keystone_error(&r, 405, "Method Not Allowed",
                               "The method GET is not allowed for this "
                               "resource.");
    assert_string_equal(test_header(&r, "Allow"), "POST");
    test_response_destroy(&r);
}

static void
test_malformed_json(void **state)
{
    static const char *const token[] = {
        "X-Auth-Token: " TEST_GOOD_TOKEN, "Content-Type: application/json",
        NULL
    };
    static const char *const bodies[] = {
        "{", "{\"a\": 1} trailing", "[1, 2", "\"unterminated",
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(bodies); i++) {
        struct test_request rq = {
            "POST", "/v2.1/echo", token, bodies[i], 0, 0, 0
        };
        struct test_response r;
        struct json_object *inner;

        test_http(&rq, &r);
        test_assert_fault(&r, "badRequest", 400, NULL);
        inner = test_member(r.json, "badRequest");
        assert_non_null(strstr(test_string_at(inner, "message"),
                               "Malformed request body"));
        test_response_destroy(&r);
    }
}

static void
test_json_body_reaches_handler(void **state)
{
    static const char *const token[] = {
        "X-Auth-Token: " TEST_GOOD_TOKEN, NULL
    };
    struct test_request rq = {
        "POST", "/v2.1/echo?status=ACTIVE&status=ERROR&name=a+b%2Fc", token,
        "{\"server\": {\"name\": \"vm1\"}}", 0, 0, 0
    };
    struct test_response r;
    struct json_object *query;

    (void) state;
    test_http(&rq, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(test_header(&r, "X-Test-Handler"), "echo");
    assert_string_equal(
        test_string_at(test_member(test_member(r.json, "body"), "server"),
                       "name"),
        "vm1");
    query = test_member(r.json, "query");
    assert_int_equal(json_object_array_length(query), 3);
    assert_string_equal(json_object_get_string(
                            json_object_array_get_idx(query, 0)), "ACTIVE");
    assert_string_equal(json_object_get_string(
                            json_object_array_get_idx(query, 1)), "ERROR");
    assert_string_equal(json_object_get_string(
                            json_object_array_get_idx(query, 2)), "a b/c");
    test_response_destroy(&r);
}

static void
test_oversized_bodies(void **state)
{
    static const char *const expect[] = {
        "X-Auth-Token: " TEST_GOOD_TOKEN, "Expect: 100-continue", NULL
    };
    AUTOFREE char *big = xmalloc(TEST_MAX_BODY + 2);
    const char *name = test_fault_name(ERROR_TOO_LARGE);
    struct test_response r;

    (void) state;
    memset(big, ' ', TEST_MAX_BODY + 1);
    big[0] = '{';
    big[TEST_MAX_BODY] = '}';
    big[TEST_MAX_BODY + 1] = '\0';

    /* Declared with Content-Length: refused before it is sent. */
    {
        struct test_request rq = {
            "POST", "/v2.1/echo", expect, big, TEST_MAX_BODY + 1, 0, 0
        };
        test_http(&rq, &r);
        test_assert_fault(&r, name, 413, "Request is too large.");
        test_response_destroy(&r);
    }

    /* Sent in chunks: read, thrown away, then refused. */
    {
        struct test_request rq = {
            "POST", "/v2.1/echo", expect, NULL, 0, 2 * TEST_MAX_BODY, 0
        };
        test_http(&rq, &r);
        test_assert_fault(&r, name, 413, "Request is too large.");
        test_response_destroy(&r);
    }

    /* Exactly at the limit is accepted (and is valid JSON). */
    {
        struct test_request rq = {
            "POST", "/v2.1/echo", expect, big, TEST_MAX_BODY, 0, 0
        };
        big[TEST_MAX_BODY - 1] = '}';
        test_http(&rq, &r);
        assert_int_equal(r.status, 200);
        test_response_destroy(&r);
    }

    /* The server is still up. */
    test_get("GET", "/", NULL, &r);
    assert_int_equal(r.status, 200);
    test_response_destroy(&r);
}

static void
test_internal_error_hides_detail(void **state)
{
    struct test_response r;
    const char *message;
    const char *id;

    (void) state;
    test_get("GET", "/v2.1/internal", NULL, &r);
    test_assert_fault(&r, "computeFault", 500, NULL);
    message = test_string_at(test_member(r.json, "computeFault"),
                             "message");
    id = test_header(&r, "X-OpenStack-Request-ID");
    assert_null(strstr(message, "secret"));
    assert_non_null(strstr(message, id));
    test_response_destroy(&r);
}

/* Sends 'request' on a new connection and returns the status code of
 * the answer (0 if there is none). */
static int
test_raw_status(const char *request)
{
    struct sockaddr_in sin;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    char buf[64] = "";
    size_t got = 0;
    int status = 0;

    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t) test_main_server.port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *) &sin, sizeof sin), 0);
    assert_int_equal(write(fd, request, strlen(request)),
                     (ssize_t) strlen(request));
    while (got < sizeof buf - 1) {
        ssize_t n = read(fd, buf + got, sizeof buf - 1 - got);
        if (n <= 0) {
            break;
        }
        got += (size_t) n;
    }
    close(fd);
    buf[got] = '\0';
    if (sscanf(buf, "HTTP/1.1 %d", &status) != 1) {
        status = 0;
    }
    return status;
}

static void
test_request_target_forms(void **state)
{
    static const struct {
        const char *request;
        int status;
    } cases[] = {
        { "GET /v2.1/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
          200 },
        { "GET http://api.example.com:8774/v2.1/ HTTP/1.1\r\nHost: x\r\n"
          "Connection: close\r\n\r\n", 200 },
        { "GET HTTP://api.example.com HTTP/1.1\r\nHost: x\r\n"
          "Connection: close\r\n\r\n", 200 },
        { "GET * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
          400 },
        { "GET /v2.1/%00 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
          "\r\n", 400 },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        print_message("case %zu\n", i);
        assert_int_equal(test_raw_status(cases[i].request),
                         cases[i].status);
    }
}

/* ---- Authentication ------------------------------------------------- */

static void
test_authentication(void **state)
{
    static const char *const none[] = { NULL };
    static const char *const empty[] = { "X-Auth-Token;", NULL };
    static const char *const bad[] = { "X-Auth-Token: nope", NULL };
    static const char *const broken[] = {
        "X-Auth-Token: " TEST_BROKEN_TOKEN, NULL
    };
    static const char *const good[] = {
        "X-Auth-Token: " TEST_GOOD_TOKEN, NULL
    };
    static const char *const admin[] = {
        "X-Auth-Token: " TEST_ADMIN_TOKEN, NULL
    };
    const struct {
        const char *const *headers;
        int status;
        const char *user;
    } cases[] = {
        { none, 401, NULL },
        { empty, 401, NULL },
        { bad, 401, NULL },
        { broken, 503, NULL },
        { good, 200, "user-1" },
        { admin, 200, "admin-user" },
    };
    AUTOFREE char *www = xasprintf("Keystone uri=\"http://127.0.0.1:%d\"",
                                   test_main_server.port);

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct test_response r;

        print_message("case %zu\n", i);
        test_get("GET", "/v2.1/echo", cases[i].headers, &r);
        assert_int_equal(r.status, cases[i].status);
        if (cases[i].status == 401) {
            test_assert_keystone_error(
                &r, 401, "Unauthorized",
                "The request you have made requires authentication.");
            assert_string_equal(test_header(&r, "WWW-Authenticate"), www);
            assert_null(test_header(&r, "OpenStack-API-Version"));
            assert_non_null(test_header(&r, "X-OpenStack-Request-ID"));
        } else if (cases[i].status == 503) {
            test_assert_fault(&r, "serviceUnavailable", 503,
                              "The identity store is down.");
        } else {
            assert_string_equal(test_string_at(r.json, "user"),
                                cases[i].user);
        }
        test_response_destroy(&r);
    }
}

static void
test_project_id_in_url(void **state)
{
    static const char *const good[] = {
        "X-Auth-Token: " TEST_GOOD_TOKEN, NULL
    };
    struct test_response r;

    (void) state;
    test_get("GET", "/v2.1/" TEST_PROJECT "/echo", good, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(test_string_at(r.json, "url_project"), TEST_PROJECT);
    test_response_destroy(&r);

    test_get("GET", "/v2.1/ffff0000/echo", good, &r);
    test_assert_fault(&r, "badRequest", 400,
                      "Malformed request URL: URL's project_id 'ffff0000' "
                      "doesn't match Context's project_id '"
                      TEST_PROJECT "'");
    test_response_destroy(&r);

    test_get("GET", "/v2.1/ffff0000/echo", NULL, &r);
    assert_int_equal(r.status, 401);
    test_response_destroy(&r);
}

/* ---- Microversions -------------------------------------------------- */

static void
test_microversion_headers(void **state)
{
    static const char *const plain[] = {
        "X-Auth-Token: " TEST_GOOD_TOKEN, NULL
    };
    static const char *const new_header[] = {
        "X-Auth-Token: " TEST_GOOD_TOKEN,
        "OpenStack-API-Version: compute 2.1", NULL
    };
    static const char *const latest[] = {
        "X-Auth-Token: " TEST_GOOD_TOKEN,
        "OpenStack-API-Version: compute latest", NULL
    };
    static const char *const legacy[] = {
        "X-Auth-Token: " TEST_GOOD_TOKEN,
        "X-OpenStack-Nova-API-Version: 2.1", NULL
    };
    static const char *const other_service[] = {
        "X-Auth-Token: " TEST_GOOD_TOKEN,
        "OpenStack-API-Version: volume 3.0", NULL
    };
    static const char *const both[] = {
        "X-Auth-Token: " TEST_GOOD_TOKEN,
        "OpenStack-API-Version: compute 2.1",
        "X-OpenStack-Nova-API-Version: 2.99", NULL
    };
    static const char *const too_new[] = {
        "X-Auth-Token: " TEST_GOOD_TOKEN,
        "OpenStack-API-Version: compute 2.99", NULL
    };
    static const char *const legacy_too_new[] = {
        "X-Auth-Token: " TEST_GOOD_TOKEN,
        "X-OpenStack-Nova-API-Version: 2.99", NULL
    };
    static const char *const malformed[] = {
        "X-Auth-Token: " TEST_GOOD_TOKEN,
        "OpenStack-API-Version: compute x.y", NULL
    };
    static const char *const no_token_too_new[] = {
        "OpenStack-API-Version: compute 2.99", NULL
    };
    const struct {
        const char *path;
        const char *const *headers;
        int status;
    } cases[] = {
        { "/v2.1/echo", plain, 200 },
        { "/v2.1/echo", new_header, 200 },
        { "/v2.1/echo", latest, 200 },
        { "/v2.1/echo", legacy, 200 },
        { "/v2.1/echo", other_service, 200 },
        { "/v2.1/echo", both, 200 },
        { "/", too_new, 406 },
        { "/v2.1/echo", too_new, 406 },
        { "/v2.1/echo", legacy_too_new, 406 },
        { "/v2.1/echo", malformed, 400 },
        { "/v2.1/echo", no_token_too_new, 401 },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct test_response r;

        print_message("case %zu\n", i);
        test_get("GET", cases[i].path, cases[i].headers, &r);
        assert_int_equal(r.status, cases[i].status);
        if (r.status == 200) {
            assert_string_equal(test_header(&r, "OpenStack-API-Version"),
                                "compute " API_MAX_MICROVERSION);
            assert_string_equal(test_header(&r,
                                            "X-OpenStack-Nova-API-Version"),
                                API_MAX_MICROVERSION);
            assert_string_equal(test_header(&r, "Vary"),
                                "OpenStack-API-Version, "
                                "X-OpenStack-Nova-API-Version");
            assert_string_equal(test_string_at(r.json, "version"),
                                API_MAX_MICROVERSION);
        } else if (r.status == 406) {
            test_assert_fault(&r, test_fault_name(ERROR_NOT_ACCEPTABLE), 406,
                              "Version 2.99 is not supported by the API. "
                              "Minimum is " API_MIN_MICROVERSION " and "
                              "maximum is " API_MAX_MICROVERSION ".");
            assert_null(test_header(&r, "OpenStack-API-Version"));
        } else if (r.status == 400) {
            test_assert_fault(&r, "badRequest", 400,
                              "API Version String x.y is of invalid "
                              "format. Must be of format "
                              "MajorNum.MinorNum.");
        }
        test_response_destroy(&r);
    }
}

/* ---- Connections ---------------------------------------------------- */

static void
test_keep_alive(void **state)
{
    CURL *curl = curl_easy_init();
    struct test_request rq = { "GET", "/v2.1/", NULL, NULL, 0, 0, 0 };
    struct test_response first, second;

    (void) state;
    assert_non_null(curl);
    test_http_on(curl, &rq, &first);
    test_http_on(curl, &rq, &second);
    assert_int_equal(first.code, CURLE_OK);
    assert_int_equal(second.code, CURLE_OK);
    assert_int_equal(first.status, 200);
    assert_int_equal(second.status, 200);
    assert_int_equal(first.n_connects, 1);
    assert_int_equal(second.n_connects, 0);
    assert_int_equal(first.local_port, second.local_port);
    assert_null(test_header(&second, "Connection"));
    test_response_destroy(&first);
    test_response_destroy(&second);
    curl_easy_cleanup(curl);
}

/* ---- Deferred requests ---------------------------------------------- */

struct test_client {
    pthread_t thread;
    struct test_request rq;
    struct test_response r;
};

static void *
test_client_run(void *aux)
{
    struct test_client *c = aux;

    test_http_on(NULL, &c->rq, &c->r);
    return NULL;
}

static void
test_client_start(struct test_client *c, const char *method,
                  const char *path, int port)
{
    memset(c, 0, sizeof *c);
    c->rq.method = method;
    c->rq.path = path;
    c->rq.port = port;
    c->rq.body = strcmp(method, "GET") ? "{}" : NULL;
    assert_int_equal(pthread_create(&c->thread, NULL, test_client_run, c),
                     0);
}

static void
test_client_join(struct test_client *c)
{
    assert_int_equal(pthread_join(c->thread, NULL), 0);
    if (c->r.code != CURLE_OK) {
        fail_msg("%s %s: %s", c->rq.method, c->rq.path,
                 curl_easy_strerror(c->r.code));
    }
}

/* Waits until a request is parked; returns it and its response. */
static struct http_request *
test_wait_parked(struct http_response **ret_resp)
{
    struct http_request *req;

    pthread_mutex_lock(&test_sync.mutex);
    while (!test_sync.parked) {
        pthread_cond_wait(&test_sync.cond, &test_sync.mutex);
    }
    req = test_sync.parked;
    *ret_resp = test_sync.parked_resp;
    test_sync.parked = NULL;
    pthread_mutex_unlock(&test_sync.mutex);
    return req;
}

struct test_completer {
    pthread_t thread;
    struct http_request *req;
    struct http_response *resp;
    struct error *error;        /* to complete with; NULL: a 202 body */
};

static void *
test_completer_run(void *aux)
{
    struct test_completer *c = aux;

    pthread_mutex_lock(&test_sync.mutex);
    while (!test_sync.complete_now) {
        pthread_cond_wait(&test_sync.cond, &test_sync.mutex);
    }
    pthread_mutex_unlock(&test_sync.mutex);
    if (!c->error) {
        struct json_object *o = json_object_new_object();

        json_object_object_add(o, "completed_by",
                               json_object_new_string("timer thread"));
        http_response_set_json(c->resp, 202, o);
        http_response_add_header(c->resp, "Location", "/v2.1/servers/x");
    }
    http_request_complete(c->req, c->error);
    return NULL;
}

static void
test_deferred_request_completed_later(void **state)
{
    const struct {
        enum error_kind kind;   /* ERROR_INTERNAL: success */
        int status;
    } cases[] = {
        { ERROR_INTERNAL, 202 },
        { ERROR_CONFLICT, 409 },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct test_client client;
        struct test_completer completer;
        struct test_response r;

        test_sync_reset();
        test_client_start(&client, "POST", "/v2.1/park", 0);
        memset(&completer, 0, sizeof completer);
        completer.req = test_wait_parked(&completer.resp);
        if (cases[i].kind != ERROR_INTERNAL) {
            completer.error = error_new(cases[i].kind, "Cannot '%s' now",
                                        "reboot");
        }
        assert_int_equal(pthread_create(&completer.thread, NULL,
                                        test_completer_run, &completer),
                         0);

        /* The only server thread is free while the request waits. */
        test_get("GET", "/v2.1/", NULL, &r);
        assert_int_equal(r.status, 200);
        test_response_destroy(&r);
        assert_true(http_server_n_inflight(test_main_server.server) >= 1);

        pthread_mutex_lock(&test_sync.mutex);
        test_sync.complete_now = true;
        pthread_cond_broadcast(&test_sync.cond);
        pthread_mutex_unlock(&test_sync.mutex);
        assert_int_equal(pthread_join(completer.thread, NULL), 0);
        test_client_join(&client);

        assert_int_equal(client.r.status, cases[i].status);
        assert_non_null(test_header(&client.r, "X-OpenStack-Request-ID"));
        if (cases[i].status == 202) {
            assert_string_equal(test_string_at(client.r.json,
                                               "completed_by"),
                                "timer thread");
            assert_string_equal(test_header(&client.r, "Location"),
                                "/v2.1/servers/x");
        } else {
            test_assert_fault(&client.r, "conflictingRequest", 409,
                              "Cannot 'reboot' now");
        }
        test_response_destroy(&client.r);
    }
}

static void
test_deferred_request_completed_at_once(void **state)
{
    struct test_request rq = {
        "POST", "/v2.1/instant", NULL, "{}", 0, 0, 0
    };
    struct test_response r;

    (void) state;
    test_http(&rq, &r);
    assert_int_equal(r.status, 201);
    assert_true(json_object_get_boolean(test_member(r.json, "instant")));
    test_response_destroy(&r);
}

/* ---- Shutdown ------------------------------------------------------- */

struct test_shutdown {
    pthread_t thread;
    struct http_server *server;
    int grace_ms;
    bool result;
};

static void *
test_shutdown_run(void *aux)
{
    struct test_shutdown *s = aux;

    s->result = http_server_shutdown(s->server, s->grace_ms);
    return NULL;
}

/* Returns true once a TCP connection to 'port' is refused. */
static bool
test_wait_refused(int port)
{
    for (int i = 0; i < TEST_RETRY_MAX; i++) {
        struct sockaddr_in sin;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int r;

        memset(&sin, 0, sizeof sin);
        sin.sin_family = AF_INET;
        sin.sin_port = htons((uint16_t) port);
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        r = connect(fd, (struct sockaddr *) &sin, sizeof sin);
        close(fd);
        if (r < 0 && errno == ECONNREFUSED) {
            return true;
        }
        usleep(TEST_RETRY_SLEEP_MS * 1000);
    }
    return false;
}

static void
test_graceful_shutdown_finishes_in_flight(void **state)
{
    struct test_server ts;
    struct test_client client;
    struct test_shutdown shutdown_ = { 0 };

    (void) state;
    test_sync_reset();
    test_server_start(&ts, 2, NULL);
    test_client_start(&client, "GET", "/v2.1/block", ts.port);
    pthread_mutex_lock(&test_sync.mutex);
    while (!test_sync.entered) {
        pthread_cond_wait(&test_sync.cond, &test_sync.mutex);
    }
    pthread_mutex_unlock(&test_sync.mutex);

    /* Shut down while the request is in its handler. */
    shutdown_.server = ts.server;
    shutdown_.grace_ms = 60000;
    assert_int_equal(pthread_create(&shutdown_.thread, NULL,
                                    test_shutdown_run, &shutdown_), 0);
    assert_true(test_wait_refused(ts.port));

    pthread_mutex_lock(&test_sync.mutex);
    test_sync.released = true;
    pthread_cond_broadcast(&test_sync.cond);
    pthread_mutex_unlock(&test_sync.mutex);

    test_client_join(&client);
    assert_int_equal(pthread_join(shutdown_.thread, NULL), 0);
    assert_true(shutdown_.result);
    assert_int_equal(client.r.status, 200);
    assert_true(json_object_get_boolean(test_member(client.r.json,
                                                    "finished")));
    assert_string_equal(test_header(&client.r, "Connection"), "close");
    assert_int_equal(http_server_n_inflight(ts.server), 0);
    test_response_destroy(&client.r);

    /* Calling it again does nothing. */
    assert_true(http_server_shutdown(ts.server, 0));
    test_server_stop(&ts);
}

static void
test_graceful_shutdown_answers_deferred(void **state)
{
    struct test_server ts;
    struct test_client client;
    struct http_request *parked;
    struct http_response *resp;

    (void) state;
    test_sync_reset();
    test_server_start(&ts, 2, NULL);
    test_client_start(&client, "POST", "/v2.1/park", ts.port);
    parked = test_wait_parked(&resp);

    /* The deferred request never completes within the grace period. */
    assert_false(http_server_shutdown(ts.server, 50));
    test_client_join(&client);
    test_assert_fault(&client.r, "serviceUnavailable", 503,
                      "The server is shutting down.");
    test_response_destroy(&client.r);

    /* Its owner may still fill the response and complete it later. */
    http_response_set_json(resp, 202, json_object_new_object());
    http_request_complete(parked, NULL);
    test_server_stop(&ts);
}

/* ---- The daemon ----------------------------------------------------- */

static int
test_free_port(void)
{
    struct sockaddr_in sin;
    socklen_t size = sizeof sin;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int port;

    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *) &sin, sizeof sin), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *) &sin, &size), 0);
    port = ntohs(sin.sin_port);
    close(fd);
    return port;
}

/* Reads all of 'path' (a small log). */
static char *
test_read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    char *text = xzalloc(1);
    size_t size = 0;
    char buf[4096];
    size_t n;

    assert_non_null(f);
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        text = xrealloc(text, size + n + 1);
        memcpy(text + size, buf, n);
        size += n;
        text[size] = '\0';
    }
    fclose(f);
    return text;
}

static void
test_daemon_runs_and_stops_on_sigterm(void **state)
{
    char log_path[] = "/tmp/test-api-http-XXXXXX";
    int port = test_free_port();
    AUTOFREE char *port_arg = xasprintf("%d", port);
    AUTOFREE char *program = xasprintf("%s/api-cell/nova-api",
                                       TEST_API_BUILDDIR);
    AUTOFREE char *log_text = NULL;
    struct test_request rq = { "GET", "/v2.1/", NULL, NULL, 0, 0, port };
    struct test_response r;
    int log_fd = mkstemp(log_path);
    int status;
    pid_t pid;
    bool up = false;

    (void) state;
    assert_true(log_fd >= 0);
    fflush(NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        char *argv[] = {
            program, "--config", "/dev/null", "--listen-port", port_arg,
            "--threads", "2", "--log-level", "info", NULL
        };

        dup2(null_fd, 0);
        dup2(log_fd, 2);
        execv(program, argv);
        _exit(127);
    }
    close(log_fd);

    for (int i = 0; i < TEST_RETRY_MAX && !up; i++) {
        test_http_on(NULL, &rq, &r);
        up = r.code == CURLE_OK;
        if (!up) {
            usleep(TEST_RETRY_SLEEP_MS * 1000);
        } else {
            assert_int_equal(r.status, 200);
        }
        test_response_destroy(&r);
    }
    assert_true(up);

    /* SIGHUP reopens the log and keeps serving. */
    assert_int_equal(kill(pid, SIGHUP), 0);
    test_http(&rq, &r);
    assert_int_equal(r.status, 200);
    test_response_destroy(&r);

    assert_int_equal(kill(pid, SIGTERM), 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);

    log_text = test_read_file(log_path);
    unlink(log_path);
    assert_non_null(strstr(log_text, "\"GET /v2.1/\" status: 200"));
    assert_non_null(strstr(log_text, "req=req-"));
    assert_non_null(strstr(log_text, "HTTP server stopped"));
}

static void
test_daemon_refuses_a_busy_port(void **state)
{
    AUTOFREE char *port_arg = xasprintf("%d", test_main_server.port);
    AUTOFREE char *program = xasprintf("%s/api-cell/nova-api",
                                       TEST_API_BUILDDIR);
    int status;
    pid_t pid;

    (void) state;
    fflush(NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        char *argv[] = {
            program, "--config", "/dev/null", "--listen-port", port_arg,
            NULL
        };

        dup2(null_fd, 0);
        dup2(null_fd, 2);
        execv(program, argv);
        _exit(127);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 1);
}

/* ---- Throughput report ---------------------------------------------- */

struct test_bench_client {
    pthread_t thread;
    int port;
    int n;
    int n_ok;
};

static void *
test_bench_run(void *aux)
{
    struct test_bench_client *c = aux;
    CURL *curl = curl_easy_init();
    AUTOFREE char *url = xasprintf("http://127.0.0.1:%d/v2.1/", c->port);
    struct test_response r;

    memset(&r, 0, sizeof r);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, test_write_cb);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r);
    for (int i = 0; i < c->n; i++) {
        long status = 0;

        if (curl_easy_perform(curl) == CURLE_OK
            && curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status)
               == CURLE_OK && status == 200) {
            c->n_ok++;
        }
        free(r.body);
        r.body = NULL;
        r.body_size = 0;
    }
    curl_easy_cleanup(curl);
    return NULL;
}

static double
test_now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void
test_throughput_report(void **state)
{
    struct test_server ts;
    struct test_bench_client clients[TEST_BENCH_CLIENTS];
    double start, elapsed;
    int n_ok = 0;

    (void) state;
    log_set_levels("warn");
    test_server_start(&ts, 2, NULL);
    start = test_now_s();
    for (int i = 0; i < TEST_BENCH_CLIENTS; i++) {
        memset(&clients[i], 0, sizeof clients[i]);
        clients[i].port = ts.port;
        clients[i].n = TEST_BENCH_REQUESTS / TEST_BENCH_CLIENTS;
        assert_int_equal(pthread_create(&clients[i].thread, NULL,
                                        test_bench_run, &clients[i]), 0);
    }
    for (int i = 0; i < TEST_BENCH_CLIENTS; i++) {
        assert_int_equal(pthread_join(clients[i].thread, NULL), 0);
        n_ok += clients[i].n_ok;
    }
    elapsed = test_now_s() - start;
    test_server_stop(&ts);

    assert_int_equal(n_ok, TEST_BENCH_REQUESTS);
    print_message("GET /v2.1/: %d requests, %d keep-alive clients, 2 server "
                  "threads: %.0f requests/s\n", n_ok, TEST_BENCH_CLIENTS,
                  (double) n_ok / elapsed);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_versions_list),
        cmocka_unit_test(test_versions_show),
        cmocka_unit_test(test_versions_links_follow_host_and_endpoint),
        cmocka_unit_test(test_versions_need_no_token_and_head_works),
        cmocka_unit_test(test_request_id_echo_and_generation),
        cmocka_unit_test(test_request_id_on_errors_and_handler_view),
        cmocka_unit_test(test_not_found_and_bad_method),
        cmocka_unit_test(test_identity_routes_use_keystone_errors),
        cmocka_unit_test(test_malformed_json),
        cmocka_unit_test(test_json_body_reaches_handler),
        cmocka_unit_test(test_oversized_bodies),
        cmocka_unit_test(test_internal_error_hides_detail),
        cmocka_unit_test(test_request_target_forms),
        cmocka_unit_test(test_authentication),
        cmocka_unit_test(test_project_id_in_url),
        cmocka_unit_test(test_microversion_headers),
        cmocka_unit_test(test_keep_alive),
        cmocka_unit_test(test_deferred_request_completed_later),
        cmocka_unit_test(test_deferred_request_completed_at_once),
        cmocka_unit_test(test_graceful_shutdown_finishes_in_flight),
        cmocka_unit_test(test_graceful_shutdown_answers_deferred),
        cmocka_unit_test(test_daemon_runs_and_stops_on_sigterm),
        cmocka_unit_test(test_daemon_refuses_a_busy_port),
        cmocka_unit_test(test_throughput_report),
    };
    int status;

    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    status = cmocka_run_group_tests(tests, test_group_setup,
                                    test_group_teardown);
    curl_global_cleanup();
    return status;
}
