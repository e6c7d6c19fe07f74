/* cell-node.h: one cell's end of the cell message layer.
 *
 * A 'struct cell_node' is what a nova-cells process runs for its cell: it
 * consumes the cell's "cells" queue on the cell's own vhost, routes each
 * message that arrives (cell-router.h), passes it on over the links to the
 * parent and the children (cell-links.h), executes the methods addressed
 * to this cell with the handlers it was given, answers requests that want
 * an answer, and collects the answers to the requests it sends itself.
 *
 * Queues.  Every process of a cell consumes the shared queue "<topic>"
 * (requests for the cell, and responses passing through it) and its own
 * queue "<topic>.<node id>": the responses to the requests this process
 * sent come home there, so several nova-cells processes of one cell can
 * share the load without stealing each other's answers.  The node id must
 * be unique among the processes of the cell and stable across restarts
 * (the host name, by default), so that the per-process queue is reused and
 * not leaked.
 *
 * Sending.  cell_node_send() takes a request made with
 * cell_msg_new_targeted() or cell_msg_new_broadcast() whose sender is this
 * cell.  Without a callback it is fire-and-forget (a cast hop by hop).
 * With one, the request needs a response, carries a deadline (now plus
 * the timeout), and the callback gets exactly one 'struct cell_reply':
 *   - targeted: the target's answer, or an error: the request was refused
 *     on its way (an unknown child, a cell down, the hop limit: the error
 *     the refusing cell sent back), or ERROR_TIMEOUT when no answer came;
 *   - broadcast: the answers of every cell that executed the method, and
 *     the cells that did not answer before the timeout or could not be
 *     reached ('missing': a partial answer, not an error).  The sender does
 *     not need to know the tree: each answering cell reports the cells it
 *     passed the request to, so the node knows whom it still waits for.
 *     A cell below a cell that never answered is unknown to the sender and
 *     not listed; the cell that did not answer is.
 * Callbacks run from cell_node_run(), never from inside cell_node_send().
 *
 * Executing.  A request addressed to this cell runs the handler of its
 * method from the table given at creation.  The handler returns a result
 * or an error, or defers: it calls cell_request_defer() and answers later
 * with cell_request_reply() (for instance after an async RPC call to the
 * conductor).  Requests for a method this cell does not have are answered
 * with an error.
 *
 * Delivery.  Every hop is an RPC cast with publisher confirms: at least
 * once per hop.  A cell message is acknowledged on the cell's queue once
 * it has been passed to the links and, when it is addressed here, once its
 * handler has returned; XXX: a process that dies between the ack and its
 * links' publish loses the message (the sender of a request with a
 * response times out; a cast is repaired by the periodic heal).  A
 * response that arrives twice is counted once.
 *
 * Threads.  A node, its handlers and its callbacks belong to the thread
 * that created it, which drives it with cell_node_run() and
 * cell_node_wait() in a poll loop (shared/poll-loop.h); its links run
 * threads of their own. */
#ifndef NOVA_CELL_NODE_H
#define NOVA_CELL_NODE_H 1

#include <stdbool.h>
#include <stddef.h>
#include "shared/compiler.h"
#include "shared/cleanup.h"

struct cell_msg;
struct error;
struct json_object;

/* Topic of the cells queues, unless the options say otherwise. */
#define CELL_NODE_DEFAULT_TOPIC "cells"

/* Version of the cells RPC interface (cell_request, cell_response). */
#define CELL_NODE_RPC_VERSION "1.0"

/* Most requests with a response one node may wait for at once. */
#define CELL_NODE_MAX_PENDING 10000

/* Most cells one broadcast may hear from or wait for; answers beyond it
 * are ignored (and logged). */
#define CELL_NODE_MAX_BROADCAST_CELLS 10000

/* Most methods in a node's table. */
#define CELL_NODE_MAX_METHODS 256

/* A request being executed at this cell. */
struct cell_request;

/* Executes the method of 'req' at this cell.  Returns NULL and may store a
 * result (a new reference; NULL is JSON null) in '*ret_result', or returns
 * the error to answer with.  To answer later, call cell_request_defer(req)
 * and return NULL without a result.  'aux' is the node's. */
typedef struct error *cell_handler_fn(struct cell_request *req, void *aux,
                                      struct json_object **ret_result);

struct cell_method {
    const char *name;               /* An RPC method name. */
    cell_handler_fn *handler;
};

/* A child of this cell and the transport URL of its vhost. */
struct cell_node_child {
    const char *name;               /* One cell name, not a path. */
    const char *url;
};

struct cell_node_options {
    const char *path;               /* This cell; required. */
    const char *url;                /* This cell's vhost; required. */
    const char *parent_url;         /* Required, except for the root. */
    const struct cell_node_child *children;
    size_t n_children;
    /* This process among the cell's; NULL: the host name. */
    const char *node_id;
    /* NULL: CELL_NODE_DEFAULT_TOPIC.  Every cell of a tree must use the
     * same topic (tests use a unique one per run). */
    const char *topic;
    const struct cell_method *methods;  /* Borrowed: must outlive the
                                         * node. */
    size_t n_methods;
    void *aux;                      /* Passed to every handler. */
    /* Per-host connect timeout of every connection, ms; 0: defaults. */
    int connect_timeout_ms;
};

/* One cell's answer to a request. */
struct cell_reply_item {
    char *cell;                     /* The answering cell's path. */
    struct json_object *result;     /* NULL is JSON null. */
    struct error *error;            /* The method failed there. */
};

struct cell_reply {
    char *id;                       /* The request's id. */
    char *method;
    struct error *error;            /* The request as a whole failed. */
    struct cell_reply_item *items;  /* Sorted by cell path. */
    size_t n_items;
    char **missing;                 /* No answer in time, or unreachable;
                                     * sorted. */
    size_t n_missing;
};

void cell_reply_free(struct cell_reply *);
DEFINE_FREEP(struct cell_reply, cell_reply_free)

/* The answer of cell 'path' in 'reply', or NULL. */
const struct cell_reply_item *cell_reply_find(const struct cell_reply *,
                                              const char *path);

/* True if 'path' is among the cells of 'reply' that did not answer. */
bool cell_reply_is_missing(const struct cell_reply *, const char *path);

/* Receives the reply to a request, which it owns (cell_reply_free()). */
typedef void cell_reply_fn(struct cell_reply *reply, void *aux);

struct cell_node;

/* Creates the node of the cell described by 'options': opens the
 * connection to the cell's own vhost and starts consuming (a failure to
 * reach it is an error: ERROR_UNAVAILABLE or ERROR_UNAUTHORIZED), and
 * starts the links to the parent and the children (which connect in the
 * background).  Returns NULL and stores the node (owned by the caller,
 * bound to the calling thread) in '*ret_node', or an error. */
struct error *cell_node_new(const struct cell_node_options *options,
                            struct cell_node **ret_node) WARN_UNUSED;

/* Stops consuming, completes every pending request with an
 * ERROR_UNAVAILABLE reply, orphans deferred requests, closes the links and
 * frees 'node' (NULL-safe).  Not from a handler or callback. */
void cell_node_free(struct cell_node *);
DEFINE_FREEP(struct cell_node, cell_node_free)

/* Does all the work that is ready without blocking: messages that
 * arrived, timeouts, callbacks. */
void cell_node_run(struct cell_node *);

/* Registers with the poll loop what cell_node_run() waits for. */
void cell_node_wait(struct cell_node *);

/* This cell's path and this process's node id.  Owned by the node. */
const char *cell_node_path(const struct cell_node *);
const char *cell_node_id(const struct cell_node *);

/* This node's links to its neighbours (for stats and tests). */
struct cell_links *cell_node_links(const struct cell_node *);

/* Sends request 'msg' (taken over, even on failure) from this cell.  With
 * 'cb' NULL the request needs no response; otherwise 'cb' gets the reply
 * with 'aux', within about 'timeout_ms' milliseconds (> 0).  Returns NULL,
 * or an error if the request cannot start: ERROR_INVALID (not a new request
 * of this cell) or the router's refusal at this cell (such as "Cell
 * 'api!east!east-9' is not a child of 'api!east'"), or ERROR_UNAVAILABLE
 * when CELL_NODE_MAX_PENDING requests already wait; then 'cb' is never
 * called. */
struct error *cell_node_send(struct cell_node *, struct cell_msg *msg,
                             int timeout_ms, cell_reply_fn *cb, void *aux)
    WARN_UNUSED;

/* Number of requests waiting for their reply. */
size_t cell_node_n_pending(const struct cell_node *);

/* Counters of one node, since cell_node_new(). */
struct cell_node_stats {
    unsigned long long requests_received;   /* From the cell's queue. */
    unsigned long long responses_received;  /* From the cell's queue. */
    unsigned long long sent;                /* Requests sent by this cell. */
    unsigned long long passed_on;           /* Request copies handed to a
                                             * link. */
    unsigned long long executed;            /* Handlers that answered. */
    unsigned long long refused;             /* Requests refused here. */
    unsigned long long hop_limit;           /* ... of which at the hop
                                             * limit. */
    unsigned long long unreachable;         /* Sends a link refused. */
    unsigned long long answers;             /* Replies completed. */
    unsigned long long timeouts;            /* ... of which timed out. */
};

void cell_node_get_stats(const struct cell_node *,
                         struct cell_node_stats *ret_stats);

/* The request being executed: its message (borrowed for the request's
 * life) and the node. */
const struct cell_msg *cell_request_msg(const struct cell_request *);
struct cell_node *cell_request_node(const struct cell_request *);

/* Tells the node that the handler will answer later; the handler must then
 * return NULL without a result.  From the handler only. */
void cell_request_defer(struct cell_request *);

/* Completes deferred request 'req': takes ownership of 'result' and
 * 'error', answers the sender if it wants an answer, and frees 'req'.
 * Exactly once per deferred request, from the node's thread, not inside
 * the handler itself.  If the node was freed meanwhile, it just frees
 * everything. */
void cell_request_reply(struct cell_request *, struct json_object *result,
                        struct error *error);

#endif /* NOVA_CELL_NODE_H */
