/* flavor.c: the flavor object and its JSON form (see flavor.h).
 *
 * Decoding runs on RPC input, so nothing here asserts on values: every
 * bad shape becomes an ERROR_INVALID error whose message names the field
 * in the words of shared/json-util.h. */
#include <config.h>
#include "shared/flavor.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "shared/cleanup.h"
#include "shared/error.h"
#include "shared/json-util.h"
#include "shared/xalloc.h"

/* Swap is in MiB, disk usage in GiB. */
#define FLAVOR_MB_PER_GB 1024

static const char *const flavor_json_keys[] = {
    "flavorid", "name", "vcpus", "memory_mb", "root_gb", "ephemeral_gb",
    "swap", "extra_specs", NULL,
};

/* ---- Extra specs ------------------------------------------------------ */

/* Returns the index of 'key' in the sorted 'specs', or the index where it
 * would go with '*ret_found' false. */
static size_t
flavor_spec_find(const struct flavor_spec *specs, size_t n, const char *key,
                 bool *ret_found)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = strcmp(specs[mid].key, key);

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

void
flavor_set_extra_spec(struct flavor *flavor, const char *key,
                      const char *value)
{
    bool found;
    size_t i = flavor_spec_find(flavor->extra_specs, flavor->n_extra_specs,
                                key, &found);

    if (found) {
        struct flavor_spec *spec = &flavor->extra_specs[i];

        if (value) {
            free(spec->value);
            spec->value = xstrdup(value);
        } else {
            free(spec->key);
            free(spec->value);
            memmove(spec, spec + 1,
                    (flavor->n_extra_specs - i - 1) * sizeof *spec);
            flavor->n_extra_specs--;
        }
        return;
    }
    if (!value) {
        return;
    }
    flavor->extra_specs = xreallocarray(flavor->extra_specs,
                                        flavor->n_extra_specs + 1,
                                        sizeof *flavor->extra_specs);
    memmove(&flavor->extra_specs[i + 1], &flavor->extra_specs[i],
            (flavor->n_extra_specs - i) * sizeof *flavor->extra_specs);
    flavor->extra_specs[i].key = xstrdup(key);
    flavor->extra_specs[i].value = xstrdup(value);
    flavor->n_extra_specs++;
}

const char *
flavor_get_extra_spec(const struct flavor *flavor, const char *key)
{
    bool found;
    size_t i = flavor_spec_find(flavor->extra_specs, flavor->n_extra_specs,
                                key, &found);

    return found ? flavor->extra_specs[i].value : NULL;
}

/* ---- Life cycle ------------------------------------------------------- */

struct flavor *
flavor_new(const char *flavorid, const char *name)
{
    struct flavor *flavor = xzalloc(sizeof *flavor);

    flavor->flavorid = xstrdup_or_null(flavorid);
    flavor->name = xstrdup_or_null(name);
    return flavor;
}

void
flavor_free(struct flavor *flavor)
{
    if (!flavor) {
        return;
    }
    for (size_t i = 0; i < flavor->n_extra_specs; i++) {
        free(flavor->extra_specs[i].key);
        free(flavor->extra_specs[i].value);
    }
    free(flavor->extra_specs);
    free(flavor->flavorid);
    free(flavor->name);
    free(flavor);
}

struct flavor *
flavor_clone(const struct flavor *flavor)
{
    struct flavor *copy;

    if (!flavor) {
        return NULL;
    }
    copy = flavor_new(flavor->flavorid, flavor->name);
    copy->vcpus = flavor->vcpus;
    copy->memory_mb = flavor->memory_mb;
    copy->root_gb = flavor->root_gb;
    copy->ephemeral_gb = flavor->ephemeral_gb;
    copy->swap = flavor->swap;
    if (flavor->n_extra_specs) {
        copy->extra_specs = xcalloc(flavor->n_extra_specs,
                                    sizeof *copy->extra_specs);
        for (size_t i = 0; i < flavor->n_extra_specs; i++) {
            copy->extra_specs[i].key = xstrdup(flavor->extra_specs[i].key);
            copy->extra_specs[i].value =
                xstrdup(flavor->extra_specs[i].value);
        }
        copy->n_extra_specs = flavor->n_extra_specs;
    }
    return copy;
}

static bool
flavor_str_equal(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

bool
flavor_equal(const struct flavor *a, const struct flavor *b)
{
    if (!a || !b) {
        return a == b;
    }
    if (!flavor_str_equal(a->flavorid, b->flavorid)
        || !flavor_str_equal(a->name, b->name)
        || a->vcpus != b->vcpus || a->memory_mb != b->memory_mb
        || a->root_gb != b->root_gb || a->ephemeral_gb != b->ephemeral_gb
        || a->swap != b->swap || a->n_extra_specs != b->n_extra_specs) {
        return false;
    }
    for (size_t i = 0; i < a->n_extra_specs; i++) {
        if (strcmp(a->extra_specs[i].key, b->extra_specs[i].key)
            || strcmp(a->extra_specs[i].value, b->extra_specs[i].value)) {
            return false;
        }
    }
    return true;
}

int64_t
flavor_disk_gb(const struct flavor *flavor)
{
    int64_t swap_gb = (flavor->swap + FLAVOR_MB_PER_GB - 1)
                      / FLAVOR_MB_PER_GB;

    return flavor->root_gb + flavor->ephemeral_gb + swap_gb;
}

/* ---- Validation ------------------------------------------------------- */

/* The number of characters of the UTF-8 string 's' (continuation bytes
 * are not counted). */
static size_t
flavor_utf8_length(const char *s)
{
    size_t n = 0;

    for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
        n += (*p & 0xc0) != 0x80;
    }
    return n;
}

/* Returns "path.field" (or "field" without a path), owned by the
 * caller. */
static char *
flavor_field_name(const char *path, const char *field)
{
    return path ? xasprintf("%s.%s", path, field) : xstrdup(field);
}

static struct error * PRINTF_FMT(3, 4)
flavor_field_error(const char *path, const char *field, const char *fmt,
                   ...)
{
    AUTOFREE char *name = flavor_field_name(path, field);
    AUTOFREE char *detail = NULL;
    va_list args;

    va_start(args, fmt);
    detail = xvasprintf(fmt, args);
    va_end(args);
    return error_new(ERROR_INVALID,
                     "Invalid input for field/attribute '%s'. %s", name,
                     detail);
}

static struct error *
flavor_check_string(const char *path, const char *field, const char *value,
                    size_t min_length, size_t max_length)
{
    size_t length;

    if (!value) {
        AUTOFREE char *name = flavor_field_name(path, field);
        return error_new(ERROR_INVALID, "'%s' is a required property", name);
    }
    length = flavor_utf8_length(value);
    if (length < min_length || length > max_length) {
        return flavor_field_error(path, field,
                                  "Length %zu is outside %zu..%zu "
                                  "characters", length, min_length,
                                  max_length);
    }
    return NULL;
}

static struct error *
flavor_check_int(const char *path, const char *field, int64_t value,
                 int64_t min)
{
    if (value < min || value > FLAVOR_MAX_INT) {
        return flavor_field_error(path, field,
                                  "Value: %lld. %lld is outside %lld..%lld",
                                  (long long) value, (long long) value,
                                  (long long) min,
                                  (long long) FLAVOR_MAX_INT);
    }
    return NULL;
}

struct error *
flavor_validate(const struct flavor *flavor, const char *path)
{
    struct error *error;
    AUTOFREE char *specs_path = NULL;

    if ((error = flavor_check_string(path, "flavorid", flavor->flavorid, 1,
                                     FLAVOR_ID_MAX_LENGTH))
        || (error = flavor_check_string(path, "name", flavor->name, 1,
                                        FLAVOR_NAME_MAX_LENGTH))
        || (error = flavor_check_int(path, "vcpus", flavor->vcpus, 1))
        || (error = flavor_check_int(path, "memory_mb", flavor->memory_mb,
                                     1))
        || (error = flavor_check_int(path, "root_gb", flavor->root_gb, 0))
        || (error = flavor_check_int(path, "ephemeral_gb",
                                     flavor->ephemeral_gb, 0))
        || (error = flavor_check_int(path, "swap", flavor->swap, 0))) {
        return error;
    }
    if (flavor->n_extra_specs > FLAVOR_MAX_EXTRA_SPECS) {
        return flavor_field_error(path, "extra_specs",
                                  "%zu extra specs, the maximum is %d",
                                  flavor->n_extra_specs,
                                  FLAVOR_MAX_EXTRA_SPECS);
    }
    specs_path = flavor_field_name(path, "extra_specs");
    for (size_t i = 0; i < flavor->n_extra_specs; i++) {
        const struct flavor_spec *spec = &flavor->extra_specs[i];

        if ((error = flavor_check_string(specs_path, spec->key, spec->key,
                                         1, FLAVOR_SPEC_KEY_MAX_LENGTH))
            || (error = flavor_check_string(specs_path, spec->key,
                                            spec->value, 0,
                                            FLAVOR_SPEC_VALUE_MAX_LENGTH))) {
            return error;
        }
    }
    return NULL;
}

/* ---- JSON ------------------------------------------------------------- */

struct json_object *
flavor_to_json(const struct flavor *flavor)
{
    struct json_object *obj = json_object_new_object();
    struct json_object *specs = json_object_new_object();

    json_object_object_add(obj, "flavorid",
                           flavor->flavorid
                           ? json_object_new_string(flavor->flavorid)
                           : NULL);
    json_object_object_add(obj, "name",
                           flavor->name
                           ? json_object_new_string(flavor->name) : NULL);
    json_object_object_add(obj, "vcpus", json_object_new_int64(flavor->vcpus));
    json_object_object_add(obj, "memory_mb",
                           json_object_new_int64(flavor->memory_mb));
    json_object_object_add(obj, "root_gb",
                           json_object_new_int64(flavor->root_gb));
    json_object_object_add(obj, "ephemeral_gb",
                           json_object_new_int64(flavor->ephemeral_gb));
    json_object_object_add(obj, "swap", json_object_new_int64(flavor->swap));
    for (size_t i = 0; i < flavor->n_extra_specs; i++) {
        json_object_object_add(
            specs, flavor->extra_specs[i].key,
            json_object_new_string(flavor->extra_specs[i].value));
    }
    json_object_object_add(obj, "extra_specs", specs);
    return obj;
}

/* Reads the string 'field' of 'obj' (required, 1..'max_length'
 * characters) into a copy stored in '*ret'. */
static struct error *
flavor_get_string(const struct json_object *obj, const char *path,
                  const char *field, size_t max_length, char **ret)
{
    const char *s;
    struct error *error = json_get_string(obj, path, field, true,
                                          max_length, &s);

    if (error) {
        return error;
    }
    if (!*s) {
        return flavor_field_error(path, field,
                                  "Value: \"\". \"\" is too short");
    }
    *ret = xstrdup(s);
    return NULL;
}

static struct error *
flavor_get_int(const struct json_object *obj, const char *path,
               const char *field, bool required, long long min,
               int64_t *ret)
{
    long long value = *ret;     /* kept when an optional field is absent */
    struct error *error = json_get_int(obj, path, field, required, min,
                                       FLAVOR_MAX_INT, &value);

    if (!error) {
        *ret = value;
    }
    return error;
}

static struct error *
flavor_specs_from_json(const struct json_object *obj, const char *path,
                       struct flavor *flavor)
{
    struct json_object *specs = NULL;
    AUTOFREE char *specs_path = NULL;
    struct error *error;

    error = json_get_object(obj, path, "extra_specs", false, &specs);
    if (error || !specs) {
        return error;
    }
    if ((size_t) json_object_object_length(specs) > FLAVOR_MAX_EXTRA_SPECS) {
        return flavor_field_error(path, "extra_specs",
                                  "%d extra specs, the maximum is %d",
                                  json_object_object_length(specs),
                                  FLAVOR_MAX_EXTRA_SPECS);
    }
    specs_path = flavor_field_name(path, "extra_specs");
    json_object_object_foreach(specs, key, value) {
        const char *s;

        (void) value;
        if ((error = flavor_check_string(specs_path, key, key, 1,
                                         FLAVOR_SPEC_KEY_MAX_LENGTH))
            || (error = json_get_string(specs, specs_path, key, true,
                                        FLAVOR_SPEC_VALUE_MAX_LENGTH, &s))) {
            return error;
        }
        flavor_set_extra_spec(flavor, key, s);
    }
    return NULL;
}

struct error *
flavor_from_json(const struct json_object *obj, const char *path,
                 struct flavor **ret_flavor)
{
    CLEANUP(flavor_freep) struct flavor *flavor = flavor_new(NULL, NULL);
    struct error *error;

    if ((error = json_check_allowed_keys(obj, path, flavor_json_keys))
        || (error = flavor_get_string(obj, path, "flavorid",
                                      FLAVOR_ID_MAX_LENGTH,
                                      &flavor->flavorid))
        || (error = flavor_get_string(obj, path, "name",
                                      FLAVOR_NAME_MAX_LENGTH,
                                      &flavor->name))
        || (error = flavor_get_int(obj, path, "vcpus", true, 1,
                                   &flavor->vcpus))
        || (error = flavor_get_int(obj, path, "memory_mb", true, 1,
                                   &flavor->memory_mb))
        || (error = flavor_get_int(obj, path, "root_gb", true, 0,
                                   &flavor->root_gb))
        || (error = flavor_get_int(obj, path, "ephemeral_gb", false, 0,
                                   &flavor->ephemeral_gb))
        || (error = flavor_get_int(obj, path, "swap", false, 0,
                                   &flavor->swap))
        || (error = flavor_specs_from_json(obj, path, flavor))) {
        return error;
    }
    *ret_flavor = TAKE_PTR(flavor);
    return NULL;
}
