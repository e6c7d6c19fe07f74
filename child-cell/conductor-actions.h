/* conductor-actions.h: which server actions an instance's state allows,
 * and what each action does to it, as Nova's compute API decides.
 *
 * nova-conductor receives delete_instance, reboot_instance, stop_instance,
 * ... (child-cell/rpcapi.h).  Before it casts the action to the instance's
 * compute host it checks the transition exactly as Nova's
 * @check_instance_state decorators in nova/compute/api.py do:
 *
 *   action          vm_state                      task_state    new task
 *   delete          any                           any           deleting
 *   reboot SOFT     active                        none          rebooting
 *   reboot HARD     active stopped paused         ALLOW_REBOOT  rebooting_hard
 *                   suspended error
 *   stop            active error                  none          powering-off
 *   start           stopped                       none          powering-on
 *   pause           active                        none          pausing
 *   unpause         paused                        none          unpausing
 *   suspend         active                        none          suspending
 *   resume          suspended                     none          resuming
 *
 * ALLOW_REBOOT is none, rebooting, reboot_pending, reboot_started,
 * rebooting_hard, resuming, unpausing, pausing and suspending.  Every
 * action but delete also needs the instance to have launched
 * (launched_at set).  A locked instance refuses every action unless the
 * request comes from an administrator.
 *
 * The task state is then set with a conditional update whose expected
 * states are the allowed ones, so two requests racing for the same
 * instance cannot both pass.  Refusals are ERROR_CONFLICT errors with
 * Nova's messages (InstanceInvalidState, InstanceIsLocked).
 *
 * Pure logic: no database, no RPC. */
#ifndef CHILD_CELL_CONDUCTOR_ACTIONS_H
#define CHILD_CELL_CONDUCTOR_ACTIONS_H 1

#include <stdbool.h>
#include <stddef.h>
#include "shared/compiler.h"
#include "shared/instance.h"

struct error;

/* The actions; reboot has one per reboot type. */
enum conductor_action {
    CONDUCTOR_ACTION_DELETE,
    CONDUCTOR_ACTION_REBOOT_SOFT,
    CONDUCTOR_ACTION_REBOOT_HARD,
    CONDUCTOR_ACTION_STOP,
    CONDUCTOR_ACTION_START,
    CONDUCTOR_ACTION_PAUSE,
    CONDUCTOR_ACTION_UNPAUSE,
    CONDUCTOR_ACTION_SUSPEND,
    CONDUCTOR_ACTION_RESUME,
    CONDUCTOR_N_ACTIONS
};

/* Most task states one action accepts. */
#define CONDUCTOR_ACTION_MAX_TASK_STATES 16

/* What an action does. */
struct conductor_action_info {
    const char *name;               /* Nova's instance action: "reboot" */
    const char *compute_method;     /* Cast to compute.<host>. */
    const char *event;              /* Its event: "compute_reboot_instance" */
    enum instance_task_state new_task_state;
    bool any_vm_state;
    unsigned int vm_states;         /* 1 << INSTANCE_VM_*, if not any */
    bool any_task_state;
    /* Accepted task states (INSTANCE_TASK_NONE for none), if not any:
     * also the expected task states of the conditional update. */
    enum instance_task_state task_states[CONDUCTOR_ACTION_MAX_TASK_STATES];
    size_t n_task_states;
    bool must_have_launched;
};

/* Returns the description of 'action' (valid for the program's life), or
 * NULL for a value outside the enum. */
const struct conductor_action_info *conductor_action_get(
    enum conductor_action action);

/* Checks that 'inst' may undergo 'action' for a request whose admin flag
 * is 'is_admin'.  Returns NULL, or an ERROR_CONFLICT error with Nova's
 * message:
 *   "Instance UUID is locked"
 *   "Instance UUID in vm_state stopped. Cannot stop while the instance is
 *    in this state."
 *   "Instance UUID in task_state powering-off. Cannot stop while the
 *    instance is in this state."
 *   "Instance UUID in launched_at None. Cannot stop while the instance is
 *    in this state."
 * The caller owns the error. */
struct error *conductor_action_check(enum conductor_action action,
                                     const struct instance *inst,
                                     bool is_admin) WARN_UNUSED;

/* True if the task state 'state' is among the accepted ones of 'info'. */
bool conductor_action_accepts_task(const struct conductor_action_info *info,
                                   enum instance_task_state state);

#endif /* CHILD_CELL_CONDUCTOR_ACTIONS_H */
