#!/usr/bin/env bash
# Soak test of procviewfs (run as root, by hand; CI runs the short ctest soak_short):
# readers in N cgroups, each in its own pid namespace, read meminfo, stat,
# loadavg, cpuinfo and uptime in a loop while cgroups are destroyed and
# recreated (their readers killed mid-read). Every meminfo read must show its
# own cgroup's (distinct) limit. Prints a results table: reads, wrong values,
# failed reads, and the daemon's fds, threads and RSS at start, under load and
# idle at the end.
#   scripts/soak.sh [--minutes N] [--cgroups 200] [--churn 5] [--threads N] [--pause-us N] [--build DIR]
#   scripts/soak.sh --restart-gap 20   # instead: the stall a reader sees across kill -9 + restart and --takeover
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
build="${PROCVIEW_BUILD:-$root/build}"
minutes=5 cgroups=200 churn=5 threads=0 pause=0 gap=0
while (($#)); do
  case "$1" in
    --minutes) minutes="$2"; shift 2 ;;
    --cgroups) cgroups="$2"; shift 2 ;;
    --churn) churn="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --pause-us) pause="$2"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    --restart-gap) gap="$2"; shift 2 ;;
    *) sed -n '2,10p' "$0" >&2; exit 2 ;;
  esac
done
cmake --build "$build" --target procview_soak procview_restart_gap procviewfs -j"$(nproc)" >/dev/null
if ((gap > 0)); then
  exec "$build/tests/soak/procview_restart_gap" --procviewfs "$build/fusefs/procviewfs" --repeat "$gap"
fi
# 200 pid namespaces plus their readers: make sure the limits allow them.
ulimit -n 65536 2>/dev/null || true
exec "$build/tests/soak/procview_soak" --procviewfs "$build/fusefs/procviewfs" --minutes "$minutes" \
  --cgroups "$cgroups" --churn "$churn" --threads "$threads" --pause-us "$pause"
