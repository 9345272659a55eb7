// Parsers for the cgroup files procview reads, v1 and v2.
//
// Pure: text in, values out; no syscalls, no logging, no exceptions.
// "max" (v2) and the v1 "unlimited" sentinels are modelled as std::nullopt,
// never as a big number.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "result.hpp"

namespace procview {

enum class CgroupVersion { v1, v2 };

// ---- memory ---------------------------------------------------------------

// A memory limit file: v2 `memory.max`, `memory.swap.max` ("max" or bytes);
// v1 `memory.limit_in_bytes`, `memory.memsw.limit_in_bytes` (bytes; values at
// or above 2^62 are the kernel's "unlimited" (PAGE_COUNTER_MAX * page size)).
Result<std::optional<uint64_t>> parse_memory_limit(std::string_view text);

// A file holding a single non-negative counter (memory.current,
// memory.usage_in_bytes, memory.swap.current, cpuacct.usage, memory.swappiness…).
Result<uint64_t> parse_single_counter(std::string_view text);

// Event counters memory.stat reports under /proc/vmstat's own names (the
// kernel prints both from the same vm_event / node_stat items): v2 `pgfault`,
// v1 `total_pgfault` (hierarchical). v1's pgpgin/pgpgout are deliberately not
// here: a memcg counts page *charges* under those names, /proc/vmstat counts
// block I/O in KiB (mm/memcontrol-v1.c vs mm/vmstat.c).
inline constexpr std::array<std::string_view, 41> kMemoryEventNames{
    "pswpin", "pswpout", "pgscan_kswapd", "pgscan_direct", "pgscan_khugepaged", "pgscan_proactive",
    "pgsteal_kswapd", "pgsteal_direct", "pgsteal_khugepaged", "pgsteal_proactive", "pgfault", "pgmajfault",
    "pgrefill", "pgactivate", "pgdeactivate", "pglazyfree", "pglazyfreed", "swpin_zero", "swpout_zero",
    "zswpin", "zswpout", "zswpwb", "thp_fault_alloc", "thp_collapse_alloc", "thp_swpout", "thp_swpout_fallback",
    "numa_pages_migrated", "numa_pte_updates", "numa_hint_faults", "pgpromote_success", "pgdemote_kswapd",
    "pgdemote_direct", "pgdemote_khugepaged", "pgdemote_proactive", "workingset_refault_anon",
    "workingset_refault_file", "workingset_activate_anon", "workingset_activate_file", "workingset_restore_anon",
    "workingset_restore_file", "workingset_nodereclaim"};
inline constexpr std::size_t kMemoryEventCount = kMemoryEventNames.size();
// Index of a /proc/vmstat name among the events, or kMemoryEventCount.
std::size_t memory_event_index(std::string_view name);

// memory.stat, normalised across versions. All values in bytes. A field the
// cgroup version does not report stays nullopt. v1 is read from the
// hierarchical `total_*` keys (the cgroup and its descendants), v2 keys are
// hierarchical already.
struct MemoryStat {
    std::optional<uint64_t> anon;               // v2 anon          | v1 total_rss
    std::optional<uint64_t> file;               // v2 file          | v1 total_cache
    std::optional<uint64_t> shmem;              // v2 shmem         | v1 total_shmem
    std::optional<uint64_t> file_mapped;        // v2 file_mapped   | v1 total_mapped_file
    std::optional<uint64_t> file_dirty;         // v2 file_dirty    | v1 total_dirty
    std::optional<uint64_t> file_writeback;     // v2 file_writeback| v1 total_writeback
    std::optional<uint64_t> anon_thp;           // v2 anon_thp      | v1 total_rss_huge
    std::optional<uint64_t> file_thp;           // v2 file_thp
    std::optional<uint64_t> shmem_thp;          // v2 shmem_thp
    std::optional<uint64_t> inactive_anon;      // v2 inactive_anon | v1 total_inactive_anon
    std::optional<uint64_t> active_anon;        // v2 active_anon   | v1 total_active_anon
    std::optional<uint64_t> inactive_file;      // v2 inactive_file | v1 total_inactive_file
    std::optional<uint64_t> active_file;        // v2 active_file   | v1 total_active_file
    std::optional<uint64_t> unevictable;        // v2 unevictable   | v1 total_unevictable
    std::optional<uint64_t> slab;               // v2 slab
    std::optional<uint64_t> slab_reclaimable;   // v2 slab_reclaimable
    std::optional<uint64_t> slab_unreclaimable; // v2 slab_unreclaimable
    std::optional<uint64_t> kernel_stack;       // v2 kernel_stack
    std::optional<uint64_t> pagetables;         // v2 pagetables
    std::optional<uint64_t> sec_pagetables;     // v2 sec_pagetables
    std::optional<uint64_t> percpu;             // v2 percpu
    std::optional<uint64_t> zswap;              // v2 zswap
    std::optional<uint64_t> zswapped;           // v2 zswapped
    std::optional<uint64_t> swapcached;         // v2 swapcached (6.x)
    // v1 only: the limits already folded over all ancestors by the kernel.
    std::optional<uint64_t> hierarchical_memory_limit;  // nullopt when unlimited
    std::optional<uint64_t> hierarchical_memsw_limit;   // nullopt when unlimited
    // Event counts (not bytes), indexed like kMemoryEventNames; nullopt = not reported.
    std::array<std::optional<uint64_t>, kMemoryEventCount> events{};
};
// Unknown keys are ignored; a line that is not "key number" is an error.
Result<MemoryStat> parse_memory_stat(std::string_view text, CgroupVersion version);

// ---- cpu ------------------------------------------------------------------

struct CpuQuota {
    uint64_t quota_us = 0;
    uint64_t period_us = 0;
    friend bool operator==(const CpuQuota&, const CpuQuota&) = default;
};
// v2 `cpu.max`: "max 100000" → nullopt; "150000 100000" → {150000, 100000}.
Result<std::optional<CpuQuota>> parse_cpu_max(std::string_view text);
// v1 `cpu.cfs_quota_us` ("-1" → nullopt) and `cpu.cfs_period_us`.
Result<std::optional<CpuQuota>> parse_cfs_quota(std::string_view quota_text, std::string_view period_text);

// CPU time consumed, nanoseconds.
struct CpuUsage {
    uint64_t user_ns = 0;
    uint64_t system_ns = 0;
    friend bool operator==(const CpuUsage&, const CpuUsage&) = default;
};
// v2 `cpu.stat` (user_usec, system_usec). When only usage_usec is present the
// whole of it is user time.
Result<CpuUsage> parse_cpu_stat_usage(std::string_view text);
// v1 `cpuacct.usage_all`: header "cpu user system", then one line per host
// CPU. The result is indexed by host CPU number (gaps are zero).
Result<std::vector<CpuUsage>> parse_cpuacct_usage_all(std::string_view text);

// v1 `cpuacct.usage_percpu`: precise nanoseconds per host CPU, space-separated.
Result<std::vector<uint64_t>> parse_cpuacct_usage_percpu(std::string_view text);

// ---- io -------------------------------------------------------------------

struct DeviceIo {
    unsigned major = 0;
    unsigned minor = 0;
    uint64_t read_ios = 0, write_ios = 0, discard_ios = 0;
    uint64_t read_bytes = 0, write_bytes = 0, discard_bytes = 0;
    // Milliseconds spent, where the kernel reports them (v1 CFQ/BFQ
    // io_service_time); nullopt elsewhere.
    std::optional<uint64_t> read_ms, write_ms;
    friend bool operator==(const DeviceIo&, const DeviceIo&) = default;
};
// v2 `io.stat`: "MAJ:MIN rbytes=N wbytes=N rios=N wios=N dbytes=N dios=N",
// unknown key=value pairs ignored. Sorted by (major, minor).
Result<std::vector<DeviceIo>> parse_io_stat(std::string_view text);
// v1 blkio: `blkio.throttle.io_serviced_recursive` and
// `blkio.throttle.io_service_bytes_recursive` ("MAJ:MIN Read N" … "Total N"),
// optionally `blkio.io_service_time_recursive` (nanoseconds). Sorted.
Result<std::vector<DeviceIo>> parse_blkio(std::string_view serviced, std::string_view service_bytes,
                                          std::optional<std::string_view> service_time_ns = std::nullopt);

// ---- membership -------------------------------------------------------------

// /proc/<pid>/cgroup. v1 lines "N:ctrl1,ctrl2:/path", the unified line "0::/path".
struct CgroupMembership {
    std::optional<std::string> unified;             // path in the v2 hierarchy
    std::map<std::string, std::string> controllers; // v1 controller ("memory", "name=systemd") → path
    friend bool operator==(const CgroupMembership&, const CgroupMembership&) = default;
};
Result<CgroupMembership> parse_proc_pid_cgroup(std::string_view text);
// "/a/b/init.scope" → "/a/b"; "/init.scope" → "/"; other paths unchanged.
std::string strip_init_scope(std::string_view path);

// ---- processes ------------------------------------------------------------

// /proc/<pid>/stat. The comm field may hold spaces and ')' (the last ')' ends it).
struct ProcStat {
    pid_t pid = 0;
    char state = '?';
    pid_t ppid = 0;
    uint64_t start_ticks = 0;  // field 22: clock ticks after boot
    uint64_t num_threads = 0;  // field 20
};
Result<ProcStat> parse_proc_pid_stat(std::string_view text);

// The "NSpid:" line of /proc/<pid>/status: pids from the outermost to the
// innermost namespace. An error when the line is absent or malformed.
Result<std::vector<pid_t>> parse_status_nspid(std::string_view status_text);
// The "Tgid:" line of /proc/<tid>/status: the process a thread belongs to.
Result<pid_t> parse_status_tgid(std::string_view status_text);

}  // namespace procview
