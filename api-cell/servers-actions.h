/* servers-actions.h: POST /v2.1/servers/{server_id}/action.
 *
 * The server actions of Nova's API v2.1 that this cloud runs:
 *
 *     {"reboot": {"type": "SOFT"|"HARD"}}    202
 *     {"os-stop": null}, {"os-start": null}  202
 *     {"pause": null}, {"unpause": null}     202
 *     {"suspend": null}, {"resume": null}    202
 *     {"lock": null}, {"unlock": null}       202
 *     {"os-getConsoleOutput": {"length": N}} 200 {"output": "..."}
 *     {"createImage": {...}}, {"createBackup": {...}}
 *                                            202 (servers-snapshot.h)
 *
 * Each is checked as Nova's compute API checks it (policy, then the lock,
 * then the vm_state, the task_state and that the server has launched:
 * 409 "Cannot 'stop' instance X while it is in vm_state stopped"), then
 * the task state it starts is written to the top view and the action is
 * cast to the server's leaf cell through nova-cells (instance_action).
 * Lock and unlock belong to the API cell and only change the top view.
 * The console output is a call to the leaf, answered once it replies
 * (the HTTP request is deferred meanwhile). */
#ifndef NOVA_SERVERS_ACTIONS_H
#define NOVA_SERVERS_ACTIONS_H 1

#include <stdbool.h>
#include "shared/compiler.h"

struct compute_api;
struct error;
struct http_router;
struct top_view_server;

/* Registers the action route on 'router'. */
void servers_actions_register(struct http_router *, struct compute_api *);

/* Checks that server 'srv' may undergo the state-changing action 'name'
 * ("reboot", "stop", ...; 'hard' for a hard reboot) as Nova does.
 * Returns NULL or an ERROR_CONFLICT error with Nova's message.  Pure (for
 * tests): the lock is not checked here. */
struct error *servers_actions_check_state(const char *name, bool hard,
                                          const struct top_view_server *srv)
    WARN_UNUSED;

#endif /* NOVA_SERVERS_ACTIONS_H */
