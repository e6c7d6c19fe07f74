/* cells-build.c: build_instance down the tree (see cells-build.h). */
#include <config.h>

#include "child-cell/cells-build.h"

#include <json-c/json.h>
#include <string.h>

#include "api-cell/top-view.h"
#include "cells-rpc/cell-capacity.h"
#include "cells-rpc/cell-msg.h"
#include "cells-rpc/cell-node.h"
#include "cells-rpc/cell-path.h"
#include "cells-rpc/cell-sched.h"
#include "cells-rpc/cells-rpcapi.h"
#include "cells-rpc/rpc-msg.h"
#include "cells-rpc/rpc-server.h"
#include "child-cell/cells-private.h"
#include "child-cell/rpcapi.h"
#include "shared/error.h"
#include "shared/flavor.h"
#include "shared/instance.h"
#include "shared/json-util.h"
#include "shared/log.h"
#include "shared/poll-loop.h"
#include "shared/timeutil.h"
#include "shared/topology.h"
#include "shared/xalloc.h"

LOG_MODULE("cells.build");

#define NO_VALID_HOST "No valid host was found."
/* Longest cell path a scheduler hint may name. */
#define CELLS_BUILD_MAX_HINT_LENGTH CELL_PATH_MAX_LENGTH
/* Attempts at building on hosts when nova-api does not say (the
 * conductor's default). */
#define CELLS_BUILD_DEFAULT_MAX_ATTEMPTS 3
#define CELLS_BUILD_MAX_MAX_ATTEMPTS 100

/* One build being placed by this cell. */
struct cells_build {
    struct cells_service *svc;
    struct json_object *args;       /* The build_instance arguments. */
    struct rpc_ctx ctx;
    long long deadline_ms;          /* Epoch ms; 0: none. */
    struct cell_request *req;       /* From the parent, deferred; NULL at
                                     * the root. */
    struct instance *inst;
    struct cell_sched_selection *selection;
    struct cells_child **choices;   /* In the order to try; NULL stands
                                     * for this cell's own hosts. */
    size_t n_choices;
    size_t next;                    /* Next choice to try. */
    size_t n_sent;                  /* Children tried so far. */
    char *why;                      /* Why the last choice failed. */
};

/* Takes what one instance of 'size' needs from 'cap' (NULL-safe), until
 * the next report replaces it: without this every build between two
 * reports would go to the same child, which then refuses or fills in
 * waves while its siblings idle. */
static void
cells_capacity_consume(struct cell_capacity *cap,
                       const struct cell_capacity_flavor *size)
{
    if (!cap) {
        return;
    }
    cap->free.ram_mb -= MIN(cap->free.ram_mb, size->ram_mb);
    cap->free.vcpus -= MIN(cap->free.vcpus, size->vcpus);
    cap->free.disk_gb -= MIN(cap->free.disk_gb, size->disk_gb);
    for (size_t i = 0; i < cap->n_units; i++) {
        struct cell_capacity_units *u = &cap->units[i];
        int64_t fits = u->flavor.ram_mb > 0
                       ? cap->free.ram_mb / u->flavor.ram_mb : u->units;

        if (u->flavor.vcpus > 0) {
            fits = MIN(fits, cap->free.vcpus / u->flavor.vcpus);
        }
        if (u->flavor.disk_gb > 0) {
            fits = MIN(fits, cap->free.disk_gb / u->flavor.disk_gb);
        }
        if (u->flavor.vcpus == size->vcpus
            && u->flavor.ram_mb == size->ram_mb
            && u->flavor.disk_gb == size->disk_gb && u->units > 0) {
            u->units--;
        }
        u->units = MIN(u->units, fits);
    }
}

/* The size of the instance a build places. */
static struct cell_capacity_flavor
cells_build_size(const struct cells_build *b)
{
    const struct flavor *f = b->inst->flavor;
    const struct cell_capacity_flavor size = {
        .vcpus = f->vcpus,
        .ram_mb = f->memory_mb,
        .disk_gb = f->root_gb + f->ephemeral_gb,
    };

    return size;
}

static void
cells_build_free(struct cells_build *b)
{
    if (!b) {
        return;
    }
    json_object_put(b->args);
    rpc_ctx_destroy(&b->ctx);
    instance_free(b->inst);
    cell_sched_selection_free(b->selection);
    free(b->choices);
    free(b->why);
    free(b);
}
DEFINE_FREEP(struct cells_build, cells_build_free)

/* 'message' without a leading "No valid host was found. ". */
static const char *
cells_build_strip(const char *message)
{
    size_t n = strlen(NO_VALID_HOST);

    if (!strncmp(message, NO_VALID_HOST, n)) {
        message += n;
        while (*message == ' ') {
            message++;
        }
    }
    return message;
}

static void
cells_build_set_why(struct cells_build *b, const char *fmt_path,
                    const char *message)
{
    free(b->why);
    b->why = (fmt_path
              ? xasprintf("Cell '%s': %s", fmt_path,
                          cells_build_strip(message))
              : xstrdup(cells_build_strip(message)));
}

/* The error that says no cell could take the build. */
static struct error *
cells_build_no_valid_host(const struct cells_build *b)
{
    return error_new(ERROR_NO_VALID_HOST, NO_VALID_HOST " %s",
                     b->why ? b->why : "No cell could take the instance.");
}

/* Reads the arguments of build_instance into a new build. */
static struct error *
cells_build_new(struct cells_service *svc, const struct json_object *args,
                const struct rpc_ctx *ctx, long long deadline_ms,
                struct cells_build **ret_build)
{
    CLEANUP(cells_build_freep) struct cells_build *b = NULL;
    struct json_object *inst_json;
    struct json_object *spec;
    long long max_attempts = CELLS_BUILD_DEFAULT_MAX_ATTEMPTS;
    struct error *error;

    error = json_get_object(args, NULL, "instance", true, &inst_json);
    if (!error) {
        error = json_get_object(args, NULL, "spec", true, &spec);
    }
    if (!error) {
        error = json_get_int(args, NULL, "max_attempts", false, 1,
                             CELLS_BUILD_MAX_MAX_ATTEMPTS,
                             &max_attempts);
    }
    if (error) {
        return error;
    }
    b = xzalloc(sizeof *b);
    b->svc = svc;
    rpc_ctx_clone(&b->ctx, ctx);
    b->deadline_ms = deadline_ms;
    error = instance_from_json(inst_json, "instance", &b->inst);
    if (error) {
        return error;
    }
    if (!b->inst->flavor) {
        return error_new(ERROR_INVALID, "The instance to build has no "
                         "flavor");
    }
    b->args = json_object_new_object();
    json_object_object_add(b->args, "instance", json_object_get(inst_json));
    json_object_object_add(b->args, "spec", json_object_get(spec));
    json_object_object_add(b->args, "max_attempts",
                           json_object_new_int64(max_attempts));
    *ret_build = TAKE_PTR(b);
    return NULL;
}

/* At a leaf: refuses a flavor that the latest report of this cell has no
 * room for, otherwise casts build_instances to the conductor. */
static struct error *
cells_build_at_leaf(struct cells_build *b, struct json_object **ret_result)
{
    struct cells_service *svc = b->svc;
    const struct flavor *f = b->inst->flavor;
    struct json_object *spec;
    struct json_object *args;
    struct json_object *instances;
    struct error *error;

    if (svc->own_capacity) {
        const struct cell_capacity_flavor size = {
            .vcpus = f->vcpus,
            .ram_mb = f->memory_mb,
            .disk_gb = f->root_gb + f->ephemeral_gb,
        };

        if (cell_capacity_units(svc->own_capacity, &size, NULL) < 1) {
            svc->stats.builds_failed++;
            return error_new(ERROR_NO_VALID_HOST, NO_VALID_HOST " Cell "
                             "'%s' has no room for flavor '%s' (%lld "
                             "vCPUs, %lld MiB RAM, %lld GiB disk).",
                             svc->path, f->flavorid ? f->flavorid : "-",
                             (long long) size.vcpus,
                             (long long) size.ram_mb,
                             (long long) size.disk_gb);
        }
    }
    spec = json_object_object_get(b->args, "spec");
    args = json_object_new_object();
    instances = json_object_new_array();
    json_object_array_add(instances, json_object_get(
        json_object_object_get(b->args, "instance")));
    json_object_object_add(args, "spec", json_object_get(spec));
    json_object_object_add(args, "instances", instances);
    json_object_object_add(args, "max_attempts", json_object_get(
        json_object_object_get(b->args, "max_attempts")));
    error = cells_cast_conductor(svc, &b->ctx, CONDUCTOR_BUILD_INSTANCES,
                                 args);
    if (error) {
        return error_wrap(error, "Cannot cast build_instances to the "
                          "conductor of cell '%s'", svc->path);
    }
    svc->stats.builds_cast++;
    const struct cell_capacity_flavor taken = cells_build_size(b);
    cells_capacity_consume(svc->own_capacity, &taken);
    LOG_INFO("instance %s: build_instances cast to the conductor",
             b->inst->uuid);
    *ret_result = json_object_new_object();
    json_object_object_add(*ret_result, "cell_path",
                           json_object_new_string(svc->path));
    return NULL;
}

/* Reads a string from the spec's scheduler hints, or NULL. */
static const char *
cells_build_hint(const struct json_object *hints, const char *key)
{
    const char *value = NULL;
    struct error *error;

    if (!hints) {
        return NULL;
    }
    error = json_get_string(hints, "scheduler_hints", key, false,
                            CELLS_BUILD_MAX_HINT_LENGTH, &value);
    if (error) {
        error_free(error);
        return NULL;
    }
    return value;
}

/* Orders the children for the build.  Returns NULL, or the scheduler's
 * error (NoValidHost when no child passes its filters). */
static struct error *
cells_build_schedule(struct cells_build *b)
{
    struct cells_service *svc = b->svc;
    const struct instance *inst = b->inst;
    struct json_object *spec = json_object_object_get(b->args, "spec");
    struct json_object *hints = NULL;
    struct json_object *az_json = NULL;
    struct cell_sched_candidate *candidates;
    struct cell_sched_request request;
    const char *different[CELL_SCHED_MAX_HINT_CELLS];
    struct error *error;
    size_t n_candidates;

    cell_sched_request_init(&request);
    request.flavor.vcpus = inst->flavor->vcpus;
    request.flavor.ram_mb = inst->flavor->memory_mb;
    request.flavor.disk_gb = inst->flavor->root_gb
                             + inst->flavor->ephemeral_gb;
    request.num_instances = 1;
    if (inst->image) {
        request.image_architecture = instance_image_get_property(
            inst->image, "architecture");
        request.image_hypervisor_type = instance_image_get_property(
            inst->image, "hypervisor_type");
    }
    if (json_object_object_get_ex(spec, "availability_zone", &az_json)
        && json_object_is_type(az_json, json_type_string)) {
        request.availability_zone = json_object_get_string(az_json);
    }
    if (json_object_object_get_ex(spec, "scheduler_hints", &hints)
        && json_object_is_type(hints, json_type_object)) {
        struct json_object *list;

        request.target_cell = cells_build_hint(hints, "target_cell");
        if (json_object_object_get_ex(hints, "different_cell", &list)) {
            if (json_object_is_type(list, json_type_string)) {
                different[request.n_different_cell++]
                    = json_object_get_string(list);
            } else if (json_object_is_type(list, json_type_array)) {
                size_t n = json_object_array_length(list);

                for (size_t i = 0; i < n && i < ARRAY_SIZE(different);
                     i++) {
                    struct json_object *item
                        = json_object_array_get_idx(list, i);

                    if (json_object_is_type(item, json_type_string)) {
                        different[request.n_different_cell++]
                            = json_object_get_string(item);
                    }
                }
            }
            request.different_cell = different;
        }
    } else {
        hints = NULL;
    }
    request.is_admin = b->ctx.is_admin;
    request.now_ms = poll_loop_now_ms();
    request.max_choices = (size_t) svc->scheduler_retries;

    candidates = xcalloc(svc->n_children + 1, sizeof *candidates);
    for (size_t i = 0; i < svc->n_children; i++) {
        const struct cells_child *child = &svc->children[i];

        candidates[i].path = child->cell->path;
        candidates[i].capacity = child->capacity;
        candidates[i].health = &child->health;
        candidates[i].disabled = child->cell->disabled;
        candidates[i].weight_offset = child->cell->weight_offset;
        candidates[i].weight_scale = child->cell->weight_scale;
    }
    n_candidates = svc->n_children;
    if (svc->is_leaf) {
        /* Hosts of its own beside children: this cell is a candidate
         * too, with the report of those hosts alone (not of its subtree)
         * and no weight of its own: weight_offset and weight_scale of
         * cells.yaml rank it among its siblings, one level up. */
        struct cell_sched_candidate *self = &candidates[n_candidates++];

        self->path = svc->path;
        self->capacity = svc->own_capacity;
        self->health = NULL;
        self->disabled = false;
        self->weight_offset = 0.0;
        self->weight_scale = 1.0;
    }
    error = cell_sched_select(svc->sched, &request, candidates,
                              n_candidates, &svc->rng, &b->selection);
    free(candidates);
    if (error) {
        return error;
    }
    b->n_choices = b->selection->n_choices;
    b->choices = xcalloc(b->n_choices ? b->n_choices : 1,
                         sizeof *b->choices);
    for (size_t i = 0; i < b->n_choices; i++) {
        size_t c = b->selection->choices[i].candidate;

        b->choices[i] = c < svc->n_children ? &svc->children[c] : NULL;
    }
    return NULL;
}

static void cells_build_replied(struct cell_reply *reply, void *b_);

/* What cells_build_next() did. */
enum cells_build_step {
    CELLS_BUILD_SENT,           /* A request is in flight to a child. */
    CELLS_BUILD_PLACED,         /* Cast to this cell's own conductor. */
    CELLS_BUILD_EXHAUSTED,      /* No choice left. */
};

/* Sends the build to the next choice that may take a request: a child, or
 * this cell's own conductor when the choice is its own hosts (then the
 * result, owned by the caller, is in '*ret_result'). */
static enum cells_build_step
cells_build_next(struct cells_build *b, struct json_object **ret_result)
{
    struct cells_service *svc = b->svc;

    while (b->next < b->n_choices
           && b->n_sent < (size_t) svc->scheduler_retries) {
        struct cells_child *child = b->choices[b->next++];
        long long now = poll_loop_now_ms();
        struct cell_msg *msg;
        struct error *error;

        if (!child) {
            b->n_sent++;
            error = cells_build_at_leaf(b, ret_result);
            if (!error) {
                return CELLS_BUILD_PLACED;
            }
            cells_build_set_why(b, svc->path, error_message(error));
            LOG_INFO("instance %s: the hosts of cell '%s' did not take the "
                     "build: %s", b->inst->uuid, svc->path, b->why);
            error_free(error);
            continue;
        }
        if (!cell_health_start_request(&child->health, now)) {
            cells_build_set_why(b, child->cell->path, "not taking requests "
                                "(circuit breaker open)");
            continue;
        }
        error = cell_msg_new_targeted(svc->path, child->cell->path,
                                      CELLS_MSG_BUILD_INSTANCE,
                                      json_object_get(b->args), &msg);
        if (!error) {
            rpc_ctx_destroy(&msg->ctx);
            rpc_ctx_clone(&msg->ctx, &b->ctx);
            msg->need_response = true;
            error = cell_node_send(svc->node, msg,
                                   cells_timeout_below(b->deadline_ms),
                                   cells_build_replied, b);
        }
        if (error) {
            cell_health_record_failure(&child->health, now);
            cells_build_set_why(b, child->cell->path, error_message(error));
            error_free(error);
            continue;
        }
        b->n_sent++;
        svc->stats.builds_forwarded++;
        const struct cell_capacity_flavor size = cells_build_size(b);
        cells_capacity_consume(child->capacity, &size);
        LOG_INFO("instance %s: build sent to cell '%s'", b->inst->uuid,
                 child->cell->path);
        return CELLS_BUILD_SENT;
    }
    return CELLS_BUILD_EXHAUSTED;
}

/* The fault of a build that no cell could take. */
static struct json_object *
cells_build_fault(const struct error *error)
{
    struct json_object *fault = json_object_new_object();
    char created[TIME_ISO8601_SIZE];

    if (time_format_iso8601(time_now_ms(), TIME_STYLE_MICROS, created,
                            sizeof created)) {
        created[0] = '\0';
    }
    json_object_object_add(fault, "code", json_object_new_int(500));
    json_object_object_add(fault, "message",
                           json_object_new_string(error_message(error)));
    json_object_object_add(fault, "details", json_object_new_string(""));
    json_object_object_add(fault, "created",
                           json_object_new_string(created));
    return fault;
}

/* At the root: records in the top view that the build of instance 'uuid'
 * failed with 'why'. */
static void
cells_build_fail_at_top(struct cells_service *svc, const char *uuid,
                        const struct error *why)
{
    CLEANUP(json_putp) struct json_object *fault = cells_build_fault(why);
    struct error *error;

    svc->stats.builds_failed++;
    LOG_WARN("instance %s: %s", uuid, error_message(why));
    error = top_view_set_error(svc->api_db, uuid, fault);
    if (error) {
        LOG_ERR("instance %s: cannot record the failed build in the top "
                "view: %s", uuid, error_message(error));
        error_free(error);
    }
}

/* Ends build 'b' (taken) with 'result' or 'error' (taken): answers the
 * parent, or records a failure in the top view at the root. */
static void
cells_build_finish(struct cells_build *b, struct json_object *result,
                   struct error *error)
{
    if (b->req) {
        cell_request_reply(b->req, result, error);
        b->req = NULL;
    } else {
        if (error && b->svc->closing) {
            /* The build did not fail: this process is stopping.  XXX: the
             * instance stays "building" in the top view until it is
             * built again. */
            LOG_WARN("instance %s: build abandoned: %s", b->inst->uuid,
                     error_message(error));
        } else if (error) {
            cells_build_fail_at_top(b->svc, b->inst->uuid, error);
        }
        error_free(error);
        json_object_put(result);
    }
    cells_build_free(b);
}

static void
cells_build_replied(struct cell_reply *reply, void *b_)
{
    struct cells_build *b = b_;
    struct cells_service *svc = b->svc;
    struct cells_child *child = b->choices[b->next - 1];
    long long now = poll_loop_now_ms();
    const struct cell_reply_item *item = (reply->n_items
                                          ? &reply->items[0] : NULL);
    struct json_object *result = NULL;

    if (!reply->error && item && !item->error) {
        result = json_object_get(item->result);
        cell_health_record_success(&child->health, now);
        cell_reply_free(reply);
        cells_build_finish(b, result, NULL);
        return;
    }
    if (reply->error || !item) {
        /* Not answered: the child's health suffers. */
        cell_health_record_failure(&child->health, now);
        cells_build_set_why(b, child->cell->path,
                            reply->error ? error_message(reply->error)
                                         : "no answer");
    } else {
        /* Answered that it cannot take it: it is alive. */
        cell_health_record_success(&child->health, now);
        cells_build_set_why(b, NULL, error_message(item->error));
    }
    LOG_INFO("instance %s: cell '%s' did not take the build: %s",
             b->inst->uuid, child->cell->path, b->why);
    cell_reply_free(reply);
    if (svc->closing) {
        cells_build_finish(b, NULL, error_new(ERROR_UNAVAILABLE,
                                              "nova-cells is stopping"));
        return;
    }
    switch (cells_build_next(b, &result)) {
    case CELLS_BUILD_SENT:
        break;
    case CELLS_BUILD_PLACED:
        cells_build_finish(b, result, NULL);
        break;
    case CELLS_BUILD_EXHAUSTED:
    default:
        cells_build_finish(b, NULL, cells_build_no_valid_host(b));
        break;
    }
}

/* Starts build 'b' (taken) at this cell.  Returns NULL when the build is
 * in flight (then 'b' belongs to the reply callback), or stores the
 * outcome in '*ret_result' or the returned error. */
static struct error *
cells_build_start(struct cells_build *b, struct json_object **ret_result)
{
    CLEANUP(cells_build_freep) struct cells_build *owned = b;
    struct cells_service *svc = b->svc;
    struct error *error;

    svc->stats.builds++;
    if (!svc->n_children) {
        if (!svc->is_leaf) {
            return error_new(ERROR_NO_VALID_HOST, NO_VALID_HOST " Cell "
                             "'%s' has neither children nor hosts.",
                             svc->path);
        }
        return cells_build_at_leaf(b, ret_result);
    }
    error = cells_build_schedule(b);
    if (error) {
        if (error_kind(error) != ERROR_NO_VALID_HOST) {
            return error;
        }
        cells_build_set_why(b, NULL, error_message(error));
        error_free(error);
        return cells_build_no_valid_host(b);
    }
    switch (cells_build_next(b, ret_result)) {
    case CELLS_BUILD_SENT:
        owned = NULL;
        *ret_result = NULL;
        return NULL;
    case CELLS_BUILD_PLACED:
        return NULL;
    case CELLS_BUILD_EXHAUSTED:
    default:
        return cells_build_no_valid_host(b);
    }
}

struct error *
cells_build_local(struct rpc_request *req, void *svc_,
                  struct json_object **ret_result)
{
    struct cells_service *svc = svc_;
    const struct rpc_msg *msg = rpc_request_msg(req);
    struct cells_build *b;
    struct json_object *result = NULL;
    struct error *error;

    (void) ret_result;
    error = cells_build_new(svc, msg->args, &msg->ctx, msg->deadline_ms,
                            &b);
    if (error) {
        LOG_WARN("refusing build_instance: %s", error_message(error));
        return error;
    }
    CLEANUP(freep) char *uuid = xstrdup(b->inst->uuid);
    error = cells_build_start(b, &result);
    json_object_put(result);
    if (error) {
        /* Nothing below took it: the API must show the failure. */
        cells_build_fail_at_top(svc, uuid, error);
        error_free(error);
    }
    return NULL;
}

struct error *
cells_build_cell(struct cell_request *req, void *svc_,
                 struct json_object **ret_result)
{
    struct cells_service *svc = svc_;
    const struct cell_msg *msg = cell_request_msg(req);
    struct cells_build *b;
    struct json_object *result = NULL;
    struct error *error;

    error = cells_build_new(svc, msg->args, &msg->ctx, msg->deadline_ms,
                            &b);
    if (error) {
        return error;
    }
    b->req = req;
    error = cells_build_start(b, &result);
    if (error) {
        return error;
    }
    if (result) {
        *ret_result = result;
        return NULL;
    }
    cell_request_defer(req);
    return NULL;
}
