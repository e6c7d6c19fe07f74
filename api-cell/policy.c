/* policy.c: the compute API's policy rules and their evaluation.
 *
 * The table below holds Nova's default rule for each action, sorted by
 * name (bsearch; a unit test checks the order).  To protect a new API
 * call, add its Nova action name here with Nova's default rule. */
#include <config.h>

#include "api-cell/policy.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api-cell/http-request.h"
#include "shared/error.h"
#include "shared/log.h"

LOG_MODULE("policy");

struct policy_entry {
    const char *action;
    enum policy_rule rule;
};

/* Sorted by 'action' in strcmp() order. */
static const struct policy_entry policy_table[] = {
    { "os_compute_api:extensions", POLICY_RULE_ANY },
    { "os_compute_api:ips:index", POLICY_RULE_PROJECT_READER },
    { "os_compute_api:ips:show", POLICY_RULE_PROJECT_READER },
    { "os_compute_api:limits", POLICY_RULE_ANY },
    { "os_compute_api:limits:other_project", POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:os-admin-actions:inject_network_info",
      POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:os-admin-actions:reset_state", POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:os-admin-password", POLICY_RULE_PROJECT_MEMBER },
    { "os_compute_api:os-aggregates:add_host", POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:os-aggregates:create", POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:os-aggregates:delete", POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:os-aggregates:images", POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:os-aggregates:index", POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:os-aggregates:remove_host", POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:os-aggregates:set_metadata", POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:os-aggregates:show", POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:os-aggregates:update", POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:os-assisted-volume-snapshots:create",
      POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:os-assisted-volume-snapshots:delete",
      POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:os-attach-interfaces:create",
      POLICY_RULE_PROJECT_MEMBER },
    { "os_compute_api:os-attach-interfaces:delete",
      POLICY_RULE_PROJECT_MEMBER },
    { "os_compute_api:os-attach-interfaces:list", POLICY_RULE_PROJECT_READER },
    { "os_compute_api:os-attach-interfaces:show", POLICY_RULE_PROJECT_READER },
    { "os_compute_api:os-availability-zone:detail", POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:os-availability-zone:list", POLICY_RULE_ANY },
    { "os_compute_api:os-console-auth-tokens", POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:os-console-output", POLICY_RULE_PROJECT_MEMBER },
    { "os_compute_api:os-create-backup", POLICY_RULE_PROJECT_MEMBER },
    { "os_compute_api:os-deferred-delete:force", POLICY_RULE_PROJECT_MEMBER },
    { "os_compute_api:os-deferred-delete:restore",
      POLICY_RULE_PROJECT_MEMBER },
    { "os_compute_api:os-evacuate", POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:os-extended-server-attributes", POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:os-flavor-access", POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:os-flavor-access:add_tenant_access",
      POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:os-flavor-access:remove_tenant_access",
      POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:os-flavor-extra-specs:create", POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:os-flavor-extra-specs:delete", POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:os-flavor-extra-specs:index",
      POLICY_RULE_PROJECT_READER },
    { "os_compute_api:os-flavor-extra-specs:show",
      POLICY_RULE_PROJECT_READER },
    { "os_compute_api:os-flavor-extra-specs:update", POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:os-flavor-manage:create", POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:os-flavor-manage:delete", POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:os-flavor-manage:update", POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:os-hypervisors:list", POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:os-hypervisors:list-detail", POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:os-hypervisors:search", POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:os-hypervisors:servers", POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:os-hypervisors:show", POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:os-hypervisors:statistics", POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:os-hypervisors:uptime", POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:os-instance-actions:events", POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:os-instance-actions:events:details",
      POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:os-instance-actions:list", POLICY_RULE_PROJECT_READER },
    { "os_compute_api:os-instance-actions:show", POLICY_RULE_PROJECT_READER },
    { "os_compute_api:os-instance-usage-audit-log:list",
      POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:os-instance-usage-audit-log:show",
      POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:os-keypairs:create", POLICY_RULE_ADMIN_OR_USER },
    { "os_compute_api:os-keypairs:delete", POLICY_RULE_ADMIN_OR_USER },
    { "os_compute_api:os-keypairs:index", POLICY_RULE_ADMIN_OR_USER },
    { "os_compute_api:os-keypairs:show", POLICY_RULE_ADMIN_OR_USER },
    { "os_compute_api:os-lock-server:lock", POLICY_RULE_PROJECT_MEMBER },
    { "os_compute_api:os-lock-server:unlock", POLICY_RULE_PROJECT_MEMBER },
    { "os_compute_api:os-lock-server:unlock:unlock_override",
      POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:os-migrate-server:migrate", POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:os-migrate-server:migrate_live",
      POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:os-migrations:index", POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:os-networks:list", POLICY_RULE_PROJECT_READER },
    { "os_compute_api:os-networks:show", POLICY_RULE_PROJECT_READER },
    { "os_compute_api:os-pause-server:pause", POLICY_RULE_PROJECT_MEMBER },
    { "os_compute_api:os-pause-server:unpause", POLICY_RULE_PROJECT_MEMBER },
    { "os_compute_api:os-quota-class-sets:show", POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:os-quota-class-sets:update", POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:os-quota-sets:defaults", POLICY_RULE_ANY },
    { "os_compute_api:os-quota-sets:delete", POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:os-quota-sets:detail", POLICY_RULE_ADMIN_OR_OWNER },
    { "os_compute_api:os-quota-sets:show", POLICY_RULE_ADMIN_OR_OWNER },
    { "os_compute_api:os-quota-sets:update", POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:os-remote-consoles", POLICY_RULE_PROJECT_MEMBER },
    { "os_compute_api:os-rescue", POLICY_RULE_PROJECT_MEMBER },
    { "os_compute_api:os-server-diagnostics", POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:os-server-external-events:create",
      POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:os-server-groups:create", POLICY_RULE_PROJECT_MEMBER },
    { "os_compute_api:os-server-groups:delete", POLICY_RULE_PROJECT_MEMBER },
    { "os_compute_api:os-server-groups:index", POLICY_RULE_PROJECT_READER },
    { "os_compute_api:os-server-groups:index:all_projects",
      POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:os-server-groups:show", POLICY_RULE_PROJECT_READER },
    { "os_compute_api:os-server-password:clear", POLICY_RULE_PROJECT_MEMBER },
    { "os_compute_api:os-server-password:show", POLICY_RULE_PROJECT_READER },
    { "os_compute_api:os-server-tags:delete", POLICY_RULE_PROJECT_MEMBER },
    { "os_compute_api:os-server-tags:delete_all", POLICY_RULE_PROJECT_MEMBER },
    { "os_compute_api:os-server-tags:index", POLICY_RULE_PROJECT_READER },
    { "os_compute_api:os-server-tags:show", POLICY_RULE_PROJECT_READER },
    { "os_compute_api:os-server-tags:update", POLICY_RULE_PROJECT_MEMBER },
    { "os_compute_api:os-server-tags:update_all", POLICY_RULE_PROJECT_MEMBER },
    { "os_compute_api:os-services:delete", POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:os-services:list", POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:os-services:update", POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:os-shelve:shelve", POLICY_RULE_PROJECT_MEMBER },
    { "os_compute_api:os-shelve:shelve_offload", POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:os-shelve:unshelve", POLICY_RULE_PROJECT_MEMBER },
    { "os_compute_api:os-simple-tenant-usage:list", POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:os-simple-tenant-usage:show",
      POLICY_RULE_ADMIN_OR_OWNER },
    { "os_compute_api:os-suspend-server:resume", POLICY_RULE_PROJECT_MEMBER },
    { "os_compute_api:os-suspend-server:suspend", POLICY_RULE_PROJECT_MEMBER },
    { "os_compute_api:os-tenant-networks:list", POLICY_RULE_PROJECT_READER },
    { "os_compute_api:os-tenant-networks:show", POLICY_RULE_PROJECT_READER },
    { "os_compute_api:os-unrescue", POLICY_RULE_PROJECT_MEMBER },
    { "os_compute_api:os-volumes-attachments:create",
      POLICY_RULE_PROJECT_MEMBER },
    { "os_compute_api:os-volumes-attachments:delete",
      POLICY_RULE_PROJECT_MEMBER },
    { "os_compute_api:os-volumes-attachments:index",
      POLICY_RULE_PROJECT_READER },
    { "os_compute_api:os-volumes-attachments:show",
      POLICY_RULE_PROJECT_READER },
    { "os_compute_api:os-volumes-attachments:swap", POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:os-volumes-attachments:update",
      POLICY_RULE_PROJECT_MEMBER },
    { "os_compute_api:server-metadata:create", POLICY_RULE_PROJECT_MEMBER },
    { "os_compute_api:server-metadata:delete", POLICY_RULE_PROJECT_MEMBER },
    { "os_compute_api:server-metadata:index", POLICY_RULE_PROJECT_READER },
    { "os_compute_api:server-metadata:show", POLICY_RULE_PROJECT_READER },
    { "os_compute_api:server-metadata:update", POLICY_RULE_PROJECT_MEMBER },
    { "os_compute_api:server-metadata:update_all",
      POLICY_RULE_PROJECT_MEMBER },
    { "os_compute_api:servers:allow_all_filters", POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:servers:confirm_resize", POLICY_RULE_PROJECT_MEMBER },
    { "os_compute_api:servers:create", POLICY_RULE_PROJECT_MEMBER },
    { "os_compute_api:servers:create:attach_network",
      POLICY_RULE_PROJECT_MEMBER },
    { "os_compute_api:servers:create:attach_volume",
      POLICY_RULE_PROJECT_MEMBER },
    { "os_compute_api:servers:create:forced_host", POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:servers:create:requested_destination",
      POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:servers:create:trusted_certs",
      POLICY_RULE_PROJECT_MEMBER },
    { "os_compute_api:servers:create:zero_disk_flavor",
      POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:servers:create_image", POLICY_RULE_PROJECT_MEMBER },
    { "os_compute_api:servers:create_image:allow_volume_backed",
      POLICY_RULE_PROJECT_MEMBER },
    { "os_compute_api:servers:delete", POLICY_RULE_PROJECT_MEMBER },
    { "os_compute_api:servers:detail", POLICY_RULE_PROJECT_READER },
    { "os_compute_api:servers:detail:get_all_tenants",
      POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:servers:index", POLICY_RULE_PROJECT_READER },
    { "os_compute_api:servers:index:get_all_tenants", POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:servers:migrations:delete", POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:servers:migrations:force_complete",
      POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:servers:migrations:index", POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:servers:migrations:show", POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:servers:reboot", POLICY_RULE_PROJECT_MEMBER },
    { "os_compute_api:servers:rebuild", POLICY_RULE_PROJECT_MEMBER },
    { "os_compute_api:servers:rebuild:trusted_certs",
      POLICY_RULE_PROJECT_MEMBER },
    { "os_compute_api:servers:resize", POLICY_RULE_PROJECT_MEMBER },
    { "os_compute_api:servers:revert_resize", POLICY_RULE_PROJECT_MEMBER },
    { "os_compute_api:servers:show", POLICY_RULE_PROJECT_READER },
    { "os_compute_api:servers:show:flavor-extra-specs",
      POLICY_RULE_PROJECT_READER },
    { "os_compute_api:servers:show:host_status", POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:servers:show:host_status:unknown-only",
      POLICY_RULE_ADMIN_ONLY },
    { "os_compute_api:servers:start", POLICY_RULE_PROJECT_MEMBER },
    { "os_compute_api:servers:stop", POLICY_RULE_PROJECT_MEMBER },
    { "os_compute_api:servers:trigger_crash_dump",
      POLICY_RULE_PROJECT_MEMBER },
    { "os_compute_api:servers:update", POLICY_RULE_PROJECT_MEMBER },
};

static const char *const policy_rule_names[] = {
#define POLICY_RULE_NAME(rule, name) name,
    POLICY_RULES(POLICY_RULE_NAME)
#undef POLICY_RULE_NAME
};

const char *
policy_rule_to_string(enum policy_rule rule)
{
    return ((size_t) rule < ARRAY_SIZE(policy_rule_names)
            ? policy_rule_names[rule] : "?");
}

size_t
policy_n_actions(void)
{
    return ARRAY_SIZE(policy_table);
}

const char *
policy_action_at(size_t i, enum policy_rule *ret_rule)
{
    if (i >= ARRAY_SIZE(policy_table)) {
        return NULL;
    }
    if (ret_rule) {
        *ret_rule = policy_table[i].rule;
    }
    return policy_table[i].action;
}

static int
policy_entry_compare(const void *key, const void *entry_)
{
    const struct policy_entry *entry = entry_;

    return strcmp(key, entry->action);
}

int
policy_rule_of(const char *action, enum policy_rule *ret_rule)
{
    const struct policy_entry *entry;

    entry = bsearch(action, policy_table, ARRAY_SIZE(policy_table),
                    sizeof policy_table[0], policy_entry_compare);
    if (!entry) {
        return -ENOENT;
    }
    *ret_rule = entry->rule;
    return 0;
}

/* True if 'auth' holds role 'role' (compared without regard to case, as
 * oslo.policy does). */
static bool
policy_has_role(const struct http_auth *auth, const char *role)
{
    for (size_t i = 0; i < auth->n_roles; i++) {
        if (auth->roles[i] && !strcasecmp(auth->roles[i], role)) {
            return true;
        }
    }
    return false;
}

bool
policy_is_admin(const struct http_auth *auth)
{
    return auth && (auth->is_admin || policy_has_role(auth,
                                                      POLICY_ROLE_ADMIN));
}

/* True if 'auth' holds at least the member role (member or admin). */
static bool
policy_is_member(const struct http_auth *auth)
{
    return (policy_has_role(auth, POLICY_ROLE_MEMBER)
            || policy_has_role(auth, POLICY_ROLE_ADMIN));
}

/* True if 'auth' holds at least the reader role. */
static bool
policy_is_reader(const struct http_auth *auth)
{
    return policy_has_role(auth, POLICY_ROLE_READER) || policy_is_member(auth);
}

/* True if the token of 'auth' is scoped to the target project. */
static bool
policy_on_project(const struct http_auth *auth,
                  const struct policy_target *target)
{
    if (!auth->project_id || !*auth->project_id) {
        return false;
    }
    return (!target->project_id
            || !strcmp(target->project_id, auth->project_id));
}

static bool
policy_rule_allows(enum policy_rule rule, const struct http_auth *auth,
                   const struct policy_target *target)
{
    bool admin = policy_is_admin(auth);

    switch (rule) {
    case POLICY_RULE_ANY:
        return true;
    case POLICY_RULE_ADMIN_ONLY:
        return admin;
    case POLICY_RULE_PROJECT_READER:
        return admin || (policy_on_project(auth, target)
                         && policy_is_reader(auth));
    case POLICY_RULE_PROJECT_MEMBER:
        return admin || (policy_on_project(auth, target)
                         && policy_is_member(auth));
    case POLICY_RULE_ADMIN_OR_OWNER:
        return admin || policy_on_project(auth, target);
    case POLICY_RULE_ADMIN_OR_USER:
        return admin || !target->user_id
               || (auth->user_id && !strcmp(target->user_id,
                                            auth->user_id));
    }
    return false;
}

static struct error *
policy_denied(const char *action)
{
    return error_new(ERROR_FORBIDDEN, "Policy doesn't allow %s to be "
                     "performed.", action);
}

struct error *
policy_check_target(const struct http_auth *auth, const char *action,
                    const struct policy_target *target)
{
    static const struct policy_target no_target = { NULL, NULL };
    enum policy_rule rule;

    if (policy_rule_of(action, &rule)) {
        LOG_ERR_RL("Policy has no rule for action '%s': denied", action);
        return policy_denied(action);
    }
    if (!auth || !policy_rule_allows(rule, auth, target ? target
                                                        : &no_target)) {
        LOG_DBG("Policy denies %s (rule %s) to user %s", action,
                policy_rule_to_string(rule),
                auth && auth->user_id ? auth->user_id : "(none)");
        return policy_denied(action);
    }
    return NULL;
}

struct error *
policy_check(const struct http_auth *auth, const char *action,
             const char *target_project_id)
{
    const struct policy_target target = { target_project_id, NULL };

    return policy_check_target(auth, action, &target);
}
