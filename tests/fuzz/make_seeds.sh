#!/usr/bin/env bash
# Regenerates the seed corpora (corpus/<target>/seed-*) from tests/fixtures
# plus a few hand-written inputs for formats the fixtures lack (OCI states,
# command lines, io.stat with traffic). Inputs with several texts join them
# with NUL bytes, in the order the target documents (targets_*.cpp); a leading
# flag byte is \x00..\x03. Corpus entries libFuzzer adds (no "seed-" prefix)
# are left alone.
#   tests/fuzz/make_seeds.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
fx="$(dirname "$here")/fixtures"
out="$here/corpus"
v1="$fx/v1"; v2="$fx/v2"; ctr="$v2/cgroup/kubepods/pod1/ctr1"; pod="$v2/cgroup/kubepods/pod1"

n=0
# seed TARGET NAME [--flag BYTE] PART... : parts are files (@path) or literal text.
seed() {
  local target="$1" name="$2"; shift 2
  mkdir -p "$out/$target"
  local file="$out/$target/seed-$name"
  : > "$file"
  if [[ "${1:-}" == --flag ]]; then printf "\\x$2" >> "$file"; shift 2; fi
  local first=1
  for part in "$@"; do
    ((first)) || printf '\0' >> "$file"
    first=0
    if [[ "$part" == @* ]]; then cat "${part#@}" >> "$file"; else printf '%s' "$part" >> "$file"; fi
  done
  n=$((n + 1))
}

rm -f "$out"/*/seed-*

# cgroup files
seed cgroup_memory_stat v2-ctr1 --flag 00 "@$ctr/memory.stat"
seed cgroup_memory_stat v2-root --flag 00 "@$v2/cgroup/memory.stat"
seed cgroup_memory_stat v1-pvfx --flag 01 "@$v1/cgroup/memory/pvfx/memory.stat"
seed cgroup_scalars memory-max "@$ctr/memory.max"
seed cgroup_scalars memory-max-unlimited "@$v2/cgroup/idle/memory.max"
seed cgroup_scalars limit-in-bytes "@$v1/cgroup/memory/pvfx/memory.limit_in_bytes"
seed cgroup_scalars memsw-unlimited "@$v1/cgroup/memory/pvfx/memory.memsw.limit_in_bytes"
seed cgroup_scalars memory-current "@$ctr/memory.current"
seed cgroup_scalars cpu-max "@$ctr/cpu.max"
seed cgroup_scalars cpu-max-unlimited "@$v2/cgroup/idle/cpu.max"
seed cgroup_scalars cfs "@$v1/cgroup/cpu/pvfx/cpu.cfs_quota_us" "@$v1/cgroup/cpu/pvfx/cpu.cfs_period_us"
seed cgroup_scalars cfs-unlimited $'-1\n' $'100000\n'
seed cgroup_cpu_usage cpu-stat "@$ctr/cpu.stat"
seed cgroup_cpu_usage cpu-stat-root "@$v2/cgroup/cpu.stat"
seed cgroup_cpu_usage usage-all "@$v1/cgroup/cpuacct/pvfx/cpuacct.usage_all"
seed cgroup_io io-stat "@$v2/cgroup/io.stat"
seed cgroup_io io-stat-traffic $'8:0 rbytes=1048576 wbytes=4096 rios=20 wios=1 dbytes=0 dios=0\n259:0 rbytes=0 wbytes=8192 rios=0 wios=2 dbytes=0 dios=0 cost.usage=10 cost.wait=0\n'
seed cgroup_io blkio-pvfx "@$v1/cgroup/blkio/pvfx/blkio.throttle.io_serviced_recursive" "@$v1/cgroup/blkio/pvfx/blkio.throttle.io_service_bytes_recursive"
seed cgroup_io blkio-traffic $'8:0 Read 10\n8:0 Write 5\n8:0 Sync 15\n8:0 Async 0\n8:0 Discard 0\n8:0 Total 15\nTotal 15\n' \
  $'8:0 Read 40960\n8:0 Write 20480\n8:0 Sync 61440\n8:0 Async 0\n8:0 Discard 0\n8:0 Total 61440\nTotal 61440\n' \
  $'8:0 Read 3000000\n8:0 Write 1000000\n8:0 Sync 4000000\n8:0 Async 0\n8:0 Discard 0\n8:0 Total 4000000\nTotal 4000000\n'
seed proc_pid v1-cgroup "@$v1/proc/4065/cgroup"
seed proc_pid v1-stat "@$v1/proc/4065/stat"
seed proc_pid v1-status "@$v1/proc/4065/status"
seed proc_pid v2-cgroup "@$v2/proc/133/cgroup"
seed proc_pid v2-stat "@$v2/proc/133/stat"
seed proc_pid v2-status "@$v2/proc/133/status"
seed proc_pid comm-with-parens $'77 (a) b (c)) S 1 77 77 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 3 0 12345 1000 100 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n'
seed proc_pid init-scope $'0::/system.slice/docker-abc.scope/init.scope\n'
seed cpuset effective "@$ctr/cpuset.cpus.effective"
seed cpuset online-and-cpus "@$v2/sys/devices/system/cpu/online" "@$v1/cgroup/cpuset/pvfx/cpuset.cpus"
seed cpuset ranges $'0-3,8,10-11\n' $'2-9\n'

# host procfs
for v in v1 v2; do
  seed proc_meminfo "$v" "@$fx/$v/proc/meminfo"
  seed proc_cpuinfo "$v" "@$fx/$v/proc/cpuinfo"
  seed proc_stat "$v" "@$fx/$v/proc/stat"
  seed proc_diskstats "$v" "@$fx/$v/proc/diskstats"
done

# procviewfs's /proc/stat records (core/stat_record.hpp)
seed stat_record v1 $'procview-stat-record 1\ncgroup /pvit-5092-old-noquota\ninit 4026532174 5247 201930\nbaseline 1742370032 0\ncpu 0 1487129674 0\ncpu 1 255240357 0\ncapacity 0.00944496900001468 2 0.01888993800002936\n'
seed stat_record v2 $'procview-stat-record 1\ncgroup /kubepods/pod1/ctr1\ninit 4026532291 1234 567890\nbaseline 4180000000 20000000\ncapacity 0.31 1.5 0.465\n'

# configuration and OCI input
seed config full '{"mountpoint": "/var/lib/procview", "cgroup_root": "", "proc_root": "/proc",
 "sys_cpu_root": "/sys/devices/system/cpu", "swap": true, "loadavg": true, "cpu_quota": true, "threads": 0,
 "log_level": "info", "log_file": "",
 "hook": {"files": ["meminfo","cpuinfo","stat","uptime","loadavg","diskstats","swaps","cpu_online"],
          "fail_closed": false, "health_timeout_ms": 50, "log_file": "/var/log/procview-hook.log"},
 "runtime": {"runtime": "", "enable_all": false, "mode": "hook",
             "hook_path": "/usr/local/libexec/procview/procview-hook", "fail_closed": false}}'
seed config comments $'// comment\n{"threads": 4, /* inline */ "log_level": "debug", "runtime": {"mode": "mounts"}}'
seed oci_state runc '{"ociVersion":"1.0.2","id":"ctr1","status":"creating","pid":4242,"bundle":"/run/containerd/io.containerd.runtime.v2.task/default/ctr1","annotations":{"procview.io/enabled":"true","procview.io/files":"meminfo,cpuinfo stat"}}'
seed oci_state crun '{"ociVersion":"1.0","id":"c2","pid":77,"root":"rootfs","bundle":"/var/lib/c/b","status":"created","annotations":{"procview.io/enabled":"true"}}'
seed oci_state pressure '{"ociVersion":"1.0.2","id":"x","status":"creating","pid":1,"bundle":"/b","annotations":{"procview.io/files":"pressure,cpu,cpu_online,swaps,bogus"}}'
for spec in "$fx"/oci/*.json; do
  base="$(basename "$spec" .json)"
  seed oci_bundle "$base" "run/containerd/io.containerd.runtime.v2.task/default/$base" "@$spec"
  seed shim_spec "$base-hook" --flag 00 "@$spec"
  seed shim_spec "$base-all" --flag 01 "@$spec"
  seed shim_spec "$base-mounts" --flag 03 "@$spec"
done
seed shim_args containerd-create --root /run/containerd/runc/k8s.io --log /run/containerd/io.containerd.runtime.v2.task/k8s.io/c1/log.json \
  --log-format json --systemd-cgroup create --bundle /run/containerd/io.containerd.runtime.v2.task/k8s.io/c1 \
  --pid-file /run/containerd/io.containerd.runtime.v2.task/k8s.io/c1/init.pid c1
seed shim_args docker-ours --procview-config /etc/procview/procview.json --root /var/run/docker/runtime-runc/moby \
  --log=/run/log.json --log-format=json create --bundle=/b --pid-file /b/pid --console-socket /tmp/c.sock abc
seed shim_args crun-short -b/bundle -fconfig.json create id2
seed shim_args exec --root /r exec --process /tmp/p.json --detach --pid-file /tmp/p.pid c1
seed shim_args features features
seed shim_args end-of-flags run -- --bundle

# renderers
seed render_memory v2-ctr1 --flag 00 "@$v2/proc/meminfo" "@$ctr/memory.stat" "@$ctr/memory.current" \
  "@$ctr/memory.swap.current" "" "@$ctr/memory.max" "@$pod/memory.max" "@$ctr/memory.swap.max" "@$pod/memory.swap.max"
seed render_memory v2-no-swap --flag 02 "@$v2/proc/meminfo" "@$ctr/memory.stat" "@$ctr/memory.current" \
  "@$ctr/memory.swap.current" "" "@$ctr/memory.max" "@$pod/memory.max" "@$ctr/memory.swap.max" "@$pod/memory.swap.max"
m="$v1/cgroup/memory/pvfx"
seed render_memory v1-pvfx --flag 01 "@$v1/proc/meminfo" "@$m/memory.stat" "@$m/memory.usage_in_bytes" \
  "@$m/memory.memsw.usage_in_bytes" "@$m/memory.swappiness" "@$m/memory.limit_in_bytes" "" "@$m/memory.memsw.limit_in_bytes" ""
seed render_cpu v2-ctr1 --flag 00 "@$v2/proc/cpuinfo" "@$v2/sys/devices/system/cpu/online" "@$ctr/cpuset.cpus.effective" \
  "@$ctr/cpu.max" "" "@$pod/cpu.max" "" "" "@$ctr/cpu.stat" "@$v2/proc/stat" 12345 9000 20000
c="$v1/cgroup/cpu/pvfx"
seed render_cpu v1-pvfx --flag 01 "@$v1/proc/cpuinfo" "@$v1/sys/devices/system/cpu/online" "@$v1/cgroup/cpuset/pvfx/cpuset.effective_cpus" \
  "@$c/cpu.cfs_quota_us" "@$c/cpu.cfs_period_us" "" "" "@$v1/cgroup/cpuacct/pvfx/cpuacct.usage_all" "" "@$v1/proc/stat" 500000 750000 900000
seed render_cpu v1-no-quota --flag 03 "@$v1/proc/cpuinfo" "@$v1/sys/devices/system/cpu/online" "@$v1/cgroup/cpuset/pvfx/cpuset.effective_cpus" \
  "@$c/cpu.cfs_quota_us" "@$c/cpu.cfs_period_us" "" "" "@$v1/cgroup/cpuacct/pvfx/cpuacct.usage_all" "" "@$v1/proc/stat" 500000 1000000 900000
seed render_misc v2 --flag 00 "@$v2/proc/diskstats" $'8:0 rbytes=1048576 wbytes=4096 rios=20 wios=1 dbytes=0 dios=0\n' "" "" $'\x03\x02\x00\x05'
seed render_misc v1 --flag 01 "@$v1/proc/diskstats" "" $'8:0 Read 10\n8:0 Write 5\n8:0 Total 15\nTotal 15\n' \
  $'8:0 Read 40960\n8:0 Write 20480\n8:0 Total 61440\nTotal 61440\n' $'\x01\x01\x01'
seed render_vmstat v2-ctr1 --flag 00 "@$v2/proc/vmstat" "@$v2/proc/meminfo" "@$ctr/memory.stat" "@$ctr/memory.current" \
  "@$ctr/memory.max" $'8:0 rbytes=1048576 wbytes=4096 rios=20 wios=1 dbytes=0 dios=0\n'
seed render_vmstat v1-pvfx --flag 01 "@$v1/proc/vmstat" "@$v1/proc/meminfo" "@$m/memory.stat" "@$m/memory.usage_in_bytes" \
  "@$m/memory.limit_in_bytes" ""
seed render_vmstat v2-64k-pages --flag 06 "@$v2/proc/vmstat" "@$v2/proc/meminfo" "@$ctr/memory.stat" "@$ctr/memory.current" \
  "max" ""

echo "make_seeds: $n seeds in $out"
