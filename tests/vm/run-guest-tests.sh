#!/bin/sh
# Guest test runner of the cgroup v2 lane (busybox sh).
#   sh run-guest-tests.sh LIST
# LIST holds one shell command per line ('#' comments and blank lines are
# ignored). Each command runs with stdin from /dev/null, in a cgroup of its
# own (/sys/fs/cgroup/pvvm-test-N), under a per-test timeout
# (PROCVIEW_VM_TEST_TIMEOUT seconds, default 300; the whole cgroup is
# killed when it expires), and must print a summary
# line: `N passed, N failed[, N skipped]` (our e2e scripts) or doctest's
# `[doctest] test cases: N | N passed | N failed | N skipped`.
#
# A command that exits non-zero, prints no summary or times out counts as one
# failure even if its summary said otherwise, so a crashed test cannot pass.
# So does a test that leaves something behind (the project's rule is that
# tests clean up after themselves): processes still in its cgroup, mounts,
# cgroups. The runner reports and removes the leftovers, so they neither hang
# the lane (a leftover process holding the output pipe) nor disturb the next
# test. Finally it prints
#   PROCVIEW-VM-RESULT: N passed, N failed, N skipped
# which scripts/vm-test.sh looks for on the console.
list="$1"
per_test="${PROCVIEW_VM_TEST_TIMEOUT:-300}"
state=/tmp/pvvm-runner
total_pass=0
total_fail=0
total_skip=0
n=0

now() { read -r t _ < /proc/uptime; echo "$t"; }

# Prints "PASSED FAILED SKIPPED" from a test's output, or nothing.
summary_of() {
	plain=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1)
	if [ -n "$plain" ]; then
		# "5 passed, 0 failed, 3 skipped": fields 1, 3 and, if present, 5.
		echo "$plain" | awk '{ print $1, $3 + 0, ($6 ~ /^skipped/ ? $5 + 0 : 0) }'
		return
	fi
	grep -E '^\[doctest\] test cases:.*passed.*failed' "$1" | tail -n 1 |
		awk -F'|' '{ print $2 + 0, $3 + 0, $4 + 0 }'
}

# new_lines BEFORE AFTER: the lines of AFTER that are not in BEFORE.
new_lines() { awk -v b="$1" 'FILENAME == b { seen[$0] = 1; next } !($0 in seen)' "$1" "$2"; }
mount_points() { awk '{ print $5 }' /proc/self/mountinfo | sort; }
cgroup_dirs() { find /sys/fs/cgroup -mindepth 1 -type d | grep -v '^/sys/fs/cgroup/pvvm-test-' | sort; }

# describe_procs CGROUP_DIR: "pid comm args" of each process in it, one line.
describe_procs() {
	for pid in $(cat "$1/cgroup.procs" 2>/dev/null); do
		printf '%s %s (%s); ' "$pid" "$(cat /proc/"$pid"/comm 2>/dev/null)" \
			"$(tr '\0' ' ' < /proc/"$pid"/cmdline 2>/dev/null | cut -c1-80)"
	done
}

# kill_cgroup CGROUP_DIR: kills every process in it (cgroup.kill, 5.14+) and
# waits up to 5 s for them to be gone.
kill_cgroup() {
	[ -e "$1/cgroup.kill" ] && echo 1 > "$1/cgroup.kill" 2>/dev/null
	tries=50
	while [ -n "$(cat "$1/cgroup.procs" 2>/dev/null)" ] && [ "$tries" -gt 0 ]; do
		sleep 0.1
		tries=$((tries - 1))
	done
}

# leftovers N: removes what test N left behind; prints what it was, or nothing.
leftovers() {
	mount_points > "$state/mounts.after"
	new_mounts=$(new_lines "$state/mounts.before" "$state/mounts.after")
	if [ -n "$new_mounts" ]; then
		echo "mounts: $(echo $new_mounts);"
		# Deepest first.
		echo "$new_mounts" | awk '{ print length($0), $0 }' | sort -rn | cut -d' ' -f2- |
			while IFS= read -r mp; do umount -l "$mp" 2>/dev/null; done
	fi
	cgroup_dirs > "$state/cgroups.after"
	new_cgroups=$(new_lines "$state/cgroups.before" "$state/cgroups.after")
	if [ -n "$new_cgroups" ]; then
		echo "cgroups: $(echo "$new_cgroups" | sed 's|^/sys/fs/cgroup||' | tr '\n' ' ');"
		echo "$new_cgroups" | awk '{ print length($0), $0 }' | sort -rn | cut -d' ' -f2- |
			while IFS= read -r cg; do
				procs=$(describe_procs "$cg")
				[ -n "$procs" ] && echo "processes in ${cg#/sys/fs/cgroup}: $procs"
				kill_cgroup "$cg"
				rmdir "$cg" 2>/dev/null
			done
	fi
}

if [ ! -r "$list" ]; then
	echo "PROCVIEW-VM-TEST-FAIL: no test list at $list"
	echo "PROCVIEW-VM-RESULT: 0 passed, 1 failed, 0 skipped"
	exit 1
fi
mkdir -p "$state"

while IFS= read -r line; do
	case "$line" in ''|'#'*) continue ;; esac
	n=$((n + 1))
	out="$state/test-$n.log"
	cg="/sys/fs/cgroup/pvvm-test-$n"
	mkdir "$cg"
	mount_points > "$state/mounts.before"
	cgroup_dirs > "$state/cgroups.before"
	echo "PROCVIEW-VM-TEST-BEGIN: $line"
	start=$(now)
	{
		sh -c 'echo $$ > "$1/cgroup.procs" && exec sh -c "$2"' pvvm-test "$cg" "$line" </dev/null 2>&1 &
		test_pid=$!
		# The watchdog kills the whole cgroup, so a timed-out test's children go too.
		(
			trap 'kill "$nap" 2>/dev/null; exit 0' TERM
			sleep "$per_test" &
			nap=$!
			wait "$nap"
			: > "$out.timeout"
			echo 1 > "$cg/cgroup.kill"
		) &
		dog=$!
		wait "$test_pid"
		echo "$?" > "$out.rc"
		kill "$dog" 2>/dev/null
		wait "$dog" 2>/dev/null
		# Whatever is still running holds the pipe to tee open.
		procs=$(describe_procs "$cg")
		if [ -n "$procs" ]; then
			echo "$procs" > "$out.procs"
			kill_cgroup "$cg"
		fi
	} | tee "$out"
	rc=$(cat "$out.rc")
	secs=$(awk -v a="$start" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')
	left=$(leftovers | tr '\n' ' ')
	[ -s "$out.procs" ] && left="processes: $(cat "$out.procs") $left"
	rmdir "$cg" 2>/dev/null
	set -- $(summary_of "$out")
	why=""
	if [ $# -ne 3 ]; then
		set -- 0 1 0
		why="printed no summary line"
	fi
	p=$1 f=$2 s=$3
	if [ -e "$out.timeout" ]; then
		why="killed after ${per_test} s"
		[ "$f" -eq 0 ] && f=1
	elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		why="exited with status $rc but reported no failure"
		f=1
	fi
	[ "$f" -gt 0 ] && [ -z "$why" ] && why="$f failed"
	if [ -n "$left" ]; then
		echo "PROCVIEW-VM-LEFTOVERS: $left"
		why="${why:+$why; }left behind: $left"
		f=$((f + 1))
	fi
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	total_skip=$((total_skip + s))
	echo "PROCVIEW-VM-TEST-END: rc=$rc passed=$p failed=$f skipped=$s time=${secs}s: $line"
	[ -n "$why" ] && echo "PROCVIEW-VM-TEST-FAIL: $line ($why)"
	rm -f "$out" "$out.rc" "$out.procs" "$out.timeout"
done < "$list"

echo "PROCVIEW-VM-RESULT: $total_pass passed, $total_fail failed, $total_skip skipped"
echo "$total_pass passed, $total_fail failed, $total_skip skipped"
[ "$total_fail" -eq 0 ]
