/* cell-sched.h: the cell scheduler: which child cell gets a build.
 *
 * Every nova-cells process on the way down from the API cell runs this
 * over its children (DESIGN.md, "Boot", step 3), then forwards the
 * request to the first child of the answer; if that child cannot place
 * it, the parent tries the next one, up to its scheduler_retries.  Right
 * before each send the parent asks cell_health_start_request()
 * (cell-health.h), which lets a half-open child have a single request,
 * however many decisions listed it.  This scheduler is
 * the sibling of the leaf cell's host scheduler (child-cell/scheduler.h),
 * one level up: named filters and weighers, weights normalised over the
 * candidates, ties broken by position, and a NoValidHost message that
 * names the filter that removed the last candidate.
 *
 * Candidates are the children of the deciding cell, each with its latest
 * capacity report (cell-capacity.h) and health record (cell-health.h),
 * plus, when the cell has compute hosts of its own, the cell itself: a
 * cell with both children and hosts is scheduled like any other
 * candidate, with the report of its own hosts.
 *
 * Modes:
 *   filter_weight (default)  filter, then order by weight, best first.
 *   random                   filter, then a uniformly random order drawn
 *                            from the caller's seeded source.
 * In both, when MuteChildWeigher is on, candidates that are mute or
 * half-open come after all others.
 *
 * Filters, by Nova class name, in their default order (a candidate stops
 * at the first that rejects it):
 *
 *   TargetCellFilter        scheduler hint target_cell (admin only): keep
 *                           only the candidate on the way to it: the
 *                           cell itself if it is the target, else the
 *                           child whose subtree holds it.  A target
 *                           outside this cell's subtree is an error.
 *   DifferentCellFilter     scheduler hint different_cell, a list of
 *                           cell paths to keep away from: remove every
 *                           candidate whose subtree overlaps a listed
 *                           cell's, that is, a child that is the listed
 *                           cell, lies inside it, or contains it (the
 *                           whole child: this cell cannot see which of
 *                           the child's cells are free of it); the cell
 *                           itself (its own hosts) only when it is, or
 *                           lies inside, a listed cell.  Listed cells
 *                           elsewhere in the tree change nothing here.
 *   DisabledCellFilter      remove cells the operator disabled.
 *   CellHealthFilter        remove excluded children, and half-open ones
 *                           whose single probe is in flight.
 *   AvailabilityZoneFilter  the requested zone is among the cell's zones.
 *   ImagePropertiesFilter   the image's architecture and hypervisor type
 *                           are among the cell's capabilities (ignoring
 *                           case); a cell that reports none cannot
 *                           satisfy an image that asks.
 *   CapacityFilter          the cell has free units for all the
 *                           instances of the request, of its flavor size
 *                           (cell_capacity_units()); a cell that never
 *                           reported has none.
 *
 * Another filter, not configurable and not in the name table, runs first
 * when the request lists the children already tried for it (retries):
 *
 *   RetryFilter             remove candidates whose path is listed.
 *
 * Weighers, each with a multiplier (0 turns it off):
 *
 *   FreeUnitsWeigher     (1.0)     free units for the requested flavor
 *                                  size, normalised over the candidates
 *                                  (Nova cells v1's
 *                                  RamByInstanceTypeWeigher, counting
 *                                  vCPUs and disk as well as RAM).
 *   WeightOffsetWeigher  (1.0)     the operator's weight_offset and
 *                                  weight_scale of each cell (cells.yaml).
 *   MuteChildWeigher     (-10000.0) mute and half-open children last.
 *
 * A candidate's weight is
 *
 *     weight = weight_scale * (sum over normalised weighers of
 *                              multiplier * normalised value)
 *              + offset_multiplier * weight_offset
 *
 * where a normalised value is (value - min) / (max - min) over the
 * candidates that passed the filters (0 when all are equal), and
 * weight_scale and weight_offset count only while WeightOffsetWeigher is
 * on (otherwise 1 and 0).  So the offset is absolute: at the default
 * multipliers an offset of 1.0 is worth the whole spread of free units
 * between the emptiest and the fullest cell, a very large offset prefers
 * a cell whenever it passes the filters, and a negative one makes it a
 * last resort; a scale of 0 ignores the cell's room, 2 doubles its pull.
 * MuteChildWeigher is not a term of the sum: any negative multiplier
 * orders every mute or half-open child after every other candidate
 * (Nova's -10000.0 aimed at the same with a large weight, which operator
 * offsets could outweigh); a positive one is refused.  Candidates of
 * equal weight keep the order of the caller's array.
 *
 * Cost: one pass per active filter over the surviving candidates, one per
 * weigher, then a sort of the survivors or, when the request wants only
 * the best few (max_choices), one pass that keeps them.  Scratch space
 * lives in the scheduler and grows to the largest candidate count seen; a
 * decision allocates its result (and, for a target_cell hint, the path
 * toward it).  See tests/bench/bench-cell-sched.c for figures.
 *
 * Not thread-safe: a scheduler belongs to one thread (the daemon's
 * loop). */
#ifndef NOVA_CELL_SCHED_H
#define NOVA_CELL_SCHED_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cells-rpc/cell-capacity.h"
#include "shared/cleanup.h"
#include "shared/compiler.h"

struct cell_health;
struct cell_sched;
struct error;

/* Most candidates in one decision. */
#define CELL_SCHED_MAX_CANDIDATES 100000
/* Most cells in the different_cell hint, and in the tried list. */
#define CELL_SCHED_MAX_HINT_CELLS 100
#define CELL_SCHED_MAX_TRIED 100
/* Most instances in one request (as the leaf's scheduler). */
#define CELL_SCHED_MAX_INSTANCES 10000
/* Longest zone, architecture or hypervisor type asked for, in bytes. */
#define CELL_SCHED_MAX_NAME_LENGTH CELL_CAPACITY_MAX_NAME_LENGTH
/* Largest weight_offset magnitude and weight_scale of a candidate, and
 * multiplier magnitude of a weigher. */
#define CELL_SCHED_MAX_WEIGHT 1e15
/* Most cell names a NoValidHost message lists. */
#define CELL_SCHED_MAX_NAMES_LISTED 10

/* The filters run when the configuration names none. */
#define CELL_SCHED_DEFAULT_FILTERS                                      \
    "TargetCellFilter", "DifferentCellFilter", "DisabledCellFilter",    \
    "CellHealthFilter", "AvailabilityZoneFilter",                       \
    "ImagePropertiesFilter", "CapacityFilter"

/* X-macro: mode, configuration name. */
#define CELL_SCHED_MODES(X)                             \
    X(CELL_SCHED_FILTER_WEIGHT, "filter_weight")        \
    X(CELL_SCHED_RANDOM, "random")

enum cell_sched_mode {
#define CELL_SCHED_MODE_ENUM(mode, name) mode,
    CELL_SCHED_MODES(CELL_SCHED_MODE_ENUM)
#undef CELL_SCHED_MODE_ENUM
};

/* A weigher and its multiplier. */
struct cell_sched_weigher_config {
    const char *name;
    double multiplier;
};

/* The operator's choices, borrowed for the call of cell_sched_new(). */
struct cell_sched_config {
    const char *cell_path;      /* The cell that decides: "api!east". */
    enum cell_sched_mode mode;
    /* Filters by name, in the order they run.  NULL selects
     * CELL_SCHED_DEFAULT_FILTERS; a non-NULL array of 0 runs none. */
    const char *const *filters;
    size_t n_filters;
    /* Weighers with multipliers.  NULL selects every weigher with its
     * default multiplier. */
    const struct cell_sched_weigher_config *weighers;
    size_t n_weighers;
};

/* A cell that may get the request.  Borrowed for the decision. */
struct cell_sched_candidate {
    /* A child of the deciding cell ("api!east" under "api"), or the
     * deciding cell itself, standing for its own hosts.  Each cell at
     * most once. */
    const char *path;
    const struct cell_capacity *capacity;   /* Latest report; NULL: none
                                             * yet. */
    const struct cell_health *health;       /* NULL: always healthy (the
                                             * cell's own hosts). */
    bool disabled;
    double weight_offset;       /* Finite, |x| <= CELL_SCHED_MAX_WEIGHT. */
    double weight_scale;        /* 0 to CELL_SCHED_MAX_WEIGHT; 1: none. */
};

/* What the request asks for.  Strings and arrays are borrowed. */
struct cell_sched_request {
    struct cell_capacity_flavor flavor;
    size_t num_instances;               /* 1..CELL_SCHED_MAX_INSTANCES. */
    /* Image properties, NULL meaning any.  The architecture should be
     * canonical ("x86_64", not "amd64"), as the hosts report it. */
    const char *image_architecture;
    const char *image_hypervisor_type;
    const char *availability_zone;      /* NULL: any. */
    /* Scheduler hints. */
    const char *target_cell;            /* NULL: none.  Admin only. */
    const char *const *different_cell;
    size_t n_different_cell;
    bool is_admin;
    /* Paths of the candidates this cell already tried for the request. */
    const char *const *tried;
    size_t n_tried;
    int64_t now_ms;                     /* For the health records. */
    /* Most choices wanted (the parent tries at most scheduler_retries
     * children); 0: every candidate that passes. */
    size_t max_choices;
};

/* A seeded source of random numbers (splitmix64), for random mode: the
 * daemon seeds it once per process, tests with a constant. */
struct cell_sched_random {
    uint64_t state;
};

/* A candidate to try, as an index into the caller's array. */
struct cell_sched_choice {
    size_t candidate;
    double weight;              /* 0 in random mode. */
    bool demoted;               /* Mute or half-open, ordered last. */
};

/* The answer: the candidates that passed the filters, in the order to
 * try them (at most the request's max_choices). */
struct cell_sched_selection {
    struct cell_sched_choice *choices;
    size_t n_choices;
};

/* Creates a scheduler from 'config'.  Returns NULL and sets '*ret_sched'
 * (owned by the caller), or an ERROR_INVALID error naming the bad cell
 * path, mode, the unknown or duplicate filter or weigher (listing the
 * known ones), or the bad multiplier. */
struct error *cell_sched_new(const struct cell_sched_config *config,
                             struct cell_sched **ret_sched) WARN_UNUSED;

/* Frees 'sched'.  Accepts NULL. */
void cell_sched_free(struct cell_sched *sched);
DEFINE_FREEP(struct cell_sched, cell_sched_free)

/* Zeroes 'request' and asks for one instance. */
void cell_sched_request_init(struct cell_sched_request *request);

/* Seeds 'rng' with 'seed'. */
void cell_sched_random_init(struct cell_sched_random *rng, uint64_t seed);

/* Returns the next number of 'rng'. */
uint64_t cell_sched_random_next(struct cell_sched_random *rng);

/* Orders the 'n_candidates' 'candidates' for 'request'.  'rng' is
 * required in random mode and unused otherwise.  Returns NULL and sets
 * '*ret_selection' (owned by the caller; free with
 * cell_sched_selection_free()), or:
 *   - ERROR_FORBIDDEN if a user who is not an admin gave target_cell;
 *   - ERROR_INVALID for a request or candidate outside the limits above,
 *     a bad cell path, or a target_cell outside this cell's subtree;
 *   - ERROR_NO_VALID_HOST if no candidate passes the filters: "No valid
 *     cell was found: CapacityFilter returned 0 cells (children: east,
 *     west). Filter results: ...".
 * The caller owns the error. */
struct error *cell_sched_select(struct cell_sched *sched,
                                const struct cell_sched_request *request,
                                const struct cell_sched_candidate *candidates,
                                size_t n_candidates,
                                struct cell_sched_random *rng,
                                struct cell_sched_selection **ret_selection)
    WARN_UNUSED;

/* Frees 'selection'.  Accepts NULL. */
void cell_sched_selection_free(struct cell_sched_selection *selection);
DEFINE_FREEP(struct cell_sched_selection, cell_sched_selection_free)

/* Returns "filter_weight" or "random"; "unknown" outside the enum. */
const char *cell_sched_mode_to_string(enum cell_sched_mode mode);

/* Parses a mode name.  Returns 0 and sets '*ret_mode', or -EINVAL. */
int cell_sched_mode_from_string(const char *name,
                                enum cell_sched_mode *ret_mode);

#endif /* NOVA_CELL_SCHED_H */
