/* services-api.h: the compute API's services (/v2.1/os-services).
 *
 * Nova's os-services API, admin only:
 *
 *     GET /v2.1/os-services                  list (query: binary, host)
 *     PUT /v2.1/os-services/enable           {"host", "binary"}
 *     PUT /v2.1/os-services/disable          {"host", "binary"}
 *     PUT /v2.1/os-services/disable-log-reason
 *                                            {"host", "binary",
 *                                             "disabled_reason"}
 *     PUT /v2.1/os-services/force-down       {"host", "binary",
 *                                             "forced_down"} (2.11)
 *
 * The services live in the leaves' cell databases: the list asks the API
 * cell's nova-cells for the services of the whole tree (service_list,
 * cells-rpc/cells-rpcapi.h), leaving out the cells that did not answer;
 * an update goes to the leaf that runs the host, found in the API
 * database's host_mappings or, when the host is not mapped there, with a
 * service_list of that host first.  Only nova-compute services can be
 * updated, as in Nova.  Ids are unique across the tree
 * (services-common.h: cell id * 1000000 + the leaf's row id).
 *
 * XXX: DELETE /v2.1/os-services/{id} is not served yet. */
#ifndef NOVA_SERVICES_API_H
#define NOVA_SERVICES_API_H 1

struct compute_api;
struct http_router;

/* Registers the routes above on 'router', with 'compute' as their aux. */
void services_api_register(struct http_router *router,
                           struct compute_api *compute);

#endif /* NOVA_SERVICES_API_H */
