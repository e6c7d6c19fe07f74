/* http-router.c: route table of nova-api (see http-router.h).
 *
 * Routes are kept in one array, each as its template split into segments
 * (a literal, or a parameter name).  A lookup walks every route: with a
 * few hundred routes of a handful of segments that is a few microseconds,
 * and it keeps the precedence rules plain:
 *
 *   - every route whose segments match the path is a candidate;
 *   - among candidates, the one with a literal at the first place where
 *     they differ wins ("/servers/detail" over "/servers/{server_id}"),
 *     then the one whose trailing slash is as the request's;
 *   - the best candidate for the request's method answers; if no
 *     candidate has the method, the path exists and the answer is 405,
 *     with the methods of every candidate in Allow.
 *
 * The score of a route encodes that order in one integer: bit 63 marks a
 * match, bit 62 - i is set when segment i is a literal, bit 0 when the
 * trailing slash agrees (HTTP_MAX_PATH_SEGMENTS is well below 62). */
#include <config.h>
#include "api-cell/http-router.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/log.h"
#include "shared/xalloc.h"

LOG_MODULE("api.router");

/* Longest prefix given to http_router_allow_project_id(), in segments. */
#define HTTP_ROUTER_MAX_PREFIX_SEGMENTS 4

/* The route parameter that carries a project id taken from the URL. */
#define HTTP_ROUTER_PROJECT_PARAM "project_id"

struct http_route_segment {
    char *text;                 /* literal text, or parameter name */
    bool is_param;
};

struct http_route_entry {
    struct http_route route;    /* 'template' points at 'template_copy' */
    char *template_copy;
    struct http_route_segment *segments;
    size_t n_segments;
    bool trailing_slash;
};

struct http_router {
    struct http_route_entry *entries;
    size_t n_entries;
    size_t allocated;
    char **project_prefix;      /* segments of the prefix, or NULL */
    size_t n_project_prefix;
};

struct http_router *
http_router_new(void)
{
    return xzalloc(sizeof(struct http_router));
}

static void
http_route_entry_destroy(struct http_route_entry *entry)
{
    for (size_t i = 0; i < entry->n_segments; i++) {
        free(entry->segments[i].text);
    }
    free(entry->segments);
    free(entry->template_copy);
}

void
http_router_free(struct http_router *router)
{
    if (!router) {
        return;
    }
    for (size_t i = 0; i < router->n_entries; i++) {
        http_route_entry_destroy(&router->entries[i]);
    }
    free(router->entries);
    for (size_t i = 0; i < router->n_project_prefix; i++) {
        free(router->project_prefix[i]);
    }
    free(router->project_prefix);
    free(router);
}

static void NORETURN
http_router_bad_template(const char *template, const char *why)
{
    LOG_ERR("invalid route template '%s': %s", template, why);
    abort();
}

/* Splits 'template' into 'entry'; aborts on a malformed template. */
static void
http_router_parse_template(const char *template,
                           struct http_route_entry *entry)
{
    size_t size = strlen(template);
    const char *p;
    size_t n_params = 0;

    if (template[0] != '/') {
        http_router_bad_template(template, "it does not start with '/'");
    }
    entry->trailing_slash = size > 1 && template[size - 1] == '/';
    entry->segments = xcalloc(HTTP_MAX_PATH_SEGMENTS + 1,
                              sizeof *entry->segments);
    p = template + 1;
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t seg_size = slash ? (size_t) (slash - p) : strlen(p);
        struct http_route_segment *seg;

        if (seg_size == 0) {
            http_router_bad_template(template, "it has an empty segment");
        }
        if (entry->n_segments == HTTP_MAX_PATH_SEGMENTS) {
            http_router_bad_template(template, "too many segments");
        }
        seg = &entry->segments[entry->n_segments++];
        if (p[0] == '{') {
            if (seg_size < 3 || p[seg_size - 1] != '}') {
                http_router_bad_template(template, "malformed parameter");
            }
            seg->is_param = true;
            seg->text = xstrndup(p + 1, seg_size - 2);
            if (strchr(seg->text, '{') || strchr(seg->text, '}')) {
                http_router_bad_template(template, "malformed parameter");
            }
            for (size_t i = 0; i + 1 < entry->n_segments; i++) {
                if (entry->segments[i].is_param
                    && !strcmp(entry->segments[i].text, seg->text)) {
                    http_router_bad_template(template,
                                             "repeated parameter name");
                }
            }
            if (++n_params > HTTP_ROUTER_MAX_PARAMS) {
                http_router_bad_template(template, "too many parameters");
            }
        } else {
            seg->text = xstrndup(p, seg_size);
            if (strchr(seg->text, '{') || strchr(seg->text, '}')) {
                http_router_bad_template(template, "malformed parameter");
            }
        }
        if (!slash) {
            break;
        }
        p = slash + 1;
    }
}

/* True if 'a' and 'b' match exactly the same paths. */
static bool
http_route_same_shape(const struct http_route_entry *a,
                      const struct http_route_entry *b)
{
    if (a->n_segments != b->n_segments
        || a->trailing_slash != b->trailing_slash) {
        return false;
    }
    for (size_t i = 0; i < a->n_segments; i++) {
        if (a->segments[i].is_param != b->segments[i].is_param) {
            return false;
        }
        if (!a->segments[i].is_param
            && strcmp(a->segments[i].text, b->segments[i].text)) {
            return false;
        }
    }
    return true;
}

void
http_router_add(struct http_router *router, enum http_method method,
                const char *template, unsigned int flags,
                http_handler *handler, void *aux)
{
    struct http_route_entry entry;

    if ((size_t) method >= HTTP_N_METHODS || !handler) {
        http_router_bad_template(template, "bad method or no handler");
    }
    if (router->n_entries >= HTTP_ROUTER_MAX_ROUTES) {
        http_router_bad_template(template, "too many routes");
    }
    memset(&entry, 0, sizeof entry);
    http_router_parse_template(template, &entry);
    for (size_t i = 0; i < router->n_entries; i++) {
        if (router->entries[i].route.method == method
            && http_route_same_shape(&router->entries[i], &entry)) {
            http_router_bad_template(template, "duplicate route");
        }
    }
    entry.template_copy = xstrdup(template);
    entry.route.method = method;
    entry.route.template = entry.template_copy;
    entry.route.flags = flags;
    entry.route.handler = handler;
    entry.route.aux = aux;

    if (router->n_entries == router->allocated) {
        router->allocated = router->allocated ? 2 * router->allocated : 32;
        router->entries = xreallocarray(router->entries, router->allocated,
                                        sizeof *router->entries);
    }
    router->entries[router->n_entries++] = entry;
}

void
http_router_add_raw_body(struct http_router *router, enum http_method method,
                         const char *template, unsigned int flags,
                         http_handler *handler, void *aux,
                         const struct http_body_sink_class *sink,
                         uint64_t max_body_size)
{
    struct http_route *route;

    if (!sink || !sink->open || !sink->write || !sink->close) {
        http_router_bad_template(template, "incomplete body sink");
    }
    http_router_add(router, method, template, flags | HTTP_ROUTE_RAW_BODY,
                    handler, aux);
    route = &router->entries[router->n_entries - 1].route;
    route->sink = sink;
    route->max_body_size = max_body_size;
}

void
http_router_allow_project_id(struct http_router *router, const char *prefix)
{
    const char *p = prefix;

    for (size_t i = 0; i < router->n_project_prefix; i++) {
        free(router->project_prefix[i]);
    }
    free(router->project_prefix);
    router->project_prefix = xcalloc(HTTP_ROUTER_MAX_PREFIX_SEGMENTS,
                                     sizeof *router->project_prefix);
    router->n_project_prefix = 0;
    if (*p != '/') {
        http_router_bad_template(prefix, "it does not start with '/'");
    }
    while (*p == '/' && p[1]) {
        const char *start = p + 1;
        const char *slash = strchr(start, '/');
        size_t size = slash ? (size_t) (slash - start) : strlen(start);

        if (size == 0) {
            break;
        }
        if (router->n_project_prefix == HTTP_ROUTER_MAX_PREFIX_SEGMENTS) {
            http_router_bad_template(prefix, "prefix too long");
        }
        router->project_prefix[router->n_project_prefix++] =
            xstrndup(start, size);
        p = start + size;
    }
}

size_t
http_router_n_routes(const struct http_router *router)
{
    return router->n_entries;
}

/* Returns the score of 'entry' for the path of 'n' 'segments' (see the
 * file comment), or 0 if it does not match. */
static uint64_t
http_route_score(const struct http_route_entry *entry, char **segments,
                 size_t n, bool trailing_slash)
{
    uint64_t score = 0;

    if (entry->n_segments != n) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        const struct http_route_segment *seg = &entry->segments[i];
        if (seg->is_param) {
            if (!segments[i][0]) {
                return 0;
            }
        } else if (strcmp(seg->text, segments[i])) {
            return 0;
        } else {
            score |= UINT64_C(1) << (62 - i);
        }
    }
    if (entry->trailing_slash == trailing_slash) {
        score |= 1;
    }
    /* Bit 63 marks a match, so that a route of parameters only, with the
     * trailing slash differing, still scores above 0. */
    return score | (UINT64_C(1) << 63);
}

static bool
http_method_matches(enum http_method route, enum http_method request)
{
    return route == request || (request == HTTP_HEAD && route == HTTP_GET);
}

/* Looks up 'method' on the path 'segments'.  See http_router_route(). */
static enum http_route_result
http_router_lookup(const struct http_router *router,
                   enum http_method method, char **segments, size_t n,
                   bool trailing_slash,
                   const struct http_route_entry **ret_entry,
                   unsigned int *ret_allowed)
{
    const struct http_route_entry *best = NULL;
    const struct http_route_entry *any = NULL;
    uint64_t best_score = 0;
    unsigned int allowed = 0;

    for (size_t i = 0; i < router->n_entries; i++) {
        const struct http_route_entry *entry = &router->entries[i];
        uint64_t score = http_route_score(entry, segments, n,
                                          trailing_slash);
        if (!score) {
            continue;
        }
        any = entry;
        allowed |= 1u << entry->route.method;
        if (http_method_matches(entry->route.method, method)
            && (score > best_score
                || (score == best_score && method == HTTP_HEAD
                    && entry->route.method == HTTP_HEAD))) {
            best = entry;
            best_score = score;
        }
    }
    *ret_allowed = allowed;
    if (best) {
        *ret_entry = best;
        return HTTP_ROUTE_FOUND;
    }
    *ret_entry = any;
    return any ? HTTP_ROUTE_METHOD_NOT_ALLOWED : HTTP_ROUTE_NOT_FOUND;
}

static void
http_router_set_params(const struct http_route_entry *entry,
                       struct http_request *req, char **segments)
{
    for (size_t i = 0; i < entry->n_segments; i++) {
        if (entry->segments[i].is_param) {
            http_request_set_param(req, entry->segments[i].text,
                                   segments[i]);
        }
    }
}

static bool
http_router_is_project_id(const char *s)
{
    if (!*s) {
        return false;
    }
    for (; *s; s++) {
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')
              || *s == '-')) {
            return false;
        }
    }
    return true;
}

static void
http_router_format_allow(unsigned int allowed, char *allow)
{
    size_t n = 0;

    if (allowed & (1u << HTTP_GET)) {
        allowed |= 1u << HTTP_HEAD;
    }
    allow[0] = '\0';
    for (int m = 0; m < HTTP_N_METHODS; m++) {
        if (allowed & (1u << m)) {
            int len = snprintf(allow + n, HTTP_ROUTER_MAX_ALLOW_SIZE - n,
                               "%s%s", n ? ", " : "",
                               http_method_to_string(m));
            if (len < 0 || (size_t) len >= HTTP_ROUTER_MAX_ALLOW_SIZE - n) {
                break;
            }
            n += (size_t) len;
        }
    }
}

enum http_route_result
http_router_route(const struct http_router *router, struct http_request *req,
                  const struct http_route **ret_route, char *allow)
{
    size_t n = http_request_n_segments(req);
    char *segments[HTTP_MAX_PATH_SEGMENTS + 1];
    const struct http_route_entry *entry = NULL;
    enum http_route_result result;
    unsigned int allowed = 0;
    bool trailing = http_request_has_trailing_slash(req);
    enum http_method method = http_request_method(req);

    for (size_t i = 0; i < n; i++) {
        segments[i] = (char *) http_request_segment(req, i);
    }
    http_request_clear_params(req);
    result = http_router_lookup(router, method, segments, n, trailing,
                                &entry, &allowed);

    /* "/v2.1/{project_id}/...": drop the project id and try again. */
    if (result == HTTP_ROUTE_NOT_FOUND && router->n_project_prefix
        && n > router->n_project_prefix) {
        size_t np = router->n_project_prefix;
        bool prefix_ok = http_router_is_project_id(segments[np]);

        for (size_t i = 0; prefix_ok && i < np; i++) {
            prefix_ok = !strcmp(segments[i], router->project_prefix[i]);
        }
        if (prefix_ok) {
            char *project_id = segments[np];
            char *shorter[HTTP_MAX_PATH_SEGMENTS + 1];

            for (size_t i = 0, j = 0; i < n; i++) {
                if (i != np) {
                    shorter[j++] = segments[i];
                }
            }
            /* "/v2.1/PROJECT" alone is "/v2.1/", not "/v2.1". */
            result = http_router_lookup(router, method, shorter, n - 1,
                                        trailing || n - 1 == np, &entry,
                                        &allowed);
            if (result == HTTP_ROUTE_FOUND) {
                http_router_set_params(entry, req, shorter);
                http_request_set_param(req, HTTP_ROUTER_PROJECT_PARAM,
                                       project_id);
            }
        }
    } else if (result == HTTP_ROUTE_FOUND) {
        http_router_set_params(entry, req, segments);
    }

    if (result == HTTP_ROUTE_METHOD_NOT_ALLOWED && allow) {
        http_router_format_allow(allowed, allow);
    }
    *ret_route = entry ? &entry->route : NULL;
    return result;
}
