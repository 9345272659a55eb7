#!/usr/bin/env bash
# Sourced by scripts/bench.sh, never run on its own: clean-up, cgroups,
# servers and one measured reader run. Uses bench.sh's settings and state
# (TMP, RESULTS, SERVER_PID, SERVER_MNT, NICE, ...).

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
    if [ -n "$NOISY_PID" ]; then kill "$NOISY_PID" 2>/dev/null; wait "$NOISY_PID" 2>/dev/null; fi
    remove_cgroups
    if [ "$KEEP" = 1 ]; then
        log "kept $TMP"
    else
        rm -rf --one-file-system "$TMP"
    fi
    exit "$status"
}
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

# ready_file NAME: what start_server waits to read under NAME's mountpoint.
# A --containers-only instance serves no proc/: this script's own
# per-container meminfo there.
ready_file() {
    case "$1" in
        procviewfs-co) echo "containers/pid-$$/proc/meminfo" ;;
        *) echo proc/meminfo ;;
    esac
}

# start_server NAME COMMAND...: mounts on $TMP/mnt-NAME (the command's "@MNT@"),
# waits until its ready_file reads, sets SERVER_PID/SERVER_MNT and READY_MS.
# (Not to be called in a subshell: the pid must reach the EXIT trap.)
start_server() {
    local name=$1; shift
    local mnt="$TMP/mnt-$name" args=() a
    mkdir -p "$mnt"
    rm -f "$TMP/$name.ready"  # a previous start's result must not pass for this one
    for a in "$@"; do args+=("${a//@MNT@/$mnt}"); done
    nice -n "$NICE" "$BENCH/procview-bench-ready" --mountpoint "$mnt" --file "$(ready_file "$name")" \
        --out "$TMP/$name.ready" -- "${args[@]}" \
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
        procviewfs-co) echo "$PROCVIEWFS -f --containers-only --config $TMP/procview.json --threads $THREADS @MNT@" ;;
        procviewfs-sysinfo) echo "$PROCVIEWFS -f --config $TMP/procview-sysinfo.json --threads $THREADS @MNT@" ;;
        lxcfs) echo "lxcfs -f --enable-cfs -l -p $TMP/lxcfs.pid @MNT@" ;;
        floor) echo "$BENCH/procview-bench-floor --threads $THREADS @MNT@" ;;
        floor-t*) echo "$BENCH/procview-bench-floor --threads ${1#floor-t} @MNT@" ;;
        knob-default) echo "$BENCH/procview-bench-floor --threads $THREADS @MNT@" ;;
        knob-flush) echo "$BENCH/procview-bench-floor --threads $THREADS --flush @MNT@" ;;
        knob-timeout0) echo "$BENCH/procview-bench-floor --threads $THREADS --entry-timeout 0 --attr-timeout 0 @MNT@" ;;
    esac
}
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
    printf '{"kind":"meta","date":%s,"host":%s,"kernel":%s,"cpu_model":%s,"cpus":%d,"memory_kb":%d,"cgroup":%s,"git":%s,"command":%s,"quick":%s,"seconds":%s,"count":%s,"repeats":%s,"nice":%s,"procviewfs":%s,"lxcfs":%s,"floor":%s,"parts":%s,"servers":%s,"scale_cgroups":%s,"window_ms":%s}\n' \
        "$(json_str "$(date -u +%Y-%m-%dT%H:%MZ)")" "$(json_str "$(hostname)")" "$(json_str "$(uname -r)")" \
        "$(json_str "$model")" "$NCPU" "$mem" "$(json_str "$cgdesc")" "$(json_str "$git_rev")" \
        "$(json_str "$COMMAND")" "$([ "$QUICK" = 1 ] && echo true || echo false)" \
        "$([ "$QUICK" = 1 ] && echo 0 || echo "$CELL_SECONDS")" "$([ "$QUICK" = 1 ] && echo 300 || echo 0)" "$REPEAT" "$NICE" \
        "$(json_str "procviewfs -f --threads $THREADS (loadavg on)")" \
        "$(json_str "lxcfs $(lxcfs --version 2>&1 | tr -d '"' | head -1) -f --enable-cfs -l")" \
        "$(json_str "procview-bench-floor --threads $THREADS (direct_io, entry/attr timeout 3600 s, no FLUSH)")" \
        "$(json_str "$(echo $ONLY)")" "$(json_str "$(echo $SERVERS)")" "$SCALE_CGROUPS" "$WINDOW_MS" >> "$RESULTS"
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
    elif [ "$source" = procviewfs-co ]; then
        path="${SERVER_MNT[procviewfs-co]}/$PC_DIR/proc/$file"
        pidarg=(--server-pid "${SERVER_PID[procviewfs-co]}")
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

# cgroup_dirs ARGS: the directories of make_cgroups's --cgroup arguments for
# index 0, one a line.
cgroup_dirs() {
    local arg
    for arg in $1; do
        [ "$arg" = --cgroup ] || echo "${arg//\{\}/0}"
    done
}

# start_pc_process: a process in the readers' first cgroup whose per-container
# files the procviewfs-pc and procviewfs-co rows read (any reader may read
# them: the inode says whose view).
start_pc_process() {
    has_server procviewfs || return 0
    [ -n "${SERVER_PID[procviewfs]:-}" ] || return 0
    sleep 1000000 &
    PC_PID=$!
    local dir
    for dir in $(cgroup_dirs "$MAIN_CG_ARGS"); do echo "$PC_PID" > "$dir/cgroup.procs"; done
    PC_DIR="containers/$PC_PID-$(awk '{ print $22 }' "/proc/$PC_PID/stat")"
    [ -r "${SERVER_MNT[procviewfs]}/$PC_DIR/proc/meminfo" ] || die "procviewfs serves no $PC_DIR"
    if [ -n "${SERVER_PID[procviewfs-co]:-}" ]; then
        [ -r "${SERVER_MNT[procviewfs-co]}/$PC_DIR/proc/meminfo" ] || die "procviewfs-co serves no $PC_DIR"
    fi
    log "per-container rows read $PC_DIR (window $WINDOW_MS ms)"
}
