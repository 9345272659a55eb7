// `procviewfs --unmount [MOUNTPOINT]`: the explicit removal of a mount.
//
// SIGTERM hands the mount over to its keeper (keeper.hpp), so stopping or
// restarting procviewfs never breaks a container; removing procview from a
// node is this command instead:
//
//   # procviewfs --unmount /var/lib/procview
//   procviewfs: unmounted /var/lib/procview
//
// Under systemd, stop the service first (`systemctl stop procviewfs`):
// Restart=always would otherwise start a daemon that mounts afresh.
#pragma once

#include <string>

#include <spdlog/spdlog.h>

namespace procview {

// Asks the keeper of `mountpoint` to unmount and exit, as a daemon would: it
// attaches (takes a clone), announces SERVING (the serving daemon, if any,
// is told RETIRE and exits) and sends UNMOUNT. Waits up to 5 s for the
// keeper and that daemon to exit. With no keeper, lazily unmounts a
// fuse.procviewfs mount found there (its readers then fail with ENOTCONN).
// Returns the process exit code: 0 when nothing procviewfs is mounted there
// any more, 1 otherwise; tells the user what it did on stdout/stderr.
int run_unmount(const std::string& mountpoint, spdlog::logger& log);

}  // namespace procview
