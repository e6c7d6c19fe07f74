/* api-db.c: per-thread connections to the API database.
 *
 * Each thread's connection hangs off a pthread key whose destructor closes
 * it when the thread exits; every connection is also on a doubly linked
 * list (under 'mutex') so that api_db_free() can close those whose
 * threads are still alive. */
#include <config.h>

#include "api-cell/api-db.h"

#include <pthread.h>
#include <stdlib.h>

#include "shared/db.h"
#include "shared/error.h"
#include "shared/log.h"
#include "shared/xalloc.h"

LOG_MODULE("api.db");

/* One thread's connection, on the list of its 'struct api_db'. */
struct api_db_conn {
    struct api_db *owner;
    struct db *db;
    struct api_db_conn *prev, *next;
};

struct api_db {
    char *url;
    pthread_key_t key;
    pthread_mutex_t mutex;              /* guards 'conns' */
    struct api_db_conn *conns;
};

/* Removes 'conn' from its owner's list.  The caller holds the mutex. */
static void
api_db_conn_unlink(struct api_db_conn *conn)
{
    struct api_db *api_db = conn->owner;

    if (conn->prev) {
        conn->prev->next = conn->next;
    } else {
        api_db->conns = conn->next;
    }
    if (conn->next) {
        conn->next->prev = conn->prev;
    }
    conn->prev = conn->next = NULL;
}

/* The pthread key's destructor: a thread that had a connection exits. */
static void
api_db_conn_destructor(void *conn_)
{
    struct api_db_conn *conn = conn_;
    struct api_db *api_db = conn->owner;

    pthread_mutex_lock(&api_db->mutex);
    api_db_conn_unlink(conn);
    pthread_mutex_unlock(&api_db->mutex);
    db_close(conn->db);
    free(conn);
}

struct error *
api_db_new(const char *url, struct api_db **ret)
{
    struct api_db *api_db;

    if (!url || !*url) {
        return error_new(ERROR_INVALID, "The compute API needs the API "
                         "database: set api_database.connection");
    }
    api_db = xzalloc(sizeof *api_db);
    api_db->url = xstrdup(url);
    if (pthread_key_create(&api_db->key, api_db_conn_destructor)) {
        abort();
    }
    pthread_mutex_init(&api_db->mutex, NULL);
    *ret = api_db;
    return NULL;
}

void
api_db_free(struct api_db *api_db)
{
    if (!api_db) {
        return;
    }
    /* No destructor runs after this, so close what is left here. */
    pthread_key_delete(api_db->key);
    while (api_db->conns) {
        struct api_db_conn *conn = api_db->conns;

        api_db_conn_unlink(conn);
        db_close(conn->db);
        free(conn);
    }
    pthread_mutex_destroy(&api_db->mutex);
    free(api_db->url);
    free(api_db);
}

struct error *
api_db_get(struct api_db *api_db, struct db **ret_db)
{
    struct api_db_conn *conn = pthread_getspecific(api_db->key);
    struct error *error;
    struct db *db;

    if (conn) {
        *ret_db = conn->db;
        return NULL;
    }
    error = db_open(api_db->url, &db);
    if (error) {
        return error;
    }
    conn = xzalloc(sizeof *conn);
    conn->owner = api_db;
    conn->db = db;
    pthread_mutex_lock(&api_db->mutex);
    conn->next = api_db->conns;
    if (conn->next) {
        conn->next->prev = conn;
    }
    api_db->conns = conn;
    pthread_mutex_unlock(&api_db->mutex);
    if (pthread_setspecific(api_db->key, conn)) {
        /* Only fails without memory: the connection stays on the list,
         * where api_db_free() finds it. */
        abort();
    }
    LOG_DBG("opened a connection to %s", db_url_redacted(db));
    *ret_db = db;
    return NULL;
}
