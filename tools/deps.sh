#!/bin/sh
# make deps: install what the build and the tests need and this machine lacks.
#   - Debian 12 packages (apt-get, as root or through sudo), only the missing ones;
#   - the npm packages tests and benchmarks use (tiktok-live-connector 1.2.3 and 2.5.0, the
#     real Node library we compare with), into build/oracle/v1 and build/oracle/v2;
#   - the npm packages of the integration tests (tests/node-red, tests/overlay), pinned, into
#     build/npm: node-red (4.x: 5.x needs node 22), playwright-core (drives Debian's chromium)
#     and mqtt (its browser bundle is what contrib/overlay loads over MQTT-over-WebSockets;
#     tools/peer_node.js, the Node stack make bench-e2e compares with, publishes with it),
#     and aedes, the Node MQTT broker tests/brokers runs the bridge against;
#   - python3-jinja2: tests/ha renders Home Assistant's value templates with it;
#   - the other brokers of tests/brokers (make check-brokers): RabbitMQ 3.10 (its MQTT plugin is
#     part of the package) and ejabberd 23.01 (mod_mqtt). Their packages only install: the test
#     runs private nodes on free loopback ports, never the system services.
# Idempotent and quiet when everything is there. SKIP_NPM=1 skips the npm part.
# `deps.sh demo` (make demo) installs only the build's packages and mosquitto's, nothing from
# npm: the demo needs no more, and the README promises it needs no network beyond that.
# `deps.sh overlay` (make overlay) installs node and npm and, from npm, mqtt alone.
# SPDX-License-Identifier: MIT
set -eu

BUILD_PKGS="build-essential pkg-config libpaho-mqtt-dev libcurl4-openssl-dev libwebsockets-dev nanopb
libnanopb-dev protobuf-compiler python3 python3-protobuf libcjson-dev libinih-dev zlib1g-dev
libdeflate-dev"
PKGS="$BUILD_PKGS python3-jinja2
mosquitto mosquitto-clients rabbitmq-server ejabberd clang libclang-rt-14-dev clang-format nodejs npm lintian chromium"
NPM_PKGS="node-red@4.1.15 playwright-core@1.65.2 mqtt@5.16.0 aedes@0.51.3"
ORACLE=1
case "${1:-}" in
demo)
    PKGS="$BUILD_PKGS mosquitto mosquitto-clients"
    SKIP_NPM=1
    ;;
overlay) # mqtt.js's browser bundle
    PKGS="nodejs npm"
    NPM_PKGS="mqtt@5.16.0"
    ORACLE=0
    ;;
esac

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing="$missing $p"
    fi
done
# nodejs/npm may come from outside Debian's packages (a machine image's own node): accept those
if command -v node >/dev/null 2>&1; then
    missing=$(echo "$missing" | tr ' ' '\n' | grep -v -x -e nodejs -e npm | tr '\n' ' ')
fi
missing=$(echo "$missing" | xargs)

if [ -n "$missing" ]; then
    echo "deps: installing $missing"
    SUDO=""
    if [ "$(id -u)" != 0 ]; then
        command -v sudo >/dev/null 2>&1 || { echo "deps: need root or sudo to install: $missing" >&2; exit 1; }
        SUDO="sudo"
    fi
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    # shellcheck disable=SC2086
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

if [ "${SKIP_NPM:-0}" != 1 ]; then
    for v in 1.2.3:v1 2.5.0:v2; do
        [ "$ORACLE" = 1 ] || break
        d="build/oracle/${v#*:}"
        [ -f "$d/node_modules/tiktok-live-connector/package.json" ] && continue
        echo "deps: npm install tiktok-live-connector@${v%%:*} into $d"
        mkdir -p "$d"
        (cd "$d" && { [ -f package.json ] || npm init -y >/dev/null; } &&
            npm install --no-audit --no-fund --loglevel=error "tiktok-live-connector@${v%%:*}" >/dev/null)
    done
    # the integration tests' packages, each at the version pinned here (no global install)
    d=build/npm
    for pkg in $NPM_PKGS; do
        name=${pkg%@*}
        want=${pkg##*@}
        have=$(node -p "require('./$d/node_modules/$name/package.json').version" 2>/dev/null || true)
        [ "$have" = "$want" ] && continue
        echo "deps: npm install $pkg into $d"
        mkdir -p "$d"
        (cd "$d" && { [ -f package.json ] || npm init -y >/dev/null; } &&
            npm install --save-exact --no-audit --no-fund --loglevel=error "$pkg" >/dev/null)
    done
fi
