/* test-real-guest.c: real QEMU guests booted through the libvirt driver
 * and through nova-compute.
 *
 * Every other compute test runs on libvirt's test driver; this one boots
 * the tiny guest of deploy/build-guest-image (Debian's cloud kernel and a
 * busybox initramfs whose init prints "GUEST-BOOTED" on the serial port)
 * under the private libvirtd of deploy/devservers (NOVA_TEST_LIBVIRT_URI),
 * with domain type 'qemu' (TCG): KVM exists on some test machines but
 * hangs guests there, and TCG boots this guest in a few seconds.
 *
 *   - test_driver_boot: virt_driver_spawn() with a kernel, initrd and
 *     serial log; the marker shows in virt_driver_get_console_output(),
 *     get_info says running, power_off stops it, destroy undefines it.
 *   - test_manager_boot_marker: the compute manager (in-process, as in
 *     test-compute.c, with a fake conductor on RabbitMQ) builds an
 *     instance with compute.boot_marker set: the instance goes active
 *     only once the real guest printed the marker, and terminate removes
 *     the domain.
 *   - test_manager_boot_timeout: with a marker the guest never prints, the
 *     build fails with a Timeout after the boot timeout and the running
 *     domain is destroyed.
 *
 * The times from spawn to the marker are printed, not asserted.  One
 * libvirtd serves the whole run (and keeps guests running when it stops):
 * each domain has a unique uuid and name, and the group teardown destroys
 * and undefines every domain the test created, also after a failure.
 *
 * The guest image is built (or taken from its cache) by running
 * deploy/build-guest-image on NOVA_TEST_GUEST_DIR, which tests/run-tests
 * sets, or on "<top_builddir>/guest".
 *
 * The test is skipped only when no guest can run on this machine at all:
 * qemu-system-x86_64 is not installed, or libvirt offers no 'qemu' (TCG)
 * domain for x86_64.  Under make check (TAP) it then prints a TAP skip
 * plan; run by hand it exits with status 77.  A server or image that
 * cannot be had is a failure. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "cells-rpc/rpc-msg.h"
#include "cells-rpc/rpc-server.h"
#include "cells-rpc/rpc.h"
#include "child-cell/compute-events.h"
#include "child-cell/compute-manager.h"
#include "child-cell/compute-spec.h"
#include "child-cell/rpcapi.h"
#include "child-cell/virt-driver.h"
#include "child-cell/virt-libvirt.h"
#include "shared/error.h"
#include "shared/json-util.h"
#include "shared/log.h"
#include "shared/poll-loop.h"
#include "shared/uuid-util.h"
#include "shared/xalloc.h"
#include "tests/integration/test-env.h"

#ifndef TEST_REAL_GUEST_BUILDDIR
#define TEST_REAL_GUEST_BUILDDIR "."
#endif

#define IMAGE_SCRIPT "deploy/build-guest-image"
#define QEMU_BINARY "qemu-system-x86_64"

/* What the guest's init prints on ttyS0 once it runs. */
#define GUEST_MARKER "GUEST-BOOTED"
/* A marker the guest never prints. */
#define ABSENT_MARKER "GUEST-NEVER-PRINTS-THIS"
#define GUEST_CMDLINE "console=tty0 console=ttyS0,115200 loglevel=4 panic=-1"
#define GUEST_MEMORY_MB 128

/* The cell whose vhost and user (NAME / NAMEpw) the tests use. */
#define TEST_VHOST "leaf3"

/* Longest wait for a guest to boot to its marker (about 4 s measured with
 * TCG on 2 cores, more while other work runs). */
#define BOOT_GUARD_MS 60000
/* The compute manager's boot timeout: the guard above, so that a slow
 * boot fails the build rather than the wait. */
#define MANAGER_BOOT_TIMEOUT_MS BOOT_GUARD_MS
/* The boot timeout of the timeout test: long enough for the guest to run
 * (the manager checks its serial console), short for the test. */
#define SHORT_BOOT_TIMEOUT_MS 5000
/* Longest wait for things that take milliseconds when all is well. */
#define GUARD_MS 60000
#define POLL_MS 50
#define FAKE_TICK_MS 20
#define MAX_DOMAINS 16
#define FAKE_MAX_INSTANCES 16

static char uri[512];
static char url[256];
static char prefix[16];
static char host[32];
static char state_dir[512];
static char instances_dir[600];
static char *kernel_path;
static char *initrd_path;
static struct virt_driver *driver;
static struct compute_event_thread *events;

/* Every domain uuid the test may have created, for the teardown. */
static char domains[MAX_DOMAINS][UUID_STRING_SIZE];
static size_t n_domains;

/* ------------------------------------------------------------------ */
/* Before the tests: skipping, the image. */

static void NORETURN PRINTF_FMT(1, 2)
skip_all(const char *fmt, ...)
{
    const char *output = getenv("CMOCKA_MESSAGE_OUTPUT");
    char reason[512];
    va_list args;

    va_start(args, fmt);
    vsnprintf(reason, sizeof reason, fmt, args);
    va_end(args);
    fprintf(stderr, "test-real-guest: skipped: %s\n", reason);
    if (output && !strcasecmp(output, "TAP")) {
        /* Automake's TAP driver counts a skip plan, not status 77. */
        printf("1..0 # SKIP %s\n", reason);
        fflush(stdout);
        exit(0);
    }
    exit(77);
}

/* Returns true if 'name' is an executable file in a directory of PATH. */
static bool
program_in_path(const char *name)
{
    const char *path = getenv("PATH");
    AUTOFREE char *copy = xstrdup(path && *path ? path
                                               : "/usr/bin:/bin");
    char *save = NULL;

    for (char *dir = strtok_r(copy, ":", &save); dir;
         dir = strtok_r(NULL, ":", &save)) {
        AUTOFREE char *file = xasprintf("%s/%s", dir, name);

        if (!access(file, X_OK)) {
            return true;
        }
    }
    return false;
}

/* Runs 'argv' (argv[0] a path) with its standard output sent to our
 * stderr, so that it never mixes with the TAP stream, and waits for it.
 * Returns its exit status, or -1 if it could not run. */
static int
run_program(char *const *argv)
{
    int status;
    pid_t pid;

    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid < 0) {
        fprintf(stderr, "test-real-guest: fork: %s\n", strerror(errno));
        return -1;
    }
    if (!pid) {
        if (dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
            _exit(127);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            fprintf(stderr, "test-real-guest: waitpid: %s\n",
                    strerror(errno));
            return -1;
        }
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Builds the guest image (or finds it in its cache) and sets kernel_path
 * and initrd_path.  Returns 0, or -1 after saying why. */
static int
prepare_image(void)
{
    const char *top_src = getenv("top_srcdir");
    const char *top_build = getenv("top_builddir");
    const char *dir = getenv("NOVA_TEST_GUEST_DIR");
    AUTOFREE char *script = NULL;
    AUTOFREE char *default_dir = NULL;
    AUTOFREE char *abs_dir = NULL;
    struct stat st;
    int status;

    script = xasprintf("%s/" IMAGE_SCRIPT, top_src && *top_src
                                          ? top_src : TEST_ENV_SRCDIR);
    if (!dir || !*dir) {
        default_dir = xasprintf("%s/guest", top_build && *top_build
                                            ? top_build
                                            : TEST_REAL_GUEST_BUILDDIR);
        dir = default_dir;
    }
    char *const argv[] = { script, (char *) dir, NULL };
    status = run_program(argv);
    if (status) {
        fprintf(stderr, "test-real-guest: '%s %s' failed (status %d)\n",
                script, dir, status);
        return -1;
    }
    /* libvirt wants absolute paths. */
    abs_dir = realpath(dir, NULL);
    if (!abs_dir) {
        fprintf(stderr, "test-real-guest: '%s': %s\n", dir,
                strerror(errno));
        return -1;
    }
    kernel_path = xasprintf("%s/vmlinuz", abs_dir);
    initrd_path = xasprintf("%s/initrd.img", abs_dir);
    if (stat(kernel_path, &st) || stat(initrd_path, &st)) {
        fprintf(stderr, "test-real-guest: '%s' left no vmlinuz and "
                "initrd.img in '%s'\n", script, abs_dir);
        return -1;
    }
    return 0;
}

/* Skips the whole test unless libvirt offers a 'qemu' (TCG) domain for
 * x86_64.  Exits with status 1 if libvirt does not answer. */
static void
check_tcg(void)
{
    virConnectPtr conn = virt_libvirt_connection(driver);
    char *caps = conn ? virConnectGetCapabilities(conn) : NULL;
    const char *arch;
    bool tcg = false;

    if (!caps) {
        const char *message = virGetLastErrorMessage();

        fprintf(stderr, "test-real-guest: cannot read the capabilities of "
                "'%s': %s\n", uri, message ? message : "no connection");
        exit(1);
    }
    /* Each <guest> names its <arch name='...'> and the domain types it
     * offers; look for type 'qemu' within the x86_64 one. */
    arch = strstr(caps, "<arch name='x86_64'>");
    if (arch) {
        const char *end = strstr(arch, "</arch>");
        const char *qemu = strstr(arch, "<domain type='qemu'");

        tcg = qemu && (!end || qemu < end);
    }
    free(caps);
    if (!tcg) {
        skip_all("libvirt at '%s' offers no 'qemu' (TCG) domain for "
                 "x86_64", uri);
    }
}

/* ------------------------------------------------------------------ */
/* Domains. */

/* Fails the test with 'what' and the message of 'error' (taken), unless
 * 'error' is NULL.  (cmocka leaves by longjmp: nothing may stay
 * allocated.) */
static void
assert_ok(struct error *error, const char *what)
{
    char message[1024];

    if (error) {
        snprintf(message, sizeof message, "%s", error_message(error));
        error_free(error);
        fail_msg("%s: %s", what, message);
    }
}

static void
remember_domain(const char *uuid)
{
    assert_true(n_domains < MAX_DOMAINS);
    snprintf(domains[n_domains++], UUID_STRING_SIZE, "%s", uuid);
}

/* Destroys and undefines every domain the test created; returns the
 * number that could not be removed. */
static int
remove_domains(void)
{
    int failures = 0;

    for (size_t i = 0; i < n_domains; i++) {
        struct error *error = virt_driver_destroy(driver, domains[i]);

        if (error) {
            fprintf(stderr, "test-real-guest: cannot remove domain %s: "
                    "%s\n", domains[i], error_message(error));
            error_free(error);
            failures++;
        }
    }
    n_domains = 0;
    return failures;
}

static enum virt_power_state
power_state(const char *uuid, bool *ret_found)
{
    struct virt_instance_info info;
    struct error *error = virt_driver_get_info(driver, uuid, &info);

    *ret_found = !error;
    if (error && error_kind(error) == ERROR_NOT_FOUND) {
        error_free(error);
        return VIRT_POWER_NOSTATE;
    }
    assert_ok(error, "get_info");
    return info.power_state;
}

/* Waits until the serial console of 'uuid' shows the marker; returns the
 * milliseconds it took from 'start_ms'. */
static long long
wait_marker(const char *uuid, long long start_ms)
{
    long long deadline = start_ms + BOOT_GUARD_MS;

    for (;;) {
        char *output = NULL;
        size_t size;
        long long now;
        bool seen;

        assert_ok(virt_driver_get_console_output(
                      driver, uuid, VIRT_CONSOLE_OUTPUT_MAX_SIZE, &output,
                      &size), "get_console_output");
        now = poll_loop_now_ms();
        seen = strstr(output, GUEST_MARKER " uptime=") != NULL;
        if (!seen && now >= deadline) {
            fprintf(stderr, "test-real-guest: console so far:\n%s\n",
                    output);
        }
        free(output);
        if (seen) {
            return now - start_ms;
        }
        if (now >= deadline) {
            fail_msg("'" GUEST_MARKER "' did not appear on the serial "
                     "console of %s within %d s", uuid, BOOT_GUARD_MS / 1000);
        }
        usleep(POLL_MS * 1000);
    }
}

/* ------------------------------------------------------------------ */
/* The driver on its own. */

static void
test_driver_boot(void **state)
{
    char uuid[UUID_STRING_SIZE];
    char name[64];
    char log[sizeof state_dir + 64];
    struct virt_instance_spec spec;
    struct virt_instance_info info;
    long long t0, spawned_ms, marker_ms;
    bool found;

    (void) state;
    uuid_generate_string(uuid);
    snprintf(name, sizeof name, "nova-test-guest-%s", uuid);
    snprintf(log, sizeof log, "%s/%s-console.log", state_dir, uuid);
    memset(&spec, 0, sizeof spec);
    spec.uuid = uuid;
    spec.name = name;
    spec.flavor.name = "m1.tiny";
    spec.flavor.vcpus = 1;
    spec.flavor.memory_mb = GUEST_MEMORY_MB;
    spec.image.kernel_path = kernel_path;
    spec.image.initrd_path = initrd_path;
    spec.image.cmdline = GUEST_CMDLINE;
    spec.domain_type = VIRT_DOMAIN_QEMU;
    spec.machine = "pc";
    spec.serial_log_path = log;

    remember_domain(uuid);
    t0 = poll_loop_now_ms();
    assert_ok(virt_driver_spawn(driver, &spec), "spawn");
    spawned_ms = poll_loop_now_ms() - t0;
    marker_ms = wait_marker(uuid, t0);
    print_message("guest %s: running after %lld ms, '" GUEST_MARKER "' on "
                  "its serial console after %lld ms\n", name, spawned_ms,
                  marker_ms);

    assert_ok(virt_driver_get_info(driver, uuid, &info), "get_info");
    assert_int_equal(info.power_state, VIRT_POWER_RUNNING);
    assert_int_equal(info.n_vcpus, 1);
    assert_int_equal(info.max_memory_kb, GUEST_MEMORY_MB * 1024ULL);

    /* The guest has no ACPI daemon: the clean shutdown gives up after its
     * timeout and the domain is destroyed, but stays defined. */
    assert_ok(virt_driver_power_off(driver, uuid, 1000), "power_off");
    assert_int_equal(power_state(uuid, &found), VIRT_POWER_SHUTDOWN);
    assert_true(found);

    assert_ok(virt_driver_destroy(driver, uuid), "destroy");
    (void) power_state(uuid, &found);
    assert_false(found);
}

/* ------------------------------------------------------------------ */
/* The fake conductor: serves topic "conductor" on its own connection,
 * keeps the instances the test seeds and records every message compute
 * sends (method and compact JSON args).  Same protocol as the one of
 * test-compute.c, without its fault injection. */

struct fake_record {
    char *method;
    char *args;
};

struct fake_instance {
    char uuid[UUID_STRING_SIZE];
    struct json_object *obj;
    bool deleted;
};

struct fake {
    pthread_mutex_t lock;       /* Guards everything below but 'thread'. */
    struct fake_record *records;
    size_t n_records;
    size_t max_records;
    struct fake_instance instances[FAKE_MAX_INSTANCES];
    size_t n_instances;
    bool serving;
    bool stop;
    bool failed;
    pthread_t thread;
};

static struct fake fake;

/* Under 'lock'. */
static void
fake_record(const struct rpc_msg *msg)
{
    if (fake.n_records == fake.max_records) {
        fake.max_records = fake.max_records ? 2 * fake.max_records : 256;
        fake.records = xreallocarray(fake.records, fake.max_records,
                                     sizeof *fake.records);
    }
    fake.records[fake.n_records].method = xstrdup(msg->method);
    fake.records[fake.n_records].args = json_to_string_plain(msg->args);
    fake.n_records++;
}

/* Under 'lock'. */
static struct fake_instance *
fake_find(const char *uuid)
{
    for (size_t i = 0; i < fake.n_instances; i++) {
        if (!strcmp(fake.instances[i].uuid, uuid)
            && !fake.instances[i].deleted) {
            return &fake.instances[i];
        }
    }
    return NULL;
}

/* A deep copy of 'obj' (NULL for NULL); the conductor thread must not use
 * cmocka's assertions. */
static struct json_object *
deep_copy(struct json_object *obj)
{
    struct json_object *copy = NULL;

    if (obj && json_object_deep_copy(obj, &copy, NULL)) {
        abort();
    }
    return copy;
}

static const char *
arg_string(const struct rpc_msg *msg, const char *key)
{
    return json_object_get_string(json_object_object_get(msg->args, key));
}

static struct error *
fake_not_found(const char *uuid)
{
    return error_new(ERROR_NOT_FOUND, "Instance %s could not be found.",
                     uuid ? uuid : "");
}

static struct error *
fake_handle_update(struct rpc_request *req, void *aux,
                   struct json_object **ret_result)
{
    const struct rpc_msg *msg = rpc_request_msg(req);
    const char *uuid = arg_string(msg, "instance_uuid");
    struct json_object *updates = json_object_object_get(msg->args,
                                                         "updates");
    struct json_object *expected = NULL;
    struct fake_instance *inst;
    struct error *error = NULL;

    (void) aux;
    pthread_mutex_lock(&fake.lock);
    fake_record(msg);
    inst = fake_find(uuid ? uuid : "");
    if (!inst) {
        error = fake_not_found(uuid);
        goto out;
    }
    if (json_object_object_get_ex(msg->args, "expected_task_state",
                                  &expected)) {
        const char *task = json_object_get_string(
            json_object_object_get(inst->obj, "task_state"));
        bool match = false;

        for (size_t i = 0; i < json_object_array_length(expected); i++) {
            const char *e = json_object_get_string(
                json_object_array_get_idx(expected, i));

            if ((!e && !task) || (e && task && !strcmp(e, task))) {
                match = true;
            }
        }
        if (!match) {
            error = error_new(ERROR_CONFLICT, "Conflict updating instance "
                              "%s. Actual task state: %s", uuid,
                              task ? task : "None");
            goto out;
        }
    }
    json_object_object_foreach(updates, key, value) {
        json_object_object_add(inst->obj, key, deep_copy(value));
    }
    json_object_object_add(inst->obj, "update_seq", json_object_new_int64(
        json_object_get_int64(json_object_object_get(inst->obj,
                                                     "update_seq")) + 1));
    *ret_result = deep_copy(inst->obj);
out:
    pthread_mutex_unlock(&fake.lock);
    return error;
}

static struct error *
fake_handle_get(struct rpc_request *req, void *aux,
                struct json_object **ret_result)
{
    const struct rpc_msg *msg = rpc_request_msg(req);
    const char *uuid = arg_string(msg, "instance_uuid");
    struct fake_instance *inst;
    struct error *error = NULL;

    (void) aux;
    pthread_mutex_lock(&fake.lock);
    fake_record(msg);
    inst = fake_find(uuid ? uuid : "");
    if (inst) {
        *ret_result = deep_copy(inst->obj);
    } else {
        error = fake_not_found(uuid);
    }
    pthread_mutex_unlock(&fake.lock);
    return error;
}

static struct error *
fake_handle_on_host(struct rpc_request *req, void *aux,
                    struct json_object **ret_result)
{
    const struct rpc_msg *msg = rpc_request_msg(req);
    const char *on_host = arg_string(msg, "host");
    struct json_object *list = json_object_new_array();
    struct json_object *result = json_object_new_object();

    (void) aux;
    pthread_mutex_lock(&fake.lock);
    fake_record(msg);
    for (size_t i = 0; i < fake.n_instances; i++) {
        struct fake_instance *inst = &fake.instances[i];
        const char *h = json_object_get_string(
            json_object_object_get(inst->obj, "host"));

        if (!inst->deleted && h && on_host && !strcmp(h, on_host)) {
            json_object_array_add(list, deep_copy(inst->obj));
        }
    }
    pthread_mutex_unlock(&fake.lock);
    json_object_object_add(result, "instances", list);
    *ret_result = result;
    return NULL;
}

static struct error *
fake_handle_cast(struct rpc_request *req, void *aux,
                 struct json_object **ret_result)
{
    const struct rpc_msg *msg = rpc_request_msg(req);

    (void) aux;
    (void) ret_result;
    pthread_mutex_lock(&fake.lock);
    fake_record(msg);
    if (!strcmp(msg->method, CONDUCTOR_INSTANCE_DESTROYED)) {
        struct fake_instance *inst = fake_find(arg_string(msg,
                                                          "instance_uuid"));
        if (inst) {
            inst->deleted = true;
        }
    }
    pthread_mutex_unlock(&fake.lock);
    return NULL;
}

static const struct rpc_method fake_methods[] = {
    { CONDUCTOR_INSTANCE_UPDATE, fake_handle_update, NULL },
    { CONDUCTOR_INSTANCE_GET, fake_handle_get, NULL },
    { CONDUCTOR_INSTANCES_ON_HOST, fake_handle_on_host, NULL },
    { CONDUCTOR_BUILD_FAILED, fake_handle_cast, NULL },
    { CONDUCTOR_INSTANCE_DESTROYED, fake_handle_cast, NULL },
    { CONDUCTOR_ACTION_EVENT, fake_handle_cast, NULL },
    { CONDUCTOR_SERVICE_HEARTBEAT, fake_handle_cast, NULL },
    { CONDUCTOR_COMPUTE_NODE_UPDATE, fake_handle_cast, NULL },
};

static void *
fake_main(void *unused)
{
    struct rpc_conn_options copts = { .name = "fake-conductor" };
    struct rpc_server_options so = {
        .topic = CONDUCTOR_TOPIC,
        .version = CONDUCTOR_RPC_VERSION,
        .methods = fake_methods,
        .n_methods = ARRAY_SIZE(fake_methods),
    };
    struct rpc_server *server = NULL;
    struct rpc_conn *conn = NULL;
    struct error *error;

    (void) unused;
    error = rpc_conn_open(url, &copts, &conn);
    if (!error) {
        error = rpc_server_new(conn, &so, &server);
    }
    pthread_mutex_lock(&fake.lock);
    fake.failed = error != NULL;
    fake.serving = !error;
    pthread_mutex_unlock(&fake.lock);
    if (error) {
        fprintf(stderr, "fake conductor: %s\n", error_message(error));
        error_free(error);
    }
    for (;;) {
        bool stop;

        pthread_mutex_lock(&fake.lock);
        stop = fake.stop || fake.failed;
        pthread_mutex_unlock(&fake.lock);
        if (stop) {
            break;
        }
        rpc_conn_run(conn);
        rpc_conn_wait(conn);
        poll_timer_wait(FAKE_TICK_MS);
        poll_block();
    }
    rpc_server_free(server);
    rpc_conn_free(conn);
    return NULL;
}

/* Adds the instance 'json' (INSTANCE text). */
static void
fake_put(const char *json)
{
    struct json_object *obj = json_tokener_parse(json);
    struct fake_instance *inst;

    assert_non_null(obj);
    pthread_mutex_lock(&fake.lock);
    assert_true(fake.n_instances < FAKE_MAX_INSTANCES);
    inst = &fake.instances[fake.n_instances++];
    snprintf(inst->uuid, sizeof inst->uuid, "%s", json_object_get_string(
                 json_object_object_get(obj, "uuid")));
    inst->obj = obj;
    pthread_mutex_unlock(&fake.lock);
}

/* Sets 'field' of instance 'uuid' to the JSON 'value'. */
static void
fake_set(const char *uuid, const char *field, const char *value)
{
    struct fake_instance *inst;

    pthread_mutex_lock(&fake.lock);
    inst = fake_find(uuid);
    assert_non_null(inst);
    json_object_object_add(inst->obj, field, json_tokener_parse(value));
    pthread_mutex_unlock(&fake.lock);
}

/* Returns the args of the first record of 'method' about instance 'uuid'
 * whose args contain each text of 'parts' (NULL-terminated), as a new
 * JSON text, or NULL. */
static char *
find_record(const char *method, const char *uuid, const char *const *parts)
{
    AUTOFREE char *about = xasprintf("\"instance_uuid\":\"%s\"", uuid);
    char *found = NULL;

    pthread_mutex_lock(&fake.lock);
    for (size_t i = 0; i < fake.n_records && !found; i++) {
        const struct fake_record *r = &fake.records[i];
        bool match = !strcmp(r->method, method)
                     && strstr(r->args, about);

        for (size_t j = 0; match && parts && parts[j]; j++) {
            match = strstr(r->args, parts[j]) != NULL;
        }
        if (match) {
            found = xstrdup(r->args);
        }
    }
    pthread_mutex_unlock(&fake.lock);
    return found;
}

/* Waits up to 'guard_ms' for a record as find_record() finds it; fails
 * the test if none comes. */
static void
wait_record(long long guard_ms, const char *method, const char *uuid,
            const char *const *parts)
{
    long long deadline = poll_loop_now_ms() + guard_ms;

    for (;;) {
        char *found = find_record(method, uuid, parts);

        if (found) {
            free(found);
            return;
        }
        if (poll_loop_now_ms() >= deadline) {
            fail_msg("no %s about %s with the expected fields arrived "
                     "within %lld ms", method, uuid, guard_ms);
        }
        usleep(POLL_MS * 1000);
    }
}

/* Waits up to 'guard_ms' for the outcome of the build of 'uuid': the
 * update that makes it active, or build_failed.  Fails the test, with the
 * conductor's record, if the outcome is not the one 'want_active' asks
 * for; returns the milliseconds it took from 'start_ms'. */
static long long
wait_build(const char *uuid, bool want_active, long long start_ms,
           long long guard_ms)
{
    static const char *const active[] = {
        "\"vm_state\":\"active\"", "\"power_state\":1", NULL,
    };

    for (;;) {
        char *update = find_record(CONDUCTOR_INSTANCE_UPDATE, uuid, active);
        char *failed = find_record(CONDUCTOR_BUILD_FAILED, uuid, NULL);
        long long now = poll_loop_now_ms();
        char record[2048];

        snprintf(record, sizeof record, "%s", update ? update
                                              : failed ? failed : "");
        free(update);
        free(failed);
        if (*record) {
            if ((update != NULL) != want_active) {
                fail_msg("build of %s: unexpected %s: %s", uuid,
                         update ? "success" : "build_failed", record);
            }
            return now - start_ms;
        }
        if (now >= start_ms + guard_ms) {
            fail_msg("the build of %s had no outcome within %lld s", uuid,
                     guard_ms / 1000);
        }
        usleep(POLL_MS * 1000);
    }
}

/* ------------------------------------------------------------------ */
/* The compute manager, on its own thread, as nova-compute runs it. */

struct runner {
    pthread_t thread;
    struct compute_manager_options options;
    struct compute_manager_host host;
    int stop_fd;
    bool stop;                  /* Atomic. */
    bool ready;                 /* Atomic. */
    bool failed;                /* Atomic. */
};

static struct runner *runner;

static void *
runner_main(void *r_)
{
    struct runner *r = r_;
    struct compute_manager *manager = NULL;
    struct error *error;

    error = compute_manager_new(&r->options, &r->host, 1, &manager);
    if (error) {
        fprintf(stderr, "compute manager: %s\n", error_message(error));
        error_free(error);
        __atomic_store_n(&r->failed, true, __ATOMIC_RELEASE);
        return NULL;
    }
    while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
        compute_manager_run(manager);
        if (compute_manager_is_ready(manager)) {
            __atomic_store_n(&r->ready, true, __ATOMIC_RELEASE);
        }
        compute_manager_wait(manager);
        poll_fd_wait(r->stop_fd, POLLIN);
        poll_block();
    }
    poll_loop_reset();
    compute_manager_free(manager);
    return NULL;
}

static void
runner_stop(void)
{
    struct runner *r = runner;
    uint64_t one = 1;

    if (!r) {
        return;
    }
    __atomic_store_n(&r->stop, true, __ATOMIC_RELEASE);
    if (write(r->stop_fd, &one, sizeof one) != sizeof one) {
        abort();
    }
    pthread_join(r->thread, NULL);
    close(r->stop_fd);
    free(r);
    runner = NULL;
}

/* Starts a manager for 'host' with 'marker' and 'boot_timeout_ms' and
 * waits until it serves. */
static void
runner_start(const char *marker, long long boot_timeout_ms)
{
    struct runner *r;

    /* One left by a failed test. */
    runner_stop();
    r = xzalloc(sizeof *r);
    compute_manager_options_init(&r->options);
    r->options.transport_url = url;
    r->options.state_path = state_dir;
    r->options.domain_type = VIRT_DOMAIN_QEMU;
    r->options.heartbeat_interval_ms = 1000;
    r->options.boot_marker = marker;
    r->options.boot_timeout_ms = boot_timeout_ms;
    r->options.shutdown_timeout_ms = 1000;
    r->host.name = host;
    r->host.driver = driver;
    r->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    assert_true(r->stop_fd >= 0);
    assert_int_equal(pthread_create(&r->thread, NULL, runner_main, r), 0);
    runner = r;
    for (int i = 0; i < GUARD_MS / POLL_MS; i++) {
        if (__atomic_load_n(&r->ready, __ATOMIC_ACQUIRE)) {
            return;
        }
        assert_false(__atomic_load_n(&r->failed, __ATOMIC_ACQUIRE));
        usleep(POLL_MS * 1000);
    }
    fail_msg("the compute manager did not become ready");
}

static struct rpc_conn *client;

/* Casts 'method' to our host with {"instance": the fake's INSTANCE} plus
 * the members of 'extra' (JSON object text or NULL). */
static void
cast_instance(const char *method, const char *uuid, const char *extra)
{
    const struct rpc_target target = { COMPUTE_TOPIC, host };
    struct json_object *args = extra ? json_tokener_parse(extra)
                                     : json_object_new_object();
    struct json_object *inst = NULL;
    CLEANUP(rpc_msg_freep) struct rpc_msg *msg = NULL;
    struct error *error;

    pthread_mutex_lock(&fake.lock);
    assert_int_equal(json_object_deep_copy(fake_find(uuid)->obj, &inst,
                                           NULL), 0);
    pthread_mutex_unlock(&fake.lock);
    json_object_object_add(args, "instance", inst);
    msg = rpc_msg_new(method, args);
    error = rpc_cast(client, &target, msg);
    if (!error) {
        error = rpc_conn_flush(client, GUARD_MS);
    }
    rpc_msg_free(TAKE_PTR(msg));
    assert_ok(error, method);
}

/* Seeds a scheduled instance booting the guest image on our host and
 * casts its build; returns when the cast is sent. */
static void
build_instance(const char *uuid)
{
    AUTOFREE char *json = xasprintf(
        "{\"uuid\": \"%s\", \"display_name\": \"guest-%.8s\", "
        "\"project_id\": \"p1\", \"user_id\": \"u1\", \"host\": \"%s\", "
        "\"node\": \"%s\", \"flavor\": {\"flavorid\": \"1\", \"name\": "
        "\"m1.tiny\", \"vcpus\": 1, \"memory_mb\": %d, \"root_gb\": 1, "
        "\"ephemeral_gb\": 0, \"swap\": 0, \"extra_specs\": {}}, "
        "\"image\": {\"kernel\": \"%s\", \"initrd\": \"%s\", "
        "\"cmdline\": \"%s\"}, \"vm_state\": \"building\", "
        "\"task_state\": \"scheduling\", \"power_state\": 0, "
        "\"created_at\": \"2024-05-01T12:00:00.000000\", "
        "\"update_seq\": 1}",
        uuid, uuid, host, host, GUEST_MEMORY_MB, kernel_path, initrd_path,
        GUEST_CMDLINE);

    remember_domain(uuid);
    fake_put(json);
    cast_instance(COMPUTE_BUILD_AND_RUN_INSTANCE, uuid,
                  "{\"attempt\": 1, \"alternates\": []}");
}

/* Returns the contents of the serial log of instance 'uuid' (the caller
 * frees it), or NULL. */
static char *
read_console_log(const char *uuid)
{
    AUTOFREE char *path = compute_spec_instance_path(
        instances_dir, uuid, COMPUTE_SPEC_CONSOLE_LOG);
    char *text = NULL;
    size_t size = 0;
    FILE *f = fopen(path, "r");

    if (!f) {
        return NULL;
    }
    text = xmalloc(VIRT_CONSOLE_OUTPUT_MAX_SIZE + 1);
    size = fread(text, 1, VIRT_CONSOLE_OUTPUT_MAX_SIZE, f);
    text[size] = '\0';
    fclose(f);
    return text;
}

static void
test_manager_boot_marker(void **state)
{
    char uuid[UUID_STRING_SIZE];
    char *console;
    bool booted;
    long long t0, active_ms;
    bool found;

    (void) state;
    runner_start(GUEST_MARKER, MANAGER_BOOT_TIMEOUT_MS);
    uuid_generate_string(uuid);
    t0 = poll_loop_now_ms();
    build_instance(uuid);
    active_ms = wait_build(uuid, true, t0, MANAGER_BOOT_TIMEOUT_MS + GUARD_MS);
    print_message("instance %s: active %lld ms after the build cast "
                  "(boot marker '" GUEST_MARKER "')\n", uuid, active_ms);

    /* Active only once the marker was there. */
    console = read_console_log(uuid);
    booted = console && strstr(console, GUEST_MARKER " uptime=");
    free(console);
    assert_true(booted);
    assert_int_equal(power_state(uuid, &found), VIRT_POWER_RUNNING);
    assert_true(found);

    fake_set(uuid, "task_state", "\"deleting\"");
    cast_instance(COMPUTE_TERMINATE_INSTANCE, uuid, NULL);
    wait_record(GUARD_MS, CONDUCTOR_INSTANCE_DESTROYED, uuid, NULL);
    (void) power_state(uuid, &found);
    assert_false(found);
    runner_stop();
}

static void
test_manager_boot_timeout(void **state)
{
    static const char *const timeout[] = {
        "\"kind\":\"Timeout\"", "'" ABSENT_MARKER "' never appeared on "
        "its serial console", NULL,
    };
    char uuid[UUID_STRING_SIZE];
    long long failed_ms;
    bool found;

    (void) state;
    runner_start(ABSENT_MARKER, SHORT_BOOT_TIMEOUT_MS);
    uuid_generate_string(uuid);
    build_instance(uuid);
    failed_ms = wait_build(uuid, false, poll_loop_now_ms(),
                           SHORT_BOOT_TIMEOUT_MS + GUARD_MS);
    /* A timeout, with the guest running (the manager read its console),
     * and the domain destroyed before the failure was reported. */
    wait_record(0, CONDUCTOR_BUILD_FAILED, uuid, timeout);
    assert_true(failed_ms >= SHORT_BOOT_TIMEOUT_MS);
    (void) power_state(uuid, &found);
    assert_false(found);
    runner_stop();
}

/* ------------------------------------------------------------------ */

static int
group_setup(void **state)
{
    (void) state;
    pthread_mutex_init(&fake.lock, NULL);
    if (pthread_create(&fake.thread, NULL, fake_main, NULL)) {
        return -1;
    }
    for (int i = 0; i < GUARD_MS / POLL_MS; i++) {
        bool serving, failed;

        pthread_mutex_lock(&fake.lock);
        serving = fake.serving;
        failed = fake.failed;
        pthread_mutex_unlock(&fake.lock);
        if (failed) {
            return -1;
        }
        if (serving) {
            break;
        }
        usleep(POLL_MS * 1000);
    }

    struct error *error = rpc_conn_open(url, NULL, &client);
    if (error) {
        fprintf(stderr, "test-real-guest: %s\n", error_message(error));
        error_free(error);
        return -1;
    }
    return 0;
}

static int
group_teardown(void **state)
{
    int failures;

    (void) state;
    runner_stop();
    failures = remove_domains();
    pthread_mutex_lock(&fake.lock);
    fake.stop = true;
    pthread_mutex_unlock(&fake.lock);
    pthread_join(fake.thread, NULL);
    rpc_conn_free(client);
    for (size_t i = 0; i < fake.n_records; i++) {
        free(fake.records[i].method);
        free(fake.records[i].args);
    }
    free(fake.records);
    for (size_t i = 0; i < fake.n_instances; i++) {
        json_object_put(fake.instances[i].obj);
    }
    pthread_mutex_destroy(&fake.lock);
    return failures ? -1 : 0;
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_driver_boot),
        cmocka_unit_test(test_manager_boot_marker),
        cmocka_unit_test(test_manager_boot_timeout),
    };
    struct virt_libvirt_config config;
    char id[UUID_STRING_SIZE];
    struct error *error;
    const char *base;
    int rc;

    if (!program_in_path(QEMU_BINARY)) {
        skip_all(QEMU_BINARY " is not installed (Debian package "
                 "qemu-system-x86)");
    }
    test_env_require(argc, argv, "rabbitmq,libvirt");
    if (!strstr(test_env_get("NOVA_TEST_CELLS"), TEST_VHOST)
        && test_env_add_cell(TEST_VHOST)) {
        fprintf(stderr, "test-real-guest: cannot add vhost '%s'\n",
                TEST_VHOST);
        return 1;
    }
    snprintf(uri, sizeof uri, "%s", test_env_get("NOVA_TEST_LIBVIRT_URI"));
    snprintf(url, sizeof url, "rabbit://%s:%spw@127.0.0.1:%d/%s",
             TEST_VHOST, TEST_VHOST,
             test_env_get_port("NOVA_TEST_RABBIT_PORT"), TEST_VHOST);
    uuid_generate_string(id);
    snprintf(prefix, sizeof prefix, "g%.8s", id);
    snprintf(host, sizeof host, "%s-real", prefix);
    base = getenv("NOVA_TEST_STATE_DIR");
    snprintf(state_dir, sizeof state_dir, "%s/real-guest-%s",
             base && *base ? base : "/tmp", prefix);
    if (mkdir(state_dir, 0755) < 0 && errno != EEXIST) {
        fprintf(stderr, "test-real-guest: cannot create '%s': %s\n",
                state_dir, strerror(errno));
        return 1;
    }
    snprintf(instances_dir, sizeof instances_dir, "%s/instances",
             state_dir);
    if (!getenv("NOVA_TEST_REAL_GUEST_VERBOSE")) {
        /* The timeout test provokes a failed build on purpose. */
        (void) log_set_levels("err");
    }
    if (prepare_image()) {
        return 1;
    }

    /* Libvirt's event loop must be registered before the connection is
     * opened; the manager relies on lifecycle events. */
    error = compute_event_thread_start(&events);
    if (!error) {
        virt_libvirt_config_init(&config);
        config.uri = uri;
        config.hostname = host;
        config.instances_path = state_dir;
        config.soft_reboot_timeout_ms = 1000;
        error = virt_libvirt_new(&config, &driver);
    }
    if (!error) {
        error = virt_driver_init_host(driver);
    }
    if (error) {
        fprintf(stderr, "test-real-guest: libvirt at '%s': %s\n", uri,
                error_message(error));
        error_free(error);
        return 1;
    }
    check_tcg();

    rc = cmocka_run_group_tests_name("real-guest", tests, group_setup,
                                     group_teardown);
    virt_driver_free(driver);
    compute_event_thread_stop(events);
    free(kernel_path);
    free(initrd_path);
    return rc;
}
