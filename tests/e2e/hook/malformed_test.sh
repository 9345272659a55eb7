# e2e 7: bad input to procview-hook, a table of cases. Each must give one
# clear line on stderr naming the problem, and exit non-zero only when the
# container cannot be served (1) or the command line is wrong (2).
#   sh malformed_test.sh PROCVIEWFS|none PROCVIEW_HOOK
. "$(dirname "$0")/../lib.sh"
pv_begin hook-malformed
views=${1:-}
hook=${2:-}
[ -n "$hook" ] && [ -x "$hook" ] || pv_skip_all "procview-hook binary not given or not executable: '$hook'"
pv_tmpdir pvhook-malformed || pv_skip_all "cannot create a temp dir"
tmp=$PV_TMP

# A valid bundle, and variants of it.
mkdir -p "$tmp/bundle/rootfs" "$tmp/bad-json" "$tmp/no-root" "$tmp/escape" "$tmp/dir-config/config.json" "$tmp/empty"
echo '{"root": {"path": "rootfs"}, "annotations": {"procview.io/enabled": "true"}}' >"$tmp/bundle/config.json"
echo '{"root": {"path": "rootfs"' >"$tmp/bad-json/config.json"
echo '{"process": {}}' >"$tmp/no-root/config.json"
echo '{"root": {"path": "../../etc"}}' >"$tmp/escape/config.json"
# Nothing serves here: the health check fails fast (not a FUSE mount).
mkdir -p "$tmp/not-mounted"
printf '{"mountpoint": "%s", "hook": {"log_file": ""}}\n' "$tmp/not-mounted" >"$tmp/procview.json"
printf '{"mountpoint": "%s", "hook": {"log_file": "", "fail_closed": true}}\n' "$tmp/not-mounted" >"$tmp/closed.json"
echo '{"hook": {"fail_closd": true}}' >"$tmp/typo.json"
echo '{"hook": ' >"$tmp/broken.json"

# state ID PID BUNDLE [STATUS] [ANNOTATIONS-BODY]
state() {
    printf '{"ociVersion": "1.0.2-dev", "id": "%s", "status": "%s", "pid": %s, "bundle": "%s", "annotations": {%s}}' \
        "$1" "${4:-creating}" "$2" "$3" "${5:-}"
}

# row NAME WANT_EXIT WANT_TEXT STDIN [HOOK ARGS...]: runs the hook, checks
# the exit status, that stderr holds WANT_TEXT, and (for errors) that the
# error is one line.
row() {
    _n=$1 _want=$2 _text=$3 _in=$4
    shift 4
    [ $# -gt 0 ] || set -- --config "$tmp/procview.json" createRuntime
    printf '%s' "$_in" | "$hook" "$@" >"$tmp/out" 2>"$tmp/err"
    _rc=$?
    _lines=$(grep -c . "$tmp/err")
    if [ "$_rc" != "$_want" ]; then
        fail "$_n" "exit $_rc, want $_want; stderr: $(cat "$tmp/err")"
    elif [ -n "$_text" ] && ! grep -qF -- "$_text" "$tmp/err"; then
        fail "$_n" "stderr lacks '$_text': $(cat "$tmp/err")"
    elif [ -z "$_text" ] && [ "$_lines" != 0 ]; then
        fail "$_n" "expected silence, got: $(cat "$tmp/err")"
    elif [ "$_want" = 1 ] && [ "$_lines" != 1 ]; then
        fail "$_n" "want one error line, got $_lines: $(cat "$tmp/err")"
    else
        pass "$_n"
    fi
}

b=$tmp/bundle
row "empty stdin" 1 "OCI state on stdin is empty" ""
row "blank stdin" 1 "OCI state on stdin is empty" "

"
row "truncated JSON" 1 "OCI state on stdin is not JSON: " '{"id": "x", "pid": 1'
row "not JSON at all" 1 "OCI state on stdin is not JSON: " "hello"
row "JSON array" 1 "OCI state on stdin is not a JSON object" '[1, 2]'
row "missing id" 1 'OCI state on stdin: missing `id`' '{"status": "creating", "pid": 1, "bundle": "/b"}'
row "id with a newline" 1 '`id` holds control characters' '{"id": "a\nb", "status": "creating", "pid": 1, "bundle": "/b"}'
row "missing pid" 1 'OCI state on stdin: missing `pid`' '{"id": "x", "status": "creating", "bundle": "/b"}'
row "pid as a string" 1 '`pid` is not an integer' '{"id": "x", "status": "creating", "pid": "12", "bundle": "/b"}'
row "pid 0" 1 '`pid` 0 is not a process id' "$(state x 0 "$b")"
row "missing bundle" 1 'OCI state on stdin: missing `bundle`' '{"id": "x", "status": "creating", "pid": 1}'
row "relative bundle" 1 '`bundle` `bundle` is not an absolute path' "$(state x 1 bundle)"
row "status running (wrong stage)" 1 'status `running`: procview-hook runs at createRuntime or prestart' \
    "$(state x 1 "$b" running)"
row "bundle without config.json" 1 "no config.json in the bundle \`$tmp/empty\`" "$(state x 1 "$tmp/empty")"
row "bundle that is not a directory" 1 "cannot read \`$tmp/procview.json/config.json\`: Not a directory" \
    "$(state x 1 "$tmp/procview.json")"
row "config.json is a directory" 1 "cannot read \`$tmp/dir-config/config.json\`: Is a directory" \
    "$(state x 1 "$tmp/dir-config")"
row "malformed config.json" 1 "config.json is not JSON: " "$(state x 1 "$tmp/bad-json")"
row "config.json without root" 1 'config.json: missing `root`' "$(state x 1 "$tmp/no-root")"
row "root.path escapes the bundle" 1 "config.json: \`root.path\` \`../../etc\` escapes the bundle \`$tmp/escape\`" \
    "$(state x 1 "$tmp/escape")"
row "errors carry the container id" 1 "[ctr-42] " "$(state ctr-42 1 "$tmp/bad-json")"
row "a % in the id is printed as is" 1 "[a%vb%%c] " "$(state 'a%vb%%c' 1 "$tmp/bad-json")"

# Not opted in: silent success, whatever else is wrong with the host.
mkdir -p "$tmp/off" && echo '{"root": {"path": "rootfs"}}' >"$tmp/off/config.json"
row "no annotation: nothing to do" 0 "" "$(state x 1 "$tmp/off")"
row "annotation false: config.json not even read" 0 "" \
    "$(state x 1 "$tmp/no-root" creating '"procview.io/enabled": "false"')"
row "annotation only in config.json counts" 0 "the container starts with the host's views" \
    "$(state x 1 "$tmp/bundle" creating '"other": "1"')"

# --assume-enabled (the hooks.d entry: its `when` matched, maybe on the pod):
# no annotation counts as opted in, an explicit one still decides.
row "--assume-enabled without annotation: served" 0 "procviewfs is not serving" "$(state x 1 "$tmp/off")" \
    --config "$tmp/procview.json" --assume-enabled createRuntime
row "--assume-enabled, annotation false: nothing to do" 0 "" \
    "$(state x 1 "$tmp/off" creating '"procview.io/enabled": "false"')" --config "$tmp/procview.json" --assume-enabled

# procviewfs not serving: fail open with a warning, or refuse under fail_closed.
row "not serving: starts with host views" 0 "the container starts with the host's views" "$(state x 1 "$b")"
row "not serving, fail_closed: refused" 1 "refusing the container (hook.fail_closed): procviewfs is not serving" \
    "$(state x 1 "$b")" --config "$tmp/closed.json" createRuntime

# The command line and the configuration file.
row "unknown argument" 2 "unexpected argument \`poststop\`" "$(state x 1 "$b")" poststop
row "--config without a value" 2 "--config needs a value" "$(state x 1 "$b")" --config
row "--config names a missing file" 1 "config: open \`$tmp/nope.json\`: No such file or directory" \
    "$(state x 1 "$b")" --config "$tmp/nope.json"
row "config file with a typo'd key" 1 "fail_closd" "$(state x 1 "$b")" --config "$tmp/typo.json"
row "config file not JSON" 1 "config \`$tmp/broken.json\`" "$(state x 1 "$b")" --config "$tmp/broken.json"

# With a serving views server: a dead pid, and a pid in the host's own mount
# namespace (mounting there would change the host), are refused.
if [ "$(id -u)" != 0 ]; then
    skip "pid rows" "need root"
elif [ -z "$views" ] || [ "$views" = none ] || [ ! -x "$views" ]; then
    skip "pid rows" "no views server given"
else
    mnt=$tmp/mnt
    case "$(basename "$views")" in
    lxcfs*) pv_start_views "$views" "$mnt" ;;
    *) pv_start_views "$views" "$mnt" --config "$tmp/procview.json" ;;
    esac || pv_skip_all "the views server did not start at $mnt"
    printf '{"mountpoint": "%s", "hook": {"log_file": "", "health_timeout_ms": 1000}}\n' "$mnt" >"$tmp/serving.json"
    printf '{"mountpoint": "%s", "hook": {"log_file": "", "health_timeout_ms": 1000, "fail_closed": true}}\n' "$mnt" \
        >"$tmp/serving-closed.json"
    # A pid that existed and is gone: a child that has exited and been reaped.
    true &
    gone=$!
    wait "$gone"
    row "pid not alive: starts with host views" 0 "open \`/proc/$gone/ns/mnt\` (is the container's process alive?)" \
        "$(state x "$gone" "$b")" --config "$tmp/serving.json" createRuntime
    row "pid not alive, fail_closed: refused" 1 "refusing the container (hook.fail_closed): open \`/proc/$gone/ns/mnt\`" \
        "$(state x "$gone" "$b")" --config "$tmp/serving-closed.json" createRuntime
    mkdir -p "$b/rootfs/proc" && : >"$b/rootfs/proc/meminfo"
    row "pid in the host's mount namespace: refused to mount" 0 "is in the hook's own mount namespace" \
        "$(state x $$ "$b")" --config "$tmp/serving.json" createRuntime
    stray=$(awk -v t="$tmp/" -v m="$mnt" 'index($5, t) == 1 && $5 != m { print $5 }' /proc/self/mountinfo)
    check "host namespace pid: nothing mounted on the host" "host mounts: $stray" [ -z "$stray" ]
fi
pv_finish
