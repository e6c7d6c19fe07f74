# tests/automake.mk: unit tests (cmocka, TAP output) and integration tests
# against real servers.  Included by the top-level Makefile.am.
EXTRA_DIST += tests/lsan.supp tests/bench/run-rpc-bench

TEST_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(JSONC_CFLAGS) $(YAML_CFLAGS) \
	$(MARIADB_CFLAGS)
TEST_LDADD = shared/libnovashared.la $(CMOCKA_LIBS)

check_PROGRAMS += tests/unit/test-error tests/unit/test-log
TESTS += tests/unit/test-error tests/unit/test-log
tests_unit_test_error_SOURCES = tests/unit/test-error.c
tests_unit_test_error_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_error_LDADD = $(TEST_LDADD)
tests_unit_test_log_SOURCES = tests/unit/test-log.c
tests_unit_test_log_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_log_LDADD = $(TEST_LDADD)
check_PROGRAMS += tests/unit/test-daemon
TESTS += tests/unit/test-daemon
tests_unit_test_daemon_SOURCES = tests/unit/test-daemon.c
tests_unit_test_daemon_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_daemon_LDADD = $(TEST_LDADD)

# --- section: json-util, uuid-util, timeutil ---
check_PROGRAMS += tests/unit/test-json-util tests/unit/test-uuid-util \
	tests/unit/test-timeutil
TESTS += tests/unit/test-json-util tests/unit/test-uuid-util \
	tests/unit/test-timeutil
tests_unit_test_json_util_SOURCES = tests/unit/test-json-util.c
tests_unit_test_json_util_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_json_util_LDADD = $(TEST_LDADD)
tests_unit_test_uuid_util_SOURCES = tests/unit/test-uuid-util.c
tests_unit_test_uuid_util_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_uuid_util_LDADD = $(TEST_LDADD)
tests_unit_test_timeutil_SOURCES = tests/unit/test-timeutil.c
tests_unit_test_timeutil_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_timeutil_LDADD = $(TEST_LDADD)
# --- end section: json-util, uuid-util, timeutil ---

# --- section: config ---
check_PROGRAMS += tests/unit/test-config
TESTS += tests/unit/test-config
tests_unit_test_config_SOURCES = tests/unit/test-config.c
tests_unit_test_config_CFLAGS = $(TEST_CFLAGS) \
	-DTEST_CONFIG_DATA_DIR='"$(abs_top_srcdir)/tests/data/config"'
tests_unit_test_config_LDADD = $(TEST_LDADD)
EXTRA_DIST += \
	tests/data/config/example.yaml \
	tests/data/config/unknown-key.yaml
# --- end section: config ---

# --- section: db ---
check_PROGRAMS += tests/unit/test-db-url
TESTS += tests/unit/test-db-url
tests_unit_test_db_url_SOURCES = tests/unit/test-db-url.c
tests_unit_test_db_url_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_db_url_LDADD = $(TEST_LDADD)
# Against a real MariaDB; also runs api-cell/nova-manage.
check_PROGRAMS += tests/integration/test-db
TESTS += tests/integration/test-db
tests_integration_test_db_SOURCES = tests/integration/test-db.c \
	$(TEST_ENV_SOURCES)
tests_integration_test_db_CFLAGS = $(TEST_CFLAGS) $(TEST_ENV_CFLAGS) \
	-DTEST_DB_BUILDDIR='"$(abs_top_builddir)"'
tests_integration_test_db_LDADD = $(TEST_LDADD)
# --- end section: db ---

# --- section: harness ---
# Integration tests add $(TEST_ENV_SOURCES) to their _SOURCES and
# $(TEST_ENV_CFLAGS) to their _CFLAGS (see tests/integration/test-env.h).
TEST_ENV_SOURCES = tests/integration/test-env.h tests/integration/test-env.c
TEST_ENV_CFLAGS = -DTEST_ENV_SRCDIR='"$(abs_top_srcdir)"'
check_PROGRAMS += tests/integration/test-devservers
TESTS += tests/integration/test-devservers
tests_integration_test_devservers_SOURCES = \
	tests/integration/test-devservers.c $(TEST_ENV_SOURCES)
tests_integration_test_devservers_CFLAGS = $(TEST_CFLAGS) $(RABBITMQ_CFLAGS) \
	$(TEST_ENV_CFLAGS)
tests_integration_test_devservers_LDADD = $(TEST_LDADD) $(MARIADB_LIBS) \
	$(RABBITMQ_LIBS)
dist_noinst_SCRIPTS += tests/run-tests
# --- end section: harness ---

# --- section: rpc ---
# RPC unit tests (no server needed).
RPC_TEST_LDADD = cells-rpc/libcellsrpc.la $(TEST_LDADD)
RPC_UNIT_TESTS = \
	tests/unit/test-poll-loop \
	tests/unit/test-transport-url \
	tests/unit/test-rpc-msg \
	tests/unit/test-rpc-version \
	tests/unit/test-rpc-dedupe \
	tests/unit/test-rpc-backoff
check_PROGRAMS += $(RPC_UNIT_TESTS)
TESTS += $(RPC_UNIT_TESTS)
tests_unit_test_poll_loop_SOURCES = tests/unit/test-poll-loop.c
tests_unit_test_poll_loop_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_poll_loop_LDADD = $(TEST_LDADD)
tests_unit_test_transport_url_SOURCES = tests/unit/test-transport-url.c
tests_unit_test_transport_url_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_transport_url_LDADD = $(RPC_TEST_LDADD)
tests_unit_test_rpc_msg_SOURCES = tests/unit/test-rpc-msg.c
tests_unit_test_rpc_msg_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_rpc_msg_LDADD = $(RPC_TEST_LDADD)
tests_unit_test_rpc_version_SOURCES = tests/unit/test-rpc-version.c
tests_unit_test_rpc_version_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_rpc_version_LDADD = $(RPC_TEST_LDADD)
tests_unit_test_rpc_dedupe_SOURCES = tests/unit/test-rpc-dedupe.c
tests_unit_test_rpc_dedupe_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_rpc_dedupe_LDADD = $(RPC_TEST_LDADD)
tests_unit_test_rpc_backoff_SOURCES = tests/unit/test-rpc-backoff.c
tests_unit_test_rpc_backoff_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_rpc_backoff_LDADD = $(RPC_TEST_LDADD)

# RPC against a real RabbitMQ (deploy/devservers, vhost "rpctest").
check_PROGRAMS += tests/integration/test-rpc
TESTS += tests/integration/test-rpc
tests_integration_test_rpc_SOURCES = tests/integration/test-rpc.c \
	$(TEST_ENV_SOURCES)
tests_integration_test_rpc_CFLAGS = $(TEST_CFLAGS) $(RABBITMQ_CFLAGS) \
	$(TEST_ENV_CFLAGS)
tests_integration_test_rpc_LDADD = $(RPC_TEST_LDADD) $(RABBITMQ_LIBS)

# Benchmark (not run by make check): tests/bench/bench-rpc URL [N].
noinst_PROGRAMS += tests/bench/bench-rpc
tests_bench_bench_rpc_SOURCES = tests/bench/bench-rpc.c
tests_bench_bench_rpc_CFLAGS = $(TEST_CFLAGS) $(RABBITMQ_CFLAGS)
tests_bench_bench_rpc_LDADD = cells-rpc/libcellsrpc.la \
	shared/libnovashared.la $(RABBITMQ_LIBS)
# --- end section: rpc ---

# --- section: cell-msg ---
CELL_MSG_LDADD = cells-rpc/libcellsrpc.la $(TEST_LDADD) $(JSONC_LIBS)
check_PROGRAMS += tests/unit/test-cell-path
TESTS += tests/unit/test-cell-path
tests_unit_test_cell_path_SOURCES = tests/unit/test-cell-path.c
tests_unit_test_cell_path_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_cell_path_LDADD = $(CELL_MSG_LDADD)
check_PROGRAMS += tests/unit/test-cell-msg
TESTS += tests/unit/test-cell-msg
tests_unit_test_cell_msg_SOURCES = tests/unit/test-cell-msg.c
tests_unit_test_cell_msg_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_cell_msg_LDADD = $(CELL_MSG_LDADD)
check_PROGRAMS += tests/unit/test-cell-router
TESTS += tests/unit/test-cell-router
tests_unit_test_cell_router_SOURCES = tests/unit/test-cell-router.c
tests_unit_test_cell_router_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_cell_router_LDADD = $(CELL_MSG_LDADD)
check_PROGRAMS += tests/unit/test-cell-links
TESTS += tests/unit/test-cell-links
tests_unit_test_cell_links_SOURCES = tests/unit/test-cell-links.c
tests_unit_test_cell_links_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_cell_links_LDADD = $(CELL_MSG_LDADD) $(RABBITMQ_LIBS)
check_PROGRAMS += tests/integration/test-cell-routing
TESTS += tests/integration/test-cell-routing
tests_integration_test_cell_routing_SOURCES = \
	tests/integration/test-cell-routing.c $(TEST_ENV_SOURCES)
tests_integration_test_cell_routing_CFLAGS = $(TEST_CFLAGS) $(TEST_ENV_CFLAGS)
tests_integration_test_cell_routing_LDADD = $(CELL_MSG_LDADD) \
	$(RABBITMQ_LIBS)
# Benchmark, built but not run by make check.
noinst_PROGRAMS += tests/bench/bench-cell-hops
tests_bench_bench_cell_hops_SOURCES = \
	tests/bench/bench-cell-hops.c $(TEST_ENV_SOURCES)
tests_bench_bench_cell_hops_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) \
	$(TEST_ENV_CFLAGS)
tests_bench_bench_cell_hops_LDADD = cells-rpc/libcellsrpc.la \
	shared/libnovashared.la $(JSONC_LIBS) $(RABBITMQ_LIBS)
# --- end section: cell-msg ---

# --- section: scheduler ---
# Scheduler placement logic: pure unit tests, and a benchmark that is built
# but not run by make check (build it without sanitizers for figures).
SCHEDULER_UNIT_TESTS = \
	tests/unit/test-sched-spec \
	tests/unit/test-sched-host \
	tests/unit/test-sched-filter \
	tests/unit/test-sched-weigh \
	tests/unit/test-sched-select
check_PROGRAMS += $(SCHEDULER_UNIT_TESTS)
TESTS += $(SCHEDULER_UNIT_TESTS)
SCHEDULER_TEST_LDADD = child-cell/libchildcell.la $(TEST_LDADD)
tests_unit_test_sched_spec_SOURCES = tests/unit/test-sched-spec.c
tests_unit_test_sched_spec_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_sched_spec_LDADD = $(SCHEDULER_TEST_LDADD)
tests_unit_test_sched_host_SOURCES = tests/unit/test-sched-host.c
tests_unit_test_sched_host_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_sched_host_LDADD = $(SCHEDULER_TEST_LDADD)
tests_unit_test_sched_filter_SOURCES = tests/unit/test-sched-filter.c
tests_unit_test_sched_filter_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_sched_filter_LDADD = $(SCHEDULER_TEST_LDADD)
tests_unit_test_sched_weigh_SOURCES = tests/unit/test-sched-weigh.c
tests_unit_test_sched_weigh_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_sched_weigh_LDADD = $(SCHEDULER_TEST_LDADD)
tests_unit_test_sched_select_SOURCES = tests/unit/test-sched-select.c
tests_unit_test_sched_select_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_sched_select_LDADD = $(SCHEDULER_TEST_LDADD)

noinst_PROGRAMS += tests/bench/bench-scheduler
tests_bench_bench_scheduler_SOURCES = tests/bench/bench-scheduler.c
tests_bench_bench_scheduler_LDADD = child-cell/libchildcell.la \
	shared/libnovashared.la
# --- end section: scheduler ---

# --- section: virt ---
# The hypervisor driver layer: domain XML against golden files, and the
# libvirt driver against libvirt's in-process test driver (no daemon).
VIRT_UNIT_TESTS = \
	tests/unit/test-virt-domain-xml \
	tests/unit/test-virt-libvirt
check_PROGRAMS += $(VIRT_UNIT_TESTS)
TESTS += $(VIRT_UNIT_TESTS)
VIRT_TEST_CFLAGS = $(TEST_CFLAGS) $(LIBVIRT_CFLAGS) \
	-DTEST_DOMAIN_XML_DIR='"$(abs_top_srcdir)/tests/data/domain-xml"'
VIRT_TEST_LDADD = child-cell/libchildcell.la $(TEST_LDADD) $(LIBVIRT_LIBS) \
	$(JSONC_LIBS)
tests_unit_test_virt_domain_xml_SOURCES = tests/unit/test-virt-domain-xml.c
tests_unit_test_virt_domain_xml_CFLAGS = $(VIRT_TEST_CFLAGS)
tests_unit_test_virt_domain_xml_LDADD = $(VIRT_TEST_LDADD)
tests_unit_test_virt_libvirt_SOURCES = tests/unit/test-virt-libvirt.c
tests_unit_test_virt_libvirt_CFLAGS = $(VIRT_TEST_CFLAGS)
tests_unit_test_virt_libvirt_LDADD = $(VIRT_TEST_LDADD)
EXTRA_DIST += \
	tests/data/domain-xml/disk-boot.in \
	tests/data/domain-xml/disk-boot.out \
	tests/data/domain-xml/kernel-and-disk.in \
	tests/data/domain-xml/kernel-and-disk.out \
	tests/data/domain-xml/kernel-boot.in \
	tests/data/domain-xml/kernel-boot.out \
	tests/data/domain-xml/special-chars.in \
	tests/data/domain-xml/special-chars.out \
	tests/data/domain-xml/test-type.in \
	tests/data/domain-xml/test-type.out
# --- end section: virt ---

# --- section: syntax-check ---
# Grep checks of the house rules over the C sources (a TAP shell script;
# "make syntax-check" runs it alone).
TESTS += tests/syntax-check
EXTRA_DIST += tests/syntax-check
syntax-check:
	$(AM_V_GEN)top_srcdir='$(abs_top_srcdir)' $(SHELL) \
	  $(abs_top_srcdir)/tests/syntax-check
.PHONY: syntax-check
# --- end section: syntax-check ---

# --- section: api-http ---
# nova-api's HTTP core: request parsing and the router, microversions
# (unit tests), and the real libmicrohttpd server driven over HTTP with
# libcurl (integration test; it needs neither MariaDB nor RabbitMQ).
API_HTTP_TEST_CFLAGS = $(TEST_CFLAGS) $(MHD_CFLAGS)
API_HTTP_TEST_LDADD = api-cell/libapihttp.la $(TEST_LDADD) $(JSONC_LIBS) \
	$(MHD_LIBS) $(PTHREAD_LIBS)
check_PROGRAMS += tests/unit/test-http-router tests/unit/test-api-version
TESTS += tests/unit/test-http-router tests/unit/test-api-version
tests_unit_test_http_router_SOURCES = tests/unit/test-http-router.c
tests_unit_test_http_router_CFLAGS = $(API_HTTP_TEST_CFLAGS)
tests_unit_test_http_router_LDADD = $(API_HTTP_TEST_LDADD)
tests_unit_test_api_version_SOURCES = tests/unit/test-api-version.c
tests_unit_test_api_version_CFLAGS = $(API_HTTP_TEST_CFLAGS)
tests_unit_test_api_version_LDADD = $(API_HTTP_TEST_LDADD)
# libcurl is the client.  The test also runs the nova-api binary, so it
# depends on it.
API_HTTP_CURL_LIBS = $(LIBCURL_LIBS)
check_PROGRAMS += tests/integration/test-api-http
TESTS += tests/integration/test-api-http
tests_integration_test_api_http_SOURCES = tests/integration/test-api-http.c
tests_integration_test_api_http_CFLAGS = $(API_HTTP_TEST_CFLAGS) \
	-DTEST_API_BUILDDIR='"$(abs_top_builddir)"'
tests_integration_test_api_http_LDADD = $(API_HTTP_TEST_LDADD) \
	$(API_HTTP_CURL_LIBS)
EXTRA_tests_integration_test_api_http_DEPENDENCIES = api-cell/nova-api$(EXEEXT)
# --- end section: api-http ---

# --- section: identity ---
# The identity service and the policy module: unit tests (no server), and
# the identity store, tokens and nova-manage commands against a real
# MariaDB.
IDENTITY_TEST_LDADD = $(IDENTITY_LDADD) $(CMOCKA_LIBS)
IDENTITY_UNIT_TESTS = \
	tests/unit/test-identity-password \
	tests/unit/test-identity-token \
	tests/unit/test-policy
check_PROGRAMS += $(IDENTITY_UNIT_TESTS)
TESTS += $(IDENTITY_UNIT_TESTS)
tests_unit_test_identity_password_SOURCES = \
	tests/unit/test-identity-password.c
tests_unit_test_identity_password_CFLAGS = $(TEST_CFLAGS) $(OPENSSL_CFLAGS)
tests_unit_test_identity_password_LDADD = $(IDENTITY_TEST_LDADD)
tests_unit_test_identity_token_SOURCES = tests/unit/test-identity-token.c
tests_unit_test_identity_token_CFLAGS = $(TEST_CFLAGS) $(OPENSSL_CFLAGS)
tests_unit_test_identity_token_LDADD = $(IDENTITY_TEST_LDADD)
tests_unit_test_policy_SOURCES = tests/unit/test-policy.c
tests_unit_test_policy_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_policy_LDADD = $(IDENTITY_TEST_LDADD)
# Against a real MariaDB; runs api-cell/nova-manage and nova-api's HTTP
# server (port 0).
check_PROGRAMS += tests/integration/test-identity
TESTS += tests/integration/test-identity
tests_integration_test_identity_SOURCES = \
	tests/integration/test-identity.c $(TEST_ENV_SOURCES)
tests_integration_test_identity_CFLAGS = $(TEST_CFLAGS) $(TEST_ENV_CFLAGS) \
	-DTEST_IDENTITY_BUILDDIR='"$(abs_top_builddir)"'
tests_integration_test_identity_LDADD = api-cell/libidentity.la \
	$(API_HTTP_LDADD) $(OPENSSL_LIBS) $(CMOCKA_LIBS)
# --- end section: identity ---

# --- section: conductor ---
# nova-conductor and nova-scheduler: pure logic (the select_destinations
# wire form, the server action state checks) as unit tests.
CONDUCTOR_UNIT_TESTS = \
	tests/unit/test-conductor-select \
	tests/unit/test-conductor-actions
check_PROGRAMS += $(CONDUCTOR_UNIT_TESTS)
TESTS += $(CONDUCTOR_UNIT_TESTS)
CONDUCTOR_TEST_LDADD = child-cell/libchildcell.la $(TEST_LDADD) $(JSONC_LIBS) \
	-lm
tests_unit_test_conductor_select_SOURCES = tests/unit/test-conductor-select.c
tests_unit_test_conductor_select_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_conductor_select_LDADD = $(CONDUCTOR_TEST_LDADD)
tests_unit_test_conductor_actions_SOURCES = \
	tests/unit/test-conductor-actions.c
tests_unit_test_conductor_actions_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_conductor_actions_LDADD = $(CONDUCTOR_TEST_LDADD)

# Against a real MariaDB and RabbitMQ, with the real daemons as child
# processes and the compute hosts played by the test; also runs
# nova-manage's service commands.
check_PROGRAMS += tests/integration/test-conductor
TESTS += tests/integration/test-conductor
tests_integration_test_conductor_SOURCES = \
	tests/integration/test-conductor.c $(TEST_ENV_SOURCES)
tests_integration_test_conductor_CFLAGS = $(TEST_CFLAGS) $(TEST_ENV_CFLAGS) \
	-DTEST_CONDUCTOR_BUILDDIR='"$(abs_top_builddir)"'
tests_integration_test_conductor_LDADD = child-cell/libchildcell.la \
	cells-rpc/libcellsrpc.la $(TEST_LDADD) $(JSONC_LIBS) $(RABBITMQ_LIBS) \
	$(MARIADB_LIBS) $(PTHREAD_LIBS) -lm
EXTRA_tests_integration_test_conductor_DEPENDENCIES = \
	child-cell/nova-conductor child-cell/nova-scheduler \
	child-cell/nova-compute api-cell/nova-manage

# Benchmark, built but not run by make check: tests/bench/bench-leaf-boot
# [N [M [BATCH]]] boots N instances on M fake hosts through an in-process
# conductor and scheduler (build it without sanitizers for figures).
noinst_PROGRAMS += tests/bench/bench-leaf-boot
tests_bench_bench_leaf_boot_SOURCES = tests/bench/bench-leaf-boot.c \
	$(TEST_ENV_SOURCES)
tests_bench_bench_leaf_boot_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) \
	$(TEST_ENV_CFLAGS)
tests_bench_bench_leaf_boot_LDADD = child-cell/libchildcell.la \
	cells-rpc/libcellsrpc.la shared/libnovashared.la $(JSONC_LIBS) \
	$(RABBITMQ_LIBS) $(MARIADB_LIBS) $(PTHREAD_LIBS) -lm
# --- end section: conductor ---

# --- section: object-model ---
# The instance and flavor objects (unit), and the cell database access
# against a real MariaDB (integration).
check_PROGRAMS += tests/unit/test-flavor tests/unit/test-instance
TESTS += tests/unit/test-flavor tests/unit/test-instance
tests_unit_test_flavor_SOURCES = tests/unit/test-flavor.c
tests_unit_test_flavor_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_flavor_LDADD = $(TEST_LDADD) $(JSONC_LIBS)
tests_unit_test_instance_SOURCES = tests/unit/test-instance.c
tests_unit_test_instance_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_instance_LDADD = $(TEST_LDADD) $(JSONC_LIBS)
check_PROGRAMS += tests/integration/test-cell-db
TESTS += tests/integration/test-cell-db
tests_integration_test_cell_db_SOURCES = tests/integration/test-cell-db.c \
	$(TEST_ENV_SOURCES)
tests_integration_test_cell_db_CFLAGS = $(TEST_CFLAGS) $(TEST_ENV_CFLAGS)
tests_integration_test_cell_db_LDADD = child-cell/libchildcell.la \
	$(TEST_LDADD) $(JSONC_LIBS)
# --- end section: object-model ---

# --- section: compute ---
# nova-compute: pure logic (power-state sync and recovery decisions, specs
# and per-instance files, the worker pool), then the service against a
# real RabbitMQ with simulated hosts on libvirt's test driver, and the
# binary itself.
COMPUTE_TEST_CFLAGS = $(TEST_CFLAGS) $(LIBVIRT_CFLAGS)
COMPUTE_TEST_LDADD = child-cell/libchildcell.la cells-rpc/libcellsrpc.la \
	$(TEST_LDADD) $(LIBVIRT_LIBS) $(JSONC_LIBS) $(RABBITMQ_LIBS)
COMPUTE_UNIT_TESTS = \
	tests/unit/test-compute-sync \
	tests/unit/test-compute-spec \
	tests/unit/test-compute-workers
check_PROGRAMS += $(COMPUTE_UNIT_TESTS)
TESTS += $(COMPUTE_UNIT_TESTS)
tests_unit_test_compute_sync_SOURCES = tests/unit/test-compute-sync.c
tests_unit_test_compute_sync_CFLAGS = $(COMPUTE_TEST_CFLAGS)
tests_unit_test_compute_sync_LDADD = $(COMPUTE_TEST_LDADD)
tests_unit_test_compute_spec_SOURCES = tests/unit/test-compute-spec.c
tests_unit_test_compute_spec_CFLAGS = $(COMPUTE_TEST_CFLAGS)
tests_unit_test_compute_spec_LDADD = $(COMPUTE_TEST_LDADD)
tests_unit_test_compute_workers_SOURCES = tests/unit/test-compute-workers.c
tests_unit_test_compute_workers_CFLAGS = $(COMPUTE_TEST_CFLAGS)
tests_unit_test_compute_workers_LDADD = $(COMPUTE_TEST_LDADD)

check_PROGRAMS += tests/integration/test-compute
TESTS += tests/integration/test-compute
tests_integration_test_compute_SOURCES = tests/integration/test-compute.c \
	$(TEST_ENV_SOURCES)
tests_integration_test_compute_CFLAGS = $(COMPUTE_TEST_CFLAGS) \
	$(TEST_ENV_CFLAGS) -DTEST_COMPUTE_BUILDDIR='"$(abs_top_builddir)"'
tests_integration_test_compute_LDADD = $(COMPUTE_TEST_LDADD)
# The test runs the binary too.
EXTRA_tests_integration_test_compute_DEPENDENCIES = \
	child-cell/nova-compute$(EXEEXT)
# --- end section: compute ---

# --- section: cell-sched ---
# Cell scheduling: capacity reports, the per-child circuit breaker and the
# cell scheduler (pure unit tests), and a benchmark that is built but not
# run by make check (build it without sanitizers for figures).
CELL_SCHED_UNIT_TESTS = \
	tests/unit/test-cell-capacity \
	tests/unit/test-cell-health \
	tests/unit/test-cell-sched
check_PROGRAMS += $(CELL_SCHED_UNIT_TESTS)
TESTS += $(CELL_SCHED_UNIT_TESTS)
CELL_SCHED_TEST_LDADD = cells-rpc/libcellsrpc.la $(TEST_LDADD) $(JSONC_LIBS)
tests_unit_test_cell_capacity_SOURCES = tests/unit/test-cell-capacity.c
tests_unit_test_cell_capacity_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_cell_capacity_LDADD = $(CELL_SCHED_TEST_LDADD)
tests_unit_test_cell_health_SOURCES = tests/unit/test-cell-health.c
tests_unit_test_cell_health_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_cell_health_LDADD = $(CELL_SCHED_TEST_LDADD)
tests_unit_test_cell_sched_SOURCES = tests/unit/test-cell-sched.c
tests_unit_test_cell_sched_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_cell_sched_LDADD = $(CELL_SCHED_TEST_LDADD)

noinst_PROGRAMS += tests/bench/bench-cell-sched
tests_bench_bench_cell_sched_SOURCES = tests/bench/bench-cell-sched.c
tests_bench_bench_cell_sched_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
tests_bench_bench_cell_sched_LDADD = cells-rpc/libcellsrpc.la \
	shared/libnovashared.la $(JSONC_LIBS)
# --- end section: cell-sched ---

# --- section: topology ---
# cells.yaml: good and bad files (each bad one with its exact message),
# limits and the example of deploy/ (unit); the cell registry and the
# "nova-manage cell" commands against a real MariaDB (integration).
TOPOLOGY_TEST_CFLAGS = $(TEST_CFLAGS) \
	-DTEST_TOPOLOGY_DATA_DIR='"$(abs_top_srcdir)/tests/data/topology"'
check_PROGRAMS += tests/unit/test-topology
TESTS += tests/unit/test-topology
tests_unit_test_topology_SOURCES = tests/unit/test-topology.c
tests_unit_test_topology_CFLAGS = $(TOPOLOGY_TEST_CFLAGS) \
	-DTEST_TOPOLOGY_EXAMPLE='"$(abs_top_srcdir)/deploy/cells.yaml.example"'
tests_unit_test_topology_LDADD = cells-rpc/libcellsrpc.la $(TEST_LDADD) \
	$(JSONC_LIBS) $(YAML_LIBS)
check_PROGRAMS += tests/integration/test-cell-registry
TESTS += tests/integration/test-cell-registry
tests_integration_test_cell_registry_SOURCES = \
	tests/integration/test-cell-registry.c $(TEST_ENV_SOURCES)
tests_integration_test_cell_registry_CFLAGS = $(TOPOLOGY_TEST_CFLAGS) \
	$(TEST_ENV_CFLAGS)
tests_integration_test_cell_registry_LDADD = $(CELL_REGISTRY_LDADD) \
	$(TEST_LDADD)
EXTRA_DIST += \
	deploy/cells.yaml.example \
	tests/data/topology/bad-alias.yaml \
	tests/data/topology/bad-capabilities-list.yaml \
	tests/data/topology/bad-capability-empty.yaml \
	tests/data/topology/bad-capability-mapping.yaml \
	tests/data/topology/bad-cell-scalar.yaml \
	tests/data/topology/bad-cells-empty.yaml \
	tests/data/topology/bad-cells-null.yaml \
	tests/data/topology/bad-cycle.yaml \
	tests/data/topology/bad-database-no-db.yaml \
	tests/data/topology/bad-database-port.yaml \
	tests/data/topology/bad-depth.yaml \
	tests/data/topology/bad-disabled.yaml \
	tests/data/topology/bad-duplicate-key.yaml \
	tests/data/topology/bad-duplicate-name.yaml \
	tests/data/topology/bad-hosts-no-database.yaml \
	tests/data/topology/bad-leaf-no-database.yaml \
	tests/data/topology/bad-leaf-no-hosts.yaml \
	tests/data/topology/bad-name-chars.yaml \
	tests/data/topology/bad-name-long.yaml \
	tests/data/topology/bad-name-type.yaml \
	tests/data/topology/bad-no-name.yaml \
	tests/data/topology/bad-no-root.yaml \
	tests/data/topology/bad-no-transport.yaml \
	tests/data/topology/bad-path-long.yaml \
	tests/data/topology/bad-root-hosts.yaml \
	tests/data/topology/bad-self-parent.yaml \
	tests/data/topology/bad-syntax.yaml \
	tests/data/topology/bad-top-key.yaml \
	tests/data/topology/bad-top-sequence.yaml \
	tests/data/topology/bad-transport-port.yaml \
	tests/data/topology/bad-transport-scheme.yaml \
	tests/data/topology/bad-two-roots.yaml \
	tests/data/topology/bad-unknown-key.yaml \
	tests/data/topology/bad-unknown-parent.yaml \
	tests/data/topology/bad-weight-nan.yaml \
	tests/data/topology/bad-weight.yaml \
	tests/data/topology/bad-zones-duplicate.yaml \
	tests/data/topology/bad-zones-scalar.yaml \
	tests/data/topology/good-minimal.yaml \
	tests/data/topology/good-regions.yaml
# --- end section: topology ---

# --- section: real-guest ---
# A real QEMU guest (TCG) booted through the libvirt driver and through
# nova-compute's manager, under the private libvirtd of deploy/devservers
# (--with-libvirt).  The guest image comes from deploy/build-guest-image.
dist_noinst_SCRIPTS += deploy/build-guest-image
check_PROGRAMS += tests/integration/test-real-guest
TESTS += tests/integration/test-real-guest
tests_integration_test_real_guest_SOURCES = \
	tests/integration/test-real-guest.c $(TEST_ENV_SOURCES)
tests_integration_test_real_guest_CFLAGS = $(TEST_CFLAGS) $(LIBVIRT_CFLAGS) \
	$(TEST_ENV_CFLAGS) -DTEST_REAL_GUEST_BUILDDIR='"$(abs_top_builddir)"'
tests_integration_test_real_guest_LDADD = child-cell/libchildcell.la \
	cells-rpc/libcellsrpc.la $(TEST_LDADD) $(LIBVIRT_LIBS) $(JSONC_LIBS) \
	$(RABBITMQ_LIBS) $(PTHREAD_LIBS)
# --- end section: real-guest ---

# --- section: services-hypervisors ---
# The leaf's service, compute node and instance action queries against a
# real MariaDB.
check_PROGRAMS += tests/integration/test-cells-queries
TESTS += tests/integration/test-cells-queries
tests_integration_test_cells_queries_SOURCES = \
	tests/integration/test-cells-queries.c $(TEST_ENV_SOURCES)
tests_integration_test_cells_queries_CFLAGS = $(TEST_CFLAGS) \
	$(TEST_ENV_CFLAGS)
tests_integration_test_cells_queries_LDADD = child-cell/libchildcell.la \
	$(TEST_LDADD) $(JSONC_LIBS)
# os-services and os-hypervisors over HTTP, with a stand-in nova-cells
# answering from a real cell database.
check_PROGRAMS += tests/integration/test-services-api
TESTS += tests/integration/test-services-api
tests_integration_test_services_api_SOURCES = \
	tests/integration/test-services-api.c $(TEST_ENV_SOURCES)
tests_integration_test_services_api_CFLAGS = $(TEST_CFLAGS) \
	$(TEST_ENV_CFLAGS) $(MHD_CFLAGS)
tests_integration_test_services_api_LDADD = $(COMPUTE_API_LDADD) \
	child-cell/libchildcell.la $(TEST_LDADD) $(JSONC_LIBS)
# --- end section: services-hypervisors ---

# --- section: nova-cells ---
# nova-cells in a tree of five cells (two and three levels) against a real
# MariaDB and RabbitMQ, with every cell's daemons as child processes and
# simulated compute hosts: builds down, state up, actions, capacity
# reports, no valid host, service_list.
check_PROGRAMS += tests/integration/test-nova-cells
TESTS += tests/integration/test-nova-cells
tests_integration_test_nova_cells_SOURCES = \
	tests/integration/test-nova-cells.c $(TEST_ENV_SOURCES)
tests_integration_test_nova_cells_CFLAGS = $(TEST_CFLAGS) $(TEST_ENV_CFLAGS) \
	-DTEST_NOVA_CELLS_BUILDDIR='"$(abs_top_builddir)"'
tests_integration_test_nova_cells_LDADD = $(COMPUTE_API_LDADD) \
	cells-rpc/libcellsrpc.la $(TEST_LDADD) $(JSONC_LIBS) $(RABBITMQ_LIBS) \
	$(MARIADB_LIBS) $(PTHREAD_LIBS) -lm
EXTRA_tests_integration_test_nova_cells_DEPENDENCIES = \
	child-cell/nova-cells child-cell/nova-conductor \
	child-cell/nova-scheduler child-cell/nova-compute
# --- end section: nova-cells ---

# --- section: top-view ---
# The top view of instances (against a real MariaDB) and the client of
# the API cell's nova-cells (against a real RabbitMQ, with the broker
# stopped and started again).
check_PROGRAMS += tests/integration/test-top-view
TESTS += tests/integration/test-top-view
tests_integration_test_top_view_SOURCES = \
	tests/integration/test-top-view.c $(TEST_ENV_SOURCES)
tests_integration_test_top_view_CFLAGS = $(TEST_CFLAGS) $(TEST_ENV_CFLAGS)
tests_integration_test_top_view_LDADD = $(COMPUTE_API_LDADD) $(CMOCKA_LIBS)
check_PROGRAMS += tests/integration/test-cells-client
TESTS += tests/integration/test-cells-client
tests_integration_test_cells_client_SOURCES = \
	tests/integration/test-cells-client.c $(TEST_ENV_SOURCES)
tests_integration_test_cells_client_CFLAGS = $(TEST_CFLAGS) \
	$(RABBITMQ_CFLAGS) $(TEST_ENV_CFLAGS)
tests_integration_test_cells_client_LDADD = $(COMPUTE_API_LDADD) \
	$(CMOCKA_LIBS)
# --- end section: top-view ---

# --- section: servers-api ---
# The servers API: its body and query validation (unit, every message),
# and the whole resource over HTTP against a real MariaDB and RabbitMQ,
# the test playing nova-cells on the API cell's vhost.
check_PROGRAMS += tests/unit/test-servers-validate
TESTS += tests/unit/test-servers-validate
tests_unit_test_servers_validate_SOURCES = \
	tests/unit/test-servers-validate.c
tests_unit_test_servers_validate_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_servers_validate_LDADD = $(COMPUTE_API_LDADD) \
	$(OPENSSL_LIBS) $(CMOCKA_LIBS)
check_PROGRAMS += tests/integration/test-servers-api
TESTS += tests/integration/test-servers-api
tests_integration_test_servers_api_SOURCES = \
	tests/integration/test-servers-api.c $(TEST_ENV_SOURCES)
tests_integration_test_servers_api_CFLAGS = $(TEST_CFLAGS) \
	$(RABBITMQ_CFLAGS) $(MHD_CFLAGS) $(TEST_ENV_CFLAGS)
tests_integration_test_servers_api_LDADD = $(COMPUTE_API_LDADD) \
	$(OPENSSL_LIBS) $(CMOCKA_LIBS)
# --- end section: servers-api ---

# --- section: images ---
# The image service over HTTP against a real MariaDB: upload, download,
# checksums, patch, visibility, pagination, size limit, interrupted
# uploads, and image_db_get_for_boot().
check_PROGRAMS += tests/integration/test-images
TESTS += tests/integration/test-images
tests_integration_test_images_SOURCES = \
	tests/integration/test-images.c $(TEST_ENV_SOURCES)
tests_integration_test_images_CFLAGS = $(TEST_CFLAGS) $(MHD_CFLAGS) \
	$(OPENSSL_CFLAGS) $(TEST_ENV_CFLAGS)
tests_integration_test_images_LDADD = $(COMPUTE_API_LDADD) \
	$(OPENSSL_LIBS) $(CMOCKA_LIBS)
# --- end section: images ---

# --- section: flavors-keypairs-quotas ---
# Flavors, keypairs, quotas, limits and availability zones of the compute
# API: the pure parts (public keys, names, generated keys, quota messages,
# flavor bodies) as unit tests, and the HTTP API against a real MariaDB.
FKQ_TEST_LDADD = $(COMPUTE_API_LDADD) $(OPENSSL_LIBS) $(CMOCKA_LIBS)
check_PROGRAMS += tests/unit/test-keypairs-quotas
TESTS += tests/unit/test-keypairs-quotas
tests_unit_test_keypairs_quotas_SOURCES = tests/unit/test-keypairs-quotas.c
tests_unit_test_keypairs_quotas_CFLAGS = $(TEST_CFLAGS) $(MHD_CFLAGS)
tests_unit_test_keypairs_quotas_LDADD = $(FKQ_TEST_LDADD)
check_PROGRAMS += tests/integration/test-flavors-keypairs-quotas
TESTS += tests/integration/test-flavors-keypairs-quotas
tests_integration_test_flavors_keypairs_quotas_SOURCES = \
	tests/integration/test-flavors-keypairs-quotas.c $(TEST_ENV_SOURCES)
tests_integration_test_flavors_keypairs_quotas_CFLAGS = $(TEST_CFLAGS) \
	$(MHD_CFLAGS) $(TEST_ENV_CFLAGS)
tests_integration_test_flavors_keypairs_quotas_LDADD = $(FKQ_TEST_LDADD)
# --- end section: flavors-keypairs-quotas ---

# --- section: cloud-e2e ---
# The whole cloud, started by deploy/cloud from this build tree against the
# run's private servers, driven by the real openstack CLI (skipped when it
# is not installed).
TESTS += tests/integration/test-cloud-e2e
EXTRA_DIST += tests/integration/test-cloud-e2e
# --- end section: cloud-e2e ---

# --- section: real-cloud ---
# A cloud whose leaf runs real QEMU guests (deploy/cloud --real on the
# run's libvirtd): AMI-style images uploaded with the openstack CLI, a
# boot, a snapshot of the running guest booted again, a build no cell can
# place (skipped when no QEMU guest can run here).
TESTS += tests/integration/test-real-cloud
EXTRA_DIST += tests/integration/test-real-cloud
# --- end section: real-cloud ---

# --- section: bench-api ---
# The whole-cloud benchmark: tests/bench/run-bench starts private servers
# and a 3-level cloud with deploy/cloud and drives nova-api with the load
# generator bench-api-load (built, not run by make check; build without
# sanitizers for figures).  test-bench-smoke runs it with tiny parameters
# against the run's private servers.
noinst_PROGRAMS += tests/bench/bench-api-load
tests_bench_bench_api_load_SOURCES = tests/bench/bench-api-load.c
tests_bench_bench_api_load_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) \
	$(LIBCURL_CFLAGS)
tests_bench_bench_api_load_LDADD = shared/libnovashared.la $(JSONC_LIBS) \
	$(LIBCURL_LIBS) $(PTHREAD_LIBS)
TESTS += tests/bench/test-bench-smoke
EXTRA_DIST += tests/bench/run-bench tests/bench/test-bench-smoke
# --- end section: bench-api ---

# --- section: image-cache ---
# nova-compute's image cache against nova-api's real image service over
# HTTP and a real MariaDB: downloads and checksums, cache hits, 20
# concurrent builds downloading once, token refresh, AMI files, the qcow2
# overlay (skipped without qemu-img) and the cleanup.
check_PROGRAMS += tests/integration/test-image-cache
TESTS += tests/integration/test-image-cache
tests_integration_test_image_cache_SOURCES = \
	tests/integration/test-image-cache.c $(TEST_ENV_SOURCES)
tests_integration_test_image_cache_CFLAGS = $(TEST_CFLAGS) $(MHD_CFLAGS) \
	$(LIBCURL_CFLAGS) $(LIBVIRT_CFLAGS) $(TEST_ENV_CFLAGS)
tests_integration_test_image_cache_LDADD = child-cell/libchildcell.la \
	$(COMPUTE_API_LDADD) $(LIBCURL_LIBS) $(OPENSSL_LIBS) $(CMOCKA_LIBS) \
	$(PTHREAD_LIBS) -lm
# --- end section: image-cache ---

# --- section: cells-tree ---
# A three-level tree of six cells against a real MariaDB and RabbitMQ:
# a cell with a child and hosts of its own, heal of the top view (on
# demand and through nova-manage), out-of-order updates, 1,000 boots
# compared with the leaves by SQL, a mute child.
check_PROGRAMS += tests/integration/test-cells-tree
TESTS += tests/integration/test-cells-tree
tests_integration_test_cells_tree_SOURCES = \
	tests/integration/test-cells-tree.c $(TEST_ENV_SOURCES)
tests_integration_test_cells_tree_CFLAGS = $(TEST_CFLAGS) $(TEST_ENV_CFLAGS) \
	-DTEST_CELLS_TREE_BUILDDIR='"$(abs_top_builddir)"'
tests_integration_test_cells_tree_LDADD = $(COMPUTE_API_LDADD) \
	cells-rpc/libcellsrpc.la $(TEST_LDADD) $(JSONC_LIBS) $(RABBITMQ_LIBS) \
	$(MARIADB_LIBS) $(PTHREAD_LIBS) -lm
EXTRA_tests_integration_test_cells_tree_DEPENDENCIES = \
	child-cell/nova-cells child-cell/nova-conductor \
	child-cell/nova-scheduler child-cell/nova-compute api-cell/nova-manage
# --- end section: cells-tree ---

# --- section: snapshot ---
# createImage and createBackup through the HTTP API of a whole cloud that
# deploy/cloud starts from this build tree (simulated hosts).
check_PROGRAMS += tests/integration/test-snapshot
TESTS += tests/integration/test-snapshot
tests_integration_test_snapshot_SOURCES = \
	tests/integration/test-snapshot.c $(TEST_ENV_SOURCES)
tests_integration_test_snapshot_CFLAGS = $(TEST_CFLAGS) $(LIBCURL_CFLAGS) \
	$(TEST_ENV_CFLAGS) \
	-DTEST_SNAPSHOT_BUILDDIR='"$(abs_top_builddir)"'
tests_integration_test_snapshot_LDADD = $(TEST_LDADD) $(LIBCURL_LIBS) \
	$(JSONC_LIBS)
# --- end section: snapshot ---

# --- section: cells-admin ---
# The cell-aware admin tools against a real MariaDB and RabbitMQ, with the
# real nova-cells of a three-level tree as child processes: health rows
# for every cell, a killed leaf shown mute, nova-manage cell list /
# capacities / discover_hosts, host list, instance locate, service list /
# disable / enable / force-down through the tree (run as the real
# nova-manage), the os-cells API over HTTP, and server actions refused
# with 503 while the server's cell is mute.
check_PROGRAMS += tests/integration/test-cells-admin
TESTS += tests/integration/test-cells-admin
tests_integration_test_cells_admin_SOURCES = \
	tests/integration/test-cells-admin.c $(TEST_ENV_SOURCES)
tests_integration_test_cells_admin_CFLAGS = $(TEST_CFLAGS) \
	$(TEST_ENV_CFLAGS) $(MHD_CFLAGS) \
	-DTEST_CELLS_ADMIN_BUILDDIR='"$(abs_top_builddir)"'
tests_integration_test_cells_admin_LDADD = $(COMPUTE_API_LDADD) \
	$(CELL_REGISTRY_LDADD) $(TEST_LDADD) $(JSONC_LIBS) $(MARIADB_LIBS) \
	$(PTHREAD_LIBS) -lm
EXTRA_tests_integration_test_cells_admin_DEPENDENCIES = \
	child-cell/nova-cells api-cell/nova-manage
# --- end section: cells-admin ---

# --- section: quickstart-test ---
# deploy/quickstart up, status, up again and stop with this build tree
# (--no-build) in a scratch state directory, and the example nova.yaml and
# cells.yaml files of deploy/ loaded by their programs (skipped without the
# openstack CLI).
TESTS += tests/integration/test-quickstart
EXTRA_DIST += tests/integration/test-quickstart
# --- end section: quickstart-test ---
