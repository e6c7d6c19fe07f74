/* instance.h: the instance object, its states and its JSON form.
 *
 * 'struct instance' is one server as the leaf cell records it and as it
 * travels between the daemons (the INSTANCE shape of child-cell/rpcapi.h)
 * and up the tree to the API cell's top view:
 *
 *     {"uuid": "...", "display_name": "web-1", "project_id": "...",
 *      "user_id": "...", "host": "cmp1" | null, "node": "cmp1" | null,
 *      "flavor": FLAVOR, "image_ref": "..." | null, "image": IMAGE | null,
 *      "key_name": str | null, "key_data": str | null,
 *      "metadata": {"k": "v"}, "availability_zone": str | null,
 *      "vm_state": "building", "task_state": "scheduling" | null,
 *      "power_state": 0, "launched_at": TIME | null,
 *      "terminated_at": TIME | null, "created_at": TIME | null,
 *      "updated_at": TIME | null, "locked": false, "update_seq": 3}
 *
 *     TIME   "2012-08-20T21:11:09.123000": ISO 8601, UTC, microseconds
 *            (times are kept to the millisecond, shared/timeutil.h).  Any
 *            date-time time_parse_iso8601() accepts is read.
 *     IMAGE  {"id": str | null, "properties": {"k": "v"},
 *             "kernel": str | null, "initrd": str | null,
 *             "cmdline": str | null, "disk": str | null,
 *             "disk_format": str | null, "url": str, "checksum": str,
 *             "os_hash_value": str, "kernel_url": str,
 *             "kernel_checksum": str, "kernel_os_hash_value": str,
 *             "initrd_url": str, "initrd_checksum": str,
 *             "initrd_os_hash_value": str}
 *            What the instance boots from.  'properties' are the image's
 *            properties as the image service stores them (all strings:
 *            "architecture", "hypervisor_type", "hw_disk_bus", ...).
 *            Until the image service exists, "kernel", "initrd",
 *            "cmdline" and "disk" tell nova-compute how to boot (paths on
 *            the compute host, a kernel command line), and "disk_format"
 *            ("qcow2", "raw") how to read "disk".  The other keys are
 *            optional (absent or null) and say where a compute host
 *            downloads the files from the image service: "url" for the
 *            disk, "kernel_url" and "initrd_url" for an AMI's kernel and
 *            ramdisk, each a path relative to the image endpoint
 *            ("/v2/images/<id>/file") or an absolute http(s) URL, with
 *            the file's md5 ("checksum", 32 hex digits) and sha512
 *            ("os_hash_value", 128 hex digits) to verify it against
 *            (child-cell/compute-image-cache.h).
 *
 * instance_from_json() is strict: "uuid" (canonical form), "project_id",
 * "user_id", "flavor" and "vm_state" are required; every other key may be
 * absent (it then takes the default of instance_new()) or null where the
 * shape above says so; each value must have exactly its type and stay
 * within the limits below; no other key is allowed.  Failures are
 * ERROR_INVALID errors that name the field ("instances[0].flavor.vcpus").
 * instance_to_json() writes every key, so its output decodes back to an
 * equal instance.
 *
 * States.  vm_state, task_state and power_state use Nova's exact strings
 * and numbers; each enum and its names come from one X-macro list.  A
 * task state of "none" (INSTANCE_TASK_NONE) is NULL in JSON and in the
 * database: Nova has no task state string for "no task".
 *
 * update_seq.  Every change of an instance row increments 'update_seq'
 * (child-cell/cell-db-instance.h), so the API cell's top view can keep the
 * newest version of a server whatever order updates arrive in.
 *
 * Threads: an instance is plain data; share it read-only or clone it. */
#ifndef NOVA_INSTANCE_H
#define NOVA_INSTANCE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "shared/compiler.h"
#include "shared/cleanup.h"

struct error;
struct flavor;
struct json_object;

/* ---- States ----------------------------------------------------------- */

/* vm_state: what the instance is when no task runs (nova/compute/
 * vm_states.py). */
#define INSTANCE_VM_STATES(X)                                           \
    X(INSTANCE_VM_ACTIVE, "active")                                     \
    X(INSTANCE_VM_BUILDING, "building")                                 \
    X(INSTANCE_VM_PAUSED, "paused")                                     \
    X(INSTANCE_VM_SUSPENDED, "suspended")                               \
    X(INSTANCE_VM_STOPPED, "stopped")                                   \
    X(INSTANCE_VM_RESCUED, "rescued")                                   \
    X(INSTANCE_VM_RESIZED, "resized")                                   \
    X(INSTANCE_VM_SOFT_DELETED, "soft-delete")                          \
    X(INSTANCE_VM_DELETED, "deleted")                                   \
    X(INSTANCE_VM_ERROR, "error")                                       \
    X(INSTANCE_VM_SHELVED, "shelved")                                   \
    X(INSTANCE_VM_SHELVED_OFFLOADED, "shelved_offloaded")

enum instance_vm_state {
#define INSTANCE_VM_STATE_ENUM(state, name) state,
    INSTANCE_VM_STATES(INSTANCE_VM_STATE_ENUM)
#undef INSTANCE_VM_STATE_ENUM
    INSTANCE_N_VM_STATES
};

/* task_state: what is happening to the instance right now
 * (nova/compute/task_states.py), plus INSTANCE_TASK_NONE for NULL. */
#define INSTANCE_TASK_STATES(X)                                         \
    X(INSTANCE_TASK_NONE, "none")                                       \
    X(INSTANCE_TASK_SCHEDULING, "scheduling")                           \
    X(INSTANCE_TASK_BLOCK_DEVICE_MAPPING, "block_device_mapping")       \
    X(INSTANCE_TASK_NETWORKING, "networking")                           \
    X(INSTANCE_TASK_SPAWNING, "spawning")                               \
    X(INSTANCE_TASK_IMAGE_SNAPSHOT, "image_snapshot")                   \
    X(INSTANCE_TASK_IMAGE_SNAPSHOT_PENDING, "image_snapshot_pending")   \
    X(INSTANCE_TASK_IMAGE_PENDING_UPLOAD, "image_pending_upload")       \
    X(INSTANCE_TASK_IMAGE_UPLOADING, "image_uploading")                 \
    X(INSTANCE_TASK_IMAGE_BACKUP, "image_backup")                       \
    X(INSTANCE_TASK_UPDATING_PASSWORD, "updating_password")             \
    X(INSTANCE_TASK_RESIZE_PREP, "resize_prep")                         \
    X(INSTANCE_TASK_RESIZE_MIGRATING, "resize_migrating")               \
    X(INSTANCE_TASK_RESIZE_MIGRATED, "resize_migrated")                 \
    X(INSTANCE_TASK_RESIZE_FINISH, "resize_finish")                     \
    X(INSTANCE_TASK_RESIZE_REVERTING, "resize_reverting")               \
    X(INSTANCE_TASK_RESIZE_CONFIRMING, "resize_confirming")             \
    X(INSTANCE_TASK_REBOOTING, "rebooting")                             \
    X(INSTANCE_TASK_REBOOT_PENDING, "reboot_pending")                   \
    X(INSTANCE_TASK_REBOOT_STARTED, "reboot_started")                   \
    X(INSTANCE_TASK_REBOOTING_HARD, "rebooting_hard")                   \
    X(INSTANCE_TASK_REBOOT_PENDING_HARD, "reboot_pending_hard")         \
    X(INSTANCE_TASK_REBOOT_STARTED_HARD, "reboot_started_hard")         \
    X(INSTANCE_TASK_PAUSING, "pausing")                                 \
    X(INSTANCE_TASK_UNPAUSING, "unpausing")                             \
    X(INSTANCE_TASK_SUSPENDING, "suspending")                           \
    X(INSTANCE_TASK_RESUMING, "resuming")                               \
    X(INSTANCE_TASK_POWERING_OFF, "powering-off")                       \
    X(INSTANCE_TASK_POWERING_ON, "powering-on")                         \
    X(INSTANCE_TASK_RESCUING, "rescuing")                               \
    X(INSTANCE_TASK_UNRESCUING, "unrescuing")                           \
    X(INSTANCE_TASK_REBUILDING, "rebuilding")                           \
    X(INSTANCE_TASK_REBUILD_BLOCK_DEVICE_MAPPING,                       \
      "rebuild_block_device_mapping")                                   \
    X(INSTANCE_TASK_REBUILD_SPAWNING, "rebuild_spawning")               \
    X(INSTANCE_TASK_MIGRATING, "migrating")                             \
    X(INSTANCE_TASK_DELETING, "deleting")                               \
    X(INSTANCE_TASK_SOFT_DELETING, "soft-deleting")                     \
    X(INSTANCE_TASK_RESTORING, "restoring")                             \
    X(INSTANCE_TASK_SHELVING, "shelving")                               \
    X(INSTANCE_TASK_SHELVING_IMAGE_PENDING_UPLOAD,                      \
      "shelving_image_pending_upload")                                  \
    X(INSTANCE_TASK_SHELVING_IMAGE_UPLOADING, "shelving_image_uploading") \
    X(INSTANCE_TASK_SHELVING_OFFLOADING, "shelving_offloading")         \
    X(INSTANCE_TASK_UNSHELVING, "unshelving")

enum instance_task_state {
#define INSTANCE_TASK_STATE_ENUM(state, name) state,
    INSTANCE_TASK_STATES(INSTANCE_TASK_STATE_ENUM)
#undef INSTANCE_TASK_STATE_ENUM
    INSTANCE_N_TASK_STATES
};

/* power_state: what the hypervisor says (nova/compute/power_state.py).
 * The numbers are Nova's and appear in the API ("OS-EXT-STS:power_state")
 * and the database; the names are Nova's STATE_MAP. */
#define INSTANCE_POWER_STATES(X)                                        \
    X(INSTANCE_POWER_NOSTATE, 0, "pending")                             \
    X(INSTANCE_POWER_RUNNING, 1, "running")                             \
    X(INSTANCE_POWER_PAUSED, 3, "paused")                               \
    X(INSTANCE_POWER_SHUTDOWN, 4, "shutdown")                           \
    X(INSTANCE_POWER_CRASHED, 6, "crashed")                             \
    X(INSTANCE_POWER_SUSPENDED, 7, "suspended")

enum instance_power_state {
#define INSTANCE_POWER_STATE_ENUM(state, number, name) state = number,
    INSTANCE_POWER_STATES(INSTANCE_POWER_STATE_ENUM)
#undef INSTANCE_POWER_STATE_ENUM
};

/* Return Nova's name of the state, or "unknown" for a value outside the
 * enum.  instance_task_state_to_string(INSTANCE_TASK_NONE) is "none", for
 * messages and logs; JSON and SQL write NULL for it (see
 * instance_task_state_to_nullable()). */
const char *instance_vm_state_to_string(enum instance_vm_state);
const char *instance_task_state_to_string(enum instance_task_state);
const char *instance_power_state_to_string(enum instance_power_state);

/* Like instance_task_state_to_string(), but NULL for INSTANCE_TASK_NONE:
 * the value for a JSON null or an SQL NULL. */
const char *instance_task_state_to_nullable(enum instance_task_state);

/* Parse Nova's name of a state (exact, case-sensitive).  Return 0 and set
 * '*ret_state', or -EINVAL for NULL or an unknown name.
 * instance_task_state_from_string() also maps NULL to INSTANCE_TASK_NONE,
 * so it reads a nullable column directly; it refuses the string "none",
 * which is no Nova task state. */
int instance_vm_state_from_string(const char *,
                                  enum instance_vm_state *ret_state);
int instance_task_state_from_string(const char *,
                                    enum instance_task_state *ret_state);
int instance_power_state_from_string(const char *,
                                     enum instance_power_state *ret_state);

/* Checks that 'value' is one of Nova's power state numbers.  Returns 0
 * and sets '*ret_state', or -EINVAL. */
int instance_power_state_from_int(long long value,
                                  enum instance_power_state *ret_state);

/* The server "status" Nova's API shows for 'vm_state' and 'task_state'
 * (nova/api/openstack/common.py, status_from_state): "ACTIVE", "BUILD",
 * "REBOOT", "HARD_REBOOT", "PASSWORD", "REBUILD", "MIGRATING", "RESIZE",
 * "VERIFY_RESIZE", "REVERT_RESIZE", "PAUSED", "SUSPENDED", "RESCUE",
 * "SHUTOFF", "ERROR", "DELETED", "SOFT_DELETED", "SHELVED",
 * "SHELVED_OFFLOADED", or "UNKNOWN" for a vm_state outside the enum.  A
 * static string. */
const char *instance_api_status(enum instance_vm_state vm_state,
                                enum instance_task_state task_state);

/* ---- The object --------------------------------------------------------- */

/* A time that is not set (JSON null, SQL NULL). */
#define INSTANCE_TIME_NONE INT64_MIN

/* Limits, in characters (Nova's columns and API limits). */
#define INSTANCE_NAME_MAX_LENGTH 255        /* display_name */
#define INSTANCE_ID_MAX_LENGTH 255          /* project_id, user_id */
#define INSTANCE_HOST_MAX_LENGTH 255        /* host, node */
#define INSTANCE_IMAGE_REF_MAX_LENGTH 255
#define INSTANCE_KEY_NAME_MAX_LENGTH 255
#define INSTANCE_KEY_DATA_MAX_LENGTH 65535
#define INSTANCE_AZ_MAX_LENGTH 255
/* Metadata: Nova's default quota of metadata items, key and value
 * lengths.  Keys are 1..255 characters, values 0..255. */
#define INSTANCE_MAX_METADATA 128
#define INSTANCE_META_KEY_MAX_LENGTH 255
#define INSTANCE_META_VALUE_MAX_LENGTH 255
/* Image: properties (same key and value lengths as metadata) and paths. */
#define INSTANCE_IMAGE_MAX_PROPERTIES 128
#define INSTANCE_IMAGE_PATH_MAX_LENGTH 4096  /* kernel, initrd, disk */
#define INSTANCE_IMAGE_CMDLINE_MAX_LENGTH 4096
#define INSTANCE_IMAGE_FORMAT_MAX_LENGTH 64
#define INSTANCE_IMAGE_URL_MAX_LENGTH 4096
#define INSTANCE_IMAGE_HASH_MAX_LENGTH 128   /* checksum, os_hash_value */
/* Largest update_seq accepted from JSON (2^53: exact in every JSON
 * reader). */
#define INSTANCE_MAX_UPDATE_SEQ (INT64_C(1) << 53)

/* One key/value pair of metadata or image properties; both owned. */
struct instance_meta {
    char *key;
    char *value;
};

/* What an instance boots from (IMAGE above).  Every string may be NULL
 * and is owned by the image; 'properties' is sorted by key without
 * duplicates (change it with instance_image_set_property()). */
struct instance_image {
    char *id;
    struct instance_meta *properties;
    size_t n_properties;
    char *kernel;
    char *initrd;
    char *cmdline;
    char *disk;
    char *disk_format;
    /* Downloads (see IMAGE above); NULL when not given. */
    char *url;
    char *checksum;
    char *os_hash_value;
    char *kernel_url;
    char *kernel_checksum;
    char *kernel_os_hash_value;
    char *initrd_url;
    char *initrd_checksum;
    char *initrd_os_hash_value;
};

/* An instance.  Members are public; every pointer is owned by the
 * instance and freed by instance_free().  Strings are NULL when not set;
 * times are milliseconds since the epoch (UTC) or INSTANCE_TIME_NONE.
 * 'metadata' is sorted by key without duplicates (change it with
 * instance_set_metadata()). */
struct instance {
    char *uuid;                         /* canonical lowercase form */
    char *display_name;
    char *project_id;
    char *user_id;
    char *host;                         /* NULL until placed */
    char *node;                         /* hypervisor_hostname */
    struct flavor *flavor;              /* snapshot taken at boot */
    char *image_ref;
    struct instance_image *image;       /* NULL: none given */
    char *key_name;
    char *key_data;
    struct instance_meta *metadata;
    size_t n_metadata;
    char *availability_zone;
    enum instance_vm_state vm_state;
    enum instance_task_state task_state;
    enum instance_power_state power_state;
    int64_t launched_at;
    int64_t terminated_at;
    int64_t created_at;
    int64_t updated_at;
    bool locked;
    int64_t update_seq;                 /* 0..INSTANCE_MAX_UPDATE_SEQ */
};

/* Returns a new instance with 'uuid' (copied; may be NULL) and defaults:
 * vm_state building, task_state none, power_state NOSTATE, every time
 * INSTANCE_TIME_NONE, no flavor, image or metadata, not locked,
 * update_seq 0.  Freed with instance_free(). */
struct instance *instance_new(const char *uuid);

/* Frees 'inst' and everything it owns.  Accepts NULL. */
void instance_free(struct instance *inst);
DEFINE_FREEP(struct instance, instance_free)

/* Returns a deep copy of 'inst' (NULL for NULL), owned by the caller. */
struct instance *instance_clone(const struct instance *inst);

/* True if 'a' and 'b' hold the same values, flavor and image included
 * (both NULL counts as equal). */
bool instance_equal(const struct instance *a, const struct instance *b);

/* Replaces the flavor of 'inst' with a copy of 'flavor' (NULL clears it). */
void instance_set_flavor(struct instance *inst, const struct flavor *flavor);

/* Sets metadata 'key' to 'value' (both copied), or removes it when 'value'
 * is NULL.  Limits are checked by instance_validate(), not here. */
void instance_set_metadata(struct instance *inst, const char *key,
                           const char *value);

/* Returns the value of metadata 'key' (owned by 'inst'), or NULL. */
const char *instance_get_metadata(const struct instance *inst,
                                  const char *key);

/* Checks every member of 'inst' against the rules instance_from_json()
 * applies (required members set, lengths, ranges, a valid flavor).
 * 'path' names the instance in messages (NULL for none).  Returns NULL or
 * an ERROR_INVALID error naming the field. */
struct error *instance_validate(const struct instance *inst,
                                const char *path) WARN_UNUSED;

/* Returns the INSTANCE form of 'inst' with every key present: a new
 * reference owned by the caller. */
struct json_object *instance_to_json(const struct instance *inst);

/* Decodes 'obj', an INSTANCE found at 'path' in its document
 * ("instances[2]"; NULL for the top level).  On success stores a new
 * instance, owned by the caller and borrowing nothing from 'obj', in
 * '*ret_inst'.  Returns NULL or an ERROR_INVALID error naming the field. */
struct error *instance_from_json(const struct json_object *obj,
                                 const char *path,
                                 struct instance **ret_inst) WARN_UNUSED;

/* ---- Image -------------------------------------------------------------- */

/* Returns a new, empty image (every member NULL).  Freed with
 * instance_image_free(), which accepts NULL. */
struct instance_image *instance_image_new(void);
void instance_image_free(struct instance_image *image);
DEFINE_FREEP(struct instance_image, instance_image_free)

/* Returns a deep copy of 'image' (NULL for NULL). */
struct instance_image *instance_image_clone(
    const struct instance_image *image);

/* True if 'a' and 'b' hold the same values (both NULL counts as equal). */
bool instance_image_equal(const struct instance_image *a,
                          const struct instance_image *b);

/* Sets property 'key' to 'value' (both copied), or removes it when 'value'
 * is NULL. */
void instance_image_set_property(struct instance_image *image,
                                 const char *key, const char *value);

/* Returns the value of property 'key' (owned by 'image'), or NULL; NULL
 * also for a NULL 'image'. */
const char *instance_image_get_property(const struct instance_image *image,
                                        const char *key);

/* The IMAGE form of 'image' (every key present): a new reference. */
struct json_object *instance_image_to_json(
    const struct instance_image *image);

/* Decodes the IMAGE 'obj' found at 'path' (as instance_from_json()).  On
 * success stores a new image, owned by the caller, in '*ret_image'. */
struct error *instance_image_from_json(const struct json_object *obj,
                                       const char *path,
                                       struct instance_image **ret_image)
    WARN_UNUSED;

/* ---- Lists -------------------------------------------------------------- */

/* A list of instances, as database queries return them. */
struct instance_list {
    struct instance **items;            /* 'n' owned instances */
    size_t n;
};

/* Returns a new, empty list. */
struct instance_list *instance_list_new(void);

/* Appends 'inst' to 'list', taking ownership of it. */
void instance_list_push(struct instance_list *list, struct instance *inst);

/* Frees 'list' and its instances.  Accepts NULL. */
void instance_list_free(struct instance_list *list);
DEFINE_FREEP(struct instance_list, instance_list_free)

/* A JSON array of the INSTANCE form of each item: a new reference. */
struct json_object *instance_list_to_json(const struct instance_list *list);

#endif /* NOVA_INSTANCE_H */
