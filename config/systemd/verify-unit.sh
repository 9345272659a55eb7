#!/bin/sh
# Checks procviewfs.service with `systemd-analyze verify` (syntax, directives,
# executables), pointing it at a built procviewfs instead of the installed one.
#   config/systemd/verify-unit.sh BUILD/fusefs/procviewfs
# Prints PASS/FAIL/SKIP lines and "N passed, N failed"; no systemd needs to run.
bin="${1:?usage: verify-unit.sh PATH/TO/procviewfs}"
unit="$(dirname "$0")/procviewfs.service"
if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "SKIP systemd-unit: systemd-analyze is not installed"
  echo "0 passed, 0 failed, 1 skipped"
  exit 0
fi
dir="$(mktemp -d /tmp/pvhard-unit.XXXXXX)"
trap 'rm -rf "$dir"' EXIT
sed "s|/usr/local/sbin/procviewfs|$bin|g" "$unit" > "$dir/procviewfs.service"
passed=0 failed=0
# verify prints nothing and exits 0 for a clean unit (run from $dir: it also
# loads units from the working directory).
out="$(cd "$dir" && systemd-analyze verify "$dir/procviewfs.service" 2>&1)"
if [ $? -eq 0 ] && [ -z "$out" ]; then
  echo "PASS systemd-unit: systemd-analyze verify is clean"; passed=$((passed + 1))
else
  echo "FAIL systemd-unit: $out"; failed=$((failed + 1))
fi
# The settings the restart design depends on.
for want in Type=notify NotifyAccess=all KillMode=process Restart=always RestartSec=100ms OOMScoreAdjust=-1000; do
  if grep -qx "$want" "$unit"; then
    echo "PASS systemd-unit: $want"; passed=$((passed + 1))
  else
    echo "FAIL systemd-unit: $want missing"; failed=$((failed + 1))
  fi
done
if grep -q '^ExecReload=.*--takeover' "$unit" && grep -q '^ExecStart=.* -f ' "$unit"; then
  echo "PASS systemd-unit: ExecStart in the foreground, ExecReload with --takeover"; passed=$((passed + 1))
else
  echo "FAIL systemd-unit: ExecStart -f / ExecReload --takeover"; failed=$((failed + 1))
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
