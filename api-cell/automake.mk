# api-cell/automake.mk: included by the top-level Makefile.am; paths are from the top.

# --- section: db ---
# nova-manage: the administration command line (schema sync and versions
# for now; cell, service, host and instance commands to come).
bin_PROGRAMS += api-cell/nova-manage
api_cell_nova_manage_SOURCES = api-cell/nova-manage.c
api_cell_nova_manage_LDADD = shared/libnovashared.la
# --- end section: db ---

# --- section: identity ---
# --- end section: identity ---
