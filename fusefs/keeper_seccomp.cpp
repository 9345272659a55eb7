#include "fusefs/keeper_seccomp.hpp"

#include <poll.h>

#include "fusefs/unix_message.hpp"

namespace procview {

bool KeeperSeccompFds::handle(int client, const std::string& command, const std::string& payload, UniqueFd fd) {
    if (command == "SECCOMP") {
        if (!fd) return true;
        if (held_.size() >= kMaxHeld) prune();
        if (held_.size() < kMaxHeld) held_.push_back(Held{std::move(fd), payload});
        return true;
    }
    if (command == "INFLIGHT") {
        if (fd) inflight_ = std::move(fd);
        return true;
    }
    if (command == "SECCOMP_FDS") {
        prune();
        if (inflight_) send_message(client, "INFLIGHT", "", inflight_.get());
        for (const auto& h : held_) send_message(client, "SECCOMP", h.name, h.fd.get());
        send_message(client, "SECCOMP_END", "", -1);
        return true;
    }
    return false;
}

void KeeperSeccompFds::prune() {
    std::vector<Held> alive;
    alive.reserve(held_.size());
    for (auto& h : held_) {
        pollfd p{h.fd.get(), POLLIN, 0};
        if (::poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR | POLLNVAL))) continue;
        alive.push_back(std::move(h));
    }
    held_ = std::move(alive);
}

}  // namespace procview
