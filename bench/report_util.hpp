// Helpers shared by the report renderers (report.cpp, targets.cpp).
#pragma once

#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
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

// Records of one kind, in the order they were written, by (file, mode, readers).
struct CellTable {
    std::vector<CellKey> order;
    std::map<CellKey, std::map<std::string, json>> results;  // key -> server -> reader result

    const json* find(const CellKey& key, const std::string& server) const {
        auto k = results.find(key);
        if (k == results.end()) return nullptr;
        auto s = k->second.find(server);
        return s == k->second.end() ? nullptr : &s->second;
    }
};

inline CellTable collect(const std::vector<json>& records, const std::string& kind, const std::string& server_field) {
    CellTable table;
    for (const auto& r : records) {
        if (str(r, "kind") != kind) continue;
        CellKey key = key_of(r);
        if (!table.results.count(key)) table.order.push_back(key);
        std::string server = server_field == "threads" ? std::to_string(static_cast<int>(num(r, "threads")))
                                                       : str(r, server_field.c_str());
        table.results[key][server] = r.value("result", json::object());
    }
    return table;
}

}  // namespace procview::bench::report_detail
