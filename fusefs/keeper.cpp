#include "fusefs/keeper.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fusefs/keeper_seccomp.hpp"
#include "fusefs/session.hpp"
#include "fusefs/unix_message.hpp"
#include "platform/unique_fd.hpp"

namespace procview {

std::string keeper_address(const std::string& mountpoint) {
    // FNV-1a: stable across builds and versions, so an upgraded daemon finds an old keeper.
    uint64_t h = 1469598103934665603ULL;
    for (unsigned char c : mountpoint) {
        h ^= c;
        h *= 1099511628211ULL;
    }
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
    std::string tail = mountpoint.size() > 60 ? mountpoint.substr(mountpoint.size() - 60) : mountpoint;
    return "procview-keeper/" + std::string(hex) + ":" + tail;
}

namespace {

// Whether the FUSE connection is over (unmounted, or aborted): /dev/fuse
// then polls as an error. A zero timeout leaves no waiter on its queue.
bool connection_ended(int master_fd) {
    pollfd p{master_fd, 0, 0};
    return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLERR | POLLHUP | POLLNVAL));
}

struct Client {
    UniqueFd fd;
    bool owner = false;
};

bool peer_allowed(int fd) {
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return false;
    return cred.uid == 0 || cred.uid == ::geteuid();
}

void log_line(const std::string& mountpoint, const char* what) {
    // The keeper has no logger of its own: stderr is whatever procviewfs had.
    std::fprintf(stderr, "procviewfs keeper [%d] %s: %s\n", ::getpid(), mountpoint.c_str(), what);
}

}  // namespace

int run_keeper(int master_fd, int listen_fd, const std::string& mountpoint) {
    ::setsid();  // out of the daemon's process group: a Ctrl-C there must not reach us
    if (int fd = ::open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC); fd >= 0) {
        (void)!::write(fd, "-1000", 5);  // losing the keeper breaks every container's view
        ::close(fd);
    }
    ::signal(SIGPIPE, SIG_IGN);
    ::signal(SIGHUP, SIG_IGN);
    ::signal(SIGINT, SIG_IGN);
    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    ::sigprocmask(SIG_BLOCK, &term, nullptr);
    UniqueFd sigfd(::signalfd(-1, &term, SFD_CLOEXEC));

    std::string init;
    std::vector<Client> clients;
    KeeperSeccompFds seccomp_fds;  // the sysinfo agent's, across daemons
    for (;;) {
        // The FUSE fd is not in this set: the kernel wakes every poller of a
        // connection on every request it queues, whatever events they asked
        // for, so polling it here would wake the keeper once per request
        // (half a million wake-ups a minute under load). It is checked with a
        // zero timeout, which registers no waiter, once a second instead.
        std::vector<pollfd> fds;
        fds.push_back({listen_fd, POLLIN, 0});
        fds.push_back({sigfd.get(), POLLIN, 0});
        for (auto& c : clients) fds.push_back({c.fd.get(), POLLIN, 0});
        // Only these clients have a pollfd this round: one accepted below
        // waits for the next round.
        const std::size_t polled_clients = clients.size();
        int ready = ::poll(fds.data(), fds.size(), 1000);
        if (ready < 0) {
            if (errno == EINTR) continue;
            log_line(mountpoint, "poll failed");
            return 1;
        }
        if (ready == 0) {
            seccomp_fds.prune();
            if (connection_ended(master_fd)) {
                log_line(mountpoint, "filesystem unmounted; keeper exits");
                return 0;
            }
            // A mount detached lazily while something still referenced it
            // never ends the connection. With no daemon attached and no
            // procviewfs mount at the mountpoint any more, nobody can be
            // served. (mountinfo, not statfs: statfs would ask the very
            // filesystem that has no daemon, and wait for one.)
            if (clients.empty() && mounted_type(mountpoint) != std::optional<std::string>("fuse.procviewfs")) {
                log_line(mountpoint, "not mounted there any more and no daemon attached; keeper exits");
                return 0;
            }
            continue;
        }
        if (fds[1].revents & POLLIN) {
            log_line(mountpoint, "SIGTERM: unmounting");
            ::umount2(mountpoint.c_str(), MNT_DETACH);
            return 0;
        }
        if (fds[0].revents & POLLIN) {
            int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd >= 0) {
                UniqueFd client(fd);
                if (peer_allowed(fd)) clients.push_back(Client{std::move(client), false});
            }
        }
        std::vector<std::size_t> closed;
        for (std::size_t i = 0; i < polled_clients; ++i) {
            if (!(fds[2 + i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            auto message = receive_message(clients[i].fd.get());
            if (!message) {
                closed.push_back(i);
                continue;
            }
            const std::string& cmd = message->command;
            if (seccomp_fds.handle(clients[i].fd.get(), cmd, message->payload, std::move(message->fd))) {
            } else if (cmd == "INIT") {
                init = message->payload;
            } else if (cmd == "ATTACH") {
                if (init.empty()) send_message(clients[i].fd.get(), "NOINIT", "", -1);
                else send_message(clients[i].fd.get(), "MASTER", init, master_fd);
            } else if (cmd == "SERVING") {
                for (std::size_t j = 0; j < clients.size(); ++j) {
                    if (j != i && clients[j].owner) {
                        send_message(clients[j].fd.get(), "RETIRE", "", -1);
                        clients[j].owner = false;
                    }
                }
                clients[i].owner = true;
            } else if (cmd == "UNMOUNT") {
                ::umount2(mountpoint.c_str(), MNT_DETACH);
                log_line(mountpoint, "unmounted on request; keeper exits");
                return 0;
            }
        }
        for (auto it = closed.rbegin(); it != closed.rend(); ++it) clients.erase(clients.begin() + static_cast<long>(*it));
    }
}

}  // namespace procview
