/* db-url.c: parsing database URLs (see db-url.h).
 *
 * The split follows SQLAlchemy's URL grammar with one deliberate change:
 * the user information ends at the LAST '@' of the URL, not the first, so
 * that a password containing an unencoded '@', '/', ':' or '?' still
 * parses, and so that no part of a password can ever be mistaken for the
 * host, port or database and quoted in an error message.  The price is
 * that an '@' after the password (in a database name or a socket path)
 * must be written %40. */
#include <config.h>
#include "shared/db-url.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/error.h"
#include "shared/xalloc.h"

#define DB_URL_DEFAULT_PORT 3306
#define DB_URL_MAX_PORT 65535
#define DB_URL_DEFAULT_CHARSET "utf8mb4"
/* MariaDB limits identifiers to 64 characters; user names to 128. */
#define DB_URL_MAX_DATABASE_LENGTH 64
#define DB_URL_MAX_USER_LENGTH 128
#define DB_URL_MAX_CHARSET_LENGTH 32

/* Schemes accepted as-is; see db-url.h. */
static const char *const db_url_schemes[] = {
    "mysql", "mysql+pymysql", "mysql+mysqldb",
    "mariadb", "mariadb+pymysql", "mariadb+mariadbconnector",
};

/* Returns the length of the scheme of 'url' (the part before "://"), or 0
 * when 'url' does not start with something shaped like a scheme. */
static size_t
db_url_scheme_length(const char *url)
{
    size_t n = strspn(url, "abcdefghijklmnopqrstuvwxyz"
                      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-");

    return n > 0 && !strncmp(url + n, "://", 3) ? n : 0;
}

char *
db_url_redact(const char *url)
{
    size_t scheme_length = db_url_scheme_length(url);
    const char *start = scheme_length ? url + scheme_length + 3 : url;
    const char *at = strrchr(start, '@');
    const char *colon;

    if (!at) {
        return xstrdup(url);
    }
    colon = memchr(start, ':', (size_t) (at - start));
    if (!colon) {
        return xstrdup(url);
    }

    size_t head = (size_t) (colon + 1 - url);
    size_t tail = strlen(at);
    char *redacted = xmalloc(head + 3 + tail + 1);

    memcpy(redacted, url, head);
    memcpy(redacted + head, "***", 3);
    memcpy(redacted + head + 3, at, tail + 1);
    return redacted;
}

static int
db_url_hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    } else if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Percent-decodes the 'size' bytes at 's' into a new string stored in
 * '*ret_decoded'.  Returns 0, -EINVAL for a malformed escape or -EILSEQ for
 * an escape that decodes to a NUL byte. */
static int
db_url_decode(const char *s, size_t size, char **ret_decoded)
{
    AUTOFREE char *out = xmalloc(size + 1);
    size_t n = 0;

    for (size_t i = 0; i < size; i++) {
        if (s[i] != '%') {
            out[n++] = s[i];
            continue;
        }
        if (size - i < 3) {
            return -EINVAL;
        }
        int hi = db_url_hex_value(s[i + 1]);
        int lo = db_url_hex_value(s[i + 2]);
        if (hi < 0 || lo < 0) {
            return -EINVAL;
        }
        if (hi == 0 && lo == 0) {
            return -EILSEQ;
        }
        out[n++] = (char) (hi * 16 + lo);
        i += 2;
    }
    out[n] = '\0';
    *ret_decoded = TAKE_PTR(out);
    return 0;
}

/* Number of UTF-8 characters in 's' (continuation bytes not counted). */
static size_t
db_url_utf8_length(const char *s)
{
    size_t n = 0;

    for (; *s; s++) {
        if (((unsigned char) *s & 0xc0) != 0x80) {
            n++;
        }
    }
    return n;
}

/* Parsing state: the URL, its redacted form for messages, the result. */
struct db_url_parser {
    const char *url;
    char *redacted;
    struct db_url *result;
};

static struct error * PRINTF_FMT(2, 3)
db_url_fail(const struct db_url_parser *p, const char *fmt, ...)
{
    AUTOFREE char *reason = NULL;
    va_list args;

    va_start(args, fmt);
    reason = xvasprintf(fmt, args);
    va_end(args);
    return error_new(ERROR_INVALID, "Invalid database URL '%s': %s",
                     p->redacted, reason);
}

/* Decodes the component 'what' into '*ret'.  'quote' says whether the raw
 * text may appear in a message (never for the password). */
static struct error *
db_url_decode_part(const struct db_url_parser *p, const char *what,
                   const char *s, size_t size, bool quote, char **ret)
{
    int r = db_url_decode(s, size, ret);

    if (r == -EILSEQ) {
        return db_url_fail(p, "the %s contains an encoded NUL byte (%%00)",
                           what);
    } else if (r < 0 && quote) {
        return db_url_fail(p, "the %s '%.*s' contains a malformed percent "
                           "escape (expected %%XX with two hex digits)",
                           what, (int) size, s);
    } else if (r < 0) {
        return db_url_fail(p, "the %s contains a malformed percent escape "
                           "(expected %%XX with two hex digits)", what);
    }
    return NULL;
}

static struct error *
db_url_parse_scheme(struct db_url_parser *p, const char **pos)
{
    size_t n = db_url_scheme_length(p->url);

    if (!n) {
        return db_url_fail(p, "it does not start with a scheme such as "
                           "'mysql://'");
    }
    for (size_t i = 0; i < ARRAY_SIZE(db_url_schemes); i++) {
        if (strlen(db_url_schemes[i]) == n
            && !strncmp(db_url_schemes[i], p->url, n)) {
            *pos = p->url + n + 3;
            return NULL;
        }
    }
    return db_url_fail(p, "unknown scheme '%.*s' (expected 'mysql' or "
                       "'mysql+pymysql')", (int) n, p->url);
}

/* Parses "USER[:PASSWORD]@" if present and advances '*pos' past it. */
static struct error *
db_url_parse_userinfo(struct db_url_parser *p, const char **pos)
{
    const char *start = *pos;
    const char *at = strrchr(start, '@');
    struct db_url *u = p->result;
    struct error *error;

    if (!at) {
        u->user = xstrdup("");
        return NULL;
    }

    const char *colon = memchr(start, ':', (size_t) (at - start));
    const char *user_end = colon ? colon : at;
    error = db_url_decode_part(p, "user name", start,
                               (size_t) (user_end - start), true, &u->user);
    if (error) {
        return error;
    }
    if (db_url_utf8_length(u->user) > DB_URL_MAX_USER_LENGTH) {
        return db_url_fail(p, "the user name is longer than %d characters",
                           DB_URL_MAX_USER_LENGTH);
    }
    if (colon) {
        error = db_url_decode_part(p, "password", colon + 1,
                                   (size_t) (at - colon - 1), false,
                                   &u->password);
        if (error) {
            return error;
        }
    }
    *pos = at + 1;
    return NULL;
}

static bool
db_url_is_host_char(char c, bool ipv6)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9') || c == '.') {
        return true;
    }
    return ipv6 ? c == ':' || c == '%' : c == '-' || c == '_';
}

static struct error *
db_url_parse_port(struct db_url_parser *p, const char *s, size_t size)
{
    unsigned long port = 0;

    if (!size) {
        return db_url_fail(p, "the port after ':' is empty");
    }
    for (size_t i = 0; i < size; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return db_url_fail(p, "port '%.*s' is not a number", (int) size,
                               s);
        }
        if (port <= DB_URL_MAX_PORT) {
            port = port * 10 + (unsigned long) (s[i] - '0');
        }
    }
    if (port < 1 || port > DB_URL_MAX_PORT) {
        return db_url_fail(p, "port '%.*s' is out of range 1-%d", (int) size,
                           s, DB_URL_MAX_PORT);
    }
    p->result->port = (unsigned int) port;
    return NULL;
}

/* Parses "HOST[:PORT]" or "[IPV6][:PORT]" up to the path or the query. */
static struct error *
db_url_parse_hostport(struct db_url_parser *p, const char **pos)
{
    const char *start = *pos;
    const char *end = start + strcspn(start, "/?");
    const char *host = start, *host_end, *port = NULL;
    bool ipv6 = *start == '[';

    if (ipv6) {
        const char *close = memchr(start, ']', (size_t) (end - start));
        if (!close) {
            return db_url_fail(p, "the IPv6 address '%.*s' has no closing "
                               "']'", (int) (end - start), start);
        }
        host = start + 1;
        host_end = close;
        if (close + 1 < end) {
            if (close[1] != ':') {
                return db_url_fail(p, "unexpected '%.*s' after the IPv6 "
                                   "address", (int) (end - close - 1),
                                   close + 1);
            }
            port = close + 2;
        }
    } else {
        host_end = memchr(start, ':', (size_t) (end - start));
        if (host_end) {
            port = host_end + 1;
        } else {
            host_end = end;
        }
    }

    for (const char *c = host; c < host_end; c++) {
        if (!db_url_is_host_char(*c, ipv6)) {
            return db_url_fail(p, "host '%.*s' contains the invalid "
                               "character '%c'", (int) (host_end - host),
                               host, *c);
        }
    }
    if (ipv6 && host == host_end) {
        return db_url_fail(p, "the IPv6 address between '[' and ']' is "
                           "empty");
    }
    if (host < host_end) {
        p->result->host = xstrndup(host, (size_t) (host_end - host));
    }
    if (port) {
        struct error *error = db_url_parse_port(p, port,
                                                (size_t) (end - port));
        if (error) {
            return error;
        }
    }
    *pos = end;
    return NULL;
}

static struct error *
db_url_parse_database(struct db_url_parser *p, const char **pos)
{
    const char *start = *pos;
    size_t size;
    char *name = NULL;
    struct error *error;

    if (*start != '/') {
        return NULL;
    }
    start++;
    size = strcspn(start, "?");
    *pos = start + size;
    if (!size) {
        return NULL;
    }
    error = db_url_decode_part(p, "database name", start, size, true, &name);
    if (error) {
        return error;
    }
    p->result->database = name;
    if (strchr(name, '/')) {
        return db_url_fail(p, "database name '%s' contains '/'", name);
    }
    if (db_url_utf8_length(name) > DB_URL_MAX_DATABASE_LENGTH) {
        return db_url_fail(p, "database name '%s' is longer than %d "
                           "characters", name, DB_URL_MAX_DATABASE_LENGTH);
    }
    return NULL;
}

static struct error *
db_url_set_param(struct db_url_parser *p, const char *key, size_t key_size,
                 char *value)
{
    struct db_url *u = p->result;

    if (key_size == strlen("unix_socket")
        && !strncmp(key, "unix_socket", key_size)) {
        if (u->unix_socket) {
            free(value);
            return db_url_fail(p, "parameter 'unix_socket' is given twice");
        }
        u->unix_socket = value;
        if (u->unix_socket[0] != '/') {
            return db_url_fail(p, "unix_socket '%s' is not an absolute path",
                               u->unix_socket);
        }
        return NULL;
    }
    if (key_size == strlen("charset") && !strncmp(key, "charset", key_size)) {
        if (u->charset) {
            free(value);
            return db_url_fail(p, "parameter 'charset' is given twice");
        }
        u->charset = value;
        size_t n = strspn(value, "abcdefghijklmnopqrstuvwxyz"
                          "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
        if (!n || value[n] || n > DB_URL_MAX_CHARSET_LENGTH) {
            return db_url_fail(p, "charset '%s' is not a character set name",
                               value);
        }
        return NULL;
    }
    free(value);
    return db_url_fail(p, "unknown parameter '%.*s' (accepted: unix_socket, "
                       "charset)", (int) key_size, key);
}

static struct error *
db_url_parse_query(struct db_url_parser *p, const char *pos)
{
    if (*pos != '?') {
        return NULL;
    }
    pos++;
    while (*pos) {
        size_t size = strcspn(pos, "&");
        const char *eq = memchr(pos, '=', size);
        char *value = NULL;
        struct error *error;

        if (!eq || eq == pos) {
            return db_url_fail(p, "parameter '%.*s' is not of the form "
                               "NAME=VALUE", (int) size, pos);
        }
        error = db_url_decode_part(p, "parameter value", eq + 1,
                                   (size_t) (pos + size - eq - 1), true,
                                   &value);
        if (error) {
            return error;
        }
        error = db_url_set_param(p, pos, (size_t) (eq - pos), value);
        if (error) {
            return error;
        }
        pos += size;
        if (*pos == '&') {
            pos++;
        }
    }
    return NULL;
}

static struct error *
db_url_parse_components(struct db_url_parser *p)
{
    const char *pos = NULL;
    struct error *error;

    for (const char *c = p->url; *c; c++) {
        if ((unsigned char) *c <= 0x20 || *c == 0x7f) {
            return db_url_fail(p, "it contains a space or a control "
                               "character");
        }
    }
    error = db_url_parse_scheme(p, &pos);
    if (!error) {
        error = db_url_parse_userinfo(p, &pos);
    }
    if (!error) {
        error = db_url_parse_hostport(p, &pos);
    }
    if (!error) {
        error = db_url_parse_database(p, &pos);
    }
    if (!error) {
        error = db_url_parse_query(p, pos);
    }
    if (error) {
        return error;
    }
    if (!p->result->host && !p->result->unix_socket) {
        return db_url_fail(p, "it names no host (and no unix_socket)");
    }
    return NULL;
}

struct error *
db_url_parse(const char *url, struct db_url **ret_url)
{
    struct db_url_parser p;
    struct error *error;

    if (strlen(url) > DB_URL_MAX_SIZE) {
        return error_new(ERROR_INVALID, "Invalid database URL: it is longer "
                         "than %d bytes", DB_URL_MAX_SIZE);
    }
    p.url = url;
    p.redacted = db_url_redact(url);
    p.result = xzalloc(sizeof *p.result);
    p.result->port = DB_URL_DEFAULT_PORT;

    error = db_url_parse_components(&p);
    free(p.redacted);
    if (error) {
        db_url_free(p.result);
        return error;
    }
    if (!p.result->charset) {
        p.result->charset = xstrdup(DB_URL_DEFAULT_CHARSET);
    }
    *ret_url = p.result;
    return NULL;
}

void
db_url_free(struct db_url *url)
{
    if (url) {
        free(url->user);
        if (url->password) {
            /* Do not leave the secret behind in freed memory. */
            explicit_bzero(url->password, strlen(url->password));
            free(url->password);
        }
        free(url->host);
        free(url->database);
        free(url->unix_socket);
        free(url->charset);
        free(url);
    }
}
