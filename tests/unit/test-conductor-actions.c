/* test-conductor-actions.c: the state checks of server actions
 * (child-cell/conductor-actions.h), against the table of Nova's
 * @check_instance_state decorators. */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "child-cell/conductor-actions.h"
#include "shared/error.h"
#include "shared/instance.h"

#define UUID "8a1c0e5e-2d1b-4a0e-9a3e-5b1f6f9d7c21"
/* Any launch time: only whether it is set matters. */
#define LAUNCHED 1700000000000LL

static void
test_transitions(void **state)
{
    static const struct {
        enum conductor_action action;
        enum instance_vm_state vm_state;
        enum instance_task_state task_state;
        bool launched;
        bool locked;
        bool is_admin;
        const char *error;      /* NULL: allowed; else part of the message */
    } cases[] = {
        /* Allowed. */
        { CONDUCTOR_ACTION_STOP, INSTANCE_VM_ACTIVE, INSTANCE_TASK_NONE,
          true, false, false, NULL },
        { CONDUCTOR_ACTION_STOP, INSTANCE_VM_ERROR, INSTANCE_TASK_NONE,
          true, false, false, NULL },
        { CONDUCTOR_ACTION_START, INSTANCE_VM_STOPPED, INSTANCE_TASK_NONE,
          true, false, false, NULL },
        { CONDUCTOR_ACTION_PAUSE, INSTANCE_VM_ACTIVE, INSTANCE_TASK_NONE,
          true, false, false, NULL },
        { CONDUCTOR_ACTION_UNPAUSE, INSTANCE_VM_PAUSED, INSTANCE_TASK_NONE,
          true, false, false, NULL },
        { CONDUCTOR_ACTION_SUSPEND, INSTANCE_VM_ACTIVE, INSTANCE_TASK_NONE,
          true, false, false, NULL },
        { CONDUCTOR_ACTION_RESUME, INSTANCE_VM_SUSPENDED,
          INSTANCE_TASK_NONE, true, false, false, NULL },
        { CONDUCTOR_ACTION_REBOOT_SOFT, INSTANCE_VM_ACTIVE,
          INSTANCE_TASK_NONE, true, false, false, NULL },
        { CONDUCTOR_ACTION_REBOOT_HARD, INSTANCE_VM_STOPPED,
          INSTANCE_TASK_NONE, true, false, false, NULL },
        { CONDUCTOR_ACTION_REBOOT_HARD, INSTANCE_VM_ERROR,
          INSTANCE_TASK_NONE, true, false, false, NULL },
        { CONDUCTOR_ACTION_REBOOT_HARD, INSTANCE_VM_ACTIVE,
          INSTANCE_TASK_REBOOTING, true, false, false, NULL },
        { CONDUCTOR_ACTION_REBOOT_HARD, INSTANCE_VM_PAUSED,
          INSTANCE_TASK_PAUSING, true, false, false, NULL },
        /* Delete: any state, launched or not. */
        { CONDUCTOR_ACTION_DELETE, INSTANCE_VM_BUILDING,
          INSTANCE_TASK_SCHEDULING, false, false, false, NULL },
        { CONDUCTOR_ACTION_DELETE, INSTANCE_VM_ERROR, INSTANCE_TASK_NONE,
          false, false, false, NULL },
        { CONDUCTOR_ACTION_DELETE, INSTANCE_VM_ACTIVE,
          INSTANCE_TASK_DELETING, true, false, false, NULL },
        /* Locked: refused, except for an administrator. */
        { CONDUCTOR_ACTION_STOP, INSTANCE_VM_ACTIVE, INSTANCE_TASK_NONE,
          true, true, false, "Instance " UUID " is locked" },
        { CONDUCTOR_ACTION_DELETE, INSTANCE_VM_ACTIVE, INSTANCE_TASK_NONE,
          true, true, false, "is locked" },
        { CONDUCTOR_ACTION_STOP, INSTANCE_VM_ACTIVE, INSTANCE_TASK_NONE,
          true, true, true, NULL },
        /* Wrong vm_state. */
        { CONDUCTOR_ACTION_START, INSTANCE_VM_ACTIVE, INSTANCE_TASK_NONE,
          true, false, false,
          "Instance " UUID " in vm_state active. Cannot start while the "
          "instance is in this state." },
        { CONDUCTOR_ACTION_STOP, INSTANCE_VM_STOPPED, INSTANCE_TASK_NONE,
          true, false, false, "in vm_state stopped. Cannot stop" },
        { CONDUCTOR_ACTION_STOP, INSTANCE_VM_BUILDING,
          INSTANCE_TASK_NONE, true, false, false, "vm_state building" },
        { CONDUCTOR_ACTION_PAUSE, INSTANCE_VM_PAUSED, INSTANCE_TASK_NONE,
          true, false, false, "Cannot pause" },
        { CONDUCTOR_ACTION_UNPAUSE, INSTANCE_VM_ACTIVE, INSTANCE_TASK_NONE,
          true, false, false, "Cannot unpause" },
        { CONDUCTOR_ACTION_RESUME, INSTANCE_VM_ACTIVE, INSTANCE_TASK_NONE,
          true, false, false, "Cannot resume" },
        { CONDUCTOR_ACTION_SUSPEND, INSTANCE_VM_STOPPED,
          INSTANCE_TASK_NONE, true, false, false, "Cannot suspend" },
        { CONDUCTOR_ACTION_REBOOT_SOFT, INSTANCE_VM_STOPPED,
          INSTANCE_TASK_NONE, true, false, false,
          "in vm_state stopped. Cannot reboot" },
        { CONDUCTOR_ACTION_REBOOT_HARD, INSTANCE_VM_BUILDING,
          INSTANCE_TASK_NONE, true, false, false, "vm_state building" },
        /* Wrong task_state. */
        { CONDUCTOR_ACTION_STOP, INSTANCE_VM_ACTIVE,
          INSTANCE_TASK_POWERING_OFF, true, false, false,
          "in task_state powering-off. Cannot stop" },
        { CONDUCTOR_ACTION_REBOOT_SOFT, INSTANCE_VM_ACTIVE,
          INSTANCE_TASK_REBOOTING, true, false, false,
          "task_state rebooting" },
        { CONDUCTOR_ACTION_REBOOT_HARD, INSTANCE_VM_ACTIVE,
          INSTANCE_TASK_DELETING, true, false, false,
          "task_state deleting" },
        { CONDUCTOR_ACTION_START, INSTANCE_VM_STOPPED,
          INSTANCE_TASK_POWERING_ON, true, false, false,
          "task_state powering-on" },
        /* Never launched. */
        { CONDUCTOR_ACTION_STOP, INSTANCE_VM_ERROR, INSTANCE_TASK_NONE,
          false, false, false,
          "in launched_at None. Cannot stop while the instance is in this "
          "state." },
        { CONDUCTOR_ACTION_REBOOT_HARD, INSTANCE_VM_ERROR,
          INSTANCE_TASK_NONE, false, false, false, "launched_at None" },
    };

    (void) state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CLEANUP(instance_freep) struct instance *inst = instance_new(UUID);
        CLEANUP(error_freep) struct error *error = NULL;

        inst->vm_state = cases[i].vm_state;
        inst->task_state = cases[i].task_state;
        inst->launched_at = cases[i].launched ? LAUNCHED
                                              : INSTANCE_TIME_NONE;
        inst->locked = cases[i].locked;
        error = conductor_action_check(cases[i].action, inst,
                                       cases[i].is_admin);
        if (!cases[i].error) {
            if (error) {
                fail_msg("row %zu: unexpected error '%s'", i,
                         error_message(error));
            }
            continue;
        }
        if (!error) {
            fail_msg("row %zu: allowed, expected '%s'", i, cases[i].error);
        }
        assert_int_equal(error_kind(error), ERROR_CONFLICT);
        if (!strstr(error_message(error), cases[i].error)) {
            fail_msg("row %zu: '%s' lacks '%s'", i, error_message(error),
                     cases[i].error);
        }
    }
}

/* What each action does once allowed. */
static void
test_effects(void **state)
{
    static const struct {
        enum conductor_action action;
        const char *name;
        const char *compute_method;
        enum instance_task_state new_task_state;
    } cases[] = {
        { CONDUCTOR_ACTION_DELETE, "delete", "terminate_instance",
          INSTANCE_TASK_DELETING },
        { CONDUCTOR_ACTION_REBOOT_SOFT, "reboot", "reboot_instance",
          INSTANCE_TASK_REBOOTING },
        { CONDUCTOR_ACTION_REBOOT_HARD, "reboot", "reboot_instance",
          INSTANCE_TASK_REBOOTING_HARD },
        { CONDUCTOR_ACTION_STOP, "stop", "stop_instance",
          INSTANCE_TASK_POWERING_OFF },
        { CONDUCTOR_ACTION_START, "start", "start_instance",
          INSTANCE_TASK_POWERING_ON },
        { CONDUCTOR_ACTION_PAUSE, "pause", "pause_instance",
          INSTANCE_TASK_PAUSING },
        { CONDUCTOR_ACTION_UNPAUSE, "unpause", "unpause_instance",
          INSTANCE_TASK_UNPAUSING },
        { CONDUCTOR_ACTION_SUSPEND, "suspend", "suspend_instance",
          INSTANCE_TASK_SUSPENDING },
        { CONDUCTOR_ACTION_RESUME, "resume", "resume_instance",
          INSTANCE_TASK_RESUMING },
    };

    (void) state;
    assert_int_equal(sizeof cases / sizeof cases[0], CONDUCTOR_N_ACTIONS);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct conductor_action_info *info
            = conductor_action_get(cases[i].action);

        assert_non_null(info);
        assert_string_equal(info->name, cases[i].name);
        assert_string_equal(info->compute_method, cases[i].compute_method);
        assert_int_equal(info->new_task_state, cases[i].new_task_state);
        /* The new task state itself is never accepted as a starting
         * point, except where Nova allows a repeat (hard reboot, delete),
         * so a repeated request cannot pass the conditional update
         * twice. */
        if (cases[i].action != CONDUCTOR_ACTION_DELETE
            && cases[i].action != CONDUCTOR_ACTION_REBOOT_HARD) {
            assert_false(conductor_action_accepts_task(
                             info, info->new_task_state));
        }
    }
    assert_null(conductor_action_get(CONDUCTOR_N_ACTIONS));
}

/* An out-of-range action is refused as invalid, not allowed. */
static void
test_unknown_action(void **state)
{
    CLEANUP(instance_freep) struct instance *inst = instance_new(UUID);
    CLEANUP(error_freep) struct error *error = NULL;

    (void) state;
    error = conductor_action_check(CONDUCTOR_N_ACTIONS, inst, true);
    assert_non_null(error);
    assert_int_equal(error_kind(error), ERROR_INVALID);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transitions),
        cmocka_unit_test(test_effects),
        cmocka_unit_test(test_unknown_action),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
