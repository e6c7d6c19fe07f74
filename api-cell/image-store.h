/* image-store.h: the files of the image service, on local disk.
 *
 * The store is one directory (nova-api's image.store_dir).  An upload is
 * written, as it arrives, to a hidden temporary file there
 * (".upload-<image id>-XXXXXX") while its MD5 and SHA-512 are computed;
 * once complete it is renamed to "<image id>.<random>", a name no other
 * upload of the same image can take, so that two racing uploads never
 * overwrite each other's file (the database decides which one wins; the
 * loser removes its own).  An upload that is abandoned (client gone, too
 * large, write error) removes its temporary file: nothing partial is
 * ever left under a name the service reads.
 *
 *     struct image_upload *up;
 *     error = image_upload_new(store_dir, image_id, max_size, &up);
 *     error = image_upload_write(up, data, size);    ... repeatedly
 *     error = image_upload_finish(up, &path, &size, md5, sha512);
 *     ... record 'path' ...  (or image_store_remove(path) if refused)
 *     image_upload_free(up);    removes the temporary file if unfinished
 *
 * Threads: an upload belongs to one thread at a time. */
#ifndef NOVA_IMAGE_STORE_H
#define NOVA_IMAGE_STORE_H 1

#include <stddef.h>
#include <stdint.h>
#include "shared/compiler.h"
#include "shared/cleanup.h"

struct error;

/* Hex digests with their NUL. */
#define IMAGE_STORE_MD5_SIZE 33
#define IMAGE_STORE_SHA512_SIZE 129

struct image_upload;

/* Starts an upload of image 'image_id' into directory 'store_dir'
 * (created, mode 0750, if missing), refusing more than 'max_size' bytes.
 * ERROR_INTERNAL when the directory or file cannot be made. */
struct error *image_upload_new(const char *store_dir, const char *image_id,
                               uint64_t max_size,
                               struct image_upload **ret) WARN_UNUSED;

/* Appends 'size' bytes.  ERROR_TOO_LARGE past the maximum,
 * ERROR_INTERNAL for a write error (disk full); the upload is then dead
 * (free it). */
struct error *image_upload_write(struct image_upload *, const void *data,
                                 size_t size) WARN_UNUSED;

/* Completes the upload: flushes the file to disk and moves it to its
 * final name, whose absolute path goes to '*ret_path' (caller frees),
 * with its size and hex digests. */
struct error *image_upload_finish(struct image_upload *, char **ret_path,
                                  uint64_t *ret_size,
                                  char md5[IMAGE_STORE_MD5_SIZE],
                                  char sha512[IMAGE_STORE_SHA512_SIZE])
    WARN_UNUSED;

/* Frees 'up', removing its temporary file unless it was finished.
 * Accepts NULL. */
void image_upload_free(struct image_upload *up);
DEFINE_FREEP(struct image_upload, image_upload_free)

/* Removes a stored file (after a delete); a missing file is fine. */
void image_store_remove(const char *path);

#endif /* NOVA_IMAGE_STORE_H */
