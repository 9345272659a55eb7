// The keeper: a tiny process that holds the FUSE connection open so that the
// mount outlives any one procviewfs.
//
// Why: a FUSE mount dies ("Transport endpoint is not connected") when the
// last fd of its /dev/fuse connection closes, and every container that
// bind-mounted a file from it breaks until it is restarted. The keeper holds
// the connection's original fd; each procviewfs serves from its own clone
// (FUSE_DEV_IOC_CLONE). When procviewfs dies, only the requests it was
// processing at that instant fail; queued and new requests wait in the
// kernel until the next procviewfs attaches to the keeper, takes a clone and
// replays the connection's INIT to its libfuse session.
//
// Protocol (SOCK_SEQPACKET, abstract address keeper_address(mountpoint),
// peers must be root or the keeper's uid; a message is a command line, then
// an optional payload):
//   daemon → keeper  "INIT\n" <the kernel's INIT request bytes>   (first daemon, once)
//   daemon → keeper  "ATTACH\n"       keeper → daemon "MASTER\n" <INIT bytes> + SCM_RIGHTS(fd)
//   daemon → keeper  "SERVING\n"      keeper → previous owner "RETIRE\n"
//   daemon → keeper  "UNMOUNT\n"      keeper unmounts (lazily) and exits
//   daemon ↔ keeper  SECCOMP, INFLIGHT, SECCOMP_FDS: the sysinfo agent's fds (keeper_seccomp.hpp)
// The keeper exits by itself, within a second, when the filesystem is
// unmounted by anyone.
#pragma once

#include <string>

namespace procview {

// The abstract socket name for a mountpoint (without the leading NUL).
std::string keeper_address(const std::string& mountpoint);

// Runs the keeper; returns the process exit code.
int run_keeper(int master_fd, int listen_fd, const std::string& mountpoint);

}  // namespace procview
