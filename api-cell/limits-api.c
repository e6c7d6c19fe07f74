/* limits-api.c: the compute API's limits (see limits-api.h).
 *
 * The absolute limits are Nova's names for the project's quotas and
 * usage.  Security groups and floating IPs belong to the network service
 * (nova-network's quotas are gone): they are shown as -1 and 0 used, as
 * Nova shows them without nova-network. */
#include <config.h>

#include "api-cell/limits-api.h"

#include <string.h>
#include <json-c/json.h>

#include "api-cell/api-db.h"
#include "api-cell/compute-api.h"
#include "api-cell/http-router.h"
#include "api-cell/policy.h"
#include "api-cell/quota.h"
#include "shared/error.h"

/* Absolute limit names and the quota each shows (-1: none, always
 * unlimited). */
static const struct {
    const char *name;
    int resource;
} limits_api_max[] = {
    { "maxImageMeta", QUOTA_metadata_items },
    { "maxPersonality", QUOTA_injected_files },
    { "maxPersonalitySize", QUOTA_injected_file_content_bytes },
    { "maxSecurityGroupRules", -1 },
    { "maxSecurityGroups", -1 },
    { "maxServerGroupMembers", QUOTA_server_group_members },
    { "maxServerGroups", QUOTA_server_groups },
    { "maxServerMeta", QUOTA_metadata_items },
    { "maxTotalCores", QUOTA_cores },
    { "maxTotalFloatingIps", -1 },
    { "maxTotalInstances", QUOTA_instances },
    { "maxTotalKeypairs", QUOTA_key_pairs },
    { "maxTotalRAMSize", QUOTA_ram },
};

/* Usage names and the quota whose usage each shows (-1: always 0). */
static const struct {
    const char *name;
    int resource;
} limits_api_used[] = {
    { "totalCoresUsed", QUOTA_cores },
    { "totalFloatingIpsUsed", -1 },
    { "totalInstancesUsed", QUOTA_instances },
    { "totalRAMUsed", QUOTA_ram },
    { "totalSecurityGroupsUsed", -1 },
    { "totalServerGroupsUsed", QUOTA_server_groups },
};

static struct error *
limits_api_show(struct http_request *req, struct http_response *resp,
                void *aux)
{
    struct compute_api *compute = aux;
    const struct http_auth *auth = http_request_auth(req);
    const char *project = http_request_query(req, "tenant_id");
    struct json_object *absolute, *limits, *body;
    struct quota_set max, used;
    struct db *db;
    struct error *error;

    error = policy_check(auth, "os_compute_api:limits", NULL);
    if (error) {
        return error;
    }
    if (project && (!auth->project_id || strcmp(project, auth->project_id))) {
        error = policy_check(auth, "os_compute_api:limits:other_project",
                             project);
        if (error) {
            return error;
        }
    } else {
        project = auth->project_id ? auth->project_id : "";
    }
    error = api_db_get(compute->db, &db);
    if (!error) {
        error = quota_get_limits(db, compute->config, project, &max);
    }
    if (!error) {
        error = quota_get_usage(db, project, NULL, &used);
    }
    if (error) {
        return error;
    }

    absolute = json_object_new_object();
    for (size_t i = 0; i < ARRAY_SIZE(limits_api_max); i++) {
        int r = limits_api_max[i].resource;

        json_object_object_add(absolute, limits_api_max[i].name,
                               json_object_new_int64(r < 0 ? -1
                                                           : max.v[r]));
    }
    for (size_t i = 0; i < ARRAY_SIZE(limits_api_used); i++) {
        int r = limits_api_used[i].resource;

        json_object_object_add(absolute, limits_api_used[i].name,
                               json_object_new_int64(r < 0 ? 0
                                                           : used.v[r]));
    }
    limits = json_object_new_object();
    json_object_object_add(limits, "absolute", absolute);
    json_object_object_add(limits, "rate", json_object_new_array());
    body = json_object_new_object();
    json_object_object_add(body, "limits", limits);
    http_response_set_json(resp, 200, body);
    return NULL;
}

void
limits_api_register(struct http_router *router, struct compute_api *compute)
{
    http_router_add(router, HTTP_GET, "/v2.1/limits", 0, limits_api_show,
                    compute);
}
