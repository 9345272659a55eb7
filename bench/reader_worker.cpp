// The reader side of a reader group: the helper process forked per reader
// (cgroups, CPU, pid namespace) and the reader it starts, whose threads read
// and record each read's latency in the shared region (reader_region.hpp).
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstring>
#include <thread>

#include "bench/reader_region.hpp"
#include "bench/sysinfo_caller.hpp"
#include "platform/unique_fd.hpp"

namespace procview::bench::detail {
namespace {

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

}  // namespace

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

}  // namespace procview::bench::detail
