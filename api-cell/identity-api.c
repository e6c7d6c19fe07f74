/* identity-api.c: the /v3 handlers (see identity-api.h).
 *
 * Request and response shapes follow Keystone's API reference ("Password
 * authentication with scoped authorization", "Validate and show
 * information for token", version discovery).  Only the password method
 * and project scope exist here; anything else is refused with 401, as
 * Keystone refuses a method it does not offer. */
#include <config.h>

#include "api-cell/identity-api.h"

#include <stdio.h>
#include <string.h>
#include <json-c/json.h>
#include <openssl/evp.h>

#include "api-cell/http-server.h"
#include "api-cell/identity-service.h"
#include "api-cell/identity-store.h"
#include "api-cell/policy.h"
#include "shared/error.h"
#include "shared/json-util.h"
#include "shared/log.h"
#include "shared/timeutil.h"
#include "shared/xalloc.h"

LOG_MODULE("identity.api");

#define IDENTITY_API_SUBJECT_TOKEN_HEADER "X-Subject-Token"
#define IDENTITY_API_AUTH_TOKEN_HEADER "X-Auth-Token"

/* Lengths of the strings of an authentication request. */
#define IDENTITY_API_MAX_NAME_LENGTH 255
#define IDENTITY_API_MAX_METHODS 8

/* Bytes of an endpoint or service id: 32 hex digits. */
#define IDENTITY_API_ID_BYTES 16

/* The services of the catalog: type, name, path under the base URL. */
static const struct {
    const char *type;
    const char *name;
    const char *path;
} identity_api_services[] = {
    { "compute", "nova", "/v2.1" },
    { "image", "glance", "/image" },
    { "identity", "keystone", "/v3" },
};

static const char *const identity_api_interfaces[] = {
    "public", "internal", "admin",
};

/* ---- Building bodies ------------------------------------------------- */

/* Keystone's timestamp form: "2015-11-09T01:42:57.000000Z". */
static struct json_object *
identity_api_time_json(int64_t ms)
{
    char buf[TIME_ISO8601_SIZE];
    AUTOFREE char *text = NULL;

    if (time_format_iso8601(ms, TIME_STYLE_MICROS, buf, sizeof buf)) {
        return NULL;
    }
    text = xasprintf("%sZ", buf);
    return json_object_new_string(text);
}

/* A stable id for 'what': 32 hex digits of its SHA-256, so that the
 * catalog's ids stay the same from one token to the next. */
static struct json_object *
identity_api_stable_id(const char *what)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    char hex[2 * IDENTITY_API_ID_BYTES + 1];

    if (!EVP_Digest(what, strlen(what), digest, &size, EVP_sha256(), NULL)
        || size < IDENTITY_API_ID_BYTES) {
        memset(digest, 0, sizeof digest);
    }
    for (size_t i = 0; i < IDENTITY_API_ID_BYTES; i++) {
        (void) snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    }
    return json_object_new_string(hex);
}

static struct json_object *
identity_api_domain_json(void)
{
    struct json_object *domain = json_object_new_object();

    json_object_object_add(domain, "id",
                           json_object_new_string(IDENTITY_DOMAIN_ID));
    json_object_object_add(domain, "name",
                           json_object_new_string(IDENTITY_DOMAIN_NAME));
    return domain;
}

/* The base URL of the catalog's endpoints, without a trailing '/'. */
static char *
identity_api_base_url(const struct identity_service *service,
                      const struct http_request *req)
{
    const char *base = identity_service_public_endpoint(service);
    size_t n;

    if (!base) {
        base = http_request_base_url(req);
    }
    if (!base) {
        base = "";
    }
    n = strlen(base);
    while (n > 0 && base[n - 1] == '/') {
        n--;
    }
    return xstrndup(base, n);
}

static struct json_object *
identity_api_catalog_json(const struct identity_service *service,
                          const char *base_url)
{
    struct json_object *catalog = json_object_new_array();
    const char *region = identity_service_region(service);

    for (size_t s = 0; s < ARRAY_SIZE(identity_api_services); s++) {
        struct json_object *entry = json_object_new_object();
        struct json_object *endpoints = json_object_new_array();
        AUTOFREE char *service_key = xasprintf(
            "service:%s", identity_api_services[s].type);

        for (size_t i = 0; i < ARRAY_SIZE(identity_api_interfaces); i++) {
            struct json_object *endpoint = json_object_new_object();
            AUTOFREE char *key = xasprintf(
                "endpoint:%s:%s:%s", identity_api_services[s].type,
                identity_api_interfaces[i], region);
            AUTOFREE char *url = xasprintf("%s%s", base_url,
                                           identity_api_services[s].path);

            json_object_object_add(endpoint, "id",
                                   identity_api_stable_id(key));
            json_object_object_add(endpoint, "interface",
                                   json_object_new_string(
                                       identity_api_interfaces[i]));
            json_object_object_add(endpoint, "region",
                                   json_object_new_string(region));
            json_object_object_add(endpoint, "region_id",
                                   json_object_new_string(region));
            json_object_object_add(endpoint, "url",
                                   json_object_new_string(url));
            json_object_array_add(endpoints, endpoint);
        }
        json_object_object_add(entry, "endpoints", endpoints);
        json_object_object_add(entry, "id",
                               identity_api_stable_id(service_key));
        json_object_object_add(entry, "type", json_object_new_string(
                                   identity_api_services[s].type));
        json_object_object_add(entry, "name", json_object_new_string(
                                   identity_api_services[s].name));
        json_object_array_add(catalog, entry);
    }
    return catalog;
}

/* {"token": {...}} for 'info'; with the catalog when 'base_url' is not
 * NULL and the token is scoped. */
static struct json_object *
identity_api_token_json(const struct identity_service *service,
                        const struct identity_token_info *info,
                        const char *base_url)
{
    const struct identity_token *token = &info->token;
    struct json_object *body = json_object_new_object();
    struct json_object *t = json_object_new_object();
    struct json_object *methods = json_object_new_array();
    struct json_object *user = json_object_new_object();
    struct json_object *audit_ids = json_object_new_array();

    for (size_t i = 0; i < token->n_methods; i++) {
        json_object_array_add(methods,
                              json_object_new_string(token->methods[i]));
    }
    json_object_object_add(t, "methods", methods);

    json_object_object_add(user, "domain", identity_api_domain_json());
    json_object_object_add(user, "id",
                           json_object_new_string(token->user_id));
    json_object_object_add(user, "name", json_object_new_string(
                               info->user_name ? info->user_name : ""));
    json_object_object_add(user, "password_expires_at", NULL);
    json_object_object_add(t, "user", user);

    if (token->audit_id) {
        json_object_array_add(audit_ids,
                              json_object_new_string(token->audit_id));
    }
    json_object_object_add(t, "audit_ids", audit_ids);
    json_object_object_add(t, "expires_at",
                           identity_api_time_json(token->expires_at_ms));
    json_object_object_add(t, "issued_at",
                           identity_api_time_json(token->issued_at_ms));

    if (token->project_id) {
        struct json_object *project = json_object_new_object();
        struct json_object *roles = json_object_new_array();

        json_object_object_add(project, "domain",
                               identity_api_domain_json());
        json_object_object_add(project, "id",
                               json_object_new_string(token->project_id));
        json_object_object_add(project, "name", json_object_new_string(
                                   info->project_name ? info->project_name
                                                      : ""));
        json_object_object_add(t, "project", project);
        json_object_object_add(t, "is_domain", json_object_new_boolean(0));

        for (size_t i = 0; i < info->n_roles; i++) {
            struct json_object *role = json_object_new_object();

            json_object_object_add(role, "id", info->roles[i].id
                                   ? json_object_new_string(
                                       info->roles[i].id) : NULL);
            json_object_object_add(role, "name", json_object_new_string(
                                       info->roles[i].name));
            json_object_array_add(roles, role);
        }
        json_object_object_add(t, "roles", roles);
        if (base_url) {
            json_object_object_add(t, "catalog", identity_api_catalog_json(
                                       service, base_url));
        }
    }
    json_object_object_add(body, "token", t);
    return body;
}

struct json_object *
identity_api_version_json(const char *base_url)
{
    struct json_object *version = json_object_new_object();
    struct json_object *links = json_object_new_array();
    struct json_object *self = json_object_new_object();
    struct json_object *media_types = json_object_new_array();
    struct json_object *media = json_object_new_object();
    AUTOFREE char *href = xasprintf("%s/v3/", base_url ? base_url : "");

    json_object_object_add(version, "id",
                           json_object_new_string(IDENTITY_API_VERSION));
    json_object_object_add(version, "status",
                           json_object_new_string("stable"));
    json_object_object_add(version, "updated", json_object_new_string(
                               IDENTITY_API_VERSION_UPDATED));
    json_object_object_add(self, "rel", json_object_new_string("self"));
    json_object_object_add(self, "href", json_object_new_string(href));
    json_object_array_add(links, self);
    json_object_object_add(version, "links", links);
    json_object_object_add(media, "base",
                           json_object_new_string("application/json"));
    json_object_object_add(media, "type", json_object_new_string(
                               IDENTITY_API_MEDIA_TYPE));
    json_object_array_add(media_types, media);
    json_object_object_add(version, "media-types", media_types);
    return version;
}

/* Keystone's error body, {"error": {"code", "title", "message"}}. */
static struct json_object *
identity_api_error_json(int code, const char *title, const char *message)
{
    struct json_object *body = json_object_new_object();
    struct json_object *error = json_object_new_object();

    json_object_object_add(error, "code", json_object_new_int(code));
    json_object_object_add(error, "title", json_object_new_string(title));
    json_object_object_add(error, "message",
                           json_object_new_string(message));
    json_object_object_add(body, "error", error);
    return body;
}

/* ---- Reading the authentication request ------------------------------ */

static struct error *
identity_api_unauthorized(void)
{
    return error_new(ERROR_UNAUTHORIZED, IDENTITY_UNAUTHORIZED_MESSAGE);
}

/* Checks a "domain" object at 'path' in 'obj' (required when 'required'):
 * only the domain "Default" exists.  Sets '*ret_other' when it names
 * another one. */
static struct error *
identity_api_check_domain(const struct json_object *obj, const char *path,
                          bool required, bool *ret_other)
{
    static const char *const allowed[] = { "id", "name", NULL };
    struct json_object *domain = NULL;
    AUTOFREE char *domain_path = xasprintf("%s.domain", path);
    const char *id = NULL, *name = NULL;
    struct error *error;

    error = json_get_object(obj, path, "domain", required, &domain);
    if (error || !domain) {
        return error;
    }
    error = json_check_allowed_keys(domain, domain_path, allowed);
    if (!error) {
        error = json_get_string(domain, domain_path, "id", false,
                                IDENTITY_MAX_ID_LENGTH, &id);
    }
    if (!error) {
        error = json_get_string(domain, domain_path, "name", false,
                                IDENTITY_API_MAX_NAME_LENGTH, &name);
    }
    if (error) {
        return error;
    }
    if (!id && !name) {
        return error_new(ERROR_INVALID, "Expecting to find id or name in "
                         "%s", domain_path);
    }
    if ((id && strcmp(id, IDENTITY_DOMAIN_ID))
        || (name && strcmp(name, IDENTITY_DOMAIN_NAME))) {
        *ret_other = true;
    }
    return NULL;
}

/* Reads an object at 'path' that names a user or project by "id", or by
 * "name" and "domain". */
static struct error *
identity_api_get_ref(const struct json_object *obj, const char *path,
                     size_t max_name_length, const char **ret_id,
                     const char **ret_name, bool *ret_other_domain)
{
    const char *id = NULL, *name = NULL;
    struct error *error;

    error = json_get_string(obj, path, "id", false, IDENTITY_MAX_ID_LENGTH,
                            &id);
    if (!error) {
        error = json_get_string(obj, path, "name", false, max_name_length,
                                &name);
    }
    if (!error && !id && !name) {
        error = error_new(ERROR_INVALID, "Expecting to find id or name in "
                          "%s", path);
    }
    if (!error) {
        error = identity_api_check_domain(obj, path, !id, ret_other_domain);
    }
    if (!error) {
        *ret_id = id;
        *ret_name = id ? NULL : name;
    }
    return error;
}

/* Fills '*c' (borrowing strings from 'body') from an authentication
 * request.  ERROR_INVALID for a malformed body; ERROR_UNAUTHORIZED for a
 * well-formed request this service cannot honour (another method, domain
 * or scope). */
static struct error *
identity_api_parse_auth(const struct json_object *body,
                        struct identity_credentials *c)
{
    struct json_object *auth, *identity, *methods, *password, *user;
    struct json_object *scope = NULL, *project = NULL;
    bool other = false, has_password = false;
    struct error *error;

    memset(c, 0, sizeof *c);
    if (!body) {
        return error_new(ERROR_INVALID, "Expecting to find auth in request "
                         "body");
    }
    error = json_get_object(body, NULL, NULL, true, &auth);
    if (!error) {
        error = json_get_object(body, NULL, "auth", true, &auth);
    }
    if (!error) {
        error = json_get_object(auth, "auth", "identity", true, &identity);
    }
    if (!error) {
        error = json_get_array(identity, "auth.identity", "methods", true,
                               IDENTITY_API_MAX_METHODS, &methods);
    }
    for (size_t i = 0; !error && i < json_object_array_length(methods);
         i++) {
        const char *method;

        error = json_get_string(json_object_array_get_idx(methods, i),
                                "auth.identity.methods", NULL, true,
                                IDENTITY_API_MAX_NAME_LENGTH, &method);
        if (!error && !strcmp(method, "password")) {
            has_password = true;
        } else if (!error) {
            other = true;
        }
    }
    if (error) {
        return error;
    }
    if (!has_password || other) {
        LOG_DBG("Authentication with a method other than password "
                "refused");
        return identity_api_unauthorized();
    }

    error = json_get_object(identity, "auth.identity", "password", true,
                            &password);
    if (!error) {
        error = json_get_object(password, "auth.identity.password", "user",
                                true, &user);
    }
    if (!error) {
        error = identity_api_get_ref(user, "auth.identity.password.user",
                                     IDENTITY_API_MAX_NAME_LENGTH,
                                     &c->user_id, &c->user_name, &other);
    }
    if (!error) {
        error = json_get_string(user, "auth.identity.password.user",
                                "password", true, 0, &c->password);
    }

    if (!error) {
        error = json_get_object(auth, "auth", "scope", false, &scope);
    }
    if (!error && scope) {
        error = json_get_object(scope, "auth.scope", "project", false,
                                &project);
        if (!error && !project) {
            /* Domain and system scopes do not exist here. */
            LOG_DBG("Authentication with a scope other than a project "
                    "refused");
            return identity_api_unauthorized();
        }
    }
    if (!error && project) {
        error = identity_api_get_ref(project, "auth.scope.project",
                                     IDENTITY_API_MAX_NAME_LENGTH,
                                     &c->project_id, &c->project_name,
                                     &other);
    }
    if (error) {
        return error;
    }
    if (other) {
        LOG_DBG("Authentication in a domain other than '%s' refused",
                IDENTITY_DOMAIN_NAME);
        return identity_api_unauthorized();
    }
    return NULL;
}

/* ---- Handlers -------------------------------------------------------- */

static struct error *
identity_api_issue_token(struct http_request *req,
                         struct http_response *resp, void *aux)
{
    struct identity_service *service = aux;
    struct identity_credentials c;
    struct identity_token_info info;
    struct error *error;

    error = identity_api_parse_auth(http_request_body(req), &c);
    if (!error) {
        error = identity_service_authenticate(
            service, &c, http_request_log_ctx(req), &info);
    }
    if (error && error_kind(error) == ERROR_UNAUTHORIZED) {
        /* Answered here rather than by the server, which would drop the
         * WWW-Authenticate header Keystone sends with it. */
        AUTOFREE char *base = identity_api_base_url(service, req);
        AUTOFREE char *www = xasprintf("Keystone uri=\"%s/v3\"", base);

        http_response_set_json(resp, 401, identity_api_error_json(
                                   401, "Unauthorized",
                                   error_message(error)));
        http_response_add_header(resp, "WWW-Authenticate", www);
        error_free(error);
        return NULL;
    } else if (error) {
        return error;
    }

    AUTOFREE char *base = identity_api_base_url(service, req);
    http_response_set_json(resp, 201,
                           identity_api_token_json(service, &info, base));
    http_response_add_header(resp, IDENTITY_API_SUBJECT_TOKEN_HEADER,
                             info.token_id);
    identity_token_info_destroy(&info);
    return NULL;
}

static struct error *
identity_api_show_token(struct http_request *req,
                        struct http_response *resp, void *aux)
{
    struct identity_service *service = aux;
    const char *auth_token = http_request_header(
        req, IDENTITY_API_AUTH_TOKEN_HEADER);
    const char *subject = http_request_header(
        req, IDENTITY_API_SUBJECT_TOKEN_HEADER);
    struct http_auth caller;
    struct identity_token_info info;
    struct error *error;

    if (!auth_token) {
        return identity_api_unauthorized();
    }
    memset(&caller, 0, sizeof caller);
    error = identity_service_validate(service, auth_token, false, &caller);
    if (error) {
        if (error_kind(error) == ERROR_UNAUTHORIZED) {
            LOG_DBG_CTX(http_request_log_ctx(req), "X-Auth-Token: %s",
                        error_message(error));
            error_free(error);
            error = identity_api_unauthorized();
        }
        http_auth_destroy(&caller);
        return error;
    }
    if (!subject) {
        http_auth_destroy(&caller);
        return error_new(ERROR_NOT_FOUND, "Could not find token: no "
                         "X-Subject-Token header.");
    }
    error = identity_service_show_token(service, subject, &info);
    if (error) {
        http_auth_destroy(&caller);
        return error;
    }
    /* Keystone's identity:validate_token: the token's own user or an
     * admin. */
    if (!caller.is_admin && strcmp(caller.user_id, info.token.user_id)) {
        http_auth_destroy(&caller);
        identity_token_info_destroy(&info);
        return error_new(ERROR_FORBIDDEN, "You are not authorized to "
                         "perform the requested action: "
                         "identity:validate_token.");
    }
    http_auth_destroy(&caller);

    AUTOFREE char *base = identity_api_base_url(service, req);
    bool nocatalog = http_request_query(req, "nocatalog") != NULL;
    http_response_set_json(resp, 200, identity_api_token_json(
                               service, &info, nocatalog ? NULL : base));
    http_response_add_header(resp, IDENTITY_API_SUBJECT_TOKEN_HEADER,
                             info.token_id);
    identity_token_info_destroy(&info);
    return NULL;
}

static struct error *
identity_api_show_version(struct http_request *req,
                          struct http_response *resp, void *aux)
{
    struct identity_service *service = aux;
    AUTOFREE char *base = identity_api_base_url(service, req);
    struct json_object *body = json_object_new_object();

    json_object_object_add(body, "version", identity_api_version_json(base));
    http_response_set_json(resp, 200, body);
    return NULL;
}

/* ---- Projects -------------------------------------------------------- */

/* Keystone's project: {"id", "name", "domain_id", "enabled",
 * "description", "is_domain", "parent_id" (the domain, for a project at
 * the top of it), "tags", "options", "links": {"self"}}. */
static struct json_object *
identity_api_project_json(const struct identity_project *project,
                          const char *base_url)
{
    struct json_object *obj = json_object_new_object();
    struct json_object *links = json_object_new_object();
    AUTOFREE char *self = xasprintf("%s/v3/projects/%s", base_url,
                                    project->id);

    json_object_object_add(obj, "id", json_object_new_string(project->id));
    json_object_object_add(obj, "name",
                           json_object_new_string(project->name));
    json_object_object_add(obj, "domain_id",
                           json_object_new_string(IDENTITY_DOMAIN_ID));
    json_object_object_add(obj, "enabled",
                           json_object_new_boolean(project->enabled));
    json_object_object_add(obj, "description", json_object_new_string(
                               project->description
                               ? project->description : ""));
    json_object_object_add(obj, "is_domain", json_object_new_boolean(0));
    json_object_object_add(obj, "parent_id",
                           json_object_new_string(IDENTITY_DOMAIN_ID));
    json_object_object_add(obj, "tags", json_object_new_array());
    json_object_object_add(obj, "options", json_object_new_object());
    json_object_object_add(links, "self", json_object_new_string(self));
    json_object_object_add(obj, "links", links);
    return obj;
}

/* Keystone's 403 for a policy rule 'action' ("identity:list_projects"). */
static struct error *
identity_api_forbidden(const char *action)
{
    return error_new(ERROR_FORBIDDEN, "You are not authorized to perform "
                     "the requested action: %s.", action);
}

/* True if 'text' is one of Keystone's spellings of a true boolean query
 * value ("enabled=true"); '*ret_valid' false for an unknown spelling. */
static bool
identity_api_query_bool(const char *text, bool *ret_valid)
{
    static const char *const yes[] = { "true", "True", "1", "yes", "on" };
    static const char *const no[] = { "false", "False", "0", "no", "off" };

    *ret_valid = true;
    for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
        if (!strcmp(text, yes[i])) {
            return true;
        }
    }
    for (size_t i = 0; i < ARRAY_SIZE(no); i++) {
        if (!strcmp(text, no[i])) {
            return false;
        }
    }
    *ret_valid = false;
    return false;
}

/* GET /v3/projects: identity:list_projects, admin only.  Filters name,
 * domain_id, enabled, is_domain, as Keystone; no paging (links previous
 * and next are null). */
static struct error *
identity_api_list_projects(struct http_request *req,
                           struct http_response *resp, void *aux)
{
    struct identity_service *service = aux;
    const struct http_auth *auth = http_request_auth(req);
    const char *name = http_request_query(req, "name");
    const char *domain_id = http_request_query(req, "domain_id");
    const char *enabled = http_request_query(req, "enabled");
    const char *is_domain = http_request_query(req, "is_domain");
    struct identity_project *projects = NULL;
    struct identity_project one;
    size_t n = 0;
    bool want_enabled = false, valid = true, none = false;
    struct db *db;
    struct error *error;

    if (!auth || !auth->is_admin) {
        return identity_api_forbidden("identity:list_projects");
    }
    if (enabled) {
        want_enabled = identity_api_query_bool(enabled, &valid);
        if (!valid) {
            return error_new(ERROR_INVALID, "Invalid input for field "
                             "'enabled': '%s' is not a boolean.", enabled);
        }
    }
    if (is_domain) {
        /* No project here is a domain. */
        none = identity_api_query_bool(is_domain, &valid) || !valid;
    }
    if (domain_id && strcmp(domain_id, IDENTITY_DOMAIN_ID)) {
        none = true;
    }
    error = identity_service_db(service, &db);
    if (error) {
        return error;
    }
    if (none) {
        /* Nothing matches. */
    } else if (name) {
        memset(&one, 0, sizeof one);
        error = identity_store_project_get(db, NULL, name, &one);
        if (!error) {
            projects = xmalloc(sizeof *projects);
            projects[0] = one;
            n = 1;
        } else if (error_kind(error) == ERROR_NOT_FOUND) {
            error_free(error);
            error = NULL;
        }
    } else {
        error = identity_store_project_list(db, &projects, &n);
    }
    if (error) {
        return error;
    }

    AUTOFREE char *base = identity_api_base_url(service, req);
    AUTOFREE char *self = xasprintf("%s%s", base, http_request_path(req));
    struct json_object *body = json_object_new_object();
    struct json_object *list = json_object_new_array();
    struct json_object *links = json_object_new_object();

    for (size_t i = 0; i < n; i++) {
        if (enabled && projects[i].enabled != want_enabled) {
            continue;
        }
        json_object_array_add(list,
                              identity_api_project_json(&projects[i], base));
    }
    identity_project_array_free(projects, n);
    json_object_object_add(links, "self", json_object_new_string(self));
    json_object_object_add(links, "previous", NULL);
    json_object_object_add(links, "next", NULL);
    json_object_object_add(body, "projects", list);
    json_object_object_add(body, "links", links);
    http_response_set_json(resp, 200, body);
    return NULL;
}

/* GET /v3/projects/{project_id}: identity:get_project, for an admin or a
 * user with a role on the project (Keystone's default policy); 404 "Could
 * not find project: X." for an admin, 403 for others, who may not learn
 * which projects exist. */
static struct error *
identity_api_show_project(struct http_request *req,
                          struct http_response *resp, void *aux)
{
    struct identity_service *service = aux;
    const struct http_auth *auth = http_request_auth(req);
    const char *id = http_request_param(req, "project");
    struct identity_project project;
    struct db *db;
    struct error *error;

    if (!auth) {
        return identity_api_unauthorized();
    }
    error = identity_service_db(service, &db);
    if (error) {
        return error;
    }
    if (!auth->is_admin
        && !(auth->project_id && !strcmp(auth->project_id, id))) {
        struct identity_role *roles = NULL;
        size_t n_roles = 0;

        error = identity_store_user_roles(db, auth->user_id, id, &roles,
                                          &n_roles);
        if (error) {
            return error;
        }
        identity_role_array_free(roles, n_roles);
        if (!n_roles) {
            return identity_api_forbidden("identity:get_project");
        }
    }
    memset(&project, 0, sizeof project);
    error = identity_store_project_get(db, id, NULL, &project);
    if (error) {
        /* Not an id at all (a name, say) is not found either. */
        if (error_kind(error) == ERROR_NOT_FOUND
            || error_kind(error) == ERROR_INVALID) {
            error_free(error);
            return error_new(ERROR_NOT_FOUND, "Could not find project: "
                             "%s.", id);
        }
        return error;
    }

    AUTOFREE char *base = identity_api_base_url(service, req);
    struct json_object *body = json_object_new_object();

    json_object_object_add(body, "project",
                           identity_api_project_json(&project, base));
    identity_project_destroy(&project);
    http_response_set_json(resp, 200, body);
    return NULL;
}

void
identity_api_register(struct http_router *router,
                      struct identity_service *service)
{
    const unsigned int public = HTTP_ROUTE_PUBLIC | HTTP_ROUTE_IDENTITY;

    http_router_add(router, HTTP_POST, "/v3/auth/tokens", public,
                    identity_api_issue_token, service);
    /* Public as far as the server goes: the handler reads X-Auth-Token
     * itself, because unscoped tokens may validate tokens too. */
    http_router_add(router, HTTP_GET, "/v3/auth/tokens", public,
                    identity_api_show_token, service);
    http_router_add(router, HTTP_GET, "/v3/projects", HTTP_ROUTE_IDENTITY,
                    identity_api_list_projects, service);
    /* Not {project_id}: the server checks a parameter of that name
     * against the token's project, as Nova's URLs need. */
    http_router_add(router, HTTP_GET, "/v3/projects/{project}",
                    HTTP_ROUTE_IDENTITY, identity_api_show_project, service);
    http_router_add(router, HTTP_GET, "/v3", public,
                    identity_api_show_version, service);
    http_router_add(router, HTTP_GET, "/v3/", public,
                    identity_api_show_version, service);
}

struct error *
identity_api_validate(void *aux, const struct http_request *req,
                      const char *token, struct http_auth *ret_auth)
{
    return identity_service_validate(aux, token, true, ret_auth);
}
