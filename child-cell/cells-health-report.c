/* cells-health-report.c: the health of every cell carried up with the
 * capacity reports and written by the root (see cells-health-report.h). */
#include <config.h>

#include "child-cell/cells-health-report.h"

#include <json-c/json.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cells-rpc/cell-capacity.h"
#include "cells-rpc/cell-health.h"
#include "cells-rpc/cell-path.h"
#include "child-cell/cells-private.h"
#include "shared/cleanup.h"
#include "shared/db.h"
#include "shared/error.h"
#include "shared/json-util.h"
#include "shared/log.h"
#include "shared/poll-loop.h"
#include "shared/timeutil.h"
#include "shared/topology.h"
#include "shared/xalloc.h"

LOG_MODULE("cells.health");

/* Longest health name written ("half-open"), with room to spare. */
#define CELLS_HEALTH_MAX_NAME_LENGTH 16

/* The epoch time of a report is worked out again from the monotonic clock
 * each time it is sent or written, so it wobbles by a few milliseconds;
 * reports are at least a second apart, so a smaller difference is the
 * same report. */
#define CELLS_HEALTH_HEARD_SLACK_MS 250

/* What one cell keeps: at an intermediate cell, the descendants each
 * child sent ('descendants', a JSON array); at the root, what was last
 * written for a cell ('health', 'heard_ms', 'reported_ms'). */
struct cells_health_entry {
    char *owner;                /* The path of the cell keeping it. */
    char *path;                 /* The child, or the cell written. */
    struct json_object *descendants;
    char *health;
    int64_t heard_ms;
    int64_t reported_ms;
};

static pthread_mutex_t cells_health_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct cells_health_entry *cells_health_entries;
static size_t cells_health_n_entries;

/* The entry of 'owner' for 'path', created empty if 'create'.  Call with
 * the mutex held. */
static struct cells_health_entry *
cells_health_find(const char *owner, const char *path, bool create)
{
    struct cells_health_entry *e;

    for (size_t i = 0; i < cells_health_n_entries; i++) {
        e = &cells_health_entries[i];
        if (!strcmp(e->owner, owner) && !strcmp(e->path, path)) {
            return e;
        }
    }
    if (!create) {
        return NULL;
    }
    cells_health_entries = xreallocarray(cells_health_entries,
                                         cells_health_n_entries + 1,
                                         sizeof *cells_health_entries);
    e = &cells_health_entries[cells_health_n_entries++];
    memset(e, 0, sizeof *e);
    e->owner = xstrdup(owner);
    e->path = xstrdup(path);
    e->heard_ms = CELL_HEALTH_NEVER;
    e->reported_ms = CELL_HEALTH_NEVER;
    return e;
}

/* The epoch time of the latest report of 'child', or CELL_HEALTH_NEVER. */
static int64_t
cells_health_heard_at(const struct cells_child *child, int64_t now_mono,
                      int64_t now_epoch)
{
    if (!child->health.reported) {
        return CELL_HEALTH_NEVER;
    }
    return now_epoch - (now_mono - child->health.heard_ms);
}

/* True if this cell has just started and 'child' has not had the time to
 * report yet: its health is not worth passing on (what the parent or the
 * table holds from before the restart stands) until the child is late. */
static bool
cells_health_too_early(const struct cells_child *child, int64_t now_mono)
{
    return (!child->health.reported
            && now_mono - child->health.heard_ms
               <= child->health.config->mute_child_interval_ms);
}

/* The entry describing 'child' as 'svc' sees it now. */
static struct json_object *
cells_health_child_entry(const struct cells_child *child, int64_t now_mono,
                         int64_t now_epoch)
{
    struct json_object *entry = json_object_new_object();
    int64_t heard = cells_health_heard_at(child, now_mono, now_epoch);

    json_object_object_add(entry, "path",
                           json_object_new_string(child->cell->path));
    json_object_object_add(entry, "health", json_object_new_string(
                               cell_health_state_to_string(
                                   cell_health_state(&child->health,
                                                     now_mono))));
    json_object_object_add(entry, "last_heard_at",
                           heard == CELL_HEALTH_NEVER
                           ? NULL : json_object_new_int64(heard));
    json_object_object_add(entry, "capacity",
                           child->capacity
                           ? cell_capacity_to_json(child->capacity) : NULL);
    return entry;
}

void
cells_health_report_add(struct cells_service *svc, struct json_object *args)
{
    int64_t now_mono = poll_loop_now_ms();
    int64_t now_epoch = time_now_ms();
    struct json_object *list;

    if (!svc->n_children) {
        return;
    }
    list = json_object_new_array();
    pthread_mutex_lock(&cells_health_mutex);
    for (size_t i = 0; i < svc->n_children; i++) {
        const struct cells_child *child = &svc->children[i];
        const struct cells_health_entry *e;

        if (cells_health_too_early(child, now_mono)) {
            continue;
        }
        json_object_array_add(list, cells_health_child_entry(
                                  child, now_mono, now_epoch));
        e = cells_health_find(svc->path, child->cell->path, false);
        if (!e || !e->descendants) {
            continue;
        }
        for (size_t j = 0; j < json_object_array_length(e->descendants)
                 && json_object_array_length(list)
                    < CELLS_HEALTH_MAX_DESCENDANTS; j++) {
            json_object_array_add(list, json_object_get(
                                      json_object_array_get_idx(
                                          e->descendants, j)));
        }
    }
    pthread_mutex_unlock(&cells_health_mutex);
    json_object_object_add(args, "descendants", list);
}

/* Checks one entry of "descendants" sent by 'sender'.  Returns NULL or an
 * ERROR_INVALID error. */
static struct error *
cells_health_check_entry(const struct json_object *entry,
                         const char *sender)
{
    CLEANUP(cell_capacity_freep) struct cell_capacity *cap = NULL;
    struct json_object *value;
    enum cell_health_state state;
    const char *path = NULL;
    const char *health = NULL;
    struct error *error;

    if (!json_object_is_type(entry, json_type_object)) {
        return error_new(ERROR_INVALID, "a descendant is not an object");
    }
    error = json_get_string(entry, "descendants", "path", true,
                            TOPOLOGY_MAX_PATH_LENGTH, &path);
    if (!error) {
        error = json_get_string(entry, "descendants", "health", true,
                                CELLS_HEALTH_MAX_NAME_LENGTH, &health);
    }
    if (error) {
        return error;
    }
    if (cell_path_validate(path) || !cell_path_is_ancestor_of(sender, path)
        || cell_path_equal(sender, path)) {
        return error_new(ERROR_INVALID, "descendant '%s' is not below '%s'",
                         path, sender);
    }
    if (cell_health_state_from_string(health, &state)) {
        return error_new(ERROR_INVALID, "descendant '%s' has unknown "
                         "health '%s'", path, health);
    }
    if (json_object_object_get_ex(entry, "last_heard_at", &value)
        && value && !json_object_is_type(value, json_type_int)) {
        return error_new(ERROR_INVALID, "descendant '%s' has a bad "
                         "'last_heard_at'", path);
    }
    if (json_object_object_get_ex(entry, "capacity", &value) && value) {
        error = cell_capacity_from_json(value, "descendants", &cap);
    }
    return error;
}

/* One row to write at the root. */
struct cells_health_row {
    const char *path;
    const char *health;
    int64_t heard_ms;           /* Or CELL_HEALTH_NEVER. */
    int64_t reported_ms;        /* Capacity's time, or CELL_HEALTH_NEVER. */
    char *capacity;             /* JSON text, or NULL. */
};

struct cells_health_rows {
    struct cells_health_row *rows;
    size_t n;
};

static struct error *
cells_health_write_txn(struct db *db, void *rows_)
{
    const struct cells_health_rows *rows = rows_;

    for (size_t i = 0; i < rows->n; i++) {
        const struct cells_health_row *r = &rows->rows[i];
        char heard[TIME_ISO8601_SIZE] = "";
        struct error *error;

        if (r->heard_ms != CELL_HEALTH_NEVER
            && time_format_mysql_datetime(r->heard_ms, heard,
                                          sizeof heard)) {
            heard[0] = '\0';
        }
        error = db_exec(db, "UPDATE cell_mappings SET health = ?, "
                        "last_heard_at = ?, capacity = ? WHERE path = ?",
                        DB_PARAMS(DB_STR(r->health),
                                  DB_STR(heard[0] ? heard : NULL),
                                  DB_STR(r->capacity), DB_STR(r->path)),
                        NULL);
        if (error) {
            return error;
        }
    }
    return NULL;
}

static bool
cells_health_same_time(int64_t a, int64_t b)
{
    if (a == CELL_HEALTH_NEVER || b == CELL_HEALTH_NEVER) {
        return a == b;
    }
    return (a > b ? a - b : b - a) < CELLS_HEALTH_HEARD_SLACK_MS;
}

/* Adds a row for 'path' unless the root last wrote the same.  Call with
 * the mutex held. */
static void
cells_health_add_row(struct cells_health_rows *rows, const char *owner,
                     const char *path, const char *health, int64_t heard_ms,
                     const struct json_object *capacity)
{
    const struct cells_health_entry *e = cells_health_find(owner, path,
                                                           false);
    int64_t reported_ms = CELL_HEALTH_NEVER;
    struct json_object *at;

    if (capacity && json_object_object_get_ex(capacity, "reported_at", &at)) {
        reported_ms = json_object_get_int64(at);
    }
    for (size_t i = 0; i < rows->n; i++) {
        if (!strcmp(rows->rows[i].path, path)) {
            return;
        }
    }
    if (e && e->health && !strcmp(e->health, health)
        && cells_health_same_time(e->heard_ms, heard_ms)
        && e->reported_ms == reported_ms) {
        return;
    }
    rows->rows = xreallocarray(rows->rows, rows->n + 1, sizeof *rows->rows);
    rows->rows[rows->n++] = (struct cells_health_row) {
        .path = path,
        .health = health,
        .heard_ms = heard_ms,
        .reported_ms = reported_ms,
        .capacity = capacity ? json_to_string_plain(capacity) : NULL,
    };
}

/* The root: writes its children and the descendants 'list' of the
 * sender.  Call with the mutex held. */
static void
cells_health_write(struct cells_service *svc, const struct json_object *list)
{
    struct cells_health_rows rows = { NULL, 0 };
    CLEANUP(json_putp) struct json_object *mine = json_object_new_array();
    int64_t now_mono = poll_loop_now_ms();
    int64_t now_epoch = time_now_ms();
    struct error *error;

    for (size_t i = 0; i < svc->n_children; i++) {
        const struct cells_child *child = &svc->children[i];

        if (cells_health_too_early(child, now_mono)) {
            continue;
        }
        json_object_array_add(mine, cells_health_child_entry(
                                  child, now_mono, now_epoch));
    }
    for (int pass = 0; pass < 2; pass++) {
        const struct json_object *src = pass ? list : mine;
        size_t n = src ? json_object_array_length(src) : 0;

        for (size_t i = 0; i < n; i++) {
            struct json_object *entry = json_object_array_get_idx(src, i);
            struct json_object *path, *health, *heard, *cap;
            int64_t heard_ms = CELL_HEALTH_NEVER;

            json_object_object_get_ex(entry, "path", &path);
            json_object_object_get_ex(entry, "health", &health);
            if (!json_object_object_get_ex(entry, "capacity", &cap)) {
                cap = NULL;
            }
            if (json_object_object_get_ex(entry, "last_heard_at", &heard)
                && heard) {
                heard_ms = json_object_get_int64(heard);
            }
            cells_health_add_row(&rows, svc->path,
                                 json_object_get_string(path),
                                 json_object_get_string(health), heard_ms,
                                 cap);
        }
    }
    error = (rows.n
             ? db_txn_run(svc->api_db, cells_health_write_txn, &rows)
             : NULL);
    if (error) {
        LOG_WARN_RL("cannot record the health of %zu cells: %s", rows.n,
                    error_message(error));
        error_free(error);
    } else {
        for (size_t i = 0; i < rows.n; i++) {
            struct cells_health_entry *e = cells_health_find(
                svc->path, rows.rows[i].path, true);

            free(e->health);
            e->health = xstrdup(rows.rows[i].health);
            e->heard_ms = rows.rows[i].heard_ms;
            e->reported_ms = rows.rows[i].reported_ms;
        }
        if (rows.n) {
            LOG_DBG("recorded the health of %zu cells", rows.n);
        }
    }
    for (size_t i = 0; i < rows.n; i++) {
        free(rows.rows[i].capacity);
    }
    free(rows.rows);
}

void
cells_health_report_received(struct cells_service *svc,
                             const struct cells_child *child,
                             const struct json_object *args)
{
    const char *sender = child->cell->path;
    CLEANUP(json_putp) struct json_object *kept = json_object_new_array();
    struct json_object *list = NULL;
    struct error *error = NULL;

    if (json_object_object_get_ex(args, "descendants", &list) && list) {
        if (!json_object_is_type(list, json_type_array)) {
            error = error_new(ERROR_INVALID, "'descendants' is not a list");
        } else if (json_object_array_length(list)
                   > CELLS_HEALTH_MAX_DESCENDANTS) {
            error = error_new(ERROR_INVALID, "more than %d descendants",
                              CELLS_HEALTH_MAX_DESCENDANTS);
        }
        for (size_t i = 0; !error && i < json_object_array_length(list);
             i++) {
            struct json_object *entry = json_object_array_get_idx(list, i);

            error = cells_health_check_entry(entry, sender);
            if (!error) {
                json_object_array_add(kept, json_object_get(entry));
            }
        }
    }
    if (error) {
        LOG_WARN_RL("ignoring the descendants reported by cell '%s': %s",
                    sender, error_message(error));
        error_free(error);
        json_object_put(kept);
        kept = json_object_new_array();
    }

    pthread_mutex_lock(&cells_health_mutex);
    if (svc->is_root && svc->api_db) {
        cells_health_write(svc, kept);
    } else {
        struct cells_health_entry *e = cells_health_find(svc->path, sender,
                                                         true);

        json_object_put(e->descendants);
        e->descendants = json_object_get(kept);
    }
    pthread_mutex_unlock(&cells_health_mutex);
}

void
cells_health_report_tick(struct cells_service *svc)
{
    if (!svc->is_root || !svc->api_db || !svc->n_children) {
        return;
    }
    pthread_mutex_lock(&cells_health_mutex);
    cells_health_write(svc, NULL);
    pthread_mutex_unlock(&cells_health_mutex);
}
