/* rpc-msg.c: encoding and strict decoding of the RPC envelope (rpc-msg.h).
 *
 * The encoder checks the same rules as the decoder, so that whatever this
 * process sends, a peer of the same protocol accepts: a bad method name or
 * an oversized context is the sender's bug and is reported to the sender,
 * not discovered in a dead-letter queue.
 *
 * Decoding goes through json-util.h, whose errors name the field
 * ("Invalid input for field/attribute 'context.roles[2]' ..."); every
 * error is prefixed "Invalid RPC message: " so that a log line or a reply
 * says which layer refused it. */
#include <config.h>

#include "cells-rpc/rpc-msg.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "shared/error.h"
#include "shared/json-util.h"
#include "shared/uuid-util.h"
#include "shared/xalloc.h"

/* Longest version string on the wire, in characters. */
#define RPC_MSG_MAX_VERSION_LENGTH (RPC_VERSION_STRING_SIZE - 1)

struct rpc_msg *
rpc_msg_new(const char *method, struct json_object *args)
{
    struct rpc_msg *msg = xzalloc(sizeof *msg);

    rpc_msg_new_id(msg);
    msg->method = xstrdup(method);
    msg->version.major = 1;
    msg->version.minor = 0;
    msg->args = args ? args : json_object_new_object();
    rpc_ctx_init(&msg->ctx);
    return msg;
}

/* A copy of 'json' (NULL for NULL) that shares nothing with it. */
static struct json_object *
rpc_msg_json_copy(struct json_object *json)
{
    struct json_object *copy = NULL;

    if (json && json_object_deep_copy(json, &copy, NULL)) {
        /* json-c fails only when out of memory: as xalloc.h does. */
        abort();
    }
    return copy;
}

struct rpc_msg *
rpc_msg_clone(const struct rpc_msg *src)
{
    struct rpc_msg *msg = xzalloc(sizeof *msg);

    memcpy(msg->msg_id, src->msg_id, sizeof msg->msg_id);
    msg->method = xstrdup(src->method);
    msg->version = src->version;
    msg->args = rpc_msg_json_copy(src->args);
    rpc_ctx_clone(&msg->ctx, &src->ctx);
    msg->deadline_ms = src->deadline_ms;
    msg->extra = rpc_msg_json_copy(src->extra);
    return msg;
}

void
rpc_msg_free(struct rpc_msg *msg)
{
    if (!msg) {
        return;
    }
    free(msg->method);
    json_object_put(msg->args);
    rpc_ctx_destroy(&msg->ctx);
    json_object_put(msg->extra);
    free(msg);
}

void
rpc_msg_new_id(struct rpc_msg *msg)
{
    uuid_generate_string(msg->msg_id);
}

bool
rpc_msg_id_is_valid(const char *id)
{
    if (!uuid_is_valid(id)) {
        return false;
    }
    for (; *id; id++) {
        if (*id >= 'A' && *id <= 'F') {
            return false;
        }
    }
    return true;
}

bool
rpc_msg_method_is_valid(const char *method)
{
    size_t n = 0;

    if (!method || !method[0]
        || !((method[0] >= 'a' && method[0] <= 'z')
             || (method[0] >= 'A' && method[0] <= 'Z')
             || method[0] == '_')) {
        return false;
    }
    for (const char *p = method; *p; p++, n++) {
        char c = *p;

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '_')) {
            return false;
        }
    }
    return n <= RPC_MSG_MAX_METHOD_LENGTH;
}

static struct json_object *
rpc_msg_string_or_skip(struct json_object *obj, const char *key,
                       const char *value)
{
    if (value) {
        json_object_object_add(obj, key, json_object_new_string(value));
    }
    return obj;
}

/* Serialises 'doc' (consumed) into '*ret_text'/'*ret_size', failing with
 * ERROR_TOO_LARGE beyond RPC_MSG_MAX_SIZE.  'what' names the message. */
static struct error *
rpc_msg_finish(struct json_object *doc, const char *what, char **ret_text,
               size_t *ret_size)
{
    CLEANUP(json_putp) struct json_object *owned = doc;
    size_t size;
    const char *text = json_object_to_json_string_length(
        owned, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
        &size);

    if (size > RPC_MSG_MAX_SIZE) {
        return error_new(ERROR_TOO_LARGE, "RPC %s is too large: %zu bytes, "
                         "the limit is %d bytes", what, size,
                         RPC_MSG_MAX_SIZE);
    }
    *ret_text = xstrndup(text, size);
    *ret_size = size;
    return NULL;
}

struct error *
rpc_msg_encode(const struct rpc_msg *msg, char **ret_text, size_t *ret_size)
{
    char version[RPC_VERSION_STRING_SIZE];
    struct json_object *doc, *ctx, *roles;
    struct error *err;

    if (!rpc_msg_id_is_valid(msg->msg_id)) {
        return error_new(ERROR_INVALID, "Cannot encode RPC message: "
                         "msg_id is not a lowercase UUID");
    }
    if (!rpc_msg_method_is_valid(msg->method)) {
        return error_new(ERROR_INVALID, "Cannot encode RPC message: bad "
                         "method name (expected [A-Za-z_][A-Za-z0-9_]*, at "
                         "most %d characters)", RPC_MSG_MAX_METHOD_LENGTH);
    }
    if (msg->version.major > RPC_VERSION_MAX_PART
        || msg->version.minor > RPC_VERSION_MAX_PART) {
        return error_new(ERROR_INVALID, "Cannot encode RPC message '%s': "
                         "version out of range", msg->method);
    }
    if (!json_object_is_type(msg->args, json_type_object)) {
        return error_new(ERROR_INVALID, "Cannot encode RPC message '%s': "
                         "args must be a JSON object", msg->method);
    }
    if (msg->extra && !json_object_is_type(msg->extra, json_type_object)) {
        return error_new(ERROR_INVALID, "Cannot encode RPC message '%s': "
                         "extra must be a JSON object", msg->method);
    }
    if (msg->deadline_ms < 0 || msg->deadline_ms > RPC_MSG_MAX_DEADLINE_MS) {
        return error_new(ERROR_INVALID, "Cannot encode RPC message '%s': "
                         "deadline out of range", msg->method);
    }
    if ((err = rpc_ctx_check(&msg->ctx))) {
        return error_wrap(err, "Cannot encode RPC message '%s'",
                          msg->method);
    }

    ctx = json_object_new_object();
    rpc_msg_string_or_skip(ctx, "request_id", msg->ctx.request_id);
    rpc_msg_string_or_skip(ctx, "user_id", msg->ctx.user_id);
    rpc_msg_string_or_skip(ctx, "project_id", msg->ctx.project_id);
    roles = json_object_new_array();
    for (size_t i = 0; i < msg->ctx.n_roles; i++) {
        json_object_array_add(roles,
                              json_object_new_string(msg->ctx.roles[i]));
    }
    json_object_object_add(ctx, "roles", roles);
    json_object_object_add(ctx, "is_admin",
                           json_object_new_boolean(msg->ctx.is_admin));

    doc = json_object_new_object();
    json_object_object_add(doc, "protocol",
                           json_object_new_int(RPC_MSG_PROTOCOL));
    json_object_object_add(doc, "msg_id",
                           json_object_new_string(msg->msg_id));
    json_object_object_add(doc, "method",
                           json_object_new_string(msg->method));
    json_object_object_add(doc, "version", json_object_new_string(
                               rpc_version_format(&msg->version, version)));
    /* The envelope shares the caller's args and extra: a new reference
     * each, released with the envelope. */
    json_object_object_add(doc, "args", json_object_get(msg->args));
    json_object_object_add(doc, "context", ctx);
    if (msg->deadline_ms) {
        json_object_object_add(doc, "deadline",
                               json_object_new_int64(msg->deadline_ms));
    }
    if (msg->extra) {
        json_object_object_add(doc, "extra", json_object_get(msg->extra));
    }
    return rpc_msg_finish(doc, "message", ret_text, ret_size);
}

/* Parses 'text' as a JSON object document. */
static struct error *
rpc_msg_parse(const char *text, size_t size, struct json_object **ret_doc)
{
    CLEANUP(json_putp) struct json_object *doc = NULL;
    struct json_object *obj;
    struct error *err;

    if (size > RPC_MSG_MAX_SIZE) {
        return error_new(ERROR_TOO_LARGE, "Invalid RPC message: %zu bytes, "
                         "the limit is %d bytes", size, RPC_MSG_MAX_SIZE);
    }
    err = json_parse_text(text, size, RPC_MSG_MAX_SIZE, RPC_MSG_MAX_DEPTH,
                          &doc);
    if (!err) {
        err = json_get_object(doc, NULL, NULL, true, &obj);
    }
    if (err) {
        return error_wrap(err, "Invalid RPC message");
    }
    *ret_doc = TAKE_PTR(doc);
    return NULL;
}

static struct error *
rpc_msg_check_protocol(const struct json_object *doc)
{
    long long protocol;
    struct error *err = json_get_int(doc, NULL, "protocol", true, 0,
                                     INT32_MAX, &protocol);

    if (err) {
        return err;
    }
    if (protocol != RPC_MSG_PROTOCOL) {
        return error_new(ERROR_INVALID, "Unsupported RPC protocol %lld "
                         "(this side speaks %d)", protocol,
                         RPC_MSG_PROTOCOL);
    }
    return NULL;
}

static struct error *
rpc_msg_get_id(const struct json_object *doc, char ret_id[RPC_MSG_ID_SIZE])
{
    const char *id;
    struct error *err = json_get_string(doc, NULL, "msg_id", true,
                                        RPC_MSG_ID_LENGTH, &id);

    if (err) {
        return err;
    }
    if (!rpc_msg_id_is_valid(id)) {
        return error_new(ERROR_INVALID, "Invalid input for field/attribute "
                         "'msg_id': not a lowercase UUID");
    }
    memcpy(ret_id, id, RPC_MSG_ID_SIZE);
    return NULL;
}

/* Decodes "context" of 'doc' into 'ctx' (initialised, filled in place). */
static struct error *
rpc_msg_decode_ctx(const struct json_object *doc, struct rpc_ctx *ctx)
{
    static const char *const allowed[] = {
        "request_id", "user_id", "project_id", "roles", "is_admin", NULL,
    };
    static const struct {
        const char *key;
        size_t offset;
        size_t max_length;
    } strings[] = {
        { "request_id", offsetof(struct rpc_ctx, request_id),
          RPC_CTX_MAX_REQUEST_ID_LENGTH },
        { "user_id", offsetof(struct rpc_ctx, user_id),
          RPC_CTX_MAX_ID_LENGTH },
        { "project_id", offsetof(struct rpc_ctx, project_id),
          RPC_CTX_MAX_ID_LENGTH },
    };
    struct json_object *obj, *roles = NULL;
    struct error *err;

    if ((err = json_get_object(doc, NULL, "context", true, &obj))
        || (err = json_check_allowed_keys(obj, "context", allowed))) {
        return err;
    }
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) {
        const char *value = NULL;

        err = json_get_string(obj, "context", strings[i].key, false,
                              strings[i].max_length, &value);
        if (err) {
            return err;
        }
        if (value) {
            *(char **) ((char *) ctx + strings[i].offset) = xstrdup(value);
        }
    }
    if ((err = json_get_array(obj, "context", "roles", false,
                              RPC_CTX_MAX_ROLES, &roles))) {
        return err;
    }
    if (roles) {
        size_t n = json_object_array_length(roles);

        if (n) {
            ctx->roles = xcalloc(n, sizeof *ctx->roles);
        }
        for (size_t i = 0; i < n; i++) {
            char path[sizeof "context.roles[]" + 20];
            const char *role;

            snprintf(path, sizeof path, "context.roles[%zu]", i);
            err = json_get_string(json_object_array_get_idx(roles, i), path,
                                  NULL, true, RPC_CTX_MAX_ROLE_LENGTH,
                                  &role);
            if (err) {
                return err;
            }
            ctx->roles[ctx->n_roles++] = xstrdup(role);
        }
    }
    return json_get_bool(obj, "context", "is_admin", false, &ctx->is_admin);
}

static struct error *
rpc_msg_decode_doc(const struct json_object *doc, struct rpc_msg *msg)
{
    static const char *const allowed[] = {
        "protocol", "msg_id", "method", "version", "args", "context",
        "deadline", "extra", NULL,
    };
    const char *method, *version;
    struct json_object *args, *extra = NULL;
    long long deadline = 0;
    struct error *err;

    if ((err = json_check_allowed_keys(doc, NULL, allowed))
        || (err = rpc_msg_check_protocol(doc))
        || (err = rpc_msg_get_id(doc, msg->msg_id))
        || (err = json_get_string(doc, NULL, "method", true,
                                  RPC_MSG_MAX_METHOD_LENGTH, &method))) {
        return err;
    }
    if (!rpc_msg_method_is_valid(method)) {
        return error_new(ERROR_INVALID, "Invalid input for field/attribute "
                         "'method': expected [A-Za-z_][A-Za-z0-9_]*");
    }
    msg->method = xstrdup(method);
    if ((err = json_get_string(doc, NULL, "version", true,
                               RPC_MSG_MAX_VERSION_LENGTH, &version))) {
        return err;
    }
    if (rpc_version_parse(version, &msg->version)) {
        return error_new(ERROR_INVALID, "Invalid input for field/attribute "
                         "'version': expected \"MAJOR.MINOR\"");
    }
    if ((err = json_get_object(doc, NULL, "args", true, &args))
        || (err = rpc_msg_decode_ctx(doc, &msg->ctx))
        || (err = json_get_int(doc, NULL, "deadline", false, 1,
                               RPC_MSG_MAX_DEADLINE_MS, &deadline))
        || (err = json_get_object(doc, NULL, "extra", false, &extra))) {
        return err;
    }
    msg->args = json_object_get(args);
    msg->deadline_ms = deadline;
    msg->extra = json_object_get(extra);
    return NULL;
}

struct error *
rpc_msg_decode(const char *text, size_t size, struct rpc_msg **ret_msg,
               char found_id[RPC_MSG_ID_SIZE])
{
    CLEANUP(json_putp) struct json_object *doc = NULL;
    CLEANUP(rpc_msg_freep) struct rpc_msg *msg = NULL;
    struct error *err;
    const char *id;

    if (found_id) {
        found_id[0] = '\0';
    }
    if ((err = rpc_msg_parse(text, size, &doc))) {
        return err;
    }

    /* Salvage the id first, for the log line about a refused message. */
    if (found_id) {
        err = json_get_string(doc, NULL, "msg_id", true, RPC_MSG_ID_LENGTH,
                              &id);
        if (!err && rpc_msg_id_is_valid(id)) {
            memcpy(found_id, id, RPC_MSG_ID_SIZE);
        }
        error_free(err);
    }

    msg = xzalloc(sizeof *msg);
    rpc_ctx_init(&msg->ctx);
    if ((err = rpc_msg_decode_doc(doc, msg))) {
        return error_wrap(err, "Invalid RPC message");
    }
    *ret_msg = TAKE_PTR(msg);
    return NULL;
}

struct error *
rpc_msg_encode_reply(const char *msg_id, const struct json_object *result,
                     const struct error *remote_error, char **ret_text,
                     size_t *ret_size)
{
    struct json_object *doc;

    if (!rpc_msg_id_is_valid(msg_id)) {
        return error_new(ERROR_INVALID, "Cannot encode RPC reply: msg_id "
                         "is not a lowercase UUID");
    }
    doc = json_object_new_object();
    json_object_object_add(doc, "protocol",
                           json_object_new_int(RPC_MSG_PROTOCOL));
    json_object_object_add(doc, "msg_id", json_object_new_string(msg_id));
    if (remote_error) {
        json_object_object_add(doc, "error", error_to_json(remote_error));
    } else {
        /* Shared, not copied: json-c's API takes a non-const pointer for
         * the new reference, which the envelope releases. */
        json_object_object_add(doc, "result", json_object_get(
                                   (struct json_object *) result));
    }
    return rpc_msg_finish(doc, "reply", ret_text, ret_size);
}

struct error *
rpc_msg_decode_reply(const char *text, size_t size,
                     char ret_msg_id[RPC_MSG_ID_SIZE],
                     struct json_object **ret_result,
                     struct error **ret_remote_error)
{
    static const char *const allowed[] = {
        "protocol", "msg_id", "result", "error", NULL,
    };
    CLEANUP(json_putp) struct json_object *doc = NULL;
    struct json_object *result = NULL, *remote = NULL;
    char id[RPC_MSG_ID_SIZE];
    bool has_result, has_error;
    struct error *err;

    if ((err = rpc_msg_parse(text, size, &doc))) {
        return err;
    }
    if ((err = json_check_allowed_keys(doc, NULL, allowed))
        || (err = rpc_msg_check_protocol(doc))
        || (err = rpc_msg_get_id(doc, id))) {
        return error_wrap(err, "Invalid RPC reply");
    }
    has_result = json_object_object_get_ex(doc, "result", &result);
    has_error = json_object_object_get_ex(doc, "error", &remote);
    if (has_result == has_error) {
        return error_new(ERROR_INVALID, "Invalid RPC reply: exactly one of "
                         "'result' and 'error' is required");
    }
    if (has_error && !json_object_is_type(remote, json_type_object)) {
        return error_new(ERROR_INVALID, "Invalid RPC reply: 'error' must "
                         "be an object");
    }
    memcpy(ret_msg_id, id, RPC_MSG_ID_SIZE);
    *ret_result = has_result ? json_object_get(result) : NULL;
    *ret_remote_error = has_error ? error_from_json(remote) : NULL;
    return NULL;
}
