# Helpers for procview-runtime's end-to-end scripts, on top of ../lib.sh.
# POSIX sh, runs under busybox sh.
#
#   . "$(dirname "$0")/shim_lib.sh"
#   pvs_init NAME PROCVIEW_RUNTIME PROCVIEW_HOOK PROCVIEWFS
# sets PVS_TMP (scratch dir), PVS_RUNTIME, PVS_HOOK, PVS_VIEWS_BIN, PVS_MNT
# (procviewfs's mountpoint), PVS_CG (the cgroup parent every container of the
# script goes under), PVS_ROOTFS (a busybox rootfs) and registers the cleanup.

. "$(dirname "$0")/../lib.sh"

pvs_init() {
    pv_begin "shim-$1"
    pv_need_root
    PVS_RUNTIME=$2 PVS_HOOK=$3 PVS_VIEWS_BIN=$4
    [ -x "$PVS_RUNTIME" ] || pv_skip_all "procview-runtime not built ($PVS_RUNTIME)"
    pv_tmpdir "pvshim-$1" || pv_skip_all "cannot create a temporary directory"
    PVS_TMP=$PV_TMP
    PVS_MNT=$PVS_TMP/views
    PVS_CG=pvshim-$1-$$
    pv_at_exit "pvs_remove_cgroups $PVS_CG"
    PVS_ROOTFS=$PVS_TMP/rootfs
    pv_busybox_rootfs "$PVS_ROOTFS" || pv_skip_all "busybox (static) is needed for the container rootfs"
    PVS_HOST_MEM=$(pv_meminfo_kb MemTotal </proc/meminfo)
}

# Removes the cgroup PARENT and everything below it from every hierarchy
# (v2 at /sys/fs/cgroup, v1 controllers below it).
pvs_remove_cgroups() {
    for _pvs_d in /sys/fs/cgroup/"$1" /sys/fs/cgroup/*/"$1"; do
        [ -d "$_pvs_d" ] && find "$_pvs_d" -depth -type d -exec rmdir {} \; 2>/dev/null
    done
    return 0
}

# Starts procviewfs on PVS_MNT; false (with PVS_VIEWS_WHY) when it cannot.
pvs_start_views() {
    if [ -z "$PVS_VIEWS_BIN" ] || [ ! -x "$PVS_VIEWS_BIN" ]; then
        PVS_VIEWS_WHY="procviewfs not built (${PVS_VIEWS_BIN:-no path given})"
        return 1
    fi
    [ -e /dev/fuse ] || { PVS_VIEWS_WHY="no /dev/fuse"; return 1; }
    if ! pv_start_views "$PVS_VIEWS_BIN" "$PVS_MNT"; then
        PVS_VIEWS_WHY="procviewfs did not start: $(cat "$PVS_MNT.log" 2>/dev/null)"
        return 1
    fi
}

# pvs_config FILE [RUNTIME_JSON_BODY]: a procview.json for the shim and the
# hook, with procviewfs at PVS_MNT and the hook logging into PVS_TMP.
# RUNTIME_JSON_BODY goes into "runtime" after hook_path, e.g. '"enable_all": true'.
pvs_config() {
    _pvs_extra=${2:+, $2}
    cat >"$1" <<PVSEOF
{
  "mountpoint": $(pv_json_str "$PVS_MNT"),
  "hook": {"log_file": $(pv_json_str "$PVS_TMP/hook.log")},
  "runtime": {"hook_path": $(pv_json_str "$PVS_HOOK")$_pvs_extra}
}
PVSEOF
}

# pvs_bundle DIR ANNOTATIONS_BODY ARG...: a bundle using the shared rootfs,
# limited to 256 MiB and one CPU (quota 100000/100000, cpuset 0-1), in the
# cgroup PVS_CG/<basename DIR>.
pvs_bundle() {
    _pvs_dir=$1 _pvs_ann=$2
    shift 2
    mkdir -p "$_pvs_dir"
    PV_ROOT_PATH=$PVS_ROOTFS PV_ANNOTATIONS=$_pvs_ann \
        PV_RESOURCES=$(pv_resources_json 268435456 100000 100000 0-1) \
        PV_CGROUPS_PATH=/$PVS_CG/$(basename "$_pvs_dir") pv_write_config "$_pvs_dir" "$@"
}

# How many times the hook binary appears as a hook path in a spec.
pvs_hook_count() {
    grep -o "\"path\": *$(pv_json_str "$PVS_HOOK")" "$1" | wc -l | tr -d ' '
}

# The MemTotal (kB) in a file holding a copy of /proc/meminfo.
# pvs_delete_containers_at_exit RUNC_ROOT: at exit, delete every container
# under RUNC_ROOT, even when a check fails midway, through the wrapper: it
# joins each container's time namespace, without which runc takes a running
# opted-in container for a stopped one.
pvs_delete_containers_at_exit() {
    PVS_RUNC_ROOT=$1
    pv_at_exit pvs_delete_containers
}
pvs_delete_containers() {
    for _id in $(runc --root "$PVS_RUNC_ROOT" list -q 2>/dev/null); do
        "$PVS_RUNTIME" --root "$PVS_RUNC_ROOT" delete -f "$_id" >/dev/null 2>&1
    done
}

pvs_memtotal() { pv_meminfo_kb MemTotal <"$1"; }

# pvs_sysinfo_views FIELDS [PROCVIEWFS OPTION...]: the sysinfo(2) scripts'
# common start. pv-sysinfo-fields goes into the rootfs as /bin/sysinfo_fields;
# procviewfs starts with its agent listening at PVS_SOCK; PVS_CONFIG is the
# procview.json naming both for procview-runtime and the hook.
pvs_sysinfo_views() {
    [ -x "$1" ] || pv_skip_all "pv-sysinfo-fields not built ($1)"
    cp "$1" "$PVS_ROOTFS/bin/sysinfo_fields"
    shift
    PVS_SOCK=$PVS_TMP/agent/seccomp.sock
    PVS_CONFIG=$PVS_TMP/pv.json
    pv_start_views "$PVS_VIEWS_BIN" "$PVS_MNT" "$@" --sysinfo-listener "$PVS_SOCK" ||
        pv_skip_all "procviewfs did not start: $(cat "$PVS_MNT.log" 2>/dev/null)"
    cat >"$PVS_CONFIG" <<PVSEOF
{"mountpoint": $(pv_json_str "$PVS_MNT"), "sysinfo_listener_path": $(pv_json_str "$PVS_SOCK"),
 "hook": {"log_file": $(pv_json_str "$PVS_TMP/hook.log")}, "runtime": {"hook_path": $(pv_json_str "$PVS_HOOK")}}
PVSEOF
}

# pvs_start_containerd DIR NAMESPACE PROCVIEW_CONFIG: a private containerd
# (state under DIR, no CRI plugin) whose runc shims, and so procview-runtime,
# see PROCVIEW_CONFIG. Sets CTR ("ctr" on its socket and in NAMESPACE) and
# CTD_PID; at exit every task and container of NAMESPACE goes, even after a
# failed check, then containerd. Skips the whole test if it does not start.
pvs_start_containerd() {
    _ctd=$1 PVS_CTD_NS=$2
    mkdir -p "$_ctd"
    cat >"$_ctd/config.toml" <<EOF_CTD
version = 2
root = "$_ctd/root"
state = "$_ctd/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$_ctd/containerd.sock"
[ttrpc]
  address = "$_ctd/containerd-ttrpc.sock"
EOF_CTD
    # containerd 1.6 puts its shims' sockets in /run/containerd/s whatever its
    # state directory: remove what this run created, if nothing else uses it.
    [ -d /run/containerd ] || pv_at_exit "rmdir /run/containerd/s /run/containerd/fifo /run/containerd/runc /run/containerd"
    # The runc shim (and so procview-runtime) inherits containerd's environment.
    PROCVIEW_CONFIG=$3 containerd --config "$_ctd/config.toml" >"$_ctd/containerd.log" 2>&1 &
    CTD_PID=$!
    pv_at_exit "pv_stop_pid $CTD_PID"
    CTR="ctr -a $_ctd/containerd.sock -n $PVS_CTD_NS"
    pv_wait_until 20 sh -c "$CTR version >/dev/null 2>&1" ||
        pv_skip_all "containerd did not start: $(tail -5 "$_ctd/containerd.log")"
    pv_at_exit pvs_ctr_cleanup
}

pvs_ctr_cleanup() {
    for _id in $($CTR task ls -q 2>/dev/null); do
        $CTR task kill -s KILL "$_id"
        pv_wait_until 5 sh -c "! $CTR task ls | grep -q '^$_id .*RUNNING'"
        $CTR task delete "$_id"
    done
    for _id in $($CTR containers ls -q 2>/dev/null); do $CTR containers rm "$_id"; done
    $CTR namespaces rm "$PVS_CTD_NS"
}
