/* identity-token.c: encoding, signing and checking identity tokens.
 *
 * The MAC covers the base64url text of the payload, not the decoded bytes,
 * so the check runs on exactly what the client sent; base64 decoding is
 * strict (identity-base64.h), so a token has one text form only. */
#include <config.h>

#include "api-cell/identity-token.h"

#include <assert.h>
#include <errno.h>
#include <string.h>
#include <json-c/json.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "api-cell/identity-base64.h"
#include "shared/error.h"
#include "shared/json-util.h"
#include "shared/timeutil.h"
#include "shared/xalloc.h"

#define IDENTITY_TOKEN_MAC_SIZE 32          /* HMAC-SHA256 */
#define IDENTITY_TOKEN_SEP '.'
/* Random bytes of an audit id: 16, as Keystone's (22 base64url chars). */
#define IDENTITY_TOKEN_AUDIT_ID_BYTES 16
/* Nesting of the payload: an object holding arrays. */
#define IDENTITY_TOKEN_MAX_DEPTH 3

struct identity_token_key {
    unsigned char *secret;
    size_t size;
};

void
identity_token_init(struct identity_token *token)
{
    memset(token, 0, sizeof *token);
}

static void
identity_token_free_list(char **list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(list[i]);
    }
    free(list);
}

void
identity_token_destroy(struct identity_token *token)
{
    if (!token) {
        return;
    }
    free(token->user_id);
    free(token->project_id);
    identity_token_free_list(token->roles, token->n_roles);
    identity_token_free_list(token->methods, token->n_methods);
    free(token->audit_id);
    identity_token_init(token);
}

static void
identity_token_append(char ***list, size_t *n, const char *s)
{
    *list = xreallocarray(*list, *n + 1, sizeof **list);
    (*list)[(*n)++] = xstrdup(s);
}

void
identity_token_add_role(struct identity_token *token, const char *role)
{
    identity_token_append(&token->roles, &token->n_roles, role);
}

void
identity_token_add_method(struct identity_token *token, const char *method)
{
    identity_token_append(&token->methods, &token->n_methods, method);
}

void
identity_token_new_audit_id(struct identity_token *token)
{
    unsigned char bytes[IDENTITY_TOKEN_AUDIT_ID_BYTES];

    if (RAND_bytes(bytes, sizeof bytes) != 1) {
        /* OpenSSL's generator does not fail once it is seeded, and
         * nothing in this process would be safe if it did. */
        abort();
    }
    free(token->audit_id);
    token->audit_id = identity_base64_encode(IDENTITY_BASE64_URL, bytes,
                                             sizeof bytes);
}

/* ---- Keys ------------------------------------------------------------ */

struct error *
identity_token_key_new(const char *secret,
                       struct identity_token_key **ret_key)
{
    static const char how[] = "generate one with 'openssl rand -base64 48' "
                              "and set identity.token_secret";
    struct identity_token_key *key;
    size_t size = secret ? strlen(secret) : 0;

    if (!size) {
        return error_new(ERROR_INVALID, "No token secret is configured: %s",
                         how);
    }
    if (size < IDENTITY_TOKEN_SECRET_MIN_SIZE) {
        return error_new(ERROR_INVALID, "The token secret is too short (%zu "
                         "bytes, at least %d are needed): %s", size,
                         IDENTITY_TOKEN_SECRET_MIN_SIZE, how);
    }
    if (size > IDENTITY_TOKEN_SECRET_MAX_SIZE) {
        return error_new(ERROR_INVALID, "The token secret is longer than %d "
                         "bytes", IDENTITY_TOKEN_SECRET_MAX_SIZE);
    }
    key = xmalloc(sizeof *key);
    key->secret = xmalloc(size);
    memcpy(key->secret, secret, size);
    key->size = size;
    *ret_key = key;
    return NULL;
}

void
identity_token_key_free(struct identity_token_key *key)
{
    if (key) {
        OPENSSL_cleanse(key->secret, key->size);
        free(key->secret);
        free(key);
    }
}

/* Computes the MAC of the 'size' bytes at 'data'.  Returns 0 or -EIO. */
static int
identity_token_mac(const struct identity_token_key *key, const char *data,
                   size_t size, unsigned char out[IDENTITY_TOKEN_MAC_SIZE])
{
    unsigned int out_size = 0;

    if (!HMAC(EVP_sha256(), key->secret, (int) key->size,
              (const unsigned char *) data, size, out, &out_size)
        || out_size != IDENTITY_TOKEN_MAC_SIZE) {
        return -EIO;
    }
    return 0;
}

/* ---- Encoding -------------------------------------------------------- */

static struct json_object *
identity_token_list_to_json(char **list, size_t n)
{
    struct json_object *array = json_object_new_array();

    for (size_t i = 0; i < n; i++) {
        assert(strlen(list[i]) <= IDENTITY_TOKEN_MAX_NAME_LENGTH);
        json_object_array_add(array, json_object_new_string(list[i]));
    }
    return array;
}

char *
identity_token_encode(const struct identity_token_key *key,
                      const struct identity_token *token)
{
    CLEANUP(json_putp) struct json_object *payload = NULL;
    unsigned char mac[IDENTITY_TOKEN_MAC_SIZE];

    assert(token->user_id);
    assert(strlen(token->user_id) <= IDENTITY_TOKEN_MAX_ID_LENGTH);
    assert(!token->project_id
           || strlen(token->project_id) <= IDENTITY_TOKEN_MAX_ID_LENGTH);
    assert(!token->audit_id
           || strlen(token->audit_id) <= IDENTITY_TOKEN_MAX_ID_LENGTH);
    assert(token->n_roles <= IDENTITY_TOKEN_MAX_ROLES);
    assert(token->n_methods <= IDENTITY_TOKEN_MAX_METHODS);
    assert(token->revocation <= INT64_MAX);

    payload = json_object_new_object();
    json_object_object_add(payload, "v", json_object_new_int(
                               IDENTITY_TOKEN_FORMAT_VERSION));
    json_object_object_add(payload, "u",
                           json_object_new_string(token->user_id));
    if (token->project_id) {
        json_object_object_add(payload, "p",
                               json_object_new_string(token->project_id));
    }
    json_object_object_add(payload, "r", identity_token_list_to_json(
                               token->roles, token->n_roles));
    json_object_object_add(payload, "m", identity_token_list_to_json(
                               token->methods, token->n_methods));
    if (token->audit_id) {
        json_object_object_add(payload, "a",
                               json_object_new_string(token->audit_id));
    }
    json_object_object_add(payload, "iat",
                           json_object_new_int64(token->issued_at_ms));
    json_object_object_add(payload, "exp",
                           json_object_new_int64(token->expires_at_ms));
    json_object_object_add(payload, "rev", json_object_new_int64(
                               (int64_t) token->revocation));

    AUTOFREE char *text = json_to_string_plain(payload);
    AUTOFREE char *text64 = identity_base64_encode(IDENTITY_BASE64_URL, text,
                                                   strlen(text));
    if (identity_token_mac(key, text64, strlen(text64), mac)) {
        /* HMAC-SHA256 with a valid key does not fail short of a broken
         * OpenSSL installation. */
        abort();
    }
    AUTOFREE char *mac64 = identity_base64_encode(IDENTITY_BASE64_URL, mac,
                                                  sizeof mac);
    return xasprintf("%s%c%s", text64, IDENTITY_TOKEN_SEP, mac64);
}

/* ---- Decoding -------------------------------------------------------- */

/* Reads the string list 'field' of 'payload' into '*list'/'*n'. */
static int
identity_token_list_from_json(const struct json_object *payload,
                              const char *field, size_t max_items,
                              char ***list, size_t *n)
{
    struct json_object *array;
    struct error *error;

    error = json_get_array(payload, NULL, field, true, max_items, &array);
    for (size_t i = 0; !error && i < json_object_array_length(array); i++) {
        const char *s;

        error = json_get_string(json_object_array_get_idx(array, i), field,
                                NULL, true, IDENTITY_TOKEN_MAX_NAME_LENGTH,
                                &s);
        if (!error) {
            identity_token_append(list, n, s);
        }
    }
    if (error) {
        error_free(error);
        return -EINVAL;
    }
    return 0;
}

/* Reads string 'field' of 'payload' (at most IDENTITY_TOKEN_MAX_ID_LENGTH
 * characters, not empty) into a new string in '*ret'. */
static int
identity_token_id_from_json(const struct json_object *payload,
                            const char *field, bool required, char **ret)
{
    const char *s = NULL;
    struct error *error;

    error = json_get_string(payload, NULL, field, required,
                            IDENTITY_TOKEN_MAX_ID_LENGTH, &s);
    if (error) {
        error_free(error);
        return -EINVAL;
    }
    if (s) {
        if (!*s) {
            return -EINVAL;
        }
        *ret = xstrdup(s);
    }
    return 0;
}

static int
identity_token_int_from_json(const struct json_object *payload,
                             const char *field, long long min,
                             long long max, long long *ret)
{
    struct error *error = json_get_int(payload, NULL, field, true, min, max,
                                       ret);

    if (error) {
        error_free(error);
        return -EINVAL;
    }
    return 0;
}

/* Fills '*token' from the JSON text 'text' of 'size' bytes. */
static int
identity_token_parse_payload(const char *text, size_t size,
                             struct identity_token *token)
{
    static const char *const allowed[] = {
        "v", "u", "p", "r", "m", "a", "iat", "exp", "rev", NULL
    };
    CLEANUP(json_putp) struct json_object *payload = NULL;
    struct json_object *object;
    struct error *error;
    long long version, iat, exp, rev;

    error = json_parse_text(text, size, IDENTITY_TOKEN_MAX_SIZE,
                            IDENTITY_TOKEN_MAX_DEPTH, &payload);
    if (!error) {
        error = json_get_object(payload, NULL, NULL, true, &object);
    }
    if (!error) {
        error = json_check_allowed_keys(payload, NULL, allowed);
    }
    if (error) {
        error_free(error);
        return -EINVAL;
    }
    if (identity_token_int_from_json(payload, "v", 0, INT32_MAX, &version)
        || version != IDENTITY_TOKEN_FORMAT_VERSION
        || identity_token_id_from_json(payload, "u", true, &token->user_id)
        || identity_token_id_from_json(payload, "p", false,
                                       &token->project_id)
        || identity_token_id_from_json(payload, "a", false,
                                       &token->audit_id)
        || identity_token_list_from_json(payload, "r",
                                         IDENTITY_TOKEN_MAX_ROLES,
                                         &token->roles, &token->n_roles)
        || identity_token_list_from_json(payload, "m",
                                         IDENTITY_TOKEN_MAX_METHODS,
                                         &token->methods,
                                         &token->n_methods)
        || identity_token_int_from_json(payload, "iat", 0, TIME_MAX_MS,
                                        &iat)
        || identity_token_int_from_json(payload, "exp", 0, TIME_MAX_MS,
                                        &exp)
        || identity_token_int_from_json(payload, "rev", 0,
                                        INT64_MAX / 2, &rev)) {
        return -EINVAL;
    }
    token->issued_at_ms = iat;
    token->expires_at_ms = exp;
    token->revocation = (uint64_t) rev;
    return 0;
}

int
identity_token_decode(const struct identity_token_key *key,
                      const char *text, int64_t now_ms,
                      struct identity_token *ret_token)
{
    unsigned char mac[IDENTITY_TOKEN_MAC_SIZE];
    AUTOFREE void *given_mac = NULL;
    AUTOFREE void *payload = NULL;
    size_t given_mac_size, payload_size;
    struct identity_token token;
    const char *sep;
    size_t length;
    int retval;

    length = strnlen(text, IDENTITY_TOKEN_MAX_SIZE + 1);
    if (length > IDENTITY_TOKEN_MAX_SIZE) {
        return -EINVAL;
    }
    sep = strchr(text, IDENTITY_TOKEN_SEP);
    if (!sep || sep == text) {
        return -EINVAL;
    }
    if (identity_base64_decode(IDENTITY_BASE64_URL, sep + 1,
                               length - (size_t) (sep + 1 - text),
                               &given_mac, &given_mac_size)
        || given_mac_size != IDENTITY_TOKEN_MAC_SIZE) {
        return -EINVAL;
    }
    if (identity_token_mac(key, text, (size_t) (sep - text), mac)) {
        return -EIO;
    }
    if (CRYPTO_memcmp(mac, given_mac, sizeof mac)) {
        return -EKEYREJECTED;
    }

    /* The payload is ours from here on: a failure below means a bug or a
     * change of format, not an attack. */
    if (identity_base64_decode(IDENTITY_BASE64_URL, text,
                               (size_t) (sep - text), &payload,
                               &payload_size)) {
        return -EINVAL;
    }
    identity_token_init(&token);
    retval = identity_token_parse_payload(payload, payload_size, &token);
    if (retval) {
        identity_token_destroy(&token);
        return retval;
    }
    if (now_ms >= token.expires_at_ms) {
        identity_token_destroy(&token);
        return -EKEYEXPIRED;
    }
    *ret_token = token;
    return 0;
}
