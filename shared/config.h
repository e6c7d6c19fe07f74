/* config.h: typed YAML configuration driven by a key table.
 *
 * Each program describes its configuration once, as a table of keys: a
 * dotted path into nested YAML mappings, a type, the offset of the field
 * that receives the value, a default in text form, a range or a list of
 * accepted words, and one line of help.  The same table drives the parser
 * (nova.yaml), command-line overrides ("--set database.connection=..."),
 * --help output and the man page, so they cannot drift apart.
 *
 *     struct my_config { char *connection; long long timeout; };
 *     static const struct config_key my_keys[] = {
 *         { "database.connection", CONFIG_TYPE_STRING,
 *           offsetof(struct my_config, connection), NULL, 0, 0, NULL,
 *           "Database URL" },
 *         { "rpc.timeout", CONFIG_TYPE_INT,
 *           offsetof(struct my_config, timeout), "60", 1, 3600, NULL,
 *           "Seconds to wait for an RPC reply" },
 *     };
 *     static const struct config_schema my_schema = {
 *         "nova.yaml", my_keys, ARRAY_SIZE(my_keys)
 *     };
 *
 *     config_init(&my_schema, &cfg);               defaults
 *     config_load_file(&my_schema, &cfg, path);    the file overrides them
 *     config_set(&my_schema, &cfg, optarg);        the command line wins
 *     ...
 *     config_destroy(&my_schema, &cfg);
 *
 * Unknown keys, values of the wrong type, duplicate keys and YAML syntax
 * errors are rejected with "FILE:LINE:COLUMN: ..." and the key path.  Every
 * load is atomic: on error the target keeps the values it had before the
 * call.  The filled struct is read-only afterwards; nothing here is
 * thread-safe, and nothing needs to be once startup is over. */
#ifndef NOVA_CONFIG_H
#define NOVA_CONFIG_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "shared/compiler.h"

struct error;

/* Limits on what a configuration may contain.  Each has its own error. */
#define CONFIG_MAX_FILE_SIZE (1024 * 1024)  /* bytes of YAML text */
#define CONFIG_MAX_DEPTH 16                 /* nested mappings/sequences */
#define CONFIG_MAX_NODES 65536              /* scalars, mappings, sequences */
#define CONFIG_MAX_STRING_LENGTH 4096       /* bytes in one key or value */
#define CONFIG_MAX_LIST_LENGTH 1024         /* items in a STRING_LIST */

/* Field types in the target struct:
 *   STRING      -> char *   (owned by the struct, NULL when unset)
 *   INT         -> long long
 *   BOOL        -> bool
 *   DOUBLE      -> double
 *   ENUM        -> int      (index into the key's 'choices')
 *   STRING_LIST -> struct config_string_list */
enum config_type {
    CONFIG_TYPE_STRING,
    CONFIG_TYPE_INT,
    CONFIG_TYPE_BOOL,
    CONFIG_TYPE_DOUBLE,
    CONFIG_TYPE_ENUM,
    CONFIG_TYPE_STRING_LIST,
};

/* A list of 'n' owned, non-empty strings; 'items' is NULL when 'n' is 0. */
struct config_string_list {
    char **items;
    size_t n;
};

struct config_key {
    const char *path;            /* dotted path into nested mappings:
                                  * "database.connection" */
    enum config_type type;
    size_t offset;               /* offsetof(struct my_config, field) */
    const char *default_value;   /* text form, parsed by the same validator
                                  * as a command-line override; NULL = unset
                                  * (STRING NULL, numbers 0, BOOL false, ENUM
                                  * the first choice, list empty) */
    long long min, max;          /* INT and DOUBLE range, checked when
                                  * min < max */
    const char *const *choices;  /* ENUM: NULL-terminated accepted words */
    const char *help;            /* one line, for --help and the man page */
};

struct config_schema {
    const char *name;            /* "nova.yaml": used in schema errors */
    const struct config_key *keys;
    size_t n_keys;
};

/* Sets every field of 'target' named by 'schema' to its default.  The
 * fields are treated as uninitialised: nothing is freed first.  Returns NULL
 * on success.  A default that does not pass its own validator is a bug in
 * the schema and yields an ERROR_INTERNAL error; even then every field is
 * left in a state config_destroy() accepts (unset). */
struct error *config_init(const struct config_schema *schema, void *target)
    WARN_UNUSED;

/* Reads the YAML file 'path' and stores each key it sets into 'target',
 * which config_init() must have prepared; keys the file does not mention
 * keep their values.  Returns NULL on success.  On error 'target' is left
 * exactly as it was, and the error reads "Cannot open configuration file
 * 'x': ...", or "PATH:LINE:COLUMN: ..." for a problem in the text. */
struct error *config_load_file(const struct config_schema *schema,
                               void *target, const char *path) WARN_UNUSED;

/* Like config_load_file() for the YAML text 'yaml' (NUL-terminated);
 * 'name' takes the place of the file name in messages. */
struct error *config_load_string(const struct config_schema *schema,
                                 void *target, const char *name,
                                 const char *yaml) WARN_UNUSED;

/* Applies one command-line override "PATH=VALUE" to 'target', with the
 * validator the file parser uses.  A STRING_LIST value is comma-separated
 * ("a,b,c"; blanks around items are dropped; "" is the empty list).
 * Returns NULL on success; on error 'target' is unchanged and the message
 * reads "invalid override 'ASSIGNMENT': ...". */
struct error *config_set(const struct config_schema *schema, void *target,
                         const char *assignment) WARN_UNUSED;

/* Frees the strings and lists of 'target' and resets those fields to unset,
 * so that calling it twice is harmless.  Fields may already be NULL. */
void config_destroy(const struct config_schema *schema, void *target);

/* Writes one aligned line per key to 'stream': path, type, default, help
 * (with the range or the accepted words when there are some). */
void config_print_help(const struct config_schema *schema, FILE *stream);

/* Returns the key whose path is exactly 'path', or NULL. */
const struct config_key *config_find_key(const struct config_schema *schema,
                                         const char *path);

/* "string", "integer", "boolean", "number", "enum", "list". */
const char *config_type_to_string(enum config_type type);

#endif /* NOVA_CONFIG_H */
