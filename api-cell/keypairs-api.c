/* keypairs-api.c: the compute API's keypairs (see keypairs-api.h).
 *
 * Public keys are checked the way Nova's import does (it loads them with
 * the 'cryptography' library and fails with "failed to generate
 * fingerprint"): the line must be "TYPE BASE64 [COMMENT]", the base64 must
 * decode, and the decoded blob (RFC 4253 section 6.6, RFC 5656, RFC 8709)
 * must hold exactly the fields of its type, whose name must match TYPE.
 * The fingerprint is Nova's: the MD5 of the blob, as hex pairs joined by
 * ':' (what "ssh-keygen -l -E md5" prints after "MD5:").
 *
 * Generated keys are RSA 2048 as Nova's (paramiko) are: the private key in
 * traditional PEM, the public key with the comment "Generated-by-Nova". */
#include <config.h>

#include "api-cell/keypairs-api.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "api-cell/api-db.h"
#include "api-cell/compute-api.h"
#include "api-cell/http-router.h"
#include "api-cell/identity-base64.h"
#include "api-cell/keypair-db.h"
#include "api-cell/policy.h"
#include "api-cell/quota.h"
#include "shared/error.h"
#include "shared/json-util.h"
#include "shared/log.h"
#include "shared/timeutil.h"
#include "shared/xalloc.h"

LOG_MODULE("api.keypairs");

#define KEYPAIRS_API_MAX_NAME_LENGTH 255
/* Longest public key line accepted (an RSA 16384 key is about 2.8 KB). */
#define KEYPAIRS_API_MAX_KEY_SIZE 65536
#define KEYPAIRS_API_RSA_BITS 2048
#define KEYPAIRS_API_COMMENT "Generated-by-Nova"
#define KEYPAIRS_API_MD5_SIZE 16

/* ---- Names ------------------------------------------------------------ */

struct error *
keypairs_api_check_name(const char *name)
{
    size_t n = strlen(name);

    for (size_t i = 0; i < n; i++) {
        char c = name[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == ' ' || c == '_'
              || c == '-')) {
            return error_new(ERROR_INVALID, "Keypair data is invalid: "
                             "Keypair name contains unsafe characters");
        }
    }
    if (n < 1 || n > KEYPAIRS_API_MAX_NAME_LENGTH) {
        return error_new(ERROR_INVALID, "Keypair data is invalid: Keypair "
                         "name must be string and between 1 and 255 "
                         "characters long");
    }
    return NULL;
}

/* ---- Public keys ------------------------------------------------------ */

/* A cursor over an SSH wire-format blob. */
struct keypairs_blob {
    const unsigned char *p;
    size_t left;
};

/* Reads one length-prefixed string; false if the blob is too short. */
static bool
keypairs_blob_string(struct keypairs_blob *b, const unsigned char **ret,
                     size_t *ret_size)
{
    uint32_t n;

    if (b->left < 4) {
        return false;
    }
    n = ((uint32_t) b->p[0] << 24) | ((uint32_t) b->p[1] << 16)
        | ((uint32_t) b->p[2] << 8) | (uint32_t) b->p[3];
    if (n > b->left - 4) {
        return false;
    }
    *ret = b->p + 4;
    *ret_size = n;
    b->p += 4 + n;
    b->left -= 4 + n;
    return true;
}

static bool
keypairs_blob_string_is(struct keypairs_blob *b, const char *expected)
{
    const unsigned char *s;
    size_t n;

    return (keypairs_blob_string(b, &s, &n) && n == strlen(expected)
            && !memcmp(s, expected, n));
}

/* A positive mpint: non-empty, not negative. */
static bool
keypairs_blob_mpint(struct keypairs_blob *b)
{
    const unsigned char *s;
    size_t n;

    return keypairs_blob_string(b, &s, &n) && n > 0 && !(s[0] & 0x80);
}

/* True if 'blob' is a well-formed public key of type 'type'. */
static bool
keypairs_blob_valid(const char *type, const unsigned char *blob, size_t size)
{
    struct keypairs_blob b = { blob, size };
    const unsigned char *s;
    size_t n;

    if (!keypairs_blob_string_is(&b, type)) {
        return false;
    }
    if (!strcmp(type, "ssh-rsa")) {
        if (!keypairs_blob_mpint(&b) || !keypairs_blob_mpint(&b)) {
            return false;
        }
    } else if (!strcmp(type, "ssh-dss")) {
        for (int i = 0; i < 4; i++) {
            if (!keypairs_blob_mpint(&b)) {
                return false;
            }
        }
    } else if (!strcmp(type, "ssh-ed25519")) {
        if (!keypairs_blob_string(&b, &s, &n) || n != 32) {
            return false;
        }
    } else if (!strcmp(type, "ecdsa-sha2-nistp256")
               || !strcmp(type, "ecdsa-sha2-nistp384")
               || !strcmp(type, "ecdsa-sha2-nistp521")) {
        /* The curve name repeats the type's suffix; the point is an
         * uncompressed one (0x04 || X || Y). */
        if (!keypairs_blob_string_is(&b, type + strlen("ecdsa-sha2-"))
            || !keypairs_blob_string(&b, &s, &n) || n < 1 || s[0] != 4) {
            return false;
        }
    } else {
        return false;
    }
    return b.left == 0;
}

static struct error *
keypairs_api_bad_key(void)
{
    return error_new(ERROR_INVALID, "Keypair data is invalid: failed to "
                     "generate fingerprint");
}

/* "aa:bb:..." for the MD5 of 'size' bytes at 'data' (a new string), or
 * NULL if OpenSSL fails. */
static char *
keypairs_api_md5_hex(const void *data, size_t size)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    char *out;

    if (!EVP_Digest(data, size, digest, &n, EVP_md5(), NULL)
        || n != KEYPAIRS_API_MD5_SIZE) {
        return NULL;
    }
    out = xmalloc(3 * KEYPAIRS_API_MD5_SIZE);
    for (size_t i = 0; i < KEYPAIRS_API_MD5_SIZE; i++) {
        (void) snprintf(out + 3 * i, 4, "%02x%s", digest[i],
                        i + 1 < KEYPAIRS_API_MD5_SIZE ? ":" : "");
    }
    return out;
}

struct error *
keypairs_api_fingerprint(const char *public_key, char **ret)
{
    const char *p = public_key, *type, *b64;
    size_t type_len, b64_len;
    AUTOFREE char *type_str = NULL;
    AUTOFREE void *blob = NULL;
    size_t blob_size = 0;
    char *fp;

    if (strlen(public_key) > KEYPAIRS_API_MAX_KEY_SIZE) {
        return keypairs_api_bad_key();
    }
    /* "TYPE[ \t]+BASE64", then optionally blanks and a comment. */
    type = p;
    while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
        p++;
    }
    type_len = (size_t) (p - type);
    if (!type_len || (*p != ' ' && *p != '\t')) {
        return keypairs_api_bad_key();
    }
    while (*p == ' ' || *p == '\t') {
        p++;
    }
    b64 = p;
    while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
        p++;
    }
    b64_len = (size_t) (p - b64);
    if (!b64_len) {
        return keypairs_api_bad_key();
    }
    type_str = xstrndup(type, type_len);
    if (identity_base64_decode(IDENTITY_BASE64_STD, b64, b64_len, &blob,
                               &blob_size)
        || !keypairs_blob_valid(type_str, blob, blob_size)) {
        return keypairs_api_bad_key();
    }
    fp = keypairs_api_md5_hex(blob, blob_size);
    if (!fp) {
        return error_new(ERROR_INTERNAL, "Cannot compute an MD5 digest");
    }
    *ret = fp;
    return NULL;
}

/* ---- Generation ------------------------------------------------------- */

/* Reads one DER element of tag 'tag' at '*p' (within 'end'); stores its
 * contents and advances.  Only what i2d_PublicKey() writes for RSA is
 * understood. */
static bool
keypairs_der_read(const unsigned char **p, const unsigned char *end,
                  unsigned char tag, const unsigned char **ret,
                  size_t *ret_size)
{
    const unsigned char *q = *p;
    size_t n;

    if (end - q < 2 || q[0] != tag) {
        return false;
    }
    n = q[1];
    q += 2;
    if (n & 0x80) {
        size_t n_bytes = n & 0x7f;

        if (!n_bytes || n_bytes > 4 || (size_t) (end - q) < n_bytes) {
            return false;
        }
        n = 0;
        for (size_t i = 0; i < n_bytes; i++) {
            n = (n << 8) | *q++;
        }
    }
    if ((size_t) (end - q) < n) {
        return false;
    }
    *ret = q;
    *ret_size = n;
    *p = q + n;
    return true;
}

/* Appends an SSH string of 'n' bytes at 's' to 'buf' at '*pos'. */
static void
keypairs_put_string(unsigned char *buf, size_t *pos, const void *s, size_t n)
{
    buf[(*pos)++] = (unsigned char) (n >> 24);
    buf[(*pos)++] = (unsigned char) (n >> 16);
    buf[(*pos)++] = (unsigned char) (n >> 8);
    buf[(*pos)++] = (unsigned char) n;
    memcpy(buf + *pos, s, n);
    *pos += n;
}

/* The OpenSSH public key line of RSA key 'pkey' (a new string), or
 * NULL. */
static char *
keypairs_api_ssh_public(EVP_PKEY *pkey)
{
    unsigned char *der = NULL;
    const unsigned char *p, *end, *seq, *mod, *exp;
    size_t seq_size, mod_size, exp_size, pos = 0;
    AUTOFREE unsigned char *blob = NULL;
    AUTOFREE char *b64 = NULL;
    int der_size;
    char *line = NULL;

    /* PKCS #1 RSAPublicKey: SEQUENCE { INTEGER n, INTEGER e }.  A DER
     * INTEGER of a positive number is exactly an SSH mpint's bytes. */
    der_size = i2d_PublicKey(pkey, &der);
    if (der_size <= 0) {
        return NULL;
    }
    p = der;
    end = der + der_size;
    if (keypairs_der_read(&p, end, 0x30, &seq, &seq_size)) {
        const unsigned char *seq_end = seq + seq_size;

        p = seq;
        if (keypairs_der_read(&p, seq_end, 0x02, &mod, &mod_size)
            && keypairs_der_read(&p, seq_end, 0x02, &exp, &exp_size)) {
            blob = xmalloc(12 + strlen("ssh-rsa") + mod_size + exp_size);
            keypairs_put_string(blob, &pos, "ssh-rsa", strlen("ssh-rsa"));
            keypairs_put_string(blob, &pos, exp, exp_size);
            keypairs_put_string(blob, &pos, mod, mod_size);
            b64 = identity_base64_encode(IDENTITY_BASE64_STD, blob, pos);
            line = xasprintf("ssh-rsa %s %s", b64, KEYPAIRS_API_COMMENT);
        }
    }
    OPENSSL_free(der);
    return line;
}

struct error *
keypairs_api_generate(char **ret_private, char **ret_public)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, NULL);
    EVP_PKEY *pkey = NULL;
    BIO *bio = NULL;
    char *public = NULL, *private = NULL;
    char *data;
    long size;

    if (!ctx || EVP_PKEY_keygen_init(ctx) <= 0
        || EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, KEYPAIRS_API_RSA_BITS) <= 0
        || EVP_PKEY_keygen(ctx, &pkey) <= 0) {
        goto out;
    }
    public = keypairs_api_ssh_public(pkey);
    bio = BIO_new(BIO_s_mem());
    if (!public || !bio
        || !PEM_write_bio_PrivateKey_traditional(bio, pkey, NULL, NULL, 0,
                                                 NULL, NULL)) {
        goto out;
    }
    size = BIO_get_mem_data(bio, &data);
    if (size > 0) {
        private = xstrndup(data, (size_t) size);
    }

out:
    BIO_free(bio);
    EVP_PKEY_free(pkey);
    EVP_PKEY_CTX_free(ctx);
    if (!private) {
        free(public);
        return error_new(ERROR_INTERNAL, "Cannot generate an RSA key");
    }
    *ret_private = private;
    *ret_public = public;
    return NULL;
}

/* ---- Handlers --------------------------------------------------------- */

/* Checks 'action' for the caller's own keypairs and gets the database. */
static struct error *
keypairs_api_begin(struct http_request *req, void *aux, const char *action,
                   struct db **ret_db)
{
    struct compute_api *compute = aux;
    const struct http_auth *auth = http_request_auth(req);
    struct policy_target target = { NULL, auth ? auth->user_id : NULL };
    struct error *error;

    error = policy_check_target(auth, action, &target);
    if (!error && (!auth || !auth->user_id)) {
        error = error_new(ERROR_FORBIDDEN, "Policy doesn't allow %s to be "
                          "performed.", action);
    }
    if (!error) {
        error = api_db_get(compute->db, ret_db);
    }
    return error;
}

static struct json_object *
keypairs_api_time(int64_t ms)
{
    char buf[TIME_ISO8601_SIZE];

    if (time_format_iso8601(ms, TIME_STYLE_MICROS, buf, sizeof buf)) {
        return NULL;
    }
    return json_object_new_string(buf);
}

static struct error *
keypairs_api_list(struct http_request *req, struct http_response *resp,
                  void *aux)
{
    const struct http_auth *auth = http_request_auth(req);
    struct keypair **kps = NULL;
    struct json_object *list, *body;
    size_t n = 0;
    struct db *db;
    struct error *error;

    error = keypairs_api_begin(req, aux, "os_compute_api:os-keypairs:index",
                               &db);
    if (!error) {
        error = keypair_db_list(db, auth->user_id, &kps, &n);
    }
    if (error) {
        return error;
    }
    list = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        struct json_object *item = json_object_new_object();
        struct json_object *kp = json_object_new_object();

        json_object_object_add(kp, "fingerprint",
                               json_object_new_string(kps[i]->fingerprint));
        json_object_object_add(kp, "name",
                               json_object_new_string(kps[i]->name));
        json_object_object_add(kp, "public_key",
                               json_object_new_string(kps[i]->public_key));
        json_object_object_add(item, "keypair", kp);
        json_object_array_add(list, item);
    }
    keypair_array_free(kps, n);
    body = json_object_new_object();
    json_object_object_add(body, "keypairs", list);
    http_response_set_json(resp, 200, body);
    return NULL;
}

static struct error *
keypairs_api_show(struct http_request *req, struct http_response *resp,
                  void *aux)
{
    const struct http_auth *auth = http_request_auth(req);
    CLEANUP(keypair_freep) struct keypair *kp = NULL;
    struct json_object *obj, *body;
    struct db *db;
    struct error *error;

    error = keypairs_api_begin(req, aux, "os_compute_api:os-keypairs:show",
                               &db);
    if (!error) {
        error = keypair_db_get(db, auth->user_id,
                               http_request_param(req, "keypair_name"), &kp);
    }
    if (error) {
        return error;
    }
    obj = json_object_new_object();
    json_object_object_add(obj, "created_at",
                           keypairs_api_time(kp->created_at_ms));
    json_object_object_add(obj, "deleted", json_object_new_boolean(0));
    json_object_object_add(obj, "deleted_at", NULL);
    json_object_object_add(obj, "fingerprint",
                           json_object_new_string(kp->fingerprint));
    json_object_object_add(obj, "id", json_object_new_int64(kp->id));
    json_object_object_add(obj, "name", json_object_new_string(kp->name));
    json_object_object_add(obj, "public_key",
                           json_object_new_string(kp->public_key));
    json_object_object_add(obj, "updated_at", NULL);
    json_object_object_add(obj, "user_id",
                           json_object_new_string(kp->user_id));
    body = json_object_new_object();
    json_object_object_add(body, "keypair", obj);
    http_response_set_json(resp, 200, body);
    return NULL;
}

/* Refuses a new keypair of the caller beyond its key_pairs quota. */
static struct error *
keypairs_api_check_quota(struct db *db, const struct compute_api *compute,
                         const struct http_auth *auth)
{
    struct quota_set limits;
    int64_t count = 0;
    struct error *error;

    error = quota_get_limits(db, compute->config,
                             auth->project_id ? auth->project_id : "",
                             &limits);
    if (!error) {
        error = keypair_db_count(db, auth->user_id, &count);
    }
    if (!error && limits.v[QUOTA_key_pairs] >= 0
        && count + 1 > limits.v[QUOTA_key_pairs]) {
        error = error_new(ERROR_FORBIDDEN, "Quota exceeded, too many key "
                          "pairs.");
    }
    return error;
}

static struct error *
keypairs_api_create(struct http_request *req, struct http_response *resp,
                    void *aux)
{
    static const char *const top_keys[] = { "keypair", NULL };
    static const char *const keys[] = { "name", "public_key", NULL };
    const struct compute_api *compute = aux;
    const struct http_auth *auth = http_request_auth(req);
    const struct json_object *body = http_request_body(req);
    struct json_object *kp_json = NULL, *obj, *out;
    const char *name = NULL, *public_key = NULL;
    AUTOFREE char *private_key = NULL;
    AUTOFREE char *generated = NULL;
    struct keypair kp;
    struct db *db;
    struct error *error;

    memset(&kp, 0, sizeof kp);
    error = keypairs_api_begin(req, aux, "os_compute_api:os-keypairs:create",
                               &db);
    if (!error && !body) {
        error = error_new(ERROR_INVALID, "'keypair' is a required property");
    }
    if (!error) {
        error = json_get_object(body, NULL, NULL, true, &kp_json);
    }
    if (!error) {
        error = json_check_allowed_keys(body, NULL, top_keys);
    }
    if (!error) {
        error = json_get_object(body, NULL, "keypair", true, &kp_json);
    }
    if (!error) {
        error = json_check_allowed_keys(kp_json, "keypair", keys);
    }
    if (!error) {
        error = json_get_string(kp_json, "keypair", "name", true, 0, &name);
    }
    if (!error) {
        error = json_get_string(kp_json, "keypair", "public_key", false, 0,
                                &public_key);
    }
    if (!error) {
        error = keypairs_api_check_name(name);
    }
    if (!error) {
        error = keypairs_api_check_quota(db, compute, auth);
    }
    if (!error && !public_key) {
        error = keypairs_api_generate(&private_key, &generated);
        public_key = generated;
    }
    if (!error) {
        error = keypairs_api_fingerprint(public_key, &kp.fingerprint);
    }
    if (!error) {
        kp.name = (char *) name;
        kp.user_id = auth->user_id;
        kp.public_key = (char *) public_key;
        kp.type = (char *) KEYPAIR_TYPE_SSH;
        error = keypair_db_create(db, &kp);
    }
    if (error) {
        free(kp.fingerprint);
        return error;
    }
    LOG_INFO_CTX(http_request_log_ctx(req), "%s keypair '%s'",
                 private_key ? "generated" : "imported", name);

    obj = json_object_new_object();
    json_object_object_add(obj, "fingerprint",
                           json_object_new_string(kp.fingerprint));
    json_object_object_add(obj, "name", json_object_new_string(name));
    json_object_object_add(obj, "public_key",
                           json_object_new_string(public_key));
    json_object_object_add(obj, "user_id",
                           json_object_new_string(auth->user_id));
    if (private_key) {
        json_object_object_add(obj, "private_key",
                               json_object_new_string(private_key));
    }
    out = json_object_new_object();
    json_object_object_add(out, "keypair", obj);
    free(kp.fingerprint);
    http_response_set_json(resp, 200, out);
    return NULL;
}

static struct error *
keypairs_api_delete(struct http_request *req, struct http_response *resp,
                    void *aux)
{
    const struct http_auth *auth = http_request_auth(req);
    struct db *db;
    struct error *error;

    error = keypairs_api_begin(req, aux,
                               "os_compute_api:os-keypairs:delete", &db);
    if (!error) {
        error = keypair_db_delete(db, auth->user_id,
                                  http_request_param(req, "keypair_name"));
    }
    if (error) {
        return error;
    }
    http_response_set_status(resp, 202);
    return NULL;
}

void
keypairs_api_register(struct http_router *router,
                      struct compute_api *compute)
{
    http_router_add(router, HTTP_GET, "/v2.1/os-keypairs", 0,
                    keypairs_api_list, compute);
    http_router_add(router, HTTP_POST, "/v2.1/os-keypairs", 0,
                    keypairs_api_create, compute);
    http_router_add(router, HTTP_GET, "/v2.1/os-keypairs/{keypair_name}", 0,
                    keypairs_api_show, compute);
    http_router_add(router, HTTP_DELETE, "/v2.1/os-keypairs/{keypair_name}",
                    0, keypairs_api_delete, compute);
}
