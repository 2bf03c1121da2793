#!/bin/sh
# make check-tsan: the suites whose programs run threads — libtiktok's connection (stopped from
# another thread), the daemon (a thread per streamer, paho's threads, the metrics server) —
# built with SANITIZE=thread in build/tsan. Every report goes to a file under $B/tsan-reports
# (TSAN_OPTIONS log_path): the last suite fails if there is any, and shows them. The tests'
# own processes may be killed before they could exit with TSan's status, so the files, not
# exit codes, are the verdict. Ends with `total: N passed, N failed`.
# SPDX-License-Identifier: MIT
set -u
B=${B:-build/tsan}
. tests/suite.sh

R="$B/tsan-reports"
rm -rf "$R"
mkdir -p "$R"
TSAN_OPTIONS="${TSAN_OPTIONS:-} log_path=$PWD/$R/tsan second_deadlock_stack=1"
export TSAN_OPTIONS

suite "unit: test_mqtt (bridge/mqtt.c's threads against a scripted paho)" "$B/tests/test_mqtt"
suite "unit: test_paho_heap (the allocator of paho's static link, from three threads)" \
    "$B/tests/test_paho_heap"
suite "unit: test_paho_socket (paho's reads batched, one thread reading while others close)" \
    "$B/tests/test_paho_socket"
suite "unit: test_decode (gift lists shared between clients, from four threads)" \
    "$B/tests/test_decode"
suite "connection (tt_client vs tiktok-live-sim)" env B="$B" python3 tests/connector/run.py
suite "direct path, auto, watchdog (tt_client vs tiktok-live-sim)" env B="$B" \
    python3 tests/connector/direct.py
suite "hostile TikTok side (cookies, endless messages, error texts)" env B="$B" \
    python3 tests/connector/hostile.py
suite "bridge integration" env B="$B" python3 tests/bridge/run.py
suite "bridge transports, fallback, metrics" env B="$B" python3 tests/bridge/transports.py
suite "bridge MQTT session (reconnects, limits, replay, shutdown)" env B="$B" \
    python3 tests/bridge/session.py
suite "bridge HTTP server (hostile clients, event stream, overlay files)" env B="$B" \
    python3 tests/bridge/http_server.py
suite "bridge on the direct path (auto, devices, watchdog)" env B="$B" python3 tests/bridge/direct.py
suite "bridge shards (instance topics, API owner, will)" env B="$B" python3 tests/bridge/shards.py

no_reports() {
    n=0
    for f in "$R"/tsan.*; do
        [ -e "$f" ] || continue
        n=$((n + 1))
        echo "FAIL: ThreadSanitizer report $f:"
        head -n 60 "$f"
    done
    [ "$n" = 0 ] && echo "1 passed, 0 failed" || echo "0 passed, 1 failed"
}
suite "no ThreadSanitizer report" no_reports

suites_total
