// memory_facts, render_meminfo and render_swaps.
#include <algorithm>
#include <array>
#include <charconv>
#include <limits>

#include "core/text.hpp"
#include "core/views.hpp"

namespace procview {

namespace {

uint64_t kb(uint64_t bytes) { return bytes / 1024; }
uint64_t kb(const std::optional<uint64_t>& bytes) { return bytes.value_or(0) / 1024; }

uint64_t saturating_add(uint64_t a, uint64_t b) {
    return a > std::numeric_limits<uint64_t>::max() - b ? std::numeric_limits<uint64_t>::max() : a + b;
}

// Minimum over the files that parse to a limit; unreadable or garbage files
// are "no limit" (a limit we cannot read must not hide the host's memory).
std::optional<uint64_t> min_limit(const std::vector<std::optional<std::string_view>>& files) {
    std::optional<uint64_t> result;
    for (const auto& text : files) {
        if (!text) continue;
        auto limit = parse_memory_limit(*text);
        if (!limit || !*limit) continue;
        result = result ? std::min(*result, **limit) : **limit;
    }
    return result;
}

std::optional<uint64_t> min_optional(std::optional<uint64_t> a, std::optional<uint64_t> b) {
    if (!a) return b;
    if (!b) return a;
    return std::min(*a, *b);
}

// The meminfo lines whose value comes from the cgroup; every other kB line is
// the host's, clamped to MemTotal.
enum class Field : uint8_t {
    MemTotal, MemFree, MemAvailable, Buffers, Cached, SwapCached, Active, Inactive,
    ActiveAnon, InactiveAnon, ActiveFile, InactiveFile, Unevictable, Mlocked, SwapTotal, SwapFree,
    Zswap, Zswapped, Dirty, Writeback, AnonPages, Mapped, Shmem, KReclaimable, Slab, SReclaimable,
    SUnreclaim, KernelStack, PageTables, SecPageTables, Percpu, AnonHugePages, ShmemHugePages,
    FileHugePages, Hugepagesize, Count
};

struct FieldName {
    std::string_view key;
    Field field;
};

// Sorted by key for binary search (one lookup per host line per read).
constexpr std::array kFieldNames{
    FieldName{"Active", Field::Active},
    FieldName{"Active(anon)", Field::ActiveAnon},
    FieldName{"Active(file)", Field::ActiveFile},
    FieldName{"AnonHugePages", Field::AnonHugePages},
    FieldName{"AnonPages", Field::AnonPages},
    FieldName{"Buffers", Field::Buffers},
    FieldName{"Cached", Field::Cached},
    FieldName{"Dirty", Field::Dirty},
    FieldName{"FileHugePages", Field::FileHugePages},
    FieldName{"Hugepagesize", Field::Hugepagesize},
    FieldName{"Inactive", Field::Inactive},
    FieldName{"Inactive(anon)", Field::InactiveAnon},
    FieldName{"Inactive(file)", Field::InactiveFile},
    FieldName{"KReclaimable", Field::KReclaimable},
    FieldName{"KernelStack", Field::KernelStack},
    FieldName{"Mapped", Field::Mapped},
    FieldName{"MemAvailable", Field::MemAvailable},
    FieldName{"MemFree", Field::MemFree},
    FieldName{"MemTotal", Field::MemTotal},
    FieldName{"Mlocked", Field::Mlocked},
    FieldName{"PageTables", Field::PageTables},
    FieldName{"Percpu", Field::Percpu},
    FieldName{"SReclaimable", Field::SReclaimable},
    FieldName{"SUnreclaim", Field::SUnreclaim},
    FieldName{"SecPageTables", Field::SecPageTables},
    FieldName{"Shmem", Field::Shmem},
    FieldName{"ShmemHugePages", Field::ShmemHugePages},
    FieldName{"Slab", Field::Slab},
    FieldName{"SwapCached", Field::SwapCached},
    FieldName{"SwapFree", Field::SwapFree},
    FieldName{"SwapTotal", Field::SwapTotal},
    FieldName{"Unevictable", Field::Unevictable},
    FieldName{"Writeback", Field::Writeback},
    FieldName{"Zswap", Field::Zswap},
    FieldName{"Zswapped", Field::Zswapped},
};
static_assert(std::is_sorted(kFieldNames.begin(), kFieldNames.end(),
                             [](const FieldName& a, const FieldName& b) { return a.key < b.key; }));

Field lookup_field(std::string_view key) {
    auto it = std::lower_bound(kFieldNames.begin(), kFieldNames.end(), key,
                               [](const FieldName& f, std::string_view k) { return f.key < k; });
    return it != kFieldNames.end() && it->key == key ? it->field : Field::Count;
}

// A host amount by key, whatever its suffix: every kernel prints these keys
// in kB; a copy without " kB" (a broken --proc-root file) is taken as kB too,
// so a cgroup-scoped line is never the host's value under the container's name.
std::optional<uint64_t> host_amount(const std::vector<MeminfoLine>& host, std::string_view key) {
    for (const auto& line : host)
        if (line.key == key) return line.value;
    return std::nullopt;
}

struct SwapNumbers {
    uint64_t total_kb = 0;
    uint64_t free_kb = 0;
};

SwapNumbers swap_numbers(const std::vector<MeminfoLine>& host, const MemoryFacts& facts, const MemoryOptions& options) {
    // v1 memory.swappiness 0 means the cgroup never swaps.
    bool enabled = options.swap && !(facts.swappiness && *facts.swappiness == 0);
    if (!enabled) return {};
    uint64_t host_total = host_amount(host, "SwapTotal").value_or(0);
    uint64_t total = facts.swap_limit ? std::min(kb(*facts.swap_limit), host_total) : host_total;
    uint64_t used = std::min(kb(facts.swap_usage), total);
    return {total, total - used};
}

// The values of the cgroup-scoped lines, in kB. A field the cgroup version
// does not report is 0, not the host's.
std::array<uint64_t, static_cast<std::size_t>(Field::Count)> cgroup_values(const std::vector<MeminfoLine>& host,
                                                                          const MemoryFacts& facts,
                                                                          const MemoryOptions& options) {
    const MemoryStat& s = facts.stat;
    std::array<uint64_t, static_cast<std::size_t>(Field::Count)> v{};
    auto set = [&v](Field f, uint64_t value) { v[static_cast<std::size_t>(f)] = value; };

    uint64_t host_total = host_amount(host, "MemTotal").value_or(facts.limit ? kb(*facts.limit) : 0);
    uint64_t total = facts.limit ? std::min(kb(*facts.limit), host_total) : host_total;
    uint64_t free = total - std::min(kb(facts.usage), total);
    uint64_t reclaimable = saturating_add(saturating_add(s.active_file.value_or(0), s.inactive_file.value_or(0)),
                                          s.slab_reclaimable.value_or(0));
    set(Field::MemTotal, total);
    set(Field::MemFree, free);
    set(Field::MemAvailable, saturating_add(free, kb(reclaimable)));
    set(Field::Buffers, 0);
    set(Field::Cached, kb(s.file));
    set(Field::SwapCached, kb(s.swapcached));
    set(Field::Active, kb(saturating_add(s.active_anon.value_or(0), s.active_file.value_or(0))));
    set(Field::Inactive, kb(saturating_add(s.inactive_anon.value_or(0), s.inactive_file.value_or(0))));
    set(Field::ActiveAnon, kb(s.active_anon));
    set(Field::InactiveAnon, kb(s.inactive_anon));
    set(Field::ActiveFile, kb(s.active_file));
    set(Field::InactiveFile, kb(s.inactive_file));
    set(Field::Unevictable, kb(s.unevictable));
    set(Field::Mlocked, 0);
    SwapNumbers swap = swap_numbers(host, facts, options);
    set(Field::SwapTotal, swap.total_kb);
    set(Field::SwapFree, swap.free_kb);
    set(Field::Zswap, kb(s.zswap));
    set(Field::Zswapped, kb(s.zswapped));
    set(Field::Dirty, kb(s.file_dirty));
    set(Field::Writeback, kb(s.file_writeback));
    set(Field::AnonPages, kb(s.anon));
    set(Field::Mapped, kb(s.file_mapped));
    set(Field::Shmem, kb(s.shmem));
    set(Field::KReclaimable, kb(s.slab_reclaimable));
    set(Field::SReclaimable, kb(s.slab_reclaimable));
    set(Field::SUnreclaim, kb(s.slab_unreclaimable));
    set(Field::Slab, s.slab ? kb(*s.slab)
                            : kb(saturating_add(s.slab_reclaimable.value_or(0), s.slab_unreclaimable.value_or(0))));
    set(Field::KernelStack, kb(s.kernel_stack));
    set(Field::PageTables, kb(s.pagetables));
    set(Field::SecPageTables, kb(s.sec_pagetables));
    set(Field::Percpu, kb(s.percpu));
    set(Field::AnonHugePages, kb(s.anon_thp));
    set(Field::ShmemHugePages, kb(s.shmem_thp));
    set(Field::FileHugePages, kb(s.file_thp));
    return v;
}

// The kernel's layout: "Key:" padded to 16 columns and the value to 8 for kB
// lines ("Key:" of 16+ characters gets one space); "HugePages_*:" count lines
// pad the key to 19 and the value to 5. Both end the number in column 24.
void append_meminfo_line(std::string& out, std::string_view key, uint64_t value, bool has_kb) {
    const std::size_t label_width = has_kb ? 16 : 19;
    constexpr std::size_t kNumberEnd = 24;
    std::size_t label = key.size() + 1;
    out.append(key);
    out += ':';
    if (label < label_width) {
        out.append(label_width - label, ' ');
        label = label_width;
    } else {
        out += ' ';
        ++label;
    }
    char digits[20];
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
    (void)ec;
    auto len = static_cast<std::size_t>(end - digits);
    if (label + len < kNumberEnd) out.append(kNumberEnd - label - len, ' ');
    out.append(digits, len);
    out.append(has_kb ? " kB\n" : "\n");
}

// Kernel swap_show(): the path padded to 40 columns, then tab-separated
// columns with an extra tab after numbers below 10,000,000.
void append_swap_line(std::string& out, std::string_view path, std::string_view type, uint64_t size_kb,
                      uint64_t used_kb, int priority) {
    out.append(path);
    out.append(path.size() < 40 ? 40 - path.size() : 1, ' ');
    out.append(type);
    out += '\t';
    append_u64(out, size_kb);
    out.append(size_kb < 10000000 ? "\t\t" : "\t");
    append_u64(out, used_kb);
    out.append(used_kb < 10000000 ? "\t\t" : "\t");
    out.append(std::to_string(priority));
    out += '\n';
}

}  // namespace

Result<MemoryFacts> memory_facts(const MemoryFiles& files) {
    const bool v1 = files.version == CgroupVersion::v1;
    const char* usage_name = v1 ? "memory.usage_in_bytes" : "memory.current";
    if (!files.stat) return make_error(ENOENT, "memory.stat is unreadable");
    if (!files.usage) return make_error(ENOENT, std::string(usage_name) + " is unreadable");
    auto stat = parse_memory_stat(*files.stat, files.version);
    if (!stat) return stat.error();
    auto usage = parse_single_counter(*files.usage);
    if (!usage) return usage.error().context(usage_name);

    MemoryFacts facts;
    facts.stat = std::move(*stat);
    facts.usage = *usage;
    facts.limit = min_limit(files.limits);
    std::optional<uint64_t> swap_usage;
    if (files.swap_usage)
        if (auto parsed = parse_single_counter(*files.swap_usage)) swap_usage = *parsed;
    if (!v1) {
        facts.swap_limit = min_limit(files.swap_limits);
        facts.swap_usage = swap_usage;
        return facts;
    }
    // v1: the kernel folds ancestors' limits into hierarchical_*; the memsw
    // files count memory + swap, so swap alone is the difference.
    facts.limit = min_optional(facts.limit, facts.stat.hierarchical_memory_limit);
    std::optional<uint64_t> memsw_limit = min_optional(min_limit(files.swap_limits), facts.stat.hierarchical_memsw_limit);
    if (memsw_limit && facts.limit) facts.swap_limit = *memsw_limit > *facts.limit ? *memsw_limit - *facts.limit : 0;
    if (swap_usage) facts.swap_usage = *swap_usage > facts.usage ? *swap_usage - facts.usage : 0;
    if (files.swappiness)
        if (auto parsed = parse_single_counter(*files.swappiness)) facts.swappiness = *parsed;
    return facts;
}

namespace {

// Calls emit(key, value, has_kb) for each host line with the container's value.
template <class Emit>
void for_each_container_line(const std::vector<MeminfoLine>& host, const MemoryFacts& facts,
                             const MemoryOptions& options, Emit&& emit) {
    const auto values = cgroup_values(host, facts, options);
    const uint64_t total = values[static_cast<std::size_t>(Field::MemTotal)];
    for (const auto& line : host) {
        uint64_t value = line.value;
        Field field = lookup_field(line.key);
        // A known key is an amount in kB even when a broken host copy lost the suffix.
        bool amount = line.has_kb || field != Field::Count;
        if (amount) {
            if (field == Field::SwapTotal || field == Field::SwapFree)
                value = values[static_cast<std::size_t>(field)];
            else if (field == Field::Hugepagesize)
                value = line.value;  // a page size, not an amount of memory
            else if (field == Field::Count)
                value = std::min(line.value, total);
            else
                value = std::min(values[static_cast<std::size_t>(field)], total);
        }
        emit(line.key, value, amount);
    }
}

}  // namespace

std::vector<MeminfoLine> container_meminfo(const std::vector<MeminfoLine>& host, const MemoryFacts& facts,
                                          const MemoryOptions& options) {
    std::vector<MeminfoLine> out;
    out.reserve(host.size());
    for_each_container_line(host, facts, options, [&](const std::string& key, uint64_t value, bool has_kb) {
        out.push_back(MeminfoLine{key, value, has_kb});
    });
    return out;
}

std::string render_meminfo(const std::vector<MeminfoLine>& host, const MemoryFacts& facts,
                           const MemoryOptions& options) {
    std::string out;
    out.reserve(host.size() * 32);
    // Formatted as it goes: the hot path of every meminfo read allocates no line copies.
    for_each_container_line(host, facts, options, [&](std::string_view key, uint64_t value, bool has_kb) {
        append_meminfo_line(out, key, value, has_kb);
    });
    return out;
}

MeminfoAmounts meminfo_amounts(const std::vector<MeminfoLine>& host, const MemoryFacts& facts,
                               const MemoryOptions& options) {
    const auto v = cgroup_values(host, facts, options);
    auto at = [&v](Field f) { return v[static_cast<std::size_t>(f)]; };
    const uint64_t total = at(Field::MemTotal);
    // Clamped to MemTotal as render_meminfo clamps them; swap is not.
    return MeminfoAmounts{total,
                          std::min(at(Field::MemFree), total),
                          std::min(at(Field::MemAvailable), total),
                          std::min(at(Field::Shmem), total),
                          std::min(at(Field::Buffers), total),
                          at(Field::SwapTotal),
                          at(Field::SwapFree)};
}

MeminfoAmounts host_meminfo_amounts(const std::vector<MeminfoLine>& host) {
    auto get = [&host](std::string_view key) { return host_amount(host, key).value_or(0); };
    return MeminfoAmounts{get("MemTotal"), get("MemFree"),   get("MemAvailable"), get("Shmem"),
                          get("Buffers"),  get("SwapTotal"), get("SwapFree")};
}

std::string render_swaps(const std::vector<MeminfoLine>& host, const MemoryFacts& facts,
                         const MemoryOptions& options) {
    std::string out = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n";
    SwapNumbers swap = swap_numbers(host, facts, options);
    if (swap.total_kb > 0) append_swap_line(out, "none", "virtual", swap.total_kb, swap.total_kb - swap.free_kb, 0);
    return out;
}

}  // namespace procview
