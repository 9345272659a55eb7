#include <doctest/doctest.h>

#include "core/stat_record.hpp"

using namespace procview;

namespace {

StatRecord sample() {
    StatRecord r;
    r.key = StatRecordKey{"/system.slice/app service.scope", 4026532291, 4242, 987654};
    r.baseline.total = CpuUsage{4'180'000'000, 20'000'000};
    r.baseline.per_host_cpu = {{2'090'000'000, 10'000'000}, {}, {2'090'000'000, 10'000'000}};
    r.capacity = CapacityIntegral::State{0.31, 1.5, 0.465};
    r.split = {{2'100'000'000, 2'050'000'000, 2'000'000'000, 40'000'000, 975'000}, {}, {7, 7, 0, 0, 1'000'000}};
    return r;
}

}  // namespace

TEST_CASE("stat record: the text form reads back exactly") {
    auto text = format_stat_record(sample());
    REQUIRE(text);
    CHECK(*text ==
          "procview-stat-record 1\n"
          "cgroup /system.slice/app service.scope\n"
          "init 4026532291 4242 987654\n"
          "baseline 4180000000 20000000\n"
          "cpu 0 2090000000 10000000\n"
          "cpu 2 2090000000 10000000\n"
          "capacity 0.31 1.5 0.465\n"
          "split 0 2100000000 2050000000 2000000000 40000000 975000\n"
          "split 1 0 0 0 0 1000000\n"
          "split 2 7 7 0 0 1000000\n");
    auto back = parse_stat_record(*text);
    REQUIRE(back);
    CHECK(*back == sample());
    // Doubles keep every bit (the integral goes on exactly where it stopped).
    StatRecord r = sample();
    r.capacity = CapacityIntegral::State{1234.5678901234567, 0.1 + 0.2, 1e-300};
    auto odd = parse_stat_record(format_stat_record(r).value());
    REQUIRE(odd);
    CHECK(odd->capacity == r.capacity);
    // No per-CPU lines (v2): none come back.
    r.baseline.per_host_cpu.clear();
    r.split.clear();
    auto v2 = parse_stat_record(format_stat_record(r).value());
    CHECK(v2->baseline.per_host_cpu.empty());
    CHECK(v2->split.empty());
}

TEST_CASE("stat record: garbage is refused, never half-read") {
    const std::string good = format_stat_record(sample()).value();
    CHECK(parse_stat_record(good));
    auto replaced = [&](const std::string& from, const std::string& to) {
        std::string t = good;
        t.replace(t.find(from), from.size(), to);
        return parse_stat_record(t).ok();
    };
    CHECK_FALSE(replaced("procview-stat-record 1", "procview-stat-record 2"));
    CHECK_FALSE(replaced("baseline 4180000000 20000000", "baseline -4180000000 20000000"));
    CHECK_FALSE(replaced("baseline 4180000000 20000000", "baseline 4180000000"));
    CHECK_FALSE(replaced("baseline 4180000000 20000000", "baseline 99999999999999999999999 0"));
    CHECK_FALSE(replaced("capacity 0.31 1.5 0.465", "capacity 0.31 nan 0.465"));
    CHECK_FALSE(replaced("capacity 0.31 1.5 0.465", "capacity 0.31 -1.5 0.465"));
    CHECK_FALSE(replaced("capacity 0.31 1.5 0.465", "capacity 0.31 inf 0.465"));
    CHECK_FALSE(replaced("cpu 2 ", "cpu 0 "));      // a CPU given twice
    CHECK_FALSE(replaced("split 2 ", "split 1 "));  // a split given twice
    CHECK_FALSE(replaced("split 1 ", "split 3 "));  // or with a gap: CPU 1 would have none
    CHECK_FALSE(replaced("split 2 7 7 ", "split 2 7 8 "));  // more user than usage
    CHECK_FALSE(replaced("0 0 1000000\nsplit 2", "0 0 1000001\nsplit 2"));  // a share above 1
    CHECK_FALSE(replaced("split 2 7 7 0 0 1000000", "split 2 7 7 0 0"));
    CHECK_FALSE(replaced("cpu 2 ", "cpu 8192 "));   // past NR_CPUS
    CHECK_FALSE(replaced("init 4026532291 4242", "init 4026532291 0"));
    CHECK_FALSE(replaced("cgroup /system", "cgroup system"));
    CHECK_FALSE(replaced("init 4026532291", "unknown 1\ninit 4026532291"));
    CHECK_FALSE(replaced("capacity 0.31 1.5 0.465\n", ""));               // a line missing
    CHECK_FALSE(replaced("baseline", "baseline 1 2\nbaseline"));          // a line twice
    CHECK_FALSE(parse_stat_record(""));
    CHECK_FALSE(parse_stat_record(good.substr(0, good.size() / 2)));  // a write cut short
    // A path that could not be read back is not written.
    StatRecord r = sample();
    r.key.cgroup = "/a\nb";
    CHECK_FALSE(format_stat_record(r));
    r.key.cgroup = "relative";
    CHECK_FALSE(format_stat_record(r));
}

TEST_CASE("stat record names: one per container, nothing else parses") {
    StatRecordKey key{"/ignored", 4026532291, 4242, 987654};
    CHECK(stat_record_name(key) == "4026532291.4242.987654");
    auto back = parse_stat_record_name("4026532291.4242.987654");
    REQUIRE(back);
    CHECK(back->pidns == 4026532291u);
    CHECK(back->init_pid == 4242);
    CHECK(back->init_start_ticks == 987654u);
    CHECK(back->cgroup.empty());
    for (const char* bad : {"", ".", "1.2", "1.2.3.4", "tmp.1.2.3", "1.0.3", "1.+2.3", "01.2.3", "1. 2.3", "1.2.x",
                            "1.99999999999.3", "..", "1..3"})
        CHECK_MESSAGE(!parse_stat_record_name(bad), bad);
}
