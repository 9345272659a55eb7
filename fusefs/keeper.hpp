// The keeper: a tiny process that holds the FUSE connection open so that the
// mount outlives any one procviewfs.
//
// Why: a FUSE mount dies ("Transport endpoint is not connected") when the
// last fd of its /dev/fuse connection closes, and every container that
// bind-mounted a file from it breaks until it is restarted. The keeper holds
// the connection's original fd and never hands it out; each procviewfs gets
// a clone (FUSE_DEV_IOC_CLONE) and serves from a clone of that. When
// procviewfs dies, only the requests it was processing at that instant fail;
// queued and new requests wait in the kernel until the next procviewfs
// attaches to the keeper, takes a clone and replays the connection's INIT to
// its libfuse session.
//
// Where the kernel resends (FUSE_NOTIFY_RESEND, protocol 7.40, Linux 6.9),
// not even those fail: a daemon serves from the very clone the keeper lent
// it (a fresh mount's first daemon from the keeper's own fd), the keeper
// keeps that clone after the daemon dies, so the requests it read stay
// pending on it, and the next daemon writes FUSE_NOTIFY_RESEND before it
// sends SERVING; on SERVING the keeper closes the dead daemons' clones.
//
// Protocol: SOCK_SEQPACKET on the path socket keeper_socket_path(mountpoint)
// in the root-only directory /run/procview/keeper (see keeper_socket.hpp).
// The keeper itself calls listen(), so a daemon's SO_PEERCRED names it. Each
// end authenticates the other on connect: uid 0 and the same mount, pid and
// user namespaces, i.e. only procviewfs running as host root; anything else
// is told "REFUSED\n" and closed unread (the keeper), or not believed (a
// daemon). A message is a command line, then an optional payload, checked by
// keeper_protocol.hpp (unknown commands, payloads on commands that take none,
// and malformed INITs are refused and logged, never acted on):
//   daemon → keeper  "INIT\n" <the kernel's FUSE_INIT request>
//                    only the first valid INIT is stored, and confirmed with
//                    keeper → daemon "STORED\n"; later ones are refused (no reply).
//                    The first daemon answers the kernel's INIT only after STORED.
//   daemon → keeper  "ATTACH\n"       keeper → daemon "CLONE\n" <INIT> + SCM_RIGHTS(a fresh clone)
//                                     or "NOINIT\n" while no INIT is stored
//                                     (with resend, the keeper keeps the clone too)
//   daemon → keeper  "SERVING\n"      only from a client that sent the stored INIT or
//                                     took a clone; keeper → previous owner "RETIRE\n"
//   daemon → keeper  "UNMOUNT\n"      only from the owner (the client that last sent
//                                     SERVING): keeper unmounts (lazily) and exits.
//                    `procviewfs --unmount` (unmount.hpp) is such a client: ATTACH,
//                    SERVING (the serving daemon gets RETIRE and exits), UNMOUNT.
//                    No new right: any client that may serve may already do this.
//   daemon ↔ keeper  SECCOMP, INFLIGHT, SECCOMP_FDS: the sysinfo agent's fds
//                    (keeper_seccomp.hpp), only from a client that holds the connection
// At most kMaxKeeperClients clients at once (more are closed on accept); the
// keeper's sockets are non-blocking, so a client that stops reading is
// dropped instead of stalling it. The keeper exits by itself, within a
// second, when the filesystem is unmounted by anyone.
//
// Stopping: a daemon's SIGTERM/SIGINT never reaches the keeper (own session;
// systemd's KillMode=process) and the daemon just closes its link: the
// keeper keeps the mount for the next daemon. The keeper's own SIGTERM is
// the explicit "unmount lazily and exit" (the package's purge, after the
// binaries are gone; otherwise prefer --unmount, which also retires the daemon).
//
// Upgrade from a keeper before the path socket (an abstract socket): the new
// daemon does not talk to it. It finds no keeper, lazily unmounts the old
// mount and mounts afresh; the old keeper then exits, and containers that
// bind-mounted files from the old mount need a restart (as after a stop).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace procview {

inline constexpr std::size_t kMaxKeeperClients = 16;
// How long the keeper holds a killed daemon's clone for the next daemon to
// resend its requests (FUSE_NOTIFY_RESEND): systemd restarts procviewfs
// 100 ms after a crash, and a start takes about as long again; a reader
// caught mid-request waits at most this long (it cannot be killed meanwhile),
// then gets ECONNABORTED as on kernels without the resend.
inline constexpr int64_t kResendGraceMs = 5000;

// Runs the keeper on a bound (not yet listening) socket; returns the process
// exit code.
int run_keeper(int master_fd, int listen_fd, const std::string& mountpoint);

}  // namespace procview
