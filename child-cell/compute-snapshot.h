/* compute-snapshot.h: nova-compute's snapshot_instance (Nova's
 * createImage and createBackup; child-cell/rpcapi.h).
 *
 * The image record already exists, queued, in the image service: nova-api
 * created it before the cast (api-cell/servers-snapshot.h).  Here, on a
 * worker thread:
 *
 *   copy     a qemu or kvm host converts the instance's disk (the qcow2
 *            overlay "<instances>/<uuid>/disk" with its backing chain)
 *            into one standalone qcow2 file, "qemu-img convert -U -O
 *            qcow2" (-U: the running guest holds the image lock; the copy
 *            is crash-consistent, as a snapshot of a running disk without
 *            guest cooperation is).  A simulated host (libvirt's test
 *            driver) has no disk: it writes a small placeholder file
 *            "snapshot of instance <uuid> on host <host>\n", so that the
 *            whole flow runs at scale.
 *   upload   PUT <image.api_url>/v2/images/<image_id>/file with the
 *            service user's token (compute_image_cache_token(); asked for
 *            again once on a 401); the image service checksums it and
 *            makes the image active.
 *   rotate   for a backup, after a successful upload: the images of the
 *            instance's project are listed (GET /v2/images?owner=...,
 *            newest first), those with image_type "backup", the same
 *            instance_uuid and backup_type are kept up to 'rotation' of
 *            them (the new one always counting first, whatever the
 *            created_at ties) and the others deleted (DELETE
 *            /v2/images/<id>).  Rotation is done here, where the upload
 *            is known to have succeeded, as Nova's compute manager does
 *            (_rotate_backups()); a failed deletion is logged and
 *            retried by the next backup.
 *   failure  the image is deleted (DELETE; Nova kills it), and the
 *            action event says Error with the message.
 *
 * Then, on the manager's thread: instance_update task_state null
 * (expected image_snapshot, image_backup or the upload states) and
 * action_event compute_snapshot_instance / compute_backup_instance.
 *
 * A snapshot does not take the instance's lane of operations in the
 * compute manager: the conductor only sends it for an instance with no
 * task, and the task state it set refuses every other action but a
 * delete until the update above clears it. */
#ifndef NOVA_COMPUTE_SNAPSHOT_H
#define NOVA_COMPUTE_SNAPSHOT_H 1

#include <stdbool.h>
#include "shared/compiler.h"

struct compute_conductor;
struct compute_image_cache;
struct compute_workers;
struct error;
struct rpc_msg;

/* Where a snapshot runs; every pointer is borrowed and must outlive the
 * jobs (the workers and the conductor client complete or cancel them
 * when freed). */
struct compute_snapshot_env {
    struct compute_workers *workers;
    struct compute_conductor *conductor;
    struct compute_image_cache *image_cache;
    const char *instances_dir;
    const char *host;
    bool simulated;             /* libvirt's test driver: no disk */
};

/* The event names of the instance action. */
#define COMPUTE_SNAPSHOT_EVENT "compute_snapshot_instance"
#define COMPUTE_SNAPSHOT_BACKUP_EVENT "compute_backup_instance"

/* The placeholder a simulated host uploads for instance 'uuid' of
 * 'host' (freed by the caller). */
char *compute_snapshot_placeholder(const char *uuid, const char *host);

/* Starts the snapshot that 'msg' (snapshot_instance) asks for.  Returns
 * NULL once it is queued, or ERROR_INVALID for arguments it cannot use.
 * Runs on the manager's thread. */
struct error *compute_snapshot_start(const struct compute_snapshot_env *,
                                     const struct rpc_msg *msg) WARN_UNUSED;

#endif /* NOVA_COMPUTE_SNAPSHOT_H */
