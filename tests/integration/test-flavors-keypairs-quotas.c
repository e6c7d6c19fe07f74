/* test-flavors-keypairs-quotas.c: flavors, keypairs, quota sets, limits
 * and availability zones of the compute API against a real MariaDB,
 * through nova-api's HTTP server.
 *
 * The group setup creates a fresh API database, migrates it, and starts
 * the HTTP server (port 0) with the routes of these modules.  Tokens are
 * read by a test validator: "ROLE:PROJECT:USER" stands for a user with
 * that role on that project (identity is tested elsewhere).  Then:
 *
 *   - flavor CRUD as admin (Nova's 2.1 shapes, duplicate name and id,
 *     generated ids), 403 for a member, 404 after delete;
 *   - list queries: minRam, minDisk, limit and marker with the next link,
 *     sort_key and sort_dir, and their 400s;
 *   - private flavors: invisible to other projects until access is given,
 *     the access list and actions, admin's is_public filter, and
 *     flavor_db_get_for_boot();
 *   - extra specs: create, show, update, delete, their errors and policy;
 *   - keypairs: import (fingerprint), generate (private key once), list,
 *     show, delete, duplicates, bad keys and names, per-user scope, the
 *     key_pairs quota, keypair_db_get_public_key();
 *   - quota sets: defaults, show, detail with usage, update (validation,
 *     usage floor, force), delete, policy;
 *   - quota_check_boot() messages against usage in the top view;
 *   - limits (own project, another one as admin) and availability zones.
 *
 * The database is dropped at the end. */
#include <config.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "api-cell/api-db.h"
#include "api-cell/availability-zones-api.h"
#include "api-cell/compute-api.h"
#include "api-cell/flavor-db.h"
#include "api-cell/flavors-api.h"
#include "api-cell/http-router.h"
#include "api-cell/http-server.h"
#include "api-cell/keypair-db.h"
#include "api-cell/keypairs-api.h"
#include "api-cell/limits-api.h"
#include "api-cell/quota.h"
#include "api-cell/quotas-api.h"
#include "shared/cleanup.h"
#include "shared/db-migrate.h"
#include "shared/db.h"
#include "shared/error.h"
#include "shared/flavor.h"
#include "shared/json-util.h"
#include "shared/xalloc.h"
#include "tests/integration/test-env.h"

#define TEST_DATABASE "test_flavors_keypairs_quotas"
#define TEST_MAX_RESPONSE_SIZE (1024 * 1024)

#define ADMIN "admin:adad0001:u-admin"
#define MEMBER "member:p-one:u-one"
#define MEMBER2 "member:p-one:u-two"
#define OTHER "member:p-two:u-three"

#define KEY_RSA "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQCW16PBN9neUEK54Hyq" \
    "RKEdmwTDnJlUfcMHAwyvWESPE+KTditKrtMlHWu+FJaTDBL17QrltsJlxij2Z1e8vqIu" \
    "mWRJfdeQp3sNc8OUe95FzFXTy6e4Y3x614liogBDR9+wVNhoftBrttGS1aVTaNzdKhfH" \
    "CSGAM7NWkWbMsvj2NQ== test@h3"
#define FP_RSA "0e:f9:4a:c5:ff:a0:76:89:c1:69:35:82:30:91:73:61"

static struct {
    char *url;
    struct api_db *api_db;
    struct compute_api_config config;
    struct compute_api compute;
    struct http_router *router;
    struct http_server *server;
    int port;
} t;

/* ---- Helpers --------------------------------------------------------- */

static void
check(struct error *error, const char *what)
{
    if (error) {
        fail_msg("%s: %s", what, error_message(error));
    }
}

static struct db *
admin_open(void)
{
    struct db *db = NULL;

    check(db_open(test_env_get("NOVA_TEST_MYSQL_ADMIN_URL"), &db),
          "admin connection");
    return db;
}

/* The test thread's connection to the API database. */
static struct db *
api_db(void)
{
    struct db *db = NULL;

    check(api_db_get(t.api_db, &db), "api db");
    return db;
}

static void
sql(const char *statement)
{
    check(db_exec(api_db(), statement, DB_NO_PARAMS, NULL), statement);
}

/* "ROLE:PROJECT:USER" tokens. */
static struct error *
test_validator(void *aux, const struct http_request *req, const char *token,
               struct http_auth *ret_auth)
{
    AUTOFREE char *copy = xstrdup(token);
    char *role = copy, *project, *user;

    (void) aux;
    (void) req;
    project = strchr(role, ':');
    user = project ? strchr(project + 1, ':') : NULL;
    if (!user) {
        return error_new(ERROR_UNAUTHORIZED, "bad test token");
    }
    *project++ = '\0';
    *user++ = '\0';
    http_auth_init(ret_auth);
    ret_auth->user_id = xstrdup(user);
    ret_auth->project_id = xstrdup(project);
    http_auth_add_role(ret_auth, role);
    ret_auth->is_admin = !strcmp(role, "admin");
    return NULL;
}

struct http_result {
    int status;
    char *body;
    struct json_object *json;
};

static void
http_result_destroy(struct http_result *r)
{
    free(r->body);
    json_object_put(r->json);
    memset(r, 0, sizeof *r);
}

/* Sends one request with token 'token' (NULL: none). */
static void
http_call(const char *method, const char *path, const char *token,
          const char *body, struct http_result *ret)
{
    struct sockaddr_in addr = { .sin_family = AF_INET };
    AUTOFREE char *auth = token ? xasprintf("X-Auth-Token: %s\r\n", token)
                                : xstrdup("");
    AUTOFREE char *request = NULL;
    AUTOFREE char *response = xmalloc(TEST_MAX_RESPONSE_SIZE + 1);
    size_t size = 0;
    ssize_t n;
    int fd;

    request = xasprintf("%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                        "Connection: close\r\n%s%sContent-Length: %zu\r\n"
                        "\r\n%s", method, path, t.port, auth,
                        body ? "Content-Type: application/json\r\n" : "",
                        body ? strlen(body) : (size_t) 0, body ? body : "");
    addr.sin_port = htons((uint16_t) t.port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *) &addr, sizeof addr), 0);
    assert_int_equal(write(fd, request, strlen(request)),
                     (ssize_t) strlen(request));
    while (size < TEST_MAX_RESPONSE_SIZE
           && (n = read(fd, response + size,
                        TEST_MAX_RESPONSE_SIZE - size)) > 0) {
        size += (size_t) n;
    }
    close(fd);
    response[size] = '\0';

    char *split = strstr(response, "\r\n\r\n");
    assert_non_null(split);
    memset(ret, 0, sizeof *ret);
    assert_int_equal(sscanf(response, "HTTP/1.1 %d", &ret->status), 1);
    ret->body = xstrdup(split + 4);
    if (*ret->body) {
        error_free(json_parse_text(ret->body, strlen(ret->body), 0, 0,
                                   &ret->json));
    }
}

/* Makes a call, expects 'status', and returns the JSON body (a new
 * reference; NULL when there is none). */
static struct json_object *
call_expect(const char *method, const char *path, const char *token,
            const char *body, int status)
{
    struct http_result r;
    struct json_object *json;

    http_call(method, path, token, body, &r);
    if (r.status != status) {
        fail_msg("%s %s: status %d, expected %d: %s", method, path, r.status,
                 status, r.body);
    }
    json = r.json ? json_object_get(r.json) : NULL;
    http_result_destroy(&r);
    return json;
}

/* Expects a fault 'fault' with 'status' whose message is 'message'. */
static void
expect_fault(const char *method, const char *path, const char *token,
             const char *body, int status, const char *fault,
             const char *message)
{
    CLEANUP(json_putp) struct json_object *json = call_expect(
        method, path, token, body, status);
    struct json_object *f = NULL, *m = NULL;

    assert_non_null(json);
    if (!json_object_object_get_ex(json, fault, &f)
        || !json_object_object_get_ex(f, "message", &m)) {
        fail_msg("%s %s: no %s fault in %s", method, path, fault,
                 json_object_to_json_string(json));
    }
    if (message && strcmp(json_object_get_string(m), message)) {
        fail_msg("%s %s: message '%s', expected '%s'", method, path,
                 json_object_get_string(m), message);
    }
}

/* A value at a path of object keys and array indexes ("flavors", "#0",
 * "name", NULL). */
static struct json_object *
at(struct json_object *obj, ...)
{
    va_list args;
    const char *key;

    va_start(args, obj);
    while (obj && (key = va_arg(args, const char *))) {
        if (key[0] == '#') {
            size_t i = (size_t) strtoul(key + 1, NULL, 10);

            obj = json_object_is_type(obj, json_type_array)
                  && i < json_object_array_length(obj)
                  ? json_object_array_get_idx(obj, i) : NULL;
        } else if (!json_object_is_type(obj, json_type_object)
                   || !json_object_object_get_ex(obj, key, &obj)) {
            obj = NULL;
        }
    }
    va_end(args);
    return obj;
}

static const char *
str_at(struct json_object *obj, const char *a, const char *b,
       const char *c)
{
    struct json_object *v = at(obj, a, b, c, NULL);

    if (!v || !json_object_is_type(v, json_type_string)) {
        fail_msg("no string at %s.%s.%s in %s", a, b ? b : "",
                 c ? c : "", json_object_to_json_string(obj));
    }
    return json_object_get_string(v);
}

static int64_t
int_at(struct json_object *obj, const char *a, const char *b, const char *c)
{
    struct json_object *v = at(obj, a, b, c, NULL);

    if (!v || !json_object_is_type(v, json_type_int)) {
        fail_msg("no integer at %s.%s.%s in %s", a, b ? b : "",
                 c ? c : "", json_object_to_json_string(obj));
    }
    return json_object_get_int64(v);
}

/* True if list 'list' of objects has one whose "id" (or 'key') is
 * 'value'. */
static bool
list_has(struct json_object *list, const char *key, const char *value)
{
    for (size_t i = 0; list && i < json_object_array_length(list); i++) {
        struct json_object *v = at(json_object_array_get_idx(list, i), key,
                                   NULL);

        if (v && !strcmp(json_object_get_string(v), value)) {
            return true;
        }
    }
    return false;
}

static void
create_flavor(const char *body)
{
    json_object_put(call_expect("POST", "/v2.1/flavors", ADMIN, body, 200));
}

/* Adds a live instance of 'project' to the top view. */
static void
add_instance(const char *uuid, const char *project, int vcpus, int ram)
{
    check(db_exec(api_db(), "INSERT INTO instances (uuid, project_id, "
                  "user_id, vm_state, flavorid, vcpus, memory_mb, instance, "
                  "created_at) VALUES (?, ?, 'u', 'active', '1', ?, ?, '{}',"
                  " UTC_TIMESTAMP(6))",
                  DB_PARAMS(DB_STR(uuid), DB_STR(project), DB_INT(vcpus),
                            DB_INT(ram)), NULL), "add instance");
}

/* ---- Setup ----------------------------------------------------------- */

static int
group_setup(void **state)
{
    CLEANUP(db_closep) struct db *admin = admin_open();
    struct http_server_config cfg;

    (void) state;
    check(db_exec_once(admin, "DROP DATABASE IF EXISTS " TEST_DATABASE,
                       DB_NO_PARAMS, NULL), "drop");
    check(db_exec_once(admin, "CREATE DATABASE " TEST_DATABASE
                       " CHARACTER SET utf8mb4", DB_NO_PARAMS, NULL),
          "create");
    t.url = xasprintf("%s%s", test_env_get("NOVA_TEST_MYSQL_ADMIN_URL"),
                      TEST_DATABASE);
    check(api_db_new(t.url, &t.api_db), "api_db_new");
    check(db_migrate(api_db(), DB_SCHEMA_API, NULL, NULL), "migrate");

    compute_api_config_init(&t.config);
    t.compute.config = &t.config;
    t.compute.db = t.api_db;
    t.compute.cells = NULL;

    t.router = http_router_new();
    http_router_allow_project_id(t.router, "/v2.1");
    flavors_api_register(t.router, &t.compute);
    keypairs_api_register(t.router, &t.compute);
    quotas_api_register(t.router, &t.compute);
    limits_api_register(t.router, &t.compute);
    availability_zones_api_register(t.router, &t.compute);
    http_server_config_init(&cfg);
    cfg.port = 0;
    cfg.n_threads = 2;
    check(http_server_new(&cfg, t.router, &t.server), "server");
    http_server_set_auth_validator(t.server, test_validator, NULL);
    check(http_server_start(t.server), "start");
    t.port = http_server_port(t.server);
    return 0;
}

static int
group_teardown(void **state)
{
    CLEANUP(db_closep) struct db *admin = admin_open();

    (void) state;
    http_server_free(t.server);
    http_router_free(t.router);
    api_db_free(t.api_db);
    check(db_exec_once(admin, "DROP DATABASE IF EXISTS " TEST_DATABASE,
                       DB_NO_PARAMS, NULL), "drop");
    free(t.url);
    return 0;
}

/* ---- Flavors --------------------------------------------------------- */

static void
test_flavor_crud(void **state)
{
    struct json_object *body, *f, *links;
    AUTOFREE char *self = xasprintf("http://127.0.0.1:%d/v2.1/flavors/100",
                                    t.port);
    AUTOFREE char *bookmark = xasprintf("http://127.0.0.1:%d/flavors/100",
                                        t.port);

    (void) state;
    body = call_expect("POST", "/v2.1/flavors", ADMIN,
                       "{\"flavor\": {\"name\": \"m1.test\", \"id\": \"100\","
                       " \"ram\": 512, \"vcpus\": 1, \"disk\": 1}}", 200);
    f = at(body, "flavor", NULL);
    assert_string_equal(str_at(f, "id", NULL, NULL), "100");
    assert_string_equal(str_at(f, "name", NULL, NULL), "m1.test");
    assert_int_equal(int_at(f, "ram", NULL, NULL), 512);
    assert_int_equal(int_at(f, "vcpus", NULL, NULL), 1);
    assert_int_equal(int_at(f, "disk", NULL, NULL), 1);
    assert_string_equal(str_at(f, "swap", NULL, NULL), "");
    assert_int_equal(int_at(f, "OS-FLV-EXT-DATA:ephemeral", NULL, NULL), 0);
    assert_true(json_object_get_boolean(at(f, "OS-FLV-DISABLED:disabled",
                                           NULL)) == 0);
    assert_true(json_object_get_boolean(at(f, "os-flavor-access:is_public",
                                           NULL)));
    assert_true(json_object_is_type(at(f, "rxtx_factor", NULL),
                                    json_type_double));
    assert_true(json_object_get_double(at(f, "rxtx_factor", NULL)) == 1.0);
    links = at(f, "links", NULL);
    assert_string_equal(str_at(links, "#0", "href", NULL), self);
    assert_string_equal(str_at(links, "#0", "rel", NULL), "self");
    assert_string_equal(str_at(links, "#1", "href", NULL), bookmark);
    assert_string_equal(str_at(links, "#1", "rel", NULL), "bookmark");
    json_object_put(body);

    expect_fault("POST", "/v2.1/flavors", ADMIN,
                 "{\"flavor\": {\"name\": \"m1.test\", \"ram\": 512, "
                 "\"vcpus\": 1, \"disk\": 1}}", 409, "conflictingRequest",
                 "Flavor with name m1.test already exists.");
    expect_fault("POST", "/v2.1/flavors", ADMIN,
                 "{\"flavor\": {\"name\": \"other\", \"id\": \"100\", "
                 "\"ram\": 512, \"vcpus\": 1, \"disk\": 1}}", 409,
                 "conflictingRequest", "Flavor with ID 100 already exists.");
    expect_fault("POST", "/v2.1/flavors", ADMIN,
                 "{\"flavor\": {\"name\": \"x\", \"ram\": 0, \"vcpus\": 1, "
                 "\"disk\": 1}}", 400, "badRequest", NULL);
    expect_fault("POST", "/v2.1/flavors", MEMBER,
                 "{\"flavor\": {\"name\": \"m\", \"ram\": 512, "
                 "\"vcpus\": 1, \"disk\": 1}}", 403, "forbidden",
                 "Policy doesn't allow os_compute_api:os-flavor-manage:"
                 "create to be performed.");

    /* A generated id, swap and ephemeral shown as numbers. */
    body = call_expect("POST", "/v2.1/flavors", ADMIN,
                       "{\"flavor\": {\"name\": \"m1.auto\", \"ram\": 1024, "
                       "\"vcpus\": 2, \"disk\": 10, \"swap\": 256, "
                       "\"OS-FLV-EXT-DATA:ephemeral\": 5, "
                       "\"rxtx_factor\": 2.0}}", 200);
    assert_int_equal(strlen(str_at(body, "flavor", "id", NULL)), 36);
    assert_int_equal(int_at(body, "flavor", "swap", NULL), 256);
    assert_int_equal(int_at(body, "flavor", "OS-FLV-EXT-DATA:ephemeral",
                            NULL), 5);
    AUTOFREE char *auto_path = xasprintf("/v2.1/flavors/%s",
                                         str_at(body, "flavor", "id",
                                                NULL));
    json_object_put(body);

    /* Members see public flavors. */
    body = call_expect("GET", "/v2.1/flavors/100", MEMBER, NULL, 200);
    assert_string_equal(str_at(body, "flavor", "name", NULL), "m1.test");
    json_object_put(body);
    body = call_expect("GET", "/v2.1/flavors", MEMBER, NULL, 200);
    assert_true(list_has(at(body, "flavors", NULL), "id", "100"));
    assert_null(at(body, "flavors", "#0", "ram", NULL));
    assert_non_null(at(body, "flavors", "#0", "links", NULL));
    json_object_put(body);
    body = call_expect("GET", "/v2.1/flavors/detail", MEMBER, NULL, 200);
    assert_true(list_has(at(body, "flavors", NULL), "name", "m1.auto"));
    assert_non_null(at(body, "flavors", "#0", "ram", NULL));
    json_object_put(body);
    /* The project id form of the URL, kept in the links. */
    body = call_expect("GET", "/v2.1/adad0001/flavors/100", ADMIN, NULL,
                       200);
    assert_non_null(strstr(json_object_get_string(
                               at(body, "flavor", "links", "#0", "href",
                                  NULL)), "/v2.1/adad0001/flavors/100"));
    json_object_put(body);

    /* Delete. */
    expect_fault("DELETE", "/v2.1/flavors/100", MEMBER, NULL, 403,
                 "forbidden", NULL);
    json_object_put(call_expect("DELETE", "/v2.1/flavors/100", ADMIN, NULL,
                                202));
    json_object_put(call_expect("DELETE", auto_path, ADMIN, NULL, 202));
    expect_fault("GET", "/v2.1/flavors/100", MEMBER, NULL, 404,
                 "itemNotFound", "Flavor 100 could not be found.");
    expect_fault("DELETE", "/v2.1/flavors/100", ADMIN, NULL, 404,
                 "itemNotFound", "Flavor 100 could not be found.");
}

static void
test_flavor_queries(void **state)
{
    struct json_object *body;
    AUTOFREE char *next = NULL;

    (void) state;
    create_flavor("{\"flavor\": {\"name\": \"q.small\", \"id\": \"q1\", "
                  "\"ram\": 256, \"vcpus\": 1, \"disk\": 1}}");
    create_flavor("{\"flavor\": {\"name\": \"q.medium\", \"id\": \"q2\", "
                  "\"ram\": 2048, \"vcpus\": 2, \"disk\": 20}}");
    create_flavor("{\"flavor\": {\"name\": \"q.large\", \"id\": \"q3\", "
                  "\"ram\": 8192, \"vcpus\": 4, \"disk\": 80}}");

    body = call_expect("GET", "/v2.1/flavors/detail?minRam=1000", MEMBER,
                       NULL, 200);
    assert_int_equal(json_object_array_length(at(body, "flavors", NULL)), 2);
    assert_false(list_has(at(body, "flavors", NULL), "id", "q1"));
    json_object_put(body);
    body = call_expect("GET", "/v2.1/flavors?minDisk=50", MEMBER, NULL, 200);
    assert_int_equal(json_object_array_length(at(body, "flavors", NULL)), 1);
    assert_string_equal(str_at(body, "flavors", "#0", "id"), "q3");
    json_object_put(body);

    /* Default order: flavorid ascending; pages with a next link. */
    body = call_expect("GET", "/v2.1/flavors?limit=2", MEMBER, NULL, 200);
    assert_string_equal(str_at(body, "flavors", "#0", "id"), "q1");
    assert_string_equal(str_at(body, "flavors", "#1", "id"), "q2");
    next = xstrdup(str_at(body, "flavors_links", "#0", "href"));
    assert_non_null(strstr(next, "marker=q2"));
    json_object_put(body);
    body = call_expect("GET", "/v2.1/flavors?limit=2&marker=q2", MEMBER,
                       NULL, 200);
    assert_int_equal(json_object_array_length(at(body, "flavors", NULL)), 1);
    assert_string_equal(str_at(body, "flavors", "#0", "id"), "q3");
    assert_null(at(body, "flavors_links", NULL));
    json_object_put(body);

    body = call_expect("GET", "/v2.1/flavors?sort_key=memory_mb&"
                       "sort_dir=desc", MEMBER, NULL, 200);
    assert_string_equal(str_at(body, "flavors", "#0", "id"), "q3");
    assert_string_equal(str_at(body, "flavors", "#2", "id"), "q1");
    json_object_put(body);

    expect_fault("GET", "/v2.1/flavors?marker=nope", MEMBER, NULL, 400,
                 "badRequest", "marker [nope] not found");
    expect_fault("GET", "/v2.1/flavors?minRam=abc", MEMBER, NULL, 400,
                 "badRequest", "Invalid minRam filter [abc]");
    expect_fault("GET", "/v2.1/flavors?minDisk=1.5", MEMBER, NULL, 400,
                 "badRequest", "Invalid minDisk filter [1.5]");
    expect_fault("GET", "/v2.1/flavors?limit=x", MEMBER, NULL, 400,
                 "badRequest", "limit param must be an integer");
    expect_fault("GET", "/v2.1/flavors?limit=-1", MEMBER, NULL, 400,
                 "badRequest", "limit param must be positive");
    expect_fault("GET", "/v2.1/flavors?sort_key=bogus", MEMBER, NULL, 400,
                 "badRequest", NULL);
    expect_fault("GET", "/v2.1/flavors?sort_dir=up", MEMBER, NULL, 400,
                 "badRequest", NULL);
}

static void
test_private_flavors(void **state)
{
    struct json_object *body;
    struct flavor *flavor = NULL;
    struct error *error;

    (void) state;
    create_flavor("{\"flavor\": {\"name\": \"private.one\", \"id\": \"p1\", "
                  "\"ram\": 512, \"vcpus\": 1, \"disk\": 1, "
                  "\"os-flavor-access:is_public\": false}}");

    /* Invisible to other projects. */
    body = call_expect("GET", "/v2.1/flavors", MEMBER, NULL, 200);
    assert_false(list_has(at(body, "flavors", NULL), "id", "p1"));
    json_object_put(body);
    expect_fault("GET", "/v2.1/flavors/p1", MEMBER, NULL, 404,
                 "itemNotFound", "Flavor p1 could not be found.");
    error = flavor_db_get_for_boot(api_db(), "p1", "p-one", false, &flavor);
    assert_non_null(error);
    assert_int_equal(error_kind(error), ERROR_NOT_FOUND);
    assert_string_equal(error_message(error),
                        "Flavor p1 could not be found.");
    error_free(error);
    check(flavor_db_get_for_boot(api_db(), "p1", "p-admin", true, &flavor),
          "admin boot flavor");
    assert_int_equal(flavor->memory_mb, 512);
    flavor_free(flavor);

    /* Admin's list: public by default, private with is_public=false, all
     * with is_public=none. */
    body = call_expect("GET", "/v2.1/flavors", ADMIN, NULL, 200);
    assert_false(list_has(at(body, "flavors", NULL), "id", "p1"));
    json_object_put(body);
    body = call_expect("GET", "/v2.1/flavors?is_public=false", ADMIN, NULL,
                       200);
    assert_true(list_has(at(body, "flavors", NULL), "id", "p1"));
    assert_false(list_has(at(body, "flavors", NULL), "id", "q1"));
    json_object_put(body);
    body = call_expect("GET", "/v2.1/flavors?is_public=None", ADMIN, NULL,
                       200);
    assert_true(list_has(at(body, "flavors", NULL), "id", "p1"));
    assert_true(list_has(at(body, "flavors", NULL), "id", "q1"));
    json_object_put(body);
    expect_fault("GET", "/v2.1/flavors?is_public=maybe", ADMIN, NULL, 400,
                 "badRequest", "Invalid is_public filter [maybe]");
    /* A member's is_public is ignored. */
    body = call_expect("GET", "/v2.1/flavors?is_public=none", MEMBER, NULL,
                       200);
    assert_false(list_has(at(body, "flavors", NULL), "id", "p1"));
    json_object_put(body);

    /* Access. */
    expect_fault("POST", "/v2.1/flavors/p1/action", MEMBER,
                 "{\"addTenantAccess\": {\"tenant\": \"p-one\"}}", 403,
                 "forbidden", NULL);
    body = call_expect("POST", "/v2.1/flavors/p1/action", ADMIN,
                       "{\"addTenantAccess\": {\"tenant\": \"p-one\"}}",
                       200);
    assert_string_equal(str_at(body, "flavor_access", "#0", "flavor_id"),
                        "p1");
    assert_string_equal(str_at(body, "flavor_access", "#0", "tenant_id"),
                        "p-one");
    json_object_put(body);
    expect_fault("POST", "/v2.1/flavors/p1/action", ADMIN,
                 "{\"addTenantAccess\": {\"tenant\": \"p-one\"}}", 409,
                 "conflictingRequest", "Flavor access already exists for "
                 "flavor p1 and project p-one combination.");
    body = call_expect("GET", "/v2.1/flavors/p1/os-flavor-access", ADMIN,
                       NULL, 200);
    assert_int_equal(json_object_array_length(at(body, "flavor_access",
                                                 NULL)), 1);
    json_object_put(body);
    expect_fault("GET", "/v2.1/flavors/p1/os-flavor-access", MEMBER, NULL,
                 403, "forbidden", NULL);
    expect_fault("GET", "/v2.1/flavors/q1/os-flavor-access", ADMIN, NULL,
                 404, "itemNotFound",
                 "Access list not available for public flavors.");

    /* Now visible to p-one, not to p-two. */
    body = call_expect("GET", "/v2.1/flavors", MEMBER, NULL, 200);
    assert_true(list_has(at(body, "flavors", NULL), "id", "p1"));
    json_object_put(body);
    json_object_put(call_expect("GET", "/v2.1/flavors/p1", MEMBER, NULL,
                                200));
    expect_fault("GET", "/v2.1/flavors/p1", OTHER, NULL, 404,
                 "itemNotFound", NULL);
    check(flavor_db_get_for_boot(api_db(), "p1", "p-one", false, &flavor),
          "member boot flavor");
    flavor_free(flavor);

    body = call_expect("POST", "/v2.1/flavors/p1/action", ADMIN,
                       "{\"removeTenantAccess\": {\"tenant\": \"p-one\"}}",
                       200);
    assert_int_equal(json_object_array_length(at(body, "flavor_access",
                                                 NULL)), 0);
    json_object_put(body);
    expect_fault("POST", "/v2.1/flavors/p1/action", ADMIN,
                 "{\"removeTenantAccess\": {\"tenant\": \"p-one\"}}", 404,
                 "itemNotFound", "Flavor access not found for p1 / p-one "
                 "combination.");
    expect_fault("POST", "/v2.1/flavors/p1/action", ADMIN,
                 "{\"addTenantAccess\": {}}", 400, "badRequest", NULL);
    expect_fault("POST", "/v2.1/flavors/p1/action", ADMIN,
                 "{\"frobnicate\": {}}", 400, "badRequest", NULL);
    expect_fault("GET", "/v2.1/flavors/p1", MEMBER, NULL, 404,
                 "itemNotFound", NULL);
}

static void
test_extra_specs(void **state)
{
    struct json_object *body;
    struct flavor *flavor = NULL;

    (void) state;
    body = call_expect("POST", "/v2.1/flavors/q1/os-extra_specs", ADMIN,
                       "{\"extra_specs\": {\"hw:cpu_policy\": \"dedicated\","
                       " \"quota:n\": 2, \"flag\": true}}", 200);
    assert_string_equal(str_at(body, "extra_specs", "hw:cpu_policy", NULL),
                        "dedicated");
    assert_string_equal(str_at(body, "extra_specs", "quota:n", NULL), "2");
    json_object_put(body);

    body = call_expect("GET", "/v2.1/flavors/q1/os-extra_specs", MEMBER,
                       NULL, 200);
    assert_string_equal(str_at(body, "extra_specs", "flag", NULL), "True");
    assert_int_equal(json_object_object_length(at(body, "extra_specs",
                                                  NULL)), 3);
    json_object_put(body);
    body = call_expect("GET", "/v2.1/flavors/q1/os-extra_specs/"
                       "hw:cpu_policy", MEMBER, NULL, 200);
    assert_string_equal(str_at(body, "hw:cpu_policy", NULL, NULL),
                        "dedicated");
    json_object_put(body);

    body = call_expect("PUT", "/v2.1/flavors/q1/os-extra_specs/"
                       "hw:cpu_policy", ADMIN,
                       "{\"hw:cpu_policy\": \"shared\"}", 200);
    assert_string_equal(str_at(body, "hw:cpu_policy", NULL, NULL), "shared");
    json_object_put(body);
    expect_fault("PUT", "/v2.1/flavors/q1/os-extra_specs/hw:cpu_policy",
                 ADMIN, "{\"other\": \"x\"}", 400, "badRequest",
                 "Request body and URI mismatch");
    expect_fault("PUT", "/v2.1/flavors/q1/os-extra_specs/a", ADMIN,
                 "{\"a\": \"x\", \"b\": \"y\"}", 400, "badRequest", NULL);
    expect_fault("POST", "/v2.1/flavors/q1/os-extra_specs", ADMIN,
                 "{\"extra_specs\": {\"bad/key\": \"x\"}}", 400,
                 "badRequest", NULL);
    expect_fault("POST", "/v2.1/flavors/q1/os-extra_specs", MEMBER,
                 "{\"extra_specs\": {\"a\": \"x\"}}", 403, "forbidden",
                 NULL);
    expect_fault("POST", "/v2.1/flavors/nope/os-extra_specs", ADMIN,
                 "{\"extra_specs\": {\"a\": \"x\"}}", 404, "itemNotFound",
                 "Flavor nope could not be found.");

    check(flavor_db_get_for_boot(api_db(), "q1", "p-one", false, &flavor),
          "boot flavor");
    assert_string_equal(flavor_get_extra_spec(flavor, "hw:cpu_policy"),
                        "shared");
    assert_int_equal(flavor->n_extra_specs, 3);
    flavor_free(flavor);

    expect_fault("DELETE", "/v2.1/flavors/q1/os-extra_specs/flag", MEMBER,
                 NULL, 403, "forbidden", NULL);
    json_object_put(call_expect("DELETE", "/v2.1/flavors/q1/os-extra_specs/"
                                "flag", ADMIN, NULL, 202));
    expect_fault("GET", "/v2.1/flavors/q1/os-extra_specs/flag", MEMBER,
                 NULL, 404, "itemNotFound",
                 "Flavor q1 has no extra specs with key flag.");
    expect_fault("DELETE", "/v2.1/flavors/q1/os-extra_specs/flag", ADMIN,
                 NULL, 404, "itemNotFound",
                 "Flavor q1 has no extra specs with key flag.");
}

/* ---- Keypairs -------------------------------------------------------- */

static void
test_keypairs(void **state)
{
    struct json_object *body, *kp;
    char *key = NULL;
    struct error *error;

    (void) state;
    body = call_expect("POST", "/v2.1/os-keypairs", MEMBER,
                       "{\"keypair\": {\"name\": \"imported\", "
                       "\"public_key\": \"" KEY_RSA "\"}}", 200);
    kp = at(body, "keypair", NULL);
    assert_string_equal(str_at(kp, "name", NULL, NULL), "imported");
    assert_string_equal(str_at(kp, "fingerprint", NULL, NULL), FP_RSA);
    assert_string_equal(str_at(kp, "public_key", NULL, NULL), KEY_RSA);
    assert_string_equal(str_at(kp, "user_id", NULL, NULL), "u-one");
    assert_null(at(kp, "private_key", NULL));
    json_object_put(body);

    expect_fault("POST", "/v2.1/os-keypairs", MEMBER,
                 "{\"keypair\": {\"name\": \"imported\", "
                 "\"public_key\": \"" KEY_RSA "\"}}", 409,
                 "conflictingRequest", "Key pair 'imported' already exists.");
    expect_fault("POST", "/v2.1/os-keypairs", MEMBER,
                 "{\"keypair\": {\"name\": \"bad\", \"public_key\": "
                 "\"ssh-rsa AAAAnotakey\"}}", 400, "badRequest",
                 "Keypair data is invalid: failed to generate fingerprint");
    expect_fault("POST", "/v2.1/os-keypairs", MEMBER,
                 "{\"keypair\": {\"name\": \"bad/name\"}}", 400,
                 "badRequest", "Keypair data is invalid: Keypair name "
                 "contains unsafe characters");
    expect_fault("POST", "/v2.1/os-keypairs", MEMBER,
                 "{\"keypair\": {\"name\": \"x\", \"type\": \"ssh\"}}", 400,
                 "badRequest", NULL);
    expect_fault("POST", "/v2.1/os-keypairs", MEMBER, "{\"keypair\": {}}",
                 400, "badRequest", NULL);

    /* Generated. */
    body = call_expect("POST", "/v2.1/os-keypairs", MEMBER,
                       "{\"keypair\": {\"name\": \"generated key\"}}", 200);
    kp = at(body, "keypair", NULL);
    assert_non_null(strstr(str_at(kp, "private_key", NULL, NULL),
                           "-----BEGIN RSA PRIVATE KEY-----"));
    assert_true(!strncmp(str_at(kp, "public_key", NULL, NULL), "ssh-rsa ",
                         8));
    assert_int_equal(strlen(str_at(kp, "fingerprint", NULL, NULL)), 47);
    json_object_put(body);

    /* List and show. */
    body = call_expect("GET", "/v2.1/os-keypairs", MEMBER, NULL, 200);
    assert_int_equal(json_object_array_length(at(body, "keypairs", NULL)),
                     2);
    kp = at(body, "keypairs", "#1", "keypair", NULL);
    assert_string_equal(str_at(kp, "name", NULL, NULL), "imported");
    assert_string_equal(str_at(kp, "fingerprint", NULL, NULL), FP_RSA);
    assert_non_null(at(kp, "public_key", NULL));
    assert_null(at(kp, "id", NULL));
    json_object_put(body);

    body = call_expect("GET", "/v2.1/os-keypairs/imported", MEMBER, NULL,
                       200);
    kp = at(body, "keypair", NULL);
    assert_true(int_at(kp, "id", NULL, NULL) > 0);
    assert_string_equal(str_at(kp, "user_id", NULL, NULL), "u-one");
    assert_int_equal(strlen(str_at(kp, "created_at", NULL, NULL)), 26);
    assert_true(json_object_is_type(at(kp, "deleted", NULL),
                                    json_type_boolean));
    assert_false(json_object_get_boolean(at(kp, "deleted", NULL)));
    assert_true(json_object_object_get_ex(kp, "deleted_at", NULL));
    assert_null(at(kp, "deleted_at", NULL));
    assert_true(json_object_object_get_ex(kp, "updated_at", NULL));
    json_object_put(body);
    json_object_put(call_expect("GET", "/v2.1/os-keypairs/generated%20key",
                                MEMBER, NULL, 200));

    /* Scoped to the user: another user of the same project sees none. */
    body = call_expect("GET", "/v2.1/os-keypairs", MEMBER2, NULL, 200);
    assert_int_equal(json_object_array_length(at(body, "keypairs", NULL)),
                     0);
    json_object_put(body);
    expect_fault("GET", "/v2.1/os-keypairs/imported", MEMBER2, NULL, 404,
                 "itemNotFound", "Keypair imported not found for user "
                 "u-two");

    check(keypair_db_get_public_key(api_db(), "u-one", "imported", &key),
          "public key");
    assert_string_equal(key, KEY_RSA);
    free(key);
    error = keypair_db_get_public_key(api_db(), "u-two", "imported", &key);
    assert_non_null(error);
    assert_string_equal(error_message(error),
                        "Keypair imported not found for user u-two");
    error_free(error);

    /* The key_pairs quota counts per user. */
    json_object_put(call_expect("PUT", "/v2.1/os-quota-sets/p-one", ADMIN,
                                "{\"quota_set\": {\"key_pairs\": 2}}", 200));
    expect_fault("POST", "/v2.1/os-keypairs", MEMBER,
                 "{\"keypair\": {\"name\": \"third\", \"public_key\": \""
                 KEY_RSA "\"}}", 403, "forbidden",
                 "Quota exceeded, too many key pairs.");
    json_object_put(call_expect("POST", "/v2.1/os-keypairs", MEMBER2,
                                "{\"keypair\": {\"name\": \"third\", "
                                "\"public_key\": \"" KEY_RSA "\"}}", 200));
    json_object_put(call_expect("DELETE", "/v2.1/os-quota-sets/p-one",
                                ADMIN, NULL, 202));

    /* Delete. */
    json_object_put(call_expect("DELETE", "/v2.1/os-keypairs/imported",
                                MEMBER, NULL, 202));
    expect_fault("DELETE", "/v2.1/os-keypairs/imported", MEMBER, NULL, 404,
                 "itemNotFound", "Keypair imported not found for user "
                 "u-one");
    expect_fault("DELETE", "/v2.1/os-keypairs/third", MEMBER, NULL, 404,
                 "itemNotFound", NULL);
    json_object_put(call_expect("DELETE", "/v2.1/os-keypairs/third",
                                MEMBER2, NULL, 202));
}

/* ---- Quotas ---------------------------------------------------------- */

static void
test_quota_sets(void **state)
{
    static const char *const keys[] = {
        "cores", "fixed_ips", "floating_ips", "injected_file_content_bytes",
        "injected_file_path_bytes", "injected_files", "instances",
        "key_pairs", "metadata_items", "ram", "security_group_rules",
        "security_groups", "server_group_members", "server_groups",
    };
    struct json_object *body, *qs;

    (void) state;
    body = call_expect("GET", "/v2.1/os-quota-sets/p-one/defaults", MEMBER,
                       NULL, 200);
    qs = at(body, "quota_set", NULL);
    assert_string_equal(str_at(qs, "id", NULL, NULL), "p-one");
    for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
        assert_non_null(at(qs, keys[i], NULL));
    }
    assert_int_equal(json_object_object_length(qs), ARRAY_SIZE(keys) + 1);
    assert_int_equal(int_at(qs, "instances", NULL, NULL), 10);
    assert_int_equal(int_at(qs, "cores", NULL, NULL), 20);
    assert_int_equal(int_at(qs, "ram", NULL, NULL), 51200);
    assert_int_equal(int_at(qs, "key_pairs", NULL, NULL), 100);
    assert_int_equal(int_at(qs, "metadata_items", NULL, NULL), 128);
    assert_int_equal(int_at(qs, "floating_ips", NULL, NULL), -1);
    assert_int_equal(int_at(qs, "security_groups", NULL, NULL), -1);
    json_object_put(body);

    json_object_put(call_expect("GET", "/v2.1/os-quota-sets/p-one", MEMBER,
                                NULL, 200));
    expect_fault("GET", "/v2.1/os-quota-sets/p-two", MEMBER, NULL, 403,
                 "forbidden", "Policy doesn't allow os_compute_api:"
                 "os-quota-sets:show to be performed.");
    expect_fault("PUT", "/v2.1/os-quota-sets/p-one", MEMBER,
                 "{\"quota_set\": {\"instances\": 50}}", 403, "forbidden",
                 NULL);
    expect_fault("DELETE", "/v2.1/os-quota-sets/p-one", MEMBER, NULL, 403,
                 "forbidden", NULL);

    /* Update. */
    body = call_expect("PUT", "/v2.1/os-quota-sets/p-one", ADMIN,
                       "{\"quota_set\": {\"instances\": 5, \"cores\": \"8\","
                       " \"floating_ips\": 3, \"ram\": -1}}", 200);
    qs = at(body, "quota_set", NULL);
    assert_null(at(qs, "id", NULL));
    assert_int_equal(int_at(qs, "instances", NULL, NULL), 5);
    assert_int_equal(int_at(qs, "cores", NULL, NULL), 8);
    assert_int_equal(int_at(qs, "ram", NULL, NULL), -1);
    assert_int_equal(int_at(qs, "floating_ips", NULL, NULL), -1);
    json_object_put(body);
    body = call_expect("GET", "/v2.1/os-quota-sets/p-one", MEMBER, NULL,
                       200);
    assert_int_equal(int_at(body, "quota_set", "instances", NULL), 5);
    json_object_put(body);
    body = call_expect("GET", "/v2.1/os-quota-sets/p-two", OTHER, NULL, 200);
    assert_int_equal(int_at(body, "quota_set", "instances", NULL), 10);
    json_object_put(body);
    expect_fault("PUT", "/v2.1/os-quota-sets/p-one", ADMIN,
                 "{\"quota_set\": {\"instances\": -2}}", 400, "badRequest",
                 NULL);
    expect_fault("PUT", "/v2.1/os-quota-sets/p-one", ADMIN,
                 "{\"quota_set\": {\"bogus\": 1}}", 400, "badRequest",
                 NULL);
    expect_fault("PUT", "/v2.1/os-quota-sets/p-one", ADMIN,
                 "{\"quota_set\": {\"cores\": \"many\"}}", 400, "badRequest",
                 NULL);

    /* Usage: detail, and the floor on updates. */
    add_instance("00000000-0000-0000-0000-000000000001", "p-one", 2, 1024);
    add_instance("00000000-0000-0000-0000-000000000002", "p-one", 2, 1024);
    sql("INSERT INTO instances (uuid, project_id, user_id, vm_state, "
        "flavorid, vcpus, memory_mb, instance, created_at, deleted) VALUES "
        "('00000000-0000-0000-0000-000000000003', 'p-one', 'u', 'deleted', "
        "'1', 8, 8192, '{}', UTC_TIMESTAMP(6), 3)");
    body = call_expect("GET", "/v2.1/os-quota-sets/p-one/detail", MEMBER,
                       NULL, 200);
    qs = at(body, "quota_set", NULL);
    assert_string_equal(str_at(qs, "id", NULL, NULL), "p-one");
    assert_int_equal(int_at(qs, "instances", "in_use", NULL), 2);
    assert_int_equal(int_at(qs, "instances", "limit", NULL), 5);
    assert_int_equal(int_at(qs, "instances", "reserved", NULL), 0);
    assert_int_equal(int_at(qs, "cores", "in_use", NULL), 4);
    assert_int_equal(int_at(qs, "ram", "in_use", NULL), 2048);
    assert_int_equal(int_at(qs, "key_pairs", "in_use", NULL), 1);
    assert_int_equal(int_at(qs, "fixed_ips", "limit", NULL), -1);
    json_object_put(body);
    expect_fault("PUT", "/v2.1/os-quota-sets/p-one", ADMIN,
                 "{\"quota_set\": {\"instances\": 1}}", 400, "badRequest",
                 "Quota limit 1 for instances must be greater than or equal "
                 "to already used and reserved 2.");
    body = call_expect("PUT", "/v2.1/os-quota-sets/p-one", ADMIN,
                       "{\"quota_set\": {\"instances\": 1, \"force\": "
                       "true}}", 200);
    assert_int_equal(int_at(body, "quota_set", "instances", NULL), 1);
    json_object_put(body);

    /* Delete: back to the defaults. */
    json_object_put(call_expect("DELETE", "/v2.1/os-quota-sets/p-one",
                                ADMIN, NULL, 202));
    body = call_expect("GET", "/v2.1/os-quota-sets/p-one", MEMBER, NULL,
                       200);
    assert_int_equal(int_at(body, "quota_set", "instances", NULL), 10);
    assert_int_equal(int_at(body, "quota_set", "cores", NULL), 20);
    json_object_put(body);
}

static void
test_quota_check_boot(void **state)
{
    struct flavor *flavor = flavor_new("f", "f");
    struct db *db = api_db();
    struct error *error;

    (void) state;
    /* p-one runs 2 instances, 4 cores, 2048 MB (test_quota_sets). */
    flavor->vcpus = 2;
    flavor->memory_mb = 1024;
    check(quota_check_boot(db, &t.config, "p-one", 8, flavor, 0), "fits");

    error = quota_check_boot(db, &t.config, "p-one", 9, flavor, 0);
    assert_non_null(error);
    assert_int_equal(error_kind(error), ERROR_QUOTA);
    assert_string_equal(error_message(error), "Quota exceeded for cores, "
                        "instances: Requested 18, 9, but already used 4, 2 "
                        "of 20, 10 cores, instances");
    error_free(error);

    check(quota_set_limit(db, "p-one", QUOTA_instances, 2), "set");
    error = quota_check_boot(db, &t.config, "p-one", 1, flavor, 0);
    assert_non_null(error);
    assert_string_equal(error_message(error), "Quota exceeded for "
                        "instances: Requested 1, but already used 2 of 2 "
                        "instances");
    error_free(error);
    check(quota_set_limit(db, "p-one", QUOTA_instances, -1), "unlimited");

    flavor->memory_mb = 50000;
    error = quota_check_boot(db, &t.config, "p-one", 1, flavor, 0);
    assert_non_null(error);
    assert_string_equal(error_message(error), "Quota exceeded for ram: "
                        "Requested 50000, but already used 2048 of 51200 "
                        "ram");
    error_free(error);
    flavor->memory_mb = 1024;

    error = quota_check_boot(db, &t.config, "p-one", 1, flavor, 129);
    assert_non_null(error);
    assert_int_equal(error_kind(error), ERROR_QUOTA);
    assert_string_equal(error_message(error), "Maximum number of metadata "
                        "items exceeds 128");
    error_free(error);
    check(quota_check_boot(db, &t.config, "p-one", 1, flavor, 128),
          "128 metadata items");
    /* Another project has its own usage. */
    check(quota_check_boot(db, &t.config, "p-two", 10, flavor, 0),
          "p-two fits");
    check(quota_delete_project(db, "p-one"), "reset");
    flavor_free(flavor);
}

static void
test_limits(void **state)
{
    struct json_object *body, *abs;

    (void) state;
    body = call_expect("GET", "/v2.1/limits", MEMBER, NULL, 200);
    abs = at(body, "limits", "absolute", NULL);
    assert_non_null(abs);
    assert_int_equal(json_object_array_length(at(body, "limits", "rate",
                                                 NULL)), 0);
    assert_int_equal(int_at(abs, "maxTotalInstances", NULL, NULL), 10);
    assert_int_equal(int_at(abs, "maxTotalCores", NULL, NULL), 20);
    assert_int_equal(int_at(abs, "maxTotalRAMSize", NULL, NULL), 51200);
    assert_int_equal(int_at(abs, "maxTotalKeypairs", NULL, NULL), 100);
    assert_int_equal(int_at(abs, "maxServerMeta", NULL, NULL), 128);
    assert_int_equal(int_at(abs, "maxImageMeta", NULL, NULL), 128);
    assert_int_equal(int_at(abs, "maxPersonality", NULL, NULL), 5);
    assert_int_equal(int_at(abs, "maxPersonalitySize", NULL, NULL), 10240);
    assert_int_equal(int_at(abs, "maxSecurityGroups", NULL, NULL), -1);
    assert_int_equal(int_at(abs, "maxSecurityGroupRules", NULL, NULL), -1);
    assert_int_equal(int_at(abs, "maxTotalFloatingIps", NULL, NULL), -1);
    assert_int_equal(int_at(abs, "maxServerGroups", NULL, NULL), 10);
    assert_int_equal(int_at(abs, "maxServerGroupMembers", NULL, NULL), 10);
    assert_int_equal(int_at(abs, "totalInstancesUsed", NULL, NULL), 2);
    assert_int_equal(int_at(abs, "totalCoresUsed", NULL, NULL), 4);
    assert_int_equal(int_at(abs, "totalRAMUsed", NULL, NULL), 2048);
    assert_int_equal(int_at(abs, "totalSecurityGroupsUsed", NULL, NULL), 0);
    assert_int_equal(int_at(abs, "totalFloatingIpsUsed", NULL, NULL), 0);
    assert_int_equal(int_at(abs, "totalServerGroupsUsed", NULL, NULL), 0);
    assert_int_equal(json_object_object_length(abs), 19);
    json_object_put(body);

    body = call_expect("GET", "/v2.1/limits", OTHER, NULL, 200);
    assert_int_equal(int_at(body, "limits", "absolute",
                            "totalInstancesUsed"), 0);
    json_object_put(body);
    expect_fault("GET", "/v2.1/limits?tenant_id=p-one", OTHER, NULL, 403,
                 "forbidden", NULL);
    body = call_expect("GET", "/v2.1/limits?tenant_id=p-one", ADMIN, NULL,
                       200);
    assert_int_equal(int_at(body, "limits", "absolute",
                            "totalCoresUsed"), 4);
    json_object_put(body);
    json_object_put(call_expect("GET", "/v2.1/limits", NULL, NULL, 401));
}

static void
test_availability_zones(void **state)
{
    struct json_object *body, *list;

    (void) state;
    body = call_expect("GET", "/v2.1/os-availability-zone", MEMBER, NULL,
                       200);
    list = at(body, "availabilityZoneInfo", NULL);
    assert_int_equal(json_object_array_length(list), 1);
    assert_string_equal(str_at(list, "#0", "zoneName", NULL), "nova");
    assert_true(json_object_get_boolean(at(list, "#0", "zoneState",
                                           "available", NULL)));
    assert_true(json_object_object_get_ex(at(list, "#0", NULL), "hosts",
                                          NULL));
    assert_null(at(list, "#0", "hosts", NULL));
    json_object_put(body);

    sql("INSERT INTO cell_mappings (uuid, name, path, availability_zones) "
        "VALUES ('11111111-1111-1111-1111-111111111111', 'east', "
        "'api!east', '[\"east-az\", \"nova\"]'), "
        "('22222222-2222-2222-2222-222222222222', 'west', 'api!west', "
        "'[\"west-az\"]'), ('33333333-3333-3333-3333-333333333333', 'api', "
        "'api', NULL)");
    body = call_expect("GET", "/v2.1/os-availability-zone", MEMBER, NULL,
                       200);
    list = at(body, "availabilityZoneInfo", NULL);
    assert_int_equal(json_object_array_length(list), 3);
    assert_string_equal(str_at(list, "#0", "zoneName", NULL), "east-az");
    assert_string_equal(str_at(list, "#1", "zoneName", NULL), "nova");
    assert_string_equal(str_at(list, "#2", "zoneName", NULL), "west-az");
    json_object_put(body);

    expect_fault("GET", "/v2.1/os-availability-zone/detail", MEMBER, NULL,
                 403, "forbidden", NULL);
    body = call_expect("GET", "/v2.1/os-availability-zone/detail", ADMIN,
                       NULL, 200);
    assert_int_equal(json_object_array_length(at(body,
                                                 "availabilityZoneInfo",
                                                 NULL)), 3);
    json_object_put(body);
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flavor_crud),
        cmocka_unit_test(test_flavor_queries),
        cmocka_unit_test(test_private_flavors),
        cmocka_unit_test(test_extra_specs),
        cmocka_unit_test(test_keypairs),
        cmocka_unit_test(test_quota_sets),
        cmocka_unit_test(test_quota_check_boot),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_availability_zones),
    };
    int status;

    test_env_require(argc, argv, "mariadb");
    db_library_init();
    status = cmocka_run_group_tests_name("flavors-keypairs-quotas", tests,
                                         group_setup, group_teardown);
    db_library_end();
    return status;
}
