/* test-daemon.c: the common command line (options, --set shorthands,
 * configuration file precedence, usage errors) and signal handling. */
#include <config.h>

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "shared/cleanup.h"
#include "shared/daemon.h"
#include "shared/error.h"
#include "shared/log.h"
#include "shared/xalloc.h"

struct test_config {
    struct daemon_common common;
    char *cell;
    long long workers;
};

static const struct config_key test_keys[] = {
    DAEMON_COMMON_KEYS(struct test_config, common),
    { "cell", CONFIG_TYPE_STRING, offsetof(struct test_config, cell),
      "api", 0, 0, NULL, "Cell this program serves" },
    { "workers", CONFIG_TYPE_INT, offsetof(struct test_config, workers),
      "2", 1, 64, NULL, "Worker threads" },
};

static const struct config_schema test_schema = {
    "test.yaml", test_keys, ARRAY_SIZE(test_keys),
};

static const struct daemon_option test_options[] = {
    { "workers", "workers", "number of worker threads" },
};

static const struct daemon_info test_info = {
    "nova-test", "[ARGS]", "Exercises the common command line.",
    &test_schema, offsetof(struct test_config, common),
    test_options, ARRAY_SIZE(test_options),
};

/* Runs daemon_start() on a NULL-terminated list of arguments. */
static struct error *
start(struct test_config *cfg, int *ret_optind, bool *ret_exit_now, ...)
{
    char *argv[32];
    int argc = 0;
    va_list args;

    argv[argc++] = (char *) "nova-test";
    va_start(args, ret_exit_now);
    for (char *a; (a = va_arg(args, char *)) != NULL; ) {
        argv[argc++] = a;
    }
    va_end(args);
    argv[argc] = NULL;
    return daemon_start(&test_info, argc, argv, cfg, ret_optind,
                        ret_exit_now);
}

static int
teardown(void **state)
{
    (void) state;
    log_reset();
    return 0;
}

static void
test_defaults_and_remaining_args(void **state)
{
    struct test_config cfg;
    int optind_ = 0;
    bool exit_now = true;

    (void) state;
    assert_null(start(&cfg, &optind_, &exit_now, "db", "sync", NULL));
    assert_false(exit_now);
    assert_int_equal(optind_, 1);
    assert_string_equal(cfg.cell, "api");
    assert_int_equal(cfg.workers, 2);
    config_destroy(&test_schema, &cfg);
}

static void
test_set_and_shorthand_override(void **state)
{
    struct test_config cfg;
    int optind_;
    bool exit_now;

    (void) state;
    assert_null(start(&cfg, &optind_, &exit_now, "--set", "cell=api!east",
                      "--workers", "8", "--log-level", "warn,db:dbg",
                      "rest", NULL));
    assert_string_equal(cfg.cell, "api!east");
    assert_int_equal(cfg.workers, 8);
    assert_string_equal(cfg.common.log_level, "warn,db:dbg");
    assert_int_equal(optind_, 7);
    config_destroy(&test_schema, &cfg);
}

static void
test_command_line_wins_over_file(void **state)
{
    char path[] = "/tmp/test-daemon-XXXXXX";
    int fd = mkstemp(path);
    static const char yaml[] = "cell: api!west\nworkers: 4\n";
    struct test_config cfg;
    int optind_;
    bool exit_now;

    (void) state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, yaml, sizeof yaml - 1), sizeof yaml - 1);
    close(fd);
    assert_null(start(&cfg, &optind_, &exit_now, "--config", path,
                      "--set", "workers=5", NULL));
    assert_string_equal(cfg.cell, "api!west");
    assert_int_equal(cfg.workers, 5);
    config_destroy(&test_schema, &cfg);
    unlink(path);
}

static void
test_usage_errors_name_the_mistake(void **state)
{
    static const struct {
        const char *args[4];
        const char *expected;
    } cases[] = {
        { { "--bogus" }, "option '--bogus' is unknown" },
        { { "--set" }, "option '--set' is unknown or lacks its argument" },
        { { "--set", "nokey=1" }, "unknown key 'nokey'" },
        { { "--workers", "0" }, "must be between 1 and 64" },
        { { "--log-level", "loud" }, "Invalid log level specification "
          "'loud'" },
        { { "--log-format", "xml" }, "must be one of: text, json" },
        { { "--config", "/nonexistent/nova.yaml" },
          "Cannot open configuration file '/nonexistent/nova.yaml'" },
        { { "--log-file", "/nonexistent/dir/x.log" },
          "Cannot open log file '/nonexistent/dir/x.log'" },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct test_config cfg;
        int optind_;
        bool exit_now;
        CLEANUP(error_freep) struct error *err =
            start(&cfg, &optind_, &exit_now, cases[i].args[0],
                  cases[i].args[1], cases[i].args[2], NULL);

        assert_non_null(err);
        if (!strstr(error_message(err), cases[i].expected)) {
            fail_msg("case %zu: '%s' does not contain '%s'", i,
                     error_message(err), cases[i].expected);
        }
        /* Nothing left to free: config_destroy() on it is harmless. */
        config_destroy(&test_schema, &cfg);
    }
}

static void
test_version_exits_now(void **state)
{
    struct test_config cfg;
    int optind_;
    bool exit_now = false;

    (void) state;
    assert_null(start(&cfg, &optind_, &exit_now, "--version", NULL));
    assert_true(exit_now);
    config_destroy(&test_schema, &cfg);
}

static void
test_sighup_reopens_and_sigterm_exits(void **state)
{
    char path[] = "/tmp/test-daemon-log-XXXXXX";
    int fd = mkstemp(path);
    AUTOFREE char *rotated = xasprintf("%s.1", path);

    (void) state;
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(daemon_signals_init(), 0);
    assert_true(daemon_signal_fd() >= 0);
    assert_int_equal(log_set_file(path), 0);

    assert_int_equal(rename(path, rotated), 0);
    raise(SIGHUP);
    assert_false(daemon_signals_run());
    assert_int_equal(access(path, F_OK), 0);    /* Reopened: recreated. */

    assert_false(daemon_exit_requested());
    raise(SIGTERM);
    assert_true(daemon_signals_run());
    assert_true(daemon_exit_requested());

    daemon_signals_reset();
    unlink(path);
    unlink(rotated);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_defaults_and_remaining_args,
                                  teardown),
        cmocka_unit_test_teardown(test_set_and_shorthand_override, teardown),
        cmocka_unit_test_teardown(test_command_line_wins_over_file,
                                  teardown),
        cmocka_unit_test_teardown(test_usage_errors_name_the_mistake,
                                  teardown),
        cmocka_unit_test_teardown(test_version_exits_now, teardown),
        cmocka_unit_test_teardown(test_sighup_reopens_and_sigterm_exits,
                                  teardown),
    };

    return cmocka_run_group_tests_name("daemon", tests, NULL, NULL);
}
