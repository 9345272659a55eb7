#include "ctl/diff.hpp"

#include <doctest/doctest.h>

using namespace procview::ctl;

TEST_CASE("unified_diff: equal texts give nothing") { CHECK(unified_diff("a\nb\n", "a\nb\n", "x", "x").empty()); }

TEST_CASE("unified_diff: a new file, and a removed one") {
    CHECK(unified_diff("", "a\nb\n", "/dev/null", "f") == "--- /dev/null\n+++ f\n@@ -0,0 +1,2 @@\n+a\n+b\n");
    CHECK(unified_diff("a\n", "", "f", "/dev/null") == "--- f\n+++ /dev/null\n@@ -1,1 +0,0 @@\n-a\n");
}

TEST_CASE("unified_diff: three lines of context, far changes in separate hunks (as diff -u prints)") {
    std::string before, after;
    for (int i = 1; i <= 20; ++i) {
        before += std::to_string(i) + "\n";
        after += (i == 2 ? "two\n" : i == 18 ? "" : std::to_string(i) + "\n");
    }
    CHECK(unified_diff(before, after, "a", "b") ==
          "--- a\n+++ b\n"
          "@@ -1,5 +1,5 @@\n 1\n-2\n+two\n 3\n 4\n 5\n"
          "@@ -15,6 +15,5 @@\n 15\n 16\n 17\n-18\n 19\n 20\n");
}
