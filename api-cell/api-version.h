/* api-version.h: compute API microversions.
 *
 * Nova's API v2.1 changes shape through microversions "2.1" ... "2.N".  A
 * client asks for one with
 *
 *     OpenStack-API-Version: compute 2.47
 *     X-OpenStack-Nova-API-Version: 2.47           (legacy, before 2.27)
 *
 * or "latest" for the highest one.  The newer header wins when both are
 * present; entries for other services ("volume 3.0") are ignored; asking
 * for nothing means API_MIN_MICROVERSION.  A version outside [min, max]
 * is refused with 406 and Nova's message, a malformed one with 400.  Every
 * compute response echoes the version used in both headers and carries
 * "Vary: OpenStack-API-Version, X-OpenStack-Nova-API-Version".
 *
 * THE RULE FOR API_MAX_MICROVERSION: it is the highest microversion whose
 * every response shape and behaviour change this server implements, for
 * every resource it serves.  It starts at "2.1".  Whoever implements the
 * change of microversion 2.N (for all resources it touches) raises it to
 * 2.N, and only then; handlers branch on api_version_at_least(req, 2, N).
 * Advertising a version whose changes are missing would make clients such
 * as the openstack CLI send requests and expect replies of shapes that are
 * not served.  The version documents (GET /, GET /v2.1) report the same
 * maximum. */
#ifndef NOVA_API_VERSION_H
#define NOVA_API_VERSION_H 1

#include <stdbool.h>
#include <stddef.h>
#include "shared/compiler.h"

struct error;
struct http_request;

/* The range this server accepts, as text (as the version documents show
 * them) and as numbers.  Keep each pair in step. */
#define API_MIN_MICROVERSION "2.1"
#define API_MIN_MICROVERSION_MAJOR 2
#define API_MIN_MICROVERSION_MINOR 1
#define API_MAX_MICROVERSION "2.1"
#define API_MAX_MICROVERSION_MAJOR 2
#define API_MAX_MICROVERSION_MINOR 1

/* The service type named in OpenStack-API-Version. */
#define API_VERSION_SERVICE "compute"

/* Header names. */
#define API_VERSION_HEADER "OpenStack-API-Version"
#define API_VERSION_LEGACY_HEADER "X-OpenStack-Nova-API-Version"
#define API_VERSION_VARY \
    "OpenStack-API-Version, X-OpenStack-Nova-API-Version"

/* Largest major or minor number represented.  A larger one is well
 * formed but never supported: api_version_parse() says -ERANGE and
 * negotiation answers 406, as Nova would. */
#define API_VERSION_MAX_NUMBER 100000

/* Longest header value looked at, in bytes; longer is malformed. */
#define API_VERSION_MAX_HEADER_SIZE 1024

/* Buffer size that fits api_version_format()'s output. */
#define API_VERSION_STRING_SIZE 16

struct api_version {
    int major;
    int minor;
};

/* The bounds as structs. */
struct api_version api_version_min(void);
struct api_version api_version_max(void);

/* Parses "X.Y" (digits only, no sign, no blanks, no leading zero except
 * "0" itself, as Nova's regex '^([1-9]\d*)\.([1-9]\d*|0)$' requires) or
 * "latest" (which yields api_version_max()).  Returns 0 and sets
 * '*ret_version', -ERANGE for a well-formed version with a number above
 * API_VERSION_MAX_NUMBER, or -EINVAL. */
int api_version_parse(const char *text, struct api_version *ret_version);

/* Writes "X.Y" into 'buf'. */
void api_version_format(struct api_version version,
                        char buf[API_VERSION_STRING_SIZE]);

/* <0, 0, >0 as 'a' is older than, equal to or newer than 'b'. */
int api_version_compare(struct api_version a, struct api_version b);

/* True if 'version' lies in [api_version_min(), api_version_max()]. */
bool api_version_is_supported(struct api_version version);

/* Picks the microversion of a request from the values of its two headers
 * (either may be NULL: absent).  'header' is the OpenStack-API-Version
 * value, a comma-separated list of "SERVICE VERSION" entries (service
 * names compared without regard to case, several headers joined with
 * commas as HTTP allows); the last compute entry is used, others are
 * ignored, and so is an entry without a version ("compute"), as the
 * microversion_parse library Nova uses does.  'legacy_header' is the
 * X-OpenStack-Nova-API-Version value (its last comma-separated item),
 * used only when 'header' has no compute entry.
 *
 * Returns NULL and sets '*ret_version' on success.  Errors:
 *   ERROR_VERSION (400)        malformed: "compute 2", "compute x.y"
 *   ERROR_NOT_ACCEPTABLE (406) "Version 2.99 is not supported by the
 *                              API. Minimum is 2.1 and maximum is 2.1." */
struct error *api_version_negotiate(const char *header,
                                    const char *legacy_header,
                                    struct api_version *ret_version)
    WARN_UNUSED;

/* For handlers: true if the request's negotiated microversion is
 * 'major'.'minor' or newer ("if (api_version_at_least(req, 2, 47))"). */
bool api_version_at_least(const struct http_request *req, int major,
                          int minor);

/* True if the request's microversion lies in ['min_major'.'min_minor',
 * 'max_major'.'max_minor'], both ends included. */
bool api_version_between(const struct http_request *req, int min_major,
                         int min_minor, int max_major, int max_minor);

#endif /* NOVA_API_VERSION_H */
