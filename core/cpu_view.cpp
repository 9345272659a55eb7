// compute_cpu_view and render_cpuinfo.
#include <algorithm>
#include <cmath>

#include "core/text.hpp"
#include "core/views.hpp"

namespace procview {

namespace {

// The tightest quota/period among the cgroup and its ancestors; unreadable
// or garbage files count as "no limit" for that level.
std::optional<CpuQuota> tightest_quota(const CpuFiles& files) {
    std::optional<CpuQuota> best;
    auto consider = [&best](const Result<std::optional<CpuQuota>>& parsed) {
        if (!parsed || !*parsed) return;
        const CpuQuota& q = **parsed;
        auto ratio = [](const CpuQuota& c) { return static_cast<double>(c.quota_us) / static_cast<double>(c.period_us); };
        if (!best || ratio(q) < ratio(*best)) best = q;
    };
    if (files.version == CgroupVersion::v2) {
        for (const auto& text : files.cpu_max)
            if (text) consider(parse_cpu_max(*text));
    } else {
        std::size_t levels = std::min(files.cfs_quota.size(), files.cfs_period.size());
        for (std::size_t i = 0; i < levels; ++i)
            if (files.cfs_quota[i] && files.cfs_period[i])
                consider(parse_cfs_quota(*files.cfs_quota[i], *files.cfs_period[i]));
    }
    return best;
}

// Copies a cpuinfo line, replacing its value with `value` but keeping the
// host's key and separator ("core id\t\t: ").
void append_with_value(std::string& out, std::string_view line, std::size_t value) {
    auto colon = line.find(':');
    std::size_t keep = colon + 1;
    while (keep < line.size() && line[keep] == ' ') ++keep;
    out.append(line.substr(0, keep));
    append_u64(out, value);
    out += '\n';
}

}  // namespace

CpuView compute_cpu_view(const CpuFiles& files, const CpuSet& host_online, bool use_quota) {
    CpuSet cpus = host_online;
    if (files.effective_cpus) {
        if (auto parsed = CpuSet::parse(*files.effective_cpus); parsed && !parsed->empty()) {
            CpuSet narrowed = host_online.empty() ? *parsed : parsed->intersect(host_online);
            if (!narrowed.empty()) cpus = std::move(narrowed);
        }
    }
    // A view always has a CPU, even from nonsense input.
    if (cpus.empty()) cpus = CpuSet({0});

    CpuView view;
    std::optional<CpuQuota> quota = use_quota ? tightest_quota(files) : std::nullopt;
    std::size_t n = cpus.size();
    if (quota) {
        // ceil(quota/period) in integers: 150000/100000 → 2, 200000/100000 → 2.
        uint64_t whole = quota->quota_us / quota->period_us + (quota->quota_us % quota->period_us != 0 ? 1 : 0);
        n = static_cast<std::size_t>(std::clamp<uint64_t>(whole, 1, cpus.size()));
    }
    view.host_cpus = cpus.first(n);
    view.capacity = static_cast<double>(n);
    if (quota) {
        double ratio = static_cast<double>(quota->quota_us) / static_cast<double>(quota->period_us);
        view.capacity = std::min(ratio, static_cast<double>(n));
    }
    return view;
}

std::string render_cpuinfo(const HostCpuinfo& host, const CpuView& view) {
    const std::size_t n = view.count();
    std::string out;
    std::size_t size = host.trailer.size();
    for (unsigned cpu : view.host_cpus.cpus())
        if (auto it = host.blocks.find(cpu); it != host.blocks.end()) size += it->second.size() + 8;
    out.reserve(size);

    for (std::size_t i = 0; i < n; ++i) {
        auto it = host.blocks.find(view.host_cpus.cpus()[i]);
        if (it == host.blocks.end()) continue;
        for_each_line(it->second, [&](std::string_view line) {
            if (line.empty()) return;  // the block's final '\n'
            auto colon = line.find(':');
            std::string_view key = colon == std::string_view::npos ? std::string_view{} : trim(line.substr(0, colon));
            if (key == "processor" || key == "core id")
                append_with_value(out, line, i);
            else if (key == "siblings" || key == "cpu cores")
                append_with_value(out, line, n);
            else {
                out.append(line);
                out += '\n';
            }
        });
        out += '\n';
    }
    out.append(host.trailer);
    return out;
}

}  // namespace procview
