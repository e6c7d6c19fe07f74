/* conductor-snapshot.h: nova-conductor's snapshot_instance (Nova's
 * createImage and createBackup, child-cell/rpcapi.h).
 *
 * The state check is that of Nova's compute API snapshot() and backup():
 * vm_state active, stopped, paused or suspended, task_state none, the
 * instance launched, and unlocked unless the request comes from an
 * administrator (409-style ERROR_CONFLICT with Nova's
 * InstanceInvalidState message otherwise).  In one transaction it then
 * records the instance action ("createImage" or "createBackup") and sets
 * task_state image_snapshot (image_backup for a backup) with a
 * conditional update expecting none; the change goes up the tree, and
 * compute snapshot_instance is cast to the instance's host with the
 * image id, type, backup_type and rotation (compute-snapshot.h). */
#ifndef CHILD_CELL_CONDUCTOR_SNAPSHOT_H
#define CHILD_CELL_CONDUCTOR_SNAPSHOT_H 1

#include "shared/compiler.h"

struct error;
struct json_object;
struct rpc_request;

/* The rpc_method pair of CONDUCTOR_SNAPSHOT_INSTANCE; 'aux' is the
 * struct conductor. */
struct error *conductor_snapshot_instance(struct rpc_request *, void *aux,
                                          struct json_object **ret_result);
struct error *conductor_snapshot_validate(const struct json_object *args);

#endif /* CHILD_CELL_CONDUCTOR_SNAPSHOT_H */
