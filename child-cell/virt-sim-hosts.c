/* virt-sim-hosts.c: simulated compute hosts on libvirt's test driver (see
 * virt-sim-hosts.h).
 *
 * A host is a node file, a URI naming it and a libvirt driver holding the
 * connection open.  The node file describes only the hardware (one NUMA
 * node, one socket with 'cpus' cores, 'memory_mb' of RAM) and no domains,
 * so every host starts empty.  It has no NUMA cells, which is why
 * virNodeGetFreeMemory() fails on it; the libvirt driver never asks (it
 * sums the domains' memory instead).  The disk is simulated by the libvirt
 * driver itself (its 'local_gb' setting): the test driver has no storage. */
#include <config.h>
#include "child-cell/virt-sim-hosts.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "child-cell/virt-driver.h"
#include "child-cell/virt-libvirt.h"
#include "shared/cleanup.h"
#include "shared/error.h"
#include "shared/log.h"
#include "shared/xalloc.h"

LOG_MODULE("virt.sim");

#define VIRT_SIM_NAME_FORMAT "%s-%04u"
#define VIRT_SIM_CPU_MHZ 2600
#define VIRT_SIM_CPU_ARCH "x86_64"
#define VIRT_SIM_DIR_MODE 0755
#define VIRT_SIM_FILE_MODE 0644
#define KIB_PER_MIB 1024ull

struct virt_sim_host {
    char *name;
    char *node_path;
    struct virt_driver *driver;
};

struct virt_sim_hosts {
    struct virt_sim_host *hosts;
    size_t n_hosts;
};

void
virt_sim_hosts_config_init(struct virt_sim_hosts_config *config)
{
    memset(config, 0, sizeof *config);
    config->n_hosts = 1;
    config->cpus = VIRT_SIM_HOST_DEFAULT_CPUS;
    config->memory_mb = VIRT_SIM_HOST_DEFAULT_MEMORY_MB;
    config->local_gb = VIRT_SIM_HOST_DEFAULT_LOCAL_GB;
    config->soft_reboot_timeout_ms = VIRT_LIBVIRT_SOFT_REBOOT_TIMEOUT_MS;
}

static struct error *
virt_sim_hosts_check_config(const struct virt_sim_hosts_config *config)
{
    size_t prefix_size;

    if (!config->state_dir || !*config->state_dir) {
        return error_new(ERROR_INVALID,
                         "No state directory given for simulated hosts");
    }
    prefix_size = config->prefix ? strlen(config->prefix) : 0;
    if (!prefix_size || prefix_size > VIRT_SIM_HOST_PREFIX_MAX_SIZE) {
        return error_new(ERROR_INVALID,
                         "The simulated host name prefix must have 1 to %d "
                         "characters", VIRT_SIM_HOST_PREFIX_MAX_SIZE);
    }
    for (const char *p = config->prefix; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
              || (*p >= '0' && *p <= '9') || strchr("-._", *p))) {
            return error_new(ERROR_INVALID,
                             "The simulated host name prefix may only hold "
                             "letters, digits, '-', '.' and '_'");
        }
    }
    if (!config->n_hosts || config->n_hosts > VIRT_SIM_HOSTS_MAX) {
        return error_new(ERROR_INVALID,
                         "Cannot simulate %u hosts: 1 to %u are possible",
                         config->n_hosts, VIRT_SIM_HOSTS_MAX);
    }
    if (!config->cpus || config->cpus > VIRT_SIM_HOST_CPUS_MAX) {
        return error_new(ERROR_INVALID,
                         "Cannot simulate hosts with %u CPUs: 1 to %u are "
                         "possible", config->cpus, VIRT_SIM_HOST_CPUS_MAX);
    }
    if (!config->memory_mb || !config->local_gb) {
        return error_new(ERROR_INVALID,
                         "Simulated hosts need memory and disk");
    }
    return NULL;
}

/* Creates 'path' and its missing parents.  Returns 0 or -errno. */
static int
virt_sim_hosts_mkdir_p(const char *path)
{
    AUTOFREE char *copy = xstrdup(path);

    for (char *p = copy + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(copy, VIRT_SIM_DIR_MODE) < 0 && errno != EEXIST) {
                return -errno;
            }
            *p = '/';
        }
    }
    if (mkdir(copy, VIRT_SIM_DIR_MODE) < 0 && errno != EEXIST) {
        return -errno;
    }
    return 0;
}

/* Writes 'content' to 'path' through a temporary file and a rename, so a
 * reader never sees half a file.  Returns 0 or -errno. */
static int
virt_sim_hosts_write_file(const char *path, const char *content)
{
    AUTOFREE char *tmp = xasprintf("%s.tmp", path);
    size_t size = strlen(content), done = 0;
    int fd, r = 0;

    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
              VIRT_SIM_FILE_MODE);
    if (fd < 0) {
        return -errno;
    }
    while (done < size) {
        ssize_t n = write(fd, content + done, size - done);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            r = -errno;
            break;
        }
        done += n;
    }
    if (close(fd) < 0 && !r) {
        r = -errno;
    }
    if (!r && rename(tmp, path) < 0) {
        r = -errno;
    }
    if (r) {
        (void) unlink(tmp);
    }
    return r;
}

/* Returns the node description of one simulated host. */
static char *
virt_sim_hosts_node_xml(const struct virt_sim_hosts_config *config)
{
    return xasprintf("<node>\n"
                     "  <cpu>\n"
                     "    <nodes>1</nodes>\n"
                     "    <sockets>1</sockets>\n"
                     "    <cores>%u</cores>\n"
                     "    <threads>1</threads>\n"
                     "    <active>%u</active>\n"
                     "    <mhz>%d</mhz>\n"
                     "    <model>" VIRT_SIM_CPU_ARCH "</model>\n"
                     "  </cpu>\n"
                     "  <memory>%llu</memory>\n"
                     "</node>\n",
                     config->cpus, config->cpus, VIRT_SIM_CPU_MHZ,
                     config->memory_mb * KIB_PER_MIB);
}

/* Returns "test://" followed by the absolute 'path', percent-encoded where
 * a URI needs it (libvirt decodes it again). */
static char *
virt_sim_hosts_uri(const char *path)
{
    static const char hex[] = "0123456789ABCDEF";
    static const char prefix[] = "test://";
    char *uri = xmalloc(sizeof prefix + 3 * strlen(path));
    char *out = uri;

    memcpy(out, prefix, sizeof prefix - 1);
    out += sizeof prefix - 1;
    for (const unsigned char *p = (const unsigned char *) path; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
            || (*p >= '0' && *p <= '9') || strchr("/-._~", *p)) {
            *out++ = *p;
        } else {
            *out++ = '%';
            *out++ = hex[*p >> 4];
            *out++ = hex[*p & 0xf];
        }
    }
    *out = '\0';
    return uri;
}

static struct error *
virt_sim_hosts_open_one(const struct virt_sim_hosts_config *config,
                        const char *dir, const char *node_xml,
                        unsigned int number, struct virt_sim_host *host)
{
    struct virt_libvirt_config lv_config;
    AUTOFREE char *uri = NULL;
    struct error *error;
    int r;

    host->name = xasprintf(VIRT_SIM_NAME_FORMAT, config->prefix, number);
    host->node_path = xasprintf("%s/%s.xml", dir, host->name);
    r = virt_sim_hosts_write_file(host->node_path, node_xml);
    if (r < 0) {
        return error_from_errno(r, ERROR_INTERNAL,
                                "Cannot write the node file '%s' of "
                                "simulated host '%s'", host->node_path,
                                host->name);
    }
    uri = virt_sim_hosts_uri(host->node_path);

    virt_libvirt_config_init(&lv_config);
    lv_config.uri = uri;
    lv_config.hostname = host->name;
    lv_config.local_gb = config->local_gb;
    lv_config.soft_reboot_timeout_ms = config->soft_reboot_timeout_ms;
    error = virt_libvirt_new(&lv_config, &host->driver);
    if (error) {
        return error_wrap(error, "Cannot open simulated host '%s'",
                          host->name);
    }
    return NULL;
}

struct error *
virt_sim_hosts_create(const struct virt_sim_hosts_config *config,
                      struct virt_sim_hosts **ret_hosts)
{
    CLEANUP(virt_sim_hosts_freep) struct virt_sim_hosts *hosts = NULL;
    AUTOFREE char *node_xml = NULL;
    AUTOFREE char *dir = NULL;
    struct error *error = virt_sim_hosts_check_config(config);
    int r;

    if (error) {
        return error;
    }
    r = virt_sim_hosts_mkdir_p(config->state_dir);
    if (r < 0) {
        return error_from_errno(r, ERROR_INTERNAL,
                                "Cannot create the state directory '%s' of "
                                "simulated hosts", config->state_dir);
    }
    /* Node URIs need an absolute path. */
    dir = realpath(config->state_dir, NULL);
    if (!dir) {
        return error_from_errno(-errno, ERROR_INTERNAL,
                                "Cannot resolve the state directory '%s' "
                                "of simulated hosts", config->state_dir);
    }

    node_xml = virt_sim_hosts_node_xml(config);
    hosts = xzalloc(sizeof *hosts);
    hosts->hosts = xcalloc(config->n_hosts, sizeof *hosts->hosts);
    for (unsigned int i = 0; i < config->n_hosts; i++) {
        /* Counted before opening, so that a failure frees this one too. */
        hosts->n_hosts++;
        error = virt_sim_hosts_open_one(config, dir, node_xml, i + 1,
                                        &hosts->hosts[i]);
        if (error) {
            return error;
        }
    }
    LOG_DBG("%u simulated hosts '%s-*' in '%s'", config->n_hosts,
            config->prefix, dir);
    *ret_hosts = TAKE_PTR(hosts);
    return NULL;
}

void
virt_sim_hosts_free(struct virt_sim_hosts *hosts)
{
    if (hosts) {
        for (size_t i = 0; i < hosts->n_hosts; i++) {
            virt_driver_free(hosts->hosts[i].driver);
            free(hosts->hosts[i].name);
            free(hosts->hosts[i].node_path);
        }
        free(hosts->hosts);
        free(hosts);
    }
}

size_t
virt_sim_hosts_count(const struct virt_sim_hosts *hosts)
{
    return hosts->n_hosts;
}

const char *
virt_sim_hosts_name(const struct virt_sim_hosts *hosts, size_t index)
{
    return index < hosts->n_hosts ? hosts->hosts[index].name : NULL;
}

struct virt_driver *
virt_sim_hosts_driver(const struct virt_sim_hosts *hosts, size_t index)
{
    return index < hosts->n_hosts ? hosts->hosts[index].driver : NULL;
}

struct virt_driver *
virt_sim_hosts_find(const struct virt_sim_hosts *hosts, const char *name)
{
    for (size_t i = 0; i < hosts->n_hosts; i++) {
        if (!strcmp(hosts->hosts[i].name, name)) {
            return hosts->hosts[i].driver;
        }
    }
    return NULL;
}
