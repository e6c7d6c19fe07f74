/* test-image-cache.c: nova-compute's image cache (compute-image-cache.h)
 * against the real image service of nova-api over HTTP.
 *
 * The group setup creates and migrates a fresh API database and starts
 * nova-api's HTTP server (port 0) with the image routes, a stand-in for
 * POST /v3/auth/tokens that gives the service user "compute-svc" tokens
 * "svc-1", "svc-2", ... (only the newest is valid), and a token validator
 * that counts the downloads it lets through (the server-side count of
 * GET .../file requests).  Images are uploaded as "tok-admin" and
 * handed to the cache as image_db_get_for_boot() describes them.  The
 * tests, in order:
 *
 *   - download and verify, linked from the instance directory; a second
 *     build of the same image is a cache hit (no request);
 *   - 20 concurrent builds of one image download it once;
 *   - a bad md5 and a bad sha512 are refused with "checksum mismatch"
 *     and leave nothing in the cache;
 *   - a token refused with 401 is asked for again and the download
 *     retried;
 *   - an AMI's kernel and ramdisk are downloaded too;
 *   - the qcow2 overlay sized to the flavor's root disk (skipped without
 *     qemu-img);
 *   - the cleanup removes old images no instance links to, and old
 *     partial downloads, and keeps the linked ones.
 *
 * The database, the store and the cache are removed at the end. */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <json-c/json.h>

#include "api-cell/api-db.h"
#include "api-cell/compute-api.h"
#include "api-cell/http-request.h"
#include "api-cell/http-router.h"
#include "api-cell/http-server.h"
#include "api-cell/image-db.h"
#include "api-cell/images-api.h"
#include "child-cell/compute-image-cache.h"
#include "child-cell/compute-spec.h"
#include "shared/cleanup.h"
#include "shared/db-migrate.h"
#include "shared/db.h"
#include "shared/error.h"
#include "shared/instance.h"
#include "shared/xalloc.h"
#include "tests/integration/test-env.h"

#define TEST_DATABASE "test_image_cache"
#define TEST_N_CONCURRENT 20
#define TEST_MAX_AGE_S 100

static struct {
    char *url;
    char *top;                  /* Temporary directory of everything. */
    char *store;
    char *cache_dir;
    char *instances;
    struct api_db *api_db;
    struct compute_api_config compute_config;
    struct compute_api compute;
    struct image_config image_config;
    struct http_router *router;
    struct http_server *server;
    int port;
    struct compute_image_cache *cache;
    char *image_a;              /* Downloaded by the first test. */

    pthread_mutex_t lock;
    unsigned int n_downloads;   /* GET .../file let through. */
    unsigned int n_refused;     /* Service tokens refused. */
    unsigned int n_tokens;      /* Tokens issued. */
    char valid[32];             /* The valid service token. */
} t;

static void
check(struct error *error, const char *what)
{
    if (error) {
        fail_msg("%s: %s", what, error_message(error));
    }
}

static void
error_free_check_invalid(struct error *error)
{
    assert_non_null(error);
    assert_int_equal(error_kind(error), ERROR_INVALID);
    error_free(error);
}

static unsigned int
counter(unsigned int *c)
{
    unsigned int v;

    pthread_mutex_lock(&t.lock);
    v = *c;
    pthread_mutex_unlock(&t.lock);
    return v;
}

/* ---- The server side ---------------------------------------------------- */

static struct error *
test_validator(void *aux, const struct http_request *req, const char *token,
               struct http_auth *ret)
{
    const char *path = http_request_path(req);
    size_t n = strlen(path);
    bool ok = false;

    (void) aux;
    if (!strcmp(token, "tok-admin")) {
        ret->user_id = xstrdup("user-admin");
        ret->project_id = xstrdup("p-admin");
        http_auth_add_role(ret, "admin");
        ret->is_admin = true;
        return NULL;
    }
    pthread_mutex_lock(&t.lock);
    if (!strcmp(token, t.valid)) {
        ok = true;
        if (n > 5 && !strcmp(path + n - 5, "/file")) {
            t.n_downloads++;
        }
    } else {
        t.n_refused++;
    }
    pthread_mutex_unlock(&t.lock);
    if (!ok) {
        return error_new(ERROR_UNAUTHORIZED, "unknown token");
    }
    ret->user_id = xstrdup("user-compute-svc");
    ret->project_id = xstrdup("service");
    http_auth_add_role(ret, "admin");
    ret->is_admin = true;
    return NULL;
}

/* POST /v3/auth/tokens for the service user only. */
static struct error *
test_issue_token(struct http_request *req, struct http_response *resp,
                 void *aux)
{
    struct json_object *body = http_request_body(req);
    struct json_object *user = NULL;
    char token[32];

    (void) aux;
    if (body) {
        struct json_object *a, *i, *p;

        if (json_object_object_get_ex(body, "auth", &a)
            && json_object_object_get_ex(a, "identity", &i)
            && json_object_object_get_ex(i, "password", &p)) {
            json_object_object_get_ex(p, "user", &user);
        }
    }
    {
        struct json_object *name = NULL, *password = NULL;

        if (!user || !json_object_object_get_ex(user, "name", &name)
            || !json_object_object_get_ex(user, "password", &password)
            || strcmp(json_object_get_string(name), "compute-svc")
            || strcmp(json_object_get_string(password), "pw")) {
            return error_new(ERROR_UNAUTHORIZED, "bad credentials");
        }
    }
    pthread_mutex_lock(&t.lock);
    snprintf(token, sizeof token, "svc-%u", ++t.n_tokens);
    snprintf(t.valid, sizeof t.valid, "%s", token);
    pthread_mutex_unlock(&t.lock);
    http_response_add_header(resp, "X-Subject-Token", token);
    http_response_set_json(resp, 201, json_object_new_object());
    return NULL;
}

/* ---- Client helpers ----------------------------------------------------- */

struct buf {
    char *data;
    size_t size;
};

static size_t
buf_write(char *data, size_t size, size_t n, void *aux)
{
    struct buf *b = aux;

    b->data = xrealloc(b->data, b->size + size * n + 1);
    memcpy(b->data + b->size, data, size * n);
    b->size += size * n;
    b->data[b->size] = '\0';
    return size * n;
}

/* 'method' 'path' as tok-admin with 'body'; returns the status and the
 * body in '*ret' (freed by the caller) when 'ret' is not NULL. */
static long
request(const char *method, const char *path, const char *content_type,
        const void *body, size_t size, char **ret)
{
    AUTOFREE char *url = xasprintf("http://127.0.0.1:%d%s", t.port, path);
    AUTOFREE char *ctype = xasprintf("Content-Type: %s", content_type);
    struct curl_slist *headers = NULL;
    struct buf b = { NULL, 0 };
    long status = 0;
    CURL *curl = curl_easy_init();

    assert_non_null(curl);
    headers = curl_slist_append(headers, "X-Auth-Token: tok-admin");
    headers = curl_slist_append(headers, ctype);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) size);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, buf_write);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
    assert_int_equal(curl_easy_perform(curl), CURLE_OK);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    if (ret) {
        *ret = b.data ? b.data : xstrdup("");
    } else {
        free(b.data);
    }
    return status;
}

/* Creates an image from 'json' and uploads 'size' bytes of 'data';
 * returns its id. */
static char *
upload_image(const char *json, const void *data, size_t size)
{
    AUTOFREE char *reply = NULL;
    AUTOFREE char *path = NULL;
    struct json_object *obj, *id;
    char *ret;

    assert_int_equal(request("POST", "/image/v2/images", "application/json",
                             json, strlen(json), &reply), 201);
    obj = json_tokener_parse(reply);
    assert_non_null(obj);
    assert_true(json_object_object_get_ex(obj, "id", &id));
    ret = xstrdup(json_object_get_string(id));
    json_object_put(obj);
    path = xasprintf("/image/v2/images/%s/file", ret);
    assert_int_equal(request("PUT", path, "application/octet-stream", data,
                             size, NULL), 204);
    return ret;
}

static char *
pattern(size_t size, unsigned int seed)
{
    char *data = xmalloc(size);

    for (size_t i = 0; i < size; i++) {
        data[i] = (char) (((i + seed) * 7919) >> 3);
    }
    return data;
}

static struct instance_image *
boot_image(const char *id)
{
    struct instance_image *img = NULL;
    struct db *db;

    check(api_db_get(t.api_db, &db), "db");
    check(image_db_get_for_boot(db, id, "p-admin", false, &img), "boot");
    return img;
}

static char *
instance_dir(const char *name)
{
    return xasprintf("%s/%s", t.instances, name);
}

static size_t
file_size(const char *path)
{
    struct stat st;

    assert_int_equal(stat(path, &st), 0);
    return (size_t) st.st_size;
}

/* Files of the cache whose name contains 'part' ("" for all). */
static int
cache_count(const char *part)
{
    DIR *dir = opendir(t.cache_dir);
    struct dirent *e;
    int n = 0;

    assert_non_null(dir);
    while ((e = readdir(dir))) {
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")
            && strstr(e->d_name, part)) {
            n++;
        }
    }
    closedir(dir);
    return n;
}

static void
remove_tree(const char *path)
{
    DIR *dir = opendir(path);
    struct dirent *e;

    if (!dir) {
        (void) unlink(path);
        return;
    }
    while ((e = readdir(dir))) {
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            AUTOFREE char *p = xasprintf("%s/%s", path, e->d_name);
            struct stat st;

            if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
                remove_tree(p);
            } else {
                (void) unlink(p);
            }
        }
    }
    closedir(dir);
    (void) rmdir(path);
}

/* ---- Set-up ------------------------------------------------------------- */

static int
group_setup(void **state)
{
    struct db *admin = NULL;
    struct db *db = NULL;
    struct http_server_config cfg;
    struct compute_image_cache_options o = { 0 };
    char top[] = "/tmp/test-image-cache-XXXXXX";
    AUTOFREE char *api_url = NULL;
    AUTOFREE char *auth_url = NULL;

    (void) state;
    pthread_mutex_init(&t.lock, NULL);
    check(db_open(test_env_get("NOVA_TEST_MYSQL_ADMIN_URL"), &admin),
          "admin");
    check(db_exec_once(admin, "DROP DATABASE IF EXISTS " TEST_DATABASE,
                       DB_NO_PARAMS, NULL), "drop");
    check(db_exec_once(admin, "CREATE DATABASE " TEST_DATABASE
                       " CHARACTER SET utf8mb4", DB_NO_PARAMS, NULL),
          "create");
    db_close(admin);
    t.url = xasprintf("%s%s", test_env_get("NOVA_TEST_MYSQL_ADMIN_URL"),
                      TEST_DATABASE);
    check(db_open(t.url, &db), "open");
    check(db_migrate(db, DB_SCHEMA_API, NULL, NULL), "migrate");
    db_close(db);

    assert_non_null(mkdtemp(top));
    t.top = xstrdup(top);
    t.store = xasprintf("%s/store", top);
    t.cache_dir = xasprintf("%s/cache", top);
    t.instances = xasprintf("%s/instances", top);
    assert_int_equal(mkdir(t.instances, 0755), 0);

    check(api_db_new(t.url, &t.api_db), "api db");
    compute_api_config_init(&t.compute_config);
    t.compute.config = &t.compute_config;
    t.compute.db = t.api_db;
    t.image_config.store_dir = t.store;
    t.image_config.max_size = 64 * 1024 * 1024;
    t.router = http_router_new();
    images_api_register(t.router, &t.compute, &t.image_config);
    http_router_add(t.router, HTTP_POST, "/v3/auth/tokens",
                    HTTP_ROUTE_PUBLIC | HTTP_ROUTE_IDENTITY,
                    test_issue_token, NULL);
    http_server_config_init(&cfg);
    cfg.port = 0;
    cfg.n_threads = 4;
    check(http_server_new(&cfg, t.router, &t.server), "server");
    http_server_set_auth_validator(t.server, test_validator, NULL);
    check(http_server_start(t.server), "start");
    t.port = http_server_port(t.server);

    api_url = xasprintf("http://127.0.0.1:%d/image/", t.port);
    auth_url = xasprintf("http://127.0.0.1:%d/v3", t.port);
    o.api_url = api_url;
    o.auth_url = auth_url;
    o.username = "compute-svc";
    o.password = "pw";
    o.project = "service";
    o.cache_dir = t.cache_dir;
    o.max_age_s = TEST_MAX_AGE_S;
    check(compute_image_cache_new(&o, &t.cache), "cache");
    return 0;
}

static int
group_teardown(void **state)
{
    struct db *admin = NULL;

    (void) state;
    compute_image_cache_free(t.cache);
    http_server_free(t.server);
    http_router_free(t.router);
    api_db_free(t.api_db);
    check(db_open(test_env_get("NOVA_TEST_MYSQL_ADMIN_URL"), &admin),
          "admin");
    check(db_exec_once(admin, "DROP DATABASE IF EXISTS " TEST_DATABASE,
                       DB_NO_PARAMS, NULL), "drop");
    db_close(admin);
    remove_tree(t.top);
    free(t.top);
    free(t.store);
    free(t.cache_dir);
    free(t.instances);
    free(t.url);
    free(t.image_a);
    pthread_mutex_destroy(&t.lock);
    return 0;
}

/* ---- Tests -------------------------------------------------------------- */

static void
test_download_and_hit(void **state)
{
    const size_t size = 300 * 1000 + 7;
    AUTOFREE char *data = pattern(size, 1);
    AUTOFREE char *dir1 = instance_dir("a1");
    AUTOFREE char *dir2 = instance_dir("a2");
    AUTOFREE char *link = xasprintf("%s/disk.base", dir1);
    struct compute_spec *cs1 = xzalloc(sizeof *cs1);
    struct compute_spec *cs2 = xzalloc(sizeof *cs2);
    struct instance_image *img;
    unsigned int before;
    char target[4096];
    ssize_t n;
    FILE *f;
    char *got;

    (void) state;
    t.image_a = upload_image("{\"name\": \"a\", \"disk_format\": \"raw\", "
                             "\"container_format\": \"bare\"}", data, size);
    img = boot_image(t.image_a);
    assert_non_null(img->url);
    assert_non_null(img->checksum);
    assert_non_null(img->os_hash_value);
    assert_int_equal(strlen(img->os_hash_value), 128);
    {
        /* The IMAGE with its download keys travels as JSON. */
        struct json_object *json = instance_image_to_json(img);
        struct instance_image *copy = NULL;

        check(instance_image_from_json(json, "image", &copy), "decode");
        assert_true(instance_image_equal(img, copy));
        instance_image_free(copy);
        json_object_object_add(json, "urls", json_object_new_string("x"));
        copy = NULL;
        error_free_check_invalid(instance_image_from_json(json, "image",
                                                          &copy));
        assert_null(copy);
        json_object_put(json);
    }

    before = counter(&t.n_downloads);
    check(compute_image_cache_prepare(t.cache, img, dir1, 0, false, cs1),
          "prepare");
    assert_int_equal(counter(&t.n_downloads), before + 1);
    assert_non_null(cs1->disk);
    assert_string_equal(cs1->spec.image.disk_path, cs1->disk);
    assert_string_equal(cs1->disk_format, "raw");
    assert_true(!strncmp(cs1->disk, t.cache_dir, strlen(t.cache_dir)));
    assert_int_equal(file_size(cs1->disk), size);
    got = xmalloc(size);
    f = fopen(cs1->disk, "rb");
    assert_non_null(f);
    assert_int_equal(fread(got, 1, size, f), size);
    fclose(f);
    assert_memory_equal(got, data, size);
    free(got);
    n = readlink(link, target, sizeof target - 1);
    assert_true(n > 0);
    target[n] = '\0';
    assert_string_equal(target, cs1->disk);

    /* The second build is a cache hit. */
    check(compute_image_cache_prepare(t.cache, img, dir2, 0, false, cs2),
          "prepare again");
    assert_int_equal(counter(&t.n_downloads), before + 1);
    assert_string_equal(cs2->disk, cs1->disk);
    assert_int_equal(compute_image_cache_n_downloads(t.cache), 1);
    assert_int_equal(cache_count(".part-"), 0);

    compute_spec_free(cs1);
    compute_spec_free(cs2);
    instance_image_free(img);
}

struct worker {
    pthread_t thread;
    struct instance_image *img;
    char *dir;
    struct compute_spec *cs;
    struct error *error;
};

static pthread_barrier_t start_barrier;

static void *
worker_main(void *w_)
{
    struct worker *w = w_;

    pthread_barrier_wait(&start_barrier);
    w->error = compute_image_cache_prepare(t.cache, w->img, w->dir, 0, false,
                                           w->cs);
    return NULL;
}

static void
test_concurrent(void **state)
{
    const size_t size = 3 * 1024 * 1024 + 5;
    AUTOFREE char *data = pattern(size, 2);
    AUTOFREE char *id = upload_image("{\"name\": \"b\", \"disk_format\": "
                                     "\"raw\", \"container_format\": "
                                     "\"bare\"}", data, size);
    struct worker workers[TEST_N_CONCURRENT];
    unsigned int before = counter(&t.n_downloads);
    uint64_t before_cache = compute_image_cache_n_downloads(t.cache);

    (void) state;
    pthread_barrier_init(&start_barrier, NULL, TEST_N_CONCURRENT);
    for (size_t i = 0; i < TEST_N_CONCURRENT; i++) {
        AUTOFREE char *name = xasprintf("b%zu", i);

        workers[i].img = boot_image(id);
        workers[i].dir = instance_dir(name);
        workers[i].cs = xzalloc(sizeof *workers[i].cs);
        workers[i].error = NULL;
        assert_int_equal(pthread_create(&workers[i].thread, NULL,
                                        worker_main, &workers[i]), 0);
    }
    for (size_t i = 0; i < TEST_N_CONCURRENT; i++) {
        pthread_join(workers[i].thread, NULL);
    }
    pthread_barrier_destroy(&start_barrier);
    for (size_t i = 0; i < TEST_N_CONCURRENT; i++) {
        check(workers[i].error, "concurrent prepare");
        assert_string_equal(workers[i].cs->disk, workers[0].cs->disk);
        assert_int_equal(file_size(workers[i].cs->disk), size);
    }
    /* One request reached the server, one file was downloaded. */
    assert_int_equal(counter(&t.n_downloads), before + 1);
    assert_int_equal(compute_image_cache_n_downloads(t.cache),
                     before_cache + 1);
    assert_int_equal(cache_count(".part-"), 0);
    for (size_t i = 0; i < TEST_N_CONCURRENT; i++) {
        compute_spec_free(workers[i].cs);
        instance_image_free(workers[i].img);
        free(workers[i].dir);
    }
}

static void
expect_mismatch(const char *id, bool md5)
{
    struct instance_image *img = boot_image(id);
    char *field = md5 ? img->checksum : img->os_hash_value;
    AUTOFREE char *path = NULL;
    struct error *error;

    assert_non_null(field);
    /* Flip the first digit of the expected hash. */
    field[0] = field[0] == '0' ? '1' : '0';
    error = compute_image_cache_fetch(t.cache, id, img->url, img->checksum,
                                      img->os_hash_value, &path);
    assert_non_null(error);
    assert_int_equal(error_kind(error), ERROR_INVALID);
    {
        AUTOFREE char *want = xasprintf("Image %s checksum mismatch: ", id);

        if (strncmp(error_message(error), want, strlen(want))) {
            fail_msg("unexpected message: %s", error_message(error));
        }
    }
    assert_non_null(strstr(error_message(error), md5 ? "md5" : "sha512"));
    error_free(error);
    assert_null(path);
    /* Nothing cached under either name, no partial file. */
    assert_int_equal(cache_count(img->os_hash_value), 0);
    assert_int_equal(cache_count(".part-"), 0);
    instance_image_free(img);
}

static void
test_bad_checksum(void **state)
{
    const size_t size = 100 * 1000;
    AUTOFREE char *data = pattern(size, 3);
    AUTOFREE char *id = upload_image("{\"name\": \"c\", \"disk_format\": "
                                     "\"raw\", \"container_format\": "
                                     "\"bare\"}", data, size);
    int before = cache_count("");

    (void) state;
    expect_mismatch(id, true);
    expect_mismatch(id, false);
    assert_int_equal(cache_count(""), before);
}

static void
test_token_refresh(void **state)
{
    const size_t size = 4096;
    AUTOFREE char *data = pattern(size, 4);
    AUTOFREE char *id = upload_image("{\"name\": \"d\", \"disk_format\": "
                                     "\"raw\", \"container_format\": "
                                     "\"bare\"}", data, size);
    struct instance_image *img = boot_image(id);
    unsigned int tokens = counter(&t.n_tokens);
    unsigned int refused = counter(&t.n_refused);
    unsigned int downloads = counter(&t.n_downloads);
    AUTOFREE char *path = NULL;

    (void) state;
    /* The token the cache holds expires. */
    pthread_mutex_lock(&t.lock);
    snprintf(t.valid, sizeof t.valid, "%s", "expired");
    pthread_mutex_unlock(&t.lock);
    check(compute_image_cache_fetch(t.cache, id, img->url, img->checksum,
                                    img->os_hash_value, &path), "fetch");
    assert_int_equal(counter(&t.n_tokens), tokens + 1);
    assert_int_equal(counter(&t.n_refused), refused + 1);
    assert_int_equal(counter(&t.n_downloads), downloads + 1);
    assert_int_equal(file_size(path), size);
    instance_image_free(img);
}

static void
test_ami(void **state)
{
    AUTOFREE char *kernel = upload_image("{\"name\": \"k\", \"disk_format\":"
                                         " \"aki\", \"container_format\": "
                                         "\"aki\"}", "KERNEL", 6);
    AUTOFREE char *ramdisk = upload_image("{\"name\": \"r\", "
                                          "\"disk_format\": \"ari\", "
                                          "\"container_format\": "
                                          "\"ari\"}", "RAMDISK", 7);
    AUTOFREE char *body = xasprintf("{\"name\": \"m\", \"disk_format\": "
                                    "\"ami\", \"container_format\": "
                                    "\"ami\", \"kernel_id\": \"%s\", "
                                    "\"ramdisk_id\": \"%s\"}", kernel,
                                    ramdisk);
    AUTOFREE char *ami = upload_image(body, "ROOTFS", 6);
    AUTOFREE char *dir = instance_dir("m1");
    AUTOFREE char *klink = xasprintf("%s/kernel.base", dir);
    AUTOFREE char *ilink = xasprintf("%s/initrd.base", dir);
    struct compute_spec *cs = xzalloc(sizeof *cs);
    struct instance_image *img = boot_image(ami);
    struct stat st;

    (void) state;
    assert_non_null(img->kernel_url);
    assert_non_null(strstr(img->kernel_url, kernel));
    assert_non_null(img->initrd_os_hash_value);
    check(compute_image_cache_prepare(t.cache, img, dir, 0, false, cs),
          "prepare ami");
    assert_int_equal(file_size(cs->kernel), 6);
    assert_int_equal(file_size(cs->initrd), 7);
    assert_int_equal(file_size(cs->disk), 6);
    assert_string_equal(cs->spec.image.kernel_path, cs->kernel);
    assert_string_equal(cs->spec.image.initrd_path, cs->initrd);
    assert_int_equal(lstat(klink, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    assert_int_equal(lstat(ilink, &st), 0);
    compute_spec_free(cs);
    instance_image_free(img);
}

static bool
have_qemu_img(void)
{
    const char *path = getenv("PATH");
    AUTOFREE char *copy = xstrdup(path ? path : "/usr/bin:/bin");
    char *save = NULL;

    for (char *d = strtok_r(copy, ":", &save); d;
         d = strtok_r(NULL, ":", &save)) {
        AUTOFREE char *p = xasprintf("%s/qemu-img", d);

        if (access(p, X_OK) == 0) {
            return true;
        }
    }
    return false;
}

static void
test_overlay(void **state)
{
    AUTOFREE char *dir = instance_dir("o1");
    AUTOFREE char *overlay = xasprintf("%s/disk", dir);
    struct compute_spec *cs = xzalloc(sizeof *cs);
    struct instance_image *img;
    unsigned char header[32];
    unsigned long long vsize = 0;
    uint64_t backing_offset = 0;
    uint32_t backing_size = 0;
    char backing[4096];
    int fd;

    (void) state;
    if (!have_qemu_img()) {
        compute_spec_free(cs);
        skip();
    }
    img = boot_image(t.image_a);
    check(compute_image_cache_prepare(t.cache, img, dir, 2, true, cs),
          "prepare overlay");
    assert_string_equal(cs->disk, overlay);
    assert_string_equal(cs->disk_format, "qcow2");
    assert_string_equal(cs->spec.image.disk_format, "qcow2");

    fd = open(overlay, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(read(fd, header, sizeof header), sizeof header);
    assert_memory_equal(header, "QFI\xfb", 4);
    for (int i = 8; i < 16; i++) {
        backing_offset = (backing_offset << 8) | header[i];
    }
    for (int i = 16; i < 20; i++) {
        backing_size = (backing_size << 8) | header[i];
    }
    for (int i = 24; i < 32; i++) {
        vsize = (vsize << 8) | header[i];
    }
    assert_int_equal(vsize, 2ULL * 1024 * 1024 * 1024);
    assert_true(backing_size > 0 && backing_size < sizeof backing);
    assert_int_equal(pread(fd, backing, backing_size,
                           (off_t) backing_offset), (ssize_t) backing_size);
    backing[backing_size] = '\0';
    close(fd);
    {
        AUTOFREE char *want = xasprintf("%s/%s", t.cache_dir,
                                        img->os_hash_value);

        assert_string_equal(backing, want);
    }

    /* Removed with the instance. */
    compute_image_cache_remove_instance(dir);
    assert_int_equal(access(overlay, F_OK), -1);
    assert_int_equal(rmdir(dir), 0);
    compute_spec_free(cs);
    instance_image_free(img);
}

static void
age_all(int64_t age)
{
    DIR *dir = opendir(t.cache_dir);
    struct dirent *e;

    assert_non_null(dir);
    while ((e = readdir(dir))) {
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            AUTOFREE char *p = xasprintf("%s/%s", t.cache_dir, e->d_name);
            struct timespec times[2];

            times[0].tv_sec = times[1].tv_sec = time(NULL) - age;
            times[0].tv_nsec = times[1].tv_nsec = 0;
            assert_int_equal(utimensat(AT_FDCWD, p, times,
                                       AT_SYMLINK_NOFOLLOW), 0);
        }
    }
    closedir(dir);
}

static void
test_cleanup(void **state)
{
    struct instance_image *img = boot_image(t.image_a);
    AUTOFREE char *part = xasprintf("%s/.part-0123-1", t.cache_dir);
    AUTOFREE char *path = NULL;
    unsigned int before;
    size_t removed;
    int fd;

    (void) state;
    /* The concurrent builds' instances are deleted; the others stay. */
    for (size_t i = 0; i < TEST_N_CONCURRENT; i++) {
        AUTOFREE char *name = xasprintf("b%zu", i);
        AUTOFREE char *dir = instance_dir(name);

        compute_image_cache_remove_instance(dir);
    }
    fd = open(part, O_WRONLY | O_CREAT, 0644);
    assert_true(fd >= 0);
    close(fd);

    /* Recently used: nothing goes. */
    assert_int_equal(compute_image_cache_clean(t.cache, t.instances,
                                               time(NULL)), 0);

    /* Old: image b, the token test's image and the partial file go; a
     * (linked from a1, a2) and the AMI's files (linked from m1) stay. */
    age_all(TEST_MAX_AGE_S * 2);
    removed = compute_image_cache_clean(t.cache, t.instances, time(NULL));
    assert_int_equal(removed, 3);
    assert_int_equal(cache_count(".part-"), 0);
    assert_int_equal(cache_count(img->os_hash_value), 1);
    assert_int_equal(cache_count(""), 4);

    /* Image a is still a cache hit. */
    before = counter(&t.n_downloads);
    check(compute_image_cache_fetch(t.cache, t.image_a, img->url,
                                    img->checksum, img->os_hash_value,
                                    &path), "fetch a");
    assert_int_equal(counter(&t.n_downloads), before);
    instance_image_free(img);
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_download_and_hit),
        cmocka_unit_test(test_concurrent),
        cmocka_unit_test(test_bad_checksum),
        cmocka_unit_test(test_token_refresh),
        cmocka_unit_test(test_ami),
        cmocka_unit_test(test_overlay),
        cmocka_unit_test(test_cleanup),
    };

    test_env_require(argc, argv, "mariadb");
    db_library_init();
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
