/* test-env.c: finding, starting and restarting the servers of integration
 * tests through deploy/devservers (see test-env.h).
 *
 * Everything here runs in the test process before or between cmocka tests,
 * so failures that make testing impossible print a message and exit with
 * status 1, which the test driver reports as an error. */
#include <config.h>

#include "tests/integration/test-env.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shared/xalloc.h"

/* Set in the environment of the re-executed test, so that a devservers
 * that failed to export its state cannot cause an exec loop. */
#define TEST_ENV_REEXEC_VAR "NOVA_TEST_ENV_REEXEC"

#define TEST_ENV_SCRIPT "deploy/devservers"

static void NORETURN PRINTF_FMT(1, 2)
test_env_fatal(const char *fmt, ...)
{
    va_list args;

    fflush(stdout);
    fputs("test-env: ", stderr);
    va_start(args, fmt);
    vfprintf(stderr, fmt, args);
    va_end(args);
    fputc('\n', stderr);
    exit(1);
}

const char *
test_env_get(const char *name)
{
    const char *value = getenv(name);

    if (!value || !*value) {
        test_env_fatal("environment variable '%s' is not set: run the test "
                       "through 'make check', 'tests/run-tests' or '"
                       TEST_ENV_SCRIPT " run -- PROGRAM'", name);
    }
    return value;
}

static bool
test_env_parse_port(const char *s, int *ret_port)
{
    char *end;
    long port;

    errno = 0;
    port = strtol(s, &end, 10);
    if (errno || end == s || *end || port < 1 || port > 65535) {
        return false;
    }
    *ret_port = (int) port;
    return true;
}

int
test_env_get_port(const char *name)
{
    const char *value = test_env_get(name);
    int port;

    if (!test_env_parse_port(value, &port)) {
        test_env_fatal("environment variable '%s' is '%s', not a TCP port",
                       name, value);
    }
    return port;
}

/* Returns the path of deploy/devservers in the source tree, or NULL.  The
 * caller frees the result. */
static char *
test_env_find_script(void)
{
    static const char self[] = "tests/integration/test-env.c";
    const char *top = getenv("top_srcdir");
    char *path;

    if (top && *top) {
        path = xasprintf("%s/" TEST_ENV_SCRIPT, top);
        if (!access(path, X_OK)) {
            return path;
        }
        free(path);
    }
#ifdef TEST_ENV_SRCDIR
    path = xstrdup(TEST_ENV_SRCDIR "/" TEST_ENV_SCRIPT);
    if (!access(path, X_OK)) {
        return path;
    }
    free(path);
#endif
    /* Last resort: this file's own path as the compiler saw it, which is
     * relative to the top build directory or absolute. */
    size_t file_len = strlen(__FILE__);
    size_t self_len = sizeof self - 1;
    if (file_len >= self_len
        && !strcmp(__FILE__ + file_len - self_len, self)) {
        int prefix_len = (int) (file_len - self_len);
        path = xasprintf("%.*s" TEST_ENV_SCRIPT, prefix_len, __FILE__);
        if (!access(path, X_OK)) {
            return path;
        }
        free(path);
    }
    return NULL;
}

/* The services deploy/devservers knows, in the order of its --only list. */
enum test_env_service {
    TEST_ENV_MARIADB,
    TEST_ENV_RABBITMQ,
    TEST_ENV_LIBVIRT,
    TEST_ENV_N_SERVICES
};

static const char *const test_env_service_names[TEST_ENV_N_SERVICES] = {
    [TEST_ENV_MARIADB] = "mariadb",
    [TEST_ENV_RABBITMQ] = "rabbitmq",
    [TEST_ENV_LIBVIRT] = "libvirt",
};

/* Parses 'services' into 'wanted' (indexed by enum test_env_service);
 * exits on a mistake. */
static void
test_env_parse_services(const char *services,
                        bool wanted[TEST_ENV_N_SERVICES])
{
    AUTOFREE char *copy = xstrdup(services ? services : "");
    char *save = NULL;
    bool any = false;

    memset(wanted, 0, TEST_ENV_N_SERVICES * sizeof *wanted);
    for (char *s = strtok_r(copy, ",", &save); s;
         s = strtok_r(NULL, ",", &save)) {
        size_t i;

        for (i = 0; i < TEST_ENV_N_SERVICES; i++) {
            if (!strcmp(s, test_env_service_names[i])) {
                break;
            }
        }
        if (i == TEST_ENV_N_SERVICES) {
            test_env_fatal("unknown service '%s' (expected 'mariadb', "
                           "'rabbitmq' or 'libvirt')", s);
        }
        wanted[i] = any = true;
    }
    if (!any) {
        test_env_fatal("no service named in '%s'", services ? services : "");
    }
}

/* Returns the argument of devservers' --only for 'wanted' ("rabbitmq,
 * libvirt"), or NULL for mariadb and rabbitmq, which devservers starts by
 * default.  The caller frees the result. */
static char *
test_env_only_arg(const bool wanted[TEST_ENV_N_SERVICES])
{
    char *list = NULL;

    if (wanted[TEST_ENV_MARIADB] && wanted[TEST_ENV_RABBITMQ]
        && !wanted[TEST_ENV_LIBVIRT]) {
        return NULL;
    }
    for (size_t i = 0; i < TEST_ENV_N_SERVICES; i++) {
        if (wanted[i]) {
            char *longer = xasprintf("%s%s%s", list ? list : "",
                                     list ? "," : "",
                                     test_env_service_names[i]);

            free(list);
            list = longer;
        }
    }
    return list;
}

void
test_env_require(int argc, char **argv, const char *services)
{
    bool wanted[TEST_ENV_N_SERVICES];

    test_env_parse_services(services, wanted);
    if (getenv("NOVA_TEST_STATE_DIR")) {
        if (wanted[TEST_ENV_MARIADB]) {
            (void) test_env_get_port("NOVA_TEST_MYSQL_PORT");
        }
        if (wanted[TEST_ENV_RABBITMQ]) {
            (void) test_env_get_port("NOVA_TEST_RABBIT_PORT");
        }
        if (wanted[TEST_ENV_LIBVIRT]) {
            (void) test_env_get("NOVA_TEST_LIBVIRT_URI");
        }
        return;
    }
    if (getenv(TEST_ENV_REEXEC_VAR)) {
        test_env_fatal(TEST_ENV_SCRIPT " did not export NOVA_TEST_STATE_DIR");
    }

    AUTOFREE char *script = test_env_find_script();
    if (!script) {
        test_env_fatal("cannot find '" TEST_ENV_SCRIPT "': set top_srcdir "
                       "to the top of the source tree");
    }
    /* The real binary, whatever argv[0] says. */
    AUTOFREE char *self = realpath("/proc/self/exe", NULL);
    if (!self) {
        test_env_fatal("cannot resolve /proc/self/exe: %s", strerror(errno));
    }

    AUTOFREE char *cells = xstrdup(TEST_ENV_CELLS);
    AUTOFREE char *only = test_env_only_arg(wanted);
    size_t max_args = (size_t) argc + 32;
    AUTOFREE char **args = xcalloc(max_args, sizeof *args);
    size_t n = 0;
    char *save = NULL;

    args[n++] = script;
    if (only) {
        args[n++] = "--only";
        args[n++] = only;
    }
    for (char *c = strtok_r(cells, " ", &save); c && n + 2 < max_args;
         c = strtok_r(NULL, " ", &save)) {
        args[n++] = "--cell";
        args[n++] = c;
    }
    args[n++] = "run";
    args[n++] = "--";
    args[n++] = self;
    for (int i = 1; i < argc; i++) {
        args[n++] = argv[i];
    }
    args[n] = NULL;

    fflush(stdout);
    fprintf(stderr, "test-env: NOVA_TEST_STATE_DIR is not set, starting "
            "private servers with '%s'\n", script);
    if (setenv(TEST_ENV_REEXEC_VAR, "1", 1)) {
        test_env_fatal("setenv: %s", strerror(errno));
    }
    execv(script, args);
    test_env_fatal("cannot execute '%s': %s", script, strerror(errno));
}

/* Runs "devservers --state-dir STATE 'command' ['arg']" and waits for it.
 * Its standard output goes to our stderr, so that it never mixes with the
 * TAP stream on stdout.  Returns 0 if it exits with status 0, else -1. */
static int
test_env_devservers(const char *command, const char *arg)
{
    const char *script = test_env_get("NOVA_TEST_DEVSERVERS");
    const char *state = test_env_get("NOVA_TEST_STATE_DIR");
    char *args[] = {
        (char *) script, "--state-dir", (char *) state, (char *) command,
        (char *) arg, NULL,
    };
    int status;
    pid_t pid;

    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid < 0) {
        fprintf(stderr, "test-env: fork: %s\n", strerror(errno));
        return -1;
    }
    if (!pid) {
        /* A server started from here must not inherit our sockets (it
         * would keep a connection the test closes half open) nor our
         * pipes (it would keep a reader waiting for end of file). */
        if (dup2(STDERR_FILENO, STDOUT_FILENO) < 0
            || (close_range(3, ~0U, 0) && errno != ENOSYS)) {
            _exit(127);
        }
        execv(script, args);
        /* Only async-signal-safe calls here: the test may have threads. */
        static const char msg[] = "test-env: cannot execute "
                                  TEST_ENV_SCRIPT "\n";
        (void) !write(STDERR_FILENO, msg, sizeof msg - 1);
        _exit(127);
    }
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            fprintf(stderr, "test-env: waitpid: %s\n", strerror(errno));
            return -1;
        }
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status)) {
        fprintf(stderr, "test-env: '%s %s%s%s' failed\n", script, command,
                arg ? " " : "", arg ? arg : "");
        return -1;
    }
    return 0;
}

static bool
test_env_service_ok(const char *service)
{
    if (!service) {
        return true;
    }
    for (size_t i = 0; i < TEST_ENV_N_SERVICES; i++) {
        if (!strcmp(service, test_env_service_names[i])) {
            return true;
        }
    }
    fprintf(stderr, "test-env: unknown service '%s'\n", service);
    return false;
}

int
test_env_restart(const char *service)
{
    return test_env_service_ok(service)
           ? test_env_devservers("restart", service) : -1;
}

int
test_env_stop(const char *service)
{
    return test_env_service_ok(service)
           ? test_env_devservers("stop", service) : -1;
}

int
test_env_start(const char *service)
{
    return test_env_service_ok(service)
           ? test_env_devservers("start", service) : -1;
}

int
test_env_add_cell(const char *name)
{
    return name && *name ? test_env_devservers("add-cell", name) : -1;
}

struct test_env_url *
test_env_url_parse(const char *url)
{
    const char *rest = strstr(url, "://");
    if (!rest || rest == url) {
        test_env_fatal("malformed URL '%s': no scheme", url);
    }

    struct test_env_url *u = xzalloc(sizeof *u);
    u->scheme = xstrndup(url, (size_t) (rest - url));
    rest += 3;

    const char *slash = strchr(rest, '/');
    size_t authority_len = slash ? (size_t) (slash - rest) : strlen(rest);
    AUTOFREE char *authority = xstrndup(rest, authority_len);
    u->path = xstrdup(slash ? slash + 1 : "");

    char *hostport = strrchr(authority, '@');
    if (hostport) {
        *hostport++ = '\0';
        char *colon = strchr(authority, ':');
        if (colon) {
            *colon = '\0';
            u->password = xstrdup(colon + 1);
        }
        u->user = xstrdup(authority);
    } else {
        hostport = authority;
    }

    char *colon = strrchr(hostport, ':');
    if (!colon || !test_env_parse_port(colon + 1, &u->port)) {
        test_env_fatal("malformed URL '%s': no valid port", url);
    }
    *colon = '\0';
    if (!*hostport) {
        test_env_fatal("malformed URL '%s': no host", url);
    }
    u->host = xstrdup(hostport);
    return u;
}

void
test_env_url_free(struct test_env_url *u)
{
    if (u) {
        free(u->scheme);
        free(u->user);
        free(u->password);
        free(u->host);
        free(u->path);
        free(u);
    }
}
