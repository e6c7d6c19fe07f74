/* cells-heal.c: digests of the leaves compared with the top view, and
 * the repair of what differs (see cells-heal.h). */
#include <config.h>

#include "child-cell/cells-heal.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <string.h>

#include "api-cell/cell-status.h"
#include "api-cell/top-view.h"
#include "cells-rpc/cell-msg.h"
#include "cells-rpc/cell-node.h"
#include "cells-rpc/cell-path.h"
#include "cells-rpc/cells-rpcapi.h"
#include "cells-rpc/rpc-msg.h"
#include "cells-rpc/rpc-server.h"
#include "child-cell/cell-db-fault.h"
#include "child-cell/cell-db-instance.h"
#include "child-cell/cells-private.h"
#include "child-cell/cells-state.h"
#include "shared/db.h"
#include "shared/error.h"
#include "shared/instance.h"
#include "shared/json-util.h"
#include "shared/log.h"
#include "shared/poll-loop.h"
#include "shared/topology.h"
#include "shared/uuid-util.h"
#include "shared/xalloc.h"

LOG_MODULE("cells.heal");

/* One leaf's digest being gathered at the root. */
struct heal_leaf {
    char *path;
    /* uuid -> [update_seq, deleted]; NULL once compared. */
    struct json_object *digest;
};

/* One heal, at the root. */
struct heal_run {
    struct cells_service *svc;
    struct rpc_request *req;        /* On demand; NULL: periodic. */
    char *scope;                    /* Subtree; NULL: the whole tree. */
    int timeout_ms;                 /* Of each request sent down. */
    size_t n_pending;               /* Requests sent, not answered. */
    struct heal_leaf *leaves;
    size_t n_leaves;
    size_t allocated_leaves;
    int64_t checked;
    struct json_object *fixed;      /* uuids */
    struct json_object *deleted;    /* uuids */
    struct json_object *missing;    /* cell paths */
};

/* What a request sent down waits with. */
struct heal_pending {
    struct heal_run *run;
    size_t leaf;                    /* Index in run->leaves. */
};

static void heal_send_digest(struct heal_run *, size_t leaf,
                             long long marker);

/* ---- At the leaf ------------------------------------------------------- */

/* heal_digest {"marker": int (optional: the "next" of the previous page),
 *              "limit": int (optional)}
 *   -> {"leaf": true, "instances": [[uuid, update_seq, deleted]],
 *       "next": int|null} */
static struct error *
heal_digest_leaf(struct cells_service *svc, const struct json_object *args,
                 struct json_object **ret_result)
{
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    struct json_object *result, *list;
    long long marker = 0;
    long long limit = CELLS_HEAL_DIGEST_PAGE;
    struct error *error;
    size_t n;

    error = json_get_int(args, NULL, "marker", false, 0, INT64_MAX / 2,
                         &marker);
    if (!error) {
        error = json_get_int(args, NULL, "limit", false, 1,
                             CELLS_HEAL_DIGEST_PAGE, &limit);
    }
    if (!error) {
        error = db_query(svc->cell_db,
                         "SELECT id, uuid, update_seq, deleted "
                         "FROM instances WHERE id > ? ORDER BY id LIMIT ?",
                         DB_PARAMS(DB_INT(marker), DB_INT(limit)), &rows);
    }
    if (error) {
        return error;
    }
    n = db_rows_count(rows);
    result = json_object_new_object();
    list = json_object_new_array_ext((int) n);
    for (size_t r = 0; r < n; r++) {
        struct json_object *entry = json_object_new_array_ext(3);

        json_object_array_add(entry, json_object_new_string(
                                  db_rows_get_str(rows, r, 1)));
        json_object_array_add(entry, json_object_new_int64(
                                  db_rows_get_int64(rows, r, 2)));
        json_object_array_add(entry, json_object_new_boolean(
                                  db_rows_get_int64(rows, r, 3) != 0));
        json_object_array_add(list, entry);
    }
    json_object_object_add(result, "leaf", json_object_new_boolean(true));
    json_object_object_add(result, "instances", list);
    json_object_object_add(result, "next",
                           (long long) n == limit
                           ? json_object_new_int64(
                               db_rows_get_int64(rows, n - 1, 0))
                           : NULL);
    *ret_result = result;
    return NULL;
}

/* heal_fetch {"uuids": [str]}
 *   -> {"instances": [{"instance": INSTANCE, "fault": FAULT|null}],
 *       "missing": [uuid]} */
static struct error *
heal_fetch_leaf(struct cells_service *svc, const struct json_object *args,
                struct json_object **ret_result)
{
    struct json_object *uuids = NULL;
    struct json_object *result, *list, *missing;
    struct error *error;
    size_t n;

    error = json_get_array(args, NULL, "uuids", true, CELLS_HEAL_FETCH_MAX,
                           &uuids);
    if (error) {
        return error;
    }
    n = json_object_array_length(uuids);
    for (size_t i = 0; i < n; i++) {
        const char *uuid = json_object_get_string(
            json_object_array_get_idx(uuids, i));

        if (!json_object_is_type(json_object_array_get_idx(uuids, i),
                                 json_type_string)
            || !uuid_is_valid(uuid)) {
            return error_new(ERROR_INVALID, "Invalid input for "
                             "field/attribute 'uuids[%zu]': not a UUID", i);
        }
    }
    result = json_object_new_object();
    list = json_object_new_array();
    missing = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        const char *uuid = json_object_get_string(
            json_object_array_get_idx(uuids, i));
        CLEANUP(instance_freep) struct instance *inst = NULL;
        CLEANUP(cell_db_fault_freep) struct cell_db_fault *fault = NULL;
        struct json_object *item;

        error = cell_db_instance_get(svc->cell_db, uuid, true, &inst);
        if (error && error_kind(error) == ERROR_NOT_FOUND) {
            error_free(error);
            json_object_array_add(missing, json_object_new_string(uuid));
            continue;
        }
        if (!error) {
            error = cell_db_fault_get_latest(svc->cell_db, uuid, &fault);
        }
        if (error) {
            json_object_put(list);
            json_object_put(missing);
            json_object_put(result);
            return error;
        }
        item = json_object_new_object();
        json_object_object_add(item, "instance", instance_to_json(inst));
        json_object_object_add(item, "fault",
                               fault ? cell_db_fault_to_json(fault) : NULL);
        json_object_array_add(list, item);
    }
    json_object_object_add(result, "instances", list);
    json_object_object_add(result, "missing", missing);
    *ret_result = result;
    return NULL;
}

struct error *
cells_heal_cell(struct cell_request *req, void *svc_,
                struct json_object **ret_result)
{
    struct cells_service *svc = svc_;
    const struct cell_msg *msg = cell_request_msg(req);

    if (!svc->is_leaf) {
        if (!strcmp(msg->method, CELLS_MSG_HEAL_DIGEST)) {
            *ret_result = json_object_new_object();
            json_object_object_add(*ret_result, "leaf",
                                   json_object_new_boolean(false));
            return NULL;
        }
        return error_new(ERROR_NOT_FOUND, "Cell '%s' has no hosts",
                         svc->path);
    }
    if (!strcmp(msg->method, CELLS_MSG_HEAL_DIGEST)) {
        return heal_digest_leaf(svc, msg->args, ret_result);
    }
    if (!strcmp(msg->method, CELLS_MSG_HEAL_FETCH)) {
        return heal_fetch_leaf(svc, msg->args, ret_result);
    }
    return error_new(ERROR_INVALID, "Unknown method '%s'", msg->method);
}

/* ---- At the root: the run ---------------------------------------------- */

static void
heal_run_free(struct heal_run *run)
{
    if (!run) {
        return;
    }
    for (size_t i = 0; i < run->n_leaves; i++) {
        free(run->leaves[i].path);
        json_object_put(run->leaves[i].digest);
    }
    free(run->leaves);
    free(run->scope);
    json_object_put(run->fixed);
    json_object_put(run->deleted);
    json_object_put(run->missing);
    free(run);
}

static void
heal_add_missing(struct heal_run *run, const char *path)
{
    size_t n = json_object_array_length(run->missing);

    for (size_t i = 0; i < n; i++) {
        if (!strcmp(json_object_get_string(
                        json_object_array_get_idx(run->missing, i)), path)) {
            return;
        }
    }
    json_object_array_add(run->missing, json_object_new_string(path));
}

/* What an on-demand heal answers: the counts of 'run' (new reference). */
static struct json_object *
heal_run_result(const struct heal_run *run)
{
    struct json_object *result = json_object_new_object();

    json_object_object_add(result, "checked",
                           json_object_new_int64(run->checked));
    json_object_object_add(result, "fixed", json_object_get(run->fixed));
    json_object_object_add(result, "deleted",
                           json_object_get(run->deleted));
    json_object_object_add(result, "missing_cells",
                           json_object_get(run->missing));
    return result;
}

static void
heal_run_log(const struct heal_run *run)
{
    LOG_INFO("heal of %s: checked %" PRId64 " instances, fixed %zu, "
             "deleted %zu, %zu cells did not answer",
             run->scope ? run->scope : "the tree", run->checked,
             json_object_array_length(run->fixed),
             json_object_array_length(run->deleted),
             json_object_array_length(run->missing));
}

/* Ends 'run' once nothing is pending: logs, answers, frees. */
static void
heal_run_done(struct heal_run *run)
{
    struct cells_service *svc = run->svc;

    if (run->n_pending) {
        return;
    }
    if (!svc->closing) {
        heal_run_log(run);
    }
    if (run->req) {
        rpc_request_reply(run->req, heal_run_result(run), NULL);
    } else {
        svc->heal_running = false;
    }
    heal_run_free(run);
}

/* Sends 'method' with 'args' (taken) to 'target' (a leaf), answered to
 * 'cb' with a new 'struct heal_pending'. */
static struct error *
heal_send(struct heal_run *run, const char *target, const char *method,
          struct json_object *args, size_t leaf, cell_reply_fn *cb)
{
    struct cells_service *svc = run->svc;
    struct heal_pending *pending;
    struct cell_msg *msg;
    struct error *error;

    error = cell_msg_new_targeted(svc->path, target, method, args, &msg);
    if (error) {
        return error;
    }
    msg->need_response = true;
    pending = xzalloc(sizeof *pending);
    pending->run = run;
    pending->leaf = leaf;
    error = cell_node_send(svc->node, msg, run->timeout_ms, cb, pending);
    if (error) {
        free(pending);
        return error;
    }
    run->n_pending++;
    return NULL;
}

/* Applies the answer of heal_fetch from 'leaf'. */
static void
heal_apply_fetched(struct heal_run *run, const char *leaf,
                   const struct json_object *result)
{
    struct json_object *list = NULL;
    size_t n;

    if (!json_object_object_get_ex(result, "instances", &list)
        || !json_object_is_type(list, json_type_array)) {
        LOG_WARN("heal: cell '%s' answered heal_fetch without instances",
                 leaf);
        return;
    }
    n = json_object_array_length(list);
    for (size_t i = 0; i < n; i++) {
        struct json_object *item = json_object_array_get_idx(list, i);
        CLEANUP(instance_freep) struct instance *inst = NULL;
        struct json_object *fault = NULL;
        struct error *error;
        bool applied = false;

        error = instance_from_json(json_object_object_get(item, "instance"),
                                   "instance", &inst);
        if (!error) {
            if (!json_object_object_get_ex(item, "fault", &fault)
                || !json_object_is_type(fault, json_type_object)) {
                fault = NULL;
            }
            if (inst->vm_state == INSTANCE_VM_DELETED) {
                error = top_view_apply_destroy(run->svc->api_db, leaf,
                                               inst->uuid, inst->update_seq,
                                               &applied);
            } else {
                error = top_view_apply_update(run->svc->api_db, leaf, inst,
                                              fault, &applied);
            }
        }
        if (error) {
            LOG_WARN("heal: cannot apply an instance of cell '%s': %s",
                     leaf, error_message(error));
            error_free(error);
            continue;
        }
        if (applied) {
            LOG_INFO("heal: instance %s of cell '%s' repaired (update %"
                     PRId64 ", vm_state %s)", inst->uuid, leaf,
                     inst->update_seq,
                     instance_vm_state_to_string(inst->vm_state));
            json_object_array_add(run->fixed,
                                  json_object_new_string(inst->uuid));
        }
    }
}

static void
heal_fetch_replied(struct cell_reply *reply, void *pending_)
{
    struct heal_pending *pending = pending_;
    struct heal_run *run = pending->run;
    const char *leaf = run->leaves[pending->leaf].path;

    free(pending);
    run->n_pending--;
    if (!run->svc->closing) {
        const struct error *error = (reply->error ? reply->error
                                     : !reply->n_items ? NULL
                                     : reply->items[0].error);

        if (error || !reply->n_items) {
            LOG_WARN("heal: cell '%s' did not answer heal_fetch: %s", leaf,
                     error ? error_message(error) : "no answer");
            heal_add_missing(run, leaf);
        } else {
            heal_apply_fetched(run, leaf, reply->items[0].result);
        }
    }
    cell_reply_free(reply);
    heal_run_done(run);
}

/* Asks 'leaf' for the instances 'uuids' (taken), in requests of at most
 * CELLS_HEAL_FETCH_MAX. */
static void
heal_fetch(struct heal_run *run, size_t leaf, struct json_object *uuids)
{
    size_t n = json_object_array_length(uuids);

    for (size_t start = 0; start < n; start += CELLS_HEAL_FETCH_MAX) {
        struct json_object *args = json_object_new_object();
        struct json_object *some = json_object_new_array();
        struct error *error;

        for (size_t i = start; i < n && i < start + CELLS_HEAL_FETCH_MAX;
             i++) {
            json_object_array_add(some, json_object_get(
                                      json_object_array_get_idx(uuids, i)));
        }
        json_object_object_add(args, "uuids", some);
        error = heal_send(run, run->leaves[leaf].path,
                          CELLS_MSG_HEAL_FETCH, args, leaf,
                          heal_fetch_replied);
        if (error) {
            LOG_WARN("heal: cannot ask cell '%s' for instances: %s",
                     run->leaves[leaf].path, error_message(error));
            error_free(error);
            heal_add_missing(run, run->leaves[leaf].path);
            break;
        }
    }
    json_object_put(uuids);
}

/* Marks 'uuid' of 'leaf', which the leaf does not have, deleted in the top
 * view, whose row holds 'seq'. */
static void
heal_delete_orphan(struct heal_run *run, const char *leaf, const char *uuid,
                   int64_t seq)
{
    struct error *error;
    bool applied = false;

    error = top_view_apply_destroy(run->svc->api_db, leaf, uuid, seq,
                                   &applied);
    if (error) {
        LOG_WARN("heal: cannot delete instance %s of cell '%s' from the top "
                 "view: %s", uuid, leaf, error_message(error));
        error_free(error);
        return;
    }
    if (applied) {
        LOG_WARN("heal: instance %s is in the top view as in cell '%s', "
                 "which does not have it: marked deleted", uuid, leaf);
        json_object_array_add(run->deleted, json_object_new_string(uuid));
    }
}

/* Compares the whole digest of leaf 'i' with the top view and repairs what
 * differs. */
static void
heal_compare(struct heal_run *run, size_t i)
{
    struct heal_leaf *leaf = &run->leaves[i];
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    struct json_object *top = json_object_new_object();
    struct json_object *fetch = json_object_new_array();
    struct error *error;

    error = db_query(run->svc->api_db,
                     "SELECT uuid, update_seq, deleted, "
                     "cell_path IS NOT NULL AND created_at < "
                     "UTC_TIMESTAMP(6) - INTERVAL ? SECOND "
                     "FROM instances WHERE cell_path = ? OR uuid IN "
                     "(SELECT instance_uuid FROM instance_mappings "
                     "WHERE cell_path = ?)",
                     DB_PARAMS(DB_INT(CELLS_HEAL_GRACE_S),
                               DB_STR(leaf->path), DB_STR(leaf->path)),
                     &rows);
    if (error) {
        LOG_WARN("heal: cannot read the top view of cell '%s': %s",
                 leaf->path, error_message(error));
        error_free(error);
        heal_add_missing(run, leaf->path);
        goto out;
    }
    for (size_t r = 0; r < db_rows_count(rows); r++) {
        const char *uuid = db_rows_get_str(rows, r, 0);
        int64_t top_seq = db_rows_get_int64(rows, r, 1);
        bool top_deleted = db_rows_get_int64(rows, r, 2) != 0;
        bool settled = db_rows_get_int64(rows, r, 3) != 0;
        struct json_object *entry = NULL;
        int64_t seq;
        bool deleted;

        json_object_object_add(top, uuid, NULL);
        if (!json_object_object_get_ex(leaf->digest, uuid, &entry)) {
            if (!top_deleted && settled) {
                heal_delete_orphan(run, leaf->path, uuid, top_seq);
            }
            continue;
        }
        seq = json_object_get_int64(json_object_array_get_idx(entry, 0));
        deleted = json_object_get_boolean(
            json_object_array_get_idx(entry, 1));
        if (top_deleted) {
            if (!deleted) {
                /* Deleted at the top (before its build landed) but alive
                 * in the leaf: the delete follows it down, as when its
                 * update comes up (cells-state.h). */
                error = cells_state_delete_down(run->svc, leaf->path, uuid);
                if (error) {
                    LOG_WARN("heal: instance %s is deleted in the top view "
                             "but not in cell '%s', and the delete cannot "
                             "be sent: %s", uuid, leaf->path,
                             error_message(error));
                    error_free(error);
                } else {
                    LOG_INFO("heal: instance %s is deleted in the top view "
                             "but not in cell '%s': delete sent", uuid,
                             leaf->path);
                    json_object_array_add(run->fixed,
                                          json_object_new_string(uuid));
                }
            }
        } else if (deleted) {
            bool applied = false;

            error = top_view_apply_destroy(run->svc->api_db, leaf->path,
                                           uuid, seq, &applied);
            if (error) {
                LOG_WARN("heal: cannot delete instance %s: %s", uuid,
                         error_message(error));
                error_free(error);
            } else if (applied) {
                LOG_INFO("heal: instance %s, deleted in cell '%s', marked "
                         "deleted", uuid, leaf->path);
                json_object_array_add(run->fixed,
                                      json_object_new_string(uuid));
            }
        } else if (seq > top_seq) {
            json_object_array_add(fetch, json_object_new_string(uuid));
        } else if (seq < top_seq) {
            LOG_WARN("heal: instance %s: the top view holds update %"
                     PRId64 ", newer than update %" PRId64 " of cell "
                     "'%s': left alone", uuid, top_seq, seq, leaf->path);
        }
    }
    json_object_object_foreach(leaf->digest, uuid, entry) {
        run->checked++;
        if (!json_object_object_get_ex(top, uuid, NULL)
            && !json_object_get_boolean(json_object_array_get_idx(entry,
                                                                  1))) {
            json_object_array_add(fetch, json_object_new_string(uuid));
        }
    }
    if (json_object_array_length(fetch)) {
        heal_fetch(run, i, TAKE_PTR(fetch));
    }
out:
    json_object_put(fetch);
    json_object_put(top);
    json_object_put(leaf->digest);
    leaf->digest = NULL;
}

/* Adds the entries of one page of a digest to leaf 'i' and asks for the
 * next page or compares. */
static void
heal_take_page(struct heal_run *run, size_t i,
               const struct json_object *result)
{
    struct heal_leaf *leaf = &run->leaves[i];
    struct json_object *list = NULL;
    long long next = 0;
    struct error *error;

    error = json_get_array(result, NULL, "instances", true,
                           CELLS_HEAL_DIGEST_PAGE, &list);
    if (!error && json_object_object_get(result, "next")) {
        error = json_get_int(result, NULL, "next", true, 1, INT64_MAX / 2,
                             &next);
    }
    if (error) {
        LOG_WARN("heal: bad digest from cell '%s': %s", leaf->path,
                 error_message(error));
        error_free(error);
        heal_add_missing(run, leaf->path);
        return;
    }
    for (size_t j = 0; j < json_object_array_length(list); j++) {
        struct json_object *e = json_object_array_get_idx(list, j);
        struct json_object *v;

        if (!json_object_is_type(e, json_type_array)
            || json_object_array_length(e) != 3
            || !json_object_is_type(json_object_array_get_idx(e, 0),
                                    json_type_string)) {
            continue;
        }
        v = json_object_new_array_ext(2);
        json_object_array_add(v, json_object_get(
                                  json_object_array_get_idx(e, 1)));
        json_object_array_add(v, json_object_get(
                                  json_object_array_get_idx(e, 2)));
        json_object_object_add(leaf->digest, json_object_get_string(
                                   json_object_array_get_idx(e, 0)), v);
    }
    if (next) {
        heal_send_digest(run, i, next);
    } else {
        heal_compare(run, i);
    }
}

static void
heal_page_replied(struct cell_reply *reply, void *pending_)
{
    struct heal_pending *pending = pending_;
    struct heal_run *run = pending->run;
    size_t i = pending->leaf;

    free(pending);
    run->n_pending--;
    if (!run->svc->closing) {
        const struct error *error = (reply->error ? reply->error
                                     : !reply->n_items ? NULL
                                     : reply->items[0].error);

        if (error || !reply->n_items) {
            LOG_WARN("heal: cell '%s' did not answer heal_digest: %s",
                     run->leaves[i].path,
                     error ? error_message(error) : "no answer");
            heal_add_missing(run, run->leaves[i].path);
        } else {
            heal_take_page(run, i, reply->items[0].result);
        }
    }
    cell_reply_free(reply);
    heal_run_done(run);
}

/* Asks leaf 'i' for the page of its digest after 'marker'. */
static void
heal_send_digest(struct heal_run *run, size_t i, long long marker)
{
    struct json_object *args = json_object_new_object();
    struct error *error;

    json_object_object_add(args, "marker", json_object_new_int64(marker));
    error = heal_send(run, run->leaves[i].path,
                      CELLS_MSG_HEAL_DIGEST, args, i, heal_page_replied);
    if (error) {
        LOG_WARN("heal: cannot ask cell '%s' for its digest: %s",
                 run->leaves[i].path, error_message(error));
        error_free(error);
        heal_add_missing(run, run->leaves[i].path);
    }
}

/* True if leaf 'path' is not to be asked at all: it, or a cell above
 * it, is mute or excluded.  This cell's own children are judged by what
 * it holds of them now, the deeper cells by what the API database records
 * (written from the reports, cells-health-report.h).  Waiting the whole
 * timeout on a cell known to be silent would only delay the others. */
static bool
heal_leaf_is_down(struct heal_run *run, const char *path)
{
    struct cells_service *svc = run->svc;
    long long now = poll_loop_now_ms();
    struct error *error;

    for (size_t i = 0; i < svc->n_children; i++) {
        const struct cells_child *child = &svc->children[i];
        enum cell_health_state state;

        if (!cell_path_in_subtree(child->cell->path, path)) {
            continue;
        }
        /* A child not heard from since this cell started is mute by
         * definition; it is only down once it had the time to report. */
        state = cell_health_state(&child->health, now);
        if ((state == CELL_HEALTH_MUTE
             && (child->health.reported
                 || now - child->health.heard_ms
                    > child->health.config->mute_child_interval_ms))
            || state == CELL_HEALTH_EXCLUDED) {
            LOG_INFO("heal: skipping cell '%s': cell '%s' is %s", path,
                     child->cell->path, cell_health_state_to_string(state));
            return true;
        }
    }
    error = cell_status_check_reachable(svc->api_db, path);
    if (!error) {
        return false;
    }
    if (error_kind(error) == ERROR_CELL_DOWN) {
        LOG_INFO("heal: skipping cell '%s': %s", path, error_message(error));
        error_free(error);
        return true;
    }
    LOG_WARN("heal: cannot read the health of cell '%s', asking it "
             "anyway: %s", path, error_message(error));
    error_free(error);
    return false;
}

/* Starts a heal of 'scope' (NULL: the whole tree), answering 'req' (NULL:
 * periodic) when done.  Every cell with hosts in the scope is asked for
 * its digest with a request of its own, except those known to be down,
 * which are reported missing at once.  When nothing had to be asked, the
 * run is over at once: '*ret_run' is the finished run (the caller answers
 * and frees it); otherwise it is NULL and the run answers when done. */
static struct error *
heal_start(struct cells_service *svc, const char *scope,
           struct rpc_request *req, int timeout_ms,
           struct heal_run **ret_run)
{
    struct heal_run *run = xzalloc(sizeof *run);
    const struct topology *topology = svc->topology;

    run->svc = svc;
    run->req = req;
    run->scope = xstrdup_or_null(scope);
    run->timeout_ms = timeout_ms;
    run->fixed = json_object_new_array();
    run->deleted = json_object_new_array();
    run->missing = json_object_new_array();
    run->allocated_leaves = topology->n_cells;
    run->leaves = xcalloc(run->allocated_leaves, sizeof *run->leaves);
    for (size_t k = 0; k < topology->n_cells; k++) {
        const struct topology_cell *cell = topology->cells[k];

        if (!cell->hosts
            || (scope && !cell_path_in_subtree(scope, cell->path))) {
            continue;
        }
        if (heal_leaf_is_down(run, cell->path)) {
            heal_add_missing(run, cell->path);
            continue;
        }
        run->leaves[run->n_leaves].path = xstrdup(cell->path);
        run->leaves[run->n_leaves].digest = json_object_new_object();
        run->n_leaves++;
    }
    /* All leaves first: heal_send_digest() only counts on the indexes. */
    for (size_t i = 0; i < run->n_leaves; i++) {
        heal_send_digest(run, i, 0);
    }
    LOG_DBG("heal of %s started: %zu cells asked, %zu skipped",
            scope ? scope : "the tree", run->n_leaves,
            json_object_array_length(run->missing));
    if (run->n_pending) {
        *ret_run = NULL;
    } else {
        heal_run_log(run);
        *ret_run = run;
    }
    return NULL;
}

struct error *
cells_heal_local(struct rpc_request *req, void *svc_,
                 struct json_object **ret_result)
{
    struct cells_service *svc = svc_;
    const struct rpc_msg *msg = rpc_request_msg(req);
    struct json_object *value = NULL;
    struct heal_run *done = NULL;
    const char *scope = NULL;
    struct error *error;

    if (!svc->is_root || !svc->api_db) {
        return error_new(ERROR_INVALID, "Heal runs at the API cell, not at "
                         "'%s'", svc->path);
    }
    if (json_object_object_get_ex(msg->args, "cell_path", &value)
        && value) {
        error = json_get_string(msg->args, NULL, "cell_path", true,
                                CELL_PATH_MAX_LENGTH, &scope);
        if (!error) {
            error = cell_path_check("cell_path", scope);
        }
        if (error) {
            return error;
        }
        if (!cell_path_in_subtree(svc->path, scope)) {
            return error_new(ERROR_NOT_FOUND, "Cell '%s' is not in the tree "
                             "of '%s'", scope, svc->path);
        }
    }
    error = heal_start(svc, scope, req, cells_timeout_below(msg->deadline_ms),
                       &done);
    if (error) {
        return error;
    }
    if (done) {
        /* Nothing to wait for (every cell in the scope down, or none
         * with hosts): answered here, not deferred. */
        *ret_result = heal_run_result(done);
        heal_run_free(done);
        return NULL;
    }
    rpc_request_defer(req);
    return NULL;
}

void
cells_heal_periodic(struct cells_service *svc)
{
    struct heal_run *done = NULL;
    struct error *error;

    if (!svc->is_root || !svc->api_db || svc->heal_running) {
        return;
    }
    error = heal_start(svc, NULL, NULL, CELLS_CALL_TIMEOUT_MS, &done);
    if (error) {
        LOG_WARN("cannot start the periodic heal: %s", error_message(error));
        error_free(error);
        return;
    }
    if (done) {
        heal_run_free(done);
        return;
    }
    svc->heal_running = true;
}
