/* test-policy.c: the compute API policy (api-cell/policy.c).
 *
 * The matrix: tokens for each of the three roles, all scoped to project A,
 * act on resources of project A and of project B; each row gives, for one
 * action, the expected answer in each of those six cells, written out by
 * hand from Nova's defaults rather than computed from the rule.  Then the
 * cases around it: unknown actions, no token, unscoped tokens, keypair
 * targets (users), role spelling, the message, and the order of the
 * table. */
#include <config.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "api-cell/http-request.h"
#include "api-cell/policy.h"
#include "shared/error.h"

#define PROJECT_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define PROJECT_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define USER_ID "11111111111111111111111111111111"
#define OTHER_USER_ID "22222222222222222222222222222222"

enum { ADMIN, MEMBER, READER, N_ROLES };
static const char *const role_names[N_ROLES] = {
    "admin", "member", "reader"
};

/* A token of 'role' (NULL: none) scoped to 'project' (NULL: unscoped).
 * Points into static storage: one at a time. */
static struct http_auth *
make_auth(const char *role, const char *project)
{
    static struct http_auth auth;
    static char *roles[1];

    memset(&auth, 0, sizeof auth);
    auth.user_id = (char *) USER_ID;
    auth.project_id = (char *) project;
    roles[0] = (char *) role;
    auth.roles = role ? roles : NULL;
    auth.n_roles = role ? 1 : 0;
    return &auth;
}

/* Returns true if 'auth' may do 'action' on 'project'; fails the test if
 * a denial is not Nova's 403. */
static bool
allowed(const struct http_auth *auth, const char *action,
        const char *project)
{
    struct error *error = policy_check(auth, action, project);

    if (!error) {
        return true;
    }
    assert_int_equal(error_kind(error), ERROR_FORBIDDEN);
    assert_int_equal(error_http_status(error), 403);
    error_free(error);
    return false;
}

#define Y true
#define N false

static void
test_matrix(void **state)
{
    static const struct {
        const char *action;
        /* [role][0] on project A (own), [role][1] on project B. */
        bool expected[N_ROLES][2];
    } rows[] = {
        /*                                        admin   member  reader */
        { "os_compute_api:servers:index",        { {Y, Y}, {Y, N}, {Y, N} } },
        { "os_compute_api:servers:detail",       { {Y, Y}, {Y, N}, {Y, N} } },
        { "os_compute_api:servers:show",         { {Y, Y}, {Y, N}, {Y, N} } },
        { "os_compute_api:servers:create",       { {Y, Y}, {Y, N}, {N, N} } },
        { "os_compute_api:servers:delete",       { {Y, Y}, {Y, N}, {N, N} } },
        { "os_compute_api:servers:reboot",       { {Y, Y}, {Y, N}, {N, N} } },
        { "os_compute_api:servers:detail:get_all_tenants",
                                                 { {Y, Y}, {N, N}, {N, N} } },
        { "os_compute_api:servers:index:get_all_tenants",
                                                 { {Y, Y}, {N, N}, {N, N} } },
        { "os_compute_api:servers:create:forced_host",
                                                 { {Y, Y}, {N, N}, {N, N} } },
        { "os_compute_api:os-services:list",     { {Y, Y}, {N, N}, {N, N} } },
        { "os_compute_api:os-services:update",   { {Y, Y}, {N, N}, {N, N} } },
        { "os_compute_api:os-flavor-manage:create",
                                                 { {Y, Y}, {N, N}, {N, N} } },
        { "os_compute_api:os-flavor-manage:delete",
                                                 { {Y, Y}, {N, N}, {N, N} } },
        { "os_compute_api:os-hypervisors:list",  { {Y, Y}, {N, N}, {N, N} } },
        { "os_compute_api:os-hypervisors:show",  { {Y, Y}, {N, N}, {N, N} } },
        { "os_compute_api:os-quota-sets:show",   { {Y, Y}, {Y, N}, {Y, N} } },
        { "os_compute_api:os-quota-sets:update", { {Y, Y}, {N, N}, {N, N} } },
        { "os_compute_api:os-quota-sets:defaults",
                                                 { {Y, Y}, {Y, Y}, {Y, Y} } },
        { "os_compute_api:limits",               { {Y, Y}, {Y, Y}, {Y, Y} } },
        { "os_compute_api:os-availability-zone:list",
                                                 { {Y, Y}, {Y, Y}, {Y, Y} } },
        { "os_compute_api:os-availability-zone:detail",
                                                 { {Y, Y}, {N, N}, {N, N} } },
        { "os_compute_api:os-instance-actions:list",
                                                 { {Y, Y}, {Y, N}, {Y, N} } },
        { "os_compute_api:os-instance-actions:events",
                                                 { {Y, Y}, {N, N}, {N, N} } },
        { "os_compute_api:os-server-groups:create",
                                                 { {Y, Y}, {Y, N}, {N, N} } },
        { "os_compute_api:os-server-groups:index",
                                                 { {Y, Y}, {Y, N}, {Y, N} } },
        { "os_compute_api:os-console-output",    { {Y, Y}, {Y, N}, {N, N} } },
        { "os_compute_api:os-migrate-server:migrate_live",
                                                 { {Y, Y}, {N, N}, {N, N} } },
        { "os_compute_api:os-simple-tenant-usage:show",
                                                 { {Y, Y}, {Y, N}, {Y, N} } },
        { "os_compute_api:os-aggregates:index",  { {Y, Y}, {N, N}, {N, N} } },
        /* Keypairs target the user, not the project: with no target user
         * (the caller's own), everyone may. */
        { "os_compute_api:os-keypairs:index",    { {Y, Y}, {Y, Y}, {Y, Y} } },
        { "os_compute_api:os-keypairs:create",   { {Y, Y}, {Y, Y}, {Y, Y} } },
        /* Unknown actions are denied to everyone, admin included. */
        { "os_compute_api:servers:frobnicate",   { {N, N}, {N, N}, {N, N} } },
        { "os_compute_api:os-services",          { {N, N}, {N, N}, {N, N} } },
        { "",                                    { {N, N}, {N, N}, {N, N} } },
    };
    static const char *const projects[2] = { PROJECT_A, PROJECT_B };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
        for (int role = 0; role < N_ROLES; role++) {
            for (int p = 0; p < 2; p++) {
                const struct http_auth *auth = make_auth(role_names[role],
                                                         PROJECT_A);
                bool got = allowed(auth, rows[i].action, projects[p]);

                if (got != rows[i].expected[role][p]) {
                    fail_msg("%s by %s of project A on project %c: %s, "
                             "expected %s", rows[i].action,
                             role_names[role], p ? 'B' : 'A',
                             got ? "allowed" : "denied",
                             rows[i].expected[role][p] ? "allowed"
                                                       : "denied");
                }
            }
        }
    }
}

static void
test_edge_cases(void **state)
{
    static char admin_upper[] = "Admin";
    static char *two_roles[] = { (char *) "reader", (char *) "member" };
    static const struct {
        const char *what;
        const char *role;
        const char *token_project;
        const char *action;
        const char *target;
        bool expected;
    } cases[] = {
        /* A NULL target is the caller's own project. */
        { "own project implied", "reader", PROJECT_A,
          "os_compute_api:servers:index", NULL, Y },
        { "member, own project implied", "member", PROJECT_A,
          "os_compute_api:servers:create", NULL, Y },
        /* No role at all: scoped, but not even a reader. */
        { "no role, reader rule", NULL, PROJECT_A,
          "os_compute_api:servers:index", PROJECT_A, N },
        { "no role, owner rule", NULL, PROJECT_A,
          "os_compute_api:os-quota-sets:show", PROJECT_A, Y },
        { "no role, any rule", NULL, PROJECT_A, "os_compute_api:limits",
          NULL, Y },
        /* Unscoped tokens are on no project. */
        { "unscoped member", "member", NULL,
          "os_compute_api:servers:create", PROJECT_A, N },
        { "unscoped member, implied", "member", NULL,
          "os_compute_api:servers:index", NULL, N },
        { "unscoped admin", "admin", NULL,
          "os_compute_api:os-services:list", NULL, Y },
        /* Unknown roles grant nothing. */
        { "unknown role", "observer", PROJECT_A,
          "os_compute_api:servers:index", PROJECT_A, N },
        { "role prefix", "read", PROJECT_A,
          "os_compute_api:servers:index", PROJECT_A, N },
        { "role case", "MEMBER", PROJECT_A,
          "os_compute_api:servers:create", PROJECT_A, Y },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        const struct http_auth *auth = make_auth(cases[i].role,
                                                 cases[i].token_project);

        if (allowed(auth, cases[i].action, cases[i].target)
            != cases[i].expected) {
            fail_msg("case %zu (%s) went the wrong way", i, cases[i].what);
        }
    }

    /* No authentication at all. */
    assert_false(allowed(NULL, "os_compute_api:limits", NULL));

    /* Several roles, and the admin role in another spelling. */
    struct http_auth auth = *make_auth(NULL, PROJECT_A);
    auth.roles = two_roles;
    auth.n_roles = ARRAY_SIZE(two_roles);
    assert_true(allowed(&auth, "os_compute_api:servers:create", NULL));
    assert_false(allowed(&auth, "os_compute_api:os-services:list", NULL));
    assert_false(policy_is_admin(&auth));

    char *admin_roles[] = { admin_upper };
    auth.roles = admin_roles;
    auth.n_roles = 1;
    assert_true(policy_is_admin(&auth));
    assert_true(allowed(&auth, "os_compute_api:os-services:list", NULL));

    /* is_admin set by the validator counts as admin. */
    auth.roles = NULL;
    auth.n_roles = 0;
    auth.is_admin = true;
    assert_true(policy_is_admin(&auth));
    assert_true(allowed(&auth, "os_compute_api:os-hypervisors:list", NULL));
    assert_false(policy_is_admin(NULL));
}

static void
test_user_targets(void **state)
{
    static const struct {
        const char *role;
        const char *target_user;
        bool expected;
    } cases[] = {
        { "reader", USER_ID, Y },
        { "member", USER_ID, Y },
        { "member", NULL, Y },
        { "member", OTHER_USER_ID, N },
        { "reader", OTHER_USER_ID, N },
        { NULL, OTHER_USER_ID, N },
        { "admin", OTHER_USER_ID, Y },
    };
    static const char *const actions[] = {
        "os_compute_api:os-keypairs:index",
        "os_compute_api:os-keypairs:show",
        "os_compute_api:os-keypairs:create",
        "os_compute_api:os-keypairs:delete",
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        for (size_t a = 0; a < ARRAY_SIZE(actions); a++) {
            const struct policy_target target = { NULL,
                                                  cases[i].target_user };
            struct error *error = policy_check_target(
                make_auth(cases[i].role, PROJECT_A), actions[a], &target);

            if (!error != cases[i].expected) {
                fail_msg("case %zu, %s went the wrong way", i, actions[a]);
            }
            error_free(error);
        }
    }
}

static void
test_message(void **state)
{
    struct error *error;

    (void) state;
    error = policy_check(make_auth("member", PROJECT_A),
                         "os_compute_api:os-services:list", NULL);
    assert_non_null(error);
    assert_string_equal(error_message(error), "Policy doesn't allow "
                        "os_compute_api:os-services:list to be performed.");
    assert_string_equal(error_fault_name(error), "forbidden");
    error_free(error);

    error = policy_check(make_auth("admin", PROJECT_A),
                         "os_compute_api:no-such-thing", NULL);
    assert_non_null(error);
    assert_string_equal(error_message(error), "Policy doesn't allow "
                        "os_compute_api:no-such-thing to be performed.");
    error_free(error);
}

static void
test_table(void **state)
{
    enum policy_rule rule;
    size_t n = policy_n_actions();

    (void) state;
    assert_true(n > 100);
    for (size_t i = 0; i < n; i++) {
        const char *action = policy_action_at(i, &rule);
        enum policy_rule found;

        assert_non_null(action);
        assert_true(!strncmp(action, "os_compute_api:", 15));
        if (i > 0 && strcmp(policy_action_at(i - 1, NULL), action) >= 0) {
            fail_msg("'%s' is out of order or repeated", action);
        }
        assert_int_equal(policy_rule_of(action, &found), 0);
        assert_int_equal(found, rule);
        assert_string_not_equal(policy_rule_to_string(rule), "?");
    }
    assert_null(policy_action_at(n, &rule));
    assert_int_equal(policy_rule_of("os_compute_api:servers:nope", &rule),
                     -ENOENT);
    assert_int_equal(policy_rule_of("os_compute_api:os-services:list",
                                    &rule), 0);
    assert_int_equal(rule, POLICY_RULE_ADMIN_ONLY);
    assert_string_equal(policy_rule_to_string(POLICY_RULE_PROJECT_MEMBER),
                        "project_member");
    assert_string_equal(policy_rule_to_string((enum policy_rule) 99), "?");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matrix),
        cmocka_unit_test(test_edge_cases),
        cmocka_unit_test(test_user_targets),
        cmocka_unit_test(test_message),
        cmocka_unit_test(test_table),
    };

    return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
