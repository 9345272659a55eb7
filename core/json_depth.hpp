// A bound on how deeply JSON from outside may nest, checked before any tree
// is built.
//
// nlohmann::json parses iteratively, but dump(), comparison and copies
// recurse once per level: a config.json, OCI state or procview.json holding
// 100,000 nested arrays overflows the stack (SIGSEGV) in whichever of those
// the caller reaches. No spec, state or config procview reads nests more than
// a handful of levels, so anything past kMaxJsonDepth is refused up front.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace procview {

inline constexpr std::size_t kMaxJsonDepth = 256;

// An error (EINVAL, "JSON nested deeper than 256 levels") when `text` opens
// more than `max_depth` arrays and objects inside one another; ok otherwise,
// malformed text included: the caller's own parser reports that as before.
// `allow_comments` as in nlohmann's ignore_comments. Pure and iterative
// (nlohmann's SAX parser keeps its own stack), linear in the text.
Result<void> check_json_depth(std::string_view text, bool allow_comments = false,
                              std::size_t max_depth = kMaxJsonDepth);

// The parser's message for malformed `text`, "" when it parses: for callers
// that parse without exceptions and still want to say what is wrong.
std::string json_syntax_error(std::string_view text, bool allow_comments = false);

}  // namespace procview
