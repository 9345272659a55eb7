# e2e 8: procviewfs killed (kill -9) and upgraded (--takeover) under running
# containers. Two runc containers with different memory and CPU limits,
# their views mounted by procview-hook, each run a reader that reads
# /proc/meminfo and /sys/devices/system/cpu/online in a loop and logs every
# result with a monotonic timestamp into a host directory bind-mounted at
# /tmp. The test then only acts on procviewfs: kill -9, start it again after
# systemd's RestartSec (100 ms) with the same options; and --takeover. From
# the logs alone, per container and round:
#   recovery  restart → first correct read (MemTotal = ITS limit, ITS CPU
#             count); must be < 1 s (5 s with PROCVIEW_TEST_SLOW=1, the
#             emulated qemu lane)
#   gap max   the longest time between two correct reads in the round
#   failed    reads with an error or another container's / the host's value
# A kill -9 aborts the one request the dead daemon was serving (ECONNABORTED,
# at most one failed read per container and round); a takeover must lose
# none. The containers are never restarted, entered or signalled: at the end
# they still run with the same init pid and read correct values.
#   sh restart_test.sh PROCVIEWFS PROCVIEW_HOOK PV_RESTART_READER
#   PVR_ROUNDS=3 (kill + takeover rounds), PVR_PAUSE_US=1000 (between reads)
. "$(dirname "$0")/hook_lib.sh"
pvh_init restart "$1" "$2"
reader=${3:-}
[ -n "$reader" ] && [ -x "$reader" ] || pv_skip_all "reader binary (pv-restart-reader) not given or not executable: '$reader'"
pv_have runc || pv_skip_all "runc not installed"
[ "$PVH_IS_PROCVIEWFS" = 1 ] || pv_skip_all "needs procviewfs (lxcfs's mount dies with it)"
rounds=${PVR_ROUNDS:-3}
pause_us=${PVR_PAUSE_US:-1000}
bound_ms=1000
[ "${PROCVIEW_TEST_SLOW:-}" = 1 ] && bound_ms=5000
cp "$reader" "$PVH_ROOTFS/bin/pv-restart-reader" || pv_skip_all "cannot copy the reader into the rootfs"
now() { "$reader" now; }

# start_views [--takeover]: procviewfs, the same command line each time, as
# the systemd unit runs it; sets views_pid. The cleanup stops the instance
# running at exit (and one being replaced), never a pid killed earlier,
# which may belong to someone else by then.
start_views() {
    "$PVH_VIEWS" -f "$@" --config "$PVH_CONFIG" "$PVH_MNT" >>"$PVH_MNT.log" 2>&1 &
    views_pid=$!
}
views_pid="" retiring=""
mkdir -p "$PVH_MNT"
pv_at_exit "'$PVH_VIEWS' --unmount '$PVH_MNT' >/dev/null 2>&1; umount -l '$PVH_MNT' 2>/dev/null"
pv_at_exit 'pv_stop_pid "$views_pid"; pv_stop_pid "$retiring"'
start_views
pv_wait_until 10 pv_is_mounted "$PVH_MNT" fuse && pv_wait_until 5 pv_serves "$PVH_MNT" ||
    pv_skip_all "procviewfs did not start at $PVH_MNT: $(cat "$PVH_MNT.log" 2>/dev/null)"
events=$PVH_TMP/events
: >"$events"

# exited PID: the process is gone or a zombie (a child of this shell stays
# a zombie, which kill -0 still reaches, until it is waited for).
exited() {
    [ ! -e "/proc/$1/stat" ] || [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" = Z ]
}

# The containers: id, memory limit (bytes), CPU quota (µs per 100 ms).
# MemTotal shows the limit, or the host's memory when that is less.
host_mem=$(pvh_host_memtotal)
ids=""
for spec in a:201326592:50000 b:335544320:200000; do
    name=${spec%%:*} rest=${spec#*:}
    mem=${rest%%:*} quota=${rest#*:}
    id=pvhook-restart-$name-$$
    mkdir -p "$PVH_TMP/$id-log"
    PV_EXTRA_MOUNTS="{\"destination\": \"/tmp\", \"type\": \"bind\", \"source\": \"$PVH_TMP/$id-log\", \"options\": [\"rbind\", \"rw\"]}"
    pvh_bundle "$id" createRuntime '"procview.io/enabled": "true"' "$(pv_resources_json "$mem" "$quota" 100000 0-1)" \
        /bin/pv-restart-reader loop /tmp/reads.log "$pause_us"
    unset PV_EXTRA_MOUNTS
    pv_at_exit "runc --root '$PVH_RUNC_ROOT' delete -f '$id'"
    if ! runc --root "$PVH_RUNC_ROOT" run -d --bundle "$PVH_TMP/$id" "$id" </dev/null >"$PVH_TMP/$id.out" 2>"$PVH_TMP/$id.err"; then
        fail "container $name starts" "runc run -d: $(cat "$PVH_TMP/$id.err")"
        continue
    fi
    want=$((mem / 1024))
    [ "$want" -le "$host_mem" ] || want=$host_mem
    eval "want_mem_$name=$want want_cpus_$name=$(pvh_expected_cpus "$quota" 100000 0-1)"
    eval "pid_$name=\$(runc --root \"\$PVH_RUNC_ROOT\" state \"\$id\" | sed -n 's/^ *\"pid\": *\([0-9]*\).*/\1/p')"
    ids="$ids $name"
done
[ -n "$ids" ] || pv_finish

# correct_now LOG MEM CPUS: the log's last complete line is a correct read.
correct_now() {
    tail -n 2 "$1" 2>/dev/null | awk -v m="$2" -v c="$3" 'NF == 4 { ok = ($3 == m && $4 == c) } END { exit !ok }'
}
for name in $ids; do
    eval "m=\$want_mem_$name c=\$want_cpus_$name"
    check "container $name reads its own view before any restart" \
        "no read of MemTotal $m kB and $c CPUs: $(tail -n 1 "$PVH_TMP/pvhook-restart-$name-$$-log/reads.log" 2>/dev/null)" \
        pv_wait_until 10 correct_now "$PVH_TMP/pvhook-restart-$name-$$-log/reads.log" "$m" "$c"
done
sleep 1

# The rounds, alternating. Event lines: ROUND KIND TIME_NS, where KIND is
# kill (before kill -9), dead (reaped), start (the new procviewfs launched),
# takeover (the new instance launched), retired (the old one exited).
r=1
while [ "$r" -le "$rounds" ]; do
    echo "$r kill $(now)" >>"$events"
    kill -KILL "$views_pid"
    wait "$views_pid" 2>/dev/null
    echo "$r dead $(now)" >>"$events"
    sleep 0.1 # systemd's RestartSec
    echo "$r start $(now)" >>"$events"
    start_views
    sleep 1.5
    check "kill -9 round $r: procviewfs runs again" "pid $views_pid exited: $(tail -n 3 "$PVH_MNT.log")" kill -0 "$views_pid"

    retiring=$views_pid
    echo "$((r + rounds)) takeover $(now)" >>"$events"
    start_views --takeover
    pv_wait_until 10 exited "$retiring"
    check "takeover round $r: the old instance retires" "pid $retiring still runs" exited "$retiring"
    wait "$retiring" 2>/dev/null
    retiring=""
    echo "$((r + rounds)) retired $(now)" >>"$events"
    sleep 1.5
    check "takeover round $r: the new instance serves" "pid $views_pid exited: $(tail -n 3 "$PVH_MNT.log")" kill -0 "$views_pid"
    r=$((r + 1))
done
echo "end end $(now)" >>"$events"

# The rows, from the logs: ROW NAME MEM CPUS KIND N RECOVERY_NS GAP_NS
# FAILED READS FIRST_BAD, KIND steady|kill|takeover, RECOVERY_NS -1 when
# not applicable and "never" when no correct read came. Round k <= rounds
# is kill -9 #k, the others takeover #(k - rounds); a read belongs to the
# round whose event (kill or takeover) precedes its end.
analyse() {
    awk -v name="$1" -v m="$2" -v c="$3" -v rounds="$rounds" '
        NR == FNR {
            if ($2 == "kill" || $2 == "takeover") { at[++n] = $3; round[n] = $1 }
            if ($2 == "start") start[$1] = $3
            if ($2 == "end") end_at = $3
            next
        }
        NF != 4 || $2 > end_at { next }
        {
            while (cur < n && $2 >= at[cur + 1]) cur++
            k = cur ? round[cur] : 0
            reads[k]++
            ok = ($3 == m && $4 == c)
            if (!ok) { failed[k]++; if (!(k in why)) why[k] = $3 "/" $4 }
            if (ok && have_prev && $2 - prev > gap[k]) gap[k] = $2 - prev
            if (ok) { prev = $2; have_prev = 1 }
            if (ok && k >= 1 && k <= rounds && !(k in rec) && $2 > start[k]) rec[k] = $2 - start[k]
        }
        END {
            for (k = 0; k <= 2 * rounds; k++) {
                kind = k == 0 ? "steady" : k <= rounds ? "kill" : "takeover"
                r = (kind == "kill") ? ((k in rec) ? rec[k] : "never") : -1
                printf "ROW %s %s %s %s %d %s %.0f %d %d %s\n", name, m, c, kind, (k > rounds ? k - rounds : k), r, gap[k], failed[k], reads[k], ((k in why) ? why[k] : "-")
            }
        }' "$events" "$PVH_TMP/pvhook-restart-$1-$$-log/reads.log"
}
: >"$PVH_TMP/rows"
for name in $ids; do
    eval "m=\$want_mem_$name c=\$want_cpus_$name"
    analyse "$name" "$m" "$c" >>"$PVH_TMP/rows"
done

# The table and the verdicts, on the rows.
echo "INFO restart: reader pause $pause_us us; recovery = new procviewfs launched -> first correct read; a kill -9 round's gap includes RestartSec (100 ms)"
awk -v bound="$bound_ms" -v want_rows=$(($(echo $ids | wc -w) * (2 * rounds + 1))) '
    function ms(ns) { return sprintf("%.1f ms", ns / 1e6) }
    BEGIN { printf "INFO %-9s %9s %4s  %-12s %10s %10s %6s %7s  %s\n", "container", "MemTotal", "CPUs", "event", "recovery", "gap max", "failed", "reads", "first bad (MemTotal/CPUs)" }
    {
        name = $2; kind = $5; n = $6; rec = $7; gap = $8; failed = $9
        ev = kind == "steady" ? "steady" : kind == "kill" ? "kill -9 #" n : "takeover #" n
        shown = rec == "never" ? "never" : rec < 0 ? "-" : ms(rec)
        printf "INFO %-9s %9s %4s  %-12s %10s %10s %6d %7d  %s\n", name, $3, $4, ev, shown, ms(gap), failed, $10, $11
        if (kind == "steady")
            verdict(failed == 0, name ": no failed read before any restart", failed " failed")
        if (kind == "kill") {
            verdict(rec != "never" && rec / 1e6 < bound, name " " ev ": correct again within " bound " ms of the restart", "recovery " shown)
            verdict(failed <= 1, name " " ev ": at most the one aborted read fails", failed " failed, first bad " $11)
            if (rec != "never" && rec > maxrec) maxrec = rec
            if (gap > maxkgap) maxkgap = gap
            kfailed += failed
        }
        if (kind == "takeover") {
            verdict(failed == 0, name " " ev ": no failed read", failed " failed, first bad " $11)
            verdict(gap / 1e6 < bound, name " " ev ": longest gap under " bound " ms", "gap " ms(gap))
            if (gap > maxgap) maxgap = gap
            tfailed += failed
        }
        nrows++
    }
    function verdict(ok, what, why) { out[++nv] = (ok ? "PASS " what : "FAIL " what "|" why) }
    END {
        verdict(nrows == want_rows, "every container has a row per round", nrows " rows, want " want_rows)
        for (i = 1; i <= nv; i++) print out[i]
        printf "SUM kill -9 + restart: recovery max %s, longest gap %s, %d failed reads; --takeover: longest gap %s, %d failed reads\n", ms(maxrec), ms(maxkgap), kfailed, ms(maxgap), tfailed
    }
' "$PVH_TMP/rows" >"$PVH_TMP/verdicts"
while IFS= read -r line; do
    case "$line" in
    "INFO "*) echo "$line" ;;
    "PASS "*) pass "${line#PASS }" ;;
    "FAIL "*) _v=${line#FAIL }; fail "${_v%%|*}" "${_v#*|}" ;;
    "SUM "*) echo "RESULT restart ($rounds rounds each, $(echo $ids | wc -w) containers): ${line#SUM }" ;;
    esac
done <"$PVH_TMP/verdicts"

# Untouched: the same init pid still runs, and reads correct values now.
for name in $ids; do
    id=pvhook-restart-$name-$$
    eval "m=\$want_mem_$name c=\$want_cpus_$name p=\$pid_$name"
    state=$(runc --root "$PVH_RUNC_ROOT" state "$id" 2>&1)
    now_pid=$(echo "$state" | sed -n 's/^ *"pid": *\([0-9]*\).*/\1/p')
    check "container $name still runs, never restarted" "state: $state (init pid was $p)" \
        sh -c "echo '$state' | grep -q '\"status\": *\"running\"' && [ '$now_pid' = '$p' ]"
    check "container $name reads its own view at the end" "last read: $(tail -n 1 "$PVH_TMP/$id-log/reads.log")" \
        pv_wait_until 2 correct_now "$PVH_TMP/$id-log/reads.log" "$m" "$c"
done
pv_finish
