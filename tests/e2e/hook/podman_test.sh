# e2e 3: podman with the shipped hooks.d entry (--hooks-dir, --rootfs). With
# the annotation the container sees its limits; without it podman does not
# even run the hook (the entry's `when`) and the container sees the host's.
# procview.io/files narrows the set (podman's --annotation splits values at
# commas, so the list is given with spaces, which the hook accepts too).
#   sh podman_test.sh PROCVIEWFS PROCVIEW_HOOK
. "$(dirname "$0")/hook_lib.sh"
pvh_init podman "$@"
pv_have podman || pv_skip_all "podman not installed"
pv_have runc || pv_skip_all "runc not installed (podman runs it here: crun refuses hybrid cgroups with limits)"
pvh_start_views || pv_skip_all "the views server did not start at $PVH_MNT: $(cat "$PVH_MNT.log" 2>/dev/null)"
shipped=$(dirname "$0")/../../../config/hooks.d/procview-hook.json
[ -f "$shipped" ] || pv_skip_all "shipped hooks.d entry not found at $shipped"

# The shipped entry with `path` pointing at the built binary and --config
# (and --debug, for the timing line) in front of the stage.
mkdir -p "$PVH_TMP/hooks.d"
sed -e "s|\"path\": \"[^\"]*\"|\"path\": \"$PVH_HOOK\"|" \
    -e "s|\"args\": \[\"procview-hook\", |\"args\": [\"procview-hook\", \"--config\", \"$PVH_CONFIG\", \"--debug\", |" \
    "$shipped" >"$PVH_TMP/hooks.d/procview-hook.json"
grep -q "\"path\": \"$PVH_HOOK\"" "$PVH_TMP/hooks.d/procview-hook.json" &&
    grep -q -- "--config" "$PVH_TMP/hooks.d/procview-hook.json" ||
    pv_skip_all "could not rewrite the shipped entry's path and args"

# podman's state, storage and cgroups stay inside this test.
parent=pvhook-podman-$$
# (conmon leaves an empty child behind: remove depth first.)
pv_at_exit "for c in /sys/fs/cgroup/*/$parent /sys/fs/cgroup/$parent; do [ -d \"\$c\" ] && find \"\$c\" -depth -type d -exec rmdir {} \\; ; done"
podman_run() {
    _name=$1
    shift
    pv_at_exit "podman --root '$PVH_TMP/podman-root' --runroot '$PVH_TMP/podman-run' --storage-driver vfs rm -f '$_name'"
    podman --root "$PVH_TMP/podman-root" --runroot "$PVH_TMP/podman-run" --storage-driver vfs --runtime "$(command -v runc)" \
        run --rm --name "$_name" --cidfile "$PVH_TMP/$_name.cid" --cgroup-manager cgroupfs --cgroup-parent "/$parent" \
        --network none --ulimit nofile=20000:20000 --ulimit nproc=1000:1000 --hooks-dir "$PVH_TMP/hooks.d" \
        --memory 256m --cpus 1.5 --cpuset-cpus 0-1 "$@" --rootfs "$PVH_ROOTFS" /bin/sh -c "$PVH_PROBE" \
        >"$PVH_TMP/$_name.out" 2>"$PVH_TMP/$_name.err" </dev/null
    PVH_RC=$?
    PVH_CID=$(cat "$PVH_TMP/$_name.cid" 2>/dev/null)
}
host_mem=$(pvh_host_memtotal)
want_cpus=$(pvh_expected_cpus 150000 100000 0-1)

name=pvhook-podman-on-$$
podman_run "$name" --annotation procview.io/enabled=true
if [ "$PVH_RC" = 0 ]; then
    mem=$(pvh_section "$name" meminfo | pv_meminfo_kb MemTotal)
    check "podman with annotation: MemTotal" "MemTotal '$mem' kB, want 262144" [ "$mem" = 262144 ]
    online=$(pvh_section "$name" online | pv_range_count)
    cpuinfo=$(pvh_section "$name" cpuinfo_count)
    check "podman with annotation: CPUs" "online $online, cpuinfo $cpuinfo, want $want_cpus" \
        [ "$online:$cpuinfo" = "$want_cpus:$want_cpus" ]
    check "podman with annotation: the hook ran for this container" "no log line for $PVH_CID" \
        pvh_logged "$PVH_CID" "createRuntime: mounted"
    ms=$(pvh_hook_ms "$PVH_CID")
    [ -n "$ms" ] && echo "INFO podman: hook run time $ms ms"
else
    fail "podman with annotation" "podman exited $PVH_RC: $(cat "$PVH_TMP/$name.err")"
fi

name=pvhook-podman-off-$$
podman_run "$name"
if [ "$PVH_RC" = 0 ]; then
    mem=$(pvh_section "$name" meminfo | pv_meminfo_kb MemTotal)
    check "podman without annotation: host MemTotal" "MemTotal '$mem' kB, host $host_mem kB" [ "$mem" = "$host_mem" ]
    n=$(pvh_mount_count "$name" /proc/meminfo)
    check "podman without annotation: no mount" "$n FUSE mounts on /proc/meminfo" [ "$n" = 0 ]
    check "podman without annotation: the hook did not run (hooks.d when)" "the log has lines for $PVH_CID" \
        sh -c "! grep -q '$PVH_CID' '$PVH_LOG'"
else
    fail "podman without annotation" "podman exited $PVH_RC: $(cat "$PVH_TMP/$name.err")"
fi

name=pvhook-podman-files-$$
podman_run "$name" --annotation procview.io/enabled=true --annotation "procview.io/files=meminfo uptime"
if [ "$PVH_RC" = 0 ]; then
    mem=$(pvh_section "$name" meminfo | pv_meminfo_kb MemTotal)
    check "podman procview.io/files: meminfo is the view" "MemTotal '$mem' kB" [ "$mem" = 262144 ]
    total=$(pvh_section "$name" mountinfo | grep -c " - fuse")
    check "podman procview.io/files: only the two chosen files" "$total FUSE mounts" [ "$total" = 2 ]
else
    fail "podman procview.io/files" "podman exited $PVH_RC: $(cat "$PVH_TMP/$name.err")"
fi

stray=$(pvh_host_stray_mounts)
check "host: no mount left under the test dir" "stray host mounts: $stray" [ -z "$stray" ]
pv_finish
