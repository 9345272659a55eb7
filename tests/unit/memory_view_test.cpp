#include <doctest/doctest.h>

#include <map>

#include "core/text.hpp"
#include "core/views.hpp"
#include "fixtures.hpp"

using namespace procview;
using procview::test::check_golden;
using procview::test::read_fixture;

namespace {

// Owns the texts a MemoryFiles points into.
struct MemoryFixture {
    std::map<std::string, std::string> texts;
    MemoryFiles files;

    std::optional<std::string_view> text(const std::string& path) {
        return std::string_view(texts.emplace(path, read_fixture(path)).first->second);
    }
};

// A v2 cgroup and its ancestors, from the fixture tree.
void load_v2(MemoryFixture& fx, const std::vector<std::string>& chain) {
    const std::string root = "v2/cgroup/";
    fx.files.version = CgroupVersion::v2;
    fx.files.stat = fx.text(root + chain.front() + "/memory.stat");
    fx.files.usage = fx.text(root + chain.front() + "/memory.current");
    fx.files.swap_usage = fx.text(root + chain.front() + "/memory.swap.current");
    for (const auto& dir : chain) {
        fx.files.limits.push_back(fx.text(root + dir + "/memory.max"));
        fx.files.swap_limits.push_back(fx.text(root + dir + "/memory.swap.max"));
    }
}

void load_v1(MemoryFixture& fx) {
    const std::string dir = "v1/cgroup/memory/pvfx/";
    fx.files.version = CgroupVersion::v1;
    fx.files.stat = fx.text(dir + "memory.stat");
    fx.files.usage = fx.text(dir + "memory.usage_in_bytes");
    fx.files.swap_usage = fx.text(dir + "memory.memsw.usage_in_bytes");
    fx.files.swappiness = fx.text(dir + "memory.swappiness");
    fx.files.limits = {fx.text(dir + "memory.limit_in_bytes")};
    fx.files.swap_limits = {fx.text(dir + "memory.memsw.limit_in_bytes")};
}

std::vector<MeminfoLine> host_meminfo(const std::string& path) {
    auto lines = parse_meminfo(read_fixture(path));
    REQUIRE(lines);
    return *lines;
}

// Key → value of a rendered meminfo (kB or count).
std::map<std::string, uint64_t> values_of(const std::string& rendered) {
    auto lines = parse_meminfo(rendered);
    REQUIRE(lines);
    std::map<std::string, uint64_t> values;
    for (const auto& line : *lines) values[line.key] = line.value;
    return values;
}

// The invariants every rendered meminfo must hold.
void check_invariants(const std::vector<MeminfoLine>& host, const std::string& rendered) {
    auto lines = parse_meminfo(rendered);
    REQUIRE(lines);
    REQUIRE(lines->size() == host.size());
    const uint64_t total = meminfo_value(*lines, "MemTotal").value();
    CHECK(total <= meminfo_value(host, "MemTotal").value());
    for (std::size_t i = 0; i < host.size(); ++i) {
        const MeminfoLine& line = (*lines)[i];
        CHECK(line.key == host[i].key);  // host order kept
        CHECK(line.has_kb == host[i].has_kb);
        if (!line.has_kb) CHECK(line.value == host[i].value);  // counts unchanged
        if (line.has_kb && line.key != "SwapTotal" && line.key != "SwapFree" && line.key != "Hugepagesize") {
            CAPTURE(line.key);
            CHECK(line.value <= total);
        }
    }
    auto v = values_of(rendered);
    CHECK(v["MemFree"] <= v["MemAvailable"]);
    CHECK(v["SwapFree"] <= v["SwapTotal"]);
}

MemoryFacts facts_or_fail(const MemoryFiles& files) {
    auto facts = memory_facts(files);
    REQUIRE_MESSAGE(facts, (facts ? "" : facts.error().describe()));
    return *facts;
}

// A host with 8 GiB of swap, 4 GiB in use (hand-made from the v2 fixture).
std::vector<MeminfoLine> host_with_swap() {
    auto host = host_meminfo("v2/proc/meminfo");
    for (auto& line : host) {
        if (line.key == "SwapTotal") line.value = 8388608;
        if (line.key == "SwapFree") line.value = 4194304;
    }
    return host;
}

}  // namespace

TEST_CASE("memory_facts v2: nested limits take the minimum over ancestors") {
    MemoryFixture fx;
    load_v2(fx, {"kubepods/pod1/ctr1", "kubepods/pod1", "kubepods"});
    MemoryFacts facts = facts_or_fail(fx.files);
    CHECK(facts.limit == 268435456u);  // ctr1 256 MiB < pod1 512 MiB < kubepods max
    CHECK_FALSE(facts.swap_limit);     // memory.swap.max is "max" everywhere
    CHECK(facts.usage == 63307776u);
    CHECK(facts.swap_usage == 0u);
    CHECK_FALSE(facts.swappiness);
    CHECK(facts.stat.shmem == 62914560u);

    // The pod alone: its own 512 MiB.
    MemoryFixture pod;
    load_v2(pod, {"kubepods/pod1", "kubepods"});
    CHECK(facts_or_fail(pod.files).limit == 536870912u);

    // A tighter ancestor wins over the cgroup's own limit.
    fx.files.limits[1] = std::string_view("134217728\n");
    CHECK(facts_or_fail(fx.files).limit == 134217728u);
}

TEST_CASE("render_meminfo v2 container: 256 MiB under a 512 MiB pod") {
    MemoryFixture fx;
    load_v2(fx, {"kubepods/pod1/ctr1", "kubepods/pod1", "kubepods"});
    auto host = host_meminfo("v2/proc/meminfo");
    std::string out = render_meminfo(host, facts_or_fail(fx.files), MemoryOptions{});
    check_golden("meminfo_v2_ctr1.txt", out);
    check_invariants(host, out);
    auto v = values_of(out);
    CHECK(v["MemTotal"] == 262144u);                  // 256 MiB
    CHECK(v["MemFree"] == 262144u - 63307776u / 1024);  // memory.current = 61824 kB
    CHECK(v["Shmem"] == 61440u);                      // the 60 MiB in tmpfs
}

TEST_CASE("render_meminfo v2 unlimited cgroup with zero usage shows the host's total as free") {
    MemoryFixture fx;
    load_v2(fx, {"idle"});
    auto host = host_meminfo("v2/proc/meminfo");
    std::string out = render_meminfo(host, facts_or_fail(fx.files), MemoryOptions{});
    check_golden("meminfo_v2_idle.txt", out);
    check_invariants(host, out);
    auto v = values_of(out);
    CHECK(v["MemTotal"] == 2014152u);
    CHECK(v["MemFree"] == 2014152u);
    CHECK(v["MemAvailable"] == 2014152u);
    CHECK(v["Cached"] == 0u);
    CHECK(v["VmallocTotal"] == 2014152u);  // host value clamped to MemTotal
}

TEST_CASE("render_meminfo v1: limit_in_bytes, total_* stats, fields v1 lacks are 0") {
    MemoryFixture fx;
    load_v1(fx);
    MemoryFacts facts = facts_or_fail(fx.files);
    CHECK(facts.limit == 268435456u);
    CHECK_FALSE(facts.swap_limit);       // memsw unlimited
    CHECK(facts.swap_usage == 0u);       // memsw.usage − usage
    CHECK(facts.swappiness == 60u);
    auto host = host_meminfo("v1/proc/meminfo");
    std::string out = render_meminfo(host, facts, MemoryOptions{});
    check_golden("meminfo_v1_pvfx.txt", out);
    check_invariants(host, out);
    auto v = values_of(out);
    CHECK(v["Slab"] == 0u);          // not the host's 161456
    CHECK(v["KernelStack"] == 0u);   // not the host's 1476
    CHECK(v["Cached"] == 61596u);    // total_cache 63074304 / 1024
}

TEST_CASE("memory_facts v1: hierarchical limits fold in ancestors") {
    MemoryFixture fx;
    load_v1(fx);
    std::string stat = read_fixture("v1/cgroup/memory/pvfx/memory.stat");
    auto replace = [&stat](const std::string& from, const std::string& to) {
        auto pos = stat.find(from);
        REQUIRE(pos != std::string::npos);
        stat.replace(pos, from.size(), to);
    };
    replace("hierarchical_memory_limit 268435456", "hierarchical_memory_limit 134217728");
    replace("hierarchical_memsw_limit 9223372036854771712", "hierarchical_memsw_limit 201326592");
    fx.files.stat = stat;
    fx.files.limits = {std::string_view("9223372036854771712\n")};  // the cgroup itself: unlimited
    MemoryFacts facts = facts_or_fail(fx.files);
    CHECK(facts.limit == 134217728u);       // 128 MiB from an ancestor
    CHECK(facts.swap_limit == 67108864u);   // memsw 192 MiB − memory 128 MiB
}

TEST_CASE("memory_facts v1: swap is memsw minus memory, saturating") {
    MemoryFiles files;
    files.version = CgroupVersion::v1;
    files.stat = std::string_view("total_cache 0\ntotal_rss 1048576\n");
    files.usage = std::string_view("104857600\n");               // 100 MiB
    files.swap_usage = std::string_view("115343360\n");          // mem+swap 110 MiB
    files.swappiness = std::string_view("60\n");
    files.limits = {std::string_view("268435456\n")};            // 256 MiB
    files.swap_limits = {std::string_view("402653184\n")};       // mem+swap 384 MiB
    MemoryFacts facts = facts_or_fail(files);
    CHECK(facts.swap_limit == 134217728u);  // 128 MiB
    CHECK(facts.swap_usage == 10485760u);   // 10 MiB

    // memsw briefly below memory (the counters are read at different times): 0, not a wrap.
    files.swap_usage = std::string_view("104000000\n");
    files.swap_limits = {std::string_view("268435456\n")};
    facts = facts_or_fail(files);
    CHECK(facts.swap_usage == 0u);
    CHECK(facts.swap_limit == 0u);
}

TEST_CASE("render_meminfo and render_swaps: a v2 swap limit under the host's swap") {
    auto host = host_with_swap();
    MemoryFiles files;
    files.stat = std::string_view("anon 33554432\nfile 0\n");
    files.usage = std::string_view("33554432\n");        // 32 MiB
    files.swap_usage = std::string_view("33554432\n");   // 32 MiB swapped
    files.limits = {std::string_view("268435456\n")};
    files.swap_limits = {std::string_view("134217728\n"), std::string_view("max\n")};  // 128 MiB
    MemoryFacts facts = facts_or_fail(files);
    std::string meminfo = render_meminfo(host, facts, MemoryOptions{});
    check_invariants(host, meminfo);
    auto v = values_of(meminfo);
    CHECK(v["SwapTotal"] == 131072u);
    CHECK(v["SwapFree"] == 98304u);
    CHECK(v["MemFree"] == 229376u);  // 256 MiB − 32 MiB

    std::string swaps = render_swaps(host, facts, MemoryOptions{});
    check_golden("swaps_v2_limited.txt", swaps);

    // No swap limit: the host's swap is the cgroup's to use.
    files.swap_limits = {std::string_view("max\n")};
    v = values_of(render_meminfo(host, facts_or_fail(files), MemoryOptions{}));
    CHECK(v["SwapTotal"] == 8388608u);
    CHECK(v["SwapFree"] == 8388608u - 32768u);

    // A limit above the host's swap cannot create swap.
    files.swap_limits = {std::string_view("17179869184\n")};
    v = values_of(render_meminfo(host, facts_or_fail(files), MemoryOptions{}));
    CHECK(v["SwapTotal"] == 8388608u);
}

TEST_CASE("swap disabled: --no-swap, v1 swappiness 0, or no host swap") {
    auto host = host_with_swap();
    MemoryFiles files;
    files.stat = std::string_view("anon 0\n");
    files.usage = std::string_view("0\n");
    files.swap_usage = std::string_view("4096\n");
    files.limits = {std::string_view("268435456\n")};
    files.swap_limits = {std::string_view("max\n")};
    const std::string header = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n";

    MemoryOptions no_swap{false};
    auto v = values_of(render_meminfo(host, facts_or_fail(files), no_swap));
    CHECK(v["SwapTotal"] == 0u);
    CHECK(v["SwapFree"] == 0u);
    CHECK(render_swaps(host, facts_or_fail(files), no_swap) == header);

    MemoryFiles v1;
    v1.version = CgroupVersion::v1;
    v1.stat = std::string_view("total_rss 0\n");
    v1.usage = std::string_view("0\n");
    v1.swappiness = std::string_view("0\n");
    v1.limits = {std::string_view("268435456\n")};
    v1.swap_limits = {std::string_view("536870912\n")};
    MemoryFacts facts = facts_or_fail(v1);
    CHECK(facts.swappiness == 0u);
    v = values_of(render_meminfo(host, facts, MemoryOptions{}));
    CHECK(v["SwapTotal"] == 0u);
    CHECK(render_swaps(host, facts, MemoryOptions{}) == header);

    // The captured host has no swap: header only, SwapFree 0 (lxcfs printed an underflow here).
    auto real_host = host_meminfo("v2/proc/meminfo");
    CHECK(render_swaps(real_host, facts_or_fail(files), MemoryOptions{}) == read_fixture("v2/proc/swaps"));
    v = values_of(render_meminfo(real_host, facts_or_fail(files), MemoryOptions{}));
    CHECK(v["SwapFree"] == 0u);
}

TEST_CASE("usage transiently above the limit: MemFree 0, nothing wraps") {
    auto host = host_meminfo("v2/proc/meminfo");
    MemoryFiles files;
    files.stat = std::string_view(
        "anon 300000000\nfile 20000000\nshmem 0\nactive_anon 200000000\ninactive_anon 100000000\n"
        "active_file 10000000\ninactive_file 10000000\nslab_reclaimable 5000000\n");
    files.usage = std::string_view("320000000\n");      // above 256 MiB
    files.limits = {std::string_view("268435456\n")};
    std::string out = render_meminfo(host, facts_or_fail(files), MemoryOptions{});
    check_invariants(host, out);
    auto v = values_of(out);
    CHECK(v["MemTotal"] == 262144u);
    CHECK(v["MemFree"] == 0u);
    CHECK(v["MemAvailable"] == (10000000u + 10000000u + 5000000u) / 1024);  // reclaimable only
    CHECK(v["AnonPages"] == 262144u);  // 292968 kB clamped to MemTotal
    CHECK(v["Active"] == 205078u);     // (200000000 + 10000000) / 1024 = 205078.1
}

TEST_CASE("memory_facts: missing and garbage files") {
    MemoryFiles files;
    files.stat = std::string_view("anon 0\n");
    files.usage = std::string_view("1048576\n");
    files.swap_usage = std::string_view("garbage\n");
    files.limits = {std::nullopt, std::string_view("lots\n"), std::string_view("536870912\n")};
    files.swap_limits = {std::nullopt};
    MemoryFacts facts = facts_or_fail(files);
    CHECK(facts.limit == 536870912u);  // unreadable and garbage limits count as unlimited
    CHECK_FALSE(facts.swap_usage);
    CHECK_FALSE(facts.swap_limit);

    files.limits = {std::nullopt};
    CHECK_FALSE(facts_or_fail(files).limit);

    MemoryFiles no_usage = files;
    no_usage.usage.reset();
    auto r = memory_facts(no_usage);
    REQUIRE_FALSE(r);
    CHECK(r.error().errnum == ENOENT);
    CHECK(r.error().message.find("memory.current") != std::string::npos);

    MemoryFiles bad_usage = files;
    bad_usage.usage = std::string_view("-1\n");
    r = memory_facts(bad_usage);
    REQUIRE_FALSE(r);
    CHECK(r.error().errnum == EINVAL);

    MemoryFiles no_stat = files;
    no_stat.stat.reset();
    CHECK_FALSE(memory_facts(no_stat));

    MemoryFiles bad_stat = files;
    bad_stat.stat = std::string_view("anon\n");
    r = memory_facts(bad_stat);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("memory.stat line 1") != std::string::npos);
}

TEST_CASE("render_meminfo reproduces the kernel's column layout") {
    // A big host: values wider than 8 digits, HardwareCorrupted and HugePages_ lines.
    auto host = parse_meminfo(
        "MemTotal:       528280000 kB\n"
        "MemFree:        500000000 kB\n"
        "HardwareCorrupted:     0 kB\n"
        "HugePages_Total:    1024\n"
        "HugePages_Free:   123456\n"
        "Hugepagesize:    1048576 kB\n");
    REQUIRE(host);
    MemoryFacts unlimited;
    unlimited.usage = 1024ULL * 1024 * 1024 * 100;  // 100 GiB
    CHECK(render_meminfo(*host, unlimited, MemoryOptions{}) ==
          "MemTotal:       528280000 kB\n"
          "MemFree:        423422400 kB\n"
          "HardwareCorrupted:     0 kB\n"
          "HugePages_Total:    1024\n"
          "HugePages_Free:    123456\n"
          "Hugepagesize:    1048576 kB\n");
    MemoryFacts small;
    small.limit = 512ULL * 1024 * 1024;
    CHECK(render_meminfo(*host, small, MemoryOptions{}) ==
          "MemTotal:         524288 kB\n"
          "MemFree:          524288 kB\n"
          "HardwareCorrupted:     0 kB\n"
          "HugePages_Total:    1024\n"
          "HugePages_Free:    123456\n"
          "Hugepagesize:    1048576 kB\n");  // a page size, not clamped

    // The unchanged lines of a real host file come out byte for byte.
    auto real = host_meminfo("v2/proc/meminfo");
    MemoryFacts none;
    none.usage = 0;
    std::string out = render_meminfo(real, none, MemoryOptions{});
    std::string host_text = read_fixture("v2/proc/meminfo");
    for (const char* line : {"HugePages_Total:       0\n", "Hugepagesize:       2048 kB\n",
                             "HardwareCorrupted:     0 kB\n", "SecPageTables:         0 kB\n",
                             "DirectMap4k:       30592 kB\n"}) {
        CAPTURE(line);
        CHECK(host_text.find(line) != std::string::npos);
        CHECK(out.find(line) != std::string::npos);
    }
}

TEST_CASE("render_meminfo: a host copy whose known keys lost \" kB\" is still computed, in kB") {
    auto host = parse_meminfo("MemTotal:       2468362\nMemFree:  100000\nSlab:   161456 kB\nHugePages_Total:       0\n");
    REQUIRE(host);
    MemoryFiles files;
    files.stat = std::string_view("anon 100000000\nfile 0\nshmem 0\nslab_reclaimable 0\n");
    files.usage = std::string_view("104857600\n");  // 100 MiB
    files.limits = {std::string_view("268435456\n")};
    std::string out = render_meminfo(*host, facts_or_fail(files), MemoryOptions{});
    auto lines = parse_meminfo(out);
    REQUIRE(lines);
    CHECK(meminfo_value(*lines, "MemTotal") == 262144u);  // the limit, not the host's 2468362
    CHECK(meminfo_value(*lines, "MemFree") == 262144u - 102400u);
    CHECK(meminfo_value(*lines, "Slab") <= 262144u);
    // A count stays a count, verbatim.
    CHECK(out.find("HugePages_Total:       0\n") != std::string::npos);
}
