// Per-container files (containers/<pid>-<start>/proc/…, fusefs/cached_views.hpp):
// keyed by the process's own cgroup, cached by the kernel within a bounded
// window, fresh after a limit write, and still served after kill -9 and
// --takeover.
#include <doctest/doctest.h>
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>

#include "harness.hpp"

using namespace pvtest;

namespace {

// A process that sleeps until destroyed, in the pid namespace of process
// `share_pidns_of` (the test's own when -1), moved into `cgroup`.
class Sleeper {
public:
    Sleeper(const TestCgroup& cgroup, pid_t share_pidns_of = -1) {
        int p[2];
        if (::pipe2(p, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
        std::string ns = "/proc/" + std::to_string(share_pidns_of) + "/ns/pid";
        helper_ = ::fork();
        if (helper_ < 0) throw std::runtime_error("fork");
        if (helper_ == 0) {
            // Only async-signal-safe calls: the test process has threads.
            if (share_pidns_of > 0) {
                int fd = ::open(ns.c_str(), O_RDONLY | O_CLOEXEC);
                if (fd < 0 || ::setns(fd, CLONE_NEWPID) != 0) ::_exit(1);
            }
            pid_t g = ::fork();
            if (g == 0) {
                for (;;) ::pause();
            }
            (void)!::write(p[1], &g, sizeof g);
            ::waitpid(g, nullptr, 0);
            ::_exit(0);
        }
        ::close(p[1]);
        if (::read(p[0], &pid_, sizeof pid_) != sizeof pid_ || pid_ <= 0) pid_ = -1;
        ::close(p[0]);
        if (pid_ < 0) throw std::runtime_error("sleeper did not start");
        cgroup.add(pid_);
        std::string stat = read_proc_text("/proc/" + std::to_string(pid_) + "/stat");
        std::string rest = stat.substr(stat.rfind(')') + 2);
        std::istringstream in(rest);
        std::string field;
        for (int i = 3; i <= 22 && in >> field; ++i) {}
        start_ticks_ = std::stoull(field);
    }
    ~Sleeper() { stop(); }
    void stop() {
        if (pid_ > 0) ::kill(pid_, SIGKILL);
        if (helper_ > 0) ::waitpid(helper_, nullptr, 0);
        pid_ = helper_ = -1;
    }
    Sleeper(const Sleeper&) = delete;
    Sleeper& operator=(const Sleeper&) = delete;

    [[nodiscard]] pid_t pid() const { return pid_; }
    [[nodiscard]] uint64_t start_ticks() const { return start_ticks_; }
    // Its directory below the mountpoint.
    [[nodiscard]] std::string dir() const {
        return "containers/" + std::to_string(pid_) + "-" + std::to_string(start_ticks_);
    }

private:
    pid_t helper_ = -1;
    pid_t pid_ = -1;
    uint64_t start_ticks_ = 0;
};

// A config file naming the freshness window, removed with the object.
struct WindowConfig {
    std::string path;
    explicit WindowConfig(unsigned window_ms) {
        path = "/tmp/" + unique_name("window" + std::to_string(window_ms)) + ".json";
        std::ofstream(path) << "{\"cache_window_ms\": " << window_ms << "}\n";
    }
    ~WindowConfig() { ::unlink(path.c_str()); }
    [[nodiscard]] std::vector<std::string> args() const { return {"--config", path}; }
};

// open, read(2) to EOF, close: what a container's reader does.
std::string read_now(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw std::runtime_error("open " + path + ": " + std::strerror(errno));
    std::string out;
    char buf[65536];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
    int e = errno;
    ::close(fd);
    if (n < 0) throw std::runtime_error("read " + path + ": " + std::strerror(e));
    return out;
}

// Seconds process `start_ticks` has been up, as the kernel counts now.
// The "cpu" line of a /proc/stat rendering: its fields' sum (ticks) and the
// number of cpuN lines. With no quota over n CPUs the sum advances 100·n
// ticks a second (every CPU's busy + idle is the container's uptime), so a
// rendering's age is how far its sum lags one made at the moment of reading.
struct StatClock {
    double total = 0;
    int cpus = 0;
};
StatClock stat_clock(const std::string& stat) {
    StatClock c;
    for (const auto& line : lines(stat)) {
        if (line.rfind("cpu ", 0) == 0) {
            std::istringstream in(line.substr(4));
            for (double v; in >> v;) c.total += v;
        } else if (line.rfind("cpu", 0) == 0) {
            ++c.cpus;
        }
    }
    return c;
}

std::vector<std::string> list_dir(const std::string& path) {
    std::vector<std::string> out;
    if (DIR* dir = ::opendir(path.c_str())) {
        while (auto* e = ::readdir(dir)) out.emplace_back(e->d_name);
        ::closedir(dir);
    }
    return out;
}

// "containers/<pid>-<start ticks>" of a running process.
std::string dir_of(pid_t pid) {
    std::string stat = read_proc_text("/proc/" + std::to_string(pid) + "/stat");
    std::istringstream in(stat.substr(stat.rfind(')') + 2));
    std::string field;
    for (int i = 3; i <= 22 && in >> field; ++i) {}
    return "containers/" + std::to_string(pid) + "-" + field;
}

uint64_t mem_total(const std::string& path) { return meminfo_kb(read_now(path), "MemTotal").value_or(0); }

}  // namespace

TEST_CASE("per-container files: containers sharing a pid namespace each see their own cgroup's limits") {
    SKIP_UNLESS_SUPPORTED();
    Daemon d;
    TestCgroup a(unique_name("pcA")), b(unique_name("pcB"));
    a.set_memory(256 * MiB);
    b.set_memory(128 * MiB);
    Container ca(a);                      // pid 1 of its namespace, in cgroup A (the "pause" container)
    Sleeper sb(b, ca.host_pid());         // shares that pid namespace, in cgroup B
    // The shared path follows the pid namespace's init (today's semantics)...
    CHECK(meminfo_kb(ca.read(d.file("proc/meminfo")), "MemTotal") == 262144u);
    // ...the per-container file follows the process's own cgroup, whoever reads it.
    CHECK(meminfo_kb(ca.read(d.file(sb.dir() + "/proc/meminfo")), "MemTotal") == 131072u);
    CHECK(mem_total(d.file(sb.dir() + "/proc/meminfo")) == 131072u);
    // The pid alias leads to the same directory, and the listing names it.
    CHECK(mem_total(d.file("containers/pid-" + std::to_string(sb.pid()) + "/proc/meminfo")) == 131072u);
    auto names = ca.list(d.file("containers"));
    CHECK(std::count(names.begin(), names.end(), sb.dir().substr(11)) == 1);
}

TEST_CASE("per-container files: a limited process in the host's pid namespace sees its limits; a wrong start time is ENOENT") {
    SKIP_UNLESS_SUPPORTED();
    Daemon d;
    TestCgroup c(unique_name("pchost"));
    c.set_memory(96 * MiB);
    Sleeper s(c);  // in the test's (the host's) pid namespace
    CHECK(mem_total(d.file(s.dir() + "/proc/meminfo")) == 98304u);
    CHECK(std::atof(read_now(d.file(s.dir() + "/proc/uptime")).c_str()) < 30.0);
    // Only root may make an entry (each costs fds, under a cap): another user gets EACCES.
    pid_t child = ::fork();
    if (child == 0) {
        if (::setresgid(65534, 65534, 65534) != 0 || ::setresuid(65534, 65534, 65534) != 0) std::_Exit(200);
        std::string other = "containers/" + std::to_string(::getppid()) + "-1";
        int r = ::access((d.mountpoint() + "/" + other).c_str(), F_OK) == 0 ? 0 : errno;
        std::_Exit(r == EACCES ? 0 : 1);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    CHECK_MESSAGE(WIFEXITED(status), "the uid-65534 lookup did not finish");
    CHECK(WEXITSTATUS(status) == 0);
    std::string wrong = "containers/" + std::to_string(s.pid()) + "-" + std::to_string(s.start_ticks() + 1);
    CHECK(::access(d.file(wrong + "/proc/meminfo").c_str(), F_OK) != 0);
    CHECK(errno == ENOENT);
}

TEST_CASE("per-container files: every read's content is younger than the window while the counter moves") {
    SKIP_UNLESS_SUPPORTED();
    const unsigned window_ms = 300;
    WindowConfig cfg(window_ms);
    Daemon d(cfg.args());
    TestCgroup c(unique_name("pcwin"));
    c.set_memory(64 * MiB);
    Sleeper s(c);
    const std::string path = d.file(s.dir() + "/proc/stat");
    // offset = sum − rate × (time of the read) is the same for every rendering
    // made at the moment it was read, and `rate × age` lower for a kept one.
    std::vector<double> offsets;
    int reads = 0, cached = 0, cpus = 0;
    double longest_read = 0;  // a read's render time is only known to within its duration
    std::string last;
    const auto t0 = std::chrono::steady_clock::now();
    auto seconds = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
    while (seconds() < 2.0) {
        double before = seconds();
        std::string text = read_now(path);
        double after = seconds();
        longest_read = std::max(longest_read, after - before);
        StatClock clock = stat_clock(text);
        cpus = clock.cpus;
        offsets.push_back(clock.total - 100.0 * clock.cpus * (before + after) / 2);
        cached += text == last;
        last = text;
        ++reads;
        sleep_ms(2);
    }
    REQUIRE(cpus > 0);
    auto [lo, hi] = std::minmax_element(offsets.begin(), offsets.end());
    const double oldest = (*hi - *lo) / (100.0 * cpus);
    MESSAGE(reads << " reads, " << cached << " served a kept rendering, oldest content " << oldest * 1000 << " ms");
    CHECK(oldest <= window_ms / 1000.0 + 0.02 + longest_read);  // a tick of rounding per CPU, and the reads' own time
    CHECK(oldest >= 0.1);                       // kept renderings were served: the kernel cached them
    CHECK(cached > reads / 2);
}

TEST_CASE("per-container files: a limit write is seen on the next read, inside a long window; window 0 is live") {
    SKIP_UNLESS_SUPPORTED();
    {
        WindowConfig cfg(10'000);
        Daemon d(cfg.args());
        TestCgroup c(unique_name("pclimit"));
        c.set_memory(256 * MiB);
        Sleeper s(c);
        const std::string meminfo = d.file(s.dir() + "/proc/meminfo");
        const std::string stat = d.file(s.dir() + "/proc/stat");
        CHECK(mem_total(meminfo) == 262144u);
        std::string first = read_now(stat);
        sleep_ms(150);
        CHECK(read_now(stat) == first);  // within the window: the kernel's copy
        // uptime is a clock, never kept (ps computes ages from it): it moved.
        const std::string uptime = d.file(s.dir() + "/proc/uptime");
        std::string up = read_now(uptime);
        sleep_ms(150);
        CHECK(std::atof(read_now(uptime).c_str()) >= std::atof(up.c_str()) + 0.1);
        c.set_memory(128 * MiB);
        sleep_ms(20);  // the inotify event reaches the daemon's thread (microseconds; see docs/performance.md)
        CHECK(mem_total(meminfo) == 131072u);
        c.set_memory(64 * MiB);
        sleep_ms(20);
        CHECK(mem_total(meminfo) == 65536u);
    }
    {
        WindowConfig cfg(0);
        Daemon d(cfg.args());
        TestCgroup c(unique_name("pclive"));
        Sleeper s(c);
        const std::string stat = d.file(s.dir() + "/proc/stat");
        std::string first = read_now(stat);
        sleep_ms(50);
        CHECK(read_now(stat) != first);
    }
}

TEST_CASE("per-container files: kill -9 and --takeover keep open fds and paths working; an exited process's directory goes") {
    SKIP_UNLESS_SUPPORTED();
    WindowConfig cfg(100);
    Daemon d(cfg.args());
    TestCgroup c(unique_name("pcrestart"));
    c.set_memory(200 * MiB);
    auto s = std::make_unique<Sleeper>(c);
    const std::string meminfo = d.file(s->dir() + "/proc/meminfo");
    int fd = ::open(meminfo.c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    auto pread_total = [&] {
        char buf[8192];
        ssize_t n = ::pread(fd, buf, sizeof buf, 0);
        return n > 0 ? meminfo_kb(std::string(buf, static_cast<std::size_t>(n)), "MemTotal").value_or(0) : 0;
    };
    CHECK(pread_total() == 204800u);
    d.kill9();
    sleep_ms(200);
    d.start();
    sleep_ms(150);  // past the window: the kernel asks the new daemon, for inode numbers it never handed out
    CHECK(pread_total() == 204800u);
    CHECK(mem_total(meminfo) == 204800u);
    c.set_memory(100 * MiB);  // the new daemon watches the limits of containers it only recovered
    sleep_ms(150);
    CHECK(pread_total() == 102400u);
    {
        Daemon next(std::vector<std::string>{"--config", cfg.path, "--takeover"}, d.mountpoint());
        sleep_ms(500);
        c.set_memory(50 * MiB);
        sleep_ms(150);
        CHECK(pread_total() == 51200u);
        CHECK(mem_total(meminfo) == 51200u);
        ::close(fd);
        std::string name = s->dir().substr(11);
        s.reset();  // the process exits: its directory is dropped within a second or so
        sleep_ms(1500);
        auto names = list_dir(d.file("containers"));
        CHECK(std::count(names.begin(), names.end(), name) == 0);
        CHECK(::access(meminfo.c_str(), F_OK) != 0);
        next.stop();
        CHECK(next.unmount() == 0);
    }
}

TEST_CASE("per-container files: --containers-only serves them without OPEN, limits and restarts included") {
    SKIP_UNLESS_SUPPORTED();
    WindowConfig cfg(2000);
    Daemon d({"--config", cfg.path, "--containers-only"});
    TestCgroup c(unique_name("pcnoopen"));
    c.set_memory(192 * MiB);
    Sleeper s(c);
    auto root = list_dir(d.mountpoint());
    CHECK(std::count(root.begin(), root.end(), "containers") == 1);
    CHECK(std::count(root.begin(), root.end(), "proc") == 0);
    CHECK(::access(d.file("proc/meminfo").c_str(), F_OK) != 0);
    const std::string meminfo = d.file(s.dir() + "/proc/meminfo");
    const std::string stat = d.file(s.dir() + "/proc/stat");
    CHECK(mem_total(meminfo) == 196608u);
    std::string first = read_now(stat);
    sleep_ms(100);
    CHECK(read_now(stat) == first);  // the kernel's copy, within the window
    c.set_memory(96 * MiB);
    sleep_ms(20);
    CHECK(mem_total(meminfo) == 98304u);
    d.kill9();
    sleep_ms(100);
    d.start();
    sleep_ms(2100);  // past the window: the new daemon is asked, for numbers it never handed out
    CHECK(mem_total(meminfo) == 98304u);
    CHECK(read_now(stat) != first);
}

TEST_CASE("per-container files: loadavg is sampled for containers read only through their own files") {
    SKIP_UNLESS_SUPPORTED();
    WindowConfig cfg(1000);
    Daemon d(cfg.args());
    TestCgroup cg(unique_name("pcload"));
    cg.set({128 * MiB, 100000, 100000, std::nullopt});
    Container c(cg);
    const std::string loadavg = d.file(dir_of(c.host_pid()) + "/proc/loadavg");
    auto first = read_now(loadavg);
    CHECK(std::atof(first.c_str()) < 0.5);
    c.busy(1);
    for (int i = 0; i < 12; ++i) {  // read now and then, as a container would: the entry counts as read
        sleep_ms(1000);
        (void)read_now(loadavg);
    }
    auto later = read_now(loadavg);
    c.idle();
    MESSAGE("per-container loadavg before: " << first << "under load: " << later);
    // The first sample seeds; from 0 with 1 runnable task each later one adds
    // ~8% (1 - e^(-5/60)): 0.08-0.15 after 12 s. Unsampled, it stays 0.00.
    CHECK(std::atof(later.c_str()) > 0.05);
}

TEST_CASE("per-container files: 200 processes looked up and gone leave the daemon's fds where they were") {
    SKIP_UNLESS_SUPPORTED();
    Daemon d;
    TestCgroup cg(unique_name("pcchurn"));
    cg.set_memory(64 * MiB);
    auto fds = [&] { return list_dir("/proc/" + std::to_string(d.pid()) + "/fd").size(); };
    {
        Sleeper warm(cg);  // the cgroup's files once, so the baseline holds what any container costs
        CHECK(mem_total(d.file(warm.dir() + "/proc/meminfo")) == 65536u);
    }
    sleep_ms(2500);
    const std::size_t baseline = fds();
    for (int round = 0; round < 2; ++round) {
        std::vector<std::unique_ptr<Sleeper>> procs;
        for (int i = 0; i < 100; ++i) {
            procs.push_back(std::make_unique<Sleeper>(cg));
            CHECK(mem_total(d.file(procs.back()->dir() + "/proc/meminfo")) == 65536u);
        }
        const std::size_t busy = fds();
        CHECK(busy > baseline + 100);  // each entry holds a pidfd and its cgroup fds
        std::string name = procs.front()->dir().substr(11);
        procs.clear();
        sleep_ms(2500);  // swept within a second or two of the processes' exit
        auto names = list_dir(d.file("containers"));
        CHECK(std::count(names.begin(), names.end(), name) == 0);
        MESSAGE("round " << round << ": daemon fds " << baseline << " → " << busy << " with 100 entries → " << fds());
        CHECK(fds() <= baseline + 2);
    }
}
