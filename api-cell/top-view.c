/* top-view.c: the top view of instances in the API database.
 *
 * Writes of one instance are serialised by its row: an update from below
 * reads the row's update_seq with SELECT ... FOR UPDATE inside a
 * transaction and writes only if it is newer.  Two updates of an instance
 * the top view does not know yet both find no row; the second INSERT then
 * fails on the unique uuid (or the two deadlock on the gap lock and
 * db_txn_run() runs one again), and the transaction is simply run again,
 * which now finds the row.
 *
 * Lists are one query each.  Paging is by keyset: the marker's values of
 * the sort keys (and its id, the tie-break) become a WHERE condition
 * "after the marker in this order", so a page costs the same wherever it
 * is, and with Nova's default order (created_at desc, id desc) the query
 * reads the rows of a page straight off an index
 * ((project_id, deleted, created_at) or (deleted, created_at), whose
 * entries end with the primary key id).  The SQL text is assembled from
 * fixed fragments chosen by an allow-list; every value is a parameter. */
#include <config.h>

#include "api-cell/top-view.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "shared/db.h"
#include "shared/error.h"
#include "shared/flavor.h"
#include "shared/instance.h"
#include "shared/json-util.h"
#include "shared/log.h"
#include "shared/timeutil.h"
#include "shared/xalloc.h"

LOG_MODULE("api.top_view");

/* Times an update of an instance unknown to the top view is tried again
 * after it lost the race to insert it. */
#define TOP_VIEW_HEAL_ATTEMPTS 3

/* The columns a server is read from, in this order (TOP_VIEW_COL_*). */
#define TOP_VIEW_COLUMNS                                                \
    "id, instance, cell_path, fault, locked, locked_by, deleted, "      \
    "deleted_at, vm_state, task_state, display_name, updated_at, "      \
    "update_seq"

enum {
    TOP_VIEW_COL_ID,
    TOP_VIEW_COL_INSTANCE,
    TOP_VIEW_COL_CELL_PATH,
    TOP_VIEW_COL_FAULT,
    TOP_VIEW_COL_LOCKED,
    TOP_VIEW_COL_LOCKED_BY,
    TOP_VIEW_COL_DELETED,
    TOP_VIEW_COL_DELETED_AT,
    TOP_VIEW_COL_VM_STATE,
    TOP_VIEW_COL_TASK_STATE,
    TOP_VIEW_COL_DISPLAY_NAME,
    TOP_VIEW_COL_UPDATED_AT,
    TOP_VIEW_COL_UPDATE_SEQ,
    TOP_VIEW_N_COLS
};

/* ---- Helpers ------------------------------------------------------------ */

/* A DATETIME parameter: the text of 'ms' in 'buf', or NULL for
 * INSTANCE_TIME_NONE (and for a time outside the supported years). */
struct top_view_time {
    char buf[TIME_MYSQL_DATETIME_SIZE];
};

static struct db_value
top_view_time_param(int64_t ms, struct top_view_time *t)
{
    if (ms == INSTANCE_TIME_NONE
        || time_format_mysql_datetime(ms, t->buf, sizeof t->buf)) {
        return DB_NULL;
    }
    return DB_STR(t->buf);
}

static struct error *
top_view_not_found(const char *uuid)
{
    return error_new(ERROR_NOT_FOUND, "Instance %s could not be found.",
                     uuid);
}

void
top_view_server_free(struct top_view_server *server)
{
    if (!server) {
        return;
    }
    instance_free(server->inst);
    free(server->cell_path);
    json_object_put(server->fault);
    free(server->locked_by);
    free(server);
}

void
top_view_servers_free(struct top_view_server **servers, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        top_view_server_free(servers[i]);
    }
    free(servers);
}

/* ---- Decoded instances -------------------------------------------------
 *
 * Decoding the stored 'instance' JSON of every row was most of the cost
 * of a long list.  The process keeps the instance decoded from the text
 * each row held when last read, in a direct-mapped table indexed by the
 * row id (ids are consecutive, so TOP_VIEW_CACHE_SIZE rows in a row never
 * collide).  An entry is used only if the row's text is byte for byte
 * the one it was decoded from, so no write path has to invalidate
 * anything, and the columns API actions change are applied on top of the
 * copy as before.  A row whose text changed is decoded again and
 * replaces the entry; the table holds at most TOP_VIEW_CACHE_SIZE
 * instances and their texts. */

/* Entries of the table: a power of 2. */
#define TOP_VIEW_CACHE_SIZE 4096

struct top_view_cache_entry {
    int64_t id;                 /* row id; 0: empty */
    char *text;                 /* the 'instance' column decoded */
    size_t size;                /* bytes of 'text' */
    struct instance *inst;      /* decoded from 'text' */
};

/* Shared by the threads of nova-api; 'top_view_cache_mutex' guards it. */
static pthread_mutex_t top_view_cache_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct top_view_cache_entry top_view_cache[TOP_VIEW_CACHE_SIZE];

/* A copy of the instance stored in row 'r' (TOP_VIEW_COLUMNS), owned by
 * the caller, from the table when it holds the same text. */
static struct error *
top_view_instance_from_row(const struct db_rows *rows, size_t r,
                           struct instance **ret)
{
    CLEANUP(json_putp) struct json_object *doc = NULL;
    int64_t id = db_rows_get_int64(rows, r, TOP_VIEW_COL_ID);
    const char *text = db_rows_get_str(rows, r, TOP_VIEW_COL_INSTANCE);
    size_t size = db_rows_get_size(rows, r, TOP_VIEW_COL_INSTANCE);
    struct top_view_cache_entry *e;
    struct instance *inst = NULL;
    struct error *error;
    char *old_text;
    struct instance *old_inst;

    e = &top_view_cache[(uint64_t) id & (TOP_VIEW_CACHE_SIZE - 1)];
    if (text && id > 0) {
        pthread_mutex_lock(&top_view_cache_mutex);
        if (e->id == id && e->size == size && !memcmp(e->text, text, size)) {
            inst = instance_clone(e->inst);
        }
        pthread_mutex_unlock(&top_view_cache_mutex);
        if (inst) {
            *ret = inst;
            return NULL;
        }
    }

    error = json_parse_text(text, size, 0, 0, &doc);
    if (!error) {
        error = instance_from_json(doc, NULL, &inst);
    }
    if (error) {
        return error_wrap(error, "Corrupt top-view row %" PRId64, id);
    }
    if (id > 0) {
        char *copy = xmalloc(size + 1);
        struct instance *cached = instance_clone(inst);

        memcpy(copy, text, size);
        copy[size] = '\0';
        pthread_mutex_lock(&top_view_cache_mutex);
        old_text = e->text;
        old_inst = e->inst;
        e->id = id;
        e->text = copy;
        e->size = size;
        e->inst = cached;
        pthread_mutex_unlock(&top_view_cache_mutex);
        free(old_text);
        instance_free(old_inst);
    }
    *ret = inst;
    return NULL;
}

/* Builds a server from row 'r' of 'rows' (TOP_VIEW_COLUMNS). */
static struct error *
top_view_server_from_row(const struct db_rows *rows, size_t r,
                         struct top_view_server **ret)
{
    struct top_view_server *server;
    struct instance *inst = NULL;
    struct error *error;
    const char *s;
    int64_t ms;

    error = top_view_instance_from_row(rows, r, &inst);
    if (error) {
        return error;
    }

    /* The columns API actions change win over the JSON. */
    if (instance_vm_state_from_string(
            db_rows_get_str(rows, r, TOP_VIEW_COL_VM_STATE),
            &inst->vm_state)) {
        inst->vm_state = INSTANCE_VM_ERROR;
    }
    if (instance_task_state_from_string(
            db_rows_get_str(rows, r, TOP_VIEW_COL_TASK_STATE),
            &inst->task_state)) {
        inst->task_state = INSTANCE_TASK_NONE;
    }
    free(inst->display_name);
    inst->display_name = xstrdup_or_null(
        db_rows_get_str(rows, r, TOP_VIEW_COL_DISPLAY_NAME));
    inst->locked = db_rows_get_bool(rows, r, TOP_VIEW_COL_LOCKED);
    inst->update_seq = db_rows_get_int64(rows, r, TOP_VIEW_COL_UPDATE_SEQ);
    s = db_rows_get_str(rows, r, TOP_VIEW_COL_UPDATED_AT);
    if (s && !time_parse_mysql_datetime(s, &ms)) {
        inst->updated_at = ms;
    }

    server = xzalloc(sizeof *server);
    server->inst = inst;
    server->cell_path = xstrdup_or_null(
        db_rows_get_str(rows, r, TOP_VIEW_COL_CELL_PATH));
    s = db_rows_get_str(rows, r, TOP_VIEW_COL_FAULT);
    if (s) {
        error = json_parse_text(s, strlen(s), 0, 0, &server->fault);
        if (error) {
            LOG_WARN_RL("instance %s: unreadable fault, ignoring: %s",
                        inst->uuid, error_message(error));
            error_free(error);
            server->fault = NULL;
        }
    }
    server->locked = inst->locked;
    server->locked_by = xstrdup_or_null(
        db_rows_get_str(rows, r, TOP_VIEW_COL_LOCKED_BY));
    server->deleted = db_rows_get_int64(rows, r, TOP_VIEW_COL_DELETED) != 0;
    server->deleted_at = INSTANCE_TIME_NONE;
    s = db_rows_get_str(rows, r, TOP_VIEW_COL_DELETED_AT);
    if (s && !time_parse_mysql_datetime(s, &ms)) {
        server->deleted_at = ms;
    }
    *ret = server;
    return NULL;
}

/* ---- Writes ------------------------------------------------------------- */

/* The values of the columns copied from an instance, in the order of
 * TOP_VIEW_INSERT_COLUMNS. */
struct top_view_row {
    struct top_view_time created_at, updated_at, launched_at,
        terminated_at;
    char *json;
    char *fault;
};

#define TOP_VIEW_INSERT_COLUMNS                                         \
    "uuid, project_id, user_id, display_name, cell_path, host, node, "  \
    "vm_state, task_state, power_state, availability_zone, flavorid, "  \
    "vcpus, memory_mb, image_ref, key_name, locked, instance, fault, "  \
    "update_seq, created_at, updated_at, launched_at, terminated_at"

#define TOP_VIEW_INSERT_PLACEHOLDERS                                    \
    "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "   \
    "?, ?, ?"

static void
top_view_row_destroy(struct top_view_row *row)
{
    free(row->json);
    free(row->fault);
}

/* Fills 'row' with the JSON texts of 'inst' and 'fault' (may be NULL). */
static void
top_view_row_init(struct top_view_row *row, const struct instance *inst,
                  const struct json_object *fault)
{
    CLEANUP(json_putp) struct json_object *json = instance_to_json(inst);

    memset(row, 0, sizeof *row);
    row->json = json_to_string_plain(json);
    row->fault = fault ? json_to_string_plain(fault) : NULL;
}

/* The INSERT of a whole row; 'p' receives the 24 parameters. */
static void
top_view_row_params(struct top_view_row *row, const struct instance *inst,
                    const char *cell_path, int64_t created_at,
                    int64_t updated_at, struct db_value p[24])
{
    const struct flavor *flavor = inst->flavor;
    size_t i = 0;

    p[i++] = DB_STR(inst->uuid);
    p[i++] = DB_STR(inst->project_id);
    p[i++] = DB_STR(inst->user_id);
    p[i++] = DB_STR(inst->display_name);
    p[i++] = DB_STR(cell_path);
    p[i++] = DB_STR(inst->host);
    p[i++] = DB_STR(inst->node);
    p[i++] = DB_STR(instance_vm_state_to_string(inst->vm_state));
    p[i++] = DB_STR(instance_task_state_to_nullable(inst->task_state));
    p[i++] = DB_INT(inst->power_state);
    p[i++] = DB_STR(inst->availability_zone);
    p[i++] = DB_STR(flavor && flavor->flavorid ? flavor->flavorid : "");
    p[i++] = DB_INT(flavor ? flavor->vcpus : 0);
    p[i++] = DB_INT(flavor ? flavor->memory_mb : 0);
    p[i++] = DB_STR(inst->image_ref);
    p[i++] = DB_STR(inst->key_name);
    p[i++] = DB_BOOL(inst->locked);
    p[i++] = DB_STR(row->json);
    p[i++] = DB_STR(row->fault);
    p[i++] = DB_INT(inst->update_seq);
    p[i++] = top_view_time_param(created_at, &row->created_at);
    p[i++] = top_view_time_param(updated_at, &row->updated_at);
    p[i++] = top_view_time_param(inst->launched_at, &row->launched_at);
    p[i++] = top_view_time_param(inst->terminated_at, &row->terminated_at);
}

struct top_view_create_aux {
    const struct instance *inst;
};

static struct error *
top_view_create_txn(struct db *db, void *aux_)
{
    struct top_view_create_aux *aux = aux_;
    const struct instance *inst = aux->inst;
    struct top_view_row row;
    struct db_value p[24];
    struct error *error;
    int64_t created_at = (inst->created_at != INSTANCE_TIME_NONE
                          ? inst->created_at : time_now_ms());
    int64_t updated_at = (inst->updated_at != INSTANCE_TIME_NONE
                          ? inst->updated_at : created_at);
    struct top_view_time t;

    error = db_exec(db,
                    "INSERT INTO instance_mappings (instance_uuid, "
                    "cell_path, project_id, user_id, created_at) "
                    "VALUES (?, NULL, ?, ?, ?)",
                    DB_PARAMS(DB_STR(inst->uuid), DB_STR(inst->project_id),
                              DB_STR(inst->user_id),
                              top_view_time_param(created_at, &t)),
                    NULL);
    if (error) {
        return error;
    }
    top_view_row_init(&row, inst, NULL);
    top_view_row_params(&row, inst, NULL, created_at, updated_at, p);
    error = db_exec(db,
                    "INSERT INTO instances (" TOP_VIEW_INSERT_COLUMNS ") "
                    "VALUES (" TOP_VIEW_INSERT_PLACEHOLDERS ")",
                    p, ARRAY_SIZE(p), NULL);
    top_view_row_destroy(&row);
    return error;
}

struct error *
top_view_create(struct db *db, const struct instance *inst)
{
    struct top_view_create_aux aux = { inst };
    struct error *error;

    error = instance_validate(inst, "instance");
    if (error) {
        return error;
    }
    error = db_txn_run(db, top_view_create_txn, &aux);
    if (error && error_kind(error) == ERROR_CONFLICT) {
        error_free(error);
        return error_new(ERROR_CONFLICT, "Instance %s already exists.",
                         inst->uuid);
    }
    return error;
}

struct top_view_update_aux {
    const char *cell_path;
    const struct instance *inst;
    const struct json_object *fault;
    bool applied;
};

/* Records that 'uuid' lives in 'cell_path' (inserting the mapping of an
 * instance the API database did not know). */
static struct error *
top_view_map(struct db *db, const char *cell_path,
             const struct instance *inst)
{
    return db_exec(db,
                   "INSERT INTO instance_mappings (instance_uuid, "
                   "cell_path, project_id, user_id, created_at, "
                   "updated_at) VALUES (?, ?, ?, ?, NOW(6), NOW(6)) "
                   "ON DUPLICATE KEY UPDATE cell_path = VALUES(cell_path), "
                   "updated_at = VALUES(updated_at)",
                   DB_PARAMS(DB_STR(inst->uuid), DB_STR(cell_path),
                             DB_STR(inst->project_id),
                             DB_STR(inst->user_id)),
                   NULL);
}

static struct error *
top_view_update_txn(struct db *db, void *aux_)
{
    struct top_view_update_aux *aux = aux_;
    const struct instance *inst = aux->inst;
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    struct top_view_row row;
    struct error *error;

    aux->applied = false;
    error = db_query(db,
                     "SELECT update_seq, deleted FROM instances "
                     "WHERE uuid = ? FOR UPDATE",
                     DB_PARAMS(DB_STR(inst->uuid)), &rows);
    if (error) {
        return error;
    }
    if (db_rows_count(rows) && db_rows_get_int64(rows, 0, 1) != 0) {
        /* Deleted at the top (a server deleted before its build reached
         * a cell, or a destroy that came first): the row stays deleted
         * and keeps its content; only where the instance went is
         * recorded, so that the caller can send the delete there
         * (top_view_get() with 'with_deleted' tells). */
        error = db_exec(db,
                        "UPDATE instances SET cell_path = ? "
                        "WHERE uuid = ? AND cell_path IS NULL",
                        DB_PARAMS(DB_STR(aux->cell_path),
                                  DB_STR(inst->uuid)),
                        NULL);
        if (!error) {
            error = db_exec(db,
                            "UPDATE instance_mappings SET cell_path = ?, "
                            "updated_at = NOW(6) WHERE instance_uuid = ? "
                            "AND cell_path IS NULL",
                            DB_PARAMS(DB_STR(aux->cell_path),
                                      DB_STR(inst->uuid)),
                            NULL);
        }
        return error;
    }
    top_view_row_init(&row, inst, aux->fault);
    if (!db_rows_count(rows)) {
        /* An instance the top view missed: heal it. */
        struct db_value p[24];
        int64_t created_at = (inst->created_at != INSTANCE_TIME_NONE
                              ? inst->created_at : time_now_ms());

        top_view_row_params(&row, inst, aux->cell_path, created_at,
                            inst->updated_at != INSTANCE_TIME_NONE
                            ? inst->updated_at : time_now_ms(), p);
        error = db_exec(db,
                        "INSERT INTO instances (" TOP_VIEW_INSERT_COLUMNS
                        ") VALUES (" TOP_VIEW_INSERT_PLACEHOLDERS ")",
                        p, ARRAY_SIZE(p), NULL);
    } else if (db_rows_get_int64(rows, 0, 0) >= inst->update_seq) {
        top_view_row_destroy(&row);
        return NULL;
    } else {
        const struct flavor *flavor = inst->flavor;
        struct top_view_time updated_at, launched_at, terminated_at;
        const char *vm_state = instance_vm_state_to_string(inst->vm_state);

        error = db_exec(
            db,
            "UPDATE instances SET project_id = ?, user_id = ?, "
            "display_name = ?, cell_path = ?, host = ?, node = ?, "
            "vm_state = ?, task_state = ?, power_state = ?, "
            "availability_zone = ?, flavorid = ?, vcpus = ?, "
            "memory_mb = ?, image_ref = ?, key_name = ?, instance = ?, "
            "fault = COALESCE(?, IF(? = 'error', fault, NULL)), "
            "update_seq = ?, updated_at = COALESCE(?, NOW(6)), "
            "launched_at = ?, terminated_at = ? WHERE uuid = ?",
            DB_PARAMS(DB_STR(inst->project_id), DB_STR(inst->user_id),
                      DB_STR(inst->display_name), DB_STR(aux->cell_path),
                      DB_STR(inst->host), DB_STR(inst->node),
                      DB_STR(vm_state),
                      DB_STR(instance_task_state_to_nullable(
                                 inst->task_state)),
                      DB_INT(inst->power_state),
                      DB_STR(inst->availability_zone),
                      DB_STR(flavor && flavor->flavorid
                             ? flavor->flavorid : ""),
                      DB_INT(flavor ? flavor->vcpus : 0),
                      DB_INT(flavor ? flavor->memory_mb : 0),
                      DB_STR(inst->image_ref), DB_STR(inst->key_name),
                      DB_STR(row.json), DB_STR(row.fault), DB_STR(vm_state),
                      DB_INT(inst->update_seq),
                      top_view_time_param(inst->updated_at, &updated_at),
                      top_view_time_param(inst->launched_at, &launched_at),
                      top_view_time_param(inst->terminated_at,
                                          &terminated_at),
                      DB_STR(inst->uuid)),
            NULL);
    }
    top_view_row_destroy(&row);
    if (!error) {
        error = top_view_map(db, aux->cell_path, inst);
    }
    if (!error) {
        aux->applied = true;
    }
    return error;
}

struct error *
top_view_apply_update(struct db *db, const char *cell_path,
                      const struct instance *inst,
                      const struct json_object *fault, bool *ret_applied)
{
    struct top_view_update_aux aux = { cell_path, inst, fault, false };
    struct error *error;

    error = instance_validate(inst, "instance");
    if (error) {
        return error;
    }
    for (int attempt = 1; ; attempt++) {
        error = db_txn_run(db, top_view_update_txn, &aux);
        if (!error || error_kind(error) != ERROR_CONFLICT
            || attempt >= TOP_VIEW_HEAL_ATTEMPTS) {
            break;
        }
        /* Another update inserted the row first: apply over it. */
        LOG_DBG("instance %s: inserted concurrently, retrying",
                inst->uuid);
        error_free(error);
    }
    if (error) {
        return error;
    }
    if (ret_applied) {
        *ret_applied = aux.applied;
    }
    return NULL;
}

struct top_view_destroy_aux {
    const char *cell_path;
    const char *uuid;
    int64_t update_seq;
    bool applied;
};

static struct error *
top_view_destroy_txn(struct db *db, void *aux_)
{
    struct top_view_destroy_aux *aux = aux_;
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    struct error *error;

    aux->applied = false;
    error = db_query(db,
                     "SELECT update_seq, deleted FROM instances "
                     "WHERE uuid = ? FOR UPDATE",
                     DB_PARAMS(DB_STR(aux->uuid)), &rows);
    if (error) {
        return error;
    }
    if (!db_rows_count(rows)
        || db_rows_get_int64(rows, 0, 0) > aux->update_seq
        || db_rows_get_int64(rows, 0, 1) != 0) {
        return NULL;
    }
    error = db_exec(db,
                    "UPDATE instances SET vm_state = 'deleted', "
                    "task_state = NULL, deleted = id, "
                    "deleted_at = NOW(6), updated_at = NOW(6), "
                    "terminated_at = COALESCE(terminated_at, NOW(6)), "
                    "update_seq = GREATEST(update_seq, ?), "
                    "cell_path = COALESCE(?, cell_path) WHERE uuid = ?",
                    DB_PARAMS(DB_INT(aux->update_seq),
                              DB_STR(aux->cell_path), DB_STR(aux->uuid)),
                    NULL);
    if (!error) {
        aux->applied = true;
    }
    return error;
}

struct error *
top_view_apply_destroy(struct db *db, const char *cell_path,
                       const char *uuid, int64_t update_seq,
                       bool *ret_applied)
{
    struct top_view_destroy_aux aux = { cell_path, uuid, update_seq, false };
    struct error *error;

    error = db_txn_run(db, top_view_destroy_txn, &aux);
    if (error) {
        return error;
    }
    if (ret_applied) {
        *ret_applied = aux.applied;
    }
    return NULL;
}

/* Checks that an UPDATE of live instance 'uuid' matched its row. */
static struct error *
top_view_check_found(struct error *error, uint64_t n, const char *uuid)
{
    if (!error && !n) {
        return top_view_not_found(uuid);
    }
    return error;
}

struct error *
top_view_set_task_state(struct db *db, const char *uuid,
                        const char *task_state)
{
    enum instance_task_state state;
    struct error *error;
    uint64_t n = 0;

    if (instance_task_state_from_string(task_state, &state)) {
        return error_new(ERROR_INVALID, "Invalid task state '%s'",
                         task_state);
    }
    error = db_exec(db,
                    "UPDATE instances SET task_state = ?, "
                    "updated_at = NOW(6) WHERE uuid = ? AND deleted = 0",
                    DB_PARAMS(DB_STR(task_state), DB_STR(uuid)), &n);
    return top_view_check_found(error, n, uuid);
}

struct error *
top_view_set_error(struct db *db, const char *uuid,
                   const struct json_object *fault)
{
    AUTOFREE char *text = fault ? json_to_string_plain(fault) : NULL;
    struct error *error;
    uint64_t n = 0;

    error = db_exec(db,
                    "UPDATE instances SET vm_state = 'error', "
                    "task_state = NULL, fault = COALESCE(?, fault), "
                    "updated_at = NOW(6) WHERE uuid = ? AND deleted = 0",
                    DB_PARAMS(DB_STR(text), DB_STR(uuid)), &n);
    return top_view_check_found(error, n, uuid);
}

struct error *
top_view_set_locked(struct db *db, const char *uuid, bool locked,
                    const char *locked_by)
{
    struct error *error;
    uint64_t n = 0;

    error = db_exec(db,
                    "UPDATE instances SET locked = ?, locked_by = ?, "
                    "updated_at = NOW(6) WHERE uuid = ? AND deleted = 0",
                    DB_PARAMS(DB_BOOL(locked),
                              DB_STR(locked ? locked_by : NULL),
                              DB_STR(uuid)),
                    &n);
    return top_view_check_found(error, n, uuid);
}

struct error *
top_view_set_name(struct db *db, const char *uuid, const char *display_name)
{
    struct error *error;
    uint64_t n = 0;

    error = db_exec(db,
                    "UPDATE instances SET display_name = ?, "
                    "updated_at = NOW(6) WHERE uuid = ? AND deleted = 0",
                    DB_PARAMS(DB_STR(display_name), DB_STR(uuid)), &n);
    return top_view_check_found(error, n, uuid);
}

/* ---- Reads -------------------------------------------------------------- */

struct error *
top_view_get(struct db *db, const char *uuid, bool with_deleted,
             struct top_view_server **ret)
{
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    struct error *error;

    error = db_query(db,
                     "SELECT " TOP_VIEW_COLUMNS " FROM instances "
                     "WHERE uuid = ?",
                     DB_PARAMS(DB_STR(uuid)), &rows);
    if (error) {
        return error;
    }
    if (!db_rows_count(rows)
        || (!with_deleted
            && db_rows_get_int64(rows, 0, TOP_VIEW_COL_DELETED) != 0)) {
        return top_view_not_found(uuid);
    }
    return top_view_server_from_row(rows, 0, ret);
}

struct error *
top_view_usage(struct db *db, const char *project_id, int64_t *instances,
               int64_t *cores, int64_t *ram_mb)
{
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    struct error *error;

    error = db_query(db,
                     "SELECT COUNT(*), COALESCE(SUM(vcpus), 0), "
                     "COALESCE(SUM(memory_mb), 0) FROM instances "
                     "WHERE project_id = ? AND deleted = 0",
                     DB_PARAMS(DB_STR(project_id)), &rows);
    if (error) {
        return error;
    }
    *instances = db_rows_get_int64(rows, 0, 0);
    *cores = db_rows_get_int64(rows, 0, 1);
    *ram_mb = db_rows_get_int64(rows, 0, 2);
    return NULL;
}

/* ---- Lists -------------------------------------------------------------- */

/* Sort keys the API may ask for: the column of each. */
static const char *const top_view_sort_columns[] = {
    "created_at", "updated_at", "display_name", "uuid", "vm_state",
    "task_state", "host", "launched_at",
};

/* Most sort keys of one query: the caller's, created_at and id. */
#define TOP_VIEW_MAX_SORT 6

/* Most parameters of one list query. */
#define TOP_VIEW_MAX_PARAMS 64

/* A list query being assembled. */
struct top_view_query {
    char *sql;
    size_t length, allocated;
    struct db_value params[TOP_VIEW_MAX_PARAMS];
    size_t n_params;
};

static void
top_view_query_add(struct top_view_query *q, const char *text)
{
    size_t n = strlen(text);

    if (q->length + n + 1 > q->allocated) {
        q->allocated = 2 * (q->length + n + 1);
        q->sql = xrealloc(q->sql, q->allocated);
    }
    memcpy(q->sql + q->length, text, n + 1);
    q->length += n;
}

static void
top_view_query_param(struct top_view_query *q, struct db_value value)
{
    /* The caller's fragments are bounded: more is a bug here. */
    if (q->n_params >= TOP_VIEW_MAX_PARAMS) {
        abort();
    }
    q->params[q->n_params++] = value;
}

/* Appends " AND " before every condition but the first. */
static void
top_view_query_and(struct top_view_query *q, bool *first)
{
    top_view_query_add(q, *first ? " WHERE " : " AND ");
    *first = false;
}

/* One key of the order: its column and direction. */
struct top_view_sort {
    const char *column;         /* static string */
    bool desc;
};

/* Resolves the caller's sort into 'sort' (with created_at and id added as
 * Nova does) and returns the number of keys, or an error. */
static struct error *
top_view_resolve_sort(const struct top_view_filter *filter,
                      struct top_view_sort sort[TOP_VIEW_MAX_SORT],
                      size_t *ret_n)
{
    bool default_desc = true;
    bool has_created_at = false;
    size_t n = 0;

    if (filter->n_sort > ARRAY_SIZE(filter->sort_keys)) {
        return error_new(ERROR_INVALID, "Too many sort keys");
    }
    for (size_t i = 0; i < filter->n_sort; i++) {
        const char *key = filter->sort_keys[i];
        const char *dir = filter->sort_dirs[i];
        const char *column = NULL;
        bool desc;

        for (size_t j = 0; key && j < ARRAY_SIZE(top_view_sort_columns);
             j++) {
            if (!strcmp(key, top_view_sort_columns[j])) {
                column = top_view_sort_columns[j];
            }
        }
        if (!column) {
            return error_new(ERROR_INVALID, "Invalid sort key '%s'",
                             key ? key : "");
        }
        if (!dir || !strcmp(dir, "desc")) {
            desc = true;
        } else if (!strcmp(dir, "asc")) {
            desc = false;
        } else {
            return error_new(ERROR_INVALID, "Invalid sort direction '%s'",
                             dir);
        }
        if (i == 0) {
            default_desc = desc;
        }
        for (size_t j = 0; j < n; j++) {
            if (sort[j].column == column) {
                column = NULL;  /* Asked twice: the first one counts. */
            }
        }
        if (column) {
            has_created_at |= !strcmp(column, "created_at");
            sort[n].column = column;
            sort[n].desc = desc;
            n++;
        }
    }
    if (!has_created_at) {
        sort[n].column = "created_at";
        sort[n].desc = default_desc;
        n++;
    }
    sort[n].column = "id";
    sort[n].desc = default_desc;
    n++;
    *ret_n = n;
    return NULL;
}

/* Appends to 'q' the condition "the row comes after the marker" for the
 * order 'sort' whose marker values are 'values' (NULL: SQL NULL).  MariaDB
 * puts NULL before any value in ascending order, after any in
 * descending order; the condition follows suit:
 *
 *     after(k1) OR (k1 = m1 AND after(k2)) OR ...
 *
 * where for key k with marker value m:
 *
 *               m not NULL                     m NULL
 *     asc:  after = k > m, eq = k = m     after = k IS NOT NULL,
 *                                         eq = k IS NULL
 *     desc: after = (k < m OR k IS NULL)  after = FALSE,
 *           eq = k = m                    eq = k IS NULL */
static void
top_view_query_after(struct top_view_query *q,
                     const struct top_view_sort *sort, size_t n,
                     const char *const *values)
{
    top_view_query_add(q, "(");
    for (size_t i = 0; i < n; i++) {
        const char *col = sort[i].column;

        if (i) {
            top_view_query_add(q, " OR ");
        }
        top_view_query_add(q, "(");
        for (size_t j = 0; j < i; j++) {
            top_view_query_add(q, sort[j].column);
            if (values[j]) {
                top_view_query_add(q, " = ? AND ");
                top_view_query_param(q, DB_STR(values[j]));
            } else {
                top_view_query_add(q, " IS NULL AND ");
            }
        }
        if (values[i]) {
            if (sort[i].desc) {
                top_view_query_add(q, "(");
                top_view_query_add(q, col);
                top_view_query_add(q, " < ? OR ");
                top_view_query_add(q, col);
                top_view_query_add(q, " IS NULL)");
            } else {
                top_view_query_add(q, col);
                top_view_query_add(q, " > ?");
            }
            top_view_query_param(q, DB_STR(values[i]));
        } else if (sort[i].desc) {
            top_view_query_add(q, "FALSE");
        } else {
            top_view_query_add(q, col);
            top_view_query_add(q, " IS NOT NULL");
        }
        top_view_query_add(q, ")");
    }
    top_view_query_add(q, ")");
}

/* Writes 'prefix' with the LIKE wildcards escaped, then "!%", into a new
 * string: the cells below cell path 'prefix'. */
static char *
top_view_like_subtree(const char *prefix)
{
    size_t n = strlen(prefix);
    char *s = xmalloc(2 * n + 3);
    char *p = s;

    for (size_t i = 0; i < n; i++) {
        if (prefix[i] == '%' || prefix[i] == '_' || prefix[i] == '\\') {
            *p++ = '\\';
        }
        *p++ = prefix[i];
    }
    memcpy(p, "!%", 3);
    return s;
}

struct error *
top_view_list(struct db *db, const struct top_view_filter *filter,
              struct top_view_server ***ret, size_t *ret_n)
{
    CLEANUP(db_rows_freep) struct db_rows *marker_rows = NULL;
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    struct top_view_sort sort[TOP_VIEW_MAX_SORT];
    const char *marker_values[TOP_VIEW_MAX_SORT];
    struct top_view_query q = { .sql = NULL };
    AUTOFREE char *subtree = NULL;
    struct top_view_server **servers;
    struct top_view_time since;
    struct error *error;
    bool first = true;
    size_t n_sort = 0;
    size_t n;

    error = top_view_resolve_sort(filter, sort, &n_sort);
    if (error) {
        return error;
    }
    if (filter->n_vm_states > ARRAY_SIZE(filter->vm_states)) {
        return error_new(ERROR_INVALID, "Too many states to filter on");
    }

    if (filter->marker) {
        /* The marker's values of the sort keys, as text: the server
         * compares them with the columns as it compares its own. */
        struct top_view_query mq = { .sql = NULL };

        top_view_query_add(&mq, "SELECT ");
        for (size_t i = 0; i < n_sort; i++) {
            top_view_query_add(&mq, i ? ", " : "");
            top_view_query_add(&mq, sort[i].column);
        }
        top_view_query_add(&mq, " FROM instances WHERE uuid = ?");
        error = db_query(db, mq.sql, DB_PARAMS(DB_STR(filter->marker)),
                         &marker_rows);
        free(mq.sql);
        if (error) {
            return error;
        }
        if (!db_rows_count(marker_rows)) {
            return error_new(ERROR_INVALID, "marker [%s] not found",
                             filter->marker);
        }
        for (size_t i = 0; i < n_sort; i++) {
            marker_values[i] = db_rows_get_str(marker_rows, 0, i);
        }
    }

    top_view_query_add(&q, "SELECT " TOP_VIEW_COLUMNS " FROM instances");
    if (filter->project_id && filter->changes_since == INSTANCE_TIME_NONE
        && !filter->include_deleted
        && !strcmp(sort[0].column, "created_at")) {
        /* A project's live servers in creation order are a range of this
         * index, in order.  MariaDB tends to prefer reading every
         * project's rows in order from (deleted, created_at) and
         * skipping the other projects', which costs a row read per
         * skipped row: several times slower once a project holds a
         * fraction of the table. */
        top_view_query_add(&q, " FORCE INDEX "
                           "(instances_project_deleted_created_idx)");
    }
    if (filter->changes_since != INSTANCE_TIME_NONE) {
        /* Deleted rows too: a poller must learn of deletions. */
        top_view_query_and(&q, &first);
        top_view_query_add(&q, "updated_at >= ?");
        top_view_query_param(&q, top_view_time_param(filter->changes_since,
                                                     &since));
    } else if (!filter->include_deleted) {
        top_view_query_and(&q, &first);
        top_view_query_add(&q, "deleted = 0");
    }
    if (filter->project_id) {
        top_view_query_and(&q, &first);
        top_view_query_add(&q, "project_id = ?");
        top_view_query_param(&q, DB_STR(filter->project_id));
    }
    if (filter->user_id) {
        top_view_query_and(&q, &first);
        top_view_query_add(&q, "user_id = ?");
        top_view_query_param(&q, DB_STR(filter->user_id));
    }
    if (filter->name_regex) {
        top_view_query_and(&q, &first);
        top_view_query_add(&q, "display_name REGEXP ?");
        top_view_query_param(&q, DB_STR(filter->name_regex));
    }
    if (filter->n_vm_states) {
        top_view_query_and(&q, &first);
        top_view_query_add(&q, "vm_state IN (");
        for (size_t i = 0; i < filter->n_vm_states; i++) {
            top_view_query_add(&q, i ? ", ?" : "?");
            top_view_query_param(&q, DB_STR(filter->vm_states[i]));
        }
        top_view_query_add(&q, ")");
    }
    if (filter->host) {
        top_view_query_and(&q, &first);
        top_view_query_add(&q, "host = ?");
        top_view_query_param(&q, DB_STR(filter->host));
    }
    if (filter->cell_path) {
        subtree = top_view_like_subtree(filter->cell_path);
        top_view_query_and(&q, &first);
        top_view_query_add(&q, "(cell_path = ? OR cell_path LIKE ?)");
        top_view_query_param(&q, DB_STR(filter->cell_path));
        top_view_query_param(&q, DB_STR(subtree));
    }
    if (marker_rows) {
        top_view_query_and(&q, &first);
        top_view_query_after(&q, sort, n_sort, marker_values);
    }
    top_view_query_add(&q, " ORDER BY ");
    for (size_t i = 0; i < n_sort; i++) {
        top_view_query_add(&q, i ? ", " : "");
        top_view_query_add(&q, sort[i].column);
        top_view_query_add(&q, sort[i].desc ? " DESC" : " ASC");
    }
    if (filter->limit > 0) {
        top_view_query_add(&q, " LIMIT ?");
        top_view_query_param(&q, DB_INT(filter->limit));
    }

    error = db_query(db, q.sql, q.params, q.n_params, &rows);
    free(q.sql);
    if (error) {
        if (filter->name_regex && error_kind(error) == ERROR_INTERNAL
            && (strstr(error_message(error), "(error 1139,")
                || strstr(error_message(error), "Regex"))) {
            LOG_DBG("name filter refused: %s", error_message(error));
            error_free(error);
            return error_new(ERROR_INVALID, "Invalid regular expression "
                             "'%s' in the name filter", filter->name_regex);
        }
        return error;
    }

    n = db_rows_count(rows);
    servers = xcalloc(n ? n : 1, sizeof *servers);
    for (size_t r = 0; r < n; r++) {
        error = top_view_server_from_row(rows, r, &servers[r]);
        if (error) {
            top_view_servers_free(servers, r);
            return error;
        }
    }
    *ret = servers;
    *ret_n = n;
    return NULL;
}

void
top_view_filter_init(struct top_view_filter *filter)
{
    memset(filter, 0, sizeof *filter);
    filter->changes_since = INSTANCE_TIME_NONE;
}

/* ---- Metadata ----------------------------------------------------------- */

struct top_view_metadata_aux {
    const char *uuid;
    const struct json_object *metadata;
};

static struct error *
top_view_metadata_txn(struct db *db, void *aux_)
{
    struct top_view_metadata_aux *aux = aux_;
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    CLEANUP(json_putp) struct json_object *doc = NULL;
    struct json_object *copy = NULL;
    AUTOFREE char *text = NULL;
    struct error *error;

    error = db_query(db,
                     "SELECT instance FROM instances "
                     "WHERE uuid = ? AND deleted = 0 FOR UPDATE",
                     DB_PARAMS(DB_STR(aux->uuid)), &rows);
    if (error) {
        return error;
    }
    if (!db_rows_count(rows)) {
        return top_view_not_found(aux->uuid);
    }
    error = json_parse_text(db_rows_get_str(rows, 0, 0),
                            db_rows_get_size(rows, 0, 0), 0, 0, &doc);
    if (error) {
        return error_wrap(error, "Corrupt top-view row of instance %s",
                          aux->uuid);
    }
    if (!json_object_is_type(doc, json_type_object)
        || json_object_deep_copy((struct json_object *) aux->metadata,
                                 &copy, NULL)) {
        return error_new(ERROR_INTERNAL, "Cannot rewrite the metadata of "
                         "instance %s", aux->uuid);
    }
    json_object_object_add(doc, "metadata", copy);
    text = json_to_string_plain(doc);
    return db_exec(db,
                   "UPDATE instances SET instance = ?, updated_at = NOW(6) "
                   "WHERE uuid = ? AND deleted = 0",
                   DB_PARAMS(DB_STR(text), DB_STR(aux->uuid)), NULL);
}

struct error *
top_view_set_metadata(struct db *db, const char *uuid,
                      const struct json_object *metadata)
{
    struct top_view_metadata_aux aux = { uuid, metadata };

    if (!json_object_is_type(metadata, json_type_object)) {
        return error_new(ERROR_INVALID, "The metadata of instance %s must "
                         "be an object", uuid);
    }
    return db_txn_run(db, top_view_metadata_txn, &aux);
}

struct error *
top_view_delete_unplaced(struct db *db, const char *uuid,
                         bool *ret_deleted)
{
    struct error *error;
    uint64_t n = 0;

    error = db_exec(db,
                    "UPDATE instances SET vm_state = 'deleted', "
                    "task_state = NULL, deleted = id, "
                    "deleted_at = NOW(6), updated_at = NOW(6), "
                    "terminated_at = COALESCE(terminated_at, NOW(6)) "
                    "WHERE uuid = ? AND deleted = 0 AND cell_path IS NULL",
                    DB_PARAMS(DB_STR(uuid)), &n);
    if (!error) {
        *ret_deleted = n != 0;
    }
    return error;
}
