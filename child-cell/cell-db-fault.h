/* cell-db-fault.h: the 'instance_faults' table of the cell database.
 *
 * A fault is why an instance went wrong, as the user reads it in the
 * server's "fault" ({"code": 500, "message": "No valid host was found.
 * ...", "details": "...", "created": "..."}).  The API shows the latest
 * one.
 *
 * See cell-db.h for the rules shared by every cell_db_* function. */
#ifndef NOVA_CELL_DB_FAULT_H
#define NOVA_CELL_DB_FAULT_H 1

#include <stdint.h>
#include "shared/compiler.h"
#include "shared/cleanup.h"

struct db;
struct error;
struct json_object;

/* A message longer than this many characters is cut (the column's size,
 * as Nova cuts it); details longer than CELL_DB_FAULT_DETAILS_MAX_SIZE
 * bytes are cut at a character boundary. */
#define CELL_DB_FAULT_MESSAGE_MAX_LENGTH 255
#define CELL_DB_FAULT_DETAILS_MAX_SIZE 65535

/* One fault.  Strings are owned; 'details' and 'host' may be NULL. */
struct cell_db_fault {
    int64_t id;
    char *instance_uuid;
    int64_t code;                       /* HTTP-like: 404, 500, ... */
    char *message;
    char *details;
    char *host;
    int64_t created_at;                 /* ms */
};

void cell_db_fault_free(struct cell_db_fault *);    /* Accepts NULL. */
DEFINE_FREEP(struct cell_db_fault, cell_db_fault_free)

/* Records a fault of the instance 'uuid' with 'code', 'message' (required;
 * cut as said above), 'details' and 'host' (both may be NULL), created
 * now.  Returns ERROR_NOT_FOUND "Instance <uuid> could not be found." when
 * there is no such instance. */
struct error *cell_db_fault_add(struct db *db, const char *uuid,
                                int64_t code, const char *message,
                                const char *details, const char *host)
    WARN_UNUSED;

/* Like cell_db_fault_add() with the code (error_http_status()) and the
 * message of 'error' (borrowed). */
struct error *cell_db_fault_add_error(struct db *db, const char *uuid,
                                      const struct error *error,
                                      const char *host) WARN_UNUSED;

/* Stores the newest fault of the instance 'uuid' in '*ret_fault' (owned by
 * the caller), or NULL when it has none (not an error). */
struct error *cell_db_fault_get_latest(struct db *db, const char *uuid,
                                       struct cell_db_fault **ret_fault)
    WARN_UNUSED;

/* The API's form of 'fault': {"code", "message", "details" (only when
 * set), "created": "2012-08-20T21:11:09Z"}.  A new reference. */
struct json_object *cell_db_fault_to_json(const struct cell_db_fault *);

#endif /* NOVA_CELL_DB_FAULT_H */
