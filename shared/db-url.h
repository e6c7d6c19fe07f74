/* db-url.h: parsing database URLs.
 *
 * A database is named the way Nova configurations name it, with an
 * SQLAlchemy-style URL:
 *
 *     mysql://USER:PASSWORD@HOST:PORT/DATABASE?charset=utf8mb4
 *     mysql+pymysql://nova:secret@db.example.org/nova_api
 *     mysql://nova:secret@/nova_cell1?unix_socket=/run/mysqld/mysqld.sock
 *
 * Accepted schemes: "mysql", "mariadb", and either with a Python driver
 * suffix ("mysql+pymysql", "mysql+mysqldb", "mariadb+pymysql",
 * "mariadb+mariadbconnector"); the driver part is ignored.  The user and
 * the password are percent-decoded, so "p%40ss" means "p@ss".  The port
 * defaults to 3306.  The host may be omitted only when 'unix_socket' is
 * given; an IPv6 address goes in brackets ("[::1]").  The database may be
 * omitted ("mysql://root:pw@127.0.0.1:3306/"), which leaves no database
 * selected.  Query parameters: 'unix_socket' (an absolute path) and
 * 'charset' (a character set name, default utf8mb4); any other parameter is
 * rejected, so that a typing mistake is not silently ignored.
 *
 * Error messages quote the URL with the password replaced by "***" and
 * never contain the password itself, wherever the mistake is. */
#ifndef NOVA_DB_URL_H
#define NOVA_DB_URL_H 1

#include "shared/compiler.h"
#include "shared/cleanup.h"

struct error;

/* Longest URL accepted, in bytes. */
#define DB_URL_MAX_SIZE 4096

/* What db_url_parse() found.  Strings are owned by the struct and are
 * decoded (no percent escapes left). */
struct db_url {
    char *user;                 /* Never NULL; may be "". */
    char *password;             /* NULL when the URL has none. */
    char *host;                 /* NULL when only a unix socket is given. */
    unsigned int port;          /* 1..65535; 3306 when not given. */
    char *database;             /* NULL when the URL names none. */
    char *unix_socket;          /* NULL unless ?unix_socket=... */
    char *charset;              /* Never NULL: "utf8mb4" by default. */
};

/* Parses 'url' into '*ret_url', which the caller frees with db_url_free().
 * Returns NULL on success, or an ERROR_INVALID error that says what is
 * wrong ("Invalid database URL 'mysql://nova:***@h:99999/x': port '99999'
 * is out of range 1-65535"). */
struct error *db_url_parse(const char *url, struct db_url **ret_url)
    WARN_UNUSED;

void db_url_free(struct db_url *);
DEFINE_FREEP(struct db_url, db_url_free)

/* Returns a copy of 'url' in which the password, if any, reads "***", for
 * logs and messages.  Works on malformed URLs too: whatever could be the
 * password part is hidden.  The caller frees the result. */
char *db_url_redact(const char *url);

#endif /* NOVA_DB_URL_H */
