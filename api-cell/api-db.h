/* api-db.h: per-thread connections to the API database.
 *
 * A 'struct db' connection is not thread-safe (db.h), while nova-api
 * serves requests from a pool of threads.  'struct api_db' gives each
 * thread its own connection to the API database, opened on the thread's
 * first api_db_get() and kept in thread-local storage (a pthread key)
 * until the thread exits.  It also keeps a list of the open connections so
 * that api_db_free() closes those of threads still alive (the main
 * thread's, or a pool that has not exited yet).
 *
 * Threads: api_db_get() may be called from any number of threads at once.
 * Free the object only once no other thread uses it any more (after the
 * HTTP server has stopped). */
#ifndef NOVA_API_DB_H
#define NOVA_API_DB_H 1

#include "shared/compiler.h"
#include "shared/cleanup.h"

struct api_db;
struct db;
struct error;

/* Creates the per-thread connections to the database at 'url' (see
 * db-url.h), stored in '*ret'.  No connection is opened yet: a database
 * that is down shows on the first api_db_get().  ERROR_INVALID if 'url' is
 * NULL or empty. */
struct error *api_db_new(const char *url, struct api_db **ret) WARN_UNUSED;

/* Closes every connection still open and frees 'db'.  Accepts NULL. */
void api_db_free(struct api_db *);
DEFINE_FREEP(struct api_db, api_db_free)

/* Stores the calling thread's connection in '*ret_db', opening it on the
 * thread's first use.  The connection belongs to 'api_db' (do not close
 * it) and may only be used by the calling thread.  Reconnections after a
 * lost connection are db.c's business.  Returns NULL on success, with
 * '*ret_db' never NULL, or the error of db_open(). */
struct error *api_db_get(struct api_db *, struct db **ret_db) WARN_UNUSED;

#endif /* NOVA_API_DB_H */
