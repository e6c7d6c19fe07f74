/* rpc-ctx.h: the request context every RPC message carries.
 *
 * The context says on whose behalf a message is sent: the request id that
 * ties together every log line of one user request across daemons and
 * cells ("req-<uuid>", Nova's X-OpenStack-Request-ID), the user, the
 * project, the roles and whether the user is an administrator.  nova-api
 * fills it from the token; every hop copies it into the messages it sends on
 * the request's behalf, so a leaf's log lines carry the API request id.
 *
 * Limits are checked by the envelope decoder (rpc-msg.h) and by
 * rpc_ctx_check(). */
#ifndef NOVA_RPC_CTX_H
#define NOVA_RPC_CTX_H 1

#include <stdbool.h>
#include <stddef.h>
#include "shared/compiler.h"

struct error;
struct log_ctx;

/* Longest request id, in characters ("req-" + a uuid is 40). */
#define RPC_CTX_MAX_REQUEST_ID_LENGTH 64
/* Longest user or project id, in characters (Keystone allows 64; names
 * used by the development identity service fit as well). */
#define RPC_CTX_MAX_ID_LENGTH 255
/* Most roles, and the longest role name in characters. */
#define RPC_CTX_MAX_ROLES 64
#define RPC_CTX_MAX_ROLE_LENGTH 255

/* Embedded in 'struct rpc_msg'; every string is owned by the context and
 * may be NULL (absent). */
struct rpc_ctx {
    char *request_id;
    char *user_id;
    char *project_id;
    char **roles;
    size_t n_roles;
    bool is_admin;
};

/* Initialises 'ctx' to the empty context. */
void rpc_ctx_init(struct rpc_ctx *ctx);

/* Frees what 'ctx' owns and leaves it empty.  NULL-safe. */
void rpc_ctx_destroy(struct rpc_ctx *ctx);

/* Makes 'dst' (uninitialised) a deep copy of 'src'. */
void rpc_ctx_clone(struct rpc_ctx *dst, const struct rpc_ctx *src);

/* Replaces field values of 'ctx' with copies of the arguments (NULL clears
 * the field). */
void rpc_ctx_set_request_id(struct rpc_ctx *, const char *request_id);
void rpc_ctx_set_user(struct rpc_ctx *, const char *user_id,
                      const char *project_id);
void rpc_ctx_add_role(struct rpc_ctx *, const char *role);

/* True if 'ctx' has role 'role'. */
bool rpc_ctx_has_role(const struct rpc_ctx *, const char *role);

/* Checks the limits above (lengths, number of roles).  Returns NULL or an
 * ERROR_INVALID error naming the field. */
struct error *rpc_ctx_check(const struct rpc_ctx *) WARN_UNUSED;

/* Fills 'log_ctx' for LOG_*_CTX from 'ctx' (request id only; the other
 * fields are set to NULL).  Borrows from 'ctx'. */
void rpc_ctx_to_log_ctx(const struct rpc_ctx *, struct log_ctx *log_ctx);

#endif /* NOVA_RPC_CTX_H */
