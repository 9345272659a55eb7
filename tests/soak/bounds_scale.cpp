// procview_bounds_scale — the daemon's steady-state memory and fds with many
// containers holding many open files (README "Bounds", docs/performance.md).
//
//   # procview_bounds_scale --containers 1000 --files-per-container 100
//   what                                   value
//   containers                             1000
//   open files held by readers             100000
//   daemon RSS before (kB)                 5300
//   ...
// Each container is a process that is pid 1 of its own pid namespace in its
// own cgroup; it opens its share of files (meminfo, stat, cpuinfo, loadavg,
// uptime, sys/.../online), reads each to its end, keeps them open and
// waits. Run by hand (a few minutes at 1000 containers), not in CI.
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <chrono>
#include <cstdlib>
#include <iterator>
#include <stdexcept>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "harness.hpp"

using namespace pvtest;
using Clock = std::chrono::steady_clock;

namespace {

const char* const kFiles[] = {"proc/meminfo", "proc/stat", "proc/cpuinfo", "proc/loadavg", "proc/uptime",
                              "sys/devices/system/cpu/online"};

long status_kb(pid_t pid, const char* key) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(key, 0) == 0) return std::stol(line.substr(std::strlen(key)));
    return -1;
}

long fd_count(pid_t pid) {
    std::error_code ec;
    long n = 0;
    for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
        ++n;
    return n;
}

struct Reader {
    pid_t helper = -1;
    pid_t init = -1;  // host pid of the namespace's init
};

// Helper: joins `cg`, unshares a pid namespace, forks its init, reports the
// init's pid and how many opens failed on `report`, then waits for it.
Reader start_reader(const TestCgroup& cg, const std::string& mount, int files) {
    int pipefd[2];
    if (::pipe2(pipefd, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
    pid_t helper = ::fork();
    if (helper == 0) {
        ::close(pipefd[0]);
        cg.add(::getpid());
        if (::unshare(CLONE_NEWPID) != 0) std::_Exit(1);
        pid_t init = ::fork();
        if (init == 0) {
            rlimit lim{static_cast<rlim_t>(files + 64), static_cast<rlim_t>(files + 64)};
            ::setrlimit(RLIMIT_NOFILE, &lim);
            int failed = 0;
            std::vector<char> buf(1 << 16);
            for (int i = 0; i < files; ++i) {
                std::string path = mount + "/" + kFiles[i % std::size(kFiles)];
                int fd = ::open(path.c_str(), O_RDONLY);
                if (fd < 0) {
                    ++failed;
                    continue;
                }
                while (::read(fd, buf.data(), buf.size()) > 0) {
                }
            }
            int32_t msg[2] = {static_cast<int32_t>(::getpid()), failed};  // getpid() is 1 here
            (void)!::write(pipefd[1], msg, sizeof msg);
            for (;;) ::pause();
        }
        int32_t msg[2] = {init, -1};
        (void)!::write(pipefd[1], msg, sizeof msg);
        ::waitpid(init, nullptr, 0);
        std::_Exit(0);
    }
    ::close(pipefd[1]);
    Reader r;
    r.helper = helper;
    int32_t msg[2];
    if (::read(pipefd[0], msg, sizeof msg) == sizeof msg) r.init = msg[0];
    int failed = 0;
    if (::read(pipefd[0], msg, sizeof msg) == sizeof msg) failed = msg[1];
    ::close(pipefd[0]);
    if (failed) std::fprintf(stderr, "reader %d: %d opens failed\n", r.init, failed);
    return r;
}

void row(const char* what, long value) { std::printf("%-40s %ld\n", what, value); }

}  // namespace

int main(int argc, char** argv) {
    int containers = 1000, per_container = 100;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string a = argv[i];
        if (a == "--containers") containers = std::atoi(argv[i + 1]);
        else if (a == "--files-per-container") per_container = std::atoi(argv[i + 1]);
        else if (a == "--procviewfs") ::setenv("PROCVIEWFS_BIN", argv[i + 1], 1);
    }
    if (auto why = unsupported_reason(); !why.empty()) {
        std::printf("SKIP: %s\n", why.c_str());
        return 0;
    }
    // The daemon inherits this (a systemd unit sets LimitNOFILE).
    rlimit nofile{1 << 20, 1 << 20};
    if (::setrlimit(RLIMIT_NOFILE, &nofile) != 0) std::fprintf(stderr, "cannot raise RLIMIT_NOFILE\n");
    Daemon daemon;
    sleep_ms(500);
    row("containers", containers);
    row("open files held by readers", static_cast<long>(containers) * per_container);
    row("daemon RSS before (kB)", status_kb(daemon.pid(), "VmRSS:"));
    row("daemon fds before", fd_count(daemon.pid()));
    std::vector<std::unique_ptr<TestCgroup>> cgroups;
    std::vector<Reader> readers;
    auto t0 = Clock::now();
    for (int i = 0; i < containers; ++i) {
        cgroups.push_back(std::make_unique<TestCgroup>(unique_name("scale-" + std::to_string(i))));
        cgroups.back()->set_memory((256 + static_cast<uint64_t>(i)) * MiB);
        readers.push_back(start_reader(*cgroups.back(), daemon.mountpoint(), per_container));
    }
    auto setup_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
    row("set-up time (ms)", static_cast<long>(setup_ms));
    sleep_ms(2000);
    row("daemon RSS with all open (kB)", status_kb(daemon.pid(), "VmRSS:"));
    row("daemon peak RSS (kB)", status_kb(daemon.pid(), "VmHWM:"));
    row("daemon fds with all open", fd_count(daemon.pid()));
    for (auto& r : readers)
        if (r.init > 0) ::kill(r.init, SIGKILL);
    for (auto& r : readers) ::waitpid(r.helper, nullptr, 0);
    sleep_ms(2000);
    row("daemon RSS after readers exit (kB)", status_kb(daemon.pid(), "VmRSS:"));
    row("daemon fds after readers exit", fd_count(daemon.pid()));
    readers.clear();
    cgroups.clear();
    return 0;
}
