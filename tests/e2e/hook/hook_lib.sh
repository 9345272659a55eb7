# Helpers for the procview-hook end-to-end scripts, on top of ../lib.sh.
# Every script is called as: sh SCRIPT VIEWS_SERVER PROCVIEW_HOOK
# where VIEWS_SERVER is procviewfs (or lxcfs, which serves the same tree,
# for developing the hook without procviewfs).
#
#   . "$(dirname "$0")/hook_lib.sh"
#   pvh_init runc "$@"          # root check, temp dir, rootfs, config
#   pvh_start_views || pv_skip_all "..."
#   pvh_bundle ID STAGE '"procview.io/enabled": "true"' "$(pv_resources_json ...)" sh -c "$PVH_PROBE"
#   pvh_runc ID                 # output in $PVH_TMP/ID.out, status in PVH_RC

. "$(dirname "$0")/../lib.sh"

# What the probe container prints, one "== name" section per fact.
PVH_PROBE='echo "== meminfo"; cat /proc/meminfo
echo "== online"; cat /sys/devices/system/cpu/online
echo "== cpuinfo_count"; grep -c "^processor" /proc/cpuinfo
echo "== uptime"; cat /proc/uptime
echo "== cpu_dirs"; ls /sys/devices/system/cpu | grep -c "^cpu[0-9]"
echo "== pressure"; head -n 1 /proc/pressure/memory 2>&1
echo "== mountinfo"; cat /proc/self/mountinfo
echo "== end"'

pvh_init() {
    pv_begin "hook-$1"
    PVH_VIEWS=${2:-}
    PVH_HOOK=${3:-}
    pv_need_root
    [ -n "$PVH_HOOK" ] && [ -x "$PVH_HOOK" ] || pv_skip_all "procview-hook binary not given or not executable: '$PVH_HOOK'"
    if [ -z "$PVH_VIEWS" ]; then PVH_VIEWS=$(command -v lxcfs || true); fi
    [ -n "$PVH_VIEWS" ] && [ -x "$PVH_VIEWS" ] || pv_skip_all "no views server (procviewfs) given: '$PVH_VIEWS'"
    pv_tmpdir "pvhook-$1" || pv_skip_all "cannot create a temp dir"
    PVH_TMP=$PV_TMP
    PVH_MNT=$PVH_TMP/mnt
    PVH_LOG=$PVH_TMP/hook.log
    PVH_CONFIG=$PVH_TMP/procview.json
    PVH_ROOTFS=$PVH_TMP/rootfs
    PVH_RUNC_ROOT=$PVH_TMP/runc-state
    pv_busybox_rootfs "$PVH_ROOTFS" || pv_skip_all "cannot build a busybox rootfs (busybox-static missing?)"
    pvh_write_config
    case "$(basename "$PVH_VIEWS")" in
    lxcfs*) PVH_IS_PROCVIEWFS=0 ;;
    *) PVH_IS_PROCVIEWFS=1 ;;
    esac
}

# pvh_write_config [EXTRA]: the procview.json shared by procviewfs and the
# hook. EXTRA is more "hook" keys, e.g. '"fail_closed": true'. The health
# bound is generous here (a loaded CI machine); the hung-server test checks
# the default one.
# PVH_HEALTH_MS=default leaves the key out (the built-in 50 ms).
pvh_write_config() {
    _health='"health_timeout_ms": '${PVH_HEALTH_MS:-1000}', '
    [ "${PVH_HEALTH_MS:-}" = default ] && _health=""
    cat >"$PVH_CONFIG" <<PVEOF
{"mountpoint": "$PVH_MNT",
 "hook": {$_health"log_file": "$PVH_LOG"${1:+, $1}}}
PVEOF
}

pvh_start_views() {
    case "$(basename "$PVH_VIEWS")" in
    lxcfs*) pv_start_views "$PVH_VIEWS" "$PVH_MNT" ;;
    *) pv_start_views "$PVH_VIEWS" "$PVH_MNT" --config "$PVH_CONFIG" ;;
    esac
}

# pvh_bundle ID STAGE ANNOTATIONS RESOURCES ARG...: a bundle $PVH_TMP/ID
# whose container runs ARG..., with the hook at STAGE ("" = no hook, "both" =
# createRuntime and prestart), in cgroup /ID. PVH_HOOK_ARGS: more hook
# options (unquoted words), e.g. "--mount-api legacy".
pvh_bundle() {
    _id=$1 _stage=$2
    PV_ANNOTATIONS=$3
    PV_RESOURCES=$4
    shift 4
    mkdir -p "$PVH_TMP/$_id"
    case "$_stage" in
    "") PV_HOOKS="" ;;
    both)
        _rt=$(pv_hooks_json createRuntime "$PVH_HOOK" --config "$PVH_CONFIG" --debug createRuntime)
        _ps=$(pv_hooks_json prestart "$PVH_HOOK" --config "$PVH_CONFIG" --debug prestart)
        PV_HOOKS="{${_rt#\{}"
        PV_HOOKS="${PV_HOOKS%\}}, ${_ps#\{}"
        ;;
    *) PV_HOOKS=$(pv_hooks_json "$_stage" "$PVH_HOOK" --config "$PVH_CONFIG" --debug ${PVH_HOOK_ARGS:-} "$_stage") ;;
    esac
    PV_ROOT_PATH=${PVH_ROOT_PATH:-$PVH_ROOTFS}
    PV_CGROUPS_PATH=/$_id
    pv_write_config "$PVH_TMP/$_id" "$@"
}

# pvh_runc ID [RUNC GLOBAL OPTIONS]: runs the bundle to completion.
# Sets PVH_RC and PVH_RUN_CS, the host's uptime in hundredths of a second
# that the whole `runc run` took: no process of the container can have been
# up longer.
pvh_runc() {
    pv_at_exit "runc --root '$PVH_RUNC_ROOT' delete -f '$1'"
    _pvh_t0=$(pvh_host_uptime_cs)
    runc --root "$PVH_RUNC_ROOT" run --bundle "$PVH_TMP/$1" "$1" >"$PVH_TMP/$1.out" 2>"$PVH_TMP/$1.err" </dev/null
    PVH_RC=$?
    PVH_RUN_CS=$(($(pvh_host_uptime_cs) - _pvh_t0))
}

# The host's uptime in hundredths of a second ("3645.11 ..." → 364511).
pvh_host_uptime_cs() { awk '{ split($1, t, "."); print t[1] * 100 + substr(t[2] "00", 1, 2) }' /proc/uptime; }

# pvh_section ID NAME: the lines of section NAME of the probe's output.
pvh_section() {
    awk -v s="== $2" '$0 == s { on = 1; next } /^== / { on = 0 } on' "$PVH_TMP/$1.out"
}

# pvh_hook_ms ID: the hook's own run time for container ID (its last run),
# from its debug log.
pvh_hook_ms() {
    sed -n "s/.*\[$1\] [a-zA-Z]* hook done in \([0-9.]*\) ms.*/\1/p" "$PVH_LOG" | tail -n 1
}

# pvh_fuse_mounts ID: how many FUSE mounts the container saw at target PATH ($2).
pvh_mount_count() {
    pvh_section "$1" mountinfo | awk -v t="$2" '{ for (i = 7; i <= NF; i++) if ($i == "-") break }
        $5 == t && index($(i + 1), "fuse") == 1 { n++ } END { print n + 0 }'
}

# pvh_mount_opts ID PATH: the per-mount options (field 6) of the FUSE mount at PATH.
pvh_mount_opts() {
    pvh_section "$1" mountinfo | awk -v t="$2" '$5 == t { o = $6 } END { print o }'
}

# The host's MemTotal in kB.
pvh_host_memtotal() { pv_meminfo_kb MemTotal </proc/meminfo; }

# min(ceil(QUOTA/PERIOD), CPUS in CPUSET ∩ host online): the CPU count procviewfs shows.
pvh_expected_cpus() {
    _q=$(( ($1 + $2 - 1) / $2 ))
    _set=$(echo "$3" | pv_range_count)
    _host=$(pv_range_count </sys/devices/system/cpu/online)
    [ "$_set" -lt "$_host" ] || _set=$_host
    [ "$_q" -lt "$_set" ] && echo "$_q" || echo "$_set"
}

# pvh_rootfs_copy NAME: a private copy of the busybox rootfs at
# $PVH_TMP/NAME-rootfs, which the next pvh_bundle uses.
pvh_rootfs_copy() {
    PVH_ROOT_PATH=$PVH_TMP/$1-rootfs
    cp -a "$PVH_ROOTFS" "$PVH_ROOT_PATH"
}

# True on a hybrid host: v1 controllers plus a v2 hierarchy with controllers
# at /sys/fs/cgroup/unified, which crun refuses ("cgroups in hybrid mode not
# supported").
pvh_hybrid_cgroups() {
    pv_is_mounted /sys/fs/cgroup/unified cgroup2 && [ -n "$(cat /sys/fs/cgroup/unified/cgroup.controllers)" ]
}

# pvh_crun ID: runs the bundle with crun. On a hybrid host crun runs in a
# private mount namespace without the v2 mount, where it sees (and limits
# through) the v1 hierarchies alone; the host's mounts are not changed.
pvh_crun() {
    pv_at_exit "crun --root '$PVH_TMP/crun-state' delete -f '$1'"
    if pvh_hybrid_cgroups; then
        unshare -m --propagation private sh -c \
            "umount /sys/fs/cgroup/unified && exec crun --root '$PVH_TMP/crun-state' run --bundle '$PVH_TMP/$1' '$1'" \
            >"$PVH_TMP/$1.out" 2>"$PVH_TMP/$1.err" </dev/null
    else
        crun --root "$PVH_TMP/crun-state" run --bundle "$PVH_TMP/$1" "$1" >"$PVH_TMP/$1.out" 2>"$PVH_TMP/$1.err" </dev/null
    fi
    PVH_RC=$?
}

# pvh_logged ID TEXT [TEXT2]: the hook's log has a line for container ID
# containing TEXT (and TEXT2 after it).
pvh_logged() { grep "\[$1\] " "$PVH_LOG" | grep -F -- "$2" | grep -qF -- "${3:-$2}"; }

# Mountpoints under $PVH_TMP in the host's mount table, other than the views server's.
pvh_host_stray_mounts() {
    awk -v t="$PVH_TMP/" -v m="$PVH_MNT" 'index($5, t) == 1 && $5 != m { print $5 }' /proc/self/mountinfo
}
