/* top-view.h: the top view of instances in the API database.
 *
 * The API cell answers every list and show of servers from its own
 * tables, never by asking the cells: 'instances' holds one row per
 * instance of the whole tree, as its leaf cell last reported it, and
 * 'instance_mappings' says which leaf cell holds it (0004_compute.sql,
 * 0001_initial.sql).
 *
 *   - nova-api writes both rows when it accepts a boot
 *     (top_view_create(); the cell is not known yet);
 *   - nova-cells of the API cell applies every update and destroy that
 *     comes up the tree (top_view_apply_update(),
 *     top_view_apply_destroy()).  Updates may arrive out of order and
 *     twice: each carries the leaf's update_seq, and a row never goes back
 *     to an older one;
 *   - API actions mark what they start (top_view_set_task_state()) and
 *     change what belongs to the API cell (lock, name), without touching
 *     update_seq, so that the next update from below wins.
 *
 * The stored 'instance' JSON is the INSTANCE last applied; the columns
 * vm_state, task_state, display_name, locked and updated_at, which API
 * actions may have changed since, take precedence when a row is read.
 *
 * Threads: every function runs on the caller's connection 'db', which
 * belongs to the calling thread (api-db.h).  Concurrent writers on other
 * connections are safe: updates of one instance are serialised by a row
 * lock. */
#ifndef NOVA_TOP_VIEW_H
#define NOVA_TOP_VIEW_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "shared/compiler.h"
#include "shared/cleanup.h"

struct db;
struct error;
struct instance;
struct json_object;

/* One server of the top view. */
struct top_view_server {
    struct instance *inst;      /* as last applied (shared/instance.h) */
    char *cell_path;            /* NULL: not placed yet */
    struct json_object *fault;  /* FAULT or NULL */
    bool locked;
    char *locked_by;            /* "admin", "owner" or NULL */
    bool deleted;
    int64_t deleted_at;         /* ms or INSTANCE_TIME_NONE */
};

/* Frees 'server' and everything it owns.  Accepts NULL. */
void top_view_server_free(struct top_view_server *);
DEFINE_FREEP(struct top_view_server, top_view_server_free)

/* Frees the 'n' servers of array 'servers' and the array. */
void top_view_servers_free(struct top_view_server **servers, size_t n);

/* A boot accepted by nova-api: inserts the instance mapping (cell NULL)
 * and the top-view row of 'inst' in one transaction.  ERROR_CONFLICT if
 * the uuid exists. */
struct error *top_view_create(struct db *, const struct instance *inst);

/* An update that came up from leaf 'cell_path': 'inst' and its 'fault'
 * (FAULT or NULL; without one, a fault already recorded stays only while
 * the instance is in error) are applied, and the mapping's cell_path set,
 * unless the row holds update_seq >= inst->update_seq.  An unknown uuid
 * is inserted (heal).  '*ret_applied' tells whether the update was
 * applied.  Lock state and deletion are not changed by updates: a row
 * deleted at the top is never brought back; only its cell_path (and its
 * mapping's), when still NULL, is set to 'cell_path', and the update is
 * not applied, so that the caller can send the delete to that cell. */
struct error *top_view_apply_update(struct db *, const char *cell_path,
                                    const struct instance *inst,
                                    const struct json_object *fault,
                                    bool *ret_applied);

/* The leaf deleted the instance: the row is soft-deleted (vm_state
 * deleted, no task, deleted_at) unless it holds a newer update_seq than
 * 'update_seq', is already deleted or does not exist ('*ret_applied'
 * false). */
struct error *top_view_apply_destroy(struct db *, const char *cell_path,
                                     const char *uuid, int64_t update_seq,
                                     bool *ret_applied);

/* Sets the task state an API action starts (e.g. "deleting",
 * "rebooting"; NULL for none) without touching update_seq, so the next
 * update from below wins.  ERROR_NOT_FOUND for an unknown or deleted
 * instance (so do the three functions below). */
struct error *top_view_set_task_state(struct db *, const char *uuid,
                                      const char *task_state);

/* A build that never left the API cell: vm_state error, no task, 'fault'
 * (a FAULT; NULL keeps the one recorded). */
struct error *top_view_set_error(struct db *, const char *uuid,
                                 const struct json_object *fault);

/* Locks (with 'locked_by', "admin" or "owner") or unlocks the instance. */
struct error *top_view_set_locked(struct db *, const char *uuid,
                                  bool locked, const char *locked_by);

/* Renames the instance. */
struct error *top_view_set_name(struct db *, const char *uuid,
                                const char *display_name);

/* Replaces the metadata of the instance with 'metadata' (an object of
 * strings, borrowed) in the stored INSTANCE, without touching update_seq:
 * the leaf applies the same change and its next update carries it.
 * ERROR_NOT_FOUND for an unknown or deleted instance. */
struct error *top_view_set_metadata(struct db *,
                                    const char *uuid,
                                    const struct json_object *metadata)
    WARN_UNUSED;

/* A server deleted before its build reached a cell: marks the row
 * deleted (vm_state deleted, no task, deleted_at) if it is live and still
 * has no cell, keeping its update_seq, so that the build's first update
 * from a leaf is newer and finds the row deleted (see
 * top_view_apply_update()).  '*ret_deleted' is false when the row was
 * placed, deleted or missing meanwhile. */
struct error *top_view_delete_unplaced(struct db *, const char *uuid,
                                       bool *ret_deleted) WARN_UNUSED;

/* Reads server 'uuid' into '*ret' (owned by the caller).
 * ERROR_NOT_FOUND "Instance <uuid> could not be found." (deleted rows
 * count as not found unless 'with_deleted'). */
struct error *top_view_get(struct db *, const char *uuid, bool with_deleted,
                           struct top_view_server **ret) WARN_UNUSED;

/* What top_view_list() returns.  Every string is borrowed. */
struct top_view_filter {
    const char *project_id;     /* NULL: every project (admin) */
    const char *user_id;        /* NULL: any */
    const char *name_regex;     /* MariaDB REGEXP on display_name */
    const char *vm_states[8];   /* from the API's status filter */
    size_t n_vm_states;         /* 0: any */
    const char *host;
    const char *cell_path;      /* prefix match: the cell's subtree */
    int64_t changes_since;      /* ms or INSTANCE_TIME_NONE; includes
                                 * deleted rows updated since */
    bool include_deleted;
    const char *marker;         /* uuid; ERROR_INVALID "marker [X] not
                                 * found" if unknown */
    int limit;                  /* <= 0: no limit */
    /* Sort: keys among created_at, updated_at, display_name, uuid,
     * vm_state, task_state, host, launched_at; dirs "asc"/"desc" (NULL:
     * "desc").  n_sort 0: created_at desc, id desc (Nova's default).
     * As in Nova, created_at and then id follow the keys given, in the
     * first key's direction, so that the order is total. */
    const char *sort_keys[4];
    const char *sort_dirs[4];
    size_t n_sort;
};

/* Initialises 'filter' to "everything": no condition, no marker, no
 * limit, Nova's default order, changes_since INSTANCE_TIME_NONE. */
void top_view_filter_init(struct top_view_filter *filter);

/* Lists the servers that match 'filter', in its order, after its marker,
 * at most its limit, with one query.  Stores an array of '*ret_n' servers
 * in '*ret' (free it with top_view_servers_free()).  ERROR_INVALID for an
 * unknown marker, sort key or direction. */
struct error *top_view_list(struct db *, const struct top_view_filter *,
                            struct top_view_server ***ret, size_t *ret_n);

/* Usage for quotas: the live (not deleted) instances of 'project_id',
 * their vcpus and memory in MiB. */
struct error *top_view_usage(struct db *, const char *project_id,
                             int64_t *instances, int64_t *cores,
                             int64_t *ram_mb);

#endif /* NOVA_TOP_VIEW_H */
