/* cell-db.h: access to a leaf cell's database.
 *
 * The cell database (shared/db/migrations/cell/) holds the instances of
 * the cell, their faults and actions, the services and the compute nodes.
 * nova-conductor is its main user (nova-compute never holds DB
 * credentials: DESIGN.md, section 4), nova-scheduler reads compute nodes
 * and services, and nova-cells reads instances for the heal.
 *
 * One module per table (each table's SQL lives in one file):
 *
 *     cell-db-instance.h   instances: create, get, update, list, delete
 *     cell-db-fault.h      instance_faults
 *     cell-db-action.h     instance_actions and instance_actions_events
 *     cell-db-service.h    services: heartbeats, up/down, disable
 *     cell-db-node.h       compute_nodes: inventory and claims
 *
 * Rules shared by every function of these modules:
 *
 *   - Each takes the caller's 'struct db *' (one connection per thread,
 *     shared/db.h) and uses prepared statements only.
 *   - Each is safe inside db_txn_run(): functions that need several
 *     statements to be atomic run them with db_txn_run() themselves, which
 *     joins the caller's transaction when there is one.  Calls that must
 *     succeed or fail together (a claim and recording the instance's host,
 *     marking an instance deleted and releasing its claim) belong in one
 *     db_txn_run() of the caller.
 *   - Every write that changes an instance row increments its update_seq
 *     in the same statement.
 *   - Failures are 'struct error *' (NULL = success) owned by the caller:
 *     ERROR_NOT_FOUND with Nova's message for a missing object,
 *     ERROR_CONFLICT for a state that does not allow the change,
 *     ERROR_INVALID for bad arguments, and the kinds of shared/db.h for
 *     database failures.
 *   - Output parameters are written only on success.
 *   - Times are milliseconds since the epoch (UTC), INSTANCE_TIME_NONE
 *     (INT64_MIN) for "not set", as in shared/instance.h.  Liveness
 *     timestamps (service heartbeats) use the database server's clock, so
 *     hosts with skewed clocks still agree on who is up. */
#ifndef NOVA_CELL_DB_H
#define NOVA_CELL_DB_H 1

#include "child-cell/cell-db-action.h"
#include "child-cell/cell-db-fault.h"
#include "child-cell/cell-db-instance.h"
#include "child-cell/cell-db-node.h"
#include "child-cell/cell-db-service.h"

#endif /* NOVA_CELL_DB_H */
