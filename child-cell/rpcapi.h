/* rpcapi.h: the RPC interfaces inside a leaf cell.
 *
 * Three topics live on a leaf cell's own vhost.  This file is their
 * contract: the method names, who sends them, the arguments (JSON objects)
 * and the results.  Every message also carries the envelope's context
 * (request id, user, project, roles) and deadline (cells-rpc/rpc-msg.h).
 *
 *   scheduler             calls from nova-conductor
 *   conductor             casts and calls from nova-cells, nova-compute and
 *                         tools; the only way nova-compute touches the DB
 *   compute.<host>        casts and calls from nova-conductor to the
 *                         nova-compute serving <host>
 *
 * Shapes used below:
 *
 *   INSTANCE   the instance object of shared/instance.h as JSON:
 *              {"uuid", "display_name", "project_id", "user_id",
 *               "host", "node", "flavor": FLAVOR, "image_ref",
 *               "image": IMAGE, "key_name", "key_data", "metadata": {},
 *               "availability_zone", "vm_state", "task_state",
 *               "power_state", "launched_at", "terminated_at",
 *               "created_at", "updated_at", "locked", "update_seq"}
 *              (times: ISO 8601 with microseconds, or null)
 *   FLAVOR     {"flavorid", "name", "vcpus", "memory_mb", "root_gb",
 *               "ephemeral_gb", "swap", "extra_specs": {}}
 *   IMAGE      {"id", "properties": {"architecture", "hypervisor_type",
 *               ...}, "cmdline", the image store's paths "kernel",
 *               "initrd", "disk" with "disk_format", and optionally where
 *               to download them: "url", "kernel_url", "initrd_url"
 *               (relative to the image endpoint) with their md5
 *               ("checksum", "kernel_checksum", "initrd_checksum") and
 *               sha512 ("os_hash_value", "kernel_os_hash_value",
 *               "initrd_os_hash_value")} (shared/instance.h).  A compute
 *               with image.api_url downloads, verifies and caches them
 *               (compute-image-cache.h); one without reads the paths.
 *   SPEC       request spec: {"flavor": FLAVOR, "image": IMAGE,
 *               "availability_zone": str|null, "num_instances": int,
 *               "scheduler_hints": {}, "ignore_hosts": [str],
 *               "group": {"policy": "affinity"|"anti-affinity",
 *                         "hosts": [str]} | null}
 *   DEST       {"host": str, "node": str}
 *   ERROR      error_to_json() of shared/error.h
 *
 * Claims.  The conductor is the only writer of a compute node's used
 * vcpus/memory/disk: it claims a host's resources with a conditional
 * UPDATE when it places an instance there and releases them when the
 * build fails or the instance is deleted, so two conductors or schedulers
 * never oversubscribe a host (DESIGN.md section 7).  nova-compute reports
 * totals and hypervisor facts; the conductor recomputes "used" from the
 * instances on the host when it receives a report, which heals any drift.
 *
 * Instance updates.  Every change of an instance row increments its
 * update_seq; the sequence travels up the tree with the update so that an
 * older update never overwrites a newer one (DESIGN.md section 3). */
#ifndef NOVA_CHILD_CELL_RPCAPI_H
#define NOVA_CHILD_CELL_RPCAPI_H 1

/* ---- scheduler (nova-scheduler), version 1.0 -------------------------- */

#define SCHEDULER_TOPIC "scheduler"
#define SCHEDULER_RPC_VERSION "1.0"

/* call select_destinations {"spec": SPEC, "instance_uuids": [str],
 *                           "num_alternates": int}
 *   -> {"selections": [[DEST, DEST...], ...]}  one list per instance, in
 *      order: the chosen host first, then up to num_alternates alternates.
 *   The scheduler keeps in-memory claims for what it returned until the
 *   next refresh from the cell DB shows them.
 *   Error NoValidHost: "No valid host was found. <why>". */
#define SCHEDULER_SELECT_DESTINATIONS "select_destinations"

/* ---- conductor (nova-conductor), version 1.0 -------------------------- */

#define CONDUCTOR_TOPIC "conductor"
#define CONDUCTOR_RPC_VERSION "1.0"

/* From nova-cells (and test tools), casts:
 *
 * build_instances {"spec": SPEC, "instances": [INSTANCE], "max_attempts":
 *                  int (default 3)}
 *   Records each instance (vm_state building, task_state scheduling),
 *   asks the scheduler for destinations, claims each chosen host in the
 *   DB (falling back to an alternate if the claim loses a race), records
 *   host/node, and casts build_and_run_instance to compute.<host> with
 *   the remaining alternates.  When no host can be found the instance goes
 *   to vm_state error with a fault "No valid host was found. ...".
 *   Idempotent per instance uuid (a redelivered cast changes nothing).
 *   When the instances cannot be recorded because the database is
 *   unreachable, the message is given back to the broker (not
 *   acknowledged) and tried again a second later. */
#define CONDUCTOR_BUILD_INSTANCES "build_instances"

/* delete_instance, reboot_instance {"reboot_type": "SOFT"|"HARD"},
 * stop_instance, start_instance, pause_instance, unpause_instance,
 * suspend_instance, resume_instance: casts with {"instance_uuid": str}
 *   Checks the state transition as Nova's API does, sets the task state
 *   with a conditional update, records an instance action and casts the
 *   matching compute method.  An instance that never got a host is
 *   deleted directly. */
#define CONDUCTOR_DELETE_INSTANCE "delete_instance"
#define CONDUCTOR_REBOOT_INSTANCE "reboot_instance"
#define CONDUCTOR_STOP_INSTANCE "stop_instance"
#define CONDUCTOR_START_INSTANCE "start_instance"
#define CONDUCTOR_PAUSE_INSTANCE "pause_instance"
#define CONDUCTOR_UNPAUSE_INSTANCE "unpause_instance"
#define CONDUCTOR_SUSPEND_INSTANCE "suspend_instance"
#define CONDUCTOR_RESUME_INSTANCE "resume_instance"

/* snapshot_instance {"instance_uuid": str, "image_id": str,
 *                    "image_type": "snapshot"|"backup",
 *                    "backup_type": str (backup),
 *                    "rotation": int >= 0 (backup)}
 *   Nova's createImage / createBackup (conductor-snapshot.h): checks the
 *   state (vm_state active, stopped, paused or suspended, no task,
 *   launched), sets task_state image_snapshot (image_backup for a
 *   backup), records instance action "createImage" / "createBackup" and
 *   casts compute snapshot_instance to the instance's host. */
#define CONDUCTOR_SNAPSHOT_INSTANCE "snapshot_instance"

/* update_instance {"instance_uuid": str, "display_name": str (optional),
 *                  "metadata": {str: str} (optional, the whole new
 *                  dictionary)}
 *   A rename or a metadata change accepted by nova-api (which checked
 *   policy, lock and state): applied to the row in one transaction that
 *   increments update_seq, then cast up (instance_update_at_top), so that
 *   the top view and the row agree.  NotFound for a deleted instance. */
#define CONDUCTOR_UPDATE_INSTANCE "update_instance"

/* call instance_get {"instance_uuid": str} -> INSTANCE (NotFound error)
 * call instance_list {"host": str (optional), "limit": int (optional)}
 *   -> {"instances": [INSTANCE]}  (not deleted ones) */
#define CONDUCTOR_INSTANCE_GET "instance_get"
#define CONDUCTOR_INSTANCE_LIST "instance_list"

/* From nova-compute:
 *
 * call instance_update {"instance_uuid": str, "updates": {field: value},
 *                       "expected_task_state": [str|null] (optional)}
 *   -> INSTANCE after the update.  Updatable: vm_state, task_state,
 *   power_state, launched_at, terminated_at.  With expected_task_state the
 *   update applies only if the current task state is one of them, else a
 *   Conflict error (UnexpectedTaskStateError in Nova).
 *
 * cast build_failed {"instance_uuid": str, "host": str, "node": str,
 *                    "error": ERROR, "attempt": int,
 *                    "alternates": [DEST]}
 *   Releases the claim on that host and reschedules to the next alternate
 *   that can still be claimed, while attempt < max_attempts; otherwise
 *   vm_state error with a fault "No valid host was found. Exceeded max
 *   scheduling attempts N for instance UUID. Last exception: ...".
 *
 * cast instance_destroyed {"instance_uuid": str, "host": str}
 *   The domain is gone after a delete: marks the row deleted (vm_state
 *   deleted, terminated_at) and releases the claim.
 *
 * cast action_event {"instance_uuid": str, "event": str, "result":
 *                    "Success"|"Error", "start_time", "finish_time",
 *                    "host": str, "details": str|null}
 *   Records an instance action event (compute_reboot_instance, ...).
 *
 * cast service_heartbeat {"host": str, "binary": "nova-compute",
 *                         "topic": "compute", "version": int}
 *   Creates or updates the service row; report_count++ and
 *   last_seen_up = now.
 *
 * cast compute_node_update {"host": str, "node": str, "inventory":
 *                           {"vcpus", "memory_mb", "local_gb",
 *                            "hypervisor_type", "hypervisor_version",
 *                            "hypervisor_hostname", "cpu_info",
 *                            "running_vms"}}
 *   Creates or updates the compute node; used amounts are recomputed from
 *   the instances on the host (see Claims above).
 *
 * call instances_on_host {"host": str} -> {"instances": [INSTANCE]}
 *   What the DB says runs on a host: nova-compute reconciles it with
 *   libvirt when it starts. */
#define CONDUCTOR_INSTANCE_UPDATE "instance_update"
#define CONDUCTOR_BUILD_FAILED "build_failed"
#define CONDUCTOR_INSTANCE_DESTROYED "instance_destroyed"
#define CONDUCTOR_ACTION_EVENT "action_event"
#define CONDUCTOR_SERVICE_HEARTBEAT "service_heartbeat"
#define CONDUCTOR_COMPUTE_NODE_UPDATE "compute_node_update"
#define CONDUCTOR_INSTANCES_ON_HOST "instances_on_host"

/* ---- compute.<host> (nova-compute), version 1.0 ----------------------- */

#define COMPUTE_TOPIC "compute"
#define COMPUTE_RPC_VERSION "1.0"

/* casts, each with {"instance": INSTANCE}:
 *   build_and_run_instance (+ "attempt": int, "alternates": [DEST])
 *   terminate_instance, reboot_instance (+ "reboot_type"), stop_instance,
 *   start_instance, pause_instance, unpause_instance, suspend_instance,
 *   resume_instance
 * Each reports its outcome through conductor instance_update (and
 * build_failed / instance_destroyed / action_event).
 *
 * call get_console_output {"instance_uuid": str, "length": int}
 *   -> {"output": str} */
#define COMPUTE_BUILD_AND_RUN_INSTANCE "build_and_run_instance"
#define COMPUTE_TERMINATE_INSTANCE "terminate_instance"
#define COMPUTE_REBOOT_INSTANCE "reboot_instance"
#define COMPUTE_STOP_INSTANCE "stop_instance"
#define COMPUTE_START_INSTANCE "start_instance"
#define COMPUTE_PAUSE_INSTANCE "pause_instance"
#define COMPUTE_UNPAUSE_INSTANCE "unpause_instance"
#define COMPUTE_SUSPEND_INSTANCE "suspend_instance"
#define COMPUTE_RESUME_INSTANCE "resume_instance"
#define COMPUTE_GET_CONSOLE_OUTPUT "get_console_output"

/* cast snapshot_instance {"instance": INSTANCE, "image_id": str,
 *                         "image_type": "snapshot"|"backup",
 *                         "backup_type": str, "rotation": int}
 *   Copies the instance's disk into image 'image_id' (queued in the image
 *   service) and uploads it; for a backup, then deletes the older backups
 *   of the instance with that backup_type beyond 'rotation'.  Ends with
 *   instance_update task_state null (expected image_snapshot /
 *   image_backup) and action_event compute_snapshot_instance /
 *   compute_backup_instance (compute-snapshot.h). */
#define COMPUTE_SNAPSHOT_INSTANCE "snapshot_instance"

#endif /* NOVA_CHILD_CELL_RPCAPI_H */
