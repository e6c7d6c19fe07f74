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

#include "api-cell/identity-password.h"
#include "api-cell/identity-store.h"
#include "api-cell/manage-cell.h"
#include "api-cell/manage-host.h"
#include "api-cell/manage-instance.h"
#include "api-cell/manage-service.h"
#include "api-cell/manage-heal.h"
#include "child-cell/cell-db-service.h"
#include "shared/cleanup.h"
#include "shared/config.h"
#include "shared/daemon.h"
#include "shared/db-migrate.h"
#include "shared/db.h"
#include "shared/error.h"
#include "shared/log.h"
#include "shared/timeutil.h"
#include "shared/xalloc.h"

LOG_MODULE("manage");

#define MANAGE_NAME "nova-manage"
#define MANAGE_EXIT_OK 0
#define MANAGE_EXIT_FAILURE 1
#define MANAGE_EXIT_USAGE 2
/* Width of the synopsis column of --help. */
#define MANAGE_HELP_COLUMN 22

struct manage_config {
    struct daemon_common common;
    char *api_database_connection;
    char *database_connection;
};

static const struct config_key manage_keys[] = {
    DAEMON_COMMON_KEYS(struct manage_config, common),
    { "api_database.connection", CONFIG_TYPE_STRING,
      offsetof(struct manage_config, api_database_connection), NULL, 0, 0,
      NULL, "URL of the API database, for the api_db, project, user, "
      "role and cell commands (mysql://USER:PASSWORD@HOST:PORT/nova_api)" },
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
    bool usage_error;           /* The handler's error is a mistake on
                                 * the command line (exit 2). */
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
    /* Instead of 'handler', for the commands of manage-cell.h. */
    manage_cell_handler *cell_handler;
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

/* ---- Identity commands: projects, users, roles ------------------------ */

/* Reports a mistake on a command's own command line (exit status 2). */
static struct error * PRINTF_FMT(2, 3)
manage_usage(struct manage_ctx *ctx, const char *fmt, ...)
{
    struct error *error;
    va_list args;

    va_start(args, fmt);
    error = error_newv(ERROR_INVALID, fmt, args);
    va_end(args);
    ctx->usage_error = true;
    return error;
}

/* Returns a usage 'error' as it is, any other explained by 'what'. */
static struct error *
manage_failed(struct manage_ctx *ctx, struct error *error, const char *what)
{
    return ctx->usage_error ? error : error_wrap(error, "%s", what);
}

/* An option of a command: "--name VALUE", or a flag without a value. */
struct manage_option {
    const char *name;           /* "--password" */
    bool has_value;
    const char *value;          /* Set when seen: the value, or the name
                                 * itself for a flag. */
};

/* Splits 'argv' into the options of 'options' (each at most once) and at
 * most 'max_positional' other arguments, stored in 'positional'. */
static struct error *
manage_parse_args(struct manage_ctx *ctx, int argc, char *argv[],
                  struct manage_option *options, size_t n_options,
                  const char **positional, size_t max_positional,
                  size_t *ret_n_positional)
{
    size_t n_positional = 0;

    for (int i = 0; i < argc; i++) {
        struct manage_option *option = NULL;

        if (!strncmp(argv[i], "--", 2)) {
            for (size_t j = 0; j < n_options; j++) {
                if (!strcmp(argv[i], options[j].name)) {
                    option = &options[j];
                }
            }
            if (!option) {
                return manage_usage(ctx, "unknown option '%s'", argv[i]);
            }
            if (option->value) {
                return manage_usage(ctx, "option '%s' is given twice",
                                    argv[i]);
            }
            if (option->has_value) {
                if (i + 1 >= argc) {
                    return manage_usage(ctx, "option '%s' needs a value",
                                        argv[i]);
                }
                option->value = argv[++i];
            } else {
                option->value = option->name;
            }
        } else if (n_positional < max_positional) {
            positional[n_positional++] = argv[i];
        } else {
            return manage_usage(ctx, "unexpected argument '%s'", argv[i]);
        }
    }
    *ret_n_positional = n_positional;
    return NULL;
}

/* Longest line read by --password-stdin, in bytes. */
#define MANAGE_PASSWORD_LINE_SIZE (IDENTITY_PASSWORD_MAX_SIZE + 2)

/* Gets the new password from '--password P' or '--password-stdin' (the
 * first line of standard input, without its line end) into a new string
 * in '*ret_password'. */
static struct error *
manage_get_password(struct manage_ctx *ctx, const char *password,
                    bool from_stdin, char **ret_password)
{
    AUTOFREE char *line = NULL;
    size_t n;

    if (!password == !from_stdin) {
        return manage_usage(ctx, "give exactly one of '--password P' and "
                            "'--password-stdin'");
    }
    if (password) {
        *ret_password = xstrdup(password);
        return NULL;
    }
    line = xmalloc(MANAGE_PASSWORD_LINE_SIZE + 1);
    if (!fgets(line, MANAGE_PASSWORD_LINE_SIZE + 1, stdin)) {
        return error_new(ERROR_INVALID, "No password on standard input");
    }
    n = strlen(line);
    if (n && line[n - 1] != '\n' && !feof(stdin)) {
        return error_new(ERROR_INVALID, "The password on standard input is "
                         "longer than %d bytes", IDENTITY_PASSWORD_MAX_SIZE);
    }
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) {
        line[--n] = '\0';
    }
    *ret_password = TAKE_PTR(line);
    return NULL;
}

/* The display width of 's': its UTF-8 characters. */
static size_t
manage_text_width(const char *s)
{
    size_t width = 0;

    for (; *s; s++) {
        width += ((unsigned char) *s & 0xc0) != 0x80;
    }
    return width;
}

/* Prints 'n_rows' rows of 'n_cols' cells ('cells', row after row; NULL
 * cells print as "-") under 'headers', in aligned columns. */
static void
manage_print_table(FILE *out, const char *const *headers, size_t n_cols,
                   const char *const *cells, size_t n_rows)
{
    AUTOFREE size_t *widths = xcalloc(n_cols, sizeof *widths);

    for (size_t c = 0; c < n_cols; c++) {
        widths[c] = manage_text_width(headers[c]);
        for (size_t r = 0; r < n_rows; r++) {
            const char *cell = cells[r * n_cols + c];
            size_t w = manage_text_width(cell ? cell : "-");

            widths[c] = w > widths[c] ? w : widths[c];
        }
    }
    for (size_t r = 0; r <= n_rows; r++) {
        for (size_t c = 0; c < n_cols; c++) {
            const char *cell = r ? cells[(r - 1) * n_cols + c] : headers[c];

            cell = cell ? cell : "-";
            if (c + 1 == n_cols) {
                fprintf(out, "%s\n", cell);
            } else {
                fprintf(out, "%s%*s  ", cell,
                        (int) (widths[c] - manage_text_width(cell)), "");
            }
        }
    }
}

/* Opens the API database for the identity commands. */
static struct error *
manage_open_api_db(struct manage_ctx *ctx, struct db **ret_db)
{
    return manage_open_db("api_database.connection",
                          ctx->config->api_database_connection, ret_db);
}

static const char *
manage_bool_text(bool b)
{
    return b ? "True" : "False";
}

static struct error *
manage_project_create(struct manage_ctx *ctx, int argc, char *argv[])
{
    struct manage_option options[] = { { "--description", true, NULL } };
    CLEANUP(db_closep) struct db *db = NULL;
    struct identity_project project;
    const char *name;
    struct error *error;
    size_t n;

    error = manage_parse_args(ctx, argc, argv, options, ARRAY_SIZE(options),
                              &name, 1, &n);
    if (!error && n != 1) {
        error = manage_usage(ctx, "'project create' needs a project name");
    }
    if (!error) {
        error = manage_open_api_db(ctx, &db);
    }
    if (!error) {
        error = identity_store_project_create(db, name, options[0].value,
                                              &project);
    }
    if (error) {
        return manage_failed(ctx, error, "Cannot create the project");
    }
    fprintf(ctx->out, "Created project '%s' (id %s)\n", project.name,
            project.id);
    identity_project_destroy(&project);
    return NULL;
}

static struct error *
manage_project_list(struct manage_ctx *ctx, int argc, char *argv[])
{
    static const char *const headers[] = {
        "ID", "NAME", "ENABLED", "DESCRIPTION"
    };
    CLEANUP(db_closep) struct db *db = NULL;
    struct identity_project *projects = NULL;
    struct error *error;
    size_t n = 0;

    error = manage_open_api_db(ctx, &db);
    if (!error) {
        error = identity_store_project_list(db, &projects, &n);
    }
    if (error) {
        return manage_failed(ctx, error, "Cannot list the projects");
    }
    AUTOFREE const char **cells = xcalloc(n * ARRAY_SIZE(headers) + 1,
                                          sizeof *cells);
    for (size_t i = 0; i < n; i++) {
        const char **row = &cells[i * ARRAY_SIZE(headers)];

        row[0] = projects[i].id;
        row[1] = projects[i].name;
        row[2] = manage_bool_text(projects[i].enabled);
        row[3] = projects[i].description;
    }
    manage_print_table(ctx->out, headers, ARRAY_SIZE(headers), cells, n);
    identity_project_array_free(projects, n);
    return NULL;
}

static struct error *
manage_project_delete(struct manage_ctx *ctx, int argc, char *argv[])
{
    CLEANUP(db_closep) struct db *db = NULL;
    struct error *error;

    error = manage_open_api_db(ctx, &db);
    if (!error) {
        error = identity_store_project_delete(db, argv[0]);
    }
    if (error) {
        return manage_failed(ctx, error, "Cannot delete the project");
    }
    fprintf(ctx->out, "Deleted project '%s'\n", argv[0]);
    return NULL;
}

static struct error *
manage_user_create(struct manage_ctx *ctx, int argc, char *argv[])
{
    struct manage_option options[] = {
        { "--password", true, NULL },
        { "--password-stdin", false, NULL },
        { "--project", true, NULL },
    };
    CLEANUP(db_closep) struct db *db = NULL;
    AUTOFREE char *password = NULL;
    AUTOFREE char *hash = NULL;
    struct identity_user user;
    const char *name;
    struct error *error;
    size_t n;

    error = manage_parse_args(ctx, argc, argv, options, ARRAY_SIZE(options),
                              &name, 1, &n);
    if (!error && n != 1) {
        error = manage_usage(ctx, "'user create' needs a user name");
    }
    if (!error) {
        error = manage_get_password(ctx, options[0].value,
                                    options[1].value != NULL, &password);
    }
    if (!error) {
        error = identity_password_hash(password, &hash);
    }
    if (!error) {
        error = manage_open_api_db(ctx, &db);
    }
    if (!error) {
        error = identity_store_user_create(db, name, hash, options[2].value,
                                           &user);
    }
    if (error) {
        return manage_failed(ctx, error, "Cannot create the user");
    }
    fprintf(ctx->out, "Created user '%s' (id %s)\n", user.name, user.id);
    identity_user_destroy(&user);
    return NULL;
}

static struct error *
manage_user_list(struct manage_ctx *ctx, int argc, char *argv[])
{
    static const char *const headers[] = {
        "ID", "NAME", "ENABLED", "DEFAULT_PROJECT"
    };
    CLEANUP(db_closep) struct db *db = NULL;
    struct identity_user *users = NULL;
    struct identity_project *projects = NULL;
    size_t n_users = 0, n_projects = 0;
    struct error *error;

    error = manage_open_api_db(ctx, &db);
    if (!error) {
        error = identity_store_user_list(db, &users, &n_users);
    }
    if (!error) {
        error = identity_store_project_list(db, &projects, &n_projects);
    }
    if (error) {
        identity_user_array_free(users, n_users);
        return error_wrap(error, "Cannot list the users");
    }
    AUTOFREE const char **cells = xcalloc(n_users * ARRAY_SIZE(headers) + 1,
                                          sizeof *cells);
    for (size_t i = 0; i < n_users; i++) {
        const char **row = &cells[i * ARRAY_SIZE(headers)];

        row[0] = users[i].id;
        row[1] = users[i].name;
        row[2] = manage_bool_text(users[i].enabled);
        for (size_t j = 0; users[i].default_project_id && j < n_projects;
             j++) {
            if (!strcmp(projects[j].id, users[i].default_project_id)) {
                row[3] = projects[j].name;
            }
        }
    }
    manage_print_table(ctx->out, headers, ARRAY_SIZE(headers), cells,
                       n_users);
    identity_user_array_free(users, n_users);
    identity_project_array_free(projects, n_projects);
    return NULL;
}

static struct error *
manage_user_set_enabled(struct manage_ctx *ctx, const char *name,
                        bool enabled)
{
    CLEANUP(db_closep) struct db *db = NULL;
    struct error *error;

    error = manage_open_api_db(ctx, &db);
    if (!error) {
        error = identity_store_user_set_enabled(db, name, enabled);
    }
    if (error) {
        return manage_failed(ctx, error, (enabled ? "Cannot enable the user"
                                          : "Cannot disable the user"));
    }
    fprintf(ctx->out, "%s user '%s'\n", enabled ? "Enabled" : "Disabled",
            name);
    return NULL;
}

static struct error *
manage_user_disable(struct manage_ctx *ctx, int argc, char *argv[])
{
    return manage_user_set_enabled(ctx, argv[0], false);
}

static struct error *
manage_user_enable(struct manage_ctx *ctx, int argc, char *argv[])
{
    return manage_user_set_enabled(ctx, argv[0], true);
}

static struct error *
manage_user_set_password(struct manage_ctx *ctx, int argc, char *argv[])
{
    struct manage_option options[] = {
        { "--password", true, NULL },
        { "--password-stdin", false, NULL },
    };
    CLEANUP(db_closep) struct db *db = NULL;
    AUTOFREE char *password = NULL;
    AUTOFREE char *hash = NULL;
    const char *name;
    struct error *error;
    size_t n;

    error = manage_parse_args(ctx, argc, argv, options, ARRAY_SIZE(options),
                              &name, 1, &n);
    if (!error && n != 1) {
        error = manage_usage(ctx, "'user set-password' needs a user name");
    }
    if (!error) {
        error = manage_get_password(ctx, options[0].value,
                                    options[1].value != NULL, &password);
    }
    if (!error) {
        error = identity_password_hash(password, &hash);
    }
    if (!error) {
        error = manage_open_api_db(ctx, &db);
    }
    if (!error) {
        error = identity_store_user_set_password(db, name, hash);
    }
    if (error) {
        return manage_failed(ctx, error, "Cannot set the password");
    }
    fprintf(ctx->out, "Changed the password of user '%s'\n", name);
    return NULL;
}

static struct error *
manage_user_delete(struct manage_ctx *ctx, int argc, char *argv[])
{
    CLEANUP(db_closep) struct db *db = NULL;
    struct error *error;

    error = manage_open_api_db(ctx, &db);
    if (!error) {
        error = identity_store_user_delete(db, argv[0]);
    }
    if (error) {
        return manage_failed(ctx, error, "Cannot delete the user");
    }
    fprintf(ctx->out, "Deleted user '%s'\n", argv[0]);
    return NULL;
}

/* "role add" and "role remove": --user U --project P ROLE. */
static struct error *
manage_role_change(struct manage_ctx *ctx, int argc, char *argv[],
                   bool add)
{
    struct manage_option options[] = {
        { "--user", true, NULL },
        { "--project", true, NULL },
    };
    CLEANUP(db_closep) struct db *db = NULL;
    const char *role;
    struct error *error;
    size_t n;

    error = manage_parse_args(ctx, argc, argv, options, ARRAY_SIZE(options),
                              &role, 1, &n);
    if (!error && (n != 1 || !options[0].value || !options[1].value)) {
        error = manage_usage(ctx, "'role %s' needs --user USER --project "
                             "PROJECT ROLE", add ? "add" : "remove");
    }
    if (!error) {
        error = manage_open_api_db(ctx, &db);
    }
    if (!error) {
        error = (add ? identity_store_role_add : identity_store_role_remove)(
            db, options[0].value, options[1].value, role);
    }
    if (error) {
        return manage_failed(ctx, error, (add ? "Cannot add the role"
                                          : "Cannot remove the role"));
    }
    fprintf(ctx->out, "%s role '%s' on project '%s' %s user '%s'\n",
            add ? "Gave" : "Removed", role, options[1].value,
            add ? "to" : "from", options[0].value);
    return NULL;
}

static struct error *
manage_role_add(struct manage_ctx *ctx, int argc, char *argv[])
{
    return manage_role_change(ctx, argc, argv, true);
}

static struct error *
manage_role_remove(struct manage_ctx *ctx, int argc, char *argv[])
{
    return manage_role_change(ctx, argc, argv, false);
}

static struct error *
manage_role_list(struct manage_ctx *ctx, int argc, char *argv[])
{
    static const char *const headers[] = { "USER", "PROJECT", "ROLE" };
    struct manage_option options[] = { { "--user", true, NULL } };
    CLEANUP(db_closep) struct db *db = NULL;
    struct identity_assignment *a = NULL;
    struct error *error;
    size_t n = 0;

    error = manage_parse_args(ctx, argc, argv, options, ARRAY_SIZE(options),
                              NULL, 0, &n);
    if (!error) {
        error = manage_open_api_db(ctx, &db);
    }
    if (!error) {
        error = identity_store_assignment_list(db, options[0].value, &a, &n);
    }
    if (error) {
        return manage_failed(ctx, error, "Cannot list the role assignments");
    }
    AUTOFREE const char **cells = xcalloc(n * ARRAY_SIZE(headers) + 1,
                                          sizeof *cells);
    for (size_t i = 0; i < n; i++) {
        const char **row = &cells[i * ARRAY_SIZE(headers)];

        row[0] = a[i].user_name;
        row[1] = a[i].project_name;
        row[2] = a[i].role_name;
    }
    manage_print_table(ctx->out, headers, ARRAY_SIZE(headers), cells, n);
    identity_assignment_array_free(a, n);
    return NULL;
}

/* ---- Service commands: the services of a cell ------------------------ */

/* The zone 'nova service-list' shows for services that run no instances. */
#define MANAGE_INTERNAL_ZONE "internal"
/* The zone of compute services (no host aggregates yet). */
#define MANAGE_COMPUTE_ZONE "nova"
#define MANAGE_COMPUTE_BINARY "nova-compute"
/* Room for a service id in decimal. */
#define MANAGE_ID_SIZE 24

static struct error *
manage_open_cell_db(struct manage_ctx *ctx, struct db **ret_db)
{
    return manage_open_db("database.connection",
                          ctx->config->database_connection, ret_db);
}

/* True if a service command goes through the tree of cells
 * (manage-service.h): --cell is given, or there is no
 * database.connection of one cell to work on. */
static bool
manage_service_in_tree(const struct manage_ctx *ctx, int argc, char *argv[])
{
    const char *db = ctx->config->database_connection;

    for (int i = 0; i < argc; i++) {
        if (!strncmp(argv[i], "--cell", 6)
            && (!argv[i][6] || argv[i][6] == '=')) {
            return true;
        }
    }
    return !db || !*db;
}

/* Runs 'handler' of manage-service.h for 'ctx'. */
static struct error *
manage_service_run_tree(struct manage_ctx *ctx, manage_cell_handler *handler,
                        int argc, char *argv[])
{
    struct error *error = handler(ctx->config->api_database_connection,
                                  ctx->out, argc, argv);

    ctx->usage_error = error && manage_cell_error_is_usage(error);
    return error;
}

/* "service list": the columns of Nova's 'nova service-list'. */
static struct error *
manage_service_list(struct manage_ctx *ctx, int argc, char *argv[])
{
    static const char *const headers[] = {
        "Id", "Binary", "Host", "Zone", "Status", "State", "Updated At",
        "Disabled Reason", "Forced down",
    };
    CLEANUP(cell_db_service_list_freep) struct cell_db_service_list *list
        = NULL;
    CLEANUP(db_closep) struct db *db = NULL;
    struct error *error;

    if (manage_service_in_tree(ctx, argc, argv)) {
        return manage_service_run_tree(ctx, manage_service_tree_list, argc,
                                       argv);
    }
    if (argc) {
        return manage_usage(ctx, "'service list' of one cell takes no "
                            "arguments; use --cell NAME for the tree");
    }
    error = manage_open_cell_db(ctx, &db);
    if (!error) {
        error = cell_db_service_list(db, NULL, CELL_DB_SERVICE_DOWN_TIME_S,
                                     &list);
    }
    if (error) {
        return error_wrap(error, "Cannot list the services");
    }

    size_t n_cols = ARRAY_SIZE(headers);
    AUTOFREE const char **cells = xcalloc(list->n * n_cols + 1,
                                          sizeof *cells);
    AUTOFREE char (*ids)[MANAGE_ID_SIZE] = xcalloc(list->n + 1,
                                                   sizeof *ids);
    AUTOFREE char (*times)[TIME_ISO8601_SIZE] = xcalloc(list->n + 1,
                                                        sizeof *times);
    for (size_t i = 0; i < list->n; i++) {
        const struct cell_db_service *s = &list->items[i];
        const char **row = &cells[i * n_cols];

        snprintf(ids[i], sizeof ids[i], "%lld", (long long) s->id);
        if (s->updated_at == INT64_MIN
            || time_format_iso8601(s->updated_at, TIME_STYLE_MICROS,
                                   times[i], sizeof times[i])) {
            times[i][0] = '\0';
        }
        row[0] = ids[i];
        row[1] = s->binary;
        row[2] = s->host;
        row[3] = (s->binary && !strcmp(s->binary, MANAGE_COMPUTE_BINARY)
                  ? MANAGE_COMPUTE_ZONE : MANAGE_INTERNAL_ZONE);
        row[4] = s->disabled ? "disabled" : "enabled";
        row[5] = s->up ? "up" : "down";
        row[6] = times[i][0] ? times[i] : NULL;
        row[7] = s->disabled_reason;
        row[8] = s->forced_down ? "True" : "False";
    }
    manage_print_table(ctx->out, headers, n_cols, cells, list->n);
    return NULL;
}

/* Parses "HOST BINARY" and the options of a service command. */
static struct error *
manage_service_args(struct manage_ctx *ctx, int argc, char *argv[],
                    struct manage_option *options, size_t n_options,
                    const char **ret_host, const char **ret_binary)
{
    const char *positional[2];
    size_t n = 0;
    struct error *error = manage_parse_args(ctx, argc, argv, options,
                                            n_options, positional, 2, &n);

    if (!error && n != 2) {
        error = manage_usage(ctx, "the command needs HOST BINARY");
    }
    if (!error) {
        *ret_host = positional[0];
        *ret_binary = positional[1];
    }
    return error;
}

/* "service enable" and "service disable [--reason R]". */
static struct error *
manage_service_set_disabled(struct manage_ctx *ctx, int argc, char *argv[],
                            bool disabled)
{
    struct manage_option options[] = { { "--reason", true, NULL } };
    CLEANUP(db_closep) struct db *db = NULL;
    const char *host, *binary;
    struct error *error;

    if (manage_service_in_tree(ctx, argc, argv)) {
        return manage_service_run_tree(ctx, (disabled
                                             ? manage_service_tree_disable
                                             : manage_service_tree_enable),
                                       argc, argv);
    }
    error = manage_service_args(ctx, argc, argv, options,
                                disabled ? ARRAY_SIZE(options) : 0, &host,
                                &binary);
    if (!error) {
        error = manage_open_cell_db(ctx, &db);
    }
    if (!error) {
        error = cell_db_service_set_disabled(db, host, binary, disabled,
                                             options[0].value);
    }
    if (error) {
        return manage_failed(ctx, error, (disabled
                                          ? "Cannot disable the service"
                                          : "Cannot enable the service"));
    }
    fprintf(ctx->out, "%s %s on host '%s'\n",
            disabled ? "Disabled" : "Enabled", binary, host);
    return NULL;
}

static struct error *
manage_service_disable(struct manage_ctx *ctx, int argc, char *argv[])
{
    return manage_service_set_disabled(ctx, argc, argv, true);
}

static struct error *
manage_service_enable(struct manage_ctx *ctx, int argc, char *argv[])
{
    return manage_service_set_disabled(ctx, argc, argv, false);
}

/* "service force-down HOST BINARY [--unset]". */
static struct error *
manage_service_force_down(struct manage_ctx *ctx, int argc, char *argv[])
{
    struct manage_option options[] = { { "--unset", false, NULL } };
    CLEANUP(db_closep) struct db *db = NULL;
    const char *host, *binary;
    bool down;
    struct error *error;

    if (manage_service_in_tree(ctx, argc, argv)) {
        return manage_service_run_tree(ctx, manage_service_tree_force_down,
                                       argc, argv);
    }
    error = manage_service_args(ctx, argc, argv, options,
                                ARRAY_SIZE(options), &host, &binary);
    down = !options[0].value;
    if (!error) {
        error = manage_open_cell_db(ctx, &db);
    }
    if (!error) {
        error = cell_db_service_set_forced_down(db, host, binary, down);
    }
    if (error) {
        return manage_failed(ctx, error, "Cannot change the service");
    }
    fprintf(ctx->out, "%s %s on host '%s' %s\n", down ? "Forced" : "Unset",
            binary, host, down ? "down" : "forced down");
    return NULL;
}

/* ---- The command table ----------------------------------------------- */

static const struct manage_command manage_commands[] = {
    { "cell", "heal", "[--cell NAME] [--format F]", 0, 8, NULL,
      "repair the top view from the leaves (manage-heal.h)", manage_heal },
    { "api_db", "sync", "", 0, 0, manage_api_db_sync,
      "upgrade the API database schema (api_database.connection)" },
    { "api_db", "version", "", 0, 0, manage_api_db_version,
      "print the API database schema version" },
    { "db", "sync", "", 0, 0, manage_db_sync,
      "upgrade the cell database schema (database.connection)" },
    { "db", "version", "", 0, 0, manage_db_version,
      "print the cell database schema version" },
    { "project", "create", "NAME [--description D]", 1, 3,
      manage_project_create, "create a project (domain Default)" },
    { "project", "list", "", 0, 0, manage_project_list,
      "list the projects" },
    { "project", "delete", "NAME", 1, 1, manage_project_delete,
      "delete a project and its role assignments" },
    { "user", "create",
      "NAME --password P|--password-stdin [--project P]", 2, 5,
      manage_user_create, "create a user (default project P)" },
    { "user", "list", "", 0, 0, manage_user_list, "list the users" },
    { "user", "disable", "NAME", 1, 1, manage_user_disable,
      "disable a user, revoking its tokens" },
    { "user", "enable", "NAME", 1, 1, manage_user_enable,
      "enable a user" },
    { "user", "set-password", "NAME --password P|--password-stdin", 2, 3,
      manage_user_set_password,
      "change a user's password, revoking its tokens" },
    { "user", "delete", "NAME", 1, 1, manage_user_delete,
      "delete a user" },
    { "role", "add", "--user U --project P ROLE", 5, 5, manage_role_add,
      "give user U role ROLE (admin, member, reader) on project P" },
    { "role", "remove", "--user U --project P ROLE", 5, 5,
      manage_role_remove, "take a role away, revoking the user's tokens" },
    { "role", "list", "[--user U]", 0, 2, manage_role_list,
      "list role assignments (of user U)" },
    { "service", "list",
      "[--cell NAME] [--host H] [--binary B] [--format F]", 0, 8,
      manage_service_list,
      "list the services (of the tree with --cell or without "
      "database.connection)" },
    { "service", "disable", "HOST BINARY [--cell NAME] [--reason R]", 2, 6,
      manage_service_disable, "stop scheduling to a service" },
    { "service", "enable", "HOST BINARY [--cell NAME]", 2, 4,
      manage_service_enable, "schedule to a service again" },
    { "service", "force-down", "HOST BINARY [--cell NAME] [--unset]", 2, 5,
      manage_service_force_down,
      "mark a service down whatever its heartbeats (--unset: undo)" },
};

/* Every command: manage_commands, then the commands of manage-cell.h,
 * manage-host.h and manage-instance.h (all with the signature of
 * manage-cell.h).  Built once by manage_commands_init(). */
static struct manage_command *manage_all;
static size_t manage_n_all;

static void
manage_commands_init(void)
{
    const struct {
        const struct manage_cell_command *commands;
        size_t n;
    } tables[] = {
        { manage_cell_commands, manage_cell_n_commands },
        { manage_host_commands, manage_host_n_commands },
        { manage_instance_commands, manage_instance_n_commands },
    };
    size_t n = ARRAY_SIZE(manage_commands);

    for (size_t t = 0; t < ARRAY_SIZE(tables); t++) {
        n += tables[t].n;
    }
    manage_all = xcalloc(n, sizeof *manage_all);
    memcpy(manage_all, manage_commands, sizeof manage_commands);
    n = ARRAY_SIZE(manage_commands);
    for (size_t t = 0; t < ARRAY_SIZE(tables); t++) {
        for (size_t i = 0; i < tables[t].n; i++) {
            const struct manage_cell_command *c = &tables[t].commands[i];

            manage_all[n++] = (struct manage_command) {
                .category = c->category, .verb = c->verb, .args = c->args,
                .min_args = c->min_args, .max_args = c->max_args,
                .help = c->help, .cell_handler = c->handler,
            };
        }
    }
    manage_n_all = n;
}

/* Runs 'command' and returns its error, setting 'ctx->usage_error' when
 * the error is a mistake on the command line. */
static struct error *
manage_run(const struct manage_command *command, struct manage_ctx *ctx,
           int argc, char *argv[])
{
    struct error *error;

    if (!command->cell_handler) {
        return command->handler(ctx, argc, argv);
    }
    error = command->cell_handler(ctx->config->api_database_connection,
                                  ctx->out, argc, argv);
    ctx->usage_error = error && manage_cell_error_is_usage(error);
    return error;
}

/* The --help text after the usage line: a summary and the commands. */
static char *
manage_help_summary(void)
{
    if (!manage_all) {
        manage_commands_init();
    }
    AUTOFREE char *text = xstrdup("Administer the cloud's databases and "
                                  "cells.\n\nCommands:");

    for (size_t i = 0; i < manage_n_all; i++) {
        const struct manage_command *c = &manage_all[i];
        AUTOFREE char *synopsis = xasprintf("%s %s%s%s", c->category,
                                            c->verb, *c->args ? " " : "",
                                            c->args);
        /* A synopsis too long for its column gets a line of its own. */
        char *longer = (strlen(synopsis) > MANAGE_HELP_COLUMN
                        ? xasprintf("%s\n  %s\n  %-*s %s", text, synopsis,
                                    MANAGE_HELP_COLUMN, "", c->help)
                        : xasprintf("%s\n  %-*s %s", text,
                                    MANAGE_HELP_COLUMN, synopsis, c->help));

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

    for (size_t i = 0; i < manage_n_all; i++) {
        if (!strcmp(manage_all[i].category, category)) {
            char *longer = xasprintf("%s%s%s", list, *list ? ", " : "",
                                     manage_all[i].verb);
            free(list);
            list = longer;
        }
    }
    return TAKE_PTR(list);
}

static bool
manage_category_exists(const char *category)
{
    for (size_t i = 0; i < manage_n_all; i++) {
        if (!strcmp(manage_all[i].category, category)) {
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

    for (size_t i = 0; i < manage_n_all; i++) {
        const struct manage_command *c = &manage_all[i];
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
    error = manage_run(command, &ctx, argc - first - 2, argv + first + 2);
    if (error && ctx.usage_error) {
        manage_usage_error("%s", error_message(error));
        error_free(error);
        status = MANAGE_EXIT_USAGE;
    } else if (error) {
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
    free(manage_all);
    return status;
}
