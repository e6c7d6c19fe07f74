/* virt-spec-json.c: an instance spec to and from JSON (see
 * virt-spec-json.h).
 *
 * One table per JSON object maps each key to its member of the spec (by
 * offset) and its type, so decoding, encoding and the allowed-key lists
 * cannot drift apart. */
#include <config.h>
#include "child-cell/virt-spec-json.h"

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <json-c/json.h>

#include "child-cell/virt-driver.h"
#include "shared/cleanup.h"
#include "shared/error.h"
#include "shared/json-util.h"
#include "shared/xalloc.h"

/* At most this many keys in one object of a spec. */
#define VIRT_SPEC_JSON_MAX_KEYS 16

enum virt_spec_json_type {
    VIRT_SPEC_JSON_STRING,      /* const char * */
    VIRT_SPEC_JSON_UINT,        /* unsigned int */
};

struct virt_spec_json_field {
    const char *key;
    enum virt_spec_json_type type;
    size_t offset;              /* In 'struct virt_instance_spec'. */
    bool required;
    long long max;              /* For VIRT_SPEC_JSON_UINT. */
};

#define STR(KEY, MEMBER, REQUIRED) \
    { KEY, VIRT_SPEC_JSON_STRING, \
      offsetof(struct virt_instance_spec, MEMBER), REQUIRED, 0 }
#define UINT(KEY, MEMBER, REQUIRED, MAX) \
    { KEY, VIRT_SPEC_JSON_UINT, \
      offsetof(struct virt_instance_spec, MEMBER), REQUIRED, MAX }

static const struct virt_spec_json_field virt_spec_json_top[] = {
    STR("uuid", uuid, true),
    STR("name", name, true),
    STR("display_name", display_name, false),
    STR("created_at", created_at, false),
    STR("arch", arch, false),
    STR("machine", machine, false),
    STR("serial_log", serial_log_path, false),
};

static const struct virt_spec_json_field virt_spec_json_flavor[] = {
    STR("name", flavor.name, true),
    UINT("vcpus", flavor.vcpus, true, UINT_MAX),
    UINT("memory_mb", flavor.memory_mb, true, UINT_MAX),
    UINT("root_gb", flavor.root_gb, false, UINT_MAX),
    UINT("ephemeral_gb", flavor.ephemeral_gb, false, UINT_MAX),
    UINT("swap_mb", flavor.swap_mb, false, UINT_MAX),
};

static const struct virt_spec_json_field virt_spec_json_image[] = {
    STR("kernel", image.kernel_path, false),
    STR("initrd", image.initrd_path, false),
    STR("cmdline", image.cmdline, false),
    STR("disk", image.disk_path, false),
    STR("disk_format", image.disk_format, false),
};

static const struct virt_spec_json_field virt_spec_json_owner[] = {
    STR("user_id", owner.user_id, false),
    STR("user_name", owner.user_name, false),
    STR("project_id", owner.project_id, false),
    STR("project_name", owner.project_name, false),
};

static const struct virt_spec_json_field virt_spec_json_vnc[] = {
    STR("listen", vnc_listen, false),
    UINT("port", vnc_port, false, 65535),
};

#undef STR
#undef UINT

/* The nested objects: key in the top object, whether it is required, and
 * its fields. */
static const struct {
    const char *key;
    bool required;
    const struct virt_spec_json_field *fields;
    size_t n_fields;
} virt_spec_json_objects[] = {
    { "flavor", true, virt_spec_json_flavor,
      ARRAY_SIZE(virt_spec_json_flavor) },
    { "image", false, virt_spec_json_image,
      ARRAY_SIZE(virt_spec_json_image) },
    { "owner", false, virt_spec_json_owner,
      ARRAY_SIZE(virt_spec_json_owner) },
    { "vnc", false, virt_spec_json_vnc, ARRAY_SIZE(virt_spec_json_vnc) },
};

/* Keys of the top object besides its fields. */
static const char *const virt_spec_json_top_extra[] = {
    "domain_type", "flavor", "image", "owner", "vnc",
};

static const char **
virt_spec_json_member(struct virt_instance_spec *spec,
                      const struct virt_spec_json_field *field)
{
    return (const char **) ((char *) spec + field->offset);
}

static unsigned int *
virt_spec_json_uint_member(struct virt_instance_spec *spec,
                           const struct virt_spec_json_field *field)
{
    return (unsigned int *) ((char *) spec + field->offset);
}

/* Decodes 'fields' of 'obj' (named 'path') into 'spec'. */
static struct error *
virt_spec_json_decode_fields(const struct json_object *obj, const char *path,
                             const struct virt_spec_json_field *fields,
                             size_t n_fields,
                             const char *const *extra_keys,
                             size_t n_extra_keys,
                             struct virt_instance_spec *spec)
{
    const char *allowed[VIRT_SPEC_JSON_MAX_KEYS + 1];
    size_t n_allowed = 0;
    struct error *error;

    for (size_t i = 0; i < n_fields; i++) {
        allowed[n_allowed++] = fields[i].key;
    }
    for (size_t i = 0; i < n_extra_keys; i++) {
        allowed[n_allowed++] = extra_keys[i];
    }
    allowed[n_allowed] = NULL;
    if ((error = json_check_allowed_keys(obj, path, allowed))) {
        return error;
    }

    for (size_t i = 0; i < n_fields; i++) {
        const struct virt_spec_json_field *field = &fields[i];

        if (field->type == VIRT_SPEC_JSON_STRING) {
            error = json_get_string(obj, path, field->key, field->required,
                                    0, virt_spec_json_member(spec, field));
        } else {
            long long value = -1;

            error = json_get_int(obj, path, field->key, field->required, 0,
                                 field->max, &value);
            if (!error && value >= 0) {
                *virt_spec_json_uint_member(spec, field) =
                    (unsigned int) value;
            }
        }
        if (error) {
            return error;
        }
    }
    return NULL;
}

struct error *
virt_spec_json_decode(const struct json_object *obj,
                      struct virt_instance_spec *ret_spec)
{
    struct virt_instance_spec spec;
    const char *domain_type = NULL;
    struct error *error;

    memset(&spec, 0, sizeof spec);
    /* The key check also rejects a document that is not an object. */
    if ((error = virt_spec_json_decode_fields(
                obj, NULL, virt_spec_json_top,
                ARRAY_SIZE(virt_spec_json_top), virt_spec_json_top_extra,
                ARRAY_SIZE(virt_spec_json_top_extra), &spec))
        || (error = json_get_string(obj, NULL, "domain_type", true, 0,
                                    &domain_type))) {
        return error;
    }
    if (virt_domain_type_from_string(domain_type, &spec.domain_type)) {
        return error_new(ERROR_INVALID,
                         "Unknown domain type '%s' (expected qemu, kvm or "
                         "test)", domain_type);
    }
    for (size_t i = 0; i < ARRAY_SIZE(virt_spec_json_objects); i++) {
        struct json_object *sub = NULL;

        error = json_get_object(obj, NULL, virt_spec_json_objects[i].key,
                                virt_spec_json_objects[i].required, &sub);
        if (!error && sub) {
            error = virt_spec_json_decode_fields(
                sub, virt_spec_json_objects[i].key,
                virt_spec_json_objects[i].fields,
                virt_spec_json_objects[i].n_fields, NULL, 0, &spec);
        }
        if (error) {
            return error;
        }
    }
    *ret_spec = spec;
    return NULL;
}

/* Adds the set 'fields' of 'spec' to 'obj'; returns true if any was. */
static bool
virt_spec_json_encode_fields(struct json_object *obj,
                             const struct virt_spec_json_field *fields,
                             size_t n_fields,
                             const struct virt_instance_spec *spec)
{
    struct virt_instance_spec *s = (struct virt_instance_spec *) spec;
    bool any = false;

    for (size_t i = 0; i < n_fields; i++) {
        const struct virt_spec_json_field *field = &fields[i];

        if (field->type == VIRT_SPEC_JSON_STRING) {
            const char *value = *virt_spec_json_member(s, field);

            if (value) {
                json_object_object_add(obj, field->key,
                                       json_object_new_string(value));
                any = true;
            }
        } else {
            unsigned int value = *virt_spec_json_uint_member(s, field);

            /* Optional numbers are left out when zero (their default). */
            if (value || field->required) {
                json_object_object_add(obj, field->key,
                                       json_object_new_int64(value));
                any = true;
            }
        }
    }
    return any;
}

struct json_object *
virt_spec_json_encode(const struct virt_instance_spec *spec)
{
    struct json_object *obj = json_object_new_object();
    const char *domain_type = virt_domain_type_to_string(spec->domain_type);

    virt_spec_json_encode_fields(obj, virt_spec_json_top,
                                 ARRAY_SIZE(virt_spec_json_top), spec);
    if (domain_type) {
        json_object_object_add(obj, "domain_type",
                               json_object_new_string(domain_type));
    }
    for (size_t i = 0; i < ARRAY_SIZE(virt_spec_json_objects); i++) {
        struct json_object *sub = json_object_new_object();

        if (virt_spec_json_encode_fields(sub,
                                         virt_spec_json_objects[i].fields,
                                         virt_spec_json_objects[i].n_fields,
                                         spec)
            || virt_spec_json_objects[i].required) {
            json_object_object_add(obj, virt_spec_json_objects[i].key, sub);
        } else {
            json_object_put(sub);
        }
    }
    return obj;
}
