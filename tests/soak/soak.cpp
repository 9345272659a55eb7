// procview_soak — readers in many cgroups, each in its own pid namespace,
// reading procviewfs's files in a loop while cgroups come and go and readers
// are killed mid-read. Every meminfo read must show its own cgroup's limit
// (each cgroup has a distinct one); other files must be well formed.
//
//   # procview_soak --procviewfs build/fusefs/procviewfs --seconds 300 --cgroups 200
//   what                      value
//   reads                     1843201
//   ...
// Exit status 1 when a read was wrong, a live reader's read failed, the
// daemon died, or its fds, threads or memory grew. scripts/soak.sh wraps it.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "fault_reader.hpp"
#include "harness.hpp"

using namespace pvtest;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
    std::string procviewfs = PROCVIEWFS_DEFAULT_BIN;
    int seconds = 60;
    int cgroups = 200;
    int churn_per_second = 5;  // cgroups destroyed and recreated (their reader killed mid-read)
    int pause_us = 0;          // between a reader's reads
    int threads = 0;           // procviewfs --threads
};

// Per-slot counters in memory shared with the reader processes.
struct SlotStats {
    std::atomic<uint64_t> reads{0}, wrong{0}, errors{0};
    std::atomic<uint64_t> expected_kb{0};
    char last_problem[160]{};
};

const char* const kFiles[] = {"proc/meminfo", "proc/stat", "proc/loadavg", "proc/cpuinfo", "proc/uptime"};

std::string read_whole(const std::string& path, int& err) {
    err = 0;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        err = errno;
        return {};
    }
    std::string out;
    char buf[16384];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) err = errno;
        if (n <= 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return out;
}

// Checks one file's content; "" when fine.
std::string check(const std::string& file, const std::string& text, uint64_t expected_kb, std::size_t cpus) {
    if (file == "proc/meminfo") {
        auto total = meminfo_kb(text, "MemTotal");
        if (total != expected_kb) return "MemTotal " + std::to_string(total.value_or(0)) + " kB, want " + std::to_string(expected_kb);
        auto free_kb = meminfo_kb(text, "MemFree"), avail = meminfo_kb(text, "MemAvailable");
        if (!free_kb || !avail || *free_kb > *total || *avail > *total) return "MemFree/MemAvailable above MemTotal";
        return "";
    }
    if (file == "proc/stat") {
        if (text.rfind("cpu ", 0) != 0) return "stat does not start with `cpu `";
        if (static_cast<std::size_t>(count_prefix(text, "cpu")) != cpus + 1) return "stat has " + std::to_string(count_prefix(text, "cpu") - 1) + " CPUs";
        return "";
    }
    if (file == "proc/cpuinfo") {
        if (static_cast<std::size_t>(count_prefix(text, "processor")) != cpus) return "cpuinfo has " + std::to_string(count_prefix(text, "processor")) + " processors";
        return "";
    }
    std::istringstream in(text);
    std::vector<std::string> fields;
    for (std::string f; in >> f;) fields.push_back(f);
    if (file == "proc/loadavg" && fields.size() != 5) return "loadavg has " + std::to_string(fields.size()) + " fields";
    if (file == "proc/uptime" && fields.size() != 2) return "uptime has " + std::to_string(fields.size()) + " fields";
    return "";
}

[[noreturn]] void reader_loop(const std::string& mount, SlotStats& stats, std::size_t cpus, int pause_us, unsigned seed) {
    std::mt19937 rng(seed);
    for (;;) {
        const std::string file = kFiles[rng() % (sizeof kFiles / sizeof *kFiles)];
        int err = 0;
        std::string text = read_whole(mount + "/" + file, err);
        stats.reads.fetch_add(1, std::memory_order_relaxed);
        std::string problem = err ? file + ": " + std::strerror(err) : check(file, text, stats.expected_kb.load(), cpus);
        if (!problem.empty()) {
            (err ? stats.errors : stats.wrong).fetch_add(1, std::memory_order_relaxed);
            std::snprintf(stats.last_problem, sizeof stats.last_problem, "%s", problem.c_str());
        }
        if (pause_us) ::usleep(static_cast<useconds_t>(pause_us));
    }
}

// A cgroup with a distinct memory limit and its reader (pid 1 of a pid namespace).
struct Slot {
    std::unique_ptr<TestCgroup> cgroup;
    pvfault::Spinner reader;
    int generation = 0;
};

uint64_t limit_kb(int slot, int generation) {
    // Distinct across slots (1 MiB apart) and across a slot's generations.
    return 64 * 1024 + static_cast<uint64_t>(slot) * 1024 + static_cast<uint64_t>(generation % 256) * 4;
}

void start_slot(Slot& s, int index, SlotStats& stats, const std::string& mount, std::size_t cpus, const Options& o) {
    s.cgroup = std::make_unique<TestCgroup>("pvhard-soak-" + std::to_string(::getpid()) + "-" + std::to_string(index) + "-" +
                                            std::to_string(s.generation));
    uint64_t kb = limit_kb(index, s.generation);
    s.cgroup->set_memory(kb * 1024);
    stats.expected_kb = kb;
    s.reader = pvfault::fork_in_namespace(*s.cgroup, [&mount, &stats, cpus, o, index, gen = s.generation] {
        reader_loop(mount, stats, cpus, o.pause_us, static_cast<unsigned>(index * 7919 + gen));
    });
}

void stop_slot(Slot& s) {
    if (s.reader.helper > 0) pvfault::kill_spinner(s.reader);
    s.reader = {};
    s.cgroup.reset();  // rmdir
    ++s.generation;
}

std::size_t host_cpus() {
    std::ifstream in("/sys/devices/system/cpu/online");
    std::string ranges;
    std::getline(in, ranges);
    std::size_t n = 0;
    std::istringstream parts(ranges);
    for (std::string part; std::getline(parts, part, ',');) {
        auto dash = part.find('-');
        n += dash == std::string::npos ? 1 : std::stoul(part.substr(dash + 1)) - std::stoul(part.substr(0, dash)) + 1;
    }
    return n;
}

std::optional<Options> parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
        if (a == "--procviewfs") o.procviewfs = next();
        else if (a == "--seconds") o.seconds = std::stoi(next());
        else if (a == "--minutes") o.seconds = std::stoi(next()) * 60;
        else if (a == "--cgroups") o.cgroups = std::stoi(next());
        else if (a == "--churn") o.churn_per_second = std::stoi(next());
        else if (a == "--pause-us") o.pause_us = std::stoi(next());
        else if (a == "--threads") o.threads = std::stoi(next());
        else return std::nullopt;
    }
    if (o.cgroups < 1 || o.seconds < 1) return std::nullopt;
    return o;
}

void row(const std::string& what, const std::string& value) { std::printf("%-34s %s\n", what.c_str(), value.c_str()); }

}  // namespace

int main(int argc, char** argv) {
    auto options = parse(argc, argv);
    if (!options) {
        std::cerr << "usage: procview_soak [--procviewfs BIN] [--seconds N | --minutes N] [--cgroups N] [--churn N/s] "
                     "[--pause-us N] [--threads N]\n";
        return 2;
    }
    const Options& o = *options;
    if (auto why = unsupported_reason(); !why.empty()) {
        std::printf("SKIP soak: %s\n", why.c_str());
        return 0;
    }
    ::setenv("PROCVIEWFS_BIN", o.procviewfs.c_str(), 1);
    std::vector<std::string> daemon_args;
    if (o.threads) daemon_args = {"--threads", std::to_string(o.threads)};
    auto daemon = std::make_unique<Daemon>(daemon_args);
    const std::string mount = daemon->mountpoint();
    const std::size_t cpus = host_cpus();
    const pvfault::Usage empty = pvfault::usage_of(daemon->pid());  // no container known yet

    auto* stats = static_cast<SlotStats*>(::mmap(nullptr, sizeof(SlotStats) * static_cast<std::size_t>(o.cgroups),
                                                 PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
    if (stats == MAP_FAILED) return 1;
    for (int i = 0; i < o.cgroups; ++i) new (&stats[i]) SlotStats();
    std::vector<Slot> slots(static_cast<std::size_t>(o.cgroups));
    for (int i = 0; i < o.cgroups; ++i) start_slot(slots[i], i, stats[i], mount, cpus, o);

    sleep_ms(3000);  // every reader has read; the daemon knows every container
    pvfault::Usage start = pvfault::usage_of(daemon->pid());
    std::mt19937 rng(42);
    auto t_end = Clock::now() + std::chrono::seconds(o.seconds);
    uint64_t churned = 0;
    long slowest_kill_ms = 0;
    auto next_sample = Clock::now() + std::chrono::seconds(10);
    auto total_reads = [&] {
        uint64_t n = 0;
        for (int i = 0; i < o.cgroups; ++i) n += stats[i].reads;
        return n;
    };
    std::printf("%8s %12s %8s %8s %12s\n", "time", "reads", "fds", "threads", "RSS kB");
    while (Clock::now() < t_end) {
        if (Clock::now() >= next_sample) {
            // The trend, so that growth shows as growth and not as one end-point.
            pvfault::Usage u = pvfault::usage_of(daemon->pid());
            std::printf("%7llds %12llu %8d %8d %12ld\n",
                        static_cast<long long>(std::chrono::duration_cast<std::chrono::seconds>(
                                                   Clock::now() - (t_end - std::chrono::seconds(o.seconds)))
                                                   .count()),
                        static_cast<unsigned long long>(total_reads()), u.fds, u.threads, u.rss_kb);
            std::fflush(stdout);
            next_sample += std::chrono::seconds(10);
        }
        sleep_ms(1000 / std::max(1, o.churn_per_second));
        if (::kill(daemon->pid(), 0) != 0) break;
        int i = static_cast<int>(rng() % static_cast<unsigned>(o.cgroups));
        auto t0 = Clock::now();
        stop_slot(slots[i]);
        slowest_kill_ms = std::max<long>(slowest_kill_ms, std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count());
        start_slot(slots[i], i, stats[i], mount, cpus, o);
        ++churned;
    }
    bool daemon_alive = ::kill(daemon->pid(), 0) == 0;
    pvfault::Usage loaded = pvfault::usage_of(daemon->pid());
    for (auto& s : slots) stop_slot(s);
    // The registry forgets dead containers every 30 s: wait for it, then measure idle.
    pvfault::Usage idle = pvfault::usage_of(daemon->pid());
    for (int i = 0; i < 400 && daemon_alive && idle.fds > empty.fds + 5; ++i) {
        sleep_ms(100);
        idle = pvfault::usage_of(daemon->pid());
    }

    uint64_t reads = 0, wrong = 0, errors = 0;
    std::string sample;
    for (int i = 0; i < o.cgroups; ++i) {
        reads += stats[i].reads;
        wrong += stats[i].wrong;
        errors += stats[i].errors;
        if (sample.empty() && stats[i].last_problem[0]) sample = stats[i].last_problem;
    }
    // Idle again: back to the fds of a daemon that knows no container; no extra threads.
    const bool fds_ok = idle.fds <= empty.fds + 5 && loaded.fds < 4 * start.fds;
    const bool threads_ok = idle.threads <= start.threads && loaded.threads <= start.threads;
    // Memory: allocator noise and per-container caches, not growth with the number of reads or of
    // containers that came and went.
    const bool rss_ok = loaded.rss_kb <= 2 * start.rss_kb + 32 * 1024;
    const bool ok = daemon_alive && wrong == 0 && errors == 0 && fds_ok && threads_ok && rss_ok;

    std::printf("\nprocview soak: %d cgroups (each its own pid namespace), %d s, %d cgroups/s recreated, %zu host CPUs\n",
                o.cgroups, o.seconds, o.churn_per_second, cpus);
    row("what", "value");
    row("reads", std::to_string(reads) + " (" + std::to_string(reads / static_cast<uint64_t>(o.seconds)) + "/s)");
    row("wrong values", std::to_string(wrong));
    row("failed reads (live readers)", std::to_string(errors));
    row("cgroups destroyed and recreated", std::to_string(churned) + " (reader killed mid-read; slowest " + std::to_string(slowest_kill_ms) + " ms)");
    row("daemon alive at the end", daemon_alive ? "yes" : "NO");
    auto trio = [&](auto field) {
        return std::to_string(empty.*field) + " / " + std::to_string(start.*field) + " / " + std::to_string(loaded.*field) +
               " / " + std::to_string(idle.*field);
    };
    row("daemon fds empty/start/end/idle", trio(&pvfault::Usage::fds));
    row("daemon threads empty/start/end/idle", trio(&pvfault::Usage::threads));
    row("daemon RSS kB empty/start/end/idle", trio(&pvfault::Usage::rss_kb));
    if (!sample.empty()) row("a problem seen", sample);
    std::printf("(empty: before any reader; start: all readers running; end: after the churn; idle: readers gone, registry swept)\n");
    if (!fds_ok) std::printf("fds did not come back, or grew with the churn\n");
    if (!rss_ok) std::printf("RSS grew beyond 2 x start + 32 MiB\n");
    std::printf("%s\n", ok ? "PASS soak" : "FAIL soak");
    std::printf("%d passed, %d failed\n", ok ? 1 : 0, ok ? 0 : 1);
    daemon.reset();
    return ok ? 0 : 1;
}
