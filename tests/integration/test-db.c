/* test-db.c: the database layer and nova-manage against a real MariaDB.
 *
 * Covers schema migrations (from empty, re-applied, refused when the
 * database is newer or holds the other schema, concurrent runs), prepared
 * statements (NULLs, unicode, binary-safe values, errors, the statement
 * cache), transactions (rollback, a real deadlock between two threads, a
 * lock wait timeout, a function that ignores an error), reconnection after
 * a server restart and a bounded failure while the server stays down, and
 * the nova-manage commands.  Prints the measured statement rates as TAP
 * comments.
 *
 * Each test works in databases of its own (test_db_*), created by the group
 * setup with the admin URL and dropped at the end.  The tests that restart
 * or stop the shared server come last and leave it running. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "shared/cleanup.h"
#include "shared/db-migrate.h"
#include "shared/db.h"
#include "shared/error.h"
#include "shared/xalloc.h"
#include "tests/integration/test-env.h"

#ifndef TEST_DB_BUILDDIR
#define TEST_DB_BUILDDIR "."
#endif

/* The databases the tests use; created empty by the group setup. */
static const struct {
    const char *name;
    const char *create;
    const char *drop;
} test_databases[] = {
#define TEST_DATABASE(NAME)                                             \
    { NAME, "CREATE DATABASE " NAME " CHARACTER SET utf8mb4",           \
      "DROP DATABASE IF EXISTS " NAME }
    TEST_DATABASE("test_db_api"),
    TEST_DATABASE("test_db_cell"),
    TEST_DATABASE("test_db_misc"),
    TEST_DATABASE("test_db_other"),
    TEST_DATABASE("test_db_conc"),
    TEST_DATABASE("test_db_manage"),
#undef TEST_DATABASE
};

/* ---- Helpers --------------------------------------------------------- */

static long long
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(long long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

    while (nanosleep(&ts, &ts) && errno == EINTR) {
        continue;
    }
}

/* The URL of database 'name' (NULL: none) for the admin user. */
static char *
test_url(const char *name)
{
    return xasprintf("%s%s", test_env_get("NOVA_TEST_MYSQL_ADMIN_URL"),
                     name ? name : "");
}

static void
check(struct error *error, const char *what)
{
    if (error) {
        fail_msg("%s: %s", what, error_message(error));
    }
}

static struct db *
test_open(const char *name)
{
    AUTOFREE char *url = test_url(name);
    struct db *db = NULL;

    check(db_open(url, &db), url);
    return db;
}

/* Runs 'sql' and returns the integer in its first row and column. */
static int64_t
query_int(struct db *db, const char *sql, const struct db_value *params,
          size_t n_params)
{
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;

    check(db_query(db, sql, params, n_params, &rows), sql);
    assert_int_equal(db_rows_count(rows), 1);
    return db_rows_get_int64(rows, 0, 0);
}

static void
exec(struct db *db, const char *sql)
{
    check(db_exec(db, sql, DB_NO_PARAMS, NULL), sql);
}

static int64_t
count_tables(struct db *db, const char *table)
{
    return query_int(db, "SELECT COUNT(*) FROM information_schema.tables"
                     " WHERE table_schema = DATABASE() AND table_name = ?",
                     DB_PARAMS(DB_STR(table)));
}

static void
assert_message_contains(const struct error *error, const char *part)
{
    assert_non_null(error);
    if (!strstr(error_message(error), part)) {
        fail_msg("message '%s' lacks '%s'", error_message(error), part);
    }
}

static int
group_setup(void **state)
{
    CLEANUP(db_closep) struct db *admin = test_open(NULL);

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(test_databases); i++) {
        check(db_exec_once(admin, test_databases[i].drop, DB_NO_PARAMS,
                           NULL), test_databases[i].drop);
        check(db_exec_once(admin, test_databases[i].create, DB_NO_PARAMS,
                           NULL), test_databases[i].create);
    }
    return 0;
}

static int
group_teardown(void **state)
{
    CLEANUP(db_closep) struct db *admin = test_open(NULL);

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(test_databases); i++) {
        check(db_exec_once(admin, test_databases[i].drop, DB_NO_PARAMS,
                           NULL), test_databases[i].drop);
    }
    return 0;
}

/* ---- Migrations ------------------------------------------------------ */

static void
test_migrate_from_empty_and_again(void **state)
{
    static const struct {
        const char *database;
        enum db_schema schema;
        const char *tables[7];
    } cases[] = {
        { "test_db_api", DB_SCHEMA_API,
          { "cell_mappings", "instance_mappings", "host_mappings",
            "schema_version" } },
        { "test_db_cell", DB_SCHEMA_CELL,
          { "services", "compute_nodes", "instances", "instance_faults",
            "instance_actions", "instance_actions_events",
            "schema_version" } },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        CLEANUP(db_closep) struct db *db = test_open(cases[i].database);
        int latest = db_schema_latest(cases[i].schema);
        int version = -1, from = -1, to = -1;

        assert_true(latest >= 1);
        check(db_schema_version(db, cases[i].schema, &version), "version");
        assert_int_equal(version, 0);

        check(db_migrate(db, cases[i].schema, &from, &to), "migrate");
        assert_int_equal(from, 0);
        assert_int_equal(to, latest);
        for (size_t t = 0; t < ARRAY_SIZE(cases[i].tables); t++) {
            if (cases[i].tables[t]) {
                assert_int_equal(count_tables(db, cases[i].tables[t]), 1);
            }
        }
        check(db_schema_version(db, cases[i].schema, &version), "version");
        assert_int_equal(version, latest);
        assert_int_equal(query_int(db, "SELECT COUNT(*) FROM schema_version"
                                   " WHERE schema_name = ?"
                                   " AND applied_at IS NOT NULL",
                                   DB_PARAMS(DB_STR(db_schema_to_string(
                                                 cases[i].schema)))),
                         latest);

        /* Again: nothing to do, nothing changes. */
        check(db_migrate(db, cases[i].schema, &from, &to), "migrate again");
        assert_int_equal(from, latest);
        assert_int_equal(to, latest);
        assert_int_equal(query_int(db, "SELECT COUNT(*) FROM schema_version",
                                   DB_NO_PARAMS), latest);
    }
}

static void
test_migrate_refuses_wrong_databases(void **state)
{
    CLEANUP(db_closep) struct db *api = test_open("test_db_api");
    CLEANUP(db_closep) struct db *other = test_open("test_db_other");
    CLEANUP(db_closep) struct db *none = test_open(NULL);
    static const struct {
        int which;              /* 0 api (migrated), 1 other, 2 none */
        const char *setup;      /* Run on 'other' first, or NULL. */
        enum db_schema schema;
        enum error_kind kind;
        const char *message;
    } cases[] = {
        { 0, NULL, DB_SCHEMA_CELL, ERROR_INVALID,
          "Database 'test_db_api' holds the 'api' schema, not the 'cell' "
          "schema" },
        { 1, "CREATE TABLE services (id INT)", DB_SCHEMA_API, ERROR_INVALID,
          "holds tables of the 'cell' schema (such as 'services')" },
        { 1, "DROP TABLE services", DB_SCHEMA_API, ERROR_INVALID, NULL },
        { 1, "CREATE TABLE foo (id INT)", DB_SCHEMA_API, ERROR_INVALID,
          "is not empty (it has table 'foo') but has no schema_version" },
        { 2, NULL, DB_SCHEMA_API, ERROR_INVALID, "names no database" },
    };

    (void) state;
    check(db_migrate(api, DB_SCHEMA_API, NULL, NULL), "migrate api");
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct db *db = cases[i].which == 0 ? api
                        : cases[i].which == 1 ? other : none;

        if (cases[i].setup) {
            check(db_exec_once(other, cases[i].setup, DB_NO_PARAMS, NULL),
                  cases[i].setup);
        }
        if (!cases[i].message) {
            continue;
        }
        CLEANUP(error_freep) struct error *error =
            db_migrate(db, cases[i].schema, NULL, NULL);
        assert_message_contains(error, cases[i].message);
        assert_int_equal(error_kind(error), cases[i].kind);
        /* Nothing was created. */
        if (cases[i].which == 1) {
            assert_int_equal(count_tables(other, "schema_version"), 0);
        }
    }
    /* Asking the version of the wrong schema is refused too. */
    int version = -1;
    CLEANUP(error_freep) struct error *error =
        db_schema_version(api, DB_SCHEMA_CELL, &version);
    assert_message_contains(error, "holds the 'api' schema");
    assert_int_equal(version, -1);
}

static void
test_migrate_refuses_newer_database(void **state)
{
    CLEANUP(db_closep) struct db *db = test_open("test_db_api");
    int latest = db_schema_latest(DB_SCHEMA_API);
    int from = -1, to = -1, version = -1;
    AUTOFREE char *expected = xasprintf("database schema version %d is "
                                        "newer than this program's %d",
                                        latest + 2, latest);

    (void) state;
    check(db_migrate(db, DB_SCHEMA_API, NULL, NULL), "migrate");
    check(db_exec(db, "INSERT INTO schema_version"
                  " (version, name, schema_name, applied_at)"
                  " VALUES (?, 'future', 'api', UTC_TIMESTAMP(6))",
                  DB_PARAMS(DB_INT(latest + 2)), NULL), "insert");

    CLEANUP(error_freep) struct error *error =
        db_migrate(db, DB_SCHEMA_API, &from, &to);
    assert_message_contains(error, expected);
    assert_int_equal(error_kind(error), ERROR_VERSION);
    assert_int_equal(from, -1);
    assert_int_equal(to, -1);
    /* The version is still reported as it is. */
    check(db_schema_version(db, DB_SCHEMA_API, &version), "version");
    assert_int_equal(version, latest + 2);

    check(db_exec(db, "DELETE FROM schema_version WHERE version = ?",
                  DB_PARAMS(DB_INT(latest + 2)), NULL), "delete");
    check(db_migrate(db, DB_SCHEMA_API, &from, &to), "migrate after");
    assert_int_equal(from, latest);
}

struct migrate_thread {
    pthread_t thread;
    pthread_barrier_t *start;
    int from, to;
    char *error;                /* Message, or NULL. */
};

static void *
migrate_thread_main(void *arg_)
{
    struct migrate_thread *arg = arg_;
    AUTOFREE char *url = test_url("test_db_conc");
    struct db *db = NULL;
    struct error *error = db_open(url, &db);

    pthread_barrier_wait(arg->start);
    if (!error) {
        error = db_migrate(db, DB_SCHEMA_CELL, &arg->from, &arg->to);
    }
    if (error) {
        arg->error = xstrdup(error_message(error));
        error_free(error);
    }
    db_close(db);
    return NULL;
}

static void
test_migrate_concurrently(void **state)
{
    struct migrate_thread threads[2];
    pthread_barrier_t start;
    int latest = db_schema_latest(DB_SCHEMA_CELL);

    (void) state;
    pthread_barrier_init(&start, NULL, ARRAY_SIZE(threads));
    for (size_t i = 0; i < ARRAY_SIZE(threads); i++) {
        threads[i] = (struct migrate_thread) { .start = &start };
        assert_int_equal(pthread_create(&threads[i].thread, NULL,
                                        migrate_thread_main, &threads[i]),
                         0);
    }
    for (size_t i = 0; i < ARRAY_SIZE(threads); i++) {
        pthread_join(threads[i].thread, NULL);
    }
    pthread_barrier_destroy(&start);

    for (size_t i = 0; i < ARRAY_SIZE(threads); i++) {
        if (threads[i].error) {
            fail_msg("thread %zu: %s", i, threads[i].error);
        }
        assert_int_equal(threads[i].to, latest);
    }
    /* One did the work, the other found it done. */
    assert_int_equal(threads[0].from + threads[1].from, latest);

    CLEANUP(db_closep) struct db *db = test_open("test_db_conc");
    assert_int_equal(query_int(db, "SELECT COUNT(*) FROM schema_version",
                               DB_NO_PARAMS), latest);
}

/* ---- Statements ------------------------------------------------------ */

static void
test_round_trip(void **state)
{
    static const char nul_text[] = "before\0after";
    static const char unicode[] =
        "h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93 \xf0\x9f\x98\x80 "
        "\xe4\xb8\xad\xe6\x96\x87";
    static const char quotes[] = "it's a \"quote\"; DROP TABLE rt; -- \\";
    unsigned char blob[256];
    CLEANUP(db_closep) struct db *db = test_open("test_db_misc");
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    uint64_t affected = 0;

    (void) state;
    for (size_t i = 0; i < sizeof blob; i++) {
        blob[i] = (unsigned char) (255 - i);
    }
    exec(db, "CREATE TABLE rt ("
         " id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,"
         " s VARCHAR(255) NULL, t TEXT NULL, b VARBINARY(300) NULL,"
         " i BIGINT NULL, d DOUBLE NULL, flag TINYINT(1) NULL,"
         " ts DATETIME(6) NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4");

    /* Row 1: all NULL, by DB_NULL and by NULL pointers. */
    check(db_exec(db, "INSERT INTO rt (s, t, b, i, d, flag, ts)"
                  " VALUES (?, ?, ?, ?, ?, ?, ?)",
                  DB_PARAMS(DB_STR(NULL), DB_STRN(NULL, 0),
                            DB_BLOB(NULL, 0), DB_NULL, DB_NULL, DB_NULL,
                            DB_NULL), &affected), "insert nulls");
    assert_int_equal(affected, 1);
    assert_int_equal(db_last_insert_id(db), 1);

    /* Row 2: every kind of value. */
    check(db_exec(db, "INSERT INTO rt (s, t, b, i, d, flag, ts)"
                  " VALUES (?, ?, ?, ?, ?, ?, ?)",
                  DB_PARAMS(DB_STR(unicode),
                            DB_STRN(nul_text, sizeof nul_text - 1),
                            DB_BLOB(blob, sizeof blob), DB_INT(INT64_MIN),
                            DB_DOUBLE(0.1), DB_BOOL(true),
                            DB_STR("2024-01-02 03:04:05.123456")),
                  &affected), "insert values");
    assert_int_equal(db_last_insert_id(db), 2);

    /* Row 3: the other extremes; SQL-looking text is only data. */
    check(db_exec(db, "INSERT INTO rt (s, t, i, d, flag)"
                  " VALUES (?, ?, ?, ?, ?)",
                  DB_PARAMS(DB_STR(quotes), DB_STR(""), DB_INT(INT64_MAX),
                            DB_DOUBLE(-1.5e300), DB_BOOL(false)),
                  NULL), "insert extremes");
    assert_int_equal(db_last_insert_id(db), 3);

    check(db_query(db, "SELECT id, s, t, b, i, d, flag, ts AS stamp"
                   " FROM rt ORDER BY id", DB_NO_PARAMS, &rows), "select");
    assert_int_equal(db_rows_count(rows), 3);
    assert_int_equal(db_rows_n_columns(rows), 8);
    assert_string_equal(db_rows_column_name(rows, 1), "s");
    assert_string_equal(db_rows_column_name(rows, 7), "stamp");

    for (size_t c = 1; c < 8; c++) {
        assert_true(db_rows_is_null(rows, 0, c));
        assert_null(db_rows_get_str(rows, 0, c));
        assert_int_equal(db_rows_get_size(rows, 0, c), 0);
    }
    assert_int_equal(db_rows_get_int64(rows, 0, 4), 0);

    assert_int_equal(db_rows_get_int64(rows, 1, 0), 2);
    assert_string_equal(db_rows_get_str(rows, 1, 1), unicode);
    assert_int_equal(db_rows_get_size(rows, 1, 2), sizeof nul_text - 1);
    assert_memory_equal(db_rows_get_str(rows, 1, 2), nul_text,
                        sizeof nul_text - 1);
    assert_int_equal(db_rows_get_size(rows, 1, 3), sizeof blob);
    assert_memory_equal(db_rows_get_str(rows, 1, 3), blob, sizeof blob);
    assert_true(db_rows_get_int64(rows, 1, 4) == INT64_MIN);
    assert_true(db_rows_get_double(rows, 1, 5) == 0.1);
    assert_true(db_rows_get_bool(rows, 1, 6));
    assert_string_equal(db_rows_get_str(rows, 1, 7),
                        "2024-01-02 03:04:05.123456");

    assert_string_equal(db_rows_get_str(rows, 2, 1), quotes);
    assert_false(db_rows_is_null(rows, 2, 2));
    assert_string_equal(db_rows_get_str(rows, 2, 2), "");
    assert_true(db_rows_get_int64(rows, 2, 4) == INT64_MAX);
    assert_true(db_rows_get_double(rows, 2, 5) == -1.5e300);
    assert_false(db_rows_get_bool(rows, 2, 6));
    db_rows_free(TAKE_PTR(rows));

    /* Values select rows too; an empty result keeps its columns. */
    check(db_query(db, "SELECT id FROM rt WHERE s = ? AND b = ?",
                   DB_PARAMS(DB_STR(unicode), DB_BLOB(blob, sizeof blob)),
                   &rows), "select by value");
    assert_int_equal(db_rows_count(rows), 1);
    assert_int_equal(db_rows_get_int64(rows, 0, 0), 2);
    db_rows_free(TAKE_PTR(rows));
    check(db_query(db, "SELECT id, s FROM rt WHERE id = ?",
                   DB_PARAMS(DB_INT(42)), &rows), "select none");
    assert_int_equal(db_rows_count(rows), 0);
    assert_int_equal(db_rows_n_columns(rows), 2);
    db_rows_free(TAKE_PTR(rows));

    /* UPDATE counts matched rows, even when nothing changes. */
    check(db_exec(db, "UPDATE rt SET flag = ? WHERE id >= ?",
                  DB_PARAMS(DB_BOOL(false), DB_INT(2)), &affected),
          "update");
    assert_int_equal(affected, 2);
    /* db_query of a statement without a result set. */
    check(db_query(db, "DELETE FROM rt WHERE id = ?", DB_PARAMS(DB_INT(1)),
                   &rows), "delete by query");
    assert_int_equal(db_rows_count(rows), 0);
    assert_int_equal(db_rows_n_columns(rows), 0);
}

static void
test_long_values(void **state)
{
    CLEANUP(db_closep) struct db *db = test_open("test_db_misc");
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    size_t size = 300 * 1024;
    AUTOFREE char *big = xmalloc(size + 1);

    (void) state;
    for (size_t i = 0; i < size; i++) {
        big[i] = (char) ('a' + i % 26);
    }
    big[size] = '\0';
    exec(db, "CREATE TABLE lv (id INT NOT NULL PRIMARY KEY,"
         " v MEDIUMTEXT NULL) ENGINE=InnoDB");
    /* Many short values and one long one: the arena grows. */
    for (int i = 0; i < 200; i++) {
        check(db_exec(db, "INSERT INTO lv (id, v) VALUES (?, ?)",
                      DB_PARAMS(DB_INT(i), DB_STR(i == 100 ? big : "x")),
                      NULL), "insert");
    }
    check(db_query(db, "SELECT id, v FROM lv ORDER BY id", DB_NO_PARAMS,
                   &rows), "select");
    assert_int_equal(db_rows_count(rows), 200);
    for (size_t r = 0; r < 200; r++) {
        assert_int_equal(db_rows_get_int64(rows, r, 0), (int64_t) r);
        assert_string_equal(db_rows_get_str(rows, r, 1),
                            r == 100 ? big : "x");
    }
}

static void
test_statement_errors(void **state)
{
    CLEANUP(db_closep) struct db *db = test_open("test_db_misc");
    static const struct {
        const char *sql;
        size_t n_params;
        enum error_kind kind;
        const char *message;
    } cases[] = {
        { "INSERT INTO se (id) VALUES (?)", 1, ERROR_CONFLICT,
          "Duplicate entry '1' for key 'PRIMARY' (error 1062, SQLSTATE "
          "23000)" },
        { "INSERT INTO se (id) VALUES (?)", 0, ERROR_INTERNAL,
          "the statement has 1 placeholders but 0 values were given" },
        { "INSERT INTO se (id) VALUES (?, ?)", 1, ERROR_INTERNAL,
          "error 1136" },
        { "SELEC 1", 0, ERROR_INTERNAL, "error 1064" },
        { "SELECT * FROM no_such_table", 0, ERROR_INTERNAL,
          "Database statement 'SELECT * FROM no_such_table' failed" },
        { "INSERT INTO se (id) VALUES (?)", 2, ERROR_INTERNAL,
          "but 2 values were given" },
    };
    const struct db_value params[] = { DB_INT(1), DB_INT(2) };

    (void) state;
    exec(db, "CREATE TABLE se (id INT NOT NULL PRIMARY KEY)");
    check(db_exec(db, "INSERT INTO se (id) VALUES (?)",
                  DB_PARAMS(DB_INT(1)), NULL), "insert");
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        uint64_t affected = 12345;
        CLEANUP(error_freep) struct error *error =
            db_exec(db, cases[i].sql, params, cases[i].n_params, &affected);

        assert_message_contains(error, cases[i].message);
        assert_int_equal(error_kind(error), cases[i].kind);
        assert_int_equal(affected, 12345);
    }
    /* The connection is still fine. */
    assert_int_equal(query_int(db, "SELECT COUNT(*) FROM se", DB_NO_PARAMS),
                     1);
}

static void
test_statement_cache(void **state)
{
    CLEANUP(db_closep) struct db *db = test_open("test_db_misc");
    struct db_stats before, after;

    (void) state;
    db_get_stats(db, &before);
    for (int i = 0; i < 100; i++) {
        assert_int_equal(query_int(db, "SELECT ? + 1", DB_PARAMS(DB_INT(i))),
                         i + 1);
    }
    db_get_stats(db, &after);
    assert_int_equal(after.n_prepares - before.n_prepares, 1);
    assert_int_equal(after.n_executes - before.n_executes, 100);

    /* More distinct statements than the cache holds: the oldest go, and
     * come back prepared again when used. */
    for (int i = 0; i < DB_STMT_CACHE_SIZE + 10; i++) {
        AUTOFREE char *sql = xasprintf("SELECT ? AS c%d", i);
        assert_int_equal(query_int(db, sql, DB_PARAMS(DB_INT(i))), i);
    }
    db_get_stats(db, &after);
    assert_int_equal(after.n_evictions, 11);
    assert_int_equal(query_int(db, "SELECT ? + 1", DB_PARAMS(DB_INT(1))), 2);
    db_get_stats(db, &before);
    assert_int_equal(before.n_prepares, after.n_prepares + 1);
}

/* ---- Transactions ---------------------------------------------------- */

struct insert_txn {
    const char *name;
    bool fail;                  /* Return an error after the insert. */
    int runs;
};

static struct error *
insert_txn_fn(struct db *db, void *aux_)
{
    struct insert_txn *aux = aux_;
    struct error *error;

    aux->runs++;
    assert_true(db_in_txn(db));
    error = db_exec(db, "INSERT INTO tx (name) VALUES (?)",
                    DB_PARAMS(DB_STR(aux->name)), NULL);
    if (error) {
        return error;
    }
    if (aux->fail) {
        return error_new(ERROR_CONFLICT, "Changed my mind about '%s'",
                         aux->name);
    }
    return NULL;
}

/* Runs an inner transaction inside an outer one. */
static struct error *
nested_txn_fn(struct db *db, void *aux)
{
    struct error *error = db_txn_run(db, insert_txn_fn, aux);

    return error ? error : error_new(ERROR_INVALID, "Outer function fails");
}

static int64_t
count_named(struct db *db, const char *name)
{
    return query_int(db, "SELECT COUNT(*) FROM tx WHERE name = ?",
                     DB_PARAMS(DB_STR(name)));
}

static void
test_txn_commit_and_rollback(void **state)
{
    CLEANUP(db_closep) struct db *db = test_open("test_db_misc");
    struct insert_txn commit = { "committed", false, 0 };
    struct insert_txn rollback = { "rolled-back", true, 0 };
    struct insert_txn nested = { "nested", false, 0 };

    (void) state;
    exec(db, "CREATE TABLE tx (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,"
         " name VARCHAR(64) NOT NULL) ENGINE=InnoDB");

    check(db_txn_run(db, insert_txn_fn, &commit), "commit");
    assert_int_equal(count_named(db, "committed"), 1);
    assert_false(db_in_txn(db));

    CLEANUP(error_freep) struct error *error =
        db_txn_run(db, insert_txn_fn, &rollback);
    assert_non_null(error);
    /* The function's own error, untouched, and not retried. */
    assert_string_equal(error_message(error),
                        "Changed my mind about 'rolled-back'");
    assert_int_equal(error_kind(error), ERROR_CONFLICT);
    assert_int_equal(rollback.runs, 1);
    assert_int_equal(count_named(db, "rolled-back"), 0);

    /* An inner transaction joins the outer one and goes with it. */
    CLEANUP(error_freep) struct error *outer =
        db_txn_run(db, nested_txn_fn, &nested);
    assert_message_contains(outer, "Outer function fails");
    assert_int_equal(nested.runs, 1);
    assert_int_equal(count_named(db, "nested"), 0);
}

/* Both threads update rows 1 and 2 in opposite orders; on the first
 * attempt each waits for the other to hold its first row, so InnoDB must
 * pick a deadlock victim. */
struct deadlock_thread {
    pthread_t thread;
    pthread_barrier_t *both_locked;
    int first, second;          /* Row ids in the order this thread locks */
    int runs;
    uint64_t retries;
    char *error;
};

static struct error *
deadlock_txn_fn(struct db *db, void *aux_)
{
    struct deadlock_thread *aux = aux_;
    struct error *error;

    aux->runs++;
    error = db_exec(db, "UPDATE dl SET n = n + 1 WHERE id = ?",
                    DB_PARAMS(DB_INT(aux->first)), NULL);
    if (error) {
        return error;
    }
    if (aux->runs == 1) {
        pthread_barrier_wait(aux->both_locked);
    }
    return db_exec(db, "UPDATE dl SET n = n + 1 WHERE id = ?",
                   DB_PARAMS(DB_INT(aux->second)), NULL);
}

static void *
deadlock_thread_main(void *arg_)
{
    struct deadlock_thread *arg = arg_;
    AUTOFREE char *url = test_url("test_db_misc");
    struct db *db = NULL;
    struct error *error = db_open(url, &db);

    if (!error) {
        error = db_txn_run(db, deadlock_txn_fn, arg);
    }
    if (error) {
        arg->error = xstrdup(error_message(error));
        error_free(error);
    }
    if (db) {
        struct db_stats stats;
        db_get_stats(db, &stats);
        arg->retries = stats.n_txn_retries;
    }
    db_close(db);
    return NULL;
}

static void
test_txn_deadlock_is_retried(void **state)
{
    CLEANUP(db_closep) struct db *db = test_open("test_db_misc");
    pthread_barrier_t both_locked;
    struct deadlock_thread threads[2] = {
        { .both_locked = &both_locked, .first = 1, .second = 2 },
        { .both_locked = &both_locked, .first = 2, .second = 1 },
    };

    (void) state;
    exec(db, "CREATE TABLE dl (id INT NOT NULL PRIMARY KEY, n INT NOT NULL)"
         " ENGINE=InnoDB");
    exec(db, "INSERT INTO dl (id, n) VALUES (1, 0), (2, 0)");

    pthread_barrier_init(&both_locked, NULL, 2);
    for (size_t i = 0; i < ARRAY_SIZE(threads); i++) {
        assert_int_equal(pthread_create(&threads[i].thread, NULL,
                                        deadlock_thread_main, &threads[i]),
                         0);
    }
    for (size_t i = 0; i < ARRAY_SIZE(threads); i++) {
        pthread_join(threads[i].thread, NULL);
    }
    pthread_barrier_destroy(&both_locked);

    for (size_t i = 0; i < ARRAY_SIZE(threads); i++) {
        if (threads[i].error) {
            fail_msg("thread %zu: %s", i, threads[i].error);
        }
    }
    /* Exactly one victim, run a second time; both committed once. */
    assert_int_equal(threads[0].runs + threads[1].runs, 3);
    assert_int_equal(threads[0].retries + threads[1].retries, 1);
    assert_int_equal(query_int(db, "SELECT SUM(n) FROM dl", DB_NO_PARAMS),
                     4);
    assert_int_equal(query_int(db, "SELECT MIN(n) FROM dl", DB_NO_PARAMS),
                     2);
}

/* Holds a row lock of 'lw' for 'hold_ms' in its own transaction. */
struct lock_holder {
    pthread_t thread;
    pthread_barrier_t *locked;
    long long hold_ms;
    char *error;
};

static struct error *
lock_holder_fn(struct db *db, void *aux_)
{
    struct lock_holder *aux = aux_;
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    struct error *error;

    error = db_query(db, "SELECT n FROM lw WHERE id = ? FOR UPDATE",
                     DB_PARAMS(DB_INT(1)), &rows);
    pthread_barrier_wait(aux->locked);
    if (!error) {
        sleep_ms(aux->hold_ms);
    }
    return error;
}

static void *
lock_holder_main(void *arg_)
{
    struct lock_holder *arg = arg_;
    AUTOFREE char *url = test_url("test_db_misc");
    struct db *db = NULL;
    struct error *error = db_open(url, &db);

    if (error) {
        pthread_barrier_wait(arg->locked);
    } else {
        error = db_txn_run(db, lock_holder_fn, arg);
    }
    if (error) {
        arg->error = xstrdup(error_message(error));
        error_free(error);
    }
    db_close(db);
    return NULL;
}

struct lock_waiter {
    bool ignore_errors;         /* Carry on after a failed statement. */
    int runs;
    char *ignored;              /* Message of the statement refused after
                                 * the first failure. */
};

static struct error *
lock_waiter_fn(struct db *db, void *aux_)
{
    struct lock_waiter *aux = aux_;
    struct error *error;

    aux->runs++;
    error = db_exec(db, "UPDATE lw SET n = n + 1 WHERE id = ?",
                    DB_PARAMS(DB_INT(1)), NULL);
    if (error && !aux->ignore_errors) {
        return error;
    }
    if (error) {
        error_free(error);
        /* The transaction is gone: this must not run, in autocommit or
         * otherwise. */
        error = db_exec(db, "INSERT INTO lw (id, n) VALUES (?, 0)",
                        DB_PARAMS(DB_INT(100 + aux->runs)), NULL);
        if (error) {
            free(aux->ignored);
            aux->ignored = xstrdup(error_message(error));
            error_free(error);
        }
    }
    return NULL;                /* Even after an ignored failure. */
}

static void
test_txn_lock_wait_timeout_is_retried(void **state)
{
    static const bool ignore_errors[] = { false, true };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(ignore_errors); i++) {
        CLEANUP(db_closep) struct db *db = test_open("test_db_misc");
        pthread_barrier_t locked;
        struct lock_holder holder = { .locked = &locked, .hold_ms = 1600 };
        struct lock_waiter waiter = { .ignore_errors = ignore_errors[i] };
        struct db_stats stats;

        exec(db, "DROP TABLE IF EXISTS lw");
        exec(db, "CREATE TABLE lw (id INT NOT NULL PRIMARY KEY,"
             " n INT NOT NULL) ENGINE=InnoDB");
        exec(db, "INSERT INTO lw (id, n) VALUES (1, 0)");
        exec(db, "SET SESSION innodb_lock_wait_timeout = 1");

        pthread_barrier_init(&locked, NULL, 2);
        assert_int_equal(pthread_create(&holder.thread, NULL,
                                        lock_holder_main, &holder), 0);
        pthread_barrier_wait(&locked);
        CLEANUP(error_freep) struct error *error =
            db_txn_run(db, lock_waiter_fn, &waiter);
        pthread_join(holder.thread, NULL);
        pthread_barrier_destroy(&locked);

        if (holder.error) {
            fail_msg("lock holder: %s", holder.error);
        }
        check(TAKE_PTR(error), "waiter");
        /* The first attempt timed out while the lock was held (normally
         * the second one then gets it); the update committed once. */
        assert_true(waiter.runs >= 2);
        db_get_stats(db, &stats);
        assert_int_equal(stats.n_txn_retries, (uint64_t) waiter.runs - 1);
        assert_int_equal(query_int(db, "SELECT n FROM lw WHERE id = 1",
                                   DB_NO_PARAMS), 1);
        if (ignore_errors[i]) {
            assert_non_null(waiter.ignored);
            assert_non_null(strstr(waiter.ignored, "already aborted"));
            assert_int_equal(query_int(db, "SELECT COUNT(*) FROM lw",
                                       DB_NO_PARAMS), 1);
        }
        free(waiter.ignored);
    }
}

/* ---- Rates ----------------------------------------------------------- */

#define RATE_INSERTS 2000
#define RATE_SELECTS 5000

static struct error *
batch_insert_fn(struct db *db, void *aux)
{
    const int *base = aux;

    for (int i = 0; i < RATE_INSERTS; i++) {
        struct error *error = db_exec(
            db, "INSERT INTO perf (host, n) VALUES (?, ?)",
            DB_PARAMS(DB_STR("compute-1"), DB_INT(*base + i)), NULL);
        if (error) {
            return error;
        }
    }
    return NULL;
}

static void
test_statement_rates(void **state)
{
    CLEANUP(db_closep) struct db *db = test_open("test_db_misc");
    long long start, elapsed;
    int base = RATE_INSERTS;
    int64_t sum = 0;

    (void) state;
    exec(db, "CREATE TABLE perf (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,"
         " host VARCHAR(255) NOT NULL, n INT NOT NULL) ENGINE=InnoDB");

    start = now_ms();
    for (int i = 0; i < RATE_INSERTS; i++) {
        check(db_exec(db, "INSERT INTO perf (host, n) VALUES (?, ?)",
                      DB_PARAMS(DB_STR("compute-1"), DB_INT(i)), NULL),
              "insert");
    }
    elapsed = now_ms() - start;
    printf("# db rate: %d prepared INSERTs (autocommit) in %lld ms: "
           "%.0f/s\n", RATE_INSERTS, elapsed,
           RATE_INSERTS * 1000.0 / (double) (elapsed ? elapsed : 1));

    start = now_ms();
    check(db_txn_run(db, batch_insert_fn, &base), "batch");
    elapsed = now_ms() - start;
    printf("# db rate: %d prepared INSERTs in one transaction in %lld ms: "
           "%.0f/s\n", RATE_INSERTS, elapsed,
           RATE_INSERTS * 1000.0 / (double) (elapsed ? elapsed : 1));

    start = now_ms();
    for (int i = 0; i < RATE_SELECTS; i++) {
        CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
        check(db_query(db, "SELECT id, host, n FROM perf WHERE id = ?",
                       DB_PARAMS(DB_INT(1 + i % (2 * RATE_INSERTS))),
                       &rows), "select");
        assert_int_equal(db_rows_count(rows), 1);
        sum += db_rows_get_int64(rows, 0, 2);
    }
    elapsed = now_ms() - start;
    printf("# db rate: %d prepared point SELECTs in %lld ms: %.0f/s\n",
           RATE_SELECTS, elapsed,
           RATE_SELECTS * 1000.0 / (double) (elapsed ? elapsed : 1));
    fflush(stdout);
    assert_true(sum > 0);
    assert_int_equal(query_int(db, "SELECT COUNT(*) FROM perf",
                               DB_NO_PARAMS), 2 * RATE_INSERTS);
}

/* ---- nova-manage ----------------------------------------------------- */

struct manage_result {
    int status;
    char *out;
    char *err;
};

static char *
read_fd(int fd)
{
    size_t size = 0, cap = 4096;
    char *buf = xmalloc(cap + 1);
    ssize_t n;

    (void) lseek(fd, 0, SEEK_SET);
    while ((n = read(fd, buf + size, cap - size)) > 0) {
        size += (size_t) n;
        if (size == cap) {
            cap *= 2;
            buf = xrealloc(buf, cap + 1);
        }
    }
    buf[size] = '\0';
    return buf;
}

/* Runs nova-manage with 'args' (NULL-terminated) and collects its exit
 * status and output. */
static void
run_manage(const char *const *args, struct manage_result *ret)
{
    const char *builddir = getenv("top_builddir");
    AUTOFREE char *path = xasprintf("%s/api-cell/nova-manage",
                                    builddir ? builddir : TEST_DB_BUILDDIR);
    char out_path[] = "/tmp/test-db-out-XXXXXX";
    char err_path[] = "/tmp/test-db-err-XXXXXX";
    int out_fd = mkstemp(out_path);
    int err_fd = mkstemp(err_path);
    size_t n_args = 0;
    int status;

    assert_true(out_fd >= 0 && err_fd >= 0);
    (void) unlink(out_path);
    (void) unlink(err_path);
    while (args[n_args]) {
        n_args++;
    }
    AUTOFREE char **argv = xcalloc(n_args + 2, sizeof *argv);
    argv[0] = path;
    for (size_t i = 0; i < n_args; i++) {
        argv[i + 1] = (char *) args[i];
    }

    fflush(stdout);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(out_fd, STDOUT_FILENO);
        dup2(err_fd, STDERR_FILENO);
        execv(path, argv);
        _exit(127);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    ret->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
    ret->out = read_fd(out_fd);
    ret->err = read_fd(err_fd);
    close(out_fd);
    close(err_fd);
}

static void
test_nova_manage(void **state)
{
    AUTOFREE char *url = test_url("test_db_manage");
    AUTOFREE char *api_set = xasprintf("api_database.connection=%s", url);
    AUTOFREE char *cell_set = xasprintf("database.connection=%s", url);
    int latest = db_schema_latest(DB_SCHEMA_API);
    AUTOFREE char *upgraded = xasprintf("Upgraded the api database schema "
                                        "from version 0 to %d\n", latest);
    AUTOFREE char *up_to_date = xasprintf("The api database schema is up "
                                          "to date (version %d)\n", latest);
    AUTOFREE char *latest_line = xasprintf("%d\n", latest);
    const struct {
        const char *args[8];
        int status;
        const char *out;        /* Exact, or NULL for "". */
        const char *err;        /* Part of it, or NULL for "". */
    } cases[] = {
        { { "--set", api_set, "api_db", "version" }, 0, "0\n", NULL },
        { { "--set", api_set, "api_db", "sync" }, 0, upgraded, NULL },
        { { "--set", api_set, "api_db", "sync" }, 0, up_to_date, NULL },
        { { "--set", api_set, "--log-level", "warn", "api_db", "version" },
          0, latest_line, NULL },
        /* The cell commands refuse the API database. */
        { { "--set", cell_set, "db", "sync" }, 1, NULL,
          "nova-manage: Cannot upgrade the cell database schema: Database "
          "'test_db_manage' holds the 'api' schema, not the 'cell' schema" },
        { { "--set", cell_set, "db", "version" }, 1, NULL,
          "holds the 'api' schema" },
        { { "api_db", "sync" }, 1, NULL,
          "No database URL: set 'api_database.connection'" },
        { { "--set", "api_database.connection=mysql://nova:t0ps3cret@h:0/x",
            "api_db", "sync" }, 1, NULL, "port '0' is out of range" },
        /* Usage errors name the mistake. */
        { { "db", "synk" }, 2, NULL,
          "nova-manage: unknown command 'db synk'; see 'nova-manage "
          "--help'\n" },
        { { "dbx" }, 2, NULL, "unknown command 'dbx'" },
        { { "db" }, 2, NULL, "'db' needs a command: sync, version" },
        { { "api_db", "sync", "now" }, 2, NULL,
          "'api_db sync' takes no arguments, but 'now' was given" },
        { { NULL }, 2, NULL, "missing command" },
        { { "--frobnicate", "db", "sync" }, 2, NULL, "'--frobnicate'" },
        { { "--set", "no.such.key=1", "db", "sync" }, 2, NULL,
          "unknown key 'no.such.key'" },
        { { "--config", "/nonexistent/nova.yaml", "db", "version" }, 2,
          NULL, "/nonexistent/nova.yaml" },
        { { "--version" }, 0, "nova-manage (" PACKAGE_NAME ") "
          PACKAGE_VERSION "\n", NULL },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct manage_result r;

        run_manage(cases[i].args, &r);
        if (r.status != cases[i].status
            || strcmp(r.out, cases[i].out ? cases[i].out : "")
            || (cases[i].err ? !strstr(r.err, cases[i].err) : *r.err)
            || strstr(r.err, "t0ps3cret")) {
            fail_msg("case %zu (%s %s): status %d, stdout '%s', stderr "
                     "'%s'", i, cases[i].args[0] ? cases[i].args[0] : "",
                     cases[i].args[1] ? cases[i].args[1] : "", r.status,
                     r.out, r.err);
        }
        free(r.out);
        free(r.err);
    }

    /* --help lists the commands. */
    struct manage_result help;
    run_manage((const char *const[]) { "--help", NULL }, &help);
    assert_int_equal(help.status, 0);
    assert_non_null(strstr(help.out, "api_db sync"));
    assert_non_null(strstr(help.out, "db version"));
    assert_non_null(strstr(help.out, "database.connection"));
    free(help.out);
    free(help.err);
}

/* ---- Server restarts and outages (last: they disturb the server) ----- */

struct restart_txn {
    int runs;
};

/* Inserts a row; on the first run the server restarts in the middle. */
static struct error *
restart_txn_fn(struct db *db, void *aux_)
{
    struct restart_txn *aux = aux_;
    struct error *error;

    aux->runs++;
    error = db_exec(db, "INSERT INTO rs (name) VALUES (?)",
                    DB_PARAMS(DB_STR("in-txn")), NULL);
    if (error) {
        return error;
    }
    if (aux->runs == 1 && test_env_restart("mariadb")) {
        return error_new(ERROR_INTERNAL, "cannot restart the server");
    }
    return db_exec(db, "UPDATE rs SET name = ? WHERE name = ?",
                   DB_PARAMS(DB_STR("in-txn-done"), DB_STR("in-txn")), NULL);
}

static void
test_reconnect_after_restart(void **state)
{
    CLEANUP(db_closep) struct db *db = test_open("test_db_misc");
    struct insert_txn insert = { "after-restart", false, 0 };
    struct restart_txn restart = { 0 };
    struct db_stats before, stats;

    (void) state;
    exec(db, "CREATE TABLE rs (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,"
         " name VARCHAR(64) NOT NULL) ENGINE=InnoDB");
    assert_int_equal(query_int(db, "SELECT COUNT(*) FROM rs WHERE name = ?",
                               DB_PARAMS(DB_STR("x"))), 0);

    /* A statement after a restart: same connection object, cached
     * statement prepared again. */
    db_get_stats(db, &before);
    assert_int_equal(test_env_restart("mariadb"), 0);
    assert_int_equal(query_int(db, "SELECT COUNT(*) FROM rs WHERE name = ?",
                               DB_PARAMS(DB_STR("x"))), 0);
    db_get_stats(db, &stats);
    assert_int_equal(stats.n_reconnects, 1);
    assert_int_equal(stats.n_prepares, before.n_prepares + 1);

    /* A transaction started after a restart. */
    assert_int_equal(test_env_restart("mariadb"), 0);
    exec(db, "CREATE TABLE IF NOT EXISTS tx (id INT NOT NULL AUTO_INCREMENT"
         " PRIMARY KEY, name VARCHAR(64) NOT NULL) ENGINE=InnoDB");
    assert_int_equal(query_int(db, "SELECT 1", DB_NO_PARAMS), 1);
    db_get_stats(db, &stats);
    assert_int_equal(stats.n_reconnects, 2);
    assert_int_equal(test_env_restart("mariadb"), 0);
    check(db_txn_run(db, insert_txn_fn, &insert), "txn after restart");
    assert_int_equal(insert.runs, 1);
    db_get_stats(db, &stats);
    assert_int_equal(stats.n_reconnects, 3);

    /* A restart inside a transaction: rolled back, run again whole. */
    check(db_txn_run(db, restart_txn_fn, &restart), "txn across restart");
    assert_int_equal(restart.runs, 2);
    assert_int_equal(query_int(db, "SELECT COUNT(*) FROM rs", DB_NO_PARAMS),
                     1);
    assert_int_equal(query_int(db, "SELECT COUNT(*) FROM rs WHERE name = ?",
                               DB_PARAMS(DB_STR("in-txn-done"))), 1);
    db_get_stats(db, &stats);
    assert_int_equal(stats.n_reconnects, 4);
    assert_int_equal(stats.n_txn_retries, 1);

    /* A transaction opened by hand is not silently reconnected either:
     * the statement fails, and the one after it starts afresh. */
    exec(db, "START TRANSACTION");
    check(db_exec(db, "INSERT INTO rs (name) VALUES (?)",
                  DB_PARAMS(DB_STR("by-hand")), NULL), "insert by hand");
    assert_int_equal(test_env_restart("mariadb"), 0);
    CLEANUP(error_freep) struct error *error =
        db_exec(db, "INSERT INTO rs (name) VALUES (?)",
                DB_PARAMS(DB_STR("by-hand")), NULL);
    assert_message_contains(error, "Lost connection");
    assert_int_equal(error_kind(error), ERROR_UNAVAILABLE);
    assert_int_equal(query_int(db, "SELECT COUNT(*) FROM rs WHERE name = ?",
                               DB_PARAMS(DB_STR("by-hand"))), 0);
    db_get_stats(db, &stats);
    assert_int_equal(stats.n_reconnects, 5);
}

static void
test_server_down_fails_within_bound(void **state)
{
    CLEANUP(db_closep) struct db *db = test_open("test_db_misc");
    AUTOFREE char *url = test_url("test_db_misc");
    struct db *other = NULL;
    long long start, elapsed;

    (void) state;
    assert_int_equal(query_int(db, "SELECT 1", DB_NO_PARAMS), 1);
    assert_int_equal(test_env_stop("mariadb"), 0);

    start = now_ms();
    CLEANUP(error_freep) struct error *error =
        db_exec(db, "SELECT 1", DB_NO_PARAMS, NULL);
    elapsed = now_ms() - start;
    printf("# db: statement on a stopped server failed after %lld ms\n",
           elapsed);
    assert_message_contains(error, "could not reconnect in");
    assert_message_contains(error, "mysql://root:***@127.0.0.1:");
    assert_null(strstr(error_message(error), "rootpw"));
    assert_int_equal(error_kind(error), ERROR_UNAVAILABLE);
    assert_true(elapsed >= DB_RECONNECT_TIMEOUT_MS - 2000);
    assert_true(elapsed <= DB_RECONNECT_TIMEOUT_MS + 3000);

    /* Opening fails at once. */
    start = now_ms();
    CLEANUP(error_freep) struct error *open_error = db_open(url, &other);
    assert_message_contains(open_error, "Cannot connect to the database "
                            "'mysql://root:***@127.0.0.1:");
    assert_null(other);
    assert_true(now_ms() - start < 3000);

    /* Back up: the same connection object works again. */
    assert_int_equal(test_env_start("mariadb"), 0);
    assert_int_equal(query_int(db, "SELECT 2", DB_NO_PARAMS), 2);
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_migrate_from_empty_and_again),
        cmocka_unit_test(test_migrate_refuses_wrong_databases),
        cmocka_unit_test(test_migrate_refuses_newer_database),
        cmocka_unit_test(test_migrate_concurrently),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_long_values),
        cmocka_unit_test(test_statement_errors),
        cmocka_unit_test(test_statement_cache),
        cmocka_unit_test(test_txn_commit_and_rollback),
        cmocka_unit_test(test_txn_deadlock_is_retried),
        cmocka_unit_test(test_txn_lock_wait_timeout_is_retried),
        cmocka_unit_test(test_statement_rates),
        cmocka_unit_test(test_nova_manage),
        cmocka_unit_test(test_reconnect_after_restart),
        cmocka_unit_test(test_server_down_fails_within_bound),
    };
    int rc;

    test_env_require(argc, argv, "mariadb");
    db_library_init();
    rc = cmocka_run_group_tests_name("db", tests, group_setup,
                                     group_teardown);
    db_library_end();
    return rc;
}
