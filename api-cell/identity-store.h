/* identity-store.h: projects, users, roles and role assignments in the API
 * database (tables of migration 0002_identity.sql).
 *
 * The identity service (identity-service.h) and the nova-manage project,
 * user and role commands are built on these functions.  Everything is in
 * Keystone's domain "Default".  Functions take the caller's connection
 * ('struct db' is not thread-safe: one per thread) and return a
 * 'struct error *' whose message a user can read:
 *
 *     ERROR_NOT_FOUND   "Project 'demo' not found"
 *     ERROR_CONFLICT    "Project 'demo' already exists"
 *     ERROR_INVALID     a name that is empty or too long
 *
 * Password hashing is not done here (it is slow and must not run inside a
 * transaction): callers pass hashes made with identity-password.h.
 *
 * Revocation: every user has a revocation counter that each token copies.
 * Disabling the user, changing its password and removing one of its roles
 * bump it in the same statement, so that every token issued before is
 * refused from then on (after the validation cache's delay, see
 * identity-service.h). */
#ifndef NOVA_IDENTITY_STORE_H
#define NOVA_IDENTITY_STORE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "shared/compiler.h"

struct db;
struct error;

/* The one domain. */
#define IDENTITY_DOMAIN_ID "default"
#define IDENTITY_DOMAIN_NAME "Default"

/* Ids are 32 lower-case hex digits (a UUID without dashes), as Keystone's;
 * this many bytes hold one with its NUL. */
#define IDENTITY_ID_SIZE 33

/* Longest names and texts accepted, in characters (Keystone's limits and
 * the column sizes). */
#define IDENTITY_PROJECT_NAME_MAX_LENGTH 64
#define IDENTITY_USER_NAME_MAX_LENGTH 255
#define IDENTITY_ROLE_NAME_MAX_LENGTH 255
#define IDENTITY_DESCRIPTION_MAX_LENGTH 4096
#define IDENTITY_MAX_ID_LENGTH 64

/* The roles migration 0002 creates and policy knows. */
#define IDENTITY_ROLE_ADMIN "admin"
#define IDENTITY_ROLE_MEMBER "member"
#define IDENTITY_ROLE_READER "reader"

struct identity_project {
    char *id;
    char *name;
    char *description;          /* NULL when none */
    bool enabled;
    int64_t created_at_ms;
};

struct identity_user {
    char *id;
    char *name;
    char *password_hash;        /* NULL: cannot log in with a password */
    char *default_project_id;   /* NULL when none */
    bool enabled;
    uint64_t revocation;        /* the revocation counter */
    int64_t created_at_ms;
};

struct identity_role {
    char *id;
    char *name;
};

/* A user's role on a project, with the names (for listings). */
struct identity_assignment {
    char *user_id;
    char *user_name;
    char *project_id;
    char *project_name;
    char *role_id;
    char *role_name;
};

/* What a token's validation needs to know about its user and project. */
struct identity_token_state {
    bool user_exists;
    bool user_enabled;
    uint64_t revocation;
    char *user_name;            /* NULL when the user does not exist */
    bool project_ok;            /* the project exists and is enabled (true
                                 * when no project was asked about) */
    char *project_name;         /* NULL when none */
};

/* Writes a new random id. */
void identity_new_id(char out[IDENTITY_ID_SIZE]);

/* Each _destroy frees what the struct owns and zeroes it (NULL is
 * accepted); each _array_free destroys 'n' structs and frees the array. */
void identity_project_destroy(struct identity_project *);
void identity_project_array_free(struct identity_project *, size_t n);
void identity_user_destroy(struct identity_user *);
void identity_user_array_free(struct identity_user *, size_t n);
void identity_role_destroy(struct identity_role *);
void identity_role_array_free(struct identity_role *, size_t n);
void identity_assignment_array_free(struct identity_assignment *, size_t n);
void identity_token_state_destroy(struct identity_token_state *);

/* ---- Projects -------------------------------------------------------- */

/* Creates project 'name' with 'description' (may be NULL), enabled, and
 * stores it in '*ret_project' (may be NULL; the caller destroys it). */
struct error *identity_store_project_create(struct db *, const char *name,
                                            const char *description,
                                            struct identity_project
                                            *ret_project) WARN_UNUSED;

/* Finds a project by 'id' when it is not NULL, else by 'name'. */
struct error *identity_store_project_get(struct db *, const char *id,
                                         const char *name,
                                         struct identity_project
                                         *ret_project) WARN_UNUSED;

/* Lists every project, by name.  The caller frees the array with
 * identity_project_array_free(). */
struct error *identity_store_project_list(struct db *,
                                          struct identity_project
                                          **ret_projects,
                                          size_t *ret_n) WARN_UNUSED;

/* Deletes project 'name' and its role assignments; users whose default
 * project it was keep none.  Tokens scoped to it stop validating. */
struct error *identity_store_project_delete(struct db *, const char *name)
    WARN_UNUSED;

/* ---- Users ----------------------------------------------------------- */

/* Creates user 'name' with 'password_hash' (may be NULL) and
 * 'default_project_name' (may be NULL; it must exist), enabled.  Stores
 * the user in '*ret_user' if it is not NULL. */
struct error *identity_store_user_create(struct db *, const char *name,
                                         const char *password_hash,
                                         const char *default_project_name,
                                         struct identity_user *ret_user)
    WARN_UNUSED;

/* Finds a user by 'id' when it is not NULL, else by 'name'. */
struct error *identity_store_user_get(struct db *, const char *id,
                                      const char *name,
                                      struct identity_user *ret_user)
    WARN_UNUSED;

/* Lists every user, by name. */
struct error *identity_store_user_list(struct db *,
                                       struct identity_user **ret_users,
                                       size_t *ret_n) WARN_UNUSED;

/* Enables or disables user 'name'.  Disabling bumps the revocation
 * counter (re-enabling does not revive old tokens). */
struct error *identity_store_user_set_enabled(struct db *, const char *name,
                                              bool enabled) WARN_UNUSED;

/* Replaces the password hash of user 'name' and bumps its revocation
 * counter. */
struct error *identity_store_user_set_password(struct db *,
                                               const char *name,
                                               const char *password_hash)
    WARN_UNUSED;

/* Replaces the password hash of user 'id' by 'new_hash' if it is still
 * 'old_hash', without touching the revocation counter: a rehash with a
 * higher cost after a successful login.  Not finding 'old_hash' any more
 * (the password changed meanwhile) is not an error. */
struct error *identity_store_user_rehash(struct db *, const char *id,
                                         const char *old_hash,
                                         const char *new_hash) WARN_UNUSED;

/* Deletes user 'name' and its role assignments. */
struct error *identity_store_user_delete(struct db *, const char *name)
    WARN_UNUSED;

/* ---- Roles and assignments ------------------------------------------- */

/* Lists every role, by name. */
struct error *identity_store_role_list(struct db *,
                                       struct identity_role **ret_roles,
                                       size_t *ret_n) WARN_UNUSED;

/* Gives user 'user_name' role 'role_name' on project 'project_name'.
 * ERROR_CONFLICT if the user has it already. */
struct error *identity_store_role_add(struct db *, const char *user_name,
                                      const char *project_name,
                                      const char *role_name) WARN_UNUSED;

/* Takes it away (ERROR_NOT_FOUND if the user does not have it) and bumps
 * the user's revocation counter. */
struct error *identity_store_role_remove(struct db *, const char *user_name,
                                         const char *project_name,
                                         const char *role_name) WARN_UNUSED;

/* Lists role assignments, of user 'user_name' only when it is not NULL
 * (which must exist), by user, project and role name. */
struct error *identity_store_assignment_list(struct db *,
                                             const char *user_name,
                                             struct identity_assignment
                                             **ret_assignments,
                                             size_t *ret_n) WARN_UNUSED;

/* The roles user 'user_id' holds on project 'project_id', by name (none is
 * not an error: '*ret_n' is 0). */
struct error *identity_store_user_roles(struct db *, const char *user_id,
                                        const char *project_id,
                                        struct identity_role **ret_roles,
                                        size_t *ret_n) WARN_UNUSED;

/* Finds roles by name: fills 'ret_roles' (an array of 'n' structs, the
 * caller destroys each) with the role of each of the 'n' names, in order;
 * a name that no longer exists yields a role with a NULL id. */
struct error *identity_store_roles_by_name(struct db *,
                                           const char *const *names,
                                           size_t n,
                                           struct identity_role *ret_roles)
    WARN_UNUSED;

/* One query for token validation: the state of user 'user_id' and, when
 * 'project_id' is not NULL, of that project. */
struct error *identity_store_token_state(struct db *, const char *user_id,
                                         const char *project_id,
                                         struct identity_token_state
                                         *ret_state) WARN_UNUSED;

#endif /* NOVA_IDENTITY_STORE_H */
