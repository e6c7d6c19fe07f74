/* test-identity-token.c: signed tokens (api-cell/identity-token.c) and the
 * strict base64 under them (api-cell/identity-base64.c).
 *
 * Covers the round trip (scoped and unscoped), expiry, forged, altered and
 * truncated tokens, another secret, payloads that are well signed but
 * malformed (signed here with the same HMAC), the secret checks, and
 * canonical base64.  Prints the decode rate as a TAP comment. */
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
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "api-cell/identity-base64.h"
#include "api-cell/identity-token.h"
#include "shared/cleanup.h"
#include "shared/error.h"
#include "shared/timeutil.h"
#include "shared/xalloc.h"

#define SECRET "0123456789abcdef0123456789abcdef-test-secret"
#define OTHER_SECRET "fedcba9876543210fedcba9876543210-other-secret"
#define NOW_MS INT64_C(1700000000000)
#define HOUR_MS INT64_C(3600000)
#define USER_ID "6f1a2b3c4d5e6f708192a3b4c5d6e7f8"
#define PROJECT_ID "a1b2c3d4e5f60718293a4b5c6d7e8f90"

/* Decodes done for the rate comment. */
#define RATE_DECODES 20000

static struct identity_token_key *
make_key(const char *secret)
{
    struct identity_token_key *key = NULL;
    struct error *error = identity_token_key_new(secret, &key);

    if (error) {
        fail_msg("%s", error_message(error));
    }
    return key;
}

/* A scoped token issued at NOW_MS for an hour. */
static void
make_token(struct identity_token *token, bool scoped)
{
    identity_token_init(token);
    token->user_id = xstrdup(USER_ID);
    if (scoped) {
        token->project_id = xstrdup(PROJECT_ID);
        identity_token_add_role(token, "member");
        identity_token_add_role(token, "reader");
    }
    identity_token_add_method(token, "password");
    identity_token_new_audit_id(token);
    token->issued_at_ms = NOW_MS;
    token->expires_at_ms = NOW_MS + HOUR_MS;
    token->revocation = 7;
}

/* Signs 'payload' (JSON text) as the module does. */
static char *
sign_payload(const char *secret, const char *payload)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    AUTOFREE char *p64 = identity_base64_encode(IDENTITY_BASE64_URL, payload,
                                                strlen(payload));

    assert_non_null(HMAC(EVP_sha256(), secret, (int) strlen(secret),
                         (const unsigned char *) p64, strlen(p64), mac,
                         &size));
    AUTOFREE char *m64 = identity_base64_encode(IDENTITY_BASE64_URL, mac,
                                                size);
    return xasprintf("%s.%s", p64, m64);
}

static void
test_round_trip(void **state)
{
    CLEANUP(identity_token_key_freep) struct identity_token_key *key =
        make_key(SECRET);

    (void) state;
    for (int scoped = 0; scoped <= 1; scoped++) {
        struct identity_token in, out;
        AUTOFREE char *text = NULL;

        make_token(&in, scoped);
        text = identity_token_encode(key, &in);
        assert_int_equal(identity_token_decode(key, text, NOW_MS, &out), 0);

        assert_string_equal(out.user_id, USER_ID);
        if (scoped) {
            assert_string_equal(out.project_id, PROJECT_ID);
            assert_int_equal(out.n_roles, 2);
            assert_string_equal(out.roles[0], "member");
            assert_string_equal(out.roles[1], "reader");
        } else {
            assert_null(out.project_id);
            assert_int_equal(out.n_roles, 0);
        }
        assert_int_equal(out.n_methods, 1);
        assert_string_equal(out.methods[0], "password");
        assert_string_equal(out.audit_id, in.audit_id);
        assert_int_equal(strlen(out.audit_id), 22);
        assert_int_equal(out.issued_at_ms, NOW_MS);
        assert_int_equal(out.expires_at_ms, NOW_MS + HOUR_MS);
        assert_int_equal(out.revocation, 7);
        /* Only URL-safe characters and one dot. */
        assert_int_equal(strspn(text, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                "abcdefghijklmnopqrstuvwxyz0123456789-_."),
                         strlen(text));
        assert_ptr_equal(strchr(text, '.'), strrchr(text, '.'));

        identity_token_destroy(&in);
        identity_token_destroy(&out);
    }
}

/* Replaces the character at 'pos' of 'text' (counted from the end when
 * negative) with 'c' (or with another character when 'c' is 0). */
static char *
alter(const char *text, long pos, char c)
{
    char *copy = xstrdup(text);
    size_t i = pos < 0 ? strlen(copy) - (size_t) -pos : (size_t) pos;

    copy[i] = c ? c : (copy[i] == 'A' ? 'B' : 'A');
    return copy;
}

static void
test_bad_tokens(void **state)
{
    CLEANUP(identity_token_key_freep) struct identity_token_key *key =
        make_key(SECRET);
    CLEANUP(identity_token_key_freep) struct identity_token_key *other =
        make_key(OTHER_SECRET);
    struct identity_token token;
    AUTOFREE char *text = NULL;
    AUTOFREE char *too_long = xmalloc(IDENTITY_TOKEN_MAX_SIZE + 2);

    (void) state;
    make_token(&token, true);
    text = identity_token_encode(key, &token);
    identity_token_destroy(&token);
    memset(too_long, 'A', IDENTITY_TOKEN_MAX_SIZE + 1);
    too_long[IDENTITY_TOKEN_MAX_SIZE + 1] = '\0';

    const char *dot = strchr(text, '.');
    size_t payload_size = (size_t) (dot - text);
    AUTOFREE char *payload_only = xstrndup(text, payload_size);
    AUTOFREE char *payload_dot = xstrndup(text, payload_size + 1);
    AUTOFREE char *truncated = xstrndup(text, strlen(text) - 1);
    AUTOFREE char *truncated4 = xstrndup(text, strlen(text) - 4);
    AUTOFREE char *payload_altered = alter(text, 5, 0);
    AUTOFREE char *payload_cut = xasprintf("%s%s", payload_only + 4, dot);
    AUTOFREE char *mac_altered = alter(text, -10, 0);
    AUTOFREE char *mac_first = alter(text, (long) payload_size + 1, 0);
    AUTOFREE char *two_dots = xasprintf("%s.x", text);
    AUTOFREE char *padded = xasprintf("%s=", text);
    AUTOFREE char *std_alphabet = alter(text, -3, '+');
    AUTOFREE char *space = alter(text, 3, ' ');

    const struct {
        const char *what;
        const struct identity_token_key *key;
        const char *text;
        int64_t now_ms;
        int expected;
    } cases[] = {
        { "valid", key, text, NOW_MS, 0 },
        { "valid one ms before expiry", key, text, NOW_MS + HOUR_MS - 1, 0 },
        { "valid before issue (clock skew)", key, text, NOW_MS - HOUR_MS,
          0 },
        { "expired exactly", key, text, NOW_MS + HOUR_MS, -EKEYEXPIRED },
        { "expired long ago", key, text, NOW_MS + 100 * HOUR_MS,
          -EKEYEXPIRED },
        { "wrong secret", other, text, NOW_MS, -EKEYREJECTED },
        { "payload altered", key, payload_altered, NOW_MS, -EKEYREJECTED },
        { "payload cut", key, payload_cut, NOW_MS, -EKEYREJECTED },
        { "mac altered", key, mac_altered, NOW_MS, -EKEYREJECTED },
        { "mac first char altered", key, mac_first, NOW_MS,
          -EKEYREJECTED },
        { "truncated by one", key, truncated, NOW_MS, -EINVAL },
        { "truncated by four", key, truncated4, NOW_MS, -EINVAL },
        { "payload only", key, payload_only, NOW_MS, -EINVAL },
        { "payload and dot", key, payload_dot, NOW_MS, -EINVAL },
        { "two dots", key, two_dots, NOW_MS, -EINVAL },
        { "padding added", key, padded, NOW_MS, -EINVAL },
        { "standard alphabet", key, std_alphabet, NOW_MS, -EINVAL },
        { "blank inside", key, space, NOW_MS, -EKEYREJECTED },
        { "empty", key, "", NOW_MS, -EINVAL },
        { "dot only", key, ".", NOW_MS, -EINVAL },
        { "no payload", key, ".AAAA", NOW_MS, -EINVAL },
        { "garbage", key, "not a token at all", NOW_MS, -EINVAL },
        { "too long", key, too_long, NOW_MS, -EINVAL },
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct identity_token out;
        int retval;

        identity_token_init(&out);
        retval = identity_token_decode(cases[i].key, cases[i].text,
                                       cases[i].now_ms, &out);
        if (retval != cases[i].expected) {
            fail_msg("case %zu (%s): got %d, expected %d", i, cases[i].what,
                     retval, cases[i].expected);
        }
        if (retval) {
            /* Nothing is stored on failure. */
            assert_null(out.user_id);
        }
        identity_token_destroy(&out);
    }
}

/* Payloads with a valid signature but a content the decoder refuses. */
static void
test_bad_payloads(void **state)
{
    CLEANUP(identity_token_key_freep) struct identity_token_key *key =
        make_key(SECRET);
    static const struct {
        const char *payload;
        int expected;
    } cases[] = {
        { "{\"v\":1,\"u\":\"u1\",\"r\":[],\"m\":[],\"iat\":1,"
          "\"exp\":9999999999999,\"rev\":0}", 0 },
        { "{\"v\":1,\"u\":\"u1\",\"p\":\"p1\",\"r\":[\"admin\"],"
          "\"m\":[\"password\"],\"a\":\"x\",\"iat\":1,"
          "\"exp\":9999999999999,\"rev\":3}", 0 },
        /* Version, keys and types. */
        { "{\"v\":2,\"u\":\"u1\",\"r\":[],\"m\":[],\"iat\":1,"
          "\"exp\":9999999999999,\"rev\":0}", -EINVAL },
        { "{\"u\":\"u1\",\"r\":[],\"m\":[],\"iat\":1,"
          "\"exp\":9999999999999,\"rev\":0}", -EINVAL },
        { "{\"v\":1,\"r\":[],\"m\":[],\"iat\":1,"
          "\"exp\":9999999999999,\"rev\":0}", -EINVAL },
        { "{\"v\":1,\"u\":\"\",\"r\":[],\"m\":[],\"iat\":1,"
          "\"exp\":9999999999999,\"rev\":0}", -EINVAL },
        { "{\"v\":1,\"u\":\"u1\",\"p\":\"\",\"r\":[],\"m\":[],\"iat\":1,"
          "\"exp\":9999999999999,\"rev\":0}", -EINVAL },
        { "{\"v\":1,\"u\":5,\"r\":[],\"m\":[],\"iat\":1,"
          "\"exp\":9999999999999,\"rev\":0}", -EINVAL },
        { "{\"v\":1,\"u\":\"u1\",\"r\":\"admin\",\"m\":[],\"iat\":1,"
          "\"exp\":9999999999999,\"rev\":0}", -EINVAL },
        { "{\"v\":1,\"u\":\"u1\",\"r\":[1],\"m\":[],\"iat\":1,"
          "\"exp\":9999999999999,\"rev\":0}", -EINVAL },
        { "{\"v\":1,\"u\":\"u1\",\"r\":[],\"m\":[],\"iat\":1,"
          "\"exp\":9999999999999,\"rev\":0,\"admin\":true}", -EINVAL },
        { "{\"v\":1,\"u\":\"u1\",\"r\":[],\"m\":[],\"iat\":1,"
          "\"exp\":\"9999999999999\",\"rev\":0}", -EINVAL },
        { "{\"v\":1,\"u\":\"u1\",\"r\":[],\"m\":[],\"iat\":1,"
          "\"exp\":9999999999999,\"rev\":-1}", -EINVAL },
        { "{\"v\":1,\"u\":\"u1\",\"r\":[],\"m\":[],\"iat\":1,"
          "\"exp\":9999999999999}", -EINVAL },
        /* Limits. */
        { "{\"v\":1,\"u\":\"u1\",\"r\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\","
          "\"g\",\"h\",\"i\",\"j\",\"k\",\"l\",\"m\",\"n\",\"o\",\"p\","
          "\"q\"],\"m\":[],\"iat\":1,\"exp\":9999999999999,\"rev\":0}",
          -EINVAL },
        { "{\"v\":1,\"u\":\"0123456789012345678901234567890123456789"
          "01234567890123456789012345\",\"r\":[],\"m\":[],\"iat\":1,"
          "\"exp\":9999999999999,\"rev\":0}", -EINVAL },
        /* Not an object, not JSON. */
        { "[1,2,3]", -EINVAL },
        { "{\"v\":1,", -EINVAL },
        { "", -EINVAL },
        /* Expired, though well formed. */
        { "{\"v\":1,\"u\":\"u1\",\"r\":[],\"m\":[],\"iat\":1,"
          "\"exp\":2,\"rev\":0}", -EKEYEXPIRED },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        AUTOFREE char *text = sign_payload(SECRET, cases[i].payload);
        struct identity_token out;
        int retval;

        identity_token_init(&out);
        retval = identity_token_decode(key, text, NOW_MS, &out);
        if (retval != cases[i].expected) {
            fail_msg("case %zu (%s): got %d, expected %d", i,
                     cases[i].payload, retval, cases[i].expected);
        }
        identity_token_destroy(&out);
    }
}

static void
test_secrets(void **state)
{
    static const struct {
        const char *secret;
        bool ok;
        const char *message_part;
    } cases[] = {
        { NULL, false, "openssl rand -base64 48" },
        { "", false, "No token secret" },
        { "short", false, "too short" },
        { "0123456789abcdef0123456789abcde", false, "at least 32" },
        { "0123456789abcdef0123456789abcdef", true, NULL },
        { SECRET, true, NULL },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct identity_token_key *key = NULL;
        struct error *error = identity_token_key_new(cases[i].secret, &key);

        if (cases[i].ok) {
            assert_null(error);
            assert_non_null(key);
        } else {
            assert_non_null(error);
            assert_null(key);
            assert_int_equal(error_kind(error), ERROR_INVALID);
            if (!strstr(error_message(error), cases[i].message_part)) {
                fail_msg("case %zu: '%s' lacks '%s'", i,
                         error_message(error), cases[i].message_part);
            }
        }
        error_free(error);
        identity_token_key_free(key);
    }
    identity_token_key_free(NULL);
    identity_token_destroy(NULL);
}

static void
test_base64(void **state)
{
    static const struct {
        enum identity_base64_alphabet alphabet;
        const char *text;
        const char *decoded;        /* NULL: -EINVAL */
    } cases[] = {
        /* RFC 4648 section 10. */
        { IDENTITY_BASE64_STD, "", "" },
        { IDENTITY_BASE64_STD, "Zg==", "f" },
        { IDENTITY_BASE64_STD, "Zm8=", "fo" },
        { IDENTITY_BASE64_STD, "Zm9v", "foo" },
        { IDENTITY_BASE64_STD, "Zm9vYg==", "foob" },
        { IDENTITY_BASE64_STD, "Zm9vYmE=", "fooba" },
        { IDENTITY_BASE64_STD, "Zm9vYmFy", "foobar" },
        { IDENTITY_BASE64_URL, "Zg", "f" },
        { IDENTITY_BASE64_URL, "Zm8", "fo" },
        { IDENTITY_BASE64_URL, "Zm9vYmFy", "foobar" },
        { IDENTITY_BASE64_URL, "-_-_", "\xfb\xff\xbf" },
        { IDENTITY_BASE64_STD, "+/+/", "\xfb\xff\xbf" },
        /* Refused. */
        { IDENTITY_BASE64_STD, "Zg", NULL },
        { IDENTITY_BASE64_STD, "Zg=", NULL },
        { IDENTITY_BASE64_STD, "Zg===", NULL },
        { IDENTITY_BASE64_STD, "Zm8==", NULL },
        { IDENTITY_BASE64_STD, "Z===", NULL },
        { IDENTITY_BASE64_STD, "Zh==", NULL },
        { IDENTITY_BASE64_STD, "Zm9=", NULL },
        { IDENTITY_BASE64_STD, "Zm9v\n", NULL },
        { IDENTITY_BASE64_STD, "-_-_", NULL },
        { IDENTITY_BASE64_STD, "Zg==Zg==", NULL },
        { IDENTITY_BASE64_URL, "Zg==", NULL },
        { IDENTITY_BASE64_URL, "Z", NULL },
        { IDENTITY_BASE64_URL, "Zh", NULL },
        { IDENTITY_BASE64_URL, "+/+/", NULL },
        { IDENTITY_BASE64_URL, "Zm 9", NULL },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        void *data = NULL;
        size_t size = 0;
        int retval = identity_base64_decode(cases[i].alphabet,
                                            cases[i].text,
                                            strlen(cases[i].text), &data,
                                            &size);

        if (!cases[i].decoded) {
            if (retval != -EINVAL) {
                fail_msg("case %zu ('%s') was accepted", i, cases[i].text);
            }
            continue;
        }
        if (retval) {
            fail_msg("case %zu ('%s') was refused", i, cases[i].text);
        }
        assert_int_equal(size, strlen(cases[i].decoded));
        assert_memory_equal(data, cases[i].decoded, size);

        AUTOFREE char *again = identity_base64_encode(cases[i].alphabet,
                                                      data, size);
        assert_string_equal(again, cases[i].text);
        free(data);
    }

    /* Every length and byte value round-trips in both alphabets. */
    unsigned char bytes[300];
    for (size_t i = 0; i < sizeof bytes; i++) {
        bytes[i] = (unsigned char) (i * 37 + 11);
    }
    for (size_t n = 0; n <= sizeof bytes; n += 7) {
        for (int a = 0; a < 2; a++) {
            enum identity_base64_alphabet alphabet = a ? IDENTITY_BASE64_URL
                                                       : IDENTITY_BASE64_STD;
            AUTOFREE char *text = identity_base64_encode(alphabet, bytes, n);
            AUTOFREE void *data = NULL;
            size_t size = 0;

            assert_int_equal(identity_base64_decode(alphabet, text,
                                                    strlen(text), &data,
                                                    &size), 0);
            assert_int_equal(size, n);
            assert_memory_equal(data, bytes, n);
        }
    }
}

static void
test_report_rate(void **state)
{
    CLEANUP(identity_token_key_freep) struct identity_token_key *key =
        make_key(SECRET);
    struct identity_token token;
    AUTOFREE char *text = NULL;
    int64_t start, elapsed;

    (void) state;
    make_token(&token, true);
    text = identity_token_encode(key, &token);
    identity_token_destroy(&token);

    start = time_monotonic_ms();
    for (int i = 0; i < RATE_DECODES; i++) {
        struct identity_token out;

        assert_int_equal(identity_token_decode(key, text, NOW_MS, &out), 0);
        identity_token_destroy(&out);
    }
    elapsed = time_monotonic_ms() - start;
    printf("# token decode+verify: %d in %lld ms (%.0f per second), token "
           "size %zu bytes\n", RATE_DECODES, (long long) elapsed,
           elapsed > 0 ? RATE_DECODES * 1000.0 / (double) elapsed : 0.0,
           strlen(text));
    fflush(stdout);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_bad_tokens),
        cmocka_unit_test(test_bad_payloads),
        cmocka_unit_test(test_secrets),
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_report_rate),
    };

    return cmocka_run_group_tests_name("identity-token", tests, NULL, NULL);
}
