#include "bench/latency.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace procview::bench {

std::uint32_t percentile_sorted(std::span<const std::uint32_t> sorted, double q) {
    if (sorted.empty()) return 0;
    q = std::clamp(q, 0.0, 1.0);
    // Nearest rank: the smallest sample with at least q of all samples <= it.
    auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
    if (rank == 0) rank = 1;
    return sorted[rank - 1];
}

LatencySummary summarize(std::vector<std::uint32_t>& samples) {
    LatencySummary s;
    if (samples.empty()) return s;
    std::sort(samples.begin(), samples.end());
    constexpr double kNsPerUs = 1000.0;
    s.count = samples.size();
    s.p50_us = percentile_sorted(samples, 0.50) / kNsPerUs;
    s.p99_us = percentile_sorted(samples, 0.99) / kNsPerUs;
    s.p999_us = percentile_sorted(samples, 0.999) / kNsPerUs;
    s.max_us = samples.back() / kNsPerUs;
    double total = std::accumulate(samples.begin(), samples.end(), 0.0);
    s.mean_us = total / static_cast<double>(samples.size()) / kNsPerUs;
    return s;
}

}  // namespace procview::bench
