# cells-rpc/automake.mk: included by the top-level Makefile.am; paths are from the top.

noinst_LTLIBRARIES += cells-rpc/libcellsrpc.la
cells_rpc_libcellsrpc_la_CFLAGS = $(AM_CFLAGS) $(RABBITMQ_CFLAGS) $(JSONC_CFLAGS)
cells_rpc_libcellsrpc_la_LIBADD = shared/libnovashared.la $(RABBITMQ_LIBS) $(JSONC_LIBS)
cells_rpc_libcellsrpc_la_SOURCES =

# --- section: rpc ---
# RPC over RabbitMQ: transport URLs, the envelope, versions, dedupe window,
# reconnect backoff, connections (cast/call/fanout) and servers.
cells_rpc_libcellsrpc_la_SOURCES += \
	cells-rpc/transport-url.h cells-rpc/transport-url.c \
	cells-rpc/rpc-version.h cells-rpc/rpc-version.c \
	cells-rpc/rpc-ctx.h cells-rpc/rpc-ctx.c \
	cells-rpc/rpc-msg.h cells-rpc/rpc-msg.c \
	cells-rpc/rpc-dedupe.h cells-rpc/rpc-dedupe.c \
	cells-rpc/rpc-backoff.h cells-rpc/rpc-backoff.c \
	cells-rpc/rpc-list.h cells-rpc/rpc-private.h \
	cells-rpc/rpc.h cells-rpc/rpc.c \
	cells-rpc/rpc-server.h cells-rpc/rpc-server.c
# --- end section: rpc ---

# --- section: cell-msg ---
# Cell-to-cell messages: paths, envelopes, routing, links to neighbours.
cells_rpc_libcellsrpc_la_SOURCES += \
	cells-rpc/cell-path.h cells-rpc/cell-path.c \
	cells-rpc/cell-msg.h cells-rpc/cell-msg.c \
	cells-rpc/cell-router.h cells-rpc/cell-router.c \
	cells-rpc/cell-links.h cells-rpc/cell-links.c \
	cells-rpc/cell-node.h cells-rpc/cell-node.c
# --- end section: cell-msg ---

# --- section: cell-sched ---
# Cell scheduling and cell health: capacity reports, the per-child circuit
# breaker, and the filters and weighers that order child cells (pure logic,
# fed by nova-cells).
cells_rpc_libcellsrpc_la_SOURCES += \
	cells-rpc/cell-capacity.h cells-rpc/cell-capacity.c \
	cells-rpc/cell-health.h cells-rpc/cell-health.c \
	cells-rpc/cell-sched-filter.h cells-rpc/cell-sched-filter.c \
	cells-rpc/cell-sched-weigh.h cells-rpc/cell-sched-weigh.c \
	cells-rpc/cell-sched.h cells-rpc/cell-sched.c
# --- end section: cell-sched ---
