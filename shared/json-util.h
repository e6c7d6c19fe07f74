/* json-util.h: parsing request bodies and typed access to json-c values.
 *
 * API request validation and the RPC decoders are built on these helpers,
 * so every failure is a 'struct error' of kind ERROR_INVALID whose message
 * names the field, the expected type and the value received, in the words
 * Nova uses:
 *
 *     Invalid input for field/attribute 'server.flavorRef'. Value: 5.5.
 *     5.5 is not of type 'string', 'integer'
 *
 * Naming a field: every getter takes 'path', the dotted location of 'obj'
 * in the document ("server", "server.networks[2]"; NULL for the top level),
 * and 'field', the key looked up in 'obj'.  Messages name "path.field".
 * Keeping the two apart means that keys containing dots still work and
 * that the lookup never depends on parsing the path.  When 'field' is NULL
 * the getter checks 'obj' itself, named by 'path': that is how array items
 * are checked ("server.tags[0]").
 *
 * Common rules of the json_get_*() family:
 *   - A missing field with 'required' false returns NULL and leaves the
 *     output untouched, so callers preset defaults.  A missing field with
 *     'required' true is an error ("'server.name' is a required property").
 *   - A JSON null is a value of type 'null', not a missing field: it fails
 *     every getter, as it fails Nova's schemas unless they allow null.
 *   - Outputs are written only on success.  Objects, arrays and strings are
 *     borrowed from 'obj' and live as long as it does, unless a function
 *     says otherwise.
 *   - 'obj' must be a JSON object when 'field' is not NULL; anything else
 *     is reported as a type error on 'path'.
 *
 * Values quoted in messages are rendered as compact JSON (strings keep
 * their double quotes, so 5 and "5" stay apart) and cut to
 * JSON_ERROR_VALUE_MAX_SIZE bytes.
 *
 * Threads: json-c caches the text form of a value inside the object, so
 * json_to_string_plain() and a getter that fails (it renders the value)
 * write to the object.  Like json-c itself, use one document from one
 * thread at a time. */
#ifndef NOVA_JSON_UTIL_H
#define NOVA_JSON_UTIL_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "shared/compiler.h"

struct error;
struct json_object;

/* Longest rendering of a user value quoted in an error message, in bytes,
 * before it is cut and marked with "...". */
#define JSON_ERROR_VALUE_MAX_SIZE 128

/* At most this many unexpected keys are named by
 * json_check_allowed_keys(); the rest are counted. */
#define JSON_ERROR_MAX_KEYS_LISTED 10

/* Nesting depth used by json_parse_text() when 'max_depth' is 0 (json-c's
 * own default). */
#define JSON_DEFAULT_MAX_DEPTH 32

/* Largest 'max_depth' json_parse_text() honours (json-c allocates one state
 * record per allowed level up front); larger values are clamped to it. */
#define JSON_MAX_DEPTH 1000

/* Releases the reference held by '*p' if it is not NULL, for
 *     CLEANUP(json_putp) struct json_object *o = NULL;
 * (Written out rather than with DEFINE_FREEP because json_object_put()
 * returns int.) */
void json_putp(struct json_object **p);

/* Parses 'size' bytes at 'text' as one whole JSON document (a request body
 * or a queue message).  'text' need not be NUL-terminated.
 *
 * The document must be exactly one JSON value, optionally surrounded by
 * whitespace, in valid UTF-8, with no NUL byte and at most 'max_depth'
 * levels of nested arrays and objects (0 means JSON_DEFAULT_MAX_DEPTH).  The
 * top-level value may be of any type: check it with json_get_object(doc,
 * NULL, NULL, ...).
 *
 * A body larger than 'max_size' bytes is rejected with ERROR_TOO_LARGE
 * (HTTP 413) before parsing; 0 means no limit beyond json-c's own (2 GiB).
 * Anything else that is wrong is ERROR_INVALID with a message that starts
 * "Malformed request body: " and gives json-c's reason and the byte offset.
 *
 * On success stores a new reference, owned by the caller, in '*ret_doc'. */
struct error *json_parse_text(const char *text, size_t size, size_t max_size,
                              size_t max_depth, struct json_object **ret_doc)
    WARN_UNUSED;

/* Returns 'obj' as compact JSON (no spaces, '/' not escaped), or "null" for
 * NULL.  The caller frees the result.  'obj' is not modified in any way a
 * caller can see (json-c caches the text inside the object). */
char *json_to_string_plain(const struct json_object *obj);

/* Gets a JSON object.  Stores a borrowed pointer in '*ret_object'. */
struct error *json_get_object(const struct json_object *obj,
                              const char *path, const char *field,
                              bool required, struct json_object **ret_object)
    WARN_UNUSED;

/* Gets a JSON array of at most 'max_items' items (0 = no limit).  Stores a
 * borrowed pointer in '*ret_array'. */
struct error *json_get_array(const struct json_object *obj,
                             const char *path, const char *field,
                             bool required, size_t max_items,
                             struct json_object **ret_array) WARN_UNUSED;

/* Gets a JSON string of at most 'max_length' characters (Unicode code
 * points; 0 = no limit).  The string must be valid UTF-8 and must not
 * contain NUL ("\u0000"), so that the C string is the whole value.  Empty
 * strings are accepted: callers that need a minimum length check it.
 * Stores a borrowed pointer in '*ret_string'. */
struct error *json_get_string(const struct json_object *obj,
                              const char *path, const char *field,
                              bool required, size_t max_length,
                              const char **ret_string) WARN_UNUSED;

/* Like json_get_string(), but also accepts a JSON integer and returns its
 * decimal form: Nova's 'flavorRef' and 'imageRef' style fields ("type":
 * ["string", "integer"]).  Stores a copy that the caller frees in
 * '*ret_string'. */
struct error *json_get_string_or_int(const struct json_object *obj,
                                     const char *path, const char *field,
                                     bool required, size_t max_length,
                                     char **ret_string) WARN_UNUSED;

/* Gets a JSON integer in ['min', 'max'].  Only a JSON integer is accepted:
 * not 5.0, not 1e3 (those are numbers) and not "5" (a string); use
 * json_get_int_or_string() for fields where Nova accepts strings.  (json-c
 * saturates integers that do not fit in 64 bits, so keep ranges narrower
 * than the full 'long long' range.) */
struct error *json_get_int(const struct json_object *obj,
                           const char *path, const char *field,
                           bool required, long long min, long long max,
                           long long *ret_value) WARN_UNUSED;

/* Like json_get_int(), but also accepts a string of decimal digits with an
 * optional leading '-' ("5", "007"; not "", " 5", "+5", "5.0" or "0x5"), as
 * Nova's parameter types 'positive_integer' and 'non_negative_integer' do
 * for min_count, max_count and the like. */
struct error *json_get_int_or_string(const struct json_object *obj,
                                     const char *path, const char *field,
                                     bool required, long long min,
                                     long long max, long long *ret_value)
    WARN_UNUSED;

/* Gets a JSON boolean (true or false only). */
struct error *json_get_bool(const struct json_object *obj,
                            const char *path, const char *field,
                            bool required, bool *ret_value) WARN_UNUSED;

/* Like json_get_bool(), but also accepts the strings of Nova's parameter
 * type 'boolean': "True", "TRUE", "true", "1", "ON", "On", "on", "YES",
 * "Yes", "yes" and their false counterparts "False", "FALSE", "false", "0",
 * "OFF", "Off", "off", "NO", "No", "no". */
struct error *json_get_bool_or_string(const struct json_object *obj,
                                      const char *path, const char *field,
                                      bool required, bool *ret_value)
    WARN_UNUSED;

/* Gets a JSON number (an integer or a number with a fraction or exponent,
 * as JSON Schema's 'number'), which must be finite. */
struct error *json_get_double(const struct json_object *obj,
                              const char *path, const char *field,
                              bool required, double *ret_value) WARN_UNUSED;

/* Checks that every key of 'obj' (a JSON object, named by 'path', NULL for
 * the top level) is in 'allowed', a NULL-terminated list.  Otherwise the
 * error lists the unexpected keys as Nova does:
 *     "Additional properties are not allowed ('foo', 'bar' were
 *     unexpected)" */
struct error *json_check_allowed_keys(const struct json_object *obj,
                                      const char *path,
                                      const char *const *allowed)
    WARN_UNUSED;

/* ---- Writing JSON text directly ----------------------------------------
 *
 * A json_writer appends compact JSON text (no spaces, '/' not escaped) to
 * a growing buffer, byte for byte as json_to_string_plain() renders the
 * same value built with json-c, without building the tree: for large
 * responses (lists of servers) whose trees would cost more to build and
 * free than to write.  Commas are placed by the writer: call
 * json_writer_key() before each member of an object, then one value
 * function.  The writer checks nothing else: unbalanced calls give
 * invalid JSON. */

struct json_writer {
    char *buf;                  /* NUL-terminated text, or NULL */
    size_t length;              /* bytes of text in 'buf' */
    size_t allocated;           /* bytes allocated for 'buf' */
    bool need_comma;            /* a value was written at this level */
};

/* Initialises 'w' to an empty text. */
void json_writer_init(struct json_writer *w);

/* Frees the text of 'w'. */
void json_writer_destroy(struct json_writer *w);

/* Returns the text written (owned by the caller; "" if nothing was) and
 * stores its length in '*ret_length' unless NULL; 'w' is empty again. */
char *json_writer_steal(struct json_writer *w, size_t *ret_length);

void json_writer_begin_object(struct json_writer *w);
void json_writer_end_object(struct json_writer *w);
void json_writer_begin_array(struct json_writer *w);
void json_writer_end_array(struct json_writer *w);

/* The key of the next member of the object being written. */
void json_writer_key(struct json_writer *w, const char *key);

/* A string value, escaped as json-c does; NULL writes null. */
void json_writer_string(struct json_writer *w, const char *s);
/* One string value: the concatenation of the 'n' strings of 'parts'
 * (NULL ones count as ""), escaped as json_writer_string() escapes. */
void json_writer_string_concat(struct json_writer *w,
                               const char *const *parts, size_t n);

void json_writer_int(struct json_writer *w, int64_t value);
void json_writer_null(struct json_writer *w);

/* The value 'obj' (NULL: null), rendered by json-c. */
void json_writer_json(struct json_writer *w, const struct json_object *obj);

#endif /* NOVA_JSON_UTIL_H */
