/* cell-path.c: names of cells in the tree (see cell-path.h).
 *
 * Validation walks the string once and stops at the first fault, so a
 * hostile input is never scanned past CELL_PATH_MAX_LENGTH + 1 characters.
 * The other functions work on the string in place: a path's components are
 * the runs between separators, and an ancestor's path is a prefix of its
 * descendant's that ends at a separator. */
#include <config.h>
#include "cells-rpc/cell-path.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "shared/error.h"
#include "shared/xalloc.h"

/* Spells out a numeric constant in a string literal. */
#define CELL_PATH_STR_(x) #x
#define CELL_PATH_STR(x) CELL_PATH_STR_(x)

static bool
cell_path_char_is_valid(char c)
{
    return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-');
}

/* Why 'path' is invalid, as a phrase for a user, or NULL if it is valid.
 * Stores in '*ret_error' the matching -errno (0 if valid). */
static const char *
cell_path_fault(const char *path, int *ret_error)
{
    size_t depth = 1;
    size_t name_length = 0;

    *ret_error = -EINVAL;
    if (!path) {
        return "it is missing";
    }
    if (!*path) {
        return "it is empty";
    }
    for (const char *p = path; ; p++) {
        if (*p == CELL_PATH_SEPARATOR || *p == '\0') {
            if (!name_length) {
                return "it has an empty cell name";
            }
            if (*p == '\0') {
                break;
            }
            if (++depth > CELL_PATH_MAX_DEPTH) {
                *ret_error = -E2BIG;
                return "it has more than " CELL_PATH_STR(CELL_PATH_MAX_DEPTH)
                       " levels";
            }
            name_length = 0;
        } else if (!cell_path_char_is_valid(*p)) {
            return "a cell name has a character outside [A-Za-z0-9_.-]";
        } else if (++name_length > CELL_PATH_MAX_NAME_LENGTH) {
            *ret_error = -ENAMETOOLONG;
            return "a cell name is longer than "
                   CELL_PATH_STR(CELL_PATH_MAX_NAME_LENGTH) " characters";
        }
    }
    *ret_error = 0;
    return NULL;
}

int
cell_path_name_validate(const char *name)
{
    size_t length = 0;

    if (!name || !*name) {
        return -EINVAL;
    }
    for (const char *p = name; *p; p++) {
        if (!cell_path_char_is_valid(*p)) {
            return -EINVAL;
        }
        if (++length > CELL_PATH_MAX_NAME_LENGTH) {
            return -ENAMETOOLONG;
        }
    }
    return 0;
}

int
cell_path_validate(const char *path)
{
    int error;

    (void) cell_path_fault(path, &error);
    return error;
}

struct error *
cell_path_check(const char *what, const char *path)
{
    int error;
    const char *fault = cell_path_fault(path, &error);

    if (!fault) {
        return NULL;
    }
    if (!path) {
        return error_new(ERROR_INVALID, "Invalid cell path for %s: %s",
                         what, fault);
    }
    /* Quote at most a bounded prefix of an over-long input. */
    return error_new(ERROR_INVALID, "Invalid cell path '%.*s' for %s: %s",
                     CELL_PATH_MAX_LENGTH, path, what, fault);
}

size_t
cell_path_depth(const char *path)
{
    size_t depth = 1;

    for (const char *p = path; *p; p++) {
        depth += *p == CELL_PATH_SEPARATOR;
    }
    return depth;
}

bool
cell_path_is_root(const char *path)
{
    return !strchr(path, CELL_PATH_SEPARATOR);
}

const char *
cell_path_last(const char *path)
{
    const char *sep = strrchr(path, CELL_PATH_SEPARATOR);

    return sep ? sep + 1 : path;
}

int
cell_path_compare(const char *a, const char *b)
{
    /* Valid because the separator sorts before every name character: at
     * the first difference, a name that ended meets a name that goes on,
     * and the shorter name sorts first, as component order wants. */
    return strcmp(a, b);
}

bool
cell_path_equal(const char *a, const char *b)
{
    return !strcmp(a, b);
}

bool
cell_path_is_ancestor_of(const char *ancestor, const char *descendant)
{
    size_t n;

    if (cell_path_validate(ancestor) || cell_path_validate(descendant)) {
        return false;
    }
    n = strlen(ancestor);
    return (!strncmp(ancestor, descendant, n)
            && descendant[n] == CELL_PATH_SEPARATOR);
}

bool
cell_path_in_subtree(const char *root, const char *path)
{
    if (cell_path_validate(root) || cell_path_validate(path)) {
        return false;
    }
    return cell_path_equal(root, path) || cell_path_is_ancestor_of(root, path);
}

int
cell_path_parent(const char *path, char **ret_parent)
{
    int error = cell_path_validate(path);
    const char *sep;

    if (error) {
        return error;
    }
    sep = strrchr(path, CELL_PATH_SEPARATOR);
    if (!sep) {
        return -ENOENT;
    }
    *ret_parent = xstrndup(path, (size_t) (sep - path));
    return 0;
}

int
cell_path_child_toward(const char *from, const char *to, char **ret_child)
{
    const char *end;

    if (cell_path_validate(from) || cell_path_validate(to)) {
        return -EINVAL;
    }
    if (!cell_path_is_ancestor_of(from, to)) {
        return -ENOENT;
    }
    /* 'to' continues 'from' with a separator, then the child's name. */
    end = strchr(to + strlen(from) + 1, CELL_PATH_SEPARATOR);
    *ret_child = end ? xstrndup(to, (size_t) (end - to)) : xstrdup(to);
    return 0;
}

int
cell_path_join(const char *parent, const char *name, char **ret_path)
{
    int error = cell_path_validate(parent);

    if (error) {
        return error;
    }
    error = cell_path_name_validate(name);
    if (error) {
        return error;
    }
    if (cell_path_depth(parent) >= CELL_PATH_MAX_DEPTH) {
        return -E2BIG;
    }
    *ret_path = xasprintf("%s%c%s", parent, CELL_PATH_SEPARATOR, name);
    return 0;
}
