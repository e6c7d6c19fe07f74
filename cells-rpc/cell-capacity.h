/* cell-capacity.h: what a cell tells its parent about its room and its
 * abilities: the capacity report.
 *
 * Every nova-cells process sends its parent one report per report
 * interval.  A leaf cell builds it from its compute hosts
 * (cell_capacity_build()); an intermediate cell sums the reports of its
 * children, and of its own hosts if it has any (cell_capacity_aggregate()).
 * The parent's cell scheduler (cell-sched.h) reads the reports to filter
 * and weigh its children, and the arrival of a report is the child's
 * heartbeat (cell-health.h).
 *
 * A report holds
 *   - the free and the total RAM (MiB), disk (GiB) and vCPUs;
 *   - the number of instances;
 *   - the free "units" per flavor size: how many more instances of that
 *     size fit.  As in Nova cells v1, units are counted per host and then
 *     summed: a host with free RAM r, disk d and vCPUs v offers
 *     min(r / ram, d / disk, v / vcpus) units (integer division; a
 *     dimension the flavor does not use does not limit), after holding
 *     'reserve_percent' of the host's total RAM and disk back, like Nova's
 *     cells.reserve_percent.  Sizes, not flavor ids, are the keys, so two
 *     flavors of one size share an entry and a renamed flavor keeps its;
 *   - capabilities: a key and a set of values per key, such as
 *     hypervisor_type {QEMU, test} and architecture {x86_64}, from the
 *     hosts, plus any the operator adds;
 *   - the availability zones of the hosts;
 *   - the time it was made.
 *
 * Only hosts that can take instances (compute service enabled and up)
 * count towards free amounts, units, capabilities and zones; every host
 * counts towards the totals and the instance count.  A host with negative
 * free amounts (overcommitted) adds nothing free.  Amounts are capped at
 * CELL_CAPACITY_MAX_AMOUNT, so sums over a large tree never overflow.
 *
 * JSON form (one object, every key required, nothing else allowed: a new
 * key comes with a new RPC version):
 *
 *     {"reported_at": 1700000000000,
 *      "free": {"ram_mb": 30720, "disk_gb": 900, "vcpus": 44},
 *      "total": {"ram_mb": 65536, "disk_gb": 2000, "vcpus": 64},
 *      "instances": 12,
 *      "units": [{"vcpus": 1, "ram_mb": 512, "disk_gb": 1, "units": 44}],
 *      "capabilities": {"architecture": ["x86_64"],
 *                       "hypervisor_type": ["QEMU", "test"]},
 *      "availability_zones": ["nova"]}
 *
 * cell_capacity_to_json() writes sizes, keys and values in sorted order,
 * so equal reports encode to equal text.
 *
 * Threads: a report is plain data; share it read-only or clone it. */
#ifndef NOVA_CELL_CAPACITY_H
#define NOVA_CELL_CAPACITY_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "shared/cleanup.h"
#include "shared/compiler.h"

struct error;
struct json_object;

/* Largest amount of anything in a report (2^53: exact in a double, so
 * weights computed from it are exact too).  Sums saturate here. */
#define CELL_CAPACITY_MAX_AMOUNT (INT64_C(1) << 53)

/* Largest vCPUs, RAM (MiB) and disk (GiB) of one flavor size, as
 * shared/flavor.h allows. */
#define CELL_CAPACITY_MAX_FLAVOR_AMOUNT INT64_C(2147483647)

/* Most flavor sizes in one report. */
#define CELL_CAPACITY_MAX_FLAVORS 1000

/* Most capability keys, values per key, and zones in one report. */
#define CELL_CAPACITY_MAX_CAPABILITIES 64
#define CELL_CAPACITY_MAX_VALUES 256
#define CELL_CAPACITY_MAX_ZONES 1000

/* Longest capability key or value, or zone name, in bytes. */
#define CELL_CAPACITY_MAX_NAME_LENGTH 255

/* Most hosts cell_capacity_build() takes in one call. */
#define CELL_CAPACITY_MAX_HOSTS 1000000

/* Most reports cell_capacity_aggregate() takes in one call. */
#define CELL_CAPACITY_MAX_CHILDREN 100000

/* Zone of a host that names none (Nova's default_availability_zone). */
#define CELL_CAPACITY_DEFAULT_ZONE "nova"

/* Nova's cells.reserve_percent. */
#define CELL_CAPACITY_DEFAULT_RESERVE_PERCENT 10.0

/* The capability keys the leaf fills from its hosts, and that the cell
 * scheduler's ImagePropertiesFilter reads. */
#define CELL_CAPACITY_HYPERVISOR_TYPE "hypervisor_type"
#define CELL_CAPACITY_ARCHITECTURE "architecture"

/* RAM, disk and vCPUs. */
struct cell_capacity_amounts {
    int64_t ram_mb;
    int64_t disk_gb;
    int64_t vcpus;
};

/* A flavor size: what one instance needs.  'disk_gb' is root plus
 * ephemeral disk (0 for a volume-backed server).  'vcpus' and 'ram_mb'
 * are at least 1. */
struct cell_capacity_flavor {
    int64_t vcpus;
    int64_t ram_mb;
    int64_t disk_gb;
};

/* Free units of one flavor size. */
struct cell_capacity_units {
    struct cell_capacity_flavor flavor;
    int64_t units;
};

/* One capability: a key and its values (sorted by strcmp(), unique). */
struct cell_capacity_capability {
    char *key;
    char **values;
    size_t n_values;
};

/* A report.  Members are public for reading; change a report only through
 * the functions below, which keep the arrays sorted (units by size, then
 * capabilities by key, zones by name, all strcmp() or numeric order) and
 * unique. */
struct cell_capacity {
    int64_t reported_at_ms;     /* When it was made (ms since the epoch). */
    struct cell_capacity_amounts free;
    struct cell_capacity_amounts total;
    int64_t n_instances;
    struct cell_capacity_units *units;
    size_t n_units;
    struct cell_capacity_capability *capabilities;
    size_t n_capabilities;
    char **zones;
    size_t n_zones;
};

/* One compute host, as a leaf's nova-cells reads it from its database.
 * Strings are borrowed for the call; NULL hypervisor type or architecture
 * means unknown, NULL zone CELL_CAPACITY_DEFAULT_ZONE. */
struct cell_capacity_host {
    struct cell_capacity_amounts free;
    struct cell_capacity_amounts total;
    int64_t n_instances;
    bool usable;                /* Compute service enabled and up. */
    const char *hypervisor_type;
    const char *architecture;
    const char *availability_zone;
};

/* Returns a new, empty report made at 'now_ms'.  The caller owns it. */
struct cell_capacity *cell_capacity_new(int64_t now_ms);

/* Frees 'cap'.  Accepts NULL. */
void cell_capacity_free(struct cell_capacity *cap);
DEFINE_FREEP(struct cell_capacity, cell_capacity_free)

/* Returns a deep copy of 'cap', owned by the caller. */
struct cell_capacity *cell_capacity_clone(const struct cell_capacity *cap);

/* True if 'a' and 'b' hold the same report. */
bool cell_capacity_equal(const struct cell_capacity *a,
                         const struct cell_capacity *b);

/* Checks 'flavor' against the limits above.  Returns NULL, or an
 * ERROR_INVALID error naming 'what' and the bad field (caller owns it). */
struct error *cell_capacity_flavor_check(const char *what,
                                         const struct cell_capacity_flavor
                                         *flavor) WARN_UNUSED;

/* Builds a leaf cell's report at 'now_ms' from its 'n_hosts' 'hosts', with
 * units for each of the 'n_flavors' 'flavors' (duplicates count once),
 * holding 'reserve_percent' (0 to 100) of each host's total RAM and disk
 * back from the units.  Returns NULL and sets '*ret_cap' (owned by the
 * caller), or an ERROR_INVALID error naming the bad host, flavor or
 * limit. */
struct error *cell_capacity_build(const struct cell_capacity_host *hosts,
                                  size_t n_hosts,
                                  const struct cell_capacity_flavor *flavors,
                                  size_t n_flavors, double reserve_percent,
                                  int64_t now_ms,
                                  struct cell_capacity **ret_cap)
    WARN_UNUSED;

/* Builds an intermediate cell's report at 'now_ms' from the 'n_children'
 * reports in 'children' (borrowed; pass those of the children the cell may
 * schedule to, and the report of its own hosts if it has any).  Amounts
 * and instances are summed; capabilities and zones are unions; units are
 * listed for every size any child lists, each child contributing
 * cell_capacity_units() for it (its own figure, or its estimate if it does
 * not list the size).  Returns NULL and sets '*ret_cap', or an
 * ERROR_INVALID error when the union outgrows a limit. */
struct error *cell_capacity_aggregate(const struct cell_capacity *const
                                      *children, size_t n_children,
                                      int64_t now_ms,
                                      struct cell_capacity **ret_cap)
    WARN_UNUSED;

/* Adds 'value' to capability 'key' of 'cap' (an operator's own
 * capabilities, such as "os" {"linux"}).  Adding a value already there
 * changes nothing.  Returns NULL, or an ERROR_INVALID error for an empty
 * or too long key or value, or too many keys or values. */
struct error *cell_capacity_add_capability(struct cell_capacity *cap,
                                           const char *key,
                                           const char *value) WARN_UNUSED;

/* Returns capability 'key' of 'cap', or NULL if it has none. */
const struct cell_capacity_capability *cell_capacity_find_capability(
    const struct cell_capacity *cap, const char *key);

/* True if capability 'key' of 'cap' has a value equal to 'value', ignoring
 * case (as Nova compares hypervisor types and architectures). */
bool cell_capacity_has_capability(const struct cell_capacity *cap,
                                  const char *key, const char *value);

/* True if 'zone' (exact) is one of the zones of 'cap'. */
bool cell_capacity_has_zone(const struct cell_capacity *cap,
                            const char *zone);

/* Returns how many more instances of 'flavor' (valid) fit in 'cap'.  For a
 * size the report lists, that is its figure.  For one it does not (a
 * flavor created after the report), it is an estimate from the free
 * totals, min(free RAM / ram, free disk / disk, free vCPUs / vcpus): an
 * upper bound, since the room may be split over hosts; the leaf's host
 * scheduler has the last word.  Stores whether it estimated in
 * '*ret_estimated' if that is not NULL. */
int64_t cell_capacity_units(const struct cell_capacity *cap,
                            const struct cell_capacity_flavor *flavor,
                            bool *ret_estimated);

/* Returns the JSON form of 'cap' (a new reference, owned by the
 * caller). */
struct json_object *cell_capacity_to_json(const struct cell_capacity *cap);

/* Decodes the JSON form in 'obj', named 'path' in error messages ("args"
 * or NULL).  Strict: every key required, no other key, every value of its
 * JSON type and within the limits above, sizes, values and zones unique.
 * Returns NULL and sets '*ret_cap' (owned by the caller), or an
 * ERROR_INVALID error naming the field. */
struct error *cell_capacity_from_json(const struct json_object *obj,
                                      const char *path,
                                      struct cell_capacity **ret_cap)
    WARN_UNUSED;

#endif /* NOVA_CELL_CAPACITY_H */
