#include "core/cpuset.hpp"

#include <doctest/doctest.h>

using namespace procview;

TEST_CASE("CpuSet parses the kernel list format") {
    auto set = CpuSet::parse("0-3,8,10-11\n");
    REQUIRE(set);
    CHECK(set->cpus() == std::vector<unsigned>{0, 1, 2, 3, 8, 10, 11});
    CHECK(set->size() == 7);
    CHECK(set->to_ranges() == "0-3,8,10-11");
    CHECK(set->contains(8));
    CHECK_FALSE(set->contains(9));

    auto single = CpuSet::parse("5");
    REQUIRE(single);
    CHECK(single->cpus() == std::vector<unsigned>{5});
    CHECK(single->to_ranges() == "5");
}

TEST_CASE("CpuSet accepts the empty list") {
    for (const char* text : {"", "\n"}) {
        auto set = CpuSet::parse(text);
        REQUIRE(set);
        CHECK(set->empty());
        CHECK(set->to_ranges() == "");
    }
}

TEST_CASE("CpuSet rejects garbage") {
    for (const char* text : {"a", "1-", "-1", "3-1", "0,,1", "0,", ",0", "1 2", "0-3:2/4", "65536", "0-65536",
                             "99999999999999999999", "0, 1"}) {
        CAPTURE(text);
        auto set = CpuSet::parse(text);
        CHECK_FALSE(set);
        if (!set) CHECK(set.error().errnum == EINVAL);
    }
    CHECK(CpuSet::parse("65535"));
}

TEST_CASE("CpuSet construction sorts and de-duplicates; intersect and first") {
    CpuSet a({11, 3, 0, 3, 8, 1, 2, 10});
    CHECK(a.to_ranges() == "0-3,8,10-11");
    CpuSet online({0, 1, 2, 8, 9});
    CHECK(a.intersect(online).to_ranges() == "0-2,8");
    CHECK(a.first(2).to_ranges() == "0-1");
    CHECK(a.first(5).to_ranges() == "0-3,8");
    CHECK(a.first(100) == a);
    CHECK(a.first(0).empty());
    CHECK(CpuSet::parse("2,0-1").value() == CpuSet({0, 1, 2}));
}

TEST_CASE("render_cpu_range is the sysfs online format") {
    CHECK(render_cpu_range(0) == "\n");
    CHECK(render_cpu_range(1) == "0\n");
    CHECK(render_cpu_range(2) == "0-1\n");
    CHECK(render_cpu_range(64) == "0-63\n");
}
