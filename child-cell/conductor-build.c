/* conductor-build.c: build_instances and build_failed (see
 * conductor-build.h). */
#include <config.h>

#include "child-cell/conductor-build.h"

#include <limits.h>
#include <json-c/json.h>
#include <string.h>

#include "cells-rpc/rpc-list.h"
#include "cells-rpc/rpc-msg.h"
#include "cells-rpc/rpc-server.h"
#include "cells-rpc/rpc.h"
#include "child-cell/cell-db.h"
#include "child-cell/conductor-private.h"
#include "child-cell/conductor-select.h"
#include "child-cell/rpcapi.h"
#include "child-cell/sched-spec.h"
#include "shared/db.h"
#include "shared/error.h"
#include "shared/instance.h"
#include "shared/json-util.h"
#include "shared/log.h"
#include "shared/poll-loop.h"
#include "shared/timeutil.h"
#include "shared/xalloc.h"

LOG_MODULE("conductor.build");

/* The code of the fault an instance gets when no host takes it (Nova
 * records NoValidHost with 500). */
#define CONDUCTOR_BUILD_FAULT_CODE 500

/* Task states a build may be in when its compute host reports a failure:
 * Nova's compute moves through these before the domain runs. */
static const enum instance_task_state conductor_build_phase_tasks[] = {
    INSTANCE_TASK_NONE, INSTANCE_TASK_SCHEDULING,
    INSTANCE_TASK_BLOCK_DEVICE_MAPPING, INSTANCE_TASK_NETWORKING,
    INSTANCE_TASK_SPAWNING,
};

static const enum instance_task_state conductor_build_scheduling[] = {
    INSTANCE_TASK_SCHEDULING,
};

/* ---- Arguments --------------------------------------------------------- */

struct conductor_build_args {
    struct json_object *spec;           /* Borrowed from the message. */
    struct instance **instances;        /* 'n' owned instances. */
    size_t n;
    int max_attempts;                   /* 0: not given. */
};

static void
conductor_build_args_destroy(struct conductor_build_args *a)
{
    for (size_t i = 0; i < a->n; i++) {
        instance_free(a->instances[i]);
    }
    free(a->instances);
    a->instances = NULL;
    a->n = 0;
}

static struct error *
conductor_build_args_decode(const struct json_object *args,
                            struct conductor_build_args *a)
{
    static const char *const keys[] = {
        "spec", "instances", "max_attempts", NULL,
    };
    struct json_object *array = NULL;
    long long max_attempts = 0;
    struct error *error;

    memset(a, 0, sizeof *a);
    error = json_check_allowed_keys(args, NULL, keys);
    if (!error) {
        error = json_get_object(args, NULL, "spec", true, &a->spec);
    }
    if (!error) {
        error = json_get_array(args, NULL, "instances", true,
                               CONDUCTOR_BUILD_MAX_INSTANCES, &array);
    }
    if (!error) {
        error = json_get_int(args, NULL, "max_attempts", false, 1,
                             CONDUCTOR_MAX_MAX_ATTEMPTS, &max_attempts);
    }
    if (!error && !json_object_array_length(array)) {
        error = error_new(ERROR_INVALID, "'instances' is empty");
    }
    if (error) {
        return error;
    }
    a->max_attempts = (int) max_attempts;
    a->instances = xcalloc(json_object_array_length(array),
                           sizeof *a->instances);
    for (size_t i = 0; i < json_object_array_length(array); i++) {
        AUTOFREE char *path = xasprintf("instances[%zu]", i);

        error = instance_from_json(json_object_array_get_idx(array, i), path,
                                   &a->instances[i]);
        if (error) {
            conductor_build_args_destroy(a);
            return error;
        }
        a->n++;
    }
    return NULL;
}

struct error *
conductor_build_instances_validate(const struct json_object *args)
{
    struct conductor_build_args a;
    struct error *error = conductor_build_args_decode(args, &a);

    conductor_build_args_destroy(&a);
    return error;
}

/* ---- Placing one instance ---------------------------------------------- */

enum conductor_place_outcome {
    CONDUCTOR_PLACED,           /* claimed a destination, host recorded */
    CONDUCTOR_NOT_PLACED,       /* no destination: vm_state error, fault */
};

/* One transaction that takes an instance waiting for a host to a claimed
 * destination or to error.  The same function serves a new build, a
 * failed scheduler call (no destinations), a reschedule after a failed
 * build and an undone placement (a cast that could not be sent). */
struct conductor_place {
    /* In. */
    const char *uuid;
    const char *request_id;
    const struct conductor_dest_list *dests;
    size_t first;                       /* First destination to try. */
    /* The host whose build failed (claim released, never retried), or
     * NULL for a new build. */
    const char *failed_host;
    const char *failed_node;
    bool give_up;                       /* Go to error without trying. */
    int64_t fault_code;
    const char *fault;                  /* Message when not placed. */

    /* Out. */
    enum conductor_place_outcome outcome;
    size_t chosen;                      /* Index in 'dests' if placed. */
    size_t n_lost;                      /* Claims refused. */
    struct instance *row;               /* The row as committed. */
};

/* The error that rolls a placement back when the instance is no longer
 * what the placement expects (placed, deleted, another host). */
static struct error *
conductor_place_stale(const struct instance *row, const char *why)
{
    return error_new(ERROR_CONFLICT, "Instance %s %s", row->uuid, why);
}

static struct error *
conductor_place_event(struct db *db, const struct conductor_place *p,
                      const char *result, const char *host)
{
    int64_t now = time_now_ms();
    const struct cell_db_action_event event = {
        .event = (char *) CONDUCTOR_BUILD_EVENT,
        .result = (char *) result,
        .start_time = now,
        .finish_time = now,
        .host = (char *) host,
    };
    struct error *error = cell_db_action_add_event(db, p->uuid,
                                                   p->request_id, &event);

    /* An instance recorded without an action (by an older sender) simply
     * gets no event. */
    if (error && error_kind(error) == ERROR_NOT_FOUND) {
        error_free(error);
        error = NULL;
    }
    return error;
}

static struct error *
conductor_place_txn(struct db *db, void *aux)
{
    struct conductor_place *p = aux;
    const struct cell_db_instance_updates take = {
        .fields = CELL_DB_INSTANCE_TASK_STATE,
        .task_state = INSTANCE_TASK_SCHEDULING,
    };
    struct error *error;

    instance_free(p->row);
    p->row = NULL;
    p->outcome = CONDUCTOR_NOT_PLACED;
    p->chosen = 0;
    p->n_lost = 0;

    /* Take the row first: this conditional update waits for any other
     * transaction on the instance and makes the row read below the
     * latest one, so two conductors can never both place it. */
    if (p->failed_host) {
        error = cell_db_instance_update(
            db, p->uuid, &take, conductor_build_phase_tasks,
            ARRAY_SIZE(conductor_build_phase_tasks), &p->row);
    } else {
        error = cell_db_instance_update(
            db, p->uuid, &take, conductor_build_scheduling,
            ARRAY_SIZE(conductor_build_scheduling), &p->row);
    }
    if (error) {
        return error;
    }
    if (p->row->vm_state != INSTANCE_VM_BUILDING) {
        return conductor_place_stale(p->row, "is not building");
    }
    if (p->failed_host) {
        if (!p->row->host || strcmp(p->row->host, p->failed_host)
            || !p->row->node || strcmp(p->row->node, p->failed_node)) {
            return conductor_place_stale(p->row, "is not on that host");
        }
        error = cell_db_node_release_flavor(db, p->failed_host,
                                            p->failed_node, p->row->flavor);
        if (error && error_kind(error) != ERROR_NOT_FOUND) {
            return error;
        }
        error_free(error);
        instance_free(p->row);
        p->row = NULL;
        error = cell_db_instance_set_host(db, p->uuid, NULL, NULL, &p->row);
        if (error) {
            return error;
        }
    } else if (p->row->host) {
        return conductor_place_stale(p->row, "has a host already");
    }

    for (size_t k = p->first; !p->give_up && k < p->dests->n; k++) {
        const struct conductor_dest *d = &p->dests->dests[k];
        bool claimed = false;

        if (p->failed_host && !strcmp(d->host, p->failed_host)) {
            continue;
        }
        error = cell_db_node_claim_flavor(db, d->host, d->node,
                                          p->row->flavor, &claimed);
        if (error && error_kind(error) != ERROR_NOT_FOUND) {
            return error;
        }
        error_free(error);
        if (!claimed) {
            p->n_lost++;
            continue;
        }
        instance_free(p->row);
        p->row = NULL;
        error = cell_db_instance_set_host(db, p->uuid, d->host, d->node,
                                          &p->row);
        if (error) {
            return error;
        }
        p->outcome = CONDUCTOR_PLACED;
        p->chosen = k;
        return conductor_place_event(db, p, CELL_DB_ACTION_RESULT_SUCCESS,
                                     d->host);
    }

    const struct cell_db_instance_updates failed = {
        .fields = (CELL_DB_INSTANCE_VM_STATE | CELL_DB_INSTANCE_TASK_STATE
                   | CELL_DB_INSTANCE_HOST),
        .vm_state = INSTANCE_VM_ERROR,
        .task_state = INSTANCE_TASK_NONE,
    };
    instance_free(p->row);
    p->row = NULL;
    error = cell_db_instance_update(db, p->uuid, &failed, NULL, 0, &p->row);
    if (!error) {
        error = cell_db_fault_add(db, p->uuid, p->fault_code, p->fault,
                                  NULL, p->failed_host);
    }
    if (!error) {
        error = conductor_place_event(db, p, CELL_DB_ACTION_RESULT_ERROR,
                                      NULL);
    }
    return error;
}

/* Casts build_and_run_instance for placed instance 'row' with the
 * destinations after 'chosen' as alternates. */
static struct error *
conductor_build_cast(struct conductor *cond, const struct rpc_msg *msg,
                     const struct instance *row,
                     const struct conductor_dest_list *dests, size_t chosen,
                     int attempt)
{
    struct json_object *args = json_object_new_object();

    json_object_object_add(args, "instance", instance_to_json(row));
    json_object_object_add(args, "attempt", json_object_new_int(attempt));
    json_object_object_add(args, "alternates",
                           conductor_dest_list_to_json(dests, chosen + 1));
    return conductor_cast_compute(cond, msg, row->host,
                                  COMPUTE_BUILD_AND_RUN_INSTANCE, args);
}

/* Runs placement 'p' and acts on its outcome: the hook, the cast to the
 * compute host, the log line.  'attempt' is the build attempt a placed
 * instance starts.  Returns true if the placement committed (then
 * 'p->outcome' and 'p->row' say how), false if it changed nothing. */
static bool
conductor_place_run(struct conductor *cond, const struct rpc_msg *msg,
                    struct conductor_place *p, int attempt)
{
    struct log_ctx log_ctx;
    struct error *error;

    conductor_log_ctx(cond, msg, p->uuid, &log_ctx);
    error = db_txn_run(cond->db, conductor_place_txn, p);
    cond->stats.claims_lost += p->n_lost;
    if (error) {
        enum error_kind kind = error_kind(error);

        if (kind == ERROR_CONFLICT || kind == ERROR_NOT_FOUND) {
            LOG_INFO_CTX(&log_ctx, "not placing the instance: %s",
                         error_message(error));
        } else {
            /* XXX: the instance stays waiting for a host until the
             * request is redelivered to a conductor. */
            LOG_ERR_CTX(&log_ctx, "cannot place the instance: %s",
                        error_message(error));
        }
        error_free(error);
        instance_free(p->row);
        p->row = NULL;
        return false;
    }
    conductor_instance_changed(cond, p->row, &log_ctx);
    if (p->outcome == CONDUCTOR_NOT_PLACED) {
        cond->stats.build_errors++;
        LOG_INFO_CTX(&log_ctx, "instance set to error: %s", p->fault);
        return true;
    }

    cond->stats.instances_placed++;
    LOG_DBG_CTX(&log_ctx, "placed on host '%s' node '%s' (attempt %d)",
                p->row->host, p->row->node, attempt);
    error = conductor_build_cast(cond, msg, p->row, p->dests, p->chosen,
                                 attempt);
    if (!error) {
        return true;
    }

    /* Nobody will build it: undo the placement. */
    AUTOFREE char *fault = xasprintf("Cannot send the build request to "
                                     "host '%s': %s", p->row->host,
                                     error_message(error));
    AUTOFREE char *host = xstrdup(p->row->host);
    AUTOFREE char *node = xstrdup(p->row->node);
    struct conductor_place undo = {
        .uuid = p->uuid, .request_id = p->request_id, .dests = p->dests,
        .failed_host = host, .failed_node = node, .give_up = true,
        .fault_code = error_http_status(error), .fault = fault,
    };

    LOG_ERR_CTX(&log_ctx, "%s", fault);
    error_free(error);
    (void) conductor_place_run(cond, msg, &undo, attempt);
    instance_free(undo.row);
    p->outcome = CONDUCTOR_NOT_PLACED;
    return true;
}

/* ---- build_instances --------------------------------------------------- */

/* A build waiting for the scheduler's answer. */
struct conductor_build {
    struct rpc_list node;               /* In conductor->builds. */
    struct conductor *cond;
    struct rpc_request *req;            /* Deferred. */
    struct instance **instances;        /* To place; owned. */
    size_t n;
};

static void
conductor_build_free(struct conductor_build *b)
{
    if (!b) {
        return;
    }
    for (size_t i = 0; i < b->n; i++) {
        instance_free(b->instances[i]);
    }
    free(b->instances);
    free(b);
}

/* Sends every instance of 'b' to error with the fault of 'error'. */
static void
conductor_build_fail_all(struct conductor *cond, const struct rpc_msg *msg,
                         struct instance **instances, size_t n,
                         const struct error *error)
{
    const struct conductor_dest_list none = { NULL, 0 };

    for (size_t i = 0; i < n; i++) {
        struct conductor_place p = {
            .uuid = instances[i]->uuid,
            .request_id = msg->ctx.request_id,
            .dests = &none,
            .give_up = true,
            .fault_code = error_http_status(error),
            .fault = error_message(error),
        };

        (void) conductor_place_run(cond, msg, &p, 1);
        instance_free(p.row);
    }
}

static void
conductor_build_place_all(struct conductor *cond, const struct rpc_msg *msg,
                          struct instance **instances, size_t n,
                          const struct conductor_dest_list *lists)
{
    for (size_t i = 0; i < n; i++) {
        AUTOFREE char *fault = xasprintf(
            "No valid host was found. The hosts chosen for instance %s and "
            "their alternates have no room left for it.",
            instances[i]->uuid);
        struct conductor_place p = {
            .uuid = instances[i]->uuid,
            .request_id = msg->ctx.request_id,
            .dests = &lists[i],
            .fault_code = CONDUCTOR_BUILD_FAULT_CODE,
            .fault = fault,
        };

        (void) conductor_place_run(cond, msg, &p, 1);
        instance_free(p.row);
    }
}

/* The scheduler's answer (or its error, or the timeout). */
static void
conductor_build_selected(struct json_object *result, struct error *error,
                         void *aux)
{
    struct conductor_build *b = aux;
    struct conductor *cond = b->cond;
    const struct rpc_msg *msg = rpc_request_msg(b->req);
    struct conductor_dest_list *lists = NULL;

    rpc_list_remove(&b->node);
    if (cond->closing) {
        /* The request is an orphan by now: its message went back to the
         * broker for another conductor. */
        goto out;
    }
    if (!error) {
        error = conductor_select_decode_reply(result, b->n, &lists);
        if (error) {
            error = error_wrap(error, "Bad answer from the scheduler");
        }
    }
    if (error) {
        struct log_ctx log_ctx;

        conductor_log_ctx(cond, msg, b->n == 1 ? b->instances[0]->uuid
                                               : NULL, &log_ctx);
        LOG_INFO_CTX(&log_ctx, "no destination for %zu instance(s): %s",
                     b->n, error_message(error));
        conductor_build_fail_all(cond, msg, b->instances, b->n, error);
    } else {
        conductor_build_place_all(cond, msg, b->instances, b->n, lists);
    }

out:
    conductor_select_reply_free(lists, b->n);
    json_object_put(result);
    error_free(error);
    rpc_request_reply(b->req, NULL, NULL);
    conductor_build_free(b);
}

/* Records the instances of a build in one transaction. */
struct conductor_record {
    const struct rpc_msg *msg;
    struct instance **in;
    size_t n;
    struct instance **rows;             /* Out: 'n' rows as stored. */
    bool *created;                      /* Out. */
};

static struct error *
conductor_record_txn(struct db *db, void *aux)
{
    struct conductor_record *r = aux;
    const struct rpc_ctx *ctx = &r->msg->ctx;

    for (size_t i = 0; i < r->n; i++) {
        instance_free(r->rows[i]);
        r->rows[i] = NULL;
        r->created[i] = false;
    }
    for (size_t i = 0; i < r->n; i++) {
        const struct instance *inst = r->in[i];
        struct error *error = cell_db_instance_create(db, inst, &r->rows[i],
                                                      &r->created[i]);

        if (!error && r->created[i]) {
            error = cell_db_action_start(
                db, inst->uuid, "create", ctx->request_id,
                ctx->user_id ? ctx->user_id : inst->user_id,
                ctx->project_id ? ctx->project_id : inst->project_id, NULL);
        }
        if (error) {
            return error;
        }
    }
    return NULL;
}

/* ---- Builds that could not be recorded ---------------------------------- */

/* Pause before a build whose recording failed is given back to the
 * broker: long enough not to spin while the database is away. */
#define CONDUCTOR_RETRY_DELAY_MS 1000

struct conductor_retry {
    struct rpc_list node;               /* In conductor->retries. */
    struct rpc_request *req;            /* Deferred. */
    long long due_ms;
};

/* True if 'error' says nothing about the request itself: the database was
 * unreachable or the connection was lost. */
static bool
conductor_build_is_transient(const struct error *error)
{
    return error_kind(error) == ERROR_UNAVAILABLE
           || error_kind(error) == ERROR_TIMEOUT;
}

/* Defers 'req' (from its handler) and requeues it in
 * CONDUCTOR_RETRY_DELAY_MS. */
static void
conductor_build_retry_later(struct conductor *cond, struct rpc_request *req)
{
    struct conductor_retry *r = xzalloc(sizeof *r);

    rpc_request_defer(req);
    r->req = req;
    r->due_ms = poll_loop_now_ms() + CONDUCTOR_RETRY_DELAY_MS;
    rpc_list_push_back(&cond->retries, &r->node);
    cond->stats.builds_requeued++;
}

long long
conductor_build_requeue_due(struct conductor *cond, long long now_ms,
                            bool all)
{
    struct rpc_list *node, *next;
    long long next_due = LLONG_MAX;

    RPC_LIST_FOR_EACH_SAFE (node, next, &cond->retries) {
        struct conductor_retry *r =
            RPC_LIST_ENTRY(node, struct conductor_retry, node);

        if (all || r->due_ms <= now_ms) {
            rpc_list_remove(&r->node);
            rpc_request_requeue(r->req);
            free(r);
        } else if (r->due_ms < next_due) {
            next_due = r->due_ms;
        }
    }
    return next_due;
}

struct error *
conductor_build_instances(struct rpc_request *req, void *aux,
                          struct json_object **ret_result)
{
    struct conductor *cond = aux;
    const struct rpc_msg *msg = rpc_request_msg(req);
    struct conductor_build_args a;
    struct conductor_record r;
    struct conductor_build *b;
    const struct json_object *spec;
    struct log_ctx log_ctx;
    struct error *error;
    int max_attempts;

    (void) ret_result;
    cond->stats.build_requests++;
    error = conductor_build_args_decode(msg->args, &a);
    if (error) {
        return error;
    }
    spec = a.spec;
    max_attempts = a.max_attempts ? a.max_attempts : cond->max_attempts;
    for (size_t i = 0; i < a.n; i++) {
        struct instance *inst = a.instances[i];

        inst->vm_state = INSTANCE_VM_BUILDING;
        inst->task_state = INSTANCE_TASK_SCHEDULING;
        free(inst->host);
        free(inst->node);
        inst->host = inst->node = NULL;
    }

    r = (struct conductor_record) {
        .msg = msg, .in = a.instances, .n = a.n,
        .rows = xcalloc(a.n, sizeof *r.rows),
        .created = xcalloc(a.n, sizeof *r.created),
    };
    error = db_txn_run(cond->db, conductor_record_txn, &r);

    b = xzalloc(sizeof *b);
    b->cond = cond;
    b->req = req;
    b->instances = xcalloc(a.n, sizeof *b->instances);
    for (size_t i = 0; !error && i < a.n; i++) {
        struct instance *row = r.rows[i];

        conductor_log_ctx(cond, msg, row->uuid, &log_ctx);
        if (r.created[i]) {
            cond->stats.instances_recorded++;
            conductor_instance_changed(cond, row, &log_ctx);
        }
        if (row->vm_state == INSTANCE_VM_BUILDING
            && row->task_state == INSTANCE_TASK_SCHEDULING && !row->host) {
            b->instances[b->n++] = TAKE_PTR(r.rows[i]);
        } else {
            LOG_DBG_CTX(&log_ctx, "already %s, not building it again",
                        instance_vm_state_to_string(row->vm_state));
        }
    }
    for (size_t i = 0; i < a.n; i++) {
        instance_free(r.rows[i]);
    }
    free(r.rows);
    free(r.created);
    conductor_build_args_destroy(&a);
    if (error && conductor_build_is_transient(error)) {
        /* The database, not the message, failed: give the message back to
         * the broker after a pause instead of acknowledging a build that
         * was not recorded. */
        LOG_WARN_RL("cannot record a build of %zu instances, trying it "
                    "again in %d ms: %s", a.n, CONDUCTOR_RETRY_DELAY_MS,
                    error_message(error));
        error_free(error);
        conductor_build_free(b);
        conductor_build_retry_later(cond, req);
        return NULL;
    }
    if (error || !b->n) {
        conductor_build_free(b);
        return error;
    }

    /* Ask the scheduler, without blocking the loop. */
    AUTOFREE const char **uuids = xcalloc(b->n, sizeof *uuids);
    for (size_t i = 0; i < b->n; i++) {
        uuids[i] = b->instances[i]->uuid;
    }
    int n_alternates = max_attempts - 1;
    if (n_alternates > SCHED_SPEC_MAX_ALTERNATES) {
        n_alternates = SCHED_SPEC_MAX_ALTERNATES;
    }
    CLEANUP(rpc_msg_freep) struct rpc_msg *call = rpc_msg_new(
        SCHEDULER_SELECT_DESTINATIONS,
        conductor_select_encode_request(spec, uuids, b->n, n_alternates,
                                        NULL, 0));
    const struct rpc_target target = { SCHEDULER_TOPIC, NULL };

    rpc_ctx_destroy(&call->ctx);
    rpc_ctx_clone(&call->ctx, &msg->ctx);
    error = rpc_call_async(cond->conn, &target, call,
                           (int) cond->scheduler_timeout_ms,
                           conductor_build_selected, b);
    if (error) {
        conductor_build_fail_all(cond, msg, b->instances, b->n, error);
        error_free(error);
        conductor_build_free(b);
        return NULL;
    }
    rpc_request_defer(req);
    rpc_list_push_back(&cond->builds, &b->node);
    return NULL;
}

/* ---- build_failed ------------------------------------------------------ */

struct conductor_build_failed_args {
    const char *uuid;
    const char *host;
    const char *node;
    struct error *error;                /* Owned. */
    long long attempt;
    struct conductor_dest_list alternates;
};

static void
conductor_build_failed_args_destroy(struct conductor_build_failed_args *a)
{
    error_free(a->error);
    a->error = NULL;
    conductor_dest_list_destroy(&a->alternates);
}

static struct error *
conductor_build_failed_args_decode(const struct json_object *args,
                                   struct conductor_build_failed_args *a)
{
    static const char *const keys[] = {
        "instance_uuid", "host", "node", "error", "attempt", "alternates",
        NULL,
    };
    struct json_object *error_json = NULL;
    struct json_object *alternates = NULL;
    struct error *error;

    memset(a, 0, sizeof *a);
    error = json_check_allowed_keys(args, NULL, keys);
    if (!error) {
        error = conductor_get_uuid(args, "instance_uuid", &a->uuid);
    }
    if (!error) {
        error = conductor_get_host(args, "host", &a->host);
    }
    if (!error) {
        error = conductor_get_host(args, "node", &a->node);
    }
    if (!error) {
        error = json_get_object(args, NULL, "error", true, &error_json);
    }
    if (!error) {
        error = json_get_int(args, NULL, "attempt", true, 1,
                             CONDUCTOR_MAX_MAX_ATTEMPTS, &a->attempt);
    }
    if (!error) {
        error = json_get_array(args, NULL, "alternates", false, 0,
                               &alternates);
    }
    if (!error && alternates) {
        error = conductor_dest_list_from_json(alternates, "alternates",
                                              &a->alternates);
    }
    if (error) {
        return error;
    }
    a->error = error_from_json(error_json);
    return NULL;
}

struct error *
conductor_build_failed_validate(const struct json_object *args)
{
    struct conductor_build_failed_args a;
    struct error *error = conductor_build_failed_args_decode(args, &a);

    conductor_build_failed_args_destroy(&a);
    return error;
}

struct error *
conductor_build_failed(struct rpc_request *req, void *aux,
                       struct json_object **ret_result)
{
    struct conductor *cond = aux;
    const struct rpc_msg *msg = rpc_request_msg(req);
    struct conductor_build_failed_args a;
    AUTOFREE char *fault = NULL;
    struct log_ctx log_ctx;
    struct error *error;
    bool give_up;

    (void) ret_result;
    error = conductor_build_failed_args_decode(msg->args, &a);
    if (error) {
        return error;
    }
    conductor_log_ctx(cond, msg, a.uuid, &log_ctx);
    LOG_INFO_CTX(&log_ctx, "build attempt %lld failed on host '%s': %s",
                 a.attempt, a.host, error_message(a.error));

    give_up = a.attempt >= cond->max_attempts;
    if (give_up) {
        fault = xasprintf("No valid host was found. Exceeded max scheduling "
                          "attempts %d for instance %s. Last exception: %s",
                          cond->max_attempts, a.uuid,
                          error_message(a.error));
    } else {
        fault = xasprintf("No valid host was found. Exhausted all hosts "
                          "available for retrying build failures for "
                          "instance %s. Last exception: %s", a.uuid,
                          error_message(a.error));
    }

    struct conductor_place p = {
        .uuid = a.uuid,
        .request_id = msg->ctx.request_id,
        .dests = &a.alternates,
        .failed_host = a.host,
        .failed_node = a.node,
        .give_up = give_up,
        .fault_code = CONDUCTOR_BUILD_FAULT_CODE,
        .fault = fault,
    };
    if (conductor_place_run(cond, msg, &p, (int) a.attempt + 1)
        && p.outcome == CONDUCTOR_PLACED) {
        cond->stats.reschedules++;
        LOG_INFO_CTX(&log_ctx, "rescheduled to host '%s' (attempt %lld)",
                     p.row->host, a.attempt + 1);
    }
    instance_free(p.row);
    conductor_build_failed_args_destroy(&a);
    return NULL;
}
