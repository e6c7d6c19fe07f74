/* test-cell-health.c: the per-child circuit breaker.  Configuration checks
 * with failure rows; a table of scenarios, each a list of timed events
 * (report, start of a request, success, failure, or just looking) with
 * the state, whether the child may be scheduled and when the state next
 * changes, checked after every step at the exact boundaries; failures
 * disabled; state names. */
#include <config.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "cells-rpc/cell-health.h"
#include "shared/cleanup.h"
#include "shared/compiler.h"
#include "shared/error.h"

#define TEST_MAX_STEPS 16

/* Reports every 10 s, mute after 30 s, excluded after 6 missed reports
 * (60 s), a probe 20 s after opening, 15 s for its answer, 3 failures in
 * a row open the breaker. */
static const struct cell_health_config test_config = {
    .report_interval_ms = 10000,
    .mute_child_interval_ms = 30000,
    .max_missed_reports = 6,
    .probe_interval_ms = 20000,
    .probe_timeout_ms = 15000,
    .max_failures = 3,
};

static void
test_config_check(void **state)
{
    static const struct {
        const char *what;
        struct cell_health_config config;
        const char *error;      /* Start of the message; NULL: valid. */
    } cases[] = {
        { "test settings", { 10000, 30000, 6, 20000, 15000, 3 }, NULL },
        { "mute exactly at exclusion", { 10000, 30000, 3, 1, 1, 0 },
          NULL },
        { "mute exactly one report", { 10000, 10000, 1, 1, 1, 0 }, NULL },
        { "longest intervals",
          { CELL_HEALTH_MAX_INTERVAL_MS, CELL_HEALTH_MAX_INTERVAL_MS,
            CELL_HEALTH_MAX_COUNT, CELL_HEALTH_MAX_INTERVAL_MS,
            CELL_HEALTH_MAX_INTERVAL_MS, CELL_HEALTH_MAX_COUNT }, NULL },
        { "report interval 0", { 0, 30000, 6, 20000, 15000, 3 },
          "Cell health setting 'report_interval_ms' must be between 1 and "
          "604800000 ms, not 0" },
        { "negative mute interval", { 10000, -1, 6, 20000, 15000, 3 },
          "Cell health setting 'mute_child_interval_ms' must be between" },
        { "probe interval too long",
          { 10000, 30000, 6, CELL_HEALTH_MAX_INTERVAL_MS + 1, 15000, 3 },
          "Cell health setting 'probe_interval_ms' must be between" },
        { "probe timeout 0", { 10000, 30000, 6, 20000, 0, 3 },
          "Cell health setting 'probe_timeout_ms' must be between" },
        { "no missed reports", { 10000, 30000, 0, 20000, 15000, 3 },
          "Cell health setting 'max_missed_reports' must be between 1 and "
          "1000, not 0" },
        { "too many failures", { 10000, 30000, 6, 20000, 15000, 1001 },
          "Cell health setting 'max_failures' must be between 0 and 1000, "
          "not 1001" },
        { "muted between reports", { 10000, 9999, 6, 20000, 15000, 3 },
          "Cell health setting 'mute_child_interval_ms' (9999) must be at "
          "least 'report_interval_ms' (10000)" },
        { "excluded before muted", { 10000, 30000, 2, 20000, 15000, 3 },
          "Cell health setting 'max_missed_reports' (2) times "
          "'report_interval_ms' (10000) must be at least "
          "'mute_child_interval_ms' (30000)" },
    };
    struct cell_health_config defaults;

    (void) state;
    cell_health_config_init(&defaults);
    assert_null(cell_health_config_check(&defaults));
    assert_int_equal(defaults.mute_child_interval_ms, 300000);

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        CLEANUP(error_freep) struct error *error =
            cell_health_config_check(&cases[i].config);

        print_message("# %s\n", cases[i].what);
        if (!cases[i].error) {
            assert_null(error);
            continue;
        }
        assert_non_null(error);
        assert_int_equal(error_kind(error), ERROR_INVALID);
        if (strncmp(error_message(error), cases[i].error,
                    strlen(cases[i].error))) {
            fail_msg("got '%s'", error_message(error));
        }
    }
}

enum event {
    LOOK,                       /* No event: check the state at 'at'. */
    REPORT,
    START,                      /* Expect cell_health_start_request() to
                                 * return 'started'. */
    SUCCESS,
    FAILURE,
};

/* Shorthands for the expected state. */
#define HEALTHY CELL_HEALTH_HEALTHY
#define MUTE CELL_HEALTH_MUTE
#define EXCLUDED CELL_HEALTH_EXCLUDED
#define HALF_OPEN CELL_HEALTH_HALF_OPEN
/* 'next' value for "no change ever"; 0 means "not checked". */
#define NEVER INT64_MAX

struct step {
    int64_t at;
    enum event event;
    bool started;
    enum cell_health_state state;
    bool may;
    int64_t next;
};

struct scenario {
    const char *what;
    struct step steps[TEST_MAX_STEPS];
};

/* Every record starts at time 0; most get a first report then. */
static const struct scenario scenarios[] = {
    { "silence mutes, then excludes, then allows a probe", {
        { 0, REPORT, .state = HEALTHY, .may = true, .next = 30001 },
        { 30000, LOOK, .state = HEALTHY, .may = true, .next = 30001 },
        { 30001, LOOK, .state = MUTE, .may = true, .next = 60001 },
        { 60000, LOOK, .state = MUTE, .may = true, .next = 60001 },
        { 60001, LOOK, .state = EXCLUDED, .may = false, .next = 80000 },
        { 79999, START, .started = false, .state = EXCLUDED, .may = false },
        { 80000, LOOK, .state = HALF_OPEN, .may = true, .next = NEVER },
        { 80000, START, .started = true, .state = HALF_OPEN, .may = false,
          .next = 95000 },
        { 80001, START, .started = false, .state = HALF_OPEN,
          .may = false },
        { 90000, REPORT, .state = HEALTHY, .may = true, .next = 120001 },
    } },
    { "no report yet: mute, then excluded", {
        { 0, LOOK, .state = MUTE, .may = true, .next = 60001 },
        { 1, START, .started = true, .state = MUTE, .may = true },
        { 60001, LOOK, .state = EXCLUDED, .may = false, .next = 80000 },
        { 80000, LOOK, .state = HALF_OPEN, .may = true },
        { 85000, REPORT, .state = HEALTHY, .may = true },
    } },
    { "a failed probe opens the breaker again", {
        { 0, REPORT, .state = HEALTHY, .may = true },
        { 80000, START, .started = true, .state = HALF_OPEN, .may = false },
        { 81000, FAILURE, .state = EXCLUDED, .may = false, .next = 101000 },
        { 100999, START, .started = false, .state = EXCLUDED,
          .may = false },
        { 101000, START, .started = true, .state = HALF_OPEN, .may = false },
        { 102000, SUCCESS, .state = HALF_OPEN, .may = true, .next = NEVER },
        /* A working request path: one request at a time, no wait. */
        { 102000, START, .started = true, .state = HALF_OPEN, .may = false },
        { 102001, START, .started = false, .state = HALF_OPEN,
          .may = false },
        { 103000, FAILURE, .state = EXCLUDED, .may = false,
          .next = 123000 },
        { 123000, LOOK, .state = HALF_OPEN, .may = true },
        { 124000, REPORT, .state = HEALTHY, .may = true },
    } },
    { "a probe without an answer counts as failed", {
        { 0, REPORT, .state = HEALTHY, .may = true },
        { 80000, START, .started = true, .state = HALF_OPEN, .may = false,
          .next = 95000 },
        { 94999, LOOK, .state = HALF_OPEN, .may = false },
        { 95000, LOOK, .state = EXCLUDED, .may = false, .next = 115000 },
        { 114999, START, .started = false, .state = EXCLUDED,
          .may = false },
        { 115000, START, .started = true, .state = HALF_OPEN, .may = false,
          .next = 130000 },
        /* The late answer of the first probe is taken as this one's. */
        { 116000, FAILURE, .state = EXCLUDED, .may = false,
          .next = 136000 },
    } },
    { "failures in a row open the breaker; a success resets them", {
        { 0, REPORT, .state = HEALTHY, .may = true },
        { 1000, FAILURE, .state = HEALTHY, .may = true },
        { 2000, FAILURE, .state = HEALTHY, .may = true },
        { 2500, SUCCESS, .state = HEALTHY, .may = true },
        { 3000, FAILURE, .state = HEALTHY, .may = true },
        { 4000, FAILURE, .state = HEALTHY, .may = true },
        { 5000, FAILURE, .state = EXCLUDED, .may = false, .next = 25000 },
        /* A late failure does not push the probe back. */
        { 10000, FAILURE, .state = EXCLUDED, .may = false, .next = 25000 },
        { 25000, LOOK, .state = HALF_OPEN, .may = true },
        { 26000, REPORT, .state = HEALTHY, .may = true },
        { 27000, FAILURE, .state = HEALTHY, .may = true },
    } },
    { "requests to healthy and mute children take no probe", {
        { 0, REPORT, .state = HEALTHY, .may = true },
        { 1000, START, .started = true, .state = HEALTHY, .may = true },
        { 1000, START, .started = true, .state = HEALTHY, .may = true },
        { 40000, START, .started = true, .state = MUTE, .may = true },
        { 40000, SUCCESS, .state = MUTE, .may = true },
        { 40000, START, .started = true, .state = MUTE, .may = true },
    } },
    { "a report during a probe closes the breaker", {
        { 0, REPORT, .state = HEALTHY, .may = true },
        { 80000, START, .started = true, .state = HALF_OPEN, .may = false },
        { 81000, REPORT, .state = HEALTHY, .may = true },
        { 82000, FAILURE, .state = HEALTHY, .may = true },
        { 96000, LOOK, .state = HEALTHY, .may = true },
    } },
    { "silence after failures: the later opening counts", {
        { 0, REPORT, .state = HEALTHY, .may = true },
        { 1000, FAILURE, .state = HEALTHY, .may = true },
        { 1000, FAILURE, .state = HEALTHY, .may = true },
        { 1000, FAILURE, .state = EXCLUDED, .may = false, .next = 21000 },
        { 21000, LOOK, .state = HALF_OPEN, .may = true, .next = 60001 },
        /* Silence passes the exclusion time: open again since 60000. */
        { 60001, LOOK, .state = EXCLUDED, .may = false, .next = 80000 },
        { 80000, LOOK, .state = HALF_OPEN, .may = true },
    } },
    { "a clock reading before the last report", {
        { 100000, REPORT, .state = HEALTHY, .may = true },
        { 50000, LOOK, .state = HEALTHY, .may = true, .next = 130001 },
    } },
};

static const char *
event_name(enum event event)
{
    static const char *const names[] = {
        "look", "report", "start", "success", "failure",
    };

    return names[event];
}

static void
test_scenarios(void **state)
{
    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(scenarios); i++) {
        const struct scenario *s = &scenarios[i];
        struct cell_health health;

        print_message("# %s\n", s->what);
        cell_health_init(&health, &test_config, 0);
        for (size_t j = 0; j < TEST_MAX_STEPS; j++) {
            const struct step *step = &s->steps[j];

            if (j && !step->at && step->event == LOOK) {
                break;          /* End of the list. */
            }
            print_message("#   %lld %s\n", (long long) step->at,
                          event_name(step->event));
            switch (step->event) {
            case LOOK:
                break;
            case REPORT:
                cell_health_record_report(&health, step->at);
                break;
            case START:
                assert_int_equal(cell_health_start_request(&health,
                                                           step->at),
                                 step->started);
                break;
            case SUCCESS:
                cell_health_record_success(&health, step->at);
                break;
            case FAILURE:
                cell_health_record_failure(&health, step->at);
                break;
            }
            assert_string_equal(
                cell_health_state_to_string(cell_health_state(&health,
                                                              step->at)),
                cell_health_state_to_string(step->state));
            assert_int_equal(cell_health_may_schedule(&health, step->at),
                             step->may);
            assert_int_equal(cell_health_is_mute(&health, step->at),
                             step->state == MUTE);
            if (step->next) {
                assert_int_equal(cell_health_next_change(&health, step->at),
                                 step->next);
            }
        }
    }
}

/* With max_failures 0, failures never open the breaker. */
static void
test_failures_disabled(void **state)
{
    struct cell_health_config config = test_config;
    struct cell_health health;

    (void) state;
    config.max_failures = 0;
    assert_null(cell_health_config_check(&config));
    cell_health_init(&health, &config, 0);
    cell_health_record_report(&health, 0);
    for (int i = 0; i < 2 * CELL_HEALTH_MAX_COUNT; i++) {
        cell_health_record_failure(&health, i);
    }
    assert_int_equal(cell_health_state(&health, 2000), CELL_HEALTH_HEALTHY);
    assert_true(cell_health_may_schedule(&health, 2000));
}

/* Exactly one probe, however many ask: a parent that tries a half-open
 * child for every request it receives sends it one request until the
 * probe's answer comes or its time runs out. */
static void
test_exactly_one_probe(void **state)
{
    struct cell_health health;
    int n_sent = 0;

    (void) state;
    cell_health_init(&health, &test_config, 0);
    cell_health_record_report(&health, 0);
    for (int64_t now = 80000; now < 95000; now += 10) {
        if (cell_health_may_schedule(&health, now)
            && cell_health_start_request(&health, now)) {
            n_sent++;
        }
    }
    assert_int_equal(n_sent, 1);
}

static void
test_state_names(void **state)
{
    static const struct {
        enum cell_health_state state;
        const char *name;
    } names[] = {
        { CELL_HEALTH_HEALTHY, "healthy" },
        { CELL_HEALTH_MUTE, "mute" },
        { CELL_HEALTH_EXCLUDED, "excluded" },
        { CELL_HEALTH_HALF_OPEN, "half-open" },
    };
    static const char *const bad[] = { "", "Healthy", "half_open", "up" };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        enum cell_health_state parsed;

        assert_string_equal(cell_health_state_to_string(names[i].state),
                            names[i].name);
        assert_int_equal(cell_health_state_from_string(names[i].name,
                                                       &parsed), 0);
        assert_int_equal(parsed, names[i].state);
    }
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        enum cell_health_state parsed = CELL_HEALTH_MUTE;

        assert_int_equal(cell_health_state_from_string(bad[i], &parsed),
                         -EINVAL);
        assert_int_equal(parsed, CELL_HEALTH_MUTE);
    }
    assert_string_equal(cell_health_state_to_string(
                            (enum cell_health_state) 99), "unknown");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_check),
        cmocka_unit_test(test_scenarios),
        cmocka_unit_test(test_failures_disabled),
        cmocka_unit_test(test_exactly_one_probe),
        cmocka_unit_test(test_state_names),
    };

    return cmocka_run_group_tests_name("cell-health", tests, NULL, NULL);
}
