/* cells-state.h: instance state up the tree, instance actions down.
 *
 * Up.  A leaf's conductor casts instance_update_at_top and
 * instance_destroy_at_top to its nova-cells on CELLS_LOCAL_TOPIC after
 * every committed change of an instance row.  The leaf sends each as a
 * targeted cell message to the root, which applies it to the top view
 * (api-cell/top-view.h) with the sender's path as the instance's cell:
 * top_view_apply_update() and top_view_apply_destroy() ignore anything
 * older than what the top view holds (update_seq), so updates that
 * overtake each other on the way never regress it.
 *
 * Down.  nova-api casts instance_action to the root's nova-cells, which
 * sends it to the leaf named by "cell_path"; the leaf casts the matching
 * conductor method (delete_instance, reboot_instance with its
 * reboot_type, stop_instance, ..., update_instance for a rename or a
 * metadata change).  Both are casts: the outcome comes back up as
 * instance updates.
 *
 * Deleted at the top.  A server deleted while its build was on its way
 * down keeps a deleted row in the top view; the build's updates are not
 * applied to it (top_view_apply_update()), and the first one that shows
 * the instance alive and newer than the top view's row sends the delete
 * down to its leaf (cells_state_delete_down()). */
#ifndef CHILD_CELL_CELLS_STATE_H
#define CHILD_CELL_CELLS_STATE_H 1

#include "shared/compiler.h"

struct cell_request;
struct error;
struct json_object;
struct rpc_request;

/* CELLS_LOCAL_TOPIC handlers: instance_update_at_top,
 * instance_destroy_at_top (from the conductor), instance_action (from
 * nova-api). */
struct error *cells_state_update_local(struct rpc_request *, void *svc,
                                       struct json_object **ret_result)
    WARN_UNUSED;
struct error *cells_state_destroy_local(struct rpc_request *, void *svc,
                                        struct json_object **ret_result)
    WARN_UNUSED;
struct error *cells_state_action_local(struct rpc_request *, void *svc,
                                       struct json_object **ret_result)
    WARN_UNUSED;

/* Cell message handlers: the same three, at the root (updates) and at the
 * leaf (actions). */
struct error *cells_state_update_cell(struct cell_request *, void *svc,
                                      struct json_object **ret_result)
    WARN_UNUSED;
struct error *cells_state_destroy_cell(struct cell_request *, void *svc,
                                       struct json_object **ret_result)
    WARN_UNUSED;
struct error *cells_state_action_cell(struct cell_request *, void *svc,
                                      struct json_object **ret_result)
    WARN_UNUSED;

/* At the root: sends the delete of instance 'uuid' to leaf 'cell_path'
 * (an instance_action "delete" with an admin context), for a server
 * deleted at the top that lives on in the leaf.  Used when an update of
 * such an instance comes up and by heal. */
struct cells_service;
struct error *cells_state_delete_down(struct cells_service *,
                                      const char *cell_path,
                                      const char *uuid) WARN_UNUSED;

#endif /* CHILD_CELL_CELLS_STATE_H */
