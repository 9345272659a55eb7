// Issue 16's part of the report: per-container files (procviewfs-pc on the
// main mount, procviewfs-co from a --containers-only instance) beside the
// floor, the noisy neighbour, and the issue's targets. Pure: records in, text out.
#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

#include "bench/report.hpp"
#include "bench/report_util.hpp"

namespace procview::bench {
namespace {

using namespace report_detail;

const std::string kNoOpen = "procviewfs-co";
const std::string kMainMount = "procviewfs-pc";

const std::vector<std::pair<std::string, std::string>> kNoisyVariants = {
    {"procviewfs-co", "procviewfs-co: per-container files, --containers-only (no OPEN)"},
    {"procviewfs-pc", "procviewfs-pc: per-container files on the main mount (OPEN)"},
    {"procviewfs", "procviewfs: shared files (proc/)"},
    {"lxcfs", "lxcfs"},
    {"floor", "floor (does no work)"}};

std::set<std::string> words(const std::string& text) {
    std::set<std::string> out;
    std::istringstream in(text);
    for (std::string w; in >> w;) out.insert(w);
    return out;
}

double median_of(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[(v.size() - 1) / 2];
}

std::string p50_p99(const json& r) { return fmt_us(num(r, "p50_us")) + " / " + fmt_us(num(r, "p99_us")); }

void render_per_container(std::ostringstream& out, const CellTable& cells) {
    out << "\n## Per-container files (issue 16): containers/<pid>-<start>/proc/FILE\n\n"
        << "The same cells and runs as the reads table. procviewfs-pc reads them on procviewfs's main mount (OPEN"
           " is a round trip; within the window reads come from the page cache); procviewfs-co from a"
           " `procviewfs --containers-only` instance, which answers OPEN with ENOSYS once, so within the window"
           " open–read–close never reaches the daemon. ÷ floor: reads/s over the floor's in the same cell.\n\n"
        << "| file | mode | readers | floor reads/s | floor p50 / p99 µs | procviewfs-pc reads/s | ÷ floor |"
           " p50 / p99 µs | procviewfs-co reads/s | ÷ floor | p50 / p99 µs | procviewfs-co CPU ms / 1k reads |\n"
        << "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
    for (const auto& key : cells.order) {
        const json* floor = cells.find(key, "floor");
        const json* pc = cells.find(key, kMainMount);
        const json* co = cells.find(key, kNoOpen);
        if (!pc && !co) continue;
        double floor_rate = floor ? num(*floor, "reads_per_s") : 0;
        auto columns = [&](const json* r) -> std::string {
            if (!r) return " — | — | — |";
            return " " + fmt_rate(num(*r, "reads_per_s")) + " | **" +
                   fmt_opt_ratio(ratio(num(*r, "reads_per_s"), floor_rate)) + "** | " + p50_p99(*r) + " |";
        };
        double co_cpu = co ? cpu_ms_per_1k_reads(*co) : -1;
        out << "| " << key.file << " | " << key.mode << " | " << key.readers << " | "
            << (floor ? fmt_rate(floor_rate) : "—") << " | " << (floor ? p50_p99(*floor) : "—") << " |" << columns(pc)
            << columns(co) << " " << (co_cpu < 0 ? "—" : fmt_ms(co_cpu)) << " |\n";
    }
}

// One server's noisy-neighbour runs of one phase, summarised: CPU over every
// run, latencies and A's rate as the median over the runs.
struct NoisyPhase {
    int runs = 0;
    double cpu_ms = 0;
    double window_s = 0;
    bool has_cpu = true;
    double errors = 0;  // B's and A's read errors
    std::vector<double> p50, p99, neighbour_rate;

    [[nodiscard]] std::optional<double> cpu_pct() const {
        if (!has_cpu || window_s <= 0) return std::nullopt;
        return cpu_ms / (window_s * 1000) * 100;
    }
};

using NoisyTable = std::map<std::string, std::map<std::string, NoisyPhase>>;  // server -> phase -> runs

NoisyTable collect_noisy(const std::vector<json>& records) {
    NoisyTable table;
    for (const auto& r : records) {
        if (str(r, "kind") != "noisy") continue;
        NoisyPhase& p = table[str(r, "server")][str(r, "phase")];
        const json result = r.value("result", json::object());
        ++p.runs;
        p.window_s += num(result, "window_s");
        auto server = result.find("server");
        if (server == result.end() || !server->contains("cpu_ms")) p.has_cpu = false;
        else p.cpu_ms += num(*server, "cpu_ms");
        p.errors += num(result, "errors");
        p.p50.push_back(num(result, "p50_us"));
        p.p99.push_back(num(result, "p99_us"));
        auto neighbour = r.find("neighbour");
        if (neighbour != r.end() && neighbour->is_object()) {
            p.neighbour_rate.push_back(num(*neighbour, "reads_per_s"));
            p.errors += num(*neighbour, "errors");
        }
    }
    return table;
}

std::string pct_cell(std::optional<double> v) { return v ? printf_string("%.1f", *v) : "—"; }

void render_noisy(std::ostringstream& out, const std::vector<json>& records, const NoisyTable& table) {
    double threads = 0, interval = 0;
    for (const auto& r : records) {
        if (str(r, "kind") != "noisy") continue;
        threads = num(r, "neighbour_threads");
        interval = num(r, "interval_ms");
    }
    out << "\n## Noisy neighbour (issue 16)\n\n"
        << "Container A: " << threads << " threads of one process, in one cgroup (cpu quota 1 CPU) and one pid"
           " namespace, read meminfo open–read–close back to back. Container B: 1 reader in its own cgroup and pid"
           " namespace, reading meminfo "
        << (interval > 0 ? "once every " + printf_string("%g", interval) + " ms" : std::string("back to back"))
        << ". B is measured alone (quiet), then while A reads (noisy), for each way of serving the file in the"
           " same run. Per-container variants read each container's own containers/<pid>-<start>. Server CPU is"
           " the server with its keeper over B's windows (all runs); latencies and A's reads/s are the median over"
           " the runs.\n\n"
        << "| served by | A reads/s | server CPU % quiet | noisy | added by A (% of a core) | B p50 µs quiet | noisy |"
           " noisy ÷ quiet | B p99 µs quiet | noisy | noisy ÷ quiet |\n"
        << "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
    for (const auto& [server, label] : kNoisyVariants) {
        auto it = table.find(server);
        if (it == table.end()) continue;
        const auto& phases = it->second;
        const NoisyPhase quiet = phases.count("quiet") ? phases.at("quiet") : NoisyPhase{};
        const NoisyPhase noisy = phases.count("noisy") ? phases.at("noisy") : NoisyPhase{};
        const auto q = quiet.cpu_pct(), n = noisy.cpu_pct();
        const std::string added = q && n ? printf_string("%+.1f", n.value() - q.value()) : "—";
        double q50 = median_of(quiet.p50), n50 = median_of(noisy.p50);
        double q99 = median_of(quiet.p99), n99 = median_of(noisy.p99);
        const double errors = quiet.errors + noisy.errors;
        out << "| " << label << (errors > 0 ? " ⚠ " + fmt_rate(errors) + " read errors" : "") << " | "
            << fmt_rate(median_of(noisy.neighbour_rate)) << " | " << pct_cell(quiet.cpu_pct())
            << " | " << pct_cell(noisy.cpu_pct()) << " | **" << added
            << "** | " << fmt_us(q50) << " | " << fmt_us(n50) << " | **" << fmt_opt_ratio(ratio(n50, q50)) << "** | "
            << fmt_us(q99) << " | " << fmt_us(n99) << " | **" << fmt_opt_ratio(ratio(n99, q99)) << "** |\n";
    }
}

void throughput_target(std::ostringstream& out, const CellTable& cells) {
    Target t("a container reading its own files back to back, no OPEN (procviewfs-co), 1 reader: ≥ 5× the floor's"
             " reads/s, open–read–close and kept-open (uptime, a clock rendered on every read, not counted)");
    for (const auto& key : cells.order) {
        const json* co = cells.find(key, kNoOpen);
        const json* floor = cells.find(key, "floor");
        if (key.readers != 1 || !co || !floor || key.file == "uptime") continue;
        double floor_rate = num(*floor, "reads_per_s");
        auto x = ratio(num(*co, "reads_per_s"), floor_rate);
        std::string shown = x ? fmt_ratio(*x) + " (p50 / p99 " + p50_p99(*co) + " µs" : "";
        if (const json* pc = cells.find(key, kMainMount); pc && x) {
            shown += "; on the main mount " + fmt_opt_ratio(ratio(num(*pc, "reads_per_s"), floor_rate));
        }
        t.check(key.file + "/" + key.mode, x, x && *x >= 5.0, x ? shown + ")" : "");
    }
    t.render(out);
}

std::optional<double> added_cpu(const NoisyTable& table, const std::string& server) {
    auto it = table.find(server);
    if (it == table.end() || !it->second.count("quiet") || !it->second.count("noisy")) return std::nullopt;
    auto q = it->second.at("quiet").cpu_pct();
    auto n = it->second.at("noisy").cpu_pct();
    if (!q || !n) return std::nullopt;
    return *n - *q;
}

void noisy_targets(std::ostringstream& out, const NoisyTable& table) {
    Target cpu("noisy neighbour, no OPEN (procviewfs-co): A reading with 4 threads adds ≤ 5% of a core to the"
               " server");
    Target latency("noisy neighbour, no OPEN (procviewfs-co): B's p50 and p99 ≤ 1.2× their quiet values");
    auto it = table.find(kNoOpen);
    if (it != table.end() && it->second.count("quiet") && it->second.count("noisy")) {
        std::string contrast;
        for (const char* other : {"procviewfs", "lxcfs"}) {
            if (auto x = added_cpu(table, other)) {
                contrast += std::string(contrast.empty() ? " (" : ", ") +
                            (std::string(other) == "procviewfs" ? "shared files" : other) + printf_string(" %+.1f%%", *x);
            }
        }
        if (!contrast.empty()) contrast += ")";
        auto added = added_cpu(table, kNoOpen);
        cpu.check("", added, added && *added <= 5.0, added ? printf_string("%+.1f%% of a core", *added) + contrast : "");
        const NoisyPhase& q = it->second.at("quiet");
        const NoisyPhase& n = it->second.at("noisy");
        auto p50 = ratio(median_of(n.p50), median_of(q.p50));
        auto p99 = ratio(median_of(n.p99), median_of(q.p99));
        latency.check("p50", p50, p50 && *p50 <= 1.2,
                      p50 ? fmt_ratio(*p50) + " (" + fmt_us(median_of(q.p50)) + " → " + fmt_us(median_of(n.p50)) + " µs)" : "");
        latency.check("p99", p99, p99 && *p99 <= 1.2,
                      p99 ? fmt_ratio(*p99) + " (" + fmt_us(median_of(q.p99)) + " → " + fmt_us(median_of(n.p99)) + " µs)" : "");
    }
    cpu.render(out);
    latency.render(out);
}

// Server CPU % of one core of a scale record.
std::optional<double> scale_cpu_pct(const json& rec) {
    const json r = rec.value("result", json::object());
    const json s = r.value("server", json::object());
    double window = num(r, "window_s");
    if (window <= 0 || !s.contains("cpu_ms")) return std::nullopt;
    return num(s, "cpu_ms") / (window * 1000) * 100;
}

void scale_target(std::ostringstream& out, const std::vector<json>& records) {
    Target t("containers reading stat and loadavg once a second through per-container files, no OPEN"
             " (procviewfs-co): server CPU ≤ the floor's (slowest steady-state read shown)");
    const json* floor = nullptr;
    for (const auto& rec : records) {
        if (str(rec, "kind") == "scale" && str(rec, "server") == "floor") floor = &rec;
    }
    for (const auto& rec : records) {
        if (str(rec, "kind") != "scale" || str(rec, "server") != kNoOpen || !floor) continue;
        auto co = scale_cpu_pct(rec);
        auto fl = scale_cpu_pct(*floor);
        if (!co || !fl) continue;
        auto slowest = [](const json& r) {
            const json result = r.value("result", json::object());
            const json steady = result.value("steady", result);
            return fmt_ms(num(steady, "max_us") / 1000) + " ms";
        };
        // Compared as shown (0.01%): CPU time comes in 10 ms ticks, so equal
        // tick counts over slightly different windows must not read as a miss.
        const bool met = std::llround(*co * 100) <= std::llround(*fl * 100);
        t.check(printf_string("%.0f", num(rec, "cgroups")) + " containers:", co, met,
                printf_string("%.2f%%", *co) + printf_string(" vs the floor's %.2f%%", *fl) + "; steady slowest read " +
                    slowest(rec) + " (the floor: " + slowest(*floor) + ")");
    }
    t.render(out);
}

std::string render_issue16_targets(const std::vector<json>& records, const CellTable& cells, const NoisyTable& noisy) {
    std::ostringstream out;
    throughput_target(out, cells);
    noisy_targets(out, noisy);
    scale_target(out, records);
    return out.str();
}

}  // namespace

std::string render_issue16(const std::vector<json>& records) {
    std::ostringstream out;
    CellTable cells = collect(records, "cell", "server");
    bool per_container = std::any_of(cells.order.begin(), cells.order.end(), [&](const CellKey& k) {
        return cells.find(k, kNoOpen) || cells.find(k, kMainMount);
    });
    if (per_container) render_per_container(out, cells);
    NoisyTable noisy = collect_noisy(records);
    if (!noisy.empty()) render_noisy(out, records, noisy);
    if (per_container || !noisy.empty() ||
        std::any_of(records.begin(), records.end(), [](const json& r) { return str(r, "server") == kNoOpen; })) {
        out << "\n## Targets (issue 16)\n\n" << render_issue16_targets(records, cells, noisy);
    }
    return out.str();
}

}  // namespace procview::bench

namespace procview::bench {

std::vector<std::string> check_issue16_records(const std::vector<json>& records) {
    json meta = json::object();
    for (const auto& r : records) {
        if (str(r, "kind") == "meta") meta = r;
    }
    std::vector<std::string> problems;
    if (!meta.contains("parts")) return problems;
    const auto parts = words(str(meta, "parts"));
    const auto servers = words(str(meta, "servers"));
    const bool procviewfs = servers.count("procviewfs") != 0;
    auto has = [&](const std::string& kind, const std::string& server, const std::string& phase = "") {
        return std::any_of(records.begin(), records.end(), [&](const json& r) {
            return str(r, "kind") == kind && str(r, "server") == server && (phase.empty() || str(r, "phase") == phase);
        });
    };
    if (procviewfs && parts.count("cells")) {
        for (const auto& s : {kMainMount, kNoOpen}) {
            if (!has("cell", s)) problems.push_back("cells: no " + s + " rows");
        }
    }
    if (procviewfs && parts.count("scale") && num(meta, "scale_cgroups") > 0 && !has("scale", kNoOpen)) {
        problems.push_back("scale: no " + kNoOpen + " row");
    }
    if (procviewfs && parts.count("ready") && !has("ready", kNoOpen)) problems.push_back("ready: no " + kNoOpen + " starts");
    if (parts.count("noisy")) {
        for (const auto& [server, _] : kNoisyVariants) {
            const bool wanted = server.starts_with("procviewfs") ? procviewfs : servers.count(server) != 0;
            if (!wanted) continue;
            for (const char* phase : {"quiet", "noisy"}) {
                if (!has("noisy", server, phase)) problems.push_back("noisy: no " + server + " " + phase + " run");
            }
        }
        for (const auto& r : records) {
            if (str(r, "kind") != "noisy" || str(r, "phase") != "noisy") continue;
            const json a = r.value("neighbour", json::object());
            const std::string what = "noisy " + str(r, "server") + ": container A";
            if (!a.is_object() || num(a, "count") <= 0) problems.push_back(what + " made no reads");
            else if (num(a, "errors") > 0) problems.push_back(what + ": " + fmt_rate(num(a, "errors")) + " read errors (" + str(a, "first_error") + ")");
        }
    }
    return problems;
}

}  // namespace procview::bench
