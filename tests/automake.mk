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
