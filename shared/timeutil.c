/* timeutil.c: clocks and timestamp formats (see timeutil.h).
 *
 * Calendar arithmetic is done here with the proleptic Gregorian
 * days-from-civil algorithm (Howard Hinnant, "chrono-Compatible Low-Level
 * Date Algorithms") instead of timegm()/gmtime_r(), so that results do not
 * depend on time_t width, the time zone database or the C library. */
#include <config.h>
#include "shared/timeutil.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "shared/compiler.h"

#define TIME_MS_PER_SECOND 1000
#define TIME_MS_PER_MINUTE (60 * TIME_MS_PER_SECOND)
#define TIME_MS_PER_HOUR (60 * TIME_MS_PER_MINUTE)
#define TIME_MS_PER_DAY (INT64_C(24) * TIME_MS_PER_HOUR)

#define TIME_MIN_YEAR 1
#define TIME_MAX_YEAR 9999

/* Zone offsets must stay below a day, as Python's timezone requires. */
#define TIME_MAX_ZONE_HOUR 23

/* Digits of a fraction of a second kept by the MariaDB format. */
#define TIME_MYSQL_MAX_FRACTION_DIGITS 6

static int64_t
time_clock_ms(clockid_t clock)
{
    struct timespec ts;

    /* Cannot fail for these clocks on Linux. */
    (void) clock_gettime(clock, &ts);
    return (int64_t) ts.tv_sec * TIME_MS_PER_SECOND
           + ts.tv_nsec / 1000000;
}

int64_t
time_now_ms(void)
{
    return time_clock_ms(CLOCK_REALTIME);
}

int64_t
time_monotonic_ms(void)
{
    return time_clock_ms(CLOCK_MONOTONIC);
}

static bool
time_is_leap_year(int year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static int
time_days_in_month(int year, int month)
{
    static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
                                31 };

    if (month == 2 && time_is_leap_year(year)) {
        return 29;
    }
    return days[month - 1];
}

/* Days since 1970-01-01 of the proleptic Gregorian date 'y'-'m'-'d'. */
static int64_t
time_days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;                                    /* [0, 399] */
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;  /* [0, 365] */
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;            /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

/* The inverse of time_days_from_civil(). */
static void
time_civil_from_days(int64_t z, int *ret_y, int *ret_m, int *ret_d)
{
    int64_t era, doe, yoe, y, doy, mp, d, m;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;                                 /* [0, 146096] */
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);          /* [0, 365] */
    mp = (5 * doy + 2) / 153;                               /* [0, 11] */
    d = doy - (153 * mp + 2) / 5 + 1;                       /* [1, 31] */
    m = mp < 10 ? mp + 3 : mp - 9;                          /* [1, 12] */
    *ret_y = (int) (y + (m <= 2));
    *ret_m = (int) m;
    *ret_d = (int) d;
}

int
time_to_civil(int64_t ms, struct time_civil *ret_civil)
{
    struct time_civil c;
    int64_t days, rest;

    if (ms < TIME_MIN_MS || ms > TIME_MAX_MS) {
        return -ERANGE;
    }
    /* Floor division, so that times before 1970 land on the right day. */
    days = ms / TIME_MS_PER_DAY;
    rest = ms % TIME_MS_PER_DAY;
    if (rest < 0) {
        days--;
        rest += TIME_MS_PER_DAY;
    }
    time_civil_from_days(days, &c.year, &c.month, &c.day);
    c.hour = (int) (rest / TIME_MS_PER_HOUR);
    c.minute = (int) (rest / TIME_MS_PER_MINUTE % 60);
    c.second = (int) (rest / TIME_MS_PER_SECOND % 60);
    c.millisecond = (int) (rest % TIME_MS_PER_SECOND);
    *ret_civil = c;
    return 0;
}

int
time_from_civil(const struct time_civil *c, int64_t *ret_ms)
{
    if (c->year < TIME_MIN_YEAR || c->year > TIME_MAX_YEAR
        || c->month < 1 || c->month > 12
        || c->day < 1 || c->day > time_days_in_month(c->year, c->month)
        || c->hour < 0 || c->hour > 23
        || c->minute < 0 || c->minute > 59
        || c->second < 0 || c->second > 59
        || c->millisecond < 0 || c->millisecond > 999) {
        return -EINVAL;
    }
    *ret_ms = time_days_from_civil(c->year, c->month, c->day)
              * TIME_MS_PER_DAY
              + (int64_t) c->hour * TIME_MS_PER_HOUR
              + (int64_t) c->minute * TIME_MS_PER_MINUTE
              + (int64_t) c->second * TIME_MS_PER_SECOND
              + c->millisecond;
    return 0;
}

/* Formats with snprintf() and maps its outcome to 0 or -ENOBUFS. */
static int PRINTF_FMT(3, 4)
time_snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list args;
    int n;

    va_start(args, fmt);
    n = vsnprintf(buf, size, fmt, args);
    va_end(args);
    if (n < 0 || (size_t) n >= size) {
        if (size) {
            buf[0] = '\0';
        }
        return -ENOBUFS;
    }
    return 0;
}

int
time_format_iso8601(int64_t ms, enum time_style style, char *buf,
                    size_t size)
{
    struct time_civil c;
    int error;

    if (size) {
        buf[0] = '\0';
    }
    error = time_to_civil(ms, &c);
    if (error) {
        return error;
    }
    switch (style) {
    case TIME_STYLE_SECONDS_Z:
        return time_snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02dZ",
                             c.year, c.month, c.day, c.hour, c.minute,
                             c.second);
    case TIME_STYLE_MICROS:
        return time_snprintf(buf, size,
                             "%04d-%02d-%02dT%02d:%02d:%02d.%03d000",
                             c.year, c.month, c.day, c.hour, c.minute,
                             c.second, c.millisecond);
    case TIME_STYLE_MILLIS_Z:
        return time_snprintf(buf, size,
                             "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                             c.year, c.month, c.day, c.hour, c.minute,
                             c.second, c.millisecond);
    }
    return -EINVAL;
}

int
time_format_mysql_datetime(int64_t ms, char *buf, size_t size)
{
    struct time_civil c;
    int error;

    if (size) {
        buf[0] = '\0';
    }
    error = time_to_civil(ms, &c);
    if (error) {
        return error;
    }
    return time_snprintf(buf, size, "%04d-%02d-%02d %02d:%02d:%02d.%03d000",
                         c.year, c.month, c.day, c.hour, c.minute, c.second,
                         c.millisecond);
}

static bool
time_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Reads exactly 'n' decimal digits at '*p' into '*ret_value' and advances
 * '*p' past them.  Returns false, leaving '*p' alone, if there are fewer
 * digits. */
static bool
time_parse_digits(const char **p, int n, int *ret_value)
{
    int value = 0;

    for (int i = 0; i < n; i++) {
        if (!time_is_digit((*p)[i])) {
            return false;
        }
        value = value * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *ret_value = value;
    return true;
}

/* Reads a fraction of a second (the digits after the separator) at '*p'
 * into milliseconds, truncating.  At most 'max_digits' digits are allowed
 * (0 = any number); there must be at least one. */
static bool
time_parse_fraction(const char **p, int max_digits, int *ret_ms)
{
    int ms = 0;
    int n = 0;

    while (time_is_digit(**p)) {
        if (n < 3) {
            ms = ms * 10 + (**p - '0');
        }
        n++;
        (*p)++;
        if (max_digits && n > max_digits) {
            return false;
        }
    }
    if (!n) {
        return false;
    }
    for (int i = n; i < 3; i++) {
        ms *= 10;
    }
    *ret_ms = ms;
    return true;
}

/* Reads the date part of an ISO 8601 date-time into 'c'.  The reduced
 * forms YYYY and YYYY-MM must end the string: a time needs a whole date. */
static bool
time_parse_iso8601_date(const char **p, struct time_civil *c)
{
    c->month = 1;
    c->day = 1;
    if (!time_parse_digits(p, 4, &c->year)) {
        return false;
    }
    if (**p == '-') {
        (*p)++;
        if (!time_parse_digits(p, 2, &c->month)) {
            return false;
        }
        if (**p == '-') {
            (*p)++;
            return time_parse_digits(p, 2, &c->day);
        }
        return **p == '\0';
    }
    if (time_is_digit(**p)) {
        /* YYYYMMDD; YYYYMM alone is not accepted (pyiso8601 neither). */
        return time_parse_digits(p, 2, &c->month)
               && time_parse_digits(p, 2, &c->day);
    }
    return **p == '\0';
}

/* Reads "HH[[:]MM[[:]SS[(.|,)fraction]]]" into 'c'. */
static bool
time_parse_iso8601_time(const char **p, struct time_civil *c)
{
    if (!time_parse_digits(p, 2, &c->hour)) {
        return false;
    }
    if (**p == ':' || time_is_digit(**p)) {
        if (**p == ':') {
            (*p)++;
        }
        if (!time_parse_digits(p, 2, &c->minute)) {
            return false;
        }
        if (**p == ':' || time_is_digit(**p)) {
            if (**p == ':') {
                (*p)++;
            }
            if (!time_parse_digits(p, 2, &c->second)) {
                return false;
            }
            if (**p == '.' || **p == ',') {
                (*p)++;
                return time_parse_fraction(p, 0, &c->millisecond);
            }
        }
    }
    return true;
}

/* Reads an optional zone designator into '*ret_offset_ms' (east of UTC is
 * positive). */
static bool
time_parse_iso8601_zone(const char **p, int64_t *ret_offset_ms)
{
    int hours, minutes = 0;
    int sign;

    *ret_offset_ms = 0;
    if (**p == 'Z' || **p == 'z') {
        (*p)++;
        return true;
    }
    if (**p != '+' && **p != '-') {
        return true;
    }
    sign = **p == '-' ? -1 : 1;
    (*p)++;
    if (!time_parse_digits(p, 2, &hours)) {
        return false;
    }
    if (**p == ':') {
        (*p)++;
        if (!time_parse_digits(p, 2, &minutes)) {
            return false;
        }
    } else if (time_is_digit(**p)) {
        if (!time_parse_digits(p, 2, &minutes)) {
            return false;
        }
    }
    if (hours > TIME_MAX_ZONE_HOUR || minutes > 59) {
        return false;
    }
    *ret_offset_ms = sign * ((int64_t) hours * TIME_MS_PER_HOUR
                             + (int64_t) minutes * TIME_MS_PER_MINUTE);
    return true;
}

int
time_parse_iso8601(const char *s, int64_t *ret_ms)
{
    struct time_civil c = { .month = 1, .day = 1 };
    int64_t offset_ms = 0;
    int64_t ms;
    const char *p = s;

    if (!s || !time_parse_iso8601_date(&p, &c)) {
        return -EINVAL;
    }
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (!time_parse_iso8601_time(&p, &c)
            || !time_parse_iso8601_zone(&p, &offset_ms)) {
            return -EINVAL;
        }
    }
    if (*p != '\0' || time_from_civil(&c, &ms)) {
        return -EINVAL;
    }
    ms -= offset_ms;
    if (ms < TIME_MIN_MS || ms > TIME_MAX_MS) {
        return -ERANGE;
    }
    *ret_ms = ms;
    return 0;
}

int
time_parse_mysql_datetime(const char *s, int64_t *ret_ms)
{
    struct time_civil c = { 0 };
    const char *p = s;
    int64_t ms;

    if (!s
        || !time_parse_digits(&p, 4, &c.year) || *p++ != '-'
        || !time_parse_digits(&p, 2, &c.month) || *p++ != '-'
        || !time_parse_digits(&p, 2, &c.day) || *p++ != ' '
        || !time_parse_digits(&p, 2, &c.hour) || *p++ != ':'
        || !time_parse_digits(&p, 2, &c.minute) || *p++ != ':'
        || !time_parse_digits(&p, 2, &c.second)) {
        return -EINVAL;
    }
    if (*p == '.') {
        p++;
        if (!time_parse_fraction(&p, TIME_MYSQL_MAX_FRACTION_DIGITS,
                                 &c.millisecond)) {
            return -EINVAL;
        }
    }
    if (*p != '\0' || time_from_civil(&c, &ms)) {
        return -EINVAL;
    }
    *ret_ms = ms;
    return 0;
}
