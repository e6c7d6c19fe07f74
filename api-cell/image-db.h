/* image-db.h: the image records of the API database (tables images,
 * image_properties, image_tags, image_members of 0005_images.sql).
 *
 * The image service (images-api.h) keeps its records here and its files
 * in the store (image-store.h); the compute API reads the image a server
 * boots from with image_db_get_for_boot().
 *
 * Visibility follows Glance v2: a "public" image is seen by everyone; a
 * "community" one too, though lists show it only to its owner unless
 * asked for (visibility=community); a "shared" one by its owner and the
 * projects it is shared with (image_members, accepted or pending); a
 * "private" one by its owner only.  Admins see every image.
 *
 * Threads: every function works on the calling thread's connection. */
#ifndef NOVA_IMAGE_DB_H
#define NOVA_IMAGE_DB_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "shared/compiler.h"
#include "shared/cleanup.h"

struct db;
struct error;
struct instance_image;

/* Limits on what an image record may hold. */
#define IMAGE_DB_MAX_NAME_LENGTH 255
#define IMAGE_DB_MAX_PROPERTIES 128
#define IMAGE_DB_MAX_PROPERTY_NAME_LENGTH 255
#define IMAGE_DB_MAX_PROPERTY_VALUE_LENGTH 65535
#define IMAGE_DB_MAX_TAGS 128
#define IMAGE_DB_MAX_TAG_LENGTH 255
#define IMAGE_DB_MAX_LIST 1000

/* Image properties with a meaning for compute. */
#define IMAGE_PROP_KERNEL_ID "kernel_id"
#define IMAGE_PROP_RAMDISK_ID "ramdisk_id"
#define IMAGE_PROP_COMMAND_LINE "os_command_line"

struct image_property {
    char *name;
    char *value;
};

/* One image.  Every string is owned (NULL when unset); sizes are -1 when
 * unknown.  Times are ISO 8601 as Glance writes them
 * ("2024-05-01T10:00:00Z"). */
struct image {
    char *id;
    char *name;
    char *owner;                /* project id */
    char *status;               /* queued, active */
    char *visibility;           /* public, community, shared, private */
    bool is_protected;
    bool os_hidden;
    char *disk_format;
    char *container_format;
    int64_t size;
    int64_t virtual_size;
    char *checksum;             /* md5, hex */
    char *os_hash_algo;         /* "sha512" */
    char *os_hash_value;        /* hex */
    int64_t min_disk;           /* GiB */
    int64_t min_ram;            /* MiB */
    char *location;             /* absolute path of the file, or NULL */
    char *created_at;
    char *updated_at;
    struct image_property *properties;  /* sorted by name */
    size_t n_properties;
    char **tags;
    size_t n_tags;
};

/* A new image with every member unset (sizes -1). */
struct image *image_new(void);
void image_free(struct image *);
DEFINE_FREEP(struct image, image_free)
void image_array_free(struct image **, size_t n);

/* Sets property 'name' to a copy of 'value', or removes it when 'value'
 * is NULL.  Returns the property's value or NULL. */
void image_set_property(struct image *, const char *name, const char *value);
const char *image_get_property(const struct image *, const char *name);
/* Adds tag 'tag' unless present; removes it. */
void image_add_tag(struct image *, const char *tag);
void image_remove_tag(struct image *, const char *tag);

/* True if project 'project_id' ('is_admin' for admins) may see 'image'
 * ('is_member': the image is shared with the project). */
bool image_is_visible(const struct image *, const char *project_id,
                      bool is_admin, bool is_member);

/* Inserts 'image' (its id, name, owner, status, visibility, formats,
 * flags, minimums, properties and tags; the times are set to now).  A
 * snapshot or backup (property image_type) also gets the properties of its
 * base image (property base_image_ref) that it does not set, such as
 * kernel_id and ramdisk_id.  ERROR_CONFLICT if the id exists. */
struct error *image_db_create(struct db *, const struct image *)
    WARN_UNUSED;

/* Reads image 'id' visible to 'project_id' / 'is_admin' into '*ret'
 * (caller frees).  ERROR_NOT_FOUND "No image found with ID <id>" when it
 * does not exist or is not visible (Glance does not tell the two
 * apart). */
struct error *image_db_get(struct db *, const char *id,
                           const char *project_id, bool is_admin,
                           struct image **ret) WARN_UNUSED;

struct image_db_filter {
    const char *project_id;     /* the caller */
    bool is_admin;
    const char *name;           /* exact */
    const char *status;
    const char *visibility;     /* NULL: Glance's default listing */
    const char *owner;
    const char *marker;         /* image id; ERROR_INVALID if unknown */
    int limit;                  /* 1..IMAGE_DB_MAX_LIST */
    const char *sort_key;       /* created_at (default), updated_at, name,
                                 * size, status, id */
    bool sort_asc;              /* default: descending */
};

/* Lists the images 'filter' selects, newest first by default (ties
 * broken by id), at most 'limit' of them. */
struct error *image_db_list(struct db *, const struct image_db_filter *,
                            struct image ***ret, size_t *ret_n)
    WARN_UNUSED;

/* Writes the mutable fields of 'image' (name, visibility, protected,
 * os_hidden, formats, minimums, properties, tags) and sets updated_at. */
struct error *image_db_update(struct db *, const struct image *)
    WARN_UNUSED;

/* Marks queued image 'id' active with its file 'location', 'size' and
 * checksums.  Sets '*ret_applied' false (and changes nothing) when the
 * image is gone or no longer queued (another upload won). */
struct error *image_db_activate(struct db *, const char *id,
                                const char *location, int64_t size,
                                const char *md5, const char *sha512,
                                bool *ret_applied) WARN_UNUSED;

/* Deletes image 'id' with its properties, tags and members. */
struct error *image_db_delete(struct db *, const char *id) WARN_UNUSED;

/* Shares 'image_id' with project 'member' (status "accepted"), for
 * "shared" images. */
struct error *image_db_add_member(struct db *, const char *image_id,
                                  const char *member) WARN_UNUSED;

/* The image a server of project 'project_id' boots from, as the IMAGE
 * of rpcapi.h (properties, and how compute boots it: kernel, initrd,
 * cmdline, disk, disk_format).  ERROR_INVALID "Image <id> could not be
 * found." when it does not exist, is not visible to the project or is not
 * active (Nova answers 400 for a bad imageRef).
 *
 * "disk" is the absolute path of the image's file in the store, with
 * its disk_format ("ami" is given as "raw", as Nova's libvirt driver
 * boots it); an "aki" image is itself the kernel and has no disk.
 * AMI-style properties kernel_id / ramdisk_id name other images, active
 * and visible to the project as well (else the same error names them),
 * whose files give "kernel" and "initrd"; os_command_line gives
 * "cmdline"; the other custom properties are copied into "properties"
 * (architecture, hypervisor_type, ...).
 *
 * Each file also comes with where a compute host downloads it, relative
 * to the image endpoint ("url", "kernel_url", "initrd_url":
 * "/v2/images/<id>/file"), and its md5 and sha512 ("checksum",
 * "os_hash_value", ...), which the compute verifies before caching it
 * (child-cell/compute-image-cache.h); a compute without an image
 * endpoint configured reads the paths, which works on one machine or
 * with the store on shared storage. */
struct error *image_db_get_for_boot(struct db *, const char *image_id,
                                    const char *project_id, bool is_admin,
                                    struct instance_image **ret) WARN_UNUSED;

#endif /* NOVA_IMAGE_DB_H */
