// Gatherers: the I/O step of every view. Each reads the logical cgroup files
// a view needs (core/cgroup_file_table.hpp names them for the hierarchy's
// version) and returns the core's value struct, so the view engine is
// gather (here) → compute (core/, pure) → render (core/, pure).
//
// They take CgroupDirs, which read through held directory fds: pointed at a
// fixture tree (tests/fixtures/v{1,2}/cgroup) they run without FUSE or root
// (tests/unit/cgroup_gather_test.cpp). None locks anything: the caller holds
// the container's lock (CgroupDir is not thread-safe).
#pragma once

#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/cgroup_file_table.hpp"
#include "core/cpu_split.hpp"
#include "core/views.hpp"
#include "fusefs/cgroup_dir.hpp"

namespace procview {

// The texts read for one view; the gathered structs' string_views point into
// it, so it must outlive them. Elements never move (a deque).
class CgroupTexts {
public:
    std::string& next() { return texts_.emplace_back(); }

private:
    std::deque<std::string> texts_;
};

// `file` of `dir` (or its depth-th ancestor) into `texts`; nullopt when dir is
// null, the version has no such file, or it cannot be read.
std::optional<std::string_view> read_text(CgroupDir* dir, CgroupFile file, CgroupTexts& texts, std::size_t depth = 0);

// memory.stat, usage, swap usage, v1's swappiness, and the limits of the
// cgroup and its ancestors (v2; v1's memory.stat folds them already).
MemoryFiles gather_memory(CgroupDir& dir, CgroupTexts& texts);

// The effective cpuset (when `cpuset`) and, when `cpu` and `with_quota`, the
// quota files of the cgroup and its ancestors.
CpuFiles gather_cpu(CgroupDir* cpuset, CgroupDir* cpu, bool with_quota, CgroupTexts& texts);

// The cgroup's CPU usage as its files give it: v2 cpu.stat, split between
// user and system by the kernel; v1 cpuacct per host CPU, exact totals
// (usage_percpu, when readable) with usage_all's tick-sampled split, for the
// engine to split (core/cpu_split.hpp).
struct CgroupCpuUsage {
    CpuUsage total;                                   // v2
    std::optional<std::vector<CpuSample>> per_host_cpu;  // v1
};
// nullopt when unreadable or garbage.
std::optional<CgroupCpuUsage> gather_cpu_usage(CgroupDir* cpu, CgroupDir* cpuacct);

// Block I/O per device: v2 io.stat, v1 blkio's recursive throttle counters.
std::optional<std::vector<DeviceIo>> gather_block_io(CgroupDir* blkio);

// The task list (one tid a line): v2 cgroup.threads of a non-root unified
// cgroup, else v1 `tasks` of the first of pids, cpu, memory that reads.
std::optional<std::string> gather_task_list(CgroupDir* unified, std::initializer_list<CgroupDir*> v1_dirs);

}  // namespace procview
