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
	shared/log.h shared/log.c \
	shared/daemon.h shared/daemon.c

# --- section: json-util, uuid-util, timeutil ---
# JSON request parsing and typed getters, UUID strings, clocks and
# timestamp formats.
shared_libnovashared_la_SOURCES += \
	shared/json-util.h shared/json-util.c \
	shared/uuid-util.h shared/uuid-util.c \
	shared/timeutil.h shared/timeutil.c
# --- end section: json-util, uuid-util, timeutil ---

# --- section: config ---
shared_libnovashared_la_SOURCES += shared/config.h shared/config.c
# --- end section: config ---

# --- section: db ---
# --- end section: db ---

# --- section: poll-loop ---
# --- end section: poll-loop ---
