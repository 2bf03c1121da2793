#!/bin/sh
# Build hygiene, after a full `make all` of $B:
#   - a second make has nothing to do (no object deleted as an intermediate, no relink);
#   - only the library, its tests and the simulator (the generated nanopb code) include
#     headers of connector/src: the .d files make lists what each object really included.
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

finish
