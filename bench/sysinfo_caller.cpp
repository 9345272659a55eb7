#include "bench/sysinfo_caller.hpp"

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "platform/unique_fd.hpp"

namespace procview::bench {

namespace {

#if defined(__x86_64__)
constexpr std::uint32_t kArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
constexpr std::uint32_t kArch = AUDIT_ARCH_AARCH64;
#else
#error "sysinfo_caller: add this architecture's AUDIT_ARCH"
#endif

// arch == native && nr == sysinfo ? USER_NOTIF : ALLOW
Result<UniqueFd> install_notify_filter() {
    sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kArch, 0, 3),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_sysinfo, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    sock_fprog prog{static_cast<unsigned short>(sizeof code / sizeof code[0]), code};
    long fd = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
    if (fd < 0) return make_error(errno, "seccomp(SECCOMP_FILTER_FLAG_NEW_LISTENER)");
    ::fcntl(static_cast<int>(fd), F_SETFD, FD_CLOEXEC);
    return UniqueFd(static_cast<int>(fd));
}

// The reader is pid 1 of its own namespace; the host's /proc still says its host pid.
pid_t host_pid() {
    char link[32] = {};
    ssize_t n = ::readlink("/proc/self", link, sizeof link - 1);
    return n > 0 ? static_cast<pid_t>(std::atoi(link)) : ::getpid();
}

}  // namespace

Result<void> hand_sysinfo_to_agent(const std::string& listener_path, const std::string& name) {
    sockaddr_un addr{};
    if (listener_path.size() >= sizeof addr.sun_path) return make_error(ENAMETOOLONG, listener_path);
    auto notify = install_notify_filter();
    if (!notify) return notify.error();
    UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!sock) return make_error(errno, "socket");
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, listener_path.data(), listener_path.size());
    if (::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
        return make_error(errno, "connect " + listener_path);
    std::string pid = std::to_string(host_pid());
    std::string json = R"({"ociVersion":"1.0.2","fds":["seccompFd"],"pid":)" + pid + R"(,"metadata":"procview:)" +
                       name + R"(","state":{"ociVersion":"1.0.2","id":")" + name + R"(","status":"creating","pid":)" +
                       pid + R"(,"bundle":"/"}})";
    iovec iov{json.data(), json.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))]{};
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    int fd = notify->get();
    std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
    if (::sendmsg(sock.get(), &msg, MSG_NOSIGNAL) != static_cast<ssize_t>(json.size()))
        return make_error(errno, "send the notify fd to " + listener_path);
    return {};  // both fds close here: the agent holds the listener now
}

std::int64_t call_sysinfo_once() {
    struct sysinfo si{};
    return ::sysinfo(&si) == 0 ? static_cast<std::int64_t>(sizeof si) : -errno;
}

}  // namespace procview::bench
