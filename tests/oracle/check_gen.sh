#!/bin/sh
# Our corpus generator against the real library and our decoder: tests/oracle/gen.js writes a
# fresh corpus in each schema (v1, v3) with the events tiktok-live-connector 1.2.3 emits for it;
# build/tt-decode must agree (tests/tools/compare_events.py, as for the committed fixtures), and
# a second run with the same seed must give the same frames. B is the build directory.
# Ends with `N passed, N failed`.
# SPDX-License-Identifier: MIT
cd "$(dirname "$0")/../.." || exit 2
. tests/tools/checks.sh
W="$B/oracle-gen"
sha() { sed -n 's/.*"framesSha256": "\([0-9a-f]*\)".*/\1/p' "$1/manifest.json"; }

rm -rf "$W"
for schema in v1 v3; do
    d="$W/$schema"
    if ! node tests/oracle/gen.js --schema "$schema" --seed "gen-$schema" --frames 300 --out "$d"; then
        bad "gen.js $schema"
        continue
    fi
    ok "gen.js $schema"
    if "$B/tt-decode" "$d" >"$d.actual.jsonl" &&
        python3 tests/tools/compare_events.py "$d/expected.jsonl" "$d.actual.jsonl"; then
        ok "tt-decode == 1.2.3 on a fresh $schema corpus"
    else
        bad "tt-decode == 1.2.3 on a fresh $schema corpus"
    fi
    node tests/oracle/gen.js --schema "$schema" --seed "gen-$schema" --frames 300 --no-expected \
        --out "$d.again" 2>/dev/null
    a=$(sha "$d")
    if [ -n "$a" ] && [ "$a" = "$(sha "$d.again")" ]; then
        ok "same seed, same $schema frames ($a)"
    else
        bad "same seed, same $schema frames"
    fi
done
finish
