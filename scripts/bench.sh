#!/usr/bin/env bash
# procview benchmark (issues 5 and 16): procviewfs, lxcfs, the FUSE floor and
# native procfs side by side, in one run on one machine; prints one markdown
# report with ratios and writes it to --out. The parts live in scripts/bench/.
#
#   sudo scripts/bench.sh                      # full run (~28 min), bench/results/latest.md
#   sudo scripts/bench.sh --quick --out /tmp/smoke.md   # ~1 min smoke of the instrument
#
# Options:
#   --quick              smoke: 1 reader, 300 reads per cell, 20-cgroup scale run
#                        for 5 s, 2 s idle, 0.5 s per noisy-neighbour run; checks
#                        only that every server and part produced reads without
#                        errors (exit 1 otherwise).
#   --out FILE           the markdown report (default bench/results/latest.md)
#   --build DIR          build directory with bench/ and fusefs/ (default build)
#   --procviewfs BIN     procviewfs binary (default DIR/fusefs/procviewfs)
#   --servers LIST       any of "procviewfs lxcfs floor native" (default all);
#                        procviewfs brings a second instance, procviewfs-co
#                        (--containers-only: per-container files without OPEN,
#                        how the default install serves them)
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
#                        cells placement loop knobs scale sysinfo noisy"; e.g.
#                        --only sysinfo for the sysinfo(2) rows alone
#   --noisy-threads N    noisy part: threads of container A (default 4)
#   --noisy-interval-ms MS  noisy part: container B reads once per MS
#                        (default 1; 0 = back to back)
#   --sysinfo-readers N  concurrent callers in the sysinfo part (default 1)
#   --window MS          procviewfs's cache_window_ms (default 1000): the rows
#                        "procviewfs-pc" (main mount, OPEN answered) and
#                        "procviewfs-co" (--containers-only, no OPEN) read a
#                        per-container file (containers/<pid>-<start>/proc/FILE
#                        of a process in the readers' first cgroup), which the
#                        kernel caches that long
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
ONLY="ready idle cells placement loop knobs scale sysinfo noisy"
NOISY_THREADS=4
NOISY_INTERVAL_MS=1
NOISY_PID=""   # container A's reader group while it runs in the background
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
        --noisy-threads) NOISY_THREADS=$2; shift ;;
        --noisy-interval-ms) NOISY_INTERVAL_MS=$2; shift ;;
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
PARTS=" ready idle cells placement loop knobs scale sysinfo noisy "
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

# shellcheck source=scripts/bench/lib.sh
. "$ROOT/scripts/bench/lib.sh"
# shellcheck source=scripts/bench/parts.sh
. "$ROOT/scripts/bench/parts.sh"
# shellcheck source=scripts/bench/noisy.sh
. "$ROOT/scripts/bench/noisy.sh"

RUN="pvbench-$$"
TMP=$(mktemp -d "/tmp/$RUN.XXXXXX")
RESULTS="$TMP/results.jsonl"
: > "$RESULTS"
: > "$TMP/cgroups"          # every cgroup directory created, in creation order
declare -A SERVER_PID=()    # name -> pid of a server this script started
declare -A SERVER_MNT=()    # name -> mountpoint

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

echo "{\"cache_window_ms\": $WINDOW_MS}" > "$TMP/procview.json"
# The sysinfo part's instance answers sysinfo on a listener of its own (never
# the node's /run/procview/seccomp.sock); the directory is created 0700 by procviewfs.
printf '{"sysinfo": true, "sysinfo_listener_path": "%s"}\n' "$TMP/sysinfo/agent.sock" > "$TMP/procview-sysinfo.json"

FUSE_SERVERS=""
for s in procviewfs lxcfs floor; do has_server "$s" && FUSE_SERVERS="$FUSE_SERVERS $s"; done
# The per-container files without OPEN need an instance of their own.
if has_server procviewfs; then FUSE_SERVERS="$FUSE_SERVERS procviewfs-co"; fi

# ---- the run -----------------------------------------------------------------------

log "scratch $TMP, cgroups $CGMODE, $NCPU CPUs"
write_meta
MAX_READERS=0
for n in $READERS $SYSINFO_READERS; do [ "$n" -gt "$MAX_READERS" ] && MAX_READERS=$n; done
MAIN_CG_ARGS=$(make_cgroups r "$MAX_READERS" memory cpu cpuacct cpuset blkio pids)

if wants ready; then ready_runs; fi
if wants idle || wants cells || wants placement || wants scale || wants noisy; then
    for s in $FUSE_SERVERS; do
        # shellcheck disable=SC2046
        [ -n "${SERVER_PID[$s]:-}" ] || start_server "$s" $(server_command "$s")
    done
fi
start_pc_process
if wants idle; then idle fresh; fi
if wants cells; then main_cells; fi
if wants placement; then placement; fi
if wants loop; then loop_cells; fi
if wants knobs; then knob_cells; fi
if wants sysinfo; then sysinfo_cells; fi
if wants noisy; then noisy_runs; fi
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
