/* nova-compute.c: the compute service of a leaf cell.
 *
 *     nova-compute [--config FILE] [--set KEY=VALUE]... [--log-level SPEC]
 *                  [--simulate-hosts N] [--host NAME]
 *
 * This file only reads the configuration (one key table: the parser,
 * --help and man/nova-compute.8 agree), opens the hosts
 * (compute-hosts.h), starts libvirt's event thread (compute-events.h) and
 * runs the poll loop of the compute manager (compute-manager.h), where the
 * service lives.  SIGTERM and SIGINT stop it cleanly; SIGHUP reopens the
 * log file.
 *
 * Exit status: 0 after a requested stop, 1 when the service cannot start
 * (broker or libvirt unreachable), 2 for a mistake on the command line or
 * in the configuration. */
#include <config.h>

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "child-cell/compute-events.h"
#include "child-cell/compute-hosts.h"
#include "child-cell/compute-manager.h"
#include "child-cell/compute-workers.h"
#include "child-cell/virt-driver.h"
#include "child-cell/virt-libvirt.h"
#include "child-cell/virt-sim-hosts.h"
#include "shared/cleanup.h"
#include "shared/config.h"
#include "shared/daemon.h"
#include "shared/error.h"
#include "shared/log.h"
#include "shared/poll-loop.h"
#include "shared/xalloc.h"

LOG_MODULE("compute");

#define COMPUTE_NAME "nova-compute"

#define MS_PER_S 1000LL

/* Domain types accepted by compute.default_domain_type; "auto" is test for
 * simulated hosts and qemu (TCG, which boots everywhere) otherwise. */
enum compute_domain_choice {
    COMPUTE_DOMAIN_AUTO,
    COMPUTE_DOMAIN_QEMU,
    COMPUTE_DOMAIN_KVM,
    COMPUTE_DOMAIN_TEST,
};

static const char *const compute_domain_names[] = {
    "auto", "qemu", "kvm", "test", NULL
};

struct compute_config {
    struct daemon_common common;
    char *transport_url;
    char *host;
    char *libvirt_uri;
    long long simulate_hosts;
    long long sim_vcpus;
    long long sim_memory_mb;
    long long sim_disk_gb;
    char *state_path;
    long long workers;
    long long heartbeat_interval;
    long long resource_report_interval;
    long long sync_power_state_interval;
    long long shutdown_timeout;
    long long soft_reboot_timeout;
    long long boot_timeout;
    char *boot_marker;
    int default_domain_type;
    long long conductor_timeout;
    long long conductor_retries;
    char *image_api_url;
    char *image_auth_url;
    char *image_username;
    char *image_password;
    char *image_project;
    char *image_cache_dir;
    long long image_cache_max_age;
    long long image_cache_clean_interval;
};

#define COMPUTE_KEY(PATH, TYPE, MEMBER, DEFAULT, MIN, MAX, CHOICES, HELP) \
    { PATH, TYPE, offsetof(struct compute_config, MEMBER), DEFAULT, MIN, \
      MAX, CHOICES, HELP }

static const struct config_key compute_keys[] = {
    DAEMON_COMMON_KEYS(struct compute_config, common),
    COMPUTE_KEY("transport_url", CONFIG_TYPE_STRING, transport_url, NULL, 0,
                0, NULL, "RabbitMQ URL of the leaf cell's vhost "
                "(rabbit://USER:PASSWORD@HOST:PORT/VHOST)"),
    COMPUTE_KEY("host", CONFIG_TYPE_STRING, host, NULL, 0, 0, NULL,
                "Name of this compute host (queue compute.HOST); prefix of "
                "simulated host names; default: the machine's host name"),
    COMPUTE_KEY("compute.libvirt_uri", CONFIG_TYPE_STRING, libvirt_uri,
                "qemu:///system", 0, 0, NULL,
                "libvirt connection URI of the real host"),
    COMPUTE_KEY("compute.simulate_hosts", CONFIG_TYPE_INT, simulate_hosts,
                "0", 0, VIRT_SIM_HOSTS_MAX, NULL,
                "0: serve the real host; N: serve N simulated hosts "
                "HOST-0001... on libvirt's test driver"),
    COMPUTE_KEY("compute.sim_vcpus", CONFIG_TYPE_INT, sim_vcpus, "16", 1,
                VIRT_SIM_HOST_CPUS_MAX, NULL, "vCPUs of each simulated host"),
    COMPUTE_KEY("compute.sim_memory_mb", CONFIG_TYPE_INT, sim_memory_mb,
                "65536", 1, 16LL * 1024 * 1024, NULL,
                "Memory of each simulated host, in MiB"),
    COMPUTE_KEY("compute.sim_disk_gb", CONFIG_TYPE_INT, sim_disk_gb, "1024",
                1, 1024LL * 1024, NULL,
                "Local disk of each simulated host, in GiB"),
    COMPUTE_KEY("compute.state_path", CONFIG_TYPE_STRING, state_path,
                NOVA_LOCALSTATEDIR, 0, 0, NULL,
                "Absolute directory for instance files, console logs and "
                "simulated hosts' node files"),
    COMPUTE_KEY("compute.workers", CONFIG_TYPE_INT, workers, "2", 1,
                COMPUTE_WORKERS_MAX, NULL,
                "Threads that run blocking libvirt calls"),
    COMPUTE_KEY("compute.heartbeat_interval", CONFIG_TYPE_INT,
                heartbeat_interval, "10", 1, 3600, NULL,
                "Seconds between service heartbeats of each host"),
    COMPUTE_KEY("compute.resource_report_interval", CONFIG_TYPE_INT,
                resource_report_interval, "60", 1, 86400, NULL,
                "Seconds between inventory reports of each host (also "
                "sent at start and after every build and delete)"),
    COMPUTE_KEY("compute.sync_power_state_interval", CONFIG_TYPE_INT,
                sync_power_state_interval, "60", 0, 86400, NULL,
                "Seconds between power-state syncs of each host; 0 "
                "disables the periodic sync (events still sync)"),
    COMPUTE_KEY("compute.shutdown_timeout", CONFIG_TYPE_INT,
                shutdown_timeout, "60", 0, 3600, NULL,
                "Seconds a stop waits for the guest to shut down before "
                "the domain is destroyed"),
    COMPUTE_KEY("compute.soft_reboot_timeout", CONFIG_TYPE_INT,
                soft_reboot_timeout, "120", 0, 3600, NULL,
                "Seconds a soft reboot waits for the guest before a hard "
                "reboot; 0 makes every reboot hard"),
    COMPUTE_KEY("compute.boot_timeout", CONFIG_TYPE_INT, boot_timeout, "300",
                0, 86400, NULL,
                "Seconds a qemu or kvm guest (or any guest, with "
                "compute.boot_marker) may take to boot before its build "
                "fails; 0 disables the check"),
    COMPUTE_KEY("compute.boot_marker", CONFIG_TYPE_STRING, boot_marker, NULL,
                0, 0, NULL,
                "Text a booted guest prints on its serial console; unset: "
                "running counts as booted"),
    COMPUTE_KEY("compute.default_domain_type", CONFIG_TYPE_ENUM,
                default_domain_type, "auto", 0, 0, compute_domain_names,
                "libvirt domain type of instances (auto: test for "
                "simulated hosts, else qemu)"),
    COMPUTE_KEY("compute.conductor_timeout", CONFIG_TYPE_INT,
                conductor_timeout, "60", 1, 3600, NULL,
                "Seconds to wait for each reply of the conductor"),
    COMPUTE_KEY("compute.conductor_retries", CONFIG_TYPE_INT,
                conductor_retries, "10", 1, 1000, NULL,
                "Attempts of each conductor call or cast before it is "
                "given up (timeouts and an unreachable broker retry)"),
    COMPUTE_KEY("image.api_url", CONFIG_TYPE_STRING, image_api_url, NULL,
                0, 0, NULL,
                "Image service endpoint (http://HOST:PORT/image) to "
                "download images from; unset: read the image store's "
                "paths directly"),
    COMPUTE_KEY("image.auth_url", CONFIG_TYPE_STRING, image_auth_url, NULL,
                0, 0, NULL,
                "Identity endpoint (http://HOST:PORT/v3) for the token of "
                "the service user"),
    COMPUTE_KEY("image.username", CONFIG_TYPE_STRING, image_username, NULL,
                0, 0, NULL, "Service user that downloads images"),
    COMPUTE_KEY("image.password", CONFIG_TYPE_STRING, image_password, NULL,
                0, 0, NULL, "Password of image.username"),
    COMPUTE_KEY("image.project", CONFIG_TYPE_STRING, image_project, NULL,
                0, 0, NULL, "Project of the service user's token"),
    COMPUTE_KEY("image.cache_dir", CONFIG_TYPE_STRING, image_cache_dir, NULL,
                0, 0, NULL,
                "Absolute directory of the image cache; default: "
                "image-cache under compute.state_path"),
    COMPUTE_KEY("image.cache_max_age", CONFIG_TYPE_INT, image_cache_max_age,
                "86400", 0, 100LL * 365 * 86400, NULL,
                "Seconds a cached image may stay unused by any instance "
                "of this host before the periodic cleanup removes it"),
    COMPUTE_KEY("image.cache_clean_interval", CONFIG_TYPE_INT,
                image_cache_clean_interval, "600", 0, 86400, NULL,
                "Seconds between cleanups of the image cache; 0 disables "
                "them"),
};

static const struct config_schema compute_schema = {
    "nova.yaml", compute_keys, ARRAY_SIZE(compute_keys),
};

static const struct daemon_option compute_options[] = {
    { "simulate-hosts", "compute.simulate_hosts",
      "Serve N simulated hosts (compute.simulate_hosts)" },
    { "host", "host", "Name of this host, or of the simulated hosts "
      "(host)" },
};

static void
compute_print_error(const char *message)
{
    fprintf(stderr, COMPUTE_NAME ": %s\n", message);
}

/* Maps the configuration to the options of the compute manager. */
static void
compute_manager_options_from_config(const struct compute_config *c,
                                    struct compute_manager_options *o)
{
    compute_manager_options_init(o);
    o->transport_url = c->transport_url;
    o->state_path = c->state_path;
    switch ((enum compute_domain_choice) c->default_domain_type) {
    case COMPUTE_DOMAIN_AUTO:
        o->domain_type = c->simulate_hosts ? VIRT_DOMAIN_TEST
                                           : VIRT_DOMAIN_QEMU;
        break;
    case COMPUTE_DOMAIN_QEMU:
        o->domain_type = VIRT_DOMAIN_QEMU;
        break;
    case COMPUTE_DOMAIN_KVM:
        o->domain_type = VIRT_DOMAIN_KVM;
        break;
    case COMPUTE_DOMAIN_TEST:
        o->domain_type = VIRT_DOMAIN_TEST;
        break;
    }
    o->n_workers = (unsigned int) c->workers;
    o->heartbeat_interval_ms = c->heartbeat_interval * MS_PER_S;
    o->report_interval_ms = c->resource_report_interval * MS_PER_S;
    o->sync_interval_ms = c->sync_power_state_interval * MS_PER_S;
    o->shutdown_timeout_ms = (unsigned int) (c->shutdown_timeout * MS_PER_S);
    o->boot_timeout_ms = c->boot_timeout * MS_PER_S;
    o->boot_marker = c->boot_marker;
    o->conductor.call_timeout_ms = (int) (c->conductor_timeout * MS_PER_S);
    o->conductor.max_attempts = (unsigned int) c->conductor_retries;
    o->image.api_url = c->image_api_url;
    o->image.auth_url = c->image_auth_url;
    o->image.username = c->image_username;
    o->image.password = c->image_password;
    o->image.project = c->image_project;
    o->image.cache_dir = c->image_cache_dir;
    o->image.max_age_s = c->image_cache_max_age;
    o->image_clean_interval_ms = c->image_cache_clean_interval * MS_PER_S;
}

static void
compute_run_cb(void *manager)
{
    compute_manager_run(manager);
}

static void
compute_wait_cb(void *manager)
{
    compute_manager_wait(manager);
}

/* Runs the service until SIGTERM or SIGINT.  Returns an exit status. */
static int
compute_serve(const void *config_)
{
    const struct compute_config *config = config_;
    CLEANUP(compute_hosts_freep) struct compute_hosts *hosts = NULL;
    AUTOFREE char *default_host = NULL;
    struct compute_event_thread *events = NULL;
    struct compute_manager *manager = NULL;
    struct compute_hosts_config hc = {
        .host = config->host,
        .libvirt_uri = config->libvirt_uri,
        .state_path = config->state_path,
        .n_simulated = (unsigned int) config->simulate_hosts,
        .sim_vcpus = (unsigned int) config->sim_vcpus,
        .sim_memory_mb = (unsigned int) config->sim_memory_mb,
        .sim_disk_gb = (unsigned int) config->sim_disk_gb,
        .soft_reboot_timeout_ms = (unsigned int)
            (config->soft_reboot_timeout * MS_PER_S),
    };
    struct compute_manager_options options;
    struct error *error;

    if (!hc.host || !*hc.host) {
        default_host = compute_hosts_default_name();
        if (!default_host) {
            compute_print_error("cannot read this machine's host name: set "
                                "'host'");
            return DAEMON_EXIT_FAILURE;
        }
        hc.host = default_host;
    }
    if (config->simulate_hosts
        && config->default_domain_type != COMPUTE_DOMAIN_AUTO
        && config->default_domain_type != COMPUTE_DOMAIN_TEST) {
        compute_print_error("simulated hosts only build domains of type "
                            "'test': set compute.default_domain_type to "
                            "'auto' or 'test'");
        return DAEMON_EXIT_USAGE;
    }
    if (daemon_signals_init()) {
        compute_print_error("cannot install the signal handlers");
        return DAEMON_EXIT_FAILURE;
    }

    /* libvirt's event loop must be registered before any connection is
     * opened, and its thread must outlive the hosts' drivers. */
    error = compute_event_thread_start(&events);
    if (!error) {
        error = compute_hosts_open(&hc, &hosts);
    }
    if (!error) {
        compute_manager_options_from_config(config, &options);
        error = compute_manager_new(&options, compute_hosts_list(hosts),
                                    compute_hosts_count(hosts), &manager);
    }
    if (error) {
        compute_hosts_free(TAKE_PTR(hosts));
        compute_event_thread_stop(events);
        return daemon_start_failed(COMPUTE_NAME, &config->common, error);
    }

    LOG_INFO("started (%zu host%s)", compute_hosts_count(hosts),
             compute_hosts_count(hosts) == 1 ? "" : "s");
    daemon_run_service(compute_run_cb, compute_wait_cb, manager);
    compute_manager_free(manager);
    compute_hosts_free(TAKE_PTR(hosts));
    compute_event_thread_stop(events);
    LOG_INFO("stopped");
    return DAEMON_EXIT_OK;
}

int
main(int argc, char *argv[])
{
    struct compute_config config;
    const struct daemon_info info = {
        .name = COMPUTE_NAME,
        .usage = NULL,
        .summary = "Run the compute service of a leaf cell: build and "
                   "manage instances through libvirt",
        .schema = &compute_schema,
        .common_offset = offsetof(struct compute_config, common),
        .options = compute_options,
        .n_options = ARRAY_SIZE(compute_options),
    };
    int status;

    status = daemon_main(&info, argc, argv, &config, compute_serve);
    log_reset();
    return status;
}
