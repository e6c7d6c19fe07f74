/* cells-capacity-report.c: capacity reports up the tree (see
 * cells-capacity-report.h). */
#include <config.h>

#include "child-cell/cells-capacity-report.h"

#include <json-c/json.h>
#include <string.h>

#include "cells-rpc/cell-capacity.h"
#include "cells-rpc/cell-health.h"
#include "cells-rpc/cell-msg.h"
#include "cells-rpc/cell-node.h"
#include "cells-rpc/cells-rpcapi.h"
#include "child-cell/cell-db-node.h"
#include "child-cell/cells-health-report.h"
#include "child-cell/cells-private.h"
#include "shared/cleanup.h"
#include "shared/error.h"
#include "shared/json-util.h"
#include "shared/log.h"
#include "shared/poll-loop.h"
#include "shared/timeutil.h"
#include "shared/topology.h"
#include "shared/xalloc.h"

LOG_MODULE("cells.capacity");

#define MIB_PER_GIB 1024
/* Longest cpu_info text parsed for the architecture. */
#define CELLS_CPU_INFO_MAX_SIZE CELL_DB_NODE_CPU_INFO_MAX_SIZE

/* Nova's default flavor sizes (m1.tiny to m1.xlarge): their units are
 * counted host by host; other sizes are estimated from the free totals. */
static const struct cell_capacity_flavor cells_report_flavors[] = {
    { 1, 512, 1 },
    { 1, 2048, 20 },
    { 2, 4096, 40 },
    { 4, 8192, 80 },
    { 8, 16384, 160 },
};

/* The architecture in a node's cpu_info ({"arch": "x86_64", ...}), or
 * NULL.  Borrowed from 'doc'. */
static const char *
cells_report_arch(const char *cpu_info, struct json_object **doc)
{
    const char *arch = NULL;
    struct error *error;

    *doc = NULL;
    if (!cpu_info || !*cpu_info) {
        return NULL;
    }
    error = json_parse_text(cpu_info, strlen(cpu_info),
                            CELLS_CPU_INFO_MAX_SIZE, 0, doc);
    if (!error && json_object_is_type(*doc, json_type_object)) {
        error = json_get_string(*doc, "cpu_info", "arch", false,
                                CELL_CAPACITY_MAX_NAME_LENGTH, &arch);
    }
    if (error) {
        error_free(error);
        return NULL;
    }
    return arch;
}

static int64_t
cells_report_free(int64_t capacity, int64_t used)
{
    return capacity > used ? capacity - used : 0;
}

/* Adds the zones and capabilities cells.yaml gives this cell. */
static struct error *
cells_report_add_topology(const struct cells_service *svc,
                          struct cell_capacity *cap)
{
    const struct topology_cell *cell = svc->cell;

    for (size_t i = 0; i < cell->n_capabilities; i++) {
        const struct topology_capability *c = &cell->capabilities[i];

        for (size_t j = 0; j < c->n_values; j++) {
            struct error *error = cell_capacity_add_capability(
                cap, c->name, c->values[j]);

            if (error) {
                return error;
            }
        }
    }
    return NULL;
}

/* Builds a leaf's report from its compute nodes. */
static struct error *
cells_report_build_leaf(struct cells_service *svc,
                        struct cell_capacity **ret_cap)
{
    CLEANUP(cell_db_node_list_freep) struct cell_db_node_list *nodes = NULL;
    struct cell_capacity_host *hosts;
    struct json_object **docs;
    const char *zone = (svc->cell->n_availability_zones
                        ? svc->cell->availability_zones[0] : NULL);
    struct error *error;

    error = cell_db_node_list(svc->cell_db, svc->service_down_time_s,
                              &nodes);
    if (error) {
        return error;
    }
    hosts = xcalloc(nodes->n ? nodes->n : 1, sizeof *hosts);
    docs = xcalloc(nodes->n ? nodes->n : 1, sizeof *docs);
    for (size_t i = 0; i < nodes->n; i++) {
        const struct cell_db_node *node = &nodes->items[i];
        struct cell_capacity_host *h = &hosts[i];
        int64_t vcpus = cell_db_node_capacity_vcpus(node);
        int64_t ram = cell_db_node_capacity_memory_mb(node);
        int64_t disk = cell_db_node_capacity_disk_mb(node) / MIB_PER_GIB;

        h->total.vcpus = node->vcpus;
        h->total.ram_mb = node->memory_mb;
        h->total.disk_gb = node->local_gb;
        h->free.vcpus = cells_report_free(vcpus, node->vcpus_used);
        h->free.ram_mb = cells_report_free(ram, node->memory_mb_used);
        h->free.disk_gb = cells_report_free(disk, node->local_gb_used);
        h->n_instances = node->num_instances;
        h->usable = (node->service_found && !node->service_disabled
                     && !node->service_forced_down && node->service_up);
        h->hypervisor_type = (node->hypervisor_type
                              && *node->hypervisor_type
                              ? node->hypervisor_type : NULL);
        h->architecture = cells_report_arch(node->cpu_info, &docs[i]);
        h->availability_zone = zone;
    }
    error = cell_capacity_build(hosts, nodes->n, cells_report_flavors,
                                ARRAY_SIZE(cells_report_flavors),
                                CELL_CAPACITY_DEFAULT_RESERVE_PERCENT,
                                time_now_ms(), ret_cap);
    for (size_t i = 0; i < nodes->n; i++) {
        json_object_put(docs[i]);
    }
    free(docs);
    free(hosts);
    return error;
}

/* Sums the latest reports of the children this cell may schedule to, and
 * the report of its own hosts if it has any ('svc->own_capacity', built
 * just before). */
static struct error *
cells_report_build_aggregate(struct cells_service *svc,
                             struct cell_capacity **ret_cap)
{
    const struct cell_capacity **reports;
    long long now = poll_loop_now_ms();
    size_t n = 0;
    struct error *error;

    reports = xcalloc(svc->n_children + 1, sizeof *reports);
    if (svc->is_leaf && svc->own_capacity) {
        reports[n++] = svc->own_capacity;
    }
    for (size_t i = 0; i < svc->n_children; i++) {
        const struct cells_child *child = &svc->children[i];

        if (child->capacity && !child->cell->disabled
            && cell_health_may_schedule(&child->health, now)) {
            reports[n++] = child->capacity;
        }
    }
    error = cell_capacity_aggregate(reports, n, time_now_ms(), ret_cap);
    free(reports);
    return error;
}

void
cells_capacity_report_send(struct cells_service *svc)
{
    CLEANUP(cell_capacity_freep) struct cell_capacity *cap = NULL;
    struct json_object *args;
    struct cell_msg *msg;
    struct error *error;

    if (svc->is_leaf && (svc->n_children || svc->is_root)) {
        /* Hosts of its own beside children: the report of those hosts
         * alone is what this cell's scheduler weighs them by
         * (cells-build.c), and a part of the sum sent up. */
        CLEANUP(cell_capacity_freep) struct cell_capacity *own = NULL;

        error = cells_report_build_leaf(svc, &own);
        if (!error) {
            error = cells_report_add_topology(svc, own);
        }
        if (error) {
            LOG_WARN_RL("cannot build the capacity report of the hosts of "
                        "cell '%s': %s", svc->path, error_message(error));
            error_free(error);
        } else {
            cell_capacity_free(svc->own_capacity);
            svc->own_capacity = TAKE_PTR(own);
        }
    }
    if (svc->is_root) {
        return;
    }
    error = (svc->n_children
             ? cells_report_build_aggregate(svc, &cap)
             : cells_report_build_leaf(svc, &cap));
    if (!error) {
        error = cells_report_add_topology(svc, cap);
    }
    if (error) {
        LOG_WARN_RL("cannot build the capacity report of cell '%s': %s",
                    svc->path, error_message(error));
        error_free(error);
        return;
    }
    if (!svc->n_children) {
        cell_capacity_free(svc->own_capacity);
        svc->own_capacity = cell_capacity_clone(cap);
    }
    args = json_object_new_object();
    json_object_object_add(args, "capacity", cell_capacity_to_json(cap));
    cells_health_report_add(svc, args);
    error = cell_msg_new_targeted(svc->path, svc->cell->parent->path,
                                  CELLS_MSG_CAPACITY_REPORT, args, &msg);
    if (!error) {
        error = cell_node_send(svc->node, msg, 0, NULL, NULL);
    }
    if (error) {
        LOG_WARN_RL("cannot send the capacity report of cell '%s': %s",
                    svc->path, error_message(error));
        error_free(error);
        return;
    }
    svc->stats.reports_sent++;
    LOG_DBG("capacity report sent: %lld MiB RAM, %lld vCPUs free, %lld "
            "instances", (long long) cap->free.ram_mb,
            (long long) cap->free.vcpus, (long long) cap->n_instances);
}

struct error *
cells_capacity_report_cell(struct cell_request *req, void *svc_,
                           struct json_object **ret_result)
{
    struct cells_service *svc = svc_;
    const struct cell_msg *msg = cell_request_msg(req);
    struct cells_child *child = cells_find_child(svc, msg->sender);
    struct json_object *cap_json;
    struct cell_capacity *cap;
    struct error *error;

    (void) ret_result;
    if (!child) {
        return error_new(ERROR_INVALID, "Cell '%s' is not a child of '%s'",
                         msg->sender, svc->path);
    }
    error = json_get_object(msg->args, NULL, "capacity", true, &cap_json);
    if (!error) {
        error = cell_capacity_from_json(cap_json, "capacity", &cap);
    }
    if (error) {
        LOG_WARN_RL("bad capacity report from cell '%s': %s", msg->sender,
                    error_message(error));
        return error;
    }
    /* Said once per change between room and none, and after silence. */
    if (!child->capacity
        || cell_health_is_mute(&child->health, poll_loop_now_ms())
        || (child->capacity->free.vcpus > 0) != (cap->free.vcpus > 0)) {
        LOG_INFO("cell '%s' reports %s: %lld MiB RAM and %lld vCPUs free "
                 "on usable hosts", msg->sender,
                 cap->free.vcpus > 0 ? "room" : "no room",
                 (long long) cap->free.ram_mb, (long long) cap->free.vcpus);
    }
    cell_capacity_free(child->capacity);
    child->capacity = cap;
    cell_health_record_report(&child->health, poll_loop_now_ms());
    cells_health_report_received(svc, child, msg->args);
    svc->stats.reports_received++;
    return NULL;
}
