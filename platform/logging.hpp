// spdlog set-up shared by the binaries.
#pragma once

#include <memory>
#include <string>

#include <spdlog/spdlog.h>

namespace procview {

// A logger named `name` writing to `file` ("" = stderr), at `level`
// (trace|debug|info|warn|error|off; unknown = info). `pattern_prefix` is put
// in front of every message (the hook puts the container id there).
std::shared_ptr<spdlog::logger> make_logger(const std::string& name, const std::string& file,
                                            const std::string& level, const std::string& pattern_prefix = "");

}  // namespace procview
