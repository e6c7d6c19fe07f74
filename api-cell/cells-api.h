/* cells-api.h: the admin view of the cell tree (/v2.1/os-cells), in the
 * shapes of Nova's cells v1 extension, adapted to a tree.
 *
 *     GET /v2.1/os-cells                      {"cells": [CELL, ...]}
 *     GET /v2.1/os-cells/{name}               {"cell": CELL}
 *     GET /v2.1/os-cells/{name}/capacities    {"cell": {"name": ...,
 *                                               "capacities": {...}}}
 *
 * where CELL is {"name", "path", "parent" (name, null for the root),
 * "type" ("parent" for a cell with child cells, "child" for a leaf),
 * "disabled", "availability_zones", "health" (what its parent holds of
 * it, null for the root or before its first report), "last_heard_at"
 * (ISO 8601 or null), "children" (names)}.  Transport and database URLs
 * are not shown.  {name} is a cell name or path.
 *
 * capacities has cells v1's form, from the cell's latest capacity report
 * (the sum of its children's for a cell that sends none, the root):
 *
 *     {"ram_free": {"total_mb": 30720, "units_by_mb": {"512": 44, ...}},
 *      "disk_free": {"total_mb": 921600, "units_by_mb": {"1024": 44}}}
 *
 * with units keyed by a flavor size's RAM, and by its disk in MiB.
 *
 * Admin only: anyone else gets 403.  An unknown cell is 404 itemNotFound.
 * Everything is read from the API database (cell-registry.h and
 * cell-status.h); nothing goes down the tree. */
#ifndef NOVA_CELLS_API_H
#define NOVA_CELLS_API_H 1

struct compute_api;
struct http_router;

/* Registers the routes above on 'router', with 'compute' as their aux. */
void cells_api_register(struct http_router *router,
                        struct compute_api *compute);

#endif /* NOVA_CELLS_API_H */
