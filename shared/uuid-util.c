/* uuid-util.c: UUID strings and request ids (see uuid-util.h).
 *
 * Parsing is done by hand rather than with uuid_parse(), whose accepted
 * forms are an implementation detail of libuuid; libuuid only generates
 * and formats. */
#include <config.h>
#include "shared/uuid-util.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <uuid/uuid.h>

#include "shared/xalloc.h"

/* Hex digits in a UUID. */
#define UUID_N_DIGITS 32

/* Length of a canonical UUID string. */
#define UUID_LENGTH (UUID_STRING_SIZE - 1)

#define REQUEST_ID_PREFIX "req-"
#define UUID_URN_PREFIX "urn:uuid:"

void
uuid_generate_string(char out[UUID_STRING_SIZE])
{
    uuid_t uuid;

    uuid_generate_random(uuid);
    uuid_unparse_lower(uuid, out);
}

static bool
uuid_is_dash_offset(size_t i)
{
    return i == 8 || i == 13 || i == 18 || i == 23;
}

static bool
uuid_is_hex_digit(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')
           || (c >= 'A' && c <= 'F');
}

static char
uuid_lower(char c)
{
    return c >= 'A' && c <= 'F' ? (char) (c - 'A' + 'a') : c;
}

bool
uuid_is_valid(const char *s)
{
    if (!s) {
        return false;
    }
    for (size_t i = 0; i < UUID_LENGTH; i++) {
        if (uuid_is_dash_offset(i) ? s[i] != '-' : !uuid_is_hex_digit(s[i])) {
            return false;       /* Also stops at an early NUL. */
        }
    }
    return s[UUID_LENGTH] == '\0';
}

int
uuid_normalize(const char *in, char out[UUID_STRING_SIZE])
{
    char digits[UUID_N_DIGITS];
    size_t n_digits = 0;
    size_t length;

    if (!in) {
        return -EINVAL;
    }
    if (!strncmp(in, UUID_URN_PREFIX, strlen(UUID_URN_PREFIX))) {
        in += strlen(UUID_URN_PREFIX);
    }
    length = strlen(in);
    if (length >= 2 && in[0] == '{' && in[length - 1] == '}') {
        in++;
        length -= 2;
    }
    if (length == UUID_LENGTH) {
        for (size_t i = 0; i < length; i++) {
            if (uuid_is_dash_offset(i)) {
                if (in[i] != '-') {
                    return -EINVAL;
                }
            } else if (uuid_is_hex_digit(in[i])) {
                digits[n_digits++] = uuid_lower(in[i]);
            } else {
                return -EINVAL;
            }
        }
    } else if (length == UUID_N_DIGITS) {
        for (size_t i = 0; i < length; i++) {
            if (!uuid_is_hex_digit(in[i])) {
                return -EINVAL;
            }
            digits[n_digits++] = uuid_lower(in[i]);
        }
    } else {
        return -EINVAL;
    }

    for (size_t i = 0, k = 0; i < UUID_LENGTH; i++) {
        out[i] = uuid_is_dash_offset(i) ? '-' : digits[k++];
    }
    out[UUID_LENGTH] = '\0';
    return 0;
}

char *
request_id_new(void)
{
    char uuid[UUID_STRING_SIZE];

    uuid_generate_string(uuid);
    return xasprintf(REQUEST_ID_PREFIX "%s", uuid);
}

bool
request_id_is_valid(const char *s)
{
    const char *uuid;

    if (!s || strncmp(s, REQUEST_ID_PREFIX, strlen(REQUEST_ID_PREFIX))) {
        return false;
    }
    uuid = s + strlen(REQUEST_ID_PREFIX);
    if (!uuid_is_valid(uuid)) {
        return false;
    }
    for (const char *p = uuid; *p; p++) {
        if (*p >= 'A' && *p <= 'F') {
            return false;
        }
    }
    return true;
}
