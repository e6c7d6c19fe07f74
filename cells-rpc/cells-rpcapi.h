/* cells-rpcapi.h: the RPC interface of nova-cells inside its own cell.
 *
 * Every cell of the tree runs nova-cells.  Besides the cell message layer
 * between cells (cell-node.h, whose methods are listed at the end of this
 * file), nova-cells consumes one plain RPC topic on its cell's own vhost,
 * CELLS_LOCAL_TOPIC, for the local processes of the cell:
 *
 *   nova-api        in the API (root) cell: boots, actions and queries
 *                   that must travel down the tree;
 *   nova-conductor  in a leaf cell: instance changes that must travel up
 *                   to the top view of the API cell.
 *
 * Every message carries the envelope's context (request id, user, project,
 * roles) and deadline (cells-rpc/rpc-msg.h).  Shapes INSTANCE, SPEC and
 * ERROR are those of child-cell/rpcapi.h; FAULT is Nova's server fault:
 * {"code": int, "message": str, "details": str, "created": ISO 8601 with
 * microseconds}.  A cell path names a cell by its ancestry, such as
 * "api!region1!leaf1" (cell-path.h). */
#ifndef NOVA_CELLS_RPCAPI_H
#define NOVA_CELLS_RPCAPI_H 1

#define CELLS_LOCAL_TOPIC "cells_local"
#define CELLS_RPC_VERSION "1.0"

/* ---- from nova-api (API cell) ------------------------------------------ */

/* cast build_instance {"instance": INSTANCE, "spec": SPEC,
 *                      "max_attempts": int}
 *   The root's cell scheduler (cell-sched.h) picks a child from the
 *   children's latest capacity reports and health; the request travels
 *   down as a targeted cell message and each level schedules again among
 *   its own children (trying the next child, up to
 *   cells.scheduler_retries, when a child cannot place it).  The leaf
 *   casts conductor build_instances {"spec", "instances": [INSTANCE],
 *   "max_attempts"}.  When no cell can take the instance, an
 *   instance_update_at_top with vm_state "error" and a FAULT whose message
 *   starts with "No valid host was found." reaches the top view. */
#define CELLS_BUILD_INSTANCE "build_instance"

/* cast instance_action {"instance_uuid": str, "cell_path": str,
 *                       "action": "delete"|"reboot"|"stop"|"start"|
 *                                 "pause"|"unpause"|"suspend"|"resume"|
 *                                 "snapshot"|"update",
 *                       "args": {} (reboot: {"reboot_type":
 *                                             "SOFT"|"HARD"};
 *                                   snapshot: {"image_id": str,
 *                                     "image_type": "snapshot"|"backup",
 *                                     "backup_type": str (backup),
 *                                     "rotation": int (backup)};
 *                                   update: {"display_name": str
 *                                     (optional), "metadata": {str: str}
 *                                     (optional, the whole new
 *                                     dictionary)})}
 *   Sent down the path to the leaf 'cell_path', which casts the matching
 *   conductor method (delete_instance, reboot_instance, ...;
 *   snapshot_instance with the snapshot's args next to the uuid;
 *   update_instance with display_name and metadata next to the uuid,
 *   after which the leaf's row, with a new update_seq, comes back up).
 *   The root also sends "delete" by itself, with an admin context, to
 *   the leaf of a server that was deleted at the top before its build
 *   landed there (child-cell/cells-state.h). */
#define CELLS_INSTANCE_ACTION "instance_action"

/* call service_list {"cell_path": str|null (the subtree; null: all),
 *                    "binary": str|null, "host": str|null}
 *   -> {"services": [SERVICE], "missing": [cell path]}
 *   SERVICE = {"cell_path", "id" (int, the row id in its leaf),
 *              "binary", "host", "topic", "zone" ("internal" for
 *              non-compute services, else the cell's availability zone or
 *              "nova"), "disabled" (bool), "disabled_reason" (str|null),
 *              "forced_down" (bool), "last_seen_up" (ISO 8601|null),
 *              "updated_at", "report_count",
 *              "up" (bool: heard within compute.service_down_time)}
 *   "missing" lists the cells that did not answer in time. */
#define CELLS_SERVICE_LIST "service_list"

/* call service_update {"cell_path": str, "host": str, "binary": str,
 *                      "disabled": bool (optional),
 *                      "disabled_reason": str|null (optional),
 *                      "forced_down": bool (optional)}
 *   -> SERVICE after the update (targeted at the leaf). */
#define CELLS_SERVICE_UPDATE "service_update"

/* call compute_node_list {"cell_path": str|null}
 *   -> {"compute_nodes": [NODE], "missing": [cell path]}
 *   NODE = {"cell_path", "id", "host", "hypervisor_hostname",
 *           "hypervisor_type", "hypervisor_version", "vcpus",
 *           "vcpus_used", "memory_mb", "memory_mb_used", "local_gb",
 *           "local_gb_used", "running_vms", "cpu_info",
 *           "state" ("up"|"down"), "status" ("enabled"|"disabled")} */
#define CELLS_COMPUTE_NODE_LIST "compute_node_list"

/* call instance_action_list {"cell_path": str, "instance_uuid": str}
 *   -> {"instanceActions": [ACTION]}
 * call instance_action_get {"cell_path": str, "instance_uuid": str,
 *                           "request_id": str}
 *   -> {"instanceAction": ACTION + {"events": [EVENT]}}
 *   In Nova's os-instance-actions shapes, targeted at the leaf. */
#define CELLS_INSTANCE_ACTION_LIST "instance_action_list"
#define CELLS_INSTANCE_ACTION_GET "instance_action_get"

/* call get_console_output {"cell_path": str, "instance_uuid": str,
 *                          "length": int (optional)}
 *   -> {"output": str}
 *   The leaf asks compute.<host> of the instance. */
#define CELLS_GET_CONSOLE_OUTPUT "get_console_output"

/* call heal {"cell_path": str|null (the subtree; null: all)}
 *   -> {"checked": int, "fixed": [uuid], "deleted": [uuid],
 *       "missing_cells": [cell path]}
 *   Root only: compares the leaves' digests with the top view and repairs
 *   what differs (child-cell/cells-heal.h).  "fixed": rows updated,
 *   inserted or marked deleted from a leaf's own row, and instances
 *   deleted in the top view but alive in their leaf, to which the delete
 *   is sent (child-cell/cells-state.h); "deleted": top-view
 *   rows of an instance their leaf does not have; "missing_cells": leaves
 *   that did not answer, left unchecked.  Also run every
 *   cells.heal_interval seconds. */
#define CELLS_HEAL "heal"

/* ---- from nova-conductor (leaf cells) ---------------------------------- */

/* cast instance_update_at_top {"instance": INSTANCE, "fault": FAULT|null}
 *   The leaf's nova-cells adds its cell path and sends it up to the root,
 *   whose nova-cells applies it to the top view unless the top view
 *   already holds an update_seq at least as new. */
#define CELLS_INSTANCE_UPDATE_AT_TOP "instance_update_at_top"

/* cast instance_destroy_at_top {"instance_uuid": str, "update_seq": int}
 *   The instance row became deleted in the leaf: the top view's row is
 *   soft-deleted unless it holds a newer update_seq. */
#define CELLS_INSTANCE_DESTROY_AT_TOP "instance_destroy_at_top"

/* ---- between cells (cell messages, cell-node.h) ------------------------ */

/* Targeted down (with a response) to a child, which schedules again or,
 * at a leaf, casts the conductor: the arguments of build_instance.
 * Result {"cell_path": the leaf} or an error (NoValidHost) when the
 * subtree cannot take the instance, after which the parent tries its next
 * child. */
#define CELLS_MSG_BUILD_INSTANCE "build_instance"

/* Targeted up to the root: instance_update_at_top's arguments plus
 * "cell_path" (the leaf).  Likewise instance_destroy_at_top. */
#define CELLS_MSG_INSTANCE_UPDATE_AT_TOP "instance_update_at_top"
#define CELLS_MSG_INSTANCE_DESTROY_AT_TOP "instance_destroy_at_top"

/* Targeted down to the leaf 'cell_path' (no response): the arguments of
 * instance_action. */
#define CELLS_MSG_INSTANCE_ACTION "instance_action"

/* Targeted up to the parent (no response): {"cell_path": sender,
 * "capacity": cell_capacity_to_json() (cell-capacity.h)}. */
#define CELLS_MSG_CAPACITY_REPORT "capacity_report"

/* Broadcast down (with a response) to the subtree, each leaf answering for
 * itself: service_list and compute_node_list (the arguments of the
 * calls above); targeted with a response at a leaf: service_update,
 * instance_action_list, instance_action_get, get_console_output. */
#define CELLS_MSG_SERVICE_LIST "service_list"
#define CELLS_MSG_SERVICE_UPDATE "service_update"
#define CELLS_MSG_COMPUTE_NODE_LIST "compute_node_list"
#define CELLS_MSG_INSTANCE_ACTION_LIST "instance_action_list"
#define CELLS_MSG_INSTANCE_ACTION_GET "instance_action_get"
#define CELLS_MSG_GET_CONSOLE_OUTPUT "get_console_output"

/* Heal (child-cell/cells-heal.h).  Targeted with a response at each cell
 * with hosts in scope in turn (cells that are mute or excluded, or below
 * one, are skipped and reported missing), page by page: heal_digest
 * {"marker": int (optional), "limit": int (optional)} -> {"leaf": bool,
 * "instances": [[uuid, update_seq, deleted]], "next": int|null}.
 * Targeted at a leaf:
 * heal_fetch {"uuids": [uuid]} -> {"instances": [{"instance": INSTANCE,
 * "fault": FAULT|null}], "missing": [uuid]}. */
#define CELLS_MSG_HEAL_DIGEST "heal_digest"
#define CELLS_MSG_HEAL_FETCH "heal_fetch"

#endif /* NOVA_CELLS_RPCAPI_H */
