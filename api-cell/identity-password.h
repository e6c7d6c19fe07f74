/* identity-password.h: slow, salted password hashes for the identity
 * service.
 *
 * A password is stored as PBKDF2-HMAC-SHA256 of the password with a random
 * salt, in a self-describing string:
 *
 *     pbkdf2-sha256$250000$<salt, base64>$<digest, base64>
 *
 * The scheme and the iteration count travel with every hash, so the count
 * can be raised later: new hashes use IDENTITY_PASSWORD_ITERATIONS, old
 * ones still verify with the count they were made with, and
 * identity_password_needs_rehash() says which ones are due for a new hash.
 *
 * Hashing is slow on purpose (about 50-100 ms on the reference machine):
 * it only runs when a user authenticates with a password or a password is
 * set, never when a token is validated.  Verification compares digests in
 * constant time.  Every function is thread-safe. */
#ifndef NOVA_IDENTITY_PASSWORD_H
#define NOVA_IDENTITY_PASSWORD_H 1

#include <stdbool.h>
#include "shared/compiler.h"

struct error;

/* The scheme name that opens every hash this module writes. */
#define IDENTITY_PASSWORD_SCHEME "pbkdf2-sha256"

/* PBKDF2 rounds of new hashes.  Measured with OpenSSL 3.0 on the
 * reference machine (Debian 12, 2 cores): 0.23 us a round, so about 57 ms
 * a hash on an idle core and up to 100 ms on a busy one.  Raising it makes
 * new hashes slower and leaves old ones valid (they are rehashed at the
 * next successful login). */
#define IDENTITY_PASSWORD_ITERATIONS 250000

/* Iteration counts accepted when verifying: a stored hash outside this
 * range is malformed (an absurd count would let a bad row stall a
 * thread). */
#define IDENTITY_PASSWORD_MIN_ITERATIONS 1000
#define IDENTITY_PASSWORD_MAX_ITERATIONS 10000000

/* Random salt of new hashes, and the digest size, in bytes. */
#define IDENTITY_PASSWORD_SALT_SIZE 16
#define IDENTITY_PASSWORD_DIGEST_SIZE 32

/* Longest password accepted, in bytes (Keystone's max_password_length). */
#define IDENTITY_PASSWORD_MAX_SIZE 4096

/* Hashes 'password' with a new random salt and IDENTITY_PASSWORD_ITERATIONS
 * rounds and stores the encoded hash, which the caller frees, in
 * '*ret_hash'.  Fails with ERROR_INVALID for an empty password or one
 * longer than IDENTITY_PASSWORD_MAX_SIZE, ERROR_INTERNAL if no random
 * bytes could be had. */
struct error *identity_password_hash(const char *password, char **ret_hash)
    WARN_UNUSED;

/* Like identity_password_hash() with 'iterations' rounds (within
 * [IDENTITY_PASSWORD_MIN_ITERATIONS, IDENTITY_PASSWORD_MAX_ITERATIONS]),
 * for tests and for a deliberate change of the cost. */
struct error *identity_password_hash_iterations(const char *password,
                                                unsigned int iterations,
                                                char **ret_hash)
    WARN_UNUSED;

/* Checks 'password' against the stored 'hash'.  Returns 0 when it matches,
 * -EPERM when it does not, -EINVAL when 'hash' is malformed (bad fields,
 * wrong sizes, iteration count out of range) and -EPROTONOSUPPORT when it
 * names a scheme this module does not know, -EIO if OpenSSL failed.
 * 'password' longer than
 * IDENTITY_PASSWORD_MAX_SIZE never matches. */
int identity_password_verify(const char *password, const char *hash)
    WARN_UNUSED;

/* Spends about as long as verifying a password, and fails: called when the
 * user does not exist, so that the response time does not tell which user
 * names exist. */
void identity_password_verify_dummy(const char *password);

/* True when 'hash' was not made with the current scheme and
 * IDENTITY_PASSWORD_ITERATIONS (or cannot be read). */
bool identity_password_needs_rehash(const char *hash);

#endif /* NOVA_IDENTITY_PASSWORD_H */
