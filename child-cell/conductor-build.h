/* conductor-build.h: nova-conductor's build_instances and build_failed
 * (child-cell/rpcapi.h).
 *
 * build_instances, for each instance of the request:
 *
 *   1. records it (vm_state building, task_state scheduling) with the
 *      "create" action, in one transaction; an instance whose uuid exists
 *      already is not recorded again, and only the instances still waiting
 *      for a host (building, scheduling, no host) go on, so a redelivered
 *      request changes nothing once its instances are placed;
 *   2. asks nova-scheduler for destinations with rpc_call_async(), the
 *      request deferred meanwhile (its message stays unacknowledged);
 *   3. in one transaction per instance: takes the instance row (a
 *      conditional update expecting task_state scheduling), checks it has
 *      no host yet, claims the chosen host in the cell database
 *      (cell_db_node_claim_flavor()), and if the claim loses a race tries
 *      the alternates in order, then records host and node with the
 *      event "conductor_schedule_and_build_instances";
 *   4. casts build_and_run_instance to compute.<host> with attempt 1 and
 *      the alternates after the claimed one.
 *
 * When the scheduler finds no host, or no destination can be claimed, the
 * instance goes to vm_state error with a fault "No valid host was found.
 * ...".
 *
 * build_failed releases the claim on the failed host and, while the
 * attempt is below the maximum, claims the next alternate that still has
 * room and casts build_and_run_instance to it with the attempt + 1;
 * otherwise the instance goes to error with the fault "No valid host was
 * found. Exceeded max scheduling attempts N for instance UUID. Last
 * exception: ..." (or "Exhausted all hosts available for retrying build
 * failures ..." when no alternate is left).  A build_failed that no
 * longer matches the instance (another host, not building, being deleted)
 * is a duplicate and is ignored. */
#ifndef CHILD_CELL_CONDUCTOR_BUILD_H
#define CHILD_CELL_CONDUCTOR_BUILD_H 1

#include "shared/compiler.h"

struct conductor;
struct error;
struct json_object;
struct rpc_request;

/* Most instances in one build_instances request. */
#define CONDUCTOR_BUILD_MAX_INSTANCES 1000

/* Name of the conductor's event of the "create" action. */
#define CONDUCTOR_BUILD_EVENT "conductor_schedule_and_build_instances"

/* RPC handlers and validators (rpc-server.h); 'aux' is the conductor. */
struct error *conductor_build_instances(struct rpc_request *req, void *aux,
                                        struct json_object **ret_result);
struct error *conductor_build_instances_validate(
    const struct json_object *args);
struct error *conductor_build_failed(struct rpc_request *req, void *aux,
                                     struct json_object **ret_result);
struct error *conductor_build_failed_validate(const struct json_object *args);

#endif /* CHILD_CELL_CONDUCTOR_BUILD_H */
