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
shared_libnovashared_la_SOURCES += shared/config.h shared/config.c \
	shared/yaml-tree.h shared/yaml-tree.c
# --- end section: config ---

# --- section: db ---
# Database access (shared/db*) and the schema migrations, which
# build-aux/sql2c.sh embeds at build time into shared/db-migrations.c.
# Migrations are append-only: to add one, add the file and a line here.
DB_MIGRATIONS_API = \
	shared/db/migrations/api/0001_initial.sql
DB_MIGRATIONS_CELL = \
	shared/db/migrations/cell/0001_initial.sql

shared_libnovashared_la_SOURCES += \
	shared/db-url.h shared/db-url.c \
	shared/db.h shared/db.c \
	shared/db-migrate.h shared/db-migrate.c
nodist_shared_libnovashared_la_SOURCES = shared/db-migrations.c
BUILT_SOURCES += shared/db-migrations.c
CLEANFILES += shared/db-migrations.c shared/db-migrations.c.tmp
EXTRA_DIST += build-aux/sql2c.sh $(DB_MIGRATIONS_API) $(DB_MIGRATIONS_CELL)

shared/db-migrations.c: $(DB_MIGRATIONS_API) $(DB_MIGRATIONS_CELL) \
		build-aux/sql2c.sh
	$(AM_V_GEN)api=; cell=; \
	for f in $(DB_MIGRATIONS_API); do api="$$api $(srcdir)/$$f"; done; \
	for f in $(DB_MIGRATIONS_CELL); do cell="$$cell $(srcdir)/$$f"; done; \
	$(MKDIR_P) shared && \
	$(SHELL) $(srcdir)/build-aux/sql2c.sh --schema api $$api \
		--schema cell $$cell > $@.tmp && \
	mv -f $@.tmp $@
# --- end section: db ---

# --- section: poll-loop ---
# The single-thread event loop of the daemons (OVS style run/wait/block).
shared_libnovashared_la_SOURCES += shared/poll-loop.h shared/poll-loop.c
# --- end section: poll-loop ---

# --- section: object-model ---
# The instance and flavor objects, their states and their JSON forms.
shared_libnovashared_la_SOURCES += \
	shared/flavor.h shared/flavor.c \
	shared/instance.h shared/instance.c
# Cell schema additions for the object model and the claims.
DB_MIGRATIONS_CELL += \
	shared/db/migrations/cell/0002_image_and_claims.sql
# --- end section: object-model ---

# --- section: topology ---
# The cell tree declared in cells.yaml.  It checks names and transport URLs
# with cells-rpc (cell-path.c, transport-url.c), so a program that calls it
# links cells-rpc/libcellsrpc.la, which carries this library's objects too.
shared_libnovashared_la_SOURCES += shared/topology.h shared/topology.c
# --- end section: topology ---
