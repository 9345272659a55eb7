#!/bin/sh
# procview node image entrypoint (busybox sh). The DaemonSet runs it with the
# host's directories mounted under $PROCVIEW_HOST_ROOT (default /host).
#
#   /entrypoint.sh [run]    install on the host, register the runtime, then exec
#                           procviewfs in the foreground (the DaemonSet's container)
#   /entrypoint.sh containers  exec procviewfs --containers-only in the
#                           foreground on $PROCVIEW_CONTAINERS_MOUNTPOINT (the
#                           DaemonSet's second container; installs nothing)
#   /entrypoint.sh install  install and register only
#   /entrypoint.sh uninstall  unregister and delete what install wrote (the
#                           uninstall Job; stop the DaemonSet first)
#   /entrypoint.sh /PATH ARGS...  runs that program (e.g. /usr/bin/procviewfs --version)
#
# Environment (all optional):
#   PROCVIEW_HOST_ROOT=/host           where the host's / is mounted
#   PROCVIEW_MOUNTPOINT=/var/lib/procview   (the same path in the pod and on the host)
#   PROCVIEW_CONTAINERS_MOUNTPOINT=$PROCVIEW_MOUNTPOINT-containers  (`containers`)
#   PROCVIEW_ENGINES="containerd crio" engines to register, each only where
#                                      /host/etc/<engine> exists
#   PROCVIEW_RESTART_ENGINE=false      true: restart an engine whose config
#                                      procview-ctl changed (systemctl in the host's namespaces)
#   PROCVIEW_HOOKS_DIR=/etc/containers/oci/hooks.d   where the hooks.d entry goes ("" = none)
#   PROCVIEW_ARGS=""                   extra procviewfs options
#   PROCVIEW_KEEPER_CGROUP=procview-keeper  the host cgroup the keeper moves to
#   PROCVIEW_HOST_PID=1                the host process whose cgroup and mount
#                                      namespaces the keeper joins
set -eu

host="${PROCVIEW_HOST_ROOT:-/host}"
mountpoint="${PROCVIEW_MOUNTPOINT:-/var/lib/procview}"
containers_mountpoint="${PROCVIEW_CONTAINERS_MOUNTPOINT:-$mountpoint-containers}"
engines="${PROCVIEW_ENGINES:-containerd crio}"
restart="${PROCVIEW_RESTART_ENGINE:-false}"
hooks_dir="${PROCVIEW_HOOKS_DIR-/etc/containers/oci/hooks.d}"
# The installed runtime's path: what procview-ctl writes as BinaryName /
# runtime_path, and what the hooks.d entry and procview.json name for the hook.
installed=/opt/procview/current
release="$(readlink /opt/procview/current)"   # releases/<id>

log() { echo "procview-node: $*" >&2; }

# Copies the image's release to the host (once per release) and points the
# host's `current` at it with one rename, so a runtime or hook starting
# meanwhile sees either the old release or the new one, never a mix.
install_release() {
  dest="$host/opt/procview"
  mkdir -p "$dest/releases"
  if [ ! -d "$dest/$release" ]; then
    rm -rf "$dest/$release.tmp"
    cp -a "/opt/procview/$release" "$dest/$release.tmp"
    mv "$dest/$release.tmp" "$dest/$release"
    log "installed $dest/$release"
  fi
  previous="$(readlink "$dest/current" 2>/dev/null || true)"
  if [ "$previous" != "$release" ]; then
    ln -sfn "$release" "$dest/current.tmp"
    mv -T "$dest/current.tmp" "$dest/current"
    log "$dest/current -> $release (was ${previous:-none})"
  fi
  # Keep the current and the previous release (a process started from the
  # previous one may still map it); delete older ones.
  for d in "$dest"/releases/*; do
    [ -d "$d" ] || continue
    case "releases/${d##*/}" in "$release" | "$previous") ;; *) rm -rf "$d"; log "deleted old release $d" ;; esac
  done
}

install_config() {
  mkdir -p "$host/etc/procview"
  if [ ! -e "$host/etc/procview/procview.json" ]; then
    cp "/opt/procview/$release/share/procview.json" "$host/etc/procview/procview.json"
    log "wrote $host/etc/procview/procview.json"
  elif ! grep -q "\"hook_path\": *\"$installed/bin/procview-hook\"" "$host/etc/procview/procview.json"; then
    log "warning: $host/etc/procview/procview.json does not set runtime.hook_path to $installed/bin/procview-hook;" \
        "procview-runtime will look for the hook where that file says"
  fi
  if [ -n "$hooks_dir" ]; then
    mkdir -p "$host$hooks_dir"
    if ! cmp -s "/opt/procview/$release/share/hooks.d/procview-hook.json" "$host$hooks_dir/procview-hook.json"; then
      cp "/opt/procview/$release/share/hooks.d/procview-hook.json" "$host$hooks_dir/procview-hook.json.tmp"
      mv "$host$hooks_dir/procview-hook.json.tmp" "$host$hooks_dir/procview-hook.json"
      log "wrote $host$hooks_dir/procview-hook.json"
    fi
  fi
}

# Runs procview-ctl ACTION for each engine present on the host; restarts an
# engine whose files changed when asked to.
for_engines() {
  action="$1"
  for engine in $engines; do
    [ -d "$host/etc/$engine" ] || continue
    if [ "$action" = configure ]; then
      out="$("$installed/bin/procview-ctl" configure "$engine" --root "$host" \
        --runtime-path "$installed/bin/procview-runtime")"
    else
      out="$("$installed/bin/procview-ctl" remove "$engine" --root "$host")"
    fi
    echo "$out" | sed 's/^/procview-node: procview-ctl: /' >&2
    if echo "$out" | grep -q '^\(wrote\|removed\) '; then
      if [ "$restart" = true ]; then
        log "restarting $engine on the host"
        "$installed/libexec/nsenter" --target 1 --mount --uts --ipc --net --pid -- systemctl restart "$engine"
      else
        log "$engine's configuration changed: restart $engine on the node for it to take effect"
      fi
    fi
  done
}

# The explicit removal (the uninstall Job, with the DaemonSet deleted first):
# the mount and its keeper (procviewfs --unmount, which also removes the
# instance lock and /proc/stat records under /run/procview), the engines'
# entries, the hooks.d entry, the releases, and procview.json when it is still
# the shipped default (an edited one is kept, with a warning).
uninstall() {
  # Through the keeper's socket under /run/procview: the keeper unmounts in
  # the host's mount namespace. (The Job must not have the mountpoint as a
  # volume: that would be a bind of the FUSE mount itself, left in the Job.)
  # Both instances ("nothing mounted" is success: an install without the second).
  for mnt in "$mountpoint" "$containers_mountpoint"; do
    if ! "$installed/bin/procviewfs" --unmount "$mnt" >/tmp/unmount.out 2>&1; then
      sed 's/^/procview-node: /' /tmp/unmount.out >&2
      log "error: could not remove the mount at $mnt (is the DaemonSet deleted? is /run/procview mounted?)"
      exit 1
    fi
    sed 's/^/procview-node: /' /tmp/unmount.out >&2
  done
  for_engines remove
  [ -z "$hooks_dir" ] || rm -f "$host$hooks_dir/procview-hook.json"
  if cmp -s "/opt/procview/$release/share/procview.json" "$host/etc/procview/procview.json"; then
    rm -f "$host/etc/procview/procview.json"
    rmdir "$host/etc/procview" 2>/dev/null || true
  elif [ -e "$host/etc/procview/procview.json" ]; then
    log "kept $host/etc/procview/procview.json: it differs from the shipped default"
  fi
  # /host/opt/procview is the Job's hostPath mount: empty it, then remove it
  # where it is a plain directory.
  rm -rf "$host/opt/procview/releases" "$host/opt/procview/current" "$host/opt/procview/current.tmp"
  rmdir "$host/opt/procview" 2>/dev/null || true
  log "removed the mount, its keeper, /opt/procview's releases and the engines' procview entries"
}

# procviewfs must see the host's cgroup paths: in a private cgroup namespace
# (cgroup v2 pods) /proc/<pid>/cgroup is relative to the pod's cgroup, so enter
# the host's (the host's init, pid 1 with hostPID, or PROCVIEW_HOST_PID) and
# read the host's hierarchy from its hostPath.
#
# Its keeper, which holds the FUSE connection, leaves this pod for the host
# cgroup $PROCVIEW_KEEPER_CGROUP and the host's mount namespace
# (fusefs/keeper_host.hpp), so deleting or replacing this pod (a rollout, a
# crash, SIGKILL) never breaks the mount: the next pod's procviewfs attaches
# to the keeper through /run/procview. SIGTERM (the kubelet's) makes
# procviewfs hand the connection over to the keeper, never unmount; only the
# uninstall below (procviewfs --unmount) ends the keeper.
#
# serve [--containers-only MOUNTPOINT]: the main mount, or the per-container
# files' own instance (the DaemonSet's second container). That one installs
# nothing and reads the host's procview.json when the first container has
# written it (its defaults until then: the window, bounds and log level).
serve() {
  target="$mountpoint"
  if [ "${1:-}" = --containers-only ]; then
    target="$2"
    set -- --foreground --containers-only
    [ ! -e "$host/etc/procview/procview.json" ] || set -- "$@" --config "$host/etc/procview/procview.json"
  else
    set -- --foreground --config "$host/etc/procview/procview.json"
  fi
  [ ! -e "$host/sys/fs/cgroup" ] || set -- "$@" --cgroup-root "$host/sys/fs/cgroup"
  # shellcheck disable=SC2086  # PROCVIEW_ARGS is a list of options
  set -- "$@" ${PROCVIEW_ARGS:-} "$target"
  export PROCVIEW_KEEPER_CGROUP="${PROCVIEW_KEEPER_CGROUP:-procview-keeper}"
  host_pid="${PROCVIEW_HOST_PID:-1}"
  host_ns="$(readlink "/proc/$host_pid/ns/cgroup" 2>/dev/null || true)"
  if [ -z "$host_ns" ]; then
    log "warning: cannot read /proc/$host_pid/ns/cgroup (no hostPID, or not ours to inspect): staying in this cgroup namespace"
  elif [ "$(readlink /proc/self/ns/cgroup)" != "$host_ns" ]; then
    exec "$installed/libexec/nsenter" --cgroup="/proc/$host_pid/ns/cgroup" -- "$installed/bin/procviewfs" "$@"
  fi
  exec "$installed/bin/procviewfs" "$@"
}

case "${1:-run}" in
  run) install_release; install_config; for_engines configure; serve ;;
  containers) serve --containers-only "$containers_mountpoint" ;;
  install) install_release; install_config; for_engines configure ;;
  uninstall) uninstall ;;
  /*) exec "$@" ;;  # `podman run IMAGE /usr/bin/procviewfs --version`
  *) echo "usage: $0 [run|containers|install|uninstall]" >&2; exit 2 ;;
esac
