/* manage-instance.h: the "nova-manage instance ..." commands.
 *
 *     instance locate UUID [--format text|json]
 *
 * locate prints the path of the cell that holds instance UUID, from its
 * instance mapping, or from the top view when it has no mapping.  It
 * fails (exit 1) with a message when the instance is unknown or not
 * placed in a cell yet.
 *
 * The handler follows manage-cell.h (same signature and exit codes);
 * manage_instance_commands lists it, and nova-manage merges that table
 * with manage_cell_commands. */
#ifndef NOVA_MANAGE_INSTANCE_H
#define NOVA_MANAGE_INSTANCE_H 1

#include <stddef.h>
#include <stdio.h>
#include "api-cell/manage-cell.h"
#include "shared/compiler.h"

struct error;

extern const struct manage_cell_command manage_instance_commands[];
extern const size_t manage_instance_n_commands;

struct error *manage_instance_locate(const char *api_db_url, FILE *out,
                                     int argc, char *argv[]) WARN_UNUSED;

#endif /* NOVA_MANAGE_INSTANCE_H */
