// Renderers: what a container sees in each file, computed from its cgroup's
// facts and the host's files. Pure: plain values in, text out.
//
// Semantics are documented in README.md ("How values are computed"); the
// contracts below are what the tests hold them to.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <span>
#include <vector>

#include "cgroup_files.hpp"
#include "cpuset.hpp"
#include "proc_files.hpp"

namespace procview {

// The clock tick of /proc/stat and /proc/<pid>/stat (USER_HZ): 100 on every Linux ABI.
inline constexpr uint64_t kUserHz = 100;

// ---- memory ---------------------------------------------------------------

// Raw texts gathered by the I/O edge for one cgroup; nullopt = unreadable.
// Ancestor vectors hold the cgroup first, then its parent, … up to but not
// including the hierarchy root.
struct MemoryFiles {
    CgroupVersion version = CgroupVersion::v2;
    std::optional<std::string_view> stat;        // memory.stat
    std::optional<std::string_view> usage;       // memory.current | memory.usage_in_bytes
    std::optional<std::string_view> swap_usage;  // memory.swap.current | memory.memsw.usage_in_bytes (mem+swap on v1)
    std::optional<std::string_view> swappiness;  // v1 memory.swappiness
    std::vector<std::optional<std::string_view>> limits;       // memory.max | memory.limit_in_bytes
    std::vector<std::optional<std::string_view>> swap_limits;  // memory.swap.max | memory.memsw.limit_in_bytes (mem+swap on v1)
};

// What the renderers need to know about a cgroup's memory, version-neutral.
struct MemoryFacts {
    std::optional<uint64_t> limit;       // effective memory limit in bytes; nullopt = unlimited
    std::optional<uint64_t> swap_limit;  // effective swap limit in bytes (swap alone); nullopt = unlimited or unknown
    uint64_t usage = 0;                  // bytes charged, page cache included
    std::optional<uint64_t> swap_usage;  // bytes of swap used (swap alone)
    std::optional<uint64_t> swappiness;  // v1 only
    MemoryStat stat;
};
// Errors only when usage or memory.stat is missing or garbage (then the
// caller shows the host's file). Unreadable limit files count as unlimited.
Result<MemoryFacts> memory_facts(const MemoryFiles& files);

struct MemoryOptions {
    bool swap = true;  // false: SwapTotal/SwapFree 0 and no swap line (--no-swap)
};

// /proc/meminfo for the cgroup: every host line kept, in host order; the
// cgroup's lines computed (MemTotal = min(limit, host), MemFree = MemTotal −
// usage, MemAvailable = MemFree + file LRU + reclaimable slab ≤ MemTotal, …);
// no kB line above MemTotal except SwapTotal/SwapFree and Hugepagesize (a page
// size, kept as the host's); nothing negative. Lines are laid out like the
// kernel's (key padded to 16 columns, value to 8).
std::string render_meminfo(const std::vector<MeminfoLine>& host, const MemoryFacts& facts, const MemoryOptions& options);
// The same lines as values (has_kb set on every amount): what render_meminfo
// prints, for views that must agree with it (vmstat).
std::vector<MeminfoLine> container_meminfo(const std::vector<MeminfoLine>& host, const MemoryFacts& facts,
                                          const MemoryOptions& options);

// /proc/swaps: the header, plus one "none virtual" line when the cgroup has swap.
std::string render_swaps(const std::vector<MeminfoLine>& host, const MemoryFacts& facts, const MemoryOptions& options);

// The amounts /proc/meminfo shows, in kB: for a cgroup, exactly the numbers
// render_meminfo prints (so sysinfo(2) and the file agree); for the host, its
// file as read. A missing host line is 0.
struct MeminfoAmounts {
    uint64_t mem_total_kb = 0, mem_free_kb = 0, mem_available_kb = 0, shmem_kb = 0, buffers_kb = 0;
    uint64_t swap_total_kb = 0, swap_free_kb = 0;
    friend bool operator==(const MeminfoAmounts&, const MeminfoAmounts&) = default;
};
MeminfoAmounts meminfo_amounts(const std::vector<MeminfoLine>& host, const MemoryFacts& facts, const MemoryOptions& options);
MeminfoAmounts host_meminfo_amounts(const std::vector<MeminfoLine>& host);

// ---- vmstat -----------------------------------------------------------------

struct VmstatInputs {
    const std::vector<MeminfoLine>& meminfo;       // the container's, from container_meminfo()
    const std::vector<MeminfoLine>& host_meminfo;  // the host's /proc/meminfo
    const MemoryStat& stat;                        // the container's memory.stat (its event counters)
    // The container's block I/O (io.stat / blkio), nullopt when unreadable.
    const std::optional<std::vector<DeviceIo>>& io;
    uint64_t page_size = 4096;           // nr_* counts are in pages of this size
    uint64_t pmd_size = 2 * 1024 * 1024; // nr_*hugepages / *pmdmapped count PMD-sized pages
};
// /proc/vmstat for the cgroup: every host line kept, in host order and with
// the host's names; each value follows the rule table in vmstat_view.cpp
// (docs/vmstat.md): nr_* page counts converted from the container's meminfo,
// event counters from memory.stat, pgpgin/pgpgout from its block I/O in KiB,
// dirty thresholds scaled to it, and 0 for everything the cgroup does not
// account (never the host's counter under the container's name).
std::string render_vmstat(const std::vector<VmstatLine>& host, const VmstatInputs& in);

// ---- cpu ------------------------------------------------------------------

struct CpuFiles {
    CgroupVersion version = CgroupVersion::v2;
    std::optional<std::string_view> effective_cpus;  // cpuset.cpus.effective | cpuset.effective_cpus
    // Quota files, cgroup first then ancestors (excluding the root).
    std::vector<std::optional<std::string_view>> cpu_max;  // v2 cpu.max
    std::vector<std::optional<std::string_view>> cfs_quota;   // v1 cpu.cfs_quota_us
    std::vector<std::optional<std::string_view>> cfs_period;  // v1 cpu.cfs_period_us
};

struct CpuView {
    // The host CPUs shown, lowest first: view CPU i is host CPU host_cpus.cpus()[i].
    CpuSet host_cpus;
    // CPU-seconds per second the cgroup may use: min(quota/period over the
    // cgroup and ancestors, host_cpus.size()).
    double capacity = 0;
    [[nodiscard]] std::size_t count() const { return host_cpus.size(); }
};
// N = min(ceil(min quota/period), |effective cpuset ∩ host online|), at least 1;
// no quota (or use_quota false) → the cpuset's count. Unreadable or garbage
// files count as "no limit" for that file.
CpuView compute_cpu_view(const CpuFiles& files, const CpuSet& host_online, bool use_quota);

// /proc/cpuinfo: the blocks of the view's host CPUs, renumbered 0..N-1, with
// "siblings" and "cpu cores" set to N and "core id" to the view index.
std::string render_cpuinfo(const HostCpuinfo& host, const CpuView& view);

// ---- /proc/stat and /proc/uptime -------------------------------------------

// Per-CPU counters in USER_HZ ticks, as /proc/stat prints them.
struct CpuTimes {
    uint64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0;
    uint64_t irq = 0, softirq = 0, steal = 0, guest = 0, guest_nice = 0;
    [[nodiscard]] uint64_t total() const { return user + nice + system + idle + iowait + irq + softirq + steal; }
    friend bool operator==(const CpuTimes&, const CpuTimes&) = default;
};

struct CpuAccounting {
    CpuUsage total;                                   // the cgroup's CPU time
    std::optional<std::vector<CpuUsage>> per_host_cpu; // v1 cpuacct.usage_all, indexed by host CPU
    double capacity_seconds = 0;                      // ∫ capacity dt over the container's life
    double uptime_seconds = 0;                        // the container's uptime
};
// N entries. When the view is not narrowed by a quota (capacity == N) and
// per-CPU usage is known, CPU i shows host CPU i's usage and idle = uptime −
// busy; otherwise the usage is spread evenly and each CPU's idle is
// capacity_seconds/N − busy/N. The sum of all fields advances at `capacity`
// CPU-seconds per second. Never negative.
std::vector<CpuTimes> compute_cpu_times(const CpuView& view, const CpuAccounting& accounting);

// Keeps every counter of every CPU from ever going down between reads (after a
// limit shrinks, a CPU disappears and comes back, or the daemon restarts).
class MonotonicCpuTimes {
public:
    void apply(std::vector<CpuTimes>& times);
private:
    std::vector<CpuTimes> floor_;
};
// The same with the floor in caller's storage (a shared mapping that
// outlives the daemon): for the CPUs both have, each field is raised to the
// floor, and the floor to the field.
void apply_floor(std::vector<CpuTimes>& times, std::span<CpuTimes> floor);

// Integrates a piecewise-constant capacity over time, so that a quota change
// at runtime changes the rate from then on without rewriting the past.
class CapacityIntegral {
public:
    // Everything advance() needs to go on where it stopped: saved across a
    // daemon restart (resume()), so the total does not restart at capacity ×
    // uptime after a quota change.
    struct State {
        double time = 0, capacity = 0, total = 0;
        friend bool operator==(const State&, const State&) = default;
    };
    // First call: capacity × now (the container has had this capacity all its
    // life as far as we know). Later calls: the previous total plus the
    // previous capacity × elapsed.
    double advance(double now_seconds, double capacity);
    [[nodiscard]] bool started() const { return started_; }
    [[nodiscard]] State state() const { return {last_time_, last_capacity_, total_}; }
    // As if advance() had last been called at state.time with state.capacity.
    void resume(const State& state);
private:
    bool started_ = false;
    double last_time_ = 0, last_capacity_ = 0, total_ = 0;
};

// The part of a cgroup's CPU usage the container cannot have used itself:
// usage from before its init started, when the container was put in a cgroup
// that already had some (a cgroup reused by a new container, a systemd unit
// restarted in its old cgroup). Subtracted from the usage before
// compute_cpu_times, so the counters are consistent from the first read.
struct UsageBaseline {
    CpuUsage total;
    std::vector<CpuUsage> per_host_cpu;  // v1 per-CPU usage, indexed by host CPU; empty otherwise
    friend bool operator==(const UsageBaseline&, const UsageBaseline&) = default;
};
// Taken once, at the container's first sighting (`first`: its accounting
// then): what of the usage exceeds what the container could have used since
// its init started, i.e. total − capacity_seconds, and per host CPU (v1) the
// CPU's usage − uptime; never negative. This is the smallest baseline that
// keeps busy ≤ total, and so the exact one for a container that really used
// all of its capacity; any surplus old usage that fits under the capacity
// stays counted as busy, so only the since-boot ratio can read busier than it
// was, never the rate over an interval (which is all top, mpstat or a
// monitoring agent show). Each figure is split between user and system in
// the usage's own ratio, so both stay ≤ the usage they are taken from.
UsageBaseline usage_baseline(const CpuAccounting& first);
// acct's usage minus the baseline, field by field, never below 0.
void subtract_baseline(CpuAccounting& acct, const UsageBaseline& baseline);

struct StatTail {
    uint64_t btime = 0;
    unsigned procs_running = 0;
    unsigned procs_blocked = 0;
};
// "cpu" (the sum) and "cpu0".."cpuN-1", then the host's kept lines with
// "btime" replaced and procs_running/procs_blocked the cgroup's, in the
// kernel's order.
std::string render_stat(const std::vector<CpuTimes>& cpus, const HostStat& host, const StatTail& tail);

// The container's uptime and boot time, as /proc/uptime and /proc/stat's
// btime show them.
struct ContainerClock {
    double uptime_seconds = 0;
    uint64_t btime = 0;  // seconds since the epoch
    friend bool operator==(const ContainerClock&, const ContainerClock&) = default;
};
// host_boottime_seconds: CLOCK_BOOTTIME in the initial time namespace;
// host_btime: the host's /proc/stat btime; init_start_ticks: the container
// init's /proc/<pid>/stat field 22 read from the initial time namespace.
//
// With boottime_offset (the init is in a time namespace): exactly what the
// kernel shows inside it (fs/proc/uptime.c adds the offset to CLOCK_BOOTTIME,
// fs/proc/stat.c subtracts it from the boot timestamp), so btime plus any
// process's start time there (which the kernel shifts by the same offset) is
// when that process started. btime is exact for whole-second offsets; with a
// fractional offset it may differ from the kernel's by one second.
// Without: the uptime counts from the init's start, and btime is the init's
// start (the host's /proc/<pid>/stat start times are then off by it: ps).
// The uptime is never negative.
ContainerClock container_clock(double host_boottime_seconds, uint64_t host_btime, uint64_t init_start_ticks,
                               const std::optional<ClockOffset>& boottime_offset);

// "%.2f %.2f\n" of uptime and idle (idle: the sum over CPUs, as the kernel does),
// truncated to hundredths like the kernel's uptime_proc_show, not rounded.
std::string render_uptime(double uptime_seconds, double idle_seconds);

// ---- loadavg ----------------------------------------------------------------

// The kernel's fixed-point exponential load average (kernel/sched/loadavg.c),
// fed one sample of the cgroup's runnable + uninterruptible tasks every 5 s.
class LoadAverage {
public:
    static constexpr unsigned kFracBits = 11;                 // FSHIFT
    static constexpr uint64_t kFixed1 = 1ULL << kFracBits;    // FIXED_1
    static constexpr std::array<uint64_t, 3> kExp{1884, 2014, 2037};  // EXP_1, EXP_5, EXP_15

    // Starts all three averages at `active` (a container first seen with 3
    // busy tasks reads 3.00, not a ramp from zero).
    void seed(unsigned active);
    void sample(unsigned active);
    [[nodiscard]] const std::array<uint64_t, 3>& fixed() const { return avenrun_; }
private:
    std::array<uint64_t, 3> avenrun_{0, 0, 0};
};
// "0.52 0.31 0.20 1/123 4567\n", rounded as the kernel rounds.
std::string render_loadavg(const std::array<uint64_t, 3>& avenrun, unsigned running, unsigned total, pid_t last_pid);

// ---- sysinfo(2) -------------------------------------------------------------------

// What sysinfo(2) answers, field by field (struct sysinfo of <linux/kernel.h>),
// widened to 64 bits; the agent narrows it to the caller's ABI.
struct SysinfoValues {
    int64_t uptime = 0;                       // seconds, rounded up like the kernel's
    std::array<uint64_t, 3> loads{0, 0, 0};   // fixed point, SI_LOAD_SHIFT (16) fraction bits
    uint64_t totalram = 0, freeram = 0, sharedram = 0, bufferram = 0;
    uint64_t totalswap = 0, freeswap = 0;
    uint16_t procs = 0;
    uint64_t totalhigh = 0, freehigh = 0;     // no high memory on 64-bit, none in a cgroup
    uint32_t mem_unit = 1;
    friend bool operator==(const SysinfoValues&, const SysinfoValues&) = default;
};

inline constexpr unsigned kSiLoadShift = 16;  // SI_LOAD_SHIFT

struct SysinfoInputs {
    MeminfoAmounts memory;                   // as /proc/meminfo shows it to the caller
    std::array<uint64_t, 3> avenrun{0, 0, 0};  // /proc/loadavg's averages, FSHIFT (11) fraction bits
    unsigned tasks = 0;                      // threads of the container (loadavg's total)
    double uptime_seconds = 0;               // /proc/uptime's first number
};

// The kernel's do_sysinfo() over the container's numbers: byte amounts with
// mem_unit 1 when ram + swap fits the caller's unsigned long (always, for a
// 64-bit caller), else (a 32-bit caller, compat_sysinfo) mem_unit = page_size
// and amounts in pages; loads shifted from FSHIFT to SI_LOAD_SHIFT; uptime
// rounded up to the next second; procs saturated at 65535 (the kernel
// truncates nr_threads to 16 bits; saturating keeps "many" meaning many).
SysinfoValues compute_sysinfo(const SysinfoInputs& inputs, unsigned long_bits = 64, uint32_t page_size = 4096);

// ---- diskstats ------------------------------------------------------------------

// One line per device the cgroup used (any non-zero counter), with the host's
// device name; devices without a host name are left out. 512-byte sectors;
// time fields from DeviceIo where known, else 0.
std::string render_diskstats(const std::vector<DiskName>& host_names, const std::vector<DeviceIo>& io);

}  // namespace procview
