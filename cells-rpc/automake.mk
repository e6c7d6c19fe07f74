# cells-rpc/automake.mk: included by the top-level Makefile.am; paths are from the top.

noinst_LTLIBRARIES += cells-rpc/libcellsrpc.la
cells_rpc_libcellsrpc_la_CFLAGS = $(AM_CFLAGS) $(RABBITMQ_CFLAGS) $(JSONC_CFLAGS)
cells_rpc_libcellsrpc_la_LIBADD = shared/libnovashared.la $(RABBITMQ_LIBS) $(JSONC_LIBS)
cells_rpc_libcellsrpc_la_SOURCES =

# --- section: rpc ---
# --- end section: rpc ---

# --- section: cell-msg ---
# --- end section: cell-msg ---
