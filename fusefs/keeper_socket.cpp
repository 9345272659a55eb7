#include "fusefs/keeper_socket.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <thread>

#include "core/catalog.hpp"
#include "core/text.hpp"
#include "platform/fs.hpp"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77  // Linux 6.5, include/uapi/asm-generic/socket.h
#endif

namespace procview {

std::string mountpoint_hash(const std::string& mountpoint) {
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fnv1a64(mountpoint)));
    return hex;
}

std::string keeper_socket_path(const std::string& mountpoint) {
    return std::string(kKeeperDir) + "/" + mountpoint_hash(mountpoint) + ".sock";
}

namespace {

// A directory only root can change: lstat, so a symlink is seen as one.
Result<void> check_root_directory(const std::string& path) {
    struct stat st{};
    if (::lstat(path.c_str(), &st) != 0) return make_error(errno, "lstat " + path);
    if (S_ISLNK(st.st_mode)) return make_error(ELOOP, path + " is a symlink; refusing to use it");
    if (!S_ISDIR(st.st_mode)) return make_error(ENOTDIR, path + " is not a directory; refusing to use it");
    if (st.st_uid != 0)
        return make_error(EPERM, path + " is owned by uid " + std::to_string(st.st_uid) + ", not root; refusing to use it");
    if (st.st_mode & (S_IWGRP | S_IWOTH)) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", st.st_mode & 07777);
        return make_error(EPERM, path + " is writable by group or others (mode " + mode + "); refusing to use it");
    }
    return {};
}

}  // namespace

Result<void> ensure_private_dir(const std::string& dir) {
    auto slash = dir.find_last_of('/');
    std::string parent = slash == 0 ? "/" : dir.substr(0, slash);
    if (slash == std::string::npos) return invalid("not an absolute path: " + dir);
    if (::mkdir(parent.c_str(), 0755) != 0 && errno != EEXIST) return make_error(errno, "create " + parent);
    if (auto r = check_root_directory(parent); !r) return r;
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return make_error(errno, "create " + dir);
    return check_root_directory(dir);
}

namespace {

// The pid a pidfd refers to, from its fdinfo: -1 once the process exited.
Result<pid_t> pidfd_pid(int pidfd) {
    auto text = read_file("/proc/self/fdinfo/" + std::to_string(pidfd));
    if (!text) return text.error();
    for (auto line : split_lines(*text)) {
        if (!line.starts_with("Pid:")) continue;
        auto value = trim(line.substr(4));
        if (value.starts_with('-')) return -1;  // exited
        auto n = parse_u64(value);
        if (!n || *n == 0) return -1;  // 0: not in our pid namespace
        return static_cast<pid_t>(*n);
    }
    return make_error(ENOTSUP, "no Pid: in the pidfd's fdinfo");
}

Result<UniqueFd> peer_pidfd(int sock, pid_t pid) {
    int fd = -1;
    socklen_t len = sizeof fd;
    if (::getsockopt(sock, SOL_SOCKET, SO_PEERPIDFD, &fd, &len) == 0) return UniqueFd(fd);
    if (errno != ENOPROTOOPT && errno != EINVAL) return make_error(errno, "SO_PEERPIDFD");
    // Before 6.5 the pid can only be pinned now; a peer that exited since it
    // connected, its pid reused, is the remaining window.
    long pidfd = ::syscall(SYS_pidfd_open, pid, 0);
    if (pidfd < 0) return make_error(errno, "pidfd_open " + std::to_string(pid));
    return UniqueFd(static_cast<int>(pidfd));
}

bool exited(int pidfd) {
    pollfd p{pidfd, POLLIN, 0};  // a pidfd polls readable once its process exited
    return ::poll(&p, 1, 0) != 0;
}

Result<void> same_namespace(pid_t pid, const char* ns) {
    std::string theirs = "/proc/" + std::to_string(pid) + "/ns/" + ns, ours = std::string("/proc/self/ns/") + ns;
    struct stat a{}, b{};
    if (::stat(theirs.c_str(), &a) != 0) return make_error(errno, "stat " + theirs);
    if (::stat(ours.c_str(), &b) != 0) return make_error(errno, "stat " + ours);
    if (a.st_ino != b.st_ino || a.st_dev != b.st_dev)
        return make_error(EPERM, "peer pid " + std::to_string(pid) + " is in another " + ns + " namespace");
    return {};
}

// The peer's effective capabilities hold every one in `required`, from the
// CapEff line of /proc/<pid>/status (read while the pid is pinned).
Result<void> has_capabilities(pid_t pid, uint64_t required, const char* names) {
    std::string path = "/proc/" + std::to_string(pid) + "/status";
    auto text = read_file(path);
    if (!text) return text.error();
    for (auto line : split_lines(*text)) {
        if (!line.starts_with("CapEff:")) continue;
        auto value = trim(line.substr(7));
        uint64_t caps = 0;
        for (char c : value) {
            int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
            if (digit < 0 || value.size() > 16) return make_error(EPROTO, "unreadable CapEff in " + path);
            caps = caps << 4 | static_cast<uint64_t>(digit);
        }
        if ((caps & required) != required)
            return make_error(EPERM, "peer pid " + std::to_string(pid) + " lacks " + names + " (CapEff " +
                                         std::string(value) + ")");
        return {};
    }
    return make_error(EPROTO, "no CapEff in " + path);
}

}  // namespace

Result<void> authenticate_peer(int sock) {
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return make_error(errno, "SO_PEERCRED");
    if (cred.uid != 0) return make_error(EPERM, "peer pid " + std::to_string(cred.pid) + " runs as uid " + std::to_string(cred.uid) + ", not root");
    // 0: the peer's pid namespace is not ours nor below it.
    if (cred.pid <= 0) return make_error(EPERM, "peer is in a pid namespace we cannot see");
    auto pidfd = peer_pidfd(sock, cred.pid);
    if (!pidfd) return pidfd.error().context("pin peer pid " + std::to_string(cred.pid));
    auto pinned = pidfd_pid(pidfd->get());
    if (!pinned) return pinned.error().context("read the peer's pidfd");
    if (*pinned != cred.pid) return make_error(ESRCH, "peer pid " + std::to_string(cred.pid) + " exited");
    for (const char* ns : {"pid", "user"})
        if (auto r = same_namespace(cred.pid, ns); !r) return r;
    // Not the mount namespace: the next Kubernetes pod's procviewfs has its
    // own, and the keeper has left the first pod's (keeper_host.hpp).
    // CAP_SYS_PTRACE in our user namespace, seeing our pids: the peer could
    // take the keeper's fd itself (pidfd_getfd). CAP_SYS_ADMIN: it could mount.
    constexpr uint64_t kSysPtrace = 1ULL << 19, kSysAdmin = 1ULL << 21;
    if (auto r = has_capabilities(cred.pid, kSysPtrace | kSysAdmin, "CAP_SYS_ADMIN or CAP_SYS_PTRACE"); !r) return r;
    if (exited(pidfd->get())) return make_error(ESRCH, "peer pid " + std::to_string(cred.pid) + " exited while checked");
    return {};
}

namespace {

sockaddr_un path_address(const std::string& path, socklen_t& len) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::size_t n = std::min(path.size(), sizeof(addr.sun_path) - 1);
    std::memcpy(addr.sun_path, path.data(), n);
    len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + n + 1);
    return addr;
}

}  // namespace

Result<UniqueFd> bind_keeper_socket(const std::string& mountpoint) {
    if (auto r = ensure_private_dir(kKeeperDir); !r) return r.error();
    std::string path = keeper_socket_path(mountpoint);
    std::string temp = path + "." + std::to_string(::getpid()) + ".new";
    UniqueFd sock(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    if (!sock) return make_error(errno, "socket");
    ::unlink(temp.c_str());  // left by a dead process with our pid
    socklen_t len = 0;
    auto addr = path_address(temp, len);
    if (::bind(sock.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0) return make_error(errno, "bind " + temp);
    if (::rename(temp.c_str(), path.c_str()) != 0) {
        int err = errno;
        ::unlink(temp.c_str());
        return make_error(err, "rename " + temp + " to " + path);
    }
    return sock;
}

Result<UniqueFd> connect_keeper_socket(const std::string& mountpoint, int wait_ms) {
    std::string path = keeper_socket_path(mountpoint);
    socklen_t len = 0;
    auto addr = path_address(path, len);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
    for (;;) {
        UniqueFd sock(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
        if (!sock) return make_error(errno, "socket");
        if (::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), len) == 0) {
            if (auto r = authenticate_peer(sock.get()); !r)
                return make_error(EPERM, "the listener on " + path + " is not our keeper: " + r.error().message);
            return sock;
        }
        if (errno != ECONNREFUSED || std::chrono::steady_clock::now() >= deadline)
            return make_error(errno, "connect to the keeper at " + path);
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

}  // namespace procview
