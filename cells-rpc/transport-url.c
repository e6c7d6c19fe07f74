/* transport-url.c: parsing and printing transport URLs (transport-url.h).
 *
 * The parser works on a copy of the URL cut into pieces in place: the
 * scheme, the comma-separated host entries, and the path.  Each entry
 * splits at its last '@' (a password may hold a percent-encoded '@' but a
 * raw one would be ambiguous anyway, and urllib, which oslo uses, splits at
 * the last one too), then credentials at their first ':'.  Error messages
 * name the entry by position only, never by content, because the content
 * may be a password. */
#include <config.h>

#include "cells-rpc/transport-url.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "shared/error.h"
#include "shared/xalloc.h"

static int
transport_url_hex_value(char c)
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
 * '*ret_out'.  Returns 0, -EINVAL for a bad escape or an encoded NUL, or
 * -ENAMETOOLONG when the result exceeds TRANSPORT_URL_MAX_FIELD_SIZE. */
static int
transport_url_decode(const char *s, size_t size, char **ret_out)
{
    AUTOFREE char *out = xmalloc(size + 1);
    size_t n = 0;

    for (size_t i = 0; i < size; i++) {
        if (s[i] == '%') {
            int hi, lo;

            if (i + 2 >= size) {
                return -EINVAL;
            }
            hi = transport_url_hex_value(s[i + 1]);
            lo = transport_url_hex_value(s[i + 2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                return -EINVAL;
            }
            out[n++] = (char) (hi * 16 + lo);
            i += 2;
        } else {
            out[n++] = s[i];
        }
    }
    out[n] = '\0';
    if (n > TRANSPORT_URL_MAX_FIELD_SIZE) {
        return -ENAMETOOLONG;
    }
    *ret_out = TAKE_PTR(out);
    return 0;
}

static bool
transport_url_is_host_char(char c, bool ipv6)
{
    if (ipv6) {
        return isxdigit((unsigned char) c) || c == ':' || c == '.';
    }
    return isalnum((unsigned char) c) || c == '-' || c == '.' || c == '_';
}

static struct error *
transport_url_field_error(int r, size_t entry, const char *what)
{
    if (r == -ENAMETOOLONG) {
        return error_new(ERROR_INVALID,
                         "Invalid transport URL: %s of host entry %zu is "
                         "longer than %d bytes", what, entry,
                         TRANSPORT_URL_MAX_FIELD_SIZE);
    }
    return error_new(ERROR_INVALID,
                     "Invalid transport URL: %s of host entry %zu has a "
                     "bad percent escape", what, entry);
}

/* Parses the port digits at 's' ('size' bytes). */
static int
transport_url_parse_port(const char *s, size_t size, int *ret_port)
{
    int port = 0;

    if (size == 0 || size > 5) {
        return -EINVAL;
    }
    for (size_t i = 0; i < size; i++) {
        if (!isdigit((unsigned char) s[i])) {
            return -EINVAL;
        }
        port = port * 10 + (s[i] - '0');
    }
    if (port < 1 || port > 65535) {
        return -EINVAL;
    }
    *ret_port = port;
    return 0;
}

/* Parses host entry number 'n' (1-based, for messages), 'size' bytes at
 * 's', into 'h'. */
static struct error *
transport_url_parse_entry(const char *s, size_t size, size_t n,
                          struct transport_url_host *h)
{
    const char *at = NULL;
    const char *hostpart = s;
    size_t hostsize = size;
    int r;

    for (size_t i = 0; i < size; i++) {
        if (s[i] == '@') {
            at = s + i;
        }
    }
    if (at) {
        const char *creds = s;
        size_t credsize = at - s;
        const char *colon = memchr(creds, ':', credsize);

        if (colon) {
            r = transport_url_decode(creds, colon - creds, &h->user);
            if (r) {
                return transport_url_field_error(r, n, "the user name");
            }
            r = transport_url_decode(colon + 1, credsize - (colon + 1 - creds),
                                     &h->password);
            if (r) {
                return transport_url_field_error(r, n, "the password");
            }
        } else {
            r = transport_url_decode(creds, credsize, &h->user);
            if (r) {
                return transport_url_field_error(r, n, "the user name");
            }
            h->password = xstrdup("");
        }
        if (!h->user[0]) {
            return error_new(ERROR_INVALID, "Invalid transport URL: empty "
                             "user name in host entry %zu", n);
        }
        hostpart = at + 1;
        hostsize = size - (hostpart - s);
    } else {
        h->user = xstrdup(TRANSPORT_URL_DEFAULT_USER);
        h->password = xstrdup(TRANSPORT_URL_DEFAULT_PASSWORD);
    }

    const char *name = hostpart;
    size_t namesize;
    const char *rest;
    bool ipv6 = hostsize > 0 && hostpart[0] == '[';

    if (ipv6) {
        const char *close = memchr(hostpart, ']', hostsize);

        if (!close) {
            return error_new(ERROR_INVALID, "Invalid transport URL: "
                             "unterminated '[' in host entry %zu", n);
        }
        name = hostpart + 1;
        namesize = close - name;
        rest = close + 1;
    } else {
        const char *colon = memchr(hostpart, ':', hostsize);

        namesize = colon ? (size_t) (colon - hostpart) : hostsize;
        rest = hostpart + namesize;
    }

    size_t restsize = hostsize - (rest - hostpart);

    if (namesize == 0) {
        return error_new(ERROR_INVALID, "Invalid transport URL: missing "
                         "host name in host entry %zu", n);
    }
    if (namesize > TRANSPORT_URL_MAX_FIELD_SIZE) {
        return transport_url_field_error(-ENAMETOOLONG, n, "the host name");
    }
    for (size_t i = 0; i < namesize; i++) {
        if (!transport_url_is_host_char(name[i], ipv6)) {
            return error_new(ERROR_INVALID, "Invalid transport URL: bad "
                             "character in the host name of host entry %zu",
                             n);
        }
    }
    h->host = xstrndup(name, namesize);

    if (restsize == 0) {
        h->port = TRANSPORT_URL_DEFAULT_PORT;
    } else if (rest[0] != ':'
               || transport_url_parse_port(rest + 1, restsize - 1,
                                           &h->port)) {
        return error_new(ERROR_INVALID, "Invalid transport URL: bad port "
                         "in host entry %zu (expected 1 to 65535)", n);
    }
    return NULL;
}

struct error *
transport_url_parse(const char *url, struct transport_url **ret_url)
{
    static const char prefix[] = TRANSPORT_URL_SCHEME "://";
    CLEANUP(transport_url_freep) struct transport_url *tu = NULL;
    const char *netloc, *end, *path;
    size_t size;

    if (!url || !url[0]) {
        return error_new(ERROR_INVALID, "Invalid transport URL: empty");
    }
    size = strnlen(url, TRANSPORT_URL_MAX_SIZE + 1);
    if (size > TRANSPORT_URL_MAX_SIZE) {
        return error_new(ERROR_INVALID, "Invalid transport URL: longer than "
                         "%d bytes", TRANSPORT_URL_MAX_SIZE);
    }
    if (strncmp(url, prefix, sizeof prefix - 1)) {
        return error_new(ERROR_INVALID, "Invalid transport URL: the scheme "
                         "must be '%s://'", TRANSPORT_URL_SCHEME);
    }
    if (strpbrk(url, "?#")) {
        return error_new(ERROR_INVALID, "Invalid transport URL: query "
                         "parameters and fragments are not supported");
    }
    for (size_t i = 0; i < size; i++) {
        unsigned char c = url[i];

        if (c <= ' ' || c >= 0x7f) {
            return error_new(ERROR_INVALID, "Invalid transport URL: "
                             "character %zu is a space, a control "
                             "character or not ASCII (percent-encode it)",
                             i + 1);
        }
    }

    netloc = url + sizeof prefix - 1;
    path = strchr(netloc, '/');
    end = path ? path : url + size;

    tu = xzalloc(sizeof *tu);
    for (const char *entry = netloc; ; ) {
        const char *comma = memchr(entry, ',', end - entry);
        const char *entry_end = comma ? comma : end;

        if (tu->n_hosts >= TRANSPORT_URL_MAX_HOSTS) {
            return error_new(ERROR_INVALID, "Invalid transport URL: more "
                             "than %d hosts", TRANSPORT_URL_MAX_HOSTS);
        }
        if (entry_end == entry) {
            return error_new(ERROR_INVALID, "Invalid transport URL: host "
                             "entry %zu is empty", tu->n_hosts + 1);
        }
        tu->hosts = xreallocarray(tu->hosts, tu->n_hosts + 1,
                                  sizeof *tu->hosts);
        memset(&tu->hosts[tu->n_hosts], 0, sizeof *tu->hosts);
        tu->n_hosts++;

        struct error *err = transport_url_parse_entry(
            entry, entry_end - entry, tu->n_hosts,
            &tu->hosts[tu->n_hosts - 1]);
        if (err) {
            return err;
        }
        if (!comma) {
            break;
        }
        entry = comma + 1;
    }

    if (!path || !path[1]) {
        tu->vhost = xstrdup(TRANSPORT_URL_DEFAULT_VHOST);
    } else {
        int r = transport_url_decode(path + 1, strlen(path + 1), &tu->vhost);

        if (r == -ENAMETOOLONG) {
            return error_new(ERROR_INVALID, "Invalid transport URL: the "
                             "vhost is longer than %d bytes",
                             TRANSPORT_URL_MAX_FIELD_SIZE);
        } else if (r) {
            return error_new(ERROR_INVALID, "Invalid transport URL: the "
                             "vhost has a bad percent escape");
        }
    }

    *ret_url = TAKE_PTR(tu);
    return NULL;
}

void
transport_url_free(struct transport_url *tu)
{
    if (!tu) {
        return;
    }
    for (size_t i = 0; i < tu->n_hosts; i++) {
        free(tu->hosts[i].user);
        free(tu->hosts[i].password);
        free(tu->hosts[i].host);
    }
    free(tu->hosts);
    free(tu->vhost);
    free(tu);
}

/* Appends 's' percent-encoded (everything but RFC 3986 unreserved
 * characters) to 'buf' of 'size' bytes at offset '*ofs'. */
static void
transport_url_append_encoded(char *buf, size_t *ofs, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";

    for (; *s; s++) {
        unsigned char c = *s;

        if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            buf[(*ofs)++] = c;
        } else {
            buf[(*ofs)++] = '%';
            buf[(*ofs)++] = hex[c >> 4];
            buf[(*ofs)++] = hex[c & 15];
        }
    }
}

static void
transport_url_append(char *buf, size_t *ofs, const char *s)
{
    size_t n = strlen(s);

    memcpy(buf + *ofs, s, n);
    *ofs += n;
}

char *
transport_url_host_to_string(const struct transport_url *tu, size_t i)
{
    const struct transport_url_host *h = &tu->hosts[i];

    return strchr(h->host, ':')
           ? xasprintf("[%s]:%d", h->host, h->port)
           : xasprintf("%s:%d", h->host, h->port);
}

char *
transport_url_to_string(const struct transport_url *tu)
{
    /* Every byte of a field grows to at most 3 when encoded. */
    size_t size = sizeof TRANSPORT_URL_SCHEME "://" + 3 * strlen(tu->vhost)
                  + 2;
    char *buf;
    size_t ofs = 0;

    for (size_t i = 0; i < tu->n_hosts; i++) {
        size += 3 * strlen(tu->hosts[i].user) + strlen(tu->hosts[i].host)
                + 32;
    }
    buf = xmalloc(size);
    transport_url_append(buf, &ofs, TRANSPORT_URL_SCHEME "://");
    for (size_t i = 0; i < tu->n_hosts; i++) {
        AUTOFREE char *hostport = transport_url_host_to_string(tu, i);

        if (i) {
            buf[ofs++] = ',';
        }
        transport_url_append_encoded(buf, &ofs, tu->hosts[i].user);
        transport_url_append(buf, &ofs, ":***@");
        transport_url_append(buf, &ofs, hostport);
    }
    buf[ofs++] = '/';
    if (strcmp(tu->vhost, TRANSPORT_URL_DEFAULT_VHOST)) {
        transport_url_append_encoded(buf, &ofs, tu->vhost);
    }
    buf[ofs] = '\0';
    return buf;
}
