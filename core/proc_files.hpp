// Parsers for the host's procfs files that views are built on.
// Pure: text in, values out.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "result.hpp"

namespace procview {

// One line of /proc/meminfo: "MemTotal:       24539124 kB" or "HugePages_Total:       0".
struct MeminfoLine {
    std::string key;      // without the colon
    uint64_t value = 0;   // as printed (kB when has_kb)
    bool has_kb = false;  // the line ends in " kB"
    friend bool operator==(const MeminfoLine&, const MeminfoLine&) = default;
};
Result<std::vector<MeminfoLine>> parse_meminfo(std::string_view text);
// The value of `key` in kB-lines, or nullopt.
std::optional<uint64_t> meminfo_value(const std::vector<MeminfoLine>& lines, std::string_view key);

// One line of /proc/vmstat: "nr_free_pages 1254431".
struct VmstatLine {
    std::string key;
    uint64_t value = 0;
    friend bool operator==(const VmstatLine&, const VmstatLine&) = default;
};
// Every line "name number", in file order; anything else is an error.
Result<std::vector<VmstatLine>> parse_vmstat(std::string_view text);

// /proc/cpuinfo split into per-processor blocks: a block ends at a blank line
// or where the next "processor" line begins.
struct HostCpuinfo {
    // host processor number → its block, every line of it including the
    // "processor" line, each line ending in '\n', no trailing blank line.
    std::map<unsigned, std::string> blocks;
    // Text after the last processor block that is not one (arm64's
    // "Hardware"/"Revision" section), verbatim; usually empty.
    std::string trailer;
};
Result<HostCpuinfo> parse_cpuinfo(std::string_view text);

// /proc/stat, the parts that views keep from the host.
struct HostStat {
    uint64_t btime = 0;                  // seconds since the epoch
    std::vector<std::string> kept_lines; // "intr …", "ctxt …", "processes …", "softirq …" in host order, without '\n'
};
Result<HostStat> parse_proc_stat(std::string_view text);

// Device numbers and names from /proc/diskstats.
struct DiskName {
    unsigned major = 0;
    unsigned minor = 0;
    std::string name;
    friend bool operator==(const DiskName&, const DiskName&) = default;
};
Result<std::vector<DiskName>> parse_diskstats_names(std::string_view text);

// A clock offset of a time namespace, normalised as the kernel keeps it:
// seconds may be negative, nanoseconds are in [0, 1e9).
struct ClockOffset {
    int64_t seconds = 0;
    uint32_t nanoseconds = 0;
    [[nodiscard]] double as_seconds() const { return static_cast<double>(seconds) + nanoseconds / 1e9; }
    [[nodiscard]] bool is_zero() const { return seconds == 0 && nanoseconds == 0; }
    friend bool operator==(const ClockOffset&, const ClockOffset&) = default;
};
// /proc/<pid>/timens_offsets: "monotonic <secs> <nsecs>" and "boottime <secs>
// <nsecs>" (man 7 time_namespaces; the kernel's reader also accepts the clock
// ids 1 and 7, which are taken here too). Both clocks must be present, once
// each; nanoseconds above 999999999, unknown clocks and junk are errors. The
// file describes the pid's time namespace *for children*.
struct TimensOffsets {
    ClockOffset monotonic;
    ClockOffset boottime;
    friend bool operator==(const TimensOffsets&, const TimensOffsets&) = default;
};
Result<TimensOffsets> parse_timens_offsets(std::string_view text);
// "boottime <secs> <nsecs>\n", the record written to timens_offsets.
std::string format_boottime_offset(const ClockOffset& offset);

}  // namespace procview
