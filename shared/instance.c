/* instance.c: the instance object, its states and its JSON form (see
 * instance.h).
 *
 * Decoding runs on RPC input, so nothing here asserts on values: every
 * bad shape becomes an ERROR_INVALID error whose message names the field
 * in the words of shared/json-util.h. */
#include <config.h>
#include "shared/instance.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "shared/cleanup.h"
#include "shared/error.h"
#include "shared/flavor.h"
#include "shared/json-util.h"
#include "shared/timeutil.h"
#include "shared/uuid-util.h"
#include "shared/xalloc.h"

static const char *const instance_json_keys[] = {
    "uuid", "display_name", "project_id", "user_id", "host", "node",
    "flavor", "image_ref", "image", "key_name", "key_data", "metadata",
    "availability_zone", "vm_state", "task_state", "power_state",
    "launched_at", "terminated_at", "created_at", "updated_at", "locked",
    "update_seq", NULL,
};

static const char *const instance_image_json_keys[] = {
    "id", "properties", "kernel", "initrd", "cmdline", "disk",
    "disk_format", "url", "checksum", "os_hash_value", "kernel_url",
    "kernel_checksum", "kernel_os_hash_value", "initrd_url",
    "initrd_checksum", "initrd_os_hash_value", NULL,
};

/* ---- States ----------------------------------------------------------- */

static const char *const instance_vm_state_names[] = {
#define INSTANCE_VM_STATE_NAME(state, name) [state] = name,
    INSTANCE_VM_STATES(INSTANCE_VM_STATE_NAME)
#undef INSTANCE_VM_STATE_NAME
};

static const char *const instance_task_state_names[] = {
#define INSTANCE_TASK_STATE_NAME(state, name) [state] = name,
    INSTANCE_TASK_STATES(INSTANCE_TASK_STATE_NAME)
#undef INSTANCE_TASK_STATE_NAME
};

static const struct {
    enum instance_power_state state;
    const char *name;
} instance_power_states[] = {
#define INSTANCE_POWER_STATE_ENTRY(state, number, name) { state, name },
    INSTANCE_POWER_STATES(INSTANCE_POWER_STATE_ENTRY)
#undef INSTANCE_POWER_STATE_ENTRY
};

const char *
instance_vm_state_to_string(enum instance_vm_state state)
{
    return (size_t) state < ARRAY_SIZE(instance_vm_state_names)
           ? instance_vm_state_names[state] : "unknown";
}

const char *
instance_task_state_to_string(enum instance_task_state state)
{
    return (size_t) state < ARRAY_SIZE(instance_task_state_names)
           ? instance_task_state_names[state] : "unknown";
}

const char *
instance_task_state_to_nullable(enum instance_task_state state)
{
    return state == INSTANCE_TASK_NONE
           ? NULL : instance_task_state_to_string(state);
}

const char *
instance_power_state_to_string(enum instance_power_state state)
{
    for (size_t i = 0; i < ARRAY_SIZE(instance_power_states); i++) {
        if (instance_power_states[i].state == state) {
            return instance_power_states[i].name;
        }
    }
    return "unknown";
}

int
instance_vm_state_from_string(const char *s,
                              enum instance_vm_state *ret_state)
{
    for (size_t i = 0; s && i < ARRAY_SIZE(instance_vm_state_names); i++) {
        if (!strcmp(s, instance_vm_state_names[i])) {
            *ret_state = (enum instance_vm_state) i;
            return 0;
        }
    }
    return -EINVAL;
}

int
instance_task_state_from_string(const char *s,
                                enum instance_task_state *ret_state)
{
    if (!s) {
        *ret_state = INSTANCE_TASK_NONE;
        return 0;
    }
    /* INSTANCE_TASK_NONE's "none" is for messages only: skip it. */
    for (size_t i = INSTANCE_TASK_NONE + 1;
         i < ARRAY_SIZE(instance_task_state_names); i++) {
        if (!strcmp(s, instance_task_state_names[i])) {
            *ret_state = (enum instance_task_state) i;
            return 0;
        }
    }
    return -EINVAL;
}

int
instance_power_state_from_string(const char *s,
                                 enum instance_power_state *ret_state)
{
    for (size_t i = 0; s && i < ARRAY_SIZE(instance_power_states); i++) {
        if (!strcmp(s, instance_power_states[i].name)) {
            *ret_state = instance_power_states[i].state;
            return 0;
        }
    }
    return -EINVAL;
}

int
instance_power_state_from_int(long long value,
                              enum instance_power_state *ret_state)
{
    for (size_t i = 0; i < ARRAY_SIZE(instance_power_states); i++) {
        if ((long long) instance_power_states[i].state == value) {
            *ret_state = instance_power_states[i].state;
            return 0;
        }
    }
    return -EINVAL;
}

/* Nova's _STATE_MAP for the task states that change the status of an
 * active or stopped instance. */
static const char *
instance_api_status_of_task(enum instance_task_state task)
{
    switch (task) {
    case INSTANCE_TASK_REBOOTING:
    case INSTANCE_TASK_REBOOT_PENDING:
    case INSTANCE_TASK_REBOOT_STARTED:
        return "REBOOT";
    case INSTANCE_TASK_REBOOTING_HARD:
    case INSTANCE_TASK_REBOOT_PENDING_HARD:
    case INSTANCE_TASK_REBOOT_STARTED_HARD:
        return "HARD_REBOOT";
    case INSTANCE_TASK_UPDATING_PASSWORD:
        return "PASSWORD";
    case INSTANCE_TASK_REBUILDING:
    case INSTANCE_TASK_REBUILD_BLOCK_DEVICE_MAPPING:
    case INSTANCE_TASK_REBUILD_SPAWNING:
        return "REBUILD";
    case INSTANCE_TASK_MIGRATING:
        return "MIGRATING";
    case INSTANCE_TASK_RESIZE_PREP:
    case INSTANCE_TASK_RESIZE_MIGRATING:
    case INSTANCE_TASK_RESIZE_MIGRATED:
    case INSTANCE_TASK_RESIZE_FINISH:
        return "RESIZE";
    default:
        return NULL;
    }
}

const char *
instance_api_status(enum instance_vm_state vm_state,
                    enum instance_task_state task_state)
{
    const char *by_task = instance_api_status_of_task(task_state);

    switch (vm_state) {
    case INSTANCE_VM_ACTIVE:
        return by_task ? by_task : "ACTIVE";
    case INSTANCE_VM_BUILDING:
        return "BUILD";
    case INSTANCE_VM_STOPPED:
        /* A stopped instance can be resized or rebuilt, not rebooted,
         * migrated or given a password. */
        if (by_task && (!strcmp(by_task, "RESIZE")
                        || !strcmp(by_task, "REBUILD"))) {
            return by_task;
        }
        return "SHUTOFF";
    case INSTANCE_VM_RESIZED:
        return task_state == INSTANCE_TASK_RESIZE_REVERTING
               ? "REVERT_RESIZE" : "VERIFY_RESIZE";
    case INSTANCE_VM_PAUSED:
        return task_state == INSTANCE_TASK_MIGRATING ? "MIGRATING"
                                                     : "PAUSED";
    case INSTANCE_VM_SUSPENDED:
        return "SUSPENDED";
    case INSTANCE_VM_RESCUED:
        return "RESCUE";
    case INSTANCE_VM_ERROR:
        return by_task && !strcmp(by_task, "REBUILD") ? by_task : "ERROR";
    case INSTANCE_VM_DELETED:
        return "DELETED";
    case INSTANCE_VM_SOFT_DELETED:
        return "SOFT_DELETED";
    case INSTANCE_VM_SHELVED:
        return "SHELVED";
    case INSTANCE_VM_SHELVED_OFFLOADED:
        return "SHELVED_OFFLOADED";
    case INSTANCE_N_VM_STATES:
    default:
        return "UNKNOWN";
    }
}

/* ---- Key/value lists (metadata, image properties) --------------------- */

/* Returns the index of 'key' in the sorted 'items', or the index where it
 * would go with '*ret_found' false. */
static size_t
instance_meta_find(const struct instance_meta *items, size_t n,
                   const char *key, bool *ret_found)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = strcmp(items[mid].key, key);

        if (!cmp) {
            *ret_found = true;
            return mid;
        }
        if (cmp < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    *ret_found = false;
    return lo;
}

static void
instance_meta_set(struct instance_meta **items, size_t *n, const char *key,
                  const char *value)
{
    bool found;
    size_t i = instance_meta_find(*items, *n, key, &found);

    if (found) {
        struct instance_meta *item = &(*items)[i];

        if (value) {
            free(item->value);
            item->value = xstrdup(value);
        } else {
            free(item->key);
            free(item->value);
            memmove(item, item + 1, (*n - i - 1) * sizeof *item);
            (*n)--;
        }
        return;
    }
    if (!value) {
        return;
    }
    *items = xreallocarray(*items, *n + 1, sizeof **items);
    memmove(&(*items)[i + 1], &(*items)[i], (*n - i) * sizeof **items);
    (*items)[i].key = xstrdup(key);
    (*items)[i].value = xstrdup(value);
    (*n)++;
}

static const char *
instance_meta_get(const struct instance_meta *items, size_t n,
                  const char *key)
{
    bool found;
    size_t i = instance_meta_find(items, n, key, &found);

    return found ? items[i].value : NULL;
}

static void
instance_meta_free(struct instance_meta *items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(items[i].key);
        free(items[i].value);
    }
    free(items);
}

static struct instance_meta *
instance_meta_clone(const struct instance_meta *items, size_t n)
{
    struct instance_meta *copy;

    if (!n) {
        return NULL;
    }
    copy = xcalloc(n, sizeof *copy);
    for (size_t i = 0; i < n; i++) {
        copy[i].key = xstrdup(items[i].key);
        copy[i].value = xstrdup(items[i].value);
    }
    return copy;
}

static bool
instance_meta_equal(const struct instance_meta *a, size_t n_a,
                    const struct instance_meta *b, size_t n_b)
{
    if (n_a != n_b) {
        return false;
    }
    for (size_t i = 0; i < n_a; i++) {
        if (strcmp(a[i].key, b[i].key) || strcmp(a[i].value, b[i].value)) {
            return false;
        }
    }
    return true;
}

static struct json_object *
instance_meta_to_json(const struct instance_meta *items, size_t n)
{
    struct json_object *obj = json_object_new_object();

    for (size_t i = 0; i < n; i++) {
        json_object_object_add(obj, items[i].key,
                               json_object_new_string(items[i].value));
    }
    return obj;
}

/* ---- Messages --------------------------------------------------------- */

/* Returns "path.field" (or "field" without a path), owned by the
 * caller. */
static char *
instance_field_name(const char *path, const char *field)
{
    return path ? xasprintf("%s.%s", path, field) : xstrdup(field);
}

static struct error * PRINTF_FMT(3, 4)
instance_field_error(const char *path, const char *field, const char *fmt,
                     ...)
{
    AUTOFREE char *name = instance_field_name(path, field);
    AUTOFREE char *detail = NULL;
    va_list args;

    va_start(args, fmt);
    detail = xvasprintf(fmt, args);
    va_end(args);
    return error_new(ERROR_INVALID,
                     "Invalid input for field/attribute '%s'. %s", name,
                     detail);
}

/* The number of characters of the UTF-8 string 's'. */
static size_t
instance_utf8_length(const char *s)
{
    size_t n = 0;

    for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
        n += (*p & 0xc0) != 0x80;
    }
    return n;
}

/* ---- JSON decoding helpers -------------------------------------------- */

/* True if 'field' of the object 'obj' is present and JSON null. */
static bool
instance_json_is_null(const struct json_object *obj, const char *field)
{
    struct json_object *value;

    return json_object_object_get_ex(obj, field, &value) && !value;
}

/* Reads the string 'field' of 'obj', which may be absent or null (then
 * '*ret' is left as is, or set to NULL), into a copy stored in '*ret'. */
static struct error *
instance_get_opt_string(const struct json_object *obj, const char *path,
                        const char *field, size_t max_length, char **ret)
{
    const char *s = NULL;
    struct error *error;

    if (instance_json_is_null(obj, field)) {
        free(*ret);
        *ret = NULL;
        return NULL;
    }
    error = json_get_string(obj, path, field, false, max_length, &s);
    if (!error && s) {
        free(*ret);
        *ret = xstrdup(s);
    }
    return error;
}

/* Reads the required, non-empty string 'field' of 'obj' into a copy. */
static struct error *
instance_get_req_string(const struct json_object *obj, const char *path,
                        const char *field, size_t max_length, char **ret)
{
    const char *s;
    struct error *error = json_get_string(obj, path, field, true,
                                          max_length, &s);

    if (error) {
        return error;
    }
    if (!*s) {
        return instance_field_error(path, field,
                                    "Value: \"\". \"\" is too short");
    }
    free(*ret);
    *ret = xstrdup(s);
    return NULL;
}

/* Reads the optional, nullable time 'field' into '*ret' (ms). */
static struct error *
instance_get_time(const struct json_object *obj, const char *path,
                  const char *field, int64_t *ret)
{
    const char *s = NULL;
    int64_t ms;
    struct error *error;

    if (instance_json_is_null(obj, field)) {
        *ret = INSTANCE_TIME_NONE;
        return NULL;
    }
    error = json_get_string(obj, path, field, false, TIME_ISO8601_SIZE * 2,
                            &s);
    if (error || !s) {
        return error;
    }
    if (time_parse_iso8601(s, &ms)) {
        return instance_field_error(path, field,
                                    "Value: \"%s\". \"%s\" is not a "
                                    "'date-time'", s, s);
    }
    *ret = ms;
    return NULL;
}

/* Reads the optional object 'field' of string values into a sorted
 * list. */
static struct error *
instance_get_meta(const struct json_object *obj, const char *path,
                  const char *field, size_t max_items,
                  struct instance_meta **items, size_t *n)
{
    struct json_object *map = NULL;
    AUTOFREE char *map_path = NULL;
    struct error *error = json_get_object(obj, path, field, false, &map);

    if (error || !map) {
        return error;
    }
    if ((size_t) json_object_object_length(map) > max_items) {
        return instance_field_error(path, field,
                                    "%d items, the maximum is %zu",
                                    json_object_object_length(map),
                                    max_items);
    }
    map_path = instance_field_name(path, field);
    json_object_object_foreach(map, key, value) {
        size_t length = instance_utf8_length(key);
        const char *s;

        (void) value;
        if (!length || length > INSTANCE_META_KEY_MAX_LENGTH) {
            return instance_field_error(map_path, key,
                                        "Key length %zu is outside 1..%d "
                                        "characters", length,
                                        INSTANCE_META_KEY_MAX_LENGTH);
        }
        error = json_get_string(map, map_path, key, true,
                                INSTANCE_META_VALUE_MAX_LENGTH, &s);
        if (error) {
            return error;
        }
        instance_meta_set(items, n, key, s);
    }
    return NULL;
}

/* ---- Image ------------------------------------------------------------ */

struct instance_image *
instance_image_new(void)
{
    return xzalloc(sizeof (struct instance_image));
}

void
instance_image_free(struct instance_image *image)
{
    if (!image) {
        return;
    }
    instance_meta_free(image->properties, image->n_properties);
    free(image->id);
    free(image->kernel);
    free(image->initrd);
    free(image->cmdline);
    free(image->disk);
    free(image->disk_format);
    free(image->url);
    free(image->checksum);
    free(image->os_hash_value);
    free(image->kernel_url);
    free(image->kernel_checksum);
    free(image->kernel_os_hash_value);
    free(image->initrd_url);
    free(image->initrd_checksum);
    free(image->initrd_os_hash_value);
    free(image);
}

struct instance_image *
instance_image_clone(const struct instance_image *image)
{
    struct instance_image *copy;

    if (!image) {
        return NULL;
    }
    copy = instance_image_new();
    copy->id = xstrdup_or_null(image->id);
    copy->properties = instance_meta_clone(image->properties,
                                           image->n_properties);
    copy->n_properties = image->n_properties;
    copy->kernel = xstrdup_or_null(image->kernel);
    copy->initrd = xstrdup_or_null(image->initrd);
    copy->cmdline = xstrdup_or_null(image->cmdline);
    copy->disk = xstrdup_or_null(image->disk);
    copy->disk_format = xstrdup_or_null(image->disk_format);
    copy->url = xstrdup_or_null(image->url);
    copy->checksum = xstrdup_or_null(image->checksum);
    copy->os_hash_value = xstrdup_or_null(image->os_hash_value);
    copy->kernel_url = xstrdup_or_null(image->kernel_url);
    copy->kernel_checksum = xstrdup_or_null(image->kernel_checksum);
    copy->kernel_os_hash_value = xstrdup_or_null(image->kernel_os_hash_value);
    copy->initrd_url = xstrdup_or_null(image->initrd_url);
    copy->initrd_checksum = xstrdup_or_null(image->initrd_checksum);
    copy->initrd_os_hash_value = xstrdup_or_null(image->initrd_os_hash_value);
    return copy;
}

static bool
instance_str_equal(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

bool
instance_image_equal(const struct instance_image *a,
                     const struct instance_image *b)
{
    if (!a || !b) {
        return a == b;
    }
    return instance_str_equal(a->id, b->id)
           && instance_meta_equal(a->properties, a->n_properties,
                                  b->properties, b->n_properties)
           && instance_str_equal(a->kernel, b->kernel)
           && instance_str_equal(a->initrd, b->initrd)
           && instance_str_equal(a->cmdline, b->cmdline)
           && instance_str_equal(a->disk, b->disk)
           && instance_str_equal(a->disk_format, b->disk_format)
           && instance_str_equal(a->url, b->url)
           && instance_str_equal(a->checksum, b->checksum)
           && instance_str_equal(a->os_hash_value, b->os_hash_value)
           && instance_str_equal(a->kernel_url, b->kernel_url)
           && instance_str_equal(a->kernel_checksum, b->kernel_checksum)
           && instance_str_equal(a->kernel_os_hash_value,
                                 b->kernel_os_hash_value)
           && instance_str_equal(a->initrd_url, b->initrd_url)
           && instance_str_equal(a->initrd_checksum, b->initrd_checksum)
           && instance_str_equal(a->initrd_os_hash_value,
                                 b->initrd_os_hash_value);
}

void
instance_image_set_property(struct instance_image *image, const char *key,
                            const char *value)
{
    instance_meta_set(&image->properties, &image->n_properties, key, value);
}

const char *
instance_image_get_property(const struct instance_image *image,
                            const char *key)
{
    return image ? instance_meta_get(image->properties, image->n_properties,
                                     key)
                 : NULL;
}

static struct json_object *
instance_json_string(const char *s)
{
    return s ? json_object_new_string(s) : NULL;
}

/* Adds the optional download keys of 'image' that are set to 'obj'. */
static void
instance_image_download_to_json(const struct instance_image *image,
                                struct json_object *obj)
{
    const struct {
        const char *key;
        const char *value;
    } keys[] = {
        { "url", image->url },
        { "checksum", image->checksum },
        { "os_hash_value", image->os_hash_value },
        { "kernel_url", image->kernel_url },
        { "kernel_checksum", image->kernel_checksum },
        { "kernel_os_hash_value", image->kernel_os_hash_value },
        { "initrd_url", image->initrd_url },
        { "initrd_checksum", image->initrd_checksum },
        { "initrd_os_hash_value", image->initrd_os_hash_value },
    };

    for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
        if (keys[i].value) {
            json_object_object_add(obj, keys[i].key,
                                   json_object_new_string(keys[i].value));
        }
    }
}

struct json_object *
instance_image_to_json(const struct instance_image *image)
{
    struct json_object *obj = json_object_new_object();

    json_object_object_add(obj, "id", instance_json_string(image->id));
    json_object_object_add(obj, "properties",
                           instance_meta_to_json(image->properties,
                                                 image->n_properties));
    json_object_object_add(obj, "kernel",
                           instance_json_string(image->kernel));
    json_object_object_add(obj, "initrd",
                           instance_json_string(image->initrd));
    json_object_object_add(obj, "cmdline",
                           instance_json_string(image->cmdline));
    json_object_object_add(obj, "disk", instance_json_string(image->disk));
    json_object_object_add(obj, "disk_format",
                           instance_json_string(image->disk_format));
    instance_image_download_to_json(image, obj);
    return obj;
}

struct error *
instance_image_from_json(const struct json_object *obj, const char *path,
                         struct instance_image **ret_image)
{
    CLEANUP(instance_image_freep) struct instance_image *image =
        instance_image_new();
    struct error *error;

    if ((error = json_check_allowed_keys(obj, path,
                                         instance_image_json_keys))
        || (error = instance_get_opt_string(obj, path, "id",
                                            INSTANCE_IMAGE_REF_MAX_LENGTH,
                                            &image->id))
        || (error = instance_get_meta(obj, path, "properties",
                                      INSTANCE_IMAGE_MAX_PROPERTIES,
                                      &image->properties,
                                      &image->n_properties))
        || (error = instance_get_opt_string(obj, path, "kernel",
                                            INSTANCE_IMAGE_PATH_MAX_LENGTH,
                                            &image->kernel))
        || (error = instance_get_opt_string(obj, path, "initrd",
                                            INSTANCE_IMAGE_PATH_MAX_LENGTH,
                                            &image->initrd))
        || (error = instance_get_opt_string(
                obj, path, "cmdline", INSTANCE_IMAGE_CMDLINE_MAX_LENGTH,
                &image->cmdline))
        || (error = instance_get_opt_string(obj, path, "disk",
                                            INSTANCE_IMAGE_PATH_MAX_LENGTH,
                                            &image->disk))
        || (error = instance_get_opt_string(
                obj, path, "disk_format", INSTANCE_IMAGE_FORMAT_MAX_LENGTH,
                &image->disk_format))
        || (error = instance_get_opt_string(
                obj, path, "url", INSTANCE_IMAGE_URL_MAX_LENGTH,
                &image->url))
        || (error = instance_get_opt_string(
                obj, path, "checksum", INSTANCE_IMAGE_HASH_MAX_LENGTH,
                &image->checksum))
        || (error = instance_get_opt_string(
                obj, path, "os_hash_value", INSTANCE_IMAGE_HASH_MAX_LENGTH,
                &image->os_hash_value))
        || (error = instance_get_opt_string(
                obj, path, "kernel_url", INSTANCE_IMAGE_URL_MAX_LENGTH,
                &image->kernel_url))
        || (error = instance_get_opt_string(
                obj, path, "kernel_checksum", INSTANCE_IMAGE_HASH_MAX_LENGTH,
                &image->kernel_checksum))
        || (error = instance_get_opt_string(
                obj, path, "kernel_os_hash_value",
                INSTANCE_IMAGE_HASH_MAX_LENGTH,
                &image->kernel_os_hash_value))
        || (error = instance_get_opt_string(
                obj, path, "initrd_url", INSTANCE_IMAGE_URL_MAX_LENGTH,
                &image->initrd_url))
        || (error = instance_get_opt_string(
                obj, path, "initrd_checksum", INSTANCE_IMAGE_HASH_MAX_LENGTH,
                &image->initrd_checksum))
        || (error = instance_get_opt_string(
                obj, path, "initrd_os_hash_value",
                INSTANCE_IMAGE_HASH_MAX_LENGTH,
                &image->initrd_os_hash_value))) {
        return error;
    }
    *ret_image = TAKE_PTR(image);
    return NULL;
}

/* ---- Life cycle ------------------------------------------------------- */

struct instance *
instance_new(const char *uuid)
{
    struct instance *inst = xzalloc(sizeof *inst);

    inst->uuid = xstrdup_or_null(uuid);
    inst->vm_state = INSTANCE_VM_BUILDING;
    inst->task_state = INSTANCE_TASK_NONE;
    inst->power_state = INSTANCE_POWER_NOSTATE;
    inst->launched_at = INSTANCE_TIME_NONE;
    inst->terminated_at = INSTANCE_TIME_NONE;
    inst->created_at = INSTANCE_TIME_NONE;
    inst->updated_at = INSTANCE_TIME_NONE;
    return inst;
}

void
instance_free(struct instance *inst)
{
    if (!inst) {
        return;
    }
    free(inst->uuid);
    free(inst->display_name);
    free(inst->project_id);
    free(inst->user_id);
    free(inst->host);
    free(inst->node);
    flavor_free(inst->flavor);
    free(inst->image_ref);
    instance_image_free(inst->image);
    free(inst->key_name);
    free(inst->key_data);
    instance_meta_free(inst->metadata, inst->n_metadata);
    free(inst->availability_zone);
    free(inst);
}

struct instance *
instance_clone(const struct instance *inst)
{
    struct instance *copy;

    if (!inst) {
        return NULL;
    }
    copy = xmalloc(sizeof *copy);
    *copy = *inst;
    copy->uuid = xstrdup_or_null(inst->uuid);
    copy->display_name = xstrdup_or_null(inst->display_name);
    copy->project_id = xstrdup_or_null(inst->project_id);
    copy->user_id = xstrdup_or_null(inst->user_id);
    copy->host = xstrdup_or_null(inst->host);
    copy->node = xstrdup_or_null(inst->node);
    copy->flavor = flavor_clone(inst->flavor);
    copy->image_ref = xstrdup_or_null(inst->image_ref);
    copy->image = instance_image_clone(inst->image);
    copy->key_name = xstrdup_or_null(inst->key_name);
    copy->key_data = xstrdup_or_null(inst->key_data);
    copy->metadata = instance_meta_clone(inst->metadata, inst->n_metadata);
    copy->availability_zone = xstrdup_or_null(inst->availability_zone);
    return copy;
}

bool
instance_equal(const struct instance *a, const struct instance *b)
{
    if (!a || !b) {
        return a == b;
    }
    return instance_str_equal(a->uuid, b->uuid)
           && instance_str_equal(a->display_name, b->display_name)
           && instance_str_equal(a->project_id, b->project_id)
           && instance_str_equal(a->user_id, b->user_id)
           && instance_str_equal(a->host, b->host)
           && instance_str_equal(a->node, b->node)
           && flavor_equal(a->flavor, b->flavor)
           && instance_str_equal(a->image_ref, b->image_ref)
           && instance_image_equal(a->image, b->image)
           && instance_str_equal(a->key_name, b->key_name)
           && instance_str_equal(a->key_data, b->key_data)
           && instance_meta_equal(a->metadata, a->n_metadata,
                                  b->metadata, b->n_metadata)
           && instance_str_equal(a->availability_zone,
                                 b->availability_zone)
           && a->vm_state == b->vm_state
           && a->task_state == b->task_state
           && a->power_state == b->power_state
           && a->launched_at == b->launched_at
           && a->terminated_at == b->terminated_at
           && a->created_at == b->created_at
           && a->updated_at == b->updated_at
           && a->locked == b->locked
           && a->update_seq == b->update_seq;
}

void
instance_set_flavor(struct instance *inst, const struct flavor *flavor)
{
    struct flavor *copy = flavor_clone(flavor);

    flavor_free(inst->flavor);
    inst->flavor = copy;
}

void
instance_set_metadata(struct instance *inst, const char *key,
                      const char *value)
{
    instance_meta_set(&inst->metadata, &inst->n_metadata, key, value);
}

const char *
instance_get_metadata(const struct instance *inst, const char *key)
{
    return instance_meta_get(inst->metadata, inst->n_metadata, key);
}

/* ---- Validation ------------------------------------------------------- */

static struct error *
instance_check_string(const char *path, const char *field, const char *s,
                      bool required, size_t max_length)
{
    size_t length;

    if (!s) {
        if (required) {
            AUTOFREE char *name = instance_field_name(path, field);
            return error_new(ERROR_INVALID, "'%s' is a required property",
                             name);
        }
        return NULL;
    }
    length = instance_utf8_length(s);
    if (length > max_length || (required && !length)) {
        return instance_field_error(path, field,
                                    "Length %zu is outside %d..%zu "
                                    "characters", length, required ? 1 : 0,
                                    max_length);
    }
    return NULL;
}

static struct error *
instance_check_meta(const char *path, const char *field,
                    const struct instance_meta *items, size_t n,
                    size_t max_items)
{
    AUTOFREE char *map_path = instance_field_name(path, field);
    struct error *error;

    if (n > max_items) {
        return instance_field_error(path, field,
                                    "%zu items, the maximum is %zu", n,
                                    max_items);
    }
    for (size_t i = 0; i < n; i++) {
        if ((error = instance_check_string(map_path, items[i].key,
                                           items[i].key, true,
                                           INSTANCE_META_KEY_MAX_LENGTH))
            || (error = instance_check_string(
                    map_path, items[i].key, items[i].value, false,
                    INSTANCE_META_VALUE_MAX_LENGTH))) {
            return error;
        }
    }
    return NULL;
}

static struct error *
instance_check_time(const char *path, const char *field, int64_t ms)
{
    if (ms != INSTANCE_TIME_NONE && (ms < TIME_MIN_MS || ms > TIME_MAX_MS)) {
        return instance_field_error(path, field,
                                    "Time %lld ms is outside the years "
                                    "1..9999", (long long) ms);
    }
    return NULL;
}

static struct error *
instance_validate_image(const struct instance_image *image,
                        const char *path)
{
    struct error *error;

    if ((error = instance_check_string(path, "id", image->id, false,
                                       INSTANCE_IMAGE_REF_MAX_LENGTH))
        || (error = instance_check_meta(path, "properties",
                                        image->properties,
                                        image->n_properties,
                                        INSTANCE_IMAGE_MAX_PROPERTIES))
        || (error = instance_check_string(path, "kernel", image->kernel,
                                          false,
                                          INSTANCE_IMAGE_PATH_MAX_LENGTH))
        || (error = instance_check_string(path, "initrd", image->initrd,
                                          false,
                                          INSTANCE_IMAGE_PATH_MAX_LENGTH))
        || (error = instance_check_string(
                path, "cmdline", image->cmdline, false,
                INSTANCE_IMAGE_CMDLINE_MAX_LENGTH))
        || (error = instance_check_string(path, "disk", image->disk, false,
                                          INSTANCE_IMAGE_PATH_MAX_LENGTH))
        || (error = instance_check_string(
                path, "disk_format", image->disk_format, false,
                INSTANCE_IMAGE_FORMAT_MAX_LENGTH))
        || (error = instance_check_string(
                path, "url", image->url, false,
                INSTANCE_IMAGE_URL_MAX_LENGTH))
        || (error = instance_check_string(
                path, "checksum", image->checksum, false,
                INSTANCE_IMAGE_HASH_MAX_LENGTH))
        || (error = instance_check_string(
                path, "os_hash_value", image->os_hash_value, false,
                INSTANCE_IMAGE_HASH_MAX_LENGTH))
        || (error = instance_check_string(
                path, "kernel_url", image->kernel_url, false,
                INSTANCE_IMAGE_URL_MAX_LENGTH))
        || (error = instance_check_string(
                path, "kernel_checksum", image->kernel_checksum, false,
                INSTANCE_IMAGE_HASH_MAX_LENGTH))
        || (error = instance_check_string(
                path, "kernel_os_hash_value",
                image->kernel_os_hash_value, false,
                INSTANCE_IMAGE_HASH_MAX_LENGTH))
        || (error = instance_check_string(
                path, "initrd_url", image->initrd_url, false,
                INSTANCE_IMAGE_URL_MAX_LENGTH))
        || (error = instance_check_string(
                path, "initrd_checksum", image->initrd_checksum, false,
                INSTANCE_IMAGE_HASH_MAX_LENGTH))
        || (error = instance_check_string(
                path, "initrd_os_hash_value",
                image->initrd_os_hash_value, false,
                INSTANCE_IMAGE_HASH_MAX_LENGTH))) {
        return error;
    }
    return NULL;
}

struct error *
instance_validate(const struct instance *inst, const char *path)
{
    AUTOFREE char *flavor_path = instance_field_name(path, "flavor");
    AUTOFREE char *image_path = instance_field_name(path, "image");
    enum instance_power_state power;
    struct error *error;

    if (!uuid_is_valid(inst->uuid)) {
        return instance_field_error(path, "uuid",
                                    "Value: \"%s\". \"%s\" is not a 'uuid'",
                                    inst->uuid ? inst->uuid : "",
                                    inst->uuid ? inst->uuid : "");
    }
    if ((error = instance_check_string(path, "display_name",
                                       inst->display_name, false,
                                       INSTANCE_NAME_MAX_LENGTH))
        || (error = instance_check_string(path, "project_id",
                                          inst->project_id, true,
                                          INSTANCE_ID_MAX_LENGTH))
        || (error = instance_check_string(path, "user_id", inst->user_id,
                                          true, INSTANCE_ID_MAX_LENGTH))
        || (error = instance_check_string(path, "host", inst->host, false,
                                          INSTANCE_HOST_MAX_LENGTH))
        || (error = instance_check_string(path, "node", inst->node, false,
                                          INSTANCE_HOST_MAX_LENGTH))
        || (error = instance_check_string(path, "image_ref",
                                          inst->image_ref, false,
                                          INSTANCE_IMAGE_REF_MAX_LENGTH))
        || (error = instance_check_string(path, "key_name", inst->key_name,
                                          false,
                                          INSTANCE_KEY_NAME_MAX_LENGTH))
        || (error = instance_check_string(path, "key_data", inst->key_data,
                                          false,
                                          INSTANCE_KEY_DATA_MAX_LENGTH))
        || (error = instance_check_string(path, "availability_zone",
                                          inst->availability_zone, false,
                                          INSTANCE_AZ_MAX_LENGTH))
        || (error = instance_check_meta(path, "metadata", inst->metadata,
                                        inst->n_metadata,
                                        INSTANCE_MAX_METADATA))
        || (error = instance_check_time(path, "launched_at",
                                        inst->launched_at))
        || (error = instance_check_time(path, "terminated_at",
                                        inst->terminated_at))
        || (error = instance_check_time(path, "created_at",
                                        inst->created_at))
        || (error = instance_check_time(path, "updated_at",
                                        inst->updated_at))) {
        return error;
    }
    if (!inst->flavor) {
        return error_new(ERROR_INVALID, "'%s' is a required property",
                         flavor_path);
    }
    if ((error = flavor_validate(inst->flavor, flavor_path))) {
        return error;
    }
    if (inst->image
        && (error = instance_validate_image(inst->image, image_path))) {
        return error;
    }
    if ((size_t) inst->vm_state >= INSTANCE_N_VM_STATES) {
        return instance_field_error(path, "vm_state", "Value: %d is not a "
                                    "known vm_state", (int) inst->vm_state);
    }
    if ((size_t) inst->task_state >= INSTANCE_N_TASK_STATES) {
        return instance_field_error(path, "task_state", "Value: %d is not "
                                    "a known task_state",
                                    (int) inst->task_state);
    }
    if (instance_power_state_from_int(inst->power_state, &power)) {
        return instance_field_error(path, "power_state", "Value: %d is not "
                                    "a known power_state",
                                    (int) inst->power_state);
    }
    if (inst->update_seq < 0 || inst->update_seq > INSTANCE_MAX_UPDATE_SEQ) {
        return instance_field_error(path, "update_seq",
                                    "Value: %lld is outside 0..%lld",
                                    (long long) inst->update_seq,
                                    (long long) INSTANCE_MAX_UPDATE_SEQ);
    }
    return NULL;
}

/* ---- JSON ------------------------------------------------------------- */

static struct json_object *
instance_json_time(int64_t ms)
{
    char buf[TIME_ISO8601_SIZE];

    if (ms == INSTANCE_TIME_NONE
        || time_format_iso8601(ms, TIME_STYLE_MICROS, buf, sizeof buf)) {
        return NULL;
    }
    return json_object_new_string(buf);
}

struct json_object *
instance_to_json(const struct instance *inst)
{
    struct json_object *obj = json_object_new_object();

    json_object_object_add(obj, "uuid", instance_json_string(inst->uuid));
    json_object_object_add(obj, "display_name",
                           instance_json_string(inst->display_name));
    json_object_object_add(obj, "project_id",
                           instance_json_string(inst->project_id));
    json_object_object_add(obj, "user_id",
                           instance_json_string(inst->user_id));
    json_object_object_add(obj, "host", instance_json_string(inst->host));
    json_object_object_add(obj, "node", instance_json_string(inst->node));
    json_object_object_add(obj, "flavor",
                           inst->flavor ? flavor_to_json(inst->flavor)
                                        : NULL);
    json_object_object_add(obj, "image_ref",
                           instance_json_string(inst->image_ref));
    json_object_object_add(obj, "image",
                           inst->image ? instance_image_to_json(inst->image)
                                       : NULL);
    json_object_object_add(obj, "key_name",
                           instance_json_string(inst->key_name));
    json_object_object_add(obj, "key_data",
                           instance_json_string(inst->key_data));
    json_object_object_add(obj, "metadata",
                           instance_meta_to_json(inst->metadata,
                                                 inst->n_metadata));
    json_object_object_add(obj, "availability_zone",
                           instance_json_string(inst->availability_zone));
    json_object_object_add(
        obj, "vm_state",
        json_object_new_string(instance_vm_state_to_string(inst->vm_state)));
    json_object_object_add(
        obj, "task_state",
        instance_json_string(instance_task_state_to_nullable(
                                 inst->task_state)));
    json_object_object_add(obj, "power_state",
                           json_object_new_int((int) inst->power_state));
    json_object_object_add(obj, "launched_at",
                           instance_json_time(inst->launched_at));
    json_object_object_add(obj, "terminated_at",
                           instance_json_time(inst->terminated_at));
    json_object_object_add(obj, "created_at",
                           instance_json_time(inst->created_at));
    json_object_object_add(obj, "updated_at",
                           instance_json_time(inst->updated_at));
    json_object_object_add(obj, "locked",
                           json_object_new_boolean(inst->locked));
    json_object_object_add(obj, "update_seq",
                           json_object_new_int64(inst->update_seq));
    return obj;
}

static struct error *
instance_get_uuid(const struct json_object *obj, const char *path,
                  char **ret)
{
    char canonical[UUID_STRING_SIZE];
    const char *s;
    struct error *error = json_get_string(obj, path, "uuid", true,
                                          UUID_STRING_SIZE - 1, &s);

    if (error) {
        return error;
    }
    if (!uuid_is_valid(s) || uuid_normalize(s, canonical)) {
        return instance_field_error(path, "uuid",
                                    "Value: \"%s\". \"%s\" is not a 'uuid'",
                                    s, s);
    }
    *ret = xstrdup(canonical);
    return NULL;
}

static struct error *
instance_get_states(const struct json_object *obj, const char *path,
                    struct instance *inst)
{
    const char *s = NULL;
    long long power = inst->power_state;
    struct error *error;

    error = json_get_string(obj, path, "vm_state", true, 0, &s);
    if (error) {
        return error;
    }
    if (instance_vm_state_from_string(s, &inst->vm_state)) {
        return instance_field_error(path, "vm_state",
                                    "Value: \"%s\". \"%s\" is not a known "
                                    "vm_state", s, s);
    }

    if (!instance_json_is_null(obj, "task_state")) {
        s = NULL;
        error = json_get_string(obj, path, "task_state", false, 0, &s);
        if (error) {
            return error;
        }
        if (s && instance_task_state_from_string(s, &inst->task_state)) {
            return instance_field_error(path, "task_state",
                                        "Value: \"%s\". \"%s\" is not a "
                                        "known task_state", s, s);
        }
    }

    error = json_get_int(obj, path, "power_state", false, 0, INT32_MAX,
                         &power);
    if (error) {
        return error;
    }
    if (instance_power_state_from_int(power, &inst->power_state)) {
        return instance_field_error(path, "power_state",
                                    "Value: %lld. %lld is not a known "
                                    "power_state", power, power);
    }
    return NULL;
}

struct error *
instance_from_json(const struct json_object *obj, const char *path,
                   struct instance **ret_inst)
{
    CLEANUP(instance_freep) struct instance *inst = instance_new(NULL);
    AUTOFREE char *flavor_path = instance_field_name(path, "flavor");
    AUTOFREE char *image_path = instance_field_name(path, "image");
    struct json_object *flavor_obj = NULL;
    struct json_object *image_obj = NULL;
    long long seq = 0;
    struct error *error;

    if ((error = json_check_allowed_keys(obj, path, instance_json_keys))
        || (error = instance_get_uuid(obj, path, &inst->uuid))
        || (error = instance_get_opt_string(obj, path, "display_name",
                                            INSTANCE_NAME_MAX_LENGTH,
                                            &inst->display_name))
        || (error = instance_get_req_string(obj, path, "project_id",
                                            INSTANCE_ID_MAX_LENGTH,
                                            &inst->project_id))
        || (error = instance_get_req_string(obj, path, "user_id",
                                            INSTANCE_ID_MAX_LENGTH,
                                            &inst->user_id))
        || (error = instance_get_opt_string(obj, path, "host",
                                            INSTANCE_HOST_MAX_LENGTH,
                                            &inst->host))
        || (error = instance_get_opt_string(obj, path, "node",
                                            INSTANCE_HOST_MAX_LENGTH,
                                            &inst->node))
        || (error = json_get_object(obj, path, "flavor", true,
                                    &flavor_obj))
        || (error = flavor_from_json(flavor_obj, flavor_path,
                                     &inst->flavor))
        || (error = instance_get_opt_string(obj, path, "image_ref",
                                            INSTANCE_IMAGE_REF_MAX_LENGTH,
                                            &inst->image_ref))) {
        return error;
    }

    if (!instance_json_is_null(obj, "image")) {
        error = json_get_object(obj, path, "image", false, &image_obj);
        if (!error && image_obj) {
            error = instance_image_from_json(image_obj, image_path,
                                             &inst->image);
        }
        if (error) {
            return error;
        }
    }

    if ((error = instance_get_opt_string(obj, path, "key_name",
                                         INSTANCE_KEY_NAME_MAX_LENGTH,
                                         &inst->key_name))
        || (error = instance_get_opt_string(obj, path, "key_data",
                                            INSTANCE_KEY_DATA_MAX_LENGTH,
                                            &inst->key_data))
        || (error = instance_get_meta(obj, path, "metadata",
                                      INSTANCE_MAX_METADATA,
                                      &inst->metadata, &inst->n_metadata))
        || (error = instance_get_opt_string(obj, path, "availability_zone",
                                            INSTANCE_AZ_MAX_LENGTH,
                                            &inst->availability_zone))
        || (error = instance_get_states(obj, path, inst))
        || (error = instance_get_time(obj, path, "launched_at",
                                      &inst->launched_at))
        || (error = instance_get_time(obj, path, "terminated_at",
                                      &inst->terminated_at))
        || (error = instance_get_time(obj, path, "created_at",
                                      &inst->created_at))
        || (error = instance_get_time(obj, path, "updated_at",
                                      &inst->updated_at))
        || (error = json_get_bool(obj, path, "locked", false,
                                  &inst->locked))
        || (error = json_get_int(obj, path, "update_seq", false, 0,
                                 INSTANCE_MAX_UPDATE_SEQ, &seq))) {
        return error;
    }
    inst->update_seq = seq;
    *ret_inst = TAKE_PTR(inst);
    return NULL;
}

/* ---- Lists ------------------------------------------------------------ */

struct instance_list *
instance_list_new(void)
{
    return xzalloc(sizeof (struct instance_list));
}

void
instance_list_push(struct instance_list *list, struct instance *inst)
{
    /* The capacity is implied by 'n': 4, then doubling. */
    if (list->n == 0 || (list->n >= 4 && !(list->n & (list->n - 1)))) {
        list->items = xreallocarray(list->items,
                                    list->n ? list->n * 2 : 4,
                                    sizeof *list->items);
    }
    list->items[list->n++] = inst;
}

void
instance_list_free(struct instance_list *list)
{
    if (!list) {
        return;
    }
    for (size_t i = 0; i < list->n; i++) {
        instance_free(list->items[i]);
    }
    free(list->items);
    free(list);
}

struct json_object *
instance_list_to_json(const struct instance_list *list)
{
    struct json_object *array = json_object_new_array();

    for (size_t i = 0; i < list->n; i++) {
        json_object_array_add(array, instance_to_json(list->items[i]));
    }
    return array;
}
