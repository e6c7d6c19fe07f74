/* servers-api.h: the servers resource of the compute API (/v2.1/servers).
 *
 * Routes (Nova's API v2.1):
 *
 *     POST   /v2.1/servers                  boot (202)
 *     GET    /v2.1/servers                  list {"id", "links", "name"}
 *     GET    /v2.1/servers/detail           list of full servers
 *     GET    /v2.1/servers/{server_id}      show
 *     PUT    /v2.1/servers/{server_id}      rename
 *     DELETE /v2.1/servers/{server_id}      delete (204)
 *     GET, POST, PUT, DELETE /v2.1/servers/{server_id}/metadata[/{key}]
 *                                           (servers-metadata.h)
 *     POST   /v2.1/servers/{server_id}/action          (servers-actions.h)
 *     GET    /v2.1/servers/{server_id}/os-instance-actions[/{request_id}]
 *                                           (servers-instance-actions.h)
 *
 * Reads come from the API cell's top view (top-view.h), scoped to the
 * caller's project: a server of another project is "not found" to
 * anyone but an admin, never "forbidden", so that its existence does not
 * show.  Boots and actions are written to the top view and cast to the
 * API cell's nova-cells (cells-client.h), which takes them down the tree;
 * without nova-cells they answer 503 before writing anything.  A rename
 * travels down as the instance action "update" so that the leaf's row
 * keeps the new name.  A server not placed in a cell yet is deleted at
 * once (204); a build still on its way is deleted when it lands.  A
 * server whose cell (or a cell above it) is mute answers 503 to rename
 * and delete (cell_status_check_reachable()).
 *
 * The functions after servers_api_register() are shared by the servers
 * modules (servers-actions.c, servers-instance-actions.c). */
#ifndef NOVA_SERVERS_API_H
#define NOVA_SERVERS_API_H 1

#include <stdbool.h>
#include "shared/compiler.h"

struct compute_api;
struct db;
struct error;
struct http_request;
struct http_response;
struct http_router;
struct json_object;
struct servers_view_ctx;
struct top_view_server;

/* Registers every route above on 'router', with 'compute' (which must
 * outlive the router) as their aux. */
void servers_api_register(struct http_router *, struct compute_api *);

/* ---- Shared by the servers modules -------------------------------------- */

/* Reads server 'uuid' for the caller of 'req' into '*ret' (owned by the
 * caller) and its thread's connection into '*ret_db'.  ERROR_NOT_FOUND
 * "Instance <uuid> could not be found." for a uuid that is malformed,
 * unknown, deleted, or of another project when the caller is no admin. */
struct error *servers_api_get_server(struct compute_api *,
                                     const struct http_request *req,
                                     const char *uuid, struct db **ret_db,
                                     struct top_view_server **ret)
    WARN_UNUSED;

/* Fills 'ctx' for views answered to 'req' about a server of project
 * 'project_id'. */
void servers_api_view_ctx(const struct compute_api *,
                          const struct http_request *req,
                          const char *project_id,
                          struct servers_view_ctx *ctx);

/* The error a user reads when a message to or from cell 'cell_path'
 * (NULL: the API cell's nova-cells) failed with 'error' (borrowed):
 * ERROR_UNAVAILABLE and ERROR_CELL_DOWN become 503 and ERROR_TIMEOUT 504,
 * naming the cell; other kinds keep their kind and message. */
struct error *servers_api_cell_error(const struct error *error,
                                     const char *cell_path) WARN_UNUSED;

/* The 503 of an action that needs nova-cells when none is configured. */
struct error *servers_api_no_cells(void) WARN_UNUSED;

/* Casts CELLS_INSTANCE_ACTION 'action' with 'args' (taken; NULL for {})
 * for server 'srv' on behalf of 'req'. */
struct error *servers_api_cast_action(struct compute_api *,
                                      const struct http_request *req,
                                      const struct top_view_server *srv,
                                      const char *action,
                                      struct json_object *args) WARN_UNUSED;

/* Builds the response of a deferred call from its 'result' (borrowed):
 * fills 'resp' and returns NULL, or returns an error. */
typedef struct error *servers_api_reply_fn(struct json_object *result,
                                           struct http_response *resp);

/* Calls 'method' of nova-cells with 'args' (taken) for 'req', deferring
 * the HTTP request until the reply comes; 'fn' then builds the response.
 * Errors name cell 'cell_path'.  Always returns NULL (the handler's
 * return value): a failure completes the request. */
struct error *servers_api_call(struct compute_api *, struct http_request *,
                               struct http_response *, const char *method,
                               struct json_object *args,
                               const char *cell_path,
                               servers_api_reply_fn *fn);

#endif /* NOVA_SERVERS_API_H */
