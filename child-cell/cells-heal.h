/* cells-heal.h: repairs the drift between the leaves and the top view.
 *
 * Updates travel up the tree as casts: one lost on the way (a nova-cells
 * that died between acknowledging a message and passing it on, a cast of
 * a leaf's conductor that never arrived) would leave the top view behind
 * for good.  Heal finds and repairs such drift by comparing digests, not
 * copies:
 *
 *   1. The root sends "heal_digest" to every cell with hosts of the tree
 *      (or a subtree), as cells.yaml describes it, except the cells that
 *      are mute or excluded or below one that is (as the root holds its
 *      own children, and as the API database records the others,
 *      api-cell/cell-status.h): those are reported missing at once instead
 *      of costing the whole timeout.  Every leaf asked answers with one
 *      page of (uuid, update_seq, deleted) for the instances of its cell
 *      database, in row order, at most CELLS_HEAL_DIGEST_PAGE per answer,
 *      and a cursor ("next") when there are more; the root asks for the
 *      following pages the same way.  Cells without hosts answer
 *      {"leaf": false}.
 *   2. Once it holds a leaf's whole digest, the root compares it with the
 *      top view's rows of that cell (cell_path, or an instance mapping to
 *      it):
 *        - a leaf row deleted, the top view's live: top_view_apply_destroy()
 *          with the leaf's update_seq;
 *        - a live leaf row newer than the top view's, or unknown to it:
 *          fetched ("heal_fetch", at most CELLS_HEAL_FETCH_MAX uuids per
 *          request: the INSTANCE and its latest FAULT) and applied with
 *          top_view_apply_update(), which keeps the update_seq order, so a
 *          heal never undoes a newer update that arrived meanwhile;
 *        - a live top-view row the leaf does not have, placed in that cell
 *          (cell_path set) and created more than CELLS_HEAL_GRACE_S ago
 *          (so not a build still on its way): marked deleted, with a log
 *          line.
 *      A leaf that does not answer, or was skipped, is left alone and
 *      reported missing ("missing_cells").
 *   3. The counts are logged; an on-demand heal answers with them.
 *
 * The root runs a heal every 'cells.heal_interval' seconds (0: never), and
 * on demand through CELLS_HEAL (cells-rpc/cells-rpcapi.h), which
 * "nova-manage cell heal" calls.  Everything runs on the service's thread;
 * the only blocking work is the root's queries of the API database. */
#ifndef CHILD_CELL_CELLS_HEAL_H
#define CHILD_CELL_CELLS_HEAL_H 1

#include "shared/compiler.h"

struct cell_request;
struct cells_service;
struct error;
struct json_object;
struct rpc_request;

/* Most instances in one answer to heal_digest. */
#define CELLS_HEAL_DIGEST_PAGE 1000
/* Most uuids in one heal_fetch request. */
#define CELLS_HEAL_FETCH_MAX 100
/* A top-view row younger than this may still be a build on its way down:
 * heal never deletes it. */
#define CELLS_HEAL_GRACE_S 120
/* Default of cells.heal_interval, in seconds. */
#define CELLS_HEAL_DEFAULT_INTERVAL_S 300

/* CELLS_LOCAL_TOPIC handler of "heal" (root only): runs a heal of the
 * subtree 'cell_path' (null: the whole tree) and answers when it is done. */
struct error *cells_heal_local(struct rpc_request *, void *svc,
                               struct json_object **ret_result) WARN_UNUSED;

/* Cell message handler of "heal_digest" and "heal_fetch". */
struct error *cells_heal_cell(struct cell_request *, void *svc,
                              struct json_object **ret_result) WARN_UNUSED;

/* Starts the periodic heal of the whole tree, unless the previous one is
 * still running.  Root only. */
void cells_heal_periodic(struct cells_service *);

#endif /* CHILD_CELL_CELLS_HEAL_H */
