// Fuzz targets for the renderers fed with parsed fuzz input: whatever the
// cgroup and host files hold, rendering must not crash and must keep the
// contracts of core/views.hpp (nothing above MemTotal, SwapFree ≤ SwapTotal,
// the CPU count within the host's, counters that never go down…).
#include <algorithm>
#include <cmath>

#include "core/cpu_split.hpp"
#include "core/text.hpp"
#include "core/views.hpp"
#include "fuzz_input.hpp"
#include "fuzz_targets.hpp"

namespace procview::fuzz {

namespace {

std::optional<uint64_t> value_of(const std::vector<MeminfoLine>& lines, std::string_view key) {
    for (const auto& line : lines)
        if (line.key == key) return line.value;
    return std::nullopt;
}

std::optional<uint64_t> kb_value_of(const std::vector<MeminfoLine>& lines, std::string_view key) {
    for (const auto& line : lines)
        if (line.key == key && line.has_kb) return line.value;
    return std::nullopt;
}

// Seconds from a part holding a decimal number of hundredths (nullopt or garbage → 0).
double seconds_from(const std::optional<std::string_view>& part) {
    auto v = part ? parse_u64(*part) : std::nullopt;
    return v ? static_cast<double>(*v) / 100.0 : 0.0;
}

}  // namespace

// Parts: host meminfo, memory.stat, usage, swap usage, swappiness, two
// limits (cgroup, parent), two swap limits. Flags: bit 0 v1, bit 1 --no-swap.
int fuzz_render_memory(const uint8_t* data, std::size_t size) {
    auto text = as_text(data, size);
    uint8_t flags = take_flags(text);
    auto p = split_parts(text, 9);
    auto host = parse_meminfo(p[0].value_or(""));
    if (!host) return 0;
    MemoryFiles files;
    files.version = flags & 1 ? CgroupVersion::v1 : CgroupVersion::v2;
    files.stat = p[1];
    files.usage = p[2];
    files.swap_usage = p[3];
    files.swappiness = p[4];
    files.limits = {p[5], p[6]};
    files.swap_limits = {p[7], p[8]};
    auto facts = memory_facts(files);
    if (!facts) return 0;
    MemoryOptions options{!(flags & 2)};

    std::string meminfo = render_meminfo(*host, *facts, options);
    auto rendered = parse_meminfo(meminfo);
    FUZZ_CHECK(rendered.ok());
    FUZZ_CHECK(rendered->size() == host->size());
    // MemTotal is a kB line whenever the host has one, even from a host copy
    // that lost the suffix (regressions/render_memory), and bounds every other.
    auto total = kb_value_of(*rendered, "MemTotal");
    FUZZ_CHECK(total.has_value() == value_of(*host, "MemTotal").has_value());
    if (total) {
        if (facts->limit) FUZZ_CHECK(*total <= *facts->limit / 1024);
        if (auto host_total = value_of(*host, "MemTotal")) FUZZ_CHECK(*total <= *host_total);
        for (const auto& line : *rendered) {
            if (!line.has_kb || line.key == "SwapTotal" || line.key == "SwapFree" || line.key == "Hugepagesize")
                continue;
            FUZZ_CHECK(line.value <= *total);
        }
    }
    auto swap_total = value_of(*rendered, "SwapTotal"), swap_free = value_of(*rendered, "SwapFree");
    if (swap_total && swap_free) FUZZ_CHECK(*swap_free <= *swap_total);
    if (!options.swap && swap_total) FUZZ_CHECK(*swap_total == 0);

    std::string swaps = render_swaps(*host, *facts, options);
    FUZZ_CHECK(swaps.rfind("Filename\t", 0) == 0);
    FUZZ_CHECK(split_lines(swaps).size() <= 2);
    return 0;
}

// v1's user/system split (core/cpu_split.hpp) driven by the input's bytes,
// three per step (exact usage, tick-sampled user and system advances; the
// top bit of the first a counter reset): both fields only grow between
// resets, sum to the exact usage, and a splitter restored from the anchors
// computes the same.
void check_cpu_split(const uint8_t* data, std::size_t size) {
    constexpr uint64_t kMs = 1'000'000;
    CpuSample s{};
    CpuSplitter splitter;
    CpuUsage last{};
    for (std::size_t i = 0; i + 3 <= size; i += 3) {
        if (data[i] & 0x80) s = CpuSample{};
        s.total_ns += (data[i] & 0x7f) * kMs;
        s.tick_user_ns += (data[i + 1] % 8) * 4 * kMs;
        s.tick_system_ns += (data[i + 2] % 8) * 4 * kMs;
        auto out = splitter.split({s}, data[i + 1] & 0x80);
        const CpuUsage& u = out.per_cpu[0];
        FUZZ_CHECK(u.user_ns + u.system_ns == s.total_ns);
        if (!(data[i] & 0x80)) FUZZ_CHECK(u.user_ns >= last.user_ns && u.system_ns >= last.system_ns);
        last = u;
        CpuSplitter restored;
        restored.restore(splitter.anchors());
        FUZZ_CHECK(restored.split({s}, false).per_cpu[0] == u);
    }
}

// Parts: host cpuinfo, host online CPUs, cpuset.cpus.effective, two levels of
// quota (cpu.max, or cfs_quota_us + cfs_period_us), cpuacct.usage_all,
// cpu.stat, host /proc/stat, uptime and capacity-seconds in hundredths.
// Flags: bit 0 v1, bit 1 ignore quotas.
int fuzz_render_cpu(const uint8_t* data, std::size_t size) {
    auto text = as_text(data, size);
    uint8_t flags = take_flags(text);
    auto p = split_parts(text, 13);
    auto online = CpuSet::parse(p[1].value_or(""));
    if (!online) return 0;
    CpuFiles files;
    files.version = flags & 1 ? CgroupVersion::v1 : CgroupVersion::v2;
    files.effective_cpus = p[2];
    if (files.version == CgroupVersion::v2) {
        files.cpu_max = {p[3], p[5]};
    } else {
        files.cfs_quota = {p[3], p[5]};
        files.cfs_period = {p[4], p[6]};
    }
    bool use_quota = !(flags & 2);
    CpuView view = compute_cpu_view(files, *online, use_quota);
    FUZZ_CHECK(view.count() >= 1);
    if (!online->empty()) FUZZ_CHECK(view.count() <= online->size());
    for (unsigned cpu : view.host_cpus.cpus()) FUZZ_CHECK(online->empty() || online->contains(cpu));
    FUZZ_CHECK(!std::isnan(view.capacity) && view.capacity >= 0 && view.capacity <= static_cast<double>(view.count()));

    if (auto cpuinfo = parse_cpuinfo(p[0].value_or(""))) {
        std::string out = render_cpuinfo(*cpuinfo, view);
        // Every "processor" line, wherever it is: one per view CPU at most,
        // plus those the non-processor trailer carries verbatim (blocks not
        // separated by blank lines: regressions/render_cpu).
        auto processor_lines = [](std::string_view rendered) {
            std::size_t n = 0;
            for (auto line : split_lines(rendered)) {
                auto colon = line.find(':');
                if (colon != std::string_view::npos && trim(line.substr(0, colon)) == "processor") ++n;
            }
            return n;
        };
        FUZZ_CHECK(processor_lines(out) <= view.count() + processor_lines(cpuinfo->trailer));
    }

    CpuAccounting accounting;
    if (auto usage = parse_cpu_stat_usage(p[8].value_or(""))) accounting.total = *usage;
    if (p[7])
        if (auto per_cpu = parse_cpuacct_usage_all(*p[7])) accounting.per_host_cpu = std::move(*per_cpu);
    accounting.uptime_seconds = seconds_from(p[10]);
    accounting.capacity_seconds = seconds_from(p[11]);
    auto times = compute_cpu_times(view, accounting);
    FUZZ_CHECK(times.size() == view.count());
    MonotonicCpuTimes floor;
    auto first = times;
    floor.apply(first);
    auto second = compute_cpu_times(view, CpuAccounting{});  // a later read that sees less
    floor.apply(second);
    for (std::size_t i = 0; i < times.size(); ++i) {
        FUZZ_CHECK(second[i].user >= first[i].user && second[i].system >= first[i].system);
        FUZZ_CHECK(second[i].idle >= first[i].idle);
    }

    auto host_stat = parse_proc_stat(p[9].value_or(""));
    HostStat host = host_stat ? *host_stat : HostStat{};
    std::string stat = render_stat(first, host, StatTail{host.btime, 1, 0});
    auto lines = split_lines(stat);
    FUZZ_CHECK(lines.size() >= view.count() + 1);
    FUZZ_CHECK(lines[0].rfind("cpu ", 0) == 0);
    for (std::size_t i = 0; i < view.count(); ++i) FUZZ_CHECK(lines[i + 1].rfind("cpu" + std::to_string(i) + " ", 0) == 0);

    std::string uptime = render_uptime(accounting.uptime_seconds, seconds_from(p[12]));
    FUZZ_CHECK(split_fields(trim(uptime)).size() == 2 && uptime.back() == '\n');
    check_cpu_split(data, size);
    return 0;
}

// Parts: host diskstats, io.stat, blkio serviced, blkio service_bytes, then
// bytes driving the load average (one sample each). Flags: bit 0 v1.
int fuzz_render_misc(const uint8_t* data, std::size_t size) {
    auto text = as_text(data, size);
    uint8_t flags = take_flags(text);
    auto p = split_parts(text, 5);
    if (auto names = parse_diskstats_names(p[0].value_or(""))) {
        auto io = flags & 1 ? parse_blkio(p[2].value_or(""), p[3].value_or("")) : parse_io_stat(p[1].value_or(""));
        if (io) {
            std::string out = render_diskstats(*names, *io);
            auto lines = split_lines(out);
            FUZZ_CHECK(lines.size() <= io->size());
            for (auto line : lines) FUZZ_CHECK(split_fields(line).size() == 20);
        }
    }
    LoadAverage load;
    std::string_view samples = p[4].value_or("");
    load.seed(samples.empty() ? 0 : static_cast<unsigned char>(samples[0]));
    unsigned most = 0;
    for (unsigned char c : samples) {
        load.sample(c);
        most = std::max<unsigned>(most, c);
    }
    for (uint64_t avg : load.fixed()) FUZZ_CHECK(avg <= uint64_t{most} * LoadAverage::kFixed1);
    std::string out = render_loadavg(load.fixed(), most, most + 1, static_cast<pid_t>(samples.size()));
    FUZZ_CHECK(split_fields(trim(out)).size() == 5 && out.back() == '\n');
    return 0;
}

}  // namespace procview::fuzz
