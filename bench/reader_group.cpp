#include "bench/reader_group.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <climits>
#include <cstring>
#include <new>
#include <set>
#include <thread>

#include "bench/server_usage.hpp"
#include "bench/sysinfo_caller.hpp"
#include "platform/unique_fd.hpp"

namespace procview::bench {
namespace {

constexpr std::size_t kMaxFiles = 8;
constexpr std::int64_t kNsPerMs = 1'000'000;
constexpr std::int64_t kNsPerS = 1'000'000'000;

std::int64_t now_ns() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * kNsPerS + ts.tv_nsec;
}

void sleep_until_ns(std::int64_t deadline) {
    timespec ts{static_cast<time_t>(deadline / kNsPerS), static_cast<long>(deadline % kNsPerS)};
    while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
    }
}

// Shared between the driver and every reader (MAP_SHARED, so readers write
// their results where the driver can see them after they exit).
struct Header {
    std::atomic<std::uint32_t> ready{0};
    std::atomic<std::uint32_t> started{0};
    std::atomic<std::int64_t> start_ns{0};
};

struct Slot {
    std::atomic<std::int32_t> worker_pid{0};
    std::int32_t setup_errno = 0;
    char setup_error[200] = {};
    std::int64_t t_begin = 0;
    std::int64_t t_end = 0;
    std::uint64_t errors = 0;
    std::int32_t first_errno = 0;
    std::int32_t first_error_file = -1;
    std::uint8_t truncated = 0;
    std::uint64_t count[kMaxFiles] = {};
    std::uint64_t bytes[kMaxFiles] = {};
};

class SharedRegion {
public:
    // with_times: also keep when each read started (periodic mode, where the
    // report shows when slow reads happen).
    SharedRegion(unsigned readers, std::size_t files, std::size_t capacity, bool with_times)
        : readers_(readers), files_(files), capacity_(capacity) {
        slots_offset_ = align(sizeof(Header));
        samples_offset_ = align(slots_offset_ + sizeof(Slot) * readers);
        const std::size_t array = sizeof(std::uint64_t) * readers * files * capacity;
        times_offset_ = with_times ? align(samples_offset_ + array) : 0;
        size_ = (with_times ? times_offset_ : samples_offset_) + array;
        void* p = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            base_ = nullptr;
            return;
        }
        base_ = static_cast<char*>(p);
        new (base_) Header();
        for (unsigned i = 0; i < readers; ++i) new (base_ + slots_offset_ + sizeof(Slot) * i) Slot();
    }
    ~SharedRegion() {
        if (base_) ::munmap(base_, size_);
    }
    SharedRegion(const SharedRegion&) = delete;
    SharedRegion& operator=(const SharedRegion&) = delete;

    [[nodiscard]] bool ok() const { return base_ != nullptr; }
    [[nodiscard]] std::size_t capacity() const { return capacity_; }
    Header& header() { return *reinterpret_cast<Header*>(base_); }
    Slot& slot(unsigned reader) { return *reinterpret_cast<Slot*>(base_ + slots_offset_ + sizeof(Slot) * reader); }
    std::uint64_t* samples(unsigned reader, std::size_t file) { return array_at(samples_offset_, reader, file); }
    // Start times (CLOCK_MONOTONIC ns) parallel to samples(); nullptr without times.
    std::uint64_t* times(unsigned reader, std::size_t file) {
        return times_offset_ == 0 ? nullptr : array_at(times_offset_, reader, file);
    }

private:
    static std::size_t align(std::size_t n) { return (n + 63) & ~std::size_t{63}; }
    std::uint64_t* array_at(std::size_t offset, unsigned reader, std::size_t file) {
        auto* all = reinterpret_cast<std::uint64_t*>(base_ + offset);
        return all + (static_cast<std::size_t>(reader) * files_ + file) * capacity_;
    }
    unsigned readers_;
    std::size_t files_;
    std::size_t capacity_;
    std::size_t slots_offset_ = 0;
    std::size_t samples_offset_ = 0;
    std::size_t times_offset_ = 0;
    std::size_t size_ = 0;
    char* base_ = nullptr;
};

void set_setup_error(Slot& slot, int err, const std::string& what) {
    slot.setup_errno = err;
    std::snprintf(slot.setup_error, sizeof slot.setup_error, "%s", what.c_str());
}

bool write_all(int fd, const std::string& text) {
    std::size_t done = 0;
    while (done < text.size()) {
        ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        done += static_cast<std::size_t>(n);
    }
    return true;
}

bool join_cgroups(const GroupOptions& options, unsigned index, Slot& slot) {
    const std::string pid = std::to_string(::getpid()) + "\n";
    for (const auto& pattern : options.cgroup_patterns) {
        const std::string procs = expand_pattern(pattern, index) + "/cgroup.procs";
        UniqueFd fd(::open(procs.c_str(), O_WRONLY | O_CLOEXEC));
        if (!fd || !write_all(fd.get(), pid)) {
            set_setup_error(slot, errno, "join cgroup `" + procs + "`");
            return false;
        }
    }
    return true;
}

// One whole-file read; returns bytes read or -errno. A short read does not end
// the loop: only a read of 0 bytes is EOF (FUSE may split replies).
std::int64_t read_whole(int fd, char* buf, std::size_t size) {
    std::int64_t total = 0;
    for (;;) {
        ssize_t n = ::read(fd, buf, size);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        if (n == 0) return total;
        total += n;
    }
}

struct ReaderContext {
    const GroupOptions& options;
    SharedRegion& region;
    unsigned index;
    int go_fd;        // read end; EOF = the driver released (or abandoned) the group
    int lifeline_fd;  // read end; POLLHUP = the driver is gone
    std::vector<std::string> paths{};  // options.files with {self} expanded (reader_main)
    unsigned slot = 0;  // this thread's samples: index * threads_per_reader + its thread
};

unsigned total_slots(const GroupOptions& options) { return options.readers * options.threads_per_reader; }

// `pattern` with each "{self}" replaced by this process's pid in the pid
// namespace of /proc (the host's: readers keep the host's /proc), so a reader
// can name its own per-container files, MNT/containers/pid-{self}/proc/stat;
// symlinks resolved once, as a bind mount of the file is (procview-hook's),
// so each read opens the file itself.
std::string expand_self(const std::string& pattern) {
    constexpr std::string_view kSelf = "{self}";
    if (pattern.find(kSelf) == std::string::npos) return pattern;
    char link[32] = {};
    ssize_t n = ::readlink("/proc/self", link, sizeof link - 1);
    std::string pid = n > 0 ? std::string(link, static_cast<std::size_t>(n)) : "0";
    std::string out = pattern;
    for (auto pos = out.find(kSelf); pos != std::string::npos; pos = out.find(kSelf, pos + pid.size()))
        out.replace(pos, kSelf.size(), pid);
    char resolved[PATH_MAX];
    return ::realpath(out.c_str(), resolved) ? std::string(resolved) : out;
}

// Reads file `f` once, recording the latency; false when the reader should stop.
bool read_once(ReaderContext& ctx, std::vector<UniqueFd>& kept, std::vector<char>& buf, std::size_t f,
               std::uint64_t& consecutive_errors) {
    Slot& slot = ctx.region.slot(ctx.slot);
    if (slot.count[f] >= ctx.region.capacity()) {
        slot.truncated = 1;
        return false;
    }
    const std::string& path = ctx.paths[f];
    std::int64_t t0 = now_ns();
    std::int64_t got;
    if (ctx.options.mode == ReadMode::sysinfo_call) {
        got = call_sysinfo_once();
    } else if (ctx.options.mode == ReadMode::open_read_close) {
        int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            got = -errno;
        } else {
            got = read_whole(fd, buf.data(), buf.size());
            ::close(fd);
        }
    } else {
        got = ::lseek(kept[f].get(), 0, SEEK_SET) < 0 ? -errno : read_whole(kept[f].get(), buf.data(), buf.size());
    }
    std::int64_t t1 = now_ns();
    if (got <= 0) {
        // An empty file is an error too: every served file has content.
        if (slot.errors++ == 0) {
            slot.first_errno = static_cast<std::int32_t>(-got);
            slot.first_error_file = static_cast<std::int32_t>(f);
        }
        return ++consecutive_errors < 1000;
    }
    consecutive_errors = 0;
    std::int64_t latency = t1 - t0;
    if (std::uint64_t* times = ctx.region.times(ctx.slot, f)) times[slot.count[f]] = static_cast<std::uint64_t>(t0);
    ctx.region.samples(ctx.slot, f)[slot.count[f]++] = static_cast<std::uint64_t>(latency);
    slot.bytes[f] = static_cast<std::uint64_t>(got);
    return true;
}

// Sleeps until `deadline` (CLOCK_MONOTONIC), but leaves at once if the
// driver dies (its end of the lifeline pipe closes).
void sleep_unless_orphaned(const ReaderContext& ctx, std::int64_t deadline) {
    for (std::int64_t now = now_ns(); now < deadline; now = now_ns()) {
        std::int64_t left = deadline - now;
        timespec ts{static_cast<time_t>(left / kNsPerS), static_cast<long>(left % kNsPerS)};
        pollfd pfd{ctx.lifeline_fd, POLLIN, 0};
        if (::ppoll(&pfd, 1, &ts, nullptr) > 0) ::_exit(5);
    }
}

// One thread's reads (ctx.slot's samples), from the start signal to the end.
void read_loop(ReaderContext ctx, std::vector<UniqueFd>& kept) {
    const GroupOptions& opt = ctx.options;
    Slot& slot = ctx.region.slot(ctx.slot);
    std::vector<char> buf(opt.buffer_bytes, 1);
    const std::int64_t start = ctx.region.header().start_ns.load();
    const std::int64_t phase =
        opt.interval_ms == 0 ? 0 : static_cast<std::int64_t>(opt.interval_ms) * kNsPerMs * ctx.index / opt.readers;
    const std::int64_t end = start + static_cast<std::int64_t>(opt.seconds * kNsPerS);
    const bool by_count = opt.count.has_value();
    sleep_until_ns(start + phase);
    slot.t_begin = now_ns();
    std::uint64_t consecutive_errors = 0;
    bool running = true;
    for (std::uint64_t tick = 0; running; ++tick) {
        for (std::size_t f = 0; f < opt.files.size() && running; ++f) {
            running = read_once(ctx, kept, buf, f, consecutive_errors);
        }
        if (by_count && tick + 1 >= *opt.count) break;
        if (opt.interval_ms == 0) {
            if (!by_count && now_ns() >= end) break;
            continue;
        }
        std::int64_t next = start + phase + static_cast<std::int64_t>(tick + 1) * opt.interval_ms * kNsPerMs;
        if (!by_count && next >= end) break;
        sleep_unless_orphaned(ctx, next);
    }
    slot.t_end = now_ns();
}

// Pre-faults a slot's sample buffers so page faults do not land inside
// measured reads.
void touch_samples(ReaderContext& ctx, unsigned slot) {
    for (std::size_t f = 0; f < ctx.options.files.size(); ++f) {
        std::memset(ctx.region.samples(slot, f), 0, ctx.region.capacity() * sizeof(std::uint64_t));
        if (std::uint64_t* times = ctx.region.times(slot, f)) {
            std::memset(times, 0, ctx.region.capacity() * sizeof(std::uint64_t));
        }
    }
}

// Opens every file once for a kept-open thread (seek mode); false on failure.
bool open_kept(ReaderContext& ctx, std::vector<UniqueFd>& kept) {
    for (const auto& path : ctx.paths) {
        kept.emplace_back(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
        if (!kept.back()) {
            set_setup_error(ctx.region.slot(ctx.slot), errno, "open `" + path + "`");
            return false;
        }
    }
    return true;
}

[[noreturn]] void reader_main(ReaderContext ctx) {
    const GroupOptions& opt = ctx.options;
    const unsigned threads = opt.threads_per_reader;
    Slot& slot = ctx.region.slot(ctx.slot);
    for (unsigned t = 0; t < threads; ++t) touch_samples(ctx, ctx.slot + t);
    for (const auto& file : opt.files) ctx.paths.push_back(expand_self(file));
    std::vector<std::vector<UniqueFd>> kept(threads);  // one fd per file and thread
    if (opt.mode == ReadMode::seek_read) {
        for (auto& fds : kept) {
            if (!open_kept(ctx, fds)) ::_exit(3);
        }
    }
    if (opt.mode == ReadMode::sysinfo_call && !opt.sysinfo_listener.empty()) {
        if (auto r = hand_sysinfo_to_agent(opt.sysinfo_listener, "pvbench-" + std::to_string(ctx.index)); !r) {
            set_setup_error(slot, r.error().errnum, r.error().describe());
            ::_exit(3);
        }
    }
    ctx.region.header().ready.fetch_add(1);
    char byte;
    while (::read(ctx.go_fd, &byte, 1) < 0 && errno == EINTR) {
    }
    if (ctx.region.header().started.load() == 0) ::_exit(4);  // the driver gave up

    std::vector<std::thread> others;
    for (unsigned t = 1; t < threads; ++t) {
        ReaderContext mine = ctx;
        mine.slot = ctx.slot + t;
        others.emplace_back([mine, &kept, t] { read_loop(mine, kept[t]); });
    }
    read_loop(ctx, kept[0]);
    for (auto& thread : others) thread.join();
    // Paced readers finish over the last interval, each at its own phase. A
    // reader exiting tears down its pid namespace, and a thousand of those
    // while the others still read slowed the last second's reads of every
    // server that looks readers up in /proc (procviewfs and lxcfs alike, not
    // the floor). Leave together, a second after the window, so the run
    // measures the server and not its own teardown (a lone reader has no one
    // to disturb).
    if (opt.interval_ms != 0 && !opt.count && opt.readers > 1) {
        const std::int64_t end = ctx.region.header().start_ns.load() + static_cast<std::int64_t>(opt.seconds * kNsPerS);
        sleep_unless_orphaned(ctx, end + kNsPerS);
    }
    ::_exit(0);
}

bool pin_to_cpu(const GroupOptions& options, unsigned index, Slot& slot) {
    if (options.cpus.empty()) return true;
    int cpu = options.cpus[index % options.cpus.size()];
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (::sched_setaffinity(0, sizeof set, &set) != 0) {
        set_setup_error(slot, errno, "pin to CPU " + std::to_string(cpu));
        return false;
    }
    return true;
}

// The helper forked per reader: cgroups (and CPU), then a new pid namespace
// whose init is the reader.
[[noreturn]] void helper_main(ReaderContext ctx) {
    Slot& slot = ctx.region.slot(ctx.slot);
    if (!join_cgroups(ctx.options, ctx.index, slot)) ::_exit(2);
    if (!pin_to_cpu(ctx.options, ctx.index, slot)) ::_exit(2);
    if (!ctx.options.new_pid_namespace) {
        slot.worker_pid.store(::getpid());
        reader_main(ctx);
    }
    if (::unshare(CLONE_NEWPID) != 0) {
        set_setup_error(slot, errno, "unshare(CLONE_NEWPID)");
        ::_exit(2);
    }
    pid_t reader = ::fork();
    if (reader < 0) {
        set_setup_error(slot, errno, "fork the reader");
        ::_exit(2);
    }
    if (reader == 0) reader_main(ctx);
    slot.worker_pid.store(reader);
    ::_exit(0);
}

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
