# procview-ctl configure containerd over a node's config.toml with settings
# of its own, checked by containerd itself: `containerd --config F config
# dump` (no daemon needed) must show runtime procview with its BinaryName,
# annotations and default, and the user's settings intact (containerd 1.6
# replaces a whole plugin section on import, so the drop-in has to carry
# them). Then: a second configure changes nothing, --dry-run writes nothing,
# remove gives back config.toml byte for byte, over `containerd config
# default`'s full file the dump changes by the runtime alone, and a
# config.toml that does not parse is refused with nothing written.
#   sh containerd_test.sh PROCVIEW_CTL
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/ctl_lib.sh"
CTL=$1
pv_begin ctl-containerd
pv_have containerd || pv_skip_all "containerd is not installed"
pv_tmpdir pvctl-containerd
T=$PV_TMP
C=$T/etc/containerd
CRI='plugins."io.containerd.grpc.v1.cri"'
RT="$CRI.containerd.runtimes.procview"
mkdir -p "$C"
cat >"$C/config.toml" <<TOML
# this node's containerd
version = 2
root = "$T/root"
state = "$T/state"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "example/pause:3.9"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
    SystemdCgroup = true

[debug]
  level = "debug"
TOML
cp "$C/config.toml" "$T/original.toml"
dump() { containerd --config "$C/config.toml" config dump >"$T/dump.toml" 2>"$T/dump.err"; }

# ---- --dry-run --------------------------------------------------------------
files_under "$T/etc" >"$T/before"
"$CTL" --root "$T" configure containerd --dry-run >"$T/dry.out" 2>&1
status=$?
check "dry-run: exit 0 and a diff adding the import" "status $status: $(cat "$T/dry.out")" \
    sh -c "[ $status -eq 0 ] && grep -q '^+imports = \[ \"$C/conf.d/procview.toml\" \]' '$T/dry.out'"
files_under "$T/etc" >"$T/after"
check "dry-run: nothing written" "$(diff "$T/before" "$T/after")" cmp -s "$T/before" "$T/after"

# ---- configure, checked by containerd ----------------------------------------
"$CTL" --root "$T" configure containerd --set-as-default --runtime-path /opt/pv/procview-runtime >"$T/out" 2>&1
status=$?
check "configure: exit 0" "status $status: $(cat "$T/out")" [ $status -eq 0 ]
dump
check "containerd parses the result" "$(cat "$T/dump.err")" [ -s "$T/dump.toml" ]
check "dump: imports names the drop-in" "$(grep '^imports' "$T/dump.toml")" \
    grep -q "^imports = .*\"$C/conf.d/procview.toml\"" "$T/dump.toml"
check_value() {  # NAME SECTION KEY EXPECTED
    _got=$(toml_value "$2" "$3" "$T/dump.toml")
    check "$1" "$3 = $_got, wanted $4" [ "$_got" = "$4" ]
}
check_value "dump: runtime procview is a runc v2 runtime" "$RT" runtime_type '"io.containerd.runc.v2"'
check_value "dump: BinaryName is procview-runtime" "$RT.options" BinaryName '"/opt/pv/procview-runtime"'
check_value "dump: pod annotations pass procview.io/*" "$RT" pod_annotations '["procview.io/*"]'
check_value "dump: container annotations pass procview.io/*" "$RT" container_annotations '["procview.io/*"]'
check_value "dump: the runtime keeps runc's cgroup driver" "$RT.options" SystemdCgroup true
check_value "dump: procview is the default runtime" "$CRI.containerd" default_runtime_name '"procview"'
check_value "dump: the user's sandbox_image is kept" "$CRI" sandbox_image '"example/pause:3.9"'
check_value "dump: the user's runc options are kept" "$CRI.containerd.runtimes.runc.options" SystemdCgroup true
check_value "dump: the user's debug level is kept" debug level '"debug"'
check_value "dump: the user's root is kept" "" root "\"$T/root\""
check "config.toml: the user's comment is kept" "" grep -q "^# this node's containerd" "$C/config.toml"
backups=$(find "$C" -maxdepth 1 -name "config.toml.procview-backup-*" | wc -l)
check "configure: one backup of config.toml, as it was" "$backups backups" \
    sh -c "[ $backups -eq 1 ] && cmp -s '$T/original.toml' $C/config.toml.procview-backup-*"

# ---- twice -------------------------------------------------------------------
files_under "$T/etc" >"$T/before"
"$CTL" --root "$T" configure containerd --set-as-default --runtime-path /opt/pv/procview-runtime >"$T/out2" 2>&1
check "configure again: already configured" "$(cat "$T/out2")" grep -qx "containerd: already configured" "$T/out2"
files_under "$T/etc" >"$T/after"
check "configure again: no file touched, no new backup" "$(diff "$T/before" "$T/after")" cmp -s "$T/before" "$T/after"

# ---- remove --------------------------------------------------------------------
"$CTL" --root "$T" remove containerd >"$T/rm.out" 2>&1
status=$?
check "remove: exit 0" "status $status: $(cat "$T/rm.out")" [ $status -eq 0 ]
check "remove: config.toml byte for byte as before" "$(diff "$T/original.toml" "$C/config.toml")" \
    cmp -s "$T/original.toml" "$C/config.toml"
check "remove: the drop-in is gone" "" [ ! -e "$C/conf.d/procview.toml" ]
dump
check "remove: containerd has no procview runtime" "" sh -c "! grep -q 'runtimes.procview' '$T/dump.toml'"
check_value "remove: the default is runc again" "$CRI.containerd" default_runtime_name '"runc"'
check_value "remove: sandbox_image still the user's" "$CRI" sandbox_image '"example/pause:3.9"'
"$CTL" --root "$T" remove containerd >"$T/rm2.out" 2>&1
check "remove again: already removed" "$(cat "$T/rm2.out")" grep -qx "containerd: already removed" "$T/rm2.out"

# ---- containerd's full default config: the dump gains the runtime, nothing else changes ----
# without_procview: the dump minus `imports` and the runtimes.procview tables.
without_procview() {
    awk '/^[ \t]*\[/ { skip = index($0, "runtimes.procview") > 0 } !skip && !/^imports = /' "$1"
}
containerd config default >"$C/config.toml"
dump && cp "$T/dump.toml" "$T/default-before.toml"
"$CTL" --root "$T" configure containerd >"$T/default.out" 2>&1
dump
check "default config: runtime procview is there" "$(cat "$T/default.out")" \
    [ "$(toml_value "$RT.options" BinaryName "$T/dump.toml")" = '"/usr/bin/procview-runtime"' ]
without_procview "$T/default-before.toml" >"$T/a"
without_procview "$T/dump.toml" >"$T/b"
check "default config: every other setting of the dump is unchanged" "$(diff "$T/a" "$T/b")" cmp -s "$T/a" "$T/b"

# ---- a config.toml that does not parse -------------------------------------------
printf 'version = 2\n[debug\n' >"$C/config.toml"
files_under "$T/etc" >"$T/before"
"$CTL" --root "$T" configure containerd >"$T/bad.out" 2>&1
status=$?
check "unparsable config.toml: exit 1 naming the file and line" "status $status: $(cat "$T/bad.out")" \
    sh -c "[ $status -eq 1 ] && grep -q '$C/config.toml: line 2' '$T/bad.out'"
files_under "$T/etc" >"$T/after"
check "unparsable config.toml: nothing written" "$(diff "$T/before" "$T/after")" cmp -s "$T/before" "$T/after"

pv_finish
