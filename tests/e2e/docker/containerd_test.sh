# procview under a real containerd 1.6 configured by procview-ctl: over a
# config.toml with user settings, `procview-ctl configure containerd`; a
# private containerd started on it (scratch root, state and sockets) shows in
# `containerd config dump` the runtime procview with its BinaryName and the
# user's settings intact, and a container run through that BinaryName
# (ctr run --runc-binary, as the CRI plugin does for the runtime) with
# --cpus 1 and 256 MiB sees 262144 kB and 1 CPU in /proc, /sys and busybox
# free (sysinfo), under containerd's default seccomp profile.
# procview-runtime finds the test's procview.json through PROCVIEW_CONFIG in
# containerd's environment (the shim passes it on to the runtime).
#   sh containerd_test.sh PROCVIEW_CTL PROCVIEW_RUNTIME PROCVIEW_HOOK PROCVIEWFS
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../ctl/ctl_lib.sh"
CTL=$1 RUNTIME=$2 HOOK=$3 VIEWS=$4
pv_begin engine-containerd
pv_need_root
{ pv_have containerd && pv_have ctr; } || pv_skip_all "containerd and ctr are not installed"
pv_have runc || pv_skip_all "runc not installed"
for b in "$CTL" "$RUNTIME" "$HOOK" "$VIEWS"; do [ -x "$b" ] || pv_skip_all "$b not built"; done
[ -e /dev/fuse ] || pv_skip_all "no /dev/fuse"
pv_tmpdir pvengine-ctd || pv_skip_all "cannot create a temporary directory"
T=$PV_TMP
[ -d /run/containerd ] || pv_at_exit "rmdir /run/containerd/s /run/containerd/fifo /run/containerd/runc /run/containerd"
CG=pvengine-ctd-$$
pv_at_exit "for c in /sys/fs/cgroup/$CG /sys/fs/cgroup/*/$CG; do [ -d \"\$c\" ] && find \"\$c\" -depth -type d -exec rmdir {} \\; ; done"
pv_busybox_rootfs "$T/rootfs" || pv_skip_all "busybox (static) is needed for the container rootfs"

LSOCK=$T/agent/seccomp.sock
pv_start_views "$VIEWS" "$T/views" --sysinfo-listener "$LSOCK" ||
    pv_skip_all "procviewfs did not start: $(cat "$T/views.log" 2>/dev/null)"
cat >"$T/procview.json" <<EOF
{"mountpoint": $(pv_json_str "$T/views"), "sysinfo_listener_path": $(pv_json_str "$LSOCK"),
 "hook": {"log_file": $(pv_json_str "$T/hook.log")}, "runtime": {"hook_path": $(pv_json_str "$HOOK")}}
EOF

# ---- procview-ctl over a config.toml with user settings ---------------------------
C=$T/root/etc/containerd
SOCK=$T/containerd.sock
mkdir -p "$C"
cat >"$C/config.toml" <<EOF
# this node's containerd
version = 2
root = "$T/ctd-root"
state = "$T/ctd-state"

[grpc]
  address = "$SOCK"
[ttrpc]
  address = "$T/containerd-ttrpc.sock"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "example/pause:3.9"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
    NoPivotRoot = false
  # The CRI plugin runs (a node's usual set-up) but keeps off the host's CNI paths.
  [plugins."io.containerd.grpc.v1.cri".cni]
    conf_dir = "$T/cni/net.d"
    bin_dir = "$T/cni/bin"

[debug]
  level = "info"
EOF
"$CTL" --root "$T/root" configure containerd --runtime-path "$RUNTIME" >"$T/ctl.out" 2>&1
rc=$?
check "procview-ctl configure containerd: exit 0" "exit $rc: $(cat "$T/ctl.out")" [ $rc -eq 0 ]
containerd --config "$C/config.toml" config dump >"$T/dump.toml" 2>"$T/dump.err"
CRI='plugins."io.containerd.grpc.v1.cri"'
BIN=$(toml_value "$CRI.containerd.runtimes.procview.options" BinaryName "$T/dump.toml" | tr -d '"')
check "config dump: runtime procview with BinaryName procview-runtime" "BinaryName '$BIN': $(cat "$T/dump.err")" \
    [ "$BIN" = "$RUNTIME" ]
check "config dump: the user's settings are intact" "$(grep -E 'sandbox_image|level|^root|address' "$T/dump.toml")" \
    sh -c "[ '$(toml_value "$CRI" sandbox_image "$T/dump.toml")' = '\"example/pause:3.9\"' ] && \
           [ '$(toml_value debug level "$T/dump.toml")' = '\"info\"' ] && \
           [ '$(toml_value "$CRI.cni" conf_dir "$T/dump.toml")' = '\"$T/cni/net.d\"' ] && \
           [ '$(toml_value "" root "$T/dump.toml")' = '\"$T/ctd-root\"' ] && \
           [ '$(toml_value grpc address "$T/dump.toml")' = '\"$SOCK\"' ] && \
           grep -q \"^# this node's containerd\" '$C/config.toml'"

# ---- containerd on it, a container through BinaryName ------------------------------
t0=$(date +%s.%N | cut -c1-14)
PROCVIEW_CONFIG=$T/procview.json containerd --config "$C/config.toml" >"$T/containerd.log" 2>&1 &
CTD_PID=$!
pv_at_exit "pv_stop_pid $CTD_PID"
NS=pvengine-$$
CTR="ctr -a $SOCK -n $NS"
up() { $CTR version >/dev/null 2>&1; }
pv_wait_until 30 up || pv_skip_all "containerd did not come up: $(tail -5 "$T/containerd.log")"
echo "     containerd up in $(awk -v a="$t0" -v b="$(date +%s.%N | cut -c1-14)" 'BEGIN { printf "%.2f s", b - a }')"
pv_at_exit "$CTR namespaces rm $NS"

probe='cat /proc/meminfo; echo ---; cat /sys/devices/system/cpu/online; echo ---; grep -c ^processor /proc/cpuinfo; echo ---; free'
t0=$(date +%s.%N | cut -c1-14)
mkdir -p "$T/fifo"
$CTR run --rm --fifo-dir "$T/fifo" --rootfs --runtime io.containerd.runc.v2 --runc-binary "$BIN" --runc-root "$T/runc-root" \
    --seccomp --env PATH=/bin --cpus 1 --memory-limit 268435456 --cgroup "/$CG/c1" \
    --annotation procview.io/enabled=true "$T/rootfs" "pvengine-c1-$$" sh -c "$probe" >"$T/run.out" 2>"$T/run.err" </dev/null
rc=$?
echo "     ctr run through BinaryName in $(awk -v a="$t0" -v b="$(date +%s.%N | cut -c1-14)" 'BEGIN { printf "%.2f s", b - a }')"
check "ctr run --runc-binary BinaryName: exit 0" "exit $rc: $(cat "$T/run.err")" [ $rc -eq 0 ]
awk 'BEGIN { s = 0 } /^---$/ { s++; next } { print > (FILENAME "." s) }' "$T/run.out"
o=$T/run.out
mem=$(pv_meminfo_kb MemTotal <"$o.0" 2>/dev/null)
check "MemTotal 262144 kB" "MemTotal '$mem'" [ "$mem" = 262144 ]
check "/sys/devices/system/cpu/online is 0, 1 processor" "online '$(cat "$o.1" 2>/dev/null)', processors '$(cat "$o.2" 2>/dev/null)'" \
    sh -c "[ '$(cat "$o.1" 2>/dev/null)' = 0 ] && [ '$(cat "$o.2" 2>/dev/null)' = 1 ]"
check "sysinfo: busybox free's total is MemTotal" "free: $(cat "$o.3" 2>/dev/null)" \
    sh -c "[ \"\$(awk '/^Mem:/ { print \$2 }' '$o.3')\" = 262144 ]"

pv_finish
