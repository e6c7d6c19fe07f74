# api-cell/automake.mk: included by the top-level Makefile.am; paths are from the top.

# --- section: db ---
# --- end section: db ---
