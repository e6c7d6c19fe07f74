/* servers-validate.h: checking the bodies and query parameters of the
 * servers API (servers-api.h, servers-actions.h).
 *
 * Nova validates request bodies with JSON schemas (nova/api/openstack/
 * compute/schemas/servers.py and friends, microversion 2.1) and clients
 * and tests compare its messages, so the checks here follow those schemas
 * keyword by keyword and word their failures as Nova's validator does:
 *
 *     Invalid input for field/attribute name. Value: 5. 5 is not of type
 *     'string'
 *
 * The field is the last element of the failing value's path (Nova pops
 * it off jsonschema's path), the value is printed as Python's str() and
 * the reason in jsonschema's words, values in Python's repr().  A failure
 * at the top level of the body has no prefix ("'server' is a required
 * property").  Like jsonschema, the first failing keyword wins, in the
 * order of the schema: properties, then required, then additional
 * properties.
 *
 * Everything here is pure (no database, no request object) and
 * thread-safe. */
#ifndef NOVA_SERVERS_VALIDATE_H
#define NOVA_SERVERS_VALIDATE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "shared/compiler.h"

struct error;
struct json_object;

/* Most servers one create request may ask for (max_count): a bound on the
 * work of one request whatever the quotas say. */
#define SERVERS_MAX_COUNT 1000

/* Longest user_data, in characters (Nova's schema). */
#define SERVERS_MAX_USER_DATA_LENGTH 65535

/* Longest rendering of a value quoted in a message, in bytes. */
#define SERVERS_VALIDATE_MAX_VALUE_SIZE 1024

/* What a valid create body asks for.  Strings and objects are borrowed
 * from the body unless marked owned. */
struct servers_create_req {
    const char *name;
    char *image_ref;            /* owned; "" for none (volume boot), else a
                                 * canonical UUID */
    char *flavor_ref;           /* owned; an integer is written in
                                 * decimal */
    const char *key_name;       /* NULL: none */
    const char *availability_zone;      /* NULL: none */
    struct json_object *metadata;       /* an object of strings, or NULL */
    struct json_object *scheduler_hints;    /* an object, or NULL */
    long long min_count;        /* 1..max_count */
    long long max_count;        /* ..SERVERS_MAX_COUNT */
    bool return_reservation_id;
    bool has_block_devices;     /* a non-empty block device mapping */
};

/* Frees what 'req' owns and zeroes it.  NULL is accepted. */
void servers_create_req_destroy(struct servers_create_req *req);

/* Checks the body of POST /servers ('body' may be NULL: no body) and fills
 * '*ret' (overwritten; destroy it afterwards, also after a failure).
 * Returns NULL or an ERROR_INVALID error with Nova's message. */
struct error *servers_validate_create(const struct json_object *body,
                                      struct servers_create_req *ret)
    WARN_UNUSED;

/* Checks the body of PUT /servers/{id}: {"server": {"name", ...}}.
 * Stores the new name (borrowed from 'body') or NULL when none is given
 * in '*ret_name'. */
struct error *servers_validate_update(const struct json_object *body,
                                      const char **ret_name) WARN_UNUSED;

/* The server actions of POST /servers/{id}/action. */
#define SERVERS_ACTIONS(X)                                              \
    X(SERVERS_ACTION_REBOOT, "reboot")                                  \
    X(SERVERS_ACTION_STOP, "os-stop")                                   \
    X(SERVERS_ACTION_START, "os-start")                                 \
    X(SERVERS_ACTION_PAUSE, "pause")                                    \
    X(SERVERS_ACTION_UNPAUSE, "unpause")                                \
    X(SERVERS_ACTION_SUSPEND, "suspend")                                \
    X(SERVERS_ACTION_RESUME, "resume")                                  \
    X(SERVERS_ACTION_LOCK, "lock")                                      \
    X(SERVERS_ACTION_UNLOCK, "unlock")                                  \
    X(SERVERS_ACTION_CONSOLE_OUTPUT, "os-getConsoleOutput")

enum servers_action {
#define SERVERS_ACTION_ENUM(action, name) action,
    SERVERS_ACTIONS(SERVERS_ACTION_ENUM)
#undef SERVERS_ACTION_ENUM
    SERVERS_N_ACTIONS
};

/* The body key of 'action' ("os-stop"), or "?" out of range. */
const char *servers_action_to_string(enum servers_action action);

/* A valid action body. */
struct servers_action_req {
    enum servers_action action;
    bool hard;                  /* reboot: type HARD */
    bool has_length;            /* os-getConsoleOutput: length given and
                                 * not -1 */
    long long length;
};

/* Checks an action body: exactly one key ("Malformed request body"
 * otherwise), a known action ("There is no such action: X"), and that
 * action's schema. */
struct error *servers_validate_action(const struct json_object *body,
                                      struct servers_action_req *ret)
    WARN_UNUSED;

/* ---- Query parameters --------------------------------------------------- */

/* Parses the 'limit' of a list: a decimal integer >= 0 ("limit param must
 * be an integer", "limit param must be positive"), capped at
 * 'max_limit'. */
struct error *servers_parse_limit(const char *value, long long max_limit,
                                  long long *ret_limit) WARN_UNUSED;

/* Parses a boolean query parameter as oslo's strict bool_from_string():
 * '1', 't', 'true', 'on', 'y', 'yes' and their opposites, in any case. */
struct error *servers_parse_bool(const char *value, bool *ret_value)
    WARN_UNUSED;

/* Parses 'changes-since' (ISO 8601) into milliseconds. */
struct error *servers_parse_changes_since(const char *value,
                                          int64_t *ret_ms) WARN_UNUSED;

/* Checks a 'sort_dir' value: "asc" or "desc". */
struct error *servers_check_sort_dir(const char *value) WARN_UNUSED;

/* Maps an API status ("ACTIVE") to the vm_state the top view filters on
 * ("active") and says in '*ret_needs_task' whether the status also depends
 * on the task state (REBOOT, HARD_REBOOT, ...: the caller then compares
 * instance_api_status() of each row).  Returns NULL for an unknown
 * status, for which Nova 2.1 lists nothing. */
const char *servers_status_to_vm_state(const char *status,
                                       bool *ret_needs_task);

/* Python's repr() of 'obj' as Nova's messages print values ('abc', 5,
 * True, None, {'a': 1}), cut at SERVERS_VALIDATE_MAX_VALUE_SIZE bytes.
 * The caller frees the result. */
char *servers_py_repr(const struct json_object *obj);

/* An ERROR_INVALID error in Nova's words: "Invalid input for
 * field/attribute FIELD. Value: VALUE. REASON", REASON printf'd from
 * 'fmt'; REASON alone without a 'field' (a top-level failure). */
struct error *servers_validate_invalid(const char *field,
                                       const struct json_object *value,
                                       const char *fmt, ...)
    PRINTF_FMT(3, 4);

/* "Additional properties are not allowed ('a', 'b' were unexpected)" for
 * the keys of 'obj' not in 'allowed' (NULL-terminated); 'field' names
 * 'obj' (NULL at the top level).  NULL when there are none. */
struct error *servers_validate_additional(const char *field,
                                          const struct json_object *obj,
                                          const char *const *allowed)
    WARN_UNUSED;

/* Nova's parameter_types.metadata at 'field': an object whose keys match
 * '^[a-zA-Z0-9-_:. ]{1,255}$', with string values of at most 255
 * characters.  NULL when 'value' passes. */
struct error *servers_validate_metadata(const char *field,
                                        const struct json_object *value)
    WARN_UNUSED;

#endif /* NOVA_SERVERS_VALIDATE_H */
