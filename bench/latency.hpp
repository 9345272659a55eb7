// Latency summaries for the benchmark: pure functions over samples in ns.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace procview::bench {

struct LatencySummary {
    std::uint64_t count = 0;
    double p50_us = 0;
    double p99_us = 0;
    double p999_us = 0;
    double max_us = 0;
    double mean_us = 0;
};

// Nearest-rank percentile (q in [0, 1]) of samples sorted ascending; 0 when
// empty. Nearest-rank never interpolates, so p99.9 of 100 samples is the max
// — a reported latency is always one that really happened.
std::uint64_t percentile_sorted(std::span<const std::uint64_t> sorted, double q);

// Sorts `samples` in place and summarises them.
LatencySummary summarize(std::vector<std::uint64_t>& samples);

}  // namespace procview::bench
