/* test-snapshot.c: createImage and createBackup through the real HTTP API
 * of a real cloud.
 *
 * deploy/cloud starts every daemon of this build tree (api -> region ->
 * leaf, cells of this run alone, one simulated host) against the run's
 * MariaDB and RabbitMQ in a scratch state directory; the test then talks
 * HTTP to nova-api as a client would: the demo user uploads an image,
 * boots a server from it and snapshots it.  On a simulated host the
 * snapshot is a placeholder file naming the instance, which must come
 * back from the image service with the right properties; three backups
 * with rotation 2 must leave two backups; malformed bodies get 400 naming
 * the field; a server in vm_state error gets 409.  The daemons are
 * stopped at the end (or when the test dies, by the group teardown). */
#include <config.h>

#include <errno.h>
#include <setjmp.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <json-c/json.h>

#include "tests/integration/test-env.h"

extern char **environ;

#define SNAP_WAIT_S 60
#define SNAP_MAX_BODY (4u * 1024 * 1024)

struct snap_cloud {
    char state[64];
    char base[64];
    char *admin_token;
    char *demo_token;
    char *server_id;
    char *image_id;
    char *flavor_id;
};

static struct snap_cloud cloud;

/* ---- Helpers ---------------------------------------------------------- */

static char *
snap_printf(const char *fmt, ...)
{
    va_list args;
    char *s = NULL;
    int n;

    va_start(args, fmt);
    n = vasprintf(&s, fmt, args);
    va_end(args);
    assert_true(n >= 0);
    return s;
}

static int
snap_run(char *const argv[])
{
    pid_t pid;
    int status;

    if (posix_spawn(&pid, argv[0], NULL, NULL, argv, environ)) {
        return -1;
    }
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            return -1;
        }
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The value of "NAME='value'" or "export NAME=value" in 'file'. */
static char *
snap_read_var(const char *file, const char *name)
{
    FILE *f = fopen(file, "r");
    char line[1024];
    char *value = NULL;
    size_t n = strlen(name);

    assert_non_null(f);
    while (!value && fgets(line, sizeof line, f)) {
        char *p = line;

        if (!strncmp(p, "export ", 7)) {
            p += 7;
        }
        if (!strncmp(p, name, n) && p[n] == '=') {
            char *v = p + n + 1;

            v[strcspn(v, "\n")] = '\0';
            if (*v == '\'') {
                v++;
                v[strcspn(v, "'")] = '\0';
            }
            value = strdup(v);
        }
    }
    fclose(f);
    assert_non_null(value);
    return value;
}

struct snap_resp {
    long status;
    char *body;
    size_t size;
    char *location;
    char *subject_token;
};

static void
snap_resp_free(struct snap_resp *r)
{
    free(r->body);
    free(r->location);
    free(r->subject_token);
    memset(r, 0, sizeof *r);
}

static size_t
snap_body_cb(char *ptr, size_t size, size_t nmemb, void *r_)
{
    struct snap_resp *r = r_;
    size_t n = size * nmemb;

    if (r->size + n > SNAP_MAX_BODY) {
        return 0;
    }
    r->body = realloc(r->body, r->size + n + 1);
    memcpy(r->body + r->size, ptr, n);
    r->size += n;
    r->body[r->size] = '\0';
    return n;
}

static char *
snap_header_value(const char *line, size_t n, const char *name)
{
    size_t len = strlen(name);

    if (n > len + 1 && !strncasecmp(line, name, len) && line[len] == ':') {
        const char *v = line + len + 1;
        size_t vn = n - len - 1;

        while (vn && (*v == ' ')) {
            v++;
            vn--;
        }
        while (vn && (v[vn - 1] == '\r' || v[vn - 1] == '\n')) {
            vn--;
        }
        return strndup(v, vn);
    }
    return NULL;
}

static size_t
snap_header_cb(char *ptr, size_t size, size_t nmemb, void *r_)
{
    struct snap_resp *r = r_;
    size_t n = size * nmemb;
    char *v;

    if ((v = snap_header_value(ptr, n, "Location"))) {
        free(r->location);
        r->location = v;
    }
    if ((v = snap_header_value(ptr, n, "X-Subject-Token"))) {
        free(r->subject_token);
        r->subject_token = v;
    }
    return n;
}

/* 'method' '<base><path>' with 'token' and 'body' ('type' its content
 * type; NULL: JSON). */
static void
snap_http(const char *method, const char *path, const char *token,
          const char *body, const char *type, struct snap_resp *r)
{
    char *url = snap_printf("%s%s", cloud.base, path);
    struct curl_slist *headers = NULL;
    char *h;
    CURL *curl = curl_easy_init();

    memset(r, 0, sizeof *r);
    assert_non_null(curl);
    if (token) {
        h = snap_printf("X-Auth-Token: %s", token);
        headers = curl_slist_append(headers, h);
        free(h);
    }
    h = snap_printf("Content-Type: %s", type ? type : "application/json");
    headers = curl_slist_append(headers, h);
    free(h);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    if (body) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    }
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, snap_body_cb);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, snap_header_cb);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
    assert_int_equal(curl_easy_perform(curl), CURLE_OK);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r->status);
    curl_easy_cleanup(curl);
    curl_slist_free_all(headers);
    free(url);
    if (!r->body) {
        r->body = strdup("");
    }
}

/* The JSON of a request expected to answer 'want'. */
static struct json_object *
snap_json(const char *method, const char *path, const char *token,
          const char *body, long want)
{
    struct snap_resp r;
    struct json_object *obj;

    snap_http(method, path, token, body, NULL, &r);
    if (r.status != want) {
        print_error("%s %s: HTTP %ld, expected %ld: %s\n", method, path,
                    r.status, want, r.body);
    }
    assert_int_equal(r.status, want);
    obj = json_tokener_parse(r.body);
    snap_resp_free(&r);
    return obj;
}

static const char *
snap_str(struct json_object *obj, const char *a, const char *b)
{
    struct json_object *v = NULL;

    if (a && !json_object_object_get_ex(obj, a, &obj)) {
        return NULL;
    }
    if (!json_object_object_get_ex(obj, b, &v)) {
        return NULL;
    }
    return json_object_get_string(v);
}

static char *
snap_token(const char *user, const char *password)
{
    char *body = snap_printf(
        "{\"auth\": {\"identity\": {\"methods\": [\"password\"], "
        "\"password\": {\"user\": {\"name\": \"%s\", \"domain\": "
        "{\"id\": \"default\"}, \"password\": \"%s\"}}}, \"scope\": "
        "{\"project\": {\"name\": \"%s\", \"domain\": {\"id\": "
        "\"default\"}}}}}", user, password, user);
    struct snap_resp r;
    char *token;

    snap_http("POST", "/v3/auth/tokens", NULL, body, NULL, &r);
    free(body);
    assert_int_equal(r.status, 201);
    assert_non_null(r.subject_token);
    token = strdup(r.subject_token);
    snap_resp_free(&r);
    return token;
}

/* Waits until the server shows 'status' with no task state. */
static struct json_object *
snap_wait_server(const char *id, const char *status)
{
    char *path = snap_printf("/v2.1/servers/%s", id);

    for (int i = 0; i < SNAP_WAIT_S * 5; i++) {
        struct json_object *srv = snap_json("GET", path, cloud.demo_token,
                                            NULL, 200);
        const char *st = snap_str(srv, "server", "status");
        const char *task = snap_str(srv, "server", "OS-EXT-STS:task_state");

        if (st && !strcmp(st, status) && !task) {
            free(path);
            return srv;
        }
        if (st && !strcmp(st, "ERROR") && strcmp(status, "ERROR")) {
            fail_msg("server %s went to ERROR", id);
        }
        json_object_put(srv);
        usleep(200 * 1000);
    }
    fail_msg("server %s did not reach %s", id, status);
    return NULL;
}

/* Waits until image 'id' is 'status' and returns it. */
static struct json_object *
snap_wait_image(const char *id, const char *status)
{
    char *path = snap_printf("/image/v2/images/%s", id);

    for (int i = 0; i < SNAP_WAIT_S * 5; i++) {
        struct json_object *img = snap_json("GET", path, cloud.demo_token,
                                            NULL, 200);
        const char *st = snap_str(img, NULL, "status");

        if (st && !strcmp(st, status)) {
            free(path);
            return img;
        }
        json_object_put(img);
        usleep(200 * 1000);
    }
    fail_msg("image %s did not become %s", id, status);
    return NULL;
}

static char *
snap_boot(const char *name, const char *flavor)
{
    char *body = snap_printf("{\"server\": {\"name\": \"%s\", \"imageRef\": "
                             "\"%s\", \"flavorRef\": \"%s\"}}", name,
                             cloud.image_id, flavor);
    struct json_object *obj = snap_json("POST", "/v2.1/servers",
                                        cloud.demo_token, body, 202);
    char *id = strdup(snap_str(obj, "server", "id"));

    json_object_put(obj);
    free(body);
    return id;
}

/* The image id at the end of a Location header. */
static char *
snap_location_id(const struct snap_resp *r)
{
    const char *slash;

    assert_non_null(r->location);
    assert_non_null(strstr(r->location, "/image/v2/images/"));
    slash = strrchr(r->location, '/');
    return strdup(slash + 1);
}

/* ---- Set-up: a cloud --------------------------------------------------- */

static int
snap_setup(void **state)
{
    const char *rabbit = test_env_get("NOVA_TEST_RABBIT_PORT");
    const char *mysql = test_env_get("NOVA_TEST_MYSQL_PORT");
    const char *servers = test_env_get("NOVA_TEST_STATE_DIR");
    char *topo, *conf, *port, *pw, *cmd_cloud;
    struct json_object *obj;
    struct snap_resp r;
    FILE *f;

    (void) state;
    snprintf(cloud.state, sizeof cloud.state, "/tmp/test-snapshot.XXXXXX");
    assert_non_null(mkdtemp(cloud.state));
    topo = snap_printf("%s/cells.yaml", cloud.state);
    f = fopen(topo, "w");
    assert_non_null(f);
    /* Cells of this run alone, so that nothing another test or an
     * earlier run left in the shared servers is seen. */
    char api[32], region[32], leaf[32];

    snprintf(api, sizeof api, "s%ldapi", (long) getpid());
    snprintf(region, sizeof region, "s%ldregion", (long) getpid());
    snprintf(leaf, sizeof leaf, "s%ldleaf", (long) getpid());
    assert_int_equal(test_env_add_cell(api), 0);
    assert_int_equal(test_env_add_cell(region), 0);
    assert_int_equal(test_env_add_cell(leaf), 0);
    fprintf(f, "cells:\n"
            "  - name: %s\n"
            "    transport_url: rabbit://%s:%spw@127.0.0.1:%s/%s\n"
            "  - name: %s\n"
            "    parent: %s\n"
            "    transport_url: rabbit://%s:%spw@127.0.0.1:%s/%s\n"
            "  - name: %s\n"
            "    parent: %s\n"
            "    transport_url: rabbit://%s:%spw@127.0.0.1:%s/%s\n"
            "    database: mysql://%s:%spw@127.0.0.1:%s/nova_%s\n",
            api, api, api, rabbit, api,
            region, api, region, region, rabbit, region,
            leaf, region, leaf, leaf, rabbit, leaf, leaf, leaf, mysql,
            leaf);
    fclose(f);
    cmd_cloud = snap_printf("%s/deploy/cloud", TEST_ENV_SRCDIR);
    /* The API database is the root cell's own, as fresh as the cell. */
    char *api_db = snap_printf("mysql://%s:%spw@127.0.0.1:%s/nova_%s", api,
                               api, mysql, api);
    {
        char *argv[] = {
            cmd_cloud, (char *) "--state-dir", cloud.state,
            (char *) "--topology", topo, (char *) "--servers-dir",
            (char *) servers, (char *) "--build-dir",
            (char *) TEST_SNAPSHOT_BUILDDIR, (char *) "--hosts",
            (char *) "1", (char *) "--api-db", api_db, (char *) "start",
            NULL,
        };

        if (snap_run(argv)) {
            print_error("deploy/cloud start failed\n");
            free(api_db);
            return -1;
        }
    }
    free(api_db);
    free(cmd_cloud);
    free(topo);
    conf = snap_printf("%s/cloud.conf", cloud.state);
    port = snap_read_var(conf, "API_PORT");
    snprintf(cloud.base, sizeof cloud.base, "http://127.0.0.1:%s", port);
    free(port);
    free(conf);

    conf = snap_printf("%s/openrc", cloud.state);
    pw = snap_read_var(conf, "OS_PASSWORD");
    cloud.admin_token = snap_token("admin", pw);
    free(pw);
    free(conf);
    conf = snap_printf("%s/openrc.demo", cloud.state);
    pw = snap_read_var(conf, "OS_PASSWORD");
    cloud.demo_token = snap_token("demo", pw);
    free(pw);
    free(conf);

    /* A flavor, an image and an ACTIVE server of the demo project. */
    json_object_put(snap_json(
        "POST", "/v2.1/flavors", cloud.admin_token,
        "{\"flavor\": {\"name\": \"snap-tiny\", \"ram\": 128, \"vcpus\": 1, "
        "\"disk\": 1, \"id\": \"snap-tiny\"}}", 200));
    json_object_put(snap_json(
        "POST", "/v2.1/flavors", cloud.admin_token,
        "{\"flavor\": {\"name\": \"snap-huge\", \"ram\": 128, "
        "\"vcpus\": 1, \"disk\": 1000000, \"id\": \"snap-huge\"}}",
        200));
    obj = snap_json("POST", "/image/v2/images", cloud.demo_token,
                    "{\"name\": \"snap-base\", \"disk_format\": \"raw\", "
                    "\"container_format\": \"bare\"}", 201);
    cloud.image_id = strdup(snap_str(obj, NULL, "id"));
    json_object_put(obj);
    {
        char *path = snap_printf("/image/v2/images/%s/file", cloud.image_id);

        snap_http("PUT", path, cloud.demo_token, "base image bytes",
                  "application/octet-stream", &r);
        assert_int_equal(r.status, 204);
        snap_resp_free(&r);
        free(path);
    }
    cloud.server_id = snap_boot("snap-server", "snap-tiny");
    json_object_put(snap_wait_server(cloud.server_id, "ACTIVE"));
    return 0;
}

static int
snap_teardown(void **state)
{
    char *cmd_cloud = snap_printf("%s/deploy/cloud", TEST_ENV_SRCDIR);
    char *argv[] = {
        cmd_cloud, (char *) "--state-dir", cloud.state, (char *) "stop",
        NULL,
    };
    char *rm[] = {
        (char *) "/bin/rm", (char *) "-rf", cloud.state, NULL,
    };

    (void) state;
    if (cloud.state[0]) {
        (void) snap_run(argv);
        if (!getenv("NOVA_TEST_KEEP")) {
            (void) snap_run(rm);
        }
    }
    free(cmd_cloud);
    free(cloud.admin_token);
    free(cloud.demo_token);
    free(cloud.server_id);
    free(cloud.image_id);
    free(cloud.flavor_id);
    return 0;
}

/* ---- Tests ------------------------------------------------------------- */

static char *
snap_action_path(const char *id)
{
    return snap_printf("/v2.1/servers/%s/action", id);
}

static void
snap_expect_400(const char *body, const char *field)
{
    char *path = snap_action_path(cloud.server_id);
    struct snap_resp r;

    snap_http("POST", path, cloud.demo_token, body, NULL, &r);
    if (r.status != 400 || !strstr(r.body, field)) {
        print_error("%s: HTTP %ld %s\n", body, r.status, r.body);
    }
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, field));
    snap_resp_free(&r);
    free(path);
}

static void
test_bad_bodies(void **state)
{
    (void) state;
    snap_expect_400("{\"createImage\": {}}", "name");
    snap_expect_400("{\"createImage\": {\"name\": \"\"}}", "name");
    snap_expect_400("{\"createImage\": {\"name\": \"x\", \"bogus\": 1}}",
                    "bogus");
    snap_expect_400("{\"createImage\": {\"name\": \"x\", \"metadata\": 3}}",
                    "metadata");
    snap_expect_400("{\"createImage\": {\"name\": \"x\", \"metadata\": "
                    "{\"k\": 1}}}", "k");
    snap_expect_400("{\"createImage\": null}", "createImage");
    snap_expect_400("{\"createBackup\": {\"name\": \"b\", \"rotation\": 1}}",
                    "backup_type");
    snap_expect_400("{\"createBackup\": {\"name\": \"b\", \"backup_type\": "
                    "\"daily\"}}", "rotation");
    snap_expect_400("{\"createBackup\": {\"name\": \"b\", \"backup_type\": "
                    "\"daily\", \"rotation\": -1}}", "rotation");
    snap_expect_400("{\"createBackup\": {\"name\": \"b\", \"backup_type\": "
                    "\"daily\", \"rotation\": \"x\"}}", "rotation");
}

static void
test_create_image(void **state)
{
    char *path = snap_action_path(cloud.server_id);
    struct json_object *img;
    struct snap_resp r;
    char *id, *file, *want;

    (void) state;
    snap_http("POST", path, cloud.demo_token,
              "{\"createImage\": {\"name\": \"snap-1\", \"metadata\": "
              "{\"purpose\": \"test\"}}}", NULL, &r);
    assert_int_equal(r.status, 202);
    assert_int_equal(r.size, 0);
    id = snap_location_id(&r);
    snap_resp_free(&r);

    img = snap_wait_image(id, "active");
    assert_string_equal(snap_str(img, NULL, "name"), "snap-1");
    assert_string_equal(snap_str(img, NULL, "image_type"), "snapshot");
    assert_string_equal(snap_str(img, NULL, "instance_uuid"),
                        cloud.server_id);
    assert_string_equal(snap_str(img, NULL, "base_image_ref"),
                        cloud.image_id);
    assert_string_equal(snap_str(img, NULL, "purpose"), "test");
    assert_string_equal(snap_str(img, NULL, "visibility"), "private");
    json_object_put(img);

    file = snap_printf("/image/v2/images/%s/file", id);
    snap_http("GET", file, cloud.demo_token, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    want = snap_printf("snapshot of instance %s on host ", cloud.server_id);
    assert_true(!strncmp(r.body, want, strlen(want)));
    snap_resp_free(&r);
    free(want);
    free(file);

    /* The task state is cleared and the action recorded. */
    json_object_put(snap_wait_server(cloud.server_id, "ACTIVE"));
    {
        char *ap = snap_printf("/v2.1/servers/%s/os-instance-actions",
                               cloud.server_id);
        struct json_object *acts = snap_json("GET", ap, cloud.demo_token,
                                             NULL, 200);

        assert_non_null(strstr(json_object_to_json_string(acts),
                               "createImage"));
        json_object_put(acts);
        free(ap);
    }
    free(id);
    free(path);
}

/* The ids of the backups of the server, as the image list shows them. */
static size_t
snap_count_backups(const char *backup_type, const char *must_have,
                   const char *must_not_have)
{
    struct json_object *list = snap_json("GET", "/image/v2/images?limit=1000",
                                         cloud.demo_token, NULL, 200);
    struct json_object *images = json_object_object_get(list, "images");
    size_t n = 0;
    bool have = !must_have;

    for (size_t i = 0; i < json_object_array_length(images); i++) {
        struct json_object *img = json_object_array_get_idx(images, i);
        const char *type = snap_str(img, NULL, "image_type");
        const char *uuid = snap_str(img, NULL, "instance_uuid");
        const char *bt = snap_str(img, NULL, "backup_type");
        const char *id = snap_str(img, NULL, "id");

        if (type && !strcmp(type, "backup") && uuid
            && !strcmp(uuid, cloud.server_id) && bt
            && !strcmp(bt, backup_type)) {
            n++;
            if (must_have && !strcmp(id, must_have)) {
                have = true;
            }
            if (must_not_have) {
                assert_string_not_equal(id, must_not_have);
            }
        }
    }
    json_object_put(list);
    assert_true(have);
    return n;
}

static void
test_backup_rotation(void **state)
{
    char *path = snap_action_path(cloud.server_id);
    char *ids[3];

    (void) state;
    for (int i = 0; i < 3; i++) {
        char *body = snap_printf("{\"createBackup\": {\"name\": \"bk-%d\", "
                                 "\"backup_type\": \"daily\", "
                                 "\"rotation\": 2}}", i);
        struct snap_resp r;
        struct json_object *img;

        snap_http("POST", path, cloud.demo_token, body, NULL, &r);
        free(body);
        assert_int_equal(r.status, 202);
        ids[i] = snap_location_id(&r);
        snap_resp_free(&r);
        img = snap_wait_image(ids[i], "active");
        assert_string_equal(snap_str(img, NULL, "backup_type"), "daily");
        json_object_put(img);
        json_object_put(snap_wait_server(cloud.server_id, "ACTIVE"));
        /* created_at has whole seconds: keep the backups apart. */
        sleep(1);
    }
    assert_int_equal(snap_count_backups("daily", ids[2], ids[0]), 2);
    assert_int_equal(snap_count_backups("daily", ids[1], NULL), 2);
    for (int i = 0; i < 3; i++) {
        free(ids[i]);
    }
    free(path);
}

static void
test_wrong_state(void **state)
{
    char *id = snap_boot("snap-error", "snap-huge");
    char *path = snap_action_path(id);
    struct snap_resp r;

    (void) state;
    json_object_put(snap_wait_server(id, "ERROR"));
    snap_http("POST", path, cloud.demo_token,
              "{\"createImage\": {\"name\": \"no\"}}", NULL, &r);
    assert_int_equal(r.status, 409);
    assert_non_null(strstr(r.body, "vm_state error"));
    snap_resp_free(&r);
    snap_http("POST", path, cloud.demo_token,
              "{\"createBackup\": {\"name\": \"no\", \"backup_type\": \"w\", "
              "\"rotation\": 1}}", NULL, &r);
    assert_int_equal(r.status, 409);
    snap_resp_free(&r);
    free(path);
    free(id);
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_bodies),
        cmocka_unit_test(test_create_image),
        cmocka_unit_test(test_backup_rotation),
        cmocka_unit_test(test_wrong_state),
    };

    test_env_require(argc, argv, "mariadb,rabbitmq");
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return cmocka_run_group_tests(tests, snap_setup, snap_teardown);
}
