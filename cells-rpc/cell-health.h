/* cell-health.h: is a child cell alive?  A circuit breaker per child,
 * driven by its capacity reports.
 *
 * Each child sends its capacity report (cell-capacity.h) every
 * 'report_interval_ms'; the arrival of a report is its heartbeat.  The
 * parent keeps one 'struct cell_health' per child and tells it what
 * happens: a report arrived, a request is about to be sent, a request
 * succeeded or failed.  Everything takes 'now' (milliseconds on a clock
 * that does not jump: time_monotonic_ms() in the daemon), so the machine
 * is pure and its tests control time.
 *
 * States, with 'silence' the time since the last report (or, before the
 * first one, since cell_health_init()):
 *
 *   healthy    heard from within mute_child_interval_ms.  Scheduled.
 *   mute       silence > mute_child_interval_ms (Nova's mute_child_interval),
 *              or no report yet.  Still scheduled, but weighed after every
 *              child that is not (MuteChildWeigher): its data is stale.
 *   excluded   the breaker is open: silence > max_missed_reports *
 *              report_interval_ms, or max_failures request failures in a
 *              row, or a failed probe.  Never scheduled.
 *   half-open  probe_interval_ms after the breaker opened: one request,
 *              the probe, may go there.  While the probe is in flight the
 *              child is not scheduled again; a probe whose outcome is not
 *              recorded within probe_timeout_ms counts as failed.  A
 *              failed probe opens the breaker again (excluded, for another
 *              probe_interval_ms).  A successful one proves that requests
 *              get through but not that the capacity data is fresh: the
 *              child stays half-open (one request at a time) until a
 *              report arrives.
 *
 * A report makes any child healthy at once and clears its failures.
 *
 *     healthy --silence--> mute --more silence--> excluded
 *        |                                         ^     |
 *        +---- max_failures request failures ------+     | probe_interval_ms
 *                                                  |     v
 *                                     probe failed +-- half-open
 *
 *     any state --report--> healthy
 *
 * Boundaries: silence of exactly mute_child_interval_ms is still healthy;
 * the breaker opens when silence exceeds the exclusion time and half-opens
 * when probe_interval_ms have passed since it opened.
 *
 * Request outcomes are the caller's to judge: a failure is a request the
 * child did not answer (timeout, cell down, refused on the way), not a
 * build the child answered with NoValidHost.  While a probe is in flight,
 * the next outcome recorded is taken as the probe's.
 *
 * Not thread-safe: a child's record belongs to one thread (the daemon's
 * loop).  The configuration is borrowed and must outlive the records. */
#ifndef NOVA_CELL_HEALTH_H
#define NOVA_CELL_HEALTH_H 1

#include <stdbool.h>
#include <stdint.h>
#include "shared/compiler.h"

struct error;

/* Defaults: children report every minute; Nova's mute_child_interval is
 * five minutes; ten missed reports exclude a child; a probe every minute
 * and two minutes for its answer; three failed requests in a row open the
 * breaker. */
#define CELL_HEALTH_DEFAULT_REPORT_INTERVAL_MS INT64_C(60000)
#define CELL_HEALTH_DEFAULT_MUTE_CHILD_INTERVAL_MS INT64_C(300000)
#define CELL_HEALTH_DEFAULT_MAX_MISSED_REPORTS 10
#define CELL_HEALTH_DEFAULT_PROBE_INTERVAL_MS INT64_C(60000)
#define CELL_HEALTH_DEFAULT_PROBE_TIMEOUT_MS INT64_C(120000)
#define CELL_HEALTH_DEFAULT_MAX_FAILURES 3

/* Longest interval of any kind (a week), and most missed reports or
 * failures: keeps every product of them far from overflow. */
#define CELL_HEALTH_MAX_INTERVAL_MS INT64_C(604800000)
#define CELL_HEALTH_MAX_COUNT 1000

/* "No such time" in the records below. */
#define CELL_HEALTH_NEVER INT64_MIN

/* X-macro: state, display name. */
#define CELL_HEALTH_STATES(X)                           \
    X(CELL_HEALTH_HEALTHY, "healthy")                   \
    X(CELL_HEALTH_MUTE, "mute")                         \
    X(CELL_HEALTH_EXCLUDED, "excluded")                 \
    X(CELL_HEALTH_HALF_OPEN, "half-open")

enum cell_health_state {
#define CELL_HEALTH_STATE_ENUM(state, name) state,
    CELL_HEALTH_STATES(CELL_HEALTH_STATE_ENUM)
#undef CELL_HEALTH_STATE_ENUM
};

/* The operator's settings, shared by every child of a cell. */
struct cell_health_config {
    int64_t report_interval_ms;
    int64_t mute_child_interval_ms;
    unsigned int max_missed_reports;    /* At least 1. */
    int64_t probe_interval_ms;
    int64_t probe_timeout_ms;
    unsigned int max_failures;          /* 0: failures never exclude. */
};

/* One child's record.  Members are private to cell-health.c; they are
 * here so that records can be embedded without allocation. */
struct cell_health {
    const struct cell_health_config *config;
    int64_t heard_ms;           /* Last report, or the time of init. */
    bool reported;              /* A report has arrived. */
    int64_t opened_ms;          /* Breaker opened by failures or a failed
                                 * probe, or CELL_HEALTH_NEVER. */
    int64_t probe_ms;           /* Probe sent, or CELL_HEALTH_NEVER. */
    unsigned int n_failures;    /* Request failures in a row. */
};

/* Stores the defaults in 'config'. */
void cell_health_config_init(struct cell_health_config *config);

/* Checks 'config': every interval in 1..CELL_HEALTH_MAX_INTERVAL_MS, the
 * counts within CELL_HEALTH_MAX_COUNT, max_missed_reports at least 1,
 * mute_child_interval_ms at least report_interval_ms (a child must be
 * able to report before it is muted) and the exclusion time
 * (max_missed_reports * report_interval_ms) at least
 * mute_child_interval_ms.  Returns NULL, or an ERROR_INVALID error naming
 * the setting (caller owns it). */
struct error *cell_health_config_check(const struct cell_health_config
                                       *config) WARN_UNUSED;

/* Starts the record of a child first known at 'now_ms', under 'config'
 * (checked, borrowed).  The child is mute until its first report. */
void cell_health_init(struct cell_health *health,
                      const struct cell_health_config *config,
                      int64_t now_ms);

/* Records a capacity report from the child at 'now_ms': healthy. */
void cell_health_record_report(struct cell_health *health, int64_t now_ms);

/* Asks to send a request to the child at 'now_ms'.  Returns true if it may
 * go: the child is healthy or mute, or half-open with no probe in flight,
 * in which case this request becomes the probe.  Returns false if the
 * child is excluded or its probe is in flight: try the next candidate.
 * Call it right before sending, so that of several decisions that listed
 * a half-open child only one sends it a probe. */
bool cell_health_start_request(struct cell_health *health, int64_t now_ms);

/* Records that a request to the child succeeded at 'now_ms'. */
void cell_health_record_success(struct cell_health *health, int64_t now_ms);

/* Records that a request to the child failed at 'now_ms'. */
void cell_health_record_failure(struct cell_health *health, int64_t now_ms);

/* Returns the state of the child at 'now_ms'. */
enum cell_health_state cell_health_state(const struct cell_health *health,
                                         int64_t now_ms);

/* True if the cell scheduler may pick the child at 'now_ms': healthy,
 * mute, or half-open with no probe in flight. */
bool cell_health_may_schedule(const struct cell_health *health,
                              int64_t now_ms);

/* True if the child is mute at 'now_ms'. */
bool cell_health_is_mute(const struct cell_health *health, int64_t now_ms);

/* Returns the earliest time after 'now_ms' at which the state or
 * cell_health_may_schedule() changes without any event, or INT64_MAX if
 * none will: for a daemon's timer that logs transitions. */
int64_t cell_health_next_change(const struct cell_health *health,
                                int64_t now_ms);

/* Returns "healthy", ...; "unknown" for a value outside the enum. */
const char *cell_health_state_to_string(enum cell_health_state state);

/* Parses a state name.  Returns 0 and sets '*ret_state', or -EINVAL. */
int cell_health_state_from_string(const char *name,
                                  enum cell_health_state *ret_state);

#endif /* NOVA_CELL_HEALTH_H */
