// A keeper that leaves its Kubernetes pod, so that the mount outlives it.
//
// Why: procviewfs in a DaemonSet pod spawns its keeper as a child, so the
// keeper lands in the pod's container cgroup and mount namespace. Deleting
// the pod (a rollout, `kubectl delete pod`, `docker rm -f`) makes the runtime
// kill every process of that cgroup (runc kill --all / delete --force read
// the pids from the cgroup, as the kubelet's container runtime does), the
// keeper included, and every container that bind-mounted a view then reads
// "Transport endpoint is not connected" for good.
//
// With PROCVIEW_KEEPER_CGROUP=NAME in procviewfs's environment (the node
// image's entrypoint sets it), the keeper, before it listens:
//   1. joins the cgroup and mount namespaces of the host process
//      PROCVIEW_HOST_PID (default 1, the host's init: the pod runs with
//      hostPID; tests name another host process where pid 1's namespaces
//      cannot be opened), so it no longer holds the pod's mounts and sees the
//      host's cgroup tree and mount table (the mountpoint must be the same
//      path in the pod and on the host, as the DaemonSet mounts it);
//   2. moves itself into the cgroup NAME right below the root of every
//      hierarchy mounted there (each v1 controller, name=systemd, and the v2
//      or hybrid "unified" one), creating it; a v1 cpuset child gets its
//      parent's cpus and mems, without which no task may join it;
//   3. sends its few log lines to /run/procview/keeper/<hash>.log instead of
//      the pod's stderr, whose reader goes away with the pod.
// The next pod's procviewfs reaches it on the path socket (the hostPath
// /run/procview) and is authenticated by uid, pid and user namespace and
// capabilities, not by mount namespace (keeper_socket.hpp). At exit the
// keeper moves back to each root and removes NAME unless another keeper
// (another mountpoint) is still in it, and removes its log after a clean exit.
//
// Not done: the keeper keeps running the first pod's executable and
// libraries, so that image's files stay referenced (deleted, not freed) on
// the node until the keeper exits, i.e. until the explicit uninstall.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace procview {

inline constexpr const char* kKeeperCgroupEnv = "PROCVIEW_KEEPER_CGROUP";
inline constexpr const char* kHostPidEnv = "PROCVIEW_HOST_PID";

struct CgroupHierarchy {
    std::string root;     // where its root is mounted, e.g. /sys/fs/cgroup/memory
    bool cpuset = false;  // a v1 cpuset hierarchy: a new child starts with no cpus and mems
};

// The mounted root of each cgroup hierarchy in a mountinfo text, once per
// hierarchy (the first mount of its root directory).
std::vector<CgroupHierarchy> cgroup_hierarchies(std::string_view mountinfo);

// A cgroup name the keeper accepts: [A-Za-z0-9._-], 1 to 64 characters, not . or ..
bool valid_keeper_cgroup_name(std::string_view name);

// Steps 1 and 2 above for the calling, single-threaded process. `joined`
// gets the cgroup directories it moved into (for keeper_leave_cgroups).
// Fails without moving when a namespace cannot be joined; a hierarchy that
// refuses the move is reported in the error after the others were joined.
Result<void> keeper_leave_pod(const std::string& name, pid_t host_pid, std::vector<std::string>& joined);

// At exit: back to each hierarchy's root, then the directories removed
// (EBUSY, another keeper is in one, is fine).
void keeper_leave_cgroups(const std::vector<std::string>& joined);

}  // namespace procview
