# The Kubernetes DaemonSet's lifecycle, simulated with a private dockerd
# (started by this script on scratch paths, as docker_test.sh does) and the
# node image built without a registry (deploy/image/build-rootfs.sh, `docker
# import`ed twice: two builds, two releases, a rollout between them).
#
# The pod's two containers run as deploy/kubernetes/daemonset.yaml specifies
# (the second, `containers`, is procviewfs --containers-only on $MP-containers,
# where the apps' hook binds their own files from; every round below replaces
# both, and both keepers must survive it). The main node container:
# --privileged, --pid=host, its own network namespace (no hostNetwork: the
# keeper is found on its /run/procview socket, never through the network
# namespace), the mountpoint's hostPath bound rshared (procviewfs mounts on
# the volume itself), /run/procview and the
# host's /etc, /opt/procview (here a scratch "host root") and /sys/fs/cgroup.
# App containers, opted in through procview-runtime (`--runtime procview`),
# read their views in a loop (pv-restart-reader: one line per read, with the
# host's monotonic clock). Then, each a round:
#   rollout   `docker rm -f` of the node container (SIGKILL to its cgroup, as
#             a pod deletion does) and a new one from the second image build
#   crash     `docker kill -s KILL`, then a new container from the same image
#   stop      `docker stop` (the kubelet's SIGTERM: procviewfs hands over),
#             then a new one from the first build (a rollback)
# Verdicts: no app reader ever fails a read, each is correct again within
# 1 s of the new node container serving, the keeper is the same process all
# along (in its host cgroup, not the pod's); gaps are reported. Finally the
# uninstall (the image's `uninstall`, what uninstall-job.yaml runs) leaves no
# mount, keeper, keeper cgroup, file under /run/procview for this mountpoint,
# nor anything the installer wrote under the host root.
# sysinfo(2) in an app container, whose seccomp notify fd the keeper holds
# across the node containers, is checked before the rounds and after them.
#   sh daemonset_test.sh SOURCE_DIR BUILD_DIR PROCVIEW_CTL PROCVIEW_RUNTIME PROCVIEW_HOOK PV_RESTART_READER PV_SYSINFO_FIELDS
. "$(dirname "$0")/../lib.sh"
SRC=$1 BUILD=$2 CTL=$3 RUNTIME=$4 HOOK=$5 READER=$6 FIELDS=$7
pv_begin docker-daemonset
pv_need_root
{ pv_have dockerd && pv_have docker; } || pv_skip_all "dockerd and docker are not installed"
pv_have patchelf || pv_skip_all "patchelf is needed to build the image's rootfs"
for b in "$CTL" "$RUNTIME" "$HOOK" "$READER" "$FIELDS" "$BUILD/fusefs/procviewfs"; do [ -x "$b" ] || pv_skip_all "$b not built"; done
[ -e /dev/fuse ] || pv_skip_all "no /dev/fuse"
pv_tmpdir pvds || pv_skip_all "cannot create a temporary directory"
T=$PV_TMP
now() { "$READER" now; }
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", (b - a) / 1e6 }'; }

MP=$T/mnt            # the hostPath volume and the mountpoint, same path in the pod
MPC=$MP-containers   # the second container's (procview.json's default hook.containers_mountpoint)
HOST=$T/host         # the host root the installer writes into (/host in the pod)
KCG=pvds-keeper-$$   # the keeper's host cgroup
CG=pvds-$$           # dockerd's cgroup parent
NODE=pvds-node-$$

docker_leftovers() {
    for p in $(grep -l -F "$T/" /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3); do
        [ "$p" != $$ ] && grep -q -F "$T/" "/proc/$p/cmdline" 2>/dev/null && kill -KILL "$p" 2>/dev/null
    done
    sleep 0.2
    awk -v t="$T/" 'index($5, t) == 1 { print $5 }' /proc/self/mountinfo | sort -r | while read -r m; do
        umount -l "$m"
    done
}
[ -d /run/containerd ] || pv_at_exit "rmdir /run/containerd/s /run/containerd"
pv_at_exit "for c in /sys/fs/cgroup/$CG /sys/fs/cgroup/*/$CG /sys/fs/cgroup/$KCG /sys/fs/cgroup/*/$KCG; do [ -d \"\$c\" ] && find \"\$c\" -depth -type d -exec rmdir {} \\; ; done"
pv_at_exit docker_leftovers
# A keeper left by a failed run: it is in our cgroup, found by it.
# keeper_pid [MOUNTPOINT]: the keeper of MOUNTPOINT ($MP), in our cgroup.
keeper_pid() {
    for _f in $(grep -l ":/$KCG\$" /proc/[0-9]*/cgroup 2>/dev/null); do
        _p=${_f#/proc/}; _p=${_p%/cgroup}
        tr '\0' '\n' <"/proc/$_p/cmdline" 2>/dev/null | sed -n 3p | grep -qx -F "${1:-$MP}" && echo "$_p" && return 0
    done
    return 0
}
pv_at_exit '"$BUILD/fusefs/procviewfs" --unmount "$MP" >/dev/null 2>&1; "$BUILD/fusefs/procviewfs" --unmount "$MPC" >/dev/null 2>&1'

# ---- the host side: the volume (a bind of an empty directory, rshared), the config ----
mkdir -p "$MP" "$MPC" "$HOST/etc/containerd" "$HOST/etc/procview" "$T/agent" /run/procview
for v in "$MP" "$MPC"; do
    mount --bind "$v" "$v" && mount --make-rshared "$v" || pv_skip_all "cannot make $v a shared bind mount"
done
# The node's procview.json, kept by the installer: this test's sysinfo socket
# and hook, and the same file is the runtime's config (PROCVIEW_CONFIG).
cat >"$HOST/etc/procview/procview.json" <<EOF
{"mountpoint": $(pv_json_str "$MP"), "sysinfo_listener_path": $(pv_json_str "$T/agent/seccomp.sock"),
 "hook": {"log_file": $(pv_json_str "$T/hook.log")}, "runtime": {"hook_path": $(pv_json_str "$HOOK")}}
EOF
cp "$HOST/etc/procview/procview.json" "$T/procview.json.orig"

# ---- two image builds: the same programs, two releases ------------------------------
t0=$(now)
for n in 1 2; do
    "$SRC/deploy/image/build-rootfs.sh" --build-dir "$BUILD" --salt "pvds-$$-$n" "$T/node$n.tar" >"$T/build$n.out" 2>&1 ||
        pv_skip_all "build-rootfs.sh failed: $(tail -n 3 "$T/build$n.out")"
done
echo "     two rootfs builds in $(ms "$t0" "$(now)") ms"
rel1=$(sed -n 's/.*release \([^ ]*\) ->.*/\1/p' "$T/build1.out")
rel2=$(sed -n 's/.*release \([^ ]*\) ->.*/\1/p' "$T/build2.out")
check "two builds are two releases" "'$rel1' '$rel2'" sh -c "[ -n '$rel1' ] && [ -n '$rel2' ] && [ '$rel1' != '$rel2' ]"

# ---- a private dockerd with the runtime procview -----------------------------------
DJ=$T/root/etc/docker/daemon.json
mkdir -p "$T/root/etc/docker"
echo '{"storage-driver": "vfs", "log-level": "warn"}' >"$DJ"
"$CTL" --root "$T/root" configure docker --runtime-path "$RUNTIME" >"$T/ctl.out" 2>&1 ||
    pv_skip_all "procview-ctl configure docker: $(cat "$T/ctl.out")"
PROCVIEW_CONFIG=$HOST/etc/procview/procview.json dockerd --config-file "$DJ" --data-root "$T/data" --exec-root "$T/exec" \
    -H "unix://$T/docker.sock" --pidfile "$T/docker.pid" --cgroup-parent "/$CG" \
    --bridge=none --iptables=false --ip-masq=false --ip6tables=false >"$T/dockerd.log" 2>&1 &
DOCKERD_PID=$!
pv_at_exit "pv_stop_pid $DOCKERD_PID"
D="docker -H unix://$T/docker.sock"
up() { $D version >/dev/null 2>&1; }
pv_wait_until 60 up || pv_skip_all "dockerd did not come up: $(tail -5 "$T/dockerd.log")"
pv_at_exit "$D rm -f \$($D ps -aq) >/dev/null 2>&1"
for n in 1 2; do
    $D import --change 'ENTRYPOINT ["/entrypoint.sh"]' --change 'CMD ["run"]' "$T/node$n.tar" "pvds-node:$n" >/dev/null 2>"$T/import.err" ||
        pv_skip_all "docker import of the node image: $(cat "$T/import.err")"
done
pv_busybox_rootfs "$T/rootfs" && cp "$READER" "$T/rootfs/bin/pv-restart-reader" && cp "$FIELDS" "$T/rootfs/bin/sysinfo_fields" ||
    pv_skip_all "busybox (static) is needed for the app image"
tar -C "$T/rootfs" -cf - . | $D import - pvds-app:1 >/dev/null 2>&1 || pv_skip_all "docker import of the app image failed"

# `--privileged`, or where this sandbox's bounding set lacks a capability
# (runc then fails to apply them all): every capability it has, no seccomp
# profile, no masked /proc paths, /dev/fuse. The same for what procview does.
# (podman's --privileged grants the bounding set and works here, but podman
# run statfs()s every volume's source, even with exec,suid,dev given, and
# the source is the FUSE mount, whose requests wait while no procviewfs
# serves: the next node container's `podman run` waits for itself, for good.
# Kubernetes engines that statfs a hostPath volume would do the same: see
# deploy/kubernetes/README.md.)
bnd=$(awk '/^CapBnd:/ { print $2 }' /proc/self/status)
lacking=$(awk -v bnd="$bnd" 'BEGIN {
    names = "CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP LINUX_IMMUTABLE NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL SETFCAP MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ PERFMON BPF CHECKPOINT_RESTORE"
    n = split(names, name, " ")
    for (i = 0; i < n; i++) {
        v = index("0123456789abcdef", substr(bnd, length(bnd) - int(i / 4), 1)) - 1
        if (int(v / (2 ^ (i % 4))) % 2 == 0) print name[i + 1]
    }
}')
if [ -z "$lacking" ]; then
    PRIV="--privileged"
else
    PRIV="--cap-add ALL --security-opt seccomp=unconfined --security-opt apparmor=unconfined --security-opt systempaths=unconfined --device /dev/fuse"
    for c in $lacking; do PRIV="$PRIV --cap-drop $c"; done
    echo "INFO this sandbox's bounding set ($bnd) lacks $(echo $lacking): the node container runs with $PRIV instead of --privileged"
fi

co_serves() { [ -n "$(head -c 16 "$MPC/containers/self/proc/uptime" 2>/dev/null)" ]; }
# run_node TAG: the DaemonSet's two containers (the main mount, and the
# per-container files' instance); waits until both serve on the host.
run_node() {
    # shellcheck disable=SC2086  # $PRIV is a list of options
    $D run -d --name "$NODE" $PRIV --pid=host --network=none \
        -v "$MP:$MP:rshared" -v /run/procview:/run/procview -v "$HOST:/host" \
        -v /sys/fs/cgroup:/host/sys/fs/cgroup:ro -v "$T/agent:$T/agent" \
        -e PROCVIEW_MOUNTPOINT="$MP" -e PROCVIEW_HOOKS_DIR= -e PROCVIEW_ENGINES=containerd \
        -e PROCVIEW_KEEPER_CGROUP="$KCG" -e PROCVIEW_HOST_PID=$$ "$1" >"$T/node.id" 2>"$T/node.err" || return 1
    # shellcheck disable=SC2086
    $D run -d --name "$NODE-co" $PRIV --pid=host --network=none \
        -v "$MPC:$MPC:rshared" -v /run/procview:/run/procview -v "$HOST/etc:/host/etc:ro" \
        -v /sys/fs/cgroup:/host/sys/fs/cgroup:ro -e PROCVIEW_MOUNTPOINT="$MP" \
        -e PROCVIEW_KEEPER_CGROUP="$KCG" -e PROCVIEW_HOST_PID=$$ "$1" containers >"$T/node-co.id" 2>>"$T/node.err" || return 1
    pv_wait_until 20 pv_serves "$MP" && pv_wait_until 20 co_serves
}
t0=$(now)
run_node pvds-node:1 || pv_skip_all "the node container did not serve: $(cat "$T/node.err"; $D logs "$NODE" 2>&1 | tail -n 5)"
echo "     node container serving in $(ms "$t0" "$(now)") ms"
check "procviewfs mounted on the volume itself (a bind mount of an empty directory)" "$($D logs "$NODE" 2>&1 | tail -n 3)" \
    sh -c "$D logs '$NODE' 2>&1 | grep -q 'mounting over a bind mount of an empty directory'"
check "installed on the host: current -> release 1, containerd registered" "$(ls -l "$HOST/opt/procview" 2>&1)" \
    sh -c "[ \"\$(readlink '$HOST/opt/procview/current')\" = 'releases/$rel1' ] && grep -q BinaryName '$HOST/etc/containerd/conf.d/procview.toml'"
pv_wait_until 5 sh -c '[ -n "$(grep -l ":/'"$KCG"'\$" /proc/[0-9]*/cgroup 2>/dev/null)" ]'
pv_wait_until 5 sh -c '[ -n "$(keeper_pid "$MPC")" ]'
KEEPER=$(keeper_pid) KEEPER_CO=$(keeper_pid "$MPC")
for k in "$KEEPER" "$KEEPER_CO"; do
    check "the keeper $k left the pod's cgroup for $KCG in every hierarchy" "keeper '$k': $(cat "/proc/$k/cgroup" 2>&1)" \
        sh -c "[ -n '$k' ] && ! grep -v ':/$KCG\$' /proc/$k/cgroup | grep -q ."
done

# ---- the app containers, reading in a loop ------------------------------------------
apps="a b"
for a in $apps; do
    mkdir -p "$T/app-$a"
    $D run -d --name "pvds-app-$a-$$" --runtime procview -m 256m --cpus 1 -v "$T/app-$a:/log" pvds-app:1 \
        /bin/pv-restart-reader loop /log/reads.log 20000 >/dev/null 2>"$T/app.err" ||
        fail "app container $a starts" "$(cat "$T/app.err")"
done
correct_now() {
    tail -n 2 "$1" 2>/dev/null | awk 'NF == 4 { ok = ($3 == 262144 && $4 == 1) } END { exit !ok }'
}
for a in $apps; do
    check "app $a reads its own view (262144 kB, 1 CPU)" "$(tail -n 1 "$T/app-$a/reads.log" 2>&1)" \
        pv_wait_until 10 correct_now "$T/app-$a/reads.log"
done
# Each app's bind mounts come from the per-container instance: the device of
# its /proc/meminfo is that FUSE connection's, not the main mount's.
fuse_dev() { awk -v m="$1" '{ for (i = 7; i <= NF; i++) if ($i == "-") break } $5 == m && $(i + 1) == "fuse.procviewfs" { print $3 }' /proc/self/mountinfo | tail -n 1; }
co_dev=$(fuse_dev "$MPC")
for a in $apps; do
    dev=$($D exec "pvds-app-$a-$$" cat /proc/self/mountinfo 2>&1 | awk '$5 == "/proc/meminfo" { print $3 }')
    check "app $a binds its own files from $MPC (procviewfs --containers-only)" "meminfo on $dev; $MPC is $co_dev, $MP $(fuse_dev "$MP")" \
        sh -c "[ -n '$co_dev' ] && [ '$dev' = '$co_dev' ]"
done
# sysinfo_total WHEN: sysinfo(2)'s totalram in app a is its 256 MiB.
sysinfo_total() {
    $D exec "pvds-app-a-$$" sysinfo_fields >"$T/sysinfo-$1.out" 2>&1
    check "sysinfo in app a $1: totalram 268435456" "$(tr '\n' ' ' <"$T/sysinfo-$1.out")" \
        sh -c "[ \"\$(awk '\$1 == \"totalram\" { print \$2 }' '$T/sysinfo-$1.out')\" = 268435456 ]"
}
sysinfo_total "before the rounds"
sleep 1

# ---- the rounds: ROUND KIND TIME_NS events ------------------------------------------
events=$T/events
: >"$events"
round() { # N KIND HOW TAG
    echo "$1 down $(now)" >>"$events"
    case "$3" in
    rm) $D rm -f "$NODE" "$NODE-co" >/dev/null 2>&1 ;;
    kill) $D kill -s KILL "$NODE" "$NODE-co" >/dev/null 2>&1; $D wait "$NODE" "$NODE-co" >/dev/null 2>&1
          $D rm "$NODE" "$NODE-co" >/dev/null 2>&1 ;;
    stop) $D stop -t 30 "$NODE" "$NODE-co" >/dev/null 2>&1; $D rm "$NODE" "$NODE-co" >/dev/null 2>&1 ;;
    esac
    echo "$1 gone $(now)" >>"$events"
    check "round $1 ($2): both keepers outlived the node containers" "keepers $KEEPER $KEEPER_CO" kill -0 "$KEEPER" "$KEEPER_CO"
    run_node "$4"
    echo "$1 serving $(now)" >>"$events"
    check "round $1 ($2): the new node containers serve" "$(cat "$T/node.err"; $D logs "$NODE" 2>&1 | tail -n 3)" \
        sh -c "[ -n \"\$(head -c 16 '$MP/proc/uptime')\" ] && [ -n \"\$(head -c 16 '$MPC/containers/self/proc/uptime')\" ]"
    check "round $1 ($2): both attached to their keepers" \
        "keepers now '$(keeper_pid)' '$(keeper_pid "$MPC")', were $KEEPER $KEEPER_CO; $($D logs "$NODE-co" 2>&1 | tail -n 2)" \
        sh -c "[ '$(keeper_pid)' = '$KEEPER' ] && [ '$(keeper_pid "$MPC")' = '$KEEPER_CO' ] &&
               $D logs '$NODE' 2>&1 | grep -q 'attached to the live mount' && $D logs '$NODE-co' 2>&1 | grep -q 'attached to the live mount'"
    for a in $apps; do pv_wait_until 5 correct_now "$T/app-$a/reads.log"; done
    sleep 1
}
round 1 rollout rm pvds-node:2
check "rollout: current -> release 2, release 1 kept" "$(ls "$HOST/opt/procview/releases" 2>&1)" \
    sh -c "[ \"\$(readlink '$HOST/opt/procview/current')\" = 'releases/$rel2' ] && [ -d '$HOST/opt/procview/releases/$rel1' ]"
round 2 crash kill pvds-node:2
round 3 stop stop pvds-node:1
echo "end end $(now)" >>"$events"
sysinfo_total "after the three node containers"

# Per app and round: reads, failed reads, the longest gap between two correct
# reads' ends, and the time from the new node container serving to the
# app's first correct read ending after it.
for a in $apps; do
    awk -v app="$a" '
        BEGIN { k = 0 }
        NR == FNR { t[$1 " " $2] = $3; if ($1 + 0 > n) n = $1 + 0; next }
        NF != 4 { next }
        {
            while (k < n && $2 >= t[(k + 1) " down"]) k++
            if (k == n && $2 > t["end end"]) next
            reads[k]++
            ok = ($3 == 262144 && $4 == 1)
            if (!ok) { failed[k]++; if (!(k in why)) why[k] = $3 "/" $4 }
            if (ok && have && $2 - prev > gap[k]) gap[k] = $2 - prev
            if (ok) { prev = $2; have = 1 }
            if (ok && k > 0 && !(k in back) && $2 >= t[k " serving"]) back[k] = $2 - t[k " serving"]
        }
        END {
            for (r = 0; r <= n; r++)
                printf "ROW %s %d %d %d %.0f %s %.0f %s\n", app, r, reads[r], failed[r], gap[r] / 1e6,
                    (r == 0 ? "-" : (r in back) ? sprintf("%.0f", back[r] / 1e6) : "never"),
                    (r == 0 ? 0 : (t[r " serving"] - t[r " down"]) / 1e6), ((r in why) ? why[r] : "-")
        }' "$events" "$T/app-$a/reads.log"
done >"$T/rows"
echo "INFO app round reads failed gap_max_ms back_after_serving_ms node_down_to_serving_ms first_bad"
sed 's/^ROW /INFO /' "$T/rows"
while read -r _ a r reads failed gap back down why; do
    check "app $a round $r: $reads reads, none failed" "$failed failed, first bad $why" [ "$failed" = 0 ]
    [ "$r" = 0 ] && continue
    check "app $a round $r: correct again within 1 s of the new node serving" "back after $back ms" \
        sh -c "[ '$back' != never ] && [ '$back' -lt 1000 ]"
done <"$T/rows"
for a in $apps; do
    check "app $a is still running" "$($D ps -a --filter "name=pvds-app-$a-$$" --format '{{.Status}}')" \
        sh -c "$D ps --filter 'name=pvds-app-$a-$$' --format '{{.Status}}' | grep -q '^Up'"
done

# ---- the explicit uninstall ---------------------------------------------------------
hash=$(grep -l -F "$MP:" /run/procview/keeper/*.log 2>/dev/null | head -n 1 | sed 's|.*/||; s|\.log$||')
check "the keeper logs to /run/procview/keeper/<hash>.log" "no log naming $MP" [ -n "$hash" ]
$D rm -f "pvds-app-a-$$" "pvds-app-b-$$" "$NODE" "$NODE-co" >/dev/null 2>&1
check "both keepers outlived the DaemonSet's deletion" "keepers $KEEPER $KEEPER_CO" kill -0 "$KEEPER" "$KEEPER_CO"
# shellcheck disable=SC2086
# Without the mountpoint's volume, as uninstall-job.yaml: a hostPath of it
# would be a bind of the FUSE mount itself (the topmost mount at that path),
# which the keeper's unmount in the host's namespace cannot reach.
$D run --rm $PRIV --pid=host --network=none -v /run/procview:/run/procview \
    -v "$HOST:/host" -e PROCVIEW_MOUNTPOINT="$MP" -e PROCVIEW_HOOKS_DIR= -e PROCVIEW_ENGINES=containerd \
    pvds-node:1 uninstall >"$T/uninstall.out" 2>&1
rc=$?
sed 's/^/     uninstall: /' "$T/uninstall.out"
check "uninstall: exit 0" "exit $rc: $(cat "$T/uninstall.out")" [ "$rc" = 0 ]
pv_wait_until 5 sh -c "! kill -0 $KEEPER 2>/dev/null && ! kill -0 $KEEPER_CO 2>/dev/null"
check "uninstall: both keepers exited" "pids $KEEPER $KEEPER_CO: $(cat /proc/$KEEPER/status /proc/$KEEPER_CO/status 2>/dev/null | grep Name)" \
    sh -c "! kill -0 $KEEPER 2>/dev/null && ! kill -0 $KEEPER_CO 2>/dev/null"
check "uninstall: nothing mounted at $MPC but the volume" "$(awk -v m="$MPC" '$5 == m' /proc/self/mountinfo)" \
    sh -c "[ -z '$(fuse_dev "$MPC")' ]"
check "uninstall: nothing mounted at $MP but the volume" "$(awk -v m="$MP" '$5 == m' /proc/self/mountinfo)" \
    sh -c "! awk -v m='$MP' '\$5 == m' /proc/self/mountinfo | grep -q fuse"
check "uninstall: no keeper cgroup" "$(ls -d /sys/fs/cgroup/$KCG /sys/fs/cgroup/*/$KCG 2>/dev/null)" \
    sh -c "! ls -d /sys/fs/cgroup/$KCG /sys/fs/cgroup/*/$KCG >/dev/null 2>&1"
# A procviewfs process (a daemon or keeper) naming the mountpoint; the pattern
# is split so that no process matches it for holding it in its arguments.
procviewfs_procs() {
    for f in /proc/[0-9]*/cmdline; do
        awk -v a=procview -v b=fs -v m="$MP" -v mc="$MPC" 'BEGIN { RS = "\0" } index($0, a b) { p = 1 } $0 == m || $0 == mc { q = 1 } END { exit !(p && q) }' "$f" 2>/dev/null &&
            echo "${f%/cmdline}"
    done
}
check "uninstall: no process left in the keeper cgroup or running procviewfs on the mountpoint" \
    "$(procviewfs_procs; grep -l ":/$KCG\$" /proc/[0-9]*/cgroup 2>/dev/null)" \
    sh -c "[ -z \"\$(grep -l ':/$KCG\$' /proc/[0-9]*/cgroup 2>/dev/null)\" ] && [ -z '$(procviewfs_procs)' ]"
check "uninstall: nothing under /run/procview for this mountpoint" "$(find /run/procview -name "*$hash*" 2>&1)" \
    sh -c "[ -n '$hash' ] && [ -z \"\$(find /run/procview -name '*$hash*')\" ]"
# procview-ctl keeps a backup of each file it changed (FILE.procview-backup-<time>): deliberate.
check "uninstall: /opt/procview and every containerd entry naming procview removed from the host" \
    "$(find "$HOST/opt" "$HOST/etc/containerd" 2>&1; grep -rn procview "$HOST/etc/containerd/config.toml" 2>&1)" \
    sh -c "[ ! -e '$HOST/opt/procview' ] && [ -z \"\$(find '$HOST/etc/containerd' -type f ! -name '*.procview-backup-*' -name '*procview*')\" ] &&
           ! grep -q procview '$HOST/etc/containerd/config.toml' 2>/dev/null"
check "uninstall: an edited procview.json is kept" "$(ls "$HOST/etc/procview" 2>&1)" \
    cmp -s "$HOST/etc/procview/procview.json" "$T/procview.json.orig"
pv_finish
