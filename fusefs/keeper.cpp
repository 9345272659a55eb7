#include "fusefs/keeper.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/text.hpp"
#include "fusefs/keeper_host.hpp"
#include "fusefs/keeper_protocol.hpp"
#include "fusefs/keeper_seccomp.hpp"
#include "fusefs/keeper_socket.hpp"
#include "fusefs/session.hpp"
#include "fusefs/unix_message.hpp"
#include "platform/unique_fd.hpp"

namespace procview {
namespace {

int64_t steady_ms() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// Whether the FUSE connection is over (unmounted, or aborted): /dev/fuse
// then polls as an error. A zero timeout leaves no waiter on its queue.
bool connection_ended(int master_fd) {
    pollfd p{master_fd, 0, 0};
    return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLERR | POLLHUP | POLLNVAL));
}

void log_line(const std::string& mountpoint, const std::string& what) {
    // The keeper has no logger of its own: stderr is whatever procviewfs had.
    std::fprintf(stderr, "procviewfs keeper [%d] %s: %s\n", ::getpid(), mountpoint.c_str(), what.c_str());
}

// Removes our socket file on exit, unless a newer keeper's has replaced it.
class SocketFile {
public:
    explicit SocketFile(std::string path) : path_(std::move(path)) {
        struct stat st{};
        if (::lstat(path_.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) id_ = {st.st_dev, st.st_ino};
    }
    ~SocketFile() {
        struct stat st{};
        if (id_ && ::lstat(path_.c_str(), &st) == 0 && id_->first == st.st_dev && id_->second == st.st_ino)
            ::unlink(path_.c_str());
    }
    SocketFile(const SocketFile&) = delete;
    SocketFile& operator=(const SocketFile&) = delete;

private:
    std::string path_;
    std::optional<std::pair<dev_t, ino_t>> id_;
};

struct Client {
    UniqueFd fd;
    bool holds_connection = false;  // gave the stored INIT or took a clone
    bool owner = false;             // the last to announce SERVING
    UniqueFd lent;                  // the clone it serves from, kept while the kernel can resend
};

class Keeper {
public:
    Keeper(int master_fd, int listen_fd, std::string mountpoint)
        : master_fd_(master_fd), listen_fd_(listen_fd), mountpoint_(std::move(mountpoint)) {}
    int run(int signal_fd);

private:
    enum class Next { keep, close, exit };
    void accept_clients();
    Next handle(Client& client);
    void on_init(Client& client, const std::string& payload);
    void on_attach(Client& client);
    void on_serving(Client& client);
    bool nothing_left_to_keep();

    int master_fd_;
    int listen_fd_;
    std::string mountpoint_;
    std::string init_;
    std::vector<Client> clients_;
    // Clones lent to daemons that are gone: closing one fails the requests
    // its daemon read and never answered (ECONNABORTED); kept, the next
    // daemon's FUSE_NOTIFY_RESEND queues them again. Closed once it serves,
    // or after kResendGraceMs without one: a reader whose request is held
    // cannot even be killed (the kernel waits uninterruptibly for an answer
    // to a request a server has read), so the wait must end.
    struct Orphan {
        UniqueFd fd;
        int64_t since_ms;
    };
    std::vector<Orphan> orphans_;
    void expire_orphans();
    KeeperSeccompFds seccomp_fds_;  // the sysinfo agent's, across daemons
};

void Keeper::accept_clients() {
    for (int round = 0; round < 64; ++round) {  // bounded: a flood must not starve the clients
        UniqueFd fd(::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
        if (!fd) return;  // EAGAIN: none left
        if (clients_.size() >= kMaxKeeperClients) {
            log_line(mountpoint_, "refused a connection: already " + std::to_string(kMaxKeeperClients) + " clients");
            continue;
        }
        if (auto r = authenticate_peer(fd.get()); !r) {
            log_line(mountpoint_, "refused a connection: " + r.error().describe());
            // Tells a procviewfs started elsewhere (another mount namespace)
            // that a keeper lives and refuses it, so it does not take the
            // keeper for gone and replace the mount.
            (void)send_message(fd.get(), "REFUSED", "", -1);
            continue;
        }
        clients_.push_back(Client{.fd = std::move(fd), .lent = {}});
    }
}

void Keeper::on_init(Client& client, const std::string& payload) {
    if (!init_.empty()) {
        log_line(mountpoint_, "refused an INIT: the connection's INIT is already stored");
        return;
    }
    init_ = payload;
    client.holds_connection = true;
    (void)send_message(client.fd.get(), "STORED", "", -1);
}

void Keeper::on_attach(Client& client) {
    if (init_.empty()) {
        (void)send_message(client.fd.get(), "NOINIT", "", -1);
        return;
    }
    // A clone, never our own fd: whatever the client does with it, the
    // connection's original stays here.
    auto clone = clone_fuse_device(master_fd_);
    if (!clone) {
        log_line(mountpoint_, "ATTACH: " + clone.error().describe());
        return;
    }
    if (!send_message(client.fd.get(), "CLONE", init_, clone->get())) return;
    client.holds_connection = true;
    if (init_offers_resend(init_)) client.lent = std::move(*clone);
}

void Keeper::on_serving(Client& client) {
    if (!client.holds_connection) {
        log_line(mountpoint_, "refused SERVING from a client that holds no clone of the connection");
        return;
    }
    for (auto& other : clients_) {
        if (&other != &client && other.owner) {
            (void)send_message(other.fd.get(), "RETIRE", "", -1);
            other.owner = false;
        }
    }
    client.owner = true;
    orphans_.clear();  // the new owner has sent FUSE_NOTIFY_RESEND before SERVING
}

Keeper::Next Keeper::handle(Client& client) {
    auto message = receive_message(client.fd.get());
    if (!message) return Next::close;
    auto command = validate_keeper_message(message->command, message->payload);
    if (!command) {
        log_line(mountpoint_, "refused a message: " + command.error().describe());
        return Next::keep;
    }
    switch (*command) {
        case KeeperCommand::Seccomp:
        case KeeperCommand::Inflight:
        case KeeperCommand::SeccompFds:
            if (!client.holds_connection) {
                log_line(mountpoint_, "refused " + message->command + " from a client that holds no clone of the connection");
                break;
            }
            seccomp_fds_.handle(client.fd.get(), message->command, message->payload, std::move(message->fd));
            break;
        case KeeperCommand::Init: on_init(client, message->payload); break;
        case KeeperCommand::Attach: on_attach(client); break;
        case KeeperCommand::Serving: on_serving(client); break;
        case KeeperCommand::Unmount:
            if (!client.owner) {
                log_line(mountpoint_, "refused UNMOUNT from a client that is not the serving daemon");
                break;
            }
            ::umount2(mountpoint_.c_str(), MNT_DETACH);
            log_line(mountpoint_, "unmounted on request; keeper exits");
            return Next::exit;
    }
    return Next::keep;
}

void Keeper::expire_orphans() {
    const int64_t now = steady_ms();
    auto expired = [&](const Orphan& o) { return now - o.since_ms >= kResendGraceMs; };
    auto first = std::remove_if(orphans_.begin(), orphans_.end(), expired);
    if (first == orphans_.end()) return;
    log_line(mountpoint_, "no procviewfs took over within " + std::to_string(kResendGraceMs) +
                              " ms: the requests a killed daemon held fail now");
    orphans_.erase(first, orphans_.end());
}

bool Keeper::nothing_left_to_keep() {
    if (connection_ended(master_fd_)) {
        log_line(mountpoint_, "filesystem unmounted; keeper exits");
        return true;
    }
    // A mount detached lazily while something still referenced it never
    // ends the connection. With no daemon attached and no procviewfs mount at
    // the mountpoint any more, nobody can be served. (mountinfo, not statfs:
    // statfs would ask the very filesystem that has no daemon, and wait.)
    if (clients_.empty() && mounted_type(mountpoint_) != std::optional<std::string>("fuse.procviewfs")) {
        log_line(mountpoint_, "not mounted there any more and no daemon attached; keeper exits");
        return true;
    }
    return false;
}

int Keeper::run(int signal_fd) {
    for (;;) {
        // The FUSE fd is not in this set: the kernel wakes every poller of a
        // connection on every request it queues, whatever events they asked
        // for, so polling it here would wake the keeper once per request
        // (half a million wake-ups a minute under load). It is checked with a
        // zero timeout, which registers no waiter, once a second instead.
        std::vector<pollfd> fds{{listen_fd_, POLLIN, 0}, {signal_fd, POLLIN, 0}};
        for (auto& c : clients_) fds.push_back({c.fd.get(), POLLIN, 0});
        int ready = ::poll(fds.data(), fds.size(), 1000);
        if (ready < 0) {
            if (errno == EINTR) continue;
            log_line(mountpoint_, "poll failed");
            return 1;
        }
        expire_orphans();
        if (ready == 0) {
            seccomp_fds_.prune();
            if (nothing_left_to_keep()) return 0;
            continue;
        }
        if (fds[1].revents & POLLIN) {
            log_line(mountpoint_, "SIGTERM: unmounting");
            ::umount2(mountpoint_.c_str(), MNT_DETACH);
            return 0;
        }
        // Only the clients polled this round have a pollfd: handle them
        // before accepting, and erase closed ones after.
        std::vector<bool> closed(clients_.size(), false);
        for (std::size_t i = 0; i < closed.size(); ++i) {
            if (!(fds[2 + i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            Next next = handle(clients_[i]);
            if (next == Next::exit) return 0;
            closed[i] = next == Next::close;
        }
        for (std::size_t i = closed.size(); i-- > 0;) {
            if (!closed[i]) continue;
            if (clients_[i].lent) orphans_.push_back({std::move(clients_[i].lent), steady_ms()});
            if (orphans_.size() > kMaxKeeperClients) orphans_.erase(orphans_.begin());  // bounded
            clients_.erase(clients_.begin() + static_cast<long>(i));
        }
        if (fds[0].revents & POLLIN) accept_clients();
    }
}

// The pod's stderr has no reader once the pod is gone: log where the next
// operator finds it, in the keeper's root-only directory.
std::string leave_pod(const std::string& name, const std::string& mountpoint, std::vector<std::string>& joined) {
    pid_t host_pid = 1;
    if (const char* text = ::getenv(kHostPidEnv); text && *text) {
        auto n = parse_u64(text);
        host_pid = n && *n > 0 && *n < (1u << 22) ? static_cast<pid_t>(*n) : -1;
    }
    auto r = host_pid > 0 ? keeper_leave_pod(name, host_pid, joined)
                          : Result<void>(invalid(std::string(kHostPidEnv) + " is not a pid"));
    if (!r) log_line(mountpoint, "leaving the pod: " + r.error().describe());
    if (joined.empty()) {
        log_line(mountpoint, "still in the pod's cgroup: the keeper dies with the pod");
        return "";
    }
    std::string log = std::string(kKeeperDir) + "/" + mountpoint_hash(mountpoint) + ".log";
    log_line(mountpoint, "left the pod for cgroup " + name + " in " + std::to_string(joined.size()) +
                             " hierarchies and the host's mount namespace; logging to " + log);
    struct stat st{};
    int trunc = ::stat(log.c_str(), &st) == 0 && st.st_size > (1 << 20) ? O_TRUNC : 0;
    if (int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | trunc, 0600); fd >= 0) {
        ::dup2(fd, 2);
        ::close(fd);
    }
    log_line(mountpoint, "left the pod for cgroup " + name);
    return log;
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

    std::vector<std::string> cgroups;  // keeper_host.hpp: set when we left a pod
    std::string log_file;
    if (const char* name = ::getenv(kKeeperCgroupEnv); name && *name) log_file = leave_pod(name, mountpoint, cgroups);

    // We listen, not the daemon that bound the socket: a connecting daemon's
    // SO_PEERCRED then names this process, which it authenticates.
    int flags = ::fcntl(listen_fd, F_GETFL);
    if (flags < 0 || ::fcntl(listen_fd, F_SETFL, flags | O_NONBLOCK) != 0 ||
        ::listen(listen_fd, static_cast<int>(kMaxKeeperClients)) != 0) {
        log_line(mountpoint, std::string("cannot listen: ") + std::strerror(errno));
        return 1;
    }
    int rc = 0;
    {
        SocketFile socket_file(keeper_socket_path(mountpoint));
        rc = Keeper(master_fd, listen_fd, mountpoint).run(sigfd.get());
    }
    keeper_leave_cgroups(cgroups);
    if (rc == 0 && !log_file.empty()) ::unlink(log_file.c_str());
    return rc;
}

}  // namespace procview
