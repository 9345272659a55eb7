#include "core/proc_files.hpp"

#include <doctest/doctest.h>

#include "fixtures.hpp"

using namespace procview;
using procview::test::read_fixture;

TEST_CASE("parse_meminfo keeps every line in order") {
    auto lines = parse_meminfo(read_fixture("v2/proc/meminfo"));
    REQUIRE(lines);
    REQUIRE(lines->size() == 53);
    CHECK((*lines)[0] == MeminfoLine{"MemTotal", 2014152, true});
    CHECK((*lines)[35] == MeminfoLine{"VmallocTotal", 34359738367, true});
    CHECK((*lines)[45] == MeminfoLine{"HugePages_Total", 0, false});
    CHECK(lines->back() == MeminfoLine{"DirectMap2M", 2066432, true});
    CHECK(meminfo_value(*lines, "MemAvailable") == 1816396u);
    CHECK(meminfo_value(*lines, "SwapTotal") == 0u);
    CHECK_FALSE(meminfo_value(*lines, "HugePages_Total"));  // a count, not kB
    CHECK_FALSE(meminfo_value(*lines, "NoSuchKey"));
}

TEST_CASE("parse_meminfo rejects garbage") {
    CHECK_FALSE(parse_meminfo(""));
    CHECK_FALSE(parse_meminfo("MemTotal 12 kB\n"));
    CHECK_FALSE(parse_meminfo("MemTotal:  twelve kB\n"));
    CHECK_FALSE(parse_meminfo("MemTotal:  -1 kB\n"));
    auto r = parse_meminfo("MemTotal:  1 kB\n: 5\n");
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("meminfo line 2") != std::string::npos);
}

TEST_CASE("parse_cpuinfo splits per processor, lines kept verbatim") {
    std::string text = read_fixture("v1/proc/cpuinfo");
    auto info = parse_cpuinfo(text);
    REQUIRE(info);
    REQUIRE(info->blocks.size() == 2);
    CHECK(info->trailer.empty());
    const std::string& cpu1 = info->blocks.at(1);
    CHECK(cpu1.rfind("processor\t: 1\n", 0) == 0);
    CHECK(cpu1.find("core id\t\t: 1\n") != std::string::npos);
    REQUIRE(cpu1.size() > 18);
    CHECK(cpu1.compare(cpu1.size() - 18, 18, "power management:\n") == 0);  // no trailing blank line
    // Re-joined with the kernel's blank lines, the blocks are the file.
    CHECK(info->blocks.at(0) + "\n" + cpu1 + "\n" == text);
}

TEST_CASE("parse_cpuinfo keeps a non-processor section as the trailer") {
    auto info = parse_cpuinfo(
        "processor\t: 0\nmodel name\t: ARMv7 Processor rev 4 (v7l)\n\n"
        "processor\t: 1\nmodel name\t: ARMv7 Processor rev 4 (v7l)\n\n"
        "Hardware\t: BCM2835\nRevision\t: a02082\n");
    REQUIRE(info);
    CHECK(info->blocks.size() == 2);
    CHECK(info->trailer == "Hardware\t: BCM2835\nRevision\t: a02082\n");
    CHECK_FALSE(parse_cpuinfo("vendor_id\t: x\n"));
    CHECK_FALSE(parse_cpuinfo("processor\t: 0\n\nprocessor\t: 0\n"));
}

TEST_CASE("parse_proc_stat keeps intr, ctxt, processes, softirq and btime") {
    auto stat = parse_proc_stat(read_fixture("v2/proc/stat"));
    REQUIRE(stat);
    CHECK(stat->btime == 1795369263u);
    REQUIRE(stat->kept_lines.size() == 4);
    CHECK(stat->kept_lines[0].rfind("intr 9571 76 9 0 0 3359 ", 0) == 0);
    CHECK(stat->kept_lines[1] == "ctxt 8045");
    CHECK(stat->kept_lines[2] == "processes 1039");
    CHECK(stat->kept_lines[3] == "softirq 4634 0 618 0 0 0 0 1 1831 0 2184");
    CHECK_FALSE(parse_proc_stat("cpu  1 2 3\n"));
    CHECK_FALSE(parse_proc_stat("btime x\n"));
}

TEST_CASE("parse_diskstats_names") {
    auto names = parse_diskstats_names(read_fixture("v1/proc/diskstats"));
    REQUIRE(names);
    REQUIRE(names->size() == 10);
    CHECK((*names)[0] == DiskName{7, 0, "loop0"});
    CHECK((*names)[8] == DiskName{254, 0, "vda"});
    CHECK((*names)[9] == DiskName{253, 0, "zram0"});
    CHECK(parse_diskstats_names(read_fixture("v2/proc/diskstats")).value().empty());
    CHECK_FALSE(parse_diskstats_names("   x  0 sda 1 2\n"));
    CHECK_FALSE(parse_diskstats_names("   8  0\n"));
}

// As the kernel prints it (captured in `unshare --time --boottime -100 --monotonic 5`).
constexpr std::string_view kTimensOffsets =
    "monotonic           5         0\n"
    "boottime         -100         0\n";

TEST_CASE("parse_timens_offsets: the kernel's layout, negative seconds") {
    auto offsets = parse_timens_offsets(kTimensOffsets);
    REQUIRE_MESSAGE(offsets, (offsets ? "" : offsets.error().message));
    CHECK(offsets->monotonic == ClockOffset{5, 0});
    CHECK(offsets->boottime == ClockOffset{-100, 0});
    CHECK(offsets->boottime.as_seconds() == doctest::Approx(-100.0));
    CHECK_FALSE(offsets->boottime.is_zero());
}

TEST_CASE("parse_timens_offsets: the initial namespace, clock ids, nanoseconds") {
    auto initial = parse_timens_offsets("monotonic           0         0\nboottime            0         0\n");
    REQUIRE(initial);
    CHECK(initial->boottime.is_zero());
    CHECK(initial->monotonic.is_zero());
    // A normalised -12.25 s: seconds -13, nanoseconds 750000000.
    auto ids = parse_timens_offsets("7 -13 750000000\n1 0 0");
    REQUIRE(ids);
    CHECK(ids->boottime == ClockOffset{-13, 750'000'000});
    CHECK(ids->boottime.as_seconds() == doctest::Approx(-12.25));
}

TEST_CASE("parse_timens_offsets rejects garbage") {
    for (std::string_view bad : {
             "",                                               // nothing
             "boottime -100 0\n",                              // monotonic missing
             "monotonic 0 0\nboottime 1 0\nboottime 2 0\n",    // twice
             "monotonic 0 0\nboottime -100 1000000000\n",      // nanoseconds out of range
             "monotonic 0 0\nboottime -100 -1\n",              // negative nanoseconds
             "monotonic 0 0\nrealtime 5 0\n",                  // not a namespaced clock
             "monotonic 0 0\nboottime x 0\n",                  // not a number
             "monotonic 0 0\nboottime -100\n",                 // a field short
             "monotonic 0 0\nboottime -100 0 7\n",             // a field too many
         }) {
        CAPTURE(bad);
        CHECK_FALSE(parse_timens_offsets(bad));
    }
}

TEST_CASE("format_boottime_offset writes the record timens_offsets reads back") {
    ClockOffset offset{-12345, 0};
    CHECK(format_boottime_offset(offset) == "boottime -12345 0\n");
    auto back = parse_timens_offsets("monotonic 0 0\n" + format_boottime_offset(ClockOffset{-7, 5}));
    REQUIRE(back);
    CHECK(back->boottime == ClockOffset{-7, 5});
}

TEST_CASE("parse_cpuinfo: blocks not separated by blank lines split at each processor line") {
    auto info = parse_cpuinfo("processor\t: 0\nvendor_id\t: AuthenticAMD\nprocessor\t: 1\nvendor_id\t: AuthenticAMD\n"
                              "  processor : 2\ncore id\t\t: 2\n");
    REQUIRE(info);
    CHECK(info->blocks.size() == 2);
    CHECK(info->blocks.at(0) == "processor\t: 0\nvendor_id\t: AuthenticAMD\n");
    CHECK(info->blocks.at(1) == "processor\t: 1\nvendor_id\t: AuthenticAMD\n");
    // A processor line the number parser does not take still opens its own (non-processor) block.
    CHECK(info->trailer == "  processor : 2\ncore id\t\t: 2\n");
    CHECK_FALSE(parse_cpuinfo("processor\t: 0\nprocessor\t: 0\n"));  // the same number twice
}
