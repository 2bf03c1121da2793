# packaging/deb.mk: `make deb`, Debian packages built with dpkg-deb, no root needed
# (docs/install.md). Included by the top Makefile after packaging/install.mk.
#
#   make deb      $(B)/deb/tiktok2mqtt_V_ARCH.deb   the daemon, tools, man pages, unit, conffile
#                 $(B)/deb/libtiktok0_V_ARCH.deb    the shared library (soname libtiktok.so.0)
#                 $(B)/deb/libtiktok-dev_V_ARCH.deb libtiktok.a, the .so link, tt.h, libtiktok.pc
#
# The files come from `make install` into a staging DESTDIR with Debian's paths; the
# packages are cut from it by packaging/mkdeb.sh.
# SPDX-License-Identifier: MIT

DEB_OUT := $(B)/deb
DEB_MULTIARCH := $(shell dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || $(CC) -print-multiarch)

.PHONY: deb
deb: $(INSTALL_PROGS) $(LIB) $(LIB_SO)
	$(Q)rm -rf $(DEB_OUT)/stage
	$(Q)$(MAKE) --no-print-directory -s install DESTDIR=$(DEB_OUT)/stage PREFIX=/usr \
		SYSCONFDIR=/etc LIBDIR=/usr/lib/$(DEB_MULTIARCH) UNITDIR=/lib/systemd/system >/dev/null
	$(Q)OUT=$(DEB_OUT) VERSION=$(LIB_VERSION) SONAME=$(LIB_SONAME) MULTIARCH=$(DEB_MULTIARCH) \
		PAHO_STATIC=$(if $(PAHO_OBJS),1) sh packaging/mkdeb.sh
