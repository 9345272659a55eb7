#include "platform/health.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "platform/unique_fd.hpp"

namespace procview {

namespace {

enum class Stage : int { ok, statfs, not_fuse, open, read, empty };

// Written by the child in one write(2) (smaller than PIPE_BUF, so atomic).
struct Probe {
    Stage stage = Stage::ok;
    int err = 0;
    long f_type = 0;
};

// Runs in the forked child: only async-signal-safe calls (the parent may
// have threads, e.g. the runtime wrapper), no allocation.
[[noreturn]] void probe_child(int report_fd, pid_t parent, const char* mountpoint, const char* uptime_path) {
    // A child stuck in a FUSE request must not outlive a caller that was
    // killed (say, by the runtime's hook timeout) before it could reap it.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    Probe p;
    struct statfs sfs {};
    char buf[128];
    if (::statfs(mountpoint, &sfs) != 0) {
        p = {Stage::statfs, errno, 0};
    } else if (static_cast<long>(sfs.f_type) != kFuseSuperMagic) {
        p = {Stage::not_fuse, 0, static_cast<long>(sfs.f_type)};
    } else {
        int fd = ::open(uptime_path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            p = {Stage::open, errno, 0};
        } else {
            ssize_t n;
            do n = ::read(fd, buf, sizeof buf);
            while (n < 0 && errno == EINTR);
            if (n < 0) p = {Stage::read, errno, 0};
            else if (n == 0) p = {Stage::empty, 0, 0};
        }
    }
    ssize_t w = ::write(report_fd, &p, sizeof p);
    ::_exit(w == static_cast<ssize_t>(sizeof p) ? 0 : 1);
}

Error describe_probe(const Probe& p, const std::string& mountpoint, const std::string& uptime_path) {
    switch (p.stage) {
    case Stage::statfs: return make_error(p.err, "statfs `" + mountpoint + "`");
    case Stage::not_fuse: {
        char hex[32];
        std::snprintf(hex, sizeof hex, "0x%lx", static_cast<unsigned long>(p.f_type));
        return make_error(0, "`" + mountpoint + "` is not a FUSE mount (filesystem type " + hex +
                                 "): procviewfs is not mounted there");
    }
    case Stage::open: return make_error(p.err, "open `" + uptime_path + "`");
    case Stage::read: return make_error(p.err, "read `" + uptime_path + "`");
    case Stage::empty: return make_error(0, "`" + uptime_path + "` is empty");
    case Stage::ok: break;
    }
    return make_error(0, "health probe of `" + mountpoint + "`: no answer");
}

// Waits for the child's report until `deadline`; false on timeout.
bool wait_readable(int fd, std::chrono::steady_clock::time_point deadline) {
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() < 0) return false;
        struct pollfd pfd {fd, POLLIN, 0};
        int n = ::poll(&pfd, 1, static_cast<int>(left.count()) + 1);
        if (n > 0) return true;
        if (n == 0) return false;
        if (errno != EINTR) return true;  // let the read report the failure
    }
}

void reap(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
}

}  // namespace

Result<void> check_procview_serving(const std::string& mountpoint, std::chrono::milliseconds timeout) {
    const std::string uptime_path = mountpoint + "/proc/uptime";
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return make_error(errno, "health probe: pipe");
    UniqueFd read_end(fds[0]);
    UniqueFd write_end(fds[1]);

    const auto deadline = std::chrono::steady_clock::now() + timeout;
    const pid_t self = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) return make_error(errno, "health probe: fork");
    if (pid == 0) probe_child(write_end.get(), self, mountpoint.c_str(), uptime_path.c_str());
    write_end.reset();  // so a child that dies without reporting gives EOF, not a hang

    if (!wait_readable(read_end.get(), deadline)) {
        ::kill(pid, SIGKILL);  // FUSE waits are killable: the child goes away even mid-request
        reap(pid);
        return make_error(ETIMEDOUT, "`" + mountpoint + "` did not answer within " +
                                         std::to_string(timeout.count()) + " ms (procviewfs hung?)");
    }
    Probe p;
    ssize_t n;
    do n = ::read(read_end.get(), &p, sizeof p);
    while (n < 0 && errno == EINTR);
    int read_errno = errno;
    reap(pid);
    if (n < 0) return make_error(read_errno, "health probe: read report");
    if (n != static_cast<ssize_t>(sizeof p)) return make_error(0, "health probe of `" + mountpoint + "` died");
    if (p.stage != Stage::ok) return describe_probe(p, mountpoint, uptime_path);
    return {};
}

}  // namespace procview
