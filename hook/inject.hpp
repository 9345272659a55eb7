// The hook's I/O edge: mounts planned procviewfs files into a container's
// mount namespace. The only code in the hook that calls mount syscalls.
//
// How (runc and crun run createRuntime/prestart hooks after the container's
// own mounts and before pivot_root): the container's namespace still has its
// rootfs at the host path, with procfs at <rootfs>/proc and sysfs at
// <rootfs>/sys. A forked helper child clones the sources (the only step that
// talks to procviewfs), setns()es into that namespace (setns needs an fs
// struct nobody else shares), opens every target with open_in_root (no
// symlink, never outside the rootfs), checks it is the procfs/sysfs file or
// directory the plan expects, makes the mount holding it a slave (so nothing
// propagates back: hook/propagation.hpp) and mounts onto that fd, read-only,
// nosuid, nodev, noexec. Nothing is created in the container; a target that
// is missing or not what it should be is skipped with the reason.
//
// The helper runs under a deadline (platform/bounded_child.hpp): a
// procviewfs that stops answering leaves it asleep in a FUSE request, and
// the hook gives up on it at the deadline instead of waiting with it.
//
// Mount API: the new one (Linux 5.2+) clones each source in the host's
// namespace with open_tree(OPEN_TREE_CLONE), sets its flags with
// mount_setattr (5.12+), and move_mount()s it onto the target fd in the
// child. The legacy one binds the source by path from inside the
// container's namespace (a copy of the host's until pivot_root) and
// remounts it read-only.
//
// Call from a single-threaded process: the child allocates after fork().
// The container's process is pinned with a pidfd while its namespace is
// opened (a pid recycled meanwhile is refused).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "core/result.hpp"
#include "hook/mount_plan.hpp"
#include "hook/resolve.hpp"
#include "platform/bounded_child.hpp"

namespace procview::hook {

enum class MountApi {
    automatic,  // the new API, the legacy one when the kernel lacks open_tree/mount_setattr
    new_api,
    legacy,
};

struct InjectOptions {
    MountApi api = MountApi::automatic;
    ResolveMethod resolve = ResolveMethod::automatic;
};

enum class Outcome {
    mounted,
    absent,   // the container (or procviewfs) has no such file: nothing to cover
    skipped,  // the target is not what it should be (a symlink, a directory, not procfs…): refused
    failed,   // a mount syscall failed
};

struct MountResult {
    PlannedMount mount;
    Outcome outcome = Outcome::failed;
    std::string reason;  // why not mounted; "" when mounted
};

// Mounts `plan` (sources under `mountpoint` on the host, targets under
// `rootfs` in the mount namespace of `pid`). Per-target problems come back
// as skipped/failed results; an Error when nothing could be tried (the
// namespace cannot be opened or is the hook's own: mounting there would
// change the host; the child cannot enter it, or the rootfs cannot be
// opened inside it), or when the helper did not finish by `deadline` (the
// message names what was mounted by then).
Result<std::vector<MountResult>> inject_mounts(pid_t pid, const std::string& rootfs, const std::string& mountpoint,
                                               const std::vector<PlannedMount>& plan, const InjectOptions& options,
                                               Deadline deadline);

}  // namespace procview::hook
