/* test-identity-password.c: password hashes (api-cell/identity-password.c).
 *
 * A known-answer case (RFC 7914's PBKDF2-HMAC-SHA256 vector) pins the
 * algorithm; the tables cover wrong passwords and every way a stored hash
 * can be malformed or tampered with.  Prints the time of one hash at the
 * production cost as a TAP comment. */
#include <config.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "api-cell/identity-password.h"
#include "shared/cleanup.h"
#include "shared/error.h"
#include "shared/timeutil.h"
#include "shared/xalloc.h"

/* Cheap hashes for the tests that only need a valid one. */
#define TEST_ITERATIONS IDENTITY_PASSWORD_MIN_ITERATIONS

/* RFC 7914 section 11: P = "passwordPASSWORDpassword",
 * S = "saltSALTsaltSALTsaltSALTsaltSALTsalt", c = 4096, first 32 bytes. */
#define RFC_PASSWORD "passwordPASSWORDpassword"
#define RFC_HASH                                                        \
    "pbkdf2-sha256$4096$c2FsdFNBTFRzYWx0U0FMVHNhbHRTQUxUc2FsdFNBTFRzYWx0" \
    "$NIyJ28vTKy8y2BS4EW6EzysXNH68GAAYHE4qH7jdU+E="

/* Password "correct horse", salt bytes 0..15, 1000 iterations. */
#define KNOWN_PASSWORD "correct horse"
#define KNOWN_SALT "AAECAwQFBgcICQoLDA0ODw=="
#define KNOWN_DIGEST "yRTMTwbMbo9G0VfjobWqerzuuxe7BETNTErBbKKumGQ="
#define KNOWN_HASH "pbkdf2-sha256$1000$" KNOWN_SALT "$" KNOWN_DIGEST

static void
check(struct error *error)
{
    if (error) {
        fail_msg("unexpected error: %s", error_message(error));
    }
}

static void
test_known_answers(void **state)
{
    (void) state;
    assert_int_equal(identity_password_verify(RFC_PASSWORD, RFC_HASH), 0);
    assert_int_equal(identity_password_verify(KNOWN_PASSWORD, KNOWN_HASH),
                     0);
    assert_int_equal(identity_password_verify("correct horsE", KNOWN_HASH),
                     -EPERM);
}

static void
test_hash_and_verify(void **state)
{
    static const struct {
        const char *password;
        const char *attempt;
        int expected;
    } cases[] = {
        { "s3cret", "s3cret", 0 },
        { "s3cret", "s3cre", -EPERM },
        { "s3cret", "s3cret ", -EPERM },
        { "s3cret", "S3cret", -EPERM },
        { "s3cret", "", -EPERM },
        { "pässwörd ünïcode", "pässwörd ünïcode", 0 },
        { "pässwörd ünïcode", "passwörd ünïcode", -EPERM },
        { "with$dollar$signs", "with$dollar$signs", 0 },
        { "x", "x", 0 },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        AUTOFREE char *hash = NULL;

        check(identity_password_hash_iterations(cases[i].password,
                                                TEST_ITERATIONS, &hash));
        assert_true(!strncmp(hash, IDENTITY_PASSWORD_SCHEME "$1000$",
                             strlen(IDENTITY_PASSWORD_SCHEME "$1000$")));
        if (identity_password_verify(cases[i].attempt, hash)
            != cases[i].expected) {
            fail_msg("case %zu: '%s' against a hash of '%s'", i,
                     cases[i].attempt, cases[i].password);
        }
    }
}

static void
test_salts_differ(void **state)
{
    AUTOFREE char *a = NULL;
    AUTOFREE char *b = NULL;

    (void) state;
    check(identity_password_hash_iterations("same", TEST_ITERATIONS, &a));
    check(identity_password_hash_iterations("same", TEST_ITERATIONS, &b));
    assert_string_not_equal(a, b);
    assert_int_equal(identity_password_verify("same", a), 0);
    assert_int_equal(identity_password_verify("same", b), 0);
}

static void
test_bad_passwords_refused(void **state)
{
    AUTOFREE char *long_password = xmalloc(IDENTITY_PASSWORD_MAX_SIZE + 2);
    AUTOFREE char *max_password = xmalloc(IDENTITY_PASSWORD_MAX_SIZE + 1);
    AUTOFREE char *hash = NULL;
    struct error *error;
    char *unused = NULL;

    (void) state;
    memset(long_password, 'a', IDENTITY_PASSWORD_MAX_SIZE + 1);
    long_password[IDENTITY_PASSWORD_MAX_SIZE + 1] = '\0';
    memset(max_password, 'a', IDENTITY_PASSWORD_MAX_SIZE);
    max_password[IDENTITY_PASSWORD_MAX_SIZE] = '\0';

    error = identity_password_hash_iterations("", TEST_ITERATIONS, &unused);
    assert_non_null(error);
    assert_int_equal(error_kind(error), ERROR_INVALID);
    error_free(error);

    error = identity_password_hash_iterations(long_password, TEST_ITERATIONS,
                                              &unused);
    assert_non_null(error);
    assert_int_equal(error_kind(error), ERROR_INVALID);
    error_free(error);

    error = identity_password_hash_iterations("x", TEST_ITERATIONS - 1,
                                              &unused);
    assert_non_null(error);
    assert_int_equal(error_kind(error), ERROR_INVALID);
    error_free(error);
    assert_null(unused);

    /* The longest password works; one byte more never matches. */
    check(identity_password_hash_iterations(max_password, TEST_ITERATIONS,
                                            &hash));
    assert_int_equal(identity_password_verify(max_password, hash), 0);
    assert_int_equal(identity_password_verify(long_password, hash), -EPERM);
}

static void
test_malformed_hashes(void **state)
{
    static const struct {
        const char *hash;
        int expected;
    } cases[] = {
        { KNOWN_HASH, 0 },
        /* Unknown schemes. */
        { "bcrypt$1000$" KNOWN_SALT "$" KNOWN_DIGEST, -EPROTONOSUPPORT },
        { "pbkdf2-sha512$1000$" KNOWN_SALT "$" KNOWN_DIGEST,
          -EPROTONOSUPPORT },
        { "PBKDF2-SHA256$1000$" KNOWN_SALT "$" KNOWN_DIGEST,
          -EPROTONOSUPPORT },
        { "$pbkdf2-sha256$1000$" KNOWN_SALT "$" KNOWN_DIGEST,
          -EPROTONOSUPPORT },
        { "md5crypt", -EINVAL },
        /* Field structure. */
        { "", -EINVAL },
        { "pbkdf2-sha256", -EINVAL },
        { "pbkdf2-sha256$1000", -EINVAL },
        { "pbkdf2-sha256$1000$" KNOWN_SALT, -EINVAL },
        { "pbkdf2-sha256$1000$" KNOWN_SALT "$" KNOWN_DIGEST "$", -EINVAL },
        { "pbkdf2-sha256$1000$" KNOWN_SALT "$" KNOWN_DIGEST "$x", -EINVAL },
        { "pbkdf2-sha256$$" KNOWN_SALT "$" KNOWN_DIGEST, -EINVAL },
        /* Iteration counts. */
        { "pbkdf2-sha256$01000$" KNOWN_SALT "$" KNOWN_DIGEST, -EINVAL },
        { "pbkdf2-sha256$+1000$" KNOWN_SALT "$" KNOWN_DIGEST, -EINVAL },
        { "pbkdf2-sha256$1000 $" KNOWN_SALT "$" KNOWN_DIGEST, -EINVAL },
        { "pbkdf2-sha256$1e3$" KNOWN_SALT "$" KNOWN_DIGEST, -EINVAL },
        { "pbkdf2-sha256$999$" KNOWN_SALT "$" KNOWN_DIGEST, -EINVAL },
        { "pbkdf2-sha256$10000001$" KNOWN_SALT "$" KNOWN_DIGEST, -EINVAL },
        { "pbkdf2-sha256$99999999999$" KNOWN_SALT "$" KNOWN_DIGEST,
          -EINVAL },
        /* Salt and digest encodings and sizes. */
        { "pbkdf2-sha256$1000$$" KNOWN_DIGEST, -EINVAL },
        { "pbkdf2-sha256$1000$AAECAw==$" KNOWN_DIGEST, -EINVAL },
        { "pbkdf2-sha256$1000$AAECAwQFBgcICQoLDA0ODw$" KNOWN_DIGEST,
          -EINVAL },
        { "pbkdf2-sha256$1000$AAECAwQFBgcICQoLDA0ODw=!$" KNOWN_DIGEST,
          -EINVAL },
        { "pbkdf2-sha256$1000$AAECAwQF_gcICQoLDA0ODw==$" KNOWN_DIGEST,
          -EINVAL },
        { "pbkdf2-sha256$1000$" KNOWN_SALT "$", -EINVAL },
        { "pbkdf2-sha256$1000$" KNOWN_SALT
          "$yRTMTwbMbo9G0VfjobWqerzuuxe7BETNTErBbKKumA==", -EINVAL },
        { "pbkdf2-sha256$1000$" KNOWN_SALT
          "$yRTMTwbMbo9G0VfjobWqerzuuxe7BETNTErBbKKumGQ=AAAA", -EINVAL },
        /* Non-canonical: leftover bits in the last character. */
        { "pbkdf2-sha256$1000$" KNOWN_SALT
          "$yRTMTwbMbo9G0VfjobWqerzuuxe7BETNTErBbKKumGR=", -EINVAL },
        /* Well-formed but tampered: digest, salt or count changed. */
        { "pbkdf2-sha256$1000$" KNOWN_SALT
          "$yRTMTwbMbo9G0VfjobWqerzuuxe7BETNTErBbKKumGM=", -EPERM },
        { "pbkdf2-sha256$1000$" KNOWN_SALT
          "$zRTMTwbMbo9G0VfjobWqerzuuxe7BETNTErBbKKumGQ=", -EPERM },
        { "pbkdf2-sha256$1000$AAECAwQFBgcICQoLDA0ODg==$" KNOWN_DIGEST,
          -EPERM },
        { "pbkdf2-sha256$1001$" KNOWN_SALT "$" KNOWN_DIGEST, -EPERM },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        int retval = identity_password_verify(KNOWN_PASSWORD,
                                              cases[i].hash);

        if (retval != cases[i].expected) {
            fail_msg("case %zu ('%s'): got %d, expected %d", i,
                     cases[i].hash, retval, cases[i].expected);
        }
    }
}

static void
test_needs_rehash(void **state)
{
    AUTOFREE char *current = NULL;
    AUTOFREE char *cheap = NULL;

    (void) state;
    check(identity_password_hash("pw", &current));
    check(identity_password_hash_iterations("pw", TEST_ITERATIONS, &cheap));
    assert_false(identity_password_needs_rehash(current));
    assert_true(identity_password_needs_rehash(cheap));
    assert_true(identity_password_needs_rehash(KNOWN_HASH));
    assert_true(identity_password_needs_rehash("garbage"));
    assert_true(identity_password_needs_rehash(""));
}

/* The cost at IDENTITY_PASSWORD_ITERATIONS, reported, with a sanity
 * bound far above the target (no timing assertion beyond "it ran"). */
static void
test_report_cost(void **state)
{
    AUTOFREE char *hash = NULL;
    int64_t start, hash_ms, verify_ms, dummy_ms;

    (void) state;
    start = time_monotonic_ms();
    check(identity_password_hash("measure me", &hash));
    hash_ms = time_monotonic_ms() - start;

    start = time_monotonic_ms();
    assert_int_equal(identity_password_verify("measure me", hash), 0);
    verify_ms = time_monotonic_ms() - start;

    start = time_monotonic_ms();
    identity_password_verify_dummy("measure me");
    dummy_ms = time_monotonic_ms() - start;

    printf("# PBKDF2-HMAC-SHA256, %d iterations: hash %lld ms, verify %lld "
           "ms, dummy verify %lld ms\n", IDENTITY_PASSWORD_ITERATIONS,
           (long long) hash_ms, (long long) verify_ms, (long long) dummy_ms);
    fflush(stdout);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_answers),
        cmocka_unit_test(test_hash_and_verify),
        cmocka_unit_test(test_salts_differ),
        cmocka_unit_test(test_bad_passwords_refused),
        cmocka_unit_test(test_malformed_hashes),
        cmocka_unit_test(test_needs_rehash),
        cmocka_unit_test(test_report_cost),
    };

    return cmocka_run_group_tests_name("identity-password", tests, NULL,
                                       NULL);
}
