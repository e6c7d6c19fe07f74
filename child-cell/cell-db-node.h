/* cell-db-node.h: the 'compute_nodes' table of the cell database: the
 * hypervisors of the cell, their sizes, and the claims on them.
 *
 * nova-compute reports each of its nodes (compute_node_update in
 * child-cell/rpcapi.h); the conductor stores the report with
 * cell_db_node_upsert() and then heals the usage with
 * cell_db_node_recompute_usage().  nova-scheduler lists the nodes with
 * their service's state (cell_db_node_list()) to build its host states.
 *
 * Resource model, the same as child-cell/sched-host.h's.  For each
 * resource the node can hand out
 *
 *     capacity = floor(total * allocation_ratio) - reserved
 *
 *     vCPUs   total 'vcpus', ratio 'cpu_allocation_ratio', reserved
 *             'reserved_host_cpus'
 *     RAM     MiB: 'memory_mb', 'ram_allocation_ratio',
 *             'reserved_host_memory_mb'
 *     disk    counted in MiB: 'local_gb' * 1024, 'disk_allocation_ratio',
 *             'reserved_host_disk_mb'; usage is whole GiB
 *             (flavor_disk_gb(): root + ephemeral + swap rounded up)
 *
 * and 'used' (vcpus_used, memory_mb_used, local_gb_used) counts what
 * instances use, without the reserved amounts.  A ratio of 0 in a report
 * stands for Nova's initial_*_allocation_ratio default below, which is
 * what gets stored.
 *
 * Claims (DESIGN.md, section 7; rpcapi.h "Claims").  The conductor is the
 * only writer of 'used':
 *
 *   - cell_db_node_claim() adds an instance's amounts with ONE conditional
 *     UPDATE that applies only if, for all three resources,
 *     used + request <= capacity.  InnoDB evaluates the condition on the
 *     latest committed row under its row lock, so two conductors or
 *     schedulers racing for the last room of a host cannot both succeed.
 *     A claim that would oversubscribe is a normal outcome, not an error:
 *     it returns NULL with '*ret_claimed' false, and the caller tries an
 *     alternate host.
 *   - cell_db_node_release() gives the amounts back (never below 0).
 *   - cell_db_node_recompute_usage() sets 'used' to the sum of the flavors
 *     of the instances (not deleted) whose host and node are this node's,
 *     in one statement: that heals any drift (a lost release, a crash
 *     between a claim and recording the instance).
 *
 * For the sums to agree, record the instance's host and node
 * (cell_db_instance_set_host()) in the same transaction as its claim, and
 * release a claim in the same transaction as the change that ends it
 * (cell_db_instance_mark_deleted(), or clearing the host after a failed
 * build): a recompute then never sees one without the other.
 *
 * See cell-db.h for the rules shared by every cell_db_* function. */
#ifndef NOVA_CELL_DB_NODE_H
#define NOVA_CELL_DB_NODE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "shared/compiler.h"
#include "shared/cleanup.h"

struct db;
struct error;
struct flavor;
struct json_object;

/* Allocation ratios used when a report gives 0 (Nova's
 * initial_cpu_allocation_ratio, initial_ram_allocation_ratio and
 * initial_disk_allocation_ratio since Stein). */
#define CELL_DB_NODE_DEFAULT_CPU_RATIO 4.0
#define CELL_DB_NODE_DEFAULT_RAM_RATIO 1.0
#define CELL_DB_NODE_DEFAULT_DISK_RATIO 1.0
/* Nova's defaults of reserved_host_cpus, reserved_host_memory_mb and
 * reserved_host_disk_mb, for callers that take them from configuration. */
#define CELL_DB_NODE_DEFAULT_RESERVED_CPUS 0
#define CELL_DB_NODE_DEFAULT_RESERVED_MEMORY_MB 512
#define CELL_DB_NODE_DEFAULT_RESERVED_DISK_MB 0
/* Largest ratio, and largest total, reserved or claimed amount accepted
 * (the columns are signed 32-bit). */
#define CELL_DB_NODE_MAX_RATIO 1000.0
#define CELL_DB_NODE_MAX_AMOUNT INT64_C(2147483647)
/* Longest host, node and hypervisor type, in characters, and largest
 * cpu_info, in bytes. */
#define CELL_DB_NODE_NAME_MAX_LENGTH 255
#define CELL_DB_NODE_CPU_INFO_MAX_SIZE 65535
/* At most this many nodes per list. */
#define CELL_DB_NODE_LIST_MAX 100000

/* A node's report: what cell_db_node_upsert() stores.  Strings are
 * borrowed for the call.  'host' and 'node' are required; so are the
 * totals (0 or more). */
struct cell_db_node_inventory {
    const char *host;
    const char *node;                   /* hypervisor_hostname */
    const char *hypervisor_type;        /* "QEMU"; NULL: "" */
    int64_t hypervisor_version;         /* 8002000 for 8.2.0 */
    const char *cpu_info;               /* JSON text, or NULL */
    int64_t vcpus;
    int64_t memory_mb;
    int64_t local_gb;
    int64_t running_vms;                /* domains the hypervisor runs */
    double cpu_allocation_ratio;        /* 0: the default above */
    double ram_allocation_ratio;
    double disk_allocation_ratio;
    int64_t reserved_host_cpus;
    int64_t reserved_host_memory_mb;
    int64_t reserved_host_disk_mb;
};

/* Decodes the "inventory" object of rpcapi.h's compute_node_update, found
 * at 'path', for node 'node' of 'host' (borrowed):
 *     {"vcpus", "memory_mb", "local_gb" (integers, required),
 *      "hypervisor_type" (string), "hypervisor_version" (integer),
 *      "hypervisor_hostname" (string; must equal 'node' when given),
 *      "cpu_info" (string of JSON text, or null), "running_vms" (integer),
 *      and optionally "cpu_allocation_ratio", "ram_allocation_ratio",
 *      "disk_allocation_ratio" (numbers), "reserved_host_cpus",
 *      "reserved_host_memory_mb", "reserved_host_disk_mb" (integers)}.
 * No other key is allowed; absent optional values are 0.  Strings of
 * '*ret_inv' are borrowed from 'obj'.  Returns NULL or an ERROR_INVALID
 * error naming the field. */
struct error *cell_db_node_inventory_from_json(
    const struct json_object *obj, const char *path, const char *host,
    const char *node, struct cell_db_node_inventory *ret_inv) WARN_UNUSED;

/* A compute node row and the state of its host's nova-compute service.
 * Strings are owned; 'cpu_info' may be NULL. */
struct cell_db_node {
    int64_t id;
    char *uuid;
    char *host;
    char *node;                         /* hypervisor_hostname */
    char *hypervisor_type;
    int64_t hypervisor_version;
    char *cpu_info;
    int64_t vcpus;
    int64_t memory_mb;
    int64_t local_gb;
    int64_t vcpus_used;
    int64_t memory_mb_used;
    int64_t local_gb_used;
    int64_t running_vms;
    int64_t num_instances;              /* instances counted in 'used' */
    double cpu_allocation_ratio;        /* effective: defaults applied */
    double ram_allocation_ratio;
    double disk_allocation_ratio;
    int64_t reserved_host_cpus;
    int64_t reserved_host_memory_mb;
    int64_t reserved_host_disk_mb;
    int64_t updated_at;                 /* ms of the last report */

    /* The nova-compute service of 'host'. */
    bool service_found;                 /* false: no heartbeat yet */
    bool service_disabled;
    char *service_disabled_reason;
    bool service_forced_down;
    bool service_up;                    /* heartbeat within down time */
};

struct cell_db_node_list {
    struct cell_db_node *items;
    size_t n;
};

void cell_db_node_free(struct cell_db_node *);        /* Accepts NULL. */
DEFINE_FREEP(struct cell_db_node, cell_db_node_free)
void cell_db_node_list_free(struct cell_db_node_list *);
DEFINE_FREEP(struct cell_db_node_list, cell_db_node_list_free)

/* Capacities of 'node' per the resource model above (vCPUs, MiB, MiB). */
int64_t cell_db_node_capacity_vcpus(const struct cell_db_node *node);
int64_t cell_db_node_capacity_memory_mb(const struct cell_db_node *node);
int64_t cell_db_node_capacity_disk_mb(const struct cell_db_node *node);

/* Creates the row of 'inv->node' on 'inv->host' (with a new uuid and no
 * usage) or updates its hypervisor facts, totals, ratios and reserved
 * amounts, in one statement; the usage is left alone (see
 * cell_db_node_recompute_usage()).  Returns ERROR_INVALID for a value out
 * of range.  Stores the row after the change in '*ret_node' (if not NULL;
 * service state with CELL_DB_SERVICE_DOWN_TIME_S). */
struct error *cell_db_node_upsert(struct db *db,
                                  const struct cell_db_node_inventory *inv,
                                  struct cell_db_node **ret_node)
    WARN_UNUSED;

/* Reads node 'node' of 'host' and its service state, computing 'up' with
 * 'service_down_time_s'.  ERROR_NOT_FOUND "Compute host <host> (node
 * <node>) could not be found." when there is none. */
struct error *cell_db_node_get(struct db *db, const char *host,
                               const char *node, int service_down_time_s,
                               struct cell_db_node **ret_node) WARN_UNUSED;

/* Lists every compute node (not deleted) with its service state, ordered
 * by id (Nova's host manager order), computing 'up' with
 * 'service_down_time_s'. */
struct error *cell_db_node_list(struct db *db, int service_down_time_s,
                                struct cell_db_node_list **ret_list)
    WARN_UNUSED;

/* Claims 'vcpus', 'memory_mb' and 'disk_gb' (each 0..CELL_DB_NODE_MAX_
 * AMOUNT) on node 'node' of 'host' for one instance, with one conditional
 * UPDATE (see Claims above); a claim also counts one instance in
 * 'num_instances'.  Stores true in '*ret_claimed' when the amounts were
 * added, false when they would oversubscribe the node (nothing changed).
 * ERROR_NOT_FOUND as cell_db_node_get() for an unknown node,
 * ERROR_INVALID for a negative or too large amount. */
struct error *cell_db_node_claim(struct db *db, const char *host,
                                 const char *node, int64_t vcpus,
                                 int64_t memory_mb, int64_t disk_gb,
                                 bool *ret_claimed) WARN_UNUSED;

/* Gives back a claim made with the same amounts: each used amount (and
 * 'num_instances', by one) goes down, never below 0.  ERROR_NOT_FOUND as
 * cell_db_node_get(). */
struct error *cell_db_node_release(struct db *db, const char *host,
                                   const char *node, int64_t vcpus,
                                   int64_t memory_mb, int64_t disk_gb)
    WARN_UNUSED;

/* cell_db_node_claim() and cell_db_node_release() with the amounts of
 * 'flavor': vcpus, memory_mb and flavor_disk_gb(). */
struct error *cell_db_node_claim_flavor(struct db *db, const char *host,
                                        const char *node,
                                        const struct flavor *flavor,
                                        bool *ret_claimed) WARN_UNUSED;
struct error *cell_db_node_release_flavor(struct db *db, const char *host,
                                          const char *node,
                                          const struct flavor *flavor)
    WARN_UNUSED;

/* Sets the usage of node 'node' of 'host' to the sum over the instances
 * not deleted whose host and node are this node's: vcpus, memory_mb,
 * root_gb + ephemeral_gb + swap in whole GiB, and their count, in one
 * statement.  ERROR_NOT_FOUND as cell_db_node_get(). */
struct error *cell_db_node_recompute_usage(struct db *db, const char *host,
                                           const char *node) WARN_UNUSED;

/* Deletes (soft-deletes) every compute node of 'host'.  No error when it
 * has none.  Stores how many were deleted in '*ret_n' (if not NULL). */
struct error *cell_db_node_delete_by_host(struct db *db, const char *host,
                                          size_t *ret_n) WARN_UNUSED;

#endif /* NOVA_CELL_DB_NODE_H */
