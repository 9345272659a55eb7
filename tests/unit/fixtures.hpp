// Test helpers: read fixture files, compare against golden files.
//
// Golden files live in tests/fixtures/golden/. To regenerate them after an
// intended output change, run the tests with PROCVIEW_UPDATE_GOLDEN=1, then
// read the diff and re-check every changed number by hand.
#pragma once

#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace procview::test {

inline std::string fixture_path(const std::string& relative) { return std::string(PROCVIEW_FIXTURES) + "/" + relative; }

// The whole fixture file; fails the test when it is missing.
inline std::string read_fixture(const std::string& relative) {
    std::ifstream in(fixture_path(relative), std::ios::binary);
    REQUIRE_MESSAGE(in.good(), "missing fixture " << fixture_path(relative));
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

inline void check_golden(const std::string& name, const std::string& actual) {
    const std::string path = fixture_path("golden/" + name);
    if (const char* update = std::getenv("PROCVIEW_UPDATE_GOLDEN"); update && std::string(update) == "1") {
        std::ofstream(path, std::ios::binary) << actual;
        MESSAGE("wrote " << path);
        return;
    }
    CHECK_MESSAGE(actual == read_fixture("golden/" + name), "output differs from " << path);
}

}  // namespace procview::test
