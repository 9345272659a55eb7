#!/usr/bin/env bash
# The main job, from a fresh clone, as root on Debian 12:
#   1. installs packages and builds (scripts/setup.sh; its output goes to a log);
#   2. starts procviewfs on /var/lib/procview (unless one already serves it);
#   3. runs a runc container limited to 256 MiB and 1 CPU, with procview-hook
#      as its createRuntime hook;
#   4. prints what the container sees next to what the host sees, and checks
#      that the container's column shows its limits (exit 1 if it does not).
#
#   scripts/demo.sh           # procviewfs keeps serving afterwards
#   scripts/demo.sh --stop    # removes the procviewfs mount this run started (CI)
#
# Remove it later with  build/fusefs/procviewfs --unmount /var/lib/procview
# (a plain kill only stops the daemon: its keeper keeps the mount for the next one).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
mnt=/var/lib/procview
build="$root/build"
pidfile=/run/procview/procviewfs.pid
stop_after=0
case "${1:-}" in
  --stop) stop_after=1 ;;
  "") ;;
  -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
  *) echo "demo: unknown argument '$1' (see --help)" >&2; exit 2 ;;
esac

# The container's limits: 256 MiB and a CFS quota of one CPU over a cpuset of
# up to two CPUs, so both columns differ on any host with 2 or more CPUs.
mem_limit=$((256 * 1024 * 1024))
quota_us=100000
period_us=100000

mkdir -p "$build"
log="$build/demo.log"
: >"$log"
step() { printf '[%s] %s\n' "$1" "$2"; }
fail_with_log() {
  echo "demo: FAILED: $1" >&2
  echo "demo: full log: $log" >&2
  tail -n 20 "$log" | sed 's/^/  | /' >&2
  exit 1
}

step 1/4 "installing Debian packages and building (log: $log)"
"$here/setup.sh" >>"$log" 2>&1 || fail_with_log "scripts/setup.sh exited $?"

# shellcheck source=../tests/e2e/lib.sh
. "$root/tests/e2e/lib.sh"

serving() { [ "$(stat -f -c %t "$mnt" 2>/dev/null)" = 65735546 ] && pv_serves "$mnt"; }
started_pid=""
if serving; then
  step 2/4 "procviewfs already serves $mnt"
else
  mkdir -p /run/procview
  "$build/fusefs/procviewfs" --pidfile "$pidfile" --log-file /var/log/procviewfs.log "$mnt" >>"$log" 2>&1 ||
    fail_with_log "procviewfs did not start (its log: /var/log/procviewfs.log)"
  started_pid="$(cat "$pidfile")"
  step 2/4 "started procviewfs on $mnt (pid $started_pid, log /var/log/procviewfs.log)"
fi

work="$(mktemp -d /tmp/procview-demo.XXXXXX)"
id="procview-demo-$$"
cleanup() {
  runc delete -f "$id" >/dev/null 2>&1 || true
  rm -rf "$work"
  if ((stop_after)) && [[ -n "$started_pid" ]]; then
    # The daemon retires and its keeper unmounts and exits (SIGTERM would leave the mount).
    "$build/fusefs/procviewfs" --unmount "$mnt" >/dev/null 2>&1 || true
    for _ in $(seq 50); do kill -0 "$started_pid" 2>/dev/null || break; sleep 0.1; done
  fi
}
trap cleanup EXIT

cat >"$work/procview.json" <<JSON
{"mountpoint": "$mnt", "hook": {"log_file": "$work/hook.log"}}
JSON
mkdir -p "$work/bundle/rootfs"
pv_busybox_rootfs "$work/bundle/rootfs" || fail_with_log "no static busybox to build the container's rootfs"
cpus=0
[ "$(nproc)" -ge 2 ] && cpus=0-1

# What both columns print; the same script runs on the host and in the container.
cat >"$work/bundle/rootfs/report.sh" <<'SH'
meminfo() { awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo; }
printf 'MemTotal     %s kB\n' "$(meminfo MemTotal)"
printf 'MemAvailable %s kB\n' "$(meminfo MemAvailable)"
printf 'CPUs online  %s\n' "$(cat /sys/devices/system/cpu/online)"
printf 'processors   %s\n' "$(grep -c '^processor' /proc/cpuinfo)"
printf 'cpu lines    %s\n' "$(grep -c '^cpu' /proc/stat)"
printf 'uptime       %s s\n' "$(cut -d' ' -f1 /proc/uptime)"
printf 'loadavg      %s\n' "$(cut -d' ' -f1-4 /proc/loadavg)"
SH

step 3/4 "running a runc container limited to 256 MiB and 1 CPU (cpuset $cpus)"
PV_HOOKS="$(pv_hooks_json createRuntime "$build/hook/procview-hook" --config "$work/procview.json" createRuntime)"
PV_ANNOTATIONS='"procview.io/enabled": "true"'
PV_RESOURCES="$(pv_resources_json "$mem_limit" "$quota_us" "$period_us" "$cpus")"
PV_CGROUPS_PATH="/$id"
pv_write_config "$work/bundle" /bin/sh /report.sh
runc run --bundle "$work/bundle" "$id" >"$work/container.txt" 2>>"$log" </dev/null ||
  fail_with_log "runc run exited $? (hook log: $work/hook.log)"
sh "$work/bundle/rootfs/report.sh" >"$work/host.txt"

step 4/4 "comparing the views"
echo
printf '%-40s | %s\n' "HOST" "CONTAINER (through procview)"
printf '%-40s-+-%s\n' "----------------------------------------" "----------------------------------------"
paste -d'|' "$work/host.txt" "$work/container.txt" | while IFS='|' read -r h c; do printf '%-40s | %s\n' "$h" "$c"; done
echo

# The container's column must show its limits, not the host's.
value() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }
problems=()
[[ "$(value "$work/container.txt" MemTotal)" == $((mem_limit / 1024)) ]] ||
  problems+=("MemTotal is $(value "$work/container.txt" MemTotal) kB, not $((mem_limit / 1024)) kB")
[[ "$(awk '$1 == "CPUs" { print $3 }' "$work/container.txt")" == 0 ]] ||
  problems+=("CPUs online is '$(awk '$1 == "CPUs" { print $3 }' "$work/container.txt")', not '0'")
[[ "$(value "$work/container.txt" processors)" == 1 ]] ||
  problems+=("/proc/cpuinfo has $(value "$work/container.txt" processors) processors, not 1")
[[ "$(awk '$1 == "cpu" { print $3 }' "$work/container.txt")" == 2 ]] ||
  problems+=("/proc/stat has $(awk '$1 == "cpu" { print $3 }' "$work/container.txt") cpu lines, not 2 (cpu, cpu0)")
host_up="$(value "$work/host.txt" uptime)"
ctr_up="$(value "$work/container.txt" uptime)"
awk -v c="$ctr_up" -v h="$host_up" 'BEGIN { exit !(c + 0 < h + 0) }' ||
  problems+=("container uptime $ctr_up s is not below the host's $host_up s")
if ((${#problems[@]})); then
  printf 'demo: the container does not see its limits:\n' >&2
  printf '  - %s\n' "${problems[@]}" >&2
  fail_with_log "wrong views (hook log: $work/hook.log)"
fi
echo "The container sees its limits: 256 MiB, 1 CPU, its own uptime and load."
if ((stop_after)) && [[ -n "$started_pid" ]]; then
  echo "Removing the procviewfs mount this demo started (pid $started_pid): procviewfs --unmount $mnt"
else
  echo "procviewfs keeps serving $mnt; bind its files by hand with e.g."
  echo "  -v $mnt/proc/meminfo:/proc/meminfo:ro, or let procview-hook / procview-runtime do it."
  echo "Remove it with: $build/fusefs/procviewfs --unmount $mnt"
fi
