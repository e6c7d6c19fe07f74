/* cell-links.c: a cell's connections to its neighbours (see cell-links.h).
 *
 * Each link is a thread that owns one rpc_conn.  The cell's thread and the
 * link thread share only the queue of messages to send, the stop flag and
 * the last seen connection state, all under the link's mutex; an eventfd
 * wakes the link thread's poll loop when the queue gets a message or the
 * link is stopped.  The link thread takes the whole queue at once under the
 * mutex and casts outside it, so a send from the cell's thread never waits
 * for librabbitmq-c.
 *
 * A link whose first rpc_conn_open() fails retries with its own backoff
 * (CELL_LINK_RETRY_MIN_MS .. CELL_LINK_RETRY_MAX_MS); once a connection
 * exists, the RPC layer reconnects it by itself. */
#include <config.h>
#include "cells-rpc/cell-links.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>

#include "cells-rpc/cell-path.h"
#include "cells-rpc/rpc-backoff.h"
#include "cells-rpc/rpc-msg.h"
#include "cells-rpc/rpc.h"
#include "cells-rpc/transport-url.h"
#include "shared/error.h"
#include "shared/log.h"
#include "shared/poll-loop.h"
#include "shared/xalloc.h"

LOG_MODULE("cells.link");

struct cell_link_item {
    struct cell_link_item *next;
    struct rpc_msg *msg;
    char *server;               /* Or NULL: the shared queue. */
};

struct cell_link {
    char *cell;
    char *url;                  /* With the password: never log it. */
    char *url_display;
    char *topic;
    char *conn_name;
    int connect_timeout_ms;
    int heartbeat_s;
    pthread_t thread;
    int wake_fd;

    pthread_mutex_t mutex;
    pthread_cond_t state_changed;
    /* Guarded by 'mutex'. */
    struct cell_link_item *head;
    struct cell_link_item **tailp;
    size_t n_queued;
    bool stop;
    bool connected;
    struct cell_link_stats stats;
};

static void
cell_link_wake(struct cell_link *link)
{
    uint64_t one = 1;

    /* A full counter already means "wake up": nothing is lost. */
    (void) !write(link->wake_fd, &one, sizeof one);
}

static void
cell_link_drain_wake(struct cell_link *link)
{
    uint64_t value;

    (void) !read(link->wake_fd, &value, sizeof value);
}

/* Takes the whole queue, under the mutex. */
static struct cell_link_item *
cell_link_take_queue(struct cell_link *link)
{
    struct cell_link_item *head;

    pthread_mutex_lock(&link->mutex);
    head = link->head;
    link->head = NULL;
    link->tailp = &link->head;
    link->n_queued = 0;
    pthread_mutex_unlock(&link->mutex);
    return head;
}

static void
cell_link_item_free(struct cell_link_item *item)
{
    rpc_msg_free(item->msg);
    free(item->server);
    free(item);
}

/* Casts every queued message on 'conn'.  Link thread only. */
static void
cell_link_send_queue(struct cell_link *link, struct rpc_conn *conn)
{
    struct cell_link_item *item = cell_link_take_queue(link);
    unsigned long long sent = 0;
    unsigned long long failed = 0;

    while (item) {
        struct cell_link_item *next = item->next;
        struct rpc_target target = {
            .topic = link->topic,
            .server = item->server,
        };
        struct error *error = rpc_cast(conn, &target, item->msg);

        if (error) {
            LOG_WARN_RL("Cannot send '%s' to cell '%s': %s",
                        item->msg->method, link->cell,
                        error_message(error));
            error_free(error);
            failed++;
        } else {
            sent++;
        }
        cell_link_item_free(item);
        item = next;
    }
    if (sent || failed) {
        pthread_mutex_lock(&link->mutex);
        link->stats.sent += sent;
        link->stats.failed += failed;
        pthread_mutex_unlock(&link->mutex);
    }
}

/* Records the connection state, for senders and cell_link_wait_up(). */
static void
cell_link_update_state(struct cell_link *link, bool connected)
{
    pthread_mutex_lock(&link->mutex);
    if (link->connected != connected) {
        link->connected = connected;
        pthread_cond_broadcast(&link->state_changed);
    }
    pthread_mutex_unlock(&link->mutex);
}

static bool
cell_link_stopping(struct cell_link *link)
{
    bool stop;

    pthread_mutex_lock(&link->mutex);
    stop = link->stop;
    pthread_mutex_unlock(&link->mutex);
    return stop;
}

static struct rpc_conn *
cell_link_open(struct cell_link *link, struct rpc_backoff *backoff,
               long long *next_open_ms)
{
    const struct rpc_conn_options options = {
        .heartbeat_s = link->heartbeat_s,
        .connect_timeout_ms = link->connect_timeout_ms,
        .name = link->conn_name,
    };
    struct rpc_conn *conn = NULL;
    struct error *error = rpc_conn_open(link->url, &options, &conn);
    bool failed = error != NULL;

    if (error) {
        long long delay = rpc_backoff_next(backoff);

        LOG_WARN_RL("Cannot open the link to cell '%s': %s, retrying in "
                    "%lld ms", link->cell, error_message(error), delay);
        error_free(error);
        *next_open_ms = poll_loop_now_ms() + delay;
    } else {
        LOG_DBG("Link to cell '%s' at %s is open", link->cell,
                link->url_display);
        rpc_backoff_reset(backoff);
    }
    pthread_mutex_lock(&link->mutex);
    if (failed) {
        link->stats.open_failures++;
    } else {
        link->stats.opens++;
    }
    pthread_mutex_unlock(&link->mutex);
    return conn;
}

static void
cell_link_close(struct cell_link *link, struct rpc_conn *conn)
{
    struct cell_link_item *item;
    size_t n_dropped = 0;

    if (conn) {
        cell_link_send_queue(link, conn);
        if (rpc_conn_is_connected(conn) && rpc_conn_n_unconfirmed(conn)) {
            struct error *error = rpc_conn_flush(conn,
                                                 CELL_LINK_CLOSE_FLUSH_MS);

            if (error) {
                LOG_WARN("Closing the link to cell '%s': %s, dropping them",
                         link->cell, error_message(error));
                error_free(error);
            }
        }
        rpc_conn_free(conn);
    }
    for (item = cell_link_take_queue(link); item; ) {
        struct cell_link_item *next = item->next;

        cell_link_item_free(item);
        n_dropped++;
        item = next;
    }
    if (n_dropped) {
        LOG_WARN("Closing the link to cell '%s': dropping %zu messages that "
                 "were never sent", link->cell, n_dropped);
    }
}

static void *
cell_link_main(void *link_)
{
    struct cell_link *link = link_;
    struct rpc_conn *conn = NULL;
    struct rpc_backoff backoff;
    long long next_open_ms = 0;

    /* The seed only spreads the retries of different links apart. */
    rpc_backoff_init(&backoff, CELL_LINK_RETRY_MIN_MS, CELL_LINK_RETRY_MAX_MS,
                     (unsigned int) getpid()
                     ^ (unsigned int) (uintptr_t) link);
    for (;;) {
        cell_link_drain_wake(link);
        if (cell_link_stopping(link)) {
            break;
        }
        if (!conn && poll_loop_now_ms() >= next_open_ms) {
            conn = cell_link_open(link, &backoff, &next_open_ms);
        }
        if (conn) {
            cell_link_send_queue(link, conn);
            rpc_conn_run(conn);
        }
        cell_link_update_state(link, conn && rpc_conn_is_connected(conn));

        poll_fd_wait(link->wake_fd, POLLIN);
        if (conn) {
            rpc_conn_wait(conn);
        } else {
            poll_timer_wait_until(next_open_ms);
        }
        poll_block();
    }
    cell_link_close(link, conn);
    return NULL;
}

struct error *
cell_link_new(const char *cell, const char *url,
              const struct cell_link_options *options,
              struct cell_link **ret_link)
{
    CLEANUP(transport_url_freep) struct transport_url *parsed = NULL;
    struct cell_link *link;
    struct error *error;
    int thread_error;

    error = cell_path_check("a link", cell);
    if (!error) {
        error = rpc_check_name("topic", options ? options->topic : NULL);
    }
    if (!error) {
        error = transport_url_parse(url, &parsed);
    }
    if (error) {
        return error_wrap(error, "Cannot link to cell '%.*s'",
                          CELL_PATH_MAX_LENGTH, cell ? cell : "");
    }

    link = xzalloc(sizeof *link);
    link->cell = xstrdup(cell);
    link->url = xstrdup(url);
    link->url_display = transport_url_to_string(parsed);
    link->topic = xstrdup(options->topic);
    link->conn_name = xasprintf("link to %s", cell);
    link->connect_timeout_ms = (options->connect_timeout_ms > 0
                                ? options->connect_timeout_ms
                                : CELL_LINK_CONNECT_TIMEOUT_MS);
    link->heartbeat_s = options->heartbeat_s;
    link->tailp = &link->head;
    pthread_mutex_init(&link->mutex, NULL);
    pthread_cond_init(&link->state_changed, NULL);
    link->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (link->wake_fd < 0) {
        error = error_from_errno(-errno, ERROR_INTERNAL,
                                 "Cannot link to cell '%s': eventfd", cell);
        cell_link_free(link);
        return error;
    }
    thread_error = pthread_create(&link->thread, NULL, cell_link_main, link);
    if (thread_error) {
        error = error_from_errno(-thread_error, ERROR_INTERNAL,
                                 "Cannot start the link to cell '%s'", cell);
        close(link->wake_fd);
        link->wake_fd = -1;
        cell_link_free(link);
        return error;
    }
    *ret_link = link;
    return NULL;
}

void
cell_link_free(struct cell_link *link)
{
    if (!link) {
        return;
    }
    if (link->wake_fd >= 0) {
        pthread_mutex_lock(&link->mutex);
        link->stop = true;
        pthread_mutex_unlock(&link->mutex);
        cell_link_wake(link);
        pthread_join(link->thread, NULL);
        close(link->wake_fd);
    }
    pthread_cond_destroy(&link->state_changed);
    pthread_mutex_destroy(&link->mutex);
    free(link->cell);
    free(link->url);
    free(link->url_display);
    free(link->topic);
    free(link->conn_name);
    free(link);
}

const char *
cell_link_cell(const struct cell_link *link)
{
    return link->cell;
}

const char *
cell_link_url(const struct cell_link *link)
{
    return link->url_display;
}

bool
cell_link_is_up(const struct cell_link *link_)
{
    struct cell_link *link = (struct cell_link *) link_;
    bool connected;

    pthread_mutex_lock(&link->mutex);
    connected = link->connected;
    pthread_mutex_unlock(&link->mutex);
    return connected;
}

/* Returns a copy of 'json' that shares no object with it, or NULL for
 * NULL. */
static struct json_object *
cell_link_deep_copy(struct json_object *json)
{
    struct json_object *copy = NULL;

    if (json && json_object_deep_copy(json, &copy, NULL)) {
        /* json-c fails only when it runs out of memory. */
        abort();
    }
    return copy;
}

/* Returns a copy of 'msg' for the link thread.  json-c's reference counts
 * and its cached string forms are not thread-safe, and rpc_msg_clone()
 * shares the JSON values of 'msg', so the copy gets JSON values of its
 * own. */
static struct rpc_msg *
cell_link_copy_msg(const struct rpc_msg *msg)
{
    struct rpc_msg *copy = rpc_msg_clone(msg);

    json_object_put(copy->args);
    copy->args = cell_link_deep_copy(msg->args);
    json_object_put(copy->extra);
    copy->extra = cell_link_deep_copy(msg->extra);
    return copy;
}

struct error *
cell_link_send(struct cell_link *link, const struct rpc_msg *msg,
               const char *server, enum cell_link_mode mode)
{
    struct cell_link_item *item;
    struct error *error = NULL;

    /* Copied before taking the mutex, which the link thread also needs. */
    item = xzalloc(sizeof *item);
    item->msg = cell_link_copy_msg(msg);
    item->server = xstrdup_or_null(server);

    pthread_mutex_lock(&link->mutex);
    if (mode == CELL_LINK_FAIL_FAST && !link->connected) {
        error = error_new(ERROR_CELL_DOWN, "Cell '%s' is unreachable: no "
                          "connection to %s", link->cell,
                          link->url_display);
    } else if (link->n_queued >= CELL_LINK_MAX_QUEUED) {
        error = error_new(ERROR_CELL_DOWN, "Cell '%s' is unreachable: %d "
                          "messages already wait for %s", link->cell,
                          CELL_LINK_MAX_QUEUED, link->url_display);
    }
    if (error) {
        link->stats.refused++;
        pthread_mutex_unlock(&link->mutex);
        cell_link_item_free(item);
        return error;
    }
    *link->tailp = item;
    link->tailp = &item->next;
    link->n_queued++;
    pthread_mutex_unlock(&link->mutex);
    cell_link_wake(link);
    return NULL;
}

void
cell_link_get_stats(const struct cell_link *link_,
                    struct cell_link_stats *ret_stats)
{
    struct cell_link *link = (struct cell_link *) link_;

    pthread_mutex_lock(&link->mutex);
    *ret_stats = link->stats;
    ret_stats->queued = link->n_queued;
    ret_stats->connected = link->connected;
    pthread_mutex_unlock(&link->mutex);
}

bool
cell_link_wait_up(const struct cell_link *link_, int timeout_ms)
{
    struct cell_link *link = (struct cell_link *) link_;
    struct timespec until;
    bool connected;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long) (timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&link->mutex);
    while (!link->connected) {
        if (pthread_cond_timedwait(&link->state_changed, &link->mutex,
                                   &until) == ETIMEDOUT) {
            break;
        }
    }
    connected = link->connected;
    pthread_mutex_unlock(&link->mutex);
    return connected;
}

/* The links of one cell. */

struct cell_links_child {
    char *name;
    struct cell_link *link;
};

struct cell_links {
    char *path;
    char *topic;
    int connect_timeout_ms;
    int heartbeat_s;
    struct cell_link *parent;
    struct cell_links_child *children;
    size_t n_children;
};

struct error *
cell_links_new(const char *path, const struct cell_link_options *options,
               struct cell_links **ret_links)
{
    struct error *error = cell_path_check("a cell's links", path);
    struct cell_links *links;

    if (!error) {
        error = rpc_check_name("topic", options ? options->topic : NULL);
    }
    if (error) {
        return error;
    }
    links = xzalloc(sizeof *links);
    links->path = xstrdup(path);
    links->topic = xstrdup(options->topic);
    links->connect_timeout_ms = options->connect_timeout_ms;
    links->heartbeat_s = options->heartbeat_s;
    *ret_links = links;
    return NULL;
}

void
cell_links_free(struct cell_links *links)
{
    if (!links) {
        return;
    }
    cell_link_free(links->parent);
    for (size_t i = 0; i < links->n_children; i++) {
        free(links->children[i].name);
        cell_link_free(links->children[i].link);
    }
    free(links->children);
    free(links->topic);
    free(links->path);
    free(links);
}

static struct cell_link_options
cell_links_options(const struct cell_links *links)
{
    struct cell_link_options options = {
        .topic = links->topic,
        .connect_timeout_ms = links->connect_timeout_ms,
        .heartbeat_s = links->heartbeat_s,
    };

    return options;
}

struct error *
cell_links_set_parent(struct cell_links *links, const char *url)
{
    struct cell_link_options options = cell_links_options(links);
    AUTOFREE char *parent = NULL;

    if (cell_path_parent(links->path, &parent)) {
        return error_new(ERROR_INVALID, "Cell '%s' is the root: it has no "
                         "parent to link to", links->path);
    }
    if (links->parent) {
        return error_new(ERROR_INVALID, "Cell '%s' already has a link to "
                         "its parent", links->path);
    }
    return cell_link_new(parent, url, &options, &links->parent);
}

struct error *
cell_links_add_child(struct cell_links *links, const char *name,
                     const char *url)
{
    struct cell_link_options options = cell_links_options(links);
    AUTOFREE char *path = NULL;
    struct cell_link *link;
    struct error *error;
    int join_error = cell_path_join(links->path, name, &path);

    if (join_error) {
        return error_new(ERROR_INVALID, "Invalid child name '%.*s' for cell "
                         "'%s'", CELL_PATH_MAX_NAME_LENGTH + 1,
                         name ? name : "", links->path);
    }
    if (cell_links_child(links, name)) {
        return error_new(ERROR_INVALID, "Cell '%s' already has a link to "
                         "its child '%s'", links->path, name);
    }
    error = cell_link_new(path, url, &options, &link);
    if (error) {
        return error;
    }
    links->children = xreallocarray(links->children, links->n_children + 1,
                                    sizeof *links->children);
    links->children[links->n_children].name = xstrdup(name);
    links->children[links->n_children].link = link;
    links->n_children++;
    return NULL;
}

struct cell_link *
cell_links_parent(const struct cell_links *links)
{
    return links->parent;
}

struct cell_link *
cell_links_child(const struct cell_links *links, const char *name)
{
    for (size_t i = 0; i < links->n_children; i++) {
        if (!strcmp(links->children[i].name, name)) {
            return links->children[i].link;
        }
    }
    return NULL;
}

size_t
cell_links_n_children(const struct cell_links *links)
{
    return links->n_children;
}

struct cell_link *
cell_links_child_at(const struct cell_links *links, size_t i)
{
    return i < links->n_children ? links->children[i].link : NULL;
}

bool
cell_links_wait_up(const struct cell_links *links, int timeout_ms)
{
    long long deadline = poll_loop_now_ms() + timeout_ms;
    bool all_up = true;

    if (links->parent) {
        all_up = cell_link_wait_up(links->parent, timeout_ms);
    }
    for (size_t i = 0; i < links->n_children; i++) {
        long long left = deadline - poll_loop_now_ms();

        all_up &= cell_link_wait_up(links->children[i].link,
                                    left > 0 ? (int) left : 0);
    }
    return all_up;
}
