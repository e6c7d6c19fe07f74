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
# The hypervisor driver layer of nova-compute: the driver interface, domain
# XML, the libvirt driver and simulated hosts on libvirt's test driver.
child_cell_libchildcell_la_SOURCES += \
	child-cell/virt-driver.h child-cell/virt-driver.c \
	child-cell/virt-driver-provider.h \
	child-cell/virt-domain-xml.h child-cell/virt-domain-xml.c \
	child-cell/virt-libvirt.h child-cell/virt-libvirt.c \
	child-cell/virt-sim-hosts.h child-cell/virt-sim-hosts.c \
	child-cell/virt-spec-json.h child-cell/virt-spec-json.c
# --- end section: virt ---
