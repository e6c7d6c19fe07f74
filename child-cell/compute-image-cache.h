/* compute-image-cache.h: images downloaded, verified and cached on a
 * compute host, and the per-instance qcow2 overlay on them.
 *
 * The IMAGE of a build (shared/instance.h) says where its files come
 * from: "url", "kernel_url" and "initrd_url", relative to the image
 * endpoint (image.api_url of nova-compute), each with its md5 and sha512.
 * compute_image_cache_prepare() makes sure every file is in the cache
 * directory, then points the build's spec at them:
 *
 *   download  GET <api_url><url> with an X-Auth-Token of the service
 *             user (image.username in image.project, from a token asked
 *             for at image.auth_url and asked for again on a 401), into
 *             "<cache_dir>/.part-<key>-<n>", while md5 and sha512 are
 *             computed; both must equal the expected ones, else the
 *             build fails with "Image <id> checksum mismatch: ..." and
 *             the partial file is removed.  A good file is renamed to
 *             "<cache_dir>/<key>", where <key> is the expected sha512
 *             (the md5 when there is no sha512): files are named by
 *             their contents, so a cached file is never stale.
 *   once      concurrent builds needing the same file share one
 *             download: the first creates an in-progress entry, the
 *             others wait on it for its result (success or the same
 *             error); a later build finds the file in the cache.
 *   overlay   for a disk image on a real hypervisor (qemu, kvm),
 *             "qemu-img create -f qcow2 -F <format> -b <base>
 *             <instance dir>/disk <size>", the size being the flavor's
 *             root_gb when it is larger than the image (else the image's
 *             own size); the domain's disk is the overlay, which goes
 *             with the instance directory.  Simulated hosts (the test
 *             driver never writes) use the base as it is.
 *   in use    each instance directory gets symbolic links "disk.base",
 *             "kernel.base", "initrd.base" to the cached files it uses;
 *             every use also sets the cached file's modification time.
 *   cleanup   compute_image_cache_clean() removes the cached files that
 *             no instance links to and that were not used for
 *             image.cache_max_age seconds, and partial downloads that
 *             old.
 *
 * Without an image endpoint the store's paths of the IMAGE ("disk",
 * "kernel", "initrd") are used as they are (one machine, or the store on
 * shared storage); the overlay is still made on a real hypervisor.
 *
 * Threads: compute_image_cache_new() and _free() on the main thread
 * before and after the workers; the others from any thread (the cache
 * holds its own lock; downloads and qemu-img run without it). */
#ifndef NOVA_COMPUTE_IMAGE_CACHE_H
#define NOVA_COMPUTE_IMAGE_CACHE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "shared/cleanup.h"
#include "shared/compiler.h"

struct compute_spec;
struct error;
struct instance_image;

/* Names inside an instance's directory. */
#define COMPUTE_IMAGE_CACHE_OVERLAY "disk"
#define COMPUTE_IMAGE_CACHE_DISK_LINK "disk.base"
#define COMPUTE_IMAGE_CACHE_KERNEL_LINK "kernel.base"
#define COMPUTE_IMAGE_CACHE_INITRD_LINK "initrd.base"

/* Default of image.cache_max_age, in seconds. */
#define COMPUTE_IMAGE_CACHE_DEFAULT_MAX_AGE (24 * 3600)

struct compute_image_cache_options {
    /* The image endpoint ("http://host:port/image"); NULL: no downloads,
     * the IMAGE's paths are used. */
    const char *api_url;
    /* Identity endpoint ("http://host:port/v3") and the service user
     * (domain "Default"); NULL 'auth_url' or 'username': no token. */
    const char *auth_url;
    const char *username;
    const char *password;
    const char *project;
    /* Absolute directory of the cached files (created). */
    const char *cache_dir;
    /* Seconds a cached file may stay unused before the cleanup removes
     * it. */
    long long max_age_s;
    /* "qemu-img" (looked up in PATH) unless set. */
    const char *qemu_img;
};

struct compute_image_cache;

/* Creates the cache directory and the cache.  Call before any worker
 * thread starts (libcurl's global initialisation).  Returns NULL and the
 * cache in '*ret' (owned by the caller), or an error. */
struct error *compute_image_cache_new(
    const struct compute_image_cache_options *,
    struct compute_image_cache **ret) WARN_UNUSED;

/* NULL-safe; no call may be in progress. */
void compute_image_cache_free(struct compute_image_cache *);
DEFINE_FREEP(struct compute_image_cache, compute_image_cache_free)

/* Makes sure the file 'url' (relative to the image endpoint, or an
 * absolute http(s) URL) with md5 'checksum' and sha512 'os_hash_value'
 * (either may be NULL, not both) is cached, downloading it at most once
 * whatever the number of concurrent callers.  'image_id' names it in
 * messages.  Returns NULL and the absolute path of the cached file in
 * '*ret_path' (freed by the caller), or an error: ERROR_INVALID for a
 * checksum mismatch, ERROR_UNAVAILABLE when the image service cannot be
 * reached or answers an error. */
struct error *compute_image_cache_fetch(struct compute_image_cache *,
                                        const char *image_id,
                                        const char *url,
                                        const char *checksum,
                                        const char *os_hash_value,
                                        char **ret_path) WARN_UNUSED;

/* Prepares the files of a build: fetches what 'image' says to download
 * (or takes its paths when the cache has no endpoint), links them from
 * 'instance_dir' (created), makes the qcow2 overlay of a disk when
 * 'overlay' is set (size: 'root_gb' GiB when larger than the image), and
 * points 'spec' (its kernel, initrd, disk and disk_format) at the
 * results.  Returns NULL or an error. */
struct error *compute_image_cache_prepare(struct compute_image_cache *,
                                          const struct instance_image *image,
                                          const char *instance_dir,
                                          unsigned long long root_gb,
                                          bool overlay,
                                          struct compute_spec *spec)
    WARN_UNUSED;

/* Removes the cached files unused for max_age_s seconds before 'now_s'
 * (seconds since the epoch) that no instance directory under
 * 'instances_dir' links to and that no download or build is using.
 * Returns the number of files removed. */
size_t compute_image_cache_clean(struct compute_image_cache *,
                                 const char *instances_dir, int64_t now_s);

/* Files downloaded (and verified) since the cache was created. */
uint64_t compute_image_cache_n_downloads(const struct compute_image_cache *);

/* Removes the files compute_image_cache_prepare() made in
 * 'instance_dir' (the overlay and the links); missing ones are fine. */
void compute_image_cache_remove_instance(const char *instance_dir);

/* For other clients of the image service on the host (snapshot uploads,
 * compute-snapshot.h), from any thread:
 *
 * The service user's token (a copy, freed by the caller), asked for when
 * there is none yet or when the current one equals 'stale' (it was
 * refused with a 401; NULL otherwise).  '*ret_token' is NULL when no
 * service user is configured. */
struct error *compute_image_cache_token(struct compute_image_cache *,
                                        const char *stale, char **ret_token)
    WARN_UNUSED;
/* The image endpoint without a trailing '/', or NULL; the qemu-img
 * command. */
const char *compute_image_cache_api_url(const struct compute_image_cache *);
const char *compute_image_cache_qemu_img(const struct compute_image_cache *);
/* Runs 'argv' (posix_spawnp, stdin /dev/null) and waits for it; a
 * failure's error carries the tool's output. */
struct error *compute_image_cache_run(char *const argv[]) WARN_UNUSED;

#endif /* NOVA_COMPUTE_IMAGE_CACHE_H */
