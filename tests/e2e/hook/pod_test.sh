# e2e: a pod whose containers share one pid namespace (Kubernetes
# shareProcessNamespace), each in a cgroup of its own. With runc and
# procview-hook binding the per-container files (hook.per_container, the
# default), the app container's /proc/meminfo shows its own limit, not that
# of the pid namespace's init (the pause container). With the shared
# per-reader files (per_container false) both follow the pid namespace's
# init, as lxcfs's do: the app sees the pause container's limit.
#   sh pod_test.sh PROCVIEWFS PROCVIEW_HOOK
. "$(dirname "$0")/hook_lib.sh"
pvh_init pod "$@"
pv_have runc || pv_skip_all "runc not installed"
[ "$PVH_IS_PROCVIEWFS" = 1 ] || pv_skip_all "per-container files are procviewfs's"
pvh_start_views || pv_skip_all "the views server did not start at $PVH_MNT: $(cat "$PVH_MNT.log" 2>/dev/null)"
enabled='"procview.io/enabled": "true"'
R="runc --root $PVH_RUNC_ROOT"

# The pause container: the pid namespace's init, 128 MiB.
pause=pvhook-pause-$$
pvh_bundle "$pause" createRuntime "$enabled" "$(pv_resources_json 134217728 100000 100000 0-1)" sleep 300
pv_at_exit "$R delete -f '$pause'"
$R run -d --bundle "$PVH_TMP/$pause" "$pause" >"$PVH_TMP/$pause.out" 2>&1 </dev/null ||
    pv_skip_all "the pause container did not start: $(cat "$PVH_TMP/$pause.out")"
pause_pid=$($R state "$pause" | awk '/"pid"/ { gsub(/[^0-9]/, ""); print; exit }')
[ -n "$pause_pid" ] && [ -e "/proc/$pause_pid/ns/pid" ] || pv_skip_all "no pid for the pause container"
pause_mem=$($R exec "$pause" cat /proc/meminfo | pv_meminfo_kb MemTotal)
check "pause: its own 128 MiB" "MemTotal '$pause_mem' kB" [ "$pause_mem" = 131072 ]

# app ID: a 256 MiB container in the pause container's pid namespace, probed.
app() {
    PV_PID_NS_PATH=/proc/$pause_pid/ns/pid pvh_bundle "$1" createRuntime "$enabled" \
        "$(pv_resources_json 268435456 100000 100000 0-1)" sh -c "echo \"== pid1\"; cat /proc/1/comm; $PVH_PROBE"
    pvh_runc "$1"
    [ "$PVH_RC" = 0 ] || fail "$1 ran" "runc exited $PVH_RC: $(cat "$PVH_TMP/$1.err")"
    init=$(pvh_section "$1" pid1)
    check "$1 shares the pause container's pid namespace" "its pid 1 is '$init'" [ "$init" = sleep ]
}

own=pvhook-app-$$
app "$own"
mem=$(pvh_section "$own" meminfo | pv_meminfo_kb MemTotal)
check "app (per-container files): its own 256 MiB, not the pause container's 128" "MemTotal '$mem' kB" [ "$mem" = 262144 ]
root=$(pvh_section "$own" mountinfo | awk '$5 == "/proc/meminfo" { r = $4 } END { print r }')
case "$root" in
/containers/"$pause_pid"-*) fail "app binds its own files" "it has the pause container's ($root)" ;;
/containers/[0-9]*-[0-9]*/proc/meminfo) pass "app binds its own files ($root)" ;;
*) fail "app binds its own files" "mount root '$root'" ;;
esac
pause_again=$($R exec "$pause" cat /proc/meminfo | pv_meminfo_kb MemTotal)
check "pause: still its own 128 MiB" "MemTotal '$pause_again' kB" [ "$pause_again" = 131072 ]

pvh_write_config '"per_container": false'
shared=pvhook-shared-$$
app "$shared"
mem=$(pvh_section "$shared" meminfo | pv_meminfo_kb MemTotal)
check "app (shared files): the pid namespace init's 128 MiB" "MemTotal '$mem' kB" [ "$mem" = 131072 ]
pv_finish
