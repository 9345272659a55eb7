// Renders the benchmark's JSON-lines results as the markdown report: the
// side-by-side table with ratios, the FUSE loop comparison, the scale, idle
// and ready-to-serve runs, and the targets of issue 5 with met/missed.
// Pure: records in, text out.
//
// Records (one JSON object per line, written by scripts/bench.sh):
//   {"kind":"meta", "date","host","kernel","cpu_model","cpus","memory_kb","cgroup","git","command",
//                   "quick","seconds","procviewfs","lxcfs","floor","loop_threads"}
//   {"kind":"cell", "server":"procviewfs|lxcfs|floor|native","file","mode","readers","result":{reader JSON}}
//   {"kind":"loop", "threads":N,"file","mode","readers","result":{reader JSON}}      (floor only)
//   {"kind":"scale","server","cgroups","result":{reader JSON}}
//   {"kind":"idle", "server","phase","seconds","cpu_ms","wakeups","threads"}
//   {"kind":"ready","server","runs_ms":[...]}
//   {"kind":"noisy","server":"procviewfs-co|procviewfs-pc|procviewfs|lxcfs|floor","phase":"quiet|noisy","rep",
//                   "neighbour_threads","interval_ms","result":{B's reader JSON},"neighbour":{A's}|null}
// Cell and scale records' "server" may also be procviewfs-pc (per-container
// files on the main mount) or procviewfs-co (--containers-only, no OPEN); the
// meta record lists the run's "parts" and "servers" (--only, --servers).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace procview::bench {

std::string render_report(const std::vector<nlohmann::json>& records);

// The targets section alone: one line per target of issue 5, "met" or
// "MISSED" with the measured values (or "not measured").
std::string render_targets(const std::vector<nlohmann::json>& records);

// What makes a run unusable as a smoke test of the instrument: no reads
// measured, a measurement with no reads or with read errors, a server never
// ready. Empty when the run is sound. Timings are not judged.
std::vector<std::string> check_records(const std::vector<nlohmann::json>& records);

// Issue 16's sections: per-container files beside the floor, the noisy
// neighbour, and the issue's targets met/missed. Empty when the run has no
// per-container or noisy records.
std::string render_issue16(const std::vector<nlohmann::json>& records);

// What a run that asked for issue 16's rows (meta "parts" and "servers")
// lacks: procviewfs-co and procviewfs-pc cells, a procviewfs-co scale row and
// ready record, each noisy variant quiet and noisy with a neighbour that read
// without errors. Empty for results without "parts" in their meta.
std::vector<std::string> check_issue16_records(const std::vector<nlohmann::json>& records);

// Server CPU milliseconds per 1,000 reads of a reader result, or a negative
// value when the result has no server sample or no reads.
double cpu_ms_per_1k_reads(const nlohmann::json& result);

}  // namespace procview::bench
