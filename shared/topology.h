/* topology.h: the cell tree declared in cells.yaml.
 *
 * The topology file lists every cell of the cloud once, each naming its
 * parent, so that the tree can be written flat and read top to bottom:
 *
 *     cells:
 *       - name: api
 *         transport_url: rabbit://api:secret@127.0.0.1:5672/api
 *       - name: east
 *         parent: api
 *         transport_url: rabbit://east:secret@127.0.0.1:5672/east
 *       - name: east-1
 *         parent: east
 *         transport_url: rabbit://east1:secret@127.0.0.1:5672/east-1
 *         database: mysql://east1:secret@127.0.0.1:3306/nova_east1
 *         availability_zones: [az-east-1]
 *         capabilities:
 *           hypervisor_type: [qemu, test]
 *           architecture: x86_64
 *
 * Keys of a cell (man page cells.yaml(5) says the same at more length):
 *
 *   name                required; a cell path component (cell-path.h)
 *   parent              the parent's name; absent only for the root, the
 *                       API cell
 *   transport_url       required; rabbit://... (transport-url.h)
 *   database            mysql://... naming a database (db-url.h); required
 *                       for a cell that has hosts
 *   hosts               whether the cell runs compute hosts of its own:
 *                       true by default for a cell without children (a
 *                       leaf), false for one with children; a leaf must
 *                       have hosts and the API cell never has any
 *   weight_offset       number, default 0
 *   weight_scale        number, default 1
 *   availability_zones  sequence of zone names
 *   capabilities        mapping of name to a string or a sequence of strings
 *   disabled            boolean; when absent, loading the file into the API
 *                       database keeps the cell's current state
 *
 * So a leaf always needs a database, and a cell with children needs one
 * only if it says 'hosts: true'.
 *
 * Everything is checked before anything is returned: YAML syntax, unknown
 * and duplicate keys, types, names, URLs (parsed, never quoted with their
 * password), duplicate names, the single root, unknown parents, parent
 * cycles, depth and path length, and the database rules above.  Errors read
 * "FILE:LINE:COLUMN: message", pointing at the offending node, in the words
 * of config.h.
 *
 * The result is read-only: cells in a stable order, parents before their
 * children and siblings by name (cell_path_compare() order of their paths),
 * whatever order the file lists them in. */
#ifndef NOVA_TOPOLOGY_H
#define NOVA_TOPOLOGY_H 1

#include <stdbool.h>
#include <stddef.h>
#include "cells-rpc/cell-path.h"
#include "shared/cleanup.h"
#include "shared/compiler.h"

struct error;
struct json_object;

/* Limits on what a topology may contain.  Each has its own error. */
#define TOPOLOGY_MAX_FILE_SIZE (1024 * 1024)    /* bytes of YAML text */
#define TOPOLOGY_MAX_CELLS 1024                 /* cells in one tree */
#define TOPOLOGY_MAX_DEPTH CELL_PATH_MAX_DEPTH  /* levels, the root is 1 */
#define TOPOLOGY_MAX_NAME_LENGTH CELL_PATH_MAX_NAME_LENGTH
/* Longest cell path, in characters: the width of the path columns of the
 * API database (cell_mappings.path, instance_mappings.cell_path), which is
 * less than CELL_PATH_MAX_LENGTH. */
#define TOPOLOGY_MAX_PATH_LENGTH 255
#define TOPOLOGY_MAX_ZONES 64                   /* zones of one cell */
#define TOPOLOGY_MAX_CAPABILITIES 64            /* capabilities of one cell */
#define TOPOLOGY_MAX_CAPABILITY_VALUES 64       /* values of one capability */
/* Longest zone name, capability name or capability value, in bytes. */
#define TOPOLOGY_MAX_WORD_SIZE 255
#define TOPOLOGY_MAX_YAML_DEPTH 8               /* nested collections */
#define TOPOLOGY_MAX_YAML_NODES 65536           /* scalars and collections */
/* Longest scalar, in bytes: room for the longest transport or database
 * URL. */
#define TOPOLOGY_MAX_SCALAR_SIZE 4096

/* One capability: 'values' holds one value for "architecture: x86_64" and
 * every item for "hypervisor_type: [qemu, test]" ('is_list' true, even for
 * a sequence of one). */
struct topology_capability {
    char *name;
    char **values;
    size_t n_values;
    bool is_list;
};

struct topology_cell {
    char *name;
    char *path;                 /* "api!east!east-1" */
    char *parent_path;          /* NULL for the root */
    struct topology_cell *parent;       /* NULL for the root */
    struct topology_cell **children;    /* in the topology's order */
    size_t n_children;
    size_t depth;               /* 1 for the root */

    char *transport_url;        /* as written: holds a password, never
                                 * print it */
    char *database;             /* as written, or NULL; holds a password */
    bool hosts;                 /* runs compute hosts of its own */
    bool disabled;
    bool disabled_given;        /* the file says 'disabled' */
    double weight_offset;
    double weight_scale;
    char **availability_zones;  /* in file order, no duplicates */
    size_t n_availability_zones;
    struct topology_capability *capabilities;   /* sorted by name */
    size_t n_capabilities;

    int line;                   /* where the cell starts in the file, from
                                 * 1, for messages */
};

struct topology {
    char *source;               /* file name, or the stand-in given */
    struct topology_cell **cells;       /* the root first, parents before
                                         * children, siblings by name */
    size_t n_cells;             /* at least 1 */
};

/* Reads and checks the topology file 'path'.  On success stores a new
 * topology, owned by the caller, in '*ret_topology' and returns NULL.
 * Otherwise returns an ERROR_INVALID error: "Cannot open topology file
 * 'x': ...", or "PATH:LINE:COLUMN: message" for a problem in the text. */
struct error *topology_load_file(const char *path,
                                 struct topology **ret_topology)
    WARN_UNUSED;

/* Like topology_load_file() for the YAML text 'yaml' (NUL-terminated);
 * 'name' takes the place of the file name in messages. */
struct error *topology_load_string(const char *name, const char *yaml,
                                   struct topology **ret_topology)
    WARN_UNUSED;

void topology_free(struct topology *);
DEFINE_FREEP(struct topology, topology_free)

/* The root, the API cell. */
const struct topology_cell *topology_root(const struct topology *);

/* The cell named 'name', or NULL. */
const struct topology_cell *topology_find_name(const struct topology *,
                                               const char *name);

/* The cell whose path is 'path', or NULL. */
const struct topology_cell *topology_find_path(const struct topology *,
                                               const char *path);

/* The capability 'name' of 'cell', or NULL. */
const struct topology_capability *topology_cell_find_capability(
    const struct topology_cell *cell, const char *name);

/* The zones of 'cell' as a JSON array of strings, and its capabilities as
 * a JSON object (name -> string, or name -> array of strings), keys in
 * name order: the forms the API database stores.  New references. */
struct json_object *topology_cell_zones_to_json(
    const struct topology_cell *cell);
struct json_object *topology_cell_capabilities_to_json(
    const struct topology_cell *cell);

/* ---- Checks shared with the command line ----------------------------- */

/* Each returns NULL when the value is acceptable in a topology, or an
 * ERROR_INVALID error saying why, without quoting any password. */

/* A cell name: "invalid cell name 'a b': only letters, digits, '_', '.'
 * and '-' are allowed". */
struct error *topology_check_name(const char *name) WARN_UNUSED;

/* A transport URL (transport_url_parse()). */
struct error *topology_check_transport_url(const char *url) WARN_UNUSED;

/* A database URL (db_url_parse()) that names a database. */
struct error *topology_check_database_url(const char *url) WARN_UNUSED;

/* An availability zone name: 1 to TOPOLOGY_MAX_WORD_SIZE bytes, no control
 * character and no ','. */
struct error *topology_check_zone(const char *zone) WARN_UNUSED;

/* A capability name: 1 to TOPOLOGY_MAX_WORD_SIZE characters from
 * [A-Za-z0-9_.:-]. */
struct error *topology_check_capability_name(const char *name) WARN_UNUSED;

/* A capability value: as a zone name. */
struct error *topology_check_capability_value(const char *name,
                                              const char *value)
    WARN_UNUSED;

/* Parses 'text' as the value of number key 'key' ("weight_offset"): a
 * finite decimal number, as config.h parses them.  Stores it in '*ret'. */
struct error *topology_parse_number(const char *key, const char *text,
                                    double *ret) WARN_UNUSED;

#endif /* NOVA_TOPOLOGY_H */
