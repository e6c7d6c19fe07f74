/* compute-manager.h: the nova-compute service.
 *
 * One compute manager serves one or more hosts: the machine itself (one
 * libvirt driver over qemu:///system) or N simulated hosts in one process
 * (virt-sim-hosts.h).  For each host it
 *
 *   - consumes the queue "compute.<host>" (an rpc_server on topic
 *     "compute" with server = host name) and implements every compute
 *     method of child-cell/rpcapi.h: build_and_run_instance,
 *     terminate_instance, reboot/stop/start/pause/unpause/suspend/
 *     resume_instance and get_console_output;
 *   - casts service_heartbeat every heartbeat interval, and
 *     compute_node_update with the driver's inventory at start, after
 *     every build and delete, and every report interval;
 *   - keeps the conductor's record in step with the hypervisor: libvirt
 *     lifecycle events trigger a power-state sync of their instance, and a
 *     periodic task syncs every instance of the host (compute-sync.h);
 *   - at start, before it consumes its queue, recovers what a previous
 *     process left half done (compute-sync.h: builds, deletes and other
 *     tasks interrupted by a crash or restart).
 *
 * Threads and blocking.  The manager's thread (the one that calls
 * compute_manager_new() and then the run/wait functions) owns the RPC
 * connection (cells-rpc/rpc.h) and never blocks on the hypervisor: every
 * driver call runs on a worker pool (compute-workers.h) whose results come
 * back through an eventfd, and lifecycle events arrive through another
 * queue (compute-queue.h) from the thread running libvirt's event loop
 * (compute-events.h, started by the caller).  RPC handlers only decode the
 * message and queue the work, so they return at once; a call
 * (get_console_output) is answered later with a deferred reply.
 *
 * Order.  Operations on one instance run one at a time in arrival order
 * (a terminate that arrives during a build waits for the build to end, as
 * Nova's per-instance lock does); operations on different instances run in
 * parallel on the workers.  Messages to the conductor about one instance
 * keep their order and are retried while the conductor is unreachable
 * (compute-conductor.h).
 *
 * Acknowledgements.  A build_and_run_instance cast is acknowledged only
 * once the conductor has recorded task_state "spawning": if nova-compute
 * dies before that, the broker delivers the cast again to the next
 * process, and the recovery at start leaves builds still "scheduling" to
 * that cast.  Other casts are acknowledged when queued: the conductor has
 * already recorded their task state, which the recovery settles. */
#ifndef NOVA_COMPUTE_MANAGER_H
#define NOVA_COMPUTE_MANAGER_H 1

#include <stdbool.h>
#include <stddef.h>
#include "child-cell/compute-conductor.h"
#include "child-cell/compute-image-cache.h"
#include "child-cell/virt-driver.h"
#include "shared/cleanup.h"
#include "shared/compiler.h"

struct error;
struct compute_manager;

/* The binary name in service_heartbeat and log lines. */
#define COMPUTE_MANAGER_BINARY "nova-compute"
/* The service version reported in service_heartbeat. */
#define COMPUTE_MANAGER_SERVICE_VERSION 1

/* Defaults of the intervals below, in milliseconds (Nova's
 * report_interval, update_resources_interval and
 * sync_power_state_interval; Nova's shutdown_timeout). */
#define COMPUTE_MANAGER_HEARTBEAT_MS 10000LL
#define COMPUTE_MANAGER_REPORT_MS 60000LL
#define COMPUTE_MANAGER_SYNC_MS 60000LL
#define COMPUTE_MANAGER_SHUTDOWN_TIMEOUT_MS 60000u
/* How long a qemu or kvm guest may take to boot by default. */
#define COMPUTE_MANAGER_BOOT_TIMEOUT_MS 300000LL
/* How often a booting guest is looked at. */
#define COMPUTE_MANAGER_BOOT_POLL_MS 1000LL
/* Default period of the image cache cleanup. */
#define COMPUTE_MANAGER_IMAGE_CLEAN_MS 600000LL
/* Delay before a host whose hypervisor did not answer is tried again. */
#define COMPUTE_MANAGER_INIT_RETRY_MS 10000LL

/* Most hosts one manager serves (virt-sim-hosts.h's limit). */
#define COMPUTE_MANAGER_MAX_HOSTS 9999u
/* Most alternates kept from a build request. */
#define COMPUTE_MANAGER_MAX_ALTERNATES 64u

struct compute_manager_options {
    /* The leaf cell's transport URL (cells-rpc/transport-url.h). */
    const char *transport_url;
    /* Absolute directory for per-instance files: "<state_path>/instances"
     * (compute-spec.h). */
    const char *state_path;
    /* Domain type of the instances built. */
    enum virt_domain_type domain_type;
    /* Worker threads for hypervisor calls (compute-workers.h). */
    unsigned int n_workers;
    /* Periods, in milliseconds; 0 disables the periodic sync (events and
     * the recovery at start still run). */
    long long heartbeat_interval_ms;
    long long report_interval_ms;
    long long sync_interval_ms;
    /* How long stop_instance waits for the guest to shut down before the
     * domain is destroyed. */
    unsigned int shutdown_timeout_ms;
    /* A guest of domain type qemu or kvm, or of any type when
     * 'boot_marker' is set, must reach the running state and, with
     * 'boot_marker', print that text on its serial console within
     * 'boot_timeout_ms'; otherwise its build fails.  0 disables the
     * check. */
    long long boot_timeout_ms;
    const char *boot_marker;
    /* Calls to the conductor: timeout and retries. */
    struct compute_conductor_options conductor;
    /* Image downloads, cache and overlays (compute-image-cache.h); a
     * NULL 'image.cache_dir' means "<state_path>/image-cache".  Builds
     * prepare their image on a worker; the cache is cleaned every
     * 'image_clean_interval_ms' (0: never) on a worker too. */
    struct compute_image_cache_options image;
    long long image_clean_interval_ms;
};

/* A host to serve: its name (the queue "compute.<name>", the service and
 * node records) and its driver.  Both borrowed: they must outlive the
 * manager. */
struct compute_manager_host {
    const char *name;
    struct virt_driver *driver;
};

/* Fills 'options' with the defaults above (no URL, no state path, domain
 * type qemu, 2 workers). */
void compute_manager_options_init(struct compute_manager_options *options);

/* Connects to the broker and starts serving 'hosts' (1 to
 * COMPUTE_MANAGER_MAX_HOSTS, distinct valid names).  The calling thread
 * becomes the manager's thread.  Returns NULL and the manager in
 * '*ret_manager' (owned by the caller), or an error (bad options, broker
 * unreachable, no worker thread). */
struct error *compute_manager_new(const struct compute_manager_options *,
                                  const struct compute_manager_host *hosts,
                                  size_t n_hosts,
                                  struct compute_manager **ret_manager)
    WARN_UNUSED;

/* Stops consuming, waits for the hypervisor calls in progress, and closes
 * the connection; messages to the conductor not yet confirmed by the
 * broker are given a few seconds to land.  Work not done is left to the
 * recovery of the next start.  NULL-safe. */
void compute_manager_free(struct compute_manager *);
DEFINE_FREEP(struct compute_manager, compute_manager_free)

/* Does the work that is ready without blocking (RPC, finished hypervisor
 * calls, events, timers). */
void compute_manager_run(struct compute_manager *);

/* Registers with the poll loop what compute_manager_run() waits for. */
void compute_manager_wait(struct compute_manager *);

/* True once every host has finished its recovery and consumes its
 * queue. */
bool compute_manager_is_ready(const struct compute_manager *);

#endif /* NOVA_COMPUTE_MANAGER_H */
