/* rpc.c: AMQP connections with confirms, reconnects, cast, call, fanout.
 *
 * See rpc.h for what a connection offers; this comment is about how.
 *
 * One AMQP connection, one channel (RPC_CHANNEL) in confirm mode carrying
 * everything: publishes, the reply-queue consumer and every server's
 * consumers.  librabbitmq-c is used in its synchronous style for the few
 * methods that have a reply (declare, bind, consume, cancel), and frames
 * are otherwise read without blocking by rpc_conn_pump() with
 * amqp_simple_wait_frame_noblock() and a zero timeout.  That call is also
 * where librabbitmq-c sends heartbeats and notices the broker's missing
 * ones, which is why rpc_conn_wait() asks to be woken every half
 * heartbeat even when the socket is quiet.  Frames that arrive during a
 * synchronous method are queued inside librabbitmq-c, where poll() cannot
 * see them: rpc_conn_wait() checks amqp_frames_enqueued() and
 * amqp_data_in_buffer() and asks for an immediate wake-up instead.
 *
 * Outbox.  Every publish (cast, fanout, call request, reply) is a 'struct
 * rpc_outmsg' that sits in 'to_publish' until it is written to the socket,
 * then in 'unconfirmed' (in delivery-tag order) until the broker's
 * basic.ack covers its tag.  A basic.nack moves it back to 'to_publish'.
 * Losing the connection moves all of 'unconfirmed' back to the front of
 * 'to_publish', so it is published again, in the same order, on the next
 * connection: at-least-once.  Delivery tags restart at 1 on each channel.
 *
 * Calls.  A 'struct rpc_call' waits in 'calls' for the reply whose
 * correlation_id is its msg_id.  It keeps the encoded request, because the
 * reply queue dies with the connection: after a reconnect every call still
 * waiting publishes its request again with the new reply_to (the server's
 * dedupe window answers a repeat from its cache).  Replies are read in
 * rpc_conn_pump(): a blocking call is marked done there, an async call
 * moves to 'completed' and its callback runs from rpc_conn_run().  So
 * callbacks never run inside librabbitmq-c or inside rpc_call_async().
 *
 * Deliveries to servers go to 'inbox' and are handed to the consumers in
 * rpc_conn_run() only, never while a blocking rpc_call() or
 * rpc_conn_flush() drives the connection: a handler may block on a call
 * without being re-entered.
 *
 * Connection loss (any I/O error, heartbeat timeout, channel or
 * connection close from the broker, consumer cancelled by the broker)
 * goes through rpc_conn_lost(): the librabbitmq-c state is destroyed,
 * deliveries not yet handed out are dropped (the broker requeues them),
 * and a reconnect is scheduled after the next backoff delay.  Everything
 * is declared again on the new connection. */
#include <config.h>

#include "cells-rpc/rpc.h"

#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <json-c/json.h>

#include "cells-rpc/rpc-backoff.h"
#include "cells-rpc/rpc-dedupe.h"
#include "cells-rpc/rpc-list.h"
#include "cells-rpc/rpc-msg.h"
#include "cells-rpc/rpc-private.h"
#include "cells-rpc/transport-url.h"
#include "shared/error.h"
#include "shared/log.h"
#include "shared/poll-loop.h"
#include "shared/timeutil.h"
#include "shared/xalloc.h"

LOG_MODULE("rpc");

/* The one channel of every connection. */
#define RPC_CHANNEL 1

/* Largest AMQP frame we accept (RabbitMQ's default); bigger messages are
 * split into several body frames by librabbitmq-c. */
#define RPC_FRAME_MAX 131072

/* Most frames read by one rpc_conn_run(), so that one busy connection
 * cannot starve the rest of a daemon's loop. */
#define RPC_MAX_FRAMES_PER_RUN 4096

/* Most names remembered as declared on one connection (queues,
 * exchanges): past this the cache starts over, which only costs a few
 * redundant, idempotent declares. */
#define RPC_DECLARED_CACHE_MAX 4096

/* Consumer tag of the reply queue; servers' consumers are "c<n>". */
#define RPC_REPLY_CONSUMER_TAG "reply"

#define RPC_CONTENT_TYPE "application/json"

enum rpc_out_kind {
    RPC_OUT_CAST,               /* To a durable queue. */
    RPC_OUT_FANOUT,             /* To a fanout exchange. */
    RPC_OUT_REQUEST,            /* A call's request, to a durable queue. */
    RPC_OUT_REPLY,              /* A server's reply, to a reply queue. */
};

struct rpc_call;

struct rpc_outmsg {
    struct rpc_list node;       /* In 'to_publish' or 'unconfirmed'. */
    enum rpc_out_kind kind;
    char *exchange;             /* "" for the default exchange. */
    char *routing_key;
    char msg_id[RPC_MSG_ID_SIZE];   /* "" for replies. */
    char *correlation_id;       /* Replies only. */
    struct rpc_call *call;      /* Requests only; NULL once abandoned. */
    char *body;
    size_t size;
    uint64_t seq;               /* Delivery tag once published. */
    bool unconfirmed;           /* In 'unconfirmed' (else 'to_publish'). */
    unsigned int n_published;
    long long deadline_mono_ms; /* Give up after this; LLONG_MAX: never. */
};

struct rpc_call {
    struct rpc_list node;       /* In 'calls', then in 'completed'. */
    char msg_id[RPC_MSG_ID_SIZE];
    char *method;
    char *topic;
    char *queue;
    char *body;                 /* The request, kept for re-sending. */
    size_t size;
    int timeout_ms;
    long long deadline_mono_ms;
    struct rpc_outmsg *request; /* While in the outbox. */
    bool blocking;
    bool done;
    rpc_reply_fn *cb;
    void *aux;
    struct json_object *result;
    struct error *error;
};

struct rpc_consumer {
    struct rpc_list node;       /* In 'consumers'. */
    enum rpc_consumer_kind kind;
    char *name;                 /* Queue, or topic of a fanout. */
    char *queue;                /* Queue consumed on this connection. */
    char tag[16];
    rpc_deliver_fn *deliver;
    void *aux;
};

/* A delivery waiting in 'inbox'. */
struct rpc_inbox_item {
    struct rpc_list node;
    char tag[16];               /* Consumer tag. */
    struct rpc_delivery *delivery;
};

struct rpc_conn {
    struct transport_url *url;
    char *url_string;           /* Password hidden. */
    char *name;
    int heartbeat_s;            /* 0: disabled. */
    int connect_timeout_ms;

    amqp_connection_state_t amqp;   /* NULL while disconnected. */
    uint64_t generation;
    long long reconnect_at_ms;      /* Monotonic, while disconnected. */
    struct rpc_backoff backoff;
    char *reply_queue;
    struct rpc_dedupe *declared;

    struct rpc_list consumers;
    unsigned int next_consumer_id;

    struct rpc_list to_publish;
    struct rpc_list unconfirmed;
    size_t n_outbox;
    uint64_t last_seq;

    struct rpc_list calls;
    size_t n_calls;
    struct rpc_list completed;

    struct rpc_list inbox;

    struct rpc_conn_stats stats;
};

static void rpc_conn_lost(struct rpc_conn *, const char *fmt, ...)
    PRINTF_FMT(2, 3);
static void rpc_conn_publish_outbox(struct rpc_conn *);

/* ------------------------------------------------------------------ */
/* Small helpers. */

static amqp_bytes_t
rpc_bytes(const char *s)
{
    return amqp_cstring_bytes(s ? s : "");
}

static char *
rpc_bytes_dup(amqp_bytes_t b)
{
    return xstrndup(b.bytes ? b.bytes : "", b.len);
}

/* Returns a copy of the 'size' bytes at 'p', NUL-terminated. */
static char *
rpc_memdup(const char *p, size_t size)
{
    char *copy = xmalloc(size + 1);

    if (size) {
        memcpy(copy, p, size);
    }
    copy[size] = '\0';
    return copy;
}

static struct timeval
rpc_timeval_ms(long long ms)
{
    struct timeval tv;

    tv.tv_sec = ms / 1000;
    tv.tv_usec = (ms % 1000) * 1000;
    return tv;
}

static void
rpc_outmsg_free(struct rpc_outmsg *out)
{
    if (out) {
        free(out->exchange);
        free(out->routing_key);
        free(out->correlation_id);
        free(out->body);
        free(out);
    }
}

void
rpc_delivery_free(struct rpc_delivery *d)
{
    if (d) {
        free(d->queue);
        free(d->reply_to);
        free(d->correlation_id);
        free(d->body);
        free(d);
    }
}

static void
rpc_call_free(struct rpc_call *call)
{
    if (call) {
        free(call->method);
        free(call->topic);
        free(call->queue);
        free(call->body);
        json_object_put(call->result);
        error_free(call->error);
        free(call);
    }
}

static bool
rpc_name_char_is_valid(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

struct error *
rpc_check_name(const char *what, const char *name)
{
    size_t n = 0;

    if (!name || !name[0]) {
        return error_new(ERROR_INVALID, "The %s must not be empty", what);
    }
    for (const char *p = name; *p; p++, n++) {
        if (!rpc_name_char_is_valid(*p)) {
            return error_new(ERROR_INVALID, "The %s must only contain "
                             "letters, digits, '_', '.' and '-'", what);
        }
    }
    if (n > RPC_MAX_NAME_LENGTH) {
        return error_new(ERROR_INVALID, "The %s is longer than %d "
                         "characters", what, RPC_MAX_NAME_LENGTH);
    }
    return NULL;
}

/* Describes a failed synchronous AMQP method.  The caller frees it. */
static char *
rpc_reply_describe(amqp_rpc_reply_t r, int *ret_code)
{
    *ret_code = 0;
    switch (r.reply_type) {
    case AMQP_RESPONSE_NORMAL:
        return xstrdup("success");
    case AMQP_RESPONSE_NONE:
        return xstrdup("no reply from the broker");
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
        return xstrdup(amqp_error_string2(r.library_error));
    case AMQP_RESPONSE_SERVER_EXCEPTION:
        if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
            amqp_connection_close_t *m = r.reply.decoded;

            *ret_code = m->reply_code;
            return xasprintf("the broker closed the connection: %.*s",
                             (int) m->reply_text.len,
                             (char *) m->reply_text.bytes);
        } else if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
            amqp_channel_close_t *m = r.reply.decoded;

            *ret_code = m->reply_code;
            return xasprintf("the broker closed the channel: %.*s",
                             (int) m->reply_text.len,
                             (char *) m->reply_text.bytes);
        }
        return xasprintf("unexpected method '%s' from the broker",
                         amqp_method_name(r.reply.id));
    }
    return xstrdup("unknown failure");
}

/* Returns NULL if the last synchronous method succeeded, else an error
 * describing the failure ("Cannot <what>: <reason>") and sets
 * '*ret_server_refused' when it was the broker's refusal rather than a
 * broken connection. */
static struct error *
rpc_conn_check_reply(struct rpc_conn *conn, const char *what,
                     bool *ret_server_refused)
{
    amqp_rpc_reply_t r = amqp_get_rpc_reply(conn->amqp);
    AUTOFREE char *reason = NULL;
    int code;

    *ret_server_refused = false;
    if (r.reply_type == AMQP_RESPONSE_NORMAL) {
        return NULL;
    }
    reason = rpc_reply_describe(r, &code);
    *ret_server_refused = r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION;
    return error_new(code == AMQP_ACCESS_REFUSED ? ERROR_FORBIDDEN
                     : ERROR_UNAVAILABLE,
                     "Cannot %s on %s: %s", what, conn->url_string, reason);
}

/* ------------------------------------------------------------------ */
/* Declarations. */

/* True if 'key' was declared on this connection; else remembers it as
 * declared (the caller declares it now). */
static bool
rpc_conn_declared(struct rpc_conn *conn, const char *kind, const char *name)
{
    AUTOFREE char *key = xasprintf("%s:%s", kind, name);

    if (rpc_dedupe_lookup(conn->declared, key, 0, NULL, NULL, NULL)
        == RPC_DEDUPE_DONE) {
        return true;
    }
    if (rpc_dedupe_count(conn->declared) >= RPC_DECLARED_CACHE_MAX) {
        rpc_dedupe_free(conn->declared);
        conn->declared = rpc_dedupe_new(RPC_DECLARED_CACHE_MAX, LLONG_MAX / 4,
                                        0);
    }
    rpc_dedupe_complete(conn->declared, key, NULL, 0, 0);
    return false;
}

static void
rpc_conn_forget_declared(struct rpc_conn *conn, const char *kind,
                         const char *name)
{
    AUTOFREE char *key = xasprintf("%s:%s", kind, name);

    rpc_dedupe_forget(conn->declared, key);
}

/* Declares exchange 'name' of 'type', durable. */
static struct error *
rpc_conn_declare_exchange(struct rpc_conn *conn, const char *name,
                          const char *type, bool *ret_refused)
{
    struct error *err;

    *ret_refused = false;
    if (rpc_conn_declared(conn, "x", name)) {
        return NULL;
    }
    amqp_exchange_declare(conn->amqp, RPC_CHANNEL, rpc_bytes(name),
                          rpc_bytes(type), 0, 1, 0, 0, amqp_empty_table);
    err = rpc_conn_check_reply(conn, "declare an exchange", ret_refused);
    if (err) {
        rpc_conn_forget_declared(conn, "x", name);
        return error_wrap(err, "Exchange '%s'", name);
    }
    return NULL;
}

/* Declares the dead-letter exchange, and durable queue 'dead' bound to it
 * with routing key 'dead'. */
static struct error *
rpc_conn_declare_dead(struct rpc_conn *conn, const char *dead,
                      bool *ret_refused)
{
    struct error *err;

    err = rpc_conn_declare_exchange(conn, RPC_DLX_EXCHANGE, "direct",
                                    ret_refused);
    if (err || rpc_conn_declared(conn, "q", dead)) {
        return err;
    }
    amqp_queue_declare(conn->amqp, RPC_CHANNEL, rpc_bytes(dead), 0, 1, 0, 0,
                       amqp_empty_table);
    err = rpc_conn_check_reply(conn, "declare a queue", ret_refused);
    if (!err) {
        amqp_queue_bind(conn->amqp, RPC_CHANNEL, rpc_bytes(dead),
                        rpc_bytes(RPC_DLX_EXCHANGE), rpc_bytes(dead),
                        amqp_empty_table);
        err = rpc_conn_check_reply(conn, "bind a queue", ret_refused);
    }
    if (err) {
        rpc_conn_forget_declared(conn, "q", dead);
        return error_wrap(err, "Dead-letter queue '%s'", dead);
    }
    return NULL;
}

/* Declares queue 'name' ("" for a broker-named one), dead-lettering to
 * 'dead', durable and shared or exclusive and auto-delete.  Stores the
 * queue's name in '*ret_queue' if not NULL. */
static struct error *
rpc_conn_declare_queue(struct rpc_conn *conn, const char *name,
                       const char *dead, bool exclusive, char **ret_queue,
                       bool *ret_refused)
{
    amqp_table_entry_t entries[2];
    amqp_table_t args;
    amqp_queue_declare_ok_t *ok;
    struct error *err;

    err = rpc_conn_declare_dead(conn, dead, ret_refused);
    if (err) {
        return err;
    }
    if (!exclusive && !ret_queue && rpc_conn_declared(conn, "q", name)) {
        return NULL;
    }
    entries[0].key = amqp_cstring_bytes("x-dead-letter-exchange");
    entries[0].value.kind = AMQP_FIELD_KIND_UTF8;
    entries[0].value.value.bytes = amqp_cstring_bytes(RPC_DLX_EXCHANGE);
    entries[1].key = amqp_cstring_bytes("x-dead-letter-routing-key");
    entries[1].value.kind = AMQP_FIELD_KIND_UTF8;
    entries[1].value.value.bytes = rpc_bytes(dead);
    args.num_entries = 2;
    args.entries = entries;

    ok = amqp_queue_declare(conn->amqp, RPC_CHANNEL, rpc_bytes(name), 0,
                            !exclusive, exclusive, exclusive, args);
    err = rpc_conn_check_reply(conn, "declare a queue", ret_refused);
    if (err) {
        if (!exclusive) {
            rpc_conn_forget_declared(conn, "q", name);
        }
        return name[0] ? error_wrap(err, "Queue '%s'", name) : err;
    }
    if (ret_queue) {
        *ret_queue = rpc_bytes_dup(ok->queue);
    }
    return NULL;
}

static char *
rpc_dead_name(const char *queue)
{
    return xasprintf("%s.dead", queue);
}

static char *
rpc_fanout_exchange_name(const char *topic)
{
    return xasprintf("%s_fanout", topic);
}

/* Declares and consumes for 'consumer' on the current connection. */
static struct error *
rpc_conn_setup_consumer(struct rpc_conn *conn, struct rpc_consumer *consumer,
                        bool *ret_refused)
{
    AUTOFREE char *dead = NULL;
    struct error *err;

    free(consumer->queue);
    consumer->queue = NULL;
    if (consumer->kind == RPC_CONSUMER_QUEUE) {
        dead = rpc_dead_name(consumer->name);
        err = rpc_conn_declare_queue(conn, consumer->name, dead, false,
                                     &consumer->queue, ret_refused);
    } else {
        AUTOFREE char *exchange = rpc_fanout_exchange_name(consumer->name);

        dead = rpc_dead_name(consumer->name);
        err = rpc_conn_declare_exchange(conn, exchange, "fanout",
                                        ret_refused);
        if (!err) {
            err = rpc_conn_declare_queue(conn, "", dead, true,
                                         &consumer->queue, ret_refused);
        }
        if (!err) {
            amqp_queue_bind(conn->amqp, RPC_CHANNEL,
                            rpc_bytes(consumer->queue), rpc_bytes(exchange),
                            amqp_empty_bytes, amqp_empty_table);
            err = rpc_conn_check_reply(conn, "bind a queue", ret_refused);
        }
    }
    if (err) {
        return err;
    }
    amqp_basic_consume(conn->amqp, RPC_CHANNEL, rpc_bytes(consumer->queue),
                       rpc_bytes(consumer->tag), 0, 0, 0, amqp_empty_table);
    err = rpc_conn_check_reply(conn, "consume a queue", ret_refused);
    if (err) {
        return error_wrap(err, "Queue '%s'", consumer->queue);
    }
    LOG_DBG("%s: consuming '%s' as '%s'", conn->url_string, consumer->queue,
            consumer->tag);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Connecting. */

/* Opens a TCP connection to 'host':'port' within 'timeout_ms' (per
 * address), non-blocking (as librabbitmq-c's own sockets are) and
 * close-on-exec.  Done here rather than by amqp_socket_open_noblock()
 * because that one loses the reason of a failure ("Connection refused",
 * "No route to host"), which is what an operator needs to read.  On
 * success stores the descriptor in '*ret_fd'. */
static struct error *
rpc_tcp_connect(const char *host, int port, int timeout_ms, int *ret_fd)
{
    struct addrinfo hints, *addrs = NULL;
    char service[16];
    int last_errno = ETIMEDOUT;
    int r;

    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG;
    snprintf(service, sizeof service, "%d", port);
    r = getaddrinfo(host, service, &hints, &addrs);
    if (r) {
        return error_new(ERROR_UNAVAILABLE, "cannot resolve '%s': %s", host,
                         gai_strerror(r));
    }
    for (struct addrinfo *ai = addrs; ai; ai = ai->ai_next) {
        int fd = socket(ai->ai_family,
                        ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                        ai->ai_protocol);
        int one = 1;

        if (fd < 0) {
            last_errno = errno;
            continue;
        }
        (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) && errno != EINPROGRESS) {
            last_errno = errno;
            close(fd);
            continue;
        }
        {
            struct pollfd pfd = { fd, POLLOUT, 0 };
            int so_error = 0;
            socklen_t len = sizeof so_error;

            r = poll(&pfd, 1, timeout_ms);
            if (r == 0) {
                last_errno = ETIMEDOUT;
            } else if (r < 0) {
                last_errno = errno;
            } else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len)) {
                last_errno = errno;
            } else if (so_error) {
                last_errno = so_error;
            } else {
                freeaddrinfo(addrs);
                *ret_fd = fd;
                return NULL;
            }
        }
        close(fd);
    }
    freeaddrinfo(addrs);
    return error_from_errno(-last_errno, ERROR_UNAVAILABLE, "TCP connect");
}

/* Opens the AMQP connection to host 'i' and sets up the channel and the
 * reply queue.  On success conn->amqp is set. */
static struct error *
rpc_conn_connect_host(struct rpc_conn *conn, size_t i)
{
    const struct transport_url_host *h = &conn->url->hosts[i];
    AUTOFREE char *hostport = transport_url_host_to_string(conn->url, i);
    struct timeval connect_tv = rpc_timeval_ms(conn->connect_timeout_ms);
    struct timeval method_tv = rpc_timeval_ms(RPC_METHOD_TIMEOUT_MS);
    amqp_connection_state_t amqp = amqp_new_connection();
    amqp_socket_t *socket;
    amqp_rpc_reply_t r;
    amqp_queue_declare_ok_t *ok;
    bool refused;
    struct error *err;
    int fd = -1;

    if (!amqp || !(socket = amqp_tcp_socket_new(amqp))) {
        if (amqp) {
            amqp_destroy_connection(amqp);
        }
        return error_new(ERROR_UNAVAILABLE, "Cannot connect to %s: out of "
                         "memory", conn->url_string);
    }
    err = rpc_tcp_connect(h->host, h->port, conn->connect_timeout_ms, &fd);
    if (err) {
        amqp_destroy_connection(amqp);
        return error_wrap(err, "Cannot connect to %s at %s",
                          conn->url_string, hostport);
    }
    amqp_tcp_socket_set_sockfd(socket, fd);
    amqp_set_handshake_timeout(amqp, &connect_tv);
    amqp_set_rpc_timeout(amqp, &method_tv);

    r = amqp_login(amqp, conn->url->vhost, 0, RPC_FRAME_MAX,
                   conn->heartbeat_s, AMQP_SASL_METHOD_PLAIN, h->user,
                   h->password);
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
        AUTOFREE char *reason = NULL;
        int code;

        reason = rpc_reply_describe(r, &code);
        amqp_destroy_connection(amqp);
        if (code == AMQP_ACCESS_REFUSED || code == AMQP_NOT_ALLOWED
            || (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION
                && r.library_error == AMQP_STATUS_CONNECTION_CLOSED)) {
            return error_new(ERROR_UNAUTHORIZED, "Login to %s at %s as '%s' "
                             "on vhost '%s' refused: %s", conn->url_string,
                             hostport, h->user, conn->url->vhost, reason);
        }
        return error_new(ERROR_UNAVAILABLE, "Login to %s at %s failed: %s",
                         conn->url_string, hostport, reason);
    }
    conn->amqp = amqp;

    amqp_channel_open(amqp, RPC_CHANNEL);
    err = rpc_conn_check_reply(conn, "open a channel", &refused);
    if (!err) {
        amqp_basic_qos(amqp, RPC_CHANNEL, 0, RPC_PREFETCH_COUNT, 0);
        err = rpc_conn_check_reply(conn, "set the prefetch count", &refused);
    }
    if (!err) {
        amqp_confirm_select(amqp, RPC_CHANNEL);
        err = rpc_conn_check_reply(conn, "enable publisher confirms",
                                   &refused);
    }
    if (!err) {
        ok = amqp_queue_declare(amqp, RPC_CHANNEL, amqp_empty_bytes, 0, 0, 1,
                                1, amqp_empty_table);
        err = rpc_conn_check_reply(conn, "declare the reply queue",
                                   &refused);
        if (!err) {
            conn->reply_queue = rpc_bytes_dup(ok->queue);
        }
    }
    if (!err) {
        amqp_basic_consume(amqp, RPC_CHANNEL, rpc_bytes(conn->reply_queue),
                           amqp_cstring_bytes(RPC_REPLY_CONSUMER_TAG), 0, 1,
                           1, amqp_empty_table);
        err = rpc_conn_check_reply(conn, "consume the reply queue",
                                   &refused);
    }
    if (err) {
        amqp_destroy_connection(amqp);
        conn->amqp = NULL;
        free(conn->reply_queue);
        conn->reply_queue = NULL;
        return err;
    }
    return NULL;
}

/* After a successful connection: consumers, then the calls still waiting
 * get their requests re-sent. */
static struct error *
rpc_conn_resume(struct rpc_conn *conn)
{
    struct rpc_list *node;

    RPC_LIST_FOR_EACH (node, &conn->consumers) {
        struct rpc_consumer *c = RPC_LIST_ENTRY(node, struct rpc_consumer,
                                                node);
        bool refused;
        struct error *err = rpc_conn_setup_consumer(conn, c, &refused);

        if (err) {
            return err;
        }
    }

    RPC_LIST_FOR_EACH (node, &conn->calls) {
        struct rpc_call *call = RPC_LIST_ENTRY(node, struct rpc_call, node);
        struct rpc_outmsg *out;

        if (call->request) {
            continue;           /* Still in the outbox: published anyway. */
        }
        out = xzalloc(sizeof *out);
        out->kind = RPC_OUT_REQUEST;
        out->exchange = xstrdup("");
        out->routing_key = xstrdup(call->queue);
        memcpy(out->msg_id, call->msg_id, sizeof out->msg_id);
        out->call = call;
        out->body = rpc_memdup(call->body, call->size);
        out->size = call->size;
        out->deadline_mono_ms = call->deadline_mono_ms;
        out->n_published = 1;   /* Counts as a re-send. */
        call->request = out;
        rpc_list_push_back(&conn->to_publish, &out->node);
        conn->n_outbox++;
    }
    return NULL;
}

/* Tries every host once, in order.  Returns NULL when connected, else the
 * most telling failure: a refused login, or the last host's error. */
static struct error *
rpc_conn_connect(struct rpc_conn *conn)
{
    struct error *best = NULL;

    for (size_t i = 0; i < conn->url->n_hosts; i++) {
        struct error *err = rpc_conn_connect_host(conn, i);

        if (!err) {
            conn->generation++;
            conn->last_seq = 0;
            conn->stats.connects++;
            rpc_backoff_reset(&conn->backoff);
            error_free(best);
            LOG_DBG("%s: connected to host %zu (generation %llu)",
                    conn->url_string, i + 1,
                    (unsigned long long) conn->generation);
            err = rpc_conn_resume(conn);
            if (err) {
                rpc_conn_lost(conn, "%s", error_message(err));
                return err;
            }
            return NULL;
        }
        LOG_DBG("%s", error_message(err));
        if (!best || error_kind(best) != ERROR_UNAUTHORIZED
            || error_kind(err) == ERROR_UNAUTHORIZED) {
            error_free(best);
            best = err;
        } else {
            error_free(err);
        }
    }
    return best;
}

static void
rpc_conn_schedule_reconnect(struct rpc_conn *conn)
{
    long long delay = rpc_backoff_next(&conn->backoff);

    conn->reconnect_at_ms = poll_loop_now_ms() + delay;
}

static void
rpc_conn_reconnect(struct rpc_conn *conn)
{
    struct error *err = rpc_conn_connect(conn);

    if (!err) {
        LOG_DBG("%s: reconnected", conn->url_string);
        return;
    }
    if (conn->reconnect_at_ms <= poll_loop_now_ms()) {
        /* Not yet scheduled by rpc_conn_lost(). */
        rpc_conn_schedule_reconnect(conn);
    }
    LOG_WARN_RL("%s%s%s, retrying in %lld ms", conn->name,
                conn->name[0] ? ": " : "", error_message(err),
                conn->reconnect_at_ms - poll_loop_now_ms());
    error_free(err);
}

static void
rpc_conn_lost(struct rpc_conn *conn, const char *fmt, ...)
{
    AUTOFREE char *reason = NULL;
    struct rpc_list *node, *next;
    va_list args;

    if (!conn->amqp) {
        return;
    }
    va_start(args, fmt);
    reason = xvasprintf(fmt, args);
    va_end(args);

    amqp_destroy_connection(conn->amqp);
    conn->amqp = NULL;
    conn->stats.disconnects++;
    free(conn->reply_queue);
    conn->reply_queue = NULL;
    rpc_dedupe_free(conn->declared);
    conn->declared = rpc_dedupe_new(RPC_DECLARED_CACHE_MAX, LLONG_MAX / 4, 0);

    /* Unconfirmed publishes go out again first, in their order; abandoned
     * call requests are dropped. */
    RPC_LIST_FOR_EACH_SAFE (node, next, &conn->unconfirmed) {
        struct rpc_outmsg *out = RPC_LIST_ENTRY(node, struct rpc_outmsg,
                                                node);

        if (out->kind == RPC_OUT_REQUEST && !out->call) {
            rpc_list_remove(&out->node);
            conn->n_outbox--;
            rpc_outmsg_free(out);
        } else {
            out->unconfirmed = false;
        }
    }
    rpc_list_splice_front(&conn->to_publish, &conn->unconfirmed);

    /* Deliveries not handed out yet cannot be settled any more; the broker
     * gives them to a consumer again. */
    while ((node = rpc_list_pop_front(&conn->inbox))) {
        struct rpc_inbox_item *item = RPC_LIST_ENTRY(
            node, struct rpc_inbox_item, node);

        rpc_delivery_free(item->delivery);
        free(item);
    }

    rpc_conn_schedule_reconnect(conn);
    LOG_WARN_RL("%s%sconnection to %s lost (%s), reconnecting in %lld ms",
                conn->name, conn->name[0] ? ": " : "", conn->url_string,
                reason, conn->reconnect_at_ms - poll_loop_now_ms());
}

struct error *
rpc_conn_open(const char *url, const struct rpc_conn_options *options,
              struct rpc_conn **ret_conn)
{
    static const struct rpc_conn_options defaults;
    CLEANUP(transport_url_freep) struct transport_url *tu = NULL;
    struct rpc_conn *conn;
    struct error *err;

    if (!options) {
        options = &defaults;
    }
    err = transport_url_parse(url, &tu);
    if (err) {
        return err;
    }

    conn = xzalloc(sizeof *conn);
    conn->url = TAKE_PTR(tu);
    conn->url_string = transport_url_to_string(conn->url);
    conn->name = xstrdup(options->name ? options->name : "");
    conn->heartbeat_s = (options->heartbeat_s == 0 ? RPC_HEARTBEAT_S
                         : options->heartbeat_s < 0 ? 0
                         : options->heartbeat_s);
    conn->connect_timeout_ms = (options->connect_timeout_ms > 0
                                ? options->connect_timeout_ms
                                : RPC_CONNECT_TIMEOUT_MS);
    rpc_backoff_init(&conn->backoff, RPC_RECONNECT_MIN_MS,
                     RPC_RECONNECT_MAX_MS,
                     (unsigned int) getpid() ^ (unsigned int) time_now_ms());
    conn->declared = rpc_dedupe_new(RPC_DECLARED_CACHE_MAX, LLONG_MAX / 4, 0);
    rpc_list_init(&conn->consumers);
    rpc_list_init(&conn->to_publish);
    rpc_list_init(&conn->unconfirmed);
    rpc_list_init(&conn->calls);
    rpc_list_init(&conn->completed);
    rpc_list_init(&conn->inbox);

    err = rpc_conn_connect(conn);
    if (err) {
        rpc_conn_free(conn);
        return err;
    }
    *ret_conn = conn;
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Reading frames. */

/* Settles the outbox for basic.ack or basic.nack of 'tag'. */
static void
rpc_conn_handle_confirm(struct rpc_conn *conn, uint64_t tag, bool multiple,
                        bool ack)
{
    struct rpc_list *node, *next;
    struct rpc_list retry;

    rpc_list_init(&retry);
    RPC_LIST_FOR_EACH_SAFE (node, next, &conn->unconfirmed) {
        struct rpc_outmsg *out = RPC_LIST_ENTRY(node, struct rpc_outmsg,
                                                node);

        if (out->seq > tag) {
            break;
        }
        if (!multiple && out->seq != tag) {
            continue;
        }
        rpc_list_remove(&out->node);
        if (ack) {
            conn->stats.confirmed++;
            if (out->call) {
                out->call->request = NULL;
            }
            conn->n_outbox--;
            rpc_outmsg_free(out);
        } else {
            conn->stats.nacked++;
            out->unconfirmed = false;
            rpc_list_push_back(&retry, &out->node);
        }
    }
    if (!rpc_list_is_empty(&retry)) {
        LOG_WARN_RL("%s: the broker refused (nack) a publish, retrying",
                    conn->url_string);
        rpc_list_splice_back(&conn->to_publish, &retry);
    }
}

static struct rpc_call *
rpc_conn_find_call(struct rpc_conn *conn, const char *msg_id)
{
    struct rpc_list *node;

    RPC_LIST_FOR_EACH (node, &conn->calls) {
        struct rpc_call *call = RPC_LIST_ENTRY(node, struct rpc_call, node);

        if (!strcmp(call->msg_id, msg_id)) {
            return call;
        }
    }
    return NULL;
}

/* Removes 'call' from 'calls' and abandons its request in the outbox. */
static void
rpc_conn_detach_call(struct rpc_conn *conn, struct rpc_call *call)
{
    struct rpc_outmsg *out = call->request;

    rpc_list_remove(&call->node);
    conn->n_calls--;
    if (out) {
        out->call = NULL;
        call->request = NULL;
        if (!out->unconfirmed) {
            /* Not published on this connection yet: just drop it. */
            rpc_list_remove(&out->node);
            conn->n_outbox--;
            rpc_outmsg_free(out);
        }
    }
}

/* Completes 'call' with 'result' or 'error' (taken). */
static void
rpc_conn_complete_call(struct rpc_conn *conn, struct rpc_call *call,
                       struct json_object *result, struct error *error)
{
    rpc_conn_detach_call(conn, call);
    call->result = result;
    call->error = error;
    call->done = true;
    if (!call->blocking) {
        rpc_list_push_back(&conn->completed, &call->node);
    }
}

static void
rpc_conn_handle_reply(struct rpc_conn *conn, const amqp_message_t *m)
{
    const amqp_basic_properties_t *p = &m->properties;
    AUTOFREE char *corr = NULL;
    char id[RPC_MSG_ID_SIZE];
    struct json_object *result;
    struct error *remote, *err;
    struct rpc_call *call;

    if (!(p->_flags & AMQP_BASIC_CORRELATION_ID_FLAG)) {
        LOG_WARN_RL("%s: reply without correlation_id, ignoring",
                    conn->url_string);
        return;
    }
    corr = rpc_bytes_dup(p->correlation_id);
    call = rpc_conn_find_call(conn, corr);
    if (!call) {
        /* A late reply (the call timed out) or a repeat. */
        LOG_DBG("%s: reply to unknown call '%s', ignoring", conn->url_string,
                corr);
        return;
    }
    err = rpc_msg_decode_reply(m->body.bytes, m->body.len, id, &result,
                               &remote);
    if (err) {
        rpc_conn_complete_call(conn, call, NULL,
                               error_wrap(err, "Bad reply to '%s' on topic "
                                          "'%s'", call->method, call->topic));
        return;
    }
    if (strcmp(id, call->msg_id)) {
        json_object_put(result);
        error_free(remote);
        rpc_conn_complete_call(conn, call, NULL,
                               error_new(ERROR_INTERNAL, "Bad reply to '%s' "
                                         "on topic '%s': its msg_id differs "
                                         "from its correlation_id",
                                         call->method, call->topic));
        return;
    }
    rpc_conn_complete_call(conn, call, result, remote);
}

static void
rpc_conn_handle_deliver(struct rpc_conn *conn, const amqp_frame_t *frame)
{
    const amqp_basic_deliver_t *d = frame->payload.method.decoded;
    char tag[sizeof ((struct rpc_inbox_item *) 0)->tag];
    uint64_t delivery_tag = d->delivery_tag;
    bool redelivered = d->redelivered;
    amqp_message_t m;
    amqp_rpc_reply_t r;

    snprintf(tag, sizeof tag, "%.*s", (int) d->consumer_tag.len,
             (char *) d->consumer_tag.bytes);
    r = amqp_read_message(conn->amqp, frame->channel, &m, 0);
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
        int code;
        AUTOFREE char *reason = rpc_reply_describe(r, &code);

        rpc_conn_lost(conn, "reading a message: %s", reason);
        return;
    }

    if (!strcmp(tag, RPC_REPLY_CONSUMER_TAG)) {
        rpc_conn_handle_reply(conn, &m);
    } else {
        struct rpc_inbox_item *item = xzalloc(sizeof *item);
        struct rpc_delivery *dl = xzalloc(sizeof *dl);
        const amqp_basic_properties_t *p = &m.properties;

        memcpy(item->tag, tag, sizeof item->tag);
        dl->generation = conn->generation;
        dl->delivery_tag = delivery_tag;
        dl->redelivered = redelivered;
        if (p->_flags & AMQP_BASIC_REPLY_TO_FLAG) {
            dl->reply_to = rpc_bytes_dup(p->reply_to);
        }
        if (p->_flags & AMQP_BASIC_CORRELATION_ID_FLAG) {
            dl->correlation_id = rpc_bytes_dup(p->correlation_id);
        }
        dl->size = m.body.len;
        dl->body = xmalloc(dl->size + 1);
        if (dl->size) {
            memcpy(dl->body, m.body.bytes, dl->size);
        }
        dl->body[dl->size] = '\0';
        item->delivery = dl;
        rpc_list_push_back(&conn->inbox, &item->node);
    }
    amqp_destroy_message(&m);
}

/* Reads and handles every frame that is ready (at most
 * RPC_MAX_FRAMES_PER_RUN), without blocking.  Returns true if it stopped
 * at that bound with frames possibly left. */
static bool
rpc_conn_pump(struct rpc_conn *conn)
{
    for (int i = 0; i < RPC_MAX_FRAMES_PER_RUN; i++) {
        struct timeval zero = { 0, 0 };
        amqp_frame_t frame;
        int status;

        if (!conn->amqp) {
            return false;
        }
        amqp_maybe_release_buffers(conn->amqp);
        status = amqp_simple_wait_frame_noblock(conn->amqp, &frame, &zero);
        if (status == AMQP_STATUS_TIMEOUT) {
            return false;
        } else if (status != AMQP_STATUS_OK) {
            rpc_conn_lost(conn, "%s", amqp_error_string2(status));
            return false;
        }
        if (frame.frame_type != AMQP_FRAME_METHOD) {
            continue;
        }

        switch (frame.payload.method.id) {
        case AMQP_BASIC_DELIVER_METHOD:
            rpc_conn_handle_deliver(conn, &frame);
            break;

        case AMQP_BASIC_ACK_METHOD: {
            const amqp_basic_ack_t *ack = frame.payload.method.decoded;

            rpc_conn_handle_confirm(conn, ack->delivery_tag, ack->multiple,
                                    true);
            break;
        }

        case AMQP_BASIC_NACK_METHOD: {
            const amqp_basic_nack_t *nack = frame.payload.method.decoded;

            rpc_conn_handle_confirm(conn, nack->delivery_tag, nack->multiple,
                                    false);
            break;
        }

        case AMQP_BASIC_RETURN_METHOD: {
            /* Only mandatory publishes come back; none are sent, but read
             * the content so the frames stay in step. */
            amqp_message_t m;
            amqp_rpc_reply_t r = amqp_read_message(conn->amqp, frame.channel,
                                                   &m, 0);

            if (r.reply_type != AMQP_RESPONSE_NORMAL) {
                rpc_conn_lost(conn, "reading a returned message");
            } else {
                amqp_destroy_message(&m);
            }
            break;
        }

        case AMQP_BASIC_CANCEL_METHOD:
            /* The broker cancelled a consumer (its queue was deleted):
             * start over, which declares the queue again. */
            rpc_conn_lost(conn, "a consumer was cancelled by the broker");
            break;

        case AMQP_CHANNEL_CLOSE_METHOD: {
            const amqp_channel_close_t *m = frame.payload.method.decoded;

            rpc_conn_lost(conn, "the broker closed the channel: %u %.*s",
                          m->reply_code, (int) m->reply_text.len,
                          (char *) m->reply_text.bytes);
            break;
        }

        case AMQP_CONNECTION_CLOSE_METHOD: {
            const amqp_connection_close_t *m = frame.payload.method.decoded;
            amqp_connection_close_ok_t close_ok = { 0 };

            (void) amqp_send_method(conn->amqp, 0,
                                    AMQP_CONNECTION_CLOSE_OK_METHOD,
                                    &close_ok);
            rpc_conn_lost(conn, "the broker closed the connection: %u %.*s",
                          m->reply_code, (int) m->reply_text.len,
                          (char *) m->reply_text.bytes);
            break;
        }

        default:
            LOG_DBG("%s: ignoring method '%s'", conn->url_string,
                    amqp_method_name(frame.payload.method.id));
            break;
        }
    }
    return true;
}

/* ------------------------------------------------------------------ */
/* Publishing. */

static bool
rpc_conn_ensure_target(struct rpc_conn *conn, const struct rpc_outmsg *out)
{
    bool refused;
    struct error *err = NULL;

    if (out->kind == RPC_OUT_CAST || out->kind == RPC_OUT_REQUEST) {
        AUTOFREE char *dead = rpc_dead_name(out->routing_key);

        err = rpc_conn_declare_queue(conn, out->routing_key, dead, false,
                                     NULL, &refused);
    } else if (out->kind == RPC_OUT_FANOUT) {
        err = rpc_conn_declare_exchange(conn, out->exchange, "fanout",
                                        &refused);
    }
    if (err) {
        rpc_conn_lost(conn, "%s", error_message(err));
        error_free(err);
        return false;
    }
    return conn->amqp != NULL;
}

/* Publishes 'out', the head of 'to_publish', and moves it to
 * 'unconfirmed'.  Returns false if the connection was lost. */
static bool
rpc_conn_publish_one(struct rpc_conn *conn, struct rpc_outmsg *out)
{
    amqp_basic_properties_t props;
    amqp_bytes_t body;
    int status;

    if (!rpc_conn_ensure_target(conn, out)) {
        return false;
    }
    memset(&props, 0, sizeof props);
    props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG
                   | AMQP_BASIC_DELIVERY_MODE_FLAG;
    props.content_type = amqp_cstring_bytes(RPC_CONTENT_TYPE);
    props.delivery_mode = (out->kind == RPC_OUT_CAST
                           || out->kind == RPC_OUT_FANOUT) ? 2 : 1;
    if (out->msg_id[0]) {
        props._flags |= AMQP_BASIC_MESSAGE_ID_FLAG;
        props.message_id = amqp_cstring_bytes(out->msg_id);
    }
    if (out->kind == RPC_OUT_REQUEST) {
        props._flags |= AMQP_BASIC_REPLY_TO_FLAG
                        | AMQP_BASIC_CORRELATION_ID_FLAG;
        props.reply_to = rpc_bytes(conn->reply_queue);
        props.correlation_id = amqp_cstring_bytes(out->msg_id);
    } else if (out->kind == RPC_OUT_REPLY) {
        props._flags |= AMQP_BASIC_CORRELATION_ID_FLAG;
        props.correlation_id = rpc_bytes(out->correlation_id);
    }
    body.bytes = out->body;
    body.len = out->size;

    status = amqp_basic_publish(conn->amqp, RPC_CHANNEL,
                                rpc_bytes(out->exchange),
                                rpc_bytes(out->routing_key), 0, 0, &props,
                                body);
    if (status != AMQP_STATUS_OK) {
        rpc_conn_lost(conn, "publishing: %s", amqp_error_string2(status));
        return false;
    }
    rpc_list_remove(&out->node);
    out->seq = ++conn->last_seq;
    out->unconfirmed = true;
    rpc_list_push_back(&conn->unconfirmed, &out->node);
    conn->stats.published++;
    if (out->n_published++) {
        conn->stats.republished++;
    }
    return true;
}

/* Publishes everything in 'to_publish' that is still wanted. */
static void
rpc_conn_publish_outbox(struct rpc_conn *conn)
{
    long long now = poll_loop_now_ms();
    struct rpc_list *node;

    while (conn->amqp && (node = conn->to_publish.next) != &conn->to_publish) {
        struct rpc_outmsg *out = RPC_LIST_ENTRY(node, struct rpc_outmsg,
                                                node);

        out->seq = 0;
        if ((out->kind == RPC_OUT_REQUEST && !out->call)
            || now >= out->deadline_mono_ms) {
            /* An abandoned call, or a message whose deadline passed:
             * nobody wants it any more. */
            if (out->call) {
                out->call->request = NULL;
            }
            LOG_DBG("%s: dropping expired message '%s'", conn->url_string,
                    out->msg_id);
            rpc_list_remove(&out->node);
            conn->n_outbox--;
            rpc_outmsg_free(out);
            continue;
        }
        if (!rpc_conn_publish_one(conn, out)) {
            return;
        }
    }
}

/* Adds 'out' to the outbox and publishes it at once when possible. */
static void
rpc_conn_enqueue(struct rpc_conn *conn, struct rpc_outmsg *out)
{
    rpc_list_push_back(&conn->to_publish, &out->node);
    conn->n_outbox++;
    if (conn->amqp) {
        rpc_conn_publish_outbox(conn);
    }
}

/* ------------------------------------------------------------------ */
/* Driving the connection. */

/* Reconnects when due, reads frames, publishes.  Returns true if frames
 * may be left to read. */
static bool
rpc_conn_do_io(struct rpc_conn *conn)
{
    bool more;

    if (!conn->amqp && poll_loop_now_ms() >= conn->reconnect_at_ms) {
        rpc_conn_reconnect(conn);
    }
    more = rpc_conn_pump(conn);
    rpc_conn_publish_outbox(conn);
    return more;
}

/* The monotonic time by which rpc_conn_pump() must run again for the
 * heartbeats, or LLONG_MAX. */
static long long
rpc_conn_heartbeat_wake(const struct rpc_conn *conn)
{
    if (!conn->amqp || !conn->heartbeat_s) {
        return LLONG_MAX;
    }
    return poll_loop_now_ms() + conn->heartbeat_s * 1000LL / 2;
}

/* Blocks until there is something to do for the connection or 'until_ms'
 * (monotonic). */
static void
rpc_conn_block(struct rpc_conn *conn, long long until_ms)
{
    long long now = poll_loop_now_ms();
    long long wake = until_ms;
    long long hb = rpc_conn_heartbeat_wake(conn);
    struct pollfd pfd;
    int timeout;

    if (conn->amqp) {
        if (amqp_frames_enqueued(conn->amqp)
            || amqp_data_in_buffer(conn->amqp)) {
            return;
        }
        wake = hb < wake ? hb : wake;
    } else {
        wake = conn->reconnect_at_ms < wake ? conn->reconnect_at_ms : wake;
    }
    timeout = wake <= now ? 0 : wake - now >= INT_MAX ? INT_MAX
              : (int) (wake - now) + 1;
    if (conn->amqp) {
        pfd.fd = amqp_get_sockfd(conn->amqp);
        pfd.events = POLLIN;
        pfd.revents = 0;
        (void) poll(&pfd, 1, timeout);
    } else {
        (void) poll(NULL, 0, timeout);
    }
}

static void
rpc_conn_run_callbacks(struct rpc_conn *conn)
{
    long long now = poll_loop_now_ms();
    struct rpc_list *node, *next;
    struct rpc_list done;

    RPC_LIST_FOR_EACH_SAFE (node, next, &conn->calls) {
        struct rpc_call *call = RPC_LIST_ENTRY(node, struct rpc_call, node);

        if (!call->blocking && now >= call->deadline_mono_ms) {
            conn->stats.call_timeouts++;
            rpc_conn_complete_call(
                conn, call, NULL,
                error_new(ERROR_TIMEOUT, "Timed out waiting for a reply to "
                          "'%s' on topic '%s' after %d ms", call->method,
                          call->topic, call->timeout_ms));
        }
    }

    /* Callbacks may start calls (which land in 'calls', not in 'done'). */
    rpc_list_init(&done);
    rpc_list_splice_back(&done, &conn->completed);
    while ((node = rpc_list_pop_front(&done))) {
        struct rpc_call *call = RPC_LIST_ENTRY(node, struct rpc_call, node);

        call->cb(TAKE_PTR(call->result), TAKE_PTR(call->error), call->aux);
        rpc_call_free(call);
    }
}

static struct rpc_consumer *
rpc_conn_find_consumer(struct rpc_conn *conn, const char *tag)
{
    struct rpc_list *node;

    RPC_LIST_FOR_EACH (node, &conn->consumers) {
        struct rpc_consumer *c = RPC_LIST_ENTRY(node, struct rpc_consumer,
                                                node);

        if (!strcmp(c->tag, tag)) {
            return c;
        }
    }
    return NULL;
}

static void
rpc_conn_dispatch(struct rpc_conn *conn)
{
    struct rpc_list *node;

    /* One at a time from the front: a handler may add to the inbox (a
     * blocking call reads frames) or empty it (a lost connection). */
    while ((node = rpc_list_pop_front(&conn->inbox))) {
        struct rpc_inbox_item *item = RPC_LIST_ENTRY(
            node, struct rpc_inbox_item, node);
        struct rpc_delivery *d = item->delivery;
        struct rpc_consumer *c = rpc_conn_find_consumer(conn, item->tag);

        free(item);
        if (!c) {
            /* Its server went away: give the message back. */
            rpc_conn_reject(conn, d->generation, d->delivery_tag, true);
            rpc_delivery_free(d);
            continue;
        }
        d->queue = xstrdup(c->queue ? c->queue : c->name);
        c->deliver(c->aux, d);
    }
}

void
rpc_conn_run(struct rpc_conn *conn)
{
    rpc_conn_do_io(conn);
    rpc_conn_run_callbacks(conn);
    rpc_conn_dispatch(conn);
    /* Handlers published replies and acked: those went out at once.  Read
     * again so that confirms and replies already here are not left for
     * the next wake-up. */
    rpc_conn_do_io(conn);
    rpc_conn_run_callbacks(conn);
}

void
rpc_conn_wait(struct rpc_conn *conn)
{
    struct rpc_list *node;

    if (!rpc_list_is_empty(&conn->inbox)
        || !rpc_list_is_empty(&conn->completed)) {
        poll_immediate_wake();
    }
    if (conn->amqp) {
        if (amqp_frames_enqueued(conn->amqp)
            || amqp_data_in_buffer(conn->amqp)
            || !rpc_list_is_empty(&conn->to_publish)) {
            poll_immediate_wake();
        }
        poll_fd_wait(amqp_get_sockfd(conn->amqp), POLLIN);
        poll_timer_wait_until(rpc_conn_heartbeat_wake(conn));
    } else {
        poll_timer_wait_until(conn->reconnect_at_ms);
    }
    RPC_LIST_FOR_EACH (node, &conn->calls) {
        struct rpc_call *call = RPC_LIST_ENTRY(node, struct rpc_call, node);

        if (!call->blocking) {
            poll_timer_wait_until(call->deadline_mono_ms);
        }
    }
}

void
rpc_conn_disconnect(struct rpc_conn *conn)
{
    rpc_conn_lost(conn, "disconnect requested");
}

bool
rpc_conn_is_connected(const struct rpc_conn *conn)
{
    return conn->amqp != NULL;
}

const char *
rpc_conn_url(const struct rpc_conn *conn)
{
    return conn->url_string;
}

const char *
rpc_conn_name(const struct rpc_conn *conn)
{
    return conn->name;
}

void
rpc_conn_get_stats(const struct rpc_conn *conn,
                   struct rpc_conn_stats *ret_stats)
{
    *ret_stats = conn->stats;
}

size_t
rpc_conn_n_unconfirmed(const struct rpc_conn *conn)
{
    return conn->n_outbox;
}

struct error *
rpc_conn_flush(struct rpc_conn *conn, int timeout_ms)
{
    long long deadline = poll_loop_now_ms() + (timeout_ms > 0
                                               ? timeout_ms : 0);

    for (;;) {
        bool more = rpc_conn_do_io(conn);

        if (!conn->n_outbox) {
            return NULL;
        }
        if (poll_loop_now_ms() >= deadline) {
            return error_new(ERROR_TIMEOUT, "%zu message(s) to %s still not "
                             "confirmed by the broker after %d ms",
                             conn->n_outbox, conn->url_string, timeout_ms);
        }
        if (!more) {
            rpc_conn_block(conn, deadline);
        }
    }
}

void
rpc_conn_free(struct rpc_conn *conn)
{
    struct rpc_list *node;

    if (!conn) {
        return;
    }
    /* Calls still waiting learn that they never will get a reply. */
    while (!rpc_list_is_empty(&conn->calls)) {
        struct rpc_call *call = RPC_LIST_ENTRY(conn->calls.next,
                                               struct rpc_call, node);

        rpc_conn_complete_call(
            conn, call, NULL,
            error_new(ERROR_UNAVAILABLE, "RPC connection to %s closed "
                      "before the reply to '%s' on topic '%s' arrived",
                      conn->url_string, call->method, call->topic));
    }
    rpc_conn_run_callbacks(conn);

    if (conn->amqp) {
        (void) amqp_channel_close(conn->amqp, RPC_CHANNEL, AMQP_REPLY_SUCCESS);
        (void) amqp_connection_close(conn->amqp, AMQP_REPLY_SUCCESS);
        amqp_destroy_connection(conn->amqp);
    }
    if (conn->n_outbox) {
        LOG_DBG("%s: dropping %zu unconfirmed message(s)", conn->url_string,
                conn->n_outbox);
    }
    while ((node = rpc_list_pop_front(&conn->to_publish))
           || (node = rpc_list_pop_front(&conn->unconfirmed))) {
        rpc_outmsg_free(RPC_LIST_ENTRY(node, struct rpc_outmsg, node));
    }
    while ((node = rpc_list_pop_front(&conn->inbox))) {
        struct rpc_inbox_item *item = RPC_LIST_ENTRY(
            node, struct rpc_inbox_item, node);

        rpc_delivery_free(item->delivery);
        free(item);
    }
    while ((node = rpc_list_pop_front(&conn->consumers))) {
        struct rpc_consumer *c = RPC_LIST_ENTRY(node, struct rpc_consumer,
                                                node);

        LOG_DBG("%s: consumer '%s' still registered at close",
                conn->url_string, c->name);
        free(c->name);
        free(c->queue);
        free(c);
    }
    rpc_dedupe_free(conn->declared);
    free(conn->reply_queue);
    free(conn->name);
    free(conn->url_string);
    transport_url_free(conn->url);
    free(conn);
}

/* ------------------------------------------------------------------ */
/* Sending. */

static struct error *
rpc_check_target(const struct rpc_target *target)
{
    struct error *err = rpc_check_name("topic", target->topic);

    if (!err && target->server) {
        err = rpc_check_name("server name", target->server);
    }
    return err;
}

static char *
rpc_target_queue(const struct rpc_target *target)
{
    return target->server
           ? xasprintf("%s.%s", target->topic, target->server)
           : xstrdup(target->topic);
}

/* Monotonic time of 'deadline_ms' (epoch ms; 0 = none). */
static long long
rpc_deadline_to_mono(long long deadline_ms)
{
    if (!deadline_ms) {
        return LLONG_MAX;
    }
    return poll_loop_now_ms() + (deadline_ms - time_now_ms());
}

static struct error *
rpc_conn_send(struct rpc_conn *conn, enum rpc_out_kind kind,
              const char *exchange, const char *routing_key,
              const struct rpc_msg *msg)
{
    struct rpc_outmsg *out;
    char *body;
    size_t size;
    struct error *err;

    if (conn->n_outbox >= RPC_OUTBOX_MAX) {
        return error_new(ERROR_UNAVAILABLE, "Cannot send '%s': %d messages "
                         "already wait for %s", msg->method, RPC_OUTBOX_MAX,
                         conn->url_string);
    }
    err = rpc_msg_encode(msg, &body, &size);
    if (err) {
        return err;
    }
    out = xzalloc(sizeof *out);
    out->kind = kind;
    out->exchange = xstrdup(exchange);
    out->routing_key = xstrdup(routing_key);
    memcpy(out->msg_id, msg->msg_id, sizeof out->msg_id);
    out->body = body;
    out->size = size;
    out->deadline_mono_ms = rpc_deadline_to_mono(msg->deadline_ms);
    rpc_conn_enqueue(conn, out);
    return NULL;
}

struct error *
rpc_cast(struct rpc_conn *conn, const struct rpc_target *target,
         const struct rpc_msg *msg)
{
    AUTOFREE char *queue = NULL;
    struct error *err = rpc_check_target(target);

    if (err) {
        return err;
    }
    queue = rpc_target_queue(target);
    return rpc_conn_send(conn, RPC_OUT_CAST, "", queue, msg);
}

struct error *
rpc_fanout(struct rpc_conn *conn, const char *topic,
           const struct rpc_msg *msg)
{
    AUTOFREE char *exchange = NULL;
    struct error *err = rpc_check_name("topic", topic);

    if (err) {
        return err;
    }
    exchange = rpc_fanout_exchange_name(topic);
    return rpc_conn_send(conn, RPC_OUT_FANOUT, exchange, "", msg);
}

/* Starts a call; on success stores it (owned by 'conn' until done) in
 * '*ret_call'. */
static struct error *
rpc_conn_start_call(struct rpc_conn *conn, const struct rpc_target *target,
                    const struct rpc_msg *msg, int timeout_ms, bool blocking,
                    rpc_reply_fn *cb, void *aux, struct rpc_call **ret_call)
{
    struct rpc_msg with_deadline;
    struct rpc_call *call;
    struct rpc_outmsg *out;
    long long deadline;
    char *body;
    size_t size;
    struct error *err = rpc_check_target(target);

    if (err) {
        return err;
    }
    if (conn->n_outbox >= RPC_OUTBOX_MAX
        || conn->n_calls >= RPC_MAX_PENDING_CALLS) {
        return error_new(ERROR_UNAVAILABLE, "Cannot call '%s': too many "
                         "messages or calls already wait for %s",
                         msg->method, conn->url_string);
    }
    if (rpc_conn_find_call(conn, msg->msg_id)) {
        return error_new(ERROR_CONFLICT, "Cannot call '%s': a call with "
                         "msg_id '%s' is already waiting", msg->method,
                         msg->msg_id);
    }
    if (timeout_ms <= 0) {
        timeout_ms = RPC_DEFAULT_TIMEOUT_MS;
    }

    /* The server must not start work its caller has given up on: send the
     * earlier of the caller's deadline and the message's own.  (A shallow
     * copy: only the deadline differs and encoding only reads.) */
    deadline = time_now_ms() + timeout_ms;
    with_deadline = *msg;
    if (!msg->deadline_ms || msg->deadline_ms > deadline) {
        with_deadline.deadline_ms = deadline;
    }
    err = rpc_msg_encode(&with_deadline, &body, &size);
    if (err) {
        return err;
    }

    call = xzalloc(sizeof *call);
    memcpy(call->msg_id, msg->msg_id, sizeof call->msg_id);
    call->method = xstrdup(msg->method);
    call->topic = xstrdup(target->topic);
    call->queue = rpc_target_queue(target);
    call->body = body;
    call->size = size;
    call->timeout_ms = timeout_ms;
    call->deadline_mono_ms = poll_loop_now_ms() + timeout_ms;
    call->blocking = blocking;
    call->cb = cb;
    call->aux = aux;
    rpc_list_push_back(&conn->calls, &call->node);
    conn->n_calls++;
    conn->stats.calls++;

    out = xzalloc(sizeof *out);
    out->kind = RPC_OUT_REQUEST;
    out->exchange = xstrdup("");
    out->routing_key = xstrdup(call->queue);
    memcpy(out->msg_id, call->msg_id, sizeof out->msg_id);
    out->call = call;
    out->body = rpc_memdup(body, size);
    out->size = size;
    out->deadline_mono_ms = call->deadline_mono_ms;
    call->request = out;

    *ret_call = call;
    rpc_conn_enqueue(conn, out);
    return NULL;
}

struct error *
rpc_call_async(struct rpc_conn *conn, const struct rpc_target *target,
               const struct rpc_msg *msg, int timeout_ms, rpc_reply_fn *cb,
               void *aux)
{
    struct rpc_call *call;

    return rpc_conn_start_call(conn, target, msg, timeout_ms, false, cb, aux,
                               &call);
}

struct error *
rpc_call(struct rpc_conn *conn, const struct rpc_target *target,
         const struct rpc_msg *msg, int timeout_ms,
         struct json_object **ret_result)
{
    struct rpc_call *call;
    struct error *err;

    err = rpc_conn_start_call(conn, target, msg, timeout_ms, true, NULL,
                              NULL, &call);
    if (err) {
        return err;
    }
    while (!call->done) {
        bool more = rpc_conn_do_io(conn);

        if (call->done) {
            break;
        }
        if (poll_loop_now_ms() >= call->deadline_mono_ms) {
            conn->stats.call_timeouts++;
            rpc_conn_complete_call(
                conn, call, NULL,
                error_new(ERROR_TIMEOUT, "Timed out waiting for a reply to "
                          "'%s' on topic '%s' after %d ms%s", call->method,
                          call->topic, call->timeout_ms,
                          conn->amqp ? "" : " (not connected to the "
                          "broker)"));
            break;
        }
        if (!more) {
            rpc_conn_block(conn, call->deadline_mono_ms);
        }
    }

    err = TAKE_PTR(call->error);
    if (!err) {
        *ret_result = TAKE_PTR(call->result);
    }
    rpc_call_free(call);
    return err;
}

/* ------------------------------------------------------------------ */
/* For servers (rpc-private.h). */

struct error *
rpc_conn_add_consumer(struct rpc_conn *conn, enum rpc_consumer_kind kind,
                      const char *name, rpc_deliver_fn *deliver, void *aux,
                      struct rpc_consumer **ret_consumer)
{
    struct rpc_consumer *c = xzalloc(sizeof *c);

    c->kind = kind;
    c->name = xstrdup(name);
    snprintf(c->tag, sizeof c->tag, "c%u", ++conn->next_consumer_id);
    c->deliver = deliver;
    c->aux = aux;

    if (conn->amqp) {
        bool refused;
        struct error *err = rpc_conn_setup_consumer(conn, c, &refused);

        if (err) {
            rpc_conn_lost(conn, "%s", error_message(err));
            if (refused) {
                free(c->name);
                free(c->queue);
                free(c);
                return err;
            }
            error_free(err);
        }
    }
    rpc_list_push_back(&conn->consumers, &c->node);
    *ret_consumer = c;
    return NULL;
}

void
rpc_conn_remove_consumer(struct rpc_conn *conn, struct rpc_consumer *c)
{
    struct rpc_list *node, *next;

    if (!c) {
        return;
    }
    rpc_list_remove(&c->node);
    if (conn->amqp) {
        bool refused;
        struct error *err;

        amqp_basic_cancel(conn->amqp, RPC_CHANNEL, rpc_bytes(c->tag));
        err = rpc_conn_check_reply(conn, "cancel a consumer", &refused);
        if (err) {
            rpc_conn_lost(conn, "%s", error_message(err));
            error_free(err);
        }
    }
    RPC_LIST_FOR_EACH_SAFE (node, next, &conn->inbox) {
        struct rpc_inbox_item *item = RPC_LIST_ENTRY(
            node, struct rpc_inbox_item, node);

        if (!strcmp(item->tag, c->tag)) {
            rpc_list_remove(&item->node);
            rpc_conn_reject(conn, item->delivery->generation,
                            item->delivery->delivery_tag, true);
            rpc_delivery_free(item->delivery);
            free(item);
        }
    }
    free(c->name);
    free(c->queue);
    free(c);
}

bool
rpc_conn_generation_is_live(const struct rpc_conn *conn, uint64_t generation)
{
    return conn->amqp && generation == conn->generation;
}

void
rpc_conn_ack(struct rpc_conn *conn, uint64_t generation, uint64_t tag)
{
    if (rpc_conn_generation_is_live(conn, generation)) {
        int status = amqp_basic_ack(conn->amqp, RPC_CHANNEL, tag, 0);

        if (status != AMQP_STATUS_OK) {
            rpc_conn_lost(conn, "acking: %s", amqp_error_string2(status));
        }
    }
}

void
rpc_conn_reject(struct rpc_conn *conn, uint64_t generation, uint64_t tag,
                bool requeue)
{
    if (rpc_conn_generation_is_live(conn, generation)) {
        int status = amqp_basic_reject(conn->amqp, RPC_CHANNEL, tag,
                                       requeue);

        if (status != AMQP_STATUS_OK) {
            rpc_conn_lost(conn, "rejecting: %s", amqp_error_string2(status));
        }
    }
}

void
rpc_conn_send_reply(struct rpc_conn *conn, const char *reply_to,
                    const char *correlation_id, const char *body, size_t size)
{
    struct rpc_outmsg *out = xzalloc(sizeof *out);

    out->kind = RPC_OUT_REPLY;
    out->exchange = xstrdup("");
    out->routing_key = xstrdup(reply_to);
    out->correlation_id = xstrdup(correlation_id);
    out->body = rpc_memdup(body, size);
    out->size = size;
    out->deadline_mono_ms = LLONG_MAX;
    rpc_conn_enqueue(conn, out);
}
