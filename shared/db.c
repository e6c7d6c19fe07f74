/* db.c: MariaDB access over mariadb-connector-c (see db.h).
 *
 * Statement cache.  Each connection keeps up to DB_STMT_CACHE_SIZE prepared
 * statements in a hash table keyed by SQL text, with an LRU list to pick
 * the one to drop when it is full.  A cached entry owns its parameter and
 * result bind arrays and a scratch buffer for fetched columns, so running
 * a cached statement allocates nothing but the result it returns.
 *
 * Results.  Every result set is buffered (mysql_stmt_store_result with
 * STMT_ATTR_UPDATE_MAX_LENGTH, so the longest value of each column is known
 * before the first fetch).  Columns are fetched as strings into the scratch
 * buffer and copied into one growing arena per result; the cells (offset,
 * size, NULL flag) sit in the same allocation as the result header.
 *
 * Failures.  A failed call yields the connector's error number, and the
 * error text is kept in 'db->failure' until it becomes a 'struct error'.
 * Lost connections are recovered here (see db.h): the connection is
 * closed, which invalidates every statement handle, and a new one is made
 * with backoff until DB_RECONNECT_TIMEOUT_MS has passed; cached entries
 * keep their SQL and are prepared again on first use. */
#include <config.h>
#include "shared/db.h"

#include <assert.h>
#include <errno.h>
#include <errmsg.h>
#include <limits.h>
#include <mysql.h>
#include <mysqld_error.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shared/db-url.h"
#include "shared/error.h"
#include "shared/log.h"
#include "shared/xalloc.h"

LOG_MODULE("db");

/* Hash buckets of the statement cache: a power of two. */
#define DB_STMT_CACHE_BUCKETS 256
/* Connection attempts: timeout of one attempt, delays between attempts,
 * and a cap on their number on top of DB_RECONNECT_TIMEOUT_MS. */
#define DB_CONNECT_TIMEOUT_S 5
#define DB_RECONNECT_FIRST_DELAY_MS 50
#define DB_RECONNECT_MAX_DELAY_MS 1000
#define DB_RECONNECT_MAX_ATTEMPTS 40
/* A read or write that takes longer means the server is unreachable.  It
 * must exceed the longest legitimate statement (innodb_lock_wait_timeout
 * is 50 s by default; a schema change on a big table takes longer). */
#define DB_READ_TIMEOUT_S 300
/* First delay before running a deadlocked transaction again; it doubles
 * with each attempt and gets a random part of the same size. */
#define DB_TXN_RETRY_DELAY_MS 20
/* Bytes of fetch buffer for a column whose longest value is not known
 * as text (numbers, dates). */
#define DB_MIN_COLUMN_BUFFER 64
/* Initial arena of a result, capped so that one long value in a column
 * does not make every row reserve that much. */
#define DB_MAX_INITIAL_ARENA (64 * 1024)
/* Characters of SQL quoted in error messages. */
#define DB_SQL_EXCERPT_LENGTH 72

/* Set for the session on every (re)connection: Nova's strict SQL mode and
 * UTC for NOW() and CURRENT_TIMESTAMP. */
#define DB_SESSION_INIT_SQL \
    "SET SESSION sql_mode = 'TRADITIONAL', time_zone = '+00:00'"

/* Pseudo error number: wrong number of parameters for a statement. */
#define DB_ERR_PARAM_COUNT 1u

struct db_stmt {
    char *sql;
    size_t sql_size;
    uint32_t hash;
    bool text;                  /* Run with the text protocol (no
                                 * parameters, no result): transaction
                                 * control only. */
    MYSQL_STMT *handle;         /* NULL until prepared on the current
                                 * connection. */

    unsigned int n_params;
    MYSQL_BIND *params;
    unsigned long *param_lengths;

    unsigned int n_columns;
    MYSQL_BIND *columns;
    unsigned long *column_lengths;
    my_bool *column_nulls;
    my_bool *column_errors;
    char *buffer;               /* Scratch space 'columns' point into. */
    size_t buffer_size;

    struct db_stmt *hash_next;
    struct db_stmt *lru_prev;   /* Towards the most recently used. */
    struct db_stmt *lru_next;
};

struct db_failure {
    unsigned int code;
    char sqlstate[SQLSTATE_LENGTH + 1];
    char message[MYSQL_ERRMSG_SIZE];
};

struct db {
    MYSQL *mysql;               /* NULL after a failed reconnection. */
    struct db_url *url;
    char *url_redacted;
    bool auto_reconnect;
    bool in_txn;                /* Inside db_txn_run()'s function. */
    bool txn_retry;             /* The current attempt must be re-run. */
    uint64_t last_insert_id;
    unsigned int seed;          /* For retry jitter (rand_r). */
    struct db_failure failure;  /* The last failure. */

    struct db_stmt *buckets[DB_STMT_CACHE_BUCKETS];
    struct db_stmt *lru_head;   /* Most recently used. */
    struct db_stmt *lru_tail;
    size_t n_cached;

    struct db_stats stats;
};

struct db_cell {
    size_t offset;              /* Into the arena. */
    size_t size;
    bool is_null;
};

struct db_rows {
    size_t n_rows;
    size_t n_columns;
    char *arena;
    size_t arena_used;
    size_t arena_size;
    /* (n_rows + 1) * n_columns cells: row 0 holds the column names. */
    struct db_cell cells[];
};

/* ---- Small helpers --------------------------------------------------- */

static long long
db_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
db_sleep_ms(long long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

    while (nanosleep(&ts, &ts) && errno == EINTR) {
        continue;
    }
}

static void
db_set_failure(struct db *db, unsigned int code, const char *sqlstate,
               const char *message)
{
    db->failure.code = code;
    snprintf(db->failure.sqlstate, sizeof db->failure.sqlstate, "%s",
             sqlstate && *sqlstate ? sqlstate : "HY000");
    snprintf(db->failure.message, sizeof db->failure.message, "%s",
             message && *message ? message : "unknown error");
}

static unsigned int
db_fail_mysql(struct db *db, MYSQL *mysql)
{
    unsigned int code = mysql_errno(mysql);

    if (!code) {
        code = CR_UNKNOWN_ERROR;
    }
    db_set_failure(db, code, mysql_sqlstate(mysql), mysql_error(mysql));
    return code;
}

static unsigned int
db_fail_stmt(struct db *db, MYSQL_STMT *handle)
{
    unsigned int code = mysql_stmt_errno(handle);

    if (!code) {
        code = CR_UNKNOWN_ERROR;
    }
    db_set_failure(db, code, mysql_stmt_sqlstate(handle),
                   mysql_stmt_error(handle));
    return code;
}

/* Errors after which the connection is unusable and a new one is needed.
 * 2014 (commands out of sync) is included: only a new connection restores
 * a sane protocol state. */
static bool
db_code_is_connection_lost(unsigned int code)
{
    switch (code) {
    case CR_CONNECTION_ERROR:
    case CR_CONN_HOST_ERROR:
    case CR_SERVER_GONE_ERROR:
    case CR_SERVER_LOST:
    case CR_COMMANDS_OUT_OF_SYNC:
    case CR_SERVER_LOST_EXTENDED:
    case CR_ERR_NET_READ:
    case CR_ERR_NET_WRITE:
    case ER_CONNECTION_KILLED:
    case ER_SERVER_SHUTDOWN:
    case ER_ABORTING_CONNECTION:
    case ER_NEW_ABORTING_CONNECTION:
        return true;
    default:
        return false;
    }
}

static enum error_kind
db_code_to_kind(unsigned int code)
{
    switch (code) {
    case ER_DUP_ENTRY:
    case ER_DUP_KEY:
    case ER_ROW_IS_REFERENCED:
    case ER_ROW_IS_REFERENCED_2:
    case ER_NO_REFERENCED_ROW:
    case ER_NO_REFERENCED_ROW_2:
        return ERROR_CONFLICT;
    case ER_LOCK_DEADLOCK:
    case ER_LOCK_WAIT_TIMEOUT:
        return ERROR_UNAVAILABLE;
    default:
        return db_code_is_connection_lost(code) ? ERROR_UNAVAILABLE
                                                : ERROR_INTERNAL;
    }
}

/* Writes at most DB_SQL_EXCERPT_LENGTH characters of 'sql', with runs of
 * white space collapsed, into 'buf'. */
static void
db_sql_excerpt(const char *sql, char *buf, size_t size)
{
    size_t n = 0;
    bool space = false;

    assert(size > DB_SQL_EXCERPT_LENGTH + 4);
    for (const char *c = sql; *c && n < DB_SQL_EXCERPT_LENGTH; c++) {
        if (*c == ' ' || *c == '\n' || *c == '\t' || *c == '\r') {
            space = n > 0;
            continue;
        }
        if (space) {
            buf[n++] = ' ';
            space = false;
        }
        buf[n++] = *c;
    }
    if (n >= DB_SQL_EXCERPT_LENGTH) {
        memcpy(buf + n, "...", 3);
        n += 3;
    }
    buf[n] = '\0';
}

/* The error for the failure recorded in 'db' while running 'sql'. */
static struct error *
db_statement_error(const struct db *db, const char *sql)
{
    char excerpt[DB_SQL_EXCERPT_LENGTH + 8];

    db_sql_excerpt(sql, excerpt, sizeof excerpt);
    return error_new(db_code_to_kind(db->failure.code),
                     "Database statement '%s' failed: %s (error %u, "
                     "SQLSTATE %s)", excerpt, db->failure.message,
                     db->failure.code, db->failure.sqlstate);
}

/* True if the server holds an open transaction for this session, whether
 * db_txn_run() opened it or a caller did by hand. */
static bool
db_in_server_txn(const struct db *db)
{
    return db->in_txn
           || (db->mysql && (db->mysql->server_status
                             & SERVER_STATUS_IN_TRANS));
}

/* ---- Library and connections ----------------------------------------- */

static pthread_once_t db_library_once = PTHREAD_ONCE_INIT;

static void
db_library_init_once(void)
{
    if (mysql_library_init(0, NULL, NULL)) {
        LOG_ERR("Cannot initialise the MariaDB client library");
        abort();
    }
}

void
db_library_init(void)
{
    pthread_once(&db_library_once, db_library_init_once);
}

void
db_library_end(void)
{
    mysql_library_end();
}

/* Makes one connection attempt that may take 'timeout_s' seconds.  Returns
 * 0 and stores the connection in '*ret_mysql', or the error number with
 * the details in 'db->failure'. */
static unsigned int
db_connect_once(struct db *db, unsigned int timeout_s, MYSQL **ret_mysql)
{
    const struct db_url *url = db->url;
    MYSQL *mysql = mysql_init(NULL);
    unsigned int read_timeout = DB_READ_TIMEOUT_S;
    unsigned int protocol = (url->unix_socket ? MYSQL_PROTOCOL_SOCKET
                                              : MYSQL_PROTOCOL_TCP);
    my_bool off = 0, on = 1;
    unsigned int code;

    if (!mysql) {
        db_set_failure(db, CR_OUT_OF_MEMORY, NULL,
                       "cannot allocate a connection handle");
        return CR_OUT_OF_MEMORY;
    }
    /* Auto-reconnect stays off: it would silently drop an open
     * transaction (see db.h). */
    if (mysql_optionsv(mysql, MYSQL_OPT_RECONNECT, &off)
        || mysql_optionsv(mysql, MYSQL_OPT_CONNECT_TIMEOUT, &timeout_s)
        || mysql_optionsv(mysql, MYSQL_OPT_READ_TIMEOUT, &read_timeout)
        || mysql_optionsv(mysql, MYSQL_OPT_WRITE_TIMEOUT, &read_timeout)
        || mysql_optionsv(mysql, MYSQL_REPORT_DATA_TRUNCATION, &on)
        || mysql_optionsv(mysql, MYSQL_OPT_PROTOCOL, &protocol)
        || mysql_optionsv(mysql, MYSQL_SET_CHARSET_NAME, url->charset)
        || mysql_optionsv(mysql, MYSQL_INIT_COMMAND, DB_SESSION_INIT_SQL)) {
        code = db_fail_mysql(db, mysql);
        mysql_close(mysql);
        return code;
    }
    if (!mysql_real_connect(mysql, url->host, url->user, url->password,
                            url->database, url->port, url->unix_socket,
                            CLIENT_FOUND_ROWS)) {
        code = db_fail_mysql(db, mysql);
        mysql_close(mysql);
        return code;
    }
    *ret_mysql = mysql;
    return 0;
}

static void
db_stmt_close_handle(struct db_stmt *st)
{
    if (st->handle) {
        mysql_stmt_close(st->handle);
        st->handle = NULL;
    }
}

/* Closes the connection.  mysql_close() first, so that every statement
 * handle is invalidated and closing it afterwards sends nothing. */
static void
db_disconnect(struct db *db)
{
    if (db->mysql) {
        mysql_close(db->mysql);
        db->mysql = NULL;
    }
    for (struct db_stmt *st = db->lru_head; st; st = st->lru_next) {
        db_stmt_close_handle(st);
    }
}

/* Replaces the connection of 'db' with a new one, trying until
 * 'deadline_ms' (CLOCK_MONOTONIC). */
static struct error *
db_reconnect(struct db *db, long long deadline_ms)
{
    long long start = db_now_ms();
    long long delay = DB_RECONNECT_FIRST_DELAY_MS;

    db_disconnect(db);
    for (int attempt = 1; ; attempt++) {
        long long remaining = deadline_ms - db_now_ms();
        unsigned int timeout_s = DB_CONNECT_TIMEOUT_S;
        MYSQL *mysql;

        if (remaining < (long long) timeout_s * 1000) {
            timeout_s = remaining > 1000 ? (unsigned int) (remaining / 1000)
                                         : 1;
        }
        if (!db_connect_once(db, timeout_s, &mysql)) {
            db->mysql = mysql;
            db->stats.n_reconnects++;
            LOG_WARN_RL("Reconnected to the database '%s' (attempt %d, "
                        "%.1f s)", db->url_redacted, attempt,
                        (double) (db_now_ms() - start) / 1000.0);
            return NULL;
        }
        LOG_DBG("Reconnection attempt %d to '%s' failed: %s (error %u)",
                attempt, db->url_redacted, db->failure.message,
                db->failure.code);
        if (db_now_ms() + delay >= deadline_ms
            || attempt >= DB_RECONNECT_MAX_ATTEMPTS) {
            return error_new(ERROR_UNAVAILABLE,
                             "Lost the connection to the database '%s' and "
                             "could not reconnect in %.1f s (%d attempts): "
                             "%s (error %u)", db->url_redacted,
                             (double) (db_now_ms() - start) / 1000.0,
                             attempt, db->failure.message,
                             db->failure.code);
        }
        db_sleep_ms(delay);
        delay = delay * 2 > DB_RECONNECT_MAX_DELAY_MS
                ? DB_RECONNECT_MAX_DELAY_MS : delay * 2;
    }
}

struct error *
db_open(const char *url, struct db **ret_db)
{
    CLEANUP(db_closep) struct db *db = NULL;
    struct db_url *parsed;
    struct error *error;

    error = db_url_parse(url, &parsed);
    if (error) {
        return error;
    }
    db_library_init();

    db = xzalloc(sizeof *db);
    db->url = parsed;
    db->url_redacted = db_url_redact(url);
    db->auto_reconnect = true;
    db->seed = (unsigned int) db_now_ms() ^ (unsigned int) (uintptr_t) db;
    if (db_connect_once(db, DB_CONNECT_TIMEOUT_S, &db->mysql)) {
        return error_new(db_code_is_connection_lost(db->failure.code)
                         ? ERROR_UNAVAILABLE : ERROR_INTERNAL,
                         "Cannot connect to the database '%s': %s "
                         "(error %u)", db->url_redacted,
                         db->failure.message, db->failure.code);
    }
    LOG_DBG("Connected to '%s'", db->url_redacted);
    *ret_db = TAKE_PTR(db);
    return NULL;
}

static void db_stmt_free(struct db_stmt *);

void
db_close(struct db *db)
{
    if (!db) {
        return;
    }
    db_disconnect(db);
    for (struct db_stmt *st = db->lru_head, *next; st; st = next) {
        next = st->lru_next;
        db_stmt_free(st);
    }
    db_url_free(db->url);
    free(db->url_redacted);
    free(db);
}

const char *
db_url_redacted(const struct db *db)
{
    return db->url_redacted;
}

bool
db_set_auto_reconnect(struct db *db, bool enable)
{
    bool old = db->auto_reconnect;

    db->auto_reconnect = enable;
    return old;
}

uint64_t
db_last_insert_id(const struct db *db)
{
    return db->last_insert_id;
}

bool
db_in_txn(const struct db *db)
{
    return db->in_txn;
}

void
db_get_stats(const struct db *db, struct db_stats *ret_stats)
{
    *ret_stats = db->stats;
}

/* ---- Statement cache ------------------------------------------------- */

static uint32_t
db_hash_sql(const char *sql, size_t size)
{
    uint32_t hash = 2166136261u;           /* FNV-1a */

    for (size_t i = 0; i < size; i++) {
        hash = (hash ^ (unsigned char) sql[i]) * 16777619u;
    }
    return hash;
}

static void
db_stmt_free_binds(struct db_stmt *st)
{
    free(st->params);
    free(st->param_lengths);
    free(st->columns);
    free(st->column_lengths);
    free(st->column_nulls);
    free(st->column_errors);
    free(st->buffer);
    st->params = NULL;
    st->param_lengths = NULL;
    st->columns = NULL;
    st->column_lengths = NULL;
    st->column_nulls = NULL;
    st->column_errors = NULL;
    st->buffer = NULL;
    st->buffer_size = 0;
    st->n_params = 0;
    st->n_columns = 0;
}

static void
db_stmt_free(struct db_stmt *st)
{
    if (st) {
        db_stmt_close_handle(st);
        db_stmt_free_binds(st);
        free(st->sql);
        free(st);
    }
}

static void
db_lru_unlink(struct db *db, struct db_stmt *st)
{
    if (st->lru_prev) {
        st->lru_prev->lru_next = st->lru_next;
    } else {
        db->lru_head = st->lru_next;
    }
    if (st->lru_next) {
        st->lru_next->lru_prev = st->lru_prev;
    } else {
        db->lru_tail = st->lru_prev;
    }
    st->lru_prev = st->lru_next = NULL;
}

static void
db_lru_push_front(struct db *db, struct db_stmt *st)
{
    st->lru_prev = NULL;
    st->lru_next = db->lru_head;
    if (db->lru_head) {
        db->lru_head->lru_prev = st;
    } else {
        db->lru_tail = st;
    }
    db->lru_head = st;
}

static void
db_cache_evict(struct db *db, struct db_stmt *st)
{
    struct db_stmt **p = &db->buckets[st->hash & (DB_STMT_CACHE_BUCKETS - 1)];

    while (*p != st) {
        p = &(*p)->hash_next;
    }
    *p = st->hash_next;
    db_lru_unlink(db, st);
    db->n_cached--;
    db->stats.n_evictions++;
    LOG_DBG("Dropping a prepared statement from the cache of '%s'",
            db->url_redacted);
    db_stmt_free(st);
}

/* Returns the cache entry for 'sql', creating it (unprepared) if needed,
 * and marks it most recently used. */
static struct db_stmt *
db_cache_get(struct db *db, const char *sql, size_t size)
{
    uint32_t hash = db_hash_sql(sql, size);
    struct db_stmt **bucket = &db->buckets[hash & (DB_STMT_CACHE_BUCKETS - 1)];
    struct db_stmt *st;

    for (st = *bucket; st; st = st->hash_next) {
        if (st->hash == hash && st->sql_size == size
            && !memcmp(st->sql, sql, size)) {
            if (db->lru_head != st) {
                db_lru_unlink(db, st);
                db_lru_push_front(db, st);
            }
            return st;
        }
    }

    if (db->n_cached >= DB_STMT_CACHE_SIZE) {
        db_cache_evict(db, db->lru_tail);
    }
    st = xzalloc(sizeof *st);
    st->sql = xstrndup(sql, size);
    st->sql_size = size;
    st->hash = hash;
    st->hash_next = *bucket;
    *bucket = st;
    db_lru_push_front(db, st);
    db->n_cached++;
    return st;
}

/* ---- Running one statement ------------------------------------------- */

/* Prepares 'st' on the current connection and sizes its bind arrays.
 * Returns 0 or an error number. */
static unsigned int
db_stmt_prepare(struct db *db, struct db_stmt *st)
{
    MYSQL_STMT *handle = mysql_stmt_init(db->mysql);
    my_bool on = 1;
    unsigned int code;

    if (!handle) {
        return db_fail_mysql(db, db->mysql);
    }
    if (mysql_stmt_attr_set(handle, STMT_ATTR_UPDATE_MAX_LENGTH, &on)
        || mysql_stmt_prepare(handle, st->sql, st->sql_size)) {
        code = db_fail_stmt(db, handle);
        mysql_stmt_close(handle);
        return code;
    }
    db->stats.n_prepares++;

    unsigned int n_params = (unsigned int) mysql_stmt_param_count(handle);
    unsigned int n_columns = mysql_stmt_field_count(handle);
    if (!st->params || n_params != st->n_params
        || n_columns != st->n_columns) {
        db_stmt_free_binds(st);
        st->n_params = n_params;
        st->params = xcalloc(n_params, sizeof *st->params);
        st->param_lengths = xcalloc(n_params, sizeof *st->param_lengths);
        st->n_columns = n_columns;
        st->columns = xcalloc(n_columns, sizeof *st->columns);
        st->column_lengths = xcalloc(n_columns, sizeof *st->column_lengths);
        st->column_nulls = xcalloc(n_columns, sizeof *st->column_nulls);
        st->column_errors = xcalloc(n_columns, sizeof *st->column_errors);
    }
    st->handle = handle;
    return 0;
}

static void
db_stmt_bind_params(struct db_stmt *st, const struct db_value *params)
{
    for (unsigned int i = 0; i < st->n_params; i++) {
        const struct db_value *v = &params[i];
        MYSQL_BIND *b = &st->params[i];

        memset(b, 0, sizeof *b);
        switch (v->type) {
        case DB_VALUE_NULL:
            b->buffer_type = MYSQL_TYPE_NULL;
            break;
        case DB_VALUE_INT:
            b->buffer_type = MYSQL_TYPE_LONGLONG;
            b->buffer = (void *) &v->u.i;
            break;
        case DB_VALUE_DOUBLE:
            b->buffer_type = MYSQL_TYPE_DOUBLE;
            b->buffer = (void *) &v->u.d;
            break;
        case DB_VALUE_STR:
        case DB_VALUE_BLOB:
            b->buffer_type = (v->type == DB_VALUE_STR ? MYSQL_TYPE_STRING
                                                      : MYSQL_TYPE_BLOB);
            b->buffer = (void *) v->u.bytes.data;
            b->buffer_length = v->u.bytes.size;
            st->param_lengths[i] = v->u.bytes.size;
            b->length = &st->param_lengths[i];
            break;
        default:
            /* Values are built by the DB_* macros: a bug otherwise. */
            assert(!"unknown db_value type");
            b->buffer_type = MYSQL_TYPE_NULL;
            break;
        }
    }
}

/* Reserves 'size' bytes in the arena of 'rows' and returns their offset. */
static size_t
db_rows_reserve(struct db_rows *rows, size_t size)
{
    size_t offset = rows->arena_used;

    if (rows->arena_size - rows->arena_used < size) {
        size_t new_size = rows->arena_size ? rows->arena_size : 256;
        while (new_size - rows->arena_used < size) {
            if (new_size > SIZE_MAX / 2) {
                abort();
            }
            new_size *= 2;
        }
        rows->arena = xrealloc(rows->arena, new_size);
        rows->arena_size = new_size;
    }
    rows->arena_used += size;
    return offset;
}

static struct db_cell *
db_rows_cell(const struct db_rows *rows, size_t row, size_t col)
{
    /* Row 0 of the cells holds the column names. */
    return (struct db_cell *) &rows->cells[(row + 1) * rows->n_columns
                                           + col];
}

static void
db_rows_put(struct db_rows *rows, struct db_cell *cell, const char *data,
            size_t size)
{
    size_t offset = db_rows_reserve(rows, size + 1);

    memcpy(rows->arena + offset, data, size);
    rows->arena[offset + size] = '\0';
    cell->offset = offset;
    cell->size = size;
    cell->is_null = false;
}

static bool
db_field_is_text(enum enum_field_types type)
{
    switch (type) {
    case MYSQL_TYPE_VARCHAR:
    case MYSQL_TYPE_VAR_STRING:
    case MYSQL_TYPE_STRING:
    case MYSQL_TYPE_TINY_BLOB:
    case MYSQL_TYPE_MEDIUM_BLOB:
    case MYSQL_TYPE_LONG_BLOB:
    case MYSQL_TYPE_BLOB:
    case MYSQL_TYPE_JSON:
    case MYSQL_TYPE_NEWDECIMAL:
    case MYSQL_TYPE_DECIMAL:
        return true;
    default:
        return false;
    }
}

/* Sets up the result binds of 'st' for the stored result and binds them.
 * Returns 0 or an error number. */
static unsigned int
db_stmt_bind_columns(struct db *db, struct db_stmt *st,
                     const MYSQL_FIELD *fields)
{
    size_t total = 0;

    for (unsigned int i = 0; i < st->n_columns; i++) {
        size_t need = fields[i].max_length;
        if (!db_field_is_text(fields[i].type)
            && need < DB_MIN_COLUMN_BUFFER) {
            need = DB_MIN_COLUMN_BUFFER;
        }
        total += need + 1;
    }
    if (total > st->buffer_size) {
        free(st->buffer);
        st->buffer = xmalloc(total);
        st->buffer_size = total;
    }

    size_t offset = 0;
    for (unsigned int i = 0; i < st->n_columns; i++) {
        MYSQL_BIND *b = &st->columns[i];
        size_t need = fields[i].max_length;
        if (!db_field_is_text(fields[i].type)
            && need < DB_MIN_COLUMN_BUFFER) {
            need = DB_MIN_COLUMN_BUFFER;
        }
        memset(b, 0, sizeof *b);
        b->buffer_type = MYSQL_TYPE_STRING;
        b->buffer = st->buffer + offset;
        b->buffer_length = need + 1;
        b->length = &st->column_lengths[i];
        b->is_null = &st->column_nulls[i];
        b->error = &st->column_errors[i];
        offset += need + 1;
    }
    if (mysql_stmt_bind_result(st->handle, st->columns)) {
        return db_fail_stmt(db, st->handle);
    }
    return 0;
}

/* Fetches the stored result of 'st' into a new 'struct db_rows'.  Returns
 * 0 or an error number. */
static unsigned int
db_stmt_fetch_rows(struct db *db, struct db_stmt *st,
                   struct db_rows **ret_rows)
{
    MYSQL_STMT *handle = st->handle;
    const MYSQL_FIELD *fields = mariadb_stmt_fetch_fields(handle);
    size_t n_columns = st->n_columns;
    uint64_t n_rows = mysql_stmt_num_rows(handle);
    struct db_rows *rows;
    unsigned int code;

    if (n_rows >= SIZE_MAX / sizeof (struct db_cell) / (n_columns + 1) - 1) {
        db_set_failure(db, CR_OUT_OF_MEMORY, NULL, "result is too large");
        return CR_OUT_OF_MEMORY;
    }
    rows = xzalloc(sizeof *rows
                   + (n_rows + 1) * n_columns * sizeof (struct db_cell));
    rows->n_columns = n_columns;

    size_t estimate = 0;
    for (size_t i = 0; i < n_columns; i++) {
        estimate += fields[i].name_length + 1
                    + (fields[i].max_length + 1) * n_rows;
    }
    if (estimate > DB_MAX_INITIAL_ARENA) {
        estimate = DB_MAX_INITIAL_ARENA;
    }
    if (estimate) {
        rows->arena = xmalloc(estimate);
        rows->arena_size = estimate;
    }
    for (size_t i = 0; i < n_columns; i++) {
        db_rows_put(rows, &rows->cells[i], fields[i].name,
                    fields[i].name_length);
    }

    code = db_stmt_bind_columns(db, st, fields);
    for (uint64_t r = 0; !code && r < n_rows; r++) {
        int rc = mysql_stmt_fetch(handle);

        if (rc == MYSQL_NO_DATA) {
            break;
        } else if (rc == 1) {
            code = db_fail_stmt(db, handle);
            break;
        }
        for (size_t i = 0; i < n_columns; i++) {
            struct db_cell *cell = db_rows_cell(rows, (size_t) r, i);
            size_t size = st->column_lengths[i];

            if (st->column_nulls[i]) {
                cell->is_null = true;
            } else if (rc == MYSQL_DATA_TRUNCATED && st->column_errors[i]) {
                /* Longer than 'max_length' said: fetch it again, straight
                 * into the arena. */
                size_t offset = db_rows_reserve(rows, size + 1);
                unsigned long length = 0;
                my_bool is_null = 0, error = 0;
                MYSQL_BIND b;

                memset(&b, 0, sizeof b);
                b.buffer_type = MYSQL_TYPE_STRING;
                b.buffer = rows->arena + offset;
                b.buffer_length = size + 1;
                b.length = &length;
                b.is_null = &is_null;
                b.error = &error;
                if (mysql_stmt_fetch_column(handle, &b, (unsigned int) i,
                                            0)) {
                    code = db_fail_stmt(db, handle);
                    break;
                }
                rows->arena[offset + size] = '\0';
                cell->offset = offset;
                cell->size = size;
            } else {
                db_rows_put(rows, cell, st->columns[i].buffer, size);
            }
        }
        rows->n_rows = (size_t) r + 1;
    }
    if (code) {
        db_rows_free(rows);
        return code;
    }
    *ret_rows = rows;
    return 0;
}

/* Runs 'st' once on the current connection.  Returns 0 or an error number
 * (DB_ERR_PARAM_COUNT for a parameter count mismatch). */
static unsigned int
db_stmt_run(struct db *db, struct db_stmt *st,
            const struct db_value *params, size_t n_params,
            struct db_rows **ret_rows, uint64_t *ret_affected)
{
    unsigned int code;

    if (!db->mysql) {
        db_set_failure(db, CR_SERVER_GONE_ERROR, NULL,
                       "not connected (the connection was lost)");
        return CR_SERVER_GONE_ERROR;
    }
    db->stats.n_executes++;
    if (st->text) {
        if (mysql_real_query(db->mysql, st->sql, st->sql_size)) {
            return db_fail_mysql(db, db->mysql);
        }
        *ret_affected = 0;
        return 0;
    }

    if (!st->handle) {
        code = db_stmt_prepare(db, st);
        if (code) {
            return code;
        }
    }
    if (n_params != st->n_params) {
        char message[128];

        snprintf(message, sizeof message, "the statement has %u "
                 "placeholders but %zu values were given", st->n_params,
                 n_params);
        db_set_failure(db, DB_ERR_PARAM_COUNT, NULL, message);
        return DB_ERR_PARAM_COUNT;
    }
    if (st->n_params) {
        db_stmt_bind_params(st, params);
        if (mysql_stmt_bind_param(st->handle, st->params)) {
            return db_fail_stmt(db, st->handle);
        }
    }
    if (mysql_stmt_execute(st->handle)) {
        return db_fail_stmt(db, st->handle);
    }

    unsigned int n_columns = mysql_stmt_field_count(st->handle);
    if (n_columns != st->n_columns) {
        /* The table changed shape since the statement was prepared.
         * Prepare it again, so the binds match. */
        db_stmt_close_handle(st);
        db_set_failure(db, ER_NEED_REPREPARE, NULL,
                       "the result shape changed; statement re-prepared");
        return ER_NEED_REPREPARE;
    }
    if (n_columns) {
        if (mysql_stmt_store_result(st->handle)) {
            code = db_fail_stmt(db, st->handle);
            /* An error while the rows were streaming (a deadlock on a
             * locking read) leaves the handle mid-result: freeing the
             * result is not enough, and the next execute on it waits for
             * rows that never come.  Drop the handle; the cache prepares
             * it again on next use. */
            db_stmt_close_handle(st);
            return code;
        }
        code = ret_rows ? db_stmt_fetch_rows(db, st, ret_rows) : 0;
        mysql_stmt_free_result(st->handle);
        if (code) {
            return code;
        }
    } else if (ret_rows) {
        *ret_rows = xzalloc(sizeof **ret_rows);
    }
    *ret_affected = mysql_stmt_affected_rows(st->handle);
    if (mysql_stmt_insert_id(st->handle)) {
        db->last_insert_id = mysql_stmt_insert_id(st->handle);
    }
    return 0;
}

/* Runs 'st' with recovery: reconnects and runs it again after a lost
 * connection outside a transaction, prepares it again when the server
 * forgot it, runs a deadlocked autocommit statement again, and inside a
 * transaction marks the attempt for a re-run instead. */
static struct error *
db_run_recovering(struct db *db, struct db_stmt *st, bool cached,
                  const struct db_value *params, size_t n_params,
                  struct db_rows **ret_rows, uint64_t *ret_affected)
{
    long long deadline = 0;
    bool reprepared = false;
    int deadlocks = 0;

    if (db->in_txn && db->txn_retry) {
        return error_new(ERROR_UNAVAILABLE, "Statement not run: the "
                         "transaction was already aborted by '%s' (error "
                         "%u)", db->failure.message, db->failure.code);
    }
    for (;;) {
        uint64_t affected = 0;
        unsigned int code = db_stmt_run(db, st, params, n_params, ret_rows,
                                        &affected);
        if (!code) {
            if (ret_affected) {
                *ret_affected = affected;
            }
            return NULL;
        }
        LOG_DBG("Statement failed on '%s': %s (error %u): %s",
                db->url_redacted, db->failure.message, db->failure.code,
                st->sql);

        if (db_code_is_connection_lost(code)) {
            if (db_in_server_txn(db)) {
                /* The transaction is lost with the connection: report
                 * it, and let the next statement (or the next attempt of
                 * db_txn_run()) start over on a new connection. */
                struct error *error = db_statement_error(db, st->sql);
                db->txn_retry = db->in_txn;
                db_disconnect(db);
                if (!cached) {
                    db_stmt_close_handle(st);
                }
                return error;
            }
            if (!db->auto_reconnect) {
                return db_statement_error(db, st->sql);
            }
            if (!deadline) {
                LOG_WARN_RL("Lost the connection to the database '%s' (%s), "
                            "reconnecting", db->url_redacted,
                            db->failure.message);
                deadline = db_now_ms() + DB_RECONNECT_TIMEOUT_MS;
            }
            struct error *error = db_reconnect(db, deadline);
            if (!cached) {
                /* Invalidated by the reconnection, not in the cache. */
                db_stmt_close_handle(st);
            }
            if (error) {
                return error;
            }
            continue;
        }
        if ((code == ER_UNKNOWN_STMT_HANDLER || code == ER_NEED_REPREPARE)
            && !reprepared) {
            db_stmt_close_handle(st);
            reprepared = true;
            continue;
        }
        if (code == ER_LOCK_DEADLOCK || code == ER_LOCK_WAIT_TIMEOUT) {
            if (db->in_txn) {
                db->txn_retry = true;
            } else if (code == ER_LOCK_DEADLOCK
                       && !db_in_server_txn(db)
                       && ++deadlocks < DB_TXN_MAX_ATTEMPTS) {
                /* An autocommit statement chosen as the deadlock victim
                 * was rolled back whole: running it again is safe. */
                LOG_WARN_RL("Deadlock on '%s', retrying the statement "
                            "(attempt %d of %d)", db->url_redacted,
                            deadlocks + 1, DB_TXN_MAX_ATTEMPTS);
                db_sleep_ms(DB_TXN_RETRY_DELAY_MS * deadlocks);
                continue;
            }
        }
        return db_statement_error(db, st->sql);
    }
}

static struct error *
db_run(struct db *db, const char *sql, bool cached,
       const struct db_value *params, size_t n_params,
       struct db_rows **ret_rows, uint64_t *ret_affected)
{
    size_t size = strlen(sql);
    struct db_rows *rows = NULL;
    struct error *error;

    if (size > DB_MAX_SQL_SIZE) {
        return error_new(ERROR_INTERNAL, "Database statement of %zu bytes "
                         "is over the limit of %d", size, DB_MAX_SQL_SIZE);
    }
    if (cached) {
        struct db_stmt *st = db_cache_get(db, sql, size);
        error = db_run_recovering(db, st, true, params, n_params,
                                  ret_rows ? &rows : NULL, ret_affected);
    } else {
        struct db_stmt st = { .sql = (char *) sql, .sql_size = size };
        error = db_run_recovering(db, &st, false, params, n_params,
                                  ret_rows ? &rows : NULL, ret_affected);
        db_stmt_close_handle(&st);
        db_stmt_free_binds(&st);
    }
    if (!error && ret_rows) {
        *ret_rows = rows;
    }
    return error;
}

struct error *
db_exec(struct db *db, const char *sql, const struct db_value *params,
        size_t n_params, uint64_t *ret_affected)
{
    return db_run(db, sql, true, params, n_params, NULL, ret_affected);
}

struct error *
db_exec_once(struct db *db, const char *sql, const struct db_value *params,
             size_t n_params, uint64_t *ret_affected)
{
    return db_run(db, sql, false, params, n_params, NULL, ret_affected);
}

struct error *
db_query(struct db *db, const char *sql, const struct db_value *params,
         size_t n_params, struct db_rows **ret_rows)
{
    return db_run(db, sql, true, params, n_params, ret_rows, NULL);
}

/* ---- Transactions ---------------------------------------------------- */

/* Rolls back after a failed attempt.  When that fails the connection is
 * in an unknown state: drop it, the next statement reconnects. */
static void
db_txn_rollback(struct db *db)
{
    if (db->mysql && mysql_rollback(db->mysql)) {
        LOG_DBG("ROLLBACK failed on '%s': %s, closing the connection",
                db->url_redacted, mysql_error(db->mysql));
        db_disconnect(db);
    }
}

static struct error *
db_txn_commit(struct db *db)
{
    unsigned int code;

    if (!db->mysql) {
        return error_new(ERROR_UNAVAILABLE, "Cannot commit: not connected "
                         "to the database '%s'", db->url_redacted);
    }
    db->stats.n_executes++;
    if (!mysql_commit(db->mysql)) {
        return NULL;
    }
    code = db_fail_mysql(db, db->mysql);
    if (db_code_is_connection_lost(code)) {
        /* The server may have committed before the connection broke:
         * running the function again could apply it twice. */
        db->txn_retry = false;
        return error_new(ERROR_UNAVAILABLE, "Lost the connection to the "
                         "database '%s' during COMMIT; the transaction may "
                         "or may not have been applied: %s (error %u)",
                         db->url_redacted, db->failure.message, code);
    }
    if (code == ER_LOCK_DEADLOCK || code == ER_LOCK_WAIT_TIMEOUT) {
        /* Galera reports a certification failure this way. */
        db->txn_retry = true;
    }
    return db_statement_error(db, "COMMIT");
}

static struct error *
db_txn_attempt(struct db *db, db_txn_fn *fn, void *aux)
{
    static const char begin[] = "START TRANSACTION";
    struct db_stmt st = { .sql = (char *) begin,
                          .sql_size = sizeof begin - 1, .text = true };
    struct error *error;

    db->txn_retry = false;
    error = db_run_recovering(db, &st, false, NULL, 0, NULL, NULL);
    if (error) {
        return error;
    }

    db->in_txn = true;
    error = fn(db, aux);
    if (!error && db->txn_retry) {
        /* The function carried on after a statement failed. */
        error = error_new(ERROR_UNAVAILABLE, "Transaction aborted by the "
                          "database: %s (error %u)", db->failure.message,
                          db->failure.code);
    }
    if (!error) {
        error = db_txn_commit(db);
    }
    db->in_txn = false;
    if (error) {
        db_txn_rollback(db);
    }
    return error;
}

struct error *
db_txn_run(struct db *db, db_txn_fn *fn, void *aux)
{
    if (db->in_txn) {
        return fn(db, aux);
    }
    for (int attempt = 1; ; attempt++) {
        struct error *error = db_txn_attempt(db, fn, aux);

        if (!error) {
            return NULL;
        }
        if (!db->txn_retry) {
            return error;
        }
        db->txn_retry = false;
        if (attempt >= DB_TXN_MAX_ATTEMPTS) {
            return error_wrap(error, "Transaction failed %d times in a row",
                              attempt);
        }
        LOG_WARN_RL("%s; retrying the transaction (attempt %d of %d)",
                    error_message(error), attempt + 1, DB_TXN_MAX_ATTEMPTS);
        error_free(error);
        db->stats.n_txn_retries++;

        long long delay = (long long) DB_TXN_RETRY_DELAY_MS << (attempt - 1);
        db_sleep_ms(delay + rand_r(&db->seed) % delay);
    }
}

/* ---- Results --------------------------------------------------------- */

size_t
db_rows_count(const struct db_rows *rows)
{
    return rows->n_rows;
}

size_t
db_rows_n_columns(const struct db_rows *rows)
{
    return rows->n_columns;
}

const char *
db_rows_column_name(const struct db_rows *rows, size_t col)
{
    assert(col < rows->n_columns);
    return rows->arena + rows->cells[col].offset;
}

static const struct db_cell *
db_rows_checked_cell(const struct db_rows *rows, size_t row, size_t col)
{
    assert(row < rows->n_rows && col < rows->n_columns);
    return db_rows_cell(rows, row, col);
}

bool
db_rows_is_null(const struct db_rows *rows, size_t row, size_t col)
{
    return db_rows_checked_cell(rows, row, col)->is_null;
}

const char *
db_rows_get_str(const struct db_rows *rows, size_t row, size_t col)
{
    const struct db_cell *cell = db_rows_checked_cell(rows, row, col);

    return cell->is_null ? NULL : rows->arena + cell->offset;
}

size_t
db_rows_get_size(const struct db_rows *rows, size_t row, size_t col)
{
    const struct db_cell *cell = db_rows_checked_cell(rows, row, col);

    return cell->is_null ? 0 : cell->size;
}

int64_t
db_rows_get_int64(const struct db_rows *rows, size_t row, size_t col)
{
    const char *s = db_rows_get_str(rows, row, col);
    char *end;
    long long value;

    if (!s) {
        return 0;
    }
    errno = 0;
    value = strtoll(s, &end, 10);
    assert(end != s && !*end && !errno);
    return value;
}

double
db_rows_get_double(const struct db_rows *rows, size_t row, size_t col)
{
    const char *s = db_rows_get_str(rows, row, col);
    char *end;
    double value;

    if (!s) {
        return 0.0;
    }
    value = strtod(s, &end);
    assert(end != s && !*end);
    return value;
}

bool
db_rows_get_bool(const struct db_rows *rows, size_t row, size_t col)
{
    return db_rows_get_int64(rows, row, col) != 0;
}

void
db_rows_free(struct db_rows *rows)
{
    if (rows) {
        free(rows->arena);
        free(rows);
    }
}
