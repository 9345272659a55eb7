# procview-ctl configure docker over a daemon.json with settings of its own:
# every other key survives (checked with a JSON parser), runtimes.procview
# is {"path": ..., "runtimeArgs": ["--procview-enable"]}, default-runtime
# follows --set-as-default, a second run changes nothing, remove gives the
# original settings back, bad JSON is refused with nothing written. When
# dockerd has --validate (Docker >= 23) it checks the file too; Debian 12's
# dockerd 20.10 has not, and that check is skipped (no daemon is started).
#   sh docker_test.sh PROCVIEW_CTL
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/ctl_lib.sh"
CTL=$1
pv_begin ctl-docker
pv_have python3 || pv_skip_all "python3 is needed to read daemon.json"
pv_tmpdir pvctl-docker
T=$PV_TMP
D=$T/etc/docker/daemon.json
mkdir -p "$T/etc/docker"
cat >"$D" <<'JSON'
{
  "log-level": "warn",
  "storage-driver": "vfs",
  "runtimes": {"crun": {"path": "/usr/bin/crun"}},
  "default-ulimits": {"nofile": {"Name": "nofile", "Hard": 64000, "Soft": 64000}}
}
JSON
chmod 600 "$D"
cp "$D" "$T/original.json"

# json_check PYTHON-EXPRESSION: true when it holds for d = the parsed daemon.json
# and o = the original.
json_check() {
    python3 -c "import json, sys
d = json.load(open(sys.argv[1])); o = json.load(open(sys.argv[2]))
sys.exit(0 if ($1) else 1)" "$D" "$T/original.json"
}

"$CTL" --root "$T" configure docker --set-as-default >"$T/out" 2>&1
status=$?
check "configure: exit 0" "status $status: $(cat "$T/out")" [ $status -eq 0 ]
check "runtimes.procview is procview-runtime, opted in" "$(cat "$D")" \
    json_check 'd["runtimes"]["procview"] == {"path": "/usr/bin/procview-runtime", "runtimeArgs": ["--procview-enable"]}'
check "default-runtime is procview" "$(cat "$D")" json_check 'd["default-runtime"] == "procview"'
check "every other key survives" "$(cat "$D")" \
    json_check 'all(d[k] == o[k] for k in o if k != "runtimes") and d["runtimes"]["crun"] == o["runtimes"]["crun"]'
check "nothing else was added" "$(cat "$D")" json_check 'set(d) == set(o) | {"default-runtime"}'
check "the file keeps its mode 600" "$(stat -c %a "$D")" [ "$(stat -c %a "$D")" = 600 ]
if dockerd --help 2>&1 | grep -q -- '--validate'; then
    dockerd --validate --config-file "$D" >"$T/validate" 2>&1
    check "dockerd --validate accepts it" "$(cat "$T/validate")" [ $? -eq 0 ]
else
    skip "dockerd --validate" "dockerd $(dockerd --version 2>/dev/null | awk '{ print $3 }' | tr -d ,) has no --validate (Docker >= 23)"
fi

files_under "$T/etc" >"$T/before"
"$CTL" --root "$T" configure docker --set-as-default >"$T/out2" 2>&1
check "configure again: already configured" "$(cat "$T/out2")" grep -qx "docker: already configured" "$T/out2"
files_under "$T/etc" >"$T/after"
check "configure again: no file touched, no new backup" "$(diff "$T/before" "$T/after")" cmp -s "$T/before" "$T/after"

"$CTL" --root "$T" configure docker >/dev/null 2>&1
check "configure without --set-as-default: procview is no longer the default" "$(cat "$D")" \
    json_check '"default-runtime" not in d and "procview" in d["runtimes"]'

"$CTL" --root "$T" remove docker >"$T/rm.out" 2>&1
status=$?
check "remove: exit 0" "status $status: $(cat "$T/rm.out")" [ $status -eq 0 ]
check "remove: the original settings, nothing more" "$(cat "$D")" json_check 'd == o'
"$CTL" --root "$T" remove docker >"$T/rm2.out" 2>&1
check "remove again: already removed" "$(cat "$T/rm2.out")" grep -qx "docker: already removed" "$T/rm2.out"

printf '{"log-level": "warn",}\n' >"$D"
files_under "$T/etc" >"$T/before"
"$CTL" --root "$T" configure docker >"$T/bad.out" 2>&1
status=$?
check "bad JSON: exit 1 naming the file" "status $status: $(cat "$T/bad.out")" \
    sh -c "[ $status -eq 1 ] && grep -q '$D: \[json.exception.parse_error' '$T/bad.out'"
files_under "$T/etc" >"$T/after"
check "bad JSON: nothing written" "$(diff "$T/before" "$T/after")" cmp -s "$T/before" "$T/after"

pv_finish
