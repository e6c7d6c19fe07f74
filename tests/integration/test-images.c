/* test-images.c: the image service (images-api.h) over HTTP against a
 * real MariaDB, and image_db_get_for_boot().
 *
 * The group setup creates and migrates a fresh API database, makes a
 * store directory and starts the HTTP server (port 0) with the image
 * routes and a token validator of its own: token "tok-admin" is an admin
 * of project "p-admin", "tok-p1" and "tok-p2" members of projects "p1"
 * and "p2".  image.max_size is TEST_MAX_SIZE.  The tests, in order:
 *
 *   - the version document;
 *   - create (201, queued, Glance's fields), upload with Content-Length
 *     and chunked, show (active, size, md5 and sha512 as computed here),
 *     download (same bytes, Content-MD5), a second upload refused (409);
 *   - JSON patch: add, replace, remove of properties and name; read-only
 *     and missing properties refused;
 *   - isolation: another project neither sees nor changes a private or
 *     shared image, sees a public or shared-with-it one; public creation
 *     by a non-admin is 403;
 *   - list filters and pagination through "next";
 *   - too large (declared and chunked): 413, image still queued, nothing
 *     in the store; an interrupted upload leaves the image queued and no
 *     file;
 *   - delete (204, file gone, then 404); protected images are kept;
 *   - image_db_get_for_boot(): plain, AMI-style (kernel_id, ramdisk_id,
 *     os_command_line, other properties), missing, queued, not visible.
 *
 * The database and the store are removed at the end. */
#include <config.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <openssl/evp.h>

#include "api-cell/api-db.h"
#include "api-cell/compute-api.h"
#include "api-cell/http-server.h"
#include "api-cell/image-db.h"
#include "api-cell/images-api.h"
#include "shared/cleanup.h"
#include "shared/db-migrate.h"
#include "shared/db.h"
#include "shared/error.h"
#include "shared/instance.h"
#include "shared/json-util.h"
#include "shared/xalloc.h"
#include "tests/integration/test-env.h"

#define TEST_DATABASE "test_images"
#define TEST_MAX_SIZE (512 * 1024)
#define TEST_IMAGE_SIZE (300 * 1000 + 7)

static struct {
    char *url;
    char *store;
    struct api_db *api_db;
    struct compute_api_config compute_config;
    struct compute_api compute;
    struct image_config image_config;
    struct http_router *router;
    struct http_server *server;
    int port;
    char *data;                 /* TEST_IMAGE_SIZE bytes */
    char *image_id;             /* of p1, uploaded */
} t;

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

/* ---- Token validator -------------------------------------------------- */

static struct error *
test_validator(void *aux, const struct http_request *req, const char *token,
               struct http_auth *ret)
{
    static const struct {
        const char *token, *project;
        bool admin;
    } tokens[] = {
        { "tok-admin", "p-admin", true },
        { "tok-p1", "p1", false },
        { "tok-p2", "p2", false },
    };

    (void) aux;
    (void) req;
    for (size_t i = 0; i < ARRAY_SIZE(tokens); i++) {
        if (!strcmp(token, tokens[i].token)) {
            ret->user_id = xasprintf("user-%s", tokens[i].project);
            ret->project_id = xstrdup(tokens[i].project);
            http_auth_add_role(ret, tokens[i].admin ? "admin" : "member");
            ret->is_admin = tokens[i].admin;
            return NULL;
        }
    }
    return error_new(ERROR_UNAUTHORIZED, "unknown token");
}

/* ---- HTTP client ------------------------------------------------------ */

struct reply {
    int status;
    char *head;
    char *body;
    size_t body_size;
    struct json_object *json;
};

static void
reply_destroy(struct reply *r)
{
    free(r->head);
    free(r->body);
    json_object_put(r->json);
    memset(r, 0, sizeof *r);
}

static char *
reply_header(const struct reply *r, const char *name)
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

static int
test_connect(void)
{
    struct sockaddr_in addr = { .sin_family = AF_INET };
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    addr.sin_port = htons((uint16_t) t.port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *) &addr, sizeof addr), 0);
    return fd;
}

static void
write_all(int fd, const void *data, size_t size)
{
    const char *p = data;

    while (size > 0) {
        ssize_t n = write(fd, p, size);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return;         /* the server closed: read its answer */
        }
        p += n;
        size -= (size_t) n;
    }
}

/* Decodes a chunked body in place; returns its size. */
static size_t
dechunk(char *body, size_t size)
{
    size_t in = 0, out = 0;

    while (in < size) {
        char *end;
        unsigned long n = strtoul(body + in, &end, 16);

        if (end == body + in) {
            break;
        }
        in = (size_t) (end - body);
        while (in < size && body[in] != '\n') {
            in++;
        }
        in++;
        if (n == 0 || in + n > size) {
            break;
        }
        memmove(body + out, body + in, n);
        out += n;
        in += n + 2;
    }
    return out;
}

/* Sends 'method' 'path' with token 'token' (NULL: none), 'content_type'
 * and 'size' bytes of 'body' (NULL: none); 'chunked' sends the body in
 * chunks of 64 KiB without Content-Length. */
static void
call(const char *method, const char *path, const char *token,
     const char *content_type, const void *body, size_t size, bool chunked,
     struct reply *ret)
{
    AUTOFREE char *head = NULL;
    AUTOFREE char *auth = token ? xasprintf("X-Auth-Token: %s\r\n", token)
                                : xstrdup("");
    AUTOFREE char *ctype = content_type
                           ? xasprintf("Content-Type: %s\r\n", content_type)
                           : xstrdup("");
    AUTOFREE char *length = chunked ? xstrdup("Transfer-Encoding: "
                                              "chunked\r\n")
                            : xasprintf("Content-Length: %zu\r\n",
                                        body ? size : 0);
    size_t cap = 1 << 16, got = 0;
    char *buf = xmalloc(cap + 1);
    char *split;
    ssize_t n;
    int fd = test_connect();

    head = xasprintf("%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                     "Connection: close\r\n%s%s%s\r\n", method, path, t.port,
                     auth, ctype, length);
    write_all(fd, head, strlen(head));
    if (body && chunked) {
        const char *p = body;
        size_t left = size;

        while (left > 0) {
            size_t piece = left < 65536 ? left : 65536;
            char line[32];

            snprintf(line, sizeof line, "%zx\r\n", piece);
            write_all(fd, line, strlen(line));
            write_all(fd, p, piece);
            write_all(fd, "\r\n", 2);
            p += piece;
            left -= piece;
        }
        write_all(fd, "0\r\n\r\n", 5);
    } else if (body) {
        write_all(fd, body, size);
    }
    while ((n = read(fd, buf + got, cap - got)) > 0) {
        got += (size_t) n;
        if (got == cap) {
            cap *= 2;
            buf = xrealloc(buf, cap + 1);
        }
    }
    close(fd);
    buf[got] = '\0';
    split = strstr(buf, "\r\n\r\n");
    assert_non_null(split);
    memset(ret, 0, sizeof *ret);
    ret->head = xstrndup(buf, (size_t) (split - buf));
    ret->body_size = got - (size_t) (split + 4 - buf);
    ret->body = xmalloc(ret->body_size + 1);
    memcpy(ret->body, split + 4, ret->body_size);
    ret->body[ret->body_size] = '\0';
    free(buf);
    assert_int_equal(sscanf(ret->head, "HTTP/1.1 %d", &ret->status), 1);
    {
        AUTOFREE char *te = reply_header(ret, "Transfer-Encoding");

        if (te && !strcasecmp(te, "chunked")) {
            ret->body_size = dechunk(ret->body, ret->body_size);
            ret->body[ret->body_size] = '\0';
        }
    }
    if (ret->body_size && ret->body[0] == '{') {
        error_free(json_parse_text(ret->body, ret->body_size, 0, 0,
                                   &ret->json));
    }
}

static void
call_json(const char *method, const char *path, const char *token,
          const char *json, struct reply *ret)
{
    call(method, path, token, json ? "application/json" : NULL, json,
         json ? strlen(json) : 0, false, ret);
}

static void
expect_status(const struct reply *r, int status, const char *what)
{
    if (r->status != status) {
        fail_msg("%s: status %d, expected %d: %s", what, r->status, status,
                 r->body);
    }
}

static const char *
jstr(struct json_object *obj, const char *key)
{
    struct json_object *v;

    return obj && json_object_object_get_ex(obj, key, &v)
           && json_object_is_type(v, json_type_string)
           ? json_object_get_string(v) : NULL;
}

static void
assert_jstr(struct json_object *obj, const char *key, const char *want)
{
    const char *got = jstr(obj, key);

    if (!got || strcmp(got, want)) {
        fail_msg("'%s' is '%s', expected '%s'", key, got ? got : "(none)",
                 want);
    }
}

/* Creates an image with body 'json' as 'token'; returns its id. */
static char *
create_image(const char *token, const char *json)
{
    struct reply r;
    char *id;

    call_json("POST", "/image/v2/images", token, json, &r);
    expect_status(&r, 201, json);
    id = xstrdup(jstr(r.json, "id"));
    reply_destroy(&r);
    return id;
}

static int
upload(const char *token, const char *id, const void *data, size_t size,
       bool chunked)
{
    AUTOFREE char *path = xasprintf("/image/v2/images/%s/file", id);
    struct reply r;
    int status;

    call("PUT", path, token, "application/octet-stream", data, size, chunked,
         &r);
    status = r.status;
    reply_destroy(&r);
    return status;
}

static void
show(const char *token, const char *id, struct reply *r)
{
    AUTOFREE char *path = xasprintf("/image/v2/images/%s", id);

    call_json("GET", path, token, NULL, r);
}

static void
hex_digest(const EVP_MD *md, const void *data, size_t size, char *out)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    assert_true(EVP_Digest(data, size, digest, &n, md, NULL));
    for (unsigned int i = 0; i < n; i++) {
        snprintf(out + 2 * i, 3, "%02x", digest[i]);
    }
}

/* The number of files in the store whose name contains 'part' (hidden
 * temporary files included). */
static int
store_count(const char *part)
{
    DIR *dir = opendir(t.store);
    struct dirent *e;
    int n = 0;

    if (!dir) {
        return 0;
    }
    while ((e = readdir(dir))) {
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")
            && strstr(e->d_name, part)) {
            n++;
        }
    }
    closedir(dir);
    return n;
}

/* ---- Setup ------------------------------------------------------------ */

static int
group_setup(void **state)
{
    CLEANUP(db_closep) struct db *admin = admin_open();
    CLEANUP(db_closep) struct db *db = NULL;
    struct http_server_config cfg;
    char store[] = "/tmp/test-images-XXXXXX";

    (void) state;
    check(db_exec_once(admin, "DROP DATABASE IF EXISTS " TEST_DATABASE,
                       DB_NO_PARAMS, NULL), "drop");
    check(db_exec_once(admin, "CREATE DATABASE " TEST_DATABASE
                       " CHARACTER SET utf8mb4", DB_NO_PARAMS, NULL),
          "create");
    t.url = xasprintf("%s%s", test_env_get("NOVA_TEST_MYSQL_ADMIN_URL"),
                      TEST_DATABASE);
    check(db_open(t.url, &db), "open");
    check(db_migrate(db, DB_SCHEMA_API, NULL, NULL), "migrate");

    assert_non_null(mkdtemp(store));
    t.store = xasprintf("%s/store", store);
    t.data = xmalloc(TEST_IMAGE_SIZE);
    for (size_t i = 0; i < TEST_IMAGE_SIZE; i++) {
        t.data[i] = (char) ((i * 7919) >> 3);
    }

    check(api_db_new(t.url, &t.api_db), "api db");
    compute_api_config_init(&t.compute_config);
    t.compute.config = &t.compute_config;
    t.compute.db = t.api_db;
    t.compute.cells = NULL;
    t.image_config.store_dir = t.store;
    t.image_config.max_size = TEST_MAX_SIZE;

    t.router = http_router_new();
    images_api_register(t.router, &t.compute, &t.image_config);
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
    AUTOFREE char *parent = xstrdup(t.store);
    DIR *dir;
    struct dirent *e;

    (void) state;
    http_server_free(t.server);
    http_router_free(t.router);
    api_db_free(t.api_db);
    check(db_exec_once(admin, "DROP DATABASE IF EXISTS " TEST_DATABASE,
                       DB_NO_PARAMS, NULL), "drop");
    dir = opendir(t.store);
    while (dir && (e = readdir(dir))) {
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            AUTOFREE char *p = xasprintf("%s/%s", t.store, e->d_name);
            (void) unlink(p);
        }
    }
    if (dir) {
        closedir(dir);
    }
    (void) rmdir(t.store);
    *strrchr(parent, '/') = '\0';
    (void) rmdir(parent);
    free(t.store);
    free(t.url);
    free(t.data);
    free(t.image_id);
    return 0;
}

/* ---- Tests ------------------------------------------------------------ */

static void
test_versions(void **state)
{
    struct reply r;
    struct json_object *versions;

    (void) state;
    call_json("GET", "/image/versions", NULL, NULL, &r);
    expect_status(&r, 200, "versions");
    assert_true(json_object_object_get_ex(r.json, "versions", &versions));
    assert_jstr(json_object_array_get_idx(versions, 0), "status",
                "CURRENT");
    reply_destroy(&r);
    call_json("GET", "/image", NULL, NULL, &r);
    expect_status(&r, 200, "root");
    reply_destroy(&r);
    call_json("GET", "/image/v2/images", NULL, NULL, &r);
    expect_status(&r, 401, "no token");
    reply_destroy(&r);
}

static void
test_create_upload_download(void **state)
{
    char md5[33], sha512[129];
    struct reply r;
    struct json_object *v;
    AUTOFREE char *path = NULL;
    AUTOFREE char *content_md5 = NULL;
    char *chunked_id;

    (void) state;
    t.image_id = create_image("tok-p1", "{\"name\": \"cirros\", "
                              "\"disk_format\": \"qcow2\", "
                              "\"container_format\": \"bare\", "
                              "\"architecture\": \"x86_64\", "
                              "\"tags\": [\"a\", \"b\"]}");
    show("tok-p1", t.image_id, &r);
    expect_status(&r, 200, "show queued");
    assert_jstr(r.json, "status", "queued");
    assert_jstr(r.json, "name", "cirros");
    assert_jstr(r.json, "visibility", "shared");
    assert_jstr(r.json, "owner", "p1");
    assert_jstr(r.json, "disk_format", "qcow2");
    assert_jstr(r.json, "container_format", "bare");
    assert_jstr(r.json, "architecture", "x86_64");
    assert_jstr(r.json, "schema", "/v2/schemas/image");
    assert_true(json_object_object_get_ex(r.json, "checksum", &v));
    assert_null(v);
    assert_true(json_object_object_get_ex(r.json, "size", &v));
    assert_null(v);
    assert_true(json_object_object_get_ex(r.json, "tags", &v));
    assert_int_equal(json_object_array_length(v), 2);
    assert_true(json_object_object_get_ex(r.json, "protected", &v));
    assert_false(json_object_get_boolean(v));
    assert_non_null(jstr(r.json, "created_at"));
    reply_destroy(&r);

    /* A download before the upload has nothing. */
    path = xasprintf("/image/v2/images/%s/file", t.image_id);
    call("GET", path, "tok-p1", NULL, NULL, 0, false, &r);
    expect_status(&r, 204, "download queued");
    reply_destroy(&r);

    assert_int_equal(upload("tok-p1", t.image_id, t.data, TEST_IMAGE_SIZE,
                            false), 204);
    hex_digest(EVP_md5(), t.data, TEST_IMAGE_SIZE, md5);
    hex_digest(EVP_sha512(), t.data, TEST_IMAGE_SIZE, sha512);
    show("tok-p1", t.image_id, &r);
    assert_jstr(r.json, "status", "active");
    assert_jstr(r.json, "checksum", md5);
    assert_jstr(r.json, "os_hash_algo", "sha512");
    assert_jstr(r.json, "os_hash_value", sha512);
    assert_true(json_object_object_get_ex(r.json, "size", &v));
    assert_int_equal(json_object_get_int64(v), TEST_IMAGE_SIZE);
    reply_destroy(&r);
    assert_int_equal(store_count(t.image_id), 1);
    assert_int_equal(store_count(".upload-"), 0);

    call("GET", path, "tok-p1", NULL, NULL, 0, false, &r);
    expect_status(&r, 200, "download");
    assert_int_equal(r.body_size, TEST_IMAGE_SIZE);
    assert_memory_equal(r.body, t.data, TEST_IMAGE_SIZE);
    content_md5 = reply_header(&r, "Content-MD5");
    assert_non_null(content_md5);
    assert_string_equal(content_md5, md5);
    reply_destroy(&r);

    /* Active: a second upload is refused and changes nothing. */
    assert_int_equal(upload("tok-p1", t.image_id, "xyz", 3, false), 409);
    assert_int_equal(store_count(t.image_id), 1);

    /* Chunked, as glanceclient sends it; a wrong content type. */
    chunked_id = create_image("tok-p1", "{\"name\": \"chunked\"}");
    {
        AUTOFREE char *p = xasprintf("/image/v2/images/%s/file",
                                     chunked_id);
        call("PUT", p, "tok-p1", "application/json", "{}", 2, false, &r);
        expect_status(&r, 400, "json upload");
        reply_destroy(&r);
    }
    assert_int_equal(upload("tok-p1", chunked_id, t.data, TEST_IMAGE_SIZE,
                            true), 204);
    show("tok-p1", chunked_id, &r);
    assert_jstr(r.json, "status", "active");
    assert_jstr(r.json, "checksum", md5);
    reply_destroy(&r);
    free(chunked_id);
}

static void
patch(const char *token, const char *id, const char *ops, int status,
      struct reply *r)
{
    AUTOFREE char *path = xasprintf("/image/v2/images/%s", id);

    call("PATCH", path, token, "application/openstack-images-v2.1-json-patch",
         ops, strlen(ops), false, r);
    expect_status(r, status, ops);
}

static void
test_patch(void **state)
{
    struct reply r;
    struct json_object *v;

    (void) state;
    patch("tok-p1", t.image_id,
          "[{\"op\": \"add\", \"path\": \"/hypervisor_type\", "
          "\"value\": \"qemu\"}, {\"op\": \"replace\", \"path\": \"/name\", "
          "\"value\": \"cirros-2\"}, {\"op\": \"remove\", \"path\": "
          "\"/architecture\"}, {\"op\": \"replace\", \"path\": "
          "\"/min_ram\", \"value\": 64}]", 200, &r);
    assert_jstr(r.json, "hypervisor_type", "qemu");
    assert_jstr(r.json, "name", "cirros-2");
    assert_false(json_object_object_get_ex(r.json, "architecture", &v));
    assert_true(json_object_object_get_ex(r.json, "min_ram", &v));
    assert_int_equal(json_object_get_int(v), 64);
    reply_destroy(&r);
    show("tok-p1", t.image_id, &r);
    assert_jstr(r.json, "hypervisor_type", "qemu");
    assert_jstr(r.json, "status", "active");
    reply_destroy(&r);

    patch("tok-p1", t.image_id, "[{\"op\": \"replace\", \"path\": "
          "\"/status\", \"value\": \"queued\"}]", 403, &r);
    reply_destroy(&r);
    patch("tok-p1", t.image_id, "[{\"op\": \"replace\", \"path\": "
          "\"/nope\", \"value\": \"x\"}]", 409, &r);
    reply_destroy(&r);
    patch("tok-p1", t.image_id, "[{\"op\": \"remove\", \"path\": "
          "\"/nope\"}]", 409, &r);
    reply_destroy(&r);
    patch("tok-p1", t.image_id, "[{\"op\": \"add\", \"path\": "
          "\"/disk_format\", \"value\": \"floppy\"}]", 400, &r);
    reply_destroy(&r);
    patch("tok-p1", t.image_id, "[{\"op\": \"add\", \"path\": "
          "\"/visibility\", \"value\": \"public\"}]", 403, &r);
    reply_destroy(&r);
    {
        AUTOFREE char *path = xasprintf("/image/v2/images/%s", t.image_id);
        call_json("PATCH", path, "tok-p1", "[]", &r);
        expect_status(&r, 400, "json content type");
        reply_destroy(&r);
    }
}

static void
test_isolation(void **state)
{
    AUTOFREE char *private_id = NULL;
    AUTOFREE char *public_id = NULL;
    AUTOFREE char *shared_id = NULL;
    AUTOFREE char *path = NULL;
    AUTOFREE char *members = NULL;
    struct reply r;

    (void) state;
    private_id = create_image("tok-p1", "{\"name\": \"mine\", "
                              "\"visibility\": \"private\"}");
    show("tok-p2", private_id, &r);
    expect_status(&r, 404, "other project's private image");
    reply_destroy(&r);
    show("tok-p2", t.image_id, &r);
    expect_status(&r, 404, "other project's shared image");
    reply_destroy(&r);
    show("tok-admin", private_id, &r);
    expect_status(&r, 200, "admin sees every image");
    reply_destroy(&r);
    assert_int_equal(upload("tok-p2", t.image_id, "x", 1, false), 404);
    patch("tok-p2", private_id, "[{\"op\": \"replace\", \"path\": "
          "\"/name\", \"value\": \"stolen\"}]", 404, &r);
    reply_destroy(&r);

    call_json("GET", "/image/v2/images", "tok-p2", NULL, &r);
    expect_status(&r, 200, "list p2");
    assert_null(strstr(r.body, private_id));
    assert_null(strstr(r.body, t.image_id));
    reply_destroy(&r);

    /* Public images: admins only. */
    call_json("POST", "/image/v2/images", "tok-p1",
              "{\"name\": \"pub\", \"visibility\": \"public\"}", &r);
    expect_status(&r, 403, "public by a member");
    reply_destroy(&r);
    public_id = create_image("tok-admin", "{\"name\": \"pub\", "
                             "\"visibility\": \"public\"}");
    show("tok-p2", public_id, &r);
    expect_status(&r, 200, "public image");
    reply_destroy(&r);
    path = xasprintf("/image/v2/images/%s", public_id);
    call_json("DELETE", path, "tok-p2", NULL, &r);
    expect_status(&r, 403, "delete someone else's public image");
    reply_destroy(&r);

    /* Sharing with p2. */
    shared_id = create_image("tok-p1", "{\"name\": \"to-share\"}");
    members = xasprintf("/image/v2/images/%s/members", shared_id);
    call_json("POST", members, "tok-p2", "{\"member\": \"p2\"}", &r);
    expect_status(&r, 404, "share by a stranger");
    reply_destroy(&r);
    call_json("POST", members, "tok-p1", "{\"member\": \"p2\"}", &r);
    expect_status(&r, 200, "share");
    reply_destroy(&r);
    show("tok-p2", shared_id, &r);
    expect_status(&r, 200, "shared with p2");
    reply_destroy(&r);

    /* Bad bodies. */
    call_json("POST", "/image/v2/images", "tok-p1",
              "{\"name\": \"x\", \"size\": 5}", &r);
    expect_status(&r, 403, "read-only size");
    reply_destroy(&r);
    call_json("POST", "/image/v2/images", "tok-p1",
              "{\"id\": \"not-a-uuid\"}", &r);
    expect_status(&r, 400, "bad id");
    reply_destroy(&r);
    call_json("POST", "/image/v2/images", "tok-p1",
              "{\"disk_format\": \"floppy\"}", &r);
    expect_status(&r, 400, "bad disk format");
    reply_destroy(&r);
}

static void
test_list(void **state)
{
    struct reply r;
    struct json_object *images, *next;
    AUTOFREE char *url = xstrdup("/image/v2/images?limit=2&name=page");
    size_t seen = 0;
    int pages = 0;

    (void) state;
    for (int i = 0; i < 5; i++) {
        free(create_image("tok-p2", "{\"name\": \"page\"}"));
    }
    while (url) {
        char *next_url = NULL;

        call_json("GET", url, "tok-p2", NULL, &r);
        expect_status(&r, 200, url);
        assert_true(json_object_object_get_ex(r.json, "images", &images));
        for (size_t i = 0; i < json_object_array_length(images); i++) {
            assert_jstr(json_object_array_get_idx(images, i), "name",
                        "page");
        }
        seen += json_object_array_length(images);
        if (json_object_object_get_ex(r.json, "next", &next)) {
            next_url = xasprintf("/image%s", json_object_get_string(next));
        }
        reply_destroy(&r);
        free(url);
        url = next_url;
        assert_true(++pages <= 4);
    }
    assert_int_equal(seen, 5);

    call_json("GET", "/image/v2/images?status=active&limit=100", "tok-p1",
              NULL, &r);
    assert_true(json_object_object_get_ex(r.json, "images", &images));
    assert_int_equal(json_object_array_length(images), 2);
    reply_destroy(&r);
    call_json("GET", "/image/v2/images?visibility=public", "tok-p1", NULL,
              &r);
    assert_true(json_object_object_get_ex(r.json, "images", &images));
    assert_int_equal(json_object_array_length(images), 1);
    reply_destroy(&r);
    call_json("GET", "/image/v2/images?marker=nope", "tok-p1", NULL, &r);
    expect_status(&r, 400, "bad marker");
    reply_destroy(&r);
}

static void
test_too_large_and_interrupted(void **state)
{
    AUTOFREE char *id = create_image("tok-p1", "{\"name\": \"big\"}");
    AUTOFREE char *big = xzalloc(TEST_MAX_SIZE + 1);
    AUTOFREE char *head = NULL;
    struct reply r;
    int fd;

    (void) state;
    /* Declared too large: refused before the body. */
    assert_int_equal(upload("tok-p1", id, big, TEST_MAX_SIZE + 1, false),
                     413);
    /* Chunked too large: refused once the limit is passed. */
    assert_int_equal(upload("tok-p1", id, big, TEST_MAX_SIZE + 1, true),
                     413);
    assert_int_equal(store_count(id), 0);
    show("tok-p1", id, &r);
    assert_jstr(r.json, "status", "queued");
    reply_destroy(&r);

    /* Interrupted: half the body, then the client goes away. */
    fd = test_connect();
    head = xasprintf("PUT /image/v2/images/%s/file HTTP/1.1\r\nHost: x\r\n"
                     "X-Auth-Token: tok-p1\r\nContent-Type: "
                     "application/octet-stream\r\nContent-Length: 200000"
                     "\r\n\r\n", id);
    write_all(fd, head, strlen(head));
    write_all(fd, big, 100000);
    for (int i = 0; i < 100 && store_count(id) == 0; i++) {
        usleep(10000);      /* the upload has started */
    }
    close(fd);
    for (int i = 0; i < 500 && store_count(id) > 0; i++) {
        usleep(10000);
    }
    assert_int_equal(store_count(id), 0);
    show("tok-p1", id, &r);
    assert_jstr(r.json, "status", "queued");
    reply_destroy(&r);

    /* It can still be uploaded. */
    assert_int_equal(upload("tok-p1", id, "data", 4, false), 204);
}

static void
test_delete(void **state)
{
    AUTOFREE char *path = xasprintf("/image/v2/images/%s", t.image_id);
    AUTOFREE char *prot = create_image("tok-p1", "{\"name\": \"keep\", "
                                       "\"protected\": true}");
    AUTOFREE char *prot_path = xasprintf("/image/v2/images/%s", prot);
    AUTOFREE char *id = create_image("tok-p1", "{\"name\": \"gone\"}");
    struct reply r;

    (void) state;
    /* The image of the first tests goes to the boot test: delete a copy
     * of it. */
    assert_int_equal(upload("tok-p1", id, t.data, 1000, false), 204);
    assert_int_equal(store_count(id), 1);
    free(path);
    path = xasprintf("/image/v2/images/%s", id);
    call_json("DELETE", path, "tok-p1", NULL, &r);
    expect_status(&r, 204, "delete");
    reply_destroy(&r);
    assert_int_equal(store_count(id), 0);
    call_json("GET", path, "tok-p1", NULL, &r);
    expect_status(&r, 404, "deleted");
    reply_destroy(&r);
    call_json("DELETE", path, "tok-p1", NULL, &r);
    expect_status(&r, 404, "deleted twice");
    reply_destroy(&r);

    call_json("DELETE", prot_path, "tok-p1", NULL, &r);
    expect_status(&r, 403, "protected");
    reply_destroy(&r);
    patch("tok-p1", prot, "[{\"op\": \"replace\", \"path\": "
          "\"/protected\", \"value\": false}]", 200, &r);
    reply_destroy(&r);
    call_json("DELETE", prot_path, "tok-p1", NULL, &r);
    expect_status(&r, 204, "unprotected");
    reply_destroy(&r);
}

static void
test_get_for_boot(void **state)
{
    AUTOFREE char *kernel = create_image("tok-p1", "{\"name\": \"vmlinuz\","
                                         " \"disk_format\": \"aki\", "
                                         "\"container_format\": \"aki\"}");
    AUTOFREE char *ramdisk = create_image("tok-p1", "{\"name\": \"initrd\","
                                          " \"disk_format\": \"ari\", "
                                          "\"container_format\": "
                                          "\"ari\"}");
    AUTOFREE char *body = xasprintf("{\"name\": \"ami\", \"disk_format\": "
                                    "\"ami\", \"container_format\": "
                                    "\"ami\", \"kernel_id\": \"%s\", "
                                    "\"ramdisk_id\": \"%s\", "
                                    "\"os_command_line\": \"console=ttyS0\","
                                    " \"architecture\": \"x86_64\"}",
                                    kernel, ramdisk);
    AUTOFREE char *ami = create_image("tok-p1", body);
    AUTOFREE char *queued = create_image("tok-p1", "{\"name\": \"q\"}");
    AUTOFREE char *disk_path = NULL;
    struct instance_image *img = NULL;
    struct db *db;
    struct error *error;
    struct reply r;

    (void) state;
    assert_int_equal(upload("tok-p1", kernel, "kernel", 6, false), 204);
    assert_int_equal(upload("tok-p1", ramdisk, "initrd", 6, false), 204);
    assert_int_equal(upload("tok-p1", ami, "rootfs", 6, false), 204);
    check(api_db_get(t.api_db, &db), "db");

    /* Plain qcow2 image. */
    check(image_db_get_for_boot(db, t.image_id, "p1", false, &img), "boot");
    assert_string_equal(img->id, t.image_id);
    assert_non_null(img->disk);
    assert_true(img->disk[0] == '/');
    assert_non_null(strstr(img->disk, t.image_id));
    assert_string_equal(img->disk_format, "qcow2");
    assert_null(img->kernel);
    assert_string_equal(instance_image_get_property(img, "hypervisor_type"),
                        "qemu");
    {
        struct stat st;

        assert_int_equal(stat(img->disk, &st), 0);
        assert_int_equal(st.st_size, TEST_IMAGE_SIZE);
    }
    disk_path = xstrdup(img->disk);
    instance_image_free(img);
    img = NULL;

    /* AMI-style. */
    check(image_db_get_for_boot(db, ami, "p1", false, &img), "ami");
    assert_string_equal(img->disk_format, "raw");
    assert_non_null(strstr(img->disk, ami));
    assert_non_null(strstr(img->kernel, kernel));
    assert_non_null(strstr(img->initrd, ramdisk));
    assert_string_equal(img->cmdline, "console=ttyS0");
    assert_string_equal(instance_image_get_property(img, "architecture"),
                        "x86_64");
    assert_null(instance_image_get_property(img, "kernel_id"));
    instance_image_free(img);
    img = NULL;

    /* The kernel image alone boots as a kernel. */
    check(image_db_get_for_boot(db, kernel, "p1", false, &img), "aki");
    assert_null(img->disk);
    assert_non_null(img->kernel);
    instance_image_free(img);
    img = NULL;

    /* Missing, queued, not visible, a missing kernel. */
    error = image_db_get_for_boot(db, "0b0c3c5e-9b7e-4a3a-8f5e-000000000000",
                                  "p1", false, &img);
    assert_non_null(error);
    assert_int_equal(error_kind(error), ERROR_INVALID);
    assert_string_equal(error_message(error), "Image 0b0c3c5e-9b7e-4a3a-"
                        "8f5e-000000000000 could not be found.");
    error_free(error);
    error = image_db_get_for_boot(db, queued, "p1", false, &img);
    assert_int_equal(error_kind(error), ERROR_INVALID);
    error_free(error);
    error = image_db_get_for_boot(db, t.image_id, "p2", false, &img);
    assert_int_equal(error_kind(error), ERROR_INVALID);
    error_free(error);
    check(image_db_get_for_boot(db, t.image_id, "p2", true, &img),
          "admin boot");
    instance_image_free(img);
    img = NULL;
    {
        AUTOFREE char *path = xasprintf("/image/v2/images/%s", kernel);

        call_json("DELETE", path, "tok-p1", NULL, &r);
        expect_status(&r, 204, "delete kernel");
        reply_destroy(&r);
    }
    error = image_db_get_for_boot(db, ami, "p1", false, &img);
    assert_int_equal(error_kind(error), ERROR_INVALID);
    assert_non_null(strstr(error_message(error), kernel));
    error_free(error);
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_versions),
        cmocka_unit_test(test_create_upload_download),
        cmocka_unit_test(test_patch),
        cmocka_unit_test(test_isolation),
        cmocka_unit_test(test_list),
        cmocka_unit_test(test_too_large_and_interrupted),
        cmocka_unit_test(test_delete),
        cmocka_unit_test(test_get_for_boot),
    };

    test_env_require(argc, argv, "mariadb");
    db_library_init();
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
