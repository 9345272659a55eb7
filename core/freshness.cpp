#include "core/freshness.hpp"

#include <algorithm>
#include <charconv>

namespace procview {
namespace {

constexpr int kPidShift = 41;
constexpr int kStartShift = 8;
constexpr uint64_t kStartMask = (uint64_t{1} << 33) - 1;

template <class T>
std::optional<T> parse_decimal(std::string_view text) {
    if (text.empty() || (text.size() > 1 && text[0] == '0')) return std::nullopt;
    T value{};
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
}

std::optional<pid_t> parse_pid(std::string_view text) {
    auto pid = parse_decimal<pid_t>(text);
    if (!pid || *pid <= 0 || *pid > kMaxContainerPid) return std::nullopt;
    return pid;
}

}  // namespace

std::string format_container_name(const ContainerName& name) {
    return std::to_string(name.pid) + "-" + std::to_string(name.start_ticks);
}

std::optional<ContainerName> parse_container_name(std::string_view text) {
    auto dash = text.find('-');
    if (dash == std::string_view::npos) return std::nullopt;
    auto pid = parse_pid(text.substr(0, dash));
    auto start = parse_decimal<uint64_t>(text.substr(dash + 1));
    if (!pid || !start) return std::nullopt;
    return ContainerName{*pid, *start};
}

std::optional<pid_t> parse_pid_alias(std::string_view text) {
    if (text.substr(0, 4) != "pid-") return std::nullopt;
    return parse_pid(text.substr(4));
}

uint64_t container_ino(const ContainerName& name, uint8_t index) {
    return (uint64_t{1} << 63) | (static_cast<uint64_t>(name.pid) << kPidShift) |
           ((name.start_ticks & kStartMask) << kStartShift) | index;
}

uint64_t alias_ino(pid_t pid) {
    return (uint64_t{1} << 63) | (static_cast<uint64_t>(pid) << kPidShift) | static_cast<uint8_t>(NodeIndex::alias);
}

pid_t pid_of_ino(uint64_t ino) { return static_cast<pid_t>((ino >> kPidShift) & kMaxContainerPid); }
uint8_t index_of_ino(uint64_t ino) { return static_cast<uint8_t>(ino & 0xff); }

bool start_matches(uint64_t ino, uint64_t start_ticks) {
    return ((ino >> kStartShift) & kStartMask) == (start_ticks & kStartMask);
}

double attr_timeout_s(int64_t age_ms, int64_t window_ms) {
    if (window_ms <= 0) return 0.0;
    return static_cast<double>(std::max<int64_t>(window_ms - age_ms, 0)) / 1000.0;
}

bool servable(int64_t age_ms, int64_t window_ms) { return window_ms > 0 && age_ms >= 0 && age_ms < window_ms; }

}  // namespace procview
