# packaging/install.mk: `make install` and `make uninstall` (docs/install.md), included by the
# top Makefile once B, LIB, LIB_SO, LIB_SONAME, LIB_VERSION and the programs' rules are known.
#
#   make install [PREFIX=/usr/local] [DESTDIR=] [SYSCONFDIR=/etc] [LIBDIR=$(PREFIX)/lib] ...
#   make uninstall                    the same variables: removes what install put
#
# The configuration is installed once and never overwritten (nor removed once edited); the
# systemd unit and libtiktok.pc are written at install time so that their paths follow PREFIX.
# SPDX-License-Identifier: MIT

SYSCONFDIR ?= /etc
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
UNITDIR ?= $(PREFIX)/lib/systemd/system
# bridge/http.c finds the overlay at <bindir>/../share/tiktok2mqtt/overlay: keep them together
OVERLAYDIR ?= $(PREFIX)/share/tiktok2mqtt/overlay
INSTALL ?= install

INSTALL_PROGS := $(B)/tiktok2mqtt $(B)/tt-decode $(B)/tiktok-live-sim
MAN_PAGES := $(wildcard man/*.[1-8])
OVERLAY_FILES := contrib/overlay/index.html contrib/overlay/overlay.css contrib/overlay/overlay.js \
	contrib/overlay/sources.js
CONF_DIR := $(SYSCONFDIR)/tiktok2mqtt
CONF := $(CONF_DIR)/tiktok2mqtt.ini
D := $(DESTDIR)

.PHONY: install uninstall install-bin install-conf install-unit install-man install-lib \
	install-overlay

install: install-bin install-conf install-unit install-man install-lib install-overlay

install-bin: $(INSTALL_PROGS)
	$(INSTALL) -d $(D)$(BINDIR)
	$(INSTALL) -m 755 $(INSTALL_PROGS) $(D)$(BINDIR)/

# An existing configuration is the user's: never replaced.
install-conf:
	$(INSTALL) -d $(D)$(CONF_DIR)
	@if [ -e $(D)$(CONF) ]; then echo "install: keeping the existing $(D)$(CONF)"; \
	else $(INSTALL) -m 644 etc/tiktok2mqtt.ini $(D)$(CONF); fi

# The unit in the tree names /usr/local/bin and /etc: rewritten to this install's paths.
install-unit:
	$(INSTALL) -d $(D)$(UNITDIR)
	sed -e 's|/usr/local/bin/|$(BINDIR)/|g' -e 's|/etc/tiktok2mqtt/|$(CONF_DIR)/|g' \
		contrib/systemd/tiktok2mqtt.service >$(D)$(UNITDIR)/tiktok2mqtt.service
	chmod 644 $(D)$(UNITDIR)/tiktok2mqtt.service

# The overlay that [bridge] http serves under /overlay/ (its SSE mode needs nothing else).
install-overlay:
	$(INSTALL) -d $(D)$(OVERLAYDIR)
	$(INSTALL) -m 644 $(OVERLAY_FILES) $(D)$(OVERLAYDIR)/

install-man:
	@set -e; for m in $(MAN_PAGES); do \
		s=$${m##*.}; $(INSTALL) -d $(D)$(MANDIR)/man$$s; \
		echo "$(INSTALL) -m 644 $$m $(D)$(MANDIR)/man$$s/"; \
		$(INSTALL) -m 644 $$m $(D)$(MANDIR)/man$$s/; done

install-lib: $(LIB) $(LIB_SO)
	$(INSTALL) -d $(D)$(LIBDIR) $(D)$(INCLUDEDIR) $(D)$(PKGCONFIGDIR)
	$(INSTALL) -m 644 $(LIB) $(D)$(LIBDIR)/
	$(INSTALL) -m 755 $(LIB_SO) $(D)$(LIBDIR)/
	ln -sf libtiktok.so.$(LIB_VERSION) $(D)$(LIBDIR)/$(LIB_SONAME)
	ln -sf $(LIB_SONAME) $(D)$(LIBDIR)/libtiktok.so
	$(INSTALL) -m 644 connector/include/tt.h $(D)$(INCLUDEDIR)/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' \
		-e 's|@VERSION@|$(LIB_VERSION)|' -e 's|@LIBS@|$(LIB_LIBS)|' \
		packaging/libtiktok.pc.in >$(D)$(PKGCONFIGDIR)/libtiktok.pc
	chmod 644 $(D)$(PKGCONFIGDIR)/libtiktok.pc

# The configuration goes only while it is the one install put; directories only when empty.
uninstall:
	rm -f $(addprefix $(D)$(BINDIR)/,$(notdir $(INSTALL_PROGS)))
	rm -f $(D)$(UNITDIR)/tiktok2mqtt.service
	rm -f $(addprefix $(D)$(OVERLAYDIR)/,$(notdir $(OVERLAY_FILES)))
	-@rmdir $(D)$(OVERLAYDIR) $(D)$(dir $(OVERLAYDIR)) 2>/dev/null || true
	rm -f $(foreach m,$(MAN_PAGES),$(D)$(MANDIR)/man$(subst .,,$(suffix $(m)))/$(notdir $(m)))
	rm -f $(D)$(LIBDIR)/libtiktok.a $(D)$(LIBDIR)/libtiktok.so.$(LIB_VERSION) \
		$(D)$(LIBDIR)/$(LIB_SONAME) $(D)$(LIBDIR)/libtiktok.so \
		$(D)$(INCLUDEDIR)/tt.h $(D)$(PKGCONFIGDIR)/libtiktok.pc
	@if [ -e $(D)$(CONF) ] && ! cmp -s etc/tiktok2mqtt.ini $(D)$(CONF); then \
		echo "uninstall: keeping the edited $(D)$(CONF)"; else rm -f $(D)$(CONF); fi
	-@rmdir $(D)$(CONF_DIR) $(D)$(PKGCONFIGDIR) 2>/dev/null || true
