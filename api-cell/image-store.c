/* image-store.c: image files on local disk (see image-store.h). */
#include <config.h>
#include "api-cell/image-store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>

#include "shared/error.h"
#include "shared/log.h"
#include "shared/xalloc.h"

LOG_MODULE("api.image.store");

struct image_upload {
    char *dir;                  /* absolute */
    char *image_id;
    char *temp_path;            /* NULL once finished */
    int fd;
    uint64_t size;
    uint64_t max_size;
    EVP_MD_CTX *md5;
    EVP_MD_CTX *sha512;
};

/* Makes 'dir' if it does not exist. */
static int
image_store_mkdir(const char *dir)
{
    struct stat st;

    if (!stat(dir, &st)) {
        return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
    }
    if (mkdir(dir, 0750) && errno != EEXIST) {
        return -errno;
    }
    return 0;
}

struct error *
image_upload_new(const char *store_dir, const char *image_id,
                 uint64_t max_size, struct image_upload **ret)
{
    struct image_upload *up;
    char *abs_dir;
    int r;

    if (!store_dir || !*store_dir) {
        return error_new(ERROR_INTERNAL, "No image store directory is "
                         "configured (image.store_dir)");
    }
    r = image_store_mkdir(store_dir);
    if (r < 0) {
        return error_from_errno(r, ERROR_INTERNAL, "Cannot make the image "
                                "store directory '%s'", store_dir);
    }
    abs_dir = realpath(store_dir, NULL);
    if (!abs_dir) {
        return error_from_errno(-errno, ERROR_INTERNAL, "Cannot resolve "
                                "the image store directory '%s'",
                                store_dir);
    }

    up = xzalloc(sizeof *up);
    up->dir = abs_dir;
    up->image_id = xstrdup(image_id);
    up->max_size = max_size;
    up->temp_path = xasprintf("%s/.upload-%s-XXXXXX", abs_dir, image_id);
    up->fd = mkostemp(up->temp_path, O_CLOEXEC);
    if (up->fd < 0) {
        struct error *error = error_from_errno(-errno, ERROR_INTERNAL,
                                               "Cannot create a file in "
                                               "the image store '%s'",
                                               abs_dir);
        free(up->temp_path);
        up->temp_path = NULL;
        image_upload_free(up);
        return error;
    }
    up->md5 = EVP_MD_CTX_new();
    up->sha512 = EVP_MD_CTX_new();
    if (!up->md5 || !up->sha512
        || !EVP_DigestInit_ex(up->md5, EVP_md5(), NULL)
        || !EVP_DigestInit_ex(up->sha512, EVP_sha512(), NULL)) {
        image_upload_free(up);
        return error_new(ERROR_INTERNAL, "Cannot set up image checksums");
    }
    *ret = up;
    return NULL;
}

struct error *
image_upload_write(struct image_upload *up, const void *data, size_t size)
{
    const char *p = data;
    size_t left = size;

    if (up->fd < 0) {
        return error_new(ERROR_INTERNAL, "The upload is already finished");
    }
    if (size > up->max_size - up->size) {
        return error_new(ERROR_TOO_LARGE, "Image exceeds the storage quota: "
                         "the largest image is %llu bytes",
                         (unsigned long long) up->max_size);
    }
    if (!EVP_DigestUpdate(up->md5, data, size)
        || !EVP_DigestUpdate(up->sha512, data, size)) {
        return error_new(ERROR_INTERNAL, "Cannot compute image checksums");
    }
    while (left > 0) {
        ssize_t n = write(up->fd, p, left);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return error_from_errno(-errno, ERROR_INTERNAL, "Cannot write "
                                    "to the image store file '%s'",
                                    up->temp_path);
        }
        p += n;
        left -= (size_t) n;
    }
    up->size += size;
    return NULL;
}

/* Writes the hex form of digest 'ctx' into 'out' ('size' bytes). */
static bool
image_upload_hex(EVP_MD_CTX *ctx, char *out, size_t size)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    if (!EVP_DigestFinal_ex(ctx, digest, &n) || 2 * (size_t) n + 1 > size) {
        return false;
    }
    for (unsigned int i = 0; i < n; i++) {
        snprintf(out + 2 * i, 3, "%02x", digest[i]);
    }
    return true;
}

struct error *
image_upload_finish(struct image_upload *up, char **ret_path,
                    uint64_t *ret_size, char md5[IMAGE_STORE_MD5_SIZE],
                    char sha512[IMAGE_STORE_SHA512_SIZE])
{
    char *final_path;
    const char *suffix;

    if (up->fd < 0 || !up->temp_path) {
        return error_new(ERROR_INTERNAL, "The upload is already finished");
    }
    if (!image_upload_hex(up->md5, md5, IMAGE_STORE_MD5_SIZE)
        || !image_upload_hex(up->sha512, sha512, IMAGE_STORE_SHA512_SIZE)) {
        return error_new(ERROR_INTERNAL, "Cannot compute image checksums");
    }
    if (fsync(up->fd) < 0) {
        return error_from_errno(-errno, ERROR_INTERNAL, "Cannot flush the "
                                "image store file '%s'", up->temp_path);
    }
    /* The mkostemp() suffix makes the final name unique too. */
    suffix = up->temp_path + strlen(up->temp_path) - 6;
    final_path = xasprintf("%s/%s.%s", up->dir, up->image_id, suffix);
    if (rename(up->temp_path, final_path) < 0) {
        struct error *error = error_from_errno(-errno, ERROR_INTERNAL,
                                               "Cannot rename '%s' to '%s'",
                                               up->temp_path, final_path);
        free(final_path);
        return error;
    }
    (void) fchmod(up->fd, 0640);
    close(up->fd);
    up->fd = -1;
    free(up->temp_path);
    up->temp_path = NULL;
    *ret_path = final_path;
    *ret_size = up->size;
    return NULL;
}

void
image_upload_free(struct image_upload *up)
{
    if (!up) {
        return;
    }
    if (up->fd >= 0) {
        close(up->fd);
    }
    if (up->temp_path) {
        if (unlink(up->temp_path) < 0 && errno != ENOENT) {
            LOG_WARN("cannot remove '%s': %s, ignoring", up->temp_path,
                     strerror(errno));
        }
        free(up->temp_path);
    }
    EVP_MD_CTX_free(up->md5);
    EVP_MD_CTX_free(up->sha512);
    free(up->dir);
    free(up->image_id);
    free(up);
}

void
image_store_remove(const char *path)
{
    if (path && unlink(path) < 0 && errno != ENOENT) {
        LOG_WARN("cannot remove image file '%s': %s, ignoring", path,
                 strerror(errno));
    }
}
