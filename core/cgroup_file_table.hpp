// The logical cgroup files procview reads: one row each, with its v1 and v2
// names and its kind. The I/O edge (fusefs/cgroup_gather.cpp) asks for a
// logical file and gets the name for the hierarchy's version; the cache
// (fusefs/change_watch, cgroup_dir) asks which kind a file is.
//
// To read a new cgroup file: add a row here, read it in a gatherer
// (fusefs/cgroup_gather.cpp) into a core value struct (core/views.hpp), and
// test the gatherer on the fixture trees (tests/unit/cgroup_gather_test.cpp).
#pragma once

#include <optional>
#include <string_view>

#include "cgroup_files.hpp"

namespace procview {

enum class CgroupFileKind {
    limit,      // changes only when written (kept until inotify sees a write: change_watch.hpp)
    counter,    // changes on its own (usage, statistics, cpuset's effective list, pressure): read every time
    task_list,  // one record per task; read to the end, not one record (cgroup_dir.cpp)
};

enum class CgroupFile {
    memory_stat, memory_usage, memory_swap_usage, memory_limit, memory_swap_limit, memory_swappiness,
    cpuset_cpus, cpu_max, cfs_quota, cfs_period, cpu_stat, cpuacct_usage_all, cpuacct_usage_percpu,
    io_stat, blkio_serviced, blkio_bytes, blkio_time,
    task_list, process_list, cpu_pressure, memory_pressure, io_pressure,
};

struct CgroupFileRow {
    CgroupFile file;
    std::string_view v1;  // "" = v1 has no such file
    std::string_view v2;  // "" = v2 has no such file
    CgroupFileKind kind;
};

inline constexpr CgroupFileRow kCgroupFiles[] = {
    {CgroupFile::memory_stat, "memory.stat", "memory.stat", CgroupFileKind::counter},
    {CgroupFile::memory_usage, "memory.usage_in_bytes", "memory.current", CgroupFileKind::counter},
    // v1's memsw files count memory + swap; v2's swap alone (core/memory_view.cpp).
    {CgroupFile::memory_swap_usage, "memory.memsw.usage_in_bytes", "memory.swap.current", CgroupFileKind::counter},
    {CgroupFile::memory_limit, "memory.limit_in_bytes", "memory.max", CgroupFileKind::limit},
    {CgroupFile::memory_swap_limit, "memory.memsw.limit_in_bytes", "memory.swap.max", CgroupFileKind::limit},
    {CgroupFile::memory_swappiness, "memory.swappiness", "", CgroupFileKind::limit},
    // A parent's write or CPU hotplug changes it without a write to the file itself.
    {CgroupFile::cpuset_cpus, "cpuset.effective_cpus", "cpuset.cpus.effective", CgroupFileKind::counter},
    {CgroupFile::cpu_max, "", "cpu.max", CgroupFileKind::limit},
    {CgroupFile::cfs_quota, "cpu.cfs_quota_us", "", CgroupFileKind::limit},
    {CgroupFile::cfs_period, "cpu.cfs_period_us", "", CgroupFileKind::limit},
    {CgroupFile::cpu_stat, "", "cpu.stat", CgroupFileKind::counter},
    {CgroupFile::cpuacct_usage_all, "cpuacct.usage_all", "", CgroupFileKind::counter},
    {CgroupFile::cpuacct_usage_percpu, "cpuacct.usage_percpu", "", CgroupFileKind::counter},
    {CgroupFile::io_stat, "", "io.stat", CgroupFileKind::counter},
    {CgroupFile::blkio_serviced, "blkio.throttle.io_serviced_recursive", "", CgroupFileKind::counter},
    {CgroupFile::blkio_bytes, "blkio.throttle.io_service_bytes_recursive", "", CgroupFileKind::counter},
    {CgroupFile::blkio_time, "blkio.io_service_time_recursive", "", CgroupFileKind::counter},
    {CgroupFile::task_list, "tasks", "cgroup.threads", CgroupFileKind::task_list},
    {CgroupFile::process_list, "cgroup.procs", "cgroup.procs", CgroupFileKind::task_list},
    {CgroupFile::cpu_pressure, "", "cpu.pressure", CgroupFileKind::counter},
    {CgroupFile::memory_pressure, "", "memory.pressure", CgroupFileKind::counter},
    {CgroupFile::io_pressure, "", "io.pressure", CgroupFileKind::counter},
};

// The file's name in a hierarchy of `version`; "" when that version has none.
constexpr std::string_view cgroup_file_name(CgroupFile file, CgroupVersion version) {
    for (const auto& row : kCgroupFiles)
        if (row.file == file) return version == CgroupVersion::v1 ? row.v1 : row.v2;
    return {};
}

// The kind of the file named `name` (either version's name); nullopt for a
// file not in the table (read every time, one record).
constexpr std::optional<CgroupFileKind> cgroup_file_kind(std::string_view name) {
    if (name.empty()) return std::nullopt;
    for (const auto& row : kCgroupFiles)
        if (row.v1 == name || row.v2 == name) return row.kind;
    return std::nullopt;
}

}  // namespace procview
