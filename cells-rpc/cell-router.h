/* cell-router.h: where a cell message goes next, seen from one cell.
 *
 * A router knows one cell's place in the tree: its own path, hence its
 * parent (none for the root), and the names of its children (from the
 * topology).  For a message that is at this cell it decides, without any
 * I/O, whether to execute it here, pass it to the parent, to one child or
 * to every child, or to refuse it with an error for the sender:
 *
 *   request              at this cell C                decision
 *   targeted             C is the target               execute here
 *                        down, target below C          child toward target
 *                        up, target above C            parent
 *                        otherwise                     refuse
 *   broadcast down       C above the subtree root T    child toward T
 *                        C is T                        all children, and
 *                                                      here if include_self
 *                        C below T                     here and all children
 *                        otherwise                     refuse
 *   broadcast up         C is the sender S             parent (unless root),
 *                                                      here if include_self
 *                        C above S                     here, parent (unless
 *                                                      root)
 *                        otherwise                     refuse
 *   response             route empty                   home: deliver here
 *                        otherwise                     the neighbour the
 *                                                      route names next
 *
 * A request that must be passed on after it already made CELL_MSG_MAX_HOPS
 * hops is refused as a whole (not executed here either), which is what
 * stops a routing loop.  A child that the topology does not know is an
 * error ("Cell 'api!east!east-9' is not a child of 'api!east'"), as is a
 * request that reached a cell not on its way (a misconfigured link). */
#ifndef NOVA_CELL_ROUTER_H
#define NOVA_CELL_ROUTER_H 1

#include <stdbool.h>
#include <stddef.h>
#include "shared/compiler.h"
#include "shared/cleanup.h"

struct cell_msg;
struct error;

/* Most children one cell may have. */
#define CELL_ROUTER_MAX_CHILDREN 256

/* What to do with one message.  'children' holds child names (the last
 * component of their paths), owned by the route.  'responds' says whether
 * this cell answers a request that needs a response: the target of a
 * targeted request, and every cell a broadcast reaches (the root of a
 * broadcast down answers even without 'include_self', to report where it
 * passed the request); cells that only pass a request on toward its target
 * do not. */
struct cell_route {
    bool deliver_local;
    bool responds;
    bool to_parent;
    char **children;
    size_t n_children;
};

/* Frees what 'route' owns and zeroes it.  NULL-safe. */
void cell_route_destroy(struct cell_route *route);

struct cell_router;

/* Creates the router of the cell at 'path', with no children yet.  Returns
 * NULL and stores the router (owned by the caller) in '*ret_router', or an
 * ERROR_INVALID error for an invalid path. */
struct error *cell_router_new(const char *path,
                              struct cell_router **ret_router) WARN_UNUSED;

void cell_router_free(struct cell_router *);
DEFINE_FREEP(struct cell_router, cell_router_free)

/* Adds child 'name' (one cell name, not a path).  Returns 0, -EINVAL for an
 * invalid name, -EEXIST for a name already added, -E2BIG when the cell
 * already has CELL_ROUTER_MAX_CHILDREN children or the child would be
 * deeper than CELL_PATH_MAX_DEPTH. */
int cell_router_add_child(struct cell_router *, const char *name);

/* This cell's path, and its parent's (NULL for the root).  Owned by the
 * router. */
const char *cell_router_path(const struct cell_router *);
const char *cell_router_parent(const struct cell_router *);

/* The children, in the order added: names, and full paths.  Owned by the
 * router. */
size_t cell_router_n_children(const struct cell_router *);
const char *cell_router_child_name(const struct cell_router *, size_t i);
const char *cell_router_child_path(const struct cell_router *, size_t i);

/* True if 'name' is a child of this cell. */
bool cell_router_has_child(const struct cell_router *, const char *name);

/* If cell 'path' is this cell's parent or one of its children, stores
 * whether it is the parent in '*ret_is_parent' and, for a child, its name
 * (owned by the router) in '*ret_child' (NULL for the parent), and returns
 * 0.  Otherwise returns -ENOENT. */
int cell_router_neighbour(const struct cell_router *, const char *path,
                          bool *ret_is_parent, const char **ret_child);

/* Decides where request 'msg', which is at this cell (its trail ends with
 * this cell's path), goes.  Returns NULL and fills '*ret_route' (which the
 * caller destroys), or an error that explains the refusal, to be sent back
 * to the sender: ERROR_NOT_FOUND for a child the topology does not know,
 * ERROR_INVALID for a request that has no business here, ERROR_INTERNAL
 * when the hop limit is reached. */
struct error *cell_router_route_request(const struct cell_router *,
                                        const struct cell_msg *msg,
                                        struct cell_route *ret_route)
    WARN_UNUSED;

/* Decides where response 'msg', which arrived here (its route no longer
 * names this cell), goes: home if its route is empty, else the parent or
 * the child its route names next.  Returns NULL and fills '*ret_route', or
 * ERROR_NOT_FOUND when the next cell is no neighbour of this one. */
struct error *cell_router_route_response(const struct cell_router *,
                                         const struct cell_msg *msg,
                                         struct cell_route *ret_route)
    WARN_UNUSED;

#endif /* NOVA_CELL_ROUTER_H */
