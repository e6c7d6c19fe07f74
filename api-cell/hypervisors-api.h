/* hypervisors-api.h: the compute API's hypervisors (/v2.1/os-hypervisors).
 *
 * Nova's os-hypervisors API at microversion 2.1, admin only:
 *
 *     GET /v2.1/os-hypervisors               {"hypervisors": [{"id",
 *                                             "hypervisor_hostname",
 *                                             "state", "status"}]}
 *     GET /v2.1/os-hypervisors/detail        every field, below
 *     GET /v2.1/os-hypervisors/{id}          {"hypervisor": detail}
 *     GET /v2.1/os-hypervisors/statistics    {"hypervisor_statistics":
 *                                             sums over the nodes whose
 *                                             service is enabled}
 *
 * Detail fields: id, hypervisor_hostname, state, status, vcpus,
 * vcpus_used, memory_mb, memory_mb_used, local_gb, local_gb_used,
 * free_ram_mb, free_disk_gb, current_workload (0), running_vms,
 * hypervisor_type, hypervisor_version, host_ip (null: not reported),
 * disk_available_least (the free disk), cpu_info (JSON text) and
 * service {"host", "id", "disabled_reason"}.
 *
 * The compute nodes live in the leaves' cell databases: every request
 * asks the API cell's nova-cells for them (compute_node_list,
 * cells-rpc/cells-rpcapi.h; for one hypervisor, of its cell only),
 * leaving out the cells that did not answer.  Hypervisor and service ids
 * are unique across the tree (services-common.h). */
#ifndef NOVA_HYPERVISORS_API_H
#define NOVA_HYPERVISORS_API_H 1

struct compute_api;
struct http_router;

/* Registers the routes above on 'router', with 'compute' as their aux. */
void hypervisors_api_register(struct http_router *router,
                              struct compute_api *compute);

#endif /* NOVA_HYPERVISORS_API_H */
