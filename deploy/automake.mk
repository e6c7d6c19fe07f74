# deploy/automake.mk: included by the top-level Makefile.am; paths are from the top.

# Private MariaDB and RabbitMQ servers for development and tests.
dist_noinst_SCRIPTS += deploy/devservers

# --- section: quickstart ---
# The quickstart (deploy/quickstart), the launcher of a whole cloud on one
# machine (deploy/cloud) and the systemd units, which get the installation
# paths the way the man pages do (MAN_SUBST, man/automake.mk).
dist_noinst_SCRIPTS += deploy/cloud deploy/quickstart
EXTRA_DIST += deploy/quickstart.cells.yaml $(SYSTEMD_UNITS_IN)
SYSTEMD_UNITS_IN = \
	deploy/systemd/nova-api.service.in \
	deploy/systemd/nova-cells.service.in \
	deploy/systemd/nova-compute.service.in \
	deploy/systemd/nova-conductor.service.in \
	deploy/systemd/nova-scheduler.service.in
systemdunitdir = $(prefix)/lib/systemd/system
systemdunit_DATA = $(SYSTEMD_UNITS_IN:.in=)
CLEANFILES += $(SYSTEMD_UNITS_IN:.in=)
deploy/systemd/%.service: deploy/systemd/%.service.in
	$(AM_V_GEN)$(MKDIR_P) deploy/systemd && \
	$(MAN_SUBST) $< > $@.tmp && mv $@.tmp $@
# Example configuration: one nova.yaml per program and role, and a
# multi-region cells.yaml, installed as documentation (checked by
# tests/integration/test-quickstart).
deployexamplesdir = $(docdir)/examples
dist_deployexamples_DATA = \
	deploy/cells.yaml.example \
	deploy/examples/api-cell.nova-api.yaml \
	deploy/examples/api-cell.nova-cells.yaml \
	deploy/examples/region-cell.nova-cells.yaml \
	deploy/examples/leaf-cell.nova-cells.yaml \
	deploy/examples/leaf-cell.nova-scheduler.yaml \
	deploy/examples/leaf-cell.nova-conductor.yaml \
	deploy/examples/compute-host.nova-compute.yaml
# --- end section: quickstart ---
