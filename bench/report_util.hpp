// Helpers shared by the report renderers (report.cpp, targets.cpp).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace procview::bench::report_detail {

using nlohmann::json;

inline std::string printf_string(const char* format, double value) {
    char buf[64];
    std::snprintf(buf, sizeof buf, format, value);
    return buf;
}

inline std::string fmt_rate(double v) {
    auto n = static_cast<long long>(std::llround(v));
    std::string digits = std::to_string(n);
    std::string out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i != 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}

inline std::string fmt_us(double v) { return printf_string(v >= 1000 ? "%.0f" : "%.1f", v); }
inline std::string fmt_ms(double v) { return printf_string(v >= 100 ? "%.0f" : v >= 10 ? "%.1f" : "%.2f", v); }
inline std::string fmt_ratio(double v) { return printf_string("%.2f×", v); }

inline double num(const json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_number() ? it->get<double>() : 0.0;
}

inline std::string str(const json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

inline std::optional<double> ratio(double a, double b) {
    if (a <= 0 || b <= 0) return std::nullopt;
    return a / b;
}

inline std::string fmt_opt_ratio(std::optional<double> r) { return r ? fmt_ratio(*r) : "—"; }

struct CellKey {
    std::string file;
    std::string mode;
    int readers = 0;
    auto operator<=>(const CellKey&) const = default;
};

inline CellKey key_of(const json& record) {
    return {str(record, "file"), str(record, "mode"), static_cast<int>(num(record, "readers"))};
}

// Repeated runs of one cell and server as one result: the run with the
// median reads/s (lower median), with "repeats", "reads_per_s_min"/"_max",
// errors summed, and "cpu_ms_per_1k" (server) and "readers_cpu_ms_per_1k"
// from the CPU and reads of every run.
inline json merge_runs(const std::vector<json>& runs) {
    if (runs.size() == 1) return runs.front();
    std::vector<const json*> sorted;
    for (const auto& r : runs) sorted.push_back(&r);
    std::sort(sorted.begin(), sorted.end(),
              [](const json* a, const json* b) { return num(*a, "reads_per_s") < num(*b, "reads_per_s"); });
    json merged = *sorted[(sorted.size() - 1) / 2];
    merged["repeats"] = runs.size();
    merged["reads_per_s_min"] = num(*sorted.front(), "reads_per_s");
    merged["reads_per_s_max"] = num(*sorted.back(), "reads_per_s");
    double cpu = 0;
    double count = 0;
    double errors = 0;
    double readers_cpu = 0;
    double all_count = 0;
    bool every_run_has_cpu = true;
    for (const auto& r : runs) {
        errors += num(r, "errors");
        readers_cpu += num(r, "readers_cpu_ms");
        all_count += num(r, "count");
        if (num(r, "errors") > 0 && str(merged, "first_error").empty()) merged["first_error"] = str(r, "first_error");
        auto server = r.find("server");
        if (server == r.end() || !server->contains("cpu_ms")) {
            every_run_has_cpu = false;
            continue;
        }
        cpu += num(*server, "cpu_ms");
        count += num(r, "count");
    }
    merged["errors"] = errors;
    if (all_count > 0) merged["readers_cpu_ms_per_1k"] = readers_cpu / all_count * 1000;
    if (every_run_has_cpu && count > 0) merged["cpu_ms_per_1k"] = cpu / count * 1000;
    return merged;
}

// Records of one kind, in the order they were written, by (file, mode,
// readers) and server; repeats merged with merge_runs.
struct CellTable {
    std::vector<CellKey> order;
    std::map<CellKey, std::map<std::string, json>> results;  // key -> server -> merged result

    const json* find(const CellKey& key, const std::string& server) const {
        auto k = results.find(key);
        if (k == results.end()) return nullptr;
        auto s = k->second.find(server);
        return s == k->second.end() ? nullptr : &s->second;
    }
};

inline CellTable collect(const std::vector<json>& records, const std::string& kind, const std::string& server_field) {
    CellTable table;
    std::map<CellKey, std::map<std::string, std::vector<json>>> runs;
    for (const auto& r : records) {
        if (str(r, "kind") != kind) continue;
        CellKey key = key_of(r);
        if (!runs.count(key)) table.order.push_back(key);
        std::string server = server_field == "threads" ? std::to_string(static_cast<int>(num(r, "threads")))
                                                       : str(r, server_field.c_str());
        runs[key][server].push_back(r.value("result", json::object()));
    }
    for (const auto& [key, servers] : runs) {
        for (const auto& [server, list] : servers) table.results[key][server] = merge_runs(list);
    }
    return table;
}

// One target line: the verdict over every check it covers.
class Target {
public:
    explicit Target(std::string what) : what_(std::move(what)) {}
    void check(const std::string& where, std::optional<double> value, bool met, const std::string& shown) {
        if (!value) return;
        ++checked_;
        if (!met) ++missed_;
        details_.push_back(where.empty() ? shown : where + " " + shown);
    }
    void render(std::ostringstream& out) const {
        if (checked_ == 0) {
            out << "- not measured — " << what_ << "\n";
            return;
        }
        out << "- " << (missed_ == 0 ? "**met**" : "**MISSED**") << " — " << what_ << ": ";
        for (std::size_t i = 0; i < details_.size(); ++i) out << (i ? ", " : "") << details_[i];
        if (missed_ != 0 && checked_ > 1) out << " (" << missed_ << " of " << checked_ << " missed)";
        out << "\n";
    }

private:
    std::string what_;
    std::vector<std::string> details_;
    int checked_ = 0;
    int missed_ = 0;
};

}  // namespace procview::bench::report_detail
