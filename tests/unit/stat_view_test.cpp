#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <numeric>
#include <optional>

#include "core/stat_record.hpp"
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

namespace {

// One daemon's /proc/stat state for one container, as ViewEngine keeps it:
// the baseline taken at the first read, the capacity integral and the floor.
struct StatState {
    CapacityIntegral capacity;
    std::optional<UsageBaseline> baseline;
    MonotonicCpuTimes floor;

    std::vector<CpuTimes> read(const CpuView& view, double uptime, CpuAccounting acct) {
        acct.uptime_seconds = uptime;
        acct.capacity_seconds = capacity.advance(uptime, view.capacity);
        if (!baseline) baseline = usage_baseline(acct);
        subtract_baseline(acct, *baseline);
        auto times = compute_cpu_times(view, acct);
        floor.apply(times);
        return times;
    }
};

CpuAccounting used(double user_s, double system_s) {
    CpuAccounting acct;
    acct.total = CpuUsage{static_cast<uint64_t>(user_s * 1e9), static_cast<uint64_t>(system_s * 1e9)};
    return acct;
}

double busy_share(const std::vector<CpuTimes>& a, const std::vector<CpuTimes>& b) {
    return static_cast<double>(busy(b) - busy(a)) / static_cast<double>(total(b) - total(a));
}

// Every counter of every CPU in b is ≥ the same in a.
void check_not_down(const std::vector<CpuTimes>& a, const std::vector<CpuTimes>& b) {
    REQUIRE(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        CHECK(b[i].user >= a[i].user);
        CHECK(b[i].system >= a[i].system);
        CHECK(b[i].idle >= a[i].idle);
    }
}

}  // namespace

TEST_CASE("usage_baseline: usage the cgroup had before the container is not the container's") {
    // A cgroup that used 30 CPU-seconds (24 user, 6 system) before a new
    // container started in it; read 2 s into the container's life at quota 1.5.
    CpuView view{cpus("0-1"), 1.5};
    StatState state;
    auto first = state.read(view, 2.0, used(24, 6));
    // Consistent from the first read: busy is what 2 s at 1.5 CPUs allow.
    REQUIRE(state.baseline);
    CHECK(state.baseline->total == CpuUsage{21'600'000'000, 5'400'000'000});  // 27 s, in the usage's 4:1 ratio
    CHECK(busy(first) == 300);
    CHECK(total(first) == 300);

    // Idle for 2 s: total and idle advance at 1.5 CPUs (today: neither moved).
    auto idle = state.read(view, 4.0, used(24, 6));
    CHECK(total(idle) - total(first) == 300);
    CHECK(busy(idle) == busy(first));
    CHECK(idle[0].idle + idle[1].idle == 300);
    CHECK(busy_share(first, idle) == 0.0);
    check_not_down(first, idle);

    // Busy at its whole quota for 2 s (3 CPU-seconds more): 100% busy.
    auto full = state.read(view, 6.0, used(26.4, 6.6));
    CHECK(busy_share(idle, full) == doctest::Approx(1.0));
    check_not_down(idle, full);
    // Half of it for 2 s more: 50%.
    auto half = state.read(view, 8.0, used(27.6, 6.9));
    CHECK(busy_share(full, half) == doctest::Approx(0.5).epsilon(0.01));
    check_not_down(full, half);
}

TEST_CASE("usage_baseline: nothing is taken from a container whose usage fits its capacity") {
    CpuAccounting acct = used(3, 1);
    acct.uptime_seconds = 10;
    acct.capacity_seconds = 15;
    CHECK(usage_baseline(acct) == UsageBaseline{});
    acct.per_host_cpu = std::vector<CpuUsage>{{2'000'000'000, 0}, {1'000'000'000, 1'000'000'000}};
    auto b = usage_baseline(acct);
    CHECK(b.total == CpuUsage{});
    CHECK(b.per_host_cpu == std::vector<CpuUsage>{{}, {}});
    // Exactly at the capacity: still nothing.
    acct.capacity_seconds = 4;
    CHECK(usage_baseline(acct).total == CpuUsage{});
    // No usage at all, no capacity yet (first read at uptime 0): nothing, no division by zero.
    CHECK(usage_baseline(CpuAccounting{}) == UsageBaseline{});
}

TEST_CASE("usage_baseline: v1 per-CPU usage (no quota) is consistent per CPU from the first read") {
    // cpuacct.usage_all: 5 s and 1 s of old usage on host CPUs 0 and 1; the
    // container is 0.5 s old, its view the two CPUs, no quota.
    CpuView view{cpus("0-1"), 2.0};
    CpuAccounting old;
    old.per_host_cpu = std::vector<CpuUsage>{{4'000'000'000, 1'000'000'000}, {1'000'000'000, 0}};
    old.total = CpuUsage{5'000'000'000, 1'000'000'000};
    StatState state;
    auto first = state.read(view, 0.5, old);
    REQUIRE(state.baseline);
    CHECK(state.baseline->per_host_cpu ==
          std::vector<CpuUsage>{{3'600'000'000, 900'000'000}, {500'000'000, 0}});  // all but 0.5 s each
    for (const auto& t : first) CHECK(t.user + t.system + t.idle == 50);
    for (const auto& t : first) CHECK(t.idle == 0);

    // 1 s later, idle: each CPU's idle advanced by 100 ticks, busy did not move.
    auto idle = state.read(view, 1.5, old);
    for (std::size_t i = 0; i < 2; ++i) {
        CHECK(idle[i].idle - first[i].idle == 100);
        CHECK(idle[i].user + idle[i].system == first[i].user + first[i].system);
    }
    // CPU 1 busy for the next second: it alone reads busy.
    CpuAccounting busier = old;
    (*busier.per_host_cpu)[1].user_ns += 1'000'000'000;
    busier.total.user_ns += 1'000'000'000;
    auto later = state.read(view, 2.5, busier);
    CHECK(later[0].idle - idle[0].idle == 100);
    CHECK(later[1].user - idle[1].user == 100);
    CHECK(later[1].idle == idle[1].idle);
    check_not_down(idle, later);
}

TEST_CASE("usage_baseline: counters never go down and total keeps pace with the capacity") {
    // An old cgroup's 50 CPU-seconds, then a container alternating 1 s idle
    // and 1 s busy at its whole quota, read every 0.25 s.
    CpuView view{cpus("0-1"), 1.5};
    StatState state;
    double user = 40, system = 10;
    std::vector<CpuTimes> previous, phase_start;
    for (int step = 1; step <= 40; ++step) {
        const double t = 0.25 * step;
        const bool busy_phase = (step - 1) / 4 % 2 == 1;  // steps 1-4 idle, 5-8 busy, …
        if (busy_phase) {
            user += 0.25 * 1.5 * 0.8;
            system += 0.25 * 1.5 * 0.2;
        }
        auto times = state.read(view, t, used(user, system));
        CAPTURE(step);
        CHECK(busy(times) <= total(times));
        // The floor never had to hold total up: it is capacity × uptime (± rounding).
        CHECK(std::llabs(static_cast<long long>(total(times)) - std::llround(t * 150)) <= 2);
        if (!previous.empty()) check_not_down(previous, times);
        if (step % 4 == 0) {
            if (!phase_start.empty()) {
                double share = busy_share(phase_start, times);
                // The phase that just ended (steps step-3..step): 100% or 0% busy.
                CHECK(share == doctest::Approx(busy_phase ? 1.0 : 0.0).epsilon(0.03));
            }
            phase_start = times;
        }
        previous = times;
    }
}

TEST_CASE("usage_baseline: after a daemon restart the kept record gives the same numbers") {
    CpuView view{cpus("0-1"), 1.5};
    StatState before;
    (void)before.read(view, 2.0, used(24, 6));            // first sight: the baseline
    (void)before.read(view, 10.0, used(25, 6.5));
    (void)before.read(CpuView{cpus("0"), 0.5}, 20.0, used(26, 7));  // the quota drops to 0.5 at t = 20
    // What the daemon keeps (stat_records), through its text form.
    StatRecord kept{StatRecordKey{"/ctr", 4026532291, 4242, 123456}, *before.baseline, before.capacity.state(), {}};
    auto text = format_stat_record(kept);
    REQUIRE(text);
    auto back = parse_stat_record(*text);
    REQUIRE(back);
    CHECK(*back == kept);

    // kill -9 at t = 25; a new daemon reads at t = 30 with the record.
    StatState after;
    after.baseline = back->baseline;
    after.capacity.resume(back->capacity);
    CpuView small{cpus("0"), 0.5};
    auto restarted = after.read(small, 30.0, used(26.5, 7.2));
    auto continued = before.read(small, 30.0, used(26.5, 7.2));
    CHECK(restarted == continued);
    CHECK(total(restarted) == 3500);  // 1.5 CPUs for 20 s, then 0.5 for 10 s
    CHECK(busy_share(before.read(small, 30.0, used(26.5, 7.2)), after.read(small, 40.0, used(26.5, 7.2))) == 0.0);

    // Without the record the new daemon would take a new baseline (and
    // assume the quota it sees now for the whole life): the counters jump.
    StatState fresh;
    auto unkept = fresh.read(small, 30.0, used(26.5, 7.2));
    CHECK(total(unkept) != total(continued));
    CHECK(busy(unkept) != busy(continued));
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
