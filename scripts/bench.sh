#!/usr/bin/env bash
# procview benchmark (issue 5): procviewfs, lxcfs, the FUSE floor and native
# procfs side by side, in one run on one machine; prints one markdown table
# with ratios and writes it to --out.
#
#   sudo scripts/bench.sh                      # full run (~12 min), bench/results/latest.md
#   sudo scripts/bench.sh --quick --out /tmp/smoke.md   # seconds-long smoke of the instrument
#
# Options:
#   --quick              smoke: 1 reader, 300 reads per cell, 20-cgroup scale run
#                        for 5 s, 2 s idle; checks only that every server produced
#                        reads without errors (exit 1 otherwise).
#   --out FILE           the markdown report (default bench/results/latest.md)
#   --build DIR          build directory with bench/ and fusefs/ (default build)
#   --procviewfs BIN     procviewfs binary (default DIR/fusefs/procviewfs)
#   --servers LIST       any of "procviewfs lxcfs floor native" (default all)
#   --threads N          procviewfs --threads N, and the floor's loop to match (default 0)
#   --loop-threads LIST  floor loops compared (default "0 2"; "" skips the comparison)
#   --seconds S          per measured run (default 2)
#   --repeat R           runs per cell, servers interleaved (default 3; quick 1):
#                        the table shows the median run and the min–max range
#   --no-placement       skip the same-CPU vs other-CPU comparison
#   --no-knobs           skip the floor's FUSE knobs (FLUSH answered, no
#                        dentry/attribute caching)
#   --readers LIST       concurrent readers per cell (default "1 2 8")
#   --files LIST         default "meminfo stat cpuinfo loadavg uptime"
#   --scale-cgroups N    scale run size (default 1000; 0 skips it)
#   --scale-seconds S    scale run length (default 60)
#   --idle-seconds S     each idle measurement (default 30; 0 skips it)
#   --ready-runs N       starts timed per server (default 5)
#   --settle S           before each cell (all its runs) wait up to S seconds (default 10; quick 0)
#                        for the rest of the machine to be below 15% busy; the
#                        table's "background CPU %" shows what it still used
#   --nice N             run servers and readers at this nice value (default -20)
#                        so other work on a shared machine disturbs them less;
#                        the same for every server; 0 = as deployed
#   --keep               keep the scratch directory (raw JSON lines, server logs)
#   --only LIST          run only these parts (default all): any of "ready idle
#                        cells placement loop knobs scale sysinfo"; e.g.
#                        --only sysinfo for the sysinfo(2) rows alone
#   --sysinfo-readers N  concurrent callers in the sysinfo part (default 1)
#   --window MS          procviewfs's cache_window_ms (default 1000): the rows
#                        "procviewfs-pc" read a per-container file
#                        (containers/<pid>-<start>/proc/FILE of a process in the
#                        readers' first cgroup), which the kernel caches that long
#
# Everything it creates is named pvbench-<pid>: scratch directory and mountpoints
# under /tmp, cgroups in every v1 hierarchy (or under the v2 root). An EXIT
# trap stops the servers it started (by pid), unmounts and removes them all,
# also on Ctrl-C or failure. Needs root, /dev/fuse, lxcfs for the lxcfs column.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
QUICK=0
OUT=""
BUILD="$ROOT/build"
PROCVIEWFS=""
SERVERS="procviewfs lxcfs floor native"
THREADS=0
LOOP_THREADS="0 2"
CELL_SECONDS=2
REPEAT=3
PLACEMENT=1
KNOBS=1
READERS="1 2 8"
FILES="meminfo stat cpuinfo loadavg uptime"
SCALE_CGROUPS=1000
SCALE_SECONDS=60
IDLE_SECONDS=30
READY_RUNS=5
SETTLE=10
NICE=-20
KEEP=0
ONLY="ready idle cells placement loop knobs scale sysinfo"
SYSINFO_READERS=1
WINDOW_MS=1000
PC_PID=""      # the process whose per-container files the procviewfs-pc rows read
PC_DIR=""
COMMAND="scripts/bench.sh $*"

die() { echo "bench.sh: $*" >&2; exit 1; }
log() { echo "bench: $*" >&2; }

while [ $# -gt 0 ]; do
    case "$1" in
        --quick) QUICK=1 ;;
        --out) OUT=$2; shift ;;
        --build) BUILD=$2; shift ;;
        --procviewfs) PROCVIEWFS=$2; shift ;;
        --servers) SERVERS=${2//,/ }; shift ;;
        --threads) THREADS=$2; shift ;;
        --loop-threads) LOOP_THREADS=${2//,/ }; shift ;;
        --seconds) CELL_SECONDS=$2; shift ;;
        --repeat) REPEAT=$2; shift ;;
        --no-placement) PLACEMENT=0 ;;
        --no-knobs) KNOBS=0 ;;
        --readers) READERS=${2//,/ }; shift ;;
        --files) FILES=${2//,/ }; shift ;;
        --scale-cgroups) SCALE_CGROUPS=$2; shift ;;
        --scale-seconds) SCALE_SECONDS=$2; shift ;;
        --idle-seconds) IDLE_SECONDS=$2; shift ;;
        --ready-runs) READY_RUNS=$2; shift ;;
        --settle) SETTLE=$2; shift ;;
        --nice) NICE=$2; shift ;;
        --keep) KEEP=1 ;;
        --only) ONLY=${2//,/ }; shift ;;
        --sysinfo-readers) SYSINFO_READERS=$2; shift ;;
        --window) WINDOW_MS=$2; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown option $1 (see --help)" ;;
    esac
    shift
done

if [ "$QUICK" = 1 ]; then
    READERS=1
    LOOP_THREADS=${LOOP_THREADS:+"0 2"}
    [ "$SCALE_CGROUPS" = 1000 ] && SCALE_CGROUPS=20
    [ "$SCALE_SECONDS" = 60 ] && SCALE_SECONDS=5
    [ "$IDLE_SECONDS" = 30 ] && IDLE_SECONDS=2
    [ "$READY_RUNS" = 5 ] && READY_RUNS=1
    [ "$SETTLE" = 10 ] && SETTLE=0
    [ "$REPEAT" = 3 ] && REPEAT=1
fi
[ -n "$OUT" ] || OUT="$ROOT/bench/results/latest.md"
[ -n "$PROCVIEWFS" ] || PROCVIEWFS="$BUILD/fusefs/procviewfs"
BENCH="$BUILD/bench"
has_server() { case " $SERVERS " in *" $1 "*) return 0 ;; esac; return 1; }
wants() { case " $ONLY " in *" $1 "*) return 0 ;; esac; return 1; }
PARTS=" ready idle cells placement loop knobs scale sysinfo "
for part in $ONLY; do
    case "$PARTS" in *" $part "*) ;; *) die "--only: unknown part $part" ;; esac
done

[ "$(id -u)" = 0 ] || die "needs root (cgroups, pid namespaces, FUSE mounts)"
[ -c /dev/fuse ] || die "no /dev/fuse"
for tool in procview-bench-reader procview-bench-floor procview-bench-ready procview-bench-report; do
    [ -x "$BENCH/$tool" ] || die "$BENCH/$tool not built (cmake --build $BUILD)"
done
if has_server procviewfs; then [ -x "$PROCVIEWFS" ] || die "no procviewfs at $PROCVIEWFS (--procviewfs BIN, or --servers without procviewfs)"; fi
if has_server lxcfs; then command -v lxcfs >/dev/null || die "lxcfs not installed (apt-get install lxcfs)"; fi

RUN="pvbench-$$"
TMP=$(mktemp -d "/tmp/$RUN.XXXXXX")
RESULTS="$TMP/results.jsonl"
: > "$RESULTS"
: > "$TMP/cgroups"          # every cgroup directory created, in creation order
declare -A SERVER_PID=()    # name -> pid of a server this script started
declare -A SERVER_MNT=()    # name -> mountpoint

# ---- clean-up ----------------------------------------------------------------

stop_server() {
    local name=$1 pid=${SERVER_PID[$1]:-}
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || true
    local i
    for i in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    unset "SERVER_PID[$name]"
    local mnt=${SERVER_MNT[$name]:-}
    if [ -n "$mnt" ]; then
        # SIGTERM hands procviewfs's mount to its keeper: --unmount ends both.
        case "$name" in procviewfs*) "$PROCVIEWFS" --unmount "$mnt" >/dev/null 2>&1 || true ;; esac
        if mountpoint -q "$mnt"; then umount -l "$mnt" 2>/dev/null || true; fi
        rmdir "$mnt" 2>/dev/null || true
        unset "SERVER_MNT[$name]"
    fi
}

remove_cgroups() {
    [ -s "$TMP/cgroups" ] || return 0
    local dir
    # Children before parents; readers may still be exiting, so retry briefly.
    tac "$TMP/cgroups" | while read -r dir; do
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            [ -d "$dir" ] || break
            rmdir "$dir" 2>/dev/null && break
            sleep 0.2
        done
        if [ -d "$dir" ]; then echo "bench.sh: could not remove cgroup $dir" >&2; fi
    done
    : > "$TMP/cgroups"
}

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    set +e  # clean up as much as possible whatever fails
    local name
    for name in "${!SERVER_PID[@]}"; do stop_server "$name"; done
    if [ -n "$PC_PID" ]; then kill "$PC_PID" 2>/dev/null; wait "$PC_PID" 2>/dev/null; fi
    remove_cgroups
    if [ "$KEEP" = 1 ]; then
        log "kept $TMP"
    else
        rm -rf --one-file-system "$TMP"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- cgroups -------------------------------------------------------------------

if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
    CGMODE=v2
    CG_PARENT="/sys/fs/cgroup/$RUN"
else
    CGMODE=v1
fi
NCPU=$(nproc)
CPUSET="0-$(( NCPU > 1 ? 1 : 0 ))"
MEMORY_LIMIT=$((256 * 1024 * 1024))

# The directory of a v1 controller's hierarchy (cpu and cpuacct may be one
# co-mounted hierarchy reached through symlinks: resolve, then de-duplicate).
v1_hierarchies() {
    local c seen=" " dir
    for c in "$@"; do
        dir=$(readlink -f "/sys/fs/cgroup/$c")
        [ -d "$dir" ] || die "no cgroup v1 hierarchy for $c"
        case "$seen" in *" $dir "*) continue ;; esac
        seen="$seen$dir "
        echo "$dir"
    done
}

# make_cgroups PREFIX COUNT CONTROLLERS...: PREFIX0..PREFIX<COUNT-1> with the
# limits; prints the reader's --cgroup arguments (with {} for the index).
make_cgroups() {
    local prefix=$1 count=$2; shift 2
    local i dir h dirs=() args=()
    if [ "$CGMODE" = v2 ]; then
        if [ ! -d "$CG_PARENT" ]; then
            mkdir "$CG_PARENT"
            echo "$CG_PARENT" >> "$TMP/cgroups"
            for c in memory cpu cpuset pids; do
                echo "+$c" > "$CG_PARENT/cgroup.subtree_control" 2>/dev/null || log "cgroup v2: cannot enable $c"
            done
        fi
        for ((i = 0; i < count; i++)); do dirs+=("$CG_PARENT/$prefix$i"); done
        mkdir "${dirs[@]}"
        printf '%s\n' "${dirs[@]}" >> "$TMP/cgroups"
        for dir in "${dirs[@]}"; do
            # A controller the root does not delegate has no files here: the
            # limit is skipped (and said once above), not fatal.
            if [ -f "$dir/memory.max" ]; then echo "$MEMORY_LIMIT" > "$dir/memory.max"; fi
            if [ -f "$dir/cpu.max" ]; then echo "150000 100000" > "$dir/cpu.max"; fi
            if [ -f "$dir/cpuset.cpus" ]; then echo "$CPUSET" > "$dir/cpuset.cpus"; fi
        done
        echo "--cgroup $CG_PARENT/$prefix{}"
        return
    fi
    for h in $(v1_hierarchies "$@"); do
        dirs=()
        for ((i = 0; i < count; i++)); do dirs+=("$h/$RUN-$prefix$i"); done
        mkdir "${dirs[@]}"
        printf '%s\n' "${dirs[@]}" >> "$TMP/cgroups"
        for dir in "${dirs[@]}"; do
            if [ -f "$dir/memory.limit_in_bytes" ]; then echo "$MEMORY_LIMIT" > "$dir/memory.limit_in_bytes"; fi
            if [ -f "$dir/cpu.cfs_quota_us" ]; then
                echo 100000 > "$dir/cpu.cfs_period_us"
                echo 150000 > "$dir/cpu.cfs_quota_us"
            fi
            if [ -f "$dir/cpuset.cpus" ]; then
                echo "$CPUSET" > "$dir/cpuset.cpus"
                cat "$h/cpuset.mems" > "$dir/cpuset.mems"
            fi
        done
        args+=("--cgroup $h/$RUN-$prefix{}")
    done
    echo "${args[*]}"
}

# ---- servers -------------------------------------------------------------------

# start_server NAME COMMAND...: mounts on $TMP/mnt-NAME (the command's "@MNT@"),
# waits until proc/meminfo reads, sets SERVER_PID/SERVER_MNT and READY_MS.
# (Not to be called in a subshell: the pid must reach the EXIT trap.)
start_server() {
    local name=$1; shift
    local mnt="$TMP/mnt-$name" args=() a
    mkdir -p "$mnt"
    rm -f "$TMP/$name.ready"  # a previous start's result must not pass for this one
    for a in "$@"; do args+=("${a//@MNT@/$mnt}"); done
    nice -n "$NICE" "$BENCH/procview-bench-ready" --mountpoint "$mnt" --out "$TMP/$name.ready" -- "${args[@]}" \
        >> "$TMP/$name.log" 2>&1 &
    SERVER_PID[$name]=$!
    SERVER_MNT[$name]=$mnt
    local pid=$!
    while [ ! -s "$TMP/$name.ready" ]; do
        kill -0 "$pid" 2>/dev/null || die "$name exited before serving; its log:$(echo; tail -20 "$TMP/$name.log")"
        sleep 0.01
    done
    grep -q '"ready_ms"' "$TMP/$name.ready" || die "$name: $(cat "$TMP/$name.ready")"
    READY_MS=$(sed -n 's/.*"ready_ms":\([0-9.]*\).*/\1/p' "$TMP/$name.ready")
}

server_command() {
    case "$1" in
        procviewfs) echo "$PROCVIEWFS -f --config $TMP/procview.json --threads $THREADS @MNT@" ;;
        procviewfs-sysinfo) echo "$PROCVIEWFS -f --config $TMP/procview-sysinfo.json --threads $THREADS @MNT@" ;;
        lxcfs) echo "lxcfs -f --enable-cfs -l -p $TMP/lxcfs.pid @MNT@" ;;
        floor) echo "$BENCH/procview-bench-floor --threads $THREADS @MNT@" ;;
        floor-t*) echo "$BENCH/procview-bench-floor --threads ${1#floor-t} @MNT@" ;;
        knob-default) echo "$BENCH/procview-bench-floor --threads $THREADS @MNT@" ;;
        knob-flush) echo "$BENCH/procview-bench-floor --threads $THREADS --flush @MNT@" ;;
        knob-timeout0) echo "$BENCH/procview-bench-floor --threads $THREADS --entry-timeout 0 --attr-timeout 0 @MNT@" ;;
    esac
}
echo "{\"cache_window_ms\": $WINDOW_MS}" > "$TMP/procview.json"
# The sysinfo part's instance answers sysinfo on a listener of its own (never
# the node's /run/procview/seccomp.sock); the directory is created 0700 by procviewfs.
printf '{"sysinfo": true, "sysinfo_listener_path": "%s"}\n' "$TMP/sysinfo/agent.sock" > "$TMP/procview-sysinfo.json"

FUSE_SERVERS=""
for s in procviewfs lxcfs floor; do has_server "$s" && FUSE_SERVERS="$FUSE_SERVERS $s"; done

# ---- measurements -----------------------------------------------------------------

json_str() { local s=${1//\\/\\\\}; s=${s//\"/\\\"}; printf '"%s"' "$s"; }

cpu_ticks() {
    local s
    s=$(< "/proc/$1/stat")
    s=${s##*) }
    set -- $s
    echo $(( ${12} + ${13} ))
}
wakeups() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/^(non)?voluntary_ctxt_switches:/ {s += $2} END {print s + 0}'; }
# family PID: PID and its child processes (procviewfs's keeper holds the FUSE
# connection in a child; it belongs to the server's footprint).
family() { echo "$1"; cat /proc/"$1"/task/*/children 2>/dev/null | tr ' ' '\n' | sed '/^$/d'; }
sum_over() { local f=$1 p total=0; shift; for p in "$@"; do total=$((total + $($f "$p" 2>/dev/null || echo 0))); done; echo "$total"; }
CLK_TCK=$(getconf CLK_TCK)

write_meta() {
    local git_rev model mem
    git_rev=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
    git -C "$ROOT" diff --quiet HEAD -- 2>/dev/null || git_rev="$git_rev+dirty"
    model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
    mem=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
    local cgdesc=$CGMODE
    if [ "$CGMODE" = v1 ]; then
        local cpu_acct=separate
        [ "$(readlink -f /sys/fs/cgroup/cpu)" = "$(readlink -f /sys/fs/cgroup/cpuacct)" ] && cpu_acct=co-mounted
        cgdesc="v1$([ -d /sys/fs/cgroup/unified ] && echo ", hybrid"); cpu and cpuacct $cpu_acct"
    fi
    printf '{"kind":"meta","date":%s,"host":%s,"kernel":%s,"cpu_model":%s,"cpus":%d,"memory_kb":%d,"cgroup":%s,"git":%s,"command":%s,"quick":%s,"seconds":%s,"count":%s,"repeats":%s,"nice":%s,"procviewfs":%s,"lxcfs":%s,"floor":%s}\n' \
        "$(json_str "$(date -u +%Y-%m-%dT%H:%MZ)")" "$(json_str "$(hostname)")" "$(json_str "$(uname -r)")" \
        "$(json_str "$model")" "$NCPU" "$mem" "$(json_str "$cgdesc")" "$(json_str "$git_rev")" \
        "$(json_str "$COMMAND")" "$([ "$QUICK" = 1 ] && echo true || echo false)" \
        "$([ "$QUICK" = 1 ] && echo 0 || echo "$CELL_SECONDS")" "$([ "$QUICK" = 1 ] && echo 300 || echo 0)" "$REPEAT" "$NICE" \
        "$(json_str "procviewfs -f --threads $THREADS (loadavg on)")" \
        "$(json_str "lxcfs $(lxcfs --version 2>&1 | tr -d '"' | head -1) -f --enable-cfs -l")" \
        "$(json_str "procview-bench-floor --threads $THREADS (direct_io, entry/attr timeout 3600 s, no FLUSH)")" >> "$RESULTS"
}

# ready_runs: time READY_RUNS starts of each server; the last start stays up.
ready_runs() {
    local s run runs
    for s in $FUSE_SERVERS; do
        runs=""
        for ((run = 1; run <= READY_RUNS; run++)); do
            # shellcheck disable=SC2046
            start_server "$s" $(server_command "$s")
            runs="$runs${runs:+,}$READY_MS"
            if [ "$run" -lt "$READY_RUNS" ]; then stop_server "$s"; fi
        done
        printf '{"kind":"ready","server":"%s","runs_ms":[%s]}\n' "$s" "$runs" >> "$RESULTS"
        log "ready to serve: $s ${runs} ms"
    done
}

# idle PHASE: every started server, nothing reading, IDLE_SECONDS.
idle() {
    local phase=$1 s pid
    [ "$IDLE_SECONDS" != 0 ] || return 0
    declare -A t0=() w0=() pids=()
    for s in $FUSE_SERVERS; do
        pids[$s]=$(family "${SERVER_PID[$s]}" | tr '\n' ' ')
        # shellcheck disable=SC2086
        t0[$s]=$(sum_over cpu_ticks ${pids[$s]}); w0[$s]=$(sum_over wakeups ${pids[$s]})
    done
    log "idle ($phase): ${IDLE_SECONDS} s"
    sleep "$IDLE_SECONDS"
    for s in $FUSE_SERVERS; do
        local t1 w1 threads=0
        # shellcheck disable=SC2086
        t1=$(sum_over cpu_ticks ${pids[$s]}); w1=$(sum_over wakeups ${pids[$s]})
        for pid in ${pids[$s]}; do threads=$((threads + $(ls "/proc/$pid/task" 2>/dev/null | wc -l))); done
        printf '{"kind":"idle","server":"%s","phase":"%s","seconds":%s,"cpu_ms":%s,"wakeups":%s,"threads":%s,"processes":%s}\n' \
            "$s" "$phase" "$IDLE_SECONDS" "$(( (t1 - ${t0[$s]}) * 1000 / CLK_TCK ))" "$(( w1 - ${w0[$s]} ))" \
            "$threads" "$(echo ${pids[$s]} | wc -w)" >> "$RESULTS"
    done
}

# host_cpu: "busy total" jiffies of all CPUs from /proc/stat.
host_cpu() {
    local _ u n s i w irq sirq st
    read -r _ u n s i w irq sirq st _ < /proc/stat
    echo "$((u + n + s + irq + sirq + st)) $((u + n + s + i + w + irq + sirq + st))"
}

# settle: wait (up to SETTLE s) until the machine is below 15% busy over 0.3 s,
# so other work does not land inside a measurement.
settle() {
    [ "$SETTLE" != 0 ] || return 0
    local deadline=$((SECONDS + SETTLE)) b0 t0 b1 t1 busy=100
    while [ "$SECONDS" -lt "$deadline" ]; do
        read -r b0 t0 <<< "$(host_cpu)"
        sleep 0.3
        read -r b1 t1 <<< "$(host_cpu)"
        busy=$(( t1 > t0 ? (b1 - b0) * 100 / (t1 - t0) : 100 ))
        [ "$busy" -lt 15 ] && return 0
    done
    log "machine still ${busy}% busy after ${SETTLE} s; measuring anyway"
}

# reader ARGS...: one group of readers; prints its JSON.
reader() { nice -n "$NICE" "$BENCH/procview-bench-reader" "$@"; }

rate_of() { sed -n 's/.*"reads_per_s":\([0-9.]*\).*/\1/p'; }

# cell KIND FIELDS FILE MODE READERS SERVER SOURCE [READER-ARGS...]: one run;
# FIELDS are extra JSON members for the record, SOURCE the server whose mount
# is read (or native).
cell() {
    local kind=$1 field=$2 file=$3 mode=$4 n=$5 server=$6 source=$7
    shift 7
    local path="/proc/$file" pidarg=() amount=(--seconds "$CELL_SECONDS")
    if [ "$source" = procviewfs-pc ]; then
        path="${SERVER_MNT[procviewfs]}/$PC_DIR/proc/$file"
        pidarg=(--server-pid "${SERVER_PID[procviewfs]}")
    elif [ "$source" != native ]; then
        path="${SERVER_MNT[$source]}/proc/$file"
        pidarg=(--server-pid "${SERVER_PID[$source]}")
    fi
    [ "$QUICK" = 1 ] && amount=(--count 300)
    local out
    # shellcheck disable=SC2086
    out=$(reader --mode "$mode" "${amount[@]}" --readers "$n" --pidns $MAIN_CG_ARGS "${pidarg[@]}" \
        --label "$server" "$@" "$path")
    printf '{"kind":"%s",%s,"file":"%s","mode":"%s","readers":%s,"result":%s}\n' \
        "$kind" "$field" "$file" "$mode" "$n" "$out" >> "$RESULTS"
    log "$kind $file $mode x$n $server: $(rate_of <<< "$out") reads/s"
}

# rotate N WORDS...: the words starting at the Nth (mod count), wrapping.
rotate() {
    local n=$1; shift
    local words=("$@") i
    for ((i = 0; i < ${#words[@]}; i++)); do echo "${words[(i + n) % ${#words[@]}]}"; done
}

main_cells() {
    local file mode n s rep servers=()
    for s in native floor lxcfs procviewfs; do has_server "$s" && servers+=("$s"); done
    [ -n "$PC_DIR" ] && servers+=(procviewfs-pc)
    for file in $FILES; do
        for mode in orc seek; do
            for n in $READERS; do
                settle
                for ((rep = 1; rep <= REPEAT; rep++)); do
                    # A different server goes first each run, so drift in the
                    # machine's state does not favour one of them.
                    for s in $(rotate "$((rep - 1))" "${servers[@]}"); do
                        cell cell "\"server\":\"$s\",\"rep\":$rep" "$file" "$mode" "$n" "$s" "$s"
                    done
                done
            done
        done
    done
}

# placement: 1 reader of meminfo (orc) with the server's threads pinned to
# CPU 0 and the reader on CPU 0 (same) or CPU 1 (other). On a VM a wake-up of
# an idle vCPU is expensive, so a FUSE round trip depends on where the
# scheduler puts the two; this shows by how much.
placement() {
    [ "$PLACEMENT" = 1 ] && [ "$NCPU" -ge 2 ] || return 0
    local s rep where cpu
    for s in $FUSE_SERVERS; do
        taskset -a -p -c 0 "${SERVER_PID[$s]}" > /dev/null
        settle
        for ((rep = 1; rep <= REPEAT; rep++)); do
            for where in same other; do
                cpu=0
                [ "$where" = other ] && cpu=1
                cell placement "\"server\":\"$s\",\"placement\":\"$where\",\"rep\":$rep" meminfo orc 1 "$s" "$s" \
                    --cpus "$cpu"
            done
        done
        taskset -a -p -c "0-$((NCPU - 1))" "${SERVER_PID[$s]}" > /dev/null
    done
}

loop_cells() {
    [ -n "$LOOP_THREADS" ] || return 0
    local t file mode n
    # shellcheck disable=SC2046
    for t in $LOOP_THREADS; do start_server "floor-t$t" $(server_command "floor-t$t"); done
    local rep
    for file in meminfo stat; do
        for mode in orc seek; do
            for n in $READERS; do
                settle
                for ((rep = 1; rep <= REPEAT; rep++)); do
                    for t in $(rotate "$((rep - 1))" $LOOP_THREADS); do
                        cell loop "\"threads\":$t,\"rep\":$rep" "$file" "$mode" "$n" "floor-t$t" "floor-t$t"
                    done
                done
            done
        done
    done
    for t in $LOOP_THREADS; do stop_server "floor-t$t"; done
}

# knob_cells: what one FUSE round trip costs, on the floor: answering FLUSH
# (a round trip per close) and no dentry/attribute caching (LOOKUP and GETATTR
# per open), against the floor as configured; 1 reader, meminfo.
knob_cells() {
    [ "$KNOBS" = 1 ] || return 0
    local k mode rep knobs=(knob-default knob-flush knob-timeout0)
    # shellcheck disable=SC2046
    for k in "${knobs[@]}"; do start_server "$k" $(server_command "$k"); done
    for mode in orc seek; do
        settle
        for ((rep = 1; rep <= REPEAT; rep++)); do
            for k in $(rotate "$((rep - 1))" "${knobs[@]}"); do
                cell knob "\"variant\":\"${k#knob-}\",\"rep\":$rep" meminfo "$mode" 1 "$k" "$k"
            done
        done
    done
    for k in "${knobs[@]}"; do stop_server "$k"; done
}

# sysinfo_cells: sysinfo(2) answered by procviewfs's agent (each caller hands
# its notify fd to the agent as runc would), native sysinfo(2), and an
# open–read–close of proc/meminfo through the same procviewfs, interleaved,
# SYSINFO_READERS callers each (issue 15's target: an intercepted call costs
# no more than one such read).
sysinfo_cells() {
    local rep v variants=(intercepted native meminfo-orc)
    # shellcheck disable=SC2046
    start_server procviewfs-sysinfo $(server_command procviewfs-sysinfo)
    local sock="$TMP/sysinfo/agent.sock" mnt=${SERVER_MNT[procviewfs-sysinfo]} pid=${SERVER_PID[procviewfs-sysinfo]}
    settle
    for ((rep = 1; rep <= REPEAT; rep++)); do
        for v in $(rotate "$((rep - 1))" "${variants[@]}"); do
            case "$v" in
                intercepted) cell sysinfo "\"variant\":\"$v\",\"rep\":$rep" sysinfo sysinfo "$SYSINFO_READERS" \
                    procviewfs native --sysinfo-listener "$sock" --server-pid "$pid" ;;
                # ~2 million native calls/s: room for every sample.
                native) cell sysinfo "\"variant\":\"$v\",\"rep\":$rep" sysinfo sysinfo "$SYSINFO_READERS" native native \
                    --max-rate 4000000 ;;
                meminfo-orc) cell sysinfo "\"variant\":\"$v\",\"rep\":$rep" meminfo orc "$SYSINFO_READERS" \
                    procviewfs procviewfs-sysinfo ;;
            esac
        done
    done
    stop_server procviewfs-sysinfo
}

scale_runs() {
    [ "$SCALE_CGROUPS" != 0 ] || return 0
    local args s out
    log "scale: creating $SCALE_CGROUPS cgroups"
    args=$(make_cgroups s "$SCALE_CGROUPS" memory cpu cpuacct cpuset pids)
    # The floor too: what 1,000 readers cost FUSE itself on this machine.
    for s in procviewfs lxcfs floor; do
        has_server "$s" || continue
        log "scale: $s, $SCALE_CGROUPS readers, ${SCALE_SECONDS} s"
        settle
        # shellcheck disable=SC2086
        out=$(reader --mode orc --interval-ms 1000 --seconds "$SCALE_SECONDS" --readers "$SCALE_CGROUPS" --pidns \
            $args --server-pid "${SERVER_PID[$s]}" --label "$s" \
            "${SERVER_MNT[$s]}/proc/stat" "${SERVER_MNT[$s]}/proc/loadavg")
        printf '{"kind":"scale","server":"%s","cgroups":%s,"result":%s}\n' "$s" "$SCALE_CGROUPS" "$out" >> "$RESULTS"
    done
    # The same readers through their own per-container files (what
    # procview-hook binds): the kernel serves reads within the window.
    if has_server procviewfs; then
        log "scale: procviewfs-pc, $SCALE_CGROUPS readers reading their own containers/<pid>-<start> (resolved once, as a bind mount is), ${SCALE_SECONDS} s"
        settle
        # shellcheck disable=SC2086
        out=$(reader --mode orc --interval-ms 1000 --seconds "$SCALE_SECONDS" --readers "$SCALE_CGROUPS" --pidns \
            $args --server-pid "${SERVER_PID[procviewfs]}" --label procviewfs-pc \
            "${SERVER_MNT[procviewfs]}/containers/pid-{self}/proc/stat" \
            "${SERVER_MNT[procviewfs]}/containers/pid-{self}/proc/loadavg")
        printf '{"kind":"scale","server":"procviewfs-pc","cgroups":%s,"result":%s}\n' "$SCALE_CGROUPS" "$out" >> "$RESULTS"
    fi
    # The scale cgroups stay until the end: the second idle run shows whether
    # a server does periodic work per known cgroup.
}

# ---- the run -----------------------------------------------------------------------

log "scratch $TMP, cgroups $CGMODE, $NCPU CPUs"
write_meta
MAX_READERS=0
for n in $READERS $SYSINFO_READERS; do [ "$n" -gt "$MAX_READERS" ] && MAX_READERS=$n; done
MAIN_CG_ARGS=$(make_cgroups r "$MAX_READERS" memory cpu cpuacct cpuset blkio pids)

if wants ready; then ready_runs; fi
if wants idle || wants cells || wants placement || wants scale; then
    for s in $FUSE_SERVERS; do
        # shellcheck disable=SC2046
        [ -n "${SERVER_PID[$s]:-}" ] || start_server "$s" $(server_command "$s")
    done
fi
# start_pc_process: a process in the readers' first cgroup whose per-container
# files the procviewfs-pc rows read (any reader may read them: the inode says whose view).
start_pc_process() {
    has_server procviewfs || return 0
    [ -n "${SERVER_PID[procviewfs]:-}" ] || return 0
    sleep 1000000 &
    PC_PID=$!
    local arg
    # shellcheck disable=SC2086
    for arg in $MAIN_CG_ARGS; do
        [ "$arg" = --cgroup ] && continue
        echo "$PC_PID" > "${arg//\{\}/0}/cgroup.procs"
    done
    PC_DIR="containers/$PC_PID-$(awk '{ print $22 }' "/proc/$PC_PID/stat")"
    [ -r "${SERVER_MNT[procviewfs]}/$PC_DIR/proc/meminfo" ] || die "procviewfs serves no $PC_DIR"
    log "per-container rows read $PC_DIR (window $WINDOW_MS ms)"
}
start_pc_process
if wants idle; then idle fresh; fi
if wants cells; then main_cells; fi
if wants placement; then placement; fi
if wants loop; then loop_cells; fi
if wants knobs; then knob_cells; fi
if wants sysinfo; then sysinfo_cells; fi
if wants scale; then scale_runs; fi
if wants idle; then idle "after scale"; fi

mkdir -p "$(dirname "$OUT")"
"$BENCH/procview-bench-report" "$RESULTS" > "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
cat "$OUT"
log "report written to $OUT"
if [ "$QUICK" = 1 ]; then
    "$BENCH/procview-bench-report" --check "$RESULTS" || die "smoke check failed"
fi
exit 0
