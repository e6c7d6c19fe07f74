/* identity-token.h: signed, self-contained identity tokens.
 *
 * A token is
 *
 *     P "." base64url(HMAC-SHA256(secret, P))    with P = base64url(payload)
 *
 * where the payload is a small JSON object:
 *
 *     {"v":1,"u":"<user id>","p":"<project id>","r":["admin","member"],
 *      "m":["password"],"a":"<audit id>","iat":<ms>,"exp":<ms>,"rev":<n>}
 *
 * ("p" is absent from an unscoped token).  Tokens are signed, not
 * encrypted: whoever holds one can read these ids and role names (as with
 * a JWT), so nothing secret goes in.  Everything needed to trust the
 * token is in it: the signature and the expiry are checked here, with no
 * database.  The identity service (identity-auth.h) adds the check that
 * the user still exists, is enabled and has the same revocation counter
 * "rev" (bumped when the user is disabled or its password changes), so a
 * token dies with its user.
 *
 * The secret comes from the configuration key identity.token_secret; it
 * must be at least IDENTITY_TOKEN_SECRET_MIN_SIZE bytes.  Generate one with
 *
 *     openssl rand -base64 48
 *
 * and give every nova-api of the cloud the same one.  Changing it
 * invalidates every token at once.
 *
 * Everything here is pure and thread-safe: a key is read-only once
 * made. */
#ifndef NOVA_IDENTITY_TOKEN_H
#define NOVA_IDENTITY_TOKEN_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "shared/compiler.h"
#include "shared/cleanup.h"

struct error;

/* Shortest secret accepted, in bytes. */
#define IDENTITY_TOKEN_SECRET_MIN_SIZE 32
/* Longest secret accepted, in bytes. */
#define IDENTITY_TOKEN_SECRET_MAX_SIZE 1024

/* Longest token text accepted for decoding, in bytes: anything longer is
 * refused before any work. */
#define IDENTITY_TOKEN_MAX_SIZE 2048

/* Limits on what a token carries. */
#define IDENTITY_TOKEN_MAX_ROLES 16
#define IDENTITY_TOKEN_MAX_METHODS 4
#define IDENTITY_TOKEN_MAX_ID_LENGTH 64     /* user, project, audit ids */
#define IDENTITY_TOKEN_MAX_NAME_LENGTH 64   /* role and method names */

/* The payload format version written in "v". */
#define IDENTITY_TOKEN_FORMAT_VERSION 1

/* What a token says.  Every string is owned by the struct. */
struct identity_token {
    char *user_id;
    char *project_id;           /* NULL: unscoped */
    char **roles;               /* role names on the project */
    size_t n_roles;
    char **methods;             /* "password" */
    size_t n_methods;
    char *audit_id;             /* Keystone's audit_ids[0]: random, and
                                 * the same for every validation */
    int64_t issued_at_ms;       /* ms since the epoch */
    int64_t expires_at_ms;
    uint64_t revocation;        /* the user's revocation counter */
};

/* Zeroes '*token'. */
void identity_token_init(struct identity_token *token);
/* Frees what '*token' owns and zeroes it.  Accepts NULL. */
void identity_token_destroy(struct identity_token *token);
/* Appends copies of a role or method name. */
void identity_token_add_role(struct identity_token *token,
                             const char *role);
void identity_token_add_method(struct identity_token *token,
                               const char *method);
/* Sets 'audit_id' to a new random id (22 characters, as Keystone's). */
void identity_token_new_audit_id(struct identity_token *token);

/* The signing key. */
struct identity_token_key;

/* Makes a key from the configured secret 'secret' (its bytes, as
 * written).  Returns ERROR_INVALID for a missing, short or long secret,
 * with a message that says how to make one; on success stores a new key,
 * freed with identity_token_key_free(), in '*ret_key'. */
struct error *identity_token_key_new(const char *secret,
                                     struct identity_token_key **ret_key)
    WARN_UNUSED;
/* Wipes and frees 'key'.  Accepts NULL. */
void identity_token_key_free(struct identity_token_key *key);
DEFINE_FREEP(struct identity_token_key, identity_token_key_free)

/* Returns the signed text of 'token', which the caller frees.  The token
 * must have a user id, at most IDENTITY_TOKEN_MAX_ROLES roles and
 * IDENTITY_TOKEN_MAX_METHODS methods and ids within their limits (a bug
 * otherwise: checked with assertions). */
char *identity_token_encode(const struct identity_token_key *key,
                            const struct identity_token *token);

/* Checks the signature and expiry of the token text 'text' at time
 * 'now_ms' and fills '*ret_token' (which the caller destroys) with what
 * it says.  Returns
 *     0               valid
 *     -EINVAL         not a token: malformed, truncated, too long
 *     -EKEYREJECTED   the signature does not match (altered, or signed
 *                     with another secret)
 *     -EKEYEXPIRED    well signed, but expired ('now_ms' >= expiry)
 *     -EIO            OpenSSL failed
 * Nothing is stored on failure.  The payload is only parsed once the
 * signature is known good, so a forged payload never reaches the JSON
 * parser. */
int identity_token_decode(const struct identity_token_key *key,
                          const char *text, int64_t now_ms,
                          struct identity_token *ret_token) WARN_UNUSED;

#endif /* NOVA_IDENTITY_TOKEN_H */
