# What the shell test drivers (tests/build, tests/docs, tests/install, tests/deb,
# tests/oracle/check_gen.sh) share, sourced from the top of the tree: the build they test
# (B, SANITIZE), the pass/fail counters and the closing `N passed, N failed` line.
# SPDX-License-Identifier: MIT
B=${B:-build}
SANITIZE=${SANITIZE:-}
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok: $1"; }
bad() { fail=$((fail + 1)); echo "FAIL: $1"; }
check() { # check DESCRIPTION COMMAND...
    d=$1
    shift
    if "$@"; then ok "$d"; else bad "$d"; fi
}
# the last command of a driver: its closing line, and its exit status
finish() {
    echo "$pass passed, $fail failed"
    [ "$fail" = 0 ]
}
