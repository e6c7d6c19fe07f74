/* cell-msg.c: messages between cells (see cell-msg.h).
 *
 * The decoder checks a message in three passes: the keys allowed for its
 * type (and, for a request, its scope), the type and limit of each field,
 * and then the rules that tie fields together (the trail starts at the
 * sender and has one entry per hop, the target lies on the side of the
 * sender that the direction says, listed neighbours are neighbours).  Each
 * failure names the field, so a dead-lettered message explains itself. */
#include <config.h>
#include "cells-rpc/cell-msg.h"

#include <errno.h>
#include <string.h>
#include <json-c/json.h>

#include "cells-rpc/cell-path.h"
#include "shared/error.h"
#include "shared/json-util.h"
#include "shared/uuid-util.h"
#include "shared/xalloc.h"

/* Enum <-> wire name tables. */
#define CELL_MSG_NAME_(value, name) [value] = name,
static const char *const cell_msg_type_names[] = {
    CELL_MSG_TYPES(CELL_MSG_NAME_)
};
static const char *const cell_msg_direction_names[] = {
    CELL_MSG_DIRECTIONS(CELL_MSG_NAME_)
};
static const char *const cell_msg_scope_names[] = {
    CELL_MSG_SCOPES(CELL_MSG_NAME_)
};
#undef CELL_MSG_NAME_

static const char *
cell_msg_name_lookup(const char *const *names, size_t n, unsigned int value)
{
    return value < n ? names[value] : "unknown";
}

static int
cell_msg_name_find(const char *const *names, size_t n, const char *name,
                   unsigned int *ret_value)
{
    for (size_t i = 0; name && i < n; i++) {
        if (!strcmp(names[i], name)) {
            *ret_value = (unsigned int) i;
            return 0;
        }
    }
    return -EINVAL;
}

const char *
cell_msg_type_to_string(enum cell_msg_type type)
{
    return cell_msg_name_lookup(cell_msg_type_names,
                                ARRAY_SIZE(cell_msg_type_names), type);
}

const char *
cell_msg_direction_to_string(enum cell_msg_direction direction)
{
    return cell_msg_name_lookup(cell_msg_direction_names,
                                ARRAY_SIZE(cell_msg_direction_names),
                                direction);
}

const char *
cell_msg_scope_to_string(enum cell_msg_scope scope)
{
    return cell_msg_name_lookup(cell_msg_scope_names,
                                ARRAY_SIZE(cell_msg_scope_names), scope);
}

int
cell_msg_type_from_string(const char *name, enum cell_msg_type *ret)
{
    unsigned int value;
    int error = cell_msg_name_find(cell_msg_type_names,
                                   ARRAY_SIZE(cell_msg_type_names), name,
                                   &value);

    if (!error) {
        *ret = (enum cell_msg_type) value;
    }
    return error;
}

int
cell_msg_direction_from_string(const char *name,
                               enum cell_msg_direction *ret)
{
    unsigned int value;
    int error = cell_msg_name_find(cell_msg_direction_names,
                                   ARRAY_SIZE(cell_msg_direction_names),
                                   name, &value);

    if (!error) {
        *ret = (enum cell_msg_direction) value;
    }
    return error;
}

int
cell_msg_scope_from_string(const char *name, enum cell_msg_scope *ret)
{
    unsigned int value;
    int error = cell_msg_name_find(cell_msg_scope_names,
                                   ARRAY_SIZE(cell_msg_scope_names), name,
                                   &value);

    if (!error) {
        *ret = (enum cell_msg_scope) value;
    }
    return error;
}

int
cell_msg_node_validate(const char *node)
{
    size_t length = 0;

    if (!node || !*node) {
        return -EINVAL;
    }
    for (const char *p = node; *p; p++) {
        char c = *p;

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '_' || c == '.'
              || c == '-')) {
            return -EINVAL;
        }
        if (++length > CELL_MSG_MAX_NODE_LENGTH) {
            return -EINVAL;
        }
    }
    return 0;
}

/* Lists of paths. */

static void
cell_msg_list_append(char ***list, size_t *n, const char *path)
{
    *list = xreallocarray(*list, *n + 1, sizeof **list);
    (*list)[(*n)++] = xstrdup(path);
}

static void
cell_msg_list_clear(char ***list, size_t *n)
{
    for (size_t i = 0; i < *n; i++) {
        free((*list)[i]);
    }
    free(*list);
    *list = NULL;
    *n = 0;
}

static void
cell_msg_list_copy(char ***dst, size_t *n_dst, char *const *src,
                   size_t n_src)
{
    *dst = NULL;
    *n_dst = 0;
    for (size_t i = 0; i < n_src; i++) {
        cell_msg_list_append(dst, n_dst, src[i]);
    }
}

static struct json_object *
cell_msg_list_to_json(char *const *list, size_t n)
{
    struct json_object *array = json_object_new_array_ext((int) n);

    for (size_t i = 0; i < n; i++) {
        json_object_array_add(array, json_object_new_string(list[i]));
    }
    return array;
}

/* Construction. */

static struct cell_msg *
cell_msg_alloc(enum cell_msg_type type)
{
    struct cell_msg *msg = xzalloc(sizeof *msg);

    msg->type = type;
    rpc_ctx_init(&msg->ctx);
    return msg;
}

static void
cell_msg_new_id(struct cell_msg *msg)
{
    char uuid[UUID_STRING_SIZE];

    uuid_generate_string(uuid);
    memcpy(msg->id, uuid, sizeof msg->id);
}

static struct error *
cell_msg_check_method(const char *method)
{
    if (!method || !rpc_msg_method_is_valid(method)) {
        return error_new(ERROR_INVALID, "Invalid cell method name '%.*s'",
                         RPC_MSG_MAX_METHOD_LENGTH,
                         method ? method : "");
    }
    return NULL;
}

/* Creates a request at 'sender' after the caller checked every argument.
 * Takes 'args'. */
static struct cell_msg *
cell_msg_new_request(const char *sender, enum cell_msg_scope scope,
                     enum cell_msg_direction direction, const char *target,
                     const char *method, struct json_object *args)
{
    struct cell_msg *msg = cell_msg_alloc(CELL_MSG_REQUEST);

    cell_msg_new_id(msg);
    msg->scope = scope;
    msg->direction = direction;
    msg->sender = xstrdup(sender);
    msg->target = xstrdup(target);
    msg->method = xstrdup(method);
    msg->args = args ? args : json_object_new_object();
    cell_msg_list_append(&msg->trail, &msg->n_trail, sender);
    return msg;
}

static struct error *
cell_msg_check_request_args(const char *sender, const char *target,
                            const char *method, struct json_object *args)
{
    struct error *error = cell_path_check("sender", sender);

    if (!error) {
        error = cell_path_check("target", target);
    }
    if (!error) {
        error = cell_msg_check_method(method);
    }
    if (!error && args && !json_object_is_type(args, json_type_object)) {
        error = error_new(ERROR_INVALID,
                          "Arguments of cell method '%s' must be a JSON "
                          "object", method);
    }
    return error;
}

struct error *
cell_msg_new_targeted(const char *sender, const char *target,
                      const char *method, struct json_object *args,
                      struct cell_msg **ret_msg)
{
    struct error *error = cell_msg_check_request_args(sender, target, method,
                                                      args);
    enum cell_msg_direction direction = CELL_MSG_DOWN;

    if (!error) {
        if (cell_path_is_ancestor_of(target, sender)) {
            direction = CELL_MSG_UP;
        } else if (!cell_path_in_subtree(sender, target)) {
            error = error_new(ERROR_INVALID,
                              "Cell '%s' cannot send to cell '%s': it is "
                              "neither above nor below it", sender, target);
        }
    }
    if (error) {
        if (args) {
            json_object_put(args);
        }
        return error;
    }
    *ret_msg = cell_msg_new_request(sender, CELL_MSG_TARGETED, direction,
                                    target, method, args);
    return NULL;
}

struct error *
cell_msg_new_broadcast(const char *sender, enum cell_msg_direction direction,
                       const char *target, const char *method,
                       struct json_object *args, struct cell_msg **ret_msg)
{
    struct error *error;

    if (!target) {
        target = sender;
    }
    error = cell_msg_check_request_args(sender, target, method, args);
    if (!error) {
        if (direction == CELL_MSG_UP && !cell_path_equal(sender, target)) {
            error = error_new(ERROR_INVALID,
                              "A broadcast up from cell '%s' cannot start at "
                              "cell '%s'", sender, target);
        } else if (direction == CELL_MSG_DOWN
                   && !cell_path_in_subtree(sender, target)) {
            error = error_new(ERROR_INVALID,
                              "Cell '%s' cannot broadcast to the subtree of "
                              "cell '%s': it is not below it",
                              sender, target);
        }
    }
    if (error) {
        if (args) {
            json_object_put(args);
        }
        return error;
    }
    *ret_msg = cell_msg_new_request(sender, CELL_MSG_BROADCAST, direction,
                                    target, method, args);
    return NULL;
}

struct cell_msg *
cell_msg_new_response(const struct cell_msg *request, bool handled,
                      struct json_object *result, struct error *error)
{
    struct cell_msg *msg = cell_msg_alloc(CELL_MSG_RESPONSE);

    memcpy(msg->id, request->id, sizeof msg->id);
    msg->reply_node = xstrdup_or_null(request->reply_node);
    rpc_ctx_destroy(&msg->ctx);
    rpc_ctx_clone(&msg->ctx, &request->ctx);
    msg->deadline_ms = request->deadline_ms;
    msg->responder = xstrdup(cell_msg_current_cell(request));
    cell_msg_list_copy(&msg->route, &msg->n_route, request->trail,
                       request->n_trail ? request->n_trail - 1 : 0);
    msg->handled = handled;
    msg->result = result;
    msg->error = error;
    return msg;
}

int
cell_msg_add_forwarded(struct cell_msg *msg, const char *path)
{
    if (msg->n_forwarded_to >= CELL_MSG_MAX_FANOUT) {
        return -E2BIG;
    }
    cell_msg_list_append(&msg->forwarded_to, &msg->n_forwarded_to, path);
    return 0;
}

int
cell_msg_add_unreachable(struct cell_msg *msg, const char *path)
{
    if (msg->n_unreachable >= CELL_MSG_MAX_FANOUT) {
        return -E2BIG;
    }
    cell_msg_list_append(&msg->unreachable, &msg->n_unreachable, path);
    return 0;
}

struct cell_msg *
cell_msg_clone(const struct cell_msg *src)
{
    struct cell_msg *msg = cell_msg_alloc(src->type);

    memcpy(msg->id, src->id, sizeof msg->id);
    msg->reply_node = xstrdup_or_null(src->reply_node);
    rpc_ctx_destroy(&msg->ctx);
    rpc_ctx_clone(&msg->ctx, &src->ctx);
    msg->deadline_ms = src->deadline_ms;

    msg->direction = src->direction;
    msg->scope = src->scope;
    msg->include_self = src->include_self;
    msg->need_response = src->need_response;
    msg->sender = xstrdup_or_null(src->sender);
    msg->target = xstrdup_or_null(src->target);
    msg->method = xstrdup_or_null(src->method);
    msg->args = src->args ? json_object_get(src->args) : NULL;
    msg->hops = src->hops;
    cell_msg_list_copy(&msg->trail, &msg->n_trail, src->trail,
                       src->n_trail);

    msg->responder = xstrdup_or_null(src->responder);
    cell_msg_list_copy(&msg->route, &msg->n_route, src->route,
                       src->n_route);
    msg->handled = src->handled;
    msg->result = src->result ? json_object_get(src->result) : NULL;
    msg->error = (src->error
                  ? error_new(error_kind(src->error), "%s",
                              error_message(src->error))
                  : NULL);
    cell_msg_list_copy(&msg->forwarded_to, &msg->n_forwarded_to,
                       src->forwarded_to, src->n_forwarded_to);
    cell_msg_list_copy(&msg->unreachable, &msg->n_unreachable,
                       src->unreachable, src->n_unreachable);
    return msg;
}

void
cell_msg_free(struct cell_msg *msg)
{
    if (!msg) {
        return;
    }
    free(msg->reply_node);
    rpc_ctx_destroy(&msg->ctx);
    free(msg->sender);
    free(msg->target);
    free(msg->method);
    if (msg->args) {
        json_object_put(msg->args);
    }
    cell_msg_list_clear(&msg->trail, &msg->n_trail);
    free(msg->responder);
    cell_msg_list_clear(&msg->route, &msg->n_route);
    if (msg->result) {
        json_object_put(msg->result);
    }
    error_free(msg->error);
    cell_msg_list_clear(&msg->forwarded_to, &msg->n_forwarded_to);
    cell_msg_list_clear(&msg->unreachable, &msg->n_unreachable);
    free(msg);
}

void
cell_msg_push_trail(struct cell_msg *msg, const char *path)
{
    cell_msg_list_append(&msg->trail, &msg->n_trail, path);
}

int
cell_msg_pop_route(struct cell_msg *msg, const char *path)
{
    if (!msg->n_route || strcmp(msg->route[msg->n_route - 1], path)) {
        return -EINVAL;
    }
    free(msg->route[--msg->n_route]);
    return 0;
}

const char *
cell_msg_current_cell(const struct cell_msg *msg)
{
    return msg->n_trail ? msg->trail[msg->n_trail - 1] : msg->sender;
}

char *
cell_msg_trail_to_string(const struct cell_msg *msg)
{
    char *text = xstrdup("");

    for (size_t i = 0; i < msg->n_trail; i++) {
        char *longer = xasprintf("%s%s%s", text, i ? " > " : "",
                                 msg->trail[i]);

        free(text);
        text = longer;
    }
    return text;
}

/* Encoding. */

static void
cell_msg_add_string(struct json_object *obj, const char *key,
                    const char *value)
{
    json_object_object_add(obj, key, json_object_new_string(value));
}

struct json_object *
cell_msg_to_json(const struct cell_msg *msg)
{
    struct json_object *obj = json_object_new_object();

    cell_msg_add_string(obj, "type", cell_msg_type_to_string(msg->type));
    cell_msg_add_string(obj, "id", msg->id);
    if (msg->reply_node) {
        cell_msg_add_string(obj, "reply_node", msg->reply_node);
    }
    if (msg->type == CELL_MSG_REQUEST) {
        cell_msg_add_string(obj, "direction",
                            cell_msg_direction_to_string(msg->direction));
        cell_msg_add_string(obj, "scope",
                            cell_msg_scope_to_string(msg->scope));
        cell_msg_add_string(obj, "sender", msg->sender);
        cell_msg_add_string(obj, "target", msg->target);
        if (msg->scope == CELL_MSG_BROADCAST) {
            json_object_object_add(obj, "include_self",
                                   json_object_new_boolean(
                                       msg->include_self));
        }
        json_object_object_add(obj, "need_response",
                               json_object_new_boolean(msg->need_response));
        cell_msg_add_string(obj, "method", msg->method);
        json_object_object_add(obj, "args",
                               (msg->args ? json_object_get(msg->args)
                                : json_object_new_object()));
        json_object_object_add(obj, "hops",
                               json_object_new_int64(msg->hops));
        json_object_object_add(obj, "trail",
                               cell_msg_list_to_json(msg->trail,
                                                     msg->n_trail));
    } else {
        cell_msg_add_string(obj, "responder", msg->responder);
        json_object_object_add(obj, "route",
                               cell_msg_list_to_json(msg->route,
                                                     msg->n_route));
        if (msg->handled && msg->error) {
            json_object_object_add(obj, "error",
                                   error_to_json(msg->error));
        } else if (msg->handled) {
            json_object_object_add(obj, "result",
                                   (msg->result
                                    ? json_object_get(msg->result) : NULL));
        }
        json_object_object_add(obj, "forwarded_to",
                               cell_msg_list_to_json(msg->forwarded_to,
                                                     msg->n_forwarded_to));
        json_object_object_add(obj, "unreachable",
                               cell_msg_list_to_json(msg->unreachable,
                                                     msg->n_unreachable));
    }
    return obj;
}

/* Decoding. */

static const char *const cell_msg_request_keys[] = {
    "type", "id", "reply_node", "direction", "scope", "sender", "target",
    "need_response", "method", "args", "hops", "trail", NULL,
};
static const char *const cell_msg_broadcast_keys[] = {
    "type", "id", "reply_node", "direction", "scope", "sender", "target",
    "include_self", "need_response", "method", "args", "hops", "trail",
    NULL,
};
static const char *const cell_msg_response_keys[] = {
    "type", "id", "reply_node", "responder", "route", "result", "error",
    "forwarded_to", "unreachable", NULL,
};
static const char *const cell_msg_error_keys[] = {
    "kind", "code", "message", NULL,
};

/* Gets a valid cell path from 'field' of 'obj' (or 'obj' itself, named
 * 'path', when 'field' is NULL) into a copy in '*ret_path'. */
static struct error *
cell_msg_get_path(const struct json_object *obj, const char *path,
                  const char *field, char **ret_path)
{
    const char *value;
    struct error *error = json_get_string(obj, path, field, true,
                                          CELL_PATH_MAX_LENGTH, &value);

    if (!error) {
        AUTOFREE char *what = (field
                               ? xasprintf("'%s'", field)
                               : xasprintf("'%s'", path));

        error = cell_path_check(what, value);
    }
    if (error) {
        return error;
    }
    *ret_path = xstrdup(value);
    return NULL;
}

/* Gets array 'field' of 1 ('min') to 'max' valid cell paths. */
static struct error *
cell_msg_get_paths(const struct json_object *obj, const char *field,
                   size_t min, size_t max, char ***ret_list,
                   size_t *ret_n)
{
    struct json_object *array;
    struct error *error = json_get_array(obj, NULL, field, true, max,
                                         &array);
    char **list = NULL;
    size_t n = 0;
    size_t length;

    if (error) {
        return error;
    }
    length = json_object_array_length(array);
    if (length < min) {
        return error_new(ERROR_INVALID, "'%s' must have at least %zu "
                         "entries", field, min);
    }
    for (size_t i = 0; i < length; i++) {
        AUTOFREE char *name = xasprintf("%s[%zu]", field, i);
        char *item;

        error = cell_msg_get_path(json_object_array_get_idx(array, i),
                                  name, NULL, &item);
        if (error) {
            cell_msg_list_clear(&list, &n);
            return error;
        }
        list = xreallocarray(list, n + 1, sizeof *list);
        list[n++] = item;
    }
    *ret_list = list;
    *ret_n = n;
    return NULL;
}

/* Gets an error object, as error_to_json() writes it, strictly. */
static struct error *
cell_msg_get_error(const struct json_object *obj, struct error **ret_error)
{
    struct json_object *json;
    const char *kind_name;
    const char *message;
    long long code;
    enum error_kind kind;
    struct error *error = json_get_object(obj, NULL, "error", true, &json);

    if (!error) {
        error = json_check_allowed_keys(json, "error", cell_msg_error_keys);
    }
    if (!error) {
        error = json_get_string(json, "error", "kind", true, 64, &kind_name);
    }
    if (!error) {
        error = json_get_int(json, "error", "code", false, 100, 599, &code);
    }
    if (!error) {
        error = json_get_string(json, "error", "message", true,
                                CELL_MSG_MAX_ERROR_LENGTH, &message);
    }
    if (error) {
        return error;
    }
    if (error_kind_from_string(kind_name, &kind)) {
        return error_new(ERROR_INVALID, "Unknown error kind '%s' in "
                         "'error.kind'", kind_name);
    }
    *ret_error = error_new(kind, "%s", message);
    return NULL;
}

static struct error *
cell_msg_get_enum(const struct json_object *obj, const char *field,
                  int (*from_string)(const char *, unsigned int *),
                  unsigned int *ret_value)
{
    const char *name;
    struct error *error = json_get_string(obj, NULL, field, true, 32, &name);

    if (error) {
        return error;
    }
    if (from_string(name, ret_value)) {
        return error_new(ERROR_INVALID, "Invalid value '%s' for '%s'",
                         name, field);
    }
    return NULL;
}

static int
cell_msg_direction_parse(const char *name, unsigned int *ret)
{
    return cell_msg_name_find(cell_msg_direction_names,
                              ARRAY_SIZE(cell_msg_direction_names), name,
                              ret);
}

static int
cell_msg_scope_parse(const char *name, unsigned int *ret)
{
    return cell_msg_name_find(cell_msg_scope_names,
                              ARRAY_SIZE(cell_msg_scope_names), name, ret);
}

/* The rules that tie the fields of a request together. */
static struct error *
cell_msg_check_request(const struct cell_msg *msg)
{
    if (msg->n_trail != msg->hops) {
        return error_new(ERROR_INVALID, "'trail' has %zu entries for %u "
                         "hops", msg->n_trail, msg->hops);
    }
    if (!cell_path_equal(msg->trail[0], msg->sender)) {
        return error_new(ERROR_INVALID, "'trail' starts at '%s', not at the "
                         "sender '%s'", msg->trail[0], msg->sender);
    }
    if (msg->scope == CELL_MSG_TARGETED && msg->direction == CELL_MSG_DOWN
        && !cell_path_is_ancestor_of(msg->sender, msg->target)) {
        return error_new(ERROR_INVALID, "Target '%s' of a request down is "
                         "not below the sender '%s'",
                         msg->target, msg->sender);
    }
    if (msg->direction == CELL_MSG_UP && msg->scope == CELL_MSG_TARGETED
        && !cell_path_is_ancestor_of(msg->target, msg->sender)) {
        return error_new(ERROR_INVALID, "Target '%s' of a request up is "
                         "not above the sender '%s'",
                         msg->target, msg->sender);
    }
    if (msg->scope == CELL_MSG_BROADCAST && msg->direction == CELL_MSG_DOWN
        && !cell_path_in_subtree(msg->sender, msg->target)) {
        return error_new(ERROR_INVALID, "Target '%s' of a broadcast down is "
                         "not in the subtree of the sender '%s'",
                         msg->target, msg->sender);
    }
    if (msg->scope == CELL_MSG_BROADCAST && msg->direction == CELL_MSG_UP
        && !cell_path_equal(msg->sender, msg->target)) {
        return error_new(ERROR_INVALID, "Target '%s' of a broadcast up is "
                         "not the sender '%s'", msg->target, msg->sender);
    }
    return NULL;
}

static struct error *
cell_msg_decode_request(const struct json_object *json, struct cell_msg *msg)
{
    unsigned int value = 0;
    long long hops;
    const char *method;
    struct json_object *args;
    struct error *error;

    error = cell_msg_get_enum(json, "scope", cell_msg_scope_parse, &value);
    if (error) {
        return error;
    }
    msg->scope = (enum cell_msg_scope) value;
    error = json_check_allowed_keys(json, NULL,
                                    (msg->scope == CELL_MSG_BROADCAST
                                     ? cell_msg_broadcast_keys
                                     : cell_msg_request_keys));
    if (!error) {
        error = cell_msg_get_enum(json, "direction",
                                  cell_msg_direction_parse, &value);
    }
    if (!error) {
        msg->direction = (enum cell_msg_direction) value;
    }
    if (!error) {
        error = cell_msg_get_path(json, NULL, "sender", &msg->sender);
    }
    if (!error) {
        error = cell_msg_get_path(json, NULL, "target", &msg->target);
    }
    if (!error && msg->scope == CELL_MSG_BROADCAST) {
        error = json_get_bool(json, NULL, "include_self", true,
                              &msg->include_self);
    }
    if (!error) {
        error = json_get_bool(json, NULL, "need_response", true,
                              &msg->need_response);
    }
    if (!error) {
        error = json_get_string(json, NULL, "method", true,
                                RPC_MSG_MAX_METHOD_LENGTH, &method);
    }
    if (!error) {
        error = cell_msg_check_method(method);
    }
    if (!error) {
        msg->method = xstrdup(method);
        error = json_get_object(json, NULL, "args", true, &args);
    }
    if (!error) {
        msg->args = json_object_get(args);
        error = json_get_int(json, NULL, "hops", true, 1, CELL_MSG_MAX_HOPS,
                             &hops);
    }
    if (!error) {
        msg->hops = (unsigned int) hops;
        error = cell_msg_get_paths(json, "trail", 1, CELL_MSG_MAX_HOPS,
                                   &msg->trail, &msg->n_trail);
    }
    return error ? error : cell_msg_check_request(msg);
}

/* True if 'a' and 'b' are parent and child, either way round. */
static bool
cell_msg_are_neighbours(const char *a, const char *b)
{
    size_t depth_a = cell_path_depth(a);
    size_t depth_b = cell_path_depth(b);

    return ((depth_a + 1 == depth_b && cell_path_is_ancestor_of(a, b))
            || (depth_b + 1 == depth_a && cell_path_is_ancestor_of(b, a)));
}

static struct error *
cell_msg_check_neighbours(const struct cell_msg *msg, const char *field,
                          char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!cell_msg_are_neighbours(msg->responder, list[i])) {
            return error_new(ERROR_INVALID, "'%s[%zu]': cell '%s' is not a "
                             "neighbour of the responder '%s'",
                             field, i, list[i], msg->responder);
        }
    }
    return NULL;
}

static struct error *
cell_msg_decode_response(const struct json_object *json,
                         struct cell_msg *msg)
{
    struct json_object *value = NULL;
    bool has_result = json_object_object_get_ex(json, "result", &value);
    bool has_error = json_object_object_get_ex(json, "error", NULL);
    struct error *error;

    error = json_check_allowed_keys(json, NULL, cell_msg_response_keys);
    if (!error) {
        error = cell_msg_get_path(json, NULL, "responder", &msg->responder);
    }
    if (!error) {
        error = cell_msg_get_paths(json, "route", 1, CELL_MSG_MAX_HOPS,
                                   &msg->route, &msg->n_route);
    }
    if (!error && has_result && has_error) {
        error = error_new(ERROR_INVALID, "A response cannot have both "
                          "'result' and 'error'");
    }
    if (!error && has_error) {
        error = cell_msg_get_error(json, &msg->error);
    }
    if (!error) {
        msg->handled = has_result || has_error;
        msg->result = has_result && value ? json_object_get(value) : NULL;
        error = cell_msg_get_paths(json, "forwarded_to", 0,
                                   CELL_MSG_MAX_FANOUT, &msg->forwarded_to,
                                   &msg->n_forwarded_to);
    }
    if (!error) {
        error = cell_msg_get_paths(json, "unreachable", 0,
                                   CELL_MSG_MAX_FANOUT, &msg->unreachable,
                                   &msg->n_unreachable);
    }
    if (!error) {
        error = cell_msg_check_neighbours(msg, "forwarded_to",
                                          msg->forwarded_to,
                                          msg->n_forwarded_to);
    }
    if (!error) {
        error = cell_msg_check_neighbours(msg, "unreachable",
                                          msg->unreachable,
                                          msg->n_unreachable);
    }
    return error;
}

struct error *
cell_msg_from_json(const struct json_object *json, struct cell_msg **ret_msg)
{
    CLEANUP(cell_msg_freep) struct cell_msg *msg = NULL;
    struct json_object *top;
    const char *type_name;
    const char *id;
    const char *node;
    enum cell_msg_type type;
    struct error *error;

    error = json_get_object(json, NULL, NULL, true, &top);
    if (!error) {
        error = json_get_string(json, NULL, "type", true, 32, &type_name);
    }
    if (error) {
        return error;
    }
    if (cell_msg_type_from_string(type_name, &type)) {
        return error_new(ERROR_INVALID, "Invalid value '%s' for 'type'",
                         type_name);
    }
    msg = cell_msg_alloc(type);

    error = json_get_string(json, NULL, "id", true, RPC_MSG_ID_LENGTH, &id);
    if (error) {
        return error;
    }
    if (!rpc_msg_id_is_valid(id)) {
        return error_new(ERROR_INVALID, "'id' must be a lowercase UUID, not "
                         "'%s'", id);
    }
    memcpy(msg->id, id, sizeof msg->id);

    node = NULL;
    error = json_get_string(json, NULL, "reply_node", false,
                            CELL_MSG_MAX_NODE_LENGTH, &node);
    if (error) {
        return error;
    }
    if (node) {
        if (cell_msg_node_validate(node)) {
            return error_new(ERROR_INVALID, "Invalid node name '%s' for "
                             "'reply_node'", node);
        }
        msg->reply_node = xstrdup(node);
    }

    error = (type == CELL_MSG_REQUEST
             ? cell_msg_decode_request(json, msg)
             : cell_msg_decode_response(json, msg));
    if (error) {
        return error;
    }
    *ret_msg = TAKE_PTR(msg);
    return NULL;
}

struct rpc_msg *
cell_msg_to_rpc(const struct cell_msg *msg)
{
    struct rpc_msg *rpc = rpc_msg_new(msg->type == CELL_MSG_REQUEST
                                      ? CELL_MSG_RPC_REQUEST
                                      : CELL_MSG_RPC_RESPONSE,
                                      cell_msg_to_json(msg));

    rpc_ctx_destroy(&rpc->ctx);
    rpc_ctx_clone(&rpc->ctx, &msg->ctx);
    rpc->deadline_ms = msg->deadline_ms;
    return rpc;
}

struct error *
cell_msg_from_rpc(const struct rpc_msg *rpc, struct cell_msg **ret_msg)
{
    struct cell_msg *msg;
    struct error *error = cell_msg_from_json(rpc->args, &msg);
    const char *expected;

    if (error) {
        return error;
    }
    expected = (msg->type == CELL_MSG_REQUEST
                ? CELL_MSG_RPC_REQUEST : CELL_MSG_RPC_RESPONSE);
    if (strcmp(rpc->method, expected)) {
        error = error_new(ERROR_INVALID, "A cell %s must travel as RPC "
                          "method '%s', not '%.*s'",
                          cell_msg_type_to_string(msg->type), expected,
                          RPC_MSG_MAX_METHOD_LENGTH, rpc->method);
        cell_msg_free(msg);
        return error;
    }
    rpc_ctx_destroy(&msg->ctx);
    rpc_ctx_clone(&msg->ctx, &rpc->ctx);
    msg->deadline_ms = rpc->deadline_ms;
    *ret_msg = msg;
    return NULL;
}

struct error *
cell_msg_validate_args(const struct json_object *args)
{
    struct cell_msg *msg = NULL;
    struct error *error = cell_msg_from_json(args, &msg);

    cell_msg_free(msg);
    return error;
}

struct error *
cell_msg_encode(const struct cell_msg *msg, char **ret_text,
                size_t *ret_size)
{
    CLEANUP(rpc_msg_freep) struct rpc_msg *rpc = cell_msg_to_rpc(msg);

    return rpc_msg_encode(rpc, ret_text, ret_size);
}

struct error *
cell_msg_decode(const char *text, size_t size, struct cell_msg **ret_msg)
{
    CLEANUP(rpc_msg_freep) struct rpc_msg *rpc = NULL;
    char found_id[RPC_MSG_ID_SIZE];
    struct error *error = rpc_msg_decode(text, size, &rpc, found_id);

    return error ? error : cell_msg_from_rpc(rpc, ret_msg);
}
