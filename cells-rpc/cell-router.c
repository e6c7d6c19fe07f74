/* cell-router.c: routing decisions of one cell (see cell-router.h).
 *
 * Pure logic over cell paths: no I/O, no clock, so every decision of the
 * table in cell-router.h is unit-tested row by row.  A cell has at most a
 * few hundred children, so they are kept in an array and searched
 * linearly. */
#include <config.h>
#include "cells-rpc/cell-router.h"

#include <errno.h>
#include <string.h>

#include "cells-rpc/cell-msg.h"
#include "cells-rpc/cell-path.h"
#include "shared/error.h"
#include "shared/xalloc.h"

struct cell_router_child {
    char *name;
    char *path;
};

struct cell_router {
    char *path;
    char *parent;                       /* NULL for the root. */
    struct cell_router_child *children;
    size_t n_children;
};

void
cell_route_destroy(struct cell_route *route)
{
    if (!route) {
        return;
    }
    for (size_t i = 0; i < route->n_children; i++) {
        free(route->children[i]);
    }
    free(route->children);
    memset(route, 0, sizeof *route);
}

static void
cell_route_add_child(struct cell_route *route, const char *name)
{
    route->children = xreallocarray(route->children, route->n_children + 1,
                                    sizeof *route->children);
    route->children[route->n_children++] = xstrdup(name);
}

struct error *
cell_router_new(const char *path, struct cell_router **ret_router)
{
    struct error *error = cell_path_check("this cell", path);
    struct cell_router *router;

    if (error) {
        return error;
    }
    router = xzalloc(sizeof *router);
    router->path = xstrdup(path);
    if (cell_path_parent(path, &router->parent)) {
        router->parent = NULL;          /* The root. */
    }
    *ret_router = router;
    return NULL;
}

void
cell_router_free(struct cell_router *router)
{
    if (!router) {
        return;
    }
    for (size_t i = 0; i < router->n_children; i++) {
        free(router->children[i].name);
        free(router->children[i].path);
    }
    free(router->children);
    free(router->path);
    free(router->parent);
    free(router);
}

static const struct cell_router_child *
cell_router_find_child(const struct cell_router *router, const char *name)
{
    for (size_t i = 0; i < router->n_children; i++) {
        if (!strcmp(router->children[i].name, name)) {
            return &router->children[i];
        }
    }
    return NULL;
}

int
cell_router_add_child(struct cell_router *router, const char *name)
{
    char *path;
    int error = cell_path_name_validate(name);

    if (error) {
        return -EINVAL;
    }
    if (cell_router_find_child(router, name)) {
        return -EEXIST;
    }
    if (router->n_children >= CELL_ROUTER_MAX_CHILDREN) {
        return -E2BIG;
    }
    error = cell_path_join(router->path, name, &path);
    if (error) {
        return error;
    }
    router->children = xreallocarray(router->children,
                                     router->n_children + 1,
                                     sizeof *router->children);
    router->children[router->n_children].name = xstrdup(name);
    router->children[router->n_children].path = path;
    router->n_children++;
    return 0;
}

const char *
cell_router_path(const struct cell_router *router)
{
    return router->path;
}

const char *
cell_router_parent(const struct cell_router *router)
{
    return router->parent;
}

size_t
cell_router_n_children(const struct cell_router *router)
{
    return router->n_children;
}

const char *
cell_router_child_name(const struct cell_router *router, size_t i)
{
    return i < router->n_children ? router->children[i].name : NULL;
}

const char *
cell_router_child_path(const struct cell_router *router, size_t i)
{
    return i < router->n_children ? router->children[i].path : NULL;
}

bool
cell_router_has_child(const struct cell_router *router, const char *name)
{
    return cell_router_find_child(router, name) != NULL;
}

int
cell_router_neighbour(const struct cell_router *router, const char *path,
                      bool *ret_is_parent, const char **ret_child)
{
    const struct cell_router_child *child;

    if (router->parent && cell_path_equal(router->parent, path)) {
        *ret_is_parent = true;
        *ret_child = NULL;
        return 0;
    }
    if (cell_path_validate(path)
        || cell_path_depth(path) != cell_path_depth(router->path) + 1
        || !cell_path_is_ancestor_of(router->path, path)) {
        return -ENOENT;
    }
    child = cell_router_find_child(router, cell_path_last(path));
    if (!child) {
        return -ENOENT;
    }
    *ret_is_parent = false;
    *ret_child = child->name;
    return 0;
}

/* Adds to 'route' the child of this cell on the way down to 'to', which
 * is below this cell. */
static struct error *
cell_router_toward(const struct cell_router *router, const char *to,
                   struct cell_route *route)
{
    char *child_path;
    struct error *error = NULL;

    if (cell_path_child_toward(router->path, to, &child_path)) {
        return error_new(ERROR_INTERNAL, "Cell '%s' is not below '%s'",
                         to, router->path);
    }
    if (!cell_router_find_child(router, cell_path_last(child_path))) {
        error = error_new(ERROR_NOT_FOUND, "Cell '%s' is not a child of "
                          "'%s'", child_path, router->path);
    } else {
        cell_route_add_child(route, cell_path_last(child_path));
    }
    free(child_path);
    return error;
}

static void
cell_router_all_children(const struct cell_router *router,
                         struct cell_route *route)
{
    for (size_t i = 0; i < router->n_children; i++) {
        cell_route_add_child(route, router->children[i].name);
    }
}

static struct error *
cell_router_targeted(const struct cell_router *router,
                     const struct cell_msg *msg, struct cell_route *route)
{
    if (cell_path_equal(router->path, msg->target)) {
        route->deliver_local = true;
        route->responds = true;
        return NULL;
    }
    if (msg->direction == CELL_MSG_DOWN) {
        if (!cell_path_is_ancestor_of(router->path, msg->target)) {
            return error_new(ERROR_INVALID, "Cannot pass request '%s' "
                             "(method '%s') down from cell '%s': its "
                             "destination '%s' is not below it",
                             msg->id, msg->method, router->path,
                             msg->target);
        }
        return cell_router_toward(router, msg->target, route);
    }
    if (!cell_path_is_ancestor_of(msg->target, router->path)) {
        return error_new(ERROR_INVALID, "Cannot pass request '%s' (method "
                         "'%s') up from cell '%s': its destination '%s' is "
                         "not above it", msg->id, msg->method, router->path,
                         msg->target);
    }
    route->to_parent = true;
    return NULL;
}

static struct error *
cell_router_broadcast_down(const struct cell_router *router,
                           const struct cell_msg *msg,
                           struct cell_route *route)
{
    if (cell_path_is_ancestor_of(router->path, msg->target)) {
        return cell_router_toward(router, msg->target, route);
    }
    if (!cell_path_in_subtree(msg->target, router->path)) {
        return error_new(ERROR_INVALID, "Broadcast '%s' (method '%s') to "
                         "the subtree of '%s' reached cell '%s', which is "
                         "not in it", msg->id, msg->method, msg->target,
                         router->path);
    }
    route->deliver_local = (msg->include_self
                            || !cell_path_equal(router->path, msg->target));
    route->responds = true;
    cell_router_all_children(router, route);
    return NULL;
}

static struct error *
cell_router_broadcast_up(const struct cell_router *router,
                         const struct cell_msg *msg,
                         struct cell_route *route)
{
    bool at_origin = cell_path_equal(router->path, msg->target);

    if (!at_origin && !cell_path_is_ancestor_of(router->path, msg->target)) {
        return error_new(ERROR_INVALID, "Broadcast '%s' (method '%s') up "
                         "from '%s' reached cell '%s', which is not above "
                         "it", msg->id, msg->method, msg->target,
                         router->path);
    }
    route->deliver_local = msg->include_self || !at_origin;
    route->responds = true;
    route->to_parent = router->parent != NULL;
    return NULL;
}

struct error *
cell_router_route_request(const struct cell_router *router,
                          const struct cell_msg *msg,
                          struct cell_route *ret_route)
{
    struct cell_route route = { .deliver_local = false };
    struct error *error;

    if (msg->type != CELL_MSG_REQUEST) {
        return error_new(ERROR_INTERNAL, "Message '%s' is not a request",
                         msg->id);
    }
    if (!msg->n_trail
        || !cell_path_equal(cell_msg_current_cell(msg), router->path)) {
        return error_new(ERROR_INTERNAL, "Request '%s' is at cell '%s', not "
                         "at '%s'", msg->id, cell_msg_current_cell(msg),
                         router->path);
    }

    if (msg->scope == CELL_MSG_TARGETED) {
        error = cell_router_targeted(router, msg, &route);
    } else if (msg->direction == CELL_MSG_DOWN) {
        error = cell_router_broadcast_down(router, msg, &route);
    } else {
        error = cell_router_broadcast_up(router, msg, &route);
    }
    if (!error && (route.to_parent || route.n_children)
        && msg->hops >= CELL_MSG_MAX_HOPS) {
        AUTOFREE char *trail = cell_msg_trail_to_string(msg);

        error = error_new(ERROR_INTERNAL, "Request '%s' (method '%s') "
                          "dropped at cell '%s': it reached the limit of %d "
                          "hops, a routing loop? Trail: %s", msg->id,
                          msg->method, router->path, CELL_MSG_MAX_HOPS,
                          trail);
    }
    if (error) {
        cell_route_destroy(&route);
        return error;
    }
    *ret_route = route;
    return NULL;
}

struct error *
cell_router_route_response(const struct cell_router *router,
                           const struct cell_msg *msg,
                           struct cell_route *ret_route)
{
    struct cell_route route = { .deliver_local = false };
    const char *next;
    const char *child;
    bool is_parent;

    if (msg->type != CELL_MSG_RESPONSE) {
        return error_new(ERROR_INTERNAL, "Message '%s' is not a response",
                         msg->id);
    }
    if (!msg->n_route) {
        route.deliver_local = true;
        *ret_route = route;
        return NULL;
    }
    next = msg->route[msg->n_route - 1];
    if (cell_router_neighbour(router, next, &is_parent, &child)) {
        return error_new(ERROR_NOT_FOUND, "Cannot pass the response to "
                         "request '%s' from cell '%s' to '%s': it is "
                         "neither its parent nor one of its children",
                         msg->id, router->path, next);
    }
    if (is_parent) {
        route.to_parent = true;
    } else {
        cell_route_add_child(&route, child);
    }
    *ret_route = route;
    return NULL;
}
