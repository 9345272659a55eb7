#include "core/proc_files.hpp"

#include "core/text.hpp"

namespace procview {

namespace {

// "processor\t: 7" → 7; anything else → nullopt.
std::optional<unsigned> processor_number(std::string_view first_line) {
    constexpr std::string_view kKey = "processor";
    if (first_line.substr(0, kKey.size()) != kKey) return std::nullopt;
    std::string_view rest = first_line.substr(kKey.size());
    auto colon = rest.find(':');
    if (colon == std::string_view::npos || !trim(rest.substr(0, colon)).empty()) return std::nullopt;
    auto n = parse_u64(rest.substr(colon + 1));
    if (!n || *n > 65535) return std::nullopt;
    return static_cast<unsigned>(*n);
}

// A line whose key is "processor", whatever its value and spacing: the
// renderer renumbers every such line, so each must open its own block.
bool is_processor_line(std::string_view line) {
    auto colon = line.find(':');
    return colon != std::string_view::npos && trim(line.substr(0, colon)) == "processor";
}

}  // namespace

Result<std::vector<MeminfoLine>> parse_meminfo(std::string_view text) {
    std::vector<MeminfoLine> lines;
    lines.reserve(64);
    std::size_t line_no = 0;
    std::optional<Error> error;
    for_each_line(text, [&](std::string_view line) {
        ++line_no;
        if (error || trim(line).empty()) return;
        auto colon = line.find(':');
        std::string_view value = colon == std::string_view::npos ? std::string_view{} : trim(line.substr(colon + 1));
        bool has_kb = value.size() > 3 && value.substr(value.size() - 3) == " kB";
        if (has_kb) value = trim(value.substr(0, value.size() - 3));
        auto number = parse_u64(value);
        std::string_view key = colon == std::string_view::npos ? std::string_view{} : line.substr(0, colon);
        if (!number || key.empty() || key != trim(key)) {
            error = invalid(line_ref("meminfo", line_no) + ": " + excerpt(line) + " is not `Key: N [kB]`");
            return;
        }
        lines.push_back(MeminfoLine{std::string(key), *number, has_kb});
    });
    if (error) return *error;
    if (lines.empty()) return invalid("meminfo is empty");
    return lines;
}

std::optional<uint64_t> meminfo_value(const std::vector<MeminfoLine>& lines, std::string_view key) {
    for (const auto& line : lines)
        if (line.has_kb && line.key == key) return line.value;
    return std::nullopt;
}

Result<std::vector<VmstatLine>> parse_vmstat(std::string_view text) {
    std::vector<VmstatLine> lines;
    lines.reserve(200);
    std::size_t line_no = 0;
    std::optional<Error> error;
    for_each_line(text, [&](std::string_view line) {
        ++line_no;
        if (error || trim(line).empty()) return;
        auto sp = line.find(' ');
        std::string_view key = line.substr(0, sp);
        auto number = sp == std::string_view::npos ? std::nullopt : parse_u64(line.substr(sp + 1));
        if (!number || key.empty() || key != trim(key)) {
            error = invalid(line_ref("vmstat", line_no) + ": " + excerpt(line) + " is not `name N`");
            return;
        }
        lines.push_back(VmstatLine{std::string(key), *number});
    });
    if (error) return *error;
    if (lines.empty()) return invalid("vmstat is empty");
    return lines;
}

Result<HostCpuinfo> parse_cpuinfo(std::string_view text) {
    HostCpuinfo info;
    std::string block;
    std::size_t line_no = 0, block_start = 0;
    std::optional<Error> error;
    auto finish_block = [&] {
        if (block.empty()) return;
        auto nl = block.find('\n');
        if (auto n = processor_number(std::string_view(block).substr(0, nl))) {
            if (!info.blocks.emplace(*n, std::move(block)).second)
                error = invalid(line_ref("cpuinfo", block_start) + ": processor " + std::to_string(*n) + " appears twice");
        } else {
            // Not a processor block (arm's "Hardware" section): kept verbatim,
            // blank-line separated like the kernel prints it.
            if (!info.trailer.empty()) info.trailer += '\n';
            info.trailer += block;
        }
        block.clear();
    };
    for_each_line(text, [&](std::string_view line) {
        ++line_no;
        if (error) return;
        if (trim(line).empty()) {
            finish_block();
            return;
        }
        // Blocks not separated by a blank line (a broken host copy): one per processor line.
        if (!block.empty() && is_processor_line(line)) finish_block();
        if (error) return;
        if (block.empty()) block_start = line_no;
        block.append(line);
        block += '\n';
    });
    if (!error) finish_block();
    if (error) return *error;
    if (info.blocks.empty()) return invalid("cpuinfo has no `processor` block");
    return info;
}

Result<HostStat> parse_proc_stat(std::string_view text) {
    HostStat stat;
    std::optional<uint64_t> btime;
    std::size_t line_no = 0;
    std::optional<Error> error;
    for_each_line(text, [&](std::string_view line) {
        ++line_no;
        if (error) return;
        auto sp = line.find(' ');
        std::string_view key = line.substr(0, sp);
        if (key == "btime") {
            btime = sp == std::string_view::npos ? std::nullopt : parse_u64(line.substr(sp + 1));
            if (!btime) error = invalid(line_ref("stat", line_no) + ": " + excerpt(line) + " is not `btime N`");
        } else if (key == "intr" || key == "ctxt" || key == "processes" || key == "softirq") {
            stat.kept_lines.emplace_back(line);
        }
    });
    if (error) return *error;
    if (!btime) return invalid("stat has no btime line");
    stat.btime = *btime;
    return stat;
}

Result<std::vector<DiskName>> parse_diskstats_names(std::string_view text) {
    std::vector<DiskName> names;
    std::size_t line_no = 0;
    std::optional<Error> error;
    for_each_line(text, [&](std::string_view line) {
        ++line_no;
        if (error || trim(line).empty()) return;
        auto fields = split_fields(line);
        std::optional<uint64_t> major, minor;
        if (fields.size() >= 3) {
            major = parse_u64(fields[0]);
            minor = parse_u64(fields[1]);
        }
        if (!major || !minor || *major > 0xffffffffu || *minor > 0xffffffffu) {
            error = invalid(line_ref("diskstats", line_no) + ": " + excerpt(line) + " is not `MAJ MIN NAME …`");
            return;
        }
        names.push_back(DiskName{static_cast<unsigned>(*major), static_cast<unsigned>(*minor), std::string(fields[2])});
    });
    if (error) return *error;
    return names;
}

Result<TimensOffsets> parse_timens_offsets(std::string_view text) {
    TimensOffsets out;
    bool seen_monotonic = false, seen_boottime = false;
    std::size_t line_no = 0;
    std::optional<Error> error;
    for_each_line(text, [&](std::string_view line) {
        ++line_no;
        if (error || trim(line).empty()) return;
        auto fields = split_fields(trim(line));
        auto fail = [&] {
            error = invalid(line_ref("timens_offsets", line_no) + ": " + excerpt(line) + " is not `CLOCK SECS NSECS`");
        };
        if (fields.size() != 3) return fail();
        bool* seen = nullptr;
        ClockOffset* target = nullptr;
        if (fields[0] == "monotonic" || fields[0] == "1") seen = &seen_monotonic, target = &out.monotonic;
        else if (fields[0] == "boottime" || fields[0] == "7") seen = &seen_boottime, target = &out.boottime;
        auto seconds = parse_i64(fields[1]);
        auto nanoseconds = parse_u64(fields[2]);
        if (!target || *seen || !seconds || !nanoseconds || *nanoseconds > 999'999'999) return fail();
        *seen = true;
        *target = ClockOffset{*seconds, static_cast<uint32_t>(*nanoseconds)};
    });
    if (error) return *error;
    if (!seen_monotonic || !seen_boottime) return invalid("timens_offsets lacks the monotonic or boottime line");
    return out;
}

std::string format_boottime_offset(const ClockOffset& offset) {
    return "boottime " + std::to_string(offset.seconds) + " " + std::to_string(offset.nanoseconds) + "\n";
}

}  // namespace procview
