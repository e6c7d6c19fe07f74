/* log.h: leveled, per-module logging with request context.
 *
 * Each .c file that logs declares its module once:
 *
 *     LOG_MODULE("cells.route");
 *
 * and then logs with LOG_ERR / LOG_WARN / LOG_INFO / LOG_DBG (printf-style),
 * or the _CTX variants that take a 'struct log_ctx *' whose request id,
 * instance uuid and cell path become fields of the line.  LOG_WARN_RL and
 * LOG_ERR_RL are rate limited per call site, for per-message paths (a flood
 * of bad queue messages must not flood the log).
 *
 * A text line looks like (one line, wrapped here)
 *     2026-11-22T07:15:00.123Z|nova-cells|cells.route|WARN|
 *         req=req-1 inst=9f.. cell=api!east|child 'east-2' muted, skipping
 * and a JSON line has the keys ts, daemon, module, level, request_id,
 * instance, cell, msg (absent context fields are omitted).
 *
 * Library code logs at DBG only; a daemon logs an error once, where it
 * handles it.  All functions are thread-safe: each line is written with one
 * write(2). */
#ifndef NOVA_LOG_H
#define NOVA_LOG_H 1

#include <stdbool.h>
#include <stdarg.h>
#include "shared/compiler.h"

enum log_level {
    LOG_LEVEL_ERR,
    LOG_LEVEL_WARN,
    LOG_LEVEL_INFO,
    LOG_LEVEL_DBG,
};

enum log_format {
    LOG_FORMAT_TEXT,
    LOG_FORMAT_JSON,
};

/* Context fields of a line; any may be NULL.  Borrowed for the call. */
struct log_ctx {
    const char *request_id;
    const char *instance_uuid;
    const char *cell_path;
};

/* One per source file, registered before main() runs. */
struct log_module {
    const char *name;
    int level;                  /* enum log_level; -1 = use the default. */
    struct log_module *next;
};

/* Per-call-site state of a rate-limited message. */
struct log_rate_limit {
    long long window_start_ms;
    unsigned int n_in_window;
    unsigned int n_suppressed;
};

/* At most this many lines per call site per minute for the _RL macros. */
#define LOG_RATE_LIMIT_PER_MINUTE 20

void log_module_register(struct log_module *);

#define LOG_MODULE(NAME)                                                \
    static struct log_module log_this_module_ = { NAME, -1, 0 };        \
    static void log_register_this_module_(void)                         \
        __attribute__((constructor));                                   \
    static void log_register_this_module_(void)                         \
    {                                                                   \
        log_module_register(&log_this_module_);                         \
    }

bool log_is_enabled(const struct log_module *, enum log_level);
void log_write(struct log_module *, enum log_level, const struct log_ctx *,
               const char *fmt, ...) PRINTF_FMT(4, 5);
void log_writev(struct log_module *, enum log_level, const struct log_ctx *,
                const char *fmt, va_list) PRINTF_FMT(4, 0);
void log_write_rl(struct log_module *, enum log_level,
                  struct log_rate_limit *, const struct log_ctx *,
                  const char *fmt, ...) PRINTF_FMT(5, 6);

#define LOG_AT_(LEVEL, CTX, ...)                                        \
    do {                                                                \
        if (log_is_enabled(&log_this_module_, LEVEL)) {                 \
            log_write(&log_this_module_, LEVEL, CTX, __VA_ARGS__);      \
        }                                                               \
    } while (0)
#define LOG_AT_RL_(LEVEL, CTX, ...)                                     \
    do {                                                                \
        static struct log_rate_limit log_rl_;                           \
        if (log_is_enabled(&log_this_module_, LEVEL)) {                 \
            log_write_rl(&log_this_module_, LEVEL, &log_rl_, CTX,       \
                         __VA_ARGS__);                                  \
        }                                                               \
    } while (0)

#define LOG_ERR(...)  LOG_AT_(LOG_LEVEL_ERR, NULL, __VA_ARGS__)
#define LOG_WARN(...) LOG_AT_(LOG_LEVEL_WARN, NULL, __VA_ARGS__)
#define LOG_INFO(...) LOG_AT_(LOG_LEVEL_INFO, NULL, __VA_ARGS__)
#define LOG_DBG(...)  LOG_AT_(LOG_LEVEL_DBG, NULL, __VA_ARGS__)
#define LOG_ERR_CTX(CTX, ...)  LOG_AT_(LOG_LEVEL_ERR, CTX, __VA_ARGS__)
#define LOG_WARN_CTX(CTX, ...) LOG_AT_(LOG_LEVEL_WARN, CTX, __VA_ARGS__)
#define LOG_INFO_CTX(CTX, ...) LOG_AT_(LOG_LEVEL_INFO, CTX, __VA_ARGS__)
#define LOG_DBG_CTX(CTX, ...)  LOG_AT_(LOG_LEVEL_DBG, CTX, __VA_ARGS__)
#define LOG_ERR_RL(...)  LOG_AT_RL_(LOG_LEVEL_ERR, NULL, __VA_ARGS__)
#define LOG_WARN_RL(...) LOG_AT_RL_(LOG_LEVEL_WARN, NULL, __VA_ARGS__)
#define LOG_WARN_RL_CTX(CTX, ...) LOG_AT_RL_(LOG_LEVEL_WARN, CTX, __VA_ARGS__)
#define LOG_ERR_RL_CTX(CTX, ...) LOG_AT_RL_(LOG_LEVEL_ERR, CTX, __VA_ARGS__)

/* Process-wide settings.  'daemon' is borrowed and must outlive logging
 * (normally argv-derived or a literal). */
void log_set_daemon_name(const char *daemon);
void log_set_format(enum log_format);

/* Sends output to 'path' (appending, created 0640), or to stderr for NULL.
 * Returns 0 or -errno; on failure the previous destination is kept. */
int log_set_file(const char *path);

/* Reopens the current log file (after rotation): call it from the main loop
 * once SIGHUP has been seen.  Returns 0 or -errno, keeping the old file. */
int log_reopen(void);

/* Applies a level specification: "info" sets the default level;
 * "info,cells.route:dbg,db:warn" also sets per-module levels.  A module
 * name may be registered later (it is remembered).  Returns 0, or -EINVAL
 * for an unknown level name, in which case nothing changes. */
int log_set_levels(const char *spec);

/* "err", "warn", "info", "dbg" (also "error", "warning", "debug").
 * Returns 0 or -EINVAL. */
int log_level_from_string(const char *, enum log_level *ret_level);
const char *log_level_to_string(enum log_level);
int log_format_from_string(const char *, enum log_format *ret_format);

/* Restores the defaults (stderr, text, info, no per-module levels): used by
 * tests and at exit. */
void log_reset(void);

#endif /* NOVA_LOG_H */
