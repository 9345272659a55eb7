// Small, allocation-free helpers for parsing kernel text files.
// None of them throw; numbers are parsed with std::from_chars and reject
// garbage (signs, trailing junk, overflow).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace procview {

std::string_view trim(std::string_view s);

// Whole-string unsigned/signed decimal, surrounding whitespace allowed.
std::optional<uint64_t> parse_u64(std::string_view s);
std::optional<int64_t> parse_i64(std::string_view s);
// The unsigned decimal at the start of `text` (no sign, no space), removed
// from it; nullopt (text unchanged) when there is none or it overflows.
std::optional<uint64_t> consume_u64(std::string_view& text);

// Splits on '\n'; the last line need not end in '\n'; empty trailing line dropped.
std::vector<std::string_view> split_lines(std::string_view text);
// Splits on runs of spaces and tabs.
std::vector<std::string_view> split_fields(std::string_view line);

// Calls f(line) for each line without allocating.
template <class F>
void for_each_line(std::string_view text, F&& f) {
    while (!text.empty()) {
        auto nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        f(line);
        if (nl == std::string_view::npos) break;
        text.remove_prefix(nl + 1);
    }
}

// Appends the decimal form of v (faster than std::to_string + concat in hot renderers).
void append_u64(std::string& out, uint64_t v);

// Input echoed into an error message: back-quoted, cut at 60 bytes (with …)
// so that a garbage file cannot flood a log.
std::string excerpt(std::string_view s);
// "FILE line N", naming where a parse failed.
std::string line_ref(std::string_view file, std::size_t line_no);

}  // namespace procview
