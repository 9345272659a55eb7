# Helpers for the cgroup v2 lane's own guest tests (v2_smoke.sh, v2_views.sh).
# busybox sh; sourced. They run containers with runc and crun directly (no
# hook), each in the cgroup namespace so /sys/fs/cgroup inside shows the
# container's own cgroup files next to procviewfs's views of them.
#
#   . "$(dirname "$0")/vm_lib.sh"
#   vm_begin pvvm-views          # root check, temp dir $VM_WORK, busybox rootfs
#   vm_start_procviewfs BINARY   # mounts at $VM_WORK/mnt, stopped at exit
#   out=$(vm_run runc NAME "$resources" "$mounts" "$devices" "shell command")
#   vm_finish                    # "N passed, N failed, N skipped"

VM_PASSED=0
VM_FAILED=0
VM_SKIPPED=0
VM_FS_PID=""
VM_FS_BIN=""
pass() { echo "PASS $1"; VM_PASSED=$((VM_PASSED + 1)); }
fail() { echo "FAIL $1: $2"; VM_FAILED=$((VM_FAILED + 1)); }
skip() { echo "SKIP $1: $2"; VM_SKIPPED=$((VM_SKIPPED + 1)); }

vm_finish() {
	echo "$VM_PASSED passed, $VM_FAILED failed, $VM_SKIPPED skipped"
	[ "$VM_FAILED" -eq 0 ]
	exit
}

# Stops what this script started and removes what it made, by name and pid.
vm_cleanup() {
	if [ -n "$VM_FS_PID" ]; then
		kill "$VM_FS_PID" 2>/dev/null && wait "$VM_FS_PID" 2>/dev/null
	fi
	# SIGTERM hands the mount to the keeper; --unmount removes it and ends the keeper.
	[ -n "$VM_FS_BIN" ] && "$VM_FS_BIN" --unmount "$VM_WORK/mnt" >/dev/null 2>&1
	grep -q " $VM_WORK/mnt " /proc/mounts && umount -l "$VM_WORK/mnt"
	for cg in /sys/fs/cgroup/"$VM_PREFIX"-*; do [ -d "$cg" ] && rmdir "$cg"; done
	rm -rf "$VM_WORK"
}

# vm_begin PREFIX: PREFIX names the temp dir, the cgroups and the containers.
vm_begin() {
	VM_PREFIX=$1
	if [ "$(id -u)" -ne 0 ]; then
		skip "$VM_PREFIX" "needs root"
		vm_finish
	fi
	VM_WORK=$(mktemp -d "/tmp/$VM_PREFIX-XXXXXX")
	trap vm_cleanup EXIT
	VM_ROOTFS="$VM_WORK/rootfs"
	mkdir -p "$VM_ROOTFS/bin" "$VM_ROOTFS/proc" "$VM_ROOTFS/sys" "$VM_ROOTFS/dev" "$VM_ROOTFS/tmp"
	cp /bin/busybox "$VM_ROOTFS/bin/busybox"
	for a in sh cat grep head dd sleep awk; do ln -s busybox "$VM_ROOTFS/bin/$a"; done
}

# vm_start_procviewfs BINARY: serves at $VM_WORK/mnt; returns 1 (log in
# VM_FS_LOG) if it is not serving within 5 s. FUSE view files report size 0
# (their length is only known when read), so readiness is tested by content.
vm_start_procviewfs() {
	mkdir -p "$VM_WORK/mnt"
	VM_FS_LOG="$VM_WORK/procviewfs.log"
	VM_FS_BIN=$1
	"$1" -f "$VM_WORK/mnt" >"$VM_FS_LOG" 2>&1 &
	VM_FS_PID=$!
	i=0
	while [ "$i" -lt 50 ]; do
		if [ "$(stat -f -c %t "$VM_WORK/mnt")" = 65735546 ] && grep -q '^MemTotal:' "$VM_WORK/mnt/proc/meminfo"; then
			return 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# vm_bind NAME: a read-only bind of procviewfs's proc/NAME over /proc/NAME,
# as a config.json mount object preceded by a comma.
vm_bind() {
	printf ',\n    {"destination": "/proc/%s", "type": "bind", "source": "%s/mnt/proc/%s", "options": ["rbind", "ro"]}' \
		"$1" "$VM_WORK" "$1"
}

# vm_config BUNDLE CGROUP RESOURCES EXTRA_MOUNTS DEVICES COMMAND
#   RESOURCES: the body of linux.resources; EXTRA_MOUNTS: mount objects each
#   preceded by a comma; DEVICES: the body of linux.devices.
vm_config() {
	# A JSON string: backslashes, quotes, tabs and newlines escaped.
	_cmd=$(printf '%s' "$6" | awk 'BEGIN { ORS = "" }
		{ gsub(/\\/, "&&"); gsub(/"/, "\\\""); gsub(/\t/, "\\t"); if (NR > 1) print "\\n"; print }')
	cat > "$1/config.json" <<EOF
{
  "ociVersion": "1.0.2",
  "process": {
    "terminal": false,
    "user": {"uid": 0, "gid": 0},
    "args": ["/bin/sh", "-c", "$_cmd"],
    "env": ["PATH=/bin"],
    "cwd": "/"
  },
  "root": {"path": "$VM_ROOTFS", "readonly": true},
  "hostname": "$VM_PREFIX",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
    {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "size=262144k"]},
    {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
    {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}$4
  ],
  "linux": {
    "cgroupsPath": "/$2",
    "resources": {$3},
    "devices": [$5],
    "namespaces": [{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "network"}, {"type": "cgroup"}]
  }
}
EOF
}

# vm_run RUNTIME NAME RESOURCES EXTRA_MOUNTS DEVICES COMMAND: runs a container
# to completion in cgroup /$VM_PREFIX-RUNTIME-NAME and prints its output; the
# runtime's stderr goes to our stderr when it fails.
vm_run() {
	_id="$VM_PREFIX-$1-$2"
	_bundle="$VM_WORK/bundle-$_id"
	mkdir -p "$_bundle"
	vm_config "$_bundle" "$_id" "$3" "$4" "$5" "$6"
	"$1" run --bundle "$_bundle" "$_id" 2>"$_bundle/stderr" </dev/null
	_status=$?
	[ "$_status" -eq 0 ] || sed "s/^/  $1: /" "$_bundle/stderr" >&2
	return "$_status"
}

# vm_section NAME < OUTPUT: the lines after "== NAME" up to the next "== ".
vm_section() { awk -v s="== $1" '$0 == s { on = 1; next } /^== / { on = 0 } on'; }
