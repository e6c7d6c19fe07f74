# child-cell/automake.mk: included by the top-level Makefile.am; paths are from the top.

# Leaf-cell logic lives in a convenience library so that the daemons and the
# unit tests link the same objects.
noinst_LTLIBRARIES += child-cell/libchildcell.la
child_cell_libchildcell_la_CFLAGS = $(AM_CFLAGS) $(LIBVIRT_CFLAGS) $(JSONC_CFLAGS)
child_cell_libchildcell_la_LIBADD = shared/libnovashared.la $(LIBVIRT_LIBS) $(JSONC_LIBS)
child_cell_libchildcell_la_SOURCES =

# --- section: scheduler ---
# --- end section: scheduler ---

# --- section: virt ---
# --- end section: virt ---
