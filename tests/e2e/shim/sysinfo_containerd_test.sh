# sysinfo(2) under containerd 1.6 with procview-runtime as the runc binary
# (ctr run --runc-binary, as a CRI runtime entry's BinaryName does), with
# containerd's own default seccomp profile (ctr run --seccomp): the profile
# keeps its default action and every rule, gains the notify rule, and the
# container's sysinfo (busybox free, a static C program) shows its 256 MiB.
#   sh sysinfo_containerd_test.sh PROCVIEW_RUNTIME PROCVIEW_HOOK PROCVIEWFS SYSINFO_FIELDS
. "$(dirname "$0")/shim_lib.sh"
pvs_init sysinfoctd "$1" "$2" "$3"
{ pv_have containerd && pv_have ctr; } || pv_skip_all "containerd and ctr are not installed"
pv_have runc || pv_skip_all "runc not installed"
T=$PVS_TMP
pvs_sysinfo_views "$4"

pvs_start_containerd "$T/ctd" "pvsi-$$" "$PVS_CONFIG"

id=pvsi-ctd-$$
$CTR run -d --null-io --rootfs --runtime io.containerd.runc.v2 --runc-root "$T/runc-root" --seccomp \
    --env PATH=/bin --memory-limit 268435456 --cgroup "/$PVS_CG/$id" --annotation procview.io/enabled=true \
    --runc-binary "$PVS_RUNTIME" "$PVS_ROOTFS" "$id" sleep 600 >"$T/run.out" 2>&1
check "ctr run --seccomp through the wrapper: running" "$(cat "$T/run.out")" \
    sh -c "$CTR task ls | grep -q '^$id .*RUNNING'"
SPEC=$T/ctd/state/io.containerd.runtime.v2.task/$PVS_CTD_NS/$id/config.json
check "containerd's profile: default action kept, notify rule and listener added" "seccomp: $(grep -o '"seccomp".\{0,300\}' "$SPEC")" \
    sh -c "grep -q '\"defaultAction\":\"SCMP_ACT_ERRNO\"' '$SPEC' && \
           grep -q '{\"names\":\[\"sysinfo\"\],\"action\":\"SCMP_ACT_NOTIFY\"}' '$SPEC' && \
           grep -q '\"listenerPath\":\"$PVS_SOCK\"' '$SPEC' && grep -q '\"listenerMetadata\":\"procview:$id\"' '$SPEC'"
$CTR task exec --fifo-dir "$T/fifo" --exec-id "f$$" "$id" sysinfo_fields >"$T/fields.out" 2>"$T/fields.err"
check "task exec: sysinfo totalram is the 256 MiB limit" "$(cat "$T/fields.out" "$T/fields.err")" \
    grep -qx "totalram 268435456" "$T/fields.out"
$CTR task exec --fifo-dir "$T/fifo" --exec-id "m$$" "$id" sh -c 'free; head -n 100 /proc/meminfo' >"$T/free.out" 2>&1
check "task exec: busybox free total = MemTotal = 262144" "$(cat "$T/free.out")" \
    sh -c "[ \"\$(awk '/^Mem:/ { print \$2 }' '$T/free.out')\" = 262144 ] && grep -q '^MemTotal: *262144 kB' '$T/free.out'"
pv_finish
