#!/bin/sh
# make deb, tested without touching the machine: build the packages, list and extract them,
# run the extracted daemon on the extracted configuration, read their control data, and run
# lintian on them where it is installed (no error allowed). B and SANITIZE name the build.
# SPDX-License-Identifier: MIT
set -u
. tests/tools/checks.sh

if ! command -v dpkg-deb >/dev/null 2>&1; then
    echo "SKIPPED: dpkg-deb is not installed"
    echo "0 passed, 0 failed"
    exit 0
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
V=$(sed -n 's/^#define TT_VERSION "\(.*\)"/\1/p' connector/src/version.c)
A=$(dpkg --print-architecture)
MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || cc -print-multiarch)

if make --no-print-directory -s ${SANITIZE:+SANITIZE=$SANITIZE} deb >"$T/log" 2>&1; then
    ok "make deb"
else
    bad "make deb:"
    cat "$T/log"
fi
D=$B/deb/tiktok2mqtt_${V}_$A.deb
L=$B/deb/libtiktok0_${V}_$A.deb
X=$B/deb/libtiktok-dev_${V}_$A.deb
for f in "$D" "$L" "$X"; do check "built $f" test -s "$f"; done

# has PACKAGE PATH...: dpkg-deb -c lists every PATH
has() {
    deb=$1
    shift
    dpkg-deb -c "$deb" | awk '{print $6}' >"$T/list"
    for p in "$@"; do
        check "$(basename "$deb") has $p" grep -qx "./$p" "$T/list"
    done
}
has "$D" usr/bin/tiktok2mqtt usr/bin/tt-decode usr/bin/tiktok-live-sim \
    etc/tiktok2mqtt/tiktok2mqtt.ini lib/systemd/system/tiktok2mqtt.service \
    usr/share/man/man8/tiktok2mqtt.8.gz usr/share/man/man5/tiktok2mqtt.ini.5.gz \
    usr/share/man/man1/tt-decode.1.gz usr/share/man/man1/tiktok-live-sim.1.gz \
    usr/share/doc/tiktok2mqtt/copyright usr/share/tiktok2mqtt/overlay/index.html \
    usr/share/tiktok2mqtt/overlay/overlay.css usr/share/tiktok2mqtt/overlay/overlay.js \
    usr/share/tiktok2mqtt/overlay/sources.js
has "$L" "usr/lib/$MA/libtiktok.so.$V" "usr/lib/$MA/libtiktok.so.0"
has "$X" "usr/lib/$MA/libtiktok.a" "usr/lib/$MA/libtiktok.so" "usr/lib/$MA/pkgconfig/libtiktok.pc" \
    usr/include/tt.h

# control data
dep=$(dpkg-deb -f "$D" Depends)
check "tiktok2mqtt Depends on the shared libraries it links (libwebsockets, curl): $dep" \
    sh -c "echo '$dep' | grep -q libwebsockets && echo '$dep' | grep -q libcurl"
# paho: a dependency when the daemon links its shared library, Built-Using when it holds the
# static archive (PAHO_LINK, bridge/daemon.mk)
bu=$(dpkg-deb -f "$D" Built-Using)
if ldd "$B/tiktok2mqtt" | grep -q libpaho-mqtt; then
    check "paho linked shared: Depends on it ($dep), no Built-Using ($bu)" \
        sh -c "echo '$dep' | grep -q libpaho-mqtt && [ -z '$bu' ]"
else
    check "paho linked static: Built-Using $bu, not in Depends" \
        sh -c "echo '$bu' | grep -q '^paho.mqtt.c (= ' && ! echo '$dep' | grep -q libpaho"
fi
check "libtiktok-dev Depends on libtiktok0 (= $V)" \
    sh -c "dpkg-deb -f '$X' Depends | grep -qF 'libtiktok0 (= $V)'"
dpkg-deb -e "$D" "$T/ctl"
check "the configuration is a conffile" grep -qx /etc/tiktok2mqtt/tiktok2mqtt.ini "$T/ctl/conffiles"
check "postinst enables the unit" grep -q 'deb-systemd-helper enable tiktok2mqtt.service' \
    "$T/ctl/postinst"
check "postinst does not start it" sh -c \
    "! grep -v '^ *#' '$T/ctl/postinst' | grep -Eq 'deb-systemd-invoke|systemctl.*start|--now'"
check "maintainer scripts are valid sh" sh -c \
    "for s in postinst prerm postrm; do sh -n '$T/ctl/'\$s || exit 1; done"
dpkg-deb -e "$L" "$T/lctl"
check "libtiktok0 declares its soname in shlibs" grep -qx "libtiktok 0 libtiktok0 (>= $V)" \
    "$T/lctl/shlibs"

# extracted, the daemon runs on its configuration
dpkg-deb -x "$D" "$T/root"
out=$("$T/root/usr/bin/tiktok2mqtt" --version 2>&1)
check "extracted tiktok2mqtt --version: $out" sh -c "echo '$out' | grep -q '^tiktok2mqtt $V'"
check "extracted tiktok2mqtt --check-config on the packaged configuration" \
    "$T/root/usr/bin/tiktok2mqtt" --check-config -c "$T/root/etc/tiktok2mqtt/tiktok2mqtt.ini"
check "the packaged unit starts /usr/bin/tiktok2mqtt" grep -qx \
    'ExecStart=/usr/bin/tiktok2mqtt -c /etc/tiktok2mqtt/tiktok2mqtt.ini' \
    "$T/root/lib/systemd/system/tiktok2mqtt.service"
dpkg-deb -x "$X" "$T/dev"
check "libtiktok.pc names /usr/lib/$MA" grep -qx "libdir=/usr/lib/$MA" \
    "$T/dev/usr/lib/$MA/pkgconfig/libtiktok.pc"

if command -v lintian >/dev/null 2>&1; then
    lintian "$D" "$L" "$X" >"$T/lintian" 2>&1
    grep -v 'root privileges' "$T/lintian"
    check "lintian: no error ($(grep -c '^W:' "$T/lintian") warnings)" \
        sh -c "! grep -q '^E:' '$T/lintian'"
else
    echo "SKIPPED: lintian is not installed (make deps installs it)"
fi

finish
