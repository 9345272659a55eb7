#!/usr/bin/env bash
# Sourced by scripts/bench.sh, never run on its own: the parts of the run
# (--only's words) other than noisy (scripts/bench/noisy.sh), each a function
# that appends JSON lines to $RESULTS.

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

main_cells() {
    local file mode n s rep servers=()
    for s in native floor lxcfs procviewfs; do has_server "$s" && servers+=("$s"); done
    [ -n "$PC_DIR" ] && servers+=(procviewfs-pc)
    [ -n "$PC_DIR" ] && [ -n "${SERVER_PID[procviewfs-co]:-}" ] && servers+=(procviewfs-co)
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
        # Reads of procviewfs-co's files are served by the kernel, no round trip to place.
        [ "$s" = procviewfs-co ] && continue
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
    # procview-hook binds): the kernel serves reads within the window; on
    # procviewfs-co (--containers-only) without an OPEN round trip either.
    local mnt
    for s in procviewfs-pc procviewfs-co; do
        has_server procviewfs || continue
        [ "$s" = procviewfs-pc ] && mnt=procviewfs || mnt=procviewfs-co
        [ -n "${SERVER_PID[$mnt]:-}" ] || continue
        log "scale: $s, $SCALE_CGROUPS readers reading their own containers/<pid>-<start> (resolved once, as a bind mount is), ${SCALE_SECONDS} s"
        settle
        # shellcheck disable=SC2086
        out=$(reader --mode orc --interval-ms 1000 --seconds "$SCALE_SECONDS" --readers "$SCALE_CGROUPS" --pidns \
            $args --server-pid "${SERVER_PID[$mnt]}" --label "$s" \
            "${SERVER_MNT[$mnt]}/containers/pid-{self}/proc/stat" \
            "${SERVER_MNT[$mnt]}/containers/pid-{self}/proc/loadavg")
        printf '{"kind":"scale","server":"%s","cgroups":%s,"result":%s}\n' "$s" "$SCALE_CGROUPS" "$out" >> "$RESULTS"
    done
    # The scale cgroups stay until the end: the second idle run shows whether
    # a server does periodic work per known cgroup.
}

