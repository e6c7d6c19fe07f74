/* conductor-actions.c: the state checks of server actions (see
 * conductor-actions.h). */
#include <config.h>

#include "child-cell/conductor-actions.h"

#include "shared/compiler.h"
#include "shared/error.h"

#define VM(state) (1u << (state))

/* nova/compute/task_states.py ALLOW_REBOOT. */
#define CONDUCTOR_ALLOW_REBOOT                                          \
    { INSTANCE_TASK_NONE, INSTANCE_TASK_REBOOTING,                      \
      INSTANCE_TASK_REBOOT_PENDING, INSTANCE_TASK_REBOOT_STARTED,       \
      INSTANCE_TASK_REBOOTING_HARD, INSTANCE_TASK_RESUMING,             \
      INSTANCE_TASK_UNPAUSING, INSTANCE_TASK_PAUSING,                   \
      INSTANCE_TASK_SUSPENDING }
#define CONDUCTOR_N_ALLOW_REBOOT 9

/* Task state "none" only: the default of @check_instance_state. */
#define CONDUCTOR_NO_TASK { INSTANCE_TASK_NONE }, 1

static const struct conductor_action_info conductor_actions[] = {
    [CONDUCTOR_ACTION_DELETE] = {
        "delete", "terminate_instance", "compute_terminate_instance",
        INSTANCE_TASK_DELETING, true, 0, true, { INSTANCE_TASK_NONE }, 0,
        false,
    },
    [CONDUCTOR_ACTION_REBOOT_SOFT] = {
        "reboot", "reboot_instance", "compute_reboot_instance",
        INSTANCE_TASK_REBOOTING, false, VM(INSTANCE_VM_ACTIVE), false,
        CONDUCTOR_NO_TASK, true,
    },
    [CONDUCTOR_ACTION_REBOOT_HARD] = {
        "reboot", "reboot_instance", "compute_reboot_instance",
        INSTANCE_TASK_REBOOTING_HARD, false,
        VM(INSTANCE_VM_ACTIVE) | VM(INSTANCE_VM_STOPPED)
        | VM(INSTANCE_VM_PAUSED) | VM(INSTANCE_VM_SUSPENDED)
        | VM(INSTANCE_VM_ERROR), false,
        CONDUCTOR_ALLOW_REBOOT, CONDUCTOR_N_ALLOW_REBOOT, true,
    },
    [CONDUCTOR_ACTION_STOP] = {
        "stop", "stop_instance", "compute_stop_instance",
        INSTANCE_TASK_POWERING_OFF, false,
        VM(INSTANCE_VM_ACTIVE) | VM(INSTANCE_VM_ERROR), false,
        CONDUCTOR_NO_TASK, true,
    },
    [CONDUCTOR_ACTION_START] = {
        "start", "start_instance", "compute_start_instance",
        INSTANCE_TASK_POWERING_ON, false, VM(INSTANCE_VM_STOPPED), false,
        CONDUCTOR_NO_TASK, true,
    },
    [CONDUCTOR_ACTION_PAUSE] = {
        "pause", "pause_instance", "compute_pause_instance",
        INSTANCE_TASK_PAUSING, false, VM(INSTANCE_VM_ACTIVE), false,
        CONDUCTOR_NO_TASK, true,
    },
    [CONDUCTOR_ACTION_UNPAUSE] = {
        "unpause", "unpause_instance", "compute_unpause_instance",
        INSTANCE_TASK_UNPAUSING, false, VM(INSTANCE_VM_PAUSED), false,
        CONDUCTOR_NO_TASK, true,
    },
    [CONDUCTOR_ACTION_SUSPEND] = {
        "suspend", "suspend_instance", "compute_suspend_instance",
        INSTANCE_TASK_SUSPENDING, false, VM(INSTANCE_VM_ACTIVE), false,
        CONDUCTOR_NO_TASK, true,
    },
    [CONDUCTOR_ACTION_RESUME] = {
        "resume", "resume_instance", "compute_resume_instance",
        INSTANCE_TASK_RESUMING, false, VM(INSTANCE_VM_SUSPENDED), false,
        CONDUCTOR_NO_TASK, true,
    },
};

const struct conductor_action_info *
conductor_action_get(enum conductor_action action)
{
    if ((size_t) action >= ARRAY_SIZE(conductor_actions)) {
        return NULL;
    }
    return &conductor_actions[action];
}

bool
conductor_action_accepts_task(const struct conductor_action_info *info,
                              enum instance_task_state state)
{
    if (info->any_task_state) {
        return true;
    }
    for (size_t i = 0; i < info->n_task_states; i++) {
        if (info->task_states[i] == state) {
            return true;
        }
    }
    return false;
}

/* Nova's InstanceInvalidState message. */
static struct error *
conductor_action_invalid(const struct instance *inst, const char *attr,
                         const char *state, const char *action)
{
    return error_new(ERROR_CONFLICT, "Instance %s in %s %s. Cannot %s while "
                     "the instance is in this state.", inst->uuid, attr,
                     state, action);
}

struct error *
conductor_action_check(enum conductor_action action,
                       const struct instance *inst, bool is_admin)
{
    const struct conductor_action_info *info = conductor_action_get(action);

    if (!info) {
        return error_new(ERROR_INVALID, "Unknown server action %d",
                         (int) action);
    }
    if (inst->locked && !is_admin) {
        return error_new(ERROR_CONFLICT, "Instance %s is locked",
                         inst->uuid);
    }
    if (!info->any_vm_state
        && ((unsigned int) inst->vm_state >= INSTANCE_N_VM_STATES
            || !(info->vm_states & VM(inst->vm_state)))) {
        return conductor_action_invalid(
            inst, "vm_state", instance_vm_state_to_string(inst->vm_state),
            info->name);
    }
    if (!conductor_action_accepts_task(info, inst->task_state)) {
        return conductor_action_invalid(
            inst, "task_state",
            instance_task_state_to_string(inst->task_state), info->name);
    }
    if (info->must_have_launched && inst->launched_at == INSTANCE_TIME_NONE) {
        return conductor_action_invalid(inst, "launched_at", "None",
                                        info->name);
    }
    return NULL;
}
