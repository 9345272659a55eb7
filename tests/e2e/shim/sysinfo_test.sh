# sysinfo(2) in runc containers made by procview-runtime: the seccomp notify
# rule in config.json, procviewfs's agent answering from the container's
# cgroup. Real clients (busybox free and uptime, a static C program, and the
# host's getconf and Python in a container lent the host's /usr) must
# agree with /proc in the same container; a live limit change shows in the
# next call; kill -9 and --takeover of procviewfs lose no call.
#   sh sysinfo_test.sh PROCVIEW_RUNTIME PROCVIEW_HOOK PROCVIEWFS SYSINFO_FIELDS
. "$(dirname "$0")/shim_lib.sh"
pvs_init sysinfo "$1" "$2" "$3"
pv_have runc || pv_skip_all "runc not installed"
T=$PVS_TMP
ROOT=$T/runc-root
W="$PVS_RUNTIME"
enabled='"procview.io/enabled": "true"'
pvs_delete_containers_at_exit "$ROOT"

# sysinfo(2) is answered live; a container's own /proc files may be up to
# cache_window_ms old. The checks below bracket live sysinfo values between
# /proc reads made before and after the call, so those reads are live too.
echo '{"cache_window_ms": 0}' >"$T/procviewfs.json"
pvs_sysinfo_views "$4" --config "$T/procviewfs.json"
G="--procview-config $PVS_CONFIG --root $ROOT"

check "the listener's directory is root's only" "$(ls -ld "$T/agent")" \
    sh -c "[ \"\$(stat -c %a '$T/agent')\" = 700 ] && [ \"\$(stat -c %a '$PVS_SOCK')\" = 600 ]"

# field NAME FILE: a sysinfo_fields value.
field() { awk -v k="$1" '$1 == k { print $2; exit }' "$2"; }
kb() { pv_meminfo_kb "$1" <"$2"; }

# ---- one container: every client against /proc ----------------------------------
b=$T/clients
probe='free; echo ---; uptime; echo ---; cat /proc/loadavg; echo ---; head -n 100 /proc/meminfo; echo ---; sysinfo_fields; echo ---; head -n 100 /proc/meminfo'
pvs_bundle "$b" "$enabled" sh -c "$probe"
# shellcheck disable=SC2086
"$W" $G run --bundle "$b" pvsi-clients-$$ >"$T/clients.out" 2>"$T/clients.err" </dev/null
rc=$?
check "run: exit 0" "exit $rc: $(cat "$T/clients.err")" [ "$rc" = 0 ]
check "config.json: sysinfo notify rule and listener" "spec: $(cat "$b/config.json")" \
    sh -c "grep -q '\"listenerPath\":\"$PVS_SOCK\"' '$b/config.json' && grep -q '{\"names\":\[\"sysinfo\"\],\"action\":\"SCMP_ACT_NOTIFY\"}' '$b/config.json'"
awk 'BEGIN { s = 0 } /^---$/ { s++; next } { print > (FILENAME "." s) }' "$T/clients.out"
o=$T/clients.out
mem=$(kb MemTotal "$o.3")
check "free: total is MemTotal (256 MiB)" "free: $(cat "$o.0"), MemTotal $mem" \
    sh -c "[ \"\$(awk '/^Mem:/ { print \$2 }' '$o.0')\" = 262144 ] && [ '$mem' = 262144 ]"
# busybox free: total used free shared buff/cache available, in KiB.
check "free: every column consistent with /proc/meminfo" "free: $(grep Mem: "$o.0"); meminfo: $(grep -E 'MemFree|Shmem:|Buffers|^Cached|MemAvailable|SReclaimable' "$o.3" | tr '\n' ' ')" \
    awk -v free_kb="$(kb MemFree "$o.3")" -v shmem="$(kb Shmem "$o.3")" -v avail="$(kb MemAvailable "$o.3")" '
        /^Mem:/ { total = $2; used = $3; fr = $4; sh = $5; bc = $6; av = $7
                  d = fr - free_kb; if (d < 0) d = -d
                  ok = (used + fr + bc == total) && d <= 4096 && (sh - shmem <= 4096 && shmem - sh <= 4096) \
                       && (av - avail <= 4096 && avail - av <= 4096) && total <= 262144
                  exit !ok } END { if (!total) exit 1 }' "$o.0"
load_uptime=$(sed -n 's/.*load average: *//p' "$o.1" | tr -d ',')
load_proc=$(awk '{ print $1, $2, $3 }' "$o.2")
check "uptime: load average is /proc/loadavg" "uptime '$load_uptime', loadavg '$load_proc'" \
    sh -c "[ -n '$load_proc' ] && [ '$load_uptime' = '$load_proc' ]"
f=$o.4
check "sysinfo: totalram = MemTotal, mem_unit 1" "$(tr '\n' ' ' <"$f")" \
    sh -c "[ '$(field totalram "$f")' = $((262144 * 1024)) ] && [ '$(field mem_unit "$f")' = 1 ]"
check "sysinfo: freeram between the MemFree read before and after" "freeram $(field freeram "$f"), MemFree $(kb MemFree "$o.3") / $(kb MemFree "$o.5") kB" \
    awk -v v="$(field freeram "$f")" -v a="$(kb MemFree "$o.3")" -v b="$(kb MemFree "$o.5")" \
        'BEGIN { lo = (a < b ? a : b) * 1024 - 1048576; hi = (a > b ? a : b) * 1024 + 1048576; exit !(v >= lo && v <= hi) }'
check "sysinfo: sharedram, bufferram, swap as /proc/meminfo" "$(tr '\n' ' ' <"$f")" \
    sh -c "[ '$(field bufferram "$f")' = $(($(kb Buffers "$o.3") * 1024)) ] && \
           [ '$(field totalswap "$f")' = $(($(kb SwapTotal "$o.3") * 1024)) ] && \
           [ \$(( $(field sharedram "$f") / 1048576 )) = \$(( $(kb Shmem "$o.3") / 1024 )) ]"
check "sysinfo: procs is the container's tasks, loads its load" "$(tr '\n' ' ' <"$f"); loadavg $(cat "$o.2")" \
    awk -v procs="$(field procs "$f")" -v l="$(awk '$1 == "loads" { print $2 }' "$f")" '
        { split($4, t, "/"); exit !(procs >= 1 && procs <= t[2] + 2 && (l / 65536 - $1 < 0.02) && ($1 - l / 65536 < 0.02)) }' "$o.2"
check "glibc sysconf: _PHYS_PAGES x page = MemTotal, _AVPHYS_PAGES x page = freeram" "$(tr '\n' ' ' <"$f")" \
    awk -v phys="$(field phys_pages_bytes "$f")" -v avphys="$(field avphys_pages_bytes "$f")" \
        -v a="$(field freeram "$f")" -v b="$(field freeram_after "$f")" -v total=$((262144 * 1024)) \
        'BEGIN { lo = a < b ? a : b; hi = a < b ? b : a   # freeram read before and after: live
                 exit !(phys == total && b != "" && avphys <= hi && avphys > lo - 4096) }'
check "sysinfo: uptime is the container's (seconds)" "uptime $(field uptime "$f")" [ "$(field uptime "$f")" -lt 30 ]

# ---- glibc clients from the host: getconf and Python's os.sysconf --------------------
# The busybox rootfs has neither: this container's rootfs binds the host's
# /usr read-only (and /bin, /sbin, /lib, /lib64 where they are not links into
# it). glibc's _AVPHYS_PAGES is sysinfo's freeram, i.e. MemFree (not
# MemAvailable): each is checked between MemFree read just before and just
# after, in the same process for Python (free memory moves).
glibc_container() {
    hr=$T/hostroot
    mkdir -p "$hr/usr" "$hr/proc" "$hr/sys" "$hr/dev" "$hr/tmp" "$hr/root"
    hm='{"destination": "/usr", "type": "bind", "source": "/usr", "options": ["rbind", "ro", "nosuid", "nodev"]}'
    for d in bin sbin lib lib64; do
        if [ -L "/$d" ]; then ln -s "$(readlink "/$d")" "$hr/$d"
        elif [ -d "/$d" ]; then
            mkdir -p "$hr/$d"
            hm="$hm, {\"destination\": \"/$d\", \"type\": \"bind\", \"source\": \"/$d\", \"options\": [\"rbind\", \"ro\", \"nosuid\", \"nodev\"]}"
        fi
    done
    cat >"$hr/probe.sh" <<'EOF2'
free_kb() { grep '^MemFree:' /proc/meminfo | tr -s ' ' | cut -d ' ' -f 2; }
echo "memtotal_kb $(grep '^MemTotal:' /proc/meminfo | tr -s ' ' | cut -d ' ' -f 2)"
echo "pagesize $(getconf PAGESIZE)"
echo "phys_pages $(getconf _PHYS_PAGES)"
echo "memfree_before_kb $(free_kb)"
echo "avphys_pages $(getconf _AVPHYS_PAGES)"
echo "memfree_after_kb $(free_kb)"
[ -x /usr/bin/python3 ] && /usr/bin/python3 /probe.py
EOF2
    cat >"$hr/probe.py" <<'EOF2'
import os
def memfree():
    with open('/proc/meminfo') as f:
        return next(int(l.split()[1]) * 1024 for l in f if l.startswith('MemFree:'))
page = os.sysconf('SC_PAGE_SIZE')
before = memfree()
avphys = os.sysconf('SC_AVPHYS_PAGES') * page
after = memfree()
print('py_phys_bytes', os.sysconf('SC_PHYS_PAGES') * page)
print('py_avphys_bytes', avphys)
print('py_memfree_before', before)
print('py_memfree_after', after)
EOF2
    b=$T/glibc
    mkdir -p "$b"
    PV_ROOT_PATH=$hr PV_ANNOTATIONS=$enabled PV_EXTRA_MOUNTS=$hm \
        PV_RESOURCES=$(pv_resources_json 268435456 100000 100000 0-1) \
        PV_CGROUPS_PATH=/$PVS_CG/glibc pv_write_config "$b" /bin/sh /probe.sh
    # shellcheck disable=SC2086
    "$W" $G run --bundle "$b" "pvsi-glibc-$$" >"$T/glibc.out" 2>"$T/glibc.err" </dev/null
}
if [ ! -x /usr/bin/getconf ] || [ ! -x /bin/sh ]; then
    skip "getconf _PHYS_PAGES/_AVPHYS_PAGES in a container" "the host has no /usr/bin/getconf or /bin/sh to lend it"
else
    glibc_container
    g=$T/glibc.out
    echo "     host glibc clients: $(tr '\n' ' ' <"$g") $(cat "$T/glibc.err")"
    check "getconf: _PHYS_PAGES x PAGESIZE = MemTotal (256 MiB)" "$(cat "$g" "$T/glibc.err")" \
        sh -c "[ \$(( $(field phys_pages "$g") * $(field pagesize "$g") )) = $((262144 * 1024)) ] && [ '$(field memtotal_kb "$g")' = 262144 ]"
    check "getconf: _AVPHYS_PAGES x PAGESIZE between MemFree read before and after" "$(cat "$g")" \
        awk -v p="$(field avphys_pages "$g")" -v ps="$(field pagesize "$g")" -v a="$(field memfree_before_kb "$g")" \
            -v b="$(field memfree_after_kb "$g")" \
            'BEGIN { v = p * ps; lo = (a < b ? a : b) * 1024 - 1048576; hi = (a > b ? a : b) * 1024 + 1048576
                     exit !(p > 0 && v >= lo && v <= hi && v <= 268435456) }'
    if [ ! -x /usr/bin/python3 ]; then
        skip "Python os.sysconf in a container" "the host has no /usr/bin/python3 to lend it"
    else
        check "Python: os.sysconf('SC_PHYS_PAGES') x page size = MemTotal" "$(cat "$g" "$T/glibc.err")" \
            [ "$(field py_phys_bytes "$g")" = $((262144 * 1024)) ]
        # Same process, nothing allocated between the three reads: a page of slack for rounding.
        check "Python: os.sysconf('SC_AVPHYS_PAGES') x page size between MemFree read before and after" "$(cat "$g")" \
            awk -v v="$(field py_avphys_bytes "$g")" -v a="$(field py_memfree_before "$g")" \
                -v b="$(field py_memfree_after "$g")" \
                'BEGIN { lo = (a < b ? a : b) - 4096; hi = (a > b ? a : b) + 4096; exit !(v != "" && v >= lo && v <= hi) }'
    fi
fi

# ---- a live limit change shows in the next call -----------------------------------
b=$T/live
pvs_bundle "$b" "$enabled" sleep 300
id=pvsi-live-$$
# shellcheck disable=SC2086
"$W" $G run -d --bundle "$b" "$id" >"$T/live.out" 2>&1 </dev/null
# shellcheck disable=SC2086
"$W" $G exec "$id" sysinfo_fields >"$T/live1.out" 2>&1
cg=/sys/fs/cgroup/$PVS_CG/live
if [ -e "$cg/memory.max" ]; then echo 134217728 >"$cg/memory.max"
else echo 134217728 >"/sys/fs/cgroup/memory/$PVS_CG/live/memory.limit_in_bytes"; fi
# shellcheck disable=SC2086
"$W" $G exec "$id" sysinfo_fields >"$T/live2.out" 2>&1
check "live limit change: 256 MiB, then 128 MiB at the next call" "before: $(field totalram "$T/live1.out"), after: $(cat "$T/live2.out")" \
    sh -c "[ '$(field totalram "$T/live1.out")' = 268435456 ] && [ '$(field totalram "$T/live2.out")' = 134217728 ]"

# ---- podman with procview-runtime as its runtime (its own default seccomp profile) -------
if pv_have podman; then
    pm="podman --root $T/podman-root --runroot $T/podman-run --storage-driver vfs"
    pmparent=pvsi-podman-$$
    pv_at_exit "for c in /sys/fs/cgroup/*/$pmparent /sys/fs/cgroup/$pmparent; do [ -d \"\$c\" ] && find \"\$c\" -depth -type d -exec rmdir {} \\; ; done"
    # shellcheck disable=SC2086
    $pm --runtime "$W" --runtime-flag "procview-config=$PVS_CONFIG" run --rm --cgroup-manager cgroupfs \
        --cgroup-parent "/$pmparent" --network none --ulimit nofile=20000:20000 --ulimit nproc=1000:1000 \
        --memory 256m --annotation procview.io/enabled=true --rootfs "$PVS_ROOTFS" \
        /bin/sh -c 'free; sysinfo_fields' >"$T/podman.out" 2>"$T/podman.err" </dev/null
    check "podman --runtime procview-runtime: free and sysinfo show 256 MiB" "$(cat "$T/podman.out" "$T/podman.err")" \
        sh -c "[ \"\$(awk '/^Mem:/ { print \$2 }' '$T/podman.out')\" = 262144 ] && grep -qx 'totalram 268435456' '$T/podman.out'"
else
    skip "podman --runtime procview-runtime" "podman not installed"
fi

# ---- restarts: a container calling sysinfo in a loop --------------------------------
# runc exec hands its own filter's fd to the listener too: loop in the container's init.
restart_run() {  # NAME: a 6 s loop in a new container, in the background
    _b=$T/$1
    pvs_bundle "$_b" "$enabled" sysinfo_fields loop 6000 268435456
    # shellcheck disable=SC2086
    "$W" $G run --bundle "$_b" "pvsi-$1-$$" >"$T/$1.out" 2>"$T/$1.err" </dev/null &
    RESTART_PID=$!
    sleep 1.5
}
restart_run kill9
kill -KILL "$PV_VIEWS_PID"
sleep 0.3
pv_start_views "$PVS_VIEWS_BIN" "$PVS_MNT" --sysinfo-listener "$PVS_SOCK"
wait "$RESTART_PID"
r=$(cat "$T/kill9.out")
echo "     kill -9 loop: $r"
check "kill -9 and restart: no failed call (no ENOSYS)" "$r $(cat "$T/kill9.err")" \
    sh -c "echo '$r' | grep -q 'failed 0 enosys 0 wrong 0 '"
check "kill -9 and restart: answered again within 1 s" "$r" \
    sh -c "[ \$(echo '$r' | awk '{ print \$10 }') -lt 1000 ]"

restart_run takeover
"$PVS_VIEWS_BIN" -f --takeover --sysinfo-listener "$PVS_SOCK" "$PVS_MNT" >"$PVS_MNT.takeover.log" 2>&1 &
TAKEOVER_PID=$!
pv_at_exit "pv_stop_pid $TAKEOVER_PID"
wait "$RESTART_PID"
r=$(cat "$T/takeover.out")
echo "     --takeover loop: $r"
check "--takeover: no failed call" "$r $(cat "$T/takeover.err")" sh -c "echo '$r' | grep -q 'failed 0 enosys 0 wrong 0 '"

pv_finish
