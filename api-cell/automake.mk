# api-cell/automake.mk: included by the top-level Makefile.am; paths are from the top.

# --- section: db ---
# nova-manage: the administration command line (schema sync and versions
# for now; cell, service, host and instance commands to come).
bin_PROGRAMS += api-cell/nova-manage
api_cell_nova_manage_SOURCES = api-cell/nova-manage.c
api_cell_nova_manage_LDADD = shared/libnovashared.la
# --- end section: db ---

# --- section: identity ---
# The built-in identity service (a Keystone v3 subset: passwords, tokens,
# projects, users, roles; its /v3 HTTP API) and the compute API policy, as
# a convenience library for nova-api, nova-manage and the tests.  Link it
# before api-cell/libapihttp.la (identity-api.c uses it) and
# shared/libnovashared.la.
noinst_LTLIBRARIES += api-cell/libidentity.la
api_cell_libidentity_la_SOURCES = \
	api-cell/identity-base64.h api-cell/identity-base64.c \
	api-cell/identity-password.h api-cell/identity-password.c \
	api-cell/identity-token.h api-cell/identity-token.c \
	api-cell/identity-store.h api-cell/identity-store.c \
	api-cell/identity-service.h api-cell/identity-service.c \
	api-cell/identity-api.h api-cell/identity-api.c \
	api-cell/policy.h api-cell/policy.c
api_cell_libidentity_la_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) \
	$(MARIADB_CFLAGS) $(OPENSSL_CFLAGS)
api_cell_libidentity_la_LIBADD = $(JSONC_LIBS) $(OPENSSL_LIBS)
IDENTITY_LDADD = api-cell/libidentity.la shared/libnovashared.la \
	$(JSONC_LIBS) $(OPENSSL_LIBS)

# The identity tables of the API database.
DB_MIGRATIONS_API += shared/db/migrations/api/0002_identity.sql

# nova-manage's project, user and role commands.
api_cell_nova_manage_LDADD += $(IDENTITY_LDADD)
# --- end section: identity ---

# --- section: api-http ---
# nova-api's HTTP core (request and response objects, router, the
# libmicrohttpd server, microversions, version documents) as a convenience
# library for nova-api, the API modules and the tests.  Link it before
# shared/libnovashared.la: $(API_HTTP_LDADD) lists both.  A module library
# that uses it (identity) goes before it on a link line.
noinst_LTLIBRARIES += api-cell/libapihttp.la
api_cell_libapihttp_la_SOURCES = \
	api-cell/http-request.h api-cell/http-request.c \
	api-cell/http-router.h api-cell/http-router.c \
	api-cell/http-server.h api-cell/http-server.c \
	api-cell/api-version.h api-cell/api-version.c \
	api-cell/api-versions-doc.h api-cell/api-versions-doc.c
api_cell_libapihttp_la_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(MHD_CFLAGS)
api_cell_libapihttp_la_LIBADD = $(JSONC_LIBS) $(MHD_LIBS) $(PTHREAD_LIBS)
API_HTTP_LDADD = api-cell/libapihttp.la shared/libnovashared.la \
	$(JSONC_LIBS) $(MHD_LIBS) $(PTHREAD_LIBS)

# nova-api: the compute API server of the API cell, with the identity
# service of the identity section.
bin_PROGRAMS += api-cell/nova-api
api_cell_nova_api_SOURCES = api-cell/nova-api.c
api_cell_nova_api_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(MHD_CFLAGS) \
	$(MARIADB_CFLAGS)
api_cell_nova_api_LDADD = $(IDENTITY_LDADD) $(API_HTTP_LDADD) \
	$(MARIADB_LIBS)
# --- end section: api-http ---

# --- section: topology ---
# The cell registry (the cell_mappings table of the API database) and the
# "nova-manage cell ..." commands, as a convenience library for nova-manage
# and the tests: link $(CELL_REGISTRY_LDADD).
noinst_LTLIBRARIES += api-cell/libcellregistry.la
api_cell_libcellregistry_la_SOURCES = \
	api-cell/cell-registry.h api-cell/cell-registry.c \
	api-cell/manage-cell.h api-cell/manage-cell.c
api_cell_libcellregistry_la_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) \
	$(MARIADB_CFLAGS)
CELL_REGISTRY_LDADD = api-cell/libcellregistry.la cells-rpc/libcellsrpc.la \
	$(JSONC_LIBS) $(YAML_LIBS) $(MARIADB_LIBS)

# Whether a cell runs compute hosts of its own (cells.yaml 'hosts').
DB_MIGRATIONS_API += shared/db/migrations/api/0003_cell_hosts.sql

# nova-manage's cell commands.
api_cell_nova_manage_LDADD += $(CELL_REGISTRY_LDADD)
# --- end section: topology ---

# --- section: compute-api ---
# The compute API (/v2.1 servers, flavors, keypairs, quotas, services,
# hypervisors, ...), as a convenience library for nova-api and the tests:
# link $(COMPUTE_API_LDADD).  Each module adds its sources to
# api_cell_libcomputeapi_la_SOURCES in a section below this one.
noinst_LTLIBRARIES += api-cell/libcomputeapi.la
api_cell_libcomputeapi_la_SOURCES = \
	api-cell/compute-api.h api-cell/compute-api.c
api_cell_libcomputeapi_la_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) \
	$(MARIADB_CFLAGS) $(MHD_CFLAGS)
COMPUTE_API_LDADD = api-cell/libcomputeapi.la api-cell/libidentity.la \
	$(API_HTTP_LDADD) cells-rpc/libcellsrpc.la shared/libnovashared.la \
	 $(JSONC_LIBS) $(MARIADB_LIBS) \
	$(RABBITMQ_LIBS) $(PTHREAD_LIBS)

# The top view, flavors, keypairs and quotas of the API database.
DB_MIGRATIONS_API += shared/db/migrations/api/0004_compute.sql

api_cell_nova_api_LDADD += $(COMPUTE_API_LDADD)
# --- end section: compute-api ---

# --- section: services-hypervisors ---
# os-services and os-hypervisors: tree-wide ids and deferred nova-cells
# calls (services-common), and the two APIs.
api_cell_libcomputeapi_la_SOURCES += \
	api-cell/services-common.h api-cell/services-common.c \
	api-cell/services-api.h api-cell/services-api.c \
	api-cell/hypervisors-api.h api-cell/hypervisors-api.c
# --- end section: services-hypervisors ---

# --- section: images ---
# The image service (a Glance v2 subset under /image): records in the API
# database, files in a local store, uploads streamed to disk.
api_cell_libcomputeapi_la_SOURCES += \
	api-cell/image-db.h api-cell/image-db.c \
	api-cell/image-store.h api-cell/image-store.c \
	api-cell/images-api.h api-cell/images-api.c
api_cell_libcomputeapi_la_CFLAGS += $(OPENSSL_CFLAGS)
api_cell_nova_api_LDADD += $(OPENSSL_LIBS)

# The images, image_properties, image_tags and image_members tables.
DB_MIGRATIONS_API += shared/db/migrations/api/0005_images.sql
# --- end section: images ---

# --- section: top-view ---
# The per-thread connections to the API database, the client of the API
# cell's nova-cells, and the top view of instances.
api_cell_libcomputeapi_la_SOURCES += \
	api-cell/api-db.h api-cell/api-db.c \
	api-cell/cells-client.h api-cell/cells-client.c \
	api-cell/top-view.h api-cell/top-view.c
# --- end section: top-view ---

# --- section: flavors-keypairs-quotas ---
# Flavors (with extra specs and access lists), keypairs, quota sets,
# limits and availability zones of the compute API.  Keypairs use OpenSSL
# (fingerprints, generated keys).
api_cell_libcomputeapi_la_SOURCES += \
	api-cell/flavor-db.h api-cell/flavor-db.c \
	api-cell/flavors-api.h api-cell/flavors-api.c \
	api-cell/keypair-db.h api-cell/keypair-db.c \
	api-cell/keypairs-api.h api-cell/keypairs-api.c \
	api-cell/quota.h api-cell/quota.c \
	api-cell/quotas-api.h api-cell/quotas-api.c \
	api-cell/limits-api.h api-cell/limits-api.c \
	api-cell/availability-zones-api.h api-cell/availability-zones-api.c
api_cell_libcomputeapi_la_CFLAGS += $(OPENSSL_CFLAGS)
api_cell_nova_api_LDADD += $(OPENSSL_LIBS)
# An index that lets the quota check sum a project's usage from the index
# alone.  Listed here, after the images section's 0005, in order.
DB_MIGRATIONS_API += shared/db/migrations/api/0006_usage_index.sql
# --- end section: flavors-keypairs-quotas ---

# --- section: servers-api ---
# The servers resource of the compute API: boot, list, show, rename,
# delete, server actions and os-instance-actions, answered from the top
# view and sent down the tree through nova-cells.  hostId uses OpenSSL.
api_cell_libcomputeapi_la_SOURCES += \
	api-cell/servers-validate.h api-cell/servers-validate.c \
	api-cell/servers-view.h api-cell/servers-view.c \
	api-cell/servers-api.h api-cell/servers-api.c \
	api-cell/servers-actions.h api-cell/servers-actions.c \
	api-cell/servers-instance-actions.h \
	api-cell/servers-instance-actions.c
api_cell_libcomputeapi_la_CFLAGS += $(OPENSSL_CFLAGS)
# --- end section: servers-api ---

# --- section: server-metadata ---
# The server metadata resource (reads and writes; writes travel down to
# the leaf as the instance action "update").
api_cell_libcomputeapi_la_SOURCES += \
	api-cell/servers-metadata.h api-cell/servers-metadata.c
# --- end section: server-metadata ---

# --- section: snapshot ---
# createImage and createBackup: the image record and the cast down the
# tree (the compute host uploads the file, child-cell/compute-snapshot.c).
api_cell_libcomputeapi_la_SOURCES += \
	api-cell/servers-snapshot.h api-cell/servers-snapshot.c
# --- end section: snapshot ---

# --- section: cells-heal ---
# "nova-manage cell heal": an RPC call to the API cell's nova-cells.
api_cell_nova_manage_SOURCES += \
	api-cell/manage-heal.h api-cell/manage-heal.c
api_cell_nova_manage_LDADD += $(RABBITMQ_LIBS)
# --- end section: cells-heal ---

# --- section: cells-admin ---
# The health and capacity of each cell in cell_mappings (written by the
# root's nova-cells), the nova-manage commands that show them and map
# hosts (cell list / capacities / discover_hosts, host list, instance
# locate), and the os-cells admin API.  discover_hosts reads each cell's
# services through child-cell/libchildcell.la.
DB_MIGRATIONS_API += shared/db/migrations/api/0007_cell_health.sql
api_cell_libcellregistry_la_SOURCES += \
	api-cell/cell-status.h api-cell/cell-status.c \
	api-cell/manage-host.h api-cell/manage-host.c \
	api-cell/manage-instance.h api-cell/manage-instance.c
CELL_REGISTRY_LDADD += child-cell/libchildcell.la shared/libnovashared.la \
	$(JSONC_LIBS) $(MARIADB_LIBS) -lm
api_cell_libcomputeapi_la_SOURCES += api-cell/cells-api.h api-cell/cells-api.c
api_cell_nova_api_LDADD += $(CELL_REGISTRY_LDADD)
# Server actions fail fast on a cell that does not answer
# (cell_status_check_reachable()): everything that links the compute API
# links cell-status and what it needs, in this order.
COMPUTE_API_LDADD += api-cell/libcellregistry.la cells-rpc/libcellsrpc.la \
	shared/libnovashared.la
# nova-manage service list / disable / enable / force-down through the
# tree (RPC to the API cell's nova-cells).
api_cell_nova_manage_SOURCES += \
	api-cell/manage-service.h api-cell/manage-service.c
# --- end section: cells-admin ---
