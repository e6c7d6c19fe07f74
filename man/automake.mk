# man/automake.mk: manual pages, filled from man/<page>.in with the
# installation paths, and linted by tests/man-lint under make check.
# Included by the top-level Makefile.am; paths are from the top.
#
# A page is added by listing its .in file in MAN_IN; its output name is the
# same without .in.
MAN_IN = man/nova-manage.1.in man/nova-api.8.in man/cells.yaml.5.in man/nova.yaml.5.in
man_MANS += $(MAN_IN:.in=)
EXTRA_DIST += $(MAN_IN) man/common-options.man
CLEANFILES += $(MAN_IN:.in=)

MAN_SUBST = sed \
	-e 's|@sysconfdir[@]|$(sysconfdir)|g' \
	-e 's|@localstatedir[@]|$(localstatedir)|g' \
	-e 's|@bindir[@]|$(bindir)|g' \
	-e 's|@PACKAGE_VERSION[@]|$(PACKAGE_VERSION)|g'

# soelim inlines '.so common-options.man' so installed pages stand alone.
man/%: man/%.in man/common-options.man
	$(AM_V_GEN)$(MKDIR_P) man && \
	soelim -r -I $(srcdir)/man $< | $(MAN_SUBST) > $@.tmp && mv $@.tmp $@

# Rendered with warnings enabled; any warning fails the test.
TESTS += tests/man-lint
EXTRA_DIST += tests/man-lint
check_DATA = $(MAN_IN:.in=)
