/* compute-spec.h: from the conductor's INSTANCE to what the driver builds,
 * and the files nova-compute keeps per instance.
 *
 * A build_and_run_instance cast carries the INSTANCE (shared/instance.h)
 * with its flavor and image; compute_spec_from_instance() turns it into a
 * 'struct virt_instance_spec' (virt-driver.h) whose strings live in the
 * returned 'struct compute_spec', so the spec can go to a worker thread
 * without any JSON value (json-c is not thread-safe).
 *
 * Per-instance files, under "<state_path>/instances/<uuid>/":
 *   console.log   the serial console log the hypervisor writes
 *                 (get_console_output reads it back)
 *   build.json    {"attempt": N, "alternates": [DEST]} while a build is in
 *                 progress, so that a nova-compute restarted in the middle
 *                 can still report build_failed with the attempt number and
 *                 alternates the conductor sent (compute-sync.h, recovery)
 *
 * Threads: plain data and file I/O; call from any one thread at a time. */
#ifndef NOVA_COMPUTE_SPEC_H
#define NOVA_COMPUTE_SPEC_H 1

#include <stdbool.h>
#include <stddef.h>
#include "child-cell/virt-driver.h"
#include "shared/cleanup.h"
#include "shared/compiler.h"

struct error;
struct instance;
struct json_object;

/* File names inside an instance's directory. */
#define COMPUTE_SPEC_CONSOLE_LOG "console.log"
#define COMPUTE_SPEC_BUILD_RECORD "build.json"

/* Largest build record read back, in bytes (a record holds at most
 * COMPUTE_SPEC_MAX_ALTERNATES destinations). */
#define COMPUTE_SPEC_BUILD_RECORD_MAX_SIZE (64 * 1024)
#define COMPUTE_SPEC_MAX_ALTERNATES 64

/* The image property naming the CPU architecture, and the one naming the
 * machine type, as Nova's image metadata calls them. */
#define COMPUTE_SPEC_PROP_ARCH "architecture"
#define COMPUTE_SPEC_PROP_MACHINE "hw_machine_type"

struct compute_spec {
    struct virt_instance_spec spec;     /* Points into the fields below. */
    char *uuid;
    char *name;
    char *display_name;
    char *created_at;
    char *flavor_name;
    char *kernel;
    char *initrd;
    char *cmdline;
    char *disk;
    char *disk_format;
    char *user_id;
    char *project_id;
    char *arch;
    char *machine;
    char *serial_log;
};

/* Builds the spec of 'inst' for domain type 'type', with its serial log in
 * 'instances_dir' (absolute; the directory of every instance's files).
 * The domain is named "instance-<uuid>".  Checks what the INSTANCE shape
 * cannot (a flavor present, sizes that fit the driver's types); the driver
 * checks the rest when it builds the domain.  Returns NULL and the spec in
 * '*ret_spec' (owned by the caller), or an ERROR_INVALID error. */
struct error *compute_spec_from_instance(const struct instance *inst,
                                         enum virt_domain_type type,
                                         const char *instances_dir,
                                         struct compute_spec **ret_spec)
    WARN_UNUSED;

void compute_spec_free(struct compute_spec *);
DEFINE_FREEP(struct compute_spec, compute_spec_free)

/* Returns "<instances_dir>/<uuid>", or that joined with 'file' when it is
 * not NULL.  The caller frees the result. */
char *compute_spec_instance_path(const char *instances_dir, const char *uuid,
                                 const char *file);

/* Returns the last 'n_lines' lines of the 'size' bytes at 'text' (all of
 * them when 'n_lines' is negative), as a new NUL-terminated string owned
 * by the caller.  A final line without a newline counts as a line, as in
 * tail(1); Nova's get_console_output 'length' has this meaning. */
char *compute_spec_tail_lines(const char *text, size_t size,
                              long long n_lines);

/* Writes the build record of attempt 'attempt' with the alternates
 * 'alternates' (a JSON array of DEST, borrowed; NULL for none) to
 * 'instances_dir'/'uuid'/build.json, creating the directories, atomically
 * (a temporary file renamed into place).  Returns NULL or an error. */
struct error *compute_spec_save_build_record(const char *instances_dir,
                                             const char *uuid,
                                             long long attempt,
                                             const struct json_object
                                             *alternates) WARN_UNUSED;

/* Reads the record written above.  Returns NULL and sets '*ret_attempt'
 * (>= 1) and '*ret_alternates' (a new reference to a JSON array of DEST
 * objects with string "host" and "node"), ERROR_NOT_FOUND when there is no
 * record, or ERROR_INVALID for a damaged one. */
struct error *compute_spec_load_build_record(
    const char *instances_dir, const char *uuid, long long *ret_attempt,
    struct json_object **ret_alternates) WARN_UNUSED;

/* Removes the build record and, with 'all' set, the console log and the
 * instance's directory too (after a delete).  Missing files are fine;
 * other failures are logged. */
void compute_spec_remove_files(const char *instances_dir, const char *uuid,
                               bool all);

#endif /* NOVA_COMPUTE_SPEC_H */
