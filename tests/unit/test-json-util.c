/* test-json-util.c: request body parsing, the typed getters and their
 * messages, the allowed-keys check and value excerpts. */
#include <config.h>

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "shared/cleanup.h"
#include "shared/error.h"
#include "shared/json-util.h"
#include "shared/xalloc.h"

/* Parses 'text' with generous limits, failing the test on error. */
static struct json_object *
parse_or_fail(const char *text)
{
    struct json_object *doc = NULL;
    CLEANUP(error_freep) struct error *error =
        json_parse_text(text, strlen(text), 0, 0, &doc);

    if (error) {
        fail_msg("cannot parse test document: %s", error_message(error));
    }
    return doc;
}

/* Asserts that 'error' is NULL, printing its message if it is not. */
static void
assert_no_error(struct error *error)
{
    if (error) {
        fail_msg("unexpected error: %s", error_message(error));
    }
}

static void
test_parse_text(void **state)
{
    static const struct {
        const char *text;
        size_t size;            /* 0: strlen(text). */
        size_t max_size;
        size_t max_depth;
        enum error_kind kind;   /* Ignored when 'message' is NULL. */
        const char *message;    /* NULL: success, rendered as 'compact'. */
        const char *compact;
    } cases[] = {
        { "{\"server\": {\"name\": \"vm\"}}", 0, 1024, 8, 0, NULL,
          "{\"server\":{\"name\":\"vm\"}}" },
        { " \r\n\t[1, 2]\n ", 0, 1024, 8, 0, NULL, "[1,2]" },
        { "5", 0, 1024, 8, 0, NULL, "5" },
        { "\"a/b\"", 0, 1024, 8, 0, NULL, "\"a/b\"" },
        { "null", 0, 1024, 8, 0, NULL, "null" },
        { "[[[]]]", 0, 1024, 3, 0, NULL, "[[[]]]" },
        { "[1, 2, 3]", 0, 9, 8, 0, NULL, "[1,2,3]" },
        { "{\"a\": 1, \"a\": 2}", 0, 1024, 8, 0, NULL, "{\"a\":2}" },
        { "\"\xc3\xa9\"", 0, 1024, 8, 0, NULL, "\"\xc3\xa9\"" },
        /* Only the first 'size' bytes count: "12", not "123". */
        { "123", 2, 1024, 8, 0, NULL, "12" },

        { "", 0, 1024, 8, ERROR_INVALID,
          "Malformed request body: unexpected end of data at byte 0" },
        { "   ", 0, 1024, 8, ERROR_INVALID,
          "Malformed request body: unexpected end of data at byte 3" },
        { "{\"server\": ", 0, 1024, 8, ERROR_INVALID,
          "Malformed request body: unexpected end of data at byte 11" },
        { "{\"a\": 1} x", 0, 1024, 8, ERROR_INVALID,
          "Malformed request body: unexpected character at byte 9" },
        { "{}{}", 0, 1024, 8, ERROR_INVALID,
          "Malformed request body: unexpected character at byte 2" },
        { "[1,]", 0, 1024, 8, ERROR_INVALID,
          "Malformed request body: unexpected character at byte 3" },
        { "{name: 1}", 0, 1024, 8, ERROR_INVALID,
          "Malformed request body: quoted object property name expected "
          "at byte 1" },
        { "[[[[]]]]", 0, 1024, 3, ERROR_INVALID,
          "Malformed request body: nesting too deep at byte 3 (at most 3 "
          "levels are allowed)" },
        { "\"\xff\"", 0, 1024, 8, ERROR_INVALID,
          "Malformed request body: invalid utf-8 string at byte 1" },
        /* json-c notices a cut sequence at the byte that should go on. */
        { "\"\xc3\"", 0, 1024, 8, ERROR_INVALID,
          "Malformed request body: invalid utf-8 string at byte 2" },
        { "[1]\0 ", 5, 1024, 8, ERROR_INVALID,
          "Malformed request body: NUL byte at byte 3" },
        { "[\"a\0b\"]", 7, 1024, 8, ERROR_INVALID,
          "Malformed request body: NUL byte at byte 3" },
        { "[1, 2, 3] ", 0, 9, 8, ERROR_TOO_LARGE,
          "Request body is too large: 10 bytes, the limit is 9 bytes" },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        size_t size = cases[i].size ? cases[i].size : strlen(cases[i].text);
        struct json_object *sentinel = json_object_new_object();
        struct json_object *doc = sentinel;
        CLEANUP(error_freep) struct error *error =
            json_parse_text(cases[i].text, size, cases[i].max_size,
                            cases[i].max_depth, &doc);

        if (!cases[i].message) {
            AUTOFREE char *compact = NULL;

            assert_no_error(error);
            assert_ptr_not_equal(doc, sentinel);
            compact = json_to_string_plain(doc);
            assert_string_equal(compact, cases[i].compact);
            json_object_put(doc);
        } else {
            assert_non_null(error);
            assert_int_equal(error_kind(error), cases[i].kind);
            assert_string_equal(error_message(error), cases[i].message);
            assert_ptr_equal(doc, sentinel);    /* Untouched on failure. */
        }
        json_object_put(sentinel);
    }
}

/* A buffer that is not NUL-terminated must not be read past its end
 * (AddressSanitizer watches the heap copy). */
static void
test_parse_text_unterminated_buffer(void **state)
{
    static const char body[] = "{\"count\": 42}";
    size_t size = sizeof body - 1;
    AUTOFREE char *copy = xmalloc(size);
    CLEANUP(json_putp) struct json_object *doc = NULL;
    AUTOFREE char *compact = NULL;

    (void) state;
    memcpy(copy, body, size);
    assert_no_error(json_parse_text(copy, size, size, 2, &doc));
    compact = json_to_string_plain(doc);
    assert_string_equal(compact, "{\"count\":42}");

    /* A number at the very end of the buffer. */
    json_putp(&doc);
    doc = NULL;
    memcpy(copy, "12345", 5);
    assert_no_error(json_parse_text(copy, 5, 0, 0, &doc));
    assert_int_equal(json_object_get_int(doc), 12345);
}

/* Depth 0 means JSON_DEFAULT_MAX_DEPTH. */
static void
test_parse_text_default_depth(void **state)
{
    char text[2 * (JSON_DEFAULT_MAX_DEPTH + 1) + 1];
    struct json_object *doc = NULL;

    (void) state;
    for (size_t depth = JSON_DEFAULT_MAX_DEPTH;
         depth <= JSON_DEFAULT_MAX_DEPTH + 1; depth++) {
        CLEANUP(error_freep) struct error *error = NULL;

        memset(text, '[', depth);
        memset(text + depth, ']', depth);
        text[2 * depth] = '\0';
        error = json_parse_text(text, 2 * depth, 0, 0, &doc);
        if (depth <= JSON_DEFAULT_MAX_DEPTH) {
            assert_no_error(error);
            json_object_put(doc);
            doc = NULL;
        } else {
            assert_non_null(error);
            assert_non_null(strstr(error_message(error),
                                   "nesting too deep"));
        }
    }
}

enum getter {
    GET_OBJECT,
    GET_ARRAY,
    GET_STRING,
    GET_STRING_OR_INT,
    GET_INT,
    GET_INT_OR_STRING,
    GET_BOOL,
    GET_BOOL_OR_STRING,
    GET_DOUBLE,
};

static const char getters_doc[] =
    "{\"server\": {"
    "  \"name\": \"vm-1\","
    "  \"utf8\": \"\xc3\xa9\xc3\xa9\xc3\xa9\","
    "  \"nul\": \"a\\u0000b\","
    "  \"flavorRef\": 5,"
    "  \"imageRef\": \"70a599e0-31e7-49b7-b260-868f441e862b\","
    "  \"min_count\": \"2\","
    "  \"max_count\": 3,"
    "  \"neg\": -7,"
    "  \"big\": 99999999999999999999,"
    "  \"str_zero\": \"0\","
    "  \"str_neg\": \"-5\","
    "  \"str_space\": \" 5\","
    "  \"str_plus\": \"+5\","
    "  \"str_empty\": \"\","
    "  \"str_huge\": \"99999999999999999999999\","
    "  \"str_tiny\": \"-99999999999999999999999\","
    "  \"accessIPv4\": null,"
    "  \"ratio\": 1.5,"
    "  \"float_int\": 2.0,"
    "  \"config_drive\": true,"
    "  \"forced\": \"Yes\","
    "  \"forced_off\": \"off\","
    "  \"metadata\": {\"a\": \"b\"},"
    "  \"networks\": [{\"uuid\": \"x\"}, \"auto\"]"
    "}}";

/* Runs getter 'g' and renders what it stored as text ("UNTOUCHED" if it
 * stored nothing).  'a' and 'b' are the limits: max_length or max_items in
 * 'a', or the range ['a', 'b']. */
static struct error *
run_getter(enum getter g, const struct json_object *obj, const char *path,
           const char *field, bool required, long long a, long long b,
           char **ret_text)
{
    struct json_object *o = NULL;
    const char *s = NULL;
    char *owned = NULL;
    long long n = 0;
    bool flag = false;
    double d = 0;
    bool stored = false;
    struct error *error = NULL;

    switch (g) {
    case GET_OBJECT:
        error = json_get_object(obj, path, field, required, &o);
        stored = o != NULL;
        break;
    case GET_ARRAY:
        error = json_get_array(obj, path, field, required, (size_t) a, &o);
        stored = o != NULL;
        break;
    case GET_STRING:
        error = json_get_string(obj, path, field, required, (size_t) a, &s);
        stored = s != NULL;
        break;
    case GET_STRING_OR_INT:
        error = json_get_string_or_int(obj, path, field, required,
                                       (size_t) a, &owned);
        stored = owned != NULL;
        break;
    case GET_INT:
        n = LLONG_MIN + 1;
        error = json_get_int(obj, path, field, required, a, b, &n);
        stored = n != LLONG_MIN + 1;
        break;
    case GET_INT_OR_STRING:
        n = LLONG_MIN + 1;
        error = json_get_int_or_string(obj, path, field, required, a, b, &n);
        stored = n != LLONG_MIN + 1;
        break;
    case GET_BOOL:
    case GET_BOOL_OR_STRING:
        /* Run twice from opposite presets to tell "stored" apart. */
        for (int pass = 0; pass < 2; pass++) {
            bool preset = pass == 1;
            flag = preset;
            error_free(error);
            error = (g == GET_BOOL
                     ? json_get_bool(obj, path, field, required, &flag)
                     : json_get_bool_or_string(obj, path, field, required,
                                               &flag));
            stored = pass == 0 ? flag != preset : stored || flag != preset;
        }
        break;
    case GET_DOUBLE:
        d = -12345.25;
        error = json_get_double(obj, path, field, required, &d);
        stored = d != -12345.25;
        break;
    }

    if (!stored) {
        *ret_text = xstrdup("UNTOUCHED");
    } else if (o) {
        *ret_text = json_to_string_plain(o);
    } else if (s) {
        *ret_text = xstrdup(s);
    } else if (owned) {
        *ret_text = owned;
        owned = NULL;
    } else if (g == GET_BOOL || g == GET_BOOL_OR_STRING) {
        *ret_text = xstrdup(flag ? "true" : "false");
    } else if (g == GET_DOUBLE) {
        *ret_text = xasprintf("%g", d);
    } else {
        *ret_text = xasprintf("%lld", n);
    }
    free(owned);
    return error;
}

#define INVALID_FOR(NAME, VALUE) \
    "Invalid input for field/attribute '" NAME "'. Value: " VALUE ". " VALUE

static void
test_getters(void **state)
{
    static const struct {
        enum getter getter;
        const char *path;       /* NULL: the document, else "server". */
        const char *field;
        bool required;
        long long a, b;
        const char *message;    /* NULL: success with 'value'. */
        const char *value;
    } cases[] = {
        /* Objects. */
        { GET_OBJECT, NULL, "server", true, 0, 0, NULL, NULL },
        { GET_OBJECT, "server", "metadata", true, 0, 0, NULL,
          "{\"a\":\"b\"}" },
        { GET_OBJECT, NULL, "flavor", true, 0, 0,
          "'flavor' is a required property" },
        { GET_OBJECT, NULL, "flavor", false, 0, 0, NULL, "UNTOUCHED" },
        { GET_OBJECT, "server", "name", true, 0, 0,
          INVALID_FOR("server.name", "\"vm-1\"") " is not of type 'object'" },
        { GET_OBJECT, "server", "accessIPv4", false, 0, 0,
          INVALID_FOR("server.accessIPv4", "null")
          " is not of type 'object'" },

        /* Arrays. */
        { GET_ARRAY, "server", "networks", true, 2, 0, NULL,
          "[{\"uuid\":\"x\"},\"auto\"]" },
        { GET_ARRAY, "server", "networks", true, 0, 0, NULL,
          "[{\"uuid\":\"x\"},\"auto\"]" },
        { GET_ARRAY, "server", "networks", true, 1, 0,
          INVALID_FOR("server.networks", "[{\"uuid\":\"x\"},\"auto\"]")
          " has too many items (2, the maximum is 1)" },
        { GET_ARRAY, "server", "metadata", true, 0, 0,
          INVALID_FOR("server.metadata", "{\"a\":\"b\"}")
          " is not of type 'array'" },
        { GET_ARRAY, "server", "security_groups", false, 0, 0, NULL,
          "UNTOUCHED" },

        /* Strings. */
        { GET_STRING, "server", "name", true, 255, 0, NULL, "vm-1" },
        { GET_STRING, "server", "name", true, 0, 0, NULL, "vm-1" },
        { GET_STRING, "server", "name", true, 4, 0, NULL, "vm-1" },
        { GET_STRING, "server", "name", true, 3, 0,
          INVALID_FOR("server.name", "\"vm-1\"")
          " is too long (4 characters, the maximum is 3)" },
        { GET_STRING, "server", "utf8", true, 3, 0, NULL,
          "\xc3\xa9\xc3\xa9\xc3\xa9" },
        { GET_STRING, "server", "utf8", true, 2, 0,
          INVALID_FOR("server.utf8", "\"\xc3\xa9\xc3\xa9\xc3\xa9\"")
          " is too long (3 characters, the maximum is 2)" },
        { GET_STRING, "server", "str_empty", true, 10, 0, NULL, "" },
        { GET_STRING, "server", "nul", true, 0, 0,
          INVALID_FOR("server.nul", "\"a\\u0000b\"")
          " contains a NUL character" },
        { GET_STRING, "server", "flavorRef", true, 0, 0,
          INVALID_FOR("server.flavorRef", "5") " is not of type 'string'" },
        { GET_STRING, "server", "accessIPv4", true, 0, 0,
          INVALID_FOR("server.accessIPv4", "null")
          " is not of type 'string'" },
        { GET_STRING, "server", "config_drive", true, 0, 0,
          INVALID_FOR("server.config_drive", "true")
          " is not of type 'string'" },
        { GET_STRING, "server", "networks", true, 0, 0,
          INVALID_FOR("server.networks", "[{\"uuid\":\"x\"},\"auto\"]")
          " is not of type 'string'" },
        { GET_STRING, "server", "key_name", true, 0, 0,
          "'server.key_name' is a required property" },
        { GET_STRING, "server", "key_name", false, 0, 0, NULL,
          "UNTOUCHED" },

        /* Strings or integers (flavorRef). */
        { GET_STRING_OR_INT, "server", "flavorRef", true, 0, 0, NULL, "5" },
        { GET_STRING_OR_INT, "server", "imageRef", true, 36, 0, NULL,
          "70a599e0-31e7-49b7-b260-868f441e862b" },
        { GET_STRING_OR_INT, "server", "neg", true, 2, 0, NULL, "-7" },
        { GET_STRING_OR_INT, "server", "neg", true, 1, 0,
          INVALID_FOR("server.neg", "-7")
          " is too long (2 characters, the maximum is 1)" },
        { GET_STRING_OR_INT, "server", "imageRef", true, 35, 0,
          INVALID_FOR("server.imageRef",
                      "\"70a599e0-31e7-49b7-b260-868f441e862b\"")
          " is too long (36 characters, the maximum is 35)" },
        { GET_STRING_OR_INT, "server", "ratio", true, 0, 0,
          INVALID_FOR("server.ratio", "1.5")
          " is not of type 'string', 'integer'" },
        { GET_STRING_OR_INT, "server", "flavor", true, 0, 0,
          "'server.flavor' is a required property" },

        /* Integers. */
        { GET_INT, "server", "max_count", true, 1, 10, NULL, "3" },
        { GET_INT, "server", "max_count", true, 3, 3, NULL, "3" },
        { GET_INT, "server", "neg", true, -10, 0, NULL, "-7" },
        { GET_INT, "server", "max_count", true, 4, 10,
          INVALID_FOR("server.max_count", "3")
          " is less than the minimum of 4" },
        { GET_INT, "server", "max_count", true, 1, 2,
          INVALID_FOR("server.max_count", "3")
          " is greater than the maximum of 2" },
        { GET_INT, "server", "neg", true, 0, 100,
          INVALID_FOR("server.neg", "-7") " is less than the minimum of 0" },
        /* json-c saturates integers beyond 64 bits. */
        { GET_INT, "server", "big", true, 0, LLONG_MAX,
          INVALID_FOR("server.big", "18446744073709551615")
          " is greater than the maximum of 9223372036854775807" },
        { GET_INT, "server", "min_count", true, 1, 10,
          INVALID_FOR("server.min_count", "\"2\"")
          " is not of type 'integer'" },
        { GET_INT, "server", "ratio", true, 0, 10,
          INVALID_FOR("server.ratio", "1.5") " is not of type 'integer'" },
        { GET_INT, "server", "float_int", true, 0, 10,
          INVALID_FOR("server.float_int", "2.0")
          " is not of type 'integer'" },
        { GET_INT, "server", "accessIPv4", false, 0, 10,
          INVALID_FOR("server.accessIPv4", "null")
          " is not of type 'integer'" },
        { GET_INT, "server", "count", true, 0, 10,
          "'server.count' is a required property" },
        { GET_INT, "server", "count", false, 0, 10, NULL, "UNTOUCHED" },

        /* Integers or decimal strings (min_count). */
        { GET_INT_OR_STRING, "server", "min_count", true, 1, 10, NULL, "2" },
        { GET_INT_OR_STRING, "server", "max_count", true, 1, 10, NULL,
          "3" },
        { GET_INT_OR_STRING, "server", "str_neg", true, -10, 10, NULL,
          "-5" },
        { GET_INT_OR_STRING, "server", "str_zero", true, 1, 10,
          INVALID_FOR("server.str_zero", "\"0\"")
          " is less than the minimum of 1" },
        { GET_INT_OR_STRING, "server", "min_count", true, 3, 10,
          INVALID_FOR("server.min_count", "\"2\"")
          " is less than the minimum of 3" },
        { GET_INT_OR_STRING, "server", "min_count", true, 0, 1,
          INVALID_FOR("server.min_count", "\"2\"")
          " is greater than the maximum of 1" },
        { GET_INT_OR_STRING, "server", "str_huge", true, 1, LLONG_MAX,
          INVALID_FOR("server.str_huge", "\"99999999999999999999999\"")
          " is greater than the maximum of 9223372036854775807" },
        { GET_INT_OR_STRING, "server", "str_tiny", true, LLONG_MIN, 0,
          INVALID_FOR("server.str_tiny", "\"-99999999999999999999999\"")
          " is less than the minimum of -9223372036854775808" },
        { GET_INT_OR_STRING, "server", "str_space", true, 1, 10,
          INVALID_FOR("server.str_space", "\" 5\"") " is not an integer" },
        { GET_INT_OR_STRING, "server", "str_plus", true, 1, 10,
          INVALID_FOR("server.str_plus", "\"+5\"") " is not an integer" },
        { GET_INT_OR_STRING, "server", "str_empty", true, 1, 10,
          INVALID_FOR("server.str_empty", "\"\"") " is not an integer" },
        { GET_INT_OR_STRING, "server", "name", true, 1, 10,
          INVALID_FOR("server.name", "\"vm-1\"") " is not an integer" },
        { GET_INT_OR_STRING, "server", "ratio", true, 1, 10,
          INVALID_FOR("server.ratio", "1.5")
          " is not of type 'integer', 'string'" },

        /* Booleans. */
        { GET_BOOL, "server", "config_drive", true, 0, 0, NULL, "true" },
        { GET_BOOL, "server", "forced", true, 0, 0,
          INVALID_FOR("server.forced", "\"Yes\"")
          " is not of type 'boolean'" },
        { GET_BOOL, "server", "flavorRef", true, 0, 0,
          INVALID_FOR("server.flavorRef", "5") " is not of type 'boolean'" },
        { GET_BOOL, "server", "accessIPv4", true, 0, 0,
          INVALID_FOR("server.accessIPv4", "null")
          " is not of type 'boolean'" },
        { GET_BOOL, "server", "auto_disk", false, 0, 0, NULL, "UNTOUCHED" },
        { GET_BOOL, "server", "auto_disk", true, 0, 0,
          "'server.auto_disk' is a required property" },
        { GET_BOOL_OR_STRING, "server", "config_drive", true, 0, 0, NULL,
          "true" },
        { GET_BOOL_OR_STRING, "server", "forced", true, 0, 0, NULL,
          "true" },
        { GET_BOOL_OR_STRING, "server", "forced_off", true, 0, 0, NULL,
          "false" },
        { GET_BOOL_OR_STRING, "server", "name", true, 0, 0,
          INVALID_FOR("server.name", "\"vm-1\"")
          " is not a boolean (use true or false)" },
        { GET_BOOL_OR_STRING, "server", "str_empty", true, 0, 0,
          INVALID_FOR("server.str_empty", "\"\"")
          " is not a boolean (use true or false)" },
        { GET_BOOL_OR_STRING, "server", "flavorRef", true, 0, 0,
          INVALID_FOR("server.flavorRef", "5")
          " is not of type 'boolean', 'string'" },

        /* Numbers. */
        { GET_DOUBLE, "server", "ratio", true, 0, 0, NULL, "1.5" },
        { GET_DOUBLE, "server", "max_count", true, 0, 0, NULL, "3" },
        { GET_DOUBLE, "server", "float_int", true, 0, 0, NULL, "2" },
        { GET_DOUBLE, "server", "name", true, 0, 0,
          INVALID_FOR("server.name", "\"vm-1\"") " is not of type 'number'" },
        { GET_DOUBLE, "server", "min_count", true, 0, 0,
          INVALID_FOR("server.min_count", "\"2\"")
          " is not of type 'number'" },
        { GET_DOUBLE, "server", "weight", false, 0, 0, NULL, "UNTOUCHED" },
    };
    CLEANUP(json_putp) struct json_object *doc = parse_or_fail(getters_doc);
    struct json_object *server = NULL;

    (void) state;
    assert_no_error(json_get_object(doc, NULL, "server", true, &server));
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        AUTOFREE char *text = NULL;
        const struct json_object *obj = cases[i].path ? server : doc;
        CLEANUP(error_freep) struct error *error =
            run_getter(cases[i].getter, obj, cases[i].path, cases[i].field,
                       cases[i].required, cases[i].a, cases[i].b, &text);

        if (!cases[i].message) {
            assert_no_error(error);
            if (cases[i].value) {
                assert_string_equal(text, cases[i].value);
            }
        } else {
            if (!error) {
                fail_msg("case %zu ('%s'): expected an error, got '%s'", i,
                         cases[i].field, text);
            }
            assert_int_equal(error_kind(error), ERROR_INVALID);
            assert_int_equal(error_http_status(error), 400);
            assert_string_equal(error_message(error), cases[i].message);
            assert_string_equal(text, "UNTOUCHED");
        }
    }
}

/* Every 'true' and 'false' spelling of Nova's boolean parameter type. */
static void
test_bool_or_string_words(void **state)
{
    static const struct {
        const char *word;
        bool value;
        bool valid;
    } cases[] = {
        { "True", true, true }, { "TRUE", true, true },
        { "true", true, true }, { "1", true, true },
        { "ON", true, true }, { "On", true, true }, { "on", true, true },
        { "YES", true, true }, { "Yes", true, true },
        { "yes", true, true },
        { "False", false, true }, { "FALSE", false, true },
        { "false", false, true }, { "0", false, true },
        { "OFF", false, true }, { "Off", false, true },
        { "off", false, true }, { "NO", false, true },
        { "No", false, true }, { "no", false, true },
        { "tRUE", false, false }, { "y", false, false },
        { "2", false, false }, { " true", false, false },
        { "true ", false, false },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        CLEANUP(json_putp) struct json_object *value =
            json_object_new_string(cases[i].word);
        bool b = !cases[i].value;
        CLEANUP(error_freep) struct error *error =
            json_get_bool_or_string(value, "x", NULL, true, &b);

        if (cases[i].valid) {
            assert_no_error(error);
            assert_int_equal(b, cases[i].value);
        } else {
            assert_non_null(error);
            assert_int_equal(b, !cases[i].value);
        }
    }
}

/* With 'field' NULL the getters check 'obj' itself: array items and the
 * top-level value. */
static void
test_getters_on_values(void **state)
{
    CLEANUP(json_putp) struct json_object *doc = parse_or_fail(
        "{\"networks\": [{\"uuid\": \"x\"}, \"auto\", null]}");
    CLEANUP(json_putp) struct json_object *array_doc =
        parse_or_fail("[1]");
    struct json_object *networks = NULL;
    struct json_object *item = NULL;
    const char *s = NULL;
    CLEANUP(error_freep) struct error *e1 = NULL;
    CLEANUP(error_freep) struct error *e2 = NULL;
    CLEANUP(error_freep) struct error *e3 = NULL;
    CLEANUP(error_freep) struct error *e4 = NULL;
    CLEANUP(error_freep) struct error *e5 = NULL;

    (void) state;
    assert_no_error(json_get_object(doc, NULL, NULL, true, &item));
    assert_ptr_equal(item, doc);
    assert_no_error(json_get_array(doc, NULL, "networks", true, 3,
                                   &networks));

    item = json_object_array_get_idx(networks, 1);
    assert_no_error(json_get_string(item, "networks[1]", NULL, true, 10,
                                    &s));
    assert_string_equal(s, "auto");

    item = json_object_array_get_idx(networks, 0);
    e1 = json_get_string(item, "networks[0]", NULL, true, 10, &s);
    assert_non_null(e1);
    assert_string_equal(error_message(e1),
                        INVALID_FOR("networks[0]", "{\"uuid\":\"x\"}")
                        " is not of type 'string'");

    /* A JSON null item is the NULL pointer to json-c. */
    item = json_object_array_get_idx(networks, 2);
    assert_null(item);
    e2 = json_get_object(item, "networks[2]", NULL, true, &item);
    assert_non_null(e2);
    assert_string_equal(error_message(e2),
                        INVALID_FOR("networks[2]", "null")
                        " is not of type 'object'");

    /* A lookup in something that is not an object names the container. */
    e3 = json_get_string(networks, "networks", "uuid", true, 0, &s);
    assert_non_null(e3);
    assert_string_equal(error_message(e3),
                        INVALID_FOR("networks",
                                    "[{\"uuid\":\"x\"},\"auto\",null]")
                        " is not of type 'object'");

    /* The top level has no name. */
    e4 = json_get_object(array_doc, NULL, NULL, true, &item);
    assert_non_null(e4);
    assert_string_equal(error_message(e4),
                        "Invalid input for the top-level value. Value: [1]. "
                        "[1] is not of type 'object'");
    e5 = json_get_object(array_doc, NULL, "server", true, &item);
    assert_non_null(e5);
    assert_string_equal(error_message(e5),
                        "Invalid input for the top-level value. Value: [1]. "
                        "[1] is not of type 'object'");
    assert_string_equal(s, "auto");     /* Untouched by the failures. */
}

/* Strings not from the parser may hold invalid UTF-8: rejected, and shown
 * with '?' so that the message stays valid UTF-8. */
static void
test_string_invalid_utf8(void **state)
{
    static const struct {
        const char *bytes;
        const char *shown;
    } cases[] = {
        { "a\xff", "\"a?\"" },
        { "\xc3", "\"?\"" },                    /* Truncated sequence. */
        { "\xc0\xaf", "\"??\"" },               /* Overlong '/'. */
        { "\xed\xa0\x80", "\"???\"" },          /* Surrogate U+D800. */
        { "\xf4\x90\x80\x80", "\"????\"" },     /* Above U+10FFFF. */
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        CLEANUP(json_putp) struct json_object *value =
            json_object_new_string(cases[i].bytes);
        const char *s = NULL;
        CLEANUP(error_freep) struct error *error =
            json_get_string(value, "name", NULL, true, 0, &s);
        AUTOFREE char *expected = xasprintf(
            "Invalid input for field/attribute 'name'. Value: %s. %s is "
            "not valid UTF-8", cases[i].shown, cases[i].shown);

        assert_non_null(error);
        assert_string_equal(error_message(error), expected);
        assert_null(s);
    }
}

/* Long values are cut in messages, on a character boundary. */
static void
test_long_value_excerpt(void **state)
{
    enum { N_CHARS = 300 };
    AUTOFREE char *text = xmalloc(2 * N_CHARS + 1);
    AUTOFREE char *excerpt = NULL;
    AUTOFREE char *expected = NULL;
    const char *s = NULL;
    size_t n = 0;

    (void) state;
    for (size_t i = 0; i < N_CHARS; i++) {
        memcpy(text + 2 * i, "\xc3\xa9", 2);
    }
    text[2 * N_CHARS] = '\0';

    /* '"' and 62 two-byte characters fill 125 bytes, then "...". */
    excerpt = xmalloc(JSON_ERROR_VALUE_MAX_SIZE + 1);
    excerpt[n++] = '"';
    while (n + 2 <= JSON_ERROR_VALUE_MAX_SIZE - 3) {
        memcpy(excerpt + n, "\xc3\xa9", 2);
        n += 2;
    }
    memcpy(excerpt + n, "...", 4);
    assert_true(strlen(excerpt) <= JSON_ERROR_VALUE_MAX_SIZE);
    expected = xasprintf("Invalid input for field/attribute 'server.name'. "
                         "Value: %s. %s is too long (300 characters, the "
                         "maximum is 255)", excerpt, excerpt);

    CLEANUP(json_putp) struct json_object *value =
        json_object_new_string(text);
    CLEANUP(error_freep) struct error *error =
        json_get_string(value, "server.name", NULL, true, 255, &s);
    assert_non_null(error);
    assert_string_equal(error_message(error), expected);
}

static void
test_check_allowed_keys(void **state)
{
    static const char *const server_keys[] = {
        "name", "flavorRef", "imageRef", NULL,
    };
    static const char *const top_keys[] = { "server", NULL };
    static const char *const no_keys[] = { NULL };
    static const struct {
        const char *json;
        const char *path;
        const char *const *allowed;
        const char *message;    /* NULL: accepted. */
    } cases[] = {
        { "{\"name\": \"a\", \"flavorRef\": 1}", "server", server_keys,
          NULL },
        { "{}", "server", server_keys, NULL },
        { "{}", "server", no_keys, NULL },
        { "{\"server\": {}}", NULL, top_keys, NULL },
        { "{\"name\": \"a\", \"foo\": 1}", "server", server_keys,
          "Invalid input for field/attribute 'server'. "
          "Value: {\"name\":\"a\",\"foo\":1}. Additional properties are "
          "not allowed ('foo' was unexpected)" },
        { "{\"foo\": 1, \"name\": \"a\", \"bar\": 2}", "server",
          server_keys,
          "Invalid input for field/attribute 'server'. "
          "Value: {\"foo\":1,\"name\":\"a\",\"bar\":2}. Additional "
          "properties are not allowed ('foo', 'bar' were unexpected)" },
        { "{\"Name\": \"a\"}", "server", server_keys,
          "Invalid input for field/attribute 'server'. "
          "Value: {\"Name\":\"a\"}. Additional properties are not allowed "
          "('Name' was unexpected)" },
        { "{\"servr\": {}}", NULL, top_keys,
          "Invalid input for the top-level value. Value: {\"servr\":{}}. "
          "Additional properties are not allowed ('servr' was "
          "unexpected)" },
        { "{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,"
          "\"h\":8,\"i\":9,\"j\":10,\"k\":11,\"l\":12}", "x", no_keys,
          "Invalid input for field/attribute 'x'. "
          "Value: {\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,"
          "\"g\":7,\"h\":8,\"i\":9,\"j\":10,\"k\":11,\"l\":12}. "
          "Additional properties are not allowed ('a', 'b', 'c', 'd', "
          "'e', 'f', 'g', 'h', 'i', 'j' and 2 more were unexpected)" },
        /* Keys are shown escaped, as JSON strings are. */
        { "{\"a\\nb\": 1}", "x", no_keys,
          "Invalid input for field/attribute 'x'. Value: {\"a\\nb\":1}. "
          "Additional properties are not allowed ('a\\nb' was "
          "unexpected)" },
        { "[\"name\"]", "server", server_keys,
          "Invalid input for field/attribute 'server'. Value: [\"name\"]. "
          "[\"name\"] is not of type 'object'" },
        { "null", "server", server_keys,
          "Invalid input for field/attribute 'server'. Value: null. "
          "null is not of type 'object'" },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        CLEANUP(json_putp) struct json_object *obj =
            parse_or_fail(cases[i].json);
        CLEANUP(error_freep) struct error *error =
            json_check_allowed_keys(obj, cases[i].path, cases[i].allowed);

        if (!cases[i].message) {
            assert_no_error(error);
        } else {
            assert_non_null(error);
            assert_int_equal(error_kind(error), ERROR_INVALID);
            assert_string_equal(error_message(error), cases[i].message);
        }
    }
}

/* Long unexpected keys are cut like values. */
static void
test_check_allowed_keys_long_key(void **state)
{
    static const char *const no_keys[] = { NULL };
    char key[201];
    char shown[JSON_ERROR_VALUE_MAX_SIZE];
    CLEANUP(json_putp) struct json_object *obj = json_object_new_object();
    AUTOFREE char *expected = NULL;
    CLEANUP(error_freep) struct error *error = NULL;

    (void) state;
    memset(key, 'k', sizeof key - 1);
    key[sizeof key - 1] = '\0';
    json_object_object_add(obj, key, json_object_new_int(1));

    /* The excerpt of the string "kkk...": its opening quote and 124
     * characters, then "...". */
    memset(shown, 'k', JSON_ERROR_VALUE_MAX_SIZE - 4);
    memcpy(shown + JSON_ERROR_VALUE_MAX_SIZE - 4, "...", 4);
    expected = xasprintf("Additional properties are not allowed ('%s' was "
                         "unexpected)", shown);

    error = json_check_allowed_keys(obj, "x", no_keys);
    assert_non_null(error);
    assert_non_null(strstr(error_message(error), expected));
}

static void
test_to_string_plain(void **state)
{
    CLEANUP(json_putp) struct json_object *doc =
        parse_or_fail("{ \"url\" : \"http://h/v2.1\", \"n\" : [ 1, 2.5 ] }");
    AUTOFREE char *text = json_to_string_plain(doc);
    AUTOFREE char *null_text = json_to_string_plain(NULL);

    (void) state;
    assert_string_equal(text, "{\"url\":\"http://h/v2.1\",\"n\":[1,2.5]}");
    assert_string_equal(null_text, "null");
}

/* json_putp() releases one reference and accepts NULL. */
static void
test_putp(void **state)
{
    struct json_object *shared = json_object_new_array();

    (void) state;
    {
        CLEANUP(json_putp) struct json_object *ref = json_object_get(shared);
        CLEANUP(json_putp) struct json_object *none = NULL;
        (void) ref;
        (void) none;
    }
    /* Still alive: this drops the last reference (LeakSanitizer checks
     * that nothing is left). */
    assert_int_equal(json_object_put(shared), 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_text),
        cmocka_unit_test(test_parse_text_unterminated_buffer),
        cmocka_unit_test(test_parse_text_default_depth),
        cmocka_unit_test(test_getters),
        cmocka_unit_test(test_bool_or_string_words),
        cmocka_unit_test(test_getters_on_values),
        cmocka_unit_test(test_string_invalid_utf8),
        cmocka_unit_test(test_long_value_excerpt),
        cmocka_unit_test(test_check_allowed_keys),
        cmocka_unit_test(test_check_allowed_keys_long_key),
        cmocka_unit_test(test_to_string_plain),
        cmocka_unit_test(test_putp),
    };

    return cmocka_run_group_tests_name("json-util", tests, NULL, NULL);
}
