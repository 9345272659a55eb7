#include "bench/latency.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace procview::bench {

std::uint64_t percentile_sorted(std::span<const std::uint64_t> sorted, double q) {
    if (sorted.empty()) return 0;
    q = std::clamp(q, 0.0, 1.0);
    // Nearest rank: the smallest sample with at least q of all samples <= it.
    auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
    if (rank == 0) rank = 1;
    return sorted[rank - 1];
}

LatencySummary summarize(std::vector<std::uint64_t>& samples) {
    LatencySummary s;
    if (samples.empty()) return s;
    std::sort(samples.begin(), samples.end());
    auto us = [](std::uint64_t ns) { return static_cast<double>(ns) / 1000.0; };
    s.count = samples.size();
    s.p50_us = us(percentile_sorted(samples, 0.50));
    s.p99_us = us(percentile_sorted(samples, 0.99));
    s.p999_us = us(percentile_sorted(samples, 0.999));
    s.max_us = us(samples.back());
    double total = std::accumulate(samples.begin(), samples.end(), 0.0);
    s.mean_us = total / static_cast<double>(samples.size()) / 1000.0;
    return s;
}

}  // namespace procview::bench
