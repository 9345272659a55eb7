#!/usr/bin/env bash
# Builds the procview node image's root filesystem from built binaries, so the
# image needs no base image: `podman import` / `docker import` of the tarball
# is runnable (tests), and deploy/image/Containerfile copies the same tree into
# a `FROM scratch` stage (users, from their registry).
#
#   deploy/image/build-rootfs.sh [--build-dir DIR] [--salt TEXT] OUTPUT
#     OUTPUT ending in .tar: a tarball; anything else: a directory (must not exist)
#     --salt TEXT goes into the release id's hash: a second build of the same
#     binaries that is another release (tests simulate a rollout with it)
#
# Layout (the DaemonSet and tests/deploy/manifests_test.py rely on these paths):
#   /opt/procview/releases/<id>/bin/{procviewfs,procview-hook,procview-runtime,procview-ctl}
#   /opt/procview/releases/<id>/lib/      every shared library they load, and ld.so
#   /opt/procview/releases/<id>/libexec/nsenter   util-linux's, for the host cgroup namespace
#   /opt/procview/releases/<id>/share/    hooks.d entry and default procview.json
#   /opt/procview/current -> releases/<id>
#   /entrypoint.sh, /bin/busybox (static) and its applets, /usr/bin/<program> symlinks
# The release is self-contained: each ELF file's interpreter is the release's
# own ld.so and its RUNPATH the release's lib/, so the copy the entrypoint
# installs on the host runs whatever the host's libraries are. <id> is the
# version plus a hash of the inputs: a new build never overwrites a release a
# running process uses, and the entrypoint switches `current` with one rename.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
src="$(cd "$here/../.." && pwd)"
build="$src/build"
salt=""
while [[ $# -gt 1 ]]; do
  case "$1" in
    --build-dir) build="$2"; shift 2 ;;
    --salt) salt="$2"; shift 2 ;;
    *) break ;;
  esac
done
[[ $# -eq 1 ]] || { echo "usage: $0 [--build-dir DIR] [--salt TEXT] OUTPUT(.tar|dir)" >&2; exit 2; }
out="$1"

# Where each program is built (CMake target directories).
declare -A programs=(
  [procviewfs]="$build/fusefs/procviewfs"
  [procview-hook]="$build/hook/procview-hook"
  [procview-runtime]="$build/shim/procview-runtime"
  [procview-ctl]="$build/ctl/procview-ctl"
)
for p in "${!programs[@]}"; do
  [[ -x "${programs[$p]}" ]] || { echo "build-rootfs: ${programs[$p]} is missing; build target $p first" >&2; exit 1; }
done
busybox="$(command -v busybox || true)"
file -L "$busybox" 2>/dev/null | grep -q 'statically linked' ||
  { echo "build-rootfs: a static busybox is needed (Debian: busybox-static)" >&2; exit 1; }
nsenter="$(command -v nsenter)"
command -v patchelf >/dev/null || { echo "build-rootfs: patchelf is needed (Debian: patchelf)" >&2; exit 1; }

version="$("${programs[procviewfs]}" --version | awk '{print $NF; exit}')"
inputs_hash="$({ cat "${programs[@]}" "$nsenter" "$here/entrypoint.sh" "$src/config/hooks.d/procview-hook.json"; printf '%s' "$salt"; } |
  sha256sum | cut -c1-12)"
id="$version-$inputs_hash"
rel="opt/procview/releases/$id"

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
root="$stage/root"
mkdir -p "$root/$rel/bin" "$root/$rel/lib" "$root/$rel/libexec" "$root/$rel/share/hooks.d" \
  "$root/bin" "$root/usr/bin" "$root/tmp" "$root/proc" "$root/sys" "$root/dev" "$root/run" \
  "$root/var/lib/procview" "$root/etc"

# Copies an ELF program and every library ldd names into the release.
copy_with_libs() {
  local from="$1" to="$2" lib
  cp -L "$from" "$to"
  { ldd "$from" 2>/dev/null || true; } | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' |
    while read -r lib; do
      [[ -e "$root/$rel/lib/$(basename "$lib")" ]] || cp -L "$lib" "$root/$rel/lib/"
    done
}
for p in "${!programs[@]}"; do copy_with_libs "${programs[$p]}" "$root/$rel/bin/$p"; done
copy_with_libs "$nsenter" "$root/$rel/libexec/nsenter"

# Debug information stays in the build tree: the image carries code only.
strip --strip-debug "$root/$rel"/bin/* "$root/$rel"/lib/*
interp="$(cd "$root/$rel/lib" && ls ld-linux* | head -n1)"
for f in "$root/$rel"/bin/* "$root/$rel/libexec/nsenter"; do
  patchelf --set-interpreter "/$rel/lib/$interp" --set-rpath "/$rel/lib" "$f"
done
for f in "$root/$rel"/lib/*.so*; do
  [[ "$(basename "$f")" == "$interp" ]] || patchelf --set-rpath "/$rel/lib" "$f"
done

# The hooks.d entry names the installed hook; everything else as shipped.
sed "s|\"path\": \"[^\"]*\"|\"path\": \"/opt/procview/current/bin/procview-hook\"|" \
  "$src/config/hooks.d/procview-hook.json" > "$root/$rel/share/hooks.d/procview-hook.json"
sed "s|\"hook_path\": \"[^\"]*\"|\"hook_path\": \"/opt/procview/current/bin/procview-hook\"|" \
  "$src/config/procview.json" > "$root/$rel/share/procview.json"
echo "$id" > "$root/$rel/share/release"

ln -s "releases/$id" "$root/opt/procview/current"
for p in "${!programs[@]}"; do ln -s "/opt/procview/current/bin/$p" "$root/usr/bin/$p"; done
cp -L "$busybox" "$root/bin/busybox"
for a in sh ash cat cp mv ln rm mkdir readlink sed grep ls sleep test [ echo stat chmod kill sha256sum cmp; do
  ln -s busybox "$root/bin/$a"
done
install -m 0755 "$here/entrypoint.sh" "$root/entrypoint.sh"
printf 'root:x:0:0:root:/:/bin/sh\n' > "$root/etc/passwd"
printf 'root:x:0:\n' > "$root/etc/group"

if [[ "$out" == *.tar ]]; then
  tar -C "$root" --numeric-owner --owner=0 --group=0 -cf "$out" .
else
  [[ ! -e "$out" ]] || { echo "build-rootfs: $out exists" >&2; exit 1; }
  mv "$root" "$out"
fi
echo "build-rootfs: release $id -> $out"
