/* cell-status.c: the health and capacity columns of cell_mappings (see
 * cell-status.h). */
#include <config.h>
#include "api-cell/cell-status.h"

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
