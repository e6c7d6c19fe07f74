/* cell-db-node.c: the 'compute_nodes' table and the claims (see
 * cell-db-node.h).
 *
 * Every statement on the table lives here.  Reads join each node with the
 * nova-compute service of its host (services.host = compute_nodes.host)
 * so that the scheduler gets a host's liveness with its sizes in one
 * query; "up" is computed by the database server with its own clock, as
 * in cell-db-service.c.
 *
 * Locking.  A claim is one UPDATE whose WHERE clause holds the capacity
 * check: InnoDB locks the node's row and evaluates the clause on its
 * latest committed version, so concurrent claims are serialised by the
 * row lock and each sees the others' effect.  The recompute is one UPDATE
 * whose values come from subqueries on 'instances'; InnoDB runs such
 * subqueries as locking reads (shared next-key locks), so they wait for a
 * transaction that is moving an instance onto or off the node and then
 * see its outcome, instead of summing a stale snapshot over a claim that
 * has just committed. */
#include <config.h>
#include "child-cell/cell-db-node.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "child-cell/cell-db-private.h"
#include "child-cell/cell-db-service.h"
#include "shared/cleanup.h"
#include "shared/db.h"
#include "shared/error.h"
#include "shared/flavor.h"
#include "shared/json-util.h"
#include "shared/timeutil.h"
#include "shared/uuid-util.h"
#include "shared/xalloc.h"

/* Disk totals are GiB, reserved disk MiB. */
#define CELL_DB_NODE_MB_PER_GB 1024

/* The first parameter of every statement that selects these columns is
 * the service down time, in seconds. */
#define NODE_COLUMNS                                                    \
    "cn.id, cn.uuid, cn.host, cn.hypervisor_hostname, "                 \
    "cn.hypervisor_type, cn.hypervisor_version, cn.cpu_info, "          \
    "cn.vcpus, cn.memory_mb, cn.local_gb, cn.vcpus_used, "              \
    "cn.memory_mb_used, cn.local_gb_used, cn.running_vms, "             \
    "cn.num_instances, cn.cpu_allocation_ratio, "                       \
    "cn.ram_allocation_ratio, cn.disk_allocation_ratio, "               \
    "cn.reserved_host_cpus, cn.reserved_host_memory_mb, "               \
    "cn.reserved_host_disk_mb, cn.updated_at, s.id IS NOT NULL, "       \
    "s.disabled, s.disabled_reason, s.forced_down, "                    \
    "(s.forced_down = 0 AND s.last_seen_up IS NOT NULL AND "            \
    "s.last_seen_up >= UTC_TIMESTAMP(6) - INTERVAL ? SECOND)"

#define NODE_FROM                                                       \
    " FROM compute_nodes cn LEFT JOIN services s ON s.host = cn.host"   \
    " AND s.`binary` = 'nova-compute' AND s.deleted = 0"

/* Largest service_down_time accepted, in seconds (a day). */
#define CELL_DB_NODE_MAX_DOWN_TIME_S 86400
/* Largest hypervisor version. */
#define CELL_DB_NODE_MAX_VERSION INT64_C(2147483647)

static const char *const cell_db_node_inventory_keys[] = {
    "vcpus", "memory_mb", "local_gb", "hypervisor_type",
    "hypervisor_version", "hypervisor_hostname", "cpu_info", "running_vms",
    "cpu_allocation_ratio", "ram_allocation_ratio", "disk_allocation_ratio",
    "reserved_host_cpus", "reserved_host_memory_mb",
    "reserved_host_disk_mb", NULL,
};

/* ---- Memory ----------------------------------------------------------- */

/* Frees what 'node' owns, not 'node' itself. */
static void
cell_db_node_destroy(struct cell_db_node *node)
{
    free(node->uuid);
    free(node->host);
    free(node->node);
    free(node->hypervisor_type);
    free(node->cpu_info);
    free(node->service_disabled_reason);
}

void
cell_db_node_free(struct cell_db_node *node)
{
    if (node) {
        cell_db_node_destroy(node);
        free(node);
    }
}

void
cell_db_node_list_free(struct cell_db_node_list *list)
{
    if (!list) {
        return;
    }
    for (size_t i = 0; i < list->n; i++) {
        cell_db_node_destroy(&list->items[i]);
    }
    free(list->items);
    free(list);
}

/* ---- Capacity --------------------------------------------------------- */

static double
cell_db_node_ratio(double ratio, double fallback)
{
    return ratio > 0 ? ratio : fallback;
}

/* floor() without libm, for the amounts of the capacity formula (far
 * inside the range of int64_t). */
static int64_t
cell_db_node_floor(double x)
{
    int64_t t = (int64_t) x;

    return (double) t > x ? t - 1 : t;
}

int64_t
cell_db_node_capacity_vcpus(const struct cell_db_node *node)
{
    return cell_db_node_floor((double) node->vcpus
                              * node->cpu_allocation_ratio)
           - node->reserved_host_cpus;
}

int64_t
cell_db_node_capacity_memory_mb(const struct cell_db_node *node)
{
    return cell_db_node_floor((double) node->memory_mb
                              * node->ram_allocation_ratio)
           - node->reserved_host_memory_mb;
}

int64_t
cell_db_node_capacity_disk_mb(const struct cell_db_node *node)
{
    return cell_db_node_floor((double) node->local_gb
                              * CELL_DB_NODE_MB_PER_GB
                              * node->disk_allocation_ratio)
           - node->reserved_host_disk_mb;
}

/* ---- Reading ---------------------------------------------------------- */

static void
cell_db_node_from_row(const struct db_rows *rows, size_t r,
                      struct cell_db_node *node)
{
    memset(node, 0, sizeof *node);
    node->id = db_rows_get_int64(rows, r, 0);
    node->uuid = cell_db_rows_dup(rows, r, 1);
    node->host = cell_db_rows_dup(rows, r, 2);
    node->node = cell_db_rows_dup(rows, r, 3);
    node->hypervisor_type = cell_db_rows_dup(rows, r, 4);
    node->hypervisor_version = db_rows_get_int64(rows, r, 5);
    node->cpu_info = cell_db_rows_dup(rows, r, 6);
    node->vcpus = db_rows_get_int64(rows, r, 7);
    node->memory_mb = db_rows_get_int64(rows, r, 8);
    node->local_gb = db_rows_get_int64(rows, r, 9);
    node->vcpus_used = db_rows_get_int64(rows, r, 10);
    node->memory_mb_used = db_rows_get_int64(rows, r, 11);
    node->local_gb_used = db_rows_get_int64(rows, r, 12);
    node->running_vms = db_rows_get_int64(rows, r, 13);
    node->num_instances = db_rows_get_int64(rows, r, 14);
    node->cpu_allocation_ratio = cell_db_node_ratio(
        db_rows_get_double(rows, r, 15), CELL_DB_NODE_DEFAULT_CPU_RATIO);
    node->ram_allocation_ratio = cell_db_node_ratio(
        db_rows_get_double(rows, r, 16), CELL_DB_NODE_DEFAULT_RAM_RATIO);
    node->disk_allocation_ratio = cell_db_node_ratio(
        db_rows_get_double(rows, r, 17), CELL_DB_NODE_DEFAULT_DISK_RATIO);
    node->reserved_host_cpus = db_rows_get_int64(rows, r, 18);
    node->reserved_host_memory_mb = db_rows_get_int64(rows, r, 19);
    node->reserved_host_disk_mb = db_rows_get_int64(rows, r, 20);
    node->updated_at = cell_db_rows_get_time(rows, r, 21);
    node->service_found = db_rows_get_bool(rows, r, 22);
    node->service_disabled = db_rows_get_bool(rows, r, 23);
    node->service_disabled_reason = cell_db_rows_dup(rows, r, 24);
    node->service_forced_down = db_rows_get_bool(rows, r, 25);
    node->service_up = db_rows_get_bool(rows, r, 26);
}

static int
cell_db_node_down_time(int service_down_time_s)
{
    if (service_down_time_s < 0) {
        return 0;
    }
    return service_down_time_s > CELL_DB_NODE_MAX_DOWN_TIME_S
           ? CELL_DB_NODE_MAX_DOWN_TIME_S : service_down_time_s;
}

static struct error *
cell_db_node_not_found(const char *host, const char *node)
{
    return error_new(ERROR_NOT_FOUND,
                     "Compute host %s (node %s) could not be found.",
                     host ? host : "(null)", node ? node : "(null)");
}

struct error *
cell_db_node_get(struct db *db, const char *host, const char *node,
                 int service_down_time_s, struct cell_db_node **ret_node)
{
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    struct cell_db_node *result;
    struct error *error;

    if (!host || !node) {
        return cell_db_node_not_found(host, node);
    }
    error = db_query(db,
                     "SELECT " NODE_COLUMNS NODE_FROM
                     " WHERE cn.host = ? AND cn.hypervisor_hostname = ?"
                     " AND cn.deleted = 0",
                     DB_PARAMS(DB_INT(cell_db_node_down_time(
                                          service_down_time_s)),
                               DB_STR(host), DB_STR(node)), &rows);
    if (error) {
        return error;
    }
    if (!db_rows_count(rows)) {
        return cell_db_node_not_found(host, node);
    }
    result = xmalloc(sizeof *result);
    cell_db_node_from_row(rows, 0, result);
    *ret_node = result;
    return NULL;
}

struct error *
cell_db_node_list(struct db *db, int service_down_time_s,
                  struct cell_db_node_list **ret_list)
{
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    struct cell_db_node_list *list;
    struct error *error;

    error = db_query(db,
                     "SELECT " NODE_COLUMNS NODE_FROM
                     " WHERE cn.deleted = 0 ORDER BY cn.id LIMIT ?",
                     DB_PARAMS(DB_INT(cell_db_node_down_time(
                                          service_down_time_s)),
                               DB_INT(CELL_DB_NODE_LIST_MAX)), &rows);
    if (error) {
        return error;
    }
    list = xzalloc(sizeof *list);
    if (db_rows_count(rows)) {
        list->items = xcalloc(db_rows_count(rows), sizeof *list->items);
    }
    for (size_t r = 0; r < db_rows_count(rows); r++) {
        cell_db_node_from_row(rows, r, &list->items[list->n++]);
    }
    *ret_list = list;
    return NULL;
}

/* ---- Inventory -------------------------------------------------------- */

static struct error *
cell_db_node_check_amount(const char *what, int64_t value)
{
    if (value < 0 || value > CELL_DB_NODE_MAX_AMOUNT) {
        return error_new(ERROR_INVALID, "%s %lld is outside 0..%lld", what,
                         (long long) value,
                         (long long) CELL_DB_NODE_MAX_AMOUNT);
    }
    return NULL;
}

static struct error *
cell_db_node_check_ratio(const char *what, double ratio)
{
    if (!isfinite(ratio) || ratio < 0 || ratio > CELL_DB_NODE_MAX_RATIO) {
        return error_new(ERROR_INVALID, "%s %g is outside 0..%g", what,
                         ratio, CELL_DB_NODE_MAX_RATIO);
    }
    return NULL;
}

static struct error *
cell_db_node_check_names(const char *host, const char *node)
{
    struct error *error;

    if ((error = cell_db_check_string("Compute host", host, true,
                                      CELL_DB_NODE_NAME_MAX_LENGTH))
        || (error = cell_db_check_string("Compute node", node, true,
                                         CELL_DB_NODE_NAME_MAX_LENGTH))) {
        return error;
    }
    return NULL;
}

static struct error *
cell_db_node_check_inventory(const struct cell_db_node_inventory *inv)
{
    struct error *error;

    if ((error = cell_db_node_check_names(inv->host, inv->node))
        || (error = cell_db_check_string("Hypervisor type",
                                         inv->hypervisor_type, false,
                                         CELL_DB_NODE_NAME_MAX_LENGTH))
        || (error = cell_db_check_string("cpu_info", inv->cpu_info, false,
                                         SIZE_MAX))
        || (error = cell_db_node_check_amount("vcpus", inv->vcpus))
        || (error = cell_db_node_check_amount("memory_mb", inv->memory_mb))
        || (error = cell_db_node_check_amount("local_gb", inv->local_gb))
        || (error = cell_db_node_check_amount("running_vms",
                                              inv->running_vms))
        || (error = cell_db_node_check_amount("reserved_host_cpus",
                                              inv->reserved_host_cpus))
        || (error = cell_db_node_check_amount(
                "reserved_host_memory_mb", inv->reserved_host_memory_mb))
        || (error = cell_db_node_check_amount("reserved_host_disk_mb",
                                              inv->reserved_host_disk_mb))
        || (error = cell_db_node_check_ratio("cpu_allocation_ratio",
                                             inv->cpu_allocation_ratio))
        || (error = cell_db_node_check_ratio("ram_allocation_ratio",
                                             inv->ram_allocation_ratio))
        || (error = cell_db_node_check_ratio(
                "disk_allocation_ratio", inv->disk_allocation_ratio))) {
        return error;
    }
    if (inv->cpu_info
        && strlen(inv->cpu_info) > CELL_DB_NODE_CPU_INFO_MAX_SIZE) {
        return error_new(ERROR_INVALID, "cpu_info is larger than %d bytes",
                         CELL_DB_NODE_CPU_INFO_MAX_SIZE);
    }
    if (inv->hypervisor_version < 0
        || inv->hypervisor_version > CELL_DB_NODE_MAX_VERSION) {
        return error_new(ERROR_INVALID,
                         "hypervisor_version %lld is out of range",
                         (long long) inv->hypervisor_version);
    }
    return NULL;
}

static struct error *
cell_db_node_get_amount(const struct json_object *obj, const char *path,
                        const char *field, bool required, int64_t *ret)
{
    long long value = 0;
    struct error *error = json_get_int(obj, path, field, required, 0,
                                       CELL_DB_NODE_MAX_AMOUNT, &value);

    if (!error) {
        *ret = value;
    }
    return error;
}

static struct error *
cell_db_node_get_ratio(const struct json_object *obj, const char *path,
                       const char *field, double *ret)
{
    double value = 0;
    struct error *error = json_get_double(obj, path, field, false, &value);

    if (error) {
        return error;
    }
    if (value < 0 || value > CELL_DB_NODE_MAX_RATIO) {
        AUTOFREE char *name = path ? xasprintf("%s.%s", path, field)
                                   : xstrdup(field);
        return error_new(ERROR_INVALID,
                         "Invalid input for field/attribute '%s'. Value: "
                         "%g. %g is outside 0..%g", name, value, value,
                         CELL_DB_NODE_MAX_RATIO);
    }
    *ret = value;
    return NULL;
}

/* Reads the optional, nullable string 'field' into '*ret' (borrowed). */
static struct error *
cell_db_node_get_string(const struct json_object *obj, const char *path,
                        const char *field, size_t max_length,
                        const char **ret)
{
    struct json_object *value;

    if (json_object_object_get_ex(obj, field, &value) && !value) {
        *ret = NULL;
        return NULL;
    }
    return json_get_string(obj, path, field, false, max_length, ret);
}

struct error *
cell_db_node_inventory_from_json(const struct json_object *obj,
                                 const char *path, const char *host,
                                 const char *node,
                                 struct cell_db_node_inventory *ret_inv)
{
    struct cell_db_node_inventory inv = { .host = host, .node = node };
    const char *hostname = NULL;
    long long version = 0;
    struct error *error;

    if ((error = json_check_allowed_keys(obj, path,
                                         cell_db_node_inventory_keys))
        || (error = cell_db_node_get_amount(obj, path, "vcpus", true,
                                            &inv.vcpus))
        || (error = cell_db_node_get_amount(obj, path, "memory_mb", true,
                                            &inv.memory_mb))
        || (error = cell_db_node_get_amount(obj, path, "local_gb", true,
                                            &inv.local_gb))
        || (error = cell_db_node_get_string(obj, path, "hypervisor_type",
                                            CELL_DB_NODE_NAME_MAX_LENGTH,
                                            &inv.hypervisor_type))
        || (error = json_get_int(obj, path, "hypervisor_version", false, 0,
                                 CELL_DB_NODE_MAX_VERSION, &version))
        || (error = cell_db_node_get_string(obj, path,
                                            "hypervisor_hostname",
                                            CELL_DB_NODE_NAME_MAX_LENGTH,
                                            &hostname))
        || (error = cell_db_node_get_string(obj, path, "cpu_info",
                                            CELL_DB_NODE_CPU_INFO_MAX_SIZE,
                                            &inv.cpu_info))
        || (error = cell_db_node_get_amount(obj, path, "running_vms",
                                            false, &inv.running_vms))
        || (error = cell_db_node_get_ratio(obj, path,
                                           "cpu_allocation_ratio",
                                           &inv.cpu_allocation_ratio))
        || (error = cell_db_node_get_ratio(obj, path,
                                           "ram_allocation_ratio",
                                           &inv.ram_allocation_ratio))
        || (error = cell_db_node_get_ratio(obj, path,
                                           "disk_allocation_ratio",
                                           &inv.disk_allocation_ratio))
        || (error = cell_db_node_get_amount(obj, path, "reserved_host_cpus",
                                            false, &inv.reserved_host_cpus))
        || (error = cell_db_node_get_amount(obj, path,
                                            "reserved_host_memory_mb", false,
                                            &inv.reserved_host_memory_mb))
        || (error = cell_db_node_get_amount(obj, path,
                                            "reserved_host_disk_mb", false,
                                            &inv.reserved_host_disk_mb))) {
        return error;
    }
    if (hostname && (!node || strcmp(hostname, node))) {
        AUTOFREE char *name = path
                              ? xasprintf("%s.hypervisor_hostname", path)
                              : xstrdup("hypervisor_hostname");
        return error_new(ERROR_INVALID,
                         "Invalid input for field/attribute '%s'. Value: "
                         "'%s' differs from the node '%s'", name, hostname,
                         node ? node : "(null)");
    }
    inv.hypervisor_version = version;
    *ret_inv = inv;
    return NULL;
}

struct error *
cell_db_node_upsert(struct db *db, const struct cell_db_node_inventory *inv,
                    struct cell_db_node **ret_node)
{
    char uuid[UUID_STRING_SIZE];
    char now[TIME_MYSQL_DATETIME_SIZE];
    struct db_value now_value = cell_db_time_value(time_now_ms(), now);
    struct error *error = cell_db_node_check_inventory(inv);

    if (error) {
        return error;
    }
    uuid_generate_string(uuid);
    error = db_exec(
        db,
        "INSERT INTO compute_nodes (uuid, host, hypervisor_hostname,"
        " hypervisor_type, hypervisor_version, cpu_info, vcpus, memory_mb,"
        " local_gb, running_vms, cpu_allocation_ratio,"
        " ram_allocation_ratio, disk_allocation_ratio, reserved_host_cpus,"
        " reserved_host_memory_mb, reserved_host_disk_mb, created_at,"
        " updated_at, deleted)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)"
        " ON DUPLICATE KEY UPDATE"
        " hypervisor_type = VALUES(hypervisor_type),"
        " hypervisor_version = VALUES(hypervisor_version),"
        " cpu_info = VALUES(cpu_info), vcpus = VALUES(vcpus),"
        " memory_mb = VALUES(memory_mb), local_gb = VALUES(local_gb),"
        " running_vms = VALUES(running_vms),"
        " cpu_allocation_ratio = VALUES(cpu_allocation_ratio),"
        " ram_allocation_ratio = VALUES(ram_allocation_ratio),"
        " disk_allocation_ratio = VALUES(disk_allocation_ratio),"
        " reserved_host_cpus = VALUES(reserved_host_cpus),"
        " reserved_host_memory_mb = VALUES(reserved_host_memory_mb),"
        " reserved_host_disk_mb = VALUES(reserved_host_disk_mb),"
        " updated_at = VALUES(updated_at)",
        DB_PARAMS(DB_STR(uuid), DB_STR(inv->host), DB_STR(inv->node),
                  DB_STR(inv->hypervisor_type ? inv->hypervisor_type : ""),
                  DB_INT(inv->hypervisor_version), DB_STR(inv->cpu_info),
                  DB_INT(inv->vcpus), DB_INT(inv->memory_mb),
                  DB_INT(inv->local_gb), DB_INT(inv->running_vms),
                  DB_DOUBLE(cell_db_node_ratio(
                                inv->cpu_allocation_ratio,
                                CELL_DB_NODE_DEFAULT_CPU_RATIO)),
                  DB_DOUBLE(cell_db_node_ratio(
                                inv->ram_allocation_ratio,
                                CELL_DB_NODE_DEFAULT_RAM_RATIO)),
                  DB_DOUBLE(cell_db_node_ratio(
                                inv->disk_allocation_ratio,
                                CELL_DB_NODE_DEFAULT_DISK_RATIO)),
                  DB_INT(inv->reserved_host_cpus),
                  DB_INT(inv->reserved_host_memory_mb),
                  DB_INT(inv->reserved_host_disk_mb), now_value,
                  now_value),
        NULL);
    if (error) {
        return error;
    }
    if (ret_node) {
        return cell_db_node_get(db, inv->host, inv->node,
                                CELL_DB_SERVICE_DOWN_TIME_S, ret_node);
    }
    return NULL;
}

/* ---- Claims ----------------------------------------------------------- */

static struct error *
cell_db_node_check_claim(const char *host, const char *node, int64_t vcpus,
                         int64_t memory_mb, int64_t disk_gb)
{
    struct error *error;

    if ((error = cell_db_node_check_names(host, node))
        || (error = cell_db_node_check_amount("Claimed vcpus", vcpus))
        || (error = cell_db_node_check_amount("Claimed memory_mb",
                                              memory_mb))
        || (error = cell_db_node_check_amount("Claimed disk_gb",
                                              disk_gb))) {
        return error;
    }
    return NULL;
}

/* Stores whether node 'node' of 'host' exists in '*ret_exists'. */
static struct error *
cell_db_node_exists(struct db *db, const char *host, const char *node,
                    bool *ret_exists)
{
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    struct error *error;

    error = db_query(db,
                     "SELECT 1 FROM compute_nodes WHERE host = ?"
                     " AND hypervisor_hostname = ? AND deleted = 0",
                     DB_PARAMS(DB_STR(host), DB_STR(node)), &rows);
    if (!error) {
        *ret_exists = db_rows_count(rows) > 0;
    }
    return error;
}

struct error *
cell_db_node_claim(struct db *db, const char *host, const char *node,
                   int64_t vcpus, int64_t memory_mb, int64_t disk_gb,
                   bool *ret_claimed)
{
    uint64_t affected = 0;
    bool exists = false;
    struct error *error = cell_db_node_check_claim(host, node, vcpus,
                                                   memory_mb, disk_gb);

    if (error) {
        return error;
    }
    /* The used amounts are INT columns: capacities above their range are
     * cut to it, so the sums can never overflow a column. */
    error = db_exec(
        db,
        "UPDATE compute_nodes SET vcpus_used = vcpus_used + ?,"
        " memory_mb_used = memory_mb_used + ?,"
        " local_gb_used = local_gb_used + ?,"
        " num_instances = num_instances + 1"
        " WHERE host = ? AND hypervisor_hostname = ? AND deleted = 0"
        " AND vcpus_used + ? <= LEAST(2147483647,"
        " FLOOR(vcpus * COALESCE(NULLIF(cpu_allocation_ratio, 0), ?))"
        " - reserved_host_cpus)"
        " AND memory_mb_used + ? <= LEAST(2147483647,"
        " FLOOR(memory_mb * COALESCE(NULLIF(ram_allocation_ratio, 0), ?))"
        " - reserved_host_memory_mb)"
        " AND local_gb_used + ? <= 2147483647"
        " AND (local_gb_used + ?) * 1024 <= FLOOR(local_gb * 1024"
        " * COALESCE(NULLIF(disk_allocation_ratio, 0), ?))"
        " - reserved_host_disk_mb"
        " AND num_instances < 2147483647",
        DB_PARAMS(DB_INT(vcpus), DB_INT(memory_mb), DB_INT(disk_gb),
                  DB_STR(host), DB_STR(node),
                  DB_INT(vcpus), DB_DOUBLE(CELL_DB_NODE_DEFAULT_CPU_RATIO),
                  DB_INT(memory_mb),
                  DB_DOUBLE(CELL_DB_NODE_DEFAULT_RAM_RATIO),
                  DB_INT(disk_gb), DB_INT(disk_gb),
                  DB_DOUBLE(CELL_DB_NODE_DEFAULT_DISK_RATIO)),
        &affected);
    if (error) {
        return error;
    }
    if (affected) {
        *ret_claimed = true;
        return NULL;
    }
    /* Either the node is full or it does not exist. */
    error = cell_db_node_exists(db, host, node, &exists);
    if (error) {
        return error;
    }
    if (!exists) {
        return cell_db_node_not_found(host, node);
    }
    *ret_claimed = false;
    return NULL;
}

struct error *
cell_db_node_release(struct db *db, const char *host, const char *node,
                     int64_t vcpus, int64_t memory_mb, int64_t disk_gb)
{
    uint64_t affected = 0;
    struct error *error = cell_db_node_check_claim(host, node, vcpus,
                                                   memory_mb, disk_gb);

    if (error) {
        return error;
    }
    error = db_exec(db,
                    "UPDATE compute_nodes"
                    " SET vcpus_used = GREATEST(vcpus_used - ?, 0),"
                    " memory_mb_used = GREATEST(memory_mb_used - ?, 0),"
                    " local_gb_used = GREATEST(local_gb_used - ?, 0),"
                    " num_instances = GREATEST(num_instances - 1, 0)"
                    " WHERE host = ? AND hypervisor_hostname = ?"
                    " AND deleted = 0",
                    DB_PARAMS(DB_INT(vcpus), DB_INT(memory_mb),
                              DB_INT(disk_gb), DB_STR(host), DB_STR(node)),
                    &affected);
    if (error) {
        return error;
    }
    return affected ? NULL : cell_db_node_not_found(host, node);
}

struct error *
cell_db_node_claim_flavor(struct db *db, const char *host, const char *node,
                          const struct flavor *flavor, bool *ret_claimed)
{
    return cell_db_node_claim(db, host, node, flavor->vcpus,
                              flavor->memory_mb, flavor_disk_gb(flavor),
                              ret_claimed);
}

struct error *
cell_db_node_release_flavor(struct db *db, const char *host,
                            const char *node, const struct flavor *flavor)
{
    return cell_db_node_release(db, host, node, flavor->vcpus,
                                flavor->memory_mb, flavor_disk_gb(flavor));
}

struct error *
cell_db_node_recompute_usage(struct db *db, const char *host,
                             const char *node)
{
    uint64_t affected = 0;
    struct error *error = cell_db_node_check_names(host, node);

    if (error) {
        return error;
    }
    /* Swap is MiB: whole GiB, rounded up, as flavor_disk_gb() counts. */
    error = db_exec(
        db,
        "UPDATE compute_nodes SET"
        " vcpus_used = (SELECT COALESCE(SUM(COALESCE(vcpus, 0)), 0)"
        " FROM instances WHERE host = ? AND node = ? AND deleted = 0),"
        " memory_mb_used = (SELECT COALESCE(SUM(COALESCE(memory_mb, 0)), 0)"
        " FROM instances WHERE host = ? AND node = ? AND deleted = 0),"
        " local_gb_used = (SELECT COALESCE(SUM(COALESCE(root_gb, 0)"
        " + COALESCE(ephemeral_gb, 0) + CEILING(COALESCE(swap, 0) / 1024)),"
        " 0) FROM instances WHERE host = ? AND node = ? AND deleted = 0),"
        " num_instances = (SELECT COUNT(*) FROM instances"
        " WHERE host = ? AND node = ? AND deleted = 0)"
        " WHERE host = ? AND hypervisor_hostname = ? AND deleted = 0",
        DB_PARAMS(DB_STR(host), DB_STR(node), DB_STR(host), DB_STR(node),
                  DB_STR(host), DB_STR(node), DB_STR(host), DB_STR(node),
                  DB_STR(host), DB_STR(node)),
        &affected);
    if (error) {
        return error;
    }
    return affected ? NULL : cell_db_node_not_found(host, node);
}

struct error *
cell_db_node_delete_by_host(struct db *db, const char *host, size_t *ret_n)
{
    char now[TIME_MYSQL_DATETIME_SIZE];
    uint64_t affected = 0;
    struct error *error = cell_db_check_string(
        "Compute host", host, true, CELL_DB_NODE_NAME_MAX_LENGTH);

    if (error) {
        return error;
    }
    error = db_exec(db,
                    "UPDATE compute_nodes SET deleted = id, deleted_at = ?"
                    " WHERE host = ? AND deleted = 0",
                    DB_PARAMS(cell_db_time_value(time_now_ms(), now),
                              DB_STR(host)),
                    &affected);
    if (!error && ret_n) {
        *ret_n = (size_t) affected;
    }
    return error;
}
