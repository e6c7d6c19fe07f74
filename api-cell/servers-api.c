/* servers-api.c: boot, list, show, rename and delete servers
 * (servers-api.h).
 *
 * Nova's order of checks is kept (nova/api/openstack/compute/servers.py):
 * the body is validated first, then the server is looked up (404), then
 * policy is checked against the server's project, then the lock and the
 * state.  Boots follow DESIGN.md section 3: the top-view row is written
 * (BUILD, no cell yet) before build_instance is cast, so the server shows
 * at once and a failed cast leaves a server in ERROR with a fault saying
 * why, never a lost boot. */
#include <config.h>

#include "api-cell/servers-api.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <json-c/json.h>

#include "api-cell/api-db.h"
#include "api-cell/cell-status.h"
#include "api-cell/cells-client.h"
#include "api-cell/compute-api.h"
#include "api-cell/flavor-db.h"
#include "api-cell/http-router.h"
#include "api-cell/image-db.h"
#include "api-cell/keypair-db.h"
#include "api-cell/policy.h"
#include "api-cell/quota.h"
#include "api-cell/servers-actions.h"
#include "api-cell/servers-instance-actions.h"
#include "api-cell/servers-metadata.h"
#include "api-cell/servers-validate.h"
#include "api-cell/servers-view.h"
#include "api-cell/top-view.h"
#include "cells-rpc/cells-rpcapi.h"
#include "cells-rpc/rpc-ctx.h"
#include "shared/cleanup.h"
#include "shared/error.h"
#include "shared/flavor.h"
#include "shared/instance.h"
#include "shared/json-util.h"
#include "shared/log.h"
#include "shared/timeutil.h"
#include "shared/uuid-util.h"
#include "shared/xalloc.h"

LOG_MODULE("api.servers");

/* Attempts a build gets in the cells and hosts (Nova's
 * [scheduler] max_attempts). */
#define SERVERS_MAX_ATTEMPTS 3

/* Characters of the adminPass of a new server (Nova's default
 * password_length) and of a reservation id's suffix. */
#define SERVERS_PASSWORD_LENGTH 12
#define SERVERS_RESERVATION_LENGTH 8

/* Longest name filter accepted, in bytes. */
#define SERVERS_MAX_FILTER_SIZE 1024

/* Nova's fault code for a failed build. */
#define SERVERS_FAULT_CODE 500

/* ---- Shared helpers ----------------------------------------------------- */

struct error *
servers_api_get_server(struct compute_api *compute,
                       const struct http_request *req, const char *uuid,
                       struct db **ret_db, struct top_view_server **ret)
{
    const struct http_auth *auth = http_request_auth(req);
    CLEANUP(top_view_server_freep) struct top_view_server *srv = NULL;
    char canonical[UUID_STRING_SIZE];
    struct db *db;
    struct error *error;

    if (uuid_normalize(uuid, canonical)) {
        return error_new(ERROR_NOT_FOUND, "Instance %s could not be found.",
                         uuid);
    }
    error = api_db_get(compute->db, &db);
    if (error) {
        return error;
    }
    error = top_view_get(db, canonical, false, &srv);
    if (error) {
        return error;
    }
    if (!auth || (!auth->is_admin
                  && (!auth->project_id || !srv->inst->project_id
                      || strcmp(auth->project_id, srv->inst->project_id)))) {
        return error_new(ERROR_NOT_FOUND, "Instance %s could not be found.",
                         uuid);
    }
    *ret_db = db;
    *ret = TAKE_PTR(srv);
    return NULL;
}

void
servers_api_view_ctx(const struct compute_api *compute,
                     const struct http_request *req, const char *project_id,
                     struct servers_view_ctx *ctx)
{
    const struct http_auth *auth = http_request_auth(req);
    struct error *error;

    memset(ctx, 0, sizeof *ctx);
    ctx->base_url = http_request_base_url(req);
    ctx->is_admin = auth && auth->is_admin;
    ctx->default_az = compute->config->default_availability_zone;
    error = policy_check(auth, "os_compute_api:os-extended-server-attributes",
                         project_id);
    ctx->extended = !error;
    error_free(error);
}

struct error *
servers_api_cell_error(const struct error *error, const char *cell_path)
{
    const char *where = cell_path ? cell_path : "api";

    switch (error_kind(error)) {
    case ERROR_UNAVAILABLE:
    case ERROR_CELL_DOWN:
        return error_new(ERROR_UNAVAILABLE, "Cell '%s' is unreachable: %s",
                         where, error_message(error));
    case ERROR_TIMEOUT:
        return error_new(ERROR_TIMEOUT, "Cell '%s' did not answer in time: "
                         "%s", where, error_message(error));
    default:
        return error_new(error_kind(error), "%s", error_message(error));
    }
}

struct error *
servers_api_no_cells(void)
{
    return error_new(ERROR_UNAVAILABLE, "nova-cells of the API cell is not "
                     "configured (cells.transport_url): servers cannot be "
                     "built or acted on");
}

static int
servers_api_cast_timeout(const struct compute_api *compute)
{
    return (int) compute->config->cast_timeout_ms;
}

struct error *
servers_api_cast_action(struct compute_api *compute,
                        const struct http_request *req,
                        const struct top_view_server *srv,
                        const char *action, struct json_object *args)
{
    struct json_object *msg = json_object_new_object();
    struct rpc_ctx ctx;
    struct error *error;

    json_object_object_add(msg, "instance_uuid",
                           json_object_new_string(srv->inst->uuid));
    json_object_object_add(msg, "cell_path",
                           json_object_new_string(srv->cell_path));
    json_object_object_add(msg, "action", json_object_new_string(action));
    json_object_object_add(msg, "args",
                           args ? args : json_object_new_object());
    compute_api_rpc_ctx(req, &ctx);
    error = cells_client_cast(compute->cells, &ctx, CELLS_INSTANCE_ACTION,
                              msg, servers_api_cast_timeout(compute));
    rpc_ctx_destroy(&ctx);
    if (error) {
        struct error *mapped = servers_api_cell_error(error, NULL);

        LOG_WARN_CTX(http_request_log_ctx(req), "%s of %s not sent: %s",
                     action, srv->inst->uuid, error_message(error));
        error_free(error);
        return mapped;
    }
    return NULL;
}

/* A deferred call under way. */
struct servers_api_pending {
    struct http_request *req;
    struct http_response *resp;
    char *cell_path;
    servers_api_reply_fn *fn;
};

/* Runs on the cells client's thread. */
static void
servers_api_call_done(struct json_object *result, const struct error *error,
                      void *aux)
{
    struct servers_api_pending *p = aux;
    struct error *answer;

    if (error) {
        answer = servers_api_cell_error(error, p->cell_path);
    } else {
        answer = p->fn(result, p->resp);
    }
    http_request_complete(p->req, answer);
    free(p->cell_path);
    free(p);
}

struct error *
servers_api_call(struct compute_api *compute, struct http_request *req,
                 struct http_response *resp, const char *method,
                 struct json_object *args, const char *cell_path,
                 servers_api_reply_fn *fn)
{
    struct servers_api_pending *p = xzalloc(sizeof *p);
    struct rpc_ctx ctx;
    struct error *error;

    p->req = req;
    p->resp = resp;
    p->cell_path = xstrdup_or_null(cell_path);
    p->fn = fn;
    /* Deferred first: the reply may come before cells_client_call()
     * returns. */
    http_request_defer(req);
    compute_api_rpc_ctx(req, &ctx);
    error = cells_client_call(compute->cells, &ctx, method, args,
                              (int) compute->config->call_timeout_ms,
                              servers_api_call_done, p);
    rpc_ctx_destroy(&ctx);
    if (error) {
        struct error *mapped = servers_api_cell_error(error, NULL);

        error_free(error);
        free(p->cell_path);
        free(p);
        http_request_complete(req, mapped);
    }
    return NULL;
}

/* ---- Boot --------------------------------------------------------------- */

/* 'n' random characters of 'alphabet' into 'out' (n + 1 bytes). */
static void
servers_random_string(const char *alphabet, char *out, size_t n)
{
    size_t n_alphabet = strlen(alphabet);
    unsigned char bytes[64];
    size_t got = 0;

    while (got < n) {
        ssize_t r = getrandom(bytes, n - got < sizeof bytes
                              ? n - got : sizeof bytes, 0);

        if (r <= 0) {
            if (r < 0 && errno == EINTR) {
                continue;
            }
            /* getrandom() does not fail for small requests once the pool
             * is initialised; stay correct anyway. */
            for (; got < n; got++) {
                out[got] = alphabet[(size_t) rand() % n_alphabet];
            }
            break;
        }
        for (ssize_t i = 0; i < r && got < n; i++) {
            /* 256 is no multiple of the alphabet: reject the tail so every
             * character is equally likely. */
            if (bytes[i] < 256 - 256 % n_alphabet) {
                out[got++] = alphabet[bytes[i] % n_alphabet];
            }
        }
    }
    out[n] = '\0';
}

/* The FAULT of a build that could not be sent down: 'error' says why. */
static struct json_object *
servers_build_fault(const struct error *error)
{
    struct json_object *fault = json_object_new_object();
    char created[TIME_ISO8601_SIZE];

    if (time_format_iso8601(time_now_ms(), TIME_STYLE_MICROS, created,
                            sizeof created)) {
        created[0] = '\0';
    }
    json_object_object_add(fault, "code",
                           json_object_new_int(SERVERS_FAULT_CODE));
    json_object_object_add(fault, "message", json_object_new_string(
                               error_message(error)));
    json_object_object_add(fault, "details", json_object_new_string(""));
    json_object_object_add(fault, "created",
                           json_object_new_string(created));
    return fault;
}

/* How many servers of 'flavor' to build, between min_count and max_count,
 * as Nova does: as many as the quotas allow, or the quota error of
 * min_count. */
static struct error *
servers_count_for_quota(struct db *db, const struct compute_api *compute,
                        const char *project_id,
                        const struct servers_create_req *r,
                        const struct flavor *flavor, size_t n_metadata,
                        int *ret_n)
{
    int lo = (int) r->min_count, hi = (int) r->max_count;
    struct error *error;

    error = quota_check_boot(db, compute->config, project_id, hi, flavor,
                             n_metadata);
    if (!error) {
        *ret_n = hi;
        return NULL;
    }
    if (error_kind(error) != ERROR_QUOTA || lo == hi) {
        return error;
    }
    error_free(error);
    error = quota_check_boot(db, compute->config, project_id, lo, flavor,
                             n_metadata);
    if (error) {
        return error;
    }
    /* lo fits, hi does not: the largest count that fits. */
    while (hi - lo > 1) {
        int mid = lo + (hi - lo) / 2;

        error = quota_check_boot(db, compute->config, project_id, mid,
                                 flavor, n_metadata);
        if (!error) {
            lo = mid;
        } else if (error_kind(error) == ERROR_QUOTA) {
            error_free(error);
            hi = mid;
        } else {
            return error;
        }
    }
    *ret_n = lo;
    return NULL;
}

/* The SPEC of a boot. */
static struct json_object *
servers_build_spec(const struct instance *inst,
                   const struct servers_create_req *r)
{
    struct json_object *spec = json_object_new_object();
    struct json_object *hints = NULL;

    json_object_object_add(spec, "flavor", flavor_to_json(inst->flavor));
    json_object_object_add(spec, "image", inst->image
                           ? instance_image_to_json(inst->image) : NULL);
    json_object_object_add(spec, "availability_zone",
                           inst->availability_zone
                           ? json_object_new_string(inst->availability_zone)
                           : NULL);
    json_object_object_add(spec, "num_instances", json_object_new_int(1));
    if (r->scheduler_hints) {
        AUTOFREE char *text = json_to_string_plain(r->scheduler_hints);

        hints = json_tokener_parse(text);
    }
    json_object_object_add(spec, "scheduler_hints",
                           hints ? hints : json_object_new_object());
    json_object_object_add(spec, "ignore_hosts", json_object_new_array());
    json_object_object_add(spec, "group", NULL);
    return spec;
}

/* Builds the instance 'index' (1-based) of 'n' a boot asks for. */
static struct instance *
servers_build_instance(const struct http_auth *auth,
                       const struct servers_create_req *r, int index, int n,
                       const struct flavor *flavor,
                       const struct instance_image *image,
                       const char *key_data, int64_t now)
{
    char uuid[UUID_STRING_SIZE];
    struct instance *inst;

    uuid_generate_string(uuid);
    inst = instance_new(uuid);
    /* Nova's multi_instance_display_name_template, '%(name)s-%(count)d'. */
    inst->display_name = n > 1 ? xasprintf("%s-%d", r->name, index)
                               : xstrdup(r->name);
    inst->project_id = xstrdup(auth->project_id);
    inst->user_id = xstrdup(auth->user_id);
    instance_set_flavor(inst, flavor);
    inst->image_ref = xstrdup(r->image_ref);
    inst->image = instance_image_clone(image);
    inst->key_name = xstrdup_or_null(r->key_name);
    inst->key_data = xstrdup_or_null(key_data);
    if (r->metadata) {
        json_object_object_foreach(r->metadata, key, value) {
            instance_set_metadata(inst, key, json_object_get_string(value));
        }
    }
    inst->availability_zone = xstrdup_or_null(r->availability_zone);
    inst->vm_state = INSTANCE_VM_BUILDING;
    inst->task_state = INSTANCE_TASK_SCHEDULING;
    inst->power_state = INSTANCE_POWER_NOSTATE;
    inst->created_at = now;
    return inst;
}

/* Writes and casts the 'n' instances of 'insts'.  On a failed cast the
 * instances not sent go to ERROR with a fault saying why. */
static struct error *
servers_build_all(struct compute_api *compute, struct http_request *req,
                  struct db *db, struct instance **insts, int n,
                  const struct servers_create_req *r)
{
    const struct log_ctx *log = http_request_log_ctx(req);
    struct error *error;
    struct rpc_ctx ctx;
    int i;

    for (i = 0; i < n; i++) {
        error = top_view_create(db, insts[i]);
        if (error) {
            return error;
        }
    }
    compute_api_rpc_ctx(req, &ctx);
    for (i = 0; i < n; i++) {
        struct json_object *args = json_object_new_object();

        json_object_object_add(args, "instance", instance_to_json(insts[i]));
        json_object_object_add(args, "spec",
                               servers_build_spec(insts[i], r));
        json_object_object_add(args, "max_attempts",
                               json_object_new_int(SERVERS_MAX_ATTEMPTS));
        error = cells_client_cast(compute->cells, &ctx,
                                  CELLS_BUILD_INSTANCE, args,
                                  servers_api_cast_timeout(compute));
        if (error) {
            break;
        }
        LOG_INFO_CTX(log, "server %s accepted, build sent to nova-cells",
                     insts[i]->uuid);
    }
    rpc_ctx_destroy(&ctx);
    if (i == n) {
        return NULL;
    }

    struct error *mapped = servers_api_cell_error(error, NULL);
    CLEANUP(json_putp) struct json_object *fault =
        servers_build_fault(mapped);
    LOG_WARN_CTX(log, "build of %s not sent: %s", insts[i]->uuid,
                 error_message(error));
    error_free(error);
    for (; i < n; i++) {
        struct error *e = top_view_set_error(db, insts[i]->uuid, fault);

        if (e) {
            LOG_ERR_CTX(log, "cannot record the failed build of %s: %s",
                        insts[i]->uuid, error_message(e));
            error_free(e);
        }
    }
    return mapped;
}

static struct error *
servers_create(struct http_request *req, struct http_response *resp,
               void *aux)
{
    struct compute_api *compute = aux;
    const struct http_auth *auth = http_request_auth(req);
    struct servers_create_req r;
    CLEANUP(flavor_freep) struct flavor *flavor = NULL;
    CLEANUP(instance_image_freep) struct instance_image *image = NULL;
    AUTOFREE char *key_data = NULL;
    struct instance **insts = NULL;
    struct db *db;
    struct error *error;
    int n = 0;

    error = policy_check(auth, "os_compute_api:servers:create", NULL);
    if (error) {
        return error;
    }
    error = servers_validate_create(http_request_body(req), &r);
    if (!error && r.has_block_devices) {
        error = error_new(ERROR_INVALID, "Block device mappings are not "
                          "supported: boot from an image (imageRef)");
    }
    if (!error && !*r.image_ref) {
        error = error_new(ERROR_INVALID, "Missing imageRef attribute");
    }
    if (!error && !compute->cells) {
        error = servers_api_no_cells();
    }
    if (!error) {
        error = api_db_get(compute->db, &db);
    }
    if (!error) {
        error = flavor_db_get_for_boot(db, r.flavor_ref, auth->project_id,
                                       auth->is_admin, &flavor);
        if (error && error_kind(error) == ERROR_NOT_FOUND) {
            /* Nova answers 400 for a bad flavorRef. */
            struct error *bad = error_new(ERROR_INVALID, "%s",
                                          error_message(error));

            error_free(error);
            error = bad;
        }
    }
    if (!error) {
        error = image_db_get_for_boot(db, r.image_ref, auth->project_id,
                                      auth->is_admin, &image);
    }
    if (!error && r.key_name) {
        error = keypair_db_get_public_key(db, auth->user_id, r.key_name,
                                          &key_data);
        if (error && error_kind(error) == ERROR_NOT_FOUND) {
            error_free(error);
            error = error_new(ERROR_INVALID, "Invalid key_name provided.");
        }
    }
    if (!error) {
        size_t n_metadata = r.metadata
            ? (size_t) json_object_object_length(r.metadata) : 0;

        error = servers_count_for_quota(db, compute, auth->project_id, &r,
                                        flavor, n_metadata, &n);
    }
    if (error) {
        servers_create_req_destroy(&r);
        return error;
    }

    int64_t now = time_now_ms();
    insts = xcalloc((size_t) n, sizeof *insts);
    for (int i = 0; i < n; i++) {
        insts[i] = servers_build_instance(auth, &r, i + 1, n, flavor, image,
                                          key_data, now);
    }
    error = servers_build_all(compute, req, db, insts, n, &r);
    if (!error) {
        struct json_object *body = json_object_new_object();
        AUTOFREE char *location = servers_view_self_url(
            http_request_base_url(req), insts[0]->uuid);

        if (r.return_reservation_id) {
            char suffix[SERVERS_RESERVATION_LENGTH + 1];
            AUTOFREE char *rid = NULL;

            servers_random_string("abcdefghijklmnopqrstuvwxyz0123456789",
                                  suffix, SERVERS_RESERVATION_LENGTH);
            rid = xasprintf("r-%s", suffix);
            json_object_object_add(body, "reservation_id",
                                   json_object_new_string(rid));
        } else {
            struct json_object *server = json_object_new_object();
            struct json_object *groups = json_object_new_array();
            struct json_object *group = json_object_new_object();
            char password[SERVERS_PASSWORD_LENGTH + 1];

            /* Nova's default password symbols: no look-alike
             * characters. */
            servers_random_string("23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
                                  "abcdefghijkmnopqrstuvwxyz", password,
                                  SERVERS_PASSWORD_LENGTH);
            json_object_object_add(server, "id",
                                   json_object_new_string(insts[0]->uuid));
            json_object_object_add(server, "links", servers_view_links(
                                       http_request_base_url(req),
                                       insts[0]->uuid));
            json_object_object_add(server, "OS-DCF:diskConfig",
                                   json_object_new_string("MANUAL"));
            json_object_object_add(server, "adminPass",
                                   json_object_new_string(password));
            json_object_object_add(group, "name",
                                   json_object_new_string("default"));
            json_object_array_add(groups, group);
            json_object_object_add(server, "security_groups", groups);
            json_object_object_add(body, "server", server);
        }
        http_response_set_json(resp, 202, body);
        http_response_add_header(resp, "Location", location);
    }
    for (int i = 0; i < n; i++) {
        instance_free(insts[i]);
    }
    free(insts);
    servers_create_req_destroy(&r);
    return error;
}

/* ---- List --------------------------------------------------------------- */

/* Appends 's' to 'b', escaped as Python's urlencode() (quote_plus)
 * writes it unless 'raw'. */
static char *
servers_url_append(char *b, const char *s, bool raw)
{
    size_t n = strlen(b), cap = n + 3 * strlen(s) + 1;
    char *out = xrealloc(b, cap);

    for (; *s; s++) {
        unsigned char c = (unsigned char) *s;

        if (raw || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9') || strchr("_.-~", c)) {
            out[n++] = (char) c;
        } else if (c == ' ') {
            out[n++] = '+';
        } else {
            (void) snprintf(out + n, 4, "%%%02X", c);
            n += 3;
        }
    }
    out[n] = '\0';
    return out;
}

/* The "next" link of a full page: the request's query with 'marker' set
 * to 'last' (at the end, as webob's MultiDict puts a replaced key). */
static struct json_object *
servers_next_links(const struct http_request *req, bool detail,
                   const char *last)
{
    struct json_object *links = json_object_new_array();
    struct json_object *link = json_object_new_object();
    char *href = xasprintf("%s/v2.1/servers%s?", http_request_base_url(req),
                           detail ? "/detail" : "");

    for (size_t i = 0; i < http_request_n_query(req); i++) {
        const char *name, *value;

        http_request_query_at(req, i, &name, &value);
        if (!strcmp(name, "marker")) {
            continue;
        }
        href = servers_url_append(href, name, false);
        href = servers_url_append(href, "=", true);
        href = servers_url_append(href, value ? value : "", false);
        href = servers_url_append(href, "&", true);
    }
    href = servers_url_append(href, "marker=", true);
    href = servers_url_append(href, last, false);
    json_object_object_add(link, "href", json_object_new_string(href));
    json_object_object_add(link, "rel", json_object_new_string("next"));
    json_object_array_add(links, link);
    free(href);
    return links;
}

/* Filters the top view cannot apply, checked on each row. */
struct servers_post_filter {
    const char *statuses[8];    /* API statuses that need the task state */
    size_t n_statuses;
    const char *image;
    const char *flavor;
    bool nothing;               /* ip filters: no server has addresses */
};

static bool
servers_post_filter_active(const struct servers_post_filter *pf)
{
    return pf->n_statuses || pf->image || pf->flavor || pf->nothing;
}

static bool
servers_post_filter_match(const struct servers_post_filter *pf,
                          const struct top_view_server *srv)
{
    const struct instance *inst = srv->inst;

    if (pf->nothing) {
        return false;
    }
    if (pf->n_statuses) {
        const char *status = instance_api_status(inst->vm_state,
                                                 inst->task_state);
        bool ok = false;

        for (size_t i = 0; i < pf->n_statuses; i++) {
            if (!strcasecmp(status, pf->statuses[i])) {
                ok = true;
            }
        }
        if (!ok) {
            return false;
        }
    }
    if (pf->image && (!inst->image_ref || strcmp(inst->image_ref,
                                                 pf->image))) {
        return false;
    }
    if (pf->flavor && (!inst->flavor || !inst->flavor->flavorid
                       || strcmp(inst->flavor->flavorid, pf->flavor))) {
        return false;
    }
    return true;
}

/* Query parameters a caller who is no admin may filter on (Nova's
 * _get_server_search_options); the others are dropped silently.  The
 * paging and sorting parameters are always read. */
static bool
servers_filter_allowed(const char *name, bool is_admin)
{
    static const char *const user_filters[] = {
        "reservation_id", "name", "status", "image", "flavor", "ip",
        "changes-since", "all_tenants",
    };

    if (is_admin) {
        return true;
    }
    for (size_t i = 0; i < ARRAY_SIZE(user_filters); i++) {
        if (!strcmp(name, user_filters[i])) {
            return true;
        }
    }
    return false;
}

static const char *
servers_query(const struct http_request *req, const char *name,
              bool is_admin)
{
    return servers_filter_allowed(name, is_admin)
           ? http_request_query(req, name) : NULL;
}

/* Fills 'f' and 'pf' from the query of 'req'.  Sets '*ret_empty' when
 * the answer is an empty list whatever the rows (an unknown status). */
static struct error *
servers_list_filter(const struct compute_api *compute,
                    const struct http_request *req, bool detail,
                    struct top_view_filter *f,
                    struct servers_post_filter *pf, long long *ret_limit,
                    bool *ret_empty)
{
    const struct http_auth *auth = http_request_auth(req);
    bool is_admin = auth->is_admin;
    bool all_tenants = false;
    const char *v;
    struct error *error;

    top_view_filter_init(f);
    memset(pf, 0, sizeof *pf);
    *ret_empty = false;

    /* all_tenants: "?all_tenants" alone counts as true, as in Nova. */
    v = servers_query(req, "all_tenants", is_admin);
    if (v) {
        if (*v) {
            error = servers_parse_bool(v, &all_tenants);
            if (error) {
                return error;
            }
        } else {
            all_tenants = true;
        }
    }
    if (all_tenants) {
        error = policy_check(auth, detail
                             ? "os_compute_api:servers:detail:"
                               "get_all_tenants"
                             : "os_compute_api:servers:index:"
                               "get_all_tenants", NULL);
        if (error) {
            return error;
        }
        f->project_id = servers_query(req, "tenant_id", is_admin);
        if (!f->project_id) {
            f->project_id = servers_query(req, "project_id", is_admin);
        }
    } else {
        f->project_id = auth->project_id;
    }
    f->user_id = servers_query(req, "user_id", is_admin);
    f->host = servers_query(req, "host", is_admin);

    v = servers_query(req, "name", is_admin);
    if (v && *v) {
        if (strlen(v) > SERVERS_MAX_FILTER_SIZE) {
            return error_new(ERROR_INVALID, "Invalid input for query "
                             "parameters name: longer than %d bytes",
                             SERVERS_MAX_FILTER_SIZE);
        }
        f->name_regex = v;
    }

    size_t n_status = servers_filter_allowed("status", is_admin)
                      ? http_request_query_count(req, "status") : 0;
    bool wants_deleted = false;
    if (n_status) {
        for (size_t i = 0; i < n_status; i++) {
            const char *status = http_request_query_nth(req, "status", i);
            bool needs_task = false;
            const char *vm_state = servers_status_to_vm_state(status,
                                                              &needs_task);
            bool known = false;

            if (!vm_state) {
                continue;
            }
            if (!strcmp(vm_state, "deleted")) {
                wants_deleted = true;
            }
            for (size_t j = 0; j < f->n_vm_states; j++) {
                if (!strcmp(f->vm_states[j], vm_state)) {
                    known = true;
                }
            }
            if (!known) {
                if (f->n_vm_states >= ARRAY_SIZE(f->vm_states)) {
                    return error_new(ERROR_INVALID, "Too many status "
                                     "filters");
                }
                f->vm_states[f->n_vm_states++] = vm_state;
            }
            if (needs_task && pf->n_statuses < ARRAY_SIZE(pf->statuses)) {
                pf->statuses[pf->n_statuses++] = status;
            }
        }
        if (!f->n_vm_states) {
            /* Only unknown statuses: Nova 2.1 lists nothing. */
            *ret_empty = true;
        }
        if (pf->n_statuses && pf->n_statuses < n_status) {
            /* Statuses without a task condition are mixed in: compare
             * every row's status instead. */
            pf->n_statuses = 0;
            for (size_t i = 0; i < n_status
                 && pf->n_statuses < ARRAY_SIZE(pf->statuses); i++) {
                pf->statuses[pf->n_statuses++] =
                    http_request_query_nth(req, "status", i);
            }
        }
    }

    v = servers_query(req, "changes-since", is_admin);
    if (v) {
        error = servers_parse_changes_since(v, &f->changes_since);
        if (error) {
            return error;
        }
    }
    v = servers_query(req, "deleted", is_admin);
    if (v && !strcasecmp(v, "true")) {
        f->include_deleted = true;
    }
    if (wants_deleted && f->n_vm_states == 1) {
        if (!is_admin) {
            return error_new(ERROR_FORBIDDEN, "Only administrators may list "
                             "deleted instances");
        }
        f->include_deleted = true;
    }

    pf->image = servers_query(req, "image", is_admin);
    pf->flavor = servers_query(req, "flavor", is_admin);
    if (servers_query(req, "ip", is_admin)
        || servers_query(req, "ip6", is_admin)) {
        pf->nothing = true;
    }

    /* Paging and sorting. */
    *ret_limit = compute->config->max_limit;
    v = http_request_query(req, "limit");
    if (v) {
        error = servers_parse_limit(v, compute->config->max_limit,
                                    ret_limit);
        if (error) {
            return error;
        }
    }
    f->marker = http_request_query(req, "marker");
    size_t n_keys = http_request_query_count(req, "sort_key");
    size_t n_dirs = http_request_query_count(req, "sort_dir");
    if (n_keys > ARRAY_SIZE(f->sort_keys)) {
        return error_new(ERROR_INVALID, "At most %zu sort keys are "
                         "supported", ARRAY_SIZE(f->sort_keys));
    }
    for (size_t i = 0; i < n_dirs; i++) {
        error = servers_check_sort_dir(http_request_query_nth(req,
                                                              "sort_dir",
                                                              i));
        if (error) {
            return error;
        }
    }
    for (size_t i = 0; i < n_keys; i++) {
        f->sort_keys[i] = http_request_query_nth(req, "sort_key", i);
        /* Missing directions take the last one given, else "desc". */
        f->sort_dirs[i] = n_dirs
            ? http_request_query_nth(req, "sort_dir",
                                     i < n_dirs ? i : n_dirs - 1)
            : "desc";
    }
    f->n_sort = n_keys;
    return NULL;
}

static struct error *
servers_list_common(struct http_request *req, struct http_response *resp,
                    struct compute_api *compute, bool detail)
{
    const struct http_auth *auth = http_request_auth(req);
    struct top_view_filter f;
    struct servers_post_filter pf;
    struct top_view_server **rows = NULL;
    size_t n_rows = 0;
    long long limit;
    bool empty;
    struct db *db;
    struct error *error;

    error = policy_check(auth, detail ? "os_compute_api:servers:detail"
                                      : "os_compute_api:servers:index",
                         NULL);
    if (!error) {
        error = servers_list_filter(compute, req, detail, &f, &pf, &limit,
                                    &empty);
    }
    if (!error && !empty && limit > 0) {
        f.limit = servers_post_filter_active(&pf) ? 0 : (int) limit;
        error = api_db_get(compute->db, &db);
        if (!error) {
            error = top_view_list(db, &f, &rows, &n_rows);
        }
    }
    if (error) {
        return error;
    }

    /* Written as text: a thousand servers' trees cost more to build and
     * free than the text to write (servers-view.h). */
    struct json_writer w;
    size_t n_shown = 0;
    const char *last = NULL;

    json_writer_init(&w);
    json_writer_begin_object(&w);
    json_writer_key(&w, "servers");
    json_writer_begin_array(&w);
    for (size_t i = 0; i < n_rows && (long long) n_shown < limit; i++) {
        struct servers_view_ctx ctx;

        if (!servers_post_filter_match(&pf, rows[i])) {
            continue;
        }
        servers_api_view_ctx(compute, req, rows[i]->inst->project_id, &ctx);
        if (detail) {
            servers_view_write_detail(&w, &ctx, rows[i]);
        } else {
            servers_view_write_summary(&w, &ctx, rows[i]);
        }
        last = rows[i]->inst->uuid;
        n_shown++;
    }
    json_writer_end_array(&w);
    if (n_shown && (long long) n_shown == limit) {
        CLEANUP(json_putp) struct json_object *links =
            servers_next_links(req, detail, last);

        json_writer_key(&w, "servers_links");
        json_writer_json(&w, links);
    }
    json_writer_end_object(&w);
    http_response_set_body(resp, 200, "application/json", w.buf, w.length);
    json_writer_destroy(&w);
    top_view_servers_free(rows, n_rows);
    return NULL;
}

static struct error *
servers_index(struct http_request *req, struct http_response *resp,
              void *aux)
{
    return servers_list_common(req, resp, aux, false);
}

static struct error *
servers_detail(struct http_request *req, struct http_response *resp,
               void *aux)
{
    return servers_list_common(req, resp, aux, true);
}

/* ---- Show, update, delete ----------------------------------------------- */

static void
servers_answer_server(struct compute_api *compute,
                      const struct http_request *req,
                      struct http_response *resp,
                      const struct top_view_server *srv)
{
    struct servers_view_ctx ctx;
    struct json_object *body = json_object_new_object();

    servers_api_view_ctx(compute, req, srv->inst->project_id, &ctx);
    json_object_object_add(body, "server", servers_view_detail(&ctx, srv));
    http_response_set_json(resp, 200, body);
}

static struct error *
servers_show(struct http_request *req, struct http_response *resp,
             void *aux)
{
    struct compute_api *compute = aux;
    CLEANUP(top_view_server_freep) struct top_view_server *srv = NULL;
    struct db *db;
    struct error *error;

    error = servers_api_get_server(compute, req,
                                   http_request_param(req, "server_id"),
                                   &db, &srv);
    if (!error) {
        error = policy_check(http_request_auth(req),
                             "os_compute_api:servers:show",
                             srv->inst->project_id);
    }
    if (error) {
        return error;
    }
    servers_answer_server(compute, req, resp, srv);
    return NULL;
}

static struct error *
servers_update(struct http_request *req, struct http_response *resp,
               void *aux)
{
    struct compute_api *compute = aux;
    CLEANUP(top_view_server_freep) struct top_view_server *srv = NULL;
    const char *uuid = http_request_param(req, "server_id");
    const char *name = NULL;
    struct db *db;
    struct error *error;

    error = servers_validate_update(http_request_body(req), &name);
    if (!error) {
        error = servers_api_get_server(compute, req, uuid, &db, &srv);
    }
    if (!error) {
        error = policy_check(http_request_auth(req),
                             "os_compute_api:servers:update",
                             srv->inst->project_id);
    }
    if (!error && name && srv->cell_path) {
        /* The leaf's row must change too, or its next update would bring
         * the old name back. */
        error = cell_status_check_reachable(db, srv->cell_path);
        if (!error && !compute->cells) {
            error = servers_api_no_cells();
        }
        if (!error) {
            struct json_object *args = json_object_new_object();

            json_object_object_add(args, "display_name",
                                   json_object_new_string(name));
            error = servers_api_cast_action(compute, req, srv, "update",
                                            args);
        }
    }
    if (!error && name) {
        error = top_view_set_name(db, srv->inst->uuid, name);
        if (!error) {
            char canonical[UUID_STRING_SIZE];

            (void) snprintf(canonical, sizeof canonical, "%s",
                            srv->inst->uuid);
            top_view_server_free(srv);
            srv = NULL;
            error = top_view_get(db, canonical, false, &srv);
        }
    }
    if (error) {
        return error;
    }
    servers_answer_server(compute, req, resp, srv);
    return NULL;
}

static struct error *
servers_delete(struct http_request *req, struct http_response *resp,
               void *aux)
{
    struct compute_api *compute = aux;
    const struct http_auth *auth = http_request_auth(req);
    CLEANUP(top_view_server_freep) struct top_view_server *srv = NULL;
    struct db *db;
    struct error *error;

    error = servers_api_get_server(compute, req,
                                   http_request_param(req, "server_id"),
                                   &db, &srv);
    if (!error) {
        error = policy_check(auth, "os_compute_api:servers:delete",
                             srv->inst->project_id);
    }
    if (error) {
        return error;
    }
    if (srv->locked && !auth->is_admin) {
        return error_new(ERROR_CONFLICT, "Instance %s is locked",
                         srv->inst->uuid);
    }
    if (!srv->cell_path) {
        /* Not placed yet (still being scheduled, or a build that never
         * left the API cell): as Nova deletes the build request, the
         * server is gone at once.  A build still on its way keeps going;
         * its first update finds the row deleted and the API cell's
         * nova-cells sends the delete after it (top_view_apply_update(),
         * child-cell/cells-state.c). */
        bool deleted = false;
        char canonical[UUID_STRING_SIZE];

        error = top_view_delete_unplaced(db, srv->inst->uuid, &deleted);
        if (error) {
            return error;
        }
        if (deleted) {
            LOG_INFO_CTX(http_request_log_ctx(req), "deleted %s before it "
                         "was placed in a cell", srv->inst->uuid);
            http_response_set_status(resp, 204);
            return NULL;
        }
        /* Placed meanwhile: delete it there. */
        (void) snprintf(canonical, sizeof canonical, "%s", srv->inst->uuid);
        top_view_server_free(srv);
        srv = NULL;
        error = top_view_get(db, canonical, false, &srv);
        if (error) {
            return error;
        }
        if (!srv->cell_path) {
            return error_new(ERROR_CONFLICT, "Cannot delete instance %s "
                             "now; try again", canonical);
        }
    }
    error = cell_status_check_reachable(db, srv->cell_path);
    if (error) {
        return error;
    }
    if (!compute->cells) {
        return servers_api_no_cells();
    }
    error = top_view_set_task_state(db, srv->inst->uuid, "deleting");
    if (!error) {
        error = servers_api_cast_action(compute, req, srv, "delete", NULL);
    }
    if (error) {
        return error;
    }
    http_response_set_status(resp, 204);
    return NULL;
}

void
servers_api_register(struct http_router *router, struct compute_api *compute)
{
    http_router_add(router, HTTP_POST, "/v2.1/servers", 0, servers_create,
                    compute);
    http_router_add(router, HTTP_GET, "/v2.1/servers", 0, servers_index,
                    compute);
    http_router_add(router, HTTP_GET, "/v2.1/servers/detail", 0,
                    servers_detail, compute);
    http_router_add(router, HTTP_GET, "/v2.1/servers/{server_id}", 0,
                    servers_show, compute);
    http_router_add(router, HTTP_PUT, "/v2.1/servers/{server_id}", 0,
                    servers_update, compute);
    http_router_add(router, HTTP_DELETE, "/v2.1/servers/{server_id}", 0,
                    servers_delete, compute);
    servers_metadata_register(router, compute);
    servers_actions_register(router, compute);
    servers_instance_actions_register(router, compute);
}
