#!/bin/sh
# The node image built without a registry: deploy/image/build-rootfs.sh's
# tarball, `podman import`ed, runs its programs; run as the DaemonSet runs it
# (privileged, host pid and network, /dev/fuse, the mountpoint's directory
# bound rshared) it installs into a fake host root and serves the host through
# propagation; `podman stop` unmounts (procviewfs hands over on SIGTERM, but the
# keeper dies with the pod, so the entrypoint removes the mount with --unmount).
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
    umount -l "$tmp/mnt/procview" 2>/dev/null
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

# As the DaemonSet runs it. The mountpoint is a directory inside the bound
# volume: procviewfs refuses a mountpoint that is itself a bind mount until the
# keeper work lands (deploy/kubernetes/README.md).
mkdir -p "$tmp/mnt/procview" "$tmp/host/etc/containerd"
mount --bind "$tmp/mnt" "$tmp/mnt" && mount --make-rshared "$tmp/mnt"
pm run -d --name "$ctr" --privileged --pid host --network host --cgroupns private \
    --ulimit nofile=20000:20000 --ulimit nproc=1000:1000 \
    -v "$tmp/mnt:$tmp/mnt:rshared" -v "$tmp/host:/host" --device /dev/fuse \
    -e PROCVIEW_MOUNTPOINT="$tmp/mnt/procview" -e PROCVIEW_HOOKS_DIR= "$tag" >/dev/null 2>"$tmp/err" ||
    { fail "podman run the DaemonSet's way" "$(tail -n1 "$tmp/err")"; exit 1; }
i=0
until grep -q "^MemTotal:" "$tmp/mnt/procview/proc/meminfo" 2>/dev/null || [ $i -ge 100 ]; do sleep 0.1; i=$((i + 1)); done
served=false
if grep -q "^MemTotal:" "$tmp/mnt/procview/proc/meminfo" 2>/dev/null; then
    served=true
    pass "the pod's procviewfs serves the host's $tmp/mnt/procview ($((i * 100)) ms)"
else
    fail "serving through rshared propagation" "$(pm logs "$ctr" 2>&1 | tail -n3)"
fi
grep -q ' fuse.procviewfs ' /proc/self/mountinfo && awk -v m="$tmp/mnt/procview" '$5 == m' /proc/self/mountinfo | grep -q fuse.procviewfs &&
    pass "the mount is in the host's mount table" || fail "host mount table" "no fuse.procviewfs at $tmp/mnt/procview"
b="$(cat "$tmp/host/etc/containerd/conf.d/procview.toml" 2>/dev/null | grep BinaryName)"
[ -x "$tmp/host/opt/procview/current/bin/procview-runtime" ] && [ -n "$b" ] &&
    pass "installed on the host: $b" || fail "install on the host" "$(pm logs "$ctr" 2>&1 | tail -n3)"
pm stop -t 10 "$ctr" >/dev/null 2>&1
if [ "$served" != true ]; then
    fail "SIGTERM" "not checked: the pod never served"
elif awk -v m="$tmp/mnt/procview" '$5 == m' /proc/self/mountinfo | grep -q .; then
    fail "SIGTERM" "the mount is still there after podman stop"
else
    pass "podman stop unmounts (the entrypoint runs procviewfs --unmount: the keeper dies with the pod)"
fi
echo "$fails failed"
[ "$fails" = 0 ]
