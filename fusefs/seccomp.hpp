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
// clone without CLONE_THREAD (fork), sockets other than AF_UNIX datagram ones,
// PROT_EXEC mappings, bpf, module loading, keyctl, io_uring; and, since the
// daemon writes no file after start-up (the log and pidfile are open or
// written before the filter): opening a file for writing, creating or
// truncating one, unlink/rename (the pidfile's removal at exit is one
// unlinkat in its held directory; the /proc/stat records are written,
// renamed and removed only through their held directory fd), umount2 other than MNT_DETACH, prlimit64
// on another process. clone3 fails with ENOSYS so that glibc falls back to
// clone, whose flags the filter can check. seccomp.cpp lists what stays
// allowed and why.
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

struct DaemonFilterOptions {
    // Allow everything but make the kernel log the calls the filter would
    // refuse (audit/dmesg "type=1326"), to find a missing entry without
    // breaking a node.
    bool log_only = false;
    // The pidfile's directory, held open before the filter: unlinkat(this
    // fd, name, 0) is then the one unlink allowed. -1: no unlink at all.
    int pidfile_dir_fd = -1;
    // The sysinfo agent's listener (sysinfo_agent.hpp), -1 without one:
    // accept4 on it only, the seccomp notify ioctls, process_vm_writev into
    // the callers, epoll over the notify fds.
    int sysinfo_listener_fd = -1;
    // The /proc/stat record directory and its parent (stat_records.hpp), held
    // open before the filter: records are created (write-only, in that
    // directory fd only), renamed within it and unlinked from it; the
    // directory itself is removed from its parent at a clean stop. -1: none.
    int records_dir_fd = -1;
    int records_parent_fd = -1;
};

// Installs the filter on every thread of the process (TSYNC) and on any
// child it creates later; it cannot be removed. Processes spawned before
// (the keeper) are not filtered.
Result<void> install_daemon_seccomp_filter(const DaemonFilterOptions& options);

// The system calls allowed without conditions (the filter adds a few with
// argument checks: clone, socket, openat, mmap, mprotect, ioctl, tgkill,
// prlimit64, umount2, unlinkat, renameat, renameat2).
const std::vector<std::string_view>& daemon_syscall_allowlist();

}  // namespace procview
