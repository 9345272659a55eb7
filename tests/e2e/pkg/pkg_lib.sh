# Helpers for systemd_test.sh: the cached Debian 12 rootfs, the booted
# container, the reader inside it and the analysis of its log. Source after
# tests/e2e/lib.sh.

# The packages debootstrap adds to minbase: systemd as PID 1, and every
# runtime dependency of procview's .deb, so that it installs offline
# (the container has no network).
PKG_INCLUDE="systemd,systemd-sysv,dbus,fuse3,libfuse3-3,libspdlog1.10,libfmt9,libseccomp2,libtomlplusplus3,procps"
PKG_SUITE=bookworm
PKG_MIRROR=${PROCVIEW_DEBIAN_MIRROR:-http://deb.debian.org/debian}
PKG_CACHE_DIR=${PROCVIEW_TEST_CACHE:-/var/cache/procview-test}

# Prints the path of the cached rootfs tarball, creating it (debootstrap,
# a few minutes, needs Debian's mirror) when missing. The name carries a hash
# of what is in it: changing PKG_INCLUDE makes a new one.
pkg_cached_rootfs() {
    _key=$(printf '%s' "$PKG_SUITE minbase $PKG_INCLUDE" | sha256sum | cut -c1-12)
    _tar="$PKG_CACHE_DIR/$PKG_SUITE-systemd-$_key.tar"
    if [ ! -f "$_tar" ]; then
        pv_have debootstrap || { echo "debootstrap is not installed and $_tar is not cached" >&2; return 1; }
        mkdir -p "$PKG_CACHE_DIR" || return 1
        _stage=$(mktemp -d "$PKG_CACHE_DIR/stage-XXXXXX") || return 1
        echo "INFO creating $_tar with debootstrap (once; a few minutes)" >&2
        if debootstrap --variant=minbase --include="$PKG_INCLUDE" "$PKG_SUITE" "$_stage/rootfs" "$PKG_MIRROR" \
            >"$_stage/debootstrap.log" 2>&1 &&
            tar -C "$_stage/rootfs" -cf "$_tar.tmp.$$" . && mv "$_tar.tmp.$$" "$_tar"; then
            rm -rf "$_stage"
        else
            echo "debootstrap failed: $(tail -n 3 "$_stage/debootstrap.log" 2>/dev/null | tr '\n' ' ')" >&2
            rm -rf "$_stage" "$_tar.tmp.$$"
            return 1
        fi
    fi
    echo "$_tar"
}

# pin 'COMMAND': runs COMMAND with sh inside the container.
pin() { $PKG_PODMAN exec "$PKG_CTR" sh -c "$1"; }

# The unit's main pid inside the container (0 when it has none).
pkg_main_pid() { pin 'systemctl show -p MainPID --value procviewfs.service'; }

# True when the unit is active and /var/lib/procview serves.
pkg_serving() {
    pin '[ "$(systemctl is-active procviewfs.service)" = active ] &&
         [ -n "$(head -c 16 /var/lib/procview/proc/uptime 2>/dev/null)" ]'
}

# True when /var/lib/procview is a fuse.procviewfs mount in the container.
pkg_mounted() {
    pin "awk '{ for (i = 7; i <= NF; i++) if (\$i == \"-\") break
               if (\$5 == \"/var/lib/procview\" && \$(i + 1) == \"fuse.procviewfs\") f = 1 } END { exit !f }' /proc/1/mountinfo"
}

# pkg_start_reader N: pv-restart-reader in its own memory cgroup (limit
# 256 MiB), pid and mount namespace inside the container, with
# /var/lib/procview's meminfo and cpu/online bound over its /proc and /sys
# files; its log is $PKG_ROOTFS/var/tmp/reads-N.log. Waits for 50 reads.
pkg_start_reader() {
    pin "mkdir -p $PKG_CG_ROOT/pvreader-$1 && echo 268435456 >$PKG_CG_ROOT/pvreader-$1/$PKG_CG_LIMIT" || return 1
    $PKG_PODMAN exec -d "$PKG_CTR" sh -c "echo \$\$ >$PKG_CG_ROOT/pvreader-$1/cgroup.procs &&
        exec unshare -fpm --mount-proc sh -c 'mount --bind /var/lib/procview/proc/meminfo /proc/meminfo &&
            mount --bind /var/lib/procview/sys/devices/system/cpu/online /sys/devices/system/cpu/online &&
            exec pv-restart-reader loop /var/tmp/reads-$1.log 1000'" >/dev/null || return 1
    pv_wait_until 10 pkg_reads_at_least "$1" 50
}

pkg_reads_at_least() { [ -f "$PKG_ROOTFS/var/tmp/reads-$1.log" ] && [ "$(wc -l <"$PKG_ROOTFS/var/tmp/reads-$1.log")" -ge "$2" ]; }

# pkg_stop_reader N: kills every process of the reader's cgroup (only the
# reader is in it) and removes the cgroup.
pkg_stop_reader() {
    pin "d=$PKG_CG_ROOT/pvreader-$1; [ -d \$d ] || exit 0
         for i in 1 2 3 4 5 6 7 8 9 10; do
             p=\$(cat \$d/cgroup.procs); [ -z \"\$p\" ] && break
             kill -KILL \$p 2>/dev/null; sleep 0.2
         done; rmdir \$d"
}

# pkg_analyze LOG T0 T1 WANT: the reads of LOG that started at or after T0
# and ended by T1 (CLOCK_MONOTONIC ns, shared by the host and the
# container). Prints "READS FAILED GAP_MS LAST_OK ERRORS": failed = an error
# or a MemTotal other than WANT ("any": any number); gap = the longest time between two correct
# reads, counting from the last correct read before T0 and, when the reader
# has not recovered, up to T1; LAST_OK = 1 when the last read was correct;
# ERRORS = each distinct failed "MemTotal/cpus" field pair with its count.
pkg_analyze() {
    awk -v t0="$2" -v t1="$3" -v want="$4" '
        NF == 4 {
            ok = ($3 !~ /^E/ && $4 !~ /^E/ && (want == "any" || $3 == want))
            if ($1 < t0) { if (ok) last = $2; next }
            if ($2 > t1) next
            n++
            if (ok) { if (last && $2 - last > gap) gap = $2 - last; last = $2; lastok = 1 }
            else { failed++; e[$3 "/" $4]++; lastok = 0 }
        }
        END {
            if (!lastok && last && t1 - last > gap) gap = t1 - last
            list = ""
            for (k in e) list = list (list == "" ? "" : ",") k "x" e[k]
            printf "%d %d %d %d %s\n", n, failed, gap / 1000000, lastok, (list == "" ? "-" : list)
        }' "$1"
}
