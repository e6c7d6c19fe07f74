/* manage-host.h: the "nova-manage" commands about compute hosts and the
 * cells they belong to (the host_mappings table of the API database).
 *
 *     cell discover_hosts [--cell NAME] [--format text|json]
 *     host list [--cell NAME] [--format text|json]
 *
 * discover_hosts reads the nova-compute services of each cell that runs
 * hosts (every leaf, and any cell with 'hosts'), below NAME if given,
 * from that cell's own database (its URL in cell_mappings), and maps each
 * host not mapped yet to that cell, printing what it mapped.  A host
 * already mapped to another cell is reported and left alone; a cell whose
 * database cannot be read is reported, the others are still discovered,
 * and the command then fails (exit 1).
 *
 * host list prints the mapped hosts, of the cells below NAME if given.
 *
 * The handlers follow manage-cell.h (same signature and exit codes).
 * manage_host_commands lists them, with "cell capacities" of
 * manage-cell.h; nova-manage merges it with manage_cell_commands. */
#ifndef NOVA_MANAGE_HOST_H
#define NOVA_MANAGE_HOST_H 1

#include <stddef.h>
#include <stdio.h>
#include "api-cell/manage-cell.h"
#include "shared/compiler.h"

struct error;

extern const struct manage_cell_command manage_host_commands[];
extern const size_t manage_host_n_commands;

struct error *manage_host_discover(const char *api_db_url, FILE *out,
                                   int argc, char *argv[]) WARN_UNUSED;
struct error *manage_host_list(const char *api_db_url, FILE *out, int argc,
                               char *argv[]) WARN_UNUSED;

#endif /* NOVA_MANAGE_HOST_H */
