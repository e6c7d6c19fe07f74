/* nova-manage.c: the administration command line.
 *
 *     nova-manage [--config FILE] [--set KEY=VALUE]... [--log-level SPEC]
 *                 CATEGORY VERB [ARGS]
 *
 * Commands live in one table (category, verb, argument counts, handler,
 * help), as in Open vSwitch's ovs-vsctl: adding a command is writing its
 * handler and adding one line to 'manage_commands'.  The table also
 * produces the command list of --help and the usage of each command.
 *
 * Results go to standard output.  A failed command prints
 * "nova-manage: MESSAGE" on standard error and exits 1; a mistake on the
 * command line names the mistake and exits 2. */
#include <config.h>

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/cleanup.h"
#include "shared/config.h"
#include "shared/daemon.h"
#include "shared/db-migrate.h"
#include "shared/db.h"
#include "shared/error.h"
#include "shared/log.h"
#include "shared/xalloc.h"

LOG_MODULE("manage");

#define MANAGE_NAME "nova-manage"
#define MANAGE_EXIT_OK 0
#define MANAGE_EXIT_FAILURE 1
#define MANAGE_EXIT_USAGE 2

struct manage_config {
    struct daemon_common common;
    char *api_database_connection;
    char *database_connection;
};

static const struct config_key manage_keys[] = {
    DAEMON_COMMON_KEYS(struct manage_config, common),
    { "api_database.connection", CONFIG_TYPE_STRING,
      offsetof(struct manage_config, api_database_connection), NULL, 0, 0,
      NULL, "URL of the API database, for the api_db commands "
      "(mysql://USER:PASSWORD@HOST:PORT/nova_api)" },
    { "database.connection", CONFIG_TYPE_STRING,
      offsetof(struct manage_config, database_connection), NULL, 0, 0,
      NULL, "URL of the cell database, for the db commands "
      "(mysql://USER:PASSWORD@HOST:PORT/nova_cell1)" },
};

static const struct config_schema manage_schema = {
    "nova.yaml", manage_keys, ARRAY_SIZE(manage_keys),
};

/* What a command handler gets. */
struct manage_ctx {
    const struct manage_config *config;
    FILE *out;                  /* Results. */
};

typedef struct error *manage_handler(struct manage_ctx *ctx, int argc,
                                     char *argv[]);

struct manage_command {
    const char *category;
    const char *verb;
    const char *args;           /* Argument synopsis, "" for none. */
    int min_args;
    int max_args;
    manage_handler *handler;
    const char *help;
};

/* ---- Database commands ----------------------------------------------- */

/* Opens the database of config key 'key', whose value is 'url'. */
static struct error *
manage_open_db(const char *key, const char *url, struct db **ret_db)
{
    if (!url || !*url) {
        return error_new(ERROR_INVALID, "No database URL: set '%s' in the "
                         "configuration file or give --set %s=URL", key,
                         key);
    }
    return db_open(url, ret_db);
}

static struct error *
manage_sync(struct manage_ctx *ctx, enum db_schema schema, const char *key,
            const char *url)
{
    CLEANUP(db_closep) struct db *db = NULL;
    struct error *error;
    int from, to;

    error = manage_open_db(key, url, &db);
    if (!error) {
        error = db_migrate(db, schema, &from, &to);
    }
    if (error) {
        return error_wrap(error, "Cannot upgrade the %s database schema",
                          db_schema_to_string(schema));
    }
    if (from == to) {
        fprintf(ctx->out, "The %s database schema is up to date (version "
                "%d)\n", db_schema_to_string(schema), to);
    } else {
        fprintf(ctx->out, "Upgraded the %s database schema from version %d "
                "to %d\n", db_schema_to_string(schema), from, to);
    }
    return NULL;
}

static struct error *
manage_version(struct manage_ctx *ctx, enum db_schema schema,
               const char *key, const char *url)
{
    CLEANUP(db_closep) struct db *db = NULL;
    struct error *error;
    int version;

    error = manage_open_db(key, url, &db);
    if (!error) {
        error = db_schema_version(db, schema, &version);
    }
    if (error) {
        return error_wrap(error, "Cannot read the %s database schema "
                          "version", db_schema_to_string(schema));
    }
    fprintf(ctx->out, "%d\n", version);
    return NULL;
}

static struct error *
manage_api_db_sync(struct manage_ctx *ctx, int argc, char *argv[])
{
    return manage_sync(ctx, DB_SCHEMA_API, "api_database.connection",
                       ctx->config->api_database_connection);
}

static struct error *
manage_api_db_version(struct manage_ctx *ctx, int argc, char *argv[])
{
    return manage_version(ctx, DB_SCHEMA_API, "api_database.connection",
                          ctx->config->api_database_connection);
}

static struct error *
manage_db_sync(struct manage_ctx *ctx, int argc, char *argv[])
{
    return manage_sync(ctx, DB_SCHEMA_CELL, "database.connection",
                       ctx->config->database_connection);
}

static struct error *
manage_db_version(struct manage_ctx *ctx, int argc, char *argv[])
{
    return manage_version(ctx, DB_SCHEMA_CELL, "database.connection",
                          ctx->config->database_connection);
}

/* ---- The command table ----------------------------------------------- */

static const struct manage_command manage_commands[] = {
    { "api_db", "sync", "", 0, 0, manage_api_db_sync,
      "upgrade the API database schema (api_database.connection)" },
    { "api_db", "version", "", 0, 0, manage_api_db_version,
      "print the API database schema version" },
    { "db", "sync", "", 0, 0, manage_db_sync,
      "upgrade the cell database schema (database.connection)" },
    { "db", "version", "", 0, 0, manage_db_version,
      "print the cell database schema version" },
};

/* The --help text after the usage line: a summary and the commands. */
static char *
manage_help_summary(void)
{
    AUTOFREE char *text = xstrdup("Administer the cloud's databases and "
                                  "cells.\n\nCommands:");

    for (size_t i = 0; i < ARRAY_SIZE(manage_commands); i++) {
        const struct manage_command *c = &manage_commands[i];
        AUTOFREE char *synopsis = xasprintf("%s %s%s%s", c->category,
                                            c->verb, *c->args ? " " : "",
                                            c->args);
        char *longer = xasprintf("%s\n  %-22s %s", text, synopsis, c->help);

        free(text);
        text = longer;
    }
    return TAKE_PTR(text);
}

/* Writes the verbs of 'category' as "a, b, c" into a new string. */
static char *
manage_verbs_of(const char *category)
{
    AUTOFREE char *list = xstrdup("");

    for (size_t i = 0; i < ARRAY_SIZE(manage_commands); i++) {
        if (!strcmp(manage_commands[i].category, category)) {
            char *longer = xasprintf("%s%s%s", list, *list ? ", " : "",
                                     manage_commands[i].verb);
            free(list);
            list = longer;
        }
    }
    return TAKE_PTR(list);
}

static bool
manage_category_exists(const char *category)
{
    for (size_t i = 0; i < ARRAY_SIZE(manage_commands); i++) {
        if (!strcmp(manage_commands[i].category, category)) {
            return true;
        }
    }
    return false;
}

static void PRINTF_FMT(1, 2)
manage_usage_error(const char *fmt, ...)
{
    va_list args;

    fprintf(stderr, MANAGE_NAME ": ");
    va_start(args, fmt);
    vfprintf(stderr, fmt, args);
    va_end(args);
    fprintf(stderr, "; see '" MANAGE_NAME " --help'\n");
}

/* Finds the command for 'argv' and checks its argument count.  Returns the
 * command, or NULL after printing a usage error. */
static const struct manage_command *
manage_find_command(int argc, char *argv[])
{
    if (argc < 1) {
        manage_usage_error("missing command");
        return NULL;
    }
    if (argc < 2) {
        if (manage_category_exists(argv[0])) {
            AUTOFREE char *verbs = manage_verbs_of(argv[0]);
            manage_usage_error("'%s' needs a command: %s", argv[0], verbs);
        } else {
            manage_usage_error("unknown command '%s'", argv[0]);
        }
        return NULL;
    }

    for (size_t i = 0; i < ARRAY_SIZE(manage_commands); i++) {
        const struct manage_command *c = &manage_commands[i];
        int n_args = argc - 2;

        if (strcmp(c->category, argv[0]) || strcmp(c->verb, argv[1])) {
            continue;
        }
        if (n_args < c->min_args || n_args > c->max_args) {
            if (c->max_args == 0) {
                manage_usage_error("'%s %s' takes no arguments, but '%s' "
                                   "was given", c->category, c->verb,
                                   argv[2]);
            } else if (n_args < c->min_args) {
                manage_usage_error("'%s %s' needs at least %d "
                                   "argument(s): %s %s %s", c->category,
                                   c->verb, c->min_args, c->category,
                                   c->verb, c->args);
            } else {
                manage_usage_error("'%s %s' takes at most %d argument(s): "
                                   "%s %s %s", c->category, c->verb,
                                   c->max_args, c->category, c->verb,
                                   c->args);
            }
            return NULL;
        }
        return c;
    }
    manage_usage_error("unknown command '%s %s'", argv[0], argv[1]);
    return NULL;
}

/* Prints 'message' on stderr with the program name in front. */
static void
manage_print_error(const char *message)
{
    fprintf(stderr, MANAGE_NAME ": %s\n", message);
}

int
main(int argc, char *argv[])
{
    struct manage_config config;
    AUTOFREE char *summary = manage_help_summary();
    const struct daemon_info info = {
        .name = MANAGE_NAME,
        .usage = "CATEGORY VERB [ARGS]",
        .summary = summary,
        .schema = &manage_schema,
        .common_offset = offsetof(struct manage_config, common),
    };
    const struct manage_command *command;
    struct error *error;
    bool exit_now;
    int first;
    int status = MANAGE_EXIT_OK;

    db_library_init();
    error = daemon_start(&info, argc, argv, &config, &first, &exit_now);
    if (error) {
        status = (error_kind(error) == ERROR_INVALID ? MANAGE_EXIT_USAGE
                                                     : MANAGE_EXIT_FAILURE);
        manage_print_error(error_message(error));
        error_free(error);
        goto out;
    }
    if (exit_now) {
        goto out_config;
    }

    command = manage_find_command(argc - first, argv + first);
    if (!command) {
        status = MANAGE_EXIT_USAGE;
        goto out_config;
    }

    struct manage_ctx ctx = { .config = &config, .out = stdout };
    LOG_DBG("Running '%s %s'", command->category, command->verb);
    error = command->handler(&ctx, argc - first - 2, argv + first + 2);
    if (error) {
        manage_print_error(error_message(error));
        error_free(error);
        status = MANAGE_EXIT_FAILURE;
    }

out_config:
    config_destroy(&manage_schema, &config);
out:
    if (fflush(stdout) || ferror(stdout)) {
        fprintf(stderr, MANAGE_NAME ": cannot write the output\n");
        status = MANAGE_EXIT_FAILURE;
    }
    db_library_end();
    return status;
}
