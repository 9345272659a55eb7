# e2e: procview-runtime in "mounts" mode binds each container's own files
# (hook.per_container, the default): the config.json sources are
# MOUNTPOINT/containers/self/proc/*, and runc resolves `self` in the process
# that does the bind mount, the container's init, so the mount pins
# containers/<init pid>-<start>/proc/*. Two containers sharing one pid
# namespace (Kubernetes shareProcessNamespace) each see their own limit; with
# the shared files (per_container false) both see the pid namespace init's.
# Also: hook.containers_mountpoint (a `procviewfs --containers-only` mount)
# first, a mountpoint that does not serve skipped, and a spec with a user
# namespace kept on the shared files (runc opens its mount sources from a
# process that is not the container's init).
#   sh mounts_self_test.sh PROCVIEW_RUNTIME PROCVIEW_HOOK PROCVIEWFS
. "$(dirname "$0")/shim_lib.sh"
pvs_init mounts-self "$@"
pv_have runc || pv_skip_all "runc not installed"
pvs_start_views || pv_skip_all "$PVS_VIEWS_WHY"
T=$PVS_TMP
ROOT=$T/runc-root
W="$PVS_RUNTIME"
enabled='"procview.io/enabled": "true"'
pvs_delete_containers_at_exit "$ROOT"
probe='echo "== pid1"; cat /proc/1/comm; echo "== meminfo"; head -n 100 /proc/meminfo; echo "== mountinfo"; cat /proc/self/mountinfo'

# config FILE HOOK_JSON_BODY: mounts mode with the given "hook" settings.
config() {
    cat >"$1" <<EOF
{"mountpoint": $(pv_json_str "$PVS_MNT"),
 "hook": {"log_file": $(pv_json_str "$T/hook.log"), "health_timeout_ms": 2000${2:+, $2}},
 "runtime": {"mode": "mounts", "hook_path": $(pv_json_str "$PVS_HOOK")}}
EOF
}
config "$T/own.json"
config "$T/shared.json" '"per_container": false'
mkdir -p "$T/idle" "$T/cviews"
config "$T/idle.json" "\"containers_mountpoint\": $(pv_json_str "$T/idle")"
config "$T/cviews.json" "\"containers_mountpoint\": $(pv_json_str "$T/cviews")"

# bundle NAME MEMORY_BYTES ARG...: limited to MEMORY_BYTES, in its own cgroup.
bundle() {
    _b=$T/$1 _mem=$2
    shift 2
    mkdir -p "$_b"
    PV_ROOT_PATH=$PVS_ROOTFS PV_ANNOTATIONS=$enabled PV_RESOURCES=$(pv_resources_json "$_mem" 100000 100000 0-1) \
        PV_CGROUPS_PATH=/$PVS_CG/$1 pv_write_config "$_b" "$@"
}
# run NAME CONFIG: procview-runtime run, output in $T/NAME.out, its log in $T/NAME.log.
run() {
    "$W" --procview-config "$2" --root "$ROOT" --log "$T/$1.log" run --bundle "$T/$1" "pvself-$1-$$" \
        >"$T/$1.out" 2>"$T/$1.err" </dev/null
    RC=$?
}
section() { awk -v s="== $2" '$0 == s { on = 1; next } /^== / { on = 0 } on' "$T/$1.out"; }
mem_of() { section "$1" meminfo | pv_meminfo_kb MemTotal; }
# The root (within procviewfs) of the container's /proc/meminfo mount.
root_of() { section "$1" mountinfo | awk '$5 == "/proc/meminfo" { r = $4 } END { print r }'; }
source_of() { grep -o "\"destination\":\"/proc/meminfo\",\"type\":\"bind\",\"source\":\"[^\"]*\"" "$T/$1/config.json" | sed 's/.*"source":"//; s/"$//'; }

# ---- the pause container: 128 MiB, pid 1 of the pod's pid namespace ----------
bundle pause 134217728 sleep 300
"$W" --procview-config "$T/own.json" --root "$ROOT" --log "$T/pause.log" run -d --bundle "$T/pause" "pvself-pause-$$" \
    >"$T/pause.out" 2>&1 </dev/null || pv_skip_all "the pause container did not start: $(cat "$T/pause.out")"
pause_pid=$("$W" --root "$ROOT" state "pvself-pause-$$" | awk '/"pid"/ { gsub(/[^0-9]/, ""); print; exit }')
[ -n "$pause_pid" ] && [ -e "/proc/$pause_pid/ns/pid" ] || pv_skip_all "no pid for the pause container"
pause_start=$(cut -d' ' -f22 "/proc/$pause_pid/stat")
check "pause: source containers/self in the spec" "source '$(source_of pause)'" \
    [ "$(source_of pause)" = "$PVS_MNT/containers/self/proc/meminfo" ]
check "pause: the shim logged the choice" "log: $(cat "$T/pause.log")" \
    grep -q "per-container files: binding $PVS_MNT/containers/self/proc/\*" "$T/pause.log"
host_root=$(awk '$5 == "/proc/meminfo" { r = $4 } END { print r }' "/proc/$pause_pid/mountinfo")
check "pause: runc's bind mount pinned its init's own directory" \
    "mount root '$host_root', init $pause_pid-$pause_start" \
    [ "$host_root" = "/containers/$pause_pid-$pause_start/proc/meminfo" ]
"$W" --root "$ROOT" exec "pvself-pause-$$" head -n 100 /proc/meminfo >"$T/pause-mem.out" 2>&1 </dev/null
check "pause: its own 128 MiB" "MemTotal '$(pvs_memtotal "$T/pause-mem.out")' kB" \
    [ "$(pvs_memtotal "$T/pause-mem.out")" = 131072 ]

# ---- an app container in the pause container's pid namespace: 256 MiB --------
PV_PID_NS_PATH=/proc/$pause_pid/ns/pid bundle app 268435456 sh -c "$probe"
run app "$T/own.json"
check "app: ran" "exit $RC: $(cat "$T/app.err")" [ "$RC" = 0 ]
check "app: shares the pause container's pid namespace" "pid 1 '$(section app pid1)'" [ "$(section app pid1)" = sleep ]
check "app (per-container files): its own 256 MiB, not the pause container's 128" "MemTotal '$(mem_of app)' kB" \
    [ "$(mem_of app)" = 262144 ]
case "$(root_of app)" in
/containers/"$pause_pid"-*) fail "app: binds its own files" "it has the pause container's ($(root_of app))" ;;
/containers/[0-9]*-[0-9]*/proc/meminfo) pass "app: binds its own files ($(root_of app))" ;;
*) fail "app: binds its own files" "mount root '$(root_of app)'" ;;
esac

PV_PID_NS_PATH=/proc/$pause_pid/ns/pid bundle shared 268435456 sh -c "$probe"
run shared "$T/shared.json"
check "app (per_container false): the shared file" "source '$(source_of shared)'" \
    [ "$(source_of shared)" = "$PVS_MNT/proc/meminfo" ]
check "app (per_container false): the pid namespace init's 128 MiB, as before" "MemTotal '$(mem_of shared)' kB" \
    [ "$(mem_of shared)" = 131072 ]

# ---- hook.containers_mountpoint -------------------------------------------------
bundle idle 201326592 sh -c "$probe"
run idle "$T/idle.json"
check "containers_mountpoint not serving: the main mount's containers/self" \
    "source '$(source_of idle)', MemTotal '$(mem_of idle)': $(cat "$T/idle.log")" \
    sh -c "[ '$(source_of idle)' = '$PVS_MNT/containers/self/proc/meminfo' ] && [ '$(mem_of idle)' = 196608 ] &&
           grep -q 'per-container files at $T/idle: ' '$T/idle.log'"

"$PVS_VIEWS_BIN" -f --containers-only "$T/cviews" >"$T/cviews.log" 2>&1 &
cviews_pid=$!
pv_at_exit "'$PVS_VIEWS_BIN' --unmount '$T/cviews' >/dev/null 2>&1"
pv_at_exit "pv_stop_pid $cviews_pid"
if pv_wait_until 10 pv_is_mounted "$T/cviews" fuse; then
    bundle cv 167772160 sh -c "$probe; echo '== cpu'; head -n 1 /sys/devices/system/cpu/online"
    run cv "$T/cviews.json"
    check "containers_mountpoint serving: its containers/self" "source '$(source_of cv)': $(cat "$T/cv.err")" \
        [ "$(source_of cv)" = "$T/cviews/containers/self/proc/meminfo" ]
    check "containers_mountpoint: the container's own 160 MiB" "MemTotal '$(mem_of cv)' kB" [ "$(mem_of cv)" = 163840 ]
    check "containers_mountpoint: the CPU directory still from the main mount (quota 1 CPU)" \
        "online '$(section cv cpu)', spec: $(grep -o '"source":"[^"]*cpu"' "$T/cv/config.json")" \
        sh -c "[ '$(section cv cpu)' = 0 ] && grep -q '\"source\":\"$PVS_MNT/sys/devices/system/cpu\"' '$T/cv/config.json'"
else
    fail "procviewfs --containers-only started" "$(cat "$T/cviews.log")"
fi

# ---- crun behind the shim (crun 1.8 refuses hybrid cgroup hosts with limits) -----
if pv_have crun; then
    cat >"$T/crun.json" <<EOF
{"mountpoint": $(pv_json_str "$PVS_MNT"), "hook": {"health_timeout_ms": 2000},
 "runtime": {"mode": "mounts", "runtime": "crun", "hook_path": $(pv_json_str "$PVS_HOOK")}}
EOF
    bundle crun 209715200 sh -c "$probe"
    "$W" --procview-config "$T/crun.json" --root "$T/crun-root" run --bundle "$T/crun" "pvself-crun-$$" \
        >"$T/crun.out" 2>"$T/crun.err" </dev/null
    if [ $? = 0 ]; then
        check "crun: its own 200 MiB" "MemTotal '$(mem_of crun)' kB" [ "$(mem_of crun)" = 204800 ]
        check "crun: binds its own files" "mount root '$(root_of crun)'" \
            sh -c "echo '$(root_of crun)' | grep -qx '/containers/[0-9]*-[0-9]*/proc/meminfo'"
    else
        skip "crun behind the shim" "crun cannot run here: $(cat "$T/crun.err")"
    fi
else
    skip "crun behind the shim" "crun not installed"
fi

# ---- a user namespace: the shared files, said so --------------------------------
bundle userns 268435456 sh -c "$probe"
sed -i 's/"namespaces": \[/"uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}], "gidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}], "namespaces": [{"type": "user"}, /' \
    "$T/userns/config.json"
chmod 711 "$T"  # the container's root (uid 100000 on the host) walks to its rootfs
run userns "$T/own.json"
check "user namespace: the shared file, and why" "source '$(source_of userns)': $(cat "$T/userns.log")" \
    sh -c "[ '$(source_of userns)' = '$PVS_MNT/proc/meminfo' ] && grep -q 'the spec has a user namespace' '$T/userns.log'"
if [ "$RC" = 0 ]; then
    check "user namespace: its 256 MiB through the shared file" "MemTotal '$(mem_of userns)' kB" \
        [ "$(mem_of userns)" = 262144 ]
else
    skip "user namespace: its 256 MiB through the shared file" "runc cannot run it here: $(cat "$T/userns.err")"
fi
pv_finish
