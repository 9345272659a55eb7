// procviewfs and time namespaces: a container whose init is in a time
// namespace with a boottime offset (what procview-runtime sets up) must see
// the uptime and btime the kernel itself shows there, so that `ps` — which
// adds /proc/<pid>/stat start times (shifted by the kernel) to btime — gets
// real start times.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>

#include "harness.hpp"

using namespace pvtest;

namespace {

// How far the container's CLOCK_BOOTTIME is set ahead of 0 when its
// namespace is made: its uptime then reads ~kHeadStart + its age, clearly
// different from the init's age that procviewfs shows without a namespace.
constexpr long kHeadStart = 7;
// The init waits this long before starting the probe, so "started just now"
// is not the init's own start.
constexpr int kProbeDelayMs = 1200;

std::string slurp(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return "ERR " + std::string(std::strerror(errno));
    std::string out;
    char buf[8192];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
    ::close(fd);
    return out;
}

bool write_text(int fd, const std::string& text) {
    return ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
}

uint64_t btime_of(const std::string& stat) {
    for (const auto& line : lines(stat))
        if (line.rfind("btime ", 0) == 0) return std::stoull(line.substr(6));
    return 0;
}

// Field 22 of /proc/self/stat (after the ")" that ends the comm field).
uint64_t start_ticks_of(const std::string& stat) {
    std::istringstream in(stat.substr(stat.rfind(')') + 2));
    std::string field;
    for (int i = 3; i <= 22 && in >> field; ++i) {}
    return std::stoull(field);
}

struct Probe {
    std::string kernel_uptime;  // /proc/uptime as the kernel shows it in the namespace
    std::string kernel_stat;
    std::string view_uptime;    // procviewfs's
    std::string kernel_uptime_after;  // the kernel's again, right after procviewfs's
    std::string view_stat;
    std::string self_stat;      // the probe's /proc/self/stat
    double wall_at_start = 0;   // CLOCK_REALTIME when the probe began
};

double realtime_now() {
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// The probe: a process started just now in the container; reads, reports, exits.
[[noreturn]] void run_probe(int out, const std::string& mountpoint, double wall_at_start) {
    Probe p;
    p.self_stat = slurp("/proc/self/stat");
    p.kernel_uptime = slurp("/proc/uptime");
    p.view_uptime = slurp(mountpoint + "/proc/uptime");
    p.kernel_uptime_after = slurp("/proc/uptime");
    p.kernel_stat = slurp("/proc/stat");
    p.view_stat = slurp(mountpoint + "/proc/stat");
    std::ostringstream msg;
    msg.precision(17);
    msg << wall_at_start << '\x1f' << p.self_stat << '\x1f' << p.kernel_uptime << '\x1f' << p.view_uptime << '\x1f'
        << p.kernel_stat << '\x1f' << p.view_stat << '\x1f' << p.kernel_uptime_after << '\x1f' << realtime_now();
    std::_Exit(write_text(out, msg.str()) ? 0 : 1);
}

// fork → join the cgroup → unshare pid + time namespaces → set the boottime
// offset → fork the init (pid 1, first member of the time namespace) → the
// init forks the probe after kProbeDelayMs. Returns the probe's report, or
// "ERR why".
std::string probe_in_time_namespace(const TestCgroup& cg, const std::string& mountpoint) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return "ERR pipe";
    pid_t helper = ::fork();
    if (helper == 0) {
        ::close(fds[0]);
        try {
            cg.add(::getpid());
        } catch (const std::exception& e) {
            write_text(fds[1], std::string("ERR ") + e.what());
            std::_Exit(1);
        }
        if (::unshare(CLONE_NEWPID | CLONE_NEWTIME) != 0) {
            write_text(fds[1], "ERR unshare(CLONE_NEWPID|CLONE_NEWTIME): " + std::string(std::strerror(errno)));
            std::_Exit(1);
        }
        timespec boot{};
        ::clock_gettime(CLOCK_BOOTTIME, &boot);
        std::string record = "boottime " + std::to_string(-static_cast<long>(boot.tv_sec) + kHeadStart) + " 0\n";
        int off = ::open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
        if (off < 0 || !write_text(off, record)) {
            write_text(fds[1], "ERR write timens_offsets: " + std::string(std::strerror(errno)));
            std::_Exit(1);
        }
        ::close(off);
        pid_t init = ::fork();
        if (init == 0) {
            sleep_ms(kProbeDelayMs);
            double wall = realtime_now();
            pid_t probe = ::fork();
            if (probe == 0) run_probe(fds[1], mountpoint, wall);
            int status = 0;
            ::waitpid(probe, &status, 0);
            std::_Exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
        }
        ::close(fds[1]);
        int status = 0;
        ::waitpid(init, &status, 0);
        std::_Exit(0);
    }
    ::close(fds[1]);
    std::string report;
    char buf[8192];
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) report.append(buf, static_cast<std::size_t>(n));
    ::close(fds[0]);
    ::waitpid(helper, nullptr, 0);
    return report;
}

std::vector<std::string> split_report(const std::string& report) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (true) {
        auto sep = report.find('\x1f', start);
        parts.push_back(report.substr(start, sep - start));
        if (sep == std::string::npos) break;
        start = sep + 1;
    }
    return parts;
}

}  // namespace

TEST_CASE("a container in a time namespace sees the kernel's uptime and a btime that makes ps right") {
    SKIP_UNLESS_SUPPORTED();
    if (::access("/proc/self/ns/time", F_OK) != 0) {
        MESSAGE("SKIP (integration): this kernel has no time namespaces (no /proc/self/ns/time)");
        return;
    }
    Daemon d;
    TestCgroup cg(unique_name("timens"));
    cg.set({256 * MiB, std::nullopt, 100000, std::nullopt});

    std::string report = probe_in_time_namespace(cg, d.mountpoint());
    REQUIRE_MESSAGE(report.rfind("ERR", 0) != 0, report);
    auto parts = split_report(report);
    REQUIRE(parts.size() == 8);
    double wall_at_start = std::atof(parts[0].c_str());
    uint64_t start_ticks = start_ticks_of(parts[1]);
    double kernel_uptime = std::atof(parts[2].c_str());
    double view_uptime = std::atof(parts[3].c_str());
    uint64_t kernel_btime = btime_of(parts[4]);
    uint64_t view_btime = btime_of(parts[5]);
    double kernel_uptime_after = std::atof(parts[6].c_str());
    double wall_at_end = std::atof(parts[7].c_str());
    INFO("kernel uptime " << parts[2] << "view uptime " << parts[3] << "kernel btime " << kernel_btime
                          << ", view btime " << view_btime << ", probe start " << start_ticks << " ticks");

    // procviewfs's uptime is the kernel's in that namespace: read between two
    // reads of the kernel's (both shown in hundredths, so 0.01 of slack).
    CHECK(view_uptime >= kernel_uptime - 0.01);
    CHECK(view_uptime <= kernel_uptime_after + 0.01);
    // …which counts from the namespace's clock, not from the init's start
    // (~1.2 s): the check that fails when procviewfs ignores the namespace.
    CHECK(view_uptime > static_cast<double>(kHeadStart));
    CHECK(view_uptime < static_cast<double>(kHeadStart) + 30.0);
    // btime is the kernel's (±1: the host's btime itself wobbles by a second under NTP).
    CHECK(std::llabs(static_cast<long long>(view_btime) - static_cast<long long>(kernel_btime)) <= 1);

    // ps: start = btime + starttime/HZ must be when the probe started: after
    // the init took the wall clock and before the probe's last read (with 2 s
    // of slack for btime's whole seconds and its NTP wobble)…
    double start = static_cast<double>(view_btime) + static_cast<double>(start_ticks) / 100.0;
    INFO("probe start per ps " << start << ", between " << wall_at_start << " and " << wall_at_end);
    CHECK(start >= wall_at_start - 2.0);
    CHECK(start <= wall_at_end + 2.0);
    // …and its elapsed time = uptime − starttime/HZ is not negative and no
    // more than the kernel's own uptime after the read says.
    double elapsed = view_uptime - static_cast<double>(start_ticks) / 100.0;
    CHECK(elapsed >= -0.02);  // both truncated to hundredths
    CHECK(elapsed <= kernel_uptime_after - static_cast<double>(start_ticks) / 100.0 + 0.02);

    // idle is integrated over the same uptime: never more than uptime × CPUs.
    double view_idle = std::atof(parts[3].substr(parts[3].find(' ') + 1).c_str());
    double cpus = static_cast<double>(::sysconf(_SC_NPROCESSORS_ONLN));
    CHECK(view_idle >= 0.0);
    CHECK(view_idle <= view_uptime * cpus + 0.1);
}
