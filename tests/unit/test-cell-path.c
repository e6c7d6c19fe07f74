/* test-cell-path.c: validation and tree arithmetic of cell paths. */
#include <config.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cells-rpc/cell-path.h"
#include "shared/cleanup.h"
#include "shared/error.h"
#include "shared/xalloc.h"

/* Builds a path of 'depth' names "c0!c1!..." (caller frees). */
static char *
make_deep_path(size_t depth)
{
    char *path = xstrdup("c0");

    for (size_t i = 1; i < depth; i++) {
        char *longer = xasprintf("%s!c%zu", path, i);

        free(path);
        path = longer;
    }
    return path;
}

/* A single name of 'length' 'x' characters (caller frees). */
static char *
make_long_name(size_t length)
{
    char *name = xmalloc(length + 1);

    memset(name, 'x', length);
    name[length] = '\0';
    return name;
}

static void
test_validate(void **state)
{
    static const struct {
        const char *path;
        int expected;
    } cases[] = {
        { "api", 0 },
        { "api!east", 0 },
        { "api!east!east-1", 0 },
        { "A.b_c-9!x", 0 },
        { "", -EINVAL },
        { "api!", -EINVAL },
        { "!api", -EINVAL },
        { "!", -EINVAL },
        { "api!!east", -EINVAL },
        { "api!east!", -EINVAL },
        { "api east", -EINVAL },
        { "api!ea/st", -EINVAL },
        { "api!ea$t", -EINVAL },
        { "api!\xc3\xa9t\xc3\xa9", -EINVAL },
        { "api\n", -EINVAL },
        { "api@east", -EINVAL },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        assert_int_equal(cell_path_validate(cases[i].path),
                         cases[i].expected);
    }
    assert_int_equal(cell_path_validate(NULL), -EINVAL);
}

static void
test_validate_limits(void **state)
{
    AUTOFREE char *deepest = make_deep_path(CELL_PATH_MAX_DEPTH);
    AUTOFREE char *too_deep = make_deep_path(CELL_PATH_MAX_DEPTH + 1);
    AUTOFREE char *longest = make_long_name(CELL_PATH_MAX_NAME_LENGTH);
    AUTOFREE char *too_long = make_long_name(CELL_PATH_MAX_NAME_LENGTH + 1);
    AUTOFREE char *deep_long = xasprintf("api!%s", too_long);
    AUTOFREE char *huge = make_long_name(100000);

    (void) state;
    assert_int_equal(cell_path_validate(deepest), 0);
    assert_int_equal(cell_path_depth(deepest), CELL_PATH_MAX_DEPTH);
    assert_int_equal(cell_path_validate(too_deep), -E2BIG);
    assert_int_equal(cell_path_validate(longest), 0);
    assert_int_equal(cell_path_validate(too_long), -ENAMETOOLONG);
    assert_int_equal(cell_path_validate(deep_long), -ENAMETOOLONG);
    assert_int_equal(cell_path_validate(huge), -ENAMETOOLONG);
    assert_int_equal(cell_path_name_validate(longest), 0);
    assert_int_equal(cell_path_name_validate(too_long), -ENAMETOOLONG);
}

static void
test_name_validate(void **state)
{
    static const struct {
        const char *name;
        int expected;
    } cases[] = {
        { "east-1", 0 },
        { "x", 0 },
        { "a.b_C", 0 },
        { "", -EINVAL },
        { "api!east", -EINVAL },
        { "ea st", -EINVAL },
        { "ea%st", -EINVAL },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        assert_int_equal(cell_path_name_validate(cases[i].name),
                         cases[i].expected);
    }
    assert_int_equal(cell_path_name_validate(NULL), -EINVAL);
}

static void
test_check_explains(void **state)
{
    static const struct {
        const char *path;
        const char *message;    /* NULL: valid. */
    } cases[] = {
        { "api!east", NULL },
        { "", "Invalid cell path '' for destination: it is empty" },
        { "api!!east", "Invalid cell path 'api!!east' for destination: "
          "it has an empty cell name" },
        { "api!e#st", "Invalid cell path 'api!e#st' for destination: "
          "a cell name has a character outside [A-Za-z0-9_.-]" },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        CLEANUP(error_freep) struct error *e =
            cell_path_check("destination", cases[i].path);

        if (!cases[i].message) {
            assert_null(e);
            continue;
        }
        assert_non_null(e);
        assert_int_equal(error_kind(e), ERROR_INVALID);
        assert_string_equal(error_message(e), cases[i].message);
    }

    CLEANUP(error_freep) struct error *e = cell_path_check("sender", NULL);
    assert_string_equal(error_message(e),
                        "Invalid cell path for sender: it is missing");
}

static void
test_depth_root_last(void **state)
{
    static const struct {
        const char *path;
        size_t depth;
        const char *last;
    } cases[] = {
        { "api", 1, "api" },
        { "api!east", 2, "east" },
        { "api!east!east-1", 3, "east-1" },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        assert_int_equal(cell_path_depth(cases[i].path), cases[i].depth);
        assert_true(cell_path_is_root(cases[i].path) == (cases[i].depth == 1));
        assert_string_equal(cell_path_last(cases[i].path), cases[i].last);
    }
}

static int
sign(int x)
{
    return (x > 0) - (x < 0);
}

static void
test_compare(void **state)
{
    static const struct {
        const char *a;
        const char *b;
        int expected;
    } cases[] = {
        { "api", "api", 0 },
        { "api", "api!east", -1 },
        { "api!east", "api", 1 },
        { "api!east", "api!west", -1 },
        /* Name by name: "a" ends before "a-b", so "a!z" < "a-b". */
        { "api!a!z", "api!a-b", -1 },
        { "api!a.b", "api!a!b", 1 },
        { "api!east!east-1", "api!east!east-2", -1 },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        assert_int_equal(sign(cell_path_compare(cases[i].a, cases[i].b)),
                         cases[i].expected);
        assert_true(cell_path_equal(cases[i].a, cases[i].b)
                    == (cases[i].expected == 0));
    }
}

static void
test_ancestry(void **state)
{
    static const struct {
        const char *ancestor;
        const char *descendant;
        bool is_ancestor;
        bool in_subtree;
    } cases[] = {
        { "api", "api!east", true, true },
        { "api", "api!east!east-1", true, true },
        { "api!east", "api!east!east-1", true, true },
        { "api", "api", false, true },
        { "api!east", "api", false, false },
        { "api!east", "api!eastern", false, false },
        { "api!east", "api!eastern!x", false, false },
        { "api!east", "api!west!east", false, false },
        { "api", "other!east", false, false },
        { "api!!", "api!!x", false, false },
        { "api", "", false, false },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        assert_true(cell_path_is_ancestor_of(cases[i].ancestor,
                                             cases[i].descendant)
                    == cases[i].is_ancestor);
        assert_true(cell_path_in_subtree(cases[i].ancestor,
                                         cases[i].descendant)
                    == cases[i].in_subtree);
    }
}

static void
test_parent(void **state)
{
    static const struct {
        const char *path;
        int expected;
        const char *parent;
    } cases[] = {
        { "api!east!east-1", 0, "api!east" },
        { "api!east", 0, "api" },
        { "api", -ENOENT, NULL },
        { "api!", -EINVAL, NULL },
        { "", -EINVAL, NULL },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char *parent = NULL;

        assert_int_equal(cell_path_parent(cases[i].path, &parent),
                         cases[i].expected);
        if (cases[i].parent) {
            assert_string_equal(parent, cases[i].parent);
        } else {
            assert_null(parent);
        }
        free(parent);
    }
}

static void
test_child_toward(void **state)
{
    static const struct {
        const char *from;
        const char *to;
        int expected;
        const char *child;
    } cases[] = {
        { "api", "api!east!east-1", 0, "api!east" },
        { "api", "api!east", 0, "api!east" },
        { "api!east", "api!east!east-1", 0, "api!east!east-1" },
        { "api!east", "api!east!east-1!rack-3", 0, "api!east!east-1" },
        { "api", "api", -ENOENT, NULL },
        { "api!east", "api", -ENOENT, NULL },
        { "api!east", "api!west!w1", -ENOENT, NULL },
        { "api!east", "api!eastern", -ENOENT, NULL },
        { "api!!east", "api!east", -EINVAL, NULL },
        { "api", "api!east!", -EINVAL, NULL },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char *child = NULL;

        assert_int_equal(cell_path_child_toward(cases[i].from, cases[i].to,
                                                &child),
                         cases[i].expected);
        if (cases[i].child) {
            assert_string_equal(child, cases[i].child);
        } else {
            assert_null(child);
        }
        free(child);
    }
}

static void
test_join(void **state)
{
    AUTOFREE char *deepest = make_deep_path(CELL_PATH_MAX_DEPTH);
    AUTOFREE char *too_long = make_long_name(CELL_PATH_MAX_NAME_LENGTH + 1);
    const struct {
        const char *parent;
        const char *name;
        int expected;
        const char *path;
    } cases[] = {
        { "api", "east", 0, "api!east" },
        { "api!east", "east-1", 0, "api!east!east-1" },
        { "api", "", -EINVAL, NULL },
        { "api", "a!b", -EINVAL, NULL },
        { "api!", "east", -EINVAL, NULL },
        { "api", too_long, -ENAMETOOLONG, NULL },
        { deepest, "one-more", -E2BIG, NULL },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char *path = NULL;

        assert_int_equal(cell_path_join(cases[i].parent, cases[i].name,
                                        &path),
                         cases[i].expected);
        if (cases[i].path) {
            assert_string_equal(path, cases[i].path);
            assert_int_equal(cell_path_validate(path), 0);
        } else {
            assert_null(path);
        }
        free(path);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validate),
        cmocka_unit_test(test_validate_limits),
        cmocka_unit_test(test_name_validate),
        cmocka_unit_test(test_check_explains),
        cmocka_unit_test(test_depth_root_last),
        cmocka_unit_test(test_compare),
        cmocka_unit_test(test_ancestry),
        cmocka_unit_test(test_parent),
        cmocka_unit_test(test_child_toward),
        cmocka_unit_test(test_join),
    };

    return cmocka_run_group_tests_name("cell-path", tests, NULL, NULL);
}
