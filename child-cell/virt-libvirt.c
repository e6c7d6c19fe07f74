/* virt-libvirt.c: the libvirt hypervisor driver (see virt-libvirt.h).
 *
 * Every operation looks its domain up by uuid (the instance uuid), so the
 * driver keeps no per-instance state that could drift from libvirt's, with
 * one exception: the disk usage of simulated hosts, which libvirt does not
 * know (see 'disks' below).
 *
 * Waiting for a guest.  A soft reboot and a clean power off ask the guest
 * to shut down and poll the domain's state until it is off or a timeout
 * passes, as Nova does; the request is repeated every
 * VIRT_LIBVIRT_SHUTDOWN_RETRY_MS.  A soft reboot is a clean shutdown
 * followed by a start, not virDomainReboot(): with the ACPI flag that call
 * returns as soon as the button is pressed, and whether the guest then
 * rebooted cannot be seen by polling.  The request is
 * virDomainShutdownFlags(VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN); a driver that
 * rejects the flag gets virDomainShutdown(), the hypervisor's own graceful
 * method; a driver that supports neither (or a domain that is not running)
 * gets a hard reboot, or a destroy for power off.
 *
 * What libvirt's test driver does (libvirt 9.0), which simulated hosts and
 * the unit tests rely on:
 *   - ShutdownFlags with the ACPI flag fails with VIR_ERR_INVALID_ARG
 *     ("unsupported flags"), so the fallback virDomainShutdown() is used;
 *     it turns the domain off at once, as a guest answering instantly.  A
 *     soft reboot there is therefore shutdown + start, reported as soft.
 *   - virDomainReset() and virDomainReboot() are accepted and leave the
 *     domain running; a hard reboot of a running domain uses Reset.
 *   - virDomainManagedSave() works: the domain is off with a saved image
 *     and virDomainCreate() restores it, so suspend/resume behave as with
 *     QEMU.  virDomainPMSuspendForDuration() is not supported, which is
 *     why suspend is a managed save (as in Nova's libvirt driver anyway).
 *   - Lifecycle events are emitted for define, start, pause, resume, stop
 *     and save, and delivered through the default event loop.
 *   - Undefine accepts MANAGED_SAVE and SNAPSHOTS_METADATA but rejects the
 *     NVRAM flag; destroy retries with fewer flags.
 *   - With a custom node file virNodeGetFreeMemory() fails, so free memory
 *     is never asked for: used memory is the sum of the active domains'.
 *
 * Errors carry libvirt's own message: "Cannot start instance '<uuid>':
 * <libvirt message>".  A missing domain becomes ERROR_NOT_FOUND, an
 * operation invalid in the domain's state ERROR_CONFLICT, a lost
 * connection ERROR_UNAVAILABLE, anything else ERROR_INTERNAL.  libvirt's
 * habit of printing every error to stderr is replaced by a DBG log line.
 *
 * Threads.  libvirt connections are thread-safe, the configuration is
 * read-only after creation, and 'mutex' guards the rest, so operations may
 * run on several worker threads at once.  Lifecycle events arrive on the
 * thread running virt_libvirt_event_run_once().
 *
 * XXX: a connection lost when libvirtd restarts is not reopened yet:
 * operations then fail with ERROR_UNAVAILABLE until the driver is
 * recreated. */
#include <config.h>
#include "child-cell/virt-libvirt.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>
#include <libvirt/virterror.h>

#include "child-cell/virt-domain-xml.h"
#include "child-cell/virt-driver-provider.h"
#include "shared/cleanup.h"
#include "shared/error.h"
#include "shared/log.h"
#include "shared/xalloc.h"

LOG_MODULE("virt.libvirt");

#define KIB_PER_MIB 1024ull
#define BYTES_PER_GIB (1024ull * 1024 * 1024)
#define MB_PER_GB 1024u

/* Undefine flags, most thorough first; a driver that rejects a set gets
 * the next one. */
static const unsigned int virt_libvirt_undefine_flags[] = {
    VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
    | VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
    | VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA
    | VIR_DOMAIN_UNDEFINE_NVRAM,
    VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
    | VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA,
    VIR_DOMAIN_UNDEFINE_MANAGED_SAVE,
    0,
};

/* Where lifecycle events go.  Shared by the driver and libvirt's callback
 * registration, each holding a reference, so that an event being delivered
 * while the driver is freed never touches freed memory. */
struct virt_libvirt_sink {
    pthread_mutex_t mutex;      /* Held while 'cb' runs. */
    unsigned int n_refs;        /* Atomic. */
    struct virt_driver *driver; /* NULL once the driver is going away. */
    virt_event_func *cb;
    void *aux;
};

/* Disk of one instance of a simulated host. */
struct virt_libvirt_disk {
    char uuid[UUID_STRING_SIZE];
    unsigned long long gb;
};

struct virt_libvirt {
    struct virt_driver up;
    virConnectPtr conn;
    char *uri;
    char *hostname;             /* NULL: ask libvirt. */
    char *instances_path;
    unsigned int local_gb;
    unsigned int soft_reboot_timeout_ms;
    unsigned int state_poll_ms;

    pthread_mutex_t mutex;      /* Guards the members below. */
    struct virt_libvirt_sink *sink;
    int event_callback_id;      /* -1: not registered with libvirt. */
    struct virt_libvirt_disk *disks;    /* Only if 'local_gb'. */
    size_t n_disks;
    size_t allocated_disks;
};

static const struct virt_driver_class virt_libvirt_class;

/* --- process-wide set-up ------------------------------------------------ */

static pthread_once_t virt_libvirt_once = PTHREAD_ONCE_INIT;
static int virt_libvirt_once_status;    /* 0, or the failing step. */
static char virt_libvirt_once_message[256];

static void
virt_libvirt_error_handler(void *aux, virErrorPtr err)
{
    (void) aux;
    LOG_DBG("libvirt error %d: %s", err ? err->code : -1,
            err && err->message ? err->message : "(none)");
}

static void
virt_libvirt_once_init(void)
{
    if (virInitialize() < 0) {
        virt_libvirt_once_status = 1;
    } else {
        virSetErrorFunc(NULL, virt_libvirt_error_handler);
        if (virEventRegisterDefaultImpl() < 0) {
            virt_libvirt_once_status = 2;
        }
    }
    if (virt_libvirt_once_status) {
        const char *message = virGetLastErrorMessage();

        snprintf(virt_libvirt_once_message,
                 sizeof virt_libvirt_once_message, "%s", message);
    }
}

struct error *
virt_libvirt_event_loop_init(void)
{
    pthread_once(&virt_libvirt_once, virt_libvirt_once_init);
    if (virt_libvirt_once_status) {
        return error_new(ERROR_INTERNAL,
                         "Cannot set up libvirt's event loop: %s",
                         virt_libvirt_once_message);
    }
    return NULL;
}

int
virt_libvirt_event_run_once(void)
{
    return virEventRunDefaultImpl() < 0 ? -EIO : 0;
}

static void
virt_libvirt_wakeup_cb(int timer, void *aux)
{
    (void) aux;
    virEventRemoveTimeout(timer);
}

void
virt_libvirt_event_wakeup(void)
{
    /* A timer due at once interrupts the loop's poll(); it removes
     * itself when it fires. */
    if (virEventAddTimeout(0, virt_libvirt_wakeup_cb, NULL, NULL) < 0) {
        LOG_DBG("cannot add a wakeup timer to libvirt's event loop: %s",
                virGetLastErrorMessage());
    }
}

/* --- errors ------------------------------------------------------------- */

static enum error_kind
virt_libvirt_error_kind(int code)
{
    switch (code) {
    case VIR_ERR_NO_DOMAIN:
        return ERROR_NOT_FOUND;
    case VIR_ERR_OPERATION_INVALID:
        return ERROR_CONFLICT;
    case VIR_ERR_NO_CONNECT:
    case VIR_ERR_RPC:
    case VIR_ERR_AUTH_FAILED:
    case VIR_ERR_AUTH_UNAVAILABLE:
        return ERROR_UNAVAILABLE;
    default:
        return ERROR_INTERNAL;
    }
}

static struct error * PRINTF_FMT(2, 0)
virt_libvirt_errorv(int kind, const char *fmt, va_list args)
{
    virErrorPtr err = virGetLastError();
    AUTOFREE char *prefix = xvasprintf(fmt, args);

    if (kind < 0) {
        kind = err ? virt_libvirt_error_kind(err->code) : ERROR_INTERNAL;
    }
    return error_new(kind, "%s: %s", prefix,
                     err && err->message ? err->message
                                         : "unknown libvirt error");
}

/* Returns an error "<fmt>: <libvirt's last message>" whose kind follows
 * libvirt's last error code.  Call right after the failing libvirt call, on
 * the same thread (libvirt's last error is per thread). */
static struct error * PRINTF_FMT(1, 2)
virt_libvirt_error(const char *fmt, ...)
{
    struct error *error;
    va_list args;

    va_start(args, fmt);
    error = virt_libvirt_errorv(-1, fmt, args);
    va_end(args);
    return error;
}

/* Same as virt_libvirt_error() with a fixed 'kind'. */
static struct error * PRINTF_FMT(2, 3)
virt_libvirt_error_kinded(enum error_kind kind, const char *fmt, ...)
{
    struct error *error;
    va_list args;

    va_start(args, fmt);
    error = virt_libvirt_errorv((int) kind, fmt, args);
    va_end(args);
    return error;
}

/* True if libvirt's last error says the driver does not support the call
 * or the flags given to it (virCheckFlags() reports VIR_ERR_INVALID_ARG;
 * our calls pass no other argument that could be invalid). */
static bool
virt_libvirt_last_error_is_unsupported(void)
{
    switch (virGetLastErrorCode()) {
    case VIR_ERR_NO_SUPPORT:
    case VIR_ERR_ARGUMENT_UNSUPPORTED:
    case VIR_ERR_OPERATION_UNSUPPORTED:
    case VIR_ERR_INVALID_ARG:
        return true;
    default:
        return false;
    }
}

/* --- helpers ------------------------------------------------------------ */

static struct virt_libvirt *
virt_libvirt_cast(struct virt_driver *driver)
{
    return (struct virt_libvirt *) driver;
}

DEFINE_FREEP(struct _virDomain, virDomainFree)

/* Looks up the domain of 'uuid' for the operation named by 'verb'. */
static struct error *
virt_libvirt_lookup(struct virt_libvirt *lv, const char *uuid,
                    const char *verb, virDomainPtr *ret_dom)
{
    virDomainPtr dom = virDomainLookupByUUIDString(lv->conn, uuid);

    if (!dom) {
        return virt_libvirt_error("Cannot %s instance '%s'", verb, uuid);
    }
    *ret_dom = dom;
    return NULL;
}

static struct error *
virt_libvirt_get_state(virDomainPtr dom, const char *uuid, const char *verb,
                       int *ret_state)
{
    int state, reason;

    if (virDomainGetState(dom, &state, &reason, 0) < 0) {
        return virt_libvirt_error("Cannot %s instance '%s'", verb, uuid);
    }
    *ret_state = state;
    return NULL;
}

static bool
virt_libvirt_has_saved_image(virDomainPtr dom)
{
    return virDomainHasManagedSaveImage(dom, 0) > 0;
}

/* Nova's mapping (nova/virt/libvirt/guest.py, LIBVIRT_POWER_STATE), except
 * that a domain off with a managed save image is SUSPENDED: that is what
 * our suspend leaves, and a power-state sync must tell it from a stopped
 * instance. */
static enum virt_power_state
virt_libvirt_power_state(virDomainPtr dom, int state)
{
    switch (state) {
    case VIR_DOMAIN_RUNNING:
    case VIR_DOMAIN_BLOCKED:
        return VIRT_POWER_RUNNING;
    case VIR_DOMAIN_PAUSED:
        return VIRT_POWER_PAUSED;
    case VIR_DOMAIN_SHUTDOWN:
        return VIRT_POWER_SHUTDOWN;
    case VIR_DOMAIN_SHUTOFF:
        return virt_libvirt_has_saved_image(dom) ? VIRT_POWER_SUSPENDED
                                                 : VIRT_POWER_SHUTDOWN;
    case VIR_DOMAIN_CRASHED:
        return VIRT_POWER_CRASHED;
    case VIR_DOMAIN_PMSUSPENDED:
        return VIRT_POWER_SUSPENDED;
    case VIR_DOMAIN_NOSTATE:
    default:
        return VIRT_POWER_NOSTATE;
    }
}

static long long
virt_libvirt_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
virt_libvirt_sleep_ms(long long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
        continue;
    }
}

/* Asks the guest of 'dom' to shut down: ACPI power button, or the
 * hypervisor's own method if the button flag is not supported.  Returns
 * true if the request was made, false if the hypervisor cannot make it or
 * the domain is not running (the caller then forces). */
static bool
virt_libvirt_request_shutdown(virDomainPtr dom, const char *uuid)
{
    if (!virDomainShutdownFlags(dom, VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN)) {
        return true;
    }
    if (virt_libvirt_last_error_is_unsupported()) {
        LOG_DBG("instance '%s': no ACPI shutdown (%s), asking with the "
                "hypervisor's default method", uuid,
                virGetLastErrorMessage());
        if (!virDomainShutdown(dom)) {
            return true;
        }
    }
    LOG_DBG("instance '%s': cannot ask the guest to shut down: %s", uuid,
            virGetLastErrorMessage());
    return false;
}

/* True if 'dom' is no longer active (or no longer exists). */
static bool
virt_libvirt_is_off(virDomainPtr dom)
{
    return virDomainIsActive(dom) != 1;
}

/* Nova's clean shutdown: asks the guest to shut down and waits up to
 * 'timeout_ms' for the domain to go off, repeating the request every
 * VIRT_LIBVIRT_SHUTDOWN_RETRY_MS.  Returns true if the domain is off. */
static bool
virt_libvirt_clean_shutdown(struct virt_libvirt *lv, virDomainPtr dom,
                            const char *uuid, unsigned int timeout_ms)
{
    long long start = virt_libvirt_now_ms();
    long long deadline = start + timeout_ms;
    long long next_request = start + VIRT_LIBVIRT_SHUTDOWN_RETRY_MS;

    if (!timeout_ms || !virt_libvirt_request_shutdown(dom, uuid)) {
        return false;
    }
    for (;;) {
        long long now;

        if (virt_libvirt_is_off(dom)) {
            return true;
        }
        now = virt_libvirt_now_ms();
        if (now >= deadline) {
            LOG_DBG("instance '%s': guest did not shut down within %u ms",
                    uuid, timeout_ms);
            return false;
        }
        if (now >= next_request) {
            (void) virt_libvirt_request_shutdown(dom, uuid);
            next_request = now + VIRT_LIBVIRT_SHUTDOWN_RETRY_MS;
        }
        virt_libvirt_sleep_ms(deadline - now < lv->state_poll_ms
                              ? deadline - now : lv->state_poll_ms);
    }
}

/* Destroys 'dom' if it is active.  A domain that went off (or away) in
 * the meantime is fine. */
static struct error *
virt_libvirt_force_off(virDomainPtr dom, const char *uuid, const char *verb)
{
    if (virt_libvirt_is_off(dom) || !virDomainDestroy(dom)) {
        return NULL;
    }
    if (virt_libvirt_is_off(dom)) {
        return NULL;
    }
    return virt_libvirt_error("Cannot %s instance '%s'", verb, uuid);
}

/* --- disk accounting of simulated hosts --------------------------------- */

static unsigned long long
virt_libvirt_flavor_disk_gb(const struct virt_flavor *flavor)
{
    return (unsigned long long) flavor->root_gb + flavor->ephemeral_gb
           + (flavor->swap_mb + MB_PER_GB - 1) / MB_PER_GB;
}

/* Must be called with 'lv->mutex' held. */
static struct virt_libvirt_disk *
virt_libvirt_find_disk(struct virt_libvirt *lv, const char *uuid)
{
    for (size_t i = 0; i < lv->n_disks; i++) {
        if (!strcasecmp(lv->disks[i].uuid, uuid)) {
            return &lv->disks[i];
        }
    }
    return NULL;
}

static void
virt_libvirt_add_disk(struct virt_libvirt *lv, const char *uuid,
                      unsigned long long gb)
{
    struct virt_libvirt_disk *disk;

    if (!lv->local_gb) {
        return;
    }
    pthread_mutex_lock(&lv->mutex);
    disk = virt_libvirt_find_disk(lv, uuid);
    if (!disk) {
        if (lv->n_disks == lv->allocated_disks) {
            lv->allocated_disks = lv->allocated_disks
                                  ? 2 * lv->allocated_disks : 16;
            lv->disks = xreallocarray(lv->disks, lv->allocated_disks,
                                      sizeof *lv->disks);
        }
        disk = &lv->disks[lv->n_disks++];
        memcpy(disk->uuid, uuid, UUID_STRING_SIZE);
    }
    disk->gb = gb;
    pthread_mutex_unlock(&lv->mutex);
}

static void
virt_libvirt_remove_disk(struct virt_libvirt *lv, const char *uuid)
{
    struct virt_libvirt_disk *disk;

    if (!lv->local_gb) {
        return;
    }
    pthread_mutex_lock(&lv->mutex);
    disk = virt_libvirt_find_disk(lv, uuid);
    if (disk) {
        *disk = lv->disks[--lv->n_disks];
    }
    pthread_mutex_unlock(&lv->mutex);
}

static unsigned long long
virt_libvirt_disk_gb(struct virt_libvirt *lv, const char *uuid)
{
    struct virt_libvirt_disk *disk;
    unsigned long long gb;

    pthread_mutex_lock(&lv->mutex);
    disk = virt_libvirt_find_disk(lv, uuid);
    gb = disk ? disk->gb : 0;
    pthread_mutex_unlock(&lv->mutex);
    return gb;
}

/* --- events ------------------------------------------------------------- */

static void
virt_libvirt_sink_unref(void *sink_)
{
    struct virt_libvirt_sink *sink = sink_;

    if (sink && __atomic_sub_fetch(&sink->n_refs, 1, __ATOMIC_ACQ_REL) == 0) {
        pthread_mutex_destroy(&sink->mutex);
        free(sink);
    }
}

/* Maps a libvirt lifecycle event to ours; returns false for events that
 * change no power state (defined, undefined, shutdown in progress). */
static bool
virt_libvirt_map_event(int event, int detail, enum virt_event *ret_event)
{
    switch (event) {
    case VIR_DOMAIN_EVENT_STARTED:
        *ret_event = detail == VIR_DOMAIN_EVENT_STARTED_RESTORED
                     ? VIRT_EVENT_RESUMED : VIRT_EVENT_STARTED;
        return true;
    case VIR_DOMAIN_EVENT_SUSPENDED:
        *ret_event = VIRT_EVENT_PAUSED;
        return true;
    case VIR_DOMAIN_EVENT_RESUMED:
        *ret_event = VIRT_EVENT_RESUMED;
        return true;
    case VIR_DOMAIN_EVENT_STOPPED:
        *ret_event = detail == VIR_DOMAIN_EVENT_STOPPED_SAVED
                     ? VIRT_EVENT_SUSPENDED
                     : detail == VIR_DOMAIN_EVENT_STOPPED_CRASHED
                     ? VIRT_EVENT_CRASHED : VIRT_EVENT_STOPPED;
        return true;
    case VIR_DOMAIN_EVENT_CRASHED:
        *ret_event = VIRT_EVENT_CRASHED;
        return true;
    case VIR_DOMAIN_EVENT_PMSUSPENDED:
        *ret_event = VIRT_EVENT_SUSPENDED;
        return true;
    default:
        return false;
    }
}

static int
virt_libvirt_lifecycle_cb(virConnectPtr conn, virDomainPtr dom, int event,
                          int detail, void *sink_)
{
    struct virt_libvirt_sink *sink = sink_;
    char uuid[VIR_UUID_STRING_BUFLEN];
    enum virt_event ev;

    (void) conn;
    if (!virt_libvirt_map_event(event, detail, &ev)
        || virDomainGetUUIDString(dom, uuid) < 0) {
        return 0;
    }
    LOG_DBG("instance '%s': lifecycle event %d/%d: %s", uuid, event, detail,
            virt_event_to_string(ev));
    pthread_mutex_lock(&sink->mutex);
    if (sink->driver && sink->cb) {
        sink->cb(sink->driver, uuid, ev, sink->aux);
    }
    pthread_mutex_unlock(&sink->mutex);
    return 0;
}

static struct error *
virt_libvirt_set_event_callback(struct virt_driver *driver,
                                virt_event_func *cb, void *aux)
{
    struct virt_libvirt *lv = virt_libvirt_cast(driver);
    struct virt_libvirt_sink *sink = lv->sink;
    struct error *error = NULL;

    pthread_mutex_lock(&lv->mutex);
    pthread_mutex_lock(&sink->mutex);
    sink->cb = cb;
    sink->aux = aux;
    pthread_mutex_unlock(&sink->mutex);

    if (cb && lv->event_callback_id < 0) {
        int id;

        __atomic_add_fetch(&sink->n_refs, 1, __ATOMIC_ACQ_REL);
        id = virConnectDomainEventRegisterAny(
            lv->conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
            VIR_DOMAIN_EVENT_CALLBACK(virt_libvirt_lifecycle_cb), sink,
            virt_libvirt_sink_unref);
        if (id < 0) {
            error = virt_libvirt_error("Cannot subscribe to domain events "
                                       "of '%s'", lv->uri);
            /* libvirt does not call the free function of a callback it
             * failed to register. */
            virt_libvirt_sink_unref(sink);
        } else {
            lv->event_callback_id = id;
        }
    } else if (!cb && lv->event_callback_id >= 0) {
        if (virConnectDomainEventDeregisterAny(lv->conn,
                                               lv->event_callback_id) < 0) {
            LOG_DBG("cannot unsubscribe from domain events of '%s': %s, "
                    "ignoring", lv->uri, virGetLastErrorMessage());
        }
        lv->event_callback_id = -1;
    }
    pthread_mutex_unlock(&lv->mutex);
    return error;
}

/* --- the driver's operations -------------------------------------------- */

static void
virt_libvirt_free(struct virt_driver *driver)
{
    struct virt_libvirt *lv = virt_libvirt_cast(driver);

    /* Cut the sink off first: once this returns, a callback running on
     * the event thread has finished and no later one reaches the driver.
     * libvirt drops its reference when the registration goes away. */
    pthread_mutex_lock(&lv->sink->mutex);
    lv->sink->driver = NULL;
    lv->sink->cb = NULL;
    pthread_mutex_unlock(&lv->sink->mutex);
    if (lv->event_callback_id >= 0) {
        (void) virConnectDomainEventDeregisterAny(lv->conn,
                                                  lv->event_callback_id);
    }
    virt_libvirt_sink_unref(lv->sink);
    if (virConnectClose(lv->conn) < 0) {
        LOG_DBG("closing '%s' failed: %s, ignoring", lv->uri,
                virGetLastErrorMessage());
    }
    pthread_mutex_destroy(&lv->mutex);
    free(lv->disks);
    free(lv->uri);
    free(lv->hostname);
    free(lv->instances_path);
    free(lv);
}

static struct error *
virt_libvirt_init_host(struct virt_driver *driver)
{
    struct virt_libvirt *lv = virt_libvirt_cast(driver);
    unsigned long version;
    const char *type;

    if (virConnectIsAlive(lv->conn) != 1
        || virConnectGetVersion(lv->conn, &version) < 0
        || !(type = virConnectGetType(lv->conn))) {
        return virt_libvirt_error_kinded(ERROR_UNAVAILABLE,
                                         "Cannot reach the hypervisor at "
                                         "'%s'", lv->uri);
    }
    LOG_DBG("connected to '%s': hypervisor %s version %lu", lv->uri, type,
            version);
    return NULL;
}

static struct error *
virt_libvirt_spawn(struct virt_driver *driver,
                   const struct virt_instance_spec *spec)
{
    struct virt_libvirt *lv = virt_libvirt_cast(driver);
    CLEANUP(virDomainFreep) virDomainPtr dom = NULL;
    AUTOFREE char *xml = NULL;
    struct error *error = virt_domain_xml_build(spec, &xml);

    if (error) {
        return error_wrap(error, "Cannot spawn instance");
    }
    /* Note that defining a uuid that exists would silently replace that
     * domain's definition, hence the check.  It is not atomic: the compute
     * manager must not run two operations on one instance at a time (Nova
     * holds a per-instance lock). */
    dom = virDomainLookupByUUIDString(lv->conn, spec->uuid);
    if (dom) {
        return error_new(ERROR_CONFLICT,
                         "Cannot spawn instance '%s': it already exists on "
                         "host '%s'", spec->uuid, lv->hostname ? lv->hostname
                                                               : lv->uri);
    }
    dom = virDomainDefineXML(lv->conn, xml);
    if (!dom) {
        return virt_libvirt_error("Cannot define instance '%s'", spec->uuid);
    }
    if (virDomainCreate(dom) < 0) {
        error = virt_libvirt_error("Cannot start instance '%s'", spec->uuid);
        if (virDomainUndefineFlags(dom, VIR_DOMAIN_UNDEFINE_MANAGED_SAVE)
            < 0) {
            LOG_DBG("instance '%s': undefining after a failed start "
                    "failed: %s", spec->uuid, virGetLastErrorMessage());
        }
        return error;
    }
    virt_libvirt_add_disk(lv, spec->uuid,
                          virt_libvirt_flavor_disk_gb(&spec->flavor));
    LOG_DBG("instance '%s' ('%s') spawned on '%s'", spec->uuid, spec->name,
            lv->uri);
    return NULL;
}

static struct error *
virt_libvirt_undefine(virDomainPtr dom, const char *uuid)
{
    if (virDomainIsPersistent(dom) != 1) {
        return NULL;            /* Transient: gone once destroyed. */
    }
    for (size_t i = 0; i < ARRAY_SIZE(virt_libvirt_undefine_flags); i++) {
        if (!virDomainUndefineFlags(dom, virt_libvirt_undefine_flags[i])) {
            return NULL;
        }
        if (!virt_libvirt_last_error_is_unsupported()) {
            break;
        }
    }
    if (virGetLastErrorCode() == VIR_ERR_NO_DOMAIN) {
        return NULL;
    }
    return virt_libvirt_error("Cannot undefine instance '%s'", uuid);
}

static struct error *
virt_libvirt_destroy(struct virt_driver *driver, const char *uuid)
{
    struct virt_libvirt *lv = virt_libvirt_cast(driver);
    CLEANUP(virDomainFreep) virDomainPtr dom = NULL;
    struct error *error = virt_libvirt_lookup(lv, uuid, "destroy", &dom);

    if (error) {
        if (error_kind(error) == ERROR_NOT_FOUND) {
            LOG_DBG("instance '%s' to destroy does not exist", uuid);
            error_free(error);
            virt_libvirt_remove_disk(lv, uuid);
            return NULL;
        }
        return error;
    }
    if ((error = virt_libvirt_force_off(dom, uuid, "destroy"))
        || (error = virt_libvirt_undefine(dom, uuid))) {
        return error;
    }
    virt_libvirt_remove_disk(lv, uuid);
    return NULL;
}

/* Hard reboot: a running domain is reset; any other is destroyed (if
 * active), stripped of saved state and started afresh. */
static struct error *
virt_libvirt_hard_reboot(virDomainPtr dom, const char *uuid)
{
    struct error *error;
    int state = VIR_DOMAIN_NOSTATE;

    if ((error = virt_libvirt_get_state(dom, uuid, "reboot", &state))) {
        return error;
    }
    if (state == VIR_DOMAIN_RUNNING) {
        if (!virDomainReset(dom, 0)) {
            return NULL;
        }
        if (!virt_libvirt_last_error_is_unsupported()) {
            return virt_libvirt_error("Cannot reboot instance '%s'", uuid);
        }
        LOG_DBG("instance '%s': no reset (%s), destroying and starting",
                uuid, virGetLastErrorMessage());
    }
    if ((error = virt_libvirt_force_off(dom, uuid, "reboot"))) {
        return error;
    }
    if (virt_libvirt_has_saved_image(dom)
        && virDomainManagedSaveRemove(dom, 0) < 0) {
        return virt_libvirt_error("Cannot discard the saved state of "
                                  "instance '%s'", uuid);
    }
    if (virDomainCreate(dom) < 0) {
        return virt_libvirt_error("Cannot start instance '%s'", uuid);
    }
    return NULL;
}

static struct error *
virt_libvirt_reboot(struct virt_driver *driver, const char *uuid,
                    enum virt_reboot_type type,
                    enum virt_reboot_type *ret_performed)
{
    struct virt_libvirt *lv = virt_libvirt_cast(driver);
    CLEANUP(virDomainFreep) virDomainPtr dom = NULL;
    struct error *error = virt_libvirt_lookup(lv, uuid, "reboot", &dom);
    int state = VIR_DOMAIN_NOSTATE;

    if (error) {
        return error;
    }
    if (type == VIRT_REBOOT_SOFT) {
        if ((error = virt_libvirt_get_state(dom, uuid, "reboot", &state))) {
            return error;
        }
        if (state == VIR_DOMAIN_RUNNING
            && virt_libvirt_clean_shutdown(lv, dom, uuid,
                                           lv->soft_reboot_timeout_ms)) {
            if (virDomainCreate(dom) < 0) {
                return virt_libvirt_error("Cannot start instance '%s' "
                                          "after its shutdown", uuid);
            }
            if (ret_performed) {
                *ret_performed = VIRT_REBOOT_SOFT;
            }
            return NULL;
        }
        LOG_DBG("instance '%s': soft reboot not possible, doing a hard "
                "reboot", uuid);
    }
    if ((error = virt_libvirt_hard_reboot(dom, uuid))) {
        return error;
    }
    if (ret_performed) {
        *ret_performed = VIRT_REBOOT_HARD;
    }
    return NULL;
}

static struct error *
virt_libvirt_power_off(struct virt_driver *driver, const char *uuid,
                       unsigned int timeout_ms)
{
    struct virt_libvirt *lv = virt_libvirt_cast(driver);
    CLEANUP(virDomainFreep) virDomainPtr dom = NULL;
    struct error *error = virt_libvirt_lookup(lv, uuid, "power off", &dom);
    int state = VIR_DOMAIN_NOSTATE;

    if (error
        || (error = virt_libvirt_get_state(dom, uuid, "power off", &state))) {
        return error;
    }
    /* A paused guest cannot answer a shutdown request. */
    if (state == VIR_DOMAIN_RUNNING
        && virt_libvirt_clean_shutdown(lv, dom, uuid, timeout_ms)) {
        return NULL;
    }
    return virt_libvirt_force_off(dom, uuid, "power off");
}

static struct error *
virt_libvirt_power_on(struct virt_driver *driver, const char *uuid)
{
    struct virt_libvirt *lv = virt_libvirt_cast(driver);
    CLEANUP(virDomainFreep) virDomainPtr dom = NULL;
    struct error *error = virt_libvirt_lookup(lv, uuid, "power on", &dom);

    if (error) {
        return error;
    }
    if (!virt_libvirt_is_off(dom)) {
        return NULL;
    }
    if (virDomainCreate(dom) < 0) {
        return virt_libvirt_error("Cannot power on instance '%s'", uuid);
    }
    return NULL;
}

/* Looks the domain up for 'verb' and checks that its state is one of
 * 'states' (terminated by -1); otherwise ERROR_CONFLICT saying it is not
 * 'wanted'. */
static struct error *
virt_libvirt_lookup_in_state(struct virt_libvirt *lv, const char *uuid,
                             const char *verb, const int *states,
                             const char *wanted, virDomainPtr *ret_dom)
{
    CLEANUP(virDomainFreep) virDomainPtr dom = NULL;
    struct error *error = virt_libvirt_lookup(lv, uuid, verb, &dom);
    int state = VIR_DOMAIN_NOSTATE;

    if (error || (error = virt_libvirt_get_state(dom, uuid, verb, &state))) {
        return error;
    }
    for (const int *s = states; *s >= 0; s++) {
        if (*s == state) {
            *ret_dom = TAKE_PTR(dom);
            return NULL;
        }
    }
    return error_new(ERROR_CONFLICT, "Cannot %s instance '%s': it is not %s",
                     verb, uuid, wanted);
}

static struct error *
virt_libvirt_pause(struct virt_driver *driver, const char *uuid)
{
    static const int states[] = { VIR_DOMAIN_RUNNING, -1 };
    struct virt_libvirt *lv = virt_libvirt_cast(driver);
    CLEANUP(virDomainFreep) virDomainPtr dom = NULL;
    struct error *error = virt_libvirt_lookup_in_state(lv, uuid, "pause",
                                                       states, "running",
                                                       &dom);

    if (!error && virDomainSuspend(dom) < 0) {
        error = virt_libvirt_error("Cannot pause instance '%s'", uuid);
    }
    return error;
}

static struct error *
virt_libvirt_unpause(struct virt_driver *driver, const char *uuid)
{
    static const int states[] = { VIR_DOMAIN_PAUSED, -1 };
    struct virt_libvirt *lv = virt_libvirt_cast(driver);
    CLEANUP(virDomainFreep) virDomainPtr dom = NULL;
    struct error *error = virt_libvirt_lookup_in_state(lv, uuid, "unpause",
                                                       states, "paused",
                                                       &dom);

    if (!error && virDomainResume(dom) < 0) {
        error = virt_libvirt_error("Cannot unpause instance '%s'", uuid);
    }
    return error;
}

static struct error *
virt_libvirt_suspend(struct virt_driver *driver, const char *uuid)
{
    static const int states[] = { VIR_DOMAIN_RUNNING, VIR_DOMAIN_PAUSED,
                                  -1 };
    struct virt_libvirt *lv = virt_libvirt_cast(driver);
    CLEANUP(virDomainFreep) virDomainPtr dom = NULL;
    struct error *error = virt_libvirt_lookup_in_state(
        lv, uuid, "suspend", states, "running or paused", &dom);

    if (!error && virDomainManagedSave(dom, 0) < 0) {
        error = virt_libvirt_error("Cannot suspend instance '%s'", uuid);
    }
    return error;
}

static struct error *
virt_libvirt_resume(struct virt_driver *driver, const char *uuid)
{
    static const int states[] = { VIR_DOMAIN_SHUTOFF, -1 };
    struct virt_libvirt *lv = virt_libvirt_cast(driver);
    CLEANUP(virDomainFreep) virDomainPtr dom = NULL;
    struct error *error = virt_libvirt_lookup_in_state(lv, uuid, "resume",
                                                       states, "suspended",
                                                       &dom);

    if (error) {
        return error;
    }
    if (!virt_libvirt_has_saved_image(dom)) {
        return error_new(ERROR_CONFLICT,
                         "Cannot resume instance '%s': it is not suspended",
                         uuid);
    }
    if (virDomainCreate(dom) < 0) {
        return virt_libvirt_error("Cannot resume instance '%s'", uuid);
    }
    return NULL;
}

static struct error *
virt_libvirt_get_info(struct virt_driver *driver, const char *uuid,
                      struct virt_instance_info *ret_info)
{
    struct virt_libvirt *lv = virt_libvirt_cast(driver);
    CLEANUP(virDomainFreep) virDomainPtr dom = NULL;
    struct error *error = virt_libvirt_lookup(lv, uuid, "get the state of",
                                              &dom);
    virDomainInfo info;

    if (error) {
        return error;
    }
    if (virDomainGetInfo(dom, &info) < 0) {
        return virt_libvirt_error("Cannot get the state of instance '%s'",
                                  uuid);
    }
    ret_info->power_state = virt_libvirt_power_state(dom, info.state);
    ret_info->max_memory_kb = info.maxMem;
    ret_info->memory_kb = info.memory;
    ret_info->n_vcpus = info.nrVirtCpu;
    ret_info->cpu_time_ns = info.cpuTime;
    return NULL;
}

/* Frees the array of domains returned by virConnectListAllDomains(). */
struct virt_libvirt_domains {
    virDomainPtr *doms;
    int n;
};

static void
virt_libvirt_domains_clear(struct virt_libvirt_domains *domains)
{
    for (int i = 0; i < domains->n; i++) {
        virDomainFree(domains->doms[i]);
    }
    free(domains->doms);
}

static struct error *
virt_libvirt_list_instances(struct virt_driver *driver,
                            struct virt_instance_list **ret_list)
{
    struct virt_libvirt *lv = virt_libvirt_cast(driver);
    CLEANUP(virt_libvirt_domains_clear) struct virt_libvirt_domains domains
        = { NULL, 0 };
    CLEANUP(virt_instance_list_freep) struct virt_instance_list *list = NULL;

    domains.n = virConnectListAllDomains(lv->conn, &domains.doms, 0);
    if (domains.n < 0) {
        domains.n = 0;
        return virt_libvirt_error("Cannot list the instances of '%s'",
                                  lv->uri);
    }
    list = xzalloc(sizeof *list);
    list->entries = xcalloc(domains.n, sizeof *list->entries);
    for (int i = 0; i < domains.n; i++) {
        struct virt_instance_entry *entry = &list->entries[list->n_entries];
        virDomainPtr dom = domains.doms[i];
        const char *name;
        int state, reason;

        /* A domain removed since the listing is skipped. */
        if (virDomainGetUUIDString(dom, entry->uuid) < 0
            || !(name = virDomainGetName(dom))
            || virDomainGetState(dom, &state, &reason, 0) < 0) {
            continue;
        }
        entry->name = xstrdup(name);
        entry->power_state = virt_libvirt_power_state(dom, state);
        list->n_entries++;
    }
    *ret_list = TAKE_PTR(list);
    return NULL;
}

/* Replaces the five entities libvirt writes into an attribute value.
 * Takes ownership of 's' and returns the unescaped string. */
static char *
virt_libvirt_unescape(char *s)
{
    static const struct {
        const char *entity;
        char c;
    } entities[] = {
        { "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' },
        { "&apos;", '\'' }, { "&quot;", '"' },
    };
    char *out = s;

    for (const char *in = s; *in;) {
        size_t i;

        for (i = 0; i < ARRAY_SIZE(entities); i++) {
            size_t length = strlen(entities[i].entity);

            if (!strncmp(in, entities[i].entity, length)) {
                *out++ = entities[i].c;
                in += length;
                break;
            }
        }
        if (i == ARRAY_SIZE(entities)) {
            *out++ = *in++;
        }
    }
    *out = '\0';
    return s;
}

/* Finds the serial console log file in the domain XML 'xml' as libvirt
 * formats it (<serial ...> holding <log file='...'/>, attribute values in
 * single quotes with entities).  Returns the path (owned by the caller) or
 * NULL if the first serial port has no log. */
static char *
virt_libvirt_serial_log_path(const char *xml)
{
    static const char log_prefix[] = "<log file='";
    const char *serial = strstr(xml, "<serial ");
    const char *serial_end, *log, *end;

    if (!serial || !(serial_end = strstr(serial, "</serial>"))) {
        return NULL;
    }
    log = strstr(serial, log_prefix);
    if (!log || log > serial_end) {
        return NULL;
    }
    log += sizeof log_prefix - 1;
    end = strchr(log, '\'');
    if (!end || end > serial_end) {
        return NULL;
    }
    return virt_libvirt_unescape(xstrndup(log, end - log));
}

/* Reads the last 'max_size' bytes of the regular file 'path'.  A missing
 * file reads as empty.  Returns 0 or -errno. */
static int
virt_libvirt_read_tail(const char *path, size_t max_size, char **ret_data,
                       size_t *ret_size)
{
    AUTOFREE char *data = NULL;
    size_t size = 0, want;
    struct stat st;
    off_t offset;
    int fd, r = 0;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        if (errno != ENOENT) {
            return -errno;
        }
        *ret_data = xstrdup("");
        *ret_size = 0;
        return 0;
    }
    if (fstat(fd, &st) < 0) {
        r = -errno;
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        r = -EINVAL;
        goto out;
    }
    want = (unsigned long long) st.st_size > max_size ? max_size
                                                      : (size_t) st.st_size;
    offset = st.st_size - (off_t) want;
    data = xmalloc(want + 1);
    while (size < want) {
        ssize_t n = pread(fd, data + size, want - size, offset + size);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            r = -errno;
            goto out;
        }
        if (n == 0) {
            break;              /* Truncated meanwhile. */
        }
        size += n;
    }
    data[size] = '\0';
    *ret_data = TAKE_PTR(data);
    *ret_size = size;
out:
    close(fd);
    return r;
}

static struct error *
virt_libvirt_get_console_output(struct virt_driver *driver,
                                const char *uuid, size_t max_size,
                                char **ret_output, size_t *ret_size)
{
    struct virt_libvirt *lv = virt_libvirt_cast(driver);
    CLEANUP(virDomainFreep) virDomainPtr dom = NULL;
    AUTOFREE char *xml = NULL;
    AUTOFREE char *path = NULL;
    struct error *error = virt_libvirt_lookup(lv, uuid,
                                              "get the console output of",
                                              &dom);
    int r;

    if (error) {
        return error;
    }
    xml = virDomainGetXMLDesc(dom, 0);
    if (!xml) {
        return virt_libvirt_error("Cannot get the console output of "
                                  "instance '%s'", uuid);
    }
    path = virt_libvirt_serial_log_path(xml);
    if (!path) {
        return error_new(ERROR_NOT_FOUND,
                         "Instance '%s' has no serial console log", uuid);
    }
    r = virt_libvirt_read_tail(path, max_size, ret_output, ret_size);
    if (r < 0) {
        LOG_DBG("instance '%s': reading '%s': %s", uuid, path, strerror(-r));
        return error_from_errno(r, ERROR_INTERNAL,
                                "Cannot read the console log of instance "
                                "'%s'", uuid);
    }
    return NULL;
}

static char *
virt_libvirt_cpu_info(const virNodeInfo *node)
{
    struct json_object *info = json_object_new_object();
    struct json_object *topology = json_object_new_object();
    char *text;

    /* XXX: Nova also reports the CPU model, vendor and features from the
     * host capabilities. */
    json_object_object_add(info, "arch", json_object_new_string(node->model));
    json_object_object_add(topology, "cells",
                           json_object_new_int64(node->nodes));
    json_object_object_add(topology, "sockets",
                           json_object_new_int64(node->sockets));
    json_object_object_add(topology, "cores",
                           json_object_new_int64(node->cores));
    json_object_object_add(topology, "threads",
                           json_object_new_int64(node->threads));
    json_object_object_add(info, "topology", topology);
    json_object_object_add(info, "mhz", json_object_new_int64(node->mhz));
    json_object_object_add(info, "features", json_object_new_array());
    text = xstrdup(json_object_to_json_string_ext(info,
                                                  JSON_C_TO_STRING_PLAIN));
    json_object_put(info);
    return text;
}

/* Fills the disk part of 'inv' from the instances path's file system. */
static struct error *
virt_libvirt_disk_from_fs(struct virt_libvirt *lv, struct virt_inventory *inv)
{
    struct statvfs fs;

    if (statvfs(lv->instances_path, &fs) < 0) {
        return error_from_errno(-errno, ERROR_INTERNAL,
                                "Cannot read the disk space of '%s'",
                                lv->instances_path);
    }
    inv->local_gb = (unsigned long long) fs.f_blocks * fs.f_frsize
                    / BYTES_PER_GIB;
    inv->local_gb_used = (unsigned long long) (fs.f_blocks - fs.f_bfree)
                         * fs.f_frsize / BYTES_PER_GIB;
    return NULL;
}

static struct error *
virt_libvirt_get_available_resource(struct virt_driver *driver,
                                    struct virt_inventory **ret_inventory)
{
    struct virt_libvirt *lv = virt_libvirt_cast(driver);
    CLEANUP(virt_libvirt_domains_clear) struct virt_libvirt_domains domains
        = { NULL, 0 };
    CLEANUP(virt_inventory_freep) struct virt_inventory *inv = NULL;
    unsigned long long memory_kb_used = 0;
    unsigned long version;
    virNodeInfo node;
    const char *type;
    struct error *error;

    if (virNodeGetInfo(lv->conn, &node) < 0
        || virConnectGetVersion(lv->conn, &version) < 0
        || !(type = virConnectGetType(lv->conn))) {
        return virt_libvirt_error("Cannot get the resources of '%s'",
                                  lv->uri);
    }
    domains.n = virConnectListAllDomains(lv->conn, &domains.doms, 0);
    if (domains.n < 0) {
        domains.n = 0;
        return virt_libvirt_error("Cannot list the instances of '%s'",
                                  lv->uri);
    }

    inv = xzalloc(sizeof *inv);
    inv->vcpus = node.cpus;
    inv->memory_mb = node.memory / KIB_PER_MIB;
    for (int i = 0; i < domains.n; i++) {
        virDomainPtr dom = domains.doms[i];
        char uuid[VIR_UUID_STRING_BUFLEN];
        virDomainInfo info;

        if (lv->local_gb && !virDomainGetUUIDString(dom, uuid)) {
            inv->local_gb_used += virt_libvirt_disk_gb(lv, uuid);
        }
        /* What the hypervisor holds: active domains' memory and vCPUs. */
        if (virDomainIsActive(dom) == 1 && !virDomainGetInfo(dom, &info)) {
            memory_kb_used += info.memory;
            inv->vcpus_used += info.nrVirtCpu;
            inv->n_running++;
        }
    }
    inv->memory_mb_used = (memory_kb_used + KIB_PER_MIB - 1) / KIB_PER_MIB;
    if (lv->local_gb) {
        inv->local_gb = lv->local_gb;
    } else if ((error = virt_libvirt_disk_from_fs(lv, inv))) {
        return error;
    }

    inv->hypervisor_type = xstrdup(type);
    inv->hypervisor_version = version;
    if (lv->hostname) {
        inv->hypervisor_hostname = xstrdup(lv->hostname);
    } else {
        char *hostname = virConnectGetHostname(lv->conn);

        if (!hostname) {
            return virt_libvirt_error("Cannot get the host name of '%s'",
                                      lv->uri);
        }
        inv->hypervisor_hostname = xstrdup(hostname);
        free(hostname);
    }
    inv->cpu_info = virt_libvirt_cpu_info(&node);
    *ret_inventory = TAKE_PTR(inv);
    return NULL;
}

static const struct virt_driver_class virt_libvirt_class = {
    .name = "libvirt",
    .free = virt_libvirt_free,
    .init_host = virt_libvirt_init_host,
    .spawn = virt_libvirt_spawn,
    .destroy = virt_libvirt_destroy,
    .reboot = virt_libvirt_reboot,
    .power_off = virt_libvirt_power_off,
    .power_on = virt_libvirt_power_on,
    .pause = virt_libvirt_pause,
    .unpause = virt_libvirt_unpause,
    .suspend = virt_libvirt_suspend,
    .resume = virt_libvirt_resume,
    .get_info = virt_libvirt_get_info,
    .list_instances = virt_libvirt_list_instances,
    .get_console_output = virt_libvirt_get_console_output,
    .get_available_resource = virt_libvirt_get_available_resource,
    .set_event_callback = virt_libvirt_set_event_callback,
};

/* --- creation ----------------------------------------------------------- */

void
virt_libvirt_config_init(struct virt_libvirt_config *config)
{
    memset(config, 0, sizeof *config);
    config->soft_reboot_timeout_ms = VIRT_LIBVIRT_SOFT_REBOOT_TIMEOUT_MS;
    config->state_poll_ms = VIRT_LIBVIRT_STATE_POLL_MS;
}

struct error *
virt_libvirt_new(const struct virt_libvirt_config *config,
                 struct virt_driver **ret_driver)
{
    struct virt_libvirt *lv;
    struct error *error;
    virConnectPtr conn;

    if (!config->uri || !*config->uri) {
        return error_new(ERROR_INVALID, "No libvirt connection URI given");
    }
    if ((error = virt_libvirt_event_loop_init())) {
        return error;
    }
    conn = virConnectOpen(config->uri);
    if (!conn) {
        /* Whatever libvirt's code, the host is out of reach. */
        return virt_libvirt_error_kinded(ERROR_UNAVAILABLE,
                                         "Cannot connect to the hypervisor "
                                         "at '%s'", config->uri);
    }

    lv = xzalloc(sizeof *lv);
    lv->up.class = &virt_libvirt_class;
    lv->conn = conn;
    lv->uri = xstrdup(config->uri);
    lv->hostname = xstrdup_or_null(config->hostname);
    lv->instances_path = xstrdup(config->instances_path
                                 ? config->instances_path
                                 : VIRT_LIBVIRT_INSTANCES_PATH);
    lv->local_gb = config->local_gb;
    lv->soft_reboot_timeout_ms = config->soft_reboot_timeout_ms;
    lv->state_poll_ms = config->state_poll_ms ? config->state_poll_ms
                                              : VIRT_LIBVIRT_STATE_POLL_MS;
    pthread_mutex_init(&lv->mutex, NULL);
    lv->event_callback_id = -1;
    lv->sink = xzalloc(sizeof *lv->sink);
    pthread_mutex_init(&lv->sink->mutex, NULL);
    lv->sink->n_refs = 1;
    lv->sink->driver = &lv->up;

    LOG_DBG("opened '%s'", config->uri);
    *ret_driver = &lv->up;
    return NULL;
}

virConnectPtr
virt_libvirt_connection(struct virt_driver *driver)
{
    if (!driver || driver->class != &virt_libvirt_class) {
        return NULL;
    }
    return virt_libvirt_cast(driver)->conn;
}
