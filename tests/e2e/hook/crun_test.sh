# e2e 4: crun (state status "created", an extra "root"). On this project's
# hybrid-cgroup host crun refuses to run a container with limits ("cgroups
# in hybrid mode not supported"); the test says so, then runs crun in a
# private mount namespace without the v2 mount, where crun uses the v1
# hierarchies and its limits apply. On a pure v1 or v2 host crun runs as is.
#   sh crun_test.sh PROCVIEWFS PROCVIEW_HOOK
. "$(dirname "$0")/hook_lib.sh"
pvh_init crun "$@"
pv_have crun || pv_skip_all "crun not installed"
pvh_start_views || pv_skip_all "the views server did not start at $PVH_MNT: $(cat "$PVH_MNT.log" 2>/dev/null)"
enabled='"procview.io/enabled": "true"'
host_mem=$(pvh_host_memtotal)

if pvh_hybrid_cgroups; then
    # Show what crun does here as the machine is.
    id=pvhook-crun-asis-$$
    pvh_bundle "$id" createRuntime "$enabled" "$(pv_resources_json 268435456 150000 100000 0-1)" true
    crun --root "$PVH_TMP/crun-state" run --bundle "$PVH_TMP/$id" "$id" >"$PVH_TMP/$id.out" 2>"$PVH_TMP/$id.err" </dev/null
    rc=$?
    crun --root "$PVH_TMP/crun-state" delete -f "$id" >/dev/null 2>&1
    if [ "$rc" != 0 ]; then
        skip "crun on the hybrid cgroup layout as is" "crun refuses it: $(head -n 1 "$PVH_TMP/$id.err"); running crun with the v2 mount hidden instead"
    fi
    pv_have unshare || pv_skip_all "hybrid cgroups and no unshare(1) to hide the v2 mount from crun"
fi

# checks NAME ID WANT_CPUS WANT_MEM_KB
checks() {
    _n=$1 _id=$2 _cpus=$3 _mem=$4
    if [ "$PVH_RC" != 0 ]; then
        fail "$_n" "crun exited $PVH_RC: $(cat "$PVH_TMP/$_id.err")"
        return
    fi
    mem=$(pvh_section "$_id" meminfo | pv_meminfo_kb MemTotal)
    check "$_n: MemTotal" "MemTotal '$mem' kB, want $_mem" [ "$mem" = "$_mem" ]
    online=$(pvh_section "$_id" online | pv_range_count)
    cpuinfo=$(pvh_section "$_id" cpuinfo_count)
    check "$_n: CPUs (online, cpuinfo)" "online $online, cpuinfo $cpuinfo, want $_cpus" [ "$online:$cpuinfo" = "$_cpus:$_cpus" ]
    n=$(pvh_section "$_id" mountinfo | grep -c " - fuse")
    check "$_n: the views are mounted" "$n FUSE mounts" [ "$n" -ge 8 ]
    check "$_n: crun's state reached the hook (status created)" "no 'status created' line" \
        pvh_logged "$_id" "hook: status created"
    ms=$(pvh_hook_ms "$_id")
    [ -n "$ms" ] && echo "INFO $_n: hook run time $ms ms"
}

for stage in createRuntime prestart; do
    id=pvhook-crun-$stage-$$
    pvh_bundle "$id" "$stage" "$enabled" "$(pv_resources_json 268435456 50000 100000 0-1)" sh -c "$PVH_PROBE"
    pvh_crun "$id"
    checks "crun $stage, 256 MiB, quota 0.5" "$id" 1 262144
done

# No cgroup limits at all: the mounts land and show the unlimited view.
id=pvhook-crun-nolimits-$$
pvh_bundle "$id" createRuntime "$enabled" "" sh -c "$PVH_PROBE"
pvh_crun "$id"
checks "crun without limits" "$id" "$(pv_range_count </sys/devices/system/cpu/online)" "$host_mem"

stray=$(pvh_host_stray_mounts)
check "host: no mount left under the test dir" "stray host mounts: $stray" [ -z "$stray" ]
pv_finish
