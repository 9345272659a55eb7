// v1 per-CPU usage split between user and system so that both counters only
// grow, within one daemon's life and across its restarts.
//
// cpuacct has each CPU's usage exactly (usage_percpu) but its user/system
// split only tick-sampled (usage_all), and the tick-sampled split overcounts
// a throttled cgroup by a third. Scaling the exact total by the sampled ratio
// (as the kernel's cputime_adjust does) makes each field jitter: the ratio
// moves both ways, so user can drop a tick while system rises. The kernel
// hides that with its previous values in memory; a floor in our memory would
// be lost on kill -9, and a floor on disk would cost a write per read.
//
// Instead the split is piecewise linear in the exact total: from an anchor
// (the total and user share at some moment, and the tick counters then),
// user = anchor user + (total − anchor total) × a fixed share. Both fields
// grow with the total, and the split is a pure function of (anchor, total),
// so a daemon that reads the anchor back computes exactly what its
// predecessor showed. An anchor is replaced (and must be saved first) once a
// second of tick-sampled usage gives a new share: the recent ratio, steered
// so the split meets the cumulative tick ratio again within one more period.
#pragma once

#include <cstdint>
#include <vector>

#include "core/cgroup_files.hpp"

namespace procview {

// One host CPU's cpuacct counters: the exact usage and the tick-sampled split.
struct CpuSample {
    uint64_t total_ns = 0;
    uint64_t tick_user_ns = 0, tick_system_ns = 0;
    friend bool operator==(const CpuSample&, const CpuSample&) = default;
};

// v1 cpuacct.usage_all's tick-sampled split with usage_percpu's exact totals
// (the sampled sum where usage_percpu has no entry), indexed by host CPU.
std::vector<CpuSample> cpuacct_samples(const std::vector<CpuUsage>& tick_split, const std::vector<uint64_t>& exact_ns);

inline constexpr uint32_t kSplitPpm = 1'000'000;
// Tick-sampled usage since an anchor that makes a new share worth keeping.
inline constexpr uint64_t kReanchorTickNs = 1'000'000'000;

struct SplitAnchor {
    uint64_t total_ns = 0, user_ns = 0;  // the split at the anchor; user_ns ≤ total_ns
    uint64_t tick_user_ns = 0, tick_system_ns = 0;
    uint32_t user_ppm = kSplitPpm;  // user's share of usage after the anchor
    friend bool operator==(const SplitAnchor&, const SplitAnchor&) = default;
};

// The cumulative sampled ratio applied to the exact total (all user before any tick).
SplitAnchor first_anchor(const CpuSample& sample);
// The split of `total_ns` ≥ anchor.total_ns.
CpuUsage split_at(const SplitAnchor& anchor, uint64_t total_ns);
// Whether `sample` still belongs to the anchor's counters: none went back.
bool anchor_applies(const SplitAnchor& anchor, const CpuSample& sample);
bool anchor_due(const SplitAnchor& anchor, const CpuSample& sample);
// A new anchor at `sample`, continuous with the old one.
SplitAnchor next_anchor(const SplitAnchor& anchor, const CpuSample& sample);

// The anchors of one container's host CPUs.
class CpuSplitter {
public:
    struct Split {
        std::vector<CpuUsage> per_cpu;
        bool anchors_changed = false;  // save anchors() before showing per_cpu
    };
    // `may_reanchor`: whether a due share may replace an anchor now (the
    // caller rate-limits the saves that follow); a CPU with no usable anchor
    // always gets one.
    Split split(const std::vector<CpuSample>& samples, bool may_reanchor);
    [[nodiscard]] const std::vector<SplitAnchor>& anchors() const { return anchors_; }
    void restore(std::vector<SplitAnchor> anchors) { anchors_ = std::move(anchors); }

private:
    std::vector<SplitAnchor> anchors_;
};

}  // namespace procview
