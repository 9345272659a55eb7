// Fuzz target for render_vmstat: whatever the host's vmstat and meminfo and
// the cgroup's files hold, the output keeps the host's names and order, its
// page counts never exceed the container's MemTotal, the dirty thresholds
// never exceed the host's, and an event is memory.stat's or 0.
#include "core/text.hpp"
#include "core/views.hpp"
#include "fuzz_input.hpp"
#include "fuzz_targets.hpp"

namespace procview::fuzz {

// Parts: host vmstat, host meminfo, memory.stat, usage, limit, io.stat.
// Flags: bit 0 v1 memory files, bit 1 --no-swap, bit 2 64 KiB pages.
int fuzz_render_vmstat(const uint8_t* data, std::size_t size) {
    auto text = as_text(data, size);
    uint8_t flags = take_flags(text);
    auto p = split_parts(text, 6);
    auto host = parse_vmstat(p[0].value_or(""));
    auto host_meminfo = parse_meminfo(p[1].value_or(""));
    if (!host || !host_meminfo) return 0;
    MemoryFiles files;
    files.version = flags & 1 ? CgroupVersion::v1 : CgroupVersion::v2;
    files.stat = p[2];
    files.usage = p[3];
    files.limits = {p[4]};
    auto facts = memory_facts(files);
    if (!facts) return 0;
    std::optional<std::vector<DeviceIo>> io;
    if (p[5])
        if (auto parsed = parse_io_stat(*p[5])) io = std::move(*parsed);
    const auto meminfo = container_meminfo(*host_meminfo, *facts, MemoryOptions{!(flags & 2)});
    VmstatInputs in{meminfo, *host_meminfo, facts->stat, io};
    if (flags & 4) {
        in.page_size = 65536;
        in.pmd_size = 65536ULL * 8192;
    }
    auto rendered = parse_vmstat(render_vmstat(*host, in));
    FUZZ_CHECK(rendered.ok());
    FUZZ_CHECK(rendered->size() == host->size());
    // Bounded by MemTotal when the host has one (regressions/render_vmstat: a host copy without it).
    const auto total_kb = meminfo_value(meminfo, "MemTotal");
    const uint64_t total_pages = total_kb ? *total_kb / (in.page_size / 1024) : ~uint64_t{0};
    for (std::size_t i = 0; i < rendered->size(); ++i) {
        const auto& line = (*rendered)[i];
        FUZZ_CHECK(line.key == (*host)[i].key);
        if (line.key == "nr_free_pages" || line.key == "nr_file_pages" || line.key == "nr_anon_pages" ||
            line.key == "nr_shmem" || line.key == "nr_inactive_anon" || line.key == "nr_active_file")
            FUZZ_CHECK(line.value <= total_pages);
        if (line.key == "nr_dirty_threshold" || line.key == "nr_dirty_background_threshold")
            FUZZ_CHECK(line.value <= (*host)[i].value);
        if (auto e = memory_event_index(line.key); e < kMemoryEventCount)
            FUZZ_CHECK(line.value == facts->stat.events[e].value_or(0));
        if (line.key == "numa_hit" || line.key == "pgfree" || line.key == "nr_dirtied") FUZZ_CHECK(line.value == 0);
    }
    return 0;
}

}  // namespace procview::fuzz
