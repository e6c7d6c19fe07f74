/* bench-api-load.c: load generator of the whole-cloud benchmark
 * (tests/bench/run-bench), a client of nova-api's compute API.
 *
 * Phases, each run alone or all in order (--phase):
 *
 *   boot    CONCURRENCY threads, each with its own keep-alive libcurl
 *           handle, POST /v2.1/servers until N servers are requested
 *           (every POST timed), while the main thread polls
 *           GET /v2.1/servers/detail?limit=1000 (following the next
 *           links) until each of the N servers is ACTIVE or ERROR.  Each
 *           poll adds a row to the timeline: ACTIVE servers per leaf cell,
 *           the leaf being the prefix of the admin-only attribute
 *           OS-EXT-SRV-ATTR:host before "-host-" (deploy/cloud names the
 *           simulated hosts of leaf L "L-host-0001", ...).
 *   read    with the servers present: GET /v2.1/servers/detail?limit=1000
 *           and GET /v2.1/servers/{id} of random servers, timed one at a
 *           time.
 *   delete  DELETE every server of the benchmark (CONCURRENCY threads),
 *           then polls the list until none is left.
 *
 * The servers of the benchmark are those whose name starts with the
 * prefix (--prefix, "bench-"); the others are left alone.  The
 * credentials come from the environment as the openrc files of
 * deploy/cloud set them (OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME); the
 * user should be an admin, or the leaf cells stay unknown.
 *
 * Prints one JSON object with the figures on stdout (times in ms,
 * rates per second); progress goes to stderr.
 *
 * Usage: bench-api-load --url URL --image ID --flavor ID [--servers N]
 *            [--concurrency C] [--phase all|boot|read|delete]
 *            [--timeline FILE] [--timeout S] [--prefix P]
 *            [--detail-samples K] [--show-samples K] */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include <json-c/json.h>

#include "shared/compiler.h"
#include "shared/xalloc.h"

#define BENCH_MAX_SERVERS 100000
#define BENCH_MAX_CONCURRENCY 256
#define BENCH_MAX_SAMPLES 100000
#define BENCH_MAX_LEAVES 64
#define BENCH_PAGE_LIMIT 1000
#define BENCH_POLL_MS 250
#define BENCH_HTTP_TIMEOUT_S 120
#define BENCH_DEFAULT_TIMEOUT_S 900
#define BENCH_DEFAULT_SERVERS 2000
#define BENCH_DEFAULT_CONCURRENCY 16
#define BENCH_DEFAULT_DETAIL_SAMPLES 20
#define BENCH_DEFAULT_SHOW_SAMPLES 200
/* A response body larger than this is a broken server, not a big list. */
#define BENCH_MAX_BODY_SIZE (256u * 1024 * 1024)
#define BENCH_HOST_SEP "-host-"

/* The options. */
static const char *api_url;
static const char *image_ref;
static const char *flavor_ref;
static const char *timeline_path;
static const char *prefix = "bench-";
static const char *phase = "all";
static long n_servers = BENCH_DEFAULT_SERVERS;
static long concurrency = BENCH_DEFAULT_CONCURRENCY;
static long timeout_s = BENCH_DEFAULT_TIMEOUT_S;
static long detail_samples = BENCH_DEFAULT_DETAIL_SAMPLES;
static long show_samples = BENCH_DEFAULT_SHOW_SAMPLES;

/* The token every request carries, as a whole header line. */
static char *auth_header;

static void NORETURN PRINTF_FMT(1, 2)
die(const char *fmt, ...)
{
    va_list args;

    va_start(args, fmt);
    fputs("bench-api-load: ", stderr);
    vfprintf(stderr, fmt, args);
    fputc('\n', stderr);
    va_end(args);
    exit(EXIT_FAILURE);
}

static void PRINTF_FMT(1, 2)
progress(const char *fmt, ...)
{
    va_list args;

    va_start(args, fmt);
    fputs("bench-api-load: ", stderr);
    vfprintf(stderr, fmt, args);
    fputc('\n', stderr);
    va_end(args);
}

static double
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static void
sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) && errno == EINTR) {
        continue;
    }
}

/* Sleeps after a poll that started at 't_poll' (ms): until
 * BENCH_POLL_MS have passed since, and at least as long as the poll took,
 * so that polling never takes more than half of one client's time. */
static void
poll_pause(double t_poll)
{
    double took = now_ms() - t_poll;
    double pause = took < BENCH_POLL_MS ? BENCH_POLL_MS - took : took;

    sleep_ms((long) pause);
}

/* Parses 'arg' of option 'name' as an integer in [min, max]. */
static long
parse_long(const char *name, const char *arg, long min, long max)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(arg, &end, 10);
    if (errno || end == arg || *end || v < min || v > max) {
        die("--%s needs an integer from %ld to %ld, not '%s'", name, min,
            max, arg);
    }
    return v;
}

/* ------------------------------------------------------------------ */
/* HTTP client: one per thread, the connection kept alive. */

struct client {
    CURL *curl;
    char *body;                 /* last response body, NUL-terminated */
    size_t body_len;
    size_t body_cap;
    char *subject_token;        /* X-Subject-Token of the last response */
    char error[CURL_ERROR_SIZE];
};

static size_t
client_write_cb(char *data, size_t size, size_t n, void *client_)
{
    struct client *c = client_;
    size_t len = size * n;

    if (c->body_len + len + 1 > BENCH_MAX_BODY_SIZE) {
        return 0;
    }
    if (c->body_len + len + 1 > c->body_cap) {
        size_t cap = c->body_cap ? c->body_cap : 65536;

        while (cap < c->body_len + len + 1) {
            cap *= 2;
        }
        c->body = xrealloc(c->body, cap);
        c->body_cap = cap;
    }
    memcpy(c->body + c->body_len, data, len);
    c->body_len += len;
    c->body[c->body_len] = '\0';
    return len;
}

static size_t
client_header_cb(char *data, size_t size, size_t n, void *client_)
{
    static const char name[] = "X-Subject-Token:";
    struct client *c = client_;
    size_t len = size * n;

    if (len > sizeof name - 1 && !strncasecmp(data, name, sizeof name - 1)) {
        const char *v = data + sizeof name - 1;
        const char *end = data + len;

        while (v < end && (*v == ' ' || *v == '\t')) {
            v++;
        }
        while (end > v && (end[-1] == '\r' || end[-1] == '\n'
                           || end[-1] == ' ')) {
            end--;
        }
        free(c->subject_token);
        c->subject_token = xstrndup(v, (size_t) (end - v));
    }
    return len;
}

static struct client *
client_new(void)
{
    struct client *c = xzalloc(sizeof *c);

    c->curl = curl_easy_init();
    if (!c->curl) {
        die("curl_easy_init failed");
    }
    curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->curl, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(c->curl, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, (long) BENCH_HTTP_TIMEOUT_S);
    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, client_write_cb);
    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(c->curl, CURLOPT_HEADERFUNCTION, client_header_cb);
    curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, c);
    curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, c->error);
    return c;
}

static void
client_free(struct client *c)
{
    if (c) {
        curl_easy_cleanup(c->curl);
        free(c->body);
        free(c->subject_token);
        free(c);
    }
}

/* Sends 'method' 'url' (a path under --url, or an absolute URL) with JSON
 * 'body' (NULL for none).  Returns the HTTP status, or 0 if no answer
 * came (the reason in c->error); the body is in c->body and the time the
 * request took, in ms, in '*ret_ms' if that is not NULL. */
static long
client_request(struct client *c, const char *method, const char *url,
               const char *body, double *ret_ms)
{
    struct curl_slist *headers = NULL;
    char *full = NULL;
    long status = 0;
    double t0;
    CURLcode rc;

    if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8)) {
        full = xasprintf("%s%s", api_url, url);
        url = full;
    }
    headers = curl_slist_append(headers, "Accept: application/json");
    if (auth_header) {
        headers = curl_slist_append(headers, auth_header);
    }
    if (body) {
        headers = curl_slist_append(headers,
                                    "Content-Type: application/json");
    }
    c->body_len = 0;
    if (c->body) {
        c->body[0] = '\0';
    }
    c->error[0] = '\0';
    curl_easy_setopt(c->curl, CURLOPT_URL, url);
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
        curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE,
                         (long) strlen(body));
    } else {
        curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, method);
    }
    t0 = now_ms();
    rc = curl_easy_perform(c->curl);
    if (ret_ms) {
        *ret_ms = now_ms() - t0;
    }
    if (rc == CURLE_OK) {
        curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
    } else if (!c->error[0]) {
        snprintf(c->error, sizeof c->error, "%s", curl_easy_strerror(rc));
    }
    curl_slist_free_all(headers);
    free(full);
    return status;
}

/* Gets a project-scoped token for the openrc user of the environment. */
static void
get_token(struct client *c)
{
    const char *user = getenv("OS_USERNAME");
    const char *password = getenv("OS_PASSWORD");
    const char *project = getenv("OS_PROJECT_NAME");
    struct json_object *req;
    long status;

    if (!user || !password || !project) {
        die("OS_USERNAME, OS_PASSWORD and OS_PROJECT_NAME must be set "
            "(source the openrc of deploy/cloud)");
    }
    req = json_object_new_object();
    {
        struct json_object *auth = json_object_new_object();
        struct json_object *identity = json_object_new_object();
        struct json_object *methods = json_object_new_array();
        struct json_object *pw = json_object_new_object();
        struct json_object *u = json_object_new_object();
        struct json_object *dom = json_object_new_object();
        struct json_object *scope = json_object_new_object();
        struct json_object *proj = json_object_new_object();
        struct json_object *pdom = json_object_new_object();

        json_object_array_add(methods, json_object_new_string("password"));
        json_object_object_add(dom, "name",
                               json_object_new_string("Default"));
        json_object_object_add(u, "name", json_object_new_string(user));
        json_object_object_add(u, "domain", dom);
        json_object_object_add(u, "password",
                               json_object_new_string(password));
        json_object_object_add(pw, "user", u);
        json_object_object_add(identity, "methods", methods);
        json_object_object_add(identity, "password", pw);
        json_object_object_add(pdom, "name",
                               json_object_new_string("Default"));
        json_object_object_add(proj, "name", json_object_new_string(project));
        json_object_object_add(proj, "domain", pdom);
        json_object_object_add(scope, "project", proj);
        json_object_object_add(auth, "identity", identity);
        json_object_object_add(auth, "scope", scope);
        json_object_object_add(req, "auth", auth);
    }
    status = client_request(c, "POST", "/v3/auth/tokens",
                            json_object_to_json_string(req), NULL);
    json_object_put(req);
    if (status != 201 || !c->subject_token) {
        die("cannot get a token for user '%s': HTTP %ld %s%s", user, status,
            c->error, c->body ? c->body : "");
    }
    auth_header = xasprintf("X-Auth-Token: %s", c->subject_token);
}

/* ------------------------------------------------------------------ */
/* Latency samples. */

static int
compare_double(const void *a_, const void *b_)
{
    double a = *(const double *) a_, b = *(const double *) b_;

    return a < b ? -1 : a > b;
}

/* The 'p'-th percentile (nearest rank) of the 'n' values of 'v', which it
 * sorts; 0 if 'n' is 0. */
static double
percentile(double *v, size_t n, double p)
{
    size_t rank;

    if (!n) {
        return 0;
    }
    qsort(v, n, sizeof *v, compare_double);
    rank = (size_t) (p / 100.0 * (double) n + 0.999999);
    if (rank < 1) {
        rank = 1;
    }
    if (rank > n) {
        rank = n;
    }
    return v[rank - 1];
}

static void
add_latencies(struct json_object *out, const char *name, double *v,
              size_t n)
{
    char key[64];

    snprintf(key, sizeof key, "%s_p50_ms", name);
    json_object_object_add(out, key,
                           json_object_new_double(percentile(v, n, 50)));
    snprintf(key, sizeof key, "%s_p99_ms", name);
    json_object_object_add(out, key,
                           json_object_new_double(percentile(v, n, 99)));
    snprintf(key, sizeof key, "%s_max_ms", name);
    json_object_object_add(out, key,
                           json_object_new_double(n ? v[n - 1] : 0));
}

/* ------------------------------------------------------------------ */
/* The list of the benchmark's servers. */

struct server_list {
    size_t n;                   /* servers of the benchmark */
    size_t n_active;
    size_t n_error;
    char **ids;                 /* 'n' ids */
    /* ACTIVE servers per leaf cell (leaf names in 'leaves'). */
    size_t n_leaves;
    char *leaves[BENCH_MAX_LEAVES];
    size_t active_per_leaf[BENCH_MAX_LEAVES];
};

static void
server_list_clear(struct server_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->ids[i]);
    }
    free(l->ids);
    for (size_t i = 0; i < l->n_leaves; i++) {
        free(l->leaves[i]);
    }
    memset(l, 0, sizeof *l);
}

/* The index in l->leaves of the leaf of compute host 'host', added if
 * new; -1 if the host names no leaf or there are too many. */
static int
server_list_leaf(struct server_list *l, const char *host)
{
    const char *sep = NULL, *p;
    size_t len;

    for (p = strstr(host, BENCH_HOST_SEP); p;
         p = strstr(p + 1, BENCH_HOST_SEP)) {
        sep = p;
    }
    len = sep ? (size_t) (sep - host) : strlen(host);
    for (size_t i = 0; i < l->n_leaves; i++) {
        if (strlen(l->leaves[i]) == len && !strncmp(l->leaves[i], host,
                                                     len)) {
            return (int) i;
        }
    }
    if (l->n_leaves >= BENCH_MAX_LEAVES) {
        return -1;
    }
    l->leaves[l->n_leaves] = xstrndup(host, len);
    return (int) l->n_leaves++;
}

static const char *
json_string_field(struct json_object *o, const char *key)
{
    struct json_object *v;

    if (json_object_object_get_ex(o, key, &v)
        && json_object_is_type(v, json_type_string)) {
        return json_object_get_string(v);
    }
    return NULL;
}

/* Adds the benchmark's servers of one page (parsed 'doc') to 'l' and
 * returns the next link (a new string), or NULL on the last page.  Leaf
 * order is kept from one call to the next by the caller. */
static char *
server_list_add_page(struct server_list *l, struct json_object *doc,
                     size_t *ret_rows)
{
    struct json_object *servers, *links;
    size_t n;
    char *next = NULL;

    if (!json_object_object_get_ex(doc, "servers", &servers)
        || !json_object_is_type(servers, json_type_array)) {
        die("a server list without 'servers'");
    }
    n = json_object_array_length(servers);
    *ret_rows = n;
    l->ids = xreallocarray(l->ids, l->n + n + 1, sizeof *l->ids);
    for (size_t i = 0; i < n; i++) {
        struct json_object *s = json_object_array_get_idx(servers, i);
        const char *id = json_string_field(s, "id");
        const char *name = json_string_field(s, "name");
        const char *status = json_string_field(s, "status");
        const char *host = json_string_field(s, "OS-EXT-SRV-ATTR:host");

        if (!id || !name || strncmp(name, prefix, strlen(prefix))) {
            continue;
        }
        l->ids[l->n++] = xstrdup(id);
        if (status && !strcmp(status, "ACTIVE")) {
            l->n_active++;
            if (host) {
                int leaf = server_list_leaf(l, host);

                if (leaf >= 0) {
                    l->active_per_leaf[leaf]++;
                }
            }
        } else if (status && !strcmp(status, "ERROR")) {
            l->n_error++;
        }
    }
    if (json_object_object_get_ex(doc, "servers_links", &links)
        && json_object_is_type(links, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(links); i++) {
            struct json_object *link = json_object_array_get_idx(links, i);
            const char *rel = json_string_field(link, "rel");
            const char *href = json_string_field(link, "href");

            if (rel && href && !strcmp(rel, "next")) {
                next = xstrdup(href);
            }
        }
    }
    return next;
}

/* Lists every server (all pages) into 'l', keeping the leaf names 'l'
 * already has in their order.  Returns false on an HTTP failure. */
static bool
server_list_fetch(struct client *c, struct server_list *l)
{
    char *url = xasprintf("/v2.1/servers/detail?limit=%d",
                          BENCH_PAGE_LIMIT);
    bool ok = true;

    for (size_t i = 0; i < l->n; i++) {
        free(l->ids[i]);
    }
    l->n = l->n_active = l->n_error = 0;
    memset(l->active_per_leaf, 0, sizeof l->active_per_leaf);
    while (url) {
        long status = client_request(c, "GET", url, NULL, NULL);
        struct json_object *doc;
        size_t rows = 0;

        free(url);
        url = NULL;
        if (status != 200) {
            progress("server list: HTTP %ld %s", status, c->error);
            ok = false;
            break;
        }
        doc = json_tokener_parse(c->body);
        if (!doc) {
            die("the server list is not JSON");
        }
        url = server_list_add_page(l, doc, &rows);
        json_object_put(doc);
        if (!rows) {
            free(url);
            url = NULL;
        }
    }
    return ok;
}

/* ------------------------------------------------------------------ */
/* The timeline of ACTIVE servers per leaf. */

struct timeline_row {
    double t_s;
    size_t active[BENCH_MAX_LEAVES];
};

static struct timeline_row *timeline;
static size_t n_timeline;

static void
timeline_add(double t_s, const struct server_list *l)
{
    struct timeline_row *row;

    timeline = xreallocarray(timeline, n_timeline + 1, sizeof *timeline);
    row = &timeline[n_timeline++];
    memset(row, 0, sizeof *row);
    row->t_s = t_s;
    memcpy(row->active, l->active_per_leaf, sizeof row->active);
}

static void
timeline_write(const struct server_list *l)
{
    FILE *f;

    if (!timeline_path) {
        return;
    }
    f = fopen(timeline_path, "w");
    if (!f) {
        die("cannot write '%s': %s", timeline_path, strerror(errno));
    }
    fputs("# t_s", f);
    for (size_t j = 0; j < l->n_leaves; j++) {
        fprintf(f, " %s", l->leaves[j]);
    }
    fputc('\n', f);
    for (size_t i = 0; i < n_timeline; i++) {
        fprintf(f, "%.3f", timeline[i].t_s);
        for (size_t j = 0; j < l->n_leaves; j++) {
            fprintf(f, " %zu", timeline[i].active[j]);
        }
        fputc('\n', f);
    }
    if (fclose(f)) {
        die("cannot write '%s': %s", timeline_path, strerror(errno));
    }
}

/* ------------------------------------------------------------------ */
/* Worker threads: POST or DELETE one server after another. */

struct work {
    bool delete;
    char **ids;                 /* delete: the servers */
    size_t n;                   /* requests to send */
    atomic_size_t next;         /* next request to take */
    atomic_size_t n_errors;
    double *latency_ms;         /* 'n' */
    pthread_mutex_t mutex;      /* guards first_error */
    char *first_error;
};

static void
work_record_error(struct work *w, const char *what, long status,
                  const struct client *c)
{
    atomic_fetch_add(&w->n_errors, 1);
    pthread_mutex_lock(&w->mutex);
    if (!w->first_error) {
        w->first_error = xasprintf("%s: HTTP %ld %s%.300s", what, status,
                                   c->error, c->body ? c->body : "");
    }
    pthread_mutex_unlock(&w->mutex);
}

static void *
work_thread(void *w_)
{
    struct work *w = w_;
    struct client *c = client_new();

    for (;;) {
        size_t i = atomic_fetch_add(&w->next, 1);
        long status;

        if (i >= w->n) {
            break;
        }
        if (w->delete) {
            char *url = xasprintf("/v2.1/servers/%s", w->ids[i]);

            status = client_request(c, "DELETE", url, NULL,
                                    &w->latency_ms[i]);
            if (status != 204 && status != 404) {
                work_record_error(w, "DELETE", status, c);
            }
            free(url);
        } else {
            char *body = xasprintf(
                "{\"server\": {\"name\": \"%s%06zu\", \"imageRef\": \"%s\", "
                "\"flavorRef\": \"%s\"}}", prefix, i + 1, image_ref,
                flavor_ref);

            status = client_request(c, "POST", "/v2.1/servers", body,
                                    &w->latency_ms[i]);
            if (status != 202) {
                work_record_error(w, "POST", status, c);
            }
            free(body);
        }
    }
    client_free(c);
    return NULL;
}

static void
work_start(struct work *w, pthread_t *threads, size_t n_threads)
{
    for (size_t i = 0; i < n_threads; i++) {
        int error = pthread_create(&threads[i], NULL, work_thread, w);

        if (error) {
            die("cannot start a thread: %s", strerror(error));
        }
    }
}

static void
work_join(pthread_t *threads, size_t n_threads)
{
    for (size_t i = 0; i < n_threads; i++) {
        pthread_join(threads[i], NULL);
    }
}

/* ------------------------------------------------------------------ */
/* The phases. */

static void
phase_boot(struct client *c, struct json_object *out)
{
    struct work w = { .n = (size_t) n_servers };
    pthread_t *threads = xcalloc((size_t) concurrency, sizeof *threads);
    struct server_list l = { 0 };
    double t0, t_posted = 0, t_done = 0, deadline;
    bool posting = true;
    size_t last_active = SIZE_MAX;

    w.latency_ms = xcalloc(w.n, sizeof *w.latency_ms);
    pthread_mutex_init(&w.mutex, NULL);
    progress("booting %ld servers with %ld clients", n_servers,
             concurrency);
    t0 = now_ms();
    deadline = t0 + timeout_s * 1000.0;
    work_start(&w, threads, (size_t) concurrency);
    for (;;) {
        double t_poll = now_ms();

        if (posting && atomic_load(&w.next) >= w.n) {
            /* Every request is taken; wait for the last answers. */
            work_join(threads, (size_t) concurrency);
            posting = false;
            t_posted = now_ms();
            progress("%zu POSTs sent in %.1f s (%zu failed)", w.n,
                     (t_posted - t0) / 1000.0, atomic_load(&w.n_errors));
        }
        if (server_list_fetch(c, &l)) {
            timeline_add((now_ms() - t0) / 1000.0, &l);
            if (l.n_active != last_active) {
                last_active = l.n_active;
                progress("t=%.1f s: %zu listed, %zu ACTIVE, %zu ERROR",
                         (now_ms() - t0) / 1000.0, l.n, l.n_active,
                         l.n_error);
            }
            if (!posting && l.n_active + l.n_error
                >= w.n - atomic_load(&w.n_errors)) {
                t_done = now_ms();
                break;
            }
        }
        if (now_ms() > deadline) {
            progress("timeout after %ld s: %zu ACTIVE, %zu ERROR of %zu",
                     timeout_s, l.n_active, l.n_error, w.n);
            if (posting) {
                work_join(threads, (size_t) concurrency);
                t_posted = now_ms();
            }
            t_done = now_ms();
            break;
        }
        poll_pause(t_poll);
    }
    timeline_write(&l);

    json_object_object_add(out, "posts", json_object_new_int64(
                               (int64_t) w.n));
    json_object_object_add(out, "post_errors", json_object_new_int64(
                               (int64_t) atomic_load(&w.n_errors)));
    if (w.first_error) {
        json_object_object_add(out, "post_first_error",
                               json_object_new_string(w.first_error));
    }
    json_object_object_add(out, "posts_per_second", json_object_new_double(
                               w.n / ((t_posted - t0) / 1000.0)));
    add_latencies(out, "post", w.latency_ms, w.n);
    json_object_object_add(out, "servers_active", json_object_new_int64(
                               (int64_t) l.n_active));
    json_object_object_add(out, "servers_error", json_object_new_int64(
                               (int64_t) l.n_error));
    json_object_object_add(out, "all_active", json_object_new_boolean(
                               l.n_active == w.n));
    json_object_object_add(out, "boot_wall_s", json_object_new_double(
                               (t_done - t0) / 1000.0));
    json_object_object_add(out, "boots_per_second", json_object_new_double(
                               l.n_active / ((t_done - t0) / 1000.0)));
    {
        struct json_object *leaves = json_object_new_object();

        for (size_t j = 0; j < l.n_leaves; j++) {
            json_object_object_add(leaves, l.leaves[j],
                                   json_object_new_int64(
                                       (int64_t) l.active_per_leaf[j]));
        }
        json_object_object_add(out, "active_per_leaf", leaves);
    }
    progress("%zu ACTIVE, %zu ERROR after %.2f s: %.1f boots/s",
             l.n_active, l.n_error, (t_done - t0) / 1000.0,
             l.n_active / ((t_done - t0) / 1000.0));
    server_list_clear(&l);
    free(w.latency_ms);
    free(w.first_error);
    pthread_mutex_destroy(&w.mutex);
    free(threads);
}

static void
phase_read(struct client *c, struct json_object *out)
{
    struct server_list l = { 0 };
    double *detail = xcalloc((size_t) detail_samples, sizeof *detail);
    double *show = xcalloc((size_t) show_samples, sizeof *show);
    char *url = xasprintf("/v2.1/servers/detail?limit=%d",
                          BENCH_PAGE_LIMIT);
    size_t rows = 0;
    unsigned int seed = (unsigned int) time(NULL);

    if (!server_list_fetch(c, &l) || !l.n) {
        die("no server of the benchmark to read");
    }
    progress("timing %ld lists of up to %d rows and %ld shows among %zu "
             "servers", detail_samples, BENCH_PAGE_LIMIT, show_samples, l.n);
    for (long i = 0; i < detail_samples; i++) {
        long status = client_request(c, "GET", url, NULL, &detail[i]);
        struct json_object *doc, *servers;

        if (status != 200) {
            die("GET %s: HTTP %ld %s", url, status, c->error);
        }
        doc = json_tokener_parse(c->body);
        if (doc && json_object_object_get_ex(doc, "servers", &servers)) {
            rows = json_object_array_length(servers);
        }
        json_object_put(doc);
    }
    for (long i = 0; i < show_samples; i++) {
        const char *id = l.ids[(size_t) rand_r(&seed) % l.n];
        char *show_url = xasprintf("/v2.1/servers/%s", id);
        long status = client_request(c, "GET", show_url, NULL, &show[i]);

        if (status != 200) {
            die("GET %s: HTTP %ld %s", show_url, status, c->error);
        }
        free(show_url);
    }
    json_object_object_add(out, "detail_rows",
                           json_object_new_int64((int64_t) rows));
    json_object_object_add(out, "detail_samples",
                           json_object_new_int64(detail_samples));
    add_latencies(out, "detail", detail, (size_t) detail_samples);
    json_object_object_add(out, "show_samples",
                           json_object_new_int64(show_samples));
    add_latencies(out, "show", show, (size_t) show_samples);
    progress("detail (%zu rows) p50 %.1f ms, show p50 %.1f ms", rows,
             percentile(detail, (size_t) detail_samples, 50),
             percentile(show, (size_t) show_samples, 50));
    server_list_clear(&l);
    free(url);
    free(detail);
    free(show);
}

static void
phase_delete(struct client *c, struct json_object *out)
{
    struct server_list l = { 0 };
    pthread_t *threads = xcalloc((size_t) concurrency, sizeof *threads);
    struct work w = { .delete = true };
    double t0, t_sent, t_done, deadline;
    size_t last = SIZE_MAX;
    bool gone = false;

    if (!server_list_fetch(c, &l)) {
        die("cannot list the servers to delete");
    }
    w.ids = l.ids;
    w.n = l.n;
    w.latency_ms = xcalloc(w.n + 1, sizeof *w.latency_ms);
    pthread_mutex_init(&w.mutex, NULL);
    progress("deleting %zu servers with %ld clients", w.n, concurrency);
    t0 = now_ms();
    deadline = t0 + timeout_s * 1000.0;
    work_start(&w, threads, (size_t) concurrency);
    work_join(threads, (size_t) concurrency);
    t_sent = now_ms();
    progress("%zu DELETEs sent in %.1f s (%zu failed)", w.n,
             (t_sent - t0) / 1000.0, atomic_load(&w.n_errors));
    add_latencies(out, "delete", w.latency_ms, w.n);
    json_object_object_add(out, "deletes", json_object_new_int64(
                               (int64_t) w.n));
    json_object_object_add(out, "delete_errors", json_object_new_int64(
                               (int64_t) atomic_load(&w.n_errors)));
    if (w.first_error) {
        json_object_object_add(out, "delete_first_error",
                               json_object_new_string(w.first_error));
    }
    server_list_clear(&l);
    for (;;) {
        double t_poll = now_ms();

        if (server_list_fetch(c, &l)) {
            if (l.n != last) {
                last = l.n;
                progress("t=%.1f s: %zu servers left",
                         (now_ms() - t0) / 1000.0, l.n);
            }
            if (!l.n) {
                gone = true;
                break;
            }
        }
        if (now_ms() > deadline) {
            progress("timeout after %ld s: %zu servers left", timeout_s,
                     l.n);
            break;
        }
        poll_pause(t_poll);
    }
    t_done = now_ms();
    json_object_object_add(out, "all_deleted",
                           json_object_new_boolean(gone));
    json_object_object_add(out, "delete_wall_s", json_object_new_double(
                               (t_done - t0) / 1000.0));
    json_object_object_add(out, "deletes_per_second", json_object_new_double(
                               (w.n - l.n) / ((t_done - t0) / 1000.0)));
    progress("%zu deleted in %.2f s", w.n - l.n, (t_done - t0) / 1000.0);
    server_list_clear(&l);
    free(w.latency_ms);
    free(w.first_error);
    pthread_mutex_destroy(&w.mutex);
    free(threads);
}

/* ------------------------------------------------------------------ */

static void NORETURN
usage(int status)
{
    fprintf(status ? stderr : stdout,
            "Usage: bench-api-load --url URL --image ID --flavor ID "
            "[--servers N]\n"
            "           [--concurrency C] [--phase all|boot|read|delete]\n"
            "           [--timeline FILE] [--timeout S] [--prefix P]\n"
            "           [--detail-samples K] [--show-samples K]\n"
            "Credentials: OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME.\n");
    exit(status);
}

int
main(int argc, char *argv[])
{
    static const struct option options[] = {
        { "url", required_argument, NULL, 'u' },
        { "image", required_argument, NULL, 'i' },
        { "flavor", required_argument, NULL, 'f' },
        { "servers", required_argument, NULL, 'n' },
        { "concurrency", required_argument, NULL, 'c' },
        { "phase", required_argument, NULL, 'p' },
        { "timeline", required_argument, NULL, 'l' },
        { "timeout", required_argument, NULL, 't' },
        { "prefix", required_argument, NULL, 'x' },
        { "detail-samples", required_argument, NULL, 'd' },
        { "show-samples", required_argument, NULL, 's' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct json_object *out;
    struct client *c;
    bool all;
    int opt;

    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (opt) {
        case 'u': api_url = optarg; break;
        case 'i': image_ref = optarg; break;
        case 'f': flavor_ref = optarg; break;
        case 'n':
            n_servers = parse_long("servers", optarg, 1, BENCH_MAX_SERVERS);
            break;
        case 'c':
            concurrency = parse_long("concurrency", optarg, 1,
                                     BENCH_MAX_CONCURRENCY);
            break;
        case 'p': phase = optarg; break;
        case 'l': timeline_path = optarg; break;
        case 't': timeout_s = parse_long("timeout", optarg, 1, 86400); break;
        case 'x': prefix = optarg; break;
        case 'd':
            detail_samples = parse_long("detail-samples", optarg, 1,
                                        BENCH_MAX_SAMPLES);
            break;
        case 's':
            show_samples = parse_long("show-samples", optarg, 1,
                                      BENCH_MAX_SAMPLES);
            break;
        case 'h': usage(EXIT_SUCCESS);
        default: usage(2);
        }
    }
    if (optind != argc || !api_url) {
        usage(2);
    }
    all = !strcmp(phase, "all");
    if (!all && strcmp(phase, "boot") && strcmp(phase, "read")
        && strcmp(phase, "delete")) {
        die("unknown phase '%s'", phase);
    }
    if ((all || !strcmp(phase, "boot")) && (!image_ref || !flavor_ref)) {
        die("booting needs --image and --flavor");
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
        die("curl_global_init failed");
    }
    c = client_new();
    get_token(c);
    out = json_object_new_object();
    json_object_object_add(out, "servers", json_object_new_int64(n_servers));
    json_object_object_add(out, "concurrency",
                           json_object_new_int64(concurrency));
    if (all || !strcmp(phase, "boot")) {
        phase_boot(c, out);
    }
    if (all || !strcmp(phase, "read")) {
        phase_read(c, out);
    }
    if (all || !strcmp(phase, "delete")) {
        phase_delete(c, out);
    }
    puts(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PRETTY
                                        | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(out);
    client_free(c);
    free(auth_header);
    free(timeline);
    curl_global_cleanup();
    return EXIT_SUCCESS;
}
