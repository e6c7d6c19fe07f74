/* cell-health.c: the per-child circuit breaker (see cell-health.h).
 *
 * The record keeps only events (last report, when the breaker was opened
 * explicitly, when a probe was sent, failures in a row); the state is
 * derived from them and 'now' on every query, so time passing needs no
 * call and queries change nothing.  Two openings are implicit: silence
 * longer than the exclusion time opens the breaker at the moment that
 * time ran out, and a probe without an outcome for probe_timeout_ms
 * counts as failed at the moment its time ran out.  The breaker is open
 * since the latest of the explicit and implicit openings.
 *
 * Times are compared through differences that saturate, so a clock
 * reading far from the recorded ones cannot overflow. */
#include <config.h>
#include "cells-rpc/cell-health.h"

#include <errno.h>
#include <string.h>

#include "shared/compiler.h"
#include "shared/error.h"

static const char *const cell_health_state_names[] = {
#define CELL_HEALTH_STATE_NAME(state, name) [state] = name,
    CELL_HEALTH_STATES(CELL_HEALTH_STATE_NAME)
#undef CELL_HEALTH_STATE_NAME
};

/* Returns 't' + 'd', saturating at the ends of int64_t. */
static int64_t
cell_health_add(int64_t t, int64_t d)
{
    int64_t sum;

    if (__builtin_add_overflow(t, d, &sum)) {
        return d > 0 ? INT64_MAX : INT64_MIN;
    }
    return sum;
}

/* Returns 'now' - 'then', saturating at the ends of int64_t. */
static int64_t
cell_health_elapsed(int64_t now, int64_t then)
{
    int64_t diff;

    if (__builtin_sub_overflow(now, then, &diff)) {
        return then < 0 ? INT64_MAX : INT64_MIN;
    }
    return diff;
}

/* Silence after which the breaker opens. */
static int64_t
cell_health_exclude_after(const struct cell_health_config *config)
{
    /* At most CELL_HEALTH_MAX_COUNT weeks in ms: far from overflow. */
    return (int64_t) config->max_missed_reports * config->report_interval_ms;
}

/* True if a probe was sent and its time has not run out at 'now'. */
static bool
cell_health_probe_in_flight(const struct cell_health *h, int64_t now)
{
    return (h->probe_ms != CELL_HEALTH_NEVER
            && cell_health_elapsed(now, h->probe_ms)
               < h->config->probe_timeout_ms);
}

/* Returns since when the breaker is open at 'now', ignoring a probe in
 * flight, or CELL_HEALTH_NEVER if it is closed. */
static int64_t
cell_health_open_since(const struct cell_health *h, int64_t now)
{
    int64_t exclude_after = cell_health_exclude_after(h->config);
    int64_t since = h->opened_ms;

    if (cell_health_elapsed(now, h->heard_ms) > exclude_after) {
        since = MAX(since, cell_health_add(h->heard_ms, exclude_after));
    }
    if (h->probe_ms != CELL_HEALTH_NEVER
        && !cell_health_probe_in_flight(h, now)) {
        since = MAX(since, cell_health_add(h->probe_ms,
                                           h->config->probe_timeout_ms));
    }
    return since;
}

/* Turns a probe whose time ran out into the opening it implies. */
static void
cell_health_expire_probe(struct cell_health *h, int64_t now)
{
    if (h->probe_ms != CELL_HEALTH_NEVER
        && !cell_health_probe_in_flight(h, now)) {
        h->opened_ms = MAX(h->opened_ms,
                           cell_health_add(h->probe_ms,
                                           h->config->probe_timeout_ms));
        h->probe_ms = CELL_HEALTH_NEVER;
    }
}

void
cell_health_config_init(struct cell_health_config *config)
{
    *config = (struct cell_health_config) {
        .report_interval_ms = CELL_HEALTH_DEFAULT_REPORT_INTERVAL_MS,
        .mute_child_interval_ms = CELL_HEALTH_DEFAULT_MUTE_CHILD_INTERVAL_MS,
        .max_missed_reports = CELL_HEALTH_DEFAULT_MAX_MISSED_REPORTS,
        .probe_interval_ms = CELL_HEALTH_DEFAULT_PROBE_INTERVAL_MS,
        .probe_timeout_ms = CELL_HEALTH_DEFAULT_PROBE_TIMEOUT_MS,
        .max_failures = CELL_HEALTH_DEFAULT_MAX_FAILURES,
    };
}

/* Checks interval 'value' of setting 'name'. */
static struct error *
cell_health_check_interval(const char *name, int64_t value)
{
    if (value < 1 || value > CELL_HEALTH_MAX_INTERVAL_MS) {
        return error_new(ERROR_INVALID,
                         "Cell health setting '%s' must be between 1 and "
                         "%lld ms, not %lld", name,
                         (long long) CELL_HEALTH_MAX_INTERVAL_MS,
                         (long long) value);
    }
    return NULL;
}

/* Checks count 'value' of setting 'name'. */
static struct error *
cell_health_check_count(const char *name, unsigned int value,
                        unsigned int min)
{
    if (value < min || value > CELL_HEALTH_MAX_COUNT) {
        return error_new(ERROR_INVALID,
                         "Cell health setting '%s' must be between %u and "
                         "%d, not %u", name, min, CELL_HEALTH_MAX_COUNT,
                         value);
    }
    return NULL;
}

struct error *
cell_health_config_check(const struct cell_health_config *config)
{
    struct error *error;

    if ((error = cell_health_check_interval("report_interval_ms",
                                            config->report_interval_ms))
        || (error = cell_health_check_interval(
                "mute_child_interval_ms", config->mute_child_interval_ms))
        || (error = cell_health_check_interval("probe_interval_ms",
                                               config->probe_interval_ms))
        || (error = cell_health_check_interval("probe_timeout_ms",
                                               config->probe_timeout_ms))
        || (error = cell_health_check_count("max_missed_reports",
                                            config->max_missed_reports, 1))
        || (error = cell_health_check_count("max_failures",
                                            config->max_failures, 0))) {
        return error;
    }
    if (config->mute_child_interval_ms < config->report_interval_ms) {
        return error_new(ERROR_INVALID,
                         "Cell health setting 'mute_child_interval_ms' "
                         "(%lld) must be at least 'report_interval_ms' "
                         "(%lld), or children are muted between reports",
                         (long long) config->mute_child_interval_ms,
                         (long long) config->report_interval_ms);
    }
    if (cell_health_exclude_after(config) < config->mute_child_interval_ms) {
        return error_new(ERROR_INVALID,
                         "Cell health setting 'max_missed_reports' (%u) "
                         "times 'report_interval_ms' (%lld) must be at "
                         "least 'mute_child_interval_ms' (%lld), or "
                         "children are excluded before they are muted",
                         config->max_missed_reports,
                         (long long) config->report_interval_ms,
                         (long long) config->mute_child_interval_ms);
    }
    return NULL;
}

void
cell_health_init(struct cell_health *health,
                 const struct cell_health_config *config, int64_t now_ms)
{
    *health = (struct cell_health) {
        .config = config,
        .heard_ms = now_ms,
        .reported = false,
        .opened_ms = CELL_HEALTH_NEVER,
        .probe_ms = CELL_HEALTH_NEVER,
        .n_failures = 0,
    };
}

void
cell_health_record_report(struct cell_health *health, int64_t now_ms)
{
    health->heard_ms = now_ms;
    health->reported = true;
    health->opened_ms = CELL_HEALTH_NEVER;
    health->probe_ms = CELL_HEALTH_NEVER;
    health->n_failures = 0;
}

enum cell_health_state
cell_health_state(const struct cell_health *health, int64_t now_ms)
{
    int64_t open_since;

    if (cell_health_probe_in_flight(health, now_ms)) {
        return CELL_HEALTH_HALF_OPEN;
    }
    open_since = cell_health_open_since(health, now_ms);
    if (open_since != CELL_HEALTH_NEVER) {
        return (cell_health_elapsed(now_ms, open_since)
                >= health->config->probe_interval_ms
                ? CELL_HEALTH_HALF_OPEN : CELL_HEALTH_EXCLUDED);
    }
    if (!health->reported
        || cell_health_elapsed(now_ms, health->heard_ms)
           > health->config->mute_child_interval_ms) {
        return CELL_HEALTH_MUTE;
    }
    return CELL_HEALTH_HEALTHY;
}

bool
cell_health_may_schedule(const struct cell_health *health, int64_t now_ms)
{
    switch (cell_health_state(health, now_ms)) {
    case CELL_HEALTH_HEALTHY:
    case CELL_HEALTH_MUTE:
        return true;
    case CELL_HEALTH_HALF_OPEN:
        return !cell_health_probe_in_flight(health, now_ms);
    case CELL_HEALTH_EXCLUDED:
    default:
        return false;
    }
}

bool
cell_health_is_mute(const struct cell_health *health, int64_t now_ms)
{
    return cell_health_state(health, now_ms) == CELL_HEALTH_MUTE;
}

bool
cell_health_start_request(struct cell_health *health, int64_t now_ms)
{
    enum cell_health_state state = cell_health_state(health, now_ms);

    if (state == CELL_HEALTH_EXCLUDED) {
        return false;
    }
    if (state == CELL_HEALTH_HALF_OPEN) {
        if (cell_health_probe_in_flight(health, now_ms)) {
            return false;
        }
        cell_health_expire_probe(health, now_ms);
        health->probe_ms = now_ms;
    }
    return true;
}

void
cell_health_record_success(struct cell_health *health, int64_t now_ms)
{
    (void) now_ms;
    health->n_failures = 0;
    /* The probe got through: the breaker stays open, but the next request
     * may go at once.  A late answer to a probe presumed lost counts as
     * well: it got through too. */
    health->probe_ms = CELL_HEALTH_NEVER;
}

void
cell_health_record_failure(struct cell_health *health, int64_t now_ms)
{
    if (health->n_failures < CELL_HEALTH_MAX_COUNT) {
        health->n_failures++;
    }
    if (cell_health_probe_in_flight(health, now_ms)) {
        health->opened_ms = now_ms;
        health->probe_ms = CELL_HEALTH_NEVER;
        return;
    }
    cell_health_expire_probe(health, now_ms);
    /* A late failure of an earlier request does not push the next probe
     * back: only a closed breaker opens here. */
    if (health->config->max_failures
        && health->n_failures >= health->config->max_failures
        && cell_health_open_since(health, now_ms) == CELL_HEALTH_NEVER) {
        health->opened_ms = now_ms;
    }
}

int64_t
cell_health_next_change(const struct cell_health *health, int64_t now_ms)
{
    const struct cell_health_config *c = health->config;
    int64_t exclude_after = cell_health_exclude_after(c);
    int64_t times[6];
    size_t n = 0;
    enum cell_health_state state = cell_health_state(health, now_ms);
    bool may = cell_health_may_schedule(health, now_ms);
    int64_t best = INT64_MAX;

    /* Every transition happens one of these instants: silence passing
     * the mute or exclusion time, a probe timing out, or the probe
     * interval running out after one of the openings. */
    times[n++] = cell_health_add(health->heard_ms,
                                 cell_health_add(c->mute_child_interval_ms,
                                                 1));
    times[n++] = cell_health_add(health->heard_ms,
                                 cell_health_add(exclude_after, 1));
    times[n++] = cell_health_add(health->heard_ms,
                                 cell_health_add(exclude_after,
                                                 c->probe_interval_ms));
    if (health->opened_ms != CELL_HEALTH_NEVER) {
        times[n++] = cell_health_add(health->opened_ms,
                                     c->probe_interval_ms);
    }
    if (health->probe_ms != CELL_HEALTH_NEVER) {
        int64_t expiry = cell_health_add(health->probe_ms,
                                         c->probe_timeout_ms);

        times[n++] = expiry;
        times[n++] = cell_health_add(expiry, c->probe_interval_ms);
    }

    for (size_t i = 0; i < n; i++) {
        int64_t t = times[i];

        if (t > now_ms && t < best
            && (cell_health_state(health, t) != state
                || cell_health_may_schedule(health, t) != may)) {
            best = t;
        }
    }
    return best;
}

const char *
cell_health_state_to_string(enum cell_health_state state)
{
    if ((size_t) state < ARRAY_SIZE(cell_health_state_names)) {
        return cell_health_state_names[state];
    }
    return "unknown";
}

int
cell_health_state_from_string(const char *name,
                              enum cell_health_state *ret_state)
{
    for (size_t i = 0; i < ARRAY_SIZE(cell_health_state_names); i++) {
        if (!strcmp(name, cell_health_state_names[i])) {
            *ret_state = (enum cell_health_state) i;
            return 0;
        }
    }
    return -EINVAL;
}
