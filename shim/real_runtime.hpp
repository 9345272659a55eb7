// Which runtime procview-runtime hands the call to.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace procview::shim {

// Used when PATH is unset (the value runc's own spec puts in containers).
inline constexpr std::string_view kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// Pure. The paths to try, in order: `configured` as is when it holds a '/';
// a configured name in each PATH directory; with nothing configured, runc in
// each PATH directory, then crun in each. Empty PATH entries mean the
// current directory, as in execvp.
std::vector<std::string> runtime_candidates(std::string_view configured, std::string_view path_env);

// The I/O edge: the first candidate that is an executable regular file and
// not this very binary (procview-runtime installed as "runc" earlier in
// PATH must not exec itself). `self_exe` is usually "/proc/self/exe".
Result<std::string> find_real_runtime(std::string_view configured, std::string_view path_env,
                                      const std::string& self_exe);

}  // namespace procview::shim
