#include <doctest/doctest.h>

#include <numeric>

#include "core/views.hpp"
#include "fixtures.hpp"

using namespace procview;
using procview::test::check_golden;
using procview::test::read_fixture;

namespace {

CpuSet cpus(std::string_view list) { return CpuSet::parse(list).value(); }

uint64_t busy(const std::vector<CpuTimes>& times) {
    uint64_t sum = 0;
    for (const auto& t : times) sum += t.user + t.system;
    return sum;
}
uint64_t total(const std::vector<CpuTimes>& times) {
    uint64_t sum = 0;
    for (const auto& t : times) sum += t.total();
    return sum;
}

constexpr uint64_t kNsPerSecond = 1'000'000'000;

}  // namespace

TEST_CASE("compute_cpu_times: even split of the v2 fixture's cpu.stat over 2 CPUs at capacity 1.5") {
    auto usage = parse_cpu_stat_usage(read_fixture("v2/cgroup/kubepods/pod1/ctr1/cpu.stat"));
    REQUIRE(usage);
    CpuView view{cpus("0-1"), 1.5};
    CpuAccounting acct;
    acct.total = *usage;              // user 1.993873 s = 199 ticks, system 0.253254 s = 25 ticks
    acct.uptime_seconds = 7.0;
    acct.capacity_seconds = 10.5;     // 1.5 × 7 s: 525 ticks per CPU
    auto times = compute_cpu_times(view, acct);
    REQUIRE(times.size() == 2);
    CHECK(times[0] == CpuTimes{.user = 100, .system = 13, .idle = 412});
    CHECK(times[1] == CpuTimes{.user = 99, .system = 12, .idle = 414});
    CHECK(times[0].user + times[1].user == 199);  // remainders kept: the sum is exact
    CHECK(total(times) == 1050);                  // capacity × uptime in ticks

    HostStat host = parse_proc_stat(read_fixture("v2/proc/stat")).value();
    std::string out = render_stat(times, host, StatTail{host.btime + 1, 1, 0});
    check_golden("stat_v2_ctr1.txt", out);
    CHECK(out.rfind("cpu  199 0 25 826 0 0 0 0 0 0\ncpu0 100 0 13 412 0 0 0 0 0 0\n", 0) == 0);
}

TEST_CASE("compute_cpu_times: a container using all of its 1.5 CPUs reads ~100% busy") {
    CpuView view{cpus("0-1"), 1.5};
    CapacityIntegral integral;
    CpuAccounting acct;
    // t = 100 s: 150 CPU-seconds used (120 user, 30 system).
    acct.uptime_seconds = 100;
    acct.capacity_seconds = integral.advance(100, 1.5);
    acct.total = CpuUsage{120 * kNsPerSecond, 30 * kNsPerSecond};
    auto before = compute_cpu_times(view, acct);
    CHECK(busy(before) == 15000);
    CHECK(total(before) == 15000);
    for (const auto& t : before) CHECK(t.idle == 0);

    // 10 s later it has used 15 more CPU-seconds: top would show 100% busy, 0% idle.
    acct.uptime_seconds = 110;
    acct.capacity_seconds = integral.advance(110, 1.5);
    acct.total = CpuUsage{132 * kNsPerSecond, 33 * kNsPerSecond};
    auto after = compute_cpu_times(view, acct);
    const double busy_share = static_cast<double>(busy(after) - busy(before)) /
                              static_cast<double>(total(after) - total(before));
    CHECK(busy_share == doctest::Approx(1.0));

    // Half as busy: 7.5 CPU-seconds in the next 10 s → 50%.
    acct.uptime_seconds = 120;
    acct.capacity_seconds = integral.advance(120, 1.5);
    acct.total = CpuUsage{138 * kNsPerSecond, 34500 * 1'000'000ULL};
    auto later = compute_cpu_times(view, acct);
    const double half = static_cast<double>(busy(later) - busy(after)) /
                        static_cast<double>(total(later) - total(after));
    CHECK(half == doctest::Approx(0.5));
}

TEST_CASE("compute_cpu_times: per-CPU usage from v1 cpuacct.usage_all when no quota narrows the view") {
    auto per_cpu = parse_cpuacct_usage_all(read_fixture("v1/cgroup/cpuacct/pvfx/cpuacct.usage_all"));
    REQUIRE(per_cpu);
    CpuView view{cpus("0-1"), 2.0};
    CpuAccounting acct;
    acct.total = CpuUsage{248000000, 44000000};
    acct.per_host_cpu = *per_cpu;
    acct.uptime_seconds = 100;
    acct.capacity_seconds = 200;
    auto times = compute_cpu_times(view, acct);
    REQUIRE(times.size() == 2);
    // cpu0: 0.236 s user → 23 ticks, 0.008 s system → 0; cpu1: 0.012 → 1, 0.036 → 3.
    CHECK(times[0] == CpuTimes{.user = 23, .system = 0, .idle = 9977});
    CHECK(times[1] == CpuTimes{.user = 1, .system = 3, .idle = 9996});

    HostStat host = parse_proc_stat(read_fixture("v1/proc/stat")).value();
    check_golden("stat_v1_pvfx.txt", render_stat(times, host, StatTail{host.btime + 600, 0, 0}));

    // A view of host CPU 1 alone shows CPU 1's usage as cpu0.
    times = compute_cpu_times(CpuView{cpus("1"), 1.0}, acct);
    REQUIRE(times.size() == 1);
    CHECK(times[0] == CpuTimes{.user = 1, .system = 3, .idle = 9996});

    // A host CPU beyond the file: no usage, all idle.
    times = compute_cpu_times(CpuView{cpus("5"), 1.0}, acct);
    CHECK(times[0] == CpuTimes{.user = 0, .system = 0, .idle = 10000});

    // With a quota (capacity 1.5 < 2 CPUs) the per-CPU numbers are not used: even split.
    acct.capacity_seconds = 150;
    times = compute_cpu_times(CpuView{cpus("0-1"), 1.5}, acct);
    // 0.248 s user → 24 ticks, 0.044 s system → 4: 12 + 2 per CPU out of 7500.
    CHECK(times[0] == CpuTimes{.user = 12, .system = 2, .idle = 7486});
    CHECK(times[1] == CpuTimes{.user = 12, .system = 2, .idle = 7486});
}

TEST_CASE("compute_cpu_times never goes negative") {
    CpuAccounting acct;
    acct.total = CpuUsage{50 * kNsPerSecond, 0};
    acct.capacity_seconds = 10;  // less than the usage (a quota that shrank)
    auto times = compute_cpu_times(CpuView{cpus("0-1"), 1.0}, acct);
    CHECK(times[0] == CpuTimes{.user = 2500, .idle = 0});
    CHECK(times[1] == CpuTimes{.user = 2500, .idle = 0});
    acct.capacity_seconds = -5;
    acct.uptime_seconds = -5;
    CHECK(compute_cpu_times(CpuView{cpus("0"), 1.0}, acct)[0].idle == 0);
    CHECK(compute_cpu_times(CpuView{}, acct).empty());
}

TEST_CASE("MonotonicCpuTimes keeps every counter from going down") {
    MonotonicCpuTimes mono;
    std::vector<CpuTimes> first{{.user = 10, .system = 5, .idle = 100}, {.user = 8, .system = 4, .idle = 90}};
    mono.apply(first);
    CHECK(first[0] == CpuTimes{.user = 10, .system = 5, .idle = 100});

    // A shrinking capacity makes idle drop: held at its floor; user still advances.
    std::vector<CpuTimes> second{{.user = 12, .system = 5, .idle = 80}, {.user = 9, .system = 3, .idle = 95}};
    mono.apply(second);
    CHECK(second[0] == CpuTimes{.user = 12, .system = 5, .idle = 100});
    CHECK(second[1] == CpuTimes{.user = 9, .system = 4, .idle = 95});

    // CPU 1 disappears, then comes back with smaller numbers: its old floor still holds.
    std::vector<CpuTimes> one{{.user = 20, .system = 6, .idle = 120}};
    mono.apply(one);
    CHECK(one[0] == CpuTimes{.user = 20, .system = 6, .idle = 120});
    std::vector<CpuTimes> back{{.user = 21, .system = 6, .idle = 121}, {.user = 1, .system = 1, .idle = 1}};
    mono.apply(back);
    CHECK(back[1] == CpuTimes{.user = 9, .system = 4, .idle = 95});

    // A CPU that never existed starts from its own values.
    std::vector<CpuTimes> three{{}, {}, {.user = 3}};
    mono.apply(three);
    CHECK(three[2] == CpuTimes{.user = 3});
    CHECK(three[0] == CpuTimes{.user = 21, .system = 6, .idle = 121});
}

TEST_CASE("CapacityIntegral: a quota change mid-life changes the rate from then on") {
    CapacityIntegral integral;
    CHECK(integral.advance(100, 2.0) == doctest::Approx(200.0));  // 2 CPUs all its life so far
    CHECK(integral.advance(150, 2.0) == doctest::Approx(300.0));
    // The quota drops to 0.5 CPU, noticed at t = 150: the past is not rewritten.
    CHECK(integral.advance(150, 0.5) == doctest::Approx(300.0));
    CHECK(integral.advance(170, 0.5) == doctest::Approx(310.0));
    // Noticed at 190 that it went up to 1.5: 170..190 still counts at 0.5.
    CHECK(integral.advance(190, 1.5) == doctest::Approx(320.0));
    CHECK(integral.advance(200, 1.5) == doctest::Approx(335.0));
    // A clock that steps back adds nothing and takes nothing away.
    CHECK(integral.advance(195, 1.5) == doctest::Approx(335.0));
    CHECK(integral.advance(205, 1.5) == doctest::Approx(342.5));
}

TEST_CASE("render_stat: kernel layout and order") {
    HostStat host;
    host.btime = 1;
    host.kept_lines = {"intr 5 1 2", "ctxt 77", "processes 9", "softirq 3 1 2"};
    std::vector<CpuTimes> times{{.user = 1, .nice = 2, .system = 3, .idle = 4, .iowait = 5, .irq = 6, .softirq = 7,
                                 .steal = 8, .guest = 9, .guest_nice = 10},
                                {.user = 10, .idle = 20}};
    CHECK(render_stat(times, host, StatTail{1700000000, 3, 1}) ==
          "cpu  11 2 3 24 5 6 7 8 9 10\n"
          "cpu0 1 2 3 4 5 6 7 8 9 10\n"
          "cpu1 10 0 0 20 0 0 0 0 0 0\n"
          "intr 5 1 2\n"
          "ctxt 77\n"
          "btime 1700000000\n"
          "processes 9\n"
          "procs_running 3\n"
          "procs_blocked 1\n"
          "softirq 3 1 2\n");
    // Host lines the host did not have are left out, not invented.
    CHECK(render_stat({}, HostStat{}, StatTail{5, 0, 0}) ==
          "cpu  0 0 0 0 0 0 0 0 0 0\nbtime 5\nprocs_running 0\nprocs_blocked 0\n");
}

TEST_CASE("render_uptime truncates to hundredths like the kernel") {
    CHECK(render_uptime(8.03, 6.54) == read_fixture("v2/proc/uptime"));
    CHECK(render_uptime(1351.40, 1932.10) == read_fixture("v1/proc/uptime"));
    CHECK(render_uptime(0, 0) == "0.00 0.00\n");
    CHECK(render_uptime(12.999, 3.005) == "12.99 3.00\n");
    CHECK(render_uptime(-1, 1e6) == "0.00 1000000.00\n");
}

TEST_CASE("container_clock: without a time namespace the uptime counts from the init's start") {
    // Host up 5000.5 s, booted at 1'700'000'000; the init started 4000 s after boot.
    auto clock = container_clock(5000.5, 1'700'000'000, 400'000, std::nullopt);
    CHECK(clock.uptime_seconds == doctest::Approx(1000.5));
    CHECK(clock.btime == 1'700'004'000);
    // A start time later than the host's uptime (clock read races) never goes negative.
    CHECK(container_clock(10.0, 1'700'000'000, 2'000, std::nullopt).uptime_seconds == 0.0);
}

TEST_CASE("container_clock: in a time namespace it is what the kernel shows there") {
    // procview-runtime's offset: the boottime at creation (4000 s) minus a 1 s margin.
    ClockOffset offset{-3999, 0};
    auto clock = container_clock(5000.5, 1'700'000'000, 400'000, offset);
    CHECK(clock.uptime_seconds == doctest::Approx(1001.5));
    CHECK(clock.btime == 1'700'003'999);
    // The invariant ps relies on: btime + (host start + offset) = the wall-clock start.
    uint64_t host_start_ticks = 450'000;  // a process started 4500 s after the host booted
    auto shifted_start = static_cast<int64_t>(host_start_ticks / kUserHz) + offset.seconds;
    CHECK(clock.btime + static_cast<uint64_t>(shifted_start) == 1'700'000'000 + 4500);
    // And uptime − shifted start = how long ago it started (5000.5 − 4500).
    CHECK(clock.uptime_seconds - static_cast<double>(shifted_start) == doctest::Approx(500.5));
}

TEST_CASE("container_clock: other offsets") {
    // The init's start time plays no part once the namespace defines the clock.
    CHECK(container_clock(5000.5, 1'700'000'000, 1, ClockOffset{-3999, 0}) ==
          container_clock(5000.5, 1'700'000'000, 400'000, ClockOffset{-3999, 0}));
    // A zero offset (a time namespace that shifts nothing): the host's clock.
    auto same = container_clock(5000.5, 1'700'000'000, 400'000, ClockOffset{0, 0});
    CHECK(same.uptime_seconds == doctest::Approx(5000.5));
    CHECK(same.btime == 1'700'000'000);
    // A positive offset (a migrated container that has been up a day longer).
    auto ahead = container_clock(5000.5, 1'700'000'000, 0, ClockOffset{86'400, 0});
    CHECK(ahead.uptime_seconds == doctest::Approx(91'400.5));
    CHECK(ahead.btime == 1'700'000'000 - 86'400);
    // A fractional offset (-12.25 s): boot moves 13 s later at most.
    auto frac = container_clock(5000.5, 1'700'000'000, 0, ClockOffset{-13, 750'000'000});
    CHECK(frac.uptime_seconds == doctest::Approx(4988.25));
    CHECK(frac.btime == 1'700'000'012);
    // An offset past the host's boottime is clamped to 0, never negative.
    CHECK(container_clock(100.0, 1'700'000'000, 0, ClockOffset{-200, 0}).uptime_seconds == 0.0);
}
