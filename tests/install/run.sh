#!/bin/sh
# make install / make uninstall into a temporary DESTDIR, and what a user then does with it:
# run the installed daemon on the installed configuration, build a program against the
# installed libtiktok through pkg-config (shared and static), verify the systemd unit, and
# check that libtiktok.so exports exactly the functions tt.h declares. B and SANITIZE name
# the build (tests/run.sh passes them); a sanitized library needs sanitized programs.
# SPDX-License-Identifier: MIT
set -u
. tests/tools/checks.sh

D=$(mktemp -d)
trap 'rm -rf "$D" "$D.http.ini" "$D.http.log" "$D.http.got" "$D.probe"' EXIT
P=/usr/local
mk() { make --no-print-directory -s ${SANITIZE:+SANITIZE=$SANITIZE} DESTDIR="$D" PREFIX=$P "$@"; }
SAN_CFLAGS=${SANITIZE:+-fsanitize=$SANITIZE}

if mk install >"$D.log" 2>&1; then ok "make install DESTDIR=..."; else
    bad "make install DESTDIR=..."; cat "$D.log"; fi
rm -f "$D.log"

for f in bin/tiktok2mqtt bin/tt-decode bin/tiktok-live-sim lib/libtiktok.a lib/libtiktok.so \
    include/tt.h lib/pkgconfig/libtiktok.pc lib/systemd/system/tiktok2mqtt.service \
    share/man/man8/tiktok2mqtt.8 share/man/man5/tiktok2mqtt.ini.5 share/man/man1/tt-decode.1 \
    share/man/man1/tiktok-live-sim.1; do
    check "installed $P/$f" test -e "$D$P/$f"
done
for f in index.html overlay.css overlay.js sources.js; do
    check "installed $P/share/tiktok2mqtt/overlay/$f" \
        cmp -s "contrib/overlay/$f" "$D$P/share/tiktok2mqtt/overlay/$f"
done
CONF="$D/etc/tiktok2mqtt/tiktok2mqtt.ini"
check "installed /etc/tiktok2mqtt/tiktok2mqtt.ini" cmp -s etc/tiktok2mqtt.ini "$CONF"
so=$(readlink "$D$P/lib/libtiktok.so")
check "libtiktok.so -> $so, the soname, -> a versioned file" \
    sh -c "[ '$so' = libtiktok.so.0 ] && [ -f '$D$P/lib/'\$(readlink '$D$P/lib/$so') ]"
check "the soname recorded in the library is libtiktok.so.0" \
    sh -c "readelf -d '$D$P/lib/libtiktok.so' | grep -q 'SONAME.*\[libtiktok.so.0\]'"

# the daemon, as installed, on the configuration as installed
out=$("$D$P/bin/tiktok2mqtt" --version 2>&1)
check "installed tiktok2mqtt --version: $out" sh -c "echo '$out' | grep -Eq '^tiktok2mqtt [0-9]+\.[0-9]+'"
check "installed tiktok2mqtt --check-config on the installed configuration" \
    "$D$P/bin/tiktok2mqtt" --check-config -c "$CONF"
frame=$(ls tests/fixtures/oracle/v1/*.bin | head -n 1)
check "installed tt-decode decodes a frame" sh -c \
    "'$D$P/bin/tt-decode' '$frame' | grep -q '^{\"frame\":\"$(basename "$frame")\",\"events\":\\[{'"
check "installed tiktok-live-sim runs (--help)" sh -c \
    "'$D$P/bin/tiktok-live-sim' --help 2>&1 | grep -q -- '--listen HOST:PORT'"

# the installed daemon serves the installed overlay, found beside it (no overlay_dir)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf '[mqtt]\nuri = tcp://127.0.0.1:1\n[bridge]\nhttp = 127.0.0.1:%s\n[streamer:a_b]\n' "$port" \
    >"$D.http.ini"
chmod 600 "$D.http.ini"
"$D$P/bin/tiktok2mqtt" -c "$D.http.ini" --stdout >/dev/null 2>"$D.http.log" &
bpid=$!
for _ in $(seq 50); do
    python3 -c 'import sys, urllib.request as u
open(sys.argv[2], "wb").write(u.urlopen(sys.argv[1], timeout=2).read())' \
        "http://127.0.0.1:$port/overlay/sources.js" "$D.http.got" 2>/dev/null && break
    sleep 0.1
done
kill "$bpid" 2>/dev/null
wait "$bpid" 2>/dev/null
check "the installed tiktok2mqtt serves the installed overlay at /overlay/" \
    cmp -s "$D.http.got" "$D$P/share/tiktok2mqtt/overlay/sources.js"

# the unit follows PREFIX and keeps its sandbox
UNIT="$D$P/lib/systemd/system/tiktok2mqtt.service"
check "the unit starts $P/bin/tiktok2mqtt on /etc/tiktok2mqtt/tiktok2mqtt.ini" \
    grep -qx "ExecStart=$P/bin/tiktok2mqtt -c /etc/tiktok2mqtt/tiktok2mqtt.ini" "$UNIT"
check "the unit keeps DynamicUser=yes, StateDirectory= and ProtectSystem=strict" sh -c \
    "grep -qx DynamicUser=yes '$UNIT' && grep -qx StateDirectory=tiktok2mqtt '$UNIT' &&
    grep -qx ProtectSystem=strict '$UNIT'"
# the unit turns glibc's per-thread caches off (docs/PERFORMANCE.md); the probe is built
# without sanitizers, whose allocator would replace glibc's
tun=$(sed -n 's/^Environment=GLIBC_TUNABLES=//p' "$UNIT")
if cc -o "$D.probe" tests/install/tcache_probe.c; then
    check "glibc's per-thread caches are on without the unit's GLIBC_TUNABLES" sh -c \
        "[ \"\$(env -u GLIBC_TUNABLES '$D.probe')\" = on ]"
    check "the unit's GLIBC_TUNABLES=$tun turns them off" sh -c \
        "[ -n '$tun' ] && [ \"\$(GLIBC_TUNABLES='$tun' '$D.probe')\" = off ]"
else
    bad "cc tests/install/tcache_probe.c"
fi
if command -v systemd-analyze >/dev/null 2>&1; then
    # verify wants ExecStart's program where the unit says (a copy pointing into DESTDIR) and
    # runs man on Documentation=: the installed pages, found through MANPATH
    mkdir -p "$D/verify"
    sed "s|^ExecStart=$P/|ExecStart=$D$P/|" "$UNIT" >"$D/verify/tiktok2mqtt.service"
    if MANPATH="$D$P/share/man" systemd-analyze verify "$D/verify/tiktok2mqtt.service" \
        >"$D/verify/log" 2>&1 &&
        ! grep -q . "$D/verify/log"; then
        ok "systemd-analyze verify: the installed unit is clean"
    else
        bad "systemd-analyze verify:"
        cat "$D/verify/log"
    fi
    rm -rf "$D/verify"
else
    echo "SKIPPED: systemd-analyze is not installed"
fi

# a libtiktok user's program, through pkg-config, shared then static
export PKG_CONFIG_PATH="$D$P/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$D"
cflags=$(pkg-config --cflags libtiktok)
libs=$(pkg-config --libs libtiktok)
static=$(pkg-config --static --libs libtiktok | sed 's/-ltiktok/-l:libtiktok.a/')
check "pkg-config --modversion libtiktok is tt_version()" \
    sh -c "[ \"\$(pkg-config --modversion libtiktok)\" = \"\$(sed -n 's/^#define TT_VERSION \"\(.*\)\"/\1/p' connector/src/version.c)\" ]"
if cc $SAN_CFLAGS $cflags -o "$D/use_shared" tests/install/use_tt.c $libs; then
    check "linked shared: needs libtiktok.so.0" sh -c \
        "readelf -d '$D/use_shared' | grep -q 'NEEDED.*\[libtiktok.so.0\]'"
    check "runs with the installed libtiktok.so" sh -c \
        "LD_LIBRARY_PATH='$D$P/lib' '$D/use_shared' | grep -q '^libtiktok .*refused'"
else
    bad "cc ... \$(pkg-config --cflags --libs libtiktok)"
fi
if cc $SAN_CFLAGS $cflags -o "$D/use_static" tests/install/use_tt.c $static; then
    check "linked static: no libtiktok.so needed" sh -c \
        "! readelf -d '$D/use_static' | grep -q 'NEEDED.*libtiktok'"
    check "runs" sh -c "'$D/use_static' | grep -q '^libtiktok .*refused'"
else
    bad "cc ... \$(pkg-config --static --libs libtiktok)"
fi

# exactly tt.h's functions are exported: names read from the header's TT_API declarations
sed -n 's/^TT_API [^(]*[ *]\(tt_[a-z0-9_]*\)(.*/\1/p' connector/include/tt.h | sort >"$D/want"
nm -D --defined-only "$D$P/lib/libtiktok.so" | awk '{print $3}' | sort >"$D/got"
check "tt.h declares $(wc -l <"$D/want") functions" test "$(wc -l <"$D/want")" -ge 20
if cmp -s "$D/want" "$D/got"; then
    ok "nm -D: libtiktok.so exports exactly tt.h's $(wc -l <"$D/got") functions"
else
    bad "nm -D: exported symbols differ from tt.h (< tt.h only, > exported only):"
    diff "$D/want" "$D/got" | grep '^[<>]' | head -n 20
fi

# an edited configuration survives install and uninstall; the rest goes
echo "; edited" >>"$CONF"
mk install-conf >/dev/null 2>&1
check "make install keeps an existing configuration" grep -q '^; edited' "$CONF"
mk uninstall >/dev/null 2>&1
check "make uninstall keeps an edited configuration" test -f "$CONF"
rm -f "$CONF" "$D/want" "$D/got" "$D/use_shared" "$D/use_static"
mk install >/dev/null 2>&1 && mk uninstall >/dev/null 2>&1
left=$(find "$D" ! -type d)
check "make uninstall removes every file install put${left:+ (left: $left)}" test -z "$left"

finish
