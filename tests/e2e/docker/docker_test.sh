# procview under a real Docker: a private dockerd (Debian 12's docker.io,
# 20.10) started by this script with its own data-root, exec-root, socket,
# pidfile and cgroup parent, --bridge=none and no iptables, configured by
# `procview-ctl configure docker` over a daemon.json with keys of its own.
# An image from `docker import` of a busybox rootfs (nothing is pulled).
#   docker run --runtime procview --cpus 1 -m 256m   sees 1 CPU and 262144 kB
#   (/proc, /sys, and sysinfo(2) through busybox free and uptime), Docker's
#   default seccomp profile still in force; a plain docker run sees the host.
# procview-runtime finds the test's procview.json through PROCVIEW_CONFIG in
# dockerd's environment: dockerd passes its environment to its containerd,
# containerd to the shim, the shim to the runtime.
#   sh docker_test.sh PROCVIEW_CTL PROCVIEW_RUNTIME PROCVIEW_HOOK PROCVIEWFS
. "$(dirname "$0")/../lib.sh"
CTL=$1 RUNTIME=$2 HOOK=$3 VIEWS=$4
pv_begin docker-run
pv_need_root
{ pv_have dockerd && pv_have docker; } || pv_skip_all "dockerd and docker are not installed"
pv_have python3 || pv_skip_all "python3 is needed to read daemon.json"
for b in "$CTL" "$RUNTIME" "$HOOK" "$VIEWS"; do [ -x "$b" ] || pv_skip_all "$b not built"; done
[ -e /dev/fuse ] || pv_skip_all "no /dev/fuse"
pv_tmpdir pvdocker || pv_skip_all "cannot create a temporary directory"
T=$PV_TMP
# now: seconds with milliseconds, for the timings reported.
now() { date +%s.%N | cut -c1-14; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f s", b - a }'; }

# Whatever is left under $T at exit: processes (a shim whose container
# outlived dockerd; only those naming $T in their command line, by pid) and
# mounts (deepest first), then the containerd socket directories the shims
# made under /run/containerd when it did not exist before.
docker_leftovers() {
    for p in $(grep -l -F "$T/" /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3); do
        # Checked again: the grep above matched its own, now gone, pid too.
        [ "$p" != $$ ] && grep -q -F "$T/" "/proc/$p/cmdline" 2>/dev/null && kill -KILL "$p" 2>/dev/null
    done
    sleep 0.2
    awk -v t="$T/" 'index($5, t) == 1 { print $5 }' /proc/self/mountinfo | sort -r | while read -r m; do
        umount -l "$m"
    done
}
[ -d /run/containerd ] || pv_at_exit "rmdir /run/containerd/s /run/containerd"
pv_at_exit docker_leftovers
CG=pvdocker-$$
pv_at_exit "for c in /sys/fs/cgroup/$CG /sys/fs/cgroup/*/$CG; do [ -d \"\$c\" ] && find \"\$c\" -depth -type d -exec rmdir {} \\; ; done"

# ---- procviewfs with its sysinfo agent, the runtime's config ------------------------
LSOCK=$T/agent/seccomp.sock
pv_start_views "$VIEWS" "$T/views" --sysinfo-listener "$LSOCK" ||
    pv_skip_all "procviewfs did not start: $(cat "$T/views.log" 2>/dev/null)"
cat >"$T/procview.json" <<EOF
{"mountpoint": $(pv_json_str "$T/views"), "sysinfo_listener_path": $(pv_json_str "$LSOCK"),
 "hook": {"log_file": $(pv_json_str "$T/hook.log")}, "runtime": {"hook_path": $(pv_json_str "$HOOK")}}
EOF

# ---- procview-ctl configure docker over a daemon.json with settings of its own -----
DJ=$T/root/etc/docker/daemon.json
mkdir -p "$T/root/etc/docker"
cat >"$DJ" <<'EOF'
{
  "log-level": "warn",
  "storage-driver": "vfs",
  "max-concurrent-downloads": 2,
  "default-ulimits": {"nofile": {"Name": "nofile", "Hard": 20000, "Soft": 20000}}
}
EOF
cp "$DJ" "$T/original.json"
"$CTL" --root "$T/root" configure docker --runtime-path "$RUNTIME" >"$T/ctl.out" 2>&1
rc=$?
check "procview-ctl configure docker: exit 0" "exit $rc: $(cat "$T/ctl.out")" [ $rc -eq 0 ]
json_check() {
    python3 -c "import json, sys
d = json.load(open(sys.argv[1])); o = json.load(open(sys.argv[2]))
sys.exit(0 if ($1) else 1)" "$DJ" "$T/original.json"
}
check "daemon.json: runtimes.procview is the runtime, opted in" "$(cat "$DJ")" \
    json_check "d['runtimes']['procview'] == {'path': '$RUNTIME', 'runtimeArgs': ['--procview-enable']}"
check "daemon.json: every other key survived" "$(cat "$DJ")" \
    json_check 'all(d[k] == o[k] for k in o) and set(d) == set(o) | {"runtimes"}'

# ---- a private dockerd on that daemon.json ----------------------------------------
t0=$(now)
PROCVIEW_CONFIG=$T/procview.json dockerd --config-file "$DJ" --data-root "$T/data" --exec-root "$T/exec" \
    -H "unix://$T/docker.sock" --pidfile "$T/docker.pid" --cgroup-parent "/$CG" \
    --bridge=none --iptables=false --ip-masq=false --ip6tables=false >"$T/dockerd.log" 2>&1 &
DOCKERD_PID=$!
# dockerd stops its containerd on TERM; pv_stop_pid waits 3 s, then KILL.
pv_at_exit "pv_stop_pid $DOCKERD_PID"
D="docker -H unix://$T/docker.sock"
up() { $D version >/dev/null 2>&1; }
pv_wait_until 60 up || pv_skip_all "dockerd did not come up: $(tail -5 "$T/dockerd.log")"
echo "     dockerd up in $(elapsed "$t0")"
$D info >"$T/info" 2>&1
check "dockerd: its containerd is its own, under the exec-root" "$(grep -F "$T" /proc/[0-9]*/cmdline 2>/dev/null | tr '\0' ' ')" \
    sh -c "[ -S '$T/exec/containerd/containerd.sock' ] && [ ! -e /run/containerd/containerd.sock ]"
check "dockerd: vfs from daemon.json, runtime procview known" "$(grep -E 'Storage Driver|Runtimes' "$T/info")" \
    sh -c "grep -q 'Storage Driver: vfs' '$T/info' && grep -q 'Runtimes:.* procview' '$T/info'"

# ---- an image from a busybox rootfs, nothing pulled -------------------------------------
pv_busybox_rootfs "$T/rootfs" || pv_skip_all "busybox (static) is needed for the image"
t0=$(now)
tar -C "$T/rootfs" -cf - . | $D import - pvtest:busybox >"$T/import.out" 2>&1
check "docker import: pvtest:busybox" "$(cat "$T/import.out")" sh -c "$D image inspect pvtest:busybox >/dev/null"
echo "     docker import in $(elapsed "$t0")"

# ---- docker run --runtime procview --cpus 1 -m 256m -----------------------------------
probe='cat /proc/meminfo; echo ---; cat /sys/devices/system/cpu/online; echo ---; grep -c ^processor /proc/cpuinfo
echo ---; free; echo ---; uptime; echo ---; cat /proc/loadavg; echo ---; busybox unshare -U true 2>&1; echo "unshare exit $?"'
t0=$(now)
$D run --rm --runtime procview --cpus 1 -m 256m pvtest:busybox sh -c "$probe" >"$T/pv.out" 2>"$T/pv.err" </dev/null
rc=$?
echo "     docker run --runtime procview in $(elapsed "$t0")"
check "docker run --runtime procview: exit 0" "exit $rc: $(cat "$T/pv.err") $(tail -5 "$T/dockerd.log")" [ $rc -eq 0 ]
awk 'BEGIN { s = 0 } /^---$/ { s++; next } { print > (FILENAME "." s) }' "$T/pv.out"
o=$T/pv.out
mem=$(pv_meminfo_kb MemTotal <"$o.0")
check "procview: MemTotal 262144 kB" "MemTotal '$mem'" [ "$mem" = 262144 ]
check "procview: /sys/devices/system/cpu/online is 0" "online '$(cat "$o.1")'" [ "$(cat "$o.1")" = 0 ]
check "procview: 1 processor in /proc/cpuinfo" "processors '$(cat "$o.2")'" [ "$(cat "$o.2")" = 1 ]
free_total=$(awk '/^Mem:/ { print $2 }' "$o.3")
check "sysinfo: busybox free's total is MemTotal (KiB)" "free: $(cat "$o.3"); MemTotal $mem" \
    sh -c "[ -n '$free_total' ] && [ '$free_total' = '$mem' ]"
load_uptime=$(sed -n 's/.*load average: *//p' "$o.4" | tr -d ',')
load_proc=$(awk '{ print $1, $2, $3 }' "$o.5")
check "sysinfo: busybox uptime's load average is /proc/loadavg's" "uptime '$(cat "$o.4")', loadavg '$(cat "$o.5")'" \
    sh -c "[ -n '$load_proc' ] && [ '$load_uptime' = '$load_proc' ]"
check "Docker's seccomp profile kept: unshare(CLONE_NEWUSER) is EPERM" "$(cat "$o.6")" \
    sh -c "grep -q 'Operation not permitted' '$o.6' && grep -qx 'unshare exit 1' '$o.6'"

# The same container without Docker's profile: unshare works, so the EPERM
# above is the profile's, which the runtime kept when it added its rule.
$D run --rm --runtime procview --security-opt seccomp=unconfined -m 256m pvtest:busybox \
    sh -c 'busybox unshare -U true; echo "unshare exit $?"; grep MemTotal /proc/meminfo' >"$T/unconf.out" 2>&1 </dev/null
check "seccomp=unconfined control: unshare -U succeeds, still 256 MiB" "$(cat "$T/unconf.out")" \
    sh -c "grep -qx 'unshare exit 0' '$T/unconf.out' && grep -q '^MemTotal: *262144 kB' '$T/unconf.out'"

# ---- the spec Docker handed the runtime, seen in a running container ------------------
$D run -d --name pvspec --runtime procview --cpus 1 -m 256m pvtest:busybox sleep 120 >"$T/spec.id" 2>&1 </dev/null
id=$(cat "$T/spec.id")
SPEC=$T/exec/containerd/daemon/io.containerd.runtime.v2.task/moby/$id/config.json
spec_check() {
    python3 -c "import json, sys
s = json.load(open(sys.argv[1]))['linux']['seccomp']
names = {n for r in s['syscalls'] for n in r.get('names', [])}
notify = [r for r in s['syscalls'] if r.get('action') == 'SCMP_ACT_NOTIFY']
print('defaultAction', s['defaultAction'], 'rules', len(s['syscalls']), 'notify', notify,
      'listenerPath', s.get('listenerPath'), 'read ruled', 'read' in names)
sys.exit(0 if s['defaultAction'] == 'SCMP_ACT_ERRNO' and len(s['syscalls']) > 10 and 'read' in names
         and [r['names'] for r in notify] == [['sysinfo']] and s.get('listenerPath') == sys.argv[2] else 1)" "$SPEC" "$LSOCK" >"$T/spec.check" 2>&1
}
spec_check
check "spec: Docker's profile (default action, its rules) plus the sysinfo notify rule" "$(cat "$T/spec.check" "$T/spec.id")" spec_check
$D exec pvspec sh -c 'free; grep MemTotal /proc/meminfo' >"$T/exec.out" 2>&1
check "docker exec: free and /proc/meminfo show 262144" "$(cat "$T/exec.out")" \
    sh -c "[ \"\$(awk '/^Mem:/ { print \$2 }' '$T/exec.out')\" = 262144 ] && grep -q '^MemTotal: *262144 kB' '$T/exec.out'"
$D rm -f pvspec >/dev/null 2>&1

# ---- a plain docker run (runc) sees the host --------------------------------------------
t0=$(now)
$D run --rm --cpus 1 -m 256m pvtest:busybox sh -c 'cat /proc/meminfo; echo ---; grep -c ^processor /proc/cpuinfo' \
    >"$T/plain.out" 2>&1 </dev/null
echo "     docker run (runc) in $(elapsed "$t0")"
host_mem=$(pv_meminfo_kb MemTotal </proc/meminfo)
host_cpus=$(grep -c ^processor /proc/cpuinfo)
check "plain docker run: the host's MemTotal and processors" "$(head -1 "$T/plain.out"); $(tail -1 "$T/plain.out"); host $host_mem kB, $host_cpus" \
    sh -c "[ '$(pv_meminfo_kb MemTotal <"$T/plain.out")' = '$host_mem' ] && [ '$(tail -1 "$T/plain.out")' = '$host_cpus' ]"

pv_finish
