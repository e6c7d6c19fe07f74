/* cell-status.h: the health and capacity of each cell as the API database
 * records them (the columns last_heard_at, health and capacity of
 * cell_mappings, migration 0007), for display.
 *
 * nova-cells of the root writes these columns from the capacity reports
 * it receives (child-cell/cells-health-report.h); this module only reads
 * them, for "nova-manage cell list / capacities", the os-cells API, and
 * to fail fast an action on a server whose cell does not answer
 * (cell_status_check_reachable()).  The rest of a cell's row is read
 * through cell-registry.h. */
#ifndef NOVA_CELL_STATUS_H
#define NOVA_CELL_STATUS_H 1

#include <stdbool.h>
#include <stddef.h>
#include "shared/cleanup.h"
#include "shared/compiler.h"

struct cell_capacity;
struct db;
struct error;

/* What the table holds of one cell.  Everything is owned. */
struct cell_status {
    char *path;
    char *last_heard_at;        /* "YYYY-MM-DD HH:MM:SS.ffffff" UTC, or
                                 * NULL: never heard from */
    char *health;               /* "healthy", "mute", "excluded",
                                 * "half-open", "unreachable" (a cell
                                 * above it is mute or excluded), or
                                 * NULL: not reported */
    struct cell_capacity *capacity;     /* latest report, or NULL (none, or
                                         * a text that does not decode) */
};

struct cell_status_list {
    struct cell_status *items;
    size_t n;
};

void cell_status_list_free(struct cell_status_list *);
DEFINE_FREEP(struct cell_status_list, cell_status_list_free)

/* Reads the status of every cell of the API database 'db' into
 * '*ret_list', which the caller frees. */
struct error *cell_status_list(struct db *db,
                               struct cell_status_list **ret_list)
    WARN_UNUSED;

/* The status of the cell with path 'path' in 'list', or NULL. */
const struct cell_status *cell_status_find(const struct cell_status_list *,
                                           const char *path);

/* Free RAM in MiB and free vCPUs of 'status' as text ("-" without a
 * capacity report).  The caller frees. */
char *cell_status_free_ram_text(const struct cell_status *status);
char *cell_status_free_vcpus_text(const struct cell_status *status);

/* NULL when the cell at 'cell_path' and every cell above it are heard
 * from (health "healthy", "half-open" or not reported yet); else an
 * ERROR_CELL_DOWN error (HTTP 503 serviceUnavailable) whose message names
 * the cell, e.g. "Cell 'api!region1!leaf1' is not responding (mute since
 * 2026-11-22 10:00:00 UTC); try again later."  A NULL 'cell_path' (not
 * placed yet) is reachable.
 *
 * When several cells on the way are down, the message names the highest
 * of them, the one whose recovery the others wait for.  A failure to read
 * the API database is returned as is (ERROR_INTERNAL or
 * ERROR_UNAVAILABLE): the caller reports it rather than guess. */
struct error *cell_status_check_reachable(struct db *api_db,
                                          const char *cell_path)
    WARN_UNUSED;

/* True if 'health' (a value of the health column, or NULL) means the cell
 * is not heard from: "mute" or "excluded". */
bool cell_status_health_is_down(const char *health);

#endif /* NOVA_CELL_STATUS_H */
