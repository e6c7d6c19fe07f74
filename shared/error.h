/* error.h: the one error type that crosses every layer.
 *
 * A 'struct error' carries a kind (which fixes the HTTP status and the Nova
 * fault name), a message a user can read, and optionally the error that
 * caused it.  Low-level helpers return 0 / -errno; at the first layer where a
 * failure means something to a user it becomes a 'struct error'.  Functions
 * that can fail this way return 'struct error *', NULL meaning success.
 *
 * Errors convert to and from JSON, so a failure in a leaf cell reaches the
 * API user word for word, hop by hop (as libvirt's remote driver does). */
#ifndef NOVA_ERROR_H
#define NOVA_ERROR_H 1

#include <stdarg.h>
#include "shared/compiler.h"
#include "shared/cleanup.h"

struct json_object;

/* X-macro: kind, name on the wire, HTTP status, Nova fault key.  The
 * fault keys are Nova's (nova/api/openstack/wsgi.py, Fault._fault_names):
 * a status Nova does not name there, such as 406 or 504, is a
 * "computeFault". */
#define ERROR_KINDS(X)                                                     \
    X(ERROR_INVALID,       "Invalid",        400, "badRequest")             \
    X(ERROR_UNAUTHORIZED,  "Unauthorized",   401, "unauthorized")           \
    X(ERROR_FORBIDDEN,     "Forbidden",      403, "forbidden")              \
    X(ERROR_NOT_FOUND,     "NotFound",       404, "itemNotFound")           \
    X(ERROR_NOT_ACCEPTABLE, "NotAcceptable", 406, "computeFault")           \
    X(ERROR_CONFLICT,      "Conflict",       409, "conflictingRequest")     \
    X(ERROR_TOO_LARGE,     "TooLarge",       413, "overLimit")              \
    X(ERROR_QUOTA,         "OverQuota",      403, "overLimit")              \
    X(ERROR_NO_VALID_HOST, "NoValidHost",    500, "computeFault")           \
    X(ERROR_CELL_DOWN,     "CellDown",       503, "serviceUnavailable")     \
    X(ERROR_UNAVAILABLE,   "Unavailable",    503, "serviceUnavailable")     \
    X(ERROR_TIMEOUT,       "Timeout",        504, "computeFault")           \
    X(ERROR_VERSION,       "IncompatibleVersion", 400, "badRequest")        \
    X(ERROR_INTERNAL,      "Internal",       500, "computeFault")

enum error_kind {
#define ERROR_KIND_ENUM(kind, name, status, fault) kind,
    ERROR_KINDS(ERROR_KIND_ENUM)
#undef ERROR_KIND_ENUM
};

struct error;

/* Creates an error of 'kind' with a printf-formatted message.  Never returns
 * NULL (allocation failure aborts).  The caller owns the result. */
struct error *error_new(enum error_kind kind, const char *fmt, ...)
    PRINTF_FMT(2, 3) WARN_UNUSED;
struct error *error_newv(enum error_kind kind, const char *fmt, va_list)
    PRINTF_FMT(2, 0) WARN_UNUSED;

/* Creates an error that explains 'cause' in the caller's terms: same kind,
 * message "<fmt>: <cause message>".  Takes ownership of 'cause'. */
struct error *error_wrap(struct error *cause, const char *fmt, ...)
    PRINTF_FMT(2, 3) WARN_UNUSED;

/* Creates an error from a negative errno value: "<fmt>: <strerror>". */
struct error *error_from_errno(int neg_errno, enum error_kind kind,
                               const char *fmt, ...)
    PRINTF_FMT(3, 4) WARN_UNUSED;

void error_free(struct error *);
DEFINE_FREEP(struct error, error_free)

enum error_kind error_kind(const struct error *);
/* The full message, including causes.  Owned by 'error'. */
const char *error_message(const struct error *);
int error_http_status(const struct error *);
const char *error_fault_name(const struct error *);

const char *error_kind_to_string(enum error_kind);
/* Returns 0 and sets '*ret_kind', or -EINVAL for an unknown name. */
int error_kind_from_string(const char *, enum error_kind *ret_kind);

/* {"kind": "NotFound", "code": 404, "message": "..."}: new reference. */
struct json_object *error_to_json(const struct error *);
/* The inverse.  A body that is not a well-formed error becomes an
 * ERROR_INTERNAL error saying so: the result is never NULL. */
struct error *error_from_json(const struct json_object *) WARN_UNUSED;

/* Nova's fault body: {"itemNotFound": {"code": 404, "message": "..."}}. */
struct json_object *error_to_fault_json(const struct error *);

#endif /* NOVA_ERROR_H */
