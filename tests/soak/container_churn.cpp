// procview_container_churn — per-container files (containers/<pid>-<start>/)
// for many short-lived containers: the daemon's fds and memory must come back
// to where they were once the containers are gone (issue 16: 10,000 created
// and destroyed leave them flat).
//
//   # procview_container_churn --containers 10000 [--batch 100] [--procviewfs BIN]
//   containers  daemon fds  daemon RSS kB  entries in containers/  wrong views
//   0           ...
//
// Each container is a process that is pid 1 of its own pid namespace in a
// cgroup of its own with a memory limit of its own; the host reads its
// containers/pid-<pid>/proc/meminfo (what procview-hook binds) and checks
// MemTotal against the limit; the container and its cgroup are then removed.
// `--batch` containers live at once. Run by hand (minutes), not in CI.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "harness.hpp"

using namespace pvtest;
using Clock = std::chrono::steady_clock;

namespace {

long status_kb(pid_t pid, const char* key) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(in, line);)
        if (line.rfind(key, 0) == 0) return std::atol(line.c_str() + std::string(key).size());
    return -1;
}

long count_entries(const std::string& dir) {
    std::error_code ec;
    long n = 0;
    for (auto it = std::filesystem::directory_iterator(dir, ec); !ec && it != std::filesystem::directory_iterator();
         it.increment(ec))
        ++n;
    return ec ? -1 : n;
}

struct Sample {
    long fds, rss_kb, entries;
};

Sample sample(const Daemon& d) {
    return {count_entries("/proc/" + std::to_string(d.pid()) + "/fd"), status_kb(d.pid(), "VmRSS:"),
            count_entries(d.file("containers"))};
}

void print(long containers, const Sample& s, long wrong, double seconds) {
    std::printf("%-11ld %-11ld %-14ld %-24ld %-12ld %.1f\n", containers, s.fds, s.rss_kb, s.entries, wrong, seconds);
    std::fflush(stdout);
}

// Until the daemon has dropped the entries of exited containers (within a
// second of the exit, cached_views.hpp), at most 5 s.
Sample settled(const Daemon& d, long baseline_entries) {
    Sample s = sample(d);
    for (int i = 0; i < 50 && s.entries > baseline_entries; ++i) {
        sleep_ms(100);
        s = sample(d);
    }
    return s;
}

}  // namespace

int main(int argc, char** argv) {
    run_container_helper_if_asked(argc, argv);
    long containers = 10000, batch = 100;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string a = argv[i];
        if (a == "--containers") containers = std::atol(argv[i + 1]);
        else if (a == "--batch") batch = std::max(1L, std::atol(argv[i + 1]));
        else if (a == "--procviewfs") ::setenv("PROCVIEWFS_BIN", argv[i + 1], 1);
    }
    if (auto why = unsupported_reason(); !why.empty()) {
        std::printf("SKIP: %s\n", why.c_str());
        return 0;
    }
    Daemon daemon;
    sleep_ms(500);
    std::printf("%-11s %-11s %-14s %-24s %-12s %s\n", "containers", "daemon fds", "daemon RSS kB",
                "entries in containers/", "wrong views", "seconds");
    const Sample before = sample(daemon);
    print(0, before, 0, 0);
    long done = 0, wrong = 0;
    auto t0 = Clock::now();
    while (done < containers) {
        std::vector<std::unique_ptr<TestCgroup>> cgroups;
        std::vector<std::unique_ptr<Container>> alive;
        for (long i = 0; i < batch && done + i < containers; ++i) {
            const uint64_t limit_mib = 64 + static_cast<uint64_t>((done + i) % 512);
            cgroups.push_back(std::make_unique<TestCgroup>(unique_name("churn-" + std::to_string(done + i))));
            cgroups.back()->set_memory(limit_mib * MiB);
            alive.push_back(std::make_unique<Container>(*cgroups.back()));
            std::string path = daemon.file("containers/pid-" + std::to_string(alive.back()->host_pid()) + "/proc/meminfo");
            if (meminfo_kb(read_proc_text(path), "MemTotal") != limit_mib * 1024) ++wrong;
        }
        done += static_cast<long>(alive.size());
        alive.clear();    // the inits exit
        cgroups.clear();  // and their cgroups go
        if (done % 1000 == 0 || done == containers) {
            double s = std::chrono::duration<double>(Clock::now() - t0).count();
            print(done, settled(daemon, before.entries), wrong, s);
        }
    }
    Sample after = settled(daemon, before.entries);
    std::printf("after %ld containers: fds %+ld, RSS %+ld kB, entries %+ld, %ld wrong views\n", done,
                after.fds - before.fds, after.rss_kb - before.rss_kb, after.entries - before.entries, wrong);
    return wrong == 0 && after.fds <= before.fds + 2 && after.entries <= before.entries ? 0 : 1;
}
