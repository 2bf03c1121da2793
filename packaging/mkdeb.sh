#!/bin/sh
# Cut Debian packages out of a `make install` staging tree ($OUT/stage, Debian's paths) with
# dpkg-deb --root-owner-group (no root, no fakeroot). Called by `make deb` (packaging/deb.mk)
# with OUT, VERSION, SONAME and MULTIARCH set.
#   tiktok2mqtt     /usr/bin/*, the man pages, the unit (enabled, not started), the
#                   configuration as a conffile, the overlay (/usr/share/tiktok2mqtt/overlay);
#                   Depends from dpkg-shlibdeps; Built-Using paho.mqtt.c when PAHO_STATIC=1
#                   (the daemon holds paho's static archive: bridge/daemon.mk)
#   libtiktok0      the shared library; shlibs file and the ldconfig trigger
#   libtiktok-dev   the static library, the .so link, tt.h, libtiktok.pc
# SPDX-License-Identifier: MIT
set -eu
: "${OUT:?}" "${VERSION:?}" "${SONAME:?}" "${MULTIARCH:?}"
HERE=$(cd "$(dirname "$0")" && pwd)
S=$OUT/stage
ARCH=$(dpkg --print-architecture)
LIBDIR=usr/lib/$MULTIARCH
MAINT="tiktok2mqtt developers <tiktok2mqtt@example.org>"

# move PKG PATH...: staged files into the package's root
move() {
    pkg=$1
    shift
    for p in "$@"; do
        mkdir -p "$OUT/$pkg/$(dirname "$p")"
        mv "$S/$p" "$OUT/$pkg/$p"
    done
}

# the copyright and changelog every package carries (changelog.gz: a native package)
docs() {
    d=$OUT/$1/usr/share/doc/$1
    mkdir -p "$d"
    cp "$HERE/debian/copyright" "$d/copyright"
    sed "s/@PACKAGE@/$1/; s/@VERSION@/$VERSION/" "$HERE/debian/changelog" | gzip -9n >"$d/changelog.gz"
}

# control PKG FIELDS...: DEBIAN/control, md5sums, and the build of the .deb
build() {
    pkg=$1
    root=$OUT/$pkg
    mkdir -p "$root/DEBIAN"
    size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
    { echo "Package: $pkg"; echo "Version: $VERSION"; echo "Architecture: $ARCH"
      echo "Maintainer: $MAINT"; echo "Installed-Size: $size"; cat; } >"$root/DEBIAN/control"
    (cd "$root" && find . -type f ! -path './DEBIAN/*' | sed 's|^\./||' | LC_ALL=C sort |
        xargs md5sum >DEBIAN/md5sums)
    find "$root" -type d -exec chmod 755 {} +
    dpkg-deb --root-owner-group -Zxz --build "$root" "$OUT/${pkg}_${VERSION}_$ARCH.deb" >/dev/null
    echo "  DEB     $OUT/${pkg}_${VERSION}_$ARCH.deb"
}

# dpkg-shlibdeps wants a debian/control to read: a minimal one in a scratch directory
shlibdeps() {
    w=$OUT/shlibdeps
    rm -rf "$w" && mkdir -p "$w/debian"
    printf 'Source: tiktok2mqtt\n\nPackage: tiktok2mqtt\nArchitecture: any\n' >"$w/debian/control"
    abs=""
    for f in "$@"; do abs="$abs $(cd "$(dirname "$f")" && pwd)/$(basename "$f")"; done
    # shellcheck disable=SC2086
    (cd "$w" && dpkg-shlibdeps -O --ignore-missing-info $abs 2>/dev/null) |
        sed -n 's/^shlibs:Depends=//p'
    rm -rf "$w"
}

for p in tiktok2mqtt libtiktok0 libtiktok-dev; do rm -rf "${OUT:?}/$p" "$OUT/${p}_"*.deb; done

# the programs: stripped (the build keeps -g), man pages compressed
move tiktok2mqtt usr/bin etc/tiktok2mqtt lib/systemd/system usr/share/man usr/share/tiktok2mqtt
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$OUT"/tiktok2mqtt/usr/bin/*
find "$OUT/tiktok2mqtt/usr/share/man" -type f -exec gzip -9n {} +
docs tiktok2mqtt
mkdir -p "$OUT/tiktok2mqtt/DEBIAN"
for s in postinst prerm postrm; do
    cp "$HERE/debian/tiktok2mqtt.$s" "$OUT/tiktok2mqtt/DEBIAN/$s"
    chmod 755 "$OUT/tiktok2mqtt/DEBIAN/$s"
done
echo /etc/tiktok2mqtt/tiktok2mqtt.ini >"$OUT/tiktok2mqtt/DEBIAN/conffiles"
relations="Depends: $(shlibdeps "$OUT"/tiktok2mqtt/usr/bin/*)"
# Debian Policy 7.8: a binary with a static library in it names that library's source package
if [ "${PAHO_STATIC:-}" = 1 ]; then
    relations="$relations
Built-Using: $(dpkg-query -W -f='${source:Package} (= ${source:Version})' libpaho-mqtt-dev)"
fi
build tiktok2mqtt <<EOT
Section: net
Priority: optional
$relations
Recommends: mosquitto | mqtt-broker
Description: TikTok LIVE to MQTT bridge
 tiktok2mqtt follows the TikTok LIVE streams of the streamers in its
 configuration and publishes their chat, gifts, likes, follows, viewer
 counts and stream start and end as JSON on an MQTT broker, with Home
 Assistant discovery. The package also has tt-decode, an offline frame
 decoder, and tiktok-live-sim, a TikTok LIVE simulator for tests.
EOT

# the shared library
move libtiktok0 "$LIBDIR/$SONAME" "$LIBDIR/libtiktok.so.$VERSION"
strip --strip-unneeded --remove-section=.comment --remove-section=.note \
    "$OUT/libtiktok0/$LIBDIR/libtiktok.so.$VERSION"
chmod 644 "$OUT/libtiktok0/$LIBDIR/libtiktok.so.$VERSION"
docs libtiktok0
mkdir -p "$OUT/libtiktok0/DEBIAN"
echo "libtiktok ${SONAME##*.so.} libtiktok0 (>= $VERSION)" >"$OUT/libtiktok0/DEBIAN/shlibs"
echo "activate-noawait ldconfig" >"$OUT/libtiktok0/DEBIAN/triggers"
depends=$(shlibdeps "$OUT/libtiktok0/$LIBDIR/libtiktok.so.$VERSION")
build libtiktok0 <<EOT
Section: libs
Priority: optional
Multi-Arch: same
Depends: $depends
Description: TikTok LIVE client and event decoder library
 libtiktok connects to TikTok LIVE streams and decodes their events
 (chat, gifts, likes, follows, ...) into JSON. It is the library of
 tiktok2mqtt. This package has the shared library.
EOT

# the development files
move libtiktok-dev "$LIBDIR/libtiktok.a" "$LIBDIR/libtiktok.so" "$LIBDIR/pkgconfig" usr/include
strip --strip-debug "$OUT/libtiktok-dev/$LIBDIR/libtiktok.a"
docs libtiktok-dev
build libtiktok-dev <<EOT
Section: libdevel
Priority: optional
Multi-Arch: same
Depends: libtiktok0 (= $VERSION), libwebsockets-dev, libcurl4-openssl-dev | libcurl-dev, libssl-dev, libnanopb-dev, libdeflate-dev
Description: TikTok LIVE client and event decoder library - development files
 libtiktok connects to TikTok LIVE streams and decodes their events
 (chat, gifts, likes, follows, ...) into JSON. This package has the
 header tt.h, the static library and libtiktok.pc for pkg-config.
EOT

left=$(cd "$S" && find . ! -type d)
[ -z "$left" ] || { echo "mkdeb: staged files in no package: $left" >&2; exit 1; }
rm -rf "$S"
