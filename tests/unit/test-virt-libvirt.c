/* test-virt-libvirt.c: the libvirt driver and simulated hosts against
 * libvirt's real test driver, which runs inside this process (no daemon):
 * "test:///default" and node files written by virt-sim-hosts.c.
 *
 * Each test opens its own hosts.  Node-file hosts start empty on every
 * open; test:///default is shared by every connection of the process (it
 * always holds libvirt's own running domain "test"), so tests using it
 * remove what they create.
 *
 * Lifecycle events go through libvirt's default event loop, which the
 * driver registers; the tests run it on their own thread with
 * run_events_until(), waking it before each iteration so that it never
 * blocks.  Loops are bounded by iteration counts, never by time. */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <libvirt/libvirt.h>

#include "child-cell/virt-domain-xml.h"
#include "child-cell/virt-driver.h"
#include "child-cell/virt-libvirt.h"
#include "child-cell/virt-sim-hosts.h"
#include "child-cell/virt-spec-json.h"
#include "shared/cleanup.h"
#include "shared/error.h"
#include "shared/json-util.h"
#include "shared/xalloc.h"

#define UUID_A "aaaaaaaa-0000-4000-8000-000000000001"
#define UUID_B "bbbbbbbb-0000-4000-8000-000000000002"
#define UUID_MISSING "cccccccc-0000-4000-8000-000000000003"

/* Event loop iterations allowed before a test gives up on an event. */
#define MAX_EVENT_LOOP_ITERATIONS 200
#define MAX_RECORDED_EVENTS 64
#define TEST_MAX_FILE_SIZE (1024 * 1024)

/* --- fixtures ----------------------------------------------------------- */

struct test_dir {
    char path[64];
};

static void
test_dir_create(struct test_dir *dir)
{
    snprintf(dir->path, sizeof dir->path, "/tmp/nova-virt-test-XXXXXX");
    assert_non_null(mkdtemp(dir->path));
}

/* Removes 'path' and everything below it. */
static void
remove_tree(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *entry;

    if (!d) {
        (void) unlink(path);
        return;
    }
    while ((entry = readdir(d))) {
        if (strcmp(entry->d_name, ".") && strcmp(entry->d_name, "..")) {
            AUTOFREE char *child = xasprintf("%s/%s", path, entry->d_name);

            remove_tree(child);
        }
    }
    closedir(d);
    (void) rmdir(path);
}

/* A spec for the test driver; 'uuid' and 'name' are borrowed. */
static struct virt_instance_spec
test_spec(const char *uuid, const char *name)
{
    struct virt_instance_spec spec = {
        .uuid = uuid,
        .name = name,
        .display_name = "test server",
        .flavor = {
            .name = "m1.tiny", .vcpus = 1, .memory_mb = 128, .root_gb = 1,
        },
        .image = {
            .kernel_path = "/nonexistent/vmlinuz",
            .initrd_path = "/nonexistent/initrd.img",
            .cmdline = "console=ttyS0",
        },
        .owner = { .project_id = "p1", .project_name = "demo" },
        .domain_type = VIRT_DOMAIN_TEST,
    };

    return spec;
}

static struct virt_driver *
open_driver(const char *uri, unsigned int soft_reboot_timeout_ms)
{
    struct virt_libvirt_config config;
    struct virt_driver *driver = NULL;
    CLEANUP(error_freep) struct error *error = NULL;

    virt_libvirt_config_init(&config);
    config.uri = uri;
    config.local_gb = 100;
    config.soft_reboot_timeout_ms = soft_reboot_timeout_ms;
    error = virt_libvirt_new(&config, &driver);
    if (error) {
        fail_msg("%s", error_message(error));
    }
    return driver;
}

/* One empty simulated host in 'dir'. */
static struct virt_sim_hosts *
open_sim_host(const struct test_dir *dir)
{
    struct virt_sim_hosts_config config;
    struct virt_sim_hosts *hosts = NULL;
    CLEANUP(error_freep) struct error *error = NULL;

    virt_sim_hosts_config_init(&config);
    config.state_dir = dir->path;
    config.prefix = "unit";
    error = virt_sim_hosts_create(&config, &hosts);
    if (error) {
        fail_msg("%s", error_message(error));
    }
    return hosts;
}

static void
assert_ok(struct error *error)
{
    if (error) {
        AUTOFREE char *message = xstrdup(error_message(error));

        error_free(error);
        fail_msg("unexpected error: %s", message);
    }
}

/* Checks that 'error' has 'kind' and a message holding 'message'. */
static void
assert_error(struct error *error, enum error_kind kind, const char *message)
{
    if (!error) {
        fail_msg("no error, expected '%s'", message);
    }
    if (error_kind(error) != kind || !strstr(error_message(error), message)) {
        AUTOFREE char *text = xasprintf(
            "%s: %s", error_kind_to_string(error_kind(error)),
            error_message(error));

        error_free(error);
        fail_msg("got %s, expected %s with '%s'", text,
                 error_kind_to_string(kind), message);
    }
    error_free(error);
}

static enum virt_power_state
power_state(struct virt_driver *driver, const char *uuid)
{
    struct virt_instance_info info;

    assert_ok(virt_driver_get_info(driver, uuid, &info));
    return info.power_state;
}

static const struct virt_instance_entry *
find_entry(const struct virt_instance_list *list, const char *uuid)
{
    for (size_t i = 0; i < list->n_entries; i++) {
        if (!strcmp(list->entries[i].uuid, uuid)) {
            return &list->entries[i];
        }
    }
    return NULL;
}

static bool
has_saved_image(struct virt_driver *driver, const char *uuid)
{
    virDomainPtr dom = virDomainLookupByUUIDString(
        virt_libvirt_connection(driver), uuid);
    int r;

    assert_non_null(dom);
    r = virDomainHasManagedSaveImage(dom, 0);
    virDomainFree(dom);
    return r == 1;
}

/* Returns 's' escaped as libxml2 writes element text (only &, < and >),
 * which is how libvirt hands metadata back. */
static char *
escape_text(const char *s)
{
    char *out = xmalloc(5 * strlen(s) + 1);
    char *p = out;

    for (; *s; s++) {
        const char *entity = *s == '&' ? "&amp;" : *s == '<' ? "&lt;"
                             : *s == '>' ? "&gt;" : NULL;

        if (entity) {
            memcpy(p, entity, strlen(entity));
            p += strlen(entity);
        } else {
            *p++ = *s;
        }
    }
    *p = '\0';
    return out;
}

/* --- events ------------------------------------------------------------- */

struct recorded_event {
    char uuid[UUID_STRING_SIZE];
    enum virt_event event;
};

struct event_log {
    struct virt_driver *driver;
    struct recorded_event events[MAX_RECORDED_EVENTS];
    size_t n_events;
    size_t n_overflow;
};

static void
record_event(struct virt_driver *driver, const char *uuid,
             enum virt_event event, void *log_)
{
    struct event_log *log = log_;

    assert_ptr_equal(driver, log->driver);
    if (log->n_events < MAX_RECORDED_EVENTS) {
        struct recorded_event *e = &log->events[log->n_events++];

        snprintf(e->uuid, sizeof e->uuid, "%s", uuid);
        e->event = event;
    } else {
        log->n_overflow++;
    }
}

static bool
log_has(const struct event_log *log, const char *uuid, enum virt_event event)
{
    for (size_t i = 0; i < log->n_events; i++) {
        if (!strcmp(log->events[i].uuid, uuid)
            && log->events[i].event == event) {
            return true;
        }
    }
    return false;
}

/* Runs libvirt's event loop until 'log' holds 'event' for 'uuid'.
 * Returns false if it never came. */
static bool
run_events_until(const struct event_log *log, const char *uuid,
                 enum virt_event event)
{
    for (int i = 0; i < MAX_EVENT_LOOP_ITERATIONS; i++) {
        if (log_has(log, uuid, event)) {
            return true;
        }
        virt_libvirt_event_wakeup();
        assert_int_equal(virt_libvirt_event_run_once(), 0);
    }
    return log_has(log, uuid, event);
}

/* Runs the loop until nothing is pending (a bounded number of times). */
static void
drain_events(void)
{
    for (int i = 0; i < 4; i++) {
        virt_libvirt_event_wakeup();
        assert_int_equal(virt_libvirt_event_run_once(), 0);
    }
}

/* --- tests -------------------------------------------------------------- */

static void
test_spawn_list_destroy(void **state)
{
    struct virt_driver *driver = open_driver(
        "test:///default", VIRT_LIBVIRT_SOFT_REBOOT_TIMEOUT_MS);
    struct virt_instance_spec spec = test_spec(UUID_A, "instance-00000001");
    CLEANUP(virt_instance_list_freep) struct virt_instance_list *list = NULL;
    const struct virt_instance_entry *entry;
    struct virt_instance_info info;

    (void) state;
    assert_string_equal(virt_driver_name(driver), "libvirt");
    assert_ok(virt_driver_init_host(driver));
    assert_ok(virt_driver_spawn(driver, &spec));

    assert_ok(virt_driver_get_info(driver, UUID_A, &info));
    assert_int_equal(info.power_state, VIRT_POWER_RUNNING);
    assert_int_equal(info.memory_kb, 128 * 1024);
    assert_int_equal(info.max_memory_kb, 128 * 1024);
    assert_int_equal(info.n_vcpus, 1);

    /* The same uuid again is a conflict, and changes nothing. */
    assert_error(virt_driver_spawn(driver, &spec), ERROR_CONFLICT,
                 "Cannot spawn instance '" UUID_A "': it already exists");
    /* Another uuid with the same name: libvirt refuses the definition. */
    spec.uuid = UUID_B;
    assert_error(virt_driver_spawn(driver, &spec), ERROR_INTERNAL,
                 "Cannot define instance '" UUID_B "': operation failed: "
                 "domain 'instance-00000001' already exists");
    assert_error(virt_driver_get_info(driver, UUID_B, &info),
                 ERROR_NOT_FOUND, "Domain not found");

    /* test:///default's own domain is listed beside ours. */
    assert_ok(virt_driver_list_instances(driver, &list));
    entry = find_entry(list, UUID_A);
    assert_non_null(entry);
    assert_string_equal(entry->name, "instance-00000001");
    assert_int_equal(entry->power_state, VIRT_POWER_RUNNING);
    assert_int_equal(list->n_entries, 2);
    virt_instance_list_free(TAKE_PTR(list));

    /* Destroy removes the domain altogether; again is a no-op. */
    assert_ok(virt_driver_destroy(driver, UUID_A));
    assert_error(virt_driver_get_info(driver, UUID_A, &info),
                 ERROR_NOT_FOUND,
                 "Cannot get the state of instance '" UUID_A "': Domain "
                 "not found");
    assert_ok(virt_driver_destroy(driver, UUID_A));
    assert_ok(virt_driver_list_instances(driver, &list));
    assert_null(find_entry(list, UUID_A));
    assert_int_equal(list->n_entries, 1);

    virt_driver_free(driver);
}

static void
test_invalid_spec_is_rejected_before_libvirt(void **state)
{
    struct virt_driver *driver = open_driver("test:///default", 0);
    struct virt_instance_spec spec = test_spec(UUID_A, "instance-00000001");
    CLEANUP(virt_instance_list_freep) struct virt_instance_list *list = NULL;

    (void) state;
    spec.flavor.memory_mb = 0;
    assert_error(virt_driver_spawn(driver, &spec), ERROR_INVALID,
                 "Cannot spawn instance: Instance '" UUID_A "' has no "
                 "memory");
    assert_ok(virt_driver_list_instances(driver, &list));
    assert_null(find_entry(list, UUID_A));
    virt_driver_free(driver);
}

/* Every golden spec, as type='test', is accepted by libvirt; names and
 * metadata come back unharmed however many special characters they hold. */
static void
test_golden_specs_accepted_by_test_driver(void **state)
{
    static const char *const cases[] = {
        "kernel-boot", "disk-boot", "test-type", "special-chars",
        "kernel-and-disk",
    };
    struct test_dir dir;

    (void) state;
    test_dir_create(&dir);
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        const char *top = getenv("top_srcdir");
        AUTOFREE char *path = top && top[0]
            ? xasprintf("%s/tests/data/domain-xml/%s.in", top, cases[i])
            : xasprintf("%s/%s.in", TEST_DOMAIN_XML_DIR, cases[i]);
        CLEANUP(virt_sim_hosts_freep) struct virt_sim_hosts *hosts = NULL;
        CLEANUP(json_putp) struct json_object *doc = NULL;
        AUTOFREE char *metadata = NULL;
        AUTOFREE char *display = NULL;
        AUTOFREE char *expected_name = NULL;
        struct virt_instance_spec spec;
        struct virt_driver *driver;
        virDomainPtr dom;

        doc = json_object_from_file(path);
        assert_non_null(doc);
        assert_ok(virt_spec_json_decode(doc, &spec));
        spec.domain_type = VIRT_DOMAIN_TEST;

        hosts = open_sim_host(&dir);
        driver = virt_sim_hosts_driver(hosts, 0);
        assert_ok(virt_driver_spawn(driver, &spec));
        assert_int_equal(power_state(driver, spec.uuid), VIRT_POWER_RUNNING);

        dom = virDomainLookupByUUIDString(virt_libvirt_connection(driver),
                                          spec.uuid);
        assert_non_null(dom);
        assert_string_equal(virDomainGetName(dom), spec.name);
        metadata = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT,
                                        VIRT_NOVA_XMLNS, 0);
        assert_non_null(metadata);
        display = escape_text(spec.display_name ? spec.display_name
                                                : spec.name);
        expected_name = xasprintf("<name>%s</name>", display);
        if (!strstr(metadata, expected_name)) {
            fail_msg("%s: metadata lacks '%s':\n%s", cases[i], display,
                     metadata);
        }
        virDomainFree(dom);

        assert_ok(virt_driver_destroy(driver, spec.uuid));
    }
    remove_tree(dir.path);
}

static void
test_pause_unpause(void **state)
{
    struct test_dir dir;
    CLEANUP(virt_sim_hosts_freep) struct virt_sim_hosts *hosts = NULL;
    struct virt_instance_spec spec = test_spec(UUID_A, "instance-00000001");
    struct virt_driver *driver;

    (void) state;
    test_dir_create(&dir);
    hosts = open_sim_host(&dir);
    driver = virt_sim_hosts_driver(hosts, 0);
    assert_ok(virt_driver_spawn(driver, &spec));

    assert_ok(virt_driver_pause(driver, UUID_A));
    assert_int_equal(power_state(driver, UUID_A), VIRT_POWER_PAUSED);
    assert_error(virt_driver_pause(driver, UUID_A), ERROR_CONFLICT,
                 "Cannot pause instance '" UUID_A "': it is not running");
    assert_ok(virt_driver_unpause(driver, UUID_A));
    assert_int_equal(power_state(driver, UUID_A), VIRT_POWER_RUNNING);
    assert_error(virt_driver_unpause(driver, UUID_A), ERROR_CONFLICT,
                 "Cannot unpause instance '" UUID_A "': it is not paused");
    remove_tree(dir.path);
}

/* Suspend is a managed save on the test driver as with QEMU: the domain
 * is off with a saved image, and starting it restores it. */
static void
test_suspend_resume(void **state)
{
    struct test_dir dir;
    CLEANUP(virt_sim_hosts_freep) struct virt_sim_hosts *hosts = NULL;
    struct virt_instance_spec spec = test_spec(UUID_A, "instance-00000001");
    struct virt_driver *driver;

    (void) state;
    test_dir_create(&dir);
    hosts = open_sim_host(&dir);
    driver = virt_sim_hosts_driver(hosts, 0);
    assert_ok(virt_driver_spawn(driver, &spec));

    assert_error(virt_driver_resume(driver, UUID_A), ERROR_CONFLICT,
                 "Cannot resume instance '" UUID_A "': it is not suspended");
    assert_ok(virt_driver_suspend(driver, UUID_A));
    assert_int_equal(power_state(driver, UUID_A), VIRT_POWER_SUSPENDED);
    assert_true(has_saved_image(driver, UUID_A));
    assert_error(virt_driver_suspend(driver, UUID_A), ERROR_CONFLICT,
                 "it is not running or paused");
    assert_ok(virt_driver_resume(driver, UUID_A));
    assert_int_equal(power_state(driver, UUID_A), VIRT_POWER_RUNNING);
    assert_false(has_saved_image(driver, UUID_A));

    /* A paused instance can be suspended too. */
    assert_ok(virt_driver_pause(driver, UUID_A));
    assert_ok(virt_driver_suspend(driver, UUID_A));
    assert_int_equal(power_state(driver, UUID_A), VIRT_POWER_SUSPENDED);

    /* A stopped one cannot, and is not suspended either. */
    assert_ok(virt_driver_resume(driver, UUID_A));
    assert_ok(virt_driver_power_off(driver, UUID_A, 0));
    assert_error(virt_driver_suspend(driver, UUID_A), ERROR_CONFLICT,
                 "it is not running or paused");
    assert_error(virt_driver_resume(driver, UUID_A), ERROR_CONFLICT,
                 "it is not suspended");

    /* Destroy frees the saved image with the domain. */
    assert_ok(virt_driver_power_on(driver, UUID_A));
    assert_ok(virt_driver_suspend(driver, UUID_A));
    assert_ok(virt_driver_destroy(driver, UUID_A));
    assert_error(virt_driver_get_info(driver, UUID_A,
                                      &(struct virt_instance_info) { 0 }),
                 ERROR_NOT_FOUND, "Domain not found");
    remove_tree(dir.path);
}

/* On the test driver a soft reboot asks with virDomainShutdown() (the ACPI
 * flag is rejected) and the domain is off at once, so it is completed as a
 * soft reboot; a timeout of 0, or an instance that is not running, gets a
 * hard reboot. */
static void
test_reboot(void **state)
{
    struct test_dir dir;
    CLEANUP(virt_sim_hosts_freep) struct virt_sim_hosts *hosts = NULL;
    struct virt_instance_spec spec = test_spec(UUID_A, "instance-00000001");
    enum virt_reboot_type performed;
    struct virt_driver *driver;

    (void) state;
    test_dir_create(&dir);
    hosts = open_sim_host(&dir);
    driver = virt_sim_hosts_driver(hosts, 0);
    assert_ok(virt_driver_spawn(driver, &spec));

    performed = VIRT_REBOOT_HARD;
    assert_ok(virt_driver_reboot(driver, UUID_A, VIRT_REBOOT_SOFT,
                                 &performed));
    assert_int_equal(performed, VIRT_REBOOT_SOFT);
    assert_int_equal(power_state(driver, UUID_A), VIRT_POWER_RUNNING);

    performed = VIRT_REBOOT_SOFT;
    assert_ok(virt_driver_reboot(driver, UUID_A, VIRT_REBOOT_HARD,
                                 &performed));
    assert_int_equal(performed, VIRT_REBOOT_HARD);
    assert_int_equal(power_state(driver, UUID_A), VIRT_POWER_RUNNING);

    /* A paused guest cannot shut down: the soft reboot turns hard and
     * leaves it running. */
    assert_ok(virt_driver_pause(driver, UUID_A));
    assert_ok(virt_driver_reboot(driver, UUID_A, VIRT_REBOOT_SOFT,
                                 &performed));
    assert_int_equal(performed, VIRT_REBOOT_HARD);
    assert_int_equal(power_state(driver, UUID_A), VIRT_POWER_RUNNING);

    /* A hard reboot of a suspended instance starts it afresh. */
    assert_ok(virt_driver_suspend(driver, UUID_A));
    assert_ok(virt_driver_reboot(driver, UUID_A, VIRT_REBOOT_HARD, NULL));
    assert_int_equal(power_state(driver, UUID_A), VIRT_POWER_RUNNING);
    assert_false(has_saved_image(driver, UUID_A));

    /* So does one of a stopped instance. */
    assert_ok(virt_driver_power_off(driver, UUID_A, 0));
    assert_ok(virt_driver_reboot(driver, UUID_A, VIRT_REBOOT_SOFT,
                                 &performed));
    assert_int_equal(performed, VIRT_REBOOT_HARD);
    assert_int_equal(power_state(driver, UUID_A), VIRT_POWER_RUNNING);

    assert_error(virt_driver_reboot(driver, UUID_A, (enum virt_reboot_type) 7,
                                    NULL),
                 ERROR_INVALID, "Invalid reboot type 7");
    remove_tree(dir.path);
}

/* A driver whose soft reboot timeout is 0 never waits for the guest. */
static void
test_soft_reboot_without_timeout_is_hard(void **state)
{
    struct test_dir dir;
    AUTOFREE char *uri = NULL;
    struct virt_instance_spec spec = test_spec(UUID_A, "instance-00000001");
    enum virt_reboot_type performed = VIRT_REBOOT_SOFT;
    struct virt_driver *driver;
    CLEANUP(virt_sim_hosts_freep) struct virt_sim_hosts *hosts = NULL;

    (void) state;
    test_dir_create(&dir);
    hosts = open_sim_host(&dir);       /* Writes the node file. */
    uri = xasprintf("test://%s/unit-0001.xml", dir.path);
    driver = open_driver(uri, 0);
    assert_ok(virt_driver_spawn(driver, &spec));
    assert_ok(virt_driver_reboot(driver, UUID_A, VIRT_REBOOT_SOFT,
                                 &performed));
    assert_int_equal(performed, VIRT_REBOOT_HARD);
    assert_int_equal(power_state(driver, UUID_A), VIRT_POWER_RUNNING);
    virt_driver_free(driver);
    remove_tree(dir.path);
}

static void
test_power_off_on(void **state)
{
    struct test_dir dir;
    CLEANUP(virt_sim_hosts_freep) struct virt_sim_hosts *hosts = NULL;
    CLEANUP(virt_instance_list_freep) struct virt_instance_list *list = NULL;
    struct virt_instance_spec spec = test_spec(UUID_A, "instance-00000001");
    struct virt_driver *driver;

    (void) state;
    test_dir_create(&dir);
    hosts = open_sim_host(&dir);
    driver = virt_sim_hosts_driver(hosts, 0);
    assert_ok(virt_driver_spawn(driver, &spec));

    /* Clean shutdown (the test driver's guest answers at once). */
    assert_ok(virt_driver_power_off(driver, UUID_A,
                                    VIRT_SHUTDOWN_TIMEOUT_MS));
    assert_int_equal(power_state(driver, UUID_A), VIRT_POWER_SHUTDOWN);
    assert_ok(virt_driver_power_off(driver, UUID_A,
                                    VIRT_SHUTDOWN_TIMEOUT_MS));
    assert_int_equal(power_state(driver, UUID_A), VIRT_POWER_SHUTDOWN);

    /* Still defined while off. */
    assert_ok(virt_driver_list_instances(driver, &list));
    assert_non_null(find_entry(list, UUID_A));
    assert_int_equal(find_entry(list, UUID_A)->power_state,
                     VIRT_POWER_SHUTDOWN);

    assert_ok(virt_driver_power_on(driver, UUID_A));
    assert_int_equal(power_state(driver, UUID_A), VIRT_POWER_RUNNING);
    assert_ok(virt_driver_power_on(driver, UUID_A));
    assert_int_equal(power_state(driver, UUID_A), VIRT_POWER_RUNNING);

    /* Timeout 0: destroyed without asking; a paused one likewise. */
    assert_ok(virt_driver_power_off(driver, UUID_A, 0));
    assert_int_equal(power_state(driver, UUID_A), VIRT_POWER_SHUTDOWN);
    assert_ok(virt_driver_power_on(driver, UUID_A));
    assert_ok(virt_driver_pause(driver, UUID_A));
    assert_ok(virt_driver_power_off(driver, UUID_A,
                                    VIRT_SHUTDOWN_TIMEOUT_MS));
    assert_int_equal(power_state(driver, UUID_A), VIRT_POWER_SHUTDOWN);
    remove_tree(dir.path);
}

/* Every operation on an instance that does not exist is ERROR_NOT_FOUND
 * with libvirt's message; a malformed uuid is ERROR_INVALID. */
static void
test_missing_and_invalid_instances(void **state)
{
    enum op {
        OP_GET_INFO, OP_PAUSE, OP_UNPAUSE, OP_SUSPEND, OP_RESUME,
        OP_REBOOT_SOFT, OP_REBOOT_HARD, OP_POWER_OFF, OP_POWER_ON,
        OP_CONSOLE, N_OPS
    };
    static const char *const verbs[N_OPS] = {
        [OP_GET_INFO] = "get the state of",
        [OP_PAUSE] = "pause",
        [OP_UNPAUSE] = "unpause",
        [OP_SUSPEND] = "suspend",
        [OP_RESUME] = "resume",
        [OP_REBOOT_SOFT] = "reboot",
        [OP_REBOOT_HARD] = "reboot",
        [OP_POWER_OFF] = "power off",
        [OP_POWER_ON] = "power on",
        [OP_CONSOLE] = "get the console output of",
    };
    static const struct {
        const char *uuid;
        enum error_kind kind;
    } rows[] = {
        { UUID_MISSING, ERROR_NOT_FOUND },
        { "not-a-uuid", ERROR_INVALID },
        { "", ERROR_INVALID },
        { NULL, ERROR_INVALID },
    };
    struct test_dir dir;
    CLEANUP(virt_sim_hosts_freep) struct virt_sim_hosts *hosts = NULL;
    struct virt_driver *driver;

    (void) state;
    test_dir_create(&dir);
    hosts = open_sim_host(&dir);
    driver = virt_sim_hosts_driver(hosts, 0);

    for (size_t r = 0; r < ARRAY_SIZE(rows); r++) {
        const char *uuid = rows[r].uuid;

        for (int op = 0; op < N_OPS; op++) {
            struct virt_instance_info info;
            AUTOFREE char *output = NULL;
            AUTOFREE char *expected = NULL;
            struct error *error = NULL;
            size_t size;

            switch ((enum op) op) {
            case OP_GET_INFO:
                error = virt_driver_get_info(driver, uuid, &info);
                break;
            case OP_PAUSE:
                error = virt_driver_pause(driver, uuid);
                break;
            case OP_UNPAUSE:
                error = virt_driver_unpause(driver, uuid);
                break;
            case OP_SUSPEND:
                error = virt_driver_suspend(driver, uuid);
                break;
            case OP_RESUME:
                error = virt_driver_resume(driver, uuid);
                break;
            case OP_REBOOT_SOFT:
                error = virt_driver_reboot(driver, uuid, VIRT_REBOOT_SOFT,
                                           NULL);
                break;
            case OP_REBOOT_HARD:
                error = virt_driver_reboot(driver, uuid, VIRT_REBOOT_HARD,
                                           NULL);
                break;
            case OP_POWER_OFF:
                error = virt_driver_power_off(driver, uuid, 0);
                break;
            case OP_POWER_ON:
                error = virt_driver_power_on(driver, uuid);
                break;
            case OP_CONSOLE:
                error = virt_driver_get_console_output(driver, uuid, 1024,
                                                       &output, &size);
                break;
            case N_OPS:
                break;
            }
            if (rows[r].kind == ERROR_NOT_FOUND) {
                expected = xasprintf("Cannot %s instance '%s': Domain not "
                                     "found", verbs[op], uuid);
            } else {
                expected = xstrdup("Invalid instance uuid");
            }
            assert_error(error, rows[r].kind, expected);
            assert_null(output);
        }
    }
    /* Destroy of a malformed uuid is refused; of a missing one, fine. */
    assert_error(virt_driver_destroy(driver, "x"), ERROR_INVALID,
                 "Invalid instance uuid 'x'");
    assert_ok(virt_driver_destroy(driver, UUID_MISSING));
    remove_tree(dir.path);
}

static void
write_bytes(const char *path, size_t size)
{
    FILE *f = fopen(path, "we");

    assert_non_null(f);
    for (size_t i = 0; i < size; i++) {
        /* The byte at offset i is the letter i % 26 of the alphabet. */
        assert_int_not_equal(fputc('a' + (int) (i % 26), f), EOF);
    }
    assert_int_equal(fclose(f), 0);
}

static void
test_console_output(void **state)
{
    struct test_dir dir;
    CLEANUP(virt_sim_hosts_freep) struct virt_sim_hosts *hosts = NULL;
    struct virt_instance_spec spec = test_spec(UUID_A, "instance-00000001");
    struct virt_instance_spec no_log = test_spec(UUID_B, "instance-00000002");
    AUTOFREE char *log_path = NULL;
    struct virt_driver *driver;
    static const size_t file_size = 300 * 1024;

    (void) state;
    test_dir_create(&dir);
    hosts = open_sim_host(&dir);
    driver = virt_sim_hosts_driver(hosts, 0);
    /* A path with characters libvirt escapes in its XML. */
    log_path = xasprintf("%s/it's & <console>.log", dir.path);
    spec.serial_log_path = log_path;
    assert_ok(virt_driver_spawn(driver, &spec));
    assert_ok(virt_driver_spawn(driver, &no_log));

    /* Nothing written yet: empty output. */
    {
        AUTOFREE char *output = NULL;
        size_t size = 99;

        assert_ok(virt_driver_get_console_output(driver, UUID_A, 1024,
                                                 &output, &size));
        assert_int_equal(size, 0);
        assert_string_equal(output, "");
    }

    write_bytes(log_path, file_size);
    {
        static const size_t wants[] = { 1, 1024, 100 * 1024 };

        for (size_t i = 0; i < ARRAY_SIZE(wants); i++) {
            AUTOFREE char *output = NULL;
            size_t size = 0;

            assert_ok(virt_driver_get_console_output(driver, UUID_A,
                                                     wants[i], &output,
                                                     &size));
            assert_int_equal(size, wants[i]);
            assert_int_equal(strlen(output), size);
            /* The tail: the last byte is that of offset file_size - 1. */
            assert_int_equal(output[size - 1],
                             'a' + (int) ((file_size - 1) % 26));
            assert_int_equal(output[0],
                             'a' + (int) ((file_size - size) % 26));
        }
    }
    /* Asking for more than the cap gets the cap. */
    {
        AUTOFREE char *output = NULL;
        size_t size = 0;

        assert_ok(virt_driver_get_console_output(driver, UUID_A,
                                                 TEST_MAX_FILE_SIZE, &output,
                                                 &size));
        assert_int_equal(size, VIRT_CONSOLE_OUTPUT_MAX_SIZE);
    }
    /* A log shorter than asked comes whole. */
    write_bytes(log_path, 10);
    {
        AUTOFREE char *output = NULL;
        size_t size = 0;

        assert_ok(virt_driver_get_console_output(driver, UUID_A, 1024,
                                                 &output, &size));
        assert_int_equal(size, 10);
        assert_string_equal(output, "abcdefghij");
    }
    {
        AUTOFREE char *output = NULL;
        size_t size = 0;

        assert_error(virt_driver_get_console_output(driver, UUID_B, 1024,
                                                    &output, &size),
                     ERROR_NOT_FOUND,
                     "Instance '" UUID_B "' has no serial console log");
        assert_null(output);
    }
    remove_tree(dir.path);
}

static void
check_inventory(struct virt_driver *driver, unsigned int vcpus_used,
                unsigned long long memory_mb_used,
                unsigned long long local_gb_used, unsigned int n_running)
{
    CLEANUP(virt_inventory_freep) struct virt_inventory *inv = NULL;

    assert_ok(virt_driver_get_available_resource(driver, &inv));
    assert_int_equal(inv->vcpus_used, vcpus_used);
    assert_int_equal(inv->memory_mb_used, memory_mb_used);
    assert_int_equal(inv->local_gb_used, local_gb_used);
    assert_int_equal(inv->n_running, n_running);
}

static void
test_inventory(void **state)
{
    struct test_dir dir;
    struct virt_sim_hosts_config config;
    CLEANUP(virt_sim_hosts_freep) struct virt_sim_hosts *hosts = NULL;
    CLEANUP(virt_inventory_freep) struct virt_inventory *inv = NULL;
    CLEANUP(json_putp) struct json_object *cpu_info = NULL;
    struct virt_instance_spec small = test_spec(UUID_A, "instance-00000001");
    struct virt_instance_spec big = test_spec(UUID_B, "instance-00000002");
    struct json_object *topology, *value;
    struct virt_driver *driver;

    (void) state;
    test_dir_create(&dir);
    virt_sim_hosts_config_init(&config);
    config.state_dir = dir.path;
    config.prefix = "inv";
    config.cpus = 8;
    config.memory_mb = 16384;
    config.local_gb = 200;
    assert_ok(virt_sim_hosts_create(&config, &hosts));
    driver = virt_sim_hosts_driver(hosts, 0);

    assert_ok(virt_driver_get_available_resource(driver, &inv));
    assert_int_equal(inv->vcpus, 8);
    assert_int_equal(inv->vcpus_used, 0);
    assert_int_equal(inv->memory_mb, 16384);
    assert_int_equal(inv->memory_mb_used, 0);
    assert_int_equal(inv->local_gb, 200);
    assert_int_equal(inv->local_gb_used, 0);
    assert_int_equal(inv->n_running, 0);
    assert_string_equal(inv->hypervisor_type, "TEST");
    assert_true(inv->hypervisor_version > 0);
    assert_string_equal(inv->hypervisor_hostname, "inv-0001");
    cpu_info = json_tokener_parse(inv->cpu_info);
    assert_non_null(cpu_info);
    assert_true(json_object_object_get_ex(cpu_info, "arch", &value));
    assert_string_equal(json_object_get_string(value), "x86_64");
    assert_true(json_object_object_get_ex(cpu_info, "topology", &topology));
    assert_true(json_object_object_get_ex(topology, "cores", &value));
    assert_int_equal(json_object_get_int(value), 8);
    virt_inventory_free(TAKE_PTR(inv));

    /* Two instances: 1 + 2 vCPUs, 512 + 1024 MB, and disks of 5 GB and
     * 10 + 5 GB plus 1 GB of swap. */
    small.flavor.memory_mb = 512;
    small.flavor.root_gb = 5;
    big.flavor.vcpus = 2;
    big.flavor.memory_mb = 1024;
    big.flavor.root_gb = 10;
    big.flavor.ephemeral_gb = 5;
    big.flavor.swap_mb = 1024;
    assert_ok(virt_driver_spawn(driver, &small));
    assert_ok(virt_driver_spawn(driver, &big));
    check_inventory(driver, 3, 1536, 21, 2);

    /* A stopped instance holds no memory or vCPUs but keeps its disk. */
    assert_ok(virt_driver_power_off(driver, UUID_B, 0));
    check_inventory(driver, 1, 512, 21, 1);
    /* A destroyed one frees its disk too. */
    assert_ok(virt_driver_destroy(driver, UUID_B));
    check_inventory(driver, 1, 512, 5, 1);
    /* Removed behind the driver's back: not counted either. */
    {
        virDomainPtr dom = virDomainLookupByUUIDString(
            virt_libvirt_connection(driver), UUID_A);

        assert_non_null(dom);
        assert_int_equal(virDomainDestroy(dom), 0);
        assert_int_equal(virDomainUndefine(dom), 0);
        virDomainFree(dom);
    }
    check_inventory(driver, 0, 0, 0, 0);
    remove_tree(dir.path);
}

/* On test:///default (16 CPUs, its own running domain) the numbers grow
 * by the flavor of what is spawned. */
static void
test_inventory_default_host(void **state)
{
    struct virt_driver *driver = open_driver("test:///default", 0);
    CLEANUP(virt_inventory_freep) struct virt_inventory *before = NULL;
    CLEANUP(virt_inventory_freep) struct virt_inventory *after = NULL;
    struct virt_instance_spec spec = test_spec(UUID_A, "instance-00000001");

    (void) state;
    assert_ok(virt_driver_get_available_resource(driver, &before));
    assert_int_equal(before->vcpus, 16);
    assert_int_equal(before->n_running, 1);
    spec.flavor.vcpus = 2;
    spec.flavor.memory_mb = 256;
    assert_ok(virt_driver_spawn(driver, &spec));
    assert_ok(virt_driver_get_available_resource(driver, &after));
    assert_int_equal(after->vcpus_used, before->vcpus_used + 2);
    assert_int_equal(after->memory_mb_used, before->memory_mb_used + 256);
    assert_int_equal(after->local_gb_used, before->local_gb_used + 1);
    assert_int_equal(after->n_running, 2);
    assert_ok(virt_driver_destroy(driver, UUID_A));
    virt_driver_free(driver);
}

/* Power-state sync by events: a domain destroyed outside the driver
 * (through the same connection's libvirt API, as virsh would do through
 * its own) is reported as stopped; pause, suspend and resume are too. */
static void
test_lifecycle_events(void **state)
{
    struct test_dir dir;
    CLEANUP(virt_sim_hosts_freep) struct virt_sim_hosts *hosts = NULL;
    struct virt_instance_spec spec = test_spec(UUID_A, "instance-00000001");
    struct event_log *log = xzalloc(sizeof *log);
    struct virt_driver *driver;
    virDomainPtr dom;

    (void) state;
    test_dir_create(&dir);
    hosts = open_sim_host(&dir);
    driver = virt_sim_hosts_driver(hosts, 0);
    log->driver = driver;
    assert_ok(virt_driver_set_event_callback(driver, record_event, log));

    assert_ok(virt_driver_spawn(driver, &spec));
    assert_true(run_events_until(log, UUID_A, VIRT_EVENT_STARTED));

    dom = virDomainLookupByUUIDString(virt_libvirt_connection(driver),
                                      UUID_A);
    assert_non_null(dom);
    assert_int_equal(virDomainSuspend(dom), 0);
    assert_true(run_events_until(log, UUID_A, VIRT_EVENT_PAUSED));
    assert_int_equal(virDomainResume(dom), 0);
    assert_true(run_events_until(log, UUID_A, VIRT_EVENT_RESUMED));

    assert_false(log_has(log, UUID_A, VIRT_EVENT_STOPPED));
    assert_int_equal(virDomainDestroy(dom), 0);
    assert_true(run_events_until(log, UUID_A, VIRT_EVENT_STOPPED));
    /* What a power-state sync then reads. */
    assert_int_equal(power_state(driver, UUID_A), VIRT_POWER_SHUTDOWN);
    virDomainFree(dom);

    /* Suspend (a managed save) and resume through the driver. */
    assert_ok(virt_driver_power_on(driver, UUID_A));
    assert_ok(virt_driver_suspend(driver, UUID_A));
    assert_true(run_events_until(log, UUID_A, VIRT_EVENT_SUSPENDED));
    log->n_events = 0;
    assert_ok(virt_driver_resume(driver, UUID_A));
    /* QEMU reports a restore as started/restored (RESUMED); the test
     * driver as a plain start. */
    assert_true(run_events_until(log, UUID_A, VIRT_EVENT_STARTED));
    assert_int_equal(log->n_overflow, 0);

    /* Unsubscribed: nothing more arrives. */
    assert_ok(virt_driver_set_event_callback(driver, NULL, NULL));
    drain_events();
    log->n_events = 0;
    assert_ok(virt_driver_power_off(driver, UUID_A, 0));
    drain_events();
    assert_int_equal(log->n_events, 0);

    /* Subscribed again, and freed while subscribed (no leak, no late
     * delivery). */
    assert_ok(virt_driver_set_event_callback(driver, record_event, log));
    assert_ok(virt_driver_power_on(driver, UUID_A));
    virt_sim_hosts_free(TAKE_PTR(hosts));
    log->n_events = 0;
    drain_events();
    assert_int_equal(log->n_events, 0);
    free(log);
    remove_tree(dir.path);
}

static void
test_sim_hosts_are_independent(void **state)
{
    struct test_dir dir;
    struct virt_sim_hosts_config config;
    CLEANUP(virt_sim_hosts_freep) struct virt_sim_hosts *hosts = NULL;
    struct virt_instance_spec spec = test_spec(UUID_A, "instance-00000001");
    AUTOFREE char *state_dir = NULL;
    struct virt_driver *first, *second;

    (void) state;
    test_dir_create(&dir);
    /* A directory name that must be escaped in the test:// URI. */
    state_dir = xasprintf("%s/state dir%%1/nested", dir.path);
    virt_sim_hosts_config_init(&config);
    config.state_dir = state_dir;
    config.prefix = "sim";
    config.n_hosts = 3;
    config.cpus = 4;
    config.memory_mb = 8192;
    config.local_gb = 50;
    assert_ok(virt_sim_hosts_create(&config, &hosts));

    assert_int_equal(virt_sim_hosts_count(hosts), 3);
    assert_string_equal(virt_sim_hosts_name(hosts, 0), "sim-0001");
    assert_string_equal(virt_sim_hosts_name(hosts, 2), "sim-0003");
    assert_null(virt_sim_hosts_name(hosts, 3));
    assert_null(virt_sim_hosts_driver(hosts, 3));
    first = virt_sim_hosts_find(hosts, "sim-0001");
    second = virt_sim_hosts_find(hosts, "sim-0002");
    assert_ptr_equal(first, virt_sim_hosts_driver(hosts, 0));
    assert_ptr_equal(second, virt_sim_hosts_driver(hosts, 1));
    assert_null(virt_sim_hosts_find(hosts, "sim-0004"));
    assert_null(virt_sim_hosts_find(hosts, "sim"));

    spec.flavor.vcpus = 2;
    spec.flavor.memory_mb = 2048;
    spec.flavor.root_gb = 10;
    assert_ok(virt_driver_spawn(first, &spec));
    check_inventory(first, 2, 2048, 10, 1);
    check_inventory(second, 0, 0, 0, 0);
    {
        CLEANUP(virt_instance_list_freep) struct virt_instance_list *list
            = NULL;

        assert_ok(virt_driver_list_instances(second, &list));
        assert_int_equal(list->n_entries, 0);
    }
    assert_error(virt_driver_get_info(second, UUID_A,
                                      &(struct virt_instance_info) { 0 }),
                 ERROR_NOT_FOUND, "Domain not found");

    /* The same instance can exist on another host (an evacuation) without
     * either host noticing. */
    spec.flavor.vcpus = 1;
    assert_ok(virt_driver_spawn(second, &spec));
    check_inventory(first, 2, 2048, 10, 1);
    check_inventory(second, 1, 2048, 10, 1);
    assert_ok(virt_driver_destroy(first, UUID_A));
    check_inventory(first, 0, 0, 0, 0);
    assert_int_equal(power_state(second, UUID_A), VIRT_POWER_RUNNING);

    {
        CLEANUP(virt_inventory_freep) struct virt_inventory *inv = NULL;

        assert_ok(virt_driver_get_available_resource(
                      virt_sim_hosts_driver(hosts, 2), &inv));
        assert_int_equal(inv->vcpus, 4);
        assert_int_equal(inv->memory_mb, 8192);
        assert_int_equal(inv->local_gb, 50);
        assert_string_equal(inv->hypervisor_hostname, "sim-0003");
    }
    remove_tree(dir.path);
}

static void
test_sim_hosts_bad_config(void **state)
{
    static const struct {
        const char *prefix;
        unsigned int n_hosts;
        unsigned int cpus;
        unsigned int memory_mb;
        bool no_dir;
        const char *message;
    } rows[] = {
        { "h", 0, 4, 1024, false, "Cannot simulate 0 hosts" },
        { "h", 10000, 4, 1024, false, "Cannot simulate 10000 hosts" },
        { "", 1, 4, 1024, false, "prefix must have 1 to 48" },
        { NULL, 1, 4, 1024, false, "prefix must have 1 to 48" },
        { "a/b", 1, 4, 1024, false, "may only hold letters" },
        { "a b", 1, 4, 1024, false, "may only hold letters" },
        { "h", 1, 0, 1024, false, "with 0 CPUs" },
        { "h", 1, 4097, 1024, false, "with 4097 CPUs" },
        { "h", 1, 4, 0, false, "need memory and disk" },
        { "h", 1, 4, 1024, true, "No state directory" },
    };
    struct test_dir dir;

    (void) state;
    test_dir_create(&dir);
    for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
        struct virt_sim_hosts_config config;
        struct virt_sim_hosts *hosts = NULL;

        virt_sim_hosts_config_init(&config);
        config.state_dir = rows[i].no_dir ? NULL : dir.path;
        config.prefix = rows[i].prefix;
        config.n_hosts = rows[i].n_hosts;
        config.cpus = rows[i].cpus;
        config.memory_mb = rows[i].memory_mb;
        assert_error(virt_sim_hosts_create(&config, &hosts), ERROR_INVALID,
                     rows[i].message);
        assert_null(hosts);
    }
    {
        /* A state directory that cannot be created. */
        struct virt_sim_hosts_config config;
        struct virt_sim_hosts *hosts = NULL;
        AUTOFREE char *file = xasprintf("%s/file", dir.path);
        AUTOFREE char *below = xasprintf("%s/file/dir", dir.path);

        write_bytes(file, 1);
        virt_sim_hosts_config_init(&config);
        config.state_dir = below;
        config.prefix = "h";
        assert_error(virt_sim_hosts_create(&config, &hosts), ERROR_INTERNAL,
                     "Cannot create the state directory");
        assert_null(hosts);
    }
    remove_tree(dir.path);
}

static void
test_connection_failures(void **state)
{
    struct virt_libvirt_config config;
    struct virt_driver *driver = NULL;

    (void) state;
    virt_libvirt_config_init(&config);
    assert_error(virt_libvirt_new(&config, &driver), ERROR_INVALID,
                 "No libvirt connection URI given");
    config.uri = "test:///nonexistent/node.xml";
    assert_error(virt_libvirt_new(&config, &driver), ERROR_UNAVAILABLE,
                 "Cannot connect to the hypervisor at "
                 "'test:///nonexistent/node.xml': ");
    config.uri = "bogus:///x";
    assert_error(virt_libvirt_new(&config, &driver), ERROR_UNAVAILABLE,
                 "Cannot connect to the hypervisor at 'bogus:///x'");
    assert_null(driver);
    assert_null(virt_libvirt_connection(NULL));
    virt_driver_free(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spawn_list_destroy),
        cmocka_unit_test(test_invalid_spec_is_rejected_before_libvirt),
        cmocka_unit_test(test_golden_specs_accepted_by_test_driver),
        cmocka_unit_test(test_pause_unpause),
        cmocka_unit_test(test_suspend_resume),
        cmocka_unit_test(test_reboot),
        cmocka_unit_test(test_soft_reboot_without_timeout_is_hard),
        cmocka_unit_test(test_power_off_on),
        cmocka_unit_test(test_missing_and_invalid_instances),
        cmocka_unit_test(test_console_output),
        cmocka_unit_test(test_inventory),
        cmocka_unit_test(test_inventory_default_host),
        cmocka_unit_test(test_lifecycle_events),
        cmocka_unit_test(test_sim_hosts_are_independent),
        cmocka_unit_test(test_sim_hosts_bad_config),
        cmocka_unit_test(test_connection_failures),
    };

    return cmocka_run_group_tests_name("virt-libvirt", tests, NULL, NULL);
}
