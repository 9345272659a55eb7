# e2e: the hook's views never propagate out of the container's mount
# namespace. A view is a private mount, but a new mount propagates as its
# parent mount does: runc containers whose procfs or sysfs mount is shared
# with the host would copy each view into the host's mount table:
#   1. linux.rootfsPropagation "rshared" with a rootfs on a shared mount
#      (runc 1.1 makes the rootfs's parent mount private before it mounts
#      procfs, so this one holds with the old hook too: a guard);
#   2. a bidirectional /sys: an rbind of the host's /sys with "rshared" and
#      rootfsPropagation "rshared", what containerd makes of Kubernetes'
#      mountPropagation: Bidirectional. The container's sysfs mount is then
#      a peer of the host's, and the view of /sys/devices/system/cpu would
#      cover the host's own.
# Each: the container sees its views (MemTotal 262144 kB, the CPU count)
# and the host's mount table has no FUSE mount below the rootfs, nor on
# /sys/devices/system/cpu. The "host" is this script's own private mount
# namespace, whose /sys and temp dir it makes shared: the machine's real
# mount table is never at risk, even when the hook misbehaves.
#   sh propagation_test.sh PROCVIEWFS PROCVIEW_HOOK
if [ -z "${PVH_PRIVATE_NS:-}" ] && command -v unshare >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    PVH_PRIVATE_NS=1 exec unshare -m --propagation private sh "$0" "$@"
fi
. "$(dirname "$0")/hook_lib.sh"
pvh_init propagation "$@"
pv_have runc || pv_skip_all "runc not installed"
[ -n "${PVH_PRIVATE_NS:-}" ] || pv_skip_all "needs unshare (util-linux) for a private mount namespace"
# The temp dir becomes a shared mount of its own (in this namespace only).
mount --bind "$PVH_TMP" "$PVH_TMP" && pv_at_exit "umount -l '$PVH_TMP'" && mount --make-shared "$PVH_TMP" ||
    pv_skip_all "cannot make $PVH_TMP a shared mount"
pvh_start_views || pv_skip_all "the views server did not start at $PVH_MNT"
enabled='"procview.io/enabled": "true"'
limits=$(pv_resources_json 268435456 150000 100000 0-1)
cpus=$(pvh_expected_cpus 150000 100000 0-1)

# FUSE mounts in this (the "host's") mount table at or below PATH.
host_fuse_mounts() {
    awk -v p="$1" '{ for (i = 7; i <= NF; i++) if ($i == "-") break }
        ($5 == p || index($5, p "/") == 1) && index($(i + 1), "fuse") == 1 { print $5 }' /proc/self/mountinfo
}

# sees_views NAME ID: the container ran and saw its 256 MiB and CPU count.
sees_views() {
    _mem=$(pvh_section "$2" meminfo | pv_meminfo_kb MemTotal)
    _online=$(pvh_section "$2" online | pv_range_count)
    check "$1: the container sees its views" \
        "exit $PVH_RC, MemTotal '$_mem' kB, $_online CPUs (want $cpus): $(cat "$PVH_TMP/$2.err")" \
        [ "$PVH_RC:$_mem:$_online" = "0:262144:$cpus" ]
}

# 1. rootfsPropagation rshared, the rootfs on a shared mount.
id=pvhook-prop-rshared-$$
pvh_rootfs_copy rshared
PV_ROOTFS_PROPAGATION=rshared
pvh_bundle "$id" createRuntime "$enabled" "$limits" sh -c "$PVH_PROBE"
PV_ROOTFS_PROPAGATION=""
pvh_runc "$id"
sees_views "rshared rootfs" "$id"
stray=$(host_fuse_mounts "$PVH_ROOT_PATH")
check "rshared rootfs: no view in the host's mount table" "the host has FUSE mounts at: $stray" [ -z "$stray" ]

# 2. A bidirectional /sys, with each mount API (the legacy one binds by path).
bidirectional_sys() {
    _tag=$1 _name="bidirectional /sys ($1 mount API)"
    id=pvhook-prop-sys-$_tag-$$
    pvh_rootfs_copy "sys-$_tag"
    PV_NO_SYS=1 PV_ROOTFS_PROPAGATION=rshared PVH_HOOK_ARGS="--mount-api $_tag"
    PV_EXTRA_MOUNTS='{"destination": "/sys", "type": "bind", "source": "/sys", "options": ["rbind", "rshared", "nosuid", "noexec", "nodev"]}'
    pvh_bundle "$id" createRuntime "$enabled" "$limits" sh -c "$PVH_PROBE"
    PV_NO_SYS="" PV_EXTRA_MOUNTS="" PV_ROOTFS_PROPAGATION="" PVH_HOOK_ARGS=""
    pvh_runc "$id"
    sees_views "$_name" "$id"
    stray=$(host_fuse_mounts /sys/devices/system/cpu)
    check "$_name: the host's /sys/devices/system/cpu stays the host's" "the host has FUSE mounts at: $stray" \
        [ -z "$stray" ]
    # A stray mount would sit below /sys in this namespace only, which ends with the script.
    [ -z "$stray" ] || umount -l /sys/devices/system/cpu
}
if mount --make-rshared /sys; then
    bidirectional_sys new
    bidirectional_sys legacy
else
    skip "bidirectional /sys" "cannot make /sys shared in this namespace"
fi
pv_finish
