/* identity-store.c: the identity tables of the API database.
 *
 * All SQL of the projects, users, roles and role_assignments tables lives
 * here.  Statements that change several rows run in one db_txn_run()
 * transaction; their functions may run more than once (deadlock retries)
 * and keep nothing outside the database between attempts. */
#include <config.h>

#include "api-cell/identity-store.h"

#include <string.h>
#include <json-c/json.h>

#include "shared/cleanup.h"
#include "shared/db.h"
#include "shared/error.h"
#include "shared/json-util.h"
#include "shared/timeutil.h"
#include "shared/uuid-util.h"
#include "shared/xalloc.h"

void
identity_new_id(char out[IDENTITY_ID_SIZE])
{
    char uuid[UUID_STRING_SIZE];
    size_t n = 0;

    uuid_generate_string(uuid);
    for (const char *p = uuid; *p; p++) {
        if (*p != '-') {
            out[n++] = *p;
        }
    }
    out[n] = '\0';
}

/* ---- Freeing --------------------------------------------------------- */

void
identity_project_destroy(struct identity_project *p)
{
    if (p) {
        free(p->id);
        free(p->name);
        free(p->description);
        memset(p, 0, sizeof *p);
    }
}

void
identity_project_array_free(struct identity_project *a, size_t n)
{
    for (size_t i = 0; a && i < n; i++) {
        identity_project_destroy(&a[i]);
    }
    free(a);
}

void
identity_user_destroy(struct identity_user *u)
{
    if (u) {
        free(u->id);
        free(u->name);
        free(u->password_hash);
        free(u->default_project_id);
        memset(u, 0, sizeof *u);
    }
}

void
identity_user_array_free(struct identity_user *a, size_t n)
{
    for (size_t i = 0; a && i < n; i++) {
        identity_user_destroy(&a[i]);
    }
    free(a);
}

void
identity_role_destroy(struct identity_role *r)
{
    if (r) {
        free(r->id);
        free(r->name);
        memset(r, 0, sizeof *r);
    }
}

void
identity_role_array_free(struct identity_role *a, size_t n)
{
    for (size_t i = 0; a && i < n; i++) {
        identity_role_destroy(&a[i]);
    }
    free(a);
}

void
identity_assignment_array_free(struct identity_assignment *a, size_t n)
{
    for (size_t i = 0; a && i < n; i++) {
        free(a[i].user_id);
        free(a[i].user_name);
        free(a[i].project_id);
        free(a[i].project_name);
        free(a[i].role_id);
        free(a[i].role_name);
    }
    free(a);
}

void
identity_token_state_destroy(struct identity_token_state *s)
{
    if (s) {
        free(s->user_name);
        free(s->project_name);
        memset(s, 0, sizeof *s);
    }
}

/* ---- Helpers --------------------------------------------------------- */

/* Checks that 'value', the 'what' of something ("project name"), is a
 * non-empty string of valid UTF-8 without control characters and of at
 * most 'max_length' characters.  (json_get_string() knows how to count
 * UTF-8.) */
static struct error *
identity_store_check_text(const char *what, const char *value,
                          size_t max_length, bool allow_empty)
{
    CLEANUP(json_putp) struct json_object *s = NULL;
    struct error *error;
    const char *unused;

    if (!value || (!*value && !allow_empty)) {
        return error_new(ERROR_INVALID, "The %s must not be empty", what);
    }
    for (const char *p = value; *p; p++) {
        if ((unsigned char) *p < ' ' || *p == '\177') {
            return error_new(ERROR_INVALID, "The %s must not contain "
                             "control characters", what);
        }
    }
    s = json_object_new_string(value);
    error = json_get_string(s, what, NULL, true, max_length, &unused);
    if (error) {
        error_free(error);
        return error_new(ERROR_INVALID, "The %s must be valid UTF-8 of at "
                         "most %zu characters", what, max_length);
    }
    return NULL;
}

static char *
identity_store_dup(const struct db_rows *rows, size_t r, size_t c)
{
    return xstrdup_or_null(db_rows_get_str(rows, r, c));
}

static int64_t
identity_store_time(const struct db_rows *rows, size_t r, size_t c)
{
    const char *s = db_rows_get_str(rows, r, c);
    int64_t ms = 0;

    if (s && time_parse_mysql_datetime(s, &ms)) {
        ms = 0;
    }
    return ms;
}

/* Replaces a duplicate-key 'error' by ERROR_CONFLICT "'what' already
 * exists"; passes any other error through. */
static struct error *
identity_store_conflict(struct error *error, const char *what,
                        const char *name)
{
    if (error && error_kind(error) == ERROR_CONFLICT) {
        error_free(error);
        return error_new(ERROR_CONFLICT, "%s '%s' already exists", what,
                         name);
    }
    return error;
}

/* ---- Projects -------------------------------------------------------- */

#define IDENTITY_PROJECT_COLUMNS \
    "id, name, description, enabled, created_at"

static void
identity_store_project_from_row(const struct db_rows *rows, size_t r,
                                struct identity_project *p)
{
    p->id = identity_store_dup(rows, r, 0);
    p->name = identity_store_dup(rows, r, 1);
    p->description = identity_store_dup(rows, r, 2);
    p->enabled = db_rows_get_bool(rows, r, 3);
    p->created_at_ms = identity_store_time(rows, r, 4);
}

struct error *
identity_store_project_create(struct db *db, const char *name,
                              const char *description,
                              struct identity_project *ret_project)
{
    char id[IDENTITY_ID_SIZE];
    struct error *error;

    error = identity_store_check_text("project name", name,
                                      IDENTITY_PROJECT_NAME_MAX_LENGTH,
                                      false);
    if (!error && description) {
        error = identity_store_check_text("project description",
                                          description,
                                          IDENTITY_DESCRIPTION_MAX_LENGTH,
                                          true);
    }
    if (error) {
        return error;
    }
    identity_new_id(id);
    error = db_exec(db, "INSERT INTO projects (id, domain_id, name, "
                    "description, enabled, created_at, updated_at) "
                    "VALUES (?, ?, ?, ?, 1, UTC_TIMESTAMP(6), "
                    "UTC_TIMESTAMP(6))",
                    DB_PARAMS(DB_STR(id), DB_STR(IDENTITY_DOMAIN_ID),
                              DB_STR(name), DB_STR(description)), NULL);
    error = identity_store_conflict(error, "Project", name);
    if (!error && ret_project) {
        error = identity_store_project_get(db, id, NULL, ret_project);
    }
    return error;
}

struct error *
identity_store_project_get(struct db *db, const char *id, const char *name,
                           struct identity_project *ret_project)
{
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    struct error *error;

    if (id) {
        error = db_query(db, "SELECT " IDENTITY_PROJECT_COLUMNS
                         " FROM projects WHERE id = ?",
                         DB_PARAMS(DB_STR(id)), &rows);
    } else {
        error = db_query(db, "SELECT " IDENTITY_PROJECT_COLUMNS
                         " FROM projects WHERE domain_id = ? AND name = ?",
                         DB_PARAMS(DB_STR(IDENTITY_DOMAIN_ID),
                                   DB_STR(name)), &rows);
    }
    if (error) {
        return error;
    }
    if (!db_rows_count(rows)) {
        return error_new(ERROR_NOT_FOUND, "Project '%s' not found",
                         id ? id : name);
    }
    memset(ret_project, 0, sizeof *ret_project);
    identity_store_project_from_row(rows, 0, ret_project);
    return NULL;
}

struct error *
identity_store_project_list(struct db *db,
                            struct identity_project **ret_projects,
                            size_t *ret_n)
{
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    struct identity_project *projects;
    struct error *error;
    size_t n;

    error = db_query(db, "SELECT " IDENTITY_PROJECT_COLUMNS
                     " FROM projects WHERE domain_id = ? ORDER BY name",
                     DB_PARAMS(DB_STR(IDENTITY_DOMAIN_ID)), &rows);
    if (error) {
        return error;
    }
    n = db_rows_count(rows);
    projects = xcalloc(n ? n : 1, sizeof *projects);
    for (size_t r = 0; r < n; r++) {
        identity_store_project_from_row(rows, r, &projects[r]);
    }
    *ret_projects = projects;
    *ret_n = n;
    return NULL;
}

struct error *
identity_store_project_delete(struct db *db, const char *name)
{
    struct error *error;
    uint64_t n;

    error = db_exec(db, "DELETE FROM projects WHERE domain_id = ? AND "
                    "name = ?", DB_PARAMS(DB_STR(IDENTITY_DOMAIN_ID),
                                          DB_STR(name)), &n);
    if (!error && !n) {
        error = error_new(ERROR_NOT_FOUND, "Project '%s' not found", name);
    }
    return error;
}

/* ---- Users ----------------------------------------------------------- */

#define IDENTITY_USER_COLUMNS                                           \
    "id, name, password_hash, default_project_id, enabled, "            \
    "revocation_counter, created_at"

static void
identity_store_user_from_row(const struct db_rows *rows, size_t r,
                             struct identity_user *u)
{
    int64_t revocation = db_rows_get_int64(rows, r, 5);

    u->id = identity_store_dup(rows, r, 0);
    u->name = identity_store_dup(rows, r, 1);
    u->password_hash = identity_store_dup(rows, r, 2);
    u->default_project_id = identity_store_dup(rows, r, 3);
    u->enabled = db_rows_get_bool(rows, r, 4);
    u->revocation = revocation > 0 ? (uint64_t) revocation : 0;
    u->created_at_ms = identity_store_time(rows, r, 6);
}

struct identity_user_create {
    const char *id;
    const char *name;
    const char *password_hash;
    const char *default_project_name;
};

static struct error *
identity_store_user_create_txn(struct db *db, void *aux)
{
    const struct identity_user_create *c = aux;
    struct identity_project project = { 0 };
    struct error *error;

    if (c->default_project_name) {
        error = identity_store_project_get(db, NULL,
                                           c->default_project_name,
                                           &project);
        if (error) {
            return error;
        }
    }
    error = db_exec(db, "INSERT INTO users (id, domain_id, name, "
                    "password_hash, enabled, default_project_id, "
                    "revocation_counter, created_at, updated_at) "
                    "VALUES (?, ?, ?, ?, 1, ?, 0, UTC_TIMESTAMP(6), "
                    "UTC_TIMESTAMP(6))",
                    DB_PARAMS(DB_STR(c->id), DB_STR(IDENTITY_DOMAIN_ID),
                              DB_STR(c->name), DB_STR(c->password_hash),
                              DB_STR(project.id)), NULL);
    identity_project_destroy(&project);
    return identity_store_conflict(error, "User", c->name);
}

struct error *
identity_store_user_create(struct db *db, const char *name,
                           const char *password_hash,
                           const char *default_project_name,
                           struct identity_user *ret_user)
{
    char id[IDENTITY_ID_SIZE];
    struct identity_user_create c = {
        id, name, password_hash, default_project_name
    };
    struct error *error;

    error = identity_store_check_text("user name", name,
                                      IDENTITY_USER_NAME_MAX_LENGTH, false);
    if (error) {
        return error;
    }
    identity_new_id(id);
    error = db_txn_run(db, identity_store_user_create_txn, &c);
    if (!error && ret_user) {
        error = identity_store_user_get(db, id, NULL, ret_user);
    }
    return error;
}

struct error *
identity_store_user_get(struct db *db, const char *id, const char *name,
                        struct identity_user *ret_user)
{
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    struct error *error;

    if (id) {
        error = db_query(db, "SELECT " IDENTITY_USER_COLUMNS
                         " FROM users WHERE id = ?",
                         DB_PARAMS(DB_STR(id)), &rows);
    } else {
        error = db_query(db, "SELECT " IDENTITY_USER_COLUMNS
                         " FROM users WHERE domain_id = ? AND name = ?",
                         DB_PARAMS(DB_STR(IDENTITY_DOMAIN_ID),
                                   DB_STR(name)), &rows);
    }
    if (error) {
        return error;
    }
    if (!db_rows_count(rows)) {
        return error_new(ERROR_NOT_FOUND, "User '%s' not found",
                         id ? id : name);
    }
    memset(ret_user, 0, sizeof *ret_user);
    identity_store_user_from_row(rows, 0, ret_user);
    return NULL;
}

struct error *
identity_store_user_list(struct db *db, struct identity_user **ret_users,
                         size_t *ret_n)
{
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    struct identity_user *users;
    struct error *error;
    size_t n;

    error = db_query(db, "SELECT " IDENTITY_USER_COLUMNS
                     " FROM users WHERE domain_id = ? ORDER BY name",
                     DB_PARAMS(DB_STR(IDENTITY_DOMAIN_ID)), &rows);
    if (error) {
        return error;
    }
    n = db_rows_count(rows);
    users = xcalloc(n ? n : 1, sizeof *users);
    for (size_t r = 0; r < n; r++) {
        identity_store_user_from_row(rows, r, &users[r]);
    }
    *ret_users = users;
    *ret_n = n;
    return NULL;
}

/* Reports ERROR_NOT_FOUND for user 'name' when 'error' is NULL and no row
 * matched. */
static struct error *
identity_store_user_updated(struct error *error, uint64_t n,
                            const char *name)
{
    if (!error && !n) {
        error = error_new(ERROR_NOT_FOUND, "User '%s' not found", name);
    }
    return error;
}

struct error *
identity_store_user_set_enabled(struct db *db, const char *name,
                                bool enabled)
{
    struct error *error;
    uint64_t n = 0;

    error = db_exec(db, "UPDATE users SET enabled = ?, "
                    "revocation_counter = revocation_counter + ?, "
                    "updated_at = UTC_TIMESTAMP(6) "
                    "WHERE domain_id = ? AND name = ?",
                    DB_PARAMS(DB_BOOL(enabled), DB_INT(enabled ? 0 : 1),
                              DB_STR(IDENTITY_DOMAIN_ID), DB_STR(name)),
                    &n);
    return identity_store_user_updated(error, n, name);
}

struct error *
identity_store_user_set_password(struct db *db, const char *name,
                                 const char *password_hash)
{
    struct error *error;
    uint64_t n = 0;

    error = db_exec(db, "UPDATE users SET password_hash = ?, "
                    "revocation_counter = revocation_counter + 1, "
                    "updated_at = UTC_TIMESTAMP(6) "
                    "WHERE domain_id = ? AND name = ?",
                    DB_PARAMS(DB_STR(password_hash),
                              DB_STR(IDENTITY_DOMAIN_ID), DB_STR(name)),
                    &n);
    return identity_store_user_updated(error, n, name);
}

struct error *
identity_store_user_rehash(struct db *db, const char *id,
                           const char *old_hash, const char *new_hash)
{
    return db_exec(db, "UPDATE users SET password_hash = ? "
                   "WHERE id = ? AND password_hash = ?",
                   DB_PARAMS(DB_STR(new_hash), DB_STR(id),
                             DB_STR(old_hash)), NULL);
}

struct error *
identity_store_user_delete(struct db *db, const char *name)
{
    struct error *error;
    uint64_t n = 0;

    error = db_exec(db, "DELETE FROM users WHERE domain_id = ? AND name = ?",
                    DB_PARAMS(DB_STR(IDENTITY_DOMAIN_ID), DB_STR(name)),
                    &n);
    return identity_store_user_updated(error, n, name);
}

/* ---- Roles and assignments ------------------------------------------- */

struct error *
identity_store_role_list(struct db *db, struct identity_role **ret_roles,
                         size_t *ret_n)
{
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    struct identity_role *roles;
    struct error *error;
    size_t n;

    error = db_query(db, "SELECT id, name FROM roles ORDER BY name",
                     DB_NO_PARAMS, &rows);
    if (error) {
        return error;
    }
    n = db_rows_count(rows);
    roles = xcalloc(n ? n : 1, sizeof *roles);
    for (size_t r = 0; r < n; r++) {
        roles[r].id = identity_store_dup(rows, r, 0);
        roles[r].name = identity_store_dup(rows, r, 1);
    }
    *ret_roles = roles;
    *ret_n = n;
    return NULL;
}

/* The names of an assignment, and the ids found for them. */
struct identity_role_change {
    const char *user_name;
    const char *project_name;
    const char *role_name;
    char *user_id;
    char *project_id;
    char *role_id;
};

static void
identity_role_change_clear(struct identity_role_change *c)
{
    free(c->user_id);
    free(c->project_id);
    free(c->role_id);
    c->user_id = c->project_id = c->role_id = NULL;
}

/* Finds the id of the row named 'name' with 'sql', or reports 'what'
 * 'name' as not found. */
static struct error *
identity_store_find_id(struct db *db, const char *sql, const char *what,
                       const char *name, char **ret_id)
{
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    struct error *error;

    error = db_query(db, sql, DB_PARAMS(DB_STR(name)), &rows);
    if (error) {
        return error;
    }
    if (!db_rows_count(rows)) {
        return error_new(ERROR_NOT_FOUND, "%s '%s' not found", what, name);
    }
    *ret_id = identity_store_dup(rows, 0, 0);
    return NULL;
}

static struct error *
identity_store_resolve(struct db *db, struct identity_role_change *c)
{
    struct error *error;

    identity_role_change_clear(c);
    error = identity_store_find_id(db, "SELECT id FROM users WHERE "
                                   "domain_id = '" IDENTITY_DOMAIN_ID "' "
                                   "AND name = ?", "User", c->user_name,
                                   &c->user_id);
    if (!error) {
        error = identity_store_find_id(db, "SELECT id FROM projects WHERE "
                                       "domain_id = '" IDENTITY_DOMAIN_ID
                                       "' AND name = ?", "Project",
                                       c->project_name, &c->project_id);
    }
    if (!error) {
        error = identity_store_find_id(db, "SELECT id FROM roles WHERE "
                                       "name = ?", "Role", c->role_name,
                                       &c->role_id);
    }
    return error;
}

static struct error *
identity_store_role_add_txn(struct db *db, void *aux)
{
    struct identity_role_change *c = aux;
    struct error *error;

    error = identity_store_resolve(db, c);
    if (!error) {
        error = db_exec(db, "INSERT INTO role_assignments (user_id, "
                        "project_id, role_id, created_at) "
                        "VALUES (?, ?, ?, UTC_TIMESTAMP(6))",
                        DB_PARAMS(DB_STR(c->user_id), DB_STR(c->project_id),
                                  DB_STR(c->role_id)), NULL);
        if (error && error_kind(error) == ERROR_CONFLICT) {
            error_free(error);
            error = error_new(ERROR_CONFLICT, "User '%s' already has role "
                              "'%s' on project '%s'", c->user_name,
                              c->role_name, c->project_name);
        }
    }
    return error;
}

struct error *
identity_store_role_add(struct db *db, const char *user_name,
                        const char *project_name, const char *role_name)
{
    struct identity_role_change c = { user_name, project_name, role_name,
                                      NULL, NULL, NULL };
    struct error *error = db_txn_run(db, identity_store_role_add_txn, &c);

    identity_role_change_clear(&c);
    return error;
}

static struct error *
identity_store_role_remove_txn(struct db *db, void *aux)
{
    struct identity_role_change *c = aux;
    struct error *error;
    uint64_t n = 0;

    error = identity_store_resolve(db, c);
    if (!error) {
        error = db_exec(db, "DELETE FROM role_assignments WHERE user_id = ? "
                        "AND project_id = ? AND role_id = ?",
                        DB_PARAMS(DB_STR(c->user_id), DB_STR(c->project_id),
                                  DB_STR(c->role_id)), &n);
    }
    if (!error && !n) {
        error = error_new(ERROR_NOT_FOUND, "User '%s' has no role '%s' on "
                          "project '%s'", c->user_name, c->role_name,
                          c->project_name);
    }
    if (!error) {
        error = db_exec(db, "UPDATE users SET revocation_counter = "
                        "revocation_counter + 1, updated_at = "
                        "UTC_TIMESTAMP(6) WHERE id = ?",
                        DB_PARAMS(DB_STR(c->user_id)), NULL);
    }
    return error;
}

struct error *
identity_store_role_remove(struct db *db, const char *user_name,
                           const char *project_name, const char *role_name)
{
    struct identity_role_change c = { user_name, project_name, role_name,
                                      NULL, NULL, NULL };
    struct error *error = db_txn_run(db, identity_store_role_remove_txn,
                                     &c);

    identity_role_change_clear(&c);
    return error;
}

#define IDENTITY_ASSIGNMENT_SELECT                                      \
    "SELECT u.id, u.name, p.id, p.name, r.id, r.name "                  \
    "FROM role_assignments a "                                          \
    "JOIN users u ON u.id = a.user_id "                                 \
    "JOIN projects p ON p.id = a.project_id "                           \
    "JOIN roles r ON r.id = a.role_id "
#define IDENTITY_ASSIGNMENT_ORDER " ORDER BY u.name, p.name, r.name"

struct error *
identity_store_assignment_list(struct db *db, const char *user_name,
                               struct identity_assignment **ret_assignments,
                               size_t *ret_n)
{
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    struct identity_assignment *a;
    struct error *error;
    size_t n;

    if (user_name) {
        struct identity_user user;

        error = identity_store_user_get(db, NULL, user_name, &user);
        if (error) {
            return error;
        }
        error = db_query(db, IDENTITY_ASSIGNMENT_SELECT
                         "WHERE a.user_id = ?" IDENTITY_ASSIGNMENT_ORDER,
                         DB_PARAMS(DB_STR(user.id)), &rows);
        identity_user_destroy(&user);
    } else {
        error = db_query(db, IDENTITY_ASSIGNMENT_SELECT
                         IDENTITY_ASSIGNMENT_ORDER, DB_NO_PARAMS, &rows);
    }
    if (error) {
        return error;
    }
    n = db_rows_count(rows);
    a = xcalloc(n ? n : 1, sizeof *a);
    for (size_t r = 0; r < n; r++) {
        a[r].user_id = identity_store_dup(rows, r, 0);
        a[r].user_name = identity_store_dup(rows, r, 1);
        a[r].project_id = identity_store_dup(rows, r, 2);
        a[r].project_name = identity_store_dup(rows, r, 3);
        a[r].role_id = identity_store_dup(rows, r, 4);
        a[r].role_name = identity_store_dup(rows, r, 5);
    }
    *ret_assignments = a;
    *ret_n = n;
    return NULL;
}

struct error *
identity_store_user_roles(struct db *db, const char *user_id,
                          const char *project_id,
                          struct identity_role **ret_roles, size_t *ret_n)
{
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    struct identity_role *roles;
    struct error *error;
    size_t n;

    error = db_query(db, "SELECT r.id, r.name FROM role_assignments a "
                     "JOIN roles r ON r.id = a.role_id "
                     "WHERE a.user_id = ? AND a.project_id = ? "
                     "ORDER BY r.name",
                     DB_PARAMS(DB_STR(user_id), DB_STR(project_id)), &rows);
    if (error) {
        return error;
    }
    n = db_rows_count(rows);
    roles = xcalloc(n ? n : 1, sizeof *roles);
    for (size_t r = 0; r < n; r++) {
        roles[r].id = identity_store_dup(rows, r, 0);
        roles[r].name = identity_store_dup(rows, r, 1);
    }
    *ret_roles = roles;
    *ret_n = n;
    return NULL;
}

struct error *
identity_store_roles_by_name(struct db *db, const char *const *names,
                             size_t n, struct identity_role *ret_roles)
{
    struct identity_role *all = NULL;
    size_t n_all = 0;
    struct error *error;

    error = identity_store_role_list(db, &all, &n_all);
    if (error) {
        return error;
    }
    for (size_t i = 0; i < n; i++) {
        ret_roles[i].id = NULL;
        ret_roles[i].name = xstrdup(names[i]);
        for (size_t j = 0; j < n_all; j++) {
            if (!strcmp(all[j].name, names[i])) {
                ret_roles[i].id = xstrdup(all[j].id);
                break;
            }
        }
    }
    identity_role_array_free(all, n_all);
    return NULL;
}

struct error *
identity_store_token_state(struct db *db, const char *user_id,
                           const char *project_id,
                           struct identity_token_state *ret_state)
{
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    struct identity_token_state state = { .project_ok = true };
    struct error *error;

    if (project_id) {
        error = db_query(db, "SELECT u.name, u.enabled, "
                         "u.revocation_counter, p.name, p.enabled "
                         "FROM users u LEFT JOIN projects p ON p.id = ? "
                         "WHERE u.id = ?",
                         DB_PARAMS(DB_STR(project_id), DB_STR(user_id)),
                         &rows);
    } else {
        error = db_query(db, "SELECT name, enabled, revocation_counter "
                         "FROM users WHERE id = ?",
                         DB_PARAMS(DB_STR(user_id)), &rows);
    }
    if (error) {
        return error;
    }
    if (db_rows_count(rows)) {
        int64_t revocation = db_rows_get_int64(rows, 0, 2);

        state.user_exists = true;
        state.user_name = identity_store_dup(rows, 0, 0);
        state.user_enabled = db_rows_get_bool(rows, 0, 1);
        state.revocation = revocation > 0 ? (uint64_t) revocation : 0;
        if (project_id) {
            state.project_ok = (!db_rows_is_null(rows, 0, 3)
                                && db_rows_get_bool(rows, 0, 4));
            state.project_name = identity_store_dup(rows, 0, 3);
        }
    } else {
        state.project_ok = false;
    }
    *ret_state = state;
    return NULL;
}
