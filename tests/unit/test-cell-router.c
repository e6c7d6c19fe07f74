/* test-cell-router.c: the routing table of cell-router.h, row by row, on
 * the tree
 *
 *     api -+- region1 -+- leaf1
 *          |           +- leaf2
 *          +- region2 --- leaf3
 */
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
#include "cells-rpc/cell-router.h"
#include "shared/cleanup.h"
#include "shared/error.h"
#include "shared/xalloc.h"

#define T CELL_MSG_TARGETED
#define B CELL_MSG_BROADCAST
#define DOWN CELL_MSG_DOWN
#define UP CELL_MSG_UP
#define OK (-1)                         /* No error expected. */

/* The children of each cell of the tree above. */
static const char *
children_of(const char *cell)
{
    if (!strcmp(cell, "api")) {
        return "region1,region2";
    } else if (!strcmp(cell, "api!region1")) {
        return "leaf1,leaf2";
    } else if (!strcmp(cell, "api!region2")) {
        return "leaf3";
    }
    return "";
}

static struct cell_router *
make_router(const char *cell)
{
    struct cell_router *router = NULL;
    AUTOFREE char *names = xstrdup(children_of(cell));
    char *save = NULL;

    assert_null(cell_router_new(cell, &router));
    for (char *name = strtok_r(names, ",", &save); name;
         name = strtok_r(NULL, ",", &save)) {
        assert_int_equal(cell_router_add_child(router, name), 0);
    }
    return router;
}

/* Joins the route's children with commas (caller frees). */
static char *
route_children(const struct cell_route *route)
{
    char *text = xstrdup("");

    for (size_t i = 0; i < route->n_children; i++) {
        char *longer = xasprintf("%s%s%s", text, i ? "," : "",
                                 route->children[i]);

        free(text);
        text = longer;
    }
    return text;
}

static void
test_requests(void **state)
{
    static const struct {
        const char *cell;               /* Where the request is. */
        enum cell_msg_scope scope;
        enum cell_msg_direction direction;
        const char *sender;
        const char *target;
        bool include_self;
        const char *via;                /* Trail after the sender, up to
                                         * and including 'cell'. */
        unsigned int hops;
        int error;                      /* OK or an error kind. */
        const char *expected;           /* "L", "P", children, or the
                                         * error message. */
    } cases[] = {
        /* Targeted down from api to leaf2. */
        { "api", T, DOWN, "api", "api!region1!leaf2", false, "", 0, OK,
          "local=0 responds=0 parent=0 children=region1" },
        { "api!region1", T, DOWN, "api", "api!region1!leaf2", false,
          "api!region1", 1, OK, "local=0 responds=0 parent=0 children=leaf2" },
        { "api!region1!leaf2", T, DOWN, "api", "api!region1!leaf2", false,
          "api!region1,api!region1!leaf2", 2, OK,
          "local=1 responds=1 parent=0 children=" },
        /* Targeted up from leaf3 to api. */
        { "api!region2!leaf3", T, UP, "api!region2!leaf3", "api", false, "",
          0, OK, "local=0 responds=0 parent=1 children=" },
        { "api!region2", T, UP, "api!region2!leaf3", "api", false,
          "api!region2", 1, OK, "local=0 responds=0 parent=1 children=" },
        { "api", T, UP, "api!region2!leaf3", "api", false,
          "api!region2,api", 2, OK, "local=1 responds=1 parent=0 children=" },
        /* To oneself. */
        { "api!region1", T, DOWN, "api!region1", "api!region1", false, "",
          0, OK, "local=1 responds=1 parent=0 children=" },
        /* Broadcast down from api, with and without the root. */
        { "api", B, DOWN, "api", "api", true, "", 0, OK,
          "local=1 responds=1 parent=0 children=region1,region2" },
        { "api", B, DOWN, "api", "api", false, "", 0, OK,
          "local=0 responds=1 parent=0 children=region1,region2" },
        { "api!region1", B, DOWN, "api", "api", false, "api!region1", 1, OK,
          "local=1 responds=1 parent=0 children=leaf1,leaf2" },
        { "api!region1!leaf1", B, DOWN, "api", "api", false,
          "api!region1,api!region1!leaf1", 2, OK,
          "local=1 responds=1 parent=0 children=" },
        /* Broadcast down to the subtree of region1 only, from api. */
        { "api", B, DOWN, "api", "api!region1", true, "", 0, OK,
          "local=0 responds=0 parent=0 children=region1" },
        { "api!region1", B, DOWN, "api", "api!region1", true,
          "api!region1", 1, OK,
          "local=1 responds=1 parent=0 children=leaf1,leaf2" },
        { "api!region1", B, DOWN, "api", "api!region1", false,
          "api!region1", 1, OK,
          "local=0 responds=1 parent=0 children=leaf1,leaf2" },
        /* Broadcast up from leaf1. */
        { "api!region1!leaf1", B, UP, "api!region1!leaf1",
          "api!region1!leaf1", false, "", 0, OK,
          "local=0 responds=1 parent=1 children=" },
        { "api!region1!leaf1", B, UP, "api!region1!leaf1",
          "api!region1!leaf1", true, "", 0, OK,
          "local=1 responds=1 parent=1 children=" },
        { "api!region1", B, UP, "api!region1!leaf1", "api!region1!leaf1",
          false, "api!region1", 1, OK,
          "local=1 responds=1 parent=1 children=" },
        { "api", B, UP, "api!region1!leaf1", "api!region1!leaf1", false,
          "api!region1,api", 2, OK, "local=1 responds=1 parent=0 children=" },

        /* Refusals. */
        { "api!region1", T, DOWN, "api", "api!region1!leaf9", false,
          "api!region1", 1, ERROR_NOT_FOUND,
          "Cell 'api!region1!leaf9' is not a child of 'api!region1'" },
        { "api", T, DOWN, "api", "api!region3!x", false, "", 0,
          ERROR_NOT_FOUND, "Cell 'api!region3' is not a child of 'api'" },
        { "api!region2", T, DOWN, "api", "api!region1!leaf2", false,
          "api!region2", 1, ERROR_INVALID,
          "down from cell 'api!region2': its destination "
          "'api!region1!leaf2' is not below it" },
        { "api!region1!leaf2", T, UP, "api!region2!leaf3", "api!region2",
          false, "api!region2,api!region1!leaf2", 2, ERROR_INVALID,
          "up from cell 'api!region1!leaf2': its destination 'api!region2' "
          "is not above it" },
        { "api!region2", B, DOWN, "api", "api!region1", true, "api!region2",
          1, ERROR_INVALID, "to the subtree of 'api!region1' reached cell "
          "'api!region2', which is not in it" },
        { "api!region2", B, UP, "api!region1!leaf1", "api!region1!leaf1",
          true, "api!region2", 1, ERROR_INVALID,
          "up from 'api!region1!leaf1' reached cell 'api!region2', which is "
          "not above it" },
        /* The hop limit: a request that must move on after 16 hops is
         * refused, even where it would also execute; one that only
         * executes here is not. */
        { "api!region1", T, DOWN, "api", "api!region1!leaf2", false,
          "api!region1", CELL_MSG_MAX_HOPS, ERROR_INTERNAL,
          "reached the limit of 16 hops" },
        { "api!region1", B, DOWN, "api", "api", true, "api!region1",
          CELL_MSG_MAX_HOPS, ERROR_INTERNAL, "reached the limit of 16 hops" },
        { "api!region1", T, DOWN, "api", "api!region1!leaf2", false,
          "api!region1", CELL_MSG_MAX_HOPS - 1, OK,
          "local=0 responds=0 parent=0 children=leaf2" },
        { "api!region1!leaf2", T, DOWN, "api", "api!region1!leaf2", false,
          "api!region1!leaf2", CELL_MSG_MAX_HOPS, OK,
          "local=1 responds=1 parent=0 children=" },
        /* A request that is not where the router is. */
        { "api!region1", T, DOWN, "api", "api!region1!leaf2", false, "", 0,
          ERROR_INTERNAL, "is at cell 'api', not at 'api!region1'" },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        CLEANUP(cell_router_freep) struct cell_router *router =
            make_router(cases[i].cell);
        CLEANUP(cell_msg_freep) struct cell_msg *msg = NULL;
        CLEANUP(error_freep) struct error *error = NULL;
        AUTOFREE char *via = xstrdup(cases[i].via);
        AUTOFREE char *children = NULL;
        AUTOFREE char *text = NULL;
        struct cell_route route;
        char *save = NULL;

        if (cases[i].scope == T) {
            error = cell_msg_new_targeted(cases[i].sender, cases[i].target,
                                          "ping", NULL, &msg);
        } else {
            error = cell_msg_new_broadcast(cases[i].sender,
                                           cases[i].direction,
                                           cases[i].target, "ping", NULL,
                                           &msg);
        }
        assert_null(error);
        assert_int_equal(msg->direction, cases[i].direction);
        msg->include_self = cases[i].include_self;
        for (char *cell = strtok_r(via, ",", &save); cell;
             cell = strtok_r(NULL, ",", &save)) {
            cell_msg_push_trail(msg, cell);
        }
        msg->hops = cases[i].hops;

        error = cell_router_route_request(router, msg, &route);
        if (cases[i].error != OK) {
            if (!error) {
                fail_msg("row %zu: routed, expected an error", i);
            }
            assert_int_equal(error_kind(error), cases[i].error);
            if (!strstr(error_message(error), cases[i].expected)) {
                fail_msg("row %zu: '%s' does not contain '%s'", i,
                         error_message(error), cases[i].expected);
            }
            continue;
        }
        if (error) {
            fail_msg("row %zu: %s", i, error_message(error));
        }
        children = route_children(&route);
        text = xasprintf("local=%d responds=%d parent=%d children=%s",
                         route.deliver_local, route.responds,
                         route.to_parent, children);
        if (strcmp(text, cases[i].expected)) {
            fail_msg("row %zu: got '%s', expected '%s'", i, text,
                     cases[i].expected);
        }
        cell_route_destroy(&route);
    }
}

static void
test_hop_limit_message_shows_trail(void **state)
{
    CLEANUP(cell_router_freep) struct cell_router *router =
        make_router("api!region1!leaf2");
    CLEANUP(cell_msg_freep) struct cell_msg *msg = NULL;
    CLEANUP(error_freep) struct error *error = NULL;
    struct cell_route route;

    (void) state;
    assert_int_equal(cell_router_add_child(router, "x"), 0);
    assert_null(cell_msg_new_targeted("api", "api!region1!leaf2!x", "ping",
                                      NULL, &msg));
    /* Bounced between region1 and leaf2 by leaf2's link to its child 'x',
     * whose URL names region1's vhost. */
    while (msg->n_trail <= CELL_MSG_MAX_HOPS) {
        cell_msg_push_trail(msg, msg->n_trail % 2 ? "api!region1"
                            : "api!region1!leaf2");
    }
    msg->hops = CELL_MSG_MAX_HOPS;
    error = cell_router_route_request(router, msg, &route);
    assert_non_null(error);
    assert_non_null(strstr(error_message(error),
                           "Trail: api > api!region1 > api!region1!leaf2 > "
                           "api!region1 > "));
    assert_non_null(strstr(error_message(error), msg->id));
}

static void
test_responses(void **state)
{
    static const struct {
        const char *cell;
        const char *route;              /* Remaining route, comma-joined. */
        int error;
        const char *expected;
    } cases[] = {
        { "api", "", OK, "local=1 parent=0 children=" },
        { "api!region1", "api", OK, "local=0 parent=1 children=" },
        { "api!region1", "api,api!region1!leaf2", OK,
          "local=0 parent=0 children=leaf2" },
        { "api!region1", "api!region2", ERROR_NOT_FOUND,
          "from cell 'api!region1' to 'api!region2': it is neither its "
          "parent nor one of its children" },
        { "api!region1", "api!region1!leaf9", ERROR_NOT_FOUND,
          "to 'api!region1!leaf9'" },
        { "api!region1", "api!region1!leaf1!x", ERROR_NOT_FOUND,
          "to 'api!region1!leaf1!x'" },
        { "api", "api!region1!leaf1", ERROR_NOT_FOUND,
          "to 'api!region1!leaf1'" },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        CLEANUP(cell_router_freep) struct cell_router *router =
            make_router(cases[i].cell);
        CLEANUP(cell_msg_freep) struct cell_msg *request = NULL;
        CLEANUP(cell_msg_freep) struct cell_msg *response = NULL;
        CLEANUP(error_freep) struct error *error = NULL;
        AUTOFREE char *hops = xstrdup(cases[i].route);
        AUTOFREE char *children = NULL;
        AUTOFREE char *text = NULL;
        struct cell_route route;
        char *save = NULL;

        assert_null(cell_msg_new_targeted("api", "api", "ping", NULL,
                                          &request));
        response = cell_msg_new_response(request, true, NULL, NULL);
        assert_int_equal(response->n_route, 0);
        for (char *cell = strtok_r(hops, ",", &save); cell;
             cell = strtok_r(NULL, ",", &save)) {
            response->route = xreallocarray(response->route,
                                            response->n_route + 1,
                                            sizeof *response->route);
            response->route[response->n_route++] = xstrdup(cell);
        }

        error = cell_router_route_response(router, response, &route);
        if (cases[i].error != OK) {
            if (!error) {
                fail_msg("row %zu: routed, expected an error", i);
            }
            assert_int_equal(error_kind(error), cases[i].error);
            if (!strstr(error_message(error), cases[i].expected)) {
                fail_msg("row %zu: '%s' does not contain '%s'", i,
                         error_message(error), cases[i].expected);
            }
            continue;
        }
        if (error) {
            fail_msg("row %zu: %s", i, error_message(error));
        }
        children = route_children(&route);
        text = xasprintf("local=%d parent=%d children=%s",
                         route.deliver_local, route.to_parent, children);
        assert_string_equal(text, cases[i].expected);
        cell_route_destroy(&route);
    }
}

static void
test_children_and_neighbours(void **state)
{
    CLEANUP(cell_router_freep) struct cell_router *router =
        make_router("api!region1");
    static const struct {
        const char *path;
        int expected;
        bool is_parent;
        const char *child;
    } cases[] = {
        { "api", 0, true, NULL },
        { "api!region1!leaf1", 0, false, "leaf1" },
        { "api!region1!leaf2", 0, false, "leaf2" },
        { "api!region1!leaf3", -ENOENT, false, NULL },
        { "api!region1", -ENOENT, false, NULL },
        { "api!region2", -ENOENT, false, NULL },
        { "api!region1!leaf1!x", -ENOENT, false, NULL },
        { "api!!", -ENOENT, false, NULL },
    };

    (void) state;
    assert_string_equal(cell_router_path(router), "api!region1");
    assert_string_equal(cell_router_parent(router), "api");
    assert_int_equal(cell_router_n_children(router), 2);
    assert_string_equal(cell_router_child_name(router, 1), "leaf2");
    assert_string_equal(cell_router_child_path(router, 1),
                        "api!region1!leaf2");
    assert_null(cell_router_child_name(router, 2));
    assert_true(cell_router_has_child(router, "leaf1"));
    assert_false(cell_router_has_child(router, "leaf3"));

    assert_int_equal(cell_router_add_child(router, "leaf1"), -EEXIST);
    assert_int_equal(cell_router_add_child(router, ""), -EINVAL);
    assert_int_equal(cell_router_add_child(router, "a!b"), -EINVAL);
    assert_int_equal(cell_router_add_child(router, "a b"), -EINVAL);

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        bool is_parent = false;
        const char *child = NULL;

        assert_int_equal(cell_router_neighbour(router, cases[i].path,
                                               &is_parent, &child),
                         cases[i].expected);
        if (!cases[i].expected) {
            assert_true(is_parent == cases[i].is_parent);
            if (cases[i].child) {
                assert_string_equal(child, cases[i].child);
            } else {
                assert_null(child);
            }
        }
    }
}

static void
test_limits(void **state)
{
    CLEANUP(cell_router_freep) struct cell_router *root = NULL;
    CLEANUP(cell_router_freep) struct cell_router *deep = NULL;
    CLEANUP(error_freep) struct error *error = NULL;

    (void) state;
    assert_null(cell_router_new("api", &root));
    assert_null(cell_router_parent(root));
    for (int i = 0; i < CELL_ROUTER_MAX_CHILDREN; i++) {
        AUTOFREE char *name = xasprintf("c%d", i);

        assert_int_equal(cell_router_add_child(root, name), 0);
    }
    assert_int_equal(cell_router_add_child(root, "one-more"), -E2BIG);

    assert_null(cell_router_new("a!b!c!d!e!f!g!h", &deep));
    assert_int_equal(cell_router_add_child(deep, "i"), -E2BIG);

    error = cell_router_new("api!", &deep);
    assert_non_null(error);
    assert_int_equal(error_kind(error), ERROR_INVALID);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_requests),
        cmocka_unit_test(test_hop_limit_message_shows_trail),
        cmocka_unit_test(test_responses),
        cmocka_unit_test(test_children_and_neighbours),
        cmocka_unit_test(test_limits),
    };

    return cmocka_run_group_tests_name("cell-router", tests, NULL, NULL);
}
