/* compute-image-cache.c: the image cache of a compute host (see
 * compute-image-cache.h).
 *
 * One mutex guards the list of downloads in progress, the service
 * token, the counters and every change of the cache directory that the
 * cleanup could race with (renaming a download into place, marking a
 * file used and linking it from an instance directory).  Downloads,
 * checksums and qemu-img run without it. */
#include <config.h>
#include "child-cell/compute-image-cache.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <curl/curl.h>
#include <json-c/json.h>
#include <openssl/evp.h>

#include "child-cell/compute-spec.h"
#include "shared/error.h"
#include "shared/instance.h"
#include "shared/log.h"
#include "shared/xalloc.h"

LOG_MODULE("compute.image");

extern char **environ;

#define IMAGE_CACHE_DIR_MODE 0755
#define IMAGE_CACHE_FILE_MODE 0644
#define IMAGE_CACHE_PART_PREFIX ".part-"
/* Seconds to connect, and a transfer slower than 1 byte/s for this long
 * is given up. */
#define IMAGE_CACHE_CONNECT_TIMEOUT_S 30L
#define IMAGE_CACHE_STALL_TIMEOUT_S 120L
/* Longest token and longest qemu-img output kept for a message. */
#define IMAGE_CACHE_MAX_TOKEN_LENGTH 8192
#define IMAGE_CACHE_MAX_TOOL_OUTPUT 2048
#define IMAGE_CACHE_GIB (1024ULL * 1024 * 1024)

/* A download in progress: the first caller does it, the others wait. */
struct image_cache_entry {
    struct image_cache_entry *next;
    char *key;
    size_t refs;                /* The downloader and the waiters. */
    bool done;
    enum error_kind error_kind;
    char *error_message;        /* NULL: success. */
    pthread_cond_t cond;
};

struct compute_image_cache {
    char *api_url;              /* Without a trailing '/'. */
    char *auth_url;
    char *username;
    char *password;
    char *project;
    char *cache_dir;
    char *qemu_img;
    long long max_age_s;

    pthread_mutex_t lock;
    struct image_cache_entry *entries;      /* Guarded by 'lock'. */
    char *token;                            /* Guarded by 'lock'. */
    uint64_t n_downloads;                   /* Guarded by 'lock'. */
    uint64_t seq;                           /* Guarded by 'lock'. */
};

static pthread_once_t image_cache_curl_once = PTHREAD_ONCE_INIT;

static void
image_cache_curl_init(void)
{
    (void) curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int
image_cache_mkdirs(const char *path)
{
    AUTOFREE char *copy = xstrdup(path);

    for (char *p = copy + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(copy, IMAGE_CACHE_DIR_MODE) < 0 && errno != EEXIST) {
                return -errno;
            }
            *p = '/';
        }
    }
    if (mkdir(copy, IMAGE_CACHE_DIR_MODE) < 0 && errno != EEXIST) {
        return -errno;
    }
    return 0;
}

struct error *
compute_image_cache_new(const struct compute_image_cache_options *o,
                        struct compute_image_cache **ret)
{
    struct compute_image_cache *cache;
    int r;

    if (!o->cache_dir || o->cache_dir[0] != '/') {
        return error_new(ERROR_INVALID, "image.cache_dir must be an "
                         "absolute directory");
    }
    if (o->api_url && strncmp(o->api_url, "http://", 7)
        && strncmp(o->api_url, "https://", 8)) {
        return error_new(ERROR_INVALID, "image.api_url '%s' is not an "
                         "http(s) URL", o->api_url);
    }
    r = image_cache_mkdirs(o->cache_dir);
    if (r) {
        return error_from_errno(r, ERROR_INTERNAL, "Cannot create the "
                                "image cache '%s'", o->cache_dir);
    }
    (void) pthread_once(&image_cache_curl_once, image_cache_curl_init);

    cache = xzalloc(sizeof *cache);
    if (o->api_url) {
        size_t n = strlen(o->api_url);

        while (n > 0 && o->api_url[n - 1] == '/') {
            n--;
        }
        cache->api_url = xstrndup(o->api_url, n);
    }
    cache->auth_url = xstrdup_or_null(o->auth_url);
    cache->username = xstrdup_or_null(o->username);
    cache->password = xstrdup_or_null(o->password);
    cache->project = xstrdup_or_null(o->project);
    cache->cache_dir = xstrdup(o->cache_dir);
    cache->qemu_img = xstrdup(o->qemu_img ? o->qemu_img : "qemu-img");
    cache->max_age_s = o->max_age_s;
    pthread_mutex_init(&cache->lock, NULL);
    *ret = cache;
    return NULL;
}

void
compute_image_cache_free(struct compute_image_cache *cache)
{
    if (!cache) {
        return;
    }
    pthread_mutex_destroy(&cache->lock);
    free(cache->api_url);
    free(cache->auth_url);
    free(cache->username);
    free(cache->password);
    free(cache->project);
    free(cache->cache_dir);
    free(cache->qemu_img);
    free(cache->token);
    free(cache);
}

uint64_t
compute_image_cache_n_downloads(const struct compute_image_cache *cache)
{
    struct compute_image_cache *c = (struct compute_image_cache *) cache;
    uint64_t n;

    pthread_mutex_lock(&c->lock);
    n = c->n_downloads;
    pthread_mutex_unlock(&c->lock);
    return n;
}

/* ---- HTTP --------------------------------------------------------------- */

struct image_cache_header {
    const char *name;           /* Header wanted. */
    char *value;                /* Its value, once seen. */
};

static size_t
image_cache_header_cb(char *data, size_t size, size_t n, void *aux)
{
    struct image_cache_header *h = aux;
    size_t len = size * n;
    size_t name_len = strlen(h->name);

    if (len > name_len + 1 && !strncasecmp(data, h->name, name_len)
        && data[name_len] == ':' && !h->value) {
        const char *v = data + name_len + 1;
        size_t vlen = len - name_len - 1;

        while (vlen > 0 && (*v == ' ' || *v == '\t')) {
            v++;
            vlen--;
        }
        while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n'
                            || v[vlen - 1] == ' ')) {
            vlen--;
        }
        if (vlen <= IMAGE_CACHE_MAX_TOKEN_LENGTH) {
            h->value = xstrndup(v, vlen);
        }
    }
    return len;
}

static size_t
image_cache_discard_cb(char *data, size_t size, size_t n, void *aux)
{
    (void) data;
    (void) aux;
    return size * n;
}

/* Asks the identity service for a project-scoped token of the service
 * user.  Returns NULL and the token in '*ret_token', or an error. */
static struct error *
image_cache_request_token(struct compute_image_cache *cache,
                          char **ret_token)
{
    struct image_cache_header subject = { "X-Subject-Token", NULL };
    struct json_object *body = json_object_new_object();
    struct json_object *auth = json_object_new_object();
    struct json_object *identity = json_object_new_object();
    struct json_object *methods = json_object_new_array();
    struct json_object *password = json_object_new_object();
    struct json_object *user = json_object_new_object();
    struct json_object *domain = json_object_new_object();
    struct json_object *scope = json_object_new_object();
    struct json_object *project = json_object_new_object();
    struct json_object *pdomain = json_object_new_object();
    struct curl_slist *headers = NULL;
    AUTOFREE char *url = xasprintf("%s/auth/tokens", cache->auth_url);
    struct error *error = NULL;
    long status = 0;
    CURLcode rc;
    CURL *curl;

    json_object_array_add(methods, json_object_new_string("password"));
    json_object_object_add(domain, "name", json_object_new_string("Default"));
    json_object_object_add(user, "name",
                           json_object_new_string(cache->username));
    json_object_object_add(user, "domain", domain);
    json_object_object_add(user, "password", json_object_new_string(
                               cache->password ? cache->password : ""));
    json_object_object_add(password, "user", user);
    json_object_object_add(identity, "methods", methods);
    json_object_object_add(identity, "password", password);
    json_object_object_add(auth, "identity", identity);
    if (cache->project) {
        json_object_object_add(pdomain, "name",
                               json_object_new_string("Default"));
        json_object_object_add(project, "name",
                               json_object_new_string(cache->project));
        json_object_object_add(project, "domain", pdomain);
        json_object_object_add(scope, "project", project);
        json_object_object_add(auth, "scope", scope);
    } else {
        json_object_put(project);
        json_object_put(pdomain);
        json_object_put(scope);
    }
    json_object_object_add(body, "auth", auth);

    curl = curl_easy_init();
    if (!curl) {
        json_object_put(body);
        return error_new(ERROR_INTERNAL, "Cannot start an HTTP client");
    }
    headers = curl_slist_append(headers, "Content-Type: application/json");
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_COPYPOSTFIELDS,
                     json_object_to_json_string_ext(body,
                                                    JSON_C_TO_STRING_PLAIN));
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, image_cache_header_cb);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &subject);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, image_cache_discard_cb);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT,
                     IMAGE_CACHE_CONNECT_TIMEOUT_S);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, IMAGE_CACHE_STALL_TIMEOUT_S);
    rc = curl_easy_perform(curl);
    if (rc == CURLE_OK) {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    }
    if (rc != CURLE_OK) {
        error = error_new(ERROR_UNAVAILABLE, "Cannot reach the identity "
                          "service at '%s': %s", cache->auth_url,
                          curl_easy_strerror(rc));
    } else if (status != 201 && status != 200) {
        error = error_new(ERROR_UNAVAILABLE, "The identity service refused "
                          "a token to user '%s' (HTTP %ld)", cache->username,
                          status);
    } else if (!subject.value || !*subject.value) {
        error = error_new(ERROR_UNAVAILABLE, "The identity service gave "
                          "no X-Subject-Token");
    }
    curl_easy_cleanup(curl);
    curl_slist_free_all(headers);
    json_object_put(body);
    if (error) {
        free(subject.value);
        return error;
    }
    *ret_token = subject.value;
    return NULL;
}

/* The service token (a copy), asked for when there is none or when the
 * current one is 'stale' (refused with a 401).  '*ret_token' is NULL when
 * no service user is configured. */
static struct error *
image_cache_get_token(struct compute_image_cache *cache, const char *stale,
                      char **ret_token)
{
    struct error *error;
    char *token = NULL;

    *ret_token = NULL;
    if (!cache->auth_url || !cache->username) {
        return NULL;
    }
    pthread_mutex_lock(&cache->lock);
    if (cache->token && (!stale || strcmp(cache->token, stale))) {
        *ret_token = xstrdup(cache->token);
        pthread_mutex_unlock(&cache->lock);
        return NULL;
    }
    pthread_mutex_unlock(&cache->lock);

    error = image_cache_request_token(cache, &token);
    if (error) {
        return error;
    }
    pthread_mutex_lock(&cache->lock);
    free(cache->token);
    cache->token = xstrdup(token);
    pthread_mutex_unlock(&cache->lock);
    *ret_token = token;
    return NULL;
}

/* Where a download goes while it runs. */
struct image_cache_sink {
    int fd;
    int error;                  /* errno of a failed write. */
    uint64_t size;
    EVP_MD_CTX *md5;
    EVP_MD_CTX *sha512;
};

static size_t
image_cache_write_cb(char *data, size_t size, size_t n, void *aux)
{
    struct image_cache_sink *sink = aux;
    size_t len = size * n;
    size_t done = 0;

    while (done < len) {
        ssize_t w = write(sink->fd, data + done, len - done);

        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            sink->error = errno;
            return 0;
        }
        done += (size_t) w;
    }
    EVP_DigestUpdate(sink->md5, data, len);
    EVP_DigestUpdate(sink->sha512, data, len);
    sink->size += len;
    return len;
}

static void
image_cache_hex(const unsigned char *digest, unsigned int n, char *out)
{
    static const char hex[] = "0123456789abcdef";

    for (unsigned int i = 0; i < n; i++) {
        out[2 * i] = hex[digest[i] >> 4];
        out[2 * i + 1] = hex[digest[i] & 0xf];
    }
    out[2 * n] = '\0';
}

/* One GET of 'url' into the file open on 'fd' (truncated first), with
 * 'token'.  Sets '*ret_status' and the hex digests. */
static struct error *
image_cache_get(const char *url, const char *token, int fd,
                long *ret_status, char md5_hex[33], char sha512_hex[129])
{
    struct image_cache_sink sink = { .fd = fd };
    struct curl_slist *headers = NULL;
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int n_digest;
    struct error *error = NULL;
    CURLcode rc;
    CURL *curl;

    if (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
        return error_from_errno(-errno, ERROR_INTERNAL, "Cannot reset the "
                                "download file");
    }
    curl = curl_easy_init();
    sink.md5 = EVP_MD_CTX_new();
    sink.sha512 = EVP_MD_CTX_new();
    if (!curl || !sink.md5 || !sink.sha512
        || !EVP_DigestInit_ex(sink.md5, EVP_md5(), NULL)
        || !EVP_DigestInit_ex(sink.sha512, EVP_sha512(), NULL)) {
        error = error_new(ERROR_INTERNAL, "Cannot start a download");
        goto out;
    }
    if (token) {
        AUTOFREE char *h = xasprintf("X-Auth-Token: %s", token);

        headers = curl_slist_append(headers, h);
    }
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, image_cache_write_cb);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT,
                     IMAGE_CACHE_CONNECT_TIMEOUT_S);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME,
                     IMAGE_CACHE_STALL_TIMEOUT_S);
    rc = curl_easy_perform(curl);
    if (rc != CURLE_OK) {
        error = sink.error
                ? error_from_errno(-sink.error, ERROR_INTERNAL, "Cannot "
                                   "write the download of '%s'", url)
                : error_new(ERROR_UNAVAILABLE, "Cannot download '%s': %s",
                            url, curl_easy_strerror(rc));
        goto out;
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, ret_status);
    EVP_DigestFinal_ex(sink.md5, digest, &n_digest);
    image_cache_hex(digest, n_digest, md5_hex);
    EVP_DigestFinal_ex(sink.sha512, digest, &n_digest);
    image_cache_hex(digest, n_digest, sha512_hex);

out:
    curl_slist_free_all(headers);
    if (curl) {
        curl_easy_cleanup(curl);
    }
    EVP_MD_CTX_free(sink.md5);
    EVP_MD_CTX_free(sink.sha512);
    return error;
}

/* Downloads 'url' into 'tmp_path' and checks it against the expected
 * digests.  On failure the file is removed. */
static struct error *
image_cache_download(struct compute_image_cache *cache,
                     const char *image_id, const char *url,
                     const char *checksum, const char *os_hash_value,
                     const char *tmp_path)
{
    AUTOFREE char *full = NULL;
    AUTOFREE char *token = NULL;
    char md5_hex[33] = "", sha512_hex[129] = "";
    struct error *error = NULL;
    long status = 0;
    int fd;

    if (!strncmp(url, "http://", 7) || !strncmp(url, "https://", 8)) {
        full = xstrdup(url);
    } else {
        full = xasprintf("%s%s%s", cache->api_url, url[0] == '/' ? "" : "/",
                         url);
    }
    fd = open(tmp_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
              IMAGE_CACHE_FILE_MODE);
    if (fd < 0) {
        return error_from_errno(-errno, ERROR_INTERNAL, "Cannot create "
                                "'%s'", tmp_path);
    }
    for (int attempt = 0; attempt < 2 && !error; attempt++) {
        AUTOFREE char *stale = TAKE_PTR(token);

        error = image_cache_get_token(cache, attempt ? stale : NULL, &token);
        if (!error) {
            error = image_cache_get(full, token, fd, &status, md5_hex,
                                    sha512_hex);
        }
        if (!error && status == 401 && token && !attempt) {
            LOG_INFO("token refused downloading image %s, asking for a "
                     "new one", image_id);
            continue;
        }
        break;
    }
    if (!error && status != 200) {
        error = error_new(status == 404 ? ERROR_NOT_FOUND
                                        : ERROR_UNAVAILABLE,
                          "Cannot download image %s from '%s': HTTP %ld",
                          image_id, full, status);
    }
    if (!error && checksum && strcasecmp(checksum, md5_hex)) {
        error = error_new(ERROR_INVALID, "Image %s checksum mismatch: "
                          "expected md5 %s, got %s", image_id, checksum,
                          md5_hex);
    }
    if (!error && os_hash_value && strcasecmp(os_hash_value, sha512_hex)) {
        error = error_new(ERROR_INVALID, "Image %s checksum mismatch: "
                          "expected sha512 %s, got %s", image_id,
                          os_hash_value, sha512_hex);
    }
    if (!error && fsync(fd) < 0) {
        error = error_from_errno(-errno, ERROR_INTERNAL, "Cannot write "
                                 "'%s'", tmp_path);
    }
    if (close(fd) < 0 && !error) {
        error = error_from_errno(-errno, ERROR_INTERNAL, "Cannot write "
                                 "'%s'", tmp_path);
    }
    if (error) {
        (void) unlink(tmp_path);
    }
    return error;
}

/* ---- The cache ---------------------------------------------------------- */

/* True if 'key' is a safe file name made of hex digits. */
static bool
image_cache_key_ok(const char *key)
{
    size_t n = strlen(key);

    if (n < 32 || n > 128) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!strchr("0123456789abcdefABCDEF", key[i])) {
            return false;
        }
    }
    return true;
}

static struct image_cache_entry *
image_cache_find(struct compute_image_cache *cache, const char *key)
{
    for (struct image_cache_entry *e = cache->entries; e; e = e->next) {
        if (!strcmp(e->key, key)) {
            return e;
        }
    }
    return NULL;
}

static void
image_cache_unref(struct compute_image_cache *cache,
                  struct image_cache_entry *entry)
{
    (void) cache;
    if (--entry->refs == 0) {
        pthread_cond_destroy(&entry->cond);
        free(entry->key);
        free(entry->error_message);
        free(entry);
    }
}

/* With the lock held: marks 'path' used now and links it from
 * 'link_path' (when not NULL).  Returns 0 or -errno (ENOENT: the file is
 * not there). */
static int
image_cache_use_locked(const char *path, const char *link_path)
{
    if (utimensat(AT_FDCWD, path, NULL, 0) < 0) {
        return -errno;
    }
    if (link_path) {
        (void) unlink(link_path);
        if (symlink(path, link_path) < 0) {
            return -errno;
        }
    }
    return 0;
}

/* compute_image_cache_fetch() that also links the file from
 * 'link_path' when it is not NULL. */
static struct error *
image_cache_fetch_link(struct compute_image_cache *cache,
                       const char *image_id, const char *url,
                       const char *checksum, const char *os_hash_value,
                       const char *link_path, char **ret_path)
{
    const char *key = os_hash_value && *os_hash_value ? os_hash_value
                                                      : checksum;
    struct image_cache_entry *entry;
    AUTOFREE char *path = NULL;
    AUTOFREE char *tmp = NULL;
    struct error *error;
    int r;

    if (!cache->api_url && strncmp(url, "http://", 7)
        && strncmp(url, "https://", 8)) {
        return error_new(ERROR_INVALID, "Image %s: no image endpoint "
                         "(image.api_url) to download it from", image_id);
    }
    if (!key || !image_cache_key_ok(key)) {
        return error_new(ERROR_INVALID, "Image %s has no usable checksum "
                         "to verify its download against", image_id);
    }
    path = xasprintf("%s/%s", cache->cache_dir, key);

    pthread_mutex_lock(&cache->lock);
    r = image_cache_use_locked(path, link_path);
    if (!r) {
        pthread_mutex_unlock(&cache->lock);
        LOG_DBG("image %s found in the cache", image_id);
        *ret_path = TAKE_PTR(path);
        return NULL;
    }
    if (r != -ENOENT) {
        pthread_mutex_unlock(&cache->lock);
        return error_from_errno(r, ERROR_INTERNAL, "Cannot use the cached "
                                "image %s", image_id);
    }

    entry = image_cache_find(cache, key);
    if (entry) {
        /* Someone is downloading it: wait for the result. */
        entry->refs++;
        while (!entry->done) {
            pthread_cond_wait(&entry->cond, &cache->lock);
        }
        if (entry->error_message) {
            error = error_new(entry->error_kind, "%s",
                              entry->error_message);
        } else {
            r = image_cache_use_locked(path, link_path);
            error = r ? error_from_errno(r, ERROR_INTERNAL, "Cannot use "
                                         "the cached image %s", image_id)
                      : NULL;
        }
        image_cache_unref(cache, entry);
        pthread_mutex_unlock(&cache->lock);
        if (!error) {
            *ret_path = TAKE_PTR(path);
        }
        return error;
    }

    entry = xzalloc(sizeof *entry);
    entry->key = xstrdup(key);
    entry->refs = 1;
    pthread_cond_init(&entry->cond, NULL);
    entry->next = cache->entries;
    cache->entries = entry;
    tmp = xasprintf("%s/" IMAGE_CACHE_PART_PREFIX "%s-%llu",
                    cache->cache_dir, key,
                    (unsigned long long) ++cache->seq);
    pthread_mutex_unlock(&cache->lock);

    LOG_INFO("downloading image %s", image_id);
    error = image_cache_download(cache, image_id, url, checksum,
                                 os_hash_value, tmp);

    pthread_mutex_lock(&cache->lock);
    if (!error && rename(tmp, path) < 0) {
        error = error_from_errno(-errno, ERROR_INTERNAL, "Cannot move the "
                                 "download of image %s into the cache",
                                 image_id);
        (void) unlink(tmp);
    }
    if (!error) {
        cache->n_downloads++;
        r = image_cache_use_locked(path, link_path);
        if (r) {
            error = error_from_errno(r, ERROR_INTERNAL, "Cannot use the "
                                     "cached image %s", image_id);
        }
    }
    /* Unlink the entry: a later fetch looks at the file (or tries again
     * after a failure). */
    for (struct image_cache_entry **p = &cache->entries; *p;
         p = &(*p)->next) {
        if (*p == entry) {
            *p = entry->next;
            break;
        }
    }
    entry->done = true;
    if (error) {
        entry->error_kind = error_kind(error);
        entry->error_message = xstrdup(error_message(error));
    }
    pthread_cond_broadcast(&entry->cond);
    image_cache_unref(cache, entry);
    pthread_mutex_unlock(&cache->lock);

    if (error) {
        LOG_WARN("%s", error_message(error));
        return error;
    }
    LOG_INFO("image %s downloaded and verified", image_id);
    *ret_path = TAKE_PTR(path);
    return NULL;
}

struct error *
compute_image_cache_fetch(struct compute_image_cache *cache,
                          const char *image_id, const char *url,
                          const char *checksum, const char *os_hash_value,
                          char **ret_path)
{
    return image_cache_fetch_link(cache, image_id, url, checksum,
                                  os_hash_value, NULL, ret_path);
}

/* ---- Overlay ------------------------------------------------------------ */

/* The virtual size of the image in 'path' of format 'format', in bytes,
 * or 0 when unknown. */
static unsigned long long
image_cache_virtual_size(const char *path, const char *format)
{
    unsigned char header[32];
    unsigned long long size = 0;
    struct stat st;
    ssize_t n;
    int fd;

    if (!format || !strcmp(format, "raw")) {
        return stat(path, &st) == 0 ? (unsigned long long) st.st_size : 0;
    }
    if (strcmp(format, "qcow2")) {
        return 0;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return 0;
    }
    n = read(fd, header, sizeof header);
    close(fd);
    if (n != (ssize_t) sizeof header || memcmp(header, "QFI\xfb", 4)) {
        return 0;
    }
    for (int i = 24; i < 32; i++) {
        size = (size << 8) | header[i];
    }
    return size;
}

/* Runs 'argv' and waits for it; its output goes into the error. */
static struct error *
image_cache_run(char *const argv[])
{
    posix_spawn_file_actions_t actions;
    char output[IMAGE_CACHE_MAX_TOOL_OUTPUT + 1];
    size_t n_output = 0;
    int pipefd[2];
    int status;
    pid_t pid;
    int r;

    if (pipe2(pipefd, O_CLOEXEC) < 0) {
        return error_from_errno(-errno, ERROR_INTERNAL, "Cannot run '%s'",
                                argv[0]);
    }
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipefd[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, pipefd[1], STDERR_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null",
                                     O_RDONLY, 0);
    r = posix_spawnp(&pid, argv[0], &actions, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    close(pipefd[1]);
    if (r) {
        close(pipefd[0]);
        return error_from_errno(-r, ERROR_INTERNAL, "Cannot run '%s'",
                                argv[0]);
    }
    for (;;) {
        char buf[512];
        ssize_t got = read(pipefd[0], buf, sizeof buf);

        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            break;
        }
        for (ssize_t i = 0; i < got && n_output < IMAGE_CACHE_MAX_TOOL_OUTPUT;
             i++) {
            output[n_output++] = buf[i] == '\n' ? ' ' : buf[i];
        }
    }
    close(pipefd[0]);
    output[n_output] = '\0';
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            return error_from_errno(-errno, ERROR_INTERNAL, "Cannot wait "
                                    "for '%s'", argv[0]);
        }
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status)) {
        return error_new(ERROR_INTERNAL, "'%s %s' failed: %s", argv[0],
                         argv[1], n_output ? output : "no output");
    }
    return NULL;
}

static struct error *
image_cache_make_overlay(struct compute_image_cache *cache,
                         const char *base, const char *format,
                         const char *overlay, unsigned long long root_gb)
{
    unsigned long long image_size = image_cache_virtual_size(base, format);
    AUTOFREE char *size = NULL;
    char *argv[12];
    size_t n = 0;

    if (root_gb && root_gb * IMAGE_CACHE_GIB > image_size) {
        size = xasprintf("%lluG", root_gb);
    }
    (void) unlink(overlay);
    argv[n++] = cache->qemu_img;
    argv[n++] = (char *) "create";
    argv[n++] = (char *) "-q";
    argv[n++] = (char *) "-f";
    argv[n++] = (char *) "qcow2";
    argv[n++] = (char *) "-F";
    argv[n++] = (char *) (format ? format : "raw");
    argv[n++] = (char *) "-b";
    argv[n++] = (char *) base;
    argv[n++] = (char *) overlay;
    if (size) {
        argv[n++] = size;
    }
    argv[n] = NULL;
    return image_cache_run(argv);
}

/* ---- Builds ------------------------------------------------------------- */

/* Replaces '*field' with a copy of 'value'. */
static void
image_cache_set(char **field, const char *value)
{
    char *copy = xstrdup_or_null(value);

    free(*field);
    *field = copy;
}

/* One file of a build: fetched into '*ret_path' when 'url' is given and
 * the cache downloads, else the store's 'path'. */
static struct error *
image_cache_file(struct compute_image_cache *cache, const char *image_id,
                 const char *url, const char *checksum,
                 const char *os_hash_value, const char *path,
                 const char *link_path, char **ret_path)
{
    if (url && cache->api_url) {
        return image_cache_fetch_link(cache, image_id, url, checksum,
                                      os_hash_value, link_path, ret_path);
    }
    *ret_path = xstrdup_or_null(path);
    return NULL;
}

/* The image id of a download path "/v2/images/<id>/file", for
 * messages; 'fallback' otherwise. */
static char *
image_cache_url_id(const char *url, const char *fallback)
{
    const char *p = url ? strstr(url, "/images/") : NULL;
    const char *end;

    if (p) {
        p += strlen("/images/");
        end = strchr(p, '/');
        if (end && end > p) {
            return xstrndup(p, (size_t) (end - p));
        }
    }
    return xstrdup(fallback ? fallback : "(unknown)");
}

struct error *
compute_image_cache_prepare(struct compute_image_cache *cache,
                            const struct instance_image *image,
                            const char *instance_dir,
                            unsigned long long root_gb, bool overlay,
                            struct compute_spec *cs)
{
    AUTOFREE char *disk = NULL;
    AUTOFREE char *kernel = NULL;
    AUTOFREE char *initrd = NULL;
    AUTOFREE char *disk_link = NULL;
    AUTOFREE char *kernel_link = NULL;
    AUTOFREE char *initrd_link = NULL;
    AUTOFREE char *kernel_id = NULL;
    AUTOFREE char *initrd_id = NULL;
    const char *format;
    struct error *error;
    int r;

    if (!image) {
        return NULL;
    }
    r = image_cache_mkdirs(instance_dir);
    if (r) {
        return error_from_errno(r, ERROR_INTERNAL, "Cannot create '%s'",
                                instance_dir);
    }
    disk_link = xasprintf("%s/" COMPUTE_IMAGE_CACHE_DISK_LINK, instance_dir);
    kernel_link = xasprintf("%s/" COMPUTE_IMAGE_CACHE_KERNEL_LINK,
                            instance_dir);
    initrd_link = xasprintf("%s/" COMPUTE_IMAGE_CACHE_INITRD_LINK,
                            instance_dir);
    kernel_id = image_cache_url_id(image->kernel_url, image->id);
    initrd_id = image_cache_url_id(image->initrd_url, image->id);

    if ((error = image_cache_file(cache, image->id ? image->id : "(none)",
                                  image->url, image->checksum,
                                  image->os_hash_value, image->disk,
                                  disk_link, &disk))
        || (error = image_cache_file(cache, kernel_id, image->kernel_url,
                                     image->kernel_checksum,
                                     image->kernel_os_hash_value,
                                     image->kernel, kernel_link, &kernel))
        || (error = image_cache_file(cache, initrd_id, image->initrd_url,
                                     image->initrd_checksum,
                                     image->initrd_os_hash_value,
                                     image->initrd, initrd_link, &initrd))) {
        return error;
    }

    format = image->disk_format;
    if (disk && overlay) {
        AUTOFREE char *path = xasprintf("%s/" COMPUTE_IMAGE_CACHE_OVERLAY,
                                        instance_dir);

        error = image_cache_make_overlay(cache, disk, format, path, root_gb);
        if (error) {
            return error_wrap(error, "Cannot create the disk of the "
                              "instance from image %s", image->id
                              ? image->id : "(none)");
        }
        free(disk);
        disk = TAKE_PTR(path);
        format = "qcow2";
    }

    image_cache_set(&cs->disk, disk);
    image_cache_set(&cs->disk_format, disk ? format : NULL);
    image_cache_set(&cs->kernel, kernel);
    image_cache_set(&cs->initrd, initrd);
    cs->spec.image.disk_path = cs->disk;
    cs->spec.image.disk_format = cs->disk_format;
    cs->spec.image.kernel_path = cs->kernel;
    cs->spec.image.initrd_path = cs->initrd;
    return NULL;
}

void
compute_image_cache_remove_instance(const char *instance_dir)
{
    static const char *const files[] = {
        COMPUTE_IMAGE_CACHE_OVERLAY, COMPUTE_IMAGE_CACHE_DISK_LINK,
        COMPUTE_IMAGE_CACHE_KERNEL_LINK, COMPUTE_IMAGE_CACHE_INITRD_LINK,
    };

    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        AUTOFREE char *path = xasprintf("%s/%s", instance_dir, files[i]);

        if (unlink(path) < 0 && errno != ENOENT) {
            LOG_WARN("cannot remove '%s': %s, ignoring", path,
                     strerror(errno));
        }
    }
}

/* ---- Cleanup ------------------------------------------------------------ */

/* Adds to 'links' the targets of the cache links in every directory under
 * 'instances_dir'. */
static void
image_cache_collect_links(const char *instances_dir, char ***links,
                          size_t *n_links)
{
    static const char *const names[] = {
        COMPUTE_IMAGE_CACHE_DISK_LINK, COMPUTE_IMAGE_CACHE_KERNEL_LINK,
        COMPUTE_IMAGE_CACHE_INITRD_LINK,
    };
    DIR *dir = instances_dir ? opendir(instances_dir) : NULL;
    struct dirent *e;

    if (!dir) {
        return;
    }
    while ((e = readdir(dir))) {
        if (e->d_name[0] == '.') {
            continue;
        }
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
            AUTOFREE char *link = xasprintf("%s/%s/%s", instances_dir,
                                            e->d_name, names[i]);
            char target[4096];
            ssize_t n = readlink(link, target, sizeof target - 1);

            if (n > 0) {
                target[n] = '\0';
                *links = xreallocarray(*links, *n_links + 1,
                                       sizeof **links);
                (*links)[(*n_links)++] = xstrdup(target);
            }
        }
    }
    closedir(dir);
}

size_t
compute_image_cache_clean(struct compute_image_cache *cache,
                          const char *instances_dir, int64_t now_s)
{
    char **links = NULL;
    size_t n_links = 0;
    size_t n_removed = 0;
    struct dirent *e;
    DIR *dir;

    image_cache_collect_links(instances_dir, &links, &n_links);
    dir = opendir(cache->cache_dir);
    while (dir && (e = readdir(dir))) {
        AUTOFREE char *path = NULL;
        bool part = !strncmp(e->d_name, IMAGE_CACHE_PART_PREFIX,
                             strlen(IMAGE_CACHE_PART_PREFIX));
        bool busy = false;
        struct stat st;

        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) {
            continue;
        }
        path = xasprintf("%s/%s", cache->cache_dir, e->d_name);
        for (size_t i = 0; i < n_links && !busy; i++) {
            busy = !strcmp(links[i], path);
        }
        if (busy) {
            continue;
        }
        pthread_mutex_lock(&cache->lock);
        for (struct image_cache_entry *en = cache->entries; en && !busy;
             en = en->next) {
            busy = part ? strstr(e->d_name, en->key) != NULL
                        : !strcmp(e->d_name, en->key);
        }
        if (!busy && lstat(path, &st) == 0 && S_ISREG(st.st_mode)
            && (int64_t) st.st_mtime + cache->max_age_s < now_s) {
            if (unlink(path) == 0) {
                n_removed++;
                LOG_INFO("removed %s '%s' from the image cache (unused "
                         "for %lld s)", part ? "partial download"
                                             : "image", e->d_name,
                         (long long) (now_s - (int64_t) st.st_mtime));
            } else {
                LOG_WARN("cannot remove '%s': %s, ignoring", path,
                         strerror(errno));
            }
        }
        pthread_mutex_unlock(&cache->lock);
    }
    if (dir) {
        closedir(dir);
    }
    for (size_t i = 0; i < n_links; i++) {
        free(links[i]);
    }
    free(links);
    return n_removed;
}

struct error *
compute_image_cache_token(struct compute_image_cache *cache,
                          const char *stale, char **ret_token)
{
    return image_cache_get_token(cache, stale, ret_token);
}

const char *
compute_image_cache_api_url(const struct compute_image_cache *cache)
{
    return cache->api_url;
}

const char *
compute_image_cache_qemu_img(const struct compute_image_cache *cache)
{
    return cache->qemu_img;
}

struct error *
compute_image_cache_run(char *const argv[])
{
    return image_cache_run(argv);
}
