/* timeutil.h: clocks, and the timestamp formats of the Nova API and the
 * databases.
 *
 * Times are carried everywhere as int64_t milliseconds since the Unix
 * epoch, UTC ("ms"), which is exact for everything the API shows.  Text
 * forms exist only at the edges:
 *
 *     2012-08-20T21:11:09Z        server 'created' and 'updated'
 *     2012-08-20T21:11:09.000000  'OS-SRV-USG:launched_at' and
 *                                 'terminated_at' (no zone, UTC implied)
 *     2012-08-20T21:11:09.123Z    log lines
 *     2012-08-20 21:11:09.123000  MariaDB DATETIME(6) columns, UTC
 *
 * Formats with microseconds print the milliseconds followed by "000".
 * Supported dates run from 0001-01-01 to 9999-12-31 (four-digit years);
 * conversions outside that range fail with -ERANGE.  Nothing here depends
 * on the process time zone or locale, and everything is thread-safe. */
#ifndef NOVA_TIMEUTIL_H
#define NOVA_TIMEUTIL_H 1

#include <stddef.h>
#include <stdint.h>

/* 0001-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z. */
#define TIME_MIN_MS INT64_C(-62135596800000)
#define TIME_MAX_MS INT64_C(253402300799999)

/* Buffer sizes, NUL included, that fit every output of
 * time_format_iso8601() and of time_format_mysql_datetime(). */
#define TIME_ISO8601_SIZE 32
#define TIME_MYSQL_DATETIME_SIZE 27

enum time_style {
    TIME_STYLE_SECONDS_Z,       /* 2012-08-20T21:11:09Z */
    TIME_STYLE_MICROS,          /* 2012-08-20T21:11:09.123000 */
    TIME_STYLE_MILLIS_Z,        /* 2012-08-20T21:11:09.123Z */
};

/* A broken-down UTC time, as MYSQL_TIME and the text formats need it. */
struct time_civil {
    int year;                   /* 1..9999 */
    int month;                  /* 1..12 */
    int day;                    /* 1..28/29/30/31 */
    int hour;                   /* 0..23 */
    int minute;                 /* 0..59 */
    int second;                 /* 0..59: no leap seconds, as in Python */
    int millisecond;            /* 0..999 */
};

/* Wall-clock time (CLOCK_REALTIME), for timestamps that people read and
 * that are stored. */
int64_t time_now_ms(void);

/* Time since an arbitrary point (CLOCK_MONOTONIC), for timeouts and
 * intervals: it never jumps when the wall clock is set. */
int64_t time_monotonic_ms(void);

/* Breaks 'ms' down into '*ret_civil'.  Returns 0, or -ERANGE outside
 * [TIME_MIN_MS, TIME_MAX_MS]. */
int time_to_civil(int64_t ms, struct time_civil *ret_civil);

/* The inverse: returns 0 and sets '*ret_ms', or -EINVAL if a field is out
 * of its range (February 29th only in leap years). */
int time_from_civil(const struct time_civil *civil, int64_t *ret_ms);

/* Writes 'ms' in 'style' to 'buf' of 'size' bytes (TIME_ISO8601_SIZE is
 * always enough).  Returns 0, -ERANGE for a time outside the supported
 * years, -ENOBUFS if 'buf' is too small, or -EINVAL for an unknown
 * 'style'.  On failure 'buf' holds an empty string if 'size' > 0. */
int time_format_iso8601(int64_t ms, enum time_style style, char *buf,
                        size_t size);

/* Parses a date-time as Nova's 'changes-since' (and other 'date-time'
 * fields) accept it, a subset of what the pyiso8601 library that Nova uses
 * takes:
 *
 *     date       YYYY-MM-DD, YYYYMMDD, YYYY-MM or YYYY (missing parts are 1)
 *     time       optional: 'T', 't' or ' ', then HH, HH:MM or HH:MM:SS, or
 *                the compact HHMM and HHMMSS, with an optional fraction of
 *                a second after '.' or ',' (any number of digits, kept to
 *                the millisecond, truncated)
 *     zone       optional, after a time: 'Z', 'z', +HH:MM, -HH:MM, +HHMM
 *                or +HH; without one the time is UTC
 *
 * Fields must be in range (no February 30th, no second 60, zone offsets
 * below 24 hours).  Returns 0 and sets '*ret_ms', -EINVAL for anything
 * else, or -ERANGE if the resulting instant falls outside the supported
 * years. */
int time_parse_iso8601(const char *s, int64_t *ret_ms);

/* Writes 'ms' as "YYYY-MM-DD HH:MM:SS.ffffff" (UTC) to 'buf' of 'size'
 * bytes.  Returns as time_format_iso8601(). */
int time_format_mysql_datetime(int64_t ms, char *buf, size_t size);

/* Parses "YYYY-MM-DD HH:MM:SS" with an optional fraction of one to six
 * digits (as MariaDB prints DATETIME and DATETIME(n)), read as UTC and
 * truncated to the millisecond.  Returns 0 and sets '*ret_ms', or -EINVAL
 * (the zero date "0000-00-00 00:00:00" included). */
int time_parse_mysql_datetime(const char *s, int64_t *ret_ms);

#endif /* NOVA_TIMEUTIL_H */
