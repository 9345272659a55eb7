// Fuzz targets for the cgroup file parsers (core/cgroup_files.hpp) and
// CpuSet::parse: files a container can influence (its own cgroup's
// counters, names and paths) and that the daemon parses on every read.
#include <algorithm>

#include "core/cgroup_files.hpp"
#include "core/cpuset.hpp"
#include "fuzz_input.hpp"
#include "fuzz_targets.hpp"

namespace procview::fuzz {

// memory.stat, as v2 when the first byte is even, as v1 otherwise.
int fuzz_cgroup_memory_stat(const uint8_t* data, std::size_t size) {
    auto text = as_text(data, size);
    auto version = take_flags(text) & 1 ? CgroupVersion::v1 : CgroupVersion::v2;
    (void)parse_memory_stat(text, version);
    return 0;
}

// The one-value files: memory.max / limit_in_bytes, counters, cpu.max, and
// the cfs_quota_us / cfs_period_us pair (two parts).
int fuzz_cgroup_scalars(const uint8_t* data, std::size_t size) {
    auto text = as_text(data, size);
    // "Unlimited" is nullopt, never a huge number that would leak into MemTotal.
    if (auto limit = parse_memory_limit(text); limit && *limit) FUZZ_CHECK(**limit < (uint64_t{1} << 62));
    (void)parse_single_counter(text);
    if (auto quota = parse_cpu_max(text); quota && *quota) FUZZ_CHECK((*quota)->period_us > 0);
    auto parts = split_parts(text, 2);
    if (auto quota = parse_cfs_quota(parts[0].value_or(""), parts[1].value_or("")); quota && *quota)
        FUZZ_CHECK((*quota)->period_us > 0);
    return 0;
}

// cpu.stat (v2) and cpuacct.usage_all (v1).
int fuzz_cgroup_cpu_usage(const uint8_t* data, std::size_t size) {
    auto text = as_text(data, size);
    (void)parse_cpu_stat_usage(text);
    if (auto per_cpu = parse_cpuacct_usage_all(text)) FUZZ_CHECK(per_cpu->size() <= 65536);
    return 0;
}

// io.stat (whole input) and blkio serviced / service_bytes / service_time (three parts).
int fuzz_cgroup_io(const uint8_t* data, std::size_t size) {
    auto text = as_text(data, size);
    auto sorted = [](const std::vector<DeviceIo>& io) {
        return std::is_sorted(io.begin(), io.end(), [](const DeviceIo& a, const DeviceIo& b) {
            return a.major != b.major ? a.major < b.major : a.minor < b.minor;
        });
    };
    if (auto io = parse_io_stat(text)) FUZZ_CHECK(sorted(*io));
    auto parts = split_parts(text, 3);
    if (auto io = parse_blkio(parts[0].value_or(""), parts[1].value_or(""), parts[2])) FUZZ_CHECK(sorted(*io));
    return 0;
}

// /proc/<pid>/cgroup, /proc/<pid>/stat and the NSpid line of /proc/<pid>/status:
// a process picks its own comm, and its cgroup path is named by whoever made it.
int fuzz_proc_pid(const uint8_t* data, std::size_t size) {
    auto text = as_text(data, size);
    if (auto membership = parse_proc_pid_cgroup(text)) {
        auto check_stripped = [](const std::string& path) {
            std::string stripped = strip_init_scope(path);
            FUZZ_CHECK(stripped.size() <= path.size());
            FUZZ_CHECK(path.empty() || !stripped.empty());
        };
        if (membership->unified) check_stripped(*membership->unified);
        for (const auto& [controller, path] : membership->controllers) check_stripped(path);
    }
    (void)parse_proc_pid_stat(text);
    if (auto nspid = parse_status_nspid(text)) FUZZ_CHECK(!nspid->empty());
    return 0;
}

// cpuset.cpus.effective, /sys/devices/system/cpu/online: what parses must
// print back to the same set, and set operations stay within their inputs.
int fuzz_cpuset(const uint8_t* data, std::size_t size) {
    auto text = as_text(data, size);
    auto parts = split_parts(text, 2);
    auto a = CpuSet::parse(parts[0].value_or(""));
    if (!a) return 0;
    FUZZ_CHECK(std::is_sorted(a->cpus().begin(), a->cpus().end()));
    FUZZ_CHECK(std::adjacent_find(a->cpus().begin(), a->cpus().end()) == a->cpus().end());
    auto again = CpuSet::parse(a->to_ranges());
    FUZZ_CHECK(again && *again == *a);
    if (!parts[1]) return 0;
    auto b = CpuSet::parse(*parts[1]);
    if (!b) return 0;
    CpuSet both = a->intersect(*b);
    FUZZ_CHECK(both.size() <= std::min(a->size(), b->size()));
    for (unsigned cpu : both.cpus()) FUZZ_CHECK(a->contains(cpu) && b->contains(cpu));
    CpuSet head = a->first(b->size());
    FUZZ_CHECK(head.size() == std::min(a->size(), b->size()));
    return 0;
}

}  // namespace procview::fuzz
