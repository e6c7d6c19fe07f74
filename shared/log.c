/* log.c: leveled, per-module logging (see log.h).
 *
 * One mutex guards the destination, the module list and the rate-limit
 * counters; formatting happens outside it and each line goes out with one
 * write(2), so lines from different threads never interleave. */
#include <config.h>
#include "shared/log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>

#include "shared/cleanup.h"
#include "shared/xalloc.h"

/* Longest message text kept; longer ones are cut and marked. */
#define LOG_MAX_MESSAGE_SIZE 8192
#define LOG_MAX_OVERRIDES 64

struct log_override {
    char *module;
    enum log_level level;
};

static pthread_mutex_t log_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct log_module *log_modules;
static struct log_override log_overrides[LOG_MAX_OVERRIDES];
static size_t log_n_overrides;
static int log_default_level = LOG_LEVEL_INFO;
static enum log_format log_format = LOG_FORMAT_TEXT;
static const char *log_daemon = "nova";
static int log_fd = STDERR_FILENO;
static char *log_path;

static const char *const log_level_names[] = {
    [LOG_LEVEL_ERR] = "ERR",
    [LOG_LEVEL_WARN] = "WARN",
    [LOG_LEVEL_INFO] = "INFO",
    [LOG_LEVEL_DBG] = "DBG",
};

/* Must be called with 'log_mutex' held. */
static void
log_module_apply_overrides(struct log_module *module)
{
    int level = -1;

    for (size_t i = 0; i < log_n_overrides; i++) {
        if (!strcmp(log_overrides[i].module, module->name)) {
            level = (int) log_overrides[i].level;
        }
    }
    __atomic_store_n(&module->level, level, __ATOMIC_RELAXED);
}

void
log_module_register(struct log_module *module)
{
    pthread_mutex_lock(&log_mutex);
    for (struct log_module *m = log_modules; m; m = m->next) {
        if (m == module) {
            pthread_mutex_unlock(&log_mutex);
            return;
        }
    }
    module->next = log_modules;
    log_modules = module;
    log_module_apply_overrides(module);
    pthread_mutex_unlock(&log_mutex);
}

bool
log_is_enabled(const struct log_module *module, enum log_level level)
{
    int threshold = __atomic_load_n(&module->level, __ATOMIC_RELAXED);

    if (threshold < 0) {
        threshold = __atomic_load_n(&log_default_level, __ATOMIC_RELAXED);
    }
    return (int) level <= threshold;
}

static long long
log_now_ms(struct timespec *ret_ts)
{
    clock_gettime(CLOCK_REALTIME, ret_ts);
    return (long long) ret_ts->tv_sec * 1000 + ret_ts->tv_nsec / 1000000;
}

static void
log_format_timestamp(const struct timespec *ts, char *buf, size_t size)
{
    struct tm tm;

    gmtime_r(&ts->tv_sec, &tm);
    snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, (int) (ts->tv_nsec / 1000000));
}

/* Replaces newlines and other control characters so that one event stays
 * one line whatever a user put into the message. */
static void
log_sanitize(char *s)
{
    for (; *s; s++) {
        if ((unsigned char) *s < 0x20) {
            *s = ' ';
        }
    }
}

static char *
log_build_text(const char *ts, struct log_module *module,
               enum log_level level, const struct log_ctx *ctx,
               const char *message)
{
    char fields[512] = "";

    if (ctx) {
        size_t n = 0;
        if (ctx->request_id && n < sizeof fields) {
            n += snprintf(fields + n, sizeof fields - n, "req=%s ",
                          ctx->request_id);
        }
        if (ctx->instance_uuid && n < sizeof fields) {
            n += snprintf(fields + n, sizeof fields - n, "inst=%s ",
                          ctx->instance_uuid);
        }
        if (ctx->cell_path && n < sizeof fields) {
            n += snprintf(fields + n, sizeof fields - n, "cell=%s ",
                          ctx->cell_path);
        }
        if (n > 0 && n < sizeof fields) {
            fields[n - 1] = '\0';   /* Drop the trailing space. */
        }
        log_sanitize(fields);
    }
    return xasprintf("%s|%s|%s|%s|%s|%s\n", ts, log_daemon, module->name,
                     log_level_names[level], fields, message);
}

static char *
log_build_json(const char *ts, struct log_module *module,
               enum log_level level, const struct log_ctx *ctx,
               const char *message)
{
    struct json_object *obj = json_object_new_object();
    char *line;

    json_object_object_add(obj, "ts", json_object_new_string(ts));
    json_object_object_add(obj, "daemon", json_object_new_string(log_daemon));
    json_object_object_add(obj, "module",
                           json_object_new_string(module->name));
    json_object_object_add(obj, "level",
                           json_object_new_string(log_level_names[level]));
    if (ctx && ctx->request_id) {
        json_object_object_add(obj, "request_id",
                               json_object_new_string(ctx->request_id));
    }
    if (ctx && ctx->instance_uuid) {
        json_object_object_add(obj, "instance",
                               json_object_new_string(ctx->instance_uuid));
    }
    if (ctx && ctx->cell_path) {
        json_object_object_add(obj, "cell",
                               json_object_new_string(ctx->cell_path));
    }
    json_object_object_add(obj, "msg", json_object_new_string(message));
    line = xasprintf("%s\n", json_object_to_json_string_ext(
                         obj, JSON_C_TO_STRING_PLAIN
                         | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(obj);
    return line;
}

static void
log_emit(struct log_module *module, enum log_level level,
         const struct log_ctx *ctx, const char *message)
{
    struct timespec now;
    char ts[64];     /* Room for any int year gmtime_r may give. */
    AUTOFREE char *line = NULL;

    log_now_ms(&now);
    log_format_timestamp(&now, ts, sizeof ts);

    pthread_mutex_lock(&log_mutex);
    line = (log_format == LOG_FORMAT_JSON
            ? log_build_json(ts, module, level, ctx, message)
            : log_build_text(ts, module, level, ctx, message));
    size_t len = strlen(line);
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(log_fd, line + off, len - off);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;              /* Nowhere left to report it. */
        }
        off += (size_t) n;
    }
    pthread_mutex_unlock(&log_mutex);
}

void
log_writev(struct log_module *module, enum log_level level,
           const struct log_ctx *ctx, const char *fmt, va_list args)
{
    char message[LOG_MAX_MESSAGE_SIZE];
    int n = vsnprintf(message, sizeof message, fmt, args);

    if (n >= (int) sizeof message) {
        memcpy(message + sizeof message - 6, "[...]", 6);
    }
    log_sanitize(message);
    log_emit(module, level, ctx, message);
}

void
log_write(struct log_module *module, enum log_level level,
          const struct log_ctx *ctx, const char *fmt, ...)
{
    va_list args;

    va_start(args, fmt);
    log_writev(module, level, ctx, fmt, args);
    va_end(args);
}

void
log_write_rl(struct log_module *module, enum log_level level,
             struct log_rate_limit *rl, const struct log_ctx *ctx,
             const char *fmt, ...)
{
    struct timespec now;
    long long now_ms = log_now_ms(&now);
    unsigned int suppressed = 0;
    bool emit;
    va_list args;

    pthread_mutex_lock(&log_mutex);
    if (now_ms - rl->window_start_ms >= 60 * 1000) {
        suppressed = rl->n_suppressed;
        rl->window_start_ms = now_ms;
        rl->n_in_window = 0;
        rl->n_suppressed = 0;
    }
    emit = rl->n_in_window < LOG_RATE_LIMIT_PER_MINUTE;
    if (emit) {
        rl->n_in_window++;
    } else {
        rl->n_suppressed++;
    }
    pthread_mutex_unlock(&log_mutex);

    if (suppressed) {
        log_write(module, level, ctx,
                  "%u similar messages suppressed in the last minute",
                  suppressed);
    }
    if (emit) {
        va_start(args, fmt);
        log_writev(module, level, ctx, fmt, args);
        va_end(args);
    }
}

void
log_set_daemon_name(const char *daemon)
{
    pthread_mutex_lock(&log_mutex);
    log_daemon = daemon;
    pthread_mutex_unlock(&log_mutex);
}

void
log_set_format(enum log_format format)
{
    pthread_mutex_lock(&log_mutex);
    log_format = format;
    pthread_mutex_unlock(&log_mutex);
}

static int
log_open_path(const char *path)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);

    return fd < 0 ? -errno : fd;
}

int
log_set_file(const char *path)
{
    int fd = STDERR_FILENO;
    char *copy = NULL;

    if (path) {
        fd = log_open_path(path);
        if (fd < 0) {
            return fd;
        }
        copy = xstrdup(path);
    }
    pthread_mutex_lock(&log_mutex);
    if (log_fd != STDERR_FILENO) {
        close(log_fd);
    }
    free(log_path);
    log_fd = fd;
    log_path = copy;
    pthread_mutex_unlock(&log_mutex);
    return 0;
}

int
log_reopen(void)
{
    int error = 0;

    pthread_mutex_lock(&log_mutex);
    if (log_path) {
        int fd = log_open_path(log_path);
        if (fd < 0) {
            error = fd;
        } else {
            close(log_fd);
            log_fd = fd;
        }
    }
    pthread_mutex_unlock(&log_mutex);
    return error;
}

int
log_level_from_string(const char *s, enum log_level *ret_level)
{
    static const struct {
        const char *name;
        enum log_level level;
    } names[] = {
        { "err", LOG_LEVEL_ERR }, { "error", LOG_LEVEL_ERR },
        { "warn", LOG_LEVEL_WARN }, { "warning", LOG_LEVEL_WARN },
        { "info", LOG_LEVEL_INFO },
        { "dbg", LOG_LEVEL_DBG }, { "debug", LOG_LEVEL_DBG },
    };

    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        if (!strcasecmp(s, names[i].name)) {
            *ret_level = names[i].level;
            return 0;
        }
    }
    return -EINVAL;
}

const char *
log_level_to_string(enum log_level level)
{
    static const char *const names[] = {
        [LOG_LEVEL_ERR] = "err", [LOG_LEVEL_WARN] = "warn",
        [LOG_LEVEL_INFO] = "info", [LOG_LEVEL_DBG] = "dbg",
    };

    return (size_t) level < ARRAY_SIZE(names) ? names[level] : "?";
}

int
log_format_from_string(const char *s, enum log_format *ret_format)
{
    if (!strcasecmp(s, "text")) {
        *ret_format = LOG_FORMAT_TEXT;
    } else if (!strcasecmp(s, "json")) {
        *ret_format = LOG_FORMAT_JSON;
    } else {
        return -EINVAL;
    }
    return 0;
}

/* Must be called with 'log_mutex' held. */
static void
log_clear_overrides(void)
{
    for (size_t i = 0; i < log_n_overrides; i++) {
        free(log_overrides[i].module);
    }
    log_n_overrides = 0;
}

int
log_set_levels(const char *spec)
{
    AUTOFREE char *copy = xstrdup(spec);
    struct log_override parsed[LOG_MAX_OVERRIDES];
    size_t n_parsed = 0;
    int default_level = -1;
    char *save = NULL;
    int error = 0;

    /* Parse everything first so that a bad spec changes nothing. */
    for (char *item = strtok_r(copy, ",", &save); item;
         item = strtok_r(NULL, ",", &save)) {
        char *colon = strrchr(item, ':');
        enum log_level level;

        if (!colon) {
            if (log_level_from_string(item, &level)) {
                error = -EINVAL;
                break;
            }
            default_level = (int) level;
            continue;
        }
        *colon = '\0';
        if (!*item || log_level_from_string(colon + 1, &level)
            || n_parsed >= ARRAY_SIZE(parsed)) {
            error = -EINVAL;
            break;
        }
        parsed[n_parsed].module = item;
        parsed[n_parsed].level = level;
        n_parsed++;
    }
    if (error) {
        return error;
    }

    pthread_mutex_lock(&log_mutex);
    if (default_level >= 0) {
        __atomic_store_n(&log_default_level, default_level, __ATOMIC_RELAXED);
    }
    for (size_t i = 0; i < n_parsed; i++) {
        size_t j;
        for (j = 0; j < log_n_overrides; j++) {
            if (!strcmp(log_overrides[j].module, parsed[i].module)) {
                break;
            }
        }
        if (j == log_n_overrides) {
            if (log_n_overrides >= LOG_MAX_OVERRIDES) {
                error = -E2BIG;
                break;
            }
            log_overrides[j].module = xstrdup(parsed[i].module);
            log_n_overrides++;
        }
        log_overrides[j].level = parsed[i].level;
    }
    for (struct log_module *m = log_modules; m; m = m->next) {
        log_module_apply_overrides(m);
    }
    pthread_mutex_unlock(&log_mutex);
    return error;
}

void
log_reset(void)
{
    pthread_mutex_lock(&log_mutex);
    log_clear_overrides();
    for (struct log_module *m = log_modules; m; m = m->next) {
        __atomic_store_n(&m->level, -1, __ATOMIC_RELAXED);
    }
    __atomic_store_n(&log_default_level, LOG_LEVEL_INFO, __ATOMIC_RELAXED);
    log_format = LOG_FORMAT_TEXT;
    if (log_fd != STDERR_FILENO) {
        close(log_fd);
    }
    log_fd = STDERR_FILENO;
    free(log_path);
    log_path = NULL;
    pthread_mutex_unlock(&log_mutex);
}
