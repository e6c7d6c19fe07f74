/* cell-links.h: a cell's connections to its neighbours' vhosts.
 *
 * A nova-cells process consumes its own cell's "cells" queue on its own
 * vhost (cell-node.h) and sends to its neighbours by publishing to THEIR
 * "cells" queues: up to its parent's vhost, down to each child's vhost.
 * Each of those is a 'struct cell_link': one RPC connection (rpc.h) to the
 * neighbour's transport URL, from the topology.
 *
 * One thread per link.  A link's connection is opened, driven and
 * reconnected by a thread of its own with its own poll loop, as rpc.h
 * requires (a connection belongs to the thread that opened it).  Opening a
 * connection, and reconnecting it, block for up to the connect timeout per
 * broker host; with a thread per link, a child whose broker hangs stalls
 * only its own link, never the cell's loop or its other links.
 *
 * Sending.  cell_link_send() is called from the cell's thread: it copies
 * the message into the link's queue and wakes the link thread, which
 * casts it on the connection; it never waits for the network.  What
 * happens when the neighbour is unreachable is the sender's choice:
 *   CELL_LINK_FAIL_FAST  fails at once with ERROR_CELL_DOWN while the link
 *                        is not connected.  For requests whose sender waits
 *                        for a response: the sender learns now that the cell
 *                        is down (a broadcast names it among the cells that
 *                        did not answer) instead of after its timeout.
 *   CELL_LINK_QUEUE      keeps the message while the link is down, to go
 *                        out once it is up: for casts and responses, which
 *                        nobody could retry.  The queue is bounded
 *                        (CELL_LINK_MAX_QUEUED); beyond it a send fails
 *                        with ERROR_CELL_DOWN.  A message's deadline, if
 *                        any, still applies: the RPC layer drops it when
 *                        the deadline passes before it could be published.
 * Once the link thread has handed a message to the connection, the RPC
 * layer publishes it with confirms and publishes it again after a
 * reconnect (at least once); its outbox has its own bound
 * (RPC_OUTBOX_MAX).
 *
 * A cell's links: 'struct cell_links' holds the parent link (none for the
 * root) and one link per child, by child name. */
#ifndef NOVA_CELL_LINKS_H
#define NOVA_CELL_LINKS_H 1

#include <stdbool.h>
#include <stddef.h>
#include "shared/compiler.h"
#include "shared/cleanup.h"

struct error;
struct rpc_msg;

/* Most messages one link keeps while its neighbour is unreachable. */
#define CELL_LINK_MAX_QUEUED 10000

/* Per-host connect and login timeout of a link, in milliseconds.  It
 * bounds how long a link thread blocks on a dead broker per attempt. */
#define CELL_LINK_CONNECT_TIMEOUT_MS 5000

/* Bounds of the delay between attempts to open a link that has never been
 * open (later losses are repaired by the RPC layer's own backoff). */
#define CELL_LINK_RETRY_MIN_MS 200
#define CELL_LINK_RETRY_MAX_MS 15000

/* How long freeing a link waits for the broker to confirm what was sent,
 * in milliseconds. */
#define CELL_LINK_CLOSE_FLUSH_MS 2000

enum cell_link_mode {
    CELL_LINK_FAIL_FAST,
    CELL_LINK_QUEUE,
};

struct cell_link_options {
    /* Topic of the neighbour's cells queue; required (rpc_check_name()). */
    const char *topic;
    /* Per-host connect timeout; 0 means CELL_LINK_CONNECT_TIMEOUT_MS. */
    int connect_timeout_ms;
    /* AMQP heartbeat in seconds; 0 means the RPC layer's default. */
    int heartbeat_s;
};

/* Counters of one link. */
struct cell_link_stats {
    unsigned long long sent;        /* Handed to the connection. */
    unsigned long long refused;     /* Failed fast or queue full. */
    unsigned long long failed;      /* The connection refused the cast. */
    unsigned long long opens;       /* Successful rpc_conn_open(). */
    unsigned long long open_failures;
    size_t queued;                  /* Waiting in the link's queue now. */
    bool connected;
};

struct cell_link;

/* Starts a link to the neighbour cell 'cell' (its path, for messages and
 * logs) at transport URL 'url', and its thread, which opens the connection
 * in the background.  Returns NULL and stores the link (owned by the
 * caller) in '*ret_link', or an ERROR_INVALID error for a bad URL, path or
 * topic.  Call from the cell's thread. */
struct error *cell_link_new(const char *cell, const char *url,
                            const struct cell_link_options *options,
                            struct cell_link **ret_link) WARN_UNUSED;

/* Stops the link's thread and frees it (NULL-safe).  Messages already
 * handed to a connected link get up to CELL_LINK_CLOSE_FLUSH_MS to be
 * confirmed; whatever is left is dropped and logged. */
void cell_link_free(struct cell_link *);
DEFINE_FREEP(struct cell_link, cell_link_free)

/* The neighbour's path, and its URL with the password hidden.  Owned by
 * the link. */
const char *cell_link_cell(const struct cell_link *);
const char *cell_link_url(const struct cell_link *);

/* True while the link's connection is up (as last seen by its thread). */
bool cell_link_is_up(const struct cell_link *);

/* Sends a copy of 'msg' (borrowed) to the neighbour's cells queue, the
 * shared "<topic>" if 'server' is NULL, else "<topic>.<server>" (one
 * process of the neighbour cell), as 'mode' says (see above).  Returns
 * NULL, or ERROR_CELL_DOWN naming the cell and saying why.  Never blocks
 * on the network. */
struct error *cell_link_send(struct cell_link *, const struct rpc_msg *msg,
                             const char *server, enum cell_link_mode mode)
    WARN_UNUSED;

void cell_link_get_stats(const struct cell_link *,
                         struct cell_link_stats *ret_stats);

/* Blocks until the link is connected or 'timeout_ms' passes; returns
 * whether it is connected.  For tests and start-up. */
bool cell_link_wait_up(const struct cell_link *, int timeout_ms);

/* The links of one cell. */
struct cell_links;

/* Creates an empty set of links for the cell at 'path'. */
struct error *cell_links_new(const char *path,
                             const struct cell_link_options *options,
                             struct cell_links **ret_links) WARN_UNUSED;

/* Frees every link (NULL-safe). */
void cell_links_free(struct cell_links *);
DEFINE_FREEP(struct cell_links, cell_links_free)

/* Starts the link to the parent at 'url'.  Fails with ERROR_INVALID for
 * the root, a second parent, or a bad URL. */
struct error *cell_links_set_parent(struct cell_links *, const char *url)
    WARN_UNUSED;

/* Starts the link to child 'name' at 'url'.  Fails with ERROR_INVALID for
 * a bad name or URL, or a name already linked. */
struct error *cell_links_add_child(struct cell_links *, const char *name,
                                   const char *url) WARN_UNUSED;

/* The parent's link (NULL for the root), and child 'name''s (NULL if
 * there is none).  Owned by 'links'. */
struct cell_link *cell_links_parent(const struct cell_links *);
struct cell_link *cell_links_child(const struct cell_links *,
                                   const char *name);

/* The children, in the order added. */
size_t cell_links_n_children(const struct cell_links *);
struct cell_link *cell_links_child_at(const struct cell_links *, size_t i);

/* Blocks until every link is up or 'timeout_ms' passes; returns whether
 * all are up. */
bool cell_links_wait_up(const struct cell_links *, int timeout_ms);

#endif /* NOVA_CELL_LINKS_H */
