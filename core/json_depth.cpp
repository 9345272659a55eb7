#include "core/json_depth.hpp"

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace procview {

namespace {

using Json = nlohmann::json;

// Counts open arrays and objects and keeps the parser's message; stops the
// parse (returns false) one level past the limit or at the first syntax error.
struct DepthCounter : nlohmann::json_sax<Json> {
    explicit DepthCounter(std::size_t max_depth) : max(max_depth) {}
    std::size_t max;
    std::size_t depth = 0;
    bool too_deep = false;
    std::string error;  // the parser's message for malformed text

    bool open() {
        too_deep = ++depth > max;
        return !too_deep;
    }
    bool close() {
        --depth;
        return true;
    }
    bool null() override { return true; }
    bool boolean(bool) override { return true; }
    bool number_integer(number_integer_t) override { return true; }
    bool number_unsigned(number_unsigned_t) override { return true; }
    bool number_float(number_float_t, const string_t&) override { return true; }
    bool string(string_t&) override { return true; }
    bool binary(binary_t&) override { return true; }
    bool start_object(std::size_t) override { return open(); }
    bool key(string_t&) override { return true; }
    bool end_object() override { return close(); }
    bool start_array(std::size_t) override { return open(); }
    bool end_array() override { return close(); }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& ex) override {
        error = ex.what();
        return false;
    }
};

DepthCounter scan(std::string_view text, bool allow_comments, std::size_t max_depth) {
    DepthCounter counter(max_depth);
    Json::sax_parse(text.begin(), text.end(), &counter, nlohmann::detail::input_format_t::json, /*strict=*/true,
                    allow_comments);
    return counter;
}

}  // namespace

Result<void> check_json_depth(std::string_view text, bool allow_comments, std::size_t max_depth) {
    if (scan(text, allow_comments, max_depth).too_deep)
        return invalid("JSON nested deeper than " + std::to_string(max_depth) + " levels");
    return {};
}

std::string json_syntax_error(std::string_view text, bool allow_comments) {
    return scan(text, allow_comments, SIZE_MAX).error;
}

}  // namespace procview
