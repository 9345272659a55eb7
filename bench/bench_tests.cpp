// Unit tests for the benchmark's pure parts: percentiles, /proc parsers and
// the report (ratios, targets, the smoke check).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/latency.hpp"
#include "bench/reader_group.hpp"
#include "bench/report.hpp"
#include "bench/server_usage.hpp"

using namespace procview::bench;
using nlohmann::json;

TEST_CASE("nearest-rank percentiles pick samples that happened") {
    std::vector<std::uint64_t> samples;
    for (std::uint64_t i = 1; i <= 1000; ++i) samples.push_back(i * 1000);  // 1..1000 µs, shuffled below
    std::swap(samples[0], samples[999]);
    std::swap(samples[10], samples[500]);
    LatencySummary s = summarize(samples);
    CHECK(s.count == 1000);
    CHECK(s.p50_us == doctest::Approx(500));
    CHECK(s.p99_us == doctest::Approx(990));
    CHECK(s.p999_us == doctest::Approx(999));
    CHECK(s.max_us == doctest::Approx(1000));
    CHECK(s.mean_us == doctest::Approx(500.5));

    std::vector<std::uint64_t> few = {7000, 3000};
    LatencySummary f = summarize(few);
    CHECK(f.p50_us == doctest::Approx(3));
    CHECK(f.p999_us == doctest::Approx(7));

    std::vector<std::uint64_t> none;
    CHECK(summarize(none).count == 0);
    CHECK(percentile_sorted({}, 0.5) == 0);
}

TEST_CASE("utime+stime from /proc/<pid>/stat, even with spaces and parens in comm") {
    // Fields 14 and 15 are 1234 and 56.
    const std::string stat =
        "4242 (lx cfs) (x)) S 1 4242 4242 0 -1 4194560 1502 0 0 0 1234 56 0 0 20 0 6 0 2345 1000000 800 "
        "18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 17 1 0 0 0 0 0";
    auto ticks = parse_stat_cpu_ticks(stat);
    REQUIRE(ticks);
    CHECK(*ticks == 1290);
    CHECK_FALSE(parse_stat_cpu_ticks("4242 (truncated) S 1 2"));
    CHECK_FALSE(parse_stat_cpu_ticks("no parenthesis"));
}

TEST_CASE("child pids of a /proc/<pid>/task/<tid>/children file") {
    CHECK(parse_child_pids("") == std::vector<pid_t>{});
    CHECK(parse_child_pids("4242 ") == std::vector<pid_t>{4242});
    CHECK(parse_child_pids("12 345 6789 ") == std::vector<pid_t>{12, 345, 6789});
}

TEST_CASE("a server's usage includes its child processes") {
    // This test process's own child, which burns a little CPU and then waits.
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        volatile unsigned long spin = 0;
        timespec start{}, now{};
        ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &start);
        do {
            for (int i = 0; i < 100000; ++i) spin = spin + 1;
            ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
        } while ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 < 300);
        ::pause();
        ::_exit(0);
    }
    // Wait until the child has used its 300 ms (3 ticks at least at any HZ).
    for (int i = 0; i < 200; ++i) {
        auto c = sample_server_usage(child);
        if (c && c->cpu_ticks * 1000 / static_cast<std::uint64_t>(::sysconf(_SC_CLK_TCK)) >= 290) break;
        ::usleep(10000);
    }
    auto slurp = [](const char* path) {
        std::ifstream in(path);
        return std::string(std::istreambuf_iterator<char>(in), {});
    };
    auto own_ticks = parse_stat_cpu_ticks(slurp("/proc/self/stat"));
    auto own_rss = parse_status_kb(slurp("/proc/self/status"), "VmRSS");
    auto child_usage = sample_server_usage(child);
    auto all = sample_server_usage(::getpid());
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    REQUIRE(own_ticks);
    REQUIRE(own_rss);
    REQUIRE(child_usage);
    REQUIRE(all);
    CHECK(child_usage->cpu_ticks * 1000 / static_cast<std::uint64_t>(::sysconf(_SC_CLK_TCK)) >= 290);
    // Ours plus the (paused) child's; ours only grows between the samples.
    CHECK(all->cpu_ticks >= *own_ticks + child_usage->cpu_ticks);
    CHECK(all->rss_kb >= child_usage->rss_kb + *own_rss / 2);
}

TEST_CASE("kB values from /proc/<pid>/status") {
    const std::string status = "Name:\tlxcfs\nVmHWM:\t    4100 kB\nVmRSS:\t    3116 kB\nThreads:\t6\n";
    CHECK(parse_status_kb(status, "VmRSS") == 3116);
    CHECK(parse_status_kb(status, "VmHWM") == 4100);
    CHECK_FALSE(parse_status_kb(status, "VmSwap"));
    CHECK_FALSE(parse_status_kb(status, "Vm"));
}

TEST_CASE("host CPU from the cpu line of /proc/stat") {
    auto cpu = parse_host_cpu("cpu  100 5 50 1000 20 3 2 0 0 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n");
    REQUIRE(cpu);
    CHECK(cpu->busy_ticks == 160);  // all but idle (1000) and iowait (20)
    CHECK(cpu->total_ticks == 1180);
    CHECK_FALSE(parse_host_cpu("intr 1 2 3\n"));
}

TEST_CASE("cgroup patterns expand every {}") {
    CHECK(expand_pattern("/sys/fs/cgroup/memory/pvbench-1-r{}", 7) == "/sys/fs/cgroup/memory/pvbench-1-r7");
    CHECK(expand_pattern("/a{}/b{}", 12) == "/a12/b12");
    CHECK(expand_pattern("/plain", 3) == "/plain");
}

namespace {

json reader_result(double rate, double p50, double p99, double cpu_ms, double count) {
    return {{"reads_per_s", rate}, {"p50_us", p50},        {"p99_us", p99},   {"p999_us", p99 * 2},
            {"count", count},      {"errors", 0},          {"bytes", 1475},   {"window_s", 3.0},
            {"host_busy_ms", 3000}, {"readers_cpu_ms", 1000}, {"server", {{"cpu_ms", cpu_ms}}}};
}

json cell(const std::string& server, const std::string& file, const std::string& mode, int readers, json result) {
    return {{"kind", "cell"}, {"server", server}, {"file", file},
            {"mode", mode},   {"readers", readers}, {"result", std::move(result)}};
}

}  // namespace

TEST_CASE("the table divides procviewfs by lxcfs, the floor and native from the same cell") {
    std::vector<json> records = {
        {{"kind", "meta"}, {"cpus", 2}, {"seconds", 3}},
        cell("native", "meminfo", "orc", 1, reader_result(90000, 8, 20, 0, 270000)),
        cell("floor", "meminfo", "orc", 1, reader_result(12000, 50, 90, 1200, 36000)),
        cell("lxcfs", "meminfo", "orc", 1, reader_result(2400, 350, 900, 1500, 7200)),
        cell("procviewfs", "meminfo", "orc", 1, reader_result(10800, 60, 150, 1080, 32400)),
    };
    records.back()["result"].erase("server");  // CPU unknown: the CPU ratio must say so
    records[3]["result"]["server"]["cpu_ms"] = 1500;
    const std::string report = render_report(records);
    // 10800 / 2400 = 4.5, / 12000 = 0.9, / 90000 = 0.12
    CHECK(report.find("| meminfo | orc | 1 | procviewfs | 10,800 |  | 60.0 | 150.0 | 300.0 | — | 33 | **4.50×** | 0.90× | 0.12× | — |") !=
          std::string::npos);
    // lxcfs: 1500 ms CPU / 7200 reads = 208 ms per 1k reads
    CHECK(report.find("| meminfo | orc | 1 | lxcfs | 2,400 |  | 350.0 | 900.0 | 1800 | 208 |") != std::string::npos);
    CHECK(report.find("**met** — open–read–close, 1 reader, meminfo and stat: ≥ 4× lxcfs reads/s: meminfo 4.50×") !=
          std::string::npos);
    CHECK(report.find("**met** — open–read–close, 1 reader, meminfo and stat: ≥ 85% of the FUSE floor: meminfo 90%") !=
          std::string::npos);
    CHECK(report.find("p99 ≤ 3× p50: meminfo p99/p50 = 2.5") != std::string::npos);
    CHECK(report.find("not measured — kept-open lseek(0) + read, 1 reader") != std::string::npos);
    // The floor's own ratio to lxcfs beside procviewfs's: 12000 / 2400.
    CHECK(report.find("≥ 4× lxcfs reads/s: meminfo 4.50× (the floor: 5.00×)") != std::string::npos);
}

TEST_CASE("the reader-scaling targets show the floor's scaling from the same run") {
    std::vector<json> records = {
        {{"kind", "meta"}, {"cpus", 2}, {"seconds", 3}},
        cell("floor", "stat", "orc", 1, reader_result(10000, 50, 90, 500, 30000)),
        cell("floor", "stat", "orc", 2, reader_result(13000, 50, 90, 500, 39000)),
        cell("floor", "stat", "orc", 8, reader_result(11700, 50, 90, 500, 35100)),
        cell("procviewfs", "stat", "orc", 1, reader_result(8000, 60, 150, 500, 24000)),
        cell("procviewfs", "stat", "orc", 2, reader_result(12800, 60, 150, 500, 38400)),
        cell("procviewfs", "stat", "orc", 8, reader_result(12160, 60, 150, 500, 36480)),
    };
    const std::string targets = render_targets(records);
    // procviewfs 12800 / 8000 = 1.6, the floor 13000 / 10000 = 1.3
    CHECK(targets.find("**met** — 2 readers: ≥ 1.5× the 1-reader throughput: stat/orc 1.60× (the floor: 1.30×)") !=
          std::string::npos);
    // procviewfs 12160 / 12800 = 0.95, the floor 11700 / 13000 = 0.9
    CHECK(targets.find("**MISSED** — 8 readers: no collapse, ≥ the 2-reader throughput: stat/orc 0.95× (the floor: 0.90×)") !=
          std::string::npos);
}

TEST_CASE("sysinfo rows: agent, native and a meminfo read, CPU of callers and server per 1,000, the target") {
    auto sysinfo = [](const std::string& variant, json result) {
        result["readers"] = 1;
        return json{{"kind", "sysinfo"}, {"variant", variant}, {"readers", 1}, {"result", std::move(result)}};
    };
    json native = reader_result(1500000, 0.5, 0.8, 0, 3000000);
    native.erase("server");
    native["readers_cpu_ms"] = 1800;
    std::vector<json> records = {
        {{"kind", "meta"}, {"cpus", 2}, {"seconds", 3}},
        // agent: 1200 ms server + 1000 ms callers over 30,000 calls = 73.3 ms per 1k
        sysinfo("intercepted", reader_result(10000, 60, 140, 1200, 30000)),
        sysinfo("native", native),
        // meminfo: 2000 ms + 1000 ms over 15,000 reads = 200 ms per 1k
        sysinfo("meminfo-orc", reader_result(5000, 150, 400, 2000, 15000)),
    };
    const std::string report = render_report(records);
    CHECK(report.find("| sysinfo(2) answered by procviewfs's agent (seccomp notify) | 1 | 10,000 |  | 60.0 | 140.0 | 40.0 |"
                      " 33.3 | 73.3 | 0.37× | 0.40× |") != std::string::npos);
    CHECK(report.find("| sysinfo(2), native (no filter) | 1 | 1,500,000 |  | 0.5 | 0.8 | — | 0.60 | 0.60 |") !=
          std::string::npos);
    CHECK(report.find("CPU: **met**, latency (p50): **met**") != std::string::npos);
    CHECK(report.find("## Reads:") == std::string::npos);  // a sysinfo-only run shows only what it measured

    records[1]["result"]["server"]["cpu_ms"] = 6000;  // 7000 ms / 30,000 = 233 ms per 1k: over the read's 200
    CHECK(render_report(records).find("CPU: **MISSED**, latency (p50): **met**") != std::string::npos);
}

TEST_CASE("repeated runs: the median run is shown, the range and CPU cover every run") {
    std::vector<json> records = {
        cell("floor", "stat", "orc", 1, reader_result(9000, 55, 100, 300, 9000)),
        cell("floor", "stat", "orc", 1, reader_result(1300, 330, 900, 700, 1300)),
        cell("floor", "stat", "orc", 1, reader_result(12000, 50, 90, 500, 12000)),
    };
    const std::string report = render_report(records);
    // median 9,000 reads/s with its own p50; CPU (300+700+500) ms / 22,300 reads = 67.3 ms per 1k
    CHECK(report.find("| stat | orc | 1 | floor | 9,000 | 1,300–12,000 | 55.0 | 100.0 | 200.0 | 67.3 |") !=
          std::string::npos);
}

TEST_CASE("targets report misses with the measured value") {
    std::vector<json> records = {
        cell("lxcfs", "stat", "seek", 1, reader_result(2000, 400, 800, 1000, 6000)),
        cell("procviewfs", "stat", "seek", 1, reader_result(6000, 100, 500, 900, 18000)),
        cell("procviewfs", "stat", "seek", 2, reader_result(7000, 100, 500, 900, 21000)),
        {{"kind", "ready"}, {"server", "procviewfs"}, {"runs_ms", {150, 20, 30}}},
        {{"kind", "scale"}, {"server", "procviewfs"}, {"cgroups", 1000},
         {"result", {{"window_s", 60}, {"max_us", 12000}, {"errors", 0}, {"count", 120000},
                     {"server", {{"cpu_ms", 1200}, {"rss_kb_peak", 20480}}}}}},
    };
    const std::string targets = render_targets(records);
    CHECK(targets.find("**MISSED** — kept-open lseek(0) + read, 1 reader: ≥ 4× lxcfs: stat 3.00×") != std::string::npos);
    CHECK(targets.find("**MISSED** — 2 readers: ≥ 1.5× the 1-reader throughput: stat/seek 1.17×") != std::string::npos);
    // 900 ms / 18000 reads vs 1000 ms / 6000 reads = 0.3
    CHECK(targets.find("**MISSED** — server CPU per 1,000 reads ≤ ¼ of lxcfs's: stat/seek/1 0.30×") != std::string::npos);
    CHECK(targets.find("**met** — ready to serve ≤ 100 ms after start (median): 30.0 ms") != std::string::npos);
    CHECK(targets.find("**met** — scale run: server CPU ≤ 5% of one core: 1000 cgroups: 2.00%") != std::string::npos);
    CHECK(targets.find("**met** — scale run: RSS ≤ 30 MB: 1000 cgroups: 20.0 MB peak") != std::string::npos);
    CHECK(targets.find("**MISSED** — scale run: slowest read ≤ 10 ms (and no read errors): 1000 cgroups: 12.0 ms") !=
          std::string::npos);
}

TEST_CASE("the scale targets show the floor's figures from the same run beside procviewfs's") {
    auto scale = [](const char* server, double cpu_ms, double max_us, double steady_max_us) {
        return json{{"kind", "scale"}, {"server", server}, {"cgroups", 1000},
                    {"result", {{"window_s", 60}, {"max_us", max_us}, {"errors", 0}, {"count", 120000},
                                {"steady", {{"max_us", steady_max_us}}},
                                {"server", {{"cpu_ms", cpu_ms}, {"rss_kb_peak", 8192}}}}}};
    };
    const std::string targets = render_targets({scale("procviewfs", 9000, 40000, 20000), scale("floor", 6000, 30000, 15000)});
    CHECK(targets.find("1000 cgroups: 15.00%; the floor: 10.00%") != std::string::npos);
    CHECK(targets.find("1000 cgroups: 40.0 ms (steady state 20.0 ms); the floor: 30.0 ms (15.0 ms)") != std::string::npos);
}

TEST_CASE("the smoke check fails on missing reads and read errors, not on slowness") {
    std::vector<json> ok = {cell("lxcfs", "stat", "orc", 1, reader_result(10, 90000, 900000, 1, 300))};
    CHECK(check_records(ok).empty());

    std::vector<json> broken = ok;
    broken[0]["result"]["count"] = 0;
    CHECK(check_records(broken).size() == 1);

    std::vector<json> errors = ok;
    errors[0]["result"]["errors"] = 3;
    errors[0]["result"]["first_error"] = "/mnt/proc/stat: Transport endpoint is not connected";
    auto problems = check_records(errors);
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].find("Transport endpoint") != std::string::npos);

    CHECK_FALSE(check_records({}).empty());
}

TEST_CASE("CPU per 1,000 reads") {
    CHECK(cpu_ms_per_1k_reads(reader_result(1, 1, 1, 250, 5000)) == doctest::Approx(50));
    CHECK(cpu_ms_per_1k_reads(json{{"count", 10}}) < 0);
    CHECK(cpu_ms_per_1k_reads(reader_result(1, 1, 1, 250, 0)) < 0);
}

TEST_CASE("a reader with several threads: every thread reads, into its own samples") {
    GroupOptions options;
    options.files = {"/proc/self/stat"};
    options.readers = 2;
    options.threads_per_reader = 3;
    options.count = 5;
    auto result = run_reader_group(options);
    REQUIRE(result);
    CHECK(result->count == 30);  // 2 processes x 3 threads x 5 reads
    CHECK(result->errors == 0);
    CHECK(result->latency.count == 30);
    CHECK(result->files.at(0).bytes > 0);
}

namespace {

json noisy(const std::string& server, const std::string& phase, double p50, double p99, double cpu_ms) {
    json r = {{"kind", "noisy"}, {"server", server}, {"phase", phase}, {"rep", 1}, {"file", "meminfo"},
              {"mode", "orc"}, {"readers", 1}, {"neighbour_threads", 4}, {"interval_ms", 1},
              {"result", reader_result(1000, p50, p99, cpu_ms, 2000)}, {"neighbour", nullptr}};
    r["result"]["window_s"] = 2.0;
    if (phase == "noisy") r["neighbour"] = reader_result(150000, 5, 9, 0, 300000);
    return r;
}

}  // namespace

TEST_CASE("noisy neighbour: CPU A adds to each server, B's p50/p99 noisy over quiet, issue 16's targets") {
    std::vector<json> records = {
        {{"kind", "meta"}, {"cpus", 2}},
        // procviewfs-co: 20 ms → 60 ms over 2 s = 1% → 3% of a core; p50 10 → 11 µs, p99 40 → 60 µs
        noisy("procviewfs-co", "quiet", 10, 40, 20), noisy("procviewfs-co", "noisy", 11, 60, 60),
        // shared files: 100 ms → 1700 ms = 5% → 85%
        noisy("procviewfs", "quiet", 90, 300, 100), noisy("procviewfs", "noisy", 250, 700, 1700),
    };
    std::string report = render_report(records);
    CHECK(report.find("## Reads:") == std::string::npos);  // --only noisy: only what was measured
    CHECK(report.find("| procviewfs-co: per-container files, --containers-only (no OPEN) | 150,000 | 1.0 | 3.0 | **+2.0**"
                      " | 10.0 | 11.0 | **1.10×** | 40.0 | 60.0 | **1.50×** |") != std::string::npos);
    CHECK(report.find("| procviewfs: shared files (proc/) | 150,000 | 5.0 | 85.0 | **+80.0** | 90.0 | 250.0 | **2.78×** |") !=
          std::string::npos);
    CHECK(report.find("**met** — noisy neighbour, no OPEN (procviewfs-co): A reading with 4 threads adds ≤ 5% of a core"
                      " to the server: +2.0% of a core (shared files +80.0%)") != std::string::npos);
    CHECK(report.find("**MISSED** — noisy neighbour, no OPEN (procviewfs-co): B's p50 and p99 ≤ 1.2× their quiet values:"
                      " p50 1.10× (10.0 → 11.0 µs), p99 1.50× (40.0 → 60.0 µs) (1 of 2 missed)") != std::string::npos);

    records[4]["neighbour"]["errors"] = 3;  // A's errors are flagged on the row
    CHECK(render_report(records).find("| procviewfs: shared files (proc/) ⚠ 3 read errors | 150,000 |") != std::string::npos);
}

TEST_CASE("per-container rows: reads/s over the floor's in the same cell, and the ≥ 5× target") {
    std::vector<json> records = {
        {{"kind", "meta"}, {"cpus", 2}},
        cell("floor", "meminfo", "orc", 1, reader_result(12000, 50, 90, 400, 36000)),
        cell("procviewfs-pc", "meminfo", "orc", 1, reader_result(24000, 35, 89, 300, 72000)),
        cell("procviewfs-co", "meminfo", "orc", 1, reader_result(120000, 4.5, 8, 0, 360000)),
        cell("floor", "stat", "seek", 1, reader_result(20000, 45, 80, 400, 60000)),
        cell("procviewfs-co", "stat", "seek", 1, reader_result(60000, 1, 2, 0, 180000)),
    };
    const std::string report = render_report(records);
    CHECK(report.find("| meminfo | orc | 1 | 12,000 | 50.0 / 90.0 | 24,000 | **2.00×** | 35.0 / 89.0 | 120,000 | **10.00×**"
                      " | 4.5 / 8.0 | 0.00 |") != std::string::npos);
    // The reads table's ÷ floor column covers the per-container rows too.
    CHECK(report.find("| meminfo | orc | 1 | procviewfs-co | 120,000 |") != std::string::npos);
    CHECK(report.find("**MISSED** — a container reading its own files back to back, no OPEN (procviewfs-co), 1 reader:"
                      " ≥ 5× the floor's reads/s, open–read–close and kept-open (uptime, a clock rendered on every read,"
                      " not counted): meminfo/orc 10.00× (p50 / p99 4.5 / 8.0 µs; on the main mount 2.00×), stat/seek"
                      " 3.00× (p50 / p99 1.0 / 2.0 µs) (1 of 2 missed)") != std::string::npos);
}

TEST_CASE("the smoke check requires issue 16's rows the run asked for") {
    json meta = {{"kind", "meta"}, {"parts", "cells scale noisy"}, {"servers", "procviewfs floor"}, {"scale_cgroups", 20}};
    std::vector<json> records = {meta, cell("procviewfs", "stat", "orc", 1, reader_result(10, 90, 900, 1, 300))};
    auto problems = check_records(records);
    auto mentions = [&](const std::string& what) {
        return std::any_of(problems.begin(), problems.end(), [&](const std::string& p) { return p == what; });
    };
    CHECK(mentions("cells: no procviewfs-co rows"));
    CHECK(mentions("cells: no procviewfs-pc rows"));
    CHECK(mentions("scale: no procviewfs-co row"));
    CHECK(mentions("noisy: no procviewfs-co quiet run"));
    CHECK(mentions("noisy: no floor noisy run"));
    CHECK_FALSE(mentions("noisy: no lxcfs quiet run"));  // lxcfs was not among the servers

    records.push_back(cell("procviewfs-pc", "stat", "orc", 1, reader_result(10, 90, 900, 1, 300)));
    records.push_back(cell("procviewfs-co", "stat", "orc", 1, reader_result(10, 90, 900, 1, 300)));
    records.push_back({{"kind", "scale"}, {"server", "procviewfs-co"}, {"cgroups", 20},
                       {"result", reader_result(10, 90, 900, 1, 300)}});
    for (const char* s : {"procviewfs-co", "procviewfs-pc", "procviewfs", "floor"}) {
        records.push_back(noisy(s, "quiet", 10, 40, 20));
        records.push_back(noisy(s, "noisy", 10, 40, 20));
    }
    CHECK(check_records(records).empty());

    records.back()["neighbour"]["errors"] = 2;
    records.back()["neighbour"]["first_error"] = "meminfo: Transport endpoint is not connected";
    problems = check_records(records);
    REQUIRE(problems.size() == 1);
    CHECK(problems[0] == "noisy floor: container A: 2 read errors (meminfo: Transport endpoint is not connected)");

    records[0].erase("parts");  // results of an older run: nothing is required
    records.back()["neighbour"]["errors"] = 0;
    records.erase(records.begin() + 2, records.end());
    CHECK(check_records(records).empty());
}

TEST_CASE("scale target for per-container files: CPU against the floor's as shown, the slowest steady reads beside") {
    auto scale = [](const char* server, double cpu_ms, double window_s, double steady_max_us) {
        return json{{"kind", "scale"}, {"server", server}, {"cgroups", 200},
                    {"result", {{"window_s", window_s}, {"max_us", 20000}, {"errors", 0}, {"count", 4000},
                                {"steady", {{"max_us", steady_max_us}}}, {"server", {{"cpu_ms", cpu_ms}}}}}};
    };
    // 190 ms over 10.001 s and 10.002 s: both 1.90% — the same ticks, not a miss.
    std::string report = render_report({scale("floor", 190, 10.002, 4900), scale("procviewfs-co", 190, 10.001, 4580)});
    CHECK(report.find("**met** — containers reading stat and loadavg once a second through per-container files, no OPEN"
                      " (procviewfs-co): server CPU ≤ the floor's (slowest steady-state read shown): 200 containers:"
                      " 1.90% vs the floor's 1.90%; steady slowest read 4.58 ms (the floor: 4.90 ms)") != std::string::npos);
    report = render_report({scale("floor", 190, 10, 4900), scale("procviewfs-co", 200, 10, 4580)});
    CHECK(report.find("**MISSED** — containers reading stat and loadavg once a second through per-container files, no"
                      " OPEN (procviewfs-co): server CPU ≤ the floor's (slowest steady-state read shown): 200 containers:"
                      " 2.00% vs the floor's 1.90%") != std::string::npos);
}
