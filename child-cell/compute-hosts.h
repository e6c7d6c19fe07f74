/* compute-hosts.h: the hosts one nova-compute process serves.
 *
 * Normally one: the machine itself, named by the 'host' setting (default:
 * its host name), with a libvirt driver over compute.libvirt_uri
 * (qemu:///system).  For scale tests, N simulated hosts on libvirt's test
 * driver (virt-sim-hosts.h), named "<host>-0001" ... "<host>-NNNN", each
 * with its own node file under "<state_path>/sim-hosts", its own CPUs,
 * memory and disk, and its own domains.
 *
 * The result is the host list compute_manager_new() takes
 * (compute-manager.h); it owns the drivers, so it must outlive the
 * manager. */
#ifndef NOVA_COMPUTE_HOSTS_H
#define NOVA_COMPUTE_HOSTS_H 1

#include <stddef.h>
#include "shared/cleanup.h"
#include "shared/compiler.h"

struct compute_hosts;
struct compute_manager_host;
struct error;

/* Subdirectory of the state path holding simulated hosts' node files. */
#define COMPUTE_HOSTS_SIM_DIR "sim-hosts"
/* Subdirectory of the state path holding instance files (the libvirt
 * driver's instances_path: its file system gives local_gb). */
#define COMPUTE_HOSTS_INSTANCES_DIR "instances"

struct compute_hosts_config {
    /* Host name, or prefix of simulated host names.  Required. */
    const char *host;
    /* libvirt URI of the real host. */
    const char *libvirt_uri;
    /* Absolute state directory.  Required. */
    const char *state_path;
    /* 0: the real host; N: N simulated hosts of the sizes below. */
    unsigned int n_simulated;
    unsigned int sim_vcpus;
    unsigned int sim_memory_mb;
    unsigned int sim_disk_gb;
    /* How long a soft reboot waits for the guest before a hard one. */
    unsigned int soft_reboot_timeout_ms;
};

/* Opens the hosts 'config' describes.  Returns NULL and the hosts in
 * '*ret_hosts' (owned by the caller), or an error (ERROR_INVALID for a bad
 * setting, ERROR_UNAVAILABLE when libvirt cannot be reached). */
struct error *compute_hosts_open(const struct compute_hosts_config *config,
                                 struct compute_hosts **ret_hosts)
    WARN_UNUSED;

/* Closes every driver (a simulated host's domains vanish with it).
 * NULL-safe. */
void compute_hosts_free(struct compute_hosts *);
DEFINE_FREEP(struct compute_hosts, compute_hosts_free)

/* The hosts as compute_manager_new() takes them: an array of
 * compute_hosts_count() entries, owned by 'hosts'. */
const struct compute_manager_host *compute_hosts_list(
    const struct compute_hosts *hosts);
size_t compute_hosts_count(const struct compute_hosts *hosts);

/* Returns this machine's host name (gethostname(2)), for the default of
 * the 'host' setting; the caller frees it.  NULL when it cannot be read. */
char *compute_hosts_default_name(void);

#endif /* NOVA_COMPUTE_HOSTS_H */
