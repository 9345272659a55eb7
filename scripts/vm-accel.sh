#!/usr/bin/env bash
# Chooses qemu's accelerator for the cgroup v2 lane by trying it, not by the
# presence of /dev/kvm: under nested virtualisation /dev/kvm can exist and
# qemu still abort ("failed to set MSR ...") or boot a guest that never
# prints a line.
#
#   scripts/vm-accel.sh QEMU KERNEL      # prints "kvm" or "tcg" on stdout
#
# One line on stderr says what was chosen and why. Environment:
#   PROCVIEW_VM_ACCEL=kvm|tcg|auto   force an accelerator (default auto: probe)
#   PROCVIEW_VM_PROBE_SECONDS=N      how long the KVM guest has to show life (10)
#   PROCVIEW_VM_KVM_DEVICE=PATH      the KVM device to look for (/dev/kvm)
# The probe boots KERNEL under KVM with no initramfs and waits for the kernel's
# first console line ("Linux version"); qemu is killed (by pid) either way.
set -euo pipefail

qemu="${1:?usage: vm-accel.sh QEMU KERNEL}"
kernel="${2:?usage: vm-accel.sh QEMU KERNEL}"
forced="${PROCVIEW_VM_ACCEL:-auto}"
probe_seconds="${PROCVIEW_VM_PROBE_SECONDS:-10}"
kvm_device="${PROCVIEW_VM_KVM_DEVICE:-/dev/kvm}"

say() { echo "vm-accel: $*" >&2; }

case "$forced" in
  kvm|tcg) say "$forced (forced by PROCVIEW_VM_ACCEL)"; echo "$forced"; exit 0 ;;
  auto|"") ;;
  *) say "PROCVIEW_VM_ACCEL must be kvm, tcg or auto, not '$forced'"; exit 2 ;;
esac
[[ "$probe_seconds" =~ ^[0-9]+$ && "$probe_seconds" -gt 0 ]] ||
  { say "PROCVIEW_VM_PROBE_SECONDS must be a positive integer, not '$probe_seconds'"; exit 2; }

if [[ ! -w "$kvm_device" ]]; then
  say "tcg ($kvm_device is not there or not writable)"
  echo tcg
  exit 0
fi

dir="$(mktemp -d /tmp/pvvm-probe-XXXXXX)"
runner_pid=""
finish() {
  if [[ -n "$runner_pid" ]]; then
    # The runner writes qemu's pid just after starting it.
    for _ in $(seq 50); do [[ -s "$dir/pid" ]] && break; sleep 0.02; done
    [[ -s "$dir/pid" ]] && { kill -KILL "$(cat "$dir/pid")" 2>/dev/null || true; }
    wait "$runner_pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
}
trap finish EXIT

# qemu runs under a subshell that records its pid and exit status; the
# subshell's stderr is discarded so that bash's "Aborted" job report about
# qemu does not reach ours (qemu's own stderr is kept in a file).
(
  "$qemu" -accel kvm -cpu host -m 256 -smp 1 -nodefaults -no-reboot -display none \
    -serial stdio -monitor none -kernel "$kernel" -append "console=ttyS0 panic=-1 loglevel=4" \
    </dev/null >"$dir/console" 2>"$dir/stderr" &
  echo $! >"$dir/pid"
  rc=0
  wait $! || rc=$?
  echo "$rc" >"$dir/rc"
) 2>/dev/null &
runner_pid=$!

start=$(date +%s%N)
deadline=$((start + probe_seconds * 1000000000))
while :; do
  if grep -aq 'Linux version' "$dir/console"; then
    ms=$((($(date +%s%N) - start) / 1000000))
    say "kvm (a probe guest printed its first console line after $ms ms)"
    echo kvm
    exit 0
  fi
  if [[ -s "$dir/rc" ]]; then
    rc="$(cat "$dir/rc")"
    why="$(grep -a -m1 . "$dir/stderr" | cut -c1-160 || true)"
    say "tcg (KVM is present but unusable: qemu exited $rc${why:+: $why})"
    echo tcg
    exit 0
  fi
  if (($(date +%s%N) >= deadline)); then
    say "tcg (KVM is present but a probe guest showed no sign of life in ${probe_seconds} s)"
    echo tcg
    exit 0
  fi
  sleep 0.1
done
