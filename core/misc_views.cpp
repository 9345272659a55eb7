// LoadAverage, render_loadavg, render_diskstats, render_cpu_range.
#include <algorithm>
#include <charconv>

#include "core/text.hpp"
#include "core/views.hpp"

namespace procview {

namespace {

// kernel/sched/loadavg.c calc_load(); `active` is a task count.
uint64_t calc_load(uint64_t load, uint64_t exp, uint64_t active) {
    constexpr uint64_t kFixed1 = LoadAverage::kFixed1;
    uint64_t scaled = active * kFixed1;
    uint64_t next = load * exp + scaled * (kFixed1 - exp);
    if (scaled >= load) next += kFixed1 - 1;  // round up while rising
    return next / kFixed1;
}

// "%lu.%02lu" of a fixed-point load, rounded the kernel's way (FIXED_1/200 added first).
void append_load(std::string& out, uint64_t load) {
    constexpr uint64_t kFixed1 = LoadAverage::kFixed1;
    uint64_t x = load + kFixed1 / 200;
    uint64_t whole = x >> LoadAverage::kFracBits;
    uint64_t frac = ((x & (kFixed1 - 1)) * 100) >> LoadAverage::kFracBits;
    append_u64(out, whole);
    out += '.';
    out += static_cast<char>('0' + frac / 10);
    out += static_cast<char>('0' + frac % 10);
}

void append_padded(std::string& out, uint64_t v, std::size_t width) {
    char digits[20];
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, v);
    (void)ec;
    auto len = static_cast<std::size_t>(end - digits);
    if (len < width) out.append(width - len, ' ');
    out.append(digits, len);
}

bool any_counter(const DeviceIo& d) {
    return d.read_ios || d.write_ios || d.discard_ios || d.read_bytes || d.write_bytes || d.discard_bytes ||
           d.read_ms.value_or(0) || d.write_ms.value_or(0);
}

}  // namespace

void LoadAverage::seed(unsigned active) { avenrun_.fill(uint64_t{active} * kFixed1); }

void LoadAverage::sample(unsigned active) {
    for (std::size_t i = 0; i < avenrun_.size(); ++i) avenrun_[i] = calc_load(avenrun_[i], kExp[i], active);
}

std::string render_loadavg(const std::array<uint64_t, 3>& avenrun, unsigned running, unsigned total, pid_t last_pid) {
    std::string out;
    out.reserve(48);
    for (std::size_t i = 0; i < avenrun.size(); ++i) {
        append_load(out, avenrun[i]);
        out += ' ';
    }
    append_u64(out, running);
    out += '/';
    append_u64(out, total);
    out += ' ';
    if (last_pid < 0) {
        out += '-';
        append_u64(out, static_cast<uint64_t>(-static_cast<int64_t>(last_pid)));
    } else {
        append_u64(out, static_cast<uint64_t>(last_pid));
    }
    out += '\n';
    return out;
}

std::string render_diskstats(const std::vector<DiskName>& host_names, const std::vector<DeviceIo>& io) {
    std::vector<const DeviceIo*> used;
    for (const auto& d : io)
        if (any_counter(d)) used.push_back(&d);
    std::sort(used.begin(), used.end(), [](const DeviceIo* a, const DeviceIo* b) {
        return a->major != b->major ? a->major < b->major : a->minor < b->minor;
    });

    std::string out;
    out.reserve(used.size() * 96);
    for (const DeviceIo* d : used) {
        auto name = std::find_if(host_names.begin(), host_names.end(),
                                 [d](const DiskName& n) { return n.major == d->major && n.minor == d->minor; });
        if (name == host_names.end()) continue;
        const uint64_t read_ms = d->read_ms.value_or(0), write_ms = d->write_ms.value_or(0);
        append_padded(out, d->major, 4);
        out += ' ';
        append_padded(out, d->minor, 7);
        out += ' ';
        out.append(name->name);
        // reads, merged, sectors, ms; writes, merged, sectors, ms; in flight,
        // io ms, weighted ms; discards, merged, sectors, ms; flushes, ms.
        for (uint64_t v : {d->read_ios, uint64_t{0}, d->read_bytes / 512, read_ms,
                           d->write_ios, uint64_t{0}, d->write_bytes / 512, write_ms,
                           uint64_t{0}, read_ms + write_ms, read_ms + write_ms,
                           d->discard_ios, uint64_t{0}, d->discard_bytes / 512, uint64_t{0},
                           uint64_t{0}, uint64_t{0}}) {
            out += ' ';
            append_u64(out, v);
        }
        out += '\n';
    }
    return out;
}

std::string render_cpu_range(std::size_t n) {
    std::string out;
    if (n > 0) {
        out += '0';
        if (n > 1) {
            out += '-';
            append_u64(out, n - 1);
        }
    }
    out += '\n';
    return out;
}

}  // namespace procview
