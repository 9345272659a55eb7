#include "fusefs/sysinfo_agent.hpp"

#include <fcntl.h>
#include <signal.h>
#include <linux/seccomp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include <nlohmann/json.hpp>

#include "fusefs/sysinfo_answer.hpp"

namespace procview {

namespace {

constexpr uint64_t kWakeKey = 1;
constexpr uint64_t kListenerKey = 2;

// The directory of the socket: created 0700; an existing one must not let
// anyone but root put a socket of their own there.
Result<void> prepare_directory(const std::string& dir) {
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return make_error(errno, "mkdir " + dir);
    struct stat st{};
    if (::lstat(dir.c_str(), &st) != 0) return make_error(errno, "stat " + dir);
    if (!S_ISDIR(st.st_mode)) return make_error(ENOTDIR, dir);
    if (st.st_uid != 0 && st.st_uid != ::geteuid()) return make_error(EPERM, dir + " is not owned by root");
    if (st.st_mode & (S_IWGRP | S_IWOTH)) return make_error(EPERM, dir + " is writable by others than root");
    return {};
}

bool complete_json_object(const std::string& data) {
    auto end = data.find_last_not_of(" \t\r\n");
    return end != std::string::npos && data[end] == '}' && nlohmann::json::accept(data);
}

bool peer_is_root(int fd) {
    ucred cred{};
    socklen_t len = sizeof cred;
    return ::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && cred.uid == 0;
}

}  // namespace

bool is_seccomp_notify_fd(int fd) {
    char link[64];
    std::string path = "/proc/self/fd/" + std::to_string(fd);
    ssize_t n = ::readlinkat(AT_FDCWD, path.c_str(), link, sizeof link - 1);
    return n > 0 && std::string_view(link, static_cast<std::size_t>(n)) == "anon_inode:seccomp notify";
}

SysinfoAgent::SysinfoAgent(ContainerRegistry& registry, ViewEngine& engine, std::shared_ptr<spdlog::logger> log,
                           std::size_t max_fds)
    : registry_(registry), engine_(engine), log_(std::move(log)), max_fds_(max_fds) {
    epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
    wake_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (epoll_ && wake_) (void)watch(wake_.get(), kWakeKey);
}

SysinfoAgent::~SysinfoAgent() { stop(); }

Result<void> SysinfoAgent::watch(int fd, uint64_t key) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = key;
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) return make_error(errno, "epoll_ctl");
    return {};
}

Result<void> SysinfoAgent::listen(const std::string& path, bool replace_live) {
    if (!epoll_ || !wake_) return make_error(EMFILE, "sysinfo agent: epoll or eventfd");
    sockaddr_un addr{};
    if (path.empty() || path[0] != '/' || path.size() >= sizeof addr.sun_path)
        return make_error(EINVAL, "sysinfo listener path `" + path + "`");
    auto slash = path.rfind('/');
    if (auto r = prepare_directory(slash == 0 ? "/" : path.substr(0, slash)); !r) return r.error().context("sysinfo listener");
    UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!sock) return make_error(errno, "socket");
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.data(), path.size());
    if (!replace_live) {
        UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (probe && ::connect(probe.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0)
            return make_error(EADDRINUSE, "another procviewfs answers sysinfo at " + path);
    }
    ::unlink(path.c_str());  // a dead instance's socket (its fds come back through the keeper)
    // Created 0600 from the start: no window in which another user can connect.
    mode_t old = ::umask(0177);
    int rc = ::bind(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    int bind_errno = errno;
    ::umask(old);
    if (rc != 0) return make_error(bind_errno, "bind " + path);
    if (::listen(sock.get(), 64) != 0) return make_error(errno, "listen " + path);
    if (auto r = watch(sock.get(), kListenerKey); !r) return r;
    listener_ = std::move(sock);
    path_ = path;
    return {};
}

Result<void> SysinfoAgent::adopt(UniqueFd notify_fd, const std::string& name) {
    if (!is_seccomp_notify_fd(notify_fd.get())) return make_error(EINVAL, name + ": not a seccomp notify fd");
    if (notifiers_.size() >= max_fds_) return make_error(EMFILE, name + ": sysinfo agent full");
    uint64_t key = next_key_++;
    if (auto r = watch(notify_fd.get(), key); !r) return r;
    notifiers_.emplace(key, Notifier{std::move(notify_fd), name});
    counters_.containers = notifiers_.size();
    return {};
}

void SysinfoAgent::start() {
    if (thread_.joinable()) return;
    stopping_ = false;
    thread_ = std::thread([this] { run(); });
}

void SysinfoAgent::stop() {
    if (!thread_.joinable()) return;
    stopping_ = true;
    uint64_t one = 1;
    (void)!::write(wake_.get(), &one, sizeof one);
    thread_.join();
}

void SysinfoAgent::run() {
    recover_inflight();
    std::array<epoll_event, 64> events{};
    while (!stopping_) {
        int timeout = pending_.empty() ? -1 : 200;
        int n = ::epoll_wait(epoll_.get(), events.data(), static_cast<int>(events.size()), timeout);
        if (n < 0 && errno != EINTR) {
            log_->error("sysinfo agent: epoll_wait: {}", std::strerror(errno));
            return;
        }
        // One notification per ready fd per round: a flooding container waits its turn.
        for (int i = 0; i < n && !stopping_; ++i) {
            uint64_t key = events[static_cast<std::size_t>(i)].data.u64;
            uint32_t what = events[static_cast<std::size_t>(i)].events;
            if (key == kWakeKey) continue;
            if (key == kListenerKey) {
                accept_runtime();
            } else if (pending_.count(key)) {
                read_pending(key);
            } else if (auto it = notifiers_.find(key); it != notifiers_.end()) {
                if (what & EPOLLIN) serve_one(key, it->second);
                else if (what & (EPOLLHUP | EPOLLERR)) drop(key);  // every task of the container exited
            }
        }
        if (!pending_.empty()) expire_pending(monotonic_ms());
    }
}

void SysinfoAgent::accept_runtime() {
    UniqueFd sock(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
    if (!sock) return;
    if (!peer_is_root(sock.get())) {
        ++counters_.refused_peers;
        log_->warn("sysinfo agent: refused a connection from a peer that is not root");
        return;
    }
    if (pending_.size() >= 64) {
        log_->warn("sysinfo agent: too many runtimes connecting at once; refused one");
        return;
    }
    uint64_t key = next_key_++;
    if (!watch(sock.get(), key)) return;
    Pending p;
    p.sock = std::move(sock);
    p.deadline_ms = monotonic_ms() + kMessageDeadlineMs;
    pending_.emplace(key, std::move(p));
}

void SysinfoAgent::read_pending(uint64_t key) {
    Pending& p = pending_.at(key);
    std::array<char, 16384> buf{};
    iovec iov{buf.data(), buf.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(4 * sizeof(int))];
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = ::recvmsg(p.sock.get(), &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); n >= 0 && c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (std::size_t i = 0; i < count; ++i) {
            int fd;
            std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            if (++p.fds_seen == 1) p.fd.reset(fd);
            else ::close(fd);
        }
    }
    bool truncated = (msg.msg_flags & MSG_CTRUNC) != 0;
    if (n > 0) p.data.append(buf.data(), static_cast<std::size_t>(n));
    if (n < 0 || truncated || p.data.size() > kMaxListenerMessage) {
        log_->warn("sysinfo agent: dropped a runtime's message ({})",
                   n < 0 ? std::strerror(errno) : truncated ? "too many fds" : "too large");
        drop(key);
        return;
    }
    // Nothing at all, then EOF: procview-runtime checking that the agent serves.
    if (n == 0 && p.data.empty() && p.fds_seen == 0) return drop(key);
    // A complete JSON object is the whole message: runc 1.1 keeps its end of
    // the connection open until it exits (`runc run` only when the container
    // does), so waiting for EOF would hold the container's first sysinfo.
    if (n > 0 && !complete_json_object(p.data)) return;
    finish_pending(p);
    drop(key);
}

void SysinfoAgent::finish_pending(Pending& p) {
    auto message = parse_listener_message(p.data);
    if (!message) {
        log_->warn("sysinfo agent: {}", message.error().describe());
        return;
    }
    if (p.fds_seen != 1 || !is_seccomp_notify_fd(p.fd.get())) {
        log_->warn("sysinfo agent: {} sent {} fd(s), not one seccomp notify fd; ignored", message->name(), p.fds_seen);
        return;
    }
    std::string name = message->name();
    int raw = p.fd.get();
    if (auto r = adopt(std::move(p.fd), name); !r) {
        log_->warn("sysinfo agent: {}", r.error().describe());
        return;
    }
    log_->info("sysinfo agent: answering sysinfo for {} (init pid {})", name, message->pid);
    if (on_new_fd_) on_new_fd_(raw, name);
}

void SysinfoAgent::drop(uint64_t key) {
    if (auto it = pending_.find(key); it != pending_.end()) {
        ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, it->second.sock.get(), nullptr);
        pending_.erase(it);
    } else if (auto n = notifiers_.find(key); n != notifiers_.end()) {
        ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, n->second.fd.get(), nullptr);
        log_->debug("sysinfo agent: {} has no task left", n->second.name);
        notifiers_.erase(n);
        counters_.containers = notifiers_.size();
    }
}

void SysinfoAgent::expire_pending(int64_t now_ms) {
    std::vector<uint64_t> late;
    for (const auto& [key, p] : pending_)
        if (now_ms > p.deadline_ms) late.push_back(key);
    for (uint64_t key : late) {
        log_->warn("sysinfo agent: a runtime connected but sent no complete message in time");
        drop(key);
    }
}

void SysinfoAgent::serve_one(uint64_t key, Notifier& n) {
    // Received straight into the in-flight record (sysinfo_handoff.hpp): a
    // kill -9 at any instant leaves either nothing received or the record.
    seccomp_notif local{};
    seccomp_notif* into = &local;
    if (inflight_) {
        std::memset(&inflight_->request, 0, sizeof inflight_->request);  // RECV wants it zeroed
        inflight_->pending.store(1, std::memory_order_release);
        into = &inflight_->request;
    }
    if (::ioctl(n.fd.get(), SECCOMP_IOCTL_NOTIF_RECV, into) != 0) {
        int err = errno;
        if (inflight_) inflight_->pending.store(0, std::memory_order_release);
        // ENOENT: the caller was interrupted before we took it. Anything else: the fd is unusable.
        if (err != ENOENT && err != EINTR) {
            log_->warn("sysinfo agent: {}: receive: {}", n.name, std::strerror(err));
            drop(key);
        }
        return;
    }
    if (kill_after_receive_) ::raise(SIGKILL);  // tests: the worst instant for a kill -9
    seccomp_notif req = *into;
    answer(n, req);
    if (inflight_) inflight_->pending.store(0, std::memory_order_release);
}

void SysinfoAgent::answer(Notifier& n, const seccomp_notif& req) {
    seccomp_notif_resp resp{};
    resp.id = req.id;
    resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;  // the kernel's own answer, unless we have a better one
    uint64_t id = req.id;
    auto valid = [&] { return ::ioctl(n.fd.get(), SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0; };
    std::optional<unsigned> bits = sysinfo_abi_bits(req.data.arch, req.data.nr);
    std::shared_ptr<Container> container;
    if (bits) {
        auto resolved = registry_.resolve(static_cast<pid_t>(req.pid));
        if (resolved) container = *resolved;
    }
    std::optional<SysinfoInputs> inputs;
    if (container)
        if (auto in = engine_.sysinfo_inputs(*container)) inputs = *in;
    if (inputs) {
        std::string bytes = encode_sysinfo(compute_sysinfo(*inputs, *bits), *bits);
        // Valid before: the pid is still the caller (it waits in the kernel for us).
        if (!valid()) return;
        WriteOutcome wrote = write_to_caller(static_cast<pid_t>(req.pid), req.data.args[0], bytes);
        if (!valid()) return;  // it went away meanwhile: no one to answer
        if (wrote != WriteOutcome::failed) {
            resp.flags = 0;
            resp.error = wrote == WriteOutcome::efault ? -EFAULT : 0;
            resp.val = 0;
        }
    }
    if (resp.flags) ++counters_.continued;
    else if (resp.error) ++counters_.efault;
    else ++counters_.answered;
    if (::ioctl(n.fd.get(), SECCOMP_IOCTL_NOTIF_SEND, &resp) != 0 && errno != ENOENT)
        log_->debug("sysinfo agent: {}: reply: {}", n.name, std::strerror(errno));
}

void SysinfoAgent::recover_inflight() {
    if (!inflight_ || inflight_->pending.load(std::memory_order_acquire) == 0) return;
    seccomp_notif req = inflight_->request;
    if (req.data.arch == 0) {  // killed before the kernel handed anything over
        inflight_->pending.store(0, std::memory_order_release);
        return;
    }
    // The record does not say which container's filter it came from: the
    // one whose fd knows the id (ids are per filter, so at most one does).
    for (auto& [key, n] : notifiers_) {
        uint64_t id = req.id;
        if (::ioctl(n.fd.get(), SECCOMP_IOCTL_NOTIF_ID_VALID, &id) != 0) continue;
        log_->info("sysinfo agent: answering the call a previous procviewfs left unanswered ({})", n.name);
        answer(n, req);
        break;
    }
    inflight_->pending.store(0, std::memory_order_release);
}

}  // namespace procview
