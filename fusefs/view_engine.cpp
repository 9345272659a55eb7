#include "fusefs/view_engine.hpp"

#include <fcntl.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include <array>
#include <cmath>

#include "core/text.hpp"
#include "fusefs/cgroup_gather.hpp"
#include "fusefs/load_sampler.hpp"
#include "platform/fs.hpp"

namespace procview {
namespace {

// After a failed read: if the cgroup itself was removed (not just one file
// missing), the container must be resolved again.
void note_if_gone(Container& c, CgroupDir* dir) {
    if (dir && !dir->exists()) c.gone = true;
}

}  // namespace

std::string_view proc_file_name(ProcFile file) {
    std::string_view path = path_of(file).path;
    path.remove_prefix(std::string_view("proc/").size());
    return path;
}

ViewEngine::ViewEngine(HostFiles& host, std::shared_ptr<ChangeWatch> limit_changes, ViewOptions options,
                       std::shared_ptr<spdlog::logger> log)
    : host_(host), limit_changes_(std::move(limit_changes)), options_(options), log_(std::move(log)) {
    if (auto proc = open_directory(AT_FDCWD, "/proc")) proc_ = std::move(*proc);
}

void ViewEngine::refresh_limits() {
    if (limit_changes_) limit_changes_->refresh();
}

Result<std::string> ViewEngine::host_file(ProcFile file) { return host_.read_proc(std::string(proc_file_name(file))); }

Result<std::string> ViewEngine::render(ProcFile file, Container* container) {
    if (!container) return host_file(file);
    container->last_read_ms.store(monotonic_ms(), std::memory_order_relaxed);
    refresh_limits();
    switch (file) {
        case ProcFile::meminfo:
        case ProcFile::swaps: return meminfo_or_swaps(file, *container);
        case ProcFile::cpuinfo: return cpuinfo(*container);
        case ProcFile::stat:
        case ProcFile::uptime: return stat_or_uptime(file, *container);
        case ProcFile::loadavg: return loadavg(*container);
        case ProcFile::diskstats: return diskstats(*container);
        case ProcFile::pressure_cpu:
        case ProcFile::pressure_memory:
        case ProcFile::pressure_io: return pressure(file, *container);
        case ProcFile::vmstat: return vmstat(*container);
    }
    return make_error(ENOENT, "unknown view");
}

// ---- memory ---------------------------------------------------------------

std::optional<MemoryFacts> ViewEngine::memory_facts_locked(Container& c) {
    CgroupDir* dir = c.cgroups.memory.get();
    if (!dir) {
        c.warn_once(*log_, "memory", "no memory cgroup");
        return std::nullopt;
    }
    CgroupTexts texts;
    auto facts = memory_facts(gather_memory(*dir, texts));
    if (!facts) {
        note_if_gone(c, dir);
        c.warn_once(*log_, "memory", "memory cgroup unreadable (" + facts.error().describe() + ")");
        return std::nullopt;
    }
    return std::move(*facts);
}

Result<std::string> ViewEngine::meminfo_or_swaps(ProcFile file, Container& c) {
    auto host = host_.meminfo();
    if (!host) return host.error();
    std::optional<MemoryFacts> facts;
    {
        std::lock_guard lock(c.mu);
        facts = memory_facts_locked(c);
    }
    if (!facts) return host_file(file);
    MemoryOptions options{options_.swap};
    return file == ProcFile::meminfo ? render_meminfo(**host, *facts, options) : render_swaps(**host, *facts, options);
}

// ---- cpu ------------------------------------------------------------------

CpuView ViewEngine::cpu_view_locked(Container& c, const CpuSet& online) {
    CgroupTexts texts;
    CpuFiles files = gather_cpu(c.cgroups.cpuset.get(), c.cgroups.cpu.get(), options_.cpu_quota, texts);
    if (c.cgroups.cpuset && !files.effective_cpus) c.warn_once(*log_, "cpuset", "cpuset unreadable");
    return compute_cpu_view(files, online, options_.cpu_quota);
}

Result<CpuView> ViewEngine::cpu_view(Container* container) {
    if (!container) {
        auto online = host_.online_cpus();
        if (!online) return online.error();
        return CpuView{**online, static_cast<double>((*online)->size())};
    }
    refresh_limits();
    return container_cpu_view(*container);
}

Result<CpuView> ViewEngine::container_cpu_view(Container& c) {
    auto online = host_.online_cpus();
    if (!online) return online.error();
    std::lock_guard lock(c.mu);
    return cpu_view_locked(c, **online);
}

Result<std::string> ViewEngine::cpuinfo(Container& c) {
    auto host = host_.cpuinfo();
    if (!host) return host.error();
    auto view = container_cpu_view(c);
    if (!view) return view.error();
    return render_cpuinfo(**host, *view);
}

Result<std::string> ViewEngine::render_cpu_list(std::string_view name, Container& c) {
    if (name == "offline") return std::string("\n");
    auto view = cpu_view(&c);
    if (!view) return view.error();
    return render_cpu_range(view->count());
}

Result<std::string> ViewEngine::stat_or_uptime(ProcFile file, Container& c) {
    auto online = host_.online_cpus();
    if (!online) return online.error();
    auto host_stat = host_.stat();
    if (!host_stat) return host_stat.error();
    if (file == ProcFile::stat) {
        LoadState load = load_of(c)->snapshot();
        if (!load.seeded || (!options_.loadavg && monotonic_ms() - load.sampled_ms > 5000)) sample_load(c);
    }

    std::lock_guard lock(c.mu);
    CpuView view = cpu_view_locked(c, **online);
    // The uptime the idle time and CPU capacity are integrated over is the one
    // shown, so idle never exceeds uptime × CPUs in either clock.
    ContainerClock clock = container_clock(host_.uptime_seconds(), (*host_stat)->btime, c.init_start_ticks,
                                           c.boottime_offset);
    double uptime = clock.uptime_seconds;

    CpuAccounting acct;
    acct.uptime_seconds = uptime;
    auto usage = gather_cpu_usage(c.cgroups.cpu.get(), c.cgroups.cpuacct.get());
    if (!usage) {
        note_if_gone(c, c.cgroups.cpu ? c.cgroups.cpu.get() : c.cgroups.cpuacct.get());
        c.warn_once(*log_, "cpuacct", "CPU usage unreadable");
        return host_file(file);
    }
    account_for_baseline(c, acct, *usage, view.capacity);
    auto times = compute_cpu_times(view, acct);
    apply_counter_floor(c, times);
    if (file == ProcFile::uptime) {
        uint64_t idle = 0;
        for (const auto& t : times) idle += t.idle;
        return render_uptime(uptime, static_cast<double>(idle) / static_cast<double>(kUserHz));
    }
    StatTail tail;
    tail.btime = clock.btime;
    LoadState load = c.load->snapshot();  // c.mu is held
    tail.procs_running = load.running;
    tail.procs_blocked = load.blocked;
    return render_stat(times, **host_stat, tail);
}

bool ViewEngine::split_usage(Container& c, CpuAccounting& acct, const CgroupCpuUsage& usage) {
    if (!usage.per_host_cpu) {  // v2: the kernel split it
        acct.total = usage.total;
        acct.per_host_cpu.reset();
        return false;
    }
    // A new share at most once a second: each one is a record write.
    const int64_t now = monotonic_ms();
    auto split = c.cpu_split.split(*usage.per_host_cpu, now - c.split_saved_ms >= Container::kSplitSaveIntervalMs);
    if (split.anchors_changed) c.split_saved_ms = now;
    acct.total = {};
    for (const auto& u : split.per_cpu) {
        acct.total.user_ns += u.user_ns;
        acct.total.system_ns += u.system_ns;
    }
    acct.per_host_cpu = std::move(split.per_cpu);
    return split.anchors_changed;
}

std::optional<StatRecordKey> ViewEngine::stat_record_key(const Container& c) const {
    // Only real containers: a fixed (test) cgroup has no init of its own.
    if (!records_ || c.pidns == 0 || !c.init_pidfd.valid()) return std::nullopt;
    const CgroupDir* usage = c.cgroups.cpu && c.cgroups.cpu->version() == CgroupVersion::v2 ? c.cgroups.cpu.get()
                                                                                             : c.cgroups.cpuacct.get();
    if (!usage) return std::nullopt;
    return StatRecordKey{usage->path(), c.pidns, c.init_pid, c.init_start_ticks};
}

namespace {

// A kept record fits this cgroup's usage counter if no part of its baseline
// exceeds the usage now (counters only grow) and it was not written in this
// clock's future.
bool record_fits(const StatRecord& r, const CpuAccounting& acct) {
    auto within = [](const CpuUsage& b, const CpuUsage& u) { return b.user_ns <= u.user_ns && b.system_ns <= u.system_ns; };
    if (!within(r.baseline.total, acct.total) || r.capacity.time > acct.uptime_seconds + 1.0) return false;
    const auto& per_cpu = r.baseline.per_host_cpu;
    for (std::size_t i = 0; i < per_cpu.size(); ++i) {
        CpuUsage now = acct.per_host_cpu && i < acct.per_host_cpu->size() ? (*acct.per_host_cpu)[i] : CpuUsage{};
        if (!within(per_cpu[i], now)) return false;
    }
    return true;
}

}  // namespace

void ViewEngine::account_for_baseline(Container& c, CpuAccounting& acct, const CgroupCpuUsage& usage,
                                      double capacity) {
    auto key = stat_record_key(c);
    bool changed = c.capacity.started() && c.capacity.state().capacity != capacity;
    if (!c.usage_baseline) {
        // A daemon restart or takeover: go on with the previous instance's
        // baseline, capacity integral and split, so the counters continue unchanged.
        auto kept = key ? records_->load(*key) : std::nullopt;
        if (kept) c.cpu_split.restore(kept->split);
        bool split_changed = split_usage(c, acct, usage);
        if (kept && record_fits(*kept, acct)) {
            c.usage_baseline = std::move(kept->baseline);
            c.capacity.resume(kept->capacity);
            changed = split_changed || kept->capacity.capacity != capacity;
        } else {
            if (kept) {  // not this cgroup's counters: nor its split
                c.cpu_split = CpuSplitter{};
                split_usage(c, acct, usage);
            }
            acct.capacity_seconds = c.capacity.advance(acct.uptime_seconds, capacity);
            c.usage_baseline = usage_baseline(acct);
            changed = true;
            const CpuUsage& old = c.usage_baseline->total;
            if (old.user_ns + old.system_ns > 0)
                log_->debug("{}: {:.2f} CPU-seconds of its cgroup's usage predate it; not shown as its own",
                            c.describe(), static_cast<double>(old.user_ns + old.system_ns) / 1e9);
        }
    } else {
        changed = split_usage(c, acct, usage) || changed;
    }
    acct.capacity_seconds = c.capacity.advance(acct.uptime_seconds, capacity);
    subtract_baseline(acct, *c.usage_baseline);
    // Written, before anything computed from them is shown, when the figures
    // a restart could not recompute change: a new baseline, a new capacity
    // (the integral stops being capacity × uptime), a new split share.
    if (changed && key) records_->save(StatRecord{*key, *c.usage_baseline, c.capacity.state(), c.cpu_split.anchors()});
}

void ViewEngine::apply_counter_floor(Container& c, std::vector<CpuTimes>& times) {
    c.cpu_floor.apply(times);
    if (c.kept_floor_cpus != times.size()) {  // mapped (or tried) once per CPU count, not per read
        c.kept_floor.reset();  // the new mapping reads what this one stored
        auto key = stat_record_key(c);
        if (key) c.kept_floor = records_->map_floor(*key, times.size());
        c.kept_floor_cpus = times.size();
    }
    if (c.kept_floor) apply_floor(times, c.kept_floor->cpus());
}

void ViewEngine::prune_stat_records() {
    if (records_) records_->prune();
}

// ---- loadavg --------------------------------------------------------------

std::shared_ptr<SharedLoad> ViewEngine::load_of(Container& c) {
    std::lock_guard lock(c.mu);
    return c.load;
}

void ViewEngine::sample_load(Container& c) {
    auto shared = load_of(c);
    // Another view of the same cgroup (a pid namespace's, or its init's
    // per-container files) sampled it just now: a second sample would count
    // one interval twice.
    auto recently_sampled = [&] {
        const LoadState now = shared->snapshot();
        return now.seeded && monotonic_ms() - now.sampled_ms < LoadSampler::kIntervalMs / 2;
    };
    if (recently_sampled()) return;
    std::string tasks;
    {
        std::lock_guard lock(c.mu);
        auto list = gather_task_list(c.cgroups.unified.get(), {c.cgroups.pids.get(), c.cgroups.cpu.get(), c.cgroups.memory.get()});
        if (!list) {
            c.warn_once(*log_, "tasks", "task list unreadable, load average unavailable");
            return;
        }
        tasks = std::move(*list);
    }
    // Task states are read without the container lock: readers of this
    // container must not wait behind a large task list.
    unsigned running = 0, blocked = 0, total = 0;
    pid_t newest = 0;
    std::string stat;
    for_each_line(tasks, [&](std::string_view line) {
        auto tid = parse_u64(line);
        if (!tid) return;
        ++total;
        newest = std::max(newest, static_cast<pid_t>(*tid));
        auto text = read_file_at(proc_.get(), std::to_string(*tid) + "/stat");
        if (!text) return;  // exited meanwhile
        auto parsed = parse_proc_pid_stat(*text);
        if (!parsed) return;
        if (parsed->state == 'R') ++running;
        else if (parsed->state == 'D') ++blocked;
    });
    pid_t last_pid = 0;
    if (newest > 0) {
        if (auto status = read_file_at(proc_.get(), std::to_string(newest) + "/status")) {
            if (auto nspid = parse_status_nspid(*status); nspid && !nspid->empty()) last_pid = nspid->back();
        }
    }
    std::lock_guard lock(shared->mu);
    LoadState& load = shared->state;
    if (!load.seeded) {
        load.average.seed(running + blocked);
        load.seeded = true;
    } else if (monotonic_ms() - load.sampled_ms < LoadSampler::kIntervalMs / 2) {
        return;  // the other view's sample landed while this one scanned
    } else {
        load.average.sample(running + blocked);
    }
    load.running = running;
    load.total = total;
    load.last_pid = last_pid;
    load.blocked = blocked;
    load.sampled_ms = monotonic_ms();
}

Result<std::string> ViewEngine::loadavg(Container& c) {
    if (!options_.loadavg) return host_file(ProcFile::loadavg);
    auto shared = load_of(c);
    if (!shared->snapshot().seeded) sample_load(c);
    const LoadState load = shared->snapshot();
    if (!load.seeded) return host_file(ProcFile::loadavg);
    return render_loadavg(load.average.fixed(), load.running, load.total, load.last_pid);
}

// ---- sysinfo(2) ------------------------------------------------------------

Result<SysinfoInputs> ViewEngine::sysinfo_inputs(Container& c) {
    c.last_read_ms.store(monotonic_ms(), std::memory_order_relaxed);  // keeps the load sampled
    refresh_limits();
    auto host = host_.meminfo();
    if (!host) return host.error();
    auto host_stat = host_.stat();
    if (!host_stat) return host_stat.error();
    if (!load_of(c)->snapshot().seeded) sample_load(c);
    SysinfoInputs in;
    std::lock_guard lock(c.mu);
    const LoadState load = c.load->snapshot();
    auto facts = memory_facts_locked(c);
    in.memory = facts ? meminfo_amounts(**host, *facts, MemoryOptions{options_.swap}) : host_meminfo_amounts(**host);
    in.uptime_seconds = container_clock(host_.uptime_seconds(), (*host_stat)->btime, c.init_start_ticks, c.boottime_offset)
                            .uptime_seconds;
    in.tasks = load.total;
    if (options_.loadavg && load.seeded) {
        in.avenrun = load.average.fixed();
    } else {
        // /proc/loadavg shows the host's then: so does sysinfo (its loads are avenrun << 5, exactly).
        struct sysinfo own{};
        if (::sysinfo(&own) == 0)
            for (std::size_t i = 0; i < 3; ++i) in.avenrun[i] = own.loads[i] >> (kSiLoadShift - LoadAverage::kFracBits);
    }
    return in;
}

// ---- diskstats and pressure -------------------------------------------------

std::optional<std::vector<DeviceIo>> ViewEngine::block_io_locked(Container& c) {
    auto io = gather_block_io(c.cgroups.blkio.get());
    if (!io) c.warn_once(*log_, "io", "block I/O statistics unreadable");
    return io;
}

Result<std::string> ViewEngine::diskstats(Container& c) {
    auto names = host_.disk_names();
    if (!names) return names.error();
    std::optional<std::vector<DeviceIo>> io;
    {
        std::lock_guard lock(c.mu);
        io = block_io_locked(c);
    }
    if (!io) return host_file(ProcFile::diskstats);
    return render_diskstats(**names, *io);
}

// ---- vmstat -----------------------------------------------------------------

Result<std::string> ViewEngine::vmstat(Container& c) {
    auto host = host_.vmstat();
    if (!host) return host.error();
    auto host_meminfo = host_.meminfo();
    if (!host_meminfo) return host_meminfo.error();
    std::optional<MemoryFacts> facts;
    std::optional<std::vector<DeviceIo>> io;
    {
        std::lock_guard lock(c.mu);
        facts = memory_facts_locked(c);
        if (facts) io = block_io_locked(c);
    }
    if (!facts) return host_file(ProcFile::vmstat);
    // The page counts are the container's meminfo in pages, so both files agree.
    const auto meminfo = container_meminfo(**host_meminfo, *facts, MemoryOptions{options_.swap});
    VmstatInputs in{meminfo, **host_meminfo, facts->stat, io};
    if (long page = ::sysconf(_SC_PAGESIZE); page >= 1024) {
        in.page_size = static_cast<uint64_t>(page);
        in.pmd_size = in.page_size * (in.page_size / sizeof(uint64_t));  // PTRS_PER_PMD entries of one page each
    }
    return render_vmstat(**host, in);
}

bool ViewEngine::has_pressure(Container* container) {
    if (!container) return true;
    std::lock_guard lock(container->mu);
    CgroupDir* dir = container->cgroups.unified.get();
    return dir && dir->version() == CgroupVersion::v2 && !dir->is_root() &&
           dir->has(cgroup_file_name(CgroupFile::cpu_pressure, CgroupVersion::v2));
}

Result<std::string> ViewEngine::pressure(ProcFile file, Container& c) {
    std::lock_guard lock(c.mu);
    CgroupDir* dir = c.cgroups.unified.get();
    // Never the host's numbers under a container's name: no cgroup, no file.
    if (!dir || dir->version() != CgroupVersion::v2 || dir->is_root()) return make_error(ENOENT, "no pressure files");
    const CgroupFile pressure = file == ProcFile::pressure_cpu      ? CgroupFile::cpu_pressure
                                : file == ProcFile::pressure_memory ? CgroupFile::memory_pressure
                                                                    : CgroupFile::io_pressure;
    std::string out;
    if (auto r = dir->read(cgroup_file_name(pressure, CgroupVersion::v2), out); !r) return r.error();
    return out;
}

}  // namespace procview
