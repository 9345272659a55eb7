// procview-bench-ready: runs a FUSE server and measures "ready to serve", the
// time from its exec to the first successful read of a file under its
// mountpoint. The process execs into the server (so the caller's $! is the
// server's pid and `wait` works); a forked prober polls the mountpoint and
// writes the result to --out (atomically, via rename).
//
//   $ procview-bench-ready --mountpoint /tmp/pvbench-1/pv --out /tmp/pvbench-1/pv.ready
//       -- build/fusefs/procviewfs -f /tmp/pvbench-1/pv > /tmp/pvbench-1/pv.log 2>&1 &
//   $ cat /tmp/pvbench-1/pv.ready
//   {"pid":4242,"ready_ms":7.41,"attempts":31}
//
// Options:
//   --mountpoint DIR   where the server mounts (required)
//   --out FILE         where the result goes (required); on failure it holds
//                      {"error": "..."} and the server is sent SIGTERM
//   --file REL         file to read, relative to the mountpoint (default proc/meminfo)
//   --timeout-ms MS    give up after MS (default 10000)

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
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

#include "core/catalog.hpp"

#include "platform/unique_fd.hpp"

namespace {

using procview::kFuseSuperMagic;

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
    std::string out;
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
        } else if (arg == "--out") {
            cli.out = value();
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
    if (cli.out.empty()) return "--out is required";
    if (cli.command.size() < 2) return "no server command after --";
    return "";
}

void write_result(const std::string& path, const std::string& text) {
    const std::string tmp = path + ".tmp";
    procview::UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd) return;
    if (::write(fd.get(), text.data(), text.size()) == static_cast<ssize_t>(text.size())) {
        fd.reset();
        ::rename(tmp.c_str(), path.c_str());
    }
}

// The prober: polls until the server serves, the timeout passes, or the
// server dies (then PR_SET_PDEATHSIG ends the prober too).
[[noreturn]] void probe(const Cli& cli, pid_t server, double started) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != server) ::_exit(1);
    const std::string file = cli.mountpoint + "/" + cli.file;
    long attempts = 0;
    for (;;) {
        ++attempts;
        if (serving(cli.mountpoint, file)) break;
        if (now_ms() - started > static_cast<double>(cli.timeout_ms)) {
            write_result(cli.out, "{\"error\":\"" + file + " not readable after " + std::to_string(cli.timeout_ms) +
                                      " ms\"}\n");
            ::kill(server, SIGTERM);
            ::_exit(1);
        }
        ::usleep(200);
    }
    char buf[160];
    std::snprintf(buf, sizeof buf, "{\"pid\":%d,\"ready_ms\":%.2f,\"attempts\":%ld}\n", server, now_ms() - started,
                  attempts);
    write_result(cli.out, buf);
    ::_exit(0);
}

}  // namespace

int main(int argc, char** argv) {
    Cli cli;
    if (auto why = parse_cli(argc, argv, cli); !why.empty()) {
        std::cerr << "procview-bench-ready: " << why
                  << "\nusage: procview-bench-ready --mountpoint DIR --out FILE [--file REL] [--timeout-ms MS]"
                     " -- COMMAND [ARG]...\n";
        return 1;
    }
    ::unlink(cli.out.c_str());
    const pid_t server = ::getpid();
    const double started = now_ms();
    pid_t prober = ::fork();
    if (prober < 0) {
        std::cerr << "procview-bench-ready: fork: " << std::strerror(errno) << "\n";
        return 1;
    }
    if (prober == 0) probe(cli, server, started);
    ::execvp(cli.command[0], cli.command.data());
    std::cerr << "procview-bench-ready: exec `" << cli.command[0] << "`: " << std::strerror(errno) << "\n";
    return 127;
}
