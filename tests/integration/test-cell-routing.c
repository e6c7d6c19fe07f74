/* test-cell-routing.c: cell messages routed through a real RabbitMQ.
 *
 * Six cells run in this process, each with its own vhost, as in
 *
 *     api -+- region1 -+- leaf1
 *          |           +- leaf2
 *          +- region2 --- leaf3
 *
 * Each cell consumes the cells queue of its own vhost and reaches its
 * parent's and children's vhosts through its links.  The per-cell RabbitMQ
 * users of the test servers may only open their own vhost, so every
 * connection here logs in as the admin user, which may open all of them;
 * in production each link's URL comes from the topology and carries
 * credentials valid on that neighbour's vhost.
 *
 * All cells share this thread's poll loop (their links have threads of
 * their own).  Queue names carry a random run id, so that queues left by
 * an earlier run never deliver into this one. */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "cells-rpc/cell-links.h"
#include "cells-rpc/cell-msg.h"
#include "cells-rpc/cell-node.h"
#include "shared/cleanup.h"
#include "shared/error.h"
#include "shared/json-util.h"
#include "shared/poll-loop.h"
#include "shared/uuid-util.h"
#include "shared/xalloc.h"
#include "tests/integration/test-env.h"

/* Timeout of requests expected to be answered. */
#define TEST_TIMEOUT_MS 20000
/* Timeout of broadcasts expected to miss a cell. */
#define TEST_PARTIAL_TIMEOUT_MS 3000
/* How long links may take to come up. */
#define TEST_LINKS_UP_MS 20000
/* Bound on any wait of the loop: a test that hangs fails. */
#define TEST_GUARD_MS 60000

struct test_cell {
    const char *name;                   /* Also its vhost. */
    const char *path;
    const char *parent;                 /* The parent's vhost, or NULL. */
    const char *children[2];
    struct cell_node *node;
    unsigned int n_pings;               /* Method "ping" executed. */
    unsigned int n_bcasts;              /* Method "bcast" executed. */
};

static struct test_cell cells[] = {
    { "api", "api", NULL, { "region1", "region2" } },
    { "region1", "api!region1", "api", { "leaf1", "leaf2" } },
    { "region2", "api!region2", "api", { "leaf3" } },
    { "leaf1", "api!region1!leaf1", "region1", { NULL } },
    { "leaf2", "api!region1!leaf2", "region1", { NULL } },
    { "leaf3", "api!region2!leaf3", "region2", { NULL } },
};

static char *topic;                     /* "cells-<run id>" */

/* Requests whose handler deferred its answer. */
static struct cell_request *deferred[16];
static size_t n_deferred;

static struct test_cell *
cell_by_name(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(cells); i++) {
        if (!strcmp(cells[i].name, name)) {
            return &cells[i];
        }
    }
    fail_msg("no test cell '%s'", name);
    return NULL;
}

static char *
vhost_url(const char *vhost)
{
    CLEANUP(test_env_url_freep) struct test_env_url *admin =
        test_env_url_parse(test_env_get("NOVA_TEST_RABBIT_ADMIN_URL"));

    return xasprintf("rabbit://%s:%s@%s:%d/%s", admin->user,
                     admin->password, admin->host, admin->port, vhost);
}

/* Methods every test cell has. */

/* {"cell": <path>, "hops": <n>, "trail": [...], "args": <args>} */
static struct json_object *
describe_request(const struct cell_request *req)
{
    const struct cell_msg *msg = cell_request_msg(req);
    struct json_object *result = json_object_new_object();
    struct json_object *trail = json_object_new_array();

    for (size_t i = 0; i < msg->n_trail; i++) {
        json_object_array_add(trail, json_object_new_string(msg->trail[i]));
    }
    json_object_object_add(result, "cell", json_object_new_string(
                               cell_node_path(cell_request_node(req))));
    json_object_object_add(result, "hops", json_object_new_int(
                               (int) msg->hops));
    json_object_object_add(result, "trail", trail);
    json_object_object_add(result, "args", json_object_get(msg->args));
    return result;
}

static struct error *
method_ping(struct cell_request *req, void *aux,
            struct json_object **ret_result)
{
    struct test_cell *cell = aux;

    cell->n_pings++;
    *ret_result = describe_request(req);
    return NULL;
}

static struct error *
method_bcast(struct cell_request *req, void *aux,
             struct json_object **ret_result)
{
    struct test_cell *cell = aux;

    cell->n_bcasts++;
    *ret_result = describe_request(req);
    return NULL;
}

static struct error *
method_fail(struct cell_request *req, void *aux,
            struct json_object **ret_result)
{
    (void) aux;
    (void) ret_result;
    return error_new(ERROR_NOT_FOUND, "Instance '%s' could not be found in "
                     "cell '%s'", "4f1c",
                     cell_node_path(cell_request_node(req)));
}

static struct error *
method_later(struct cell_request *req, void *aux,
             struct json_object **ret_result)
{
    (void) aux;
    (void) ret_result;
    assert_true(n_deferred < ARRAY_SIZE(deferred));
    deferred[n_deferred++] = req;
    cell_request_defer(req);
    return NULL;
}

static const struct cell_method methods[] = {
    { "ping", method_ping },
    { "bcast", method_bcast },
    { "fail", method_fail },
    { "later", method_later },
};

/* Starts the node of 'cell', with one more child 'extra_name' at vhost
 * 'extra_vhost' (or a full URL, if it contains "://") when not NULL. */
static void
start_cell(struct test_cell *cell, const char *extra_name,
           const char *extra_vhost)
{
    struct cell_node_child children[3];
    char *urls[3] = { NULL, NULL, NULL };
    size_t n_children = 0;
    AUTOFREE char *url = vhost_url(cell->name);
    AUTOFREE char *parent_url = cell->parent ? vhost_url(cell->parent)
                                : NULL;
    AUTOFREE char *node_id = xasprintf("test-%s", cell->name);
    struct cell_node_options options;
    struct error *error;

    for (size_t i = 0; i < ARRAY_SIZE(cell->children); i++) {
        if (cell->children[i]) {
            urls[n_children] = vhost_url(cell->children[i]);
            children[n_children].name = cell->children[i];
            children[n_children].url = urls[n_children];
            n_children++;
        }
    }
    if (extra_name) {
        urls[n_children] = (strstr(extra_vhost, "://")
                            ? xstrdup(extra_vhost) : vhost_url(extra_vhost));
        children[n_children].name = extra_name;
        children[n_children].url = urls[n_children];
        n_children++;
    }
    options = (struct cell_node_options) {
        .path = cell->path,
        .url = url,
        .parent_url = parent_url,
        .children = children,
        .n_children = n_children,
        .node_id = node_id,
        .topic = topic,
        .methods = methods,
        .n_methods = ARRAY_SIZE(methods),
        .aux = cell,
        .connect_timeout_ms = 2000,
    };
    error = cell_node_new(&options, &cell->node);
    for (size_t i = 0; i < n_children; i++) {
        free(urls[i]);
    }
    if (error) {
        fail_msg("cannot start cell '%s': %s", cell->path,
                 error_message(error));
    }
}

static void
stop_cell(struct test_cell *cell)
{
    cell_node_free(cell->node);
    cell->node = NULL;
}

/* Waits until every link of every running cell is up, except the link
 * to cell 'except' (a path, or NULL). */
static void
wait_links_up(const char *except)
{
    for (size_t i = 0; i < ARRAY_SIZE(cells); i++) {
        struct cell_links *links;

        if (!cells[i].node) {
            continue;
        }
        links = cell_node_links(cells[i].node);
        if (cell_links_parent(links)) {
            assert_true(cell_link_wait_up(cell_links_parent(links),
                                          TEST_LINKS_UP_MS));
        }
        for (size_t j = 0; j < cell_links_n_children(links); j++) {
            struct cell_link *link = cell_links_child_at(links, j);

            if (except && !strcmp(cell_link_cell(link), except)) {
                continue;
            }
            if (!cell_link_wait_up(link, TEST_LINKS_UP_MS)) {
                fail_msg("the link of '%s' to '%s' is not up",
                         cells[i].path, cell_link_cell(link));
            }
        }
    }
}

/* Drives every cell until '*done' (or fails after TEST_GUARD_MS).
 * Deferred requests are answered one loop iteration after they were
 * deferred. */
static void
run_until(const bool *done)
{
    long long guard = poll_loop_now_ms() + TEST_GUARD_MS;

    while (!*done) {
        if (poll_loop_now_ms() >= guard) {
            fail_msg("nothing happened for %d ms", TEST_GUARD_MS);
        }
        for (size_t i = 0; i < ARRAY_SIZE(cells); i++) {
            if (cells[i].node) {
                cell_node_run(cells[i].node);
            }
        }
        while (n_deferred) {
            struct cell_request *req = deferred[--n_deferred];
            struct json_object *result = describe_request(req);

            json_object_object_add(result, "deferred",
                                   json_object_new_boolean(true));
            cell_request_reply(req, result, NULL);
        }
        if (*done) {
            break;
        }
        for (size_t i = 0; i < ARRAY_SIZE(cells); i++) {
            if (cells[i].node) {
                cell_node_wait(cells[i].node);
            }
        }
        poll_timer_wait_until(guard);
        poll_block();
    }
}

/* Sending and waiting. */

struct reply_box {
    bool done;
    struct cell_reply *reply;
};

static void
store_reply(struct cell_reply *reply, void *box_)
{
    struct reply_box *box = box_;

    assert_false(box->done);
    box->reply = reply;
    box->done = true;
}

/* Sends 'msg' from cell 'from' and returns the reply. */
static struct cell_reply *
request(const char *from, struct cell_msg *msg, int timeout_ms)
{
    struct reply_box box = { .done = false };
    struct error *error = cell_node_send(cell_by_name(from)->node, msg,
                                         timeout_ms, store_reply, &box);

    if (error) {
        fail_msg("cannot send from '%s': %s", from, error_message(error));
    }
    run_until(&box.done);
    return box.reply;
}

static struct cell_msg *
targeted(const char *sender, const char *target, const char *method,
         const char *args)
{
    struct cell_msg *msg = NULL;
    struct json_object *json = NULL;
    struct error *error;

    if (args) {
        assert_null(json_parse_text(args, strlen(args), 0, 0, &json));
    }
    error = cell_msg_new_targeted(sender, target, method, json, &msg);
    if (error) {
        fail_msg("%s", error_message(error));
    }
    return msg;
}

static struct cell_msg *
broadcast(const char *sender, enum cell_msg_direction direction,
          const char *method, bool include_self)
{
    struct cell_msg *msg = NULL;
    struct error *error = cell_msg_new_broadcast(sender, direction, NULL,
                                                 method, NULL, &msg);

    if (error) {
        fail_msg("%s", error_message(error));
    }
    msg->include_self = include_self;
    return msg;
}

/* Checks that 'item' is cell 'cell' answering with the trail 'trail'
 * (" > "-joined) and no error. */
static void
assert_answer(const struct cell_reply_item *item, const char *cell,
              const char *trail)
{
    struct json_object *value;
    AUTOFREE char *joined = xstrdup("");

    assert_non_null(item);
    if (item->error) {
        fail_msg("cell '%s' answered '%s'", cell, error_message(item->error));
    }
    assert_string_equal(item->cell, cell);
    assert_true(json_object_object_get_ex(item->result, "cell", &value));
    assert_string_equal(json_object_get_string(value), cell);
    assert_true(json_object_object_get_ex(item->result, "trail", &value));
    for (size_t i = 0; i < json_object_array_length(value); i++) {
        char *longer = xasprintf(
            "%s%s%s", joined, i ? " > " : "",
            json_object_get_string(json_object_array_get_idx(value, i)));

        free(joined);
        joined = longer;
    }
    assert_string_equal(joined, trail);
}

/* Tests. */

static void
test_targeted_down_with_response(void **state)
{
    CLEANUP(cell_reply_freep) struct cell_reply *reply = NULL;
    struct json_object *args;
    struct json_object *n;

    (void) state;
    reply = request("api", targeted("api", "api!region1!leaf2", "ping",
                                    "{\"n\":42}"), TEST_TIMEOUT_MS);
    assert_null(reply->error);
    assert_int_equal(reply->n_items, 1);
    assert_int_equal(reply->n_missing, 0);
    assert_answer(&reply->items[0], "api!region1!leaf2",
                  "api > api!region1 > api!region1!leaf2");
    assert_true(json_object_object_get_ex(reply->items[0].result, "args",
                                          &args));
    assert_true(json_object_object_get_ex(args, "n", &n));
    assert_int_equal(json_object_get_int(n), 42);
}

static void
test_targeted_up(void **state)
{
    CLEANUP(cell_reply_freep) struct cell_reply *reply = NULL;

    (void) state;
    reply = request("leaf3", targeted("api!region2!leaf3", "api", "ping",
                                      NULL), TEST_TIMEOUT_MS);
    assert_null(reply->error);
    assert_int_equal(reply->n_items, 1);
    assert_answer(&reply->items[0], "api",
                  "api!region2!leaf3 > api!region2 > api");
}

static void
test_broadcast_down_reaches_all(void **state)
{
    CLEANUP(cell_reply_freep) struct cell_reply *reply = NULL;
    unsigned int before[ARRAY_SIZE(cells)];

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cells); i++) {
        before[i] = cells[i].n_bcasts;
    }
    reply = request("api", broadcast("api", CELL_MSG_DOWN, "bcast", true),
                    TEST_TIMEOUT_MS);
    assert_null(reply->error);
    assert_int_equal(reply->n_missing, 0);
    assert_int_equal(reply->n_items, ARRAY_SIZE(cells));
    assert_answer(cell_reply_find(reply, "api"), "api", "api");
    assert_answer(cell_reply_find(reply, "api!region1"), "api!region1",
                  "api > api!region1");
    assert_answer(cell_reply_find(reply, "api!region2"), "api!region2",
                  "api > api!region2");
    assert_answer(cell_reply_find(reply, "api!region1!leaf1"),
                  "api!region1!leaf1",
                  "api > api!region1 > api!region1!leaf1");
    assert_answer(cell_reply_find(reply, "api!region1!leaf2"),
                  "api!region1!leaf2",
                  "api > api!region1 > api!region1!leaf2");
    assert_answer(cell_reply_find(reply, "api!region2!leaf3"),
                  "api!region2!leaf3",
                  "api > api!region2 > api!region2!leaf3");
    /* Each cell executed it exactly once. */
    for (size_t i = 0; i < ARRAY_SIZE(cells); i++) {
        assert_int_equal(cells[i].n_bcasts, before[i] + 1);
    }
}

static void
test_broadcast_down_without_sender(void **state)
{
    CLEANUP(cell_reply_freep) struct cell_reply *reply = NULL;

    (void) state;
    reply = request("region1", broadcast("api!region1", CELL_MSG_DOWN,
                                         "bcast", false), TEST_TIMEOUT_MS);
    assert_null(reply->error);
    assert_int_equal(reply->n_missing, 0);
    assert_int_equal(reply->n_items, 2);
    assert_string_equal(reply->items[0].cell, "api!region1!leaf1");
    assert_string_equal(reply->items[1].cell, "api!region1!leaf2");
}

static void
test_broadcast_up(void **state)
{
    CLEANUP(cell_reply_freep) struct cell_reply *reply = NULL;

    (void) state;
    reply = request("leaf1", broadcast("api!region1!leaf1", CELL_MSG_UP,
                                       "bcast", true), TEST_TIMEOUT_MS);
    assert_null(reply->error);
    assert_int_equal(reply->n_missing, 0);
    assert_int_equal(reply->n_items, 3);
    assert_answer(&reply->items[0], "api",
                  "api!region1!leaf1 > api!region1 > api");
    assert_answer(&reply->items[1], "api!region1",
                  "api!region1!leaf1 > api!region1");
    assert_answer(&reply->items[2], "api!region1!leaf1",
                  "api!region1!leaf1");
}

static void
test_errors_travel_back(void **state)
{
    CLEANUP(cell_reply_freep) struct cell_reply *failed = NULL;
    CLEANUP(cell_reply_freep) struct cell_reply *no_child = NULL;
    CLEANUP(cell_reply_freep) struct cell_reply *no_method = NULL;

    (void) state;
    /* The method's own error, word for word. */
    failed = request("api", targeted("api", "api!region1!leaf1", "fail",
                                     NULL), TEST_TIMEOUT_MS);
    assert_null(failed->error);
    assert_int_equal(failed->n_items, 1);
    assert_non_null(failed->items[0].error);
    assert_int_equal(error_kind(failed->items[0].error), ERROR_NOT_FOUND);
    assert_string_equal(error_message(failed->items[0].error),
                        "Instance '4f1c' could not be found in cell "
                        "'api!region1!leaf1'");

    /* A child region1 does not have: refused by region1. */
    no_child = request("api", targeted("api", "api!region1!leaf9", "ping",
                                       NULL), TEST_TIMEOUT_MS);
    assert_non_null(no_child->error);
    assert_int_equal(no_child->n_items, 0);
    assert_int_equal(error_kind(no_child->error), ERROR_NOT_FOUND);
    assert_string_equal(error_message(no_child->error),
                        "Cell 'api!region1!leaf9' is not a child of "
                        "'api!region1'");

    /* A method the target does not have. */
    no_method = request("api", targeted("api", "api!region2", "reboot",
                                        NULL), TEST_TIMEOUT_MS);
    assert_int_equal(no_method->n_items, 1);
    assert_non_null(no_method->items[0].error);
    assert_string_equal(error_message(no_method->items[0].error),
                        "Cell 'api!region2' has no method 'reboot'");
}

static void
test_refused_at_the_sender(void **state)
{
    CLEANUP(error_freep) struct error *error = NULL;
    struct reply_box box = { .done = false };

    (void) state;
    error = cell_node_send(cell_by_name("region1")->node,
                           targeted("api!region1", "api!region1!leaf7",
                                    "ping", NULL),
                           TEST_TIMEOUT_MS, store_reply, &box);
    assert_non_null(error);
    assert_string_equal(error_message(error),
                        "Cell 'api!region1!leaf7' is not a child of "
                        "'api!region1'");
    assert_false(box.done);
}

static void
test_deferred_answer(void **state)
{
    CLEANUP(cell_reply_freep) struct cell_reply *reply = NULL;
    struct json_object *value;

    (void) state;
    reply = request("api", targeted("api", "api!region2!leaf3", "later",
                                    NULL), TEST_TIMEOUT_MS);
    assert_null(reply->error);
    assert_int_equal(reply->n_items, 1);
    assert_answer(&reply->items[0], "api!region2!leaf3",
                  "api > api!region2 > api!region2!leaf3");
    assert_true(json_object_object_get_ex(reply->items[0].result, "deferred",
                                          &value));
    assert_true(json_object_get_boolean(value));
}

static void
test_fire_and_forget(void **state)
{
    struct test_cell *leaf3 = cell_by_name("leaf3");
    unsigned int before = leaf3->n_pings;
    CLEANUP(cell_reply_freep) struct cell_reply *reply = NULL;

    (void) state;
    /* A cast, then a request behind it on the same path: when the
     * request is answered, the cast was executed (one consumer, in
     * order). */
    assert_null(cell_node_send(cell_by_name("api")->node,
                               targeted("api", "api!region2!leaf3", "ping",
                                        NULL), 0, NULL, NULL));
    reply = request("api", targeted("api", "api!region2!leaf3", "ping",
                                    NULL), TEST_TIMEOUT_MS);
    assert_null(reply->error);
    assert_int_equal(leaf3->n_pings, before + 2);
}

static void
test_hop_limit_stops_a_loop(void **state)
{
    struct test_cell *region1 = cell_by_name("region1");
    struct test_cell *leaf2 = cell_by_name("leaf2");
    CLEANUP(cell_reply_freep) struct cell_reply *reply = NULL;
    struct cell_node_stats r1_before, r1_after, l2_after;

    (void) state;
    /* Misconfigure leaf2: its child 'x' "lives" on region1's vhost, so a
     * request for api!region1!leaf2!x goes region1 -> leaf2 -> region1
     * -> leaf2 ... */
    stop_cell(leaf2);
    start_cell(leaf2, "x", "region1");
    wait_links_up(NULL);
    cell_node_get_stats(region1->node, &r1_before);

    reply = request("api", targeted("api", "api!region1!leaf2!x", "ping",
                                    NULL), TEST_TIMEOUT_MS);
    assert_non_null(reply->error);
    assert_int_equal(reply->n_items, 0);
    assert_int_equal(error_kind(reply->error), ERROR_INTERNAL);
    if (!strstr(error_message(reply->error),
                "dropped at cell 'api!region1!leaf2': it reached the limit "
                "of 16 hops")
        || !strstr(error_message(reply->error),
                   "Trail: api > api!region1 > api!region1!leaf2 > "
                   "api!region1 > api!region1!leaf2 > ")) {
        fail_msg("unexpected error: %s", error_message(reply->error));
    }

    /* Published 16 times: region1 got hops 1, 3, ..., 15, and leaf2 got
     * 2, 4, ..., 16, where it was dropped.  Nothing else circulates: the
     * answer came back after the last hop. */
    cell_node_get_stats(region1->node, &r1_after);
    cell_node_get_stats(leaf2->node, &l2_after);
    assert_int_equal(r1_after.requests_received
                     - r1_before.requests_received, 8);
    assert_int_equal(l2_after.requests_received, 8);
    assert_int_equal(l2_after.hop_limit, 1);
    assert_int_equal(r1_after.hop_limit - r1_before.hop_limit, 0);

    stop_cell(leaf2);
    start_cell(leaf2, NULL, NULL);
    wait_links_up(NULL);
}

static void
test_dead_child_partial_broadcast(void **state)
{
    struct test_cell *leaf2 = cell_by_name("leaf2");
    CLEANUP(cell_reply_freep) struct cell_reply *reply = NULL;
    CLEANUP(cell_reply_freep) struct cell_reply *after = NULL;
    unsigned int leaf2_bcasts;

    (void) state;
    /* leaf2's consumer stops; its queue stays, and region1's link to its
     * vhost stays up: the broadcast is published and never answered. */
    stop_cell(leaf2);
    reply = request("api", broadcast("api", CELL_MSG_DOWN, "bcast", true),
                    TEST_PARTIAL_TIMEOUT_MS);
    assert_null(reply->error);
    assert_int_equal(reply->n_items, ARRAY_SIZE(cells) - 1);
    assert_null(cell_reply_find(reply, "api!region1!leaf2"));
    assert_int_equal(reply->n_missing, 1);
    assert_string_equal(reply->missing[0], "api!region1!leaf2");
    assert_true(cell_reply_is_missing(reply, "api!region1!leaf2"));
    assert_answer(cell_reply_find(reply, "api!region1!leaf1"),
                  "api!region1!leaf1",
                  "api > api!region1 > api!region1!leaf1");

    /* Back up, leaf2 finds the broadcast in its queue, past its deadline:
     * it is dropped, not executed.  A request queued behind it proves
     * that leaf2 has been through it. */
    leaf2_bcasts = leaf2->n_bcasts;
    start_cell(leaf2, NULL, NULL);
    wait_links_up(NULL);
    after = request("api", targeted("api", "api!region1!leaf2", "ping",
                                    NULL), TEST_TIMEOUT_MS);
    assert_null(after->error);
    assert_int_equal(after->n_items, 1);
    assert_int_equal(leaf2->n_bcasts, leaf2_bcasts);
}

static void
test_unreachable_child_fails_fast(void **state)
{
    struct test_cell *region2 = cell_by_name("region2");
    CLEANUP(cell_reply_freep) struct cell_reply *bcast = NULL;
    CLEANUP(cell_reply_freep) struct cell_reply *direct = NULL;
    CLEANUP(cell_reply_freep) struct cell_reply *sibling = NULL;
    struct cell_node_stats before, after;
    CLEANUP(test_env_url_freep) struct test_env_url *admin =
        test_env_url_parse(test_env_get("NOVA_TEST_RABBIT_ADMIN_URL"));
    /* Port 1 of the loopback: nothing listens, connections are refused. */
    AUTOFREE char *dead = xasprintf("rabbit://%s:%s@127.0.0.1:1/ghost",
                                    admin->user, admin->password);

    (void) state;
    stop_cell(region2);
    start_cell(region2, "ghost", dead);
    wait_links_up("api!region2!ghost");
    cell_node_get_stats(cell_by_name("api")->node, &before);

    /* The broadcast names the unreachable cell at once, with the others'
     * answers, well before its timeout. */
    bcast = request("api", broadcast("api", CELL_MSG_DOWN, "bcast", true),
                    TEST_TIMEOUT_MS);
    assert_null(bcast->error);
    assert_int_equal(bcast->n_items, ARRAY_SIZE(cells));
    assert_int_equal(bcast->n_missing, 1);
    assert_string_equal(bcast->missing[0], "api!region2!ghost");
    cell_node_get_stats(cell_by_name("api")->node, &after);
    assert_int_equal(after.timeouts - before.timeouts, 0);

    /* A request for the cell itself fails with the link's error. */
    direct = request("api", targeted("api", "api!region2!ghost", "ping",
                                     NULL), TEST_TIMEOUT_MS);
    assert_non_null(direct->error);
    assert_int_equal(error_kind(direct->error), ERROR_CELL_DOWN);
    assert_non_null(strstr(error_message(direct->error),
                           "Cell 'api!region2!ghost' is unreachable"));

    /* Its sibling is not held up. */
    sibling = request("api", targeted("api", "api!region2!leaf3", "ping",
                                      NULL), TEST_TIMEOUT_MS);
    assert_null(sibling->error);

    stop_cell(region2);
    start_cell(region2, NULL, NULL);
    wait_links_up(NULL);
}

static int
setup(void **state)
{
    char run_id[UUID_STRING_SIZE];

    (void) state;
    uuid_generate_string(run_id);
    run_id[8] = '\0';
    topic = xasprintf("cells-%s", run_id);
    for (size_t i = 0; i < ARRAY_SIZE(cells); i++) {
        start_cell(&cells[i], NULL, NULL);
    }
    wait_links_up(NULL);
    return 0;
}

static int
teardown(void **state)
{
    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cells); i++) {
        stop_cell(&cells[i]);
    }
    free(topic);
    return 0;
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_targeted_down_with_response),
        cmocka_unit_test(test_targeted_up),
        cmocka_unit_test(test_broadcast_down_reaches_all),
        cmocka_unit_test(test_broadcast_down_without_sender),
        cmocka_unit_test(test_broadcast_up),
        cmocka_unit_test(test_errors_travel_back),
        cmocka_unit_test(test_refused_at_the_sender),
        cmocka_unit_test(test_deferred_answer),
        cmocka_unit_test(test_fire_and_forget),
        cmocka_unit_test(test_hop_limit_stops_a_loop),
        cmocka_unit_test(test_dead_child_partial_broadcast),
        cmocka_unit_test(test_unreachable_child_fails_fast),
    };

    test_env_require(argc, argv, "rabbitmq");
    return cmocka_run_group_tests_name("cell-routing", tests, setup,
                                       teardown);
}
