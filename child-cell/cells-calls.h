/* cells-calls.h: the calls of nova-api that read or change the leaves:
 * service_list, compute_node_list (broadcast down the subtree, each leaf
 * answering for itself), and service_update, instance_action_list,
 * instance_action_get, get_console_output (targeted at one leaf).
 *
 * The root takes the call on CELLS_LOCAL_TOPIC, defers its reply, sends a
 * cell message that wants an answer, and replies when that answer comes
 * back (or the time runs out: a broadcast then lists the cells that did
 * not answer in "missing").  A leaf answers from its cell database with
 * child-cell/cells-queries.h, except get_console_output, which it asks of
 * the nova-compute of the instance's host (compute.<host>
 * get_console_output); a cell without hosts answers a broadcast with an
 * empty list. */
#ifndef CHILD_CELL_CELLS_CALLS_H
#define CHILD_CELL_CELLS_CALLS_H 1

#include "shared/compiler.h"

struct cell_request;
struct error;
struct json_object;
struct rpc_request;

/* CELLS_LOCAL_TOPIC handler of every call above (by method name). */
struct error *cells_calls_local(struct rpc_request *, void *svc,
                                struct json_object **ret_result)
    WARN_UNUSED;

/* Cell message handler of every call above, at the cell that executes
 * it. */
struct error *cells_calls_cell(struct cell_request *, void *svc,
                               struct json_object **ret_result)
    WARN_UNUSED;

#endif /* CHILD_CELL_CELLS_CALLS_H */
