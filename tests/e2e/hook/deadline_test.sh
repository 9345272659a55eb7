# e2e: the hook's run time is bounded by hook.timeout_ms even when the FUSE
# server at the mountpoint reads requests and never answers them (a
# deadlocked procviewfs). Such a request leaves the process that made it
# asleep until the answer comes, and SIGKILL does not end that sleep; the
# hook must give up on such children instead of waiting with them.
#   silent:       the server answers INIT only: the health probe hangs;
#   after-health: it answers the health probe, then no lookup: cloning the
#                 first source hangs (in the mount helper).
# For each, fail-open (exit 0, a warning, no view mounted) and fail_closed
# (exit 1, the refusal), within 2 × timeout_ms, with the hook's stdout and
# stderr closed by then (runc reads them to EOF: an abandoned child holding
# them would block it just the same). The test runs in a private mount
# namespace, so nothing else on the machine sees the stuck mount; killing
# the server ends its connection and every request stuck on it.
#   sh deadline_test.sh VIEWS_SERVER PROCVIEW_HOOK PV_STUCK_FUSE
if [ -z "${PVH_PRIVATE_NS:-}" ] && command -v unshare >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    PVH_PRIVATE_NS=1 exec unshare -m --propagation private sh "$0" "$@"
fi
. "$(dirname "$0")/hook_lib.sh"
PVH_HEALTH_MS=200
pvh_init deadline "$1" "$2"
stuck=${3:-}
[ -n "$stuck" ] && [ -x "$stuck" ] || pv_skip_all "pv-stuck-fuse not given or not executable: '$stuck'"
[ -c /dev/fuse ] || pv_skip_all "no /dev/fuse"
[ -n "${PVH_PRIVATE_NS:-}" ] || pv_skip_all "needs unshare (util-linux) for a private mount namespace"
date +%s%N | grep -q '^[0-9]*$' || pv_skip_all "needs date +%s%N"
timeout_ms=1000
open_config() { pvh_write_config "\"timeout_ms\": $timeout_ms"; }
closed_config() { pvh_write_config "\"timeout_ms\": $timeout_ms, \"fail_closed\": true"; }

# A stand-in for runc's container at createRuntime: its own mount namespace
# with procfs and sysfs in a rootfs.
root=$PVH_TMP/bundle/rootfs
mkdir -p "$root/proc" "$root/sys"
echo '{"root": {"path": "rootfs"}, "annotations": {"procview.io/enabled": "true"}}' >"$PVH_TMP/bundle/config.json"
unshare -m --propagation private sh -c "mount -t proc proc '$root/proc' && mount -t sysfs sysfs '$root/sys' && exec sleep 3600" &
ctr=$!
pv_at_exit "pv_stop_pid $ctr"
pv_wait_until 5 sh -c "grep -q ' $root/sys ' /proc/$ctr/mountinfo" || pv_skip_all "the stand-in container did not come up"
state="{\"ociVersion\": \"1.0.2\", \"id\": \"deadline\", \"status\": \"creating\", \"pid\": $ctr, \"bundle\": \"$PVH_TMP/bundle\"}"

# start_stuck MODE: a pv-stuck-fuse at $PVH_MNT; sets STUCK_PID.
start_stuck() {
    mkdir -p "$PVH_MNT"
    "$stuck" "$PVH_MNT" "$1" >"$PVH_TMP/stuck.out" 2>&1 &
    STUCK_PID=$!
    pv_at_exit "umount -l '$PVH_MNT'"
    pv_at_exit "kill -KILL $STUCK_PID"
    pv_wait_until 5 grep -qs ready "$PVH_TMP/stuck.out"
}

# stop_stuck: ends the connection (the server's /dev/fuse fd was the last
# one), which wakes every request stuck on it, and unmounts.
stop_stuck() {
    kill -KILL "$STUCK_PID" 2>/dev/null
    wait "$STUCK_PID" 2>/dev/null
    umount -l "$PVH_MNT" 2>/dev/null
    return 0
}

# run_hook NAME: runs the hook with its stdout and stderr in a pipe read to
# EOF, as runc does; sets HOOK_MS (until EOF) and HOOK_RC. A watchdog kills
# the server after 60 s, so a hook stuck for good (the old code) ends the
# test as a failure instead of hanging it.
run_hook() {
    (sleep 60 && kill -KILL "$STUCK_PID") >/dev/null 2>&1 &
    _watchdog=$!
    _t0=$(date +%s%N)
    { printf '%s' "$state" | "$PVH_HOOK" --config "$PVH_CONFIG" createRuntime; echo "exit=$?"; } 2>&1 | cat >"$PVH_TMP/$1.out"
    _t1=$(date +%s%N)
    kill "$_watchdog" 2>/dev/null
    wait "$_watchdog" 2>/dev/null
    HOOK_MS=$(((_t1 - _t0) / 1000000))
    HOOK_RC=$(sed -n 's/^exit=//p' "$PVH_TMP/$1.out")
    echo "INFO $1: exit ${HOOK_RC:-?} after $HOOK_MS ms (timeout_ms $timeout_ms)"
}

# No FUSE mount in the stand-in's namespace: nothing half-done stays behind.
no_view_mounted() { ! grep -q " $root/[^ ]* .* - fuse" "/proc/$ctr/mountinfo"; }

# expect MODE CASE: the hook's outcome against a MODE server.
expect() {
    _mode=$1 _case=$2 _why=$3
    if ! start_stuck "$_mode"; then
        fail "$_mode: the stuck server starts" "$(cat "$PVH_TMP/stuck.out")"
        return
    fi
    run_hook "$_mode-$_case"
    _out=$PVH_TMP/$_mode-$_case.out
    check "$_mode, $_case: returns within 2 × timeout_ms" "took $HOOK_MS ms: $(cat "$_out")" \
        [ "$HOOK_MS" -lt $((2 * timeout_ms)) ]
    if [ "$_case" = fail-open ]; then
        check "$_mode, $_case: exit 0" "exit '$HOOK_RC': $(cat "$_out")" [ "$HOOK_RC" = 0 ]
        check "$_mode, $_case: warns, the container starts with the host's views" "$(cat "$_out")" \
            grep -qF "the container starts with the host's views" "$_out"
    else
        check "$_mode, $_case: exit 1" "exit '$HOOK_RC': $(cat "$_out")" [ "$HOOK_RC" = 1 ]
        check "$_mode, $_case: refuses the container" "$(cat "$_out")" \
            grep -qF "refusing the container (hook.fail_closed)" "$_out"
    fi
    check "$_mode, $_case: says what did not answer" "no '$_why' in: $(cat "$_out")" grep -qF "$_why" "$_out"
    check "$_mode, $_case: no view mounted" "$(grep fuse "/proc/$ctr/mountinfo")" no_view_mounted
    stop_stuck
}

open_config
expect silent fail-open "did not answer within 200 ms"
expect after-health fail-open "the mount helper did not finish within"
closed_config
expect silent fail-closed "did not answer within 200 ms"
expect after-health fail-closed "the mount helper did not finish within"

# The same bound when the health check's own bound is larger than what is
# left of the run: it ends with the run, not later.
PVH_HEALTH_MS=5000
open_config
expect silent fail-open "did not answer within"
pv_finish
