// render_vmstat on the captured fixtures: v2 (Debian 12, kernel 6.1; the
// host's vmstat captured on the same kernel) and v1 (hybrid, kernel 6.18).
#include <doctest/doctest.h>

#include <map>

#include "core/views.hpp"
#include "fixtures.hpp"

using namespace procview;
using procview::test::check_golden;
using procview::test::read_fixture;

namespace {

struct Scenario {
    std::map<std::string, std::string> texts;
    std::vector<MeminfoLine> host_meminfo;
    std::vector<VmstatLine> host_vmstat;
    MemoryFacts facts;
    std::vector<MeminfoLine> meminfo;  // the container's
    std::optional<std::vector<DeviceIo>> io;

    std::string_view text(const std::string& path) { return texts.emplace(path, read_fixture(path)).first->second; }

    void finish(const MemoryFiles& files, const std::string& proc) {
        auto host = parse_meminfo(text(proc + "/meminfo"));
        REQUIRE(host);
        host_meminfo = *host;
        auto vm = parse_vmstat(text(proc + "/vmstat"));
        REQUIRE(vm);
        host_vmstat = *vm;
        auto f = memory_facts(files);
        REQUIRE(f);
        facts = *f;
        meminfo = container_meminfo(host_meminfo, facts, MemoryOptions{});
    }
    [[nodiscard]] std::string render() const {
        return render_vmstat(host_vmstat, VmstatInputs{meminfo, host_meminfo, facts.stat, io});
    }
};

// kubepods/pod1/ctr1: 256 MiB limit, 60 MiB of tmpfs, 480 page faults.
Scenario v2_ctr1() {
    Scenario s;
    const std::string root = "v2/cgroup/";
    MemoryFiles files;
    files.version = CgroupVersion::v2;
    files.stat = s.text(root + "kubepods/pod1/ctr1/memory.stat");
    files.usage = s.text(root + "kubepods/pod1/ctr1/memory.current");
    for (const char* dir : {"kubepods/pod1/ctr1", "kubepods/pod1", "kubepods"})
        files.limits.push_back(s.text(root + dir + "/memory.max"));
    s.finish(files, "v2/proc");
    return s;
}

// pvfx: 256 MiB limit, 60 MiB of tmpfs, total_pgfault 1457.
Scenario v1_pvfx() {
    Scenario s;
    const std::string dir = "v1/cgroup/memory/pvfx/";
    MemoryFiles files;
    files.version = CgroupVersion::v1;
    files.stat = s.text(dir + "memory.stat");
    files.usage = s.text(dir + "memory.usage_in_bytes");
    files.limits = {s.text(dir + "memory.limit_in_bytes")};
    s.finish(files, "v1/proc");
    return s;
}

std::map<std::string, uint64_t> values_of(const std::string& rendered) {
    auto lines = parse_vmstat(rendered);
    REQUIRE(lines);
    std::map<std::string, uint64_t> out;
    for (const auto& l : *lines) out[l.key] = l.value;
    return out;
}

// What must hold on any fixture: the host's names in the host's order, page
// counts that are the container's meminfo in pages, nothing host-wide.
void check_invariants(const Scenario& s, const std::string& rendered) {
    auto lines = parse_vmstat(rendered);
    REQUIRE(lines);
    REQUIRE(lines->size() == s.host_vmstat.size());
    for (std::size_t i = 0; i < lines->size(); ++i) CHECK((*lines)[i].key == s.host_vmstat[i].key);
    auto v = values_of(rendered);
    auto kb = [&](const char* key) { return meminfo_value(s.meminfo, key).value(); };
    CHECK(v.at("nr_free_pages") == kb("MemFree") / 4);
    CHECK(v.at("nr_free_pages") * 4 <= kb("MemTotal"));
    CHECK(v.at("nr_inactive_anon") == kb("Inactive(anon)") / 4);
    CHECK(v.at("nr_zone_inactive_anon") == v.at("nr_inactive_anon"));
    CHECK(v.at("nr_active_file") == kb("Active(file)") / 4);
    CHECK(v.at("nr_shmem") == kb("Shmem") / 4);
    CHECK(v.at("nr_file_pages") == (kb("Cached") + kb("SwapCached") + kb("Buffers")) / 4);
    CHECK(v.at("nr_kernel_stack") == kb("KernelStack"));
    for (const auto& host : s.host_vmstat)
        if (host.key == "nr_dirty_threshold") CHECK(v.at("nr_dirty_threshold") <= host.value);
    // Host-wide counters are never shown as the container's.
    for (const char* key : {"numa_hit", "numa_local", "pgfree", "pgalloc_normal", "nr_dirtied", "nr_written",
                            "workingset_nodes", "compact_stall", "nr_foll_pin_acquired"}) {
        CAPTURE(key);
        CHECK(v.at(key) == 0);
    }
}

}  // namespace

TEST_CASE("vmstat v2: ctr1's page counts, events and 0 for host-wide lines (golden)") {
    Scenario s = v2_ctr1();
    std::string out = s.render();
    check_golden("vmstat_v2_ctr1.txt", out);
    check_invariants(s, out);
    auto v = values_of(out);
    // 256 MiB − memory.current 63,307,776 B = 205,127,680 B = MemFree 200,320 kB = 50,080 pages.
    CHECK(v.at("nr_free_pages") == 50080);
    CHECK(v.at("nr_shmem") == 15360);         // 62,914,560 B of tmpfs
    CHECK(v.at("nr_inactive_anon") == 15372);  // 62,963,712 B
    CHECK(v.at("nr_file_pages") == 15360);
    CHECK(v.at("nr_slab_reclaimable") == 35);  // 145,440 B → 142 kB → 35 pages
    CHECK(v.at("nr_page_table_pages") == 5);   // 20,480 B
    CHECK(v.at("nr_kernel_stack") == 16);      // kB
    CHECK(v.at("pgfault") == 480);
    CHECK(v.at("pgmajfault") == 0);
    CHECK(v.at("pgpgin") == 0);  // io unknown
    // The host's thresholds scaled by dirtyable memory (MemFree + file LRU):
    // 95,056 × 200,320 kB / 1,887,072 kB = 10,090.5; 47,470 × the same = 5,039.2.
    CHECK(v.at("nr_dirty_threshold") == 10090);
    CHECK(v.at("nr_dirty_background_threshold") == 5039);
}

TEST_CASE("vmstat v1: pvfx's page counts and total_ events; pgpgin is block I/O, not memcg charges (golden)") {
    Scenario s = v1_pvfx();
    std::string out = s.render();
    check_golden("vmstat_v1_pvfx.txt", out);
    check_invariants(s, out);
    auto v = values_of(out);
    CHECK(v.at("pgfault") == 1457);
    CHECK(v.at("pgmajfault") == 3);
    CHECK(v.at("workingset_refault_file") == 38);
    // memory.stat's total_pgpgin 16425 counts page charges: not shown as bi.
    CHECK(v.at("pgpgin") == 0);
    CHECK(v.at("pgpgout") == 0);
    CHECK(v.at("nr_dirty") == 1);  // total_dirty 4096 B
    CHECK(v.at("pgscan_kswapd") == 0);  // v1 does not report it
    CHECK(v.at("nr_free_pages_blocks") == 0);  // a 6.18 line the cgroup has no counterpart for
}

TEST_CASE("vmstat pgpgin/pgpgout: the cgroup's bytes read and written in KiB, over all devices") {
    Scenario s = v2_ctr1();
    DeviceIo sda, vdb;
    sda.major = 8;
    sda.read_bytes = 10 * 1024 * 1024;
    sda.write_bytes = 4096;
    vdb.major = 254;
    vdb.minor = 16;
    vdb.read_bytes = 2048;
    vdb.write_bytes = 1536;
    s.io = std::vector<DeviceIo>{sda, vdb};
    auto v = values_of(s.render());
    CHECK(v.at("pgpgin") == 10240 + 2);
    CHECK(v.at("pgpgout") == (4096 + 1536) / 1024);
}

TEST_CASE("vmstat: memory.stat event counters of newer kernels map by name (pswpin, zswpwb, thp_swpout)") {
    auto stat = parse_memory_stat("anon 0\nfile 0\npswpin 7\npswpout 9\nzswpwb 3\nthp_swpout 2\npgscan 99\n",
                                  CgroupVersion::v2);
    REQUIRE(stat);
    std::vector<VmstatLine> host{{"pswpin", 100}, {"pswpout", 200}, {"zswpwb", 300}, {"thp_swpout", 400},
                                 {"pgscan_kswapd", 500}, {"oom_kill", 600}};
    std::vector<MeminfoLine> meminfo{{"MemTotal", 1024, true}, {"MemFree", 512, true}};
    std::optional<std::vector<DeviceIo>> io;
    std::string out = render_vmstat(host, VmstatInputs{meminfo, meminfo, *stat, io});
    CHECK(out == "pswpin 7\npswpout 9\nzswpwb 3\nthp_swpout 2\npgscan_kswapd 0\noom_kill 0\n");
}

TEST_CASE("memory.stat events: v1 takes the hierarchical total_ counter, not the cgroup's own") {
    auto stat = parse_memory_stat("pgfault 5\npgmajfault 1\ntotal_pgfault 9\ntotal_pgmajfault 2\n", CgroupVersion::v1);
    REQUIRE(stat);
    CHECK(stat->events[memory_event_index("pgfault")] == 9);
    CHECK(stat->events[memory_event_index("pgmajfault")] == 2);
    CHECK(memory_event_index("pgpgin") == kMemoryEventCount);
}

TEST_CASE("parse_vmstat rejects what is not `name N`") {
    CHECK(parse_vmstat("nr_free_pages 12\npgfault 3\n"));
    CHECK_FALSE(parse_vmstat(""));
    CHECK_FALSE(parse_vmstat("nr_free_pages\n"));
    CHECK_FALSE(parse_vmstat("nr_free_pages -1\n"));
    CHECK_FALSE(parse_vmstat("nr_free_pages 1 2\n"));
    CHECK_FALSE(parse_vmstat(" nr_free_pages 1\n"));
}

TEST_CASE("vmstat: nr_file_pages, a sum of meminfo lines, stays within MemTotal") {
    // memory.stat's file includes the swap cache, so Cached + SwapCached can
    // exceed a container that is full of page cache.
    std::vector<MeminfoLine> host{{"MemTotal", 1000000, true}, {"MemFree", 900000, true}, {"Buffers", 0, true},
                                  {"Cached", 50000, true},     {"SwapCached", 0, true}};
    MemoryFiles files;
    files.version = CgroupVersion::v2;
    files.stat = "file 4194304\nswapcached 2097152\n";
    files.usage = "4194304\n";
    files.limits = {std::string_view("4194304\n")};
    auto facts = memory_facts(files);
    REQUIRE(facts);
    auto meminfo = container_meminfo(host, *facts, MemoryOptions{});
    CHECK(meminfo_value(meminfo, "Cached") == 4096u);
    CHECK(meminfo_value(meminfo, "SwapCached") == 2048u);
    std::optional<std::vector<DeviceIo>> io;
    std::vector<VmstatLine> lines{{"nr_file_pages", 123456}};
    CHECK(render_vmstat(lines, VmstatInputs{meminfo, host, facts->stat, io}) == "nr_file_pages 1024\n");
}
