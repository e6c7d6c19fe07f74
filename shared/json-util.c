/* json-util.c: request body parsing and typed getters (see json-util.h).
 *
 * Everything here runs on user input, so nothing asserts: every unexpected
 * shape becomes a 'struct error' that names the field.  json-c represents
 * a JSON null as a NULL pointer (json_object_get_type(NULL) is
 * json_type_null), which is why NULL values flow through the type checks
 * instead of being special-cased. */
#include <config.h>
#include "shared/json-util.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "shared/cleanup.h"
#include "shared/error.h"
#include "shared/xalloc.h"

/* json_tokener_parse_ex() takes the length as an int. */
#define JSON_PARSE_HARD_MAX_SIZE ((size_t) INT_MAX - 1)

void
json_putp(struct json_object **p)
{
    if (*p) {
        (void) json_object_put(*p);
    }
}

static void
json_tokener_freep(struct json_tokener **p)
{
    if (*p) {
        json_tokener_free(*p);
    }
}

char *
json_to_string_plain(const struct json_object *obj)
{
    /* json-c renders into a buffer cached in the object, hence the cast;
     * the JSON value itself is unchanged. */
    const char *text = json_object_to_json_string_ext(
        (struct json_object *) obj,
        JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

    if (!text) {
        /* json-c fails only when it runs out of memory. */
        abort();
    }
    return xstrdup(text);
}

/* Returns the size in bytes of the UTF-8 sequence that starts the 'size'
 * bytes at 'p' (size > 0), or 0 if they do not start with a valid one.
 * Overlong forms, surrogates and values above U+10FFFF are invalid. */
static size_t
json_utf8_sequence_size(const unsigned char *p, size_t size)
{
    unsigned char c = p[0];
    unsigned char lo = 0x80, hi = 0xbf;
    size_t n_cont;

    if (c < 0x80) {
        return 1;
    } else if (c >= 0xc2 && c <= 0xdf) {
        n_cont = 1;
    } else if (c >= 0xe0 && c <= 0xef) {
        n_cont = 2;
        lo = c == 0xe0 ? 0xa0 : 0x80;
        hi = c == 0xed ? 0x9f : 0xbf;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n_cont = 3;
        lo = c == 0xf0 ? 0x90 : 0x80;
        hi = c == 0xf4 ? 0x8f : 0xbf;
    } else {
        return 0;
    }
    if (n_cont >= size) {
        return 0;
    }
    if (p[1] < lo || p[1] > hi) {
        return 0;
    }
    for (size_t i = 2; i <= n_cont; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return 0;
        }
    }
    return n_cont + 1;
}

/* Counts the code points of the 'size' bytes at 's' into '*ret_length'.
 * Returns 0, or -EILSEQ if they are not valid UTF-8. */
static int
json_utf8_length(const char *s, size_t size, size_t *ret_length)
{
    const unsigned char *p = (const unsigned char *) s;
    size_t length = 0;

    for (size_t i = 0; i < size; length++) {
        size_t n = json_utf8_sequence_size(p + i, size - i);
        if (!n) {
            return -EILSEQ;
        }
        i += n;
    }
    *ret_length = length;
    return 0;
}

/* Returns 'value' as compact JSON cut to JSON_ERROR_VALUE_MAX_SIZE bytes
 * (marked with "..."), never in the middle of a UTF-8 sequence, and with
 * bytes that are not valid UTF-8 shown as '?': the excerpt goes into
 * messages that are sent as JSON.  The caller frees it. */
static char *
json_value_excerpt(const struct json_object *value)
{
    AUTOFREE char *text = json_to_string_plain(value);
    const unsigned char *p = (const unsigned char *) text;
    size_t size = strlen(text);
    size_t limit = size <= JSON_ERROR_VALUE_MAX_SIZE
                   ? size : JSON_ERROR_VALUE_MAX_SIZE - 3;
    char *excerpt = xmalloc(JSON_ERROR_VALUE_MAX_SIZE + 1);
    size_t i = 0, n = 0;

    while (i < size) {
        size_t seq = json_utf8_sequence_size(p + i, size - i);
        size_t out = seq ? seq : 1;
        if (n + out > limit) {
            break;
        }
        if (seq) {
            memcpy(excerpt + n, text + i, seq);
        } else {
            excerpt[n] = '?';
        }
        n += out;
        i += seq ? seq : 1;
    }
    if (i < size) {
        memcpy(excerpt + n, "...", 3);
        n += 3;
    }
    excerpt[n] = '\0';
    return excerpt;
}

/* Returns the name used in messages for 'field' of the object at 'path':
 * "path.field", "field", "path", or NULL for the top level.  The caller
 * frees it. */
static char *
json_field_name(const char *path, const char *field)
{
    if (path && field) {
        return xasprintf("%s.%s", path, field);
    }
    return xstrdup_or_null(field ? field : path);
}

/* Returns "Invalid input for field/attribute 'NAME'. Value: EXCERPT.
 * DETAIL", where DETAIL is printf-formatted from 'fmt'. */
static struct error * PRINTF_FMT(4, 5)
json_value_error(const char *path, const char *field, const char *excerpt,
                 const char *fmt, ...)
{
    AUTOFREE char *name = json_field_name(path, field);
    AUTOFREE char *detail = NULL;
    va_list args;

    va_start(args, fmt);
    detail = xvasprintf(fmt, args);
    va_end(args);

    if (name) {
        return error_new(ERROR_INVALID,
                         "Invalid input for field/attribute '%s'. "
                         "Value: %s. %s", name, excerpt, detail);
    }
    return error_new(ERROR_INVALID,
                     "Invalid input for the top-level value. Value: %s. %s",
                     excerpt, detail);
}

/* Returns the error for 'value' not being of 'expected', a list of quoted
 * JSON Schema type names such as "'string', 'integer'". */
static struct error *
json_type_error(const char *path, const char *field,
                const struct json_object *value, const char *expected)
{
    AUTOFREE char *excerpt = json_value_excerpt(value);

    return json_value_error(path, field, excerpt, "%s is not of type %s",
                            excerpt, expected);
}

/* Looks up 'field' in 'obj' (or takes 'obj' itself when 'field' is NULL).
 * Returns NULL and sets '*ret_found' and, when found, '*ret_value' (NULL for
 * a JSON null).  A missing required field and an 'obj' that is not an
 * object are errors. */
static struct error *
json_lookup(const struct json_object *obj, const char *path,
            const char *field, bool required, struct json_object **ret_value,
            bool *ret_found)
{
    struct json_object *value;

    if (!field) {
        *ret_value = (struct json_object *) obj;
        *ret_found = true;
        return NULL;
    }
    if (!json_object_is_type(obj, json_type_object)) {
        return json_type_error(path, NULL, obj, "'object'");
    }
    if (!json_object_object_get_ex(obj, field, &value)) {
        if (required) {
            AUTOFREE char *name = json_field_name(path, field);
            return error_new(ERROR_INVALID, "'%s' is a required property",
                             name);
        }
        *ret_found = false;
        return NULL;
    }
    *ret_value = value;
    *ret_found = true;
    return NULL;
}

/* Checks the JSON string 'value' (of type string) against the rules of
 * json_get_string() and stores its borrowed text in '*ret_string'. */
static struct error *
json_check_string(const char *path, const char *field,
                  struct json_object *value, size_t max_length,
                  const char **ret_string)
{
    const char *s = json_object_get_string(value);
    size_t size = (size_t) json_object_get_string_len(value);
    size_t length;

    if (memchr(s, '\0', size)) {
        AUTOFREE char *excerpt = json_value_excerpt(value);
        return json_value_error(path, field, excerpt,
                                "%s contains a NUL character", excerpt);
    }
    if (json_utf8_length(s, size, &length)) {
        AUTOFREE char *excerpt = json_value_excerpt(value);
        return json_value_error(path, field, excerpt,
                                "%s is not valid UTF-8", excerpt);
    }
    if (max_length && length > max_length) {
        AUTOFREE char *excerpt = json_value_excerpt(value);
        return json_value_error(path, field, excerpt,
                                "%s is too long (%zu characters, the "
                                "maximum is %zu)", excerpt, length,
                                max_length);
    }
    *ret_string = s;
    return NULL;
}

struct error *
json_get_object(const struct json_object *obj, const char *path,
                const char *field, bool required,
                struct json_object **ret_object)
{
    struct json_object *value = NULL;
    bool found = false;
    struct error *error = json_lookup(obj, path, field, required, &value,
                                      &found);

    if (error || !found) {
        return error;
    }
    if (!json_object_is_type(value, json_type_object)) {
        return json_type_error(path, field, value, "'object'");
    }
    *ret_object = value;
    return NULL;
}

struct error *
json_get_array(const struct json_object *obj, const char *path,
               const char *field, bool required, size_t max_items,
               struct json_object **ret_array)
{
    struct json_object *value = NULL;
    bool found = false;
    struct error *error = json_lookup(obj, path, field, required, &value,
                                      &found);
    size_t n_items;

    if (error || !found) {
        return error;
    }
    if (!json_object_is_type(value, json_type_array)) {
        return json_type_error(path, field, value, "'array'");
    }
    n_items = json_object_array_length(value);
    if (max_items && n_items > max_items) {
        AUTOFREE char *excerpt = json_value_excerpt(value);
        return json_value_error(path, field, excerpt,
                                "%s has too many items (%zu, the maximum "
                                "is %zu)", excerpt, n_items, max_items);
    }
    *ret_array = value;
    return NULL;
}

struct error *
json_get_string(const struct json_object *obj, const char *path,
                const char *field, bool required, size_t max_length,
                const char **ret_string)
{
    struct json_object *value = NULL;
    bool found = false;
    struct error *error = json_lookup(obj, path, field, required, &value,
                                      &found);

    if (error || !found) {
        return error;
    }
    if (!json_object_is_type(value, json_type_string)) {
        return json_type_error(path, field, value, "'string'");
    }
    return json_check_string(path, field, value, max_length, ret_string);
}

struct error *
json_get_string_or_int(const struct json_object *obj, const char *path,
                       const char *field, bool required, size_t max_length,
                       char **ret_string)
{
    struct json_object *value = NULL;
    bool found = false;
    struct error *error = json_lookup(obj, path, field, required, &value,
                                      &found);
    const char *s;

    if (error || !found) {
        return error;
    }
    if (json_object_is_type(value, json_type_int)) {
        /* The decimal form is the compact JSON form of an integer. */
        AUTOFREE char *digits = json_to_string_plain(value);
        if (max_length && strlen(digits) > max_length) {
            return json_value_error(path, field, digits,
                                    "%s is too long (%zu characters, the "
                                    "maximum is %zu)", digits,
                                    strlen(digits), max_length);
        }
        *ret_string = TAKE_PTR(digits);
        return NULL;
    }
    if (!json_object_is_type(value, json_type_string)) {
        return json_type_error(path, field, value, "'string', 'integer'");
    }
    error = json_check_string(path, field, value, max_length, &s);
    if (error) {
        return error;
    }
    *ret_string = xstrdup(s);
    return NULL;
}

/* Checks 'n' (from 'value') against ['min', 'max']. */
static struct error *
json_check_range(const char *path, const char *field,
                 const struct json_object *value, long long n,
                 long long min, long long max)
{
    if (n < min) {
        AUTOFREE char *excerpt = json_value_excerpt(value);
        return json_value_error(path, field, excerpt,
                                "%s is less than the minimum of %lld",
                                excerpt, min);
    }
    if (n > max) {
        AUTOFREE char *excerpt = json_value_excerpt(value);
        return json_value_error(path, field, excerpt,
                                "%s is greater than the maximum of %lld",
                                excerpt, max);
    }
    return NULL;
}

/* Checks the JSON integer 'value' and stores it in '*ret_value'. */
static struct error *
json_check_int(const char *path, const char *field,
               const struct json_object *value, long long min,
               long long max, long long *ret_value)
{
    int64_t n = json_object_get_int64(value);
    struct error *error;

    /* json-c keeps integers above INT64_MAX as uint64 and then returns
     * INT64_MAX from json_object_get_int64(). */
    if (n == INT64_MAX && json_object_get_uint64(value) > INT64_MAX) {
        AUTOFREE char *excerpt = json_value_excerpt(value);
        return json_value_error(path, field, excerpt,
                                "%s is greater than the maximum of %lld",
                                excerpt, max);
    }
    error = json_check_range(path, field, value, n, min, max);
    if (error) {
        return error;
    }
    *ret_value = n;
    return NULL;
}

struct error *
json_get_int(const struct json_object *obj, const char *path,
             const char *field, bool required, long long min, long long max,
             long long *ret_value)
{
    struct json_object *value = NULL;
    bool found = false;
    struct error *error = json_lookup(obj, path, field, required, &value,
                                      &found);

    if (error || !found) {
        return error;
    }
    if (!json_object_is_type(value, json_type_int)) {
        return json_type_error(path, field, value, "'integer'");
    }
    return json_check_int(path, field, value, min, max, ret_value);
}

/* Returns true if the 'size' bytes at 's' are an optional '-' followed by
 * one or more decimal digits. */
static bool
json_is_decimal_integer(const char *s, size_t size)
{
    size_t i = s[0] == '-' ? 1 : 0;

    if (i >= size) {
        return false;
    }
    for (; i < size; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
    }
    return true;
}

struct error *
json_get_int_or_string(const struct json_object *obj, const char *path,
                       const char *field, bool required, long long min,
                       long long max, long long *ret_value)
{
    struct json_object *value = NULL;
    bool found = false;
    struct error *error = json_lookup(obj, path, field, required, &value,
                                      &found);
    const char *s;
    long long n;

    if (error || !found) {
        return error;
    }
    if (json_object_is_type(value, json_type_int)) {
        return json_check_int(path, field, value, min, max, ret_value);
    }
    if (!json_object_is_type(value, json_type_string)) {
        return json_type_error(path, field, value, "'integer', 'string'");
    }
    s = json_object_get_string(value);
    if (!json_is_decimal_integer(s, (size_t) json_object_get_string_len(
                                        value))) {
        AUTOFREE char *excerpt = json_value_excerpt(value);
        return json_value_error(path, field, excerpt,
                                "%s is not an integer", excerpt);
    }
    errno = 0;
    n = strtoll(s, NULL, 10);
    if (errno == ERANGE) {
        /* Beyond 'long long', hence beyond the bound on that side. */
        AUTOFREE char *excerpt = json_value_excerpt(value);
        if (s[0] == '-') {
            return json_value_error(path, field, excerpt,
                                    "%s is less than the minimum of %lld",
                                    excerpt, min);
        }
        return json_value_error(path, field, excerpt,
                                "%s is greater than the maximum of %lld",
                                excerpt, max);
    }
    error = json_check_range(path, field, value, n, min, max);
    if (error) {
        return error;
    }
    *ret_value = n;
    return NULL;
}

struct error *
json_get_bool(const struct json_object *obj, const char *path,
              const char *field, bool required, bool *ret_value)
{
    struct json_object *value = NULL;
    bool found = false;
    struct error *error = json_lookup(obj, path, field, required, &value,
                                      &found);

    if (error || !found) {
        return error;
    }
    if (!json_object_is_type(value, json_type_boolean)) {
        return json_type_error(path, field, value, "'boolean'");
    }
    *ret_value = json_object_get_boolean(value);
    return NULL;
}

struct error *
json_get_bool_or_string(const struct json_object *obj, const char *path,
                        const char *field, bool required, bool *ret_value)
{
    /* Nova's parameter_types.boolean enum, in its order. */
    static const struct {
        const char *text;
        bool value;
    } words[] = {
        { "True", true }, { "TRUE", true }, { "true", true }, { "1", true },
        { "ON", true }, { "On", true }, { "on", true },
        { "YES", true }, { "Yes", true }, { "yes", true },
        { "False", false }, { "FALSE", false }, { "false", false },
        { "0", false }, { "OFF", false }, { "Off", false }, { "off", false },
        { "NO", false }, { "No", false }, { "no", false },
    };
    struct json_object *value = NULL;
    bool found = false;
    struct error *error = json_lookup(obj, path, field, required, &value,
                                      &found);
    const char *s;

    if (error || !found) {
        return error;
    }
    if (json_object_is_type(value, json_type_boolean)) {
        *ret_value = json_object_get_boolean(value);
        return NULL;
    }
    if (!json_object_is_type(value, json_type_string)) {
        return json_type_error(path, field, value, "'boolean', 'string'");
    }
    s = json_object_get_string(value);
    if (strlen(s) == (size_t) json_object_get_string_len(value)) {
        for (size_t i = 0; i < ARRAY_SIZE(words); i++) {
            if (!strcmp(s, words[i].text)) {
                *ret_value = words[i].value;
                return NULL;
            }
        }
    }

    AUTOFREE char *excerpt = json_value_excerpt(value);
    return json_value_error(path, field, excerpt,
                            "%s is not a boolean (use true or false)",
                            excerpt);
}

struct error *
json_get_double(const struct json_object *obj, const char *path,
                const char *field, bool required, double *ret_value)
{
    struct json_object *value = NULL;
    bool found = false;
    struct error *error = json_lookup(obj, path, field, required, &value,
                                      &found);
    double d;

    if (error || !found) {
        return error;
    }
    if (!json_object_is_type(value, json_type_double)
        && !json_object_is_type(value, json_type_int)) {
        return json_type_error(path, field, value, "'number'");
    }
    d = json_object_get_double(value);
    if (!isfinite(d)) {
        AUTOFREE char *excerpt = json_value_excerpt(value);
        return json_value_error(path, field, excerpt,
                                "%s is not a finite number", excerpt);
    }
    *ret_value = d;
    return NULL;
}

static bool
json_key_is_allowed(const char *key, const char *const *allowed)
{
    for (size_t i = 0; allowed && allowed[i]; i++) {
        if (!strcmp(key, allowed[i])) {
            return true;
        }
    }
    return false;
}

/* Returns object key 'key' for a message: escaped and cut like a value
 * excerpt (keys are user input too), without the double quotes.  The
 * caller frees it. */
static char *
json_key_excerpt(const char *key)
{
    CLEANUP(json_putp) struct json_object *string =
        json_object_new_string(key);
    char *excerpt = json_value_excerpt(string);
    size_t size = strlen(excerpt);

    /* Drop the closing quote, unless the excerpt was cut before it. */
    if (size >= 2 && excerpt[size - 1] == '"') {
        excerpt[size - 1] = '\0';
    }
    memmove(excerpt, excerpt + 1, strlen(excerpt + 1) + 1);
    return excerpt;
}

struct error *
json_check_allowed_keys(const struct json_object *obj, const char *path,
                        const char *const *allowed)
{
    /* The iterator API wants a mutable object; it only reads it. */
    struct json_object *o = (struct json_object *) obj;
    struct json_object_iterator it, end;
    AUTOFREE char *list = NULL;
    size_t n_unexpected = 0;

    if (!json_object_is_type(obj, json_type_object)) {
        return json_type_error(path, NULL, obj, "'object'");
    }
    end = json_object_iter_end(o);
    for (it = json_object_iter_begin(o); !json_object_iter_equal(&it, &end);
         json_object_iter_next(&it)) {
        const char *key = json_object_iter_peek_name(&it);

        if (json_key_is_allowed(key, allowed)) {
            continue;
        }
        if (n_unexpected < JSON_ERROR_MAX_KEYS_LISTED) {
            AUTOFREE char *excerpt = json_key_excerpt(key);
            char *longer = xasprintf("%s%s'%s'", list ? list : "",
                                     list ? ", " : "", excerpt);
            free(list);
            list = longer;
        }
        n_unexpected++;
    }
    if (!n_unexpected) {
        return NULL;
    }

    AUTOFREE char *excerpt = json_value_excerpt(obj);
    if (n_unexpected > JSON_ERROR_MAX_KEYS_LISTED) {
        return json_value_error(path, NULL, excerpt,
                                "Additional properties are not allowed "
                                "(%s and %zu more were unexpected)", list,
                                n_unexpected - JSON_ERROR_MAX_KEYS_LISTED);
    }
    return json_value_error(path, NULL, excerpt,
                            "Additional properties are not allowed "
                            "(%s %s unexpected)", list,
                            n_unexpected == 1 ? "was" : "were");
}

/* JSON's insignificant whitespace (RFC 8259, section 2). */
static bool
json_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

struct error *
json_parse_text(const char *text, size_t size, size_t max_size,
                size_t max_depth, struct json_object **ret_doc)
{
    CLEANUP(json_tokener_freep) struct json_tokener *tok = NULL;
    CLEANUP(json_putp) struct json_object *doc = NULL;
    enum json_tokener_error jerr;
    const char *nul;
    size_t offset;

    if (!max_size || max_size > JSON_PARSE_HARD_MAX_SIZE) {
        max_size = JSON_PARSE_HARD_MAX_SIZE;
    }
    if (size > max_size) {
        return error_new(ERROR_TOO_LARGE,
                         "Request body is too large: %zu bytes, the limit "
                         "is %zu bytes", size, max_size);
    }
    if (!max_depth) {
        max_depth = JSON_DEFAULT_MAX_DEPTH;
    } else if (max_depth > JSON_MAX_DEPTH) {
        max_depth = JSON_MAX_DEPTH;
    }

    /* json-c stops at a NUL byte as if the input ended there. */
    nul = size ? memchr(text, '\0', size) : NULL;
    if (nul) {
        return error_new(ERROR_INVALID,
                         "Malformed request body: NUL byte at byte %zu",
                         (size_t) (nul - text));
    }

    tok = json_tokener_new_ex((int) max_depth);
    if (!tok) {
        return error_new(ERROR_INTERNAL,
                         "Out of memory while parsing the request body");
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT
                           | JSON_TOKENER_VALIDATE_UTF8);
    doc = json_tokener_parse_ex(tok, size ? text : "", (int) size);
    jerr = json_tokener_get_error(tok);
    offset = json_tokener_get_parse_end(tok);
    if (jerr == json_tokener_continue) {
        /* All input consumed and the value may go on (a number, or a
         * truncated document): say that the input ends here. */
        doc = json_tokener_parse_ex(tok, "", 1);
        jerr = json_tokener_get_error(tok);
        offset = size;
    }
    if (jerr == json_tokener_error_depth) {
        return error_new(ERROR_INVALID,
                         "Malformed request body: %s at byte %zu (at most "
                         "%zu levels are allowed)",
                         json_tokener_error_desc(jerr), offset, max_depth);
    }
    if (jerr != json_tokener_success) {
        return error_new(ERROR_INVALID,
                         "Malformed request body: %s at byte %zu",
                         json_tokener_error_desc(jerr), offset);
    }
    for (; offset < size; offset++) {
        if (!json_is_space(text[offset])) {
            return error_new(ERROR_INVALID,
                             "Malformed request body: unexpected data "
                             "after the JSON value at byte %zu", offset);
        }
    }
    *ret_doc = TAKE_PTR(doc);
    return NULL;
}

/* ---- Writing JSON text directly ---------------------------------------- */

void
json_writer_init(struct json_writer *w)
{
    memset(w, 0, sizeof *w);
}

void
json_writer_destroy(struct json_writer *w)
{
    free(w->buf);
    json_writer_init(w);
}

char *
json_writer_steal(struct json_writer *w, size_t *ret_length)
{
    char *text = w->buf ? w->buf : xstrdup("");

    if (ret_length) {
        *ret_length = w->length;
    }
    json_writer_init(w);
    return text;
}

/* Makes room for 'n' more bytes and the NUL. */
static void
json_writer_reserve(struct json_writer *w, size_t n)
{
    if (w->length + n + 1 > w->allocated) {
        size_t allocated = w->allocated ? w->allocated : 256;

        while (w->length + n + 1 > allocated) {
            allocated *= 2;
        }
        w->buf = xrealloc(w->buf, allocated);
        w->allocated = allocated;
    }
}

static void
json_writer_put(struct json_writer *w, const char *s, size_t n)
{
    json_writer_reserve(w, n);
    memcpy(w->buf + w->length, s, n);
    w->length += n;
    w->buf[w->length] = '\0';
}

static void
json_writer_char(struct json_writer *w, char c)
{
    json_writer_put(w, &c, 1);
}

/* Starts a value: a comma if one came before at this level. */
static void
json_writer_value(struct json_writer *w)
{
    if (w->need_comma) {
        json_writer_char(w, ',');
    }
    w->need_comma = true;
}

void
json_writer_begin_object(struct json_writer *w)
{
    json_writer_value(w);
    json_writer_char(w, '{');
    w->need_comma = false;
}

void
json_writer_end_object(struct json_writer *w)
{
    json_writer_char(w, '}');
    w->need_comma = true;
}

void
json_writer_begin_array(struct json_writer *w)
{
    json_writer_value(w);
    json_writer_char(w, '[');
    w->need_comma = false;
}

void
json_writer_end_array(struct json_writer *w)
{
    json_writer_char(w, ']');
    w->need_comma = true;
}

/* Appends the bytes of 's' escaped as json-c 0.13 and later escape a
 * string with JSON_C_TO_STRING_NOSLASHESCAPE: the short escapes json-c
 * knows, \u00xx (lowercase) for the other control characters, every
 * other byte as it is.  Room for the worst case (6 bytes a byte) is made
 * first, so the loop writes straight into the buffer. */
static void
json_writer_escape(struct json_writer *w, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = strlen(s);
    char *p;

    json_writer_reserve(w, 6 * n);
    p = w->buf + w->length;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char) s[i];

        if (c >= ' ' && c != '"' && c != '\\') {
            *p++ = (char) c;
            continue;
        }
        *p++ = '\\';
        switch (c) {
        case '\b': *p++ = 'b'; break;
        case '\n': *p++ = 'n'; break;
        case '\r': *p++ = 'r'; break;
        case '\t': *p++ = 't'; break;
        case '\f': *p++ = 'f'; break;
        case '"': *p++ = '"'; break;
        case '\\': *p++ = '\\'; break;
        default:
            *p++ = 'u';
            *p++ = '0';
            *p++ = '0';
            *p++ = hex[c >> 4];
            *p++ = hex[c & 0xf];
            break;
        }
    }
    *p = '\0';
    w->length = (size_t) (p - w->buf);
}

/* Appends 's' as a JSON string. */
static void
json_writer_escaped(struct json_writer *w, const char *s)
{
    json_writer_char(w, '"');
    json_writer_escape(w, s);
    json_writer_char(w, '"');
}

void
json_writer_key(struct json_writer *w, const char *key)
{
    json_writer_value(w);
    json_writer_escaped(w, key);
    json_writer_char(w, ':');
    w->need_comma = false;
}

void
json_writer_string(struct json_writer *w, const char *s)
{
    if (!s) {
        json_writer_null(w);
        return;
    }
    json_writer_value(w);
    json_writer_escaped(w, s);
}

void
json_writer_string_concat(struct json_writer *w, const char *const *parts,
                          size_t n)
{
    json_writer_value(w);
    json_writer_char(w, '"');
    for (size_t i = 0; i < n; i++) {
        if (parts[i]) {
            json_writer_escape(w, parts[i]);
        }
    }
    json_writer_char(w, '"');
}

void
json_writer_int(struct json_writer *w, int64_t value)
{
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%" PRId64, value);

    json_writer_value(w);
    json_writer_put(w, buf, (size_t) n);
}

void
json_writer_null(struct json_writer *w)
{
    json_writer_value(w);
    json_writer_put(w, "null", 4);
}

void
json_writer_json(struct json_writer *w, const struct json_object *obj)
{
    AUTOFREE char *text = json_to_string_plain(obj);

    json_writer_value(w);
    json_writer_put(w, text, strlen(text));
}
