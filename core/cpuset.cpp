#include "core/cpuset.hpp"

#include <algorithm>
#include <iterator>

#include "core/text.hpp"

namespace procview {

namespace {
constexpr unsigned kMaxCpu = 65535;

Result<unsigned> parse_cpu_number(std::string_view token, std::string_view whole) {
    // Digits only: parse_u64 would also accept surrounding blanks ("0, 1").
    bool digits = !token.empty() && std::all_of(token.begin(), token.end(), [](char c) { return c >= '0' && c <= '9'; });
    auto value = digits ? parse_u64(token) : std::nullopt;
    if (!value)
        return invalid("cpu list `" + std::string(whole) + "`: `" + std::string(token) + "` is not a CPU number");
    if (*value > kMaxCpu)
        return invalid("cpu list `" + std::string(whole) + "`: CPU " + std::string(token) + " is above 65535");
    return static_cast<unsigned>(*value);
}
}  // namespace

CpuSet::CpuSet(std::vector<unsigned> cpus) : cpus_(std::move(cpus)) {
    std::sort(cpus_.begin(), cpus_.end());
    cpus_.erase(std::unique(cpus_.begin(), cpus_.end()), cpus_.end());
}

Result<CpuSet> CpuSet::parse(std::string_view text) {
    std::string_view list = trim(text);
    std::vector<unsigned> cpus;
    while (!list.empty()) {
        auto comma = list.find(',');
        std::string_view item = list.substr(0, comma);
        auto dash = item.find('-');
        auto first = parse_cpu_number(item.substr(0, dash), text);
        if (!first) return first.error();
        unsigned last = *first;
        if (dash != std::string_view::npos) {
            auto end = parse_cpu_number(item.substr(dash + 1), text);
            if (!end) return end.error();
            if (*end < *first)
                return invalid("cpu list `" + std::string(trim(text)) + "`: descending range `" + std::string(item) + "`");
            last = *end;
        }
        for (unsigned cpu = *first; cpu <= last; ++cpu) cpus.push_back(cpu);
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
        if (list.empty()) return invalid("cpu list `" + std::string(trim(text)) + "`: trailing comma");
    }
    return CpuSet(std::move(cpus));
}

std::string CpuSet::to_ranges() const {
    std::string out;
    for (std::size_t i = 0; i < cpus_.size();) {
        std::size_t j = i;
        while (j + 1 < cpus_.size() && cpus_[j + 1] == cpus_[j] + 1) ++j;
        if (!out.empty()) out += ',';
        append_u64(out, cpus_[i]);
        if (j > i) {
            out += '-';
            append_u64(out, cpus_[j]);
        }
        i = j + 1;
    }
    return out;
}

bool CpuSet::contains(unsigned cpu) const { return std::binary_search(cpus_.begin(), cpus_.end(), cpu); }

CpuSet CpuSet::intersect(const CpuSet& other) const {
    CpuSet result;
    std::set_intersection(cpus_.begin(), cpus_.end(), other.cpus_.begin(), other.cpus_.end(),
                          std::back_inserter(result.cpus_));
    return result;
}

CpuSet CpuSet::first(std::size_t n) const {
    CpuSet result;
    result.cpus_.assign(cpus_.begin(), cpus_.begin() + static_cast<std::ptrdiff_t>(std::min(n, cpus_.size())));
    return result;
}

}  // namespace procview
