# deploy/automake.mk: included by the top-level Makefile.am; paths are from the top.
