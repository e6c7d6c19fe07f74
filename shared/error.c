/* error.c: the project-wide error type (see error.h). */
#include <config.h>
#include "shared/error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "shared/xalloc.h"

struct error {
    enum error_kind kind;
    char *message;              /* Full text, causes appended. */
};

struct error_kind_info {
    const char *name;
    int http_status;
    const char *fault_name;
};

static const struct error_kind_info error_kind_table[] = {
#define ERROR_KIND_INFO(kind, name, status, fault) \
    [kind] = { name, status, fault },
    ERROR_KINDS(ERROR_KIND_INFO)
#undef ERROR_KIND_INFO
};

static const struct error_kind_info *
error_kind_info(enum error_kind kind)
{
    if ((size_t) kind >= ARRAY_SIZE(error_kind_table)) {
        kind = ERROR_INTERNAL;
    }
    return &error_kind_table[kind];
}

struct error *
error_newv(enum error_kind kind, const char *fmt, va_list args)
{
    struct error *error = xmalloc(sizeof *error);

    error->kind = kind;
    error->message = xvasprintf(fmt, args);
    return error;
}

struct error *
error_new(enum error_kind kind, const char *fmt, ...)
{
    struct error *error;
    va_list args;

    va_start(args, fmt);
    error = error_newv(kind, fmt, args);
    va_end(args);
    return error;
}

struct error *
error_wrap(struct error *cause, const char *fmt, ...)
{
    AUTOFREE char *prefix = NULL;
    struct error *error;
    va_list args;

    va_start(args, fmt);
    prefix = xvasprintf(fmt, args);
    va_end(args);

    error = xmalloc(sizeof *error);
    error->kind = cause ? cause->kind : ERROR_INTERNAL;
    error->message = xasprintf("%s: %s", prefix,
                               cause ? cause->message : "unknown cause");
    error_free(cause);
    return error;
}

struct error *
error_from_errno(int neg_errno, enum error_kind kind, const char *fmt, ...)
{
    AUTOFREE char *prefix = NULL;
    char buf[256];
    struct error *error;
    va_list args;

    va_start(args, fmt);
    prefix = xvasprintf(fmt, args);
    va_end(args);

    /* GNU strerror_r returns the message, which may not be 'buf'. */
    const char *text = strerror_r(neg_errno < 0 ? -neg_errno : neg_errno,
                                  buf, sizeof buf);
    error = xmalloc(sizeof *error);
    error->kind = kind;
    error->message = xasprintf("%s: %s", prefix, text);
    return error;
}

void
error_free(struct error *error)
{
    if (error) {
        free(error->message);
        free(error);
    }
}

enum error_kind
error_kind(const struct error *error)
{
    return error->kind;
}

const char *
error_message(const struct error *error)
{
    return error->message;
}

int
error_http_status(const struct error *error)
{
    return error_kind_info(error->kind)->http_status;
}

const char *
error_fault_name(const struct error *error)
{
    return error_kind_info(error->kind)->fault_name;
}

const char *
error_kind_to_string(enum error_kind kind)
{
    return error_kind_info(kind)->name;
}

int
error_kind_from_string(const char *name, enum error_kind *ret_kind)
{
    for (size_t i = 0; i < ARRAY_SIZE(error_kind_table); i++) {
        if (!strcmp(error_kind_table[i].name, name)) {
            *ret_kind = (enum error_kind) i;
            return 0;
        }
    }
    return -EINVAL;
}

struct json_object *
error_to_json(const struct error *error)
{
    struct json_object *obj = json_object_new_object();

    json_object_object_add(obj, "kind",
                           json_object_new_string(
                               error_kind_to_string(error->kind)));
    json_object_object_add(obj, "code",
                           json_object_new_int(error_http_status(error)));
    json_object_object_add(obj, "message",
                           json_object_new_string(error->message));
    return obj;
}

struct error *
error_from_json(const struct json_object *obj)
{
    struct json_object *kind_obj, *message_obj;
    enum error_kind kind;

    if (!obj || !json_object_is_type(obj, json_type_object)
        || !json_object_object_get_ex(obj, "kind", &kind_obj)
        || !json_object_is_type(kind_obj, json_type_string)
        || !json_object_object_get_ex(obj, "message", &message_obj)
        || !json_object_is_type(message_obj, json_type_string)) {
        return error_new(ERROR_INTERNAL,
                         "Malformed error report received from a remote "
                         "service");
    }
    if (error_kind_from_string(json_object_get_string(kind_obj), &kind)) {
        kind = ERROR_INTERNAL;
    }
    return error_new(kind, "%s", json_object_get_string(message_obj));
}

struct json_object *
error_to_fault_json(const struct error *error)
{
    struct json_object *inner = json_object_new_object();
    struct json_object *outer = json_object_new_object();

    json_object_object_add(inner, "code",
                           json_object_new_int(error_http_status(error)));
    json_object_object_add(inner, "message",
                           json_object_new_string(error->message));
    json_object_object_add(outer, error_fault_name(error), inner);
    return outer;
}
