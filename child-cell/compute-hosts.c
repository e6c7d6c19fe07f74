/* compute-hosts.c: the real host or the simulated ones (see
 * compute-hosts.h). */
#include <config.h>
#include "child-cell/compute-hosts.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "child-cell/compute-manager.h"
#include "child-cell/virt-driver.h"
#include "child-cell/virt-libvirt.h"
#include "child-cell/virt-sim-hosts.h"
#include "shared/error.h"
#include "shared/xalloc.h"

struct compute_hosts {
    struct virt_sim_hosts *sim;         /* Simulated hosts, or NULL. */
    struct virt_driver *driver;         /* The real host's, or NULL. */
    char *name;                         /* The real host's name. */
    struct compute_manager_host *list;
    size_t n;
};

void
compute_hosts_free(struct compute_hosts *hosts)
{
    if (!hosts) {
        return;
    }
    virt_sim_hosts_free(hosts->sim);
    virt_driver_free(hosts->driver);
    free(hosts->name);
    free(hosts->list);
    free(hosts);
}

static struct error *
compute_hosts_open_sim(const struct compute_hosts_config *config,
                       struct compute_hosts *hosts)
{
    AUTOFREE char *dir = xasprintf("%s/" COMPUTE_HOSTS_SIM_DIR,
                                   config->state_path);
    struct virt_sim_hosts_config sc;
    struct error *error;

    virt_sim_hosts_config_init(&sc);
    sc.state_dir = dir;
    sc.prefix = config->host;
    sc.n_hosts = config->n_simulated;
    sc.cpus = config->sim_vcpus;
    sc.memory_mb = config->sim_memory_mb;
    sc.local_gb = config->sim_disk_gb;
    sc.soft_reboot_timeout_ms = config->soft_reboot_timeout_ms;
    error = virt_sim_hosts_create(&sc, &hosts->sim);
    if (error) {
        return error;
    }
    hosts->n = virt_sim_hosts_count(hosts->sim);
    hosts->list = xcalloc(hosts->n, sizeof *hosts->list);
    for (size_t i = 0; i < hosts->n; i++) {
        hosts->list[i].name = virt_sim_hosts_name(hosts->sim, i);
        hosts->list[i].driver = virt_sim_hosts_driver(hosts->sim, i);
    }
    return NULL;
}

static struct error *
compute_hosts_open_real(const struct compute_hosts_config *config,
                        struct compute_hosts *hosts)
{
    AUTOFREE char *instances = xasprintf("%s/" COMPUTE_HOSTS_INSTANCES_DIR,
                                         config->state_path);
    struct virt_libvirt_config lc;
    struct error *error;

    if (!config->libvirt_uri || !*config->libvirt_uri) {
        return error_new(ERROR_INVALID, "No libvirt URI: set "
                         "'compute.libvirt_uri'");
    }
    virt_libvirt_config_init(&lc);
    lc.uri = config->libvirt_uri;
    lc.instances_path = instances;
    lc.soft_reboot_timeout_ms = config->soft_reboot_timeout_ms;
    error = virt_libvirt_new(&lc, &hosts->driver);
    if (error) {
        return error;
    }
    hosts->name = xstrdup(config->host);
    hosts->n = 1;
    hosts->list = xcalloc(1, sizeof *hosts->list);
    hosts->list[0].name = hosts->name;
    hosts->list[0].driver = hosts->driver;
    return NULL;
}

struct error *
compute_hosts_open(const struct compute_hosts_config *config,
                   struct compute_hosts **ret_hosts)
{
    CLEANUP(compute_hosts_freep) struct compute_hosts *hosts = NULL;
    struct error *error;

    if (!config->host || !*config->host) {
        return error_new(ERROR_INVALID, "No host name: set 'host'");
    }
    if (!config->state_path || config->state_path[0] != '/') {
        return error_new(ERROR_INVALID, "The state path '%s' is not an "
                         "absolute path",
                         config->state_path ? config->state_path : "");
    }
    hosts = xzalloc(sizeof *hosts);
    error = config->n_simulated ? compute_hosts_open_sim(config, hosts)
                                : compute_hosts_open_real(config, hosts);
    if (error) {
        return error;
    }
    *ret_hosts = TAKE_PTR(hosts);
    return NULL;
}

const struct compute_manager_host *
compute_hosts_list(const struct compute_hosts *hosts)
{
    return hosts->list;
}

size_t
compute_hosts_count(const struct compute_hosts *hosts)
{
    return hosts->n;
}

char *
compute_hosts_default_name(void)
{
    char name[HOST_NAME_MAX + 1];

    if (gethostname(name, sizeof name) < 0) {
        return NULL;
    }
    name[sizeof name - 1] = '\0';
    return name[0] ? xstrdup(name) : NULL;
}
