/* policy.h: who may do what in the compute API.
 *
 * Every compute handler asks, before it acts,
 *
 *     error = policy_check(http_request_auth(req),
 *                          "os_compute_api:servers:delete",
 *                          server_project_id);
 *
 * and returns the error (403 forbidden, with Nova's message "Policy
 * doesn't allow os_compute_api:servers:delete to be performed.") when
 * there is one.  The rules are Nova's defaults (the "new defaults" of
 * Nova's policy-in-code), kept in one table in policy.c by action name:
 *
 *     any             any authenticated user ("@")
 *     admin_only      the admin role ("rule:admin_api")
 *     project_reader  reader, member or admin on the target project, or
 *                     admin ("PROJECT_READER_OR_ADMIN")
 *     project_member  member or admin on the target project, or admin
 *                     ("PROJECT_MEMBER_OR_ADMIN")
 *     admin_or_owner  any role on the target project, or admin (Nova's
 *                     legacy "is_admin:True or project_id:%(project_id)s")
 *     admin_or_user   the target user is the caller, or admin (keypairs:
 *                     "rule:admin_api or user_id:%(user_id)s")
 *
 * Roles imply each other as Keystone's default implied roles do: admin
 * implies member, member implies reader.  The admin role is not tied to a
 * project: an admin of any project is an admin of the cloud, as in Nova
 * (context_is_admin is "role:admin").  The caller is on the target project
 * when its token is scoped to it.  A NULL target project means the
 * caller's own project (Nova's default target), a NULL target user the
 * caller itself.
 *
 * An action missing from the table is denied and logged (fail closed): a
 * typo in a handler shows up as a 403 in its first test, never as an open
 * door.
 *
 * XXX: operator overrides of the rules (Nova's policy.yaml) are not
 * supported yet.  Everything here is pure and thread-safe. */
#ifndef NOVA_POLICY_H
#define NOVA_POLICY_H 1

#include <stdbool.h>
#include <stddef.h>
#include "shared/compiler.h"

struct error;
struct http_auth;

/* X-macro: rule, name (as above). */
#define POLICY_RULES(X)                                 \
    X(POLICY_RULE_ANY, "any")                           \
    X(POLICY_RULE_ADMIN_ONLY, "admin_only")             \
    X(POLICY_RULE_PROJECT_READER, "project_reader")     \
    X(POLICY_RULE_PROJECT_MEMBER, "project_member")     \
    X(POLICY_RULE_ADMIN_OR_OWNER, "admin_or_owner")     \
    X(POLICY_RULE_ADMIN_OR_USER, "admin_or_user")

enum policy_rule {
#define POLICY_RULE_ENUM(rule, name) rule,
    POLICY_RULES(POLICY_RULE_ENUM)
#undef POLICY_RULE_ENUM
};

/* The roles policy knows. */
#define POLICY_ROLE_ADMIN "admin"
#define POLICY_ROLE_MEMBER "member"
#define POLICY_ROLE_READER "reader"

/* What an action is performed on. */
struct policy_target {
    const char *project_id;     /* NULL: the caller's project */
    const char *user_id;        /* NULL: the caller */
};

/* Returns NULL if 'auth' may perform 'action' on resources of project
 * 'target_project_id' (NULL: the caller's own project), else an
 * ERROR_FORBIDDEN error with Nova's message.  A NULL 'auth' (no
 * authentication) is denied. */
struct error *policy_check(const struct http_auth *auth, const char *action,
                           const char *target_project_id) WARN_UNUSED;

/* The same with a target user as well (keypairs). */
struct error *policy_check_target(const struct http_auth *auth,
                                  const char *action,
                                  const struct policy_target *target)
    WARN_UNUSED;

/* True if 'auth' holds the admin role: what the token validator stores in
 * 'is_admin'. */
bool policy_is_admin(const struct http_auth *auth);

/* Looks up the rule of 'action'.  Returns 0, or -ENOENT for an unknown
 * action. */
int policy_rule_of(const char *action, enum policy_rule *ret_rule);

/* "admin_only" for POLICY_RULE_ADMIN_ONLY; "?" out of range. */
const char *policy_rule_to_string(enum policy_rule);

/* The table, for tests and documentation: the number of actions and the
 * name and rule of action 'i' (sorted by name). */
size_t policy_n_actions(void);
const char *policy_action_at(size_t i, enum policy_rule *ret_rule);

#endif /* NOVA_POLICY_H */
