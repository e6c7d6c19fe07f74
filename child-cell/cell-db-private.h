/* cell-db-private.h: helpers shared by the cell-db-*.c modules, not part
 * of their interface (see cell-db.h for that).
 *
 * Conversions between the object model's values (milliseconds, NULL
 * strings) and statement parameters or result cells, argument checks
 * with messages that name the argument, and the lookups one table module
 * needs from another's table. */
#ifndef NOVA_CELL_DB_PRIVATE_H
#define NOVA_CELL_DB_PRIVATE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "shared/compiler.h"
#include "shared/db.h"
#include "shared/timeutil.h"

struct error;

/* Returns the parameter for time 'ms' (INSTANCE_TIME_NONE: SQL NULL),
 * formatted as DATETIME(6) text into 'buf', which must outlive the
 * statement.  A time outside the supported years binds NULL too (callers
 * check times first with cell_db_check_time()). */
struct db_value cell_db_time_value(int64_t ms,
                                   char buf[TIME_MYSQL_DATETIME_SIZE]);

/* Returns the DATETIME cell ('row', 'col') of 'rows' in ms, or
 * INSTANCE_TIME_NONE for NULL or a value that cannot be read. */
int64_t cell_db_rows_get_time(const struct db_rows *rows, size_t row,
                              size_t col);

/* Returns a copy of the cell ('row', 'col') of 'rows', or NULL for SQL
 * NULL. */
char *cell_db_rows_dup(const struct db_rows *rows, size_t row, size_t col);

/* Checks the argument 'value' named 'what': ERROR_INVALID when it is NULL
 * (if 'required'), empty (if 'required'), longer than 'max_length'
 * characters, or not valid UTF-8. */
struct error *cell_db_check_string(const char *what, const char *value,
                                   bool required, size_t max_length)
    WARN_UNUSED;

/* Checks that 'ms' is INSTANCE_TIME_NONE or within the supported years. */
struct error *cell_db_check_time(const char *what, int64_t ms) WARN_UNUSED;

/* Returns a copy of at most 'max_size' bytes of 's' (NULL for NULL), cut
 * at a UTF-8 character boundary. */
char *cell_db_truncate_utf8(const char *s, size_t max_size);

/* Returns a copy of at most 'max_length' characters of the UTF-8 string
 * 's' (NULL for NULL). */
char *cell_db_truncate_chars(const char *s, size_t max_length);

/* The ERROR_NOT_FOUND error "Instance <uuid> could not be found.". */
struct error *cell_db_instance_not_found(const char *uuid) WARN_UNUSED;

/* Sets '*ret_exists' to whether the instance 'uuid' has a row (deleted or
 * not).  SQL of the instances table, in cell-db-instance.c. */
struct error *cell_db_instance_exists(struct db *db, const char *uuid,
                                      bool *ret_exists) WARN_UNUSED;

#endif /* NOVA_CELL_DB_PRIVATE_H */
