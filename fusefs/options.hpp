// procviewfs's command line, merged over the JSON configuration.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/result.hpp"

namespace procview {

struct DaemonOptions {
    Config config;
    bool foreground = false;
    bool debug = false;
    bool takeover = false;       // replace a running instance without a gap
    std::string pidfile;
    std::optional<std::string> fixed_cgroup;  // tests: serve every reader as this cgroup
    bool show_help = false;
    bool show_version = false;
    bool unmount = false;        // --unmount: remove the mount and its keeper (unmount.hpp)
    // --containers-only: serve containers/ alone, without OPEN (cached_views.hpp)
    bool containers_only = false;
};

// Reads --config FILE (or the default file; core's load_config), then applies
// the flags over it. `read_file` is injected so the parser stays testable.
Result<DaemonOptions> parse_daemon_options(const std::vector<std::string>& args, const ReadConfigFile& read_file);

std::string daemon_usage();

}  // namespace procview
