#!/bin/sh
# The cgroup v2 views that this project's hybrid-cgroup CI host cannot show,
# checked in the guest against values the test sets (busybox sh):
#   sh v2_views.sh [PROCVIEWFS]
# - diskstats from io.stat: a container reads and writes exact amounts with
#   O_DIRECT on the scratch block device ($PROCVIEW_TEST_BLOCKDEV); its
#   cgroup's io.stat must show exactly those bytes, and its /proc/diskstats
#   (bound from procviewfs) the same numbers in diskstats' units.
# - memory.swap.*: a container with memory 128 MiB and swap 64 MiB fills a
#   tmpfs past its memory limit; its /proc/meminfo and /proc/swaps must show
#   SwapTotal 64 MiB and exactly the swap its cgroup has in use.
# Both run under runc and crun (each converts OCI's memory+swap "swap" into
# v2's memory.swap.max). Prints PASS/FAIL/SKIP lines and a summary line.
. "$(dirname "$0")/vm_lib.sh"
procviewfs="${1:-${PROCVIEW_BUILD:-/procview/build}/fusefs/procviewfs}"
vm_begin pvvm-views

[ -x "$procviewfs" ] || { fail procviewfs "no procviewfs binary at $procviewfs (incomplete build?)"; vm_finish; }
vm_start_procviewfs "$procviewfs" ||
	{ fail procviewfs "not serving at $VM_WORK/mnt after 5 s: $(tail -n 5 "$VM_FS_LOG" | tr '\n' ' ')"; vm_finish; }

# --- diskstats from io.stat ---------------------------------------------------
dev="${PROCVIEW_TEST_BLOCKDEV:-}"
if [ ! -b "$dev" ]; then
	skip diskstats "PROCVIEW_TEST_BLOCKDEV='$dev' is not a block device"
else
	major=$(printf '%d' "0x$(stat -c %t "$dev")")
	minor=$(printf '%d' "0x$(stat -c %T "$dev")")
	name=$(basename "$dev")
	devices="{\"path\": \"/dev/scratch\", \"type\": \"b\", \"major\": $major, \"minor\": $minor, \"fileMode\": 432, \"uid\": 0, \"gid\": 0}"
	resources="\"memory\": {\"limit\": 268435456},
	  \"devices\": [{\"allow\": false, \"access\": \"rwm\"}, {\"allow\": true, \"type\": \"b\", \"major\": $major, \"minor\": $minor, \"access\": \"rw\"}]"
	# 256 reads and 64 writes of 4 KiB, each its own bio (O_DIRECT, synchronous).
	probe="dd if=/dev/scratch of=/dev/null bs=4096 count=256 iflag=direct 2>/dev/null &&
	  dd if=/dev/zero of=/dev/scratch bs=4096 count=64 oflag=direct 2>/dev/null &&
	  echo == io.stat && cat /sys/fs/cgroup/io.stat && echo == diskstats && cat /proc/diskstats"
	for rt in runc crun; do
		if ! out=$(vm_run "$rt" io "$resources" "$(vm_bind diskstats)" "$devices" "$probe"); then
			fail "$rt io container" "exited non-zero; output: $(echo $out | cut -c1-200)"
			continue
		fi
		io=$(echo "$out" | vm_section io.stat | awk -v d="$major:$minor" '$1 == d')
		# "7:0 rbytes=1048576 wbytes=262144 rios=256 wios=64 ..." → "1048576 262144 256 64"
		io_nums=$(echo "$io" | awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
			print v["rbytes"] + 0, v["wbytes"] + 0, v["rios"] + 0, v["wios"] + 0 }')
		if [ "${io_nums% * *}" = "1048576 262144" ]; then
			pass "$rt io.stat: the bytes the container moved"
		else
			fail "$rt io.stat: the bytes the container moved" "io.stat line '$io', want rbytes=1048576 wbytes=262144"
		fi
		# diskstats: reads ($4), sectors read ($6), writes ($8), sectors written ($10).
		disk=$(echo "$out" | vm_section diskstats | awk -v n="$name" '$3 == n')
		disk_nums=$(echo "$disk" | awk '{ print $6 * 512, $10 * 512, $4, $8 }')
		if [ -n "$disk" ] && [ "$disk_nums" = "$io_nums" ]; then
			pass "$rt diskstats: $name from io.stat"
		else
			fail "$rt diskstats: $name from io.stat" "diskstats line '$disk' (bytes/ios $disk_nums), io.stat says $io_nums"
		fi
		others=$(echo "$out" | vm_section diskstats | awk -v n="$name" '$3 != n { print $3 }' | tr '\n' ' ')
		if [ -z "$others" ]; then
			pass "$rt diskstats: only the devices the container used"
		else
			fail "$rt diskstats: only the devices the container used" "also lists: $others"
		fi
	done
fi

# --- memory.swap.* ---------------------------------------------------------------
if ! grep -q '^/' /proc/swaps; then
	skip swap "the guest has no swap device"
else
	# OCI's "swap" is memory + swap: 192 MiB with a 128 MiB limit → 64 MiB swap.
	resources="\"memory\": {\"limit\": 134217728, \"swap\": 201326592}"
	# 160 MiB into tmpfs with 128 MiB of memory: at least ~32 MiB must go to swap.
	# The container then idles, so swap use is steady while the views are read.
	probe="dd if=/dev/zero of=/tmp/fill bs=1048576 count=160 2>/dev/null && sleep 1 &&
	  echo == swap.max && cat /sys/fs/cgroup/memory.swap.max &&
	  echo == before && cat /sys/fs/cgroup/memory.swap.current &&
	  echo == meminfo && cat /proc/meminfo && echo == swaps && cat /proc/swaps &&
	  echo == after && cat /sys/fs/cgroup/memory.swap.current"
	mounts="$(vm_bind meminfo)$(vm_bind swaps)"
	for rt in runc crun; do
		if ! out=$(vm_run "$rt" swap "$resources" "$mounts" "" "$probe"); then
			fail "$rt swap container" "exited non-zero; output: $(echo $out | cut -c1-200)"
			continue
		fi
		max=$(echo "$out" | vm_section swap.max)
		before=$(echo "$out" | vm_section before)
		after=$(echo "$out" | vm_section after)
		total=$(echo "$out" | vm_section meminfo | awk '$1 == "SwapTotal:" { print $2 }')
		free=$(echo "$out" | vm_section meminfo | awk '$1 == "SwapFree:" { print $2 }')
		memtotal=$(echo "$out" | vm_section meminfo | awk '$1 == "MemTotal:" { print $2 }')
		swaps=$(echo "$out" | vm_section swaps | awk 'NR == 2 { print $3, $4 }')
		if [ "$max" = 67108864 ] && [ "$memtotal" = 131072 ]; then
			pass "$rt memory.swap.max 64 MiB, MemTotal 128 MiB"
		else
			fail "$rt memory.swap.max 64 MiB, MemTotal 128 MiB" "memory.swap.max '$max', MemTotal '$memtotal' kB (runtime output: $(echo $out | cut -c1-200))"
		fi
		if [ "$total" = 65536 ]; then pass "$rt meminfo SwapTotal"; else fail "$rt meminfo SwapTotal" "'$total' kB, want 65536"; fi
		if [ -z "$before" ] || [ "$before" -lt 16777216 ]; then
			fail "$rt swap in use" "memory.swap.current '$before' after filling 160 MiB with 128 MiB of memory"
		elif [ "$before" != "$after" ]; then
			skip "$rt meminfo SwapFree, /proc/swaps" "swap use moved while reading ($before → $after bytes)"
		else
			used_kb=$((before / 1024))
			pass "$rt swap in use ($used_kb kB)"
			if [ "$free" = $((65536 - used_kb)) ]; then
				pass "$rt meminfo SwapFree"
			else
				fail "$rt meminfo SwapFree" "'$free' kB, want 65536 - $used_kb"
			fi
			if [ "$swaps" = "65536 $used_kb" ]; then
				pass "$rt /proc/swaps"
			else
				fail "$rt /proc/swaps" "size and used '$swaps', want '65536 $used_kb'"
			fi
		fi
	done
fi
vm_finish
