/* quotas-api.c: the compute API's quota sets (see quotas-api.h). */
#include <config.h>

#include "api-cell/quotas-api.h"

#include <inttypes.h>
#include <string.h>
#include <json-c/json.h>

#include "api-cell/api-db.h"
#include "api-cell/compute-api.h"
#include "api-cell/http-router.h"
#include "api-cell/policy.h"
#include "api-cell/quota.h"
#include "shared/error.h"
#include "shared/json-util.h"
#include "shared/log.h"

LOG_MODULE("api.quotas");

/* Largest limit accepted (Nova's db.MAX_INT). */
#define QUOTAS_API_MAX_LIMIT INT64_C(2147483647)

/* Every key of a quota set, in the order Nova's samples show them.  Those
 * that are no quota.h resource (nova-network's) are shown as -1. */
static const char *const quotas_api_keys[] = {
    "cores", "fixed_ips", "floating_ips", "injected_file_content_bytes",
    "injected_file_path_bytes", "injected_files", "instances", "key_pairs",
    "metadata_items", "ram", "security_group_rules", "security_groups",
    "server_group_members", "server_groups",
};

/* {"quota_set": {...}} for project 'id' (NULL: no "id", as the update's
 * answer) from 'limits', or with 'usage' the detail form. */
static struct json_object *
quotas_api_body(const char *id, const struct quota_set *limits,
                const struct quota_set *usage)
{
    struct json_object *set = json_object_new_object();
    struct json_object *body = json_object_new_object();

    if (id) {
        json_object_object_add(set, "id", json_object_new_string(id));
    }
    for (size_t i = 0; i < ARRAY_SIZE(quotas_api_keys); i++) {
        enum quota_resource r;
        int64_t limit = -1, in_use = 0;

        if (!quota_resource_from_string(quotas_api_keys[i], &r)) {
            limit = limits->v[r];
            in_use = usage ? usage->v[r] : 0;
        }
        if (usage) {
            struct json_object *d = json_object_new_object();

            json_object_object_add(d, "in_use",
                                   json_object_new_int64(in_use));
            json_object_object_add(d, "limit", json_object_new_int64(limit));
            json_object_object_add(d, "reserved", json_object_new_int(0));
            json_object_object_add(set, quotas_api_keys[i], d);
        } else {
            json_object_object_add(set, quotas_api_keys[i],
                                   json_object_new_int64(limit));
        }
    }
    json_object_object_add(body, "quota_set", set);
    return body;
}

static struct error *
quotas_api_begin(struct http_request *req, void *aux, const char *action,
                 struct db **ret_db)
{
    struct compute_api *compute = aux;
    struct error *error;

    error = policy_check(http_request_auth(req), action,
                         http_request_param(req, "quota_project_id"));
    if (!error) {
        error = api_db_get(compute->db, ret_db);
    }
    return error;
}

static struct error *
quotas_api_show(struct http_request *req, struct http_response *resp,
                void *aux)
{
    const struct compute_api *compute = aux;
    const char *project = http_request_param(req, "quota_project_id");
    struct quota_set limits;
    struct db *db;
    struct error *error;

    error = quotas_api_begin(req, aux, "os_compute_api:os-quota-sets:show",
                             &db);
    if (!error) {
        error = quota_get_limits(db, compute->config, project, &limits);
    }
    if (error) {
        return error;
    }
    http_response_set_json(resp, 200, quotas_api_body(project, &limits,
                                                      NULL));
    return NULL;
}

static struct error *
quotas_api_detail(struct http_request *req, struct http_response *resp,
                  void *aux)
{
    const struct compute_api *compute = aux;
    const struct http_auth *auth = http_request_auth(req);
    const char *project = http_request_param(req, "quota_project_id");
    struct quota_set limits, usage;
    struct db *db;
    struct error *error;

    error = quotas_api_begin(req, aux,
                             "os_compute_api:os-quota-sets:detail", &db);
    if (!error) {
        error = quota_get_limits(db, compute->config, project, &limits);
    }
    if (!error) {
        /* Keypairs count per user: the caller's own, when it asks about
         * its own project. */
        bool own = auth && auth->project_id
                   && !strcmp(auth->project_id, project);

        error = quota_get_usage(db, project, own ? auth->user_id : NULL,
                                &usage);
    }
    if (error) {
        return error;
    }
    http_response_set_json(resp, 200, quotas_api_body(project, &limits,
                                                      &usage));
    return NULL;
}

static struct error *
quotas_api_defaults(struct http_request *req, struct http_response *resp,
                    void *aux)
{
    const struct compute_api *compute = aux;
    const char *project = http_request_param(req, "quota_project_id");
    struct quota_set limits;
    struct error *error;

    error = policy_check(http_request_auth(req),
                         "os_compute_api:os-quota-sets:defaults", project);
    if (error) {
        return error;
    }
    quota_defaults(compute->config, &limits);
    http_response_set_json(resp, 200, quotas_api_body(project, &limits,
                                                      NULL));
    return NULL;
}

/* The body of an update: the new limits ('set[r]' true for those given)
 * and "force". */
static struct error *
quotas_api_parse_update(const struct json_object *body,
                        struct quota_set *ret_values, bool set[],
                        bool *ret_force)
{
    static const char *top_keys[] = { "quota_set", NULL };
    const char *keys[ARRAY_SIZE(quotas_api_keys) + 2];
    struct json_object *qs = NULL;
    bool force = false;
    struct error *error;

    for (size_t i = 0; i < ARRAY_SIZE(quotas_api_keys); i++) {
        keys[i] = quotas_api_keys[i];
    }
    keys[ARRAY_SIZE(quotas_api_keys)] = "force";
    keys[ARRAY_SIZE(quotas_api_keys) + 1] = NULL;

    if (!body) {
        return error_new(ERROR_INVALID, "'quota_set' is a required "
                         "property");
    }
    error = json_get_object(body, NULL, NULL, true, &qs);
    if (!error) {
        error = json_check_allowed_keys(body, NULL, top_keys);
    }
    if (!error) {
        error = json_get_object(body, NULL, "quota_set", true, &qs);
    }
    if (!error) {
        error = json_check_allowed_keys(qs, "quota_set", keys);
    }
    if (!error) {
        error = json_get_bool_or_string(qs, "quota_set", "force", false,
                                        &force);
    }
    for (size_t i = 0; !error && i < ARRAY_SIZE(quotas_api_keys); i++) {
        long long v = 0;
        enum quota_resource r;

        if (!json_object_object_get_ex(qs, quotas_api_keys[i], NULL)) {
            continue;
        }
        error = json_get_int_or_string(qs, "quota_set", quotas_api_keys[i],
                                       true, -1, QUOTAS_API_MAX_LIMIT, &v);
        if (!error && !quota_resource_from_string(quotas_api_keys[i], &r)) {
            ret_values->v[r] = v;
            set[r] = true;
        }
    }
    if (!error) {
        *ret_force = force;
    }
    return error;
}

static struct error *
quotas_api_update(struct http_request *req, struct http_response *resp,
                  void *aux)
{
    const struct compute_api *compute = aux;
    const char *project = http_request_param(req, "quota_project_id");
    struct quota_set values, usage, limits;
    bool set[QUOTA_N_RESOURCES];
    bool force = false;
    struct db *db;
    struct error *error;

    memset(&values, 0, sizeof values);
    memset(set, 0, sizeof set);
    error = quotas_api_begin(req, aux,
                             "os_compute_api:os-quota-sets:update", &db);
    if (!error) {
        error = quotas_api_parse_update(http_request_body(req), &values,
                                        set, &force);
    }
    if (!error && !force) {
        error = quota_get_usage(db, project, NULL, &usage);
        for (int r = 0; !error && r < QUOTA_N_RESOURCES; r++) {
            if (set[r] && values.v[r] != -1 && values.v[r] < usage.v[r]) {
                error = error_new(ERROR_INVALID, "Quota limit %" PRId64
                                  " for %s must be greater than or equal "
                                  "to already used and reserved %" PRId64
                                  ".", values.v[r],
                                  quota_resource_to_string(r), usage.v[r]);
            }
        }
    }
    for (int r = 0; !error && r < QUOTA_N_RESOURCES; r++) {
        if (set[r]) {
            error = quota_set_limit(db, project, r, values.v[r]);
        }
    }
    if (!error) {
        error = quota_get_limits(db, compute->config, project, &limits);
    }
    if (error) {
        return error;
    }
    LOG_INFO_CTX(http_request_log_ctx(req), "updated the quotas of project "
                 "%s", project);
    http_response_set_json(resp, 200, quotas_api_body(NULL, &limits, NULL));
    return NULL;
}

static struct error *
quotas_api_delete(struct http_request *req, struct http_response *resp,
                  void *aux)
{
    const char *project = http_request_param(req, "quota_project_id");
    struct db *db;
    struct error *error;

    error = quotas_api_begin(req, aux,
                             "os_compute_api:os-quota-sets:delete", &db);
    if (!error) {
        error = quota_delete_project(db, project);
    }
    if (error) {
        return error;
    }
    LOG_INFO_CTX(http_request_log_ctx(req), "reset the quotas of project "
                 "%s", project);
    http_response_set_status(resp, 202);
    return NULL;
}

void
quotas_api_register(struct http_router *router, struct compute_api *compute)
{
    /* The parameter is not "project_id": the router reserves that name
     * for the "/v2.1/{project_id}/..." form of the URL. */
    http_router_add(router, HTTP_GET, "/v2.1/os-quota-sets/"
                    "{quota_project_id}", 0, quotas_api_show, compute);
    http_router_add(router, HTTP_GET, "/v2.1/os-quota-sets/"
                    "{quota_project_id}/detail", 0, quotas_api_detail,
                    compute);
    http_router_add(router, HTTP_GET, "/v2.1/os-quota-sets/"
                    "{quota_project_id}/defaults", 0, quotas_api_defaults,
                    compute);
    http_router_add(router, HTTP_PUT, "/v2.1/os-quota-sets/"
                    "{quota_project_id}", 0, quotas_api_update, compute);
    http_router_add(router, HTTP_DELETE, "/v2.1/os-quota-sets/"
                    "{quota_project_id}", 0, quotas_api_delete, compute);
}
