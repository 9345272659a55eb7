#include "fusefs/host_files.hpp"

#include <fcntl.h>
#include <time.h>

#include "core/text.hpp"
#include "platform/fs.hpp"

namespace procview {

Result<std::unique_ptr<HostFiles>> HostFiles::open(const std::string& proc_root, const std::string& sys_cpu_root,
                                                   std::shared_ptr<spdlog::logger> log) {
    std::unique_ptr<HostFiles> host(new HostFiles());
    host->log_ = std::move(log);
    auto proc = open_directory(AT_FDCWD, proc_root);
    if (!proc) return proc.error().context("host proc root");
    auto sys = open_directory(AT_FDCWD, sys_cpu_root);
    if (!sys) return sys.error().context("host cpu sysfs root");
    host->proc_fd_ = std::move(*proc);
    host->sys_cpu_fd_ = std::move(*sys);
    host->sys_cpu_root_ = sys_cpu_root;
    host->real_proc_ = (proc_root == "/proc" || proc_root == "/proc/");
    return host;
}

Result<std::string> HostFiles::read_proc(const std::string& name) const { return read_file_at(proc_fd_.get(), name); }

template <class T, class Load>
Result<T> HostFiles::watched(const char* name, Load&& load) {
    Result<T> value = load();
    std::lock_guard lock(broken_mu_);
    if (!value) {
        if (broken_.insert(name).second)
            log_->warn("host file {}: {}; serving its last good copy if there is one, else failing its reads",
                       name, value.error().describe());
    } else if (broken_.erase(name)) {
        log_->info("host file {} reads again", name);
    }
    return value;
}

Result<std::shared_ptr<const std::vector<MeminfoLine>>> HostFiles::meminfo() {
    return meminfo_.get([&] {
        return watched<std::vector<MeminfoLine>>("/proc/meminfo", [&]() -> Result<std::vector<MeminfoLine>> {
            auto text = read_proc("meminfo");
            if (!text) return text.error();
            return parse_meminfo(*text);
        });
    });
}

Result<std::shared_ptr<const HostCpuinfo>> HostFiles::cpuinfo() {
    return cpuinfo_.get([&] {
        return watched<HostCpuinfo>("/proc/cpuinfo", [&]() -> Result<HostCpuinfo> {
            auto text = read_proc("cpuinfo");
            if (!text) return text.error();
            return parse_cpuinfo(*text);
        });
    });
}

Result<std::shared_ptr<const HostStat>> HostFiles::stat() {
    return stat_.get([&] {
        return watched<HostStat>("/proc/stat", [&]() -> Result<HostStat> {
            auto text = read_proc("stat");
            if (!text) return text.error();
            return parse_proc_stat(*text);
        });
    });
}

Result<std::shared_ptr<const std::vector<VmstatLine>>> HostFiles::vmstat() {
    return vmstat_.get([&] {
        return watched<std::vector<VmstatLine>>("/proc/vmstat", [&]() -> Result<std::vector<VmstatLine>> {
            auto text = read_proc("vmstat");
            if (!text) return text.error();
            return parse_vmstat(*text);
        });
    });
}

Result<std::shared_ptr<const std::vector<DiskName>>> HostFiles::disk_names() {
    return disks_.get([&] {
        return watched<std::vector<DiskName>>("/proc/diskstats", [&]() -> Result<std::vector<DiskName>> {
            auto text = read_proc("diskstats");
            if (!text) return text.error();
            return parse_diskstats_names(*text);
        });
    });
}

Result<std::shared_ptr<const CpuSet>> HostFiles::online_cpus() {
    return online_.get([&] {
        return watched<CpuSet>("cpu/online", [&]() -> Result<CpuSet> {
            auto text = read_file_at(sys_cpu_fd_.get(), "online");
            if (!text) return text.error();
            return CpuSet::parse(*text);
        });
    });
}

double HostFiles::uptime_seconds() const {
    if (!real_proc_) {
        if (auto text = read_proc("uptime")) {
            auto fields = split_fields(*text);
            if (!fields.empty()) {
                auto dot = fields[0].find('.');
                if (auto whole = parse_u64(fields[0].substr(0, dot))) return static_cast<double>(*whole);
            }
        }
    }
    timespec ts{};
    ::clock_gettime(CLOCK_BOOTTIME, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

}  // namespace procview
