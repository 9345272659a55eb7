#!/usr/bin/env bash
# The cgroup v2 lane: boots Debian 12's own kernel under qemu with a pure
# cgroup v2 hierarchy and runs the project's integration and end-to-end tests
# inside it (see docs/vm-lane.md).
#
#   scripts/vm-test.sh                      # <repo>/build, tests from tests/vm/guest-tests.txt
#   scripts/vm-test.sh --build build-vm --timeout 900 --test-timeout 120 --keep
#   scripts/vm-test.sh -- 'sh /procview/tests/vm/v2_smoke.sh'   # run only these commands
#
# Exit 0 only if the guest printed its result marker with 0 failed; a panic,
# hang (timeout) or missing marker is a failure and prints the console tail.
# Exit 2 when a prerequisite is missing (run scripts/setup.sh --packages).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"

build="$root/build"
timeout_s=900
test_timeout_s=300
keep=0
guest_cmds=()
while (($#)); do
  case "$1" in
    --build) build="$2"; shift 2 ;;
    --build=*) build="${1#*=}"; shift ;;
    --timeout) timeout_s="$2"; shift 2 ;;
    --timeout=*) timeout_s="${1#*=}"; shift ;;
    --test-timeout) test_timeout_s="$2"; shift 2 ;;
    --test-timeout=*) test_timeout_s="${1#*=}"; shift ;;
    --keep) keep=1; shift ;;
    --) shift; guest_cmds=("$@"); break ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "vm-test: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$build" = /* ]] || build="$PWD/$build"

mem_mb="${PROCVIEW_VM_MEM:-2048}"
smp="${PROCVIEW_VM_SMP:-2}"
marker="PROCVIEW-VM-RESULT:"

die() { echo "vm-test: $*" >&2; exit 2; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { print b - a }'; }

# ---- prerequisites -------------------------------------------------------
kernel="${PROCVIEW_VM_KERNEL:-}"
if [[ -z "$kernel" ]]; then
  kernel="$(ls -1 /boot/vmlinuz-6.1.* 2>/dev/null | sort -V | tail -n1 || true)"
fi
[[ -n "$kernel" && -r "$kernel" ]] ||
  die "no readable Debian 12 kernel /boot/vmlinuz-6.1.* (apt-get install linux-image-amd64; reading it needs root)"
kver="${kernel##*/vmlinuz-}"
moddir="/lib/modules/$kver"
[[ -d "$moddir" ]] || die "no module directory $moddir for kernel $kernel"
qemu="$(command -v qemu-system-x86_64 || true)"
[[ -n "$qemu" ]] || die "qemu-system-x86_64 not found (apt-get install qemu-system-x86)"
for tool in cpio ldd strip; do
  command -v "$tool" >/dev/null || die "'$tool' not found"
done
busybox=/bin/busybox
file_is_static() { ! ldd "$1" >/dev/null 2>&1; }
[[ -x "$busybox" ]] && file_is_static "$busybox" || die "static busybox not found at $busybox (apt-get install busybox-static)"
runc="$(command -v runc || true)"; crun="$(command -v crun || true)"
[[ -n "$runc" && -n "$crun" ]] || die "runc and crun are both needed (apt-get install runc crun)"
[[ -d "$build" ]] || die "build directory $build does not exist (run scripts/setup.sh, or pass --build DIR)"

# Kernel modules the guest loads: FUSE for procviewfs; loop for block-device
# tests (io.stat, diskstats); brd gives the guest a RAM-disk swap device so
# memory.swap.* views have something real to show.
modules=()
for m in kernel/fs/fuse/fuse kernel/drivers/block/loop kernel/drivers/block/brd; do
  f=""
  for ext in .ko .ko.xz .ko.zst .ko.gz; do [[ -f "$moddir/$m$ext" ]] && { f="$moddir/$m$ext"; break; }; done
  [[ -n "$f" ]] || die "module $m not found under $moddir"
  modules+=("$f")
done

# Host tools (util-linux, fuse3) that are more complete than busybox's applets
# and that tests may call; each is copied with its shared libraries if present.
# procps's free, top, uptime and ps are the "real clients" the e2e tests
# point at the views (busybox's own applets format differently).
extra_tools=(mount umount mountpoint findmnt nsenter unshare losetup fusermount3 setsid
             free top uptime ps)

work="$(mktemp -d /tmp/pvvm-XXXXXX)"
cleanup() {
  if ((keep)); then echo "vm-test: kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
outdir="$build/vm"
mkdir -p "$outdir"
log="$outdir/console.log"

# Copies an executable or library to the same path under the staging root
# DEST, following symlinks, then every shared library ldd names for it.
copy_with_libs() {
  local dest="$1" src="$2" target="${3:-$2}" lib
  mkdir -p "$dest/$(dirname "$target")"
  cp -L "$src" "$dest/$target"
  # A static binary has no libraries: ldd fails, which pipefail must not turn into an exit.
  { ldd "$src" 2>/dev/null || true; } | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' |
    while read -r lib; do
      [[ -e "$dest$lib" ]] && continue
      mkdir -p "$dest/$(dirname "$lib")"
      cp -L "$lib" "$dest$lib"
    done
}

# Packs a staging root into a newc cpio. The kernel unpacks several
# concatenated archives in order, so a cached base plus a per-run project
# layer make one initramfs. Uncompressed: under TCG the guest gunzips at a
# few MB/s, and the whole run measured ~2 s faster without gzip.
pack() {
  (cd "$1" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) > "$2"
}

# ---- base layer: busybox, kernel modules, runtimes, tools (cached) --------
base_inputs() {
  echo "layout-v2 $kver"
  local f
  for f in "$busybox" "$runc" "$crun" "${modules[@]}"; do stat -L -c '%n %s %Y' "$f"; done
  for f in "${extra_tools[@]}"; do command -v "$f" >/dev/null && stat -L -c '%n %s %Y' "$(command -v "$f")"; done
  sed -n '/^# ---- base layer/,/^# ---- end base layer/p' "$0"
}
base_key="$(base_inputs | sha256sum | cut -c1-16)"
base="$outdir/base-$base_key.cpio"
t0=$(date +%s.%N)
if [[ ! -s "$base" ]]; then
  b="$work/base"
  mkdir -p "$b"/{bin,sbin,usr/bin,usr/sbin,lib,lib64,etc,dev,proc,sys,run,tmp,root,newroot,lib/modules}
  ln -s ../lib "$b/usr/lib"
  cp "$busybox" "$b/bin/busybox"
  for applet in $("$busybox" --list); do
    [[ -e "$b/bin/$applet" ]] || ln -s busybox "$b/bin/$applet"
  done
  for m in "${modules[@]}"; do
    name="$(basename "$m")"
    case "$name" in
      *.xz) xz -dc "$m" > "$b/lib/modules/${name%.xz}" ;;
      *.zst) zstd -qdc "$m" > "$b/lib/modules/${name%.zst}" ;;
      *.gz) gzip -dc "$m" > "$b/lib/modules/${name%.gz}" ;;
      *) cp "$m" "$b/lib/modules/$name" ;;
    esac
  done
  copy_with_libs "$b" "$runc"
  copy_with_libs "$b" "$crun"
  for t in "${extra_tools[@]}"; do
    p="$(command -v "$t" || true)"
    [[ -n "$p" ]] && copy_with_libs "$b" "$p"
  done
  # procps top needs a terminfo entry even in batch mode.
  for ti in /lib/terminfo/d/dumb /lib/terminfo/l/linux /lib/terminfo/v/vt100; do
    [[ -f "$ti" ]] && { mkdir -p "$b/$(dirname "$ti")"; cp "$ti" "$b/$ti"; }
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$b/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' > "$b/etc/group"
  echo pvvm > "$b/etc/hostname"
  : > "$b/etc/fstab"
  # The kernel opens /dev/console for /init before anything is mounted.
  mknod -m 600 "$b/dev/console" c 5 1 2>/dev/null || true
  pack "$b" "$base.tmp.$$" && mv -f "$base.tmp.$$" "$base"
  rm -rf "$b"
  find "$outdir" -maxdepth 1 -name 'base-*.cpio*' ! -name "base-$base_key.cpio" -delete
fi
# ---- end base layer ---------------------------------------------------------

# ---- project layer: /init, binaries from the build, test scripts ----------
p="$work/project"
mkdir -p "$p/procview/build" "$p/procview/tests"
install -m 755 "$root/tests/vm/init" "$p/init"
found=()
bin_dirs=()
for d in fusefs hook shim tests/integration tests/faults tests/e2e; do
  [[ -d "$build/$d" ]] && bin_dirs+=("$build/$d")
done
while IFS= read -r -d '' f; do
  [[ "$(head -c4 "$f")" == $'\x7fELF' ]] || continue
  rel="${f#"$build"/}"
  copy_with_libs "$p" "$f" "/procview/build/$rel"
  strip --strip-debug "$p/procview/build/$rel" 2>/dev/null || true
  found+=("$rel")
done < <(((${#bin_dirs[@]})) && find "${bin_dirs[@]}" -type f -perm -u+x ! -path '*/CMakeFiles/*' -print0)
for d in e2e integration vm fixtures; do
  [[ -d "$root/tests/$d" ]] && cp -a "$root/tests/$d" "$p/procview/tests/"
done
[[ -d "$root/config" ]] && cp -a "$root/config" "$p/procview/"
if ((${#guest_cmds[@]})); then
  printf '%s\n' "${guest_cmds[@]}" > "$p/procview/guest-tests.txt"
else
  cp "$root/tests/vm/guest-tests.txt" "$p/procview/guest-tests.txt"
fi
pack "$p" "$work/project.cpio"
cat "$base" "$work/project.cpio" > "$work/initramfs.cpio"
t1=$(date +%s.%N)
echo "vm-test: kernel $kernel; project binaries: ${found[*]:-none}"
printf 'vm-test: initramfs %s bytes (base %s, cached %s), built in %.1f s\n' \
  "$(stat -c %s "$work/initramfs.cpio")" "$(stat -c %s "$base")" "$base_key" "$(elapsed "$t0" "$t1")"

# ---- kernel: the uncompressed vmlinux when it can boot (cached) -------------
# Under TCG, unpacking the xz'd bzImage takes qemu's emulated CPU several
# seconds before the kernel even starts; qemu boots the uncompressed ELF
# directly through the kernel's PVH entry point (CONFIG_PVH), which is about
# twice as fast to /init. Falls back to the bzImage when that is not possible.
boot_kernel="$kernel"
vmlinux="$outdir/vmlinux-$kver"
if [[ ! -s "$vmlinux" ]] && command -v xz >/dev/null && command -v readelf >/dev/null; then
  off="$(LC_ALL=C grep -obUa $'\xfd7zXZ' "$kernel" | head -n1 | cut -d: -f1 || true)"
  # Not pipelines: xz and grep -q stop reading early, which pipefail counts as failure.
  if [[ -n "$off" ]] && xz -dc --single-stream < <(tail -c +"$((off + 1))" "$kernel") > "$vmlinux.tmp.$$" 2>/dev/null &&
     grep -q 'Xen.*0x00000012' <<<"$(readelf -n "$vmlinux.tmp.$$" 2>/dev/null)"; then
    mv -f "$vmlinux.tmp.$$" "$vmlinux"
    find "$outdir" -maxdepth 1 -name 'vmlinux-*' ! -name "vmlinux-$kver" -delete
  else
    rm -f "$vmlinux.tmp.$$"
  fi
fi
[[ -s "$vmlinux" ]] && boot_kernel="$vmlinux"
echo "vm-test: booting $boot_kernel"

# ---- boot ------------------------------------------------------------------
# Without KVM, qemu emulates the CPU (TCG). RDRAND lets the guest kernel
# seed its RNG at once; without it the first read of /dev/urandom or
# getrandom() (mkswap, runc's Go runtime) waits about a second for jitter
# entropy.
# KVM only when a probe guest boots under it (scripts/vm-accel.sh): /dev/kvm
# can be present under nested virtualisation and qemu still abort or hang.
accel_name="$("$here/vm-accel.sh" "$qemu" "$boot_kernel")" || die "cannot choose an accelerator"
accel=(-accel tcg -cpu "${PROCVIEW_VM_CPU:-qemu64,+rdrand}")
[[ "$accel_name" == kvm ]] && accel=(-accel kvm -cpu host)
cmdline="console=ttyS0 panic=-1 loglevel=4 cgroup_no_v1=all procview.test_timeout=$test_timeout_s"
set +e
timeout --kill-after=10 "$timeout_s" "$qemu" "${accel[@]}" -m "$mem_mb" -smp "$smp" \
  -nodefaults -no-reboot -display none -serial stdio -monitor none \
  -kernel "$boot_kernel" -initrd "$work/initramfs.cpio" -append "$cmdline" \
  </dev/null 2>&1 | tr -d '\r' | tee "$log"
status=("${PIPESTATUS[@]}")
set -e
t2=$(date +%s.%N)
printf 'vm-test: accelerator %s; guest ran %.1f s (total %.1f s); console log: %s\n' \
  "$accel_name" "$(elapsed "$t1" "$t2")" "$(elapsed "$t0" "$t2")" "$log"

result="$(grep -a "^$marker" "$log" | tail -n1 || true)"
if [[ "${status[0]}" -eq 124 || "${status[0]}" -eq 137 ]]; then
  echo "vm-test: FAIL: guest did not finish within ${timeout_s} s"
elif grep -aq 'Kernel panic' "$log"; then
  echo "vm-test: FAIL: kernel panic in the guest"
elif [[ -z "$result" ]]; then
  echo "vm-test: FAIL: guest printed no '$marker' line (qemu exit ${status[0]})"
else
  summary="${result#"$marker" }"
  printf 'vm-test: cgroup v2 lane under %s in %.0f s:\n' "$accel_name" "$(elapsed "$t0" "$t2")"
  echo "$summary"
  passed="$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\1/p' <<<"$summary")"
  failed="$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\2/p' <<<"$summary")"
  [[ "$failed" == 0 && "${passed:-0}" -gt 0 ]] && exit 0
  echo "vm-test: FAIL: the guest reported failures"
  grep -a -E '^(FAIL|PROCVIEW-VM-TEST-FAIL)' "$log" | head -n 40 || true
  exit 1
fi
echo "---- last 60 console lines ----"
tail -n 60 "$log"
exit 1
