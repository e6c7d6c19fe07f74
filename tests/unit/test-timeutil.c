/* test-timeutil.c: clocks, calendar conversion, and the ISO 8601 and
 * MariaDB timestamp formats both ways. */
#include <config.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "shared/compiler.h"
#include "shared/timeutil.h"

/* 2012-08-20T21:11:09Z, the timestamp of Nova's API samples. */
#define SAMPLE_MS INT64_C(1345497069000)
/* 2012-08-20T00:00:00Z */
#define SAMPLE_DAY_MS INT64_C(1345420800000)
/* 2012-02-29T12:00:00Z */
#define LEAP_DAY_MS INT64_C(1330516800000)
/* 2000-02-29T00:00:00Z */
#define LEAP_2000_MS INT64_C(951782400000)
/* 1900-03-01T00:00:00Z (1900 is not a leap year) */
#define MARCH_1900_MS INT64_C(-2203891200000)

#define UNTOUCHED INT64_C(-424242)

static int64_t
realtime_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
test_clocks(void **state)
{
    /* Bounds from the same clock: time(2) reads a coarse clock that can
     * lag CLOCK_REALTIME by a tick, so it cannot bound it. */
    int64_t before = realtime_ms();
    int64_t now = time_now_ms();
    int64_t after = realtime_ms();
    int64_t m1 = time_monotonic_ms();
    int64_t m2 = time_monotonic_ms();

    (void) state;
    assert_true(now >= before && now <= after);
    assert_true(m1 >= 0);
    assert_true(m2 >= m1);
}

static void
test_format_iso8601(void **state)
{
    static const struct {
        int64_t ms;
        enum time_style style;
        size_t size;            /* 0: TIME_ISO8601_SIZE. */
        int error;
        const char *text;
    } cases[] = {
        { 0, TIME_STYLE_SECONDS_Z, 0, 0, "1970-01-01T00:00:00Z" },
        { 0, TIME_STYLE_MICROS, 0, 0, "1970-01-01T00:00:00.000000" },
        { 0, TIME_STYLE_MILLIS_Z, 0, 0, "1970-01-01T00:00:00.000Z" },
        { SAMPLE_MS, TIME_STYLE_SECONDS_Z, 0, 0, "2012-08-20T21:11:09Z" },
        { SAMPLE_MS + 123, TIME_STYLE_SECONDS_Z, 0, 0,
          "2012-08-20T21:11:09Z" },
        { SAMPLE_MS + 123, TIME_STYLE_MICROS, 0, 0,
          "2012-08-20T21:11:09.123000" },
        { SAMPLE_MS + 7, TIME_STYLE_MILLIS_Z, 0, 0,
          "2012-08-20T21:11:09.007Z" },
        { LEAP_DAY_MS, TIME_STYLE_SECONDS_Z, 0, 0, "2012-02-29T12:00:00Z" },
        { LEAP_DAY_MS + 12 * 3600 * 1000, TIME_STYLE_SECONDS_Z, 0, 0,
          "2012-03-01T00:00:00Z" },
        { LEAP_2000_MS, TIME_STYLE_SECONDS_Z, 0, 0, "2000-02-29T00:00:00Z" },
        { MARCH_1900_MS - 1, TIME_STYLE_MILLIS_Z, 0, 0,
          "1900-02-28T23:59:59.999Z" },
        { -1, TIME_STYLE_MILLIS_Z, 0, 0, "1969-12-31T23:59:59.999Z" },
        { -1, TIME_STYLE_SECONDS_Z, 0, 0, "1969-12-31T23:59:59Z" },
        { TIME_MIN_MS, TIME_STYLE_SECONDS_Z, 0, 0, "0001-01-01T00:00:00Z" },
        { TIME_MAX_MS, TIME_STYLE_MILLIS_Z, 0, 0,
          "9999-12-31T23:59:59.999Z" },
        /* Exactly big enough: 20 characters and the NUL. */
        { SAMPLE_MS, TIME_STYLE_SECONDS_Z, 21, 0, "2012-08-20T21:11:09Z" },

        { SAMPLE_MS, TIME_STYLE_SECONDS_Z, 20, -ENOBUFS, "" },
        { SAMPLE_MS, TIME_STYLE_MICROS, 26, -ENOBUFS, "" },
        { TIME_MIN_MS - 1, TIME_STYLE_SECONDS_Z, 0, -ERANGE, "" },
        { TIME_MAX_MS + 1, TIME_STYLE_SECONDS_Z, 0, -ERANGE, "" },
        { INT64_MIN, TIME_STYLE_MILLIS_Z, 0, -ERANGE, "" },
        { INT64_MAX, TIME_STYLE_MILLIS_Z, 0, -ERANGE, "" },
        { 0, (enum time_style) 42, 0, -EINVAL, "" },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char buf[TIME_ISO8601_SIZE];
        size_t size = cases[i].size ? cases[i].size : sizeof buf;

        memset(buf, 'x', sizeof buf);
        assert_int_equal(time_format_iso8601(cases[i].ms, cases[i].style,
                                             buf, size),
                         cases[i].error);
        assert_string_equal(buf, cases[i].text);
    }
}

static void
test_parse_iso8601(void **state)
{
    static const struct {
        const char *s;
        int error;
        int64_t ms;
    } cases[] = {
        { "2012-08-20T21:11:09Z", 0, SAMPLE_MS },
        { "2012-08-20T21:11:09", 0, SAMPLE_MS },
        { "2012-08-20 21:11:09", 0, SAMPLE_MS },
        { "2012-08-20t21:11:09z", 0, SAMPLE_MS },
        { "2012-08-20T21:11:09.000000", 0, SAMPLE_MS },
        { "2012-08-20T21:11:09.123Z", 0, SAMPLE_MS + 123 },
        { "2012-08-20T21:11:09.1Z", 0, SAMPLE_MS + 100 },
        { "2012-08-20T21:11:09,5Z", 0, SAMPLE_MS + 500 },
        { "2012-08-20T21:11:09.123999999Z", 0, SAMPLE_MS + 123 },
        { "2012-08-20T23:11:09+02:00", 0, SAMPLE_MS },
        { "2012-08-20T23:11:09+0200", 0, SAMPLE_MS },
        { "2012-08-20T23:11:09+02", 0, SAMPLE_MS },
        { "2012-08-20T16:41:09-04:30", 0, SAMPLE_MS },
        { "2012-08-20T21:11:09-00:00", 0, SAMPLE_MS },
        { "2012-08-21T07:11:09.250+10:00", 0, SAMPLE_MS + 250 },
        { "2012-08-20T21:11Z", 0, SAMPLE_MS - 9000 },
        { "2012-08-20T21Z", 0, SAMPLE_MS - 11 * 60000 - 9000 },
        { "20120820T211109Z", 0, SAMPLE_MS },
        { "2012-08-20T211109Z", 0, SAMPLE_MS },
        { "2012-08-20", 0, SAMPLE_DAY_MS },
        { "20120820", 0, SAMPLE_DAY_MS },
        { "2012-08", 0, INT64_C(1343779200000) },
        { "2012", 0, INT64_C(1325376000000) },
        { "2012-02-29T12:00:00Z", 0, LEAP_DAY_MS },
        { "2000-02-29", 0, LEAP_2000_MS },
        { "1900-03-01T00:00:00Z", 0, MARCH_1900_MS },
        { "1970-01-01T00:00:00Z", 0, 0 },
        { "1969-12-31T23:59:59.999Z", 0, -1 },
        { "0001-01-01T00:00:00Z", 0, TIME_MIN_MS },
        { "9999-12-31T23:59:59.999Z", 0, TIME_MAX_MS },

        { "2013-02-29T00:00:00Z", -EINVAL },
        { "1900-02-29", -EINVAL },
        { "2012-04-31", -EINVAL },
        { "2012-13-01", -EINVAL },
        { "2012-00-10", -EINVAL },
        { "2012-08-00", -EINVAL },
        { "2012-08-32", -EINVAL },
        { "0000-01-01", -EINVAL },
        { "2012-08-20T24:00:00Z", -EINVAL },
        { "2012-08-20T21:60:00Z", -EINVAL },
        { "2012-08-20T21:11:60Z", -EINVAL },
        { "2012-08-20T21:11:09+24:00", -EINVAL },
        { "2012-08-20T21:11:09+02:60", -EINVAL },
        { "2012-08-20T21:11:09+2", -EINVAL },
        { "2012-08-20T21:11:09+02:0", -EINVAL },
        { "2012-08-20T21:11:09 +02:00", -EINVAL },
        { "2012-08-20T21:11:09.Z", -EINVAL },
        { "2012-08-20T21:11:09Zjunk", -EINVAL },
        { "2012-08-20T21:11:09ZZ", -EINVAL },
        { "2012-08-20T21:1", -EINVAL },
        { "2012-08-20T", -EINVAL },
        { "2012-08-20Z", -EINVAL },
        { "2012-08-20X21:11:09", -EINVAL },
        { "2012-8-20", -EINVAL },
        { "201208", -EINVAL },
        { "2012-08T10:00", -EINVAL },
        { "2012T10:00", -EINVAL },
        { " 2012-08-20", -EINVAL },
        { "2012-08-20 ", -EINVAL },
        { "12-08-20", -EINVAL },
        { "+2012-08-20", -EINVAL },
        { "yesterday", -EINVAL },
        { "", -EINVAL },
        { NULL, -EINVAL },
        /* Valid text, but the instant is outside years 1..9999. */
        { "0001-01-01T00:00:00+01:00", -ERANGE },
        { "9999-12-31T23:59:59-01:00", -ERANGE },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        int64_t ms = UNTOUCHED;
        int error = time_parse_iso8601(cases[i].s, &ms);

        if (error != cases[i].error) {
            fail_msg("time_parse_iso8601('%s') returned %d, expected %d",
                     cases[i].s ? cases[i].s : "(null)", error,
                     cases[i].error);
        }
        if (error) {
            assert_int_equal(ms, UNTOUCHED);
        } else if (ms != cases[i].ms) {
            fail_msg("time_parse_iso8601('%s') gave %lld, expected %lld",
                     cases[i].s, (long long) ms, (long long) cases[i].ms);
        }
    }
}

/* What the formatters print, the ISO 8601 parser reads back. */
static void
test_iso8601_round_trip(void **state)
{
    static const int64_t times[] = {
        0, -1, SAMPLE_MS, SAMPLE_MS + 999, LEAP_DAY_MS, LEAP_2000_MS,
        MARCH_1900_MS - 1, TIME_MIN_MS, TIME_MAX_MS,
    };
    static const enum time_style styles[] = {
        TIME_STYLE_SECONDS_Z, TIME_STYLE_MICROS, TIME_STYLE_MILLIS_Z,
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(times); i++) {
        for (size_t k = 0; k < ARRAY_SIZE(styles); k++) {
            char buf[TIME_ISO8601_SIZE];
            int64_t expected = times[i];
            int64_t ms = UNTOUCHED;

            if (styles[k] == TIME_STYLE_SECONDS_Z) {
                /* Whole seconds, rounded down. */
                expected -= ((expected % 1000) + 1000) % 1000;
            }
            assert_int_equal(time_format_iso8601(times[i], styles[k], buf,
                                                 sizeof buf), 0);
            assert_int_equal(time_parse_iso8601(buf, &ms), 0);
            assert_int_equal(ms, expected);
        }
    }
}

static void
test_civil(void **state)
{
    static const struct {
        struct time_civil civil;
        int error;
        int64_t ms;
    } cases[] = {
        { { 2012, 8, 20, 21, 11, 9, 0 }, 0, SAMPLE_MS },
        { { 2012, 2, 29, 12, 0, 0, 0 }, 0, LEAP_DAY_MS },
        { { 1969, 12, 31, 23, 59, 59, 999 }, 0, -1 },
        { { 1, 1, 1, 0, 0, 0, 0 }, 0, TIME_MIN_MS },
        { { 9999, 12, 31, 23, 59, 59, 999 }, 0, TIME_MAX_MS },

        { { 2013, 2, 29, 0, 0, 0, 0 }, -EINVAL },
        { { 0, 1, 1, 0, 0, 0, 0 }, -EINVAL },
        { { 10000, 1, 1, 0, 0, 0, 0 }, -EINVAL },
        { { 2012, 0, 1, 0, 0, 0, 0 }, -EINVAL },
        { { 2012, 13, 1, 0, 0, 0, 0 }, -EINVAL },
        { { 2012, 1, 0, 0, 0, 0, 0 }, -EINVAL },
        { { 2012, 1, 1, 24, 0, 0, 0 }, -EINVAL },
        { { 2012, 1, 1, -1, 0, 0, 0 }, -EINVAL },
        { { 2012, 1, 1, 0, 60, 0, 0 }, -EINVAL },
        { { 2012, 1, 1, 0, 0, 60, 0 }, -EINVAL },
        { { 2012, 1, 1, 0, 0, 0, 1000 }, -EINVAL },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        int64_t ms = UNTOUCHED;
        struct time_civil back;

        assert_int_equal(time_from_civil(&cases[i].civil, &ms),
                         cases[i].error);
        if (cases[i].error) {
            assert_int_equal(ms, UNTOUCHED);
            continue;
        }
        assert_int_equal(ms, cases[i].ms);
        assert_int_equal(time_to_civil(ms, &back), 0);
        assert_memory_equal(&back, &cases[i].civil, sizeof back);
    }
    {
        struct time_civil untouched = { 1, 2, 3, 4, 5, 6, 7 };
        struct time_civil c = untouched;

        assert_int_equal(time_to_civil(TIME_MAX_MS + 1, &c), -ERANGE);
        assert_int_equal(time_to_civil(TIME_MIN_MS - 1, &c), -ERANGE);
        assert_memory_equal(&c, &untouched, sizeof c);
    }
}

static void
test_mysql_datetime(void **state)
{
    static const struct {
        int64_t ms;
        int error;
        const char *text;
    } formats[] = {
        { SAMPLE_MS + 123, 0, "2012-08-20 21:11:09.123000" },
        { SAMPLE_MS, 0, "2012-08-20 21:11:09.000000" },
        { LEAP_DAY_MS, 0, "2012-02-29 12:00:00.000000" },
        { -1, 0, "1969-12-31 23:59:59.999000" },
        { TIME_MAX_MS, 0, "9999-12-31 23:59:59.999000" },
        { TIME_MAX_MS + 1, -ERANGE, "" },
    };
    static const struct {
        const char *s;
        int error;
        int64_t ms;
    } parses[] = {
        { "2012-08-20 21:11:09", 0, SAMPLE_MS },
        { "2012-08-20 21:11:09.123456", 0, SAMPLE_MS + 123 },
        { "2012-08-20 21:11:09.123000", 0, SAMPLE_MS + 123 },
        { "2012-08-20 21:11:09.1", 0, SAMPLE_MS + 100 },
        { "2012-08-20 21:11:09.000999", 0, SAMPLE_MS },
        { "2012-02-29 12:00:00", 0, LEAP_DAY_MS },
        { "1969-12-31 23:59:59.999", 0, -1 },

        { "2013-02-29 00:00:00", -EINVAL },
        { "0000-00-00 00:00:00", -EINVAL },
        { "2012-08-20 21:11:09.1234567", -EINVAL },
        { "2012-08-20 21:11:09.", -EINVAL },
        { "2012-08-20T21:11:09", -EINVAL },
        { "2012-08-20 21:11:09Z", -EINVAL },
        { "2012-08-20 21:11", -EINVAL },
        { "2012-08-20", -EINVAL },
        { "2012-08-20 21:11:09 ", -EINVAL },
        { "2012-08-20 25:11:09", -EINVAL },
        { "", -EINVAL },
        { NULL, -EINVAL },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(formats); i++) {
        char buf[TIME_MYSQL_DATETIME_SIZE];

        assert_int_equal(time_format_mysql_datetime(formats[i].ms, buf,
                                                    sizeof buf),
                         formats[i].error);
        assert_string_equal(buf, formats[i].text);
        if (!formats[i].error) {
            int64_t ms = UNTOUCHED;
            assert_int_equal(time_parse_mysql_datetime(buf, &ms), 0);
            assert_int_equal(ms, formats[i].ms);
        }
    }
    {
        char small[TIME_MYSQL_DATETIME_SIZE - 1];
        assert_int_equal(time_format_mysql_datetime(SAMPLE_MS, small,
                                                    sizeof small),
                         -ENOBUFS);
        assert_string_equal(small, "");
    }
    for (size_t i = 0; i < ARRAY_SIZE(parses); i++) {
        int64_t ms = UNTOUCHED;
        int error = time_parse_mysql_datetime(parses[i].s, &ms);

        if (error != parses[i].error) {
            fail_msg("time_parse_mysql_datetime('%s') returned %d, "
                     "expected %d", parses[i].s ? parses[i].s : "(null)",
                     error, parses[i].error);
        }
        assert_int_equal(ms, error ? UNTOUCHED : parses[i].ms);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clocks),
        cmocka_unit_test(test_format_iso8601),
        cmocka_unit_test(test_parse_iso8601),
        cmocka_unit_test(test_iso8601_round_trip),
        cmocka_unit_test(test_civil),
        cmocka_unit_test(test_mysql_datetime),
    };

    return cmocka_run_group_tests_name("timeutil", tests, NULL, NULL);
}
