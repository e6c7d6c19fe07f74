/* cells-queries.h: the leaf-side answers to nova-cells' read and update
 * calls on services, hypervisors and instance actions.
 *
 * nova-api asks its nova-cells for the services of the tree
 * ("service_list"), the compute nodes ("compute_node_list"), a change of
 * one service ("service_update") and an instance's actions
 * ("instance_action_list", "instance_action_get"); see
 * cells-rpc/cells-rpcapi.h.  The request travels down to the leaves; each
 * leaf's nova-cells runs the matching function below against its own cell
 * database (child-cell/cell-db.h) and sends the result back up, where the
 * results of every leaf are merged.
 *
 * Each function takes the leaf's connection 'db', the leaf's 'cell_path'
 * (copied into every SERVICE and NODE), the call's 'args' (borrowed; keys
 * the function does not use, such as "cell_path", are ignored) and, where
 * liveness matters, the leaf's service_down_time in seconds.  On success
 * it stores a new JSON object, owned by the caller, in '*ret'; on failure
 * it returns the error (ERROR_INVALID for bad arguments, ERROR_NOT_FOUND
 * with Nova's message for a missing host, service, instance or action, the
 * kinds of shared/db.h for database failures) and leaves '*ret' alone.
 *
 * Shapes.  Times are ISO 8601 UTC with microseconds and no zone
 * ("2026-11-22T09:55:08.123000", Nova's form for these resources) or
 * null.
 *
 *   SERVICE = {"cell_path", "id" (the leaf row id), "uuid", "binary",
 *              "host", "topic", "zone", "disabled", "disabled_reason",
 *              "forced_down", "last_seen_up", "updated_at" (the last
 *              heartbeat, else the last change of the row, as Nova's
 *              servicegroup API reports it), "report_count", "up"}
 *   "zone" is "internal" for every binary but nova-compute, whose zone is
 *   the args' "availability_zone" (a string) when given, else "nova".
 *
 *   NODE    = {"cell_path", "id" (the leaf row id), "uuid", "host",
 *              "hypervisor_hostname", "hypervisor_type",
 *              "hypervisor_version", "vcpus", "vcpus_used", "memory_mb",
 *              "memory_mb_used", "local_gb", "local_gb_used",
 *              "running_vms", "cpu_info" (JSON text or null), "state"
 *              ("up"|"down": the host's nova-compute), "status"
 *              ("enabled"|"disabled"), "service_id" (the leaf row id of
 *              that service, null when it never reported),
 *              "disabled_reason", "forced_down"}
 *
 * Threads: like the cell_db_* functions, each runs on the caller's thread
 * with the caller's connection. */
#ifndef NOVA_CELLS_QUERIES_H
#define NOVA_CELLS_QUERIES_H 1

#include "shared/compiler.h"

struct db;
struct error;
struct json_object;

/* The zone of services that are not nova-compute, and the zone of
 * nova-compute when the call names none (Nova's internal_service_
 * availability_zone and default_availability_zone). */
#define CELLS_QUERY_INTERNAL_ZONE "internal"
#define CELLS_QUERY_DEFAULT_ZONE "nova"

/* The binary whose services are compute hosts. */
#define CELLS_QUERY_COMPUTE_BINARY "nova-compute"

/* "service_list": 'args' {"binary": str|null, "host": str|null,
 * "availability_zone": str (optional)} selects the services (not
 * deleted) of that binary and host (null or absent: any), ordered by
 * id.  Result: {"services": [SERVICE], "missing": []}. */
struct error *cells_query_services(struct db *, const char *cell_path,
                                   const struct json_object *args,
                                   int service_down_time_s,
                                   struct json_object **ret) WARN_UNUSED;

/* "service_update": 'args' {"host": str, "binary": str, "disabled":
 * bool (optional), "disabled_reason": str|null (optional; a string only
 * with "disabled"; enabling always clears the reason), "forced_down": bool
 * (optional)} changes the service 'binary' on 'host' in one transaction.
 * ERROR_NOT_FOUND "Compute host <host> could not be found." when no
 * service runs on 'host', "Service <binary> on host <host> could not be
 * found." when 'host' has no such binary.  Result: the SERVICE after the
 * change. */
struct error *cells_query_service_update(struct db *, const char *cell_path,
                                         const struct json_object *args,
                                         int service_down_time_s,
                                         struct json_object **ret)
    WARN_UNUSED;

/* "compute_node_list": 'args' {"host": str|null (optional)} selects the
 * compute nodes (not deleted), of that host only when given, ordered by
 * id.  Result: {"compute_nodes": [NODE], "missing": []}. */
struct error *cells_query_compute_nodes(struct db *, const char *cell_path,
                                        const struct json_object *args,
                                        int service_down_time_s,
                                        struct json_object **ret)
    WARN_UNUSED;

/* "instance_action_list": 'args' {"instance_uuid": str}.  Result, Nova's
 * os-instance-actions 2.1 index: {"instanceActions": [{"action",
 * "instance_uuid", "message", "project_id", "request_id", "start_time",
 * "user_id"}]}, newest first.  ERROR_NOT_FOUND "Instance <uuid> could not
 * be found." for an unknown instance. */
struct error *cells_query_instance_actions(struct db *,
                                           const char *cell_path,
                                           const struct json_object *args,
                                           struct json_object **ret)
    WARN_UNUSED;

/* "instance_action_get": 'args' {"instance_uuid": str, "request_id":
 * str}.  Result, Nova's os-instance-actions 2.1 show: {"instanceAction":
 * {the fields above, "events": [{"event", "start_time", "finish_time",
 * "result", "traceback"}]}}, oldest event first.  The tracebacks are
 * left in: the API removes them for callers who may not see them.
 * ERROR_NOT_FOUND "Action for request_id <id> on instance <uuid> not
 * found" when there is no such action. */
struct error *cells_query_instance_action(struct db *, const char *cell_path,
                                          const struct json_object *args,
                                          struct json_object **ret)
    WARN_UNUSED;

#endif /* NOVA_CELLS_QUERIES_H */
