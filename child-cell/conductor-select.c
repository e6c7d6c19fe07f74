/* conductor-select.c: select_destinations requests and replies, and DEST
 * lists (see conductor-select.h). */
#include <config.h>

#include "child-cell/conductor-select.h"

#include <errno.h>
#include <json-c/json.h>
#include <string.h>

#include "shared/error.h"
#include "shared/json-util.h"
#include "shared/xalloc.h"

/* Separator of Nova's "ZONE:HOST[:NODE]" availability zone syntax. */
#define CONDUCTOR_SELECT_ZONE_SEP ':'

/* MiB in a GiB. */
#define CONDUCTOR_SELECT_MB_PER_GB 1024

/* Largest flavor swap accepted, in MiB. */
#define CONDUCTOR_SELECT_MAX_SWAP SCHED_SPEC_MAX_SWAP_MB

static const char *const conductor_select_request_keys[] = {
    "spec", "instance_uuids", "num_alternates", NULL,
};

/* Gets the optional, nullable string 'field' of 'obj': '*ret' stays NULL
 * when the field is missing or null. */
static struct error *
conductor_select_get_nullable(const struct json_object *obj,
                              const char *path, const char *field,
                              size_t max_length, const char **ret)
{
    struct json_object *value;

    if (!json_object_object_get_ex(obj, field, &value) || !value) {
        return NULL;
    }
    return json_get_string(obj, path, field, false, max_length, ret);
}

/* Decodes the array of strings 'field' of 'obj' (optional) into a new
 * array stored in '*ret_items' (borrowing the strings) and its length in
 * '*ret_n'.  Each item must be non-empty. */
static struct error *
conductor_select_get_names(const struct json_object *obj, const char *path,
                           const char *field, size_t max_items,
                           const char ***ret_items, size_t *ret_n)
{
    struct json_object *array = NULL;
    struct error *error;
    AUTOFREE const char **items = NULL;
    size_t n;

    error = json_get_array(obj, path, field, false, max_items, &array);
    if (error || !array) {
        return error;
    }
    n = json_object_array_length(array);
    items = xcalloc(n ? n : 1, sizeof *items);
    for (size_t i = 0; i < n; i++) {
        const struct json_object *item = json_object_array_get_idx(array, i);
        AUTOFREE char *name = xasprintf("%s%s%s[%zu]", path ? path : "",
                                        path ? "." : "", field, i);

        error = json_get_string(item, name, NULL, true,
                                CONDUCTOR_SELECT_MAX_NAME_LENGTH, &items[i]);
        if (error) {
            return error;
        }
        if (!*items[i]) {
            return error_new(ERROR_INVALID, "Invalid input for field/"
                             "attribute '%s': the name is empty", name);
        }
    }
    *ret_items = TAKE_PTR(items);
    *ret_n = n;
    return NULL;
}

static struct error *
conductor_select_get_flavor(const struct json_object *spec,
                            struct sched_spec *s)
{
    struct json_object *flavor;
    long long vcpus, memory_mb, root_gb, ephemeral_gb, swap = 0;
    struct error *error;

    error = json_get_object(spec, "spec", "flavor", true, &flavor);
    if (!error) {
        error = json_get_int(flavor, "spec.flavor", "vcpus", true, 0,
                             SCHED_SPEC_MAX_VCPUS, &vcpus);
    }
    if (!error) {
        error = json_get_int(flavor, "spec.flavor", "memory_mb", true, 0,
                             SCHED_SPEC_MAX_MEMORY_MB, &memory_mb);
    }
    if (!error) {
        error = json_get_int(flavor, "spec.flavor", "root_gb", true, 0,
                             SCHED_SPEC_MAX_DISK_GB, &root_gb);
    }
    if (!error) {
        error = json_get_int(flavor, "spec.flavor", "ephemeral_gb", true, 0,
                             SCHED_SPEC_MAX_DISK_GB, &ephemeral_gb);
    }
    if (!error) {
        error = json_get_int(flavor, "spec.flavor", "swap", false, 0,
                             CONDUCTOR_SELECT_MAX_SWAP, &swap);
    }
    if (error) {
        return error;
    }
    s->vcpus = vcpus;
    s->memory_mb = memory_mb;
    s->root_gb = root_gb;
    s->ephemeral_gb = ephemeral_gb;
    /* The cell database claims disk in whole GiB, swap rounded up
     * (flavor_disk_gb()): the scheduler counts it the same way, so that a
     * host it picks never fails the claim over the rounding. */
    s->swap_mb = (swap + CONDUCTOR_SELECT_MB_PER_GB - 1)
                 / CONDUCTOR_SELECT_MB_PER_GB * CONDUCTOR_SELECT_MB_PER_GB;
    return NULL;
}

/* Reads the first of the property names 'names' (NULL-terminated) that
 * the image's properties have. */
static struct error *
conductor_select_get_property(const struct json_object *props,
                              const char *const *names, const char **ret)
{
    for (size_t i = 0; names[i]; i++) {
        struct error *error = conductor_select_get_nullable(
            props, "spec.image.properties", names[i],
            CONDUCTOR_SELECT_MAX_NAME_LENGTH, ret);

        if (error || *ret) {
            return error;
        }
    }
    return NULL;
}

static struct error *
conductor_select_get_image(const struct json_object *spec,
                           struct sched_spec *s)
{
    static const char *const arch_names[] = {
        "hw_architecture", "architecture", NULL,
    };
    static const char *const hv_names[] = {
        "img_hv_type", "hypervisor_type", NULL,
    };
    struct json_object *image = NULL;
    struct json_object *props = NULL;
    struct error *error;

    error = json_get_object(spec, "spec", "image", false, &image);
    if (!error && image) {
        error = json_get_object(image, "spec.image", "properties", false,
                                &props);
    }
    if (!error && props) {
        error = conductor_select_get_property(props, arch_names,
                                              &s->image_architecture);
    }
    if (!error && props) {
        error = conductor_select_get_property(props, hv_names,
                                              &s->image_hypervisor_type);
    }
    return error;
}

/* Splits Nova's "ZONE:HOST[:NODE]" zone into the request. */
static struct error *
conductor_select_get_zone(struct conductor_select_request *r,
                          const struct json_object *spec)
{
    const char *zone = NULL;
    const char *sep;
    struct error *error;

    error = conductor_select_get_nullable(spec, "spec", "availability_zone",
                                          3 * CONDUCTOR_SELECT_MAX_NAME_LENGTH
                                          + 2, &zone);
    if (error || !zone || !*zone) {
        return error;
    }
    sep = strchr(zone, CONDUCTOR_SELECT_ZONE_SEP);
    if (!sep) {
        r->spec.availability_zone = zone;
        return NULL;
    }

    const char *host = sep + 1;
    const char *node_sep = strchr(host, CONDUCTOR_SELECT_ZONE_SEP);
    size_t host_length = node_sep ? (size_t) (node_sep - host)
                                  : strlen(host);

    if (!host_length || (node_sep && !node_sep[1])) {
        return error_new(ERROR_INVALID, "Invalid input for field/attribute "
                         "'spec.availability_zone': '%s' names no host",
                         zone);
    }
    if (sep > zone) {
        r->zone = xstrndup(zone, (size_t) (sep - zone));
        r->spec.availability_zone = r->zone;
    }
    /* The host is borrowed from a copy owned through 'force_node' when a
     * node follows, else straight from the JSON string. */
    if (node_sep) {
        r->force_node = xstrdup(host);
        r->force_node[host_length] = '\0';
        r->force_hosts[0] = r->force_node;
    } else {
        r->force_hosts[0] = host;
    }
    r->spec.force_hosts = r->force_hosts;
    r->spec.n_force_hosts = 1;
    return NULL;
}

static struct error *
conductor_select_get_group(struct conductor_select_request *r,
                           const struct json_object *spec)
{
    struct json_object *group;
    const char *policy;
    struct error *error;

    if (!json_object_object_get_ex(spec, "group", &group) || !group) {
        return NULL;
    }
    error = json_get_object(spec, "spec", "group", false, &group);
    if (!error) {
        error = json_get_string(group, "spec.group", "policy", true,
                                CONDUCTOR_SELECT_MAX_NAME_LENGTH, &policy);
    }
    if (error) {
        return error;
    }
    if (sched_spec_policy_from_string(policy, &r->spec.group_policy)) {
        return error_new(ERROR_INVALID, "Invalid input for field/attribute "
                         "'spec.group.policy': unknown policy '%s'", policy);
    }
    return conductor_select_get_names(group, "spec.group", "hosts",
                                      SCHED_SPEC_MAX_HOST_NAMES,
                                      &r->group_hosts,
                                      &r->spec.n_group_hosts);
}

struct error *
conductor_select_decode_request(struct json_object *args,
                                struct conductor_select_request **ret_request)
{
    CLEANUP(conductor_select_request_freep)
        struct conductor_select_request *r = xzalloc(sizeof *r);
    struct json_object *spec;
    long long num_instances, num_alternates;
    size_t n_uuids = 0;
    struct error *error;

    r->args = json_object_get(args);
    sched_spec_init(&r->spec);

    error = json_get_object(args, NULL, NULL, true, &spec);
    if (!error) {
        error = json_check_allowed_keys(args, NULL,
                                        conductor_select_request_keys);
    }
    if (!error) {
        error = json_get_object(args, NULL, "spec", true, &spec);
    }
    if (!error) {
        error = json_get_int(args, NULL, "num_alternates", true, 0,
                             SCHED_SPEC_MAX_ALTERNATES, &num_alternates);
    }
    if (!error) {
        error = conductor_select_get_names(args, NULL, "instance_uuids",
                                           SCHED_SPEC_MAX_INSTANCES,
                                           &r->instance_uuids, &n_uuids);
    }
    if (!error && !r->instance_uuids) {
        error = error_new(ERROR_INVALID,
                          "'instance_uuids' is a required property");
    }
    if (!error) {
        error = json_get_int(spec, "spec", "num_instances", true, 1,
                             SCHED_SPEC_MAX_INSTANCES, &num_instances);
    }
    if (!error && (size_t) num_instances != n_uuids) {
        error = error_new(ERROR_INVALID, "Invalid select_destinations "
                          "request: 'spec.num_instances' is %lld but %zu "
                          "instance uuids were given", num_instances,
                          n_uuids);
    }
    if (!error) {
        error = conductor_select_get_flavor(spec, &r->spec);
    }
    if (!error) {
        error = conductor_select_get_image(spec, &r->spec);
    }
    if (!error) {
        error = conductor_select_get_zone(r, spec);
    }
    if (!error) {
        error = conductor_select_get_names(spec, "spec", "ignore_hosts",
                                           SCHED_SPEC_MAX_HOST_NAMES,
                                           &r->ignore_hosts,
                                           &r->spec.n_ignore_hosts);
    }
    if (!error) {
        error = conductor_select_get_group(r, spec);
    }
    if (error) {
        return error;
    }

    r->spec.num_instances = n_uuids;
    r->spec.instance_uuids = r->instance_uuids;
    r->spec.group_hosts = r->group_hosts;
    r->spec.ignore_hosts = r->ignore_hosts;
    r->spec.n_alternates = (size_t) num_alternates;
    error = sched_spec_validate(&r->spec);
    if (error) {
        return error;
    }
    *ret_request = TAKE_PTR(r);
    return NULL;
}

void
conductor_select_request_free(struct conductor_select_request *r)
{
    if (!r) {
        return;
    }
    json_object_put(r->args);
    free(r->instance_uuids);
    free(r->group_hosts);
    free(r->ignore_hosts);
    free(r->zone);
    free(r->force_node);
    free(r);
}

struct json_object *
conductor_select_encode_request(const struct json_object *spec,
                                const char *const *uuids, size_t n_uuids,
                                int num_alternates,
                                const char *const *ignore_hosts,
                                size_t n_ignore_hosts)
{
    struct json_object *args = json_object_new_object();
    struct json_object *copy = NULL;
    struct json_object *array = json_object_new_array();

    if (json_object_deep_copy((struct json_object *) spec, &copy, NULL)) {
        /* Only an allocation failure makes a deep copy fail. */
        abort();
    }
    json_object_object_add(copy, "num_instances",
                           json_object_new_int64((int64_t) n_uuids));
    if (n_ignore_hosts) {
        struct json_object *ignore = NULL;

        if (!json_object_object_get_ex(copy, "ignore_hosts", &ignore)
            || !json_object_is_type(ignore, json_type_array)) {
            ignore = json_object_new_array();
            json_object_object_add(copy, "ignore_hosts", ignore);
        }
        for (size_t i = 0; i < n_ignore_hosts; i++) {
            json_object_array_add(ignore,
                                  json_object_new_string(ignore_hosts[i]));
        }
    }
    for (size_t i = 0; i < n_uuids; i++) {
        json_object_array_add(array, json_object_new_string(uuids[i]));
    }
    json_object_object_add(args, "spec", copy);
    json_object_object_add(args, "instance_uuids", array);
    json_object_object_add(args, "num_alternates",
                           json_object_new_int(num_alternates));
    return args;
}

void
conductor_dest_list_destroy(struct conductor_dest_list *list)
{
    if (!list) {
        return;
    }
    for (size_t i = 0; i < list->n; i++) {
        free(list->dests[i].host);
        free(list->dests[i].node);
    }
    free(list->dests);
    list->dests = NULL;
    list->n = 0;
}

void
conductor_dest_list_add(struct conductor_dest_list *list, const char *host,
                        const char *node)
{
    list->dests = xreallocarray(list->dests, list->n + 1,
                                sizeof *list->dests);
    list->dests[list->n].host = xstrdup(host);
    list->dests[list->n].node = xstrdup(node);
    list->n++;
}

struct json_object *
conductor_dest_list_to_json(const struct conductor_dest_list *list,
                            size_t first)
{
    struct json_object *array = json_object_new_array();

    for (size_t i = first; i < list->n; i++) {
        struct json_object *dest = json_object_new_object();

        json_object_object_add(dest, "host",
                               json_object_new_string(list->dests[i].host));
        json_object_object_add(dest, "node",
                               json_object_new_string(list->dests[i].node));
        json_object_array_add(array, dest);
    }
    return array;
}

struct error *
conductor_dest_list_from_json(const struct json_object *array,
                              const char *path,
                              struct conductor_dest_list *list)
{
    static const char *const dest_keys[] = { "host", "node", NULL };
    struct json_object *checked;
    struct conductor_dest_list tmp = { NULL, 0 };
    struct error *error;

    error = json_get_array(array, path, NULL, true,
                           CONDUCTOR_SELECT_MAX_DESTS, &checked);
    for (size_t i = 0; !error && i < json_object_array_length(checked);
         i++) {
        const struct json_object *dest = json_object_array_get_idx(checked,
                                                                   i);
        AUTOFREE char *name = xasprintf("%s[%zu]", path, i);
        struct json_object *checked_dest;
        const char *host, *node;

        error = json_get_object(dest, name, NULL, true, &checked_dest);
        if (!error) {
            error = json_check_allowed_keys(dest, name, dest_keys);
        }
        if (!error) {
            error = json_get_string(dest, name, "host", true,
                                    CONDUCTOR_SELECT_MAX_NAME_LENGTH, &host);
        }
        if (!error) {
            error = json_get_string(dest, name, "node", true,
                                    CONDUCTOR_SELECT_MAX_NAME_LENGTH, &node);
        }
        if (!error && (!*host || !*node)) {
            error = error_new(ERROR_INVALID, "Invalid input for field/"
                              "attribute '%s': empty host or node", name);
        }
        if (!error) {
            conductor_dest_list_add(&tmp, host, node);
        }
    }
    if (error) {
        conductor_dest_list_destroy(&tmp);
        return error;
    }
    *list = tmp;
    return NULL;
}

struct error *
conductor_select_decode_reply(const struct json_object *result,
                              size_t n_instances,
                              struct conductor_dest_list **ret_lists)
{
    struct json_object *selections;
    struct conductor_dest_list *lists;
    struct error *error;

    error = json_get_array(result, NULL, "selections", true,
                           SCHED_SPEC_MAX_INSTANCES, &selections);
    if (error) {
        return error;
    }
    if (json_object_array_length(selections) != n_instances) {
        return error_new(ERROR_INVALID, "Invalid select_destinations reply: "
                         "%zu selections for %zu instances",
                         json_object_array_length(selections), n_instances);
    }
    lists = xcalloc(n_instances ? n_instances : 1, sizeof *lists);
    for (size_t i = 0; i < n_instances; i++) {
        AUTOFREE char *path = xasprintf("selections[%zu]", i);

        error = conductor_dest_list_from_json(
            json_object_array_get_idx(selections, i), path, &lists[i]);
        if (!error && !lists[i].n) {
            error = error_new(ERROR_INVALID, "Invalid select_destinations "
                              "reply: '%s' is empty", path);
        }
        if (error) {
            conductor_select_reply_free(lists, n_instances);
            return error;
        }
    }
    *ret_lists = lists;
    return NULL;
}

void
conductor_select_reply_free(struct conductor_dest_list *lists, size_t n)
{
    if (!lists) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        conductor_dest_list_destroy(&lists[i]);
    }
    free(lists);
}
