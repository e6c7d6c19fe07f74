/* db.h: MariaDB access with prepared statements, reconnects and retried
 * transactions.
 *
 * A 'struct db' is one connection to one database, opened from a URL (see
 * db-url.h).  Every statement is a prepared statement: values travel as
 * parameters, never inside the SQL text, and there is deliberately no
 * escaping function.  Statements are prepared once per connection and
 * kept in a bounded cache keyed by their SQL text, so the SQL given to
 * db_exec() and db_query() should be a constant (a string literal):
 *
 *     uint64_t n;
 *     err = db_exec(db, "UPDATE services SET disabled = ? WHERE host = ?",
 *                   DB_PARAMS(DB_BOOL(true), DB_STR(host)), &n);
 *
 *     CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
 *     err = db_query(db, "SELECT uuid, vcpus FROM instances WHERE host = ?",
 *                    DB_PARAMS(DB_STR(host)), &rows);
 *     for (size_t r = 0; !err && r < db_rows_count(rows); r++) {
 *         use(db_rows_get_str(rows, r, 0), db_rows_get_int64(rows, r, 1));
 *     }
 *
 * Failures of the server connection are handled here, not by callers:
 *
 *   - The connector's own auto-reconnect is off, because it silently
 *     loses an open transaction.  Instead a statement run outside a
 *     transaction that fails because the connection was lost (server
 *     restarted, connection killed, network cut) reconnects, with backoff,
 *     for up to DB_RECONNECT_TIMEOUT_MS in total, and runs again.  Cached
 *     statements are prepared again on the new connection.  Note that a
 *     write whose connection broke while the server was executing it may
 *     have been applied already; such writes should be idempotent (unique
 *     keys, conditional updates), as Nova's are.
 *
 *   - db_txn_run() runs a function between START TRANSACTION and COMMIT,
 *     rolls back when the function fails, and runs the whole function
 *     again (up to DB_TXN_MAX_ATTEMPTS times) when the transaction hit a
 *     deadlock, a lock wait timeout or a lost connection.  The function
 *     must therefore be safe to run again from the start: it may not keep
 *     side effects outside the database across attempts.
 *
 * Threads: a 'struct db' is NOT thread-safe.  Give each thread its own
 * connection (a pool hands out whole connections).  Call db_library_init()
 * in main() before starting threads and db_library_end() at exit after
 * every db_close(). */
#ifndef NOVA_DB_H
#define NOVA_DB_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "shared/compiler.h"
#include "shared/cleanup.h"

struct error;
struct db;
struct db_rows;

/* A lost connection is retried for at most this long per statement. */
#define DB_RECONNECT_TIMEOUT_MS 10000
/* Attempts at running a transaction function, the first one included. */
#define DB_TXN_MAX_ATTEMPTS 5
/* Prepared statements kept per connection.  The server allows
 * max_prepared_stmt_count (16382 by default) across all connections. */
#define DB_STMT_CACHE_SIZE 128
/* Longest SQL text accepted, in bytes. */
#define DB_MAX_SQL_SIZE 65536

/* ---- Parameters ------------------------------------------------------ */

enum db_value_type {
    DB_VALUE_NULL,
    DB_VALUE_INT,               /* 'u.i' */
    DB_VALUE_DOUBLE,            /* 'u.d' */
    DB_VALUE_STR,               /* 'u.bytes': text in the connection's
                                 * character set, may contain NUL bytes */
    DB_VALUE_BLOB,              /* 'u.bytes': raw bytes, for BLOB and
                                 * VARBINARY columns */
};

/* One statement parameter.  Strings and blobs are borrowed: they must stay
 * valid until the call that receives them returns.  Build values with the
 * DB_* macros below rather than by hand. */
struct db_value {
    enum db_value_type type;
    union {
        int64_t i;
        double d;
        struct {
            const void *data;
            size_t size;
        } bytes;
    } u;
};

static inline struct db_value
db_value_bytes_(enum db_value_type type, const void *data, size_t size)
{
    struct db_value v = { .type = DB_VALUE_NULL };

    if (data) {
        v.type = type;
        v.u.bytes.data = data;
        v.u.bytes.size = size;
    }
    return v;
}

static inline struct db_value
db_value_str_(const char *s)
{
    return db_value_bytes_(DB_VALUE_STR, s, s ? strlen(s) : 0);
}

#define DB_NULL ((struct db_value) { .type = DB_VALUE_NULL })
#define DB_INT(I) ((struct db_value) { .type = DB_VALUE_INT,           \
                                       .u.i = (int64_t) (I) })
#define DB_BOOL(B) DB_INT((B) ? 1 : 0)
#define DB_DOUBLE(D) ((struct db_value) { .type = DB_VALUE_DOUBLE,     \
                                          .u.d = (double) (D) })
/* A NUL-terminated string; a NULL pointer binds SQL NULL. */
#define DB_STR(S) db_value_str_(S)
/* 'N' bytes of text at 'S' (binary-safe); a NULL pointer binds SQL NULL. */
#define DB_STRN(S, N) db_value_bytes_(DB_VALUE_STR, (S), (N))
/* 'N' raw bytes at 'P'; a NULL pointer binds SQL NULL. */
#define DB_BLOB(P, N) db_value_bytes_(DB_VALUE_BLOB, (P), (N))

/* Expands to the two arguments 'params, n_params' for an array literal of
 * values, so the count can never disagree with the list:
 *     db_exec(db, sql, DB_PARAMS(DB_STR(a), DB_INT(b)), NULL) */
#define DB_PARAMS(...)                                                  \
    ((const struct db_value[]) { __VA_ARGS__ }),                        \
    (sizeof ((const struct db_value[]) { __VA_ARGS__ })                 \
     / sizeof (struct db_value))
/* The 'params, n_params' arguments of a statement without parameters. */
#define DB_NO_PARAMS NULL, 0

/* ---- Connections ----------------------------------------------------- */

/* Initialises the client library once per process.  Call it from main()
 * before starting threads; db_open() calls it too (it is idempotent). */
void db_library_init(void);

/* Releases the client library's global state.  Call it once at exit,
 * after the last db_close(), so that leak checkers stay quiet. */
void db_library_end(void);

/* Connects to the database named by 'url' (see db-url.h) and stores the
 * connection in '*ret_db', which the caller closes with db_close().  One
 * attempt: a server that is down is reported at once.  The session uses
 * sql_mode TRADITIONAL, time zone UTC and the URL's character set
 * (utf8mb4 by default); affected-row counts of UPDATE count matched rows,
 * not only changed ones (CLIENT_FOUND_ROWS).  Returns NULL on success or an
 * error naming the URL, password hidden. */
struct error *db_open(const char *url, struct db **ret_db) WARN_UNUSED;

/* Closes 'db' and frees its cached statements.  A transaction still open
 * is rolled back by the server.  Accepts NULL. */
void db_close(struct db *);
DEFINE_FREEP(struct db, db_close)

/* The connection's URL with the password replaced by "***", for logs and
 * messages.  Owned by 'db'. */
const char *db_url_redacted(const struct db *);

/* Turns the automatic reconnection of statements outside transactions on
 * (the default) or off, and returns the previous setting.  Session state
 * (named locks, user variables, temporary tables, session variables set
 * by the caller) does not survive a reconnect, so a caller that relies on
 * it turns reconnection off for that span and gets an ERROR_UNAVAILABLE
 * error instead. */
bool db_set_auto_reconnect(struct db *, bool enable);

/* ---- Statements ------------------------------------------------------ */

/* Runs 'sql' (INSERT, UPDATE, DELETE, DDL...) with the 'n_params' values
 * of 'params' bound to its '?' placeholders; the count must match the
 * placeholders exactly.  On success stores the number of affected rows in
 * '*ret_affected' if it is not NULL.  A result set, if the statement
 * returns one, is discarded.  Returns NULL on success or an error whose
 * message says which statement failed and why; duplicate keys and
 * foreign-key violations are ERROR_CONFLICT, lost connections that could
 * not be recovered ERROR_UNAVAILABLE, anything else ERROR_INTERNAL. */
struct error *db_exec(struct db *, const char *sql,
                      const struct db_value *params, size_t n_params,
                      uint64_t *ret_affected) WARN_UNUSED;

/* Like db_exec() for a statement that is run once in the life of the
 * process (schema changes): it is prepared, run and closed, never cached. */
struct error *db_exec_once(struct db *, const char *sql,
                           const struct db_value *params, size_t n_params,
                           uint64_t *ret_affected) WARN_UNUSED;

/* Runs the query 'sql' with 'params' (as for db_exec()) and stores its
 * whole result in '*ret_rows', which the caller frees with db_rows_free().
 * A statement without a result set yields zero rows and zero columns. */
struct error *db_query(struct db *, const char *sql,
                       const struct db_value *params, size_t n_params,
                       struct db_rows **ret_rows) WARN_UNUSED;

/* The AUTO_INCREMENT value generated by the last successful INSERT on
 * 'db', or 0. */
uint64_t db_last_insert_id(const struct db *);

/* ---- Transactions ---------------------------------------------------- */

/* A transaction body: runs statements on 'db' and returns NULL to commit
 * or an error to roll back.  'aux' is the caller's context. */
typedef struct error *db_txn_fn(struct db *db, void *aux);

/* Runs 'fn(db, aux)' inside a transaction and commits it.  When 'fn'
 * returns an error, rolls back and returns that error.  When a statement
 * of the transaction hit a deadlock, a lock wait timeout or a lost
 * connection, rolls back and runs 'fn' again from the start, up to
 * DB_TXN_MAX_ATTEMPTS times in all, logging each retry; after such a
 * failure any further statement of the same attempt fails at once, so
 * 'fn' cannot go on outside the transaction by mistake.  If the connection
 * is lost during COMMIT itself the outcome is unknown, and the function
 * returns an ERROR_UNAVAILABLE error saying so rather than running 'fn' a
 * second time.  Called from inside 'fn', it joins the outer transaction
 * (runs the inner function directly). */
struct error *db_txn_run(struct db *, db_txn_fn *fn, void *aux)
    WARN_UNUSED;

/* True while a db_txn_run() function is running on 'db'. */
bool db_in_txn(const struct db *);

/* ---- Results --------------------------------------------------------- */

/* A buffered result: all rows, each cell a byte string (numbers in their
 * decimal text form, DATETIME as "YYYY-MM-DD HH:MM:SS[.ffffff]").  The
 * whole result lives in one allocation for the cells plus one arena for
 * the bytes.  Row and column indexes must be in range (checked by
 * assertions: an index out of range is a bug in the caller). */
size_t db_rows_count(const struct db_rows *);
size_t db_rows_n_columns(const struct db_rows *);
/* The column's name (or alias) in the SELECT list. */
const char *db_rows_column_name(const struct db_rows *, size_t col);
bool db_rows_is_null(const struct db_rows *, size_t row, size_t col);
/* The cell as a NUL-terminated string, or NULL for SQL NULL.  Owned by
 * 'rows'.  Binary values may contain NUL bytes: use db_rows_get_size(). */
const char *db_rows_get_str(const struct db_rows *, size_t row, size_t col);
/* The cell's size in bytes (0 for SQL NULL). */
size_t db_rows_get_size(const struct db_rows *, size_t row, size_t col);
/* The cell as a number: 0 for SQL NULL.  The column must hold integers
 * (respectively numbers); anything else is a bug in the caller. */
int64_t db_rows_get_int64(const struct db_rows *, size_t row, size_t col);
double db_rows_get_double(const struct db_rows *, size_t row, size_t col);
bool db_rows_get_bool(const struct db_rows *, size_t row, size_t col);
void db_rows_free(struct db_rows *);
DEFINE_FREEP(struct db_rows, db_rows_free)

/* ---- Statistics ------------------------------------------------------ */

/* Counters of one connection since db_open(), for tests and monitoring. */
struct db_stats {
    uint64_t n_executes;        /* statements run (attempts included) */
    uint64_t n_prepares;        /* statements prepared on the server */
    uint64_t n_evictions;       /* statements dropped from the cache */
    uint64_t n_reconnects;      /* successful reconnections */
    uint64_t n_txn_retries;     /* transaction functions run again */
};

void db_get_stats(const struct db *, struct db_stats *ret_stats);

#endif /* NOVA_DB_H */
