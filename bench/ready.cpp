// procview-bench-ready: starts a FUSE server and measures "ready to serve",
// the time from its exec to the first successful read of a file under its
// mountpoint. The server keeps running (in its own process group, output to
// --log); its pid is printed so the caller can stop it.
//
//   $ procview-bench-ready --mountpoint /tmp/pvbench-1/procview --log /tmp/pvbench-1/procview.log
//       -- build/fusefs/procviewfs -f /tmp/pvbench-1/procview
//   {"pid":4242,"ready_ms":7.41,"attempts":31}
//
// Options:
//   --mountpoint DIR   where the server mounts (required)
//   --file REL         file to read, relative to the mountpoint (default proc/meminfo)
//   --timeout-ms MS    give up (and stop the server) after MS (default 10000)
//   --log FILE         the server's stdout and stderr (default /dev/null)
// Exit status: 0 when ready, 1 otherwise (the server is stopped).

#include <fcntl.h>
#include <signal.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "platform/unique_fd.hpp"

namespace {

constexpr long kFuseSuperMagic = 0x65735546;

double now_ms() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

// True when `mountpoint` is a FUSE mount and `file` under it reads non-empty.
bool serving(const std::string& mountpoint, const std::string& file) {
    struct statfs sfs{};
    if (::statfs(mountpoint.c_str(), &sfs) != 0 || sfs.f_type != kFuseSuperMagic) return false;
    procview::UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return false;
    char buf[4096];
    return ::read(fd.get(), buf, sizeof buf) > 0;
}

struct Cli {
    std::string mountpoint;
    std::string file = "proc/meminfo";
    long timeout_ms = 10000;
    std::string log = "/dev/null";
    std::vector<char*> command;
};

std::string parse_cli(int argc, char** argv, Cli& cli) {
    int i = 1;
    for (; i < argc; ++i) {
        std::string_view arg = argv[i];
        auto value = [&]() -> std::string { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
        if (arg == "--") {
            ++i;
            break;
        }
        if (arg == "--mountpoint") {
            cli.mountpoint = value();
        } else if (arg == "--file") {
            cli.file = value();
        } else if (arg == "--log") {
            cli.log = value();
        } else if (arg == "--timeout-ms") {
            std::string v = value();
            auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), cli.timeout_ms);
            if (ec != std::errc{} || end != v.data() + v.size() || cli.timeout_ms <= 0) return "--timeout-ms needs ms";
        } else {
            return "unknown option " + std::string(arg);
        }
    }
    for (; i < argc; ++i) cli.command.push_back(argv[i]);
    cli.command.push_back(nullptr);
    if (cli.mountpoint.empty()) return "--mountpoint is required";
    if (cli.command.size() < 2) return "no server command after --";
    return "";
}

void stop(pid_t pid) {
    ::kill(pid, SIGTERM);
    for (int i = 0; i < 200; ++i) {
        if (::waitpid(pid, nullptr, WNOHANG) == pid) return;
        ::usleep(10'000);
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
}

}  // namespace

int main(int argc, char** argv) {
    Cli cli;
    if (auto why = parse_cli(argc, argv, cli); !why.empty()) {
        std::cerr << "procview-bench-ready: " << why
                  << "\nusage: procview-bench-ready --mountpoint DIR [--file REL] [--timeout-ms MS] [--log FILE]"
                     " -- COMMAND [ARG]...\n";
        return 1;
    }
    const std::string file = cli.mountpoint + "/" + cli.file;
    procview::UniqueFd log(::open(cli.log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
    if (!log) {
        std::cerr << "procview-bench-ready: open `" << cli.log << "`: " << std::strerror(errno) << "\n";
        return 1;
    }
    const double started = now_ms();
    pid_t pid = ::fork();
    if (pid < 0) {
        std::cerr << "procview-bench-ready: fork: " << std::strerror(errno) << "\n";
        return 1;
    }
    if (pid == 0) {
        // Own process group: a Ctrl-C in the terminal reaches the benchmark
        // script, whose trap unmounts and stops servers in order.
        ::setpgid(0, 0);
        ::dup2(log.get(), STDOUT_FILENO);
        ::dup2(log.get(), STDERR_FILENO);
        ::execvp(cli.command[0], cli.command.data());
        std::fprintf(stderr, "exec `%s`: %s\n", cli.command[0], std::strerror(errno));
        ::_exit(127);
    }
    long attempts = 0;
    for (;;) {
        ++attempts;
        if (serving(cli.mountpoint, file)) break;
        int status = 0;
        if (::waitpid(pid, &status, WNOHANG) == pid) {
            std::cerr << "procview-bench-ready: `" << cli.command[0] << "` exited (status " << status
                      << ") before serving; see " << cli.log << "\n";
            return 1;
        }
        if (now_ms() - started > static_cast<double>(cli.timeout_ms)) {
            std::cerr << "procview-bench-ready: `" << file << "` not readable after " << cli.timeout_ms << " ms\n";
            stop(pid);
            return 1;
        }
        ::usleep(200);
    }
    const double ready = now_ms() - started;
    std::printf("{\"pid\":%d,\"ready_ms\":%.2f,\"attempts\":%ld}\n", pid, ready, attempts);
    return 0;
}
