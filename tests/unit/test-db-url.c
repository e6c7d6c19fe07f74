/* test-db-url.c: database URL parsing and redaction (shared/db-url.c).
 *
 * Every bad URL in the tables carries the password "s3cr3t" where it has
 * one, and every error message is checked not to contain it. */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "shared/db-url.h"
#include "shared/error.h"
#include "shared/xalloc.h"

#define SECRET "s3cr3t"

static void
assert_string_or_null_equal(const char *a, const char *b)
{
    if (!a || !b) {
        assert_ptr_equal(a, b);
    } else {
        assert_string_equal(a, b);
    }
}

static void
test_good_urls(void **state)
{
    static const struct {
        const char *url;
        const char *user, *password, *host;
        unsigned int port;
        const char *database, *unix_socket, *charset;
    } cases[] = {
        { "mysql://nova:novapw@127.0.0.1:3306/nova_api",
          "nova", "novapw", "127.0.0.1", 3306, "nova_api", NULL, "utf8mb4" },
        { "mysql+pymysql://nova:novapw@db.example.org/nova_api",
          "nova", "novapw", "db.example.org", 3306, "nova_api", NULL,
          "utf8mb4" },
        { "mysql+mysqldb://nova:pw@db-1.example_net:13306/x",
          "nova", "pw", "db-1.example_net", 13306, "x", NULL, "utf8mb4" },
        { "mariadb://nova:@h/db",
          "nova", "", "h", 3306, "db", NULL, "utf8mb4" },
        /* No database: an admin URL. */
        { "mysql://root:rootpw@127.0.0.1:13306/",
          "root", "rootpw", "127.0.0.1", 13306, NULL, NULL, "utf8mb4" },
        { "mysql://root:rootpw@127.0.0.1:13306",
          "root", "rootpw", "127.0.0.1", 13306, NULL, NULL, "utf8mb4" },
        /* Percent-decoding of user, password and database. */
        { "mysql://n%6Fva:p%40ss%3Aw%2Frd%25@h/nova%5Fapi",
          "nova", "p@ss:w/rd%", "h", 3306, "nova_api", NULL, "utf8mb4" },
        /* The last '@' ends the password, so a raw '@', '/', '?' in it
         * works too. */
        { "mysql://nova:p@ss/w?rd@h/db",
          "nova", "p@ss/w?rd", "h", 3306, "db", NULL, "utf8mb4" },
        { "mysql://nova@h/db",
          "nova", NULL, "h", 3306, "db", NULL, "utf8mb4" },
        { "mysql://h/db",
          "", NULL, "h", 3306, "db", NULL, "utf8mb4" },
        { "mysql://nova:pw@[::1]:3307/db",
          "nova", "pw", "::1", 3307, "db", NULL, "utf8mb4" },
        { "mysql://nova:pw@h:065535/db",
          "nova", "pw", "h", 65535, "db", NULL, "utf8mb4" },
        /* Unix socket: the host may be left out. */
        { "mysql+pymysql://nova:pw@/nova?unix_socket=/run/mysqld/mysqld.sock",
          "nova", "pw", NULL, 3306, "nova", "/run/mysqld/mysqld.sock",
          "utf8mb4" },
        { "mysql://nova:pw@h/db?charset=utf8&unix_socket=/tmp/a%40b.sock",
          "nova", "pw", "h", 3306, "db", "/tmp/a@b.sock", "utf8" },
        { "mysql://nova:pw@h/db?charset=utf8mb4",
          "nova", "pw", "h", 3306, "db", NULL, "utf8mb4" },
        /* UTF-8 in a database name. */
        { "mysql://nova:pw@h/caf%C3%A9",
          "nova", "pw", "h", 3306, "caf\xc3\xa9", NULL, "utf8mb4" },
    };

    (void) state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct db_url *url = NULL;
        struct error *error = db_url_parse(cases[i].url, &url);

        if (error) {
            fail_msg("'%s': unexpected error: %s", cases[i].url,
                     error_message(error));
        }
        assert_non_null(url);
        assert_string_equal(url->user, cases[i].user);
        assert_string_or_null_equal(url->password, cases[i].password);
        assert_string_or_null_equal(url->host, cases[i].host);
        assert_int_equal(url->port, cases[i].port);
        assert_string_or_null_equal(url->database, cases[i].database);
        assert_string_or_null_equal(url->unix_socket, cases[i].unix_socket);
        assert_string_equal(url->charset, cases[i].charset);
        db_url_free(url);
    }
}

static void
test_bad_urls(void **state)
{
    static const struct {
        const char *url;
        const char *message;    /* Expected part of the message. */
    } cases[] = {
        { "mysql://nova:" SECRET "@/nova_api", "names no host" },
        { "mysql://nova:" SECRET "@:3306/nova_api", "names no host" },
        { "mysql://nova:" SECRET "@h:abc/db", "port 'abc' is not a number" },
        { "mysql://nova:" SECRET "@h:-1/db", "port '-1' is not a number" },
        { "mysql://nova:" SECRET "@h:65536/db",
          "port '65536' is out of range 1-65535" },
        { "mysql://nova:" SECRET "@h:99999999999999999999/db",
          "is out of range" },
        { "mysql://nova:" SECRET "@h:0/db", "port '0' is out of range" },
        { "mysql://nova:" SECRET "@h:/db", "the port after ':' is empty" },
        { "postgresql://nova:" SECRET "@h/db",
          "unknown scheme 'postgresql'" },
        { "mysql+foo://nova:" SECRET "@h/db", "unknown scheme 'mysql+foo'" },
        { "nova:" SECRET "@h/db", "does not start with a scheme" },
        { "", "does not start with a scheme" },
        { "mysql:/nova:" SECRET "@h/db", "does not start with a scheme" },
        { "mysql://nova:" SECRET "%4@h/db",
          "the password contains a malformed percent escape" },
        { "mysql://nova:" SECRET "%zz@h/db",
          "the password contains a malformed percent escape" },
        { "mysql://nova:" SECRET "%00@h/db",
          "the password contains an encoded NUL byte" },
        { "mysql://no%zzva:" SECRET "@h/db",
          "the user name 'no%zzva' contains a malformed percent escape" },
        { "mysql://nova:" SECRET "@h/db?foo=bar",
          "unknown parameter 'foo'" },
        { "mysql://nova:" SECRET "@h/db?unix_socket=run/x.sock",
          "unix_socket 'run/x.sock' is not an absolute path" },
        { "mysql://nova:" SECRET "@h/db?charset=utf-8",
          "charset 'utf-8' is not a character set name" },
        { "mysql://nova:" SECRET "@h/db?charset",
          "parameter 'charset' is not of the form NAME=VALUE" },
        { "mysql://nova:" SECRET "@h/db?=x", "is not of the form NAME=VALUE" },
        { "mysql://nova:" SECRET "@h/db?charset=a&charset=b",
          "parameter 'charset' is given twice" },
        { "mysql://nova:" SECRET "@ho st/db",
          "contains a space or a control character" },
        { "mysql://nova:" SECRET "@h\t/db",
          "contains a space or a control character" },
        { "mysql://nova:" SECRET "@h*st/db",
          "host 'h*st' contains the invalid character '*'" },
        { "mysql://nova:" SECRET "@[::1/db", "has no closing ']'" },
        { "mysql://nova:" SECRET "@[]/db", "is empty" },
        { "mysql://nova:" SECRET "@[::1]x/db",
          "unexpected 'x' after the IPv6 address" },
        { "mysql://nova:" SECRET "@h/a%2Fb",
          "database name 'a/b' contains '/'" },
        { "mysql://nova:" SECRET "@h/db%zz",
          "database name 'db%zz' contains a malformed percent escape" },
        { "mysql://nova:" SECRET "@h/"
          "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
          "is longer than 64 characters" },
    };

    (void) state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct db_url *url = NULL;
        CLEANUP(error_freep) struct error *error =
            db_url_parse(cases[i].url, &url);

        if (!error) {
            fail_msg("'%s': parsed but should not", cases[i].url);
        }
        assert_null(url);
        assert_int_equal(error_kind(error), ERROR_INVALID);
        const char *message = error_message(error);
        if (!strstr(message, cases[i].message)) {
            fail_msg("'%s': message '%s' lacks '%s'", cases[i].url, message,
                     cases[i].message);
        }
        assert_non_null(strstr(message, "Invalid database URL"));
        /* The password never shows, not even a part of it. */
        if (strstr(message, "s3cr")) {
            fail_msg("'%s': message '%s' shows the password", cases[i].url,
                     message);
        }
    }
}

static void
test_too_long_url(void **state)
{
    size_t size = DB_URL_MAX_SIZE + 1;
    AUTOFREE char *url = xmalloc(size + 1);
    struct db_url *parsed = NULL;
    CLEANUP(error_freep) struct error *error = NULL;

    (void) state;
    memcpy(url, "mysql://nova:" SECRET "@h/", 21);
    memset(url + 21, 'x', size - 21);
    url[size] = '\0';
    error = db_url_parse(url, &parsed);
    assert_non_null(error);
    assert_null(parsed);
    assert_non_null(strstr(error_message(error), "longer than 4096 bytes"));
    assert_null(strstr(error_message(error), SECRET));
}

static void
test_redact(void **state)
{
    static const struct {
        const char *url;
        const char *redacted;
    } cases[] = {
        { "mysql://nova:novapw@h:3306/db", "mysql://nova:***@h:3306/db" },
        { "mysql+pymysql://nova:p@ss/w?rd@h/db",
          "mysql+pymysql://nova:***@h/db" },
        { "mysql://nova:@h/db", "mysql://nova:***@h/db" },
        { "mysql://nova@h/db", "mysql://nova@h/db" },
        { "mysql://h/db?unix_socket=/x", "mysql://h/db?unix_socket=/x" },
        /* Malformed: whatever may be a password is hidden. */
        { "nova:" SECRET "@h/db", "nova:***@h/db" },
        { "my sql://nova:" SECRET "@h", "my sql:***@h" },
        { "x:y://nova:" SECRET "@h", "x:***@h" },
        { "", "" },
    };

    (void) state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        AUTOFREE char *redacted = db_url_redact(cases[i].url);

        assert_string_equal(redacted, cases[i].redacted);
    }
}

static void
test_free_accepts_null(void **state)
{
    (void) state;
    db_url_free(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_urls),
        cmocka_unit_test(test_bad_urls),
        cmocka_unit_test(test_too_long_url),
        cmocka_unit_test(test_redact),
        cmocka_unit_test(test_free_accepts_null),
    };

    return cmocka_run_group_tests_name("db-url", tests, NULL, NULL);
}
