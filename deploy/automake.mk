# deploy/automake.mk: included by the top-level Makefile.am; paths are from the top.

# Private MariaDB and RabbitMQ servers for development and tests.
dist_noinst_SCRIPTS += deploy/devservers

# --- section: quickstart ---
# --- end section: quickstart ---
