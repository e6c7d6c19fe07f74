/* test-cell-links.c: what links and nodes decide without a broker: option
 * checks, and the send policy of a link whose neighbour is unreachable
 * (its URL names port 1 of the loopback, where connections are refused, so
 * it never comes up). */
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

#include "cells-rpc/cell-links.h"
#include "cells-rpc/cell-node.h"
#include "cells-rpc/rpc-msg.h"
#include "shared/cleanup.h"
#include "shared/error.h"
#include "shared/log.h"
#include "shared/xalloc.h"

#define DEAD_URL "rabbit://u:p@127.0.0.1:1/v"

static const struct cell_link_options link_options = { .topic = "cells" };

static void
test_link_new_checks(void **state)
{
    static const struct {
        const char *cell;
        const char *url;
        const char *topic;
        const char *message;            /* A part of the error. */
    } cases[] = {
        { "api!!x", DEAD_URL, "cells", "Invalid cell path 'api!!x'" },
        { "api", "amqp://h/v", "cells", "Cannot link to cell 'api'" },
        { "api", "rabbit://h/v?x=1", "cells", "Cannot link to cell 'api'" },
        { "api", DEAD_URL, "cel ls", "Cannot link to cell 'api'" },
        { "api", DEAD_URL, NULL, "Cannot link to cell 'api'" },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct cell_link_options options = { .topic = cases[i].topic };
        struct cell_link *link = NULL;
        CLEANUP(error_freep) struct error *error =
            cell_link_new(cases[i].cell, cases[i].url, &options, &link);

        if (!error) {
            fail_msg("row %zu: link created", i);
        }
        assert_null(link);
        assert_int_equal(error_kind(error), ERROR_INVALID);
        if (!strstr(error_message(error), cases[i].message)) {
            fail_msg("row %zu: '%s' does not contain '%s'", i,
                     error_message(error), cases[i].message);
        }
        /* The password never shows. */
        assert_null(strstr(error_message(error), ":p@"));
    }
}

static void
test_down_link_send_policy(void **state)
{
    CLEANUP(cell_link_freep) struct cell_link *link = NULL;
    CLEANUP(rpc_msg_freep) struct rpc_msg *msg = rpc_msg_new("cell_request",
                                                             NULL);
    struct cell_link_stats stats;

    (void) state;
    assert_null(cell_link_new("api!east", DEAD_URL, &link_options, &link));
    assert_string_equal(cell_link_cell(link), "api!east");
    assert_string_equal(cell_link_url(link),
                        "rabbit://u:***@127.0.0.1:1/v");
    assert_false(cell_link_is_up(link));

    /* A sender that waits for an answer learns at once. */
    for (int i = 0; i < 3; i++) {
        CLEANUP(error_freep) struct error *error =
            cell_link_send(link, msg, NULL, CELL_LINK_FAIL_FAST);

        assert_non_null(error);
        assert_int_equal(error_kind(error), ERROR_CELL_DOWN);
        assert_string_equal(error_message(error),
                            "Cell 'api!east' is unreachable: no connection "
                            "to rabbit://u:***@127.0.0.1:1/v");
    }

    /* Casts wait, up to the bound. */
    for (int i = 0; i < CELL_LINK_MAX_QUEUED; i++) {
        struct error *error = cell_link_send(link, msg, "node-1",
                                             CELL_LINK_QUEUE);

        if (error) {
            fail_msg("send %d: %s", i, error_message(error));
        }
    }
    {
        CLEANUP(error_freep) struct error *error =
            cell_link_send(link, msg, NULL, CELL_LINK_QUEUE);

        assert_non_null(error);
        assert_int_equal(error_kind(error), ERROR_CELL_DOWN);
        assert_non_null(strstr(error_message(error),
                               "messages already wait for"));
    }
    cell_link_get_stats(link, &stats);
    assert_int_equal(stats.queued, CELL_LINK_MAX_QUEUED);
    assert_int_equal(stats.refused, 4);
    assert_int_equal(stats.sent, 0);
    assert_false(stats.connected);
    /* Freeing drops what never went out (and says so in the log). */
}

static void
test_links_structure(void **state)
{
    CLEANUP(cell_links_freep) struct cell_links *root = NULL;
    CLEANUP(cell_links_freep) struct cell_links *east = NULL;
    CLEANUP(error_freep) struct error *e1 = NULL;
    CLEANUP(error_freep) struct error *e2 = NULL;
    CLEANUP(error_freep) struct error *e3 = NULL;
    CLEANUP(error_freep) struct error *e4 = NULL;
    CLEANUP(error_freep) struct error *e5 = NULL;

    (void) state;
    assert_null(cell_links_new("api", &link_options, &root));
    e1 = cell_links_set_parent(root, DEAD_URL);
    assert_non_null(e1);
    assert_string_equal(error_message(e1), "Cell 'api' is the root: it has "
                        "no parent to link to");
    assert_null(cell_links_parent(root));

    assert_null(cell_links_new("api!east", &link_options, &east));
    assert_null(cell_links_set_parent(east, DEAD_URL));
    assert_string_equal(cell_link_cell(cell_links_parent(east)), "api");
    e2 = cell_links_set_parent(east, DEAD_URL);
    assert_string_equal(error_message(e2), "Cell 'api!east' already has a "
                        "link to its parent");
    assert_null(cell_links_add_child(east, "east-1", DEAD_URL));
    assert_null(cell_links_add_child(east, "east-2", DEAD_URL));
    e3 = cell_links_add_child(east, "east-1", DEAD_URL);
    assert_string_equal(error_message(e3), "Cell 'api!east' already has a "
                        "link to its child 'east-1'");
    e4 = cell_links_add_child(east, "east!3", DEAD_URL);
    assert_string_equal(error_message(e4), "Invalid child name 'east!3' for "
                        "cell 'api!east'");
    e5 = cell_links_add_child(east, "east-3", "http://x/");
    assert_non_null(e5);
    assert_int_equal(cell_links_n_children(east), 2);
    assert_string_equal(cell_link_cell(cell_links_child_at(east, 1)),
                        "api!east!east-2");
    assert_string_equal(cell_link_cell(cell_links_child(east, "east-1")),
                        "api!east!east-1");
    assert_null(cell_links_child(east, "east-3"));
    assert_null(cell_links_child_at(east, 2));
}

static struct error *
handler(struct cell_request *req, void *aux, struct json_object **ret)
{
    (void) req;
    (void) aux;
    (void) ret;
    return NULL;
}

static void
test_node_options(void **state)
{
    static const struct cell_method ok_methods[] = { { "ping", handler } };
    static const struct cell_method twice[] = {
        { "ping", handler }, { "ping", handler },
    };
    static const struct cell_method bad_name[] = { { "pi-ng", handler } };
    static const struct cell_node_child bad_child[] = {
        { "a!b", DEAD_URL },
    };
    static const struct {
        struct cell_node_options options;
        const char *message;
    } cases[] = {
        { { .path = "api!", .url = DEAD_URL },
          "Invalid cell path 'api!' for this cell" },
        { { .path = "api" }, "Cell 'api' needs the transport URL of its "
          "own vhost" },
        { { .path = "api", .url = DEAD_URL, .parent_url = DEAD_URL },
          "Cell 'api' is the root: it cannot have a parent URL" },
        { { .path = "api!east", .url = DEAD_URL },
          "Cell 'api!east' needs the transport URL of its parent's vhost" },
        { { .path = "api", .url = DEAD_URL, .node_id = "a b" },
          "Invalid node id 'a b'" },
        { { .path = "api", .url = DEAD_URL, .methods = twice,
            .n_methods = 2 }, "Cell 'api' has method 'ping' twice" },
        { { .path = "api", .url = DEAD_URL, .methods = bad_name,
            .n_methods = 1 }, "Invalid method 0 of cell 'api'" },
        { { .path = "api", .url = DEAD_URL, .children = bad_child,
            .n_children = 1 }, "Cannot add child 'a!b' to cell 'api'" },
        /* Valid, but the cell's own vhost cannot be reached. */
        { { .path = "api", .url = DEAD_URL, .methods = ok_methods,
            .n_methods = 1, .connect_timeout_ms = 1000 },
          "Cannot reach the vhost of cell 'api'" },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct cell_node *node = NULL;
        CLEANUP(error_freep) struct error *error =
            cell_node_new(&cases[i].options, &node);

        if (!error) {
            fail_msg("row %zu: node created", i);
        }
        assert_null(node);
        if (!strstr(error_message(error), cases[i].message)) {
            fail_msg("row %zu: '%s' does not contain '%s'", i,
                     error_message(error), cases[i].message);
        }
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_link_new_checks),
        cmocka_unit_test(test_down_link_send_policy),
        cmocka_unit_test(test_links_structure),
        cmocka_unit_test(test_node_options),
    };

    /* The links to the dead port retry and warn; keep the output short. */
    (void) log_set_levels("err");
    return cmocka_run_group_tests_name("cell-links", tests, NULL, NULL);
}
