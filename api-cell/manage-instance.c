/* manage-instance.c: "nova-manage instance locate" (see
 * manage-instance.h). */
#include <config.h>
#include "api-cell/manage-instance.h"

#include <stdbool.h>
#include <string.h>
#include <json-c/json.h>

#include "api-cell/manage-cell.h"
#include "cells-rpc/cell-path.h"
#include "shared/cleanup.h"
#include "shared/db.h"
#include "shared/error.h"
#include "shared/json-util.h"
#include "shared/xalloc.h"

/* Longest instance uuid accepted (the column's width). */
#define MANAGE_INSTANCE_MAX_UUID_LENGTH 36

/* Finds the cell path of 'uuid': '*ret_found' tells whether the instance
 * is known, '*ret_path' (caller frees) its cell or NULL when it has none
 * yet. */
static struct error *
manage_instance_find(struct db *db, const char *uuid, bool *ret_found,
                     char **ret_path)
{
    static const char *const queries[] = {
        "SELECT cell_path FROM instance_mappings WHERE instance_uuid = ?",
        "SELECT cell_path FROM instances WHERE uuid = ?",
    };

    *ret_found = false;
    *ret_path = NULL;
    for (size_t q = 0; q < ARRAY_SIZE(queries); q++) {
        CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
        struct error *error = db_query(db, queries[q],
                                       DB_PARAMS(DB_STR(uuid)), &rows);

        if (error) {
            return error;
        }
        if (db_rows_count(rows)) {
            *ret_found = true;
            if (!db_rows_is_null(rows, 0, 0)) {
                *ret_path = xstrdup(db_rows_get_str(rows, 0, 0));
                return NULL;
            }
        }
    }
    return NULL;
}

struct error *
manage_instance_locate(const char *api_db_url, FILE *out, int argc,
                       char *argv[])
{
    CLEANUP(db_closep) struct db *db = NULL;
    AUTOFREE char *path = NULL;
    const char *uuid = NULL;
    bool json = false;
    bool found;
    struct error *error;

    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--format") || !strncmp(argv[i], "--format=",
                                                     9)) {
            const char *value = argv[i][8] ? argv[i] + 9
                : (i + 1 < argc ? argv[++i] : NULL);

            if (!value) {
                return manage_cell_usage("option '--format' needs a value");
            }
            if (strcmp(value, "json") && strcmp(value, "text")) {
                return manage_cell_usage("unknown format '%s': use 'text' "
                                         "or 'json'", value);
            }
            json = !strcmp(value, "json");
        } else if (!strncmp(argv[i], "--", 2) || uuid) {
            return manage_cell_usage("unexpected argument '%s' for "
                                     "'instance locate'", argv[i]);
        } else {
            uuid = argv[i];
        }
    }
    if (!uuid) {
        return manage_cell_usage("'instance locate' needs an instance "
                                 "UUID");
    }
    if (!*uuid || strlen(uuid) > MANAGE_INSTANCE_MAX_UUID_LENGTH) {
        return error_new(ERROR_NOT_FOUND, "Instance '%.36s' not found",
                         uuid);
    }
    error = manage_cell_open(api_db_url, &db);
    if (!error) {
        error = manage_instance_find(db, uuid, &found, &path);
    }
    if (error) {
        return error;
    }
    if (!found) {
        return error_new(ERROR_NOT_FOUND, "Instance '%s' not found", uuid);
    }
    if (!path) {
        return error_new(ERROR_CONFLICT, "Instance '%s' is not placed in "
                         "a cell yet", uuid);
    }
    if (json) {
        CLEANUP(json_putp) struct json_object *doc = json_object_new_object();

        json_object_object_add(doc, "instance_uuid",
                               json_object_new_string(uuid));
        json_object_object_add(doc, "cell_path",
                               json_object_new_string(path));
        json_object_object_add(doc, "cell_name", json_object_new_string(
                                   cell_path_last(path)));
        manage_cell_print_json(out, doc);
    } else {
        fprintf(out, "%s\n", path);
    }
    return NULL;
}

/* ---- The command table ----------------------------------------------- */

const struct manage_cell_command manage_instance_commands[] = {
    { "instance", "locate", "UUID [--format text|json]", 1, 3,
      manage_instance_locate, "print the path of the cell of an instance" },
};

const size_t manage_instance_n_commands
    = ARRAY_SIZE(manage_instance_commands);
