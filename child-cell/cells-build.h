/* cells-build.h: build_instance on its way down the tree.
 *
 * The API cell's nova-cells takes build_instance from nova-api (a cast on
 * CELLS_LOCAL_TOPIC).  A cell with children picks them in order with the
 * cell scheduler (cells-rpc/cell-sched.h), from their latest capacity
 * reports and health, and sends the build to the first as a targeted cell
 * message that wants an answer; when that child answers that its subtree
 * cannot take the instance, or does not answer, the next choice gets it,
 * up to cells.scheduler_retries children.  A leaf refuses a flavor its
 * latest report has no room for, otherwise casts conductor build_instances
 * and answers with its path.  When no child of the root can take the
 * instance, the root marks it in the top view as vm_state error with the
 * fault "No valid host was found. <why>" (top_view_set_error()), which is
 * what the API shows. */
#ifndef CHILD_CELL_CELLS_BUILD_H
#define CHILD_CELL_CELLS_BUILD_H 1

#include "shared/compiler.h"

struct cell_request;
struct error;
struct json_object;
struct rpc_request;

/* CELLS_LOCAL_TOPIC build_instance (a cast from nova-api). */
struct error *cells_build_local(struct rpc_request *req, void *svc,
                                struct json_object **ret_result)
    WARN_UNUSED;

/* Cell message build_instance from the parent. */
struct error *cells_build_cell(struct cell_request *req, void *svc,
                               struct json_object **ret_result) WARN_UNUSED;

#endif /* CHILD_CELL_CELLS_BUILD_H */
