/* compute-conductor.h: nova-compute's client of nova-conductor.
 *
 * nova-compute holds no database credentials (DESIGN.md section 4): every
 * read and write of the cell database is a message to the "conductor"
 * topic (child-cell/rpcapi.h).  This module sends them on the main
 * thread's RPC connection and adds two things the RPC layer does not:
 *
 * Order per instance.  Messages about one instance (their 'key', the
 * instance uuid) go out one at a time, in the order they were queued: a
 * message waits until every earlier message with the same key has been
 * answered (a call) or handed to the broker (a cast).  So the final
 * "active" update of a build never overtakes its "spawning" update, and an
 * action event never describes an update the conductor has not applied.
 * Messages without a key (heartbeats, inventory reports) never wait.
 *
 * Retries.  Casts are durable and confirmed by the RPC layer, which
 * publishes them again after a lost connection (rpc.h); only a full outbox
 * (ERROR_UNAVAILABLE) makes rpc_cast() fail, and that is retried here.  A
 * call whose conductor is down (no consumer on the queue, or the broker
 * unreachable) times out instead; calls that end in ERROR_TIMEOUT or
 * ERROR_UNAVAILABLE are sent again after an exponential backoff with
 * jitter (rpc-backoff.h), up to 'max_attempts' in all, each failure
 * logged.  A retry keeps the message id, so if the first copy was in fact
 * executed and only its reply was lost, the conductor's dedupe window
 * answers the retry from its cache instead of applying the update twice;
 * a first copy still queued when its deadline passed is dropped by the
 * conductor unexecuted (rpc-server.h).  Any other error (NotFound,
 * Conflict, Invalid) is the conductor's answer and is never retried.
 *
 * Threads: everything here runs on the RPC connection's thread. */
#ifndef NOVA_COMPUTE_CONDUCTOR_H
#define NOVA_COMPUTE_CONDUCTOR_H 1

#include <stddef.h>
#include "shared/cleanup.h"

struct error;
struct json_object;
struct rpc_conn;

/* Defaults of the options below. */
#define COMPUTE_CONDUCTOR_CALL_TIMEOUT_MS 60000
#define COMPUTE_CONDUCTOR_MAX_ATTEMPTS 10u
#define COMPUTE_CONDUCTOR_RETRY_MIN_MS 1000LL
#define COMPUTE_CONDUCTOR_RETRY_MAX_MS 60000LL

struct compute_conductor_options {
    int call_timeout_ms;        /* Each attempt of a call; >= 1. */
    unsigned int max_attempts;  /* Attempts per message, >= 1. */
    long long retry_min_ms;     /* Backoff bounds, 1 <= min <= max. */
    long long retry_max_ms;
};

/* Counters since compute_conductor_new(). */
struct compute_conductor_stats {
    unsigned long long calls;       /* Calls completed (any outcome). */
    unsigned long long casts;       /* Casts handed to the broker. */
    unsigned long long retries;     /* Attempts after a failed one. */
    unsigned long long given_up;    /* Messages that ran out of attempts. */
};

/* Gets the outcome of a call: exactly one of 'result' and 'error' is set
 * (except a JSON null result: both NULL); the function owns both.  Runs
 * from compute_conductor_run(), rpc_conn_run() or compute_conductor_free()
 * (then with an ERROR_UNAVAILABLE error saying the service stops). */
typedef void compute_conductor_reply_fn(struct json_object *result,
                                        struct error *error, void *aux);

struct compute_conductor;

/* Fills 'options' with the defaults above. */
void compute_conductor_options_init(struct compute_conductor_options *);

/* Creates a client sending on 'conn' (borrowed: it must outlive the
 * client).  Owned by the caller. */
struct compute_conductor *compute_conductor_new(
    struct rpc_conn *conn, const struct compute_conductor_options *options);

/* Completes every waiting call with an error (see above) and drops the
 * casts not yet handed to the broker.  NULL-safe. */
void compute_conductor_free(struct compute_conductor *);
DEFINE_FREEP(struct compute_conductor, compute_conductor_free)

/* Queues a call of conductor method 'method' with arguments 'args' (a JSON
 * object; ownership is taken), ordered after earlier messages with the same
 * 'key' (copied; NULL for none), on behalf of request 'request_id' (copied;
 * NULL for none).  'cb' gets the outcome with 'aux', never from inside this
 * function. */
void compute_conductor_call(struct compute_conductor *, const char *key,
                            const char *request_id, const char *method,
                            struct json_object *args,
                            compute_conductor_reply_fn *cb, void *aux);

/* Queues a cast, with the same rules (no outcome to report: a cast that
 * runs out of attempts is logged as lost). */
void compute_conductor_cast(struct compute_conductor *, const char *key,
                            const char *request_id, const char *method,
                            struct json_object *args);

/* Sends what may be sent now and retries what is due. */
void compute_conductor_run(struct compute_conductor *);

/* Registers the wakeups compute_conductor_run() needs. */
void compute_conductor_wait(struct compute_conductor *);

/* Messages queued, waiting for a retry or for their reply. */
size_t compute_conductor_n_pending(const struct compute_conductor *);

void compute_conductor_get_stats(const struct compute_conductor *,
                                 struct compute_conductor_stats *ret_stats);

#endif /* NOVA_COMPUTE_CONDUCTOR_H */
