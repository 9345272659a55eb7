#include "bench/server_usage.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <string>

#include "platform/unique_fd.hpp"

namespace procview::bench {
namespace {

std::optional<std::uint64_t> parse_u64(std::string_view text) {
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end == text.data()) return std::nullopt;
    return value;
}

// Whitespace-separated field `index` (0-based) of `text`.
std::optional<std::string_view> field(std::string_view text, std::size_t index) {
    std::size_t pos = 0;
    for (std::size_t i = 0;; ++i) {
        pos = text.find_first_not_of(' ', pos);
        if (pos == std::string_view::npos) return std::nullopt;
        std::size_t end = text.find(' ', pos);
        if (end == std::string_view::npos) end = text.size();
        if (i == index) return text.substr(pos, end - pos);
        pos = end;
    }
}

std::optional<std::string> slurp(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return std::nullopt;
    std::string out;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) return std::nullopt;
        if (n == 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

}  // namespace

std::optional<std::uint64_t> parse_stat_cpu_ticks(std::string_view stat_line) {
    // The command name (field 2) may hold spaces and parentheses, so count
    // fields from the last ')': field 3 (state) is the first after it.
    auto paren = stat_line.rfind(')');
    if (paren == std::string_view::npos) return std::nullopt;
    auto rest = stat_line.substr(paren + 1);
    auto utime = field(rest, 11);
    auto stime = field(rest, 12);
    if (!utime || !stime) return std::nullopt;
    auto u = parse_u64(*utime);
    auto s = parse_u64(*stime);
    if (!u || !s) return std::nullopt;
    return *u + *s;
}

std::optional<std::uint64_t> parse_status_kb(std::string_view status, std::string_view key) {
    std::size_t pos = 0;
    while (pos < status.size()) {
        std::size_t end = status.find('\n', pos);
        if (end == std::string_view::npos) end = status.size();
        auto line = status.substr(pos, end - pos);
        if (line.size() > key.size() && line.starts_with(key) && line[key.size()] == ':') {
            auto value = line.substr(key.size() + 1);
            auto start = value.find_first_not_of(" \t");
            if (start == std::string_view::npos) return std::nullopt;
            value.remove_prefix(start);
            auto stop = value.find_first_not_of("0123456789");
            return parse_u64(value.substr(0, stop));
        }
        pos = end + 1;
    }
    return std::nullopt;
}

std::vector<pid_t> parse_child_pids(std::string_view children) {
    std::vector<pid_t> pids;
    for (std::size_t i = 0;; ++i) {
        auto text = field(children, i);
        if (!text) break;
        auto value = parse_u64(*text);
        if (value && *value > 0) pids.push_back(static_cast<pid_t>(*value));
    }
    return pids;
}

namespace {

std::optional<ServerUsage> sample_one(pid_t pid) {
    const std::string dir = "/proc/" + std::to_string(pid);
    auto stat = slurp(dir + "/stat");
    auto status = slurp(dir + "/status");
    if (!stat || !status) return std::nullopt;
    auto ticks = parse_stat_cpu_ticks(*stat);
    if (!ticks) return std::nullopt;
    // A zombie has no VmRSS line: report 0 rather than failing the sample.
    return ServerUsage{*ticks, parse_status_kb(*status, "VmRSS").value_or(0)};
}

}  // namespace

std::optional<ServerUsage> sample_server_usage(pid_t pid) {
    auto usage = sample_one(pid);
    if (!usage) return std::nullopt;
    // Children are listed per thread (a keeper respawned by the watcher
    // thread is that thread's child).
    const std::string tasks = "/proc/" + std::to_string(pid) + "/task";
    DIR* dir = ::opendir(tasks.c_str());
    while (auto* entry = dir ? ::readdir(dir) : nullptr) {
        if (entry->d_name[0] == '.') continue;
        auto children = slurp(tasks + "/" + entry->d_name + "/children");
        for (pid_t child : parse_child_pids(children.value_or(""))) {
            if (auto c = sample_one(child)) {
                usage->cpu_ticks += c->cpu_ticks;
                usage->rss_kb += c->rss_kb;
            }
        }
    }
    if (dir) ::closedir(dir);
    return usage;
}

std::optional<HostCpu> parse_host_cpu(std::string_view proc_stat) {
    if (!proc_stat.starts_with("cpu ")) return std::nullopt;
    auto line = proc_stat.substr(4, proc_stat.find('\n') == std::string_view::npos ? std::string_view::npos
                                                                                   : proc_stat.find('\n') - 4);
    // user nice system idle iowait irq softirq steal (guest time is already
    // counted in user and nice).
    HostCpu cpu;
    for (std::size_t i = 0; i < 8; ++i) {
        auto text = field(line, i);
        if (!text) return i >= 4 ? std::optional<HostCpu>(cpu) : std::nullopt;
        auto value = parse_u64(*text);
        if (!value) return std::nullopt;
        cpu.total_ticks += *value;
        if (i != 3 && i != 4) cpu.busy_ticks += *value;
    }
    return cpu;
}

std::optional<HostCpu> sample_host_cpu() {
    auto text = slurp("/proc/stat");
    if (!text) return std::nullopt;
    return parse_host_cpu(*text);
}

double ticks_to_ms(std::uint64_t ticks) {
    static const long kTicksPerSecond = ::sysconf(_SC_CLK_TCK);
    return static_cast<double>(ticks) * 1000.0 / static_cast<double>(kTicksPerSecond > 0 ? kTicksPerSecond : 100);
}

}  // namespace procview::bench
