/* cell-status.c: the health and capacity columns of cell_mappings (see
 * cell-status.h). */
#include <config.h>
#include "api-cell/cell-status.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "cells-rpc/cell-capacity.h"
#include "shared/db.h"
#include "shared/error.h"
#include "shared/json-util.h"
#include "shared/xalloc.h"

/* Longest capacity text decoded: far above any real report. */
#define CELL_STATUS_MAX_CAPACITY_SIZE (16 * 1024 * 1024)

void
cell_status_list_free(struct cell_status_list *list)
{
    if (!list) {
        return;
    }
    for (size_t i = 0; i < list->n; i++) {
        free(list->items[i].path);
        free(list->items[i].last_heard_at);
        free(list->items[i].health);
        cell_capacity_free(list->items[i].capacity);
    }
    free(list->items);
    free(list);
}

static char *
cell_status_str(const struct db_rows *rows, size_t r, size_t c)
{
    return db_rows_is_null(rows, r, c)
        ? NULL : xstrdup(db_rows_get_str(rows, r, c));
}

/* Decodes the capacity text 'text'; NULL when it does not decode (a
 * report written by a newer release, say): the cell shows no capacity. */
static struct cell_capacity *
cell_status_capacity(const char *text)
{
    CLEANUP(json_putp) struct json_object *doc = NULL;
    struct cell_capacity *cap = NULL;
    struct error *error;

    if (!text) {
        return NULL;
    }
    error = json_parse_text(text, strlen(text),
                            CELL_STATUS_MAX_CAPACITY_SIZE, 0, &doc);
    if (!error) {
        error = cell_capacity_from_json(doc, "capacity", &cap);
    }
    if (error) {
        error_free(error);
        return NULL;
    }
    return cap;
}

/* True if 'ancestor' is 'path' or one of the cells above it
 * ("api!r1" for "api!r1!leaf1", never "api!r" for "api!r1"). */
static bool
cell_status_is_on_path(const char *ancestor, const char *path)
{
    size_t n = strlen(ancestor);

    return !strncmp(ancestor, path, n) && (path[n] == '\0'
                                           || path[n] == '!');
}

/* A cell below a mute or excluded cell cannot report: its own row only
 * keeps what it last said.  Shows such a cell as "unreachable" instead of
 * a health that is no longer true. */
static void
cell_status_mark_unreachable(struct cell_status_list *list)
{
    for (size_t i = 0; i < list->n; i++) {
        struct cell_status *s = &list->items[i];

        for (size_t j = 0; j < list->n; j++) {
            const struct cell_status *above = &list->items[j];

            if (j != i && cell_status_health_is_down(above->health)
                && cell_status_is_on_path(above->path, s->path)) {
                free(s->health);
                s->health = xstrdup("unreachable");
                break;
            }
        }
    }
}

struct error *
cell_status_list(struct db *db, struct cell_status_list **ret_list)
{
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    struct cell_status_list *list;
    struct error *error;

    error = db_query(db, "SELECT path, last_heard_at, health, capacity "
                     "FROM cell_mappings ORDER BY path", DB_NO_PARAMS,
                     &rows);
    if (error) {
        return error;
    }
    list = xzalloc(sizeof *list);
    list->n = db_rows_count(rows);
    list->items = xcalloc(list->n ? list->n : 1, sizeof *list->items);
    for (size_t r = 0; r < list->n; r++) {
        struct cell_status *s = &list->items[r];

        s->path = xstrdup(db_rows_get_str(rows, r, 0));
        s->last_heard_at = cell_status_str(rows, r, 1);
        s->health = cell_status_str(rows, r, 2);
        s->capacity = cell_status_capacity(db_rows_is_null(rows, r, 3)
                                           ? NULL
                                           : db_rows_get_str(rows, r, 3));
    }
    cell_status_mark_unreachable(list);
    *ret_list = list;
    return NULL;
}

const struct cell_status *
cell_status_find(const struct cell_status_list *list, const char *path)
{
    for (size_t i = 0; list && i < list->n; i++) {
        if (!strcmp(list->items[i].path, path)) {
            return &list->items[i];
        }
    }
    return NULL;
}

char *
cell_status_free_ram_text(const struct cell_status *status)
{
    return (status && status->capacity
            ? xasprintf("%lld", (long long) status->capacity->free.ram_mb)
            : xstrdup("-"));
}

char *
cell_status_free_vcpus_text(const struct cell_status *status)
{
    return (status && status->capacity
            ? xasprintf("%lld", (long long) status->capacity->free.vcpus)
            : xstrdup("-"));
}

bool
cell_status_health_is_down(const char *health)
{
    return health && (!strcmp(health, "mute")
                      || !strcmp(health, "excluded"));
}

struct error *
cell_status_check_reachable(struct db *api_db, const char *cell_path)
{
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    size_t best = SIZE_MAX;
    size_t best_len = 0;
    struct error *error;
    const char *heard;

    if (!cell_path) {
        return NULL;
    }
    /* Few cells are ever down at once: reading the down ones and matching
     * the path here needs one statement whatever the depth of the tree. */
    error = db_query(api_db, "SELECT path, health, last_heard_at "
                     "FROM cell_mappings "
                     "WHERE health IN ('mute', 'excluded')", DB_NO_PARAMS,
                     &rows);
    if (error) {
        return error;
    }
    for (size_t r = 0; r < db_rows_count(rows); r++) {
        const char *path = db_rows_get_str(rows, r, 0);
        size_t len = strlen(path);

        if (cell_status_is_on_path(path, cell_path)
            && (best == SIZE_MAX || len < best_len)) {
            best = r;
            best_len = len;
        }
    }
    if (best == SIZE_MAX) {
        return NULL;
    }
    heard = db_rows_is_null(rows, best, 2)
        ? NULL : db_rows_get_str(rows, best, 2);
    if (!heard) {
        return error_new(ERROR_CELL_DOWN, "Cell '%s' is not responding "
                         "(%s, never heard from); try again later.",
                         db_rows_get_str(rows, best, 0),
                         db_rows_get_str(rows, best, 1));
    }
    /* "YYYY-MM-DD HH:MM:SS" without the microseconds. */
    return error_new(ERROR_CELL_DOWN, "Cell '%s' is not responding "
                     "(%s since %.19s UTC); try again later.",
                     db_rows_get_str(rows, best, 0),
                     db_rows_get_str(rows, best, 1), heard);
}
