// Every parser fed thousands of corrupted copies of real files: no crash, no
// hang, no exception (run under -DPROCVIEW_SANITIZE=ON to catch memory errors),
// and whatever parses still renders within the views' invariants.
#include <doctest/doctest.h>

#include <cstdint>
#include <functional>

#include "core/config.hpp"
#include "core/views.hpp"
#include "fixtures.hpp"

using namespace procview;
using procview::test::read_fixture;

namespace {

// xorshift64*: deterministic, so a failure reproduces.
struct Rng {
    uint64_t state;
    uint64_t next() {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        return state * 2685821657736338717ULL;
    }
    std::size_t below(std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(next() % n); }
};

std::string mutate(const std::string& original, Rng& rng) {
    static constexpr char kBytes[] = {'0', '9', ' ', '\t', '\n', ':', '-', ',', '(', ')', '=', 'x', '\0', '\xff'};
    std::string s = original;
    const std::size_t edits = 1 + rng.below(4);
    for (std::size_t e = 0; e < edits; ++e) {
        std::size_t pos = rng.below(s.size() + 1);
        switch (rng.below(5)) {
            case 0: if (pos < s.size()) s[pos] = kBytes[rng.below(sizeof kBytes)]; break;
            case 1: s.insert(pos, 1, kBytes[rng.below(sizeof kBytes)]); break;
            case 2: s.erase(pos, rng.below(8)); break;
            case 3: s.resize(pos); break;                        // truncated read
            case 4: s.insert(pos, "99999999999999999999"); break; // overflow
        }
    }
    return s;
}

void fuzz(const std::string& fixture, const std::function<void(const std::string&)>& use, int rounds = 1500) {
    const std::string original = read_fixture(fixture);
    Rng rng{0x9e3779b97f4a7c15ULL ^ std::hash<std::string>{}(fixture)};
    use(original);
    for (int i = 0; i < rounds; ++i) use(mutate(original, rng));
}

}  // namespace

TEST_CASE("corrupted cgroup files never crash the parsers") {
    fuzz("v2/cgroup/kubepods/pod1/ctr1/memory.stat", [](const std::string& t) {
        (void)parse_memory_stat(t, CgroupVersion::v2);
        (void)parse_memory_stat(t, CgroupVersion::v1);
    });
    fuzz("v1/cgroup/memory/pvfx/memory.stat", [](const std::string& t) { (void)parse_memory_stat(t, CgroupVersion::v1); });
    fuzz("v2/cgroup/kubepods/pod1/ctr1/memory.max", [](const std::string& t) { (void)parse_memory_limit(t); });
    fuzz("v2/cgroup/kubepods/pod1/ctr1/cpu.max", [](const std::string& t) { (void)parse_cpu_max(t); });
    fuzz("v2/cgroup/kubepods/pod1/ctr1/cpu.stat", [](const std::string& t) { (void)parse_cpu_stat_usage(t); });
    fuzz("v1/cgroup/cpuacct/pvfx/cpuacct.usage_all", [](const std::string& t) {
        auto r = parse_cpuacct_usage_all(t);
        if (r) CHECK(r->size() <= 65536);
    });
    fuzz("v1/cgroup/cpu/pvfx/cpu.cfs_quota_us", [](const std::string& t) { (void)parse_cfs_quota(t, "100000\n"); });
    fuzz("v2/cgroup/kubepods/pod1/ctr1/cpuset.cpus.effective", [](const std::string& t) {
        auto r = CpuSet::parse(t);
        if (r) CHECK(r->size() <= 65536);
    });
    fuzz("v2/proc/133/cgroup", [](const std::string& t) { (void)parse_proc_pid_cgroup(t); });
    fuzz("v1/proc/4065/cgroup", [](const std::string& t) { (void)parse_proc_pid_cgroup(t); });
    fuzz("v2/proc/133/stat", [](const std::string& t) { (void)parse_proc_pid_stat(t); });
    fuzz("v2/proc/133/status", [](const std::string& t) { (void)parse_status_nspid(t); });
}

TEST_CASE("io.stat and blkio lines: corrupted copies") {
    // Hand-made: the captured hosts had no block I/O in their cgroups.
    const std::string io = "254:0 rbytes=1048576 wbytes=4096 rios=12 wios=1 dbytes=0 dios=0\n";
    const std::string blkio = "254:0 Read 10\n254:0 Write 3\n254:0 Total 13\nTotal 13\n";
    Rng rng{42};
    for (int i = 0; i < 3000; ++i) {
        (void)parse_io_stat(mutate(io, rng));
        (void)parse_blkio(mutate(blkio, rng), mutate(blkio, rng), std::string_view(blkio));
    }
}

TEST_CASE("corrupted host files: what parses renders within the invariants") {
    MemoryFacts facts;
    facts.limit = 268435456;
    facts.usage = 300000000;
    facts.stat.file = 1ULL << 40;
    fuzz("v2/proc/meminfo", [&facts](const std::string& t) {
        auto host = parse_meminfo(t);
        if (!host) return;
        auto out = parse_meminfo(render_meminfo(*host, facts, MemoryOptions{}));
        REQUIRE(out);
        const auto total = meminfo_value(*out, "MemTotal");
        if (!total) return;
        for (const auto& line : *out)
            if (line.has_kb && line.key != "SwapTotal" && line.key != "SwapFree" && line.key != "Hugepagesize")
                CHECK(line.value <= *total);
        (void)render_swaps(*host, facts, MemoryOptions{});
    });
    fuzz("v1/proc/cpuinfo", [](const std::string& t) {
        auto info = parse_cpuinfo(t);
        if (info) (void)render_cpuinfo(*info, CpuView{CpuSet({0, 1, 5}), 2.5});
    });
    fuzz("v2/proc/stat", [](const std::string& t) {
        auto host = parse_proc_stat(t);
        if (host) (void)render_stat(std::vector<CpuTimes>(2), *host, StatTail{});
    });
    fuzz("v1/proc/diskstats", [](const std::string& t) { (void)parse_diskstats_names(t); });
}

TEST_CASE("corrupted config never throws") {
    const std::string config = R"({"mountpoint": "/run/pv", "threads": 2, "hook": {"files": ["meminfo"]},
                                   "runtime": {"mode": "mounts"}})";
    Rng rng{7};
    for (int i = 0; i < 3000; ++i) (void)parse_config(mutate(config, rng));
}
