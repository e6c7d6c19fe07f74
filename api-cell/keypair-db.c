/* keypair-db.c: SSH keypairs in the API database (see keypair-db.h). */
#include <config.h>

#include "api-cell/keypair-db.h"

#include <stdlib.h>
#include <string.h>

#include "shared/db.h"
#include "shared/error.h"
#include "shared/timeutil.h"
#include "shared/xalloc.h"

#define KEYPAIR_DB_COLUMNS \
    "id, name, user_id, fingerprint, public_key, type, created_at"

void
keypair_free(struct keypair *kp)
{
    if (kp) {
        free(kp->name);
        free(kp->user_id);
        free(kp->fingerprint);
        free(kp->public_key);
        free(kp->type);
        free(kp);
    }
}

void
keypair_array_free(struct keypair **kps, size_t n)
{
    for (size_t i = 0; kps && i < n; i++) {
        keypair_free(kps[i]);
    }
    free(kps);
}

static struct error *
keypair_db_not_found(const char *user_id, const char *name)
{
    return error_new(ERROR_NOT_FOUND, "Keypair %s not found for user %s",
                     name, user_id);
}

static struct keypair *
keypair_db_from_row(const struct db_rows *rows, size_t r)
{
    struct keypair *kp = xzalloc(sizeof *kp);
    const char *created = db_rows_get_str(rows, r, 6);

    kp->id = db_rows_get_int64(rows, r, 0);
    kp->name = xstrdup(db_rows_get_str(rows, r, 1));
    kp->user_id = xstrdup(db_rows_get_str(rows, r, 2));
    kp->fingerprint = xstrdup(db_rows_get_str(rows, r, 3));
    kp->public_key = xstrdup(db_rows_get_str(rows, r, 4));
    kp->type = xstrdup(db_rows_get_str(rows, r, 5));
    if (!created || time_parse_mysql_datetime(created, &kp->created_at_ms)) {
        kp->created_at_ms = 0;
    }
    return kp;
}

struct error *
keypair_db_create(struct db *db, struct keypair *kp)
{
    char now[TIME_MYSQL_DATETIME_SIZE];
    int64_t now_ms = time_now_ms();
    struct error *error;

    if (time_format_mysql_datetime(now_ms, now, sizeof now)) {
        return error_new(ERROR_INTERNAL, "Cannot format the current time");
    }
    error = db_exec(db, "INSERT INTO key_pairs (name, user_id, fingerprint, "
                    "public_key, type, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                    DB_PARAMS(DB_STR(kp->name), DB_STR(kp->user_id),
                              DB_STR(kp->fingerprint),
                              DB_STR(kp->public_key),
                              DB_STR(kp->type ? kp->type
                                              : KEYPAIR_TYPE_SSH),
                              DB_STR(now)), NULL);
    if (error && error_kind(error) == ERROR_CONFLICT) {
        error_free(error);
        return error_new(ERROR_CONFLICT, "Key pair '%s' already exists.",
                         kp->name);
    }
    if (error) {
        return error;
    }
    kp->id = (int64_t) db_last_insert_id(db);
    kp->created_at_ms = now_ms;
    return NULL;
}

struct error *
keypair_db_get(struct db *db, const char *user_id, const char *name,
               struct keypair **ret)
{
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    struct error *error;

    /* BINARY: names are compared exactly, as Nova's query does, although
     * the unique key follows the column's collation. */
    error = db_query(db, "SELECT " KEYPAIR_DB_COLUMNS " FROM key_pairs "
                     "WHERE user_id = ? AND name = BINARY ?",
                     DB_PARAMS(DB_STR(user_id), DB_STR(name)), &rows);
    if (error) {
        return error;
    }
    if (!db_rows_count(rows)) {
        return keypair_db_not_found(user_id, name);
    }
    *ret = keypair_db_from_row(rows, 0);
    return NULL;
}

struct error *
keypair_db_get_public_key(struct db *db, const char *user_id,
                          const char *name, char **ret_key)
{
    struct keypair *kp = NULL;
    struct error *error = keypair_db_get(db, user_id, name, &kp);

    if (error) {
        return error;
    }
    *ret_key = TAKE_PTR(kp->public_key);
    keypair_free(kp);
    return NULL;
}

struct error *
keypair_db_list(struct db *db, const char *user_id, struct keypair ***ret,
                size_t *ret_n)
{
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    struct keypair **kps;
    struct error *error;
    size_t n;

    error = db_query(db, "SELECT " KEYPAIR_DB_COLUMNS " FROM key_pairs "
                     "WHERE user_id = ? ORDER BY name, id",
                     DB_PARAMS(DB_STR(user_id)), &rows);
    if (error) {
        return error;
    }
    n = db_rows_count(rows);
    kps = xcalloc(n ? n : 1, sizeof *kps);
    for (size_t r = 0; r < n; r++) {
        kps[r] = keypair_db_from_row(rows, r);
    }
    *ret = kps;
    *ret_n = n;
    return NULL;
}

struct error *
keypair_db_count(struct db *db, const char *user_id, int64_t *ret_n)
{
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    struct error *error;

    error = db_query(db, "SELECT COUNT(*) FROM key_pairs WHERE user_id = ?",
                     DB_PARAMS(DB_STR(user_id)), &rows);
    if (!error) {
        *ret_n = db_rows_get_int64(rows, 0, 0);
    }
    return error;
}

struct error *
keypair_db_delete(struct db *db, const char *user_id, const char *name)
{
    uint64_t n = 0;
    struct error *error;

    error = db_exec(db, "DELETE FROM key_pairs WHERE user_id = ? AND "
                    "name = BINARY ?",
                    DB_PARAMS(DB_STR(user_id), DB_STR(name)), &n);
    if (!error && !n) {
        error = keypair_db_not_found(user_id, name);
    }
    return error;
}
