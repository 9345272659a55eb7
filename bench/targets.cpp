// The targets of issue 5, checked against one run's records. The benchmark
// reports them; nothing asserts them (timings are never asserted in tests).
#include <algorithm>
#include <sstream>

#include "bench/report.hpp"
#include "bench/report_util.hpp"

namespace procview::bench {
namespace {

using namespace report_detail;

const std::string kSubject = "procviewfs";

std::optional<double> rate(const CellTable& cells, const CellKey& key, const std::string& server) {
    const json* r = cells.find(key, server);
    if (!r) return std::nullopt;
    return num(*r, "reads_per_s");
}

std::optional<double> rate_ratio(const CellTable& cells, const CellKey& key, const std::string& other) {
    auto a = rate(cells, key, kSubject);
    auto b = rate(cells, key, other);
    if (!a || !b) return std::nullopt;
    return ratio(*a, *b);
}

// Server a ÷ server b in one cell.
std::optional<double> between(const CellTable& cells, const CellKey& key, const std::string& a, const std::string& b) {
    auto x = rate(cells, key, a);
    auto y = rate(cells, key, b);
    if (!x || !y) return std::nullopt;
    return ratio(*x, *y);
}

// The same ratio for the floor, which does no work: the most any FUSE server
// could show on this machine, so a miss the floor shares is told apart.
std::string floor_beside(std::optional<double> floor_value) {
    return floor_value ? " (the floor: " + fmt_ratio(*floor_value) + ")" : "";
}

std::string where_of(const CellKey& key, bool with_readers) {
    std::string w = key.file;
    w.append("/").append(key.mode);
    if (with_readers) w.append("/").append(std::to_string(key.readers));
    return w;
}

void throughput_targets(std::ostringstream& out, const CellTable& cells) {
    Target vs_lxcfs("open–read–close, 1 reader, meminfo and stat: ≥ 4× lxcfs reads/s");
    Target vs_floor("open–read–close, 1 reader, meminfo and stat: ≥ 85% of the FUSE floor");
    Target tail("open–read–close, 1 reader, meminfo and stat: p99 ≤ 3× p50");
    Target seek("kept-open lseek(0) + read, 1 reader: ≥ 4× lxcfs");
    for (const std::string file : {"meminfo", "stat"}) {
        CellKey key{file, "orc", 1};
        auto lx = rate_ratio(cells, key, "lxcfs");
        vs_lxcfs.check(file, lx, lx && *lx >= 4.0,
                       lx ? fmt_ratio(*lx) + floor_beside(between(cells, key, "floor", "lxcfs")) : "");
        auto fl = rate_ratio(cells, key, "floor");
        vs_floor.check(file, fl, fl && *fl >= 0.85, fl ? printf_string("%.0f%%", *fl * 100) : "");
        if (const json* r = cells.find(key, kSubject)) {
            auto t = ratio(num(*r, "p99_us"), num(*r, "p50_us"));
            tail.check(file, t, t && *t <= 3.0,
                       t ? "p99/p50 = " + printf_string("%.1f", *t) + " (" + fmt_us(num(*r, "p99_us")) + " / " +
                               fmt_us(num(*r, "p50_us")) + " µs)"
                         : "");
        }
    }
    for (const auto& key : cells.order) {
        if (key.mode != "seek" || key.readers != 1) continue;
        auto lx = rate_ratio(cells, key, "lxcfs");
        seek.check(key.file, lx, lx && *lx >= 4.0,
                   lx ? fmt_ratio(*lx) + floor_beside(between(cells, key, "floor", "lxcfs")) : "");
    }
    Target two("2 readers: ≥ 1.5× the 1-reader throughput");
    Target eight("8 readers: no collapse, ≥ the 2-reader throughput");
    for (const auto& key : cells.order) {
        if (key.readers != 1) continue;
        // readers ÷ fewer readers, for one server
        auto scaling = [&](const std::string& server, int more, int fewer) -> std::optional<double> {
            auto a = rate(cells, {key.file, key.mode, more}, server);
            auto b = rate(cells, {key.file, key.mode, fewer}, server);
            if (!a || !b) return std::nullopt;
            return ratio(*a, *b);
        };
        if (auto x = scaling(kSubject, 2, 1))
            two.check(where_of(key, false), x, *x >= 1.5, fmt_ratio(*x) + floor_beside(scaling("floor", 2, 1)));
        if (auto x = scaling(kSubject, 8, 2))
            eight.check(where_of(key, false), x, *x >= 1.0, fmt_ratio(*x) + floor_beside(scaling("floor", 8, 2)));
    }
    Target cpu("server CPU per 1,000 reads ≤ ¼ of lxcfs's");
    for (const auto& key : cells.order) {
        const json* pv = cells.find(key, kSubject);
        const json* lx = cells.find(key, "lxcfs");
        if (!pv || !lx) continue;
        auto x = ratio(cpu_ms_per_1k_reads(*pv), cpu_ms_per_1k_reads(*lx));
        cpu.check(where_of(key, true), x, x && *x <= 0.25, x ? fmt_ratio(*x) : "");
    }
    for (const Target* t : {&vs_lxcfs, &vs_floor, &tail, &seek, &two, &eight, &cpu}) t->render(out);
}

void scale_targets(std::ostringstream& out, const std::vector<json>& records) {
    Target cpu("scale run: server CPU ≤ 5% of one core");
    Target rss("scale run: RSS ≤ 30 MB");
    Target slowest("scale run: slowest read ≤ 10 ms (and no read errors)");
    // The floor in the same scale run, for context: what FUSE alone costs there.
    std::string floor_cpu, floor_slowest;
    for (const auto& rec : records) {
        if (str(rec, "kind") != "scale" || str(rec, "server") != "floor") continue;
        const json r = rec.value("result", json::object());
        double window = num(r, "window_s");
        if (window > 0)
            floor_cpu = printf_string("; the floor: %.2f%%", num(r.value("server", json::object()), "cpu_ms") / (window * 1000) * 100);
        floor_slowest = "; the floor: " + fmt_ms(num(r, "max_us") / 1000) + " ms";
        if (r.contains("steady")) floor_slowest += " (" + fmt_ms(num(r["steady"], "max_us") / 1000) + " ms)";
    }
    for (const auto& rec : records) {
        if (str(rec, "kind") != "scale" || str(rec, "server") != kSubject) continue;
        const json r = rec.value("result", json::object());
        const json s = r.value("server", json::object());
        std::string n = printf_string("%.0f", num(rec, "cgroups")) + " cgroups:";
        double window = num(r, "window_s");
        if (window > 0 && s.contains("cpu_ms")) {
            double pct = num(s, "cpu_ms") / (window * 1000) * 100;
            cpu.check(n, pct, pct <= 5.0, printf_string("%.2f%%", pct) + floor_cpu);
        }
        if (s.contains("rss_kb_peak")) {
            double mb = num(s, "rss_kb_peak") / 1024;
            rss.check(n, mb, mb <= 30.0, printf_string("%.1f MB peak", mb));
        }
        double ms = num(r, "max_us") / 1000;
        double errors = num(r, "errors");
        std::string shown = fmt_ms(ms) + " ms";
        if (r.contains("steady")) shown += " (steady state " + fmt_ms(num(r["steady"], "max_us") / 1000) + " ms)";
        slowest.check(n, ms, ms <= 10.0 && errors == 0,
                      shown + (errors > 0 ? ", " + fmt_rate(errors) + " errors" : "") + floor_slowest);
    }
    cpu.render(out);
    rss.render(out);
    slowest.render(out);
}

void idle_targets(std::ostringstream& out, const std::vector<json>& records) {
    Target cpu("idle: ~0% CPU (≤ 0.1% of one core)");
    Target periodic("idle: no periodic work proportional to the number of cgroups (wakeups/s after the scale run"
                    " ≤ fresh + 1)");
    std::optional<double> fresh;
    std::optional<double> after;
    for (const auto& r : records) {
        if (str(r, "kind") != "idle" || str(r, "server") != kSubject) continue;
        double seconds = num(r, "seconds");
        if (seconds <= 0) continue;
        double pct = num(r, "cpu_ms") / (seconds * 1000) * 100;
        cpu.check(str(r, "phase") + ":", pct, pct <= 0.1, printf_string("%.3f%%", pct));
        double wakeups = num(r, "wakeups") / seconds;
        (str(r, "phase") == "fresh" ? fresh : after) = wakeups;
    }
    if (fresh && after) {
        periodic.check("", *after, *after <= *fresh + 1.0,
                       printf_string("fresh %.2f/s", *fresh) + ", after scale " + printf_string("%.2f/s", *after));
    }
    cpu.render(out);
    periodic.render(out);
}

void ready_target(std::ostringstream& out, const std::vector<json>& records) {
    Target ready("ready to serve ≤ 100 ms after start (median)");
    for (const auto& r : records) {
        if (str(r, "kind") != "ready" || str(r, "server") != kSubject) continue;
        std::vector<double> runs;
        for (const auto& v : r.value("runs_ms", json::array())) {
            if (v.is_number()) runs.push_back(v.get<double>());
        }
        if (runs.empty()) continue;
        std::sort(runs.begin(), runs.end());
        double m = runs[(runs.size() - 1) / 2];
        ready.check("", m, m <= 100.0, fmt_ms(m) + " ms");
    }
    ready.render(out);
}

}  // namespace

std::string render_targets(const std::vector<json>& records) {
    std::ostringstream out;
    bool measured = std::any_of(records.begin(), records.end(), [](const json& r) {
        return str(r, "server") == kSubject;
    });
    if (!measured) return "procviewfs was not measured in this run.\n";
    throughput_targets(out, collect(records, "cell", "server"));
    scale_targets(out, records);
    idle_targets(out, records);
    ready_target(out, records);
    return out.str();
}

}  // namespace procview::bench
