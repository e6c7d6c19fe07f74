/* daemon.h: what every daemon and CLI does before its main loop.
 *
 * The common command line is
 *
 *     NAME [--config FILE] [--set KEY=VALUE]... [--log-level SPEC]
 *          [--log-file PATH] [--log-format text|json] [--help] [--version]
 *          [daemon options] [ARGS...]
 *
 * daemon_start() parses it, fills the program's configuration struct from
 * its key table (defaults, then the YAML file, then --set and the daemon's
 * own options, which are shorthands for --set), and applies the log
 * settings.  Every daemon's configuration embeds a 'struct daemon_common'
 * and lists DAEMON_COMMON_KEYS in its key table, so "log.level" and friends
 * mean the same everywhere.
 *
 * Signals: daemon_signals_init() routes SIGHUP, SIGTERM and SIGINT to a
 * self-pipe that the main loop polls (daemon_signal_fd()); the loop then
 * calls daemon_signals_run(), which reopens the log file after SIGHUP and
 * reports whether an exit was asked for.  Nothing is done inside the signal
 * handler except write(2). */
#ifndef NOVA_DAEMON_H
#define NOVA_DAEMON_H 1

#include <stdbool.h>
#include <stddef.h>
#include "shared/compiler.h"
#include "shared/config.h"

struct error;

/* The configuration every program shares. */
struct daemon_common {
    char *log_level;            /* log_set_levels() spec */
    char *log_file;             /* NULL = standard error */
    int log_format;             /* index into daemon_log_format_names */
};

extern const char *const daemon_log_format_names[];

#define DAEMON_COMMON_KEYS(TYPE, MEMBER)                                  \
    { "log.level", CONFIG_TYPE_STRING,                                    \
      offsetof(TYPE, MEMBER.log_level), "info", 0, 0, NULL,               \
      "Log levels: LEVEL or LEVEL,MODULE:LEVEL,... (err, warn, info, dbg)" \
    },                                                                    \
    { "log.file", CONFIG_TYPE_STRING,                                     \
      offsetof(TYPE, MEMBER.log_file), NULL, 0, 0, NULL,                  \
      "Append log lines to this file (reopened on SIGHUP); "              \
      "standard error when unset" },                                      \
    { "log.format", CONFIG_TYPE_ENUM,                                     \
      offsetof(TYPE, MEMBER.log_format), "text", 0, 0,                    \
      daemon_log_format_names,                                            \
      "One plain text line or one JSON object per event" }

/* A daemon-specific option that is a shorthand for --set: "--NAME VALUE"
 * means "--set PATH=VALUE". */
struct daemon_option {
    const char *name;           /* long option name, without "--" */
    const char *config_path;    /* key it sets */
    const char *help;           /* one line for --help */
};

struct daemon_info {
    const char *name;           /* "nova-cells": log lines and messages */
    const char *usage;          /* what follows the options in the usage
                                 * line, e.g. "CATEGORY VERB [ARGS]", or
                                 * NULL when the program takes no argument */
    const char *summary;        /* one line for --help */
    const struct config_schema *schema;
    size_t common_offset;       /* offsetof(config struct, daemon_common) */
    const struct daemon_option *options;
    size_t n_options;
};

/* Longest list of --set options accepted on one command line. */
#define DAEMON_MAX_OVERRIDES 256

/* Parses 'argv' for 'info', initialises '*config' (a struct matching
 * info->schema) and applies its log settings.
 *
 * The configuration file is --config's argument, or NOVA_SYSCONFDIR
 * "/nova.yaml" when that exists (a missing default file is not an error:
 * defaults and --set may be all a program needs).
 *
 * On success returns NULL and stores in '*ret_optind' the index of the first
 * argument that is not an option.  '*ret_exit_now' is set to true when
 * --help or --version was handled (output already written): the caller then
 * exits 0.  On error, returns a message for the user, without the program
 * name (the caller prints "NAME: MESSAGE" and exits 2 for a usage error,
 * kind ERROR_INVALID, or 1 otherwise), and
 * '*config' holds nothing that needs freeing beyond config_destroy(). */
struct error *daemon_start(const struct daemon_info *info, int argc,
                           char *argv[], void *config, int *ret_optind,
                           bool *ret_exit_now) WARN_UNUSED;

/* Installs the handlers described above.  Returns 0 or -errno. */
int daemon_signals_init(void);

/* The read end of the self-pipe: readable after a signal arrived. */
int daemon_signal_fd(void);

/* Drains the self-pipe, reopens the log file if SIGHUP arrived and returns
 * true once SIGTERM or SIGINT has arrived. */
bool daemon_signals_run(void);

/* True once SIGTERM or SIGINT has arrived. */
bool daemon_exit_requested(void);

/* Restores the default dispositions and closes the self-pipe (tests). */
void daemon_signals_reset(void);

/* Exit statuses of every daemon, as their man pages document them. */
#define DAEMON_EXIT_OK 0
#define DAEMON_EXIT_FAILURE 1
#define DAEMON_EXIT_USAGE 2

/* The whole life of a daemon that takes no argument beyond the options:
 * initialises the database library, runs daemon_start() into '*config'
 * (a struct matching info->schema), refuses extra arguments, calls
 * 'main_loop' with 'config' unless --help or --version was handled, then
 * frees the configuration.  Returns the exit status: main_loop's, or
 * DAEMON_EXIT_USAGE / DAEMON_EXIT_FAILURE when the command line or the
 * configuration is wrong (said on standard error as "NAME: MESSAGE"). */
int daemon_main(const struct daemon_info *info, int argc, char *argv[],
                void *config, int (*main_loop)(const void *config));

/* Reports 'error' (taken), raised while a daemon's service was being
 * created, on standard error as "NAME: MESSAGE", and in the log as well
 * when the log goes to a file ('common->log_file').  Returns the exit
 * status: DAEMON_EXIT_USAGE for ERROR_INVALID, else DAEMON_EXIT_FAILURE. */
int daemon_start_failed(const char *name, const struct daemon_common *common,
                        struct error *error);

/* Runs a service built on the poll loop (shared/poll-loop.h) until SIGTERM
 * or SIGINT: 'run(svc)' does the work that is ready, 'wait(svc)' registers
 * what to wait for, and the loop also wakes for signals (SIGHUP reopens the
 * log file).  daemon_signals_init() must have succeeded.  Logs "stopping"
 * before it returns. */
void daemon_run_service(void (*run)(void *svc), void (*wait)(void *svc),
                        void *svc);

#endif /* NOVA_DAEMON_H */
