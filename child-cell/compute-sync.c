/* compute-sync.c: power-state sync and recovery decisions (see
 * compute-sync.h).  The branches follow Nova's compute manager
 * (_sync_instance_power_state and _init_instance) so that operators see
 * the states they know. */
#include <config.h>
#include "child-cell/compute-sync.h"

#include <stddef.h>

static bool
compute_sync_is_off(enum instance_power_state power)
{
    return power == INSTANCE_POWER_SHUTDOWN
           || power == INSTANCE_POWER_CRASHED;
}

void
compute_sync_decide(enum instance_vm_state vm_state,
                    enum instance_task_state task_state,
                    enum instance_power_state db_power, bool found,
                    enum instance_power_state hv_power,
                    struct compute_sync_decision *ret_decision)
{
    struct compute_sync_decision d = {
        COMPUTE_SYNC_NONE, db_power, "in step with the hypervisor"
    };
    enum instance_power_state power = found ? hv_power
                                            : INSTANCE_POWER_NOSTATE;

    if (task_state != INSTANCE_TASK_NONE) {
        d.reason = "a task is in progress";
        *ret_decision = d;
        return;
    }
    if (vm_state == INSTANCE_VM_DELETED
        || vm_state == INSTANCE_VM_SOFT_DELETED) {
        d.reason = "the instance is deleted";
        *ret_decision = d;
        return;
    }
    if (power != db_power) {
        d.action = COMPUTE_SYNC_POWER_STATE;
        d.power_state = power;
        d.reason = found ? "the power state changed"
                         : "the domain is missing";
    }

    switch (vm_state) {
    case INSTANCE_VM_ACTIVE:
        if (found && (compute_sync_is_off(power)
                      || power == INSTANCE_POWER_SUSPENDED)) {
            d.action = COMPUTE_SYNC_MARK_STOPPED;
            d.power_state = power;
            d.reason = "the domain stopped outside the cloud";
        }
        break;
    case INSTANCE_VM_STOPPED:
        if (found && power != INSTANCE_POWER_NOSTATE
            && !compute_sync_is_off(power)) {
            d.action = COMPUTE_SYNC_FORCE_STOP;
            d.power_state = INSTANCE_POWER_SHUTDOWN;
            d.reason = "the instance is stopped but its domain is not";
        }
        break;
    case INSTANCE_VM_PAUSED:
        if (found && compute_sync_is_off(power)) {
            d.action = COMPUTE_SYNC_MARK_STOPPED;
            d.power_state = power;
            d.reason = "the paused domain stopped outside the cloud";
        }
        break;
    case INSTANCE_VM_BUILDING:
    case INSTANCE_VM_SUSPENDED:
    case INSTANCE_VM_RESCUED:
    case INSTANCE_VM_RESIZED:
    case INSTANCE_VM_SOFT_DELETED:
    case INSTANCE_VM_DELETED:
    case INSTANCE_VM_ERROR:
    case INSTANCE_VM_SHELVED:
    case INSTANCE_VM_SHELVED_OFFLOADED:
    case INSTANCE_N_VM_STATES:
        break;
    }
    *ret_decision = d;
}

enum compute_recover_action
compute_recover_decide(enum instance_vm_state vm_state,
                       enum instance_task_state task_state, bool found,
                       enum instance_power_state hv_power)
{
    if (task_state == INSTANCE_TASK_DELETING) {
        return COMPUTE_RECOVER_FINISH_DELETE;
    }
    if (vm_state == INSTANCE_VM_BUILDING) {
        if (task_state == INSTANCE_TASK_SCHEDULING) {
            return COMPUTE_RECOVER_WAIT;
        }
        return found && hv_power == INSTANCE_POWER_RUNNING
               ? COMPUTE_RECOVER_BUILD_DONE
               : COMPUTE_RECOVER_BUILD_FAILED;
    }
    if (task_state == INSTANCE_TASK_NONE) {
        return COMPUTE_RECOVER_SYNC;
    }
    return COMPUTE_RECOVER_SETTLE;
}

enum instance_vm_state
compute_sync_vm_state_for_power(bool found, enum instance_power_state power)
{
    if (!found) {
        return INSTANCE_VM_ERROR;
    }
    switch (power) {
    case INSTANCE_POWER_RUNNING:
        return INSTANCE_VM_ACTIVE;
    case INSTANCE_POWER_PAUSED:
        return INSTANCE_VM_PAUSED;
    case INSTANCE_POWER_SUSPENDED:
        return INSTANCE_VM_SUSPENDED;
    case INSTANCE_POWER_SHUTDOWN:
    case INSTANCE_POWER_NOSTATE:
        return INSTANCE_VM_STOPPED;
    case INSTANCE_POWER_CRASHED:
        return INSTANCE_VM_ERROR;
    }
    return INSTANCE_VM_ERROR;
}

const char *
compute_recover_action_to_string(enum compute_recover_action action)
{
    switch (action) {
    case COMPUTE_RECOVER_SYNC:
        return "sync";
    case COMPUTE_RECOVER_WAIT:
        return "wait";
    case COMPUTE_RECOVER_BUILD_DONE:
        return "build_done";
    case COMPUTE_RECOVER_BUILD_FAILED:
        return "build_failed";
    case COMPUTE_RECOVER_FINISH_DELETE:
        return "finish_delete";
    case COMPUTE_RECOVER_SETTLE:
        return "settle";
    }
    return "unknown";
}
