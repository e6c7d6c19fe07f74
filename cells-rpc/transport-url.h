/* transport-url.h: oslo.messaging style transport URLs for RabbitMQ.
 *
 *     rabbit://USER:PASS@HOST:PORT/VHOST
 *     rabbit://u1:p1@h1:5672,u2:p2@h2:5672/VHOST        (a cluster)
 *
 * Every host entry is "[USER[:PASS]@]HOST[:PORT]"; HOST may be an IPv6
 * literal in brackets ("[::1]:5672").  USER, PASS and VHOST are
 * percent-decoded ("%2F" is '/', so "rabbit://h/%2F" names the vhost "/").
 * Defaults are those of oslo.messaging: port 5672, user "guest" with
 * password "guest" when an entry has no credentials, and vhost "/" when the
 * path is missing or empty.  Query parameters are not supported and are
 * rejected rather than silently ignored.
 *
 * The hosts of a cluster are tried in the order written, on the first
 * connection and on every reconnection.
 *
 * Passwords never reach a log line or an error message: the parser's error
 * messages do not quote the URL, and transport_url_to_string() prints
 * "***" in place of every password. */
#ifndef NOVA_TRANSPORT_URL_H
#define NOVA_TRANSPORT_URL_H 1

#include <stddef.h>
#include "shared/compiler.h"
#include "shared/cleanup.h"

struct error;

#define TRANSPORT_URL_SCHEME "rabbit"
#define TRANSPORT_URL_DEFAULT_PORT 5672
#define TRANSPORT_URL_DEFAULT_USER "guest"
#define TRANSPORT_URL_DEFAULT_PASSWORD "guest"
#define TRANSPORT_URL_DEFAULT_VHOST "/"

/* Longest URL accepted, in bytes. */
#define TRANSPORT_URL_MAX_SIZE 4096
/* Most hosts in one URL. */
#define TRANSPORT_URL_MAX_HOSTS 16
/* Longest decoded user name, password, host name or vhost, in bytes
 * (RabbitMQ's own limit on names is 255 bytes). */
#define TRANSPORT_URL_MAX_FIELD_SIZE 255

struct transport_url_host {
    char *user;                 /* Decoded; never NULL. */
    char *password;             /* Decoded; never NULL.  Never print it. */
    char *host;                 /* Without IPv6 brackets. */
    int port;                   /* 1..65535. */
};

struct transport_url {
    struct transport_url_host *hosts;
    size_t n_hosts;             /* At least 1. */
    char *vhost;                /* Decoded; never NULL. */
};

/* Parses 'url'.  On success stores a new URL, owned by the caller, in
 * '*ret_url' and returns NULL; otherwise returns an ERROR_INVALID error
 * whose message says what is wrong without quoting the URL. */
struct error *transport_url_parse(const char *url,
                                  struct transport_url **ret_url)
    WARN_UNUSED;

void transport_url_free(struct transport_url *);
DEFINE_FREEP(struct transport_url, transport_url_free)

/* Returns the URL for logs and messages, each password replaced by "***"
 * and every field re-encoded ("rabbit://admin:***@127.0.0.1:5672/rpctest").
 * The caller frees the result. */
char *transport_url_to_string(const struct transport_url *);

/* Returns "HOST:PORT" ("[::1]:5672" for IPv6) of host 'i'.  The caller
 * frees the result. */
char *transport_url_host_to_string(const struct transport_url *, size_t i);

#endif /* NOVA_TRANSPORT_URL_H */
