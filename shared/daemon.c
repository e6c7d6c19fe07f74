/* daemon.c: common command line, configuration, logging and signals for
 * every program (see daemon.h). */
#include <config.h>
#include "shared/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shared/cleanup.h"
#include "shared/db.h"
#include "shared/error.h"
#include "shared/log.h"
#include "shared/poll-loop.h"
#include "shared/xalloc.h"

LOG_MODULE("daemon");

const char *const daemon_log_format_names[] = { "text", "json", NULL };

#ifndef NOVA_SYSCONFDIR
#define NOVA_SYSCONFDIR "/etc/nova"
#endif
#define DAEMON_DEFAULT_CONFIG NOVA_SYSCONFDIR "/nova.yaml"

enum {
    OPT_CONFIG = 256,
    OPT_SET,
    OPT_LOG_LEVEL,
    OPT_LOG_FILE,
    OPT_LOG_FORMAT,
    OPT_HELP,
    OPT_VERSION,
    OPT_DAEMON_FIRST = 1024,    /* + index into info->options */
};

static const struct option daemon_common_options[] = {
    { "config", required_argument, NULL, OPT_CONFIG },
    { "set", required_argument, NULL, OPT_SET },
    { "log-level", required_argument, NULL, OPT_LOG_LEVEL },
    { "log-file", required_argument, NULL, OPT_LOG_FILE },
    { "log-format", required_argument, NULL, OPT_LOG_FORMAT },
    { "help", no_argument, NULL, OPT_HELP },
    { "version", no_argument, NULL, OPT_VERSION },
};

static void
daemon_print_help(const struct daemon_info *info)
{
    printf("Usage: %s [OPTIONS]%s%s\n%s\n\n", info->name,
           info->usage ? " " : "", info->usage ? info->usage : "",
           info->summary);
    printf("Options:\n"
           "  --config FILE          configuration file (default %s)\n"
           "  --set KEY=VALUE        override one configuration key\n"
           "  --log-level SPEC       same as --set log.level=SPEC\n"
           "  --log-file PATH        same as --set log.file=PATH\n"
           "  --log-format FORMAT    same as --set log.format=FORMAT\n",
           DAEMON_DEFAULT_CONFIG);
    for (size_t i = 0; i < info->n_options; i++) {
        const struct daemon_option *o = &info->options[i];
        AUTOFREE char *flag = xasprintf("--%s VALUE", o->name);
        printf("  %-22s %s (--set %s=VALUE)\n", flag, o->help,
               o->config_path);
    }
    printf("  --help                 print this help and exit\n"
           "  --version              print the version and exit\n\n"
           "Configuration keys (YAML file, or --set KEY=VALUE):\n");
    config_print_help(info->schema, stdout);
}

/* Applies the log settings of 'common' to the process.  Returns NULL or an
 * error naming the bad setting. */
static struct error *
daemon_apply_log(const struct daemon_info *info,
                 const struct daemon_common *common)
{
    enum log_format format;
    int error;

    log_set_daemon_name(info->name);
    if (log_set_levels(common->log_level ? common->log_level : "info")) {
        return error_new(ERROR_INVALID, "Invalid log level specification "
                         "'%s': expected LEVEL or LEVEL,MODULE:LEVEL,... "
                         "with levels err, warn, info, dbg",
                         common->log_level);
    }
    if (log_format_from_string(daemon_log_format_names[common->log_format],
                               &format)) {
        return error_new(ERROR_INTERNAL, "Unknown log format index %d",
                         common->log_format);
    }
    log_set_format(format);
    error = log_set_file(common->log_file);
    if (error) {
        return error_from_errno(error, ERROR_INVALID,
                                "Cannot open log file '%s'",
                                common->log_file);
    }
    return NULL;
}

struct error *
daemon_start(const struct daemon_info *info, int argc, char *argv[],
             void *config, int *ret_optind, bool *ret_exit_now)
{
    size_t n_common = ARRAY_SIZE(daemon_common_options);
    size_t n_options = n_common + info->n_options;
    AUTOFREE struct option *options = xcalloc(n_options + 1,
                                              sizeof *options);
    AUTOFREE char **overrides = xcalloc(DAEMON_MAX_OVERRIDES,
                                        sizeof *overrides);
    size_t n_overrides = 0;
    const char *config_path = NULL;
    struct error *err;

    memcpy(options, daemon_common_options, sizeof daemon_common_options);
    for (size_t i = 0; i < info->n_options; i++) {
        options[n_common + i] = (struct option) {
            info->options[i].name, required_argument, NULL,
            OPT_DAEMON_FIRST + (int) i,
        };
    }

    err = config_init(info->schema, config);
    if (err) {
        return err;
    }

    /* "+": stop at the first non-option so that subcommands keep theirs.
     * optind = 0 makes glibc reinitialise fully on every call. */
    opterr = 0;
    optind = 0;
    for (;;) {
        int longindex = -1;
        int c = getopt_long(argc, argv, "+", options, &longindex);
        const char *path = NULL;

        if (c == -1) {
            break;
        }
        switch (c) {
        case OPT_CONFIG:
            config_path = optarg;
            continue;
        case OPT_SET:
            break;
        case OPT_LOG_LEVEL:
            path = "log.level";
            break;
        case OPT_LOG_FILE:
            path = "log.file";
            break;
        case OPT_LOG_FORMAT:
            path = "log.format";
            break;
        case OPT_HELP:
            daemon_print_help(info);
            *ret_exit_now = true;
            *ret_optind = optind;
            return NULL;
        case OPT_VERSION:
            printf("%s (%s) %s\n", info->name, PACKAGE_NAME,
                   PACKAGE_VERSION);
            *ret_exit_now = true;
            *ret_optind = optind;
            return NULL;
        case '?':
        default:
            if (c >= OPT_DAEMON_FIRST
                && (size_t) (c - OPT_DAEMON_FIRST) < info->n_options) {
                path = info->options[c - OPT_DAEMON_FIRST].config_path;
                break;
            }
            config_destroy(info->schema, config);
            if (optopt && optopt < OPT_CONFIG) {
                return error_new(ERROR_INVALID, "invalid option '-%c'; "
                                 "see '%s --help'", optopt, info->name);
            }
            return error_new(ERROR_INVALID, "option '%s' is unknown or "
                             "lacks its argument; see '%s --help'",
                             argv[optind - 1], info->name);
        }
        if (n_overrides >= DAEMON_MAX_OVERRIDES) {
            config_destroy(info->schema, config);
            return error_new(ERROR_INVALID, "more than %d configuration "
                             "overrides", DAEMON_MAX_OVERRIDES);
        }
        overrides[n_overrides++] = path ? xasprintf("%s=%s", path, optarg)
                                        : xstrdup(optarg);
    }
    int first_arg = optind;

    /* File first, then the command line, which wins. */
    if (config_path) {
        err = config_load_file(info->schema, config, config_path);
    } else if (access(DAEMON_DEFAULT_CONFIG, F_OK) == 0) {
        err = config_load_file(info->schema, config, DAEMON_DEFAULT_CONFIG);
    }
    for (size_t i = 0; i < n_overrides; i++) {
        if (!err) {
            err = config_set(info->schema, config, overrides[i]);
        }
        free(overrides[i]);
    }
    if (!err) {
        err = daemon_apply_log(info, (const struct daemon_common *)
                               ((const char *) config + info->common_offset));
    }
    if (err) {
        config_destroy(info->schema, config);
        return err;
    }
    *ret_exit_now = false;
    *ret_optind = first_arg;
    return NULL;
}

/* Signals.  The handler only writes one byte naming the signal. */

static int daemon_signal_pipe[2] = { -1, -1 };
static volatile sig_atomic_t daemon_exit_flag;

static void
daemon_signal_handler(int signo)
{
    int saved_errno = errno;
    unsigned char byte = (unsigned char) signo;

    if (signo == SIGTERM || signo == SIGINT) {
        daemon_exit_flag = 1;
    }
    /* A full pipe already guarantees a wake-up: ignore the result. */
    (void) !write(daemon_signal_pipe[1], &byte, 1);
    errno = saved_errno;
}

int
daemon_signals_init(void)
{
    static const int signals[] = { SIGHUP, SIGTERM, SIGINT };
    struct sigaction sa;

    if (daemon_signal_pipe[0] < 0
        && pipe2(daemon_signal_pipe, O_CLOEXEC | O_NONBLOCK)) {
        return -errno;
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = daemon_signal_handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    for (size_t i = 0; i < ARRAY_SIZE(signals); i++) {
        if (sigaction(signals[i], &sa, NULL)) {
            return -errno;
        }
    }
    /* A peer closing a socket must surface as EPIPE, not kill us. */
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

int
daemon_signal_fd(void)
{
    return daemon_signal_pipe[0];
}

bool
daemon_signals_run(void)
{
    unsigned char bytes[64];
    ssize_t n;

    while (daemon_signal_pipe[0] >= 0
           && (n = read(daemon_signal_pipe[0], bytes, sizeof bytes)) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            if (bytes[i] == SIGHUP) {
                int error = log_reopen();
                if (error) {
                    LOG_ERR("Cannot reopen the log file: %s, keeping the "
                            "old one", strerror(-error));
                } else {
                    LOG_INFO("Log file reopened after SIGHUP");
                }
            } else {
                LOG_INFO("Received signal %d, exiting", bytes[i]);
            }
        }
    }
    return daemon_exit_flag != 0;
}

bool
daemon_exit_requested(void)
{
    return daemon_exit_flag != 0;
}

void
daemon_signals_reset(void)
{
    signal(SIGHUP, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    for (int i = 0; i < 2; i++) {
        if (daemon_signal_pipe[i] >= 0) {
            close(daemon_signal_pipe[i]);
            daemon_signal_pipe[i] = -1;
        }
    }
    daemon_exit_flag = 0;
}

/* ---- A daemon's life --------------------------------------------------- */

int
daemon_main(const struct daemon_info *info, int argc, char *argv[],
            void *config, int (*main_loop)(const void *config))
{
    struct error *error;
    bool exit_now;
    int first;
    int status;

    db_library_init();
    error = daemon_start(info, argc, argv, config, &first, &exit_now);
    if (error) {
        status = (error_kind(error) == ERROR_INVALID ? DAEMON_EXIT_USAGE
                                                     : DAEMON_EXIT_FAILURE);
        fprintf(stderr, "%s: %s\n", info->name, error_message(error));
        error_free(error);
        db_library_end();
        return status;
    }
    if (exit_now) {
        status = DAEMON_EXIT_OK;
    } else if (first < argc) {
        fprintf(stderr, "%s: takes no arguments, but '%s' was given; see "
                "'%s --help'\n", info->name, argv[first], info->name);
        status = DAEMON_EXIT_USAGE;
    } else {
        status = main_loop(config);
    }
    config_destroy(info->schema, config);
    daemon_signals_reset();
    db_library_end();
    return status;
}

int
daemon_start_failed(const char *name, const struct daemon_common *common,
                    struct error *error)
{
    int status = (error_kind(error) == ERROR_INVALID ? DAEMON_EXIT_USAGE
                                                     : DAEMON_EXIT_FAILURE);

    /* Said once on standard error, and in the log file too when there is
     * one. */
    fprintf(stderr, "%s: %s\n", name, error_message(error));
    if (common->log_file) {
        LOG_ERR("cannot start: %s", error_message(error));
    }
    error_free(error);
    return status;
}

void
daemon_run_service(void (*run)(void *svc), void (*wait)(void *svc),
                   void *svc)
{
    for (;;) {
        run(svc);
        if (daemon_signals_run()) {
            break;
        }
        wait(svc);
        poll_fd_wait(daemon_signal_fd(), POLLIN);
        poll_block();
    }
    poll_loop_reset();
    LOG_INFO("stopping");
}
