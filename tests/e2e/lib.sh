# Shared helpers for procview's end-to-end scripts. POSIX sh; also runs under
# busybox sh (the cgroup v2 VM lane has busybox, runc and crun, nothing else:
# no jq, python, podman). Source it, then:
#
#   pv_begin hook-runc            # names the script in SKIP lines
#   pv_need_root                  # skips the whole script when not root
#   pv_tmpdir pvhook-runc; tmp=$PV_TMP   # removed at exit
#   ... pass NAME | fail NAME WHY | skip NAME WHY ...
#   pv_finish                     # "N passed, N failed, N skipped"; exit 1 on failure
#
# Cleanup actions registered with pv_at_exit run in reverse order on exit,
# Ctrl-C or TERM: tests stop only what they started, by pid, and unmount
# only what they mounted.

PV_PASSED=0
PV_FAILED=0
PV_SKIPPED=0
PV_SCRIPT=e2e
PV_CLEANUP=""

pass() { echo "PASS $1"; PV_PASSED=$((PV_PASSED + 1)); }
fail() { echo "FAIL $1: $2"; PV_FAILED=$((PV_FAILED + 1)); }
skip() { echo "SKIP $1: $2"; PV_SKIPPED=$((PV_SKIPPED + 1)); }

# check NAME WHY-IF-FALSE COMMAND...: pass when the command succeeds.
check() {
    _pv_name=$1 _pv_why=$2
    shift 2
    if "$@"; then pass "$_pv_name"; else fail "$_pv_name" "$_pv_why"; fi
}

pv_begin() {
    PV_SCRIPT=$1
    trap 'pv_run_cleanup' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

pv_finish() {
    if [ "$PV_SKIPPED" -gt 0 ]; then
        echo "$PV_PASSED passed, $PV_FAILED failed, $PV_SKIPPED skipped"
    else
        echo "$PV_PASSED passed, $PV_FAILED failed"
    fi
    [ "$PV_FAILED" -eq 0 ] || exit 1
    exit 0
}

# Skips the rest of the script with a reason (exit 0: nothing failed).
pv_skip_all() {
    skip "$PV_SCRIPT" "$1"
    pv_finish
}

pv_need_root() { [ "$(id -u)" = 0 ] || pv_skip_all "needs root"; }
pv_have() { command -v "$1" >/dev/null 2>&1; }

# pv_at_exit 'shell command': run at exit, last registered first.
pv_at_exit() {
    PV_CLEANUP="$1
$PV_CLEANUP"
}

pv_run_cleanup() {
    _pv_rc=$?
    trap - EXIT
    _pv_list=$PV_CLEANUP
    PV_CLEANUP=""
    printf '%s\n' "$_pv_list" | while IFS= read -r _pv_cmd; do
        [ -n "$_pv_cmd" ] && eval "$_pv_cmd" >/dev/null 2>&1
    done
    exit "$_pv_rc"
}

# Sets PV_TMP to a fresh directory /tmp/PREFIX-XXXXXX, removed at exit
# (after everything registered later, such as mounts inside it, is undone).
# Not $(pv_tmpdir ...): the cleanup must be registered in this shell.
# PV_KEEP_TMP=1 keeps it (and says where) for a post-mortem.
pv_tmpdir() {
    PV_TMP=$(mktemp -d "/tmp/$1-XXXXXX") || return 1
    if [ "${PV_KEEP_TMP:-}" = 1 ]; then
        echo "INFO keeping $PV_TMP (PV_KEEP_TMP=1)" >&2
    else
        pv_at_exit "rm -rf '$PV_TMP'"
    fi
}

# True when PATH is a mountpoint of filesystem type TYPE (prefix match, so
# "fuse" matches fuse.procviewfs and fuse.lxcfs) in this mount namespace.
pv_is_mounted() {
    awk -v mp="$1" -v t="$2" '
        { for (i = 7; i <= NF; i++) if ($i == "-") break
          if ($5 == mp && index($(i + 1), t) == 1) found = 1 }
        END { exit !found }' /proc/self/mountinfo
}

# pv_wait_until SECONDS COMMAND...: polls every 0.1 s.
pv_wait_until() {
    _pv_tries=$(($1 * 10))
    shift
    while [ "$_pv_tries" -gt 0 ]; do
        "$@" && return 0
        sleep 0.1
        _pv_tries=$((_pv_tries - 1))
    done
    return 1
}

# pv_start_views BINARY MOUNTPOINT [ARGS...]: starts procviewfs (or lxcfs,
# told apart by the binary's name) in the foreground in the background,
# waits until it serves, and registers its stop and unmount. Sets
# PV_VIEWS_PID and PV_VIEWS_BIN.
pv_start_views() {
    _pv_bin=$1 _pv_mp=$2
    shift 2
    mkdir -p "$_pv_mp"
    case "$(basename "$_pv_bin")" in
    lxcfs*) "$_pv_bin" -f --enable-cfs -l -p "$_pv_mp.pid" "$_pv_mp" >"$_pv_mp.log" 2>&1 & ;;
    *) "$_pv_bin" -f "$@" "$_pv_mp" >"$_pv_mp.log" 2>&1 & ;;
    esac
    PV_VIEWS_PID=$! PV_VIEWS_BIN=$_pv_bin
    pv_at_exit "pv_unmount_views '$_pv_mp'"
    pv_at_exit "pv_stop_pid $PV_VIEWS_PID"
    pv_wait_until 10 pv_is_mounted "$_pv_mp" fuse && pv_wait_until 5 pv_serves "$_pv_mp"
}

# pv_stop_views MOUNTPOINT PID: stops the server and removes its mount
# (procviewfs's stop leaves it to its keeper; lxcfs leaves an ENOTCONN mount).
pv_stop_views() {
    pv_stop_pid "$2"
    pv_unmount_views "$1"
    return 0
}

# pv_unmount_views MOUNTPOINT: `procviewfs --unmount` (the mount and its
# keeper go, a serving daemon retires), then a lazy unmount of what is left.
pv_unmount_views() {
    case "$(basename "${PV_VIEWS_BIN:-}")" in
    procviewfs*) "$PV_VIEWS_BIN" --unmount "$1" >/dev/null 2>&1 ;;
    esac
    pv_is_mounted "$1" fuse && umount -l "$1"
    return 0
}

# True when MOUNTPOINT/proc/uptime reads non-empty (FUSE files may report size 0).
pv_serves() { [ -n "$(head -c 16 "$1/proc/uptime" 2>/dev/null)" ]; }

# Stops a process this script started: TERM (and CONT, in case a test
# stopped it), then KILL after 3 s. Only while it is still this shell's
# child: a pid killed and reaped earlier may belong to someone else by the
# time the cleanup runs (pid_max can be as low as 32768).
pv_stop_pid() {
    [ -n "$1" ] && pv_is_child "$1" || return 0
    kill -TERM "$1" 2>/dev/null || return 0
    kill -CONT "$1" 2>/dev/null
    _pv_tries=30
    while kill -0 "$1" 2>/dev/null && [ "$_pv_tries" -gt 0 ]; do
        sleep 0.1
        _pv_tries=$((_pv_tries - 1))
    done
    kill -KILL "$1" 2>/dev/null
    wait "$1" 2>/dev/null
    return 0
}

# True when PID is a child of this script's shell ($$ stays the script's
# pid in subshells, such as the cleanup loop's).
pv_is_child() {
    [ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $2 }')" = "$$" ]
}

# pv_busybox_rootfs DIR: a minimal rootfs with busybox-static and its applets.
pv_busybox_rootfs() {
    # Under busybox sh `command -v busybox` may answer just "busybox".
    _pv_bb=""
    for _pv_c in "$(command -v busybox 2>/dev/null)" /bin/busybox /usr/bin/busybox /sbin/busybox /usr/sbin/busybox; do
        case "$_pv_c" in /*) [ -x "$_pv_c" ] && { _pv_bb=$_pv_c; break; } ;; esac
    done
    [ -n "$_pv_bb" ] || return 1
    mkdir -p "$1/bin" "$1/proc" "$1/sys" "$1/dev" "$1/etc" "$1/tmp" "$1/root" || return 1
    cp "$_pv_bb" "$1/bin/busybox" || return 1
    # Relative links: `busybox --install -s` would point them at the host path.
    for _pv_applet in $("$_pv_bb" --list); do
        [ -e "$1/bin/$_pv_applet" ] || ln -s busybox "$1/bin/$_pv_applet"
    done
    echo "root:x:0:0:root:/root:/bin/sh" >"$1/etc/passwd"
    echo "root:x:0:" >"$1/etc/group"
}

# JSON string literal of $1 (backslashes, quotes, tabs and newlines escaped).
pv_json_str() {
    printf '"'
    printf '%s' "$1" | awk 'BEGIN { ORS = "" }
        { gsub(/\\/, "&&"); gsub(/"/, "\\\""); gsub(/\t/, "\\t"); if (NR > 1) print "\\n"; print }'
    printf '"'
}

# pv_hooks_json STAGE HOOK_BINARY ARG...: the config.json "hooks" object
# running HOOK_BINARY ARG... at STAGE (createRuntime, prestart, ...).
pv_hooks_json() {
    _pv_stage=$1 _pv_path=$2
    shift 2
    _pv_args=$(pv_json_str procview-hook)
    for _pv_a in "$@"; do _pv_args="$_pv_args, $(pv_json_str "$_pv_a")"; done
    printf '{"%s": [{"path": %s, "args": [%s], "timeout": 10}]}' "$_pv_stage" "$(pv_json_str "$_pv_path")" "$_pv_args"
}

# pv_resources_json MEMORY_BYTES QUOTA_US PERIOD_US CPUS: linux.resources.
pv_resources_json() {
    printf '{"devices": [{"allow": false, "access": "rwm"}], "memory": {"limit": %s}, "cpu": {"quota": %s, "period": %s, "cpus": "%s"}}' \
        "$1" "$2" "$3" "$4"
}

# pv_write_config BUNDLE ARG...: writes BUNDLE/config.json for a container
# running ARG... (no terminal). Optional settings, from variables:
#   PV_ROOT_PATH     root.path (default "rootfs")
#   PV_HOOKS         the "hooks" object (pv_hooks_json), default none
#   PV_ANNOTATIONS   the body of "annotations", e.g. '"procview.io/enabled": "true"'
#   PV_RESOURCES     linux.resources (pv_resources_json), default devices only
#   PV_CGROUPS_PATH  linux.cgroupsPath, default none
#   PV_ROOTFS_PROPAGATION  linux.rootfsPropagation ("rshared", ...), default none
#   PV_PID_NS_PATH   join this pid namespace (/proc/PID/ns/pid) instead of a new one
#   PV_NO_PROC=1, PV_NO_SYS=1   leave out the /proc or /sys mount
#   PV_EXTRA_MOUNTS  more mount objects, comma-separated
pv_write_config() {
    _pv_bundle=$1
    shift
    _pv_args=""
    for _pv_a in "$@"; do _pv_args="$_pv_args${_pv_args:+, }$(pv_json_str "$_pv_a")"; done
    _pv_mounts='{"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]}'
    [ "${PV_NO_PROC:-}" = 1 ] || _pv_mounts="$_pv_mounts, {\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"}"
    [ "${PV_NO_SYS:-}" = 1 ] || _pv_mounts="$_pv_mounts, {\"destination\": \"/sys\", \"type\": \"sysfs\", \"source\": \"sysfs\", \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"ro\"]}"
    [ -n "${PV_EXTRA_MOUNTS:-}" ] && _pv_mounts="$_pv_mounts, $PV_EXTRA_MOUNTS"
    _pv_hooks=${PV_HOOKS:-"{}"}
    _pv_resources=${PV_RESOURCES:-'{"devices": [{"allow": false, "access": "rwm"}]}'}
    _pv_pidns='{"type": "pid"}'
    [ -n "${PV_PID_NS_PATH:-}" ] && _pv_pidns="{\"type\": \"pid\", \"path\": $(pv_json_str "$PV_PID_NS_PATH")}"
    _pv_linux_extra=""
    [ -n "${PV_CGROUPS_PATH:-}" ] && _pv_linux_extra="\"cgroupsPath\": $(pv_json_str "$PV_CGROUPS_PATH"),"
    [ -n "${PV_ROOTFS_PROPAGATION:-}" ] &&
        _pv_linux_extra="$_pv_linux_extra \"rootfsPropagation\": $(pv_json_str "$PV_ROOTFS_PROPAGATION"),"
    cat >"$_pv_bundle/config.json" <<PVEOF
{
  "ociVersion": "1.0.2-dev",
  "process": {
    "terminal": false,
    "user": {"uid": 0, "gid": 0},
    "args": [$_pv_args],
    "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "TERM=dumb"],
    "cwd": "/",
    "capabilities": {
      "bounding": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "effective": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "permitted": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
    },
    "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
    "noNewPrivileges": true
  },
  "root": {"path": $(pv_json_str "${PV_ROOT_PATH:-rootfs}"), "readonly": true},
  "hostname": "pvtest",
  "mounts": [$_pv_mounts],
  "hooks": $_pv_hooks,
  "annotations": {${PV_ANNOTATIONS:-}},
  "linux": {
    $_pv_linux_extra
    "resources": $_pv_resources,
    "namespaces": [$_pv_pidns, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}],
    "maskedPaths": ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware"],
    "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
  }
}
PVEOF
}

# The value of KEY (kB) in meminfo text on stdin: "MemTotal" → 262144.
pv_meminfo_kb() { awk -v k="$1:" '$1 == k { print $2; exit }'; }

# Number of CPUs in a sysfs range list on stdin: "0-1,3" → 3, "" → 0.
pv_range_count() {
    tr ',' '\n' | awk -F- 'NF == 2 { n += $2 - $1 + 1 } NF == 1 && $1 != "" { n++ } END { print n + 0 }'
}
