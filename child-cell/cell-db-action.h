/* cell-db-action.h: the 'instance_actions' and 'instance_actions_events'
 * tables of the cell database (Nova's os-instance-actions).
 *
 * An action is one user request on an instance ("create", "reboot",
 * "stop", "delete", ...), identified by the request id; its events are the
 * steps the services took for it ("compute_reboot_instance", ...), each
 * with a start, a finish and a result ("Success" or "Error").  An event
 * that finishes with "Error" marks its action's message "Error", as Nova
 * does.
 *
 * See cell-db.h for the rules shared by every cell_db_* function. */
#ifndef NOVA_CELL_DB_ACTION_H
#define NOVA_CELL_DB_ACTION_H 1

#include <stddef.h>
#include <stdint.h>
#include "shared/compiler.h"
#include "shared/cleanup.h"

struct db;
struct error;
struct json_object;

/* Longest action and event name, result, request id, user and project id
 * and host, in characters (the columns' size); longer values are
 * refused with ERROR_INVALID.  Details and tracebacks longer than
 * CELL_DB_ACTION_TEXT_MAX_SIZE bytes are cut at a character boundary. */
#define CELL_DB_ACTION_NAME_MAX_LENGTH 255
#define CELL_DB_ACTION_TEXT_MAX_SIZE 65535
/* At most this many actions (newest first) per list, and events per
 * action. */
#define CELL_DB_ACTION_LIST_MAX 1000
#define CELL_DB_ACTION_MAX_EVENTS 1000

/* Nova's event results. */
#define CELL_DB_ACTION_RESULT_SUCCESS "Success"
#define CELL_DB_ACTION_RESULT_ERROR "Error"

/* One event.  As an argument every string but 'event' may be NULL and the
 * times INSTANCE_TIME_NONE (INT64_MIN); as a result the strings are owned
 * by the enclosing action. */
struct cell_db_action_event {
    char *event;                        /* "compute_reboot_instance" */
    char *result;                       /* "Success", "Error" or NULL */
    int64_t start_time;
    int64_t finish_time;
    char *host;
    char *details;
    char *traceback;
};

/* One action and its events (oldest event first).  Everything owned. */
struct cell_db_action {
    int64_t id;
    char *action;                       /* "reboot" */
    char *instance_uuid;
    char *request_id;
    char *user_id;
    char *project_id;
    int64_t start_time;
    int64_t finish_time;
    char *message;                      /* NULL, or "Error" */
    struct cell_db_action_event *events;
    size_t n_events;
};

/* A list of actions, newest first. */
struct cell_db_action_list {
    struct cell_db_action *items;
    size_t n;
};

void cell_db_action_free(struct cell_db_action *);   /* Accepts NULL. */
DEFINE_FREEP(struct cell_db_action, cell_db_action_free)
void cell_db_action_list_free(struct cell_db_action_list *);
DEFINE_FREEP(struct cell_db_action_list, cell_db_action_list_free)

/* Records the start of action 'action' on the instance 'uuid' for the
 * request 'request_id' by 'user_id' of 'project_id' (those three may be
 * NULL), start_time now.  Idempotent: when the instance already has an
 * action of that name for that (non-NULL) request id, nothing is added.
 * Returns ERROR_NOT_FOUND "Instance <uuid> could not be found." for an
 * unknown instance.  Stores the action's id in '*ret_id' (if not NULL). */
struct error *cell_db_action_start(struct db *db, const char *uuid,
                                   const char *action,
                                   const char *request_id,
                                   const char *user_id,
                                   const char *project_id, int64_t *ret_id)
    WARN_UNUSED;

/* Records 'event' (borrowed; its 'event' name is required) for the action
 * of the instance 'uuid' started by 'request_id', or for the instance's
 * newest action when 'request_id' is NULL or matches none of its
 * actions (nova-compute reports events of actions it did not start).
 * When that action already has an event of the same name without a
 * result, that event is completed (result, finish_time, details,
 * traceback; start_time and host kept unless they were unset); otherwise
 * a new event is added.  A result of "Error" also sets the action's
 * message to "Error".  Returns ERROR_NOT_FOUND "Action for request_id
 * <id> on instance <uuid> not found" when the instance has no action. */
struct error *cell_db_action_add_event(
    struct db *db, const char *uuid, const char *request_id,
    const struct cell_db_action_event *event) WARN_UNUSED;

/* Lists the actions of the instance 'uuid', newest first, each with its
 * events.  An instance without actions gives an empty list; an unknown
 * instance ERROR_NOT_FOUND.  Stores the list in '*ret_list'. */
struct error *cell_db_action_list(struct db *db, const char *uuid,
                                  struct cell_db_action_list **ret_list)
    WARN_UNUSED;

/* Reads the action of the instance 'uuid' for 'request_id', with its
 * events.  Returns ERROR_NOT_FOUND "Action for request_id <id> on instance
 * <uuid> not found" when there is none. */
struct error *cell_db_action_get(struct db *db, const char *uuid,
                                 const char *request_id,
                                 struct cell_db_action **ret_action)
    WARN_UNUSED;

/* The API's form of 'action' (os-instance-actions): {"action",
 * "instance_uuid", "request_id", "user_id", "project_id", "start_time",
 * "message", "events": [{"event", "start_time", "finish_time", "result",
 * "host", "details", "traceback"}]}, times as ISO 8601 with microseconds
 * or null.  A new reference. */
struct json_object *cell_db_action_to_json(const struct cell_db_action *);

#endif /* NOVA_CELL_DB_ACTION_H */
