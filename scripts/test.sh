#!/usr/bin/env bash
# Runs the whole test suite from a fresh clone, as root on Debian 12:
#   1. installs packages and builds (scripts/setup.sh),
#   2. ctest: unit tests, procviewfs integration tests (real FUSE, real
#      cgroups), end-to-end tests (runc, crun, podman, containerd), the
#      benchmark smoke run,
#   3. the cgroup v2 lane: the integration and end-to-end tests again inside a
#      Debian 12 kernel booted with pure cgroup v2 under qemu,
#   4. the sanitizer and fuzzing lane (scripts/sanitize-test.sh), if present.
# Set PROCVIEW_SKIP_VM=1 or PROCVIEW_SKIP_SANITIZE=1 to leave a lane out.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
cd "$root"

"$here/setup.sh"

status=0
# Tests share the machine's cgroups and CPUs: run them one at a time.
ctest --test-dir "$root/build" --output-on-failure --timeout 900 || status=1

if [[ "${PROCVIEW_SKIP_VM:-0}" != 1 && -x "$here/vm-test.sh" ]]; then
  "$here/vm-test.sh" --build "$root/build" || status=1
fi
if [[ "${PROCVIEW_SKIP_SANITIZE:-0}" != 1 && -x "$here/sanitize-test.sh" ]]; then
  "$here/sanitize-test.sh" || status=1
fi
exit $status
