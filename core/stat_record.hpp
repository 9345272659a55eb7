// The /proc/stat state of one container that must outlive the daemon: its
// usage baseline and capacity integral (views.hpp), as a small text record.
// procviewfs keeps one per container under its runtime directory so that a
// restart (kill -9, crash, --takeover) continues the counters where they
// were instead of taking a new baseline, which would make them jump. Pure:
// formatting and strict parsing only; the files are fusefs/stat_records.*.
//
//   procview-stat-record 1
//   cgroup /kubepods/pod1/ctr1
//   init 4026532291 1234 567890        (pid namespace inode, init pid, init start ticks)
//   baseline 4180000000 20000000       (user ns, system ns)
//   cpu 0 2090000000 10000000          (v1 per host CPU: index, user ns, system ns)
//   capacity 0.31 1.5 0.465            (CapacityIntegral::State: time, capacity, total)
//   split 0 2100000000 2050000000 2000000000 40000000 975000
//                                      (v1 per host CPU: index, then SplitAnchor's fields in order)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/cpu_split.hpp"
#include "core/result.hpp"
#include "core/views.hpp"

namespace procview {

// Which container a record belongs to. The init's start time and pid
// namespace make it unique across pid reuse; the cgroup is the one whose
// usage the baseline was taken from (a container that moved is given a new one).
struct StatRecordKey {
    std::string cgroup;
    uint64_t pidns = 0;
    int64_t init_pid = 0;
    uint64_t init_start_ticks = 0;
    friend bool operator==(const StatRecordKey&, const StatRecordKey&) = default;
};

struct StatRecord {
    StatRecordKey key;
    UsageBaseline baseline;
    CapacityIntegral::State capacity;
    std::vector<SplitAnchor> split;  // v1: one per host CPU, dense; empty otherwise
    friend bool operator==(const StatRecord&, const StatRecord&) = default;
};

// Per-CPU entries a record may hold (host CPUs; the kernel's NR_CPUS maximum).
inline constexpr std::size_t kMaxRecordCpus = 8192;

// "<pidns>.<init pid>.<init start ticks>": a file name per container.
std::string stat_record_name(const StatRecordKey& key);
// The inverse, with the cgroup left empty; nullopt for any other name.
std::optional<StatRecordKey> parse_stat_record_name(std::string_view name);

// Errors on a cgroup path with a newline (it could not be read back).
Result<std::string> format_stat_record(const StatRecord& record);
// Strict: every line known, every number valid and finite, capacity figures
// not negative, at most kMaxRecordCpus CPUs each given once, split anchors
// for CPUs 0..n-1 with user ≤ total and a share ≤ 1; garbage → error.
Result<StatRecord> parse_stat_record(std::string_view text);

}  // namespace procview
