// fusefs/cgroup_gather on the captured fixture trees: each view's gather →
// compute → render, through real CgroupDirs (held fds, openat), without FUSE
// or root. The goldens are the ones the core's tests check number by number.
#include <doctest/doctest.h>

#include "core/cgroup_file_table.hpp"
#include "core/views.hpp"
#include "fixtures.hpp"
#include "fusefs/cgroup_gather.hpp"
#include "fusefs/cgroup_layout.hpp"
#include "fusefs/change_watch.hpp"

using namespace procview;
using procview::test::check_golden;
using procview::test::fixture_path;
using procview::test::read_fixture;

namespace {

struct FixtureCgroups {
    CgroupLayout layout;
    explicit FixtureCgroups(const std::string& tree) : layout(CgroupLayout::from_directory(fixture_path(tree)).value()) {}
    std::shared_ptr<CgroupDir> open(std::string_view controller, std::string_view path) {
        const Hierarchy* h = layout.for_controller(controller);
        REQUIRE(h);
        auto dir = CgroupDir::open(*h, path);
        REQUIRE(dir);
        return *dir;
    }
};

std::vector<MeminfoLine> host_meminfo(const std::string& path) { return parse_meminfo(read_fixture(path)).value(); }

}  // namespace

TEST_CASE("cgroup files: each logical file's name per version and its kind") {
    CHECK(cgroup_file_name(CgroupFile::memory_limit, CgroupVersion::v1) == "memory.limit_in_bytes");
    CHECK(cgroup_file_name(CgroupFile::memory_limit, CgroupVersion::v2) == "memory.max");
    CHECK(cgroup_file_name(CgroupFile::cpu_max, CgroupVersion::v1).empty());
    CHECK(cgroup_file_name(CgroupFile::task_list, CgroupVersion::v1) == "tasks");
    CHECK(cgroup_file_name(CgroupFile::task_list, CgroupVersion::v2) == "cgroup.threads");
    for (const char* limit : {"memory.max", "memory.swap.max", "memory.limit_in_bytes", "memory.memsw.limit_in_bytes",
                              "memory.swappiness", "cpu.max", "cpu.cfs_quota_us", "cpu.cfs_period_us"})
        CHECK(cgroup_file_kind(limit) == CgroupFileKind::limit);
    for (const char* counter : {"memory.current", "memory.stat", "cpuset.cpus.effective", "cpu.stat", "io.pressure"})
        CHECK(cgroup_file_kind(counter) == CgroupFileKind::counter);
    for (const char* list : {"tasks", "cgroup.threads", "cgroup.procs"})
        CHECK(cgroup_file_kind(list) == CgroupFileKind::task_list);
    CHECK_FALSE(cgroup_file_kind("memory.peak"));
    CHECK_FALSE(cgroup_file_kind(""));
    // Every row names a file in at least one version, and a name means one kind.
    for (const auto& row : kCgroupFiles) {
        CHECK_FALSE((row.v1.empty() && row.v2.empty()));
        if (!row.v1.empty()) CHECK(cgroup_file_kind(row.v1) == row.kind);
        if (!row.v2.empty()) CHECK(cgroup_file_kind(row.v2) == row.kind);
    }
}

TEST_CASE("gather_memory v2: ctr1 under its pod renders the golden meminfo") {
    FixtureCgroups v2("v2/cgroup");
    auto dir = v2.open("memory", "/kubepods/pod1/ctr1");
    CgroupTexts texts;
    MemoryFiles files = gather_memory(*dir, texts);
    CHECK(files.limits.size() == 3);  // ctr1, pod1, kubepods
    auto facts = memory_facts(files);
    REQUIRE(facts);
    CHECK(facts->limit == 268435456u);
    CHECK(facts->usage == 63307776u);
    check_golden("meminfo_v2_ctr1.txt", render_meminfo(host_meminfo("v2/proc/meminfo"), *facts, MemoryOptions{}));
}

TEST_CASE("gather_memory v1: pvfx renders the golden meminfo") {
    FixtureCgroups v1("v1/cgroup");
    auto dir = v1.open("memory", "/pvfx");
    CgroupTexts texts;
    auto facts = memory_facts(gather_memory(*dir, texts));
    REQUIRE(facts);
    CHECK(facts->swappiness == 60u);
    check_golden("meminfo_v1_pvfx.txt", render_meminfo(host_meminfo("v1/proc/meminfo"), *facts, MemoryOptions{}));
}

TEST_CASE("gather_cpu: the quota over the ancestors and the cpuset, both versions") {
    FixtureCgroups v2("v2/cgroup");
    auto cpu = v2.open("cpu", "/kubepods/pod1/ctr1");
    auto cpuset = v2.open("cpuset", "/kubepods/pod1/ctr1");
    CgroupTexts texts;
    CpuView view = compute_cpu_view(gather_cpu(cpuset.get(), cpu.get(), true, texts), CpuSet::parse("0-1").value(), true);
    CHECK(view.capacity == doctest::Approx(1.5));  // ctr1 150000/100000 under pod1's 200000/100000
    CHECK(view.count() == 2);

    FixtureCgroups v1("v1/cgroup");
    auto v1_cpu = v1.open("cpu", "/pvfx");
    auto v1_cpuset = v1.open("cpuset", "/pvfx");
    CgroupTexts v1_texts;
    CpuView v1_view =
        compute_cpu_view(gather_cpu(v1_cpuset.get(), v1_cpu.get(), true, v1_texts), CpuSet::parse("0-1").value(), true);
    CHECK(v1_view.capacity == doctest::Approx(1.5));
    // Without the quota the cpuset alone decides.
    CgroupTexts no_quota;
    CHECK(compute_cpu_view(gather_cpu(v1_cpuset.get(), v1_cpu.get(), false, no_quota), CpuSet::parse("0-1").value(), false)
              .capacity == doctest::Approx(2.0));
}

TEST_CASE("gather_cpu_usage: v2 cpu.stat; v1 cpuacct per CPU") {
    FixtureCgroups v2("v2/cgroup");
    auto usage = gather_cpu_usage(v2.open("cpu", "/kubepods/pod1/ctr1").get(), nullptr);
    REQUIRE(usage);
    CHECK(usage->total == parse_cpu_stat_usage(read_fixture("v2/cgroup/kubepods/pod1/ctr1/cpu.stat")).value());
    CHECK_FALSE(usage->per_host_cpu);

    FixtureCgroups v1("v1/cgroup");
    auto v1_usage = gather_cpu_usage(v1.open("cpu", "/pvfx").get(), v1.open("cpuacct", "/pvfx").get());
    REQUIRE(v1_usage);
    REQUIRE(v1_usage->per_host_cpu);
    // usage_percpu's exact totals with usage_all's tick-sampled split, per CPU.
    auto exact = parse_cpuacct_usage_percpu(read_fixture("v1/cgroup/cpuacct/pvfx/cpuacct.usage_percpu")).value();
    auto ticks = parse_cpuacct_usage_all(read_fixture("v1/cgroup/cpuacct/pvfx/cpuacct.usage_all")).value();
    REQUIRE(v1_usage->per_host_cpu->size() == 2);
    for (std::size_t cpu = 0; cpu < 2; ++cpu) {
        CHECK((*v1_usage->per_host_cpu)[cpu].total_ns == exact[cpu]);
        CHECK((*v1_usage->per_host_cpu)[cpu].tick_user_ns == ticks[cpu].user_ns);
        CHECK((*v1_usage->per_host_cpu)[cpu].tick_system_ns == ticks[cpu].system_ns);
    }
    CHECK_FALSE(gather_cpu_usage(nullptr, nullptr));
}

TEST_CASE("gather_block_io and gather_task_list on the fixtures") {
    FixtureCgroups v2("v2/cgroup");
    auto io = gather_block_io(v2.open("io", "/kubepods/pod1/ctr1").get());
    REQUIRE(io);
    CHECK(*io == parse_io_stat(read_fixture("v2/cgroup/kubepods/pod1/ctr1/io.stat")).value());
    auto unified = v2.open("memory", "/kubepods/pod1/ctr1");
    auto tasks = gather_task_list(unified.get(), {});
    REQUIRE(tasks);
    CHECK(*tasks == read_fixture("v2/cgroup/kubepods/pod1/ctr1/cgroup.threads"));

    FixtureCgroups v1("v1/cgroup");
    CHECK(gather_block_io(v1.open("blkio", "/pvfx").get()));
    auto v1_tasks = gather_task_list(nullptr, {v1.open("pids", "/pvfx").get()});
    REQUIRE(v1_tasks);
    CHECK(*v1_tasks == read_fixture("v1/cgroup/pids/pvfx/tasks"));
}
