/* flavors-api.c: the compute API's flavors (see flavors-api.h).
 *
 * Shapes are Nova's at microversion 2.1: a flavor's "swap" is "" when it
 * is 0 (an integer from 2.75), extra specs are not part of a flavor (from
 * 2.61), there is no "description" (2.55), and adding access to a public
 * flavor is allowed (a 409 from 2.7). */
#include <config.h>

#include "api-cell/flavors-api.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <json-c/json.h>

#include "api-cell/api-db.h"
#include "api-cell/compute-api.h"
#include "api-cell/flavor-db.h"
#include "api-cell/http-router.h"
#include "api-cell/policy.h"
#include "shared/error.h"
#include "shared/flavor.h"
#include "shared/json-util.h"
#include "shared/log.h"
#include "shared/uuid-util.h"
#include "shared/xalloc.h"

LOG_MODULE("api.flavors");

/* Nova's rxtx_factor maximum (a 4-byte float). */
#define FLAVORS_API_MAX_RXTX 3.40282e+38
/* Longest tenant id in flavor access actions. */
#define FLAVORS_API_MAX_TENANT_LENGTH 255

/* ---- Helpers ---------------------------------------------------------- */

static struct error *
flavors_api_db(void *aux, struct db **ret_db)
{
    struct compute_api *compute = aux;

    return api_db_get(compute->db, ret_db);
}

/* The link prefix "<base>/v2.1[/<project>]" and bookmark prefix
 * "<base>[/<project>]" of 'req' (new strings). */
static void
flavors_api_link_prefixes(const struct http_request *req, char **ret_self,
                          char **ret_bookmark)
{
    const char *base = http_request_base_url(req);
    const char *project = http_request_param(req, "project_id");

    if (!base) {
        base = "";
    }
    *ret_self = xasprintf("%s/v2.1%s%s", base, project ? "/" : "",
                          project ? project : "");
    *ret_bookmark = xasprintf("%s%s%s", base, project ? "/" : "",
                              project ? project : "");
}

static struct json_object *
flavors_api_links(const struct http_request *req, const char *flavorid)
{
    struct json_object *links = json_object_new_array();
    AUTOFREE char *self_prefix = NULL;
    AUTOFREE char *bookmark_prefix = NULL;
    const char *rels[] = { "self", "bookmark" };

    flavors_api_link_prefixes(req, &self_prefix, &bookmark_prefix);
    for (size_t i = 0; i < ARRAY_SIZE(rels); i++) {
        struct json_object *link = json_object_new_object();
        AUTOFREE char *href = xasprintf("%s/flavors/%s",
                                        i ? bookmark_prefix : self_prefix,
                                        flavorid);

        json_object_object_add(link, "href", json_object_new_string(href));
        json_object_object_add(link, "rel", json_object_new_string(rels[i]));
        json_object_array_add(links, link);
    }
    return links;
}

/* The view of 'record': brief (id, name, links) or detailed. */
static struct json_object *
flavors_api_view(const struct http_request *req,
                 const struct flavor_record *record, bool detail)
{
    const struct flavor *f = record->flavor;
    struct json_object *obj = json_object_new_object();

    json_object_object_add(obj, "id", json_object_new_string(f->flavorid));
    json_object_object_add(obj, "name", json_object_new_string(f->name));
    if (detail) {
        json_object_object_add(obj, "ram",
                               json_object_new_int64(f->memory_mb));
        json_object_object_add(obj, "disk",
                               json_object_new_int64(f->root_gb));
        json_object_object_add(obj, "vcpus",
                               json_object_new_int64(f->vcpus));
        json_object_object_add(obj, "swap", f->swap
                               ? json_object_new_int64(f->swap)
                               : json_object_new_string(""));
        json_object_object_add(obj, "OS-FLV-EXT-DATA:ephemeral",
                               json_object_new_int64(f->ephemeral_gb));
        json_object_object_add(obj, "OS-FLV-DISABLED:disabled",
                               json_object_new_boolean(record->disabled));
        json_object_object_add(obj, "rxtx_factor",
                               json_object_new_double(record->rxtx_factor));
        json_object_object_add(obj, "os-flavor-access:is_public",
                               json_object_new_boolean(record->is_public));
    }
    json_object_object_add(obj, "links", flavors_api_links(req, f->flavorid));
    return obj;
}

static struct json_object *
flavors_api_flavor_body(const struct http_request *req,
                        const struct flavor_record *record)
{
    struct json_object *body = json_object_new_object();

    json_object_object_add(body, "flavor",
                           flavors_api_view(req, record, true));
    return body;
}

/* Parses a whole decimal integer as Python's int() would (surrounding
 * blanks and a sign allowed).  Returns 0 or -EINVAL. */
static int
flavors_api_parse_int(const char *s, long long *ret)
{
    char *end;
    long long v;

    errno = 0;
    while (*s == ' ' || *s == '\t') {
        s++;
    }
    if (!*s) {
        return -EINVAL;
    }
    v = strtoll(s, &end, 10);
    if (errno || end == s) {
        return -EINVAL;
    }
    while (*end == ' ' || *end == '\t') {
        end++;
    }
    if (*end) {
        return -EINVAL;
    }
    *ret = v;
    return 0;
}

/* oslo's bool_from_string(strict=True): 1 true, 0 false, -1 neither. */
static int
flavors_api_parse_bool(const char *s)
{
    static const char *const yes[] = { "1", "t", "true", "on", "y", "yes" };
    static const char *const no[] = { "0", "f", "false", "off", "n", "no" };

    for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
        if (!strcasecmp(s, yes[i])) {
            return 1;
        }
        if (!strcasecmp(s, no[i])) {
            return 0;
        }
    }
    return -1;
}

/* ---- Lists ------------------------------------------------------------ */

static struct error *
flavors_api_read_filter(const struct http_request *req,
                        const struct compute_api *compute, bool is_admin,
                        struct flavor_db_filter *filter)
{
    const struct http_auth *auth = http_request_auth(req);
    const char *is_public = http_request_query(req, "is_public");
    const char *min_ram = http_request_query(req, "minRam");
    const char *min_disk = http_request_query(req, "minDisk");
    const char *limit = http_request_query(req, "limit");
    const char *sort_key = http_request_query(req, "sort_key");
    const char *sort_dir = http_request_query(req, "sort_dir");
    long long v;

    flavor_db_filter_init(filter);
    filter->project_id = auth ? auth->project_id : NULL;
    if (is_admin) {
        if (is_public && !strcasecmp(is_public, "none")) {
            filter->visibility = FLAVOR_DB_ALL;
        } else if (is_public) {
            int b = flavors_api_parse_bool(is_public);

            if (b < 0) {
                return error_new(ERROR_INVALID, "Invalid is_public filter "
                                 "[%s]", is_public);
            }
            filter->visibility = b ? FLAVOR_DB_PUBLIC_OR_PROJECT
                                   : FLAVOR_DB_PRIVATE;
        }
    } else {
        filter->hide_disabled = true;
    }
    if (min_ram) {
        if (flavors_api_parse_int(min_ram, &v)) {
            return error_new(ERROR_INVALID, "Invalid minRam filter [%s]",
                             min_ram);
        }
        filter->min_ram = v;
    }
    if (min_disk) {
        if (flavors_api_parse_int(min_disk, &v)) {
            return error_new(ERROR_INVALID, "Invalid minDisk filter [%s]",
                             min_disk);
        }
        filter->min_disk = v;
    }
    filter->limit = (size_t) compute->config->max_limit;
    if (limit) {
        if (flavors_api_parse_int(limit, &v)) {
            return error_new(ERROR_INVALID, "limit param must be an "
                             "integer");
        }
        if (v < 0) {
            return error_new(ERROR_INVALID, "limit param must be positive");
        }
        if (v > 0 && v < compute->config->max_limit) {
            filter->limit = (size_t) v;
        }
    }
    filter->marker = http_request_query(req, "marker");
    if (sort_key && flavor_db_sort_key_from_string(sort_key,
                                                   &filter->sort_key)) {
        return error_new(ERROR_INVALID, "Sort key supplied was not valid.");
    }
    if (sort_dir && strcmp(sort_dir, "asc") && strcmp(sort_dir, "desc")) {
        return error_new(ERROR_INVALID, "Unknown sort direction, must be "
                         "'desc' or 'asc'");
    }
    filter->sort_desc = sort_dir && !strcmp(sort_dir, "desc");
    return NULL;
}

static struct error *
flavors_api_list_common(struct http_request *req, struct http_response *resp,
                        void *aux, bool detail)
{
    struct compute_api *compute = aux;
    const struct http_auth *auth = http_request_auth(req);
    struct flavor_record **records = NULL;
    struct flavor_db_filter filter;
    struct json_object *list, *body;
    struct db *db;
    size_t n = 0;
    struct error *error;

    error = flavors_api_read_filter(req, compute, policy_is_admin(auth),
                                    &filter);
    if (!error) {
        error = flavors_api_db(aux, &db);
    }
    if (!error) {
        error = flavor_db_list(db, &filter, &records, &n);
    }
    if (error) {
        return error;
    }
    list = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        json_object_array_add(list, flavors_api_view(req, records[i],
                                                     detail));
    }
    body = json_object_new_object();
    json_object_object_add(body, "flavors", list);
    if (filter.limit && n == filter.limit) {
        /* Nova adds a "next" link when a page is full. */
        struct json_object *links = json_object_new_array();
        struct json_object *next = json_object_new_object();
        AUTOFREE char *self_prefix = NULL;
        AUTOFREE char *bookmark_prefix = NULL;
        AUTOFREE char *href = NULL;

        flavors_api_link_prefixes(req, &self_prefix, &bookmark_prefix);
        href = xasprintf("%s/flavors%s?limit=%zu&marker=%s", self_prefix,
                         detail ? "/detail" : "", filter.limit,
                         records[n - 1]->flavor->flavorid);
        json_object_object_add(next, "href", json_object_new_string(href));
        json_object_object_add(next, "rel", json_object_new_string("next"));
        json_object_array_add(links, next);
        json_object_object_add(body, "flavors_links", links);
    }
    flavor_record_array_free(records, n);
    http_response_set_json(resp, 200, body);
    return NULL;
}

static struct error *
flavors_api_list(struct http_request *req, struct http_response *resp,
                 void *aux)
{
    return flavors_api_list_common(req, resp, aux, false);
}

static struct error *
flavors_api_list_detail(struct http_request *req, struct http_response *resp,
                        void *aux)
{
    return flavors_api_list_common(req, resp, aux, true);
}

/* The flavor of the request's {flavor_id} as the caller may see it. */
static struct error *
flavors_api_get_flavor(struct http_request *req, void *aux, bool with_specs,
                       struct db **ret_db, struct flavor_record **ret)
{
    const struct http_auth *auth = http_request_auth(req);
    struct error *error = flavors_api_db(aux, ret_db);

    if (error) {
        return error;
    }
    return flavor_db_get(*ret_db, http_request_param(req, "flavor_id"),
                         auth ? auth->project_id : NULL,
                         policy_is_admin(auth), with_specs, ret);
}

static struct error *
flavors_api_show(struct http_request *req, struct http_response *resp,
                 void *aux)
{
    CLEANUP(flavor_record_freep) struct flavor_record *record = NULL;
    struct db *db;
    struct error *error;

    error = flavors_api_get_flavor(req, aux, false, &db, &record);
    if (error) {
        return error;
    }
    http_response_set_json(resp, 200, flavors_api_flavor_body(req, record));
    return NULL;
}

/* ---- Create and delete ------------------------------------------------ */

/* Nova's 'name' format: printable, no blank at either end. */
static struct error *
flavors_api_check_name(const char *name)
{
    size_t n = strlen(name);
    bool bad = n == 0 || name[0] == ' ' || name[n - 1] == ' ';

    for (size_t i = 0; !bad && i < n; i++) {
        unsigned char c = (unsigned char) name[i];

        bad = c < 0x20 || c == 0x7f;
    }
    if (bad) {
        AUTOFREE char *shown = xstrndup(name, JSON_ERROR_VALUE_MAX_SIZE);

        return error_new(ERROR_INVALID, "Invalid input for field/attribute "
                         "name. Value: %s. An invalid 'name' value was "
                         "provided. The name must be: printable characters. "
                         "Can not start or end with whitespace.", shown);
    }
    return NULL;
}

/* Nova's flavor id pattern '^(?! )[a-zA-Z0-9. _-]+(?<! )$'. */
static struct error *
flavors_api_check_id(const char *id)
{
    size_t n = strlen(id);
    bool bad = n == 0 || id[0] == ' ' || id[n - 1] == ' ';

    for (size_t i = 0; !bad && i < n; i++) {
        char c = id[i];

        bad = !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                || (c >= '0' && c <= '9') || c == '.' || c == ' '
                || c == '_' || c == '-');
    }
    if (bad) {
        AUTOFREE char *shown = xstrndup(id, JSON_ERROR_VALUE_MAX_SIZE);

        return error_new(ERROR_INVALID, "Invalid input for field/attribute "
                         "id. Value: %s. '%s' does not match "
                         "'^(?! )[a-zA-Z0-9. _-]+(?<! )$'", shown, shown);
    }
    return NULL;
}

/* rxtx_factor: a number, or a string of digits with an optional
 * fraction, greater than 0. */
static struct error *
flavors_api_get_rxtx(const struct json_object *flavor, double *ret)
{
    struct json_object *v;
    double d;

    if (!json_object_object_get_ex(flavor, "rxtx_factor", &v)) {
        return NULL;
    }
    if (json_object_is_type(v, json_type_string)) {
        const char *s = json_object_get_string(v);
        size_t i = 0, digits = 0;
        char *end;

        while (s[i] >= '0' && s[i] <= '9') {
            i++;
            digits++;
        }
        if (digits && s[i] == '.') {
            size_t frac = 0;

            for (i++; s[i] >= '0' && s[i] <= '9'; i++) {
                frac++;
            }
            digits = frac ? digits : 0;
        }
        if (!digits || s[i]) {
            return error_new(ERROR_INVALID, "Invalid input for "
                             "field/attribute rxtx_factor. Value: %s. '%s' "
                             "does not match '^[0-9]+(\\.[0-9]+)?$'", s, s);
        }
        d = strtod(s, &end);
    } else {
        struct error *error = json_get_double(flavor, "flavor",
                                              "rxtx_factor", true, &d);
        if (error) {
            return error;
        }
    }
    if (!(d > 0) || d > FLAVORS_API_MAX_RXTX) {
        return error_new(ERROR_INVALID, "Invalid input for field/attribute "
                         "rxtx_factor. Value: %g. %g is not within (0, "
                         "3.40282e+38]", d, d);
    }
    *ret = d;
    return NULL;
}

struct error *
flavors_api_parse_create(const struct json_object *body,
                         struct flavor_record **ret)
{
    static const char *const top_keys[] = { "flavor", NULL };
    static const char *const keys[] = {
        "name", "id", "ram", "vcpus", "disk", "OS-FLV-EXT-DATA:ephemeral",
        "swap", "rxtx_factor", "os-flavor-access:is_public", NULL,
    };
    CLEANUP(flavor_record_freep) struct flavor_record *record = NULL;
    struct json_object *flavor = NULL, *id_value = NULL;
    AUTOFREE char *id = NULL;
    const char *name = NULL;
    long long ram = 0, vcpus = 0, disk = 0, ephemeral = 0, swap = 0;
    double rxtx = 1.0;
    bool is_public = true;
    struct error *error;

    if (!body) {
        return error_new(ERROR_INVALID, "'flavor' is a required property");
    }
    error = json_get_object(body, NULL, NULL, true, &flavor);
    if (!error) {
        error = json_check_allowed_keys(body, NULL, top_keys);
    }
    if (!error) {
        error = json_get_object(body, NULL, "flavor", true, &flavor);
    }
    if (!error) {
        error = json_check_allowed_keys(flavor, "flavor", keys);
    }
    if (!error) {
        error = json_get_string(flavor, "flavor", "name", true,
                                FLAVOR_NAME_MAX_LENGTH, &name);
    }
    if (!error) {
        error = flavors_api_check_name(name);
    }
    if (!error && json_object_object_get_ex(flavor, "id", &id_value)
        && id_value) {
        error = json_get_string_or_int(flavor, "flavor", "id", true,
                                       FLAVOR_ID_MAX_LENGTH, &id);
        if (!error) {
            error = flavors_api_check_id(id);
        }
    }
    if (!error) {
        error = json_get_int_or_string(flavor, "flavor", "ram", true, 1,
                                       FLAVOR_MAX_INT, &ram);
    }
    if (!error) {
        error = json_get_int_or_string(flavor, "flavor", "vcpus", true, 1,
                                       FLAVOR_MAX_INT, &vcpus);
    }
    if (!error) {
        error = json_get_int_or_string(flavor, "flavor", "disk", true, 0,
                                       FLAVOR_MAX_INT, &disk);
    }
    if (!error) {
        error = json_get_int_or_string(flavor, "flavor",
                                       "OS-FLV-EXT-DATA:ephemeral", false, 0,
                                       FLAVOR_MAX_INT, &ephemeral);
    }
    if (!error) {
        error = json_get_int_or_string(flavor, "flavor", "swap", false, 0,
                                       FLAVOR_MAX_INT, &swap);
    }
    if (!error) {
        error = flavors_api_get_rxtx(flavor, &rxtx);
    }
    if (!error) {
        error = json_get_bool_or_string(flavor, "flavor",
                                        "os-flavor-access:is_public", false,
                                        &is_public);
    }
    if (error) {
        return error;
    }

    if (!id) {
        char uuid[UUID_STRING_SIZE];

        uuid_generate_string(uuid);
        id = xstrdup(uuid);
    }
    record = xzalloc(sizeof *record);
    record->flavor = flavor_new(id, name);
    record->flavor->memory_mb = ram;
    record->flavor->vcpus = vcpus;
    record->flavor->root_gb = disk;
    record->flavor->ephemeral_gb = ephemeral;
    record->flavor->swap = swap;
    record->rxtx_factor = rxtx;
    record->is_public = is_public;
    *ret = TAKE_PTR(record);
    return NULL;
}

static struct error *
flavors_api_create(struct http_request *req, struct http_response *resp,
                   void *aux)
{
    CLEANUP(flavor_record_freep) struct flavor_record *record = NULL;
    struct db *db;
    struct error *error;

    error = policy_check(http_request_auth(req),
                         "os_compute_api:os-flavor-manage:create", NULL);
    if (!error) {
        error = flavors_api_parse_create(http_request_body(req), &record);
    }
    if (!error) {
        error = flavors_api_db(aux, &db);
    }
    if (!error) {
        error = flavor_db_create(db, record);
    }
    if (error) {
        return error;
    }
    LOG_INFO_CTX(http_request_log_ctx(req), "created flavor '%s' (%s)",
                 record->flavor->name, record->flavor->flavorid);
    http_response_set_json(resp, 200, flavors_api_flavor_body(req, record));
    return NULL;
}

static struct error *
flavors_api_delete(struct http_request *req, struct http_response *resp,
                   void *aux)
{
    const char *flavorid = http_request_param(req, "flavor_id");
    struct db *db;
    struct error *error;

    error = policy_check(http_request_auth(req),
                         "os_compute_api:os-flavor-manage:delete", NULL);
    if (!error) {
        error = flavors_api_db(aux, &db);
    }
    if (!error) {
        error = flavor_db_delete(db, flavorid);
    }
    if (error) {
        return error;
    }
    LOG_INFO_CTX(http_request_log_ctx(req), "deleted flavor %s", flavorid);
    http_response_set_status(resp, 202);
    return NULL;
}

/* ---- Extra specs ------------------------------------------------------ */

/* Nova's key pattern '^[a-zA-Z0-9-_:. ]{1,255}$'. */
static bool
flavors_api_spec_key_ok(const char *key)
{
    size_t n = strlen(key);

    if (n < 1 || n > FLAVOR_SPEC_KEY_MAX_LENGTH) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = key[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == ':'
              || c == '.' || c == ' ')) {
            return false;
        }
    }
    return true;
}

/* The value of extra spec 'key' in 'specs' as a string: strings as they
 * are, numbers and booleans as Python's str() writes them. */
static struct error *
flavors_api_spec_value(const struct json_object *specs, const char *path,
                       const char *key, char **ret)
{
    struct json_object *v = json_object_object_get(specs, key);
    const char *s;
    struct error *error;

    if (v && json_object_is_type(v, json_type_boolean)) {
        *ret = xstrdup(json_object_get_boolean(v) ? "True" : "False");
        return NULL;
    }
    if (v && json_object_is_type(v, json_type_int)) {
        *ret = xasprintf("%" PRId64, json_object_get_int64(v));
        return NULL;
    }
    if (v && json_object_is_type(v, json_type_double)) {
        *ret = xasprintf("%.17g", json_object_get_double(v));
        return NULL;
    }
    error = json_get_string(specs, path, key, true,
                            FLAVOR_SPEC_VALUE_MAX_LENGTH, &s);
    if (error) {
        return error;
    }
    *ret = xstrdup(s);
    return NULL;
}

/* Reads the extra specs object 'specs' (at 'path') into '*ret' ('*ret_n'
 * of them); between 'min' and 'max' keys. */
static struct error *
flavors_api_read_specs(const struct json_object *specs, const char *path,
                       size_t min, size_t max, struct flavor_spec **ret,
                       size_t *ret_n)
{
    struct flavor_spec *v;
    size_t n = 0, count = (size_t) json_object_object_length(specs);

    if (count < min) {
        return error_new(ERROR_INVALID, "Invalid input for field/attribute "
                         "%s. Value: {}. {} does not have enough properties",
                         path);
    }
    if (count > max) {
        return error_new(ERROR_INVALID, "Invalid input for field/attribute "
                         "%s. Value has too many properties", path);
    }
    v = xcalloc(count ? count : 1, sizeof *v);
    json_object_object_foreach((struct json_object *) specs, key, value) {
        struct error *error;
        char *s = NULL;

        (void) value;
        if (!flavors_api_spec_key_ok(key)) {
            error = error_new(ERROR_INVALID, "Additional properties are not "
                              "allowed ('%s' was unexpected)", key);
        } else {
            error = flavors_api_spec_value(specs, path, key, &s);
        }
        if (error) {
            for (size_t i = 0; i < n; i++) {
                free(v[i].key);
                free(v[i].value);
            }
            free(v);
            return error;
        }
        v[n].key = xstrdup(key);
        v[n].value = s;
        n++;
    }
    *ret = v;
    *ret_n = n;
    return NULL;
}

static void
flavors_api_specs_free(struct flavor_spec *specs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(specs[i].key);
        free(specs[i].value);
    }
    free(specs);
}

static struct json_object *
flavors_api_specs_json(const struct flavor_spec *specs, size_t n)
{
    struct json_object *obj = json_object_new_object();

    for (size_t i = 0; i < n; i++) {
        json_object_object_add(obj, specs[i].key,
                               json_object_new_string(specs[i].value));
    }
    return obj;
}

static struct error *
flavors_api_specs_index(struct http_request *req, struct http_response *resp,
                        void *aux)
{
    CLEANUP(flavor_record_freep) struct flavor_record *record = NULL;
    struct json_object *body;
    struct db *db;
    struct error *error;

    error = policy_check(http_request_auth(req),
                         "os_compute_api:os-flavor-extra-specs:index", NULL);
    if (!error) {
        error = flavors_api_get_flavor(req, aux, true, &db, &record);
    }
    if (error) {
        return error;
    }
    body = json_object_new_object();
    json_object_object_add(body, "extra_specs", flavors_api_specs_json(
                               record->flavor->extra_specs,
                               record->flavor->n_extra_specs));
    http_response_set_json(resp, 200, body);
    return NULL;
}

static struct error *
flavors_api_specs_create(struct http_request *req,
                         struct http_response *resp, void *aux)
{
    static const char *const keys[] = { "extra_specs", NULL };
    CLEANUP(flavor_record_freep) struct flavor_record *record = NULL;
    const struct json_object *body = http_request_body(req);
    struct json_object *specs_json = NULL, *out;
    struct flavor_spec *specs = NULL;
    size_t n = 0;
    struct db *db;
    struct error *error;

    error = policy_check(http_request_auth(req),
                         "os_compute_api:os-flavor-extra-specs:create",
                         NULL);
    if (!error && !body) {
        error = error_new(ERROR_INVALID, "'extra_specs' is a required "
                          "property");
    }
    if (!error) {
        error = json_get_object(body, NULL, NULL, true, &specs_json);
    }
    if (!error) {
        error = json_check_allowed_keys(body, NULL, keys);
    }
    if (!error) {
        error = json_get_object(body, NULL, "extra_specs", true,
                                &specs_json);
    }
    if (!error) {
        error = flavors_api_read_specs(specs_json, "extra_specs", 0,
                                       FLAVOR_MAX_EXTRA_SPECS, &specs, &n);
    }
    if (!error) {
        error = flavors_api_get_flavor(req, aux, false, &db, &record);
    }
    if (!error) {
        error = flavor_db_set_extra_specs(db, record->id, specs, n);
    }
    if (error) {
        flavors_api_specs_free(specs, n);
        return error;
    }
    out = json_object_new_object();
    json_object_object_add(out, "extra_specs",
                           flavors_api_specs_json(specs, n));
    flavors_api_specs_free(specs, n);
    http_response_set_json(resp, 200, out);
    return NULL;
}

static struct error *
flavors_api_spec_not_found(const char *flavorid, const char *key)
{
    return error_new(ERROR_NOT_FOUND, "Flavor %s has no extra specs with "
                     "key %s.", flavorid, key);
}

static struct error *
flavors_api_spec_show(struct http_request *req, struct http_response *resp,
                      void *aux)
{
    CLEANUP(flavor_record_freep) struct flavor_record *record = NULL;
    const char *key = http_request_param(req, "key");
    struct json_object *body;
    const char *value;
    struct db *db;
    struct error *error;

    error = policy_check(http_request_auth(req),
                         "os_compute_api:os-flavor-extra-specs:show", NULL);
    if (!error) {
        error = flavors_api_get_flavor(req, aux, true, &db, &record);
    }
    if (error) {
        return error;
    }
    value = flavor_get_extra_spec(record->flavor, key);
    if (!value) {
        return flavors_api_spec_not_found(record->flavor->flavorid, key);
    }
    body = json_object_new_object();
    json_object_object_add(body, key, json_object_new_string(value));
    http_response_set_json(resp, 200, body);
    return NULL;
}

static struct error *
flavors_api_spec_update(struct http_request *req,
                        struct http_response *resp, void *aux)
{
    CLEANUP(flavor_record_freep) struct flavor_record *record = NULL;
    const struct json_object *body = http_request_body(req);
    const char *key = http_request_param(req, "key");
    struct json_object *obj = NULL;
    struct flavor_spec *specs = NULL;
    size_t n = 0;
    struct db *db;
    struct error *error;

    error = policy_check(http_request_auth(req),
                         "os_compute_api:os-flavor-extra-specs:update",
                         NULL);
    if (!error && !body) {
        error = error_new(ERROR_INVALID, "The request body is missing.");
    }
    if (!error) {
        error = json_get_object(body, NULL, NULL, true, &obj);
    }
    if (!error) {
        error = flavors_api_read_specs(obj, "extra_specs", 1, 1, &specs,
                                       &n);
    }
    if (!error && strcmp(specs[0].key, key)) {
        error = error_new(ERROR_INVALID, "Request body and URI mismatch");
    }
    if (!error) {
        error = flavors_api_get_flavor(req, aux, false, &db, &record);
    }
    if (!error) {
        error = flavor_db_set_extra_specs(db, record->id, specs, n);
    }
    if (error) {
        flavors_api_specs_free(specs, n);
        return error;
    }
    http_response_set_json(resp, 200, flavors_api_specs_json(specs, n));
    flavors_api_specs_free(specs, n);
    return NULL;
}

static struct error *
flavors_api_spec_delete(struct http_request *req,
                        struct http_response *resp, void *aux)
{
    CLEANUP(flavor_record_freep) struct flavor_record *record = NULL;
    const char *key = http_request_param(req, "key");
    bool found = false;
    struct db *db;
    struct error *error;

    error = policy_check(http_request_auth(req),
                         "os_compute_api:os-flavor-extra-specs:delete",
                         NULL);
    if (!error) {
        error = flavors_api_get_flavor(req, aux, false, &db, &record);
    }
    if (!error) {
        error = flavor_db_delete_extra_spec(db, record->id, key, &found);
    }
    if (error) {
        return error;
    }
    if (!found) {
        return flavors_api_spec_not_found(record->flavor->flavorid, key);
    }
    http_response_set_status(resp, 202);
    return NULL;
}

/* ---- Access ----------------------------------------------------------- */

static struct error *
flavors_api_access_body(struct db *db, const struct flavor_record *record,
                         struct json_object **ret)
{
    struct json_object *list, *body;
    char **projects = NULL;
    size_t n = 0;
    struct error *error;

    error = flavor_db_access_list(db, record->id, &projects, &n);
    if (error) {
        return error;
    }
    list = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        struct json_object *item = json_object_new_object();

        json_object_object_add(item, "flavor_id", json_object_new_string(
                                   record->flavor->flavorid));
        json_object_object_add(item, "tenant_id",
                               json_object_new_string(projects[i]));
        json_object_array_add(list, item);
        free(projects[i]);
    }
    free(projects);
    body = json_object_new_object();
    json_object_object_add(body, "flavor_access", list);
    *ret = body;
    return NULL;
}

static struct error *
flavors_api_access_index(struct http_request *req,
                         struct http_response *resp, void *aux)
{
    CLEANUP(flavor_record_freep) struct flavor_record *record = NULL;
    struct json_object *body = NULL;
    struct db *db;
    struct error *error;

    error = policy_check(http_request_auth(req),
                         "os_compute_api:os-flavor-access", NULL);
    if (!error) {
        error = flavors_api_get_flavor(req, aux, false, &db, &record);
    }
    if (!error && record->is_public) {
        error = error_new(ERROR_NOT_FOUND, "Access list not available for "
                          "public flavors.");
    }
    if (!error) {
        error = flavors_api_access_body(db, record, &body);
    }
    if (error) {
        return error;
    }
    http_response_set_json(resp, 200, body);
    return NULL;
}

static struct error *
flavors_api_action(struct http_request *req, struct http_response *resp,
                   void *aux)
{
    static const char *const tenant_keys[] = { "tenant", NULL };
    CLEANUP(flavor_record_freep) struct flavor_record *record = NULL;
    const struct json_object *body = http_request_body(req);
    struct json_object *action = NULL, *out = NULL;
    const char *name = NULL, *tenant = NULL, *policy = NULL;
    AUTOFREE char *path = NULL;
    bool add = false;
    struct db *db;
    struct error *error;

    if (!body || !json_object_is_type((struct json_object *) body,
                                      json_type_object)
        || json_object_object_length((struct json_object *) body) != 1) {
        return error_new(ERROR_INVALID, "Malformed request body");
    }
    json_object_object_foreach((struct json_object *) body, key, value) {
        name = key;
        action = value;
    }
    if (!strcmp(name, "addTenantAccess")) {
        add = true;
        policy = "os_compute_api:os-flavor-access:add_tenant_access";
    } else if (!strcmp(name, "removeTenantAccess")) {
        policy = "os_compute_api:os-flavor-access:remove_tenant_access";
    } else {
        return error_new(ERROR_INVALID, "There is no such action: %s", name);
    }
    error = policy_check(http_request_auth(req), policy, NULL);
    if (error) {
        return error;
    }
    path = xstrdup(name);
    error = json_get_object(body, NULL, name, true, &action);
    if (!error) {
        error = json_check_allowed_keys(action, path, tenant_keys);
    }
    if (!error) {
        error = json_get_string(action, path, "tenant", true,
                                FLAVORS_API_MAX_TENANT_LENGTH, &tenant);
    }
    if (!error && !*tenant) {
        error = error_new(ERROR_INVALID, "Invalid input for field/attribute "
                          "tenant. Value: \"\". '' is too short");
    }
    if (!error) {
        error = flavors_api_get_flavor(req, aux, false, &db, &record);
    }
    if (!error) {
        error = add ? flavor_db_access_add(db, record->id,
                                           record->flavor->flavorid, tenant)
                    : flavor_db_access_remove(db, record->id,
                                              record->flavor->flavorid,
                                              tenant);
    }
    if (!error) {
        error = flavors_api_access_body(db, record, &out);
    }
    if (error) {
        return error;
    }
    http_response_set_json(resp, 200, out);
    return NULL;
}

void
flavors_api_register(struct http_router *router, struct compute_api *compute)
{
    http_router_add(router, HTTP_GET, "/v2.1/flavors", 0, flavors_api_list,
                    compute);
    http_router_add(router, HTTP_GET, "/v2.1/flavors/detail", 0,
                    flavors_api_list_detail, compute);
    http_router_add(router, HTTP_GET, "/v2.1/flavors/{flavor_id}", 0,
                    flavors_api_show, compute);
    http_router_add(router, HTTP_POST, "/v2.1/flavors", 0,
                    flavors_api_create, compute);
    http_router_add(router, HTTP_DELETE, "/v2.1/flavors/{flavor_id}", 0,
                    flavors_api_delete, compute);
    http_router_add(router, HTTP_GET,
                    "/v2.1/flavors/{flavor_id}/os-extra_specs", 0,
                    flavors_api_specs_index, compute);
    http_router_add(router, HTTP_POST,
                    "/v2.1/flavors/{flavor_id}/os-extra_specs", 0,
                    flavors_api_specs_create, compute);
    http_router_add(router, HTTP_GET,
                    "/v2.1/flavors/{flavor_id}/os-extra_specs/{key}", 0,
                    flavors_api_spec_show, compute);
    http_router_add(router, HTTP_PUT,
                    "/v2.1/flavors/{flavor_id}/os-extra_specs/{key}", 0,
                    flavors_api_spec_update, compute);
    http_router_add(router, HTTP_DELETE,
                    "/v2.1/flavors/{flavor_id}/os-extra_specs/{key}", 0,
                    flavors_api_spec_delete, compute);
    http_router_add(router, HTTP_GET,
                    "/v2.1/flavors/{flavor_id}/os-flavor-access", 0,
                    flavors_api_access_index, compute);
    http_router_add(router, HTTP_POST, "/v2.1/flavors/{flavor_id}/action", 0,
                    flavors_api_action, compute);
}
