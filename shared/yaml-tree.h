/* yaml-tree.h: a YAML document read into a small tree of positioned nodes.
 *
 * Both YAML files of the product, nova.yaml (config.c) and cells.yaml
 * (topology.c), are read the same way: libyaml's event parser builds a tree
 * of scalars, mappings and sequences, each knowing where it starts, and the
 * caller then walks the tree against its own schema.  This step knows no
 * schema; it enforces the caller's limits on nesting, node count and scalar
 * size, and rejects what a configuration never needs (aliases, NUL
 * characters, several documents).
 *
 * Errors are "NAME:LINE:COLUMN: message" with lines and columns from 1
 * (ERROR_INVALID; ERROR_INTERNAL when libyaml cannot be initialised). */
#ifndef NOVA_YAML_TREE_H
#define NOVA_YAML_TREE_H 1

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

#include "shared/cleanup.h"
#include "shared/compiler.h"

struct error;

enum yaml_tree_kind {
    YAML_TREE_SCALAR,
    YAML_TREE_MAPPING,
    YAML_TREE_SEQUENCE,
};

/* One YAML node.  A mapping's children alternate key, value. */
struct yaml_tree_node {
    enum yaml_tree_kind kind;
    yaml_mark_t mark;           /* where the node starts (0-based) */
    char *value;                /* SCALAR: NUL-terminated text */
    bool is_null;               /* SCALAR: plain "", "~" or "null" */
    struct yaml_tree_node **children;
    size_t n_children;
};

/* What a document may hold. */
struct yaml_tree_limits {
    size_t max_depth;           /* nested collections */
    size_t max_nodes;           /* scalars and collections */
    size_t max_scalar_size;     /* bytes of one scalar; 0: no limit */
};

/* Frees 'node' and its children.  Accepts NULL. */
void yaml_tree_node_free(struct yaml_tree_node *node);
DEFINE_FREEP(struct yaml_tree_node, yaml_tree_node_free)

/* "a scalar", "a mapping" or "a sequence", for messages. */
const char *yaml_tree_kind_to_string(enum yaml_tree_kind kind);

/* Parses the 'size' bytes of YAML 'text', named 'name' in messages, into a
 * tree within 'limits'.  On success stores the root in '*ret_root' (NULL
 * for an empty stream), owned by the caller. */
struct error *yaml_tree_parse(const char *name, const char *text,
                              size_t size,
                              const struct yaml_tree_limits *limits,
                              struct yaml_tree_node **ret_root)
    WARN_UNUSED;

/* Returns 'cause' (taken) wrapped as "NAME:LINE:COLUMN: <cause>" for the
 * position 'mark' of the document 'name'. */
struct error *yaml_tree_error_at(const char *name, const yaml_mark_t *mark,
                                 struct error *cause);

/* Returns a new ERROR_INVALID "NAME:LINE:COLUMN: <formatted message>". */
struct error *yaml_tree_error_at_fmt(const char *name,
                                     const yaml_mark_t *mark,
                                     const char *fmt, ...)
    PRINTF_FMT(3, 4);

/* The same with a va_list. */
struct error *yaml_tree_error_atv(const char *name, const yaml_mark_t *mark,
                                  const char *fmt, va_list args)
    PRINTF_FMT(3, 0);

#endif /* NOVA_YAML_TREE_H */
