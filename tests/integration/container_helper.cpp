// The process inside a test container: Container (harness.cpp) forks and
// re-executes the test binary with kHelperFlag, because the test process has
// threads (read loops) by the time it starts a container. A child of a
// threaded process may only make async-signal-safe calls before exec: a lock
// another thread held at the fork (malloc's, ASan's allocator's) stays locked
// in the child for good, and its first allocation of that size waits forever.
//
// The helper joins the cgroup, unshares a pid namespace and forks the
// container's init, which reads commands from the socket (read, sendfile,
// list, busy, sysinfo, ...) and answers "OK <size>\n<body>" or "ERR <errno>\n".
#include "harness.hpp"
#include "harness_io.hpp"
#include "sysinfo_probe.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

namespace pvtest {
namespace {

using io::write_all;

// The next command; "" when the test side closed the socket. No deadline:
// the test side has one, and an idle container waits for as long as its
// test runs.
std::string read_command(int sock) {
    std::string line;
    char c;
    for (;;) {
        ssize_t n = ::read(sock, &c, 1);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0 || c == '\n') return line;
        line.push_back(c);
    }
}



std::string reply_ok(const std::string& body) { return "OK " + std::to_string(body.size()) + "\n" + body; }
std::string reply_err(int err) { return "ERR " + std::to_string(err) + "\n"; }

std::string serve_read(const std::string& path, std::size_t chunk, bool twice) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return reply_err(errno);
    // One buffer for every read of this container's init: a new one per read
    // would fill an ASan build's quarantine (256 MB) within seconds of a
    // tight loop and get the init OOM-killed in a small cgroup.
    static std::vector<char> buf;
    if (buf.size() < chunk) buf.resize(chunk);
    auto slurp = [&](std::string& out) -> int {
        for (;;) {
            ssize_t n = ::read(fd, buf.data(), chunk);
            if (n < 0) return errno;
            if (n == 0) return 0;
            out.append(buf.data(), static_cast<std::size_t>(n));
        }
    };
    std::string first, second;
    int err = slurp(first);
    if (!err && twice) {
        ::lseek(fd, 0, SEEK_SET);
        err = slurp(second);
    }
    ::close(fd);
    if (err) return reply_err(err);
    if (!twice) return reply_ok(first);
    return reply_ok(std::to_string(first.size()) + "\n" + first + second);
}

// Reads as busybox cat does: sendfile(2) (a splice read), and read(2) from
// where it stopped if sendfile fails.
std::string serve_sendfile(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return reply_err(errno);
    int out = ::memfd_create("pvit-sendfile", MFD_CLOEXEC);
    ssize_t n;
    while ((n = ::sendfile(out, fd, nullptr, 65536)) > 0) {
    }
    if (n < 0) {
        char buf[4096];
        while ((n = ::read(fd, buf, sizeof buf)) > 0)
            if (::write(out, buf, static_cast<std::size_t>(n)) != n) break;
    }
    int err = n < 0 ? errno : 0;
    ::close(fd);
    std::string content;
    if (!err) {
        off_t size = ::lseek(out, 0, SEEK_END);
        content.resize(static_cast<std::size_t>(size));
        if (::pread(out, content.data(), content.size(), 0) != size) err = EIO;
    }
    ::close(out);
    return err ? reply_err(err) : reply_ok(content);
}

[[noreturn]] void container_init(int sock) {
    std::vector<pid_t> busy;
    for (;;) {
        std::string line = read_command(sock);
        if (line.empty() || line == "exit") std::_Exit(0);
        std::istringstream in(line);
        std::string cmd;
        in >> cmd;
        std::string reply;
        if (cmd == "read" || cmd == "twice") {
            std::size_t chunk = 0;
            std::string path;
            in >> chunk;
            std::getline(in >> std::ws, path);
            reply = serve_read(path, chunk, cmd == "twice");
        } else if (cmd == "sendfile") {
            std::string path;
            std::getline(in >> std::ws, path);
            reply = serve_sendfile(path);
        } else if (cmd == "open") {
            int flags = 0;
            std::string path;
            in >> flags;
            std::getline(in >> std::ws, path);
            int fd = ::open(path.c_str(), flags | O_CLOEXEC, 0644);
            int err = fd < 0 ? errno : 0;
            if (fd >= 0) ::close(fd);
            reply = reply_ok(std::to_string(err));
        } else if (cmd == "list") {
            std::string path;
            std::getline(in >> std::ws, path);
            DIR* d = ::opendir(path.c_str());
            if (!d) {
                reply = reply_err(errno);
            } else {
                std::string names;
                while (auto* e = ::readdir(d)) names += std::string(e->d_name) + "\n";
                ::closedir(d);
                reply = reply_ok(names);
            }
        } else if (cmd == "busy") {
            int n = 0;
            in >> n;
            for (int i = 0; i < n; ++i) {
                pid_t p = ::fork();
                if (p == 0) {
                    volatile uint64_t x = 0;
                    for (;;) x = x + 1;
                }
                busy.push_back(p);
            }
            reply = reply_ok("");
        } else if (cmd == "notify") {
            std::string listener, name;
            in >> listener >> name;
            std::string err = install_sysinfo_notify(listener, name);
            reply = err.empty() ? reply_ok("") : reply_ok("ERR " + err);
        } else if (cmd == "sysinfo") {
            int count = 1;
            in >> count;
            reply = reply_ok(call_sysinfo(count));
        } else if (cmd == "sysinfo_latency") {
            int count = 1;
            in >> count;
            reply = reply_ok(sysinfo_latency(count));
        } else if (cmd == "sysinfo_flood") {
            int n = 0;
            in >> n;
            for (int i = 0; i < n; ++i) busy.push_back(start_sysinfo_flood());
            reply = reply_ok("");
        } else if (cmd == "idle") {
            for (pid_t p : busy) ::kill(p, SIGKILL);
            for (pid_t p : busy) ::waitpid(p, nullptr, 0);
            busy.clear();
            reply = reply_ok("");
        } else {
            reply = reply_err(EINVAL);
        }
        if (!write_all(sock, reply)) std::_Exit(1);
    }
}

// argv: kHelperFlag, the socket's fd number, then the cgroup.procs files to join.
[[noreturn]] void container_helper(int argc, char** argv) {
    int sock = std::atoi(argv[2]);
    ::fcntl(sock, F_SETFD, FD_CLOEXEC);
    for (int i = 3; i < argc; ++i) {
        try {
            io::write_host(argv[i], std::to_string(::getpid()));
        } catch (const std::exception& e) {
            write_all(sock, std::string("0 ") + e.what() + "\n");
            std::_Exit(1);
        }
    }
    if (::unshare(CLONE_NEWPID) != 0) {
        write_all(sock, "0 unshare: " + std::string(std::strerror(errno)) + "\n");
        std::_Exit(1);
    }
    pid_t init = ::fork();  // this process has one thread: the child may do anything
    if (init == 0) container_init(sock);
    write_all(sock, std::to_string(init) + " ok\n");
    ::close(sock);
    // The helper's exit status tells the test how the init ended (an
    // OOM kill in a small cgroup reads as 128 + SIGKILL).
    int status = 0;
    ::waitpid(init, &status, 0);
    std::_Exit(WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status));
}

}  // namespace

void run_container_helper_if_asked(int argc, char** argv) {
    if (argc >= 3 && std::strcmp(argv[1], kContainerHelperFlag) == 0) container_helper(argc, argv);
}

}  // namespace pvtest
