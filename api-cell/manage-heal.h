/* manage-heal.h: "nova-manage cell heal".
 *
 *     cell heal [--cell NAME] [--transport-url URL] [--timeout SECONDS]
 *               [--format text|json]
 *
 * Asks the API cell's nova-cells, over RPC on the API cell's vhost, to
 * compare the leaves below cell NAME (a name or a path; the whole tree
 * without --cell) with the top view and repair what differs
 * (child-cell/cells-heal.h), then prints what it fixed, what it marked
 * deleted and the cells that did not answer.  The API cell's transport
 * URL is the root's in the cell registry of the API database
 * (api_database.connection), unless --transport-url gives it.
 *
 * The handler has the signature of the commands of manage-cell.h. */
#ifndef NOVA_MANAGE_HEAL_H
#define NOVA_MANAGE_HEAL_H 1

#include <stdio.h>
#include "shared/compiler.h"

struct error;

/* Default of --timeout, in seconds. */
#define MANAGE_HEAL_DEFAULT_TIMEOUT_S 120

struct error *manage_heal(const char *api_db_url, FILE *out, int argc,
                          char *argv[]) WARN_UNUSED;

#endif /* NOVA_MANAGE_HEAL_H */
