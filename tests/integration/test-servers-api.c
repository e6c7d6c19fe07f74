/* test-servers-api.c: the servers resource of the compute API over HTTP,
 * against a real MariaDB and a real RabbitMQ.
 *
 * The group setup creates and migrates an API database with two flavors,
 * an image and a keypair, and starts three HTTP servers with the servers
 * routes (port 0): one whose cells client reaches a vhost where a thread
 * of this test plays nova-cells of the API cell (it records every cast on
 * CELLS_LOCAL_TOPIC and answers the calls), one without nova-cells, and
 * one whose nova-cells cannot be reached.  Tokens are "role:project:user"
 * strings that the test's validator turns into identities, so that the
 * policy matrix (admin, member, reader; projects A and B) is exercised
 * exactly as the identity service would feed it.  State coming up the
 * tree is simulated with top_view_apply_update().
 *
 * Then, in order: boot (202, the body, the Location, the build_instance
 * cast), multiple boots, validation and lookup errors, quotas, 503
 * without nova-cells and a failed cast, show across projects and roles,
 * list and detail with filters, paging, sorting and all_tenants, rename
 * (and its "update" cast down), metadata reads and writes (every error
 * shape, policy, isolation, quota, lock and state), a mute cell (503),
 * every action's state check and cast, the lock, the console output and
 * os-instance-actions (deferred calls, a cell that is down), faults, and
 * delete (of a placed server, and of one not placed yet, whose late
 * update does not bring it back). */
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
#include "api-cell/flavor-db.h"
#include "api-cell/http-server.h"
#include "api-cell/image-db.h"
#include "api-cell/keypair-db.h"
#include "api-cell/policy.h"
#include "api-cell/servers-api.h"
#include "api-cell/top-view.h"
#include "cells-rpc/cells-rpcapi.h"
#include "cells-rpc/rpc-msg.h"
#include "cells-rpc/rpc-server.h"
#include "cells-rpc/rpc.h"
#include "shared/cleanup.h"
#include "shared/db-migrate.h"
#include "shared/db.h"
#include "shared/error.h"
#include "shared/flavor.h"
#include "shared/instance.h"
#include "shared/json-util.h"
#include "shared/poll-loop.h"
#include "shared/timeutil.h"
#include "shared/uuid-util.h"
#include "shared/xalloc.h"
#include "tests/integration/test-env.h"

#define TEST_DATABASE "test_servers_api"
#define TEST_CELL "serversapi"
#define TEST_LEAF "api!leaf1"
#define TEST_DOWN_LEAF "api!down"
#define TEST_IMAGE "1c1f6a0e-8a39-4c47-9f3a-6b6f8f0f0a01"
#define TEST_MAX_RESPONSE_SIZE (1024 * 1024)
#define GUARD_MS 30000
#define MAX_CASTS 512

/* Tokens: role:project:user. */
#define ADMIN_A "admin:projA:uadmin"
#define MEMBER_A "member:projA:ua1"
#define READER_A "reader:projA:ua2"
#define MEMBER_B "member:projB:ub1"
#define ADMIN_X "admin:projX:ux"

static struct {
    char *url;
    struct db *db;                  /* the test's own connection */
    struct api_db *api_db;
    struct compute_api_config config;
    struct compute_api compute;     /* with nova-cells */
    struct compute_api bare;        /* without */
    struct compute_api broken;      /* nova-cells unreachable */
    struct compute_api_config broken_config;
    struct http_router *router, *bare_router, *broken_router;
    struct http_server *server, *bare_server, *broken_server;
    int port, bare_port, broken_port;
    char *cells_url;
} t;

static void
check(struct error *error, const char *what)
{
    if (error) {
        fail_msg("%s: %s", what, error_message(error));
    }
}

/* ---- nova-cells, played by a thread ------------------------------------- */

static struct {
    pthread_t thread;
    int stop_pipe[2];
    pthread_mutex_t lock;
    bool ready;
    char *start_error;
    /* Casts received: method and arguments as JSON text (json-c objects
     * must not cross threads). */
    char *methods[MAX_CASTS];
    char *args[MAX_CASTS];
    size_t n;
} cells;

static struct error *
cells_record(struct rpc_request *req, void *aux,
             struct json_object **ret_result)
{
    const struct rpc_msg *msg = rpc_request_msg(req);

    (void) aux;
    (void) ret_result;
    pthread_mutex_lock(&cells.lock);
    if (cells.n < MAX_CASTS) {
        cells.methods[cells.n] = xstrdup(msg->method);
        cells.args[cells.n] = json_to_string_plain(msg->args);
        cells.n++;
    }
    pthread_mutex_unlock(&cells.lock);
    return NULL;
}

static const char *
args_string(const struct json_object *args, const char *key)
{
    struct json_object *v = NULL;

    if (!json_object_object_get_ex((struct json_object *) args, key, &v)) {
        return NULL;
    }
    return json_object_get_string(v);
}

static struct error *
cells_console(struct rpc_request *req, void *aux,
              struct json_object **ret_result)
{
    const struct json_object *args = rpc_request_msg(req)->args;
    const char *cell = args_string(args, "cell_path");
    struct json_object *result;

    (void) aux;
    if (cell && !strcmp(cell, TEST_DOWN_LEAF)) {
        return error_new(ERROR_CELL_DOWN, "cell '%s' is down", cell);
    }
    result = json_object_new_object();
    json_object_object_add(result, "output", json_object_new_string(
                               "boot\x01 ok\nlogin:"));
    *ret_result = result;
    return NULL;
}

static struct json_object *
fake_action(const char *uuid, const char *request_id)
{
    struct json_object *a = json_object_new_object();

    json_object_object_add(a, "action", json_object_new_string("create"));
    json_object_object_add(a, "instance_uuid", json_object_new_string(uuid));
    json_object_object_add(a, "message", NULL);
    json_object_object_add(a, "project_id", json_object_new_string("projA"));
    json_object_object_add(a, "request_id",
                           json_object_new_string(request_id));
    json_object_object_add(a, "start_time", json_object_new_string(
                               "2026-01-01T00:00:00.000000"));
    json_object_object_add(a, "user_id", json_object_new_string("ua1"));
    json_object_object_add(a, "leaf_only", json_object_new_int(1));
    return a;
}

static struct error *
cells_action_list(struct rpc_request *req, void *aux,
                  struct json_object **ret_result)
{
    const struct json_object *args = rpc_request_msg(req)->args;
    struct json_object *result = json_object_new_object();
    struct json_object *list = json_object_new_array();

    (void) aux;
    json_object_array_add(list, fake_action(
                              args_string(args, "instance_uuid"),
                              "req-11111111-1111-1111-1111-111111111111"));
    json_object_object_add(result, "instanceActions", list);
    *ret_result = result;
    return NULL;
}

static struct error *
cells_action_get(struct rpc_request *req, void *aux,
                 struct json_object **ret_result)
{
    const struct json_object *args = rpc_request_msg(req)->args;
    const char *rid = args_string(args, "request_id");
    const char *uuid = args_string(args, "instance_uuid");
    struct json_object *action, *events, *event, *result;

    (void) aux;
    if (strcmp(rid, "req-11111111-1111-1111-1111-111111111111")) {
        return error_new(ERROR_NOT_FOUND, "Action for request_id %s on "
                         "instance %s not found", rid, uuid);
    }
    action = fake_action(uuid, rid);
    events = json_object_new_array();
    event = json_object_new_object();
    json_object_object_add(event, "event", json_object_new_string(
                               "compute_build_and_run_instance"));
    json_object_object_add(event, "start_time", json_object_new_string(
                               "2026-01-01T00:00:00.000000"));
    json_object_object_add(event, "finish_time", json_object_new_string(
                               "2026-01-01T00:00:01.000000"));
    json_object_object_add(event, "result", json_object_new_string(
                               "Success"));
    json_object_object_add(event, "traceback", NULL);
    json_object_array_add(events, event);
    json_object_object_add(action, "events", events);
    result = json_object_new_object();
    json_object_object_add(result, "instanceAction", action);
    *ret_result = result;
    return NULL;
}

static const struct rpc_method cells_methods[] = {
    { CELLS_BUILD_INSTANCE, cells_record, NULL },
    { CELLS_INSTANCE_ACTION, cells_record, NULL },
    { CELLS_GET_CONSOLE_OUTPUT, cells_console, NULL },
    { CELLS_INSTANCE_ACTION_LIST, cells_action_list, NULL },
    { CELLS_INSTANCE_ACTION_GET, cells_action_get, NULL },
};

static void *
cells_main(void *unused)
{
    struct rpc_server_options opts = {
        .topic = CELLS_LOCAL_TOPIC,
        .version = CELLS_RPC_VERSION,
        .methods = cells_methods,
        .n_methods = ARRAY_SIZE(cells_methods),
    };
    struct rpc_conn_options copts = { .name = "test-nova-cells" };
    struct rpc_conn *conn = NULL;
    struct rpc_server *server = NULL;
    struct error *error;

    (void) unused;
    error = rpc_conn_open(t.cells_url, &copts, &conn);
    if (!error) {
        error = rpc_server_new(conn, &opts, &server);
    }
    pthread_mutex_lock(&cells.lock);
    cells.ready = true;
    cells.start_error = error ? xstrdup(error_message(error)) : NULL;
    pthread_mutex_unlock(&cells.lock);
    if (error) {
        error_free(error);
        rpc_conn_free(conn);
        return NULL;
    }
    for (;;) {
        struct pollfd pfd = { cells.stop_pipe[0], POLLIN, 0 };

        rpc_conn_run(conn);
        if (poll(&pfd, 1, 0) > 0) {
            break;
        }
        rpc_conn_wait(conn);
        poll_fd_wait(cells.stop_pipe[0], POLLIN);
        poll_block();
    }
    rpc_server_free(server);
    rpc_conn_free(conn);
    return NULL;
}

/* Waits for a cast of 'method' whose args hold 'needle' (text) and
 * returns its args, parsed (the caller puts them). */
static struct json_object *
cells_wait_cast(const char *method, const char *needle)
{
    long long deadline = time_monotonic_ms() + GUARD_MS;

    for (;;) {
        char *found = NULL;

        pthread_mutex_lock(&cells.lock);
        for (size_t i = 0; i < cells.n; i++) {
            if (!strcmp(cells.methods[i], method)
                && strstr(cells.args[i], needle)) {
                found = xstrdup(cells.args[i]);
                break;
            }
        }
        pthread_mutex_unlock(&cells.lock);
        if (found) {
            struct json_object *doc = NULL;

            check(json_parse_text(found, strlen(found), 0, 0, &doc),
                  "cast args");
            free(found);
            return doc;
        }
        if (time_monotonic_ms() > deadline) {
            fail_msg("no %s cast with '%s' arrived", method, needle);
        }
        usleep(10 * 1000);
    }
}

/* The number of casts of 'method' whose args hold 'needle'. */
static size_t
cells_count(const char *method, const char *needle)
{
    size_t n = 0;

    pthread_mutex_lock(&cells.lock);
    for (size_t i = 0; i < cells.n; i++) {
        if (!strcmp(cells.methods[i], method)
            && strstr(cells.args[i], needle)) {
            n++;
        }
    }
    pthread_mutex_unlock(&cells.lock);
    return n;
}

/* ---- Tokens ------------------------------------------------------------- */

/* "role:project:user" -> the identity. */
static struct error *
test_validate(void *aux, const struct http_request *req, const char *token,
              struct http_auth *ret_auth)
{
    AUTOFREE char *copy = xstrdup(token);
    char *role = copy, *project, *user;

    (void) aux;
    (void) req;
    project = strchr(role, ':');
    user = project ? strchr(project + 1, ':') : NULL;
    if (!project || !user) {
        return error_new(ERROR_UNAUTHORIZED, "bad test token");
    }
    *project++ = '\0';
    *user++ = '\0';
    http_auth_init(ret_auth);
    ret_auth->user_id = xstrdup(user);
    ret_auth->user_name = xstrdup(user);
    ret_auth->project_id = xstrdup(project);
    ret_auth->project_name = xstrdup(project);
    http_auth_add_role(ret_auth, role);
    ret_auth->is_admin = policy_is_admin(ret_auth);
    return NULL;
}

/* ---- A small HTTP client ------------------------------------------------ */

struct http_result {
    int status;
    char *head;
    char *body;
    struct json_object *json;
};

static void
http_result_destroy(struct http_result *r)
{
    free(r->head);
    free(r->body);
    json_object_put(r->json);
    memset(r, 0, sizeof *r);
}

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

static void
http_call_port(int port, const char *method, const char *path,
               const char *token, const char *body, struct http_result *ret)
{
    struct sockaddr_in addr = { .sin_family = AF_INET };
    AUTOFREE char *request = NULL;
    AUTOFREE char *response = xmalloc(TEST_MAX_RESPONSE_SIZE + 1);
    AUTOFREE char *auth = token ? xasprintf("X-Auth-Token: %s\r\n", token)
                                : xstrdup("");
    size_t size = 0;
    ssize_t n;
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

    char *split = strstr(response, "\r\n\r\n");
    assert_non_null(split);
    memset(ret, 0, sizeof *ret);
    ret->head = xstrndup(response, (size_t) (split - response));
    ret->body = xstrdup(split + 4);
    assert_int_equal(sscanf(ret->head, "HTTP/1.1 %d", &ret->status), 1);
    if (*ret->body) {
        error_free(json_parse_text(ret->body, strlen(ret->body), 0, 0,
                                   &ret->json));
    }
}

static void
http_call(const char *method, const char *path, const char *token,
          const char *body, struct http_result *ret)
{
    http_call_port(t.port, method, path, token, body, ret);
}

/* Expects 'status' and, when 'needle' is given, a body containing it. */
static void
expect(const char *method, const char *path, const char *token,
       const char *body, int status, const char *needle)
{
    struct http_result r;

    http_call(method, path, token, body, &r);
    if (r.status != status || (needle && !strstr(r.body, needle))) {
        fail_msg("%s %s as %s: got %d %s; want %d with '%s'", method, path,
                 token, r.status, r.body, status, needle ? needle : "");
    }
    http_result_destroy(&r);
}

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
str_at(struct json_object *obj, const char *a, const char *b)
{
    struct json_object *v = json_at(obj, a, b, NULL);

    return v && json_object_is_type(v, json_type_string)
           ? json_object_get_string(v) : NULL;
}

/* Boots a server named 'name' as 'token'; returns its id. */
static char *
boot(const char *token, const char *name, const char *extra)
{
    AUTOFREE char *body = xasprintf(
        "{\"server\": {\"name\": \"%s\", \"flavorRef\": \"1\", "
        "\"imageRef\": \"" TEST_IMAGE "\"%s}}", name, extra ? extra : "");
    struct http_result r;
    char *id;

    http_call("POST", "/v2.1/servers", token, body, &r);
    if (r.status != 202) {
        fail_msg("boot %s: %d %s", name, r.status, r.body);
    }
    id = xstrdup(str_at(r.json, "server", "id"));
    http_result_destroy(&r);
    return id;
}

/* Applies an update from below to server 'uuid': 'vm_state', 'task_state'
 * (NULL for none), launched, host; returns nothing. */
static void
come_up(const char *uuid, const char *cell, enum instance_vm_state vm,
        enum instance_task_state task, const struct json_object *fault)
{
    CLEANUP(top_view_server_freep) struct top_view_server *srv = NULL;
    bool applied = false;

    check(top_view_get(t.db, uuid, false, &srv), "get");
    srv->inst->vm_state = vm;
    srv->inst->task_state = task;
    free(srv->inst->host);
    srv->inst->host = xstrdup("cmp1");
    free(srv->inst->node);
    srv->inst->node = xstrdup("cmp1.example");
    srv->inst->power_state = vm == INSTANCE_VM_ACTIVE
                             ? INSTANCE_POWER_RUNNING
                             : INSTANCE_POWER_SHUTDOWN;
    srv->inst->launched_at = time_now_ms();
    srv->inst->updated_at = time_now_ms();
    srv->inst->update_seq++;
    check(top_view_apply_update(t.db, cell, srv->inst, fault, &applied),
          "apply");
    assert_true(applied);
}

/* ---- Setup -------------------------------------------------------------- */

static void
start_server(struct compute_api *compute, struct http_router **router,
             struct http_server **server, int *port)
{
    struct http_server_config cfg;

    *router = http_router_new();
    servers_api_register(*router, compute);
    http_server_config_init(&cfg);
    cfg.port = 0;
    cfg.n_threads = 4;
    check(http_server_new(&cfg, *router, server), "server");
    http_server_set_auth_validator(*server, test_validate, NULL);
    check(http_server_start(*server), "start");
    *port = http_server_port(*server);
}

static void
seed(void)
{
    static const struct {
        const char *id;
        const char *name;
        int vcpus;
        int ram;
    } flavors[] = {
        { "1", "m1.tiny", 1, 512 },
        { "2", "m1.small", 2, 2048 },
    };

    for (size_t i = 0; i < ARRAY_SIZE(flavors); i++) {
        struct flavor_record rec;

        memset(&rec, 0, sizeof rec);
        rec.flavor = flavor_new(flavors[i].id, flavors[i].name);
        rec.flavor->vcpus = flavors[i].vcpus;
        rec.flavor->memory_mb = flavors[i].ram;
        rec.flavor->root_gb = 1;
        rec.rxtx_factor = 1.0;
        rec.is_public = true;
        check(flavor_db_create(t.db, &rec), "flavor");
        flavor_free(rec.flavor);
    }

    CLEANUP(image_freep) struct image *image = image_new();
    image->id = xstrdup(TEST_IMAGE);
    image->name = xstrdup("cirros");
    image->owner = xstrdup("projA");
    image->status = xstrdup("queued");
    image->visibility = xstrdup("public");
    image->disk_format = xstrdup("qcow2");
    image->container_format = xstrdup("bare");
    check(image_db_create(t.db, image), "image");
    bool applied = false;
    check(image_db_activate(t.db, TEST_IMAGE,
                            "/var/lib/nova/images/cirros.qcow2", 1024,
                            "00", "00", &applied), "activate");
    assert_true(applied);

    struct keypair kp;
    memset(&kp, 0, sizeof kp);
    kp.name = (char *) "k1";
    kp.user_id = (char *) "ua1";
    kp.fingerprint = (char *) "aa:bb";
    kp.public_key = (char *) "ssh-ed25519 AAAATEST test@example";
    kp.type = (char *) KEYPAIR_TYPE_SSH;
    check(keypair_db_create(t.db, &kp), "keypair");

    /* Project B may run one server. */
    check(db_exec(t.db, "INSERT INTO quotas (project_id, resource, "
                  "hard_limit) VALUES ('projB', 'instances', 1)",
                  DB_NO_PARAMS, NULL), "quota");
}

static int
group_setup(void **state)
{
    CLEANUP(db_closep) struct db *admin = NULL;

    (void) state;
    check(db_open(test_env_get("NOVA_TEST_MYSQL_ADMIN_URL"), &admin),
          "admin");
    check(db_exec_once(admin, "DROP DATABASE IF EXISTS " TEST_DATABASE,
                       DB_NO_PARAMS, NULL), "drop");
    check(db_exec_once(admin, "CREATE DATABASE " TEST_DATABASE
                       " CHARACTER SET utf8mb4", DB_NO_PARAMS, NULL),
          "create");
    t.url = xasprintf("%s%s", test_env_get("NOVA_TEST_MYSQL_ADMIN_URL"),
                      TEST_DATABASE);
    check(db_open(t.url, &t.db), "open");
    check(db_migrate(t.db, DB_SCHEMA_API, NULL, NULL), "migrate");
    seed();

    assert_int_equal(test_env_add_cell(TEST_CELL), 0);
    t.cells_url = xasprintf("rabbit://%s:%spw@127.0.0.1:%d/%s", TEST_CELL,
                            TEST_CELL,
                            test_env_get_port("NOVA_TEST_RABBIT_PORT"),
                            TEST_CELL);
    assert_int_equal(pipe(cells.stop_pipe), 0);
    pthread_mutex_init(&cells.lock, NULL);
    assert_int_equal(pthread_create(&cells.thread, NULL, cells_main, NULL),
                     0);
    for (;;) {
        bool ready;

        pthread_mutex_lock(&cells.lock);
        ready = cells.ready;
        pthread_mutex_unlock(&cells.lock);
        if (ready) {
            break;
        }
        usleep(10 * 1000);
    }
    if (cells.start_error) {
        fail_msg("nova-cells of the test: %s", cells.start_error);
    }

    compute_api_config_init(&t.config);
    t.config.max_limit = 50;
    check(api_db_new(t.url, &t.api_db), "api_db");
    t.compute.config = &t.config;
    t.compute.db = t.api_db;
    check(cells_client_new(t.cells_url, &t.compute.cells), "cells");
    start_server(&t.compute, &t.router, &t.server, &t.port);

    t.bare.config = &t.config;
    t.bare.db = t.api_db;
    t.bare.cells = NULL;
    start_server(&t.bare, &t.bare_router, &t.bare_server, &t.bare_port);

    compute_api_config_init(&t.broken_config);
    t.broken_config.cast_timeout_ms = 1500;
    t.broken.config = &t.broken_config;
    t.broken.db = t.api_db;
    check(cells_client_new("rabbit://nobody:nopw@127.0.0.1:1/none",
                           &t.broken.cells), "broken cells");
    start_server(&t.broken, &t.broken_router, &t.broken_server,
                 &t.broken_port);
    return 0;
}

static int
group_teardown(void **state)
{
    CLEANUP(db_closep) struct db *admin = NULL;
    char c = 'q';

    (void) state;
    http_server_free(t.server);
    http_server_free(t.bare_server);
    http_server_free(t.broken_server);
    http_router_free(t.router);
    http_router_free(t.bare_router);
    http_router_free(t.broken_router);
    cells_client_free(t.compute.cells);
    cells_client_free(t.broken.cells);
    api_db_free(t.api_db);
    assert_int_equal(write(cells.stop_pipe[1], &c, 1), 1);
    pthread_join(cells.thread, NULL);
    close(cells.stop_pipe[0]);
    close(cells.stop_pipe[1]);
    for (size_t i = 0; i < cells.n; i++) {
        free(cells.methods[i]);
        free(cells.args[i]);
    }
    free(cells.start_error);
    pthread_mutex_destroy(&cells.lock);
    db_close(t.db);
    check(db_open(test_env_get("NOVA_TEST_MYSQL_ADMIN_URL"), &admin),
          "admin");
    check(db_exec_once(admin, "DROP DATABASE IF EXISTS " TEST_DATABASE,
                       DB_NO_PARAMS, NULL), "drop");
    free(t.url);
    free(t.cells_url);
    return 0;
}

/* ---- Tests -------------------------------------------------------------- */

/* Servers shared by the tests below, booted by test_create. */
static char *web1;

static void
test_create(void **state)
{
    struct http_result r;
    struct json_object *server;

    (void) state;
    http_call("POST", "/v2.1/servers", MEMBER_A,
              "{\"server\": {\"name\": \"web1\", \"flavorRef\": 1, "
              "\"imageRef\": \"" TEST_IMAGE "\", \"key_name\": \"k1\", "
              "\"metadata\": {\"role\": \"web\"}, \"availability_zone\": "
              "\"az1\"}, \"os:scheduler_hints\": {\"different_cell\": "
              "[\"api!x\"]}}", &r);
    if (r.status != 202) {
        fail_msg("create: %d %s", r.status, r.body);
    }
    server = json_at(r.json, "server", NULL);
    assert_non_null(server);
    web1 = xstrdup(str_at(server, "id", NULL));
    assert_true(uuid_is_valid(web1));
    assert_int_equal(strlen(str_at(server, "adminPass", NULL)), 12);
    assert_string_equal(str_at(server, "OS-DCF:diskConfig", NULL),
                        "MANUAL");
    assert_string_equal(json_object_to_json_string(
                            json_at(server, "security_groups", NULL)),
                        "[ { \"name\": \"default\" } ]");
    assert_int_equal(json_object_object_length(server), 5);
    AUTOFREE char *location = http_result_header(&r, "Location");
    AUTOFREE char *want = xasprintf("http://127.0.0.1:%d/v2.1/servers/%s",
                                    t.port, web1);
    assert_string_equal(location, want);
    struct json_object *links = json_at(server, "links", NULL);
    assert_int_equal(json_object_array_length(links), 2);
    assert_string_equal(str_at(json_object_array_get_idx(links, 0), "href",
                               NULL), want);
    http_result_destroy(&r);

    /* The cast nova-cells got. */
    CLEANUP(json_putp) struct json_object *args =
        cells_wait_cast(CELLS_BUILD_INSTANCE, web1);
    struct json_object *inst = json_at(args, "instance", NULL);
    assert_string_equal(str_at(inst, "uuid", NULL), web1);
    assert_string_equal(str_at(inst, "display_name", NULL), "web1");
    assert_string_equal(str_at(inst, "project_id", NULL), "projA");
    assert_string_equal(str_at(inst, "user_id", NULL), "ua1");
    assert_string_equal(str_at(inst, "vm_state", NULL), "building");
    assert_string_equal(str_at(inst, "task_state", NULL), "scheduling");
    assert_string_equal(str_at(inst, "key_name", NULL), "k1");
    assert_string_equal(str_at(inst, "key_data", NULL),
                        "ssh-ed25519 AAAATEST test@example");
    assert_string_equal(str_at(inst, "image_ref", NULL), TEST_IMAGE);
    assert_string_equal(str_at(inst, "availability_zone", NULL), "az1");
    assert_string_equal(str_at(json_at(inst, "flavor", NULL), "flavorid",
                               NULL), "1");
    assert_string_equal(str_at(json_at(inst, "metadata", NULL), "role",
                               NULL), "web");
    assert_int_equal(json_object_get_int(json_at(args, "max_attempts",
                                                 NULL)), 3);
    struct json_object *spec = json_at(args, "spec", NULL);
    assert_string_equal(str_at(json_at(spec, "flavor", NULL), "flavorid",
                               NULL), "1");
    assert_string_equal(str_at(json_at(spec, "image", NULL), "id", NULL),
                        TEST_IMAGE);
    assert_string_equal(str_at(spec, "availability_zone", NULL), "az1");
    assert_non_null(json_at(spec, "scheduler_hints", "different_cell",
                            NULL));
    assert_int_equal(json_object_get_int(json_at(spec, "num_instances",
                                                 NULL)), 1);

    /* It shows at once, in BUILD. */
    AUTOFREE char *path = xasprintf("/v2.1/servers/%s", web1);
    http_call("GET", path, MEMBER_A, NULL, &r);
    assert_int_equal(r.status, 200);
    server = json_at(r.json, "server", NULL);
    assert_string_equal(str_at(server, "status", NULL), "BUILD");
    assert_string_equal(str_at(server, "name", NULL), "web1");
    assert_string_equal(str_at(server, "tenant_id", NULL), "projA");
    assert_string_equal(str_at(server, "user_id", NULL), "ua1");
    assert_string_equal(str_at(server, "hostId", NULL), "");
    assert_string_equal(str_at(server, "key_name", NULL), "k1");
    assert_string_equal(str_at(json_at(server, "image", NULL), "id", NULL),
                        TEST_IMAGE);
    assert_string_equal(str_at(json_at(server, "flavor", NULL), "id", NULL),
                        "1");
    assert_string_equal(str_at(server, "OS-EXT-STS:vm_state", NULL),
                        "building");
    assert_string_equal(str_at(server, "OS-EXT-STS:task_state", NULL),
                        "scheduling");
    assert_string_equal(str_at(server, "OS-EXT-AZ:availability_zone",
                               NULL), "az1");
    assert_int_equal(json_object_get_int(
                         json_at(server, "OS-EXT-STS:power_state", NULL)), 0);
    assert_null(json_at(server, "OS-EXT-SRV-ATTR:host", NULL));
    assert_non_null(json_at(server, "os-extended-volumes:volumes_attached",
                            NULL));
    assert_int_equal(json_object_get_int(json_at(server, "progress", NULL)),
                     0);
    assert_null(json_at(server, "fault", NULL));
    assert_string_equal(str_at(server, "accessIPv4", NULL), "");
    assert_string_equal(str_at(server, "config_drive", NULL), "");
    http_result_destroy(&r);
}

static void
test_create_multi(void **state)
{
    struct http_result r;

    (void) state;
    http_call("POST", "/v2.1/servers", MEMBER_A,
              "{\"server\": {\"name\": \"batch\", \"flavorRef\": \"1\", "
              "\"imageRef\": \"" TEST_IMAGE "\", \"min_count\": 2}}", &r);
    assert_int_equal(r.status, 202);
    http_result_destroy(&r);
    json_object_put(cells_wait_cast(CELLS_BUILD_INSTANCE,
                                    "\"display_name\":\"batch-1\""));
    json_object_put(cells_wait_cast(CELLS_BUILD_INSTANCE,
                                    "\"display_name\":\"batch-2\""));

    http_call("POST", "/v2.1/servers", MEMBER_A,
              "{\"server\": {\"name\": \"resv\", \"flavorRef\": \"1\", "
              "\"imageRef\": \"" TEST_IMAGE "\", "
              "\"return_reservation_id\": true}}", &r);
    assert_int_equal(r.status, 202);
    assert_true(!strncmp(str_at(r.json, "reservation_id", NULL), "r-", 2));
    http_result_destroy(&r);
}

static void
test_create_errors(void **state)
{
    (void) state;
    expect("POST", "/v2.1/servers", MEMBER_A, "{\"server\": {\"name\": 5, "
           "\"flavorRef\": \"1\"}}", 400,
           "Invalid input for field/attribute name. Value: 5. 5 is not of "
           "type 'string'");
    expect("POST", "/v2.1/servers", MEMBER_A, "{\"server\": {\"name\": "
           "\"x\"}}", 400, "'flavorRef' is a required property");
    expect("POST", "/v2.1/servers", MEMBER_A, "{\"server\": {\"name\": "
           "\"x\", \"flavorRef\": \"1\", \"imageRef\": \"nope\"}}", 400,
           "'nope' is not valid under any of the given schemas");
    expect("POST", "/v2.1/servers", MEMBER_A, "{\"server\": {\"name\": "
           "\"x\", \"flavorRef\": \"1\"}, \"extra\": 1}", 400,
           "Additional properties are not allowed ('extra' was "
           "unexpected)");
    expect("POST", "/v2.1/servers", MEMBER_A, "{\"server\": {\"name\": "
           "\"x\", \"flavorRef\": \"1\", \"min_count\": 3, \"max_count\": "
           "2}}", 400, "min_count must be <= max_count");
    expect("POST", "/v2.1/servers", MEMBER_A, "{\"server\": {\"name\": "
           "\"x\", \"flavorRef\": \"1\"}}", 400,
           "Missing imageRef attribute");
    expect("POST", "/v2.1/servers", MEMBER_A, "{\"server\": {\"name\": "
           "\"x\", \"flavorRef\": \"99\", \"imageRef\": \"" TEST_IMAGE
           "\"}}", 400, "Flavor 99 could not be found.");
    expect("POST", "/v2.1/servers", MEMBER_A, "{\"server\": {\"name\": "
           "\"x\", \"flavorRef\": \"1\", \"imageRef\": "
           "\"00000000-0000-0000-0000-000000000000\"}}", 400,
           "Image 00000000-0000-0000-0000-000000000000 could not be "
           "found.");
    expect("POST", "/v2.1/servers", MEMBER_A, "{\"server\": {\"name\": "
           "\"x\", \"flavorRef\": \"1\", \"imageRef\": \"" TEST_IMAGE
           "\", \"key_name\": \"nokey\"}}", 400,
           "Invalid key_name provided.");
    /* Readers may not boot. */
    expect("POST", "/v2.1/servers", READER_A, "{\"server\": {\"name\": "
           "\"x\", \"flavorRef\": \"1\", \"imageRef\": \"" TEST_IMAGE
           "\"}}", 403, "os_compute_api:servers:create");
    expect("POST", "/v2.1/servers", NULL, "{}", 401, NULL);
}

static void
test_quota(void **state)
{
    AUTOFREE char *first = NULL;

    (void) state;
    /* projB may run one server: two do not fit, one does. */
    expect("POST", "/v2.1/servers", MEMBER_B, "{\"server\": {\"name\": "
           "\"b\", \"flavorRef\": \"1\", \"imageRef\": \"" TEST_IMAGE
           "\", \"min_count\": 2}}", 403, "Quota exceeded for instances");
    /* min 1 max 3: as many as fit. */
    struct http_result r;
    http_call("POST", "/v2.1/servers", MEMBER_B, "{\"server\": {\"name\": "
              "\"b\", \"flavorRef\": \"1\", \"imageRef\": \"" TEST_IMAGE
              "\", \"max_count\": 3}}", &r);
    assert_int_equal(r.status, 202);
    first = xstrdup(str_at(r.json, "server", "id"));
    http_result_destroy(&r);
    json_object_put(cells_wait_cast(CELLS_BUILD_INSTANCE, first));
    assert_int_equal(cells_count(CELLS_BUILD_INSTANCE, "\"display_name\":"
                                 "\"b-2\""), 0);
    expect("POST", "/v2.1/servers", MEMBER_B, "{\"server\": {\"name\": "
           "\"b2\", \"flavorRef\": \"1\", \"imageRef\": \"" TEST_IMAGE
           "\"}}", 403, "overLimit");
}

static size_t
count_rows(void)
{
    struct db_rows *rows = NULL;
    size_t n;

    check(db_query(t.db, "SELECT COUNT(*) FROM instances", DB_NO_PARAMS,
                   &rows), "count");
    n = (size_t) db_rows_get_int64(rows, 0, 0);
    db_rows_free(rows);
    return n;
}

static void
test_no_cells(void **state)
{
    struct http_result r;
    size_t before = count_rows();

    (void) state;
    http_call_port(t.bare_port, "POST", "/v2.1/servers", MEMBER_A,
                   "{\"server\": {\"name\": \"x\", \"flavorRef\": \"1\", "
                   "\"imageRef\": \"" TEST_IMAGE "\"}}", &r);
    assert_int_equal(r.status, 503);
    assert_non_null(strstr(r.body, "nova-cells"));
    http_result_destroy(&r);
    assert_int_equal(count_rows(), before);

    /* Reads work without nova-cells. */
    AUTOFREE char *path = xasprintf("/v2.1/servers/%s", web1);
    http_call_port(t.bare_port, "GET", path, MEMBER_A, NULL, &r);
    assert_int_equal(r.status, 200);
    http_result_destroy(&r);
}

static void
test_cast_failure(void **state)
{
    struct http_result r;
    AUTOFREE char *uuid = NULL;

    (void) state;
    http_call_port(t.broken_port, "POST", "/v2.1/servers", MEMBER_A,
                   "{\"server\": {\"name\": \"lost\", \"flavorRef\": \"1\", "
                   "\"imageRef\": \"" TEST_IMAGE "\"}}", &r);
    assert_int_equal(r.status, 503);
    assert_non_null(strstr(r.body, "unreachable"));
    http_result_destroy(&r);

    /* The server shows in ERROR with a fault saying why. */
    http_call("GET", "/v2.1/servers/detail?name=%5Elost%24", MEMBER_A, NULL,
              &r);
    assert_int_equal(r.status, 200);
    struct json_object *servers = json_at(r.json, "servers", NULL);
    assert_int_equal(json_object_array_length(servers), 1);
    struct json_object *s = json_object_array_get_idx(servers, 0);
    assert_string_equal(str_at(s, "status", NULL), "ERROR");
    assert_non_null(strstr(str_at(json_at(s, "fault", NULL), "message",
                                  NULL), "unreachable"));
    assert_int_equal(json_object_get_int(json_at(s, "fault", "code", NULL)),
                     500);
    uuid = xstrdup(str_at(s, "id", NULL));
    http_result_destroy(&r);

    /* It never left the API cell: deleting it needs no cell. */
    AUTOFREE char *path = xasprintf("/v2.1/servers/%s", uuid);
    expect("DELETE", path, MEMBER_A, NULL, 204, NULL);
    expect("GET", path, MEMBER_A, NULL, 404, "could not be found");
}

static void
test_show_isolation(void **state)
{
    AUTOFREE char *path = xasprintf("/v2.1/servers/%s", web1);
    AUTOFREE char *msg = xasprintf("Instance %s could not be found.", web1);
    struct http_result r;

    (void) state;
    expect("GET", path, MEMBER_A, NULL, 200, NULL);
    expect("GET", path, READER_A, NULL, 200, NULL);
    expect("GET", path, MEMBER_B, NULL, 404, msg);
    expect("GET", path, ADMIN_X, NULL, 200, NULL);
    expect("GET", "/v2.1/servers/00000000-0000-0000-0000-000000000000",
           MEMBER_A, NULL, 404, "itemNotFound");
    expect("GET", "/v2.1/servers/not-a-uuid", MEMBER_A, NULL, 404,
           "Instance not-a-uuid could not be found.");
    expect("DELETE", path, MEMBER_B, NULL, 404, msg);
    expect("PUT", path, MEMBER_B, "{\"server\": {\"name\": \"x\"}}", 404,
           msg);
    expect("POST", path, MEMBER_B, NULL, 405, NULL);

    /* Admins see the extended attributes. */
    come_up(web1, TEST_LEAF, INSTANCE_VM_ACTIVE, INSTANCE_TASK_NONE, NULL);
    http_call("GET", path, ADMIN_X, NULL, &r);
    struct json_object *server = json_at(r.json, "server", NULL);
    assert_string_equal(str_at(server, "OS-EXT-SRV-ATTR:host", NULL),
                        "cmp1");
    assert_string_equal(str_at(server, "OS-EXT-SRV-ATTR:hypervisor_hostname",
                               NULL), "cmp1.example");
    assert_non_null(str_at(server, "OS-EXT-SRV-ATTR:instance_name", NULL));
    assert_string_equal(str_at(server, "status", NULL), "ACTIVE");
    assert_int_equal(strlen(str_at(server, "hostId", NULL)), 56);
    assert_non_null(str_at(server, "OS-SRV-USG:launched_at", NULL));
    http_result_destroy(&r);
}

/* The names of the servers in a list body, comma-separated. */
static char *
list_names(struct json_object *body)
{
    struct json_object *servers = json_at(body, "servers", NULL);
    char *names = xstrdup("");

    for (size_t i = 0; servers && i < json_object_array_length(servers);
         i++) {
        const char *name = str_at(json_object_array_get_idx(servers, i),
                                  "name", NULL);
        char *longer = xasprintf("%s%s%s", names, *names ? "," : "", name);

        free(names);
        names = longer;
    }
    return names;
}

static void
expect_names(const char *path, const char *token, const char *want)
{
    struct http_result r;

    http_call("GET", path, token, NULL, &r);
    if (r.status != 200) {
        fail_msg("GET %s: %d %s", path, r.status, r.body);
    }
    AUTOFREE char *names = list_names(r.json);
    if (strcmp(names, want)) {
        fail_msg("GET %s as %s: '%s', want '%s'", path, token, names, want);
    }
    http_result_destroy(&r);
}

static void
test_list(void **state)
{
    struct http_result r;

    (void) state;
    /* Project A: web1 (ACTIVE), batch-1, batch-2, resv (BUILD). */
    expect_names("/v2.1/servers?sort_key=display_name&sort_dir=asc",
                 MEMBER_A, "batch-1,batch-2,resv,web1");
    expect_names("/v2.1/servers?sort_key=display_name&sort_dir=desc",
                 READER_A, "web1,resv,batch-2,batch-1");
    expect_names("/v2.1/servers?name=batch&sort_key=display_name"
                 "&sort_dir=asc", MEMBER_A, "batch-1,batch-2");
    expect_names("/v2.1/servers?status=ACTIVE", MEMBER_A, "web1");
    expect_names("/v2.1/servers?status=BUILD&sort_key=display_name"
                 "&sort_dir=asc", MEMBER_A, "batch-1,batch-2,resv");
    expect_names("/v2.1/servers?status=BOGUS", MEMBER_A, "");
    expect_names("/v2.1/servers?flavor=2", MEMBER_A, "");
    expect_names("/v2.1/servers?image=" TEST_IMAGE "&status=ACTIVE",
                 MEMBER_A, "web1");
    /* host is an admin filter: dropped for others. */
    expect_names("/v2.1/servers?host=nowhere&status=ACTIVE", MEMBER_A,
                 "web1");
    expect_names("/v2.1/servers?host=nowhere", ADMIN_A, "");
    expect_names("/v2.1/servers?host=cmp1", ADMIN_A, "web1");
    /* Project B's server only with all_tenants, for admins. */
    expect_names("/v2.1/servers", MEMBER_B, "b");
    expect("GET", "/v2.1/servers?all_tenants=1", MEMBER_A, NULL, 403,
           "os_compute_api:servers:index:get_all_tenants");
    expect("GET", "/v2.1/servers/detail?all_tenants=true", MEMBER_A, NULL,
           403, "os_compute_api:servers:detail:get_all_tenants");
    expect_names("/v2.1/servers?all_tenants=1&sort_key=display_name"
                 "&sort_dir=asc", ADMIN_X, "b,batch-1,batch-2,resv,web1");
    expect_names("/v2.1/servers?all_tenants&tenant_id=projB", ADMIN_X, "b");
    expect_names("/v2.1/servers", ADMIN_X, "");
    expect("GET", "/v2.1/servers?all_tenants=maybe", ADMIN_X, NULL, 400,
           "Unrecognized value 'maybe'");

    /* Bad parameters. */
    expect("GET", "/v2.1/servers?limit=abc", MEMBER_A, NULL, 400,
           "limit param must be an integer");
    expect("GET", "/v2.1/servers?limit=-1", MEMBER_A, NULL, 400,
           "limit param must be positive");
    expect("GET", "/v2.1/servers?changes-since=yesterday", MEMBER_A, NULL,
           400, "is not a 'date-time'");
    expect("GET", "/v2.1/servers?marker=00000000-0000-0000-0000-"
           "000000000000", MEMBER_A, NULL, 400,
           "marker [00000000-0000-0000-0000-000000000000] not found");
    expect("GET", "/v2.1/servers?sort_dir=up", MEMBER_A, NULL, 400,
           "Unknown sort direction");
    expect("GET", "/v2.1/servers?status=DELETED", MEMBER_A, NULL, 403,
           "Only administrators may list deleted instances");
    expect_names("/v2.1/servers?changes-since=2000-01-01T00:00:00Z"
                 "&status=ACTIVE", MEMBER_A, "web1");

    /* Paging with next links. */
    http_call("GET", "/v2.1/servers?sort_key=display_name&sort_dir=asc"
              "&limit=2", MEMBER_A, NULL, &r);
    assert_int_equal(r.status, 200);
    AUTOFREE char *names = list_names(r.json);
    assert_string_equal(names, "batch-1,batch-2");
    struct json_object *link = json_object_array_get_idx(
        json_at(r.json, "servers_links", NULL), 0);
    assert_non_null(link);
    assert_string_equal(str_at(link, "rel", NULL), "next");
    const char *href = str_at(link, "href", NULL);
    const char *last = str_at(json_object_array_get_idx(
                                  json_at(r.json, "servers", NULL), 1),
                              "id", NULL);
    assert_non_null(last);
    assert_non_null(href);
    AUTOFREE char *want = xasprintf("http://127.0.0.1:%d/v2.1/servers?"
                                    "sort_key=display_name&sort_dir=asc&"
                                    "limit=2&marker=%s", t.port, last);
    assert_string_equal(href, want);
    AUTOFREE char *next = xstrdup(strstr(href, "/v2.1/"));
    http_result_destroy(&r);
    http_call("GET", next, MEMBER_A, NULL, &r);
    AUTOFREE char *names2 = list_names(r.json);
    assert_string_equal(names2, "resv,web1");
    assert_non_null(json_at(r.json, "servers_links", NULL));
    http_result_destroy(&r);
    /* The last page is not full: no link. */
    http_call("GET", "/v2.1/servers?limit=3&sort_key=display_name"
              "&sort_dir=desc", MEMBER_A, NULL, &r);
    assert_non_null(json_at(r.json, "servers_links", NULL));
    http_result_destroy(&r);
    http_call("GET", "/v2.1/servers?limit=10", MEMBER_A, NULL, &r);
    assert_null(json_at(r.json, "servers_links", NULL));
    assert_int_equal(json_object_array_length(json_at(r.json, "servers",
                                                      NULL)), 4);
    /* Index items: id, links, name only. */
    struct json_object *item = json_object_array_get_idx(
        json_at(r.json, "servers", NULL), 0);
    assert_int_equal(json_object_object_length(item), 3);
    http_result_destroy(&r);
    expect_names("/v2.1/servers?limit=0", MEMBER_A, "");

    /* Detail: full servers. */
    http_call("GET", "/v2.1/servers/detail?status=ACTIVE", MEMBER_A, NULL,
              &r);
    item = json_object_array_get_idx(json_at(r.json, "servers", NULL), 0);
    assert_string_equal(str_at(item, "status", NULL), "ACTIVE");
    assert_non_null(json_at(item, "flavor", NULL));
    http_result_destroy(&r);

    /* Readers may list; the test token without project rights may not. */
    expect("GET", "/v2.1/servers/detail", READER_A, NULL, 200, NULL);
}

static void
test_update_and_metadata(void **state)
{
    AUTOFREE char *path = xasprintf("/v2.1/servers/%s", web1);
    AUTOFREE char *meta = xasprintf("/v2.1/servers/%s/metadata", web1);
    AUTOFREE char *role = xasprintf("/v2.1/servers/%s/metadata/role", web1);
    AUTOFREE char *none = xasprintf("/v2.1/servers/%s/metadata/none", web1);

    (void) state;
    expect("PUT", path, MEMBER_A, "{\"server\": {\"name\": \"web-one\"}}",
           200, "\"name\":\"web-one\"");
    expect("GET", path, READER_A, NULL, 200, "\"name\":\"web-one\"");
    /* The rename goes down to the leaf, or its next update would bring
     * the old name back. */
    CLEANUP(json_putp) struct json_object *cast = cells_wait_cast(
        CELLS_INSTANCE_ACTION, "\"display_name\":\"web-one\"");
    assert_string_equal(str_at(cast, "action", NULL), "update");
    assert_string_equal(str_at(cast, "cell_path", NULL), TEST_LEAF);
    assert_string_equal(str_at(cast, "instance_uuid", NULL), web1);
    assert_null(json_at(cast, "args", "metadata", NULL));
    expect("PUT", path, READER_A, "{\"server\": {\"name\": \"r\"}}", 403,
           "os_compute_api:servers:update");
    expect("PUT", path, MEMBER_A, "{\"server\": {\"name\": \"\"}}", 400,
           "'' is too short");
    expect("PUT", path, MEMBER_A, "{\"server\": {\"flavorRef\": 1}}", 400,
           "Additional properties are not allowed");
    expect("PUT", path, MEMBER_A, "{\"server\": {\"name\": \"web1\"}}",
           200, "\"name\":\"web1\"");

    expect("GET", meta, READER_A, NULL, 200,
           "{\"metadata\":{\"role\":\"web\"}}");
    expect("GET", role, READER_A, NULL, 200, "{\"meta\":{\"role\":\"web\"}}");
    expect("GET", none, READER_A, NULL, 404, "Metadata item was not found");
    expect("GET", meta, MEMBER_B, NULL, 404, "could not be found");
}

static void act(const char *uuid, const char *token, const char *body,
                int status, const char *needle);

/* The metadata of the update cast that holds 'needle', as text. */
static char *
metadata_cast(const char *needle)
{
    CLEANUP(json_putp) struct json_object *cast
        = cells_wait_cast(CELLS_INSTANCE_ACTION, needle);

    assert_string_equal(str_at(cast, "action", NULL), "update");
    assert_string_equal(str_at(cast, "cell_path", NULL), TEST_LEAF);
    assert_null(json_at(cast, "args", "display_name", NULL));
    return json_to_string_plain(json_at(cast, "args", "metadata", NULL));
}

static void
test_metadata_writes(void **state)
{
    AUTOFREE char *meta = xasprintf("/v2.1/servers/%s/metadata", web1);
    AUTOFREE char *env = xasprintf("/v2.1/servers/%s/metadata/env", web1);
    AUTOFREE char *none = xasprintf("/v2.1/servers/%s/metadata/none", web1);
    AUTOFREE char *akey = xasprintf("/v2.1/servers/%s/metadata/a", web1);
    AUTOFREE char *locked = xasprintf("Instance %s is locked", web1);
    AUTOFREE char *young = boot(MEMBER_A, "meta-young", NULL);
    AUTOFREE char *young_meta = xasprintf("/v2.1/servers/%s/metadata",
                                          young);
    AUTOFREE char *building = xasprintf("Cannot 'update metadata' instance "
                                        "%s while it is in vm_state "
                                        "building", young);
    AUTOFREE char *rebooting = xasprintf("Cannot 'update metadata' instance "
                                         "%s while it is in task_state "
                                         "rebooting", web1);
    AUTOFREE char *deleting = xasprintf("Cannot 'delete metadata' instance "
                                        "%s while it is in task_state "
                                        "rebooting", web1);
    AUTOFREE char *long_value = NULL;
    char *text = NULL;
    char value[300];

    (void) state;
    /* Merge (create): 200 with the whole dictionary, at once in reads,
     * and the whole dictionary down to the leaf. */
    expect("POST", meta, MEMBER_A, "{\"metadata\": {\"env\": \"prod\"}}",
           200, "\"env\":\"prod\"");
    expect("GET", meta, READER_A, NULL, 200,
           "{\"metadata\":{\"env\":\"prod\",\"role\":\"web\"}}");
    text = metadata_cast("\"env\":\"prod\"");
    assert_non_null(strstr(text, "\"role\":\"web\""));
    free(text);

    /* One item (update). */
    expect("PUT", env, MEMBER_A, "{\"meta\": {\"env\": \"dev\"}}", 200,
           "{\"meta\":{\"env\":\"dev\"}}");
    expect("GET", env, READER_A, NULL, 200, "{\"meta\":{\"env\":\"dev\"}}");
    text = metadata_cast("\"env\":\"dev\"");
    assert_non_null(strstr(text, "\"role\":\"web\""));
    free(text);
    expect("PUT", env, MEMBER_A, "{\"meta\": {\"other\": \"x\"}}", 400,
           "Request body and URI mismatch");
    expect("PUT", env, MEMBER_A, "{\"meta\": {}}", 400,
           "Invalid input for field/attribute meta. Value: {}. {} does not "
           "have enough properties");
    expect("PUT", env, MEMBER_A, "{\"meta\": {\"env\": \"1\", \"b\": "
           "\"2\"}}", 400, "has too many properties");
    expect("PUT", env, MEMBER_A, "{\"metadata\": {\"env\": \"1\"}}", 400,
           "'meta' is a required property");

    /* Validation names the field. */
    expect("POST", meta, MEMBER_A, "{\"metadata\": {\"k\": 1}}", 400,
           "Invalid input for field/attribute k. Value: 1. 1 is not of "
           "type 'string'");
    memset(value, 'x', 256);
    value[256] = '\0';
    long_value = xasprintf("{\"metadata\": {\"k\": \"%s\"}}", value);
    expect("POST", meta, MEMBER_A, long_value, 400, "is too long");
    expect("POST", meta, MEMBER_A, "{\"metadata\": {\"\": \"v\"}}", 400,
           "Additional properties are not allowed ('' was unexpected)");
    expect("POST", meta, MEMBER_A, "{\"metadata\": {\"a/b\": \"v\"}}", 400,
           "Invalid input for field/attribute metadata");
    expect("POST", meta, MEMBER_A, "{\"metadata\": \"x\"}", 400,
           "Invalid input for field/attribute metadata. Value: x. 'x' is "
           "not of type 'object'");
    expect("POST", meta, MEMBER_A, "{}", 400,
           "'metadata' is a required property");
    expect("POST", meta, MEMBER_A, "{\"metadata\": {}, \"x\": 1}", 400,
           "Additional properties are not allowed ('x' was unexpected)");
    expect("PUT", meta, MEMBER_A, "[1]", 400, "[1] is not of type 'object'");

    /* Policy and isolation. */
    expect("POST", meta, MEMBER_B, "{\"metadata\": {\"a\": \"1\"}}", 404,
           "could not be found");
    expect("DELETE", env, MEMBER_B, NULL, 404, "could not be found");
    expect("POST", meta, READER_A, "{\"metadata\": {\"a\": \"1\"}}", 403,
           "os_compute_api:server-metadata:create");
    expect("PUT", meta, READER_A, "{\"metadata\": {\"a\": \"1\"}}", 403,
           "os_compute_api:server-metadata:update_all");
    expect("PUT", env, READER_A, "{\"meta\": {\"env\": \"1\"}}", 403,
           "os_compute_api:server-metadata:update");
    expect("DELETE", env, READER_A, NULL, 403,
           "os_compute_api:server-metadata:delete");
    expect("GET", env, READER_A, NULL, 200, "{\"meta\":{\"env\":\"dev\"}}");

    /* Delete one. */
    expect("DELETE", none, MEMBER_A, NULL, 404, "Metadata item was not found");
    expect("DELETE", env, MEMBER_A, NULL, 204, NULL);
    expect("GET", env, READER_A, NULL, 404, "Metadata item was not found");
    expect("GET", meta, READER_A, NULL, 200,
           "{\"metadata\":{\"role\":\"web\"}}");

    /* Replace all. */
    expect("PUT", meta, MEMBER_A, "{\"metadata\": {\"a\": \"1\"}}", 200,
           "{\"metadata\":{\"a\":\"1\"}}");
    expect("GET", meta, READER_A, NULL, 200, "{\"metadata\":{\"a\":\"1\"}}");
    text = metadata_cast("\"metadata\":{\"a\":\"1\"}");
    assert_string_equal(text, "{\"a\":\"1\"}");
    free(text);

    /* Quota: metadata_items. */
    check(db_exec(t.db, "INSERT INTO quotas (project_id, resource, "
                  "hard_limit) VALUES ('projA', 'metadata_items', 2)",
                  DB_NO_PARAMS, NULL), "quota");
    expect("POST", meta, MEMBER_A, "{\"metadata\": {\"b\": \"2\", "
           "\"c\": \"3\"}}", 403, "overLimit");
    expect("POST", meta, MEMBER_A, "{\"metadata\": {\"b\": \"2\", "
           "\"c\": \"3\"}}", 403,
           "Maximum number of metadata items exceeds 2");
    expect("POST", meta, MEMBER_A, "{\"metadata\": {\"b\": \"2\"}}", 200,
           NULL);
    check(db_exec(t.db, "DELETE FROM quotas WHERE project_id = 'projA' AND "
                  "resource = 'metadata_items'", DB_NO_PARAMS, NULL),
          "quota");

    /* Locked: 409 for the owner, an admin may. */
    act(web1, MEMBER_A, "{\"lock\": null}", 202, NULL);
    expect("POST", meta, MEMBER_A, "{\"metadata\": {\"c\": \"3\"}}", 409,
           locked);
    expect("DELETE", akey, MEMBER_A, NULL, 409,
           locked);
    expect("POST", meta, ADMIN_X, "{\"metadata\": {\"c\": \"3\"}}", 200,
           "\"c\":\"3\"");
    act(web1, MEMBER_A, "{\"unlock\": null}", 202, NULL);

    /* State: building, or a task under way. */
    expect("POST", young_meta, MEMBER_A, "{\"metadata\": {\"c\": \"3\"}}",
           409, building);
    check(top_view_set_task_state(t.db, web1, "rebooting"), "task");
    expect("POST", meta, MEMBER_A, "{\"metadata\": {\"d\": \"4\"}}", 409,
           rebooting);
    expect("DELETE", akey, MEMBER_A, NULL, 409,
           deleting);
    come_up(web1, TEST_LEAF, INSTANCE_VM_ACTIVE, INSTANCE_TASK_NONE, NULL);

    /* What the leaf sends up next keeps it (it applied the same). */
    expect("GET", meta, READER_A, NULL, 200,
           "{\"metadata\":{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\"}}");

    /* Back to what the other tests expect. */
    expect("PUT", meta, MEMBER_A, "{\"metadata\": {\"role\": \"web\"}}",
           200, "{\"metadata\":{\"role\":\"web\"}}");
    AUTOFREE char *young_path = xasprintf("/v2.1/servers/%s", young);
    expect("DELETE", young_path, MEMBER_A, NULL, 204, NULL);
}

/* A server whose cell is mute: rename, metadata writes and delete answer
 * 503 naming the cell; reads still work. */
static void
test_mute_cell(void **state)
{
    AUTOFREE char *uuid = boot(ADMIN_X, "mutesrv", NULL);
    AUTOFREE char *path = xasprintf("/v2.1/servers/%s", uuid);
    AUTOFREE char *meta = xasprintf("/v2.1/servers/%s/metadata", uuid);
    AUTOFREE char *key = xasprintf("/v2.1/servers/%s/metadata/k", uuid);
    const char *want = "Cell 'api!mute' is not responding";
    size_t casts;

    (void) state;
    come_up(uuid, "api!mute", INSTANCE_VM_ACTIVE, INSTANCE_TASK_NONE, NULL);
    expect("PUT", key, ADMIN_X, "{\"meta\": {\"k\": \"v\"}}", 200, NULL);
    check(db_exec(t.db, "INSERT INTO cell_mappings (uuid, name, path, "
                  "parent_path, health, last_heard_at, created_at) VALUES "
                  "('5d0b2a44-1d1c-4b8e-9f0e-3c2b1a0f9e8d', 'mute', "
                  "'api!mute', 'api', 'mute', '2026-11-22 10:00:00', NOW())",
                  DB_NO_PARAMS, NULL), "mute cell");
    casts = cells_count(CELLS_INSTANCE_ACTION, uuid);
    expect("PUT", path, ADMIN_X, "{\"server\": {\"name\": \"m2\"}}", 503,
           want);
    expect("POST", meta, ADMIN_X, "{\"metadata\": {\"a\": \"1\"}}", 503,
           want);
    expect("PUT", meta, ADMIN_X, "{\"metadata\": {\"a\": \"1\"}}", 503,
           want);
    expect("PUT", key, ADMIN_X, "{\"meta\": {\"k\": \"w\"}}", 503, want);
    expect("DELETE", key, ADMIN_X, NULL, 503, want);
    expect("DELETE", path, ADMIN_X, NULL, 503, "serviceUnavailable");
    /* Nothing changed, nothing sent. */
    expect("GET", path, ADMIN_X, NULL, 200, "\"name\":\"mutesrv\"");
    expect("GET", meta, ADMIN_X, NULL, 200, "{\"metadata\":{\"k\":\"v\"}}");
    assert_int_equal(cells_count(CELLS_INSTANCE_ACTION, uuid), casts);

    /* Heard from again: the delete goes down. */
    check(db_exec(t.db, "UPDATE cell_mappings SET health = 'healthy' "
                  "WHERE path = 'api!mute'", DB_NO_PARAMS, NULL), "heal");
    expect("DELETE", path, ADMIN_X, NULL, 204, NULL);
    json_object_put(cells_wait_cast(CELLS_INSTANCE_ACTION,
                                    "\"action\":\"delete\""));
    assert_int_equal(cells_count(CELLS_INSTANCE_ACTION, uuid), casts + 1);
}

/* Posts action 'body' on server 'uuid' as 'token'; expects 'status' and
 * 'needle'. */
static void
act(const char *uuid, const char *token, const char *body, int status,
    const char *needle)
{
    AUTOFREE char *path = xasprintf("/v2.1/servers/%s/action", uuid);

    expect("POST", path, token, body, status, needle);
}

/* Expects the instance_action cast 'action' for 'uuid' (the n-th such),
 * and returns its args. */
static struct json_object *
expect_action_cast(const char *uuid, const char *action, size_t nth)
{
    AUTOFREE char *needle = xasprintf("\"instance_uuid\":\"%s\","
                                      "\"cell_path\":\"" TEST_LEAF "\","
                                      "\"action\":\"%s\"", uuid, action);
    long long deadline = time_monotonic_ms() + GUARD_MS;

    while (cells_count(CELLS_INSTANCE_ACTION, needle) < nth) {
        if (time_monotonic_ms() > deadline) {
            fail_msg("no cast %s %zu for %s", action, nth, uuid);
        }
        usleep(10 * 1000);
    }
    return cells_wait_cast(CELLS_INSTANCE_ACTION, needle);
}

static void
test_actions(void **state)
{
    AUTOFREE char *msg = NULL;
    AUTOFREE char *path = xasprintf("/v2.1/servers/%s", web1);

    (void) state;
    /* web1 is ACTIVE in TEST_LEAF. */
    act(web1, MEMBER_A, "{\"os-start\": null}", 409, NULL);
    msg = xasprintf("Cannot 'start' instance %s while it is in vm_state "
                    "active", web1);
    act(web1, MEMBER_A, "{\"os-start\": null}", 409, msg);
    act(web1, READER_A, "{\"os-stop\": null}", 403,
        "os_compute_api:servers:stop");
    act(web1, MEMBER_A, "{\"fly\": null}", 400,
        "There is no such action: fly");
    act(web1, MEMBER_A, "{\"reboot\": {\"type\": \"warm\"}}", 400,
        "'warm' is not one of");

    act(web1, MEMBER_A, "{\"os-stop\": null}", 202, NULL);
    json_object_put(expect_action_cast(web1, "stop", 1));
    expect("GET", path, MEMBER_A, NULL, 200,
           "\"OS-EXT-STS:task_state\":\"powering-off\"");
    free(msg);
    msg = xasprintf("Cannot 'stop' instance %s while it is in task_state "
                    "powering-off", web1);
    act(web1, MEMBER_A, "{\"os-stop\": null}", 409, msg);

    come_up(web1, TEST_LEAF, INSTANCE_VM_STOPPED, INSTANCE_TASK_NONE, NULL);
    expect("GET", path, MEMBER_A, NULL, 200, "\"status\":\"SHUTOFF\"");
    act(web1, MEMBER_A, "{\"reboot\": {\"type\": \"SOFT\"}}", 409,
        "while it is in vm_state stopped");
    act(web1, MEMBER_A, "{\"reboot\": {\"type\": \"HARD\"}}", 202, NULL);
    CLEANUP(json_putp) struct json_object *hard =
        expect_action_cast(web1, "reboot", 1);
    assert_string_equal(str_at(json_at(hard, "args", NULL), "reboot_type",
                               NULL), "HARD");
    come_up(web1, TEST_LEAF, INSTANCE_VM_STOPPED, INSTANCE_TASK_NONE, NULL);
    act(web1, MEMBER_A, "{\"os-start\": null}", 202, NULL);
    json_object_put(expect_action_cast(web1, "start", 1));

    come_up(web1, TEST_LEAF, INSTANCE_VM_ACTIVE, INSTANCE_TASK_NONE, NULL);
    act(web1, MEMBER_A, "{\"reboot\": {\"type\": \"SOFT\"}}", 202, NULL);
    expect("GET", path, MEMBER_A, NULL, 200, "\"status\":\"REBOOT\"");
    expect_names("/v2.1/servers?status=REBOOT", MEMBER_A, "web1");
    expect_names("/v2.1/servers?status=HARD_REBOOT", MEMBER_A, "");
    json_object_put(expect_action_cast(web1, "reboot", 2));
    come_up(web1, TEST_LEAF, INSTANCE_VM_ACTIVE, INSTANCE_TASK_NONE, NULL);
    act(web1, MEMBER_A, "{\"unpause\": null}", 409,
        "while it is in vm_state active");
    act(web1, MEMBER_A, "{\"pause\": null}", 202, NULL);
    json_object_put(expect_action_cast(web1, "pause", 1));
    come_up(web1, TEST_LEAF, INSTANCE_VM_PAUSED, INSTANCE_TASK_NONE, NULL);
    act(web1, MEMBER_A, "{\"unpause\": null}", 202, NULL);
    json_object_put(expect_action_cast(web1, "unpause", 1));
    come_up(web1, TEST_LEAF, INSTANCE_VM_ACTIVE, INSTANCE_TASK_NONE, NULL);
    act(web1, MEMBER_A, "{\"resume\": null}", 409,
        "while it is in vm_state active");
    act(web1, MEMBER_A, "{\"suspend\": null}", 202, NULL);
    json_object_put(expect_action_cast(web1, "suspend", 1));
    come_up(web1, TEST_LEAF, INSTANCE_VM_SUSPENDED, INSTANCE_TASK_NONE,
            NULL);
    act(web1, MEMBER_A, "{\"resume\": null}", 202, NULL);
    json_object_put(expect_action_cast(web1, "resume", 1));
    come_up(web1, TEST_LEAF, INSTANCE_VM_ACTIVE, INSTANCE_TASK_NONE, NULL);

    /* A server still in BUILD refuses actions. */
    AUTOFREE char *building = boot(MEMBER_A, "young", NULL);
    act(building, MEMBER_A, "{\"os-stop\": null}", 409,
        "while it is in vm_state building");

    /* No nova-cells: 503. */
    AUTOFREE char *bare = xasprintf("/v2.1/servers/%s/action", web1);
    struct http_result r;
    http_call_port(t.bare_port, "POST", bare, MEMBER_A,
                   "{\"os-stop\": null}", &r);
    assert_int_equal(r.status, 503);
    http_result_destroy(&r);
}

static void
test_lock(void **state)
{
    AUTOFREE char *path = xasprintf("/v2.1/servers/%s", web1);
    AUTOFREE char *locked = xasprintf("Instance %s is locked", web1);
    CLEANUP(top_view_server_freep) struct top_view_server *srv = NULL;

    (void) state;
    act(web1, READER_A, "{\"lock\": null}", 403, "os-lock-server:lock");
    act(web1, MEMBER_A, "{\"lock\": null}", 202, NULL);
    check(top_view_get(t.db, web1, false, &srv), "get");
    assert_true(srv->locked);
    assert_string_equal(srv->locked_by, "owner");
    act(web1, MEMBER_A, "{\"os-stop\": null}", 409, locked);
    expect("DELETE", path, MEMBER_A, NULL, 409, locked);
    /* An admin acts on a locked server. */
    act(web1, ADMIN_X, "{\"os-stop\": null}", 202, NULL);
    come_up(web1, TEST_LEAF, INSTANCE_VM_STOPPED, INSTANCE_TASK_NONE, NULL);
    act(web1, MEMBER_A, "{\"unlock\": null}", 202, NULL);
    act(web1, MEMBER_A, "{\"os-start\": null}", 202, NULL);
    come_up(web1, TEST_LEAF, INSTANCE_VM_ACTIVE, INSTANCE_TASK_NONE, NULL);

    /* An admin's lock: the owner may not lift it. */
    act(web1, ADMIN_X, "{\"lock\": null}", 202, NULL);
    top_view_server_free(srv);
    srv = NULL;
    check(top_view_get(t.db, web1, false, &srv), "get");
    assert_string_equal(srv->locked_by, "admin");
    act(web1, MEMBER_A, "{\"unlock\": null}", 403, "unlock_override");
    act(web1, ADMIN_X, "{\"unlock\": null}", 202, NULL);
    act(web1, MEMBER_A, "{\"pause\": null}", 202, NULL);
    come_up(web1, TEST_LEAF, INSTANCE_VM_ACTIVE, INSTANCE_TASK_NONE, NULL);
}

static void
test_console_and_instance_actions(void **state)
{
    struct http_result r;
    AUTOFREE char *actions = xasprintf("/v2.1/servers/%s/os-instance-actions",
                                       web1);
    AUTOFREE char *one = xasprintf("%s/req-11111111-1111-1111-1111-"
                                   "111111111111", actions);
    AUTOFREE char *other = xasprintf("%s/req-22222222-2222-2222-2222-"
                                     "222222222222", actions);

    (void) state;
    act(web1, MEMBER_A, "{\"os-getConsoleOutput\": {\"length\": 10}}", 200,
        "{\"output\":\"boot ok\\nlogin:\"}");
    act(web1, READER_A, "{\"os-getConsoleOutput\": {}}", 403,
        "os-console-output");

    http_call("GET", actions, READER_A, NULL, &r);
    assert_int_equal(r.status, 200);
    struct json_object *a = json_object_array_get_idx(
        json_at(r.json, "instanceActions", NULL), 0);
    assert_string_equal(str_at(a, "action", NULL), "create");
    assert_string_equal(str_at(a, "instance_uuid", NULL), web1);
    assert_null(json_at(a, "leaf_only", NULL));
    assert_int_equal(json_object_object_length(a), 7);
    http_result_destroy(&r);

    http_call("GET", one, MEMBER_A, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_null(json_at(r.json, "instanceAction", "events", NULL));
    http_result_destroy(&r);
    http_call("GET", one, ADMIN_X, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_object_array_length(
                         json_at(r.json, "instanceAction", "events", NULL)),
                     1);
    http_result_destroy(&r);
    expect("GET", other, MEMBER_A, NULL, 404, "not found");
    expect("GET", actions, MEMBER_B, NULL, 404, "could not be found");

    /* A server whose cell is down: 503 naming the cell. */
    AUTOFREE char *down = boot(MEMBER_A, "downcell", NULL);
    come_up(down, TEST_DOWN_LEAF, INSTANCE_VM_ACTIVE, INSTANCE_TASK_NONE,
            NULL);
    act(down, MEMBER_A, "{\"os-getConsoleOutput\": {}}", 503,
        TEST_DOWN_LEAF);
}

static void
test_fault(void **state)
{
    AUTOFREE char *uuid = boot(MEMBER_A, "doomed", NULL);
    AUTOFREE char *path = xasprintf("/v2.1/servers/%s", uuid);
    CLEANUP(json_putp) struct json_object *fault = json_object_new_object();
    struct http_result r;

    (void) state;
    json_object_object_add(fault, "code", json_object_new_int(500));
    json_object_object_add(fault, "message", json_object_new_string(
                               "No valid host was found. "));
    json_object_object_add(fault, "details", json_object_new_string(
                               "Traceback: ..."));
    json_object_object_add(fault, "created", json_object_new_string(
                               "2026-01-02T03:04:05.678000"));
    come_up(uuid, "api", INSTANCE_VM_ERROR, INSTANCE_TASK_NONE, fault);

    http_call("GET", path, MEMBER_A, NULL, &r);
    struct json_object *f = json_at(r.json, "server", "fault", NULL);
    assert_non_null(f);
    assert_int_equal(json_object_get_int(json_at(f, "code", NULL)), 500);
    assert_string_equal(str_at(f, "message", NULL),
                        "No valid host was found. ");
    assert_string_equal(str_at(f, "created", NULL), "2026-01-02T03:04:05Z");
    assert_null(json_at(f, "details", NULL));
    assert_string_equal(str_at(r.json, "server", "status"), "ERROR");
    http_result_destroy(&r);
    http_call("GET", path, ADMIN_X, NULL, &r);
    assert_string_equal(str_at(json_at(r.json, "server", "fault", NULL),
                               "details", NULL), "Traceback: ...");
    http_result_destroy(&r);
    expect_names("/v2.1/servers?status=ERROR", MEMBER_A, "doomed");
}

static void
test_delete(void **state)
{
    AUTOFREE char *path = xasprintf("/v2.1/servers/%s", web1);
    AUTOFREE char *young = boot(MEMBER_A, "unplaced", NULL);
    AUTOFREE char *young_path = xasprintf("/v2.1/servers/%s", young);

    (void) state;
    expect("DELETE", path, READER_A, NULL, 403,
           "os_compute_api:servers:delete");
    expect("DELETE", path, MEMBER_A, NULL, 204, NULL);
    json_object_put(expect_action_cast(web1, "delete", 1));
    expect("GET", path, MEMBER_A, NULL, 200,
           "\"OS-EXT-STS:task_state\":\"deleting\"");
    /* Not placed in a cell yet: gone at once, nothing sent down. */
    expect("DELETE", young_path, MEMBER_A, NULL, 204, NULL);
    expect("GET", young_path, MEMBER_A, NULL, 404, "could not be found");
    expect("DELETE", young_path, MEMBER_A, NULL, 404, "could not be found");
    assert_int_equal(cells_count(CELLS_INSTANCE_ACTION, young), 0);
    expect_names("/v2.1/servers?name=unplaced", MEMBER_A, "");

    /* Its build lands in a leaf afterwards: the update does not bring it
     * back; the row records the leaf, so that the delete can follow. */
    CLEANUP(top_view_server_freep) struct top_view_server *ghost = NULL;
    bool landed = true;
    check(top_view_get(t.db, young, true, &ghost), "get deleted");
    assert_true(ghost->deleted);
    assert_null(ghost->cell_path);
    ghost->inst->vm_state = INSTANCE_VM_ACTIVE;
    ghost->inst->task_state = INSTANCE_TASK_NONE;
    ghost->inst->update_seq += 2;
    check(top_view_apply_update(t.db, TEST_LEAF, ghost->inst, NULL,
                                &landed), "late update");
    assert_false(landed);
    top_view_server_free(ghost);
    ghost = NULL;
    check(top_view_get(t.db, young, true, &ghost), "get deleted");
    assert_true(ghost->deleted);
    assert_int_equal(ghost->inst->vm_state, INSTANCE_VM_DELETED);
    assert_string_equal(ghost->cell_path, TEST_LEAF);
    expect("GET", young_path, MEMBER_A, NULL, 404, "could not be found");

    /* The leaf reports it gone: 404, and listed only as deleted. */
    CLEANUP(top_view_server_freep) struct top_view_server *srv = NULL;
    bool applied = false;
    check(top_view_get(t.db, web1, false, &srv), "get");
    check(top_view_apply_destroy(t.db, TEST_LEAF, web1,
                                 srv->inst->update_seq + 1, &applied),
          "destroy");
    assert_true(applied);
    expect("GET", path, MEMBER_A, NULL, 404, "could not be found");
    expect_names("/v2.1/servers?status=ACTIVE", MEMBER_A, "downcell");
    /* "lost" of test_cast_failure is deleted as well. */
    expect_names("/v2.1/servers?status=DELETED&all_tenants=1", ADMIN_X,
                 "unplaced,meta-young,lost,web1");
    expect_names("/v2.1/servers?changes-since=2000-01-01&status=DELETED"
                 "&all_tenants=1", ADMIN_X,
                 "unplaced,meta-young,lost,web1");
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create),
        cmocka_unit_test(test_create_multi),
        cmocka_unit_test(test_create_errors),
        cmocka_unit_test(test_quota),
        cmocka_unit_test(test_no_cells),
        cmocka_unit_test(test_cast_failure),
        cmocka_unit_test(test_show_isolation),
        cmocka_unit_test(test_list),
        cmocka_unit_test(test_update_and_metadata),
        cmocka_unit_test(test_metadata_writes),
        cmocka_unit_test(test_mute_cell),
        cmocka_unit_test(test_actions),
        cmocka_unit_test(test_lock),
        cmocka_unit_test(test_console_and_instance_actions),
        cmocka_unit_test(test_fault),
        cmocka_unit_test(test_delete),
    };
    int status;

    test_env_require(argc, argv, "mariadb,rabbitmq");
    db_library_init();
    status = cmocka_run_group_tests_name("servers-api", tests, group_setup,
                                         group_teardown);
    free(web1);
    db_library_end();
    return status;
}
