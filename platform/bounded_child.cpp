#include "platform/bounded_child.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>

#include "platform/unique_fd.hpp"

namespace procview {

namespace {

// Only async-signal-safe calls: the caller may have threads.
[[noreturn]] void child_main(int report_fd, pid_t parent, const std::function<int(int)>& body) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(125);
    int null = ::open("/dev/null", O_RDWR);
    if (null < 0) ::_exit(125);
    for (int fd = 0; fd <= 2; ++fd)
        if (::dup2(null, fd) < 0) ::_exit(125);
    if (null > 2) ::close(null);
    ::_exit(body(report_fd));
}

// poll() on one fd for POLLIN until `deadline`; false when it passed first.
bool readable_before(int fd, Deadline deadline) {
    for (;;) {
        const long long left = ms_left(deadline);
        struct pollfd pfd {fd, POLLIN, 0};
        int n = ::poll(&pfd, 1, static_cast<int>(left));
        if (n > 0) return true;
        if (n == 0) return false;
        if (errno != EINTR) return true;  // let the read or waitpid report it
    }
}

// Reads the report until EOF (the child exited or closed it) or `deadline`.
bool read_report(int fd, Deadline deadline, std::string& out) {
    char buf[4096];
    for (;;) {
        if (!readable_before(fd, deadline)) return false;
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return true;
        out.append(buf, static_cast<std::size_t>(n));
    }
}

// Reaps `pid` if it exits before `deadline`. A pidfd says when without
// blocking (Linux 5.3+); without one, WNOHANG every millisecond.
bool reap_before(pid_t pid, Deadline deadline, int& status) {
    UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    for (;;) {
        pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid) return true;
        if (r < 0 && errno != EINTR) return true;  // not our child any more: nothing to wait for
        if (ms_left(deadline) <= 0) return false;
        if (pidfd) {
            readable_before(pidfd.get(), deadline);
        } else {
            struct timespec ms {0, 1'000'000};
            ::nanosleep(&ms, nullptr);
        }
    }
}

}  // namespace

long long ms_left(Deadline deadline) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    return left < 0 ? 0 : left;
}

Result<ChildOutcome> run_child_until(Deadline deadline, const std::function<int(int report_fd)>& body) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return make_error(errno, "pipe");
    UniqueFd read_end(fds[0]);
    UniqueFd write_end(fds[1]);
    const pid_t self = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) return make_error(errno, "fork");
    if (pid == 0) child_main(write_end.get(), self, body);
    write_end.reset();  // EOF once the child is gone, not a hang

    ChildOutcome out;
    if (read_report(read_end.get(), deadline, out.report) && reap_before(pid, deadline, out.status)) return out;
    // Unreaped, the pid cannot have been reused: the kill hits our child.
    // Never waitpid() it: it may sleep in an unanswered FUSE request forever.
    ::kill(pid, SIGKILL);
    out.timed_out = true;
    return out;
}

}  // namespace procview
