/* servers-view.h: the JSON of a server, as Nova's API v2.1 shows it.
 *
 * Nova's view builder (nova/api/openstack/compute/views/servers.py) and
 * the extensions folded into 2.1 (OS-DCF, OS-EXT-AZ, OS-EXT-SRV-ATTR,
 * OS-EXT-STS, OS-SRV-USG, os-extended-volumes) make up the "server" of
 * GET /servers/{id} and GET /servers/detail; GET /servers lists only
 * {"id", "links", "name"}.  Clients validate these bodies against Nova's
 * schemas, so every key is present with Nova's type: no networks exist
 * here, so "addresses" is {} and accessIPv4/6 are "".
 *
 * Links are built on the request's base URL: "self" is
 * BASE/v2.1/servers/ID and "bookmark" BASE/servers/ID; images and flavors
 * get bookmark links only, as in Nova.
 *
 * Pure: the caller passes what the request knows (servers_view_ctx).
 *
 * The views are written as text (servers_view_write_*()): a list of a
 * thousand servers costs far less to write than to build and free as
 * json-c trees.  The tree forms parse that text back, so the two cannot
 * differ. */
#ifndef NOVA_SERVERS_VIEW_H
#define NOVA_SERVERS_VIEW_H 1

#include <stdbool.h>
#include <stddef.h>

struct json_object;
struct json_writer;
struct top_view_server;

/* hostId: 56 hex digits of SHA-224 and the NUL. */
#define SERVERS_VIEW_HOST_ID_SIZE 57

/* What a view depends on besides the server. */
struct servers_view_ctx {
    const char *base_url;       /* "http://api:8774", no trailing '/' */
    bool is_admin;              /* fault "details" of 500 faults */
    bool extended;              /* OS-EXT-SRV-ATTR:* (admin policy) */
    const char *default_az;     /* the AZ of hosts in no named zone */
};

/* Nova's hostId: the hex SHA-224 of 'project_id' followed by 'host', or ""
 * when 'host' is NULL or empty.  Writes SERVERS_VIEW_HOST_ID_SIZE bytes at
 * most to 'out'. */
void servers_view_host_id(const char *project_id, const char *host,
                          char out[SERVERS_VIEW_HOST_ID_SIZE]);

/* The "links" array of server 'uuid' (self and bookmark): a new
 * reference. */
struct json_object *servers_view_links(const char *base_url,
                                       const char *uuid);

/* BASE/v2.1/servers/UUID: the Location of a created server.  The caller
 * frees it. */
char *servers_view_self_url(const char *base_url, const char *uuid);

/* The full server object (the value of "server"): a new reference. */
struct json_object *servers_view_detail(const struct servers_view_ctx *,
                                        const struct top_view_server *);

/* {"id", "links", "name"} of GET /servers: a new reference. */
struct json_object *servers_view_summary(const struct servers_view_ctx *,
                                         const struct top_view_server *);

/* Write the same values as servers_view_detail() and
 * servers_view_summary() as text, with 'w' (shared/json-util.h), without
 * building a tree: the views of GET /servers/detail and GET /servers. */
void servers_view_write_detail(struct json_writer *w,
                               const struct servers_view_ctx *,
                               const struct top_view_server *);
void servers_view_write_summary(struct json_writer *w,
                                const struct servers_view_ctx *,
                                const struct top_view_server *);

/* The "fault" of a server in error or deleted, or NULL when it shows
 * none: {"code", "created", "message"} and "details" for admins or a
 * code other than 500, as Nova. */
struct json_object *servers_view_fault(const struct servers_view_ctx *,
                                       const struct top_view_server *);

#endif /* NOVA_SERVERS_VIEW_H */
