// Opening a path inside a container's rootfs without ever following a
// symlink or leaving the rootfs: the only way the hook finds mount targets.
#pragma once

#include <string_view>

#include "core/result.hpp"
#include "platform/unique_fd.hpp"

namespace procview::hook {

enum class ResolveMethod {
    automatic,  // openat2, and the component walk when the kernel has no openat2 (before 5.6)
    openat2,    // openat2(RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS) only
    walk,       // one openat(O_PATH | O_NOFOLLOW) per component, refusing symlinks and ".."
};

// An O_PATH fd for `relative` (no leading '/', no "..") below `root_fd`. Any
// symlink on the way, the last component included, is an ELOOP error; a
// missing component ENOENT. Both methods refuse the same paths. Messages
// are complete sentences (errno explained): print Error::message.
Result<UniqueFd> open_in_root(int root_fd, std::string_view relative, ResolveMethod method = ResolveMethod::automatic);

}  // namespace procview::hook
