// Keeping the hook's mounts inside the container's mount namespace.
//
// The views are private mounts, but whether a new mount propagates is
// decided by the mount it is attached to (its parent): when the container's
// procfs or sysfs mount is shared (config.json `linux.rootfsPropagation:
// "rshared"` on a shared rootfs, a bidirectional hostPath at /sys), every
// peer of that mount, the host's included, gets a copy of the view.
#pragma once

#include <string_view>

#include "core/result.hpp"
#include "hook/resolve.hpp"
#include "platform/unique_fd.hpp"

namespace procview::hook {

// Makes the mount that holds `target` (relative to `root_fd`; `target_fd`
// is that target, already opened and checked) a slave (MS_SLAVE): it keeps
// receiving mounts from its former peers, but sends none back. A private or
// slave mount stays as it is. Call inside the container's namespace, before
// attaching anything onto `target_fd`.
Result<void> make_parent_mount_slave(int root_fd, std::string_view target, int target_fd, ResolveMethod resolve);

// An O_PATH fd on the root of the mount `target_fd` is on: the target
// itself when it is a mount's root, else the nearest ancestor (walking
// `..` from `target`'s directory) whose own parent is on another mount.
Result<UniqueFd> open_mount_root(int root_fd, std::string_view target, int target_fd, ResolveMethod resolve);

}  // namespace procview::hook
