// Shared helpers of the fuzz targets.
//
// Inputs that feed several texts (a parser taking two files, a renderer
// taking a host file and a cgroup's files) hold them separated by NUL bytes:
// the kernel files procview reads never contain NUL, and a seed is then just
// the fixture files joined with '\0' (see make_seeds.sh).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string_view>
#include <vector>

namespace procview::fuzz {

// The input as text.
inline std::string_view as_text(const uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

// Up to `max_parts` texts separated by '\0'; the last part keeps any further
// NULs. Missing parts are nullopt (an unreadable file, to the code under test).
inline std::vector<std::optional<std::string_view>> split_parts(std::string_view text, std::size_t max_parts) {
    std::vector<std::optional<std::string_view>> parts;
    while (parts.size() + 1 < max_parts) {
        auto nul = text.find('\0');
        if (nul == std::string_view::npos) break;
        parts.emplace_back(text.substr(0, nul));
        text.remove_prefix(nul + 1);
    }
    parts.emplace_back(text);
    parts.resize(max_parts);
    return parts;
}

// The first byte as option bits (0 for an empty input); `text` loses it.
inline uint8_t take_flags(std::string_view& text) {
    if (text.empty()) return 0;
    auto flags = static_cast<uint8_t>(text.front());
    text.remove_prefix(1);
    return flags;
}

// An invariant of the code under test: a violation is a finding, reported
// like a crash so libFuzzer keeps the input and the replay test fails.
[[noreturn]] inline void violated(const char* what, const char* file, int line) {
    std::fprintf(stderr, "fuzz invariant violated at %s:%d: %s\n", file, line, what);
    std::abort();
}

}  // namespace procview::fuzz

#define FUZZ_CHECK(cond) \
    ((cond) ? (void)0 : ::procview::fuzz::violated(#cond, __FILE__, __LINE__))
