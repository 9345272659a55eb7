#include <doctest/doctest.h>

#include "core/views.hpp"
#include "fixtures.hpp"

using namespace procview;
using procview::test::check_golden;
using procview::test::read_fixture;

namespace {

CpuSet cpus(std::string_view list) {
    auto set = CpuSet::parse(list);
    REQUIRE(set);
    return *set;
}

CpuFiles v2_files(std::optional<std::string_view> effective, std::vector<std::optional<std::string_view>> cpu_max) {
    CpuFiles files;
    files.version = CgroupVersion::v2;
    files.effective_cpus = effective;
    files.cpu_max = std::move(cpu_max);
    return files;
}

HostCpuinfo host_cpuinfo(const std::string& path) {
    auto info = parse_cpuinfo(read_fixture(path));
    REQUIRE(info);
    return *info;
}

}  // namespace

TEST_CASE("compute_cpu_view v2 fixture: quota 150000/100000 under 200000/100000 → 2 CPUs, capacity 1.5") {
    const std::string ctr1 = read_fixture("v2/cgroup/kubepods/pod1/ctr1/cpu.max");
    const std::string pod1 = read_fixture("v2/cgroup/kubepods/pod1/cpu.max");
    const std::string kubepods = read_fixture("v2/cgroup/kubepods/cpu.max");
    const std::string effective = read_fixture("v2/cgroup/kubepods/pod1/ctr1/cpuset.cpus.effective");
    const CpuSet online = cpus(read_fixture("v2/sys/devices/system/cpu/online"));
    CpuView view = compute_cpu_view(v2_files(effective, {ctr1, pod1, kubepods}), online, true);
    CHECK(view.count() == 2);
    CHECK(view.host_cpus == cpus("0-1"));
    CHECK(view.capacity == doctest::Approx(1.5));

    // The pod alone: 2.0 CPUs.
    view = compute_cpu_view(v2_files(effective, {pod1, kubepods}), online, true);
    CHECK(view.count() == 2);
    CHECK(view.capacity == doctest::Approx(2.0));
}

TEST_CASE("compute_cpu_view: cpuset 0-3,8,10-11") {
    const CpuSet online = cpus("0-15");
    CpuView view = compute_cpu_view(v2_files("0-3,8,10-11\n", {std::string_view("max 100000\n")}), online, true);
    CHECK(view.count() == 7);
    CHECK(view.host_cpus == cpus("0-3,8,10-11"));
    CHECK(view.capacity == doctest::Approx(7.0));

    // With a 1.5-CPU quota: the 2 lowest CPUs of the set.
    view = compute_cpu_view(v2_files("0-3,8,10-11\n", {std::string_view("150000 100000\n")}), online, true);
    CHECK(view.host_cpus == cpus("0-1"));
    CHECK(view.capacity == doctest::Approx(1.5));

    // A 4.5-CPU quota: ceil → 5 CPUs, the fifth being host CPU 8.
    view = compute_cpu_view(v2_files("0-3,8,10-11\n", {std::string_view("450000 100000\n")}), online, true);
    CHECK(view.host_cpus == cpus("0-3,8"));
    CHECK(view.capacity == doctest::Approx(4.5));

    // Only online CPUs count.
    view = compute_cpu_view(v2_files("0-3,8,10-11\n", {}), cpus("0-2,10"), true);
    CHECK(view.host_cpus == cpus("0-2,10"));
}

TEST_CASE("compute_cpu_view: quota edge cases") {
    const CpuSet online = cpus("0-3");
    // Half a CPU: 1 CPU at capacity 0.5.
    CpuView view = compute_cpu_view(v2_files("0-3", {std::string_view("50000 100000")}), online, true);
    CHECK(view.count() == 1);
    CHECK(view.capacity == doctest::Approx(0.5));
    // A quota above the cpuset: the cpuset wins, capacity = N.
    view = compute_cpu_view(v2_files("0-1", {std::string_view("400000 100000")}), online, true);
    CHECK(view.count() == 2);
    CHECK(view.capacity == doctest::Approx(2.0));
    // Exactly 2 CPUs' worth: no rounding up to 3.
    view = compute_cpu_view(v2_files("0-3", {std::string_view("200000 100000")}), online, true);
    CHECK(view.count() == 2);
    // A different period: 75000/50000 = 1.5.
    view = compute_cpu_view(v2_files("0-3", {std::string_view("max 100000"), std::string_view("75000 50000")}), online,
                            true);
    CHECK(view.count() == 2);
    CHECK(view.capacity == doctest::Approx(1.5));
    // use_quota false: the cpuset alone.
    view = compute_cpu_view(v2_files("0-3", {std::string_view("50000 100000")}), online, false);
    CHECK(view.count() == 4);
    CHECK(view.capacity == doctest::Approx(4.0));
}

TEST_CASE("compute_cpu_view: unreadable or garbage files fall back") {
    const CpuSet online = cpus("0-3");
    CpuView view = compute_cpu_view(v2_files(std::nullopt, {std::nullopt}), online, true);
    CHECK(view.host_cpus == online);
    view = compute_cpu_view(v2_files("garbage", {std::string_view("garbage"), std::string_view("150000 100000")}),
                            online, true);
    CHECK(view.count() == 2);  // garbage cpuset → online; garbage cpu.max ignored, the ancestor's quota applies
    CHECK(view.capacity == doctest::Approx(1.5));
    // A cpuset with no online CPU in it is impossible; show the online CPUs rather than none.
    view = compute_cpu_view(v2_files("8-9", {}), online, true);
    CHECK(view.host_cpus == online);
    // Nothing known at all: still one CPU.
    view = compute_cpu_view(v2_files(std::nullopt, {}), CpuSet{}, true);
    CHECK(view.count() == 1);
    CHECK(view.capacity == doctest::Approx(1.0));
}

TEST_CASE("compute_cpu_view v1 fixture: cfs_quota_us / cfs_period_us per level") {
    const std::string quota = read_fixture("v1/cgroup/cpu/pvfx/cpu.cfs_quota_us");
    const std::string period = read_fixture("v1/cgroup/cpu/pvfx/cpu.cfs_period_us");
    const std::string effective = read_fixture("v1/cgroup/cpuset/pvfx/cpuset.effective_cpus");
    CpuFiles files;
    files.version = CgroupVersion::v1;
    files.effective_cpus = effective;
    files.cfs_quota = {quota, std::string_view("-1\n")};
    files.cfs_period = {period, std::string_view("100000\n")};
    CpuView view = compute_cpu_view(files, cpus(read_fixture("v1/sys/devices/system/cpu/online")), true);
    CHECK(view.host_cpus == cpus("0-1"));
    CHECK(view.capacity == doctest::Approx(1.5));

    // An ancestor's tighter quota; a level whose period is unreadable is skipped.
    files.cfs_quota = {quota, std::string_view("80000\n"), std::string_view("10000\n")};
    files.cfs_period = {period, std::string_view("100000\n"), std::nullopt};
    view = compute_cpu_view(files, cpus("0-1"), true);
    CHECK(view.count() == 1);
    CHECK(view.capacity == doctest::Approx(0.8));
}

TEST_CASE("render_cpuinfo: the whole host when the view is the whole host") {
    // 2 CPUs, both shown: siblings/cpu cores are already 2, core ids 0 and 1.
    HostCpuinfo host = host_cpuinfo("v2/proc/cpuinfo");
    CpuView view{cpus("0-1"), 1.5};
    CHECK(render_cpuinfo(host, view) == read_fixture("v2/proc/cpuinfo"));
}

TEST_CASE("render_cpuinfo: host CPU 1 alone becomes processor 0") {
    HostCpuinfo host = host_cpuinfo("v1/proc/cpuinfo");
    CpuView view{cpus("1"), 1.0};
    std::string out = render_cpuinfo(host, view);
    check_golden("cpuinfo_v1_cpu1.txt", out);
    CHECK(out.rfind("processor\t: 0\n", 0) == 0);
    CHECK(out.find("siblings\t: 1\n") != std::string::npos);
    CHECK(out.find("cpu cores\t: 1\n") != std::string::npos);
    CHECK(out.find("core id\t\t: 0\n") != std::string::npos);
    CHECK(out.find("apicid\t\t: 1\n") != std::string::npos);  // other lines are the host CPU's own
    CHECK(out.find("processor\t: 1") == std::string::npos);
    CHECK(out.substr(out.size() - 19) == "power management:\n\n");
}

TEST_CASE("render_cpuinfo: renumbering, missing blocks and the trailer") {
    HostCpuinfo host;
    host.blocks[2] = "processor\t: 2\nBogoMIPS\t: 108.00\n";
    host.blocks[5] = "processor\t: 5\nBogoMIPS\t: 108.00\n";
    host.trailer = "Hardware\t: BCM2835\n";
    CpuView view{cpus("2,4-5"), 3.0};  // host CPU 4 has no block
    CHECK(render_cpuinfo(host, view) ==
          "processor\t: 0\nBogoMIPS\t: 108.00\n\n"
          "processor\t: 2\nBogoMIPS\t: 108.00\n\n"
          "Hardware\t: BCM2835\n");
}
