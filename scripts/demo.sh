#!/usr/bin/env bash
# The main job, from a fresh clone, as root on Debian 12:
#   1. installs packages and builds (scripts/setup.sh);
#   2. starts procviewfs on /var/lib/procview (unless one already serves it);
#   3. runs a runc container limited to 256 MiB and 1.5 CPUs, with
#      procview-hook as its createRuntime hook;
#   4. prints what the container sees next to what the host sees.
# procviewfs keeps running afterwards; stop it with
#   kill $(cat /run/procview/procviewfs.pid)      (SIGTERM unmounts cleanly)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
mnt=/var/lib/procview
build="$root/build"

"$here/setup.sh"
# shellcheck source=../tests/e2e/lib.sh
. "$root/tests/e2e/lib.sh"

serving() { [ "$(stat -f -c %t "$mnt" 2>/dev/null)" = 65735546 ] && [ -n "$(head -c 8 "$mnt/proc/uptime" 2>/dev/null)" ]; }
if serving; then
  echo "procviewfs already serves $mnt"
else
  mkdir -p /run/procview
  "$build/fusefs/procviewfs" --pidfile /run/procview/procviewfs.pid --log-file /var/log/procviewfs.log "$mnt"
  echo "started procviewfs on $mnt (pid $(cat /run/procview/procviewfs.pid), log /var/log/procviewfs.log)"
fi

work="$(mktemp -d /tmp/procview-demo.XXXXXX)"
id="procview-demo-$$"
cleanup() {
  runc delete -f "$id" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

cat >"$work/procview.json" <<JSON
{"mountpoint": "$mnt", "hook": {"log_file": "$work/hook.log"}}
JSON
mkdir -p "$work/bundle/rootfs"
pv_busybox_rootfs "$work/bundle/rootfs"
cpus=0; [ "$(nproc)" -ge 2 ] && cpus=0-1
report='
  printf "MemTotal     %s kB\n" "$(awk "/^MemTotal:/ {print \$2}" /proc/meminfo)"
  printf "MemAvailable %s kB\n" "$(awk "/^MemAvailable:/ {print \$2}" /proc/meminfo)"
  printf "CPUs online  %s\n" "$(cat /sys/devices/system/cpu/online)"
  printf "processors   %s\n" "$(grep -c ^processor /proc/cpuinfo)"
  printf "nproc        %s\n" "$(nproc)"
  printf "uptime       %s s\n" "$(cut -d" " -f1 /proc/uptime)"
  printf "loadavg      %s\n" "$(cut -d" " -f1-4 /proc/loadavg)"
  printf "cpu lines    %s\n" "$(grep -c "^cpu" /proc/stat)"
PV_HOOKS="$(pv_hooks_json createRuntime "$build/hook/procview-hook" --config "$work/procview.json" createRuntime)"
PV_ANNOTATIONS='"procview.io/enabled": "true"'
PV_RESOURCES="$(pv_resources_json 268435456 150000 100000 "$cpus")"
PV_CGROUPS_PATH="/$id"
pv_write_config "$work/bundle" /bin/sh -c "$report"

runc run --bundle "$work/bundle" "$id" >"$work/container.txt" 2>"$work/runc.err" || {
  cat "$work/runc.err" >&2
  exit 1
}
sh -c "$report" >"$work/host.txt"

echo
echo "A runc container limited to 256 MiB and 1.5 CPUs (cpuset $cpus), its views next to the host's:"
echo
printf '%-40s | %s\n' "HOST" "CONTAINER (through procview)"
printf '%-40s-+-%s\n' "----------------------------------------" "----------------------------------------"
paste -d'|' "$work/host.txt" "$work/container.txt" | while IFS='|' read -r h c; do printf '%-40s | %s\n' "$h" "$c"; done
echo
echo "procviewfs keeps serving $mnt; bind its files by hand with e.g."
echo "  -v $mnt/proc/meminfo:/proc/meminfo:ro, or let procview-hook / procview-runtime do it."
