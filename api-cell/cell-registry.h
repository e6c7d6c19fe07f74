/* cell-registry.h: the cell tree as the API database records it.
 *
 * Every cell of the tree, the API cell included, is one row of the API
 * database's 'cell_mappings' table, keyed by its path ("api!east!east-1")
 * and by its name (names are unique in the whole tree).  This module is the
 * only code that writes that table: creating, updating, enabling and
 * disabling, deleting cells one at a time (nova-manage cell ...), and
 * loading a whole topology file (topology.h) in one transaction.
 *
 * Loading a topology makes the database match the file for every cell the
 * file lists: cells it does not know are created, cells that differ are
 * updated (a cell's 'disabled' flag changes only when the file says
 * 'disabled').  Cells the database has but the file does not are reported
 * and kept, unless the caller asks for them to be pruned; then they are
 * deleted, deepest first, under the same rules as a single delete.  Moving
 * a cell to another parent and changing the root are refused: both would
 * change the paths that instance mappings and messages use.
 *
 * A cell is never deleted while instances or compute hosts are mapped to
 * it or to a cell below it (instance_mappings, host_mappings), nor while it
 * has child cells.
 *
 * Transport and database URLs are stored whole, passwords included, since
 * they are the credentials the cells use; everything this module returns
 * for display (cell_registry_cell_to_json(), the redact functions) hides
 * the passwords, and no error message quotes a URL with its password.
 *
 * Names and paths given to lookups are compared by the database's column
 * collation, which ignores case, as the unique keys on those columns do. */
#ifndef NOVA_CELL_REGISTRY_H
#define NOVA_CELL_REGISTRY_H 1

#include <stdbool.h>
#include <stddef.h>
#include "shared/cleanup.h"
#include "shared/compiler.h"

struct db;
struct error;
struct json_object;
struct topology;

/* The settings of a cell that can change after it is created: bit values
 * for masks of "which fields", with their names in messages and JSON. */
#define CELL_REGISTRY_FIELDS(X)                                     \
    X(CELL_REGISTRY_TRANSPORT_URL, 0, "transport_url")              \
    X(CELL_REGISTRY_DATABASE, 1, "database")                        \
    X(CELL_REGISTRY_HOSTS, 2, "hosts")                              \
    X(CELL_REGISTRY_DISABLED, 3, "disabled")                        \
    X(CELL_REGISTRY_WEIGHT_OFFSET, 4, "weight_offset")              \
    X(CELL_REGISTRY_WEIGHT_SCALE, 5, "weight_scale")                \
    X(CELL_REGISTRY_AVAILABILITY_ZONES, 6, "availability_zones")    \
    X(CELL_REGISTRY_CAPABILITIES, 7, "capabilities")

enum cell_registry_field {
#define CELL_REGISTRY_FIELD_ENUM(ENUM, BIT, NAME) ENUM = 1u << (BIT),
    CELL_REGISTRY_FIELDS(CELL_REGISTRY_FIELD_ENUM)
#undef CELL_REGISTRY_FIELD_ENUM
};

/* Returns the names of the fields set in 'fields' in the order above,
 * separated by ", " ("" for none).  The caller frees. */
char *cell_registry_fields_to_string(unsigned int fields);

/* One row of 'cell_mappings'.  All strings are owned by the struct. */
struct cell_registry_cell {
    char *uuid;
    char *name;
    char *path;                 /* "api!east!east-1" */
    char *parent_path;          /* NULL for the root */
    char *transport_url;        /* with its password: never print it */
    char *database;             /* NULL when the cell has none; with its
                                 * password */
    bool hosts;                 /* runs compute hosts of its own */
    bool disabled;
    double weight_offset;
    double weight_scale;
    struct json_object *availability_zones;     /* array of strings, never
                                                 * NULL */
    struct json_object *capabilities;           /* object, never NULL */
    char *created_at;           /* "YYYY-MM-DD HH:MM:SS.ffffff" UTC, or
                                 * NULL */
    char *updated_at;
};

void cell_registry_cell_free(struct cell_registry_cell *);
DEFINE_FREEP(struct cell_registry_cell, cell_registry_cell_free)

/* All cells, parents before children and siblings by name
 * (cell_path_compare() order). */
struct cell_registry_list {
    struct cell_registry_cell **cells;
    size_t n_cells;
};

void cell_registry_list_free(struct cell_registry_list *);
DEFINE_FREEP(struct cell_registry_list, cell_registry_list_free)

/* What cell_registry_create() and cell_registry_update() set: the fields
 * named in 'fields' take the values below; the others are ignored.
 * Everything is borrowed. */
struct cell_registry_spec {
    unsigned int fields;        /* CELL_REGISTRY_* bits */
    const char *transport_url;
    const char *database;       /* NULL or "" for none */
    bool hosts;
    bool disabled;
    double weight_offset;
    double weight_scale;
    const struct json_object *availability_zones;   /* array of strings;
                                                     * NULL for none */
    const struct json_object *capabilities;         /* object of strings or
                                                     * arrays of strings;
                                                     * NULL for none */
};

/* ---- Reading --------------------------------------------------------- */

/* Stores every cell of the database of 'db' in '*ret_list', which the
 * caller frees. */
struct error *cell_registry_list(struct db *db,
                                 struct cell_registry_list **ret_list)
    WARN_UNUSED;

/* Finds the cell named 'name_or_path': a name ("east-1") or a path
 * ("api!east!east-1").  Stores it in '*ret_cell', which the caller frees.
 * ERROR_NOT_FOUND: "Cell 'x' not found". */
struct error *cell_registry_get(struct db *db, const char *name_or_path,
                                struct cell_registry_cell **ret_cell)
    WARN_UNUSED;

/* The cell of 'list' whose name or path is 'name_or_path' (compared
 * exactly), or NULL. */
const struct cell_registry_cell *cell_registry_list_find(
    const struct cell_registry_list *list, const char *name_or_path);

/* ---- Writing --------------------------------------------------------- */

/* Creates cell 'name' under the cell 'parent' (a name or a path), or the
 * root when 'parent' is NULL, with the settings of 'spec'.  The transport
 * URL is required.  Fields 'spec' does not give take their defaults: no
 * database, hosts (none for the root), enabled, weight offset 0 and scale
 * 1, no zones, no capabilities.  A cell with hosts needs a database, so a
 * new cell below the root needs either a database or 'hosts' false (a
 * cell whose children will follow).  Refuses a name already in use, a
 * second root, and paths too deep or too long (topology.h limits).  On
 * success stores the new cell in '*ret_cell' if that is not NULL. */
struct error *cell_registry_create(struct db *db, const char *name,
                                   const char *parent,
                                   const struct cell_registry_spec *spec,
                                   struct cell_registry_cell **ret_cell)
    WARN_UNUSED;

/* Changes the fields 'spec' gives of cell 'name_or_path', checking the
 * result as cell_registry_create() does.  Stores in '*ret_changed' (if not
 * NULL) the fields whose value actually changed; when none did, nothing is
 * written. */
struct error *cell_registry_update(struct db *db, const char *name_or_path,
                                   const struct cell_registry_spec *spec,
                                   unsigned int *ret_changed) WARN_UNUSED;

/* Disables or enables cell 'name_or_path'.  Stores in '*ret_changed' (if
 * not NULL) whether its state changed. */
struct error *cell_registry_set_disabled(struct db *db,
                                         const char *name_or_path,
                                         bool disabled, bool *ret_changed)
    WARN_UNUSED;

/* Deletes cell 'name_or_path'.  Refuses, with ERROR_CONFLICT, a cell that
 * has child cells or that, with the cells below it, still holds instances
 * ("Cell 'api!east!east-1' still holds 3 instances; delete or move them
 * first") or compute hosts. */
struct error *cell_registry_delete(struct db *db, const char *name_or_path)
    WARN_UNUSED;

/* ---- Loading a topology ---------------------------------------------- */

/* Flags of cell_registry_load(). */
#define CELL_REGISTRY_LOAD_PRUNE (1u << 0) /* delete cells not in the file */

#define CELL_REGISTRY_ACTIONS(X)                \
    X(CELL_REGISTRY_CREATED, "created")         \
    X(CELL_REGISTRY_UPDATED, "updated")         \
    X(CELL_REGISTRY_UNCHANGED, "unchanged")     \
    X(CELL_REGISTRY_KEPT, "kept")               \
    X(CELL_REGISTRY_DELETED, "deleted")

/* What loading did to one cell. */
enum cell_registry_action {
#define CELL_REGISTRY_ACTION_ENUM(ENUM, NAME) ENUM,
    CELL_REGISTRY_ACTIONS(CELL_REGISTRY_ACTION_ENUM)
#undef CELL_REGISTRY_ACTION_ENUM
    CELL_REGISTRY_N_ACTIONS
};

/* "created", "updated", ... */
const char *cell_registry_action_to_string(enum cell_registry_action);

struct cell_registry_change {
    char *path;
    enum cell_registry_action action;
    unsigned int fields;        /* UPDATED: the fields that changed */
};

/* One entry per cell of the file (in topology order), then one per cell
 * only the database had (KEPT in path order, or DELETED deepest first). */
struct cell_registry_report {
    struct cell_registry_change *changes;
    size_t n_changes;
    size_t counts[CELL_REGISTRY_N_ACTIONS];
};

void cell_registry_report_free(struct cell_registry_report *);
DEFINE_FREEP(struct cell_registry_report, cell_registry_report_free)

/* Makes the cells of the database of 'db' match 'topology' as described at
 * the top of this file, in one transaction: on error nothing changed.
 * 'flags' is 0 or CELL_REGISTRY_LOAD_PRUNE.  On success stores what was
 * done in '*ret_report', which the caller frees. */
struct error *cell_registry_load(struct db *db,
                                 const struct topology *topology,
                                 unsigned int flags,
                                 struct cell_registry_report **ret_report)
    WARN_UNUSED;

/* ---- Display --------------------------------------------------------- */

/* Returns 'url' (a transport URL) with every password replaced by "***",
 * for display; a URL that does not parse is hidden whole, all but its
 * scheme replaced by "***".  The caller frees. */
char *cell_registry_redact_transport_url(const char *url);

/* Returns 'url' (a database URL, or NULL) with its password replaced by
 * "***", or NULL for NULL.  The caller frees. */
char *cell_registry_redact_database_url(const char *url);

/* Returns 'cell' as a JSON object for display, URLs redacted: uuid, name,
 * path, parent_path (null for the root), transport_url, database (or
 * null), hosts, disabled, weight_offset, weight_scale, availability_zones,
 * capabilities, created_at, updated_at.  New reference. */
struct json_object *cell_registry_cell_to_json(
    const struct cell_registry_cell *cell);

#endif /* NOVA_CELL_REGISTRY_H */
