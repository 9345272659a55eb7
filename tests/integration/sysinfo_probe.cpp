#include "sysinfo_probe.hpp"

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <vector>
#include <cstring>
#include <sstream>

namespace pvtest {

namespace {

// arch == native ? (nr == sysinfo ? USER_NOTIF : ALLOW) : ALLOW
int notify_filter() {
#if defined(__x86_64__)
    constexpr uint32_t arch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
    constexpr uint32_t arch = AUDIT_ARCH_AARCH64;
#endif
    sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, arch, 0, 3),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_sysinfo, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    sock_fprog prog{static_cast<unsigned short>(sizeof code / sizeof code[0]), code};
    return static_cast<int>(::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog));
}

}  // namespace

std::string install_sysinfo_notify(const std::string& listener, const std::string& name, int pid_in_host) {
    int notify = notify_filter();
    if (notify < 0) return std::string("seccomp: ") + std::strerror(errno);
    int sock = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, listener.c_str(), sizeof addr.sun_path - 1);
    if (::connect(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        std::string err = std::string("connect ") + listener + ": " + std::strerror(errno);
        ::close(sock);
        ::close(notify);
        return err;
    }
    std::string json = R"({"ociVersion":"1.0.2","fds":["seccompFd"],"pid":)" + std::to_string(pid_in_host) +
                       R"(,"metadata":"procview:)" + name + R"(","state":{"ociVersion":"1.0.2","id":")" + name +
                       R"(","status":"creating","pid":)" + std::to_string(pid_in_host) + R"(,"bundle":"/"}})";
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
    std::memcpy(CMSG_DATA(c), &notify, sizeof notify);
    ssize_t n = ::sendmsg(sock, &msg, MSG_NOSIGNAL);
    int err = errno;
    ::close(sock);  // EOF ends the message, as with runc
    ::close(notify);
    if (n != static_cast<ssize_t>(json.size())) return std::string("sendmsg: ") + std::strerror(err);
    return "";
}

std::string call_sysinfo(int count) {
    struct sysinfo si{};
    int failures = 0, last_errno = 0;
    for (int i = 0; i < count; ++i) {
        if (::sysinfo(&si) != 0) {
            ++failures;
            last_errno = errno;
        }
    }
    errno = 0;
    long bad = ::syscall(SYS_sysinfo, reinterpret_cast<void*>(8));
    int efault = bad == 0 ? 0 : errno;
    std::ostringstream out;
    out << si.uptime << ' ' << si.loads[0] << ' ' << si.loads[1] << ' ' << si.loads[2] << ' ' << si.totalram << ' '
        << si.freeram << ' ' << si.sharedram << ' ' << si.bufferram << ' ' << si.totalswap << ' ' << si.freeswap << ' '
        << si.procs << ' ' << si.mem_unit << ' ' << failures << ' ' << last_errno << ' ' << efault;
    return out.str();
}

std::string sysinfo_latency(int count) {
    std::vector<double> us;
    us.reserve(static_cast<std::size_t>(count));
    int failures = 0;
    struct sysinfo si{};
    for (int i = 0; i < count; ++i) {
        auto t0 = std::chrono::steady_clock::now();
        if (::sysinfo(&si) != 0) ++failures;
        us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(us.begin(), us.end());
    auto at = [&](double q) { return us.empty() ? 0.0 : us[static_cast<std::size_t>(q * static_cast<double>(us.size() - 1))]; };
    std::ostringstream out;
    out << at(0.5) << ' ' << at(0.99) << ' ' << (us.empty() ? 0.0 : us.back()) << ' ' << failures;
    return out.str();
}

int start_sysinfo_flood() {
    pid_t pid = ::fork();
    if (pid == 0) {
        struct sysinfo si{};
        for (;;) (void)::sysinfo(&si);
    }
    return pid;
}

}  // namespace pvtest
