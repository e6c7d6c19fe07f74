/* cell-msg.h: messages between cells, routed hop by hop along the tree.
 *
 * A cell message travels from cell to cell over the RabbitMQ vhosts of
 * neighbouring cells (cell-links.h): each hop is one RPC cast (rpc.h) to the
 * "cells" queue of the next cell, which decides where it goes next
 * (cell-router.h).  There are two kinds:
 *
 * REQUESTS carry a method and its arguments from a 'sender' cell:
 *   targeted   to the single cell 'target', which is either below the
 *              sender ('direction' down) or above it (up).  Only the target
 *              executes the method; the cells on the way just pass it on.
 *   broadcast  down: to every cell of the subtree rooted at 'target' (the
 *              sender or a cell below it), that is every descendant of
 *              'target', and 'target' itself when 'include_self' is set
 *              (Nova's run_locally).  The message first travels down to
 *              'target' like a targeted one, then each cell of the subtree
 *              executes it and passes it to all of its children.
 *              up: to every ancestor of the sender, from its parent to the
 *              root, and the sender itself when 'include_self' is set;
 *              'target' is the sender.
 *
 * RESPONSES answer a request that set 'need_response'.  A response retraces
 * the request's trail backwards, hop by hop, to the sender: a cell only
 * holds credentials for its neighbours' vhosts, so there is no shortcut.
 * Every cell that executed the request (or refused it) answers on its own;
 * for a broadcast, each response also lists the neighbours the responding
 * cell passed the request on to ('forwarded_to') and those it could not
 * reach ('unreachable').  From these the sender learns which cells it must
 * still hear from, so it can report by name the cells that did not answer
 * in time (cell-node.h), without knowing the tree below its children.
 *
 * The route.  'trail' lists the cells a request has been at, the sender
 * first; 'hops' counts the times it was published.  A cell that publishes a
 * request increments 'hops'; the cell that receives it appends its own path
 * to 'trail'.  So on the wire a request has as many trail entries as hops,
 * and at a cell (after arrival, or at the sender before the first hop) one
 * more.  A cell refuses to publish a request that already made
 * CELL_MSG_MAX_HOPS hops: routing loops (a child link whose URL points back
 * up the tree) die there, and the sender gets an error that shows the trail.
 * A response's 'route' is what remains of the trail to walk back: its last
 * entry is the cell the response is being sent to, which removes itself on
 * arrival; the response is home when the route is empty.  Routes only
 * shrink, so responses cannot loop.
 *
 * On the wire a cell message is the 'args' object of an RPC message whose
 * method is CELL_MSG_RPC_REQUEST or CELL_MSG_RPC_RESPONSE, so the RPC
 * server's validator (cell_msg_validate_args()) dead-letters a malformed
 * one; the request context and deadline travel in the RPC envelope
 * (rpc-msg.h), copied from hop to hop:
 *
 *     {"type": "request", "id": "<uuid>", "reply_node": "node-1",
 *      "direction": "down", "scope": "broadcast", "sender": "api",
 *      "target": "api", "include_self": true, "need_response": true,
 *      "method": "get_capacity", "args": {}, "hops": 1, "trail": ["api"]}
 *
 *     {"type": "response", "id": "<uuid of the request>",
 *      "reply_node": "node-1", "responder": "api!region1",
 *      "route": ["api"], "result": {...},
 *      "forwarded_to": ["api!region1!leaf1", "api!region1!leaf2"],
 *      "unreachable": []}
 *
 * A response carries "result" (any JSON value) when the method ran,
 * "error" (error_to_json()) when it failed or the request was refused,
 * and neither when the responding cell only passed a broadcast on (the
 * root of a broadcast without 'include_self').  'reply_node' names the
 * process of the sender cell that waits for the responses (a cell may run
 * several nova-cells processes sharing its "cells" queue): the last hop of
 * a response goes to that process's own queue.
 *
 * Decoding is strict: unknown keys, wrong types, invalid paths, a trail
 * that does not start at the sender or does not match 'hops', a target on
 * the wrong side of the sender for the direction, lists over their limits:
 * each is an ERROR_INVALID error that names the field. */
#ifndef NOVA_CELL_MSG_H
#define NOVA_CELL_MSG_H 1

#include <stdbool.h>
#include <stddef.h>
#include "shared/compiler.h"
#include "shared/cleanup.h"
#include "cells-rpc/rpc-ctx.h"
#include "cells-rpc/rpc-msg.h"

struct error;
struct json_object;

/* Most times one request may be published.  Any legitimate route is
 * shorter: at most 2 * (CELL_PATH_MAX_DEPTH - 1) = 14 hops. */
#define CELL_MSG_MAX_HOPS 16

/* Most cells one response may list in 'forwarded_to' or 'unreachable': the
 * most children a cell may have. */
#define CELL_MSG_MAX_FANOUT 256

/* Longest 'reply_node' name, in characters from [A-Za-z0-9_.-]. */
#define CELL_MSG_MAX_NODE_LENGTH 64

/* Longest error message a response may carry, in characters. */
#define CELL_MSG_MAX_ERROR_LENGTH 4096

/* RPC methods of the cells topic that carry cell messages. */
#define CELL_MSG_RPC_REQUEST "cell_request"
#define CELL_MSG_RPC_RESPONSE "cell_response"

/* X-macros: enum value, name on the wire. */
#define CELL_MSG_TYPES(X)                       \
    X(CELL_MSG_REQUEST, "request")              \
    X(CELL_MSG_RESPONSE, "response")
#define CELL_MSG_DIRECTIONS(X)                  \
    X(CELL_MSG_DOWN, "down")                    \
    X(CELL_MSG_UP, "up")
#define CELL_MSG_SCOPES(X)                      \
    X(CELL_MSG_TARGETED, "targeted")            \
    X(CELL_MSG_BROADCAST, "broadcast")

#define CELL_MSG_ENUM_VALUE_(value, name) value,
enum cell_msg_type { CELL_MSG_TYPES(CELL_MSG_ENUM_VALUE_) };
enum cell_msg_direction { CELL_MSG_DIRECTIONS(CELL_MSG_ENUM_VALUE_) };
enum cell_msg_scope { CELL_MSG_SCOPES(CELL_MSG_ENUM_VALUE_) };
#undef CELL_MSG_ENUM_VALUE_

const char *cell_msg_type_to_string(enum cell_msg_type);
const char *cell_msg_direction_to_string(enum cell_msg_direction);
const char *cell_msg_scope_to_string(enum cell_msg_scope);
/* Each returns 0 and sets '*ret', or -EINVAL for an unknown name. */
int cell_msg_type_from_string(const char *, enum cell_msg_type *ret);
int cell_msg_direction_from_string(const char *,
                                   enum cell_msg_direction *ret);
int cell_msg_scope_from_string(const char *, enum cell_msg_scope *ret);

/* Strings, JSON values and lists are owned by the message.  Members of the
 * other type are unused (zero / NULL). */
struct cell_msg {
    enum cell_msg_type type;
    char id[RPC_MSG_ID_SIZE];       /* Request's id; a response repeats it. */
    char *reply_node;               /* Or NULL: see above. */
    struct rpc_ctx ctx;             /* Travels in the RPC envelope. */
    long long deadline_ms;          /* Epoch ms, 0 = none; envelope too. */

    /* Requests. */
    enum cell_msg_direction direction;
    enum cell_msg_scope scope;
    bool include_self;              /* Broadcast only. */
    bool need_response;
    char *sender;
    char *target;
    char *method;
    struct json_object *args;       /* A JSON object. */
    unsigned int hops;
    char **trail;
    size_t n_trail;

    /* Responses. */
    char *responder;
    char **route;
    size_t n_route;
    bool handled;                   /* 'result' or 'error' is meaningful. */
    struct json_object *result;     /* NULL is JSON null. */
    struct error *error;            /* Set: the method failed or the
                                     * request was refused. */
    char **forwarded_to;
    size_t n_forwarded_to;
    char **unreachable;
    size_t n_unreachable;
};

/* Creates a targeted request from 'sender' to 'target' for 'method',
 * travelling down if 'target' is below 'sender', up if above (a request to
 * the sender itself is executed locally and never leaves the cell).  Takes
 * ownership of 'args' (a JSON object; NULL means {}), even on failure.  The
 * new request has a fresh id, is at the sender (trail [sender], no hops),
 * needs no response, and has an empty context and no deadline: set the
 * members as needed.
 *
 * Returns NULL and stores the request (owned by the caller) in '*ret_msg',
 * or an ERROR_INVALID error: an invalid path or method name, arguments that
 * are not an object, or a target that is neither above nor below the
 * sender. */
struct error *cell_msg_new_targeted(const char *sender, const char *target,
                                    const char *method,
                                    struct json_object *args,
                                    struct cell_msg **ret_msg) WARN_UNUSED;

/* Creates a broadcast request from 'sender' in 'direction': down to the
 * subtree rooted at 'target' (NULL means the sender; otherwise a cell below
 * it), or up to the sender's ancestors ('target' must be NULL or the
 * sender).  Otherwise as cell_msg_new_targeted(); 'include_self' starts
 * false. */
struct error *cell_msg_new_broadcast(const char *sender,
                                     enum cell_msg_direction direction,
                                     const char *target, const char *method,
                                     struct json_object *args,
                                     struct cell_msg **ret_msg) WARN_UNUSED;

/* Creates the response of the cell where 'request' is now (the last entry of
 * its trail) to 'request': same id, reply node, context and deadline;
 * route back along the trail.  With 'handled' false the response only
 * reports forwarding ('result' and 'error' must be NULL).  Otherwise it
 * takes ownership of 'result' (NULL is JSON null) and 'error' (NULL for
 * success; if set, 'result' must be NULL).  Lists start empty: add to them
 * with cell_msg_add_forwarded() and cell_msg_add_unreachable().  The caller
 * owns the result. */
struct cell_msg *cell_msg_new_response(const struct cell_msg *request,
                                       bool handled,
                                       struct json_object *result,
                                       struct error *error);

/* Appends a copy of 'path' to response 'msg''s 'forwarded_to' or
 * 'unreachable' list.  Returns 0, or -E2BIG when the list already holds
 * CELL_MSG_MAX_FANOUT entries. */
int cell_msg_add_forwarded(struct cell_msg *msg, const char *path);
int cell_msg_add_unreachable(struct cell_msg *msg, const char *path);

/* Returns a deep copy of 'msg', owned by the caller. */
struct cell_msg *cell_msg_clone(const struct cell_msg *msg);

void cell_msg_free(struct cell_msg *);
DEFINE_FREEP(struct cell_msg, cell_msg_free)

/* Records that request 'msg' arrived at the cell 'path': appends a copy of
 * it to the trail. */
void cell_msg_push_trail(struct cell_msg *msg, const char *path);

/* Records that response 'msg' arrived at the cell 'path': removes the last
 * entry of the route, which must be 'path'.  Returns 0, or -EINVAL (the
 * route is empty or ends elsewhere: the response was misdelivered). */
int cell_msg_pop_route(struct cell_msg *msg, const char *path);

/* Where request 'msg' is now: the last entry of its trail. */
const char *cell_msg_current_cell(const struct cell_msg *msg);

/* Returns the trail of 'msg' as "api > api!region1 > ...", for messages
 * and logs.  The caller frees it. */
char *cell_msg_trail_to_string(const struct cell_msg *msg);

/* Returns 'msg' as the JSON object shown above: a new reference. */
struct json_object *cell_msg_to_json(const struct cell_msg *msg);

/* Decodes JSON object 'json' (borrowed), strictly.  Returns NULL and stores
 * a new message (owned by the caller, with an empty context and no
 * deadline) in '*ret_msg', or an ERROR_INVALID error naming the field. */
struct error *cell_msg_from_json(const struct json_object *json,
                                 struct cell_msg **ret_msg) WARN_UNUSED;

/* Wraps 'msg' in a new RPC message for the next hop: method
 * CELL_MSG_RPC_REQUEST or CELL_MSG_RPC_RESPONSE, args cell_msg_to_json(),
 * and the context and deadline of 'msg'.  The caller owns the result. */
struct rpc_msg *cell_msg_to_rpc(const struct cell_msg *msg);

/* The inverse: decodes the cell message of RPC message 'rpc' (borrowed),
 * whose method must match the message's type.  Same results as
 * cell_msg_from_json(), with context and deadline copied from 'rpc'. */
struct error *cell_msg_from_rpc(const struct rpc_msg *rpc,
                                struct cell_msg **ret_msg) WARN_UNUSED;

/* An rpc_validate_fn for both methods: NULL if 'args' decodes. */
struct error *cell_msg_validate_args(const struct json_object *args)
    WARN_UNUSED;

/* Encodes 'msg' as the text of its RPC message (cell_msg_to_rpc() and
 * rpc_msg_encode()), and back (rpc_msg_decode() and cell_msg_from_rpc()).
 * Failures as for those functions. */
struct error *cell_msg_encode(const struct cell_msg *msg, char **ret_text,
                              size_t *ret_size) WARN_UNUSED;
struct error *cell_msg_decode(const char *text, size_t size,
                              struct cell_msg **ret_msg) WARN_UNUSED;

/* Checks a 'reply_node' name.  Returns 0 or -EINVAL. */
int cell_msg_node_validate(const char *node);

#endif /* NOVA_CELL_MSG_H */
