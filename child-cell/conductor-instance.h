/* conductor-instance.h: nova-conductor's methods on one instance
 * (child-cell/rpcapi.h): the server actions, instance_get,
 * instance_list, instance_update, instance_destroyed and action_event.
 *
 * Server actions (delete_instance, reboot_instance, stop_instance, ...)
 * check the transition with conductor-actions.h, then in one transaction
 * set the new task state with a conditional update (its expected states
 * are the allowed ones) and record the instance action; once committed,
 * the matching method is cast to compute.<host> with {"instance":
 * INSTANCE} (and "reboot_type" for a reboot).  A delete of an instance
 * that never got a host, or whose compute service is down, deletes it at
 * once (Nova's local delete), releasing its claim.  Sent as a call, an
 * action answers with the instance as changed, or with the refusal
 * (ERROR_CONFLICT, ERROR_NOT_FOUND).
 *
 * instance_destroyed marks the row deleted and releases the claim in one
 * transaction, once only (a repeated message finds it deleted). */
#ifndef CHILD_CELL_CONDUCTOR_INSTANCE_H
#define CHILD_CELL_CONDUCTOR_INSTANCE_H 1

struct error;
struct json_object;
struct rpc_request;

/* Reboot types of reboot_instance. */
#define CONDUCTOR_REBOOT_SOFT "SOFT"
#define CONDUCTOR_REBOOT_HARD "HARD"

/* RPC handlers and validators (rpc-server.h); 'aux' is the conductor. */
struct error *conductor_instance_delete(struct rpc_request *, void *aux,
                                        struct json_object **ret_result);
struct error *conductor_instance_reboot(struct rpc_request *, void *aux,
                                        struct json_object **ret_result);
struct error *conductor_instance_stop(struct rpc_request *, void *aux,
                                      struct json_object **ret_result);
struct error *conductor_instance_start(struct rpc_request *, void *aux,
                                       struct json_object **ret_result);
struct error *conductor_instance_pause(struct rpc_request *, void *aux,
                                       struct json_object **ret_result);
struct error *conductor_instance_unpause(struct rpc_request *, void *aux,
                                         struct json_object **ret_result);
struct error *conductor_instance_suspend(struct rpc_request *, void *aux,
                                         struct json_object **ret_result);
struct error *conductor_instance_resume(struct rpc_request *, void *aux,
                                        struct json_object **ret_result);
struct error *conductor_instance_action_validate(
    const struct json_object *args);

/* update_instance (child-cell/rpcapi.h): a rename or new metadata from
 * the API cell, applied to the cell DB row (update_seq + 1) and cast up
 * to the top view. */
struct error *conductor_instance_apply_update(struct rpc_request *,
                                              void *aux,
                                              struct json_object **ret_result);
struct error *conductor_instance_apply_update_validate(
    const struct json_object *args);
struct error *conductor_instance_reboot_validate(
    const struct json_object *args);

struct error *conductor_instance_get(struct rpc_request *, void *aux,
                                     struct json_object **ret_result);
struct error *conductor_instance_get_validate(const struct json_object *);
struct error *conductor_instance_list(struct rpc_request *, void *aux,
                                      struct json_object **ret_result);
struct error *conductor_instance_list_validate(const struct json_object *);
struct error *conductor_instance_update(struct rpc_request *, void *aux,
                                        struct json_object **ret_result);
struct error *conductor_instance_update_validate(
    const struct json_object *);
struct error *conductor_instance_destroyed(struct rpc_request *, void *aux,
                                           struct json_object **ret_result);
struct error *conductor_instance_destroyed_validate(
    const struct json_object *);
struct error *conductor_instance_action_event(
    struct rpc_request *, void *aux, struct json_object **ret_result);
struct error *conductor_instance_action_event_validate(
    const struct json_object *);

#endif /* CHILD_CELL_CONDUCTOR_INSTANCE_H */
