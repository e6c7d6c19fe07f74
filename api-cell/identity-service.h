/* identity-service.h: password authentication and token validation.
 *
 * The identity service of nova-api: it issues tokens for a user name (or
 * id) and password (identity-token.h says what a token holds) and
 * validates them on every authenticated API request.  The HTTP side is in
 * identity-api.h; the tables in identity-store.h.
 *
 * Validation is fast: the signature and expiry are checked without the
 * database, and the rest ("the token dies with its user": the user still
 * exists, is enabled and has the token's revocation counter; the project
 * still exists and is enabled) comes from a small cache of user and
 * project state, filled from the database at most once per
 * IDENTITY_CACHE_TTL_MS per (user, project).  That is the revocation
 * delay: disabling or deleting a user, changing its password, removing one
 * of its roles or deleting its project takes effect within
 * IDENTITY_CACHE_TTL_MS on every nova-api.  The cache never delays the
 * other way: a token the cached state would refuse is checked again
 * against the database, so a token issued right after a password change
 * or a re-enable is accepted at once.
 *
 * Threads and connections: every function may be called from any number
 * of threads at once (libmicrohttpd's pool).  The cache is guarded by one
 * mutex, held only to copy an entry in or out.  'struct db' connections
 * are not thread-safe, so the service gives each thread its own
 * connection to the API database, opened on the thread's first database
 * access and kept in thread-local storage (a pthread key) until the
 * thread exits; the service also tracks them so that
 * identity_service_free() closes those of threads still alive (the main
 * thread's).  Free the service only once no other thread uses it any
 * more (after the HTTP server has stopped). */
#ifndef NOVA_IDENTITY_SERVICE_H
#define NOVA_IDENTITY_SERVICE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "shared/compiler.h"
#include "shared/cleanup.h"
#include "shared/config.h"
#include "api-cell/identity-token.h"

struct db;
struct error;
struct http_auth;
struct identity_role;
struct log_ctx;

/* How long the state of a user (and project) is trusted after it was
 * read from the database: the revocation delay. */
#define IDENTITY_CACHE_TTL_MS 5000

/* Entries of the validation cache (direct-mapped: a (user, project) pair
 * has one slot; two pairs that share one take turns). */
#define IDENTITY_CACHE_SLOTS 1024

/* Token lifetime: default and bounds, in seconds. */
#define IDENTITY_TOKEN_EXPIRATION_DEFAULT 3600
#define IDENTITY_TOKEN_EXPIRATION_MIN 60
#define IDENTITY_TOKEN_EXPIRATION_MAX (7 * 24 * 3600)

/* The region of every endpoint in the service catalog, by default. */
#define IDENTITY_REGION_DEFAULT "RegionOne"

/* What 401 says, word for word as Keystone. */
#define IDENTITY_UNAUTHORIZED_MESSAGE \
    "The request you have made requires authentication."

/* The identity keys of nova.yaml. */
struct identity_config {
    char *token_secret;         /* identity.token_secret */
    long long token_expiration; /* identity.token_expiration, seconds */
    char *public_endpoint;      /* identity.public_endpoint, or NULL */
    char *region;               /* identity.region */
};

#define IDENTITY_TOKEN_EXPIRATION_DEFAULT_STR "3600"

/* For a program's key table, with 'MEMBER' its 'struct identity_config'
 * (see DAEMON_COMMON_KEYS in daemon.h). */
#define IDENTITY_CONFIG_KEYS(TYPE, MEMBER)                                \
    { "identity.token_secret", CONFIG_TYPE_STRING,                        \
      offsetof(TYPE, MEMBER.token_secret), NULL, 0, 0, NULL,              \
      "Secret that signs identity tokens, at least 32 bytes, the same "   \
      "on every nova-api (make one with 'openssl rand -base64 48'); "     \
      "required" },                                                       \
    { "identity.token_expiration", CONFIG_TYPE_INT,                       \
      offsetof(TYPE, MEMBER.token_expiration),                            \
      IDENTITY_TOKEN_EXPIRATION_DEFAULT_STR,                              \
      IDENTITY_TOKEN_EXPIRATION_MIN, IDENTITY_TOKEN_EXPIRATION_MAX, NULL, \
      "Seconds an identity token stays valid" },                          \
    { "identity.public_endpoint", CONFIG_TYPE_STRING,                     \
      offsetof(TYPE, MEMBER.public_endpoint), NULL, 0, 0, NULL,           \
      "Base URL of this API in the service catalog (http://HOST:PORT); "  \
      "when unset, built from the request's Host header" },               \
    { "identity.region", CONFIG_TYPE_STRING,                              \
      offsetof(TYPE, MEMBER.region), IDENTITY_REGION_DEFAULT, 0, 0, NULL, \
      "Region of the endpoints in the service catalog" }

struct identity_service;

/* Creates the service from 'cfg' (copied) for the API database at
 * 'db_url' (copied; nothing is opened yet).  Fails with ERROR_INVALID,
 * saying how to fix it, when the token secret is missing or unfit, or the
 * expiration is out of range.  The caller frees the result with
 * identity_service_free(). */
struct error *identity_service_new(const struct identity_config *cfg,
                                   const char *db_url,
                                   struct identity_service **ret_service)
    WARN_UNUSED;

/* Closes the connections the service still tracks and frees it.  Accepts
 * NULL.  See the note on threads above. */
void identity_service_free(struct identity_service *);
DEFINE_FREEP(struct identity_service, identity_service_free)

/* The configured public endpoint (NULL when unset) and region. */
const char *identity_service_public_endpoint(const struct identity_service *);
const char *identity_service_region(const struct identity_service *);

/* Stores the calling thread's connection to the API database in '*ret_db'
 * (borrowed: it belongs to the thread), opening it on first use.  Fails
 * with the error of db_open() (ERROR_UNAVAILABLE when the server is
 * down); the next call tries again. */
struct error *identity_service_db(struct identity_service *,
                                  struct db **ret_db) WARN_UNUSED;

/* Password credentials and the scope asked for. */
struct identity_credentials {
    const char *user_id;        /* the user by id, or ... */
    const char *user_name;      /* ... by name (domain "Default") */
    const char *password;
    const char *project_id;     /* the scope by id, or ... */
    const char *project_name;   /* ... by name; neither: the user's
                                 * default project, else unscoped */
};

/* A token and what its body shows.  Every pointer is owned. */
struct identity_token_info {
    char *token_id;             /* the token text (X-Subject-Token) */
    struct identity_token token;
    char *user_name;
    char *project_name;         /* NULL when unscoped */
    struct identity_role *roles;    /* ids and names */
    size_t n_roles;
};

/* Frees what '*info' owns and zeroes it.  Accepts NULL. */
void identity_token_info_destroy(struct identity_token_info *info);

/* Checks 'credentials' and issues a token for them, filling '*ret_info'
 * (the caller destroys it).  Every refusal (unknown user, wrong password,
 * disabled user, unknown or disabled project, no role on it) is
 * ERROR_UNAUTHORIZED with IDENTITY_UNAUTHORIZED_MESSAGE; the reason is
 * logged at INFO with 'log_ctx' (may be NULL), never sent.  Takes as long
 * as one password hash whether the user exists or not.  Other failures
 * (database down) keep their kind. */
struct error *identity_service_authenticate(
    struct identity_service *, const struct identity_credentials *,
    const struct log_ctx *log_ctx, struct identity_token_info *ret_info)
    WARN_UNUSED;

/* Validates 'token_text' for an API request and fills '*ret_auth' (zeroed
 * by the caller; strings xstrdup'ed) with the user, project, roles,
 * is_admin (the admin role) and expiry.  Unscoped tokens are refused when
 * 'require_project' is true (the compute API acts on a project).  Returns
 * ERROR_UNAUTHORIZED, with the reason, for a token that is malformed,
 * forged, expired or revoked; another kind when the state could not be
 * read (ERROR_UNAVAILABLE: database down). */
struct error *identity_service_validate(struct identity_service *,
                                        const char *token_text,
                                        bool require_project,
                                        struct http_auth *ret_auth)
    WARN_UNUSED;

/* Validates 'token_text' like identity_service_validate() (without the
 * cache: the answer is always current) and fills '*ret_info' with what
 * GET /v3/auth/tokens shows: names and role ids.  ERROR_NOT_FOUND for a
 * token that is not valid (Keystone answers 404 there). */
struct error *identity_service_show_token(struct identity_service *,
                                          const char *token_text,
                                          struct identity_token_info
                                          *ret_info) WARN_UNUSED;

/* Forgets every cached state, so that the next validation of each token
 * reads the database (tests, and an operator who cannot wait). */
void identity_service_flush_cache(struct identity_service *);

/* Counters of the validation cache since the service was made. */
struct identity_cache_stats {
    uint64_t n_hits;            /* answered from the cache */
    uint64_t n_misses;          /* read from the database */
    uint64_t n_rechecks;        /* refusals checked again in the DB */
};
void identity_service_get_stats(struct identity_service *,
                                struct identity_cache_stats *ret_stats);

#endif /* NOVA_IDENTITY_SERVICE_H */
