/* compute-manager.c: the nova-compute service (see compute-manager.h).
 *
 * Shape of the code.  Everything here runs on the manager's thread except
 * the *_work() functions, which run on a worker and touch only their own
 * job structure and the (thread-safe) driver, and
 * compute_manager_event_cb(), which runs on libvirt's event thread and
 * only queues.
 *
 * Per-instance work is a 'struct compute_op' in one list, in arrival
 * order.  An op starts when no earlier op in the list has its instance
 * uuid (the per-instance lane), then moves through steps, each of which is
 * either a worker job or a conductor call whose completion calls the next
 * step; 'busy' says that such a completion is pending, so that whoever
 * tears the manager down knows who frees the op (the completion does, with
 * 'stopping' set).  The kinds of op:
 *
 *   build      update task_state spawning (expected scheduling), ack the
 *              cast, spawn, wait for the boot when asked to, update active
 *              (expected spawning) or destroy what was built and cast
 *              build_failed with the attempt and alternates
 *   terminate  destroy, cast instance_destroyed
 *   action     reboot, stop, start, pause, unpause, suspend, resume: the
 *              driver call, then an update with the resulting vm_state and
 *              power_state and task_state null (expected the action's own
 *              task states), and an action event
 *   sync       power-state sync of one instance (compute-sync.h), with the
 *              facts gathered first (after an event) or given (periodic)
 *   recover    what the recovery at start decided for one instance
 *
 * Host-level work (start-up checks, inventory, listing the domains for a
 * sync or the recovery) uses 'struct compute_host_job' the same way.
 *
 * Which conductor messages retry: every call and cast goes through
 * compute-conductor.c, which retries timeouts and an unreachable broker
 * with backoff (compute.conductor_retries attempts); instance_update,
 * instances_on_host and instance_get are calls, the rest are casts that
 * the RPC layer confirms and republishes. */
#include <config.h>
#include "child-cell/compute-manager.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <json-c/json.h>

#include "cells-rpc/rpc-msg.h"
#include "cells-rpc/rpc-server.h"
#include "cells-rpc/rpc.h"
#include "child-cell/compute-image-cache.h"
#include "child-cell/compute-queue.h"
#include "child-cell/compute-snapshot.h"
#include "child-cell/compute-spec.h"
#include "child-cell/compute-sync.h"
#include "child-cell/compute-workers.h"
#include "child-cell/rpcapi.h"
#include "shared/error.h"
#include "shared/flavor.h"
#include "shared/instance.h"
#include "shared/json-util.h"
#include "shared/log.h"
#include "shared/poll-loop.h"
#include "shared/timeutil.h"
#include "shared/uuid-util.h"
#include "shared/xalloc.h"

LOG_MODULE("compute.manager");

/* How long compute_manager_free() lets the broker confirm what was sent. */
#define COMPUTE_MANAGER_FLUSH_MS 5000
/* Subdirectory of the state path for per-instance files. */
#define COMPUTE_MANAGER_INSTANCES_DIR "instances"
/* Most alternates and most instances accepted from the conductor. */
#define COMPUTE_MANAGER_MAX_HOST_INSTANCES 100000u
/* Longest reboot_type. */
#define COMPUTE_MANAGER_REBOOT_TYPE_MAX_LENGTH 16
/* Longest "details" of an action event, in bytes (the conductor keeps
 * up to 64 KiB; an error message is far shorter unless something went
 * very wrong). */
#define COMPUTE_MANAGER_MAX_DETAILS 4096
/* Largest get_console_output 'length' (lines). */
#define COMPUTE_MANAGER_MAX_CONSOLE_LINES 1000000LL

/* ---- Actions --------------------------------------------------------- */

enum compute_action_kind {
    COMPUTE_ACTION_REBOOT,
    COMPUTE_ACTION_STOP,
    COMPUTE_ACTION_START,
    COMPUTE_ACTION_PAUSE,
    COMPUTE_ACTION_UNPAUSE,
    COMPUTE_ACTION_SUSPEND,
    COMPUTE_ACTION_RESUME,
};

/* Most task states one action accepts. */
#define COMPUTE_ACTION_MAX_EXPECTED 6

/* One power action: its RPC method, the instance action event it records,
 * the vm_state it leaves on success and the task states the conductor
 * sets before casting it (the expected_task_state of the final update). */
struct compute_action {
    enum compute_action_kind kind;
    const char *method;
    const char *event;
    enum instance_vm_state vm_state;
    enum instance_task_state expected[COMPUTE_ACTION_MAX_EXPECTED];
    size_t n_expected;
    bool error_on_failure;      /* Failure leaves vm_state error (Nova's
                                 * reboot); otherwise vm_state stays. */
};

static const struct compute_action compute_actions[] = {
    { COMPUTE_ACTION_REBOOT, COMPUTE_REBOOT_INSTANCE,
      "compute_reboot_instance", INSTANCE_VM_ACTIVE,
      { INSTANCE_TASK_REBOOTING, INSTANCE_TASK_REBOOT_PENDING,
        INSTANCE_TASK_REBOOT_STARTED, INSTANCE_TASK_REBOOTING_HARD,
        INSTANCE_TASK_REBOOT_PENDING_HARD,
        INSTANCE_TASK_REBOOT_STARTED_HARD }, 6, true },
    { COMPUTE_ACTION_STOP, COMPUTE_STOP_INSTANCE, "compute_stop_instance",
      INSTANCE_VM_STOPPED, { INSTANCE_TASK_POWERING_OFF }, 1, false },
    { COMPUTE_ACTION_START, COMPUTE_START_INSTANCE, "compute_start_instance",
      INSTANCE_VM_ACTIVE, { INSTANCE_TASK_POWERING_ON }, 1, false },
    { COMPUTE_ACTION_PAUSE, COMPUTE_PAUSE_INSTANCE, "compute_pause_instance",
      INSTANCE_VM_PAUSED, { INSTANCE_TASK_PAUSING }, 1, false },
    { COMPUTE_ACTION_UNPAUSE, COMPUTE_UNPAUSE_INSTANCE,
      "compute_unpause_instance", INSTANCE_VM_ACTIVE,
      { INSTANCE_TASK_UNPAUSING }, 1, false },
    { COMPUTE_ACTION_SUSPEND, COMPUTE_SUSPEND_INSTANCE,
      "compute_suspend_instance", INSTANCE_VM_SUSPENDED,
      { INSTANCE_TASK_SUSPENDING }, 1, false },
    { COMPUTE_ACTION_RESUME, COMPUTE_RESUME_INSTANCE,
      "compute_resume_instance", INSTANCE_VM_ACTIVE,
      { INSTANCE_TASK_RESUMING }, 1, false },
};

#define COMPUTE_EVENT_BUILD "compute__do_build_and_run_instance"
#define COMPUTE_EVENT_TERMINATE "compute_terminate_instance"

/* ---- State ----------------------------------------------------------- */

enum compute_host_phase {
    COMPUTE_HOST_STARTING,      /* init_host not done yet. */
    COMPUTE_HOST_RECOVERING,    /* Recovery at start in progress. */
    COMPUTE_HOST_SERVING,       /* Consuming its queue. */
};

struct compute_host {
    struct compute_manager *mgr;
    char *name;
    char *node;                 /* hypervisor_hostname once reported. */
    struct virt_driver *driver;
    struct rpc_server *server;
    enum compute_host_phase phase;

    long long next_init_ms;     /* While STARTING and not busy. */
    bool init_busy;
    long long next_heartbeat_ms;
    long long next_report_ms;
    bool report_busy;
    bool report_again;          /* Asked for while busy. */
    long long next_sync_ms;
    bool sync_busy;             /* A periodic sync or the recovery. */
    bool recover_pending;       /* The recovery still has to succeed. */
    bool serve_pending;         /* Start the server at the next run. */
};

enum compute_op_kind {
    COMPUTE_OP_BUILD,
    COMPUTE_OP_TERMINATE,
    COMPUTE_OP_ACTION,
    COMPUTE_OP_SYNC,
    COMPUTE_OP_RECOVER,
};

struct compute_op {
    struct compute_op *prev, *next;
    struct compute_manager *mgr;
    struct compute_host *host;
    enum compute_op_kind kind;
    char uuid[UUID_STRING_SIZE];
    char *request_id;
    struct instance *inst;          /* NULL for an event's sync until the
                                     * conductor answers. */
    bool started;
    bool busy;                      /* A completion is pending. */
    int64_t start_time_ms;          /* Wall clock, for action events. */

    /* Build. */
    struct rpc_request *req;        /* The deferred cast, until acked. */
    long long attempt;
    struct json_object *alternates; /* JSON array of DEST. */
    struct compute_spec *spec;
    bool boot_wait;                 /* Waiting for the next boot check. */
    long long boot_deadline_ms;
    long long next_boot_check_ms;

    /* Action. */
    const struct compute_action *action;
    enum virt_reboot_type reboot_type;

    /* Sync and recovery. */
    bool have_facts;                /* 'found' and 'power' are known. */
    struct compute_sync_decision decision;
    enum compute_recover_action recover;

    /* Worker results (written by the worker, read after 'done'). */
    struct error *error;
    bool found;
    enum instance_power_state power;
    bool booted;
    char *boot_problem;             /* Why the boot failed. */
    enum error_kind boot_kind;      /* ERROR_TIMEOUT or ERROR_INTERNAL. */
};

struct compute_manager {
    struct compute_manager_options options;
    char *transport_url;
    char *instances_dir;
    char *boot_marker;
    bool boot_check;                /* Builds wait for the boot. */

    struct rpc_conn *conn;
    struct compute_conductor *conductor;
    struct compute_workers *workers;
    struct compute_queue *events;

    struct compute_host *hosts;
    size_t n_hosts;

    struct compute_op *ops_head, *ops_tail;
    size_t n_ops;
    bool kick;                      /* Ops may be startable. */
    bool stopping;

    struct compute_image_cache *image_cache;
    long long next_image_clean_ms;
    bool image_clean_busy;
};

/* A lifecycle event on its way from the event thread. */
struct compute_event {
    struct compute_queue_node node;
    struct compute_host *host;
    char uuid[UUID_STRING_SIZE];
    enum virt_event event;
};

enum compute_host_job_kind {
    COMPUTE_HOST_JOB_INIT,
    COMPUTE_HOST_JOB_REPORT,
    COMPUTE_HOST_JOB_LIST,
};

/* A host-level worker job. */
struct compute_host_job {
    struct compute_host *host;
    enum compute_host_job_kind kind;
    bool recovering;                /* LIST: for the recovery at start. */
    struct instance_list *db;       /* LIST: the conductor's instances. */
    struct error *error;
    struct virt_inventory *inventory;
    struct virt_instance_list *list;
};

/* get_console_output in progress. */
struct compute_console_job {
    struct compute_host *host;
    struct rpc_request *req;
    char uuid[UUID_STRING_SIZE];
    long long n_lines;
    struct error *error;
    char *output;
    size_t size;
};

static void compute_manager_op_start(struct compute_op *);
static void compute_manager_request_report(struct compute_host *);
static void compute_manager_build_failed(struct compute_op *,
                                         struct error *);

/* ---- Small helpers ----------------------------------------------------- */

static void
compute_manager_log_ctx(const struct compute_op *op, struct log_ctx *ctx)
{
    ctx->request_id = op->request_id;
    ctx->instance_uuid = op->uuid;
    ctx->cell_path = NULL;
}

static enum instance_power_state
compute_manager_power(enum virt_power_state state)
{
    enum instance_power_state power;

    /* The two enums carry Nova's numbers; an unknown value is NOSTATE. */
    return instance_power_state_from_int((long long) state, &power)
           ? INSTANCE_POWER_NOSTATE : power;
}

/* Returns the wall-clock time 'ms' as the INSTANCE shape writes times. */
static struct json_object *
compute_manager_time_json(int64_t ms)
{
    char buf[TIME_ISO8601_SIZE];

    if (time_format_iso8601(ms, TIME_STYLE_MICROS, buf, sizeof buf)) {
        return NULL;
    }
    return json_object_new_string(buf);
}

static struct json_object *
compute_manager_task_json(enum instance_task_state task)
{
    const char *name = instance_task_state_to_nullable(task);

    return name ? json_object_new_string(name) : NULL;
}

static const char *
compute_manager_node(const struct compute_op *op)
{
    return op->inst && op->inst->node ? op->inst->node : op->host->node;
}

/* ---- Conductor messages ------------------------------------------------ */

/* Queues instance_update of 'op's instance with 'updates' (taken),
 * expecting one of the 'n_expected' task states; 'cb' gets the outcome. */
static void
compute_manager_update(struct compute_op *op, struct json_object *updates,
                       const enum instance_task_state *expected,
                       size_t n_expected, compute_conductor_reply_fn *cb)
{
    struct json_object *args = json_object_new_object();

    json_object_object_add(args, "instance_uuid",
                           json_object_new_string(op->uuid));
    json_object_object_add(args, "updates", updates);
    if (n_expected) {
        struct json_object *list = json_object_new_array();

        for (size_t i = 0; i < n_expected; i++) {
            json_object_array_add(list,
                                  compute_manager_task_json(expected[i]));
        }
        json_object_object_add(args, "expected_task_state", list);
    }
    op->busy = true;
    compute_conductor_call(op->mgr->conductor, op->uuid, op->request_id,
                           CONDUCTOR_INSTANCE_UPDATE, args, cb, op);
}

/* Returns {"vm_state", "power_state", "task_state": null}. */
static struct json_object *
compute_manager_state_updates(enum instance_vm_state vm_state,
                              enum instance_power_state power)
{
    struct json_object *updates = json_object_new_object();

    json_object_object_add(updates, "vm_state", json_object_new_string(
                               instance_vm_state_to_string(vm_state)));
    json_object_object_add(updates, "power_state",
                           json_object_new_int(power));
    json_object_object_add(updates, "task_state", NULL);
    return updates;
}

/* The error message of a failed action for its event's "details", cut
 * to COMPUTE_MANAGER_MAX_DETAILS bytes on a character boundary. */
static struct json_object *
compute_manager_details_json(const struct error *error)
{
    const char *message = error_message(error);
    size_t size = strlen(message);

    if (size > COMPUTE_MANAGER_MAX_DETAILS) {
        size = COMPUTE_MANAGER_MAX_DETAILS;
        /* Back off UTF-8 continuation bytes (10xxxxxx). */
        while (size && ((unsigned char) message[size] & 0xc0) == 0x80) {
            size--;
        }
    }
    return json_object_new_string_len(message, (int) size);
}

static void
compute_manager_action_event(struct compute_op *op, const char *event,
                             const struct error *error)
{
    struct json_object *args = json_object_new_object();

    json_object_object_add(args, "instance_uuid",
                           json_object_new_string(op->uuid));
    json_object_object_add(args, "event", json_object_new_string(event));
    json_object_object_add(args, "result", json_object_new_string(
                               error ? "Error" : "Success"));
    json_object_object_add(args, "start_time",
                           compute_manager_time_json(op->start_time_ms));
    json_object_object_add(args, "finish_time",
                           compute_manager_time_json(time_now_ms()));
    json_object_object_add(args, "host",
                           json_object_new_string(op->host->name));
    json_object_object_add(args, "details",
                           error ? compute_manager_details_json(error)
                                 : NULL);
    compute_conductor_cast(op->mgr->conductor, op->uuid, op->request_id,
                           CONDUCTOR_ACTION_EVENT, args);
}

static void
compute_manager_instance_destroyed(struct compute_op *op)
{
    struct json_object *args = json_object_new_object();

    json_object_object_add(args, "instance_uuid",
                           json_object_new_string(op->uuid));
    json_object_object_add(args, "host",
                           json_object_new_string(op->host->name));
    compute_conductor_cast(op->mgr->conductor, op->uuid, op->request_id,
                           CONDUCTOR_INSTANCE_DESTROYED, args);
}

/* ---- The op list ------------------------------------------------------- */

static struct compute_op *
compute_manager_op_new(struct compute_host *host, enum compute_op_kind kind,
                       const char *uuid, const char *request_id)
{
    struct compute_manager *mgr = host->mgr;
    struct compute_op *op = xzalloc(sizeof *op);

    op->mgr = mgr;
    op->host = host;
    op->kind = kind;
    snprintf(op->uuid, sizeof op->uuid, "%s", uuid);
    op->request_id = xstrdup_or_null(request_id);
    op->attempt = 1;

    op->prev = mgr->ops_tail;
    if (mgr->ops_tail) {
        mgr->ops_tail->next = op;
    } else {
        mgr->ops_head = op;
    }
    mgr->ops_tail = op;
    mgr->n_ops++;
    mgr->kick = true;
    return op;
}

/* Unlinks and frees 'op'; the next op of its instance may start. */
static void
compute_manager_op_free(struct compute_op *op)
{
    struct compute_manager *mgr = op->mgr;

    if (op->prev) {
        op->prev->next = op->next;
    } else {
        mgr->ops_head = op->next;
    }
    if (op->next) {
        op->next->prev = op->prev;
    } else {
        mgr->ops_tail = op->prev;
    }
    mgr->n_ops--;
    mgr->kick = true;

    if (op->req) {
        /* Only when stopping: the server is gone and this just frees the
         * orphaned request; the broker gives the cast to the next
         * process. */
        rpc_request_reply(op->req, NULL,
                          error_new(ERROR_UNAVAILABLE, "nova-compute is "
                                    "stopping"));
    }
    free(op->request_id);
    instance_free(op->inst);
    json_object_put(op->alternates);
    compute_spec_free(op->spec);
    error_free(op->error);
    free(op->boot_problem);
    free(op);
}

/* True if an op before 'op' (or any op, for NULL) concerns 'uuid'. */
static bool
compute_manager_has_op_before(const struct compute_manager *mgr,
                              const struct compute_op *op, const char *uuid)
{
    const struct compute_op *p = op ? op->prev : mgr->ops_tail;

    for (; p; p = p->prev) {
        if (!strcmp(p->uuid, uuid)) {
            return true;
        }
    }
    return false;
}

/* Submits worker job 'work' for 'op'; 'done' continues it. */
static void
compute_manager_op_submit(struct compute_op *op, compute_work_fn *work,
                          compute_done_fn *done)
{
    op->busy = true;
    error_free(op->error);
    op->error = NULL;
    compute_workers_submit(op->mgr->workers, work, done, op);
}

/* Common start of a completion: returns false (and frees 'op') when the
 * manager is stopping. */
static bool
compute_manager_op_resume(struct compute_op *op, bool cancelled)
{
    op->busy = false;
    if (cancelled || op->mgr->stopping) {
        compute_manager_op_free(op);
        return false;
    }
    return true;
}

/* ---- Worker functions -------------------------------------------------- */

/* Reads the instance's power state into 'op' (found/power). */
static void
compute_manager_read_power(struct compute_op *op)
{
    struct virt_instance_info info;
    struct error *error = virt_driver_get_info(op->host->driver, op->uuid,
                                               &info);

    op->found = !error;
    op->power = error ? INSTANCE_POWER_NOSTATE
                      : compute_manager_power(info.power_state);
    if (error && error_kind(error) != ERROR_NOT_FOUND && !op->error) {
        op->error = error;
    } else {
        error_free(error);
    }
}

static void
compute_manager_get_info_work(void *op_)
{
    compute_manager_read_power(op_);
}

static void
compute_manager_spawn_work(void *op_)
{
    struct compute_op *op = op_;
    struct compute_manager *mgr = op->mgr;

    /* The image first: download and cache it, make the overlay. */
    if (op->inst && op->inst->image) {
        AUTOFREE char *dir = compute_spec_instance_path(mgr->instances_dir,
                                                        op->uuid, NULL);

        op->error = compute_image_cache_prepare(
            mgr->image_cache, op->inst->image, dir,
            op->inst->flavor
            ? (unsigned long long) op->inst->flavor->root_gb : 0,
            mgr->options.domain_type != VIRT_DOMAIN_TEST, op->spec);
        if (op->error) {
            return;
        }
    }
    op->error = virt_driver_spawn(op->host->driver, &op->spec->spec);
}

static void
compute_manager_destroy_work(void *op_)
{
    struct compute_op *op = op_;

    op->error = virt_driver_destroy(op->host->driver, op->uuid);
}

/* Looks at a booting guest: 'booted' when it runs and, with a marker, the
 * marker is on its serial console; 'boot_problem' when it stopped. */
static void
compute_manager_boot_check_work(void *op_)
{
    struct compute_op *op = op_;
    const char *marker = op->mgr->boot_marker;
    AUTOFREE char *output = NULL;
    struct error *error;
    size_t size;

    op->booted = false;
    compute_manager_read_power(op);
    if (op->error) {
        return;
    }
    if (!op->found || op->power == INSTANCE_POWER_SHUTDOWN
        || op->power == INSTANCE_POWER_CRASHED) {
        op->boot_problem = xasprintf("the guest stopped while booting "
                                     "(power state %s)",
                                     instance_power_state_to_string(
                                         op->power));
        return;
    }
    if (op->power != INSTANCE_POWER_RUNNING) {
        return;
    }
    if (!marker) {
        op->booted = true;
        return;
    }
    error = virt_driver_get_console_output(op->host->driver, op->uuid,
                                           VIRT_CONSOLE_OUTPUT_MAX_SIZE,
                                           &output, &size);
    if (error) {
        /* No log yet counts as no marker yet. */
        error_free(error);
        return;
    }
    op->booted = memmem(output, size, marker, strlen(marker)) != NULL;
}

static void
compute_manager_action_work(void *op_)
{
    struct compute_op *op = op_;
    struct virt_driver *driver = op->host->driver;

    switch (op->action->kind) {
    case COMPUTE_ACTION_REBOOT:
        op->error = virt_driver_reboot(driver, op->uuid, op->reboot_type,
                                       NULL);
        break;
    case COMPUTE_ACTION_STOP:
        op->error = virt_driver_power_off(
            driver, op->uuid, op->mgr->options.shutdown_timeout_ms);
        break;
    case COMPUTE_ACTION_START:
        op->error = virt_driver_power_on(driver, op->uuid);
        break;
    case COMPUTE_ACTION_PAUSE:
        op->error = virt_driver_pause(driver, op->uuid);
        break;
    case COMPUTE_ACTION_UNPAUSE:
        op->error = virt_driver_unpause(driver, op->uuid);
        break;
    case COMPUTE_ACTION_SUSPEND:
        op->error = virt_driver_suspend(driver, op->uuid);
        break;
    case COMPUTE_ACTION_RESUME:
        op->error = virt_driver_resume(driver, op->uuid);
        break;
    }
    compute_manager_read_power(op);
}

/* The forced power off of a sync: the cloud says stopped. */
static void
compute_manager_force_stop_work(void *op_)
{
    struct compute_op *op = op_;

    op->error = virt_driver_power_off(op->host->driver, op->uuid, 0);
    compute_manager_read_power(op);
}

/* ---- Build ------------------------------------------------------------- */

/* Worker job of the image cache cleanup. */
struct compute_image_clean_job {
    struct compute_manager *mgr;
    size_t n_removed;
};

static void
compute_manager_image_clean_work(void *job_)
{
    struct compute_image_clean_job *job = job_;

    job->n_removed = compute_image_cache_clean(job->mgr->image_cache,
                                               job->mgr->instances_dir,
                                               time_now_ms() / 1000);
}

static void
compute_manager_image_clean_done(void *job_, bool cancelled)
{
    struct compute_image_clean_job *job = job_;

    if (!cancelled) {
        job->mgr->image_clean_busy = false;
        job->mgr->next_image_clean_ms =
            poll_loop_now_ms() + job->mgr->options.image_clean_interval_ms;
        if (job->n_removed) {
            LOG_INFO("image cache cleanup removed %zu file%s",
                     job->n_removed, job->n_removed == 1 ? "" : "s");
        }
    }
    free(job);
}

static void
compute_manager_run_image_clean(struct compute_manager *mgr)
{
    struct compute_image_clean_job *job;

    if (mgr->options.image_clean_interval_ms <= 0 || mgr->image_clean_busy
        || poll_loop_now_ms() < mgr->next_image_clean_ms) {
        return;
    }
    job = xzalloc(sizeof *job);
    job->mgr = mgr;
    mgr->image_clean_busy = true;
    compute_workers_submit(mgr->workers, compute_manager_image_clean_work,
                           compute_manager_image_clean_done, job);
}

static void
compute_manager_build_finish(struct compute_op *op)
{
    compute_spec_remove_files(op->mgr->instances_dir, op->uuid, false);
    compute_manager_request_report(op->host);
    compute_manager_op_free(op);
}

static void
compute_manager_build_active_cb(struct json_object *result,
                                struct error *error, void *op_)
{
    struct compute_op *op = op_;
    struct log_ctx ctx;

    json_object_put(result);
    if (!compute_manager_op_resume(op, false)) {
        error_free(error);
        return;
    }
    compute_manager_log_ctx(op, &ctx);
    if (error) {
        /* Conflict: deleted (or otherwise taken over) meanwhile; the
         * delete that follows removes the domain. */
        LOG_WARN_CTX(&ctx, "built instance on host '%s' but cannot record "
                     "it active: %s", op->host->name, error_message(error));
        error_free(error);
    } else {
        LOG_INFO_CTX(&ctx, "instance is active on host '%s'",
                     op->host->name);
    }
    compute_manager_build_finish(op);
}

/* The build succeeded: record it active. */
static void
compute_manager_build_succeeded(struct compute_op *op)
{
    struct json_object *updates = compute_manager_state_updates(
        INSTANCE_VM_ACTIVE, INSTANCE_POWER_RUNNING);
    enum instance_task_state expected = INSTANCE_TASK_SPAWNING;

    if (op->kind == COMPUTE_OP_RECOVER) {
        expected = op->inst->task_state;
    }
    json_object_object_add(updates, "launched_at",
                           compute_manager_time_json(time_now_ms()));
    compute_manager_update(op, updates, &expected, 1,
                           compute_manager_build_active_cb);
    if (op->kind == COMPUTE_OP_BUILD) {
        compute_manager_action_event(op, COMPUTE_EVENT_BUILD, NULL);
    }
}

static void
compute_manager_build_destroyed_done(void *op_, bool cancelled)
{
    struct compute_op *op = op_;
    struct error *cause;

    if (!compute_manager_op_resume(op, cancelled)) {
        return;
    }
    if (op->error) {
        struct log_ctx ctx;

        compute_manager_log_ctx(op, &ctx);
        LOG_WARN_CTX(&ctx, "cannot remove the failed build from host '%s': "
                     "%s, ignoring", op->host->name,
                     error_message(op->error));
        error_free(op->error);
        op->error = NULL;
    }
    cause = error_new(op->boot_kind, "%s", op->boot_problem);
    compute_manager_build_failed(op, cause);
}

static void
compute_manager_boot_check_done(void *op_, bool cancelled)
{
    struct compute_op *op = op_;
    long long timeout_s = op->mgr->options.boot_timeout_ms / 1000;
    long long now;

    if (!compute_manager_op_resume(op, cancelled)) {
        return;
    }
    if (op->booted) {
        compute_manager_build_succeeded(op);
        return;
    }
    now = poll_loop_now_ms();
    if (op->boot_problem) {
        char *problem = xasprintf("Instance '%s' failed to boot on host "
                                  "'%s': %s", op->uuid, op->host->name,
                                  op->boot_problem);

        free(op->boot_problem);
        op->boot_problem = problem;
        op->boot_kind = ERROR_INTERNAL;
    } else if (now >= op->boot_deadline_ms) {
        op->boot_kind = ERROR_TIMEOUT;
        if (op->error) {
            op->boot_problem = xasprintf(
                "Instance '%s' did not boot within %lld s on host '%s': %s",
                op->uuid, timeout_s, op->host->name,
                error_message(op->error));
        } else if (op->mgr->boot_marker && op->power
                   == INSTANCE_POWER_RUNNING) {
            op->boot_problem = xasprintf(
                "Instance '%s' did not boot within %lld s on host '%s': "
                "'%s' never appeared on its serial console", op->uuid,
                timeout_s, op->host->name, op->mgr->boot_marker);
        } else {
            op->boot_problem = xasprintf(
                "Instance '%s' did not reach the running state within "
                "%lld s on host '%s' (power state %s)", op->uuid, timeout_s,
                op->host->name, instance_power_state_to_string(op->power));
        }
    }
    if (op->boot_problem) {
        /* Destroy the half-booted domain first, then report. */
        compute_manager_op_submit(op, compute_manager_destroy_work,
                                  compute_manager_build_destroyed_done);
        return;
    }
    op->boot_wait = true;
    op->next_boot_check_ms = now + COMPUTE_MANAGER_BOOT_POLL_MS;
}

static void
compute_manager_spawn_done(void *op_, bool cancelled)
{
    struct compute_op *op = op_;
    struct log_ctx ctx;

    if (!compute_manager_op_resume(op, cancelled)) {
        return;
    }
    compute_manager_log_ctx(op, &ctx);
    if (op->error) {
        /* The driver leaves nothing defined after a failed spawn, and a
         * conflict means the domain belongs to someone else: nothing to
         * destroy either way. */
        LOG_WARN_CTX(&ctx, "build on host '%s' failed: %s", op->host->name,
                     error_message(op->error));
        compute_manager_build_failed(op, TAKE_PTR(op->error));
        return;
    }
    if (op->mgr->boot_check) {
        LOG_DBG_CTX(&ctx, "spawned on host '%s', waiting for the guest to "
                    "boot", op->host->name);
        op->boot_deadline_ms = poll_loop_now_ms()
                               + op->mgr->options.boot_timeout_ms;
        compute_manager_op_submit(op, compute_manager_boot_check_work,
                                  compute_manager_boot_check_done);
        return;
    }
    compute_manager_build_succeeded(op);
}

/* Casts build_failed with 'cause' (taken) and the op's attempt and
 * alternates, and ends the op. */
static void
compute_manager_build_failed(struct compute_op *op, struct error *cause)
{
    struct json_object *args = json_object_new_object();

    json_object_object_add(args, "instance_uuid",
                           json_object_new_string(op->uuid));
    json_object_object_add(args, "host",
                           json_object_new_string(op->host->name));
    json_object_object_add(args, "node", json_object_new_string(
                               compute_manager_node(op)));
    json_object_object_add(args, "error", error_to_json(cause));
    json_object_object_add(args, "attempt",
                           json_object_new_int64(op->attempt));
    json_object_object_add(args, "alternates",
                           op->alternates
                           ? json_object_get(op->alternates)
                           : json_object_new_array());
    compute_conductor_cast(op->mgr->conductor, op->uuid, op->request_id,
                           CONDUCTOR_BUILD_FAILED, args);
    if (op->kind == COMPUTE_OP_BUILD) {
        AUTOFREE char *dir = compute_spec_instance_path(
            op->mgr->instances_dir, op->uuid, NULL);

        /* The overlay and the links that keep cached images in use. */
        compute_image_cache_remove_instance(dir);
        compute_manager_action_event(op, COMPUTE_EVENT_BUILD, cause);
    }
    error_free(cause);
    compute_manager_build_finish(op);
}

static void
compute_manager_ack(struct compute_op *op)
{
    if (op->req) {
        rpc_request_reply(TAKE_PTR(op->req), NULL, NULL);
    }
}

static void
compute_manager_build_spawning_cb(struct json_object *result,
                                  struct error *error, void *op_)
{
    struct compute_op *op = op_;
    struct log_ctx ctx;

    json_object_put(result);
    if (!compute_manager_op_resume(op, false)) {
        error_free(error);
        return;
    }
    compute_manager_log_ctx(op, &ctx);
    compute_manager_ack(op);
    if (error && (error_kind(error) == ERROR_CONFLICT
                  || error_kind(error) == ERROR_NOT_FOUND)) {
        /* Deleted meanwhile, or a copy of a build already under way. */
        LOG_WARN_CTX(&ctx, "not building on host '%s': %s", op->host->name,
                     error_message(error));
        error_free(error);
        compute_manager_op_free(op);
        return;
    }
    if (error) {
        compute_manager_build_failed(
            op, error_wrap(error, "Cannot record the build of instance "
                           "'%s' on host '%s'", op->uuid, op->host->name));
        return;
    }
    LOG_INFO_CTX(&ctx, "spawning on host '%s' (attempt %lld)",
                 op->host->name, op->attempt);
    compute_manager_op_submit(op, compute_manager_spawn_work,
                              compute_manager_spawn_done);
}

static void
compute_manager_build_start(struct compute_op *op)
{
    struct json_object *updates = json_object_new_object();
    enum instance_task_state expected = INSTANCE_TASK_SCHEDULING;
    struct error *error;

    error = compute_spec_save_build_record(op->mgr->instances_dir, op->uuid,
                                           op->attempt, op->alternates);
    if (error) {
        struct log_ctx ctx;

        /* Only a restart in the middle of this build needs the record. */
        compute_manager_log_ctx(op, &ctx);
        LOG_WARN_CTX(&ctx, "%s, ignoring", error_message(error));
        error_free(error);
    }
    json_object_object_add(updates, "task_state", compute_manager_task_json(
                               INSTANCE_TASK_SPAWNING));
    compute_manager_update(op, updates, &expected, 1,
                           compute_manager_build_spawning_cb);
}

/* ---- Terminate --------------------------------------------------------- */

static void
compute_manager_terminate_error_cb(struct json_object *result,
                                   struct error *error, void *op_)
{
    struct compute_op *op = op_;

    json_object_put(result);
    error_free(error);
    if (compute_manager_op_resume(op, false)) {
        compute_manager_op_free(op);
    }
}

static void
compute_manager_terminate_done(void *op_, bool cancelled)
{
    struct compute_op *op = op_;
    struct log_ctx ctx;

    if (!compute_manager_op_resume(op, cancelled)) {
        return;
    }
    compute_manager_log_ctx(op, &ctx);
    if (op->error) {
        enum instance_task_state expected = INSTANCE_TASK_DELETING;

        LOG_ERR_CTX(&ctx, "cannot delete on host '%s': %s", op->host->name,
                    error_message(op->error));
        compute_manager_update(op, compute_manager_state_updates(
                                   INSTANCE_VM_ERROR, op->power),
                               &expected, 1,
                               compute_manager_terminate_error_cb);
        compute_manager_action_event(op, COMPUTE_EVENT_TERMINATE, op->error);
        return;
    }
    LOG_INFO_CTX(&ctx, "deleted from host '%s'", op->host->name);
    compute_spec_remove_files(op->mgr->instances_dir, op->uuid, true);
    compute_manager_instance_destroyed(op);
    compute_manager_action_event(op, COMPUTE_EVENT_TERMINATE, NULL);
    compute_manager_request_report(op->host);
    compute_manager_op_free(op);
}

static void
compute_manager_terminate_work(void *op_)
{
    struct compute_op *op = op_;

    op->error = virt_driver_destroy(op->host->driver, op->uuid);
    if (op->error) {
        compute_manager_read_power(op);
    }
}

/* ---- Actions ----------------------------------------------------------- */

static void
compute_manager_action_updated_cb(struct json_object *result,
                                  struct error *error, void *op_)
{
    struct compute_op *op = op_;

    json_object_put(result);
    if (!compute_manager_op_resume(op, false)) {
        error_free(error);
        return;
    }
    if (error) {
        struct log_ctx ctx;

        compute_manager_log_ctx(op, &ctx);
        LOG_WARN_CTX(&ctx, "cannot record the outcome of '%s': %s",
                     op->action->method, error_message(error));
        error_free(error);
    }
    compute_manager_op_free(op);
}

static void
compute_manager_action_done(void *op_, bool cancelled)
{
    struct compute_op *op = op_;
    const struct compute_action *action;
    enum instance_vm_state vm_state;
    struct json_object *updates;
    struct log_ctx ctx;

    if (!compute_manager_op_resume(op, cancelled)) {
        return;
    }
    action = op->action;
    compute_manager_log_ctx(op, &ctx);
    if (op->error) {
        LOG_ERR_CTX(&ctx, "'%s' failed on host '%s': %s", action->method,
                    op->host->name, error_message(op->error));
        vm_state = action->error_on_failure ? INSTANCE_VM_ERROR
                                            : op->inst->vm_state;
    } else {
        LOG_INFO_CTX(&ctx, "'%s' done on host '%s' (power state %s)",
                     action->method, op->host->name,
                     instance_power_state_to_string(op->power));
        vm_state = action->vm_state;
    }
    /* The update first: the event (queued behind it, same instance)
     * then describes a state the conductor has recorded. */
    updates = compute_manager_state_updates(vm_state, op->power);
    compute_manager_update(op, updates, action->expected, action->n_expected,
                           compute_manager_action_updated_cb);
    compute_manager_action_event(op, action->event, op->error);
}

/* ---- Sync -------------------------------------------------------------- */

static void
compute_manager_sync_updated_cb(struct json_object *result,
                                struct error *error, void *op_)
{
    struct compute_op *op = op_;

    json_object_put(result);
    if (!compute_manager_op_resume(op, false)) {
        error_free(error);
        return;
    }
    if (error) {
        struct log_ctx ctx;

        /* Conflict: a task started meanwhile; it reports the state. */
        compute_manager_log_ctx(op, &ctx);
        LOG_DBG_CTX(&ctx, "power-state sync not recorded: %s",
                    error_message(error));
        error_free(error);
    }
    compute_manager_op_free(op);
}

/* Records the sync decision (op->decision) with expected task state
 * none, so that a task that started meanwhile wins. */
static void
compute_manager_sync_record(struct compute_op *op)
{
    struct json_object *updates = json_object_new_object();
    enum instance_task_state expected = INSTANCE_TASK_NONE;

    json_object_object_add(updates, "power_state",
                           json_object_new_int(op->decision.power_state));
    if (op->decision.action == COMPUTE_SYNC_MARK_STOPPED) {
        json_object_object_add(updates, "vm_state", json_object_new_string(
                                   instance_vm_state_to_string(
                                       INSTANCE_VM_STOPPED)));
    }
    compute_manager_update(op, updates, &expected, 1,
                           compute_manager_sync_updated_cb);
}

static void
compute_manager_force_stop_done(void *op_, bool cancelled)
{
    struct compute_op *op = op_;

    if (!compute_manager_op_resume(op, cancelled)) {
        return;
    }
    if (op->error) {
        struct log_ctx ctx;

        compute_manager_log_ctx(op, &ctx);
        LOG_ERR_CTX(&ctx, "cannot power off the domain of a stopped "
                    "instance on host '%s': %s", op->host->name,
                    error_message(op->error));
    }
    op->decision.power_state = op->power;
    compute_manager_sync_record(op);
}

/* Carries out the decision for the facts in 'op' (inst, found, power). */
static void
compute_manager_sync_apply(struct compute_op *op)
{
    struct compute_sync_decision *d = &op->decision;
    struct log_ctx ctx;

    compute_sync_decide(op->inst->vm_state, op->inst->task_state,
                        op->inst->power_state, op->found, op->power, d);
    compute_manager_log_ctx(op, &ctx);
    switch (d->action) {
    case COMPUTE_SYNC_NONE:
        compute_manager_op_free(op);
        return;
    case COMPUTE_SYNC_POWER_STATE:
        LOG_INFO_CTX(&ctx, "power state %s -> %s on host '%s': %s",
                     instance_power_state_to_string(op->inst->power_state),
                     instance_power_state_to_string(d->power_state),
                     op->host->name, d->reason);
        compute_manager_sync_record(op);
        return;
    case COMPUTE_SYNC_MARK_STOPPED:
        LOG_WARN_CTX(&ctx, "marking the instance stopped on host '%s' "
                     "(power state %s): %s", op->host->name,
                     instance_power_state_to_string(d->power_state),
                     d->reason);
        compute_manager_sync_record(op);
        return;
    case COMPUTE_SYNC_FORCE_STOP:
        LOG_WARN_CTX(&ctx, "powering off on host '%s': %s", op->host->name,
                     d->reason);
        compute_manager_op_submit(op, compute_manager_force_stop_work,
                                  compute_manager_force_stop_done);
        return;
    }
}

static void
compute_manager_sync_info_done(void *op_, bool cancelled)
{
    struct compute_op *op = op_;

    if (!compute_manager_op_resume(op, cancelled)) {
        return;
    }
    if (op->error) {
        struct log_ctx ctx;

        compute_manager_log_ctx(op, &ctx);
        LOG_WARN_RL_CTX(&ctx, "power-state sync on host '%s' skipped: %s",
                        op->host->name, error_message(op->error));
        compute_manager_op_free(op);
        return;
    }
    compute_manager_sync_apply(op);
}

static void
compute_manager_sync_get_cb(struct json_object *result, struct error *error,
                            void *op_)
{
    struct compute_op *op = op_;
    CLEANUP(json_putp) struct json_object *owned = result;

    if (!compute_manager_op_resume(op, false)) {
        error_free(error);
        return;
    }
    if (!error) {
        error = instance_from_json(result, NULL, &op->inst);
    }
    if (error) {
        struct log_ctx ctx;

        /* NotFound: a domain the cloud does not know (or no longer). */
        compute_manager_log_ctx(op, &ctx);
        LOG_DBG_CTX(&ctx, "no power-state sync: %s", error_message(error));
        error_free(error);
        compute_manager_op_free(op);
        return;
    }
    if (!op->inst->host || strcmp(op->inst->host, op->host->name)
        || op->inst->task_state != INSTANCE_TASK_NONE) {
        compute_manager_op_free(op);
        return;
    }
    compute_manager_op_submit(op, compute_manager_get_info_work,
                              compute_manager_sync_info_done);
}

static void
compute_manager_sync_start(struct compute_op *op)
{
    struct json_object *args;

    if (op->have_facts) {
        compute_manager_sync_apply(op);
        return;
    }
    args = json_object_new_object();
    json_object_object_add(args, "instance_uuid",
                           json_object_new_string(op->uuid));
    op->busy = true;
    compute_conductor_call(op->mgr->conductor, op->uuid, op->request_id,
                           CONDUCTOR_INSTANCE_GET, args,
                           compute_manager_sync_get_cb, op);
}

/* ---- Recovery ---------------------------------------------------------- */

static void
compute_manager_recover_updated_cb(struct json_object *result,
                                   struct error *error, void *op_)
{
    struct compute_op *op = op_;

    json_object_put(result);
    if (!compute_manager_op_resume(op, false)) {
        error_free(error);
        return;
    }
    if (error) {
        struct log_ctx ctx;

        compute_manager_log_ctx(op, &ctx);
        LOG_WARN_CTX(&ctx, "cannot record the recovered state: %s",
                     error_message(error));
        error_free(error);
    }
    compute_manager_op_free(op);
}

static void
compute_manager_recover_destroyed_done(void *op_, bool cancelled)
{
    struct compute_op *op = op_;
    struct compute_manager *mgr = op->mgr;
    struct json_object *alternates = NULL;
    long long attempt;
    struct error *error;
    struct log_ctx ctx;

    if (!compute_manager_op_resume(op, cancelled)) {
        return;
    }
    compute_manager_log_ctx(op, &ctx);
    if (op->error) {
        LOG_WARN_CTX(&ctx, "cannot remove the interrupted build from host "
                     "'%s': %s, ignoring", op->host->name,
                     error_message(op->error));
        error_free(TAKE_PTR(op->error));
    }
    error = compute_spec_load_build_record(mgr->instances_dir, op->uuid,
                                           &attempt, &alternates);
    if (error) {
        /* Without the record the conductor still gets the failure; it
         * then counts this as a first attempt with no alternates. */
        LOG_WARN_CTX(&ctx, "%s", error_message(error));
        error_free(error);
    } else {
        op->attempt = attempt;
        json_object_put(op->alternates);
        op->alternates = alternates;
    }
    LOG_WARN_CTX(&ctx, "build interrupted on host '%s', reporting it "
                 "failed", op->host->name);
    compute_manager_build_failed(
        op, error_new(ERROR_INTERNAL, "The build of instance '%s' on host "
                      "'%s' was interrupted by a restart of nova-compute",
                      op->uuid, op->host->name));
}

static void
compute_manager_recover_start(struct compute_op *op)
{
    struct log_ctx ctx;

    compute_manager_log_ctx(op, &ctx);
    LOG_INFO_CTX(&ctx, "recovering on host '%s': vm_state %s, task_state "
                 "%s, domain %s -> %s", op->host->name,
                 instance_vm_state_to_string(op->inst->vm_state),
                 instance_task_state_to_string(op->inst->task_state),
                 op->found ? instance_power_state_to_string(op->power)
                           : "missing",
                 compute_recover_action_to_string(op->recover));
    switch (op->recover) {
    case COMPUTE_RECOVER_SYNC:
    case COMPUTE_RECOVER_WAIT:
        compute_manager_op_free(op);
        return;
    case COMPUTE_RECOVER_BUILD_DONE:
        compute_manager_build_succeeded(op);
        return;
    case COMPUTE_RECOVER_BUILD_FAILED:
        compute_manager_op_submit(op, compute_manager_destroy_work,
                                  compute_manager_recover_destroyed_done);
        return;
    case COMPUTE_RECOVER_FINISH_DELETE:
        compute_manager_op_submit(op, compute_manager_terminate_work,
                                  compute_manager_terminate_done);
        return;
    case COMPUTE_RECOVER_SETTLE: {
        enum instance_task_state expected = op->inst->task_state;
        enum instance_vm_state vm_state = compute_sync_vm_state_for_power(
            op->found, op->power);

        compute_manager_update(op, compute_manager_state_updates(
                                   vm_state, op->power),
                               &expected, 1,
                               compute_manager_recover_updated_cb);
        return;
    }
    }
}

/* ---- Starting ops ------------------------------------------------------ */

static void
compute_manager_op_start(struct compute_op *op)
{
    op->started = true;
    op->start_time_ms = time_now_ms();
    switch (op->kind) {
    case COMPUTE_OP_BUILD:
        compute_manager_build_start(op);
        break;
    case COMPUTE_OP_TERMINATE:
        compute_manager_op_submit(op, compute_manager_terminate_work,
                                  compute_manager_terminate_done);
        break;
    case COMPUTE_OP_ACTION:
        compute_manager_op_submit(op, compute_manager_action_work,
                                  compute_manager_action_done);
        break;
    case COMPUTE_OP_SYNC:
        compute_manager_sync_start(op);
        break;
    case COMPUTE_OP_RECOVER:
        compute_manager_recover_start(op);
        break;
    }
}

static void
compute_manager_run_ops(struct compute_manager *mgr)
{
    long long now = poll_loop_now_ms();
    struct compute_op *op, *next;

    mgr->kick = false;
    for (op = mgr->ops_head; op; op = next) {
        next = op->next;
        if (op->busy) {
            continue;
        }
        if (!op->started) {
            if (!compute_manager_has_op_before(mgr, op, op->uuid)) {
                /* May free 'op' (never another op), or append ops. */
                compute_manager_op_start(op);
            }
        } else if (op->boot_wait && now >= op->next_boot_check_ms) {
            op->boot_wait = false;
            compute_manager_op_submit(op, compute_manager_boot_check_work,
                                      compute_manager_boot_check_done);
        }
    }
}

/* ---- RPC handlers ------------------------------------------------------ */

static struct error *
compute_manager_validate_instance(const struct json_object *args)
{
    struct json_object *inst;
    const char *uuid;
    struct error *error;

    if ((error = json_get_object(args, NULL, "instance", true, &inst))
        || (error = json_get_string(inst, "instance", "uuid", true,
                                    UUID_STRING_SIZE, &uuid))) {
        return error;
    }
    if (!uuid_is_valid(uuid)) {
        return error_new(ERROR_INVALID, "Invalid input for field/attribute "
                         "'instance.uuid': '%s' is not a UUID", uuid);
    }
    return NULL;
}

static struct error *
compute_manager_validate_console(const struct json_object *args)
{
    const char *uuid;
    long long length;
    struct error *error;

    if ((error = json_get_string(args, NULL, "instance_uuid", true,
                                 UUID_STRING_SIZE, &uuid))
        || (error = json_get_int(args, NULL, "length", false, -1,
                                 COMPUTE_MANAGER_MAX_CONSOLE_LINES,
                                 &length))) {
        return error;
    }
    if (!uuid_is_valid(uuid)) {
        return error_new(ERROR_INVALID, "Invalid input for field/attribute "
                         "'instance_uuid': '%s' is not a UUID", uuid);
    }
    return NULL;
}

/* Decodes the message's instance for host 'host'.  On failure returns an
 * error and still stores the uuid in 'uuid' (checked by the validator). */
static struct error *
compute_manager_decode_instance(struct compute_host *host,
                                const struct rpc_msg *msg,
                                char uuid[UUID_STRING_SIZE],
                                struct instance **ret_inst)
{
    struct json_object *obj = json_object_object_get(msg->args, "instance");
    CLEANUP(instance_freep) struct instance *inst = NULL;
    struct error *error;

    (void) uuid_normalize(json_object_get_string(
                              json_object_object_get(obj, "uuid")), uuid);
    error = instance_from_json(obj, "instance", &inst);
    if (error) {
        return error;
    }
    if (inst->host && strcmp(inst->host, host->name)) {
        return error_new(ERROR_INVALID, "Instance '%s' is on host '%s', "
                         "not on '%s'", inst->uuid, inst->host, host->name);
    }
    *ret_inst = TAKE_PTR(inst);
    return NULL;
}

static struct error *
compute_manager_handle_build(struct rpc_request *req, void *host_,
                             struct json_object **ret_result)
{
    struct compute_host *host = host_;
    const struct rpc_msg *msg = rpc_request_msg(req);
    CLEANUP(instance_freep) struct instance *inst = NULL;
    struct json_object *alternates = NULL;
    char uuid[UUID_STRING_SIZE] = "";
    long long attempt = 1;
    struct compute_op *op;
    struct error *error;

    (void) ret_result;
    error = compute_manager_decode_instance(host, msg, uuid, &inst);
    if (!error) {
        error = json_get_int(msg->args, NULL, "attempt", false, 1, INT_MAX,
                             &attempt);
    }
    if (!error) {
        error = json_get_array(msg->args, NULL, "alternates", false,
                               COMPUTE_MANAGER_MAX_ALTERNATES, &alternates);
    }

    op = compute_manager_op_new(host, COMPUTE_OP_BUILD, uuid,
                                msg->ctx.request_id);
    op->attempt = attempt;
    op->alternates = alternates ? json_object_get(alternates)
                                : json_object_new_array();
    if (!error) {
        error = compute_spec_from_instance(inst,
                                           host->mgr->options.domain_type,
                                           host->mgr->instances_dir,
                                           &op->spec);
    }
    if (error) {
        struct log_ctx ctx;

        /* A request the driver can never build: report it at once so the
         * conductor can reschedule or fail it. */
        compute_manager_log_ctx(op, &ctx);
        LOG_WARN_CTX(&ctx, "cannot build on host '%s': %s", host->name,
                     error_message(error));
        op->started = true;
        op->start_time_ms = time_now_ms();
        compute_manager_build_failed(op, error_wrap(
                                         error, "Cannot build instance '%s' "
                                         "on host '%s'", uuid, host->name));
        return NULL;
    }
    op->inst = TAKE_PTR(inst);
    rpc_request_defer(req);
    op->req = req;
    return NULL;
}

static struct error *
compute_manager_handle_instance_op(struct rpc_request *req, void *host_,
                                   struct json_object **ret_result)
{
    struct compute_host *host = host_;
    const struct rpc_msg *msg = rpc_request_msg(req);
    CLEANUP(instance_freep) struct instance *inst = NULL;
    const struct compute_action *action = NULL;
    char uuid[UUID_STRING_SIZE] = "";
    enum virt_reboot_type reboot_type = VIRT_REBOOT_SOFT;
    struct compute_op *op;
    struct error *error;

    (void) ret_result;
    error = compute_manager_decode_instance(host, msg, uuid, &inst);
    if (error) {
        return error;
    }
    for (size_t i = 0; i < ARRAY_SIZE(compute_actions); i++) {
        if (!strcmp(msg->method, compute_actions[i].method)) {
            action = &compute_actions[i];
        }
    }
    if (action && action->kind == COMPUTE_ACTION_REBOOT) {
        const char *type = "SOFT";

        error = json_get_string(msg->args, NULL, "reboot_type", false,
                                COMPUTE_MANAGER_REBOOT_TYPE_MAX_LENGTH,
                                &type);
        if (error) {
            return error;
        }
        if (!strcmp(type, "HARD")) {
            reboot_type = VIRT_REBOOT_HARD;
        } else if (strcmp(type, "SOFT")) {
            return error_new(ERROR_INVALID, "Invalid reboot_type '%s': "
                             "expected 'SOFT' or 'HARD'", type);
        }
    }

    op = compute_manager_op_new(host, action ? COMPUTE_OP_ACTION
                                             : COMPUTE_OP_TERMINATE,
                                inst->uuid, msg->ctx.request_id);
    op->action = action;
    op->reboot_type = reboot_type;
    op->inst = TAKE_PTR(inst);
    return NULL;
}

static void
compute_manager_console_work(void *job_)
{
    struct compute_console_job *job = job_;

    job->error = virt_driver_get_console_output(
        job->host->driver, job->uuid, VIRT_CONSOLE_OUTPUT_MAX_SIZE,
        &job->output, &job->size);
}

static void
compute_manager_console_done(void *job_, bool cancelled)
{
    struct compute_console_job *job = job_;
    struct json_object *result = NULL;
    struct error *error = TAKE_PTR(job->error);

    if (cancelled && !error) {
        error = error_new(ERROR_UNAVAILABLE, "nova-compute is stopping");
    }
    if (!error) {
        AUTOFREE char *tail = compute_spec_tail_lines(job->output, job->size,
                                                      job->n_lines);

        result = json_object_new_object();
        json_object_object_add(result, "output",
                               json_object_new_string(tail));
    }
    rpc_request_reply(job->req, result, error);
    free(job->output);
    free(job);
}

static struct error *
compute_manager_handle_console(struct rpc_request *req, void *host_,
                               struct json_object **ret_result)
{
    struct compute_host *host = host_;
    const struct rpc_msg *msg = rpc_request_msg(req);
    struct compute_console_job *job = xzalloc(sizeof *job);
    const char *uuid = json_object_get_string(
        json_object_object_get(msg->args, "instance_uuid"));
    long long n_lines = -1;

    (void) ret_result;
    /* Checked by the validator already. */
    error_free(json_get_int(msg->args, NULL, "length", false, -1,
                            COMPUTE_MANAGER_MAX_CONSOLE_LINES, &n_lines));
    job->host = host;
    job->req = req;
    job->n_lines = n_lines;
    (void) uuid_normalize(uuid, job->uuid);
    rpc_request_defer(req);
    compute_workers_submit(host->mgr->workers, compute_manager_console_work,
                           compute_manager_console_done, job);
    return NULL;
}

/* snapshot_instance runs in compute-snapshot.c. */
static struct error *
compute_manager_handle_snapshot(struct rpc_request *req, void *host_,
                                struct json_object **ret_result)
{
    struct compute_host *host = host_;
    const struct compute_snapshot_env env = {
        .workers = host->mgr->workers,
        .conductor = host->mgr->conductor,
        .image_cache = host->mgr->image_cache,
        .instances_dir = host->mgr->instances_dir,
        .host = host->name,
        .simulated = host->mgr->options.domain_type == VIRT_DOMAIN_TEST,
    };

    (void) ret_result;
    return compute_snapshot_start(&env, rpc_request_msg(req));
}

static const struct rpc_method compute_manager_methods[] = {
    { COMPUTE_BUILD_AND_RUN_INSTANCE, compute_manager_handle_build,
      compute_manager_validate_instance },
    { COMPUTE_TERMINATE_INSTANCE, compute_manager_handle_instance_op,
      compute_manager_validate_instance },
    { COMPUTE_REBOOT_INSTANCE, compute_manager_handle_instance_op,
      compute_manager_validate_instance },
    { COMPUTE_STOP_INSTANCE, compute_manager_handle_instance_op,
      compute_manager_validate_instance },
    { COMPUTE_START_INSTANCE, compute_manager_handle_instance_op,
      compute_manager_validate_instance },
    { COMPUTE_PAUSE_INSTANCE, compute_manager_handle_instance_op,
      compute_manager_validate_instance },
    { COMPUTE_UNPAUSE_INSTANCE, compute_manager_handle_instance_op,
      compute_manager_validate_instance },
    { COMPUTE_SUSPEND_INSTANCE, compute_manager_handle_instance_op,
      compute_manager_validate_instance },
    { COMPUTE_RESUME_INSTANCE, compute_manager_handle_instance_op,
      compute_manager_validate_instance },
    { COMPUTE_GET_CONSOLE_OUTPUT, compute_manager_handle_console,
      compute_manager_validate_console },
    { COMPUTE_SNAPSHOT_INSTANCE, compute_manager_handle_snapshot,
      compute_manager_validate_instance },
};

/* ---- Host jobs --------------------------------------------------------- */

static void
compute_manager_host_job_free(struct compute_host_job *job)
{
    instance_list_free(job->db);
    error_free(job->error);
    virt_inventory_free(job->inventory);
    virt_instance_list_free(job->list);
    free(job);
}

/* Runs on libvirt's event thread: queue only. */
static void
compute_manager_event_cb(struct virt_driver *driver, const char *uuid,
                         enum virt_event event, void *host_)
{
    struct compute_host *host = host_;
    struct compute_event *ev = xzalloc(sizeof *ev);

    (void) driver;
    ev->host = host;
    snprintf(ev->uuid, sizeof ev->uuid, "%s", uuid);
    ev->event = event;
    compute_queue_push(host->mgr->events, &ev->node);
}

static void
compute_manager_host_job_work(void *job_)
{
    struct compute_host_job *job = job_;
    struct compute_host *host = job->host;

    switch (job->kind) {
    case COMPUTE_HOST_JOB_INIT:
        job->error = virt_driver_init_host(host->driver);
        if (!job->error) {
            job->error = virt_driver_set_event_callback(
                host->driver, compute_manager_event_cb, host);
        }
        break;
    case COMPUTE_HOST_JOB_REPORT:
        job->error = virt_driver_get_available_resource(host->driver,
                                                        &job->inventory);
        break;
    case COMPUTE_HOST_JOB_LIST:
        job->error = virt_driver_list_instances(host->driver, &job->list);
        break;
    }
}

static void compute_manager_host_job_done(void *job_, bool cancelled);

static void
compute_manager_host_submit(struct compute_host *host,
                            struct compute_host_job *job)
{
    job->host = host;
    compute_workers_submit(host->mgr->workers, compute_manager_host_job_work,
                           compute_manager_host_job_done, job);
}

static void
compute_manager_request_report(struct compute_host *host)
{
    struct compute_host_job *job;

    if (host->phase == COMPUTE_HOST_STARTING) {
        return;
    }
    if (host->report_busy) {
        host->report_again = true;
        return;
    }
    host->report_busy = true;
    host->report_again = false;
    host->next_report_ms = poll_loop_now_ms()
                           + host->mgr->options.report_interval_ms;
    job = xzalloc(sizeof *job);
    job->kind = COMPUTE_HOST_JOB_REPORT;
    compute_manager_host_submit(host, job);
}

static void
compute_manager_report_done(struct compute_host *host,
                            struct compute_host_job *job)
{
    const struct virt_inventory *inv = job->inventory;
    struct json_object *args, *inventory;

    host->report_busy = false;
    if (host->report_again) {
        compute_manager_request_report(host);
    }
    if (job->error) {
        LOG_WARN_RL("cannot read the inventory of host '%s': %s",
                    host->name, error_message(job->error));
        return;
    }
    if (inv->hypervisor_hostname && *inv->hypervisor_hostname
        && strcmp(host->node, inv->hypervisor_hostname)) {
        free(host->node);
        host->node = xstrdup(inv->hypervisor_hostname);
    }
    inventory = json_object_new_object();
    json_object_object_add(inventory, "vcpus",
                           json_object_new_int64(inv->vcpus));
    json_object_object_add(inventory, "memory_mb",
                           json_object_new_int64((int64_t) inv->memory_mb));
    json_object_object_add(inventory, "local_gb",
                           json_object_new_int64((int64_t) inv->local_gb));
    json_object_object_add(inventory, "hypervisor_type",
                           json_object_new_string(inv->hypervisor_type
                                                  ? inv->hypervisor_type
                                                  : ""));
    json_object_object_add(inventory, "hypervisor_version",
                           json_object_new_int64(
                               (int64_t) inv->hypervisor_version));
    json_object_object_add(inventory, "hypervisor_hostname",
                           json_object_new_string(host->node));
    json_object_object_add(inventory, "cpu_info",
                           json_object_new_string(inv->cpu_info
                                                  ? inv->cpu_info : "{}"));
    json_object_object_add(inventory, "running_vms",
                           json_object_new_int64(inv->n_running));

    args = json_object_new_object();
    json_object_object_add(args, "host", json_object_new_string(host->name));
    json_object_object_add(args, "node", json_object_new_string(host->node));
    json_object_object_add(args, "inventory", inventory);
    compute_conductor_cast(host->mgr->conductor, NULL, NULL,
                           CONDUCTOR_COMPUTE_NODE_UPDATE, args);
}

/* The recovery of 'host' failed: it stays pending and is tried again
 * after a pause, not at once, so that a conductor that is down for long
 * is not asked in a tight loop by every host. */
static void
compute_manager_retry_recovery_later(struct compute_host *host)
{
    host->recover_pending = true;
    host->next_sync_ms = poll_loop_now_ms() + COMPUTE_MANAGER_INIT_RETRY_MS;
}

/* Finds the driver's entry for 'uuid' in 'list', or NULL. */
static const struct virt_instance_entry *
compute_manager_find_entry(const struct virt_instance_list *list,
                           const char *uuid)
{
    for (size_t i = 0; i < list->n_entries; i++) {
        if (!strcmp(list->entries[i].uuid, uuid)) {
            return &list->entries[i];
        }
    }
    return NULL;
}

/* True if 'uuid' is in the conductor's list 'db'. */
static bool
compute_manager_db_has(const struct instance_list *db, const char *uuid)
{
    for (size_t i = 0; i < db->n; i++) {
        if (!strcmp(db->items[i]->uuid, uuid)) {
            return true;
        }
    }
    return false;
}

static void
compute_manager_start_serving(struct compute_host *host)
{
    struct rpc_server_options so = {
        .topic = COMPUTE_TOPIC,
        .server = host->name,
        .version = COMPUTE_RPC_VERSION,
        .methods = compute_manager_methods,
        .n_methods = ARRAY_SIZE(compute_manager_methods),
        .aux = host,
    };
    struct error *error;

    host->serve_pending = false;
    error = rpc_server_new(host->mgr->conn, &so, &host->server);
    if (error) {
        /* The connection starts over after a refusal: try again. */
        LOG_ERR("cannot consume the queue of host '%s': %s, retrying",
                host->name, error_message(error));
        error_free(error);
        host->serve_pending = true;
        host->next_init_ms = poll_loop_now_ms()
                             + COMPUTE_MANAGER_INIT_RETRY_MS;
        return;
    }
    host->phase = COMPUTE_HOST_SERVING;
    LOG_INFO("host '%s' is serving queue '%s.%s'", host->name,
             COMPUTE_TOPIC, host->name);
}

/* The domains of 'host' are listed and 'job->db' holds the conductor's
 * instances of the host: recover or sync each. */
static void
compute_manager_list_done(struct compute_host *host,
                          struct compute_host_job *job)
{
    struct compute_manager *mgr = host->mgr;
    bool recovering = job->recovering;

    host->sync_busy = false;
    if (job->error) {
        LOG_WARN_RL("cannot list the domains of host '%s': %s%s",
                    host->name, error_message(job->error),
                    recovering ? ", recovering later" : "");
        if (recovering) {
            compute_manager_retry_recovery_later(host);
        }
    } else {
        for (size_t i = 0; i < job->db->n; i++) {
            struct instance *inst = job->db->items[i];
            const struct virt_instance_entry *entry
                = compute_manager_find_entry(job->list, inst->uuid);
            bool found = entry != NULL;
            enum instance_power_state power = found
                ? compute_manager_power(entry->power_state)
                : INSTANCE_POWER_NOSTATE;
            enum compute_recover_action action = COMPUTE_RECOVER_SYNC;
            struct compute_sync_decision d;
            struct compute_op *op;

            if (compute_manager_has_op_before(mgr, NULL, inst->uuid)) {
                continue;       /* Work in progress reports the state. */
            }
            if (recovering) {
                action = compute_recover_decide(inst->vm_state,
                                                inst->task_state, found,
                                                power);
            }
            if (action == COMPUTE_RECOVER_SYNC) {
                compute_sync_decide(inst->vm_state, inst->task_state,
                                    inst->power_state, found, power, &d);
                if (d.action == COMPUTE_SYNC_NONE) {
                    continue;
                }
            } else if (action == COMPUTE_RECOVER_WAIT) {
                continue;
            }
            op = compute_manager_op_new(host, recovering
                                        && action != COMPUTE_RECOVER_SYNC
                                        ? COMPUTE_OP_RECOVER
                                        : COMPUTE_OP_SYNC,
                                        inst->uuid, NULL);
            op->recover = action;
            op->have_facts = true;
            op->found = found;
            op->power = power;
            op->inst = instance_clone(inst);
        }
        for (size_t i = 0; i < job->list->n_entries; i++) {
            const struct virt_instance_entry *e = &job->list->entries[i];

            if (!compute_manager_db_has(job->db, e->uuid)) {
                LOG_DBG("domain '%s' (%s) on host '%s' is not an instance "
                        "of this host, leaving it alone", e->name, e->uuid,
                        host->name);
            }
        }
        if (recovering) {
            host->recover_pending = false;
        }
    }
    if (host->phase == COMPUTE_HOST_RECOVERING) {
        compute_manager_start_serving(host);
    }
}

static void
compute_manager_instances_cb(struct json_object *result, struct error *error,
                             void *job_)
{
    struct compute_host_job *job = job_;
    struct compute_host *host = job->host;
    CLEANUP(json_putp) struct json_object *owned = result;
    struct json_object *array = NULL;

    if (host->mgr->stopping) {
        error_free(error);
        compute_manager_host_job_free(job);
        return;
    }
    if (!error) {
        error = json_get_array(result, NULL, "instances", true,
                               COMPUTE_MANAGER_MAX_HOST_INSTANCES, &array);
    }
    job->db = instance_list_new();
    for (size_t i = 0; !error && i < json_object_array_length(array); i++) {
        AUTOFREE char *path = xasprintf("instances[%zu]", i);
        struct instance *inst;

        error = instance_from_json(json_object_array_get_idx(array, i), path,
                                   &inst);
        if (!error) {
            instance_list_push(job->db, inst);
        }
    }
    if (error) {
        LOG_WARN_RL("cannot get the instances of host '%s' from the "
                    "conductor: %s%s", host->name, error_message(error),
                    job->recovering ? ", recovering later" : "");
        error_free(error);
        host->sync_busy = false;
        if (job->recovering) {
            compute_manager_retry_recovery_later(host);
        }
        compute_manager_host_job_free(job);
        if (host->phase == COMPUTE_HOST_RECOVERING) {
            compute_manager_start_serving(host);
        }
        return;
    }
    job->kind = COMPUTE_HOST_JOB_LIST;
    compute_manager_host_submit(host, job);
}

/* Starts a periodic sync of 'host', or its recovery. */
static void
compute_manager_host_sync(struct compute_host *host, bool recovering)
{
    struct compute_host_job *job = xzalloc(sizeof *job);
    struct json_object *args = json_object_new_object();

    host->sync_busy = true;
    host->next_sync_ms = poll_loop_now_ms()
                         + host->mgr->options.sync_interval_ms;
    job->host = host;
    job->recovering = recovering;
    json_object_object_add(args, "host", json_object_new_string(host->name));
    compute_conductor_call(host->mgr->conductor, NULL, NULL,
                           CONDUCTOR_INSTANCES_ON_HOST, args,
                           compute_manager_instances_cb, job);
}

static void
compute_manager_host_job_done(void *job_, bool cancelled)
{
    struct compute_host_job *job = job_;
    struct compute_host *host = job->host;

    if (cancelled || host->mgr->stopping) {
        compute_manager_host_job_free(job);
        return;
    }
    switch (job->kind) {
    case COMPUTE_HOST_JOB_INIT:
        host->init_busy = false;
        if (job->error) {
            LOG_ERR("host '%s' is not usable: %s, retrying in %lld s",
                    host->name, error_message(job->error),
                    COMPUTE_MANAGER_INIT_RETRY_MS / 1000);
            host->next_init_ms = poll_loop_now_ms()
                                 + COMPUTE_MANAGER_INIT_RETRY_MS;
            break;
        }
        host->phase = COMPUTE_HOST_RECOVERING;
        compute_manager_request_report(host);
        compute_manager_host_sync(host, true);
        break;
    case COMPUTE_HOST_JOB_REPORT:
        compute_manager_report_done(host, job);
        break;
    case COMPUTE_HOST_JOB_LIST:
        compute_manager_list_done(host, job);
        break;
    }
    compute_manager_host_job_free(job);
}

static void
compute_manager_heartbeat(struct compute_host *host)
{
    struct json_object *args = json_object_new_object();

    json_object_object_add(args, "host", json_object_new_string(host->name));
    json_object_object_add(args, "binary",
                           json_object_new_string(COMPUTE_MANAGER_BINARY));
    json_object_object_add(args, "topic",
                           json_object_new_string(COMPUTE_TOPIC));
    json_object_object_add(args, "version", json_object_new_int(
                               COMPUTE_MANAGER_SERVICE_VERSION));
    compute_conductor_cast(host->mgr->conductor, NULL, NULL,
                           CONDUCTOR_SERVICE_HEARTBEAT, args);
}

static void
compute_manager_run_hosts(struct compute_manager *mgr)
{
    long long now = poll_loop_now_ms();

    for (size_t i = 0; i < mgr->n_hosts; i++) {
        struct compute_host *host = &mgr->hosts[i];

        if (now >= host->next_heartbeat_ms) {
            host->next_heartbeat_ms = now
                                      + mgr->options.heartbeat_interval_ms;
            /* A heartbeat is only worth its moment: while the broker is
             * unreachable, skip it rather than pile it up. */
            if (rpc_conn_is_connected(mgr->conn)) {
                compute_manager_heartbeat(host);
            }
        }
        if (host->phase == COMPUTE_HOST_STARTING && !host->init_busy
            && now >= host->next_init_ms) {
            struct compute_host_job *job = xzalloc(sizeof *job);

            host->init_busy = true;
            job->kind = COMPUTE_HOST_JOB_INIT;
            compute_manager_host_submit(host, job);
        }
        if (host->serve_pending && now >= host->next_init_ms) {
            compute_manager_start_serving(host);
        }
        if (host->phase == COMPUTE_HOST_STARTING) {
            continue;
        }
        if (!host->report_busy && now >= host->next_report_ms) {
            compute_manager_request_report(host);
        }
        if (host->phase == COMPUTE_HOST_SERVING && !host->sync_busy
            && now >= host->next_sync_ms
            && (host->recover_pending || mgr->options.sync_interval_ms > 0)) {
            compute_manager_host_sync(host, host->recover_pending);
        }
    }
}

static void
compute_manager_run_events(struct compute_manager *mgr)
{
    struct compute_queue_node *node = compute_queue_pop_all(mgr->events);

    while (node) {
        struct compute_event *ev = COMPUTE_QUEUE_ENTRY(node,
                                                       struct compute_event,
                                                       node);
        struct compute_host *host = ev->host;
        struct log_ctx ctx = { NULL, ev->uuid, NULL };

        node = node->next;
        LOG_DBG_CTX(&ctx, "lifecycle event '%s' on host '%s'",
                    virt_event_to_string(ev->event), host->name);
        if (host->phase == COMPUTE_HOST_SERVING
            && !compute_manager_has_op_before(mgr, NULL, ev->uuid)) {
            (void) compute_manager_op_new(host, COMPUTE_OP_SYNC, ev->uuid,
                                          NULL);
        }
        free(ev);
    }
}

/* ---- Public functions -------------------------------------------------- */

void
compute_manager_options_init(struct compute_manager_options *options)
{
    memset(options, 0, sizeof *options);
    options->domain_type = VIRT_DOMAIN_QEMU;
    options->n_workers = 2;
    options->heartbeat_interval_ms = COMPUTE_MANAGER_HEARTBEAT_MS;
    options->report_interval_ms = COMPUTE_MANAGER_REPORT_MS;
    options->sync_interval_ms = COMPUTE_MANAGER_SYNC_MS;
    options->shutdown_timeout_ms = COMPUTE_MANAGER_SHUTDOWN_TIMEOUT_MS;
    options->boot_timeout_ms = COMPUTE_MANAGER_BOOT_TIMEOUT_MS;
    compute_conductor_options_init(&options->conductor);
    options->image.max_age_s = COMPUTE_IMAGE_CACHE_DEFAULT_MAX_AGE;
    options->image_clean_interval_ms = COMPUTE_MANAGER_IMAGE_CLEAN_MS;
}

static struct error *
compute_manager_check(const struct compute_manager_options *o,
                      const struct compute_manager_host *hosts,
                      size_t n_hosts)
{
    struct error *error;

    if (!o->transport_url || !*o->transport_url) {
        return error_new(ERROR_INVALID, "No transport URL: set "
                         "'transport_url' to the leaf cell's RabbitMQ URL");
    }
    if (!o->state_path || o->state_path[0] != '/') {
        return error_new(ERROR_INVALID, "The state path '%s' is not an "
                         "absolute path",
                         o->state_path ? o->state_path : "");
    }
    if (!n_hosts || n_hosts > COMPUTE_MANAGER_MAX_HOSTS) {
        return error_new(ERROR_INVALID, "Cannot serve %zu hosts: 1 to %u "
                         "are allowed", n_hosts, COMPUTE_MANAGER_MAX_HOSTS);
    }
    if (o->heartbeat_interval_ms < 1 || o->report_interval_ms < 1
        || o->sync_interval_ms < 0 || o->boot_timeout_ms < 0) {
        return error_new(ERROR_INVALID, "Intervals must be positive");
    }
    for (size_t i = 0; i < n_hosts; i++) {
        if ((error = rpc_check_name("host name", hosts[i].name))) {
            return error;
        }
        if (!hosts[i].driver) {
            return error_new(ERROR_INVALID, "Host '%s' has no driver",
                             hosts[i].name);
        }
        for (size_t j = 0; j < i; j++) {
            if (!strcmp(hosts[i].name, hosts[j].name)) {
                return error_new(ERROR_INVALID, "Host '%s' is listed "
                                 "twice", hosts[i].name);
            }
        }
    }
    return NULL;
}

struct error *
compute_manager_new(const struct compute_manager_options *options,
                    const struct compute_manager_host *hosts, size_t n_hosts,
                    struct compute_manager **ret_manager)
{
    struct rpc_conn_options copts = { .name = COMPUTE_MANAGER_BINARY };
    struct compute_manager *mgr;
    struct error *error;
    int retval;

    if ((error = compute_manager_check(options, hosts, n_hosts))) {
        return error;
    }
    mgr = xzalloc(sizeof *mgr);
    mgr->options = *options;
    mgr->transport_url = xstrdup(options->transport_url);
    mgr->options.transport_url = mgr->transport_url;
    mgr->instances_dir = xasprintf("%s/" COMPUTE_MANAGER_INSTANCES_DIR,
                                   options->state_path);
    /* The instances directory exists from the start: a real host's
     * inventory reads its file system's size before the first build. */
    if ((mkdir(options->state_path, 0755) < 0 && errno != EEXIST)
        || (mkdir(mgr->instances_dir, 0755) < 0 && errno != EEXIST)) {
        LOG_WARN("cannot create '%s': %s, ignoring", mgr->instances_dir,
                 strerror(errno));
    }
    mgr->options.state_path = NULL;
    mgr->boot_marker = options->boot_marker && *options->boot_marker
                       ? xstrdup(options->boot_marker) : NULL;
    mgr->options.boot_marker = mgr->boot_marker;
    mgr->boot_check = options->boot_timeout_ms > 0
                      && (options->domain_type != VIRT_DOMAIN_TEST
                          || mgr->boot_marker);

    {
        struct compute_image_cache_options io = options->image;
        AUTOFREE char *cache_dir = io.cache_dir ? NULL : xasprintf(
            "%s/image-cache", options->state_path);

        if (cache_dir) {
            io.cache_dir = cache_dir;
        }
        /* Before the workers: libcurl's global set-up. */
        error = compute_image_cache_new(&io, &mgr->image_cache);
        memset(&mgr->options.image, 0, sizeof mgr->options.image);
        if (error) {
            goto out_free_cache;
        }
    }
    mgr->next_image_clean_ms = poll_loop_now_ms()
                               + options->image_clean_interval_ms;

    retval = compute_queue_new(&mgr->events);
    if (!retval) {
        retval = compute_workers_new(options->n_workers, &mgr->workers);
    }
    if (retval) {
        error = error_from_errno(retval, ERROR_INTERNAL, "Cannot start %u "
                                 "worker threads", options->n_workers);
        goto out_free;
    }
    error = rpc_conn_open(mgr->transport_url, &copts, &mgr->conn);
    if (error) {
        goto out_free;
    }
    mgr->conductor = compute_conductor_new(mgr->conn, &options->conductor);

    mgr->hosts = xcalloc(n_hosts, sizeof *mgr->hosts);
    mgr->n_hosts = n_hosts;
    for (size_t i = 0; i < n_hosts; i++) {
        struct compute_host *host = &mgr->hosts[i];

        host->mgr = mgr;
        host->name = xstrdup(hosts[i].name);
        host->node = xstrdup(hosts[i].name);
        host->driver = hosts[i].driver;
        host->recover_pending = true;
    }
    LOG_INFO("serving %zu host%s on %s", n_hosts, n_hosts == 1 ? "" : "s",
             rpc_conn_url(mgr->conn));
    *ret_manager = mgr;
    return NULL;

out_free:
    compute_workers_free(mgr->workers);
    compute_queue_free(mgr->events);
out_free_cache:
    compute_image_cache_free(mgr->image_cache);
    free(mgr->transport_url);
    free(mgr->instances_dir);
    free(mgr->boot_marker);
    free(mgr);
    return error;
}

void
compute_manager_free(struct compute_manager *mgr)
{
    struct compute_queue_node *node;
    struct error *error;

    if (!mgr) {
        return;
    }
    mgr->stopping = true;

    /* Stop taking work; deferred builds go back to the queue. */
    for (size_t i = 0; i < mgr->n_hosts; i++) {
        rpc_server_free(mgr->hosts[i].server);
        mgr->hosts[i].server = NULL;
    }
    /* Let the hypervisor calls in progress finish; their completions and
     * those of queued jobs only free their ops. */
    compute_workers_free(mgr->workers);
    for (size_t i = 0; i < mgr->n_hosts; i++) {
        struct compute_host *host = &mgr->hosts[i];

        /* Also when the start-up job has not reported yet: it may have
         * registered the callback before the workers stopped. */
        error = virt_driver_set_event_callback(host->driver, NULL, NULL);
        if (error) {
            LOG_DBG("%s, ignoring", error_message(error));
            error_free(error);
        }
    }
    node = compute_queue_pop_all(mgr->events);
    while (node) {
        struct compute_queue_node *next = node->next;

        free(COMPUTE_QUEUE_ENTRY(node, struct compute_event, node));
        node = next;
    }
    compute_queue_free(mgr->events);

    /* Give what was sent a chance to land, then drop the rest. */
    error = rpc_conn_flush(mgr->conn, COMPUTE_MANAGER_FLUSH_MS);
    if (error) {
        LOG_WARN("%s, giving up", error_message(error));
        error_free(error);
    }
    compute_conductor_free(mgr->conductor);
    while (mgr->ops_head) {
        compute_manager_op_free(mgr->ops_head);
    }
    rpc_conn_free(mgr->conn);
    compute_image_cache_free(mgr->image_cache);

    for (size_t i = 0; i < mgr->n_hosts; i++) {
        free(mgr->hosts[i].name);
        free(mgr->hosts[i].node);
    }
    free(mgr->hosts);
    free(mgr->transport_url);
    free(mgr->instances_dir);
    free(mgr->boot_marker);
    free(mgr);
}

void
compute_manager_run(struct compute_manager *mgr)
{
    rpc_conn_run(mgr->conn);
    compute_workers_run(mgr->workers);
    compute_manager_run_events(mgr);
    compute_manager_run_hosts(mgr);
    compute_manager_run_ops(mgr);
    compute_manager_run_image_clean(mgr);
    compute_conductor_run(mgr->conductor);
}

void
compute_manager_wait(struct compute_manager *mgr)
{
    long long earliest = LLONG_MAX;

    rpc_conn_wait(mgr->conn);
    compute_workers_wait(mgr->workers);
    compute_queue_wait(mgr->events);
    compute_conductor_wait(mgr->conductor);
    if (mgr->kick) {
        poll_immediate_wake();
    }
    for (size_t i = 0; i < mgr->n_hosts; i++) {
        const struct compute_host *host = &mgr->hosts[i];

        if (host->next_heartbeat_ms < earliest) {
            earliest = host->next_heartbeat_ms;
        }
        if (host->phase == COMPUTE_HOST_STARTING && !host->init_busy
            && host->next_init_ms < earliest) {
            earliest = host->next_init_ms;
        }
        if (host->serve_pending && host->next_init_ms < earliest) {
            earliest = host->next_init_ms;
        }
        if (host->phase != COMPUTE_HOST_STARTING && !host->report_busy
            && host->next_report_ms < earliest) {
            earliest = host->next_report_ms;
        }
        if (host->phase == COMPUTE_HOST_SERVING && !host->sync_busy
            && (host->recover_pending || mgr->options.sync_interval_ms > 0)
            && host->next_sync_ms < earliest) {
            earliest = host->next_sync_ms;
        }
    }
    for (const struct compute_op *op = mgr->ops_head; op; op = op->next) {
        if (op->boot_wait && op->next_boot_check_ms < earliest) {
            earliest = op->next_boot_check_ms;
        }
    }
    if (mgr->options.image_clean_interval_ms > 0 && !mgr->image_clean_busy
        && mgr->next_image_clean_ms < earliest) {
        earliest = mgr->next_image_clean_ms;
    }
    if (earliest != LLONG_MAX) {
        poll_timer_wait_until(earliest);
    }
}

bool
compute_manager_is_ready(const struct compute_manager *mgr)
{
    for (size_t i = 0; i < mgr->n_hosts; i++) {
        if (mgr->hosts[i].phase != COMPUTE_HOST_SERVING) {
            return false;
        }
    }
    return true;
}
