// The command line procview-runtime receives, understood well enough to find
// what it needs (the subcommand, the bundle, where the runtime logs) and to
// hand everything else to the real runtime untouched.
//
// Pure: a vector of strings in, a struct out.
//
// Accepted shapes (runc uses urfave/cli v1 over Go's flag package, crun uses argp):
//   flags with one or two dashes           --root X, -root X
//   values joined with '='                 --root=X, --log-format=json
//   crun's joined short values             -b/path, -fconfig.json
//   bool flags with an explicit value      --systemd-cgroup=true
//   "--" ends the flags
//   subcommand flags after the container id (urfave/cli and argp both move them to the front)
// Our own options come first and are stripped: --procview-config FILE, --procview-config=FILE,
// --procview-enable (in any order).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace procview::shim {

struct RuncCommandLine {
    // --procview-config, when given before the runtime's arguments.
    std::optional<std::string> procview_config;
    // --procview-enable: every container this runtime creates is opted in
    // (runtime.enable_all), the way a dedicated Docker runtime name is the
    // opt-in where the engine has no annotations (Docker before 24).
    bool procview_enable = false;
    // argv[1..] minus our own options: exactly what the real runtime gets.
    std::vector<std::string> runtime_args;

    // Global flags the shim uses itself.
    std::optional<std::string> root;        // --root (where the runtime keeps container state)
    std::optional<std::string> log_path;    // --log
    std::optional<std::string> log_format;  // --log-format ("text" when absent)
    bool debug = false;                     // --debug

    // The subcommand ("create", "run", "exec", "features"…); empty for
    // `--version`, `--help` or no arguments. Unknown subcommands are kept as written.
    std::string subcommand;
    // Index of the subcommand in runtime_args (when there is one).
    std::optional<std::size_t> subcommand_index;

    // For create, run and restore: --bundle/-b and crun's --config/-f, as written.
    std::optional<std::string> bundle;
    std::optional<std::string> spec_file;
    // The first positional argument after the subcommand (the container id for
    // most subcommands).
    std::optional<std::string> container_id;
};

// `args` is argv without argv[0]. Fails only on our own options (a
// --procview-config without a value); everything else belongs to the real
// runtime, which will judge it.
Result<RuncCommandLine> parse_runc_command_line(const std::vector<std::string>& args);

// create, run and restore: the subcommands that read the bundle's config.json.
bool subcommand_reads_bundle(std::string_view subcommand);

// Where the spec is: `spec_file` (crun's -f) when given, absolute or relative
// to the bundle; else <bundle>/config.json. The bundle defaults to `cwd`, and a
// relative bundle is taken relative to `cwd` (runc and crun chdir into it).
std::string spec_path(const RuncCommandLine& cmd, std::string_view cwd);
// The bundle directory, absolute: --bundle resolved against cwd, or cwd.
std::string bundle_dir(const RuncCommandLine& cmd, std::string_view cwd);

}  // namespace procview::shim
