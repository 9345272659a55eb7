#include "core/cgroup_files.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include "core/text.hpp"

namespace procview {

namespace {

// v1 reports "no limit" as PAGE_COUNTER_MAX pages in bytes (2^63 − page size
// on 4 KiB pages); anything this large cannot be a real limit.
constexpr uint64_t kV1Unlimited = uint64_t{1} << 62;

// Index of the first space or tab, or npos. (string_view::find_first_of calls
// memchr once per character: too slow for files parsed on every read.)
std::size_t find_blank(std::string_view s) {
    for (std::size_t i = 0; i < s.size(); ++i)
        if (s[i] == ' ' || s[i] == '\t') return i;
    return std::string_view::npos;
}

// "key value" with exactly two fields; the value is returned unparsed.
bool split_key_value(std::string_view line, std::string_view& key, std::string_view& value) {
    line = trim(line);
    auto sp = find_blank(line);
    if (sp == std::string_view::npos) return false;
    key = line.substr(0, sp);
    value = trim(line.substr(sp));
    return !key.empty() && !value.empty() && find_blank(value) == std::string_view::npos;
}

// A memory.stat value: counters are unsigned, but some kernels briefly
// report small negative per-cpu sums; those mean 0.
std::optional<uint64_t> parse_stat_value(std::string_view value) {
    if (auto u = parse_u64(value)) return u;
    if (auto i = parse_i64(value); i && *i < 0) return uint64_t{0};
    return std::nullopt;
}

using StatField = std::optional<uint64_t> MemoryStat::*;
struct StatKey {
    std::string_view key;
    StatField field;
};

constexpr std::array kV2StatKeys{
    StatKey{"anon", &MemoryStat::anon},
    StatKey{"file", &MemoryStat::file},
    StatKey{"shmem", &MemoryStat::shmem},
    StatKey{"file_mapped", &MemoryStat::file_mapped},
    StatKey{"file_dirty", &MemoryStat::file_dirty},
    StatKey{"file_writeback", &MemoryStat::file_writeback},
    StatKey{"anon_thp", &MemoryStat::anon_thp},
    StatKey{"file_thp", &MemoryStat::file_thp},
    StatKey{"shmem_thp", &MemoryStat::shmem_thp},
    StatKey{"inactive_anon", &MemoryStat::inactive_anon},
    StatKey{"active_anon", &MemoryStat::active_anon},
    StatKey{"inactive_file", &MemoryStat::inactive_file},
    StatKey{"active_file", &MemoryStat::active_file},
    StatKey{"unevictable", &MemoryStat::unevictable},
    StatKey{"slab", &MemoryStat::slab},
    StatKey{"slab_reclaimable", &MemoryStat::slab_reclaimable},
    StatKey{"slab_unreclaimable", &MemoryStat::slab_unreclaimable},
    StatKey{"kernel_stack", &MemoryStat::kernel_stack},
    StatKey{"pagetables", &MemoryStat::pagetables},
    StatKey{"sec_pagetables", &MemoryStat::sec_pagetables},
    StatKey{"percpu", &MemoryStat::percpu},
    StatKey{"zswap", &MemoryStat::zswap},
    StatKey{"zswapped", &MemoryStat::zswapped},
    StatKey{"swapcached", &MemoryStat::swapcached},
};

constexpr std::array kV1StatKeys{
    StatKey{"total_rss", &MemoryStat::anon},
    StatKey{"total_cache", &MemoryStat::file},
    StatKey{"total_shmem", &MemoryStat::shmem},
    StatKey{"total_mapped_file", &MemoryStat::file_mapped},
    StatKey{"total_dirty", &MemoryStat::file_dirty},
    StatKey{"total_writeback", &MemoryStat::file_writeback},
    StatKey{"total_rss_huge", &MemoryStat::anon_thp},
    StatKey{"total_inactive_anon", &MemoryStat::inactive_anon},
    StatKey{"total_active_anon", &MemoryStat::active_anon},
    StatKey{"total_inactive_file", &MemoryStat::inactive_file},
    StatKey{"total_active_file", &MemoryStat::active_file},
    StatKey{"total_unevictable", &MemoryStat::unevictable},
    StatKey{"total_swapcached", &MemoryStat::swapcached},
    StatKey{"hierarchical_memory_limit", &MemoryStat::hierarchical_memory_limit},
    StatKey{"hierarchical_memsw_limit", &MemoryStat::hierarchical_memsw_limit},
};

template <std::size_t N>
StatField find_stat_field(const std::array<StatKey, N>& keys, std::string_view key) {
    for (const auto& entry : keys)
        if (entry.key == key) return entry.field;
    return nullptr;
}

// "MAJ:MIN" → device numbers.
bool parse_device(std::string_view text, unsigned& major, unsigned& minor) {
    auto colon = text.find(':');
    if (colon == std::string_view::npos) return false;
    auto maj = parse_u64(text.substr(0, colon));
    auto min = parse_u64(text.substr(colon + 1));
    if (!maj || !min || *maj > 0xffffffffu || *min > 0xffffffffu) return false;
    if (text.substr(0, colon) != trim(text.substr(0, colon)) || text.substr(colon + 1) != trim(text.substr(colon + 1)))
        return false;
    major = static_cast<unsigned>(*maj);
    minor = static_cast<unsigned>(*min);
    return true;
}

DeviceIo& device_entry(std::vector<DeviceIo>& devices, unsigned major, unsigned minor) {
    for (auto& d : devices)
        if (d.major == major && d.minor == minor) return d;
    DeviceIo& d = devices.emplace_back();
    d.major = major;
    d.minor = minor;
    return d;
}

void sort_devices(std::vector<DeviceIo>& devices) {
    std::sort(devices.begin(), devices.end(), [](const DeviceIo& a, const DeviceIo& b) {
        return std::pair(a.major, a.minor) < std::pair(b.major, b.minor);
    });
}

enum class BlkioKind { ios, bytes, time_ns };

// One v1 blkio recursive file: "MAJ:MIN Op N" lines, then "Total N".
Result<void> add_blkio_file(std::vector<DeviceIo>& devices, std::string_view text, BlkioKind kind,
                            std::string_view file) {
    std::size_t line_no = 0;
    Result<void> result;
    for_each_line(text, [&](std::string_view line) {
        ++line_no;
        if (!result.ok() || trim(line).empty()) return;
        auto fields = split_fields(line);
        if (fields.size() == 2 && fields[0] == "Total" && parse_u64(fields[1])) return;
        unsigned major = 0, minor = 0;
        std::optional<uint64_t> value;
        if (fields.size() == 3) value = parse_u64(fields[2]);
        if (fields.size() != 3 || !parse_device(fields[0], major, minor) || !value) {
            result = invalid(line_ref(file, line_no) + ": " + excerpt(line) + " is not `MAJ:MIN Op N`");
            return;
        }
        std::string_view op = fields[1];
        bool is_read = op == "Read", is_write = op == "Write", is_discard = op == "Discard";
        if (!is_read && !is_write && !is_discard) return;  // Sync, Async, Total: derived sums
        DeviceIo& d = device_entry(devices, major, minor);
        switch (kind) {
            case BlkioKind::ios:
                (is_read ? d.read_ios : is_write ? d.write_ios : d.discard_ios) = *value;
                break;
            case BlkioKind::bytes:
                (is_read ? d.read_bytes : is_write ? d.write_bytes : d.discard_bytes) = *value;
                break;
            case BlkioKind::time_ns:
                if (is_read) d.read_ms = *value / 1'000'000;
                if (is_write) d.write_ms = *value / 1'000'000;
                break;
        }
    });
    return result;
}

}  // namespace

// ---- memory ---------------------------------------------------------------

Result<std::optional<uint64_t>> parse_memory_limit(std::string_view text) {
    std::string_view value = trim(text);
    if (value == "max") return std::optional<uint64_t>{};
    auto bytes = parse_u64(value);
    if (!bytes) return invalid("memory limit " + excerpt(value) + " is neither a number nor `max`");
    if (*bytes >= kV1Unlimited) return std::optional<uint64_t>{};
    return std::optional<uint64_t>{*bytes};
}

Result<uint64_t> parse_single_counter(std::string_view text) {
    auto value = parse_u64(text);
    if (!value) return invalid("counter " + excerpt(trim(text)) + " is not a non-negative number");
    return *value;
}

std::size_t memory_event_index(std::string_view name) {
    for (std::size_t i = 0; i < kMemoryEventCount; ++i)
        if (kMemoryEventNames[i] == name) return i;
    return kMemoryEventCount;
}

Result<MemoryStat> parse_memory_stat(std::string_view text, CgroupVersion version) {
    MemoryStat stat;
    std::size_t line_no = 0;
    std::optional<Error> error;
    for_each_line(text, [&](std::string_view line) {
        ++line_no;
        if (error || trim(line).empty()) return;
        std::string_view key, value_text;
        std::optional<uint64_t> value;
        if (split_key_value(line, key, value_text)) value = parse_stat_value(value_text);
        if (!value) {
            error = invalid(line_ref("memory.stat", line_no) + ": " + excerpt(line) + " is not `key number`");
            return;
        }
        StatField field = version == CgroupVersion::v2 ? find_stat_field(kV2StatKeys, key)
                                                       : find_stat_field(kV1StatKeys, key);
        if (!field) {
            // v1 prints each event twice; the total_ one includes descendants, like v2's.
            if (version == CgroupVersion::v1 && !key.starts_with("total_")) return;
            if (version == CgroupVersion::v1) key.remove_prefix(6);
            if (auto i = memory_event_index(key); i < kMemoryEventCount) stat.events[i] = value;
            return;
        }
        if ((field == &MemoryStat::hierarchical_memory_limit || field == &MemoryStat::hierarchical_memsw_limit) &&
            *value >= kV1Unlimited)
            return;
        stat.*field = value;
    });
    if (error) return *error;
    return stat;
}

// ---- cpu ------------------------------------------------------------------

Result<std::optional<CpuQuota>> parse_cpu_max(std::string_view text) {
    auto fields = split_fields(trim(text));
    if (fields.empty() || fields.size() > 2) return invalid("cpu.max " + excerpt(trim(text)) + " is not `QUOTA PERIOD`");
    std::optional<uint64_t> period;
    if (fields.size() == 2) {
        period = parse_u64(fields[1]);
        if (!period || *period == 0) return invalid("cpu.max " + excerpt(trim(text)) + ": bad period");
    }
    if (fields[0] == "max") return std::optional<CpuQuota>{};
    auto quota = parse_u64(fields[0]);
    if (!quota || !period) return invalid("cpu.max " + excerpt(trim(text)) + " is not `QUOTA PERIOD`");
    return std::optional<CpuQuota>{CpuQuota{*quota, *period}};
}

Result<std::optional<CpuQuota>> parse_cfs_quota(std::string_view quota_text, std::string_view period_text) {
    auto quota = parse_i64(quota_text);
    if (!quota || (*quota < 0 && *quota != -1))
        return invalid("cpu.cfs_quota_us " + excerpt(trim(quota_text)) + " is neither -1 nor a number of microseconds");
    if (*quota == -1) return std::optional<CpuQuota>{};
    auto period = parse_u64(period_text);
    if (!period || *period == 0)
        return invalid("cpu.cfs_period_us " + excerpt(trim(period_text)) + " is not a positive number");
    return std::optional<CpuQuota>{CpuQuota{static_cast<uint64_t>(*quota), *period}};
}

Result<CpuUsage> parse_cpu_stat_usage(std::string_view text) {
    std::optional<uint64_t> usage, user, system;
    std::size_t line_no = 0;
    std::optional<Error> error;
    for_each_line(text, [&](std::string_view line) {
        ++line_no;
        if (error || trim(line).empty()) return;
        std::string_view key, value_text;
        std::optional<uint64_t> value;
        if (split_key_value(line, key, value_text)) value = parse_u64(value_text);
        if (!value) {
            error = invalid(line_ref("cpu.stat", line_no) + ": " + excerpt(line) + " is not `key number`");
            return;
        }
        if (key == "usage_usec") usage = value;
        else if (key == "user_usec") user = value;
        else if (key == "system_usec") system = value;
    });
    if (error) return *error;
    constexpr uint64_t kNsPerUs = 1000;
    if (user && system) return CpuUsage{*user * kNsPerUs, *system * kNsPerUs};
    if (usage) return CpuUsage{*usage * kNsPerUs, 0};
    return invalid("cpu.stat has neither user_usec/system_usec nor usage_usec");
}

Result<std::vector<CpuUsage>> parse_cpuacct_usage_all(std::string_view text) {
    std::vector<CpuUsage> per_cpu;
    std::size_t line_no = 0;
    std::optional<Error> error;
    for_each_line(text, [&](std::string_view line) {
        ++line_no;
        if (error || trim(line).empty()) return;
        auto fields = split_fields(line);
        if (line_no == 1) {
            if (fields.size() != 3 || fields[0] != "cpu" || fields[1] != "user" || fields[2] != "system")
                error = invalid(line_ref("cpuacct.usage_all", 1) + ": expected header `cpu user system`, got " +
                                excerpt(line));
            return;
        }
        std::optional<uint64_t> cpu, user, system;
        if (fields.size() == 3) {
            cpu = parse_u64(fields[0]);
            user = parse_u64(fields[1]);
            system = parse_u64(fields[2]);
        }
        if (!cpu || !user || !system || *cpu > 65535) {
            error = invalid(line_ref("cpuacct.usage_all", line_no) + ": " + excerpt(line) + " is not `CPU USER SYSTEM`");
            return;
        }
        if (per_cpu.size() <= *cpu) per_cpu.resize(*cpu + 1);
        per_cpu[*cpu] = CpuUsage{*user, *system};
    });
    if (error) return *error;
    if (line_no == 0) return invalid("cpuacct.usage_all is empty");
    return per_cpu;
}

// ---- io -------------------------------------------------------------------

Result<std::vector<DeviceIo>> parse_io_stat(std::string_view text) {
    std::vector<DeviceIo> devices;
    std::size_t line_no = 0;
    std::optional<Error> error;
    for_each_line(text, [&](std::string_view line) {
        ++line_no;
        if (error || trim(line).empty()) return;
        auto fields = split_fields(line);
        DeviceIo d;
        if (!parse_device(fields[0], d.major, d.minor)) {
            error = invalid(line_ref("io.stat", line_no) + ": " + excerpt(line) + " does not start with `MAJ:MIN`");
            return;
        }
        for (std::size_t i = 1; i < fields.size(); ++i) {
            auto eq = fields[i].find('=');
            std::optional<uint64_t> value;
            if (eq != std::string_view::npos) value = parse_u64(fields[i].substr(eq + 1));
            if (!value) {
                // Newer kernels add non-numeric keys (e.g. cost.*); only the counters we use must be numbers.
                std::string_view key = fields[i].substr(0, eq);
                if (key == "rbytes" || key == "wbytes" || key == "rios" || key == "wios" || key == "dbytes" ||
                    key == "dios" || eq == std::string_view::npos) {
                    error = invalid(line_ref("io.stat", line_no) + ": " + excerpt(fields[i]) + " is not `key=number`");
                    return;
                }
                continue;
            }
            std::string_view key = fields[i].substr(0, eq);
            if (key == "rbytes") d.read_bytes = *value;
            else if (key == "wbytes") d.write_bytes = *value;
            else if (key == "rios") d.read_ios = *value;
            else if (key == "wios") d.write_ios = *value;
            else if (key == "dbytes") d.discard_bytes = *value;
            else if (key == "dios") d.discard_ios = *value;
        }
        devices.push_back(d);
    });
    if (error) return *error;
    sort_devices(devices);
    return devices;
}

Result<std::vector<DeviceIo>> parse_blkio(std::string_view serviced, std::string_view service_bytes,
                                          std::optional<std::string_view> service_time_ns) {
    std::vector<DeviceIo> devices;
    if (auto r = add_blkio_file(devices, serviced, BlkioKind::ios, "blkio.throttle.io_serviced_recursive"); !r)
        return r.error();
    if (auto r = add_blkio_file(devices, service_bytes, BlkioKind::bytes, "blkio.throttle.io_service_bytes_recursive");
        !r)
        return r.error();
    if (service_time_ns) {
        if (auto r = add_blkio_file(devices, *service_time_ns, BlkioKind::time_ns, "blkio.io_service_time_recursive");
            !r)
            return r.error();
    }
    sort_devices(devices);
    return devices;
}

// ---- membership -------------------------------------------------------------

Result<CgroupMembership> parse_proc_pid_cgroup(std::string_view text) {
    CgroupMembership membership;
    std::size_t line_no = 0;
    std::optional<Error> error;
    for_each_line(text, [&](std::string_view line) {
        ++line_no;
        if (error || line.empty()) return;
        // "ID:controllers:path"; the path itself may contain ':'.
        auto c1 = line.find(':');
        auto c2 = c1 == std::string_view::npos ? c1 : line.find(':', c1 + 1);
        std::optional<uint64_t> id;
        if (c2 != std::string_view::npos) id = parse_u64(line.substr(0, c1));
        std::string_view path = c2 == std::string_view::npos ? std::string_view{} : line.substr(c2 + 1);
        if (!id || path.empty()) {
            error = invalid(line_ref("/proc/<pid>/cgroup", line_no) + ": " + excerpt(line) + " is not `ID:CONTROLLERS:PATH`");
            return;
        }
        std::string_view controllers = line.substr(c1 + 1, c2 - c1 - 1);
        if (*id == 0 && controllers.empty()) {
            membership.unified = std::string(path);
            return;
        }
        while (!controllers.empty()) {
            auto comma = controllers.find(',');
            std::string_view name = controllers.substr(0, comma);
            if (!name.empty()) membership.controllers.insert_or_assign(std::string(name), std::string(path));
            if (comma == std::string_view::npos) break;
            controllers.remove_prefix(comma + 1);
        }
    });
    if (error) return *error;
    return membership;
}

std::string strip_init_scope(std::string_view path) {
    constexpr std::string_view kSuffix = "/init.scope";
    if (path.size() >= kSuffix.size() && path.substr(path.size() - kSuffix.size()) == kSuffix) {
        path.remove_suffix(kSuffix.size());
        if (path.empty()) return "/";
    }
    return std::string(path);
}

// ---- processes ------------------------------------------------------------

Result<ProcStat> parse_proc_pid_stat(std::string_view text) {
    auto open = text.find('(');
    auto close = text.rfind(')');
    if (open == std::string_view::npos || close == std::string_view::npos || close < open)
        return invalid("/proc/<pid>/stat " + excerpt(text) + " has no `(comm)`");
    auto pid = parse_i64(text.substr(0, open));
    // Fields after the comm, numbered from field 3 (state).
    auto fields = split_fields(trim(text.substr(close + 1)));
    constexpr std::size_t kState = 0, kPpid = 1, kNumThreads = 17, kStartTime = 19;
    if (!pid || *pid <= 0 || fields.size() <= kStartTime || fields[kState].size() != 1)
        return invalid("/proc/<pid>/stat " + excerpt(text) + " is malformed");
    auto ppid = parse_i64(fields[kPpid]);
    auto threads = parse_u64(fields[kNumThreads]);
    auto start = parse_u64(fields[kStartTime]);
    if (!ppid || *ppid < 0 || !threads || !start) return invalid("/proc/<pid>/stat " + excerpt(text) + " is malformed");
    ProcStat stat;
    stat.pid = static_cast<pid_t>(*pid);
    stat.state = fields[kState][0];
    stat.ppid = static_cast<pid_t>(*ppid);
    stat.num_threads = *threads;
    stat.start_ticks = *start;
    return stat;
}

Result<std::vector<pid_t>> parse_status_nspid(std::string_view status_text) {
    constexpr std::string_view kKey = "NSpid:";
    std::optional<std::string_view> found;
    for_each_line(status_text, [&](std::string_view line) {
        if (!found && line.substr(0, kKey.size()) == kKey) found = line.substr(kKey.size());
    });
    if (!found) return invalid("/proc/<pid>/status has no NSpid line");
    std::vector<pid_t> pids;
    for (auto field : split_fields(*found)) {
        auto pid = parse_u64(field);
        if (!pid || *pid == 0 || *pid > 0x7fffffff)
            return invalid("/proc/<pid>/status: NSpid " + excerpt(trim(*found)) + " is not a list of pids");
        pids.push_back(static_cast<pid_t>(*pid));
    }
    if (pids.empty()) return invalid("/proc/<pid>/status: NSpid line is empty");
    return pids;
}

Result<pid_t> parse_status_tgid(std::string_view status_text) {
    constexpr std::string_view kKey = "Tgid:";
    std::optional<std::string_view> found;
    for_each_line(status_text, [&](std::string_view line) {
        if (!found && line.substr(0, kKey.size()) == kKey) found = line.substr(kKey.size());
    });
    if (!found) return invalid("/proc/<pid>/status has no Tgid line");
    auto pid = parse_u64(trim(*found));
    if (!pid || *pid == 0 || *pid > 0x7fffffff)
        return invalid("/proc/<pid>/status: Tgid " + excerpt(trim(*found)) + " is not a pid");
    return static_cast<pid_t>(*pid);
}

Result<std::vector<uint64_t>> parse_cpuacct_usage_percpu(std::string_view text) {
    std::vector<uint64_t> out;
    for (auto field : split_fields(trim(text))) {
        auto v = parse_u64(field);
        if (!v) return invalid("cpuacct.usage_percpu: `" + std::string(field) + "` is not a number");
        out.push_back(*v);
    }
    return out;
}

}  // namespace procview
