// Where the keeper listens, and how each end makes sure of the other.
//
// The keeper's socket is a path, /run/procview/keeper/<hash>.sock, in a
// directory that only root may write (created 0700, owned by root; refused
// when it or its parent is a symlink, not a directory, not root's, or
// writable by group or others). It used to be an abstract socket, and
// abstract names belong to a network namespace: any process in a container
// run with host networking could connect, take the FUSE connection and serve
// other containers forged files (the class of containerd CVE-2020-15257).
// A path lives in a mount namespace instead: a container reaches it only if
// the host's /run/procview is bind-mounted into it.
//
// The path alone is not enough: a process that unshares its mount namespace
// keeps a copy of the host's mounts, path included, while it may hold no
// capability and live in its own pid namespace. So each end authenticates
// the other on every connection: SO_PEERCRED uid 0, the same pid and user
// namespaces as itself (compared as /proc/<pid>/ns/* inode and device), and
// CAP_SYS_ADMIN and CAP_SYS_PTRACE effective. That admits exactly processes
// that could already ptrace the keeper and take its fds (pidfd_getfd), or
// mount a FUSE filesystem themselves. The mount namespace is not compared:
// the next Kubernetes pod's procviewfs has its own, and a keeper that left
// its pod lives in the host's (keeper_host.hpp); a process in its own mount
// namespace with those capabilities in ours could setns() into ours anyway.
#pragma once

#include <string>

#include "core/result.hpp"
#include "platform/unique_fd.hpp"

namespace procview {

inline constexpr const char* kKeeperDir = "/run/procview/keeper";

// 16 hex digits of FNV-1a over the mountpoint: stable across builds and
// versions (the instance lock is named after it too).
std::string mountpoint_hash(const std::string& mountpoint);

// kKeeperDir + "/<hash>.sock".
std::string keeper_socket_path(const std::string& mountpoint);

// Creates `dir` (0700) if missing and checks that it and its parent are real
// directories owned by root and not writable by group or others. EPERM,
// ELOOP or ENOTDIR with the reason otherwise: never "fixed" silently.
Result<void> ensure_private_dir(const std::string& dir);

// The peer of a connected unix socket is uid 0, in our pid and user
// namespaces, with CAP_SYS_ADMIN and CAP_SYS_PTRACE effective. The peer is the process that connected (seen from the keeper)
// or the one that called listen() (seen from a daemon): the keeper listens
// itself for that reason. The process is pinned by a pidfd (SO_PEERPIDFD, or
// pidfd_open on kernels before 6.5) and must still be alive after its
// namespaces were read, so a recycled pid cannot stand in for it.
Result<void> authenticate_peer(int sock);

// A SOCK_SEQPACKET socket bound (not listening) at keeper_socket_path,
// atomically replacing a stale file there: bound under a temporary name in
// the private directory, then renamed over the final one.
Result<UniqueFd> bind_keeper_socket(const std::string& mountpoint);

// Connects to the keeper and authenticates it. ENOENT: no socket;
// ECONNREFUSED: a stale socket (keeper dead), or one that does not listen
// yet, retried for up to wait_ms; EPERM: the listener could not be
// authenticated as our keeper (whatever the reason, so that a caller never
// mistakes it for "no keeper").
Result<UniqueFd> connect_keeper_socket(const std::string& mountpoint, int wait_ms);

}  // namespace procview
