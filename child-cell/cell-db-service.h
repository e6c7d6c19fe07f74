/* cell-db-service.h: the 'services' table of the cell database.
 *
 * One row per service process per host (nova-compute on each compute
 * host, nova-conductor, nova-scheduler), created by its first heartbeat.
 * A service is "up" when it is not forced down and its last heartbeat is
 * at most 'service_down_time' seconds old, as Nova's DB servicegroup
 * driver decides; heartbeats and that check both use the database
 * server's clock.
 *
 * Services are named by (host, binary): "cmp1", "nova-compute".
 *
 * See cell-db.h for the rules shared by every cell_db_* function. */
#ifndef NOVA_CELL_DB_SERVICE_H
#define NOVA_CELL_DB_SERVICE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "shared/compiler.h"
#include "shared/cleanup.h"

struct db;
struct error;

/* Nova's default service_down_time, in seconds. */
#define CELL_DB_SERVICE_DOWN_TIME_S 60
/* Longest host, binary, topic and disabled reason, in characters. */
#define CELL_DB_SERVICE_NAME_MAX_LENGTH 255
/* At most this many services per list. */
#define CELL_DB_SERVICE_LIST_MAX 100000

/* One service.  Strings are owned; 'disabled_reason' may be NULL. */
struct cell_db_service {
    int64_t id;
    char *uuid;
    char *host;
    char *binary;                       /* "nova-compute" */
    char *topic;                        /* "compute" */
    int64_t report_count;
    int64_t last_seen_up;               /* ms, or INT64_MIN: never */
    bool disabled;
    char *disabled_reason;
    bool forced_down;
    int64_t version;
    int64_t created_at;
    int64_t updated_at;
    bool up;                            /* computed, see above */
};

struct cell_db_service_list {
    struct cell_db_service *items;
    size_t n;
};

void cell_db_service_free(struct cell_db_service *);  /* Accepts NULL. */
DEFINE_FREEP(struct cell_db_service, cell_db_service_free)
void cell_db_service_list_free(struct cell_db_service_list *);
DEFINE_FREEP(struct cell_db_service_list, cell_db_service_list_free)

/* Records a heartbeat of service 'binary' on 'host' with 'topic' and
 * RPC/object 'version': creates the row with a new uuid and report_count
 * 1 the first time, otherwise increments report_count and stores topic
 * and version; last_seen_up becomes now either way.  One statement (an
 * upsert), so concurrent first heartbeats cannot create two rows.  Stores
 * the row after the heartbeat in '*ret_service' (if not NULL; 'up'
 * computed with CELL_DB_SERVICE_DOWN_TIME_S). */
struct error *cell_db_service_heartbeat(struct db *db, const char *host,
                                        const char *binary,
                                        const char *topic, int64_t version,
                                        struct cell_db_service **ret_service)
    WARN_UNUSED;

/* Reads the service 'binary' on 'host', computing 'up' with
 * 'service_down_time_s'.  ERROR_NOT_FOUND "Service <binary> on host <host>
 * could not be found." when there is none. */
struct error *cell_db_service_get(struct db *db, const char *host,
                                  const char *binary,
                                  int service_down_time_s,
                                  struct cell_db_service **ret_service)
    WARN_UNUSED;

/* Reads the service with 'uuid' (as the API names services since
 * microversion 2.53).  ERROR_NOT_FOUND "Service <uuid> could not be
 * found." when there is none. */
struct error *cell_db_service_get_by_uuid(struct db *db, const char *uuid,
                                          int service_down_time_s,
                                          struct cell_db_service **ret_service)
    WARN_UNUSED;

/* Lists the services (not deleted), of 'binary' only if it is not NULL,
 * ordered by id, computing 'up' with 'service_down_time_s'. */
struct error *cell_db_service_list(struct db *db, const char *binary,
                                   int service_down_time_s,
                                   struct cell_db_service_list **ret_list)
    WARN_UNUSED;

/* Enables or disables the service 'binary' on 'host'.  Disabling stores
 * 'reason' (may be NULL); enabling clears it.  ERROR_NOT_FOUND as
 * cell_db_service_get(). */
struct error *cell_db_service_set_disabled(struct db *db, const char *host,
                                           const char *binary,
                                           bool disabled, const char *reason)
    WARN_UNUSED;

/* Sets or clears forced_down of the service 'binary' on 'host' (a forced
 * down service is down whatever its heartbeats say).  ERROR_NOT_FOUND as
 * cell_db_service_get(). */
struct error *cell_db_service_set_forced_down(struct db *db,
                                              const char *host,
                                              const char *binary,
                                              bool forced_down) WARN_UNUSED;

/* Deletes (soft-deletes) the service 'binary' on 'host'; deleting a
 * nova-compute service also deletes the compute nodes of its host, as
 * Nova does.  A later heartbeat creates a new row.  ERROR_NOT_FOUND as
 * cell_db_service_get(). */
struct error *cell_db_service_delete(struct db *db, const char *host,
                                     const char *binary) WARN_UNUSED;

#endif /* NOVA_CELL_DB_SERVICE_H */
