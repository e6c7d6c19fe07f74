# child-cell/automake.mk: included by the top-level Makefile.am; paths are from the top.

# Leaf-cell logic lives in a convenience library so that the daemons and the
# unit tests link the same objects.
noinst_LTLIBRARIES += child-cell/libchildcell.la
child_cell_libchildcell_la_CFLAGS = $(AM_CFLAGS) $(LIBVIRT_CFLAGS) $(JSONC_CFLAGS)
child_cell_libchildcell_la_LIBADD = shared/libnovashared.la $(LIBVIRT_LIBS) $(JSONC_LIBS) -lm
child_cell_libchildcell_la_SOURCES = child-cell/rpcapi.h

# --- section: scheduler ---
# nova-scheduler's placement logic (filters, weighers, claims), pure C with
# no DB or RPC: the daemon feeds it host states.
child_cell_libchildcell_la_SOURCES += \
	child-cell/sched-names.h child-cell/sched-names.c \
	child-cell/sched-spec.h child-cell/sched-spec.c \
	child-cell/sched-host.h child-cell/sched-host.c \
	child-cell/sched-filter.h child-cell/sched-filter.c \
	child-cell/sched-weigh.h child-cell/sched-weigh.c \
	child-cell/scheduler.h child-cell/scheduler.c
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

# --- section: object-model ---
# Access to the cell database: instances, faults, actions, services,
# compute nodes and claims (child-cell/cell-db.h).
child_cell_libchildcell_la_SOURCES += \
	child-cell/cell-db.h child-cell/cell-db-private.h child-cell/cell-db.c \
	child-cell/cell-db-instance.h child-cell/cell-db-instance.c \
	child-cell/cell-db-fault.h child-cell/cell-db-fault.c \
	child-cell/cell-db-action.h child-cell/cell-db-action.c \
	child-cell/cell-db-service.h child-cell/cell-db-service.c \
	child-cell/cell-db-node.h child-cell/cell-db-node.c
# --- end section: object-model ---

# --- section: compute ---
# nova-compute: the manager (RPC handlers, periodic tasks, recovery), its
# worker pool and queues, the conductor client, and the daemon.
child_cell_libchildcell_la_SOURCES += \
	child-cell/compute-queue.h child-cell/compute-queue.c \
	child-cell/compute-workers.h child-cell/compute-workers.c \
	child-cell/compute-events.h child-cell/compute-events.c \
	child-cell/compute-conductor.h child-cell/compute-conductor.c \
	child-cell/compute-sync.h child-cell/compute-sync.c \
	child-cell/compute-spec.h child-cell/compute-spec.c \
	child-cell/compute-hosts.h child-cell/compute-hosts.c \
	child-cell/compute-manager.h child-cell/compute-manager.c
COMPUTE_LDADD = child-cell/libchildcell.la cells-rpc/libcellsrpc.la \
	shared/libnovashared.la $(LIBVIRT_LIBS) $(JSONC_LIBS) \
	$(RABBITMQ_LIBS) $(PTHREAD_LIBS)
bin_PROGRAMS += child-cell/nova-compute
child_cell_nova_compute_SOURCES = child-cell/nova-compute.c
child_cell_nova_compute_CFLAGS = $(AM_CFLAGS) $(LIBVIRT_CFLAGS) \
	$(JSONC_CFLAGS)
child_cell_nova_compute_LDADD = $(COMPUTE_LDADD)
# Its manual page (rules in man/automake.mk).
man_MANS += man/nova-compute.8
EXTRA_DIST += man/nova-compute.8.in
CLEANFILES += man/nova-compute.8
# --- end section: compute ---

# --- section: conductor ---
# nova-conductor (its modules: build, instance actions, host reports) and
# nova-scheduler's daemon side (host states from the cell database, the
# select_destinations server).  The wire form of select_destinations is
# shared by both.
child_cell_libchildcell_la_SOURCES += \
	child-cell/conductor-select.h child-cell/conductor-select.c \
	child-cell/conductor-actions.h child-cell/conductor-actions.c \
	child-cell/conductor-private.h \
	child-cell/conductor-service.h child-cell/conductor-service.c \
	child-cell/conductor-build.h child-cell/conductor-build.c \
	child-cell/conductor-instance.h child-cell/conductor-instance.c \
	child-cell/conductor-host.h child-cell/conductor-host.c \
	child-cell/scheduler-service.h child-cell/scheduler-service.c

# -lm: the claims' capacity arithmetic (cell-db-node.c) uses floor().
CONDUCTOR_DAEMON_LDADD = child-cell/libchildcell.la cells-rpc/libcellsrpc.la \
	shared/libnovashared.la $(JSONC_LIBS) $(RABBITMQ_LIBS) $(MARIADB_LIBS) \
	-lm
bin_PROGRAMS += child-cell/nova-conductor child-cell/nova-scheduler
child_cell_nova_conductor_SOURCES = child-cell/nova-conductor.c
child_cell_nova_conductor_LDADD = $(CONDUCTOR_DAEMON_LDADD)
child_cell_nova_scheduler_SOURCES = child-cell/nova-scheduler.c
child_cell_nova_scheduler_LDADD = $(CONDUCTOR_DAEMON_LDADD)

# nova-manage's service commands read the cell database through cell-db.
api_cell_nova_manage_LDADD += child-cell/libchildcell.la \
	shared/libnovashared.la $(JSONC_LIBS) -lm

# Their manual pages (rules in man/automake.mk).
man_MANS += man/nova-conductor.8 man/nova-scheduler.8
EXTRA_DIST += man/nova-conductor.8.in man/nova-scheduler.8.in
CLEANFILES += man/nova-conductor.8 man/nova-scheduler.8
# --- end section: conductor ---

# --- section: cells-queries ---
# The leaf's answers to nova-cells' service, compute node and instance
# action queries (child-cell/cells-queries.h).
child_cell_libchildcell_la_SOURCES += \
	child-cell/cells-queries.h child-cell/cells-queries.c
# --- end section: cells-queries ---

# --- section: nova-cells ---
# nova-cells, the daemon of every cell of the tree: the cell message node,
# builds down, instance updates up to the top view, capacity reports and
# the queries through the tree.  The API cell's top view comes from the
# compute API library.
bin_PROGRAMS += child-cell/nova-cells
child_cell_nova_cells_SOURCES = \
	cells-rpc/cells-rpcapi.h \
	child-cell/nova-cells.c \
	child-cell/cells-private.h \
	child-cell/cells-service.h child-cell/cells-service.c \
	child-cell/cells-build.h child-cell/cells-build.c \
	child-cell/cells-state.h child-cell/cells-state.c \
	child-cell/cells-capacity-report.h child-cell/cells-capacity-report.c \
	child-cell/cells-calls.h child-cell/cells-calls.c
child_cell_nova_cells_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) \
	$(MARIADB_CFLAGS) $(RABBITMQ_CFLAGS)
child_cell_nova_cells_LDADD = $(COMPUTE_API_LDADD) child-cell/libchildcell.la \
	cells-rpc/libcellsrpc.la shared/libnovashared.la $(JSONC_LIBS) \
	$(YAML_LIBS) $(RABBITMQ_LIBS) $(MARIADB_LIBS) $(PTHREAD_LIBS) -lm
# Its manual page (rules in man/automake.mk).
man_MANS += man/nova-cells.8
EXTRA_DIST += man/nova-cells.8.in
CLEANFILES += man/nova-cells.8
# --- end section: nova-cells ---

# --- section: image-cache ---
# nova-compute's image cache: downloads from the image service (libcurl),
# checksums (OpenSSL), the per-image in-progress entries, the qcow2
# overlays (qemu-img) and the cleanup of unused images.
child_cell_libchildcell_la_SOURCES += \
	child-cell/compute-image-cache.h child-cell/compute-image-cache.c
child_cell_libchildcell_la_CFLAGS += $(LIBCURL_CFLAGS) $(OPENSSL_CFLAGS)
child_cell_libchildcell_la_LIBADD += $(LIBCURL_LIBS) $(OPENSSL_LIBS) \
	$(PTHREAD_LIBS)
# --- end section: image-cache ---

# --- section: cells-admin ---
# The health of every cell carried up with the capacity reports and
# written by the root's nova-cells into the API database.
child_cell_nova_cells_SOURCES += \
	child-cell/cells-health-report.h child-cell/cells-health-report.c
# --- end section: cells-admin ---

# --- section: cells-heal ---
# The periodic and on-demand heal of the top view against the leaves.
child_cell_nova_cells_SOURCES += \
	child-cell/cells-heal.h child-cell/cells-heal.c
# --- end section: cells-heal ---

# --- section: snapshot ---
# createImage and createBackup in the leaf: the conductor's
# snapshot_instance and nova-compute's disk copy, upload (libcurl) and
# backup rotation.
child_cell_libchildcell_la_SOURCES += \
	child-cell/conductor-snapshot.h child-cell/conductor-snapshot.c \
	child-cell/compute-snapshot.h child-cell/compute-snapshot.c
# --- end section: snapshot ---
