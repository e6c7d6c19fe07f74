/* virt-driver.h: the hypervisor driver interface of nova-compute.
 *
 * nova-compute talks to its hypervisor only through a 'struct virt_driver':
 * a handle whose operations (spawn, destroy, reboot, power off/on, pause,
 * suspend, state queries, console output, inventory, lifecycle events) are
 * dispatched through a table of functions supplied by an implementation, as
 * Eucalyptus's node controller does with its 'struct handlers' and Open
 * vSwitch with its netdev classes.  The libvirt implementation lives in
 * virt-libvirt.c; virt-sim-hosts.c builds many independent simulated hosts
 * on top of it.  Implementations see the table in virt-driver-provider.h.
 *
 * Instances are named by their uuid everywhere: the domain uuid is the
 * instance uuid, as in Nova.  An instance spec (what to build) is a plain
 * parameter struct whose strings are borrowed for the call; the domain XML
 * built from it is in virt-domain-xml.h.
 *
 * Threads: every operation blocks (a soft reboot or a clean power off can
 * wait for the guest for as long as its timeout), so the daemon runs them on
 * its worker threads; different threads may call operations on one driver
 * at the same time.  Lifecycle events are delivered on the thread that runs
 * the hypervisor's event loop (see virt_driver_set_event_callback()). */
#ifndef NOVA_VIRT_DRIVER_H
#define NOVA_VIRT_DRIVER_H 1

#include <stdbool.h>
#include <stddef.h>
#include "shared/cleanup.h"
#include "shared/compiler.h"
#include "shared/uuid-util.h"

struct error;
struct virt_driver;

/* Nova's power_state numbers (nova/compute/power_state.py) and names. */
#define VIRT_POWER_STATES(X)                        \
    X(VIRT_POWER_NOSTATE,   0, "pending")           \
    X(VIRT_POWER_RUNNING,   1, "running")           \
    X(VIRT_POWER_PAUSED,    3, "paused")            \
    X(VIRT_POWER_SHUTDOWN,  4, "shutdown")          \
    X(VIRT_POWER_CRASHED,   6, "crashed")           \
    X(VIRT_POWER_SUSPENDED, 7, "suspended")

enum virt_power_state {
#define VIRT_POWER_STATE_ENUM(ENUM, NUMBER, NAME) ENUM = NUMBER,
    VIRT_POWER_STATES(VIRT_POWER_STATE_ENUM)
#undef VIRT_POWER_STATE_ENUM
};

/* Returns Nova's name of 'state', or "unknown" for a value not listed. */
const char *virt_power_state_to_string(enum virt_power_state state);
/* Returns 0 and sets '*ret_state', or -EINVAL for an unknown name. */
int virt_power_state_from_string(const char *name,
                                 enum virt_power_state *ret_state);

/* The libvirt domain types an instance may be built for. */
#define VIRT_DOMAIN_TYPES(X)                        \
    X(VIRT_DOMAIN_QEMU, "qemu")                     \
    X(VIRT_DOMAIN_KVM,  "kvm")                      \
    X(VIRT_DOMAIN_TEST, "test")

enum virt_domain_type {
#define VIRT_DOMAIN_TYPE_ENUM(ENUM, NAME) ENUM,
    VIRT_DOMAIN_TYPES(VIRT_DOMAIN_TYPE_ENUM)
#undef VIRT_DOMAIN_TYPE_ENUM
    VIRT_N_DOMAIN_TYPES
};

/* Returns the name of 'type', or NULL for a value not listed. */
const char *virt_domain_type_to_string(enum virt_domain_type type);
/* Returns 0 and sets '*ret_type', or -EINVAL for an unknown name. */
int virt_domain_type_from_string(const char *name,
                                 enum virt_domain_type *ret_type);

/* Lifecycle events, as Nova's virt events (nova/virt/event.py).  A domain
 * paused by the hypervisor gives PAUSED; our suspend (a managed save) gives
 * SUSPENDED when the guest is saved and RESUMED when it is restored (QEMU;
 * libvirt's test driver reports the restore as a plain start, STARTED).
 * Events are hints: a consumer reads the power state with
 * virt_driver_get_info() before acting, as Nova's power-state sync does. */
#define VIRT_EVENTS(X)                              \
    X(VIRT_EVENT_STARTED,   "started")              \
    X(VIRT_EVENT_STOPPED,   "stopped")              \
    X(VIRT_EVENT_PAUSED,    "paused")               \
    X(VIRT_EVENT_RESUMED,   "resumed")              \
    X(VIRT_EVENT_SUSPENDED, "suspended")            \
    X(VIRT_EVENT_CRASHED,   "crashed")

enum virt_event {
#define VIRT_EVENT_ENUM(ENUM, NAME) ENUM,
    VIRT_EVENTS(VIRT_EVENT_ENUM)
#undef VIRT_EVENT_ENUM
    VIRT_N_EVENTS
};

/* Returns the name of 'event', or NULL for a value not listed. */
const char *virt_event_to_string(enum virt_event event);

enum virt_reboot_type {
    VIRT_REBOOT_SOFT,           /* Ask the guest (ACPI), then force. */
    VIRT_REBOOT_HARD,           /* Reset or restart the domain at once. */
};

/* How long a clean power off waits for the guest by default before the
 * domain is destroyed (Nova's shutdown_timeout, 60 s). */
#define VIRT_SHUTDOWN_TIMEOUT_MS 60000u

/* The most console output returned, from the end of the log (Nova's
 * MAX_CONSOLE_BYTES). */
#define VIRT_CONSOLE_OUTPUT_MAX_SIZE (100u * 1024)

/* What to build.  Every string is borrowed for the duration of the call
 * that receives the spec; optional ones may be NULL.  Limits are checked
 * by virt_domain_xml_validate(). */
struct virt_flavor {
    const char *name;           /* "m1.small" */
    unsigned int vcpus;         /* >= 1 */
    unsigned int memory_mb;     /* >= 1 */
    unsigned int root_gb;
    unsigned int ephemeral_gb;
    unsigned int swap_mb;
};

/* The boot source: a kernel (with optional initrd and command line), or a
 * disk image, or both (a kernel booting with the disk attached).  The image
 * service will later resolve Glance images into these paths. */
struct virt_image {
    const char *kernel_path;    /* Absolute. */
    const char *initrd_path;    /* Absolute; optional. */
    const char *cmdline;        /* Optional. */
    const char *disk_path;      /* Absolute. */
    const char *disk_format;    /* "raw" or "qcow2"; NULL means "raw". */
};

/* The owner, written into Nova's <nova:owner> metadata; all optional. */
struct virt_owner {
    const char *user_id;
    const char *user_name;
    const char *project_id;
    const char *project_name;
};

struct virt_instance_spec {
    const char *uuid;           /* Canonical uuid: the domain uuid. */
    const char *name;           /* Domain name: "instance-0000002a". */
    const char *display_name;   /* The server name; NULL means 'name'. */
    const char *created_at;     /* "2024-05-01 12:00:00"; optional. */
    struct virt_flavor flavor;
    struct virt_image image;
    struct virt_owner owner;
    enum virt_domain_type domain_type;
    const char *arch;           /* NULL means "x86_64". */
    const char *machine;        /* Machine type ("pc"); optional. */
    const char *serial_log_path;    /* Absolute; optional. */
    const char *vnc_listen;     /* IP address; NULL means "127.0.0.1". */
    unsigned int vnc_port;      /* 0 means a port chosen by libvirt. */
};

/* The state of one instance, as Nova's InstanceInfo. */
struct virt_instance_info {
    enum virt_power_state power_state;
    unsigned long long max_memory_kb;
    unsigned long long memory_kb;
    unsigned int n_vcpus;
    unsigned long long cpu_time_ns;
};

struct virt_instance_entry {
    char uuid[UUID_STRING_SIZE];
    char *name;
    enum virt_power_state power_state;
};

/* Every domain the hypervisor knows, Nova's or not (the compute manager
 * matches them against its database). */
struct virt_instance_list {
    struct virt_instance_entry *entries;
    size_t n_entries;
};

void virt_instance_list_free(struct virt_instance_list *);
DEFINE_FREEP(struct virt_instance_list, virt_instance_list_free)

/* The host's resources, as Nova's get_available_resource() reports them. */
struct virt_inventory {
    unsigned int vcpus;
    unsigned int vcpus_used;
    unsigned long long memory_mb;
    unsigned long long memory_mb_used;
    unsigned long long local_gb;
    unsigned long long local_gb_used;
    unsigned int n_running;     /* Active domains counted in the above. */
    char *hypervisor_type;      /* "QEMU", "TEST". */
    unsigned long long hypervisor_version;  /* major*1e6+minor*1e3+rel */
    char *hypervisor_hostname;
    char *cpu_info;             /* JSON text, as Nova's cpu_info. */
};

void virt_inventory_free(struct virt_inventory *);
DEFINE_FREEP(struct virt_inventory, virt_inventory_free)

/* Called for each lifecycle event with the instance uuid (borrowed for the
 * call).  It runs on the hypervisor's event-loop thread and must not block:
 * queue the work (a power-state sync) for another thread.  It must not call
 * virt_driver_set_event_callback() or virt_driver_free() (they wait for a
 * running callback to finish). */
typedef void virt_event_func(struct virt_driver *driver, const char *uuid,
                             enum virt_event event, void *aux);

/* Name of the implementation ("libvirt"). */
const char *virt_driver_name(const struct virt_driver *);

/* Frees 'driver' and closes its hypervisor connection.  NULL is allowed.
 * No operation may be running on it, and no event is delivered after it
 * returns. */
void virt_driver_free(struct virt_driver *driver);
DEFINE_FREEP(struct virt_driver, virt_driver_free)

/* Checks that the hypervisor answers and is usable; call once at start. */
struct error *virt_driver_init_host(struct virt_driver *) WARN_UNUSED;

/* Validates 'spec', builds the domain and starts it.  An instance whose
 * uuid already exists on the host gives ERROR_CONFLICT; on any failure
 * nothing is left defined. */
struct error *virt_driver_spawn(struct virt_driver *,
                                const struct virt_instance_spec *spec)
    WARN_UNUSED;

/* Stops the instance at once and removes it with everything the hypervisor
 * keeps for it (saved state, snapshots' metadata).  Destroying an instance
 * that does not exist succeeds, as in Nova.  The serial log is left. */
struct error *virt_driver_destroy(struct virt_driver *, const char *uuid)
    WARN_UNUSED;

/* Reboots the instance.  A soft reboot asks the guest to shut down and,
 * once it has, starts it again; a guest that has not shut down within the
 * driver's soft reboot timeout, a hypervisor that cannot ask, or an
 * instance not running get a hard reboot instead.  A hard reboot leaves the
 * instance running from a fresh start (saved state is discarded).  If
 * 'ret_performed' is not NULL it receives the kind of reboot done. */
struct error *virt_driver_reboot(struct virt_driver *, const char *uuid,
                                 enum virt_reboot_type type,
                                 enum virt_reboot_type *ret_performed)
    WARN_UNUSED;

/* Nova's clean shutdown: asks the guest to shut down, waits up to
 * 'timeout_ms' (VIRT_SHUTDOWN_TIMEOUT_MS is Nova's default; 0 skips the
 * request), then destroys the domain if it still runs.  The instance stays
 * defined.  Powering off an instance that is off succeeds. */
struct error *virt_driver_power_off(struct virt_driver *, const char *uuid,
                                    unsigned int timeout_ms) WARN_UNUSED;

/* Starts an instance that is off (a suspended one is restored).  Powering
 * on an instance that runs succeeds. */
struct error *virt_driver_power_on(struct virt_driver *, const char *uuid)
    WARN_UNUSED;

/* Pause keeps the guest in memory, stopped; unpause continues it.  Each
 * gives ERROR_CONFLICT when the instance is not running, or not paused. */
struct error *virt_driver_pause(struct virt_driver *, const char *uuid)
    WARN_UNUSED;
struct error *virt_driver_unpause(struct virt_driver *, const char *uuid)
    WARN_UNUSED;

/* Suspend saves the guest's memory to disk and stops it (libvirt managed
 * save, as Nova's libvirt driver); resume restores it.  The suspended
 * instance reports VIRT_POWER_SUSPENDED.  ERROR_CONFLICT when the instance
 * is not running or paused, or not suspended. */
struct error *virt_driver_suspend(struct virt_driver *, const char *uuid)
    WARN_UNUSED;
struct error *virt_driver_resume(struct virt_driver *, const char *uuid)
    WARN_UNUSED;

/* Fills '*ret_info'.  ERROR_NOT_FOUND for an unknown uuid. */
struct error *virt_driver_get_info(struct virt_driver *, const char *uuid,
                                   struct virt_instance_info *ret_info)
    WARN_UNUSED;

/* Lists every domain with its power state.  The caller owns '*ret_list'. */
struct error *virt_driver_list_instances(struct virt_driver *,
                                         struct virt_instance_list **ret_list)
    WARN_UNUSED;

/* Returns the last 'max_size' bytes (at most VIRT_CONSOLE_OUTPUT_MAX_SIZE)
 * of the instance's serial console log in '*ret_output' (NUL-terminated,
 * owned by the caller) and its size in '*ret_size'.  A log not written yet
 * gives empty output; an instance without a serial log ERROR_NOT_FOUND. */
struct error *virt_driver_get_console_output(struct virt_driver *,
                                             const char *uuid,
                                             size_t max_size,
                                             char **ret_output,
                                             size_t *ret_size) WARN_UNUSED;

/* Reports the host's inventory.  The caller owns '*ret_inventory'. */
struct error *virt_driver_get_available_resource(
    struct virt_driver *, struct virt_inventory **ret_inventory) WARN_UNUSED;

/* Registers 'cb' (with 'aux') for lifecycle events of every domain of the
 * host, replacing an earlier one; NULL stops delivery.  Events only flow
 * while some thread runs the hypervisor's event loop (for libvirt:
 * virt_libvirt_event_run_once()). */
struct error *virt_driver_set_event_callback(struct virt_driver *,
                                             virt_event_func *cb, void *aux)
    WARN_UNUSED;

/* Returns the ERROR_INVALID error for the malformed 'uuid' (quoted only if
 * it is short printable ASCII). */
struct error *virt_driver_invalid_uuid_error(const char *uuid) WARN_UNUSED;

/* Returns Nova's default domain name for instance number 'id'
 * ("instance-%08x").  The caller owns the result. */
char *virt_driver_instance_name(unsigned int id);

#endif /* NOVA_VIRT_DRIVER_H */
