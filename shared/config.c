/* config.c: typed YAML configuration driven by a key table (see config.h).
 *
 * Loading runs in three steps, so that a failed load never touches the
 * caller's struct:
 *
 *   1. yaml-tree.h builds a small tree of nodes (scalars,
 *      mappings, sequences, each with its position).  This step knows no
 *      schema; it enforces the limits on nesting and size and rejects what
 *      a configuration never needs (aliases, several documents).
 *   2. The tree is walked against the key table.  Each value is parsed by
 *      the validator of its key's type into a "pending" slot per key;
 *      unknown and duplicate keys stop the walk.
 *   3. Only when everything is valid are the pending values moved into the
 *      target, freeing the values they replace.
 *
 * Defaults and command-line overrides go through the same validators
 * (config_parse_text()), so "60" means the same thing everywhere. */
#include <config.h>
#include "shared/config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <yaml.h>

#include "shared/cleanup.h"
#include "shared/error.h"
#include "shared/xalloc.h"
#include "shared/yaml-tree.h"

/* ---- Values ---------------------------------------------------------- */

/* One parsed value of any type, before it is stored in the target. */
union config_value {
    char *s;
    long long i;
    bool b;
    double d;
    int e;
    struct config_string_list l;
};

/* The value a load will store for one key, if 'set'. */
struct config_pending {
    bool set;
    union config_value value;
};

static const char *const config_type_names[] = {
    [CONFIG_TYPE_STRING] = "string",
    [CONFIG_TYPE_INT] = "integer",
    [CONFIG_TYPE_BOOL] = "boolean",
    [CONFIG_TYPE_DOUBLE] = "number",
    [CONFIG_TYPE_ENUM] = "enum",
    [CONFIG_TYPE_STRING_LIST] = "list",
};

const char *
config_type_to_string(enum config_type type)
{
    if ((size_t) type >= ARRAY_SIZE(config_type_names)) {
        return "unknown";
    }
    return config_type_names[type];
}

static void
config_string_list_clear(struct config_string_list *list)
{
    for (size_t i = 0; i < list->n; i++) {
        free(list->items[i]);
    }
    free(list->items);
    list->items = NULL;
    list->n = 0;
}

static void
config_string_list_append(struct config_string_list *list, char *item)
{
    list->items = xreallocarray(list->items, list->n + 1,
                                sizeof *list->items);
    list->items[list->n++] = item;
}

static void
config_value_free(const struct config_key *key, union config_value *value)
{
    if (key->type == CONFIG_TYPE_STRING) {
        free(value->s);
        value->s = NULL;
    } else if (key->type == CONFIG_TYPE_STRING_LIST) {
        config_string_list_clear(&value->l);
    }
}

static void
config_pending_free(const struct config_schema *schema,
                    struct config_pending *pending)
{
    if (!pending) {
        return;
    }
    for (size_t i = 0; i < schema->n_keys; i++) {
        if (pending[i].set) {
            config_value_free(&schema->keys[i], &pending[i].value);
        }
    }
    free(pending);
}

static void *
config_field(const struct config_key *key, void *target)
{
    return (char *) target + key->offset;
}

/* Frees what the field of 'key' in 'target' holds and resets it. */
static void
config_field_clear(const struct config_key *key, void *target)
{
    void *field = config_field(key, target);

    if (key->type == CONFIG_TYPE_STRING) {
        char **s = field;

        free(*s);
        *s = NULL;
    } else if (key->type == CONFIG_TYPE_STRING_LIST) {
        config_string_list_clear(field);
    }
}

/* Moves 'value' into the field of 'key' in 'target', without freeing what
 * the field held. */
static void
config_field_store(const struct config_key *key, void *target,
                   union config_value *value)
{
    void *field = config_field(key, target);

    switch (key->type) {
    case CONFIG_TYPE_STRING:
        *(char **) field = TAKE_PTR(value->s);
        break;
    case CONFIG_TYPE_INT:
        *(long long *) field = value->i;
        break;
    case CONFIG_TYPE_BOOL:
        *(bool *) field = value->b;
        break;
    case CONFIG_TYPE_DOUBLE:
        *(double *) field = value->d;
        break;
    case CONFIG_TYPE_ENUM:
        *(int *) field = value->e;
        break;
    case CONFIG_TYPE_STRING_LIST:
        *(struct config_string_list *) field = value->l;
        value->l.items = NULL;
        value->l.n = 0;
        break;
    }
}

/* Moves every set value of 'pending' into 'target', replacing (and
 * freeing) what was there.  Cannot fail. */
static void
config_pending_commit(const struct config_schema *schema,
                      struct config_pending *pending, void *target)
{
    for (size_t i = 0; i < schema->n_keys; i++) {
        if (pending[i].set) {
            config_field_clear(&schema->keys[i], target);
            config_field_store(&schema->keys[i], target, &pending[i].value);
            pending[i].set = false;
        }
    }
}

/* ---- Validators ------------------------------------------------------ */

static bool
config_has_range(const struct config_key *key)
{
    return key->min < key->max;
}

static struct error *
config_parse_int(const struct config_key *key, const char *text,
                 long long *ret)
{
    char *end;
    long long value;

    /* strtoll() would skip blanks and accept "0x" only with base 0; insist
     * on a sign or digit first so that the whole text is the number. */
    if (!(text[0] == '-' || text[0] == '+'
          || (text[0] >= '0' && text[0] <= '9'))) {
        return error_new(ERROR_INVALID, "'%s' must be an integer, got '%s'",
                         key->path, text);
    }
    errno = 0;
    value = strtoll(text, &end, 10);
    if (end == text || *end != '\0') {
        return error_new(ERROR_INVALID, "'%s' must be an integer, got '%s'",
                         key->path, text);
    }
    if (errno == ERANGE) {
        return error_new(ERROR_INVALID,
                         "'%s' must be an integer between %lld and %lld, "
                         "got '%s'", key->path, LLONG_MIN, LLONG_MAX, text);
    }
    if (config_has_range(key) && (value < key->min || value > key->max)) {
        return error_new(ERROR_INVALID,
                         "'%s' must be between %lld and %lld, got '%s'",
                         key->path, key->min, key->max, text);
    }
    *ret = value;
    return NULL;
}

static struct error *
config_parse_double(const struct config_key *key, const char *text,
                    double *ret)
{
    char *end;
    double value;

    /* As for integers: decimal only (strtod() would also take hex floats),
     * no leading blanks, and "nan"/"inf" are not numbers an operator
     * means. */
    if (!(text[0] == '-' || text[0] == '+' || text[0] == '.'
          || (text[0] >= '0' && text[0] <= '9'))
        || strpbrk(text, "xX")) {
        return error_new(ERROR_INVALID, "'%s' must be a number, got '%s'",
                         key->path, text);
    }
    errno = 0;
    value = strtod(text, &end);
    if (end == text || *end != '\0' || !isfinite(value)) {
        return error_new(ERROR_INVALID, "'%s' must be a number, got '%s'",
                         key->path, text);
    }
    if (errno == ERANGE) {
        return error_new(ERROR_INVALID,
                         "'%s' must be a number of reasonable magnitude, "
                         "got '%s'", key->path, text);
    }
    if (config_has_range(key)
        && (value < (double) key->min || value > (double) key->max)) {
        return error_new(ERROR_INVALID,
                         "'%s' must be between %lld and %lld, got '%s'",
                         key->path, key->min, key->max, text);
    }
    *ret = value;
    return NULL;
}

static struct error *
config_parse_bool(const struct config_key *key, const char *text, bool *ret)
{
    static const char *const true_words[] = { "true", "yes", "on" };
    static const char *const false_words[] = { "false", "no", "off" };

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
    return error_new(ERROR_INVALID,
                     "'%s' must be a boolean (true/false, yes/no, on/off), "
                     "got '%s'", key->path, text);
}

/* Returns the accepted words of 'key' as "a, b, c".  The caller frees. */
static char *
config_choices_to_string(const struct config_key *key)
{
    char *s = xstrdup("");

    for (size_t i = 0; key->choices && key->choices[i]; i++) {
        char *next = xasprintf("%s%s%s", s, i ? ", " : "", key->choices[i]);

        free(s);
        s = next;
    }
    return s;
}

static struct error *
config_parse_enum(const struct config_key *key, const char *text, int *ret)
{
    AUTOFREE char *choices = NULL;

    for (size_t i = 0; key->choices && key->choices[i]; i++) {
        if (!strcmp(text, key->choices[i]) && i <= INT_MAX) {
            *ret = (int) i;
            return NULL;
        }
    }
    choices = config_choices_to_string(key);
    return error_new(ERROR_INVALID, "'%s' must be one of: %s; got '%s'",
                     key->path, choices, text);
}

static struct error *
config_check_string(const struct config_key *key, const char *text)
{
    if (strlen(text) > CONFIG_MAX_STRING_LENGTH) {
        return error_new(ERROR_INVALID,
                         "'%s' is longer than %d bytes", key->path,
                         CONFIG_MAX_STRING_LENGTH);
    }
    return NULL;
}

/* Adds 'item' (borrowed) to the list of 'key' being built in 'list'. */
static struct error *
config_list_add(const struct config_key *key, struct config_string_list *list,
                const char *item)
{
    struct error *error;

    if (item[0] == '\0') {
        return error_new(ERROR_INVALID, "'%s' must not contain empty items",
                         key->path);
    }
    if (list->n >= CONFIG_MAX_LIST_LENGTH) {
        return error_new(ERROR_INVALID, "'%s' has more than %d items",
                         key->path, CONFIG_MAX_LIST_LENGTH);
    }
    error = config_check_string(key, item);
    if (error) {
        return error;
    }
    config_string_list_append(list, xstrdup(item));
    return NULL;
}

/* Parses a comma-separated list, dropping blanks around items. */
static struct error *
config_parse_list_text(const struct config_key *key, const char *text,
                       struct config_string_list *ret)
{
    struct config_string_list list = { NULL, 0 };
    const char *p = text;

    while (*p == ' ' || *p == '\t') {
        p++;
    }
    while (*p != '\0') {
        const char *comma = strchr(p, ',');
        const char *end = comma ? comma : p + strlen(p);
        AUTOFREE char *item = NULL;
        struct error *error;

        while (p < end && (*p == ' ' || *p == '\t')) {
            p++;
        }
        while (end > p && (end[-1] == ' ' || end[-1] == '\t')) {
            end--;
        }
        item = xstrndup(p, (size_t) (end - p));
        error = config_list_add(key, &list, item);
        if (error) {
            config_string_list_clear(&list);
            return error;
        }
        if (!comma) {
            break;
        }
        p = comma + 1;
        if (*p == '\0') {
            config_string_list_clear(&list);
            return error_new(ERROR_INVALID,
                             "'%s' must not contain empty items", key->path);
        }
    }
    *ret = list;
    return NULL;
}

/* Parses 'text' as a value of 'key', as a default or a command-line
 * override gives it.  On success fills '*ret' (the caller then owns any
 * string or list in it). */
static struct error *
config_parse_text(const struct config_key *key, const char *text,
                  union config_value *ret)
{
    /* Lists check each item instead. */
    if (key->type != CONFIG_TYPE_STRING_LIST) {
        struct error *error = config_check_string(key, text);

        if (error) {
            return error;
        }
    }
    switch (key->type) {
    case CONFIG_TYPE_STRING:
        ret->s = xstrdup(text);
        return NULL;
    case CONFIG_TYPE_INT:
        return config_parse_int(key, text, &ret->i);
    case CONFIG_TYPE_BOOL:
        return config_parse_bool(key, text, &ret->b);
    case CONFIG_TYPE_DOUBLE:
        return config_parse_double(key, text, &ret->d);
    case CONFIG_TYPE_ENUM:
        return config_parse_enum(key, text, &ret->e);
    case CONFIG_TYPE_STRING_LIST:
        return config_parse_list_text(key, text, &ret->l);
    }
    return error_new(ERROR_INTERNAL, "'%s' has an unknown type %d",
                     key->path, (int) key->type);
}

/* Fills '*ret' with the unset value of 'type': NULL, 0, false, the first
 * choice, the empty list. */
static void
config_value_unset(enum config_type type, union config_value *ret)
{
    memset(ret, 0, sizeof *ret);
    if (type == CONFIG_TYPE_STRING) {
        ret->s = NULL;
    } else if (type == CONFIG_TYPE_DOUBLE) {
        ret->d = 0.0;
    } else if (type == CONFIG_TYPE_STRING_LIST) {
        ret->l.items = NULL;
        ret->l.n = 0;
    }
}

/* Fills '*ret' with the default of 'key'. */
static struct error *
config_parse_default(const struct config_key *key, union config_value *ret)
{
    if (key->default_value) {
        return config_parse_text(key, key->default_value, ret);
    }
    config_value_unset(key->type, ret);
    return NULL;
}

/* ---- Step 1: YAML text to a tree ------------------------------------- */

/* What the parser of one document works with. */
struct config_parse {
    const char *name;           /* file name or its stand-in, for messages */
    const char *text;           /* the whole YAML text */
    size_t size;
    const struct config_schema *schema;
    struct config_pending *pending;
    char **seen_prefixes;       /* mapping paths met so far (duplicates) */
    size_t n_seen_prefixes;
};

/* Returns an error "NAME:LINE:COLUMN: <message of cause>" for 'mark'.
 * Takes ownership of 'cause'. */
static struct error *
config_error_at(const struct config_parse *parse, const yaml_mark_t *mark,
                struct error *cause)
{
    return yaml_tree_error_at(parse->name, mark, cause);
}

static struct error *
config_error_at_fmt(const struct config_parse *parse,
                    const yaml_mark_t *mark, const char *fmt, ...)
    PRINTF_FMT(3, 4);

static struct error *
config_error_at_fmt(const struct config_parse *parse,
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
config_build_tree(const struct config_parse *parse,
                  struct yaml_tree_node **ret_root)
{
    static const struct yaml_tree_limits limits = {
        .max_depth = CONFIG_MAX_DEPTH,
        .max_nodes = CONFIG_MAX_NODES,
    };

    return yaml_tree_parse(parse->name, parse->text, parse->size, &limits,
                           ret_root);
}

/* ---- Step 2: the tree against the schema ----------------------------- */

/* Is 'path' a strict prefix of some key ("database" of
 * "database.connection")? */
static bool
config_is_prefix(const struct config_schema *schema, const char *path)
{
    size_t length = strlen(path);

    for (size_t i = 0; i < schema->n_keys; i++) {
        const char *key = schema->keys[i].path;

        if (!strncmp(key, path, length) && key[length] == '.') {
            return true;
        }
    }
    return false;
}

/* Returns what a value of 'key' must be, as in "'x' must be an integer". */
static const char *
config_type_expected(const struct config_key *key)
{
    switch (key->type) {
    case CONFIG_TYPE_STRING:
        return "a string";
    case CONFIG_TYPE_INT:
        return "an integer";
    case CONFIG_TYPE_BOOL:
        return "a boolean";
    case CONFIG_TYPE_DOUBLE:
        return "a number";
    case CONFIG_TYPE_ENUM:
        return "a word";
    case CONFIG_TYPE_STRING_LIST:
        return "a sequence";
    }
    return "a value";
}

/* Parses the YAML 'node' given for 'key' into '*ret'. */
static struct error *
config_parse_node(const struct config_parse *parse,
                  const struct config_key *key,
                  const struct yaml_tree_node *node, union config_value *ret)
{
    struct config_string_list list = { NULL, 0 };
    struct error *error;

    if (key->type != CONFIG_TYPE_STRING_LIST) {
        if (node->kind != YAML_TREE_SCALAR
            && key->type == CONFIG_TYPE_ENUM) {
            AUTOFREE char *choices = config_choices_to_string(key);

            return config_error_at_fmt(
                parse, &node->mark, "'%s' must be one of: %s; got %s",
                key->path, choices, yaml_tree_kind_to_string(node->kind));
        }
        if (node->kind != YAML_TREE_SCALAR) {
            return config_error_at_fmt(
                parse, &node->mark, "'%s' must be %s, got %s", key->path,
                config_type_expected(key),
                yaml_tree_kind_to_string(node->kind));
        }
        if (key->type == CONFIG_TYPE_STRING && node->is_null) {
            ret->s = NULL;
            return NULL;
        }
        error = config_parse_text(key, node->value, ret);
        return error ? config_error_at(parse, &node->mark, error) : NULL;
    }

    /* A list: a sequence of scalars, or null for the empty list. */
    if (node->kind == YAML_TREE_SCALAR && node->is_null) {
        *ret = (union config_value) { .l = list };
        return NULL;
    }
    if (node->kind != YAML_TREE_SEQUENCE) {
        return config_error_at_fmt(parse, &node->mark,
                                   "'%s' must be a sequence, got %s",
                                   key->path,
                                   yaml_tree_kind_to_string(node->kind));
    }
    for (size_t i = 0; i < node->n_children; i++) {
        const struct yaml_tree_node *item = node->children[i];

        if (item->kind != YAML_TREE_SCALAR) {
            error = config_error_at_fmt(
                parse, &item->mark, "'%s' items must be scalars, got %s",
                key->path, yaml_tree_kind_to_string(item->kind));
        } else {
            error = config_list_add(key, &list, item->value);
            if (error) {
                error = config_error_at(parse, &item->mark, error);
            }
        }
        if (error) {
            config_string_list_clear(&list);
            return error;
        }
    }
    *ret = (union config_value) { .l = list };
    return NULL;
}

static bool
config_prefix_seen(const struct config_parse *parse, const char *path)
{
    for (size_t i = 0; i < parse->n_seen_prefixes; i++) {
        if (!strcmp(parse->seen_prefixes[i], path)) {
            return true;
        }
    }
    return false;
}

static struct error *
config_walk_mapping(struct config_parse *parse,
                    const struct yaml_tree_node *mapping, const char *prefix);

/* Handles the pair 'key_node': 'value' found in the mapping at 'prefix'
 * (NULL at the top). */
static struct error *
config_walk_pair(struct config_parse *parse,
                 const struct yaml_tree_node *key_node,
                 const struct yaml_tree_node *value, const char *prefix)
{
    const struct config_schema *schema = parse->schema;
    AUTOFREE char *path = NULL;
    struct error *error;

    if (strlen(key_node->value) > CONFIG_MAX_STRING_LENGTH) {
        return config_error_at_fmt(parse, &key_node->mark,
                                   "key longer than %d bytes",
                                   CONFIG_MAX_STRING_LENGTH);
    }
    path = (prefix ? xasprintf("%s.%s", prefix, key_node->value)
            : xstrdup(key_node->value));

    for (size_t i = 0; i < schema->n_keys; i++) {
        const struct config_key *key = &schema->keys[i];
        struct config_pending *pending = &parse->pending[i];

        if (strcmp(key->path, path)) {
            continue;
        }
        if (pending->set) {
            return config_error_at_fmt(parse, &key_node->mark,
                                       "duplicate key '%s'", path);
        }
        error = config_parse_node(parse, key, value, &pending->value);
        if (!error) {
            pending->set = true;
        }
        return error;
    }

    if (!config_is_prefix(schema, path)) {
        return config_error_at_fmt(parse, &key_node->mark,
                                   "unknown key '%s'", path);
    }
    if (config_prefix_seen(parse, path)) {
        return config_error_at_fmt(parse, &key_node->mark,
                                   "duplicate key '%s'", path);
    }
    parse->seen_prefixes = xreallocarray(parse->seen_prefixes,
                                         parse->n_seen_prefixes + 1,
                                         sizeof *parse->seen_prefixes);
    parse->seen_prefixes[parse->n_seen_prefixes++] = xstrdup(path);

    if (value->kind == YAML_TREE_MAPPING) {
        return config_walk_mapping(parse, value, path);
    }
    if (value->kind == YAML_TREE_SCALAR && value->is_null) {
        return NULL;            /* "database:" with nothing under it */
    }
    return config_error_at_fmt(parse, &value->mark,
                               "'%s' must be a mapping, got %s", path,
                               yaml_tree_kind_to_string(value->kind));
}

static struct error *
config_walk_mapping(struct config_parse *parse,
                    const struct yaml_tree_node *mapping, const char *prefix)
{
    /* The builder only ever closes a mapping with a value for every key. */
    for (size_t i = 0; i + 1 < mapping->n_children; i += 2) {
        struct error *error = config_walk_pair(parse, mapping->children[i],
                                               mapping->children[i + 1],
                                               prefix);

        if (error) {
            return error;
        }
    }
    return NULL;
}

/* Parses the YAML 'text' of 'size' bytes and, when all of it is valid,
 * stores what it sets into 'target'. */
static struct error *
config_load_text(const struct config_schema *schema, void *target,
                 const char *name, const char *text, size_t size)
{
    CLEANUP(yaml_tree_node_freep) struct yaml_tree_node *root = NULL;
    struct config_parse parse = {
        .name = name,
        .text = text,
        .size = size,
        .schema = schema,
    };
    struct error *error;

    error = config_build_tree(&parse, &root);
    if (error) {
        return error;
    }
    if (!root || (root->kind == YAML_TREE_SCALAR && root->is_null)) {
        return NULL;            /* empty: every value stays */
    }
    if (root->kind != YAML_TREE_MAPPING) {
        return config_error_at_fmt(&parse, &root->mark,
                                   "the configuration must be a mapping, "
                                   "got %s",
                                   yaml_tree_kind_to_string(root->kind));
    }

    parse.pending = xcalloc(schema->n_keys ? schema->n_keys : 1,
                            sizeof *parse.pending);
    error = config_walk_mapping(&parse, root, NULL);
    if (!error) {
        config_pending_commit(schema, parse.pending, target);
    }
    config_pending_free(schema, parse.pending);
    for (size_t i = 0; i < parse.n_seen_prefixes; i++) {
        free(parse.seen_prefixes[i]);
    }
    free(parse.seen_prefixes);
    return error;
}

/* ---- Public functions ------------------------------------------------ */

struct error *
config_init(const struct config_schema *schema, void *target)
{
    struct config_pending *pending = xcalloc(schema->n_keys ? schema->n_keys
                                             : 1, sizeof *pending);
    struct error *cause = NULL;
    struct error *error = NULL;

    for (size_t i = 0; i < schema->n_keys && !cause; i++) {
        cause = config_parse_default(&schema->keys[i], &pending[i].value);
    }
    if (cause) {
        /* A bug in the program, not in the configuration.  Every field is
         * still written (unset), so that config_destroy() stays safe. */
        error = error_new(ERROR_INTERNAL, "Invalid default in schema '%s': %s",
                          schema->name, error_message(cause));
        error_free(cause);
        for (size_t i = 0; i < schema->n_keys; i++) {
            /* The slots never reached are still zero, which frees as
             * nothing. */
            config_value_free(&schema->keys[i], &pending[i].value);
            config_value_unset(schema->keys[i].type, &pending[i].value);
        }
    }
    for (size_t i = 0; i < schema->n_keys; i++) {
        config_field_store(&schema->keys[i], target, &pending[i].value);
    }
    free(pending);
    return error;
}

struct error *
config_load_string(const struct config_schema *schema, void *target,
                   const char *name, const char *yaml)
{
    size_t size = strnlen(yaml, (size_t) CONFIG_MAX_FILE_SIZE + 1);

    if (size > CONFIG_MAX_FILE_SIZE) {
        return error_new(ERROR_INVALID,
                         "Configuration '%s' is larger than %d bytes", name,
                         CONFIG_MAX_FILE_SIZE);
    }
    return config_load_text(schema, target, name, yaml, size);
}

static void
config_closep(int *fd)
{
    if (*fd >= 0) {
        (void) close(*fd);
    }
}

struct error *
config_load_file(const struct config_schema *schema, void *target,
                 const char *path)
{
    CLEANUP(config_closep) int fd = -1;
    AUTOFREE char *text = NULL;
    size_t size = 0;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return error_from_errno(-errno, ERROR_INVALID,
                                "Cannot open configuration file '%s'", path);
    }
    /* Read one byte more than allowed, to tell "too large" from "just
     * fits" without trusting fstat() (pipes, /proc). */
    text = xmalloc((size_t) CONFIG_MAX_FILE_SIZE + 2);
    while (size <= CONFIG_MAX_FILE_SIZE) {
        ssize_t n = read(fd, text + size,
                         (size_t) CONFIG_MAX_FILE_SIZE + 1 - size);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return error_from_errno(-errno, ERROR_INVALID,
                                    "Cannot read configuration file '%s'",
                                    path);
        }
        if (n == 0) {
            break;
        }
        size += (size_t) n;
    }
    if (size > CONFIG_MAX_FILE_SIZE) {
        return error_new(ERROR_INVALID,
                         "Configuration file '%s' is larger than %d bytes",
                         path, CONFIG_MAX_FILE_SIZE);
    }
    text[size] = '\0';
    return config_load_text(schema, target, path, text, size);
}

struct error *
config_set(const struct config_schema *schema, void *target,
           const char *assignment)
{
    const char *equals = strchr(assignment, '=');
    AUTOFREE char *path = NULL;
    const struct config_key *key;
    union config_value value;
    struct error *error;

    if (!equals) {
        return error_new(ERROR_INVALID,
                         "invalid override '%s': expected KEY=VALUE",
                         assignment);
    }
    path = xstrndup(assignment, (size_t) (equals - assignment));
    key = config_find_key(schema, path);
    if (!key) {
        return error_new(ERROR_INVALID,
                         "invalid override '%s': unknown key '%s'",
                         assignment, path);
    }
    error = config_parse_text(key, equals + 1, &value);
    if (error) {
        return error_wrap(error, "invalid override '%s'", assignment);
    }
    config_field_clear(key, target);
    config_field_store(key, target, &value);
    return NULL;
}

void
config_destroy(const struct config_schema *schema, void *target)
{
    if (!schema || !target) {
        return;
    }
    for (size_t i = 0; i < schema->n_keys; i++) {
        config_field_clear(&schema->keys[i], target);
    }
}

const struct config_key *
config_find_key(const struct config_schema *schema, const char *path)
{
    for (size_t i = 0; i < schema->n_keys; i++) {
        if (!strcmp(schema->keys[i].path, path)) {
            return &schema->keys[i];
        }
    }
    return NULL;
}

/* Returns the help text of 'key' with its range or accepted words
 * appended.  The caller frees. */
static char *
config_key_help(const struct config_key *key)
{
    const char *help = key->help ? key->help : "";
    const char *sep = key->help && key->help[0] ? " " : "";

    if (key->type == CONFIG_TYPE_ENUM) {
        AUTOFREE char *choices = config_choices_to_string(key);

        return xasprintf("%s%s(one of: %s)", help, sep, choices);
    }
    if ((key->type == CONFIG_TYPE_INT || key->type == CONFIG_TYPE_DOUBLE)
        && config_has_range(key)) {
        return xasprintf("%s%s(%lld to %lld)", help, sep, key->min,
                         key->max);
    }
    return xstrdup(help);
}

/* Returns the default of 'key' as --help shows it. */
static const char *
config_key_default_text(const struct config_key *key)
{
    if (key->default_value && key->default_value[0]) {
        return key->default_value;
    }
    switch (key->type) {
    case CONFIG_TYPE_STRING:
        return key->default_value ? "\"\"" : "(unset)";
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_DOUBLE:
        return key->default_value ? "(invalid)" : "0";
    case CONFIG_TYPE_BOOL:
        return key->default_value ? "(invalid)" : "false";
    case CONFIG_TYPE_ENUM:
        if (key->default_value || !key->choices || !key->choices[0]) {
            return "(invalid)";
        }
        return key->choices[0];
    case CONFIG_TYPE_STRING_LIST:
        return "(empty)";
    }
    return "(invalid)";
}

void
config_print_help(const struct config_schema *schema, FILE *stream)
{
    size_t path_width = 0;
    size_t type_width = 0;
    size_t default_width = 0;

    for (size_t i = 0; i < schema->n_keys; i++) {
        const struct config_key *key = &schema->keys[i];
        size_t n;

        n = strlen(key->path);
        path_width = n > path_width ? n : path_width;
        n = strlen(config_type_to_string(key->type));
        type_width = n > type_width ? n : type_width;
        n = strlen(config_key_default_text(key));
        default_width = n > default_width ? n : default_width;
    }
    for (size_t i = 0; i < schema->n_keys; i++) {
        const struct config_key *key = &schema->keys[i];
        AUTOFREE char *help = config_key_help(key);
        AUTOFREE char *line = xasprintf(
            "  %-*s  %-*s  %-*s  %s", (int) path_width, key->path,
            (int) type_width, config_type_to_string(key->type),
            (int) default_width, config_key_default_text(key), help);
        size_t length = strlen(line);

        while (length > 0 && line[length - 1] == ' ') {
            line[--length] = '\0';
        }
        fprintf(stream, "%s\n", line);
    }
}
