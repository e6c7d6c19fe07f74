/* compute-snapshot.c: snapshot_instance on a compute host (see
 * compute-snapshot.h).
 *
 * One job per snapshot: the disk copy, the upload and the rotation run on
 * a worker and touch only the job and the (thread-safe) image cache; the
 * completion, on the manager's thread, talks to the conductor. */
#include <config.h>

#include "child-cell/compute-snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <curl/curl.h>
#include <json-c/json.h>

#include "cells-rpc/rpc-msg.h"
#include "child-cell/compute-conductor.h"
#include "child-cell/compute-image-cache.h"
#include "child-cell/compute-spec.h"
#include "child-cell/compute-workers.h"
#include "child-cell/rpcapi.h"
#include "shared/cleanup.h"
#include "shared/error.h"
#include "shared/instance.h"
#include "shared/json-util.h"
#include "shared/log.h"
#include "shared/timeutil.h"
#include "shared/uuid-util.h"
#include "shared/xalloc.h"

LOG_MODULE("compute.snapshot");

/* Limits on what is read from the message and from the image service. */
#define SNAPSHOT_ID_MAX_LENGTH 64
#define SNAPSHOT_TYPE_MAX_LENGTH 255
#define SNAPSHOT_MAX_ROTATION 2147483647LL
#define SNAPSHOT_MAX_LIST_BODY (16u * 1024 * 1024)
/* The images one rotation looks at (the image service's largest page). */
#define SNAPSHOT_LIST_LIMIT 1000
#define SNAPSHOT_CONNECT_TIMEOUT_S 30L
#define SNAPSHOT_STALL_TIMEOUT_S 120L
/* Longest "details" of the action event, in bytes. */
#define SNAPSHOT_MAX_DETAILS 4096

struct snapshot_job {
    /* Set on the manager's thread before the work. */
    struct compute_conductor *conductor;
    struct compute_image_cache *cache;
    char *instances_dir;
    char *host;
    bool simulated;
    char uuid[UUID_STRING_SIZE];
    char *request_id;
    char *project_id;
    char *image_id;
    bool backup;
    char *backup_type;
    long long rotation;
    int64_t start_time_ms;

    /* Written by the worker. */
    struct error *error;
    size_t n_rotated;
};

static void
snapshot_job_free(struct snapshot_job *job)
{
    if (job) {
        free(job->instances_dir);
        free(job->host);
        free(job->request_id);
        free(job->project_id);
        free(job->image_id);
        free(job->backup_type);
        error_free(job->error);
        free(job);
    }
}

char *
compute_snapshot_placeholder(const char *uuid, const char *host)
{
    return xasprintf("snapshot of instance %s on host %s\n", uuid, host);
}

/* ---- HTTP to the image service --------------------------------------- */

struct snapshot_buf {
    char *data;
    size_t size;
    bool overflow;
};

static size_t
snapshot_write_cb(char *ptr, size_t size, size_t nmemb, void *buf_)
{
    struct snapshot_buf *buf = buf_;
    size_t n = size * nmemb;

    if (buf->size + n > SNAPSHOT_MAX_LIST_BODY) {
        buf->overflow = true;
        return 0;
    }
    buf->data = xrealloc(buf->data, buf->size + n + 1);
    memcpy(buf->data + buf->size, ptr, n);
    buf->size += n;
    buf->data[buf->size] = '\0';
    return n;
}

/* One request 'method' of 'url' with 'token' (may be NULL), uploading
 * 'upload' ('upload_size' bytes) when not NULL.  Sets '*ret_status' and,
 * if 'ret_body' is not NULL, the body (NUL-terminated, freed by the
 * caller). */
static struct error *
snapshot_http_once(const char *method, const char *url, const char *token,
                   FILE *upload, int64_t upload_size, long *ret_status,
                   char **ret_body)
{
    struct snapshot_buf buf = { NULL, 0, false };
    struct curl_slist *headers = NULL;
    struct error *error = NULL;
    CURLcode rc;
    CURL *curl;

    *ret_status = 0;
    curl = curl_easy_init();
    if (!curl) {
        return error_new(ERROR_INTERNAL, "Cannot start an HTTP request");
    }
    if (token) {
        AUTOFREE char *h = xasprintf("X-Auth-Token: %s", token);

        headers = curl_slist_append(headers, h);
    }
    if (upload) {
        headers = curl_slist_append(headers, "Content-Type: "
                                    "application/octet-stream");
        curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(curl, CURLOPT_READDATA, upload);
        curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE,
                         (curl_off_t) upload_size);
    } else if (strcmp(method, "GET")) {
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    }
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, snapshot_write_cb);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &buf);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT,
                     SNAPSHOT_CONNECT_TIMEOUT_S);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, SNAPSHOT_STALL_TIMEOUT_S);
    rc = curl_easy_perform(curl);
    if (rc != CURLE_OK) {
        error = error_new(ERROR_UNAVAILABLE, "%s %s failed: %s", method, url,
                          buf.overflow ? "answer too large"
                                       : curl_easy_strerror(rc));
    } else {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, ret_status);
    }
    curl_easy_cleanup(curl);
    curl_slist_free_all(headers);
    if (!error && ret_body) {
        *ret_body = buf.data ? buf.data : xstrdup("");
    } else {
        free(buf.data);
    }
    return error;
}

/* snapshot_http_once() on '<api_url><path>' with the service token, asked
 * for again once after a 401.  A status >= 300 is an error. */
static struct error *
snapshot_http(struct snapshot_job *job, const char *method, const char *path,
              FILE *upload, int64_t upload_size, char **ret_body)
{
    const char *api_url = compute_image_cache_api_url(job->cache);
    AUTOFREE char *url = NULL;
    AUTOFREE char *token = NULL;
    long status = 0;
    struct error *error;

    if (!api_url) {
        return error_new(ERROR_INVALID, "No image endpoint is configured "
                         "(image.api_url): cannot upload snapshots");
    }
    url = xasprintf("%s%s", api_url, path);
    for (int attempt = 0; attempt < 2; attempt++) {
        AUTOFREE char *stale = TAKE_PTR(token);

        error = compute_image_cache_token(job->cache,
                                          attempt ? stale : NULL, &token);
        if (!error && upload && fseeko(upload, 0, SEEK_SET)) {
            error = error_from_errno(-errno, ERROR_INTERNAL, "Cannot "
                                     "rewind the snapshot file");
        }
        if (!error) {
            if (ret_body) {
                free(*ret_body);
                *ret_body = NULL;
            }
            error = snapshot_http_once(method, url, token, upload,
                                       upload_size, &status, ret_body);
        }
        if (error || status != 401 || !token) {
            break;
        }
    }
    if (!error && (status < 200 || status >= 300)) {
        error = error_new(status == 404 ? ERROR_NOT_FOUND
                          : status == 409 ? ERROR_CONFLICT
                          : ERROR_UNAVAILABLE,
                          "%s %s answered HTTP %ld", method, url, status);
    }
    return error;
}

/* ---- The work ---------------------------------------------------------- */

/* Writes the snapshot of the job's instance into 'path'. */
static struct error *
snapshot_copy_disk(struct snapshot_job *job, const char *path)
{
    AUTOFREE char *disk = NULL;
    char *argv[10];
    size_t n = 0;

    if (job->simulated) {
        AUTOFREE char *text = compute_snapshot_placeholder(job->uuid,
                                                           job->host);
        size_t size = strlen(text);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        ssize_t done;

        if (fd < 0) {
            return error_from_errno(-errno, ERROR_INTERNAL, "Cannot create "
                                    "'%s'", path);
        }
        done = write(fd, text, size);
        if (close(fd) < 0 || done < 0 || (size_t) done != size) {
            return error_new(ERROR_INTERNAL, "Cannot write '%s'", path);
        }
        return NULL;
    }
    disk = compute_spec_instance_path(job->instances_dir, job->uuid,
                                      COMPUTE_IMAGE_CACHE_OVERLAY);
    if (access(disk, R_OK)) {
        return error_from_errno(-errno, ERROR_INTERNAL, "Instance %s has no "
                                "disk to snapshot ('%s')", job->uuid, disk);
    }
    argv[n++] = (char *) compute_image_cache_qemu_img(job->cache);
    argv[n++] = (char *) "convert";
    argv[n++] = (char *) "-U";
    argv[n++] = (char *) "-O";
    argv[n++] = (char *) "qcow2";
    argv[n++] = disk;
    argv[n++] = (char *) path;
    argv[n] = NULL;
    return compute_image_cache_run(argv);
}

static struct error *
snapshot_upload(struct snapshot_job *job, const char *path)
{
    AUTOFREE char *url_path = xasprintf("/v2/images/%s/file", job->image_id);
    struct error *error;
    struct stat st;
    FILE *f = fopen(path, "rbe");

    if (!f) {
        return error_from_errno(-errno, ERROR_INTERNAL, "Cannot open '%s'",
                                path);
    }
    if (fstat(fileno(f), &st)) {
        error = error_from_errno(-errno, ERROR_INTERNAL, "Cannot stat '%s'",
                                 path);
    } else {
        error = snapshot_http(job, "PUT", url_path, f, (int64_t) st.st_size,
                              NULL);
    }
    fclose(f);
    return error;
}

/* True if 'image' (an image of the list) is a backup of the job's
 * instance with the job's backup type. */
static bool
snapshot_is_our_backup(const struct snapshot_job *job,
                       struct json_object *image)
{
    struct json_object *v;
    const char *type = NULL, *uuid = NULL, *btype = NULL;

    if (json_object_object_get_ex(image, "image_type", &v)) {
        type = json_object_get_string(v);
    }
    if (json_object_object_get_ex(image, "instance_uuid", &v)) {
        uuid = json_object_get_string(v);
    }
    if (json_object_object_get_ex(image, "backup_type", &v)) {
        btype = json_object_get_string(v);
    }
    return (type && uuid && btype && !strcmp(type, "backup")
            && !strcmp(uuid, job->uuid) && !strcmp(btype, job->backup_type));
}

/* Deletes the job's instance's backups of its type beyond 'rotation',
 * the new one counting first, then the others newest first. */
static struct error *
snapshot_rotate(struct snapshot_job *job)
{
    AUTOFREE char *path = xasprintf("/v2/images?owner=%s&limit=%d"
                                    "&sort_key=created_at&sort_dir=desc",
                                    job->project_id, SNAPSHOT_LIST_LIMIT);
    AUTOFREE char *body = NULL;
    struct json_object *root, *images = NULL;
    long long kept = 0;
    struct error *error;

    error = snapshot_http(job, "GET", path, NULL, 0, &body);
    if (error) {
        return error;
    }
    root = json_tokener_parse(body);
    if (!json_object_object_get_ex(root, "images", &images)
        || !json_object_is_type(images, json_type_array)) {
        json_object_put(root);
        return error_new(ERROR_INTERNAL, "The image list has no images");
    }
    if (job->rotation > 0) {
        kept = 1;               /* The new one. */
    }
    for (size_t i = 0; i < json_object_array_length(images); i++) {
        struct json_object *image = json_object_array_get_idx(images, i);
        const char *id = json_object_get_string(
            json_object_object_get(image, "id"));
        bool is_new = id && !strcmp(id, job->image_id);

        if (!id || !snapshot_is_our_backup(job, image)
            || (is_new && job->rotation > 0)) {
            continue;
        }
        if (!is_new && kept < job->rotation) {
            kept++;
            continue;
        }
        AUTOFREE char *del = xasprintf("/v2/images/%s", id);
        struct error *e = snapshot_http(job, "DELETE", del, NULL, 0, NULL);

        if (e && error_kind(e) != ERROR_NOT_FOUND) {
            LOG_WARN("instance %s: cannot delete old backup %s: %s",
                     job->uuid, id, error_message(e));
        } else {
            job->n_rotated++;
        }
        error_free(e);
    }
    json_object_put(root);
    return NULL;
}

static void
snapshot_work(void *job_)
{
    struct snapshot_job *job = job_;
    AUTOFREE char *tmp = xasprintf("%s/.snapshot-%s", job->instances_dir,
                                   job->image_id);

    if (mkdir(job->instances_dir, 0755) && errno != EEXIST) {
        job->error = error_from_errno(-errno, ERROR_INTERNAL, "Cannot "
                                      "create '%s'", job->instances_dir);
        return;
    }
    job->error = snapshot_copy_disk(job, tmp);
    if (!job->error) {
        job->error = snapshot_upload(job, tmp);
    }
    (void) unlink(tmp);
    if (job->error) {
        /* Nova kills the image: nothing will ever fill it. */
        AUTOFREE char *del = xasprintf("/v2/images/%s", job->image_id);
        struct error *e = snapshot_http(job, "DELETE", del, NULL, 0, NULL);

        if (e && error_kind(e) != ERROR_NOT_FOUND) {
            LOG_WARN("instance %s: cannot delete image %s after a failed "
                     "snapshot: %s", job->uuid, job->image_id,
                     error_message(e));
        }
        error_free(e);
        return;
    }
    if (job->backup) {
        struct error *e = snapshot_rotate(job);

        if (e) {
            LOG_WARN("instance %s: backup rotation failed: %s", job->uuid,
                     error_message(e));
            error_free(e);
        }
    }
}

/* ---- Completion on the manager's thread ------------------------------ */

static struct json_object *
snapshot_time_json(int64_t ms)
{
    char buf[TIME_ISO8601_SIZE];

    if (time_format_iso8601(ms, TIME_STYLE_MICROS, buf, sizeof buf)) {
        return NULL;
    }
    return json_object_new_string(buf);
}

static void
snapshot_update_cb(struct json_object *result, struct error *error,
                   void *uuid_)
{
    char *uuid = uuid_;

    if (error) {
        LOG_WARN("instance %s: cannot clear the snapshot's task state: %s",
                 uuid, error_message(error));
    }
    json_object_put(result);
    error_free(error);
    free(uuid);
}

static void
snapshot_done(void *job_, bool cancelled)
{
    struct snapshot_job *job = job_;
    const char *event = job->backup ? COMPUTE_SNAPSHOT_BACKUP_EVENT
                                    : COMPUTE_SNAPSHOT_EVENT;
    struct json_object *args, *updates, *expected;

    if (cancelled) {
        /* nova-compute stops: the recovery at the next start settles the
         * task state. */
        snapshot_job_free(job);
        return;
    }
    if (job->error) {
        LOG_WARN("instance %s: %s into image %s failed: %s", job->uuid,
                 job->backup ? "backup" : "snapshot", job->image_id,
                 error_message(job->error));
    } else {
        LOG_INFO("instance %s: %s uploaded as image %s%s", job->uuid,
                 job->backup ? "backup" : "snapshot", job->image_id,
                 job->n_rotated ? " (older backups rotated out)" : "");
    }

    updates = json_object_new_object();
    json_object_object_add(updates, "task_state", NULL);
    expected = json_object_new_array();
    json_object_array_add(expected, json_object_new_string(
                              job->backup ? "image_backup"
                                          : "image_snapshot"));
    json_object_array_add(expected,
                          json_object_new_string("image_pending_upload"));
    json_object_array_add(expected,
                          json_object_new_string("image_uploading"));
    args = json_object_new_object();
    json_object_object_add(args, "instance_uuid",
                           json_object_new_string(job->uuid));
    json_object_object_add(args, "updates", updates);
    json_object_object_add(args, "expected_task_state", expected);
    compute_conductor_call(job->conductor, job->uuid, job->request_id,
                           CONDUCTOR_INSTANCE_UPDATE, args,
                           snapshot_update_cb, xstrdup(job->uuid));

    args = json_object_new_object();
    json_object_object_add(args, "instance_uuid",
                           json_object_new_string(job->uuid));
    json_object_object_add(args, "event", json_object_new_string(event));
    json_object_object_add(args, "result", json_object_new_string(
                               job->error ? "Error" : "Success"));
    json_object_object_add(args, "start_time",
                           snapshot_time_json(job->start_time_ms));
    json_object_object_add(args, "finish_time",
                           snapshot_time_json(time_now_ms()));
    json_object_object_add(args, "host", json_object_new_string(job->host));
    if (job->error) {
        const char *message = error_message(job->error);
        size_t size = strlen(message);

        if (size > SNAPSHOT_MAX_DETAILS) {
            size = SNAPSHOT_MAX_DETAILS;
            while (size && ((unsigned char) message[size] & 0xc0) == 0x80) {
                size--;
            }
        }
        json_object_object_add(args, "details",
                               json_object_new_string_len(message,
                                                          (int) size));
    } else {
        json_object_object_add(args, "details", NULL);
    }
    compute_conductor_cast(job->conductor, job->uuid, job->request_id,
                           CONDUCTOR_ACTION_EVENT, args);
    snapshot_job_free(job);
}

struct error *
compute_snapshot_start(const struct compute_snapshot_env *env,
                       const struct rpc_msg *msg)
{
    CLEANUP(instance_freep) struct instance *inst = NULL;
    const char *image_id, *type, *backup_type = NULL;
    long long rotation = 0;
    struct snapshot_job *job;
    struct error *error;

    error = instance_from_json(json_object_object_get(msg->args,
                                                      "instance"),
                               "instance", &inst);
    if (!error) {
        error = json_get_string(msg->args, NULL, "image_id", true,
                                SNAPSHOT_ID_MAX_LENGTH, &image_id);
    }
    if (!error) {
        error = json_get_string(msg->args, NULL, "image_type", true,
                                SNAPSHOT_TYPE_MAX_LENGTH, &type);
    }
    if (!error) {
        error = json_get_string(msg->args, NULL, "backup_type", false,
                                SNAPSHOT_TYPE_MAX_LENGTH, &backup_type);
    }
    if (!error) {
        error = json_get_int(msg->args, NULL, "rotation", false, 0,
                             SNAPSHOT_MAX_ROTATION, &rotation);
    }
    if (error) {
        return error;
    }
    if (!*image_id || strchr(image_id, '/') || strchr(image_id, '?')
        || strchr(image_id, '.')) {
        return error_new(ERROR_INVALID, "Invalid image id '%s'", image_id);
    }
    job = xzalloc(sizeof *job);
    job->conductor = env->conductor;
    job->cache = env->image_cache;
    job->instances_dir = xstrdup(env->instances_dir);
    job->host = xstrdup(env->host);
    job->simulated = env->simulated;
    (void) uuid_normalize(inst->uuid, job->uuid);
    job->request_id = msg->ctx.request_id ? xstrdup(msg->ctx.request_id)
                                          : NULL;
    job->project_id = xstrdup(inst->project_id ? inst->project_id : "");
    job->image_id = xstrdup(image_id);
    job->backup = !strcmp(type, "backup") && backup_type;
    job->backup_type = backup_type ? xstrdup(backup_type) : NULL;
    job->rotation = rotation;
    job->start_time_ms = time_now_ms();
    LOG_INFO("instance %s: %s into image %s", job->uuid,
             job->backup ? "backup" : "snapshot", job->image_id);
    compute_workers_submit(env->workers, snapshot_work, snapshot_done, job);
    return NULL;
}
