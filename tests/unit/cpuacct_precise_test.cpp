// v1 CPU usage: exact per-CPU totals from usage_percpu, split by usage_all's ratio.
#include <doctest/doctest.h>

#include "core/cgroup_files.hpp"

using namespace procview;

TEST_CASE("cpuacct.usage_percpu parses and rejects garbage") {
    auto ok = parse_cpuacct_usage_percpu("2083000000 1402000000 \n");
    REQUIRE(ok);
    CHECK(*ok == std::vector<uint64_t>{2083000000ULL, 1402000000ULL});
    CHECK(!parse_cpuacct_usage_percpu("12 x3\n"));
    CHECK(parse_cpuacct_usage_percpu("")->empty());
}

TEST_CASE("precise usage keeps each CPU's exact total and the tick split's ratio") {
    // Ticks said 3 s user + 1 s system on CPU 0 (overcounted); exactly 2 s ran.
    std::vector<CpuUsage> ticks{{3000000000ULL, 1000000000ULL}, {0, 0}};
    auto exact = precise_cpu_usage(ticks, {2000000000ULL, 500000000ULL});
    REQUIRE(exact.size() == 2);
    CHECK(exact[0].user_ns == 1500000000ULL);
    CHECK(exact[0].system_ns == 500000000ULL);
    CHECK(exact[1].user_ns == 500000000ULL);  // no split known: all user
    CHECK(exact[1].system_ns == 0);
}
