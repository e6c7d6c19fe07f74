/* cell-node.c: one cell's end of the cell message layer (see cell-node.h).
 *
 * Flow of a request at this cell (process_request):
 *   1. route it (cell-router.c); a refusal is answered with the error;
 *   2. pass it on: one copy per next hop, 'hops' + 1, over the parent's or
 *      a child's link.  A request whose sender waits fails fast on a link
 *      that is down; the cell is then reported 'unreachable' (broadcast)
 *      or the request is refused with that error (on the way to a target);
 *   3. execute it here if it is addressed here (execute / finish);
 *   4. answer it, if this cell answers it: the answer carries the result
 *      or the error, and where the request was passed on.
 * Flow of a response (send_response): route it one hop back along its
 * route; when the route is empty it is home, and collect() matches it with
 * the pending request by id.
 *
 * Requests sent by this cell, and responses to them produced here, do not
 * go through the broker: they wait in 'local' and are processed in
 * cell_node_run(), so that cell_node_send() never runs a handler or a
 * callback.  Completed requests wait in 'completed' until the end of
 * cell_node_run(), where their callbacks run.
 *
 * Pending requests and the sets of cells a broadcast waits for are plain
 * lists searched linearly: a node waits for a few thousand requests at
 * most, and a broadcast hears from at most the cells of one tree. */
#include <config.h>
#include "cells-rpc/cell-node.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>

#include "cells-rpc/cell-links.h"
#include "cells-rpc/cell-msg.h"
#include "cells-rpc/cell-path.h"
#include "cells-rpc/cell-router.h"
#include "cells-rpc/rpc-msg.h"
#include "cells-rpc/rpc-server.h"
#include "cells-rpc/rpc.h"
#include "shared/error.h"
#include "shared/log.h"
#include "shared/poll-loop.h"
#include "shared/timeutil.h"
#include "shared/xalloc.h"

LOG_MODULE("cells.node");

/* A set of cell paths. */
struct cell_node_set {
    char **paths;
    size_t n;
};

static bool
cell_node_set_contains(const struct cell_node_set *set, const char *path)
{
    for (size_t i = 0; i < set->n; i++) {
        if (cell_path_equal(set->paths[i], path)) {
            return true;
        }
    }
    return false;
}

/* Adds 'path' unless present; returns false if the set is full. */
static bool
cell_node_set_add(struct cell_node_set *set, const char *path)
{
    if (cell_node_set_contains(set, path)) {
        return true;
    }
    if (set->n >= CELL_NODE_MAX_BROADCAST_CELLS) {
        return false;
    }
    set->paths = xreallocarray(set->paths, set->n + 1, sizeof *set->paths);
    set->paths[set->n++] = xstrdup(path);
    return true;
}

static void
cell_node_set_clear(struct cell_node_set *set)
{
    for (size_t i = 0; i < set->n; i++) {
        free(set->paths[i]);
    }
    free(set->paths);
    set->paths = NULL;
    set->n = 0;
}

/* A request sent by this node that waits for its reply. */
struct cell_pending {
    struct cell_pending *next;
    char id[RPC_MSG_ID_SIZE];
    char *method;
    enum cell_msg_scope scope;
    enum cell_msg_direction direction;
    char *target;
    long long deadline_ms;              /* poll_loop_now_ms() clock. */
    int timeout_ms;
    cell_reply_fn *cb;
    void *aux;

    struct cell_node_set expected;      /* Cells it waits for. */
    struct cell_node_set answered;
    struct cell_node_set unreachable;
    struct cell_reply_item *items;
    size_t n_items;
    struct error *error;
};

/* A message waiting in 'local'. */
struct cell_node_item {
    struct cell_node_item *next;
    struct cell_msg *msg;
};

struct cell_request {
    struct cell_node *node;             /* NULL once orphaned. */
    struct cell_msg *msg;
    struct cell_msg *response;          /* NULL: nobody waits. */
    bool ran;                           /* The handler was called. */
    bool in_handler;
    bool deferred;
    struct cell_request *prev;          /* In 'deferred' of the node. */
    struct cell_request *next;
};

struct cell_node {
    char *path;
    char *node_id;
    char *topic;
    const struct cell_method *methods;
    size_t n_methods;
    void *aux;

    struct cell_router *router;
    struct cell_links *links;
    struct rpc_conn *conn;              /* To this cell's own vhost. */
    struct rpc_server *server;

    struct cell_node_item *local;       /* FIFO. */
    struct cell_node_item **local_tailp;
    struct cell_pending *pending;
    size_t n_pending;
    struct cell_pending *completed;     /* Callbacks to run. */
    struct cell_request *deferred;      /* Doubly linked. */
    struct cell_node_stats stats;
};

static void cell_node_process_request(struct cell_node *, struct cell_msg *);
static void cell_node_send_response(struct cell_node *, struct cell_msg *);

static void
cell_node_log_ctx(const struct cell_node *node, const struct cell_msg *msg,
                  struct log_ctx *ctx)
{
    rpc_ctx_to_log_ctx(&msg->ctx, ctx);
    ctx->cell_path = node->path;
}

/* Replies. */

void
cell_reply_free(struct cell_reply *reply)
{
    if (!reply) {
        return;
    }
    free(reply->id);
    free(reply->method);
    error_free(reply->error);
    for (size_t i = 0; i < reply->n_items; i++) {
        free(reply->items[i].cell);
        if (reply->items[i].result) {
            json_object_put(reply->items[i].result);
        }
        error_free(reply->items[i].error);
    }
    free(reply->items);
    for (size_t i = 0; i < reply->n_missing; i++) {
        free(reply->missing[i]);
    }
    free(reply->missing);
    free(reply);
}

const struct cell_reply_item *
cell_reply_find(const struct cell_reply *reply, const char *path)
{
    for (size_t i = 0; i < reply->n_items; i++) {
        if (cell_path_equal(reply->items[i].cell, path)) {
            return &reply->items[i];
        }
    }
    return NULL;
}

bool
cell_reply_is_missing(const struct cell_reply *reply, const char *path)
{
    for (size_t i = 0; i < reply->n_missing; i++) {
        if (cell_path_equal(reply->missing[i], path)) {
            return true;
        }
    }
    return false;
}

static int
cell_node_compare_items(const void *a_, const void *b_)
{
    const struct cell_reply_item *a = a_;
    const struct cell_reply_item *b = b_;

    return cell_path_compare(a->cell, b->cell);
}

static int
cell_node_compare_paths(const void *a_, const void *b_)
{
    const char *const *a = a_;
    const char *const *b = b_;

    return cell_path_compare(*a, *b);
}

/* Pending requests. */

static void
cell_node_pending_free(struct cell_pending *pending)
{
    free(pending->method);
    free(pending->target);
    cell_node_set_clear(&pending->expected);
    cell_node_set_clear(&pending->answered);
    cell_node_set_clear(&pending->unreachable);
    for (size_t i = 0; i < pending->n_items; i++) {
        free(pending->items[i].cell);
        if (pending->items[i].result) {
            json_object_put(pending->items[i].result);
        }
        error_free(pending->items[i].error);
    }
    free(pending->items);
    error_free(pending->error);
    free(pending);
}

/* Builds the reply of 'pending', emptying it. */
static struct cell_reply *
cell_node_make_reply(struct cell_pending *pending)
{
    struct cell_reply *reply = xzalloc(sizeof *reply);

    reply->id = xstrdup(pending->id);
    reply->method = xstrdup(pending->method);
    reply->error = pending->error;
    pending->error = NULL;
    reply->items = pending->items;
    reply->n_items = pending->n_items;
    pending->items = NULL;
    pending->n_items = 0;
    if (reply->n_items) {
        qsort(reply->items, reply->n_items, sizeof *reply->items,
              cell_node_compare_items);
    }

    /* Missing: waited for and not answered, or unreachable. */
    for (size_t i = 0; i < pending->expected.n; i++) {
        const char *cell = pending->expected.paths[i];

        if (!cell_node_set_contains(&pending->answered, cell)) {
            (void) cell_node_set_add(&pending->unreachable, cell);
        }
    }
    for (size_t i = 0; i < pending->unreachable.n; i++) {
        const char *cell = pending->unreachable.paths[i];

        if (cell_node_set_contains(&pending->answered, cell)) {
            continue;
        }
        reply->missing = xreallocarray(reply->missing, reply->n_missing + 1,
                                       sizeof *reply->missing);
        reply->missing[reply->n_missing++] = xstrdup(cell);
    }
    if (reply->n_missing) {
        qsort(reply->missing, reply->n_missing, sizeof *reply->missing,
              cell_node_compare_paths);
    }
    return reply;
}

/* Moves 'pending' from the pending list to 'completed'. */
static void
cell_node_complete(struct cell_node *node, struct cell_pending *pending)
{
    for (struct cell_pending **p = &node->pending; *p; p = &(*p)->next) {
        if (*p == pending) {
            *p = pending->next;
            node->n_pending--;
            break;
        }
    }
    pending->next = node->completed;
    node->completed = pending;
}

static struct cell_pending *
cell_node_find_pending(const struct cell_node *node, const char *id)
{
    for (struct cell_pending *p = node->pending; p; p = p->next) {
        if (!strcmp(p->id, id)) {
            return p;
        }
    }
    return NULL;
}

/* Runs the callbacks of completed requests, oldest first. */
static void
cell_node_run_callbacks(struct cell_node *node)
{
    struct cell_pending *list = NULL;

    /* 'completed' is newest first: reverse it. */
    while (node->completed) {
        struct cell_pending *p = node->completed;

        node->completed = p->next;
        p->next = list;
        list = p;
    }
    while (list) {
        struct cell_pending *p = list;
        struct cell_reply *reply;

        list = p->next;
        reply = cell_node_make_reply(p);
        node->stats.answers++;
        p->cb(reply, p->aux);
        cell_node_pending_free(p);
    }
}

static void
cell_node_expire(struct cell_node *node)
{
    long long now = poll_loop_now_ms();
    struct cell_pending *p = node->pending;

    while (p) {
        struct cell_pending *next = p->next;

        if (p->deadline_ms <= now) {
            if (p->scope == CELL_MSG_TARGETED) {
                p->error = error_new(ERROR_TIMEOUT, "No answer from cell "
                                     "'%s' to request '%s' (method '%s') "
                                     "within %d ms", p->target, p->id,
                                     p->method, p->timeout_ms);
            }
            LOG_DBG("Request '%s' (method '%s') timed out after %d ms",
                    p->id, p->method, p->timeout_ms);
            node->stats.timeouts++;
            cell_node_complete(node, p);
        }
        p = next;
    }
}

static bool
cell_node_in_broadcast(const struct cell_pending *pending, const char *cell)
{
    return (pending->direction == CELL_MSG_DOWN
            ? cell_path_in_subtree(pending->target, cell)
            : cell_path_in_subtree(cell, pending->target));
}

static void
cell_node_add_item(struct cell_pending *pending, struct cell_msg *response)
{
    struct cell_reply_item *item;

    pending->items = xreallocarray(pending->items, pending->n_items + 1,
                                   sizeof *pending->items);
    item = &pending->items[pending->n_items++];
    item->cell = xstrdup(response->responder);
    item->result = TAKE_PTR(response->result);
    item->error = TAKE_PTR(response->error);
}

static bool
cell_node_broadcast_is_done(const struct cell_pending *pending)
{
    for (size_t i = 0; i < pending->expected.n; i++) {
        if (!cell_node_set_contains(&pending->answered,
                                    pending->expected.paths[i])) {
            return false;
        }
    }
    return true;
}

/* Takes a response that came home. */
static void
cell_node_collect(struct cell_node *node, struct cell_msg *response)
{
    struct cell_pending *pending = cell_node_find_pending(node,
                                                          response->id);
    struct log_ctx ctx;

    cell_node_log_ctx(node, response, &ctx);
    if (!pending) {
        LOG_DBG_CTX(&ctx, "Dropping the answer of cell '%s' to request '%s': "
                    "nobody waits for it any more", response->responder,
                    response->id);
        goto out;
    }
    if (cell_node_set_contains(&pending->answered, response->responder)) {
        LOG_DBG_CTX(&ctx, "Dropping a second answer of cell '%s' to "
                    "request '%s'", response->responder, response->id);
        goto out;
    }

    if (pending->scope == CELL_MSG_TARGETED) {
        if (cell_path_equal(response->responder, pending->target)) {
            (void) cell_node_set_add(&pending->answered,
                                     response->responder);
            cell_node_add_item(pending, response);
        } else {
            /* Refused on the way. */
            pending->error = (response->error
                              ? TAKE_PTR(response->error)
                              : error_new(ERROR_INTERNAL, "Unexpected "
                                          "answer from cell '%s' to request "
                                          "'%s' for cell '%s'",
                                          response->responder, pending->id,
                                          pending->target));
        }
        cell_node_complete(node, pending);
        goto out;
    }

    if (!cell_node_in_broadcast(pending, response->responder)) {
        if (response->error) {
            /* Refused on the way to the subtree. */
            pending->error = TAKE_PTR(response->error);
            cell_node_complete(node, pending);
        } else {
            LOG_WARN_RL_CTX(&ctx, "Ignoring an answer to broadcast '%s' "
                            "from cell '%s', which it does not reach",
                            pending->id, response->responder);
        }
        goto out;
    }
    if (!cell_node_set_add(&pending->answered, response->responder)) {
        LOG_WARN_RL_CTX(&ctx, "Broadcast '%s' has more than %d answers, "
                        "ignoring the one of cell '%s'", pending->id,
                        CELL_NODE_MAX_BROADCAST_CELLS, response->responder);
        goto out;
    }
    if (response->handled) {
        cell_node_add_item(pending, response);
    }
    for (size_t i = 0; i < response->n_forwarded_to; i++) {
        const char *cell = response->forwarded_to[i];

        if (cell_node_in_broadcast(pending, cell)
            && !cell_node_set_add(&pending->expected, cell)) {
            LOG_WARN_RL_CTX(&ctx, "Broadcast '%s' reaches more than %d "
                            "cells, not waiting for cell '%s'", pending->id,
                            CELL_NODE_MAX_BROADCAST_CELLS, cell);
        }
    }
    for (size_t i = 0; i < response->n_unreachable; i++) {
        (void) cell_node_set_add(&pending->unreachable,
                                 response->unreachable[i]);
    }
    if (cell_node_broadcast_is_done(pending)) {
        cell_node_complete(node, pending);
    }

out:
    cell_msg_free(response);
}

/* Local queue. */

static void
cell_node_enqueue_local(struct cell_node *node, struct cell_msg *msg)
{
    struct cell_node_item *item = xzalloc(sizeof *item);

    item->msg = msg;
    *node->local_tailp = item;
    node->local_tailp = &item->next;
}

static void
cell_node_run_local(struct cell_node *node)
{
    /* Only what is queued now: what the handlers queue meanwhile waits for
     * the next round, so that a chatty handler cannot starve the loop. */
    struct cell_node_item *item = node->local;

    node->local = NULL;
    node->local_tailp = &node->local;
    while (item) {
        struct cell_node_item *next = item->next;
        struct cell_msg *msg = item->msg;

        free(item);
        if (msg->type == CELL_MSG_REQUEST) {
            cell_node_process_request(node, msg);
        } else {
            cell_node_send_response(node, msg);
        }
        item = next;
    }
}

/* Responses. */

/* Routes response 'response' (taken) one hop on, or home. */
static void
cell_node_send_response(struct cell_node *node, struct cell_msg *response)
{
    CLEANUP(rpc_msg_freep) struct rpc_msg *rpc = NULL;
    struct cell_route route;
    struct cell_link *link;
    struct error *error;
    const char *server;
    struct log_ctx ctx;

    cell_node_log_ctx(node, response, &ctx);
    error = cell_router_route_response(node->router, response, &route);
    if (error) {
        LOG_WARN_RL_CTX(&ctx, "Dropping an answer: %s", error_message(error));
        error_free(error);
        cell_msg_free(response);
        return;
    }
    if (route.deliver_local) {
        cell_route_destroy(&route);
        if (response->reply_node
            && strcmp(response->reply_node, node->node_id)) {
            /* Home, but another process of this cell waits for it. */
            struct rpc_target target = {
                .topic = node->topic,
                .server = response->reply_node,
            };

            rpc = cell_msg_to_rpc(response);
            error = rpc_cast(node->conn, &target, rpc);
            if (error) {
                LOG_WARN_RL_CTX(&ctx, "Cannot pass the answer to request "
                                "'%s' to process '%s': %s", response->id,
                                response->reply_node, error_message(error));
                error_free(error);
            }
            cell_msg_free(response);
            return;
        }
        cell_node_collect(node, response);
        return;
    }

    link = (route.to_parent
            ? cell_links_parent(node->links)
            : cell_links_child(node->links, route.children[0]));
    cell_route_destroy(&route);
    /* The last hop goes to the process that waits. */
    server = response->n_route == 1 ? response->reply_node : NULL;
    rpc = cell_msg_to_rpc(response);
    error = (link
             ? cell_link_send(link, rpc, server, CELL_LINK_QUEUE)
             : error_new(ERROR_INTERNAL, "No link to the next cell"));
    if (error) {
        LOG_WARN_RL_CTX(&ctx, "Cannot pass the answer to request '%s' on "
                        "to cell '%s': %s", response->id,
                        response->route[response->n_route - 1],
                        error_message(error));
        error_free(error);
    }
    cell_msg_free(response);
}

/* Answers request 'msg' (borrowed) with 'error' (taken) if it needs an
 * answer, and logs the refusal. */
static void
cell_node_refuse(struct cell_node *node, const struct cell_msg *msg,
                 struct error *error)
{
    struct log_ctx ctx;

    cell_node_log_ctx(node, msg, &ctx);
    node->stats.refused++;
    if (msg->hops >= CELL_MSG_MAX_HOPS) {
        node->stats.hop_limit++;
        LOG_ERR_RL_CTX(&ctx, "%s", error_message(error));
    } else {
        LOG_WARN_RL_CTX(&ctx, "%s", error_message(error));
    }
    if (msg->need_response) {
        cell_node_send_response(node, cell_msg_new_response(msg, true, NULL,
                                                            error));
    } else {
        error_free(error);
    }
}

/* Requests. */

static void
cell_request_free(struct cell_request *req)
{
    cell_msg_free(req->msg);
    cell_msg_free(req->response);
    free(req);
}

static void
cell_node_unlink_deferred(struct cell_node *node, struct cell_request *req)
{
    if (req->prev) {
        req->prev->next = req->next;
    } else {
        node->deferred = req->next;
    }
    if (req->next) {
        req->next->prev = req->prev;
    }
    req->prev = req->next = NULL;
}

/* Completes 'req' with 'result' and 'error' (both taken). */
static void
cell_request_finish(struct cell_request *req, struct json_object *result,
                    struct error *error)
{
    struct cell_node *node = req->node;

    if (req->ran) {
        node->stats.executed++;
    }
    if (req->response) {
        struct cell_msg *response = TAKE_PTR(req->response);

        response->handled = true;
        response->result = error ? NULL : result;
        response->error = error;
        if (error && result) {
            json_object_put(result);
        }
        cell_node_send_response(node, response);
    } else {
        if (error) {
            struct log_ctx ctx;

            cell_node_log_ctx(node, req->msg, &ctx);
            LOG_WARN_RL_CTX(&ctx, "Method '%s' failed in cell '%s': %s",
                            req->msg->method, node->path,
                            error_message(error));
            error_free(error);
        }
        if (result) {
            json_object_put(result);
        }
    }
    cell_request_free(req);
}

static const struct cell_method *
cell_node_find_method(const struct cell_node *node, const char *name)
{
    for (size_t i = 0; i < node->n_methods; i++) {
        if (!strcmp(node->methods[i].name, name)) {
            return &node->methods[i];
        }
    }
    return NULL;
}

/* Executes 'msg' (taken) here; 'response' (taken, may be NULL) is the
 * answer to fill in. */
static void
cell_node_execute(struct cell_node *node, struct cell_msg *msg,
                  struct cell_msg *response)
{
    const struct cell_method *method = cell_node_find_method(node,
                                                             msg->method);
    struct cell_request *req = xzalloc(sizeof *req);
    struct json_object *result = NULL;
    struct error *error;

    req->node = node;
    req->msg = msg;
    req->response = response;
    if (!method) {
        cell_request_finish(req, NULL,
                            error_new(ERROR_INVALID, "Cell '%s' has no "
                                      "method '%s'", node->path,
                                      msg->method));
        return;
    }
    req->ran = true;
    req->in_handler = true;
    error = method->handler(req, node->aux, &result);
    req->in_handler = false;
    if (req->deferred) {
        if (error || result) {
            LOG_WARN_RL("Method '%s' deferred its answer but also returned "
                        "one, ignoring that", msg->method);
            error_free(error);
            if (result) {
                json_object_put(result);
            }
        }
        req->next = node->deferred;
        if (node->deferred) {
            node->deferred->prev = req;
        }
        node->deferred = req;
        return;
    }
    cell_request_finish(req, result, error);
}

/* Passes request 'msg' (borrowed) to 'link'; records the outcome in
 * 'response' (may be NULL).  Returns the link's error, if any. */
static struct error *
cell_node_pass_on(struct cell_node *node, const struct cell_msg *msg,
                  const struct rpc_msg *rpc, struct cell_link *link,
                  const char *next, struct cell_msg *response)
{
    struct error *error;

    if (!link) {
        error = error_new(ERROR_CELL_DOWN, "Cell '%s' has no link to cell "
                          "'%s'", node->path, next);
    } else {
        error = cell_link_send(link, rpc, NULL,
                               (msg->need_response
                                ? CELL_LINK_FAIL_FAST : CELL_LINK_QUEUE));
    }
    if (error) {
        node->stats.unreachable++;
    } else {
        node->stats.passed_on++;
    }
    if (response) {
        (void) (error
                ? cell_msg_add_unreachable(response, next)
                : cell_msg_add_forwarded(response, next));
    }
    return error;
}

/* Handles request 'msg' (taken), which is at this cell. */
static void
cell_node_process_request(struct cell_node *node, struct cell_msg *msg)
{
    CLEANUP(rpc_msg_freep) struct rpc_msg *rpc = NULL;
    struct cell_msg *response = NULL;
    struct error *pass_error = NULL;
    struct cell_route route;
    struct log_ctx ctx;
    struct error *error;

    cell_node_log_ctx(node, msg, &ctx);
    error = cell_router_route_request(node->router, msg, &route);
    if (error) {
        cell_node_refuse(node, msg, error);
        cell_msg_free(msg);
        return;
    }
    LOG_DBG_CTX(&ctx, "Request '%s' (method '%s', hop %u): local %d, "
                "parent %d, %zu children", msg->id, msg->method, msg->hops,
                route.deliver_local, route.to_parent, route.n_children);
    if (msg->need_response && route.responds) {
        response = cell_msg_new_response(msg, false, NULL, NULL);
    }

    if (route.to_parent || route.n_children) {
        /* One message for every next hop: the hop count is what was
         * published, the trail is completed by the receiver. */
        msg->hops++;
        rpc = cell_msg_to_rpc(msg);
        msg->hops--;
    }
    if (route.to_parent) {
        pass_error = cell_node_pass_on(node, msg, rpc,
                                       cell_links_parent(node->links),
                                       cell_router_parent(node->router),
                                       response);
    }
    for (size_t i = 0; i < route.n_children; i++) {
        AUTOFREE char *child = NULL;
        struct error *child_error;

        (void) cell_path_join(node->path, route.children[i], &child);
        child_error = cell_node_pass_on(node, msg, rpc,
                                        cell_links_child(node->links,
                                                         route.children[i]),
                                        child, response);
        if (child_error) {
            error_free(pass_error);
            pass_error = child_error;
        }
    }
    if (pass_error) {
        if (!route.responds) {
            /* On the way to its target: the request is lost here. */
            cell_node_refuse(node, msg,
                             error_wrap(pass_error, "Cannot pass request "
                                        "'%s' (method '%s') on from cell "
                                        "'%s'", msg->id, msg->method,
                                        node->path));
            cell_route_destroy(&route);
            cell_msg_free(msg);
            return;
        }
        LOG_WARN_RL_CTX(&ctx, "Broadcast '%s' (method '%s') does not reach "
                        "every cell below '%s': %s", msg->id, msg->method,
                        node->path, error_message(pass_error));
        error_free(pass_error);
    }

    if (route.deliver_local) {
        cell_node_execute(node, msg, response);
    } else {
        if (response) {
            cell_node_send_response(node, response);
        }
        cell_msg_free(msg);
    }
    cell_route_destroy(&route);
}

/* RPC server handlers. */

static struct error *
cell_node_rpc_request(struct rpc_request *req, void *node_,
                      struct json_object **ret_result)
{
    struct cell_node *node = node_;
    struct cell_msg *msg;
    struct error *error = cell_msg_from_rpc(rpc_request_msg(req), &msg);

    (void) ret_result;
    if (error) {
        return error;
    }
    node->stats.requests_received++;
    cell_msg_push_trail(msg, node->path);
    cell_node_process_request(node, msg);
    return NULL;
}

static struct error *
cell_node_rpc_response(struct rpc_request *req, void *node_,
                       struct json_object **ret_result)
{
    struct cell_node *node = node_;
    struct cell_msg *msg;
    struct error *error = cell_msg_from_rpc(rpc_request_msg(req), &msg);

    (void) ret_result;
    if (error) {
        return error;
    }
    node->stats.responses_received++;
    if (cell_msg_pop_route(msg, node->path)) {
        error = error_new(ERROR_INVALID, "The answer of cell '%s' to request "
                          "'%s' reached cell '%s', which is not on its "
                          "route", msg->responder, msg->id, node->path);
        cell_msg_free(msg);
        return error;
    }
    cell_node_send_response(node, msg);
    return NULL;
}

static const struct rpc_method cell_node_rpc_methods[] = {
    { CELL_MSG_RPC_REQUEST, cell_node_rpc_request, cell_msg_validate_args },
    { CELL_MSG_RPC_RESPONSE, cell_node_rpc_response,
      cell_msg_validate_args },
};

/* Life cycle. */

static struct error *
cell_node_check_options(const struct cell_node_options *options)
{
    struct error *error = cell_path_check("this cell", options->path);
    bool is_root;

    if (error) {
        return error;
    }
    is_root = cell_path_is_root(options->path);
    if (!options->url) {
        return error_new(ERROR_INVALID, "Cell '%s' needs the transport URL "
                         "of its own vhost", options->path);
    }
    if (is_root && options->parent_url) {
        return error_new(ERROR_INVALID, "Cell '%s' is the root: it cannot "
                         "have a parent URL", options->path);
    }
    if (!is_root && !options->parent_url) {
        return error_new(ERROR_INVALID, "Cell '%s' needs the transport URL "
                         "of its parent's vhost", options->path);
    }
    if (options->node_id && cell_msg_node_validate(options->node_id)) {
        return error_new(ERROR_INVALID, "Invalid node id '%.*s': it must "
                         "have 1 to %d characters from [A-Za-z0-9_.-]",
                         CELL_MSG_MAX_NODE_LENGTH, options->node_id,
                         CELL_MSG_MAX_NODE_LENGTH);
    }
    if (options->n_methods > CELL_NODE_MAX_METHODS) {
        return error_new(ERROR_INVALID, "Cell '%s' has %zu methods, more "
                         "than %d", options->path, options->n_methods,
                         CELL_NODE_MAX_METHODS);
    }
    for (size_t i = 0; i < options->n_methods; i++) {
        const struct cell_method *m = &options->methods[i];

        if (!m->name || !rpc_msg_method_is_valid(m->name) || !m->handler) {
            return error_new(ERROR_INVALID, "Invalid method %zu of cell "
                             "'%s'", i, options->path);
        }
        for (size_t j = 0; j < i; j++) {
            if (!strcmp(options->methods[j].name, m->name)) {
                return error_new(ERROR_INVALID, "Cell '%s' has method '%s' "
                                 "twice", options->path, m->name);
            }
        }
    }
    return NULL;
}

static char *
cell_node_default_id(void)
{
    char host[256];

    if (gethostname(host, sizeof host) || !host[0]
        || cell_msg_node_validate(host)) {
        return xstrdup("localhost");
    }
    host[sizeof host - 1] = '\0';
    return xstrdup(host);
}

struct error *
cell_node_new(const struct cell_node_options *options,
              struct cell_node **ret_node)
{
    CLEANUP(cell_node_freep) struct cell_node *node = NULL;
    struct cell_link_options link_options;
    struct rpc_conn_options conn_options;
    struct rpc_server_options server_options;
    struct error *error = cell_node_check_options(options);

    if (error) {
        return error;
    }
    node = xzalloc(sizeof *node);
    node->local_tailp = &node->local;
    node->path = xstrdup(options->path);
    node->node_id = (options->node_id ? xstrdup(options->node_id)
                     : cell_node_default_id());
    node->topic = xstrdup(options->topic ? options->topic
                          : CELL_NODE_DEFAULT_TOPIC);
    node->methods = options->methods;
    node->n_methods = options->n_methods;
    node->aux = options->aux;

    error = cell_router_new(node->path, &node->router);
    if (error) {
        return error;
    }
    link_options = (struct cell_link_options) {
        .topic = node->topic,
        .connect_timeout_ms = options->connect_timeout_ms,
    };
    error = cell_links_new(node->path, &link_options, &node->links);
    if (error) {
        return error;
    }
    if (options->parent_url) {
        error = cell_links_set_parent(node->links, options->parent_url);
        if (error) {
            return error;
        }
    }
    for (size_t i = 0; i < options->n_children; i++) {
        const struct cell_node_child *child = &options->children[i];
        int add_error = cell_router_add_child(node->router, child->name);

        if (add_error) {
            return error_from_errno(add_error, ERROR_INVALID,
                                    "Cannot add child '%.*s' to cell '%s'",
                                    CELL_PATH_MAX_NAME_LENGTH + 1,
                                    child->name ? child->name : "",
                                    node->path);
        }
        error = cell_links_add_child(node->links, child->name, child->url);
        if (error) {
            return error;
        }
    }

    conn_options = (struct rpc_conn_options) {
        .connect_timeout_ms = options->connect_timeout_ms,
        .name = node->path,
    };
    error = rpc_conn_open(options->url, &conn_options, &node->conn);
    if (error) {
        return error_wrap(error, "Cannot reach the vhost of cell '%s'",
                          node->path);
    }
    server_options = (struct rpc_server_options) {
        .topic = node->topic,
        .server = node->node_id,
        .version = CELL_NODE_RPC_VERSION,
        .methods = cell_node_rpc_methods,
        .n_methods = ARRAY_SIZE(cell_node_rpc_methods),
        .aux = node,
    };
    error = rpc_server_new(node->conn, &server_options, &node->server);
    if (error) {
        return error_wrap(error, "Cannot consume the queue of cell '%s'",
                          node->path);
    }
    *ret_node = TAKE_PTR(node);
    return NULL;
}

void
cell_node_free(struct cell_node *node)
{
    if (!node) {
        return;
    }
    rpc_server_free(node->server);
    node->server = NULL;

    /* Nothing more can arrive: fail what still waits. */
    while (node->pending) {
        struct cell_pending *p = node->pending;

        p->error = error_new(ERROR_UNAVAILABLE, "Cell '%s' stopped before "
                             "request '%s' (method '%s') was answered",
                             node->path, p->id, p->method);
        cell_node_complete(node, p);
    }
    while (node->local) {
        struct cell_node_item *item = node->local;

        node->local = item->next;
        cell_msg_free(item->msg);
        free(item);
    }
    node->local_tailp = &node->local;
    if (node->completed) {
        cell_node_run_callbacks(node);
    }
    while (node->deferred) {
        struct cell_request *req = node->deferred;

        cell_node_unlink_deferred(node, req);
        req->node = NULL;
    }

    rpc_conn_free(node->conn);
    cell_links_free(node->links);
    cell_router_free(node->router);
    free(node->path);
    free(node->node_id);
    free(node->topic);
    free(node);
}

void
cell_node_run(struct cell_node *node)
{
    rpc_conn_run(node->conn);
    cell_node_run_local(node);
    cell_node_expire(node);
    cell_node_run_callbacks(node);
}

void
cell_node_wait(struct cell_node *node)
{
    long long earliest = LLONG_MAX;

    rpc_conn_wait(node->conn);
    if (node->local || node->completed) {
        poll_immediate_wake();
    }
    for (const struct cell_pending *p = node->pending; p; p = p->next) {
        if (p->deadline_ms < earliest) {
            earliest = p->deadline_ms;
        }
    }
    if (earliest != LLONG_MAX) {
        poll_timer_wait_until(earliest);
    }
}

const char *
cell_node_path(const struct cell_node *node)
{
    return node->path;
}

const char *
cell_node_id(const struct cell_node *node)
{
    return node->node_id;
}

struct cell_links *
cell_node_links(const struct cell_node *node)
{
    return node->links;
}

size_t
cell_node_n_pending(const struct cell_node *node)
{
    return node->n_pending;
}

void
cell_node_get_stats(const struct cell_node *node,
                    struct cell_node_stats *ret_stats)
{
    *ret_stats = node->stats;
}

struct error *
cell_node_send(struct cell_node *node, struct cell_msg *msg, int timeout_ms,
               cell_reply_fn *cb, void *aux)
{
    CLEANUP(cell_msg_freep) struct cell_msg *owned = msg;
    struct cell_pending *pending;
    struct cell_route route;
    struct error *error;

    if (msg->type != CELL_MSG_REQUEST || msg->n_trail != 1 || msg->hops
        || !cell_path_equal(msg->sender, node->path)) {
        return error_new(ERROR_INVALID, "Cell '%s' can only send new "
                         "requests of its own", node->path);
    }
    if (cb && timeout_ms <= 0) {
        return error_new(ERROR_INVALID, "Request '%s' (method '%s') needs a "
                         "positive timeout", msg->id, msg->method);
    }
    if (cb && node->n_pending >= CELL_NODE_MAX_PENDING) {
        return error_new(ERROR_UNAVAILABLE, "Cell '%s' already waits for "
                         "%d answers", node->path, CELL_NODE_MAX_PENDING);
    }
    error = cell_router_route_request(node->router, msg, &route);
    if (error) {
        return error;
    }
    cell_route_destroy(&route);

    free(msg->reply_node);
    msg->reply_node = xstrdup(node->node_id);
    msg->need_response = cb != NULL;
    if (cb) {
        long long deadline = time_now_ms() + timeout_ms;

        if (!msg->deadline_ms || msg->deadline_ms > deadline) {
            msg->deadline_ms = deadline;
        }
        pending = xzalloc(sizeof *pending);
        memcpy(pending->id, msg->id, sizeof pending->id);
        pending->method = xstrdup(msg->method);
        pending->scope = msg->scope;
        pending->direction = msg->direction;
        pending->target = xstrdup(msg->target);
        pending->timeout_ms = timeout_ms;
        pending->deadline_ms = poll_loop_now_ms() + timeout_ms;
        pending->cb = cb;
        pending->aux = aux;
        (void) cell_node_set_add(&pending->expected, msg->target);
        pending->next = node->pending;
        node->pending = pending;
        node->n_pending++;
    }
    node->stats.sent++;
    cell_node_enqueue_local(node, TAKE_PTR(owned));
    return NULL;
}

const struct cell_msg *
cell_request_msg(const struct cell_request *req)
{
    return req->msg;
}

struct cell_node *
cell_request_node(const struct cell_request *req)
{
    return req->node;
}

void
cell_request_defer(struct cell_request *req)
{
    req->deferred = true;
}

void
cell_request_reply(struct cell_request *req, struct json_object *result,
                   struct error *error)
{
    /* From its own handler, the request would be answered twice. */
    assert(!req->in_handler);
    if (!req->node) {
        /* The node is gone: nobody to answer through. */
        if (result) {
            json_object_put(result);
        }
        error_free(error);
        cell_request_free(req);
        return;
    }
    cell_node_unlink_deferred(req->node, req);
    cell_request_finish(req, result, error);
}
