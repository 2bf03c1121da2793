# What tests/run.sh and tests/run_tsan.sh share (sourced): `suite NAME CMD...` runs one suite,
# shows its output and adds up its closing `N passed, N failed` line; a suite that exits
# non-zero counts as failed even if its own line says otherwise. `suites_total` ends with the
# total in the same form and the exit status.
# SPDX-License-Identifier: MIT
total_p=0
total_f=0
failed_suites=""
log=$(mktemp)
trap 'rm -f "$log"' EXIT

suite() {
    name=$1
    shift
    echo "== $name"
    "$@" >"$log" 2>&1
    rc=$?
    cat "$log"
    line=$(grep -E '^([A-Za-z-]+: )?[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
    p=$(echo "$line" | sed -E 's/^([A-Za-z-]+: )?([0-9]+) passed.*/\2/')
    f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
    [ -n "$line" ] || { p=0; f=0; }
    if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
        f=1
    fi
    [ "$f" = 0 ] || failed_suites="$failed_suites $name"
    total_p=$((total_p + p))
    total_f=$((total_f + f))
}

suites_total() {
    echo
    [ -z "$failed_suites" ] || echo "failed suites:$failed_suites"
    echo "total: $total_p passed, $total_f failed"
    [ "$total_f" = 0 ]
}
