#!/bin/sh
# The test runner of `make check`: runs every suite, shows its output, adds up the closing
# `N passed, N failed` lines and ends with the total in the same form. A suite that exits
# non-zero counts as failed even if its own line says otherwise. B is the build directory.
# SPDX-License-Identifier: MIT
set -u
B=${B:-build}
. tests/suite.sh

# 1. unit tests
for t in "$B"/tests/test_*; do
    [ -x "$t" ] && suite "unit: $(basename "$t")" "$t"
done

# 2. our comparator, then the decoder against the real 1.2.3 library's output (fixtures)
suite "comparator self-test" python3 tests/tools/test_compare.py
suite "text-format parser self-test" python3 tests/tools/test_pbtext.py
for v in v1 v3; do
    suite "oracle fixtures $v" sh -c "'$B/tt-decode' tests/fixtures/oracle/$v > '$B/oracle-$v.jsonl';
        rc=\$?; python3 tests/tools/compare_events.py tests/fixtures/oracle/$v/expected.jsonl \
        '$B/oracle-$v.jsonl' && exit \$rc"
done
# our generator (tests/oracle/gen.js): fresh corpora, the real library's events, the decoder agrees
suite "oracle generator (fresh corpora)" env B="$B" sh tests/oracle/check_gen.sh

# 3. real captures (third-party, beside the clone; the suite says SKIPPED when they are absent)
suite "captures" env TT_DECODE="$B/tt-decode" python3 tests/tools/check_captures.py

# 4. the fuzz corpus and every fixture frame through the fuzz target, under this build's flags
suite "fuzz corpus replay" "$B/fuzz_replay" tests/fuzz/corpus tests/fixtures/oracle/v1 \
    tests/fixtures/oracle/v3

# 5. the configuration layer's fuzz corpus and fixtures, under this build's flags
suite "fuzz cfg corpus replay" "$B/fuzz_cfg_replay" tests/fuzz/corpus_cfg tests/fixtures/cfg

# 5b. the other fuzz targets' corpora (tests/fuzz/fuzz.mk): JSON answers, the live page's room-id
#     scan, the HTTP server's routes and ?user= filter, runtime API requests, handles and topics,
#     the state and .seen files, the cookie and Retry-After headers
for t in json room http api handle files headers; do
    suite "fuzz $t corpus replay" "$B/fuzz_${t}_replay" "tests/fuzz/corpus_$t"
done

# 6. the simulator against the real Node library (1.2.3 and 2.5.0), then our connection and the
#    daemon against the simulator (and a real mosquitto)
suite "conformance (tiktok-live-sim vs tiktok-live-connector)" env B="$B" sh tests/conformance/run.sh
suite "connection (tt_client vs tiktok-live-sim)" env B="$B" python3 tests/connector/run.py
suite "direct path, auto, watchdog (tt_client vs tiktok-live-sim)" env B="$B" python3 tests/connector/direct.py
suite "hostile TikTok side (cookies, endless messages, error texts)" env B="$B" \
    python3 tests/connector/hostile.py
suite "bridge integration" env B="$B" python3 tests/bridge/run.py
suite "bridge record_dir (record, then replay)" env B="$B" python3 tests/bridge/record.py
suite "bridge transports, fallback, metrics" env B="$B" python3 tests/bridge/transports.py
suite "bridge MQTT session (reconnects, limits, replay, shutdown)" env B="$B" python3 tests/bridge/session.py
suite "bridge HTTP server (hostile clients, event stream, overlay files)" env B="$B" python3 tests/bridge/http_server.py
suite "bridge on the direct path (auto, devices, watchdog)" env B="$B" python3 tests/bridge/direct.py
suite "bridge options held to docs/config.md (room_info_interval, MQTT 5 properties)" env B="$B" python3 tests/bridge/contract.py
suite "bridge shards (instance topics, API owner, will)" env B="$B" python3 tests/bridge/shards.py
suite "Home Assistant discovery (rules from HA's code, templates, add/remove/restart)" \
    env B="$B" python3 tests/ha/run.py
# brokers nobody here wrote: mosquitto's defaults and restrictive settings, aedes (RabbitMQ and
# ejabberd take longer to start: make check-brokers)
suite "brokers (mosquitto restrictive, aedes)" env B="$B" python3 tests/brokers/run.py mosquitto aedes
# where users live: the Node-RED flow in a real Node-RED, the overlay in headless Chromium
suite "node-red flow (contrib/node-red)" env B="$B" python3 tests/node-red/run_flow.py
suite "overlay in chromium (contrib/overlay)" env B="$B" python3 tests/overlay/run_page.py
# the README's first command: make demo's script, events flowing, and how it stops
suite "make demo (tools/demo.sh: events flow; SIGTERM, Ctrl-C, DEMO_SECONDS stop it all)" \
    env B="$B" python3 tests/demo/run.py

# 7. the build: a second make does nothing, internals stay internal; what install and the
#    packages put, and the documents that are generated from the code
suite "build hygiene" env B="$B" sh tests/build/run.sh
suite "docs (generated key reference, example, man pages)" sh tests/docs/run.sh
suite "install (DESTDIR, pkg-config, unit, exports)" env B="$B" sh tests/install/run.sh
suite "deb (dpkg-deb, lintian)" env B="$B" sh tests/deb/run.sh

# 8. the project stands alone: no file leans on notes kept beside the clone, and every
#    relative link of the Markdown pages resolves inside the repository
suite "stand-alone (no reference outside the repository)" python3 tests/tools/check_standalone.py
suite "no configuration of a test or tool can reach TikTok" python3 tests/tools/check_no_tiktok.py
suite "layout (topics in topic.c, no edit of event JSON, event names in the registry)" \
    python3 tests/tools/check_layout.py
suite "layout check self-test (planted violations)" python3 tests/tools/check_layout.py --self-test

# 9. the benchmarks' tools run and count correctly (a smoke run, no figure checked)
suite "bench tools smoke" env B="$B" python3 tools/bench_e2e.py --smoke
# bench-decode on 300-frame corpora (and the real-message one when the captures are beside the
# clone, else SKIPPED): each side's event count is the count of what it prints, 1.2.3's events by name
suite "bench-decode smoke" env B="$B" python3 tools/bench_decode.py --smoke
# 9b. the soak (make soak, docs/RELIABILITY.md) in 51 s: 10 streamers under faults, a broker
#     restart, reloads and API churn; nothing lost, nothing repeated, the retained totals right
suite "soak smoke" env B="$B" python3 tools/soak.py --smoke

# 10. style as a test
suite "format-check" sh -c 'clang-format --dry-run -Werror $(git ls-files "*.c" "*.h") &&
    echo "1 passed, 0 failed"'

suites_total
