#!/bin/sh
# scripts/vm-accel.sh decides between KVM and TCG by trying KVM: checked here
# with fake qemu binaries (one that aborts the way qemu does under broken
# nested virtualisation, one that hangs without a console line, one that
# boots) and a stand-in KVM device. Needs no root and no real qemu.
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$(dirname "$here")")
. "$root/tests/e2e/lib.sh"
pv_begin vm-accel-probe
pv_tmpdir pvaccel
tmp=$PV_TMP
probe="$root/scripts/vm-accel.sh"

: >"$tmp/kvm"            # a writable "KVM device"
: >"$tmp/kernel"
cat >"$tmp/qemu-abort" <<'SH'
#!/bin/sh
echo "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69" >&2
kill -ABRT $$
SH
cat >"$tmp/qemu-hang" <<'SH'
#!/bin/sh
echo $$ >"$(dirname "$0")/hang.pid"
exec sleep 300
SH
# Boots only when asked for KVM, as the real probe asks.
cat >"$tmp/qemu-boot" <<'SH'
#!/bin/sh
case " $* " in *" -accel kvm "*) ;; *) echo "not asked for kvm: $*" >&2; exit 1 ;; esac
echo $$ >"$(dirname "$0")/boot.pid"
printf '[    0.000000] Linux version 6.1.0-fake (probe test)\n'
exec sleep 300
SH
cat >"$tmp/qemu-never-run" <<'SH'
#!/bin/sh
: >"$(dirname "$0")/never-run.ran"
exit 1
SH
chmod +x "$tmp"/qemu-*

# run_probe QEMU [VAR=VALUE...]: the probe's stdout in $out, stderr in $err.
run_probe() {
    _q=$1
    shift
    out=$(env PROCVIEW_VM_KVM_DEVICE="$tmp/kvm" PROCVIEW_VM_PROBE_SECONDS=3 "$@" \
        timeout 30 bash "$probe" "$tmp/$_q" "$tmp/kernel" 2>"$tmp/err")
    rc=$?
    err=$(cat "$tmp/err")
}
never_ran() { if [ -e "$tmp/never-run.ran" ]; then echo no; else echo yes; fi; }
gone() { ! kill -0 "$1" 2>/dev/null; }

run_probe qemu-abort
check "abort: falls back to tcg" "got '$out' rc $rc" [ "$out:$rc" = tcg:0 ]
case "$err" in
*"unusable"*"failed to set MSR"*) pass "abort: says why in one line" ;;
*) fail "abort: says why in one line" "stderr: $err" ;;
esac
check "abort: one line of explanation" "stderr has $(printf '%s\n' "$err" | wc -l) lines" \
    [ "$(printf '%s\n' "$err" | wc -l)" = 1 ]

run_probe qemu-hang
check "hang: falls back to tcg" "got '$out' rc $rc" [ "$out:$rc" = tcg:0 ]
case "$err" in
*"no sign of life in 3 s"*) pass "hang: says it timed out" ;;
*) fail "hang: says it timed out" "stderr: $err" ;;
esac
check "hang: the hung qemu was killed" "pid $(cat "$tmp/hang.pid" 2>/dev/null) still runs" \
    pv_wait_until 3 gone "$(cat "$tmp/hang.pid" 2>/dev/null || echo 0)"

run_probe qemu-boot
check "boot: uses kvm" "got '$out' rc $rc, stderr: $err" [ "$out:$rc" = kvm:0 ]
check "boot: the probe guest was stopped" "pid $(cat "$tmp/boot.pid" 2>/dev/null) still runs" \
    pv_wait_until 3 gone "$(cat "$tmp/boot.pid" 2>/dev/null || echo 0)"

run_probe qemu-never-run PROCVIEW_VM_KVM_DEVICE="$tmp/no-such-device"
check "no kvm device: tcg without a probe" "got '$out', ran: $(ls "$tmp")" \
    [ "$out:$(never_ran)" = tcg:yes ]
run_probe qemu-never-run PROCVIEW_VM_ACCEL=tcg
check "forced tcg: no probe" "got '$out'" [ "$out:$(never_ran)" = tcg:yes ]
run_probe qemu-never-run PROCVIEW_VM_ACCEL=kvm
check "forced kvm: no probe" "got '$out'" [ "$out:$(never_ran)" = kvm:yes ]
run_probe qemu-never-run PROCVIEW_VM_ACCEL=hvf
check "unknown accelerator: an error" "got '$out' rc $rc" [ "$out:$rc" = :2 ]

pv_finish
