/* test-log.c: log levels, per-module overrides, formats, rate limiting and
 * reopening after rotation.  Output goes to a temporary file that each test
 * reads back. */
#include <config.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "shared/cleanup.h"
#include "shared/log.h"
#include "shared/xalloc.h"

LOG_MODULE("test.log");

#define LOG_FILE_TEMPLATE "/tmp/test-log-XXXXXX"
static char log_file[] = LOG_FILE_TEMPLATE;

static int
setup(void **state)
{
    int fd = mkstemp(log_file);

    (void) state;
    if (fd < 0) {
        return -1;
    }
    close(fd);
    log_reset();
    log_set_daemon_name("test-daemon");
    return log_set_file(log_file);
}

static int
teardown(void **state)
{
    (void) state;
    log_reset();
    unlink(log_file);
    memcpy(log_file, LOG_FILE_TEMPLATE, sizeof log_file);
    return 0;
}

/* Returns the whole log file; the caller frees it. */
static char *
read_log(void)
{
    FILE *f = fopen(log_file, "r");
    size_t size = 0;
    char *text = xzalloc(65536);

    if (f) {
        size = fread(text, 1, 65535, f);
        fclose(f);
    }
    text[size] = '\0';
    return text;
}

static size_t
count_lines(const char *text)
{
    size_t n = 0;

    for (; *text; text++) {
        n += *text == '\n';
    }
    return n;
}

static void
test_text_line_has_all_fields(void **state)
{
    struct log_ctx ctx = {
        .request_id = "req-1", .instance_uuid = "abc",
        .cell_path = "api!east",
    };

    (void) state;
    LOG_WARN_CTX(&ctx, "child '%s' muted", "east-2");
    AUTOFREE char *text = read_log();
    assert_non_null(strstr(text, "|test-daemon|test.log|WARN|"
                           "req=req-1 inst=abc cell=api!east|"
                           "child 'east-2' muted\n"));
    assert_int_equal(text[4], '-');     /* ISO 8601 timestamp first. */
    assert_non_null(strstr(text, "Z|test-daemon"));
}

static void
test_levels_filter_and_module_override(void **state)
{
    (void) state;
    LOG_DBG("hidden at the default level");
    assert_int_equal(log_set_levels("warn,test.log:dbg"), 0);
    LOG_DBG("shown by the module override");
    assert_int_equal(log_set_levels("test.log:err"), 0);
    LOG_WARN("hidden by the module override");
    LOG_ERR("shown error");

    AUTOFREE char *text = read_log();
    assert_null(strstr(text, "hidden"));
    assert_non_null(strstr(text, "shown by the module override"));
    assert_non_null(strstr(text, "shown error"));
}

static void
test_bad_level_spec_changes_nothing(void **state)
{
    static const char *const bad[] = {
        "loud", "info,test.log:loud", "info,:dbg", "test.log:",
    };

    (void) state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(log_set_levels(bad[i]), -EINVAL);
    }
    LOG_INFO("still at info");
    LOG_DBG("debug stays hidden");
    AUTOFREE char *text = read_log();
    assert_non_null(strstr(text, "still at info"));
    assert_null(strstr(text, "debug stays hidden"));
}

static void
test_json_format(void **state)
{
    struct log_ctx ctx = { .request_id = "req-2" };
    struct json_object *obj, *field;

    (void) state;
    log_set_format(LOG_FORMAT_JSON);
    LOG_INFO_CTX(&ctx, "quote \" and\nnewline");
    AUTOFREE char *text = read_log();
    obj = json_tokener_parse(text);
    assert_non_null(obj);
    assert_true(json_object_object_get_ex(obj, "request_id", &field));
    assert_string_equal(json_object_get_string(field), "req-2");
    assert_true(json_object_object_get_ex(obj, "msg", &field));
    assert_string_equal(json_object_get_string(field), "quote \" and newline");
    assert_false(json_object_object_get_ex(obj, "cell", &field));
    json_object_put(obj);
}

static void
test_rate_limit_caps_a_flood(void **state)
{
    (void) state;
    for (int i = 0; i < 100; i++) {
        LOG_WARN_RL("bad message %d", i);
    }
    AUTOFREE char *text = read_log();
    assert_int_equal(count_lines(text), LOG_RATE_LIMIT_PER_MINUTE);
}

static void
test_reopen_follows_rotation(void **state)
{
    AUTOFREE char *rotated = xasprintf("%s.1", log_file);

    (void) state;
    LOG_INFO("before rotation");
    assert_int_equal(rename(log_file, rotated), 0);
    assert_int_equal(log_reopen(), 0);
    LOG_INFO("after rotation");

    AUTOFREE char *text = read_log();
    assert_null(strstr(text, "before rotation"));
    assert_non_null(strstr(text, "after rotation"));
    unlink(rotated);
}

static void
test_set_file_failure_keeps_destination(void **state)
{
    (void) state;
    assert_int_equal(log_set_file("/nonexistent-dir/x.log"), -ENOENT);
    LOG_INFO("still logging here");
    AUTOFREE char *text = read_log();
    assert_non_null(strstr(text, "still logging here"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_text_line_has_all_fields,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_levels_filter_and_module_override,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_level_spec_changes_nothing,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rate_limit_caps_a_flood,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_follows_rotation,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_set_file_failure_keeps_destination, setup, teardown),
    };

    return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
