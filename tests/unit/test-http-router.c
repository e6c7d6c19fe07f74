/* test-http-router.c: the request object (target parsing, query
 * parameters, headers, bodies, deferral without a server), the response
 * object and the router (templates, precedence, parameters, 404/405 and
 * Allow, trailing slashes, percent-decoding, the project-id form). */
#include <config.h>

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "api-cell/http-router.h"
#include "api-cell/http-server.h"
#include "shared/cleanup.h"
#include "shared/error.h"
#include "shared/json-util.h"
#include "shared/log.h"
#include "shared/xalloc.h"

/* ---- Target parsing ------------------------------------------------- */

static void
test_request_path_segments(void **state)
{
    static const struct {
        const char *target;
        const char *path;
        size_t n_segments;
        const char *segments[4];
        bool trailing_slash;
    } cases[] = {
        { "/", "/", 0, { NULL }, false },
        { "/v2.1", "/v2.1", 1, { "v2.1" }, false },
        { "/v2.1/", "/v2.1/", 1, { "v2.1" }, true },
        { "/a/b/", "/a/b/", 2, { "a", "b" }, true },
        { "/a//b", "/a//b", 3, { "a", "", "b" }, false },
        { "/a%2Fb/c", "/a/b/c", 2, { "a/b", "c" }, false },
        { "/a%20b+c", "/a b+c", 1, { "a b+c" }, false },
        { "/%zz/%4", "/%zz/%4", 2, { "%zz", "%4" }, false },
        { "/k%C3%A9y", "/k\xc3\xa9y", 1, { "k\xc3\xa9y" }, false },
        { "/x?y=/z", "/x", 1, { "x" }, false },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        CLEANUP(http_request_freep) struct http_request *req = NULL;
        struct error *error = http_request_new(HTTP_GET, cases[i].target,
                                               &req);

        assert_null(error);
        assert_string_equal(http_request_path(req), cases[i].path);
        assert_int_equal(http_request_n_segments(req), cases[i].n_segments);
        for (size_t j = 0; j < cases[i].n_segments; j++) {
            assert_string_equal(http_request_segment(req, j),
                                cases[i].segments[j]);
        }
        assert_null(http_request_segment(req, cases[i].n_segments));
        assert_int_equal(http_request_has_trailing_slash(req),
                         cases[i].trailing_slash);
        assert_int_equal(http_request_method(req), HTTP_GET);
    }
}

static void
test_request_bad_targets(void **state)
{
    AUTOFREE char *long_target = NULL;
    AUTOFREE char *many_params = NULL;
    AUTOFREE char *many_segments = NULL;
    const struct {
        const char *target;
        const char *message;
    } cases[] = {
        { "servers", "must start with '/'" },
        { "", "must start with '/'" },
        { "http://host/x", "must start with '/'" },
        { "/a%00b", "encoded NUL" },
        { "/a?b=%00", "encoded NUL" },
        { "/a?%00=1", "encoded NUL" },
        { NULL, "longer than" },
        { NULL, "Too many query parameters" },
        { NULL, "path segments" },
    };
    size_t n = 0;

    (void) state;
    long_target = xmalloc(HTTP_MAX_TARGET_SIZE + 2);
    memset(long_target, 'a', HTTP_MAX_TARGET_SIZE + 1);
    long_target[0] = '/';
    long_target[HTTP_MAX_TARGET_SIZE + 1] = '\0';

    many_params = xmalloc(4 * (HTTP_MAX_QUERY_PARAMS + 1) + 3);
    n = 0;
    many_params[n++] = '/';
    many_params[n++] = '?';
    for (int i = 0; i <= HTTP_MAX_QUERY_PARAMS; i++) {
        memcpy(many_params + n, "a=1&", 4);
        n += 4;
    }
    many_params[n] = '\0';

    many_segments = xmalloc(2 * (HTTP_MAX_PATH_SEGMENTS + 1) + 1);
    n = 0;
    for (int i = 0; i <= HTTP_MAX_PATH_SEGMENTS; i++) {
        many_segments[n++] = '/';
        many_segments[n++] = 's';
    }
    many_segments[n] = '\0';

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct http_request *req = NULL;
        const char *target = cases[i].target;
        CLEANUP(error_freep) struct error *error = NULL;

        if (!target) {
            target = i == 6 ? long_target
                     : i == 7 ? many_params : many_segments;
        }
        error = http_request_new(HTTP_GET, target, &req);
        assert_non_null(error);
        assert_null(req);
        assert_int_equal(error_kind(error), ERROR_INVALID);
        assert_non_null(strstr(error_message(error), cases[i].message));
    }
}

static void
test_request_limits_are_inclusive(void **state)
{
    AUTOFREE char *params = xmalloc(4 * HTTP_MAX_QUERY_PARAMS + 3);
    CLEANUP(http_request_freep) struct http_request *req = NULL;
    size_t n = 0;

    (void) state;
    params[n++] = '/';
    params[n++] = '?';
    for (int i = 0; i < HTTP_MAX_QUERY_PARAMS; i++) {
        memcpy(params + n, "a=1&", 4);
        n += 4;
    }
    params[n] = '\0';
    assert_null(http_request_new(HTTP_GET, params, &req));
    assert_int_equal(http_request_n_query(req), HTTP_MAX_QUERY_PARAMS);
    assert_int_equal(http_request_query_count(req, "a"),
                     HTTP_MAX_QUERY_PARAMS);
}

static void
test_request_query(void **state)
{
    static const struct {
        const char *target;
        const char *name;
        size_t count;
        const char *values[3];
        size_t n_pairs;
    } cases[] = {
        { "/s?status=ACTIVE&status=ERROR&limit=10", "status", 2,
          { "ACTIVE", "ERROR" }, 3 },
        { "/s?status=ACTIVE&status=ERROR&limit=10", "limit", 1, { "10" },
          3 },
        { "/s?status=ACTIVE", "Status", 0, { NULL }, 1 },
        { "/s?a", "a", 1, { "" }, 1 },
        { "/s?a=", "a", 1, { "" }, 1 },
        { "/s?a=b=c", "a", 1, { "b=c" }, 1 },
        { "/s?x=a+b%20c", "x", 1, { "a b c" }, 1 },
        { "/s?&&a=1&", "a", 1, { "1" }, 1 },
        { "/s?%41=%2b", "A", 1, { "+" }, 1 },
        { "/s?name=%zz", "name", 1, { "%zz" }, 1 },
        { "/s?", "a", 0, { NULL }, 0 },
        { "/s", "a", 0, { NULL }, 0 },
        { "/s?=v", "", 1, { "v" }, 1 },
        { "/s?a=1&b=2&a=3", "a", 2, { "1", "3" }, 3 },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        CLEANUP(http_request_freep) struct http_request *req = NULL;

        assert_null(http_request_new(HTTP_GET, cases[i].target, &req));
        assert_int_equal(http_request_query_count(req, cases[i].name),
                         cases[i].count);
        assert_int_equal(http_request_n_query(req), cases[i].n_pairs);
        for (size_t j = 0; j < cases[i].count; j++) {
            assert_string_equal(http_request_query_nth(req, cases[i].name,
                                                       j),
                                cases[i].values[j]);
        }
        assert_null(http_request_query_nth(req, cases[i].name,
                                           cases[i].count));
        if (cases[i].count) {
            assert_string_equal(http_request_query(req, cases[i].name),
                                cases[i].values[0]);
        } else {
            assert_null(http_request_query(req, cases[i].name));
        }
    }
}

static void
test_request_query_at_lists_pairs_in_order(void **state)
{
    CLEANUP(http_request_freep) struct http_request *req = NULL;
    const char *name, *value;

    (void) state;
    assert_null(http_request_new(HTTP_GET, "/s?b=2&a=1&b=3", &req));
    assert_int_equal(http_request_n_query(req), 3);
    http_request_query_at(req, 0, &name, &value);
    assert_string_equal(name, "b");
    assert_string_equal(value, "2");
    http_request_query_at(req, 1, &name, &value);
    assert_string_equal(name, "a");
    assert_string_equal(value, "1");
    http_request_query_at(req, 2, &name, &value);
    assert_string_equal(name, "b");
    assert_string_equal(value, "3");
}

static void
test_request_headers_ignore_case(void **state)
{
    CLEANUP(http_request_freep) struct http_request *req = NULL;

    (void) state;
    assert_null(http_request_new(HTTP_GET, "/", &req));
    http_request_add_header(req, "X-Auth-Token", "t1");
    http_request_add_header(req, "x-auth-token", "t2");
    http_request_add_header(req, "Host", "example.com");
    assert_string_equal(http_request_header(req, "x-AUTH-token"), "t1");
    assert_string_equal(http_request_header(req, "host"), "example.com");
    assert_null(http_request_header(req, "Content-Type"));
}

static void
test_request_body(void **state)
{
    static const struct {
        const char *text;
        size_t max_size;
        enum error_kind kind;   /* ERROR_INTERNAL: no error expected */
        const char *message;
    } cases[] = {
        { "{\"server\": {\"name\": \"vm1\"}}", 0, ERROR_INTERNAL, NULL },
        { "[1, 2]", 0, ERROR_INTERNAL, NULL },
        { "{", 0, ERROR_INVALID, "Malformed request body" },
        { "{} {}", 0, ERROR_INVALID, "Malformed request body" },
        { "nope", 0, ERROR_INVALID, "Malformed request body" },
        { "{\"a\": 1}", 4, ERROR_TOO_LARGE, NULL },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        CLEANUP(http_request_freep) struct http_request *req = NULL;
        CLEANUP(error_freep) struct error *error = NULL;
        size_t size = 0;

        assert_null(http_request_new(HTTP_POST, "/x", &req));
        error = http_request_set_body(req, cases[i].text,
                                      strlen(cases[i].text),
                                      cases[i].max_size);
        assert_string_equal(http_request_body_text(req, &size),
                            cases[i].text);
        assert_int_equal(size, strlen(cases[i].text));
        if (cases[i].kind == ERROR_INTERNAL) {
            assert_null(error);
            assert_non_null(http_request_body(req));
        } else {
            assert_non_null(error);
            assert_int_equal(error_kind(error), cases[i].kind);
            if (cases[i].message) {
                assert_non_null(strstr(error_message(error),
                                       cases[i].message));
            }
            assert_null(http_request_body(req));
        }
    }
}

static void
test_request_empty_body_is_no_body(void **state)
{
    CLEANUP(http_request_freep) struct http_request *req = NULL;
    size_t size = 1;

    (void) state;
    assert_null(http_request_new(HTTP_POST, "/x", &req));
    assert_null(http_request_set_body(req, "", 0, 0));
    assert_null(http_request_body(req));
    assert_null(http_request_body_text(req, &size));
    assert_int_equal(size, 0);
}

static void
test_request_context(void **state)
{
    CLEANUP(http_request_freep) struct http_request *req = NULL;
    struct http_auth auth;
    struct api_version v;

    (void) state;
    assert_null(http_request_new(HTTP_GET, "/", &req));
    assert_null(http_request_id(req));
    assert_null(http_request_auth(req));
    v = http_request_version(req);
    assert_int_equal(v.major, 2);
    assert_int_equal(v.minor, 1);

    http_request_set_id(req, "req-1");
    assert_string_equal(http_request_id(req), "req-1");
    assert_string_equal(http_request_log_ctx(req)->request_id, "req-1");

    http_auth_init(&auth);
    auth.user_id = xstrdup("u1");
    auth.project_id = xstrdup("p1");
    http_auth_add_role(&auth, "member");
    http_auth_add_role(&auth, "Admin");
    auth.is_admin = true;
    http_request_set_auth(req, &auth);
    http_auth_destroy(&auth);
    assert_null(auth.user_id);
    assert_int_equal(auth.n_roles, 0);

    assert_non_null(http_request_auth(req));
    assert_string_equal(http_request_auth(req)->project_id, "p1");
    assert_true(http_request_auth(req)->is_admin);
    assert_true(http_auth_has_role(http_request_auth(req), "admin"));
    assert_true(http_auth_has_role(http_request_auth(req), "MEMBER"));
    assert_false(http_auth_has_role(http_request_auth(req), "reader"));
    http_request_set_auth(req, NULL);
    assert_null(http_request_auth(req));

    http_request_set_base_url(req, "http://h:1");
    assert_string_equal(http_request_base_url(req), "http://h:1");
    http_request_set_peer(req, "127.0.0.1");
    assert_string_equal(http_request_peer(req), "127.0.0.1");
    http_auth_destroy(NULL);
}

static void
test_request_deferral_without_server(void **state)
{
    CLEANUP(http_request_freep) struct http_request *req = NULL;
    struct error *error = NULL;

    (void) state;
    assert_null(http_request_new(HTTP_POST, "/x", &req));
    assert_false(http_request_is_deferred(req));
    assert_false(http_request_take_completion(req, &error));
    http_request_defer(req);
    assert_true(http_request_is_deferred(req));
    assert_false(http_request_take_completion(req, &error));
    http_request_complete(req, error_new(ERROR_TIMEOUT, "late"));
    assert_true(http_request_take_completion(req, &error));
    assert_non_null(error);
    assert_int_equal(error_kind(error), ERROR_TIMEOUT);
    error_free(error);
    assert_false(http_request_take_completion(req, &error));
}

static void
test_method_names(void **state)
{
    static const struct {
        const char *name;
        int method;             /* -1: unknown */
    } cases[] = {
        { "GET", HTTP_GET }, { "HEAD", HTTP_HEAD }, { "POST", HTTP_POST },
        { "PUT", HTTP_PUT }, { "PATCH", HTTP_PATCH },
        { "DELETE", HTTP_DELETE }, { "OPTIONS", HTTP_OPTIONS },
        { "get", -1 }, { "", -1 }, { "PROPFIND", -1 },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        enum http_method m;
        int r = http_method_from_string(cases[i].name, &m);

        if (cases[i].method < 0) {
            assert_int_equal(r, -EINVAL);
        } else {
            assert_int_equal(r, 0);
            assert_int_equal(m, cases[i].method);
            assert_string_equal(http_method_to_string(m), cases[i].name);
        }
    }
    assert_string_equal(http_method_to_string(HTTP_N_METHODS), "?");
}

/* ---- Responses ------------------------------------------------------ */

static void
test_response_json_and_headers(void **state)
{
    CLEANUP(http_response_freep) struct http_response *resp =
        http_response_new();
    struct json_object *body = json_object_new_object();
    const char *type = NULL;
    const char *text;
    const char *name, *value;
    size_t size = 0;

    (void) state;
    assert_int_equal(http_response_status(resp), 200);
    assert_null(http_response_body(resp, &size, &type));
    assert_int_equal(size, 0);

    json_object_object_add(body, "a/b", json_object_new_string("x/y"));
    http_response_set_json(resp, 202, body);
    http_response_add_header(resp, "Location", "http://h/v2.1/servers/1");
    assert_int_equal(http_response_status(resp), 202);
    assert_ptr_equal(http_response_json(resp), body);
    text = http_response_body(resp, &size, &type);
    assert_string_equal(text, "{\"a/b\":\"x/y\"}");
    assert_int_equal(size, strlen(text));
    assert_string_equal(type, "application/json");
    assert_int_equal(http_response_n_headers(resp), 1);
    http_response_header_at(resp, 0, &name, &value);
    assert_string_equal(name, "Location");
    assert_string_equal(http_response_header(resp, "location"), value);
    assert_null(http_response_header(resp, "Allow"));

    http_response_set_status(resp, 204);
    assert_int_equal(http_response_status(resp), 204);
    assert_null(http_response_json(resp));
    assert_null(http_response_body(resp, &size, &type));

    http_response_set_body(resp, 200, "text/plain", "hi", 2);
    assert_string_equal(http_response_body(resp, &size, &type), "hi");
    assert_int_equal(size, 2);
    assert_string_equal(type, "text/plain");
    http_response_free(NULL);
}

static void
test_response_reasons(void **state)
{
    static const struct {
        int status;
        const char *reason;
    } cases[] = {
        { 200, "OK" }, { 300, "Multiple Choices" },
        { 400, "Bad Request" }, { 401, "Unauthorized" },
        { 404, "Not Found" }, { 405, "Method Not Allowed" },
        { 413, "Request Entity Too Large" },
        { 503, "Service Unavailable" }, { 299, "Unknown" },
        { -1, "Unknown" },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        assert_string_equal(http_response_reason(cases[i].status),
                            cases[i].reason);
    }
}

/* ---- Router --------------------------------------------------------- */

/* Handlers are told apart by the tag in 'aux'. */
static struct error *
test_handler(struct http_request *req, struct http_response *resp,
             void *aux)
{
    return NULL;
}

static const char *const TAG_ROOT = "root";
static const char *const TAG_V21 = "v2.1";
static const char *const TAG_V21_SLASH = "v2.1/";
static const char *const TAG_LIST = "list";
static const char *const TAG_CREATE = "create";
static const char *const TAG_DETAIL = "detail";
static const char *const TAG_SHOW = "show";
static const char *const TAG_UPDATE = "update";
static const char *const TAG_DELETE = "delete";
static const char *const TAG_ACTION = "action";
static const char *const TAG_META = "meta";
static const char *const TAG_HEAD = "head";
static const char *const TAG_TOKENS = "tokens";

static struct http_router *
test_router_new(void)
{
    struct http_router *r = http_router_new();

    /* Registered in an order that does not help precedence. */
    http_router_add(r, HTTP_GET, "/v2.1/servers/{server_id}", 0,
                    test_handler, (void *) TAG_SHOW);
    http_router_add(r, HTTP_GET, "/", HTTP_ROUTE_PUBLIC, test_handler,
                    (void *) TAG_ROOT);
    http_router_add(r, HTTP_GET, "/v2.1/", HTTP_ROUTE_PUBLIC,
                    test_handler, (void *) TAG_V21_SLASH);
    http_router_add(r, HTTP_GET, "/v2.1", HTTP_ROUTE_PUBLIC, test_handler,
                    (void *) TAG_V21);
    http_router_add(r, HTTP_GET, "/v2.1/servers", 0, test_handler,
                    (void *) TAG_LIST);
    http_router_add(r, HTTP_POST, "/v2.1/servers", 0, test_handler,
                    (void *) TAG_CREATE);
    http_router_add(r, HTTP_PUT, "/v2.1/servers/{server_id}", 0,
                    test_handler, (void *) TAG_UPDATE);
    http_router_add(r, HTTP_DELETE, "/v2.1/servers/{server_id}", 0,
                    test_handler, (void *) TAG_DELETE);
    http_router_add(r, HTTP_GET, "/v2.1/servers/detail", 0, test_handler,
                    (void *) TAG_DETAIL);
    http_router_add(r, HTTP_POST, "/v2.1/servers/{server_id}/action", 0,
                    test_handler, (void *) TAG_ACTION);
    http_router_add(r, HTTP_GET, "/v2.1/servers/{server_id}/metadata/{key}",
                    0, test_handler, (void *) TAG_META);
    http_router_add(r, HTTP_HEAD, "/v2.1/servers/{server_id}/metadata/{key}",
                    0, test_handler, (void *) TAG_HEAD);
    http_router_add(r, HTTP_POST, "/v3/auth/tokens",
                    HTTP_ROUTE_PUBLIC | HTTP_ROUTE_IDENTITY, test_handler,
                    (void *) TAG_TOKENS);
    http_router_allow_project_id(r, "/v2.1");
    return r;
}

struct test_route_case {
    enum http_method method;
    const char *target;
    enum http_route_result result;
    const char *tag;            /* FOUND: the handler's tag */
    const char *params[3][2];   /* name, value; NULL-terminated */
    const char *allow;          /* METHOD_NOT_ALLOWED: the Allow value */
};

static const struct test_route_case test_route_cases[] = {
    /* Plain matches and literal-over-parameter precedence. */
    { HTTP_GET, "/", HTTP_ROUTE_FOUND, "root", { { NULL } }, NULL },
    { HTTP_GET, "/v2.1", HTTP_ROUTE_FOUND, "v2.1", { { NULL } }, NULL },
    { HTTP_GET, "/v2.1/", HTTP_ROUTE_FOUND, "v2.1/", { { NULL } }, NULL },
    { HTTP_GET, "/v2.1/servers", HTTP_ROUTE_FOUND, "list", { { NULL } },
      NULL },
    { HTTP_POST, "/v2.1/servers", HTTP_ROUTE_FOUND, "create", { { NULL } },
      NULL },
    { HTTP_GET, "/v2.1/servers/detail", HTTP_ROUTE_FOUND, "detail",
      { { NULL } }, NULL },
    { HTTP_GET, "/v2.1/servers/abc", HTTP_ROUTE_FOUND, "show",
      { { "server_id", "abc" }, { NULL } }, NULL },
    { HTTP_PUT, "/v2.1/servers/abc", HTTP_ROUTE_FOUND, "update",
      { { "server_id", "abc" }, { NULL } }, NULL },
    /* The literal has no DELETE: the parameter route takes it. */
    { HTTP_DELETE, "/v2.1/servers/detail", HTTP_ROUTE_FOUND, "delete",
      { { "server_id", "detail" }, { NULL } }, NULL },
    { HTTP_POST, "/v2.1/servers/abc/action", HTTP_ROUTE_FOUND, "action",
      { { "server_id", "abc" }, { NULL } }, NULL },
    { HTTP_GET, "/v2.1/servers/s1/metadata/k1", HTTP_ROUTE_FOUND, "meta",
      { { "server_id", "s1" }, { "key", "k1" }, { NULL } }, NULL },
    { HTTP_POST, "/v3/auth/tokens", HTTP_ROUTE_FOUND, "tokens",
      { { NULL } }, NULL },

    /* HEAD uses GET, unless it has its own route. */
    { HTTP_HEAD, "/v2.1/servers/abc", HTTP_ROUTE_FOUND, "show",
      { { "server_id", "abc" }, { NULL } }, NULL },
    { HTTP_HEAD, "/v2.1/servers/s/metadata/k", HTTP_ROUTE_FOUND, "head",
      { { "server_id", "s" }, { "key", "k" }, { NULL } }, NULL },

    /* Trailing slashes. */
    { HTTP_GET, "/v2.1/servers/", HTTP_ROUTE_FOUND, "list", { { NULL } },
      NULL },
    { HTTP_GET, "/v2.1/servers/abc/", HTTP_ROUTE_FOUND, "show",
      { { "server_id", "abc" }, { NULL } }, NULL },
    { HTTP_GET, "/v2.1/servers//", HTTP_ROUTE_NOT_FOUND, NULL, { { NULL } },
      NULL },

    /* Percent-decoding happens per segment. */
    { HTTP_GET, "/v2.1/servers/a%2Fb", HTTP_ROUTE_FOUND, "show",
      { { "server_id", "a/b" }, { NULL } }, NULL },
    { HTTP_GET, "/v2.1/servers/a%20b", HTTP_ROUTE_FOUND, "show",
      { { "server_id", "a b" }, { NULL } }, NULL },
    { HTTP_GET, "/v2.1/servers/a+b", HTTP_ROUTE_FOUND, "show",
      { { "server_id", "a+b" }, { NULL } }, NULL },
    { HTTP_GET, "/v2.1/servers/%zz", HTTP_ROUTE_FOUND, "show",
      { { "server_id", "%zz" }, { NULL } }, NULL },
    { HTTP_GET, "/v2.1/%73ervers", HTTP_ROUTE_FOUND, "list", { { NULL } },
      NULL },
    { HTTP_GET, "/v2.1/servers/s/metadata/k%C3%A9y?x=1", HTTP_ROUTE_FOUND,
      "meta", { { "server_id", "s" }, { "key", "k\xc3\xa9y" }, { NULL } },
      NULL },

    /* Unknown paths. */
    { HTTP_GET, "/v2.1/flavors", HTTP_ROUTE_NOT_FOUND, NULL, { { NULL } },
      NULL },
    { HTTP_GET, "/v2.1//servers", HTTP_ROUTE_NOT_FOUND, NULL, { { NULL } },
      NULL },
    { HTTP_GET, "/v2.1/servers/a/action/x", HTTP_ROUTE_NOT_FOUND, NULL,
      { { NULL } }, NULL },
    { HTTP_GET, "/V2.1/servers", HTTP_ROUTE_NOT_FOUND, NULL, { { NULL } },
      NULL },
    { HTTP_GET, "/v3/auth", HTTP_ROUTE_NOT_FOUND, NULL, { { NULL } }, NULL },
    { HTTP_GET, "/servers", HTTP_ROUTE_NOT_FOUND, NULL, { { NULL } }, NULL },

    /* Known paths, wrong method. */
    { HTTP_GET, "/v2.1/servers/abc/action", HTTP_ROUTE_METHOD_NOT_ALLOWED,
      NULL, { { NULL } }, "POST" },
    { HTTP_PATCH, "/v2.1/servers/abc", HTTP_ROUTE_METHOD_NOT_ALLOWED, NULL,
      { { NULL } }, "GET, HEAD, PUT, DELETE" },
    { HTTP_OPTIONS, "/v2.1/servers", HTTP_ROUTE_METHOD_NOT_ALLOWED, NULL,
      { { NULL } }, "GET, HEAD, POST" },
    { HTTP_DELETE, "/", HTTP_ROUTE_METHOD_NOT_ALLOWED, NULL, { { NULL } },
      "GET, HEAD" },
    { HTTP_GET, "/v3/auth/tokens", HTTP_ROUTE_METHOD_NOT_ALLOWED, NULL,
      { { NULL } }, "POST" },
    { HTTP_N_METHODS, "/v2.1/servers", HTTP_ROUTE_METHOD_NOT_ALLOWED, NULL,
      { { NULL } }, "GET, HEAD, POST" },

    /* The project id form. */
    { HTTP_GET, "/v2.1/0123abcd/servers", HTTP_ROUTE_FOUND, "list",
      { { "project_id", "0123abcd" }, { NULL } }, NULL },
    { HTTP_GET, "/v2.1/6f70-56c1/servers/x", HTTP_ROUTE_FOUND, "show",
      { { "server_id", "x" }, { "project_id", "6f70-56c1" }, { NULL } },
      NULL },
    { HTTP_GET, "/v2.1/0123abcd", HTTP_ROUTE_FOUND, "v2.1/",
      { { "project_id", "0123abcd" }, { NULL } }, NULL },
    { HTTP_GET, "/v2.1/0123ABCD/servers", HTTP_ROUTE_NOT_FOUND, NULL,
      { { NULL } }, NULL },
    { HTTP_GET, "/v2.1/project1/servers", HTTP_ROUTE_NOT_FOUND, NULL,
      { { NULL } }, NULL },
    { HTTP_GET, "/v3/0123abcd/auth/tokens", HTTP_ROUTE_NOT_FOUND, NULL,
      { { NULL } }, NULL },
};

static void
test_router_table(void **state)
{
    CLEANUP(http_router_freep) struct http_router *router =
        test_router_new();

    (void) state;
    assert_int_equal(http_router_n_routes(router), 13);
    for (size_t i = 0; i < ARRAY_SIZE(test_route_cases); i++) {
        const struct test_route_case *c = &test_route_cases[i];
        CLEANUP(http_request_freep) struct http_request *req = NULL;
        const struct http_route *route = NULL;
        char allow[HTTP_ROUTER_MAX_ALLOW_SIZE] = "unset";
        enum http_route_result result;
        size_t n_params = 0;

        print_message("case %zu: %s %s\n", i,
                      http_method_to_string(c->method), c->target);
        assert_null(http_request_new(c->method, c->target, &req));
        result = http_router_route(router, req, &route, allow);
        assert_int_equal(result, c->result);
        if (c->result == HTTP_ROUTE_FOUND) {
            assert_non_null(route);
            assert_string_equal((const char *) route->aux, c->tag);
            assert_ptr_equal(route->handler, test_handler);
            for (; c->params[n_params][0]; n_params++) {
                assert_string_equal(
                    http_request_param(req, c->params[n_params][0]),
                    c->params[n_params][1]);
            }
            assert_string_equal(allow, "unset");
        } else if (c->result == HTTP_ROUTE_METHOD_NOT_ALLOWED) {
            assert_non_null(route);
            assert_string_equal(allow, c->allow);
        } else {
            assert_null(route);
        }
        if (n_params == 0) {
            assert_null(http_request_param(req, "server_id"));
            assert_null(http_request_param(req, "project_id"));
        }
    }
}

static void
test_router_flags_and_template(void **state)
{
    CLEANUP(http_router_freep) struct http_router *router =
        test_router_new();
    CLEANUP(http_request_freep) struct http_request *req = NULL;
    const struct http_route *route = NULL;

    (void) state;
    assert_null(http_request_new(HTTP_POST, "/v3/auth/tokens/", &req));
    assert_int_equal(http_router_route(router, req, &route, NULL),
                     HTTP_ROUTE_FOUND);
    assert_int_equal(route->flags, HTTP_ROUTE_PUBLIC | HTTP_ROUTE_IDENTITY);
    assert_string_equal(route->template, "/v3/auth/tokens");
    assert_int_equal(route->method, HTTP_POST);

    /* A second lookup replaces the parameters of the first. */
    http_request_free(TAKE_PTR(req));
    assert_null(http_request_new(HTTP_GET, "/v2.1/servers/a", &req));
    assert_int_equal(http_router_route(router, req, &route, NULL),
                     HTTP_ROUTE_FOUND);
    assert_int_equal(http_router_route(router, req, &route, NULL),
                     HTTP_ROUTE_FOUND);
    assert_string_equal(http_request_param(req, "server_id"), "a");
    assert_null(http_request_param(req, "key"));
}

static void
test_router_without_project_prefix(void **state)
{
    CLEANUP(http_router_freep) struct http_router *router =
        http_router_new();
    CLEANUP(http_request_freep) struct http_request *req = NULL;
    const struct http_route *route = NULL;

    (void) state;
    http_router_add(router, HTTP_GET, "/v2.1/servers", 0, test_handler,
                    (void *) TAG_LIST);
    assert_null(http_request_new(HTTP_GET, "/v2.1/0123abcd/servers", &req));
    assert_int_equal(http_router_route(router, req, &route, NULL),
                     HTTP_ROUTE_NOT_FOUND);
}

/* Runs http_router_add() with 'template' in a child process and returns
 * true if the child aborted. */
static bool
test_router_add_aborts(enum http_method method, const char *template,
                       bool twice)
{
    pid_t pid;
    int status;

    fflush(NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct http_router *router = http_router_new();

        /* Keep the expected abort quiet. */
        log_set_levels("err,api.router:err");
        if (!freopen("/dev/null", "w", stderr)) {
            _exit(3);
        }
        http_router_add(router, method, template, 0, test_handler, NULL);
        if (twice) {
            http_router_add(router, method, template, 0, test_handler,
                            NULL);
        }
        http_router_free(router);
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

static void
test_router_rejects_bad_templates(void **state)
{
    static const struct {
        const char *template;
        bool twice;
        bool aborts;
    } cases[] = {
        { "/v2.1/servers/{server_id}", false, false },
        { "/v2.1/servers/{server_id}", true, true },
        { "v2.1/servers", false, true },
        { "/v2.1//servers", false, true },
        { "/v2.1/servers/{}", false, true },
        { "/v2.1/servers/{id", false, true },
        { "/v2.1/servers/id}", false, true },
        { "/v2.1/{a}/{a}", false, true },
        { "/v2.1/x{a}", false, true },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        print_message("template %s\n", cases[i].template);
        assert_int_equal(test_router_add_aborts(HTTP_GET, cases[i].template,
                                                cases[i].twice),
                         cases[i].aborts);
    }
}

static void
test_router_same_shape_other_name_is_duplicate(void **state)
{
    pid_t pid;
    int status;

    (void) state;
    fflush(NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct http_router *router = http_router_new();

        if (!freopen("/dev/null", "w", stderr)) {
            _exit(3);
        }
        http_router_add(router, HTTP_GET, "/s/{a}", 0, test_handler, NULL);
        http_router_add(router, HTTP_GET, "/s/{b}", 0, test_handler, NULL);
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_path_segments),
        cmocka_unit_test(test_request_bad_targets),
        cmocka_unit_test(test_request_limits_are_inclusive),
        cmocka_unit_test(test_request_query),
        cmocka_unit_test(test_request_query_at_lists_pairs_in_order),
        cmocka_unit_test(test_request_headers_ignore_case),
        cmocka_unit_test(test_request_body),
        cmocka_unit_test(test_request_empty_body_is_no_body),
        cmocka_unit_test(test_request_context),
        cmocka_unit_test(test_request_deferral_without_server),
        cmocka_unit_test(test_method_names),
        cmocka_unit_test(test_response_json_and_headers),
        cmocka_unit_test(test_response_reasons),
        cmocka_unit_test(test_router_table),
        cmocka_unit_test(test_router_flags_and_template),
        cmocka_unit_test(test_router_without_project_prefix),
        cmocka_unit_test(test_router_rejects_bad_templates),
        cmocka_unit_test(test_router_same_shape_other_name_is_duplicate),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
