/* test-config.c: the typed YAML configuration loader (shared/config.c):
 * good and bad documents, defaults, files, command-line overrides, limits,
 * atomic loads and --help output, against a small schema of its own. */
#include <config.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "shared/cleanup.h"
#include "shared/config.h"
#include "shared/error.h"
#include "shared/xalloc.h"

/* ---- The schema for tests -------------------------------------------- */

struct test_config {
    char *connection;
    long long max_pool_size;
    long long timeout;
    bool debug;
    double ram_ratio;
    int log_format;
    struct config_string_list zones;
    long long weight_offset;
    char *host;
    char *deep;
};

enum test_log_format { TEST_LOG_TEXT, TEST_LOG_JSON };
static const char *const test_log_formats[] = { "text", "json", NULL };

/* 16 components: the deepest path CONFIG_MAX_DEPTH allows (the top mapping
 * is one level, each component but the last opens another). */
#define TEST_DEEP_PATH "deep.a.b.c.d.e.f.g.h.i.j.k.l.m.n.o"

static const struct config_key test_keys[] = {
    { "database.connection", CONFIG_TYPE_STRING,
      offsetof(struct test_config, connection), NULL, 0, 0, NULL,
      "Database URL" },
    { "database.max_pool_size", CONFIG_TYPE_INT,
      offsetof(struct test_config, max_pool_size), "5", 1, 100, NULL,
      "Connections kept open" },
    { "rpc.timeout", CONFIG_TYPE_INT,
      offsetof(struct test_config, timeout), "60", 1, 3600, NULL,
      "Seconds to wait for a reply" },
    { "debug", CONFIG_TYPE_BOOL,
      offsetof(struct test_config, debug), "false", 0, 0, NULL,
      "Log at debug level" },
    { "scheduler.ram_allocation_ratio", CONFIG_TYPE_DOUBLE,
      offsetof(struct test_config, ram_ratio), "1.5", 0, 100, NULL,
      "Virtual to physical RAM" },
    { "log.format", CONFIG_TYPE_ENUM,
      offsetof(struct test_config, log_format), "text", 0, 0,
      test_log_formats, "Log line format" },
    { "cell.availability_zones", CONFIG_TYPE_STRING_LIST,
      offsetof(struct test_config, zones), "nova", 0, 0, NULL,
      "Zones of this cell" },
    { "cell.weight_offset", CONFIG_TYPE_INT,
      offsetof(struct test_config, weight_offset), NULL, 0, 0, NULL,
      "Added to the cell's weight" },
    { "host", CONFIG_TYPE_STRING,
      offsetof(struct test_config, host), "localhost", 0, 0, NULL,
      "Name of this host" },
    { TEST_DEEP_PATH, CONFIG_TYPE_STRING,
      offsetof(struct test_config, deep), NULL, 0, 0, NULL,
      "A deeply nested key" },
};

static const struct config_schema test_schema = {
    "test.yaml", test_keys, ARRAY_SIZE(test_keys)
};

/* ---- Helpers --------------------------------------------------------- */

static void
test_config_init(struct test_config *cfg)
{
    struct error *error;

    memset(cfg, 0xa5, sizeof *cfg);     /* config_init() must not read it */
    error = config_init(&test_schema, cfg);
    assert_null(error);
}

/* Returns "path=value" for 'key' of 'cfg'.  The caller frees. */
static char *
test_dump_key(const struct config_key *key, const struct test_config *cfg)
{
    const char *field = (const char *) cfg + key->offset;

    switch (key->type) {
    case CONFIG_TYPE_STRING: {
        const char *s = *(char *const *) field;

        return (s ? xasprintf("%s=\"%s\"", key->path, s)
                : xasprintf("%s=NULL", key->path));
    }
    case CONFIG_TYPE_INT:
        return xasprintf("%s=%lld", key->path, *(const long long *) field);
    case CONFIG_TYPE_BOOL:
        return xasprintf("%s=%s", key->path,
                         *(const bool *) field ? "true" : "false");
    case CONFIG_TYPE_DOUBLE:
        return xasprintf("%s=%g", key->path, *(const double *) field);
    case CONFIG_TYPE_ENUM:
        return xasprintf("%s=%s", key->path,
                         key->choices[*(const int *) field]);
    case CONFIG_TYPE_STRING_LIST: {
        const struct config_string_list *list = (const void *) field;
        char *s = xasprintf("%s=[", key->path);

        for (size_t i = 0; i < list->n; i++) {
            char *next = xasprintf("%s%s%s", s, i ? "," : "",
                                   list->items[i]);

            free(s);
            s = next;
        }
        char *done = xasprintf("%s]", s);
        free(s);
        return done;
    }
    }
    fail_msg("key '%s' has an unknown type", key->path);
    return NULL;
}

/* Returns the keys whose values differ between 'base' and 'cfg', as
 * "path=value" separated by blanks ("" when none).  The caller frees. */
static char *
test_dump_changes(const struct test_config *base,
                  const struct test_config *cfg)
{
    char *s = xstrdup("");

    for (size_t i = 0; i < test_schema.n_keys; i++) {
        AUTOFREE char *before = test_dump_key(&test_keys[i], base);
        AUTOFREE char *after = test_dump_key(&test_keys[i], cfg);

        if (strcmp(before, after)) {
            char *next = xasprintf("%s%s%s", s, s[0] ? " " : "", after);

            free(s);
            s = next;
        }
    }
    return s;
}

/* Returns the whole configuration 'cfg' as text.  The caller frees. */
static char *
test_dump_all(const struct test_config *cfg)
{
    char *s = xstrdup("");

    for (size_t i = 0; i < test_schema.n_keys; i++) {
        AUTOFREE char *one = test_dump_key(&test_keys[i], cfg);
        char *next = xasprintf("%s%s\n", s, one);

        free(s);
        s = next;
    }
    return s;
}

static char *
test_data_path(const char *file)
{
    const char *top = getenv("top_srcdir");

    if (top && top[0]) {
        return xasprintf("%s/tests/data/config/%s", top, file);
    }
    return xasprintf("%s/%s", TEST_CONFIG_DATA_DIR, file);
}

/* ---- Good documents -------------------------------------------------- */

static void
test_good_documents(void **state)
{
    static const struct {
        const char *yaml;
        const char *changes;    /* keys that differ from the defaults */
    } cases[] = {
        /* Empty in every way: the defaults stay. */
        { "", "" },
        { "# nothing but a comment\n", "" },
        { "---\n", "" },
        { "~\n", "" },
        { "{}\n", "" },
        { "database:\n", "" },
        { "database: {}\n", "" },

        /* Each type, block style. */
        { "database:\n  connection: mysql://u:p@db/nova\n",
          "database.connection=\"mysql://u:p@db/nova\"" },
        { "database:\n  max_pool_size: 100\n",
          "database.max_pool_size=100" },
        { "rpc:\n  timeout: 1\n", "rpc.timeout=1" },
        { "rpc:\n  timeout: 3600\n", "rpc.timeout=3600" },
        { "rpc:\n  timeout: '30'\n", "rpc.timeout=30" },
        { "cell:\n  weight_offset: -9223372036854775808\n",
          "cell.weight_offset=-9223372036854775808" },
        { "cell:\n  weight_offset: +7\n", "cell.weight_offset=7" },
        { "cell:\n  weight_offset: 007\n", "cell.weight_offset=7" },
        { "debug: true\n", "debug=true" },
        { "debug: YES\n", "debug=true" },
        { "debug: On\n", "debug=true" },
        { "debug: off\n", "" },
        { "debug: No\n", "" },
        { "scheduler:\n  ram_allocation_ratio: 0.5\n",
          "scheduler.ram_allocation_ratio=0.5" },
        { "scheduler:\n  ram_allocation_ratio: 2\n",
          "scheduler.ram_allocation_ratio=2" },
        { "scheduler:\n  ram_allocation_ratio: 1e1\n",
          "scheduler.ram_allocation_ratio=10" },
        { "scheduler:\n  ram_allocation_ratio: .25\n",
          "scheduler.ram_allocation_ratio=0.25" },
        { "scheduler:\n  ram_allocation_ratio: 100\n",
          "scheduler.ram_allocation_ratio=100" },
        { "log:\n  format: json\n", "log.format=json" },
        { "log:\n  format: text\n", "" },
        { "cell:\n  availability_zones:\n    - az1\n    - az2\n",
          "cell.availability_zones=[az1,az2]" },
        { "cell:\n  availability_zones: [a, 'b c']\n",
          "cell.availability_zones=[a,b c]" },
        { "cell:\n  availability_zones: []\n",
          "cell.availability_zones=[]" },
        { "cell:\n  availability_zones:\n", "cell.availability_zones=[]" },
        { "host: \"\"\n", "host=\"\"" },
        { "host: ~\n", "host=NULL" },
        { "host: null\n", "host=NULL" },
        { "host: 8774\n", "host=\"8774\"" },
        { "host: 'null'\n", "host=\"null\"" },
        { "'host': \"h1\"\n", "host=\"h1\"" },
        { "host: \"caf\\u00e9\"\n", "host=\"caf\xc3\xa9\"" },

        /* Flow style, dotted keys, several keys at once. */
        { "{rpc: {timeout: 30}, debug: on}\n", "rpc.timeout=30 debug=true" },
        { "rpc.timeout: 30\n", "rpc.timeout=30" },
        { "database:\n  connection: x\n  max_pool_size: 2\n"
          "rpc:\n  timeout: 9\nhost: h1\n",
          "database.connection=\"x\" database.max_pool_size=2 "
          "rpc.timeout=9 host=\"h1\"" },
        { "database.connection: x\ndatabase:\n  max_pool_size: 2\n",
          "database.connection=\"x\" database.max_pool_size=2" },
        { "---\nhost: h1\n...\n", "host=\"h1\"" },

        /* Exactly CONFIG_MAX_DEPTH levels. */
        { "deep: {a: {b: {c: {d: {e: {f: {g: {h: {i: {j: {k: {l: {m: "
          "{n: {o: bottom}}}}}}}}}}}}}}}\n",
          TEST_DEEP_PATH "=\"bottom\"" },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct test_config defaults;
        struct test_config cfg;
        CLEANUP(error_freep) struct error *error = NULL;
        AUTOFREE char *changes = NULL;

        test_config_init(&defaults);
        test_config_init(&cfg);
        error = config_load_string(&test_schema, &cfg, "test.yaml",
                                   cases[i].yaml);
        if (error) {
            fail_msg("case %zu: '%s': unexpected error: %s", i,
                     cases[i].yaml, error_message(error));
        }
        changes = test_dump_changes(&defaults, &cfg);
        if (strcmp(changes, cases[i].changes)) {
            fail_msg("case %zu: '%s': got '%s', expected '%s'", i,
                     cases[i].yaml, changes, cases[i].changes);
        }
        config_destroy(&test_schema, &defaults);
        config_destroy(&test_schema, &cfg);
    }
}

/* ---- Bad documents --------------------------------------------------- */

static void
test_bad_documents(void **state)
{
    static const struct {
        const char *yaml;
        const char *message;
    } cases[] = {
        /* Unknown keys, at the top and nested; a prefix is not a key. */
        { "hots: a\n", "test.yaml:1:1: unknown key 'hots'" },
        { "database:\n  conection: x\n",
          "test.yaml:2:3: unknown key 'database.conection'" },
        { "database:\n  connection: x\n  pool:\n    size: 1\n",
          "test.yaml:3:3: unknown key 'database.pool'" },
        { "rpc:\n  timeout: 5\n  timeout.x: 5\n",
          "test.yaml:3:3: unknown key 'rpc.timeout.x'" },
        { "deep:\n  a:\n    zz: 1\n",
          "test.yaml:3:5: unknown key 'deep.a.zz'" },

        /* Wrong scalar for each type. */
        { "rpc:\n  timeout: abc\n",
          "test.yaml:2:12: 'rpc.timeout' must be an integer, got 'abc'" },
        { "rpc:\n  timeout: 12abc\n",
          "test.yaml:2:12: 'rpc.timeout' must be an integer, got '12abc'" },
        { "rpc:\n  timeout: 0x10\n",
          "test.yaml:2:12: 'rpc.timeout' must be an integer, got '0x10'" },
        { "rpc:\n  timeout: 1.5\n",
          "test.yaml:2:12: 'rpc.timeout' must be an integer, got '1.5'" },
        { "rpc:\n  timeout: ' 12'\n",
          "test.yaml:2:12: 'rpc.timeout' must be an integer, got ' 12'" },
        { "rpc:\n  timeout:\n",
          "test.yaml:2:11: 'rpc.timeout' must be an integer, got ''" },
        { "cell:\n  weight_offset: 9223372036854775808\n",
          "test.yaml:2:18: 'cell.weight_offset' must be an integer between "
          "-9223372036854775808 and 9223372036854775807, "
          "got '9223372036854775808'" },
        { "debug: maybe\n",
          "test.yaml:1:8: 'debug' must be a boolean (true/false, yes/no, "
          "on/off), got 'maybe'" },
        { "debug: 1\n",
          "test.yaml:1:8: 'debug' must be a boolean (true/false, yes/no, "
          "on/off), got '1'" },
        { "scheduler:\n  ram_allocation_ratio: fast\n",
          "test.yaml:2:25: 'scheduler.ram_allocation_ratio' must be a "
          "number, got 'fast'" },
        { "scheduler:\n  ram_allocation_ratio: nan\n",
          "test.yaml:2:25: 'scheduler.ram_allocation_ratio' must be a "
          "number, got 'nan'" },
        { "scheduler:\n  ram_allocation_ratio: 1e999\n",
          "test.yaml:2:25: 'scheduler.ram_allocation_ratio' must be a "
          "number, got '1e999'" },
        { "scheduler:\n  ram_allocation_ratio: 0x1p3\n",
          "test.yaml:2:25: 'scheduler.ram_allocation_ratio' must be a "
          "number, got '0x1p3'" },
        { "scheduler:\n  ram_allocation_ratio: 1.5x\n",
          "test.yaml:2:25: 'scheduler.ram_allocation_ratio' must be a "
          "number, got '1.5x'" },
        { "log:\n  format: xml\n",
          "test.yaml:2:11: 'log.format' must be one of: text, json; "
          "got 'xml'" },
        { "log:\n  format: JSON\n",
          "test.yaml:2:11: 'log.format' must be one of: text, json; "
          "got 'JSON'" },

        /* Out of range. */
        { "rpc:\n  timeout: 0\n",
          "test.yaml:2:12: 'rpc.timeout' must be between 1 and 3600, "
          "got '0'" },
        { "rpc:\n  timeout: 3601\n",
          "test.yaml:2:12: 'rpc.timeout' must be between 1 and 3600, "
          "got '3601'" },
        { "rpc:\n  timeout: -1\n",
          "test.yaml:2:12: 'rpc.timeout' must be between 1 and 3600, "
          "got '-1'" },
        { "scheduler:\n  ram_allocation_ratio: 100.5\n",
          "test.yaml:2:25: 'scheduler.ram_allocation_ratio' must be "
          "between 0 and 100, got '100.5'" },

        /* A mapping or sequence where a scalar belongs, and vice versa. */
        { "rpc:\n  timeout:\n    a: 1\n",
          "test.yaml:3:5: 'rpc.timeout' must be an integer, got a mapping" },
        { "host: [a, b]\n",
          "test.yaml:1:7: 'host' must be a string, got a sequence" },
        { "debug:\n  - true\n",
          "test.yaml:2:3: 'debug' must be a boolean, got a sequence" },
        { "scheduler:\n  ram_allocation_ratio: {x: 1}\n",
          "test.yaml:2:25: 'scheduler.ram_allocation_ratio' must be a "
          "number, got a mapping" },
        { "log:\n  format: [text]\n",
          "test.yaml:2:11: 'log.format' must be one of: text, json; "
          "got a sequence" },
        { "cell:\n  availability_zones: az1\n",
          "test.yaml:2:23: 'cell.availability_zones' must be a sequence, "
          "got a scalar" },
        { "cell:\n  availability_zones: {az1: x}\n",
          "test.yaml:2:23: 'cell.availability_zones' must be a sequence, "
          "got a mapping" },
        { "cell:\n  availability_zones:\n    - [az1]\n",
          "test.yaml:3:7: 'cell.availability_zones' items must be scalars, "
          "got a sequence" },
        { "cell:\n  availability_zones: [a, '']\n",
          "test.yaml:2:27: 'cell.availability_zones' must not contain "
          "empty items" },
        { "database: sqlite\n",
          "test.yaml:1:11: 'database' must be a mapping, got a scalar" },
        { "database:\n  - connection\n",
          "test.yaml:2:3: 'database' must be a mapping, got a sequence" },

        /* Duplicates: leaf, mapping, and dotted against nested. */
        { "host: a\nhost: b\n", "test.yaml:2:1: duplicate key 'host'" },
        { "rpc:\n  timeout: 1\nrpc:\n  timeout: 2\n",
          "test.yaml:3:1: duplicate key 'rpc'" },
        { "rpc.timeout: 1\nrpc:\n  timeout: 2\n",
          "test.yaml:3:3: duplicate key 'rpc.timeout'" },

        /* What the document as a whole must be. */
        { "- a\n- b\n",
          "test.yaml:1:1: the configuration must be a mapping, "
          "got a sequence" },
        { "just words\n",
          "test.yaml:1:1: the configuration must be a mapping, "
          "got a scalar" },
        { "host: a\n---\nhost: b\n",
          "test.yaml:2:1: only one YAML document is allowed" },
        { "host: &h a\ndatabase:\n  connection: *h\n",
          "test.yaml:3:15: YAML aliases are not supported" },
        { "[a]: b\n",
          "test.yaml:1:1: mapping keys must be scalars, got a sequence" },
        { "host: \"a\\0b\"\n",
          "test.yaml:1:7: value contains a NUL character" },

        /* Syntax errors from libyaml. */
        { "host: [a, b\n",
          "test.yaml:2:1: YAML syntax error: did not find expected ',' "
          "or ']'" },
        { "host: a\n  bad: b\n",
          "test.yaml:2:6: YAML syntax error: mapping values are not "
          "allowed in this context" },
        { "rpc:\n\ttimeout: 5\n",
          "test.yaml:2:1: YAML syntax error: found character that cannot "
          "start any token" },
        { "host: \"open\n",
          "test.yaml:2:1: YAML syntax error: found unexpected end of "
          "stream" },
        { "host: \xff\n",
          "test.yaml:1:7: YAML syntax error: invalid leading UTF-8 "
          "octet" },

        /* Nesting deeper than CONFIG_MAX_DEPTH, before any key check. */
        { "deep: {a: {b: {c: {d: {e: {f: {g: {h: {i: {j: {k: {l: {m: "
          "{n: {o: {p: x}}}}}}}}}}}}}}}}\n",
          "test.yaml:1:67: nesting deeper than 16 levels" },
        { "x: [[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]\n",
          "test.yaml:1:19: nesting deeper than 16 levels" },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct test_config cfg;
        CLEANUP(error_freep) struct error *error = NULL;
        AUTOFREE char *before = NULL;
        AUTOFREE char *after = NULL;

        test_config_init(&cfg);
        before = test_dump_all(&cfg);
        error = config_load_string(&test_schema, &cfg, "test.yaml",
                                   cases[i].yaml);
        if (!error) {
            fail_msg("case %zu: '%s': loaded, expected '%s'", i,
                     cases[i].yaml, cases[i].message);
        }
        if (strcmp(error_message(error), cases[i].message)) {
            fail_msg("case %zu: '%s': got '%s', expected '%s'", i,
                     cases[i].yaml, error_message(error), cases[i].message);
        }
        assert_int_equal(error_kind(error), ERROR_INVALID);
        after = test_dump_all(&cfg);
        assert_string_equal(after, before);
        config_destroy(&test_schema, &cfg);
    }
}

/* ---- Limits ---------------------------------------------------------- */

/* Returns 'n' copies of 'unit' joined by 'sep'.  The caller frees. */
static char *
test_repeat(const char *unit, const char *sep, size_t n)
{
    size_t unit_size = strlen(unit);
    size_t sep_size = strlen(sep);
    char *s = xmalloc(n * (unit_size + sep_size) + 1);
    char *p = s;

    for (size_t i = 0; i < n; i++) {
        if (i) {
            memcpy(p, sep, sep_size);
            p += sep_size;
        }
        memcpy(p, unit, unit_size);
        p += unit_size;
    }
    *p = '\0';
    return s;
}

static void
test_limits(void **state)
{
    AUTOFREE char *at_string_limit = test_repeat("x", "",
                                                 CONFIG_MAX_STRING_LENGTH);
    AUTOFREE char *over_string_limit = test_repeat(
        "x", "", CONFIG_MAX_STRING_LENGTH + 1);
    AUTOFREE char *at_list_limit = test_repeat("a", ", ",
                                               CONFIG_MAX_LIST_LENGTH);
    AUTOFREE char *over_list_limit = test_repeat(
        "a", ", ", CONFIG_MAX_LIST_LENGTH + 1);
    AUTOFREE char *many_nodes = test_repeat("a", ",", CONFIG_MAX_NODES);
    AUTOFREE char *huge = test_repeat("#", "", CONFIG_MAX_FILE_SIZE + 1);
    AUTOFREE char *long_string = xasprintf("host: %s\n", at_string_limit);
    AUTOFREE char *too_long_string = xasprintf("host: %s\n",
                                               over_string_limit);
    /* libyaml caps implicit keys at 1024 characters: use an explicit one. */
    AUTOFREE char *too_long_key = xasprintf("? %s\n: 1\n",
                                            over_string_limit);
    AUTOFREE char *long_list = xasprintf(
        "cell:\n  availability_zones: [%s]\n", at_list_limit);
    AUTOFREE char *too_long_list = xasprintf(
        "cell:\n  availability_zones: [%s]\n", over_list_limit);
    AUTOFREE char *too_many_nodes = xasprintf(
        "cell:\n  availability_zones: [%s]\n", many_nodes);
    AUTOFREE char *nodes_message = xasprintf(
        "test.yaml:2:%d: more than %d YAML nodes",
        /* Five nodes come before the list items (top mapping, "cell",
         * its mapping, the key, the sequence); items start at column 24
         * and take two columns each. */
        24 + 2 * (CONFIG_MAX_NODES - 5), CONFIG_MAX_NODES);
    const struct {
        const char *yaml;
        const char *message;    /* NULL: loads */
    } cases[] = {
        { long_string, NULL },
        { too_long_string,
          "test.yaml:1:7: 'host' is longer than 4096 bytes" },
        { too_long_key, "test.yaml:1:3: key longer than 4096 bytes" },
        { long_list, NULL },
        { too_long_list,
          "test.yaml:2:3096: 'cell.availability_zones' has more than "
          "1024 items" },
        { too_many_nodes, nodes_message },
        { huge, "Configuration 'test.yaml' is larger than 1048576 bytes" },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct test_config cfg;
        CLEANUP(error_freep) struct error *error = NULL;

        test_config_init(&cfg);
        error = config_load_string(&test_schema, &cfg, "test.yaml",
                                   cases[i].yaml);
        if (cases[i].message && !error) {
            fail_msg("case %zu: loaded, expected '%s'", i, cases[i].message);
        } else if (!cases[i].message && error) {
            fail_msg("case %zu: unexpected error: %s", i,
                     error_message(error));
        } else if (error) {
            assert_string_equal(error_message(error), cases[i].message);
        }
        config_destroy(&test_schema, &cfg);
    }

    /* The successful ones really hold the values. */
    struct test_config cfg;
    CLEANUP(error_freep) struct error *error = NULL;

    test_config_init(&cfg);
    error = config_load_string(&test_schema, &cfg, "test.yaml", long_string);
    assert_null(error);
    assert_string_equal(cfg.host, at_string_limit);
    error = config_load_string(&test_schema, &cfg, "test.yaml", long_list);
    assert_null(error);
    assert_int_equal(cfg.zones.n, CONFIG_MAX_LIST_LENGTH);
    assert_string_equal(cfg.zones.items[CONFIG_MAX_LIST_LENGTH - 1], "a");
    config_destroy(&test_schema, &cfg);
}

/* ---- Defaults, files, overrides -------------------------------------- */

static void
test_defaults_applied(void **state)
{
    struct test_config cfg;

    (void) state;
    test_config_init(&cfg);
    assert_null(cfg.connection);
    assert_int_equal(cfg.max_pool_size, 5);
    assert_int_equal(cfg.timeout, 60);
    assert_false(cfg.debug);
    assert_true(cfg.ram_ratio == 1.5);
    assert_int_equal(cfg.log_format, TEST_LOG_TEXT);
    assert_int_equal(cfg.zones.n, 1);
    assert_string_equal(cfg.zones.items[0], "nova");
    assert_int_equal(cfg.weight_offset, 0);
    assert_string_equal(cfg.host, "localhost");
    assert_null(cfg.deep);
    config_destroy(&test_schema, &cfg);

    /* Destroy leaves unset fields behind, so a second one is harmless. */
    assert_null(cfg.host);
    assert_null(cfg.zones.items);
    assert_int_equal(cfg.zones.n, 0);
    config_destroy(&test_schema, &cfg);
    config_destroy(&test_schema, NULL);
}

static void
test_bad_default_is_a_schema_error(void **state)
{
    static const struct config_key keys[] = {
        { "name", CONFIG_TYPE_STRING, offsetof(struct test_config, host),
          "fine", 0, 0, NULL, "" },
        { "zones", CONFIG_TYPE_STRING_LIST,
          offsetof(struct test_config, zones), "a,b", 0, 0, NULL, "" },
        { "timeout", CONFIG_TYPE_INT, offsetof(struct test_config, timeout),
          "ten", 0, 0, NULL, "" },
    };
    static const struct config_schema schema = {
        "broken.yaml", keys, ARRAY_SIZE(keys)
    };
    struct test_config cfg;
    CLEANUP(error_freep) struct error *error = NULL;

    (void) state;
    memset(&cfg, 0xa5, sizeof cfg);
    error = config_init(&schema, &cfg);
    assert_non_null(error);
    assert_int_equal(error_kind(error), ERROR_INTERNAL);
    assert_string_equal(error_message(error),
                        "Invalid default in schema 'broken.yaml': "
                        "'timeout' must be an integer, got 'ten'");
    /* Everything is unset, so destroying is safe. */
    assert_null(cfg.host);
    assert_int_equal(cfg.zones.n, 0);
    assert_int_equal(cfg.timeout, 0);
    config_destroy(&schema, &cfg);
}

static void
test_file_overrides_defaults(void **state)
{
    AUTOFREE char *path = test_data_path("example.yaml");
    struct test_config cfg;
    CLEANUP(error_freep) struct error *error = NULL;

    (void) state;
    test_config_init(&cfg);
    error = config_load_file(&test_schema, &cfg, path);
    if (error) {
        fail_msg("%s", error_message(error));
    }
    assert_string_equal(cfg.connection,
                        "mysql://nova:secret@127.0.0.1:3306/nova_east_1");
    assert_int_equal(cfg.max_pool_size, 20);
    assert_int_equal(cfg.timeout, 120);
    assert_true(cfg.debug);
    assert_true(cfg.ram_ratio == 1.25);
    assert_int_equal(cfg.log_format, TEST_LOG_JSON);
    assert_int_equal(cfg.zones.n, 2);
    assert_string_equal(cfg.zones.items[0], "az1");
    assert_string_equal(cfg.zones.items[1], "az2");
    assert_int_equal(cfg.weight_offset, -10);
    /* Not in the file: the default stays. */
    assert_string_equal(cfg.host, "localhost");
    config_destroy(&test_schema, &cfg);
}

static void
test_override_wins_over_file(void **state)
{
    AUTOFREE char *path = test_data_path("example.yaml");
    struct test_config cfg;
    struct error *error;

    (void) state;
    test_config_init(&cfg);
    error = config_load_file(&test_schema, &cfg, path);
    assert_null(error);
    error = config_set(&test_schema, &cfg, "rpc.timeout=7");
    assert_null(error);
    error = config_set(&test_schema, &cfg,
                       "cell.availability_zones=east-1, east-2");
    assert_null(error);
    error = config_set(&test_schema, &cfg, "log.format=text");
    assert_null(error);
    assert_int_equal(cfg.timeout, 7);
    assert_int_equal(cfg.zones.n, 2);
    assert_string_equal(cfg.zones.items[0], "east-1");
    assert_string_equal(cfg.zones.items[1], "east-2");
    assert_int_equal(cfg.log_format, TEST_LOG_TEXT);
    /* The rest of the file stays. */
    assert_int_equal(cfg.max_pool_size, 20);
    config_destroy(&test_schema, &cfg);
}

static void
test_good_overrides(void **state)
{
    static const struct {
        const char *assignment;
        const char *changes;
    } cases[] = {
        { "database.connection=mysql://u:p@h/db?a=b",
          "database.connection=\"mysql://u:p@h/db?a=b\"" },
        { "rpc.timeout=3600", "rpc.timeout=3600" },
        { "cell.weight_offset=-3", "cell.weight_offset=-3" },
        { "debug=on", "debug=true" },
        { "debug=FALSE", "" },
        { "scheduler.ram_allocation_ratio=4.5",
          "scheduler.ram_allocation_ratio=4.5" },
        { "log.format=json", "log.format=json" },
        { "cell.availability_zones= a , b ,c",
          "cell.availability_zones=[a,b,c]" },
        { "cell.availability_zones=", "cell.availability_zones=[]" },
        { "cell.availability_zones=nova", "" },
        { "host=", "host=\"\"" },
        { "host=a=b", "host=\"a=b\"" },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct test_config defaults;
        struct test_config cfg;
        CLEANUP(error_freep) struct error *error = NULL;
        AUTOFREE char *changes = NULL;

        test_config_init(&defaults);
        test_config_init(&cfg);
        error = config_set(&test_schema, &cfg, cases[i].assignment);
        if (error) {
            fail_msg("case %zu: '%s': unexpected error: %s", i,
                     cases[i].assignment, error_message(error));
        }
        changes = test_dump_changes(&defaults, &cfg);
        if (strcmp(changes, cases[i].changes)) {
            fail_msg("case %zu: '%s': got '%s', expected '%s'", i,
                     cases[i].assignment, changes, cases[i].changes);
        }
        config_destroy(&test_schema, &defaults);
        config_destroy(&test_schema, &cfg);
    }
}

static void
test_bad_overrides(void **state)
{
    static const struct {
        const char *assignment;
        const char *message;
    } cases[] = {
        { "rpc.timeout=abc",
          "invalid override 'rpc.timeout=abc': 'rpc.timeout' must be an "
          "integer, got 'abc'" },
        { "rpc.timeout=0",
          "invalid override 'rpc.timeout=0': 'rpc.timeout' must be "
          "between 1 and 3600, got '0'" },
        { "rpc.timeout=",
          "invalid override 'rpc.timeout=': 'rpc.timeout' must be an "
          "integer, got ''" },
        { "rpc.timeout",
          "invalid override 'rpc.timeout': expected KEY=VALUE" },
        { "rpc.timeuot=5",
          "invalid override 'rpc.timeuot=5': unknown key 'rpc.timeuot'" },
        { "rpc=5", "invalid override 'rpc=5': unknown key 'rpc'" },
        { "=5", "invalid override '=5': unknown key ''" },
        { "debug=maybe",
          "invalid override 'debug=maybe': 'debug' must be a boolean "
          "(true/false, yes/no, on/off), got 'maybe'" },
        { "scheduler.ram_allocation_ratio=inf",
          "invalid override 'scheduler.ram_allocation_ratio=inf': "
          "'scheduler.ram_allocation_ratio' must be a number, got 'inf'" },
        { "log.format=xml",
          "invalid override 'log.format=xml': 'log.format' must be one "
          "of: text, json; got 'xml'" },
        { "cell.availability_zones=a,,b",
          "invalid override 'cell.availability_zones=a,,b': "
          "'cell.availability_zones' must not contain empty items" },
        { "cell.availability_zones=a,",
          "invalid override 'cell.availability_zones=a,': "
          "'cell.availability_zones' must not contain empty items" },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct test_config cfg;
        CLEANUP(error_freep) struct error *error = NULL;
        AUTOFREE char *before = NULL;
        AUTOFREE char *after = NULL;

        test_config_init(&cfg);
        before = test_dump_all(&cfg);
        error = config_set(&test_schema, &cfg, cases[i].assignment);
        if (!error) {
            fail_msg("case %zu: '%s': accepted, expected '%s'", i,
                     cases[i].assignment, cases[i].message);
        }
        assert_string_equal(error_message(error), cases[i].message);
        after = test_dump_all(&cfg);
        assert_string_equal(after, before);
        config_destroy(&test_schema, &cfg);
    }
}

static void
test_failed_load_is_atomic(void **state)
{
    struct test_config cfg;
    CLEANUP(error_freep) struct error *error = NULL;
    AUTOFREE char *before = NULL;
    AUTOFREE char *after = NULL;

    (void) state;
    test_config_init(&cfg);
    error = config_load_string(&test_schema, &cfg, "first.yaml",
                               "host: h1\nrpc:\n  timeout: 30\n"
                               "cell:\n  availability_zones: [x, y]\n");
    assert_null(error);
    before = test_dump_all(&cfg);

    /* Valid values first, the error last: none of them may stick. */
    error = config_load_string(&test_schema, &cfg, "second.yaml",
                               "host: h2\n"
                               "database:\n  connection: mysql://x\n"
                               "cell:\n  availability_zones: [z]\n"
                               "rpc:\n  timeout: 99999\n");
    assert_non_null(error);
    assert_string_equal(error_message(error),
                        "second.yaml:7:12: 'rpc.timeout' must be between 1 "
                        "and 3600, got '99999'");
    after = test_dump_all(&cfg);
    assert_string_equal(after, before);
    assert_string_equal(cfg.host, "h1");
    assert_int_equal(cfg.timeout, 30);
    config_destroy(&test_schema, &cfg);
}

static void
test_file_errors(void **state)
{
    AUTOFREE char *bad_path = test_data_path("unknown-key.yaml");
    AUTOFREE char *bad_message = NULL;
    char empty_path[] = "/tmp/test-config-XXXXXX";
    struct test_config cfg;
    struct error *error;
    int fd;

    (void) state;
    test_config_init(&cfg);

    error = config_load_file(&test_schema, &cfg,
                             "/nonexistent/dir/nova.yaml");
    assert_non_null(error);
    assert_string_equal(error_message(error),
                        "Cannot open configuration file "
                        "'/nonexistent/dir/nova.yaml': "
                        "No such file or directory");
    error_free(error);

    bad_message = xasprintf("%s:4:3: unknown key 'database.conection'",
                            bad_path);
    error = config_load_file(&test_schema, &cfg, bad_path);
    assert_non_null(error);
    assert_string_equal(error_message(error), bad_message);
    error_free(error);
    assert_null(cfg.connection);

    /* An empty file is a valid configuration that changes nothing. */
    fd = mkstemp(empty_path);
    assert_true(fd >= 0);
    close(fd);
    error = config_load_file(&test_schema, &cfg, empty_path);
    (void) unlink(empty_path);
    assert_null(error);
    assert_int_equal(cfg.timeout, 60);
    assert_string_equal(cfg.host, "localhost");
    config_destroy(&test_schema, &cfg);
}

/* ---- Lookup and help ------------------------------------------------- */

static void
test_find_key(void **state)
{
    static const struct {
        const char *path;
        bool found;
    } cases[] = {
        { "rpc.timeout", true },
        { "host", true },
        { TEST_DEEP_PATH, true },
        { "rpc", false },
        { "rpc.", false },
        { "rpc.timeout.x", false },
        { "RPC.TIMEOUT", false },
        { "", false },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        const struct config_key *key = config_find_key(&test_schema,
                                                       cases[i].path);

        if (cases[i].found) {
            assert_non_null(key);
            assert_string_equal(key->path, cases[i].path);
        } else {
            assert_null(key);
        }
    }
}

static void
test_print_help(void **state)
{
    AUTOFREE char *text = NULL;
    size_t size = 0;
    FILE *stream = open_memstream(&text, &size);
    size_t n_lines = 0;

    (void) state;
    assert_non_null(stream);
    config_print_help(&test_schema, stream);
    assert_int_equal(fclose(stream), 0);

    /* One line per key, in table order, each naming its key. */
    const char *line = text;
    for (size_t i = 0; i < test_schema.n_keys; i++) {
        const char *end = strchr(line, '\n');
        AUTOFREE char *one = NULL;

        assert_non_null(end);
        one = xstrndup(line, (size_t) (end - line));
        assert_non_null(strstr(one, test_keys[i].path));
        assert_non_null(strstr(one, test_keys[i].help));
        assert_non_null(strstr(one,
                               config_type_to_string(test_keys[i].type)));
        line = end + 1;
        n_lines++;
    }
    assert_string_equal(line, "");
    assert_int_equal(n_lines, test_schema.n_keys);

    /* Columns are aligned on the longest path, type and default. */
    assert_non_null(strstr(
        text,
        "  rpc.timeout                         integer  60         "
        "Seconds to wait for a reply (1 to 3600)\n"));
    assert_non_null(strstr(
        text,
        "  log.format                          enum     text       "
        "Log line format (one of: text, json)\n"));
    assert_non_null(strstr(
        text,
        "  database.connection                 string   (unset)    "
        "Database URL\n"));
    assert_non_null(strstr(
        text,
        "  host                                string   localhost  "
        "Name of this host\n"));
    assert_non_null(strstr(
        text,
        "  cell.weight_offset                  integer  0          "
        "Added to the cell's weight\n"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_documents),
        cmocka_unit_test(test_bad_documents),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_defaults_applied),
        cmocka_unit_test(test_bad_default_is_a_schema_error),
        cmocka_unit_test(test_file_overrides_defaults),
        cmocka_unit_test(test_override_wins_over_file),
        cmocka_unit_test(test_good_overrides),
        cmocka_unit_test(test_bad_overrides),
        cmocka_unit_test(test_failed_load_is_atomic),
        cmocka_unit_test(test_file_errors),
        cmocka_unit_test(test_find_key),
        cmocka_unit_test(test_print_help),
    };

    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
