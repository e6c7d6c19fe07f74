/* availability-zones-api.h: the compute API's availability zones
 * (/v2.1/os-availability-zone).
 *
 * The zones a user may name when booting: those of the cells in the cell
 * registry (cell_mappings.availability_zones) and the configured default
 * zone (compute_api_config.default_availability_zone). */
#ifndef NOVA_AVAILABILITY_ZONES_API_H
#define NOVA_AVAILABILITY_ZONES_API_H 1

struct compute_api;
struct http_router;

/* Registers GET /v2.1/os-availability-zone[/detail] on 'router', with
 * 'compute' as their aux. */
void availability_zones_api_register(struct http_router *router,
                                     struct compute_api *compute);

#endif /* NOVA_AVAILABILITY_ZONES_API_H */
