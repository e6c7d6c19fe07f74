/* rpc-version.c: parsing and comparing interface versions (rpc-version.h).
 *
 * The parser is strict on purpose: versions come from the wire, and "1.10"
 * must never be read as "1.1" or "01.2" as a different version from
 * "1.2". */
#include <config.h>

#include "cells-rpc/rpc-version.h"

#include <errno.h>
#include <stdio.h>

/* Parses the decimal digits at 's' up to 'end' (exclusive). */
static int
rpc_version_parse_part(const char *s, const char *end, unsigned int *ret)
{
    unsigned int value = 0;

    if (s == end || (s[0] == '0' && end - s > 1)) {
        return -EINVAL;
    }
    for (; s < end; s++) {
        if (*s < '0' || *s > '9') {
            return -EINVAL;
        }
        value = value * 10 + (unsigned int) (*s - '0');
        if (value > RPC_VERSION_MAX_PART) {
            return -EINVAL;
        }
    }
    *ret = value;
    return 0;
}

int
rpc_version_parse(const char *s, struct rpc_version *ret_version)
{
    struct rpc_version v;
    const char *dot, *end;

    if (!s) {
        return -EINVAL;
    }
    for (dot = s; *dot && *dot != '.'; dot++) {
        continue;
    }
    if (!*dot) {
        return -EINVAL;
    }
    for (end = dot + 1; *end; end++) {
        continue;
    }
    if (rpc_version_parse_part(s, dot, &v.major)
        || rpc_version_parse_part(dot + 1, end, &v.minor)) {
        return -EINVAL;
    }
    *ret_version = v;
    return 0;
}

char *
rpc_version_format(const struct rpc_version *v,
                   char buf[RPC_VERSION_STRING_SIZE])
{
    snprintf(buf, RPC_VERSION_STRING_SIZE, "%u.%u",
             v->major % (RPC_VERSION_MAX_PART + 1),
             v->minor % (RPC_VERSION_MAX_PART + 1));
    return buf;
}

bool
rpc_version_is_compatible(const struct rpc_version *server,
                          const struct rpc_version *requested)
{
    return server->major == requested->major
           && requested->minor <= server->minor;
}
