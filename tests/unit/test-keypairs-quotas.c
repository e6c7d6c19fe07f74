/* test-keypairs-quotas.c: the pure parts of the keypairs, flavors and
 * quotas modules of the compute API.
 *
 *   - public keys: fingerprints of keys made by ssh-keygen, checked against
 *     what "ssh-keygen -l -E md5" printed for them, and a table of keys
 *     that must be refused (bad base64, type mismatch, truncated blob,
 *     trailing bytes, unknown type, no key at all);
 *   - keypair names: Nova's allowed characters and lengths;
 *   - generated keys: PEM private key, "ssh-rsa ... Generated-by-Nova"
 *     public key that parses back, distinct keys on each call;
 *   - quota_check_deltas(): Nova's "Quota exceeded for ..." messages for
 *     one and several resources, unlimited quotas and exact fits;
 *   - the body of POST /flavors: defaults, generated ids, and the fields
 *     Nova's schema refuses. */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "api-cell/flavor-db.h"
#include "api-cell/flavors-api.h"
#include "api-cell/keypairs-api.h"
#include "api-cell/quota.h"
#include "shared/error.h"
#include "shared/flavor.h"
#include "shared/json-util.h"
#include "shared/uuid-util.h"
#include "shared/xalloc.h"

/* Made with ssh-keygen; fingerprints from "ssh-keygen -l -E md5 -f". */
#define KEY_RSA "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQCW16PBN9neUEK54Hyq" \
    "RKEdmwTDnJlUfcMHAwyvWESPE+KTditKrtMlHWu+FJaTDBL17QrltsJlxij2Z1e8vqIu" \
    "mWRJfdeQp3sNc8OUe95FzFXTy6e4Y3x614liogBDR9+wVNhoftBrttGS1aVTaNzdKhfH" \
    "CSGAM7NWkWbMsvj2NQ=="
#define FP_RSA "0e:f9:4a:c5:ff:a0:76:89:c1:69:35:82:30:91:73:61"
#define KEY_ED25519 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMMriCEwX1w+E+v7" \
    "zwOwNnyzkVIG5VTPWP55fPZcq7Lp"
#define FP_ED25519 "7a:57:52:ea:1f:bf:01:38:73:6a:5b:81:19:8f:df:ce"
#define KEY_ECDSA "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAI" \
    "bmlzdHAyNTYAAABBBPzoo+sqWaoUYvIrHoAlPpMGzi1eFKK7iK1m3SuH2ut3aVT0lIwU" \
    "hCVl+p6z5gu5N6T4++9KZjfxfybj2hZ8Tjk="
#define FP_ECDSA "0f:b1:e0:d4:40:f2:4d:eb:a7:01:ca:b7:42:3d:98:9b"

#define BAD_KEY_MESSAGE \
    "Keypair data is invalid: failed to generate fingerprint"

static void
test_fingerprints(void **state)
{
    static const struct {
        const char *key;
        const char *fingerprint;        /* NULL: refused */
    } cases[] = {
        { KEY_RSA, FP_RSA },
        { KEY_RSA " test@h3", FP_RSA },
        { KEY_RSA "\tcomment with spaces\n", FP_RSA },
        { KEY_ED25519, FP_ED25519 },
        { KEY_ED25519 " ", FP_ED25519 },
        { KEY_ECDSA " x", FP_ECDSA },
        /* Refused. */
        { "", NULL },
        { "ssh-rsa", NULL },
        { "ssh-rsa ", NULL },
        { " " KEY_RSA, NULL },
        { "ssh-rsa AAAA!!!!", NULL },
        { "ssh-rsa AAAAB3NzaC1yc2E", NULL },         /* bad padding */
        { "ssh-dss AAAAB3NzaC1yc2EAAAADAQABAAAAgQCW16PBN9neUEK54Hyq"
          "RKEdmwTDnJlUfcMHAwyvWESPE+KTditKrtMlHWu+FJaTDBL17QrltsJlxij2Z1e8"
          "vqIumWRJfdeQp3sNc8OUe95FzFXTy6e4Y3x614liogBDR9+wVNhoftBrttGS1aVT"
          "aNzdKhfHCSGAM7NWkWbMsvj2NQ==", NULL },   /* type mismatch */
        { "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMMriCEwX1w+E+v7zwOwNnyzkVIG"
          "5VTPWP55fPZc", NULL },                   /* truncated */
        { "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMMriCEwX1w+E+v7zwOwNnyzkVIG"
          "5VTPWP55fPZcq7LpAA==", NULL },           /* trailing byte */
        { "ssh-foo AAAAB3NzaC1yc2E=", NULL },
        { "not a key", NULL },
        { "-----BEGIN PUBLIC KEY-----", NULL },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char *fp = NULL;
        struct error *error = keypairs_api_fingerprint(cases[i].key, &fp);

        if (cases[i].fingerprint) {
            if (error) {
                fail_msg("case %zu: %s", i, error_message(error));
            }
            assert_string_equal(fp, cases[i].fingerprint);
            free(fp);
        } else {
            if (!error) {
                fail_msg("case %zu ('%s') was accepted", i, cases[i].key);
            }
            assert_int_equal(error_kind(error), ERROR_INVALID);
            assert_int_equal(error_http_status(error), 400);
            assert_string_equal(error_message(error), BAD_KEY_MESSAGE);
            error_free(error);
        }
    }
}

static void
test_names(void **state)
{
    static const struct {
        const char *name;
        const char *message;    /* NULL: accepted */
    } cases[] = {
        { "mykey", NULL },
        { "my key_1-2", NULL },
        { "A", NULL },
        { "", "Keypair data is invalid: Keypair name must be string and "
          "between 1 and 255 characters long" },
        { "test/keypair", "Keypair data is invalid: Keypair name contains "
          "unsafe characters" },
        { "* BAD CHARACTERS!  *", "Keypair data is invalid: Keypair name "
          "contains unsafe characters" },
        { "key.pem", "Keypair data is invalid: Keypair name contains "
          "unsafe characters" },
        { "k\xc3\xa9y", "Keypair data is invalid: Keypair name contains "
          "unsafe characters" },
    };
    AUTOFREE char *long_name = xmalloc(257);
    struct error *error;

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        error = keypairs_api_check_name(cases[i].name);
        if (!cases[i].message) {
            assert_null(error);
            continue;
        }
        assert_non_null(error);
        assert_int_equal(error_kind(error), ERROR_INVALID);
        assert_string_equal(error_message(error), cases[i].message);
        error_free(error);
    }

    memset(long_name, 'x', 256);
    long_name[256] = '\0';
    error = keypairs_api_check_name(long_name);
    assert_non_null(error);
    error_free(error);
    long_name[255] = '\0';
    assert_null(keypairs_api_check_name(long_name));
}

static void
test_generate(void **state)
{
    char *private1 = NULL, *public1 = NULL, *private2 = NULL, *public2 = NULL;
    char *fp = NULL;
    size_t n;

    (void) state;
    assert_null(keypairs_api_generate(&private1, &public1));
    assert_null(keypairs_api_generate(&private2, &public2));
    assert_true(!strncmp(private1, "-----BEGIN RSA PRIVATE KEY-----\n",
                         strlen("-----BEGIN RSA PRIVATE KEY-----\n")));
    assert_non_null(strstr(private1, "-----END RSA PRIVATE KEY-----"));
    assert_true(!strncmp(public1, "ssh-rsa AAAAB3NzaC1yc2E",
                         strlen("ssh-rsa AAAAB3NzaC1yc2E")));
    n = strlen(public1);
    assert_true(n > strlen(" Generated-by-Nova"));
    assert_string_equal(public1 + n - strlen(" Generated-by-Nova"),
                        " Generated-by-Nova");
    /* A 2048-bit modulus: the base64 of the blob is 372 characters. */
    assert_int_equal(strchr(public1 + 8, ' ') - (public1 + 8), 372);
    assert_null(keypairs_api_fingerprint(public1, &fp));
    assert_int_equal(strlen(fp), 47);
    free(fp);
    assert_string_not_equal(public1, public2);
    assert_string_not_equal(private1, private2);
    free(private1);
    free(public1);
    free(private2);
    free(public2);
}

static void
test_quota_messages(void **state)
{
    struct quota_set limits, in_use, deltas;
    struct error *error;

    (void) state;
    memset(&limits, 0, sizeof limits);
    memset(&in_use, 0, sizeof in_use);
    memset(&deltas, 0, sizeof deltas);
    limits.v[QUOTA_instances] = 10;
    limits.v[QUOTA_cores] = 20;
    limits.v[QUOTA_ram] = 51200;

    /* Fits, exactly. */
    in_use.v[QUOTA_instances] = 9;
    deltas.v[QUOTA_instances] = 1;
    assert_null(quota_check_deltas(&limits, &in_use, &deltas));

    /* One resource over. */
    in_use.v[QUOTA_instances] = 10;
    error = quota_check_deltas(&limits, &in_use, &deltas);
    assert_non_null(error);
    assert_int_equal(error_kind(error), ERROR_QUOTA);
    assert_int_equal(error_http_status(error), 403);
    assert_string_equal(error_message(error), "Quota exceeded for "
                        "instances: Requested 1, but already used 10 of 10 "
                        "instances");
    error_free(error);

    /* Several, in name order. */
    in_use.v[QUOTA_instances] = 1;
    in_use.v[QUOTA_cores] = 18;
    in_use.v[QUOTA_ram] = 50000;
    deltas.v[QUOTA_instances] = 2;
    deltas.v[QUOTA_cores] = 4;
    deltas.v[QUOTA_ram] = 2048;
    error = quota_check_deltas(&limits, &in_use, &deltas);
    assert_non_null(error);
    assert_string_equal(error_message(error), "Quota exceeded for cores, "
                        "ram: Requested 4, 2048, but already used 18, 50000 "
                        "of 20, 51200 cores, ram");
    error_free(error);

    /* Unlimited. */
    limits.v[QUOTA_cores] = -1;
    limits.v[QUOTA_ram] = -1;
    assert_null(quota_check_deltas(&limits, &in_use, &deltas));

    /* A zero limit refuses everything. */
    limits.v[QUOTA_instances] = 0;
    in_use.v[QUOTA_instances] = 0;
    error = quota_check_deltas(&limits, &in_use, &deltas);
    assert_non_null(error);
    assert_string_equal(error_message(error), "Quota exceeded for "
                        "instances: Requested 2, but already used 0 of 0 "
                        "instances");
    error_free(error);
}

static void
test_quota_names(void **state)
{
    struct compute_api_config config;
    struct quota_set defaults;
    enum quota_resource r;

    (void) state;
    compute_api_config_init(&config);
    quota_defaults(&config, &defaults);
    assert_int_equal(defaults.v[QUOTA_instances], 10);
    assert_int_equal(defaults.v[QUOTA_cores], 20);
    assert_int_equal(defaults.v[QUOTA_ram], 51200);
    assert_int_equal(defaults.v[QUOTA_key_pairs], 100);
    assert_int_equal(quota_resource_from_string("key_pairs", &r), 0);
    assert_int_equal(r, QUOTA_key_pairs);
    assert_string_equal(quota_resource_to_string(QUOTA_metadata_items),
                        "metadata_items");
    assert_true(quota_resource_from_string("floating_ips", &r) < 0);
    assert_null(quota_resource_to_string(QUOTA_N_RESOURCES));
}

static struct error *
parse_flavor(const char *text, struct flavor_record **ret)
{
    struct json_object *body = NULL;
    struct error *error;

    error = json_parse_text(text, strlen(text), 0, 0, &body);
    if (!error) {
        error = flavors_api_parse_create(body, ret);
    }
    json_object_put(body);
    return error;
}

static void
test_flavor_create_body(void **state)
{
    static const struct {
        const char *body;
        const char *message_part;   /* NULL: accepted */
    } bad[] = {
        { "{}", "'flavor' is a required property" },
        { "{\"flavor\": {\"ram\": 1, \"vcpus\": 1, \"disk\": 0}}",
          "'flavor.name' is a required property" },
        { "{\"flavor\": {\"name\": \"a\", \"vcpus\": 1, \"disk\": 0}}",
          "'flavor.ram' is a required property" },
        { "{\"flavor\": {\"name\": \"a\", \"ram\": 0, \"vcpus\": 1, "
          "\"disk\": 0}}", "flavor.ram" },
        { "{\"flavor\": {\"name\": \"a\", \"ram\": 1, \"vcpus\": 1, "
          "\"disk\": -1}}", "flavor.disk" },
        { "{\"flavor\": {\"name\": \" a\", \"ram\": 1, \"vcpus\": 1, "
          "\"disk\": 0}}", "Can not start or end with whitespace" },
        { "{\"flavor\": {\"name\": \"a\", \"id\": \"a/b\", \"ram\": 1, "
          "\"vcpus\": 1, \"disk\": 0}}", "does not match" },
        { "{\"flavor\": {\"name\": \"a\", \"ram\": 1, \"vcpus\": 1, "
          "\"disk\": 0, \"rxtx_factor\": 0}}", "rxtx_factor" },
        { "{\"flavor\": {\"name\": \"a\", \"ram\": 1, \"vcpus\": 1, "
          "\"disk\": 0, \"foo\": 1}}", "Additional properties are not "
          "allowed ('foo' was unexpected)" },
        { "{\"flavor\": {\"name\": \"a\", \"ram\": 1, \"vcpus\": 1, "
          "\"disk\": 0, \"os-flavor-access:is_public\": \"maybe\"}}",
          "is_public" },
    };
    struct flavor_record *record = NULL;
    struct error *error;

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        error = parse_flavor(bad[i].body, &record);
        if (!error) {
            fail_msg("case %zu accepted", i);
        }
        assert_int_equal(error_kind(error), ERROR_INVALID);
        if (!strstr(error_message(error), bad[i].message_part)) {
            fail_msg("case %zu: '%s' lacks '%s'", i, error_message(error),
                     bad[i].message_part);
        }
        error_free(error);
    }

    /* Defaults and a generated id. */
    assert_null(parse_flavor("{\"flavor\": {\"name\": \"m1.x\", \"ram\": "
                             "512, \"vcpus\": 1, \"disk\": 1, \"id\": "
                             "null}}", &record));
    assert_true(uuid_is_valid(record->flavor->flavorid));
    assert_string_equal(record->flavor->name, "m1.x");
    assert_int_equal(record->flavor->memory_mb, 512);
    assert_int_equal(record->flavor->ephemeral_gb, 0);
    assert_int_equal(record->flavor->swap, 0);
    assert_true(record->rxtx_factor == 1.0);
    assert_true(record->is_public);
    flavor_record_free(record);

    /* Strings for numbers, an integer id, private. */
    assert_null(parse_flavor("{\"flavor\": {\"name\": \"m1.y\", \"ram\": "
                             "\"1024\", \"vcpus\": \"2\", \"disk\": \"0\", "
                             "\"id\": 42, \"swap\": 512, "
                             "\"OS-FLV-EXT-DATA:ephemeral\": 5, "
                             "\"rxtx_factor\": \"2.5\", "
                             "\"os-flavor-access:is_public\": false}}",
                             &record));
    assert_string_equal(record->flavor->flavorid, "42");
    assert_int_equal(record->flavor->memory_mb, 1024);
    assert_int_equal(record->flavor->vcpus, 2);
    assert_int_equal(record->flavor->swap, 512);
    assert_int_equal(record->flavor->ephemeral_gb, 5);
    assert_true(record->rxtx_factor == 2.5);
    assert_false(record->is_public);
    flavor_record_free(record);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fingerprints),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_generate),
        cmocka_unit_test(test_quota_messages),
        cmocka_unit_test(test_quota_names),
        cmocka_unit_test(test_flavor_create_body),
    };

    return cmocka_run_group_tests_name("keypairs-quotas", tests, NULL, NULL);
}
