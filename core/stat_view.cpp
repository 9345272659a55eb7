// compute_cpu_times, MonotonicCpuTimes, CapacityIntegral, usage_baseline, render_stat, render_uptime.
#include <algorithm>
#include <cmath>

#include "core/text.hpp"
#include "core/views.hpp"

namespace procview {

namespace {

constexpr uint64_t kNsPerTick = 1'000'000'000 / kUserHz;

// Seconds → USER_HZ ticks, floored; negative or NaN → 0. The epsilon keeps
// 8.03 s (802.9999… in binary) from printing as 8.02.
uint64_t seconds_to_ticks(double seconds) {
    double ticks = seconds * static_cast<double>(kUserHz) + 1e-6;
    if (!(ticks > 0)) return 0;
    if (ticks >= 1.8e19) return UINT64_MAX;
    return static_cast<uint64_t>(ticks);
}

uint64_t saturating_sub(uint64_t a, uint64_t b) { return a > b ? a - b : 0; }

void append_times(std::string& out, const CpuTimes& t) {
    for (uint64_t v : {t.user, t.nice, t.system, t.idle, t.iowait, t.irq, t.softirq, t.steal, t.guest, t.guest_nice}) {
        out += ' ';
        append_u64(out, v);
    }
}

const std::string* find_kept(const HostStat& host, std::string_view key) {
    for (const auto& line : host.kept_lines)
        if (line.size() > key.size() && line.compare(0, key.size(), key) == 0 && line[key.size()] == ' ') return &line;
    return nullptr;
}

void append_line(std::string& out, const std::string* line) {
    if (!line) return;
    out.append(*line);
    out += '\n';
}

void append_counter(std::string& out, std::string_view key, uint64_t value) {
    out.append(key);
    out += ' ';
    append_u64(out, value);
    out += '\n';
}

// The part of `u` beyond `seconds` of CPU time, split in u's user:system
// ratio (the rounding goes to system, so each part stays ≤ u's own).
CpuUsage usage_beyond(const CpuUsage& u, double seconds) {
    const uint64_t used = u.user_ns + u.system_ns;
    double allowed_ns = std::max(seconds, 0.0) * 1e9;
    if (!(static_cast<double>(used) > allowed_ns)) return {};
    const uint64_t excess = std::min(used, static_cast<uint64_t>(static_cast<double>(used) - allowed_ns));
    __extension__ typedef unsigned __int128 u128;  // excess × user_ns overflows 64 bits past ~4 CPU-seconds
    const auto user = static_cast<uint64_t>(static_cast<u128>(excess) * u.user_ns / used);
    return CpuUsage{user, std::min(excess - user, u.system_ns)};
}

// "%lu.%02lu" truncated to hundredths, as the kernel's uptime_proc_show prints.
void append_centiseconds(std::string& out, double seconds) {
    uint64_t cs = seconds_to_ticks(seconds);
    append_u64(out, cs / 100);
    out += '.';
    out += static_cast<char>('0' + cs % 100 / 10);
    out += static_cast<char>('0' + cs % 10);
}

}  // namespace

std::vector<CpuTimes> compute_cpu_times(const CpuView& view, const CpuAccounting& accounting) {
    const std::size_t n = view.count();
    std::vector<CpuTimes> times(n);
    if (n == 0) return times;

    const bool per_cpu = accounting.per_host_cpu && std::fabs(view.capacity - static_cast<double>(n)) < 1e-9;
    if (per_cpu) {
        // Not narrowed by a quota: each view CPU is a whole host CPU, so it
        // shows that CPU's own usage and is idle for the rest of the uptime.
        const auto& usage = *accounting.per_host_cpu;
        const uint64_t uptime_ticks = seconds_to_ticks(accounting.uptime_seconds);
        for (std::size_t i = 0; i < n; ++i) {
            unsigned host_cpu = view.host_cpus.cpus()[i];
            CpuUsage u = host_cpu < usage.size() ? usage[host_cpu] : CpuUsage{};
            times[i].user = u.user_ns / kNsPerTick;
            times[i].system = u.system_ns / kNsPerTick;
            times[i].idle = saturating_sub(uptime_ticks, times[i].user + times[i].system);
        }
        return times;
    }
    // Spread evenly; remainders go to the lowest CPUs so the sum is exact and
    // every CPU's share only grows as the total grows.
    const uint64_t user = accounting.total.user_ns / kNsPerTick;
    const uint64_t system = accounting.total.system_ns / kNsPerTick;
    const uint64_t capacity_per_cpu = seconds_to_ticks(accounting.capacity_seconds / static_cast<double>(n));
    for (std::size_t i = 0; i < n; ++i) {
        times[i].user = user / n + (i < user % n ? 1 : 0);
        times[i].system = system / n + (i < system % n ? 1 : 0);
        times[i].idle = saturating_sub(capacity_per_cpu, times[i].user + times[i].system);
    }
    return times;
}

void MonotonicCpuTimes::apply(std::vector<CpuTimes>& times) {
    if (floor_.size() < times.size()) floor_.resize(times.size());
    apply_floor(times, floor_);
}

void apply_floor(std::vector<CpuTimes>& times, std::span<CpuTimes> floor) {
    for (std::size_t i = 0; i < times.size() && i < floor.size(); ++i) {
        CpuTimes& t = times[i];
        CpuTimes& f = floor[i];
        for (auto field : {&CpuTimes::user, &CpuTimes::nice, &CpuTimes::system, &CpuTimes::idle, &CpuTimes::iowait,
                           &CpuTimes::irq, &CpuTimes::softirq, &CpuTimes::steal, &CpuTimes::guest,
                           &CpuTimes::guest_nice}) {
            t.*field = std::max(t.*field, f.*field);
            f.*field = t.*field;
        }
    }
}

double CapacityIntegral::advance(double now_seconds, double capacity) {
    if (!started_) {
        started_ = true;
        total_ = capacity * std::max(now_seconds, 0.0);
    } else {
        total_ += last_capacity_ * std::max(now_seconds - last_time_, 0.0);
    }
    last_time_ = std::max(now_seconds, last_time_);
    last_capacity_ = capacity;
    return total_;
}

void CapacityIntegral::resume(const State& state) {
    started_ = true;
    last_time_ = state.time;
    last_capacity_ = state.capacity;
    total_ = state.total;
}

UsageBaseline usage_baseline(const CpuAccounting& first) {
    UsageBaseline out;
    out.total = usage_beyond(first.total, first.capacity_seconds);
    if (first.per_host_cpu) {
        out.per_host_cpu.reserve(first.per_host_cpu->size());
        for (const auto& u : *first.per_host_cpu) out.per_host_cpu.push_back(usage_beyond(u, first.uptime_seconds));
    }
    return out;
}

void subtract_baseline(CpuAccounting& acct, const UsageBaseline& baseline) {
    auto minus = [](CpuUsage& u, const CpuUsage& b) {
        u.user_ns = saturating_sub(u.user_ns, b.user_ns);
        u.system_ns = saturating_sub(u.system_ns, b.system_ns);
    };
    minus(acct.total, baseline.total);
    if (!acct.per_host_cpu) return;
    auto& per_cpu = *acct.per_host_cpu;
    for (std::size_t i = 0; i < per_cpu.size() && i < baseline.per_host_cpu.size(); ++i)
        minus(per_cpu[i], baseline.per_host_cpu[i]);
}

std::string render_stat(const std::vector<CpuTimes>& cpus, const HostStat& host, const StatTail& tail) {
    std::string out;
    std::size_t kept = 0;
    for (const auto& line : host.kept_lines) kept += line.size() + 1;
    out.reserve(kept + (cpus.size() + 1) * 64 + 96);

    CpuTimes sum;
    for (const auto& t : cpus) {
        sum.user += t.user;
        sum.nice += t.nice;
        sum.system += t.system;
        sum.idle += t.idle;
        sum.iowait += t.iowait;
        sum.irq += t.irq;
        sum.softirq += t.softirq;
        sum.steal += t.steal;
        sum.guest += t.guest;
        sum.guest_nice += t.guest_nice;
    }
    out.append("cpu ");
    append_times(out, sum);
    out += '\n';
    for (std::size_t i = 0; i < cpus.size(); ++i) {
        out.append("cpu");
        append_u64(out, i);
        append_times(out, cpus[i]);
        out += '\n';
    }
    // The kernel's order (fs/proc/stat.c show_stat).
    append_line(out, find_kept(host, "intr"));
    append_line(out, find_kept(host, "ctxt"));
    append_counter(out, "btime", tail.btime);
    append_line(out, find_kept(host, "processes"));
    append_counter(out, "procs_running", tail.procs_running);
    append_counter(out, "procs_blocked", tail.procs_blocked);
    append_line(out, find_kept(host, "softirq"));
    return out;
}

ContainerClock container_clock(double host_boottime_seconds, uint64_t host_btime, uint64_t init_start_ticks,
                               const std::optional<ClockOffset>& boottime_offset) {
    ContainerClock out;
    if (boottime_offset) {
        out.uptime_seconds = std::max(0.0, host_boottime_seconds + boottime_offset->as_seconds());
        // floor(host boot − offset), the boot's own fraction unknown: the lower of the two candidates.
        int64_t shift = boottime_offset->seconds + (boottime_offset->nanoseconds > 0 ? 1 : 0);
        int64_t btime = static_cast<int64_t>(host_btime) - shift;
        out.btime = btime > 0 ? static_cast<uint64_t>(btime) : 0;
        return out;
    }
    double start = static_cast<double>(init_start_ticks) / static_cast<double>(kUserHz);
    out.uptime_seconds = std::max(0.0, host_boottime_seconds - start);
    out.btime = host_btime + init_start_ticks / kUserHz;
    return out;
}

std::string render_uptime(double uptime_seconds, double idle_seconds) {
    std::string out;
    out.reserve(48);
    append_centiseconds(out, uptime_seconds);
    out += ' ';
    append_centiseconds(out, idle_seconds);
    out += '\n';
    return out;
}

}  // namespace procview
