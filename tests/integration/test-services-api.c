/* test-services-api.c: os-services and os-hypervisors over HTTP.
 *
 * The group setup creates an API database and a leaf's cell database,
 * both migrated, records the tree in cell_mappings (the leaf "api!east"
 * with id 7, so its api ids are 7000000 + the leaf row id) and starts:
 *
 *   - a thread playing nova-cells of the API cell: it consumes
 *     CELLS_LOCAL_TOPIC on a vhost of its own and answers service_list,
 *     service_update and compute_node_list with the leaf's own answers
 *     (child-cell/cells-queries.h) on the cell database, adding a cell
 *     "api!west" that never answers to the lists' "missing";
 *   - two HTTP servers with the services and hypervisors routes, one
 *     whose compute API reaches that nova-cells through a cells client,
 *     one without nova-cells;
 *   - a token validator that knows two tokens, "admin-token" (admin role)
 *     and "member-token" (member role).
 *
 * Then it checks 403 for non-admins, 400 for malformed bodies and
 * updates Nova refuses, 503 without nova-cells, and the whole shapes of
 * the lists, updates (through host_mappings and through a lookup) and
 * hypervisor views, ids included. */
#include <config.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
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
#include <unistd.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "api-cell/api-db.h"
#include "api-cell/cells-client.h"
#include "api-cell/compute-api.h"
#include "api-cell/http-request.h"
#include "api-cell/http-router.h"
#include "api-cell/http-server.h"
#include "api-cell/hypervisors-api.h"
#include "api-cell/services-api.h"
#include "cells-rpc/cells-rpcapi.h"
#include "cells-rpc/rpc-msg.h"
#include "cells-rpc/rpc-server.h"
#include "cells-rpc/rpc.h"
#include "child-cell/cell-db.h"
#include "child-cell/cells-queries.h"
#include "shared/cleanup.h"
#include "shared/db-migrate.h"
#include "shared/db.h"
#include "shared/error.h"
#include "shared/json-util.h"
#include "shared/poll-loop.h"
#include "shared/xalloc.h"
#include "tests/integration/test-env.h"

#define TEST_VHOST "servicesapi"
#define TEST_LEAF "api!east"
#define TEST_LEAF_ID 7
#define TEST_MUTE_LEAF "api!west"
#define TEST_MAX_RESPONSE_SIZE (1024 * 1024)

static struct {
    char *api_database;
    char *cell_database;
    char *rabbit_url;
    struct api_db *api_db;
    struct cells_client *cells;
    struct compute_api_config config;
    struct compute_api compute;         /* with nova-cells */
    struct compute_api compute_alone;   /* without */
    struct http_router *router;
    struct http_router *router_alone;
    struct http_server *server;
    struct http_server *server_alone;
    int port;
    int port_alone;
    /* Leaf row ids. */
    int64_t cmp1_service_id;
    int64_t cmp1_node_id;
} t;

/* ---- Helpers --------------------------------------------------------- */

static void
check(struct error *error, const char *what)
{
    if (error) {
        fail_msg("%s: %s", what, error_message(error));
    }
}

static char *
db_url(const char *name)
{
    return xasprintf("%s%s", test_env_get("NOVA_TEST_MYSQL_ADMIN_URL"),
                     name ? name : "");
}

static struct db *
open_db(const char *name)
{
    AUTOFREE char *url = db_url(name);
    struct db *db = NULL;

    check(db_open(url, &db), url);
    return db;
}

static void
create_database(const char *name, enum db_schema schema)
{
    CLEANUP(db_closep) struct db *admin = open_db(NULL);
    CLEANUP(db_closep) struct db *db = NULL;
    AUTOFREE char *drop = xasprintf("DROP DATABASE IF EXISTS %s", name);
    AUTOFREE char *create = xasprintf("CREATE DATABASE %s CHARACTER SET "
                                      "utf8mb4", name);

    check(db_exec_once(admin, drop, DB_NO_PARAMS, NULL), drop);
    check(db_exec_once(admin, create, DB_NO_PARAMS, NULL), create);
    db = open_db(name);
    check(db_migrate(db, schema, NULL, NULL), "migrate");
}

static void
drop_database(const char *name)
{
    CLEANUP(db_closep) struct db *admin = open_db(NULL);
    AUTOFREE char *drop = xasprintf("DROP DATABASE IF EXISTS %s", name);

    check(db_exec_once(admin, drop, DB_NO_PARAMS, NULL), drop);
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

/* Sends one request to the server on 'port' with token 'token' (NULL:
 * none) and 'body' (may be NULL), and reads the whole response. */
static void
http_call(int port, const char *method, const char *path, const char *token,
          const char *body, struct http_result *ret)
{
    struct sockaddr_in addr = { .sin_family = AF_INET };
    AUTOFREE char *auth = token ? xasprintf("X-Auth-Token: %s\r\n", token)
                                : xstrdup("");
    AUTOFREE char *request = NULL;
    AUTOFREE char *response = xmalloc(TEST_MAX_RESPONSE_SIZE + 1);
    size_t size = 0;
    ssize_t n;
    char *split;
    int fd;

    request = xasprintf("%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                        "Connection: close\r\n%s%sContent-Length: %zu\r\n"
                        "\r\n%s", method, path, port, auth,
                        body ? "Content-Type: application/json\r\n" : "",
                        body ? strlen(body) : (size_t) 0, body ? body : "");
    addr.sin_port = htons((uint16_t) port);
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
    split = strstr(response, "\r\n\r\n");
    assert_non_null(split);
    memset(ret, 0, sizeof *ret);
    assert_int_equal(sscanf(response, "HTTP/1.1 %d", &ret->status), 1);
    ret->body = xstrdup(split + 4);
    if (*ret->body) {
        error_free(json_parse_text(ret->body, strlen(ret->body), 0, 0,
                                   &ret->json));
    }
}

/* Calls and checks the status; the caller destroys '*ret'. */
static void
expect(int port, const char *method, const char *path, const char *token,
       const char *body, int status, struct http_result *ret)
{
    http_call(port, method, path, token, body, ret);
    if (ret->status != status) {
        fail_msg("%s %s: got %d, expected %d: %s", method, path,
                 ret->status, status, ret->body);
    }
}

/* Expects a fault of 'status' whose body contains 'message'. */
static void
expect_fault(int port, const char *method, const char *path,
             const char *token, const char *body, int status,
             const char *message)
{
    struct http_result r;

    expect(port, method, path, token, body, status, &r);
    if (!strstr(r.body, message)) {
        fail_msg("%s %s: '%s' not in %s", method, path, message, r.body);
    }
    http_result_destroy(&r);
}

static struct json_object *
get(const struct json_object *obj, const char *key)
{
    struct json_object *value = NULL;

    if (!obj || !json_object_object_get_ex(obj, key, &value)) {
        fail_msg("no '%s'", key);
    }
    return value;
}

static const char *
get_str(const struct json_object *obj, const char *key)
{
    struct json_object *value = get(obj, key);

    return value ? json_object_get_string(value) : NULL;
}

static int64_t
get_int(const struct json_object *obj, const char *key)
{
    return json_object_get_int64(get(obj, key));
}

static struct json_object *
find(const struct json_object *list, const char *key, const char *value)
{
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        struct json_object *item = json_object_array_get_idx(list, i);
        const char *s = get_str(item, key);

        if (s && !strcmp(s, value)) {
            return item;
        }
    }
    fail_msg("no item with %s = %s", key, value);
    return NULL;
}

/* ---- Tokens ---------------------------------------------------------- */

static struct error *
validate(void *aux, const struct http_request *req, const char *token,
         struct http_auth *ret_auth)
{
    bool admin = !strcmp(token, "admin-token");

    (void) aux;
    (void) req;
    if (!admin && strcmp(token, "member-token")) {
        return error_new(ERROR_UNAUTHORIZED,
                         "The request you have made requires "
                         "authentication.");
    }
    ret_auth->user_id = xstrdup(admin ? "admin-user" : "member-user");
    ret_auth->project_id = xstrdup("project-1");
    http_auth_add_role(ret_auth, admin ? "admin" : "member");
    ret_auth->is_admin = admin;
    return NULL;
}

/* ---- nova-cells ------------------------------------------------------ */

struct fake_cells {
    pthread_t thread;
    int stop_pipe[2];
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool ready;
    char *start_error;
    struct db *db;                      /* the leaf's, server thread */
};

static struct fake_cells *fake;

/* Adds the mute cell to the "missing" of a list result. */
static void
add_missing(struct json_object *result)
{
    json_object_array_add(get(result, "missing"),
                          json_object_new_string(TEST_MUTE_LEAF));
}

static struct error *
handle_service_list(struct rpc_request *req, void *aux,
                    struct json_object **ret_result)
{
    struct fake_cells *f = aux;
    struct error *error;

    error = cells_query_services(f->db, TEST_LEAF, rpc_request_msg(req)->args,
                                 60, ret_result);
    if (!error) {
        add_missing(*ret_result);
    }
    return error;
}

static struct error *
handle_service_update(struct rpc_request *req, void *aux,
                      struct json_object **ret_result)
{
    struct fake_cells *f = aux;
    const struct json_object *args = rpc_request_msg(req)->args;
    const char *cell_path = json_object_get_string(
        json_object_object_get(args, "cell_path"));

    if (!cell_path || strcmp(cell_path, TEST_LEAF)) {
        return error_new(ERROR_NOT_FOUND, "No cell %s.",
                         cell_path ? cell_path : "(null)");
    }
    return cells_query_service_update(f->db, TEST_LEAF, args, 60,
                                      ret_result);
}

static struct error *
handle_compute_node_list(struct rpc_request *req, void *aux,
                         struct json_object **ret_result)
{
    struct fake_cells *f = aux;
    struct error *error;

    error = cells_query_compute_nodes(f->db, TEST_LEAF,
                                      rpc_request_msg(req)->args, 60,
                                      ret_result);
    if (!error) {
        add_missing(*ret_result);
    }
    return error;
}

static const struct rpc_method fake_methods[] = {
    { CELLS_SERVICE_LIST, handle_service_list, NULL },
    { CELLS_SERVICE_UPDATE, handle_service_update, NULL },
    { CELLS_COMPUTE_NODE_LIST, handle_compute_node_list, NULL },
};

static void
fake_set_ready(struct fake_cells *f, char *error)
{
    pthread_mutex_lock(&f->lock);
    f->ready = true;
    f->start_error = error;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->lock);
}

static void *
fake_main(void *f_)
{
    struct fake_cells *f = f_;
    struct rpc_server_options opts = {
        .topic = CELLS_LOCAL_TOPIC,
        .version = CELLS_RPC_VERSION,
        .methods = fake_methods,
        .n_methods = ARRAY_SIZE(fake_methods),
        .aux = f,
    };
    struct rpc_conn_options copts = { .name = "test-nova-cells" };
    struct rpc_conn *conn = NULL;
    struct rpc_server *rpc_server = NULL;
    AUTOFREE char *url = db_url(t.cell_database);
    struct error *error;

    error = db_open(url, &f->db);
    if (!error) {
        error = rpc_conn_open(t.rabbit_url, &copts, &conn);
    }
    if (!error) {
        error = rpc_server_new(conn, &opts, &rpc_server);
    }
    if (error) {
        fake_set_ready(f, xstrdup(error_message(error)));
        error_free(error);
        rpc_conn_free(conn);
        db_close(f->db);
        return NULL;
    }
    fake_set_ready(f, NULL);
    for (;;) {
        struct pollfd pfd = { f->stop_pipe[0], POLLIN, 0 };

        rpc_conn_run(conn);
        if (poll(&pfd, 1, 0) > 0) {
            break;
        }
        rpc_conn_wait(conn);
        poll_fd_wait(f->stop_pipe[0], POLLIN);
        poll_block();
    }
    rpc_server_free(rpc_server);
    rpc_conn_free(conn);
    db_close(f->db);
    return NULL;
}

static struct fake_cells *
fake_start(void)
{
    struct fake_cells *f = xzalloc(sizeof *f);

    assert_int_equal(pipe(f->stop_pipe), 0);
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->cond, NULL);
    assert_int_equal(pthread_create(&f->thread, NULL, fake_main, f), 0);
    pthread_mutex_lock(&f->lock);
    while (!f->ready) {
        pthread_cond_wait(&f->cond, &f->lock);
    }
    pthread_mutex_unlock(&f->lock);
    if (f->start_error) {
        fail_msg("nova-cells did not start: %s", f->start_error);
    }
    return f;
}

static void
fake_stop(struct fake_cells *f)
{
    assert_int_equal(write(f->stop_pipe[1], "x", 1), 1);
    pthread_join(f->thread, NULL);
    close(f->stop_pipe[0]);
    close(f->stop_pipe[1]);
    pthread_mutex_destroy(&f->lock);
    pthread_cond_destroy(&f->cond);
    free(f->start_error);
    free(f);
}

/* ---- Setup ----------------------------------------------------------- */

static void
fill_databases(void)
{
    CLEANUP(db_closep) struct db *api = open_db(t.api_database);
    CLEANUP(db_closep) struct db *cell = open_db(t.cell_database);
    CLEANUP(cell_db_service_freep) struct cell_db_service *service = NULL;
    CLEANUP(cell_db_node_freep) struct cell_db_node *node = NULL;
    struct cell_db_node_inventory inv = {
        .host = "cmp1", .node = "cmp1.example", .hypervisor_type = "QEMU",
        .hypervisor_version = 8002000, .cpu_info = "{\"arch\": \"x86_64\"}",
        .vcpus = 8, .memory_mb = 16384, .local_gb = 100, .running_vms = 2,
    };
    bool claimed = false;

    check(db_exec(api, "INSERT INTO cell_mappings (id, uuid, name, path,"
                  " parent_path) VALUES (1, UUID(), 'api', 'api', NULL),"
                  " (?, UUID(), 'east', ?, 'api'),"
                  " (9, UUID(), 'west', ?, 'api')",
                  DB_PARAMS(DB_INT(TEST_LEAF_ID), DB_STR(TEST_LEAF),
                            DB_STR(TEST_MUTE_LEAF)), NULL), "cells");
    check(db_exec(api, "INSERT INTO host_mappings (host, cell_path)"
                  " VALUES ('cmp2', ?)", DB_PARAMS(DB_STR(TEST_LEAF)),
                  NULL), "host mapping");

    check(cell_db_service_heartbeat(cell, "cmp1", "nova-compute", "compute",
                                    1, &service), "cmp1");
    t.cmp1_service_id = service->id;
    check(cell_db_service_heartbeat(cell, "cmp2", "nova-compute", "compute",
                                    1, NULL), "cmp2");
    check(cell_db_service_heartbeat(cell, "ctl1", "nova-conductor",
                                    "conductor", 1, NULL), "ctl1");
    check(cell_db_node_upsert(cell, &inv, &node), "node cmp1");
    t.cmp1_node_id = node->id;
    check(cell_db_node_claim(cell, "cmp1", "cmp1.example", 2, 2048, 20,
                             &claimed), "claim");
    assert_true(claimed);
    inv.host = "cmp2";
    inv.node = "cmp2.example";
    inv.running_vms = 0;
    check(cell_db_node_upsert(cell, &inv, NULL), "node cmp2");
}

static void
start_server(struct compute_api *compute, struct http_router **ret_router,
             struct http_server **ret_server, int *ret_port)
{
    struct http_server_config cfg;

    *ret_router = http_router_new();
    services_api_register(*ret_router, compute);
    hypervisors_api_register(*ret_router, compute);
    http_server_config_init(&cfg);
    cfg.port = 0;
    cfg.n_threads = 2;
    check(http_server_new(&cfg, *ret_router, ret_server), "server");
    http_server_set_auth_validator(*ret_server, validate, NULL);
    check(http_server_start(*ret_server), "start");
    *ret_port = http_server_port(*ret_server);
}

static int
group_setup(void **state)
{
    AUTOFREE char *api_url = NULL;

    (void) state;
    t.api_database = xasprintf("test_services_api_%ld", (long) getpid());
    t.cell_database = xasprintf("test_services_cell_%ld", (long) getpid());
    create_database(t.api_database, DB_SCHEMA_API);
    create_database(t.cell_database, DB_SCHEMA_CELL);
    fill_databases();

    assert_int_equal(test_env_add_cell(TEST_VHOST), 0);
    t.rabbit_url = xasprintf("rabbit://%s:%spw@127.0.0.1:%d/%s", TEST_VHOST,
                             TEST_VHOST,
                             test_env_get_port("NOVA_TEST_RABBIT_PORT"),
                             TEST_VHOST);
    fake = fake_start();

    api_url = db_url(t.api_database);
    check(api_db_new(api_url, &t.api_db), "api db");
    check(cells_client_new(t.rabbit_url, &t.cells), "cells client");
    compute_api_config_init(&t.config);
    t.compute.config = &t.config;
    t.compute.db = t.api_db;
    t.compute.cells = t.cells;
    t.compute_alone = t.compute;
    t.compute_alone.cells = NULL;
    start_server(&t.compute, &t.router, &t.server, &t.port);
    start_server(&t.compute_alone, &t.router_alone, &t.server_alone,
                 &t.port_alone);
    return 0;
}

static int
group_teardown(void **state)
{
    (void) state;
    http_server_free(t.server);
    http_server_free(t.server_alone);
    http_router_free(t.router);
    http_router_free(t.router_alone);
    cells_client_free(t.cells);
    api_db_free(t.api_db);
    fake_stop(fake);
    drop_database(t.api_database);
    drop_database(t.cell_database);
    free(t.api_database);
    free(t.cell_database);
    free(t.rabbit_url);
    return 0;
}

/* ---- Tests ----------------------------------------------------------- */

static void
test_forbidden(void **state)
{
    static const struct {
        const char *method;
        const char *path;
        const char *rule;
    } cases[] = {
        { "GET", "/v2.1/os-services", "os-services:list" },
        { "PUT", "/v2.1/os-services/enable", "os-services:update" },
        { "PUT", "/v2.1/os-services/disable", "os-services:update" },
        { "GET", "/v2.1/os-hypervisors", "os-hypervisors:list" },
        { "GET", "/v2.1/os-hypervisors/detail",
          "os-hypervisors:list-detail" },
        { "GET", "/v2.1/os-hypervisors/statistics",
          "os-hypervisors:statistics" },
        { "GET", "/v2.1/os-hypervisors/7000001", "os-hypervisors:show" },
    };
    const char *body = "{\"host\": \"cmp1\", \"binary\": \"nova-compute\"}";

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        AUTOFREE char *message = xasprintf(
            "Policy doesn't allow os_compute_api:%s to be performed.",
            cases[i].rule);
        int ports[] = { t.port, t.port_alone };

        for (size_t p = 0; p < ARRAY_SIZE(ports); p++) {
            expect_fault(ports[p], cases[i].method, cases[i].path,
                         "member-token",
                         !strcmp(cases[i].method, "PUT") ? body : NULL,
                         403, message);
        }
    }
    expect_fault(t.port, "GET", "/v2.1/os-services", NULL, NULL, 401, "");
}

static void
test_bad_bodies(void **state)
{
    static const struct {
        const char *path;
        const char *body;
        int status;
        const char *message;
    } cases[] = {
        { "/v2.1/os-services/enable", NULL, 400, "body" },
        { "/v2.1/os-services/enable", "[]", 400, "badRequest" },
        { "/v2.1/os-services/enable", "{\"host\": \"cmp1\"}", 400,
          "binary" },
        { "/v2.1/os-services/enable", "{\"binary\": \"nova-compute\"}", 400,
          "host" },
        { "/v2.1/os-services/enable", "{\"host\": 5, \"binary\":"
          " \"nova-compute\"}", 400, "host" },
        { "/v2.1/os-services/enable", "{\"host\": \"cmp1\", \"binary\":"
          " \"nova-compute\", \"foo\": 1}", 400,
          "Additional properties are not allowed" },
        { "/v2.1/os-services/disable", "{\"host\": \"ctl1\", \"binary\":"
          " \"nova-conductor\"}", 400,
          "Updating a nova-conductor service is not supported. Only "
          "nova-compute services can be updated." },
        { "/v2.1/os-services/disable-log-reason", "{\"host\": \"cmp1\","
          " \"binary\": \"nova-compute\"}", 400,
          "Missing disabled reason field" },
        { "/v2.1/os-services/disable-log-reason", "{\"host\": \"cmp1\","
          " \"binary\": \"nova-compute\", \"disabled_reason\": \"\"}", 400,
          "disabled_reason" },
        { "/v2.1/os-services/force-down", "{\"host\": \"cmp1\","
          " \"binary\": \"nova-compute\"}", 404, "Unknown action" },
        { "/v2.1/os-services/frobnicate", "{\"host\": \"cmp1\","
          " \"binary\": \"nova-compute\"}", 404, "Unknown action" },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        expect_fault(t.port, "PUT", cases[i].path, "admin-token",
                     cases[i].body, cases[i].status, cases[i].message);
        expect_fault(t.port_alone, "PUT", cases[i].path, "admin-token",
                     cases[i].body, cases[i].status, cases[i].message);
    }
    expect_fault(t.port, "GET", "/v2.1/os-hypervisors/abc", "admin-token",
                 NULL, 404, "Hypervisor with ID abc could not be found.");
    expect_fault(t.port, "GET", "/v2.1/os-hypervisors/42", "admin-token",
                 NULL, 404, "Hypervisor with ID 42 could not be found.");
}

static void
test_no_cells(void **state)
{
    static const char *const gets[] = {
        "/v2.1/os-services", "/v2.1/os-hypervisors",
        "/v2.1/os-hypervisors/detail", "/v2.1/os-hypervisors/statistics",
        "/v2.1/os-hypervisors/7000001",
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(gets); i++) {
        expect_fault(t.port_alone, "GET", gets[i], "admin-token", NULL, 503,
                     "nova-cells");
    }
    expect_fault(t.port_alone, "PUT", "/v2.1/os-services/disable",
                 "admin-token",
                 "{\"host\": \"cmp1\", \"binary\": \"nova-compute\"}", 503,
                 "nova-cells");
}

static void
test_service_list(void **state)
{
    struct http_result r;
    struct json_object *list;
    struct json_object *s;

    (void) state;
    expect(t.port, "GET", "/v2.1/os-services", "admin-token", NULL, 200,
           &r);
    list = get(r.json, "services");
    assert_int_equal(json_object_array_length(list), 3);
    s = find(list, "host", "cmp1");
    assert_int_equal(json_object_object_length(s), 8);
    assert_int_equal(get_int(s, "id"),
                     TEST_LEAF_ID * 1000000 + t.cmp1_service_id);
    assert_string_equal(get_str(s, "binary"), "nova-compute");
    assert_string_equal(get_str(s, "zone"), "nova");
    assert_string_equal(get_str(s, "status"), "enabled");
    assert_string_equal(get_str(s, "state"), "up");
    assert_null(get(s, "disabled_reason"));
    assert_int_equal(strlen(get_str(s, "updated_at")), 26);
    s = find(list, "host", "ctl1");
    assert_string_equal(get_str(s, "zone"), "internal");
    assert_string_equal(get_str(s, "binary"), "nova-conductor");
    http_result_destroy(&r);

    /* Filters. */
    expect(t.port, "GET", "/v2.1/os-services?binary=nova-compute",
           "admin-token", NULL, 200, &r);
    assert_int_equal(json_object_array_length(get(r.json, "services")), 2);
    http_result_destroy(&r);
    expect(t.port, "GET", "/v2.1/os-services?host=ctl1", "admin-token",
           NULL, 200, &r);
    list = get(r.json, "services");
    assert_int_equal(json_object_array_length(list), 1);
    assert_string_equal(get_str(json_object_array_get_idx(list, 0), "host"),
                        "ctl1");
    http_result_destroy(&r);
    expect(t.port, "GET", "/v2.1/os-services?host=cmp1&binary=nova-compute",
           "admin-token", NULL, 200, &r);
    assert_int_equal(json_object_array_length(get(r.json, "services")), 1);
    http_result_destroy(&r);
    expect(t.port, "GET", "/v2.1/os-services?host=nowhere", "admin-token",
           NULL, 200, &r);
    assert_int_equal(json_object_array_length(get(r.json, "services")), 0);
    http_result_destroy(&r);
}

static void
test_service_update(void **state)
{
    struct http_result r;
    struct json_object *s;

    (void) state;
    /* cmp1 has no host mapping: found with a service_list first. */
    expect(t.port, "PUT", "/v2.1/os-services/disable-log-reason",
           "admin-token", "{\"host\": \"cmp1\", \"binary\": "
           "\"nova-compute\", \"disabled_reason\": \"maintenance\"}", 200,
           &r);
    s = get(r.json, "service");
    assert_int_equal(json_object_object_length(s), 4);
    assert_string_equal(get_str(s, "host"), "cmp1");
    assert_string_equal(get_str(s, "binary"), "nova-compute");
    assert_string_equal(get_str(s, "status"), "disabled");
    assert_string_equal(get_str(s, "disabled_reason"), "maintenance");
    http_result_destroy(&r);

    expect(t.port, "GET", "/v2.1/os-services?host=cmp1", "admin-token",
           NULL, 200, &r);
    s = json_object_array_get_idx(get(r.json, "services"), 0);
    assert_string_equal(get_str(s, "status"), "disabled");
    assert_string_equal(get_str(s, "disabled_reason"), "maintenance");
    http_result_destroy(&r);

    expect(t.port, "PUT", "/v2.1/os-services/enable", "admin-token",
           "{\"host\": \"cmp1\", \"binary\": \"nova-compute\"}", 200, &r);
    s = get(r.json, "service");
    assert_int_equal(json_object_object_length(s), 3);
    assert_string_equal(get_str(s, "status"), "enabled");
    http_result_destroy(&r);

    /* cmp2 is mapped in host_mappings: straight to its cell. */
    expect(t.port, "PUT", "/v2.1/os-services/disable", "admin-token",
           "{\"host\": \"cmp2\", \"binary\": \"nova-compute\"}", 200, &r);
    s = get(r.json, "service");
    assert_string_equal(get_str(s, "host"), "cmp2");
    assert_string_equal(get_str(s, "status"), "disabled");
    http_result_destroy(&r);
    expect(t.port, "GET", "/v2.1/os-services?host=cmp2", "admin-token",
           NULL, 200, &r);
    s = json_object_array_get_idx(get(r.json, "services"), 0);
    assert_string_equal(get_str(s, "status"), "disabled");
    assert_null(get(s, "disabled_reason"));
    http_result_destroy(&r);
    expect(t.port, "PUT", "/v2.1/os-services/enable", "admin-token",
           "{\"host\": \"cmp2\", \"binary\": \"nova-compute\"}", 200, &r);
    http_result_destroy(&r);

    /* Unknown hosts. */
    expect_fault(t.port, "PUT", "/v2.1/os-services/disable", "admin-token",
                 "{\"host\": \"nope\", \"binary\": \"nova-compute\"}", 404,
                 "Compute host nope could not be found.");
    expect_fault(t.port, "PUT", "/v2.1/os-services/disable", "admin-token",
                 "{\"host\": \"ctl1\", \"binary\": \"nova-compute\"}", 404,
                 "Service nova-compute on host ctl1 could not be found.");
}

static void
test_hypervisors(void **state)
{
    AUTOFREE char *path = NULL;
    int64_t id = TEST_LEAF_ID * 1000000 + t.cmp1_node_id;
    struct http_result r;
    struct json_object *list;
    struct json_object *h;
    struct json_object *service;

    (void) state;
    expect(t.port, "GET", "/v2.1/os-hypervisors", "admin-token", NULL, 200,
           &r);
    list = get(r.json, "hypervisors");
    assert_int_equal(json_object_array_length(list), 2);
    h = find(list, "hypervisor_hostname", "cmp1.example");
    assert_int_equal(json_object_object_length(h), 4);
    assert_int_equal(get_int(h, "id"), id);
    assert_string_equal(get_str(h, "state"), "up");
    assert_string_equal(get_str(h, "status"), "enabled");
    http_result_destroy(&r);

    expect(t.port, "GET", "/v2.1/os-hypervisors/detail", "admin-token",
           NULL, 200, &r);
    list = get(r.json, "hypervisors");
    assert_int_equal(json_object_array_length(list), 2);
    h = find(list, "hypervisor_hostname", "cmp1.example");
    assert_int_equal(json_object_object_length(h), 20);
    assert_int_equal(get_int(h, "vcpus"), 8);
    assert_int_equal(get_int(h, "vcpus_used"), 2);
    assert_int_equal(get_int(h, "memory_mb"), 16384);
    assert_int_equal(get_int(h, "memory_mb_used"), 2048);
    assert_int_equal(get_int(h, "free_ram_mb"), 16384 - 2048);
    assert_int_equal(get_int(h, "local_gb"), 100);
    assert_int_equal(get_int(h, "local_gb_used"), 20);
    assert_int_equal(get_int(h, "free_disk_gb"), 80);
    assert_int_equal(get_int(h, "disk_available_least"), 80);
    assert_int_equal(get_int(h, "current_workload"), 0);
    assert_int_equal(get_int(h, "running_vms"), 2);
    assert_string_equal(get_str(h, "hypervisor_type"), "QEMU");
    assert_int_equal(get_int(h, "hypervisor_version"), 8002000);
    assert_string_equal(get_str(h, "cpu_info"), "{\"arch\": \"x86_64\"}");
    assert_null(get(h, "host_ip"));
    service = get(h, "service");
    assert_string_equal(get_str(service, "host"), "cmp1");
    assert_int_equal(get_int(service, "id"),
                     TEST_LEAF_ID * 1000000 + t.cmp1_service_id);
    assert_null(get(service, "disabled_reason"));
    http_result_destroy(&r);

    path = xasprintf("/v2.1/os-hypervisors/%lld", (long long) id);
    expect(t.port, "GET", path, "admin-token", NULL, 200, &r);
    h = get(r.json, "hypervisor");
    assert_int_equal(get_int(h, "id"), id);
    assert_string_equal(get_str(h, "hypervisor_hostname"), "cmp1.example");
    assert_int_equal(json_object_object_length(h), 20);
    http_result_destroy(&r);
    free(TAKE_PTR(path));
    path = xasprintf("/v2.1/os-hypervisors/%lld", (long long) id + 1000);
    expect_fault(t.port, "GET", path, "admin-token", NULL, 404,
                 "could not be found.");

    expect(t.port, "GET", "/v2.1/os-hypervisors/statistics", "admin-token",
           NULL, 200, &r);
    h = get(r.json, "hypervisor_statistics");
    assert_int_equal(json_object_object_length(h), 12);
    assert_int_equal(get_int(h, "count"), 2);
    assert_int_equal(get_int(h, "vcpus"), 16);
    assert_int_equal(get_int(h, "vcpus_used"), 2);
    assert_int_equal(get_int(h, "memory_mb"), 32768);
    assert_int_equal(get_int(h, "memory_mb_used"), 2048);
    assert_int_equal(get_int(h, "free_ram_mb"), 32768 - 2048);
    assert_int_equal(get_int(h, "local_gb"), 200);
    assert_int_equal(get_int(h, "local_gb_used"), 20);
    assert_int_equal(get_int(h, "free_disk_gb"), 180);
    assert_int_equal(get_int(h, "disk_available_least"), 180);
    assert_int_equal(get_int(h, "running_vms"), 2);
    assert_int_equal(get_int(h, "current_workload"), 0);
    http_result_destroy(&r);

    /* A disabled service's hypervisor: shown disabled, not counted. */
    expect(t.port, "PUT", "/v2.1/os-services/disable-log-reason",
           "admin-token", "{\"host\": \"cmp2\", \"binary\": "
           "\"nova-compute\", \"disabled_reason\": \"gone\"}", 200, &r);
    http_result_destroy(&r);
    expect(t.port, "GET", "/v2.1/os-hypervisors/detail", "admin-token",
           NULL, 200, &r);
    h = find(get(r.json, "hypervisors"), "hypervisor_hostname",
             "cmp2.example");
    assert_string_equal(get_str(h, "status"), "disabled");
    assert_string_equal(get_str(get(h, "service"), "disabled_reason"),
                        "gone");
    http_result_destroy(&r);
    expect(t.port, "GET", "/v2.1/os-hypervisors/statistics", "admin-token",
           NULL, 200, &r);
    h = get(r.json, "hypervisor_statistics");
    assert_int_equal(get_int(h, "count"), 1);
    assert_int_equal(get_int(h, "vcpus"), 8);
    http_result_destroy(&r);
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forbidden),
        cmocka_unit_test(test_bad_bodies),
        cmocka_unit_test(test_no_cells),
        cmocka_unit_test(test_service_list),
        cmocka_unit_test(test_service_update),
        cmocka_unit_test(test_hypervisors),
    };
    int rc;

    test_env_require(argc, argv, "mariadb,rabbitmq");
    db_library_init();
    rc = cmocka_run_group_tests_name("services-api", tests, group_setup,
                                     group_teardown);
    db_library_end();
    return rc;
}
