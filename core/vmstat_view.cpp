// render_vmstat: /proc/vmstat as the container's cgroup accounts it.
//
// Every line of the host's file is kept, in the kernel's order and with its
// name, so tools that parse by name (procps vmstat, sar, node_exporter) or by
// position (old sysstat builds) keep working. Each value follows one rule:
//
// | rule      | lines                                                          | value                              |
// |-----------|----------------------------------------------------------------|------------------------------------|
// | meminfo   | nr_free_pages (MemFree), nr_{in,}active_{anon,file},            | the container's /proc/meminfo line |
// |           | nr_zone_* of the same, nr_unevictable, nr_mlock, nr_anon_pages, | as procviewfs renders it, in pages |
// |           | nr_mapped, nr_dirty, nr_writeback, nr_writeback_temp, nr_shmem, | (nr_kernel_stack in kB, the        |
// |           | nr_slab_{reclaimable,unreclaimable}, nr_kernel_stack,           | *hugepages/*pmdmapped lines in PMD |
// |           | nr_page_table_pages, nr_sec_page_table_pages, nr_swapcached,    | pages, as the kernel prints them)  |
// |           | nr_bounce, nr_free_cma, nr_unaccepted, nr_*hugepages,           |                                    |
// |           | nr_*pmdmapped                                                   |                                    |
// | computed  | nr_file_pages = Cached + SwapCached + Buffers;                  | from the same meminfo lines        |
// |           | nr_zone_write_pending = Dirty + Writeback;                      |                                    |
// |           | nr_kernel_misc_reclaimable = KReclaimable − SReclaimable        |                                    |
// | scaled    | nr_dirty_threshold, nr_dirty_background_threshold              | host × container dirtyable ÷ host  |
// |           |                                                                | dirtyable (MemFree + file LRU)     |
// | events    | pgfault, pgmajfault, pgscan_*, pgsteal_*, pgrefill, pgactivate, | the cgroup's memory.stat counter   |
// |           | pgdeactivate, pglazyfree(d), workingset_* (not _nodes), thp_*,  | of the same name (v1: total_NAME); |
// |           | zswp*, pswpin/pswpout, swp*_zero, numa_* balancing, pgdemote_*  | 0 when memory.stat lacks it        |
// |           | (the list: kMemoryEventNames)                                  |                                    |
// | block I/O | pgpgin, pgpgout                                                 | the cgroup's read/written bytes ÷  |
// |           |                                                                | 1024 (io.stat / blkio), 0 unknown  |
// | zero      | everything else: numa_hit…, pgalloc_*, pgfree, allocstall_*,    | 0                                  |
// |           | compact_*, nr_vmscan_*, nr_dirtied, nr_written, nr_zspages,     |                                    |
// |           | workingset_nodes, oom_kill, direct_map_*, lines of newer kernels|                                    |
//
// No line is the host's own counter: a host-wide number under the container's
// name would contradict its meminfo (a free count above its MemTotal) or show
// other tenants' activity (faults, swap, reclaim) as its own.
#include <algorithm>
#include <array>
#include <limits>

#include "core/text.hpp"
#include "core/views.hpp"

namespace procview {

namespace {

enum class Unit : uint8_t { pages, kb, pmd };

// A vmstat line that shows one meminfo line of the container.
struct FromMeminfo {
    std::string_view vmstat;
    std::string_view meminfo;
    Unit unit;
};

// Sorted by vmstat name for binary search (one lookup per host line per read).
constexpr std::array kFromMeminfo{
    FromMeminfo{"nr_active_anon", "Active(anon)", Unit::pages},
    FromMeminfo{"nr_active_file", "Active(file)", Unit::pages},
    FromMeminfo{"nr_anon_pages", "AnonPages", Unit::pages},
    FromMeminfo{"nr_anon_transparent_hugepages", "AnonHugePages", Unit::pmd},
    FromMeminfo{"nr_bounce", "Bounce", Unit::pages},
    FromMeminfo{"nr_dirty", "Dirty", Unit::pages},
    FromMeminfo{"nr_file_hugepages", "FileHugePages", Unit::pmd},
    FromMeminfo{"nr_file_pmdmapped", "FilePmdMapped", Unit::pmd},
    FromMeminfo{"nr_free_cma", "CmaFree", Unit::pages},
    FromMeminfo{"nr_free_pages", "MemFree", Unit::pages},
    FromMeminfo{"nr_inactive_anon", "Inactive(anon)", Unit::pages},
    FromMeminfo{"nr_inactive_file", "Inactive(file)", Unit::pages},
    FromMeminfo{"nr_kernel_stack", "KernelStack", Unit::kb},
    FromMeminfo{"nr_mapped", "Mapped", Unit::pages},
    FromMeminfo{"nr_mlock", "Mlocked", Unit::pages},
    FromMeminfo{"nr_page_table_pages", "PageTables", Unit::pages},
    FromMeminfo{"nr_sec_page_table_pages", "SecPageTables", Unit::pages},
    FromMeminfo{"nr_shmem", "Shmem", Unit::pages},
    FromMeminfo{"nr_shmem_hugepages", "ShmemHugePages", Unit::pmd},
    FromMeminfo{"nr_shmem_pmdmapped", "ShmemPmdMapped", Unit::pmd},
    FromMeminfo{"nr_slab_reclaimable", "SReclaimable", Unit::pages},
    FromMeminfo{"nr_slab_unreclaimable", "SUnreclaim", Unit::pages},
    FromMeminfo{"nr_swapcached", "SwapCached", Unit::pages},
    FromMeminfo{"nr_unaccepted", "Unaccepted", Unit::pages},
    FromMeminfo{"nr_unevictable", "Unevictable", Unit::pages},
    FromMeminfo{"nr_writeback", "Writeback", Unit::pages},
    FromMeminfo{"nr_writeback_temp", "WritebackTmp", Unit::pages},
    FromMeminfo{"nr_zone_active_anon", "Active(anon)", Unit::pages},
    FromMeminfo{"nr_zone_active_file", "Active(file)", Unit::pages},
    FromMeminfo{"nr_zone_inactive_anon", "Inactive(anon)", Unit::pages},
    FromMeminfo{"nr_zone_inactive_file", "Inactive(file)", Unit::pages},
    FromMeminfo{"nr_zone_unevictable", "Unevictable", Unit::pages},
};
static_assert(std::is_sorted(kFromMeminfo.begin(), kFromMeminfo.end(),
                             [](const FromMeminfo& a, const FromMeminfo& b) { return a.vmstat < b.vmstat; }));

const FromMeminfo* lookup_meminfo_rule(std::string_view key) {
    auto it = std::lower_bound(kFromMeminfo.begin(), kFromMeminfo.end(), key,
                               [](const FromMeminfo& r, std::string_view k) { return r.vmstat < k; });
    return it != kFromMeminfo.end() && it->vmstat == key ? &*it : nullptr;
}

uint64_t saturating_add(uint64_t a, uint64_t b) {
    return a > std::numeric_limits<uint64_t>::max() - b ? std::numeric_limits<uint64_t>::max() : a + b;
}

// The container's and the host's meminfo in kB, by key; 0 when absent.
uint64_t kb_of(const std::vector<MeminfoLine>& lines, std::string_view key) {
    return meminfo_value(lines, key).value_or(0);
}

uint64_t in_unit(uint64_t kb, Unit unit, const VmstatInputs& in) {
    switch (unit) {
        case Unit::kb: return kb;
        case Unit::pages: return in.page_size >= 1024 ? kb / (in.page_size / 1024) : 0;
        case Unit::pmd: return in.pmd_size >= 1024 ? kb / (in.pmd_size / 1024) : 0;
    }
    return 0;
}

// MemFree + file LRU: the kernel's global_dirtyable_memory() without its
// reserves, which the thresholds are a ratio of.
uint64_t dirtyable_kb(const std::vector<MeminfoLine>& lines) {
    return saturating_add(kb_of(lines, "MemFree"),
                          saturating_add(kb_of(lines, "Active(file)"), kb_of(lines, "Inactive(file)")));
}

uint64_t scaled_threshold(uint64_t host_value, const VmstatInputs& in) {
    uint64_t host = dirtyable_kb(in.host_meminfo);
    uint64_t mine = std::min(dirtyable_kb(in.meminfo), host);
    if (host == 0) return 0;
    // long double: host_value × mine can overflow 64 bits.
    auto scaled = static_cast<long double>(host_value) * static_cast<long double>(mine) / static_cast<long double>(host);
    return std::min(host_value, static_cast<uint64_t>(scaled));
}

uint64_t io_kb(const std::optional<std::vector<DeviceIo>>& io, bool read) {
    if (!io) return 0;
    uint64_t bytes = 0;
    for (const auto& d : *io) bytes = saturating_add(bytes, read ? d.read_bytes : d.write_bytes);
    return bytes / 1024;
}

uint64_t computed_value(std::string_view key, const VmstatInputs& in, bool& known) {
    known = true;
    const auto& m = in.meminfo;
    // Each meminfo line is within MemTotal, a sum of them need not be: clamp it too.
    const uint64_t total = meminfo_value(m, "MemTotal").value_or(std::numeric_limits<uint64_t>::max());
    if (key == "nr_file_pages")
        return in_unit(std::min(total, saturating_add(kb_of(m, "Cached"),
                                                      saturating_add(kb_of(m, "SwapCached"), kb_of(m, "Buffers")))),
                       Unit::pages, in);
    if (key == "nr_zone_write_pending")
        return in_unit(std::min(total, saturating_add(kb_of(m, "Dirty"), kb_of(m, "Writeback"))), Unit::pages, in);
    if (key == "nr_kernel_misc_reclaimable") {
        uint64_t k = kb_of(m, "KReclaimable"), s = kb_of(m, "SReclaimable");
        return in_unit(k > s ? k - s : 0, Unit::pages, in);
    }
    if (key == "pgpgin") return io_kb(in.io, true);
    if (key == "pgpgout") return io_kb(in.io, false);
    known = false;
    return 0;
}

uint64_t line_value(const VmstatLine& line, const VmstatInputs& in) {
    if (const FromMeminfo* rule = lookup_meminfo_rule(line.key)) return in_unit(kb_of(in.meminfo, rule->meminfo), rule->unit, in);
    bool known = false;
    uint64_t value = computed_value(line.key, in, known);
    if (known) return value;
    if (line.key == "nr_dirty_threshold" || line.key == "nr_dirty_background_threshold")
        return scaled_threshold(line.value, in);
    if (auto i = memory_event_index(line.key); i < kMemoryEventCount) return in.stat.events[i].value_or(0);
    return 0;
}

}  // namespace

std::string render_vmstat(const std::vector<VmstatLine>& host, const VmstatInputs& in) {
    std::string out;
    out.reserve(host.size() * 32);
    for (const auto& line : host) {
        out.append(line.key);
        out += ' ';
        append_u64(out, line_value(line, in));
        out += '\n';
    }
    return out;
}

}  // namespace procview
