/* flavor-db.c: flavors in the API database (see flavor-db.h).
 *
 * Lists are read whole (a cloud has tens of flavors, not thousands) and
 * sorted and paged here, so that every statement is a constant string and
 * the sort key never reaches SQL text. */
#include <config.h>

#include "api-cell/flavor-db.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "shared/db.h"
#include "shared/error.h"
#include "shared/flavor.h"
#include "shared/xalloc.h"

static const char *const flavor_db_sort_names[] = {
#define FLAVOR_DB_SORT_NAME(key, name) name,
    FLAVOR_DB_SORT_KEYS(FLAVOR_DB_SORT_NAME)
#undef FLAVOR_DB_SORT_NAME
};

/* The columns every read selects, in this order. */
#define FLAVOR_DB_COLUMNS \
    "f.id, f.flavorid, f.name, f.vcpus, f.memory_mb, f.root_gb, " \
    "f.ephemeral_gb, f.swap, f.rxtx_factor, f.is_public, f.disabled"

void
flavor_record_free(struct flavor_record *record)
{
    if (record) {
        flavor_free(record->flavor);
        free(record);
    }
}

void
flavor_record_array_free(struct flavor_record **records, size_t n)
{
    for (size_t i = 0; records && i < n; i++) {
        flavor_record_free(records[i]);
    }
    free(records);
}

int
flavor_db_sort_key_from_string(const char *name,
                               enum flavor_db_sort_key *ret_key)
{
    for (size_t i = 0; name && i < ARRAY_SIZE(flavor_db_sort_names); i++) {
        if (!strcmp(name, flavor_db_sort_names[i])) {
            *ret_key = (enum flavor_db_sort_key) i;
            return 0;
        }
    }
    return -EINVAL;
}

void
flavor_db_filter_init(struct flavor_db_filter *filter)
{
    memset(filter, 0, sizeof *filter);
    filter->visibility = FLAVOR_DB_PUBLIC_OR_PROJECT;
    filter->sort_key = FLAVOR_SORT_FLAVORID;
}

static struct error *
flavor_db_not_found(const char *flavorid)
{
    return error_new(ERROR_NOT_FOUND, "Flavor %s could not be found.",
                     flavorid);
}

/* A record from row 'r' of 'rows' (FLAVOR_DB_COLUMNS). */
static struct flavor_record *
flavor_db_record_from_row(const struct db_rows *rows, size_t r)
{
    struct flavor_record *record = xzalloc(sizeof *record);
    struct flavor *flavor = flavor_new(db_rows_get_str(rows, r, 1),
                                       db_rows_get_str(rows, r, 2));

    record->id = db_rows_get_int64(rows, r, 0);
    flavor->vcpus = db_rows_get_int64(rows, r, 3);
    flavor->memory_mb = db_rows_get_int64(rows, r, 4);
    flavor->root_gb = db_rows_get_int64(rows, r, 5);
    flavor->ephemeral_gb = db_rows_get_int64(rows, r, 6);
    flavor->swap = db_rows_get_int64(rows, r, 7);
    record->rxtx_factor = db_rows_get_double(rows, r, 8);
    record->is_public = db_rows_get_bool(rows, r, 9);
    record->disabled = db_rows_get_bool(rows, r, 10);
    record->flavor = flavor;
    return record;
}

static struct error *
flavor_db_load_specs(struct db *db, int64_t id, struct flavor *flavor)
{
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    struct error *error;

    error = db_query(db, "SELECT spec_key, spec_value FROM "
                     "flavor_extra_specs WHERE flavor_id = ?",
                     DB_PARAMS(DB_INT(id)), &rows);
    for (size_t r = 0; !error && r < db_rows_count(rows); r++) {
        flavor_set_extra_spec(flavor, db_rows_get_str(rows, r, 0),
                              db_rows_get_str(rows, r, 1));
    }
    return error;
}

struct error *
flavor_db_get(struct db *db, const char *flavorid, const char *project_id,
              bool is_admin, bool with_specs, struct flavor_record **ret)
{
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    CLEANUP(flavor_record_freep) struct flavor_record *record = NULL;
    struct error *error;

    error = db_query(db, "SELECT " FLAVOR_DB_COLUMNS " FROM flavors f "
                     "WHERE f.flavorid = ? AND (? OR f.is_public = 1 OR "
                     "EXISTS (SELECT 1 FROM flavor_projects p WHERE "
                     "p.flavor_id = f.id AND p.project_id = ?))",
                     DB_PARAMS(DB_STR(flavorid), DB_BOOL(is_admin),
                               DB_STR(project_id ? project_id : "")),
                     &rows);
    if (error) {
        return error;
    }
    if (!db_rows_count(rows)) {
        return flavor_db_not_found(flavorid);
    }
    record = flavor_db_record_from_row(rows, 0);
    if (with_specs) {
        error = flavor_db_load_specs(db, record->id, record->flavor);
        if (error) {
            return error;
        }
    }
    *ret = TAKE_PTR(record);
    return NULL;
}

struct error *
flavor_db_get_for_boot(struct db *db, const char *flavorid,
                       const char *project_id, bool is_admin,
                       struct flavor **ret)
{
    struct flavor_record *record = NULL;
    struct error *error;

    error = flavor_db_get(db, flavorid, project_id, is_admin, true,
                          &record);
    if (error) {
        return error;
    }
    *ret = TAKE_PTR(record->flavor);
    flavor_record_free(record);
    return NULL;
}

/* ---- Lists ----------------------------------------------------------- */

static int
flavor_db_cmp_int(int64_t a, int64_t b)
{
    return a < b ? -1 : a > b;
}

/* Compares 'a' and 'b' by 'key'; strings without regard to case, as the
 * database's collation would. */
static int
flavor_db_compare(const struct flavor_record *a,
                  const struct flavor_record *b, enum flavor_db_sort_key key)
{
    switch (key) {
    case FLAVOR_SORT_ID:
        return flavor_db_cmp_int(a->id, b->id);
    case FLAVOR_SORT_FLAVORID:
        return strcasecmp(a->flavor->flavorid, b->flavor->flavorid);
    case FLAVOR_SORT_NAME:
        return strcasecmp(a->flavor->name, b->flavor->name);
    case FLAVOR_SORT_MEMORY_MB:
        return flavor_db_cmp_int(a->flavor->memory_mb, b->flavor->memory_mb);
    case FLAVOR_SORT_VCPUS:
        return flavor_db_cmp_int(a->flavor->vcpus, b->flavor->vcpus);
    case FLAVOR_SORT_ROOT_GB:
        return flavor_db_cmp_int(a->flavor->root_gb, b->flavor->root_gb);
    case FLAVOR_SORT_EPHEMERAL_GB:
        return flavor_db_cmp_int(a->flavor->ephemeral_gb,
                                 b->flavor->ephemeral_gb);
    case FLAVOR_SORT_SWAP:
        return flavor_db_cmp_int(a->flavor->swap, b->flavor->swap);
    case FLAVOR_SORT_RXTX_FACTOR:
        return (a->rxtx_factor < b->rxtx_factor ? -1
                : a->rxtx_factor > b->rxtx_factor);
    case FLAVOR_SORT_IS_PUBLIC:
        return flavor_db_cmp_int(a->is_public, b->is_public);
    case FLAVOR_SORT_DISABLED:
        return flavor_db_cmp_int(a->disabled, b->disabled);
    }
    return 0;
}

/* Insertion sort: stable, no qsort context needed, and lists are
 * short. */
static void
flavor_db_sort(struct flavor_record **v, size_t n,
               enum flavor_db_sort_key key, bool desc)
{
    for (size_t i = 1; i < n; i++) {
        struct flavor_record *x = v[i];
        size_t j = i;

        while (j > 0) {
            int c = flavor_db_compare(v[j - 1], x, key);

            if (!c) {
                c = flavor_db_cmp_int(v[j - 1]->id, x->id);
            }
            if (desc ? c >= 0 : c <= 0) {
                break;
            }
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
}

struct error *
flavor_db_list(struct db *db, const struct flavor_db_filter *filter,
               struct flavor_record ***ret, size_t *ret_n)
{
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    struct flavor_record **records;
    size_t n, start = 0, end;
    struct error *error;

    error = db_query(db, "SELECT " FLAVOR_DB_COLUMNS " FROM flavors f "
                     "WHERE f.memory_mb >= ? AND f.root_gb >= ? "
                     "AND (? = 0 OR f.disabled = 0) "
                     "AND (? = 0 "
                     "OR (? = 1 AND (f.is_public = 1 OR EXISTS (SELECT 1 "
                     "FROM flavor_projects p WHERE p.flavor_id = f.id "
                     "AND p.project_id = ?))) "
                     "OR (? = 2 AND f.is_public = 0))",
                     DB_PARAMS(DB_INT(filter->min_ram),
                               DB_INT(filter->min_disk),
                               DB_BOOL(filter->hide_disabled),
                               DB_INT(filter->visibility),
                               DB_INT(filter->visibility),
                               DB_STR(filter->project_id
                                      ? filter->project_id : ""),
                               DB_INT(filter->visibility)),
                     &rows);
    if (error) {
        return error;
    }
    n = db_rows_count(rows);
    records = xcalloc(n ? n : 1, sizeof *records);
    for (size_t r = 0; r < n; r++) {
        records[r] = flavor_db_record_from_row(rows, r);
    }
    flavor_db_sort(records, n, filter->sort_key, filter->sort_desc);

    if (filter->marker) {
        size_t i;

        for (i = 0; i < n; i++) {
            if (!strcmp(records[i]->flavor->flavorid, filter->marker)) {
                break;
            }
        }
        if (i == n) {
            flavor_record_array_free(records, n);
            return error_new(ERROR_INVALID, "marker [%s] not found",
                             filter->marker);
        }
        start = i + 1;
    }
    end = n;
    if (filter->limit && end - start > filter->limit) {
        end = start + filter->limit;
    }
    for (size_t i = 0; i < start; i++) {
        flavor_record_free(records[i]);
    }
    for (size_t i = end; i < n; i++) {
        flavor_record_free(records[i]);
    }
    memmove(records, records + start, (end - start) * sizeof *records);
    *ret = records;
    *ret_n = end - start;
    return NULL;
}

/* ---- Changes --------------------------------------------------------- */

/* Which unique key 'record' would break, as Nova's message, or NULL. */
static struct error *
flavor_db_check_unique(struct db *db, const struct flavor *flavor)
{
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    struct error *error;

    error = db_query(db, "SELECT flavorid = ?, name = ? FROM flavors "
                     "WHERE flavorid = ? OR name = ?",
                     DB_PARAMS(DB_STR(flavor->flavorid),
                               DB_STR(flavor->name),
                               DB_STR(flavor->flavorid),
                               DB_STR(flavor->name)), &rows);
    if (error) {
        return error;
    }
    for (size_t r = 0; r < db_rows_count(rows); r++) {
        if (db_rows_get_bool(rows, r, 1)) {
            return error_new(ERROR_CONFLICT, "Flavor with name %s already "
                             "exists.", flavor->name);
        }
    }
    if (db_rows_count(rows)) {
        return error_new(ERROR_CONFLICT, "Flavor with ID %s already "
                         "exists.", flavor->flavorid);
    }
    return NULL;
}

struct error *
flavor_db_create(struct db *db, struct flavor_record *record)
{
    const struct flavor *f = record->flavor;
    struct error *error;

    error = flavor_db_check_unique(db, f);
    if (error) {
        return error;
    }
    error = db_exec(db, "INSERT INTO flavors (flavorid, name, vcpus, "
                    "memory_mb, root_gb, ephemeral_gb, swap, rxtx_factor, "
                    "is_public, disabled, created_at) VALUES (?, ?, ?, ?, "
                    "?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(6))",
                    DB_PARAMS(DB_STR(f->flavorid), DB_STR(f->name),
                              DB_INT(f->vcpus), DB_INT(f->memory_mb),
                              DB_INT(f->root_gb), DB_INT(f->ephemeral_gb),
                              DB_INT(f->swap), DB_DOUBLE(record->rxtx_factor),
                              DB_BOOL(record->is_public),
                              DB_BOOL(record->disabled)), NULL);
    if (error && error_kind(error) == ERROR_CONFLICT) {
        /* Lost a race with another create: say which key. */
        struct error *unique = flavor_db_check_unique(db, f);

        if (unique) {
            error_free(error);
            return unique;
        }
    }
    if (error) {
        return error;
    }
    record->id = (int64_t) db_last_insert_id(db);
    return NULL;
}

struct error *
flavor_db_delete(struct db *db, const char *flavorid)
{
    uint64_t n = 0;
    struct error *error;

    /* Extra specs and access rows go with it (ON DELETE CASCADE). */
    error = db_exec(db, "DELETE FROM flavors WHERE flavorid = ?",
                    DB_PARAMS(DB_STR(flavorid)), &n);
    if (!error && !n) {
        error = flavor_db_not_found(flavorid);
    }
    return error;
}

struct flavor_db_specs_txn {
    int64_t id;
    const struct flavor_spec *specs;
    size_t n;
};

static struct error *
flavor_db_set_specs_txn(struct db *db, void *aux_)
{
    const struct flavor_db_specs_txn *aux = aux_;
    struct error *error = NULL;

    for (size_t i = 0; !error && i < aux->n; i++) {
        error = db_exec(db, "INSERT INTO flavor_extra_specs (flavor_id, "
                        "spec_key, spec_value, created_at) VALUES (?, ?, ?, "
                        "UTC_TIMESTAMP(6)) ON DUPLICATE KEY UPDATE "
                        "spec_value = VALUES(spec_value), "
                        "updated_at = UTC_TIMESTAMP(6)",
                        DB_PARAMS(DB_INT(aux->id),
                                  DB_STR(aux->specs[i].key),
                                  DB_STR(aux->specs[i].value)), NULL);
    }
    return error;
}

struct error *
flavor_db_set_extra_specs(struct db *db, int64_t id,
                          const struct flavor_spec *specs, size_t n)
{
    struct flavor_db_specs_txn aux = { id, specs, n };

    return db_txn_run(db, flavor_db_set_specs_txn, &aux);
}

struct error *
flavor_db_delete_extra_spec(struct db *db, int64_t id, const char *key,
                            bool *ret_found)
{
    uint64_t n = 0;
    struct error *error;

    error = db_exec(db, "DELETE FROM flavor_extra_specs WHERE flavor_id = ? "
                    "AND spec_key = ?", DB_PARAMS(DB_INT(id), DB_STR(key)),
                    &n);
    if (!error) {
        *ret_found = n > 0;
    }
    return error;
}

struct error *
flavor_db_access_list(struct db *db, int64_t id, char ***ret_projects,
                      size_t *ret_n)
{
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    struct error *error;
    char **projects;
    size_t n;

    error = db_query(db, "SELECT project_id FROM flavor_projects WHERE "
                     "flavor_id = ? ORDER BY project_id",
                     DB_PARAMS(DB_INT(id)), &rows);
    if (error) {
        return error;
    }
    n = db_rows_count(rows);
    projects = xcalloc(n ? n : 1, sizeof *projects);
    for (size_t r = 0; r < n; r++) {
        projects[r] = xstrdup(db_rows_get_str(rows, r, 0));
    }
    *ret_projects = projects;
    *ret_n = n;
    return NULL;
}

struct error *
flavor_db_access_add(struct db *db, int64_t id, const char *flavorid,
                     const char *project_id)
{
    struct error *error;

    error = db_exec(db, "INSERT INTO flavor_projects (flavor_id, project_id, "
                    "created_at) VALUES (?, ?, UTC_TIMESTAMP(6))",
                    DB_PARAMS(DB_INT(id), DB_STR(project_id)), NULL);
    if (error && error_kind(error) == ERROR_CONFLICT) {
        error_free(error);
        return error_new(ERROR_CONFLICT, "Flavor access already exists for "
                         "flavor %s and project %s combination.", flavorid,
                         project_id);
    }
    return error;
}

struct error *
flavor_db_access_remove(struct db *db, int64_t id, const char *flavorid,
                        const char *project_id)
{
    uint64_t n = 0;
    struct error *error;

    error = db_exec(db, "DELETE FROM flavor_projects WHERE flavor_id = ? AND "
                    "project_id = ?",
                    DB_PARAMS(DB_INT(id), DB_STR(project_id)), &n);
    if (!error && !n) {
        error = error_new(ERROR_NOT_FOUND, "Flavor access not found for %s / "
                          "%s combination.", flavorid, project_id);
    }
    return error;
}
