/* flavor.h: the flavor object (an instance's size) and its JSON form.
 *
 * A flavor says how big an instance is: vCPUs, RAM, root and ephemeral
 * disk, swap, and free-form "extra specs" that drivers and filters read
 * (hw:cpu_policy, ...).  Instances carry a snapshot of their flavor taken
 * at boot time (shared/instance.h), so that a later change of the flavor
 * in the API database never changes what a running instance claims.
 *
 * JSON form (the FLAVOR shape of child-cell/rpcapi.h):
 *
 *     {"flavorid": "1", "name": "m1.tiny", "vcpus": 1, "memory_mb": 512,
 *      "root_gb": 1, "ephemeral_gb": 0, "swap": 0,
 *      "extra_specs": {"hw:cpu_policy": "dedicated"}}
 *
 * flavor_from_json() is strict: "flavorid", "name", "vcpus", "memory_mb"
 * and "root_gb" are required, "ephemeral_gb" and "swap" default to 0 and
 * "extra_specs" to {}; every value must have exactly its JSON type (no
 * numbers in strings), stay within the limits below, and no other key is
 * allowed (new keys come with a new RPC version).  Every failure is an
 * ERROR_INVALID error naming the field, as shared/json-util.h does.
 * flavor_to_json() writes every key, so its output always decodes back to
 * an equal flavor.
 *
 * Units follow Nova: memory and swap in MiB, disks in GiB.
 *
 * Threads: a flavor is plain data; share it read-only or clone it. */
#ifndef NOVA_FLAVOR_H
#define NOVA_FLAVOR_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "shared/compiler.h"
#include "shared/cleanup.h"

struct error;
struct json_object;

/* Longest 'flavorid' and 'name', in characters (Nova's columns). */
#define FLAVOR_ID_MAX_LENGTH 255
#define FLAVOR_NAME_MAX_LENGTH 255
/* Largest vcpus, memory_mb, root_gb, ephemeral_gb and swap: Nova's
 * db.MAX_INT, the largest value of a signed 32-bit column. */
#define FLAVOR_MAX_INT INT64_C(2147483647)
/* Extra specs: at most this many, keys of 1 to FLAVOR_SPEC_KEY_MAX_LENGTH
 * characters and values of at most FLAVOR_SPEC_VALUE_MAX_LENGTH, as
 * Nova's flavor extra specs API allows. */
#define FLAVOR_MAX_EXTRA_SPECS 128
#define FLAVOR_SPEC_KEY_MAX_LENGTH 255
#define FLAVOR_SPEC_VALUE_MAX_LENGTH 255

/* One extra spec.  Both strings are owned by the flavor. */
struct flavor_spec {
    char *key;
    char *value;
};

/* A flavor.  Members are public; every string is owned by the flavor and
 * freed by flavor_free().  'extra_specs' is sorted by key (strcmp order)
 * without duplicates: keep it so by changing it only through
 * flavor_set_extra_spec(). */
struct flavor {
    char *flavorid;             /* API id: "1", "m1.tiny" or a UUID */
    char *name;
    int64_t vcpus;              /* 1..FLAVOR_MAX_INT */
    int64_t memory_mb;          /* 1..FLAVOR_MAX_INT */
    int64_t root_gb;            /* 0..FLAVOR_MAX_INT (0: volume-backed) */
    int64_t ephemeral_gb;       /* 0..FLAVOR_MAX_INT */
    int64_t swap;               /* MiB, 0..FLAVOR_MAX_INT */
    struct flavor_spec *extra_specs;
    size_t n_extra_specs;
};

/* Returns a new flavor with the given id and name (copied; NULL allowed
 * and left NULL), zero sizes and no extra specs.  The caller fills in the
 * sizes and frees it with flavor_free(). */
struct flavor *flavor_new(const char *flavorid, const char *name);

/* Frees 'flavor' and everything it owns.  Accepts NULL. */
void flavor_free(struct flavor *flavor);
DEFINE_FREEP(struct flavor, flavor_free)

/* Returns a deep copy of 'flavor' (NULL for NULL), owned by the caller. */
struct flavor *flavor_clone(const struct flavor *flavor);

/* True if 'a' and 'b' hold the same values (both NULL counts as equal). */
bool flavor_equal(const struct flavor *a, const struct flavor *b);

/* Sets extra spec 'key' to 'value' (both copied), replacing an existing
 * value, or removes 'key' when 'value' is NULL.  Keeps the list sorted.
 * Does not check the limits above: flavor_validate() does. */
void flavor_set_extra_spec(struct flavor *flavor, const char *key,
                           const char *value);

/* Returns the value of extra spec 'key' (owned by 'flavor'), or NULL. */
const char *flavor_get_extra_spec(const struct flavor *flavor,
                                  const char *key);

/* The local disk an instance of 'flavor' uses, in GiB, as Nova's placement
 * counts DISK_GB: root_gb + ephemeral_gb + swap rounded up to whole GiB.
 * This is what compute-node claims count (child-cell/cell-db-node.h). */
int64_t flavor_disk_gb(const struct flavor *flavor);

/* Checks every member of 'flavor' against the limits above, as
 * flavor_from_json() does for its input.  'path' names the flavor in the
 * message ("instance.flavor"; NULL for none).  Returns NULL or an
 * ERROR_INVALID error naming the field, owned by the caller. */
struct error *flavor_validate(const struct flavor *flavor, const char *path)
    WARN_UNUSED;

/* Returns the JSON form of 'flavor' (every key present): a new reference
 * owned by the caller. */
struct json_object *flavor_to_json(const struct flavor *flavor);

/* Decodes 'obj', a FLAVOR object found at 'path' in its document ("spec.
 * flavor"; NULL for the top level: messages then name bare fields).  On
 * success stores a new flavor, owned by the caller, in '*ret_flavor';
 * nothing of 'obj' is borrowed.  Returns NULL or an ERROR_INVALID error
 * naming the field. */
struct error *flavor_from_json(const struct json_object *obj,
                               const char *path, struct flavor **ret_flavor)
    WARN_UNUSED;

#endif /* NOVA_FLAVOR_H */
