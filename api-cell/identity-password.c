/* identity-password.c: PBKDF2-HMAC-SHA256 password hashes.
 *
 * See identity-password.h for the stored form.  OpenSSL does the work:
 * PKCS5_PBKDF2_HMAC() for the digest, RAND_bytes() for the salt and
 * CRYPTO_memcmp() for the comparison. */
#include <config.h>

#include "api-cell/identity-password.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "api-cell/identity-base64.h"
#include "shared/cleanup.h"
#include "shared/error.h"
#include "shared/xalloc.h"

/* Separates the fields of a stored hash. */
#define IDENTITY_PASSWORD_SEP '$'
/* Salts accepted when verifying, in bytes. */
#define IDENTITY_PASSWORD_MIN_SALT_SIZE 8
#define IDENTITY_PASSWORD_MAX_SALT_SIZE 64
/* Digits of the largest iteration count accepted. */
#define IDENTITY_PASSWORD_MAX_ITER_DIGITS 8

/* Computes the digest of 'password' ('password_size' bytes) into 'out'.
 * Returns 0 or -EIO. */
static int
identity_password_pbkdf2(const char *password, size_t password_size,
                         const unsigned char *salt, size_t salt_size,
                         unsigned int iterations,
                         unsigned char out[IDENTITY_PASSWORD_DIGEST_SIZE])
{
    if (!PKCS5_PBKDF2_HMAC(password, (int) password_size, salt,
                           (int) salt_size, (int) iterations, EVP_sha256(),
                           IDENTITY_PASSWORD_DIGEST_SIZE, out)) {
        return -EIO;
    }
    return 0;
}

struct error *
identity_password_hash_iterations(const char *password,
                                  unsigned int iterations, char **ret_hash)
{
    unsigned char salt[IDENTITY_PASSWORD_SALT_SIZE];
    unsigned char digest[IDENTITY_PASSWORD_DIGEST_SIZE];
    size_t size = strlen(password);

    if (!size) {
        return error_new(ERROR_INVALID, "The password must not be empty");
    }
    if (size > IDENTITY_PASSWORD_MAX_SIZE) {
        return error_new(ERROR_INVALID, "The password is longer than %d "
                         "bytes", IDENTITY_PASSWORD_MAX_SIZE);
    }
    if (iterations < IDENTITY_PASSWORD_MIN_ITERATIONS
        || iterations > IDENTITY_PASSWORD_MAX_ITERATIONS) {
        return error_new(ERROR_INVALID, "%u PBKDF2 iterations is outside "
                         "%d..%d", iterations,
                         IDENTITY_PASSWORD_MIN_ITERATIONS,
                         IDENTITY_PASSWORD_MAX_ITERATIONS);
    }
    if (RAND_bytes(salt, sizeof salt) != 1) {
        return error_new(ERROR_INTERNAL, "Cannot get random bytes for a "
                         "password salt");
    }
    if (identity_password_pbkdf2(password, size, salt, sizeof salt,
                                 iterations, digest)) {
        return error_new(ERROR_INTERNAL, "Cannot compute a password hash");
    }

    AUTOFREE char *salt64 = identity_base64_encode(IDENTITY_BASE64_STD,
                                                   salt, sizeof salt);
    AUTOFREE char *digest64 = identity_base64_encode(IDENTITY_BASE64_STD,
                                                     digest, sizeof digest);
    *ret_hash = xasprintf(IDENTITY_PASSWORD_SCHEME "$%u$%s$%s", iterations,
                          salt64, digest64);
    OPENSSL_cleanse(digest, sizeof digest);
    return NULL;
}

struct error *
identity_password_hash(const char *password, char **ret_hash)
{
    return identity_password_hash_iterations(password,
                                             IDENTITY_PASSWORD_ITERATIONS,
                                             ret_hash);
}

/* A stored hash taken apart.  'salt' and 'digest' are owned. */
struct identity_password_fields {
    unsigned int iterations;
    unsigned char *salt;
    size_t salt_size;
    unsigned char *digest;
    size_t digest_size;
};

static void
identity_password_fields_destroy(struct identity_password_fields *f)
{
    free(f->salt);
    free(f->digest);
}

/* Parses the decimal 'length' digits at 's' (no sign, no leading zero) as
 * an iteration count.  Returns 0 or -EINVAL. */
static int
identity_password_parse_iterations(const char *s, size_t length,
                                   unsigned int *ret_iterations)
{
    unsigned long v = 0;

    if (!length || length > IDENTITY_PASSWORD_MAX_ITER_DIGITS
        || s[0] == '0') {
        return -EINVAL;
    }
    for (size_t i = 0; i < length; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -EINVAL;
        }
        v = v * 10 + (unsigned long) (s[i] - '0');
    }
    if (v < IDENTITY_PASSWORD_MIN_ITERATIONS
        || v > IDENTITY_PASSWORD_MAX_ITERATIONS) {
        return -EINVAL;
    }
    *ret_iterations = (unsigned int) v;
    return 0;
}

/* Splits 'hash' into its fields.  Returns 0, -EINVAL or
 * -EPROTONOSUPPORT (see identity_password_verify()).  On success the
 * caller destroys '*f'. */
static int
identity_password_parse(const char *hash,
                        struct identity_password_fields *f)
{
    const char *scheme_end, *iter_end, *salt_end;
    void *salt = NULL, *digest = NULL;
    size_t salt_size, digest_size;
    unsigned int iterations;

    scheme_end = strchr(hash, IDENTITY_PASSWORD_SEP);
    if (!scheme_end) {
        return -EINVAL;
    }
    if ((size_t) (scheme_end - hash) != strlen(IDENTITY_PASSWORD_SCHEME)
        || memcmp(hash, IDENTITY_PASSWORD_SCHEME, strlen(
                      IDENTITY_PASSWORD_SCHEME))) {
        return -EPROTONOSUPPORT;
    }
    iter_end = strchr(scheme_end + 1, IDENTITY_PASSWORD_SEP);
    if (!iter_end) {
        return -EINVAL;
    }
    salt_end = strchr(iter_end + 1, IDENTITY_PASSWORD_SEP);
    if (!salt_end || strchr(salt_end + 1, IDENTITY_PASSWORD_SEP)) {
        return -EINVAL;
    }
    if (identity_password_parse_iterations(
            scheme_end + 1, (size_t) (iter_end - scheme_end - 1),
            &iterations)) {
        return -EINVAL;
    }
    if (identity_base64_decode(IDENTITY_BASE64_STD, iter_end + 1,
                               (size_t) (salt_end - iter_end - 1), &salt,
                               &salt_size)) {
        return -EINVAL;
    }
    if (salt_size < IDENTITY_PASSWORD_MIN_SALT_SIZE
        || salt_size > IDENTITY_PASSWORD_MAX_SALT_SIZE
        || identity_base64_decode(IDENTITY_BASE64_STD, salt_end + 1,
                                  strlen(salt_end + 1), &digest,
                                  &digest_size)) {
        free(salt);
        return -EINVAL;
    }
    if (digest_size != IDENTITY_PASSWORD_DIGEST_SIZE) {
        free(salt);
        free(digest);
        return -EINVAL;
    }
    f->iterations = iterations;
    f->salt = salt;
    f->salt_size = salt_size;
    f->digest = digest;
    f->digest_size = digest_size;
    return 0;
}

int
identity_password_verify(const char *password, const char *hash)
{
    struct identity_password_fields f;
    unsigned char digest[IDENTITY_PASSWORD_DIGEST_SIZE];
    size_t size = strlen(password);
    int retval;

    retval = identity_password_parse(hash, &f);
    if (retval) {
        return retval;
    }
    if (!size || size > IDENTITY_PASSWORD_MAX_SIZE) {
        /* Spend the time anyway: the length of a wrong password should
         * not show in the response time. */
        identity_password_verify_dummy("");
        retval = -EPERM;
    } else if (identity_password_pbkdf2(password, size, f.salt, f.salt_size,
                                        f.iterations, digest)) {
        retval = -EIO;
    } else if (CRYPTO_memcmp(digest, f.digest, sizeof digest)) {
        retval = -EPERM;
    }
    OPENSSL_cleanse(digest, sizeof digest);
    identity_password_fields_destroy(&f);
    return retval;
}

void
identity_password_verify_dummy(const char *password)
{
    static const unsigned char salt[IDENTITY_PASSWORD_SALT_SIZE];
    unsigned char digest[IDENTITY_PASSWORD_DIGEST_SIZE];

    (void) identity_password_pbkdf2(password, strlen(password), salt,
                                    sizeof salt,
                                    IDENTITY_PASSWORD_ITERATIONS, digest);
    OPENSSL_cleanse(digest, sizeof digest);
}

bool
identity_password_needs_rehash(const char *hash)
{
    struct identity_password_fields f;
    bool needs;

    if (identity_password_parse(hash, &f)) {
        return true;
    }
    needs = (f.iterations != IDENTITY_PASSWORD_ITERATIONS
             || f.salt_size != IDENTITY_PASSWORD_SALT_SIZE);
    identity_password_fields_destroy(&f);
    return needs;
}
