/* topology.c: the cell tree declared in cells.yaml (see topology.h).
 *
 * Loading runs in steps, each of which can stop with an error pointing at
 * a node of the file:
 *
 *   1. yaml-tree.h builds a small tree of nodes with their
 *      positions (as for nova.yaml), enforcing the limits on nesting, node
 *      count and scalar size and rejecting aliases and extra documents.
 *   2. Each item of 'cells' is read on its own ("entries"): known keys,
 *      types, names, URLs, zones, capabilities, duplicate names.
 *   3. The entries are linked into a tree: one root, known parents, no
 *      cycles, depth and path length within the limits.
 *   4. Rules that need the whole tree: a leaf has hosts and a database, a
 *      cell with hosts has a database, the API cell has no hosts.
 *   5. The cells are sorted by path and handed out as a 'struct topology'.
 *
 * Messages follow config.c: "NAME:LINE:COLUMN: message", lines and columns
 * from 1, user values in single quotes, URLs never quoted (the database
 * URL parser quotes them with the password hidden). */
#include <config.h>
#include "shared/topology.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <json-c/json.h>
#include <yaml.h>

#include "cells-rpc/cell-path.h"
#include "cells-rpc/transport-url.h"
#include "shared/db-url.h"
#include "shared/error.h"
#include "shared/xalloc.h"
#include "shared/yaml-tree.h"

/* Longest user value quoted in a message, in bytes, before "...". */
#define TOPOLOGY_QUOTE_MAX_SIZE 64

/* ---- Step 1: YAML text to a tree ------------------------------------- */

/* What the parser of one document works with. */
struct topology_parse {
    const char *name;           /* file name or its stand-in, for messages */
    const char *text;           /* the whole YAML text */
    size_t size;
};

/* Returns an error "NAME:LINE:COLUMN: <message of cause>" for 'mark'.
 * Takes ownership of 'cause'. */
static struct error *
topology_error_at(const struct topology_parse *parse, const yaml_mark_t *mark,
                  struct error *cause)
{
    return yaml_tree_error_at(parse->name, mark, cause);
}

static struct error *
topology_error_at_fmt(const struct topology_parse *parse,
                      const yaml_mark_t *mark, const char *fmt, ...)
    PRINTF_FMT(3, 4);

static struct error *
topology_error_at_fmt(const struct topology_parse *parse,
                      const yaml_mark_t *mark, const char *fmt, ...)
{
    struct error *error;
    va_list args;

    va_start(args, fmt);
    error = yaml_tree_error_atv(parse->name, mark, fmt, args);
    va_end(args);
    return error;
}

/* Parses the YAML text of 'parse' into a tree.  On success stores the root
 * in '*ret_root' (NULL for an empty stream), owned by the caller. */
static struct error *
topology_build_tree(const struct topology_parse *parse,
                    struct yaml_tree_node **ret_root)
{
    static const struct yaml_tree_limits limits = {
        .max_depth = TOPOLOGY_MAX_YAML_DEPTH,
        .max_nodes = TOPOLOGY_MAX_YAML_NODES,
        .max_scalar_size = TOPOLOGY_MAX_SCALAR_SIZE,
    };

    return yaml_tree_parse(parse->name, parse->text, parse->size, &limits,
                           ret_root);
}

/* ---- Checks ---------------------------------------------------------- */

/* Returns 'text' quoted for a message: at most TOPOLOGY_QUOTE_MAX_SIZE
 * bytes, then "...".  The caller frees. */
static char *
topology_quote(const char *text)
{
    size_t size = strnlen(text, TOPOLOGY_QUOTE_MAX_SIZE + 1);

    if (size > TOPOLOGY_QUOTE_MAX_SIZE) {
        return xasprintf("'%.*s...'", TOPOLOGY_QUOTE_MAX_SIZE, text);
    }
    return xasprintf("'%s'", text);
}

struct error *
topology_check_name(const char *name)
{
    AUTOFREE char *quoted = NULL;

    switch (cell_path_name_validate(name)) {
    case 0:
        return NULL;
    case -ENAMETOOLONG:
        quoted = topology_quote(name);
        return error_new(ERROR_INVALID, "invalid cell name %s: longer than "
                         "%d characters", quoted, TOPOLOGY_MAX_NAME_LENGTH);
    default:
        if (!name || !name[0]) {
            return error_new(ERROR_INVALID, "invalid cell name '': it is "
                             "empty");
        }
        quoted = topology_quote(name);
        return error_new(ERROR_INVALID, "invalid cell name %s: only "
                         "letters, digits, '_', '.' and '-' are allowed",
                         quoted);
    }
}

struct error *
topology_check_transport_url(const char *url)
{
    CLEANUP(transport_url_freep) struct transport_url *parsed = NULL;

    /* transport_url_parse() never quotes the URL. */
    return transport_url_parse(url, &parsed);
}

struct error *
topology_check_database_url(const char *url)
{
    CLEANUP(db_url_freep) struct db_url *parsed = NULL;
    struct error *error = db_url_parse(url, &parsed);

    if (error) {
        return error;
    }
    if (!parsed->database || !parsed->database[0]) {
        AUTOFREE char *redacted = db_url_redact(url);

        return error_new(ERROR_INVALID, "Invalid database URL '%s': it "
                         "names no database", redacted);
    }
    return NULL;
}

/* Checks a zone name or capability value: 'what' names it in messages. */
static struct error *
topology_check_word(const char *what, const char *word)
{
    size_t size = strlen(word);

    if (!size) {
        return error_new(ERROR_INVALID, "%s must not be empty", what);
    }
    if (size > TOPOLOGY_MAX_WORD_SIZE) {
        AUTOFREE char *quoted = topology_quote(word);

        return error_new(ERROR_INVALID, "%s %s is longer than %d bytes",
                         what, quoted, TOPOLOGY_MAX_WORD_SIZE);
    }
    for (const char *p = word; *p; p++) {
        unsigned char c = *p;

        if (c < ' ' || c == 0x7f || c == ',') {
            AUTOFREE char *quoted = topology_quote(word);

            return error_new(ERROR_INVALID, "%s %s contains a control "
                             "character or ','", what, quoted);
        }
    }
    return NULL;
}

struct error *
topology_check_zone(const char *zone)
{
    return topology_check_word("availability zone", zone);
}

struct error *
topology_check_capability_name(const char *name)
{
    size_t size = strlen(name);

    if (!size) {
        return error_new(ERROR_INVALID, "capability name must not be "
                         "empty");
    }
    for (const char *p = name; *p; p++) {
        char c = *p;

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || strchr("_.:-", c))) {
            AUTOFREE char *quoted = topology_quote(name);

            return error_new(ERROR_INVALID, "invalid capability name %s: "
                             "only letters, digits, '_', '.', ':' and '-' "
                             "are allowed", quoted);
        }
    }
    if (size > TOPOLOGY_MAX_WORD_SIZE) {
        AUTOFREE char *quoted = topology_quote(name);

        return error_new(ERROR_INVALID, "invalid capability name %s: longer "
                         "than %d characters", quoted,
                         TOPOLOGY_MAX_WORD_SIZE);
    }
    return NULL;
}

struct error *
topology_check_capability_value(const char *name, const char *value)
{
    AUTOFREE char *what = xasprintf("value of capability '%s'", name);

    return topology_check_word(what, value);
}

struct error *
topology_parse_number(const char *key, const char *text, double *ret)
{
    AUTOFREE char *quoted = topology_quote(text);
    char *end;
    double value;

    /* As config.c: decimal only (strtod() would take hex floats and skip
     * blanks), and "nan"/"inf" are not numbers an operator means. */
    if (!(text[0] == '-' || text[0] == '+' || text[0] == '.'
          || (text[0] >= '0' && text[0] <= '9'))
        || strpbrk(text, "xX")) {
        return error_new(ERROR_INVALID, "'%s' must be a number, got %s",
                         key, quoted);
    }
    errno = 0;
    value = strtod(text, &end);
    if (end == text || *end != '\0' || !isfinite(value)) {
        return error_new(ERROR_INVALID, "'%s' must be a number, got %s",
                         key, quoted);
    }
    if (errno == ERANGE) {
        return error_new(ERROR_INVALID, "'%s' must be a number of "
                         "reasonable magnitude, got %s", key, quoted);
    }
    *ret = value;
    return NULL;
}

static struct error *
topology_parse_bool(const char *key, const char *text, bool *ret)
{
    static const char *const true_words[] = { "true", "yes", "on" };
    static const char *const false_words[] = { "false", "no", "off" };
    AUTOFREE char *quoted = NULL;

    for (size_t i = 0; i < ARRAY_SIZE(true_words); i++) {
        if (!strcasecmp(text, true_words[i])) {
            *ret = true;
            return NULL;
        }
        if (!strcasecmp(text, false_words[i])) {
            *ret = false;
            return NULL;
        }
    }
    quoted = topology_quote(text);
    return error_new(ERROR_INVALID, "'%s' must be a boolean (true/false, "
                     "yes/no, on/off), got %s", key, quoted);
}

/* ---- Cells ----------------------------------------------------------- */

static void
topology_strings_free(char **items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(items[i]);
    }
    free(items);
}

static void
topology_cell_free(struct topology_cell *cell)
{
    if (!cell) {
        return;
    }
    free(cell->name);
    free(cell->path);
    free(cell->parent_path);
    free(cell->children);
    free(cell->transport_url);
    free(cell->database);
    topology_strings_free(cell->availability_zones,
                          cell->n_availability_zones);
    for (size_t i = 0; i < cell->n_capabilities; i++) {
        free(cell->capabilities[i].name);
        topology_strings_free(cell->capabilities[i].values,
                              cell->capabilities[i].n_values);
    }
    free(cell->capabilities);
    free(cell);
}

/* The keys of a cell.  The order is the order of 'topology_cell_keys'. */
enum topology_key {
    TOPOLOGY_KEY_NAME,
    TOPOLOGY_KEY_PARENT,
    TOPOLOGY_KEY_TRANSPORT_URL,
    TOPOLOGY_KEY_DATABASE,
    TOPOLOGY_KEY_HOSTS,
    TOPOLOGY_KEY_WEIGHT_OFFSET,
    TOPOLOGY_KEY_WEIGHT_SCALE,
    TOPOLOGY_KEY_AVAILABILITY_ZONES,
    TOPOLOGY_KEY_CAPABILITIES,
    TOPOLOGY_KEY_DISABLED,
    TOPOLOGY_N_KEYS
};

static const char *const topology_cell_keys[TOPOLOGY_N_KEYS] = {
    [TOPOLOGY_KEY_NAME] = "name",
    [TOPOLOGY_KEY_PARENT] = "parent",
    [TOPOLOGY_KEY_TRANSPORT_URL] = "transport_url",
    [TOPOLOGY_KEY_DATABASE] = "database",
    [TOPOLOGY_KEY_HOSTS] = "hosts",
    [TOPOLOGY_KEY_WEIGHT_OFFSET] = "weight_offset",
    [TOPOLOGY_KEY_WEIGHT_SCALE] = "weight_scale",
    [TOPOLOGY_KEY_AVAILABILITY_ZONES] = "availability_zones",
    [TOPOLOGY_KEY_CAPABILITIES] = "capabilities",
    [TOPOLOGY_KEY_DISABLED] = "disabled",
};

/* One item of 'cells' while the file is checked: the cell being filled
 * and where its parts are, for messages. */
struct topology_entry {
    struct topology_cell *cell; /* owned until the topology takes it */
    size_t index;               /* position in 'cells', from 1 */
    char *label;                /* "cell 'east'" or "cell #3" */
    const struct yaml_tree_node *node;           /* the cell's mapping */
    const struct yaml_tree_node *key_values[TOPOLOGY_N_KEYS];
    char *parent_name;          /* NULL for the root */
    struct topology_entry *parent;
    size_t n_children;
    int walk;                   /* cycle search: 0 unseen, -1 reaches the
                                 * root, else the walk that met it */
};

/* The value node of 'key' in 'entry', or NULL when the cell lacks it. */
static const struct yaml_tree_node *
topology_entry_value(const struct topology_entry *entry, enum topology_key key)
{
    return entry->key_values[key];
}

/* The mark of the value of 'key', or of the cell's mapping when absent. */
static const yaml_mark_t *
topology_entry_mark(const struct topology_entry *entry, enum topology_key key)
{
    const struct yaml_tree_node *value = topology_entry_value(entry, key);

    return value ? &value->mark : &entry->node->mark;
}

/* Returns an error at 'mark' reading "<label>: <cause>".  Takes 'cause'. */
static struct error *
topology_entry_error(const struct topology_parse *parse,
                     const struct topology_entry *entry,
                     const yaml_mark_t *mark, struct error *cause)
{
    return topology_error_at(parse, mark,
                             error_wrap(cause, "%s", entry->label));
}

/* Reads a string value: NULL for a YAML null. */
static struct error *
topology_get_string(const char *key, const struct yaml_tree_node *node,
                    char **ret)
{
    if (node->kind != YAML_TREE_SCALAR) {
        return error_new(ERROR_INVALID, "'%s' must be a string, got %s", key,
                         yaml_tree_kind_to_string(node->kind));
    }
    *ret = node->is_null ? NULL : xstrdup(node->value);
    return NULL;
}

static struct error *
topology_get_number(const char *key, const struct yaml_tree_node *node,
                    double *ret)
{
    if (node->kind != YAML_TREE_SCALAR) {
        return error_new(ERROR_INVALID, "'%s' must be a number, got %s", key,
                         yaml_tree_kind_to_string(node->kind));
    }
    return topology_parse_number(key, node->value, ret);
}

static struct error *
topology_get_bool(const char *key, const struct yaml_tree_node *node,
                  bool *ret)
{
    if (node->kind != YAML_TREE_SCALAR) {
        return error_new(ERROR_INVALID, "'%s' must be a boolean, got %s",
                         key, yaml_tree_kind_to_string(node->kind));
    }
    return topology_parse_bool(key, node->value, ret);
}

/* Reads 'availability_zones' into 'cell'.  On error stores the node at
 * fault in '*ret_at'. */
static struct error *
topology_get_zones(const struct yaml_tree_node *node,
                   struct topology_cell *cell,
                   const struct yaml_tree_node **ret_at)
{
    static const char key[] = "availability_zones";

    *ret_at = node;
    if (node->kind == YAML_TREE_SCALAR && node->is_null) {
        return NULL;
    }
    if (node->kind != YAML_TREE_SEQUENCE) {
        return error_new(ERROR_INVALID, "'%s' must be a sequence, got %s",
                         key, yaml_tree_kind_to_string(node->kind));
    }
    if (node->n_children > TOPOLOGY_MAX_ZONES) {
        return error_new(ERROR_INVALID, "'%s' has more than %d items", key,
                         TOPOLOGY_MAX_ZONES);
    }
    for (size_t i = 0; i < node->n_children; i++) {
        const struct yaml_tree_node *item = node->children[i];
        struct error *error;

        *ret_at = item;
        if (item->kind != YAML_TREE_SCALAR) {
            return error_new(ERROR_INVALID, "'%s' items must be strings, "
                             "got %s", key,
                             yaml_tree_kind_to_string(item->kind));
        }
        error = topology_check_zone(item->value);
        if (error) {
            return error;
        }
        for (size_t j = 0; j < cell->n_availability_zones; j++) {
            if (!strcmp(cell->availability_zones[j], item->value)) {
                AUTOFREE char *quoted = topology_quote(item->value);

                return error_new(ERROR_INVALID, "duplicate availability "
                                 "zone %s", quoted);
            }
        }
        cell->availability_zones = xreallocarray(
            cell->availability_zones, cell->n_availability_zones + 1,
            sizeof *cell->availability_zones);
        cell->availability_zones[cell->n_availability_zones++]
            = xstrdup(item->value);
    }
    return NULL;
}

/* Reads the value 'node' of capability 'cap->name'. */
static struct error *
topology_get_capability_values(const struct yaml_tree_node *node,
                               struct topology_capability *cap,
                               const struct yaml_tree_node **ret_at)
{
    const struct yaml_tree_node *const *items = &node;
    size_t n_items = 1;

    *ret_at = node;
    if (node->kind == YAML_TREE_SEQUENCE) {
        cap->is_list = true;
        items = (const struct yaml_tree_node *const *) node->children;
        n_items = node->n_children;
        if (!n_items) {
            return error_new(ERROR_INVALID, "capability '%s' has no values",
                             cap->name);
        }
        if (n_items > TOPOLOGY_MAX_CAPABILITY_VALUES) {
            return error_new(ERROR_INVALID, "capability '%s' has more than "
                             "%d values", cap->name,
                             TOPOLOGY_MAX_CAPABILITY_VALUES);
        }
    } else if (node->kind != YAML_TREE_SCALAR || node->is_null) {
        return error_new(ERROR_INVALID, "capability '%s' must be a string "
                         "or a sequence of strings, got %s", cap->name,
                         node->kind == YAML_TREE_SCALAR ? "null"
                         : yaml_tree_kind_to_string(node->kind));
    }
    for (size_t i = 0; i < n_items; i++) {
        struct error *error;

        *ret_at = items[i];
        if (items[i]->kind != YAML_TREE_SCALAR) {
            return error_new(ERROR_INVALID, "values of capability '%s' must "
                             "be strings, got %s", cap->name,
                             yaml_tree_kind_to_string(items[i]->kind));
        }
        error = topology_check_capability_value(cap->name, items[i]->value);
        if (error) {
            return error;
        }
        cap->values = xreallocarray(cap->values, cap->n_values + 1,
                                    sizeof *cap->values);
        cap->values[cap->n_values++] = xstrdup(items[i]->value);
    }
    return NULL;
}

static int
topology_capability_compare(const void *a_, const void *b_)
{
    const struct topology_capability *a = a_;
    const struct topology_capability *b = b_;

    return strcmp(a->name, b->name);
}

/* Reads 'capabilities' into 'cell', sorted by name. */
static struct error *
topology_get_capabilities(const struct yaml_tree_node *node,
                          struct topology_cell *cell,
                          const struct yaml_tree_node **ret_at)
{
    *ret_at = node;
    if (node->kind == YAML_TREE_SCALAR && node->is_null) {
        return NULL;
    }
    if (node->kind != YAML_TREE_MAPPING) {
        return error_new(ERROR_INVALID, "'capabilities' must be a mapping, "
                         "got %s", yaml_tree_kind_to_string(node->kind));
    }
    if (node->n_children / 2 > TOPOLOGY_MAX_CAPABILITIES) {
        return error_new(ERROR_INVALID, "'capabilities' has more than %d "
                         "entries", TOPOLOGY_MAX_CAPABILITIES);
    }
    for (size_t i = 0; i + 1 < node->n_children; i += 2) {
        const struct yaml_tree_node *key = node->children[i];
        struct topology_capability *cap;
        struct error *error;

        *ret_at = key;
        error = topology_check_capability_name(key->value);
        if (error) {
            return error;
        }
        for (size_t j = 0; j < cell->n_capabilities; j++) {
            if (!strcmp(cell->capabilities[j].name, key->value)) {
                return error_new(ERROR_INVALID, "duplicate capability "
                                 "'%s'", key->value);
            }
        }
        cell->capabilities = xreallocarray(cell->capabilities,
                                           cell->n_capabilities + 1,
                                           sizeof *cell->capabilities);
        cap = &cell->capabilities[cell->n_capabilities++];
        memset(cap, 0, sizeof *cap);
        cap->name = xstrdup(key->value);
        error = topology_get_capability_values(node->children[i + 1], cap,
                                               ret_at);
        if (error) {
            return error;
        }
    }
    qsort(cell->capabilities, cell->n_capabilities,
          sizeof *cell->capabilities, topology_capability_compare);
    return NULL;
}

/* Reads the value 'node' of 'key' into the cell of 'entry'. */
static struct error *
topology_entry_set(const struct topology_parse *parse,
                   struct topology_entry *entry, enum topology_key key,
                   const struct yaml_tree_node *node)
{
    struct topology_cell *cell = entry->cell;
    const char *name = topology_cell_keys[key];
    const struct yaml_tree_node *at = node;
    struct error *error = NULL;

    switch (key) {
    case TOPOLOGY_KEY_NAME:
        /* Read first, by topology_read_entry(). */
        break;
    case TOPOLOGY_KEY_PARENT:
        error = topology_get_string(name, node, &entry->parent_name);
        if (!error && entry->parent_name) {
            error = topology_check_name(entry->parent_name);
            if (error) {
                error = error_wrap(error, "'parent'");
            }
        }
        break;
    case TOPOLOGY_KEY_TRANSPORT_URL:
        error = topology_get_string(name, node, &cell->transport_url);
        if (!error && cell->transport_url) {
            error = topology_check_transport_url(cell->transport_url);
        }
        break;
    case TOPOLOGY_KEY_DATABASE:
        error = topology_get_string(name, node, &cell->database);
        if (!error && cell->database) {
            error = topology_check_database_url(cell->database);
        }
        break;
    case TOPOLOGY_KEY_HOSTS:
        error = topology_get_bool(name, node, &cell->hosts);
        break;
    case TOPOLOGY_KEY_WEIGHT_OFFSET:
        error = topology_get_number(name, node, &cell->weight_offset);
        break;
    case TOPOLOGY_KEY_WEIGHT_SCALE:
        error = topology_get_number(name, node, &cell->weight_scale);
        break;
    case TOPOLOGY_KEY_AVAILABILITY_ZONES:
        error = topology_get_zones(node, cell, &at);
        break;
    case TOPOLOGY_KEY_CAPABILITIES:
        error = topology_get_capabilities(node, cell, &at);
        break;
    case TOPOLOGY_KEY_DISABLED:
        error = topology_get_bool(name, node, &cell->disabled);
        cell->disabled_given = !error;
        break;
    case TOPOLOGY_N_KEYS:
        break;
    }
    return error ? topology_entry_error(parse, entry, &at->mark, error)
                 : NULL;
}

/* Finds the keys of the cell mapping of 'entry' and reads its name, so
 * that every later message can name the cell. */
static struct error *
topology_entry_find_keys(const struct topology_parse *parse,
                         struct topology_entry *entry)
{
    const struct yaml_tree_node *node = entry->node;
    const struct yaml_tree_node *name;
    struct error *error;

    /* Messages name the cell by its name when it has a valid one, else by
     * its position. */
    for (size_t i = 0; i + 1 < node->n_children && !entry->label; i += 2) {
        const struct yaml_tree_node *value = node->children[i + 1];

        if (!strcmp(node->children[i]->value, "name")
            && value->kind == YAML_TREE_SCALAR && !value->is_null
            && !cell_path_name_validate(value->value)) {
            entry->label = xasprintf("cell '%s'", value->value);
        }
    }
    if (!entry->label) {
        entry->label = xasprintf("cell #%zu", entry->index);
    }

    /* Unknown and duplicate keys first, in file order. */
    for (size_t i = 0; i + 1 < node->n_children; i += 2) {
        const struct yaml_tree_node *key = node->children[i];
        size_t k;

        for (k = 0; k < TOPOLOGY_N_KEYS; k++) {
            if (!strcmp(key->value, topology_cell_keys[k])) {
                break;
            }
        }
        if (k == TOPOLOGY_N_KEYS) {
            AUTOFREE char *quoted = topology_quote(key->value);

            return topology_error_at_fmt(parse, &key->mark,
                                         "%s: unknown key %s",
                                         entry->label, quoted);
        }
        if (entry->key_values[k]) {
            return topology_error_at_fmt(parse, &key->mark,
                                         "%s: duplicate key '%s'",
                                         entry->label, key->value);
        }
        entry->key_values[k] = node->children[i + 1];
    }

    name = topology_entry_value(entry, TOPOLOGY_KEY_NAME);
    if (!name || (name->kind == YAML_TREE_SCALAR && name->is_null)) {
        return topology_error_at_fmt(parse, &node->mark, "%s has no 'name'",
                                     entry->label);
    }
    error = topology_get_string("name", name, &entry->cell->name);
    if (!error) {
        error = topology_check_name(entry->cell->name);
    }
    if (error) {
        return topology_entry_error(parse, entry, &name->mark, error);
    }
    free(entry->label);
    entry->label = xasprintf("cell '%s'", entry->cell->name);
    return NULL;
}

/* Reads the cell mapping 'node', item 'index' (from 1) of 'cells', into
 * 'entry'. */
static struct error *
topology_read_entry(const struct topology_parse *parse,
                    const struct yaml_tree_node *node, size_t index,
                    struct topology_entry *entry)
{
    struct error *error;

    entry->index = index;
    entry->node = node;
    entry->cell = xzalloc(sizeof *entry->cell);
    entry->cell->weight_scale = 1.0;
    entry->cell->line = (int) node->mark.line + 1;
    if (node->kind != YAML_TREE_MAPPING) {
        return topology_error_at_fmt(parse, &node->mark,
                                     "cell #%zu must be a mapping, got %s",
                                     index,
                                     yaml_tree_kind_to_string(node->kind));
    }
    error = topology_entry_find_keys(parse, entry);
    for (size_t k = 0; k < TOPOLOGY_N_KEYS && !error; k++) {
        if (entry->key_values[k]) {
            error = topology_entry_set(parse, entry, k, entry->key_values[k]);
        }
    }
    if (!error && !entry->cell->transport_url) {
        error = topology_error_at_fmt(parse,
                                      topology_entry_mark(
                                          entry, TOPOLOGY_KEY_TRANSPORT_URL),
                                      "%s has no 'transport_url'",
                                      entry->label);
    }
    return error;
}

/* ---- Step 3: the tree ------------------------------------------------ */

/* All entries of one file. */
struct topology_entries {
    struct topology_entry *items;
    size_t n;
};

static void
topology_entries_destroy(struct topology_entries *entries)
{
    for (size_t i = 0; i < entries->n; i++) {
        topology_cell_free(entries->items[i].cell);
        free(entries->items[i].label);
        free(entries->items[i].parent_name);
    }
    free(entries->items);
    entries->items = NULL;
    entries->n = 0;
}

/* Rejects a name already used by an earlier entry.  Names are compared
 * without regard to case, as the API database's unique key does. */
static struct error *
topology_check_duplicate(const struct topology_parse *parse,
                         const struct topology_entries *entries,
                         const struct topology_entry *entry)
{
    for (size_t i = 0; i < entries->n; i++) {
        const struct topology_entry *other = &entries->items[i];

        if (other == entry || !other->cell->name) {
            continue;
        }
        if (!strcasecmp(other->cell->name, entry->cell->name)) {
            return topology_error_at_fmt(
                parse, topology_entry_mark(entry, TOPOLOGY_KEY_NAME),
                "duplicate cell name '%s' (first defined at line %d)",
                entry->cell->name, other->cell->line);
        }
    }
    return NULL;
}

/* Finds the root and each entry's parent. */
static struct error *
topology_link(const struct topology_parse *parse,
              const struct yaml_tree_node *cells,
              struct topology_entries *entries,
              struct topology_entry **ret_root)
{
    struct topology_entry *root = NULL;

    for (size_t i = 0; i < entries->n; i++) {
        struct topology_entry *entry = &entries->items[i];

        if (entry->parent_name) {
            continue;
        }
        if (root) {
            return topology_error_at_fmt(
                parse, &entry->node->mark,
                "%s has no 'parent', but cell '%s' (line %d) is already the "
                "root; only the API cell may omit 'parent'", entry->label,
                root->cell->name, root->cell->line);
        }
        root = entry;
    }
    for (size_t i = 0; i < entries->n; i++) {
        struct topology_entry *entry = &entries->items[i];

        if (!entry->parent_name) {
            continue;
        }
        for (size_t j = 0; j < entries->n && !entry->parent; j++) {
            if (!strcmp(entries->items[j].cell->name, entry->parent_name)) {
                entry->parent = &entries->items[j];
            }
        }
        if (!entry->parent) {
            return topology_error_at_fmt(
                parse, topology_entry_mark(entry, TOPOLOGY_KEY_PARENT),
                "%s: unknown parent '%s'", entry->label, entry->parent_name);
        }
    }
    if (!root) {
        return topology_error_at_fmt(parse, &cells->mark,
                                     "no root cell: every cell has a "
                                     "'parent', but the API cell must have "
                                     "none");
    }
    *ret_root = root;
    return NULL;
}

/* Returns the error for the parent cycle that 'start' is on. */
static struct error *
topology_cycle_error(const struct topology_parse *parse,
                     struct topology_entry *start)
{
    struct topology_entry *first = start;
    AUTOFREE char *chain = NULL;

    /* Report the loop from its member that comes first in the file. */
    for (struct topology_entry *e = start->parent; e != start;
         e = e->parent) {
        if (e->index < first->index) {
            first = e;
        }
    }
    if (first->parent == first) {
        return topology_error_at_fmt(
            parse, topology_entry_mark(first, TOPOLOGY_KEY_PARENT),
            "%s is its own parent", first->label);
    }
    chain = xstrdup(first->cell->name);
    for (struct topology_entry *e = first->parent; ; e = e->parent) {
        char *longer = xasprintf("%s -> %s", chain, e->cell->name);

        free(chain);
        chain = longer;
        if (e == first) {
            break;
        }
    }
    return topology_error_at_fmt(
        parse, topology_entry_mark(first, TOPOLOGY_KEY_PARENT),
        "%s: its parents form a cycle (%s), so it is not below the API cell",
        first->label, chain);
}

/* Checks that every parent chain reaches the root. */
static struct error *
topology_check_cycles(const struct topology_parse *parse,
                      struct topology_entries *entries)
{
    for (size_t i = 0; i < entries->n; i++) {
        struct topology_entry *entry = &entries->items[i];
        int walk = (int) i + 1;
        struct topology_entry *e;

        for (e = entry; e && e->walk == 0; e = e->parent) {
            e->walk = walk;
        }
        if (e && e->walk == walk) {
            return topology_cycle_error(parse, e);
        }
        /* The walk reached the root or a cell known to reach it. */
        for (e = entry; e && e->walk == walk; e = e->parent) {
            e->walk = -1;
        }
    }
    return NULL;
}

/* Sets the path and depth of the cell of 'entry', whose parent (if any)
 * has them already. */
static struct error *
topology_set_path(const struct topology_parse *parse,
                  struct topology_entry *entry)
{
    struct topology_cell *cell = entry->cell;
    struct topology_cell *parent = entry->parent ? entry->parent->cell
                                                 : NULL;

    if (!parent) {
        cell->path = xstrdup(cell->name);
        cell->depth = 1;
        return NULL;
    }
    cell->depth = parent->depth + 1;
    if (cell->depth > TOPOLOGY_MAX_DEPTH) {
        return topology_error_at_fmt(
            parse, topology_entry_mark(entry, TOPOLOGY_KEY_PARENT),
            "%s would be at depth %zu; cells may be at most %d levels deep "
            "(the API cell is level 1)", entry->label, cell->depth,
            TOPOLOGY_MAX_DEPTH);
    }
    cell->path = xasprintf("%s%c%s", parent->path, CELL_PATH_SEPARATOR,
                           cell->name);
    cell->parent_path = xstrdup(parent->path);
    if (strlen(cell->path) > TOPOLOGY_MAX_PATH_LENGTH) {
        return topology_error_at_fmt(
            parse, topology_entry_mark(entry, TOPOLOGY_KEY_NAME),
            "%s: its path is longer than %d characters", entry->label,
            TOPOLOGY_MAX_PATH_LENGTH);
    }
    return NULL;
}

/* Sets paths in an order where every parent comes first (breadth-first
 * from the root), so that the first error is the shallowest one. */
static struct error *
topology_set_paths(const struct topology_parse *parse,
                   struct topology_entries *entries,
                   struct topology_entry *root)
{
    struct error *error = topology_set_path(parse, root);

    for (size_t depth = 2; !error && depth <= TOPOLOGY_MAX_DEPTH + 1;
         depth++) {
        for (size_t i = 0; i < entries->n && !error; i++) {
            struct topology_entry *entry = &entries->items[i];

            if (entry->parent && entry->parent->cell->depth == depth - 1
                && !entry->cell->path) {
                error = topology_set_path(parse, entry);
            }
        }
    }
    return error;
}

/* ---- Step 4: rules that need the tree -------------------------------- */

static struct error *
topology_check_hosts(const struct topology_parse *parse,
                     struct topology_entries *entries)
{
    for (size_t i = 0; i < entries->n; i++) {
        struct topology_entry *entry = &entries->items[i];

        if (entry->parent) {
            entry->parent->n_children++;
        }
    }
    for (size_t i = 0; i < entries->n; i++) {
        struct topology_entry *entry = &entries->items[i];
        struct topology_cell *cell = entry->cell;
        bool given = topology_entry_value(entry, TOPOLOGY_KEY_HOSTS);
        const yaml_mark_t *hosts_mark = topology_entry_mark(
            entry, TOPOLOGY_KEY_HOSTS);

        if (!entry->parent) {
            if (given && cell->hosts) {
                return topology_error_at_fmt(parse, hosts_mark,
                                             "the API cell '%s' cannot have "
                                             "hosts", cell->name);
            }
            cell->hosts = false;
        } else if (!entry->n_children) {
            if (given && !cell->hosts) {
                return topology_error_at_fmt(parse, hosts_mark,
                                             "%s has no children, so it "
                                             "must have hosts; "
                                             "'hosts: false' is for cells "
                                             "with children",
                                             entry->label);
            }
            cell->hosts = true;
            if (!cell->database) {
                return topology_error_at_fmt(parse, &entry->node->mark,
                                             "%s is a leaf (it has no "
                                             "children) and has no "
                                             "'database'", entry->label);
            }
        } else if (!given) {
            cell->hosts = false;
        } else if (cell->hosts && !cell->database) {
            return topology_error_at_fmt(parse, hosts_mark,
                                         "%s has 'hosts: true' but no "
                                         "'database'", entry->label);
        }
    }
    return NULL;
}

/* ---- Step 5: the result ---------------------------------------------- */

static int
topology_cell_compare(const void *a_, const void *b_)
{
    const struct topology_cell *const *a = a_;
    const struct topology_cell *const *b = b_;

    return cell_path_compare((*a)->path, (*b)->path);
}

/* Moves the cells of 'entries' into a new topology. */
static struct topology *
topology_assemble(const char *source, struct topology_entries *entries)
{
    struct topology *topology = xzalloc(sizeof *topology);

    topology->source = xstrdup(source);
    topology->cells = xcalloc(entries->n, sizeof *topology->cells);
    topology->n_cells = entries->n;
    for (size_t i = 0; i < entries->n; i++) {
        struct topology_entry *entry = &entries->items[i];

        topology->cells[i] = entry->cell;
        entry->cell->parent = entry->parent ? entry->parent->cell : NULL;
        if (entry->n_children) {
            entry->cell->children = xcalloc(entry->n_children,
                                            sizeof *entry->cell->children);
        }
    }
    /* Sorting by path puts the root first and each parent before its
     * children; appending in that order keeps siblings sorted too. */
    qsort(topology->cells, topology->n_cells, sizeof *topology->cells,
          topology_cell_compare);
    for (size_t i = 0; i < topology->n_cells; i++) {
        struct topology_cell *cell = topology->cells[i];

        if (cell->parent) {
            cell->parent->children[cell->parent->n_children++] = cell;
        }
    }
    for (size_t i = 0; i < entries->n; i++) {
        entries->items[i].cell = NULL;
    }
    return topology;
}

/* Reads the top level of the document: a mapping with 'cells'. */
static struct error *
topology_find_cells(const struct topology_parse *parse,
                    const struct yaml_tree_node *root,
                    const struct yaml_tree_node **ret_cells)
{
    const struct yaml_tree_node *cells = NULL;
    yaml_mark_t start = { 0, 0, 0 };

    if (!root || (root->kind == YAML_TREE_SCALAR && root->is_null)) {
        return topology_error_at_fmt(parse, root ? &root->mark : &start,
                                     "the topology is empty: it must have "
                                     "'cells'");
    }
    if (root->kind != YAML_TREE_MAPPING) {
        return topology_error_at_fmt(parse, &root->mark,
                                     "the topology must be a mapping, got "
                                     "%s",
                                     yaml_tree_kind_to_string(root->kind));
    }
    for (size_t i = 0; i + 1 < root->n_children; i += 2) {
        const struct yaml_tree_node *key = root->children[i];

        if (strcmp(key->value, "cells")) {
            AUTOFREE char *quoted = topology_quote(key->value);

            return topology_error_at_fmt(parse, &key->mark,
                                         "unknown key %s", quoted);
        }
        if (cells) {
            return topology_error_at_fmt(parse, &key->mark,
                                         "duplicate key 'cells'");
        }
        cells = root->children[i + 1];
    }
    if (!cells) {
        return topology_error_at_fmt(parse, &root->mark,
                                     "the topology has no 'cells'");
    }
    if (cells->kind != YAML_TREE_SEQUENCE) {
        return topology_error_at_fmt(parse, &cells->mark,
                                     "'cells' must be a sequence, got %s",
                                     cells->is_null ? "null"
                                     : yaml_tree_kind_to_string(
                                         cells->kind));
    }
    if (!cells->n_children) {
        return topology_error_at_fmt(parse, &cells->mark,
                                     "'cells' is empty: it must list at "
                                     "least the API cell");
    }
    *ret_cells = cells;
    return NULL;
}

static struct error *
topology_check_entries(const struct topology_parse *parse,
                       const struct yaml_tree_node *cells,
                       struct topology_entries *entries)
{
    struct topology_entry *root = NULL;
    struct error *error;

    entries->items = xcalloc(cells->n_children, sizeof *entries->items);
    for (size_t i = 0; i < cells->n_children; i++) {
        struct topology_entry *entry = &entries->items[entries->n++];

        if (i >= TOPOLOGY_MAX_CELLS) {
            return topology_error_at_fmt(parse, &cells->children[i]->mark,
                                         "more than %d cells",
                                         TOPOLOGY_MAX_CELLS);
        }
        error = topology_read_entry(parse, cells->children[i], i + 1, entry);
        if (!error) {
            error = topology_check_duplicate(parse, entries, entry);
        }
        if (error) {
            return error;
        }
    }
    error = topology_link(parse, cells, entries, &root);
    if (!error) {
        error = topology_check_cycles(parse, entries);
    }
    if (!error) {
        error = topology_set_paths(parse, entries, root);
    }
    if (!error) {
        error = topology_check_hosts(parse, entries);
    }
    return error;
}

static struct error *
topology_load_text(const char *name, const char *text, size_t size,
                   struct topology **ret_topology)
{
    CLEANUP(yaml_tree_node_freep) struct yaml_tree_node *root = NULL;
    struct topology_parse parse = {
        .name = name,
        .text = text,
        .size = size,
    };
    struct topology_entries entries = { NULL, 0 };
    const struct yaml_tree_node *cells = NULL;
    struct error *error;

    error = topology_build_tree(&parse, &root);
    if (!error) {
        error = topology_find_cells(&parse, root, &cells);
    }
    if (!error) {
        error = topology_check_entries(&parse, cells, &entries);
    }
    if (!error) {
        *ret_topology = topology_assemble(name, &entries);
    }
    topology_entries_destroy(&entries);
    return error;
}

/* ---- Public functions ------------------------------------------------ */

struct error *
topology_load_string(const char *name, const char *yaml,
                     struct topology **ret_topology)
{
    size_t size = strnlen(yaml, (size_t) TOPOLOGY_MAX_FILE_SIZE + 1);

    if (size > TOPOLOGY_MAX_FILE_SIZE) {
        return error_new(ERROR_INVALID, "Topology '%s' is larger than %d "
                         "bytes", name, TOPOLOGY_MAX_FILE_SIZE);
    }
    return topology_load_text(name, yaml, size, ret_topology);
}

static void
topology_closep(int *fd)
{
    if (*fd >= 0) {
        (void) close(*fd);
    }
}

struct error *
topology_load_file(const char *path, struct topology **ret_topology)
{
    CLEANUP(topology_closep) int fd = -1;
    AUTOFREE char *text = NULL;
    size_t size = 0;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return error_from_errno(-errno, ERROR_INVALID,
                                "Cannot open topology file '%s'", path);
    }
    /* Read one byte more than allowed, to tell "too large" from "just
     * fits" without trusting fstat() (pipes, /proc). */
    text = xmalloc((size_t) TOPOLOGY_MAX_FILE_SIZE + 2);
    while (size <= TOPOLOGY_MAX_FILE_SIZE) {
        ssize_t n = read(fd, text + size,
                         (size_t) TOPOLOGY_MAX_FILE_SIZE + 1 - size);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return error_from_errno(-errno, ERROR_INVALID,
                                    "Cannot read topology file '%s'", path);
        }
        if (n == 0) {
            break;
        }
        size += (size_t) n;
    }
    if (size > TOPOLOGY_MAX_FILE_SIZE) {
        return error_new(ERROR_INVALID, "Topology file '%s' is larger than "
                         "%d bytes", path, TOPOLOGY_MAX_FILE_SIZE);
    }
    text[size] = '\0';
    return topology_load_text(path, text, size, ret_topology);
}

void
topology_free(struct topology *topology)
{
    if (!topology) {
        return;
    }
    for (size_t i = 0; i < topology->n_cells; i++) {
        topology_cell_free(topology->cells[i]);
    }
    free(topology->cells);
    free(topology->source);
    free(topology);
}

const struct topology_cell *
topology_root(const struct topology *topology)
{
    return topology->cells[0];
}

const struct topology_cell *
topology_find_name(const struct topology *topology, const char *name)
{
    for (size_t i = 0; i < topology->n_cells; i++) {
        if (!strcmp(topology->cells[i]->name, name)) {
            return topology->cells[i];
        }
    }
    return NULL;
}

const struct topology_cell *
topology_find_path(const struct topology *topology, const char *path)
{
    for (size_t i = 0; i < topology->n_cells; i++) {
        if (!strcmp(topology->cells[i]->path, path)) {
            return topology->cells[i];
        }
    }
    return NULL;
}

const struct topology_capability *
topology_cell_find_capability(const struct topology_cell *cell,
                              const char *name)
{
    for (size_t i = 0; i < cell->n_capabilities; i++) {
        if (!strcmp(cell->capabilities[i].name, name)) {
            return &cell->capabilities[i];
        }
    }
    return NULL;
}

struct json_object *
topology_cell_zones_to_json(const struct topology_cell *cell)
{
    struct json_object *array = json_object_new_array();

    for (size_t i = 0; i < cell->n_availability_zones; i++) {
        json_object_array_add(
            array, json_object_new_string(cell->availability_zones[i]));
    }
    return array;
}

struct json_object *
topology_cell_capabilities_to_json(const struct topology_cell *cell)
{
    struct json_object *object = json_object_new_object();

    /* 'capabilities' is sorted by name, so the text form is canonical. */
    for (size_t i = 0; i < cell->n_capabilities; i++) {
        const struct topology_capability *cap = &cell->capabilities[i];
        struct json_object *value;

        if (cap->is_list) {
            value = json_object_new_array();
            for (size_t j = 0; j < cap->n_values; j++) {
                json_object_array_add(
                    value, json_object_new_string(cap->values[j]));
            }
        } else {
            value = json_object_new_string(cap->values[0]);
        }
        json_object_object_add(object, cap->name, value);
    }
    return object;
}
