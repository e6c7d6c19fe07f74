/* sched-spec.c: request specs for the leaf-cell scheduler (see
 * sched-spec.h). */
#include <config.h>
#include "child-cell/sched-spec.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "child-cell/sched-names.h"
#include "shared/compiler.h"
#include "shared/error.h"

/* MiB in a GiB: flavors give root and ephemeral disk in GiB. */
#define SCHED_SPEC_MB_PER_GB 1024

static const char *const sched_spec_policy_names[] = {
#define SCHED_SPEC_POLICY_NAME(policy, name) [policy] = name,
    SCHED_SPEC_POLICIES(SCHED_SPEC_POLICY_NAME)
#undef SCHED_SPEC_POLICY_NAME
};

void
sched_spec_init(struct sched_spec *spec)
{
    memset(spec, 0, sizeof *spec);
    spec->num_instances = 1;
    spec->group_policy = SCHED_SPEC_POLICY_NONE;
}

/* NULL for NULL or "": the request does not care. */
static const char *
sched_spec_nonempty(const char *s)
{
    return s && *s ? s : NULL;
}

void
sched_spec_ctx_init(struct sched_spec_ctx *ctx, const struct sched_spec *spec,
                    const struct sched_names *group_hosts,
                    const struct sched_names *force_hosts,
                    const struct sched_names *ignore_hosts)
{
    ctx->spec = spec;
    ctx->vcpus = spec->vcpus;
    ctx->memory_mb = spec->memory_mb;
    ctx->disk_mb = sched_spec_disk_mb(spec);
    ctx->availability_zone = sched_spec_nonempty(spec->availability_zone);
    ctx->architecture = sched_spec_canonical_arch(
        sched_spec_nonempty(spec->image_architecture));
    ctx->hypervisor_type = sched_spec_nonempty(spec->image_hypervisor_type);
    ctx->az_hash = (ctx->availability_zone
                    ? sched_names_hash(ctx->availability_zone) : 0);
    ctx->arch_hash = (ctx->architecture
                      ? sched_names_hash_nocase(ctx->architecture) : 0);
    ctx->hv_hash = (ctx->hypervisor_type
                    ? sched_names_hash_nocase(ctx->hypervisor_type) : 0);
    ctx->group_hosts = group_hosts;
    ctx->force_hosts = force_hosts;
    ctx->ignore_hosts = ignore_hosts;
}

const char *
sched_spec_canonical_arch(const char *name)
{
    static const struct {
        const char *alias;
        const char *canonical;
    } aliases[] = {
        { "amd64", "x86_64" },
        { "i386", "i686" },
        { "i486", "i686" },
        { "i586", "i686" },
        { "x86_32", "i686" },
    };

    if (!name) {
        return NULL;
    }
    for (size_t i = 0; i < ARRAY_SIZE(aliases); i++) {
        if (!strcasecmp(name, aliases[i].alias)) {
            return aliases[i].canonical;
        }
    }
    return name;
}

int64_t
sched_spec_disk_mb(const struct sched_spec *spec)
{
    return (spec->root_gb + spec->ephemeral_gb) * SCHED_SPEC_MB_PER_GB
           + spec->swap_mb;
}

/* Returns an error if 'value' is outside 0..'max'. */
static struct error *
sched_spec_check_amount(const char *field, int64_t value, int64_t max)
{
    if (value < 0 || value > max) {
        return error_new(ERROR_INVALID,
                         "Invalid request spec: '%s' is %lld, expected 0 "
                         "to %lld", field, (long long) value,
                         (long long) max);
    }
    return NULL;
}

/* Returns an error unless 'names' holds 'n' non-NULL strings, at most
 * SCHED_SPEC_MAX_HOST_NAMES of them. */
static struct error *
sched_spec_check_names(const char *field, const char *const *names,
                       size_t n)
{
    if (n > SCHED_SPEC_MAX_HOST_NAMES) {
        return error_new(ERROR_INVALID,
                         "Invalid request spec: '%s' lists %zu hosts, at "
                         "most %d are allowed", field, n,
                         SCHED_SPEC_MAX_HOST_NAMES);
    }
    for (size_t i = 0; i < n; i++) {
        if (!names || !names[i]) {
            return error_new(ERROR_INVALID,
                             "Invalid request spec: '%s' entry %zu is "
                             "missing", field, i);
        }
    }
    return NULL;
}

struct error *
sched_spec_validate(const struct sched_spec *spec)
{
    struct error *error;

    if ((error = sched_spec_check_amount("vcpus", spec->vcpus,
                                         SCHED_SPEC_MAX_VCPUS))
        || (error = sched_spec_check_amount("memory_mb", spec->memory_mb,
                                            SCHED_SPEC_MAX_MEMORY_MB))
        || (error = sched_spec_check_amount("root_gb", spec->root_gb,
                                            SCHED_SPEC_MAX_DISK_GB))
        || (error = sched_spec_check_amount("ephemeral_gb",
                                            spec->ephemeral_gb,
                                            SCHED_SPEC_MAX_DISK_GB))
        || (error = sched_spec_check_amount("swap_mb", spec->swap_mb,
                                            SCHED_SPEC_MAX_SWAP_MB))
        || (error = sched_spec_check_names("group_hosts", spec->group_hosts,
                                           spec->n_group_hosts))
        || (error = sched_spec_check_names("force_hosts", spec->force_hosts,
                                           spec->n_force_hosts))
        || (error = sched_spec_check_names("ignore_hosts",
                                           spec->ignore_hosts,
                                           spec->n_ignore_hosts))) {
        return error;
    }
    if (spec->num_instances < 1
        || spec->num_instances > SCHED_SPEC_MAX_INSTANCES) {
        return error_new(ERROR_INVALID,
                         "Invalid request spec: 'num_instances' is %zu, "
                         "expected 1 to %d", spec->num_instances,
                         SCHED_SPEC_MAX_INSTANCES);
    }
    if (spec->n_alternates > SCHED_SPEC_MAX_ALTERNATES) {
        return error_new(ERROR_INVALID,
                         "Invalid request spec: 'n_alternates' is %zu, at "
                         "most %d are allowed", spec->n_alternates,
                         SCHED_SPEC_MAX_ALTERNATES);
    }
    if ((size_t) spec->group_policy >= ARRAY_SIZE(sched_spec_policy_names)) {
        return error_new(ERROR_INVALID,
                         "Invalid request spec: unknown server group policy "
                         "%d", (int) spec->group_policy);
    }
    if (spec->instance_uuids) {
        error = sched_spec_check_names("instance_uuids", spec->instance_uuids,
                                       spec->num_instances);
        if (error) {
            return error;
        }
    }
    return NULL;
}

const char *
sched_spec_policy_to_string(enum sched_spec_policy policy)
{
    if ((size_t) policy >= ARRAY_SIZE(sched_spec_policy_names)) {
        return "unknown";
    }
    return sched_spec_policy_names[policy];
}

int
sched_spec_policy_from_string(const char *name,
                              enum sched_spec_policy *ret_policy)
{
    for (size_t i = 0; i < ARRAY_SIZE(sched_spec_policy_names); i++) {
        if (!strcmp(name, sched_spec_policy_names[i])) {
            *ret_policy = (enum sched_spec_policy) i;
            return 0;
        }
    }
    return -EINVAL;
}
