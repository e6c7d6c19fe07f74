/* servers-metadata.c: the metadata of a server (servers-metadata.h).
 *
 * Nova's order is kept (nova/api/openstack/compute/server_metadata.py and
 * compute/api.py update_instance_metadata): the body schema first
 * (schemas/server_metadata.py, whose failures are worded as
 * servers-validate.h words them), then the server (404), policy, the
 * key of the URL against the body, the lock (409), the state (409), the
 * quota (403).  The new dictionary is computed here from the top view's
 * copy and the whole of it travels down, so that a write the leaf applies
 * twice or late still ends with the dictionary the user saw. */
#include <config.h>

#include "api-cell/servers-metadata.h"

#include <inttypes.h>
#include <string.h>
#include <json-c/json.h>

#include "api-cell/api-db.h"
#include "api-cell/cell-status.h"
#include "api-cell/compute-api.h"
#include "api-cell/http-request.h"
#include "api-cell/http-router.h"
#include "api-cell/policy.h"
#include "api-cell/quota.h"
#include "api-cell/servers-api.h"
#include "api-cell/servers-validate.h"
#include "api-cell/top-view.h"
#include "shared/cleanup.h"
#include "shared/error.h"
#include "shared/instance.h"
#include "shared/json-util.h"
#include "shared/log.h"
#include "shared/xalloc.h"

LOG_MODULE("api.servers.metadata");

/* What a write does with the body's dictionary. */
enum servers_metadata_op {
    SERVERS_METADATA_MERGE,         /* POST .../metadata */
    SERVERS_METADATA_REPLACE,       /* PUT .../metadata */
    SERVERS_METADATA_SET_ONE,       /* PUT .../metadata/{key} */
    SERVERS_METADATA_DELETE_ONE,    /* DELETE .../metadata/{key} */
};

/* ---- Validation --------------------------------------------------------- */

/* parameter_types.metadata at 'field'; with 'one', also exactly one
 * property (the update schema's minProperties and maxProperties). */
static struct error *
servers_metadata_check_dict(const char *field,
                            const struct json_object *value, bool one)
{
    struct error *error = servers_validate_metadata(field, value);

    if (!error && one) {
        int n = json_object_object_length((struct json_object *) value);

        if (n != 1) {
            AUTOFREE char *repr = servers_py_repr(value);

            return servers_validate_invalid(field, value, "%s %s", repr,
                                            n < 1
                                            ? "does not have enough "
                                              "properties"
                                            : "has too many properties");
        }
    }
    return error;
}

/* The schemas create and update_all ({"metadata": ...}) and update
 * ({"meta": ...}, 'one'): stores the dictionary (borrowed from 'body') in
 * '*ret'. */
static struct error *
servers_metadata_check_body(const struct json_object *body, bool one,
                            struct json_object **ret)
{
    const char *name = one ? "meta" : "metadata";
    const char *const allowed[] = { name, NULL };
    struct json_object *dict = NULL;
    struct error *error;

    if (!json_object_is_type(body, json_type_object)) {
        if (!body) {
            return error_new(ERROR_INVALID, "'%s' is a required property",
                             name);
        }
        AUTOFREE char *repr = servers_py_repr(body);
        return servers_validate_invalid(NULL, body, "%s is not of type "
                                        "'object'", repr);
    }
    if (json_object_object_get_ex((struct json_object *) body, name,
                                  &dict)) {
        error = servers_metadata_check_dict(name, dict, one);
        if (error) {
            return error;
        }
    } else {
        return error_new(ERROR_INVALID, "'%s' is a required property", name);
    }
    error = servers_validate_additional(NULL, body, allowed);
    if (error) {
        return error;
    }
    *ret = dict;
    return NULL;
}

/* ---- Reads -------------------------------------------------------------- */

/* The metadata of 'inst' as a new object. */
static struct json_object *
servers_metadata_to_json(const struct instance *inst)
{
    struct json_object *metadata = json_object_new_object();

    for (size_t i = 0; i < inst->n_metadata; i++) {
        json_object_object_add(metadata, inst->metadata[i].key,
                               json_object_new_string(
                                   inst->metadata[i].value));
    }
    return metadata;
}

/* The server of the request's URL, if policy 'rule' lets the caller see
 * it: stores it in '*ret' and its API DB connection in '*ret_db'. */
static struct error *
servers_metadata_get_server(void *aux, struct http_request *req,
                            const char *rule, struct db **ret_db,
                            struct top_view_server **ret)
{
    struct error *error;

    error = servers_api_get_server(aux, req,
                                   http_request_param(req, "server_id"),
                                   ret_db, ret);
    if (!error) {
        error = policy_check(http_request_auth(req), rule,
                             (*ret)->inst->project_id);
    }
    return error;
}

static struct error *
servers_metadata_index(struct http_request *req, struct http_response *resp,
                       void *aux)
{
    CLEANUP(top_view_server_freep) struct top_view_server *srv = NULL;
    struct json_object *body;
    struct db *db;
    struct error *error;

    error = servers_metadata_get_server(
        aux, req, "os_compute_api:server-metadata:index", &db, &srv);
    if (error) {
        return error;
    }
    body = json_object_new_object();
    json_object_object_add(body, "metadata",
                           servers_metadata_to_json(srv->inst));
    http_response_set_json(resp, 200, body);
    return NULL;
}

static struct error *
servers_metadata_show(struct http_request *req, struct http_response *resp,
                      void *aux)
{
    CLEANUP(top_view_server_freep) struct top_view_server *srv = NULL;
    const char *key = http_request_param(req, "key");
    struct json_object *body, *meta;
    const char *value;
    struct db *db;
    struct error *error;

    error = servers_metadata_get_server(
        aux, req, "os_compute_api:server-metadata:show", &db, &srv);
    if (error) {
        return error;
    }
    value = instance_get_metadata(srv->inst, key);
    if (!value) {
        return error_new(ERROR_NOT_FOUND, "Metadata item was not found");
    }
    body = json_object_new_object();
    meta = json_object_new_object();
    json_object_object_add(meta, key, json_object_new_string(value));
    json_object_object_add(body, "meta", meta);
    http_response_set_json(resp, 200, body);
    return NULL;
}

/* ---- Writes ------------------------------------------------------------- */

/* compute/api.py's @check_instance_state for metadata writes: vm_state
 * active, paused, suspended or stopped, and no task.  'action' is the
 * word of Nova's conflict message ("update metadata", "delete
 * metadata"). */
static struct error *
servers_metadata_check_state(const struct instance *inst,
                             const char *action)
{
    switch (inst->vm_state) {
    case INSTANCE_VM_ACTIVE:
    case INSTANCE_VM_PAUSED:
    case INSTANCE_VM_SUSPENDED:
    case INSTANCE_VM_STOPPED:
        break;
    default:
        return error_new(ERROR_CONFLICT, "Cannot '%s' instance %s while it "
                         "is in vm_state %s", action, inst->uuid,
                         instance_vm_state_to_string(inst->vm_state));
    }
    if (inst->task_state != INSTANCE_TASK_NONE) {
        return error_new(ERROR_CONFLICT, "Cannot '%s' instance %s while it "
                         "is in task_state %s", action, inst->uuid,
                         instance_task_state_to_string(inst->task_state));
    }
    return NULL;
}

/* compute/api.py _check_metadata_properties_quota: 'n' items against
 * project_id's metadata_items limit. */
static struct error *
servers_metadata_check_quota(struct compute_api *compute, struct db *db,
                             const char *project_id, size_t n)
{
    struct quota_set limits;
    struct error *error;

    if (!n) {
        return NULL;
    }
    error = quota_get_limits(db, compute->config, project_id, &limits);
    if (error) {
        return error;
    }
    if (limits.v[QUOTA_metadata_items] >= 0
        && (int64_t) n > limits.v[QUOTA_metadata_items]) {
        return error_new(ERROR_QUOTA, "Maximum number of metadata items "
                         "exceeds %" PRId64, limits.v[QUOTA_metadata_items]);
    }
    if (n > INSTANCE_MAX_METADATA) {
        /* What an instance can hold, whatever the quota says. */
        return error_new(ERROR_QUOTA, "Maximum number of metadata items "
                         "exceeds %d", INSTANCE_MAX_METADATA);
    }
    return NULL;
}

/* The dictionary after 'op' with 'dict' (the body's; for a delete, NULL)
 * and 'key' (the URL's, for SET_ONE and DELETE_ONE). */
static struct json_object *
servers_metadata_apply(const struct instance *inst,
                       enum servers_metadata_op op,
                       const struct json_object *dict, const char *key)
{
    struct json_object *result;

    if (op == SERVERS_METADATA_REPLACE) {
        result = json_object_new_object();
    } else {
        result = servers_metadata_to_json(inst);
    }
    if (op == SERVERS_METADATA_DELETE_ONE) {
        json_object_object_del(result, key);
        return result;
    }
    json_object_object_foreach((struct json_object *) dict, k, v) {
        json_object_object_add(result, k, json_object_new_string(
                                   json_object_get_string(v)));
    }
    return result;
}

static struct error *
servers_metadata_write(struct http_request *req, struct http_response *resp,
                       struct compute_api *compute,
                       enum servers_metadata_op op)
{
    static const char *const policies[] = {
        [SERVERS_METADATA_MERGE] = "os_compute_api:server-metadata:create",
        [SERVERS_METADATA_REPLACE] =
            "os_compute_api:server-metadata:update_all",
        [SERVERS_METADATA_SET_ONE] = "os_compute_api:server-metadata:update",
        [SERVERS_METADATA_DELETE_ONE] =
            "os_compute_api:server-metadata:delete",
    };
    const struct http_auth *auth = http_request_auth(req);
    CLEANUP(top_view_server_freep) struct top_view_server *srv = NULL;
    CLEANUP(json_putp) struct json_object *result = NULL;
    const char *key = http_request_param(req, "key");
    struct json_object *dict = NULL;
    struct json_object *args, *body;
    struct db *db;
    struct error *error = NULL;

    if (op != SERVERS_METADATA_DELETE_ONE) {
        error = servers_metadata_check_body(http_request_body(req),
                                            op == SERVERS_METADATA_SET_ONE,
                                            &dict);
    }
    if (!error) {
        error = servers_metadata_get_server(compute, req, policies[op], &db,
                                            &srv);
    }
    if (error) {
        return error;
    }
    if (op == SERVERS_METADATA_SET_ONE
        && !json_object_object_get_ex(dict, key, NULL)) {
        return error_new(ERROR_INVALID, "Request body and URI mismatch");
    }
    if (op == SERVERS_METADATA_DELETE_ONE
        && !instance_get_metadata(srv->inst, key)) {
        return error_new(ERROR_NOT_FOUND, "Metadata item was not found");
    }
    error = cell_status_check_reachable(db, srv->cell_path);
    if (error) {
        return error;
    }
    if (srv->locked && !(auth && auth->is_admin)) {
        return error_new(ERROR_CONFLICT, "Instance %s is locked",
                         srv->inst->uuid);
    }
    error = servers_metadata_check_state(
        srv->inst, op == SERVERS_METADATA_DELETE_ONE ? "delete metadata"
                                                     : "update metadata");
    if (error) {
        return error;
    }
    result = servers_metadata_apply(srv->inst, op, dict, key);
    if (op != SERVERS_METADATA_DELETE_ONE) {
        error = servers_metadata_check_quota(
            compute, db, srv->inst->project_id,
            (size_t) json_object_object_length(result));
        if (error) {
            return error;
        }
    }
    if (srv->cell_path) {
        if (!compute->cells) {
            return servers_api_no_cells();
        }
        args = json_object_new_object();
        json_object_object_add(args, "metadata", json_object_get(result));
        error = servers_api_cast_action(compute, req, srv, "update", args);
        if (error) {
            return error;
        }
    }
    error = top_view_set_metadata(db, srv->inst->uuid, result);
    if (error) {
        return error;
    }
    LOG_INFO_CTX(http_request_log_ctx(req), "metadata of %s: %d items",
                 srv->inst->uuid, json_object_object_length(result));

    switch (op) {
    case SERVERS_METADATA_MERGE:
    case SERVERS_METADATA_REPLACE:
        body = json_object_new_object();
        json_object_object_add(body, "metadata", TAKE_PTR(result));
        http_response_set_json(resp, 200, body);
        break;
    case SERVERS_METADATA_SET_ONE: {
        struct json_object *meta = NULL;

        /* Nova answers the body's "meta" as it came. */
        if (json_object_deep_copy(dict, &meta, NULL)) {
            return error_new(ERROR_INTERNAL, "Cannot copy the metadata");
        }
        body = json_object_new_object();
        json_object_object_add(body, "meta", meta);
        http_response_set_json(resp, 200, body);
        break;
    }
    case SERVERS_METADATA_DELETE_ONE:
        http_response_set_status(resp, 204);
        break;
    }
    return NULL;
}

static struct error *
servers_metadata_create(struct http_request *req, struct http_response *resp,
                        void *aux)
{
    return servers_metadata_write(req, resp, aux, SERVERS_METADATA_MERGE);
}

static struct error *
servers_metadata_update_all(struct http_request *req,
                            struct http_response *resp, void *aux)
{
    return servers_metadata_write(req, resp, aux, SERVERS_METADATA_REPLACE);
}

static struct error *
servers_metadata_update(struct http_request *req, struct http_response *resp,
                        void *aux)
{
    return servers_metadata_write(req, resp, aux, SERVERS_METADATA_SET_ONE);
}

static struct error *
servers_metadata_delete(struct http_request *req, struct http_response *resp,
                        void *aux)
{
    return servers_metadata_write(req, resp, aux,
                                  SERVERS_METADATA_DELETE_ONE);
}

void
servers_metadata_register(struct http_router *router,
                          struct compute_api *compute)
{
    static const char *const all = "/v2.1/servers/{server_id}/metadata";
    static const char *const one = "/v2.1/servers/{server_id}/metadata/{key}";

    http_router_add(router, HTTP_GET, all, 0, servers_metadata_index,
                    compute);
    http_router_add(router, HTTP_POST, all, 0, servers_metadata_create,
                    compute);
    http_router_add(router, HTTP_PUT, all, 0, servers_metadata_update_all,
                    compute);
    http_router_add(router, HTTP_GET, one, 0, servers_metadata_show,
                    compute);
    http_router_add(router, HTTP_PUT, one, 0, servers_metadata_update,
                    compute);
    http_router_add(router, HTTP_DELETE, one, 0, servers_metadata_delete,
                    compute);
}
