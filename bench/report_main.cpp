// procview-bench-report: turns the benchmark's JSON-lines results into the
// markdown report (see bench/report.hpp for the record shapes).
//
//   $ procview-bench-report /tmp/pvbench-1/results.jsonl > bench/results/latest.md
//   $ procview-bench-report --check /tmp/pvbench-1/results.jsonl   # smoke: exit 1 on a broken run
//
// Lines that are not JSON objects are an error (exit 1) naming the line.

#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/report.hpp"

int main(int argc, char** argv) {
    const bool check = argc == 3 && std::string(argv[1]) == "--check";
    if (argc != 2 && !check) {
        std::cerr << "usage: procview-bench-report [--check] RESULTS.jsonl\n";
        return 1;
    }
    const char* path = argv[argc - 1];
    std::ifstream in(path);
    if (!in) {
        std::cerr << "procview-bench-report: cannot open `" << path << "`\n";
        return 1;
    }
    std::vector<nlohmann::json> records;
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
        if (line.empty()) continue;
        auto record = nlohmann::json::parse(line, nullptr, false);
        if (record.is_discarded() || !record.is_object()) {
            std::cerr << "procview-bench-report: " << path << ":" << number << ": not a JSON object\n";
            return 1;
        }
        records.push_back(std::move(record));
    }
    if (check) {
        auto problems = procview::bench::check_records(records);
        for (const auto& p : problems) std::cerr << "procview-bench-report: " << p << "\n";
        if (!problems.empty()) return 1;
        std::cerr << "procview-bench-report: " << records.size() << " records, every measurement has reads\n";
        return 0;
    }
    std::cout << procview::bench::render_report(records);
    return 0;
}
