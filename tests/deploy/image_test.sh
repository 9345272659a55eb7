#!/bin/sh
# The node image built without a registry: deploy/image/build-rootfs.sh's
# tarball, `podman import`ed, runs its programs; run as the DaemonSet runs it
# (privileged, host pid and network, /dev/fuse, the mountpoint's directory
# bound rshared) it installs into a fake host root and serves the host through
# propagation on the volume itself; `podman stop` hands over (the keeper left
# the pod's cgroup and keeps the mount served); the image's `uninstall` removes
# the mount and the keeper. tests/e2e/docker/daemonset_test.sh runs the whole
# lifecycle (rollout, crash, SIGTERM, app readers) under a private dockerd.
#   sh tests/deploy/image_test.sh SOURCE_DIR BUILD_DIR
# The image is removed at the end, and every mount and temp dir.
src="$1"
build="$2"
fails=0
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; fails=$((fails + 1)); }
skip() { echo "SKIP deploy-image: $1"; exit 0; }

[ "$(id -u)" = 0 ] || skip "needs root (podman import/run as root)"
command -v podman >/dev/null || skip "podman not installed"
command -v patchelf >/dev/null || skip "patchelf not installed (scripts/apt-packages.txt)"
[ -c /dev/fuse ] || skip "no /dev/fuse"

tmp="$(mktemp -d)"
tag="localhost/procview-node-test:$$"
ctr="procview-node-test-$$"
pm() { podman --runtime runc --cgroup-manager cgroupfs "$@"; }
cleanup() {
    pm rm -f "$ctr" >/dev/null 2>&1
    umount -l "$mp" 2>/dev/null
    umount -l "$tmp/mnt" 2>/dev/null
    pm rmi -f "$tag" >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT

"$src/deploy/image/build-rootfs.sh" --build-dir "$build" "$tmp/rootfs.tar" >/dev/null ||
    { echo "FAIL build-rootfs.sh"; exit 1; }
pm import --change 'ENTRYPOINT ["/entrypoint.sh"]' --change 'CMD ["run"]' "$tmp/rootfs.tar" "$tag" >/dev/null 2>&1 || skip "podman cannot import here"
# runc here refuses podman's default rlimits above the hard limit: set them.
run="run --rm --network none --ulimit nofile=20000:20000 --ulimit nproc=1000:1000"
want="$("$build/fusefs/procviewfs" --version)"
# shellcheck disable=SC2086
got="$(pm $run "$tag" /usr/bin/procviewfs --version 2>"$tmp/err")" ||
    skip "podman cannot run the image here: $(tail -n1 "$tmp/err")"
[ "$got" = "$want" ] && pass "procviewfs --version in the image: $got" || fail "procviewfs --version" "'$got' != '$want'"
# shellcheck disable=SC2086
got="$(pm $run "$tag" /usr/bin/procview-ctl --help | head -n1)"
case "$got" in "usage: procview-ctl configure ENGINE"*) pass "procview-ctl --help in the image" ;;
    *) fail "procview-ctl --help" "$got" ;; esac
# shellcheck disable=SC2086
got="$(pm $run "$tag" /usr/bin/procview-hook --help 2>&1 | head -n1)"
case "$got" in "usage: procview-hook"*) pass "procview-hook --help in the image" ;; *) fail "procview-hook --help" "$got" ;; esac

# As the DaemonSet runs it, the mountpoint being the volume itself. The keeper
# joins the namespaces of this shell (pid 1's may not be ours to open here).
mkdir -p "$tmp/mnt" "$tmp/host/etc/containerd"
mount --bind "$tmp/mnt" "$tmp/mnt" && mount --make-rshared "$tmp/mnt"
mp="$tmp/mnt"
kcg="pvimg-keeper-$$"
trap '"$build/fusefs/procviewfs" --unmount "$mp" >/dev/null 2>&1; cleanup; for c in /sys/fs/cgroup/$kcg /sys/fs/cgroup/*/$kcg; do rmdir "$c" 2>/dev/null; done' EXIT
trap 'exit 1' INT TERM
pm run -d --name "$ctr" --privileged --pid host --network host --cgroupns private \
    --ulimit nofile=20000:20000 --ulimit nproc=1000:1000 \
    -v "$tmp/mnt:$tmp/mnt:rshared" -v "$tmp/host:/host" -v /run/procview:/run/procview --device /dev/fuse \
    -e PROCVIEW_MOUNTPOINT="$mp" -e PROCVIEW_HOOKS_DIR= -e PROCVIEW_KEEPER_CGROUP="$kcg" -e PROCVIEW_HOST_PID=$$ \
    "$tag" >/dev/null 2>"$tmp/err" ||
    { fail "podman run the DaemonSet's way" "$(tail -n1 "$tmp/err")"; exit 1; }
i=0
until grep -q "^MemTotal:" "$mp/proc/meminfo" 2>/dev/null || [ $i -ge 100 ]; do sleep 0.1; i=$((i + 1)); done
served=false
if grep -q "^MemTotal:" "$mp/proc/meminfo" 2>/dev/null; then
    served=true
    pass "the pod's procviewfs serves the host's $mp ($((i * 100)) ms)"
else
    fail "serving through rshared propagation" "$(pm logs "$ctr" 2>&1 | tail -n3)"
fi
grep -q ' fuse.procviewfs ' /proc/self/mountinfo && awk -v m="$mp" '$5 == m' /proc/self/mountinfo | grep -q fuse.procviewfs &&
    pass "the mount is in the host's mount table" || fail "host mount table" "no fuse.procviewfs at $mp"
b="$(cat "$tmp/host/etc/containerd/conf.d/procview.toml" 2>/dev/null | grep BinaryName)"
[ -x "$tmp/host/opt/procview/current/bin/procview-runtime" ] && [ -n "$b" ] &&
    pass "installed on the host: $b" || fail "install on the host" "$(pm logs "$ctr" 2>&1 | tail -n3)"
pm stop -t 10 "$ctr" >/dev/null 2>&1
pm rm -f "$ctr" >/dev/null 2>&1
if [ "$served" != true ]; then
    fail "SIGTERM" "not checked: the pod never served"
elif awk -v m="$mp" '$5 == m' /proc/self/mountinfo | grep -q fuse.procviewfs &&
    [ -n "$(grep -l ":/$kcg\$" /proc/[0-9]*/cgroup 2>/dev/null)" ]; then
    # (No read here: with no daemon attached it waits in the kernel for the next one.)
    pass "podman stop + rm hands over: the keeper, in cgroup $kcg, still holds $mp"
else
    fail "SIGTERM" "$mp or its keeper is gone after podman stop: $(cat /run/procview/keeper/*.log 2>/dev/null | grep -F "$mp" | tail -n 3)"
fi
pm run --rm --privileged --pid host --network host --ulimit nofile=20000:20000 --ulimit nproc=1000:1000 \
    -v "$tmp/host:/host" -v /run/procview:/run/procview -e PROCVIEW_MOUNTPOINT="$mp" -e PROCVIEW_HOOKS_DIR= \
    "$tag" uninstall >"$tmp/uninstall.out" 2>&1
if awk -v m="$mp" '$5 == m' /proc/self/mountinfo | grep -q fuse.procviewfs; then
    fail "uninstall" "still mounted: $(cat "$tmp/uninstall.out")"
elif [ -e "$tmp/host/opt/procview" ]; then
    fail "uninstall" "$tmp/host/opt/procview is left"
else
    pass "the image's uninstall removes the mount, its keeper and the release"
fi
echo "$fails failed"
[ "$fails" = 0 ]
