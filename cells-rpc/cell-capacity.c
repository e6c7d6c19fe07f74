/* cell-capacity.c: capacity reports (see cell-capacity.h).
 *
 * Every array of a report is kept sorted and free of duplicates, so that
 * lookups are binary searches, unions are insertions, and two equal
 * reports encode to equal JSON.  Reports are small (sizes and
 * capabilities number in the tens), so insertion by memmove() is cheap.
 *
 * Amounts are clamped to [0, CELL_CAPACITY_MAX_AMOUNT] on the way in and
 * summed with saturation, so no sum can overflow int64_t however large
 * the tree.
 *
 * Decoding runs on RPC input, so nothing here asserts on values: every bad
 * shape becomes an ERROR_INVALID error naming the field, in the words of
 * shared/json-util.h. */
#include <config.h>
#include "cells-rpc/cell-capacity.h"

#include <errno.h>
#include <math.h>         /* isfinite(), a macro: no libm. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <json-c/json.h>

#include "shared/error.h"
#include "shared/json-util.h"
#include "shared/timeutil.h"
#include "shared/xalloc.h"

/* Percent of a whole. */
#define CELL_CAPACITY_PERCENT 100.0

static const char *const cell_capacity_json_keys[] = {
    "reported_at", "free", "total", "instances", "units", "capabilities",
    "availability_zones", NULL,
};
static const char *const cell_capacity_amount_keys[] = {
    "ram_mb", "disk_gb", "vcpus", NULL,
};
static const char *const cell_capacity_units_keys[] = {
    "vcpus", "ram_mb", "disk_gb", "units", NULL,
};

/* ---- Amounts ---------------------------------------------------------- */

/* Returns 'x' clamped to [0, CELL_CAPACITY_MAX_AMOUNT]. */
static int64_t
cell_capacity_clamp(int64_t x)
{
    return x < 0 ? 0 : MIN(x, CELL_CAPACITY_MAX_AMOUNT);
}

/* Returns 'a' + 'b' for amounts in [0, CELL_CAPACITY_MAX_AMOUNT],
 * saturating there (the sum of two such amounts fits in int64_t). */
static int64_t
cell_capacity_add(int64_t a, int64_t b)
{
    return MIN(a + b, CELL_CAPACITY_MAX_AMOUNT);
}

static void
cell_capacity_amounts_add(struct cell_capacity_amounts *sum,
                          const struct cell_capacity_amounts *x)
{
    sum->ram_mb = cell_capacity_add(sum->ram_mb,
                                    cell_capacity_clamp(x->ram_mb));
    sum->disk_gb = cell_capacity_add(sum->disk_gb,
                                     cell_capacity_clamp(x->disk_gb));
    sum->vcpus = cell_capacity_add(sum->vcpus,
                                   cell_capacity_clamp(x->vcpus));
}

/* Returns how many instances of 'flavor' fit in 'avail' (each amount at
 * least 0): the minimum over the dimensions the flavor uses. */
static int64_t
cell_capacity_fit(const struct cell_capacity_amounts *avail,
                  const struct cell_capacity_flavor *flavor)
{
    int64_t units = MIN(avail->ram_mb / flavor->ram_mb,
                        avail->vcpus / flavor->vcpus);

    if (flavor->disk_gb > 0) {
        units = MIN(units, avail->disk_gb / flavor->disk_gb);
    }
    return units;
}

/* ---- Flavor sizes ----------------------------------------------------- */

static int
cell_capacity_flavor_compare(const struct cell_capacity_flavor *a,
                             const struct cell_capacity_flavor *b)
{
    if (a->ram_mb != b->ram_mb) {
        return a->ram_mb < b->ram_mb ? -1 : 1;
    }
    if (a->disk_gb != b->disk_gb) {
        return a->disk_gb < b->disk_gb ? -1 : 1;
    }
    if (a->vcpus != b->vcpus) {
        return a->vcpus < b->vcpus ? -1 : 1;
    }
    return 0;
}

/* Returns the index of 'flavor' in the sorted 'units', or the index where
 * it would go with '*ret_found' false. */
static size_t
cell_capacity_find_units(const struct cell_capacity_units *units, size_t n,
                         const struct cell_capacity_flavor *flavor,
                         bool *ret_found)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = cell_capacity_flavor_compare(&units[mid].flavor, flavor);

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

/* Adds size 'flavor' with 'units' to 'cap' unless it is there already.
 * Returns 1 if it added it, 0 if it was there, -E2BIG if the report has
 * CELL_CAPACITY_MAX_FLAVORS sizes already. */
static int
cell_capacity_insert_units(struct cell_capacity *cap,
                           const struct cell_capacity_flavor *flavor,
                           int64_t units)
{
    bool found;
    size_t i = cell_capacity_find_units(cap->units, cap->n_units, flavor,
                                        &found);

    if (found) {
        return 0;
    }
    if (cap->n_units >= CELL_CAPACITY_MAX_FLAVORS) {
        return -E2BIG;
    }
    cap->units = xreallocarray(cap->units, cap->n_units + 1,
                               sizeof *cap->units);
    memmove(&cap->units[i + 1], &cap->units[i],
            (cap->n_units - i) * sizeof *cap->units);
    cap->units[i].flavor = *flavor;
    cap->units[i].units = units;
    cap->n_units++;
    return 1;
}

struct error *
cell_capacity_flavor_check(const char *what,
                           const struct cell_capacity_flavor *flavor)
{
    static const int64_t max = CELL_CAPACITY_MAX_FLAVOR_AMOUNT;

    if (flavor->vcpus < 1 || flavor->vcpus > max) {
        return error_new(ERROR_INVALID, "%s: vcpus %lld is outside 1..%lld",
                         what, (long long) flavor->vcpus, (long long) max);
    }
    if (flavor->ram_mb < 1 || flavor->ram_mb > max) {
        return error_new(ERROR_INVALID, "%s: ram_mb %lld is outside 1..%lld",
                         what, (long long) flavor->ram_mb, (long long) max);
    }
    if (flavor->disk_gb < 0 || flavor->disk_gb > max) {
        return error_new(ERROR_INVALID,
                         "%s: disk_gb %lld is outside 0..%lld", what,
                         (long long) flavor->disk_gb, (long long) max);
    }
    return NULL;
}

/* ---- Sets of names ---------------------------------------------------- */

/* Returns the index of 's' in the sorted 'set', or the index where it
 * would go with '*ret_found' false. */
static size_t
cell_capacity_find_name(char *const *set, size_t n, const char *s,
                        bool *ret_found)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = strcmp(set[mid], s);

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

/* Adds a copy of 's' to the sorted set '*set' of '*n' names, which may
 * hold 'max' of them.  Returns 1 if it added it, 0 if it was there,
 * -E2BIG if the set is full. */
static int
cell_capacity_add_name(char ***set, size_t *n, size_t max, const char *s)
{
    bool found;
    size_t i = cell_capacity_find_name(*set, *n, s, &found);

    if (found) {
        return 0;
    }
    if (*n >= max) {
        return -E2BIG;
    }
    *set = xreallocarray(*set, *n + 1, sizeof **set);
    memmove(&(*set)[i + 1], &(*set)[i], (*n - i) * sizeof **set);
    (*set)[i] = xstrdup(s);
    (*n)++;
    return 1;
}

static void
cell_capacity_free_names(char **set, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(set[i]);
    }
    free(set);
}

static char **
cell_capacity_clone_names(char *const *set, size_t n)
{
    char **copy = xcalloc(n ? n : 1, sizeof *copy);

    for (size_t i = 0; i < n; i++) {
        copy[i] = xstrdup(set[i]);
    }
    return copy;
}

static bool
cell_capacity_names_equal(char *const *a, size_t n_a, char *const *b,
                          size_t n_b)
{
    if (n_a != n_b) {
        return false;
    }
    for (size_t i = 0; i < n_a; i++) {
        if (strcmp(a[i], b[i])) {
            return false;
        }
    }
    return true;
}

/* Checks that 'name' (a capability key or value, or a zone, described by
 * 'what') has 1 to CELL_CAPACITY_MAX_NAME_LENGTH bytes. */
static struct error *
cell_capacity_check_name(const char *what, const char *name)
{
    size_t length = strlen(name);

    if (!length || length > CELL_CAPACITY_MAX_NAME_LENGTH) {
        return error_new(ERROR_INVALID,
                         "%s '%.*s%s' must have 1 to %d bytes", what,
                         CELL_CAPACITY_MAX_NAME_LENGTH, name,
                         length > CELL_CAPACITY_MAX_NAME_LENGTH ? "..." : "",
                         CELL_CAPACITY_MAX_NAME_LENGTH);
    }
    return NULL;
}

/* Adds 'zone' to 'cap'.  Returns 1 if added, 0 if there, or an error. */
static struct error *
cell_capacity_add_zone(struct cell_capacity *cap, const char *zone,
                       int *ret_added)
{
    struct error *error = cell_capacity_check_name("Availability zone",
                                                   zone);
    int r;

    if (error) {
        return error;
    }
    r = cell_capacity_add_name(&cap->zones, &cap->n_zones,
                               CELL_CAPACITY_MAX_ZONES, zone);
    if (r < 0) {
        return error_new(ERROR_INVALID,
                         "A capacity report may list at most %d "
                         "availability zones", CELL_CAPACITY_MAX_ZONES);
    }
    if (ret_added) {
        *ret_added = r;
    }
    return NULL;
}

/* ---- Capabilities ----------------------------------------------------- */

/* Returns the index of 'key' in the capabilities of 'cap', or where it
 * would go with '*ret_found' false. */
static size_t
cell_capacity_find_key(const struct cell_capacity *cap, const char *key,
                       bool *ret_found)
{
    size_t lo = 0, hi = cap->n_capabilities;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = strcmp(cap->capabilities[mid].key, key);

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

/* Like cell_capacity_add_capability(), also storing in '*ret_added' (if
 * not NULL) whether the value was new. */
static struct error *
cell_capacity_add_value(struct cell_capacity *cap, const char *key,
                               const char *value, int *ret_added)
{
    struct cell_capacity_capability *capability;
    struct error *error;
    bool found;
    size_t i;
    int r;

    if ((error = cell_capacity_check_name("Capability key", key))
        || (error = cell_capacity_check_name("Capability value", value))) {
        return error;
    }
    i = cell_capacity_find_key(cap, key, &found);
    if (!found) {
        if (cap->n_capabilities >= CELL_CAPACITY_MAX_CAPABILITIES) {
            return error_new(ERROR_INVALID,
                             "A capacity report may have at most %d "
                             "capabilities", CELL_CAPACITY_MAX_CAPABILITIES);
        }
        cap->capabilities = xreallocarray(cap->capabilities,
                                          cap->n_capabilities + 1,
                                          sizeof *cap->capabilities);
        memmove(&cap->capabilities[i + 1], &cap->capabilities[i],
                (cap->n_capabilities - i) * sizeof *cap->capabilities);
        cap->capabilities[i] = (struct cell_capacity_capability) {
            .key = xstrdup(key),
        };
        cap->n_capabilities++;
    }
    capability = &cap->capabilities[i];
    r = cell_capacity_add_name(&capability->values, &capability->n_values,
                               CELL_CAPACITY_MAX_VALUES, value);
    if (r < 0) {
        return error_new(ERROR_INVALID,
                         "Capability '%s' may have at most %d values", key,
                         CELL_CAPACITY_MAX_VALUES);
    }
    if (ret_added) {
        *ret_added = r;
    }
    return NULL;
}

struct error *
cell_capacity_add_capability(struct cell_capacity *cap, const char *key,
                             const char *value)
{
    return cell_capacity_add_value(cap, key, value, NULL);
}

const struct cell_capacity_capability *
cell_capacity_find_capability(const struct cell_capacity *cap,
                              const char *key)
{
    bool found;
    size_t i = cell_capacity_find_key(cap, key, &found);

    return found ? &cap->capabilities[i] : NULL;
}

bool
cell_capacity_has_capability(const struct cell_capacity *cap,
                             const char *key, const char *value)
{
    const struct cell_capacity_capability *capability =
        cell_capacity_find_capability(cap, key);

    if (!capability) {
        return false;
    }
    for (size_t i = 0; i < capability->n_values; i++) {
        if (!strcasecmp(capability->values[i], value)) {
            return true;
        }
    }
    return false;
}

bool
cell_capacity_has_zone(const struct cell_capacity *cap, const char *zone)
{
    bool found;

    (void) cell_capacity_find_name(cap->zones, cap->n_zones, zone, &found);
    return found;
}

/* ---- Lifecycle -------------------------------------------------------- */

struct cell_capacity *
cell_capacity_new(int64_t now_ms)
{
    struct cell_capacity *cap = xzalloc(sizeof *cap);

    cap->reported_at_ms = now_ms;
    return cap;
}

void
cell_capacity_free(struct cell_capacity *cap)
{
    if (!cap) {
        return;
    }
    for (size_t i = 0; i < cap->n_capabilities; i++) {
        free(cap->capabilities[i].key);
        cell_capacity_free_names(cap->capabilities[i].values,
                                 cap->capabilities[i].n_values);
    }
    free(cap->capabilities);
    free(cap->units);
    cell_capacity_free_names(cap->zones, cap->n_zones);
    free(cap);
}

struct cell_capacity *
cell_capacity_clone(const struct cell_capacity *cap)
{
    struct cell_capacity *copy = xmalloc(sizeof *copy);

    *copy = *cap;
    copy->units = xcalloc(cap->n_units ? cap->n_units : 1,
                          sizeof *copy->units);
    if (cap->n_units) {
        memcpy(copy->units, cap->units, cap->n_units * sizeof *copy->units);
    }
    copy->capabilities = xcalloc(cap->n_capabilities
                                 ? cap->n_capabilities : 1,
                                 sizeof *copy->capabilities);
    for (size_t i = 0; i < cap->n_capabilities; i++) {
        const struct cell_capacity_capability *c = &cap->capabilities[i];

        copy->capabilities[i].key = xstrdup(c->key);
        copy->capabilities[i].values =
            cell_capacity_clone_names(c->values, c->n_values);
        copy->capabilities[i].n_values = c->n_values;
    }
    copy->zones = cell_capacity_clone_names(cap->zones, cap->n_zones);
    return copy;
}

static bool
cell_capacity_amounts_equal(const struct cell_capacity_amounts *a,
                            const struct cell_capacity_amounts *b)
{
    return (a->ram_mb == b->ram_mb && a->disk_gb == b->disk_gb
            && a->vcpus == b->vcpus);
}

bool
cell_capacity_equal(const struct cell_capacity *a,
                    const struct cell_capacity *b)
{
    if (a->reported_at_ms != b->reported_at_ms
        || !cell_capacity_amounts_equal(&a->free, &b->free)
        || !cell_capacity_amounts_equal(&a->total, &b->total)
        || a->n_instances != b->n_instances
        || a->n_units != b->n_units
        || a->n_capabilities != b->n_capabilities
        || !cell_capacity_names_equal(a->zones, a->n_zones, b->zones,
                                      b->n_zones)) {
        return false;
    }
    for (size_t i = 0; i < a->n_units; i++) {
        if (cell_capacity_flavor_compare(&a->units[i].flavor,
                                         &b->units[i].flavor)
            || a->units[i].units != b->units[i].units) {
            return false;
        }
    }
    for (size_t i = 0; i < a->n_capabilities; i++) {
        const struct cell_capacity_capability *x = &a->capabilities[i];
        const struct cell_capacity_capability *y = &b->capabilities[i];

        if (strcmp(x->key, y->key)
            || !cell_capacity_names_equal(x->values, x->n_values,
                                          y->values, y->n_values)) {
            return false;
        }
    }
    return true;
}

/* ---- Units ------------------------------------------------------------ */

int64_t
cell_capacity_units(const struct cell_capacity *cap,
                    const struct cell_capacity_flavor *flavor,
                    bool *ret_estimated)
{
    bool found;
    size_t i = cell_capacity_find_units(cap->units, cap->n_units, flavor,
                                        &found);

    if (ret_estimated) {
        *ret_estimated = !found;
    }
    return found ? cap->units[i].units : cell_capacity_fit(&cap->free,
                                                           flavor);
}

/* ---- Building --------------------------------------------------------- */

/* Returns the part of 'total' that 'percent' holds back, rounded up. */
static int64_t
cell_capacity_reserve(int64_t total, double percent)
{
    /* Exact enough: 'total' is at most 2^53.  Rounded up by hand rather
     * than with ceil(), which would need libm. */
    double reserve = (double) total * percent / CELL_CAPACITY_PERCENT;
    int64_t whole = (int64_t) reserve;

    return (double) whole < reserve ? whole + 1 : whole;
}

/* Checks host 'i' of the input. */
static struct error *
cell_capacity_check_host(size_t i, const struct cell_capacity_host *host)
{
    const struct cell_capacity_amounts *t = &host->total;

    if (t->ram_mb < 0 || t->disk_gb < 0 || t->vcpus < 0
        || host->n_instances < 0) {
        return error_new(ERROR_INVALID,
                         "Host %zu reports a negative total or instance "
                         "count", i);
    }
    return NULL;
}

/* Adds the capabilities and zone of usable host 'i' to 'cap'. */
static struct error *
cell_capacity_add_host_names(struct cell_capacity *cap, size_t i,
                             const struct cell_capacity_host *host)
{
    const char *zone = (host->availability_zone && *host->availability_zone
                        ? host->availability_zone
                        : CELL_CAPACITY_DEFAULT_ZONE);
    struct error *error = NULL;

    if (host->hypervisor_type && *host->hypervisor_type) {
        error = cell_capacity_add_capability(cap,
                                             CELL_CAPACITY_HYPERVISOR_TYPE,
                                             host->hypervisor_type);
    }
    if (!error && host->architecture && *host->architecture) {
        error = cell_capacity_add_capability(cap, CELL_CAPACITY_ARCHITECTURE,
                                             host->architecture);
    }
    if (!error) {
        error = cell_capacity_add_zone(cap, zone, NULL);
    }
    return error ? error_wrap(error, "Host %zu", i) : NULL;
}

/* Adds the free amounts and units of usable 'host' to 'cap'. */
static void
cell_capacity_add_host_room(struct cell_capacity *cap,
                            const struct cell_capacity_host *host,
                            double reserve_percent)
{
    struct cell_capacity_amounts free = {
        .ram_mb = cell_capacity_clamp(host->free.ram_mb),
        .disk_gb = cell_capacity_clamp(host->free.disk_gb),
        .vcpus = cell_capacity_clamp(host->free.vcpus),
    };
    struct cell_capacity_amounts avail = free;

    cell_capacity_amounts_add(&cap->free, &free);
    /* As Nova cells v1: the reserve is taken from RAM and disk only. */
    avail.ram_mb = MAX(0, avail.ram_mb - cell_capacity_reserve(
                           cell_capacity_clamp(host->total.ram_mb),
                           reserve_percent));
    avail.disk_gb = MAX(0, avail.disk_gb - cell_capacity_reserve(
                            cell_capacity_clamp(host->total.disk_gb),
                            reserve_percent));
    for (size_t f = 0; f < cap->n_units; f++) {
        struct cell_capacity_units *u = &cap->units[f];

        u->units = cell_capacity_add(u->units,
                                     cell_capacity_fit(&avail, &u->flavor));
    }
}

struct error *
cell_capacity_build(const struct cell_capacity_host *hosts, size_t n_hosts,
                    const struct cell_capacity_flavor *flavors,
                    size_t n_flavors, double reserve_percent,
                    int64_t now_ms, struct cell_capacity **ret_cap)
{
    CLEANUP(cell_capacity_freep) struct cell_capacity *cap = NULL;
    struct error *error;

    if (!isfinite(reserve_percent) || reserve_percent < 0.0
        || reserve_percent > CELL_CAPACITY_PERCENT) {
        return error_new(ERROR_INVALID,
                         "Reserve percent %g is outside 0..100",
                         reserve_percent);
    }
    if (n_hosts > CELL_CAPACITY_MAX_HOSTS) {
        return error_new(ERROR_INVALID,
                         "%zu hosts, a capacity report counts at most %d",
                         n_hosts, CELL_CAPACITY_MAX_HOSTS);
    }
    if (n_flavors > CELL_CAPACITY_MAX_FLAVORS) {
        return error_new(ERROR_INVALID,
                         "%zu flavors, a capacity report lists at most %d",
                         n_flavors, CELL_CAPACITY_MAX_FLAVORS);
    }

    cap = cell_capacity_new(now_ms);
    for (size_t f = 0; f < n_flavors; f++) {
        AUTOFREE char *what = xasprintf("Flavor %zu", f);

        error = cell_capacity_flavor_check(what, &flavors[f]);
        if (error) {
            return error;
        }
        /* The count was checked above: this cannot run out of room. */
        (void) cell_capacity_insert_units(cap, &flavors[f], 0);
    }

    for (size_t i = 0; i < n_hosts; i++) {
        const struct cell_capacity_host *host = &hosts[i];

        error = cell_capacity_check_host(i, host);
        if (error) {
            return error;
        }
        cell_capacity_amounts_add(&cap->total, &host->total);
        cap->n_instances = cell_capacity_add(cap->n_instances,
                                             cell_capacity_clamp(
                                                 host->n_instances));
        if (!host->usable) {
            continue;
        }
        error = cell_capacity_add_host_names(cap, i, host);
        if (error) {
            return error;
        }
        cell_capacity_add_host_room(cap, host, reserve_percent);
    }
    *ret_cap = TAKE_PTR(cap);
    return NULL;
}

/* Adds the capabilities and zones of 'child' to 'cap'. */
static struct error *
cell_capacity_merge_names(struct cell_capacity *cap,
                          const struct cell_capacity *child)
{
    struct error *error;

    for (size_t k = 0; k < child->n_capabilities; k++) {
        const struct cell_capacity_capability *c = &child->capabilities[k];

        for (size_t v = 0; v < c->n_values; v++) {
            error = cell_capacity_add_capability(cap, c->key, c->values[v]);
            if (error) {
                return error;
            }
        }
    }
    for (size_t z = 0; z < child->n_zones; z++) {
        error = cell_capacity_add_zone(cap, child->zones[z], NULL);
        if (error) {
            return error;
        }
    }
    return NULL;
}

struct error *
cell_capacity_aggregate(const struct cell_capacity *const *children,
                        size_t n_children, int64_t now_ms,
                        struct cell_capacity **ret_cap)
{
    CLEANUP(cell_capacity_freep) struct cell_capacity *cap = NULL;
    struct error *error;

    if (n_children > CELL_CAPACITY_MAX_CHILDREN) {
        return error_new(ERROR_INVALID,
                         "%zu reports, a cell aggregates at most %d",
                         n_children, CELL_CAPACITY_MAX_CHILDREN);
    }
    cap = cell_capacity_new(now_ms);
    for (size_t c = 0; c < n_children; c++) {
        const struct cell_capacity *child = children[c];

        cell_capacity_amounts_add(&cap->free, &child->free);
        cell_capacity_amounts_add(&cap->total, &child->total);
        cap->n_instances = cell_capacity_add(
            cap->n_instances, cell_capacity_clamp(child->n_instances));
        error = cell_capacity_merge_names(cap, child);
        if (error) {
            return error_wrap(error, "Cannot aggregate report %zu", c);
        }
        for (size_t u = 0; u < child->n_units; u++) {
            if (cell_capacity_insert_units(cap, &child->units[u].flavor,
                                           0) < 0) {
                return error_new(ERROR_INVALID,
                                 "Cannot aggregate report %zu: the reports "
                                 "list more than %d flavor sizes", c,
                                 CELL_CAPACITY_MAX_FLAVORS);
            }
        }
    }
    for (size_t u = 0; u < cap->n_units; u++) {
        struct cell_capacity_units *units = &cap->units[u];

        for (size_t c = 0; c < n_children; c++) {
            int64_t n = cell_capacity_units(children[c], &units->flavor,
                                            NULL);

            units->units = cell_capacity_add(units->units,
                                             cell_capacity_clamp(n));
        }
    }
    *ret_cap = TAKE_PTR(cap);
    return NULL;
}

/* ---- JSON ------------------------------------------------------------- */

static struct json_object *
cell_capacity_amounts_to_json(const struct cell_capacity_amounts *a)
{
    struct json_object *obj = json_object_new_object();

    json_object_object_add(obj, "ram_mb", json_object_new_int64(a->ram_mb));
    json_object_object_add(obj, "disk_gb",
                           json_object_new_int64(a->disk_gb));
    json_object_object_add(obj, "vcpus", json_object_new_int64(a->vcpus));
    return obj;
}

static struct json_object *
cell_capacity_names_to_json(char *const *set, size_t n)
{
    struct json_object *array = json_object_new_array();

    for (size_t i = 0; i < n; i++) {
        json_object_array_add(array, json_object_new_string(set[i]));
    }
    return array;
}

struct json_object *
cell_capacity_to_json(const struct cell_capacity *cap)
{
    struct json_object *obj = json_object_new_object();
    struct json_object *units = json_object_new_array();
    struct json_object *capabilities = json_object_new_object();

    for (size_t i = 0; i < cap->n_units; i++) {
        const struct cell_capacity_units *u = &cap->units[i];
        struct json_object *entry = json_object_new_object();

        json_object_object_add(entry, "vcpus",
                               json_object_new_int64(u->flavor.vcpus));
        json_object_object_add(entry, "ram_mb",
                               json_object_new_int64(u->flavor.ram_mb));
        json_object_object_add(entry, "disk_gb",
                               json_object_new_int64(u->flavor.disk_gb));
        json_object_object_add(entry, "units",
                               json_object_new_int64(u->units));
        json_object_array_add(units, entry);
    }
    for (size_t i = 0; i < cap->n_capabilities; i++) {
        const struct cell_capacity_capability *c = &cap->capabilities[i];

        json_object_object_add(capabilities, c->key,
                               cell_capacity_names_to_json(c->values,
                                                           c->n_values));
    }

    json_object_object_add(obj, "reported_at",
                           json_object_new_int64(cap->reported_at_ms));
    json_object_object_add(obj, "free",
                           cell_capacity_amounts_to_json(&cap->free));
    json_object_object_add(obj, "total",
                           cell_capacity_amounts_to_json(&cap->total));
    json_object_object_add(obj, "instances",
                           json_object_new_int64(cap->n_instances));
    json_object_object_add(obj, "units", units);
    json_object_object_add(obj, "capabilities", capabilities);
    json_object_object_add(obj, "availability_zones",
                           cell_capacity_names_to_json(cap->zones,
                                                       cap->n_zones));
    return obj;
}

/* Returns "path.field", or "field" for a NULL 'path'.  The caller frees
 * it. */
static char *
cell_capacity_field_name(const char *path, const char *field)
{
    return path ? xasprintf("%s.%s", path, field) : xstrdup(field);
}

static struct error * PRINTF_FMT(2, 3)
cell_capacity_field_error(const char *name, const char *fmt, ...)
{
    AUTOFREE char *detail = NULL;
    va_list args;

    va_start(args, fmt);
    detail = xvasprintf(fmt, args);
    va_end(args);
    return error_new(ERROR_INVALID,
                     "Invalid input for field/attribute '%s'. %s", name,
                     detail);
}

/* Reads integer 'field' of 'obj' in ['min', 'max'] into '*ret'. */
static struct error *
cell_capacity_get_int(const struct json_object *obj, const char *path,
                      const char *field, int64_t min, int64_t max,
                      int64_t *ret)
{
    long long value;
    struct error *error = json_get_int(obj, path, field, true, min, max,
                                       &value);

    if (!error) {
        *ret = value;
    }
    return error;
}

static struct error *
cell_capacity_amounts_from_json(const struct json_object *obj,
                                const char *path, const char *field,
                                struct cell_capacity_amounts *ret)
{
    static const int64_t max = CELL_CAPACITY_MAX_AMOUNT;
    AUTOFREE char *name = cell_capacity_field_name(path, field);
    struct json_object *amounts;
    struct error *error;

    if ((error = json_get_object(obj, path, field, true, &amounts))
        || (error = json_check_allowed_keys(amounts, name,
                                            cell_capacity_amount_keys))
        || (error = cell_capacity_get_int(amounts, name, "ram_mb", 0, max,
                                          &ret->ram_mb))
        || (error = cell_capacity_get_int(amounts, name, "disk_gb", 0, max,
                                          &ret->disk_gb))
        || (error = cell_capacity_get_int(amounts, name, "vcpus", 0, max,
                                          &ret->vcpus))) {
        return error;
    }
    return NULL;
}

static struct error *
cell_capacity_units_from_json(const struct json_object *obj,
                              const char *path, struct cell_capacity *cap)
{
    static const int64_t max = CELL_CAPACITY_MAX_FLAVOR_AMOUNT;
    AUTOFREE char *name = cell_capacity_field_name(path, "units");
    struct json_object *array;
    struct error *error;

    error = json_get_array(obj, path, "units", true,
                           CELL_CAPACITY_MAX_FLAVORS, &array);
    if (error) {
        return error;
    }
    for (size_t i = 0; i < json_object_array_length(array); i++) {
        const struct json_object *entry = json_object_array_get_idx(array,
                                                                    i);
        AUTOFREE char *item = xasprintf("%s[%zu]", name, i);
        struct cell_capacity_flavor flavor;
        int64_t units;

        if ((error = json_check_allowed_keys(entry, item,
                                             cell_capacity_units_keys))
            || (error = cell_capacity_get_int(entry, item, "vcpus", 1, max,
                                              &flavor.vcpus))
            || (error = cell_capacity_get_int(entry, item, "ram_mb", 1, max,
                                              &flavor.ram_mb))
            || (error = cell_capacity_get_int(entry, item, "disk_gb", 0, max,
                                              &flavor.disk_gb))
            || (error = cell_capacity_get_int(entry, item, "units", 0,
                                              CELL_CAPACITY_MAX_AMOUNT,
                                              &units))) {
            return error;
        }
        /* The array's length was checked: only a repeat returns 0. */
        if (!cell_capacity_insert_units(cap, &flavor, units)) {
            return cell_capacity_field_error(item,
                                             "Flavor size listed twice");
        }
    }
    return NULL;
}

/* Reads the array of strings 'field' of 'obj' (at most 'max' of them)
 * into the values of capability 'key' of 'cap' or, if 'key' is NULL, into
 * its zones.  A value listed twice is an error. */
static struct error *
cell_capacity_names_from_json(const struct json_object *obj,
                              const char *path, const char *field,
                              size_t max, struct cell_capacity *cap,
                              const char *key)
{
    AUTOFREE char *name = cell_capacity_field_name(path, field);
    struct json_object *array;
    struct error *error;

    error = json_get_array(obj, path, field, true, max, &array);
    if (error) {
        return error;
    }
    if (key && !json_object_array_length(array)) {
        /* A key without values would not survive a round trip. */
        return cell_capacity_field_error(name, "A capability needs at "
                                         "least one value");
    }
    for (size_t i = 0; i < json_object_array_length(array); i++) {
        AUTOFREE char *item = xasprintf("%s[%zu]", name, i);
        const char *value;
        int added = 0;

        error = json_get_string(json_object_array_get_idx(array, i), item,
                                NULL, true, CELL_CAPACITY_MAX_NAME_LENGTH,
                                &value);
        if (!error) {
            error = (key
                     ? cell_capacity_add_value(cap, key, value,
                                                      &added)
                     : cell_capacity_add_zone(cap, value, &added));
        }
        if (error) {
            return error_wrap(error, "Invalid input for field/attribute "
                              "'%s'", item);
        }
        if (!added) {
            return cell_capacity_field_error(item, "Value listed twice");
        }
    }
    return NULL;
}

static struct error *
cell_capacity_capabilities_from_json(const struct json_object *obj,
                                     const char *path,
                                     struct cell_capacity *cap)
{
    AUTOFREE char *name = cell_capacity_field_name(path, "capabilities");
    struct json_object *capabilities;
    struct error *error;

    error = json_get_object(obj, path, "capabilities", true, &capabilities);
    if (error) {
        return error;
    }
    if (json_object_object_length(capabilities)
        > CELL_CAPACITY_MAX_CAPABILITIES) {
        return cell_capacity_field_error(name,
                                         "%d capabilities, the maximum is "
                                         "%d",
                                         json_object_object_length(
                                             capabilities),
                                         CELL_CAPACITY_MAX_CAPABILITIES);
    }
    json_object_object_foreach(capabilities, key, values) {
        (void) values;
        error = cell_capacity_check_name("Capability key", key);
        if (!error) {
            error = cell_capacity_names_from_json(capabilities, name, key,
                                                  CELL_CAPACITY_MAX_VALUES,
                                                  cap, key);
        }
        if (error) {
            return error;
        }
    }
    return NULL;
}

struct error *
cell_capacity_from_json(const struct json_object *obj, const char *path,
                        struct cell_capacity **ret_cap)
{
    CLEANUP(cell_capacity_freep) struct cell_capacity *cap =
        cell_capacity_new(0);
    struct error *error;

    if ((error = json_check_allowed_keys(obj, path, cell_capacity_json_keys))
        || (error = cell_capacity_get_int(obj, path, "reported_at", 0,
                                          TIME_MAX_MS,
                                          &cap->reported_at_ms))
        || (error = cell_capacity_amounts_from_json(obj, path, "free",
                                                    &cap->free))
        || (error = cell_capacity_amounts_from_json(obj, path, "total",
                                                    &cap->total))
        || (error = cell_capacity_get_int(obj, path, "instances", 0,
                                          CELL_CAPACITY_MAX_AMOUNT,
                                          &cap->n_instances))
        || (error = cell_capacity_units_from_json(obj, path, cap))
        || (error = cell_capacity_capabilities_from_json(obj, path, cap))
        || (error = cell_capacity_names_from_json(obj, path,
                                                  "availability_zones",
                                                  CELL_CAPACITY_MAX_ZONES,
                                                  cap, NULL))) {
        return error;
    }
    *ret_cap = TAKE_PTR(cap);
    return NULL;
}
