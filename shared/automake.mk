# shared/automake.mk: the common library every daemon links.
# Included by the top-level Makefile.am; paths are from the top.
noinst_LTLIBRARIES += shared/libnovashared.la

shared_libnovashared_la_CFLAGS = $(AM_CFLAGS) \
	$(JSONC_CFLAGS) $(YAML_CFLAGS) $(MARIADB_CFLAGS) $(UUID_CFLAGS) \
	$(OPENSSL_CFLAGS)
shared_libnovashared_la_LIBADD = \
	$(JSONC_LIBS) $(YAML_LIBS) $(MARIADB_LIBS) $(UUID_LIBS) \
	$(OPENSSL_LIBS) $(PTHREAD_LIBS)

# Core: compiler attributes, allocation, cleanup, errors, logging.
shared_libnovashared_la_SOURCES = \
	shared/compiler.h \
	shared/cleanup.h \
	shared/xalloc.h shared/xalloc.c \
	shared/error.h shared/error.c \
	shared/log.h shared/log.c

# JSON helpers, UUIDs and time (shared/json-util, shared/uuid-util,
# shared/timeutil).
shared_libnovashared_la_SOURCES +=

# Configuration (shared/config).
shared_libnovashared_la_SOURCES +=

# Database access and schema migrations (shared/db*).
shared_libnovashared_la_SOURCES +=
