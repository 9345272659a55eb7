// What the keeper holds for the sysinfo agent (sysinfo_agent.hpp): every
// container's seccomp notify fd, and the agent's in-flight record, so that a
// procviewfs that dies (kill -9, crash) or is replaced (--takeover) leaves
// the filters' listeners open. Closing the last fd of a listener makes the
// kernel fail that container's sysinfo with ENOSYS from then on; held here,
// the container's calls wait in the kernel for the next daemon instead.
//
// Protocol (on the keeper's socket, keeper.hpp):
//   daemon → keeper  "SECCOMP\n" <name> + SCM_RIGHTS(notify fd)   each new container
//   daemon → keeper  "INFLIGHT\n" + SCM_RIGHTS(memfd)             once per daemon
//   daemon → keeper  "SECCOMP_FDS\n"
//       keeper → daemon  "INFLIGHT\n" + memfd (when held), "SECCOMP\n" <name> + fd for
//                        each held fd, then "SECCOMP_END\n"
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "platform/unique_fd.hpp"

namespace procview {

class KeeperSeccompFds {
public:
    static constexpr std::size_t kMaxHeld = 8192;

    // Whether `command` is one of this protocol's; handles it on `client`.
    bool handle(int client, const std::string& command, const std::string& payload, UniqueFd fd);
    // Closes the fds whose filter has no task left (POLLHUP), so the count
    // follows the containers alive. A zero-timeout poll: registers no waiter.
    void prune();
    [[nodiscard]] std::size_t size() const { return held_.size(); }

private:
    struct Held {
        UniqueFd fd;
        std::string name;
    };
    std::vector<Held> held_;
    UniqueFd inflight_;
};

}  // namespace procview
