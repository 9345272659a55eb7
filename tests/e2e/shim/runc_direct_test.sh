# procview-runtime called the way Docker's and BuildKit's go-runc call runc:
# `procview-runtime [--procview-config F] [runc globals] run|create|... --bundle B ID`,
# with runc (and crun) behind it and procviewfs + procview-hook doing the views.
# Runs under busybox sh without containerd (the cgroup v2 VM lane).
#   sh runc_direct_test.sh PROCVIEW_RUNTIME PROCVIEW_HOOK PROCVIEWFS
. "$(dirname "$0")/shim_lib.sh"
pvs_init direct "$@"
pv_have runc || pv_skip_all "runc not installed"
RUNC=$(command -v runc)
T=$PVS_TMP
ROOT=$T/runc-root
W="$PVS_RUNTIME"
enabled='"procview.io/enabled": "true"'
# head, not cat: busybox cat uses sendfile(2), which procviewfs files do not
# serve yet (the hook's and procviewfs's tests cover that); read(2) is what
# this script needs to see the views the shim set up.
probe='head -n 100 /proc/meminfo; echo "online $(head -n 1 /sys/devices/system/cpu/online)"'

pvs_delete_containers_at_exit "$ROOT"

views=1
pvs_start_views || views=0
pvs_config "$T/hook-mode.json"
pvs_config "$T/enable-all.json" '"enable_all": true'
pvs_config "$T/mounts-mode.json" '"mode": "mounts"'
pvs_config "$T/fail-closed.json" '"fail_closed": true'
pvs_config "$T/crun.json" '"runtime": "crun"'
cat >"$T/bad-hook.json" <<EOF
{"mountpoint": $(pv_json_str "$PVS_MNT"), "runtime": {"hook_path": "$T/no-such-hook"}}
EOF
mkdir -p "$T/idle"
cat >"$T/idle-mounts.json" <<EOF
{"mountpoint": "$T/idle", "hook": {"health_timeout_ms": 200}, "runtime": {"mode": "mounts"}}
EOF

# wrun NAME ARG...: procview-runtime ARG... with stdout in $T/NAME.out,
# stderr in $T/NAME.err and the exit status in WRC.
wrun() {
    _name=$1
    shift
    "$W" "$@" >"$T/$_name.out" 2>"$T/$_name.err" </dev/null
    WRC=$?
}
rrun() {
    _name=$1
    shift
    "$RUNC" "$@" >"$T/$_name.out" 2>"$T/$_name.err" </dev/null
    RRC=$?
}
memtotal_is() { [ "$(pvs_memtotal "$T/$1.out")" = "$2" ]; }
online_is() { [ "$(awk '$1 == "online" { print $2 }' "$T/$1.out")" = "$2" ]; }

# ---- passthrough of calls that touch no bundle --------------------------------
wrun version --version
rrun version-runc --version
check "--version names procview-runtime first" "got '$(head -1 "$T/version.out")'" \
    grep -q '^procview-runtime version .* (runs .*runc)$' "$T/version.out"
check "--version then prints runc's own lines (Docker parses them)" "exit $WRC" \
    sh -c "tail -n +2 '$T/version.out' | cmp -s - '$T/version-runc.out'"
wrun features features
rrun features-runc features
if [ "$RRC" = 0 ]; then
    check "features is runc's" "exit $WRC, output differs" cmp -s "$T/features.out" "$T/features-runc.out"
else
    skip "features is runc's" "this runc has no features subcommand"
fi

if [ "$views" = 0 ]; then
    skip "views through the wrapper" "$PVS_VIEWS_WHY"
else
    # ---- run, opted in by annotation (BuildKit / direct use) ------------------
    b=$T/run-annotated
    pvs_bundle "$b" "$enabled" sh -c "$probe"
    id=pvshim-direct-a-$$
    wrun run-annotated --procview-config "$T/hook-mode.json" --root "$ROOT" --log "$T/run-annotated.log" \
        --log-format json run --bundle "$b" "$id"
    check "run: exit 0" "exit $WRC: $(cat "$T/run-annotated.err")" [ "$WRC" = 0 ]
    check "run: MemTotal is the 256 MiB limit" "MemTotal $(pvs_memtotal "$T/run-annotated.out") kB" \
        memtotal_is run-annotated 262144
    check "run: one CPU online (quota 1 CPU)" "online '$(awk '$1 == "online" { print $2 }' "$T/run-annotated.out")'" \
        online_is run-annotated 0
    check "run: hook added once" "$(pvs_hook_count "$b/config.json") procview-hook entries" \
        [ "$(pvs_hook_count "$b/config.json")" = 1 ]
    check "run: hook stage createRuntime" "spec: $(cat "$b/config.json")" \
        grep -q '"createRuntime":\[{"path"' "$b/config.json"
    check "run: our line in runc's JSON log" "log: $(cat "$T/run-annotated.log")" \
        grep -q "^{\"level\":\"info\",\"msg\":\"procview: run $id: added procview-hook" "$T/run-annotated.log"

    # The same bundle again (a restarted container): still one hook.
    wrun run-again --procview-config "$T/hook-mode.json" --root "$ROOT" run --bundle "$b" "$id-again"
    check "run twice: exit 0 and limit" "exit $WRC, MemTotal $(pvs_memtotal "$T/run-again.out")" \
        memtotal_is run-again 262144
    check "run twice: still one hook" "$(pvs_hook_count "$b/config.json") entries" \
        [ "$(pvs_hook_count "$b/config.json")" = 1 ]

    # ---- same exit status, same file descriptors ------------------------------
    b=$T/status
    pvs_bundle "$b" "$enabled" sh -c 'echo via-fd3 >&3; exit 7'
    "$W" --procview-config "$T/hook-mode.json" --root "$ROOT" run --preserve-fds 1 --bundle "$b" \
        pvshim-direct-s-$$ >"$T/status.out" 2>"$T/status.err" 3>"$T/status.fd3" </dev/null
    WRC=$?
    check "the container's exit status comes back" "exit $WRC: $(cat "$T/status.err")" [ "$WRC" = 7 ]
    check "--preserve-fds: fd 3 reaches the container" "fd 3 got '$(cat "$T/status.fd3")'" \
        grep -qx via-fd3 "$T/status.fd3"

    # ---- not opted in: spec untouched, host's view -----------------------------
    b=$T/run-plain
    pvs_bundle "$b" "" sh -c "$probe"
    cp "$b/config.json" "$T/run-plain.spec"
    wrun run-plain --procview-config "$T/hook-mode.json" --root "$ROOT" run --bundle "$b" pvshim-direct-p-$$
    check "not opted in: exit 0" "exit $WRC: $(cat "$T/run-plain.err")" [ "$WRC" = 0 ]
    check "not opted in: host MemTotal" "MemTotal $(pvs_memtotal "$T/run-plain.out"), host $PVS_HOST_MEM" \
        memtotal_is run-plain "$PVS_HOST_MEM"
    check "not opted in: config.json byte for byte" "config.json changed" cmp -s "$b/config.json" "$T/run-plain.spec"

    # ---- runtime.enable_all (pouch --enableLxcfs), and the opt-out -------------
    b=$T/run-all
    pvs_bundle "$b" "" sh -c "$probe"
    wrun run-all --procview-config "$T/enable-all.json" --root "$ROOT" run --bundle "$b" pvshim-direct-all-$$
    check "enable_all: limit without annotation" "exit $WRC, MemTotal $(pvs_memtotal "$T/run-all.out")" \
        memtotal_is run-all 262144
    b=$T/run-optout
    pvs_bundle "$b" '"procview.io/enabled": "false"' sh -c "$probe"
    wrun run-optout --procview-config "$T/enable-all.json" --root "$ROOT" run --bundle "$b" pvshim-direct-out-$$
    check "enable_all: procview.io/enabled=false opts out" "exit $WRC, MemTotal $(pvs_memtotal "$T/run-optout.out")" \
        memtotal_is run-optout "$PVS_HOST_MEM"

    # ---- --procview-enable (Docker's runtimeArgs: the runtime name is the opt-in) ----
    b=$T/run-flag
    pvs_bundle "$b" "" sh -c "$probe"
    wrun run-flag --procview-enable --procview-config "$T/hook-mode.json" --root "$ROOT" run --bundle "$b" pvshim-direct-flag-$$
    check "--procview-enable: limit without annotation" "exit $WRC, MemTotal $(pvs_memtotal "$T/run-flag.out")" \
        memtotal_is run-flag 262144
    b=$T/run-flag-out
    pvs_bundle "$b" '"procview.io/enabled": "false"' sh -c "$probe"
    wrun run-flag-out --procview-enable --procview-config "$T/hook-mode.json" --root "$ROOT" run --bundle "$b" pvshim-direct-flagout-$$
    check "--procview-enable: procview.io/enabled=false opts out" "exit $WRC, MemTotal $(pvs_memtotal "$T/run-flag-out.out")" \
        memtotal_is run-flag-out "$PVS_HOST_MEM"

    # PROCVIEW_CONFIG instead of the flag.
    b=$T/run-env
    pvs_bundle "$b" "" sh -c "$probe"
    PROCVIEW_CONFIG=$T/enable-all.json "$W" --root "$ROOT" run --bundle "$b" pvshim-direct-env-$$ \
        >"$T/run-env.out" 2>"$T/run-env.err" </dev/null
    check "PROCVIEW_CONFIG selects the config" "MemTotal $(pvs_memtotal "$T/run-env.out")" memtotal_is run-env 262144

    # ---- mounts mode: bind mounts in config.json, no hook ----------------------
    b=$T/run-mounts
    pvs_bundle "$b" "$enabled" sh -c "$probe"
    wrun run-mounts --procview-config "$T/mounts-mode.json" --root "$ROOT" run --bundle "$b" pvshim-direct-m-$$
    check "mounts mode: limit" "exit $WRC, MemTotal $(pvs_memtotal "$T/run-mounts.out"): $(cat "$T/run-mounts.err")" \
        memtotal_is run-mounts 262144
    check "mounts mode: one CPU online" "online '$(awk '$1 == "online" { print $2 }' "$T/run-mounts.out")'" \
        online_is run-mounts 0
    check "mounts mode: bind mount in the spec, no hook" "spec: $(cat "$b/config.json")" \
        sh -c "grep -q '\"destination\":\"/proc/meminfo\",\"type\":\"bind\"' '$b/config.json' && \
               ! grep -q procview-hook '$b/config.json'"

    # ---- Docker / containerd sequence: create, start, exec, kill, delete -------
    b=$T/lifecycle
    pvs_bundle "$b" "$enabled" sleep 300
    id=pvshim-direct-l-$$
    log=$T/lifecycle.log
    G="--procview-config $T/hook-mode.json --root $ROOT --log $log --log-format json"
    # shellcheck disable=SC2086
    {
        "$W" $G create --bundle "$b" --pid-file "$T/lifecycle.pid" "$id" >"$T/lc-create.out" 2>&1 </dev/null
        check "create" "exit $?: $(cat "$T/lc-create.out")" [ -s "$T/lifecycle.pid" ]
        wrun lc-start $G start "$id"
        check "start" "exit $WRC: $(cat "$T/lc-start.err")" [ "$WRC" = 0 ]
        wrun lc-exec $G exec "$id" head -n 100 /proc/meminfo
        check "exec sees the limit" "exit $WRC, MemTotal $(pvs_memtotal "$T/lc-exec.out")" memtotal_is lc-exec 262144
        wrun lc-update $G update --pids-limit 100 "$id"
        check "update passes through" "exit $WRC: $(cat "$T/lc-update.err")" [ "$WRC" = 0 ]
        wrun lc-kill $G kill "$id" KILL
        check "kill" "exit $WRC: $(cat "$T/lc-kill.err")" [ "$WRC" = 0 ]
        pv_wait_until 5 sh -c "'$W' $G state '$id' | grep -q '\"status\": \"stopped\"'"
        wrun lc-delete $G delete "$id"
        check "delete" "exit $WRC: $(cat "$T/lc-delete.err")" [ "$WRC" = 0 ]
        wrun lc-state $G state "$id"
        check "state after delete fails as runc's does" "exit $WRC" [ "$WRC" != 0 ]
    }

    # ---- BuildKit: run --bundle --keep, then state and delete ------------------
    b=$T/keep
    pvs_bundle "$b" "$enabled" sh -c "$probe"
    id=pvshim-direct-k-$$
    wrun keep-run --procview-config "$T/hook-mode.json" --root "$ROOT" run --bundle "$b" --keep "$id"
    check "run --keep: limit" "exit $WRC, MemTotal $(pvs_memtotal "$T/keep-run.out")" memtotal_is keep-run 262144
    wrun keep-state --root "$ROOT" state "$id"
    check "run --keep: container kept (stopped)" "state: $(cat "$T/keep-state.out" "$T/keep-state.err")" \
        grep -q '"status": "stopped"' "$T/keep-state.out"
    wrun keep-delete --root "$ROOT" delete "$id"
    check "run --keep: delete" "exit $WRC" [ "$WRC" = 0 ]

    # ---- restore edits the spec too (runc then needs criu, which may be absent) --
    b=$T/restore
    pvs_bundle "$b" "$enabled" true
    wrun restore --procview-config "$T/hook-mode.json" --root "$ROOT" restore --image-path "$T/no-image" \
        --bundle "$b" pvshim-direct-re-$$
    check "restore: hook added before runc runs" "$(pvs_hook_count "$b/config.json") entries: $(cat "$T/restore.err")" \
        [ "$(pvs_hook_count "$b/config.json")" = 1 ]

    # ---- crun behind the wrapper -----------------------------------------------
    if pv_have crun; then
        wrun crun-version --procview-config "$T/crun.json" --version
        check "runtime.runtime=crun execs crun" "got '$(sed -n 2p "$T/crun-version.out")'" \
            grep -q '^crun version' "$T/crun-version.out"
        b=$T/crun
        # No limits and no cgroup manager: crun 1.8 refuses hybrid cgroup hosts.
        mkdir -p "$b"
        PV_ROOT_PATH=$PVS_ROOTFS PV_ANNOTATIONS=$enabled pv_write_config "$b" sh -c 'grep " /proc/meminfo " /proc/self/mountinfo'
        cgm=""
        [ -e /sys/fs/cgroup/cgroup.controllers ] || cgm=--cgroup-manager=disabled
        wrun crun-run --procview-config "$T/crun.json" $cgm --root="$T/crun-root" run --bundle="$b" pvshim-direct-c-$$
        if [ "$WRC" = 0 ]; then
            check "crun: procviewfs mounted on /proc/meminfo" "mountinfo: $(cat "$T/crun-run.out")" \
                grep -q 'fuse' "$T/crun-run.out"
        else
            skip "crun: procviewfs mounted on /proc/meminfo" "crun cannot run here: $(cat "$T/crun-run.err")"
        fi
    else
        skip "crun behind the wrapper" "crun not installed"
    fi
fi

# ---- bad input: a clear message, then the real runtime's own behaviour -----------
# config.json that is not JSON: the wrapper warns, runc fails as it would alone.
b=$T/not-json
mkdir -p "$b"
echo 'this is { not JSON' >"$b/config.json"
wrun notjson --procview-config "$T/hook-mode.json" --root "$ROOT" create --bundle "$b" pvshim-direct-nj-$$
rrun notjson-runc --root "$ROOT" create --bundle "$b" pvshim-direct-nj-$$
check "not JSON: procview says so" "stderr: $(cat "$T/notjson.err")" \
    grep -q "procview: create pvshim-direct-nj-$$: spec \`$b/config.json\`: not JSON" "$T/notjson.err"
check "not JSON: runc's own exit status" "wrapper $WRC, runc $RRC" sh -c "[ $WRC = $RRC ] && [ $RRC != 0 ]"
check "not JSON: runc's own message" "stderr: $(cat "$T/notjson.err")" grep -q "runc create failed" "$T/notjson.err"
check "not JSON: file left alone" "config.json changed" grep -qx 'this is { not JSON' "$b/config.json"

wrun notjson-closed --procview-config "$T/fail-closed.json" --root "$ROOT" create --bundle "$b" pvshim-direct-nj-$$
check "fail_closed: refused before runc" "exit $WRC: $(cat "$T/notjson-closed.err")" \
    sh -c "[ $WRC = 1 ] && grep -q 'refusing the container (runtime.fail_closed)' '$T/notjson-closed.err' && \
           ! grep -q 'runc create failed' '$T/notjson-closed.err'"

# A missing bundle.
wrun nobundle --procview-config "$T/hook-mode.json" --root "$ROOT" create --bundle "$T/no-such-bundle" pvshim-direct-nb-$$
rrun nobundle-runc --root "$ROOT" create --bundle "$T/no-such-bundle" pvshim-direct-nb-$$
check "missing bundle: procview names the file" "stderr: $(cat "$T/nobundle.err")" \
    grep -q "spec \`$T/no-such-bundle/config.json\`: open .*No such file or directory" "$T/nobundle.err"
check "missing bundle: runc's own status and message" "wrapper $WRC, runc $RRC: $(cat "$T/nobundle.err")" \
    sh -c "[ $WRC = $RRC ] && grep -q 'chdir $T/no-such-bundle' '$T/nobundle.err'"

# An unknown subcommand: passed through untouched.
wrun unknown --procview-config "$T/hook-mode.json" frobnicate pvshim-x
rrun unknown-runc frobnicate pvshim-x
check "unknown subcommand: runc's status and message" "wrapper $WRC, runc $RRC: $(cat "$T/unknown.err")" \
    sh -c "[ $WRC = $RRC ] && grep -q \"No help topic for 'frobnicate'\" '$T/unknown.err'"

# Our own option without its value.
wrun noval --procview-config
check "--procview-config without a value" "exit $WRC: $(cat "$T/noval.err")" \
    sh -c "[ $WRC = 2 ] && grep -q 'procview-runtime: --procview-config needs a file name' '$T/noval.err'"

# A broken procview setup never stops a container (fail open).
b=$T/fail-open
pvs_bundle "$b" "$enabled" sh -c "$probe"
wrun noconfig --procview-config "$T/no-such.json" --root "$ROOT" run --bundle "$b" pvshim-direct-nc-$$
check "missing procview config: warned, container runs unchanged" \
    "exit $WRC, MemTotal $(pvs_memtotal "$T/noconfig.out"): $(cat "$T/noconfig.err")" \
    sh -c "[ $WRC = 0 ] && grep -q 'procview is off for this call' '$T/noconfig.err' && \
           [ \"\$(awk '/^MemTotal:/ { print \$2 }' '$T/noconfig.out')\" = '$PVS_HOST_MEM' ]"
wrun badhook --procview-config "$T/bad-hook.json" --root "$ROOT" run --bundle "$b" pvshim-direct-bh-$$
check "hook not executable: warned, container runs without it" "exit $WRC: $(cat "$T/badhook.err")" \
    sh -c "[ $WRC = 0 ] && grep -q 'runtime.hook_path .* is not executable' '$T/badhook.err' && \
           ! grep -q procview-hook '$b/config.json'"
wrun idle --procview-config "$T/idle-mounts.json" --root "$ROOT" run --bundle "$b" pvshim-direct-id-$$
check "mounts mode without procviewfs: warned, no mounts added" "exit $WRC: $(cat "$T/idle.err")" \
    sh -c "[ $WRC = 0 ] && grep -q 'procviewfs at .*not' '$T/idle.err' && ! grep -q '/proc/meminfo\",\"type\":\"bind' '$b/config.json'"

pv_finish
