/* compute-sync.h: what nova-compute does when the cloud's record of an
 * instance and the hypervisor disagree.
 *
 * Pure decisions, with no I/O, so that every row of the tables below is a
 * unit test (tests/unit/test-compute-sync.c); compute-manager.c gathers the
 * facts (the conductor's INSTANCE, the driver's power state) and carries
 * the decisions out.
 *
 * Power-state sync (Nova's _sync_instance_power_state), run for an
 * instance after a lifecycle event and for every instance of a host by the
 * periodic task.  An instance with a task in progress is left alone (the
 * task reports the outcome itself).  Otherwise the recorded power_state
 * follows the hypervisor's (a missing domain is "no state"), and the
 * vm_state:
 *   active  + domain shut down or crashed   -> stopped
 *   active  + domain suspended              -> stopped (Nova stops it
 *                                              through the API; here it is
 *                                              already off)
 *   active  + domain paused or missing      -> unchanged (Nova ignores
 *                                              both)
 *   stopped + domain running/paused/...     -> unchanged, and the domain
 *                                              is powered off
 *   paused  + domain shut down or crashed   -> stopped
 *   anything else                           -> unchanged
 *
 * Recovery at start (Nova's _init_instance), for each instance the
 * conductor says lives on the host:
 *   building, task scheduling               -> wait: the build cast is
 *                                              still queued for us
 *   building, any other task (or none)      -> domain running: the build
 *                                              finished (active); else
 *                                              build_failed, so that the
 *                                              conductor reschedules
 *   task deleting                           -> finish the delete
 *   any other task                          -> settle: vm_state from the
 *                                              actual power state, task
 *                                              cleared
 *   no task                                 -> the power-state sync above */
#ifndef NOVA_COMPUTE_SYNC_H
#define NOVA_COMPUTE_SYNC_H 1

#include <stdbool.h>
#include "shared/instance.h"

enum compute_sync_action {
    COMPUTE_SYNC_NONE,          /* Nothing to change. */
    COMPUTE_SYNC_POWER_STATE,   /* Record the hypervisor's power state. */
    COMPUTE_SYNC_MARK_STOPPED,  /* ... and vm_state stopped. */
    COMPUTE_SYNC_FORCE_STOP,    /* Power the domain off, then record it. */
};

struct compute_sync_decision {
    enum compute_sync_action action;
    /* The power state to record (for every action but NONE). */
    enum instance_power_state power_state;
    /* Why, for the log line: a static string. */
    const char *reason;
};

/* Decides the power-state sync of an instance recorded with 'vm_state',
 * 'task_state' and 'db_power', whose domain is 'found' (false: the
 * hypervisor does not know it) with power state 'hv_power'. */
void compute_sync_decide(enum instance_vm_state vm_state,
                         enum instance_task_state task_state,
                         enum instance_power_state db_power, bool found,
                         enum instance_power_state hv_power,
                         struct compute_sync_decision *ret_decision);

enum compute_recover_action {
    COMPUTE_RECOVER_SYNC,           /* No task: the power-state sync. */
    COMPUTE_RECOVER_WAIT,           /* Leave it to the queued cast. */
    COMPUTE_RECOVER_BUILD_DONE,     /* Report the build finished. */
    COMPUTE_RECOVER_BUILD_FAILED,   /* Destroy what exists, build_failed. */
    COMPUTE_RECOVER_FINISH_DELETE,  /* Destroy, instance_destroyed. */
    COMPUTE_RECOVER_SETTLE,         /* vm_state from the power state. */
};

/* Decides the recovery at start of an instance recorded with 'vm_state'
 * and 'task_state' whose domain is 'found' with power state 'hv_power'. */
enum compute_recover_action compute_recover_decide(
    enum instance_vm_state vm_state, enum instance_task_state task_state,
    bool found, enum instance_power_state hv_power);

/* The vm_state an instance settles to when its domain is in 'power' (or
 * missing, 'found' false): running -> active, paused -> paused,
 * suspended -> suspended, shut down -> stopped, crashed or missing ->
 * error, no state -> stopped. */
enum instance_vm_state compute_sync_vm_state_for_power(
    bool found, enum instance_power_state power);

/* The name of 'action', for logs ("build_done"). */
const char *compute_recover_action_to_string(enum compute_recover_action);

#endif /* NOVA_COMPUTE_SYNC_H */
