# e2e 1: runc with procview-hook in config.json, at createRuntime and at
# prestart. A container limited to 256 MiB, quota 1.5 CPUs and cpuset 0-1
# must see MemTotal 262144 kB, the same CPU count in sysfs `online` and
# /proc/cpuinfo, and its own uptime; a container without the annotation
# sees the host's files; the host's mount table is untouched.
#   sh runc_test.sh PROCVIEWFS PROCVIEW_HOOK
. "$(dirname "$0")/hook_lib.sh"
pvh_init runc "$@"
pv_have runc || pv_skip_all "runc not installed"
pvh_start_views || pv_skip_all "the views server did not start at $PVH_MNT: $(cat "$PVH_MNT.log" 2>/dev/null)"

host_mem=$(pvh_host_memtotal)
enabled='"procview.io/enabled": "true"'
limits=$(pv_resources_json 268435456 150000 100000 0-1)
want_cpus=$(pvh_expected_cpus 150000 100000 0-1)

# probe_checks NAME ID WANT_CPUS: the view checks on a probe's output.
probe_checks() {
    _n=$1 _id=$2 _want=$3
    if [ "$PVH_RC" != 0 ]; then
        fail "$_n" "runc exited $PVH_RC: $(cat "$PVH_TMP/$_id.err")"
        return
    fi
    mem=$(pvh_section "$_id" meminfo | pv_meminfo_kb MemTotal)
    check "$_n: MemTotal" "MemTotal is '$mem' kB, want 262144" [ "$mem" = 262144 ]
    online=$(pvh_section "$_id" online | pv_range_count)
    cpuinfo=$(pvh_section "$_id" cpuinfo_count)
    check "$_n: online and cpuinfo agree" "online says $online CPUs, cpuinfo $cpuinfo" [ "$online" = "$cpuinfo" ]
    check "$_n: CPU count" "$online CPUs, want $_want" [ "$online" = "$_want" ]
    if [ "$PVH_IS_PROCVIEWFS" = 1 ]; then
        dirs=$(pvh_section "$_id" cpu_dirs)
        check "$_n: cpuN directories" "$dirs cpuN directories, want $_want" [ "$dirs" = "$_want" ]
    fi
    # The container's uptime is no longer than its `runc run` took (however
    # slow the machine); the host's must be clearly longer for the check to
    # tell them apart.
    up_cs=$(pvh_section "$_id" uptime | awk '{ split($1, t, "."); print t[1] * 100 + substr(t[2] "00", 1, 2) }')
    host_cs=$(pvh_host_uptime_cs)
    if [ "$host_cs" -lt $((2 * PVH_RUN_CS + 200)) ]; then
        skip "$_n: uptime" "the host has been up only $host_cs cs, too little to tell apart from a $PVH_RUN_CS cs run"
    else
        check "$_n: uptime is the container's" "container uptime '${up_cs}' cs, runc run took $PVH_RUN_CS cs, host $host_cs cs" \
            [ "${up_cs:-999999999}" -le $((PVH_RUN_CS + 1)) ]
    fi
    if [ "$PVH_IS_PROCVIEWFS" = 1 ]; then
        # The container's own files (hook.per_container): the mount's root names its init's directory.
        root=$(pvh_section "$_id" mountinfo | awk '$5 == "/proc/meminfo" { r = $4 } END { print r }')
        case "$root" in
        /containers/[0-9]*-[0-9]*/proc/meminfo) pass "$_n: /proc/meminfo is the container's own file ($root)" ;;
        *) fail "$_n: /proc/meminfo is the container's own file" "mount root '$root'" ;;
        esac
    fi
    opts=$(pvh_mount_opts "$_id" /proc/meminfo)
    case "$opts" in
    ro,nosuid,nodev,noexec*) pass "$_n: read-only, nosuid, nodev, noexec" ;;
    *) fail "$_n: read-only, nosuid, nodev, noexec" "/proc/meminfo mount options '$opts'" ;;
    esac
    # Pressure files are served (and mounted) only on a pure cgroup v2 host
    # whose kernel has PSI.
    if [ -e /sys/fs/cgroup/cgroup.controllers ] && [ -e /proc/pressure/memory ]; then
        np=0
        for f in cpu memory io; do np=$((np + $(pvh_mount_count "$_id" /proc/pressure/$f))); done
        check "$_n: /proc/pressure/{cpu,memory,io} mounted" "$np of 3 mounted" [ "$np" = 3 ]
        first=$(pvh_section "$_id" pressure)
        case "$first" in
        "some avg10="*) pass "$_n: /proc/pressure/memory reads" ;;
        *) fail "$_n: /proc/pressure/memory reads" "read '$first'" ;;
        esac
    else
        np=$(pvh_section "$_id" mountinfo | grep -c " /proc/pressure/.* - fuse")
        check "$_n: no pressure mounts off pure cgroup v2" "$np pressure mounts" [ "$np" = 0 ]
    fi
    ms=$(pvh_hook_ms "$_id")
    [ -n "$ms" ] && echo "INFO $_n: hook run time $ms ms"
}

for stage in createRuntime prestart; do
    id=pvhook-runc-$stage-$$
    pvh_bundle "$id" "$stage" "$enabled" "$limits" sh -c "$PVH_PROBE"
    pvh_runc "$id"
    probe_checks "runc $stage" "$id" "$want_cpus"
done

# A quota of half a CPU must narrow the view to 1 CPU even on a 2-CPU host:
# this is what tells the container's view from the host's.
id=pvhook-runc-half-$$
pvh_bundle "$id" createRuntime "$enabled" "$(pv_resources_json 268435456 50000 100000 0-1)" sh -c "$PVH_PROBE"
pvh_runc "$id"
probe_checks "runc quota 0.5" "$id" 1

# The fallbacks for older kernels, forced: the legacy mount API (bind by
# path inside the container's namespace, then a read-only remount) and the
# per-component walk instead of openat2.
id=pvhook-runc-legacy-$$
PVH_HOOK_ARGS="--mount-api legacy --resolve walk"
pvh_bundle "$id" createRuntime "$enabled" "$(pv_resources_json 268435456 50000 100000 0-1)" sh -c "$PVH_PROBE"
unset PVH_HOOK_ARGS
pvh_runc "$id"
probe_checks "runc legacy mount API + walk" "$id" 1

# hook.containers_mountpoint: the per-container files come from a
# `procviewfs --containers-only` mount (no OPEN round trip), sys/ from the main one.
if [ "$PVH_IS_PROCVIEWFS" = 1 ]; then
    cmnt=$PVH_MNT-containers
    mkdir -p "$cmnt"
    "$PVH_VIEWS" -f --no-sysinfo --config "$PVH_CONFIG" --containers-only "$cmnt" >"$cmnt.log" 2>&1 &
    cpid=$!
    pv_at_exit "rmdir '$cmnt' 2>/dev/null"
    pv_at_exit "'$PVH_VIEWS' --unmount '$cmnt' >/dev/null 2>&1"
    pv_at_exit "pv_stop_pid $cpid"
    pv_wait_until 10 pv_is_mounted "$cmnt" fuse
    pvh_write_config '"containers_mountpoint": "'"$cmnt"'"'
    id=pvhook-runc-cmount-$$
    pvh_bundle "$id" createRuntime "$enabled" "$limits" sh -c "$PVH_PROBE"
    pvh_runc "$id"
    probe_checks "runc containers-only mount" "$id" "$want_cpus"
    dev=$(pvh_section "$id" mountinfo | awk '$5 == "/proc/meminfo" { print $3 }')
    cdev=$(mountpoint -d "$cmnt")
    check "runc containers-only mount: /proc/meminfo comes from it" "device '$dev', the containers-only mount is '$cdev'" \
        [ "$dev" = "$cdev" ]
    cpudev=$(pvh_section "$id" mountinfo | awk '$5 == "/sys/devices/system/cpu" { print $3 }')
    check "runc containers-only mount: sys/devices/system/cpu from the main mount" "device '$cpudev'" \
        [ "$cpudev" = "$(mountpoint -d "$PVH_MNT")" ]
    pvh_write_config
fi

# Both stages registered: the second run finds the first one's mounts and
# leaves them alone (one FUSE mount per target, not two).
id=pvhook-runc-both-$$
pvh_bundle "$id" both "$enabled" "$limits" sh -c "$PVH_PROBE"
pvh_runc "$id"
if [ "$PVH_RC" = 0 ]; then
    n=$(pvh_mount_count "$id" /proc/meminfo)
    check "runc both stages: mounted once" "$n FUSE mounts on /proc/meminfo" [ "$n" = 1 ]
    check "runc both stages: second run says why it skipped" "no 'already a FUSE mount' in the log" \
        grep -q "\[$id\] .*skipped /proc/meminfo: \`proc/meminfo\` is already a FUSE mount" "$PVH_LOG"
else
    fail "runc both stages" "runc exited $PVH_RC: $(cat "$PVH_TMP/$id.err")"
fi

# No annotation: the hook runs and does nothing; the host's files show.
id=pvhook-runc-off-$$
pvh_bundle "$id" createRuntime "" "$limits" sh -c "$PVH_PROBE"
pvh_runc "$id"
mem=$(pvh_section "$id" meminfo | pv_meminfo_kb MemTotal)
check "runc without annotation: host MemTotal" "MemTotal '$mem' kB, host $host_mem kB (rc $PVH_RC)" \
    [ "$PVH_RC:$mem" = "0:$host_mem" ]
n=$(pvh_mount_count "$id" /proc/meminfo)
check "runc without annotation: no mount" "$n FUSE mounts on /proc/meminfo" [ "$n" = 0 ]

# The host: no mount under the rootfs, its own /proc/meminfo.
check "host mount table untouched" "$(grep -c "$PVH_ROOTFS" /proc/self/mountinfo) mounts under the rootfs" \
    sh -c "! grep -q '$PVH_ROOTFS' /proc/self/mountinfo"
check "host /proc/meminfo untouched" "host MemTotal changed" [ "$(pvh_host_memtotal)" = "$host_mem" ]
[ -n "${PVH_KEEP_LOG:-}" ] && cp "$PVH_LOG" "$PVH_KEEP_LOG"
pv_finish
