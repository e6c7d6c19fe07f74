/* cells-health-report.h: the health of every cell of the tree, carried up
 * with the capacity reports (cells-capacity-report.h) and recorded by the
 * root in the API database.
 *
 * A parent knows the health of its children (cells-rpc/cell-health.h),
 * but only the root has the API database.  So every cell that has
 * children adds to the capacity report it sends its parent an optional
 * member "descendants" of the message arguments (beside "capacity"; the
 * capacity object itself is unchanged, and a parent that does not know
 * the member ignores it):
 *
 *     "descendants": [{"path": "api!east!east-1", "health": "healthy",
 *                      "last_heard_at": 1700000000000,
 *                      "capacity": {...cell-capacity.h JSON...}}, ...]
 *
 * one entry per child (the health this cell holds of it, the epoch
 * milliseconds of its latest report or null, its latest capacity report
 * or null) followed by the entries that child sent in its own latest
 * report.  Entries whose path is not below the sender are dropped, so a
 * cell can only speak for its own subtree.
 *
 * The root writes, for every report it receives, the health of each of
 * its children and the descendants of the sender into the columns
 * last_heard_at, health and capacity of cell_mappings (migration 0007),
 * in one transaction, and only the rows whose health, last report or
 * capacity changed since it last wrote them.  The root also writes the
 * health of its children on its own report timer
 * (cells_health_report_tick()), so a child that falls silent is recorded
 * mute, then excluded, even when no other child reports (a root with a
 * single child, or a whole tree gone quiet).  The descendants of a silent
 * child keep the rows last reported for them: whoever reads the rows
 * looks at the cells above as well (api-cell/cell-status.h).
 *
 * What a cell keeps between reports (the descendants each child sent, and
 * at the root what it last wrote) is held here per cell path, so that the
 * service needs no field for it.  Every function is called on the
 * service's thread; the store is locked anyway, as tests may run several
 * services in one process. */
#ifndef CHILD_CELL_CELLS_HEALTH_REPORT_H
#define CHILD_CELL_CELLS_HEALTH_REPORT_H 1

struct cells_child;
struct cells_service;
struct json_object;

/* Most descendants one report may carry. */
#define CELLS_HEALTH_MAX_DESCENDANTS 10000

/* Adds "descendants" to 'args', the arguments of the capacity report
 * 'svc' is about to send, if 'svc' has children. */
void cells_health_report_add(struct cells_service *svc,
                             struct json_object *args);

/* Takes note of the report with arguments 'args' (borrowed) that 'child'
 * of 'svc' just sent, after its capacity and heartbeat were recorded: an
 * intermediate cell keeps its descendants for its own next report, the
 * root writes the API database.  Failures are logged, never returned: a
 * bad "descendants" member does not make the capacity report fail. */
void cells_health_report_received(struct cells_service *svc,
                                  const struct cells_child *child,
                                  const struct json_object *args);

/* The root 'svc': writes to the API database the health of its children
 * as it holds them now (only the rows that changed).  Called on the
 * root's report timer; does nothing elsewhere or without an API
 * database.  Failures are logged. */
void cells_health_report_tick(struct cells_service *svc);

#endif /* CHILD_CELL_CELLS_HEALTH_REPORT_H */
