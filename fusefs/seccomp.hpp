// The seccomp filter procviewfs runs under once it serves.
//
// Why: every container on the node sends requests to this root daemon, so a
// bug in a request path is a way out of the container. After start-up the
// daemon only reads files, answers FUSE requests, logs and talks to its
// keeper; the filter allows exactly the system calls that takes (found with
// `strace -f` over the integration, fault and soak tests, plus what glibc,
// libstdc++, libfuse and spdlog call on those paths) and makes everything
// else fail with EPERM instead of killing the daemon, so a call we missed
// degrades one request rather than every container's view.
//
// Refused, among others: execve/execveat, mount, ptrace, setns/unshare,
// clone without CLONE_THREAD (fork), sockets other than AF_UNIX, PROT_EXEC
// mappings, bpf, module loading, keyctl, io_uring. clone3 fails with ENOSYS so
// that glibc falls back to clone, whose flags the filter can check.
//
// Consequence: a keeper that dies while this daemon runs cannot be
// respawned (that needs fork + exec); the daemon logs it and keeps serving,
// and the next restart mounts afresh. Run with --no-seccomp (config
// "seccomp": false) to trade the filter for that recovery path.
#pragma once

#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace procview {

// Installs the filter on every thread of the process (TSYNC) and on any
// child it creates later; it cannot be removed. log_only: allow everything
// but make the kernel log the calls the filter would refuse (audit/dmesg
// "type=1326"), to find a missing entry without breaking a node.
Result<void> install_daemon_seccomp_filter(bool log_only);

// The system calls allowed without conditions (the filter adds a few with
// argument checks: clone, socket, mmap, mprotect, ioctl, tgkill).
const std::vector<std::string_view>& daemon_syscall_allowlist();

}  // namespace procview
