#!/usr/bin/env bash
# Sourced by scripts/bench.sh, never run on its own: the noisy-neighbour part
# (issue 16).
#
# Container A: NOISY_THREADS threads of one reader process, in one cgroup
# (cpu quota 1 CPU) and one pid namespace, read meminfo open–read–close in a
# tight loop. Container B: one reader in another cgroup and pid namespace,
# reading meminfo once every NOISY_INTERVAL_MS. For each way of serving the
# file, B is measured alone (quiet) and then while A runs (noisy), in the same
# run. B's reader samples the server's CPU (with its keeper) over B's window:
# noisy − quiet is what A costs the server, since B's own paced load is the
# same in both phases.

# noisy_variants: the ways of serving meminfo this run can measure, one a line.
noisy_variants() {
    if has_server procviewfs; then
        if [ -n "${SERVER_PID[procviewfs-co]:-}" ]; then echo procviewfs-co; fi
        echo procviewfs-pc
        echo procviewfs
    fi
    if has_server lxcfs; then echo lxcfs; fi
    if has_server floor; then echo floor; fi
}

# noisy_target VARIANT: "PATH PID", the file A and B read and the server
# serving it. Per-container variants: "{self}" makes each container read its
# own containers/<pid>-<start> (resolved once, as procview-hook's bind mount
# is); every thread of A shares its process's directory.
noisy_target() {
    case "$1" in
        procviewfs-co) echo "${SERVER_MNT[procviewfs-co]}/containers/pid-{self}/proc/meminfo ${SERVER_PID[procviewfs-co]}" ;;
        procviewfs-pc) echo "${SERVER_MNT[procviewfs]}/containers/pid-{self}/proc/meminfo ${SERVER_PID[procviewfs]}" ;;
        *) echo "${SERVER_MNT[$1]}/proc/meminfo ${SERVER_PID[$1]}" ;;
    esac
}

# one_cpu_quota ARGS: the cgroups of make_cgroups's ARGS get a 1-CPU quota
# (issue 16's neighbour), instead of the readers' 1.5.
one_cpu_quota() {
    local dir
    for dir in $(cgroup_dirs "$1"); do
        if [ -f "$dir/cpu.max" ]; then echo "100000 100000" > "$dir/cpu.max"; fi
        if [ -f "$dir/cpu.cfs_quota_us" ]; then echo 100000 > "$dir/cpu.cfs_quota_us"; fi
    done
}

# noisy_run VARIANT PHASE REP A-ARGS B-ARGS SECONDS: one measurement of B,
# with A reading (PHASE noisy) or not (quiet); appends a "noisy" record.
noisy_run() {
    local v=$1 phase=$2 rep=$3 a_args=$4 b_args=$5 seconds=$6 path pid out neighbour=null
    read -r path pid <<< "$(noisy_target "$v")"
    if [ "$phase" = noisy ]; then
        # A starts first and reads on until after B's window has closed.
        # shellcheck disable=SC2086
        reader --mode orc --seconds "$(awk -v s="$seconds" 'BEGIN { print s + 1 }')" --readers 1 \
            --threads-per-reader "$NOISY_THREADS" --pidns $a_args --label "$v neighbour" "$path" \
            > "$TMP/noisy-a.json" &
        NOISY_PID=$!
        sleep 0.4
    fi
    # shellcheck disable=SC2086
    out=$(reader --mode orc --seconds "$seconds" --interval-ms "$NOISY_INTERVAL_MS" --readers 1 --pidns $b_args \
        --server-pid "$pid" --label "$v" "$path")
    if [ "$phase" = noisy ]; then
        wait "$NOISY_PID" || die "noisy: container A's reader group failed ($v); see $TMP/noisy-a.json"
        NOISY_PID=""
        neighbour=$(< "$TMP/noisy-a.json")
        [ -n "$neighbour" ] || die "noisy: container A's reader group printed nothing ($v)"
    fi
    printf '{"kind":"noisy","server":"%s","phase":"%s","rep":%s,"file":"meminfo","mode":"orc","readers":1,"neighbour_threads":%s,"interval_ms":%s,"result":%s,"neighbour":%s}\n' \
        "$v" "$phase" "$rep" "$NOISY_THREADS" "$NOISY_INTERVAL_MS" "$out" "$neighbour" >> "$RESULTS"
    local a_rate=""
    if [ "$phase" = noisy ]; then a_rate=", A $(rate_of <<< "$neighbour") reads/s"; fi
    log "noisy $v $phase: B p50 $(sed -n 's/.*"p50_us":\([0-9.]*\).*/\1/p' <<< "$out") µs$a_rate"
}

noisy_runs() {
    local variants=() v rep phase a_args b_args seconds=$CELL_SECONDS
    mapfile -t variants < <(noisy_variants)
    [ "${#variants[@]}" -gt 0 ] || return 0
    if [ "$QUICK" = 1 ]; then seconds=0.5; fi
    a_args=$(make_cgroups noisy-a 1 memory cpu cpuacct cpuset pids)
    b_args=$(make_cgroups noisy-b 1 memory cpu cpuacct cpuset pids)
    one_cpu_quota "$a_args"
    log "noisy: A = $NOISY_THREADS threads of one container (1 CPU) reading meminfo back to back," \
        "B = 1 reader, one read per ${NOISY_INTERVAL_MS} ms, $seconds s per run"
    for ((rep = 1; rep <= REPEAT; rep++)); do
        for v in $(rotate "$((rep - 1))" "${variants[@]}"); do
            settle
            for phase in quiet noisy; do noisy_run "$v" "$phase" "$rep" "$a_args" "$b_args" "$seconds"; done
        done
    done
}
