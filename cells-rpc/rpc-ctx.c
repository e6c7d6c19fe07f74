/* rpc-ctx.c: the request context of RPC messages (rpc-ctx.h). */
#include <config.h>

#include "cells-rpc/rpc-ctx.h"

#include <string.h>

#include "shared/error.h"
#include "shared/log.h"
#include "shared/xalloc.h"

void
rpc_ctx_init(struct rpc_ctx *ctx)
{
    memset(ctx, 0, sizeof *ctx);
}

void
rpc_ctx_destroy(struct rpc_ctx *ctx)
{
    if (!ctx) {
        return;
    }
    free(ctx->request_id);
    free(ctx->user_id);
    free(ctx->project_id);
    for (size_t i = 0; i < ctx->n_roles; i++) {
        free(ctx->roles[i]);
    }
    free(ctx->roles);
    rpc_ctx_init(ctx);
}

void
rpc_ctx_clone(struct rpc_ctx *dst, const struct rpc_ctx *src)
{
    rpc_ctx_init(dst);
    dst->request_id = xstrdup_or_null(src->request_id);
    dst->user_id = xstrdup_or_null(src->user_id);
    dst->project_id = xstrdup_or_null(src->project_id);
    dst->is_admin = src->is_admin;
    if (src->n_roles) {
        dst->roles = xcalloc(src->n_roles, sizeof *dst->roles);
        for (size_t i = 0; i < src->n_roles; i++) {
            dst->roles[i] = xstrdup(src->roles[i]);
        }
        dst->n_roles = src->n_roles;
    }
}

static void
rpc_ctx_replace(char **field, const char *value)
{
    char *copy = xstrdup_or_null(value);

    free(*field);
    *field = copy;
}

void
rpc_ctx_set_request_id(struct rpc_ctx *ctx, const char *request_id)
{
    rpc_ctx_replace(&ctx->request_id, request_id);
}

void
rpc_ctx_set_user(struct rpc_ctx *ctx, const char *user_id,
                 const char *project_id)
{
    rpc_ctx_replace(&ctx->user_id, user_id);
    rpc_ctx_replace(&ctx->project_id, project_id);
}

void
rpc_ctx_add_role(struct rpc_ctx *ctx, const char *role)
{
    ctx->roles = xreallocarray(ctx->roles, ctx->n_roles + 1,
                               sizeof *ctx->roles);
    ctx->roles[ctx->n_roles++] = xstrdup(role);
}

bool
rpc_ctx_has_role(const struct rpc_ctx *ctx, const char *role)
{
    for (size_t i = 0; i < ctx->n_roles; i++) {
        if (!strcmp(ctx->roles[i], role)) {
            return true;
        }
    }
    return false;
}

/* Characters of 's' counted as UTF-8 code points. */
static size_t
rpc_ctx_length(const char *s)
{
    size_t n = 0;

    for (; *s; s++) {
        n += ((unsigned char) *s & 0xc0) != 0x80;
    }
    return n;
}

static struct error *
rpc_ctx_check_field(const char *name, const char *value, size_t max_length)
{
    if (value && rpc_ctx_length(value) > max_length) {
        return error_new(ERROR_INVALID, "Context field '%s' is longer than "
                         "%zu characters", name, max_length);
    }
    return NULL;
}

struct error *
rpc_ctx_check(const struct rpc_ctx *ctx)
{
    struct error *err;

    if ((err = rpc_ctx_check_field("request_id", ctx->request_id,
                                   RPC_CTX_MAX_REQUEST_ID_LENGTH))
        || (err = rpc_ctx_check_field("user_id", ctx->user_id,
                                      RPC_CTX_MAX_ID_LENGTH))
        || (err = rpc_ctx_check_field("project_id", ctx->project_id,
                                      RPC_CTX_MAX_ID_LENGTH))) {
        return err;
    }
    if (ctx->n_roles > RPC_CTX_MAX_ROLES) {
        return error_new(ERROR_INVALID, "Context has more than %d roles",
                         RPC_CTX_MAX_ROLES);
    }
    for (size_t i = 0; i < ctx->n_roles; i++) {
        if ((err = rpc_ctx_check_field("roles", ctx->roles[i],
                                       RPC_CTX_MAX_ROLE_LENGTH))) {
            return err;
        }
    }
    return NULL;
}

void
rpc_ctx_to_log_ctx(const struct rpc_ctx *ctx, struct log_ctx *log_ctx)
{
    memset(log_ctx, 0, sizeof *log_ctx);
    log_ctx->request_id = ctx->request_id;
}
