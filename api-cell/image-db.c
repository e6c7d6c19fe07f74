/* image-db.c: image records in the API database (see image-db.h).
 *
 * Every SQL statement of the image tables lives here.  Reads are two
 * steps: the image rows, then the properties and tags of those images
 * (one query each, by id), so that a list costs three queries whatever
 * its length.  Writes that touch several tables run in one transaction
 * (db_txn_run()), which rewrites the properties and tags of an image
 * whole: an image has few of them. */
#include <config.h>
#include "api-cell/image-db.h"

#include <stdlib.h>
#include <string.h>

#include "shared/db.h"
#include "shared/error.h"
#include "shared/instance.h"
#include "shared/xalloc.h"

/* The columns every image read selects, in the order image_from_row()
 * reads them. */
#define IMAGE_DB_COLUMNS                                                  \
    "id, name, owner, status, visibility, protected, os_hidden, "         \
    "disk_format, container_format, size, virtual_size, checksum, "       \
    "os_hash_algo, os_hash_value, min_disk, min_ram, location, "          \
    "DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%sZ'), "                     \
    "DATE_FORMAT(COALESCE(updated_at, created_at), "                      \
    "'%Y-%m-%dT%H:%i:%sZ')"

/* Whether a project sees an image, as SQL over the images row and the
 * parameters (project, project): owner, non-private-or-shared, or
 * member. */
#define IMAGE_DB_VISIBLE_SQL                                              \
    "(owner = ? OR visibility IN ('public', 'community') "                \
    "OR (visibility = 'shared' AND EXISTS (SELECT 1 FROM image_members m "\
    "WHERE m.image_id = images.id AND m.member = ? "                      \
    "AND m.status <> 'rejected')))"

struct image *
image_new(void)
{
    struct image *image = xzalloc(sizeof *image);

    image->size = -1;
    image->virtual_size = -1;
    return image;
}

void
image_free(struct image *image)
{
    if (!image) {
        return;
    }
    free(image->id);
    free(image->name);
    free(image->owner);
    free(image->status);
    free(image->visibility);
    free(image->disk_format);
    free(image->container_format);
    free(image->checksum);
    free(image->os_hash_algo);
    free(image->os_hash_value);
    free(image->location);
    free(image->created_at);
    free(image->updated_at);
    for (size_t i = 0; i < image->n_properties; i++) {
        free(image->properties[i].name);
        free(image->properties[i].value);
    }
    free(image->properties);
    for (size_t i = 0; i < image->n_tags; i++) {
        free(image->tags[i]);
    }
    free(image->tags);
    free(image);
}

void
image_array_free(struct image **images, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        image_free(images[i]);
    }
    free(images);
}

void
image_set_property(struct image *image, const char *name, const char *value)
{
    size_t i = 0;

    while (i < image->n_properties
           && strcmp(image->properties[i].name, name) < 0) {
        i++;
    }
    if (i < image->n_properties && !strcmp(image->properties[i].name, name)) {
        if (value) {
            free(image->properties[i].value);
            image->properties[i].value = xstrdup(value);
        } else {
            free(image->properties[i].name);
            free(image->properties[i].value);
            memmove(&image->properties[i], &image->properties[i + 1],
                    (image->n_properties - i - 1)
                    * sizeof *image->properties);
            image->n_properties--;
        }
        return;
    }
    if (!value) {
        return;
    }
    image->properties = xreallocarray(image->properties,
                                      image->n_properties + 1,
                                      sizeof *image->properties);
    memmove(&image->properties[i + 1], &image->properties[i],
            (image->n_properties - i) * sizeof *image->properties);
    image->properties[i].name = xstrdup(name);
    image->properties[i].value = xstrdup(value);
    image->n_properties++;
}

const char *
image_get_property(const struct image *image, const char *name)
{
    for (size_t i = 0; i < image->n_properties; i++) {
        if (!strcmp(image->properties[i].name, name)) {
            return image->properties[i].value;
        }
    }
    return NULL;
}

void
image_add_tag(struct image *image, const char *tag)
{
    for (size_t i = 0; i < image->n_tags; i++) {
        if (!strcmp(image->tags[i], tag)) {
            return;
        }
    }
    image->tags = xreallocarray(image->tags, image->n_tags + 1,
                                sizeof *image->tags);
    image->tags[image->n_tags++] = xstrdup(tag);
}

void
image_remove_tag(struct image *image, const char *tag)
{
    for (size_t i = 0; i < image->n_tags; i++) {
        if (!strcmp(image->tags[i], tag)) {
            free(image->tags[i]);
            memmove(&image->tags[i], &image->tags[i + 1],
                    (image->n_tags - i - 1) * sizeof *image->tags);
            image->n_tags--;
            return;
        }
    }
}

bool
image_is_visible(const struct image *image, const char *project_id,
                 bool is_admin, bool is_member)
{
    if (is_admin) {
        return true;
    }
    if (image->owner && project_id && !strcmp(image->owner, project_id)) {
        return true;
    }
    if (!strcmp(image->visibility, "public")
        || !strcmp(image->visibility, "community")) {
        return true;
    }
    return !strcmp(image->visibility, "shared") && is_member;
}

/* ---- Reading --------------------------------------------------------- */

static char *
image_db_str(const struct db_rows *rows, size_t r, size_t c)
{
    return db_rows_is_null(rows, r, c) ? NULL
           : xstrdup(db_rows_get_str(rows, r, c));
}

static int64_t
image_db_int_or_unset(const struct db_rows *rows, size_t r, size_t c)
{
    return db_rows_is_null(rows, r, c) ? -1 : db_rows_get_int64(rows, r, c);
}

static struct image *
image_from_row(const struct db_rows *rows, size_t r)
{
    struct image *image = image_new();

    image->id = image_db_str(rows, r, 0);
    image->name = image_db_str(rows, r, 1);
    image->owner = image_db_str(rows, r, 2);
    image->status = image_db_str(rows, r, 3);
    image->visibility = image_db_str(rows, r, 4);
    image->is_protected = db_rows_get_bool(rows, r, 5);
    image->os_hidden = db_rows_get_bool(rows, r, 6);
    image->disk_format = image_db_str(rows, r, 7);
    image->container_format = image_db_str(rows, r, 8);
    image->size = image_db_int_or_unset(rows, r, 9);
    image->virtual_size = image_db_int_or_unset(rows, r, 10);
    image->checksum = image_db_str(rows, r, 11);
    image->os_hash_algo = image_db_str(rows, r, 12);
    image->os_hash_value = image_db_str(rows, r, 13);
    image->min_disk = db_rows_get_int64(rows, r, 14);
    image->min_ram = db_rows_get_int64(rows, r, 15);
    image->location = image_db_str(rows, r, 16);
    image->created_at = image_db_str(rows, r, 17);
    image->updated_at = image_db_str(rows, r, 18);
    return image;
}

/* Reads the properties and tags of 'image'. */
static struct error *
image_db_read_extras(struct db *db, struct image *image)
{
    CLEANUP(db_rows_freep) struct db_rows *props = NULL;
    CLEANUP(db_rows_freep) struct db_rows *tags = NULL;
    struct error *error;

    error = db_query(db, "SELECT name, value FROM image_properties "
                     "WHERE image_id = ? ORDER BY name",
                     DB_PARAMS(DB_STR(image->id)), &props);
    if (error) {
        return error;
    }
    for (size_t r = 0; r < db_rows_count(props); r++) {
        image_set_property(image, db_rows_get_str(props, r, 0),
                           db_rows_get_str(props, r, 1));
    }
    error = db_query(db, "SELECT value FROM image_tags WHERE image_id = ? "
                     "ORDER BY value", DB_PARAMS(DB_STR(image->id)), &tags);
    if (error) {
        return error;
    }
    for (size_t r = 0; r < db_rows_count(tags); r++) {
        image_add_tag(image, db_rows_get_str(tags, r, 0));
    }
    return NULL;
}

/* Reads image 'id' whatever its visibility; '*ret' NULL if none. */
static struct error *
image_db_read(struct db *db, const char *id, struct image **ret)
{
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    CLEANUP(image_freep) struct image *image = NULL;
    struct error *error;

    *ret = NULL;
    error = db_query(db, "SELECT " IMAGE_DB_COLUMNS " FROM images "
                     "WHERE id = ?", DB_PARAMS(DB_STR(id)), &rows);
    if (error || !db_rows_count(rows)) {
        return error;
    }
    image = image_from_row(rows, 0);
    error = image_db_read_extras(db, image);
    if (error) {
        return error;
    }
    *ret = TAKE_PTR(image);
    return NULL;
}

static struct error *
image_db_is_member(struct db *db, const char *id, const char *project_id,
                   bool *ret)
{
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    struct error *error;

    *ret = false;
    if (!project_id) {
        return NULL;
    }
    error = db_query(db, "SELECT 1 FROM image_members WHERE image_id = ? "
                     "AND member = ? AND status <> 'rejected'",
                     DB_PARAMS(DB_STR(id), DB_STR(project_id)), &rows);
    if (!error) {
        *ret = db_rows_count(rows) > 0;
    }
    return error;
}

struct error *
image_db_get(struct db *db, const char *id, const char *project_id,
             bool is_admin, struct image **ret)
{
    CLEANUP(image_freep) struct image *image = NULL;
    bool member = false;
    struct error *error = image_db_read(db, id, &image);

    if (error) {
        return error;
    }
    if (image && !is_admin && strcmp(image->visibility, "shared") == 0) {
        error = image_db_is_member(db, id, project_id, &member);
        if (error) {
            return error;
        }
    }
    if (!image || !image_is_visible(image, project_id, is_admin, member)) {
        return error_new(ERROR_NOT_FOUND, "No image found with ID %s", id);
    }
    *ret = TAKE_PTR(image);
    return NULL;
}

/* The ORDER BY of a list: a fixed statement per key and direction, so
 * that no user text reaches the SQL. */
#define IMAGE_DB_LIST_SQL(WHERE, ORDER)                                   \
    "SELECT " IMAGE_DB_COLUMNS " FROM images WHERE "                      \
    "(? IS NULL OR name = ?) AND (? IS NULL OR status = ?) "              \
    "AND (? IS NULL OR owner = ?) AND " WHERE " ORDER BY " ORDER " LIMIT ?"

/* Visibility conditions: admin or not, default listing or one value.
 * Parameters after the filters: project, project (visible), then the
 * visibility value or the project (default listing). */
#define IMAGE_DB_WHERE_USER_DEFAULT                                       \
    IMAGE_DB_VISIBLE_SQL " AND (visibility <> 'community' OR owner = ?)"
#define IMAGE_DB_WHERE_USER_ONE                                           \
    IMAGE_DB_VISIBLE_SQL " AND visibility = ?"

/* The keys a list may sort on, each a column. */
static const char *const image_db_sort_keys[] = {
    "created_at", "updated_at", "name", "size", "status", "id",
};

/* Marker condition: rows after the marker's (key, id) in list order. */
#define IMAGE_DB_AFTER(COL, OP)                                           \
    "(? IS NULL OR " COL " " OP " ? OR (" COL " = ? AND id " OP " ?))"

#define IMAGE_DB_SORTS(X)                                                  \
    X(0, "created_at") X(1, "updated_at") X(2, "name") X(3, "size")        \
    X(4, "status") X(5, "id")

struct error *
image_db_list(struct db *db, const struct image_db_filter *f,
              struct image ***ret, size_t *ret_n)
{
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    CLEANUP(image_freep) struct image *marker = NULL;
    struct image **images = NULL;
    const char *sql = NULL;
    size_t key = 0;
    struct error *error;
    int limit = f->limit > 0 && f->limit <= IMAGE_DB_MAX_LIST
                ? f->limit : IMAGE_DB_MAX_LIST;
    struct db_value mk = DB_NULL;       /* marker's sort value */
    const char *marker_id = NULL;
    AUTOFREE char *marker_size = NULL;

    if (f->sort_key) {
        for (key = 0; key < ARRAY_SIZE(image_db_sort_keys); key++) {
            if (!strcmp(f->sort_key, image_db_sort_keys[key])) {
                break;
            }
        }
        if (key == ARRAY_SIZE(image_db_sort_keys)) {
            return error_new(ERROR_INVALID, "Invalid sort key: %s. It "
                             "should be one of the following: created_at, "
                             "updated_at, name, size, status, id.",
                             f->sort_key);
        }
    }
    if (f->marker) {
        error = image_db_get(db, f->marker, f->project_id, f->is_admin,
                             &marker);
        if (error) {
            error_free(error);
            return error_new(ERROR_INVALID, "marker [%s] not found",
                             f->marker);
        }
        marker_id = marker->id;
        switch (key) {
        case 0: mk = DB_STR(marker->created_at); break;
        case 1: mk = DB_STR(marker->updated_at); break;
        case 2: mk = DB_STR(marker->name ? marker->name : ""); break;
        case 3: mk = DB_INT(marker->size); break;
        case 4: mk = DB_STR(marker->status); break;
        default: mk = DB_STR(marker->id); break;
        }
    }

    /* Times compare as the text of IMAGE_DB_COLUMNS, so the marker
     * condition uses the same formatting. */
#define IMAGE_DB_TIME(COL) "DATE_FORMAT(" COL ", '%Y-%m-%dT%H:%i:%sZ')"
#define IMAGE_DB_KEYCOL_0 IMAGE_DB_TIME("created_at")
#define IMAGE_DB_KEYCOL_1 IMAGE_DB_TIME("COALESCE(updated_at, created_at)")
#define IMAGE_DB_KEYCOL_2 "COALESCE(name, '')"
#define IMAGE_DB_KEYCOL_3 "COALESCE(size, -1)"
#define IMAGE_DB_KEYCOL_4 "status"
#define IMAGE_DB_KEYCOL_5 "id"
#define IMAGE_DB_PICK(N, NAME)                                            \
    case N:                                                               \
        if (f->is_admin) {                                                \
            sql = f->sort_asc                                             \
                ? IMAGE_DB_LIST_SQL("(? IS NULL OR visibility = ?) AND "  \
                                    IMAGE_DB_AFTER(IMAGE_DB_KEYCOL_##N,   \
                                                   ">"),                  \
                                    IMAGE_DB_KEYCOL_##N " ASC, id ASC")   \
                : IMAGE_DB_LIST_SQL("(? IS NULL OR visibility = ?) AND "  \
                                    IMAGE_DB_AFTER(IMAGE_DB_KEYCOL_##N,   \
                                                   "<"),                  \
                                    IMAGE_DB_KEYCOL_##N " DESC, id DESC");\
        } else if (f->visibility) {                                       \
            sql = f->sort_asc                                             \
                ? IMAGE_DB_LIST_SQL(IMAGE_DB_WHERE_USER_ONE " AND "       \
                                    IMAGE_DB_AFTER(IMAGE_DB_KEYCOL_##N,   \
                                                   ">"),                  \
                                    IMAGE_DB_KEYCOL_##N " ASC, id ASC")   \
                : IMAGE_DB_LIST_SQL(IMAGE_DB_WHERE_USER_ONE " AND "       \
                                    IMAGE_DB_AFTER(IMAGE_DB_KEYCOL_##N,   \
                                                   "<"),                  \
                                    IMAGE_DB_KEYCOL_##N " DESC, id DESC");\
        } else {                                                          \
            sql = f->sort_asc                                             \
                ? IMAGE_DB_LIST_SQL(IMAGE_DB_WHERE_USER_DEFAULT " AND "   \
                                    IMAGE_DB_AFTER(IMAGE_DB_KEYCOL_##N,   \
                                                   ">"),                  \
                                    IMAGE_DB_KEYCOL_##N " ASC, id ASC")   \
                : IMAGE_DB_LIST_SQL(IMAGE_DB_WHERE_USER_DEFAULT " AND "   \
                                    IMAGE_DB_AFTER(IMAGE_DB_KEYCOL_##N,   \
                                                   "<"),                  \
                                    IMAGE_DB_KEYCOL_##N " DESC, id DESC");\
        }                                                                 \
        break;
    switch (key) {
        IMAGE_DB_SORTS(IMAGE_DB_PICK)
    default:
        return error_new(ERROR_INTERNAL, "Bad sort key index %zu", key);
    }
#undef IMAGE_DB_PICK

    {
        struct db_value mid = marker_id ? DB_STR(marker_id) : DB_NULL;
        struct db_value vis = f->is_admin || f->visibility
                              ? DB_STR(f->visibility)
                              : DB_STR(f->project_id);
        struct db_value params[] = {
            DB_STR(f->name), DB_STR(f->name),
            DB_STR(f->status), DB_STR(f->status),
            DB_STR(f->owner), DB_STR(f->owner),
            /* Visibility: admin (value, value); user: project, project,
             * then value or project. */
            f->is_admin ? vis : DB_STR(f->project_id),
            f->is_admin ? vis : DB_STR(f->project_id),
            vis,
            /* Marker. */
            mid, mk, mk, mid,
            DB_INT(limit),
        };
        size_t n = ARRAY_SIZE(params);

        if (f->is_admin) {
            /* No third visibility parameter. */
            memmove(&params[8], &params[9],
                    (n - 9) * sizeof *params);
            n--;
        }
        error = db_query(db, sql, params, n, &rows);
    }
    if (error) {
        return error;
    }
    images = xcalloc(db_rows_count(rows) + 1, sizeof *images);
    for (size_t r = 0; r < db_rows_count(rows); r++) {
        images[r] = image_from_row(rows, r);
        error = image_db_read_extras(db, images[r]);
        if (error) {
            image_array_free(images, r + 1);
            return error;
        }
    }
    *ret = images;
    *ret_n = db_rows_count(rows);
    return NULL;
}

/* ---- Writing --------------------------------------------------------- */

/* Rewrites the properties and tags of 'image' (inside a transaction). */
static struct error *
image_db_write_extras(struct db *db, const struct image *image)
{
    struct error *error;

    error = db_exec(db, "DELETE FROM image_properties WHERE image_id = ?",
                    DB_PARAMS(DB_STR(image->id)), NULL);
    for (size_t i = 0; !error && i < image->n_properties; i++) {
        error = db_exec(db, "INSERT INTO image_properties (image_id, name, "
                        "value) VALUES (?, ?, ?)",
                        DB_PARAMS(DB_STR(image->id),
                                  DB_STR(image->properties[i].name),
                                  DB_STR(image->properties[i].value)),
                        NULL);
    }
    if (!error) {
        error = db_exec(db, "DELETE FROM image_tags WHERE image_id = ?",
                        DB_PARAMS(DB_STR(image->id)), NULL);
    }
    for (size_t i = 0; !error && i < image->n_tags; i++) {
        error = db_exec(db, "INSERT INTO image_tags (image_id, value) "
                        "VALUES (?, ?)",
                        DB_PARAMS(DB_STR(image->id), DB_STR(image->tags[i])),
                        NULL);
    }
    return error;
}

/* A snapshot or backup of a server (property image_type "snapshot" or
 * "backup") carries the properties of the image the server booted from
 * (property base_image_ref) that it does not set itself, as Nova's
 * snapshots carry the base image's: kernel_id and ramdisk_id above all,
 * without which an AMI-style disk does not boot.  A base image that is
 * gone leaves the snapshot as it is. */
static struct error *
image_db_inherit_properties(struct db *db, const struct image *image)
{
    CLEANUP(db_rows_freep) struct db_rows *rows = NULL;
    const char *type = image_get_property(image, "image_type");
    const char *base = image_get_property(image, "base_image_ref");
    size_t n = image->n_properties;
    struct error *error;

    if (!type || (strcmp(type, "snapshot") && strcmp(type, "backup"))
        || !base || !*base || !strcmp(base, image->id)) {
        return NULL;
    }
    error = db_query(db, "SELECT name, value FROM image_properties "
                     "WHERE image_id = ? ORDER BY name",
                     DB_PARAMS(DB_STR(base)), &rows);
    for (size_t r = 0; !error && r < db_rows_count(rows)
         && n < IMAGE_DB_MAX_PROPERTIES; r++) {
        const char *name = db_rows_get_str(rows, r, 0);

        if (image_get_property(image, name)) {
            continue;
        }
        error = db_exec(db, "INSERT INTO image_properties (image_id, name, "
                        "value) VALUES (?, ?, ?)",
                        DB_PARAMS(DB_STR(image->id), DB_STR(name),
                                  DB_STR(db_rows_get_str(rows, r, 1))),
                        NULL);
        n++;
    }
    return error;
}

static struct error *
image_db_create_txn(struct db *db, void *aux)
{
    const struct image *image = aux;
    struct error *error;

    error = db_exec(db, "INSERT INTO images (id, name, owner, status, "
                    "visibility, protected, os_hidden, disk_format, "
                    "container_format, min_disk, min_ram, created_at, "
                    "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                    "UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))",
                    DB_PARAMS(DB_STR(image->id), DB_STR(image->name),
                              DB_STR(image->owner), DB_STR(image->status),
                              DB_STR(image->visibility),
                              DB_BOOL(image->is_protected),
                              DB_BOOL(image->os_hidden),
                              DB_STR(image->disk_format),
                              DB_STR(image->container_format),
                              DB_INT(image->min_disk),
                              DB_INT(image->min_ram)), NULL);
    if (error && error_kind(error) == ERROR_CONFLICT) {
        error_free(error);
        return error_new(ERROR_CONFLICT, "Image with identifier %s already "
                         "exists!", image->id);
    }
    if (!error) {
        error = image_db_write_extras(db, image);
    }
    return error ? error : image_db_inherit_properties(db, image);
}

struct error *
image_db_create(struct db *db, const struct image *image)
{
    return db_txn_run(db, image_db_create_txn, (void *) image);
}

static struct error *
image_db_update_txn(struct db *db, void *aux)
{
    const struct image *image = aux;
    struct error *error;

    error = db_exec(db, "UPDATE images SET name = ?, visibility = ?, "
                    "protected = ?, os_hidden = ?, disk_format = ?, "
                    "container_format = ?, min_disk = ?, min_ram = ?, "
                    "updated_at = UTC_TIMESTAMP(6) WHERE id = ?",
                    DB_PARAMS(DB_STR(image->name), DB_STR(image->visibility),
                              DB_BOOL(image->is_protected),
                              DB_BOOL(image->os_hidden),
                              DB_STR(image->disk_format),
                              DB_STR(image->container_format),
                              DB_INT(image->min_disk),
                              DB_INT(image->min_ram), DB_STR(image->id)),
                    NULL);
    return error ? error : image_db_write_extras(db, image);
}

struct error *
image_db_update(struct db *db, const struct image *image)
{
    return db_txn_run(db, image_db_update_txn, (void *) image);
}

struct error *
image_db_activate(struct db *db, const char *id, const char *location,
                  int64_t size, const char *md5, const char *sha512,
                  bool *ret_applied)
{
    uint64_t n = 0;
    struct error *error;

    error = db_exec(db, "UPDATE images SET status = 'active', location = ?, "
                    "size = ?, checksum = ?, os_hash_algo = 'sha512', "
                    "os_hash_value = ?, updated_at = UTC_TIMESTAMP(6) "
                    "WHERE id = ? AND status = 'queued'",
                    DB_PARAMS(DB_STR(location), DB_INT(size), DB_STR(md5),
                              DB_STR(sha512), DB_STR(id)), &n);
    if (!error) {
        *ret_applied = n > 0;
    }
    return error;
}

struct error *
image_db_delete(struct db *db, const char *id)
{
    return db_exec(db, "DELETE FROM images WHERE id = ?",
                   DB_PARAMS(DB_STR(id)), NULL);
}

struct error *
image_db_add_member(struct db *db, const char *image_id, const char *member)
{
    return db_exec(db, "INSERT INTO image_members (image_id, member, "
                   "status, created_at, updated_at) VALUES (?, ?, "
                   "'accepted', UTC_TIMESTAMP(6), UTC_TIMESTAMP(6)) "
                   "ON DUPLICATE KEY UPDATE status = 'accepted', "
                   "updated_at = UTC_TIMESTAMP(6)",
                   DB_PARAMS(DB_STR(image_id), DB_STR(member)), NULL);
}

/* ---- Boot ------------------------------------------------------------ */

/* Image 'id' as a server of the project may boot from it: visible and
 * active, else ERROR_INVALID naming 'id'. */
static struct error *
image_db_get_bootable(struct db *db, const char *id, const char *project_id,
                      bool is_admin, struct image **ret)
{
    struct image *image = NULL;
    struct error *error = image_db_get(db, id, project_id, is_admin, &image);

    if (error && error_kind(error) != ERROR_NOT_FOUND) {
        return error;
    }
    if (error || strcmp(image->status, "active") || !image->location) {
        error_free(error);
        image_free(image);
        return error_new(ERROR_INVALID, "Image %s could not be found.", id);
    }
    *ret = image;
    return NULL;
}

/* Where a compute host downloads 'image' from (relative to the image
 * endpoint) and the checksums to verify it against; a hash other than
 * sha512 is left out. */
static void
image_db_boot_download(const struct image *image, char **ret_url,
                       char **ret_checksum, char **ret_os_hash_value)
{
    *ret_url = xasprintf("/v2/images/%s/file", image->id);
    *ret_checksum = xstrdup_or_null(image->checksum);
    *ret_os_hash_value =
        image->os_hash_algo && !strcmp(image->os_hash_algo, "sha512")
        ? xstrdup_or_null(image->os_hash_value) : NULL;
}

struct error *
image_db_get_for_boot(struct db *db, const char *image_id,
                      const char *project_id, bool is_admin,
                      struct instance_image **ret)
{
    CLEANUP(image_freep) struct image *image = NULL;
    CLEANUP(instance_image_freep) struct instance_image *boot = NULL;
    const char *kernel_id, *ramdisk_id, *cmdline;
    struct error *error;

    error = image_db_get_bootable(db, image_id, project_id, is_admin,
                                  &image);
    if (error) {
        return error;
    }
    boot = instance_image_new();
    boot->id = xstrdup(image->id);
    if (image->disk_format && !strcmp(image->disk_format, "aki")) {
        boot->kernel = xstrdup(image->location);
        image_db_boot_download(image, &boot->kernel_url,
                               &boot->kernel_checksum,
                               &boot->kernel_os_hash_value);
    } else {
        boot->disk = xstrdup(image->location);
        image_db_boot_download(image, &boot->url, &boot->checksum,
                               &boot->os_hash_value);
        boot->disk_format = xstrdup(
            !image->disk_format || !strcmp(image->disk_format, "ami")
            ? "raw" : image->disk_format);
    }

    kernel_id = image_get_property(image, IMAGE_PROP_KERNEL_ID);
    ramdisk_id = image_get_property(image, IMAGE_PROP_RAMDISK_ID);
    cmdline = image_get_property(image, IMAGE_PROP_COMMAND_LINE);
    if (kernel_id && *kernel_id) {
        CLEANUP(image_freep) struct image *kernel = NULL;

        error = image_db_get_bootable(db, kernel_id, project_id, is_admin,
                                      &kernel);
        if (error) {
            return error;
        }
        free(boot->kernel);
        boot->kernel = xstrdup(kernel->location);
        free(boot->kernel_url);
        free(boot->kernel_checksum);
        free(boot->kernel_os_hash_value);
        image_db_boot_download(kernel, &boot->kernel_url,
                               &boot->kernel_checksum,
                               &boot->kernel_os_hash_value);
    }
    if (ramdisk_id && *ramdisk_id) {
        CLEANUP(image_freep) struct image *ramdisk = NULL;

        error = image_db_get_bootable(db, ramdisk_id, project_id, is_admin,
                                      &ramdisk);
        if (error) {
            return error;
        }
        boot->initrd = xstrdup(ramdisk->location);
        image_db_boot_download(ramdisk, &boot->initrd_url,
                               &boot->initrd_checksum,
                               &boot->initrd_os_hash_value);
    }
    if (cmdline && *cmdline) {
        boot->cmdline = xstrdup(cmdline);
    }
    for (size_t i = 0; i < image->n_properties; i++) {
        const char *name = image->properties[i].name;

        if (strcmp(name, IMAGE_PROP_KERNEL_ID)
            && strcmp(name, IMAGE_PROP_RAMDISK_ID)
            && strcmp(name, IMAGE_PROP_COMMAND_LINE)
            && strlen(name) <= INSTANCE_META_KEY_MAX_LENGTH
            && strlen(image->properties[i].value)
               <= INSTANCE_META_VALUE_MAX_LENGTH
            && boot->n_properties < INSTANCE_IMAGE_MAX_PROPERTIES) {
            instance_image_set_property(boot, name,
                                        image->properties[i].value);
        }
    }
    *ret = TAKE_PTR(boot);
    return NULL;
}
