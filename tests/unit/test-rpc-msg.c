/* test-rpc-msg.c: the RPC envelope: round trips and a table of bad ones. */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "cells-rpc/rpc-msg.h"
#include "shared/error.h"
#include "shared/json-util.h"
#include "shared/xalloc.h"

#define GOOD_ID "0b7f3f4e-5d1c-4c55-9f39-0d6f7a1f2b3c"

/* A valid request; the bad-envelope rows each break one thing in it. */
static const char good_envelope[] =
    "{\"protocol\": 1, \"msg_id\": \"" GOOD_ID "\","
    " \"method\": \"build_instance\", \"version\": \"1.3\","
    " \"args\": {\"flavor\": \"m1.small\", \"n\": [1, 2]},"
    " \"context\": {\"request_id\": \"req-1\", \"user_id\": \"u\","
    "   \"project_id\": \"p\", \"roles\": [\"member\", \"reader\"],"
    "   \"is_admin\": false},"
    " \"deadline\": 1763795700123,"
    " \"extra\": {\"cell\": \"api!east\"}}";

static struct rpc_msg *
decode_ok(const char *text)
{
    struct rpc_msg *msg = NULL;
    struct error *err = rpc_msg_decode(text, strlen(text), &msg, NULL);

    if (err) {
        fail_msg("%s", error_message(err));
    }
    return msg;
}

static void
test_decode_good(void **state)
{
    CLEANUP(rpc_msg_freep) struct rpc_msg *msg = decode_ok(good_envelope);

    (void) state;
    assert_string_equal(msg->msg_id, GOOD_ID);
    assert_string_equal(msg->method, "build_instance");
    assert_int_equal(msg->version.major, 1);
    assert_int_equal(msg->version.minor, 3);
    assert_string_equal(json_object_get_string(
        json_object_object_get(msg->args, "flavor")), "m1.small");
    assert_string_equal(msg->ctx.request_id, "req-1");
    assert_string_equal(msg->ctx.user_id, "u");
    assert_string_equal(msg->ctx.project_id, "p");
    assert_int_equal(msg->ctx.n_roles, 2);
    assert_string_equal(msg->ctx.roles[1], "reader");
    assert_false(msg->ctx.is_admin);
    assert_int_equal(msg->deadline_ms, 1763795700123LL);
    assert_string_equal(json_object_get_string(
        json_object_object_get(msg->extra, "cell")), "api!east");
}

static void
test_round_trip(void **state)
{
    CLEANUP(rpc_msg_freep) struct rpc_msg *msg = NULL;
    CLEANUP(rpc_msg_freep) struct rpc_msg *back = NULL;
    CLEANUP(rpc_msg_freep) struct rpc_msg *clone = NULL;
    AUTOFREE char *text = NULL;
    AUTOFREE char *text2 = NULL;
    size_t size, size2;
    struct json_object *args = json_object_new_object();

    (void) state;
    json_object_object_add(args, "name", json_object_new_string("vm/1 \"x\""));
    json_object_object_add(args, "ram", json_object_new_int(512));
    msg = rpc_msg_new("instance_update_at_top", args);
    assert_true(rpc_msg_id_is_valid(msg->msg_id));
    msg->version.major = 2;
    msg->version.minor = 17;
    rpc_ctx_set_request_id(&msg->ctx, "req-abc");
    rpc_ctx_set_user(&msg->ctx, "alice", "proj");
    rpc_ctx_add_role(&msg->ctx, "admin");
    msg->ctx.is_admin = true;
    msg->deadline_ms = 1234567890123LL;
    msg->extra = json_object_new_object();
    json_object_object_add(msg->extra, "hops", json_object_new_int(3));

    assert_null(rpc_msg_encode(msg, &text, &size));
    assert_int_equal(strlen(text), size);
    assert_null(rpc_msg_decode(text, size, &back, NULL));
    assert_string_equal(back->msg_id, msg->msg_id);
    assert_string_equal(back->method, msg->method);
    assert_int_equal(back->version.major, 2);
    assert_int_equal(back->version.minor, 17);
    assert_true(json_object_equal(back->args, msg->args));
    assert_true(json_object_equal(back->extra, msg->extra));
    assert_string_equal(back->ctx.request_id, "req-abc");
    assert_string_equal(back->ctx.user_id, "alice");
    assert_string_equal(back->ctx.project_id, "proj");
    assert_int_equal(back->ctx.n_roles, 1);
    assert_string_equal(back->ctx.roles[0], "admin");
    assert_true(back->ctx.is_admin);
    assert_int_equal(back->deadline_ms, msg->deadline_ms);

    /* Clone, re-encode: same text. */
    clone = rpc_msg_clone(back);
    /* A deep copy: equal values, nothing shared. */
    assert_ptr_not_equal(clone->args, back->args);
    assert_ptr_not_equal(clone->extra, back->extra);
    assert_true(json_object_equal(clone->args, back->args));
    assert_null(rpc_msg_encode(clone, &text2, &size2));
    assert_string_equal(text, text2);

    /* Empty context and no deadline are fine too. */
    {
        CLEANUP(rpc_msg_freep) struct rpc_msg *bare = rpc_msg_new("ping",
                                                                 NULL);
        CLEANUP(rpc_msg_freep) struct rpc_msg *bare2 = NULL;
        AUTOFREE char *t = NULL;

        assert_null(rpc_msg_encode(bare, &t, &size));
        assert_null(rpc_msg_decode(t, size, &bare2, NULL));
        assert_null(bare2->ctx.request_id);
        assert_int_equal(bare2->deadline_ms, 0);
        assert_null(bare2->extra);
    }
}

/* Returns 'good_envelope' with 'key' of object 'where' (NULL: the top
 * level, else a key of the top level) set to 'value' (JSON text) or
 * removed ('value' NULL).  The caller frees the result. */
static char *
mutate(const char *where, const char *key, const char *value)
{
    struct json_object *doc = json_tokener_parse(good_envelope);
    struct json_object *obj = doc;
    char *text;

    if (where) {
        obj = json_object_object_get(doc, where);
    }
    if (value) {
        struct json_object *v = json_tokener_parse(value);

        if (!v && strcmp(value, "null")) {
            fail_msg("bad test value '%s'", value);
        }
        json_object_object_add(obj, key, v);
    } else {
        json_object_object_del(obj, key);
    }
    text = xstrdup(json_object_to_json_string_ext(doc,
                                                  JSON_C_TO_STRING_PLAIN));
    json_object_put(doc);
    return text;
}

static char *
repeat(char c, size_t n, const char *prefix, const char *suffix)
{
    size_t a = strlen(prefix), b = strlen(suffix);
    char *s = xmalloc(a + n + b + 1);

    memcpy(s, prefix, a);
    memset(s + a, c, n);
    memcpy(s + a + n, suffix, b + 1);
    return s;
}

static void
test_bad_envelopes(void **state)
{
    static const struct {
        const char *where;
        const char *key;
        const char *value;      /* NULL: remove the key. */
        const char *words;
    } cases[] = {
        { NULL, "protocol", NULL, "'protocol' is a required property" },
        { NULL, "protocol", "\"1\"", "protocol" },
        { NULL, "protocol", "2", "Unsupported RPC protocol 2" },
        { NULL, "protocol", "1.5", "protocol" },
        { NULL, "msg_id", NULL, "'msg_id' is a required property" },
        { NULL, "msg_id", "5", "msg_id" },
        { NULL, "msg_id", "\"not-a-uuid\"", "msg_id" },
        { NULL, "msg_id", "\"0B7F3F4E-5D1C-4C55-9F39-0D6F7A1F2B3C\"",
          "msg_id" },
        { NULL, "msg_id", "\"" GOOD_ID "0\"", "msg_id" },
        { NULL, "method", NULL, "'method' is a required property" },
        { NULL, "method", "5", "method" },
        { NULL, "method", "\"\"", "method" },
        { NULL, "method", "\"1abc\"", "method" },
        { NULL, "method", "\"has space\"", "method" },
        { NULL, "method", "\"dot.ted\"", "method" },
        { NULL, "version", NULL, "'version' is a required property" },
        { NULL, "version", "1", "version" },
        { NULL, "version", "\"1\"", "version" },
        { NULL, "version", "\"1.2.3\"", "version" },
        { NULL, "version", "\"01.2\"", "version" },
        { NULL, "version", "\"1.x\"", "version" },
        { NULL, "version", "\"\"", "version" },
        { NULL, "version", "\"65536.0\"", "version" },
        { NULL, "version", "\"-1.0\"", "version" },
        { NULL, "args", NULL, "'args' is a required property" },
        { NULL, "args", "[]", "args" },
        { NULL, "args", "\"x\"", "args" },
        { NULL, "args", "null", "args" },
        { NULL, "context", NULL, "'context' is a required property" },
        { NULL, "context", "[]", "context" },
        { "context", "foo", "1", "'foo' was unexpected" },
        { "context", "request_id", "5", "context.request_id" },
        { "context", "user_id", "[]", "context.user_id" },
        { "context", "project_id", "null", "context.project_id" },
        { "context", "roles", "\"admin\"", "context.roles" },
        { "context", "roles", "[\"a\", 5]", "context.roles[1]" },
        { "context", "is_admin", "\"yes\"", "context.is_admin" },
        { "context", "is_admin", "1", "context.is_admin" },
        { NULL, "deadline", "\"5\"", "deadline" },
        { NULL, "deadline", "0", "deadline" },
        { NULL, "deadline", "-1", "deadline" },
        { NULL, "deadline", "1.5", "deadline" },
        { NULL, "deadline", "253402300800000", "deadline" },
        { NULL, "extra", "[]", "extra" },
        { NULL, "extra", "5", "extra" },
        { NULL, "bogus", "1", "'bogus' was unexpected" },
    };

    (void) state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        AUTOFREE char *text = mutate(cases[i].where, cases[i].key,
                                     cases[i].value);
        struct rpc_msg *msg = NULL;
        char found_id[RPC_MSG_ID_SIZE];
        CLEANUP(error_freep) struct error *err =
            rpc_msg_decode(text, strlen(text), &msg, found_id);

        if (!err) {
            fail_msg("row %zu accepted: %s", i, text);
        }
        assert_null(msg);
        assert_int_equal(error_kind(err), ERROR_INVALID);
        if (!strstr(error_message(err), cases[i].words)
            || strncmp(error_message(err), "Invalid RPC message: ", 21)) {
            fail_msg("row %zu: '%s' lacks '%s'", i, error_message(err),
                     cases[i].words);
        }
        /* The id is salvaged for the log line whenever it is valid. */
        if (strcmp(cases[i].key, "msg_id")) {
            assert_string_equal(found_id, GOOD_ID);
        } else {
            assert_string_equal(found_id, "");
        }
    }
}

static void
test_bad_lengths(void **state)
{
    static const struct {
        const char *where;
        const char *key;
        char fill;
        size_t n;               /* Characters inside the string. */
        bool ok;
    } cases[] = {
        { NULL, "method", 'm', RPC_MSG_MAX_METHOD_LENGTH, true },
        { NULL, "method", 'm', RPC_MSG_MAX_METHOD_LENGTH + 1, false },
        { "context", "request_id", 'r', RPC_CTX_MAX_REQUEST_ID_LENGTH, true },
        { "context", "request_id", 'r', RPC_CTX_MAX_REQUEST_ID_LENGTH + 1,
          false },
        { "context", "user_id", 'u', RPC_CTX_MAX_ID_LENGTH, true },
        { "context", "user_id", 'u', RPC_CTX_MAX_ID_LENGTH + 1, false },
        { "context", "project_id", 'p', RPC_CTX_MAX_ID_LENGTH + 1, false },
    };

    (void) state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        AUTOFREE char *value = repeat(cases[i].fill, cases[i].n, "\"", "\"");
        AUTOFREE char *text = mutate(cases[i].where, cases[i].key, value);
        struct rpc_msg *msg = NULL;
        struct error *err = rpc_msg_decode(text, strlen(text), &msg, NULL);

        if ((err == NULL) != cases[i].ok) {
            fail_msg("row %zu: %s", i, err ? error_message(err) : "ok");
        }
        error_free(err);
        rpc_msg_free(msg);
    }

    /* Roles: count and length. */
    {
        AUTOFREE char *many = xstrdup("[");
        AUTOFREE char *role = repeat('x', RPC_CTX_MAX_ROLE_LENGTH + 1,
                                     "[\"", "\"]");
        AUTOFREE char *t1 = NULL;
        AUTOFREE char *t2 = NULL;
        struct rpc_msg *msg = NULL;
        struct error *err;

        for (int i = 0; i <= RPC_CTX_MAX_ROLES; i++) {
            char *more = xasprintf("%s%s\"r%d\"", many, i ? "," : "", i);

            free(many);
            many = more;
        }
        {
            char *more = xasprintf("%s]", many);

            free(many);
            many = more;
        }
        t1 = mutate("context", "roles", many);
        err = rpc_msg_decode(t1, strlen(t1), &msg, NULL);
        assert_non_null(err);
        assert_non_null(strstr(error_message(err), "context.roles"));
        error_free(err);
        t2 = mutate("context", "roles", role);
        err = rpc_msg_decode(t2, strlen(t2), &msg, NULL);
        assert_non_null(err);
        assert_non_null(strstr(error_message(err), "context.roles[0]"));
        error_free(err);
        assert_null(msg);
    }
}

static void
test_not_envelopes(void **state)
{
    static const struct {
        const char *text;
        enum error_kind kind;
    } cases[] = {
        { "", ERROR_INVALID },
        { "{", ERROR_INVALID },
        { "[]", ERROR_INVALID },
        { "null", ERROR_INVALID },
        { "\"str\"", ERROR_INVALID },
        { "{} x", ERROR_INVALID },
        { "{\"protocol\": 1}", ERROR_INVALID },
        { "\xff\xfe", ERROR_INVALID },
    };
    AUTOFREE char *deep = NULL;
    AUTOFREE char *huge = NULL;
    struct rpc_msg *msg = NULL;
    struct error *err;

    (void) state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        err = rpc_msg_decode(cases[i].text, strlen(cases[i].text), &msg,
                             NULL);
        if (!err) {
            fail_msg("row %zu accepted", i);
        }
        assert_int_equal(error_kind(err), cases[i].kind);
        error_free(err);
    }

    /* An embedded NUL. */
    err = rpc_msg_decode("{}\0{}", 5, &msg, NULL);
    assert_non_null(err);
    error_free(err);

    /* Nested deeper than RPC_MSG_MAX_DEPTH, inside args. */
    {
        AUTOFREE char *open = repeat('[', RPC_MSG_MAX_DEPTH + 1, "", "");
        AUTOFREE char *close = repeat(']', RPC_MSG_MAX_DEPTH + 1, "", "");
        AUTOFREE char *value = xasprintf("{\"a\": %s%s}", open, close);

        deep = xasprintf("{\"protocol\": 1, \"msg_id\": \"" GOOD_ID "\", "
                         "\"method\": \"m\", \"version\": \"1.0\", "
                         "\"context\": {}, \"args\": %s}", value);
    }
    err = rpc_msg_decode(deep, strlen(deep), &msg, NULL);
    assert_non_null(err);
    assert_non_null(strstr(error_message(err), "levels"));
    error_free(err);

    /* One byte over the size limit: refused before parsing. */
    huge = repeat(' ', RPC_MSG_MAX_SIZE + 1 - 2, "{", "}");
    err = rpc_msg_decode(huge, strlen(huge), &msg, NULL);
    assert_non_null(err);
    assert_int_equal(error_kind(err), ERROR_TOO_LARGE);
    error_free(err);
    assert_null(msg);
}

static void
test_encode_refuses(void **state)
{
    struct {
        const char *method;
        int what;
    } cases[] = {
        { "bad name", 0 },
        { "ok", 1 },            /* args not an object */
        { "ok", 2 },            /* extra not an object */
        { "ok", 3 },            /* too many roles */
        { "ok", 4 },            /* negative deadline */
        { "ok", 5 },            /* too large */
        { "ok", 6 },            /* bad msg_id */
    };

    (void) state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CLEANUP(rpc_msg_freep) struct rpc_msg *msg =
            rpc_msg_new(cases[i].method, NULL);
        char *text = NULL;
        size_t size;
        struct error *err;

        switch (cases[i].what) {
        case 1:
            json_object_put(msg->args);
            msg->args = json_object_new_array();
            break;
        case 2:
            msg->extra = json_object_new_int(1);
            break;
        case 3:
            for (int r = 0; r <= RPC_CTX_MAX_ROLES; r++) {
                rpc_ctx_add_role(&msg->ctx, "r");
            }
            break;
        case 4:
            msg->deadline_ms = -1;
            break;
        case 5: {
            AUTOFREE char *big = repeat('x', RPC_MSG_MAX_SIZE, "", "");

            json_object_object_add(msg->args, "big",
                                   json_object_new_string(big));
            break;
        }
        case 6:
            msg->msg_id[0] = 'X';
            break;
        }
        err = rpc_msg_encode(msg, &text, &size);
        if (!err) {
            fail_msg("row %zu encoded", i);
        }
        assert_null(text);
        assert_int_equal(error_kind(err),
                         cases[i].what == 5 ? ERROR_TOO_LARGE
                         : ERROR_INVALID);
        error_free(err);
    }
}

static void
test_reply_round_trip(void **state)
{
    CLEANUP(error_freep) struct error *remote =
        error_new(ERROR_NOT_FOUND, "Instance 'abc' could not be found.");
    struct json_object *result = json_tokener_parse("{\"host\": \"h1\"}");
    char id[RPC_MSG_ID_SIZE];
    struct json_object *got;
    struct error *got_error;
    AUTOFREE char *t1 = NULL;
    AUTOFREE char *t2 = NULL;
    AUTOFREE char *t3 = NULL;
    size_t s1, s2, s3;

    (void) state;
    assert_null(rpc_msg_encode_reply(GOOD_ID, result, NULL, &t1, &s1));
    assert_null(rpc_msg_decode_reply(t1, s1, id, &got, &got_error));
    assert_string_equal(id, GOOD_ID);
    assert_null(got_error);
    assert_true(json_object_equal(got, result));
    json_object_put(got);
    json_object_put(result);

    assert_null(rpc_msg_encode_reply(GOOD_ID, NULL, NULL, &t2, &s2));
    assert_null(rpc_msg_decode_reply(t2, s2, id, &got, &got_error));
    assert_null(got);
    assert_null(got_error);

    assert_null(rpc_msg_encode_reply(GOOD_ID, NULL, remote, &t3, &s3));
    assert_null(rpc_msg_decode_reply(t3, s3, id, &got, &got_error));
    assert_null(got);
    assert_non_null(got_error);
    assert_int_equal(error_kind(got_error), ERROR_NOT_FOUND);
    assert_string_equal(error_message(got_error), error_message(remote));
    error_free(got_error);
}

static void
test_bad_replies(void **state)
{
    static const char *const cases[] = {
        "{\"protocol\": 1, \"msg_id\": \"" GOOD_ID "\"}",
        "{\"protocol\": 1, \"msg_id\": \"" GOOD_ID "\", \"result\": 1,"
        " \"error\": {}}",
        "{\"protocol\": 1, \"msg_id\": \"" GOOD_ID "\", \"error\": 5}",
        "{\"protocol\": 1, \"msg_id\": \"x\", \"result\": 1}",
        "{\"protocol\": 2, \"msg_id\": \"" GOOD_ID "\", \"result\": 1}",
        "{\"msg_id\": \"" GOOD_ID "\", \"result\": 1}",
        "{\"protocol\": 1, \"msg_id\": \"" GOOD_ID "\", \"result\": 1,"
        " \"x\": 1}",
        "[1]",
        "{",
    };

    (void) state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char id[RPC_MSG_ID_SIZE];
        struct json_object *got = NULL;
        struct error *got_error = NULL;
        struct error *err = rpc_msg_decode_reply(cases[i], strlen(cases[i]),
                                                 id, &got, &got_error);

        if (!err) {
            fail_msg("row %zu accepted", i);
        }
        assert_null(got);
        assert_null(got_error);
        error_free(err);
    }
}

static void
test_method_names(void **state)
{
    static const struct {
        const char *name;
        bool ok;
    } cases[] = {
        { "build_instance", true }, { "_private", true }, { "A1", true },
        { "", false }, { "1a", false }, { "a-b", false }, { "a.b", false },
        { "a b", false }, { NULL, false },
    };

    (void) state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(rpc_msg_method_is_valid(cases[i].name),
                         cases[i].ok);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_good),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_bad_envelopes),
        cmocka_unit_test(test_bad_lengths),
        cmocka_unit_test(test_not_envelopes),
        cmocka_unit_test(test_encode_refuses),
        cmocka_unit_test(test_reply_round_trip),
        cmocka_unit_test(test_bad_replies),
        cmocka_unit_test(test_method_names),
    };

    return cmocka_run_group_tests_name("rpc-msg", tests, NULL, NULL);
}
