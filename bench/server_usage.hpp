// CPU time and memory of a server process, from /proc/<pid>/stat and status.
// Parsers are pure (text in); sample_server_usage does the reads.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace procview::bench {

// utime + stime (fields 14 and 15, in clock ticks) from a /proc/<pid>/stat
// line. The kernel scales these so that their sum is the precise runtime of
// all threads (live and exited), rounded down to a tick.
std::optional<std::uint64_t> parse_stat_cpu_ticks(std::string_view stat_line);

// The value in kB of a "Key:   123 kB" line of /proc/<pid>/status.
std::optional<std::uint64_t> parse_status_kb(std::string_view status, std::string_view key);

// The pids in a /proc/<pid>/task/<tid>/children file ("123 456 ").
std::vector<pid_t> parse_child_pids(std::string_view children);

struct ServerUsage {
    std::uint64_t cpu_ticks = 0;
    std::uint64_t rss_kb = 0;
};

// CPU time and RSS of the server and of its child processes (procviewfs's
// keeper), from /proc/<pid>/stat and status: work a server hands to a helper
// process is still its cost. nullopt when the server is gone or its files
// cannot be parsed; a child that vanishes between reads is left out.
std::optional<ServerUsage> sample_server_usage(pid_t pid);

struct HostCpu {
    std::uint64_t busy_ticks = 0;   // every CPU, all but idle and iowait
    std::uint64_t total_ticks = 0;
};

// The aggregate "cpu " line of /proc/stat.
std::optional<HostCpu> parse_host_cpu(std::string_view proc_stat);
std::optional<HostCpu> sample_host_cpu();

// Clock ticks to milliseconds (sysconf(_SC_CLK_TCK)).
double ticks_to_ms(std::uint64_t ticks);

}  // namespace procview::bench
