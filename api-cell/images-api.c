/* images-api.c: the Glance v2 subset of nova-api (see images-api.h).
 *
 * Records live in the API database (image-db.h), files in the store
 * (image-store.h).  The upload route is the HTTP server's raw body route
 * (http-router.h): its body sink opens an image_upload once the caller
 * may upload (owner or admin, image queued), takes the body piece by
 * piece, and the handler finishes the file and marks the image active.
 * Whatever ends the request before that (client gone, too large, disk
 * full) closes the sink, which removes the partial file: the image stays
 * queued. */
#include <config.h>
#include "api-cell/images-api.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <json-c/json.h>

#include "api-cell/api-db.h"
#include "api-cell/compute-api.h"
#include "api-cell/http-server.h"
#include "api-cell/image-db.h"
#include "api-cell/image-store.h"
#include "shared/db.h"
#include "shared/error.h"
#include "shared/json-util.h"
#include "shared/log.h"
#include "shared/uuid-util.h"
#include "shared/xalloc.h"

LOG_MODULE("api.images");

#define IMAGES_PREFIX "/image"
#define IMAGES_JSON_PATCH_TYPE "application/openstack-images-v2.1-json-patch"
#define IMAGES_OLD_JSON_PATCH_TYPE \
    "application/openstack-images-v2.0-json-patch"

/* Ops in one JSON patch. */
#define IMAGES_MAX_PATCH_OPS 256

struct images_api {
    struct compute_api *compute;
    const struct image_config *config;
};

/* One image service per process (images-api.h). */
static struct images_api images_api;

static const char *const images_disk_formats[] = {
    "ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi",
    "iso", "ploop", NULL,
};
static const char *const images_container_formats[] = {
    "ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed", NULL,
};
static const char *const images_visibilities[] = {
    "public", "community", "shared", "private", NULL,
};

/* Attributes a client may never set. */
static const char *const images_read_only[] = {
    "status", "size", "virtual_size", "checksum", "os_hash_algo",
    "os_hash_value", "created_at", "updated_at", "self", "file", "schema",
    "owner", "direct_url", "locations", "location", "deleted",
    "deleted_at", NULL,
};

/* Core attributes: not custom properties. */
static const char *const images_core[] = {
    "id", "name", "visibility", "protected", "os_hidden", "disk_format",
    "container_format", "min_disk", "min_ram", "tags", NULL,
};

static bool
images_in(const char *const *list, const char *s)
{
    for (size_t i = 0; list[i]; i++) {
        if (!strcmp(list[i], s)) {
            return true;
        }
    }
    return false;
}

static struct error *
images_db(struct db **ret)
{
    return api_db_get(images_api.compute->db, ret);
}

static const char *
images_project(const struct http_request *req)
{
    const struct http_auth *auth = http_request_auth(req);

    return auth ? auth->project_id : NULL;
}

static bool
images_is_admin(const struct http_request *req)
{
    const struct http_auth *auth = http_request_auth(req);

    return auth && auth->is_admin;
}

static bool
images_may_modify(const struct http_request *req, const struct image *image)
{
    const char *project = images_project(req);

    return images_is_admin(req)
           || (image->owner && project && !strcmp(image->owner, project));
}

/* ---- JSON ------------------------------------------------------------- */

static struct json_object *
images_str_or_null(const char *s)
{
    return s ? json_object_new_string(s) : NULL;
}

static struct json_object *
images_size_or_null(int64_t size)
{
    return size >= 0 ? json_object_new_int64(size) : NULL;
}

/* The Glance v2 image record of 'image': a new reference. */
static struct json_object *
images_to_json(const struct image *image)
{
    struct json_object *obj = json_object_new_object();
    struct json_object *tags = json_object_new_array();
    AUTOFREE char *self = xasprintf("/v2/images/%s", image->id);
    AUTOFREE char *file = xasprintf("/v2/images/%s/file", image->id);

    /* Custom properties first, so that core fields win on a clash. */
    for (size_t i = 0; i < image->n_properties; i++) {
        json_object_object_add(obj, image->properties[i].name,
                               json_object_new_string(
                                   image->properties[i].value));
    }
    json_object_object_add(obj, "id", json_object_new_string(image->id));
    json_object_object_add(obj, "name", images_str_or_null(image->name));
    json_object_object_add(obj, "status",
                           json_object_new_string(image->status));
    json_object_object_add(obj, "visibility",
                           json_object_new_string(image->visibility));
    json_object_object_add(obj, "protected",
                           json_object_new_boolean(image->is_protected));
    json_object_object_add(obj, "os_hidden",
                           json_object_new_boolean(image->os_hidden));
    json_object_object_add(obj, "checksum",
                           images_str_or_null(image->checksum));
    json_object_object_add(obj, "os_hash_algo",
                           images_str_or_null(image->os_hash_algo));
    json_object_object_add(obj, "os_hash_value",
                           images_str_or_null(image->os_hash_value));
    json_object_object_add(obj, "size", images_size_or_null(image->size));
    json_object_object_add(obj, "virtual_size",
                           images_size_or_null(image->virtual_size));
    json_object_object_add(obj, "disk_format",
                           images_str_or_null(image->disk_format));
    json_object_object_add(obj, "container_format",
                           images_str_or_null(image->container_format));
    json_object_object_add(obj, "min_disk",
                           json_object_new_int64(image->min_disk));
    json_object_object_add(obj, "min_ram",
                           json_object_new_int64(image->min_ram));
    json_object_object_add(obj, "owner", images_str_or_null(image->owner));
    json_object_object_add(obj, "created_at",
                           images_str_or_null(image->created_at));
    json_object_object_add(obj, "updated_at",
                           images_str_or_null(image->updated_at));
    for (size_t i = 0; i < image->n_tags; i++) {
        json_object_array_add(tags, json_object_new_string(image->tags[i]));
    }
    json_object_object_add(obj, "tags", tags);
    json_object_object_add(obj, "self", json_object_new_string(self));
    json_object_object_add(obj, "file", json_object_new_string(file));
    json_object_object_add(obj, "schema",
                           json_object_new_string("/v2/schemas/image"));
    return obj;
}

/* Sets attribute 'name' of 'image' to 'value' (a create body's field or
 * a patch's value; NULL for remove).  'creating' allows "id". */
static struct error *
images_set_attribute(struct image *image, const char *name,
                     struct json_object *value, bool creating,
                     const struct http_request *req)
{
    struct json_object *wrap;
    struct error *error = NULL;

    if (images_in(images_read_only, name)) {
        return error_new(ERROR_FORBIDDEN, "Attribute '%s' is read-only.",
                         name);
    }
    if (!strcmp(name, "id") && !creating) {
        return error_new(ERROR_FORBIDDEN, "Attribute 'id' is read-only.");
    }
    if (!value && images_in(images_core, name)) {
        return error_new(ERROR_FORBIDDEN, "Attribute '%s' is reserved.",
                         name);
    }
    if (!value) {
        if (!image_get_property(image, name)) {
            return error_new(ERROR_CONFLICT, "Property %s does not exist.",
                             name);
        }
        image_set_property(image, name, NULL);
        return NULL;
    }

    /* The json_get_* helpers read a field of an object. */
    wrap = json_object_new_object();
    json_object_object_add(wrap, name, json_object_get(value));
    if (!strcmp(name, "id")) {
        const char *id;
        char norm[UUID_STRING_SIZE];

        error = json_get_string(wrap, NULL, name, true, 0, &id);
        if (!error && uuid_normalize(id, norm) < 0) {
            error = error_new(ERROR_INVALID, "Invalid id '%s': it must be "
                              "a UUID", id);
        }
        if (!error) {
            free(image->id);
            image->id = xstrdup(norm);
        }
    } else if (!strcmp(name, "name")) {
        const char *s = NULL;

        if (!json_object_is_type(value, json_type_null)) {
            error = json_get_string(wrap, NULL, name, true,
                                    IMAGE_DB_MAX_NAME_LENGTH, &s);
        }
        if (!error) {
            free(image->name);
            image->name = xstrdup_or_null(s);
        }
    } else if (!strcmp(name, "visibility")) {
        const char *s;

        error = json_get_string(wrap, NULL, name, true, 0, &s);
        if (!error && !images_in(images_visibilities, s)) {
            error = error_new(ERROR_INVALID, "Invalid visibility value: "
                              "%s", s);
        }
        if (!error && !strcmp(s, "public") && !images_is_admin(req)) {
            error = error_new(ERROR_FORBIDDEN, "You are not authorized to "
                              "complete publicize_image action.");
        }
        if (!error) {
            free(image->visibility);
            image->visibility = xstrdup(s);
        }
    } else if (!strcmp(name, "disk_format")
               || !strcmp(name, "container_format")) {
        bool disk = name[0] == 'd';
        const char *s = NULL;

        if (!json_object_is_type(value, json_type_null)) {
            error = json_get_string(wrap, NULL, name, true, 0, &s);
        }
        if (!error && s && !images_in(disk ? images_disk_formats
                                           : images_container_formats, s)) {
            error = error_new(ERROR_INVALID, "Invalid value '%s' for %s",
                              s, name);
        }
        if (!error) {
            char **field = disk ? &image->disk_format
                                : &image->container_format;
            free(*field);
            *field = xstrdup_or_null(s);
        }
    } else if (!strcmp(name, "protected") || !strcmp(name, "os_hidden")) {
        bool b;

        error = json_get_bool(wrap, NULL, name, true, &b);
        if (!error && name[0] == 'p') {
            image->is_protected = b;
        } else if (!error) {
            image->os_hidden = b;
        }
    } else if (!strcmp(name, "min_disk") || !strcmp(name, "min_ram")) {
        long long n;

        error = json_get_int(wrap, NULL, name, true, 0, INT32_MAX, &n);
        if (!error && !strcmp(name, "min_disk")) {
            image->min_disk = n;
        } else if (!error) {
            image->min_ram = n;
        }
    } else if (!strcmp(name, "tags")) {
        struct json_object *array;

        error = json_get_array(wrap, NULL, name, true, IMAGE_DB_MAX_TAGS,
                               &array);
        while (!error && image->n_tags) {
            image_remove_tag(image, image->tags[0]);
        }
        for (size_t i = 0; !error && i < json_object_array_length(array);
             i++) {
            struct json_object *t = json_object_array_get_idx(array, i);
            const char *tag = json_object_get_string(t);

            if (!json_object_is_type(t, json_type_string) || !*tag
                || strlen(tag) > IMAGE_DB_MAX_TAG_LENGTH) {
                error = error_new(ERROR_INVALID, "Invalid tag in 'tags'");
            } else {
                image_add_tag(image, tag);
            }
        }
    } else {
        const char *s;

        if (!*name || strlen(name) > IMAGE_DB_MAX_PROPERTY_NAME_LENGTH) {
            error = error_new(ERROR_INVALID, "Invalid property name '%s'",
                              name);
        } else if (!json_object_is_type(value, json_type_string)) {
            error = error_new(ERROR_INVALID, "Property '%s' must be a "
                              "string", name);
        } else {
            error = json_get_string(wrap, NULL, name, true,
                                    IMAGE_DB_MAX_PROPERTY_VALUE_LENGTH, &s);
            if (!error && !image_get_property(image, name)
                && image->n_properties >= IMAGE_DB_MAX_PROPERTIES) {
                error = error_new(ERROR_QUOTA, "Maximum number of "
                                  "properties (%d) exceeded",
                                  IMAGE_DB_MAX_PROPERTIES);
            }
            if (!error) {
                image_set_property(image, name, s);
            }
        }
    }
    json_object_put(wrap);
    return error;
}

/* ---- Handlers --------------------------------------------------------- */

/* GET /image, /image/versions: Glance's version document. */
static struct error *
images_versions(struct http_request *req, struct http_response *resp,
                void *aux)
{
    static const struct {
        const char *id;
        const char *status;
    } versions[] = {
        { "v2.9", "CURRENT" },
        { "v2.0", "SUPPORTED" },
    };
    struct json_object *list = json_object_new_array();
    struct json_object *body = json_object_new_object();
    AUTOFREE char *href = xasprintf("%s" IMAGES_PREFIX "/v2/",
                                    http_request_base_url(req));

    (void) aux;
    for (size_t i = 0; i < ARRAY_SIZE(versions); i++) {
        struct json_object *v = json_object_new_object();
        struct json_object *links = json_object_new_array();
        struct json_object *link = json_object_new_object();

        json_object_object_add(link, "rel", json_object_new_string("self"));
        json_object_object_add(link, "href", json_object_new_string(href));
        json_object_array_add(links, link);
        json_object_object_add(v, "id",
                               json_object_new_string(versions[i].id));
        json_object_object_add(v, "status",
                               json_object_new_string(versions[i].status));
        json_object_object_add(v, "links", links);
        json_object_array_add(list, v);
    }
    json_object_object_add(body, "versions", list);
    http_response_set_json(resp, 200, body);
    return NULL;
}

/* GET /image/v2/schemas/image and .../images: enough for clients that
 * read them; custom properties are strings. */
static struct error *
images_schema(struct http_request *req, struct http_response *resp,
              void *aux)
{
    bool many = !strcmp(http_request_path(req) + strlen(
                            http_request_path(req)) - 1, "s");
    struct json_object *schema = json_object_new_object();
    struct json_object *additional = json_object_new_object();

    (void) aux;
    json_object_object_add(additional, "type",
                           json_object_new_string("string"));
    json_object_object_add(schema, "name",
                           json_object_new_string(many ? "images"
                                                       : "image"));
    json_object_object_add(schema, "properties", json_object_new_object());
    json_object_object_add(schema, "additionalProperties", additional);
    http_response_set_json(resp, 200, schema);
    return NULL;
}

/* Percent-encodes 's' for a query string. */
static char *
images_url_encode(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = xmalloc(3 * strlen(s) + 1);
    char *p = out;

    for (; *s; s++) {
        unsigned char c = (unsigned char) *s;

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9') || strchr("-._~", c)) {
            *p++ = (char) c;
        } else {
            *p++ = '%';
            *p++ = hex[c >> 4];
            *p++ = hex[c & 15];
        }
    }
    *p = '\0';
    return out;
}

/* GET /image/v2/images */
static struct error *
images_list(struct http_request *req, struct http_response *resp,
            void *aux)
{
    static const char *const known[] = {
        "limit", "marker", "sort_key", "sort_dir", "name", "status",
        "visibility", "owner", "member_status", "os_hidden", NULL,
    };
    struct image_db_filter filter;
    struct image **images = NULL;
    size_t n = 0;
    struct db *db;
    struct error *error;
    const char *limit = http_request_query(req, "limit");
    const char *dir = http_request_query(req, "sort_dir");
    struct json_object *body, *list;
    char *next = NULL;

    (void) aux;
    for (size_t i = 0; i < http_request_n_query(req); i++) {
        const char *name, *value;

        http_request_query_at(req, i, &name, &value);
        if (!images_in(known, name)) {
            /* Glance filters on custom properties; not supported. */
            return error_new(ERROR_INVALID, "Unsupported filter '%s'",
                             name);
        }
    }
    memset(&filter, 0, sizeof filter);
    filter.project_id = images_project(req);
    filter.is_admin = images_is_admin(req);
    filter.name = http_request_query(req, "name");
    filter.status = http_request_query(req, "status");
    filter.visibility = http_request_query(req, "visibility");
    filter.owner = http_request_query(req, "owner");
    filter.marker = http_request_query(req, "marker");
    filter.sort_key = http_request_query(req, "sort_key");
    filter.limit = IMAGES_API_DEFAULT_LIMIT;
    if (filter.visibility && !strcmp(filter.visibility, "all")) {
        filter.visibility = NULL;
    } else if (filter.visibility
               && !images_in(images_visibilities, filter.visibility)) {
        return error_new(ERROR_INVALID, "Invalid visibility value: %s",
                         filter.visibility);
    }
    if (limit) {
        char *end;
        long v;

        errno = 0;
        v = strtol(limit, &end, 10);
        if (errno || end == limit || *end || v < 0) {
            return error_new(ERROR_INVALID, "limit param must be an "
                             "integer");
        }
        filter.limit = v > IMAGES_API_MAX_LIMIT ? IMAGES_API_MAX_LIMIT
                       : (int) v;
    }
    if (dir && strcmp(dir, "asc") && strcmp(dir, "desc")) {
        return error_new(ERROR_INVALID, "Invalid sort direction: %s", dir);
    }
    filter.sort_asc = dir && !strcmp(dir, "asc");

    error = images_db(&db);
    if (error) {
        return error;
    }
    if (filter.limit == 0) {
        images = xcalloc(1, sizeof *images);
    } else {
        error = image_db_list(db, &filter, &images, &n);
        if (error) {
            return error;
        }
    }
    list = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        json_object_array_add(list, images_to_json(images[i]));
    }
    body = json_object_new_object();
    json_object_object_add(body, "images", list);
    json_object_object_add(body, "first",
                           json_object_new_string("/v2/images"));
    json_object_object_add(body, "schema",
                           json_object_new_string("/v2/schemas/images"));
    if (n > 0 && (int) n == filter.limit) {
        /* The same query from after the last image. */
        AUTOFREE char *query = xstrdup("");

        for (size_t i = 0; i < http_request_n_query(req); i++) {
            const char *name, *value;
            AUTOFREE char *v = NULL;
            char *longer;

            http_request_query_at(req, i, &name, &value);
            if (!strcmp(name, "marker")) {
                continue;
            }
            v = images_url_encode(value);
            longer = xasprintf("%s%s=%s&", query, name, v);
            free(query);
            query = longer;
        }
        next = xasprintf("/v2/images?%smarker=%s", query,
                         images[n - 1]->id);
        json_object_object_add(body, "next", json_object_new_string(next));
        free(next);
    }
    image_array_free(images, n);
    http_response_set_json(resp, 200, body);
    return NULL;
}

/* POST /image/v2/images */
static struct error *
images_create(struct http_request *req, struct http_response *resp,
              void *aux)
{
    struct json_object *body = http_request_body(req);
    CLEANUP(image_freep) struct image *image = image_new();
    char id[UUID_STRING_SIZE];
    struct db *db;
    struct error *error;

    (void) aux;
    if (!body || !json_object_is_type(body, json_type_object)) {
        return error_new(ERROR_INVALID, "Malformed request body: an image "
                         "object is required");
    }
    uuid_generate_string(id);
    image->id = xstrdup(id);
    image->owner = xstrdup_or_null(images_project(req));
    image->status = xstrdup("queued");
    image->visibility = xstrdup("shared");
    json_object_object_foreach(body, key, value) {
        error = images_set_attribute(image, key, value, true, req);
        if (error) {
            return error;
        }
    }
    error = images_db(&db);
    if (!error) {
        error = image_db_create(db, image);
    }
    if (!error) {
        AUTOFREE char *created = xstrdup(image->id);

        image_free(image);
        image = NULL;
        error = image_db_get(db, created, images_project(req), true,
                             &image);
    }
    if (error) {
        return error;
    }
    LOG_INFO_CTX(http_request_log_ctx(req), "created image %s", image->id);
    http_response_set_json(resp, 201, images_to_json(image));
    return NULL;
}

/* Reads the image of the request's {image_id} as the caller sees it. */
static struct error *
images_get_param(struct http_request *req, struct db **ret_db,
                 struct image **ret)
{
    struct error *error = images_db(ret_db);

    if (error) {
        return error;
    }
    return image_db_get(*ret_db, http_request_param(req, "image_id"),
                        images_project(req), images_is_admin(req), ret);
}

/* GET /image/v2/images/{image_id} */
static struct error *
images_show(struct http_request *req, struct http_response *resp,
            void *aux)
{
    CLEANUP(image_freep) struct image *image = NULL;
    struct db *db;
    struct error *error = images_get_param(req, &db, &image);

    (void) aux;
    if (error) {
        return error;
    }
    http_response_set_json(resp, 200, images_to_json(image));
    return NULL;
}

/* Applies one JSON patch operation 'op' to 'image'. */
static struct error *
images_patch_op(struct http_request *req, struct image *image,
                struct json_object *op)
{
    const char *kind, *path;
    struct json_object *value = NULL;
    struct error *error;

    if (!json_object_is_type(op, json_type_object)) {
        return error_new(ERROR_INVALID, "Operations must be JSON objects.");
    }
    error = json_get_string(op, NULL, "op", true, 0, &kind);
    if (!error) {
        error = json_get_string(op, NULL, "path", true, 0, &path);
    }
    if (error) {
        return error;
    }
    if (path[0] != '/' || !path[1] || strchr(path + 1, '/')) {
        return error_new(ERROR_INVALID, "Invalid JSON pointer for this "
                         "resource: '%s'", path);
    }
    path++;
    if (!strcmp(kind, "remove")) {
        return images_set_attribute(image, path, NULL, false, req);
    }
    if (strcmp(kind, "add") && strcmp(kind, "replace")) {
        return error_new(ERROR_INVALID, "Operation \"%s\" is not supported.",
                         kind);
    }
    if (!json_object_object_get_ex(op, "value", &value)) {
        return error_new(ERROR_INVALID, "Operation \"%s\" requires a member "
                         "named \"value\".", kind);
    }
    if (!strcmp(kind, "replace") && !images_in(images_core, path)
        && !images_in(images_read_only, path)
        && !image_get_property(image, path)) {
        return error_new(ERROR_CONFLICT, "Property %s does not exist.",
                         path);
    }
    return images_set_attribute(image, path, value, false, req);
}

/* PATCH /image/v2/images/{image_id} */
static struct error *
images_update(struct http_request *req, struct http_response *resp,
              void *aux)
{
    CLEANUP(image_freep) struct image *image = NULL;
    const char *type = http_request_header(req, "Content-Type");
    struct json_object *body = http_request_body(req);
    struct db *db;
    struct error *error;
    size_t n;

    (void) aux;
    if (!type || (strncasecmp(type, IMAGES_JSON_PATCH_TYPE,
                              strlen(IMAGES_JSON_PATCH_TYPE))
                  && strncasecmp(type, IMAGES_OLD_JSON_PATCH_TYPE,
                                 strlen(IMAGES_OLD_JSON_PATCH_TYPE)))) {
        return error_new(ERROR_INVALID, "Unsupported Content-Type: the "
                         "body must be " IMAGES_JSON_PATCH_TYPE);
    }
    if (!body || !json_object_is_type(body, json_type_array)) {
        return error_new(ERROR_INVALID, "Request body must be a JSON array "
                         "of operation objects.");
    }
    n = json_object_array_length(body);
    if (n > IMAGES_MAX_PATCH_OPS) {
        return error_new(ERROR_INVALID, "Too many operations (at most %d)",
                         IMAGES_MAX_PATCH_OPS);
    }
    error = images_get_param(req, &db, &image);
    if (error) {
        return error;
    }
    if (!images_may_modify(req, image)) {
        return error_new(ERROR_FORBIDDEN, "You are not permitted to modify "
                         "image %s.", image->id);
    }
    for (size_t i = 0; i < n; i++) {
        error = images_patch_op(req, image,
                                json_object_array_get_idx(body, i));
        if (error) {
            return error;
        }
    }
    error = image_db_update(db, image);
    if (!error) {
        AUTOFREE char *id = xstrdup(image->id);

        image_free(image);
        image = NULL;
        error = image_db_get(db, id, images_project(req), true, &image);
    }
    if (error) {
        return error;
    }
    http_response_set_json(resp, 200, images_to_json(image));
    return NULL;
}

/* DELETE /image/v2/images/{image_id} */
static struct error *
images_delete(struct http_request *req, struct http_response *resp,
              void *aux)
{
    CLEANUP(image_freep) struct image *image = NULL;
    struct db *db;
    struct error *error = images_get_param(req, &db, &image);

    (void) aux;
    if (error) {
        return error;
    }
    if (!images_may_modify(req, image)) {
        return error_new(ERROR_FORBIDDEN, "You are not permitted to delete "
                         "image %s.", image->id);
    }
    if (image->is_protected) {
        return error_new(ERROR_FORBIDDEN, "Image %s is protected and cannot "
                         "be deleted.", image->id);
    }
    error = image_db_delete(db, image->id);
    if (error) {
        return error;
    }
    /* XXX: a server booting from the file at this moment keeps its open
     * descriptor; compute hosts that read it later fail the boot. */
    image_store_remove(image->location);
    LOG_INFO_CTX(http_request_log_ctx(req), "deleted image %s", image->id);
    http_response_set_status(resp, 204);
    return NULL;
}

/* PUT and DELETE /image/v2/images/{image_id}/tags/{tag} */
static struct error *
images_tag(struct http_request *req, struct http_response *resp, void *aux)
{
    CLEANUP(image_freep) struct image *image = NULL;
    const char *tag = http_request_param(req, "tag");
    struct db *db;
    struct error *error = images_get_param(req, &db, &image);

    (void) aux;
    if (error) {
        return error;
    }
    if (!images_may_modify(req, image)) {
        return error_new(ERROR_FORBIDDEN, "You are not permitted to modify "
                         "image %s.", image->id);
    }
    if (strlen(tag) > IMAGE_DB_MAX_TAG_LENGTH) {
        return error_new(ERROR_INVALID, "Tag is too long");
    }
    if (http_request_method(req) == HTTP_PUT) {
        if (image->n_tags >= IMAGE_DB_MAX_TAGS) {
            return error_new(ERROR_QUOTA, "Maximum number of tags (%d) "
                             "exceeded", IMAGE_DB_MAX_TAGS);
        }
        image_add_tag(image, tag);
    } else {
        size_t before = image->n_tags;

        image_remove_tag(image, tag);
        if (before == image->n_tags) {
            return error_new(ERROR_NOT_FOUND, "Tag %s not found", tag);
        }
    }
    error = image_db_update(db, image);
    if (error) {
        return error;
    }
    http_response_set_status(resp, 204);
    return NULL;
}

/* POST /image/v2/images/{image_id}/members {"member": PROJECT} */
static struct error *
images_add_member(struct http_request *req, struct http_response *resp,
                  void *aux)
{
    CLEANUP(image_freep) struct image *image = NULL;
    struct json_object *body = http_request_body(req);
    struct json_object *member_json;
    const char *member;
    struct db *db;
    struct error *error;

    (void) aux;
    error = json_get_string(body, NULL, "member", true, 255, &member);
    if (!error) {
        error = images_get_param(req, &db, &image);
    }
    if (error) {
        return error;
    }
    if (!images_may_modify(req, image)) {
        return error_new(ERROR_FORBIDDEN, "You are not permitted to share "
                         "image %s.", image->id);
    }
    if (strcmp(image->visibility, "shared")) {
        return error_new(ERROR_FORBIDDEN, "Only shared images have "
                         "members.");
    }
    error = image_db_add_member(db, image->id, member);
    if (error) {
        return error;
    }
    member_json = json_object_new_object();
    json_object_object_add(member_json, "image_id",
                           json_object_new_string(image->id));
    json_object_object_add(member_json, "member_id",
                           json_object_new_string(member));
    json_object_object_add(member_json, "status",
                           json_object_new_string("accepted"));
    json_object_object_add(member_json, "schema",
                           json_object_new_string("/v2/schemas/member"));
    http_response_set_json(resp, 200, member_json);
    return NULL;
}

/* ---- Upload and download ---------------------------------------------- */

struct images_sink {
    char *image_id;
    struct image_upload *upload;
};

static void
images_sink_close(void *sink_)
{
    struct images_sink *sink = sink_;

    image_upload_free(sink->upload);
    free(sink->image_id);
    free(sink);
}

static struct error *
images_sink_open(struct http_request *req, void *aux, void **ret_sink)
{
    CLEANUP(image_freep) struct image *image = NULL;
    const char *type = http_request_header(req, "Content-Type");
    struct images_sink *sink;
    struct db *db;
    struct error *error;

    (void) aux;
    error = images_get_param(req, &db, &image);
    if (error) {
        return error;
    }
    if (!images_may_modify(req, image)) {
        return error_new(ERROR_FORBIDDEN, "You are not permitted to upload "
                         "data to image %s.", image->id);
    }
    if (strcmp(image->status, "queued")) {
        return error_new(ERROR_CONFLICT, "Image status transition from %s "
                         "to saving is not allowed", image->status);
    }
    if (type && strncasecmp(type, "application/octet-stream", 24)) {
        return error_new(ERROR_INVALID, "Content-Type must be "
                         "application/octet-stream, not '%s'", type);
    }
    sink = xzalloc(sizeof *sink);
    sink->image_id = xstrdup(image->id);
    error = image_upload_new(images_api.config->store_dir, image->id,
                             (uint64_t) images_api.config->max_size,
                             &sink->upload);
    if (error) {
        images_sink_close(sink);
        return error;
    }
    *ret_sink = sink;
    return NULL;
}

static struct error *
images_sink_write(void *sink_, const void *data, size_t size)
{
    struct images_sink *sink = sink_;

    return image_upload_write(sink->upload, data, size);
}

static const struct http_body_sink_class images_sink_class = {
    images_sink_open, images_sink_write, images_sink_close,
};

/* PUT /image/v2/images/{image_id}/file, once the body is in. */
static struct error *
images_upload(struct http_request *req, struct http_response *resp,
              void *aux)
{
    struct images_sink *sink = http_request_body_sink(req);
    char md5[IMAGE_STORE_MD5_SIZE];
    char sha512[IMAGE_STORE_SHA512_SIZE];
    AUTOFREE char *path = NULL;
    uint64_t size;
    bool applied = false;
    struct db *db;
    struct error *error;

    (void) aux;
    if (!sink) {
        return error_new(ERROR_INTERNAL, "No upload in progress");
    }
    error = image_upload_finish(sink->upload, &path, &size, md5, sha512);
    if (!error) {
        error = images_db(&db);
    }
    if (!error) {
        error = image_db_activate(db, sink->image_id, path, (int64_t) size,
                                  md5, sha512, &applied);
    }
    if (!error && !applied) {
        error = error_new(ERROR_CONFLICT, "Image %s is no longer queued: "
                          "it was deleted or another upload completed "
                          "first", sink->image_id);
    }
    if (error) {
        image_store_remove(path);
        return error;
    }
    LOG_INFO_CTX(http_request_log_ctx(req), "image %s uploaded: %llu "
                 "bytes, md5 %s", sink->image_id, (unsigned long long) size,
                 md5);
    http_response_set_status(resp, 204);
    return NULL;
}

/* GET /image/v2/images/{image_id}/file */
static struct error *
images_download(struct http_request *req, struct http_response *resp,
                void *aux)
{
    CLEANUP(image_freep) struct image *image = NULL;
    struct db *db;
    struct stat st;
    struct error *error = images_get_param(req, &db, &image);
    int fd;

    (void) aux;
    if (error) {
        return error;
    }
    if (strcmp(image->status, "active") || !image->location) {
        /* Glance answers a download of an image without data so. */
        http_response_set_status(resp, 204);
        return NULL;
    }
    fd = open(image->location, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return error_from_errno(-errno, ERROR_INTERNAL, "Cannot open the "
                                "file of image %s", image->id);
    }
    if (fstat(fd, &st) < 0 || st.st_size != image->size) {
        close(fd);
        return error_new(ERROR_INTERNAL, "The file of image %s does not "
                         "have the recorded size", image->id);
    }
    http_response_set_file(resp, 200, "application/octet-stream", fd,
                           (uint64_t) st.st_size);
    if (image->checksum) {
        http_response_add_header(resp, "Content-MD5", image->checksum);
    }
    return NULL;
}

/* ---- Registration ----------------------------------------------------- */

void
images_api_register(struct http_router *router, struct compute_api *compute,
                    const struct image_config *config)
{
    const unsigned int f = HTTP_ROUTE_NO_MICROVERSION;
    const unsigned int pub = HTTP_ROUTE_PUBLIC | HTTP_ROUTE_NO_MICROVERSION;
    static const char *const version_paths[] = {
        IMAGES_PREFIX, IMAGES_PREFIX "/", IMAGES_PREFIX "/versions",
        IMAGES_PREFIX "/v2", IMAGES_PREFIX "/v2/",
    };

    images_api.compute = compute;
    images_api.config = config;
    for (size_t i = 0; i < ARRAY_SIZE(version_paths); i++) {
        http_router_add(router, HTTP_GET, version_paths[i], pub,
                        images_versions, NULL);
    }
    http_router_add(router, HTTP_GET, IMAGES_PREFIX "/v2/schemas/image", pub,
                    images_schema, NULL);
    http_router_add(router, HTTP_GET, IMAGES_PREFIX "/v2/schemas/images",
                    pub, images_schema, NULL);
    http_router_add(router, HTTP_GET, IMAGES_PREFIX "/v2/images", f,
                    images_list, NULL);
    http_router_add(router, HTTP_POST, IMAGES_PREFIX "/v2/images", f,
                    images_create, NULL);
    http_router_add(router, HTTP_GET, IMAGES_PREFIX "/v2/images/{image_id}",
                    f, images_show, NULL);
    http_router_add(router, HTTP_PATCH,
                    IMAGES_PREFIX "/v2/images/{image_id}", f, images_update,
                    NULL);
    http_router_add(router, HTTP_DELETE,
                    IMAGES_PREFIX "/v2/images/{image_id}", f, images_delete,
                    NULL);
    http_router_add_raw_body(router, HTTP_PUT,
                             IMAGES_PREFIX "/v2/images/{image_id}/file", f,
                             images_upload, NULL, &images_sink_class,
                             (uint64_t) config->max_size);
    http_router_add(router, HTTP_GET,
                    IMAGES_PREFIX "/v2/images/{image_id}/file", f,
                    images_download, NULL);
    http_router_add(router, HTTP_PUT,
                    IMAGES_PREFIX "/v2/images/{image_id}/tags/{tag}", f,
                    images_tag, NULL);
    http_router_add(router, HTTP_DELETE,
                    IMAGES_PREFIX "/v2/images/{image_id}/tags/{tag}", f,
                    images_tag, NULL);
    http_router_add(router, HTTP_POST,
                    IMAGES_PREFIX "/v2/images/{image_id}/members", f,
                    images_add_member, NULL);
}
