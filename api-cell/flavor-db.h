/* flavor-db.h: flavors in the API database.
 *
 * The 'flavors', 'flavor_extra_specs' and 'flavor_projects' tables of
 * shared/db/migrations/api/0004_compute.sql, as Nova's API database keeps
 * them.  A flavor is public (every project may use it) or private (only
 * the projects given access in 'flavor_projects' may, and admins).
 * Visibility follows Nova: a caller that is not an admin sees public
 * flavors and the private ones its project was given; an admin sees
 * every flavor on a show, and on a list whatever the is_public filter
 * asks for.
 *
 * Flavors are deleted for good (the schema keeps no soft-deleted rows):
 * instances carry a snapshot of their flavor (shared/instance.h), so a
 * deleted flavor changes nothing that runs.
 *
 * Threads: every function runs on the caller's connection. */
#ifndef NOVA_FLAVOR_DB_H
#define NOVA_FLAVOR_DB_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "shared/compiler.h"
#include "shared/cleanup.h"

struct db;
struct error;
struct flavor;
struct flavor_spec;

/* A flavor as the API shows it: the object-model flavor plus the columns
 * only the API reads.  Owned by whoever got it; flavor_record_free(). */
struct flavor_record {
    int64_t id;                 /* the row id (internal) */
    struct flavor *flavor;      /* sizes; extra specs only where a
                                 * function says so */
    double rxtx_factor;
    bool is_public;
    bool disabled;
};

void flavor_record_free(struct flavor_record *);
DEFINE_FREEP(struct flavor_record, flavor_record_free)
void flavor_record_array_free(struct flavor_record **, size_t n);

/* A flavor 'flavorid' usable by the caller: public, or private with the
 * project given access, or any for admin.  Extra specs included.
 * ERROR_NOT_FOUND "Flavor <id> could not be found." */
struct error *flavor_db_get_for_boot(struct db *, const char *flavorid,
                                     const char *project_id, bool is_admin,
                                     struct flavor **ret) WARN_UNUSED;

/* The flavor 'flavorid' as a caller of project 'project_id' may see it
 * (every flavor when 'is_admin'), with its extra specs when
 * 'with_specs'.  ERROR_NOT_FOUND "Flavor <id> could not be found." */
struct error *flavor_db_get(struct db *, const char *flavorid,
                            const char *project_id, bool is_admin,
                            bool with_specs, struct flavor_record **ret)
    WARN_UNUSED;

/* Which flavors a list returns, as Nova's is_public filter.  (The values
 * are bound into flavor_db_list()'s SQL.) */
enum flavor_db_visibility {
    FLAVOR_DB_ALL = 0,          /* every flavor (admin, is_public=none) */
    FLAVOR_DB_PUBLIC_OR_PROJECT = 1,    /* public ones and those
                                         * 'project_id' was given */
    FLAVOR_DB_PRIVATE = 2,      /* private ones only (admin,
                                 * is_public=false) */
};

/* Sort keys a list accepts: the columns of Nova's flavor model. */
#define FLAVOR_DB_SORT_KEYS(X)          \
    X(FLAVOR_SORT_ID, "id")             \
    X(FLAVOR_SORT_FLAVORID, "flavorid") \
    X(FLAVOR_SORT_NAME, "name")         \
    X(FLAVOR_SORT_MEMORY_MB, "memory_mb") \
    X(FLAVOR_SORT_VCPUS, "vcpus")       \
    X(FLAVOR_SORT_ROOT_GB, "root_gb")   \
    X(FLAVOR_SORT_EPHEMERAL_GB, "ephemeral_gb") \
    X(FLAVOR_SORT_SWAP, "swap")         \
    X(FLAVOR_SORT_RXTX_FACTOR, "rxtx_factor") \
    X(FLAVOR_SORT_IS_PUBLIC, "is_public") \
    X(FLAVOR_SORT_DISABLED, "disabled")

enum flavor_db_sort_key {
#define FLAVOR_DB_SORT_ENUM(key, name) key,
    FLAVOR_DB_SORT_KEYS(FLAVOR_DB_SORT_ENUM)
#undef FLAVOR_DB_SORT_ENUM
};

/* Returns 0 and sets '*ret_key' for a sort key named above, else
 * -EINVAL. */
int flavor_db_sort_key_from_string(const char *name,
                                   enum flavor_db_sort_key *ret_key);

struct flavor_db_filter {
    enum flavor_db_visibility visibility;
    const char *project_id;     /* for FLAVOR_DB_PUBLIC_OR_PROJECT */
    bool hide_disabled;         /* callers that are not admins */
    int64_t min_ram;            /* memory_mb >= (0: any) */
    int64_t min_disk;           /* root_gb >= (0: any) */
    enum flavor_db_sort_key sort_key;   /* then by row id, as Nova */
    bool sort_desc;
    const char *marker;         /* flavorid; ERROR_INVALID "marker [X] not
                                 * found" when it is not in the list */
    size_t limit;               /* 0: no limit */
};

/* Sets '*filter' to Nova's defaults: public or the project's flavors,
 * sorted by flavorid ascending, no limit. */
void flavor_db_filter_init(struct flavor_db_filter *filter);

/* The flavors 'filter' selects, without extra specs, in '*ret' (an array
 * of '*ret_n' records the caller frees with flavor_record_array_free()). */
struct error *flavor_db_list(struct db *, const struct flavor_db_filter *,
                             struct flavor_record ***ret, size_t *ret_n)
    WARN_UNUSED;

/* Inserts 'record' (its flavor's flavorid, name and sizes, and its
 * rxtx_factor, is_public and disabled; extra specs are ignored) and sets
 * its 'id'.  ERROR_CONFLICT "Flavor with name X already exists." or
 * "Flavor with ID X already exists." */
struct error *flavor_db_create(struct db *, struct flavor_record *record)
    WARN_UNUSED;

/* Deletes flavor 'flavorid' with its extra specs and access list.
 * ERROR_NOT_FOUND "Flavor <id> could not be found." */
struct error *flavor_db_delete(struct db *, const char *flavorid)
    WARN_UNUSED;

/* Sets each of the 'n' extra specs 'specs' of the flavor of row 'id'
 * (inserting or replacing), in one transaction. */
struct error *flavor_db_set_extra_specs(struct db *, int64_t id,
                                        const struct flavor_spec *specs,
                                        size_t n) WARN_UNUSED;

/* Deletes extra spec 'key' of the flavor of row 'id'.  Stores in
 * '*ret_found' whether it existed. */
struct error *flavor_db_delete_extra_spec(struct db *, int64_t id,
                                          const char *key, bool *ret_found)
    WARN_UNUSED;

/* The projects given access to the flavor of row 'id', sorted, in
 * '*ret_projects' (an array of '*ret_n' strings; the caller frees each and
 * the array). */
struct error *flavor_db_access_list(struct db *, int64_t id,
                                    char ***ret_projects, size_t *ret_n)
    WARN_UNUSED;

/* Gives 'project_id' access to the flavor 'flavorid' (row 'id').
 * ERROR_CONFLICT "Flavor access already exists for flavor X and project Y
 * combination." */
struct error *flavor_db_access_add(struct db *, int64_t id,
                                   const char *flavorid,
                                   const char *project_id) WARN_UNUSED;

/* Takes the access of 'project_id' away.  ERROR_NOT_FOUND "Flavor access
 * not found for X / Y combination." */
struct error *flavor_db_access_remove(struct db *, int64_t id,
                                      const char *flavorid,
                                      const char *project_id) WARN_UNUSED;

#endif /* NOVA_FLAVOR_DB_H */
