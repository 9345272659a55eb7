# In-place pod resize (Kubernetes 1.35 GA), as the kubelet does it: the
# container's limits through `runc update` (cpu.max / memory.max on v2,
# cpu.cfs_quota_us / memory.limit_in_bytes on v1), the pod's by writing its
# cgroup (the container's parent) directly. A runc container made by
# procview-runtime, in the cgroup <parent>/pod/ctr, limited to 256 MiB and one
# CPU; after each change the very next read of /proc/meminfo, of
# /sys/devices/system/cpu/online and the next sysinfo(2) show the new limit:
#   container up   runc update --memory 384M --cpu-quota -1: 384 MiB and the
#                  cpuset's 2 CPUs (a container without a CPU limit in a pod
#                  with pod-level resources; v1 refuses a child quota above
#                  its parent's, so the pod's CPU limit can only be tighter
#                  than an unlimited container's)
#   pod down       the pod's memory 128 MiB, quota 50000/100000 (1 CPU): the
#                  tighter ancestor wins
#   pod up         the pod's limits lifted (max / -1): the container's again
#   sh resize_test.sh PROCVIEW_RUNTIME PROCVIEW_HOOK PROCVIEWFS SYSINFO_FIELDS
. "$(dirname "$0")/shim_lib.sh"
pvs_init resize "$1" "$2" "$3"
pv_have runc || pv_skip_all "runc not installed"
T=$PVS_TMP
ROOT=$T/runc-root
W="$PVS_RUNTIME"
pvs_delete_containers_at_exit "$ROOT"
pvs_sysinfo_views "$4"
G="--procview-config $PVS_CONFIG --root $ROOT"

b=$T/ctr
mkdir -p "$b"
PV_ROOT_PATH=$PVS_ROOTFS PV_ANNOTATIONS='"procview.io/enabled": "true"' \
    PV_RESOURCES=$(pv_resources_json 268435456 100000 100000 0-1) \
    PV_CGROUPS_PATH=/$PVS_CG/pod/ctr pv_write_config "$b" sleep 300
id=pvresize-$$
# shellcheck disable=SC2086
"$W" $G run -d --bundle "$b" "$id" >"$T/run.out" 2>&1 </dev/null ||
    pv_skip_all "the container did not start: $(cat "$T/run.out")"

host_cpus=$(grep -c ^processor /proc/cpuinfo)
min() { [ "$1" -lt "$2" ] && echo "$1" || echo "$2"; }
# The CPUs the views show for a quota of N whole CPUs under cpuset 0-1.
cpus_for() { min "$1" "$(min 2 "$host_cpus")"; }
# The count in a range list ("0-1" -> 2, "0" -> 1).
count() { awk -F, '{ n = 0; for (i = 1; i <= NF; i++) { split($i, r, "-"); n += (r[2] == "" ? 1 : r[2] - r[1] + 1) } print n }'; }
host_mem_kb=$(pv_meminfo_kb MemTotal </proc/meminfo)

# seen NAME MEM_BYTES CPUS: one exec reads the three, right after the change.
seen() {
    # shellcheck disable=SC2086
    "$W" $G exec "$id" sh -c 'grep ^MemTotal: /proc/meminfo; cat /sys/devices/system/cpu/online; sysinfo_fields' \
        >"$T/$1.out" 2>&1
    want_kb=$(min $(($2 / 1024)) "$host_mem_kb")
    got_kb=$(awk '$1 == "MemTotal:" { print $2 }' "$T/$1.out")
    got_cpus=$(sed -n 2p "$T/$1.out" | count)
    got_ram=$(awk '$1 == "totalram" { print $2 }' "$T/$1.out")
    echo "INFO $1: MemTotal $got_kb kB, $got_cpus CPUs (online $(sed -n 2p "$T/$1.out")), sysinfo totalram $got_ram"
    check "$1: /proc/meminfo MemTotal $want_kb kB" "$(cat "$T/$1.out")" [ "$got_kb" = "$want_kb" ]
    check "$1: cpu/online shows $3 CPUs" "$(cat "$T/$1.out")" [ "$got_cpus" = "$3" ]
    check "$1: sysinfo totalram $((want_kb * 1024))" "$(cat "$T/$1.out")" [ "$got_ram" = $((want_kb * 1024)) ]
}

# The pod cgroup's files, v2 or v1.
if [ -e "/sys/fs/cgroup/$PVS_CG/pod/cgroup.procs" ]; then
    pod_memory() { echo "$1" >"/sys/fs/cgroup/$PVS_CG/pod/memory.max"; }
    pod_cpu() { echo "$1 100000" >"/sys/fs/cgroup/$PVS_CG/pod/cpu.max"; }
    unlimited_mem=max unlimited_cpu=max lane=v2
else
    pod_memory() { echo "$1" >"/sys/fs/cgroup/memory/$PVS_CG/pod/memory.limit_in_bytes"; }
    pod_cpu() {
        echo 100000 >"/sys/fs/cgroup/cpu/$PVS_CG/pod/cpu.cfs_period_us"
        echo "$1" >"/sys/fs/cgroup/cpu/$PVS_CG/pod/cpu.cfs_quota_us"
    }
    unlimited_mem=-1 unlimited_cpu=-1 lane=v1
fi
echo "INFO cgroup $lane, $host_cpus host CPUs, container in /$PVS_CG/pod/ctr"

seen "start" 268435456 "$(cpus_for 1)"

# ---- container-level, through runc update (the kubelet's CRI UpdateContainerResources) ---
# shellcheck disable=SC2086
"$W" $G update --memory 402653184 --cpu-quota -1 "$id" >"$T/update.out" 2>&1
rc=$?
check "runc update of the container: exit 0" "exit $rc: $(cat "$T/update.out")" [ "$rc" = 0 ]
seen "container up (384 MiB, no CPU limit)" 402653184 "$(cpus_for 2)"

# ---- pod-level, the pod cgroup written directly (tighter than the container's) ----------
pod_memory 134217728 && pod_cpu 50000 || fail "pod cgroup written" "cannot write the pod's limits"
seen "pod down (128 MiB, half a CPU)" 134217728 1

# ---- pod-level lifted: the container's own limits show again ------------------------------
pod_cpu "$unlimited_cpu" && pod_memory "$unlimited_mem" || fail "pod cgroup written" "cannot lift the pod's limits"
seen "pod up (unlimited)" 402653184 "$(cpus_for 2)"
pv_finish
