// cpuacct_samples, first_anchor, split_at, next_anchor, CpuSplitter (cpu_split.hpp).
#include "core/cpu_split.hpp"

#include <algorithm>

namespace procview {
namespace {

__extension__ using Wide = unsigned __int128;

// a × b / c without overflow; c > 0 and the quotient fits (b ≤ c everywhere here).
uint64_t mul_div(uint64_t a, uint64_t b, uint64_t c) { return static_cast<uint64_t>(static_cast<Wide>(a) * b / c); }

// user's share of the tick-sampled usage, in ppm; all user when nothing was sampled.
uint32_t sampled_ppm(uint64_t user_ns, uint64_t system_ns) {
    if (user_ns + system_ns == 0) return kSplitPpm;
    return static_cast<uint32_t>(mul_div(user_ns, kSplitPpm, user_ns + system_ns));
}

}  // namespace

std::vector<CpuSample> cpuacct_samples(const std::vector<CpuUsage>& tick_split, const std::vector<uint64_t>& exact_ns) {
    std::vector<CpuSample> out(std::max(tick_split.size(), exact_ns.size()));
    for (std::size_t cpu = 0; cpu < out.size(); ++cpu) {
        CpuUsage ticks = cpu < tick_split.size() ? tick_split[cpu] : CpuUsage{};
        out[cpu].tick_user_ns = ticks.user_ns;
        out[cpu].tick_system_ns = ticks.system_ns;
        out[cpu].total_ns = cpu < exact_ns.size() ? exact_ns[cpu] : ticks.user_ns + ticks.system_ns;
    }
    return out;
}

SplitAnchor first_anchor(const CpuSample& s) {
    uint32_t ppm = sampled_ppm(s.tick_user_ns, s.tick_system_ns);
    return SplitAnchor{s.total_ns, mul_div(s.total_ns, ppm, kSplitPpm), s.tick_user_ns, s.tick_system_ns, ppm};
}

CpuUsage split_at(const SplitAnchor& a, uint64_t total_ns) {
    uint64_t since = total_ns > a.total_ns ? total_ns - a.total_ns : 0;
    uint64_t user = a.user_ns + mul_div(since, a.user_ppm, kSplitPpm);
    uint64_t total = a.total_ns + since;
    return CpuUsage{user, total - user};
}

bool anchor_applies(const SplitAnchor& a, const CpuSample& s) {
    return s.total_ns >= a.total_ns && s.tick_user_ns >= a.tick_user_ns && s.tick_system_ns >= a.tick_system_ns &&
           a.user_ns <= a.total_ns && a.user_ppm <= kSplitPpm;
}

bool anchor_due(const SplitAnchor& a, const CpuSample& s) {
    return (s.tick_user_ns - a.tick_user_ns) + (s.tick_system_ns - a.tick_system_ns) >= kReanchorTickNs;
}

SplitAnchor next_anchor(const SplitAnchor& a, const CpuSample& s) {
    const uint64_t user_now = split_at(a, s.total_ns).user_ns;
    const uint64_t since = s.total_ns - a.total_ns;
    // The recent share, plus what closes the gap to the cumulative sampled
    // split over another period as long as this one.
    int64_t ppm = sampled_ppm(s.tick_user_ns - a.tick_user_ns, s.tick_system_ns - a.tick_system_ns);
    if (since > 0) {
        const uint64_t target = mul_div(s.total_ns, sampled_ppm(s.tick_user_ns, s.tick_system_ns), kSplitPpm);
        const uint64_t gap = target > user_now ? target - user_now : user_now - target;
        const Wide steer_ppm = std::min<Wide>(static_cast<Wide>(gap) * kSplitPpm / since, kSplitPpm);
        const auto steer = static_cast<int64_t>(steer_ppm);
        ppm += target > user_now ? steer : -steer;
    }
    ppm = std::clamp<int64_t>(ppm, 0, kSplitPpm);
    return SplitAnchor{s.total_ns, user_now, s.tick_user_ns, s.tick_system_ns, static_cast<uint32_t>(ppm)};
}

CpuSplitter::Split CpuSplitter::split(const std::vector<CpuSample>& samples, bool may_reanchor) {
    Split out;
    out.per_cpu.resize(samples.size());
    if (anchors_.size() < samples.size()) anchors_.resize(samples.size(), SplitAnchor{UINT64_MAX, 0, 0, 0, 0});
    for (std::size_t cpu = 0; cpu < samples.size(); ++cpu) {
        SplitAnchor& a = anchors_[cpu];
        const CpuSample& s = samples[cpu];
        if (!anchor_applies(a, s)) {  // a new CPU, or counters that restarted
            a = first_anchor(s);
            out.anchors_changed = true;
        } else if (may_reanchor && anchor_due(a, s)) {
            a = next_anchor(a, s);
            out.anchors_changed = true;
        }
        out.per_cpu[cpu] = split_at(a, s.total_ns);
    }
    return out;
}

}  // namespace procview
