# procview-ctl configure podman, read back by podman itself: with the
# drop-in as its containers.conf (CONTAINERS_CONF), `podman info` names the
# runtime "procview" at the path given (runc here, so podman can query it),
# as the default with --set-as-default and by `--runtime procview` without.
# remove deletes the drop-in. `podman info` reads; it starts no container.
#   sh podman_test.sh PROCVIEW_CTL
. "$(dirname "$0")/../lib.sh"
CTL=$1
pv_begin ctl-podman
pv_need_root
pv_have podman || pv_skip_all "podman is not installed"
RUNC=$(command -v runc) || pv_skip_all "runc is not installed"
pv_tmpdir pvctl-podman
T=$PV_TMP
F=$T/etc/containers/containers.conf.d/99-procview.conf
runtime_seen() { CONTAINERS_CONF=$F timeout 60 podman "$@" info --format '{{.Host.OCIRuntime.Name}} {{.Host.OCIRuntime.Path}}' 2>&1; }

"$CTL" --root "$T" configure podman --set-as-default --runtime-path "$RUNC" >"$T/out" 2>&1
status=$?
check "configure --set-as-default: exit 0" "status $status: $(cat "$T/out")" [ $status -eq 0 ]
seen=$(runtime_seen)
check "podman info: the default runtime is procview at the given path" "$seen" [ "$seen" = "procview $RUNC" ]

"$CTL" --root "$T" configure podman --runtime-path "$RUNC" >/dev/null 2>&1
seen=$(runtime_seen --runtime procview)
check "podman --runtime procview finds it" "$seen" [ "$seen" = "procview $RUNC" ]
seen=$(runtime_seen)
check "without --set-as-default procview is not the default" "$seen" [ "${seen%% *}" != procview ]

"$CTL" --root "$T" remove podman >"$T/rm.out" 2>&1
check "remove: the drop-in is gone" "$(cat "$T/rm.out")" [ ! -e "$F" ]
check "remove: its backup is outside containers.conf.d" "$(ls -a "$T/etc/containers/containers.conf.d")" \
    sh -c "[ -z \"\$(ls -A '$T/etc/containers/containers.conf.d')\" ] && ls '$T'/etc/containers/containers.conf.d.99-procview.conf.procview-backup-* >/dev/null"

pv_finish
