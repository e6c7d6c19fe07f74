/* manage-service.h: the "nova-manage service ..." commands through the
 * tree of cells.
 *
 *     service list [--cell NAME] [--host H] [--binary B]
 *                  [--format text|json]
 *     service disable HOST BINARY [--cell NAME] [--reason TEXT]
 *     service enable HOST BINARY [--cell NAME]
 *     service force-down HOST BINARY [--cell NAME] [--unset]
 *
 * They ask the API cell's nova-cells, over RPC on the API cell's vhost
 * (its transport URL is the root's in the cell registry of the API
 * database), with CELLS_SERVICE_LIST and CELLS_SERVICE_UPDATE
 * (cells-rpc/cells-rpcapi.h): the list is gathered from every cell with
 * hosts below NAME (the whole tree without --cell), an update is sent to
 * the one cell that holds the service.  Without --cell that cell is found
 * by listing the service first; a service found in several cells must be
 * named with --cell.
 *
 * list prints one row per service, with the path of its cell, as an
 * aligned table, or with --format json the answer of nova-cells as it is
 * ({"services": [...], "missing": [cell path]}).  Cells that did not
 * answer in time are named on stderr and make the command fail after it
 * printed what it has.
 *
 * Exit status (as every handler of manage-cell.h): 0 on success; 1 when
 * the service or the cell is not found, a service is in several cells,
 * nova-cells cannot be reached or does not answer in time, or some cells
 * did not answer; 2 for a mistake on the command line.
 *
 * nova-manage runs these when --cell is given or when database.connection
 * is not set; otherwise its own "service" commands work on the one cell
 * database of database.connection, as before. */
#ifndef NOVA_MANAGE_SERVICE_H
#define NOVA_MANAGE_SERVICE_H 1

#include <stdio.h>
#include "shared/compiler.h"

struct error;

/* Seconds nova-manage waits for nova-cells. */
#define MANAGE_SERVICE_TIMEOUT_S 60

struct error *manage_service_tree_list(const char *api_db_url, FILE *out,
                                       int argc, char *argv[]) WARN_UNUSED;
struct error *manage_service_tree_disable(const char *api_db_url,
                                          FILE *out, int argc,
                                          char *argv[]) WARN_UNUSED;
struct error *manage_service_tree_enable(const char *api_db_url,
                                         FILE *out, int argc,
                                         char *argv[]) WARN_UNUSED;
struct error *manage_service_tree_force_down(const char *api_db_url,
                                             FILE *out, int argc,
                                             char *argv[]) WARN_UNUSED;

#endif /* NOVA_MANAGE_SERVICE_H */
