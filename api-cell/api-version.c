/* api-version.c: compute API microversion parsing and negotiation (see
 * api-version.h).
 *
 * The rules follow Nova (nova/api/openstack/wsgi.py and
 * api_version_request.py) and the microversion_parse library it uses:
 * the header is a comma-separated list of "SERVICE VERSION" entries read
 * from the last one back, entries that do not split in two are skipped,
 * the legacy header counts only when the new one names no compute
 * version, and "latest" is the exact word. */
#include <config.h>
#include "api-cell/api-version.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api-cell/http-request.h"
#include "shared/cleanup.h"
#include "shared/error.h"
#include "shared/xalloc.h"

#define API_VERSION_LATEST "latest"

struct api_version
api_version_min(void)
{
    struct api_version v = {
        API_MIN_MICROVERSION_MAJOR, API_MIN_MICROVERSION_MINOR
    };
    return v;
}

struct api_version
api_version_max(void)
{
    struct api_version v = {
        API_MAX_MICROVERSION_MAJOR, API_MAX_MICROVERSION_MINOR
    };
    return v;
}

/* Parses the digits at '*p' up to a character that is not a digit.
 * Returns 0, -EINVAL (no digits, or a leading zero when 'zero_ok' is
 * false or the number has more digits) or -ERANGE (too large; still
 * consumes the digits). */
static int
api_version_parse_number(const char **p, int *ret_value)
{
    const char *s = *p;
    long long value = 0;
    bool too_large = false;
    size_t n = 0;

    while (s[n] >= '0' && s[n] <= '9') {
        if (!too_large) {
            value = value * 10 + (s[n] - '0');
            too_large = value > API_VERSION_MAX_NUMBER;
        }
        n++;
    }
    if (n == 0 || (s[0] == '0' && n > 1)) {
        return -EINVAL;
    }
    *p = s + n;
    if (too_large) {
        return -ERANGE;
    }
    *ret_value = (int) value;
    return 0;
}

int
api_version_parse(const char *text, struct api_version *ret_version)
{
    struct api_version v;
    const char *p = text;
    int major_error, minor_error;

    if (!strcmp(text, API_VERSION_LATEST)) {
        *ret_version = api_version_max();
        return 0;
    }
    major_error = api_version_parse_number(&p, &v.major);
    if (major_error == -EINVAL || *p != '.') {
        return -EINVAL;
    }
    /* Nova's regex: the major number starts with 1-9. */
    if (text[0] == '0') {
        return -EINVAL;
    }
    p++;
    minor_error = api_version_parse_number(&p, &v.minor);
    if (minor_error == -EINVAL || *p != '\0') {
        return -EINVAL;
    }
    if (major_error || minor_error) {
        return -ERANGE;
    }
    *ret_version = v;
    return 0;
}

void
api_version_format(struct api_version version,
                   char buf[API_VERSION_STRING_SIZE])
{
    snprintf(buf, API_VERSION_STRING_SIZE, "%d.%d", version.major,
             version.minor);
}

int
api_version_compare(struct api_version a, struct api_version b)
{
    if (a.major != b.major) {
        return a.major < b.major ? -1 : 1;
    }
    if (a.minor != b.minor) {
        return a.minor < b.minor ? -1 : 1;
    }
    return 0;
}

bool
api_version_is_supported(struct api_version version)
{
    return api_version_compare(version, api_version_min()) >= 0
           && api_version_compare(version, api_version_max()) <= 0;
}

static bool
api_version_is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Returns a copy of the 'size' bytes at 's' without leading and trailing
 * blanks. */
static char *
api_version_strip(const char *s, size_t size)
{
    while (size && api_version_is_blank(*s)) {
        s++;
        size--;
    }
    while (size && api_version_is_blank(s[size - 1])) {
        size--;
    }
    return xstrndup(s, size);
}

/* Finds the compute entry of an OpenStack-API-Version value.  Returns the
 * version text (to free) of the last entry "compute VERSION", or NULL. */
static char *
api_version_find_compute(const char *header)
{
    const char *end = header + strlen(header);

    /* Walk the comma-separated items from the last one back. */
    while (end > header) {
        const char *start = end;
        AUTOFREE char *item = NULL;
        char *sep;

        while (start > header && start[-1] != ',') {
            start--;
        }
        item = api_version_strip(start, (size_t) (end - start));
        end = start > header ? start - 1 : header;

        sep = item + strcspn(item, " \t");
        if (*sep == '\0') {
            continue;           /* "compute" alone: not split in two */
        }
        *sep = '\0';
        if (!strcasecmp(item, API_VERSION_SERVICE)) {
            char *version = sep + 1;
            return api_version_strip(version, strlen(version));
        }
    }
    return NULL;
}

/* The last comma-separated item of the legacy header, stripped, or NULL
 * when it is empty. */
static char *
api_version_legacy_value(const char *header)
{
    const char *comma = strrchr(header, ',');
    const char *item = comma ? comma + 1 : header;
    char *value = api_version_strip(item, strlen(item));

    if (!*value) {
        free(value);
        return NULL;
    }
    return value;
}

struct error *
api_version_negotiate(const char *header, const char *legacy_header,
                      struct api_version *ret_version)
{
    AUTOFREE char *text = NULL;
    struct api_version version;
    int error;

    if ((header && strlen(header) > API_VERSION_MAX_HEADER_SIZE)
        || (legacy_header
            && strlen(legacy_header) > API_VERSION_MAX_HEADER_SIZE)) {
        return error_new(ERROR_VERSION, "API Version String is of invalid "
                         "format. Must be of format MajorNum.MinorNum.");
    }
    if (header) {
        text = api_version_find_compute(header);
    }
    if (!text && legacy_header) {
        text = api_version_legacy_value(legacy_header);
    }
    if (!text) {
        *ret_version = api_version_min();
        return NULL;
    }

    error = api_version_parse(text, &version);
    if (error == -EINVAL) {
        return error_new(ERROR_VERSION, "API Version String %s is of "
                         "invalid format. Must be of format "
                         "MajorNum.MinorNum.", text);
    }
    if (error == -ERANGE || !api_version_is_supported(version)) {
        char min[API_VERSION_STRING_SIZE];
        char max[API_VERSION_STRING_SIZE];
        char requested[API_VERSION_STRING_SIZE];

        api_version_format(api_version_min(), min);
        api_version_format(api_version_max(), max);
        if (!error) {
            api_version_format(version, requested);
        }
        return error_new(ERROR_NOT_ACCEPTABLE, "Version %s is not "
                         "supported by the API. Minimum is %s and maximum "
                         "is %s.", error ? text : requested, min, max);
    }
    *ret_version = version;
    return NULL;
}

bool
api_version_at_least(const struct http_request *req, int major, int minor)
{
    struct api_version want = { major, minor };

    return api_version_compare(http_request_version(req), want) >= 0;
}

bool
api_version_between(const struct http_request *req, int min_major,
                    int min_minor, int max_major, int max_minor)
{
    struct api_version lo = { min_major, min_minor };
    struct api_version hi = { max_major, max_minor };
    struct api_version v = http_request_version(req);

    return api_version_compare(v, lo) >= 0 && api_version_compare(v, hi) <= 0;
}
