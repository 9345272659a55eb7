# e2e 5: hostile images. A rootfs may put symlinks (to host paths) or the
# wrong kind of file where /proc/... or /sys/... should be. The hook must
# follow no symlink, mount nothing there, leave the host alone, and log why.
# runc refuses a symlinked /proc or /sys itself, and needs /proc; the /proc
# cases therefore run under crun with procfs at /realproc instead of /proc.
#   sh hostile_test.sh PROCVIEWFS PROCVIEW_HOOK
. "$(dirname "$0")/hook_lib.sh"
pvh_init hostile "$@"
pvh_start_views || pv_skip_all "the views server did not start at $PVH_MNT: $(cat "$PVH_MNT.log" 2>/dev/null)"
enabled='"procview.io/enabled": "true"'

# Host files an image might aim at.
echo "host secret" >"$PVH_TMP/secret"
mkdir -p "$PVH_TMP/hostsys/devices/system/cpu" "$PVH_TMP/hostproc"
echo "host cpu marker" >"$PVH_TMP/hostsys/devices/system/cpu/marker"
echo "host proc marker" >"$PVH_TMP/hostproc/meminfo"

# fuse_at ID MOUNTINFO_PATH TARGET: FUSE mounts the container saw at TARGET.
fuse_at() {
    awk -v s="== mountinfo" '$0 == s { on = 1; next } /^== / { on = 0 } on' "$PVH_TMP/$1.out" |
        awk -v t="$2" '{ for (i = 7; i <= NF; i++) if ($i == "-") break }
            $5 == t && index($(i + 1), "fuse") == 1 { n++ } END { print n + 0 }'
}

# expect_refused NAME ID TARGET REASON: the container ran, got no mount at
# TARGET, and the log names the container and REASON.
expect_refused() {
    _n=$1 _id=$2 _t=$3 _why=$4
    if [ "$PVH_RC" != 0 ]; then
        fail "$_n: container runs" "exit $PVH_RC: $(cat "$PVH_TMP/$_id.err")"
        return
    fi
    _c=$(fuse_at "$_id" "$_t")
    check "$_n: no mount on $_t" "$_c FUSE mounts on $_t" [ "$_c" = 0 ]
    check "$_n: log says why" "no '[$_id] skipped $_t: ...$_why' in $PVH_LOG" pvh_logged "$_id" "skipped $_t: " "$_why"
}

# ---- /sys cases under runc (no sysfs mount, so the image's /sys shows) ------
if pv_have runc; then
    PV_NO_SYS=1
    probe='echo "== mountinfo"; cat /proc/self/mountinfo; echo "== end"'

    pvh_rootfs_copy sys-link-cpu
    rm -rf "$PVH_ROOT_PATH/sys/devices"
    mkdir -p "$PVH_ROOT_PATH/sys/devices/system"
    ln -s "$PVH_TMP/hostsys/devices/system/cpu" "$PVH_ROOT_PATH/sys/devices/system/cpu"
    id=pvhook-hostile-sys1-$$
    pvh_bundle "$id" createRuntime "$enabled" "" sh -c "$probe"
    pvh_runc "$id"
    expect_refused "cpu dir is a symlink to a host path" "$id" /sys/devices/system/cpu "is or passes through a symlink"
    _p=$(fuse_at "$id" /proc/meminfo)
    check "cpu dir is a symlink: /proc views still mounted" "$_p FUSE mounts on /proc/meminfo" [ "$_p" = 1 ]

    pvh_rootfs_copy sys-link-root
    rm -rf "$PVH_ROOT_PATH/sys"
    ln -s "$PVH_TMP/hostsys" "$PVH_ROOT_PATH/sys"
    id=pvhook-hostile-sys2-$$
    pvh_bundle "$id" createRuntime "$enabled" "" sh -c "$probe"
    pvh_runc "$id"
    expect_refused "/sys is a symlink to a host dir" "$id" /sys/devices/system/cpu "is or passes through a symlink"

    pvh_rootfs_copy sys-plain-dir
    mkdir -p "$PVH_ROOT_PATH/sys/devices/system/cpu"
    id=pvhook-hostile-sys3-$$
    pvh_bundle "$id" createRuntime "$enabled" "" sh -c "$probe"
    pvh_runc "$id"
    expect_refused "cpu dir not on sysfs" "$id" /sys/devices/system/cpu "expected sysfs"
    unset PV_NO_SYS
else
    skip "hostile /sys cases" "runc not installed"
fi

# ---- /proc cases under crun (procfs at /realproc, the image's /proc shows) --
if pv_have crun && { ! pvh_hybrid_cgroups || pv_have unshare; }; then
    PV_NO_PROC=1
    PV_EXTRA_MOUNTS='{"destination": "/realproc", "type": "proc", "source": "proc"}'
    probe='echo "== mountinfo"; cat /realproc/self/mountinfo; echo "== end"'

    pvh_rootfs_copy proc-files
    mkdir -p "$PVH_ROOT_PATH/realproc"
    ln -s "$PVH_TMP/secret" "$PVH_ROOT_PATH/proc/meminfo"
    ln -s ../etc/passwd "$PVH_ROOT_PATH/proc/stat"
    mkdir "$PVH_ROOT_PATH/proc/cpuinfo"
    echo "0.00 0.00" >"$PVH_ROOT_PATH/proc/uptime"
    id=pvhook-hostile-proc1-$$
    pvh_bundle "$id" createRuntime "$enabled" "" sh -c "$probe"
    pvh_crun "$id"
    expect_refused "/proc/meminfo is a symlink to a host file" "$id" /proc/meminfo "is or passes through a symlink"
    expect_refused "/proc/stat is a relative symlink" "$id" /proc/stat "is or passes through a symlink"
    expect_refused "/proc/cpuinfo is a directory" "$id" /proc/cpuinfo "is a directory, expected a regular file"
    expect_refused "/proc/uptime is an image file" "$id" /proc/uptime "expected procfs"
    _c=$(fuse_at "$id" /sys/devices/system/cpu)
    check "hostile /proc: the sysfs view still mounted" "$_c FUSE mounts on /sys/devices/system/cpu" [ "$_c" = 1 ]

    pvh_rootfs_copy proc-link
    mkdir -p "$PVH_ROOT_PATH/realproc"
    rm -rf "$PVH_ROOT_PATH/proc"
    ln -s "$PVH_TMP/hostproc" "$PVH_ROOT_PATH/proc"
    id=pvhook-hostile-proc2-$$
    pvh_bundle "$id" createRuntime "$enabled" "" sh -c "$probe"
    pvh_crun "$id"
    expect_refused "/proc is a symlink to a host dir" "$id" /proc/meminfo "is or passes through a symlink"
    _c=$(fuse_at "$id" "$PVH_TMP/hostproc/meminfo")
    check "/proc symlink: nothing mounted on the host path inside" "$_c FUSE mounts on the host path" [ "$_c" = 0 ]
    unset PV_NO_PROC PV_EXTRA_MOUNTS
else
    skip "hostile /proc cases" "crun not installed (or no unshare to run it on this hybrid host)"
fi

# ---- the host -----------------------------------------------------------------
stray=$(pvh_host_stray_mounts)
check "host: no mount left under the test dir" "stray host mounts: $stray" [ -z "$stray" ]
check "host: the secret file unchanged" "content now '$(cat "$PVH_TMP/secret")'" [ "$(cat "$PVH_TMP/secret")" = "host secret" ]
check "host: the cpu dir unchanged" "content now: $(ls "$PVH_TMP/hostsys/devices/system/cpu")" \
    [ "$(ls "$PVH_TMP/hostsys/devices/system/cpu")" = marker ]
check "host: the proc dir unchanged" "content now: $(cat "$PVH_TMP/hostproc/meminfo")" \
    [ "$(cat "$PVH_TMP/hostproc/meminfo")" = "host proc marker" ]
pv_finish
