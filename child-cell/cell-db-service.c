/* cell-db-service.c: the 'services' table (see cell-db-service.h).
 *
 * Every statement on the table lives here.  All times of the table come
 * from the database server's clock (UTC_TIMESTAMP(6): the session time
 * zone is UTC), and "up" is computed by the same server in the SELECT, so
 * the clocks of the hosts that send heartbeats and of the daemons that
 * read them never enter the comparison. */
#include <config.h>
#include "child-cell/cell-db-service.h"

#include <stdlib.h>
#include <string.h>

#include "child-cell/cell-db-node.h"
#include "child-cell/cell-db-private.h"
#include "shared/cleanup.h"
#include "shared/db.h"
#include "shared/error.h"
#include "shared/uuid-util.h"
#include "shared/xalloc.h"

/* The binary whose deletion also deletes its host's compute nodes. */
#define CELL_DB_SERVICE_COMPUTE_BINARY "nova-compute"
/* Largest service_down_time accepted, in seconds (a day). */
#define CELL_DB_SERVICE_MAX_DOWN_TIME_S 86400

/* The first parameter of every statement that selects these columns is
 * the service down time, in seconds. */
#define SERVICE_COLUMNS                                                 \
    "id, uuid, host, `binary`, topic, report_count, last_seen_up, "     \
    "disabled, disabled_reason, forced_down, version, created_at, "     \
    "updated_at, (forced_down = 0 AND last_seen_up IS NOT NULL AND "    \
    "last_seen_up >= UTC_TIMESTAMP(6) - INTERVAL ? SECOND) AS up"

/* Frees what 'service' owns, not 'service' itself. */
static void
cell_db_service_destroy(struct cell_db_service *service)
{
    free(service->uuid);
    free(service->host);
    free(service->binary);
    free(service->topic);
    free(service->disabled_reason);
}

void
cell_db_service_free(struct cell_db_service *service)
{
    if (service) {
        cell_db_service_destroy(service);
        free(service);
    }
}

void
cell_db_service_list_free(struct cell_db_service_list *list)
{
    if (!list) {
        return;
    }
    for (size_t i = 0; i < list->n; i++) {
        cell_db_service_destroy(&list->items[i]);
    }
    free(list->items);
    free(list);
}

static void
cell_db_service_from_row(const struct db_rows *rows, size_t r,
                         struct cell_db_service *service)
{
    memset(service, 0, sizeof *service);
    service->id = db_rows_get_int64(rows, r, 0);
    service->uuid = cell_db_rows_dup(rows, r, 1);
    service->host = cell_db_rows_dup(rows, r, 2);
    service->binary = cell_db_rows_dup(rows, r, 3);
    service->topic = cell_db_rows_dup(rows, r, 4);
    service->report_count = db_rows_get_int64(rows, r, 5);
    service->last_seen_up = cell_db_rows_get_time(rows, r, 6);
    service->disabled = db_rows_get_bool(rows, r, 7);
    service->disabled_reason = cell_db_rows_dup(rows, r, 8);
    service->forced_down = db_rows_get_bool(rows, r, 9);
    service->version = db_rows_get_int64(rows, r, 10);
    service->created_at = cell_db_rows_get_time(rows, r, 11);
    service->updated_at = cell_db_rows_get_time(rows, r, 12);
    service->up = db_rows_get_bool(rows, r, 13);
}

static int
cell_db_service_down_time(int service_down_time_s)
{
    if (service_down_time_s < 0) {
        return 0;
    }
    return service_down_time_s > CELL_DB_SERVICE_MAX_DOWN_TIME_S
           ? CELL_DB_SERVICE_MAX_DOWN_TIME_S : service_down_time_s;
}

static struct error *
cell_db_service_not_found(const char *host, const char *binary)
{
    return error_new(ERROR_NOT_FOUND,
                     "Service %s on host %s could not be found.",
                     binary ? binary : "(null)", host ? host : "(null)");
}

static struct error *
cell_db_service_check_names(const char *host, const char *binary)
{
    struct error *error;

    if ((error = cell_db_check_string("Service host", host, true,
                                      CELL_DB_SERVICE_NAME_MAX_LENGTH))
        || (error = cell_db_check_string("Service binary", binary, true,
                                         CELL_DB_SERVICE_NAME_MAX_LENGTH))) {
        return error;
    }
    return NULL;
}

/* Reads the service 'binary' on 'host' into a new object stored in
 * '*ret_service', NULL when there is none. */
static struct error *
cell_db_service_read(struct db *db, const char *host, const char *binary,
                     int service_down_time_s,
                     struct cell_db_service **ret_service)
{
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    struct cell_db_service *service;
    struct error *error;

    error = db_query(db,
                     "SELECT " SERVICE_COLUMNS " FROM services"
                     " WHERE host = ? AND `binary` = ? AND deleted = 0",
                     DB_PARAMS(DB_INT(cell_db_service_down_time(
                                          service_down_time_s)),
                               DB_STR(host), DB_STR(binary)), &rows);
    if (error) {
        return error;
    }
    if (!db_rows_count(rows)) {
        *ret_service = NULL;
        return NULL;
    }
    service = xmalloc(sizeof *service);
    cell_db_service_from_row(rows, 0, service);
    *ret_service = service;
    return NULL;
}

struct cell_db_service_heartbeat_ctx {
    const char *host;
    const char *binary;
    const char *topic;
    int64_t version;
    struct cell_db_service *result;
};

static struct error *
cell_db_service_heartbeat_txn(struct db *db, void *aux)
{
    struct cell_db_service_heartbeat_ctx *ctx = aux;
    char uuid[UUID_STRING_SIZE];
    struct error *error;

    cell_db_service_free(ctx->result);
    ctx->result = NULL;
    uuid_generate_string(uuid);
    error = db_exec(db,
                    "INSERT INTO services (uuid, host, `binary`, topic,"
                    " version, report_count, last_seen_up, created_at,"
                    " updated_at, deleted)"
                    " VALUES (?, ?, ?, ?, ?, 1, UTC_TIMESTAMP(6),"
                    " UTC_TIMESTAMP(6), UTC_TIMESTAMP(6), 0)"
                    " ON DUPLICATE KEY UPDATE"
                    " report_count = report_count + 1,"
                    " last_seen_up = UTC_TIMESTAMP(6),"
                    " updated_at = UTC_TIMESTAMP(6),"
                    " topic = VALUES(topic), version = VALUES(version)",
                    DB_PARAMS(DB_STR(uuid), DB_STR(ctx->host),
                              DB_STR(ctx->binary), DB_STR(ctx->topic),
                              DB_INT(ctx->version)),
                    NULL);
    if (error) {
        return error;
    }
    error = cell_db_service_read(db, ctx->host, ctx->binary,
                                 CELL_DB_SERVICE_DOWN_TIME_S, &ctx->result);
    if (!error && !ctx->result) {
        error = cell_db_service_not_found(ctx->host, ctx->binary);
    }
    return error;
}

struct error *
cell_db_service_heartbeat(struct db *db, const char *host,
                          const char *binary, const char *topic,
                          int64_t version,
                          struct cell_db_service **ret_service)
{
    struct cell_db_service_heartbeat_ctx ctx = {
        .host = host, .binary = binary, .topic = topic, .version = version,
    };
    struct error *error;

    if ((error = cell_db_service_check_names(host, binary))
        || (error = cell_db_check_string("Service topic", topic, false,
                                         CELL_DB_SERVICE_NAME_MAX_LENGTH))) {
        return error;
    }
    if (version < 0 || version > INT32_MAX) {
        return error_new(ERROR_INVALID, "Service version %lld is out of "
                         "range", (long long) version);
    }
    error = db_txn_run(db, cell_db_service_heartbeat_txn, &ctx);
    if (error) {
        cell_db_service_free(ctx.result);
        return error;
    }
    if (ret_service) {
        *ret_service = ctx.result;
    } else {
        cell_db_service_free(ctx.result);
    }
    return NULL;
}

struct error *
cell_db_service_get(struct db *db, const char *host, const char *binary,
                    int service_down_time_s,
                    struct cell_db_service **ret_service)
{
    struct cell_db_service *service = NULL;
    struct error *error;

    if (!host || !binary) {
        return cell_db_service_not_found(host, binary);
    }
    error = cell_db_service_read(db, host, binary, service_down_time_s,
                                 &service);
    if (error) {
        return error;
    }
    if (!service) {
        return cell_db_service_not_found(host, binary);
    }
    *ret_service = service;
    return NULL;
}

struct error *
cell_db_service_get_by_uuid(struct db *db, const char *uuid,
                            int service_down_time_s,
                            struct cell_db_service **ret_service)
{
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    struct cell_db_service *service;
    struct error *error;

    if (!uuid) {
        return error_new(ERROR_NOT_FOUND, "Service (null) could not be "
                         "found.");
    }
    error = db_query(db,
                     "SELECT " SERVICE_COLUMNS " FROM services"
                     " WHERE uuid = ? AND deleted = 0",
                     DB_PARAMS(DB_INT(cell_db_service_down_time(
                                          service_down_time_s)),
                               DB_STR(uuid)), &rows);
    if (error) {
        return error;
    }
    if (!db_rows_count(rows)) {
        return error_new(ERROR_NOT_FOUND, "Service %s could not be found.",
                         uuid);
    }
    service = xmalloc(sizeof *service);
    cell_db_service_from_row(rows, 0, service);
    *ret_service = service;
    return NULL;
}

struct error *
cell_db_service_list(struct db *db, const char *binary,
                     int service_down_time_s,
                     struct cell_db_service_list **ret_list)
{
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    struct cell_db_service_list *list;
    struct error *error;

    error = db_query(db,
                     "SELECT " SERVICE_COLUMNS " FROM services"
                     " WHERE deleted = 0 AND (? IS NULL OR `binary` = ?)"
                     " ORDER BY id LIMIT ?",
                     DB_PARAMS(DB_INT(cell_db_service_down_time(
                                          service_down_time_s)),
                               DB_STR(binary), DB_STR(binary),
                               DB_INT(CELL_DB_SERVICE_LIST_MAX)), &rows);
    if (error) {
        return error;
    }
    list = xzalloc(sizeof *list);
    if (db_rows_count(rows)) {
        list->items = xcalloc(db_rows_count(rows), sizeof *list->items);
    }
    for (size_t r = 0; r < db_rows_count(rows); r++) {
        cell_db_service_from_row(rows, r, &list->items[list->n++]);
    }
    *ret_list = list;
    return NULL;
}

struct error *
cell_db_service_set_disabled(struct db *db, const char *host,
                             const char *binary, bool disabled,
                             const char *reason)
{
    uint64_t affected = 0;
    struct error *error;

    if ((error = cell_db_service_check_names(host, binary))
        || (error = cell_db_check_string("Disabled reason", reason, false,
                                         CELL_DB_SERVICE_NAME_MAX_LENGTH))) {
        return error;
    }
    error = db_exec(db,
                    "UPDATE services SET disabled = ?,"
                    " disabled_reason = IF(?, ?, NULL),"
                    " updated_at = UTC_TIMESTAMP(6)"
                    " WHERE host = ? AND `binary` = ? AND deleted = 0",
                    DB_PARAMS(DB_BOOL(disabled), DB_BOOL(disabled),
                              DB_STR(reason), DB_STR(host), DB_STR(binary)),
                    &affected);
    if (error) {
        return error;
    }
    return affected ? NULL : cell_db_service_not_found(host, binary);
}

struct error *
cell_db_service_set_forced_down(struct db *db, const char *host,
                                const char *binary, bool forced_down)
{
    uint64_t affected = 0;
    struct error *error;

    if ((error = cell_db_service_check_names(host, binary))) {
        return error;
    }
    error = db_exec(db,
                    "UPDATE services SET forced_down = ?,"
                    " updated_at = UTC_TIMESTAMP(6)"
                    " WHERE host = ? AND `binary` = ? AND deleted = 0",
                    DB_PARAMS(DB_BOOL(forced_down), DB_STR(host),
                              DB_STR(binary)),
                    &affected);
    if (error) {
        return error;
    }
    return affected ? NULL : cell_db_service_not_found(host, binary);
}

struct cell_db_service_delete_ctx {
    const char *host;
    const char *binary;
};

static struct error *
cell_db_service_delete_txn(struct db *db, void *aux)
{
    struct cell_db_service_delete_ctx *ctx = aux;
    uint64_t affected = 0;
    struct error *error;

    error = db_exec(db,
                    "UPDATE services SET deleted = id,"
                    " deleted_at = UTC_TIMESTAMP(6)"
                    " WHERE host = ? AND `binary` = ? AND deleted = 0",
                    DB_PARAMS(DB_STR(ctx->host), DB_STR(ctx->binary)),
                    &affected);
    if (error) {
        return error;
    }
    if (!affected) {
        return cell_db_service_not_found(ctx->host, ctx->binary);
    }
    if (!strcmp(ctx->binary, CELL_DB_SERVICE_COMPUTE_BINARY)) {
        return cell_db_node_delete_by_host(db, ctx->host, NULL);
    }
    return NULL;
}

struct error *
cell_db_service_delete(struct db *db, const char *host, const char *binary)
{
    struct cell_db_service_delete_ctx ctx = { .host = host,
                                              .binary = binary };
    struct error *error = cell_db_service_check_names(host, binary);

    return error ? error : db_txn_run(db, cell_db_service_delete_txn, &ctx);
}
