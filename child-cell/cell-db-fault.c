/* cell-db-fault.c: the 'instance_faults' table (see cell-db-fault.h).
 *
 * Every statement on the table lives here.  A fault refers to its
 * instance through a foreign key, so adding a fault to an unknown
 * instance fails in the server (ERROR_CONFLICT from shared/db.h), which
 * is reported as the instance not being found. */
#include <config.h>
#include "child-cell/cell-db-fault.h"

#include <stdlib.h>
#include <json-c/json.h>

#include "child-cell/cell-db-private.h"
#include "shared/cleanup.h"
#include "shared/db.h"
#include "shared/error.h"
#include "shared/instance.h"
#include "shared/timeutil.h"
#include "shared/xalloc.h"

/* Longest host name accepted, in characters (the column's size). */
#define CELL_DB_FAULT_HOST_MAX_LENGTH 255

void
cell_db_fault_free(struct cell_db_fault *fault)
{
    if (!fault) {
        return;
    }
    free(fault->instance_uuid);
    free(fault->message);
    free(fault->details);
    free(fault->host);
    free(fault);
}

struct error *
cell_db_fault_add(struct db *db, const char *uuid, int64_t code,
                  const char *message, const char *details,
                  const char *host)
{
    AUTOFREE char *short_message = NULL;
    AUTOFREE char *short_details = NULL;
    char now[TIME_MYSQL_DATETIME_SIZE];
    struct error *error;

    if (!uuid) {
        return cell_db_instance_not_found(uuid);
    }
    if ((error = cell_db_check_string("Fault message", message, true,
                                      SIZE_MAX))
        || (error = cell_db_check_string("Fault details", details, false,
                                         SIZE_MAX))
        || (error = cell_db_check_string("Fault host", host, false,
                                         CELL_DB_FAULT_HOST_MAX_LENGTH))) {
        return error;
    }
    if (code < INT32_MIN || code > INT32_MAX) {
        return error_new(ERROR_INVALID, "Fault code %lld is out of range",
                         (long long) code);
    }
    short_message = cell_db_truncate_chars(message,
                                           CELL_DB_FAULT_MESSAGE_MAX_LENGTH);
    short_details = cell_db_truncate_utf8(details,
                                          CELL_DB_FAULT_DETAILS_MAX_SIZE);

    error = db_exec(db,
                    "INSERT INTO instance_faults"
                    " (instance_uuid, code, message, details, host,"
                    " created_at) VALUES (?, ?, ?, ?, ?, ?)",
                    DB_PARAMS(DB_STR(uuid), DB_INT(code),
                              DB_STR(short_message), DB_STR(short_details),
                              DB_STR(host),
                              cell_db_time_value(time_now_ms(), now)),
                    NULL);
    if (error && error_kind(error) == ERROR_CONFLICT) {
        /* The only constraint an insert can break is the foreign key. */
        error_free(error);
        return cell_db_instance_not_found(uuid);
    }
    return error;
}

struct error *
cell_db_fault_add_error(struct db *db, const char *uuid,
                        const struct error *cause, const char *host)
{
    return cell_db_fault_add(db, uuid, error_http_status(cause),
                             error_message(cause), NULL, host);
}

struct error *
cell_db_fault_get_latest(struct db *db, const char *uuid,
                         struct cell_db_fault **ret_fault)
{
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    struct cell_db_fault *fault;
    struct error *error;

    error = db_query(db,
                     "SELECT id, instance_uuid, code, message, details,"
                     " host, created_at FROM instance_faults"
                     " WHERE instance_uuid = ? ORDER BY id DESC LIMIT 1",
                     DB_PARAMS(DB_STR(uuid)), &rows);
    if (error) {
        return error;
    }
    if (!db_rows_count(rows)) {
        *ret_fault = NULL;
        return NULL;
    }
    fault = xzalloc(sizeof *fault);
    fault->id = db_rows_get_int64(rows, 0, 0);
    fault->instance_uuid = cell_db_rows_dup(rows, 0, 1);
    fault->code = db_rows_get_int64(rows, 0, 2);
    fault->message = cell_db_rows_dup(rows, 0, 3);
    fault->details = cell_db_rows_dup(rows, 0, 4);
    fault->host = cell_db_rows_dup(rows, 0, 5);
    fault->created_at = cell_db_rows_get_time(rows, 0, 6);
    *ret_fault = fault;
    return NULL;
}

struct json_object *
cell_db_fault_to_json(const struct cell_db_fault *fault)
{
    struct json_object *obj = json_object_new_object();
    char created[TIME_ISO8601_SIZE];

    json_object_object_add(obj, "code", json_object_new_int64(fault->code));
    json_object_object_add(obj, "message",
                           json_object_new_string(fault->message
                                                  ? fault->message : ""));
    if (fault->details) {
        json_object_object_add(obj, "details",
                               json_object_new_string(fault->details));
    }
    if (fault->created_at != INSTANCE_TIME_NONE
        && !time_format_iso8601(fault->created_at, TIME_STYLE_SECONDS_Z,
                                created, sizeof created)) {
        json_object_object_add(obj, "created",
                               json_object_new_string(created));
    } else {
        json_object_object_add(obj, "created", NULL);
    }
    return obj;
}
