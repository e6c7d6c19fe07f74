/* quota.c: per-project quotas of the compute API (see quota.h). */
#include <config.h>

#include "api-cell/quota.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api-cell/keypair-db.h"
#include "api-cell/top-view.h"
#include "shared/db.h"
#include "shared/error.h"
#include "shared/flavor.h"
#include "shared/xalloc.h"

static const char *const quota_resource_names[] = {
#define QUOTA_RESOURCE_NAME(field, name, value) name,
    COMPUTE_API_DEFAULT_QUOTAS(QUOTA_RESOURCE_NAME)
#undef QUOTA_RESOURCE_NAME
};

const char *
quota_resource_to_string(enum quota_resource resource)
{
    return ((size_t) resource < ARRAY_SIZE(quota_resource_names)
            ? quota_resource_names[resource] : NULL);
}

int
quota_resource_from_string(const char *name, enum quota_resource *ret)
{
    for (size_t i = 0; name && i < ARRAY_SIZE(quota_resource_names); i++) {
        if (!strcmp(name, quota_resource_names[i])) {
            *ret = (enum quota_resource) i;
            return 0;
        }
    }
    return -EINVAL;
}

void
quota_defaults(const struct compute_api_config *config,
               struct quota_set *ret)
{
#define QUOTA_DEFAULT(field, name, value) \
    ret->v[QUOTA_##field] = config->field;
    COMPUTE_API_DEFAULT_QUOTAS(QUOTA_DEFAULT)
#undef QUOTA_DEFAULT
}

struct error *
quota_get_limits(struct db *db, const struct compute_api_config *config,
                 const char *project_id, struct quota_set *ret)
{
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    struct quota_set limits;
    struct error *error;

    quota_defaults(config, &limits);
    error = db_query(db, "SELECT resource, hard_limit FROM quotas WHERE "
                     "project_id = ?", DB_PARAMS(DB_STR(project_id)), &rows);
    if (error) {
        return error;
    }
    for (size_t r = 0; r < db_rows_count(rows); r++) {
        enum quota_resource resource;

        if (!quota_resource_from_string(db_rows_get_str(rows, r, 0),
                                        &resource)) {
            limits.v[resource] = db_rows_get_int64(rows, r, 1);
        }
    }
    *ret = limits;
    return NULL;
}

struct error *
quota_set_limit(struct db *db, const char *project_id,
                enum quota_resource resource, int64_t limit)
{
    return db_exec(db, "INSERT INTO quotas (project_id, resource, "
                   "hard_limit, created_at) VALUES (?, ?, ?, "
                   "UTC_TIMESTAMP(6)) ON DUPLICATE KEY UPDATE hard_limit = "
                   "VALUES(hard_limit), updated_at = UTC_TIMESTAMP(6)",
                   DB_PARAMS(DB_STR(project_id),
                             DB_STR(quota_resource_to_string(resource)),
                             DB_INT(limit)), NULL);
}

struct error *
quota_delete_project(struct db *db, const char *project_id)
{
    return db_exec(db, "DELETE FROM quotas WHERE project_id = ?",
                   DB_PARAMS(DB_STR(project_id)), NULL);
}

struct error *
quota_get_usage(struct db *db, const char *project_id, const char *user_id,
                struct quota_set *ret)
{
    struct quota_set usage;
    int64_t instances = 0, cores = 0, ram = 0;
    struct error *error;

    memset(&usage, 0, sizeof usage);
    error = top_view_usage(db, project_id, &instances, &cores, &ram);
    if (error) {
        return error;
    }
    usage.v[QUOTA_instances] = instances;
    usage.v[QUOTA_cores] = cores;
    usage.v[QUOTA_ram] = ram;
    if (user_id) {
        error = keypair_db_count(db, user_id, &usage.v[QUOTA_key_pairs]);
        if (error) {
            return error;
        }
    }
    *ret = usage;
    return NULL;
}

/* Appends ", " (unless 'first') and 'text' to '*s'. */
static void
quota_append(char **s, bool first, const char *text)
{
    char *longer = xasprintf("%s%s%s", *s, first ? "" : ", ", text);

    free(*s);
    *s = longer;
}

struct error *
quota_check_deltas(const struct quota_set *limits,
                   const struct quota_set *in_use,
                   const struct quota_set *deltas)
{
    /* Nova names the resources over quota in sorted order. */
    static const enum quota_resource order[] = {
        QUOTA_cores, QUOTA_injected_file_content_bytes,
        QUOTA_injected_file_path_bytes, QUOTA_injected_files,
        QUOTA_instances, QUOTA_key_pairs, QUOTA_metadata_items, QUOTA_ram,
        QUOTA_server_group_members, QUOTA_server_groups,
    };
    AUTOFREE char *overs = xstrdup("");
    AUTOFREE char *reqs = xstrdup("");
    AUTOFREE char *useds = xstrdup("");
    AUTOFREE char *alloweds = xstrdup("");
    bool first = true;

    for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
        enum quota_resource r = order[i];
        int64_t limit = limits->v[r];
        char buf[3][24];

        if (deltas->v[r] <= 0 || limit < 0
            || in_use->v[r] + deltas->v[r] <= limit) {
            continue;
        }
        (void) snprintf(buf[0], sizeof buf[0], "%" PRId64, deltas->v[r]);
        (void) snprintf(buf[1], sizeof buf[1], "%" PRId64, in_use->v[r]);
        (void) snprintf(buf[2], sizeof buf[2], "%" PRId64, limit);
        quota_append(&overs, first, quota_resource_to_string(r));
        quota_append(&reqs, first, buf[0]);
        quota_append(&useds, first, buf[1]);
        quota_append(&alloweds, first, buf[2]);
        first = false;
    }
    if (first) {
        return NULL;
    }
    return error_new(ERROR_QUOTA, "Quota exceeded for %s: Requested %s, but "
                     "already used %s of %s %s", overs, reqs, useds,
                     alloweds, overs);
}

struct error *
quota_check_boot(struct db *db, const struct compute_api_config *config,
                 const char *project_id, int n, const struct flavor *flavor,
                 size_t n_metadata)
{
    struct quota_set limits, usage, deltas;
    struct error *error;

    error = quota_get_limits(db, config, project_id, &limits);
    if (error) {
        return error;
    }
    if (limits.v[QUOTA_metadata_items] >= 0
        && (int64_t) n_metadata > limits.v[QUOTA_metadata_items]) {
        return error_new(ERROR_QUOTA, "Maximum number of metadata items "
                         "exceeds %" PRId64, limits.v[QUOTA_metadata_items]);
    }
    if (limits.v[QUOTA_instances] < 0 && limits.v[QUOTA_cores] < 0
        && limits.v[QUOTA_ram] < 0) {
        /* Unlimited: counting the project's usage would cost a query per
         * boot for nothing. */
        return NULL;
    }
    error = quota_get_usage(db, project_id, NULL, &usage);
    if (error) {
        return error;
    }
    memset(&deltas, 0, sizeof deltas);
    deltas.v[QUOTA_instances] = n;
    deltas.v[QUOTA_cores] = (int64_t) n * flavor->vcpus;
    deltas.v[QUOTA_ram] = (int64_t) n * flavor->memory_mb;
    return quota_check_deltas(&limits, &usage, &deltas);
}
