/* test-cell-msg.c: construction, strict decoding and round trips of cell
 * messages. */
#include <config.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "cells-rpc/cell-msg.h"
#include "cells-rpc/rpc-msg.h"
#include "shared/cleanup.h"
#include "shared/error.h"
#include "shared/json-util.h"
#include "shared/xalloc.h"

#define ID "0b7f3f4e-5d1c-4c55-9f39-0d6f7a1f2b3c"

static struct json_object *
parse(const char *text)
{
    struct json_object *json = NULL;
    struct error *error = json_parse_text(text, strlen(text), 0, 0, &json);

    if (error) {
        fail_msg("test JSON does not parse: %s: %s", error_message(error),
                 text);
    }
    return json;
}

static void
test_enum_names(void **state)
{
    enum cell_msg_type type;
    enum cell_msg_direction direction;
    enum cell_msg_scope scope;

    (void) state;
    assert_int_equal(cell_msg_type_from_string("response", &type), 0);
    assert_int_equal(type, CELL_MSG_RESPONSE);
    assert_string_equal(cell_msg_type_to_string(type), "response");
    assert_int_equal(cell_msg_direction_from_string("up", &direction), 0);
    assert_int_equal(direction, CELL_MSG_UP);
    assert_string_equal(cell_msg_direction_to_string(direction), "up");
    assert_int_equal(cell_msg_scope_from_string("broadcast", &scope), 0);
    assert_int_equal(scope, CELL_MSG_BROADCAST);
    assert_string_equal(cell_msg_scope_to_string(scope), "broadcast");
    assert_int_equal(cell_msg_type_from_string("Request", &type), -EINVAL);
    assert_int_equal(cell_msg_direction_from_string("", &direction),
                     -EINVAL);
    assert_int_equal(cell_msg_scope_from_string(NULL, &scope), -EINVAL);
}

static void
test_new_targeted(void **state)
{
    static const struct {
        const char *sender;
        const char *target;
        const char *method;
        const char *args;               /* NULL: no arguments. */
        const char *error;              /* NULL: success. */
        enum cell_msg_direction direction;
    } cases[] = {
        { "api", "api!region1!leaf2", "ping", "{\"a\":1}", NULL,
          CELL_MSG_DOWN },
        { "api!region2!leaf3", "api", "ping", NULL, NULL, CELL_MSG_UP },
        { "api!region1", "api!region1", "ping", NULL, NULL, CELL_MSG_DOWN },
        { "api!region1!leaf1", "api!region1!leaf2", "ping", NULL,
          "Cell 'api!region1!leaf1' cannot send to cell "
          "'api!region1!leaf2': it is neither above nor below it" },
        { "api!!x", "api", "ping", NULL,
          "Invalid cell path 'api!!x' for sender: it has an empty cell "
          "name" },
        { "api", "api!", "ping", NULL,
          "Invalid cell path 'api!' for target: it has an empty cell "
          "name" },
        { "api", "api!r1", "ping-pong", NULL,
          "Invalid cell method name 'ping-pong'" },
        { "api", "api!r1", "", NULL, "Invalid cell method name ''" },
        { "api", "api!r1", "ping", "[1]",
          "Arguments of cell method 'ping' must be a JSON object" },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        CLEANUP(cell_msg_freep) struct cell_msg *msg = NULL;
        struct json_object *args = (cases[i].args ? parse(cases[i].args)
                                    : NULL);
        CLEANUP(error_freep) struct error *error =
            cell_msg_new_targeted(cases[i].sender, cases[i].target,
                                  cases[i].method, args, &msg);

        if (cases[i].error) {
            assert_non_null(error);
            assert_null(msg);
            assert_int_equal(error_kind(error), ERROR_INVALID);
            assert_string_equal(error_message(error), cases[i].error);
            continue;
        }
        assert_null(error);
        assert_int_equal(msg->type, CELL_MSG_REQUEST);
        assert_int_equal(msg->scope, CELL_MSG_TARGETED);
        assert_int_equal(msg->direction, cases[i].direction);
        assert_true(rpc_msg_id_is_valid(msg->id));
        assert_string_equal(msg->sender, cases[i].sender);
        assert_string_equal(msg->target, cases[i].target);
        assert_int_equal(msg->hops, 0);
        assert_int_equal(msg->n_trail, 1);
        assert_string_equal(msg->trail[0], cases[i].sender);
        assert_string_equal(cell_msg_current_cell(msg), cases[i].sender);
        assert_false(msg->need_response);
        assert_true(json_object_is_type(msg->args, json_type_object));
    }
}

static void
test_new_broadcast(void **state)
{
    static const struct {
        const char *sender;
        enum cell_msg_direction direction;
        const char *target;
        const char *error;              /* NULL: success. */
        const char *expected_target;
    } cases[] = {
        { "api", CELL_MSG_DOWN, NULL, NULL, "api" },
        { "api", CELL_MSG_DOWN, "api!region1", NULL, "api!region1" },
        { "api!region1!leaf1", CELL_MSG_UP, NULL, NULL,
          "api!region1!leaf1" },
        { "api!region1!leaf1", CELL_MSG_UP, "api!region1!leaf1", NULL,
          "api!region1!leaf1" },
        { "api!region1", CELL_MSG_DOWN, "api!region2",
          "Cell 'api!region1' cannot broadcast to the subtree of cell "
          "'api!region2': it is not below it" },
        { "api!region1", CELL_MSG_DOWN, "api",
          "Cell 'api!region1' cannot broadcast to the subtree of cell "
          "'api': it is not below it" },
        { "api!region1", CELL_MSG_UP, "api",
          "A broadcast up from cell 'api!region1' cannot start at cell "
          "'api'" },
        { "", CELL_MSG_DOWN, NULL,
          "Invalid cell path '' for sender: it is empty" },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        CLEANUP(cell_msg_freep) struct cell_msg *msg = NULL;
        CLEANUP(error_freep) struct error *error =
            cell_msg_new_broadcast(cases[i].sender, cases[i].direction,
                                   cases[i].target, "get_capacity",
                                   json_object_new_object(), &msg);

        if (cases[i].error) {
            assert_non_null(error);
            assert_string_equal(error_message(error), cases[i].error);
            continue;
        }
        assert_null(error);
        assert_int_equal(msg->scope, CELL_MSG_BROADCAST);
        assert_int_equal(msg->direction, cases[i].direction);
        assert_string_equal(msg->target, cases[i].expected_target);
        assert_false(msg->include_self);
    }
}

/* A request as it travels on its second hop, with everything set. */
static struct cell_msg *
make_wire_request(void)
{
    struct cell_msg *msg = NULL;
    struct error *error =
        cell_msg_new_broadcast("api", CELL_MSG_DOWN, "api!region1", "ping",
                               parse("{\"n\":[1,2,{\"x\":null}]}"), &msg);

    assert_null(error);
    msg->include_self = true;
    msg->need_response = true;
    msg->reply_node = xstrdup("node-1.example");
    msg->deadline_ms = 1763795700123LL;
    rpc_ctx_set_request_id(&msg->ctx, "req-" ID);
    rpc_ctx_set_user(&msg->ctx, "alice", "demo");
    cell_msg_push_trail(msg, "api!region1");
    msg->hops = 2;
    return msg;
}

static void
assert_lists_equal(char *const *a, size_t n_a, char *const *b, size_t n_b)
{
    assert_int_equal(n_a, n_b);
    for (size_t i = 0; i < n_a; i++) {
        assert_string_equal(a[i], b[i]);
    }
}

static void
assert_json_equal(const struct json_object *a, const struct json_object *b)
{
    AUTOFREE char *text_a = json_to_string_plain(a);
    AUTOFREE char *text_b = json_to_string_plain(b);

    assert_string_equal(text_a, text_b);
}

static void
test_request_round_trip(void **state)
{
    CLEANUP(cell_msg_freep) struct cell_msg *msg = make_wire_request();
    CLEANUP(cell_msg_freep) struct cell_msg *back = NULL;
    AUTOFREE char *text = NULL;
    size_t size;

    (void) state;
    assert_null(cell_msg_encode(msg, &text, &size));
    assert_int_equal(strlen(text), size);
    assert_null(cell_msg_decode(text, size, &back));

    assert_int_equal(back->type, CELL_MSG_REQUEST);
    assert_string_equal(back->id, msg->id);
    assert_string_equal(back->reply_node, "node-1.example");
    assert_int_equal(back->direction, CELL_MSG_DOWN);
    assert_int_equal(back->scope, CELL_MSG_BROADCAST);
    assert_true(back->include_self);
    assert_true(back->need_response);
    assert_string_equal(back->sender, "api");
    assert_string_equal(back->target, "api!region1");
    assert_string_equal(back->method, "ping");
    assert_json_equal(back->args, msg->args);
    assert_int_equal(back->hops, 2);
    assert_lists_equal(back->trail, back->n_trail, msg->trail, msg->n_trail);
    assert_int_equal(back->deadline_ms, 1763795700123LL);
    assert_string_equal(back->ctx.request_id, "req-" ID);
    assert_string_equal(back->ctx.user_id, "alice");
    assert_string_equal(back->ctx.project_id, "demo");

    /* A clone is equal too, and independent. */
    CLEANUP(cell_msg_freep) struct cell_msg *copy = cell_msg_clone(back);
    CLEANUP(json_putp) struct json_object *json_back =
        cell_msg_to_json(back);
    CLEANUP(json_putp) struct json_object *json_copy =
        cell_msg_to_json(copy);
    assert_json_equal(json_back, json_copy);
    assert_string_equal(copy->ctx.request_id, "req-" ID);
}

static void
test_response_round_trip(void **state)
{
    static const struct {
        bool handled;
        const char *result;             /* JSON, or NULL for JSON null. */
        enum error_kind kind;
        const char *message;            /* NULL: no error. */
    } cases[] = {
        { true, "{\"free_ram_mb\":2048}", 0, NULL },
        { true, "[1,\"two\"]", 0, NULL },
        { true, NULL, 0, NULL },
        { true, NULL, ERROR_NOT_FOUND, "Instance 'x' could not be found." },
        { false, NULL, 0, NULL },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        CLEANUP(cell_msg_freep) struct cell_msg *request =
            make_wire_request();
        CLEANUP(cell_msg_freep) struct cell_msg *response = NULL;
        CLEANUP(cell_msg_freep) struct cell_msg *back = NULL;
        AUTOFREE char *text = NULL;
        size_t size;

        /* The request arrived at leaf2 and is answered there. */
        cell_msg_push_trail(request, "api!region1!leaf2");
        request->hops = 3;
        response = cell_msg_new_response(
            request, cases[i].handled,
            cases[i].result ? parse(cases[i].result) : NULL,
            (cases[i].message
             ? error_new(cases[i].kind, "%s", cases[i].message) : NULL));
        assert_int_equal(cell_msg_add_forwarded(response,
                                                "api!region1!leaf2!rack1"),
                         0);
        assert_int_equal(cell_msg_add_unreachable(response,
                                                  "api!region1!leaf2!rack2"),
                         0);
        assert_string_equal(response->responder, "api!region1!leaf2");
        assert_int_equal(response->n_route, 2);
        assert_string_equal(response->route[1], "api!region1");

        assert_null(cell_msg_encode(response, &text, &size));
        assert_null(cell_msg_decode(text, size, &back));
        assert_int_equal(back->type, CELL_MSG_RESPONSE);
        assert_string_equal(back->id, request->id);
        assert_string_equal(back->reply_node, "node-1.example");
        assert_string_equal(back->responder, "api!region1!leaf2");
        assert_lists_equal(back->route, back->n_route, response->route,
                           response->n_route);
        assert_lists_equal(back->forwarded_to, back->n_forwarded_to,
                           response->forwarded_to,
                           response->n_forwarded_to);
        assert_lists_equal(back->unreachable, back->n_unreachable,
                           response->unreachable, response->n_unreachable);
        assert_true(back->handled == cases[i].handled);
        assert_string_equal(back->ctx.request_id, "req-" ID);
        assert_int_equal(back->deadline_ms, 1763795700123LL);
        if (cases[i].message) {
            assert_non_null(back->error);
            assert_int_equal(error_kind(back->error), cases[i].kind);
            assert_string_equal(error_message(back->error),
                                cases[i].message);
            assert_null(back->result);
        } else {
            assert_null(back->error);
            if (cases[i].result) {
                CLEANUP(json_putp) struct json_object *expected =
                    parse(cases[i].result);
                assert_json_equal(back->result, expected);
            } else {
                assert_null(back->result);
            }
        }

        /* Walking the route back: region1, then api, which is home. */
        assert_int_equal(cell_msg_pop_route(back, "api"), -EINVAL);
        assert_int_equal(cell_msg_pop_route(back, "api!region1"), 0);
        assert_int_equal(cell_msg_pop_route(back, "api"), 0);
        assert_int_equal(back->n_route, 0);
        assert_int_equal(cell_msg_pop_route(back, "api"), -EINVAL);
    }
}

static void
test_fanout_limit(void **state)
{
    CLEANUP(cell_msg_freep) struct cell_msg *request = make_wire_request();
    CLEANUP(cell_msg_freep) struct cell_msg *response = NULL;

    (void) state;
    response = cell_msg_new_response(request, false, NULL, NULL);
    for (size_t i = 0; i < CELL_MSG_MAX_FANOUT; i++) {
        AUTOFREE char *child = xasprintf("api!region1!c%zu", i);

        assert_int_equal(cell_msg_add_forwarded(response, child), 0);
        assert_int_equal(cell_msg_add_unreachable(response, child), 0);
    }
    assert_int_equal(cell_msg_add_forwarded(response, "api!region1!x"),
                     -E2BIG);
    assert_int_equal(cell_msg_add_unreachable(response, "api!region1!x"),
                     -E2BIG);
}

static void
test_trail_to_string(void **state)
{
    CLEANUP(cell_msg_freep) struct cell_msg *msg = make_wire_request();
    AUTOFREE char *text = cell_msg_trail_to_string(msg);

    (void) state;
    assert_string_equal(text, "api > api!region1");
}

/* Valid messages the failure rows below are variations of. */
#define REQ_HEAD "{\"type\":\"request\",\"id\":\"" ID "\","
#define REQ_DOWN REQ_HEAD "\"direction\":\"down\",\"scope\":\"targeted\","
#define RESP_HEAD "{\"type\":\"response\",\"id\":\"" ID "\","

static void
test_decode_valid(void **state)
{
    static const char *const cases[] = {
        REQ_DOWN "\"sender\":\"api\",\"target\":\"api!r1!l2\","
        "\"need_response\":true,\"method\":\"ping\",\"args\":{},"
        "\"hops\":1,\"trail\":[\"api\"]}",
        REQ_HEAD "\"direction\":\"up\",\"scope\":\"targeted\","
        "\"sender\":\"api!r2!l3\",\"target\":\"api\","
        "\"need_response\":false,\"method\":\"instance_update_at_top\","
        "\"args\":{\"seq\":4},\"hops\":2,\"trail\":[\"api!r2!l3\","
        "\"api!r2\"],\"reply_node\":\"n1\"}",
        REQ_HEAD "\"direction\":\"up\",\"scope\":\"broadcast\","
        "\"sender\":\"api!r2\",\"target\":\"api!r2\",\"include_self\":false,"
        "\"need_response\":true,\"method\":\"m\",\"args\":{},\"hops\":1,"
        "\"trail\":[\"api!r2\"]}",
        RESP_HEAD "\"responder\":\"api!r1\",\"route\":[\"api\"],"
        "\"result\":null,\"forwarded_to\":[\"api!r1!l1\"],"
        "\"unreachable\":[\"api\"]}",
        RESP_HEAD "\"responder\":\"api!r1\",\"route\":[\"api\"],"
        "\"error\":{\"kind\":\"CellDown\",\"code\":503,\"message\":\"m\"},"
        "\"forwarded_to\":[],\"unreachable\":[]}",
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        CLEANUP(json_putp) struct json_object *json = parse(cases[i]);
        CLEANUP(cell_msg_freep) struct cell_msg *msg = NULL;
        CLEANUP(error_freep) struct error *error =
            cell_msg_from_json(json, &msg);

        if (error) {
            fail_msg("row %zu: %s", i, error_message(error));
        }
        assert_null(cell_msg_validate_args(json));
    }
}

static void
test_decode_strict(void **state)
{
    static const struct {
        const char *json;
        const char *message;            /* A part of the error message. */
    } cases[] = {
        { "[]", "is not of type 'object'" },
        { "{\"type\":\"request\"}", "'id' is a required property" },
        { "{\"type\":\"ping\",\"id\":\"" ID "\"}",
          "Invalid value 'ping' for 'type'" },
        { "{\"type\":5}", "is not of type 'string'" },
        { "{\"type\":\"request\",\"id\":\"0B7F3F4E-5D1C-4C55-9F39-"
          "0D6F7A1F2B3C\"}", "'id' must be a lowercase UUID" },
        { REQ_DOWN "\"sender\":\"api\",\"target\":\"api!r1\","
          "\"need_response\":true,\"method\":\"ping\",\"args\":{},"
          "\"hops\":1,\"trail\":[\"api\"],\"color\":\"red\"}",
          "Additional properties are not allowed ('color' was unexpected)" },
        { REQ_DOWN "\"sender\":\"api\",\"target\":\"api!r1\","
          "\"include_self\":true,\"need_response\":true,\"method\":\"ping\","
          "\"args\":{},\"hops\":1,\"trail\":[\"api\"]}",
          "('include_self' was unexpected)" },
        { REQ_HEAD "\"direction\":\"sideways\",\"scope\":\"targeted\","
          "\"sender\":\"api\",\"target\":\"api!r1\",\"need_response\":true,"
          "\"method\":\"ping\",\"args\":{},\"hops\":1,\"trail\":[\"api\"]}",
          "Invalid value 'sideways' for 'direction'" },
        { REQ_DOWN "\"sender\":\"api!!r1\",\"target\":\"api!r1\","
          "\"need_response\":true,\"method\":\"ping\",\"args\":{},"
          "\"hops\":1,\"trail\":[\"api\"]}",
          "Invalid cell path 'api!!r1' for 'sender'" },
        { REQ_DOWN "\"sender\":\"api\",\"target\":\"api!r 1\","
          "\"need_response\":true,\"method\":\"ping\",\"args\":{},"
          "\"hops\":1,\"trail\":[\"api\"]}",
          "Invalid cell path 'api!r 1' for 'target'" },
        { REQ_DOWN "\"sender\":\"api\",\"target\":\"api!r1\","
          "\"need_response\":\"yes\",\"method\":\"ping\",\"args\":{},"
          "\"hops\":1,\"trail\":[\"api\"]}",
          "is not of type 'boolean'" },
        { REQ_DOWN "\"sender\":\"api\",\"target\":\"api!r1\","
          "\"need_response\":true,\"method\":\"drop table\",\"args\":{},"
          "\"hops\":1,\"trail\":[\"api\"]}",
          "Invalid cell method name 'drop table'" },
        { REQ_DOWN "\"sender\":\"api\",\"target\":\"api!r1\","
          "\"need_response\":true,\"method\":\"ping\",\"args\":[],"
          "\"hops\":1,\"trail\":[\"api\"]}",
          "is not of type 'object'" },
        { REQ_DOWN "\"sender\":\"api\",\"target\":\"api!r1\","
          "\"need_response\":true,\"method\":\"ping\",\"args\":{},"
          "\"hops\":0,\"trail\":[\"api\"]}",
          "'hops'" },
        { REQ_DOWN "\"sender\":\"api\",\"target\":\"api!r1\","
          "\"need_response\":true,\"method\":\"ping\",\"args\":{},"
          "\"hops\":17,\"trail\":[\"api\"]}",
          "'hops'" },
        { REQ_DOWN "\"sender\":\"api\",\"target\":\"api!r1\","
          "\"need_response\":true,\"method\":\"ping\",\"args\":{},"
          "\"hops\":1.5,\"trail\":[\"api\"]}",
          "is not of type 'integer'" },
        { REQ_DOWN "\"sender\":\"api\",\"target\":\"api!r1\","
          "\"need_response\":true,\"method\":\"ping\",\"args\":{},"
          "\"hops\":2,\"trail\":[\"api\"]}",
          "'trail' has 1 entries for 2 hops" },
        { REQ_DOWN "\"sender\":\"api\",\"target\":\"api!r1\","
          "\"need_response\":true,\"method\":\"ping\",\"args\":{},"
          "\"hops\":1,\"trail\":[]}",
          "'trail' must have at least 1 entries" },
        { REQ_DOWN "\"sender\":\"api\",\"target\":\"api!r1\","
          "\"need_response\":true,\"method\":\"ping\",\"args\":{},"
          "\"hops\":1,\"trail\":[\"api!r1\"]}",
          "'trail' starts at 'api!r1', not at the sender 'api'" },
        { REQ_DOWN "\"sender\":\"api\",\"target\":\"api!r1\","
          "\"need_response\":true,\"method\":\"ping\",\"args\":{},"
          "\"hops\":1,\"trail\":[7]}",
          "is not of type 'string'" },
        { REQ_DOWN "\"sender\":\"api!r1\",\"target\":\"api\","
          "\"need_response\":true,\"method\":\"ping\",\"args\":{},"
          "\"hops\":1,\"trail\":[\"api!r1\"]}",
          "Target 'api' of a request down is not below the sender" },
        { REQ_HEAD "\"direction\":\"up\",\"scope\":\"targeted\","
          "\"sender\":\"api!r1\",\"target\":\"api!r2\","
          "\"need_response\":true,\"method\":\"ping\",\"args\":{},"
          "\"hops\":1,\"trail\":[\"api!r1\"]}",
          "Target 'api!r2' of a request up is not above the sender" },
        { REQ_HEAD "\"direction\":\"up\",\"scope\":\"broadcast\","
          "\"sender\":\"api!r1\",\"target\":\"api\",\"include_self\":true,"
          "\"need_response\":true,\"method\":\"ping\",\"args\":{},"
          "\"hops\":1,\"trail\":[\"api!r1\"]}",
          "Target 'api' of a broadcast up is not the sender" },
        { REQ_HEAD "\"direction\":\"down\",\"scope\":\"broadcast\","
          "\"sender\":\"api!r1\",\"target\":\"api!r2\",\"include_self\":1,"
          "\"need_response\":true,\"method\":\"ping\",\"args\":{},"
          "\"hops\":1,\"trail\":[\"api!r1\"]}",
          "is not of type 'boolean'" },
        { REQ_HEAD "\"direction\":\"down\",\"scope\":\"broadcast\","
          "\"sender\":\"api!r1\",\"target\":\"api!r2\","
          "\"include_self\":true,"
          "\"need_response\":true,\"method\":\"ping\",\"args\":{},"
          "\"hops\":1,\"trail\":[\"api!r1\"]}",
          "Target 'api!r2' of a broadcast down is not in the subtree" },
        { REQ_DOWN "\"sender\":\"api\",\"target\":\"api!r1\","
          "\"need_response\":true,\"method\":\"ping\",\"args\":{},"
          "\"hops\":1,\"trail\":[\"api\"],\"reply_node\":\"n/1\"}",
          "Invalid node name 'n/1' for 'reply_node'" },
        { RESP_HEAD "\"responder\":\"api!r1\",\"route\":[],"
          "\"result\":1,\"forwarded_to\":[],\"unreachable\":[]}",
          "'route' must have at least 1 entries" },
        { RESP_HEAD "\"responder\":\"api!r1\",\"route\":[\"api\"],"
          "\"result\":1,\"error\":{\"kind\":\"Internal\",\"message\":\"m\"},"
          "\"forwarded_to\":[],\"unreachable\":[]}",
          "cannot have both 'result' and 'error'" },
        { RESP_HEAD "\"responder\":\"api!r1\",\"route\":[\"api\"],"
          "\"error\":{\"kind\":\"Bogus\",\"message\":\"m\"},"
          "\"forwarded_to\":[],\"unreachable\":[]}",
          "Unknown error kind 'Bogus'" },
        { RESP_HEAD "\"responder\":\"api!r1\",\"route\":[\"api\"],"
          "\"error\":{\"kind\":\"Internal\"},"
          "\"forwarded_to\":[],\"unreachable\":[]}",
          "'error.message' is a required property" },
        { RESP_HEAD "\"responder\":\"api!r1\",\"route\":[\"api\"],"
          "\"error\":{\"kind\":\"Internal\",\"message\":\"m\",\"x\":1},"
          "\"forwarded_to\":[],\"unreachable\":[]}",
          "('x' was unexpected)" },
        { RESP_HEAD "\"responder\":\"api!r1\",\"route\":[\"api\"],"
          "\"result\":1,\"forwarded_to\":[\"api!r2\"],\"unreachable\":[]}",
          "'forwarded_to[0]': cell 'api!r2' is not a neighbour of the "
          "responder 'api!r1'" },
        { RESP_HEAD "\"responder\":\"api!r1\",\"route\":[\"api\"],"
          "\"result\":1,\"forwarded_to\":[],"
          "\"unreachable\":[\"api!r1!a!b\"]}",
          "'unreachable[0]': cell 'api!r1!a!b' is not a neighbour" },
        { RESP_HEAD "\"responder\":\"api!r1\",\"route\":[\"api\"],"
          "\"result\":1,\"forwarded_to\":[]}",
          "'unreachable' is a required property" },
        { RESP_HEAD "\"responder\":\"api!r1\",\"route\":[\"api\"],"
          "\"result\":1,\"forwarded_to\":[],\"unreachable\":[],"
          "\"method\":\"x\"}",
          "('method' was unexpected)" },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        CLEANUP(json_putp) struct json_object *json = parse(cases[i].json);
        CLEANUP(cell_msg_freep) struct cell_msg *msg = NULL;
        CLEANUP(error_freep) struct error *error =
            cell_msg_from_json(json, &msg);

        if (!error) {
            fail_msg("row %zu decoded: %s", i, cases[i].json);
        }
        assert_null(msg);
        assert_int_equal(error_kind(error), ERROR_INVALID);
        if (!strstr(error_message(error), cases[i].message)) {
            fail_msg("row %zu: '%s' does not contain '%s'", i,
                     error_message(error), cases[i].message);
        }
        error_free(cell_msg_validate_args(json));
    }
}

static void
test_decode_limits(void **state)
{
    CLEANUP(cell_msg_freep) struct cell_msg *msg = make_wire_request();
    CLEANUP(cell_msg_freep) struct cell_msg *back = NULL;
    CLEANUP(json_putp) struct json_object *json = NULL;
    CLEANUP(error_freep) struct error *error = NULL;

    (void) state;
    /* A trail as long as the hop limit decodes; one more entry does not. */
    while (msg->n_trail < CELL_MSG_MAX_HOPS) {
        cell_msg_push_trail(msg, "api!region1");
    }
    msg->hops = CELL_MSG_MAX_HOPS;
    json = cell_msg_to_json(msg);
    assert_null(cell_msg_from_json(json, &back));
    json_object_put(json);

    cell_msg_push_trail(msg, "api!region1");
    msg->hops = CELL_MSG_MAX_HOPS + 1;
    json = cell_msg_to_json(msg);
    error = cell_msg_from_json(json, &back);
    assert_non_null(error);
    assert_non_null(strstr(error_message(error), "'hops'"));
}

static void
test_rpc_method_must_match(void **state)
{
    CLEANUP(cell_msg_freep) struct cell_msg *msg = make_wire_request();
    CLEANUP(rpc_msg_freep) struct rpc_msg *rpc = cell_msg_to_rpc(msg);
    CLEANUP(cell_msg_freep) struct cell_msg *back = NULL;
    CLEANUP(error_freep) struct error *error = NULL;

    (void) state;
    assert_string_equal(rpc->method, CELL_MSG_RPC_REQUEST);
    free(rpc->method);
    rpc->method = xstrdup(CELL_MSG_RPC_RESPONSE);
    error = cell_msg_from_rpc(rpc, &back);
    assert_non_null(error);
    assert_null(back);
    assert_string_equal(error_message(error),
                        "A cell request must travel as RPC method "
                        "'cell_request', not 'cell_response'");
}

static void
test_node_validate(void **state)
{
    static const struct {
        const char *node;
        int expected;
    } cases[] = {
        { "compute-1.example.org", 0 },
        { "n_1", 0 },
        { "", -EINVAL },
        { "a b", -EINVAL },
        { "a!b", -EINVAL },
        { "01234567890123456789012345678901234567890123456789"
          "0123456789abcd", 0 },
        { "01234567890123456789012345678901234567890123456789"
          "0123456789abcde", -EINVAL },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        assert_int_equal(cell_msg_node_validate(cases[i].node),
                         cases[i].expected);
    }
    assert_int_equal(cell_msg_node_validate(NULL), -EINVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_enum_names),
        cmocka_unit_test(test_new_targeted),
        cmocka_unit_test(test_new_broadcast),
        cmocka_unit_test(test_request_round_trip),
        cmocka_unit_test(test_response_round_trip),
        cmocka_unit_test(test_fanout_limit),
        cmocka_unit_test(test_trail_to_string),
        cmocka_unit_test(test_decode_valid),
        cmocka_unit_test(test_decode_strict),
        cmocka_unit_test(test_decode_limits),
        cmocka_unit_test(test_rpc_method_must_match),
        cmocka_unit_test(test_node_validate),
    };

    return cmocka_run_group_tests_name("cell-msg", tests, NULL, NULL);
}
