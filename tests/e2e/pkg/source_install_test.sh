# The README's "From source" install, as written there: `cmake --install
# build` (here into a DESTDIR, so the host is left alone) puts every program,
# the hooks.d entry, the systemd unit and the config where the README says,
# each naming the others by their installed paths; a second install keeps an
# edited config; then the README's `procview-ctl configure docker
# --runtime-path /usr/local/bin/procview-runtime` registers that binary.
#   sh source_install_test.sh BUILD_DIR
. "$(dirname "$0")/../lib.sh"
pv_begin install-source

build=${1:-}
[ -n "$build" ] && [ -f "$build/cmake_install.cmake" ] || pv_skip_all "no build directory given: '$build'"
pv_have cmake || pv_skip_all "cmake is not installed"
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")
[ "$prefix" = /usr/local ] || pv_skip_all "the build's install prefix is $prefix, the README documents /usr/local"
src=$(cd "$(dirname "$0")/../../.." && pwd)
pv_tmpdir pvinstall
root=$PV_TMP/root

DESTDIR=$root cmake --install "$build" >"$PV_TMP/install.log" 2>&1
check "cmake --install: exit 0" "$(tail -n 5 "$PV_TMP/install.log")" [ $? -eq 0 ]

version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
for program in sbin/procviewfs bin/procview-runtime bin/procview-ctl libexec/procview/procview-hook; do
    file=$root/usr/local/$program
    check "installed: /usr/local/$program" "missing" [ -x "$file" ]
    "$file" --version >"$PV_TMP/version.out" 2>&1
    check "runs: /usr/local/$program --version names $version" "$(head -n 3 "$PV_TMP/version.out")" \
        grep -q "^procview[a-z-]* \(version \)\?$version" "$PV_TMP/version.out"
done

hook_json=$root/etc/containers/oci/hooks.d/procview-hook.json
check "hooks.d entry in the administrator's directory" "missing" [ -f "$hook_json" ]
check "hooks.d entry names the installed hook" "$(cat "$hook_json" 2>/dev/null)" \
    grep -q '"path": "/usr/local/libexec/procview/procview-hook"' "$hook_json"

unit=$root/etc/systemd/system/procviewfs.service
check "systemd unit installed" "missing" [ -f "$unit" ]
check "systemd unit starts the installed daemon" "$(grep '^Exec' "$unit" 2>/dev/null)" \
    sh -c "grep -q '^ExecStart=/usr/local/sbin/procviewfs' '$unit' && ! grep -q '^Exec[A-Za-z]*=/usr/sbin/' '$unit'"

config=$root/etc/procview/procview.json
check "config installed as shipped" "$(diff "$src/config/procview.json" "$config" 2>&1)" \
    cmp -s "$src/config/procview.json" "$config"
echo '{"mountpoint": "/srv/procview"}' >"$config"
DESTDIR=$root cmake --install "$build" >"$PV_TMP/install2.log" 2>&1
check "a second install keeps the administrator's config" "$(cat "$config")" \
    grep -q '/srv/procview' "$config"

mkdir -p "$PV_TMP/node/etc/docker"
echo '{"log-level": "warn"}' >"$PV_TMP/node/etc/docker/daemon.json"
"$root/usr/local/bin/procview-ctl" --root "$PV_TMP/node" configure docker \
    --runtime-path /usr/local/bin/procview-runtime >"$PV_TMP/ctl.log" 2>&1
check "procview-ctl configure docker --runtime-path: exit 0" "$(cat "$PV_TMP/ctl.log")" [ $? -eq 0 ]
check "daemon.json registers the installed runtime, keeps log-level" "$(cat "$PV_TMP/node/etc/docker/daemon.json")" \
    sh -c "grep -q '\"path\": \"/usr/local/bin/procview-runtime\"' '$PV_TMP/node/etc/docker/daemon.json' &&
           grep -q '\"log-level\": \"warn\"' '$PV_TMP/node/etc/docker/daemon.json'"
pv_finish
