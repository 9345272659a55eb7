#!/bin/sh
# Smoke test of the benchmark instrument (CI): runs scripts/bench.sh --quick
# against procviewfs (with its --containers-only instance), lxcfs, the FUSE
# floor and native procfs and checks that every server produced reads without
# errors and the report has every part, issue 16's included.
# Timings are never asserted.
#
#   sh bench/bench_smoke.sh BUILD_DIR
#
# Prints PASS/FAIL/SKIP lines and "N passed, N failed[, N skipped]"; exits
# non-zero on any failure. Skips when not root, without /dev/fuse or lxcfs.
set -u

BUILD=${1:?usage: bench_smoke.sh BUILD_DIR}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
passed=0
failed=0
skipped=0
pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }
skip() { echo "SKIP $1: $2"; skipped=$((skipped + 1)); }
finish() {
    if [ "$skipped" -gt 0 ]; then
        echo "$passed passed, $failed failed, $skipped skipped"
    else
        echo "$passed passed, $failed failed"
    fi
    [ "$failed" -eq 0 ]
    exit $?
}

reason=""
[ "$(id -u)" = 0 ] || reason="needs root (cgroups, pid namespaces, FUSE mounts)"
[ -n "$reason" ] || [ -c /dev/fuse ] || reason="no /dev/fuse"
[ -n "$reason" ] || command -v lxcfs >/dev/null 2>&1 || reason="lxcfs is not installed"
[ -n "$reason" ] || command -v bash >/dev/null 2>&1 || reason="bash is not installed"
if [ -n "$reason" ]; then
    skip bench_quick "$reason"
    finish
fi

out=$(mktemp /tmp/pvbench-smoke.XXXXXX)
log="$out.log"
if bash "$ROOT/scripts/bench.sh" --quick --build "$BUILD" --out "$out" > "$log" 2>&1; then
    pass bench_quick_runs
else
    fail bench_quick_runs "scripts/bench.sh --quick failed: $(tail -5 "$log" | tr '\n' ' ')"
fi

for server in native floor lxcfs procviewfs procviewfs-pc procviewfs-co; do
    if grep -q "^| meminfo | orc | 1 | $server | [0-9]" "$out"; then
        pass "bench_quick_row_$server"
    else
        fail "bench_quick_row_$server" "no meminfo/orc row for $server in the report"
    fi
done
for section in "## Targets (issue 5)" "## Per-container files" "## Noisy neighbour" "## Targets (issue 16)" \
    "## FUSE loop" "## Placement" "## FUSE knobs" "## Scale" "## Idle" "## Ready to serve"; do
    if grep -q "^$section" "$out"; then
        pass "bench_quick_section_$(echo "$section" | tr -d '#' | tr ' ' '_')"
    else
        fail "bench_quick_section" "no \"$section\" section"
    fi
done
if grep -q "every measurement has reads" "$log"; then
    pass bench_quick_every_server_read
else
    fail bench_quick_every_server_read "$(grep 'procview-bench-report:' "$log" | head -3 | tr '\n' ' ')"
fi
# Nothing left behind: no mount, cgroup or scratch directory of this run.
run=$(sed -n 's/^bench: scratch \/tmp\/\(pvbench-[0-9]*\)\..*/\1/p' "$log")
if [ -z "$run" ]; then
    fail bench_quick_cleanup "no scratch line in the log"
elif grep -q "$run" /proc/self/mountinfo; then
    fail bench_quick_cleanup "a mount of $run is left"
elif ls -d /sys/fs/cgroup/*/"$run"* /sys/fs/cgroup/"$run"* /tmp/"$run".* >/dev/null 2>&1; then
    fail bench_quick_cleanup "cgroups or scratch files of $run are left"
else
    pass bench_quick_cleanup
fi
rm -f "$out" "$log"
finish
