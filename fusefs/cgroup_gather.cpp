// Gatherers: logical cgroup files in, core's value structs out.
#include "fusefs/cgroup_gather.hpp"

namespace procview {

std::optional<std::string_view> read_text(CgroupDir* dir, CgroupFile file, CgroupTexts& texts, std::size_t depth) {
    if (!dir) return std::nullopt;
    std::string_view name = cgroup_file_name(file, dir->version());
    if (name.empty()) return std::nullopt;
    std::string& buf = texts.next();
    if (!dir->read(name, buf, depth)) return std::nullopt;
    return std::string_view(buf);
}

MemoryFiles gather_memory(CgroupDir& dir, CgroupTexts& texts) {
    const bool v2 = dir.version() == CgroupVersion::v2;
    MemoryFiles files;
    files.version = dir.version();
    files.stat = read_text(&dir, CgroupFile::memory_stat, texts);
    files.usage = read_text(&dir, CgroupFile::memory_usage, texts);
    files.swap_usage = read_text(&dir, CgroupFile::memory_swap_usage, texts);
    files.swappiness = read_text(&dir, CgroupFile::memory_swappiness, texts);
    // v1's memory.stat already carries the limits folded over the ancestors.
    std::size_t levels = v2 ? dir.levels() : std::min<std::size_t>(1, dir.levels());
    for (std::size_t d = 0; d < levels; ++d) {
        files.limits.push_back(read_text(&dir, CgroupFile::memory_limit, texts, d));
        files.swap_limits.push_back(read_text(&dir, CgroupFile::memory_swap_limit, texts, d));
    }
    return files;
}

CpuFiles gather_cpu(CgroupDir* cpuset, CgroupDir* cpu, bool with_quota, CgroupTexts& texts) {
    CpuFiles files;
    if (cpuset) {
        files.version = cpuset->version();
        files.effective_cpus = read_text(cpuset, CgroupFile::cpuset_cpus, texts);
    }
    if (cpu && with_quota) {
        files.version = cpu->version();
        for (std::size_t d = 0; d < cpu->levels(); ++d) {
            if (cpu->version() == CgroupVersion::v2) {
                files.cpu_max.push_back(read_text(cpu, CgroupFile::cpu_max, texts, d));
            } else {
                files.cfs_quota.push_back(read_text(cpu, CgroupFile::cfs_quota, texts, d));
                files.cfs_period.push_back(read_text(cpu, CgroupFile::cfs_period, texts, d));
            }
        }
    }
    return files;
}

std::optional<CgroupCpuUsage> gather_cpu_usage(CgroupDir* cpu, CgroupDir* cpuacct) {
    CgroupTexts texts;
    CgroupCpuUsage acct;
    if (cpu && cpu->version() == CgroupVersion::v2) {
        auto text = read_text(cpu, CgroupFile::cpu_stat, texts);
        auto usage = text ? parse_cpu_stat_usage(*text) : Result<CpuUsage>(invalid("cpu.stat unreadable"));
        if (!usage) return std::nullopt;
        acct.total = *usage;
        return acct;
    }
    auto text = read_text(cpuacct, CgroupFile::cpuacct_usage_all, texts);
    if (!text) return std::nullopt;
    auto ticks = parse_cpuacct_usage_all(*text);
    if (!ticks) return std::nullopt;
    std::vector<uint64_t> exact;
    if (auto percpu = read_text(cpuacct, CgroupFile::cpuacct_usage_percpu, texts))
        if (auto ns = parse_cpuacct_usage_percpu(*percpu)) exact = std::move(*ns);
    acct.per_host_cpu = cpuacct_samples(*ticks, exact);
    return acct;
}

std::optional<std::vector<DeviceIo>> gather_block_io(CgroupDir* blkio) {
    if (!blkio) return std::nullopt;
    CgroupTexts texts;
    if (blkio->version() == CgroupVersion::v2) {
        auto text = read_text(blkio, CgroupFile::io_stat, texts);
        auto parsed = text ? parse_io_stat(*text) : Result<std::vector<DeviceIo>>(invalid("io.stat unreadable"));
        if (!parsed) return std::nullopt;
        return std::move(*parsed);
    }
    auto serviced = read_text(blkio, CgroupFile::blkio_serviced, texts);
    auto bytes = read_text(blkio, CgroupFile::blkio_bytes, texts);
    auto time = read_text(blkio, CgroupFile::blkio_time, texts);
    if (!serviced || !bytes) return std::nullopt;
    auto parsed = parse_blkio(*serviced, *bytes, time);
    if (!parsed) return std::nullopt;
    return std::move(*parsed);
}

std::optional<std::string> gather_task_list(CgroupDir* unified, std::initializer_list<CgroupDir*> v1_dirs) {
    std::string tasks;
    if (unified && unified->version() == CgroupVersion::v2 && !unified->is_root() &&
        unified->read(cgroup_file_name(CgroupFile::task_list, CgroupVersion::v2), tasks))
        return tasks;
    for (CgroupDir* v1 : v1_dirs)
        if (v1 && v1->version() == CgroupVersion::v1 && v1->read(cgroup_file_name(CgroupFile::task_list, CgroupVersion::v1), tasks))
            return tasks;
    return std::nullopt;
}

}  // namespace procview
