/* test-devservers.c: the integration-test harness itself.
 *
 * Proves what every other integration test relies on: deploy/devservers
 * started MariaDB and RabbitMQ with the documented credentials, each cell's
 * user reaches its own database and vhost and nothing of another cell, and
 * a server restarted through test_env_restart() comes back on the same port
 * with the same data. */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <cmocka.h>
#include <mysql.h>
#include <mysqld_error.h>
#include <amqp.h>
#include <amqp_tcp_socket.h>

#include "shared/cleanup.h"
#include "shared/xalloc.h"
#include "tests/integration/test-env.h"

/* ------------------------------------------------------------------------
 * MariaDB */

static void
mysql_closep(MYSQL **m)
{
    if (*m) {
        mysql_close(*m);
    }
}

/* Connects over TCP as 'user' to 'db' (NULL for none).  Returns the
 * connection, or NULL with the server's error number in '*ret_errno'. */
static MYSQL *
db_connect(const char *user, const char *password, const char *db,
           unsigned int *ret_errno)
{
    CLEANUP(test_env_url_freep) struct test_env_url *admin =
        test_env_url_parse(test_env_get("NOVA_TEST_MYSQL_ADMIN_URL"));
    unsigned int timeout = 5;
    MYSQL *m = mysql_init(NULL);

    assert_non_null(m);
    mysql_optionsv(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    if (!mysql_real_connect(m, admin->host, user, password, db,
                            (unsigned int) admin->port, NULL, 0)) {
        if (ret_errno) {
            *ret_errno = mysql_errno(m);
        }
        mysql_close(m);
        return NULL;
    }
    return m;
}

/* Runs 'sql' and returns the first column of its first row as a new
 * string ("" when there is no row or no result set). */
static char *
db_query_value(MYSQL *m, const char *sql)
{
    if (mysql_query(m, sql)) {
        fail_msg("'%s' failed: %s", sql, mysql_error(m));
    }
    MYSQL_RES *res = mysql_store_result(m);
    if (!res) {
        return xstrdup("");
    }
    MYSQL_ROW row = mysql_fetch_row(res);
    char *value = xstrdup(row && row[0] ? row[0] : "");
    mysql_free_result(res);
    return value;
}

static void
test_mysql_admin_url_reaches_root(void **state)
{
    CLEANUP(test_env_url_freep) struct test_env_url *u =
        test_env_url_parse(test_env_get("NOVA_TEST_MYSQL_ADMIN_URL"));

    (void) state;
    assert_string_equal(u->scheme, "mysql");
    assert_int_equal(u->port, test_env_get_port("NOVA_TEST_MYSQL_PORT"));

    CLEANUP(mysql_closep) MYSQL *m = db_connect(u->user, u->password, NULL,
                                                NULL);
    assert_non_null(m);
    AUTOFREE char *who = db_query_value(m, "SELECT CURRENT_USER()");
    assert_string_equal(who, "root@127.0.0.1");
    AUTOFREE char *api = db_query_value(m, "SHOW DATABASES LIKE 'nova_api'");
    assert_string_equal(api, "nova_api");
    AUTOFREE char *leaf = db_query_value(m,
                                         "SHOW DATABASES LIKE 'nova_leaf1'");
    assert_string_equal(leaf, "nova_leaf1");
}

static void
test_mysql_nova_user_reaches_api_db(void **state)
{
    CLEANUP(mysql_closep) MYSQL *m = db_connect("nova", "novapw", "nova_api",
                                                NULL);

    (void) state;
    assert_non_null(m);
}

static void
test_mysql_cell_user_owns_its_db(void **state)
{
    CLEANUP(mysql_closep) MYSQL *m = db_connect("leaf1", "leaf1pw",
                                                "nova_leaf1", NULL);

    (void) state;
    assert_non_null(m);
    assert_int_equal(mysql_query(m, "CREATE TABLE IF NOT EXISTS harness_probe"
                                    " (id INT PRIMARY KEY, v VARCHAR(32))"),
                     0);
    assert_int_equal(mysql_query(m, "REPLACE INTO harness_probe"
                                    " VALUES (1, 'kept')"), 0);
    AUTOFREE char *v = db_query_value(m, "SELECT v FROM harness_probe"
                                         " WHERE id = 1");
    assert_string_equal(v, "kept");
}

static void
test_mysql_cell_user_refused_elsewhere(void **state)
{
    static const struct {
        const char *user;
        const char *password;
        const char *db;
        unsigned int error;
    } cases[] = {
        { "leaf1", "leaf1pw", "nova_leaf2", ER_DBACCESS_DENIED_ERROR },
        { "leaf1", "leaf1pw", "nova_api", ER_DBACCESS_DENIED_ERROR },
        { "leaf2", "leaf2pw", "nova_leaf1", ER_DBACCESS_DENIED_ERROR },
        { "nova", "novapw", "nova_leaf1", ER_DBACCESS_DENIED_ERROR },
        { "leaf1", "leaf2pw", "nova_leaf1", ER_ACCESS_DENIED_ERROR },
        { "leaf1", "", NULL, ER_ACCESS_DENIED_ERROR },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        unsigned int error = 0;
        MYSQL *m = db_connect(cases[i].user, cases[i].password, cases[i].db,
                              &error);
        if (m) {
            mysql_close(m);
            fail_msg("%s reached %s", cases[i].user,
                     cases[i].db ? cases[i].db : "the server");
        }
        assert_int_equal(error, cases[i].error);
    }
}

static void
test_mysql_socket_login(void **state)
{
    const char *sock_path = test_env_get("NOVA_TEST_MYSQL_SOCKET");
    CLEANUP(mysql_closep) MYSQL *m = mysql_init(NULL);

    (void) state;
    assert_non_null(m);
    assert_non_null(mysql_real_connect(m, NULL, "leaf2", "leaf2pw",
                                       "nova_leaf2", 0, sock_path, 0));
    AUTOFREE char *who = db_query_value(m, "SELECT CURRENT_USER()");
    assert_string_equal(who, "leaf2@localhost");
}

static void
test_mysql_restart_keeps_port_and_data(void **state)
{
    CLEANUP(mysql_closep) MYSQL *before = db_connect("leaf1", "leaf1pw",
                                                     "nova_leaf1", NULL);

    (void) state;
    assert_non_null(before);
    assert_int_equal(mysql_query(before, "CREATE TABLE IF NOT EXISTS"
                                 " harness_probe (id INT PRIMARY KEY,"
                                 " v VARCHAR(32))"), 0);
    assert_int_equal(mysql_query(before, "REPLACE INTO harness_probe"
                                 " VALUES (2, 'survives')"), 0);

    assert_int_equal(test_env_restart("mariadb"), 0);

    /* The old connection is gone (no automatic reconnect)... */
    assert_int_not_equal(mysql_query(before, "SELECT 1"), 0);
    /* ...and a new one finds the row. */
    CLEANUP(mysql_closep) MYSQL *after = db_connect("leaf1", "leaf1pw",
                                                    "nova_leaf1", NULL);
    assert_non_null(after);
    AUTOFREE char *v = db_query_value(after, "SELECT v FROM harness_probe"
                                             " WHERE id = 2");
    assert_string_equal(v, "survives");
    assert_int_equal(mysql_query(after, "DROP TABLE harness_probe"), 0);
}

/* ------------------------------------------------------------------------
 * RabbitMQ */

static void
amqp_closep(amqp_connection_state_t *c)
{
    if (*c) {
        amqp_connection_close(*c, AMQP_REPLY_SUCCESS);
        amqp_destroy_connection(*c);
    }
}

/* Logs in to 'vhost' as 'user'.  Returns the open connection, or NULL
 * when the broker refuses (the connection is then destroyed). */
static amqp_connection_state_t
mq_login(const char *vhost, const char *user, const char *password)
{
    CLEANUP(test_env_url_freep) struct test_env_url *admin =
        test_env_url_parse(test_env_get("NOVA_TEST_RABBIT_ADMIN_URL"));
    amqp_connection_state_t c = amqp_new_connection();
    amqp_socket_t *sock = amqp_tcp_socket_new(c);
    struct timeval tv = { 5, 0 };

    assert_non_null(sock);
    if (amqp_socket_open_noblock(sock, admin->host, admin->port, &tv)
        != AMQP_STATUS_OK) {
        amqp_destroy_connection(c);
        fail_msg("cannot open a TCP connection to %s:%d", admin->host,
                 admin->port);
    }
    amqp_rpc_reply_t r = amqp_login(c, vhost, 0, 131072, 0,
                                    AMQP_SASL_METHOD_PLAIN, user, password);
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
        amqp_destroy_connection(c);
        return NULL;
    }
    return c;
}

static void
test_rabbit_admin_url_logs_in_to_api(void **state)
{
    CLEANUP(test_env_url_freep) struct test_env_url *u =
        test_env_url_parse(test_env_get("NOVA_TEST_RABBIT_ADMIN_URL"));

    (void) state;
    assert_string_equal(u->scheme, "rabbit");
    assert_int_equal(u->port, test_env_get_port("NOVA_TEST_RABBIT_PORT"));

    CLEANUP(amqp_closep) amqp_connection_state_t c =
        mq_login("api", u->user, u->password);
    assert_non_null(c);
    amqp_channel_open(c, 1);
    assert_int_equal(amqp_get_rpc_reply(c).reply_type, AMQP_RESPONSE_NORMAL);
    amqp_queue_declare(c, 1, amqp_cstring_bytes("harness.probe"), 0, 0, 1, 1,
                       amqp_empty_table);
    assert_int_equal(amqp_get_rpc_reply(c).reply_type, AMQP_RESPONSE_NORMAL);
    amqp_channel_close(c, 1, AMQP_REPLY_SUCCESS);
}

static void
test_rabbit_cell_user_logs_in_to_own_vhost(void **state)
{
    CLEANUP(amqp_closep) amqp_connection_state_t c =
        mq_login("leaf1", "leaf1", "leaf1pw");

    (void) state;
    assert_non_null(c);
}

static void
test_rabbit_cell_user_refused_elsewhere(void **state)
{
    static const struct {
        const char *vhost;
        const char *user;
        const char *password;
    } cases[] = {
        { "leaf2", "leaf1", "leaf1pw" },
        { "api", "leaf1", "leaf1pw" },
        { "/", "leaf1", "leaf1pw" },
        { "leaf1", "leaf2", "leaf2pw" },
        { "leaf1", "leaf1", "wrong" },
        { "no-such-vhost", "admin", "adminpw" },
    };

    (void) state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        amqp_connection_state_t c = mq_login(cases[i].vhost, cases[i].user,
                                             cases[i].password);
        if (c) {
            amqp_closep(&c);
            fail_msg("%s logged in to vhost '%s'", cases[i].user,
                     cases[i].vhost);
        }
    }
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mysql_admin_url_reaches_root),
        cmocka_unit_test(test_mysql_nova_user_reaches_api_db),
        cmocka_unit_test(test_mysql_cell_user_owns_its_db),
        cmocka_unit_test(test_mysql_cell_user_refused_elsewhere),
        cmocka_unit_test(test_mysql_socket_login),
        cmocka_unit_test(test_mysql_restart_keeps_port_and_data),
        cmocka_unit_test(test_rabbit_admin_url_logs_in_to_api),
        cmocka_unit_test(test_rabbit_cell_user_logs_in_to_own_vhost),
        cmocka_unit_test(test_rabbit_cell_user_refused_elsewhere),
    };
    int rc;

    test_env_require(argc, argv, "mariadb,rabbitmq");
    if (mysql_library_init(0, NULL, NULL)) {
        fprintf(stderr, "mysql_library_init failed\n");
        return 1;
    }
    rc = cmocka_run_group_tests_name("devservers", tests, NULL, NULL);
    mysql_library_end();
    return rc;
}
