/* images-api.h: the image service of nova-api, a Glance v2 subset under
 * BASE/image (the "image" endpoint of the identity catalog).
 *
 *   GET    /image, /image/versions     version document (public)
 *   GET    /image/v2/images            list: limit, marker, sort_key,
 *                                      sort_dir, name, status,
 *                                      visibility, owner; "next" link
 *   POST   /image/v2/images            create (201, status "queued")
 *   GET    /image/v2/images/{id}       show
 *   PATCH  /image/v2/images/{id}       JSON patch
 *                                      (application/openstack-images-
 *                                      v2.1-json-patch): add, replace,
 *                                      remove of name, visibility, ...
 *                                      and custom properties
 *   DELETE /image/v2/images/{id}       204
 *   PUT    /image/v2/images/{id}/file  upload (application/octet-stream),
 *                                      streamed to the store with its MD5
 *                                      and SHA-512; "active"; 204
 *   GET    /image/v2/images/{id}/file  download (Content-MD5), streamed
 *   PUT/DELETE /image/v2/images/{id}/tags/{tag}
 *   POST   /image/v2/images/{id}/members   share a "shared" image
 *   GET    /image/v2/schemas/image(s)  minimal schemas for clients
 *
 * Image records are Glance's, field for field (image-db.h), custom
 * properties at the top level.  Policy is Glance's default: anyone may
 * create private, shared or community images; public ones only admins
 * (403); only the owner or an admin may change, upload to or delete an
 * image; a protected image cannot be deleted.  Images a project may not
 * see are 404, as in Glance.
 *
 * The store is a local directory (image-store.h).  Compute reads the
 * files straight from it (image_db_get_for_boot()), which suits one
 * machine or a store on shared storage.
 *
 * Threads: handlers run on the HTTP server's threads, each with its own
 * database connection. */
#ifndef NOVA_IMAGES_API_H
#define NOVA_IMAGES_API_H 1

#include <stddef.h>
#include "shared/compiler.h"

struct compute_api;
struct http_router;

/* Glance's image_size_cap default: 1 TiB. */
#define IMAGE_DEFAULT_MAX_SIZE_STR "1099511627776"
#define IMAGE_MAX_MAX_SIZE ((long long) 1 << 50)

/* Items one list returns by default and at most (Glance's
 * limit_param_default and api_limit_max). */
#define IMAGES_API_DEFAULT_LIMIT 25
#define IMAGES_API_MAX_LIMIT 1000

/* nova-api's image.* keys. */
struct image_config {
    char *store_dir;            /* where image files live */
    long long max_size;         /* bytes; larger uploads get 413 */
};

#define IMAGE_CONFIG_KEYS(TYPE, MEMBER)                                   \
    { "image.store_dir", CONFIG_TYPE_STRING,                              \
      offsetof(TYPE, MEMBER.store_dir), NOVA_LOCALSTATEDIR "/images", 0,  \
      0, NULL, "Directory of the image service's files (made if "         \
      "missing); compute hosts read images from it, so a multi-host "     \
      "cloud puts it on shared storage" },                                \
    { "image.max_size", CONFIG_TYPE_INT,                                  \
      offsetof(TYPE, MEMBER.max_size), IMAGE_DEFAULT_MAX_SIZE_STR, 1,     \
      IMAGE_MAX_MAX_SIZE, NULL,                                           \
      "Largest image upload in bytes; larger ones get 413" }

/* Registers the routes above on 'router'.  'compute' (its database) and
 * 'config' are borrowed and must outlive the server.  One image service
 * per process: a later call replaces the configuration of an earlier
 * one. */
void images_api_register(struct http_router *router,
                         struct compute_api *compute,
                         const struct image_config *config);

#endif /* NOVA_IMAGES_API_H */
