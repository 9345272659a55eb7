# Measures procview-hook's run time, away from any runtime: a process in its
# own mount namespace with procfs and sysfs mounted in a rootfs stands in
# for runc's container at createRuntime; the hook is run N times against it
# (the views unmounted between runs). Prints the hook's own time (from
# main() to exit, its debug log) and the wall time per run including exec,
# next to the cost of exec'ing /bin/true. Not a ctest test: numbers only.
#   sh timing.sh PROCVIEWFS PROCVIEW_HOOK [N]
. "$(dirname "$0")/hook_lib.sh"
pvh_init timing "$@"
n=${4:-${3:-50}}
case "${3:-}" in *[!0-9]*|"") ;; *) n=$3 ;; esac
pv_have unshare && pv_have nsenter || pv_skip_all "needs unshare and nsenter (util-linux)"
date +%s%N | grep -q '^[0-9]*$' || pv_skip_all "needs date +%s%N"
pvh_start_views || pv_skip_all "the views server did not start at $PVH_MNT"

root=$PVH_TMP/bundle/rootfs
mkdir -p "$root/proc" "$root/sys"
echo '{"root": {"path": "rootfs"}, "annotations": {"procview.io/enabled": "true"}}' >"$PVH_TMP/bundle/config.json"
unshare -m --propagation private sh -c "mount -t proc proc '$root/proc' && mount -t sysfs sysfs '$root/sys' && exec sleep 3600" &
ctr=$!
pv_at_exit "pv_stop_pid $ctr"
pv_wait_until 5 sh -c "grep -q ' $root/sys ' /proc/$ctr/mountinfo" || pv_skip_all "the stand-in container did not come up"
state="{\"ociVersion\": \"1.0.2\", \"id\": \"timing\", \"status\": \"creating\", \"pid\": $ctr, \"bundle\": \"$PVH_TMP/bundle\"}"

ns_now() { date +%s%N; }
: >"$PVH_TMP/wall"
i=0
while [ "$i" -lt "$n" ]; do
    t0=$(ns_now)
    printf '%s' "$state" | "$PVH_HOOK" --config "$PVH_CONFIG" --debug createRuntime
    t1=$(ns_now)
    echo $(((t1 - t0) / 1000)) >>"$PVH_TMP/wall"
    # Undo the mounts inside the stand-in (the views are FUSE mounts over the targets).
    nsenter -t "$ctr" -m sh -c "awk '\$5 ~ \"^$root/\" && \$0 ~ / - fuse/ { print \$5 }' /proc/self/mountinfo | sort -r | while read m; do umount \"\$m\"; done"
    i=$((i + 1))
done
: >"$PVH_TMP/true"
i=0
while [ "$i" -lt "$n" ]; do
    t0=$(ns_now)
    printf '%s' "$state" | /bin/true
    t1=$(ns_now)
    echo $(((t1 - t0) / 1000)) >>"$PVH_TMP/true"
    i=$((i + 1))
done
stats() { sort -n | awk '{ a[NR] = $1 } END { printf "p50 %.1f  p90 %.1f  max %.1f", a[int((NR + 1) / 2)] / 1000, a[int(NR * 0.9)] / 1000, a[NR] / 1000 }'; }
runs=$(grep -c "createRuntime: mounted .* views" "$PVH_LOG")
echo "INFO runs: $n (load $(cut -d' ' -f1-3 /proc/loadavg)), successful mounts logged: $runs"
echo "INFO hook, main() to exit (ms):   $(sed -n 's/.*hook done in \([0-9.]*\) ms.*/\1/p' "$PVH_LOG" | awk '{ print $1 * 1000 }' | stats)"
echo "INFO hook, wall incl. exec (ms):  $(stats <"$PVH_TMP/wall")"
echo "INFO /bin/true, same pipeline (ms): $(stats <"$PVH_TMP/true")"
check "every run mounted the views" "$runs of $n runs logged mounts" [ "$runs" = "$n" ]
[ -n "${PVH_KEEP_LOG:-}" ] && cp "$PVH_LOG" "$PVH_KEEP_LOG"
pv_finish
