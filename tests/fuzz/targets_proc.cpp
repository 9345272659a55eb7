// Fuzz targets for the host procfs parsers (core/proc_files.hpp). The host's
// files are trusted more than a container's, but --proc-root can point
// anywhere and a truncated or odd file must not take the daemon down.
#include "core/proc_files.hpp"
#include "core/stat_record.hpp"
#include "fuzz_input.hpp"
#include "fuzz_targets.hpp"

namespace procview::fuzz {

int fuzz_proc_meminfo(const uint8_t* data, std::size_t size) {
    auto text = as_text(data, size);
    auto lines = parse_meminfo(text);
    if (!lines) return 0;
    for (const auto& line : *lines) {
        FUZZ_CHECK(!line.key.empty());
        FUZZ_CHECK(line.key.find('\n') == std::string::npos);
    }
    (void)meminfo_value(*lines, "MemTotal");
    return 0;
}

int fuzz_proc_cpuinfo(const uint8_t* data, std::size_t size) {
    auto text = as_text(data, size);
    auto cpuinfo = parse_cpuinfo(text);
    if (!cpuinfo) return 0;
    for (const auto& [cpu, block] : cpuinfo->blocks) {
        FUZZ_CHECK(!block.empty() && block.back() == '\n');
        FUZZ_CHECK(block.size() <= text.size() + 1);
    }
    return 0;
}

int fuzz_proc_stat(const uint8_t* data, std::size_t size) {
    auto text = as_text(data, size);
    auto stat = parse_proc_stat(text);
    if (!stat) return 0;
    for (const auto& line : stat->kept_lines) FUZZ_CHECK(line.find('\n') == std::string::npos);
    return 0;
}

int fuzz_proc_diskstats(const uint8_t* data, std::size_t size) {
    auto text = as_text(data, size);
    auto names = parse_diskstats_names(text);
    if (!names) return 0;
    for (const auto& disk : *names) FUZZ_CHECK(!disk.name.empty());
    return 0;
}

// procviewfs's own /proc/stat records (core/stat_record.hpp): root's files,
// but a record cut short or damaged must be refused, never half-read. What
// parses must format, and read back to the same text.
int fuzz_stat_record(const uint8_t* data, std::size_t size) {
    auto record = parse_stat_record(as_text(data, size));
    if (!record) return 0;
    FUZZ_CHECK(record->baseline.per_host_cpu.size() <= kMaxRecordCpus);
    FUZZ_CHECK(record->split.size() <= kMaxRecordCpus);
    for (const auto& a : record->split) FUZZ_CHECK(a.user_ns <= a.total_ns && a.user_ppm <= kSplitPpm);
    auto text = format_stat_record(*record);
    FUZZ_CHECK(text.ok());
    auto again = parse_stat_record(*text);
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(format_stat_record(*again).value() == *text);
    return 0;
}

}  // namespace procview::fuzz
