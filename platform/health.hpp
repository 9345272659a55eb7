// "Is procviewfs serving at MOUNTPOINT?", answered within a time bound.
//
// A read on a FUSE mount whose server is stopped but not gone (SIGSTOP, a
// deadlock) blocks until the server answers, uninterruptibly once the server
// has read the request, so the probe runs in a forked child that is
// SIGKILLed and abandoned when the bound passes (platform/bounded_child.hpp);
// the caller never blocks longer than `timeout` plus a fork.
#pragma once

#include <chrono>
#include <string>

#include "core/catalog.hpp"  // kFuseSuperMagic
#include "core/result.hpp"
#include "platform/bounded_child.hpp"

namespace procview {

// OK when statfs(mountpoint) reports FUSE_SUPER_MAGIC and
// `mountpoint`/proc/uptime reads non-empty within `timeout`. Otherwise an
// Error naming what failed: not mounted (wrong filesystem type), the server
// gone (ENOTCONN), an empty answer, or ETIMEDOUT.
Result<void> check_procview_serving(const std::string& mountpoint, std::chrono::milliseconds timeout);
// The same, also giving up at `deadline` when that comes first (the
// caller's own bound on its total run time).
Result<void> check_procview_serving(const std::string& mountpoint, std::chrono::milliseconds timeout,
                                    Deadline deadline);
// The same, reading `probe` (relative to the mountpoint) instead of
// proc/uptime: a `procviewfs --containers-only` mount serves no proc/.
Result<void> check_procview_serving(const std::string& mountpoint, const std::string& probe,
                                    std::chrono::milliseconds timeout, Deadline deadline);
// True for a probe's Error that says nothing is mounted there (no such
// directory, or not a FUSE mount): an instance that is not installed, as
// opposed to one that is mounted and fails.
bool is_not_mounted(const Error& error);

}  // namespace procview
