/* compute-spec.c: INSTANCE to instance spec, and per-instance files (see
 * compute-spec.h). */
#include <config.h>
#include "child-cell/compute-spec.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <json-c/json.h>

#include "child-cell/compute-image-cache.h"
#include "shared/error.h"
#include "shared/flavor.h"
#include "shared/instance.h"
#include "shared/json-util.h"
#include "shared/log.h"
#include "shared/timeutil.h"
#include "shared/xalloc.h"

LOG_MODULE("compute.spec");

#define COMPUTE_SPEC_DIR_MODE 0755
#define COMPUTE_SPEC_FILE_MODE 0644
#define COMPUTE_SPEC_NAME_PREFIX "instance-"

/* "2024-05-01 12:00:00" plus room. */
#define COMPUTE_SPEC_CREATED_AT_SIZE 32

void
compute_spec_free(struct compute_spec *cs)
{
    if (!cs) {
        return;
    }
    free(cs->uuid);
    free(cs->name);
    free(cs->display_name);
    free(cs->created_at);
    free(cs->flavor_name);
    free(cs->kernel);
    free(cs->initrd);
    free(cs->cmdline);
    free(cs->disk);
    free(cs->disk_format);
    free(cs->user_id);
    free(cs->project_id);
    free(cs->arch);
    free(cs->machine);
    free(cs->serial_log);
    free(cs);
}

/* Stores flavor size 'value' of 'inst' in '*ret', or fails when it does
 * not fit an unsigned int. */
static struct error *
compute_spec_size(const struct instance *inst, const char *field,
                  int64_t value, unsigned int *ret)
{
    if (value < 0 || value > UINT_MAX) {
        return error_new(ERROR_INVALID, "The flavor of instance '%s' has "
                         "%s %lld, out of range", inst->uuid, field,
                         (long long) value);
    }
    *ret = (unsigned int) value;
    return NULL;
}

static char *
compute_spec_format_created_at(int64_t ms)
{
    struct time_civil c;

    if (ms == INSTANCE_TIME_NONE || time_to_civil(ms, &c)) {
        return NULL;
    }
    return xasprintf("%04d-%02d-%02d %02d:%02d:%02d", c.year, c.month,
                     c.day, c.hour, c.minute, c.second);
}

char *
compute_spec_instance_path(const char *instances_dir, const char *uuid,
                           const char *file)
{
    return file ? xasprintf("%s/%s/%s", instances_dir, uuid, file)
                : xasprintf("%s/%s", instances_dir, uuid);
}

struct error *
compute_spec_from_instance(const struct instance *inst,
                           enum virt_domain_type type,
                           const char *instances_dir,
                           struct compute_spec **ret_spec)
{
    CLEANUP(compute_spec_freep) struct compute_spec *cs = NULL;
    const struct flavor *flavor = inst->flavor;
    const struct instance_image *image = inst->image;
    struct virt_instance_spec *spec;
    struct error *error;

    if (!flavor) {
        return error_new(ERROR_INVALID, "Instance '%s' has no flavor",
                         inst->uuid);
    }
    cs = xzalloc(sizeof *cs);
    spec = &cs->spec;
    if ((error = compute_spec_size(inst, "vcpus", flavor->vcpus,
                                   &spec->flavor.vcpus))
        || (error = compute_spec_size(inst, "memory_mb", flavor->memory_mb,
                                      &spec->flavor.memory_mb))
        || (error = compute_spec_size(inst, "root_gb", flavor->root_gb,
                                      &spec->flavor.root_gb))
        || (error = compute_spec_size(inst, "ephemeral_gb",
                                      flavor->ephemeral_gb,
                                      &spec->flavor.ephemeral_gb))
        || (error = compute_spec_size(inst, "swap", flavor->swap,
                                      &spec->flavor.swap_mb))) {
        return error;
    }

    cs->uuid = xstrdup(inst->uuid);
    cs->name = xasprintf(COMPUTE_SPEC_NAME_PREFIX "%s", inst->uuid);
    cs->display_name = xstrdup_or_null(inst->display_name);
    cs->created_at = compute_spec_format_created_at(inst->created_at);
    cs->flavor_name = xstrdup_or_null(flavor->name);
    cs->user_id = xstrdup_or_null(inst->user_id);
    cs->project_id = xstrdup_or_null(inst->project_id);
    if (image) {
        cs->kernel = xstrdup_or_null(image->kernel);
        cs->initrd = xstrdup_or_null(image->initrd);
        cs->cmdline = xstrdup_or_null(image->cmdline);
        cs->disk = xstrdup_or_null(image->disk);
        cs->disk_format = xstrdup_or_null(image->disk_format);
        cs->arch = xstrdup_or_null(instance_image_get_property(
                                       image, COMPUTE_SPEC_PROP_ARCH));
        cs->machine = xstrdup_or_null(instance_image_get_property(
                                          image, COMPUTE_SPEC_PROP_MACHINE));
    }
    cs->serial_log = compute_spec_instance_path(instances_dir, inst->uuid,
                                                COMPUTE_SPEC_CONSOLE_LOG);

    spec->uuid = cs->uuid;
    spec->name = cs->name;
    spec->display_name = cs->display_name;
    spec->created_at = cs->created_at;
    spec->flavor.name = cs->flavor_name;
    spec->image.kernel_path = cs->kernel;
    spec->image.initrd_path = cs->initrd;
    spec->image.cmdline = cs->cmdline;
    spec->image.disk_path = cs->disk;
    spec->image.disk_format = cs->disk_format;
    spec->owner.user_id = cs->user_id;
    spec->owner.project_id = cs->project_id;
    spec->domain_type = type;
    spec->arch = cs->arch;
    spec->machine = cs->machine;
    spec->serial_log_path = cs->serial_log;
    *ret_spec = TAKE_PTR(cs);
    return NULL;
}

char *
compute_spec_tail_lines(const char *text, size_t size, long long n_lines)
{
    size_t start = 0;

    if (n_lines >= 0) {
        size_t end = size;
        long long seen = 0;

        /* A last line without its newline is a line too. */
        if (end && text[end - 1] == '\n') {
            end--;
        }
        start = size;
        if (n_lines > 0) {
            start = 0;
            for (size_t i = end; i > 0; i--) {
                if (text[i - 1] == '\n' && ++seen == n_lines) {
                    start = i;
                    break;
                }
            }
        }
    }
    return xstrndup(text + start, size - start);
}

/* Creates 'path' and its parents (mode COMPUTE_SPEC_DIR_MODE).  Returns 0
 * or -errno. */
static int
compute_spec_mkdirs(const char *path)
{
    AUTOFREE char *copy = xstrdup(path);

    for (char *p = copy + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(copy, COMPUTE_SPEC_DIR_MODE) < 0 && errno != EEXIST) {
                return -errno;
            }
            *p = '/';
        }
    }
    if (mkdir(copy, COMPUTE_SPEC_DIR_MODE) < 0 && errno != EEXIST) {
        return -errno;
    }
    return 0;
}

/* Writes 'size' bytes at 'data' to 'path' through a temporary file renamed
 * into place.  Returns 0 or -errno. */
static int
compute_spec_write_file(const char *path, const char *data, size_t size)
{
    AUTOFREE char *tmp = xasprintf("%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                  COMPUTE_SPEC_FILE_MODE);
    int error = 0;

    if (fd < 0) {
        return -errno;
    }
    while (size) {
        ssize_t n = write(fd, data, size);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            error = -errno;
            break;
        }
        data += n;
        size -= (size_t) n;
    }
    if (close(fd) < 0 && !error) {
        error = -errno;
    }
    if (!error && rename(tmp, path) < 0) {
        error = -errno;
    }
    if (error) {
        (void) unlink(tmp);
    }
    return error;
}

struct error *
compute_spec_save_build_record(const char *instances_dir, const char *uuid,
                               long long attempt,
                               const struct json_object *alternates)
{
    AUTOFREE char *dir = compute_spec_instance_path(instances_dir, uuid,
                                                    NULL);
    AUTOFREE char *path = compute_spec_instance_path(
        instances_dir, uuid, COMPUTE_SPEC_BUILD_RECORD);
    AUTOFREE char *text = NULL;
    CLEANUP(json_putp) struct json_object *record = json_object_new_object();
    int retval;

    json_object_object_add(record, "attempt", json_object_new_int64(attempt));
    json_object_object_add(record, "alternates",
                           alternates
                           ? json_object_get((struct json_object *)
                                             alternates)
                           : json_object_new_array());
    text = json_to_string_plain(record);

    retval = compute_spec_mkdirs(dir);
    if (!retval) {
        retval = compute_spec_write_file(path, text, strlen(text));
    }
    if (retval) {
        return error_from_errno(retval, ERROR_INTERNAL, "Cannot write the "
                                "build record '%s'", path);
    }
    return NULL;
}

/* Checks the alternates of a build record. */
static struct error *
compute_spec_check_alternates(const struct json_object *alternates)
{
    size_t n = json_object_array_length(alternates);

    for (size_t i = 0; i < n; i++) {
        const struct json_object *dest = json_object_array_get_idx(
            alternates, i);
        AUTOFREE char *path = xasprintf("alternates[%zu]", i);
        struct json_object *unused;
        const char *s;
        struct error *error;

        if ((error = json_get_object(dest, path, NULL, true, &unused))
            || (error = json_get_string(dest, path, "host", true, 0, &s))
            || (error = json_get_string(dest, path, "node", true, 0, &s))) {
            return error;
        }
    }
    return NULL;
}

struct error *
compute_spec_load_build_record(const char *instances_dir, const char *uuid,
                               long long *ret_attempt,
                               struct json_object **ret_alternates)
{
    AUTOFREE char *path = compute_spec_instance_path(
        instances_dir, uuid, COMPUTE_SPEC_BUILD_RECORD);
    AUTOFREE char *text = xmalloc(COMPUTE_SPEC_BUILD_RECORD_MAX_SIZE + 1);
    CLEANUP(json_putp) struct json_object *record = NULL;
    struct json_object *alternates;
    struct error *error;
    long long attempt;
    size_t size = 0;
    int fd;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return error_from_errno(-errno, errno == ENOENT ? ERROR_NOT_FOUND
                                                        : ERROR_INTERNAL,
                                "Cannot read the build record '%s'", path);
    }
    while (size <= COMPUTE_SPEC_BUILD_RECORD_MAX_SIZE) {
        ssize_t n = read(fd, text + size,
                         COMPUTE_SPEC_BUILD_RECORD_MAX_SIZE + 1 - size);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        size += (size_t) n;
    }
    close(fd);

    error = json_parse_text(text, size, COMPUTE_SPEC_BUILD_RECORD_MAX_SIZE, 0,
                            &record);
    if (!error) {
        struct json_object *unused;

        error = json_get_object(record, NULL, NULL, true, &unused);
    }
    if (!error) {
        error = json_get_int(record, NULL, "attempt", true, 1, INT_MAX,
                             &attempt);
    }
    if (!error) {
        error = json_get_array(record, NULL, "alternates", true,
                               COMPUTE_SPEC_MAX_ALTERNATES, &alternates);
    }
    if (!error) {
        error = compute_spec_check_alternates(alternates);
    }
    if (error) {
        struct error *damaged = error_new(ERROR_INVALID, "The build record "
                                          "'%s' is damaged: %s", path,
                                          error_message(error));

        error_free(error);
        return damaged;
    }
    *ret_attempt = attempt;
    *ret_alternates = json_object_get(alternates);
    return NULL;
}

static void
compute_spec_unlink(const char *path)
{
    if (unlink(path) < 0 && errno != ENOENT) {
        LOG_WARN("cannot remove '%s': %s, ignoring", path, strerror(errno));
    }
}

void
compute_spec_remove_files(const char *instances_dir, const char *uuid,
                          bool all)
{
    AUTOFREE char *record = compute_spec_instance_path(
        instances_dir, uuid, COMPUTE_SPEC_BUILD_RECORD);

    compute_spec_unlink(record);
    if (all) {
        AUTOFREE char *log = compute_spec_instance_path(
            instances_dir, uuid, COMPUTE_SPEC_CONSOLE_LOG);
        AUTOFREE char *dir = compute_spec_instance_path(instances_dir, uuid,
                                                        NULL);

        compute_spec_unlink(log);
        compute_image_cache_remove_instance(dir);
        if (rmdir(dir) < 0 && errno != ENOENT) {
            LOG_WARN("cannot remove '%s': %s, ignoring", dir,
                     strerror(errno));
        }
    }
}
