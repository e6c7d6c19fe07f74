/* cell-db-action.c: the 'instance_actions' and 'instance_actions_events'
 * tables (see cell-db-action.h).
 *
 * Every statement on the two tables lives here.  Actions refer to their
 * instance through a foreign key, so starting an action on an unknown
 * instance fails in the server (ERROR_CONFLICT from shared/db.h), which
 * is reported as the instance not being found.  Functions of more than
 * one statement run them in one transaction (db_txn_run(), which joins
 * the caller's). */
#include <config.h>
#include "child-cell/cell-db-action.h"

#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "child-cell/cell-db-private.h"
#include "shared/cleanup.h"
#include "shared/db.h"
#include "shared/error.h"
#include "shared/instance.h"
#include "shared/timeutil.h"
#include "shared/xalloc.h"

#define ACTION_COLUMNS                                                  \
    "id, action, instance_uuid, request_id, user_id, project_id, "      \
    "start_time, finish_time, message"

#define EVENT_COLUMNS                                                   \
    "action_id, event, result, start_time, finish_time, host, details, " \
    "traceback"

/* ---- Memory ----------------------------------------------------------- */

static void
cell_db_action_event_destroy(struct cell_db_action_event *event)
{
    free(event->event);
    free(event->result);
    free(event->host);
    free(event->details);
    free(event->traceback);
}

/* Frees what 'action' owns, not 'action' itself. */
static void
cell_db_action_destroy(struct cell_db_action *action)
{
    for (size_t i = 0; i < action->n_events; i++) {
        cell_db_action_event_destroy(&action->events[i]);
    }
    free(action->events);
    free(action->action);
    free(action->instance_uuid);
    free(action->request_id);
    free(action->user_id);
    free(action->project_id);
    free(action->message);
}

void
cell_db_action_free(struct cell_db_action *action)
{
    if (action) {
        cell_db_action_destroy(action);
        free(action);
    }
}

void
cell_db_action_list_free(struct cell_db_action_list *list)
{
    if (!list) {
        return;
    }
    for (size_t i = 0; i < list->n; i++) {
        cell_db_action_destroy(&list->items[i]);
    }
    free(list->items);
    free(list);
}

/* ---- Start ------------------------------------------------------------ */

struct cell_db_action_start_ctx {
    const char *uuid;
    const char *action;
    const char *request_id;
    const char *user_id;
    const char *project_id;
    int64_t id;
};

static struct error *
cell_db_action_start_txn(struct db *db, void *aux)
{
    struct cell_db_action_start_ctx *ctx = aux;
    char now[TIME_MYSQL_DATETIME_SIZE];
    struct db_value now_value = cell_db_time_value(time_now_ms(), now);
    struct error *error;

    if (ctx->request_id) {
        CLEANUP(db_rows_freep) struct db_rows *rows = NULL;

        error = db_query(db,
                         "SELECT id FROM instance_actions"
                         " WHERE instance_uuid = ? AND request_id = ?"
                         " AND action = ? ORDER BY id DESC LIMIT 1",
                         DB_PARAMS(DB_STR(ctx->uuid),
                                   DB_STR(ctx->request_id),
                                   DB_STR(ctx->action)), &rows);
        if (error) {
            return error;
        }
        if (db_rows_count(rows)) {
            ctx->id = db_rows_get_int64(rows, 0, 0);
            return NULL;
        }
    }
    error = db_exec(db,
                    "INSERT INTO instance_actions (action, instance_uuid,"
                    " request_id, user_id, project_id, start_time,"
                    " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    DB_PARAMS(DB_STR(ctx->action), DB_STR(ctx->uuid),
                              DB_STR(ctx->request_id), DB_STR(ctx->user_id),
                              DB_STR(ctx->project_id), now_value,
                              now_value),
                    NULL);
    if (error && error_kind(error) == ERROR_CONFLICT) {
        error_free(error);
        return cell_db_instance_not_found(ctx->uuid);
    }
    if (error) {
        return error;
    }
    ctx->id = (int64_t) db_last_insert_id(db);
    return NULL;
}

struct error *
cell_db_action_start(struct db *db, const char *uuid, const char *action,
                     const char *request_id, const char *user_id,
                     const char *project_id, int64_t *ret_id)
{
    struct cell_db_action_start_ctx ctx = {
        .uuid = uuid, .action = action, .request_id = request_id,
        .user_id = user_id, .project_id = project_id,
    };
    struct error *error;

    if (!uuid) {
        return cell_db_instance_not_found(uuid);
    }
    if ((error = cell_db_check_string("Action name", action, true,
                                      CELL_DB_ACTION_NAME_MAX_LENGTH))
        || (error = cell_db_check_string("Request id", request_id, false,
                                         CELL_DB_ACTION_NAME_MAX_LENGTH))
        || (error = cell_db_check_string("User id", user_id, false,
                                         CELL_DB_ACTION_NAME_MAX_LENGTH))
        || (error = cell_db_check_string("Project id", project_id, false,
                                         CELL_DB_ACTION_NAME_MAX_LENGTH))
        || (error = db_txn_run(db, cell_db_action_start_txn, &ctx))) {
        return error;
    }
    if (ret_id) {
        *ret_id = ctx.id;
    }
    return NULL;
}

/* ---- Events ----------------------------------------------------------- */

static struct error *
cell_db_action_not_found(const char *uuid, const char *request_id)
{
    return error_new(ERROR_NOT_FOUND,
                     "Action for request_id %s on instance %s not found",
                     request_id ? request_id : "None", uuid);
}

/* Finds the action an event of 'request_id' belongs to (see
 * cell_db_action_add_event()) and stores its id in '*ret_id', or 0. */
static struct error *
cell_db_action_find_for_event(struct db *db, const char *uuid,
                              const char *request_id, int64_t *ret_id)
{
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    struct error *error;

    if (request_id) {
        error = db_query(db,
                         "SELECT id FROM instance_actions"
                         " WHERE instance_uuid = ? AND request_id = ?"
                         " ORDER BY id DESC LIMIT 1",
                         DB_PARAMS(DB_STR(uuid), DB_STR(request_id)),
                         &rows);
        if (error) {
            return error;
        }
        if (db_rows_count(rows)) {
            *ret_id = db_rows_get_int64(rows, 0, 0);
            return NULL;
        }
        db_rows_free(TAKE_PTR(rows));
    }
    error = db_query(db,
                     "SELECT id FROM instance_actions"
                     " WHERE instance_uuid = ? ORDER BY id DESC LIMIT 1",
                     DB_PARAMS(DB_STR(uuid)), &rows);
    if (error) {
        return error;
    }
    *ret_id = db_rows_count(rows) ? db_rows_get_int64(rows, 0, 0) : 0;
    return NULL;
}

struct cell_db_action_event_ctx {
    const char *uuid;
    const char *request_id;
    const struct cell_db_action_event *event;
    const char *details;                /* cut to size */
    const char *traceback;
};

static struct error *
cell_db_action_add_event_txn(struct db *db, void *aux)
{
    struct cell_db_action_event_ctx *ctx = aux;
    const struct cell_db_action_event *ev = ctx->event;
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    char now[TIME_MYSQL_DATETIME_SIZE];
    char start[TIME_MYSQL_DATETIME_SIZE];
    char finish[TIME_MYSQL_DATETIME_SIZE];
    struct db_value now_value = cell_db_time_value(time_now_ms(), now);
    struct db_value start_value = cell_db_time_value(ev->start_time, start);
    struct db_value finish_value = cell_db_time_value(ev->finish_time,
                                                      finish);
    int64_t action_id = 0;
    struct error *error;

    error = cell_db_action_find_for_event(db, ctx->uuid, ctx->request_id,
                                          &action_id);
    if (error) {
        return error;
    }
    if (!action_id) {
        return cell_db_action_not_found(ctx->uuid, ctx->request_id);
    }

    error = db_query(db,
                     "SELECT id FROM instance_actions_events"
                     " WHERE action_id = ? AND event = ? AND result IS NULL"
                     " ORDER BY id DESC LIMIT 1 FOR UPDATE",
                     DB_PARAMS(DB_INT(action_id), DB_STR(ev->event)),
                     &rows);
    if (error) {
        return error;
    }
    if (db_rows_count(rows)) {
        error = db_exec(db,
                        "UPDATE instance_actions_events SET result = ?,"
                        " finish_time = ?,"
                        " start_time = IFNULL(start_time, ?),"
                        " host = IFNULL(host, ?),"
                        " details = IFNULL(?, details),"
                        " traceback = IFNULL(?, traceback),"
                        " updated_at = ? WHERE id = ?",
                        DB_PARAMS(DB_STR(ev->result), finish_value,
                                  start_value, DB_STR(ev->host),
                                  DB_STR(ctx->details),
                                  DB_STR(ctx->traceback), now_value,
                                  DB_INT(db_rows_get_int64(rows, 0, 0))),
                        NULL);
    } else {
        error = db_exec(db,
                        "INSERT INTO instance_actions_events (action_id,"
                        " event, result, traceback, start_time,"
                        " finish_time, host, details, created_at)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        DB_PARAMS(DB_INT(action_id), DB_STR(ev->event),
                                  DB_STR(ev->result),
                                  DB_STR(ctx->traceback), start_value,
                                  finish_value, DB_STR(ev->host),
                                  DB_STR(ctx->details), now_value),
                        NULL);
    }
    if (error) {
        return error;
    }
    if (ev->result && !strcmp(ev->result, CELL_DB_ACTION_RESULT_ERROR)) {
        error = db_exec(db,
                        "UPDATE instance_actions SET message = ?,"
                        " updated_at = ? WHERE id = ?",
                        DB_PARAMS(DB_STR(CELL_DB_ACTION_RESULT_ERROR),
                                  now_value, DB_INT(action_id)),
                        NULL);
    }
    return error;
}

struct error *
cell_db_action_add_event(struct db *db, const char *uuid,
                         const char *request_id,
                         const struct cell_db_action_event *event)
{
    AUTOFREE char *details = NULL;
    AUTOFREE char *traceback = NULL;
    struct cell_db_action_event_ctx ctx = {
        .uuid = uuid, .request_id = request_id, .event = event,
    };
    struct error *error;

    if (!uuid) {
        return cell_db_instance_not_found(uuid);
    }
    if ((error = cell_db_check_string("Event name", event->event, true,
                                      CELL_DB_ACTION_NAME_MAX_LENGTH))
        || (error = cell_db_check_string("Event result", event->result,
                                         false,
                                         CELL_DB_ACTION_NAME_MAX_LENGTH))
        || (error = cell_db_check_string("Event host", event->host, false,
                                         CELL_DB_ACTION_NAME_MAX_LENGTH))
        || (error = cell_db_check_string("Event details", event->details,
                                         false, SIZE_MAX))
        || (error = cell_db_check_string("Event traceback",
                                         event->traceback, false,
                                         SIZE_MAX))
        || (error = cell_db_check_time("Event start_time",
                                       event->start_time))
        || (error = cell_db_check_time("Event finish_time",
                                       event->finish_time))) {
        return error;
    }
    details = cell_db_truncate_utf8(event->details,
                                    CELL_DB_ACTION_TEXT_MAX_SIZE);
    traceback = cell_db_truncate_utf8(event->traceback,
                                      CELL_DB_ACTION_TEXT_MAX_SIZE);
    ctx.details = details;
    ctx.traceback = traceback;
    return db_txn_run(db, cell_db_action_add_event_txn, &ctx);
}

/* ---- Reading ---------------------------------------------------------- */

static void
cell_db_action_from_row(const struct db_rows *rows, size_t r,
                        struct cell_db_action *action)
{
    memset(action, 0, sizeof *action);
    action->id = db_rows_get_int64(rows, r, 0);
    action->action = cell_db_rows_dup(rows, r, 1);
    action->instance_uuid = cell_db_rows_dup(rows, r, 2);
    action->request_id = cell_db_rows_dup(rows, r, 3);
    action->user_id = cell_db_rows_dup(rows, r, 4);
    action->project_id = cell_db_rows_dup(rows, r, 5);
    action->start_time = cell_db_rows_get_time(rows, r, 6);
    action->finish_time = cell_db_rows_get_time(rows, r, 7);
    action->message = cell_db_rows_dup(rows, r, 8);
}

/* Appends the event of row 'r' (selected with EVENT_COLUMNS) to
 * 'action', unless it has CELL_DB_ACTION_MAX_EVENTS already. */
static void
cell_db_action_push_event(struct cell_db_action *action,
                          const struct db_rows *rows, size_t r)
{
    struct cell_db_action_event *ev;

    if (action->n_events >= CELL_DB_ACTION_MAX_EVENTS) {
        return;
    }
    action->events = xreallocarray(action->events, action->n_events + 1,
                                   sizeof *action->events);
    ev = &action->events[action->n_events++];
    ev->event = cell_db_rows_dup(rows, r, 1);
    ev->result = cell_db_rows_dup(rows, r, 2);
    ev->start_time = cell_db_rows_get_time(rows, r, 3);
    ev->finish_time = cell_db_rows_get_time(rows, r, 4);
    ev->host = cell_db_rows_dup(rows, r, 5);
    ev->details = cell_db_rows_dup(rows, r, 6);
    ev->traceback = cell_db_rows_dup(rows, r, 7);
}

/* Returns the action of 'items' (sorted by id, newest first) with 'id',
 * or NULL. */
static struct cell_db_action *
cell_db_action_find(struct cell_db_action *items, size_t n, int64_t id)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (items[mid].id == id) {
            return &items[mid];
        }
        if (items[mid].id > id) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return NULL;
}

struct error *
cell_db_action_list(struct db *db, const char *uuid,
                    struct cell_db_action_list **ret_list)
{
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    CLEANUP(db_rows_freep) struct db_rows *events = NULL;
    CLEANUP(cell_db_action_list_freep) struct cell_db_action_list *list =
        xzalloc(sizeof *list);
    struct error *error;
    size_t n;

    if (!uuid) {
        return cell_db_instance_not_found(uuid);
    }
    error = db_query(db,
                     "SELECT " ACTION_COLUMNS " FROM instance_actions"
                     " WHERE instance_uuid = ? ORDER BY id DESC LIMIT ?",
                     DB_PARAMS(DB_STR(uuid),
                               DB_INT(CELL_DB_ACTION_LIST_MAX)), &rows);
    if (error) {
        return error;
    }
    n = db_rows_count(rows);
    if (!n) {
        bool exists = false;

        error = cell_db_instance_exists(db, uuid, &exists);
        if (error) {
            return error;
        }
        if (!exists) {
            return cell_db_instance_not_found(uuid);
        }
        *ret_list = TAKE_PTR(list);
        return NULL;
    }
    list->items = xcalloc(n, sizeof *list->items);
    for (size_t r = 0; r < n; r++) {
        cell_db_action_from_row(rows, r, &list->items[r]);
        list->n++;
    }

    /* The events of the listed actions: those with an id no older than
     * the oldest listed action's. */
    error = db_query(db,
                     "SELECT " EVENT_COLUMNS " FROM instance_actions_events"
                     " WHERE action_id IN (SELECT id FROM instance_actions"
                     " WHERE instance_uuid = ? AND id >= ?)"
                     " ORDER BY action_id, id",
                     DB_PARAMS(DB_STR(uuid),
                               DB_INT(list->items[n - 1].id)), &events);
    if (error) {
        return error;
    }
    for (size_t r = 0; r < db_rows_count(events); r++) {
        struct cell_db_action *action =
            cell_db_action_find(list->items, list->n,
                                db_rows_get_int64(events, r, 0));
        if (action) {
            cell_db_action_push_event(action, events, r);
        }
    }
    *ret_list = TAKE_PTR(list);
    return NULL;
}

struct error *
cell_db_action_get(struct db *db, const char *uuid, const char *request_id,
                   struct cell_db_action **ret_action)
{
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    CLEANUP(db_rows_freep) struct db_rows *events = NULL;
    CLEANUP(cell_db_action_freep) struct cell_db_action *action = NULL;
    struct error *error;

    if (!uuid || !request_id) {
        return cell_db_action_not_found(uuid ? uuid : "None", request_id);
    }
    error = db_query(db,
                     "SELECT " ACTION_COLUMNS " FROM instance_actions"
                     " WHERE instance_uuid = ? AND request_id = ?"
                     " ORDER BY id DESC LIMIT 1",
                     DB_PARAMS(DB_STR(uuid), DB_STR(request_id)), &rows);
    if (error) {
        return error;
    }
    if (!db_rows_count(rows)) {
        return cell_db_action_not_found(uuid, request_id);
    }
    action = xzalloc(sizeof *action);
    cell_db_action_from_row(rows, 0, action);

    error = db_query(db,
                     "SELECT " EVENT_COLUMNS " FROM instance_actions_events"
                     " WHERE action_id = ? ORDER BY id",
                     DB_PARAMS(DB_INT(action->id)), &events);
    if (error) {
        return error;
    }
    for (size_t r = 0; r < db_rows_count(events); r++) {
        cell_db_action_push_event(action, events, r);
    }
    *ret_action = TAKE_PTR(action);
    return NULL;
}

/* ---- JSON ------------------------------------------------------------- */

static struct json_object *
cell_db_action_json_string(const char *s)
{
    return s ? json_object_new_string(s) : NULL;
}

static struct json_object *
cell_db_action_json_time(int64_t ms)
{
    char buf[TIME_ISO8601_SIZE];

    if (ms == INSTANCE_TIME_NONE
        || time_format_iso8601(ms, TIME_STYLE_MICROS, buf, sizeof buf)) {
        return NULL;
    }
    return json_object_new_string(buf);
}

struct json_object *
cell_db_action_to_json(const struct cell_db_action *action)
{
    struct json_object *obj = json_object_new_object();
    struct json_object *events = json_object_new_array();

    json_object_object_add(obj, "action",
                           cell_db_action_json_string(action->action));
    json_object_object_add(obj, "instance_uuid",
                           cell_db_action_json_string(
                               action->instance_uuid));
    json_object_object_add(obj, "request_id",
                           cell_db_action_json_string(action->request_id));
    json_object_object_add(obj, "user_id",
                           cell_db_action_json_string(action->user_id));
    json_object_object_add(obj, "project_id",
                           cell_db_action_json_string(action->project_id));
    json_object_object_add(obj, "start_time",
                           cell_db_action_json_time(action->start_time));
    json_object_object_add(obj, "message",
                           cell_db_action_json_string(action->message));
    for (size_t i = 0; i < action->n_events; i++) {
        const struct cell_db_action_event *ev = &action->events[i];
        struct json_object *e = json_object_new_object();

        json_object_object_add(e, "event",
                               cell_db_action_json_string(ev->event));
        json_object_object_add(e, "start_time",
                               cell_db_action_json_time(ev->start_time));
        json_object_object_add(e, "finish_time",
                               cell_db_action_json_time(ev->finish_time));
        json_object_object_add(e, "result",
                               cell_db_action_json_string(ev->result));
        json_object_object_add(e, "host",
                               cell_db_action_json_string(ev->host));
        json_object_object_add(e, "details",
                               cell_db_action_json_string(ev->details));
        json_object_object_add(e, "traceback",
                               cell_db_action_json_string(ev->traceback));
        json_object_array_add(events, e);
    }
    json_object_object_add(obj, "events", events);
    return obj;
}
