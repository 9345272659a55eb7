#!/bin/sh
# Guest test runner of the cgroup v2 lane (busybox sh).
#   sh run-guest-tests.sh LIST
# LIST holds one shell command per line ('#' comments and blank lines are
# ignored). Each command runs with stdin from /dev/null under a per-test
# timeout (PROCVIEW_VM_TEST_TIMEOUT seconds, default 300) and must print a
# summary line, either `N passed, N failed[, N skipped]` (our e2e scripts) or
# doctest's `[doctest] test cases: N | N passed | N failed | N skipped`.
# The runner sums them and prints
#   PROCVIEW-VM-RESULT: N passed, N failed, N skipped
# which scripts/vm-test.sh looks for on the console. A command that exits
# non-zero, prints no summary or times out counts as one failure even if its
# summary said otherwise, so a crashed test can never pass.
list="$1"
per_test="${PROCVIEW_VM_TEST_TIMEOUT:-300}"
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

if [ ! -r "$list" ]; then
	echo "PROCVIEW-VM-TEST-FAIL: no test list at $list"
	echo "PROCVIEW-VM-RESULT: 0 passed, 1 failed, 0 skipped"
	exit 1
fi

while IFS= read -r line; do
	case "$line" in ''|'#'*) continue ;; esac
	n=$((n + 1))
	out="/tmp/pvvm-test-$n.log"
	echo "PROCVIEW-VM-TEST-BEGIN: $line"
	start=$(now)
	{ timeout -s KILL "$per_test" sh -c "$line" </dev/null 2>&1; echo "$?" > "$out.rc"; } | tee "$out"
	rc=$(cat "$out.rc")
	secs=$(awk -v a="$start" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')
	set -- $(summary_of "$out")
	why=""
	if [ $# -ne 3 ]; then
		set -- 0 1 0
		why="printed no summary line"
	fi
	p=$1 f=$2 s=$3
	if [ "$rc" -eq 137 ]; then
		why="killed after ${per_test} s"
		[ "$f" -eq 0 ] && f=1
	elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		why="exited with status $rc but reported no failure"
		f=1
	fi
	[ "$f" -gt 0 ] && [ -z "$why" ] && why="$f failed"
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	total_skip=$((total_skip + s))
	echo "PROCVIEW-VM-TEST-END: rc=$rc passed=$p failed=$f skipped=$s time=${secs}s: $line"
	[ -n "$why" ] && echo "PROCVIEW-VM-TEST-FAIL: $line ($why)"
	rm -f "$out" "$out.rc"
done < "$list"

echo "PROCVIEW-VM-RESULT: $total_pass passed, $total_fail failed, $total_skip skipped"
echo "$total_pass passed, $total_fail failed, $total_skip skipped"
[ "$total_fail" -eq 0 ]
