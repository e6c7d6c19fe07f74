/* rpc-msg.h: the RPC envelope, the one wire format of every RPC message.
 *
 * This is the only module that reads or writes the envelope.  A request
 * (call, cast or fanout) is one JSON object:
 *
 *     {"protocol": 1,
 *      "msg_id": "0b7f3f4e-5d1c-4c55-9f39-0d6f7a1f2b3c",
 *      "method": "build_instance",
 *      "version": "1.3",
 *      "args": {...},
 *      "context": {"request_id": "req-...", "user_id": "...",
 *                  "project_id": "...", "roles": ["member"],
 *                  "is_admin": false},
 *      "deadline": 1763795700123,
 *      "extra": {...}}
 *
 * and a reply to a call is
 *
 *     {"protocol": 1, "msg_id": "<id of the request>", "result": <any>}
 *     {"protocol": 1, "msg_id": "<id of the request>",
 *      "error": {"kind": "NotFound", "code": 404, "message": "..."}}
 *
 * Where the call's reply goes (reply_to) and which request a reply answers
 * (correlation_id = msg_id) travel as AMQP properties, set by rpc.c, as in
 * every AMQP RPC.
 *
 * Fields:
 *   protocol  envelope version, RPC_MSG_PROTOCOL; any other is rejected.
 *   msg_id    a lowercase canonical UUID; the unit of deduplication, so a
 *             retried publish keeps its id.
 *   method    [A-Za-z_][A-Za-z0-9_]*, at most RPC_MSG_MAX_METHOD_LENGTH.
 *   version   interface version the sender needs (rpc-version.h).
 *   args      a JSON object, the method's arguments.
 *   context   rpc-ctx.h; every key optional, no other key allowed.
 *   deadline  optional; absolute wall-clock time in milliseconds since the
 *             epoch after which the message must not be executed (hosts
 *             keep their clocks in step with NTP, as OpenStack requires).
 *   extra     optional JSON object the RPC layer carries untouched: the
 *             room for layers built on top, such as the cell layer's route
 *             (cell path, direction, hop count).  Putting such fields here
 *             rather than inside 'args' keeps method arguments exactly what
 *             the method's handler validates.
 *
 * The decoder is strict: the whole message is at most RPC_MSG_MAX_SIZE
 * bytes, nested at most RPC_MSG_MAX_DEPTH deep, valid UTF-8; each field has
 * exactly its type and stays within its limit; an unknown key at the top
 * level or in the context is an error (new fields come with a new protocol
 * number, or inside 'extra').  Every failure is a 'struct error' (kind
 * ERROR_INVALID, or ERROR_TOO_LARGE for size) whose message names the
 * field. */
#ifndef NOVA_RPC_MSG_H
#define NOVA_RPC_MSG_H 1

#include <stdbool.h>
#include <stddef.h>
#include "shared/compiler.h"
#include "shared/cleanup.h"
#include "cells-rpc/rpc-ctx.h"
#include "cells-rpc/rpc-version.h"

struct error;
struct json_object;

/* The envelope version written and accepted. */
#define RPC_MSG_PROTOCOL 1

/* Largest encoded message (request or reply), in bytes.  A larger request
 * is refused by the sender and dead-lettered by a receiver; a larger reply
 * is replaced by an ERROR_TOO_LARGE error reply. */
#define RPC_MSG_MAX_SIZE (1024 * 1024)

/* Deepest nesting of arrays and objects in a message. */
#define RPC_MSG_MAX_DEPTH 32

/* Longest method name, in characters. */
#define RPC_MSG_MAX_METHOD_LENGTH 128

/* A message id is a canonical UUID: 36 characters, plus the NUL. */
#define RPC_MSG_ID_LENGTH 36
#define RPC_MSG_ID_SIZE (RPC_MSG_ID_LENGTH + 1)

/* Largest deadline accepted (9999-12-31T23:59:59.999Z), in epoch ms. */
#define RPC_MSG_MAX_DEADLINE_MS 253402300799999LL

struct rpc_msg {
    char msg_id[RPC_MSG_ID_SIZE];
    char *method;                   /* Owned. */
    struct rpc_version version;     /* Version the sender needs. */
    struct json_object *args;       /* Owned reference; a JSON object. */
    struct rpc_ctx ctx;             /* Owned. */
    long long deadline_ms;          /* Epoch ms; 0 = no deadline. */
    struct json_object *extra;      /* Owned reference or NULL. */
};

/* Creates a message for 'method' with a fresh random msg_id, version 1.0,
 * an empty context, no deadline and no extra.  Takes ownership of 'args'
 * (a reference to a JSON object; NULL means an empty object).  'method' is
 * copied; it is checked when the message is encoded.  The caller frees the
 * result with rpc_msg_free(). */
struct rpc_msg *rpc_msg_new(const char *method, struct json_object *args);

/* Returns a deep copy of 'msg' (same msg_id) that shares nothing with it,
 * JSON values included: json-c's reference counts are not thread-safe, so
 * this is the copy to hand to another thread.  The caller owns it. */
struct rpc_msg *rpc_msg_clone(const struct rpc_msg *msg);

void rpc_msg_free(struct rpc_msg *);
DEFINE_FREEP(struct rpc_msg, rpc_msg_free)

/* Gives 'msg' a fresh random msg_id (a new message, not a retry). */
void rpc_msg_new_id(struct rpc_msg *msg);

/* True if 'id' is a valid msg_id: a lowercase canonical UUID. */
bool rpc_msg_id_is_valid(const char *id);

/* True if 'method' is a valid method name. */
bool rpc_msg_method_is_valid(const char *method);

/* Encodes 'msg'.  'msg' is only read, but the reference counts of its
 * JSON values are touched during the call, so it must not be in use by
 * another thread meanwhile.  On success stores the JSON text
 * (NUL-terminated, owned by the caller) in '*ret_text' and its length in
 * '*ret_size'.  Fails with ERROR_INVALID when a field breaks a rule above,
 * or ERROR_TOO_LARGE when the text would exceed RPC_MSG_MAX_SIZE. */
struct error *rpc_msg_encode(const struct rpc_msg *msg, char **ret_text,
                             size_t *ret_size) WARN_UNUSED;

/* Decodes 'size' bytes at 'text' (not necessarily NUL-terminated).  On
 * success stores a new message, owned by the caller, in '*ret_msg'.
 *
 * 'found_id', if not NULL, receives the message's msg_id whenever the text
 * parses and carries a valid one, even when decoding fails later (for log
 * lines about a rejected message), and "" otherwise. */
struct error *rpc_msg_decode(const char *text, size_t size,
                             struct rpc_msg **ret_msg,
                             char found_id[RPC_MSG_ID_SIZE]) WARN_UNUSED;

/* Encodes the reply to request 'msg_id': 'result' (borrowed; NULL encodes
 * JSON null) when 'remote_error' is NULL, else 'remote_error' (borrowed)
 * through error_to_json().  Same outputs and failures as rpc_msg_encode(). */
struct error *rpc_msg_encode_reply(const char *msg_id,
                                   const struct json_object *result,
                                   const struct error *remote_error,
                                   char **ret_text, size_t *ret_size)
    WARN_UNUSED;

/* Decodes a reply.  On success copies the request's id into 'ret_msg_id'
 * and stores either the result (a new reference, NULL for JSON null) in
 * '*ret_result' and NULL in '*ret_remote_error', or NULL in '*ret_result'
 * and the remote error (same kind and message as the one the handler
 * returned; owned by the caller) in '*ret_remote_error'.  Returns a
 * 'struct error' only when the reply itself is malformed. */
struct error *rpc_msg_decode_reply(const char *text, size_t size,
                                   char ret_msg_id[RPC_MSG_ID_SIZE],
                                   struct json_object **ret_result,
                                   struct error **ret_remote_error)
    WARN_UNUSED;

#endif /* NOVA_RPC_MSG_H */
