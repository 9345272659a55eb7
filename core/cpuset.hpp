// A set of CPU numbers as the kernel writes them: "0-3,8,10-11".
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "result.hpp"

namespace procview {

class CpuSet {
public:
    CpuSet() = default;
    explicit CpuSet(std::vector<unsigned> cpus);  // sorted and de-duplicated on construction

    // Accepts the kernel's list format, including an empty string (no CPUs)
    // and a trailing newline. Rejects garbage, descending ranges and CPU
    // numbers above 65535.
    static Result<CpuSet> parse(std::string_view text);

    // Kernel list format without newline, "" for the empty set.
    [[nodiscard]] std::string to_ranges() const;

    [[nodiscard]] std::size_t size() const { return cpus_.size(); }
    [[nodiscard]] bool empty() const { return cpus_.empty(); }
    [[nodiscard]] bool contains(unsigned cpu) const;
    [[nodiscard]] const std::vector<unsigned>& cpus() const { return cpus_; }
    [[nodiscard]] CpuSet intersect(const CpuSet& other) const;
    // The n lowest CPUs (all of them when n >= size()).
    [[nodiscard]] CpuSet first(std::size_t n) const;

    friend bool operator==(const CpuSet&, const CpuSet&) = default;

private:
    std::vector<unsigned> cpus_;
};

// "0-(n-1)\n", "0\n" for n == 1, "\n" for n == 0: the sysfs online/present/possible format.
std::string render_cpu_range(std::size_t n);

}  // namespace procview
