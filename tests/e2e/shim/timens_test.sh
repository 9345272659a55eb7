# procview-runtime's time namespaces: `ps` inside a container gets real start
# times. ps computes a process's start as btime + /proc/<pid>/stat field 22
# and its elapsed time as /proc/uptime − field 22; procviewfs serves the
# container's uptime and btime, the kernel serves field 22. Here a process in
# the container computes both, for the container's own process and for one
# started by `procview-runtime exec`, and they must be ≥ 0 and close to the
# truth; with runtime.time_namespace off the elapsed time is hugely negative
# (the bug this fixes), which shows the check can fail.
# Runs under busybox sh (the cgroup v2 VM lane).
#   sh timens_test.sh PROCVIEW_RUNTIME PROCVIEW_HOOK PROCVIEWFS
. "$(dirname "$0")/shim_lib.sh"
pvs_init timens "$@"
pv_have runc || pv_skip_all "runc not installed"
[ -e /proc/self/ns/time ] || pv_skip_all "this kernel has no time namespaces (no /proc/self/ns/time)"
RUNC=$(command -v runc)
T=$PVS_TMP
ROOT=$T/runc-root
W="$PVS_RUNTIME"
enabled='"procview.io/enabled": "true"'
pvs_delete_containers_at_exit "$ROOT"

# ---- a crafted state: never into a time namespace procview-runtime did not make --
# uid 65534 makes its own user and time namespaces (monotonic +1e6 s); a state
# file names it as a container's init, with its true start time. The wrapper
# must run the real runtime (a fake one reporting where it runs) outside.
crafted_attacker() {
    _cr=$T/crafted
    mkdir -p "$_cr/root/evil"
    # The pid comes back on stdout: uid 65534 cannot write into PVS_TMP.
    setpriv --reuid 65534 --regid 65534 --clear-groups \
        unshare --user --time --monotonic 1000000 --fork sh -c 'echo $$ && exec sleep 300' >"$_cr/pid" 2>/dev/null </dev/null &
    pv_wait_until 5 test -s "$_cr/pid" || return 1
    _apid=$(cat "$_cr/pid")
    pv_at_exit "kill $_apid"
    [ "$(readlink /proc/"$_apid"/ns/time)" != "$(readlink /proc/self/ns/time)" ] || return 1
    printf '{"id":"evil","init_process_pid":%s,"init_process_start":%s}\n' "$_apid" \
        "$(awk '{ print $22 }' /proc/"$_apid"/stat)" >"$_cr/root/evil/state.json"
    printf '#!/bin/sh\nreadlink /proc/self/ns/time >"%s"\ncut -d. -f1 /proc/uptime >>"%s"\n' \
        "$_cr/fake.out" "$_cr/fake.out" >"$_cr/fake-runc"
    chmod 755 "$_cr/fake-runc"
}
if ! pv_have setpriv || ! pv_have unshare; then
    skip "crafted state: not joined" "setpriv and unshare (util-linux) are needed"
elif ! crafted_attacker; then
    skip "crafted state: not joined" "uid 65534 cannot make its own user and time namespaces here"
else
    pvs_config "$T/fake.json" "\"runtime\": $(pv_json_str "$T/crafted/fake-runc")"
    for sub in state exec; do
        rm -f "$T/crafted/fake.out"
        "$W" --procview-config "$T/fake.json" --root "$T/crafted/root" --log "$T/crafted.log" --log-format json \
            "$sub" evil >/dev/null 2>&1
        rc=$?
        check "crafted state, $sub: the real runtime ran, exit 0" "rc $rc, $(cat "$T/crafted/fake.out" 2>&1)" \
            sh -c "[ $rc = 0 ] && [ -s '$T/crafted/fake.out' ]"
        check "crafted state, $sub: it ran in the host's time namespace" \
            "$(head -1 "$T/crafted/fake.out" 2>&1) vs $(readlink /proc/self/ns/time)" \
            [ "$(head -1 "$T/crafted/fake.out" 2>/dev/null)" = "$(readlink /proc/self/ns/time)" ]
    done
    check "crafted state: the wrapper says why it stayed out" "log: $(cat "$T/crafted.log")" \
        grep -q 'not joining the time namespace of init.*owned by user namespace' "$T/crafted.log"
fi

pvs_start_views || pv_skip_all "$PVS_VIEWS_WHY"
pvs_config "$T/on.json"
pvs_config "$T/off.json" '"time_namespace": false'

# One line about the process running awk, from inside the container:
#   elapsed CENTISECONDS start EPOCH now EPOCH uptime-mounted yes|no
# elapsed = /proc/uptime − own start (field 22); start = btime + field 22;
# now = date +%s taken just before awk started. The line goes to stdout.
probe='now=$(date +%s); awk -v now="$now" '\''
    FILENAME == "/proc/uptime" { up = $1 }
    FILENAME == "/proc/stat" && $1 == "btime" { bt = $2 }
    FILENAME == "/proc/self/stat" { st = $22 }
    FILENAME == "/proc/self/mountinfo" && $5 == "/proc/uptime" { mounted = "yes" }
    END { printf "elapsed %d start %d now %d uptime-mounted %s\n", up * 100 - st, bt + st / 100, now, mounted ? mounted : "no" }
'\'' /proc/uptime /proc/stat /proc/self/stat /proc/self/mountinfo'

field() { awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }' "$2"; }
abs() { [ "$1" -lt 0 ] && echo $((-$1)) || echo "$1"; }

# start_container NAME CONFIG: create + start a container whose process
# probes once and then sleeps; waits for its line in $T/NAME.out.
start_container() {
    _b=$T/$1
    pvs_bundle "$_b" "$enabled" sh -c "$probe; exec sleep 300"
    _id=pvshim-timens-$1-$$
    "$W" --procview-config "$2" --root "$ROOT" --log "$T/$1.log" --log-format json \
        create --bundle "$_b" "$_id" >"$T/$1.out" 2>"$T/$1.err" </dev/null
    _rc=$?
    [ "$_rc" = 0 ] && "$W" --procview-config "$2" --root "$ROOT" start "$_id" 2>>"$T/$1.err"
    pv_wait_until 10 grep -q '^elapsed ' "$T/$1.out"
}

# check_times WHAT FILE: elapsed within [0, 5 s], start within 3 s of now.
check_times() {
    _el=$(field elapsed "$2") _st=$(field start "$2") _now=$(field now "$2")
    if [ -z "$_el" ] || [ -z "$_st" ] || [ -z "$_now" ]; then
        fail "$1: probe ran" "output: $(cat "$2")"
        return
    fi
    check "$1: /proc/uptime is procviewfs's" "$(cat "$2")" [ "$(field uptime-mounted "$2")" = yes ]
    check "$1: elapsed time from /proc/uptime and field 22 is >= 0 and < 5 s" \
        "elapsed ${_el} cs ($(cat "$2"))" sh -c "[ $_el -ge -2 ] && [ $_el -lt 500 ]"
    check "$1: btime + field 22 is the wall-clock start (within 3 s)" \
        "start $_st, now $_now" [ "$(abs $((_st - _now)))" -le 3 ]
}

# ---- on (the default): the container and an exec'd process -------------------
if start_container on "$T/on.json"; then
    pass "time namespace on: container started"
    check "time namespace on: the shim made one" "log: $(cat "$T/on.log")" \
        grep -q 'new time namespace, boottime offset' "$T/on.log"
    check_times "container process" "$T/on.out"
    id=pvshim-timens-on-$$
    sleep 1  # the exec'd process starts clearly after the init
    "$W" --procview-config "$T/on.json" --root "$ROOT" exec "$id" sh -c "$probe" >"$T/exec.out" 2>"$T/exec.err" </dev/null
    check_times "exec'd process" "$T/exec.out"
    "$W" --root "$ROOT" state "$id" >"$T/state.out" 2>&1
    check "state through the wrapper: running" "$(cat "$T/state.out")" grep -q '"status": "running"' "$T/state.out"
    "$W" --root "$ROOT" kill "$id" KILL 2>"$T/kill.err"
    check "kill through the wrapper" "$(cat "$T/kill.err")" \
        pv_wait_until 5 sh -c "'$W' --root '$ROOT' state '$id' | grep -q '\"status\": \"stopped\"'"
    check "the namespace is recorded in the runtime's root" "$(ls -a "$ROOT")" [ -f "$ROOT/.procview-timens:$id" ]
    "$W" --root "$ROOT" delete "$id" 2>"$T/delete.err"
    check "delete through the wrapper drops the record" "$(cat "$T/delete.err"; ls -a "$ROOT")" \
        [ ! -e "$ROOT/.procview-timens:$id" ]
else
    fail "time namespace on: container started" "$(cat "$T/on.err" "$T/on.out")"
fi

# ---- off: the bug comes back, so the checks above can fail --------------------
host_up=$(cut -d. -f1 /proc/uptime)
if [ "$host_up" -lt 60 ]; then
    skip "time namespace off: elapsed time is negative" "the host booted ${host_up} s ago: too close to tell"
elif start_container off "$T/off.json"; then
    check "time namespace off: none made" "log: $(cat "$T/off.log")" \
        sh -c "! grep -q 'new time namespace' '$T/off.log'"
    el=$(field elapsed "$T/off.out")
    # The container's uptime counts from its start, field 22 from the host's boot.
    check "time namespace off: elapsed time is hugely negative (the ps bug)" "elapsed ${el:-?} cs, host up ${host_up} s" \
        [ "${el:-0}" -lt $(((30 - host_up) * 100)) ]
else
    fail "time namespace off: container started" "$(cat "$T/off.err" "$T/off.out")"
fi

pv_finish
