# tests/automake.mk: unit tests (cmocka, TAP output) and integration tests
# against real servers.  Included by the top-level Makefile.am.
EXTRA_DIST += tests/lsan.supp

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

# --- section: json-util, uuid-util, timeutil ---
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
# --- end section: db ---

# --- section: harness ---
# --- end section: harness ---

# --- section: rpc ---
# --- end section: rpc ---

# --- section: cell-msg ---
# --- end section: cell-msg ---

# --- section: scheduler ---
# --- end section: scheduler ---

# --- section: virt ---
# --- end section: virt ---

# --- section: syntax-check ---
# --- end section: syntax-check ---
