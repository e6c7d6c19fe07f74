/* test-compute-sync.c: nova-compute's power-state sync and recovery
 * decisions (child-cell/compute-sync.h), one table row per case Nova's
 * compute manager distinguishes. */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "child-cell/compute-sync.h"
#include "shared/compiler.h"

#define ACTIVE INSTANCE_VM_ACTIVE
#define BUILDING INSTANCE_VM_BUILDING
#define STOPPED INSTANCE_VM_STOPPED
#define PAUSED INSTANCE_VM_PAUSED
#define SUSPENDED INSTANCE_VM_SUSPENDED
#define ERROR_VM INSTANCE_VM_ERROR
#define DELETED INSTANCE_VM_DELETED

#define NONE INSTANCE_TASK_NONE

#define P_NO INSTANCE_POWER_NOSTATE
#define P_RUN INSTANCE_POWER_RUNNING
#define P_PAUSE INSTANCE_POWER_PAUSED
#define P_OFF INSTANCE_POWER_SHUTDOWN
#define P_CRASH INSTANCE_POWER_CRASHED
#define P_SUSP INSTANCE_POWER_SUSPENDED

static void
test_sync_decide(void **state)
{
    static const struct {
        enum instance_vm_state vm;
        enum instance_task_state task;
        enum instance_power_state db_power;
        bool found;
        enum instance_power_state hv_power;
        enum compute_sync_action action;
        enum instance_power_state power;    /* Recorded, unless NONE. */
    } cases[] = {
        /* In step: nothing to do. */
        { ACTIVE, NONE, P_RUN, true, P_RUN, COMPUTE_SYNC_NONE, P_RUN },
        { STOPPED, NONE, P_OFF, true, P_OFF, COMPUTE_SYNC_NONE, P_OFF },
        { PAUSED, NONE, P_PAUSE, true, P_PAUSE, COMPUTE_SYNC_NONE, P_PAUSE },
        /* A task in progress wins, whatever the hypervisor says. */
        { ACTIVE, INSTANCE_TASK_POWERING_OFF, P_RUN, true, P_OFF,
          COMPUTE_SYNC_NONE, P_RUN },
        { BUILDING, INSTANCE_TASK_SPAWNING, P_NO, false, P_NO,
          COMPUTE_SYNC_NONE, P_NO },
        { ACTIVE, INSTANCE_TASK_REBOOTING, P_RUN, true, P_OFF,
          COMPUTE_SYNC_NONE, P_RUN },
        /* Deleted instances are left alone. */
        { DELETED, NONE, P_RUN, true, P_OFF, COMPUTE_SYNC_NONE, P_RUN },
        /* Active, but the domain stopped, crashed or was suspended
         * outside the cloud: stopped. */
        { ACTIVE, NONE, P_RUN, true, P_OFF, COMPUTE_SYNC_MARK_STOPPED,
          P_OFF },
        { ACTIVE, NONE, P_RUN, true, P_CRASH, COMPUTE_SYNC_MARK_STOPPED,
          P_CRASH },
        { ACTIVE, NONE, P_RUN, true, P_SUSP, COMPUTE_SYNC_MARK_STOPPED,
          P_SUSP },
        /* Active and paused by the hypervisor: Nova ignores it, but the
         * power state is recorded. */
        { ACTIVE, NONE, P_RUN, true, P_PAUSE, COMPUTE_SYNC_POWER_STATE,
          P_PAUSE },
        /* Active and its domain is gone: only the power state. */
        { ACTIVE, NONE, P_RUN, false, P_RUN, COMPUTE_SYNC_POWER_STATE,
          P_NO },
        /* Stopped but running (or paused): power it off. */
        { STOPPED, NONE, P_OFF, true, P_RUN, COMPUTE_SYNC_FORCE_STOP,
          P_OFF },
        { STOPPED, NONE, P_OFF, true, P_PAUSE, COMPUTE_SYNC_FORCE_STOP,
          P_OFF },
        /* Stopped and its domain crashed or vanished: power state only. */
        { STOPPED, NONE, P_OFF, true, P_CRASH, COMPUTE_SYNC_POWER_STATE,
          P_CRASH },
        { STOPPED, NONE, P_OFF, false, P_NO, COMPUTE_SYNC_POWER_STATE,
          P_NO },
        /* Paused and the domain stopped: stopped. */
        { PAUSED, NONE, P_PAUSE, true, P_OFF, COMPUTE_SYNC_MARK_STOPPED,
          P_OFF },
        { PAUSED, NONE, P_PAUSE, true, P_RUN, COMPUTE_SYNC_POWER_STATE,
          P_RUN },
        /* Suspended and error instances: the power state only. */
        { SUSPENDED, NONE, P_SUSP, true, P_RUN, COMPUTE_SYNC_POWER_STATE,
          P_RUN },
        { ERROR_VM, NONE, P_NO, true, P_RUN, COMPUTE_SYNC_POWER_STATE,
          P_RUN },
        { ERROR_VM, NONE, P_RUN, true, P_RUN, COMPUTE_SYNC_NONE, P_RUN },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct compute_sync_decision d;

        compute_sync_decide(cases[i].vm, cases[i].task, cases[i].db_power,
                            cases[i].found, cases[i].hv_power, &d);
        print_message("row %zu: %s/%s db %s hv %s\n", i,
                      instance_vm_state_to_string(cases[i].vm),
                      instance_task_state_to_string(cases[i].task),
                      instance_power_state_to_string(cases[i].db_power),
                      cases[i].found
                      ? instance_power_state_to_string(cases[i].hv_power)
                      : "missing");
        assert_int_equal(d.action, cases[i].action);
        assert_int_equal(d.power_state, cases[i].power);
        assert_non_null(d.reason);
    }
}

static void
test_recover_decide(void **state)
{
    static const struct {
        enum instance_vm_state vm;
        enum instance_task_state task;
        bool found;
        enum instance_power_state hv_power;
        enum compute_recover_action action;
    } cases[] = {
        /* The build cast is still queued: leave it to it. */
        { BUILDING, INSTANCE_TASK_SCHEDULING, false, P_NO,
          COMPUTE_RECOVER_WAIT },
        { BUILDING, INSTANCE_TASK_SCHEDULING, true, P_RUN,
          COMPUTE_RECOVER_WAIT },
        /* Interrupted builds. */
        { BUILDING, INSTANCE_TASK_SPAWNING, true, P_RUN,
          COMPUTE_RECOVER_BUILD_DONE },
        { BUILDING, INSTANCE_TASK_SPAWNING, false, P_NO,
          COMPUTE_RECOVER_BUILD_FAILED },
        { BUILDING, INSTANCE_TASK_SPAWNING, true, P_OFF,
          COMPUTE_RECOVER_BUILD_FAILED },
        { BUILDING, INSTANCE_TASK_SPAWNING, true, P_PAUSE,
          COMPUTE_RECOVER_BUILD_FAILED },
        { BUILDING, INSTANCE_TASK_NETWORKING, true, P_RUN,
          COMPUTE_RECOVER_BUILD_DONE },
        { BUILDING, NONE, false, P_NO, COMPUTE_RECOVER_BUILD_FAILED },
        /* Deletes are finished, whatever the vm_state. */
        { ACTIVE, INSTANCE_TASK_DELETING, true, P_RUN,
          COMPUTE_RECOVER_FINISH_DELETE },
        { BUILDING, INSTANCE_TASK_DELETING, false, P_NO,
          COMPUTE_RECOVER_FINISH_DELETE },
        { ERROR_VM, INSTANCE_TASK_DELETING, false, P_NO,
          COMPUTE_RECOVER_FINISH_DELETE },
        /* Other tasks settle to the actual power state. */
        { ACTIVE, INSTANCE_TASK_REBOOTING, true, P_RUN,
          COMPUTE_RECOVER_SETTLE },
        { ACTIVE, INSTANCE_TASK_POWERING_OFF, true, P_OFF,
          COMPUTE_RECOVER_SETTLE },
        { STOPPED, INSTANCE_TASK_POWERING_ON, false, P_NO,
          COMPUTE_RECOVER_SETTLE },
        { ACTIVE, INSTANCE_TASK_SUSPENDING, true, P_SUSP,
          COMPUTE_RECOVER_SETTLE },
        /* No task: the ordinary sync. */
        { ACTIVE, NONE, true, P_RUN, COMPUTE_RECOVER_SYNC },
        { STOPPED, NONE, false, P_NO, COMPUTE_RECOVER_SYNC },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        enum compute_recover_action action = compute_recover_decide(
            cases[i].vm, cases[i].task, cases[i].found, cases[i].hv_power);

        print_message("row %zu: %s/%s -> %s\n", i,
                      instance_vm_state_to_string(cases[i].vm),
                      instance_task_state_to_string(cases[i].task),
                      compute_recover_action_to_string(action));
        assert_int_equal(action, cases[i].action);
    }
    assert_string_equal(compute_recover_action_to_string(
                            (enum compute_recover_action) 99), "unknown");
}

static void
test_vm_state_for_power(void **state)
{
    static const struct {
        bool found;
        enum instance_power_state power;
        enum instance_vm_state vm;
    } cases[] = {
        { true, P_RUN, ACTIVE },
        { true, P_PAUSE, PAUSED },
        { true, P_SUSP, SUSPENDED },
        { true, P_OFF, STOPPED },
        { true, P_NO, STOPPED },
        { true, P_CRASH, ERROR_VM },
        { false, P_RUN, ERROR_VM },
        { true, (enum instance_power_state) 2, ERROR_VM },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        assert_int_equal(compute_sync_vm_state_for_power(cases[i].found,
                                                         cases[i].power),
                         cases[i].vm);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sync_decide),
        cmocka_unit_test(test_recover_decide),
        cmocka_unit_test(test_vm_state_for_power),
    };

    return cmocka_run_group_tests_name("compute-sync", tests, NULL, NULL);
}
