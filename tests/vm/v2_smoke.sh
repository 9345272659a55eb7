#!/bin/sh
# Smoke test of the cgroup v2 lane, run inside the guest (busybox sh):
#   sh v2_smoke.sh [PROCVIEWFS]
# Proves the guest is what the lane promises: a pure cgroup v2 hierarchy with
# the controllers enabled, swap and a scratch block device; runc and crun both
# start containers with memory and CPU limits that the container sees through
# its cgroup namespace; and procviewfs (the binary given, default the
# build's) mounts here and a container whose /proc/meminfo is bound from it
# sees its own memory limit, under runc and crun.
# Prints PASS/FAIL/SKIP lines and `N passed, N failed, N skipped`.
. "$(dirname "$0")/vm_lib.sh"
procviewfs="${1:-${PROCVIEW_BUILD:-/procview/build}/fusefs/procviewfs}"
limit_bytes=268435456
limits="\"memory\": {\"limit\": $limit_bytes}, \"cpu\": {\"quota\": 150000, \"period\": 100000}"
vm_begin pvvm-smoke

# --- the guest itself --------------------------------------------------------
if awk '$3 == "cgroup" { found = 1 } END { exit !found }' /proc/mounts; then
	fail pure_v2 "cgroup v1 mounts present: $(awk '$3 == "cgroup" { print $2 }' /proc/mounts | tr '\n' ' ')"
elif ! awk '$2 == "/sys/fs/cgroup" && $3 == "cgroup2" { found = 1 } END { exit !found }' /proc/mounts; then
	fail pure_v2 "no cgroup2 on /sys/fs/cgroup"
else
	pass pure_v2
fi
controllers=$(cat /sys/fs/cgroup/cgroup.controllers 2>/dev/null)
enabled=$(cat /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null)
missing=""
for c in memory cpu cpuset io pids; do
	case " $controllers " in *" $c "*) ;; *) missing="$missing $c" ;; esac
	case " $enabled " in *" $c "*) ;; *) missing="$missing +$c" ;; esac
done
if [ -z "$missing" ]; then pass controllers; else fail controllers "missing:$missing (controllers: $controllers; enabled: $enabled)"; fi
if grep -q '^/dev/ram0 ' /proc/swaps; then pass swap_device; else fail swap_device "no /dev/ram0 in /proc/swaps"; fi
if [ -b "${PROCVIEW_TEST_BLOCKDEV:-}" ]; then pass scratch_blockdev; else fail scratch_blockdev "PROCVIEW_TEST_BLOCKDEV='${PROCVIEW_TEST_BLOCKDEV:-}' is not a block device"; fi

# --- runc and crun with limits ------------------------------------------------
expected="$limit_bytes
150000 100000"
for rt in runc crun; do
	out=$(vm_run "$rt" limits "$limits" "" "" "cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/cpu.max")
	if [ "$out" = "$expected" ]; then pass "${rt}_limits"; else fail "${rt}_limits" "container saw '$(echo $out)', expected '$(echo $expected)'"; fi
done

# --- procviewfs in the guest ---------------------------------------------------
# The lane exists to run procviewfs: a build without it is a failure here.
if [ ! -x "$procviewfs" ]; then
	fail procviewfs_mount "no procviewfs binary at $procviewfs (incomplete build?)"
elif ! vm_start_procviewfs "$procviewfs"; then
	fail procviewfs_mount "not serving at $VM_WORK/mnt after 5 s: $(tail -n 5 "$VM_FS_LOG" | tr '\n' ' ')"
else
	pass procviewfs_mount
	for rt in runc crun; do
		out=$(vm_run "$rt" meminfo "$limits" "$(vm_bind meminfo)" "" "grep '^MemTotal:' /proc/meminfo")
		if echo "$out" | grep -Eq "^MemTotal: +$((limit_bytes / 1024)) kB$"; then
			pass "procviewfs_${rt}_meminfo"
		else
			fail "procviewfs_${rt}_meminfo" "container saw '$out', expected MemTotal $((limit_bytes / 1024)) kB"
		fi
	done
fi
vm_finish
