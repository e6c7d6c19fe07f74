/* cell-db.c: helpers shared by the cell database modules (see
 * cell-db-private.h). */
#include <config.h>
#include "child-cell/cell-db-private.h"

#include <string.h>

#include "shared/error.h"
#include "shared/instance.h"
#include "shared/xalloc.h"

struct db_value
cell_db_time_value(int64_t ms, char buf[TIME_MYSQL_DATETIME_SIZE])
{
    if (ms == INSTANCE_TIME_NONE
        || time_format_mysql_datetime(ms, buf, TIME_MYSQL_DATETIME_SIZE)) {
        return DB_NULL;
    }
    return DB_STR(buf);
}

int64_t
cell_db_rows_get_time(const struct db_rows *rows, size_t row, size_t col)
{
    const char *s = db_rows_get_str(rows, row, col);
    int64_t ms;

    if (!s || time_parse_mysql_datetime(s, &ms)) {
        return INSTANCE_TIME_NONE;
    }
    return ms;
}

char *
cell_db_rows_dup(const struct db_rows *rows, size_t row, size_t col)
{
    return xstrdup_or_null(db_rows_get_str(rows, row, col));
}

/* Returns the number of characters of the 'size' bytes at 's', or -1 if
 * they are not valid UTF-8. */
static long long
cell_db_utf8_length(const char *s, size_t size)
{
    const unsigned char *p = (const unsigned char *) s;
    long long length = 0;
    size_t i = 0;

    while (i < size) {
        size_t n;
        unsigned int c = p[i];

        if (c < 0x80) {
            n = 1;
        } else if (c >= 0xc2 && c <= 0xdf) {
            n = 2;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 3;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 4;
        } else {
            return -1;
        }
        if (i + n > size) {
            return -1;
        }
        for (size_t k = 1; k < n; k++) {
            if ((p[i + k] & 0xc0) != 0x80) {
                return -1;
            }
        }
        i += n;
        length++;
    }
    return length;
}

struct error *
cell_db_check_string(const char *what, const char *value, bool required,
                     size_t max_length)
{
    long long length;

    if (!value) {
        return required ? error_new(ERROR_INVALID, "%s is required", what)
                        : NULL;
    }
    length = cell_db_utf8_length(value, strlen(value));
    if (length < 0) {
        return error_new(ERROR_INVALID, "%s is not valid UTF-8", what);
    }
    if (required && !length) {
        return error_new(ERROR_INVALID, "%s must not be empty", what);
    }
    if ((size_t) length > max_length) {
        return error_new(ERROR_INVALID,
                         "%s is too long (%lld characters, the maximum is "
                         "%zu)", what, length, max_length);
    }
    return NULL;
}

struct error *
cell_db_check_time(const char *what, int64_t ms)
{
    if (ms != INSTANCE_TIME_NONE && (ms < TIME_MIN_MS || ms > TIME_MAX_MS)) {
        return error_new(ERROR_INVALID,
                         "%s (%lld ms) is outside the years 1..9999", what,
                         (long long) ms);
    }
    return NULL;
}

char *
cell_db_truncate_utf8(const char *s, size_t max_size)
{
    size_t size;

    if (!s) {
        return NULL;
    }
    size = strlen(s);
    if (size <= max_size) {
        return xstrdup(s);
    }
    size = max_size;
    /* Back up over continuation bytes to the start of the character that
     * the cut would split. */
    while (size > 0 && ((unsigned char) s[size] & 0xc0) == 0x80) {
        size--;
    }
    return xstrndup(s, size);
}

char *
cell_db_truncate_chars(const char *s, size_t max_length)
{
    const unsigned char *p = (const unsigned char *) s;
    size_t length = 0, i = 0;

    if (!s) {
        return NULL;
    }
    for (; p[i]; i++) {
        if ((p[i] & 0xc0) != 0x80 && length++ == max_length) {
            break;
        }
    }
    return xstrndup(s, i);
}

struct error *
cell_db_instance_not_found(const char *uuid)
{
    return error_new(ERROR_NOT_FOUND, "Instance %s could not be found.",
                     uuid ? uuid : "(null)");
}
