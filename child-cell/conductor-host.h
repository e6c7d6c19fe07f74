/* conductor-host.h: nova-conductor's methods for compute hosts
 * (child-cell/rpcapi.h): service_heartbeat, compute_node_update and
 * instances_on_host.
 *
 * compute_node_update stores the node's report and recomputes its usage
 * from the instances placed on it, in one transaction: the report heals
 * any drift of the claims (cell-db-node.h). */
#ifndef CHILD_CELL_CONDUCTOR_HOST_H
#define CHILD_CELL_CONDUCTOR_HOST_H 1

struct error;
struct json_object;
struct rpc_request;

/* RPC handlers and validators (rpc-server.h); 'aux' is the conductor. */
struct error *conductor_host_heartbeat(struct rpc_request *, void *aux,
                                       struct json_object **ret_result);
struct error *conductor_host_heartbeat_validate(const struct json_object *);
struct error *conductor_host_node_update(struct rpc_request *, void *aux,
                                         struct json_object **ret_result);
struct error *conductor_host_node_update_validate(
    const struct json_object *);
struct error *conductor_host_instances(struct rpc_request *, void *aux,
                                       struct json_object **ret_result);
struct error *conductor_host_instances_validate(const struct json_object *);

#endif /* CHILD_CELL_CONDUCTOR_HOST_H */
