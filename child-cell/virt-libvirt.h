/* virt-libvirt.h: the libvirt hypervisor driver.
 *
 * A 'struct virt_driver' (virt-driver.h) over one libvirt connection:
 * "qemu:///system" (or "qemu:///system?socket=/path" for a private
 * libvirtd) for real guests, "test:///default" or "test:///abs/node.xml"
 * for simulated hosts (virt-sim-hosts.h).  Instances are libvirt domains
 * found by uuid; spawn defines a persistent domain and starts it, destroy
 * stops and undefines it.
 *
 * Lifecycle events need libvirt's event loop: virt_libvirt_new() registers
 * libvirt's default event implementation before it opens the connection
 * (once per process), and one thread of the daemon must call
 * virt_libvirt_event_run_once() in a loop for events to be delivered. */
#ifndef NOVA_VIRT_LIBVIRT_H
#define NOVA_VIRT_LIBVIRT_H 1

#include <libvirt/libvirt.h>
#include "shared/compiler.h"

struct error;
struct virt_driver;

/* Nova's [libvirt] wait_soft_reboot_seconds: how long a soft reboot waits
 * for the guest to shut down before a hard reboot is done. */
#define VIRT_LIBVIRT_SOFT_REBOOT_TIMEOUT_MS 120000u

/* How often a waiting operation looks at the domain's state. */
#define VIRT_LIBVIRT_STATE_POLL_MS 200u

/* How often a clean shutdown request is repeated while waiting (Nova's
 * SHUTDOWN_RETRY_INTERVAL): a guest still booting misses the first
 * ACPI event. */
#define VIRT_LIBVIRT_SHUTDOWN_RETRY_MS 10000u

/* Where instance files live; its file system gives local_gb. */
#define VIRT_LIBVIRT_INSTANCES_PATH NOVA_LOCALSTATEDIR "/instances"

struct virt_libvirt_config {
    /* libvirt connection URI.  Required. */
    const char *uri;
    /* The name the host reports (hypervisor_hostname); NULL asks libvirt
     * for the machine's host name. */
    const char *hostname;
    /* The directory whose file system gives local_gb and local_gb_used,
     * as Nova's instances_path; NULL means VIRT_LIBVIRT_INSTANCES_PATH. */
    const char *instances_path;
    /* If nonzero, the host has a simulated disk of this many GB instead:
     * local_gb_used is the sum of the disks (root + ephemeral + swap) of
     * the flavors of instances this driver spawned that still exist. */
    unsigned int local_gb;
    /* A soft reboot waits this long for the guest before a hard reboot;
     * 0 makes every reboot hard. */
    unsigned int soft_reboot_timeout_ms;
    /* Interval of state polling while waiting for a guest; >= 1. */
    unsigned int state_poll_ms;
};

/* Fills 'config' with the defaults above (and no URI). */
void virt_libvirt_config_init(struct virt_libvirt_config *config);

/* Opens a connection to config->uri and returns a driver over it in
 * '*ret_driver' (owned by the caller, freed with virt_driver_free()).  The
 * strings of 'config' are copied.  ERROR_UNAVAILABLE if libvirt cannot
 * connect, with libvirt's message. */
struct error *virt_libvirt_new(const struct virt_libvirt_config *config,
                               struct virt_driver **ret_driver) WARN_UNUSED;

/* Returns the libvirt connection of 'driver' (borrowed; valid until the
 * driver is freed), or NULL if 'driver' is not a libvirt driver.  For tests
 * and diagnostics: domains changed through it change behind the driver's
 * back, as an operator's virsh would. */
virConnectPtr virt_libvirt_connection(struct virt_driver *driver);

/* Registers libvirt's default event loop implementation, once per
 * process; virt_libvirt_new() calls it.  Returns NULL or an error. */
struct error *virt_libvirt_event_loop_init(void) WARN_UNUSED;

/* Runs one iteration of libvirt's event loop on the calling thread: waits
 * for the next file descriptor event, timer or wakeup and dispatches it
 * (lifecycle callbacks run here).  Returns 0, or -EIO if the loop failed.
 * Only one thread may run the loop. */
int virt_libvirt_event_run_once(void);

/* Makes the thread in virt_libvirt_event_run_once() return soon, e.g. to
 * let it see that it must stop.  Any thread may call it. */
void virt_libvirt_event_wakeup(void);

#endif /* NOVA_VIRT_LIBVIRT_H */
