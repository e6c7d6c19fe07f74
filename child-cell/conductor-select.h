/* conductor-select.h: the wire form of the scheduler's
 * select_destinations (child-cell/rpcapi.h), shared by its caller
 * (nova-conductor) and its server (nova-scheduler), and of the DEST lists
 * that nova-conductor and nova-compute pass each other as alternates.
 *
 * The request is
 *
 *     {"spec": SPEC, "instance_uuids": [str], "num_alternates": int}
 *
 * where SPEC is the request spec that nova-cells hands to the conductor
 * with build_instances: the conductor forwards it, setting "num_instances"
 * to the number of instances it schedules now.  The scheduler decodes it
 * into a 'struct sched_spec' (sched-spec.h):
 *
 *   - the flavor's vcpus, memory_mb, root_gb, ephemeral_gb and swap (MiB,
 *     rounded up to whole GiB as the cell database's claims count it);
 *   - the image properties "hw_architecture" and "img_hv_type" (Nova's
 *     names), or the older "architecture" and "hypervisor_type";
 *   - the availability zone, where Nova's "ZONE:HOST" and
 *     "ZONE:HOST:NODE" forms force the host (an empty zone, ":HOST", means
 *     any zone), as the admin-only zone syntax of Nova's API does;
 *   - "ignore_hosts", and the server group's policy and member hosts.
 *
 * The reply is {"selections": [[DEST, DEST...], ...]}, one list per
 * instance, the chosen host first.
 *
 * Every decoder is strict on types and limits and returns an ERROR_INVALID
 * error naming the field; nothing here touches the network or a clock. */
#ifndef CHILD_CELL_CONDUCTOR_SELECT_H
#define CHILD_CELL_CONDUCTOR_SELECT_H 1

#include <stddef.h>
#include "child-cell/sched-spec.h"
#include "shared/cleanup.h"
#include "shared/compiler.h"

struct error;
struct json_object;

/* Longest host, node or zone name accepted, in characters (the width of
 * the cell database's columns). */
#define CONDUCTOR_SELECT_MAX_NAME_LENGTH 255

/* Most destinations in one DEST list: the chosen host and the most
 * alternates a request may ask for. */
#define CONDUCTOR_SELECT_MAX_DESTS (1 + SCHED_SPEC_MAX_ALTERNATES)

/* A decoded select_destinations request.  'spec' borrows its strings from
 * 'args' and the arrays below, all owned by the request. */
struct conductor_select_request {
    struct sched_spec spec;
    struct json_object *args;       /* Owned reference. */
    const char **instance_uuids;
    const char **group_hosts;
    const char **ignore_hosts;
    const char *force_hosts[1];
    char *zone;                     /* Zone part of "ZONE:HOST"; owned. */
    char *force_node;               /* NODE of "ZONE:HOST:NODE"; owned. */
};

/* Decodes the arguments 'args' of select_destinations (borrowed: the
 * request takes its own reference).  Returns NULL and stores the request
 * (owned by the caller) in '*ret_request', or an ERROR_INVALID error
 * naming the field.  The spec has passed sched_spec_validate(). */
struct error *conductor_select_decode_request(
    struct json_object *args, struct conductor_select_request **ret_request)
    WARN_UNUSED;

/* Frees 'request'.  Accepts NULL. */
void conductor_select_request_free(struct conductor_select_request *request);
DEFINE_FREEP(struct conductor_select_request, conductor_select_request_free)

/* Returns new select_destinations arguments for the 'n_uuids' instances
 * 'uuids' of request spec 'spec' (a JSON object, borrowed and copied, its
 * "num_instances" set to 'n_uuids'), with 'num_alternates' alternates
 * each and the hosts 'ignore_hosts' (may be NULL) added to its
 * "ignore_hosts".  The caller owns the result. */
struct json_object *conductor_select_encode_request(
    const struct json_object *spec, const char *const *uuids, size_t n_uuids,
    int num_alternates, const char *const *ignore_hosts,
    size_t n_ignore_hosts);

/* A destination: a host and its hypervisor node. */
struct conductor_dest {
    char *host;
    char *node;
};

/* A list of destinations, best first. */
struct conductor_dest_list {
    struct conductor_dest *dests;
    size_t n;
};

/* Frees what 'list' owns and leaves it empty.  Accepts NULL. */
void conductor_dest_list_destroy(struct conductor_dest_list *list);

/* Appends a copy of 'host' and 'node' to 'list'. */
void conductor_dest_list_add(struct conductor_dest_list *list,
                             const char *host, const char *node);

/* Returns a new JSON array of the destinations of 'list' from index
 * 'first' on (none when 'first' >= list->n). */
struct json_object *conductor_dest_list_to_json(
    const struct conductor_dest_list *list, size_t first);

/* Decodes a DEST array 'array' (borrowed), named 'path' in messages, into
 * '*list' (initialised empty by the caller; left empty on error).  At
 * most CONDUCTOR_SELECT_MAX_DESTS entries. */
struct error *conductor_dest_list_from_json(const struct json_object *array,
                                            const char *path,
                                            struct conductor_dest_list *list)
    WARN_UNUSED;

/* Decodes the result of select_destinations for a request of 'n_instances'
 * instances.  Returns NULL and stores an array of 'n_instances' lists
 * (each with at least one destination; free it with
 * conductor_select_reply_free()) in '*ret_lists', or an ERROR_INVALID
 * error when the reply does not have that shape. */
struct error *conductor_select_decode_reply(
    const struct json_object *result, size_t n_instances,
    struct conductor_dest_list **ret_lists) WARN_UNUSED;

/* Frees 'lists', an array of 'n' lists.  Accepts NULL. */
void conductor_select_reply_free(struct conductor_dest_list *lists,
                                 size_t n);

#endif /* CHILD_CELL_CONDUCTOR_SELECT_H */
