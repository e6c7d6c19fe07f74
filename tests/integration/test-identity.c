/* test-identity.c: the identity service against a real MariaDB, through
 * nova-manage and through nova-api's HTTP server.
 *
 * The group setup creates a fresh API database and migrates it with
 * "nova-manage api_db sync"; then the tests, in order:
 *
 *   - create projects, users and role assignments with nova-manage
 *     (tables of commands with their exit status and output, usage and
 *     lookup errors included) and check them through the store API;
 *   - start the HTTP server (port 0) with the identity routes, the token
 *     validator and one authenticated test route, and issue tokens with
 *     POST /v3/auth/tokens (by name, by id, scoped, unscoped), checking
 *     Keystone's body, the catalog and X-Subject-Token;
 *   - refuse bad credentials (401, Keystone's body) and malformed bodies
 *     (400);
 *   - validate with GET /v3/auth/tokens and on the test route;
 *   - list and show projects (GET /v3/projects[/{id}]): Keystone's
 *     shapes, filters and policy (admin lists, a user sees the projects
 *     he has a role on);
 *   - revoke: disable, password change, role removal, project and user
 *     deletion each make earlier tokens fail (the validation cache is
 *     flushed rather than waited for), while a token issued after a
 *     re-enable works at once, cache or not;
 *   - validate from several threads at once, and report validations per
 *     second (cache hits, and whole HTTP requests) as TAP comments.
 *
 * The database is dropped at the end. */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "api-cell/http-server.h"
#include "api-cell/identity-api.h"
#include "api-cell/identity-password.h"
#include "api-cell/identity-service.h"
#include "api-cell/identity-store.h"
#include "shared/cleanup.h"
#include "shared/db-migrate.h"
#include "shared/db.h"
#include "shared/error.h"
#include "shared/json-util.h"
#include "shared/timeutil.h"
#include "shared/xalloc.h"
#include "tests/integration/test-env.h"

#ifndef TEST_IDENTITY_BUILDDIR
#define TEST_IDENTITY_BUILDDIR "."
#endif

#define TEST_DATABASE "test_identity"
#define TEST_SECRET "test-secret-0123456789abcdef0123456789abcdef"
#define TEST_THREADS 4
/* Validations for the rate comments. */
#define RATE_VALIDATIONS 20000
#define RATE_HTTP_REQUESTS 2000
/* Largest HTTP response the test client reads. */
#define TEST_MAX_RESPONSE_SIZE (1024 * 1024)

static const char *const test_roles[] = { "admin", "member", "reader" };

/* Everything the tests share: set up by the group setup, in order. */
static struct {
    char *url;                          /* the API database */
    char *set_url;                      /* "api_database.connection=..." */
    struct identity_service *service;
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

static void
assert_contains(const char *haystack, const char *needle)
{
    if (!strstr(haystack, needle)) {
        fail_msg("'%s' lacks '%s'", haystack, needle);
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

/* ---- nova-manage ----------------------------------------------------- */

struct manage_result {
    int status;
    char *out;
    char *err;
};

static void
manage_result_destroy(struct manage_result *r)
{
    free(r->out);
    free(r->err);
}

static char *
read_fd(int fd)
{
    size_t size = 0, cap = 4096;
    char *buf = xmalloc(cap + 1);
    ssize_t n;

    (void) lseek(fd, 0, SEEK_SET);
    while ((n = read(fd, buf + size, cap - size)) > 0) {
        size += (size_t) n;
        if (size == cap) {
            cap *= 2;
            buf = xrealloc(buf, cap + 1);
        }
    }
    buf[size] = '\0';
    return buf;
}

static int
temp_fd(const char *content)
{
    char path[] = "/tmp/test-identity-XXXXXX";
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    (void) unlink(path);
    if (content) {
        assert_int_equal(write(fd, content, strlen(content)),
                         (ssize_t) strlen(content));
        (void) lseek(fd, 0, SEEK_SET);
    }
    return fd;
}

/* Runs "nova-manage --set api_database.connection=URL ARGS..." with
 * 'input' (may be NULL) on its standard input. */
static void
run_manage(const char *const *args, const char *input,
           struct manage_result *ret)
{
    const char *builddir = getenv("top_builddir");
    AUTOFREE char *path = xasprintf("%s/api-cell/nova-manage",
                                    builddir ? builddir
                                             : TEST_IDENTITY_BUILDDIR);
    int in_fd = temp_fd(input ? input : "");
    int out_fd = temp_fd(NULL);
    int err_fd = temp_fd(NULL);
    size_t n_args = 0;
    int status;

    while (args[n_args]) {
        n_args++;
    }
    AUTOFREE char **argv = xcalloc(n_args + 4, sizeof *argv);
    argv[0] = path;
    argv[1] = (char *) "--set";
    argv[2] = t.set_url;
    for (size_t i = 0; i < n_args; i++) {
        argv[i + 3] = (char *) args[i];
    }

    fflush(stdout);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(in_fd, STDIN_FILENO);
        dup2(out_fd, STDOUT_FILENO);
        dup2(err_fd, STDERR_FILENO);
        execv(path, argv);
        _exit(127);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    ret->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
    ret->out = read_fd(out_fd);
    ret->err = read_fd(err_fd);
    close(in_fd);
    close(out_fd);
    close(err_fd);
}

/* Runs nova-manage and expects 'status' and output containing 'out' and
 * standard error containing 'err' (NULL: must be empty). */
static void
manage_expect(const char *const *args, const char *input, int status,
              const char *out, const char *err)
{
    struct manage_result r;

    run_manage(args, input, &r);
    if (r.status != status || (out && !strstr(r.out, out))
        || (err ? !strstr(r.err, err) : *r.err != '\0')) {
        fail_msg("nova-manage %s %s %s: status %d, stdout '%s', stderr "
                 "'%s'", args[0], args[1] ? args[1] : "",
                 args[1] && args[2] ? args[2] : "", r.status, r.out, r.err);
    }
    manage_result_destroy(&r);
}

/* ---- A small HTTP client --------------------------------------------- */

struct http_result {
    int status;
    char *head;                 /* status line and headers */
    char *body;
    struct json_object *json;   /* NULL when the body is not JSON */
};

static void
http_result_destroy(struct http_result *r)
{
    free(r->head);
    free(r->body);
    json_object_put(r->json);
    memset(r, 0, sizeof *r);
}

/* The value of header 'name' in 'r' (a new string), or NULL. */
static char *
http_result_header(const struct http_result *r, const char *name)
{
    size_t n = strlen(name);

    for (const char *line = strstr(r->head, "\r\n"); line;
         line = strstr(line + 2, "\r\n")) {
        const char *start = line + 2;

        if (!strncasecmp(start, name, n) && start[n] == ':') {
            const char *v = start + n + 1;
            const char *end = strstr(v, "\r\n");

            while (*v == ' ') {
                v++;
            }
            return xstrndup(v, end ? (size_t) (end - v) : strlen(v));
        }
    }
    return NULL;
}

/* Sends one request ('headers': NULL-terminated "Name: value" lines, may
 * be NULL; 'body' may be NULL) and reads the whole response. */
static void
http_call(const char *method, const char *path, const char *const *headers,
          const char *body, struct http_result *ret)
{
    struct sockaddr_in addr = { .sin_family = AF_INET };
    AUTOFREE char *extra = xstrdup("");
    AUTOFREE char *request = NULL;
    AUTOFREE char *response = xmalloc(TEST_MAX_RESPONSE_SIZE + 1);
    size_t size = 0;
    ssize_t n;
    int fd;

    for (size_t i = 0; headers && headers[i]; i++) {
        char *longer = xasprintf("%s%s\r\n", extra, headers[i]);
        free(extra);
        extra = longer;
    }
    request = xasprintf("%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                        "Connection: close\r\n%s%s%zu\r\n\r\n%s", method,
                        path, t.port, extra,
                        body ? "Content-Type: application/json\r\n"
                               "Content-Length: " : "Content-Length: ",
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
    ret->head = xstrndup(response, (size_t) (split - response));
    ret->body = xstrdup(split + 4);
    assert_int_equal(sscanf(ret->head, "HTTP/1.1 %d", &ret->status), 1);
    AUTOFREE char *te = http_result_header(ret, "Transfer-Encoding");
    assert_null(te);
    if (*ret->body) {
        struct error *error = json_parse_text(ret->body, strlen(ret->body),
                                              0, 0, &ret->json);
        error_free(error);
    }
}

/* A JSON value at a path of object keys ("token", "user", "name", NULL),
 * or NULL. */
static struct json_object *
json_at(struct json_object *obj, ...)
{
    va_list args;
    const char *key;

    va_start(args, obj);
    while (obj && (key = va_arg(args, const char *))) {
        if (!json_object_object_get_ex(obj, key, &obj)) {
            obj = NULL;
        }
    }
    va_end(args);
    return obj;
}

static const char *
json_str_at(struct json_object *obj, const char *a, const char *b,
            const char *c)
{
    struct json_object *v = json_at(obj, a, b, c, NULL);

    return v && json_object_is_type(v, json_type_string)
           ? json_object_get_string(v) : NULL;
}

/* The body of a password authentication; 'scope' is JSON for
 * "scope" or NULL. */
static char *
auth_body(const char *user_field, const char *user, const char *password,
          const char *scope)
{
    return xasprintf("{\"auth\": {\"identity\": {\"methods\": [\"password\"],"
                     " \"password\": {\"user\": {\"%s\": \"%s\", "
                     "\"domain\": {\"name\": \"Default\"}, \"password\": "
                     "\"%s\"}}}%s%s}}", user_field, user, password,
                     scope ? ", \"scope\": " : "", scope ? scope : "");
}

static char *
project_scope(const char *name)
{
    return xasprintf("{\"project\": {\"name\": \"%s\", \"domain\": "
                     "{\"id\": \"default\"}}}", name);
}

/* Issues a token for 'user' on 'project' (NULL: no scope) through the
 * API; returns it (a new string) and stores the response in '*ret' if
 * not NULL. */
static char *
issue_token(const char *user, const char *password, const char *project,
            struct http_result *ret)
{
    AUTOFREE char *scope = project ? project_scope(project) : NULL;
    AUTOFREE char *body = auth_body("name", user, password, scope);
    struct http_result r;
    char *token;

    http_call("POST", "/v3/auth/tokens", NULL, body, &r);
    if (r.status != 201) {
        fail_msg("token for %s on %s: %d %s", user, project ? project : "-",
                 r.status, r.body);
    }
    token = http_result_header(&r, "X-Subject-Token");
    assert_non_null(token);
    if (ret) {
        *ret = r;
    } else {
        http_result_destroy(&r);
    }
    return token;
}

/* GET /v2.1/whoami with 'token': the status. */
static int
whoami_status(const char *token)
{
    AUTOFREE char *header = xasprintf("X-Auth-Token: %s", token);
    const char *headers[] = { header, NULL };
    struct http_result r;
    int status;

    http_call("GET", "/v2.1/whoami", headers, NULL, &r);
    status = r.status;
    http_result_destroy(&r);
    return status;
}

/* Validates 'token' with the service directly; returns the error kind or
 * -1 for success. */
static int
validate_kind(const char *token)
{
    struct http_auth auth;
    struct error *error;
    int kind = -1;

    memset(&auth, 0, sizeof auth);
    error = identity_service_validate(t.service, token, true, &auth);
    if (error) {
        kind = (int) error_kind(error);
        error_free(error);
    }
    http_auth_destroy(&auth);
    return kind;
}

/* ---- The test route --------------------------------------------------- */

/* GET /v2.1/whoami: what the validator found. */
static struct error *
whoami(struct http_request *req, struct http_response *resp, void *aux)
{
    const struct http_auth *auth = http_request_auth(req);
    struct json_object *body = json_object_new_object();
    struct json_object *roles = json_object_new_array();

    (void) aux;
    json_object_object_add(body, "user_id",
                           json_object_new_string(auth->user_id));
    json_object_object_add(body, "user_name",
                           json_object_new_string(auth->user_name));
    json_object_object_add(body, "project_id",
                           json_object_new_string(auth->project_id));
    json_object_object_add(body, "project_name",
                           json_object_new_string(auth->project_name));
    json_object_object_add(body, "is_admin",
                           json_object_new_boolean(auth->is_admin));
    for (size_t i = 0; i < auth->n_roles; i++) {
        json_object_array_add(roles, json_object_new_string(auth->roles[i]));
    }
    json_object_object_add(body, "roles", roles);
    http_response_set_json(resp, 200, body);
    return NULL;
}

/* ---- Setup ----------------------------------------------------------- */

static int
group_setup(void **state)
{
    CLEANUP(db_closep) struct db *admin = admin_open();
    struct identity_config cfg = {
        .token_secret = (char *) TEST_SECRET,
        .token_expiration = IDENTITY_TOKEN_EXPIRATION_DEFAULT,
        .public_endpoint = NULL,
        .region = (char *) IDENTITY_REGION_DEFAULT,
    };
    struct http_server_config server_cfg;

    (void) state;
    check(db_exec_once(admin, "DROP DATABASE IF EXISTS " TEST_DATABASE,
                       DB_NO_PARAMS, NULL), "drop");
    check(db_exec_once(admin, "CREATE DATABASE " TEST_DATABASE
                       " CHARACTER SET utf8mb4", DB_NO_PARAMS, NULL),
          "create");
    t.url = xasprintf("%s%s", test_env_get("NOVA_TEST_MYSQL_ADMIN_URL"),
                      TEST_DATABASE);
    t.set_url = xasprintf("api_database.connection=%s", t.url);

    check(identity_service_new(&cfg, t.url, &t.service), "service");
    t.router = http_router_new();
    identity_api_register(t.router, t.service);
    http_router_add(t.router, HTTP_GET, "/v2.1/whoami", 0, whoami, NULL);
    http_server_config_init(&server_cfg);
    server_cfg.port = 0;
    server_cfg.n_threads = TEST_THREADS;
    check(http_server_new(&server_cfg, t.router, &t.server), "server");
    http_server_set_auth_validator(t.server, identity_api_validate,
                                   t.service);
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
    identity_service_free(t.service);
    check(db_exec_once(admin, "DROP DATABASE IF EXISTS " TEST_DATABASE,
                       DB_NO_PARAMS, NULL), "drop");
    free(t.url);
    free(t.set_url);
    return 0;
}

/* ---- Tests ----------------------------------------------------------- */

static void
test_migration(void **state)
{
    AUTOFREE char *expected = xasprintf(
        "Upgraded the api database schema from version 0 to %d\n",
        db_schema_latest(DB_SCHEMA_API));
    struct identity_role *roles = NULL;
    size_t n = 0;
    struct db *db;

    (void) state;
    assert_true(db_schema_latest(DB_SCHEMA_API) >= 2);
    manage_expect((const char *const[]) { "api_db", "sync", NULL }, NULL, 0,
                  expected, NULL);

    /* The three roles are seeded, with Keystone-style ids. */
    check(identity_service_db(t.service, &db), "db");
    check(identity_store_role_list(db, &roles, &n), "roles");
    assert_int_equal(n, ARRAY_SIZE(test_roles));
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(roles[i].name, test_roles[i]);
        assert_int_equal(strlen(roles[i].id), 32);
    }
    identity_role_array_free(roles, n);
}

static void
test_manage_commands(void **state)
{
    static const struct {
        const char *args[10];
        const char *input;
        int status;
        const char *out;        /* part of stdout */
        const char *err;        /* part of stderr; NULL: empty */
    } cases[] = {
        { { "project", "create", "demo", "--description", "Demo project" },
          NULL, 0, "Created project 'demo' (id ", NULL },
        { { "project", "create", "other" }, NULL, 0, "Created project", NULL },
        { { "project", "create", "tmp" }, NULL, 0, "Created project", NULL },
        { { "project", "create", "demo" }, NULL, 1, "",
          "nova-manage: Cannot create the project: Project 'demo' already "
          "exists" },
        { { "project", "create", "DEMO" }, NULL, 1, "", "already exists" },
        { { "project", "create", "" }, NULL, 1, "", "must not be empty" },
        { { "project", "create", "0123456789012345678901234567890123456789"
            "01234567890123456789012345" }, NULL, 1, "", "at most 64" },
        { { "project", "create" }, NULL, 2, "", "needs at least 1" },
        { { "project", "create", "a", "b" }, NULL, 2, "",
          "unexpected argument 'b'" },
        { { "project", "create", "x", "--frob" }, NULL, 2, "",
          "unknown option '--frob'; see 'nova-manage --help'" },
        { { "project", "create", "x", "--description" }, NULL, 2, "",
          "option '--description' needs a value" },

        { { "user", "create", "alice", "--password", "alice-pw-1",
            "--project", "demo" }, NULL, 0, "Created user 'alice'", NULL },
        { { "user", "create", "bob", "--password-stdin" }, "bob pw 2\n", 0,
          "Created user 'bob'", NULL },
        { { "user", "create", "root", "--password", "root-pw" }, NULL, 0,
          "Created user", NULL },
        { { "user", "create", "carol", "--password", "carol-pw" }, NULL, 0,
          "Created user", NULL },
        { { "user", "create", "dave", "--password", "dave-pw", "--project",
            "tmp" }, NULL, 0, "Created user", NULL },
        { { "user", "create", "erin", "--password", "erin-pw" }, NULL, 0,
          "Created user", NULL },
        { { "user", "create", "alice", "--password", "x" }, NULL, 1, "",
          "User 'alice' already exists" },
        { { "user", "create", "zed", "--password", "x", "--project",
            "nope" }, NULL, 1, "", "Project 'nope' not found" },
        { { "user", "create", "zed" }, NULL, 2, "",
          "needs at least 2" },
        { { "user", "create", "zed", "--password", "x",
            "--password-stdin" }, NULL, 2, "",
          "give exactly one of '--password P' and '--password-stdin'" },
        { { "user", "create", "zed", "--password", "" }, NULL, 1, "",
          "The password must not be empty" },
        { { "user", "create", "zed", "--password-stdin" }, "", 1, "",
          "No password on standard input" },

        { { "role", "add", "--user", "alice", "--project", "demo",
            "member" }, NULL, 0,
          "Gave role 'member' on project 'demo' to user 'alice'", NULL },
        { { "role", "add", "--user", "bob", "--project", "demo",
            "reader" }, NULL, 0, "Gave role", NULL },
        { { "role", "add", "--project", "other", "--user", "bob",
            "member" }, NULL, 0, "Gave role", NULL },
        { { "role", "add", "--user", "root", "--project", "demo",
            "admin" }, NULL, 0, "Gave role", NULL },
        { { "role", "add", "--user", "dave", "--project", "tmp",
            "member" }, NULL, 0, "Gave role", NULL },
        { { "role", "add", "--user", "erin", "--project", "demo",
            "member" }, NULL, 0, "Gave role", NULL },
        { { "role", "add", "--user", "alice", "--project", "demo",
            "member" }, NULL, 1, "",
          "User 'alice' already has role 'member' on project 'demo'" },
        { { "role", "add", "--user", "alice", "--project", "demo",
            "owner" }, NULL, 1, "", "Role 'owner' not found" },
        { { "role", "add", "--user", "nobody", "--project", "demo",
            "member" }, NULL, 1, "", "User 'nobody' not found" },
        { { "role", "add", "--user", "alice", "--project", "nope",
            "member" }, NULL, 1, "", "Project 'nope' not found" },
        { { "role", "add", "--user", "alice", "--user", "bob", "x" }, NULL,
          2, "", "option '--user' is given twice" },
        { { "role", "add", "alice", "demo", "member", "x", "y" }, NULL, 2,
          "", "unexpected argument 'demo'" },
        { { "role", "remove", "--user", "alice", "--project", "demo",
            "admin" }, NULL, 1, "",
          "User 'alice' has no role 'admin' on project 'demo'" },

        { { "user", "disable", "nobody" }, NULL, 1, "",
          "User 'nobody' not found" },
        { { "user", "enable", "nobody" }, NULL, 1, "",
          "User 'nobody' not found" },
        { { "user", "set-password", "nobody", "--password", "x" }, NULL, 1,
          "", "User 'nobody' not found" },
        { { "user", "delete", "nobody" }, NULL, 1, "",
          "User 'nobody' not found" },
        { { "project", "delete", "nope" }, NULL, 1, "",
          "Project 'nope' not found" },
        { { "user", "frob" }, NULL, 2, "", "unknown command 'user frob'" },
        { { "role" }, NULL, 2, "", "'role' needs a command: add, remove, "
          "list" },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        manage_expect(cases[i].args, cases[i].input, cases[i].status,
                      cases[i].out, cases[i].err);
    }
}

static void
test_manage_listings(void **state)
{
    struct manage_result r;

    (void) state;
    run_manage((const char *const[]) { "project", "list", NULL }, NULL, &r);
    assert_int_equal(r.status, 0);
    /* Aligned columns: the header's columns start where the rows' do. */
    assert_true(!strncmp(r.out, "ID                                NAME   "
                         "ENABLED  DESCRIPTION\n", 62));
    assert_contains(r.out, "  demo   True     Demo project\n");
    assert_contains(r.out, "  other  True     -\n");
    manage_result_destroy(&r);

    run_manage((const char *const[]) { "user", "list", NULL }, NULL, &r);
    assert_int_equal(r.status, 0);
    assert_contains(r.out, "NAME   ENABLED  DEFAULT_PROJECT\n");
    assert_contains(r.out, "  alice  True     demo\n");
    assert_contains(r.out, "  carol  True     -\n");
    assert_null(strstr(r.out, "pbkdf2"));
    manage_result_destroy(&r);

    run_manage((const char *const[]) { "role", "list", "--user", "bob",
                                       NULL }, NULL, &r);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, "USER  PROJECT  ROLE\n"
                        "bob   demo     reader\n"
                        "bob   other    member\n");
    manage_result_destroy(&r);

    run_manage((const char *const[]) { "role", "list", NULL }, NULL, &r);
    assert_int_equal(r.status, 0);
    assert_contains(r.out, "alice  demo     member\n");
    assert_contains(r.out, "root   demo     admin\n");
    manage_result_destroy(&r);

    run_manage((const char *const[]) { "role", "list", "--user", "zed",
                                       NULL }, NULL, &r);
    assert_int_equal(r.status, 1);
    assert_contains(r.err, "User 'zed' not found");
    manage_result_destroy(&r);

    /* The store agrees; the password is stored hashed. */
    struct identity_user user;
    struct db *db;
    check(identity_service_db(t.service, &db), "db");
    check(identity_store_user_get(db, NULL, "bob", &user), "bob");
    assert_true(!strncmp(user.password_hash, "pbkdf2-sha256$", 14));
    assert_int_equal(identity_password_verify("bob pw 2",
                                              user.password_hash), 0);
    assert_true(user.enabled);
    assert_null(user.default_project_id);
    assert_int_equal(user.revocation, 0);
    identity_user_destroy(&user);
}

static void
test_issue_token(void **state)
{
    struct http_result r;
    AUTOFREE char *token = NULL;
    AUTOFREE char *base = xasprintf("http://127.0.0.1:%d", t.port);
    struct json_object *tok, *catalog, *roles;
    const char *expires;

    (void) state;
    token = issue_token("alice", "alice-pw-1", "demo", &r);
    tok = json_at(r.json, "token", NULL);
    assert_non_null(tok);
    assert_int_equal(json_object_array_length(json_at(tok, "methods", NULL)),
                     1);
    assert_string_equal(json_object_get_string(json_object_array_get_idx(
                            json_at(tok, "methods", NULL), 0)), "password");
    assert_string_equal(json_str_at(tok, "user", "name", NULL), "alice");
    assert_int_equal(strlen(json_str_at(tok, "user", "id", NULL)), 32);
    assert_string_equal(json_str_at(tok, "user", "domain", "id"),
                        "default");
    assert_string_equal(json_str_at(tok, "user", "domain", "name"),
                        "Default");
    assert_string_equal(json_str_at(tok, "project", "name", NULL), "demo");
    assert_string_equal(json_str_at(tok, "project", "domain", "id"),
                        "default");
    roles = json_at(tok, "roles", NULL);
    assert_int_equal(json_object_array_length(roles), 1);
    assert_string_equal(json_str_at(json_object_array_get_idx(roles, 0),
                                    "name", NULL, NULL), "member");
    assert_int_equal(strlen(json_str_at(json_object_array_get_idx(roles, 0),
                                        "id", NULL, NULL)), 32);
    expires = json_str_at(tok, "expires_at", NULL, NULL);
    assert_non_null(expires);
    /* "2015-11-09T01:42:57.000000Z" */
    assert_int_equal(strlen(expires), 27);
    assert_int_equal(expires[10], 'T');
    assert_int_equal(expires[19], '.');
    assert_int_equal(expires[26], 'Z');
    assert_non_null(json_str_at(tok, "issued_at", NULL, NULL));
    assert_int_equal(json_object_array_length(json_at(tok, "audit_ids",
                                                      NULL)), 1);

    /* The catalog: three services, three interfaces each. */
    catalog = json_at(tok, "catalog", NULL);
    assert_int_equal(json_object_array_length(catalog), 3);
    for (size_t i = 0; i < 3; i++) {
        static const char *const types[] = { "compute", "image", "identity" };
        static const char *const names[] = { "nova", "glance", "keystone" };
        static const char *const paths[] = { "/v2.1", "/image", "/v3" };
        struct json_object *service = json_object_array_get_idx(catalog, i);
        struct json_object *endpoints = json_at(service, "endpoints", NULL);
        AUTOFREE char *url = xasprintf("%s%s", base, paths[i]);

        assert_string_equal(json_str_at(service, "type", NULL, NULL),
                            types[i]);
        assert_string_equal(json_str_at(service, "name", NULL, NULL),
                            names[i]);
        assert_int_equal(json_object_array_length(endpoints), 3);
        for (size_t e = 0; e < 3; e++) {
            struct json_object *ep = json_object_array_get_idx(endpoints, e);

            assert_string_equal(json_str_at(ep, "url", NULL, NULL), url);
            assert_string_equal(json_str_at(ep, "region", NULL, NULL),
                                "RegionOne");
        }
        assert_string_equal(json_str_at(json_object_array_get_idx(
                                            endpoints, 0), "interface",
                                        NULL, NULL), "public");
    }
    http_result_destroy(&r);

    /* The token works on a compute route. */
    AUTOFREE char *header = xasprintf("X-Auth-Token: %s", token);
    const char *headers[] = { header, NULL };
    http_call("GET", "/v2.1/whoami", headers, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_str_at(r.json, "user_name", NULL, NULL),
                        "alice");
    assert_string_equal(json_str_at(r.json, "project_name", NULL, NULL),
                        "demo");
    assert_false(json_object_get_boolean(json_at(r.json, "is_admin",
                                                 NULL)));
    http_result_destroy(&r);

    /* By user id and project id, and with the default project. */
    struct identity_user alice;
    struct identity_project demo;
    struct db *db;
    check(identity_service_db(t.service, &db), "db");
    check(identity_store_user_get(db, NULL, "alice", &alice), "alice");
    check(identity_store_project_get(db, NULL, "demo", &demo), "demo");
    AUTOFREE char *scope = xasprintf("{\"project\": {\"id\": \"%s\"}}",
                                     demo.id);
    AUTOFREE char *by_id = xasprintf(
        "{\"auth\": {\"identity\": {\"methods\": [\"password\"], "
        "\"password\": {\"user\": {\"id\": \"%s\", \"password\": "
        "\"alice-pw-1\"}}}, \"scope\": %s}}", alice.id, scope);
    http_call("POST", "/v3/auth/tokens", NULL, by_id, &r);
    assert_int_equal(r.status, 201);
    assert_string_equal(json_str_at(r.json, "token", "project", "id"),
                        demo.id);
    http_result_destroy(&r);

    AUTOFREE char *unscoped_body = auth_body("name", "alice", "alice-pw-1",
                                             NULL);
    http_call("POST", "/v3/auth/tokens", NULL, unscoped_body, &r);
    assert_int_equal(r.status, 201);
    assert_string_equal(json_str_at(r.json, "token", "project", "name"),
                        "demo");
    http_result_destroy(&r);
    identity_user_destroy(&alice);
    identity_project_destroy(&demo);

    /* The admin role makes an admin. */
    AUTOFREE char *root_token = issue_token("root", "root-pw", "demo", NULL);
    AUTOFREE char *root_header = xasprintf("X-Auth-Token: %s", root_token);
    const char *root_headers[] = { root_header, NULL };
    http_call("GET", "/v2.1/whoami", root_headers, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_true(json_object_get_boolean(json_at(r.json, "is_admin", NULL)));
    http_result_destroy(&r);
}

static void
test_unscoped_token(void **state)
{
    struct http_result r;
    AUTOFREE char *token = issue_token("carol", "carol-pw", NULL, &r);

    (void) state;
    assert_null(json_at(r.json, "token", "project", NULL));
    assert_null(json_at(r.json, "token", "catalog", NULL));
    assert_string_equal(json_str_at(r.json, "token", "user", "name"),
                        "carol");
    http_result_destroy(&r);

    /* The compute API needs a project... */
    assert_int_equal(whoami_status(token), 401);

    /* ...but the token validates itself. */
    AUTOFREE char *auth = xasprintf("X-Auth-Token: %s", token);
    AUTOFREE char *subject = xasprintf("X-Subject-Token: %s", token);
    const char *headers[] = { auth, subject, NULL };
    http_call("GET", "/v3/auth/tokens", headers, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_str_at(r.json, "token", "user", "name"),
                        "carol");
    http_result_destroy(&r);
}

static void
test_auth_failures(void **state)
{
    AUTOFREE char *wrong_pw = auth_body("name", "alice", "wrong", NULL);
    AUTOFREE char *no_user = auth_body("name", "nobody", "x", NULL);
    AUTOFREE char *bad_id = auth_body("id", "0123", "alice-pw-1", NULL);
    AUTOFREE char *demo = project_scope("demo");
    AUTOFREE char *other = project_scope("other");
    AUTOFREE char *nope = project_scope("nope");
    AUTOFREE char *no_role = auth_body("name", "alice", "alice-pw-1", other);
    AUTOFREE char *no_project = auth_body("name", "alice", "alice-pw-1",
                                          nope);
    AUTOFREE char *wrong_pw_scoped = auth_body("name", "alice", "wrong",
                                               demo);
    static const char unauthorized[] =
        "The request you have made requires authentication.";
    const struct {
        const char *what;
        const char *body;
        int status;
        const char *title;
        const char *message;    /* exact when status is 401 */
    } cases[] = {
        { "wrong password", wrong_pw, 401, "Unauthorized", unauthorized },
        { "wrong password, scoped", wrong_pw_scoped, 401, "Unauthorized",
          unauthorized },
        { "unknown user", no_user, 401, "Unauthorized", unauthorized },
        { "unknown user id", bad_id, 401, "Unauthorized", unauthorized },
        { "no role on project", no_role, 401, "Unauthorized",
          unauthorized },
        { "unknown project", no_project, 401, "Unauthorized",
          unauthorized },
        { "other domain",
          "{\"auth\": {\"identity\": {\"methods\": [\"password\"], "
          "\"password\": {\"user\": {\"name\": \"alice\", \"domain\": "
          "{\"id\": \"corp\"}, \"password\": \"alice-pw-1\"}}}}}", 401,
          "Unauthorized", unauthorized },
        { "token method",
          "{\"auth\": {\"identity\": {\"methods\": [\"token\"], "
          "\"token\": {\"id\": \"x\"}}}}", 401, "Unauthorized",
          unauthorized },
        { "domain scope",
          "{\"auth\": {\"identity\": {\"methods\": [\"password\"], "
          "\"password\": {\"user\": {\"name\": \"alice\", \"domain\": "
          "{\"id\": \"default\"}, \"password\": \"alice-pw-1\"}}}, "
          "\"scope\": {\"domain\": {\"id\": \"default\"}}}}", 401,
          "Unauthorized", unauthorized },
        /* Malformed: 400 in Keystone's shape. */
        { "not JSON", "{\"auth\": ", 400, "Bad Request", NULL },
        { "no auth", "{\"other\": {}}", 400, "Bad Request", "auth" },
        { "array body", "[1]", 400, "Bad Request", NULL },
        { "no identity", "{\"auth\": {}}", 400, "Bad Request", "identity" },
        { "methods not a list",
          "{\"auth\": {\"identity\": {\"methods\": \"password\"}}}", 400,
          "Bad Request", "methods" },
        { "no password object",
          "{\"auth\": {\"identity\": {\"methods\": [\"password\"]}}}", 400,
          "Bad Request", "password" },
        { "name without domain",
          "{\"auth\": {\"identity\": {\"methods\": [\"password\"], "
          "\"password\": {\"user\": {\"name\": \"alice\", \"password\": "
          "\"x\"}}}}}", 400, "Bad Request", "domain" },
        { "no password",
          "{\"auth\": {\"identity\": {\"methods\": [\"password\"], "
          "\"password\": {\"user\": {\"id\": \"x\"}}}}}", 400,
          "Bad Request", "password" },
        { "password not a string",
          "{\"auth\": {\"identity\": {\"methods\": [\"password\"], "
          "\"password\": {\"user\": {\"id\": \"x\", \"password\": 5}}}}}",
          400, "Bad Request", "password" },
        { "user without id or name",
          "{\"auth\": {\"identity\": {\"methods\": [\"password\"], "
          "\"password\": {\"user\": {\"password\": \"x\"}}}}}", 400,
          "Bad Request", "id or name" },
        { "empty body", NULL, 400, "Bad Request", "auth" },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct http_result r;
        struct json_object *error;

        http_call("POST", "/v3/auth/tokens", NULL, cases[i].body, &r);
        error = json_at(r.json, "error", NULL);
        if (r.status != cases[i].status || !error
            || json_object_get_int(json_at(error, "code", NULL))
               != cases[i].status
            || strcmp(json_str_at(error, "title", NULL, NULL),
                      cases[i].title)) {
            fail_msg("case %zu (%s): %d %s", i, cases[i].what, r.status,
                     r.body);
        }
        if (cases[i].message) {
            const char *message = json_str_at(error, "message", NULL, NULL);

            if (cases[i].status == 401
                ? strcmp(message, cases[i].message)
                : !strstr(message, cases[i].message)) {
                fail_msg("case %zu (%s): message '%s'", i, cases[i].what,
                         message);
            }
        }
        if (cases[i].status == 401) {
            AUTOFREE char *www = http_result_header(&r, "WWW-Authenticate");
            assert_non_null(www);
            assert_contains(www, "Keystone uri=");
        }
        assert_null(http_result_header(&r, "X-Subject-Token"));
        http_result_destroy(&r);
    }

    /* Refusals of the compute API are keystonemiddleware's 401. */
    assert_int_equal(whoami_status("garbage"), 401);
    assert_int_equal(whoami_status(""), 401);
}

static void
test_show_token(void **state)
{
    AUTOFREE char *alice = issue_token("alice", "alice-pw-1", "demo", NULL);
    AUTOFREE char *bob = issue_token("bob", "bob pw 2", "demo", NULL);
    AUTOFREE char *root = issue_token("root", "root-pw", "demo", NULL);
    const struct {
        const char *what;
        const char *method;
        const char *path;
        const char *auth;
        const char *subject;
        int status;
    } cases[] = {
        { "own token", "GET", "/v3/auth/tokens", alice, alice, 200 },
        { "own token, no catalog", "GET", "/v3/auth/tokens?nocatalog",
          alice, alice, 200 },
        { "HEAD", "HEAD", "/v3/auth/tokens", alice, alice, 200 },
        { "admin checks another's", "GET", "/v3/auth/tokens", root, alice,
          200 },
        { "another user's", "GET", "/v3/auth/tokens", bob, alice, 403 },
        { "invalid subject", "GET", "/v3/auth/tokens", alice, "nope", 404 },
        { "no subject", "GET", "/v3/auth/tokens", alice, NULL, 404 },
        { "invalid auth", "GET", "/v3/auth/tokens", "nope", alice, 401 },
        { "no auth", "GET", "/v3/auth/tokens", NULL, alice, 401 },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        AUTOFREE char *auth = cases[i].auth
            ? xasprintf("X-Auth-Token: %s", cases[i].auth) : NULL;
        AUTOFREE char *subject = cases[i].subject
            ? xasprintf("X-Subject-Token: %s", cases[i].subject) : NULL;
        const char *headers[3] = { NULL };
        size_t n = 0;
        struct http_result r;

        if (auth) {
            headers[n++] = auth;
        }
        if (subject) {
            headers[n++] = subject;
        }
        http_call(cases[i].method, cases[i].path, headers, NULL, &r);
        if (r.status != cases[i].status) {
            fail_msg("case %zu (%s): %d %s", i, cases[i].what, r.status,
                     r.body);
        }
        if (r.status == 200 && !strcmp(cases[i].method, "GET")) {
            assert_string_equal(json_str_at(r.json, "token", "user",
                                            "name"), "alice");
            assert_true(!json_at(r.json, "token", "catalog", NULL)
                        == !!strstr(cases[i].path, "nocatalog"));
            AUTOFREE char *echo = http_result_header(&r, "X-Subject-Token");
            assert_string_equal(echo, alice);
        } else if (r.status >= 400 && !strcmp(cases[i].method, "GET")) {
            assert_int_equal(json_object_get_int(json_at(r.json, "error",
                                                         "code", NULL)),
                             cases[i].status);
        }
        http_result_destroy(&r);
    }
}

static void
test_version_document(void **state)
{
    static const char *const paths[] = { "/v3", "/v3/" };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
        struct http_result r;
        AUTOFREE char *self = xasprintf("http://127.0.0.1:%d/v3/", t.port);
        struct json_object *links, *media;

        http_call("GET", paths[i], NULL, NULL, &r);
        assert_int_equal(r.status, 200);
        assert_string_equal(json_str_at(r.json, "version", "id", NULL),
                            "v3.14");
        assert_string_equal(json_str_at(r.json, "version", "status", NULL),
                            "stable");
        links = json_at(r.json, "version", "links", NULL);
        assert_string_equal(json_str_at(json_object_array_get_idx(links, 0),
                                        "href", NULL, NULL), self);
        media = json_at(r.json, "version", "media-types", NULL);
        assert_string_equal(json_str_at(json_object_array_get_idx(media, 0),
                                        "type", NULL, NULL),
                            "application/vnd.openstack.identity-v3+json");
        http_result_destroy(&r);
    }
}

/* GET 'path' with 'token' (NULL: none); stores the response in '*r'. */
static void
get_with(const char *token, const char *path, struct http_result *r)
{
    AUTOFREE char *auth = token ? xasprintf("X-Auth-Token: %s", token)
                                : NULL;
    const char *headers[] = { auth, NULL };

    http_call("GET", path, headers, NULL, r);
}

/* The id of project 'name', looked up as admin 'token' with ?name=. */
static char *
project_id_by_name(const char *token, const char *name)
{
    AUTOFREE char *path = xasprintf("/v3/projects?name=%s", name);
    struct http_result r;
    struct json_object *list;
    char *id;

    get_with(token, path, &r);
    assert_int_equal(r.status, 200);
    list = json_at(r.json, "projects", NULL);
    assert_int_equal(json_object_array_length(list), 1);
    assert_string_equal(json_str_at(json_object_array_get_idx(list, 0),
                                    "name", NULL, NULL), name);
    id = xstrdup(json_str_at(json_object_array_get_idx(list, 0), "id", NULL,
                             NULL));
    http_result_destroy(&r);
    return id;
}

/* GET /v3/projects and /v3/projects/{id}: Keystone's shapes and
 * policy. */
static void
test_projects(void **state)
{
    AUTOFREE char *root = issue_token("root", "root-pw", "demo", NULL);
    AUTOFREE char *alice = issue_token("alice", "alice-pw-1", "demo", NULL);
    AUTOFREE char *bob = issue_token("bob", "bob pw 2", "demo", NULL);
    AUTOFREE char *demo = project_id_by_name(root, "demo");
    AUTOFREE char *other = project_id_by_name(root, "other");
    AUTOFREE char *demo_path = xasprintf("/v3/projects/%s", demo);
    AUTOFREE char *other_path = xasprintf("/v3/projects/%s", other);
    AUTOFREE char *demo_self = xasprintf("http://127.0.0.1:%d/v3/projects/%s",
                                         t.port, demo);
    AUTOFREE char *list_self = xasprintf("http://127.0.0.1:%d/v3/projects",
                                         t.port);
    struct http_result r;
    struct json_object *list, *p;
    bool seen_demo = false, seen_other = false, seen_tmp = false;

    (void) state;
    /* An admin lists them all, in Keystone's shape. */
    get_with(root, "/v3/projects", &r);
    assert_int_equal(r.status, 200);
    list = json_at(r.json, "projects", NULL);
    assert_true(json_object_is_type(list, json_type_array));
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        const char *name;

        p = json_object_array_get_idx(list, i);
        name = json_str_at(p, "name", NULL, NULL);
        seen_demo |= !strcmp(name, "demo");
        seen_other |= !strcmp(name, "other");
        seen_tmp |= !strcmp(name, "tmp");
        assert_string_equal(json_str_at(p, "domain_id", NULL, NULL),
                            "default");
        assert_string_equal(json_str_at(p, "parent_id", NULL, NULL),
                            "default");
        assert_true(json_object_is_type(json_at(p, "enabled", NULL),
                                        json_type_boolean));
        assert_false(json_object_get_boolean(json_at(p, "is_domain",
                                                     NULL)));
        assert_non_null(json_str_at(p, "description", NULL, NULL));
        assert_non_null(strstr(json_str_at(p, "links", "self", NULL),
                               json_str_at(p, "id", NULL, NULL)));
    }
    assert_true(seen_demo && seen_other && seen_tmp);
    assert_string_equal(json_str_at(r.json, "links", "self", NULL),
                        list_self);
    assert_non_null(json_at(r.json, "links", NULL));
    assert_true(json_object_object_get_ex(json_at(r.json, "links", NULL),
                                          "next", NULL));
    assert_null(json_at(r.json, "links", "next", NULL));
    assert_null(json_at(r.json, "links", "previous", NULL));
    http_result_destroy(&r);

    /* Filters. */
    get_with(root, "/v3/projects?name=nope", &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_object_array_length(json_at(r.json, "projects",
                                                      NULL)), 0);
    http_result_destroy(&r);
    get_with(root, "/v3/projects?domain_id=elsewhere", &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_object_array_length(json_at(r.json, "projects",
                                                      NULL)), 0);
    http_result_destroy(&r);
    get_with(root, "/v3/projects?name=demo&domain_id=default&enabled=true",
             &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_object_array_length(json_at(r.json, "projects",
                                                      NULL)), 1);
    http_result_destroy(&r);

    /* One, by id. */
    get_with(root, demo_path, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_str_at(r.json, "project", "name", NULL),
                        "demo");
    assert_string_equal(json_str_at(r.json, "project", "id", NULL), demo);
    assert_string_equal(json_str_at(r.json, "project", "description",
                                    NULL), "Demo project");
    assert_string_equal(json_str_at(r.json, "project", "links", "self"),
                        demo_self);
    http_result_destroy(&r);
    /* A name is no id (the CLI then lists with ?name=). */
    get_with(root, "/v3/projects/demo", &r);
    assert_int_equal(r.status, 404);
    assert_int_equal(json_object_get_int(json_at(r.json, "error", "code",
                                                 NULL)), 404);
    assert_string_equal(json_str_at(r.json, "error", "message", NULL),
                        "Could not find project: demo.");
    http_result_destroy(&r);

    /* Others: no list; a project of theirs, not another's. */
    get_with(alice, "/v3/projects", &r);
    assert_int_equal(r.status, 403);
    assert_non_null(strstr(json_str_at(r.json, "error", "message", NULL),
                           "identity:list_projects"));
    http_result_destroy(&r);
    get_with(alice, "/v3/projects?name=demo", &r);
    assert_int_equal(r.status, 403);
    http_result_destroy(&r);
    get_with(alice, demo_path, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_str_at(r.json, "project", "name", NULL),
                        "demo");
    http_result_destroy(&r);
    get_with(alice, other_path, &r);
    assert_int_equal(r.status, 403);
    assert_non_null(strstr(json_str_at(r.json, "error", "message", NULL),
                           "identity:get_project"));
    http_result_destroy(&r);
    get_with(alice, "/v3/projects/nope", &r);
    assert_int_equal(r.status, 403);
    http_result_destroy(&r);
    /* bob's token is on demo, and he has a role on 'other'. */
    get_with(bob, other_path, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_str_at(r.json, "project", "name", NULL),
                        "other");
    http_result_destroy(&r);
    get_with(NULL, "/v3/projects", &r);
    assert_int_equal(r.status, 401);
    http_result_destroy(&r);
}

static void
manage_ok(const char *const *args)
{
    manage_expect(args, NULL, 0, NULL, NULL);
}

static void
test_revocation(void **state)
{
    AUTOFREE char *alice1 = issue_token("alice", "alice-pw-1", "demo", NULL);
    AUTOFREE char *alice2 = NULL;
    AUTOFREE char *alice3 = NULL;
    AUTOFREE char *bob = issue_token("bob", "bob pw 2", "other", NULL);
    AUTOFREE char *dave = issue_token("dave", "dave-pw", "tmp", NULL);
    AUTOFREE char *erin = issue_token("erin", "erin-pw", "demo", NULL);
    struct identity_cache_stats before, after;
    AUTOFREE char *old_credentials = auth_body("name", "alice",
                                               "alice-pw-1", NULL);
    struct http_result r;

    (void) state;
    assert_int_equal(validate_kind(alice1), -1);
    assert_int_equal(whoami_status(alice1), 200);

    /* Disable: the token dies (the cache is flushed rather than waited
     * for), and so does the password. */
    manage_ok((const char *const[]) { "user", "disable", "alice", NULL });
    identity_service_flush_cache(t.service);
    assert_int_equal(validate_kind(alice1), ERROR_UNAUTHORIZED);
    assert_int_equal(whoami_status(alice1), 401);
    http_call("POST", "/v3/auth/tokens", NULL, old_credentials, &r);
    assert_int_equal(r.status, 401);
    http_result_destroy(&r);

    /* Enable: a new token works at once, though the cache still holds
     * the disabled state; old tokens stay dead. */
    manage_ok((const char *const[]) { "user", "enable", "alice", NULL });
    identity_service_get_stats(t.service, &before);
    alice2 = issue_token("alice", "alice-pw-1", "demo", NULL);
    assert_int_equal(validate_kind(alice2), -1);
    identity_service_get_stats(t.service, &after);
    assert_int_equal(after.n_rechecks, before.n_rechecks + 1);
    assert_int_equal(whoami_status(alice2), 200);
    assert_int_equal(validate_kind(alice1), ERROR_UNAUTHORIZED);

    /* Repeated validations are served by the cache. */
    identity_service_get_stats(t.service, &before);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(validate_kind(alice2), -1);
    }
    identity_service_get_stats(t.service, &after);
    assert_int_equal(after.n_hits - before.n_hits, 10);
    assert_int_equal(after.n_misses, before.n_misses);

    /* Password change: old tokens and the old password die. */
    manage_expect((const char *const[]) { "user", "set-password", "alice",
                                          "--password-stdin", NULL },
                  "alice-pw-2\n", 0, "Changed the password of user 'alice'",
                  NULL);
    identity_service_flush_cache(t.service);
    assert_int_equal(validate_kind(alice2), ERROR_UNAUTHORIZED);
    assert_int_equal(whoami_status(alice2), 401);
    http_call("POST", "/v3/auth/tokens", NULL, old_credentials, &r);
    assert_int_equal(r.status, 401);
    http_result_destroy(&r);
    alice3 = issue_token("alice", "alice-pw-2", "demo", NULL);
    assert_int_equal(whoami_status(alice3), 200);

    /* Role removal. */
    assert_int_equal(whoami_status(bob), 200);
    manage_ok((const char *const[]) { "role", "remove", "--user", "bob",
                                      "--project", "other", "member",
                                      NULL });
    identity_service_flush_cache(t.service);
    assert_int_equal(whoami_status(bob), 401);

    /* Project deletion. */
    assert_int_equal(whoami_status(dave), 200);
    manage_ok((const char *const[]) { "project", "delete", "tmp", NULL });
    identity_service_flush_cache(t.service);
    assert_int_equal(whoami_status(dave), 401);

    /* User deletion. */
    assert_int_equal(whoami_status(erin), 200);
    manage_ok((const char *const[]) { "user", "delete", "erin", NULL });
    identity_service_flush_cache(t.service);
    assert_int_equal(whoami_status(erin), 401);
    AUTOFREE char *erin_body = auth_body("name", "erin", "erin-pw", NULL);
    http_call("POST", "/v3/auth/tokens", NULL, erin_body, &r);
    assert_int_equal(r.status, 401);
    http_result_destroy(&r);

    /* Nothing revoked alice3 meanwhile. */
    assert_int_equal(whoami_status(alice3), 200);
}

struct validate_thread {
    const char *token;
    int n;
    int n_ok;
};

static void *
validate_thread_main(void *arg_)
{
    struct validate_thread *arg = arg_;

    for (int i = 0; i < arg->n; i++) {
        struct http_auth auth;
        struct error *error;

        memset(&auth, 0, sizeof auth);
        error = identity_service_validate(t.service, arg->token, true,
                                          &auth);
        if (!error && auth.project_id) {
            arg->n_ok++;
        }
        error_free(error);
        http_auth_destroy(&auth);
        if (i % 1000 == 0) {
            /* Some misses too, so that the threads' connections work. */
            identity_service_flush_cache(t.service);
        }
    }
    return NULL;
}

static void
test_concurrency_and_rates(void **state)
{
    AUTOFREE char *token = issue_token("alice", "alice-pw-2", "demo", NULL);
    struct validate_thread args[TEST_THREADS];
    pthread_t threads[TEST_THREADS];
    int64_t start, elapsed;

    (void) state;
    start = time_monotonic_ms();
    for (int i = 0; i < TEST_THREADS; i++) {
        args[i] = (struct validate_thread) { token, RATE_VALIDATIONS
                                                    / TEST_THREADS, 0 };
        assert_int_equal(pthread_create(&threads[i], NULL,
                                        validate_thread_main, &args[i]), 0);
    }
    for (int i = 0; i < TEST_THREADS; i++) {
        assert_int_equal(pthread_join(threads[i], NULL), 0);
        assert_int_equal(args[i].n_ok, args[i].n);
    }
    elapsed = time_monotonic_ms() - start;
    printf("# token validations, %d threads, mostly cache hits: %d in %lld "
           "ms (%.0f per second)\n", TEST_THREADS, RATE_VALIDATIONS,
           (long long) elapsed,
           elapsed > 0 ? RATE_VALIDATIONS * 1000.0 / (double) elapsed : 0.0);

    start = time_monotonic_ms();
    for (int i = 0; i < RATE_HTTP_REQUESTS; i++) {
        assert_int_equal(whoami_status(token), 200);
    }
    elapsed = time_monotonic_ms() - start;
    printf("# authenticated HTTP requests, one client, a connection each: "
           "%d in %lld ms (%.0f per second)\n", RATE_HTTP_REQUESTS,
           (long long) elapsed,
           elapsed > 0 ? RATE_HTTP_REQUESTS * 1000.0 / (double) elapsed
                       : 0.0);

    start = time_monotonic_ms();
    AUTOFREE char *again = issue_token("alice", "alice-pw-2", "demo", NULL);
    elapsed = time_monotonic_ms() - start;
    printf("# POST /v3/auth/tokens (one password verification): %lld ms\n",
           (long long) elapsed);
    fflush(stdout);
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_migration),
        cmocka_unit_test(test_manage_commands),
        cmocka_unit_test(test_manage_listings),
        cmocka_unit_test(test_issue_token),
        cmocka_unit_test(test_unscoped_token),
        cmocka_unit_test(test_auth_failures),
        cmocka_unit_test(test_show_token),
        cmocka_unit_test(test_version_document),
        cmocka_unit_test(test_projects),
        cmocka_unit_test(test_revocation),
        cmocka_unit_test(test_concurrency_and_rates),
    };
    int rc;

    test_env_require(argc, argv, "mariadb");
    db_library_init();
    rc = cmocka_run_group_tests_name("identity", tests, group_setup,
                                     group_teardown);
    db_library_end();
    return rc;
}
