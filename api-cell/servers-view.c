/* servers-view.c: the JSON of a server (servers-view.h). */
#include <config.h>

#include "api-cell/servers-view.h"

#include <stdio.h>
#include <string.h>
#include <json-c/json.h>
#include <openssl/evp.h>

#include "api-cell/top-view.h"
#include "shared/cleanup.h"
#include "shared/compiler.h"
#include "shared/flavor.h"
#include "shared/instance.h"
#include "shared/timeutil.h"
#include "shared/xalloc.h"

/* Statuses whose servers show "progress" (Nova's _progress_statuses). */
static const char *const servers_view_progress_statuses[] = {
    "ACTIVE", "BUILD", "REBUILD", "RESIZE", "VERIFY_RESIZE", "MIGRATING",
};

void
servers_view_host_id(const char *project_id, const char *host,
                     char out[SERVERS_VIEW_HOST_ID_SIZE])
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    AUTOFREE char *data = NULL;

    out[0] = '\0';
    if (!host || !*host) {
        return;
    }
    data = xasprintf("%s%s", project_id ? project_id : "", host);
    if (!EVP_Digest(data, strlen(data), digest, &size, EVP_sha224(), NULL)
        || size * 2 + 1 > SERVERS_VIEW_HOST_ID_SIZE) {
        return;
    }
    for (unsigned int i = 0; i < size; i++) {
        (void) snprintf(out + 2 * i, 3, "%02x", digest[i]);
    }
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

/* {"id": ID, "links": [bookmark BASE/COLLECTION/ID]} */
static struct json_object *
servers_view_ref(const char *base_url, const char *collection,
                 const char *id)
{
    struct json_object *ref = json_object_new_object();
    struct json_object *links = json_object_new_array();
    AUTOFREE char *href = xasprintf("%s/%s/%s", base_url ? base_url : "",
                                    collection, id);

    json_object_object_add(ref, "id", json_object_new_string(id));
    json_object_array_add(links, servers_view_link("bookmark", href));
    json_object_object_add(ref, "links", links);
    return ref;
}

/* A time in 'style', or JSON null for INSTANCE_TIME_NONE. */
static struct json_object *
servers_view_time(int64_t ms, enum time_style style)
{
    char buf[TIME_ISO8601_SIZE];

    if (ms == INSTANCE_TIME_NONE
        || time_format_iso8601(ms, style, buf, sizeof buf)) {
        return NULL;
    }
    return json_object_new_string(buf);
}

static struct json_object *
servers_view_string_or_null(const char *s)
{
    return s ? json_object_new_string(s) : NULL;
}

struct json_object *
servers_view_fault(const struct servers_view_ctx *ctx,
                   const struct top_view_server *srv)
{
    const struct instance *inst = srv->inst;
    struct json_object *fault, *v;
    int64_t code = 500;

    if (!srv->fault || !json_object_is_type(srv->fault, json_type_object)
        || (inst->vm_state != INSTANCE_VM_ERROR
            && inst->vm_state != INSTANCE_VM_DELETED)) {
        return NULL;
    }
    fault = json_object_new_object();
    if (json_object_object_get_ex(srv->fault, "code", &v)
        && json_object_is_type(v, json_type_int)) {
        code = json_object_get_int64(v);
    }
    json_object_object_add(fault, "code", json_object_new_int64(code));

    /* Nova prints the fault's time with utils.isotime(): seconds and 'Z'. */
    int64_t created_ms;
    struct json_object *created = NULL;
    if (json_object_object_get_ex(srv->fault, "created", &v)
        && json_object_is_type(v, json_type_string)
        && !time_parse_iso8601(json_object_get_string(v), &created_ms)) {
        created = servers_view_time(created_ms, TIME_STYLE_SECONDS_Z);
    }
    if (!created) {
        created = servers_view_time(inst->updated_at != INSTANCE_TIME_NONE
                                    ? inst->updated_at : inst->created_at,
                                    TIME_STYLE_SECONDS_Z);
    }
    json_object_object_add(fault, "created", created);

    const char *message = "";
    if (json_object_object_get_ex(srv->fault, "message", &v)
        && json_object_is_type(v, json_type_string)) {
        message = json_object_get_string(v);
    }
    json_object_object_add(fault, "message",
                           json_object_new_string(message));

    if (json_object_object_get_ex(srv->fault, "details", &v)
        && json_object_is_type(v, json_type_string)
        && *json_object_get_string(v)
        && (ctx->is_admin || code != 500)) {
        json_object_object_add(fault, "details", json_object_new_string(
                                   json_object_get_string(v)));
    }
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

struct json_object *
servers_view_detail(const struct servers_view_ctx *ctx,
                    const struct top_view_server *srv)
{
    const struct instance *inst = srv->inst;
    struct json_object *server = json_object_new_object();
    struct json_object *metadata = json_object_new_object();
    struct json_object *groups = json_object_new_array();
    struct json_object *group = json_object_new_object();
    struct json_object *fault;
    const char *status = instance_api_status(inst->vm_state,
                                             inst->task_state);
    char host_id[SERVERS_VIEW_HOST_ID_SIZE];

    json_object_object_add(server, "id", json_object_new_string(inst->uuid));
    json_object_object_add(server, "name", json_object_new_string(
                               inst->display_name ? inst->display_name
                                                  : ""));
    json_object_object_add(server, "status", json_object_new_string(status));
    json_object_object_add(server, "tenant_id", json_object_new_string(
                               inst->project_id ? inst->project_id : ""));
    json_object_object_add(server, "user_id", json_object_new_string(
                               inst->user_id ? inst->user_id : ""));
    for (size_t i = 0; i < inst->n_metadata; i++) {
        json_object_object_add(metadata, inst->metadata[i].key,
                               json_object_new_string(
                                   inst->metadata[i].value));
    }
    json_object_object_add(server, "metadata", metadata);
    servers_view_host_id(inst->project_id, inst->host, host_id);
    json_object_object_add(server, "hostId", json_object_new_string(host_id));
    if (inst->image_ref && *inst->image_ref) {
        json_object_object_add(server, "image", servers_view_ref(
                                   ctx->base_url, "images",
                                   inst->image_ref));
    } else {
        json_object_object_add(server, "image", json_object_new_string(""));
    }
    json_object_object_add(server, "flavor", servers_view_ref(
                               ctx->base_url, "flavors",
                               inst->flavor && inst->flavor->flavorid
                               ? inst->flavor->flavorid : ""));
    json_object_object_add(server, "created", servers_view_time(
                               inst->created_at, TIME_STYLE_SECONDS_Z));
    json_object_object_add(server, "updated", servers_view_time(
                               inst->updated_at != INSTANCE_TIME_NONE
                               ? inst->updated_at : inst->created_at,
                               TIME_STYLE_SECONDS_Z));
    json_object_object_add(server, "addresses", json_object_new_object());
    json_object_object_add(server, "accessIPv4", json_object_new_string(""));
    json_object_object_add(server, "accessIPv6", json_object_new_string(""));
    json_object_object_add(server, "links",
                           servers_view_links(ctx->base_url, inst->uuid));
    json_object_object_add(server, "OS-DCF:diskConfig",
                           json_object_new_string("MANUAL"));
    json_object_object_add(server, "OS-EXT-AZ:availability_zone",
                           json_object_new_string(servers_view_az(ctx,
                                                                  inst)));
    if (ctx->extended) {
        /* The leaf names the libvirt domain "instance-<uuid>"
         * (child-cell/compute-spec.h): that is the name shown, where Nova
         * shows "instance-%08x" of its row id. */
        AUTOFREE char *instance_name = xasprintf("instance-%s", inst->uuid);

        json_object_object_add(server, "OS-EXT-SRV-ATTR:host",
                               servers_view_string_or_null(inst->host));
        json_object_object_add(server, "OS-EXT-SRV-ATTR:hypervisor_hostname",
                               servers_view_string_or_null(inst->node));
        json_object_object_add(server, "OS-EXT-SRV-ATTR:instance_name",
                               json_object_new_string(instance_name));
    }
    json_object_object_add(server, "OS-EXT-STS:task_state",
                           servers_view_string_or_null(
                               instance_task_state_to_nullable(
                                   inst->task_state)));
    json_object_object_add(server, "OS-EXT-STS:vm_state",
                           json_object_new_string(
                               instance_vm_state_to_string(inst->vm_state)));
    json_object_object_add(server, "OS-EXT-STS:power_state",
                           json_object_new_int((int) inst->power_state));
    json_object_object_add(server, "OS-SRV-USG:launched_at",
                           servers_view_time(inst->launched_at,
                                             TIME_STYLE_MICROS));
    json_object_object_add(server, "OS-SRV-USG:terminated_at",
                           servers_view_time(inst->terminated_at,
                                             TIME_STYLE_MICROS));
    json_object_object_add(server, "key_name",
                           servers_view_string_or_null(inst->key_name));
    json_object_object_add(server, "config_drive",
                           json_object_new_string(""));
    for (size_t i = 0; i < ARRAY_SIZE(servers_view_progress_statuses);
         i++) {
        if (!strcmp(status, servers_view_progress_statuses[i])) {
            json_object_object_add(server, "progress",
                                   json_object_new_int(0));
            break;
        }
    }
    json_object_object_add(group, "name", json_object_new_string("default"));
    json_object_array_add(groups, group);
    json_object_object_add(server, "security_groups", groups);
    json_object_object_add(server, "os-extended-volumes:volumes_attached",
                           json_object_new_array());
    fault = servers_view_fault(ctx, srv);
    if (fault) {
        json_object_object_add(server, "fault", fault);
    }
    return server;
}

struct json_object *
servers_view_summary(const struct servers_view_ctx *ctx,
                     const struct top_view_server *srv)
{
    struct json_object *server = json_object_new_object();

    json_object_object_add(server, "id",
                           json_object_new_string(srv->inst->uuid));
    json_object_object_add(server, "links",
                           servers_view_links(ctx->base_url,
                                              srv->inst->uuid));
    json_object_object_add(server, "name", json_object_new_string(
                               srv->inst->display_name
                               ? srv->inst->display_name : ""));
    return server;
}
