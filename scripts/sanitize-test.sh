#!/usr/bin/env bash
# The sanitizer and fuzzing lane (called by scripts/test.sh; run as root).
#
#   1. ASan+UBSan build (-DPROCVIEW_SANITIZE=ON, gcc) in build-asan: the unit
#      tests, the fuzz corpus replay, procviewfs's integration, seccomp and
#      fault tests, and the end-to-end tests — they start procviewfs, the hook
#      and the runtime wrapper from the same build directory, so the daemon
#      (and its keeper) run sanitized too. Any sanitizer report, in
#      a test or in a daemon's log, fails the lane.
#   2. libFuzzer build (clang, -DPROCVIEW_FUZZ=ON, ASan+UBSan) in build-fuzz:
#      every target for a bounded time from a scratch copy of its corpus, then
#      every kept crash input (tests/fuzz/regressions) through its binary.
#
#   scripts/sanitize-test.sh [--fuzz-seconds N] [--skip-asan] [--skip-fuzz]
#     PROCVIEW_FUZZ_SECONDS   per-target fuzzing time (default 10: 19 targets ≈ 3 min)
#     PROCVIEW_ASAN_BUILD, PROCVIEW_FUZZ_BUILD   build directories
# Ends with "N passed, N failed" and exits non-zero on any failure. A crash
# input found while fuzzing is kept under $work/crashes and printed; add it to
# tests/fuzz/regressions/<target>/ once understood.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
asan_build="${PROCVIEW_ASAN_BUILD:-$root/build-asan}"
fuzz_build="${PROCVIEW_FUZZ_BUILD:-$root/build-fuzz}"
fuzz_seconds="${PROCVIEW_FUZZ_SECONDS:-10}"
do_asan=1
do_fuzz=1
while (($#)); do
  case "$1" in
    --fuzz-seconds) fuzz_seconds="$2"; shift 2 ;;
    --skip-asan) do_asan=0; shift ;;
    --skip-fuzz) do_fuzz=0; shift ;;
    *) echo "usage: $0 [--fuzz-seconds N] [--skip-asan] [--skip-fuzz]" >&2; exit 2 ;;
  esac
done

jobs="$(nproc)"
work="$(mktemp -d /tmp/pvhard-sanitize.XXXXXX)"
passed=0
failed=0
rows=()   # results table
pass() { echo "PASS $1"; passed=$((passed + 1)); rows+=("$(printf '%-28s %-6s %s' "$1" PASS "${2:-}")"); }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); rows+=("$(printf '%-28s %-6s %s' "$1" FAIL "$2")"); }
elapsed() { echo $(( $(date +%s) - $1 ))s; }

# ---- 1. ASan + UBSan --------------------------------------------------------
if ((do_asan)); then
  t0=$(date +%s)
  reports="$work/asan-reports"
  mkdir -p "$reports"
  # -O0 -g1: about 5x faster to compile than -O2 -g under ASan, and these tests
  # are bound by I/O and process start-up, not by the code's speed.
  if cmake -S "$root" -B "$asan_build" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O0 -g1" \
       -DCMAKE_C_FLAGS_DEBUG="-O0 -g1" -DPROCVIEW_SANITIZE=ON >"$work/asan-cmake.log" 2>&1 &&
     cmake --build "$asan_build" -j"$jobs" --target procview_unit_tests procview_shim_unit_tests procview_fuzz_replay \
       procviewfs procview_integration_tests procview_seccomp_tests procview_fault_tests \
       procview-hook procview-runtime procview-ctl pv-restart-reader pv-stuck-fuse pv-sysinfo-fields \
       >"$work/asan-build.log" 2>&1; then
    pass asan-build "$(elapsed "$t0")"
    # log_path: reports from daemons (whose stderr is a log file) land here too.
    export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:halt_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1:log_path=$reports/asan"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$reports/ubsan"
    export LSAN_OPTIONS="log_path=$reports/lsan"
    for t in unit unit_shim fuzz_replay integration_procviewfs faults_seccomp faults_procviewfs; do
      t1=$(date +%s)
      if ctest --test-dir "$asan_build" -R "^${t}\$" --output-on-failure --timeout 900 >"$work/ctest-$t.log" 2>&1; then
        if grep -q "No tests were found" "$work/ctest-$t.log"; then fail "asan:$t" "not registered"; else pass "asan:$t" "$(elapsed "$t1")"; fi
      else
        tail -40 "$work/ctest-$t.log"
        fail "asan:$t" "see above ($(elapsed "$t1"))"
      fi
    done
    # The end-to-end tests (runc, podman, containerd) with the sanitized hook,
    # runtime wrapper and daemon. runc hands a hook only config.json's
    # environment, so a hook's report reaches runc's error output, and the
    # abort it causes fails the container and the test.
    t1=$(date +%s)
    if ctest --test-dir "$asan_build" -L e2e --output-on-failure --timeout 900 >"$work/ctest-e2e.log" 2>&1; then
      if grep -q "No tests were found" "$work/ctest-e2e.log"; then
        fail "asan:e2e" "not registered"
      else
        # ctest counts a test that printed SKIP and exited 0 as passed.
        pass "asan:e2e" "$(grep -c ' Passed ' "$work/ctest-e2e.log") tests ($(elapsed "$t1"))"
      fi
    else
      tail -60 "$work/ctest-e2e.log"
      fail "asan:e2e" "see above ($(elapsed "$t1"))"
    fi
    unset ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS
    found=$(find "$reports" -type f | wc -l)
    if ((found == 0)); then
      pass asan-reports "none"
    else
      for f in "$reports"/*; do echo "== $f"; head -60 "$f"; done
      fail asan-reports "$found sanitizer report(s), kept in $reports"
    fi
  else
    tail -30 "$work/asan-build.log" "$work/asan-cmake.log" 2>/dev/null
    fail asan-build "see above"
  fi
fi

# ---- 2. libFuzzer -------------------------------------------------------------
if ((do_fuzz)); then
  t0=$(date +%s)
  if ! command -v clang++ >/dev/null; then
    fail fuzz-build "clang++ not installed (scripts/apt-packages.txt: clang, libclang-rt-14-dev)"
  elif cmake -S "$root" -B "$fuzz_build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
         -DCMAKE_CXX_COMPILER=clang++ -DPROCVIEW_FUZZ=ON -DPROCVIEW_SANITIZE=ON >"$work/fuzz-cmake.log" 2>&1 &&
       cmake --build "$fuzz_build" -j"$jobs" --target procview_fuzzers procview_fuzz_replay >"$work/fuzz-build.log" 2>&1; then
    pass fuzz-build "$(elapsed "$t0")"
    mkdir -p "$work/crashes"
    total_runs=0
    for target in $("$fuzz_build/tests/fuzz/procview_fuzz_replay" --list); do
      bin="$fuzz_build/tests/fuzz/fuzz_$target"
      corpus="$work/corpus/$target"
      mkdir -p "$corpus" "$work/crashes/$target"
      cp "$root/tests/fuzz/corpus/$target/"* "$corpus/" 2>/dev/null
      "$bin" -max_total_time="$fuzz_seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$work/crashes/$target/" "$corpus" >"$work/fuzz-$target.log" 2>&1
      rc=$?
      runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/fuzz-$target.log" | tail -1)
      runs=${runs:-0}
      total_runs=$((total_runs + runs))
      crash=$(find "$work/crashes/$target" -type f | head -1)
      if ((rc == 0)) && [[ -z "$crash" ]]; then
        pass "fuzz:$target" "$runs runs in ${fuzz_seconds}s, corpus $(ls "$corpus" | wc -l)"
      else
        grep -E "ERROR|runtime error|invariant|SUMMARY" "$work/fuzz-$target.log" | head -8
        [[ -n "$crash" ]] && { echo "crash input: $crash"; od -c "$crash" | head -12; }
        fail "fuzz:$target" "rc $rc after $runs runs; input ${crash:-none}"
      fi
      kept="$root/tests/fuzz/regressions/$target"
      if [[ -d "$kept" ]] && ls "$kept"/* >/dev/null 2>&1; then
        if "$bin" "$kept"/* >"$work/regress-$target.log" 2>&1; then
          pass "regressions:$target" "$(ls "$kept" | wc -l) input(s)"
        else
          tail -20 "$work/regress-$target.log"
          fail "regressions:$target" "a kept crash input fails again"
        fi
      fi
    done
    rows+=("$(printf '%-28s %-6s %s' fuzz-total "" "$total_runs executions")")
  else
    tail -30 "$work/fuzz-build.log" "$work/fuzz-cmake.log" 2>/dev/null
    fail fuzz-build "see above"
  fi
fi

echo
echo "sanitizer and fuzzing lane:"
printf '%s\n' "${rows[@]}"
if ((failed == 0)); then rm -rf "$work"; else echo "logs kept in $work"; fi
echo "$passed passed, $failed failed"
((failed == 0))
