#!/bin/sh
# Build hygiene, after a full `make all` of $B:
#   - a second make has nothing to do (no object deleted as an intermediate, no relink), and
#     objects are rebuilt when the flags they were compiled with change;
#   - only the library, its tests and the simulator (the generated nanopb code) include
#     headers of connector/src: the .d files make lists what each object really included;
#   - where Debian's static paho archive is installed, the daemon holds it without its heap
#     tracking (bridge/paho_heap.c) and its call trace (bridge/paho_trace.c), its reads go
#     through bridge/paho_socket.c, and
#     PAHO_LINK=shared relinks it against the shared library (and back);
#   - every libFuzzer target still builds (clang, in build/fuzz).
# SPDX-License-Identifier: MIT
set -u
. tests/tools/checks.sh

# -q: exit 0 only when every target is up to date; -n shows what would run, for the log.
if make -q B="$B" ${SANITIZE:+SANITIZE=$SANITIZE} all >/dev/null 2>&1; then
    ok "a second make of $B has nothing to do"
else
    bad "a second make of $B would run:"
    make -n B="$B" ${SANITIZE:+SANITIZE=$SANITIZE} all 2>&1 | head -n 20
fi

n_deps=$(find "$B/obj" -name '*.d' | wc -l)
if [ "$n_deps" -gt 20 ]; then
    ok "$n_deps dependency files to inspect"
else
    bad "only $n_deps dependency files under $B/obj: was $B built?"
fi
leaks=$(find "$B/obj" -name '*.d' ! -path "$B/obj/connector/*" ! -path "$B/obj/tests/*" \
    ! -path "$B/obj/gen/*" -exec grep -l 'connector/src/' {} + 2>/dev/null)
if [ -z "$leaks" ]; then
    ok "no object outside the library and its tests includes connector/src"
else
    bad "objects that include connector/src headers: $leaks"
fi

# paho_link: "static" when $1 (a program) holds paho and neither its Heap.o nor its
# StackTrace.o, "shared" when it needs libpaho-mqtt3as.so and has none of paho's own
# functions, else what it has
paho_link() {
    if ldd "$1" | grep -q libpaho-mqtt3as; then
        nm --defined-only "$1" | grep -q ' MQTTAsync_sendMessage$' && echo "shared and static" ||
            echo shared
    elif nm --defined-only "$1" | grep -q ' Heap_findItem$'; then
        echo "static with paho's heap tracking"
    elif nm --defined-only "$1" | grep -q ' setStack$'; then
        echo "static with paho's call trace"
    elif nm --defined-only "$1" | grep -q ' MQTTAsync_sendMessage$'; then
        echo static
    else
        echo "no paho"
    fi
}
if [ -n "${SANITIZE:-}" ]; then
    echo "SKIPPED: the paho link (checked in the plain build)"
elif ! case "$(cc -print-file-name=libpaho-mqtt3as.a)" in /*) true ;; *) false ;; esac; then
    echo "SKIPPED: the paho link (no static libpaho-mqtt3as.a: the shared one is linked)"
else
    got=$(paho_link "$B/tiktok2mqtt")
    check "tiktok2mqtt links paho static, without its heap tracking and call trace (got: $got)" \
        test "$got" = static
    calls=$(objdump -d --no-show-raw-insn --disassemble=Socket_getch "$B/tiktok2mqtt" |
        grep -c 'call.*<paho_sock_recv>')
    check "and paho's reads go through bridge/paho_socket.c (Socket_getch calls paho_sock_recv)" \
        test "$calls" -ge 1
    T=$(mktemp -d)
    make -s B="$B" PAHO_LINK=shared "$B/tiktok2mqtt" >"$T/log" 2>&1
    got=$(paho_link "$B/tiktok2mqtt")
    check "make PAHO_LINK=shared relinks it against libpaho-mqtt3as.so (got: $got)" \
        test "$got" = shared
    make -s B="$B" all >>"$T/log" 2>&1 # every program that links paho, as it was
    got=$(paho_link "$B/tiktok2mqtt")
    check "and a plain make links it static again (got: $got)" test "$got" = static
    check "after which a make of $B has nothing to do" make -q B="$B" all
    cat "$T/log"
    rm -rf "$T"
fi

# Objects follow the flags they were compiled with (Makefile, FLAGS_STAMP): other CFLAGS in the
# same build directory rebuild them, the same ones (or another WERROR) do not. One object, in a
# scratch build directory.
S=$(mktemp -d)
o="$S/obj/common/buffer.o"
mk() { make --no-print-directory B="$S" "$@" "$o"; } # with -q: 0 when $o is up to date
mk -s CFLAGS="-O2 -g" >/dev/null 2>&1
check "a scratch object builds" test -f "$o"
check "the same CFLAGS again: nothing to do" mk -q CFLAGS="-O2 -g"
check "WERROR=1 changes no object: nothing to do" mk -q CFLAGS="-O2 -g" WERROR=1
if mk -q CFLAGS="-O1 -g"; then
    bad "other CFLAGS leave an object built with the old ones"
else
    ok "other CFLAGS rebuild the object"
fi
mk -s CFLAGS="-O1 -g" >/dev/null 2>&1
check "built with them, nothing to do" mk -q CFLAGS="-O1 -g"
rm -rf "$S"

# The fuzz targets are built only when someone fuzzes, so one that stopped linking went
# unnoticed: `make fuzz-cfg` listed the library files it needed, and failed once options.c came
# to call hosts.c. Built here with make deps' clang, apart from $B (a few seconds, then nothing
# to do).
T=$(mktemp)
if env -u MAKEFLAGS make -s -j2 B="$B" fuzz-build >"$T" 2>&1; then
    ok "every libFuzzer target builds (make fuzz-build)"
else
    bad "make fuzz-build failed:"
    tail -n 20 "$T"
fi
rm -f "$T"

finish
