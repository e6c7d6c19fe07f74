/* test-cells-admin.c: the cell-aware admin tools against a real MariaDB
 * and RabbitMQ: the health of every cell recorded in the API database by
 * the root's nova-cells, "nova-manage cell list / capacities /
 * discover_hosts", "host list", "instance locate", and the os-cells API.
 *
 * The group setup creates five cells of its own (databases and vhosts,
 * test_env_add_cell()) in three levels:
 *
 *     api -+- region1 -+- leaf1
 *          |           +- leaf2
 *          +- leaf3
 *
 * loads the tree with the real "nova-manage cell load", and starts the
 * real nova-cells of every cell as child processes (no compute hosts: a
 * leaf then reports zero room, which is still a report), with a report
 * every second and children mute after MUTE_S seconds of silence.  It
 * also starts an HTTP server with the os-cells routes and a token
 * validator that knows "admin-token" and "member-token".
 *
 * Cases: every cell below the root gets a health row; a killed leaf's
 * nova-cells becomes mute in the API database and in "nova-manage cell
 * list" within the interval, actions on its servers are refused at once
 * (cell_status_check_reachable(): 503 naming the cell, or the mute region
 * above it), and it is healthy again once restarted; os-cells
 * shapes, 403 and 404; discover_hosts maps the leaves' compute services
 * (by subtree, idempotent, conflicts reported), host list, instance
 * locate (path, JSON, unknown: exit 1), cell capacities; over HTTP, a
 * server of a mute leaf still shows and lists while every action on it
 * (os-instance-actions included) answers 503 at once naming the cell;
 * nova-manage service list / disable / enable / force-down through the
 * tree. */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "api-cell/api-db.h"
#include "api-cell/cell-status.h"
#include "api-cell/cells-api.h"
#include "api-cell/compute-api.h"
#include "api-cell/http-request.h"
#include "api-cell/http-router.h"
#include "api-cell/http-server.h"
#include "api-cell/servers-api.h"
#include "api-cell/top-view.h"
#include "child-cell/cell-db-service.h"
#include "shared/cleanup.h"
#include "shared/db-migrate.h"
#include "shared/db.h"
#include "shared/error.h"
#include "shared/flavor.h"
#include "shared/instance.h"
#include "shared/json-util.h"
#include "shared/poll-loop.h"
#include "shared/timeutil.h"
#include "shared/xalloc.h"
#include "tests/integration/test-env.h"

#ifndef TEST_CELLS_ADMIN_BUILDDIR
#define TEST_CELLS_ADMIN_BUILDDIR "."
#endif

/* Longest wait for the first reports (sanitizer builds start slowly). */
#define GUARD_MS 120000
#define POLL_MS 100
#define STOP_GUARD_MS 30000
/* cells.capacity_interval and cells.mute_child_interval, in seconds. */
#define REPORT_S 1
#define MUTE_S 3
/* A killed leaf must show mute within the mute interval, a report of its
 * parent to the root, and slack for a loaded machine. */
#define MUTE_DEADLINE_MS ((MUTE_S + 2 * REPORT_S + 10) * 1000)
#define MAX_OUTPUT_SIZE (1024 * 1024)
#define TEST_MAX_RESPONSE_SIZE (1024 * 1024)

#define N_CELLS 5
enum { API, REGION1, LEAF1, LEAF2, LEAF3 };

struct test_cell {
    char name[32];
    char path[128];
    char *db_url;
    char *rabbit_url;
    bool leaf;
};

static struct {
    struct test_cell cells[N_CELLS];
    char topic[48];
    char *state_dir;
    char *topology;
    char *api_set;              /* "api_database.connection=..." */
    pid_t cells_pids[N_CELLS];
    struct db *api_db;
    struct api_db *api_pool;
    struct compute_api_config config;
    struct compute_api compute;
    struct http_router *router;
    struct http_server *server;
    int port;
} T;

/* ---- Helpers --------------------------------------------------------- */

static void
sleep_ms(long long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

    while (nanosleep(&ts, &ts) && errno == EINTR) {
        continue;
    }
}

static void
check(struct error *error, const char *what)
{
    if (error) {
        fail_msg("%s: %s", what, error_message(error));
    }
}

static struct json_object *
parse(const char *text)
{
    struct json_object *doc = NULL;

    check(json_parse_text(text, strlen(text), 0, 0, &doc), text);
    return doc;
}

static struct json_object *
get(const struct json_object *obj, const char *key)
{
    struct json_object *value = NULL;

    if (!obj || !json_object_object_get_ex(obj, key, &value)) {
        fail_msg("no '%s' in %s", key, obj ? json_object_to_json_string(
                     (struct json_object *) obj) : "null");
    }
    return value;
}

static const char *
get_str(const struct json_object *obj, const char *key)
{
    struct json_object *value = get(obj, key);

    return value ? json_object_get_string(value) : NULL;
}

/* The item of 'list' whose 'key' is 'value'. */
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

/* Runs "nova-manage --set api_database.connection=... ARGS..." (NULL
 * terminated) and returns its exit status; its stdout and stderr go to
 * '*ret_out' and '*ret_err' (caller frees). */
static int
run_manage(char **ret_out, char **ret_err, ...)
{
    AUTOFREE char *path = xasprintf("%s/api-cell/nova-manage",
                                    TEST_CELLS_ADMIN_BUILDDIR);
    AUTOFREE char *out_path = xasprintf("%s/manage.out", T.state_dir);
    AUTOFREE char *err_path = xasprintf("%s/manage.err", T.state_dir);
    const char *argv[32];
    size_t n = 0;
    const char *arg;
    va_list args;
    int status;
    pid_t pid;

    argv[n++] = "nova-manage";
    argv[n++] = "--set";
    argv[n++] = T.api_set;
    va_start(args, ret_err);
    while ((arg = va_arg(args, const char *)) && n < 31) {
        argv[n++] = arg;
    }
    va_end(args);
    argv[n] = NULL;
    pid = fork();
    assert_true(pid >= 0);
    if (!pid) {
        int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                       0644);
        int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                       0644);

        if (out < 0 || err < 0 || dup2(out, STDOUT_FILENO) < 0
            || dup2(err, STDERR_FILENO) < 0) {
            _exit(126);
        }
        execv(path, (char *const *) argv);
        _exit(127);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    for (int i = 0; i < 2; i++) {
        FILE *f = fopen(i ? err_path : out_path, "r");
        char *text = xzalloc(MAX_OUTPUT_SIZE + 1);

        assert_non_null(f);
        text[fread(text, 1, MAX_OUTPUT_SIZE, f)] = '\0';
        fclose(f);
        *(i ? ret_err : ret_out) = text;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Runs nova-manage, expects exit status 0 and returns its stdout. */
#define MANAGE_OK(...) manage_ok(__VA_ARGS__, (const char *) NULL)
static char *
manage_ok(const char *first, ...)
{
    const char *argv[16];
    size_t n = 0;
    const char *arg;
    va_list args;
    char *out = NULL;
    AUTOFREE char *err = NULL;
    int status;

    argv[n++] = first;
    va_start(args, first);
    while ((arg = va_arg(args, const char *)) && n < 15) {
        argv[n++] = arg;
    }
    va_end(args);
    while (n < 16) {
        argv[n++] = NULL;
    }
    status = run_manage(&out, &err, argv[0], argv[1], argv[2], argv[3],
                        argv[4], argv[5], argv[6], argv[7], argv[8],
                        argv[9], argv[10], argv[11], argv[12], argv[13],
                        argv[14], argv[15], (const char *) NULL);
    if (status) {
        fail_msg("nova-manage %s ... exited %d: %s", first, status, err);
    }
    return out;
}

/* The health column of cell 'path' in the API database, or NULL. */
static char *
db_health(const char *path)
{
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;

    check(db_query(T.api_db, "SELECT health FROM cell_mappings "
                   "WHERE path = ?", DB_PARAMS(DB_STR(path)), &rows),
          "health");
    if (!db_rows_count(rows) || db_rows_is_null(rows, 0, 0)) {
        return NULL;
    }
    return xstrdup(db_rows_get_str(rows, 0, 0));
}

/* Waits until cell 'i' has 'health' in the API database; returns the
 * milliseconds it took. */
static long long
wait_health(size_t i, const char *health, long long guard_ms)
{
    long long start = poll_loop_now_ms();

    for (;;) {
        AUTOFREE char *now = db_health(T.cells[i].path);

        if (now && !strcmp(now, health)) {
            return poll_loop_now_ms() - start;
        }
        if (poll_loop_now_ms() - start > guard_ms) {
            fail_msg("cell %s stayed %s, never %s within %lld ms (logs in "
                     "%s)", T.cells[i].path, now ? now : "NULL", health,
                     guard_ms, T.state_dir);
        }
        sleep_ms(POLL_MS);
    }
}

/* Expects cell_status_check_reachable() on cell 'i' to answer 503 at
 * once, naming cell 'down'. */
static void
expect_unreachable(size_t i, size_t down)
{
    AUTOFREE char *named = xasprintf("Cell '%s' is not responding",
                                     T.cells[down].path);
    long long start = poll_loop_now_ms();
    struct error *error = cell_status_check_reachable(T.api_db,
                                                      T.cells[i].path);

    assert_non_null(error);
    assert_true(poll_loop_now_ms() - start < 1000);
    assert_int_equal(error_kind(error), ERROR_CELL_DOWN);
    assert_int_equal(error_http_status(error), 503);
    if (!strstr(error_message(error), named)) {
        fail_msg("'%s' does not name %s", error_message(error),
                 T.cells[down].path);
    }
    assert_non_null(strstr(error_message(error), "mute"));
    assert_non_null(strstr(error_message(error), "try again later"));
    error_free(error);
}

/* ---- HTTP ------------------------------------------------------------ */

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

/* Sends 'method' 'path' with 'body' (NULL: none) and 'token'; expects
 * 'status'. */
static void
http_call(const char *method, const char *path, const char *token,
          const char *body, int status, struct http_result *ret)
{
    struct sockaddr_in addr = { .sin_family = AF_INET };
    AUTOFREE char *request = xasprintf(
        "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n"
        "X-Auth-Token: %s\r\nContent-Type: application/json\r\n"
        "Content-Length: %zu\r\n\r\n%s", method, path, T.port, token,
        body ? strlen(body) : 0, body ? body : "");
    AUTOFREE char *response = xmalloc(TEST_MAX_RESPONSE_SIZE + 1);
    size_t size = 0;
    ssize_t n;
    char *split;
    int fd;

    addr.sin_port = htons((uint16_t) T.port);
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
    if (ret->status != status) {
        fail_msg("%s %s: got %d, expected %d: %s", method, path,
                 ret->status, status, ret->body);
    }
}

static void
http_get(const char *path, const char *token, int status,
         struct http_result *ret)
{
    http_call("GET", path, token, NULL, status, ret);
}

static struct error *
validate(void *aux, const struct http_request *req, const char *token,
         struct http_auth *ret_auth)
{
    bool admin = !strcmp(token, "admin-token");

    (void) aux;
    (void) req;
    if (!admin && strcmp(token, "member-token")) {
        return error_new(ERROR_UNAUTHORIZED, "The request you have made "
                         "requires authentication.");
    }
    ret_auth->user_id = xstrdup(admin ? "admin-user" : "member-user");
    ret_auth->project_id = xstrdup("project-1");
    http_auth_add_role(ret_auth, admin ? "admin" : "member");
    ret_auth->is_admin = admin;
    return NULL;
}

/* ---- Daemons --------------------------------------------------------- */

static pid_t
start_cells(size_t i)
{
    const struct test_cell *c = &T.cells[i];
    AUTOFREE char *path = xasprintf("%s/child-cell/nova-cells",
                                    TEST_CELLS_ADMIN_BUILDDIR);
    AUTOFREE char *log = xasprintf("%s/cells-%s.log", T.state_dir, c->name);
    AUTOFREE char *topology = xasprintf("cells.topology=%s", T.topology);
    AUTOFREE char *cell = xasprintf("cells.cell=%s", c->name);
    AUTOFREE char *topic = xasprintf("cells.topic=%s", T.topic);
    AUTOFREE char *report = xasprintf("cells.capacity_interval=%d",
                                      REPORT_S);
    AUTOFREE char *mute = xasprintf("cells.mute_child_interval=%d", MUTE_S);
    const char *argv[] = {
        "nova-cells", "--log-file", log, "--log-level",
        "info,cells.health:dbg", "--set", topology, "--set", cell, "--set",
        topic, "--set", report, "--set", mute,
        i == API ? "--set" : NULL, T.api_set, NULL,
    };
    pid_t pid = fork();

    assert_true(pid >= 0);
    if (!pid) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
        }
        execv(path, (char *const *) argv);
        _exit(127);
    }
    T.cells_pids[i] = pid;
    return pid;
}

/* Stops nova-cells of cell 'i' with SIGTERM; returns its exit status (-1
 * if it had to be killed). */
static int
stop_cells(size_t i)
{
    long long deadline = poll_loop_now_ms() + STOP_GUARD_MS;
    pid_t pid = T.cells_pids[i];
    int status = 0;

    if (pid <= 0) {
        return 0;
    }
    kill(pid, SIGTERM);
    for (;;) {
        pid_t done = waitpid(pid, &status, WNOHANG);

        if (done == pid || done < 0) {
            break;
        }
        if (poll_loop_now_ms() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            status = -1;
            break;
        }
        sleep_ms(POLL_MS);
    }
    T.cells_pids[i] = 0;
    return status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* ---- Setup ----------------------------------------------------------- */

static void
write_topology(void)
{
    FILE *f;

    T.topology = xasprintf("%s/cells.yaml", T.state_dir);
    f = fopen(T.topology, "w");
    assert_non_null(f);
    fprintf(f, "cells:\n");
    for (size_t i = 0; i < N_CELLS; i++) {
        const struct test_cell *c = &T.cells[i];

        fprintf(f, "  - name: %s\n", c->name);
        if (i == REGION1 || i == LEAF3) {
            fprintf(f, "    parent: %s\n", T.cells[API].name);
        } else if (i == LEAF1 || i == LEAF2) {
            fprintf(f, "    parent: %s\n", T.cells[REGION1].name);
        }
        fprintf(f, "    transport_url: %s\n", c->rabbit_url);
        if (c->leaf) {
            fprintf(f, "    database: %s\n", c->db_url);
        }
    }
    assert_int_equal(fclose(f), 0);
}

static int
group_setup(void **state)
{
    static const char *const suffixes[N_CELLS] = {
        "api", "region1", "leaf1", "leaf2", "leaf3",
    };
    CLEANUP(test_env_url_freep) struct test_env_url *rabbit
        = test_env_url_parse(test_env_get("NOVA_TEST_RABBIT_ADMIN_URL"));
    AUTOFREE char *template = xstrdup("/tmp/test-cells-admin-XXXXXX");
    AUTOFREE char *out = NULL;
    AUTOFREE char *err = NULL;
    struct http_server_config cfg;
    struct error *error = NULL;

    (void) state;
    if (!mkdtemp(template)) {
        return -1;
    }
    T.state_dir = TAKE_PTR(template);
    snprintf(T.topic, sizeof T.topic, "cells_admin_%ld", (long) getpid());
    for (size_t i = 0; i < N_CELLS; i++) {
        struct test_cell *c = &T.cells[i];

        snprintf(c->name, sizeof c->name, "h%ld%s", (long) getpid(),
                 suffixes[i]);
        c->leaf = i >= LEAF1;
        if (test_env_add_cell(c->name)) {
            fprintf(stderr, "cannot create cell '%s'\n", c->name);
            return -1;
        }
        c->rabbit_url = xasprintf("rabbit://%s:%spw@%s:%d/%s", c->name,
                                  c->name, rabbit->host, rabbit->port,
                                  c->name);
        c->db_url = xasprintf("%snova_%s",
                              test_env_get("NOVA_TEST_MYSQL_ADMIN_URL"),
                              c->name);
    }
    snprintf(T.cells[API].path, sizeof T.cells[API].path, "%s",
             T.cells[API].name);
    snprintf(T.cells[REGION1].path, sizeof T.cells[REGION1].path, "%s!%s",
             T.cells[API].name, T.cells[REGION1].name);
    snprintf(T.cells[LEAF1].path, sizeof T.cells[LEAF1].path, "%s!%s!%s",
             T.cells[API].name, T.cells[REGION1].name, T.cells[LEAF1].name);
    snprintf(T.cells[LEAF2].path, sizeof T.cells[LEAF2].path, "%s!%s!%s",
             T.cells[API].name, T.cells[REGION1].name, T.cells[LEAF2].name);
    snprintf(T.cells[LEAF3].path, sizeof T.cells[LEAF3].path, "%s!%s",
             T.cells[API].name, T.cells[LEAF3].name);
    T.api_set = xasprintf("api_database.connection=%s", T.cells[API].db_url);
    write_topology();

    for (size_t i = 0; i < N_CELLS && !error; i++) {
        struct db *db = NULL;

        if (i == REGION1) {
            continue;
        }
        error = db_open(T.cells[i].db_url, &db);
        if (!error) {
            error = db_migrate(db, i == API ? DB_SCHEMA_API : DB_SCHEMA_CELL,
                               NULL, NULL);
        }
        if (i == API && !error) {
            T.api_db = db;
        } else {
            db_close(db);
        }
    }
    if (!error) {
        error = api_db_new(T.cells[API].db_url, &T.api_pool);
    }
    if (error) {
        fprintf(stderr, "setup: %s\n", error_message(error));
        error_free(error);
        return -1;
    }
    if (run_manage(&out, &err, "cell", "load", T.topology,
                   (const char *) NULL)) {
        fprintf(stderr, "cell load: %s\n", err);
        return -1;
    }

    compute_api_config_init(&T.config);
    T.compute.config = &T.config;
    T.compute.db = T.api_pool;
    T.router = http_router_new();
    cells_api_register(T.router, &T.compute);
    servers_api_register(T.router, &T.compute);
    http_server_config_init(&cfg);
    cfg.port = 0;
    cfg.n_threads = 2;
    error = http_server_new(&cfg, T.router, &T.server);
    if (!error) {
        http_server_set_auth_validator(T.server, validate, NULL);
        error = http_server_start(T.server);
    }
    if (error) {
        fprintf(stderr, "server: %s\n", error_message(error));
        error_free(error);
        return -1;
    }
    T.port = http_server_port(T.server);

    for (size_t i = 0; i < N_CELLS; i++) {
        start_cells(i);
    }
    return 0;
}

static int
remove_entry(const char *path, const struct stat *st, int type,
             struct FTW *ftw)
{
    (void) st;
    (void) type;
    (void) ftw;
    return remove(path);
}

static int
group_teardown(void **state)
{
    int failed = 0;

    (void) state;
    for (size_t i = 0; i < N_CELLS; i++) {
        int status = stop_cells(i);

        if (status) {
            fprintf(stderr, "nova-cells of %s exited with %d\n",
                    T.cells[i].name, status);
            failed = 1;
        }
    }
    http_server_free(T.server);
    http_router_free(T.router);
    api_db_free(T.api_pool);
    for (size_t i = 0; i < N_CELLS; i++) {
        AUTOFREE char *drop = xasprintf("DROP DATABASE IF EXISTS nova_%s",
                                        T.cells[i].name);

        if (T.api_db) {
            error_free(db_exec_once(T.api_db, drop, DB_NO_PARAMS, NULL));
        }
        free(T.cells[i].db_url);
        free(T.cells[i].rabbit_url);
    }
    db_close(T.api_db);
    if (failed || getenv("NOVA_TEST_KEEP_LOGS")) {
        fprintf(stderr, "logs in %s\n", T.state_dir);
    } else {
        (void) nftw(T.state_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    }
    free(T.api_set);
    free(T.topology);
    free(T.state_dir);
    return failed ? -1 : 0;
}

/* ---- Cases ----------------------------------------------------------- */

/* Every cell below the root, the deepest included, gets a health row with
 * its last report and capacity; cell list shows them. */
static void
test_health_rows(void **state)
{
    AUTOFREE char *text = NULL;
    AUTOFREE char *json = NULL;
    CLEANUP(json_putp) struct json_object *doc = NULL;
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;

    (void) state;
    for (size_t i = REGION1; i < N_CELLS; i++) {
        wait_health(i, "healthy", GUARD_MS);
    }
    check(db_query(T.api_db, "SELECT path FROM cell_mappings WHERE "
                   "last_heard_at IS NOT NULL AND capacity IS NOT NULL",
                   DB_NO_PARAMS, &rows), "rows");
    assert_int_equal(db_rows_count(rows), N_CELLS - 1);

    json = MANAGE_OK("cell", "list", "--format", "json");
    doc = parse(json);
    assert_int_equal(json_object_array_length(doc), N_CELLS);
    for (size_t i = 0; i < N_CELLS; i++) {
        struct json_object *cell = find(doc, "path", T.cells[i].path);

        assert_null(strstr(json_object_to_json_string(cell), "pw@"));
        if (i == API) {
            assert_null(get(cell, "health"));
            continue;
        }
        assert_string_equal(get_str(cell, "health"), "healthy");
        assert_non_null(get(cell, "last_heard_at"));
        assert_non_null(get(cell, "free_ram_mb"));
    }
    text = MANAGE_OK("cell", "list");
    assert_non_null(strstr(text, "| Last Heard"));
    assert_non_null(strstr(text, "| Health"));
    assert_non_null(strstr(text, "| Free RAM MB"));
    assert_non_null(strstr(text, "| healthy"));
    assert_null(strstr(text, "pw@"));
}

/* A killed leaf's nova-cells shows mute within the interval, and
 * healthy again once restarted. */
static void
test_killed_leaf_mute(void **state)
{
    AUTOFREE char *text = NULL;
    AUTOFREE char *row = NULL;
    long long took;
    char *line;

    (void) state;
    wait_health(LEAF1, "healthy", GUARD_MS);
    assert_int_equal(stop_cells(LEAF1), 0);
    took = wait_health(LEAF1, "mute", MUTE_DEADLINE_MS);
    assert_true(took >= (MUTE_S - 1) * 1000);

    text = MANAGE_OK("cell", "list");
    line = strstr(text, T.cells[LEAF1].path);
    assert_non_null(line);
    row = xstrndup(line, strcspn(line, "\n"));
    assert_non_null(strstr(row, "| mute"));
    /* The other leaf of the same region is still healthy. */
    {
        AUTOFREE char *other = db_health(T.cells[LEAF2].path);

        assert_string_equal(other, "healthy");
    }

    /* Actions on its servers fail fast, naming the cell; its sibling and
     * its parent still answer; an unplaced server is reachable. */
    expect_unreachable(LEAF1, LEAF1);
    check(cell_status_check_reachable(T.api_db, T.cells[LEAF2].path),
          "leaf2 reachable");
    check(cell_status_check_reachable(T.api_db, T.cells[REGION1].path),
          "region1 reachable");
    check(cell_status_check_reachable(T.api_db, NULL), "unplaced");

    start_cells(LEAF1);
    wait_health(LEAF1, "healthy", GUARD_MS);
    check(cell_status_check_reachable(T.api_db, T.cells[LEAF1].path),
          "leaf1 reachable again");
}

/* Cell 'i' is listed (as "nova-manage cell list" and os-cells show it)
 * with 'health'. */
static void
expect_listed_health(size_t i, const char *health)
{
    CLEANUP(cell_status_list_freep) struct cell_status_list *list = NULL;
    const struct cell_status *st;

    check(cell_status_list(T.api_db, &list), "cell_status_list");
    st = cell_status_find(list, T.cells[i].path);
    assert_non_null(st);
    assert_non_null(st->health);
    assert_string_equal(st->health, health);
}

/* A mute region makes every cell below it unreachable, and the message
 * names the region (the leaves' own rows are only stale).  Both children
 * of the root are stopped, so no report reaches the root at all: it must
 * mark them mute on its own timer.  The cells below the region are listed
 * as unreachable. */
static void
test_mute_region_unreachable(void **state)
{
    (void) state;
    wait_health(REGION1, "healthy", GUARD_MS);
    wait_health(LEAF3, "healthy", GUARD_MS);
    assert_int_equal(stop_cells(REGION1), 0);
    assert_int_equal(stop_cells(LEAF3), 0);
    wait_health(REGION1, "mute", MUTE_DEADLINE_MS);
    wait_health(LEAF3, "mute", MUTE_DEADLINE_MS);
    expect_unreachable(LEAF2, REGION1);
    expect_unreachable(REGION1, REGION1);
    expect_unreachable(LEAF3, LEAF3);
    check(cell_status_check_reachable(T.api_db, T.cells[API].path),
          "root reachable");
    expect_listed_health(REGION1, "mute");
    expect_listed_health(LEAF1, "unreachable");
    expect_listed_health(LEAF2, "unreachable");
    expect_listed_health(LEAF3, "mute");

    start_cells(REGION1);
    start_cells(LEAF3);
    wait_health(REGION1, "healthy", GUARD_MS);
    wait_health(LEAF3, "healthy", GUARD_MS);
    check(cell_status_check_reachable(T.api_db, T.cells[LEAF2].path),
          "leaf2 reachable again");
    check(cell_status_check_reachable(T.api_db, T.cells[LEAF3].path),
          "leaf3 reachable again");
}

/* A server of leaf 1 as the top view holds it once built: active, on a
 * host, owned by "project-1" (the tokens' project). */
static void
add_server(const char *uuid)
{
    CLEANUP(instance_freep) struct instance *inst = instance_new(uuid);
    CLEANUP(flavor_freep) struct flavor *f = flavor_new("1", "m1.tiny");
    bool applied = false;

    f->vcpus = 1;
    f->memory_mb = 512;
    f->root_gb = 1;
    instance_set_flavor(inst, f);
    inst->display_name = xstrdup("in-leaf1");
    inst->project_id = xstrdup("project-1");
    inst->user_id = xstrdup("member-user");
    check(top_view_create(T.api_db, inst), "top_view_create");
    inst->host = xasprintf("%s-host", T.cells[LEAF1].name);
    inst->node = xstrdup(inst->host);
    inst->vm_state = INSTANCE_VM_ACTIVE;
    inst->power_state = INSTANCE_POWER_RUNNING;
    inst->launched_at = time_now_ms();
    inst->update_seq = 1;
    check(top_view_apply_update(T.api_db, T.cells[LEAF1].path, inst, NULL,
                                &applied), "top_view_apply_update");
    assert_true(applied);
}

/* POSTs action 'body' on server 'uuid' and expects a 503 at once, whose
 * fault names leaf 1. */
static void
expect_action_503(const char *method, const char *path, const char *body)
{
    long long start = poll_loop_now_ms();
    struct http_result r;

    http_call(method, path, "member-token", body, 503, &r);
    assert_true(poll_loop_now_ms() - start < 2000);
    assert_non_null(strstr(r.body, "serviceUnavailable"));
    if (!strstr(r.body, T.cells[LEAF1].path)) {
        fail_msg("%s %s: the fault does not name %s: %s", method, path,
                 T.cells[LEAF1].path, r.body);
    }
    http_result_destroy(&r);
}

/* Over HTTP: while leaf 1 is mute, every action on its server answers
 * 503 at once naming the cell, and the server still lists and shows with
 * its last known state; once leaf 1 reports again, actions go through. */
static void
test_mute_leaf_server_actions(void **state)
{
    static const char uuid[] = "5b7c1c9e-8d4f-4e2a-9c3b-7f1e2d3c4b5a";
    AUTOFREE char *action = xasprintf("/v2.1/servers/%s/action", uuid);
    AUTOFREE char *show = xasprintf("/v2.1/servers/%s", uuid);
    AUTOFREE char *actions = xasprintf("/v2.1/servers/%s/os-instance-actions",
                                       uuid);
    AUTOFREE char *one_action = xasprintf(
        "/v2.1/servers/%s/os-instance-actions/req-1", uuid);
    static const char *const bodies[] = {
        "{\"os-stop\": null}",
        "{\"reboot\": {\"type\": \"HARD\"}}",
        "{\"pause\": null}",
        "{\"lock\": null}",
        "{\"os-getConsoleOutput\": {}}",
        "{\"createImage\": {\"name\": \"snap\"}}",
        "{\"createBackup\": {\"name\": \"b\", \"backup_type\": "
        "\"daily\", \"rotation\": 1}}",
    };
    struct http_result r;

    (void) state;
    wait_health(LEAF1, "healthy", GUARD_MS);
    add_server(uuid);
    /* Heard from: lock and unlock (top view only) go through. */
    http_call("POST", action, "member-token", "{\"lock\": null}", 202, &r);
    http_result_destroy(&r);
    http_call("POST", action, "member-token", "{\"unlock\": null}", 202,
              &r);
    http_result_destroy(&r);

    assert_int_equal(stop_cells(LEAF1), 0);
    wait_health(LEAF1, "mute", MUTE_DEADLINE_MS);
    for (size_t i = 0; i < ARRAY_SIZE(bodies); i++) {
        expect_action_503("POST", action, bodies[i]);
    }
    expect_action_503("GET", actions, NULL);
    expect_action_503("GET", one_action, NULL);

    /* Still shown and listed, with the last known state. */
    http_call("GET", show, "member-token", NULL, 200, &r);
    assert_string_equal(get_str(get(r.json, "server"), "status"), "ACTIVE");
    http_result_destroy(&r);
    http_call("GET", "/v2.1/servers", "member-token", NULL, 200, &r);
    assert_non_null(strstr(r.body, uuid));
    http_result_destroy(&r);
    http_call("GET", "/v2.1/servers/detail", "member-token", NULL, 200, &r);
    assert_non_null(strstr(r.body, uuid));
    http_result_destroy(&r);

    /* Back: it rejoins and actions go through again. */
    start_cells(LEAF1);
    wait_health(LEAF1, "healthy", GUARD_MS);
    http_call("POST", action, "member-token", "{\"lock\": null}", 202, &r);
    http_result_destroy(&r);
}

/* os-cells: shapes, admin only, unknown cells. */
static void
test_os_cells(void **state)
{
    AUTOFREE char *show = xasprintf("/v2.1/os-cells/%s",
                                    T.cells[REGION1].name);
    AUTOFREE char *caps = xasprintf("/v2.1/os-cells/%s/capacities",
                                    T.cells[LEAF3].name);
    AUTOFREE char *root_caps = xasprintf("/v2.1/os-cells/%s/capacities",
                                         T.cells[API].name);
    struct json_object *cells, *cell, *children, *c, *ram, *disk;
    struct http_result r;

    (void) state;
    wait_health(LEAF3, "healthy", GUARD_MS);
    http_get("/v2.1/os-cells", "admin-token", 200, &r);
    cells = get(r.json, "cells");
    assert_int_equal(json_object_array_length(cells), N_CELLS);
    cell = find(cells, "name", T.cells[REGION1].name);
    assert_string_equal(get_str(cell, "path"), T.cells[REGION1].path);
    assert_string_equal(get_str(cell, "parent"), T.cells[API].name);
    assert_string_equal(get_str(cell, "type"), "parent");
    assert_false(json_object_get_boolean(get(cell, "disabled")));
    assert_true(json_object_is_type(get(cell, "availability_zones"),
                                    json_type_array));
    children = get(cell, "children");
    assert_int_equal(json_object_array_length(children), 2);
    cell = find(cells, "name", T.cells[LEAF3].name);
    assert_string_equal(get_str(cell, "type"), "child");
    assert_string_equal(get_str(cell, "health"), "healthy");
    assert_non_null(strchr(get_str(cell, "last_heard_at"), 'T'));
    cell = find(cells, "name", T.cells[API].name);
    assert_null(get(cell, "parent"));
    assert_null(strstr(r.body, "pw@"));
    assert_null(strstr(r.body, "transport_url"));
    http_result_destroy(&r);

    http_get(show, "admin-token", 200, &r);
    cell = get(r.json, "cell");
    assert_string_equal(get_str(cell, "name"), T.cells[REGION1].name);
    children = get(cell, "children");
    c = json_object_array_get_idx(children, 0);
    assert_string_equal(json_object_get_string(c), T.cells[LEAF1].name);
    http_result_destroy(&r);

    http_get(caps, "admin-token", 200, &r);
    cell = get(r.json, "cell");
    assert_string_equal(get_str(cell, "name"), T.cells[LEAF3].name);
    ram = get(get(cell, "capacities"), "ram_free");
    disk = get(get(cell, "capacities"), "disk_free");
    assert_true(json_object_is_type(get(ram, "total_mb"), json_type_int));
    assert_true(json_object_is_type(get(ram, "units_by_mb"),
                                    json_type_object));
    assert_non_null(get(get(ram, "units_by_mb"), "512"));
    assert_true(json_object_is_type(get(disk, "total_mb"), json_type_int));
    assert_non_null(get(get(disk, "units_by_mb"), "1024"));
    http_result_destroy(&r);

    http_get(root_caps, "admin-token", 200, &r);
    assert_non_null(get(get(get(r.json, "cell"), "capacities"),
                        "ram_free"));
    http_result_destroy(&r);

    http_get("/v2.1/os-cells", "member-token", 403, &r);
    assert_non_null(strstr(r.body, "forbidden"));
    http_result_destroy(&r);
    http_get(show, "member-token", 403, &r);
    http_result_destroy(&r);
    http_get("/v2.1/os-cells/no-such-cell", "admin-token", 404, &r);
    assert_non_null(strstr(r.body, "itemNotFound"));
    http_result_destroy(&r);
    http_get("/v2.1/os-cells/no-such-cell/capacities", "admin-token", 404,
             &r);
    http_result_destroy(&r);
}

/* Records a nova-compute heartbeat for 'host' in leaf 'i'. */
static void
add_compute(size_t i, const char *host)
{
    CLEANUP(db_closep) struct db *db = NULL;

    check(db_open(T.cells[i].db_url, &db), "leaf db");
    check(cell_db_service_heartbeat(db, host, "nova-compute", "compute", 1,
                                    NULL), "heartbeat");
}

static void
test_discover_and_list_hosts(void **state)
{
    AUTOFREE char *out = NULL;
    AUTOFREE char *again = NULL;
    AUTOFREE char *all = NULL;
    AUTOFREE char *list_text = NULL;
    AUTOFREE char *list_json = NULL;
    AUTOFREE char *leaf3_json = NULL;
    AUTOFREE char *conflict = NULL;
    AUTOFREE char *host_a = xasprintf("%s-a1", T.cells[LEAF1].name);
    AUTOFREE char *host_b = xasprintf("%s-a2", T.cells[LEAF1].name);
    AUTOFREE char *host_c = xasprintf("%s-b1", T.cells[LEAF2].name);
    AUTOFREE char *host_d = xasprintf("%s-c1", T.cells[LEAF3].name);
    AUTOFREE char *host_x = xasprintf("%s-x", T.cells[LEAF1].name);
    AUTOFREE char *mapped = NULL;
    CLEANUP(json_putp) struct json_object *doc = NULL;
    CLEANUP(json_putp) struct json_object *doc3 = NULL;
    CLEANUP(json_putp) struct json_object *conflict_doc = NULL;

    (void) state;
    add_compute(LEAF1, host_a);
    add_compute(LEAF1, host_b);
    add_compute(LEAF2, host_c);
    add_compute(LEAF3, host_d);

    /* Only the hosts below region1. */
    out = MANAGE_OK("cell", "discover_hosts", "--cell",
                    T.cells[REGION1].name);
    mapped = xasprintf("Mapped host '%s' to cell '%s'", host_a,
                       T.cells[LEAF1].path);
    assert_non_null(strstr(out, mapped));
    assert_non_null(strstr(out, "3 hosts mapped"));
    assert_null(strstr(out, host_d));

    all = MANAGE_OK("cell", "discover_hosts");
    assert_non_null(strstr(all, host_d));
    assert_non_null(strstr(all, "1 hosts mapped, 3 already mapped"));
    again = MANAGE_OK("cell", "discover_hosts");
    assert_non_null(strstr(again, "0 hosts mapped, 4 already mapped"));

    list_text = MANAGE_OK("host", "list");
    assert_non_null(strstr(list_text, "| Host"));
    assert_non_null(strstr(list_text, host_c));
    list_json = MANAGE_OK("host", "list", "--format", "json");
    doc = parse(list_json);
    assert_int_equal(json_object_array_length(doc), 4);
    assert_string_equal(get_str(find(doc, "host", host_c), "cell_path"),
                        T.cells[LEAF2].path);
    leaf3_json = MANAGE_OK("host", "list", "--cell", T.cells[LEAF3].name,
                           "--format=json");
    doc3 = parse(leaf3_json);
    assert_int_equal(json_object_array_length(doc3), 1);

    /* A host some other cell already claims is reported, not moved. */
    check(db_exec(T.api_db, "INSERT INTO host_mappings (host, cell_path) "
                  "VALUES (?, ?)", DB_PARAMS(DB_STR(host_x),
                                             DB_STR(T.cells[LEAF2].path)),
                  NULL), "insert");
    add_compute(LEAF1, host_x);
    conflict = MANAGE_OK("cell", "discover_hosts", "--format", "json");
    conflict_doc = parse(conflict);
    assert_int_equal(json_object_array_length(get(conflict_doc,
                                                  "conflicts")), 1);
    assert_int_equal(json_object_array_length(get(conflict_doc, "mapped")),
                     0);
}

/* The disabled, disabled_reason and forced_down of service 'binary' on
 * 'host' in the database of leaf 'i', as "0|reason|1". */
static char *
leaf_service(size_t i, const char *host, const char *binary)
{
    CLEANUP(db_closep) struct db *db = NULL;
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;

    check(db_open(T.cells[i].db_url, &db), "leaf db");
    check(db_query(db, "SELECT disabled, COALESCE(disabled_reason, ''), "
                   "forced_down FROM services WHERE host = ? AND "
                   "`binary` = ? AND deleted = 0",
                   DB_PARAMS(DB_STR(host), DB_STR(binary)), &rows),
          "service");
    assert_int_equal(db_rows_count(rows), 1);
    return xasprintf("%lld|%s|%lld",
                     (long long) db_rows_get_int64(rows, 0, 0),
                     db_rows_get_str(rows, 0, 1),
                     (long long) db_rows_get_int64(rows, 0, 2));
}

/* nova-manage service list / disable / enable / force-down through the
 * tree (the API cell's nova-cells), on the compute services recorded by
 * test_discover_and_list_hosts. */
static void
test_service_tree(void **state)
{
    AUTOFREE char *host_a = xasprintf("%s-a1", T.cells[LEAF1].name);
    AUTOFREE char *host_c = xasprintf("%s-b1", T.cells[LEAF2].name);
    AUTOFREE char *host_d = xasprintf("%s-c1", T.cells[LEAF3].name);
    AUTOFREE char *json = NULL;
    AUTOFREE char *text = NULL;
    AUTOFREE char *done = NULL;
    AUTOFREE char *expected = NULL;
    AUTOFREE char *row = NULL;
    CLEANUP(json_putp) struct json_object *doc = NULL;
    struct json_object *services;
    char *out = NULL;
    char *err = NULL;

    (void) state;
    for (size_t i = REGION1; i < N_CELLS; i++) {
        wait_health(i, "healthy", GUARD_MS);
    }
    /* Listed from the leaves below region1 only, with their cells. */
    json = MANAGE_OK("service", "list", "--cell", T.cells[REGION1].name,
                     "--binary", "nova-compute", "--format", "json");
    doc = parse(json);
    services = get(doc, "services");
    assert_string_equal(get_str(find(services, "host", host_a),
                                "cell_path"), T.cells[LEAF1].path);
    assert_string_equal(get_str(find(services, "host", host_c),
                                "cell_path"), T.cells[LEAF2].path);
    assert_null(strstr(json, host_d));
    assert_int_equal(json_object_array_length(get(doc, "missing")), 0);

    /* The whole tree as an aligned table. */
    text = MANAGE_OK("service", "list", "--cell", T.cells[API].name);
    assert_non_null(strstr(text, "| Cell"));
    assert_non_null(strstr(text, "| Forced down"));
    assert_non_null(strstr(text, host_d));

    /* Disable and enable: found in its leaf, changed there. */
    done = MANAGE_OK("service", "disable", host_c, "nova-compute",
                     "--cell", T.cells[REGION1].name, "--reason", "maint");
    expected = xasprintf("Disabled nova-compute on host '%s' in cell '%s'",
                         host_c, T.cells[LEAF2].path);
    assert_non_null(strstr(done, expected));
    row = leaf_service(LEAF2, host_c, "nova-compute");
    assert_string_equal(row, "1|maint|0");
    free(row);
    free(done);
    done = MANAGE_OK("service", "enable", host_c, "nova-compute", "--cell",
                     T.cells[LEAF2].path);
    row = leaf_service(LEAF2, host_c, "nova-compute");
    assert_string_equal(row, "0||0");
    free(row);

    /* Forced down and back, found by listing the whole tree. */
    free(done);
    done = MANAGE_OK("service", "force-down", host_d, "nova-compute",
                     "--cell", T.cells[API].name);
    row = leaf_service(LEAF3, host_d, "nova-compute");
    assert_string_equal(row, "0||1");
    free(row);
    free(done);
    done = MANAGE_OK("service", "force-down", host_d, "nova-compute",
                     "--cell", T.cells[API].name, "--unset");
    row = leaf_service(LEAF3, host_d, "nova-compute");
    assert_string_equal(row, "0||0");

    /* Not found: exit 1; not below the cell named: exit 1; a mistake on
     * the command line: exit 2. */
    assert_int_equal(run_manage(&out, &err, "service", "disable",
                                "no-such-host", "nova-compute", "--cell",
                                T.cells[API].name, (const char *) NULL), 1);
    assert_non_null(strstr(err, "not found"));
    free(out);
    free(err);
    assert_int_equal(run_manage(&out, &err, "service", "enable", host_d,
                                "nova-compute", "--cell",
                                T.cells[REGION1].name, (const char *) NULL),
                     1);
    free(out);
    free(err);
    assert_int_equal(run_manage(&out, &err, "service", "list", "--cell",
                                (const char *) NULL), 2);
    free(out);
    free(err);
    assert_int_equal(run_manage(&out, &err, "service", "list", "--cell",
                                T.cells[API].name, "--format", "yaml",
                                (const char *) NULL), 2);
    free(out);
    free(err);
}

static void
test_locate_and_capacities(void **state)
{
    static const char uuid[] = "0d6f4c8e-2f8b-4a59-9bd0-4a3b2c1d0e9f";
    static const char unknown[] = "11111111-2222-3333-4444-555555555555";
    AUTOFREE char *out = NULL;
    AUTOFREE char *json = NULL;
    AUTOFREE char *err = NULL;
    AUTOFREE char *bad_out = NULL;
    AUTOFREE char *caps = NULL;
    AUTOFREE char *caps_text = NULL;
    AUTOFREE char *expected = xasprintf("%s\n", T.cells[LEAF2].path);
    CLEANUP(json_putp) struct json_object *doc = NULL;
    CLEANUP(json_putp) struct json_object *caps_doc = NULL;
    char *u_out = NULL;
    char *u_err = NULL;

    (void) state;
    check(db_exec(T.api_db, "INSERT INTO instance_mappings (instance_uuid, "
                  "cell_path, project_id) VALUES (?, ?, 'p1')",
                  DB_PARAMS(DB_STR(uuid), DB_STR(T.cells[LEAF2].path)),
                  NULL), "mapping");
    out = MANAGE_OK("instance", "locate", uuid);
    assert_string_equal(out, expected);
    json = MANAGE_OK("instance", "locate", uuid, "--format", "json");
    doc = parse(json);
    assert_string_equal(get_str(doc, "cell_path"), T.cells[LEAF2].path);
    assert_string_equal(get_str(doc, "cell_name"), T.cells[LEAF2].name);

    assert_int_equal(run_manage(&bad_out, &err, "instance", "locate",
                                unknown, (const char *) NULL), 1);
    assert_non_null(strstr(err, "not found"));
    assert_int_equal(run_manage(&u_out, &u_err, "instance", "locate",
                                uuid, "--bogus", (const char *) NULL), 2);
    free(u_out);
    free(u_err);

    caps = MANAGE_OK("cell", "capacities", "--cell", T.cells[REGION1].name,
                     "--format", "json");
    caps_doc = parse(caps);
    assert_int_equal(json_object_array_length(caps_doc), 3);
    assert_true(json_object_is_type(
                    get(find(caps_doc, "path", T.cells[LEAF1].path),
                        "units"), json_type_array));
    caps_text = MANAGE_OK("cell", "capacities");
    assert_non_null(strstr(caps_text, "| Free Units"));
    assert_non_null(strstr(caps_text, T.cells[LEAF3].path));
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_health_rows),
        cmocka_unit_test(test_killed_leaf_mute),
        cmocka_unit_test(test_mute_region_unreachable),
        cmocka_unit_test(test_mute_leaf_server_actions),
        cmocka_unit_test(test_os_cells),
        cmocka_unit_test(test_discover_and_list_hosts),
        cmocka_unit_test(test_service_tree),
        cmocka_unit_test(test_locate_and_capacities),
    };

    test_env_require(argc, argv, "mariadb,rabbitmq");
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
