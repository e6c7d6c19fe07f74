/* identity-service.c: issuing and validating tokens, the validation
 * cache and the per-thread database connections.
 *
 * See identity-service.h for the design.  The validation path is:
 *
 *   1. identity_token_decode(): base64, HMAC, expiry (no I/O);
 *   2. the (user, project) state from the cache, else from the thread's
 *      connection (one indexed query), stored back in the cache;
 *   3. the token is accepted if the user exists, is enabled and has the
 *      token's revocation counter and the project is usable; a refusal
 *      based on cached state is checked again against the database. */
#include <config.h>

#include "api-cell/identity-service.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "api-cell/http-request.h"
#include "api-cell/identity-password.h"
#include "api-cell/identity-store.h"
#include "api-cell/policy.h"
#include "shared/db.h"
#include "shared/error.h"
#include "shared/log.h"
#include "shared/timeutil.h"
#include "shared/xalloc.h"

LOG_MODULE("identity");

/* The authentication method this service offers. */
#define IDENTITY_METHOD_PASSWORD "password"

/* One thread's connection, on the service's list. */
struct identity_conn {
    struct identity_service *service;
    struct db *db;
    struct identity_conn *prev, *next;
};

/* One cached (user, project) state.  'project_id' is "" for unscoped
 * tokens. */
struct identity_cache_slot {
    bool used;
    int64_t expires_ms;                 /* time_monotonic_ms() */
    char user_id[IDENTITY_TOKEN_MAX_ID_LENGTH + 1];
    char project_id[IDENTITY_TOKEN_MAX_ID_LENGTH + 1];
    struct identity_token_state state;  /* owned */
};

struct identity_service {
    struct identity_token_key *key;
    int64_t expiration_ms;
    char *public_endpoint;
    char *region;
    char *db_url;

    pthread_key_t conn_key;
    pthread_mutex_t conn_mutex;         /* guards 'conns' */
    struct identity_conn *conns;

    pthread_mutex_t cache_mutex;        /* guards 'cache' and 'stats' */
    struct identity_cache_slot *cache;  /* IDENTITY_CACHE_SLOTS */
    struct identity_cache_stats stats;
};

/* ---- Connections ----------------------------------------------------- */

static void
identity_conn_unlink(struct identity_conn *conn)
{
    struct identity_service *service = conn->service;

    if (conn->prev) {
        conn->prev->next = conn->next;
    } else {
        service->conns = conn->next;
    }
    if (conn->next) {
        conn->next->prev = conn->prev;
    }
}

/* The pthread key's destructor: a thread that had a connection exits. */
static void
identity_conn_destructor(void *conn_)
{
    struct identity_conn *conn = conn_;
    struct identity_service *service = conn->service;

    pthread_mutex_lock(&service->conn_mutex);
    identity_conn_unlink(conn);
    pthread_mutex_unlock(&service->conn_mutex);
    db_close(conn->db);
    free(conn);
}

struct error *
identity_service_db(struct identity_service *service, struct db **ret_db)
{
    struct identity_conn *conn = pthread_getspecific(service->conn_key);
    struct error *error;
    struct db *db;

    if (conn) {
        *ret_db = conn->db;
        return NULL;
    }
    error = db_open(service->db_url, &db);
    if (error) {
        return error;
    }
    conn = xzalloc(sizeof *conn);
    conn->service = service;
    conn->db = db;
    pthread_mutex_lock(&service->conn_mutex);
    conn->next = service->conns;
    if (conn->next) {
        conn->next->prev = conn;
    }
    service->conns = conn;
    pthread_mutex_unlock(&service->conn_mutex);
    if (pthread_setspecific(service->conn_key, conn)) {
        /* Only fails without memory: keep the connection on the list,
         * where identity_service_free() finds it. */
        abort();
    }
    *ret_db = db;
    return NULL;
}

/* ---- Life cycle ------------------------------------------------------ */

struct error *
identity_service_new(const struct identity_config *cfg, const char *db_url,
                     struct identity_service **ret_service)
{
    struct identity_token_key *key;
    struct identity_service *service;
    struct error *error;

    error = identity_token_key_new(cfg->token_secret, &key);
    if (error) {
        return error_wrap(error, "Invalid identity.token_secret");
    }
    if (cfg->token_expiration < IDENTITY_TOKEN_EXPIRATION_MIN
        || cfg->token_expiration > IDENTITY_TOKEN_EXPIRATION_MAX) {
        identity_token_key_free(key);
        return error_new(ERROR_INVALID, "identity.token_expiration %lld is "
                         "outside %d..%d seconds", cfg->token_expiration,
                         IDENTITY_TOKEN_EXPIRATION_MIN,
                         IDENTITY_TOKEN_EXPIRATION_MAX);
    }
    if (!db_url || !*db_url) {
        identity_token_key_free(key);
        return error_new(ERROR_INVALID, "The identity service needs the API "
                         "database: set api_database.connection");
    }

    service = xzalloc(sizeof *service);
    service->key = key;
    service->expiration_ms = cfg->token_expiration * 1000;
    if (cfg->public_endpoint && *cfg->public_endpoint) {
        size_t n = strlen(cfg->public_endpoint);

        while (n > 0 && cfg->public_endpoint[n - 1] == '/') {
            n--;
        }
        service->public_endpoint = xstrndup(cfg->public_endpoint, n);
    }
    service->region = xstrdup(cfg->region && *cfg->region
                              ? cfg->region : IDENTITY_REGION_DEFAULT);
    service->db_url = xstrdup(db_url);
    if (pthread_key_create(&service->conn_key, identity_conn_destructor)) {
        abort();
    }
    pthread_mutex_init(&service->conn_mutex, NULL);
    pthread_mutex_init(&service->cache_mutex, NULL);
    service->cache = xcalloc(IDENTITY_CACHE_SLOTS, sizeof *service->cache);
    *ret_service = service;
    return NULL;
}

void
identity_service_free(struct identity_service *service)
{
    if (!service) {
        return;
    }
    /* No destructor runs after this, so close what is left here. */
    pthread_key_delete(service->conn_key);
    while (service->conns) {
        struct identity_conn *conn = service->conns;

        identity_conn_unlink(conn);
        db_close(conn->db);
        free(conn);
    }
    pthread_mutex_destroy(&service->conn_mutex);
    for (size_t i = 0; i < IDENTITY_CACHE_SLOTS; i++) {
        identity_token_state_destroy(&service->cache[i].state);
    }
    free(service->cache);
    pthread_mutex_destroy(&service->cache_mutex);
    identity_token_key_free(service->key);
    free(service->public_endpoint);
    free(service->region);
    free(service->db_url);
    free(service);
}

const char *
identity_service_public_endpoint(const struct identity_service *service)
{
    return service->public_endpoint;
}

const char *
identity_service_region(const struct identity_service *service)
{
    return service->region;
}

void
identity_token_info_destroy(struct identity_token_info *info)
{
    if (info) {
        free(info->token_id);
        identity_token_destroy(&info->token);
        free(info->user_name);
        free(info->project_name);
        identity_role_array_free(info->roles, info->n_roles);
        memset(info, 0, sizeof *info);
    }
}

/* ---- The validation cache -------------------------------------------- */

static struct identity_cache_slot *
identity_cache_slot(struct identity_service *service, const char *user_id,
                    const char *project_id)
{
    /* FNV-1a over "user\0project". */
    uint32_t hash = 2166136261u;

    for (const char *p = user_id; *p; p++) {
        hash = (hash ^ (unsigned char) *p) * 16777619u;
    }
    hash = (hash ^ 0) * 16777619u;
    for (const char *p = project_id; *p; p++) {
        hash = (hash ^ (unsigned char) *p) * 16777619u;
    }
    return &service->cache[hash % IDENTITY_CACHE_SLOTS];
}

static void
identity_token_state_copy(struct identity_token_state *dst,
                          const struct identity_token_state *src)
{
    *dst = *src;
    dst->user_name = xstrdup_or_null(src->user_name);
    dst->project_name = xstrdup_or_null(src->project_name);
}

/* Copies the cached state of (user, project) into '*ret_state' if there
 * is a fresh one.  'project_id' is "" for none. */
static bool
identity_cache_get(struct identity_service *service, const char *user_id,
                   const char *project_id, int64_t now_ms,
                   struct identity_token_state *ret_state)
{
    struct identity_cache_slot *slot;
    bool hit = false;

    pthread_mutex_lock(&service->cache_mutex);
    slot = identity_cache_slot(service, user_id, project_id);
    if (slot->used && now_ms < slot->expires_ms
        && !strcmp(slot->user_id, user_id)
        && !strcmp(slot->project_id, project_id)) {
        identity_token_state_copy(ret_state, &slot->state);
        service->stats.n_hits++;
        hit = true;
    } else {
        service->stats.n_misses++;
    }
    pthread_mutex_unlock(&service->cache_mutex);
    return hit;
}

static void
identity_cache_put(struct identity_service *service, const char *user_id,
                   const char *project_id, int64_t now_ms,
                   const struct identity_token_state *state)
{
    struct identity_cache_slot *slot;

    if (strlen(user_id) > IDENTITY_TOKEN_MAX_ID_LENGTH
        || strlen(project_id) > IDENTITY_TOKEN_MAX_ID_LENGTH) {
        return;
    }
    pthread_mutex_lock(&service->cache_mutex);
    slot = identity_cache_slot(service, user_id, project_id);
    identity_token_state_destroy(&slot->state);
    slot->used = true;
    slot->expires_ms = now_ms + IDENTITY_CACHE_TTL_MS;
    memcpy(slot->user_id, user_id, strlen(user_id) + 1);
    memcpy(slot->project_id, project_id, strlen(project_id) + 1);
    identity_token_state_copy(&slot->state, state);
    pthread_mutex_unlock(&service->cache_mutex);
}

void
identity_service_flush_cache(struct identity_service *service)
{
    pthread_mutex_lock(&service->cache_mutex);
    for (size_t i = 0; i < IDENTITY_CACHE_SLOTS; i++) {
        identity_token_state_destroy(&service->cache[i].state);
        service->cache[i].used = false;
    }
    pthread_mutex_unlock(&service->cache_mutex);
}

void
identity_service_get_stats(struct identity_service *service,
                           struct identity_cache_stats *ret_stats)
{
    pthread_mutex_lock(&service->cache_mutex);
    *ret_stats = service->stats;
    pthread_mutex_unlock(&service->cache_mutex);
}

/* ---- Validation ------------------------------------------------------ */

/* Reads the state of the token's user and project from the database. */
static struct error *
identity_service_read_state(struct identity_service *service,
                            const struct identity_token *token,
                            struct identity_token_state *ret_state)
{
    struct error *error;
    struct db *db;

    error = identity_service_db(service, &db);
    if (!error) {
        error = identity_store_token_state(db, token->user_id,
                                           token->project_id, ret_state);
    }
    if (error) {
        return error_wrap(error, "Cannot check the token's user");
    }
    return NULL;
}

/* Returns NULL if 'state' accepts 'token', else the reason. */
static const char *
identity_service_refusal(const struct identity_token *token,
                         const struct identity_token_state *state)
{
    if (!state->user_exists) {
        return "its user no longer exists";
    } else if (!state->user_enabled) {
        return "its user is disabled";
    } else if (state->revocation != token->revocation) {
        return "it was revoked (password change, disable or role removal)";
    } else if (!state->project_ok) {
        return "its project no longer exists or is disabled";
    }
    return NULL;
}

/* Maps a identity_token_decode() failure to the reason given. */
static const char *
identity_service_decode_reason(int retval)
{
    switch (retval) {
    case -EKEYEXPIRED:
        return "it has expired";
    case -EKEYREJECTED:
        return "its signature does not match";
    case -EIO:
        return "its signature could not be checked";
    default:
        return "it is malformed";
    }
}

/* Decodes 'token_text' and checks it against the user's state, from the
 * cache when 'use_cache'.  On success fills '*ret_token' and
 * '*ret_state'.  A refusal is ERROR_UNAUTHORIZED "Token refused: ...". */
static struct error *
identity_service_check(struct identity_service *service,
                       const char *token_text, bool use_cache,
                       struct identity_token *ret_token,
                       struct identity_token_state *ret_state)
{
    struct identity_token token;
    struct identity_token_state state = { 0 };
    struct error *error;
    const char *refusal;
    const char *project_key;
    int64_t now;
    bool cached = false;
    int retval;

    identity_token_init(&token);
    retval = identity_token_decode(service->key, token_text, time_now_ms(),
                                   &token);
    if (retval) {
        return error_new(ERROR_UNAUTHORIZED, "Token refused: %s",
                         identity_service_decode_reason(retval));
    }

    project_key = token.project_id ? token.project_id : "";
    now = time_monotonic_ms();
    if (use_cache) {
        cached = identity_cache_get(service, token.user_id, project_key, now,
                                    &state);
    }
    if (!cached) {
        error = identity_service_read_state(service, &token, &state);
        if (error) {
            identity_token_destroy(&token);
            return error;
        }
        if (use_cache) {
            identity_cache_put(service, token.user_id, project_key, now,
                               &state);
        }
    }

    refusal = identity_service_refusal(&token, &state);
    if (refusal && cached) {
        /* The cache may only delay a revocation, never an acceptance (a
         * token issued after a password change or a re-enable). */
        pthread_mutex_lock(&service->cache_mutex);
        service->stats.n_rechecks++;
        pthread_mutex_unlock(&service->cache_mutex);
        identity_token_state_destroy(&state);
        error = identity_service_read_state(service, &token, &state);
        if (error) {
            identity_token_destroy(&token);
            return error;
        }
        identity_cache_put(service, token.user_id, project_key,
                           time_monotonic_ms(), &state);
        refusal = identity_service_refusal(&token, &state);
    }
    if (refusal) {
        identity_token_destroy(&token);
        identity_token_state_destroy(&state);
        return error_new(ERROR_UNAUTHORIZED, "Token refused: %s", refusal);
    }
    *ret_token = token;
    *ret_state = state;
    return NULL;
}

struct error *
identity_service_validate(struct identity_service *service,
                          const char *token_text, bool require_project,
                          struct http_auth *ret_auth)
{
    struct identity_token token;
    struct identity_token_state state;
    struct error *error;

    error = identity_service_check(service, token_text, true, &token,
                                   &state);
    if (error) {
        return error;
    }
    if (require_project && !token.project_id) {
        identity_token_destroy(&token);
        identity_token_state_destroy(&state);
        return error_new(ERROR_UNAUTHORIZED, "Token refused: it is not "
                         "scoped to a project");
    }

    ret_auth->user_id = xstrdup(token.user_id);
    ret_auth->user_name = TAKE_PTR(state.user_name);
    ret_auth->user_domain_id = xstrdup(IDENTITY_DOMAIN_ID);
    if (token.project_id) {
        ret_auth->project_id = xstrdup(token.project_id);
        ret_auth->project_name = TAKE_PTR(state.project_name);
        ret_auth->project_domain_id = xstrdup(IDENTITY_DOMAIN_ID);
    }
    ret_auth->roles = TAKE_PTR(token.roles);
    ret_auth->n_roles = token.n_roles;
    token.n_roles = 0;
    ret_auth->expires_at_ms = token.expires_at_ms;
    ret_auth->is_admin = policy_is_admin(ret_auth);

    identity_token_destroy(&token);
    identity_token_state_destroy(&state);
    return NULL;
}

struct error *
identity_service_show_token(struct identity_service *service,
                            const char *token_text,
                            struct identity_token_info *ret_info)
{
    struct identity_token_info info = { 0 };
    struct identity_token_state state;
    struct error *error;
    struct db *db;

    error = identity_service_check(service, token_text, false, &info.token,
                                   &state);
    if (error) {
        if (error_kind(error) == ERROR_UNAUTHORIZED) {
            LOG_DBG("%s", error_message(error));
            error_free(error);
            return error_new(ERROR_NOT_FOUND, "Failed to validate token");
        }
        return error;
    }
    info.token_id = xstrdup(token_text);
    info.user_name = TAKE_PTR(state.user_name);
    info.project_name = TAKE_PTR(state.project_name);
    identity_token_state_destroy(&state);

    info.n_roles = info.token.n_roles;
    info.roles = xcalloc(info.n_roles ? info.n_roles : 1,
                         sizeof *info.roles);
    error = identity_service_db(service, &db);
    if (!error) {
        error = identity_store_roles_by_name(
            db, (const char *const *) info.token.roles, info.n_roles,
            info.roles);
    }
    if (error) {
        identity_token_info_destroy(&info);
        return error;
    }
    *ret_info = info;
    return NULL;
}

/* ---- Authentication -------------------------------------------------- */

/* Logs why 'credentials' were refused and returns the one error every
 * refusal gets. */
static struct error * PRINTF_FMT(3, 4)
identity_service_refuse(const struct log_ctx *log_ctx,
                        const struct identity_credentials *credentials,
                        const char *fmt, ...)
{
    AUTOFREE char *reason = NULL;
    va_list args;

    va_start(args, fmt);
    reason = xvasprintf(fmt, args);
    va_end(args);
    LOG_INFO_CTX(log_ctx, "Authentication of user '%s' refused: %s",
                 credentials->user_id ? credentials->user_id
                 : credentials->user_name ? credentials->user_name : "",
                 reason);
    return error_new(ERROR_UNAUTHORIZED, IDENTITY_UNAUTHORIZED_MESSAGE);
}

/* Finds the user of 'credentials' and checks its password.  Every path
 * spends one password hash. */
static struct error *
identity_service_check_password(struct db *db,
                                const struct identity_credentials *c,
                                const struct log_ctx *log_ctx,
                                struct identity_user *ret_user)
{
    struct identity_user user = { 0 };
    struct error *error;
    int retval;

    error = identity_store_user_get(db, c->user_id, c->user_name, &user);
    if (error) {
        if (error_kind(error) != ERROR_NOT_FOUND) {
            return error;
        }
        error_free(error);
        identity_password_verify_dummy(c->password);
        return identity_service_refuse(log_ctx, c, "no such user");
    }
    if (!user.password_hash) {
        identity_password_verify_dummy(c->password);
        identity_user_destroy(&user);
        return identity_service_refuse(log_ctx, c, "the user has no "
                                       "password");
    }
    retval = identity_password_verify(c->password, user.password_hash);
    if (retval == -EINVAL || retval == -EPROTONOSUPPORT) {
        LOG_ERR_CTX(log_ctx, "The stored password hash of user '%s' is "
                    "unusable (%s): reset the password with "
                    "'nova-manage user set-password'", user.name,
                    retval == -EINVAL ? "malformed" : "unknown scheme");
    }
    if (retval) {
        identity_user_destroy(&user);
        return identity_service_refuse(log_ctx, c, "wrong password");
    }
    if (!user.enabled) {
        identity_user_destroy(&user);
        return identity_service_refuse(log_ctx, c, "the user is disabled");
    }

    if (identity_password_needs_rehash(user.password_hash)) {
        AUTOFREE char *hash = NULL;

        error = identity_password_hash(c->password, &hash);
        if (!error) {
            error = identity_store_user_rehash(db, user.id,
                                               user.password_hash, hash);
        }
        if (error) {
            LOG_WARN_CTX(log_ctx, "Cannot update the password hash of user "
                         "'%s', ignoring: %s", user.name,
                         error_message(error));
            error_free(error);
        }
    }
    *ret_user = user;
    return NULL;
}

/* Finds the project the token will be scoped to: the one asked for, else
 * the user's default project if it is usable.  Stores an empty project
 * (NULL id) for an unscoped token. */
static struct error *
identity_service_scope(struct db *db, const struct identity_credentials *c,
                       const struct identity_user *user,
                       const struct log_ctx *log_ctx,
                       struct identity_project *ret_project)
{
    struct identity_project project = { 0 };
    bool asked = c->project_id || c->project_name;
    struct error *error;

    if (!asked && !user->default_project_id) {
        *ret_project = project;
        return NULL;
    }
    error = identity_store_project_get(db, asked ? c->project_id
                                              : user->default_project_id,
                                       c->project_name, &project);
    if (error) {
        if (error_kind(error) != ERROR_NOT_FOUND) {
            return error;
        }
        error_free(error);
        if (!asked) {
            /* As Keystone: an unusable default project gives an
             * unscoped token. */
            *ret_project = project;
            return NULL;
        }
        return identity_service_refuse(log_ctx, c, "no such project '%s'",
                                       c->project_id ? c->project_id
                                                     : c->project_name);
    }
    if (!project.enabled) {
        identity_project_destroy(&project);
        if (!asked) {
            *ret_project = project;
            return NULL;
        }
        return identity_service_refuse(log_ctx, c, "project '%s' is "
                                       "disabled", c->project_id
                                       ? c->project_id : c->project_name);
    }
    *ret_project = project;
    return NULL;
}

struct error *
identity_service_authenticate(struct identity_service *service,
                              const struct identity_credentials *c,
                              const struct log_ctx *log_ctx,
                              struct identity_token_info *ret_info)
{
    struct identity_token_info info = { 0 };
    struct identity_user user = { 0 };
    struct identity_project project = { 0 };
    struct error *error;
    struct db *db;

    error = identity_service_db(service, &db);
    if (error) {
        return error_wrap(error, "Cannot authenticate");
    }
    error = identity_service_check_password(db, c, log_ctx, &user);
    if (!error) {
        error = identity_service_scope(db, c, &user, log_ctx, &project);
    }
    if (!error && project.id) {
        error = identity_store_user_roles(db, user.id, project.id,
                                          &info.roles, &info.n_roles);
        if (!error && !info.n_roles) {
            error = identity_service_refuse(log_ctx, c, "the user has no "
                                            "role on project '%s'",
                                            project.name);
        }
    }
    if (error) {
        identity_user_destroy(&user);
        identity_project_destroy(&project);
        identity_token_info_destroy(&info);
        return error;
    }

    if (info.n_roles > IDENTITY_TOKEN_MAX_ROLES) {
        LOG_WARN_CTX(log_ctx, "User '%s' has %zu roles on project '%s': "
                     "the token carries the first %d", user.name,
                     info.n_roles, project.name, IDENTITY_TOKEN_MAX_ROLES);
        for (size_t i = IDENTITY_TOKEN_MAX_ROLES; i < info.n_roles; i++) {
            identity_role_destroy(&info.roles[i]);
        }
        info.n_roles = IDENTITY_TOKEN_MAX_ROLES;
    }

    identity_token_init(&info.token);
    info.token.user_id = xstrdup(user.id);
    info.token.project_id = xstrdup_or_null(project.id);
    for (size_t i = 0; i < info.n_roles; i++) {
        identity_token_add_role(&info.token, info.roles[i].name);
    }
    identity_token_add_method(&info.token, IDENTITY_METHOD_PASSWORD);
    identity_token_new_audit_id(&info.token);
    info.token.issued_at_ms = time_now_ms();
    info.token.expires_at_ms = info.token.issued_at_ms
                               + service->expiration_ms;
    info.token.revocation = user.revocation;
    info.token_id = identity_token_encode(service->key, &info.token);
    info.user_name = TAKE_PTR(user.name);
    info.project_name = TAKE_PTR(project.name);

    LOG_INFO_CTX(log_ctx, "Issued a token to user '%s' (%s) for project "
                 "'%s'", info.user_name, user.id,
                 info.project_name ? info.project_name : "(unscoped)");
    identity_user_destroy(&user);
    identity_project_destroy(&project);
    *ret_info = info;
    return NULL;
}
