/* servers-validate.c: the schemas of the servers API (servers-validate.h).
 *
 * Each check below is one keyword of Nova's schema for microversion 2.1
 * (nova/api/openstack/compute/schemas/servers.py, reboot, console output,
 * and parameter_types.py), applied in the schema's order so that the
 * first failure reported is the one jsonschema would report. */
#include <config.h>

#include "api-cell/servers-validate.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <json-c/json.h>

#include "shared/cleanup.h"
#include "shared/error.h"
#include "shared/json-util.h"
#include "shared/timeutil.h"
#include "shared/uuid-util.h"
#include "shared/xalloc.h"

/* ---- Python renderings -------------------------------------------------- */

/* A growing string. */
struct sbuf {
    char *s;
    size_t n;
    size_t cap;
};

static void
sbuf_add(struct sbuf *b, const char *data, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        b->s = xrealloc(b->s, b->cap);
    }
    memcpy(b->s + b->n, data, n);
    b->n += n;
    b->s[b->n] = '\0';
}

static void
sbuf_adds(struct sbuf *b, const char *s)
{
    sbuf_add(b, s, strlen(s));
}

static void
py_repr_string(struct sbuf *b, const char *s, size_t n)
{
    /* Python prefers single quotes, double ones when the string holds a
     * single quote and no double quote. */
    char quote = memchr(s, '\'', n) && !memchr(s, '"', n) ? '"' : '\'';

    sbuf_add(b, &quote, 1);
    for (size_t i = 0; i < n && b->n < SERVERS_VALIDATE_MAX_VALUE_SIZE;
         i++) {
        unsigned char c = (unsigned char) s[i];
        char esc[8];

        if (c == '\\' || c == (unsigned char) quote) {
            esc[0] = '\\';
            esc[1] = (char) c;
            sbuf_add(b, esc, 2);
        } else if (c == '\n') {
            sbuf_adds(b, "\\n");
        } else if (c == '\r') {
            sbuf_adds(b, "\\r");
        } else if (c == '\t') {
            sbuf_adds(b, "\\t");
        } else if (c < 0x20 || c == 0x7f) {
            (void) snprintf(esc, sizeof esc, "\\x%02x", c);
            sbuf_adds(b, esc);
        } else {
            sbuf_add(b, (const char *) &c, 1);
        }
    }
    sbuf_add(b, &quote, 1);
}

static void
py_repr_into(struct sbuf *b, const struct json_object *obj)
{
    struct json_object *o = (struct json_object *) obj;

    if (b->n >= SERVERS_VALIDATE_MAX_VALUE_SIZE) {
        return;
    }
    switch (json_object_get_type(o)) {
    case json_type_null:
        sbuf_adds(b, "None");
        break;
    case json_type_boolean:
        sbuf_adds(b, json_object_get_boolean(o) ? "True" : "False");
        break;
    case json_type_int: {
        char num[32];

        (void) snprintf(num, sizeof num, "%lld",
                        (long long) json_object_get_int64(o));
        sbuf_adds(b, num);
        break;
    }
    case json_type_double: {
        AUTOFREE char *text = json_to_string_plain(o);

        sbuf_adds(b, text);
        break;
    }
    case json_type_string:
        py_repr_string(b, json_object_get_string(o),
                       (size_t) json_object_get_string_len(o));
        break;
    case json_type_array:
        sbuf_adds(b, "[");
        for (size_t i = 0; i < json_object_array_length(o); i++) {
            if (i) {
                sbuf_adds(b, ", ");
            }
            py_repr_into(b, json_object_array_get_idx(o, i));
        }
        sbuf_adds(b, "]");
        break;
    case json_type_object: {
        bool first = true;

        sbuf_adds(b, "{");
        json_object_object_foreach(o, key, value) {
            if (!first) {
                sbuf_adds(b, ", ");
            }
            first = false;
            py_repr_string(b, key, strlen(key));
            sbuf_adds(b, ": ");
            py_repr_into(b, value);
        }
        sbuf_adds(b, "}");
        break;
    }
    }
}

static char *
py_finish(struct sbuf *b)
{
    if (!b->s) {
        return xstrdup("");
    }
    if (b->n > SERVERS_VALIDATE_MAX_VALUE_SIZE) {
        b->n = SERVERS_VALIDATE_MAX_VALUE_SIZE;
        b->s[b->n] = '\0';
        sbuf_adds(b, "...");
    }
    return b->s;
}

char *
servers_py_repr(const struct json_object *obj)
{
    struct sbuf b = { NULL, 0, 0 };

    py_repr_into(&b, obj);
    return py_finish(&b);
}

/* Python's str(): strings as they are, anything else as repr(). */
static char *
py_str(const struct json_object *obj)
{
    if (json_object_is_type(obj, json_type_string)) {
        const char *s = json_object_get_string((struct json_object *) obj);
        size_t n = strlen(s);

        if (n > SERVERS_VALIDATE_MAX_VALUE_SIZE) {
            AUTOFREE char *cut = xstrndup(s, SERVERS_VALIDATE_MAX_VALUE_SIZE);

            return xasprintf("%s...", cut);
        }
        return xstrdup(s);
    }
    return servers_py_repr(obj);
}

/* ---- Errors in Nova's words --------------------------------------------- */

struct error *
servers_validate_invalid(const char *field, const struct json_object *value,
                         const char *fmt, ...)
{
    AUTOFREE char *reason = NULL;
    va_list args;

    va_start(args, fmt);
    reason = xvasprintf(fmt, args);
    va_end(args);
    if (!field) {
        return error_new(ERROR_INVALID, "%s", reason);
    }
    AUTOFREE char *shown = py_str(value);
    return error_new(ERROR_INVALID, "Invalid input for field/attribute %s. "
                     "Value: %s. %s", field, shown, reason);
}

/* "X is not of type 'string'" and friends. */
static struct error *
invalid_type(const char *field, const struct json_object *value,
             const char *types)
{
    AUTOFREE char *repr = servers_py_repr(value);

    return servers_validate_invalid(field, value, "%s is not of type %s",
                                    repr, types);
}

static struct error *
invalid_repr(const char *field, const struct json_object *value,
             const char *suffix)
{
    AUTOFREE char *repr = servers_py_repr(value);

    return servers_validate_invalid(field, value, "%s%s", repr, suffix);
}

static bool
is_type(const struct json_object *obj, enum json_type type)
{
    /* json-c's null is a NULL pointer, which json_object_is_type() takes
     * as json_type_null. */
    return json_object_is_type(obj, type);
}

/* The number of Unicode code points of UTF-8 'str'. */
static size_t
utf8_length(const char *s)
{
    size_t n = 0;

    for (; *s; s++) {
        if (((unsigned char) *s & 0xc0) != 0x80) {
            n++;
        }
    }
    return n;
}

static struct error *
check_string(const char *field, const struct json_object *value,
             size_t min_length, size_t max_length)
{
    size_t length;

    if (!is_type(value, json_type_string)) {
        return invalid_type(field, value, "'string'");
    }
    length = utf8_length(json_object_get_string(
                             (struct json_object *) value));
    if (length < min_length) {
        return invalid_repr(field, value, " is too short");
    }
    if (max_length && length > max_length) {
        return invalid_repr(field, value, " is too long");
    }
    return NULL;
}

/* Nova's parameter_types.name: a string of 1 to 255 characters, printable,
 * not starting or ending with whitespace (format 'name', whose failure is
 * reported with the InvalidName message alone). */
static struct error *
check_name(const char *field, const struct json_object *value)
{
    struct error *error = check_string(field, value, 1, 255);
    const char *s;
    size_t n;

    if (error) {
        return error;
    }
    s = json_object_get_string((struct json_object *) value);
    n = strlen(s);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char) s[i];

        if (c < 0x20 || c == 0x7f) {
            goto bad;
        }
    }
    if (isspace((unsigned char) s[0]) || isspace((unsigned char) s[n - 1])
        /* U+00A0 NO-BREAK SPACE, which Python's isspace() knows too. */
        || (n >= 2 && !memcmp(s, "\xc2\xa0", 2))
        || (n >= 2 && !memcmp(s + n - 2, "\xc2\xa0", 2))) {
        goto bad;
    }
    return NULL;

bad:
    return error_new(ERROR_INVALID, "An invalid 'name' value was provided. "
                     "The name must be: printable characters. Can not start "
                     "or end with whitespace.");
}

/* parameter_types.boolean. */
#define BOOLEAN_ENUM "[True, 'True', 'TRUE', 'true', '1', 'ON', 'On', " \
    "'on', 'YES', 'Yes', 'yes', False, 'False', 'FALSE', 'false', '0', " \
    "'OFF', 'Off', 'off', 'NO', 'No', 'no']"

static struct error *
check_boolean(const char *field, const struct json_object *value,
              bool *ret)
{
    static const char *const yes[] = {
        "True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes",
    };
    static const char *const no[] = {
        "False", "FALSE", "false", "0", "OFF", "Off", "off", "NO", "No", "no",
    };
    const char *s;

    if (is_type(value, json_type_boolean)) {
        *ret = json_object_get_boolean((struct json_object *) value);
        return NULL;
    }
    if (!is_type(value, json_type_string)) {
        return invalid_type(field, value, "'boolean', 'string'");
    }
    s = json_object_get_string((struct json_object *) value);
    for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
        if (!strcmp(s, yes[i])) {
            *ret = true;
            return NULL;
        }
        if (!strcmp(s, no[i])) {
            *ret = false;
            return NULL;
        }
    }
    return invalid_repr(field, value, " is not one of " BOOLEAN_ENUM);
}

/* parameter_types.positive_integer: an integer >= 1, or a string of
 * digits. */
static struct error *
check_positive_integer(const char *field, const struct json_object *value,
                       long long max, long long *ret)
{
    long long v;

    if (is_type(value, json_type_int)) {
        v = (long long) json_object_get_int64((struct json_object *) value);
    } else if (is_type(value, json_type_string)) {
        const char *s = json_object_get_string((struct json_object *) value);

        if (s[strspn(s, "0123456789")] != '\0') {
            return invalid_repr(field, value, " does not match "
                                "'^[0-9]*$'");
        }
        if (!*s) {
            return invalid_repr(field, value, " is too short");
        }
        errno = 0;
        v = strtoll(s, NULL, 10);
        if (errno) {
            v = max + 1;
        }
    } else {
        return invalid_type(field, value, "'integer', 'string'");
    }
    if (v < 1) {
        return invalid_repr(field, value, " is less than the minimum of 1");
    }
    if (v > max) {
        AUTOFREE char *repr = servers_py_repr(value);

        return servers_validate_invalid(field, value,
                                        "%s is greater than the maximum "
                                        "of %lld", repr, max);
    }
    *ret = v;
    return NULL;
}

struct error *
servers_validate_additional(const char *field, const struct json_object *obj,
                            const char *const *allowed)
{
    struct sbuf b = { NULL, 0, 0 };
    size_t n = 0;

    json_object_object_foreach((struct json_object *) obj, key, value) {
        bool ok = false;

        (void) value;
        for (size_t i = 0; allowed[i]; i++) {
            if (!strcmp(key, allowed[i])) {
                ok = true;
                break;
            }
        }
        if (!ok) {
            if (n++) {
                sbuf_adds(&b, ", ");
            }
            py_repr_string(&b, key, strlen(key));
        }
    }
    if (!n) {
        return NULL;
    }
    AUTOFREE char *keys = py_finish(&b);
    return servers_validate_invalid(field, obj, "Additional properties are "
                                    "not allowed (%s %s unexpected)", keys,
                                    n == 1 ? "was" : "were");
}

static struct json_object *
get(const struct json_object *obj, const char *key)
{
    struct json_object *value = NULL;

    if (!json_object_object_get_ex((struct json_object *) obj, key,
                                   &value)) {
        return NULL;
    }
    /* A JSON null is a value: callers tell it apart with 'present'. */
    return value;
}

static bool
present(const struct json_object *obj, const char *key)
{
    return json_object_object_get_ex((struct json_object *) obj, key, NULL);
}

/* ---- Formats ------------------------------------------------------------ */

static bool
is_base64(const char *s)
{
    size_t n_data = 0, n_pad = 0;

    /* Python's base64.decodebytes(): characters outside the alphabet are
     * skipped; what is left must be padded correctly. */
    for (; *s; s++) {
        if (isalnum((unsigned char) *s) || *s == '+' || *s == '/') {
            if (n_pad) {
                break;
            }
            n_data++;
        } else if (*s == '=') {
            n_pad++;
        }
    }
    switch (n_data % 4) {
    case 0:
        return true;
    case 1:
        return false;
    case 2:
        return n_pad >= 2;
    default:
        return n_pad >= 1;
    }
}

static struct error *
check_ip(const char *field, const struct json_object *value, int family)
{
    unsigned char buf[sizeof(struct in6_addr)];

    if (!is_type(value, json_type_string)) {
        return invalid_type(field, value, "'string'");
    }
    if (inet_pton(family, json_object_get_string(
                      (struct json_object *) value), buf) != 1) {
        return invalid_repr(field, value, family == AF_INET
                            ? " is not a 'ipv4'" : " is not a 'ipv6'");
    }
    return NULL;
}

/* An array whose items are objects with only 'keys' (NULL-terminated),
 * each a string: networks, personality, security_groups. */
static struct error *
check_object_array(const char *field, const struct json_object *value,
                   const char *const *keys)
{
    if (!is_type(value, json_type_array)) {
        return invalid_type(field, value, "'array'");
    }
    for (size_t i = 0; i < json_object_array_length(value); i++) {
        struct json_object *item = json_object_array_get_idx(value, i);
        struct error *error;

        if (!is_type(item, json_type_object)) {
            return invalid_type(field, item, "'object'");
        }
        json_object_object_foreach(item, key, v) {
            for (size_t k = 0; keys[k]; k++) {
                if (!strcmp(key, keys[k])
                    && !is_type(v, json_type_string)
                    && !is_type(v, json_type_null)) {
                    return invalid_type(key, v, "'string'");
                }
            }
        }
        error = servers_validate_additional(field, item, keys);
        if (error) {
            return error;
        }
    }
    return NULL;
}

/* parameter_types.metadata: keys matching '^[a-zA-Z0-9-_:. ]{1,255}$'
 * with string values of at most 255 characters. */
static bool
is_metadata_key(const char *key)
{
    size_t n = strlen(key);

    if (n < 1 || n > 255) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!isalnum((unsigned char) key[i]) && !strchr("-_:. ", key[i])) {
            return false;
        }
    }
    return true;
}

struct error *
servers_validate_metadata(const char *field, const struct json_object *value)
{
    struct sbuf b = { NULL, 0, 0 };
    size_t n_bad = 0;

    if (!is_type(value, json_type_object)) {
        return invalid_type(field, value, "'object'");
    }
    json_object_object_foreach((struct json_object *) value, key, v) {
        if (is_metadata_key(key)) {
            struct error *error = check_string(key, v, 0, 255);

            if (error) {
                free(b.s);
                return error;
            }
        } else {
            if (n_bad++) {
                sbuf_adds(&b, ", ");
            }
            py_repr_string(&b, key, strlen(key));
        }
    }
    if (n_bad) {
        AUTOFREE char *keys = py_finish(&b);
        return servers_validate_invalid(field, value, "Additional "
                                        "properties are not allowed (%s %s "
                                        "unexpected)", keys,
                                        n_bad == 1 ? "was" : "were");
    }
    return NULL;
}

/* ---- Create ------------------------------------------------------------- */

void
servers_create_req_destroy(struct servers_create_req *req)
{
    if (req) {
        free(req->image_ref);
        free(req->flavor_ref);
        memset(req, 0, sizeof *req);
    }
}

static struct error *
check_image_ref(const struct json_object *value, char **ret)
{
    char uuid[UUID_STRING_SIZE];
    const char *s;

    if (is_type(value, json_type_string)) {
        s = json_object_get_string((struct json_object *) value);
        if (!*s) {
            *ret = xstrdup("");
            return NULL;
        }
        if (!uuid_normalize(s, uuid)) {
            *ret = xstrdup(uuid);
            return NULL;
        }
    }
    return invalid_repr("imageRef", value, " is not valid under any of the "
                        "given schemas");
}

static struct error *
check_flavor_ref(const struct json_object *value, char **ret)
{
    if (is_type(value, json_type_int)) {
        *ret = xasprintf("%lld", (long long) json_object_get_int64(
                             (struct json_object *) value));
        return NULL;
    }
    if (!is_type(value, json_type_string)) {
        return invalid_type("flavorRef", value, "'string', 'integer'");
    }
    if (!*json_object_get_string((struct json_object *) value)) {
        return invalid_repr("flavorRef", value, " is too short");
    }
    if (utf8_length(json_object_get_string((struct json_object *) value))
        > 255) {
        return invalid_repr("flavorRef", value, " is too long");
    }
    *ret = xstrdup(json_object_get_string((struct json_object *) value));
    return NULL;
}

/* The properties of "server", in the schema's order. */
static struct error *
check_server_properties(const struct json_object *server,
                        struct servers_create_req *r)
{
    static const char *const network_keys[] = {
        "fixed_ip", "port", "uuid", NULL,
    };
    static const char *const personality_keys[] = {
        "path", "contents", NULL,
    };
    static const char *const sg_keys[] = { "name", NULL };
    struct json_object *v;
    struct error *error = NULL;
    bool flag;

    if (present(server, "name")) {
        v = get(server, "name");
        error = check_name("name", v);
        if (error) {
            return error;
        }
        r->name = json_object_get_string(v);
    }
    if (present(server, "imageRef")) {
        error = check_image_ref(get(server, "imageRef"), &r->image_ref);
        if (error) {
            return error;
        }
    }
    if (present(server, "flavorRef")) {
        error = check_flavor_ref(get(server, "flavorRef"), &r->flavor_ref);
        if (error) {
            return error;
        }
    }
    if (present(server, "adminPass")) {
        v = get(server, "adminPass");
        if (!is_type(v, json_type_string)) {
            return invalid_type("adminPass", v, "'string'");
        }
    }
    if (present(server, "metadata")) {
        v = get(server, "metadata");
        error = servers_validate_metadata("metadata", v);
        if (error) {
            return error;
        }
        r->metadata = v;
    }
    if (present(server, "networks")) {
        error = check_object_array("networks", get(server, "networks"),
                                   network_keys);
        if (error) {
            return error;
        }
    }
    if (present(server, "OS-DCF:diskConfig")) {
        const char *s;

        v = get(server, "OS-DCF:diskConfig");
        if (!is_type(v, json_type_string)) {
            return invalid_type("OS-DCF:diskConfig", v, "'string'");
        }
        s = json_object_get_string(v);
        if (strcmp(s, "AUTO") && strcmp(s, "MANUAL")) {
            return invalid_repr("OS-DCF:diskConfig", v,
                                " is not one of ['AUTO', 'MANUAL']");
        }
    }
    if (present(server, "accessIPv4")) {
        error = check_ip("accessIPv4", get(server, "accessIPv4"), AF_INET);
        if (error) {
            return error;
        }
    }
    if (present(server, "accessIPv6")) {
        error = check_ip("accessIPv6", get(server, "accessIPv6"), AF_INET6);
        if (error) {
            return error;
        }
    }
    if (present(server, "personality")) {
        error = check_object_array("personality", get(server, "personality"),
                                   personality_keys);
        if (error) {
            return error;
        }
    }
    if (present(server, "availability_zone")) {
        v = get(server, "availability_zone");
        error = check_name("availability_zone", v);
        if (error) {
            return error;
        }
        r->availability_zone = json_object_get_string(v);
    }
    static const char *const bdm_names[] = {
        "block_device_mapping", "block_device_mapping_v2",
    };
    for (size_t i = 0; i < ARRAY_SIZE(bdm_names); i++) {
        if (present(server, bdm_names[i])) {
            v = get(server, bdm_names[i]);
            if (!is_type(v, json_type_array)) {
                return invalid_type(bdm_names[i], v, "'array'");
            }
            if (json_object_array_length(v) > 0) {
                r->has_block_devices = true;
            }
        }
    }
    if (present(server, "config_drive")) {
        error = check_boolean("config_drive", get(server, "config_drive"),
                              &flag);
        if (error) {
            return error;
        }
    }
    if (present(server, "key_name")) {
        v = get(server, "key_name");
        error = check_name("key_name", v);
        if (error) {
            return error;
        }
        r->key_name = json_object_get_string(v);
    }
    if (present(server, "min_count")) {
        error = check_positive_integer("min_count", get(server, "min_count"),
                                       SERVERS_MAX_COUNT, &r->min_count);
        if (error) {
            return error;
        }
    }
    if (present(server, "max_count")) {
        error = check_positive_integer("max_count", get(server, "max_count"),
                                       SERVERS_MAX_COUNT, &r->max_count);
        if (error) {
            return error;
        }
    }
    if (present(server, "return_reservation_id")) {
        error = check_boolean("return_reservation_id",
                              get(server, "return_reservation_id"),
                              &r->return_reservation_id);
        if (error) {
            return error;
        }
    }
    if (present(server, "security_groups")) {
        error = check_object_array("security_groups",
                                   get(server, "security_groups"), sg_keys);
        if (error) {
            return error;
        }
    }
    if (present(server, "user_data")) {
        v = get(server, "user_data");
        if (!is_type(v, json_type_string)) {
            return invalid_type("user_data", v, "'string'");
        }
        if (!is_base64(json_object_get_string(v))) {
            return invalid_repr("user_data", v, " is not a 'base64'");
        }
        if (utf8_length(json_object_get_string(v))
            > SERVERS_MAX_USER_DATA_LENGTH) {
            return invalid_repr("user_data", v, " is too long");
        }
    }
    return NULL;
}

struct error *
servers_validate_create(const struct json_object *body,
                        struct servers_create_req *ret)
{
    static const char *const top_keys[] = {
        "server", "os:scheduler_hints", "OS-SCH-HNT:scheduler_hints", NULL,
    };
    static const char *const server_keys[] = {
        "name", "imageRef", "flavorRef", "adminPass", "metadata",
        "networks", "OS-DCF:diskConfig", "accessIPv4", "accessIPv6",
        "personality", "availability_zone", "block_device_mapping",
        "block_device_mapping_v2", "config_drive", "key_name", "min_count",
        "max_count", "return_reservation_id", "security_groups",
        "user_data", NULL,
    };
    static const char *const hint_keys[] = {
        "os:scheduler_hints", "OS-SCH-HNT:scheduler_hints",
    };
    struct json_object *server = NULL;
    struct error *error;

    memset(ret, 0, sizeof *ret);
    ret->min_count = 1;
    if (!is_type(body, json_type_object)) {
        return body ? invalid_type(NULL, body, "'object'")
                    : error_new(ERROR_INVALID, "'server' is a required "
                                "property");
    }

    /* properties: server, then the hints. */
    if (present(body, "server")) {
        server = get(body, "server");
        if (!is_type(server, json_type_object)) {
            return invalid_type("server", server, "'object'");
        }
        error = check_server_properties(server, ret);
        if (error) {
            return error;
        }
        if (!present(server, "name")) {
            return servers_validate_invalid(
                "server", server, "'name' is a required property");
        }
        if (!present(server, "flavorRef")) {
            return servers_validate_invalid(
                "server", server, "'flavorRef' is a required property");
        }
        error = servers_validate_additional("server", server, server_keys);
        if (error) {
            return error;
        }
    }
    for (size_t i = ARRAY_SIZE(hint_keys); i-- > 0;) {
        if (present(body, hint_keys[i])) {
            struct json_object *hints = get(body, hint_keys[i]);

            if (!is_type(hints, json_type_object)) {
                return invalid_type(hint_keys[i], hints, "'object'");
            }
            /* os:scheduler_hints wins when both are given. */
            ret->scheduler_hints = hints;
        }
    }
    if (!present(body, "server")) {
        return error_new(ERROR_INVALID, "'server' is a required property");
    }
    error = servers_validate_additional(NULL, body, top_keys);
    if (error) {
        return error;
    }

    if (!present(server, "max_count")) {
        ret->max_count = ret->min_count;
    }
    if (ret->min_count > ret->max_count) {
        return error_new(ERROR_INVALID, "min_count must be <= max_count");
    }
    if (!ret->image_ref) {
        ret->image_ref = xstrdup("");
    }
    return NULL;
}

/* ---- Update ------------------------------------------------------------- */

struct error *
servers_validate_update(const struct json_object *body,
                        const char **ret_name)
{
    static const char *const top_keys[] = { "server", NULL };
    static const char *const server_keys[] = {
        "name", "OS-DCF:diskConfig", "accessIPv4", "accessIPv6", NULL,
    };
    struct json_object *server, *v;
    struct error *error;
    const char *name = NULL;

    if (!is_type(body, json_type_object)) {
        return body ? invalid_type(NULL, body, "'object'")
                    : error_new(ERROR_INVALID, "'server' is a required "
                                "property");
    }
    if (present(body, "server")) {
        server = get(body, "server");
        if (!is_type(server, json_type_object)) {
            return invalid_type("server", server, "'object'");
        }
        if (present(server, "name")) {
            v = get(server, "name");
            error = check_name("name", v);
            if (error) {
                return error;
            }
            name = json_object_get_string(v);
        }
        if (present(server, "OS-DCF:diskConfig")) {
            const char *s;

            v = get(server, "OS-DCF:diskConfig");
            if (!is_type(v, json_type_string)) {
                return invalid_type("OS-DCF:diskConfig", v, "'string'");
            }
            s = json_object_get_string(v);
            if (strcmp(s, "AUTO") && strcmp(s, "MANUAL")) {
                return invalid_repr("OS-DCF:diskConfig", v,
                                    " is not one of ['AUTO', 'MANUAL']");
            }
        }
        if (present(server, "accessIPv4")) {
            error = check_ip("accessIPv4", get(server, "accessIPv4"),
                             AF_INET);
            if (error) {
                return error;
            }
        }
        if (present(server, "accessIPv6")) {
            error = check_ip("accessIPv6", get(server, "accessIPv6"),
                             AF_INET6);
            if (error) {
                return error;
            }
        }
        error = servers_validate_additional("server", server, server_keys);
        if (error) {
            return error;
        }
    } else {
        return error_new(ERROR_INVALID, "'server' is a required property");
    }
    error = servers_validate_additional(NULL, body, top_keys);
    if (error) {
        return error;
    }
    *ret_name = name;
    return NULL;
}

/* ---- Actions ------------------------------------------------------------ */

static const char *const servers_action_names[] = {
#define SERVERS_ACTION_NAME(action, name) name,
    SERVERS_ACTIONS(SERVERS_ACTION_NAME)
#undef SERVERS_ACTION_NAME
};

const char *
servers_action_to_string(enum servers_action action)
{
    return (unsigned int) action < SERVERS_N_ACTIONS
           ? servers_action_names[action] : "?";
}

static struct error *
check_reboot(const struct json_object *value, struct servers_action_req *r)
{
    static const char *const keys[] = { "type", NULL };
    struct json_object *type;
    struct error *error;

    if (!is_type(value, json_type_object)) {
        return invalid_type("reboot", value, "'object'");
    }
    if (present(value, "type")) {
        const char *s;

        type = get(value, "type");
        if (!is_type(type, json_type_string)) {
            return invalid_type("type", type, "'string'");
        }
        s = json_object_get_string(type);
        if (strcmp(s, "HARD") && strcmp(s, "Hard") && strcmp(s, "hard")
            && strcmp(s, "SOFT") && strcmp(s, "Soft") && strcmp(s, "soft")) {
            return invalid_repr("type", type, " is not one of ['HARD', "
                                "'Hard', 'hard', 'SOFT', 'Soft', 'soft']");
        }
        r->hard = !strcasecmp(s, "hard");
    } else {
        return servers_validate_invalid("reboot", value,
                                        "'type' is a required property");
    }
    error = servers_validate_additional("reboot", value, keys);
    return error;
}

static struct error *
check_console_output(const struct json_object *value,
                     struct servers_action_req *r)
{
    static const char *const keys[] = { "length", NULL };
    struct json_object *length;
    long long n;

    if (!is_type(value, json_type_object)) {
        return invalid_type("os-getConsoleOutput", value, "'object'");
    }
    if (present(value, "length")) {
        length = get(value, "length");
        if (is_type(length, json_type_int)) {
            n = (long long) json_object_get_int64(length);
        } else if (is_type(length, json_type_string)) {
            const char *s = json_object_get_string(length);
            const char *digits = s + (*s == '-');

            if (!*digits || digits[strspn(digits, "0123456789")]) {
                return invalid_repr("length", length,
                                    " does not match '^-?[0-9]+$'");
            }
            errno = 0;
            n = strtoll(s, NULL, 10);
            if (errno) {
                n = INT32_MAX;
            }
        } else if (is_type(length, json_type_null)) {
            n = -1;
        } else {
            return invalid_type("length", length,
                                "'integer', 'string', 'null'");
        }
        if (n != -1) {
            if (n < 0) {
                /* Nova's compute API refuses a negative length other than
                 * -1 (everything). */
                return error_new(ERROR_INVALID, "Invalid console output "
                                 "length: %lld", n);
            }
            r->has_length = true;
            r->length = n > INT32_MAX ? INT32_MAX : n;
        }
    }
    return servers_validate_additional("os-getConsoleOutput", value, keys);
}

struct error *
servers_validate_action(const struct json_object *body,
                        struct servers_action_req *ret)
{
    const char *key = NULL;
    struct json_object *value = NULL;

    memset(ret, 0, sizeof *ret);
    if (!is_type(body, json_type_object)
        || json_object_object_length((struct json_object *) body) != 1) {
        return error_new(ERROR_INVALID, "Malformed request body");
    }
    json_object_object_foreach((struct json_object *) body, k, v) {
        key = k;
        value = v;
    }
    for (size_t i = 0; i < SERVERS_N_ACTIONS; i++) {
        if (!strcmp(key, servers_action_names[i])) {
            ret->action = (enum servers_action) i;
            switch (ret->action) {
            case SERVERS_ACTION_REBOOT:
                return check_reboot(value, ret);
            case SERVERS_ACTION_CONSOLE_OUTPUT:
                return check_console_output(value, ret);
            case SERVERS_ACTION_STOP:
            case SERVERS_ACTION_START:
            case SERVERS_ACTION_PAUSE:
            case SERVERS_ACTION_UNPAUSE:
            case SERVERS_ACTION_SUSPEND:
            case SERVERS_ACTION_RESUME:
            case SERVERS_ACTION_LOCK:
            case SERVERS_ACTION_UNLOCK:
            case SERVERS_N_ACTIONS:
            default:
                /* No schema in 2.1: the value is ignored. */
                return NULL;
            }
        }
    }
    return error_new(ERROR_INVALID, "There is no such action: %s", key);
}

/* ---- Query parameters --------------------------------------------------- */

struct error *
servers_parse_limit(const char *value, long long max_limit,
                    long long *ret_limit)
{
    const char *digits = value + (*value == '-');
    long long limit;

    if (!*digits || digits[strspn(digits, "0123456789")]) {
        return error_new(ERROR_INVALID, "limit param must be an integer");
    }
    errno = 0;
    limit = strtoll(value, NULL, 10);
    if (errno) {
        limit = *value == '-' ? -1 : max_limit;
    }
    if (limit < 0) {
        return error_new(ERROR_INVALID, "limit param must be positive");
    }
    *ret_limit = limit < max_limit ? limit : max_limit;
    return NULL;
}

struct error *
servers_parse_bool(const char *value, bool *ret_value)
{
    static const char *const yes[] = { "1", "t", "true", "on", "y", "yes" };
    static const char *const no[] = { "0", "f", "false", "off", "n", "no" };

    for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
        if (!strcasecmp(value, yes[i])) {
            *ret_value = true;
            return NULL;
        }
        if (!strcasecmp(value, no[i])) {
            *ret_value = false;
            return NULL;
        }
    }
    return error_new(ERROR_INVALID, "Unrecognized value '%s', acceptable "
                     "values are: '0', '1', 'f', 'false', 'n', 'no', 'off', "
                     "'on', 't', 'true', 'y', 'yes'", value);
}

struct error *
servers_parse_changes_since(const char *value, int64_t *ret_ms)
{
    int64_t ms;

    if (time_parse_iso8601(value, &ms)) {
        return error_new(ERROR_INVALID, "Invalid input for query parameters "
                         "changes-since. Value: %s. '%s' is not a "
                         "'date-time'", value, value);
    }
    *ret_ms = ms;
    return NULL;
}

struct error *
servers_check_sort_dir(const char *value)
{
    if (strcmp(value, "asc") && strcmp(value, "desc")) {
        return error_new(ERROR_INVALID, "Unknown sort direction, must be "
                         "'desc' or 'asc'");
    }
    return NULL;
}

const char *
servers_status_to_vm_state(const char *status, bool *ret_needs_task)
{
    static const struct {
        const char *status;
        const char *vm_state;
        bool needs_task;
    } map[] = {
        { "ACTIVE", "active", false },
        { "BUILD", "building", false },
        { "SHUTOFF", "stopped", false },
        { "PAUSED", "paused", false },
        { "SUSPENDED", "suspended", false },
        { "ERROR", "error", false },
        { "DELETED", "deleted", false },
        { "SOFT_DELETED", "soft-delete", false },
        { "SHELVED", "shelved", false },
        { "SHELVED_OFFLOADED", "shelved_offloaded", false },
        { "RESCUE", "rescued", false },
        { "VERIFY_RESIZE", "resized", false },
        { "REBOOT", "active", true },
        { "HARD_REBOOT", "active", true },
        { "PASSWORD", "active", true },
        { "REBUILD", "active", true },
        { "MIGRATING", "active", true },
        { "RESIZE", "active", true },
        { "REVERT_RESIZE", "resized", true },
    };

    for (size_t i = 0; i < ARRAY_SIZE(map); i++) {
        /* Nova upper-cases the status before it maps it. */
        if (!strcasecmp(status, map[i].status)) {
            *ret_needs_task = map[i].needs_task;
            return map[i].vm_state;
        }
    }
    return NULL;
}
