/* servers-metadata.h: the metadata of a server (Nova's API v2.1
 * server-metadata resource).
 *
 * Routes:
 *
 *     GET    /v2.1/servers/{server_id}/metadata         {"metadata": {}}
 *     POST   /v2.1/servers/{server_id}/metadata         merge (200)
 *     PUT    /v2.1/servers/{server_id}/metadata         replace all (200)
 *     GET    /v2.1/servers/{server_id}/metadata/{key}   {"meta": {k: v}}
 *     PUT    /v2.1/servers/{server_id}/metadata/{key}   set one (200)
 *     DELETE /v2.1/servers/{server_id}/metadata/{key}   (204)
 *
 * Reads come from the top view.  A write is checked as Nova checks it
 * (body schema, then the server, policy os_compute_api:server-metadata:
 * create/update/update_all/delete against the server's project, the lock,
 * vm_state active, paused, suspended or stopped with no task, the
 * metadata_items quota), then sent down to the server's leaf cell as the
 * instance action "update" with the whole new dictionary (so the leaf's
 * later updates carry it) and written to the top view at once, so that a
 * read right after shows it. */
#ifndef NOVA_SERVERS_METADATA_H
#define NOVA_SERVERS_METADATA_H 1

struct compute_api;
struct http_router;

/* Registers the routes above on 'router', with 'compute' (which must
 * outlive the router) as their aux. */
void servers_metadata_register(struct http_router *, struct compute_api *);

#endif /* NOVA_SERVERS_METADATA_H */
