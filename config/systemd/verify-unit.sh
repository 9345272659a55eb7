#!/bin/sh
# Checks procviewfs.service and procviewfs-containers.service with
# `systemd-analyze verify` (syntax, directives, executables), pointing them at
# a built procviewfs instead of the installed one, and that both keep the
# settings the restart design depends on (the second unit's header refers to
# the first's lifecycle: this is what keeps the two from drifting apart).
#   config/systemd/verify-unit.sh BUILD/fusefs/procviewfs
# Prints PASS/FAIL/SKIP lines and "N passed, N failed"; no systemd needs to run.
bin="${1:?usage: verify-unit.sh PATH/TO/procviewfs}"
if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "SKIP systemd-unit: systemd-analyze is not installed"
  echo "0 passed, 0 failed, 1 skipped"
  exit 0
fi
dir="$(mktemp -d /tmp/pvhard-unit.XXXXXX)"
trap 'rm -rf "$dir"' EXIT
passed=0 failed=0
pass() { echo "PASS systemd-unit: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL systemd-unit: $*"; failed=$((failed + 1)); }
for name in procviewfs.service procviewfs-containers.service; do
  unit="$(dirname "$0")/$name"
  sed "s|/usr/local/sbin/procviewfs|$bin|g" "$unit" > "$dir/$name"
  # verify prints nothing and exits 0 for a clean unit (run from $dir: it also
  # loads units from the working directory).
  out="$(cd "$dir" && systemd-analyze verify "$dir/$name" 2>&1)"
  if [ $? -eq 0 ] && [ -z "$out" ]; then pass "$name: systemd-analyze verify is clean"; else fail "$name: $out"; fi
  for want in Type=notify NotifyAccess=all KillMode=process Restart=always RestartSec=100ms OOMScoreAdjust=-1000 \
              StartLimitIntervalSec=0 LimitNOFILE=1048576; do
    if grep -qx "$want" "$unit"; then pass "$name: $want"; else fail "$name: $want missing"; fi
  done
  if grep -q '^ExecReload=.*--takeover' "$unit" && grep -q '^ExecStart=.* -f ' "$unit"; then
    pass "$name: ExecStart in the foreground, ExecReload with --takeover"
  else
    fail "$name: ExecStart -f / ExecReload --takeover"
  fi
done
# The per-container instance: --containers-only on the mountpoint the
# configuration's default hook.containers_mountpoint names.
c="$(dirname "$0")/procviewfs-containers.service"
if grep -q '^ExecStart=.* --containers-only .* /var/lib/procview-containers$' "$c" &&
   grep -q '^ExecReload=.* --containers-only .* /var/lib/procview-containers$' "$c"; then
  pass "procviewfs-containers.service: --containers-only on /var/lib/procview-containers"
else
  fail "procviewfs-containers.service: ExecStart/ExecReload must be --containers-only on /var/lib/procview-containers"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
