/* test-transport-url.c: parsing and printing transport URLs. */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "cells-rpc/transport-url.h"
#include "shared/error.h"
#include "shared/xalloc.h"

struct host_expect {
    const char *user;
    const char *password;
    const char *host;
    int port;
};

static void
test_good_urls(void **state)
{
    static const struct {
        const char *url;
        const char *vhost;
        size_t n_hosts;
        struct host_expect hosts[2];
        const char *printed;
    } cases[] = {
        { "rabbit://u:p@h:1234/vh", "vh", 1, { { "u", "p", "h", 1234 } },
          "rabbit://u:***@h:1234/vh" },
        { "rabbit://h", "/", 1, { { "guest", "guest", "h", 5672 } },
          "rabbit://guest:***@h:5672/" },
        { "rabbit://h/", "/", 1, { { "guest", "guest", "h", 5672 } },
          "rabbit://guest:***@h:5672/" },
        { "rabbit://u:p@h/%2F", "/", 1, { { "u", "p", "h", 5672 } },
          "rabbit://u:***@h:5672/" },
        { "rabbit://u%40x:p%3Aw@h:5672/v%20h", "v h", 1,
          { { "u@x", "p:w", "h", 5672 } },
          "rabbit://u%40x:***@h:5672/v%20h" },
        { "rabbit://u1:p1@h1:5672,u2:p2@h2.example.org:5673/vh", "vh", 2,
          { { "u1", "p1", "h1", 5672 },
            { "u2", "p2", "h2.example.org", 5673 } },
          "rabbit://u1:***@h1:5672,u2:***@h2.example.org:5673/vh" },
        { "rabbit://u:p@[::1]:5671/", "/", 1, { { "u", "p", "::1", 5671 } },
          "rabbit://u:***@[::1]:5671/" },
        { "rabbit://u@h", "/", 1, { { "u", "", "h", 5672 } },
          "rabbit://u:***@h:5672/" },
        { "rabbit://u:@h:1", "/", 1, { { "u", "", "h", 1 } },
          "rabbit://u:***@h:1/" },
        { "rabbit://u:p@a@h:65535/x/y", "x/y", 1,
          { { "u", "p@a", "h", 65535 } }, "rabbit://u:***@h:65535/x%2Fy" },
    };

    (void) state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CLEANUP(transport_url_freep) struct transport_url *tu = NULL;
        struct error *err = transport_url_parse(cases[i].url, &tu);
        AUTOFREE char *printed = NULL;

        if (err) {
            fail_msg("row %zu: %s", i, error_message(err));
        }
        assert_string_equal(tu->vhost, cases[i].vhost);
        assert_int_equal(tu->n_hosts, cases[i].n_hosts);
        for (size_t j = 0; j < tu->n_hosts; j++) {
            assert_string_equal(tu->hosts[j].user, cases[i].hosts[j].user);
            assert_string_equal(tu->hosts[j].password,
                                cases[i].hosts[j].password);
            assert_string_equal(tu->hosts[j].host, cases[i].hosts[j].host);
            assert_int_equal(tu->hosts[j].port, cases[i].hosts[j].port);
        }
        printed = transport_url_to_string(tu);
        assert_string_equal(printed, cases[i].printed);
    }
}

static void
test_bad_urls(void **state)
{
    static const struct {
        const char *url;
        const char *words;      /* Part of the error message. */
    } cases[] = {
        { "", "empty" },
        { "amqp://u:SECRET@h/", "scheme" },
        { "rabbit:/h", "scheme" },
        { "rabbit://", "host entry 1 is empty" },
        { "rabbit://u:SECRET@h:0/", "bad port in host entry 1" },
        { "rabbit://u:SECRET@h:65536/", "bad port" },
        { "rabbit://u:SECRET@h:abc/", "bad port" },
        { "rabbit://u:SECRET@h:/", "bad port" },
        { "rabbit://u:SECRET@h:5672:1/", "bad port" },
        { "rabbit://u:SECRET@h,/v", "host entry 2 is empty" },
        { "rabbit://u:SECRET@h/v?ssl=1", "query" },
        { "rabbit://u:SECRET@h/v#x", "query" },
        { "rabbit://u:SECRET@/v", "missing host name" },
        { "rabbit://u:SECRET@[::1/v", "unterminated" },
        { "rabbit://u:SECRET@[]:5672/", "missing host name" },
        { "rabbit://u:SECRET@h/%zz", "percent escape" },
        { "rabbit://u:SECRET@h/%0", "percent escape" },
        { "rabbit://u:SECRET@h/%00", "percent escape" },
        { "rabbit://u:SECRET%@h/", "percent escape" },
        { "rabbit://u:SECRET@h h/", "space" },
        { "rabbit://u:SECRET@h\x7f/", "space" },
        { "rabbit://:SECRET@h/", "empty user name" },
        { "rabbit://u:SECRET@h!/", "bad character" },
    };

    (void) state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct transport_url *tu = NULL;
        CLEANUP(error_freep) struct error *err =
            transport_url_parse(cases[i].url, &tu);

        if (!err) {
            fail_msg("row %zu: '%s' accepted", i, cases[i].url);
        }
        assert_null(tu);
        assert_int_equal(error_kind(err), ERROR_INVALID);
        if (!strstr(error_message(err), cases[i].words)) {
            fail_msg("row %zu: '%s' lacks '%s'", i, error_message(err),
                     cases[i].words);
        }
        /* The password never appears in a message. */
        assert_null(strstr(error_message(err), "SECRET"));
    }
}

static void
test_limits(void **state)
{
    char long_url[TRANSPORT_URL_MAX_SIZE + 16];
    char long_user[TRANSPORT_URL_MAX_FIELD_SIZE + 32];
    AUTOFREE char *hosts = NULL;
    AUTOFREE char *user_url = NULL;
    struct transport_url *tu = NULL;
    struct error *err;

    (void) state;
    memset(long_url, 'a', sizeof long_url - 1);
    long_url[sizeof long_url - 1] = '\0';
    memcpy(long_url, "rabbit://", 9);
    err = transport_url_parse(long_url, &tu);
    assert_non_null(err);
    assert_non_null(strstr(error_message(err), "longer than"));
    error_free(err);

    /* 17 hosts. */
    hosts = xstrdup("rabbit://h0");
    for (int i = 1; i <= TRANSPORT_URL_MAX_HOSTS; i++) {
        char *more = xasprintf("%s,h%d", hosts, i);

        free(hosts);
        hosts = more;
    }
    err = transport_url_parse(hosts, &tu);
    assert_non_null(err);
    assert_non_null(strstr(error_message(err), "more than 16 hosts"));
    error_free(err);

    memset(long_user, 'u', sizeof long_user - 1);
    long_user[sizeof long_user - 1] = '\0';
    user_url = xasprintf("rabbit://%s:p@h/", long_user);
    err = transport_url_parse(user_url, &tu);
    assert_non_null(err);
    assert_non_null(strstr(error_message(err), "user name of host entry 1 "
                           "is longer"));
    error_free(err);
    assert_null(tu);
}

static void
test_host_to_string(void **state)
{
    CLEANUP(transport_url_freep) struct transport_url *tu = NULL;
    AUTOFREE char *a = NULL;
    AUTOFREE char *b = NULL;

    (void) state;
    assert_null(transport_url_parse("rabbit://h1,[fe80::1]:5673/", &tu));
    a = transport_url_host_to_string(tu, 0);
    b = transport_url_host_to_string(tu, 1);
    assert_string_equal(a, "h1:5672");
    assert_string_equal(b, "[fe80::1]:5673");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_urls),
        cmocka_unit_test(test_bad_urls),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_host_to_string),
    };

    return cmocka_run_group_tests_name("transport-url", tests, NULL, NULL);
}
