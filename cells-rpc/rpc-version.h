/* rpc-version.h: versions of RPC interfaces, "major.minor".
 *
 * As in oslo.messaging, each RPC interface (a topic's set of methods) has a
 * version.  A server implements one version; every message carries the
 * version its caller needs.  Adding a method or an optional argument bumps
 * the minor number; anything a server of the old version would get wrong
 * bumps the major number.  So a server can serve a request when the majors
 * are equal and the request's minor is not higher than the server's:
 *
 *     server 1.3 serves 1.0 .. 1.3; it rejects 1.4, 2.0 and 0.9. */
#ifndef NOVA_RPC_VERSION_H
#define NOVA_RPC_VERSION_H 1

#include <stdbool.h>

/* Largest major or minor number. */
#define RPC_VERSION_MAX_PART 65535

/* Longest text form "65535.65535" plus the NUL. */
#define RPC_VERSION_STRING_SIZE 12

struct rpc_version {
    unsigned int major;
    unsigned int minor;
};

/* Parses "MAJOR.MINOR": each part decimal digits without sign, without
 * leading zeros (except "0" itself), at most RPC_VERSION_MAX_PART.
 * Returns 0 and sets '*ret_version', or -EINVAL ("1", "1.", "1.2.3", "01.2",
 * "+1.2", " 1.2", "1.x", NULL). */
int rpc_version_parse(const char *s, struct rpc_version *ret_version);

/* Writes "MAJOR.MINOR" into 'buf' and returns 'buf'. */
char *rpc_version_format(const struct rpc_version *,
                         char buf[RPC_VERSION_STRING_SIZE]);

/* True if a server implementing 'server' can serve a request that needs
 * 'requested': same major, requested minor <= server minor. */
bool rpc_version_is_compatible(const struct rpc_version *server,
                               const struct rpc_version *requested);

#endif /* NOVA_RPC_VERSION_H */
