/* compute-api.c: what every module of the compute API shares. */
#include <config.h>

#include "api-cell/compute-api.h"

#include <string.h>

#include "api-cell/http-request.h"
#include "cells-rpc/rpc-ctx.h"

void
compute_api_config_init(struct compute_api_config *config)
{
    memset(config, 0, sizeof *config);
#define COMPUTE_API_QUOTA_DEFAULT(field, name, value) \
    config->field = (value);
    COMPUTE_API_DEFAULT_QUOTAS(COMPUTE_API_QUOTA_DEFAULT)
#undef COMPUTE_API_QUOTA_DEFAULT
    config->max_limit = COMPUTE_API_DEFAULT_MAX_LIMIT;
    config->cast_timeout_ms = COMPUTE_API_DEFAULT_CAST_TIMEOUT_MS;
    config->call_timeout_ms = COMPUTE_API_DEFAULT_CALL_TIMEOUT_MS;
    config->default_availability_zone = "nova";
}

void
compute_api_rpc_ctx(const struct http_request *req, struct rpc_ctx *ctx)
{
    const struct http_auth *auth = http_request_auth(req);

    rpc_ctx_init(ctx);
    rpc_ctx_set_request_id(ctx, http_request_id(req));
    if (!auth) {
        return;
    }
    rpc_ctx_set_user(ctx, auth->user_id, auth->project_id);
    for (size_t i = 0; i < auth->n_roles; i++) {
        rpc_ctx_add_role(ctx, auth->roles[i]);
    }
    ctx->is_admin = auth->is_admin;
}
