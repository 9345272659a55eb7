// v1 per-CPU usage: exact totals split between user and system so that both
// only grow, and so that a daemon reading the anchors back computes the same.
#include <doctest/doctest.h>

#include <random>

#include "core/cgroup_files.hpp"
#include "core/cpu_split.hpp"

using namespace procview;

namespace {
constexpr uint64_t kMs = 1'000'000;
constexpr uint64_t kTickNs = 4 * kMs;  // HZ=250: cpuacct samples user/system every 4 ms
}  // namespace

TEST_CASE("cpuacct.usage_percpu parses and rejects garbage") {
    auto ok = parse_cpuacct_usage_percpu("2083000000 1402000000 \n");
    REQUIRE(ok);
    CHECK(*ok == std::vector<uint64_t>{2083000000ULL, 1402000000ULL});
    CHECK(!parse_cpuacct_usage_percpu("12 x3\n"));
    CHECK(parse_cpuacct_usage_percpu("")->empty());
}

TEST_CASE("samples: the exact totals with the tick split; the tick sum where usage_percpu has no entry") {
    std::vector<CpuUsage> ticks{{3000 * kMs, 1000 * kMs}, {0, 0}, {40 * kMs, 60 * kMs}};
    auto s = cpuacct_samples(ticks, {2000 * kMs, 500 * kMs});
    REQUIRE(s.size() == 3);
    CHECK(s[0] == CpuSample{2000 * kMs, 3000 * kMs, 1000 * kMs});
    CHECK(s[1] == CpuSample{500 * kMs, 0, 0});
    CHECK(s[2] == CpuSample{100 * kMs, 40 * kMs, 60 * kMs});
}

TEST_CASE("the first split keeps the exact total in the sampled ratio (all user before any tick)") {
    // Ticks said 3 s user + 1 s system (a throttled cgroup, overcounted); exactly 2 s ran.
    auto a = first_anchor({2000 * kMs, 3000 * kMs, 1000 * kMs});
    CHECK(split_at(a, 2000 * kMs) == CpuUsage{1500 * kMs, 500 * kMs});
    CHECK(split_at(first_anchor({500 * kMs, 0, 0}), 500 * kMs) == CpuUsage{500 * kMs, 0});
    // Between anchors, usage is split in the anchor's share.
    CHECK(split_at(a, 2400 * kMs) == CpuUsage{1800 * kMs, 600 * kMs});
}

TEST_CASE("a new share is continuous, follows the recent ratio and steers to the sampled split") {
    SplitAnchor a = first_anchor({1000 * kMs, 900 * kMs, 100 * kMs});  // 90% user so far
    // Then a second of pure system time.
    CpuSample s{2000 * kMs, 900 * kMs, 1100 * kMs};
    REQUIRE(anchor_due(a, s));
    SplitAnchor b = next_anchor(a, s);
    CHECK(split_at(b, s.total_ns) == split_at(a, s.total_ns));  // no jump at the new anchor
    CHECK(b.user_ppm == 0);  // recent share 0%, and user is already above the 45% cumulative split
    // The split closes on the cumulative tick ratio within another period.
    CpuSample later{3000 * kMs, 900 * kMs, 2100 * kMs};
    CpuUsage u = split_at(b, later.total_ns);
    CHECK(u.user_ns == 1800 * kMs);  // still above 30%: user never goes back
    CHECK(u.user_ns + u.system_ns == 3000 * kMs);
    SplitAnchor c = next_anchor(b, later);
    CHECK(c.user_ppm == 0);
    // Pure user time from here on: the share rises with it.
    SplitAnchor d = next_anchor(c, {4000 * kMs, 1900 * kMs, 2100 * kMs});
    CHECK(d.user_ppm > 900'000);
    CHECK_FALSE(anchor_due(d, {4500 * kMs, 2000 * kMs, 2100 * kMs}));  // 100 ms sampled: not yet
}

TEST_CASE("counters that went back (a new cgroup, a CPU replugged) take a first anchor again") {
    CpuSplitter splitter;
    auto first = splitter.split({{1000 * kMs, 800 * kMs, 200 * kMs}}, true);
    CHECK(first.anchors_changed);
    CHECK_FALSE(splitter.split({{1100 * kMs, 880 * kMs, 220 * kMs}}, true).anchors_changed);
    auto again = splitter.split({{10 * kMs, 8 * kMs, 0}}, true);
    CHECK(again.anchors_changed);
    CHECK(again.per_cpu[0] == CpuUsage{10 * kMs, 0});
    // A CPU seen for the first time gets an anchor; the others keep theirs.
    auto wider = splitter.split({{20 * kMs, 8 * kMs, 4 * kMs}, {5 * kMs, 0, 4 * kMs}}, false);
    CHECK(wider.anchors_changed);
    CHECK(splitter.anchors().size() == 2);
}

TEST_CASE("both fields only grow under jittery tick sampling, and a restarted splitter computes the same") {
    // A CPU running a mix whose ticks land on user or system at random, the
    // exact total advancing by less or more than the ticks say (throttling).
    std::mt19937_64 rng(17);
    CpuSample s{};
    CpuSplitter live;
    CpuUsage last{};
    int reanchors = 0;
    for (int step = 0; step < 20000; ++step) {
        s.total_ns += rng() % (3 * kMs);
        if (rng() % 2) (rng() % 10 < 7 ? s.tick_user_ns : s.tick_system_ns) += kTickNs;
        bool may = step % 50 == 0;  // the daemon re-anchors at most once a second
        auto out = live.split({s}, may);
        reanchors += out.anchors_changed ? 1 : 0;
        const CpuUsage& u = out.per_cpu[0];
        REQUIRE(u.user_ns >= last.user_ns);
        REQUIRE(u.system_ns >= last.system_ns);
        REQUIRE(u.user_ns + u.system_ns == s.total_ns);
        last = u;
        if (step % 997 == 0) {  // a kill -9 here: the next daemon restores the saved anchors
            CpuSplitter next;
            next.restore(live.anchors());
            CHECK(next.split({s}, false).per_cpu[0] == u);
        }
    }
    CHECK(reanchors > 10);
    // The split stays near the sampled ratio: ~70% user.
    double user_share = static_cast<double>(last.user_ns) / static_cast<double>(s.total_ns);
    CHECK(user_share > 0.6);
    CHECK(user_share < 0.8);
}
