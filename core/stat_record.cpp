#include "core/stat_record.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

#include "core/text.hpp"

namespace procview {
namespace {

constexpr std::string_view kHeader = "procview-stat-record 1";

void append_double(std::string& out, double v) {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);  // shortest form that reads back exactly
    if (ec == std::errc()) out.append(buf, end);
}

std::optional<double> parse_double(std::string_view s) {
    double v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v) || v < 0) return std::nullopt;
    return v;
}

void append_fields(std::string& out, std::string_view key, std::initializer_list<uint64_t> values) {
    out.append(key);
    for (uint64_t v : values) {
        out += ' ';
        append_u64(out, v);
    }
    out += '\n';
}

// One "key value…" line into the record; false on garbage.
bool parse_line(std::string_view key, const std::vector<std::string_view>& f, std::string_view line, StatRecord& r,
                std::set<uint64_t>& cpus_seen) {
    if (key == "cgroup") {
        std::string_view path = line.substr(std::min(line.size(), key.size() + 1));
        if (path.empty() || path.front() != '/') return false;
        r.key.cgroup = std::string(path);
        return true;
    }
    if (key == "init" && f.size() == 4) {
        auto ns = parse_u64(f[1]);
        auto pid = parse_u64(f[2]);
        auto start = parse_u64(f[3]);
        if (!ns || !pid || !start || *pid == 0 || *pid > INT32_MAX) return false;
        r.key.pidns = *ns;
        r.key.init_pid = static_cast<int64_t>(*pid);
        r.key.init_start_ticks = *start;
        return true;
    }
    if (key == "baseline" && f.size() == 3) {
        auto user = parse_u64(f[1]);
        auto system = parse_u64(f[2]);
        if (!user || !system) return false;
        r.baseline.total = CpuUsage{*user, *system};
        return true;
    }
    if (key == "cpu" && f.size() == 4) {
        auto index = parse_u64(f[1]);
        auto user = parse_u64(f[2]);
        auto system = parse_u64(f[3]);
        if (!index || !user || !system || *index >= kMaxRecordCpus || !cpus_seen.insert(*index).second) return false;
        if (r.baseline.per_host_cpu.size() <= *index) r.baseline.per_host_cpu.resize(*index + 1);
        r.baseline.per_host_cpu[*index] = CpuUsage{*user, *system};
        return true;
    }
    if (key == "split" && f.size() == 7) {
        std::optional<uint64_t> v[6];
        for (int i = 0; i < 6; ++i)
            if (!(v[i] = parse_u64(f[i + 1]))) return false;
        SplitAnchor a{*v[1], *v[2], *v[3], *v[4], static_cast<uint32_t>(std::min<uint64_t>(*v[5], UINT32_MAX))};
        // Given in order, one per CPU from 0: a gap would leave a CPU with no anchor.
        if (*v[0] != r.split.size() || *v[0] >= kMaxRecordCpus || a.user_ns > a.total_ns || *v[5] > kSplitPpm) return false;
        r.split.push_back(a);
        return true;
    }
    if (key == "capacity" && f.size() == 4) {
        auto time = parse_double(f[1]);
        auto capacity = parse_double(f[2]);
        auto total = parse_double(f[3]);
        if (!time || !capacity || !total) return false;
        r.capacity = CapacityIntegral::State{*time, *capacity, *total};
        return true;
    }
    return false;
}

}  // namespace

std::string stat_record_name(const StatRecordKey& key) {
    return std::to_string(key.pidns) + "." + std::to_string(key.init_pid) + "." + std::to_string(key.init_start_ticks);
}

std::optional<StatRecordKey> parse_stat_record_name(std::string_view name) {
    auto first = name.find('.');
    auto second = first == std::string_view::npos ? first : name.find('.', first + 1);
    if (second == std::string_view::npos) return std::nullopt;
    auto ns = parse_u64(name.substr(0, first));
    auto pid = parse_u64(name.substr(first + 1, second - first - 1));
    auto start = parse_u64(name.substr(second + 1));
    if (!ns || !pid || !start || *pid == 0 || *pid > INT32_MAX) return std::nullopt;
    StatRecordKey key{"", *ns, static_cast<int64_t>(*pid), *start};
    if (stat_record_name(key) != name) return std::nullopt;  // no "+1", "01" or spaces: one name per key
    return key;
}

Result<std::string> format_stat_record(const StatRecord& r) {
    if (r.key.cgroup.empty() || r.key.cgroup.front() != '/' || r.key.cgroup.find('\n') != std::string::npos)
        return invalid("stat record: unusable cgroup path `" + r.key.cgroup + "`");
    if (r.baseline.per_host_cpu.size() > kMaxRecordCpus || r.split.size() > kMaxRecordCpus)
        return invalid("stat record: too many CPUs");
    std::string out(kHeader);
    out += "\ncgroup ";
    out += r.key.cgroup;
    out += '\n';
    append_fields(out, "init", {r.key.pidns, static_cast<uint64_t>(r.key.init_pid), r.key.init_start_ticks});
    append_fields(out, "baseline", {r.baseline.total.user_ns, r.baseline.total.system_ns});
    for (std::size_t i = 0; i < r.baseline.per_host_cpu.size(); ++i) {
        const auto& u = r.baseline.per_host_cpu[i];
        if (u.user_ns || u.system_ns) append_fields(out, "cpu", {i, u.user_ns, u.system_ns});
    }
    out.append("capacity ");
    append_double(out, r.capacity.time);
    out += ' ';
    append_double(out, r.capacity.capacity);
    out += ' ';
    append_double(out, r.capacity.total);
    out += '\n';
    for (std::size_t i = 0; i < r.split.size(); ++i) {
        const auto& a = r.split[i];
        append_fields(out, "split", {i, a.total_ns, a.user_ns, a.tick_user_ns, a.tick_system_ns, a.user_ppm});
    }
    return out;
}

Result<StatRecord> parse_stat_record(std::string_view text) {
    auto lines = split_lines(text);
    if (lines.empty() || lines[0] != kHeader) return invalid("stat record: not a version 1 record");
    StatRecord r;
    std::set<uint64_t> cpus_seen;
    std::set<std::string_view> keys_seen;
    for (std::size_t i = 1; i < lines.size(); ++i) {
        auto fields = split_fields(lines[i]);
        if (fields.empty()) return invalid("stat record: empty line");
        if (fields[0] != "cpu" && fields[0] != "split" && !keys_seen.insert(fields[0]).second)
            return invalid("stat record: `" + std::string(fields[0]) + "` given twice");
        if (!parse_line(fields[0], fields, lines[i], r, cpus_seen))
            return invalid("stat record: bad line `" + std::string(lines[i]) + "`");
    }
    for (std::string_view required : {"cgroup", "init", "baseline", "capacity"})
        if (!keys_seen.contains(required)) return invalid("stat record: no `" + std::string(required) + "` line");
    return r;
}

}  // namespace procview
