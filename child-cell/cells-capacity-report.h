/* cells-capacity-report.h: capacity reports up the tree.
 *
 * Every cells.capacity_interval seconds each cell but the root sends its
 * parent a capacity report (cells-rpc/cell-capacity.h) as a targeted cell
 * message (capacity_report).  A leaf builds it from the compute nodes of
 * its cell database, counting as usable only the hosts whose nova-compute
 * service is enabled, not forced down and heard from within
 * compute.service_down_time; it lists free units for Nova's default
 * flavor sizes (other sizes are estimated by the reader), and adds the
 * availability zones and capabilities that cells.yaml gives the cell.  A
 * cell with children sums the latest reports of the children it may
 * schedule to (cell_capacity_aggregate()).
 *
 * The parent keeps each child's latest report for its cell scheduler, and
 * every arrival is that child's heartbeat (cell_health_record_report()):
 * a child silent for cells.mute_child_interval seconds is mute (weighed
 * last), and one silent for twice that is excluded. */
#ifndef CHILD_CELL_CELLS_CAPACITY_REPORT_H
#define CHILD_CELL_CELLS_CAPACITY_REPORT_H 1

#include "shared/compiler.h"

struct cell_request;
struct cells_service;
struct error;
struct json_object;

/* Builds this cell's report and sends it to the parent (the root sends
 * nothing).  A cell with hosts of its own first refreshes the report of
 * those hosts alone ('own_capacity'), which a cell that also has children
 * adds to the sum of theirs.  Failures are logged: the next interval
 * tries again. */
void cells_capacity_report_send(struct cells_service *);

/* Cell message capacity_report from a child. */
struct error *cells_capacity_report_cell(struct cell_request *, void *svc,
                                         struct json_object **ret_result)
    WARN_UNUSED;

#endif /* CHILD_CELL_CELLS_CAPACITY_REPORT_H */
