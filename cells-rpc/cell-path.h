/* cell-path.h: names of cells in the tree, from the root down.
 *
 * A cell path is the '!'-separated list of cell names from the root (the API
 * cell) to the cell: "api" is the root, "api!east" its child "east",
 * "api!east!east-1" a leaf below it.  Each name is 1 to
 * CELL_PATH_MAX_NAME_LENGTH characters from [A-Za-z0-9_.-], and a path has
 * at most CELL_PATH_MAX_DEPTH names.
 *
 * Paths are plain NUL-terminated strings: they travel in messages, log lines
 * and database rows as they are, and a validated path needs no other form.
 * Every function here that takes a path checks it, except where a comment
 * says the argument must already be valid; results are always valid paths.
 *
 * The separator sorts before every character allowed in a name, so strcmp()
 * order is also the component-by-component order (a parent sorts just before
 * its descendants): cell_path_compare() relies on that. */
#ifndef NOVA_CELL_PATH_H
#define NOVA_CELL_PATH_H 1

#include <stdbool.h>
#include <stddef.h>
#include "shared/compiler.h"

struct error;

#define CELL_PATH_SEPARATOR '!'

/* Longest name of one cell, in characters. */
#define CELL_PATH_MAX_NAME_LENGTH 63

/* Most names in one path: the root plus seven levels below it.  Together
 * with the hop limit of cell messages (cell-msg.h) this bounds every route:
 * the longest legitimate one, up from a deepest leaf to the root and down to
 * another deepest leaf, takes 2 * (CELL_PATH_MAX_DEPTH - 1) hops. */
#define CELL_PATH_MAX_DEPTH 8

/* Longest path, in characters, without the terminating NUL. */
#define CELL_PATH_MAX_LENGTH \
    (CELL_PATH_MAX_DEPTH * (CELL_PATH_MAX_NAME_LENGTH + 1) - 1)

/* Checks that 'name' is a valid cell name (one component).  Returns 0,
 * -EINVAL if it is NULL, empty or has a character outside [A-Za-z0-9_.-],
 * or -ENAMETOOLONG if it is longer than CELL_PATH_MAX_NAME_LENGTH. */
int cell_path_name_validate(const char *name);

/* Checks that 'path' is a valid cell path.  Returns 0, -EINVAL for NULL, an
 * empty path, an empty component ("api!", "!api", "api!!east") or a bad
 * character, -ENAMETOOLONG for a component longer than
 * CELL_PATH_MAX_NAME_LENGTH, or -E2BIG for more than CELL_PATH_MAX_DEPTH
 * components. */
int cell_path_validate(const char *path);

/* Like cell_path_validate(), for input a user or a peer supplied: returns
 * NULL, or an ERROR_INVALID error whose message names 'what' (such as
 * "destination"), quotes 'path' and says what is wrong with it.  The caller
 * owns the error. */
struct error *cell_path_check(const char *what, const char *path)
    WARN_UNUSED;

/* Number of names in valid 'path': 1 for the root. */
size_t cell_path_depth(const char *path);

/* True if valid 'path' names the root (has a single name). */
bool cell_path_is_root(const char *path);

/* The last name of valid 'path' ("east-1" for "api!east!east-1"), as a
 * pointer into 'path'. */
const char *cell_path_last(const char *path);

/* Orders valid paths name by name, a parent before its descendants and
 * siblings by strcmp() of their names.  Returns <0, 0 or >0 like strcmp(). */
int cell_path_compare(const char *a, const char *b);

/* True if valid paths 'a' and 'b' name the same cell. */
bool cell_path_equal(const char *a, const char *b);

/* True if 'ancestor' is a strict ancestor of 'descendant' (a cell is not its
 * own ancestor).  False if either is not a valid path. */
bool cell_path_is_ancestor_of(const char *ancestor, const char *descendant);

/* True if 'path' is 'root' or one of its descendants.  False if either is
 * not a valid path. */
bool cell_path_in_subtree(const char *root, const char *path);

/* Stores in '*ret_parent' a new string with the parent of 'path'.  Returns
 * 0, -ENOENT for the root (which has no parent) or the errors of
 * cell_path_validate(). */
int cell_path_parent(const char *path, char **ret_parent);

/* Stores in '*ret_child' a new string with the child of 'from' on the way
 * down to 'to': the next hop of a message going from 'from' to 'to'
 * ("api!east" for "api" to "api!east!east-1").  Returns 0, -EINVAL if
 * either path is invalid, or -ENOENT if 'to' is not a strict descendant of
 * 'from'. */
int cell_path_child_toward(const char *from, const char *to,
                           char **ret_child);

/* Stores in '*ret_path' a new string naming child 'name' of 'parent'.
 * Returns 0, the errors of cell_path_validate() for 'parent', those of
 * cell_path_name_validate() for 'name', or -E2BIG if the result would be
 * deeper than CELL_PATH_MAX_DEPTH. */
int cell_path_join(const char *parent, const char *name, char **ret_path);

#endif /* NOVA_CELL_PATH_H */
