/* test-env.h: the servers an integration test runs against.
 *
 * Integration tests talk to a real MariaDB, a real RabbitMQ and, for real
 * guests, a real libvirtd, started by deploy/devservers.  'tests/run-tests'
 * starts one set for the whole suite and exports its environment
 * (NOVA_TEST_STATE_DIR, NOVA_TEST_MYSQL_PORT, NOVA_TEST_RABBIT_ADMIN_URL,
 * NOVA_TEST_LIBVIRT_URI, ...; see deploy/devservers).  A test run on
 * its own, without that environment, re-executes itself under
 * "deploy/devservers run", which starts private servers in a temporary
 * directory and removes them when the test exits.
 *
 * Typical use:
 *
 *     int
 *     main(int argc, char **argv)
 *     {
 *         test_env_require(argc, argv, "mariadb,rabbitmq");
 *         ... cmocka_run_group_tests(...) ...
 *     }
 *
 * and inside tests test_env_get("NOVA_TEST_MYSQL_PORT") and friends.
 *
 * Servers are shared by every test of a run: tests run one at a time, so a
 * test may restart or stop a server with test_env_restart() and friends,
 * but must leave it running when it ends.
 *
 * Each cell NAME of NOVA_TEST_CELLS has a MariaDB database nova_NAME with
 * user NAME / password NAMEpw, and a RabbitMQ vhost NAME with the same
 * user and password; test_env_require() asks for the cells
 * TEST_ENV_CELLS. */
#ifndef NOVA_TEST_ENV_H
#define NOVA_TEST_ENV_H 1

#include "shared/compiler.h"
#include "shared/cleanup.h"

/* The cells a self-started test gets, as tests/run-tests starts them. */
#define TEST_ENV_CELLS "api region1 region2 leaf1 leaf2 leaf3 rpctest"

/* Makes sure the servers named in 'services' (a comma-separated list of
 * "mariadb", "rabbitmq" and "libvirt", e.g. "mariadb,rabbitmq" or
 * "rabbitmq,libvirt") are available.  Returns if NOVA_TEST_STATE_DIR is
 * set (and exits with status 1 if it lacks a requested service).
 * Otherwise executes "deploy/devservers [--only SERVICE,...] --cell ...
 * run -- <this program> argv[1...]" and never returns.  The script is
 * found through the 'top_srcdir' environment variable that make check
 * sets, then through the source directory known at build time. */
void test_env_require(int argc, char **argv, const char *services);

/* Returns the value of environment variable 'name'.  When it is unset or
 * empty, prints a message saying so on stderr and exits with status 1,
 * which fails the test.  The result is owned by the environment. */
const char *test_env_get(const char *name);

/* Returns environment variable 'name' as a TCP port; exits with status 1
 * when it is unset or not a number in 1..65535. */
int test_env_get_port(const char *name);

/* Restarts, stops or starts 'service' ("mariadb", "rabbitmq" or
 * "libvirt"; NULL for all of them) of the current state directory by
 * running deploy/devservers (no shell involved) and waiting for it.  A
 * start or restart returns once the server accepts logins again, on the
 * same port (socket) with the same data.  Returns 0 on success, -1 on
 * failure (the script says why on stderr). */
int test_env_restart(const char *service);
int test_env_stop(const char *service);
int test_env_start(const char *service);

/* Creates database, vhost and users of cell 'name' on the running servers
 * (nothing to do if it exists).  Returns 0 or -1. */
int test_env_add_cell(const char *name);

/* The parts of a server URL "scheme://user:password@host:port/path", as
 * written in NOVA_TEST_MYSQL_ADMIN_URL and NOVA_TEST_RABBIT_ADMIN_URL.
 * No percent-decoding: those URLs need none. */
struct test_env_url {
    char *scheme;
    char *user;
    char *password;
    char *host;
    int port;
    char *path;                 /* After the '/', possibly "". */
};

/* Parses 'url'; exits with status 1 if it is malformed.  The caller frees
 * the result with test_env_url_free(). */
struct test_env_url *test_env_url_parse(const char *url);
void test_env_url_free(struct test_env_url *);
DEFINE_FREEP(struct test_env_url, test_env_url_free)

#endif /* NOVA_TEST_ENV_H */
