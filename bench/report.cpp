#include "bench/report.hpp"
#include "bench/report_util.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <sstream>
#include <tuple>

namespace procview::bench {
namespace {

using namespace report_detail;

const char* const kSubject = "procviewfs";
const std::vector<std::string> kServerOrder = {"native", "floor", "lxcfs", "procviewfs", "procviewfs-pc",
                                               "procviewfs-co"};

double background_cpu_pct(const json& result, double cpus) {
    double window_ms = num(result, "window_s") * 1000;
    if (window_ms <= 0 || cpus <= 0 || !result.contains("host_busy_ms")) return -1;
    double server = result.contains("server") ? num(result["server"], "cpu_ms") : 0;
    double other = num(result, "host_busy_ms") - server - num(result, "readers_cpu_ms");
    return std::max(0.0, other) / (window_ms * cpus) * 100;
}

std::string server_label(const std::string& server, const json& result) {
    std::string label = server;
    if (num(result, "errors") > 0) label += " ⚠ " + fmt_rate(num(result, "errors")) + " errors";
    if (result.value("truncated", false)) label += " (truncated)";
    return label;
}

std::string cpu_cell(const json& result) {
    double cpu = cpu_ms_per_1k_reads(result);
    return cpu < 0 ? "—" : fmt_ms(cpu);
}

// "min–max" reads/s over the repeats of a cell, empty for a single run.
std::string range_cell(const json& result) {
    if (num(result, "repeats") < 2) return "";
    return fmt_rate(num(result, "reads_per_s_min")) + "–" + fmt_rate(num(result, "reads_per_s_max"));
}

void render_main_table(std::ostringstream& out, const CellTable& cells, double cpus) {
    out << "| file | mode | readers | server | reads/s | range | p50 µs | p99 µs | p99.9 µs | server CPU ms / 1k reads"
           " | background CPU % | procview ÷ lxcfs | procview ÷ floor | procview ÷ native | CPU procview ÷ lxcfs |\n"
        << "|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
    for (const auto& key : cells.order) {
        const auto& servers = cells.results.at(key);
        std::vector<std::string> names;
        for (const auto& s : kServerOrder) {
            if (servers.count(s)) names.push_back(s);
        }
        for (const auto& [s, _] : servers) {
            if (std::find(names.begin(), names.end(), s) == names.end()) names.push_back(s);
        }
        for (const auto& server : names) {
            const json& r = servers.at(server);
            double bg = background_cpu_pct(r, cpus);
            out << "| " << key.file << " | " << key.mode << " | " << key.readers << " | " << server_label(server, r)
                << " | " << fmt_rate(num(r, "reads_per_s")) << " | " << range_cell(r) << " | "
                << fmt_us(num(r, "p50_us")) << " | " << fmt_us(num(r, "p99_us")) << " | " << fmt_us(num(r, "p999_us"))
                << " | " << cpu_cell(r) << " | "
                << (bg < 0 ? "—" : printf_string("%.0f", bg)) << " |";
            // procviewfs-pc: the per-container files of the same daemon (cached_views.hpp);
            // procviewfs-co: the same files from a --containers-only instance (no OPEN).
            if (server.starts_with(kSubject)) {
                double rate = num(r, "reads_per_s");
                auto vs = [&](const char* other) -> std::optional<double> {
                    const json* o = cells.find(key, other);
                    return o ? ratio(rate, num(*o, "reads_per_s")) : std::nullopt;
                };
                const json* lx = cells.find(key, "lxcfs");
                std::optional<double> cpu_ratio;
                if (lx) cpu_ratio = ratio(cpu_ms_per_1k_reads(r), cpu_ms_per_1k_reads(*lx));
                out << " **" << fmt_opt_ratio(vs("lxcfs")) << "** | " << fmt_opt_ratio(vs("floor")) << " | "
                    << fmt_opt_ratio(vs("native")) << " | " << fmt_opt_ratio(cpu_ratio) << " |\n";
            } else {
                out << " | | | |\n";
            }
        }
    }
}

void render_loop_table(std::ostringstream& out, const CellTable& loop) {
    std::vector<std::string> threads;
    for (const auto& key : loop.order) {
        for (const auto& [t, _] : loop.results.at(key)) {
            if (std::find(threads.begin(), threads.end(), t) == threads.end()) threads.push_back(t);
        }
    }
    std::sort(threads.begin(), threads.end(), [](const auto& a, const auto& b) { return std::stoi(a) < std::stoi(b); });
    out << "| file | mode | readers |";
    for (const auto& t : threads) {
        std::string name = t == "0" ? "threads=0 (single)" : "threads=" + t + " (mt, clone_fd)";
        out << " " << name << " reads/s | p50 µs | p99 µs | CPU ms/1k |";
    }
    if (threads.size() == 2) out << " mt ÷ single |";
    out << "\n|---|---|---:|";
    for (std::size_t i = 0; i < threads.size(); ++i) out << "---:|---:|---:|---:|";
    if (threads.size() == 2) out << "---:|";
    out << "\n";
    for (const auto& key : loop.order) {
        out << "| " << key.file << " | " << key.mode << " | " << key.readers << " |";
        for (const auto& t : threads) {
            const json* r = loop.find(key, t);
            if (!r) {
                out << " — | — | — | — |";
                continue;
            }
            out << " " << fmt_rate(num(*r, "reads_per_s")) << " | " << fmt_us(num(*r, "p50_us")) << " | "
                << fmt_us(num(*r, "p99_us")) << " | " << cpu_cell(*r) << " |";
        }
        if (threads.size() == 2) {
            const json* a = loop.find(key, threads[0]);
            const json* b = loop.find(key, threads[1]);
            out << " " << (a && b ? fmt_opt_ratio(ratio(num(*b, "reads_per_s"), num(*a, "reads_per_s"))) : "—") << " |";
        }
        out << "\n";
    }
}

void render_placement(std::ostringstream& out, const std::vector<json>& records) {
    std::vector<std::string> order;
    std::map<std::string, std::map<std::string, std::vector<json>>> runs;  // server -> placement -> runs
    std::string what;
    for (const auto& r : records) {
        if (str(r, "kind") != "placement") continue;
        std::string server = str(r, "server");
        if (!runs.count(server)) order.push_back(server);
        runs[server][str(r, "placement")].push_back(r.value("result", json::object()));
        what = str(r, "file") + " " + str(r, "mode") + ", 1 reader";
    }
    out << what << ".\n\n| server | same CPU reads/s | p50 µs | p99 µs | other CPU reads/s | p50 µs | p99 µs |"
                   " same ÷ other |\n|---|---:|---:|---:|---:|---:|---:|---:|\n";
    for (const auto& server : order) {
        out << "| " << server << " |";
        double rates[2] = {0, 0};
        int i = 0;
        for (const char* placement : {"same", "other"}) {
            auto it = runs[server].find(placement);
            if (it == runs[server].end()) {
                out << " — | — | — |";
            } else {
                json r = merge_runs(it->second);
                rates[i] = num(r, "reads_per_s");
                out << " " << fmt_rate(rates[i]) << " | " << fmt_us(num(r, "p50_us")) << " | "
                    << fmt_us(num(r, "p99_us")) << " |";
            }
            ++i;
        }
        out << " " << fmt_opt_ratio(ratio(rates[0], rates[1])) << " |\n";
    }
}

void render_knobs(std::ostringstream& out, const CellTable& knobs) {
    const std::vector<std::pair<std::string, std::string>> variants = {
        {"default", "as configured (no FLUSH handler, entry/attr timeout 3600 s)"},
        {"flush", "FLUSH answered (one round trip per close)"},
        {"timeout0", "entry/attr timeout 0 (LOOKUP + GETATTR per open)"}};
    out << "| variant | file | mode | readers | reads/s | p50 µs | p99 µs | CPU ms/1k | ÷ default |\n"
        << "|---|---|---|---:|---:|---:|---:|---:|---:|\n";
    for (const auto& key : knobs.order) {
        const json* base = knobs.find(key, "default");
        for (const auto& [name, what] : variants) {
            const json* r = knobs.find(key, name);
            if (!r) continue;
            out << "| " << what << " | " << key.file << " | " << key.mode << " | " << key.readers << " | "
                << fmt_rate(num(*r, "reads_per_s")) << " | " << fmt_us(num(*r, "p50_us")) << " | "
                << fmt_us(num(*r, "p99_us")) << " | " << cpu_cell(*r) << " | "
                << (base ? fmt_opt_ratio(ratio(num(*r, "reads_per_s"), num(*base, "reads_per_s"))) : "—") << " |\n";
        }
    }
}

// "N of M": seconds of the run in which at least one read took over 10 ms.
std::string slow_seconds_cell(const json& result) {
    auto it = result.find("slow_reads_per_second");
    if (it == result.end() || !it->is_array()) return "—";
    int slow = 0;
    for (const auto& v : *it) {
        if (v.is_number() && v.get<double>() > 0) ++slow;
    }
    return std::to_string(slow) + " of " + printf_string("%.0f", std::ceil(num(result, "window_s")));
}

void render_scale(std::ostringstream& out, const std::vector<json>& records, double cpus) {
    out << "Steady state leaves out each reader's first tick (the server's first sight of its container).\n\n"
        << "| server | cgroups | reads | errors | server CPU % of one core | RSS end MB | RSS peak MB | p50 µs | p99 µs |"
           " slowest read ms | steady p99 µs | steady slowest ms | seconds with a read > 10 ms | background CPU % |"
           " set-up s |\n"
        << "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
    for (const auto& rec : records) {
        if (str(rec, "kind") != "scale") continue;
        const json r = rec.value("result", json::object());
        const json s = r.value("server", json::object());
        const json steady = r.value("steady", json::object());
        double window = num(r, "window_s");
        double cpu_pct = window > 0 ? num(s, "cpu_ms") / (window * 1000) * 100 : 0;
        double bg = background_cpu_pct(r, cpus);
        out << "| " << str(rec, "server") << " | " << num(rec, "cgroups") << " | " << fmt_rate(num(r, "count")) << " | "
            << fmt_rate(num(r, "errors")) << " | " << printf_string("%.2f", cpu_pct) << " | "
            << printf_string("%.1f", num(s, "rss_kb_end") / 1024) << " | "
            << printf_string("%.1f", num(s, "rss_kb_peak") / 1024) << " | " << fmt_us(num(r, "p50_us")) << " | "
            << fmt_us(num(r, "p99_us")) << " | " << fmt_ms(num(r, "max_us") / 1000) << " | "
            << (steady.empty() ? "—" : fmt_us(num(steady, "p99_us"))) << " | "
            << (steady.empty() ? "—" : fmt_ms(num(steady, "max_us") / 1000)) << " | " << slow_seconds_cell(r) << " | "
            << (bg < 0 ? "—" : printf_string("%.0f", bg)) << " | " << printf_string("%.1f", num(r, "setup_ms") / 1000)
            << " |\n";
    }
}

void render_idle(std::ostringstream& out, const std::vector<json>& records) {
    out << "| server | phase | seconds | CPU % of one core | wakeups/s (context switches, all threads) | threads |\n"
        << "|---|---|---:|---:|---:|---:|\n";
    for (const auto& r : records) {
        if (str(r, "kind") != "idle") continue;
        double seconds = num(r, "seconds");
        double cpu_pct = seconds > 0 ? num(r, "cpu_ms") / (seconds * 1000) * 100 : 0;
        double wakeups = seconds > 0 ? num(r, "wakeups") / seconds : 0;
        out << "| " << str(r, "server") << " | " << str(r, "phase") << " | " << num(r, "seconds") << " | "
            << printf_string("%.3f", cpu_pct) << " | " << printf_string("%.2f", wakeups) << " | " << num(r, "threads")
            << " |\n";
    }
}

std::vector<double> sorted_runs(const json& record) {
    std::vector<double> runs;
    for (const auto& v : record.value("runs_ms", json::array())) {
        if (v.is_number()) runs.push_back(v.get<double>());
    }
    std::sort(runs.begin(), runs.end());
    return runs;
}

double median(const std::vector<double>& sorted) { return sorted.empty() ? 0 : sorted[(sorted.size() - 1) / 2]; }

void render_ready(std::ostringstream& out, const std::vector<json>& records) {
    out << "| server | median ms | min ms | max ms | runs |\n|---|---:|---:|---:|---:|\n";
    for (const auto& r : records) {
        if (str(r, "kind") != "ready") continue;
        auto runs = sorted_runs(r);
        if (runs.empty()) continue;
        out << "| " << str(r, "server") << " | " << fmt_ms(median(runs)) << " | " << fmt_ms(runs.front()) << " | "
            << fmt_ms(runs.back()) << " | " << runs.size() << " |\n";
    }
}

double readers_cpu_ms_per_1k(const json& result) {
    if (result.contains("readers_cpu_ms_per_1k")) return num(result, "readers_cpu_ms_per_1k");
    double count = num(result, "count");
    return count > 0 ? num(result, "readers_cpu_ms") / count * 1000 : -1;
}

// CPU of the callers plus that of the server (the agent, for sysinfo), per 1,000 calls or reads.
double total_cpu_ms_per_1k(const json& result) {
    double callers = readers_cpu_ms_per_1k(result);
    double server = cpu_ms_per_1k_reads(result);
    if (callers < 0) return -1;
    return callers + std::max(0.0, server);
}

// sysinfo(2) through the agent, natively, and one meminfo read through
// procviewfs, measured in the same run (issue 15's target: an intercepted
// call costs no more than that read).
void render_sysinfo(std::ostringstream& out, const std::vector<json>& records, double cpus) {
    const std::vector<std::pair<std::string, std::string>> variants = {
        {"intercepted", "sysinfo(2) answered by procviewfs's agent (seccomp notify)"},
        {"native", "sysinfo(2), native (no filter)"},
        {"meminfo-orc", "proc/meminfo open–read–close through procviewfs"}};
    std::map<std::string, std::vector<json>> runs;
    for (const auto& r : records)
        if (str(r, "kind") == "sysinfo") runs[str(r, "variant")].push_back(r.value("result", json::object()));
    std::map<std::string, json> merged;
    for (const auto& [variant, list] : runs) merged[variant] = merge_runs(list);
    out << "| what | readers | calls or reads/s | range | p50 µs | p99 µs | server CPU ms / 1k | callers CPU ms / 1k |"
           " total CPU ms / 1k | total ÷ meminfo read | p50 ÷ meminfo read | background CPU % |\n"
        << "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
    const json* base = merged.count("meminfo-orc") ? &merged.at("meminfo-orc") : nullptr;
    for (const auto& [variant, what] : variants) {
        if (!merged.count(variant)) continue;
        const json& r = merged.at(variant);
        double server = cpu_ms_per_1k_reads(r), total = total_cpu_ms_per_1k(r);
        out << "| " << server_label(what, r) << " | " << num(r, "readers") << " | " << fmt_rate(num(r, "reads_per_s"))
            << " | " << range_cell(r) << " | " << fmt_us(num(r, "p50_us")) << " | " << fmt_us(num(r, "p99_us")) << " | "
            << (server < 0 ? "—" : fmt_ms(server)) << " | " << fmt_ms(readers_cpu_ms_per_1k(r)) << " | "
            << (total < 0 ? "—" : fmt_ms(total)) << " | "
            << (base ? fmt_opt_ratio(ratio(total, total_cpu_ms_per_1k(*base))) : "—") << " | "
            << (base ? fmt_opt_ratio(ratio(num(r, "p50_us"), num(*base, "p50_us"))) : "—") << " | "
            << (background_cpu_pct(r, cpus) < 0 ? "—" : printf_string("%.0f", background_cpu_pct(r, cpus))) << " |\n";
    }
    if (base && merged.count("intercepted")) {
        const json& in = merged.at("intercepted");
        bool cpu_met = total_cpu_ms_per_1k(in) <= total_cpu_ms_per_1k(*base);
        bool time_met = num(in, "p50_us") <= num(*base, "p50_us");
        out << "\nTarget (issue 15): an intercepted call costs no more than one meminfo read through procviewfs —"
            << " CPU: **" << (cpu_met ? "met" : "MISSED") << "**, latency (p50): **" << (time_met ? "met" : "MISSED")
            << "**.\n";
    }
}

}  // namespace

double cpu_ms_per_1k_reads(const json& result) {
    if (result.contains("cpu_ms_per_1k")) return num(result, "cpu_ms_per_1k");
    auto it = result.find("server");
    if (it == result.end() || !it->contains("cpu_ms")) return -1;
    double count = num(result, "count");
    if (count <= 0) return -1;
    return num(*it, "cpu_ms") / count * 1000;
}

std::vector<std::string> check_records(const std::vector<json>& records) {
    std::vector<std::string> problems;
    int measured = 0;
    for (const auto& r : records) {
        const std::string kind = str(r, "kind");
        if (kind == "cell" || kind == "loop" || kind == "scale" || kind == "placement" || kind == "knob" ||
            kind == "sysinfo" || kind == "noisy") {
            ++measured;
            const json result = r.value("result", json::object());
            std::string what = kind + " " + str(r, "server") + (kind == "noisy" ? " " + str(r, "phase") : "") +
                               (kind == "loop" ? "threads=" + std::to_string(static_cast<int>(num(r, "threads"))) : "") +
                               " " + str(r, "file") + " " + str(r, "mode") + " x" +
                               std::to_string(static_cast<int>(num(r, "readers")));
            if (num(result, "count") <= 0) problems.push_back(what + ": no reads");
            if (num(result, "errors") > 0) {
                problems.push_back(what + ": " + fmt_rate(num(result, "errors")) + " read errors (" +
                                   str(result, "first_error") + ")");
            }
            if (num(result, "bytes") <= 0) problems.push_back(what + ": empty content");
        } else if (kind == "ready" && r.value("runs_ms", json::array()).empty()) {
            problems.push_back("ready " + str(r, "server") + ": no start measured");
        }
    }
    if (measured == 0) problems.push_back("no measurements in the results");
    auto missing = check_issue16_records(records);
    problems.insert(problems.end(), missing.begin(), missing.end());
    return problems;
}

std::string render_report(const std::vector<json>& records) {
    std::ostringstream out;
    json meta = json::object();
    for (const auto& r : records) {
        if (str(r, "kind") == "meta") meta = r;
    }
    double cpus = num(meta, "cpus");
    out << "# procview benchmark" << (meta.value("quick", false) ? " (quick smoke run: numbers are not meaningful)" : "")
        << "\n\n";
    out << "- date: " << str(meta, "date") << "; git " << str(meta, "git") << "\n"
        << "- machine: " << str(meta, "host") << ", " << str(meta, "cpu_model") << ", " << cpus << " CPUs, "
        << fmt_rate(num(meta, "memory_kb") / 1024) << " MiB, kernel " << str(meta, "kernel") << ", cgroups "
        << str(meta, "cgroup") << "\n"
        << "- procviewfs: `" << str(meta, "procviewfs") << "`\n"
        << "- lxcfs: `" << str(meta, "lxcfs") << "`\n"
        << "- floor: `" << str(meta, "floor") << "`\n"
        << "- readers: each in its own cgroup (memory 256 MiB, cpu quota 1.5 CPUs, cpuset 0-1) and its own pid"
           " namespace; "
        << (num(meta, "count") > 0 ? printf_string("%.0f reads per reader", num(meta, "count"))
                                   : printf_string("%g s", num(meta, "seconds")))
        << " per run, " << std::max(1.0, num(meta, "repeats"))
        << " run(s) per cell with the servers interleaved; orc = open–read–close with a 128 KiB buffer, seek ="
           " kept-open fd, lseek(0) + read to EOF; the scheduler places readers and servers freely; servers and"
           " readers at nice " << num(meta, "nice") << "\n"
        << "- command: `" << str(meta, "command") << "`\n\n";

    // bench.sh --only sysinfo or --only noisy: only what was measured.
    bool partial = std::all_of(records.begin(), records.end(), [](const json& r) {
        return str(r, "kind") == "meta" || str(r, "kind") == "sysinfo" || str(r, "kind") == "noisy";
    });
    if (std::any_of(records.begin(), records.end(), [](const json& r) { return str(r, "kind") == "sysinfo"; })) {
        out << "## sysinfo(2): through procviewfs's agent, native, and a meminfo read through procviewfs\n\n"
            << "Same run, variants interleaved. Server CPU is procviewfs and its keeper (the agent's thread for"
               " sysinfo); callers CPU is the readers' own (user and system, the kernel's seccomp and"
               " FUSE work on their side included).\n\n";
        render_sysinfo(out, records, cpus);
        out << "\n";
    }
    if (partial) return out.str() + render_issue16(records);

    out << "## Reads: procviewfs, lxcfs, the FUSE floor and native procfs\n\n"
        << "Each row is the run with the median reads/s (range: min–max over the runs); latencies are that run's,"
           " server CPU per 1,000 reads is over all runs (the server process and its children, i.e."
           " procviewfs's keeper). Ratios are reads/s of procviewfs divided by the other's"
           " in the same cell (higher is better); the CPU ratio is server CPU per read (lower is better)."
           " Background CPU % is what the rest of the machine used during the run (all CPUs): a noise"
           " indicator.\n\n";
    render_main_table(out, collect(records, "cell", "server"), cpus);

    out << "\n## Targets (issue 5)\n\n" << render_targets(records);
    out << render_issue16(records);

    CellTable loop = collect(records, "loop", "threads");
    if (!loop.order.empty()) {
        out << "\n## FUSE loop: the floor server single-threaded vs multi-threaded with clone_fd\n\n";
        render_loop_table(out, loop);
    }
    if (std::any_of(records.begin(), records.end(), [](const json& r) { return str(r, "kind") == "placement"; })) {
        out << "\n## Placement: reader and single-threaded server pinned to the same CPU or to different CPUs\n\n";
        render_placement(out, records);
    }
    CellTable knobs = collect(records, "knob", "variant");
    if (!knobs.order.empty()) {
        out << "\n## FUSE knobs, on the floor: what one more round trip per read costs\n\n";
        render_knobs(out, knobs);
    }
    out << "\n## Scale: every cgroup's reader reads proc/stat and proc/loadavg once a second\n\n";
    render_scale(out, records, cpus);
    out << "\n## Idle: servers mounted, nothing reading\n\n";
    render_idle(out, records);
    out << "\n## Ready to serve: exec to the first successful read of proc/meminfo\n\n"
        << "procviewfs-co serves no proc/: its row is the first read of a per-container meminfo"
           " (containers/pid-<the bench's pid>/proc/meminfo, rendered on that read).\n\n";
    render_ready(out, records);
    return out.str();
}

}  // namespace procview::bench
