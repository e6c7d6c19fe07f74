/* db-migrate.c: applying the embedded schema migrations (see db-migrate.h).
 *
 * db_migrate() holds a named lock (GET_LOCK) on its connection for the
 * whole run, so it turns the connection's automatic reconnection off: a
 * new connection would silently hold no lock.  A lost connection therefore
 * ends the run with an error; running it again resumes after the last
 * recorded migration. */
#include <config.h>
#include "shared/db-migrate.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "shared/cleanup.h"
#include "shared/db.h"
#include "shared/error.h"
#include "shared/log.h"
#include "shared/xalloc.h"

LOG_MODULE("db.migrate");

/* Prefix of the GET_LOCK name; the database name follows. */
#define DB_MIGRATE_LOCK_PREFIX "nova-migrate:"

static const char *const db_schema_names[] = {
    [DB_SCHEMA_API] = "api",
    [DB_SCHEMA_CELL] = "cell",
};

/* Tables that each schema's first migration creates, to recognise a
 * database of the other schema (0001 files never change, so neither do
 * these).  Only tables the other schema never has: the API schema has an
 * 'instances' table of its own (the top view, 0004). */
static const char *const db_schema_markers[][3] = {
    [DB_SCHEMA_API] = { "cell_mappings", "instance_mappings",
                        "host_mappings" },
    [DB_SCHEMA_CELL] = { "services", "compute_nodes", "instance_faults" },
};

static const char db_migrate_create_version_table[] =
    "CREATE TABLE IF NOT EXISTS schema_version ("
    " version INT NOT NULL,"
    " name VARCHAR(255) NOT NULL,"
    " schema_name VARCHAR(16) NOT NULL,"
    " applied_at DATETIME(6) NOT NULL,"
    " PRIMARY KEY (version)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4";

const char *
db_schema_to_string(enum db_schema schema)
{
    return (size_t) schema < ARRAY_SIZE(db_schema_names)
           ? db_schema_names[schema] : "unknown";
}

const struct db_migration *
db_schema_migrations(enum db_schema schema, size_t *ret_n)
{
    if (schema == DB_SCHEMA_API) {
        *ret_n = db_n_migrations_api;
        return db_migrations_api;
    }
    *ret_n = db_n_migrations_cell;
    return db_migrations_cell;
}

int
db_schema_latest(enum db_schema schema)
{
    size_t n;
    const struct db_migration *migrations = db_schema_migrations(schema, &n);

    return n ? migrations[n - 1].version : 0;
}

static enum db_schema
db_schema_other(enum db_schema schema)
{
    return schema == DB_SCHEMA_API ? DB_SCHEMA_CELL : DB_SCHEMA_API;
}

/* What a database holds, as far as migrations are concerned. */
struct db_migrate_state {
    char *database;             /* DATABASE() */
    bool has_version_table;
    char *other_table;          /* A table only the other schema has. */
    char *unknown_table;        /* Any table other than schema_version. */
    char *other_schema;         /* Another schema_name in schema_version. */
    int version;                /* MAX(version) of ours; 0 for none. */
};

static void
db_migrate_state_destroy(struct db_migrate_state *state)
{
    free(state->database);
    free(state->other_table);
    free(state->unknown_table);
    free(state->other_schema);
}

static bool
db_migrate_is_marker(enum db_schema schema, const char *table)
{
    for (size_t i = 0; i < ARRAY_SIZE(db_schema_markers[schema]); i++) {
        if (!strcmp(db_schema_markers[schema][i], table)) {
            return true;
        }
    }
    return false;
}

/* Fills 'state' for the database 'db' is connected to. */
static struct error *
db_migrate_inspect(struct db *db, enum db_schema schema,
                   struct db_migrate_state *state)
{
    enum db_schema other = db_schema_other(schema);
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    struct error *error;

    error = db_query(db, "SELECT DATABASE()", DB_NO_PARAMS, &rows);
    if (error) {
        return error;
    }
    if (db_rows_count(rows) != 1 || db_rows_is_null(rows, 0, 0)) {
        return error_new(ERROR_INVALID, "The database URL '%s' names no "
                         "database", db_url_redacted(db));
    }
    state->database = xstrdup(db_rows_get_str(rows, 0, 0));
    db_rows_free(TAKE_PTR(rows));

    error = db_query(db, "SELECT table_name FROM information_schema.tables"
                     " WHERE table_schema = DATABASE()"
                     " ORDER BY table_name", DB_NO_PARAMS, &rows);
    if (error) {
        return error;
    }
    for (size_t r = 0; r < db_rows_count(rows); r++) {
        const char *table = db_rows_get_str(rows, r, 0);

        if (!strcmp(table, "schema_version")) {
            state->has_version_table = true;
            continue;
        }
        if (!state->unknown_table) {
            state->unknown_table = xstrdup(table);
        }
        if (!state->other_table && db_migrate_is_marker(other, table)) {
            state->other_table = xstrdup(table);
        }
    }
    db_rows_free(TAKE_PTR(rows));
    if (!state->has_version_table) {
        return NULL;
    }

    error = db_query(db, "SELECT schema_name, MAX(version)"
                     " FROM schema_version GROUP BY schema_name",
                     DB_NO_PARAMS, &rows);
    if (error) {
        return error;
    }
    for (size_t r = 0; r < db_rows_count(rows); r++) {
        const char *name = db_rows_get_str(rows, r, 0);

        if (!strcmp(name, db_schema_to_string(schema))) {
            state->version = (int) db_rows_get_int64(rows, r, 1);
        } else if (!state->other_schema) {
            state->other_schema = xstrdup(name);
        }
    }
    return NULL;
}

/* The error for a database that holds another schema, or NULL. */
static struct error *
db_migrate_check_schema(const struct db_migrate_state *state,
                        enum db_schema schema)
{
    const char *want = db_schema_to_string(schema);

    if (state->other_schema) {
        return error_new(ERROR_INVALID, "Database '%s' holds the '%s' "
                         "schema, not the '%s' schema: check the database "
                         "URL", state->database, state->other_schema, want);
    }
    if (state->other_table) {
        return error_new(ERROR_INVALID, "Database '%s' holds tables of the "
                         "'%s' schema (such as '%s'), not the '%s' schema: "
                         "check the database URL", state->database,
                         db_schema_to_string(db_schema_other(schema)),
                         state->other_table, want);
    }
    return NULL;
}

static struct error *
db_migrate_check_version(const struct db_migrate_state *state,
                         enum db_schema schema)
{
    int latest = db_schema_latest(schema);

    if (state->version > latest) {
        return error_new(ERROR_VERSION, "database schema version %d is "
                         "newer than this program's %d (database '%s', "
                         "'%s' schema): upgrade this program",
                         state->version, latest, state->database,
                         db_schema_to_string(schema));
    }
    return NULL;
}

struct error *
db_schema_version(struct db *db, enum db_schema schema, int *ret_version)
{
    struct db_migrate_state state = { 0 };
    struct error *error;

    error = db_migrate_inspect(db, schema, &state);
    if (!error) {
        error = db_migrate_check_schema(&state, schema);
    }
    if (!error) {
        *ret_version = state.version;
    }
    db_migrate_state_destroy(&state);
    return error;
}

/* Takes the migration lock of database 'name' on 'db'. */
static struct error *
db_migrate_lock(struct db *db, const char *lock_name, const char *database)
{
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    struct error *error;

    error = db_query(db, "SELECT GET_LOCK(?, ?)",
                     DB_PARAMS(DB_STR(lock_name),
                               DB_INT(DB_MIGRATE_LOCK_TIMEOUT_S)), &rows);
    if (error) {
        return error_wrap(error, "Cannot take the migration lock of "
                          "database '%s'", database);
    }
    if (db_rows_is_null(rows, 0, 0)) {
        return error_new(ERROR_INTERNAL, "Cannot take the migration lock "
                         "of database '%s'", database);
    }
    if (!db_rows_get_int64(rows, 0, 0)) {
        return error_new(ERROR_UNAVAILABLE, "Another schema migration of "
                         "database '%s' has been running for more than %d "
                         "s; try again when it is over", database,
                         DB_MIGRATE_LOCK_TIMEOUT_S);
    }
    return NULL;
}

static void
db_migrate_unlock(struct db *db, const char *lock_name)
{
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    struct error *error;

    error = db_query(db, "SELECT RELEASE_LOCK(?)",
                     DB_PARAMS(DB_STR(lock_name)), &rows);
    if (error) {
        /* The server drops the lock with the connection anyway. */
        LOG_DBG("Cannot release lock '%s': %s, ignoring", lock_name,
                error_message(error));
        error_free(error);
    }
}

static struct error *
db_migrate_apply(struct db *db, enum db_schema schema,
                 const struct db_migration *m)
{
    struct error *error;

    LOG_DBG("Applying migration %s", m->file);
    for (size_t i = 0; i < m->n_stmts; i++) {
        error = db_exec_once(db, m->stmts[i].sql, DB_NO_PARAMS, NULL);
        if (error && i == 0) {
            return error_wrap(error, "Migration %s failed at its first "
                              "statement (line %d), nothing of it was "
                              "applied", m->file, m->stmts[i].line);
        } else if (error) {
            return error_wrap(error, "Migration %s failed at the statement "
                              "on line %d after its earlier statements "
                              "were applied: the database is between "
                              "versions %d and %d and needs repair by hand",
                              m->file, m->stmts[i].line, m->version - 1,
                              m->version);
        }
    }
    error = db_exec_once(db, "INSERT INTO schema_version"
                         " (version, name, schema_name, applied_at)"
                         " VALUES (?, ?, ?, UTC_TIMESTAMP(6))",
                         DB_PARAMS(DB_INT(m->version), DB_STR(m->name),
                                   DB_STR(db_schema_to_string(schema))),
                         NULL);
    if (error) {
        return error_wrap(error, "Migration %s was applied but could not be "
                          "recorded in schema_version", m->file);
    }
    return NULL;
}

/* The part of db_migrate() that runs under the lock. */
static struct error *
db_migrate_locked(struct db *db, enum db_schema schema,
                  struct db_migrate_state *state, int *ret_from)
{
    size_t n;
    const struct db_migration *migrations = db_schema_migrations(schema, &n);
    struct error *error;

    error = db_migrate_check_schema(state, schema);
    if (error) {
        return error;
    }
    if (!state->has_version_table && state->unknown_table) {
        return error_new(ERROR_INVALID, "Database '%s' is not empty (it has "
                         "table '%s') but has no schema_version table: "
                         "refusing to migrate a database this program did "
                         "not create", state->database, state->unknown_table);
    }
    error = db_migrate_check_version(state, schema);
    if (error) {
        return error;
    }
    if (!state->has_version_table) {
        error = db_exec_once(db, db_migrate_create_version_table,
                             DB_NO_PARAMS, NULL);
        if (error) {
            return error;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (migrations[i].version <= state->version) {
            continue;
        }
        error = db_migrate_apply(db, schema, &migrations[i]);
        if (error) {
            return error;
        }
    }
    *ret_from = state->version;
    return NULL;
}

struct error *
db_migrate(struct db *db, enum db_schema schema, int *ret_from,
           int *ret_to)
{
    struct db_migrate_state state = { 0 };
    AUTOFREE char *lock_name = NULL;
    bool reconnect = db_set_auto_reconnect(db, false);
    int from = 0;
    struct error *error;

    /* A first look, for the database name the lock is named after. */
    error = db_migrate_inspect(db, schema, &state);
    if (error) {
        goto out;
    }
    lock_name = xasprintf(DB_MIGRATE_LOCK_PREFIX "%s", state.database);
    error = db_migrate_lock(db, lock_name, state.database);
    if (error) {
        goto out;
    }

    /* Look again: another run may have finished while we waited. */
    db_migrate_state_destroy(&state);
    memset(&state, 0, sizeof state);
    error = db_migrate_inspect(db, schema, &state);
    if (!error) {
        error = db_migrate_locked(db, schema, &state, &from);
    }
    db_migrate_unlock(db, lock_name);

out:
    db_set_auto_reconnect(db, reconnect);
    if (!error) {
        LOG_DBG("Database '%s' (%s schema) is at version %d (was %d)",
                state.database, db_schema_to_string(schema),
                db_schema_latest(schema), from);
        if (ret_from) {
            *ret_from = from;
        }
        if (ret_to) {
            *ret_to = db_schema_latest(schema);
        }
    }
    db_migrate_state_destroy(&state);
    return error;
}
