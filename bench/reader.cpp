// procview-bench-reader: reads files the way monitoring agents do and reports
// per-read latency as one JSON object on stdout.
//
//   # one reader, open-read-close for 5 s, in a limited cgroup and its own pid
//   # namespace (so a FUSE server resolves it to that cgroup):
//   $ procview-bench-reader --mode orc --seconds 5 --pidns
//       --cgroup /sys/fs/cgroup/memory/pvbench-1-r{} --cgroup /sys/fs/cgroup/cpu/pvbench-1-r{}
//       --server-pid 4242 /tmp/pvbench-1/procview/proc/meminfo
//   {"mode":"orc","readers":1,"count":61234,"reads_per_s":12246.8,"p50_us":76.1,...}
//
//   # 1,000 readers, each reading two files once a second for 60 s:
//   $ procview-bench-reader --readers 1000 --interval-ms 1000 --seconds 60 --pidns
//       --cgroup /sys/fs/cgroup/memory/pvbench-1-s{} ... MNT/proc/stat MNT/proc/loadavg
//
// Options:
//   --mode orc|seek|sysinfo  open-read-close (cat), or one fd kept open with
//                       lseek(0)+read to EOF (procps), or one sysinfo(2) call
//                       per read (no FILE needed). Default orc.
//   --sysinfo-listener PATH  with --mode sysinfo: each reader's sysinfo calls
//                       go to the procviewfs agent listening at PATH, handed
//                       over the way runc does for a container.
//   --count N           reads per reader (per file) ...
//   --seconds S         ... or run for S seconds.
//   --interval-ms MS    one read of every file per MS (default 0: back to back).
//   --readers K         K concurrent readers (default 1); "{}" in --cgroup is
//                       replaced by the reader's index 0..K-1.
//   --threads-per-reader T  each reader process reads with T threads (one
//                       container reading with T threads: one cgroup, one pid
//                       namespace); latencies and rates cover every thread.
//   --cgroup DIR        join DIR (write the pid to DIR/cgroup.procs); repeat for
//                       each cgroup v1 hierarchy, once on cgroup v2.
//   --pidns             each reader is pid 1 of a new pid namespace.
//   FILE...             "{self}" in a file is the reader's own pid as /proc
//                       names it: MNT/containers/pid-{self}/proc/stat reads
//                       the reader's per-container file.
//   --cpus LIST         pin reader i to CPU LIST[i % n] (comma-separated);
//                       default: the scheduler places readers freely.
//   --server-pid PID    report the CPU time (utime+stime) and RSS of PID over
//                       the measured window.
//   --buffer BYTES      read buffer (default 131072, like cat).
//   --max-rate R        sample slots per second per reader (default 300000).
//   --label TEXT        copied into the JSON.
// Exit status: 0 when the group ran (errors are reported in the JSON), 1 on a
// usage or set-up failure, 130 when interrupted.

#include <charconv>
#include <cstdio>
#include <iostream>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "bench/reader_group.hpp"

namespace {

using procview::bench::GroupOptions;
using procview::bench::GroupResult;
using procview::bench::LatencySummary;
using procview::bench::ReadMode;

template <class T>
bool parse_number(std::string_view text, T& out) {
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc{} && end == text.data() + text.size();
}

struct Cli {
    GroupOptions group;
    std::string label;
};

int usage(const std::string& why) {
    std::cerr << "procview-bench-reader: " << why
              << "\nusage: procview-bench-reader [--mode orc|seek|sysinfo] (--count N | --seconds S) [--interval-ms MS]"
                 " [--readers K] [--threads-per-reader T] [--cgroup DIR]... [--pidns] [--cpus LIST] [--server-pid PID]"
                 " [--buffer BYTES]"
                 " [--max-rate R] [--sysinfo-listener PATH] [--label TEXT] FILE...\n";
    return 1;
}

// Parses argv into `cli`; an error message, or empty on success.
std::string parse_cli(int argc, char** argv, Cli& cli) {
    GroupOptions& g = cli.group;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        auto value = [&]() -> std::string_view { return i + 1 < argc ? std::string_view(argv[++i]) : ""; };
        if (arg == "--mode") {
            auto v = value();
            if (v == "orc") g.mode = ReadMode::open_read_close;
            else if (v == "seek") g.mode = ReadMode::seek_read;
            else if (v == "sysinfo") g.mode = ReadMode::sysinfo_call;
            else return "--mode must be orc, seek or sysinfo";
        } else if (arg == "--count") {
            std::uint64_t n = 0;
            if (!parse_number(value(), n) || n == 0) return "--count needs a positive integer";
            g.count = n;
        } else if (arg == "--seconds") {
            std::string v(value());
            try {
                g.seconds = std::stod(v);
            } catch (...) {
                return "--seconds needs a number";
            }
            if (g.seconds <= 0) return "--seconds needs a positive number";
        } else if (arg == "--interval-ms") {
            if (!parse_number(value(), g.interval_ms)) return "--interval-ms needs an integer";
        } else if (arg == "--readers") {
            if (!parse_number(value(), g.readers) || g.readers == 0 || g.readers > 10000) {
                return "--readers needs 1..10000";
            }
        } else if (arg == "--threads-per-reader") {
            if (!parse_number(value(), g.threads_per_reader) || g.threads_per_reader == 0 ||
                g.threads_per_reader > 64) {
                return "--threads-per-reader needs 1..64";
            }
        } else if (arg == "--cgroup") {
            auto v = value();
            if (v.empty()) return "--cgroup needs a directory";
            g.cgroup_patterns.emplace_back(v);
        } else if (arg == "--pidns") {
            g.new_pid_namespace = true;
        } else if (arg == "--cpus") {
            std::string_view list = value();
            while (!list.empty()) {
                auto comma = list.find(',');
                int cpu = -1;
                if (!parse_number(list.substr(0, comma), cpu) || cpu < 0) return "--cpus needs CPU numbers, e.g. 0,1";
                g.cpus.push_back(cpu);
                list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
            }
            if (g.cpus.empty()) return "--cpus needs CPU numbers, e.g. 0,1";
        } else if (arg == "--server-pid") {
            pid_t pid = 0;
            if (!parse_number(value(), pid) || pid <= 0) return "--server-pid needs a pid";
            g.server_pid = pid;
        } else if (arg == "--buffer") {
            if (!parse_number(value(), g.buffer_bytes) || g.buffer_bytes == 0) return "--buffer needs a size";
        } else if (arg == "--max-rate") {
            if (!parse_number(value(), g.max_rate) || g.max_rate == 0) return "--max-rate needs a rate";
        } else if (arg == "--sysinfo-listener") {
            g.sysinfo_listener = std::string(value());
            if (g.sysinfo_listener.empty()) return "--sysinfo-listener needs a socket path";
        } else if (arg == "--label") {
            cli.label = std::string(value());
        } else if (arg.starts_with("--")) {
            return "unknown option " + std::string(arg);
        } else {
            g.files.emplace_back(arg);
        }
    }
    if (g.mode == ReadMode::sysinfo_call && g.files.empty()) g.files.emplace_back("sysinfo");
    if (!g.sysinfo_listener.empty() && g.mode != ReadMode::sysinfo_call) return "--sysinfo-listener needs --mode sysinfo";
    if (g.files.empty()) return "no file to read";
    if (!g.count && g.seconds <= 0) return "give --count or --seconds";
    return "";
}

double round2(double v) { return static_cast<double>(static_cast<long long>(v * 100 + (v >= 0 ? 0.5 : -0.5))) / 100; }

nlohmann::json latency_json(const LatencySummary& s) {
    return {{"count", s.count},       {"p50_us", round2(s.p50_us)}, {"p99_us", round2(s.p99_us)},
            {"p999_us", round2(s.p999_us)}, {"max_us", round2(s.max_us)}, {"mean_us", round2(s.mean_us)}};
}

nlohmann::json to_json(const Cli& cli, const GroupResult& r) {
    const GroupOptions& g = cli.group;
    nlohmann::json j = latency_json(r.latency);
    j["label"] = cli.label;
    j["mode"] = g.mode == ReadMode::open_read_close ? "orc" : g.mode == ReadMode::seek_read ? "seek" : "sysinfo";
    j["readers"] = g.readers;
    if (g.threads_per_reader != 1) j["threads_per_reader"] = g.threads_per_reader;
    j["interval_ms"] = g.interval_ms;
    j["pidns"] = g.new_pid_namespace;
    if (!g.cpus.empty()) j["cpus"] = g.cpus;
    j["window_s"] = r.window_s;
    j["setup_ms"] = round2(r.setup_ms);
    j["reads_per_s"] = r.window_s > 0 ? round2(static_cast<double>(r.count) / r.window_s) : 0.0;
    j["reader_reads_per_s_min"] = round2(r.reader_rate_min);
    j["reader_reads_per_s_max"] = round2(r.reader_rate_max);
    j["errors"] = r.errors;
    j["first_error"] = r.first_error;
    j["truncated"] = r.truncated;
    nlohmann::json files = nlohmann::json::array();
    for (const auto& f : r.files) {
        nlohmann::json fj = latency_json(f.latency);
        fj["path"] = f.path;
        fj["bytes"] = f.bytes;
        files.push_back(std::move(fj));
    }
    j["files"] = std::move(files);
    if (r.steady) j["steady"] = latency_json(*r.steady);
    if (g.interval_ms != 0) {
        j["slow_read_ms"] = procview::bench::kSlowReadMs;
        j["slow_reads_per_second"] = r.slow_reads_per_second;
    }
    j["bytes"] = r.files.empty() ? 0 : r.files.front().bytes;
    if (r.host_busy_ms) j["host_busy_ms"] = *r.host_busy_ms;
    j["readers_cpu_ms"] = round2(r.readers_cpu_ms);
    if (g.server_pid) {
        nlohmann::json s = {{"pid", *g.server_pid}};
        if (r.server_cpu_ms) s["cpu_ms"] = *r.server_cpu_ms;
        if (r.server_cpu_ticks) s["cpu_ticks"] = *r.server_cpu_ticks;
        if (r.server_rss_kb_end) s["rss_kb_end"] = *r.server_rss_kb_end;
        if (r.server_rss_kb_peak) s["rss_kb_peak"] = *r.server_rss_kb_peak;
        j["server"] = std::move(s);
    }
    return j;
}

}  // namespace

int main(int argc, char** argv) {
    Cli cli;
    if (auto why = parse_cli(argc, argv, cli); !why.empty()) return usage(why);
    auto result = procview::bench::run_reader_group(cli.group);
    if (!result) {
        std::cerr << "procview-bench-reader: " << result.error().describe() << "\n";
        return result.error().errnum == EINTR ? 130 : 1;
    }
    std::cout << to_json(cli, *result).dump() << std::endl;
    return 0;
}
