// A unified diff of two texts (what `procview-ctl --dry-run` prints).
#pragma once

#include <string>
#include <string_view>

namespace procview::ctl {

// Like `diff -u` with 3 lines of context: "--- old_name", "+++ new_name",
// then @@ hunks. Empty when the texts are equal. An absent file is passed as
// "" with the name "/dev/null".
std::string unified_diff(std::string_view before, std::string_view after, const std::string& old_name,
                         const std::string& new_name);

}  // namespace procview::ctl
