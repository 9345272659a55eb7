// JSON nesting is bounded before any tree is built (core/json_depth.hpp), in
// every parser of outside JSON: procview.json, and the OCI state and
// config.json procview-hook reads. 100,000 levels used to reach nlohmann's
// recursive code (dump, compare, copy) and overflow the stack.
#include <doctest/doctest.h>

#include <string>

#include "core/config.hpp"
#include "core/json_depth.hpp"
#include "hook/oci_state.hpp"

using namespace procview;

namespace {

std::string arrays(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

constexpr std::size_t kDeep = 100'000;

bool says_too_deep(const Error& e) { return e.message.find("nested deeper than 256 levels") != std::string::npos; }

}  // namespace

TEST_CASE("check_json_depth counts arrays and objects, not brackets in strings or comments") {
    CHECK(check_json_depth(arrays(256)));
    CHECK_FALSE(check_json_depth(arrays(257)));
    CHECK(check_json_depth(R"({"a": {"b": [1, {"c": []}]}})", false, 5));
    CHECK_FALSE(check_json_depth(R"({"a": {"b": [1, {"c": []}]}})", false, 4));
    std::string brackets(1000, '[');
    CHECK(check_json_depth(R"({"s": ")" + brackets + R"(\"["})"));
    CHECK(check_json_depth("{/* " + brackets + " */ \"a\": 1}", true));
    auto deep = check_json_depth(arrays(kDeep));
    REQUIRE_FALSE(deep);
    CHECK(deep.error().errnum == EINVAL);
    CHECK(deep.error().message == "JSON nested deeper than 256 levels");
    // Malformed but shallow: the caller's parser reports it.
    CHECK(check_json_depth("{\"a\": [1, 2"));
    CHECK(check_json_depth(""));
}

TEST_CASE("procview.json nested 100,000 deep: a clear error") {
    auto config = parse_config(R"({"hook": )" + arrays(kDeep) + "}");
    REQUIRE_FALSE(config);
    CHECK_MESSAGE(says_too_deep(config.error()), config.error().describe());
    CHECK(config.error().message.starts_with("config: "));
    auto comment = parse_config("// " + std::string(1000, '[') + "\n{\"threads\": 2}");
    REQUIRE_MESSAGE(comment, comment.error().describe());
    CHECK(comment->threads == 2);
}

TEST_CASE("procview-hook: an OCI state or config.json nested 100,000 deep: a clear error") {
    std::string state = R"({"ociVersion": "1.0.2", "id": "c", "pid": 42, "bundle": "/b", "annotations": )" +
                        arrays(kDeep) + "}";
    auto parsed = hook::parse_oci_state(state);
    REQUIRE_FALSE(parsed);
    CHECK_MESSAGE(says_too_deep(parsed.error()), parsed.error().describe());
    auto bundle = hook::parse_bundle_config(R"({"root": {"path": "rootfs"}, "x": )" + arrays(kDeep) + "}", "/b");
    REQUIRE_FALSE(bundle);
    CHECK_MESSAGE(says_too_deep(bundle.error()), bundle.error().describe());
}
