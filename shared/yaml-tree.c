/* yaml-tree.c: libyaml's events to a tree of positioned nodes (see
 * yaml-tree.h). */
#include <config.h>
#include "shared/yaml-tree.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "shared/error.h"
#include "shared/xalloc.h"

void
yaml_tree_node_free(struct yaml_tree_node *node)
{
    if (!node) {
        return;
    }
    for (size_t i = 0; i < node->n_children; i++) {
        yaml_tree_node_free(node->children[i]);
    }
    free(node->children);
    free(node->value);
    free(node);
}

const char *
yaml_tree_kind_to_string(enum yaml_tree_kind kind)
{
    switch (kind) {
    case YAML_TREE_SCALAR:
        return "a scalar";
    case YAML_TREE_MAPPING:
        return "a mapping";
    case YAML_TREE_SEQUENCE:
        return "a sequence";
    }
    return "an unknown node";
}

struct error *
yaml_tree_error_at(const char *name, const yaml_mark_t *mark,
                   struct error *cause)
{
    return error_wrap(cause, "%s:%zu:%zu", name, mark->line + 1,
                      mark->column + 1);
}

struct error *
yaml_tree_error_atv(const char *name, const yaml_mark_t *mark,
                    const char *fmt, va_list args)
{
    return yaml_tree_error_at(name, mark, error_newv(ERROR_INVALID, fmt,
                                                     args));
}

struct error *
yaml_tree_error_at_fmt(const char *name, const yaml_mark_t *mark,
                       const char *fmt, ...)
{
    struct error *error;
    va_list args;

    va_start(args, fmt);
    error = yaml_tree_error_atv(name, mark, fmt, args);
    va_end(args);
    return error;
}

/* What the builder of one document works with. */
struct yaml_tree_builder {
    const char *name;
    const char *text;
    size_t size;
    const struct yaml_tree_limits *limits;
    struct yaml_tree_node *root;
    struct yaml_tree_node **stack;      /* open collections, max_depth */
    size_t depth;
    size_t n_nodes;
    size_t n_documents;
};

/* Turns libyaml's parser error into "NAME:LINE:COLUMN: YAML syntax
 * error: ...". */
static struct error *
yaml_tree_syntax_error(const struct yaml_tree_builder *b,
                       const yaml_parser_t *parser)
{
    yaml_mark_t mark = parser->problem_mark;
    const char *problem = parser->problem ? parser->problem : "unknown";

    if (parser->error == YAML_READER_ERROR) {
        /* The reader (encoding errors) reports a byte offset only. */
        size_t offset = parser->problem_offset;

        memset(&mark, 0, sizeof mark);
        for (size_t i = 0; i < offset && i < b->size; i++) {
            if (b->text[i] == '\n') {
                mark.line++;
                mark.column = 0;
            } else {
                mark.column++;
            }
        }
    } else if (parser->error == YAML_MEMORY_ERROR) {
        problem = "out of memory";
    }
    return yaml_tree_error_at_fmt(b->name, &mark, "YAML syntax error: %s",
                                  problem);
}

static bool
yaml_tree_scalar_is_null(const yaml_event_t *event)
{
    static const char *const words[] = { "", "~", "null", "Null", "NULL" };
    const char *value = (const char *) event->data.scalar.value;

    if (event->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
        return false;
    }
    for (size_t i = 0; i < ARRAY_SIZE(words); i++) {
        if (!strcmp(value, words[i])) {
            return true;
        }
    }
    return false;
}

/* Adds 'node' (taking ownership) under the innermost open collection, or
 * makes it the root. */
static struct error *
yaml_tree_builder_add(struct yaml_tree_builder *b,
                      struct yaml_tree_node *node)
{
    struct yaml_tree_node *parent;

    if (b->n_nodes >= b->limits->max_nodes) {
        struct error *error = yaml_tree_error_at_fmt(
            b->name, &node->mark, "more than %zu YAML nodes",
            b->limits->max_nodes);

        yaml_tree_node_free(node);
        return error;
    }
    b->n_nodes++;
    if (b->depth == 0) {
        b->root = node;
        return NULL;
    }
    parent = b->stack[b->depth - 1];
    if (parent->kind == YAML_TREE_MAPPING && parent->n_children % 2 == 0
        && node->kind != YAML_TREE_SCALAR) {
        struct error *error = yaml_tree_error_at_fmt(
            b->name, &node->mark, "mapping keys must be scalars, got %s",
            yaml_tree_kind_to_string(node->kind));

        yaml_tree_node_free(node);
        return error;
    }
    parent->children = xreallocarray(parent->children,
                                     parent->n_children + 1,
                                     sizeof *parent->children);
    parent->children[parent->n_children++] = node;
    return NULL;
}

/* Handles one libyaml event. */
static struct error *
yaml_tree_builder_event(struct yaml_tree_builder *b,
                        const yaml_event_t *event)
{
    const yaml_mark_t *mark = &event->start_mark;
    struct yaml_tree_node *node;
    struct error *error;

    switch (event->type) {
    case YAML_DOCUMENT_START_EVENT:
        if (++b->n_documents > 1) {
            return yaml_tree_error_at_fmt(b->name, mark,
                                          "only one YAML document is "
                                          "allowed");
        }
        return NULL;
    case YAML_ALIAS_EVENT:
        return yaml_tree_error_at_fmt(b->name, mark,
                                      "YAML aliases are not supported");
    case YAML_SCALAR_EVENT:
        if (memchr(event->data.scalar.value, '\0',
                   event->data.scalar.length)) {
            return yaml_tree_error_at_fmt(b->name, mark,
                                          "value contains a NUL character");
        }
        if (b->limits->max_scalar_size
            && event->data.scalar.length > b->limits->max_scalar_size) {
            return yaml_tree_error_at_fmt(b->name, mark,
                                          "value longer than %zu bytes",
                                          b->limits->max_scalar_size);
        }
        node = xzalloc(sizeof *node);
        node->kind = YAML_TREE_SCALAR;
        node->mark = *mark;
        node->value = xstrndup((const char *) event->data.scalar.value,
                               event->data.scalar.length);
        node->is_null = yaml_tree_scalar_is_null(event);
        return yaml_tree_builder_add(b, node);
    case YAML_MAPPING_START_EVENT:
    case YAML_SEQUENCE_START_EVENT:
        if (b->depth >= b->limits->max_depth) {
            return yaml_tree_error_at_fmt(b->name, mark,
                                          "nesting deeper than %zu levels",
                                          b->limits->max_depth);
        }
        node = xzalloc(sizeof *node);
        node->kind = (event->type == YAML_MAPPING_START_EVENT
                      ? YAML_TREE_MAPPING : YAML_TREE_SEQUENCE);
        node->mark = *mark;
        error = yaml_tree_builder_add(b, node);
        if (!error) {
            b->stack[b->depth++] = node;
        }
        return error;
    case YAML_MAPPING_END_EVENT:
    case YAML_SEQUENCE_END_EVENT:
        /* libyaml pairs start and end events. */
        if (b->depth > 0) {
            b->depth--;
        }
        return NULL;
    case YAML_NO_EVENT:
    case YAML_STREAM_START_EVENT:
    case YAML_STREAM_END_EVENT:
    case YAML_DOCUMENT_END_EVENT:
        return NULL;
    }
    return NULL;
}

struct error *
yaml_tree_parse(const char *name, const char *text, size_t size,
                const struct yaml_tree_limits *limits,
                struct yaml_tree_node **ret_root)
{
    struct yaml_tree_builder b = {
        .name = name, .text = text, .size = size, .limits = limits,
    };
    yaml_parser_t parser;
    struct error *error = NULL;
    bool done = false;

    if (!yaml_parser_initialize(&parser)) {
        return error_new(ERROR_INTERNAL,
                         "Cannot initialise the YAML parser for '%s'",
                         name);
    }
    b.stack = xreallocarray(NULL, limits->max_depth ? limits->max_depth : 1,
                            sizeof *b.stack);
    yaml_parser_set_input_string(&parser, (const unsigned char *) text,
                                 size);
    while (!done && !error) {
        yaml_event_t event;

        if (!yaml_parser_parse(&parser, &event)) {
            error = yaml_tree_syntax_error(&b, &parser);
            break;
        }
        error = yaml_tree_builder_event(&b, &event);
        done = event.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&event);
    }
    yaml_parser_delete(&parser);
    free(b.stack);
    if (error) {
        yaml_tree_node_free(b.root);
        return error;
    }
    *ret_root = b.root;
    return NULL;
}
