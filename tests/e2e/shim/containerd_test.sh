# procview-runtime under containerd 1.6: a private containerd (own config,
# root, state, sockets, namespace) runs containers with `ctr run --rootfs
# --runtime io.containerd.runc.v2 --runc-binary procview-runtime`, the way a
# CRI runtime entry with options.BinaryName does. A container limited to
# 256 MiB and 1 CPU sees its limits; the same container through plain runc,
# or through the wrapper without the annotation, sees the host's; `ctr task
# exec`, `kill` and `delete` work through the wrapper; the wrapper's lines
# land in the bundle's log.json in runc's JSON format. Also checks that the
# shipped CRI snippet parses and registers the runtime, and that a refusal
# (fail_closed) reaches ctr with procview's reason.
#   sh containerd_test.sh PROCVIEW_RUNTIME PROCVIEW_HOOK PROCVIEWFS
. "$(dirname "$0")/shim_lib.sh"
pvs_init containerd "$@"
SNIPPET=$(dirname "$0")/../../../config/containerd/procview-cri.toml
{ pv_have containerd && pv_have ctr; } || pv_skip_all "containerd and ctr are not installed"
pv_have runc || pv_skip_all "runc not installed"
T=$PVS_TMP

# ---- the CRI snippet --------------------------------------------------------------
if [ -r "$SNIPPET" ]; then
    {
        echo "version = 2"
        echo "root = \"$T/cri-root\""
        echo "state = \"$T/cri-state\""
        cat "$SNIPPET"
    } >"$T/cri.toml"
    containerd --config "$T/cri.toml" config dump >"$T/cri-dump.toml" 2>"$T/cri-dump.err"
    check "CRI snippet: containerd parses it" "$(cat "$T/cri-dump.err")" [ -s "$T/cri-dump.toml" ]
    check "CRI snippet: runtime procview with BinaryName" "dump: $(grep -A12 'runtimes.procview\]' "$T/cri-dump.toml")" \
        sh -c "awk '/runtimes.procview\\]/ { r = 1 } r && /runtime_type = \"io.containerd.runc.v2\"/ { t = 1 }
                    /runtimes.procview.options\\]/ { o = 1 } o && /BinaryName = \"\\/usr\\/local\\/bin\\/procview-runtime\"/ { b = 1 }
                    END { exit !(t && b) }' '$T/cri-dump.toml'"
else
    skip "CRI snippet" "not found at $SNIPPET"
fi

pvs_start_views || pv_skip_all "$PVS_VIEWS_WHY"
pvs_config "$T/procview.json"

# ---- a private containerd -----------------------------------------------------------
pvs_start_containerd "$T/ctd" "pvshim-$$" "$T/procview.json"

# start NAME ANNOTATION [ctr run flags...]: a detached container sleeping,
# limited to 256 MiB and 1 CPU, in cgroup PVS_CG/NAME.
start() {
    _name=$1 _ann=$2
    shift 2
    $CTR run -d --null-io --rootfs --runtime io.containerd.runc.v2 --runc-root "$T/runc-root" \
        --env PATH=/bin --memory-limit 268435456 --cpus 1 --cgroup "/$PVS_CG/$_name" \
        ${_ann:+--annotation "$_ann"} "$@" "$PVS_ROOTFS" "$_name" sleep 600 >"$T/$_name.run" 2>&1
}
# inside NAME ARG...: run ARG... in container NAME (ctr task exec), stdout to $T/NAME.out.
EXEC_N=0
inside() {
    _name=$1
    shift
    EXEC_N=$((EXEC_N + 1))
    $CTR task exec --fifo-dir "$T/fifo" --exec-id "x$$-$EXEC_N" "$_name" "$@" >"$T/$_name.out" 2>"$T/$_name.err"
}
memtotal_is() { [ "$(pvs_memtotal "$T/$1.out")" = "$2" ]; }
running() { $CTR task ls | grep -q "^$1 .*RUNNING"; }
stopped() { $CTR task ls | grep -q "^$1 .*STOPPED"; }

enabled=procview.io/enabled=true
# head, not cat: busybox cat uses sendfile(2), which procviewfs files do not
# serve yet (covered by procviewfs's and the hook's tests).
meminfo="head -n 100 /proc/meminfo"

# ---- through the wrapper, opted in ---------------------------------------------------
id=pvshim-ctd-w-$$
start "$id" "$enabled" --runc-binary "$PVS_RUNTIME"
check "wrapper: container running" "$(cat "$T/$id.run")" running "$id"
inside "$id" $meminfo
check "wrapper: task exec sees MemTotal = 256 MiB" "MemTotal $(pvs_memtotal "$T/$id.out") kB: $(cat "$T/$id.err")" \
    memtotal_is "$id" 262144
inside "$id" head -n 1 /sys/devices/system/cpu/online
check "wrapper: one CPU online" "online '$(cat "$T/$id.out")'" [ "$(cat "$T/$id.out")" = 0 ]
LOG=$T/ctd/state/io.containerd.runtime.v2.task/$PVS_CTD_NS/$id/log.json
check "wrapper: our line in the bundle's log.json" "log.json: $(cat "$LOG" 2>&1)" \
    grep -q "^{\"level\":\"info\",\"msg\":\"procview: create $id: added procview-hook" "$LOG"
$CTR task kill -s KILL "$id" >"$T/$id.kill" 2>&1
check "wrapper: task kill" "$(cat "$T/$id.kill")" pv_wait_until 10 stopped "$id"
$CTR task delete "$id" >"$T/$id.del" 2>&1
check "wrapper: task delete" "exit $?: $(cat "$T/$id.del")" sh -c "! $CTR task ls -q | grep -qx '$id'"
$CTR containers rm "$id" >"$T/$id.rm" 2>&1
check "wrapper: container rm" "$(cat "$T/$id.rm")" sh -c "! $CTR containers ls -q | grep -qx '$id'"

# ---- plain runc, same limits: the host's view -----------------------------------------
id=pvshim-ctd-r-$$
start "$id" "$enabled"
inside "$id" $meminfo
check "plain runc: host MemTotal" "MemTotal $(pvs_memtotal "$T/$id.out"), host $PVS_HOST_MEM: $(cat "$T/$id.err")" \
    memtotal_is "$id" "$PVS_HOST_MEM"

# ---- the wrapper without the annotation: untouched ------------------------------------
id=pvshim-ctd-n-$$
start "$id" "" --runc-binary "$PVS_RUNTIME"
inside "$id" $meminfo
check "wrapper, not opted in: host MemTotal" "MemTotal $(pvs_memtotal "$T/$id.out"): $(cat "$T/$id.err")" \
    memtotal_is "$id" "$PVS_HOST_MEM"
check "wrapper, not opted in: logged why" "log.json: $(cat "$T/ctd/state/io.containerd.runtime.v2.task/$PVS_CTD_NS/$id/log.json" 2>&1)" \
    grep -q "procview: create $id: not opted in" "$T/ctd/state/io.containerd.runtime.v2.task/$PVS_CTD_NS/$id/log.json"

# ---- refused (fail_closed): containerd reports procview's own error ------------------
# Through a runtimeArgs-style script, as dockerd generates for "runtimeArgs".
cat >"$T/closed.json" <<EOF
{"runtime": {"hook_path": "$T/no-such-hook", "fail_closed": true}}
EOF
printf '#!/bin/sh\nexec %s --procview-config %s "$@"\n' "$PVS_RUNTIME" "$T/closed.json" >"$T/procview-closed"
chmod +x "$T/procview-closed"
id=pvshim-ctd-c-$$
start "$id" "$enabled" --runc-binary "$T/procview-closed"
check "fail_closed: ctr shows procview's reason" "ctr said: $(cat "$T/$id.run")" \
    grep -q "procview: create $id: runtime.hook_path .*refusing the container (runtime.fail_closed)" "$T/$id.run"
check "fail_closed: no task" "tasks: $($CTR task ls -q)" sh -c "! $CTR task ls -q | grep -qx '$id'"

pv_finish
