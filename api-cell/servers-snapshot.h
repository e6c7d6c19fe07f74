/* servers-snapshot.h: the createImage and createBackup server actions.
 *
 *     {"createImage": {"name": str, "metadata": {str: str}}}
 *         202, Location: <base>/image/v2/images/<image id>, no body
 *     {"createBackup": {"name": str, "backup_type": str,
 *                       "rotation": int >= 0, "metadata": {}}}
 *         202, Location as above (none when rotation is 0), no body
 *
 * As Nova's API v2.1 does: policy os_compute_api:servers:create_image or
 * os_compute_api:os-create-backup on the server's project, then the lock,
 * then the state (vm_state active, stopped, paused or suspended, no task,
 * launched: 409 otherwise), then an image record "queued" in the image
 * database (image-db.h), private to the server's project, with the
 * properties image_type ("snapshot" or "backup"), instance_uuid,
 * base_image_ref, backup_type (backups) and the user's metadata.  The
 * top view gets task_state image_snapshot (image_backup for a backup)
 * and instance_action "snapshot" goes down to the server's leaf cell
 * with {"image_id", "image_type", "backup_type", "rotation"}; the leaf's
 * conductor and the compute host do the rest (child-cell/
 * compute-snapshot.h), including the backup rotation. */
#ifndef NOVA_SERVERS_SNAPSHOT_H
#define NOVA_SERVERS_SNAPSHOT_H 1

#include <stdbool.h>
#include "shared/compiler.h"

struct compute_api;
struct error;
struct http_request;
struct http_response;
struct json_object;

/* True if 'body' asks for createImage or createBackup. */
bool servers_snapshot_is_action(const struct json_object *body);

/* Serves the action of 'req' (servers_snapshot_is_action() true). */
struct error *servers_snapshot_action(struct compute_api *,
                                      struct http_request *req,
                                      struct http_response *resp)
    WARN_UNUSED;

/* The parsed body of either action, borrowing from the body. */
struct servers_snapshot_req {
    bool backup;
    const char *name;
    const char *backup_type;        /* backups only */
    long long rotation;             /* backups only */
    struct json_object *metadata;   /* NULL or an object of strings */
};

/* Validates 'body' as Nova's schemas do.  Returns NULL, or an
 * ERROR_INVALID error naming the field. */
struct error *servers_snapshot_validate(const struct json_object *body,
                                        struct servers_snapshot_req *ret)
    WARN_UNUSED;

#endif /* NOVA_SERVERS_SNAPSHOT_H */
