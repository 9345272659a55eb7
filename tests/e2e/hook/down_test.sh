# e2e 6: procviewfs not serving. Not started, stopped, hung (SIGSTOP) or
# killed (its keeper holds the mount, reads block): the container starts
# with the host's views and the log warns; with fail_closed it is refused
# with a clear message. The health check is bounded: a hung server costs
# the default 50 ms, never a hang. What a reboot or a hard crash leaves
# must not keep containers from starting either: a dead mount (daemon and
# keeper killed: ENOTCONN), a missing mountpoint, bind sources turned into
# directories; procviewfs then starts over each of them.
#   sh down_test.sh PROCVIEWFS PROCVIEW_HOOK
. "$(dirname "$0")/hook_lib.sh"
PVH_HEALTH_MS=default
pvh_init down "$@"
pv_have runc || pv_skip_all "runc not installed"
host_mem=$(pvh_host_memtotal)
enabled='"procview.io/enabled": "true"'
limits=$(pv_resources_json 268435456 150000 100000 0-1)
probe='echo "== meminfo"; cat /proc/meminfo; echo "== end"'

# starts_with_host_views NAME ID WHY: ran, shows the host's MemTotal, and the
# log warns for container ID with WHY.
starts_with_host_views() {
    _n=$1 _id=$2 _why=$3
    pvh_runc "$_id"
    _mem=$(pvh_section "$_id" meminfo | pv_meminfo_kb MemTotal)
    check "$_n: the container starts with the host's views" "exit $PVH_RC, MemTotal '$_mem' kB, host $host_mem kB: $(cat "$PVH_TMP/$_id.err")" \
        [ "$PVH_RC:$_mem" = "0:$host_mem" ]
    check "$_n: the log warns" "no '[$_id] ...$_why...the host's views' in the log" \
        pvh_logged "$_id" "$_why" "the container starts with the host's views"
}

# refused NAME ID WHY: runc fails and its error carries the hook's message.
refused() {
    _n=$1 _id=$2 _why=$3
    pvh_runc "$_id"
    check "$_n: fail_closed refuses the container" "exit $PVH_RC" [ "$PVH_RC" != 0 ]
    check "$_n: runc's error names the reason" "runc said: $(cat "$PVH_TMP/$_id.err")" \
        grep -qF "refusing the container (hook.fail_closed): procviewfs is not serving: " "$PVH_TMP/$_id.err"
    check "$_n: ...and what was wrong" "runc said: $(cat "$PVH_TMP/$_id.err")" grep -qF "$_why" "$PVH_TMP/$_id.err"
}

# closed_config / open_config: fail_closed on or off (default off).
closed_config() { pvh_write_config '"fail_closed": true'; }
open_config() { pvh_write_config; }

# 1. Never started: the mountpoint is a plain directory.
mkdir -p "$PVH_MNT"
id=pvhook-down-none-$$
pvh_bundle "$id" createRuntime "$enabled" "$limits" sh -c "$probe"
starts_with_host_views "not started" "$id" "is not a FUSE mount"
closed_config
id=pvhook-down-none-closed-$$
pvh_bundle "$id" createRuntime "$enabled" "$limits" sh -c "$probe"
refused "not started" "$id" "is not a FUSE mount"
open_config

# 2. Started, then stopped cleanly: SIGTERM to procviewfs hands the mount to
# its keeper (reads wait for the next procviewfs); lxcfs unmounts.
if pvh_start_views; then
    pv_stop_pid "$PV_VIEWS_PID"
    if [ "$PVH_IS_PROCVIEWFS" = 1 ]; then
        check "stopped: the mount stays for the next procviewfs" "not mounted" pv_is_mounted "$PVH_MNT" fuse
    else
        pv_wait_until 5 sh -c "! pv_is_mounted '$PVH_MNT' fuse" 2>/dev/null
    fi
    id=pvhook-down-stopped-$$
    pvh_bundle "$id" createRuntime "$enabled" "$limits" sh -c "$probe"
    starts_with_host_views "stopped" "$id" "procviewfs is not serving"
    pv_stop_views "$PVH_MNT" ""
else
    fail "stopped" "the views server did not start: $(cat "$PVH_MNT.log")"
fi

# 3. Hung: SIGSTOP. Reads on the mount block; the check gives up at 50 ms.
if pvh_start_views; then
    kill -STOP "$PV_VIEWS_PID"
    id=pvhook-down-hung-$$
    pvh_bundle "$id" createRuntime "$enabled" "$limits" sh -c "$probe"
    starts_with_host_views "hung" "$id" "did not answer within 50 ms"
    ms=$(pvh_hook_ms "$id")
    echo "INFO hung: hook run time ${ms:-?} ms (health bound 50 ms)"
    check "hung: the hook stays bounded" "hook took ${ms:-?} ms" awk -v t="${ms:-99999}" 'BEGIN { exit !(t < 500) }'
    closed_config
    id=pvhook-down-hung-closed-$$
    pvh_bundle "$id" createRuntime "$enabled" "$limits" sh -c "$probe"
    refused "hung" "$id" "did not answer within 50 ms"
    open_config
    pv_stop_views "$PVH_MNT" "$PV_VIEWS_PID"
else
    fail "hung" "the views server did not start: $(cat "$PVH_MNT.log")"
fi

# new_container_has_views ID CHECK: a new container started now sees its
# 256 MiB limit through the views server; then the server is stopped.
new_container_has_views() {
    pvh_bundle "$1" createRuntime "$enabled" "$limits" sh -c "$probe"
    pvh_runc "$1"
    _mem=$(pvh_section "$1" meminfo | pv_meminfo_kb MemTotal)
    check "$2" "exit $PVH_RC, MemTotal '$_mem' kB" [ "$PVH_RC:$_mem" = "0:262144" ]
    pv_stop_views "$PVH_MNT" "$PV_VIEWS_PID"
}

# 4. Killed (SIGKILL): lxcfs's mount dies with it (ENOTCONN); procviewfs's
# keeper holds the mount and reads wait for the next procviewfs. Either way
# the container starts, and a restarted server serves new containers again.
if pvh_start_views; then
    kill -KILL "$PV_VIEWS_PID"
    wait "$PV_VIEWS_PID" 2>/dev/null
    id=pvhook-down-killed-$$
    pvh_bundle "$id" createRuntime "$enabled" "$limits" sh -c "$probe"
    starts_with_host_views "killed" "$id" "procviewfs is not serving"
    [ "$PVH_IS_PROCVIEWFS" = 1 ] || umount -l "$PVH_MNT"
    if pvh_start_views; then
        new_container_has_views pvhook-down-restarted-$$ "restarted: views again"
    else
        fail "restarted" "the views server did not start again: $(cat "$PVH_MNT.log")"
    fi
else
    fail "killed" "the views server did not start: $(cat "$PVH_MNT.log")"
fi

# The rest is what a node reboot or a hard crash leaves behind, for
# procviewfs (lxcfs has no keeper to kill, and 7 is its known failure).
[ "$PVH_IS_PROCVIEWFS" = 1 ] || pv_finish

# restarts_over TAG NAME: procviewfs starts over what is at the mountpoint
# now (no mkdir first: a missing mountpoint is its to create) and a new
# container (id with TAG) gets its views again.
restarts_over() {
    _tag=$1
    shift
    "$PVH_VIEWS" -f --config "$PVH_CONFIG" "$PVH_MNT" >"$PVH_MNT.log" 2>&1 &
    PV_VIEWS_PID=$!
    pv_at_exit "umount -l '$PVH_MNT'"
    pv_at_exit "pv_stop_pid $PV_VIEWS_PID"
    if pv_wait_until 10 pv_is_mounted "$PVH_MNT" fuse && pv_wait_until 5 pv_serves "$PVH_MNT"; then
        new_container_has_views pvhook-down-$_tag-after-$$ "$1: procviewfs starts over it and serves new containers"
    else
        fail "$1: procviewfs starts over it" "it did not start: $(tail -n 5 "$PVH_MNT.log")"
    fi
}

# 5. Daemon and keeper killed together (a node-wide OOM kill, or a crash of
# both): the mount stays, dead (ENOTCONN), as lxcfs leaves it.
if pvh_start_views; then
    keeper=$(awk -v p="$PV_VIEWS_PID" '$4 == p { print $1 }' /proc/[0-9]*/stat 2>/dev/null)
    kill -KILL "$PV_VIEWS_PID" $keeper
    wait "$PV_VIEWS_PID" 2>/dev/null
    if [ -n "$keeper" ] && pv_wait_until 5 sh -c "! stat -f '$PVH_MNT' >/dev/null 2>&1"; then
        id=pvhook-down-dead-$$
        pvh_bundle "$id" createRuntime "$enabled" "$limits" sh -c "$probe"
        starts_with_host_views "dead mount (ENOTCONN)" "$id" "Transport endpoint is not connected"
        restarts_over dead "dead mount (ENOTCONN)"
    else
        fail "dead mount (ENOTCONN)" "no keeper child found ('$keeper') or the mount did not go dead"
        pv_stop_views "$PVH_MNT" ""
    fi
else
    fail "dead mount (ENOTCONN)" "the views server did not start: $(cat "$PVH_MNT.log")"
fi

# 6. The mountpoint does not exist at all (a fresh node, or a tmpfs /var).
rm -rf "$PVH_MNT"
id=pvhook-down-missing-$$
pvh_bundle "$id" createRuntime "$enabled" "$limits" sh -c "$probe"
starts_with_host_views "mountpoint missing" "$id" "No such file or directory"
restarts_over missing "mountpoint missing"

# 7. Bind sources that became directories: `docker run -v
# /var/lib/lxcfs/proc/meminfo:/proc/meminfo` with the daemon down creates
# every missing source as a directory, after which a file-on-directory bind
# fails and the container cannot start. The hook never binds from a
# directory that is not the live FUSE mount, so the container starts; and
# procviewfs mounts over the debris when it comes up.
rm -rf "$PVH_MNT"
mkdir -p "$PVH_MNT/proc/meminfo" "$PVH_MNT/proc/uptime" "$PVH_MNT/proc/stat" "$PVH_MNT/sys/devices/system/cpu/online"
id=pvhook-down-dirs-$$
pvh_bundle "$id" createRuntime "$enabled" "$limits" sh -c "$probe"
starts_with_host_views "bind sources are directories" "$id" "is not a FUSE mount"
restarts_over dirs "bind sources are directories"
pv_finish
