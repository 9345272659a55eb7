// Getting a FUSE connection to serve: a fresh mount (with a keeper spawned to
// hold it) or the live connection of a previous instance, taken from its
// keeper. See keeper.hpp for why.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <spdlog/spdlog.h>

#include "core/result.hpp"
#include "platform/unique_fd.hpp"

namespace procview {

struct FuseConnection {
    UniqueFd master;           // the original (fresh mount) or the keeper's clone: kept to respawn a keeper
    UniqueFd worker;           // this daemon's clone, the one libfuse reads from
    UniqueFd keeper;           // our link to the keeper
    std::string init_request;  // the INIT to replay into libfuse; empty on a fresh mount
    bool fresh = false;
    // The kernel resends (FUSE_NOTIFY_RESEND): `worker` is then the same open
    // file as `master`, which the keeper holds too, so requests this daemon
    // read survive its death for the next daemon to have resent.
    bool resend = false;
};

// /run/procview/<hash>.lock: the instance lock's file for `mountpoint`.
std::string instance_lock_path(const std::string& mountpoint);

// One instance per mountpoint: an flock on /run/procview/<hash>.lock.
// With wait, blocks up to timeout_ms. EWOULDBLOCK: another instance (named
// in the message) holds it. The lock is only ever taken on the file that is
// at the path at that moment (remove_instance_lock may unlink it).
Result<UniqueFd> acquire_instance_lock(const std::string& mountpoint, bool wait, int timeout_ms);

// Unlinks the lock file of `mountpoint` while `lock` (from
// acquire_instance_lock) holds it: what --unmount does once nothing serves
// there any more, so that no file is left per mountpoint ever used.
void remove_instance_lock(const std::string& mountpoint, UniqueFd lock);

// Attaches to the keeper of `mountpoint`, authenticated (keeper_socket.hpp),
// and checks the INIT it sends. ECONNREFUSED/ENOENT: no keeper;
// ECONNRESET/EPIPE: it went away; EPERM: the listener is not our keeper;
// EACCES: the keeper refused us (we run in other namespaces).
Result<FuseConnection> attach_to_keeper(const std::string& mountpoint, spdlog::logger& log);

// Clears a stale mount ("Transport endpoint is not connected") or a
// procviewfs mount with no keeper we can reach (aborting its connection, so
// its readers fail instead of waiting forever), refuses a mountpoint used by
// anything else, mounts, spawns the keeper and connects to it. keep_stderr: the keeper writes its few
// lines to our stderr (foreground); otherwise to /dev/null.
Result<FuseConnection> mount_fresh(const std::string& mountpoint, spdlog::logger& log, bool keep_stderr);

// Sends the connection's INIT to a fresh keeper and waits (up to 5 s) for it
// to confirm that it stored it ("STORED").
Result<void> store_init_with_keeper(int keeper, const std::string& init_request);

// A fresh connection's first daemon, once the keeper stored the INIT, asks
// it for a clone (ATTACH) to serve from instead of its dup of the master fd:
// lent like every later daemon's, so the keeper can give up the requests a
// killed daemon held (keeper.cpp, kResendGraceMs) without closing the mount.
Result<UniqueFd> borrow_clone_from_keeper(int keeper);

// Sends a command to the keeper (INIT, SERVING, UNMOUNT).
Result<void> tell_keeper(int keeper, const std::string& command, const std::string& payload = "");

// Spawns a new keeper for a connection whose keeper died, and reconnects.
Result<UniqueFd> respawn_keeper(int master_fd, const std::string& mountpoint, const std::string& init_request,
                                bool keep_stderr);

// The fd a daemon serves from: with resend, a dup of `master_fd` (the same
// open file, held by the keeper as well); otherwise its own clone, so that
// requests it holds fail at once when it dies instead of waiting forever.
Result<UniqueFd> serving_fd(int master_fd, bool resend);

// Writes FUSE_NOTIFY_RESEND: the kernel queues again every request read
// from any fd of the connection and not yet answered (Linux 6.9+).
Result<void> request_resend(int fuse_fd);

// A new /dev/fuse fd cloned from `fuse_fd` (FUSE_DEV_IOC_CLONE): another fd
// of the same connection, which keeps it alive as long as any is open.
Result<UniqueFd> clone_fuse_device(int fuse_fd);

// Rewrites the unique id of a saved INIT request so that libfuse's reply to
// the replay matches no pending request (the kernel answers ENOENT, which
// libfuse ignores).
void make_init_replay(std::string& init_request);

struct MountEntry {
    std::string type;  // e.g. ext4, fuse.procviewfs
    std::string root;  // the directory of its filesystem mounted there: "/" unless a bind mount
};

// The mount at exactly `path` in our mount namespace (the topmost), from mountinfo.
std::optional<MountEntry> mount_at(const std::string& path);

// Whether procviewfs may mount over `mount`, found at its mountpoint and not
// ours: only a bind mount of an empty directory of a filesystem other than
// FUSE (a Kubernetes hostPath volume, `-v DIR:DIR` in Docker). EBUSY with
// what is there otherwise: a filesystem's root (tmpfs, a disk), a directory
// of another FUSE filesystem, a directory whose files the mount would hide.
Result<void> check_foreign_mount(const std::string& mountpoint, const MountEntry& mount, bool empty);

// The filesystem type of the mount at exactly `path` in our mount namespace
// (the topmost), from mountinfo, so a dead FUSE mount is never touched.
std::optional<std::string> mounted_type(const std::string& path);

}  // namespace procview
