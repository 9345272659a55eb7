// The host's procfs and sysfs files that views are built on, parsed and kept
// for a short time: the host's cpuinfo, disk names and online CPUs hardly
// change, and meminfo's and stat's host-only lines need not be re-read and
// re-parsed on every one of thousands of reads per second.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include <spdlog/spdlog.h>
#include <string_view>
#include <vector>

#include "core/cpuset.hpp"
#include "core/proc_files.hpp"
#include "core/result.hpp"
#include "platform/unique_fd.hpp"

namespace procview {

// Time-limited cache of one parsed value. Thread-safe; the parse runs under
// the lock so concurrent readers do it once.
template <class T>
class TtlCache {
public:
    explicit TtlCache(std::chrono::milliseconds ttl) : ttl_(ttl) {}
    template <class Load>  // Load: () -> Result<T>
    Result<std::shared_ptr<const T>> get(Load&& load) {
        auto now = std::chrono::steady_clock::now();
        std::lock_guard lock(mu_);
        if (value_ && now < expires_) return value_;
        auto fresh = load();
        if (!fresh) {
            if (value_) return value_;  // keep serving the last good value
            return fresh.error();
        }
        value_ = std::make_shared<const T>(std::move(*fresh));
        expires_ = now + ttl_;
        return value_;
    }

private:
    std::chrono::milliseconds ttl_;
    std::mutex mu_;
    std::shared_ptr<const T> value_;
    std::chrono::steady_clock::time_point expires_{};
};

class HostFiles {
public:
    // proc_root: where meminfo, cpuinfo, stat, diskstats, uptime… are read
    // ("/proc", or a fixture tree). sys_cpu_root: /sys/devices/system/cpu.
    // A host file that cannot be read or parsed is logged once until it reads
    // again; meanwhile its last good copy is served, or reads of it fail.
    static Result<std::unique_ptr<HostFiles>> open(const std::string& proc_root, const std::string& sys_cpu_root,
                                                   std::shared_ptr<spdlog::logger> log);

    // The host's /proc/<name> as it is now (host readers get this unchanged).
    Result<std::string> read_proc(const std::string& name) const;

    Result<std::shared_ptr<const std::vector<MeminfoLine>>> meminfo();
    Result<std::shared_ptr<const HostCpuinfo>> cpuinfo();
    Result<std::shared_ptr<const HostStat>> stat();
    Result<std::shared_ptr<const std::vector<VmstatLine>>> vmstat();
    Result<std::shared_ptr<const std::vector<DiskName>>> disk_names();
    Result<std::shared_ptr<const CpuSet>> online_cpus();
    // Seconds since boot (CLOCK_BOOTTIME, or the fixture's uptime file).
    double uptime_seconds() const;

    [[nodiscard]] int proc_fd() const { return proc_fd_.get(); }
    [[nodiscard]] int sys_cpu_fd() const { return sys_cpu_fd_.get(); }
    [[nodiscard]] const std::string& sys_cpu_root() const { return sys_cpu_root_; }

private:
    HostFiles() = default;
    // Wraps a loader so a failure is logged once per broken episode.
    template <class T, class Load>
    Result<T> watched(const char* name, Load&& load);

    std::shared_ptr<spdlog::logger> log_;
    std::mutex broken_mu_;
    std::set<std::string> broken_;
    UniqueFd proc_fd_;
    UniqueFd sys_cpu_fd_;
    std::string sys_cpu_root_;
    bool real_proc_ = true;
    TtlCache<std::vector<MeminfoLine>> meminfo_{std::chrono::milliseconds(1000)};
    TtlCache<HostCpuinfo> cpuinfo_{std::chrono::milliseconds(10000)};
    TtlCache<HostStat> stat_{std::chrono::milliseconds(1000)};
    // Names, order and the dirty thresholds: the container's counters come from its cgroup.
    TtlCache<std::vector<VmstatLine>> vmstat_{std::chrono::milliseconds(1000)};
    TtlCache<std::vector<DiskName>> disks_{std::chrono::milliseconds(10000)};
    TtlCache<CpuSet> online_{std::chrono::milliseconds(5000)};
};

}  // namespace procview
