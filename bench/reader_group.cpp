#include "bench/reader_group.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <set>

#include "bench/reader_region.hpp"
#include "bench/server_usage.hpp"
#include "platform/unique_fd.hpp"

namespace procview::bench {
namespace {

using namespace detail;

// CPU time of the children this process has reaped (the readers).
double children_cpu_ms() {
    rusage usage{};
    ::getrusage(RUSAGE_CHILDREN, &usage);
    auto ms = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) * 1e3 + static_cast<double>(tv.tv_usec) / 1e3; };
    return ms(usage.ru_utime) + ms(usage.ru_stime);
}

struct Pipe {
    UniqueFd read_end;
    UniqueFd write_end;
};

Result<Pipe> make_pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return make_error(errno, "pipe2");
    return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// Blocks SIGINT, SIGTERM and SIGCHLD and takes them from a signalfd, so the
// driver sleeps until a reader exits instead of polling; the old mask is
// restored on destruction and in every child.
class InterruptWatch {
public:
    InterruptWatch() {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGCHLD);
        ::sigprocmask(SIG_BLOCK, &set, &old_);
        fd_.reset(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
    }
    ~InterruptWatch() { ::sigprocmask(SIG_SETMASK, &old_, nullptr); }
    InterruptWatch(const InterruptWatch&) = delete;
    InterruptWatch& operator=(const InterruptWatch&) = delete;
    [[nodiscard]] const sigset_t& old_mask() const { return old_; }
    // Waits up to timeout_ms for a signal; true when SIGINT or SIGTERM arrived
    // (SIGCHLD only wakes the caller).
    bool wait(int timeout_ms) {
        pollfd pfd{fd_.get(), POLLIN, 0};
        if (::poll(&pfd, 1, timeout_ms) <= 0) return false;
        bool interrupted = false;
        signalfd_siginfo info{};
        while (::read(fd_.get(), &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
            if (info.ssi_signo != SIGCHLD) interrupted = true;
        }
        return interrupted;
    }

private:
    sigset_t old_{};
    UniqueFd fd_;
};

class Driver {
public:
    Driver(const GroupOptions& options, SharedRegion& region) : opt_(options), region_(region) {}

    Result<GroupResult> run();

private:
    Result<void> spawn(Pipe& go, Pipe& lifeline);
    // Reaps what has exited; an error when a helper or reader failed during set-up.
    Result<void> reap(bool block);
    void abort_all(Pipe& go);
    void sample_server(GroupResult& out, bool at_start);
    GroupResult summarize_results(std::int64_t start);
    static void count_slow_reads(GroupResult& out, const std::uint64_t* latencies, const std::uint64_t* starts,
                                 std::uint64_t count, std::int64_t start);

    const GroupOptions& opt_;
    SharedRegion& region_;
    InterruptWatch interrupts_;
    std::set<pid_t> helpers_;
    unsigned workers_done_ = 0;
    std::uint64_t start_ticks_ = 0;
};

Result<void> Driver::spawn(Pipe& go, Pipe& lifeline) {
    for (unsigned i = 0; i < opt_.readers; ++i) {
        pid_t pid = ::fork();
        if (pid < 0) return make_error(errno, "fork reader helper " + std::to_string(i));
        if (pid == 0) {
            ::sigprocmask(SIG_SETMASK, &interrupts_.old_mask(), nullptr);
            go.write_end.reset();
            lifeline.write_end.reset();
            ReaderContext ctx{opt_, region_, i, go.read_end.get(), lifeline.read_end.get()};
            ctx.slot = i * opt_.threads_per_reader;
            helper_main(std::move(ctx));
        }
        helpers_.insert(pid);
    }
    return {};
}

Result<void> Driver::reap(bool block) {
    for (;;) {
        int status = 0;
        pid_t pid = ::waitpid(-1, &status, block ? 0 : WNOHANG);
        if (pid <= 0) return {};
        bool failed = !WIFEXITED(status) || WEXITSTATUS(status) != 0;
        bool is_helper = helpers_.count(pid) != 0;
        bool is_worker = !opt_.new_pid_namespace || !is_helper;
        if (is_worker) ++workers_done_;
        if (failed) {
            for (unsigned i = 0; i < total_slots(opt_); ++i) {
                Slot& s = region_.slot(i);
                if (s.setup_error[0] != '\0') {
                    return make_error(s.setup_errno, "reader " + std::to_string(i) + ": " + s.setup_error);
                }
            }
            return make_error(ECHILD, "reader process " + std::to_string(pid) + " failed (status " +
                                     std::to_string(status) + ")");
        }
    }
}

void Driver::abort_all(Pipe& go) {
    region_.header().started.store(0);
    go.write_end.reset();  // readers still at the barrier leave on their own
    for (pid_t pid : helpers_) ::kill(pid, SIGKILL);
    for (unsigned i = 0; i < opt_.readers; ++i) {
        pid_t worker = region_.slot(i * opt_.threads_per_reader).worker_pid.load();
        if (worker > 0) ::kill(worker, SIGKILL);
    }
    while (::waitpid(-1, nullptr, 0) > 0 || errno == EINTR) {
    }
}

void Driver::sample_server(GroupResult& out, bool at_start) {
    if (!opt_.server_pid) return;
    auto usage = sample_server_usage(*opt_.server_pid);
    if (!usage) return;
    if (at_start) start_ticks_ = usage->cpu_ticks;
    out.server_rss_kb_peak = std::max(out.server_rss_kb_peak.value_or(0), usage->rss_kb);
    if (!at_start) {
        out.server_rss_kb_end = usage->rss_kb;
        out.server_cpu_ticks = usage->cpu_ticks - start_ticks_;
        out.server_cpu_ms = ticks_to_ms(*out.server_cpu_ticks);
    }
}

Result<GroupResult> Driver::run() {
    auto go = make_pipe();
    auto lifeline = make_pipe();
    if (!go || !lifeline) return make_error(errno, "pipe2");
    // Readers reparent to us when their helper exits.
    if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) return make_error(errno, "PR_SET_CHILD_SUBREAPER");

    const std::int64_t spawned_at = now_ns();
    if (auto r = spawn(*go, *lifeline); !r) {
        abort_all(*go);
        return r.error();
    }
    const std::int64_t setup_deadline = spawned_at + 60 * kNsPerS;
    while (region_.header().ready.load() < opt_.readers) {
        if (auto r = reap(false); !r) {
            abort_all(*go);
            return r.error();
        }
        if (interrupts_.wait(1)) {
            abort_all(*go);
            return make_error(EINTR, "interrupted during set-up");
        }
        if (now_ns() > setup_deadline) {
            abort_all(*go);
            return make_error(ETIMEDOUT, "readers not ready after 60 s");
        }
    }
    GroupResult out;
    out.setup_ms = static_cast<double>(now_ns() - spawned_at) / kNsPerMs;
    // Leave the readers time to wake from the barrier before the clock starts.
    const std::int64_t start = now_ns() + 20 * kNsPerMs + static_cast<std::int64_t>(opt_.readers) * 20'000;
    region_.header().start_ns.store(start);
    region_.header().started.store(1);
    go->write_end.reset();
    sleep_until_ns(start);
    sample_server(out, true);
    const auto host_start = sample_host_cpu();
    const double children_start = children_cpu_ms();

    std::int64_t next_sample = start + kNsPerS;
    while (workers_done_ < opt_.readers) {
        if (auto r = reap(false); !r) {
            abort_all(*go);
            return r.error();
        }
        if (workers_done_ >= opt_.readers) break;
        int until_sample = static_cast<int>(std::max<std::int64_t>(0, next_sample - now_ns()) / kNsPerMs) + 1;
        if (interrupts_.wait(until_sample)) {
            abort_all(*go);
            return make_error(EINTR, "interrupted");
        }
        if (now_ns() >= next_sample) {
            GroupResult peak;
            sample_server(peak, false);
            out.server_rss_kb_peak = std::max(out.server_rss_kb_peak.value_or(0), peak.server_rss_kb_peak.value_or(0));
            next_sample += kNsPerS;
        }
    }
    auto peak = out.server_rss_kb_peak;
    sample_server(out, false);
    const auto host_end = sample_host_cpu();
    out.server_rss_kb_peak = std::max(peak.value_or(0), out.server_rss_kb_peak.value_or(0));
    // Helpers that already exited were reaped; collect any stragglers.
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
    GroupResult summary = summarize_results(start);
    if (host_start && host_end) summary.host_busy_ms = ticks_to_ms(host_end->busy_ticks - host_start->busy_ticks);
    summary.readers_cpu_ms = children_cpu_ms() - children_start;
    summary.setup_ms = out.setup_ms;
    summary.server_cpu_ms = out.server_cpu_ms;
    summary.server_cpu_ticks = out.server_cpu_ticks;
    summary.server_rss_kb_end = out.server_rss_kb_end;
    summary.server_rss_kb_peak = out.server_rss_kb_peak;
    return summary;
}

void Driver::count_slow_reads(GroupResult& out, const std::uint64_t* latencies, const std::uint64_t* starts,
                              std::uint64_t count, std::int64_t start) {
    const auto threshold = static_cast<std::uint64_t>(kSlowReadMs * kNsPerMs);
    for (std::uint64_t k = 0; k < count; ++k) {
        if (latencies[k] < threshold) continue;
        auto second = static_cast<std::size_t>(std::max<std::int64_t>(0, static_cast<std::int64_t>(starts[k]) - start) / kNsPerS);
        if (out.slow_reads_per_second.size() <= second) out.slow_reads_per_second.resize(second + 1, 0);
        ++out.slow_reads_per_second[second];
    }
}

GroupResult Driver::summarize_results(std::int64_t start) {
    GroupResult out;
    std::vector<std::uint64_t> all;
    std::vector<std::uint64_t> steady;
    std::int64_t last_end = start;
    out.reader_rate_min = HUGE_VAL;
    for (std::size_t f = 0; f < opt_.files.size(); ++f) {
        FileResult file{opt_.files[f], {}, 0};
        std::vector<std::uint64_t> samples;
        for (unsigned i = 0; i < total_slots(opt_); ++i) {
            Slot& s = region_.slot(i);
            const std::uint64_t* data = region_.samples(i, f);
            samples.insert(samples.end(), data, data + s.count[f]);
            if (opt_.interval_ms != 0 && s.count[f] > 1) steady.insert(steady.end(), data + 1, data + s.count[f]);
            if (const std::uint64_t* times = region_.times(i, f)) count_slow_reads(out, data, times, s.count[f], start);
            if (s.bytes[f] != 0) file.bytes = s.bytes[f];
        }
        all.insert(all.end(), samples.begin(), samples.end());
        file.latency = summarize(samples);
        out.files.push_back(std::move(file));
    }
    for (unsigned i = 0; i < total_slots(opt_); ++i) {
        Slot& s = region_.slot(i);
        std::uint64_t reads = 0;
        for (std::size_t f = 0; f < opt_.files.size(); ++f) reads += s.count[f];
        out.count += reads;
        out.errors += s.errors;
        if (s.truncated) out.truncated = true;
        if (s.errors != 0 && out.first_error.empty()) {
            out.first_error = opt_.files[static_cast<std::size_t>(s.first_error_file)] + ": " +
                              (s.first_errno == 0 ? std::string("empty read") : std::strerror(s.first_errno));
        }
        last_end = std::max(last_end, s.t_end);
        double own = static_cast<double>(s.t_end - s.t_begin) / kNsPerS;
        double rate = own > 0 ? static_cast<double>(reads) / own : 0;
        out.reader_rate_min = std::min(out.reader_rate_min, rate);
        out.reader_rate_max = std::max(out.reader_rate_max, rate);
    }
    if (opt_.readers == 0) out.reader_rate_min = 0;
    out.window_s = static_cast<double>(last_end - start) / kNsPerS;
    out.latency = summarize(all);
    if (opt_.interval_ms != 0) out.steady = summarize(steady);
    return out;
}

}  // namespace

std::string expand_pattern(const std::string& pattern, unsigned index) {
    std::string out = pattern;
    const std::string value = std::to_string(index);
    for (auto pos = out.find("{}"); pos != std::string::npos; pos = out.find("{}", pos + value.size())) {
        out.replace(pos, 2, value);
    }
    return out;
}

Result<GroupResult> run_reader_group(const GroupOptions& options) {
    if (options.files.empty() || options.files.size() > kMaxFiles) return invalid("between 1 and 8 files");
    if (options.readers == 0) return invalid("at least one reader");
    if (options.threads_per_reader == 0) return invalid("at least one thread per reader");
    if (!options.count && options.seconds <= 0) return invalid("a count or a duration");
    std::size_t capacity;
    if (options.count) {
        capacity = *options.count;
    } else if (options.interval_ms != 0) {
        capacity = static_cast<std::size_t>(options.seconds * 1000.0 / options.interval_ms) + 2;
    } else {
        capacity = static_cast<std::size_t>(options.seconds * static_cast<double>(options.max_rate)) + 1;
    }
    SharedRegion region(total_slots(options), options.files.size(), capacity, options.interval_ms != 0);
    if (!region.ok()) return make_error(errno, "mmap the sample buffers");
    Driver driver(options, region);
    return driver.run();
}

}  // namespace procview::bench
