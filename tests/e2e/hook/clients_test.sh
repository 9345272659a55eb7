# e2e 2: real clients in a hooked runc container, not only `cat`: the host's
# /usr and /etc are bound read-only into the rootfs, and free, top, uptime,
# python3, node and vmstat report the container's 256 MiB and 1 CPU (quota 1.0 on a
# cpuset of 0-1). A container without the annotation is the control: the
# same programs report the host's numbers. Programs the host lacks are skipped.
#   sh clients_test.sh PROCVIEWFS PROCVIEW_HOOK
. "$(dirname "$0")/hook_lib.sh"
pvh_init clients "$@"
pv_have runc || pv_skip_all "runc not installed"
pvh_start_views || pv_skip_all "the views server did not start at $PVH_MNT: $(cat "$PVH_MNT.log" 2>/dev/null)"

# A rootfs made of the host's /usr and /etc (read-only binds) and the
# host's top-level links into /usr (merged /usr) or binds of the real dirs.
root=$PVH_TMP/host-rootfs
mkdir -p "$root/proc" "$root/sys" "$root/dev" "$root/tmp" "$root/root" "$root/usr" "$root/etc"
binds='{"destination": "/usr", "type": "bind", "source": "/usr", "options": ["rbind", "ro", "nosuid", "nodev"]},
 {"destination": "/etc", "type": "bind", "source": "/etc", "options": ["rbind", "ro", "nosuid", "nodev"]},
 {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "size=65536k"]}'
for d in bin sbin lib lib32 lib64 libx32; do
    if [ -L "/$d" ]; then
        ln -s "$(readlink "/$d")" "$root/$d"
    elif [ -d "/$d" ]; then
        mkdir -p "$root/$d"
        binds="$binds, {\"destination\": \"/$d\", \"type\": \"bind\", \"source\": \"/$d\", \"options\": [\"rbind\", \"ro\", \"nosuid\", \"nodev\"]}"
    fi
done
PVH_ROOT_PATH=$root
PV_EXTRA_MOUNTS=$binds

# What each client says, one "== name" section each; "absent" when the
# program is not installed.
# The real programs by path: a busybox sh would otherwise run its own applets,
# whose free and uptime read sysinfo(2) rather than /proc.
probe='run() { n=$1; shift; p=$1; shift; for d in /usr/bin /bin; do [ -x "$d/$p" ] && { p="$d/$p"; break; }; done; echo "== $n"; if command -v "$p" >/dev/null 2>&1; then "$p" "$@" 2>&1; else echo absent; fi; }
run free free -k
run top top -bn1
run uptime uptime
run python3 python3 -c "import os; print(os.cpu_count())"
run node node -e "const os = require(\"os\"); console.log(os.cpus().length, os.totalmem())"
run vmstat vmstat 1 2
run vmstatfile grep -E "^(nr_free_pages|numa_hit) " /proc/vmstat
echo "== end"'

limits=$(pv_resources_json 268435456 100000 100000 0-1)
on=pvhook-clients-on-$$
pvh_bundle "$on" createRuntime '"procview.io/enabled": "true"' "$limits" sh -c "$probe"
pvh_runc "$on"
[ "$PVH_RC" = 0 ] || fail "clients container" "runc exited $PVH_RC: $(cat "$PVH_TMP/$on.err")"
off=pvhook-clients-off-$$
pvh_bundle "$off" createRuntime "" "$limits" sh -c "$probe"
pvh_runc "$off"
[ "$PVH_RC" = 0 ] || fail "control container" "runc exited $PVH_RC: $(cat "$PVH_TMP/$off.err")"

host_kb=$(pvh_host_memtotal)
host_cpus=$(pv_range_count </sys/devices/system/cpu/online)
want_cpus=1
[ "$host_cpus" -gt 1 ] || echo "INFO a 1-CPU host: the CPU checks cannot tell the view from the host"

# client NAME: skips (and returns 1) when the program is absent.
client() {
    _o=$(pvh_section "$on" "$1")
    if [ "$_o" = absent ] || [ -z "$_o" ]; then
        skip "$1" "not installed on this host"
        return 1
    fi
}

if client free; then
    v=$(pvh_section "$on" free | awk '$1 == "Mem:" { print $2 }')
    h=$(pvh_section "$off" free | awk '$1 == "Mem:" { print $2 }')
    check "free: total is 256 MiB" "free says $v kB (control: $h)" [ "$v" = 262144 ]
    check "free: control shows the host" "control says $h kB, host $host_kb kB" [ "$h" = "$host_kb" ]
fi
if client top; then
    v=$(pvh_section "$on" top | awk '/Mem :/ { print $4; exit }')
    h=$(pvh_section "$off" top | awk '/Mem :/ { print $4; exit }')
    check "top -bn1: 256.0 MiB total" "top says '$v' (control '$h'): $(pvh_section "$on" top | grep 'Mem :')" [ "$v" = 256.0 ]
    check "top -bn1: control differs" "control says '$h'" [ "$h" != 256.0 ]
fi
if client uptime; then
    v=$(pvh_section "$on" uptime)
    host_up=$(awk '{ printf "%d", $1 }' /proc/uptime)
    if [ "$host_up" -lt 120 ]; then
        skip "uptime" "the host has been up only ${host_up}s"
    else
        h=$(pvh_section "$off" uptime)
        if echo "$v" | grep -Eq 'up +0 min'; then fresh=yes; else fresh=no; fi
        if echo "$h" | grep -Eq 'up +0 min'; then control_fresh=yes; else control_fresh=no; fi
        check "uptime: the container's (up 0 min)" "uptime says '$v'" [ "$fresh" = yes ]
        check "uptime: control shows the host's" "control says '$h'" [ "$control_fresh" = no ]
    fi
fi
if client python3; then
    v=$(pvh_section "$on" python3)
    h=$(pvh_section "$off" python3)
    check "python3 os.cpu_count(): $want_cpus" "python3 says '$v' (control '$h')" [ "$v" = "$want_cpus" ]
    check "python3 control: the host's $host_cpus" "control says '$h'" [ "$h" = "$host_cpus" ]
fi
if client node; then
    v=$(pvh_section "$on" node)
    h=$(pvh_section "$off" node)
    check "node os.cpus().length, os.totalmem(): $want_cpus 268435456" "node says '$v' (control '$h')" \
        [ "$v" = "$want_cpus 268435456" ]
    check "node control: the host's numbers" "control says '$h', host $host_cpus CPUs $((host_kb * 1024)) bytes" \
        [ "$h" = "$host_cpus $((host_kb * 1024))" ]
fi
# within N LO HI: N is a number from LO to HI.
within() { case $1 in ''|*[!0-9]*) return 1 ;; esac; [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }
if client vmstat; then
    # The last sample line: r b swpd free buff cache si so bi bo …
    v=$(pvh_section "$on" vmstat | awk 'NF >= 16 && $1 ~ /^[0-9]+$/ { l = $0 } END { print l }')
    h=$(pvh_section "$off" vmstat | awk 'NF >= 16 && $1 ~ /^[0-9]+$/ { l = $0 } END { print l }')
    free=$(echo "$v" | awk '{ print $4 }'); buff=$(echo "$v" | awk '{ print $5 }'); cache=$(echo "$v" | awk '{ print $6 }')
    hfree=$(echo "$h" | awk '{ print $4 }')
    check "vmstat 1 2: free within the container's 256 MiB" "vmstat says '$v' (control '$h')" within "$free" 1 262144
    check "vmstat 1 2: buff 0" "vmstat says '$v'" [ "$buff" = 0 ]
    check "vmstat 1 2: cache within 256 MiB" "vmstat says '$v'" within "$cache" 0 262144
    # The control shows the host's free memory whenever the host has more than the limit free.
    if within "$(awk '$1 == "MemFree:" { print $2 }' /proc/meminfo)" 300000 999999999999; then
        check "vmstat control: the host's free memory" "control says '$h'" within "$hfree" 262145 999999999999
    fi
    # The file itself, through the hook's mount: page counts and no host-wide counters.
    pages=$(pvh_section "$on" vmstatfile | awk '$1 == "nr_free_pages" { print $2 }')
    numa=$(pvh_section "$on" vmstatfile | awk '$1 == "numa_hit" { print $2 }')
    hnuma=$(pvh_section "$off" vmstatfile | awk '$1 == "numa_hit" { print $2 }')
    check "/proc/vmstat: nr_free_pages within 256 MiB" "nr_free_pages '$pages'" within "$pages" 1 65536
    if [ -n "$hnuma" ] && [ "$hnuma" != 0 ]; then
        check "/proc/vmstat: numa_hit is 0, not the host's $hnuma" "numa_hit '$numa'" [ "$numa" = 0 ]
    fi
fi
stray=$(pvh_host_stray_mounts)
check "host: no mount left under the test dir" "stray host mounts: $stray" [ -z "$stray" ]
pv_finish
