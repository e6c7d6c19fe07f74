/* servers-view.c: the JSON of a server (servers-view.h). */
#include <config.h>

#include "api-cell/servers-view.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include <openssl/evp.h>

#include "api-cell/top-view.h"
#include "shared/cleanup.h"
#include "shared/compiler.h"
#include "shared/flavor.h"
#include "shared/instance.h"
#include "shared/json-util.h"
#include "shared/timeutil.h"
#include "shared/xalloc.h"

/* Statuses whose servers show "progress" (Nova's _progress_statuses). */
static const char *const servers_view_progress_statuses[] = {
    "ACTIVE", "BUILD", "REBUILD", "RESIZE", "VERIFY_RESIZE", "MIGRATING",
};

/* SHA-224, fetched once: EVP_sha224() makes every digest look the
 * algorithm up again, which cost more than hashing the few bytes of a
 * hostId.  NULL if the fetch failed (EVP_sha224() is used then). */
static pthread_once_t servers_view_sha224_once = PTHREAD_ONCE_INIT;
static EVP_MD *servers_view_sha224;

static void
servers_view_sha224_init(void)
{
    servers_view_sha224 = EVP_MD_fetch(NULL, "SHA224", NULL);
}

void
servers_view_host_id(const char *project_id, const char *host,
                     char out[SERVERS_VIEW_HOST_ID_SIZE])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    AUTOFREE char *data = NULL;

    out[0] = '\0';
    if (!host || !*host) {
        return;
    }
    data = xasprintf("%s%s", project_id ? project_id : "", host);
    pthread_once(&servers_view_sha224_once, servers_view_sha224_init);
    if (!EVP_Digest(data, strlen(data), digest, &size,
                    servers_view_sha224 ? servers_view_sha224
                                        : EVP_sha224(), NULL)
        || size * 2 + 1 > SERVERS_VIEW_HOST_ID_SIZE) {
        return;
    }
    for (unsigned int i = 0; i < size; i++) {
        out[2 * i] = hex[digest[i] >> 4];
        out[2 * i + 1] = hex[digest[i] & 0xf];
    }
    out[2 * size] = '\0';
}

static struct json_object *
servers_view_link(const char *rel, const char *href)
{
    struct json_object *link = json_object_new_object();

    json_object_object_add(link, "href", json_object_new_string(href));
    json_object_object_add(link, "rel", json_object_new_string(rel));
    return link;
}

char *
servers_view_self_url(const char *base_url, const char *uuid)
{
    return xasprintf("%s/v2.1/servers/%s", base_url ? base_url : "", uuid);
}

struct json_object *
servers_view_links(const char *base_url, const char *uuid)
{
    struct json_object *links = json_object_new_array();
    AUTOFREE char *self = servers_view_self_url(base_url, uuid);
    AUTOFREE char *bookmark = xasprintf("%s/servers/%s",
                                        base_url ? base_url : "", uuid);

    json_object_array_add(links, servers_view_link("self", self));
    json_object_array_add(links, servers_view_link("bookmark", bookmark));
    return links;
}

/* Writes the links of server 'uuid' (self and bookmark). */
static void
servers_view_write_links(struct json_writer *w, const char *base_url,
                         const char *uuid)
{
    const char *self[] = { base_url, "/v2.1/servers/", uuid };
    const char *bookmark[] = { base_url, "/servers/", uuid };

    json_writer_begin_array(w);
    json_writer_begin_object(w);
    json_writer_key(w, "href");
    json_writer_string_concat(w, self, ARRAY_SIZE(self));
    json_writer_key(w, "rel");
    json_writer_string(w, "self");
    json_writer_end_object(w);
    json_writer_begin_object(w);
    json_writer_key(w, "href");
    json_writer_string_concat(w, bookmark, ARRAY_SIZE(bookmark));
    json_writer_key(w, "rel");
    json_writer_string(w, "bookmark");
    json_writer_end_object(w);
    json_writer_end_array(w);
}

/* {"id": ID, "links": [bookmark BASE/COLLECTION/ID]} */
static void
servers_view_write_ref(struct json_writer *w, const char *base_url,
                       const char *collection, const char *id)
{
    const char *href[] = { base_url, "/", collection, "/", id };

    json_writer_begin_object(w);
    json_writer_key(w, "id");
    json_writer_string(w, id);
    json_writer_key(w, "links");
    json_writer_begin_array(w);
    json_writer_begin_object(w);
    json_writer_key(w, "href");
    json_writer_string_concat(w, href, ARRAY_SIZE(href));
    json_writer_key(w, "rel");
    json_writer_string(w, "bookmark");
    json_writer_end_object(w);
    json_writer_end_array(w);
    json_writer_end_object(w);
}

/* Writes a time in 'style', or null for INSTANCE_TIME_NONE.  Returns
 * false, writing nothing, if 'ms' cannot be formatted. */
static bool
servers_view_write_time(struct json_writer *w, int64_t ms,
                        enum time_style style)
{
    char buf[TIME_ISO8601_SIZE];

    if (ms == INSTANCE_TIME_NONE
        || time_format_iso8601(ms, style, buf, sizeof buf)) {
        json_writer_null(w);
        return false;
    }
    json_writer_string(w, buf);
    return true;
}

/* Parses 'text', written by this module, back into a tree. */
static struct json_object *
servers_view_to_tree(const char *text, size_t length)
{
    struct json_object *obj = NULL;
    struct error *error = json_parse_text(text, length, 0, 0, &obj);

    if (error) {
        /* The writer produced invalid JSON: a bug here. */
        abort();
    }
    return obj;
}

/* Whether server 'srv' shows a fault. */
static bool
servers_view_has_fault(const struct top_view_server *srv)
{
    const struct instance *inst = srv->inst;

    return (srv->fault && json_object_is_type(srv->fault, json_type_object)
            && (inst->vm_state == INSTANCE_VM_ERROR
                || inst->vm_state == INSTANCE_VM_DELETED));
}

static void
servers_view_write_fault(struct json_writer *w,
                         const struct servers_view_ctx *ctx,
                         const struct top_view_server *srv)
{
    const struct instance *inst = srv->inst;
    struct json_object *v;
    int64_t code = 500;

    json_writer_begin_object(w);
    if (json_object_object_get_ex(srv->fault, "code", &v)
        && json_object_is_type(v, json_type_int)) {
        code = json_object_get_int64(v);
    }
    json_writer_key(w, "code");
    json_writer_int(w, code);

    /* Nova prints the fault's time with utils.isotime(): seconds and 'Z'. */
    int64_t created_ms;
    char buf[TIME_ISO8601_SIZE];
    json_writer_key(w, "created");
    if (json_object_object_get_ex(srv->fault, "created", &v)
        && json_object_is_type(v, json_type_string)
        && !time_parse_iso8601(json_object_get_string(v), &created_ms)
        && !time_format_iso8601(created_ms, TIME_STYLE_SECONDS_Z, buf,
                                sizeof buf)) {
        json_writer_string(w, buf);
    } else {
        servers_view_write_time(w, inst->updated_at != INSTANCE_TIME_NONE
                                ? inst->updated_at : inst->created_at,
                                TIME_STYLE_SECONDS_Z);
    }

    const char *message = "";
    if (json_object_object_get_ex(srv->fault, "message", &v)
        && json_object_is_type(v, json_type_string)) {
        message = json_object_get_string(v);
    }
    json_writer_key(w, "message");
    json_writer_string(w, message);

    if (json_object_object_get_ex(srv->fault, "details", &v)
        && json_object_is_type(v, json_type_string)
        && *json_object_get_string(v)
        && (ctx->is_admin || code != 500)) {
        json_writer_key(w, "details");
        json_writer_string(w, json_object_get_string(v));
    }
    json_writer_end_object(w);
}

struct json_object *
servers_view_fault(const struct servers_view_ctx *ctx,
                   const struct top_view_server *srv)
{
    struct json_writer w;
    struct json_object *fault;

    if (!servers_view_has_fault(srv)) {
        return NULL;
    }
    json_writer_init(&w);
    servers_view_write_fault(&w, ctx, srv);
    fault = servers_view_to_tree(w.buf, w.length);
    json_writer_destroy(&w);
    return fault;
}

/* The zone Nova shows: the host's (here: the instance's, else the default
 * zone) once placed, the requested one (or "") before. */
static const char *
servers_view_az(const struct servers_view_ctx *ctx,
                const struct instance *inst)
{
    if (inst->availability_zone && *inst->availability_zone) {
        return inst->availability_zone;
    }
    if (inst->host && *inst->host) {
        return ctx->default_az ? ctx->default_az : "nova";
    }
    return "";
}

/* Metadata is sorted by key without duplicates (shared/instance.h); were
 * a key set twice, json-c would keep its first position and last value,
 * and so does the writer: 'i' is shown unless its key was just shown. */
static bool
servers_view_meta_seen(const struct instance *inst, size_t i)
{
    return i > 0 && !strcmp(inst->metadata[i - 1].key,
                            inst->metadata[i].key);
}

/* The value shown for the key of metadata 'i': that of its last copy. */
static const char *
servers_view_meta_value(const struct instance *inst, size_t i)
{
    const char *key = inst->metadata[i].key;

    while (i + 1 < inst->n_metadata
           && !strcmp(inst->metadata[i + 1].key, key)) {
        i++;
    }
    return inst->metadata[i].value;
}

void
servers_view_write_detail(struct json_writer *w,
                          const struct servers_view_ctx *ctx,
                          const struct top_view_server *srv)
{
    const struct instance *inst = srv->inst;
    const char *status = instance_api_status(inst->vm_state,
                                             inst->task_state);
    char host_id[SERVERS_VIEW_HOST_ID_SIZE];

    json_writer_begin_object(w);
    json_writer_key(w, "id");
    json_writer_string(w, inst->uuid);
    json_writer_key(w, "name");
    json_writer_string(w, inst->display_name ? inst->display_name : "");
    json_writer_key(w, "status");
    json_writer_string(w, status);
    json_writer_key(w, "tenant_id");
    json_writer_string(w, inst->project_id ? inst->project_id : "");
    json_writer_key(w, "user_id");
    json_writer_string(w, inst->user_id ? inst->user_id : "");
    json_writer_key(w, "metadata");
    json_writer_begin_object(w);
    for (size_t i = 0; i < inst->n_metadata; i++) {
        if (!servers_view_meta_seen(inst, i)) {
            json_writer_key(w, inst->metadata[i].key);
            json_writer_string(w, servers_view_meta_value(inst, i));
        }
    }
    json_writer_end_object(w);
    servers_view_host_id(inst->project_id, inst->host, host_id);
    json_writer_key(w, "hostId");
    json_writer_string(w, host_id);
    json_writer_key(w, "image");
    if (inst->image_ref && *inst->image_ref) {
        servers_view_write_ref(w, ctx->base_url, "images", inst->image_ref);
    } else {
        json_writer_string(w, "");
    }
    json_writer_key(w, "flavor");
    servers_view_write_ref(w, ctx->base_url, "flavors",
                           inst->flavor && inst->flavor->flavorid
                           ? inst->flavor->flavorid : "");
    json_writer_key(w, "created");
    servers_view_write_time(w, inst->created_at, TIME_STYLE_SECONDS_Z);
    json_writer_key(w, "updated");
    servers_view_write_time(w, inst->updated_at != INSTANCE_TIME_NONE
                            ? inst->updated_at : inst->created_at,
                            TIME_STYLE_SECONDS_Z);
    json_writer_key(w, "addresses");
    json_writer_begin_object(w);
    json_writer_end_object(w);
    json_writer_key(w, "accessIPv4");
    json_writer_string(w, "");
    json_writer_key(w, "accessIPv6");
    json_writer_string(w, "");
    json_writer_key(w, "links");
    servers_view_write_links(w, ctx->base_url, inst->uuid);
    json_writer_key(w, "OS-DCF:diskConfig");
    json_writer_string(w, "MANUAL");
    json_writer_key(w, "OS-EXT-AZ:availability_zone");
    json_writer_string(w, servers_view_az(ctx, inst));
    if (ctx->extended) {
        /* The leaf names the libvirt domain "instance-<uuid>"
         * (child-cell/compute-spec.h): that is the name shown, where Nova
         * shows "instance-%08x" of its row id. */
        AUTOFREE char *instance_name = xasprintf("instance-%s", inst->uuid);

        json_writer_key(w, "OS-EXT-SRV-ATTR:host");
        json_writer_string(w, inst->host);
        json_writer_key(w, "OS-EXT-SRV-ATTR:hypervisor_hostname");
        json_writer_string(w, inst->node);
        json_writer_key(w, "OS-EXT-SRV-ATTR:instance_name");
        json_writer_string(w, instance_name);
    }
    json_writer_key(w, "OS-EXT-STS:task_state");
    json_writer_string(w, instance_task_state_to_nullable(inst->task_state));
    json_writer_key(w, "OS-EXT-STS:vm_state");
    json_writer_string(w, instance_vm_state_to_string(inst->vm_state));
    json_writer_key(w, "OS-EXT-STS:power_state");
    json_writer_int(w, (int) inst->power_state);
    json_writer_key(w, "OS-SRV-USG:launched_at");
    servers_view_write_time(w, inst->launched_at, TIME_STYLE_MICROS);
    json_writer_key(w, "OS-SRV-USG:terminated_at");
    servers_view_write_time(w, inst->terminated_at, TIME_STYLE_MICROS);
    json_writer_key(w, "key_name");
    json_writer_string(w, inst->key_name);
    json_writer_key(w, "config_drive");
    json_writer_string(w, "");
    for (size_t i = 0; i < ARRAY_SIZE(servers_view_progress_statuses);
         i++) {
        if (!strcmp(status, servers_view_progress_statuses[i])) {
            json_writer_key(w, "progress");
            json_writer_int(w, 0);
            break;
        }
    }
    json_writer_key(w, "security_groups");
    json_writer_begin_array(w);
    json_writer_begin_object(w);
    json_writer_key(w, "name");
    json_writer_string(w, "default");
    json_writer_end_object(w);
    json_writer_end_array(w);
    json_writer_key(w, "os-extended-volumes:volumes_attached");
    json_writer_begin_array(w);
    json_writer_end_array(w);
    if (servers_view_has_fault(srv)) {
        json_writer_key(w, "fault");
        servers_view_write_fault(w, ctx, srv);
    }
    json_writer_end_object(w);
}

void
servers_view_write_summary(struct json_writer *w,
                           const struct servers_view_ctx *ctx,
                           const struct top_view_server *srv)
{
    json_writer_begin_object(w);
    json_writer_key(w, "id");
    json_writer_string(w, srv->inst->uuid);
    json_writer_key(w, "links");
    servers_view_write_links(w, ctx->base_url, srv->inst->uuid);
    json_writer_key(w, "name");
    json_writer_string(w, srv->inst->display_name
                          ? srv->inst->display_name : "");
    json_writer_end_object(w);
}

struct json_object *
servers_view_detail(const struct servers_view_ctx *ctx,
                    const struct top_view_server *srv)
{
    struct json_writer w;
    struct json_object *server;

    json_writer_init(&w);
    servers_view_write_detail(&w, ctx, srv);
    server = servers_view_to_tree(w.buf, w.length);
    json_writer_destroy(&w);
    return server;
}

struct json_object *
servers_view_summary(const struct servers_view_ctx *ctx,
                     const struct top_view_server *srv)
{
    struct json_writer w;
    struct json_object *server;

    json_writer_init(&w);
    servers_view_write_summary(&w, ctx, srv);
    server = servers_view_to_tree(w.buf, w.length);
    json_writer_destroy(&w);
    return server;
}
