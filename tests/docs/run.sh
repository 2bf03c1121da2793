#!/bin/sh
# The documentation cannot drift from the code:
#   - docs/config.md's and man/tiktok2mqtt.ini.5's key tables are what bridge/cfg_table.h
#     generates, and etc/tiktok2mqtt.ini matches the table (tools/gen_config_ref.py --check);
#   - the check catches drift: on copies of the tree with a default changed in the table, a
#     generated row edited by hand, or an unknown key in the example, it must fail;
#   - every man page renders without a groff warning;
#   - the status error codes in docs/mqtt.md are every code libtiktok names;
#   - every long option a program's usage lists is in its man page and in its reference page
#     (man/tiktok-live-sim.1 lacked --gift-list-kb until 2026-12-07); the check must fail on
#     a copy of a man page with one option taken out.
# SPDX-License-Identifier: MIT
set -u
. tests/tools/checks.sh

if python3 tools/gen_config_ref.py --check >"${TMPDIR:-/tmp}/gen.$$" 2>&1; then
    ok "tools/gen_config_ref.py --check: the reference and the example match the table"
else
    bad "tools/gen_config_ref.py --check:"
    cat "${TMPDIR:-/tmp}/gen.$$"
fi
rm -f "${TMPDIR:-/tmp}/gen.$$"

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
copy() { # a fresh copy of what the generator reads
    rm -rf "$T/tree"
    mkdir -p "$T/tree/bridge" "$T/tree/docs" "$T/tree/man" "$T/tree/etc"
    cp bridge/cfg_table.h "$T/tree/bridge/" && cp docs/config.md "$T/tree/docs/" &&
        cp man/tiktok2mqtt.ini.5 "$T/tree/man/" && cp etc/tiktok2mqtt.ini "$T/tree/etc/"
}
drift() { # drift DESCRIPTION FILE SED-EXPRESSION: the check must fail on the edited copy
    copy
    sed -i "$3" "$T/tree/$2"
    if cmp -s "$2" "$T/tree/$2"; then
        bad "$1: the edit changed nothing (the test is stale)"
    elif python3 tools/gen_config_ref.py --check --root "$T/tree" >"$T/log" 2>&1; then
        bad "$1: not caught"
    else
        ok "$1: caught ($(grep -m1 FAIL "$T/log" | cut -c1-90))"
    fi
}
drift "a default changed in the table" bridge/cfg_table.h 's/"100000",/"200000",/'
drift "a doc string changed in the table" bridge/cfg_table.h 's/"of the event messages"/"of events"/'
drift "a generated row edited in docs/config.md" docs/config.md 's/^| `qos` | int | `1`/| `qos` | int | `2`/'
drift "a generated entry edited in the man page" man/tiktok2mqtt.ini.5 's/^\.B keepalive$/.B keep_alive/'
drift "an unknown key set in the example" etc/tiktok2mqtt.ini 's/^;qos = 1$/qos = 1\nqos_level = 1/'
drift "a value out of range in the example" etc/tiktok2mqtt.ini 's/^;qos = 1$/qos = 3/'
drift "a key missing from the example" etc/tiktok2mqtt.ini '/^;keepalive = /d'
drift "a value shown for a key whose default is empty" etc/tiktok2mqtt.ini 's/^;username =$/;username = me/'

# every error code a status can carry (libtiktok's names, connector/src/err.c) is in the list
# of docs/mqtt.md's `error` field: it named `error`, which is none, and lacked `stale`,
# `http_failed` and seven more
row=$(grep '^| `error` | `null`' docs/mqtt.md)
missing=""
for n in $(sed -n 's/^ *X(TT_[A-Z_]*, *"\([a-z_]*\)".*/\1/p' connector/src/err.c); do
    [ "$n" = ok ] && continue
    case "$row" in *"\`$n\`"*) ;; *) missing="$missing $n" ;; esac
done
if [ -n "$row" ] && [ -z "$missing" ]; then
    ok "docs/mqtt.md's status error codes name every code of connector/src/err.c"
else
    bad "docs/mqtt.md's status error codes lack:${missing:- (no such row)}"
fi

for m in man/*.[1-8]; do
    if [ "$(LC_ALL=C.UTF-8 groff -man -ww -z -Tutf8 "$m" 2>&1)" = "" ]; then
        ok "$m renders without warnings"
    else
        bad "$m: groff warns:"
        LC_ALL=C.UTF-8 groff -man -ww -z -Tutf8 "$m" 2>&1 | head -n 5
    fi
done

# options PROGRAM MAN DOC: what `PROGRAM --help` lists and MAN (groff writes \-) or DOC
# lacks; tt-decode prints its usage on stderr, with status 2
options() {
    for o in $("$B/$1" --help 2>&1 | grep -o -- '--[a-z][a-z-]*' | sort -u); do
        grep -qF -- "$(printf '%s' "$o" | sed 's/-/\\-/g')" "$2" || echo "$o is not in $2"
        grep -qE -- "$o([^a-z-]|\$)" "$3" || echo "$o is not in $3"
    done
}
for p in "tiktok2mqtt man/tiktok2mqtt.8 docs/bridge.md" \
    "tiktok-live-sim man/tiktok-live-sim.1 contrib/sim/README.md" \
    "tt-decode man/tt-decode.1 docs/bridge.md"; do
    set -- $p
    if [ ! -x "$B/$1" ]; then
        bad "$B/$1 is not built"
    elif [ -z "$(options "$@")" ]; then
        ok "every option of $1 --help is in $2 and $3"
    else
        bad "$1 --help and its pages:"
        options "$@"
    fi
done
mkdir -p "$T/man"
sed '/^\.BI \\-\\-seed/,/^\.TP/d' man/tiktok-live-sim.1 >"$T/man/sim.1"
if cmp -s man/tiktok-live-sim.1 "$T/man/sim.1"; then
    bad "an option taken out of a man page: the edit changed nothing (the test is stale)"
elif options tiktok-live-sim "$T/man/sim.1" contrib/sim/README.md | grep -q -- '--seed'; then
    ok "an option taken out of a man page: caught"
else
    bad "an option taken out of a man page: not caught"
fi

finish
