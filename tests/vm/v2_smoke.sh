#!/bin/sh
# Smoke test of the cgroup v2 lane, run inside the guest (busybox sh):
#   sh v2_smoke.sh [PROCVIEWFS]
# Proves the guest is what the lane promises: a pure cgroup v2 hierarchy with
# the controllers enabled; runc and crun both start containers with memory and
# CPU limits that the container sees through its cgroup namespace; and, when a
# procviewfs binary is given and exists, that it mounts here and a container
# whose /proc/meminfo is bound from it sees its own memory limit.
# Prints PASS/FAIL/SKIP lines and `N passed, N failed, N skipped`.
procviewfs="${1:-${PROCVIEW_BUILD:-/procview/build}/fusefs/procviewfs}"
limit_bytes=268435456
limit_kb=$((limit_bytes / 1024))
passed=0 failed=0 skipped=0
pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }
skip() { echo "SKIP $1: $2"; skipped=$((skipped + 1)); }

if [ "$(id -u)" -ne 0 ]; then
	skip v2_smoke "needs root"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi
work=$(mktemp -d /tmp/pvvm-smoke-XXXXXX)
fs_pid=""
cleanup() {
	[ -n "$fs_pid" ] && kill "$fs_pid" 2>/dev/null && wait "$fs_pid" 2>/dev/null
	grep -q " $work/mnt " /proc/mounts && umount -l "$work/mnt"
	for cg in /sys/fs/cgroup/pvvm-smoke-*; do [ -d "$cg" ] && rmdir "$cg"; done
	rm -rf "$work"
}
trap cleanup EXIT

# --- the host side of the guest: pure v2 -----------------------------------
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

# --- a busybox bundle -------------------------------------------------------
rootfs="$work/rootfs"
mkdir -p "$rootfs/bin" "$rootfs/proc" "$rootfs/sys" "$rootfs/dev" "$rootfs/tmp"
cp /bin/busybox "$rootfs/bin/busybox"
for a in sh cat grep head; do ln -s busybox "$rootfs/bin/$a"; done

# write_config BUNDLE CGROUP EXTRA_MOUNTS_JSON COMMAND
write_config() {
	cat > "$1/config.json" <<EOF
{
  "ociVersion": "1.0.2",
  "process": {
    "terminal": false,
    "user": {"uid": 0, "gid": 0},
    "args": ["/bin/sh", "-c", "$4"],
    "env": ["PATH=/bin"],
    "cwd": "/"
  },
  "root": {"path": "$rootfs", "readonly": true},
  "hostname": "pvvm-smoke",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
    {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
    {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}$3
  ],
  "linux": {
    "cgroupsPath": "/$2",
    "resources": {
      "memory": {"limit": $limit_bytes},
      "cpu": {"quota": 150000, "period": 100000}
    },
    "namespaces": [{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "network"}, {"type": "cgroup"}]
  }
}
EOF
}

# run_container RUNTIME NAME EXTRA_MOUNTS COMMAND: prints the container's output.
run_container() {
	bundle="$work/bundle-$1-$2"
	mkdir -p "$bundle"
	write_config "$bundle" "pvvm-smoke-$1-$2" "$3" "$4"
	"$1" run --bundle "$bundle" "pvvm-smoke-$1-$2" 2>"$bundle/stderr" </dev/null
	status=$?
	[ "$status" -eq 0 ] || sed "s/^/  $1: /" "$bundle/stderr" >&2
	return "$status"
}

for rt in runc crun; do
	out=$(run_container "$rt" limits "" "cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/cpu.max")
	expected="$limit_bytes
150000 100000"
	if [ "$out" = "$expected" ]; then pass "${rt}_limits"; else fail "${rt}_limits" "container saw '$(echo $out)', expected '$(echo $expected)'"; fi
done

# --- procviewfs in the guest -------------------------------------------------
if [ ! -x "$procviewfs" ]; then
	skip procviewfs_mount "no procviewfs binary at $procviewfs"
	skip procviewfs_runc_meminfo "no procviewfs binary"
	skip procviewfs_crun_meminfo "no procviewfs binary"
else
	mkdir -p "$work/mnt"
	"$procviewfs" -f "$work/mnt" >"$work/procviewfs.log" 2>&1 &
	fs_pid=$!
	i=0
	while [ "$i" -lt 50 ] && [ "$(stat -f -c %t "$work/mnt")" != 65735546 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	# FUSE view files report size 0 (their length is only known when read), so test the content.
	if [ "$(stat -f -c %t "$work/mnt")" = 65735546 ] && grep -q '^MemTotal:' "$work/mnt/proc/meminfo"; then
		pass procviewfs_mount
		bind=",
    {\"destination\": \"/proc/meminfo\", \"type\": \"bind\", \"source\": \"$work/mnt/proc/meminfo\", \"options\": [\"rbind\", \"ro\"]}"
		for rt in runc crun; do
			out=$(run_container "$rt" meminfo "$bind" "grep '^MemTotal:' /proc/meminfo")
			if echo "$out" | grep -Eq "^MemTotal: +$limit_kb kB$"; then
				pass "procviewfs_${rt}_meminfo"
			else
				fail "procviewfs_${rt}_meminfo" "container saw '$out', expected MemTotal $limit_kb kB"
			fi
		done
	else
		fail procviewfs_mount "not serving at $work/mnt after 5 s: $(tail -n 5 "$work/procviewfs.log" | tr '\n' ' ')"
		fail procviewfs_runc_meminfo "procviewfs not mounted"
		fail procviewfs_crun_meminfo "procviewfs not mounted"
	fi
fi

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
