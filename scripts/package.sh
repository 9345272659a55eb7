#!/usr/bin/env bash
# Builds the Debian package procview_<version>_amd64.deb into build-pkg/
# from the CMake install rules (cpack -G DEB; see packaging/debian.cmake):
# binaries under /usr, the hooks.d entry in /usr/share/containers/oci/hooks.d,
# /etc/procview/procview.json as a conffile, procviewfs.service in
# /lib/systemd/system, enabled and started by postinst.
#   scripts/package.sh                    # version: CMake's project VERSION
#   scripts/package.sh --version 0.1.1    # another version (the upgrade test)
#   scripts/package.sh --out DIR          # build directory (default build-pkg)
# Prints the path of the .deb on its last line.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
version="" out="$root/build-pkg"
while (($#)); do
  case "$1" in
  --version) version="${2:?--version needs a value}"; shift 2 ;;
  --out) out="${2:?--out needs a directory}"; shift 2 ;;
  *) echo "usage: $0 [--version X.Y.Z] [--out DIR]" >&2; exit 2 ;;
  esac
done
command -v dpkg-shlibdeps >/dev/null || { echo "package: dpkg-shlibdeps missing (apt-get install dpkg-dev)" >&2; exit 1; }

export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$root}" CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-1}"
# Empty --version: back to the project's own (a previous run may have cached another).
cmake -S "$root" -B "$out" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=/usr \
  -DPROCVIEW_SYSTEMD_UNIT_DIR=/lib/systemd/system -DCMAKE_SKIP_INSTALL_ALL_DEPENDENCY=ON \
  -UPROCVIEW_PACKAGE_VERSION ${version:+-DPROCVIEW_PACKAGE_VERSION="$version"} >/dev/null
# Only what is installed: the tests and benchmarks are not part of the package.
targets=(procviewfs procview-hook procview-runtime)
help="$(cmake --build "$out" --target help)"  # procview-ctl is built only where toml++ is
[[ "$help" == *" procview-ctl"* ]] && targets+=(procview-ctl)
cmake --build "$out" -j"$(nproc)" --target "${targets[@]}"
(cd "$out" && cpack -G DEB >cpack.log 2>&1) || { cat "$out/cpack.log" >&2; exit 1; }
deb="$(sed -n 's/^CPack: - package: \(.*\.deb\) generated\.$/\1/p' "$out/cpack.log" | tail -n 1)"
[[ -f "$deb" ]] || { cat "$out/cpack.log" >&2; exit 1; }
echo "$deb"
