/* virt-sim-hosts.h: many simulated compute hosts in one process.
 *
 * For scale tests one nova-compute process serves N hosts
 * (--simulate-hosts N).  Each simulated host is a libvirt driver
 * (virt-libvirt.h) over its own libvirt test-driver connection opened on
 * its own node file "<state_dir>/<name>.xml", which gives it its own CPUs,
 * memory, simulated disk and domains: nothing one host does shows on
 * another.  Hosts are named "<prefix>-0001", "<prefix>-0002", ...
 *
 * The test driver keeps a connection's domains in the process only, and
 * every virConnectOpen() of a node file starts from the file again, so a
 * host's state lives exactly as long as its connection: this module keeps
 * one connection per host open until virt_sim_hosts_free(). */
#ifndef NOVA_VIRT_SIM_HOSTS_H
#define NOVA_VIRT_SIM_HOSTS_H 1

#include <stddef.h>
#include "shared/cleanup.h"
#include "shared/compiler.h"

struct error;
struct virt_driver;
struct virt_sim_hosts;

/* Limits: host numbers are written with at least four digits. */
#define VIRT_SIM_HOSTS_MAX 9999u
#define VIRT_SIM_HOST_PREFIX_MAX_SIZE 48
#define VIRT_SIM_HOST_CPUS_MAX 4096u

/* Defaults for a simulated host. */
#define VIRT_SIM_HOST_DEFAULT_CPUS 16u
#define VIRT_SIM_HOST_DEFAULT_MEMORY_MB (64u * 1024)
#define VIRT_SIM_HOST_DEFAULT_LOCAL_GB 1024u

struct virt_sim_hosts_config {
    /* Directory for the node files; created if missing.  Required. */
    const char *state_dir;
    /* Host name prefix: letters, digits, '-', '.', '_'.  Required. */
    const char *prefix;
    unsigned int n_hosts;       /* 1 to VIRT_SIM_HOSTS_MAX. */
    unsigned int cpus;          /* Per host, 1 to VIRT_SIM_HOST_CPUS_MAX. */
    unsigned int memory_mb;     /* Per host, >= 1. */
    unsigned int local_gb;      /* Per host, >= 1. */
    /* Passed to each host's libvirt driver (see virt-libvirt.h). */
    unsigned int soft_reboot_timeout_ms;
};

/* Fills 'config' with the defaults above and one host (no directory or
 * prefix). */
void virt_sim_hosts_config_init(struct virt_sim_hosts_config *config);

/* Writes the node files and opens one driver per host.  On failure nothing
 * stays open (node files already written are left).  The caller owns
 * '*ret_hosts'. */
struct error *virt_sim_hosts_create(const struct virt_sim_hosts_config *,
                                    struct virt_sim_hosts **ret_hosts)
    WARN_UNUSED;

/* Closes every host's connection (their domains vanish with it).  NULL is
 * allowed. */
void virt_sim_hosts_free(struct virt_sim_hosts *);
DEFINE_FREEP(struct virt_sim_hosts, virt_sim_hosts_free)

size_t virt_sim_hosts_count(const struct virt_sim_hosts *);

/* The name and the driver of host 'index' (0-based, < count); both
 * borrowed from 'hosts'. */
const char *virt_sim_hosts_name(const struct virt_sim_hosts *, size_t index);
struct virt_driver *virt_sim_hosts_driver(const struct virt_sim_hosts *,
                                          size_t index);

/* The driver of the host called 'name', or NULL. */
struct virt_driver *virt_sim_hosts_find(const struct virt_sim_hosts *,
                                        const char *name);

#endif /* NOVA_VIRT_SIM_HOSTS_H */
