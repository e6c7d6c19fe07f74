/* api-versions-doc.c: the compute API's version documents (see
 * api-versions-doc.h).
 *
 * The documents are Nova's (nova/api/openstack/compute/versions.py and
 * views/versions.py; doc/api_samples/versions/): the same keys in the same
 * order, the same fixed dates and links.  Nova answers GET / with 200 (the
 * "index" action; 300 Multiple Choices is its answer for other paths that
 * reach the versions application, which this server treats as unknown).
 * Nova redirects "/v2.1" to "/v2.1/"; this server answers both directly.
 * "/v2/" shows the v2.0 document, but the legacy v2 API itself is not
 * served (XXX: Nova serves the v2.1 code there in a v2-compatible mode). */
#include <config.h>
#include "api-cell/api-versions-doc.h"

#include <stddef.h>
#include <string.h>
#include <json-c/json.h>

#include "api-cell/api-version.h"
#include "api-cell/http-server.h"
#include "shared/cleanup.h"
#include "shared/compiler.h"
#include "shared/error.h"
#include "shared/xalloc.h"

#define API_VERSIONS_DOC_DESCRIBEDBY "http://docs.openstack.org/"

struct api_versions_doc_entry {
    const char *id;
    const char *status;
    const char *version;
    const char *min_version;
    const char *updated;
    const char *path;           /* link path below the base URL */
    const char *media_type;
};

static const struct api_versions_doc_entry api_versions_doc_entries[] = {
    { "v2.0", "SUPPORTED", "", "", "2011-01-21T11:33:21Z", "v2/",
      "application/vnd.openstack.compute+json;version=2" },
    { "v2.1", "CURRENT", API_MAX_MICROVERSION, API_MIN_MICROVERSION,
      "2013-07-23T11:33:21Z", "v2.1/",
      "application/vnd.openstack.compute+json;version=2.1" },
};

static void
api_versions_doc_add_string(struct json_object *obj, const char *key,
                            const char *value)
{
    json_object_object_add(obj, key, json_object_new_string(value));
}

static struct json_object *
api_versions_doc_link(const char *href, const char *rel, const char *type)
{
    struct json_object *link = json_object_new_object();

    api_versions_doc_add_string(link, "href", href);
    api_versions_doc_add_string(link, "rel", rel);
    if (type) {
        api_versions_doc_add_string(link, "type", type);
    }
    return link;
}

static void
api_versions_doc_add_tail(struct json_object *obj,
                          const struct api_versions_doc_entry *entry)
{
    api_versions_doc_add_string(obj, "status", entry->status);
    api_versions_doc_add_string(obj, "version", entry->version);
    api_versions_doc_add_string(obj, "min_version", entry->min_version);
    api_versions_doc_add_string(obj, "updated", entry->updated);
}

struct json_object *
api_versions_doc_list(const char *base_url)
{
    struct json_object *versions = json_object_new_array();
    struct json_object *doc = json_object_new_object();

    for (size_t i = 0; i < ARRAY_SIZE(api_versions_doc_entries); i++) {
        const struct api_versions_doc_entry *entry =
            &api_versions_doc_entries[i];
        struct json_object *v = json_object_new_object();
        struct json_object *links = json_object_new_array();
        AUTOFREE char *href = xasprintf("%s/%s", base_url, entry->path);

        api_versions_doc_add_string(v, "id", entry->id);
        json_object_array_add(links,
                              api_versions_doc_link(href, "self", NULL));
        json_object_object_add(v, "links", links);
        api_versions_doc_add_tail(v, entry);
        json_object_array_add(versions, v);
    }
    json_object_object_add(doc, "versions", versions);
    return doc;
}

struct json_object *
api_versions_doc_show(const char *base_url, const char *id)
{
    const struct api_versions_doc_entry *entry = NULL;
    struct json_object *v, *links, *media, *media_types, *doc;
    AUTOFREE char *href = NULL;

    for (size_t i = 0; i < ARRAY_SIZE(api_versions_doc_entries); i++) {
        if (!strcmp(api_versions_doc_entries[i].id, id)) {
            entry = &api_versions_doc_entries[i];
        }
    }
    if (!entry) {
        return NULL;
    }

    href = xasprintf("%s/%s", base_url, entry->path);
    v = json_object_new_object();
    api_versions_doc_add_string(v, "id", entry->id);
    links = json_object_new_array();
    json_object_array_add(links, api_versions_doc_link(href, "self", NULL));
    json_object_array_add(links,
                          api_versions_doc_link(API_VERSIONS_DOC_DESCRIBEDBY,
                                                "describedby", "text/html"));
    json_object_object_add(v, "links", links);
    media = json_object_new_object();
    api_versions_doc_add_string(media, "base", "application/json");
    api_versions_doc_add_string(media, "type", entry->media_type);
    media_types = json_object_new_array();
    json_object_array_add(media_types, media);
    json_object_object_add(v, "media-types", media_types);
    api_versions_doc_add_tail(v, entry);

    doc = json_object_new_object();
    json_object_object_add(doc, "version", v);
    return doc;
}

static struct error *
api_versions_doc_handle_list(struct http_request *req,
                             struct http_response *resp, void *aux)
{
    http_response_set_json(resp, 200,
                           api_versions_doc_list(http_request_base_url(req)));
    return NULL;
}

static struct error *
api_versions_doc_handle_show(struct http_request *req,
                             struct http_response *resp, void *aux)
{
    const char *id = aux;
    struct json_object *doc = api_versions_doc_show(
        http_request_base_url(req), id);

    if (!doc) {
        return error_new(ERROR_NOT_FOUND, "The resource could not be "
                         "found.");
    }
    http_response_set_json(resp, 200, doc);
    return NULL;
}

void
api_versions_doc_register(struct http_router *router)
{
    /* 'aux' is the version id, a string literal. */
    static const struct {
        const char *template;
        const char *id;
    } shows[] = {
        { "/v2.1", "v2.1" },
        { "/v2.1/", "v2.1" },
        { "/v2", "v2.0" },
        { "/v2/", "v2.0" },
    };

    http_router_add(router, HTTP_GET, "/", HTTP_ROUTE_PUBLIC,
                    api_versions_doc_handle_list, NULL);
    for (size_t i = 0; i < ARRAY_SIZE(shows); i++) {
        http_router_add(router, HTTP_GET, shows[i].template,
                        HTTP_ROUTE_PUBLIC, api_versions_doc_handle_show,
                        (void *) shows[i].id);
    }
}
