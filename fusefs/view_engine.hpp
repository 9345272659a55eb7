// Renders each served file for a reader: the glue between the I/O edge
// (cgroup dirs, host files) and the pure renderers in core/.
//
// Failure policy: when a container's cgroup file cannot be read, the part of
// the view that needs it falls back to the host's value, logged once per
// container; a render never fails because of the container (only when the
// host's own file cannot be read either).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

#include "core/catalog.hpp"
#include "core/result.hpp"
#include "core/views.hpp"
#include "fusefs/cgroup_gather.hpp"
#include "fusefs/change_watch.hpp"
#include "fusefs/container.hpp"
#include "fusefs/host_files.hpp"
#include "fusefs/stat_records.hpp"

namespace procview {

struct ViewOptions {
    bool swap = true;
    bool loadavg = true;
    bool cpu_quota = true;
};

class ViewEngine {
public:
    // limit_changes: the layout's ChangeWatch (nullptr: limits are read every time).
    ViewEngine(HostFiles& host, std::shared_ptr<ChangeWatch> limit_changes, ViewOptions options,
               std::shared_ptr<spdlog::logger> log);

    // container == nullptr: the host's file, unchanged.
    Result<std::string> render(ProcFile file, Container* container);
    // Whether proc/pressure/* exists for this reader (a non-root v2 cgroup with the file).
    bool has_pressure(Container* container);
    // The CPU view of a container (nullptr: the host's online CPUs).
    Result<CpuView> cpu_view(Container* container);
    // online / present / possible / offline of the cpu sysfs directory, for a container.
    Result<std::string> render_cpu_list(std::string_view name, Container& container);

    // What sysinfo(2) should tell the container: the numbers its meminfo,
    // loadavg and uptime show now (a part that falls back to the host's file
    // there is the host's here too). Errors only when the host's own meminfo
    // is unreadable.
    Result<SysinfoInputs> sysinfo_inputs(Container& container);

    // Takes one load sample of the container's cgroup (the sampler thread,
    // every 5 s), unless another view of that cgroup took one in the last 2.5 s.
    void sample_load(Container& container);

    // Keep each container's /proc/stat baseline and capacity integral in
    // `records` (nullptr: in memory only), so a restarted daemon continues
    // the counters (stat_records.hpp). Set before serving.
    void keep_stat_records(StatRecordStore* records) { records_ = records; }
    // Drops the records of containers that exited (the sampler thread).
    void prune_stat_records();

    [[nodiscard]] const ViewOptions& options() const { return options_; }

private:
    // The container's load (its cgroup's, shared), taken under its lock.
    static std::shared_ptr<SharedLoad> load_of(Container& c);
    Result<std::string> meminfo_or_swaps(ProcFile file, Container& c);
    Result<std::string> cpuinfo(Container& c);
    Result<std::string> stat_or_uptime(ProcFile file, Container& c);
    Result<std::string> loadavg(Container& c);
    Result<std::string> diskstats(Container& c);
    Result<std::string> vmstat(Container& c);
    // The cgroup's block I/O (io.stat | blkio), nullopt when unreadable. Needs c.mu held.
    std::optional<std::vector<DeviceIo>> block_io_locked(Container& c);
    Result<std::string> pressure(ProcFile file, Container& c);
    // Drains the limit files' write events: once per view, before any of its
    // cgroup reads, so kept limits are fresh for that view (change_watch.hpp).
    void refresh_limits();
    Result<CpuView> container_cpu_view(Container& c);
    // Both need c.mu held.
    CpuView cpu_view_locked(Container& c, const CpuSet& online);
    std::optional<MemoryFacts> memory_facts_locked(Container& c);
    Result<std::string> host_file(ProcFile file);
    // /proc/stat's accounting, with c.mu held: the cgroup's usage (false if
    // unreadable), then capacity_seconds set and the usage that predates the
    // container taken away (its baseline, taken at first sight or read back).
    // v1: acct's usage per host CPU and in total from the container's split
    // (core/cpu_split.hpp); true when its anchors changed and must be saved
    // before anything computed from them is shown. v2: the kernel's split.
    bool split_usage(Container& c, CpuAccounting& acct, const CgroupCpuUsage& usage);
    void account_for_baseline(Container& c, CpuAccounting& acct, const CgroupCpuUsage& usage, double capacity);
    // No counter below what was shown, by this daemon (memory) or, once the
    // container has a stat record, by any before it (counter_floor.hpp).
    void apply_counter_floor(Container& c, std::vector<CpuTimes>& times);
    std::optional<StatRecordKey> stat_record_key(const Container& c) const;

    HostFiles& host_;
    std::shared_ptr<ChangeWatch> limit_changes_;
    ViewOptions options_;
    std::shared_ptr<spdlog::logger> log_;
    UniqueFd proc_;  // the real /proc (task states for the load sampler)
    StatRecordStore* records_ = nullptr;
};

// The file's path below proc/ ("meminfo", "pressure/cpu"), from the catalog.
std::string_view proc_file_name(ProcFile file);

}  // namespace procview
