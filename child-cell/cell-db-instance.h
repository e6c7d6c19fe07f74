/* cell-db-instance.h: the 'instances' table of the cell database.
 *
 * Rows are 'struct instance' objects (shared/instance.h).  Besides the
 * members of the object a row keeps the flavor's sizes in columns (vcpus,
 * memory_mb, root_gb, ephemeral_gb, swap) so that the usage of a compute
 * node can be summed in SQL (cell_db_node_recompute_usage()), and the
 * soft-delete columns: a deleted row keeps its uuid, has 'deleted' set to
 * its own id and vm_state "deleted", and is left out of lists unless asked
 * for.
 *
 * update_seq.  Every statement that changes a row increments update_seq in
 * the same statement, so each version of a row has its own number and a
 * later version always has a larger one.  The API cell's top view applies
 * an update only when its update_seq is larger than the one it holds
 * (DESIGN.md, section 3).
 *
 * See cell-db.h for the rules shared by every cell_db_* function. */
#ifndef NOVA_CELL_DB_INSTANCE_H
#define NOVA_CELL_DB_INSTANCE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "shared/compiler.h"
#include "shared/instance.h"

struct db;
struct error;

/* Most rows one cell_db_instance_list() returns; also the limit used when
 * the filter asks for 0. */
#define CELL_DB_INSTANCE_LIST_MAX 10000

/* Creates the row of 'inst' (validated with instance_validate(); a flavor
 * is required).  The row starts with update_seq = inst->update_seq + 1,
 * newer than any version the sender knows, and created_at and updated_at
 * from 'inst', or now when they are not set.
 *
 * Idempotent on the uuid: when a row with that uuid exists already
 * (deleted or not) nothing changes and the existing row is returned, with
 * '*ret_created' false, so a redelivered build request is harmless.
 *
 * On success stores the row as now stored in '*ret_inst' (if not NULL;
 * owned by the caller) and whether this call created it in
 * '*ret_created' (if not NULL). */
struct error *cell_db_instance_create(struct db *db,
                                      const struct instance *inst,
                                      struct instance **ret_inst,
                                      bool *ret_created) WARN_UNUSED;

/* Reads the instance 'uuid'.  A deleted row is returned only when
 * 'read_deleted' is true.  Returns ERROR_NOT_FOUND "Instance <uuid> could
 * not be found." when there is no such row.  Stores the instance, owned by
 * the caller, in '*ret_inst'. */
struct error *cell_db_instance_get(struct db *db, const char *uuid,
                                   bool read_deleted,
                                   struct instance **ret_inst) WARN_UNUSED;

/* Which members of 'struct cell_db_instance_updates' apply. */
enum cell_db_instance_field {
    CELL_DB_INSTANCE_VM_STATE = 1 << 0,
    CELL_DB_INSTANCE_TASK_STATE = 1 << 1,
    CELL_DB_INSTANCE_POWER_STATE = 1 << 2,
    CELL_DB_INSTANCE_LAUNCHED_AT = 1 << 3,
    CELL_DB_INSTANCE_TERMINATED_AT = 1 << 4,
    CELL_DB_INSTANCE_HOST = 1 << 5,     /* 'host' and 'node' together */
    CELL_DB_INSTANCE_DISPLAY_NAME = 1 << 6,
    CELL_DB_INSTANCE_LOCKED = 1 << 7,
    CELL_DB_INSTANCE_AVAILABILITY_ZONE = 1 << 8,
};

/* A change of selected columns of an instance.  Strings are borrowed for
 * the call; NULL strings and INSTANCE_TIME_NONE store NULL. */
struct cell_db_instance_updates {
    unsigned int fields;                /* CELL_DB_INSTANCE_* bits */
    enum instance_vm_state vm_state;
    enum instance_task_state task_state;
    enum instance_power_state power_state;
    int64_t launched_at;
    int64_t terminated_at;
    const char *host;
    const char *node;
    const char *display_name;
    bool locked;
    const char *availability_zone;
};

/* Applies 'updates' to the instance 'uuid' (not deleted) in one UPDATE
 * that also increments update_seq and sets updated_at to now.
 *
 * With 'n_expected' > 0 the update applies only while the instance's task
 * state is one of the 'n_expected' states of 'expected_task_states'
 * (INSTANCE_TASK_NONE standing for NULL), as Nova's
 * instance.save(expected_task_state=...): otherwise nothing changes and
 * the result is ERROR_CONFLICT "Conflict updating instance <uuid>.
 * Expected: {'task_state': [...]}. Actual: {'task_state': ...}".  The
 * check and the change are one statement, so two callers racing for the
 * same transition cannot both win.
 *
 * Returns ERROR_NOT_FOUND for a missing or deleted instance and
 * ERROR_INVALID for a value outside its enum or a string over its limit.
 * On success stores the row after the update in '*ret_inst' (if not
 * NULL). */
struct error *cell_db_instance_update(
    struct db *db, const char *uuid,
    const struct cell_db_instance_updates *updates,
    const enum instance_task_state *expected_task_states, size_t n_expected,
    struct instance **ret_inst) WARN_UNUSED;

/* Records that the instance 'uuid' runs on compute node 'node' of 'host'
 * (both may be NULL to clear them): cell_db_instance_update() with
 * CELL_DB_INSTANCE_HOST and no expected task state. */
struct error *cell_db_instance_set_host(struct db *db, const char *uuid,
                                        const char *host, const char *node,
                                        struct instance **ret_inst)
    WARN_UNUSED;

/* What cell_db_instance_list() returns.  Every member may be left 0/NULL
 * for "any". */
struct cell_db_instance_filter {
    const char *host;           /* instances on this host */
    const char *node;           /* and this node (only with 'host') */
    const char *project_id;     /* instances of this project */
    bool include_deleted;       /* also deleted rows */
    const char *marker;         /* start after this uuid (paging) */
    size_t limit;               /* 0 or over CELL_DB_INSTANCE_LIST_MAX:
                                 * CELL_DB_INSTANCE_LIST_MAX */
};

/* Lists the instances that match 'filter' (NULL: every instance not
 * deleted), oldest first (in creation order, which paging with 'marker'
 * follows).  Returns ERROR_NOT_FOUND "Marker <uuid> could not be found."
 * for an unknown marker.  Stores the list, owned by the caller, in
 * '*ret_list'. */
struct error *cell_db_instance_list(struct db *db,
                                    const struct cell_db_instance_filter *,
                                    struct instance_list **ret_list)
    WARN_UNUSED;

/* Marks the instance 'uuid' deleted: deleted = id, deleted_at = now,
 * vm_state deleted, task_state NULL, power_state NOSTATE, terminated_at =
 * now unless already set, update_seq + 1.  Idempotent: for an instance
 * already deleted nothing changes.  Returns ERROR_NOT_FOUND when there is
 * no row.  On success stores whether this call deleted it in
 * '*ret_deleted' (if not NULL): release the instance's claim
 * (cell_db_node_release()) only then, in the same transaction, so that a
 * redelivered delete never releases twice.  Stores the row in '*ret_inst'
 * (if not NULL). */
struct error *cell_db_instance_mark_deleted(struct db *db, const char *uuid,
                                            bool *ret_deleted,
                                            struct instance **ret_inst)
    WARN_UNUSED;

#endif /* NOVA_CELL_DB_INSTANCE_H */
