/* servers-instance-actions.h: os-instance-actions of the compute API.
 *
 *     GET /v2.1/servers/{server_id}/os-instance-actions
 *         -> {"instanceActions": [{"action", "instance_uuid", "message",
 *             "project_id", "request_id", "start_time", "user_id"}]}
 *     GET /v2.1/servers/{server_id}/os-instance-actions/{request_id}
 *         -> {"instanceAction": {... "events": [...]}}
 *
 * The actions are recorded by the leaf cell that holds the server, so each
 * request is a call through nova-cells targeted at that cell
 * (instance_action_list, instance_action_get), answered when the reply
 * comes.  As in Nova 2.1, "events" are shown to admins only. */
#ifndef NOVA_SERVERS_INSTANCE_ACTIONS_H
#define NOVA_SERVERS_INSTANCE_ACTIONS_H 1

struct compute_api;
struct http_router;

/* Registers both routes on 'router'. */
void servers_instance_actions_register(struct http_router *,
                                       struct compute_api *);

#endif /* NOVA_SERVERS_INSTANCE_ACTIONS_H */
