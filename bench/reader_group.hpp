// A group of benchmark readers, each in its own cgroup(s) and, optionally,
// its own pid namespace, started together and measured per read.
//
// Process shape (why): a FUSE server such as procviewfs or lxcfs resolves a
// reader through the init of the reader's pid namespace, so each reader must
// be that init and sit in the limited cgroup. The driver forks a helper per
// reader; the helper joins the cgroups, unshare(CLONE_NEWPID)s and forks the
// reader (pid 1 of the new namespace), then exits. The driver is a child
// subreaper, so it inherits and reaps the readers: one process per reader,
// which may run several reading threads (threads_per_reader: one container
// reading with several threads); each thread has its own sample slot.
// Samples live in a MAP_SHARED region the driver summarises afterwards.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bench/latency.hpp"
#include "core/result.hpp"

namespace procview::bench {

enum class ReadMode {
    open_read_close,  // open, read to EOF with a 128 KiB buffer, close (cat)
    seek_read,        // one fd kept open; lseek(0) then read to EOF (procps)
    sysinfo_call,     // one sysinfo(2) per read; the "file" is only a label
};

inline constexpr double kSlowReadMs = 10;  // issue 5's bound for the scale run

struct GroupOptions {
    ReadMode mode = ReadMode::open_read_close;
    std::vector<std::string> files;           // read in order on each tick
    unsigned readers = 1;
    // Threads per reader process, each reading on its own (one container with
    // several readers: they share the process's cgroup and pid namespace).
    unsigned threads_per_reader = 1;
    std::optional<std::uint64_t> count;       // reads per reader and file
    double seconds = 0;                       // used when count is unset
    unsigned interval_ms = 0;                 // 0: back to back; else one tick per interval
    std::vector<std::string> cgroup_patterns; // "{}" is replaced by the reader index
    bool new_pid_namespace = false;
    std::vector<int> cpus;                    // reader i is pinned to cpus[i % size]; empty = free
    std::optional<pid_t> server_pid;          // sampled for CPU and RSS
    std::uint64_t max_rate = 300000;          // sample capacity per second per reader
    std::size_t buffer_bytes = 128 * 1024;
    // sysinfo_call: each reader first hands its calls to the sysinfo agent
    // listening here, as runc does for a container (sysinfo_caller.hpp).
    std::string sysinfo_listener;
};

struct FileResult {
    std::string path;
    LatencySummary latency;
    std::uint64_t bytes = 0;                  // size of the last successful read
};

struct GroupResult {
    double window_s = 0;                      // start signal to last reader done
    double setup_ms = 0;                      // fork to every reader ready
    std::uint64_t count = 0;
    std::uint64_t errors = 0;
    std::string first_error;
    bool truncated = false;                   // a reader filled its sample buffer
    double reader_rate_min = 0;
    double reader_rate_max = 0;
    LatencySummary latency;                   // over every read of every file
    // Periodic mode (interval_ms > 0): every read but each reader's first
    // tick, i.e. without the server's first sight of each container.
    std::optional<LatencySummary> steady;
    // Periodic mode: reads slower than kSlowReadMs, by the second of the run
    // in which they started (shows stalls that come back periodically).
    std::vector<std::uint64_t> slow_reads_per_second;
    std::vector<FileResult> files;
    std::optional<double> server_cpu_ms;
    std::optional<std::uint64_t> server_cpu_ticks;
    std::optional<std::uint64_t> server_rss_kb_end;
    std::optional<std::uint64_t> server_rss_kb_peak;
    // Noise check: CPU used on the whole machine and by the readers
    // (including their helpers) during the window.
    std::optional<double> host_busy_ms;
    double readers_cpu_ms = 0;
};

// Runs the group to completion. Fails when a reader cannot be set up (cgroup
// join, unshare, fork), when interrupted by SIGINT/SIGTERM (every reader is
// killed first), or when readers do not get ready within a minute.
Result<GroupResult> run_reader_group(const GroupOptions& options);

// Expands "{}" in a cgroup pattern to `index`.
std::string expand_pattern(const std::string& pattern, unsigned index);

}  // namespace procview::bench
