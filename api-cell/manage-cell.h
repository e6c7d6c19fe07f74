/* manage-cell.h: the "nova-manage cell ..." commands.
 *
 *     cell check FILE                   validate a topology file
 *     cell load FILE [--prune]          make the API database match it
 *     cell list [--format text|json]    one line per cell
 *     cell show NAME [--format ...]     every field of one cell
 *     cell tree [--format ...]          the tree, drawn with |-- and `--
 *     cell create NAME [--parent P] --transport-url URL [options]
 *     cell update NAME [options]
 *     cell delete NAME
 *     cell disable NAME
 *     cell enable NAME
 *     cell capacities [--cell NAME] [--format ...]
 *                                       latest capacity report per cell
 *
 * The list shows, beside each cell's settings, its health as nova-cells of
 * the root records it (cell-status.h): last heard, health, free RAM and
 * vCPUs.  capacities is listed in the table of manage-host.h with the
 * other commands of the cell-aware admin (cell discover_hosts, host list;
 * instance locate in manage-instance.h), which share the helpers at the
 * end of this file.
 *
 * where the options of create and update are
 *
 *     --transport-url URL  --database URL  --hosts  --no-hosts
 *     --weight-offset W    --weight-scale S
 *     --availability-zones ZONE[,ZONE...]          ("" for none)
 *     --capability NAME=VALUE[,VALUE...]           (repeatable; in update,
 *                                                   "NAME=" removes it)
 *     --disabled                                   (create only)
 *
 * and NAME is a cell name or path.  An option's value follows it as the
 * next argument or after '=' ("--format=json").  Without --parent, create
 * makes the root, the API cell.  A VALUE with a ',' makes the capability a
 * list.  update --database "" removes the database.
 *
 * Every handler has the same signature: 'api_db_url' is the API database
 * URL from the configuration (api_database.connection; may be NULL or ""
 * for "cell check", which needs no database), 'out' receives the results,
 * and 'argc'/'argv' are the arguments after the verb.  A handler returns
 * NULL on success or an error whose message names the cell and the
 * problem; the caller prints it and exits 1, or 2 when
 * manage_cell_error_is_usage() says it is a mistake on the command line.
 *
 * Text output is meant for people: passwords in URLs always read "***".
 * --format json prints the same data as one JSON document. */
#ifndef NOVA_MANAGE_CELL_H
#define NOVA_MANAGE_CELL_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "shared/compiler.h"

struct error;
struct json_object;

/* Most arguments after the verb: room for every option of create. */
#define MANAGE_CELL_MAX_ARGS 64

typedef struct error *manage_cell_handler(const char *api_db_url, FILE *out,
                                          int argc, char *argv[]);

/* One command: nova-manage checks the argument count against 'min_args'
 * and 'max_args' (options and their values count as arguments) before
 * calling 'handler'. */
struct manage_cell_command {
    const char *category;       /* "cell" */
    const char *verb;
    const char *args;           /* argument synopsis */
    int min_args;
    int max_args;
    manage_cell_handler *handler;
    const char *help;           /* one line */
};

extern const struct manage_cell_command manage_cell_commands[];
extern const size_t manage_cell_n_commands;

/* True if 'error', just returned by a handler, reports a mistake on the
 * command line (unknown option, missing value, nothing to update...), for
 * which nova-manage exits 2.  Only valid for the error of the latest
 * handler call, before it is freed. */
bool manage_cell_error_is_usage(const struct error *error);

struct error *manage_cell_check(const char *api_db_url, FILE *out, int argc,
                                char *argv[]) WARN_UNUSED;
struct error *manage_cell_load(const char *api_db_url, FILE *out, int argc,
                               char *argv[]) WARN_UNUSED;
struct error *manage_cell_list(const char *api_db_url, FILE *out, int argc,
                               char *argv[]) WARN_UNUSED;
struct error *manage_cell_show(const char *api_db_url, FILE *out, int argc,
                               char *argv[]) WARN_UNUSED;
struct error *manage_cell_tree(const char *api_db_url, FILE *out, int argc,
                               char *argv[]) WARN_UNUSED;
struct error *manage_cell_create(const char *api_db_url, FILE *out,
                                 int argc, char *argv[]) WARN_UNUSED;
struct error *manage_cell_update(const char *api_db_url, FILE *out,
                                 int argc, char *argv[]) WARN_UNUSED;
struct error *manage_cell_delete(const char *api_db_url, FILE *out,
                                 int argc, char *argv[]) WARN_UNUSED;
struct error *manage_cell_disable(const char *api_db_url, FILE *out,
                                  int argc, char *argv[]) WARN_UNUSED;
struct error *manage_cell_enable(const char *api_db_url, FILE *out,
                                 int argc, char *argv[]) WARN_UNUSED;
struct error *manage_cell_capacities(const char *api_db_url, FILE *out,
                                     int argc, char *argv[]) WARN_UNUSED;

/* ---- Helpers shared with manage-host.c and manage-instance.c ---------- */

struct db;

/* Returns an ERROR_INVALID error with the printf-style message 'fmt' that
 * manage_cell_error_is_usage() recognises (exit 2). */
struct error *manage_cell_usage(const char *fmt, ...) PRINTF_FMT(1, 2)
    WARN_UNUSED;

/* Opens the API database at 'url' and checks that its schema is current.
 * Stores the connection in '*ret_db', which the caller closes. */
struct error *manage_cell_open(const char *url, struct db **ret_db)
    WARN_UNUSED;

/* Prints 'doc' (borrowed) pretty-printed, with a final newline. */
void manage_cell_print_json(FILE *out, struct json_object *doc);

/* A boxed table: 'n_columns' headers, then rows of owned strings. */
struct manage_cell_table {
    const char *const *headers;
    size_t n_columns;
    char **cells;               /* row-major */
    size_t n_rows;
};

/* Appends a row of 'table->n_columns' strings, taking ownership. */
void manage_cell_table_add(struct manage_cell_table *table, char **row);

/* Prints 'table' aligned, boxed with '+', '-' and '|'. */
void manage_cell_table_print(FILE *out,
                             const struct manage_cell_table *table);

/* Frees the rows of 'table'. */
void manage_cell_table_destroy(struct manage_cell_table *table);

#endif /* NOVA_MANAGE_CELL_H */
