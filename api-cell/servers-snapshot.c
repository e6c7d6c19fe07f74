/* servers-snapshot.c: createImage and createBackup (servers-snapshot.h).
 *
 * The image record is written before the cast, as Nova's compute API
 * creates the image in Glance before it casts snapshot_instance: the
 * Location answered names an image that exists (queued) at once.  If the
 * cast then fails the record is deleted again and the task state put
 * back, so that nothing is left behind that no compute will fill.
 *
 * A server whose cell (or a cell above it) is mute or excluded is refused
 * with 503 before any of this, so no image is left queued for a compute
 * host that cannot be reached. */
#include <config.h>

#include "api-cell/servers-snapshot.h"

#include <string.h>
#include <json-c/json.h>

#include "api-cell/cell-status.h"
#include "api-cell/compute-api.h"
#include "api-cell/http-router.h"
#include "api-cell/image-db.h"
#include "api-cell/policy.h"
#include "api-cell/servers-actions.h"
#include "api-cell/servers-api.h"
#include "api-cell/top-view.h"
#include "shared/cleanup.h"
#include "shared/error.h"
#include "shared/flavor.h"
#include "shared/instance.h"
#include "shared/json-util.h"
#include "shared/log.h"
#include "shared/uuid-util.h"
#include "shared/xalloc.h"

LOG_MODULE("api.servers.snapshot");

/* Nova's metadata key and value limits. */
#define SERVERS_SNAPSHOT_MAX_KEY 255
#define SERVERS_SNAPSHOT_MAX_VALUE 255
/* Nova's rotation is an int; keep it within 32 bits. */
#define SERVERS_SNAPSHOT_MAX_ROTATION 2147483647LL

bool
servers_snapshot_is_action(const struct json_object *body)
{
    return (body && json_object_is_type(body, json_type_object)
            && json_object_object_length((struct json_object *) body) == 1
            && (json_object_object_get_ex(body, "createImage", NULL)
                || json_object_object_get_ex(body, "createBackup", NULL)));
}

static struct error *
servers_snapshot_check_metadata(const char *path, struct json_object *md)
{
    if (!json_object_is_type(md, json_type_object)) {
        return error_new(ERROR_INVALID, "Invalid input for field/attribute "
                         "metadata. Value: %s. %s is not of type 'object'",
                         json_object_to_json_string(md),
                         json_object_to_json_string(md));
    }
    json_object_object_foreach(md, key, value) {
        const char *s;
        struct error *error;

        if (!*key || strlen(key) > SERVERS_SNAPSHOT_MAX_KEY) {
            return error_new(ERROR_INVALID, "Invalid input for field/"
                             "attribute metadata. Value: %s. Invalid "
                             "metadata key", key);
        }
        error = json_get_string(md, path, key, true,
                                SERVERS_SNAPSHOT_MAX_VALUE, &s);
        if (error) {
            return error;
        }
    }
    return NULL;
}

struct error *
servers_snapshot_validate(const struct json_object *body,
                          struct servers_snapshot_req *ret)
{
    static const char *const image_keys[] = { "name", "metadata", NULL };
    static const char *const backup_keys[] = {
        "name", "backup_type", "rotation", "metadata", NULL,
    };
    struct json_object *value = NULL;
    const char *path;
    struct error *error;

    memset(ret, 0, sizeof *ret);
    if (json_object_object_get_ex(body, "createBackup", &value)) {
        ret->backup = true;
    } else if (!json_object_object_get_ex(body, "createImage", &value)) {
        return error_new(ERROR_INVALID, "Malformed request body");
    }
    path = ret->backup ? "createBackup" : "createImage";
    if (!value || !json_object_is_type(value, json_type_object)) {
        return error_new(ERROR_INVALID, "Invalid input for field/attribute "
                         "%s. Value: %s. %s is not of type 'object'", path,
                         json_object_to_json_string(value),
                         json_object_to_json_string(value));
    }
    error = json_check_allowed_keys(value, path,
                                    ret->backup ? backup_keys : image_keys);
    if (!error) {
        error = json_get_string(value, path, "name", true,
                                IMAGE_DB_MAX_NAME_LENGTH, &ret->name);
    }
    if (!error && (!*ret->name || ret->name[0] == ' '
                   || ret->name[strlen(ret->name) - 1] == ' ')) {
        error = error_new(ERROR_INVALID, "Invalid input for field/attribute "
                          "name. Value: '%s'. '%s' does not match "
                          "'^(?! )[a-zA-Z0-9. _-]+(?<! )$'", ret->name,
                          ret->name);
    }
    if (!error && ret->backup) {
        error = json_get_string(value, path, "backup_type", true, 255,
                                &ret->backup_type);
        if (!error) {
            error = json_get_int_or_string(value, path, "rotation", true, 0,
                                           SERVERS_SNAPSHOT_MAX_ROTATION,
                                           &ret->rotation);
        }
    }
    if (!error && json_object_object_get_ex(value, "metadata",
                                            &ret->metadata)) {
        error = servers_snapshot_check_metadata("metadata", ret->metadata);
    }
    return error;
}

/* The queued image record of the snapshot of 'srv'. */
static struct image *
servers_snapshot_image(const struct servers_snapshot_req *r,
                       const struct top_view_server *srv)
{
    struct image *image = image_new();
    char id[UUID_STRING_SIZE];

    uuid_generate_string(id);
    image->id = xstrdup(id);
    image->name = xstrdup(r->name);
    image->owner = xstrdup(srv->inst->project_id);
    image->status = xstrdup("queued");
    image->visibility = xstrdup("private");
    image->disk_format = xstrdup("qcow2");
    image->container_format = xstrdup("bare");
    image->min_disk = srv->inst->flavor ? srv->inst->flavor->root_gb : 0;
    image->min_ram = srv->inst->flavor ? srv->inst->flavor->memory_mb : 0;
    if (r->metadata) {
        json_object_object_foreach(r->metadata, key, value) {
            image_set_property(image, key, json_object_get_string(value));
        }
    }
    image_set_property(image, "image_type", r->backup ? "backup"
                                                      : "snapshot");
    image_set_property(image, "instance_uuid", srv->inst->uuid);
    image_set_property(image, "base_image_ref", srv->inst->image_ref
                                                ? srv->inst->image_ref : "");
    if (r->backup) {
        image_set_property(image, "backup_type", r->backup_type);
    }
    return image;
}

struct error *
servers_snapshot_action(struct compute_api *compute,
                        struct http_request *req, struct http_response *resp)
{
    const struct http_auth *auth = http_request_auth(req);
    CLEANUP(top_view_server_freep) struct top_view_server *srv = NULL;
    CLEANUP(image_freep) struct image *image = NULL;
    struct servers_snapshot_req r;
    struct json_object *args;
    const char *name;
    struct db *db;
    struct error *error;

    error = servers_snapshot_validate(http_request_body(req), &r);
    if (!error) {
        error = servers_api_get_server(compute, req,
                                       http_request_param(req, "server_id"),
                                       &db, &srv);
    }
    if (error) {
        return error;
    }
    name = r.backup ? "createBackup" : "createImage";
    error = policy_check(auth, r.backup ? "os_compute_api:os-create-backup"
                                        : "os_compute_api:servers:"
                                          "create_image",
                         srv->inst->project_id);
    if (!error) {
        error = cell_status_check_reachable(db, srv->cell_path);
    }
    if (error) {
        return error;
    }
    if (srv->locked && !auth->is_admin) {
        return error_new(ERROR_CONFLICT, "Instance %s is locked",
                         srv->inst->uuid);
    }
    error = servers_actions_check_state(name, false, srv);
    if (error) {
        return error;
    }
    if (!compute->cells) {
        return servers_api_no_cells();
    }
    if (!srv->cell_path) {
        return error_new(ERROR_CONFLICT, "Instance %s is not ready",
                         srv->inst->uuid);
    }
    image = servers_snapshot_image(&r, srv);
    error = image_db_create(db, image);
    if (!error) {
        error = top_view_set_task_state(db, srv->inst->uuid,
                                        r.backup ? "image_backup"
                                                 : "image_snapshot");
    }
    if (error) {
        return error;
    }
    args = json_object_new_object();
    json_object_object_add(args, "image_id",
                           json_object_new_string(image->id));
    json_object_object_add(args, "image_type", json_object_new_string(
                               r.backup ? "backup" : "snapshot"));
    if (r.backup) {
        json_object_object_add(args, "backup_type",
                               json_object_new_string(r.backup_type));
        json_object_object_add(args, "rotation",
                               json_object_new_int64(r.rotation));
    }
    error = servers_api_cast_action(compute, req, srv, "snapshot", args);
    if (error) {
        error_free(image_db_delete(db, image->id));
        error_free(top_view_set_task_state(db, srv->inst->uuid, NULL));
        return error;
    }
    LOG_INFO_CTX(http_request_log_ctx(req), "%s of %s into image %s sent "
                 "to cell %s", name, srv->inst->uuid, image->id,
                 srv->cell_path);
    if (!r.backup || r.rotation > 0) {
        const char *base = http_request_base_url(req);
        AUTOFREE char *location = xasprintf("%s/image/v2/images/%s",
                                            base ? base : "", image->id);

        http_response_add_header(resp, "Location", location);
    }
    http_response_set_status(resp, 202);
    return NULL;
}
