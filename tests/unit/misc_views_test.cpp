#include <doctest/doctest.h>

#include "core/views.hpp"
#include "fixtures.hpp"

using namespace procview;
using procview::test::check_golden;
using procview::test::read_fixture;

// Expected values below are worked by hand from kernel/sched/loadavg.c:
// calc_load(load, exp, n) = (load·exp + n·2048·(2048 − exp) [+ 2047 if n·2048 ≥ load]) / 2048.

TEST_CASE("LoadAverage: one runnable task from an idle start") {
    LoadAverage load;
    load.seed(0);
    CHECK(load.fixed() == std::array<uint64_t, 3>{0, 0, 0});
    load.sample(1);
    // EXP_1: (0 + 2048·164 + 2047) / 2048 = 164; EXP_5: (2048·34 + 2047) / 2048 = 34; EXP_15: 11.
    CHECK(load.fixed() == std::array<uint64_t, 3>{164, 34, 11});
    // "0.08": (164 + 10)·100 >> 11 = 8; 1 − e^(−5/60) = 0.080.
    CHECK(render_loadavg(load.fixed(), 1, 5, 42) == "0.08 0.02 0.01 1/5 42\n");
    load.sample(1);
    // EXP_1: (164·1884 + 2048·164 + 2047) / 2048 = 646895 / 2048 = 315.
    CHECK(load.fixed()[0] == 315);
}

TEST_CASE("LoadAverage: seeding holds a steady load, decay follows the kernel") {
    LoadAverage steady;
    steady.seed(3);
    CHECK(steady.fixed() == std::array<uint64_t, 3>{6144, 6144, 6144});
    steady.sample(3);  // (6144·2048 + 2047) / 2048 = 6144
    CHECK(steady.fixed() == std::array<uint64_t, 3>{6144, 6144, 6144});
    CHECK(render_loadavg(steady.fixed(), 3, 40, 100) == "3.00 3.00 3.00 3/40 100\n");

    LoadAverage decay;
    decay.seed(2);
    decay.sample(0);
    // 4096·1884/2048 = 3768, 4096·2014/2048 = 4028, 4096·2037/2048 = 4074 (no round-up when falling).
    CHECK(decay.fixed() == std::array<uint64_t, 3>{3768, 4028, 4074});
    // 3778 → 1.(1730·100 >> 11 = 84); 2·e^(−5/60) = 1.840.
    CHECK(render_loadavg(decay.fixed(), 0, 12, 7) == "1.84 1.97 1.99 0/12 7\n");
}

TEST_CASE("render_loadavg rounds like loadavg_proc_show") {
    // 4086 + 10 = 4096 = exactly 2.00; 4085 + 10 = 4095 → 1 + (2047·100 >> 11 = 99).
    CHECK(render_loadavg({4086, 4085, 0}, 0, 1, 1) == "2.00 1.99 0.00 0/1 1\n");
    // 0.16 needs (x + 10)·100 ≥ 16·2048: x = 318 is the smallest.
    CHECK(render_loadavg({318, 317, 2048 * 100}, 1, 57, 1046) == "0.16 0.15 100.00 1/57 1046\n");
}

TEST_CASE("render_diskstats: the cgroup's devices in the kernel's layout") {
    auto names = parse_diskstats_names(read_fixture("v1/proc/diskstats"));
    REQUIRE(names);
    auto device = [](unsigned major, unsigned minor) {
        DeviceIo d;
        d.major = major;
        d.minor = minor;
        return d;
    };
    DeviceIo vda = device(254, 0);
    vda.read_ios = 130;
    vda.write_ios = 3;
    vda.read_bytes = 1048576;
    vda.write_bytes = 8192;
    vda.read_ms = 7;
    vda.write_ms = 2;
    DeviceIo unknown = device(8, 0);  // no host name: left out
    unknown.read_ios = 5;
    DeviceIo zram = device(253, 0);
    zram.discard_ios = 1;
    zram.discard_bytes = 4096;
    std::vector<DeviceIo> io{vda, device(7, 0) /* nothing used: left out */, unknown, zram};
    std::string out = render_diskstats(*names, io);
    check_golden("diskstats_v1_hand.txt", out);
    CHECK(out ==
          " 253       0 zram0 0 0 0 0 0 0 0 0 0 0 0 1 0 8 0 0 0\n"
          " 254       0 vda 130 0 2048 7 3 0 16 2 0 9 9 0 0 0 0 0 0\n");
    CHECK(render_diskstats(*names, {}).empty());
}

TEST_CASE("render_diskstats from the v2 fixture's empty io.stat is empty") {
    auto io = parse_io_stat(read_fixture("v2/cgroup/kubepods/pod1/ctr1/io.stat"));
    REQUIRE(io);
    CHECK(render_diskstats(parse_diskstats_names(read_fixture("v1/proc/diskstats")).value(), *io).empty());
}
