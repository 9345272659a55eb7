// "Is procviewfs serving at MOUNTPOINT?", answered within a time bound.
//
// A read on a FUSE mount whose server is stopped but not gone (SIGSTOP, a
// deadlock) blocks until the server answers, so the probe runs in a forked
// child that is SIGKILLed when the bound passes; the caller never blocks
// longer than `timeout` plus a fork.
#pragma once

#include <chrono>
#include <string>

#include "core/result.hpp"

namespace procview {

inline constexpr long kFuseSuperMagic = 0x65735546;

// OK when statfs(mountpoint) reports FUSE_SUPER_MAGIC and
// `mountpoint`/proc/uptime reads non-empty within `timeout`. Otherwise an
// Error naming what failed: not mounted (wrong filesystem type), the server
// gone (ENOTCONN), an empty answer, or ETIMEDOUT.
Result<void> check_procview_serving(const std::string& mountpoint, std::chrono::milliseconds timeout);

}  // namespace procview
